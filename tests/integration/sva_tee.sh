#!/bin/bash
# T=1 DMA by a TDI (examples/sva_tee.c) against pcitsmd's SVA devices, which are the platform's
# endpoint functions: on the connected endpoint it fails while the TDI is unlocked or only locked,
# works once it is accepted (RUN), and fails again after a write to locked configuration (ERROR);
# on the endpoint that is not connected it fails (no Secure stream for T=1). docs/sva.md "T=1".
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --sva-socket "$tmp/sva.sock" --sva-devices 2
export PCITSM_SYSFS="$mnt"
ep=0000:01:00.0
st="$mnt/pcitsm/devices/$ep/status"
tee_copy() { sva_tee --socket "$tmp/sva.sock" --device "$1" --size 65536 --status "$st"; }

pcitsm connect "$ep" >/dev/null
tee_copy 0 >"$tmp/u.txt" 2>&1 && { cat "$tmp/u.txt"; fail "T=1 DMA while unlocked"; }
grep -q "TDI CONFIG_UNLOCKED$" "$tmp/u.txt" || { cat "$tmp/u.txt"; fail "state line (unlocked)"; }
pcitsm lock "$ep" >/dev/null
tee_copy 0 >"$tmp/l.txt" 2>&1 && { cat "$tmp/l.txt"; fail "T=1 DMA while CONFIG_LOCKED"; }
grep -q "TDI CONFIG_LOCKED$" "$tmp/l.txt" && grep -q "queue error 2 " "$tmp/l.txt" ||
	{ cat "$tmp/l.txt"; fail "locked: state line or queue error"; }
pcitsm accept "$ep" >/dev/null
tee_copy 0 >"$tmp/r.txt" 2>&1 || { cat "$tmp/r.txt"; fail "T=1 DMA in RUN"; }
cat "$tmp/r.txt"
grep -q "^bound: device 0, PASID [1-9][0-9]*; stream stream[0-9.]*, TDI RUN$" "$tmp/r.txt" ||
	fail "bound line"
grep -q "^T=1 copy 65536 bytes: success, 65536 bytes done, destination matches$" "$tmp/r.txt" ||
	fail "copy line"
# the other device's endpoint is not connected: T=1 never leaves its port
tee_copy 1 >"$tmp/n.txt" 2>&1 && { cat "$tmp/n.txt"; fail "T=1 DMA without a Secure stream"; }
# a write to locked configuration: ERROR, and the DMA fails again
python3 -c 'import os,sys; fd=os.open(sys.argv[1],os.O_RDWR); v=bytearray(os.pread(fd,2,4)); v[0]^=4; os.pwrite(fd,bytes(v),4)' \
	"$mnt/bus/pci/devices/$ep/config"
tee_copy 0 >"$tmp/e.txt" 2>&1 && { cat "$tmp/e.txt"; fail "T=1 DMA in ERROR"; }
grep -q "queue error 2 " "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "queue error (error)"; }
pcitsm status "$ep" | grep "TDI state.*ERROR" || fail "TDI state is not ERROR after the locked-configuration write"
pcitsm unlock "$ep" >/dev/null
pcitsm disconnect "$ep" >/dev/null
pcitsmd_unmount
echo "sva_tee: ok"
