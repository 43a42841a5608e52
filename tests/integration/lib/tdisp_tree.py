#!/usr/bin/env python3
"""Write a copy-of-sysfs tree with one locked TDI's files, as `pcitsm --sysfs DIR` reads a copy of
/sys: bus/pci/devices/BDF/{config,resource,tsm/*}, class/tsm/tsm0/pci_mode, and the evidence the
mirror's project directory keeps (pcitsm/devices/BDF/{status,evidence/report,report_digest,
measurements}). The report follows the Linux report rules for BAR 0 (64 KiB, MSI-X table at 0x2000,
PBA at 0x3000); usage: tdisp_tree.py ROOT [STATE]."""
import hashlib
import os
import struct
import sys

root = sys.argv[1]
state = sys.argv[2] if len(sys.argv) > 2 else "CONFIG_LOCKED"
bdf = "0000:01:00.0"
dev = f"{root}/bus/pci/devices/{bdf}"
ev = f"{root}/pcitsm/devices/{bdf}/evidence"
os.makedirs(dev + "/tsm", exist_ok=True)
os.makedirs(ev, exist_ok=True)
os.makedirs(f"{root}/class/tsm/tsm0", exist_ok=True)
open(f"{root}/class/tsm/tsm0/pci_mode", "w").write("devsec\n")
# Config space: Capabilities List, MSI-X (4 entries) with its table at BAR 0 + 0x2000, PBA + 0x3000.
cfg = bytearray(256)
cfg[0:4] = b"\x22\x10\x01\x00"
cfg[6] = 0x10
cfg[0x34] = 0x40
cfg[0x40] = 0x11
cfg[0x42:0x44] = struct.pack("<H", 3)
cfg[0x44:0x48] = struct.pack("<I", 0x2000)
cfg[0x48:0x4C] = struct.pack("<I", 0x3000)
open(dev + "/config", "wb").write(cfg)
# resource: BAR 0 a 64-bit prefetchable memory BAR (IORESOURCE_MEM | MEM_64 | PREFETCH).
lines = ["0x%016x 0x%016x 0x%016x" % (0xFE000000, 0xFE00FFFF, 0x00142200)]
lines += ["0x%016x 0x%016x 0x%016x" % (0, 0, 0)] * 12
open(dev + "/resource", "w").write("\n".join(lines) + "\n")
for f in ("lock", "unlock", "accept"):
    open(dev + "/tsm/" + f, "w").write("\n")
ranges = [(0xFE000, 2, 0, 0), (0xFE002, 1, 1, 0), (0xFE003, 1, 2, 0), (0xFE004, 12, 0, 0)]
rep = struct.pack("<HHHHII", 3, 0, 0x8003, 0, 0, len(ranges))
rep += b"".join(struct.pack("<QIHH", *r) for r in ranges) + struct.pack("<I", 0)
open(ev + "/report", "wb").write(rep)
open(ev + "/report_digest", "w").write(hashlib.sha384(rep).hexdigest() + "\n")


def block(i, t, v):
    return bytes([i, 1]) + struct.pack("<H", 3 + len(v)) + bytes([t]) + struct.pack("<H", len(v)) + v


rec = block(1, 1, bytes(range(48))) + block(2, 1, bytes(range(48, 96))) + block(3, 0x80, b"raw")
meas = bytes([0x12, 0x60, 0, 0, 3]) + struct.pack("<I", len(rec))[:3] + rec + bytes(34)
open(ev + "/measurements", "wb").write(meas)
open(f"{root}/pcitsm/devices/{bdf}/status", "w").write(f"connected=1\ntdi_state={state}\n")
