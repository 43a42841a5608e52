#!/bin/bash
# report / accept / policy make reading the evidence over generic netlink (docs/genl.md), on this
# machine's kernel: --netlink forces the real host's path, and a kernel without the proposed
# pci-tsm family gives the clean "no such family" error (ENOENT from nlctrl), exit 1, nothing
# written to tsm/accept. Without --netlink, on a --sysfs root, the project directory is used.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
bdf=0000:01:00.0
python3 "$PCITSM_SRC/tests/integration/lib/tdisp_tree.py" "$tmp/root"
acc="$tmp/root/bus/pci/devices/$bdf/tsm/accept"

if [ -e /sys/class/tsm/tsm0/pci_mode ]; then
	echo "this kernel has the devsec TSM (pci_mode): the no-family case cannot be shown here"
	exit 77
fi
if pcitsm report "$bdf" --netlink 2>"$tmp/e.txt"; then fail "report --netlink passed"; fi
if grep -q "no generic netlink socket" "$tmp/e.txt"; then
	echo "no generic netlink here: $(cat "$tmp/e.txt")"
	exit 77
fi
want="the kernel has no pci-tsm netlink family (ENOENT from nlctrl)"
grep -qF "pcitsm: report $bdf: $want" "$tmp/e.txt" ||
	{ cat "$tmp/e.txt"; fail "report: no clean error"; }
grep -qF "proposed devsec" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "report: the proposal not named"; }

if pcitsm policy make "$bdf" --netlink -o "$tmp/p.json" 2>"$tmp/e.txt"; then fail "policy make passed"; fi
grep -qF "$want" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "policy make: no clean error"; }
[ ! -e "$tmp/p.json" ] || fail "policy make wrote a policy"

if pcitsm accept "$bdf" --netlink --sysfs "$tmp/root" 2>"$tmp/e.txt"; then fail "accept passed"; fi
grep -qF "$want" "$tmp/e.txt" || { cat "$tmp/e.txt"; fail "accept: no clean error"; }
[ "$(cat "$acc")" = "" ] || fail "accept wrote tsm/accept"

# The same root without --netlink: the project directory's evidence, accepted.
pcitsm report "$bdf" --sysfs "$tmp/root" >/dev/null || fail "report from the project directory"
pcitsm accept "$bdf" --sysfs "$tmp/root" >/dev/null || fail "accept from the project directory"
[ "$(cat "$acc")" = "1" ] || fail "accept did not write tsm/accept"
# --netlink is an option of report, accept and policy make only.
if pcitsm lock "$bdf" --netlink --sysfs "$tmp/root" 2>/dev/null; then fail "lock took --netlink"; fi
echo "ok: over netlink, this kernel: $want"
