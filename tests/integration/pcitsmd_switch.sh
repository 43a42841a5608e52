#!/bin/bash
# PCIe switches through the mirror (docs/emulated-platform.md "Switches"). A layout past the bus
# budget is refused with the maximum named. The mixed layout that reaches the most endpoints a
# switch allows: one switch with 32 Downstream Ports below root port 00:00.0, and 221 more root
# ports with an endpoint each: 253 endpoints on buses 1..255 (255 - 2 x 1). lspci -t shows the
# hierarchy; the switch's ports are no DSM (no tsm/); the pool lowered to 252 (as platform code does
# with pci_ide_set_nr_streams): `pcitsm connect --all` connects 252 endpoints, those below the
# switch included, and the 253rd stream request fails with ENOSPC; traffic crosses the switch;
# `disconnect --all` returns the pool to full and the refused device then connects. Exits 77 only
# without FUSE; a missing lspci is a failure (install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

command -v lspci >/dev/null || fail "lspci not installed (scripts/install-deps.sh installs pciutils)"

# Past the bus budget: refused, naming the most that many switches allow.
set +e
pcitsmd --ports 250 --switches 2 --switch-ports 8 "$tmp" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a layout past the bus budget: exit $rc"
grep -q -- '--switches 2 --switch-ports 8: 264 endpoints; with 2 switches at most 251 fit' \
	"$tmp/err" || fail "the refusal does not name the maximum: $(cat "$tmp/err")"

pcitsmd_mount --ports 222 --switches 1 --switch-ports 32 --streams 252 --vfs 0
hb="$mnt/devices/pci0000:00"
dev="$mnt/bus/pci/devices"
# 222 root ports, the Upstream Port, 32 Downstream Ports, 253 endpoints.
expect_eq "functions" "$(ls "$dev" | wc -l)" 508
expect_eq "available_secure_streams at start" "$(cat "$hb/available_secure_streams")" 252

# Enumeration as Linux numbers it (depth-first), read from the functions' config spaces.
python3 - "$dev" <<'PY' || fail "bus layout"
import sys
dev = sys.argv[1]
def cfg(bdf, off, n):
    with open(f"{dev}/{bdf}/config", "rb") as f:
        f.seek(off)
        return int.from_bytes(f.read(n), "little")
def ptype(bdf):
    return (cfg(bdf, 0x40 + 2, 2) >> 4) & 0xf
def buses(bdf):
    v = cfg(bdf, 0x18, 3)
    return v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff
def window(bdf):
    v = cfg(bdf, 0x20, 4)
    return (v & 0xfff0) << 16, (v >> 16 & 0xfff0) << 16 | 0xfffff
assert ptype("0000:00:00.0") == 4 and buses("0000:00:00.0") == (0, 1, 0x22)
assert ptype("0000:01:00.0") == 5, "01:00.0 not an Upstream Port"
assert buses("0000:01:00.0") == (1, 2, 0x22)
assert window("0000:01:00.0") == window("0000:00:00.0") == (0x80000000, 0x81ffffff)
for k in range(32):
    dsp = f"0000:02:{k:02x}.0"
    assert ptype(dsp) == 6, (dsp, "not a Downstream Port")
    assert buses(dsp) == (2, 3 + k, 3 + k), (dsp, buses(dsp))
    assert window(dsp) == (0x80000000 + k * 0x100000, 0x80000000 + k * 0x100000 + 0xfffff)
    assert ptype(f"0000:{3 + k:02x}:00.0") == 0
for i, bdf in ((1, "0000:00:00.1"), (221, "0000:00:1b.5")):
    assert ptype(bdf) == 4 and buses(bdf) == (0, 0x22 + i, 0x22 + i), (bdf, buses(bdf))
    assert ptype(f"0000:{0x22 + i:02x}:00.0") == 0
PY

# The hierarchy as lspci draws it from the mirror.
lspci -A linux-sysfs -O "sysfs.path=$mnt/bus/pci" -t >"$tmp/tree" 2>"$tmp/lspci.err" ||
	{ cat "$tmp/lspci.err" >&2; fail "lspci -t on the mirror"; }
