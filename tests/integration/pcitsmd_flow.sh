#!/bin/bash
# The administrator's flow on the mirror with the CLI: connect every device, status Secure at both
# ends, traffic, rekey, disconnect; the host bridge's stream pool going down and up; and faulted
# devices (untrusted certificate, bad signature, refused KEY_PROG, firmware failing after a step)
# failing to connect with the right errno and nothing left enabled.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

# Four ports: a healthy endpoint, then three faulted ones.
pcitsmd_mount --ports 4 --fault 0000:02:00.0=untrusted-cert --fault 0000:03:00.0=bad-signature \
	--fault 0000:04:00.0=refuse-key-prog
HB="$mnt/devices/pci0000:00"
ok=0000:01:00.0

expect_eq "pool" "$(cat "$HB/available_secure_streams")" 256
pcitsm connect "$ok" --sysfs "$mnt" >"$tmp/c.txt" || { cat "$tmp/c.txt"; fail "connect $ok"; }
grep -q "connected to tsm0" "$tmp/c.txt" || fail "connect output"
grep -q "stream0.0.0: root port 0000:00:01.0 Secure, endpoint $ok Secure" "$tmp/c.txt" ||
	{ cat "$tmp/c.txt"; fail "connect stream line"; }
expect_eq "pool after connect" "$(cat "$HB/available_secure_streams")" 255

pcitsm status "$ok" --sysfs "$mnt" --json >"$tmp/s.json"
python3 - "$tmp/s.json" <<'PY' || fail "status --json"
import json, sys
s = json.load(open(sys.argv[1]))[0]
assert s["connect"] == "tsm0" and s["authenticated"] == "tsm0" and s["dsm"] == "0000:01:00.0", s
assert s["stream"]["name"] == "stream0.0.0", s
for end in ("root_port", "endpoint"):
    assert s[end]["state"] == "Secure" and s[end]["enabled"], (end, s[end])
assert s["root_port"]["stream_id"] == s["endpoint"]["stream_id"]
p = s["platform"]
assert p["spdm_version"] and p["aead"] == "aes-256-gcm" and p["session_id"].startswith("0x"), p
PY

pcitsm traffic "$ok" --ops 500 --size 128 --sysfs "$mnt" --json >"$tmp/t.json" || { cat "$tmp/t.json"; fail "traffic"; }
python3 - "$tmp/t.json" <<'PY' || fail "traffic counts"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["ops"] == 500 and t["failures"] == 0 and t["bytes"] == 2 * 500 * 128, t  # written and read back
assert t["tlps_secure"] > 0 and t["tlps_clear"] == 0, t
PY
pcitsm rekey "$ok" --sysfs "$mnt" >"$tmp/r.txt" || fail "rekey"
grep -q "key set K0 -> K1 (1 rekeys)" "$tmp/r.txt" || { cat "$tmp/r.txt"; fail "rekey output"; }
pcitsm traffic "$ok" --ops 100 --sysfs "$mnt" >/dev/null || fail "traffic after rekey"
pcitsm disconnect "$ok" --sysfs "$mnt" >"$tmp/d.txt" || fail "disconnect"
grep -q "no stream left" "$tmp/d.txt" || fail "disconnect output"
expect_eq "pool after disconnect" "$(cat "$HB/available_secure_streams")" 256
if pcitsm rekey "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "rekey when disconnected"; fi
grep -q "not connected" "$tmp/e.txt" || fail "rekey error text"
if pcitsm disconnect "$ok" --sysfs "$mnt" 2>"$tmp/e.txt"; then fail "second disconnect"; fi
grep -q "errno 6" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "second disconnect errno (ENXIO)"; }

