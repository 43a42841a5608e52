#!/bin/bash
# pcitsm list against a fake sysfs tree whose config spaces are encoded here, in Python, from the
# register layouts of the spec (independently of the C encoders): decoding, TSM attributes, the
# host bridge's available_secure_streams, and a malformed capability list reported, not fatal.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" <<'PY'
import os, struct, sys
root = sys.argv[1]

def cfg_space():
    return bytearray(4096)

def put32(b, off, v): struct.pack_into('<I', b, off, v)
def put16(b, off, v): struct.pack_into('<H', b, off, v)

def endpoint(tee=True, loop=False):
    b = cfg_space()
    put16(b, 0, 0x1234); put16(b, 2, 0x5678)
    put16(b, 6, 0x10)                       # status: capabilities list
    put32(b, 8, 0x12000001)                 # class 12 00 00, revision 1
    b[0x34] = 0x40
    put16(b, 0x40, 0x0010)                  # PCIe capability, next 0
    put16(b, 0x42, 0x0002)                  # version 2, type Endpoint
    put32(b, 0x44, (1 << 30) if tee else 0) # DEVCAP TEE-IO
    # DOE at 0x100 -> IDE at 0x118
    put32(b, 0x100, 0x2e | 2 << 16 | 0x118 << 20)
    nxt = 0x100 if loop else 0              # a loop back to the DOE capability
    put32(b, 0x118, 0x30 | 1 << 16 | nxt << 20)
    cap = 1 | 2 | 1 << 4 | 1 << 6 | 0 << 13 | 1 << 16 | 1 << 24   # link, sel, aggr, IDE_KM, 1 TC, 2 sel, TEE-lim
    put32(b, 0x118 + 4, cap)
    # Link block at +0x0c (ctl, sts), selective blocks from +0x14, 1 address block each (32 bytes)
    sel0 = 0x118 + 0x14
    for i in range(2):
        blk = sel0 + i * 32
        put32(b, blk + 0, 1)                # one address association block
        if i == 1:
            put32(b, blk + 4, 1 | 1 << 22 | 1 << 23 | 5 << 24)   # En, Default, TEE-lim, ID 5
            put32(b, blk + 8, 2)                                 # Secure
            put32(b, blk + 0x0c, 0xffff << 8)                    # RID limit ffff
            put32(b, blk + 0x10, 1 | 0x0100 << 8)                # valid, base 0100
            put32(b, blk + 0x14, 1 | 0x800 << 8 | 0x8ff << 20)   # 0x80000000..0x8fffffff
            put32(b, blk + 0x18, 0x1)                            # limit upper
            put32(b, blk + 0x1c, 0x1)                            # base upper
        else:
            put32(b, blk + 4, 255 << 24)    # idle: reserved ID
    return b

def device(bdf, cfg, attrs):
    d = os.path.join(root, 'devices', 'pci0000:00', bdf)
    os.makedirs(os.path.join(d, 'doe_features'), exist_ok=True)
    open(os.path.join(d, 'config'), 'wb').write(cfg)
    for name, val in attrs.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, 'w').write(val)
    for f in ('0001:00', '0001:01', '0001:02'):
        open(os.path.join(d, 'doe_features', f), 'w').write('')
    link = os.path.join(root, 'bus', 'pci', 'devices', bdf)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(os.path.relpath(d, os.path.dirname(link)), link)

os.makedirs(os.path.join(root, 'devices', 'pci0000:00'))
open(os.path.join(root, 'devices', 'pci0000:00', 'available_secure_streams'), 'w').write('255\n')
device('0000:01:00.0', endpoint(), {'tsm/connect': 'tsm0\n', 'authenticated': 'tsm0\n',
                                    'tsm/dsm': '0000:01:00.0\n', 'tsm/bound': '\n'})
device('0000:02:00.0', endpoint(tee=False, loop=True), {})
# Not root: a 256-byte config file, as an unprivileged reader sees it.
device('0000:03:00.0', endpoint()[:256], {})
PY

pcitsm list --sysfs "$tmp" --json > "$tmp/out.json"
python3 - "$tmp/out.json" <<'PY'
import json, sys
fs = {f['address']: f for f in json.load(open(sys.argv[1]))}
assert set(fs) == {'0000:01:00.0', '0000:02:00.0', '0000:03:00.0'}, fs.keys()
a = fs['0000:01:00.0']
assert a['vendor'] == '1234' and a['device'] == '5678' and a['class'] == '120000', a
assert a['tee_io'] is True and a['type'] == 'Endpoint'
assert a['doe_features'] == ['0001:00', '0001:01', '0001:02'] or sorted(a['doe_features']) == ['0001:00', '0001:01', '0001:02']
ide = a['ide']
assert ide['link'] and ide['selective'] and ide['aggregation'] and ide['ide_km'] and ide['tee_limited']
assert ide['link_tcs'] == 1 and ide['selective_streams'] == 2
s0, s1 = ide['selective_stream_blocks']
assert s0['stream_id'] == 255 and not s0['enable'] and s0['state'] == 'Insecure'
assert s1['enable'] and s1['stream_id'] == 5 and s1['state'] == 'Secure', s1
assert s1['default_stream'] and s1['tee_limited'] and s1['rid_valid']
assert s1['rid_base'] == '0100' and s1['rid_limit'] == 'ffff'
aa = s1['address_association'][0]
assert aa['valid'] and aa['base'] == '0000000180000000' and aa['limit'] == '000000018fffffff', aa
t = a['tsm']
assert t['connect'] == 'tsm0' and t['authenticated'] == 'tsm0' and t['dsm'] == '0000:01:00.0'
assert t['bound'] == '' and t['available_secure_streams'] == 255 and t['host_bridge'] == 'pci0000:00'
b = fs['0000:02:00.0']
assert b['tee_io'] is False
assert 'loop' in b.get('error', ''), b   # the capability loop is named, not fatal
c = fs['0000:03:00.0']
assert c['config_size'] == 256 and '256' in c['note'] and 'ide' not in c
print('list_sysfs: json ok')
PY

# Text output carries pciutils' words and the TSM attributes.
pcitsm list --sysfs "$tmp" > "$tmp/out.txt"
grep -q 'Selective 1: Secure ID 5' "$tmp/out.txt"
grep -q 'TSM: connect=tsm0' "$tmp/out.txt"
grep -q "capability list loops" "$tmp/out.txt"

# $PCITSM_SYSFS is the root when --sysfs is absent (one export points every command at a
# mirror), and --sysfs wins over it.
PCITSM_SYSFS="$tmp" pcitsm list > "$tmp/env.txt"
cmp "$tmp/out.txt" "$tmp/env.txt"
PCITSM_SYSFS="$tmp/nope" pcitsm list --sysfs "$tmp" > "$tmp/env.txt"
cmp "$tmp/out.txt" "$tmp/env.txt"

# Usage errors exit 2; a missing sysfs root exits 1 with a message.
set +e
pcitsm list --bogus >/dev/null 2>&1; [ $? -eq 2 ] || { echo "bad option should exit 2"; exit 1; }
pcitsm list --sysfs "$tmp/nope" 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'cannot read' "$tmp/err"
echo "list_sysfs: 1 passed, 0 failed"
