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
echo "pcitsmd_lspci: 1 passed, 0 failed"
