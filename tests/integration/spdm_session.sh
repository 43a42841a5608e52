#!/usr/bin/env bash
# SPDM secure sessions end to end with the built binaries on PATH: `pcitsm auth --session` against
# the embedded emulated platform (through the emulated DOE mailbox) and against `pcitsm emulate`
# over the spdm-emu TCP protocol, in text and JSON. Every path out kills the background server.
set -euo pipefail

. "$(dirname "$0")/lib/emulate.bash"

# The JSON session report must say established, a session ID, DSP0277 1.2, a DHE group, an AEAD,
# measurements read inside the session and END_SESSION acknowledged.
check_json() {
	python3 - "$1" <<'PY' || fail "session JSON in $1"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["session"]
assert d["authenticated"] and s["established"] and s["end_session"], s
assert s["session_id"].startswith("0x") and s["dsp0277_version"] == "1.2", s
assert s["dhe"] in ("secp256r1", "secp384r1") and s["aead"].startswith("aes-"), s
assert s["measurements"]["signed"] and len(s["measurements"]["blocks"]) >= 1, s
assert s["digests_in_session"] and s["certificate_in_session"], s
PY
}

# 1. The embedded platform: DOE type 2 objects through the emulated mailbox registers.
pcitsm auth --platform emu 0000:01:00.0 --session >"$work/emu.out" 2>"$work/emu.err" ||
	fail "auth --session --platform emu"
grep -q '^session: *established' "$work/emu.out" || fail "no established session (emu)"
grep -q 'END_SESSION *acknowledged' "$work/emu.out" || fail "no END_SESSION (emu)"
grep -q 'heartbeat period *10 (HEARTBEAT acknowledged)' "$work/emu.out" || fail "heartbeat (emu)"
pcitsm auth --platform emu 0000:02:00.0 --session --json >"$work/emu-json.out" \
	2>"$work/emu-json.err" || fail "auth --session --json --platform emu"
check_json "$work/emu-json.out"

# 2. spdm-emu TCP: secured CMA-SPDM objects in NORMAL frames (docs/transports.md).
emulate_start --trust-out "$work/root.pem"
pcitsm auth "tcp:127.0.0.1:$port" --trust "$work/root.pem" --session --json \
	>"$work/tcp.out" 2>"$work/tcp.err" || fail "auth --session over tcp"
check_json "$work/tcp.out"
pcitsm auth "tcp:127.0.0.1:$port" --trust "$work/root.pem" --session --shutdown \
	>"$work/tcp2.out" 2>"$work/tcp2.err" || fail "second session over tcp"
grep -q '^session: *established' "$work/tcp2.out" || fail "no established session (tcp)"
emulate_wait_exit
echo "spdm_session: ok"
