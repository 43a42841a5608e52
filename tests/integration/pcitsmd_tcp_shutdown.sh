#!/bin/bash
# A client's SHUTDOWN to a pcitsmd device port ends that client's connection only: the port keeps
# serving (the platform outlives its clients; `pcitsm emulate`, by contrast, exits on SHUTDOWN).
# 50 rounds of connect, authenticate, SHUTDOWN, close, each bounded by a timeout (the port once
# stopped serving after the first SHUTDOWN and the next client hung); the mirror still works.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --device-port 0000:01:00.0=127.0.0.1:0
port=$(sed -n 's/^tcp_port=0000:01:00.0=//p' "$mnt/pcitsm/platform")
[ -n "$port" ] && [ "$port" != 0 ] || fail "no bound port in pcitsm/platform"

for i in $(seq 50); do
	timeout 20 pcitsm auth "tcp:127.0.0.1:$port" --no-challenge --shutdown --timeout 5 \
		>"$tmp/a.txt" 2>&1 || { cat "$tmp/a.txt"; fail "round $i: auth --shutdown"; }
	grep -q '^result: *authenticated' "$tmp/a.txt" || { cat "$tmp/a.txt"; fail "round $i: result"; }
done
# The daemon and its mirror are still there, and so is the device's state.
pcitsmd_mounted || fail "pcitsmd gone after SHUTDOWNs"
echo tsm0 >"$mnt/bus/pci/devices/0000:01:00.0/tsm/connect" || fail "connect after SHUTDOWNs"
echo tsm0 >"$mnt/bus/pci/devices/0000:01:00.0/tsm/disconnect" || fail "disconnect"
pcitsmd_unmount
echo "pcitsmd_tcp_shutdown: all checks passed"
