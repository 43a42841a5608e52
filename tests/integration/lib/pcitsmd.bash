# Shared by tests/integration/pcitsmd_*.sh: mount pcitsmd's mirror in a temporary directory, and
# always unmount it (trap), even when a check fails. Source it; then `pcitsmd_mount [OPTIONS]`.
# Sets $tmp, $mnt, $pcitsmd_pid. Exits 77 (skipped) only when /dev/fuse is unusable.

tmp=$(mktemp -d)
mnt="$tmp/sys"
pcitsmd_pid=
# Under make test-valgrind every program runs 20 to 50 times slower: the wait below scales.
slow=1
[ -n "${PCITSM_VALGRIND:-}" ] && slow=10

# Mounted, even with a dead daemon (where mountpoint(1) fails on ENOTCONN)?
pcitsmd_mounted() {
	grep -qs " $(cd "$tmp" && pwd -P)/sys fuse" /proc/self/mounts
}

pcitsmd_cleanup() {
	if [ -n "$pcitsmd_pid" ] && kill -0 "$pcitsmd_pid" 2>/dev/null; then
		kill -TERM "$pcitsmd_pid" 2>/dev/null || true
		wait "$pcitsmd_pid" 2>/dev/null || true
	fi
	if pcitsmd_mounted; then
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap pcitsmd_cleanup EXIT

pcitsmd_require_fuse() {
	if [ ! -c /dev/fuse ] || ! (exec 3<>/dev/fuse) 2>/dev/null; then
		echo "SKIP: /dev/fuse is not usable here (pcitsmd needs FUSE)"
		exit 77
	fi
}

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$tmp/pcitsmd.log" ]; then
		echo "--- pcitsmd log" >&2
		cat "$tmp/pcitsmd.log" >&2
	fi
	exit 1
}

# pcitsmd_mount [pcitsmd options]: start the daemon in the foreground, wait for its READY.
pcitsmd_mount() {
	pcitsmd_require_fuse
	mkdir -p "$mnt"
	rm -f "$tmp/ready"
	mkfifo "$tmp/ready"
	pcitsmd --foreground --ready-fd 3 "$@" "$mnt" 3>"$tmp/ready" >"$tmp/pcitsmd.log" 2>&1 &
	pcitsmd_pid=$!
	local line=
	read -r -t $((60 * slow)) line <"$tmp/ready" || true
	[ "$line" = READY ] || fail "pcitsmd did not become ready"
}

pcitsmd_unmount() {
	kill -TERM "$pcitsmd_pid"
	wait "$pcitsmd_pid" || fail "pcitsmd exited with $? after SIGTERM"
	pcitsmd_pid=
	! pcitsmd_mounted || fail "still mounted after SIGTERM"
}

# The errno name of a shell error message (strerror's words, as bash prints them).
errno_name() {
	case "$1" in
	"") echo OK ;;
	*"Invalid argument"*) echo EINVAL ;;
	*"Device or resource busy"*) echo EBUSY ;;
	*"No such device or address"*) echo ENXIO ;;
	*"Permission denied"*) echo EACCES ;;
	*"Input/output error"*) echo EIO ;;
	*"No such file or directory"*) echo ENOENT ;;
	*"Bad address"*) echo EFAULT ;;
	*"No space left on device"*) echo ENOSPC ;;
	*"Connection timed out"*) echo ETIMEDOUT ;;
	*"Transport endpoint is not connected"*) echo ENOTCONN ;;
	*"Stale file handle"*) echo ESTALE ;;
	*"No such device"*) echo ENODEV ;;
	*"No data available"*) echo ENODATA ;;
	*"Numerical result out of range"*) echo ERANGE ;;
	*) echo "UNKNOWN($1)" ;;
	esac
}

# write_errno FILE VALUE: `echo VALUE > FILE` (one write(2) of "VALUE\n"); prints OK or the
# errno's name (EBUSY...).
write_errno() {
	local msg
	msg=$( { echo "$2" >"$1"; } 2>&1 ) || true
	errno_name "$msg"
}

# read_errno FILE: prints OK or the errno's name of `cat FILE`.
read_errno() {
	local msg
	msg=$( { cat "$1" >/dev/null; } 2>&1 ) || true
	errno_name "$msg"
}

expect_eq() { # expect_eq WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
