#!/usr/bin/env bash
# The hostile requester over sockets (docs/security.md "Campaigns against our requester and
# responders"): mutated spdm-emu frames (tests/integration/lib/hostile_frames.py, corpus: the
# requests of a clean connect) against `pcitsm emulate --listen`, then `pcitsm connect` over TCP
# must still succeed; against pcitsmd's TCP device port, then connect + lock + accept through the
# mirror must still succeed. Each server's RSS before and after is printed and bounded.
# PCITSM_CAMPAIGN_FRAMES frames per server (default 1000).
set -euo pipefail

. "$(dirname "$0")/lib/emulate.bash"
frames=${PCITSM_CAMPAIGN_FRAMES:-1000}
hostile="$(dirname "$0")/lib/hostile_frames.py"
rss_bound_kb=4096

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

# 1. pcitsm emulate: a clean connect captured (the corpus), the campaign, a clean connect again.
emulate_start --trust-out "$work/root.pem" --pcap "$work/corpus.pcap"
pid=$(pgrep -P "$srv_pid" pcitsm) || fail "no pcitsm under timeout"
tgt="tcp:127.0.0.1:$port"
timeout 60 pcitsm connect "$tgt" --trust "$work/root.pem" >"$work/c1.out" 2>"$work/c1.err" ||
	fail "clean connect"
r0=$(rss_kb "$pid")
timeout 600 python3 "$hostile" 127.0.0.1 "$port" "$work/corpus.pcap" "$frames" 1 \
	>"$work/h1.out" || fail "hostile frames (emulate)"
r1=$(rss_kb "$pid")
kill -0 "$pid" || fail "pcitsm emulate died"
timeout 60 pcitsm connect "$tgt" --trust "$work/root.pem" >"$work/c2.out" 2>"$work/c2.err" ||
	fail "connect after the campaign"
grep -q 'connected: Stream ID 0, key set K0' "$work/c2.out" || fail "not connected after it"
echo "emulate: $(cat "$work/h1.out"); RSS ${r0} kB -> ${r1} kB"
[ "$r1" -le $((r0 + rss_bound_kb)) ] || fail "emulate RSS grew from $r0 to $r1 kB"
timeout 60 pcitsm auth "$tgt" --trust "$work/root.pem" --shutdown >/dev/null 2>&1 || true
emulate_wait_exit

# 2. pcitsmd's device port, then the whole flow through the mirror (its library's exit trap
# replaces emulate's: the corpus goes with $tmp).
. "$(dirname "$0")/lib/pcitsmd.bash"
cp "$work/corpus.pcap" "$tmp/corpus.pcap"
rm -rf "$work"
work="$tmp"
pcitsmd_mount --device-port 0000:01:00.0=127.0.0.1:0
dport=$(sed -n 's/^tcp_port=0000:01:00.0=//p' "$mnt/pcitsm/platform")
[ -n "$dport" ] && [ "$dport" != 0 ] || fail "no device port"
r0=$(rss_kb "$pcitsmd_pid")
timeout 600 python3 "$hostile" 127.0.0.1 "$dport" "$work/corpus.pcap" "$frames" 2 \
	>"$work/h2.out" || fail "hostile frames (pcitsmd)"
r1=$(rss_kb "$pcitsmd_pid")
P="$mnt/bus/pci/devices/0000:01:00.0"
V="$mnt/bus/pci/devices/0000:01:00.1"
echo tsm0 >"$P/tsm/connect" || fail "connect through the mirror after the campaign"
echo tsm1 >"$V/tsm/lock" || fail "lock after the campaign"
cat "$mnt/pcitsm/devices/0000:01:00.1/evidence/report" >/dev/null || fail "evidence"
echo 1 >"$V/tsm/accept" || fail "accept after the campaign"
[ "$(cat "$V/tsm/accept")" = 1 ] || fail "not accepted"
echo tsm1 >"$V/tsm/unlock" || fail "unlock"
echo tsm0 >"$P/tsm/disconnect" || fail "disconnect"
echo "pcitsmd: $(cat "$work/h2.out"); RSS ${r0} kB -> ${r1} kB"
[ "$r1" -le $((r0 + rss_bound_kb)) ] || fail "pcitsmd RSS grew from $r0 to $r1 kB"
pcitsmd_unmount
echo "campaign_tcp: all checks passed"
