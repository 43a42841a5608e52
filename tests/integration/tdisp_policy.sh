#!/bin/bash
# Policy refusals over the mirror: a policy made from a locked TDI's evidence accepts it; the same
# policy with a measurement digest, a required interface-info bit, or an MMIO range changed is
# refused naming that entry, and the TDI stays CONFIG_LOCKED; a malformed policy is refused before
# anything is read.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
. "$(dirname "$0")/lib/tdisp.bash"

ok=0000:01:00.0
tdisp_setup "$ok"
pcitsm lock "$ok" --sysfs "$mnt" >/dev/null || fail "lock"
pcitsm policy make "$ok" --sysfs "$mnt" -o "$tmp/p.json" >/dev/null || fail "policy make"

tamper() { # tamper OUT PYTHON-EXPR-ON-p
	python3 - "$tmp/p.json" "$1" "$2" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(p, open(sys.argv[2], "w"))
PY
}
refused() { # refused POLICY EXPECTED-TEXT
	if pcitsm accept "$ok" --sysfs "$mnt" --policy "$1" 2>"$tmp/e.txt"; then
		fail "accept with $1 passed"
	fi
	grep -qF "$2" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "refusal of $1 lacks: $2"; }
	expect_eq "state after refusal" "$(tdi_state $ok)" CONFIG_LOCKED
}

idx=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["measurements"][0]["index"])' "$tmp/p.json")
tamper "$tmp/m.json" 'd = p["measurements"][0]["digest"]; p["measurements"][0]["digest"] = ("0" if d[0] != "0" else "1") + d[1:]'
refused "$tmp/m.json" "measurement $idx: digest differs"
tamper "$tmp/i.json" 'p["interface_info"] = sorted(set(p["interface_info"]) | {"PRS"})'
refused "$tmp/i.json" "interface info: PRS required"
tamper "$tmp/s.json" 'p["mmio"][0]["size"] = hex(int(p["mmio"][0]["size"], 16) * 2)'
refused "$tmp/s.json" "mmio range 0: BAR"
tamper "$tmp/n.json" 'p["mmio"] = p["mmio"][:-1]'
refused "$tmp/n.json" "not in the policy"
printf '{"pcitsm_policy":1,"measurements":[{"index":0,"digest":"00"}]}' >"$tmp/bad.json"
refused "$tmp/bad.json" "measurements[0].index"

pcitsm accept "$ok" --sysfs "$mnt" --policy "$tmp/p.json" >/dev/null || fail "accept with the made policy"
expect_eq "state after accept" "$(tdi_state $ok)" RUN
echo "tdisp_policy: made policy accepted; measurement, interface info, MMIO size and count refused by name"
