#!/bin/bash
# Key lifetime on the mirror (docs/tsm.md "Key lifetime"): pcitsmd's --key-max-tlps sets the
# firmware TSM's policy; traffic across it refreshes the keys with no failure; `pcitsm status`
# shows the key set, its TLPs, its age and the next refresh (text and --json); the policy files
# pcitsm/tsm0/key_max_tlps and key_max_age_s change it at run time, and both 0 turn refresh off.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --ports 1 --key-max-tlps 50 --key-max-age 600
ep=0000:01:00.0
expect_eq "key_max_tlps" "$(cat "$mnt/pcitsm/tsm0/key_max_tlps")" 50
expect_eq "key_max_age_s" "$(cat "$mnt/pcitsm/tsm0/key_max_age_s")" 600
pcitsm connect "$ep" --sysfs "$mnt" >/dev/null || fail "connect"

pcitsm traffic "$ep" --ops 1000 --size 64 --sysfs "$mnt" --json >"$tmp/t.json" ||
	{ cat "$tmp/t.json"; fail "traffic"; }
pcitsm status "$ep" --sysfs "$mnt" --json >"$tmp/s.json" || fail "status --json"
python3 - "$tmp/t.json" "$tmp/s.json" <<'PY' || fail "refreshed under traffic"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["failures"] == 0 and t["reads"] == 1000, t
# 1000 operations give each of the six keys about 500 TLPs: a refresh every ~50 of them.
assert t["key_refreshes"] >= 8, t
k = json.load(open(sys.argv[2]))[0]["keys"]
assert k["refreshes_by_policy"] == t["key_refreshes"], k
assert k["key_set"] in ("K0", "K1"), k
assert k["policy"] == {"max_tlps": 50, "max_age_s": 600}, k
assert 0 <= k["tlps_max_per_key"] < 50 and k["tlps"] >= k["tlps_max_per_key"], k
assert k["next_refresh"]["tlps"] == 50 - k["tlps_max_per_key"], k
assert 0 < k["next_refresh"]["ms"] <= 600000 and k["age_ms"] < 600000, k
PY
pcitsm status "$ep" --sysfs "$mnt" >"$tmp/s.txt" || fail "status"
grep -Eq "^  keys +K[01] in use, [0-9]+ rekeys" "$tmp/s.txt" ||
	{ cat "$tmp/s.txt"; fail "keys line"; }
grep -Eq "TLPs on the set \(busiest key [0-9]+\), age [0-9]+ ms" "$tmp/s.txt" ||
	{ cat "$tmp/s.txt"; fail "TLPs line"; }
grep -Eq "^  next refresh +after [0-9]+ more TLPs on a key or in [0-9]+ ms" "$tmp/s.txt" ||
	{ cat "$tmp/s.txt"; fail "next refresh line"; }

# At run time: a bad value is refused, the cap is ERANGE, both limits 0 turn refresh off.
! echo x >"$mnt/pcitsm/tsm0/key_max_tlps" 2>/dev/null || fail "key_max_tlps took x"
! echo 281474976710657 >"$mnt/pcitsm/tsm0/key_max_tlps" 2>"$tmp/e.txt" || fail "took 2^48+1"
grep -q "Numerical result out of range" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "not ERANGE"; }
echo 0 >"$mnt/pcitsm/tsm0/key_max_tlps"
echo 0 >"$mnt/pcitsm/tsm0/key_max_age_s"
pcitsm traffic "$ep" --ops 200 --size 64 --sysfs "$mnt" --json >"$tmp/t2.json" || fail "traffic 2"
python3 - "$tmp/t2.json" <<'PY' || fail "refresh off"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["key_refreshes"] == 0 and t["failures"] == 0, t
PY
pcitsm status "$ep" --sysfs "$mnt" | grep -q "automatic refresh off" || fail "status: refresh off"

pcitsm disconnect "$ep" --sysfs "$mnt" >/dev/null || fail "disconnect"
pcitsmd_unmount
echo "pcitsmd_keylife: ok"
