#!/bin/bash
# Debian's lspci (pciutils) reads pcitsmd's mirror as a sysfs tree: `lspci -A linux-sysfs -O
# sysfs.path=MOUNT/bus/pci -vvv` (pciutils' sysfs.path is the bus/pci directory) lists every
# emulated function and decodes the endpoints' DOE and IDE extended capabilities; the generic
# files it opens (irq, resource, vendor, device, class, revision, subsystem_*) have the kernel's
# formats. Exits 77 only when FUSE is unusable; a missing lspci is a failure (install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

command -v lspci >/dev/null || fail "lspci not installed (scripts/install-deps.sh installs pciutils)"
pcitsmd_mount --ports 2 --vfs 0 # the 6.19 tree; TDIs: pcitsmd_tdisp.sh

lspci -A linux-sysfs -O "sysfs.path=$mnt/bus/pci" -vvv >"$tmp/lspci.txt" 2>"$tmp/lspci.err" ||
	{ cat "$tmp/lspci.err" >&2; fail "lspci -vvv on the mirror"; }
grep -q "Cannot open" "$tmp/lspci.err" && fail "lspci could not open a file: $(cat "$tmp/lspci.err")"

# Every function of the mirror, and nothing else.
want=$(ls "$mnt/bus/pci/devices" | sed 's/^0000://' | sort)
got=$(grep -E '^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ' "$tmp/lspci.txt" | cut -d' ' -f1 | sort)
expect_eq "functions lspci lists" "$got" "$want"
expect_eq "function count" "$(echo "$got" | wc -l)" 4

# Per endpoint: DOE decoded by name, IDE (Extended Capability 0x30) at its offset. pciutils 3.9
# has no IDE decoder and prints the ID; a later one names it.
for ep in 01:00.0 02:00.0; do
	sed -n "/^$ep /,/^\$/p" "$tmp/lspci.txt" >"$tmp/$ep.txt"
	grep -q 'Capabilities: \[100 v2\] Data Object Exchange' "$tmp/$ep.txt" ||
		fail "$ep: no DOE capability in lspci -vvv"
	grep -q 'DOESta: Busy- IntSta- Error- ObjectReady-' "$tmp/$ep.txt" ||
		fail "$ep: DOE status not decoded"
	grep -Eq 'Capabilities: \[118 v1\] (Extended Capability ID 0x30|Integrity & Data Encryption)' \
		"$tmp/$ep.txt" || fail "$ep: no IDE capability in lspci -vvv"
	grep -q 'Express (v2) Endpoint' "$tmp/$ep.txt" || fail "$ep: PCIe capability"
done
grep -q '^00:01.0 PCI bridge' "$tmp/lspci.txt" || fail "root port not a PCI bridge"
grep -q 'Root Port' "$tmp/lspci.txt" || fail "root port's PCIe type"

# The files lspci opened, in the kernel's formats (drivers/pci/pci-sysfs.c).
d="$mnt/bus/pci/devices/0000:01:00.0"
grep -Eqx '[0-9]+' "$d/irq" || fail "irq: $(cat "$d/irq")"
for f in vendor device subsystem_vendor subsystem_device; do
	grep -Eqx '0x[0-9a-f]{4}' "$d/$f" || fail "$f: '$(cat "$d/$f")'"
done
grep -Eqx '0x[0-9a-f]{6}' "$d/class" || fail "class"
grep -Eqx '0x[0-9a-f]{2}' "$d/revision" || fail "revision"
expect_eq "endpoint resource lines" "$(wc -l <"$d/resource")" 13
expect_eq "root port resource lines" "$(wc -l <"$mnt/bus/pci/devices/0000:00:01.0/resource")" 17
if grep -Evq '^0x[0-9a-f]{16} 0x[0-9a-f]{16} 0x[0-9a-f]{16}$' "$d/resource"; then
	fail "resource format: $(head -2 "$d/resource")"
fi
# The root port's memory window, as lspci decodes it from config space, is in resource line 15.
win=$(sed -n 's/.*Memory behind bridge: \([0-9a-f]*\)-\([0-9a-f]*\).*/\1 \2/p' "$tmp/lspci.txt" | head -1)
[ -n "$win" ] || fail "lspci shows no bridge memory window"
read -r lo hi <<<"$win"
expect_eq "resource line 15 vs lspci's window" \
	"$(sed -n 15p "$mnt/bus/pci/devices/0000:00:01.0/resource")" \
	"$(printf '0x%016x 0x%016x 0x%016x' "0x$lo" "0x$hi" 0x200)"

# Plain lspci (-n, machine-readable) agrees on the IDs the vendor/device files give.
lspci -A linux-sysfs -O "sysfs.path=$mnt/bus/pci" -n -s 01:00.0 >"$tmp/n.txt"
expect_eq "lspci -n IDs" "$(awk '{print $3}' "$tmp/n.txt")" \
	"$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
pcitsmd_unmount

# SR-IOV (PCIe 6.x §9.3; Linux drivers/pci/iov.c): with --vfs 3, PF0 has an SR-IOV capability
# lspci decodes, and its VFs show the IDs the kernel gives them (the PF's vendor, the VF Device
# ID) over config spaces whose own IDs read 0xFFFF, their BAR0 from the PF's VF BAR0 ("virtual"
# in lspci: no BAR register behind it), physfn / virtfnN links and the PF's sriov_* files.
pcitsmd_mount --ports 1 --vfs 3
lspci -A linux-sysfs -O "sysfs.path=$mnt/bus/pci" -vvv >"$tmp/lspci.txt" 2>"$tmp/lspci.err" ||
	{ cat "$tmp/lspci.err" >&2; fail "lspci -vvv with VFs"; }
