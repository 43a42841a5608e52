# Shared by tests/integration/pcitsmd_*.sh: mount pcitsmd's mirror in a temporary directory, and
# always unmount it (trap), even when a check fails. Source it; then `pcitsmd_mount [OPTIONS]`.
# Sets $tmp, $mnt, $pcitsmd_pid. Exits 77 (skipped) only when /dev/fuse is unusable.

tmp=$(mktemp -d)
mnt="$tmp/sys"
pcitsmd_pid=

pcitsmd_cleanup() {
	if [ -n "$pcitsmd_pid" ] && kill -0 "$pcitsmd_pid" 2>/dev/null; then
		kill -TERM "$pcitsmd_pid" 2>/dev/null || true
		wait "$pcitsmd_pid" 2>/dev/null || true
	fi
	if mountpoint -q "$mnt" 2>/dev/null; then
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
	read -r -t 60 line <"$tmp/ready" || true
	[ "$line" = READY ] || fail "pcitsmd did not become ready"
}

pcitsmd_unmount() {
	kill -TERM "$pcitsmd_pid"
	wait "$pcitsmd_pid" || fail "pcitsmd exited with $? after SIGTERM"
	pcitsmd_pid=
	! mountpoint -q "$mnt" || fail "still mounted after SIGTERM"
}

# write_errno FILE VALUE: one write(2) of "VALUE\n", as `echo VALUE > FILE`; prints OK or the
# errno's name (EBUSY...).
write_errno() {
	python3 - "$1" "$2" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, (sys.argv[2] + "\n").encode())
    finally:
        os.close(fd)
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

# read_errno FILE: prints OK or the errno's name of reading it.
read_errno() {
	python3 - "$1" <<'PY'
import errno, sys
try:
    open(sys.argv[1], "rb").read()
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

expect_eq() { # expect_eq WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
