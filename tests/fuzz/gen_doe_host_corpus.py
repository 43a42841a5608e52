#!/usr/bin/env python3
"""Write tests/fuzz/corpus/doe_host/: scripts of DOE devices for the doe_host fuzz target.

A script (format: tests/fuzz/doe_host.c) is what the device shows the host, in the order the host
reads it: one byte per Status read, four per Read Data Mailbox read. Every script below starts
with the take-over Abort's poll and answers Discovery; the well-behaved ones then answer CMA,
secured CMA and Discovery with valid objects (PCIe 6.x §6.30.1), the others lie as listed in
docs/doe.md ("A device that lies").

    python3 tests/fuzz/gen_doe_host_corpus.py [OUTDIR]
"""

import os
import struct
import sys

BUSY, ERROR, READY, HOLD = 0x01, 0x02, 0x04, 0x80
CHECK_DW = 64  # lib/doe/host.c reads Status every 64 payload DWs and before the last acknowledge
VID = 0x0001
DISC, CMA, SEC = 0, 1, 2


def config(version2=False, exchanges=3, cap_shift=7):
    """Byte 0: capability version, exchanges after the take-over, buffer 8 << cap_shift."""
    return bytes([(1 if version2 else 0) | exchanges << 1 | cap_shift << 3])


def dw(v):
    return struct.pack("<I", v)


def header(vtype, ndw, vid=VID):
    return dw(vid | vtype << 16) + dw(ndw & 0x3FFFF)


def pad(payload):
    return payload + bytes(-len(payload) % 4)


def answer(vtype, payload):
    """One well-behaved exchange, each Status read where the host makes it: idle at the send,
    Ready at the first poll, the object DW by DW with Ready at each Status check (every CHECK_DW
    DWs and the last), and no Error at the end."""
    body = pad(payload)
    ndw = len(body) // 4
    out = bytes([0, READY]) + header(vtype, 2 + ndw)
    if ndw == 0:
        out += bytes([READY])
    for i in range(ndw):
        out += body[4 * i:4 * i + 4]
        if i + 1 == ndw or (i + 1) % CHECK_DW == 0:
            out += bytes([READY])
    return out + bytes([0])


def discovery(protos, version2=False):
    """Answers to Discovery index 0.. for the protocols (vid, type), Next Index chained."""
    out = b""
    for i, (vid, vtype) in enumerate(protos):
        nxt = i + 1 if i + 1 < len(protos) else 0
        payload = dw(vid | vtype << 16 | nxt << 24)
        if version2:
            payload += dw(0)  # Max DO Length 0: 2^18 DW (PCIe 6.x §6.30.1.1, version 2)
        out += answer(DISC, payload)
    return out


PROTOS = [(VID, DISC), (VID, CMA), (VID, SEC)]

# DSP0274 VERSION response: SPDM 1.0, code 0x04, three entries 1.0, 1.1, 1.2.
SPDM_VERSION = bytes([0x10, 0x04, 0, 0, 0, 3]) + struct.pack("<HHH", 0x1000, 0x1100, 0x1200)
# DSP0274 ERROR response (SPDM 1.2, ResponseNotReady-free: Busy, code 0x03).
SPDM_ERROR_BUSY = bytes([0x12, 0x7F, 0x03, 0x00])
# A DSP0277 secured message as CMA carries it (PCIe 6.x §6.31.4): session ID, length, then the
# encrypted application data and a 16-byte MAC (opaque to the host).
SEC_RECORD = struct.pack("<IH", 0xFFFE0001, 32) + bytes(range(16)) + bytes(16)


def take_over(version2=False):
    return bytes([0]) + discovery(PROTOS, version2)


def good(version2=False, cap_shift=7):
    return (config(version2, 3, cap_shift) + take_over(version2) + answer(CMA, SPDM_VERSION) +
            answer(SEC, SEC_RECORD) + answer(DISC, dw(VID | CMA << 16)))


