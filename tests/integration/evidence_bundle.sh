#!/bin/bash
# Evidence a remote verifier checks offline (docs/evidence.md), on the emulated platform: a locked
# TDI's `pcitsm evidence --bundle --eat --nonce` -- the TSM's signed exchange with the verifier's
# nonce over its own session, no SPDM from the host, so the TDI stays CONFIG_LOCKED and the stream
# Secure -- verifies with `pcitsm verify` against the identity's root, the verifier's nonce and
# the policy `policy make` pins, from a copy in another directory (nothing of the mirror is read);
# a wrong anchor, another nonce, a tampered policy, bundle or token fail naming the check; without
# --nonce a random one is printed and verifies; the mirror's evidence/nonce refuses bad formats;
# the embedded platform (no mirror) gives a bundle with no report that verifies too.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
. "$(dirname "$0")/lib/tdisp.bash"

ids="$PCITSM_SRC/tests/data/identity"
bdf=0000:01:00.0
nonce=$(python3 -c 'print("a5" * 32)')
tdisp_setup "$bdf" --identity "$ids/p384"
pcitsm lock "$bdf" --sysfs "$mnt" >/dev/null || fail "lock"
pcitsm policy make "$bdf" --sysfs "$mnt" -o "$tmp/p.json" >/dev/null || fail "policy make"
# Files of a connected device come from the TSM (no host SPDM run, which would end the TSM's
# session): the report beside the chain, VCA and signed measurements, and the TDI stays locked
# with its stream Secure.
pcitsm evidence "$bdf" --sysfs "$mnt" --out "$tmp/files" >"$tmp/files.out" 2>&1 ||
	{ cat "$tmp/files.out"; fail "evidence --out on a connected device"; }
grep -q "connected to tsm0: the TSM's evidence" "$tmp/files.out" || { cat "$tmp/files.out"; fail "source"; }
for f in chain.spdm chain.der chain.pem vca.bin measurements.bin report.bin report_digest; do
	[ -s "$tmp/files/$f" ] || fail "evidence --out: no $f"
done
cmp "$tmp/files/measurements.bin" "$mnt/pcitsm/devices/$bdf/evidence/measurements" ||
	fail "measurements.bin is not the TSM's signed response"
openssl x509 -in "$tmp/files/chain.pem" -noout || fail "chain.pem"
[ "$(tdi_state "$bdf")" = CONFIG_LOCKED ] || fail "evidence --out moved the TDI to $(tdi_state "$bdf")"
pcitsm status "$bdf" --sysfs "$mnt" | grep "endpoint.*Secure" >/dev/null ||
	fail "evidence --out took the stream out of Secure"
sid_before=$(grep '^session_id=' "$mnt/pcitsm/devices/$bdf/status")
pcitsm evidence "$bdf" --sysfs "$mnt" --trust "$ids/p384/root.pem" --bundle "$tmp/ev.bin" \
	--eat "$tmp/ev.cbor" --nonce "$nonce" >"$tmp/evidence.out" 2>&1 ||
	{ cat "$tmp/evidence.out"; fail "evidence --bundle"; }
# The TSM's signed exchange, with the verifier's nonce: nothing of the connection moved.
grep -q "connected to tsm0: the TSM's evidence" "$tmp/evidence.out" ||
	{ cat "$tmp/evidence.out"; fail "bundle: not the TSM's"; }
[ "$(tdi_state "$bdf")" = CONFIG_LOCKED ] || fail "evidence --bundle moved the TDI to $(tdi_state "$bdf")"
pcitsm status "$bdf" --sysfs "$mnt" | grep "endpoint.*Secure" >/dev/null ||
	fail "evidence --bundle took the stream out of Secure"
sid_after=$(grep '^session_id=' "$mnt/pcitsm/devices/$bdf/status")
[ "$sid_before" = "$sid_after" ] || fail "the TSM's session changed ($sid_before -> $sid_after)"
[ "$(cat "$mnt/pcitsm/devices/$bdf/evidence/nonce")" = "$nonce" ] ||
	fail "the mirror's evidence/nonce is not the verifier's"
# The relay's mirror file takes exactly 64 hex digits, and only on a connected device.
for bad in "zz${nonce:2}" "${nonce:2}" "${nonce}a5" "" "${nonce:0:10} ${nonce:11}"; do
	if printf '%s\n' "$bad" >"$mnt/pcitsm/devices/$bdf/evidence/nonce" 2>/dev/null; then
		fail "evidence/nonce took '$bad'"
	fi
done
[ "$(cat "$mnt/pcitsm/devices/$bdf/evidence/nonce")" = "$nonce" ] || fail "a refused write changed the nonce"
[ ! -e "$mnt/pcitsm/devices/0000:02:00.0/evidence/nonce" ] || fail "evidence/nonce of a device not connected"
# No --nonce: a random one, printed, in the bundle.
pcitsm evidence "$bdf" --sysfs "$mnt" --bundle "$tmp/rnd.bin" >"$tmp/rnd.out" 2>&1 ||
	{ cat "$tmp/rnd.out"; fail "evidence --bundle without --nonce"; }
rnd=$(sed -n 's/^  nonce \([0-9a-f]\{64\}\) (random.*/\1/p' "$tmp/rnd.out")
[ -n "$rnd" ] || { cat "$tmp/rnd.out"; fail "no random nonce printed"; }
[ "$rnd" != "$nonce" ] || fail "the random nonce is the previous one"
# Files with --nonce: the TSM's exchange with it too.
pcitsm evidence "$bdf" --sysfs "$mnt" --out "$tmp/files2" --nonce "${nonce:0:62}00" >"$tmp/f2.out" 2>&1 ||
	{ cat "$tmp/f2.out"; fail "evidence --out --nonce"; }