grep -q "Cannot open" "$tmp/lspci.err" && fail "lspci could not open a file: $(cat "$tmp/lspci.err")"
head -1 "$tmp/tree" | grep -q -- '-00.0-\[01-22\]----00.0-\[02-22\]--+-00.0-\[03\]----00.0$' ||
	fail "lspci -t: the switch below 00:00.0: $(head -1 "$tmp/tree")"
expect_eq "Downstream Ports in the tree" "$(grep -cE -- '-[0-9a-f]{2}\.0-\[([0-1][0-9a-f]|2[0-2])\]----00\.0$' "$tmp/tree")" 32
grep -q -- '\\-1b.5-\[ff\]----00.0$' "$tmp/tree" || fail "lspci -t: the last root port"
# The sysfs tree nests the endpoint below its Downstream Port, Upstream Port and root port.
[ -d "$hb/0000:00:00.0/0000:01:00.0/0000:02:1f.0/0000:22:00.0" ] ||
	fail "sysfs: 0000:22:00.0 not below its switch"
for f in 0000:01:00.0 0000:02:00.0 0000:02:1f.0; do
	[ -e "$dev/$f/tsm" ] && fail "$f: a switch port offers tsm/ (no DSM: no IDE, no TEE-IO)"
done
[ -e "$dev/0000:03:00.0/tsm/connect" ] || fail "0000:03:00.0 below the switch offers no connect"
pcitsm list --sysfs "$mnt" >"$tmp/list" || fail "pcitsm list"
grep -q '^0000:01:00.0 7063:0004 class 060400 (Upstream Port)' "$tmp/list" || fail "list: USP"
grep -q '^0000:02:1f.0 7063:0005 class 060400 (Downstream Port)' "$tmp/list" || fail "list: DSP"
expect_eq "endpoints listed" "$(grep -c '(Endpoint) TEE-IO$' "$tmp/list")" 253

set +e
pcitsm connect --all --sysfs "$mnt" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "connect --all succeeded with one device too many"
expect_eq "connected" "$(grep -c ': connected to tsm0' "$tmp/out")" 252
expect_eq "connected below the switch" \
	"$(grep -cE '^0000:([01][0-9a-f]|2[0-2]):00.0: connected to tsm0' "$tmp/out")" 32
grep -q '^pcitsm: connect 0000:ff:00.0: .*No space left on device (errno 28)' "$tmp/err" ||
	fail "the 253rd request: $(cat "$tmp/err")"
expect_eq "available_secure_streams full" "$(cat "$hb/available_secure_streams")" 0
expect_eq "stream links" "$(ls "$hb" | grep -c '^stream')" 252
# The streams of the endpoints below the switch end at its root port, one block each.
pcitsm status 0000:22:00.0 --sysfs "$mnt" >"$tmp/st" || fail "status below the switch"
grep -q 'root port      0000:00:00.0: selective block 31, Stream ID [0-9]*, En+, Secure' \
	"$tmp/st" || fail "status: $(cat "$tmp/st")"
for d in 0000:03:00.0 0000:22:00.0 0000:23:00.0; do
	pcitsm traffic "$d" --ops 500 --sysfs "$mnt" >"$tmp/tr" || fail "traffic $d: $(cat "$tmp/tr")"
	grep -q 'failures=0 .*tlps_clear=0 .*result=ok' "$tmp/tr" || fail "traffic $d: $(cat "$tmp/tr")"
done

pcitsm disconnect --all --sysfs "$mnt" >"$tmp/out" 2>"$tmp/err" || fail "disconnect --all"
expect_eq "disconnected" "$(grep -c 'no stream left' "$tmp/out")" 252
expect_eq "available_secure_streams after" "$(cat "$hb/available_secure_streams")" 252
expect_eq "stream links after" "$(ls "$hb" | grep -c '^stream' || true)" 0
pcitsm connect 0000:ff:00.0 --sysfs "$mnt" >/dev/null || fail "the refused device once the pool is back"
expect_eq "available_secure_streams" "$(cat "$hb/available_secure_streams")" 251
pcitsmd_unmount
echo "pcitsmd_switch: 1 passed, 0 failed"