def lie_payload(ndw_true, check_status):
    """ndw_true payload DWs, with check_status as the periodic Status read that comes due."""
    out = b""
    for i in range(ndw_true):
        out += dw(0x11111111 * (i % 15))
        if (i + 1) % CHECK_DW == 0:
            out += bytes([check_status])
            break
    return out


SCRIPTS = {
    "good_v1": good(),
    "good_v2": good(version2=True),
    "good_small_buffer": good(cap_shift=0),  # 8 bytes: the VERSION response is truncated
    "cma_error_response": config(False, 1) + take_over() + answer(CMA, SPDM_ERROR_BUSY),
    # Busy after Go and never Ready: 1 s of polls, then an Abort the device honours.
    "busy_forever": config(False, 2) + take_over() + bytes([0, BUSY | HOLD, 0]) +
    answer(SEC, SEC_RECORD),
    # Busy through the Abort too: dead, and the next exchange is E_DEAD.
    "busy_wedged": config(False, 2) + take_over() + bytes([0, BUSY | HOLD, BUSY | HOLD]),
    # Busy before the send: someone else's transfer, then abort.
    "busy_before_send": config(False, 1) + take_over() + bytes([BUSY, 0]),
    # Length 0 (2^18 DW) with Ready held: the host drains 1024 DWs past its buffer, then aborts.
    "len0_ready_forever": config(False, 1, 0) + take_over() + bytes([0, READY | HOLD]) +
    header(CMA, 0) + dw(0x12345678) * 8,
    # Length 300 from a device that holds 64: Ready gone at the Status read every 64 DWs.
    "len_beyond_object": config(False, 1) + take_over() + bytes([0, READY]) + header(CMA, 300) +
    lie_payload(CHECK_DW, 0) + bytes([0]),
    # Length 0 from a device that holds 64 DWs.
    "len0_short": config(False, 1) + take_over() + bytes([0, READY]) + header(CMA, 0) +
    lie_payload(CHECK_DW, 0) + bytes([0]),
    # Error set while the host reads a 130-DW object.
    "error_mid_object": config(False, 1) + take_over() + bytes([0, READY]) + header(CMA, 130) +
    lie_payload(CHECK_DW, ERROR | READY) + bytes([0]),
    # Error after the last acknowledge: the final check.
    "error_at_end": config(False, 1) + take_over() + bytes([0, READY]) + header(CMA, 3) +
    dw(1) + bytes([READY, ERROR, 0]),
    # Ready without data: the Read mailbox reads 0, a header of vendor 0 type 0.
    "ready_without_data": config(False, 1) + take_over() + bytes([0, READY | HOLD]) + dw(0) +
    dw(0) + bytes([0]),
    # Ready dropped before the last DW.
    "ready_dropped": config(False, 1) + take_over() + bytes([0, READY]) + header(CMA, 4) +
    dw(1) + dw(2) + bytes([0, 0]),
    # Length 1, reserved bits, the wrong type.
    "len1": config(False, 1) + take_over() + bytes([0, READY | HOLD]) + header(CMA, 1),
    "reserved_bits": config(False, 1) + take_over() + bytes([0, READY | HOLD]) +
    dw(VID | CMA << 16 | 0x01000000) + dw(3) + dw(0),
    "wrong_type": config(False, 1) + take_over() + answer(SEC, SPDM_VERSION),
    # Discovery lies: a Next Index loop, an invalid index, never Ready at take-over.
    "disc_loop": config() + bytes([0]) + answer(DISC, dw(VID | 1 << 24)) +
    answer(DISC, dw(VID | CMA << 16 | 1 << 24)),
    "disc_bad_index": config() + bytes([0]) + answer(DISC, dw(0xFFFF)),
    "disc_never_ready": config() + bytes([0, 0]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "doe_host")
    os.makedirs(out, exist_ok=True)
    for name, data in SCRIPTS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(SCRIPTS)} scripts in {out}")


if __name__ == "__main__":
    main()
