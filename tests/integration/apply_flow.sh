#!/bin/bash
# pcitsm apply on the mirror (docs/apply.md): malformed files refused with the field named and
# nothing touched; --dry-run prints the plan and writes nothing (no file under the mount opened
# for writing, counters unchanged); --check exits 3 while anything would change; connect by
# vendor/class match; a second run does nothing (idempotent); an Insecure stream (Enable cleared at
# the endpoint) found as drift and repaired by a reconnect; requirements (root hash, SPDM version)
# checked; lock + accept against a measurement policy; a TDI in ERROR after a locked-config write
# found as drift and repaired; a policy that does not hold refused; functions the file does not
# name left alone; --json output.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
. "$(dirname "$0")/lib/tdisp.bash"

pcitsmd_mount --ports 2
if [ ! -e "$mnt/bus/pci/devices/0000:01:00.0/tsm/lock" ]; then
	echo "SKIP: this pcitsmd's mirror has no tsm/lock (no TDISP files)"
	exit 77
fi
pf=0000:01:00.0
ep2=0000:02:00.0
vf2=0000:01:00.2

# What a run may change, in one line per function: a dry run and a check must leave it as it was.
snapshot() {
	grep -E '^(connects|disconnects|failed_connects|rekeys|connected)=' "$mnt/pcitsm/platform"
	for d in "$mnt"/bus/pci/devices/*/tsm; do
		printf '%s %s %s %s\n' "$d" "$(cat "$d/connect" 2>/dev/null || echo -)" \
			"$(cat "$d/lock")" "$(cat "$d/accept")"
	done
	for b in $pf $ep2 $vf2; do tdi_state $b; done
}
# run_rc CMD...: the exit code of a pcitsm command, stdout in $tmp/o.txt, stderr in $tmp/e.txt.
run_rc() {
	local rc=0
	"$@" >"$tmp/o.txt" 2>"$tmp/e.txt" || rc=$?
	echo $rc
}

# --- Malformed files: exit 2, the field named, nothing done.
snapshot >"$tmp/before.txt"
bad() { # bad FIELD_IN_MESSAGE JSON
	printf '%s\n' "$2" >"$tmp/bad.json"
	expect_eq "exit of a bad file ($1)" "$(run_rc pcitsm apply "$tmp/bad.json" --sysfs "$mnt")" 2
	grep -qF "$1" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "bad file: '$1' not named"; }
}
bad 'devices[0].match.class_mask' '{"pcitsm_apply":1,"devices":[{"match":{"vendor":"0x7063","class":"0x120000","class_mask":"0xfff0000"},"connect":true}]}'
bad 'devices[0].match.class_mask: given without class' '{"pcitsm_apply":1,"devices":[{"match":{"vendor":"0x7063","class_mask":"0xff0000"},"connect":true}]}'
bad 'pcitsm_apply: absent or not 1' '{"pcitsm_apply":2,"devices":[]}'
bad 'devices[1]: unknown key "conect"' '{"pcitsm_apply":1,"devices":[{"match":{"bdf":"0000:01:00.0"},"connect":true},{"match":{"bdf":"0000:02:00.0"},"conect":true}]}'
bad 'devices[0].match.bdf: not a PCI address' '{"pcitsm_apply":1,"devices":[{"match":{"bdf":"01:00.0x"},"connect":true}]}'
bad 'devices[0].connect.require.dhe[0]: not an algorithm name' '{"pcitsm_apply":1,"devices":[{"match":{"vendor":"0x7063"},"connect":{"require":{"dhe":["x25519"]}}}]}'
bad 'devices[0].tdisp.policy: not an absolute path' '{"pcitsm_apply":1,"devices":[{"match":{"bdf":"0000:01:00.0"},"tdisp":{"state":"RUN","policy":"p.json"}}]}'
bad 'devices[0].tdisp.state: not RUN or CONFIG_LOCKED' '{"pcitsm_apply":1,"devices":[{"match":{"bdf":"0000:01:00.0"},"tdisp":{"state":"ERROR"}}]}'
bad 'not JSON' '{"pcitsm_apply":1,"devices":[}'
bad 'policy /nonexistent/p.json' '{"pcitsm_apply":1,"devices":[{"match":{"bdf":"0000:01:00.0"},"tdisp":{"state":"RUN","policy":"/nonexistent/p.json"}}]}'
snapshot >"$tmp/after.txt"
diff "$tmp/before.txt" "$tmp/after.txt" >&2 || fail "a refused file changed the platform"
expect_eq "usage" "$(run_rc pcitsm apply --sysfs "$mnt")" 2

# --- Connect by vendor and class (mask: every processing accelerator 0x12xxxx of vendor 0x7063).
cat >"$tmp/links.json" <<'EOF'
{
  "pcitsm_apply": 1,
  "unmatched": "report",
  "devices": [
    { "name": "accelerators",
      "match": { "vendor": "0x7063", "class": "0x120000", "class_mask": "0xff0000" },
      "connect": { "require": { "spdm_version_min": "1.2", "aead": [ "aes-256-gcm" ],
                                "dhe": [ "secp384r1", "secp256r1" ] } } }
  ]
}
EOF
# Dry run: the plan, and nothing written. Where ptrace works, strace proves no file under the
# mount was opened for writing; the platform's counters and every tsm/ file are compared anyway.
snapshot >"$tmp/before.txt"
if strace -f -qq -e trace=openat -o "$tmp/strace.txt" true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace (a sanitizer build): leaks are checked elsewhere.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=openat -o "$tmp/strace.txt" \
		pcitsm apply "$tmp/links.json" --sysfs "$mnt" --dry-run >"$tmp/o.txt" ||
		fail "dry run (strace)"
	if grep -F "$mnt" "$tmp/strace.txt" | grep -E 'O_WRONLY|O_RDWR'; then
		fail "dry run opened a file under the mount for writing"
	fi
else
	echo "note: strace cannot trace here; the dry run is checked by its effects only"
	pcitsm apply "$tmp/links.json" --sysfs "$mnt" --dry-run >"$tmp/o.txt" || fail "dry run"
fi
grep -q "$pf (accelerators): not connected: would connect" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "dry run plan ($pf)"; }
grep -q "$ep2 (accelerators): not connected: would connect" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "dry run plan ($ep2)"; }
# The VFs match the class too: they are connected through their DSM, planned above.
if grep -q "$vf2.*would connect" "$tmp/o.txt"; then fail "a VF planned for tsm/connect"; fi
pcitsm apply "$tmp/links.json" --sysfs "$mnt" --dry-run --json >"$tmp/plan.json" ||
	fail "dry run --json"
python3 - "$tmp/plan.json" <<'PY' || fail "dry run --json content"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["mode"] == "dry-run" and p["changes"] == 2 and p["repairs"] == 0 and not p["in_state"], p
acts = {d["device"]: d["actions"] for d in p["devices"]}
assert [a["op"] for a in acts["0000:01:00.0"]] == ["connect"], acts
assert all(a["result"] == "planned" for v in acts.values() for a in v), acts
assert acts["0000:01:00.1"] == [] and p["unmatched"] == [], p
PY
expect_eq "check before apply" "$(run_rc pcitsm apply "$tmp/links.json" --sysfs "$mnt" --check)" 3
grep -q "not in state: 2 changes, 0 repairs needed" "$tmp/o.txt" || { cat "$tmp/o.txt"; fail "check text"; }
snapshot >"$tmp/after.txt"
diff "$tmp/before.txt" "$tmp/after.txt" >&2 || fail "dry run or check changed the platform"

pcitsm apply "$tmp/links.json" --sysfs "$mnt" >"$tmp/o.txt" || { cat "$tmp/o.txt"; fail "apply"; }
grep -q "$ep2 (accelerators): not connected: connect ... done" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "apply text"; }
for b in $pf $ep2; do
	pcitsm status $b --sysfs "$mnt" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["connected"] and s["endpoint"]["state"] == "Secure" and s["root_port"]["state"] == "Secure", s
' || fail "$b not connected Secure after apply"
done
# Idempotent: a second run does nothing, and --check agrees.
connects=$(sed -n 's/^connects=//p' "$mnt/pcitsm/platform")
pcitsm apply "$tmp/links.json" --sysfs "$mnt" >"$tmp/o.txt" || fail "second apply"
grep -q "in state, nothing to do" "$tmp/o.txt" || { cat "$tmp/o.txt"; fail "second apply text"; }
expect_eq "connects after a second apply" "$(sed -n 's/^connects=//p' "$mnt/pcitsm/platform")" "$connects"
expect_eq "check in state" "$(run_rc pcitsm apply "$tmp/links.json" --sysfs "$mnt" --check)" 0

# --- Drift: the endpoint's stream Enable cleared (the stream reads Insecure).
python3 - "$mnt" $ep2 <<'PY'
import json, os, subprocess, sys
mnt, bdf = sys.argv[1], sys.argv[2]
lst = json.loads(subprocess.check_output(["pcitsm", "list", "--sysfs", mnt, "--json"]))
ide = [d for d in lst if d["address"] == bdf][0]["ide"]
blk = [b for b in ide["selective_stream_blocks"] if b["enable"]][0]
# PCIe 6.x §7.9.26: Selective IDE Stream Control is 4 bytes into block i, after the link blocks.
off = ide["offset"] + 0x0C + 8 * len(ide["link_streams"]) + \
    blk["index"] * (20 + 12 * len(blk["address_association"])) + 4
fd = os.open(f"{mnt}/bus/pci/devices/{bdf}/config", os.O_RDWR)
v = bytearray(os.pread(fd, 4, off))
v[0] &= 0xFE
os.pwrite(fd, bytes(v), off)
os.close(fd)
PY
expect_eq "check with an Insecure stream" \
	"$(run_rc pcitsm apply "$tmp/links.json" --sysfs "$mnt" --check)" 3
grep -q "$ep2 (accelerators): drift, stream.* Insecure at the endpoint: would reconnect" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "Insecure drift text"; }
pcitsm apply "$tmp/links.json" --sysfs "$mnt" --json >"$tmp/r.json" || fail "apply (repair)"
python3 - "$tmp/r.json" <<'PY' || fail "repair --json"
import json, sys
r = json.load(open(sys.argv[1]))
acts = [a for d in r["devices"] for a in d["actions"]]
assert acts == [{"op": "reconnect", "kind": "repair", "result": "done",
                 "reason": acts[0]["reason"]}], acts
assert "Insecure at the endpoint" in acts[0]["reason"] and r["errors"] == 0, r
PY
expect_eq "check after the repair" "$(run_rc pcitsm apply "$tmp/links.json" --sysfs "$mnt" --check)" 0

# --- Requirements: the root certificate's hash, read from the chain the TSM published.
root=$(python3 - "$mnt/pcitsm/devices/$pf/evidence/certificate_chain" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"\x30\x82")  # the first certificate, after Length, Reserved and RootHash
print(b[4:i].hex())
PY
)
req() { # req REQUIRE_JSON: a file pinning the first endpoint with that "require"
	printf '{"pcitsm_apply":1,"devices":[{"name":"pf","match":{"bdf":"%s"},"connect":{"require":%s}}]}\n' \
		$pf "$1" >"$tmp/req.json"
}
req "{\"root_hash\":\"$root\"}"
expect_eq "the right root hash" "$(run_rc pcitsm apply "$tmp/req.json" --sysfs "$mnt")" 0
wrong=$(printf '%s' "$root" | tr '0-9a-f' '1-9a-f0')
req "{\"root_hash\":\"$wrong\"}"
expect_eq "another root hash" "$(run_rc pcitsm apply "$tmp/req.json" --sysfs "$mnt")" 1
grep -q "root_hash differs.*left as it is" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "root_hash text"; }
expect_eq "check with another root hash" "$(run_rc pcitsm apply "$tmp/req.json" --sysfs "$mnt" --check)" 1
req '{"base_asym":["rsassa-3072"]}'
expect_eq "another base_asym" "$(run_rc pcitsm apply "$tmp/req.json" --sysfs "$mnt")" 1
grep -q "base_asym ecdsa-p384, not among those required" "$tmp/e.txt" ||
	{ cat "$tmp/e.txt"; fail "base_asym text"; }
expect_eq "still connected (made before the run)" "$(cat "$mnt/bus/pci/devices/$pf/tsm/connect")" tsm0

# --- TDISP: lock + accept against a measurement policy made from the device's evidence.
pcitsm lock $pf --sysfs "$mnt" >/dev/null || fail "lock (for policy make)"
pcitsm policy make $pf --sysfs "$mnt" -o "$tmp/policy.json" >/dev/null || fail "policy make"
pcitsm unlock $pf --sysfs "$mnt" >/dev/null || fail "unlock (after policy make)"
cat >"$tmp/tdi.json" <<EOF
{
  "pcitsm_apply": 1,
  "devices": [
    { "name": "guest-nic", "match": { "bdf": "$pf" }, "connect": { "tsm": "tsm0" },
      "tdisp": { "state": "RUN", "policy": "$tmp/policy.json" } },
    { "name": "accelerators", "match": { "vendor": "0x7063", "device": "0x0002" }, "connect": true }
  ]
}
EOF
expect_eq "check before lock" "$(run_rc pcitsm apply "$tmp/tdi.json" --sysfs "$mnt" --check)" 3
pcitsm apply "$tmp/tdi.json" --sysfs "$mnt" >"$tmp/o.txt" || { cat "$tmp/o.txt"; fail "apply tdisp"; }
grep -q "$pf (guest-nic): TDI CONFIG_UNLOCKED: lock ... done" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "lock step"; }
grep -q "$pf (guest-nic): TDI CONFIG_LOCKED: accept ... done" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "accept step"; }
expect_eq "TDI after apply" "$(tdi_state $pf)" RUN
expect_eq "the VF not named: left alone" "$(tdi_state $vf2)" CONFIG_UNLOCKED
pcitsm apply "$tmp/tdi.json" --sysfs "$mnt" >"$tmp/o.txt" || fail "second apply tdisp"
grep -q "in state, nothing to do" "$tmp/o.txt" || { cat "$tmp/o.txt"; fail "second tdisp apply"; }

# A write to the locked configuration: the TDI goes to ERROR, found as drift and repaired.
config_write $pf
expect_eq "TDI after a config write" "$(tdi_state $pf)" ERROR
expect_eq "check with a TDI in ERROR" "$(run_rc pcitsm apply "$tmp/tdi.json" --sysfs "$mnt" --check)" 3
grep -q "$pf (guest-nic): drift, TDI ERROR, the file names RUN: would unlock+lock" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "ERROR drift text"; }
expect_eq "check changed nothing" "$(tdi_state $pf)" ERROR
pcitsm apply "$tmp/tdi.json" --sysfs "$mnt" >"$tmp/o.txt" || { cat "$tmp/o.txt"; fail "repair ERROR"; }
grep -q "unlock+lock ... done" "$tmp/o.txt" && grep -q "accept ... done" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "repair steps"; }
expect_eq "TDI after the repair" "$(tdi_state $pf)" RUN

# A policy that does not hold: the TDI is locked, never started, and the run fails.
python3 - "$tmp/policy.json" "$tmp/bad-policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
d = p["measurements"][0]["digest"]
p["measurements"][0]["digest"] = ("0" if d[0] != "0" else "1") + d[1:]
json.dump(p, open(sys.argv[2], "w"))
PY
sed "s|$tmp/policy.json|$tmp/bad-policy.json|" "$tmp/tdi.json" >"$tmp/tdi-bad.json"
pcitsm unlock $pf --sysfs "$mnt" >/dev/null || fail "unlock before the bad policy"
expect_eq "apply with a policy that fails" "$(run_rc pcitsm apply "$tmp/tdi-bad.json" --sysfs "$mnt")" 1
grep -q "policy .*bad-policy.json refused: measurement .*: digest differs; not started" "$tmp/e.txt" ||
	{ cat "$tmp/e.txt"; fail "policy refusal text"; }
expect_eq "TDI with a failing policy" "$(tdi_state $pf)" CONFIG_LOCKED
# A file asking CONFIG_LOCKED of a RUN TDI is converged too; here the good policy restores RUN.
pcitsm apply "$tmp/tdi.json" --sysfs "$mnt" >"$tmp/o.txt" || { cat "$tmp/o.txt"; fail "good policy again"; }
grep -q "drift, TDI CONFIG_LOCKED, the file names RUN: accept ... done" "$tmp/o.txt" ||
	{ cat "$tmp/o.txt"; fail "accept from CONFIG_LOCKED text"; }
expect_eq "TDI after the good policy" "$(tdi_state $pf)" RUN
echo "apply_flow: ok"
