#!/bin/bash
# The TDISP flow with the CLI over the mirror: lock, report (decoded, checked, --json), policy make,
# accept against it, status RUN, unlock; the kernel's errno for each file named in words; a write
# to a locked function's configuration moving it to ERROR, shown by status, and accept refused;
# accept bound to the evidence read since the lock (ESTALE on older evidence); locking a VF leaves
# the other TDIs as they were; ENOTCONN and a bound driver's EBUSY named.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
. "$(dirname "$0")/lib/tdisp.bash"

ok=0000:01:00.0
tdisp_setup "$ok" --ports 2
dev="$mnt/bus/pci/devices/$ok"

expect_eq "state before lock" "$(tdi_state $ok)" CONFIG_UNLOCKED
# Not locked: report, accept and unlock say so.
if pcitsm report "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "report before lock"; fi
grep -q "the TDI is not locked" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "report before lock text"; }
if pcitsm unlock "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "unlock before lock"; fi
grep -q "errno 22.*not locked" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "unlock EINVAL text"; }

pcitsm lock "$ok" --sysfs "$mnt" >"$tmp/l.txt" || { cat "$tmp/l.txt"; fail "lock"; }
grep -q "locked by tsm1 .* TDI CONFIG_LOCKED" "$tmp/l.txt" || { cat "$tmp/l.txt"; fail "lock output"; }
expect_eq "tsm/lock" "$(cat "$dev/tsm/lock")" tsm1
# Locked twice: EBUSY, named.
if pcitsm lock "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "second lock"; fi
grep -q "errno 16.*already locked" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "second lock EBUSY text"; }
# A bad TSM name: EINVAL, named.
if pcitsm lock "$ok" --sysfs "$mnt" --tsm nosuch 2>"$tmp/e.txt"; then fail "lock --tsm nosuch"; fi
grep -q "errno 22" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "lock bad name EINVAL"; }

pcitsm report "$ok" --sysfs "$mnt" >"$tmp/r.txt" || { cat "$tmp/r.txt"; fail "report"; }
grep -q "follows every Linux report rule" "$tmp/r.txt" || { cat "$tmp/r.txt"; fail "report check"; }
grep -q "(= evidence/report_digest)" "$tmp/r.txt" || { cat "$tmp/r.txt"; fail "report digest"; }
pcitsm report "$ok" --sysfs "$mnt" --json >"$tmp/r.json" || fail "report --json"
python3 - "$tmp/r.json" <<'PY' || fail "report --json content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["check"]["ok"] and r["tdi_state"] == "CONFIG_LOCKED", r
assert r["mmio_ranges"] and all(m["range_id"] < 6 for m in r["mmio_ranges"]), r
assert any("MSIX_TABLE" in m["attributes"] for m in r["mmio_ranges"]), r
assert "NO_FW_UPDATE" in r["interface_info"] or r["interface_info"], r
assert len(r["digest"]) == 96, r
PY

pcitsm policy make "$ok" --sysfs "$mnt" -o "$tmp/policy.json" >/dev/null || fail "policy make"
pcitsm accept "$ok" --sysfs "$mnt" --policy "$tmp/policy.json" >"$tmp/a.txt" ||
	{ cat "$tmp/a.txt"; fail "accept"; }
grep -q "policy .* holds" "$tmp/a.txt" || { cat "$tmp/a.txt"; fail "accept policy line"; }
expect_eq "state after accept" "$(tdi_state $ok)" RUN
expect_eq "tsm/accept" "$(cat "$dev/tsm/accept")" 1
pcitsm status "$ok" --sysfs "$mnt" | grep -q "TDI state *RUN" || fail "status text TDI state"
# DMA in RUN: the TDI's T=1 writes reach the private memory and read back intact.
pcitsm traffic "$ok" --sysfs "$mnt" --tee --ops 16 --size 256 >"$tmp/t.txt" ||
	{ cat "$tmp/t.txt"; fail "traffic --tee in RUN"; }
grep -q "4096 bytes written, 4096 read back and verified" "$tmp/t.txt" ||
	{ cat "$tmp/t.txt"; fail "traffic --tee text"; }
pcitsm traffic "$ok" --sysfs "$mnt" --tee --ops 8 --size 64 --json >"$tmp/t.json" ||
	fail "traffic --tee --json in RUN"
python3 - "$tmp/t.json" <<'PY' || fail "traffic --tee --json content"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["tee"] is True and t["failures"] == 0 and t["tee_refused"] == 0, t
assert t["bytes_written"] == 512 and t["bytes_verified"] == 512 and t["tlps_secure"] >= 16, t
PY
# A VF of the same device, not locked: its own Requester ID, its own state: refused.
if pcitsm traffic 0000:01:00.1 --sysfs "$mnt" --tee --ops 4 >"$tmp/t.txt"; then
	fail "traffic --tee from an unlocked VF"
fi
grep -q "8 requests refused by TDI state (the TDI is not RUN)" "$tmp/t.txt" ||
	{ cat "$tmp/t.txt"; fail "traffic --tee refusal text (VF)"; }
