#!/bin/bash
# With no TSM in /sys, the TSM commands start pcitsmd on a private mount themselves and stop it
# when done, leaving no mount and no directory behind; PCITSM_SYSFS names a running mirror instead.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
pcitsmd_require_fuse
if compgen -G "/sys/class/tsm/tsm*" >/dev/null; then
	echo "SKIP: this kernel has a TSM, so pcitsm uses /sys and starts no embedded platform"
	exit 77
fi
unset PCITSM_SYSFS
mkdir -p "$tmp/t"
export TMPDIR="$tmp/t"

pcitsm status >"$tmp/s.txt" || { cat "$tmp/s.txt"; fail "embedded status"; }
grep -q "^0000:01:00.0: not connected" "$tmp/s.txt" || { cat "$tmp/s.txt"; fail "status output"; }
grep -q "^0000:02:00.0: not connected" "$tmp/s.txt" || fail "status output, second endpoint"
pcitsm connect --all >"$tmp/c.txt" || { cat "$tmp/c.txt"; fail "embedded connect --all"; }
expect_eq "devices connected" "$(grep -c 'connected to tsm0' "$tmp/c.txt")" 2
grep -q "Secure, endpoint 0000:02:00.0 Secure" "$tmp/c.txt" || fail "connect --all stream state"
pcitsm traffic 0000:01:00.0 --ops 10 >/dev/null || fail "embedded traffic"
[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind in TMPDIR: $(ls -A "$TMPDIR")"
! grep -q "$TMPDIR" /proc/self/mounts || fail "a mount is left behind"

# PCITSM_SYSFS: several commands share one daemon.
pcitsmd_mount
export PCITSM_SYSFS="$mnt"
pcitsm connect 0000:02:00.0 >/dev/null || fail "connect via PCITSM_SYSFS"
pcitsm status 0000:02:00.0 | grep -q "connected to tsm0" || fail "status via PCITSM_SYSFS"
pcitsm disconnect 0000:02:00.0 >/dev/null || fail "disconnect via PCITSM_SYSFS"
pcitsmd_unmount
echo "pcitsmd_embedded: all checks passed"
