#!/bin/bash
# The devsec ABI [proposal] through the mounted mirror (docs/pcitsmd.md "Proposal: TDISP"): the
# files and their visibility, echo/cat errno of tsm/lock, unlock and accept in the staging tree's
# order, driver binding through driver_override / bind / unbind, the evidence of a locked TDI and
# the accept bound to it, multi-TDI isolation, and a write to locked configuration ending in ERROR.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"
pcitsmd_mount # default: --vfs 2

pf=0000:01:00.0
vf1=0000:01:00.1
vf2=0000:01:00.2
P="$mnt/bus/pci/devices/$pf"
V1="$mnt/bus/pci/devices/$vf1"
V2="$mnt/bus/pci/devices/$vf2"
DRV="$mnt/bus/pci/drivers/pcitsm-ep"
E="$mnt/pcitsm/devices/$vf1/evidence"

# --- The files.
expect_eq "devices" "$(ls "$mnt/bus/pci/devices" | tr '\n' ' ')" \
	"0000:00:01.0 0000:00:02.0 0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:02:00.0 "
expect_eq "tsms" "$(ls "$mnt/class/tsm" | tr '\n' ' ')" "tsm0 tsm1 "
expect_eq "tsm0 pci_mode" "$(cat "$mnt/class/tsm/tsm0/pci_mode")" "link"
expect_eq "tsm1 pci_mode" "$(cat "$mnt/class/tsm/tsm1/pci_mode")" "devsec"
expect_eq "vf tsm" "$(ls "$V1/tsm" | tr '\n' ' ')" "accept lock unlock "
expect_eq "pf tsm" "$(ls "$P/tsm" | tr '\n' ' ')" "accept bound connect disconnect dsm lock unlock "
expect_eq "lock mode" "$(stat -c %a "$V1/tsm/lock")" "644"
expect_eq "unlock mode" "$(stat -c %a "$V1/tsm/unlock")" "200"
expect_eq "accept mode" "$(stat -c %a "$V1/tsm/accept")" "644"
expect_eq "bind mode" "$(stat -c %a "$DRV/bind")" "200"
[ ! -e "$mnt/bus/pci/devices/0000:00:01.0/tsm" ] || fail "root port has tsm/"
expect_eq "lock empty" "$(od -An -c "$V1/tsm/lock" | tr -d ' ')" '\n'
expect_eq "accept empty" "$(cat "$V1/tsm/accept")" "0"
expect_eq "read unlock" "$(read_errno "$V1/tsm/unlock")" EACCES
expect_eq "override" "$(cat "$V1/driver_override")" "(null)"

# --- tsm/lock, in order: EINVAL format, EBUSY locked, ENXIO not devsec, EBUSY driver, the op.
expect_eq "lock unconnected" "$(write_errno "$V1/tsm/lock" tsm1)" ENOTCONN
echo tsm0 >"$P/tsm/connect" || fail "connect"
expect_eq "lock format" "$(write_errno "$V1/tsm/lock" bogus)" EINVAL
expect_eq "lock link tsm" "$(write_errno "$V1/tsm/lock" tsm0)" ENXIO
expect_eq "lock no tsm" "$(write_errno "$V1/tsm/lock" tsm7)" ENXIO
echo $vf1 >"$DRV/bind" || fail "bind"
expect_eq "driver link" "$(basename "$(readlink "$V1/driver")")" "pcitsm-ep"
[ -L "$DRV/$vf1" ] || fail "no device link in the driver"
expect_eq "bind again" "$(write_errno "$DRV/bind" $vf1)" EBUSY
expect_eq "lock not devsec before driver" "$(write_errno "$V1/tsm/lock" tsm0)" ENXIO
expect_eq "lock driver bound" "$(write_errno "$V1/tsm/lock" tsm1)" EBUSY
echo $vf1 >"$DRV/unbind" || fail "unbind"
expect_eq "unbind again" "$(write_errno "$DRV/unbind" $vf1)" ENODEV
echo tsm1 >"$V1/tsm/lock" || fail "lock"
expect_eq "lock holder" "$(cat "$V1/tsm/lock")" "tsm1"
expect_eq "lock again" "$(write_errno "$V1/tsm/lock" tsm1)" EBUSY
expect_eq "lock again, bad name" "$(write_errno "$V1/tsm/lock" bogus)" EINVAL
expect_eq "pf untouched" "$(od -An -c "$P/tsm/lock" | tr -d ' ')" '\n'
expect_eq "vf2 untouched" "$(od -An -c "$V2/tsm/lock" | tr -d ' ')" '\n'

# --- The evidence, and accept bound to it.
expect_eq "evidence" "$(ls "$E" | tr '\n' ' ')" "report report_digest report_generation "
expect_eq "accept unread" "$(write_errno "$V1/tsm/accept" 1)" ESTALE
expect_eq "accept false" "$(write_errno "$V1/tsm/accept" 0)" EINVAL
expect_eq "accept bad" "$(write_errno "$V1/tsm/accept" x)" EINVAL
digest=$(cat "$E/report_digest")
expect_eq "digest" "$digest" "$(sha384sum "$E/report" | cut -d' ' -f1)"
expect_eq "generation" "$(cat "$E/report_generation")" "1"
echo $vf1 >"$DRV/bind" || fail "bind 2"
expect_eq "accept driver bound" "$(write_errno "$V1/tsm/accept" 1)" EBUSY
expect_eq "accept false before driver" "$(write_errno "$V1/tsm/accept" 0)" EINVAL
expect_eq "unlock driver bound" "$(write_errno "$V1/tsm/unlock" tsm1)" EBUSY
echo $vf1 >"$DRV/unbind" || fail "unbind 2"
echo 1 >"$V1/tsm/accept" || fail "accept"
expect_eq "accepted" "$(cat "$V1/tsm/accept")" "1"
expect_eq "bound" "$(cat "$P/tsm/bound")" "tsm1"
grep -q '^tdi_state=RUN$' "$mnt/pcitsm/devices/$vf1/status" || fail "status: not RUN"

# --- unlock: EINVAL another name; then done.
expect_eq "unlock name" "$(write_errno "$V1/tsm/unlock" tsm0)" EINVAL
echo tsm1 >"$V1/tsm/unlock" || fail "unlock"
expect_eq "unlock again" "$(write_errno "$V1/tsm/unlock" tsm1)" EINVAL
expect_eq "bound after unlock" "$(od -An -c "$P/tsm/bound" | tr -d ' ')" '\n'
[ ! -e "$E" ] || fail "evidence left after unlock"

# --- A write to a locked function's configuration: the TDI goes to ERROR, accept fails.
echo tsm1 >"$V2/tsm/lock" || fail "lock vf2"
cat "$mnt/pcitsm/devices/$vf2/evidence/report" >/dev/null
printf '\x06\x00' | dd of="$V2/config" bs=1 seek=4 conv=notrunc status=none
expect_eq "accept after config write" "$(write_errno "$V2/tsm/accept" 1)" EIO
expect_eq "evidence after config write" "$(read_errno "$mnt/pcitsm/devices/$vf2/evidence/report")" EIO
grep -q '^tdi_state=ERROR$' "$mnt/pcitsm/devices/$vf2/status" || fail "status: not ERROR"
echo tsm1 >"$V2/tsm/unlock" || fail "unlock vf2"
echo tsm0 >"$P/tsm/disconnect" || fail "disconnect"
pcitsmd_unmount
