#!/usr/bin/env python3
"""TEST ONLY: a hostile requester over the spdm-emu protocol (docs/transports.md), for the
campaigns of docs/security.md "Campaigns against our requester and responders".

    hostile_frames.py HOST PORT CORPUS.pcap COUNT SEED

CORPUS is a capture of a clean run (LINKTYPE_PCI_DOE: one whole DOE object per packet, requests
and responses alternating); its requests are the corpus. COUNT frames go out, each a NORMAL
PCI_DOE frame carrying a corpus request mutated (bit flips, truncation, extension, a random byte
among the first, a length-like field off by a little, or unchanged: a valid request in whatever
state the device is), one in eight with its frame header damaged too. A connection the server
closes or leaves unanswered for 0.2 s is replaced. Prints one line of figures.
"""
import random
import socket
import struct
import sys


def corpus(path):
    d = open(path, "rb").read()
    e = "<" if struct.unpack_from("<I", d, 0)[0] == 0xA1B2C3D4 else ">"
    off, k, reqs = 24, 0, []
    while off < len(d):
        incl = struct.unpack_from(e + "I", d, off + 8)[0]
        if k % 2 == 0:
            reqs.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
        k += 1
    return reqs


def mutate(rng, b):
    b = bytearray(b)
    k = rng.randrange(6)
    if k == 0:
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif k == 1:
        b = b[:rng.randrange(len(b))]
    elif k == 2:
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif k == 3:
        b[rng.randrange(min(len(b), 16))] = rng.randrange(256)
    elif k == 4 and len(b) > 10:
        at = rng.randrange(8, len(b) - 1)  # past the DOE header: a field of the message
        b[at] = (b[at] + rng.randint(1, 4)) & 0xFF
    return bytes(b)


def connect(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(0.2)
    return s


def main():
    host, port, path, count, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \
        int(sys.argv[5])
    rng = random.Random(seed)
    reqs = corpus(path)
    assert len(reqs) >= 10, len(reqs)
    s = connect(host, port)
    answered = refused = reconnects = 0
    for _ in range(count):
        obj = mutate(rng, rng.choice(reqs))
        hdr = bytearray(struct.pack(">III", 1, 2, len(obj)))
        if rng.randrange(8) == 0:
            hdr[rng.randrange(12)] ^= 1 << rng.randrange(8)
        try:
            s.sendall(bytes(hdr) + obj)
            got = s.recv(65536)
            if not got:
                raise ConnectionError("closed")
            answered += 1
            # The rest of a long answer, so that frames stay in step.
            s.settimeout(0.01)
            try:
                while s.recv(65536):
                    pass
            except (socket.timeout, BlockingIOError):
                pass
            s.settimeout(0.2)
        except (socket.timeout, ConnectionError, OSError):
            refused += 1
            s.close()
            reconnects += 1
            s = connect(host, port)
    s.close()
    print(f"hostile_frames: {count} frames, {answered} answered, {refused} refused or "
          f"unanswered ({reconnects} reconnects)")


if __name__ == "__main__":
    main()
