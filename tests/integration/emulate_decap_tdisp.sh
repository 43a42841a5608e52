#!/bin/bash
# pcitsm emulate answers the spdm-emu socket command DECAP_TDISP (0x0002): a bare TDISP
# GET_DEVICE_INTERFACE_STATE outside any session, FUNCTION_ID = the function's requester ID, is
# answered NORMAL with DEVICE_INTERFACE_STATE (CONFIG_UNLOCKED for a fresh device); an unknown
# function gets TDISP_ERROR INVALID_INTERFACE, a LOCK outside a session UNSUPPORTED_REQUEST; the
# connection then still serves SPDM (GET_VERSION) and SHUTDOWN stops the server.
set -euo pipefail
. "$(dirname "$0")/lib/emulate.bash"

emulate_start
python3 - "$port" <<'PY' >"$work/client.out" 2>&1 || fail "DECAP_TDISP client"
import socket, struct, sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)

def frame(cmd, transport, payload=b""):
    s.sendall(struct.pack(">III", cmd, transport, len(payload)) + payload)
    hdr = b""
    while len(hdr) < 12:
        c = s.recv(12 - len(hdr))
        assert c, "closed"
        hdr += c
    rcmd, rtr, n = struct.unpack(">III", hdr)
    body = b""
    while len(body) < n:
        c = s.recv(n - len(body))
        assert c, "closed"
        body += c
    return rcmd, rtr, body

def tdisp(code, fid, payload=b""):
    # Protocol ID 1, version 1.0, code, 2 reserved, INTERFACE_ID (FUNCTION_ID u32, 8 reserved).
    return bytes([1, 0x10, code, 0, 0]) + struct.pack("<I", fid) + bytes(8) + payload

assert frame(0xDEAD, 2, b"Client Hello!\0")[0] == 0xDEAD
cmd, tr, rsp = frame(0x0002, 2, tdisp(0x85, 0x0100))
assert cmd == 0x0001 and tr == 2, (hex(cmd), tr)
assert rsp[:3] == bytes([1, 0x10, 0x05]) and struct.unpack_from("<I", rsp, 5)[0] == 0x0100, rsp.hex()
assert len(rsp) == 18 and rsp[17] == 0, rsp.hex()  # CONFIG_UNLOCKED
cmd, tr, rsp = frame(0x0002, 2, tdisp(0x85, 0x7700))
assert cmd == 0x0001 and rsp[2] == 0x7F and struct.unpack_from("<I", rsp, 17)[0] == 0x0101, rsp.hex()
lock = struct.pack("<HBBqQ", 0, 0, 0, 0, 0)
cmd, tr, rsp = frame(0x0002, 2, tdisp(0x83, 0x0100, lock))
assert cmd == 0x0001 and rsp[2] == 0x7F and struct.unpack_from("<I", rsp, 17)[0] == 0x0007, rsp.hex()
# The same connection still carries SPDM: GET_VERSION in a DOE object (CMA, 3 DW).
get_version = bytes([0x10, 0x84, 0, 0])
doe = struct.pack("<HBBI", 1, 1, 0, 3) + get_version
cmd, tr, rsp = frame(0x0001, 2, doe)
assert cmd == 0x0001 and rsp[8 + 1] == 0x04, rsp.hex()
cmd, _, _ = frame(0xFFFE, 2)
assert cmd == 0xFFFE
print("decap ok")
PY
grep -q "decap ok" "$work/client.out" || fail "client output"
emulate_wait_exit
echo "emulate_decap_tdisp: DECAP_TDISP state, INVALID_INTERFACE, UNSUPPORTED_REQUEST, SPDM after"
