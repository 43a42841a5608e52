#!/bin/bash
# SPDM version pinning end to end (docs/spdm.md "Version support"): pcitsmd's devices offer only
# SPDM 1.1 (--version 1.1); `pcitsm auth --version 1.1 --session` over the mirror authenticates and
# opens a session; the default requester (1.2-1.3) and --version 1.3 fail with one line naming
# what the device offers and what pcitsm accepts; the JSON error lists both.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
pcitsmd_mount --version 1.1

ep=0000:01:00.0
pcitsm auth --sysfs "$mnt" "$ep" --version 1.1 --session >"$tmp/v11.out" 2>"$tmp/v11.err" ||
	fail "auth --version 1.1: $(cat "$tmp/v11.err")"
grep -q '^SPDM version: *1.1$' "$tmp/v11.out" || fail "not SPDM 1.1: $(cat "$tmp/v11.out")"
grep -q '^result: *authenticated' "$tmp/v11.out" || fail "not authenticated"
grep -q '^challenge: *verified' "$tmp/v11.out" || fail "no CHALLENGE"
grep -q '^session: *established' "$tmp/v11.out" || fail "no session at 1.1"
grep -q 'END_SESSION *acknowledged' "$tmp/v11.out" || fail "no END_SESSION at 1.1"

if pcitsm auth --sysfs "$mnt" "$ep" --version 1.3 >"$tmp/v13.out" 2>"$tmp/v13.err"; then
	fail "auth --version 1.3 against a 1.1-only device succeeded"
fi
grep -q 'device offers SPDM 1.1; pcitsm accepts 1.3 (--version)' "$tmp/v13.err" ||
	fail "unclear mismatch message: $(cat "$tmp/v13.err")"
# The cause is printed once, on one line.
[ "$(wc -l <"$tmp/v13.err")" -eq 1 ] || fail "mismatch printed more than once: $(cat "$tmp/v13.err")"

if pcitsm auth --sysfs "$mnt" "$ep" >"$tmp/def.out" 2>"$tmp/def.err"; then
	fail "default auth against a 1.1-only device succeeded"
fi
grep -q 'device offers SPDM 1.1; pcitsm accepts 1.2.1.3 (--version)' "$tmp/def.err" ||
	fail "unclear default mismatch message: $(cat "$tmp/def.err")"

pcitsm auth --sysfs "$mnt" "$ep" --version 1.2 --json >"$tmp/v12.json" 2>/dev/null && fail "1.2 ok?"
python3 - "$tmp/v12.json" <<'PY' || fail "JSON version error"
import json, sys
d = json.load(open(sys.argv[1]))
e = d["error"]
assert not d["authenticated"] and e["code"] == "E_VERSION", d
assert e["device_versions"] == ["1.1"] and e["accepted_versions"] == ["1.2"], e
PY

# A bad --version is a usage error on both programs.
if pcitsm auth --sysfs "$mnt" "$ep" --version 1.4 >/dev/null 2>&1; then fail "--version 1.4 ok"; fi
if pcitsmd --version=2.0 "$tmp/none" >/dev/null 2>&1; then fail "pcitsmd --version=2.0 ok"; fi
pcitsmd_unmount
echo "spdm_version: ok"
