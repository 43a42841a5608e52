#!/bin/bash
# The TDISP commands' decisions on a copy of the files (`--sysfs DIR`, as a copy of /sys): report
# decoded and checked, a rule broken named; policy make then accept passes and writes 1 to
# tsm/accept; a tampered measurement, a tampered report, a report that disagrees with its digest,
# a TDI not CONFIG_LOCKED, a malformed policy: refused, naming why, with tsm/accept untouched.
# The kernel side (the files' errno, the TDI's state machine) is tdisp_cli_flow.sh on the mirror.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
tree() { rm -rf "$tmp/root"; python3 "$PCITSM_SRC/tests/integration/lib/tdisp_tree.py" "$tmp/root" "$@"; }
bdf=0000:01:00.0
acc="$tmp/root/bus/pci/devices/$bdf/tsm/accept"
ev="$tmp/root/pcitsm/devices/$bdf/evidence"
refused() { # refused EXPECTED-TEXT ARGS...
	local want=$1
	shift
	if pcitsm accept "$bdf" --sysfs "$tmp/root" "$@" 2>"$tmp/e.txt"; then fail "accept $* passed"; fi
	grep -qF "$want" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "accept $*: lacks '$want'"; }
	[ "$(cat "$acc")" = "" ] || fail "accept $* wrote tsm/accept"
}
redigest() { python3 -c 'import hashlib,sys; print(hashlib.sha384(open(sys.argv[1],"rb").read()).hexdigest())' "$ev/report" >"$ev/report_digest"; }

tree
pcitsm report "$bdf" --sysfs "$tmp/root" >"$tmp/r.txt" || { cat "$tmp/r.txt"; fail "report"; }
grep -q "0x00000000fe002000  size 0x1000  MSIX_TABLE" "$tmp/r.txt" || { cat "$tmp/r.txt"; fail "report range"; }
grep -q "interface info *0x0003 NO_FW_UPDATE,DMA_NO_PASID" "$tmp/r.txt" || fail "report interface info"
grep -q "follows every Linux report rule" "$tmp/r.txt" || fail "report check"
pcitsm policy make "$bdf" --sysfs "$tmp/root" -o "$tmp/p.json" >"$tmp/m.txt" || fail "policy make"
grep -q "2 measurement blocks, 1 not pinned" "$tmp/m.txt" || { cat "$tmp/m.txt"; fail "policy make counts"; }

# Refusals, each before tsm/accept is written.
python3 - "$tmp/p.json" "$tmp/pm.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["measurements"][1]["digest"] = "ff" + p["measurements"][1]["digest"][2:]
json.dump(p, open(sys.argv[2], "w"))
PY
refused "measurement 2: digest differs" --policy "$tmp/pm.json"
printf '{"pcitsm_policy":1,"mmio":[{"bar":0}]}' >"$tmp/bad.json"
refused "is not valid: mmio[0].offset" --policy "$tmp/bad.json"
refused "policy $tmp/none.json: No such file" --policy "$tmp/none.json"
# The report's last range shrunk (digest updated): the layout differs from the policy, and the
# Linux rules still hold.
python3 - "$ev/report" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", b, 16 + 3 * 16 + 8, 8)
open(sys.argv[1], "wb").write(b)
PY
redigest
refused "mmio range 3: BAR 0 size 0x8000, expected 0xc000" --policy "$tmp/p.json"
# The report no longer its digest's: refused before anything else.
tree
printf '\x07' | dd of="$ev/report" bs=1 seek=0 conv=notrunc 2>/dev/null
refused "report_digest is not the SHA-384 of evidence/report" --policy "$tmp/p.json"
# A Linux rule broken (the first range of BAR 0 not at its base): named, by report and accept.
tree
python3 - "$ev/report" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<Q", b, 16, 0xFE001)
open(sys.argv[1], "wb").write(b)
PY
redigest
if pcitsm report "$bdf" --sysfs "$tmp/root" >"$tmp/r.txt"; then fail "report with a broken rule exited 0"; fi
grep -q "BAR_BASE (range 0)" "$tmp/r.txt" || { cat "$tmp/r.txt"; fail "report rule name"; }
refused "breaks a Linux report rule: BAR_BASE (range 0)"
# Not CONFIG_LOCKED.
tree ERROR
refused "the TDI is ERROR, not CONFIG_LOCKED" --policy "$tmp/p.json"
# Not locked at all: no report.
tree
rm "$ev/report"
refused "the TDI is not locked"

# And the made policy accepted: 1 written to tsm/accept.
tree
pcitsm accept "$bdf" --sysfs "$tmp/root" --policy "$tmp/p.json" >"$tmp/a.txt" || { cat "$tmp/e.txt"; fail "accept"; }
grep -q "policy .* holds (2 measurements" "$tmp/a.txt" || { cat "$tmp/a.txt"; fail "accept output"; }
[ "$(cat "$acc")" = 1 ] || fail "tsm/accept not written"
# evidence saving needs a device to authenticate: covered on the mirror.
echo "tdisp_cli_files: report, policy make, accept, and seven refusals by name"
