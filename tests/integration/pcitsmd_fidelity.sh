#!/bin/bash
# Mirror fidelity through FUSE, as a shell and write(2) see it: available_secure_streams is absent
# (ENOENT, not listed) with an empty pool, as the kernel hides it; tsm/connect parses as the
# kernel's sscanf("tsm%d") and a write(2) of 4097 bytes is short (4096, a page, as kernfs);
# /sys/class/tsm/tsm0/device is a link to the TSM's parent device. Exits 77 only without FUSE.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --ports 1 --streams 0
hb="$mnt/devices/pci0000:00"
ls "$hb" | grep -q available_secure_streams && fail "available_secure_streams listed with pool 0"
expect_eq "cat available_secure_streams, pool 0" "$(read_errno "$hb/available_secure_streams")" ENOENT
[ -L "$mnt/class/tsm/tsm0/device" ] || fail "tsm0/device is not a symlink"
expect_eq "tsm0/device target" "$(readlink "$mnt/class/tsm/tsm0/device")" "../../../pcitsm-tsm"
[ -d "$mnt/class/tsm/tsm0/device/" ] || fail "tsm0/device does not resolve to a directory"
pcitsmd_unmount

pcitsmd_mount --ports 1
c="$mnt/bus/pci/devices/0000:01:00.0/tsm/connect"
d="$mnt/bus/pci/devices/0000:01:00.0/tsm/disconnect"
expect_eq "available_secure_streams listed" "$(ls "$mnt/devices/pci0000:00" | grep -c available)" 1
expect_eq "echo tsm+0" "$(write_errno "$c" "tsm+0")" EINVAL
expect_eq "echo ' tsm0'" "$(write_errno "$c" " tsm0")" EINVAL
expect_eq "echo tsm1" "$(write_errno "$c" "tsm1")" ENXIO
for ok in "tsm 0" "tsm-0" "tsm0garbage"; do
	expect_eq "echo '$ok'" "$(write_errno "$c" "$ok")" OK
	expect_eq "connected by '$ok'" "$(cat "$c")" tsm0
	expect_eq "disconnect" "$(write_errno "$d" tsm0)" OK
done
# One write(2) of 4097 bytes: the store sees the first 4096, write returns 4096.
python3 - "$c" <<'PY' || fail "4097-byte write"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
n = os.write(fd, b"tsm0" + b" " * 4093)
os.close(fd)
assert n == 4096, n
PY
expect_eq "connected by the 4097-byte write" "$(cat "$c")" tsm0
expect_eq "disconnect" "$(write_errno "$d" tsm0)" OK
pcitsmd_unmount
echo "pcitsmd_fidelity: 1 passed, 0 failed"
