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

# config_write BDF OFFSET: one 2-byte write to the function's config file (its Command register
# when OFFSET is 4), the value it has now written back.
config_write() {
	python3 - "$mnt/bus/pci/devices/$1/config" "$2" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
off = int(sys.argv[2], 0)
v = os.pread(fd, 2, off)
os.pwrite(fd, v, off)
os.close(fd)
PY
}
