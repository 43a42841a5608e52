# Shared by tests/integration/tdisp_*.sh: a pcitsmd mirror with the proposed TDISP files and one
# endpoint connected. Source after lib/pcitsmd.bash; then `tdisp_setup BDF [pcitsmd options]`.
# Exits 77 only when the mirror has no tsm/lock (a pcitsmd without TDISP) or FUSE is unusable.

tdisp_setup() {
	local bdf=$1
	shift
	pcitsmd_mount "$@"
	if [ ! -e "$mnt/bus/pci/devices/$bdf/tsm/lock" ]; then
		echo "SKIP: this pcitsmd's mirror has no tsm/lock (no TDISP files)"
		exit 77
	fi
	pcitsm connect "$bdf" --sysfs "$mnt" >"$tmp/connect.txt" ||
		{ cat "$tmp/connect.txt"; fail "connect $bdf"; }
}

# tdi_state BDF: the TDI state `pcitsm status --json` shows.
tdi_state() {
	pcitsm status "$1" --sysfs "$mnt" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("tdi_state", "-"))'
}

# config_write BDF: a write to the function's Command register that changes it (Bus Master
# Enable toggled): a write to locked configuration when the TDI is locked.
config_write() {
	python3 - "$mnt/bus/pci/devices/$1/config" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
v = bytearray(os.pread(fd, 2, 4))
v[0] ^= 0x04
os.pwrite(fd, bytes(v), 4)
os.close(fd)
PY
}
