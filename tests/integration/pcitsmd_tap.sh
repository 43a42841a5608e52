#!/bin/bash
# pcitsmd --tap DIR and `pcitsm tap` (docs/tap.md): the link's capture is readable while the
# daemon runs; before connect the traffic crosses in the clear and its known plaintext is in the
# capture; after `pcitsm connect` every TLP of `pcitsm traffic` carries the IDE prefix of the
# Secure stream and none of the plaintext appears; the decoder's summary agrees with the records,
# tshark reads the file, and the decoder refuses files that are not link captures. Exits 77 only
# without FUSE.
set -euo pipefail
. "$(dirname "$0")/lib/pcitsmd.bash"

mkdir -p "$tmp/tap"
pcitsmd_mount --ports 1 --tap "$tmp/tap"
cap="$tmp/tap/0000:00:01.0.pcap"
[ -f "$cap" ] || fail "no capture $cap"

ops=6
size=64
pcitsm traffic 0000:01:00.0 --ops $ops --size $size --sysfs "$mnt" >"$tmp/t1.txt" ||
	fail "traffic before connect: $(cat "$tmp/t1.txt")"
# Flushed per TLP: the file holds the run while the daemon still runs.
cp "$cap" "$tmp/before.pcap"
pcitsm connect 0000:01:00.0 --sysfs "$mnt" >"$tmp/c.txt" 2>&1 || { cat "$tmp/c.txt"; fail "connect"; }
pcitsm traffic 0000:01:00.0 --ops $ops --size $size --sysfs "$mnt" >"$tmp/t2.txt" ||
	fail "traffic after connect: $(cat "$tmp/t2.txt")"
pcitsm tap "$cap" --json >"$tmp/tap.json" || fail "pcitsm tap --json exited $?"
pcitsm tap "$cap" >"$tmp/tap.txt" || fail "pcitsm tap exited $?"
pcitsmd_unmount

python3 - "$tmp/before.pcap" "$cap" "$tmp/tap.json" $ops $size <<'EOF' || fail "capture check"
import json, sys

before, after, js, ops, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def fill(seed, n):
    # lib/tsm/traffic.c fill(): what operation i writes (seed i + 1).
    out = bytearray()
    for _ in range(n):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(seed >> 56)
    return bytes(out)

b = open(before, "rb").read()
a = open(after, "rb").read()
assert a[:len(b)] == b, "the capture was rewritten, not appended to"
secure = a[len(b):]
patterns = [fill(i + 1, size) for i in range(ops)]
for i, p in enumerate(patterns):
    assert p in b, f"operation {i}'s plaintext is not in the capture of the clear link"
    assert p[:16] not in secure, f"operation {i}'s plaintext crossed the Secure stream"

d = json.load(open(js))
tlps, s = d["tlps"], d["summary"]
assert s["root_port"] == "0000:00:01.0", s
assert s["tlps"] == len(tlps) and s["malformed"] == 0, s
assert s["down"] + s["up"] == s["tlps"] and s["ide"] + s["clear"] == s["tlps"], s
# Each operation: a write, a read and its completion (3 TLPs), both runs.
n_clear = 3 * ops
assert s["clear"] == n_clear and s["ide"] == 3 * ops, s
clear, ide = tlps[:n_clear], tlps[n_clear:]
assert all(not t["ide"] for t in clear), "a TLP before connect carries the IDE prefix"
for t in ide:
    assert t["ide"], t
    p = t["prefix"]
    assert p["stream_id"] == ide[0]["prefix"]["stream_id"] and p["m"] == 1, t
    assert p["sub_stream"] == {"MWr": "PR", "MRd": "NPR", "CplD": "CPL"}[t["type"]], t
    assert len(t["mac"]) == 24, t
    if t["type"] != "MRd":
        assert t["payload_bytes"] == size, t
assert s["encrypted_payload_bytes"] == 2 * ops * size, s
assert [t["seq"] for t in tlps] == list(range(len(tlps))), "sequence numbers"
print(f"pcitsmd_tap: {s['clear']} TLPs in the clear, {s['ide']} IDE TLPs, no plaintext leaked")
EOF

