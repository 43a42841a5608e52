#!/bin/bash
# pcitsmd is long-lived like the kernel and firmware it stands for: 400 connect/disconnect cycles
# over the mirror's tsm/connect and tsm/disconnect must leave its resident memory where it was
# after a warm-up (within 1 MiB; a 4 KiB leak per connect would be 1.6 MB). Under AddressSanitizer
# the allocator keeps freed memory in quarantine, so RSS says nothing about leaks there: the test
# reports itself skipped and LeakSanitizer checks the daemon at exit instead.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

if grep -q __asan_init "$(command -v pcitsmd)"; then
	echo "SKIP: pcitsmd is built with AddressSanitizer (RSS includes its quarantine)"
	exit 77
fi
if [ -n "${PCITSM_VALGRIND:-}" ]; then
	echo "SKIP: pcitsmd runs under valgrind (RSS is memcheck's shadow memory; its leak check runs)"
	exit 77
fi
pcitsmd_mount
dev="$mnt/bus/pci/devices/0000:01:00.0/tsm"
cycles() {
	for _ in $(seq "$1"); do
		echo tsm0 >"$dev/connect" || fail "connect"
		echo tsm0 >"$dev/disconnect" || fail "disconnect"
	done
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pcitsmd_pid/status"; }
cycles 50
before=$(rss)
cycles 400
after=$(rss)
echo "pcitsmd RSS: ${before} kB after 50 warm-up cycles, ${after} kB after 400 more"
[ "$after" -le $((before + 1024)) ] || fail "RSS grew by $((after - before)) kB over 400 cycles"
pcitsmd_unmount
echo "pcitsmd_rss: all checks passed"
