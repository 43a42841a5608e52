#!/usr/bin/env bash
# SPDM over the spdm-emu TCP protocol, end to end with the built binaries on PATH:
# `pcitsm emulate` serves an emulated device on a free loopback port; `pcitsm auth` and
# `pcitsm evidence` authenticate it over tcp:HOST:PORT; captures carry LINKTYPE_PCI_DOE (292);
# a client's SHUTDOWN stops the server. Every path out kills the background server.
set -euo pipefail

src=${PCITSM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}

# The captures are read back with tshark; without it the test cannot do its job: a visible skip.
if ! command -v tshark >/dev/null; then
	echo "SKIP: tshark not installed (scripts/install-deps.sh installs it)" >&2
	exit 77
fi
. "$(dirname "$0")/lib/emulate.bash"

# The pcap global header: magic a1b2c3d4 (either byte order) and link type 292 at offset 20.
check_pcap() {
	local f=$1 magic lt
	[ -s "$f" ] || fail "$f missing"
	magic=$(od -An -tx4 -N4 "$f" | tr -d ' ')
	case "$magic" in
	a1b2c3d4) lt=$(od -An -tu4 -j20 -N4 "$f" | tr -d ' ') ;;
	d4c3b2a1) lt=$(od -An -tu1 -j20 -N4 "$f" | awk '{print $1*16777216+$2*65536+$3*256+$4}') ;;
	*) fail "$f: not a pcap file (magic $magic)" ;;
	esac
	[ "$lt" = 292 ] || fail "$f: link type $lt, want 292"
	[ "$(stat -c %s "$f")" -gt 100 ] || fail "$f: no packets"
	# tshark (scripts/install-deps.sh), a pcap reader not ours, reads every record back: the same
	# number, of the same lengths, as a walk of the record headers. (Wireshark 4.0 has no DOE
	# dissector for link type 292, so it reads the records without dissecting their bytes.)
	local got want
	got=$(tshark -r "$f" -T fields -e frame.len 2>"$work/tshark.err" | tr '\n' ' ') ||
		fail "tshark cannot read $f: $(cat "$work/tshark.err")"
	want=$(python3 -c 'import struct,sys
b=open(sys.argv[1],"rb").read(); o=24; n=[]
e="<" if b[:4]==b"\xd4\xc3\xb2\xa1" else ">"
while o+16<=len(b):
    cap,orig=struct.unpack(e+"II",b[o+8:o+16]); n.append(str(orig)); o+=16+cap
print(" ".join(n))' "$f")
	[ -n "$want" ] && [ "$got" = "$want " ] ||
		fail "$f: tshark read frame lengths [$got], the file holds [$want]"
}

run() { timeout $((60 * slow)) pcitsm "$@"; }

# Usage errors exit 2.
set +e
run auth >/dev/null 2>&1; [ $? -eq 2 ] || fail "auth without TARGET: want exit 2"
run evidence tcp:127.0.0.1:1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "evidence without --out: want 2"
run emulate >/dev/null 2>&1; [ $? -eq 2 ] || fail "emulate without --listen: want exit 2"
set -e

# 1. A generated identity; its root written with --trust-out; the server captures too.
emulate_start --trust-out "$work/root.pem" --pcap "$work/server.pcap"
tgt="tcp:127.0.0.1:$port"

run auth "$tgt" --trust "$work/root.pem" >"$work/auth.out" 2>"$work/auth.err" ||
	fail "auth with the right trust anchor"
grep -q '^result: *authenticated' "$work/auth.out" || fail "auth output lacks the result"
grep -q '^SPDM version: *1\.[23]' "$work/auth.out" || fail "auth output lacks the version"
grep -q 'trusted' "$work/auth.out" || fail "auth output lacks the validation"

# 2. The wrong trust anchor: failure, naming the certificate problem.
if run auth "$tgt" --trust "$src/tests/data/identity/p256/root.pem" >"$work/wrong.out" \
	2>"$work/wrong.err"; then
	fail "auth with the wrong trust anchor succeeded"
fi
grep -qi 'certificate' "$work/wrong.err" || fail "wrong-anchor failure does not name the reason"

# 3. JSON output.
run auth "$tgt" --trust "$work/root.pem" --json >"$work/auth.json" 2>"$work/json.err" ||
	fail "auth --json"
python3 - "$work/auth.json" <<'PY' || fail "auth --json content"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["authenticated"] is True
assert j["certificate_chain"]["trusted"] is True
assert len(j["certificate_chain"]["certificates"]) >= 2
assert len(j["measurements"]["blocks"]) >= 1
assert j["algorithms"]["base_asym"].startswith("ecdsa")
PY

# 4. Evidence files.
run evidence "$tgt" --trust "$work/root.pem" --out "$work/ev" >"$work/evidence.out" \
	2>"$work/evidence.err" || fail "evidence"
for f in chain.spdm chain.der chain.pem measurements.bin measurements.json vca.bin evidence.json; do
	[ -s "$work/ev/$f" ] || fail "evidence: $f missing or empty"
done
grep -q 'BEGIN CERTIFICATE' "$work/ev/chain.pem" || fail "chain.pem is not PEM"

# 5. A requester-side capture, and SHUTDOWN from the client stops the server.
run auth "$tgt" --trust "$work/root.pem" --pcap "$work/auth.pcap" --shutdown \
	>"$work/pcap.out" 2>"$work/pcap.err" || fail "auth --pcap --shutdown"
check_pcap "$work/auth.pcap"
emulate_wait_exit
check_pcap "$work/server.pcap"

# 6. Nobody listening any more: a clear failure, exit 1.
set +e
run auth "$tgt" >/dev/null 2>"$work/closed.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "auth to a closed port: exit $rc, want 1"
grep -q 'connect' "$work/closed.err" || fail "closed-port failure does not name the step"

# 7. A committed identity directory (P-256) and its root.pem.
emulate_start --identity "$src/tests/data/identity/p256"
run auth "tcp:127.0.0.1:$port" --trust "$src/tests/data/identity/p256/root.pem" --shutdown \
	>"$work/id.out" 2>"$work/id.err" || fail "auth of the p256 identity"
grep -q 'ecdsa-p256' "$work/id.out" || fail "p256 identity not negotiated as ecdsa-p256"
emulate_wait_exit

echo "spdm_tcp: all checks passed"
