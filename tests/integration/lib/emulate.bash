# Shared by tests/integration/spdm_*.sh: a scratch directory $work, removed on exit, and a
# `pcitsm emulate` server in the background, always killed on exit, even when a check fails.
# Source it; then `emulate_start [pcitsm emulate OPTIONS]` sets $srv_pid and $port.

work=$(mktemp -d)
srv_pid=""
port=""
# Under make test-valgrind every program runs 20 to 50 times slower: the waits below scale.
slow=1
[ -n "${PCITSM_VALGRIND:-}" ] && slow=30

emulate_cleanup() {
	if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then
		kill "$srv_pid" 2>/dev/null || true
		wait "$srv_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap emulate_cleanup EXIT
trap 'exit 1' INT TERM

# Print the reason and every non-empty output kept in $work, then exit 1.
fail() {
	echo "FAIL: $*" >&2
	for f in "$work"/*.out "$work"/*.err; do
		[ -s "$f" ] && { echo "--- $f"; cat "$f"; } >&2
	done
	exit 1
}

# Start `pcitsm emulate` on 127.0.0.1 port 0 (the kernel picks a free port) and read the port it
# prints. Output goes to $work/emulate.out and .err.
emulate_start() {
	# Created here, not by the background job's redirection: a loaded machine may start the job
	# after the first read below (which, under set -e, would end the script silently).
	: >"$work/emulate.out"
	: >"$work/emulate.err"
	timeout $((120 * slow)) pcitsm emulate --listen 127.0.0.1:0 "$@" >"$work/emulate.out" \
		2>"$work/emulate.err" &
	srv_pid=$!
	port=""
	for _ in $(seq $((100 * slow))); do
		port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/emulate.out")
		[ -n "$port" ] && return 0
		kill -0 "$srv_pid" 2>/dev/null || fail "emulate exited early"
		sleep 0.1
	done
	fail "emulate did not report its port"
}

# The server must exit by itself (a client's SHUTDOWN) within a few seconds, with status 0.
emulate_wait_exit() {
	for _ in $(seq $((50 * slow))); do
		if ! kill -0 "$srv_pid" 2>/dev/null; then
			wait "$srv_pid" || fail "emulate exited with status $?"
			srv_pid=""
			return 0
		fi
		sleep 0.1
	done
	fail "server still running after SHUTDOWN"
}
