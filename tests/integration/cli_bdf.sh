#!/bin/bash
# PCI addresses on the command line are parsed once, where they enter: a bad one is refused before
# anything is opened, with a message that names the input and says what is wrong, and exit 2
# (usage) for the TSM commands or 1 for a TARGET; a good one in either case reaches sysfs in the
# lowercase form sysfs uses.
set -euo pipefail
fail() { echo "cli_bdf: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sys/bus/pci/devices"

# refuse CMD... WANT_RC BAD WHAT: pcitsm CMD... BAD exits WANT_RC and says "'BAD' is not a PCI
# address: ...WHAT".
refuse() {
	local want=$1 bad=$2 what=$3 rc=0 err
	shift 3
	err=$(pcitsm "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq "$want" ] || fail "pcitsm $*: exit $rc, want $want"
	case "$err" in
	*"'$bad' is not a PCI address: "*"$what"*) ;;
	*) fail "pcitsm $*: no message naming '$bad' ($what): $err" ;;
	esac
}

for cmd in connect disconnect rekey traffic status; do
	refuse 2 01:00.0 "expected DDDD:BB:DD.F" "$cmd" 01:00.0 --sysfs "$tmp/sys"
	refuse 2 0000:01:20.0 "device 20 is above 1f" "$cmd" 0000:01:20.0 --sysfs "$tmp/sys"
	refuse 2 0000:01:00.8 "function 8 is above 7" "$cmd" 0000:01:00.8 --sysfs "$tmp/sys"
	refuse 2 0000:zz:00.0 "hexadecimal" "$cmd" 0000:zz:00.0 --sysfs "$tmp/sys"
done
refuse 2 0000:01:00.9 "function 9 is above 7" connect tcp:127.0.0.1:1 --device 0000:01:00.9
refuse 1 0000:01:1x.0 "hexadecimal" auth 0000:01:1x.0 --sysfs "$tmp/sys"
refuse 1 "../../etc" "expected DDDD:BB:DD.F" auth ../../etc --sysfs "$tmp/sys"

# A good address, in capitals, is the device sysfs names in lowercase.
rc=0
out=$(pcitsm status 0000:3B:1F.7 --sysfs "$tmp/sys") || rc=$?
[ "$rc" -eq 1 ] || fail "status of a missing device: exit $rc, want 1"
[ "$out" = "0000:3b:1f.7: no such device" ] || fail "status of a missing device: $out"
echo "cli_bdf: bad addresses refused with their reason by every command; good ones canonical"