# Faulted devices: the right errno, the failing step named, nothing enabled, no pool slot taken.
check_fault() { # BDF ERRNAME STEP
	local bdf=$1 want=$2 step=$3 got
	got=$(write_errno "$mnt/bus/pci/devices/$bdf/tsm/connect" tsm0)
	expect_eq "connect $bdf" "$got" "$want"
	expect_eq "connect $bdf leaves" "$(cat "$mnt/bus/pci/devices/$bdf/tsm/connect")" ""
	grep -q "^last_failure_step=$step\$" "$mnt/pcitsm/devices/$bdf/status" ||
		{ cat "$mnt/pcitsm/devices/$bdf/status"; fail "$bdf: failure step"; }
	pcitsm status "$bdf" --sysfs "$mnt" --json >"$tmp/f.json"
	python3 - "$tmp/f.json" <<'PY' || fail "$bdf: a stream is left enabled"
import json, sys
s = json.load(open(sys.argv[1]))[0]
assert "stream" not in s, s
for end in ("root_port", "endpoint"):
    assert s[end].get("enabled") in (None, False), (end, s[end])
PY
	expect_eq "pool after failed $bdf" "$(cat "$HB/available_secure_streams")" 256
	[ -z "$(cd "$HB" && ls -d stream* 2>/dev/null)" ] || fail "$bdf: stream link left"
}
check_fault 0000:02:00.0 EACCES spdm_auth
check_fault 0000:03:00.0 EACCES spdm_auth
check_fault 0000:04:00.0 EIO key_prog
# The CLI reports the step and the device's answer.
if pcitsm connect 0000:04:00.0 --sysfs "$mnt" 2>"$tmp/e.txt" >/dev/null; then fail "faulted connect"; fi
grep -q "step key_prog" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "CLI failure step"; }
grep -q "KP_ACK status 4" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "CLI peer status"; }
expect_eq "faults file" "$(cat "$mnt/pcitsm/devices/0000:03:00.0/faults")" "bad-signature"

# --all connects only the healthy device; the faulted ones fail and the command says so.
if pcitsm connect --all --sysfs "$mnt" >"$tmp/a.txt" 2>&1; then fail "--all with faulted devices"; fi
expect_eq "pool after --all" "$(cat "$HB/available_secure_streams")" 255
pcitsm disconnect --all --sysfs "$mnt" >/dev/null || fail "disconnect --all"
expect_eq "pool after disconnect --all" "$(cat "$HB/available_secure_streams")" 256
pcitsmd_unmount

# A firmware fault: the connect fails right after the named step, unwinding everything.
pcitsmd_mount --fault tsm0=fail-after-k_set_go
expect_eq "firmware fault" "$(write_errno "$mnt/bus/pci/devices/0000:01:00.0/tsm/connect" tsm0)" EIO
grep -q "^last_failure_step=k_set_go$" "$mnt/pcitsm/devices/0000:01:00.0/status" || fail "fw fault step"
expect_eq "pool after fw fault" "$(cat "$HB/available_secure_streams")" 256
pcitsmd_unmount
# A pool of one stream: the second device gets ENOSPC until the first lets its stream go; a pool
# of none: available_secure_streams is ENXIO (Linux Documentation/ABI/testing/sysfs-bus-pci).
pcitsmd_mount --streams 1
expect_eq "pool of 1" "$(cat "$HB/available_secure_streams")" 1
expect_eq "first of 1" "$(write_errno "$mnt/bus/pci/devices/0000:01:00.0/tsm/connect" tsm0)" OK
expect_eq "pool used" "$(cat "$HB/available_secure_streams")" 0
expect_eq "second of 1" "$(write_errno "$mnt/bus/pci/devices/0000:02:00.0/tsm/connect" tsm0)" ENOSPC
expect_eq "second left" "$(cat "$mnt/bus/pci/devices/0000:02:00.0/tsm/connect")" ""
echo tsm0 >"$mnt/bus/pci/devices/0000:01:00.0/tsm/disconnect" || fail "disconnect first of 1"
expect_eq "second after" "$(write_errno "$mnt/bus/pci/devices/0000:02:00.0/tsm/connect" tsm0)" OK
expect_eq "stream link of the second" "$(readlink -f "$HB"/stream0.*)" \
	"$(readlink -f "$mnt/bus/pci/devices/0000:02:00.0")"
pcitsmd_unmount
pcitsmd_mount --streams 0
expect_eq "pool of 0: attribute hidden (pci_ide_attr_visible)" "$(read_errno "$HB/available_secure_streams")" ENOENT
expect_eq "connect, pool of 0" "$(write_errno "$mnt/bus/pci/devices/0000:01:00.0/tsm/connect" tsm0)" ENOSPC
grep -q "^last_failure_step=stream_alloc$" "$mnt/pcitsm/devices/0000:01:00.0/status" || fail "pool of 0: step"
pcitsmd_unmount
echo "pcitsmd_flow: all checks passed"