# Accept again in RUN: refused before the write (not CONFIG_LOCKED).
if pcitsm accept "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "accept in RUN"; fi
grep -q "the TDI is RUN, not CONFIG_LOCKED" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "accept in RUN text"; }

pcitsm unlock "$ok" --sysfs "$mnt" >"$tmp/u.txt" || { cat "$tmp/u.txt"; fail "unlock"; }
expect_eq "state after unlock" "$(tdi_state $ok)" CONFIG_UNLOCKED

# Tampered configuration: lock, change the Command register; status shows ERROR at once (the
# device is asked, no evidence read needed), the next evidence read (report) fails with the TDI in
# ERROR, accept is refused.
pcitsm lock "$ok" --sysfs "$mnt" >/dev/null || fail "relock"
config_write "$ok"
expect_eq "status right after a config write" "$(tdi_state $ok)" ERROR
# The same DMA now refused by the TDI's state, and counted.
if pcitsm traffic "$ok" --sysfs "$mnt" --tee --ops 4 --json >"$tmp/t.json"; then
	fail "traffic --tee in ERROR"
fi
python3 - "$tmp/t.json" <<'PY' || fail "traffic --tee --json in ERROR"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["tee"] is True and t["failures"] == 4 and t["tee_refused"] == 8, t
assert t["bytes_verified"] == 0 and t["result"] == "E_IO", t
PY
grep -qx "tdi_state=ERROR" "$mnt/pcitsm/devices/$ok/status" || fail "project status tdi_state ERROR"
if pcitsm report "$ok" --sysfs "$mnt" >/dev/null 2>"$tmp/e.txt"; then fail "report in ERROR"; fi
grep -q "the TDI is ERROR" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "report in ERROR text"; }
expect_eq "state after a config write" "$(tdi_state $ok)" ERROR
if pcitsm accept "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "accept in ERROR"; fi
grep -q "the TDI is ERROR" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "accept in ERROR text"; }
pcitsm unlock "$ok" --sysfs "$mnt" >/dev/null || fail "unlock from ERROR"
expect_eq "state after unlock from ERROR" "$(tdi_state $ok)" CONFIG_UNLOCKED
# Unlocked, the device is still asked: the project status names the state too.
grep -qx "tdi_state=CONFIG_UNLOCKED" "$mnt/pcitsm/devices/$ok/status" ||
	fail "project status tdi_state while unlocked"

# Accept binds to the evidence read since the lock: evidence from before a relock is stale
# (ESTALE at the file), and `pcitsm accept` reads the evidence again, so it passes.
pcitsm lock "$ok" --sysfs "$mnt" >/dev/null || fail "lock for the stale check"
cat "$mnt/pcitsm/devices/$ok/evidence/report_digest" >/dev/null
pcitsm unlock "$ok" --sysfs "$mnt" >/dev/null || fail "unlock for the stale check"
pcitsm lock "$ok" --sysfs "$mnt" >/dev/null || fail "relock for the stale check"
got=$(write_errno "$dev/tsm/accept" 1)
case "$got" in ESTALE | *"Stale file handle"*) ;; *) fail "accept on evidence from an earlier lock: $got, want ESTALE" ;; esac
pcitsm accept "$ok" --sysfs "$mnt" >/dev/null || fail "accept after reading the evidence again"
expect_eq "state after accept" "$(tdi_state $ok)" RUN
# Multi-TDI: locking a VF of the same device leaves PF0 (RUN) and the other VF as they were.
pcitsm lock 0000:01:00.1 --sysfs "$mnt" >/dev/null || fail "lock VF 01:00.1"
expect_eq "VF1 locked" "$(tdi_state 0000:01:00.1)" CONFIG_LOCKED
expect_eq "PF0 still RUN" "$(tdi_state $ok)" RUN
expect_eq "VF2 untouched" "$(tdi_state 0000:01:00.2)" CONFIG_UNLOCKED
pcitsm unlock 0000:01:00.1 --sysfs "$mnt" >/dev/null || fail "unlock VF 01:00.1"
pcitsm unlock "$ok" --sysfs "$mnt" >/dev/null || fail "unlock after the stale check"
# A device not connected to the link TSM: lock is ENOTCONN, named.
if pcitsm lock 0000:02:00.0 --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "lock unconnected"; fi
grep -q "errno 107.*not connected to the link TSM" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "ENOTCONN text"; }

# A driver bound: lock is EBUSY and the message says a driver is bound.
if [ -e "$dev/driver_override" ] && [ -e "$mnt/bus/pci/drivers" ]; then
	drv=$(ls "$mnt/bus/pci/drivers" | head -n1)
	if [ -n "$drv" ]; then
		echo "$drv" >"$dev/driver_override"
		echo "$ok" >"$mnt/bus/pci/drivers/$drv/bind"
		if pcitsm lock "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "lock with a driver bound"; fi
		grep -q "errno 16.*a driver is bound" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "EBUSY driver text"; }
		echo "$ok" >"$mnt/bus/pci/drivers/$drv/unbind"
	fi
fi
echo "tdisp_cli_flow: lock, report, policy, accept, unlock, ERROR on a config write, errno texts"
