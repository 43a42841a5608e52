#!/bin/bash
# A full host bridge through the mirror (docs/emulated-platform.md "Scale"): 255 root ports, each
# with an endpoint, on every bus number 0..255; the pool lowered to 254 H slots (as platform code
# does with pci_ide_set_nr_streams). `pcitsm connect --all` connects 254, the 255th stream request
# fails with ENOSPC (the pool is exhausted, Linux drivers/pci/ide.c), with no progress line when
# stderr is not a terminal; `disconnect --all` returns available_secure_streams to the pool size,
# and the device that was refused then connects. Exits 77 only without FUSE.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --ports 255 --streams 254 --vfs 0
hb="$mnt/devices/pci0000:00"
dev="$mnt/bus/pci/devices"
expect_eq "functions" "$(ls "$dev" | wc -l)" 510
expect_eq "available_secure_streams at start" "$(cat "$hb/available_secure_streams")" 254
# The layout: root ports packed 8 functions to a device on bus 0, endpoint i on bus 1 + i.
python3 - "$dev" <<'PY' || fail "bus layout"
import sys
dev = sys.argv[1]
def cfg(bdf, off, n):
    with open(f"{dev}/{bdf}/config", "rb") as f:
        f.seek(off)
        return int.from_bytes(f.read(n), "little")
assert cfg("0000:00:00.0", 0x0e, 1) == 0x81, "00:00.0 not multi-function"
assert cfg("0000:00:1f.6", 0x0e, 1) == 0x01
for i, bdf in ((0, "0000:00:00.0"), (9, "0000:00:01.1"), (254, "0000:00:1f.6")):
    buses = cfg(bdf, 0x18, 3)
    assert buses == (0 | (i + 1) << 8 | (i + 1) << 16), (bdf, hex(buses))
    cap = cfg(bdf, 0x40 + 2, 2)
    assert (cap >> 4) & 0xf == 4, (bdf, "not a Root Port")
    ep = f"0000:{i + 1:02x}:00.0"
    assert (cfg(ep, 0x40 + 2, 2) >> 4) & 0xf == 0, (ep, "not an Endpoint")
PY

set +e
pcitsm connect --all --sysfs "$mnt" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "connect --all succeeded with one device too many"
expect_eq "connected" "$(grep -c ': connected to tsm0' "$tmp/out")" 254
grep -q '^pcitsm: connect 0000:ff:00.0: .*No space left on device (errno 28)' "$tmp/err" ||
	fail "the 255th request: $(cat "$tmp/err")"
grep -q $'\r' "$tmp/err" && fail "a progress line on a stderr that is not a terminal"
expect_eq "available_secure_streams full" "$(cat "$hb/available_secure_streams")" 0
expect_eq "stream links" "$(ls "$hb" | grep -c '^stream')" 254

pcitsm disconnect --all --sysfs "$mnt" >"$tmp/out" 2>"$tmp/err" || fail "disconnect --all"
expect_eq "disconnected" "$(grep -c 'no stream left' "$tmp/out")" 254
expect_eq "available_secure_streams after" "$(cat "$hb/available_secure_streams")" 254
expect_eq "stream links after" "$(ls "$hb" | grep -c '^stream' || true)" 0
pcitsm connect 0000:ff:00.0 --sysfs "$mnt" >/dev/null || fail "the refused device once the pool is back"
expect_eq "available_secure_streams" "$(cat "$hb/available_secure_streams")" 253
pcitsmd_unmount
echo "pcitsmd_scale: 1 passed, 0 failed"
