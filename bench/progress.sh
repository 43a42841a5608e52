#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest's bench/progress: a benchmark shows a progress line on stderr when stderr is a terminal,
# and clears it at the end; with stderr not a terminal it writes nothing there (bench.h).
# The terminal is a pty from script(1) (util-linux). Usage: progress.sh PCITSM
pcitsm=$1
if ! command -v script >/dev/null 2>&1; then
	echo "script(1) not installed: no pty to test the progress line on"
	exit 77
fi
log=$(mktemp)
err=$(mktemp)
trap 'rm -f "$log" "$err"' EXIT
# On a pty: the line "pcitsm bench spdm [k/4] ..." drawn, then erased (CR, ESC [ K) at the end.
script -qec "$pcitsm bench spdm --seconds 0.05 --curve p256" /dev/null >"$log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	cat "$log"
	echo "bench spdm on a pty: exit $rc" >&2
	exit 1
fi
if ! grep -aq 'pcitsm bench spdm \[4/4\]' "$log"; then
	cat -v "$log"
	echo "no progress line on a terminal" >&2
	exit 1
fi
# The last thing on the terminal before the figures' end is the erase sequence, once per line
# drawn: the line does not stay behind.
if [ "$(grep -ac "$(printf '\033\\[K')" "$log")" -lt 1 ]; then
	cat -v "$log"
	echo "the progress line is never cleared" >&2
	exit 1
fi
# With --json on a pty: stdout is still one JSON document once the progress (stderr) is removed.
script -qec "$pcitsm bench spdm --seconds 0.05 --curve p256 --json 2>/dev/null" /dev/null \
	>"$log" 2>&1 || exit 1
tr -d '\r' <"$log" | python3 -c 'import json, sys; json.load(sys.stdin)' ||
	{ echo "--json output on a pty is not JSON" >&2; exit 1; }
# Not a terminal: nothing on stderr.
"$pcitsm" bench spdm --seconds 0.05 --curve p256 >/dev/null 2>"$err" || exit 1
if [ -s "$err" ]; then
	cat -v "$err"
	echo "stderr is not a terminal, yet the benchmark wrote to it" >&2
	exit 1
fi
echo "progress: shown and cleared on a terminal, nothing on a pipe"
