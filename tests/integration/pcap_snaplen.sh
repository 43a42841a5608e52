#!/usr/bin/env bash
# Every kind of capture pcitsm writes opens in the field's decoder: the global header of the
# captures of `emulate --pcap` (device side), `auth --pcap` and `evidence --pcap` has magic
# a1b2c3d4, version 2.4, snaplen 65536 (libspdm's spdm_dump refuses a larger one) and link type
# 292 (LINKTYPE_PCI_DOE); every packet has caplen <= 65536 and, for these small objects,
# caplen == len (lib/pcap_check.py). `connect tcp:... --pcap`: pcitsmd_pcap.sh, same checker.
set -euo pipefail
. "$(dirname "$0")/lib/emulate.bash"
checker="$(cd "$(dirname "$0")" && pwd)/lib/pcap_check.py"

check() { # check FILE MIN_PACKETS
	python3 "$checker" "$1" "$2" || fail "$1: pcap header or packets"
}

emulate_start --trust-out "$work/root.pem" --pcap "$work/emulate.pcap"
tgt="tcp:127.0.0.1:$port"
timeout 60 pcitsm auth "$tgt" --trust "$work/root.pem" --pcap "$work/auth.pcap" \
	>"$work/auth.out" 2>"$work/auth.err" || fail "auth --pcap"
check "$work/auth.pcap" 8
timeout 60 pcitsm evidence "$tgt" --trust "$work/root.pem" --out "$work/ev" \
	--pcap "$work/evidence.pcap" >"$work/evidence.out" 2>"$work/evidence.err" ||
	fail "evidence --pcap"
check "$work/evidence.pcap" 8
timeout 60 pcitsm auth "$tgt" --trust "$work/root.pem" --shutdown >"$work/shut.out" \
	2>"$work/shut.err" || fail "auth --shutdown"
emulate_wait_exit
check "$work/emulate.pcap" 24
echo "pcap_snaplen: 1 passed, 0 failed"