lines=$(grep -c ' IDE sid ' "$tmp/tap.txt")
[ "$lines" -eq $((3 * ops)) ] || fail "pcitsm tap: $lines IDE lines, want $((3 * ops))"
grep -q "^link 0000:00:01.0: $((6 * ops)) TLPs" "$tmp/tap.txt" || fail "summary: $(tail -2 "$tmp/tap.txt")"

# tshark reads the link type (as user encapsulation, frames only).
if command -v tshark >/dev/null 2>&1; then
	frames=$(tshark -r "$cap" 2>/dev/null | wc -l)
	[ "$frames" -eq $((6 * ops)) ] || fail "tshark shows $frames frames, want $((6 * ops))"
fi

# Not link captures: no file, text, a DOE capture's link type, a file cut inside a packet.
rc=0; pcitsm tap "$tmp/none.pcap" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "no file: exit $rc"
echo "text" >"$tmp/text.pcap"
rc=0; pcitsm tap "$tmp/text.pcap" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "text file: exit $rc"
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[20:24] = (292).to_bytes(4, 'little')
open(sys.argv[2], 'wb').write(d)" "$cap" "$tmp/doe.pcap"
rc=0; pcitsm tap "$tmp/doe.pcap" 2>"$tmp/err.txt" || rc=$?
[ "$rc" -eq 1 ] && grep -q "link type 292" "$tmp/err.txt" || fail "DOE link type: exit $rc"
# A record whose pcap header says it was cut (caplen < len): no record of ours.
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[24 + 12:24 + 16] = (int.from_bytes(d[24 + 12:24 + 16], 'little') + 4).to_bytes(4, 'little')
open(sys.argv[2], 'wb').write(d)" "$cap" "$tmp/caplen.pcap"
rc=0; pcitsm tap "$tmp/caplen.pcap" >"$tmp/caplen.txt" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "malformed record.*E_TRUNCATED" "$tmp/caplen.txt" &&
	grep -q "1 malformed" "$tmp/caplen.txt" || fail "caplen < len: exit $rc: $(head -2 "$tmp/caplen.txt")"
head -c $(( $(stat -c %s "$cap") - 10 )) "$cap" >"$tmp/cut.pcap"
rc=0; pcitsm tap "$tmp/cut.pcap" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "cut file: exit $rc"
rc=0; pcitsm tap 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "no operand: exit $rc"

# The embedded platform: `pcitsm traffic --tap FILE` alone (its own pcitsmd, no stream: the clear
# link), nothing left behind; refused with a mirror, whose pcitsmd captures itself.
if ! compgen -G "/sys/class/tsm/tsm*" >/dev/null; then
	mkdir -p "$tmp/t"
	(
		unset PCITSM_SYSFS
		export TMPDIR="$tmp/t"
		pcitsm traffic 0000:02:00.0 --ops 3 --size 32 --tap "$tmp/emb.pcap" >/dev/null ||
			fail "embedded traffic --tap"
		[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind in TMPDIR: $(ls -A "$TMPDIR")"
		pcitsm tap "$tmp/emb.pcap" >"$tmp/emb.txt" || fail "pcitsm tap of the embedded capture"
		grep -q "^link 0000:00:02.0: 9 TLPs (5 RP->EP, 4 EP->RP): 0 IDE, 9 in the clear" \
			"$tmp/emb.txt" || fail "embedded capture: $(cat "$tmp/emb.txt")"
		rc=0; PCITSM_SYSFS="$tmp/sys" pcitsm traffic 0000:01:00.0 --tap "$tmp/x.pcap" \
			2>"$tmp/err.txt" || rc=$?
		[ "$rc" -eq 1 ] && grep -q "pcitsmd --tap DIR" "$tmp/err.txt" || fail "PCITSM_SYSFS: $rc"
		rc=0; pcitsm traffic 0000:01:00.0 --sysfs "$tmp/sys" --tap "$tmp/x.pcap" 2>/dev/null ||
			rc=$?
		[ "$rc" -eq 1 ] && [ ! -e "$tmp/x.pcap" ] || fail "--sysfs with --tap: $rc"
	)
fi
echo "pcitsmd_tap: 1 passed, 0 failed"
