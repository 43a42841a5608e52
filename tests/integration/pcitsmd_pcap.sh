#!/bin/bash
# The capture of `pcitsm connect tcp:HOST:PORT --pcap` against a pcitsmd device port (SPDM,
# session, IDE_KM) opens in the field's decoder: snaplen 65536, link type 292, whole packets
# (lib/pcap_check.py; the other commands' captures: pcap_snaplen.sh). Exits 77 only without FUSE.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
checker="$(cd "$(dirname "$0")" && pwd)/lib/pcap_check.py"

pcitsmd_mount --ports 1 --device-port 0000:01:00.0=127.0.0.1:0
p1=$(sed -n 's/^tcp_port=0000:01:00.0=//p' "$mnt/pcitsm/platform")
pcitsm connect "tcp:127.0.0.1:$p1" --stream-id 3 --device 0000:01:00.0 --sysfs "$mnt" \
	--pcap "$tmp/connect.pcap" >"$tmp/c.txt" 2>&1 ||
	{ cat "$tmp/c.txt"; fail "connect tcp --pcap"; }
python3 "$checker" "$tmp/connect.pcap" 30 || fail "connect capture"
pcitsmd_unmount
echo "pcitsmd_pcap: 1 passed, 0 failed"
