#!/usr/bin/env bash
# `pcitsm emulate` serves the same device as pcitsmd's endpoints (SPDM and IDE_KM), so
# `pcitsm connect tcp:HOST:PORT` runs end to end against it: authentication, session, IDE_KM QUERY,
# six KEY_PROGs, K_SET_GO, then K_SET_STOP and END_SESSION; again on the same server (device state
# carries over). --version pins the SPDM version; --stream-id is the Stream ID the device's owner
# wrote; every DOE response in the server's capture is at most 4608 bytes (--max-doe-response
# raises it). A client's SHUTDOWN ends `pcitsm emulate`; then `auth` says "connection refused".
set -euo pipefail

. "$(dirname "$0")/lib/emulate.bash"

run() { timeout $((60 * slow)) pcitsm "$@"; }

# Usage errors exit 2.
for bad in "--version 1.4" "--version 2" "--stream-id 255" "--stream-id x" \
	"--max-conns 0" "--max-conns 5000" "--frame-timeout 0" "--idle-timeout x" \
	"--max-doe-response 100" "--max-doe-response 4610" "--max-doe-response 2000000"; do
	set +e
	# shellcheck disable=SC2086
	timeout $((5 * slow)) pcitsm emulate --listen 127.0.0.1:0 $bad >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "emulate $bad: exit $rc, want 2"
done

# 1. connect end to end, twice, with the server capturing every DOE object.
emulate_start --trust-out "$work/root.pem" --pcap "$work/server.pcap"
grep -q 'IDE_KM, Stream ID 0' "$work/emulate.out" || fail "banner does not name IDE_KM"
tgt="tcp:127.0.0.1:$port"
for i in 1 2; do
	run connect "$tgt" --trust "$work/root.pem" >"$work/connect$i.out" 2>"$work/connect$i.err" ||
		fail "connect $tgt (run $i)"
	for step in transport spdm_auth session ide_query stream_setup key_prog k_set_go enable \
		disable k_set_stop end_session; do
		grep -q "^  $step *ok" "$work/connect$i.out" || fail "run $i: step $step not ok"
	done
	grep -q 'chain trusted' "$work/connect$i.out" || fail "run $i: chain not trusted"
	grep -q 'connected: Stream ID 0, key set K0' "$work/connect$i.out" || fail "run $i: not connected"
done
# A Stream ID the device's owner did not write: KEY_PROG refused (status 3), session still ended.
if run connect "$tgt" --stream-id 5 >"$work/sid.out" 2>"$work/sid.err"; then
	fail "connect with a Stream ID the device does not have"
fi
grep -q 'step key_prog failed.*KP_ACK status 3' "$work/sid.err" || fail "stream 5: no KP_ACK status 3"
grep -q '^  end_session *ok' "$work/sid.out" || fail "stream 5: no END_SESSION"
run auth "$tgt" --trust "$work/root.pem" --shutdown >"$work/auth.out" 2>"$work/auth.err" ||
	fail "auth --shutdown"
emulate_wait_exit
grep -q 'server stopped' "$work/emulate.out" || fail "no server summary"

# Every DOE response (objects alternate: request, response) is at most 4608 bytes.
python3 - "$work/server.pcap" 4608 <<'PY' || fail "a DOE response is larger than 4608 bytes"
import struct, sys
d = open(sys.argv[1], "rb").read()
bound = int(sys.argv[2])
e = "<" if struct.unpack_from("<I", d, 0)[0] == 0xa1b2c3d4 else ">"
off, k, biggest, n = 24, 0, 0, 0
while off < len(d):
    incl, orig = struct.unpack_from(e + "II", d, off + 8)
    if k % 2:
        biggest = max(biggest, orig)
        n += 1
    off += 16 + incl
    k += 1
assert n >= 40, n
assert biggest <= bound, (biggest, bound)
print("responses", n, "largest", biggest)
PY

# 2. Nobody listens any more: "connection refused", with the address.
set +e
run auth "$tgt" >"$work/refused.out" 2>"$work/refused.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "auth to a closed port: exit $rc, want 1"
grep -q "connect to 127.0.0.1:$port: connection refused" "$work/refused.err" ||
	fail "closed port: no 'connection refused' with the address"

# 3. --version pins the SPDM version; --stream-id and --max-doe-response are honoured.
emulate_start --version 1.2 --stream-id 7 --max-doe-response 8192 --trust-out "$work/root2.pem"
grep -q 'Stream ID 7 .*<= 8192 bytes' "$work/emulate.out" || fail "banner: stream 7, 8192 bytes"
run auth "tcp:127.0.0.1:$port" --trust "$work/root2.pem" --json >"$work/v12.json" 2>"$work/v12.err" ||
	fail "auth of the 1.2 device"
python3 - "$work/v12.json" <<'PY' || fail "--version 1.2 not negotiated"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["authenticated"] is True
assert j["spdm_version"] == "1.2", j["spdm_version"]
PY
run connect "tcp:127.0.0.1:$port" --stream-id 7 --trust "$work/root2.pem" >"$work/c7.out" \
	2>"$work/c7.err" || fail "connect with --stream-id 7"
grep -q 'connected: Stream ID 7' "$work/c7.out" || fail "stream 7 not connected"
run auth "tcp:127.0.0.1:$port" --shutdown >/dev/null 2>&1 || true
emulate_wait_exit

echo "emulate_connect_tcp: all checks passed"
