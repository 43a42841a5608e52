#!/usr/bin/env bash
# `pcitsm emulate` under 500 concurrent clients (docs/security.md, "Socket servers under load"):
# slow loris, silent connections, oversized frames and well-behaved clients at once, against a
# server limited to 256 connections, 2 s a frame and 5 s of idleness. Every well-behaved client
# gets its VERSION within 15 s, every hostile one is closed within its timeout (+2 s), three
# `pcitsm auth` runs during the load authenticate the device, and the server's resident memory
# stays within 64 MiB of where it started. The figures are printed (and kept in
# docs/security.md). Loopback only; the whole test is bounded by timeouts well under 60 s.
set -euo pipefail

. "$(dirname "$0")/lib/emulate.bash"

command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
[ "$(ulimit -n)" -ge 1200 ] || ulimit -n 1200 2>/dev/null ||
	{ echo "SKIP: fewer than 1200 file descriptors (ulimit -n)"; exit 77; }

rss_kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

emulate_start --trust-out "$work/root.pem" --max-conns 256 --frame-timeout 2 --idle-timeout 5
tgt="tcp:127.0.0.1:$port"
# Warm up: one authentication, so the "before" figure includes what a served client costs.
timeout 30 pcitsm auth "$tgt" --trust "$work/root.pem" >"$work/warm.out" 2>"$work/warm.err" ||
	fail "auth before the load"
# $srv_pid is timeout(1); the server is its child.
pid=$(cat "/proc/$srv_pid/task/$srv_pid/children" | awk '{ print $1 }')
[ -n "$pid" ] && grep -q pcitsm "/proc/$pid/comm" || fail "cannot find the server's process"
rss0=$(rss_kib "$pid" VmRSS)

start=$(date +%s.%N)
timeout 50 python3 "$(dirname "$0")/emulate_load.py" "$port" 2 5 15 >"$work/load.out" \
	2>"$work/load.err" &
load_pid=$!
sleep 0.5
# An auth whose connection the full server refused tries again, as the load's clients do, for
# at most 20 s; the attempts are counted.
auth_retry() {
	local t0=$SECONDS n=0
	while [ $((SECONDS - t0)) -lt 20 ]; do
		n=$((n + 1))
		if timeout 20 pcitsm auth "$tgt" --trust "$work/root.pem" >"$work/auth$1.out" \
			2>"$work/auth$1.err"; then
			echo "$n" >"$work/auth$1.tries"
			return 0
		fi
		grep -qi 'closed\|refused\|reset' "$work/auth$1.err" || return 1
		sleep 0.1
	done
	return 1
}
for i in 1 2 3; do
	auth_retry "$i" &
	eval "auth_pid$i=$!"
done
for i in 1 2 3; do
	pid_var="auth_pid$i"
	wait "${!pid_var}" || fail "auth $i during the load"
done
tries="$(cat "$work/auth1.tries") $(cat "$work/auth2.tries") $(cat "$work/auth3.tries")"
auth_end=$(date +%s.%N)
wait "$load_pid" || fail "load: $(cat "$work/load.out")"
end=$(date +%s.%N)
rss1=$(rss_kib "$pid" VmRSS)
hwm=$(rss_kib "$pid" VmHWM)

kill -0 "$srv_pid" 2>/dev/null || fail "the server died under the load"
echo "emulate_load: $(cat "$work/load.out")"
awk -v t="$tries" -v s="$start" -v a="$auth_end" -v e="$end" -v r0="$rss0" -v r1="$rss1" -v h="$hwm" 'BEGIN {
	printf "emulate_load: 3 auth runs (attempts: %s) done %.1f s into the load; test %.1f s; server RSS %d KiB before, %d KiB after, peak %d KiB\n", t, a - s, e - s, r0, r1, h }'
# Under AddressSanitizer freed memory stays in its quarantine: the memory bounds mean nothing there
# (the timing bounds above still hold).
if grep -q __asan_init "$(command -v pcitsm)"; then
	echo "emulate_load: AddressSanitizer build: RSS bounds not checked"
else
	[ $((hwm - rss0)) -le $((64 * 1024)) ] || fail "server peak RSS grew by $((hwm - rss0)) KiB"
	[ $((rss1 - rss0)) -le $((16 * 1024)) ] || fail "server RSS grew by $((rss1 - rss0)) KiB"
fi
# The server is still serving after the load.
timeout 30 pcitsm auth "$tgt" --trust "$work/root.pem" --shutdown >"$work/last.out" \
	2>"$work/last.err" || fail "auth after the load"
emulate_wait_exit
grep 'server stopped' "$work/emulate.out"
