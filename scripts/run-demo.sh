#!/bin/bash
# The main job on the embedded emulated platform (called by `make run`): inventory, SPDM
# authentication of every endpoint through its DOE mailbox, evidence with a pcap capture, and the
# same device served over TCP in the DMTF spdm-emu protocol. Each step prints its time.
set -euo pipefail
builddir=${1:-build}
pcitsm="$builddir/pcitsm"
out="$builddir/run"
rm -rf "$out"
mkdir -p "$out"

step_start=0
step() {
	printf '\n\033[1m== %s\033[0m\n' "$*"
	step_start=$(date +%s%N)
}
done_step() {
	local ns=$(( $(date +%s%N) - step_start ))
	printf -- '-- %d.%03d ms\n' $((ns / 1000000)) $(((ns / 1000) % 1000))
}

step "pcitsm list --platform emu: the emulated host bridge, root ports and TEE-IO endpoints"
"$pcitsm" list --platform emu
done_step

for ep in 0000:01:00.0 0000:02:00.0; do
	step "pcitsm auth $ep --platform emu: SPDM over the endpoint's DOE mailbox (config space)"
	"$pcitsm" auth "$ep" --platform emu
	done_step
done

step "pcitsm evidence 0000:01:00.0 --platform emu --pcap: chain, measurements, VCA transcript"
"$pcitsm" evidence 0000:01:00.0 --platform emu --out "$out/evidence" --pcap "$out/auth.pcap"
ls -l "$out/evidence" "$out/auth.pcap"
done_step

step "pcitsm emulate + pcitsm auth tcp:: the same device in the spdm-emu TCP protocol"
"$pcitsm" emulate --listen 127.0.0.1:0 --trust-out "$out/root.pem" >"$out/emulate.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	grep -q '^listening on' "$out/emulate.log" 2>/dev/null && break
	sleep 0.05
done
addr=$(sed -n 's/^listening on //p' "$out/emulate.log")
"$pcitsm" auth "tcp:$addr" --trust "$out/root.pem" --shutdown
wait $server || true
trap - EXIT
cat "$out/emulate.log"
done_step

printf '\nAll steps done. Outputs in %s\n' "$out"
