#!/usr/bin/env python3
"""Write the corpus entries of tests/fuzz/corpus/tdisp_rsp/ and sva_desc/ that complete "a
valid message of every kind" (the older entries there stay as they are), and the corpora of
transport_decap_tdisp and sva_proto.

tdisp_rsp input (tests/fuzz/tdisp_rsp.c): records [flags][len][request]; flags bit 0 picks
session 1 or 2, bit 7 puts the TDI's real nonce into a START. A TDISP request (PCIe 6.x §11.3)
is the Protocol ID 0x01, TDISPVersion 0x10, the code, 2 reserved bytes and the 12-byte
INTERFACE_ID (function ID u32, 8 reserved), then the request's own fields, little-endian.
The DSM implements 0x81-0x87; 0x88-0x8B are answered UNSUPPORTED_REQUEST, so their payloads
only need the header to reach that answer.

sva_desc input: the SVA socket protocol's request (16 bytes) and reply (24 bytes) as
lib/sva/sva_priv.h lays them out. sva_proto input: a request as the server received it.

    python3 tests/fuzz/gen_tdisp_sva_corpus.py [CORPUS_DIR]
"""

import os
import struct
import sys

TDI0, TDI1 = 0x100, 0x101
NONCE = 0x80


def tdisp(code, fid=TDI0, body=b""):
    return bytes([0x01, 0x10, code, 0, 0]) + struct.pack("<I", fid) + bytes(8) + body


def rec(req, flags=0):
    assert len(req) < 256
    return bytes([flags, len(req)]) + req


def version(fid=TDI0):
    return tdisp(0x81, fid)


def caps(fid=TDI0):
    return tdisp(0x82, fid, struct.pack("<I", 0))  # TSM_CAPS


def lock(fid=TDI0):
    # FLAGS (MSI-X locked), default Stream ID 7, reserved, MMIO_REPORTING_OFFSET, P2P mask
    return tdisp(0x83, fid, struct.pack("<HBBQQ", 0x0004, 7, 0, 0xD0000000, 0))


def report(fid=TDI0, offset=0, length=0x40):
    return tdisp(0x84, fid, struct.pack("<HH", offset, length))


def state(fid=TDI0):
    return tdisp(0x85, fid)


def start(fid=TDI0):
    return tdisp(0x86, fid, bytes(32))  # the nonce: put in by the target (flag bit 7)


def stop(fid=TDI0):
    return tdisp(0x87, fid)


def bind_p2p(fid=TDI0):
    return tdisp(0x88, fid, bytes([1, 0, 0, 0]))


def unbind_p2p(fid=TDI0):
    return tdisp(0x89, fid, bytes([1, 0, 0, 0]))


def set_mmio_attribute(fid=TDI0):
    # one MMIO range: first page u64, number of pages u32, attributes u16, range ID u16
    return tdisp(0x8A, fid, struct.pack("<QIHH", 0xFE000, 4, 0, 0))


def vdm(fid=TDI0):
    # registry ID (PCI-SIG 0x01... as SPDM: vendor ID length 2), vendor ID, then vendor data
    return tdisp(0x8B, fid, bytes([0x03, 2]) + struct.pack("<H", 0x1AF4) + b"hello")


def flow(fid, session_flag=0):
    return (rec(version(fid), session_flag) + rec(caps(fid), session_flag) +
            rec(lock(fid), session_flag) + rec(report(fid), session_flag) +
            rec(state(fid), session_flag) + rec(start(fid), session_flag | NONCE) +
            rec(state(fid), session_flag))


TDISP_RSP = {
    # Every request code in order, the START with the real nonce.
    "all_kinds": flow(TDI0) + rec(stop()) + rec(state()) + rec(bind_p2p()) +
    rec(unbind_p2p()) + rec(set_mmio_attribute()) + rec(vdm()),
    "unbind_p2p": rec(unbind_p2p()),
    "set_mmio_attribute": rec(lock()) + rec(set_mmio_attribute()),
    "vdm": rec(vdm()),
    "stop_locked": rec(lock()) + rec(stop()) + rec(state()),
    "stop_run": flow(TDI0) + rec(stop()) + rec(state()),
    "report_portions": rec(lock()) + rec(report(TDI0, 0, 0x10)) + rec(report(TDI0, 0x10, 0x10)) +
    rec(report(TDI0, 0x20, 0x100)),
    # Both TDIs, the second over session 2, where no IDE key was programmed: its LOCK is refused
    # (the keys must be programmed and started over the same session, PCIe 6.4 §11.3.8).
    "two_tdis": flow(TDI0) + flow(TDI1, 1) + rec(stop(TDI1), 1) + rec(state(TDI0)),
}

# transport_decap_tdisp input: one bare TDISP request, from its Protocol ID byte, as a
# DECAP_TDISP frame carries it (docs/transports.md).
DECAP = {
    "state_pf": state(TDI0),
    "state_vf_run": state(TDI1),
    "state_unknown_tdi": state(0x0200),
    "version_unsupported": version(),
    "lock_unsupported": lock(),
    "state_bad_version": bytes([0x01, 0x20]) + state()[2:],
    "state_long": state() + b"\0",
    "short": state()[:9],
    "not_tdisp": bytes([0x02]) + state()[1:],
}

EINVAL = 22
SVA_DESC = {
    "req_unbind": struct.pack("<BBHIQ", 2, 1, 0, 0, 0),
    "req_bind_dev1": struct.pack("<BBHIQ", 1, 1, 1, 0, 0),
    "rep_unbind": struct.pack("<BBHIIIQ", 0x82, 0, 0, 0, 0, 0, 0),
    # A refused BIND: EINVAL, the cause a pcitsm_err (E_STATE, 103... any code decodes).
    "rep_bind_einval": struct.pack("<BBHIIIQ", 0x81, EINVAL, 0, 0, 0, 103, 0),
}


# sva_proto input (tests/fuzz/sva_proto.c): byte 0 says what recvmsg() reported (bit 0
# MSG_TRUNC, bit 1 MSG_CTRUNC, bits 2-3 the descriptors that came with it), then the message.
def sva_req(op, index=0, length=0, version=1):
    return struct.pack("<BBHIQ", op, version, index, 0, length)


FD1, FD2 = 1 << 2, 2 << 2
SVA_PROTO = {
    "bind": bytes([0]) + sva_req(1),
    "bind_dev3": bytes([0]) + sva_req(1, 3),
    "bind_with_fd": bytes([FD1]) + sva_req(1),
    "unbind": bytes([0]) + sva_req(2),
    "register": bytes([FD1]) + sva_req(3, 0, 4096),
    "register_no_fd": bytes([0]) + sva_req(3, 0, 4096),
    "register_two_fds": bytes([FD2]) + sva_req(3, 0, 1 << 20),
    "cut": bytes([1]) + sva_req(1),
    "ctrunc": bytes([2 | FD1]) + sva_req(3, 0, 4096),
    "long": bytes([0]) + sva_req(1) + b"\0",
    "short": bytes([0]) + sva_req(1)[:15],
    "bad_version": bytes([0]) + sva_req(1, 0, 0, 2),
}


def write(top, target, entries):
    d = os.path.join(top, target)
    os.makedirs(d, exist_ok=True)
    for name, data in entries.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(entries)} entries written")


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    write(top, "tdisp_rsp", TDISP_RSP)
    write(top, "sva_desc", SVA_DESC)
    write(top, "sva_proto", SVA_PROTO)
    write(top, "transport_decap_tdisp", DECAP)


if __name__ == "__main__":
    main()