grep -q "Cannot open" "$tmp/lspci.err" && fail "lspci could not open a file: $(cat "$tmp/lspci.err")"
sed -n "/^01:00.0 /,/^\$/p" "$tmp/lspci.txt" >"$tmp/pf.txt"
grep -q 'Single Root I/O Virtualization (SR-IOV)' "$tmp/pf.txt" || fail "PF: no SR-IOV capability"
grep -q 'IOVCtl:	Enable+ .*MSE+' "$tmp/pf.txt" || fail "PF: VF Enable / VF MSE"
grep -q 'Initial VFs: 3, Total VFs: 3, Number of VFs: 3' "$tmp/pf.txt" || fail "PF: VF counts"
grep -q 'VF offset: 1, stride: 1, Device ID: 0003' "$tmp/pf.txt" || fail "PF: offset, stride"
d="$mnt/bus/pci/devices"
pf="$d/0000:01:00.0"
expect_eq "sriov_totalvfs" "$(cat "$pf/sriov_totalvfs")" 3
expect_eq "sriov_numvfs" "$(cat "$pf/sriov_numvfs")" 3
expect_eq "sriov_offset" "$(cat "$pf/sriov_offset")" 1
expect_eq "sriov_stride" "$(cat "$pf/sriov_stride")" 1
expect_eq "sriov_vf_device" "$(cat "$pf/sriov_vf_device")" 3
expect_eq "sriov_drivers_autoprobe" "$(cat "$pf/sriov_drivers_autoprobe")" 1
# sriov_numvfs_store's order: a number (EINVAL), at most TotalVFs (ERANGE), the same count
# (done), any other count needs the PF driver's sriov_configure (ENOENT: no such driver here).
expect_eq "sriov_numvfs junk" "$(write_errno "$pf/sriov_numvfs" x)" EINVAL
expect_eq "sriov_numvfs 4" "$(write_errno "$pf/sriov_numvfs" 4)" ERANGE
expect_eq "sriov_numvfs 3" "$(write_errno "$pf/sriov_numvfs" 3)" OK
expect_eq "sriov_numvfs 0x3" "$(write_errno "$pf/sriov_numvfs" 0x3)" OK
expect_eq "sriov_numvfs 1" "$(write_errno "$pf/sriov_numvfs" 1)" ENOENT
expect_eq "sriov_drivers_autoprobe 0" "$(write_errno "$pf/sriov_drivers_autoprobe" 0)" OK
expect_eq "sriov_drivers_autoprobe" "$(cat "$pf/sriov_drivers_autoprobe")" 0
expect_eq "sriov_drivers_autoprobe junk" "$(write_errno "$pf/sriov_drivers_autoprobe" x)" EINVAL
# PF resource line 8 (IORESOURCE 7, the first VF BAR): 3 VFs x 16 KiB.
read -r vs ve _ <<<"$(sed -n 8p "$pf/resource")"
expect_eq "PF VF BAR0 resource size" "$((ve - vs + 1))" $((3 * 16384))
for n in 1 2 3; do
	vf="$d/0000:01:00.$n"
	expect_eq "virtfn$((n - 1))" "$(readlink "$pf/virtfn$((n - 1))")" "../0000:01:00.$n"
	expect_eq "VF $n physfn" "$(readlink "$vf/physfn")" "../0000:01:00.0"
	[ "$(cd "$vf/physfn" && pwd -P)" = "$(cd "$pf" && pwd -P)" ] || fail "VF $n physfn resolves"
	expect_eq "VF $n vendor" "$(cat "$vf/vendor")" "$(cat "$pf/vendor")"
	expect_eq "VF $n device" "$(cat "$vf/device")" 0x0003
	expect_eq "VF $n config IDs" "$(od -An -tx4 -N4 "$vf/config" | tr -d ' ')" ffffffff
	[ ! -e "$vf/sriov_totalvfs" ] || fail "VF $n has sriov_totalvfs"
	read -r s e _ <<<"$(sed -n 1p "$vf/resource")"
	expect_eq "VF $n BAR0" "$((s))-$((e - s + 1))" "$((vs + (n - 1) * 16384))-16384"
	sed -n "/^01:00.$n /,/^\$/p" "$tmp/lspci.txt" >"$tmp/vf.txt"
	grep -q "Region 0: Memory at $(printf '%x' "$s") (64-bit, non-prefetchable) \[virtual\]" \
		"$tmp/vf.txt" || fail "VF $n: lspci Region 0: $(grep Region "$tmp/vf.txt")"
	expect_eq "VF $n lspci -n" \
		"$(lspci -A linux-sysfs -O "sysfs.path=$mnt/bus/pci" -n -s "01:00.$n" | awk '{print $3}')" \
		"7063:0003"
done
# pcitsm list names them as VFs of the PF, with the kernel's IDs.
pcitsm list --sysfs "$mnt" --json >"$tmp/list.json" || fail "pcitsm list with VFs"
python3 - "$tmp/list.json" <<'PY' || fail "pcitsm list --json VFs"
import json, sys
fs = {f["address"]: f for f in json.load(open(sys.argv[1]))}
for n in (1, 2, 3):
    f = fs["0000:01:00.%d" % n]
    assert f["virtfn"] and f["physfn"] == "0000:01:00.0", f
    assert (f["vendor"], f["device"]) == ("7063", "0003"), f
assert "virtfn" not in fs["0000:01:00.0"], fs["0000:01:00.0"]
PY
pcitsmd_unmount
echo "pcitsmd_lspci: 2 passed, 0 failed"
