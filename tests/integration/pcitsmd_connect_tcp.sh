#!/bin/bash
# pcitsm connect tcp:HOST:PORT: the device half of connect (SPDM authentication, session, IDE_KM
# QUERY, six KEY_PROGs, K_SET_GO; then K_SET_STOP and END_SESSION) against spdm-emu responders,
# with an emulated root port. Against a pcitsmd device port whose config file the mirror exposes
# (--device), both ends reach Secure, at PortIndex 0 and 1; failures name the step and the peer's
# status.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

pcitsmd_mount --ports 2 --fault 0000:02:00.0=refuse-key-prog \
	--device-port 0000:01:00.0=127.0.0.1:0 --device-port 0000:02:00.0=127.0.0.1:0
p1=$(sed -n 's/^tcp_port=0000:01:00.0=//p' "$mnt/pcitsm/platform")
p2=$(sed -n 's/^tcp_port=0000:02:00.0=//p' "$mnt/pcitsm/platform")

pcitsm connect "tcp:127.0.0.1:$p1" --stream-id 9 --device 0000:01:00.0 --sysfs "$mnt" \
	--pcap "$tmp/connect.pcap" >"$tmp/ok.txt" 2>&1 ||
	{ cat "$tmp/ok.txt"; fail "connect tcp with --device"; }
# The capture: LINKTYPE_PCI_DOE, CMA-SPDM objects (type 1) then secured ones (type 2).
python3 - "$tmp/connect.pcap" <<'PY' || fail "connect --pcap capture"
import struct, sys
d = open(sys.argv[1], "rb").read()
magic, = struct.unpack_from("<I", d, 0)
e = "<" if magic == 0xa1b2c3d4 else ">"
assert struct.unpack_from(e + "I", d, 0)[0] == 0xa1b2c3d4, "pcap magic"
assert struct.unpack_from(e + "I", d, 20)[0] == 292, "link type"
off, types = 24, []
while off < len(d):
    incl = struct.unpack_from(e + "I", d, off + 8)[0]
    obj = d[off + 16:off + 16 + incl]
    assert obj[0:2] == b"\x01\x00", "DOE vendor ID 0x0001"
    types.append(obj[2])
    off += 16 + incl
assert types.count(1) >= 8 and types.count(2) >= 20, types
PY
for step in transport spdm_auth session ide_query stream_setup key_prog k_set_go enable disable \
	    k_set_stop end_session; do
	grep -q "^  $step *ok" "$tmp/ok.txt" || { cat "$tmp/ok.txt"; fail "step $step not reported ok"; }
done
grep -q "Stream ID 9, key set K0; root port Secure, device 0000:01:00.0 Secure" "$tmp/ok.txt" ||
	{ cat "$tmp/ok.txt"; fail "both ends Secure"; }
# Afterwards the device's block is idle again (Stream ID 255, Enable clear).
pcitsm list --sysfs "$mnt" --json >"$tmp/list.json"
python3 - "$tmp/list.json" <<'PY' || fail "the device's stream block is not idle"
import json, sys
for f in json.load(open(sys.argv[1])):
    if f["address"] == "0000:01:00.0":
        b = f["ide"]["selective_stream_blocks"][0]
        assert not b["enable"] and b["stream_id"] == 255 and not b["rid_valid"], b
        break
else:
    raise SystemExit("no 0000:01:00.0")
PY

# PortIndex 1, as DMTF's requester and TF-RMM address an endpoint: every IDE_KM request carries
# it, the device answers; the debug log shows the one sequence's order (QUERY, the KEY_PROGs,
# K_SET_GO of the receivers at both ends, then the transmitters).
PCITSM_LOG=debug pcitsm connect "tcp:127.0.0.1:$p1" --stream-id 9 --port-index 1 \
	--device 0000:01:00.0 --sysfs "$mnt" >"$tmp/p1.txt" 2>&1 ||
	{ cat "$tmp/p1.txt"; fail "connect tcp --port-index 1"; }
grep -q "PortIndex 1 (MaxPortIndex 1).*registers match config space" "$tmp/p1.txt" ||
	{ cat "$tmp/p1.txt"; fail "QUERY at PortIndex 1, cross-checked"; }
grep -o "idekm link: .*" "$tmp/p1.txt" >"$tmp/order.txt"
python3 - "$tmp/order.txt" <<'PY' || { cat "$tmp/order.txt"; fail "the order of the IDE_KM sequence"; }
import sys
ops = [l.strip()[len("idekm link: "):] for l in open(sys.argv[1])]
assert ops[0] == "QUERY PortIndex 1 at the device", ops[0]
go = [i for i, o in enumerate(ops) if o.startswith("K_SET_GO")]
kp = [i for i, o in enumerate(ops) if o.startswith("KEY_PROG")]
rx = [i for i in go if " Rx " in ops[i]]
tx = [i for i in go if " Tx " in ops[i]]
assert len(kp) == 12 and len(rx) == 6 and len(tx) == 6, ops
assert max(kp) < min(go) and max(rx) < min(tx), ops
assert {ops[i].split(" at the ")[1] for i in rx} == {"device", "partner"}, ops
assert ops.index("Enable") > max(tx), ops
assert sum(o.startswith("K_SET_STOP") for o in ops) == 12, ops
PY
grep -q "Stream ID 9, key set K0; root port Secure, device 0000:01:00.0 Secure" "$tmp/p1.txt" ||
	{ cat "$tmp/p1.txt"; fail "both ends Secure at PortIndex 1"; }
# A PortIndex is one byte.
for bad in 256 -1 x ""; do
	if pcitsm connect "tcp:127.0.0.1:$p1" --port-index "$bad" >"$tmp/u.txt" 2>&1; then
		fail "--port-index '$bad' accepted"
	fi
done

# Without the device's config file, a device that needs its Stream ID first refuses KEY_PROG.
if pcitsm connect "tcp:127.0.0.1:$p1" >"$tmp/n.txt" 2>&1; then fail "connect tcp without --device"; fi
grep -q "step key_prog failed.*KP_ACK status 3" "$tmp/n.txt" || { cat "$tmp/n.txt"; fail "key_prog status 3"; }
grep -q "end_session *ok" "$tmp/n.txt" || fail "no END_SESSION after the failure"

# The faulted device refuses KEY_PROG with status 4: the step and the status are named.
if pcitsm connect "tcp:127.0.0.1:$p2" --device 0000:02:00.0 --sysfs "$mnt" >"$tmp/f.txt" 2>&1; then
	fail "connect tcp to a device refusing KEY_PROG"
fi
grep -q "step key_prog failed.*KP_ACK status 4" "$tmp/f.txt" || { cat "$tmp/f.txt"; fail "key_prog status 4"; }
pcitsmd_unmount

# `pcitsm emulate` serves the same device (SPDM and IDE_KM): tests/integration/emulate_connect_tcp.sh.
echo "pcitsmd_connect_tcp: all checks passed"
