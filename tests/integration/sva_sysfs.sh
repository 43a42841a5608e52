#!/bin/bash
# `pcitsm sva bind|status|unbind` and `pcitsm list` on a sysfs tree laid out as Linux lays it out
# for uio_pci_sva (drivers/uio/uio_pci_generic_sva.c and the UIO core), built here: the bind goes
# through driver_override, the old driver's unbind and uio_pci_sva's bind file; list shows the
# function's UIO device and its pasid attribute. The kernel's side of each write (moving the
# driver link) is done by this script: the hardware and the kernel are not involved.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
S=$tmp/sys
B=0000:05:00.0
D=$S/devices/pci0000:00/0000:00:01.0/$B

mkdir -p "$D/uio/uio3/maps/map0" "$S/bus/pci/devices" "$S/bus/pci/drivers/nvme" \
	"$S/bus/pci/drivers/uio_pci_sva" "$S/class/uio"
python3 - "$D/config" <<'PY'
import struct, sys
b = bytearray(4096)
struct.pack_into('<HH', b, 0, 0x1af4, 0x1234)   # IDs
struct.pack_into('<I', b, 8, 0x01080201)        # class 010802 (NVMe), revision 1
open(sys.argv[1], 'wb').write(b)
PY
ln -s ../../../devices/pci0000:00/0000:00:01.0/$B "$S/bus/pci/devices/$B"
ln -s ../../../../bus/pci/drivers/nvme "$D/driver"
echo "(null)" >"$D/driver_override"
: >"$S/bus/pci/drivers/nvme/unbind"
: >"$S/bus/pci/drivers/uio_pci_sva/bind"
: >"$S/bus/pci/drivers/uio_pci_sva/unbind"
ln -s ../../devices/pci0000:00/0000:00:01.0/$B/uio/uio3 "$S/class/uio/uio3"

pcitsm sva status $B --sysfs "$S" | grep -qx "$B: driver nvme" || fail "status before bind"
pcitsm list --sysfs "$S" | grep -q "SVA:" && fail "list shows SVA before bind"

# No uio_pci_sva module: a clear error.
mv "$S/bus/pci/drivers/uio_pci_sva" "$tmp/away"
rc=0; pcitsm sva bind $B --sysfs "$S" 2>"$tmp/err" || rc=$?
[ $rc -eq 1 ] && grep -q "modprobe uio_pci_generic_sva" "$tmp/err" || fail "bind without the module"
mv "$tmp/away" "$S/bus/pci/drivers/uio_pci_sva"

pcitsm sva bind $B --sysfs "$S" >/dev/null
[ "$(cat "$D/driver_override")" = uio_pci_sva ] || fail "driver_override"
[ "$(cat "$S/bus/pci/drivers/nvme/unbind")" = $B ] || fail "nvme unbind"
[ "$(cat "$S/bus/pci/drivers/uio_pci_sva/bind")" = $B ] || fail "uio_pci_sva bind"
# What the kernel does then: the driver link moves, the driver's directory links the device, and
# the device gets its pasid attribute ("0" until the first open()).
ln -sfn ../../../../bus/pci/drivers/uio_pci_sva "$D/driver"
ln -s ../../../../devices/pci0000:00/0000:00:01.0/$B "$S/bus/pci/drivers/uio_pci_sva/$B"
echo 0 >"$D/pasid"
pcitsm sva status $B --sysfs "$S" | grep -qx "$B: driver uio_pci_sva, /dev/uio3, pasid 0 (not opened yet)" ||
	fail "status after bind"
echo 42 >"$D/pasid"
pcitsm list --sysfs "$S" >"$tmp/list.txt"
grep -q "^  SVA: uio_pci_sva uio3 PASID 42$" "$tmp/list.txt" || { cat "$tmp/list.txt"; fail "list text"; }
pcitsm list --sysfs "$S" --json >"$tmp/list.json"
python3 - "$tmp/list.json" <<'PY' || fail "list --json"
import json, sys
f = json.load(open(sys.argv[1]))[0]
assert f["uio_pci_sva"] == {"uio": 3, "pasid": 42}, f
PY
echo "0x2a" >"$D/pasid" # not what the kernel prints ("%d\n")
pcitsm list --sysfs "$S" >"$tmp/list2.txt"
grep -q "SVA: uio_pci_sva uio3 PASID unreadable" "$tmp/list2.txt" || { cat "$tmp/list2.txt"; fail "bad pasid"; }

pcitsm sva unbind $B --sysfs "$S" >/dev/null || true
[ "$(cat "$S/bus/pci/drivers/uio_pci_sva/unbind")" = $B ] || fail "unbind"
[ -z "$(cat "$D/driver_override")" ] || fail "driver_override not cleared"
rc=0; pcitsm sva bind 0000:05:00.7 --sysfs "$S" 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "bind of a missing function exited $rc"
rc=0; pcitsm sva frob $B --sysfs "$S" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown verb exited $rc"
echo "sva_sysfs: ok"