[ "$(cat "$mnt/pcitsm/devices/$bdf/evidence/nonce")" = "${nonce:0:62}00" ] || fail "--out --nonce: no refresh"
cmp "$tmp/files2/measurements.bin" "$mnt/pcitsm/devices/$bdf/evidence/measurements" >/dev/null ||
	fail "--out --nonce: measurements.bin is not the refreshed response"

# The remote side: only the files, the anchor and the policy.
remote="$tmp/remote"
mkdir "$remote"
cp "$tmp/ev.bin" "$tmp/ev.cbor" "$tmp/p.json" "$ids/p384/root.pem" "$remote/"
verify_ok() { # verify_ok ARGS...
	(cd "$remote" && pcitsm verify "$@" --trust root.pem --policy p.json --nonce "$nonce") \
		>"$tmp/v.out" 2>&1 || { cat "$tmp/v.out"; fail "verify $* refused"; }
}
verify_fails() { # verify_fails CHECK ARGS...
	local check=$1
	shift
	if (cd "$remote" && pcitsm verify "$@") >"$tmp/v.out" 2>&1; then
		fail "verify $* passed"
	fi
	grep -q "verify .*: $check: " "$tmp/v.out" || { cat "$tmp/v.out"; fail "verify $* did not name $check"; }
}
verify_ok ev.bin
grep -q "report-policy  ok" "$tmp/v.out" || { cat "$tmp/v.out"; fail "report not judged"; }
cp "$tmp/rnd.bin" "$remote/"
(cd "$remote" && pcitsm verify rnd.bin --trust root.pem --nonce "$rnd") >"$tmp/v.out" 2>&1 ||
	{ cat "$tmp/v.out"; fail "verify of the random-nonce bundle"; }
verify_fails nonce rnd.bin --trust root.pem --nonce "$nonce"
verify_ok --eat ev.cbor
(cd "$remote" && pcitsm verify ev.bin --trust root.pem --policy p.json --nonce "$nonce" --json) |
	python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["ok"] and j["nonce_pinned"] and all(v == "passed" for k, v in j["checks"].items() if k != "claims"), j'

other=$(python3 -c 'print("a5" * 31 + "a4")')
verify_fails chain ev.bin --trust "$ids/p256/root.pem" --nonce "$nonce"
verify_fails nonce ev.bin --trust root.pem --nonce "$other"
verify_fails nonce --eat ev.cbor --trust root.pem --nonce "$other"
if out=$(cd "$remote" && pcitsm verify ev.bin --trust root.pem --nonce "$other" --json 2>/dev/null); then
	fail "verify --json with another nonce passed"
fi
printf '%s' "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin); assert not j["ok"] and j["failed"] == "nonce" and j["checks"]["signature"] == "not run", j'
python3 - "$remote/p.json" "$remote/pm.json" "$remote/pi.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
m = json.loads(json.dumps(p)); d = m["measurements"][0]["digest"]
m["measurements"][0]["digest"] = ("0" if d[0] != "0" else "1") + d[1:]
json.dump(m, open(sys.argv[2], "w"))
i = json.loads(json.dumps(p)); i["interface_info"] = sorted(set(i["interface_info"]) | {"PRS"})
json.dump(i, open(sys.argv[3], "w"))
PY
verify_fails measurements ev.bin --trust root.pem --policy pm.json
verify_fails report-policy --eat ev.cbor --trust root.pem --policy pi.json

flip() { # flip IN OUT OFFSET-FROM-END
	python3 - "$remote/$1" "$remote/$2" "$3" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) - int(sys.argv[3])] ^= 1
open(sys.argv[2], "wb").write(b)
PY
}
# The bundle ends with the report digest (field 8): its last byte.
flip ev.bin digest.bin 1
verify_fails report-digest digest.bin --trust root.pem
head -c 100 "$remote/ev.bin" >"$remote/short.bin"
verify_fails format short.bin --trust root.pem
{ cat "$remote/ev.bin"; printf 'x'; } >"$remote/long.bin"
verify_fails format long.bin --trust root.pem
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[8] = 2; open(sys.argv[2], "wb").write(b)' \
	"$remote/ev.bin" "$remote/v2.bin"
verify_fails format v2.bin --trust root.pem
grep -q "version 2" "$tmp/v.out" || fail "bad version not named"
verify_fails format --eat ev.bin --trust root.pem

# No mirror: the embedded platform, no report; its own root from the chain it shows.
pcitsm evidence "$bdf" --platform emu --out "$tmp/emu" --bundle "$tmp/emu.bin" --nonce "$nonce" \
	>/dev/null 2>&1 || fail "evidence --platform emu"
python3 - "$tmp/emu/chain.pem" "$tmp/emu-root.pem" <<'PY'
import re, sys
c = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", open(sys.argv[1]).read(), re.S)
open(sys.argv[2], "w").write(c[0] + "\n")
PY
pcitsm verify "$tmp/emu.bin" --trust "$tmp/emu-root.pem" --nonce "$nonce" >/dev/null ||
	fail "verify of the embedded platform's bundle"
echo "evidence_bundle: TSM bundle (nonce $nonce, $sid_after kept, TDI CONFIG_LOCKED, stream Secure), random nonce $rnd; bundle and EAT verified remotely; chain, nonce, measurements, report digest, report policy and format failures named"
