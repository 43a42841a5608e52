#!/bin/bash
# pcitsmd serves its endpoints in the DMTF spdm-emu protocol: --device-port BDF=HOST:0 (the bound
# port is in the project directory's platform file) and --port-base; `pcitsm auth tcp:` against
# them, while the mirror stays usable (connect over the kernel ABI in between).
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --device-port 0000:01:00.0=127.0.0.1:0 --device-port 0000:02:00.0=127.0.0.1:0
port=$(sed -n 's/^tcp_port=0000:01:00.0=//p' "$mnt/pcitsm/platform")
port2=$(sed -n 's/^tcp_port=0000:02:00.0=//p' "$mnt/pcitsm/platform")
[ -n "$port" ] && [ "$port" != 0 ] && [ -n "$port2" ] || fail "no bound port in pcitsm/platform"
grep -q "0000:01:00.0 served in the spdm-emu protocol on port $port" "$tmp/pcitsmd.log" ||
	fail "the foreground banner does not name the port"

pcitsm auth "tcp:127.0.0.1:$port" >"$tmp/a1.txt" || { cat "$tmp/a1.txt"; fail "auth over TCP"; }
grep -q '^result: *authenticated' "$tmp/a1.txt" || fail "auth result"
grep -q 'emulated endpoint 0000:01:00.0' "$tmp/a1.txt" || fail "the chain is not endpoint 1's"
# The kernel ABI keeps working beside the TCP port.
echo tsm0 >"$mnt/bus/pci/devices/0000:02:00.0/tsm/connect" || fail "connect beside TCP"
pcitsm auth "tcp:127.0.0.1:$port2" >"$tmp/a2.txt" || { cat "$tmp/a2.txt"; fail "auth over TCP, second"; }
grep -q 'emulated endpoint 0000:02:00.0' "$tmp/a2.txt" || fail "the chain is not endpoint 2's"
echo tsm0 >"$mnt/bus/pci/devices/0000:02:00.0/tsm/disconnect" || fail "disconnect beside TCP"
pcitsmd_unmount

# --port-base: endpoint i on base + i (a random base below the ephemeral range).
base=$((20000 + RANDOM % 12000))
pcitsmd_mount --port-base "$base"
grep -q "^tcp_port=0000:02:00.0=$((base + 1))\$" "$mnt/pcitsm/platform" || fail "--port-base layout"
pcitsm auth "tcp:127.0.0.1:$((base + 1))" --no-challenge >/dev/null || fail "auth on base+1"
pcitsmd_unmount
echo "pcitsmd_tcp: all checks passed"
