#!/bin/bash
# pcitsm list on a kernel before 6.15 (no doe_features/): pcitsmd --no-doe-features mirrors such a
# kernel. As root, every DOE mailbox in config space (Extended Capability 0x2E) is listed with the
# features DOE discovery finds through the config file; as another user, the mirror (like Linux)
# gives 64 bytes of config space and list says so; a readable config space without root gives
# "features unknown". Exits 77 only when FUSE is unusable.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (discovery through the config file)"; exit 77; }
pcitsmd_mount --ports 2 --no-doe-features
[ ! -e "$mnt/bus/pci/devices/0000:01:00.0/doe_features" ] || fail "doe_features/ still there"
ls "$mnt/bus/pci/devices/0000:01:00.0/" | grep -q doe_features && fail "doe_features listed"

# Root: features from discovery.
pcitsm list --sysfs "$mnt" >"$tmp/root.txt"
grep -q '^  DOE: mailbox at 0x100: 0001:00 0001:01 0001:02 (DOE discovery)$' "$tmp/root.txt" ||
	{ cat "$tmp/root.txt"; fail "root: mailbox with discovered features"; }
pcitsm list --sysfs "$mnt" --json >"$tmp/root.json"
python3 - "$tmp/root.json" <<'PY' || fail "root: --json"
import json, sys
fs = {f["address"]: f for f in json.load(open(sys.argv[1]))}
ep = fs["0000:01:00.0"]
assert ep["doe_features_source"] == "discovery", ep
assert ep["doe_features"] == ["0001:00", "0001:01", "0001:02"], ep["doe_features"]
assert ep["doe_mailboxes"] == [{"offset": 256, "features": ["0001:00", "0001:01", "0001:02"]}]
rp = fs["0000:00:01.0"]
assert rp["doe_features_source"] == "none" and rp["doe_mailboxes"] == [], rp
assert ep["config_readable"] == 4096 and "ide" in ep
PY
# Discovery left the mailbox usable: SPDM over the same config file still works.
pcitsm auth 0000:01:00.0 --sysfs "$mnt" >"$tmp/auth.txt" 2>&1 ||
	{ cat "$tmp/auth.txt"; fail "auth after list's discovery"; }

# Not root: 64 bytes of config space readable.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod a+rx "$tmp"
nobody pcitsm list --sysfs "$mnt" >"$tmp/user.txt" 2>&1 || { cat "$tmp/user.txt"; fail "list as nobody"; }
grep -q 'DOE: unknown (config space not readable past 64 bytes: not root)' "$tmp/user.txt" ||
	{ cat "$tmp/user.txt"; fail "nobody: unreadable config space named"; }
grep -q '^0000:01:00.0 7063:0002 class 120000' "$tmp/user.txt" || fail "nobody: IDs from 64 bytes"
nobody pcitsm list --sysfs "$mnt" --json >"$tmp/user.json"
python3 - "$tmp/user.json" <<'PY' || fail "nobody: --json"
import json, sys
ep = {f["address"]: f for f in json.load(open(sys.argv[1]))}["0000:01:00.0"]
assert ep["doe_features_source"] == "config_unreadable" and ep["config_readable"] == 64, ep
assert "error" not in ep and "ide" not in ep, ep
PY

# Config space readable but not root (a copy of the config file in a plain tree): the mailbox is
# listed, its features unknown; as root on that copy, discovery fails (no device behind a file).
mkdir -p "$tmp/copy/bus/pci/devices/0000:01:00.0"
cp "$mnt/bus/pci/devices/0000:01:00.0/config" "$tmp/copy/bus/pci/devices/0000:01:00.0/config"
chmod -R a+rX "$tmp/copy"
nobody pcitsm list --sysfs "$tmp/copy" >"$tmp/copy.txt"
grep -q 'DOE: mailbox at 0x100: features unknown (no doe_features/, as before Linux 6.15; discovery needs root)' \
	"$tmp/copy.txt" || { cat "$tmp/copy.txt"; fail "readable, not root: features unknown"; }
nobody pcitsm list --sysfs "$tmp/copy" --json | python3 -c '
import json, sys
ep = json.load(sys.stdin)[0]
assert ep["doe_features_source"] == "unknown", ep
assert ep["doe_mailboxes"] == [{"offset": 256, "features": None}], ep' || fail "unknown --json"
timeout 60 pcitsm list --sysfs "$tmp/copy" >"$tmp/copy-root.txt"
grep -q 'DOE: mailbox at 0x100: features unknown (discovery failed: ' "$tmp/copy-root.txt" ||
	{ cat "$tmp/copy-root.txt"; fail "root on a plain file: discovery failure named"; }

# Without the option, doe_features/ is used and no exchange is made.
pcitsmd_unmount
pcitsmd_mount --ports 1
pcitsm list --sysfs "$mnt" --json | python3 -c '
import json, sys
ep = {f["address"]: f for f in json.load(sys.stdin)}["0000:01:00.0"]
assert ep["doe_features_source"] == "doe_features", ep
assert sorted(ep["doe_features"]) == ["0001:01", "0001:02", "doe_discovery"], ep' ||
	fail "6.15+: doe_features/"
pcitsmd_unmount
echo "pcitsmd_old_kernel: 1 passed, 0 failed"
