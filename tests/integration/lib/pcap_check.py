# pcap_check.py FILE MIN_PACKETS: the capture opens in libspdm's spdm_dump and tshark: global
# header magic a1b2c3d4 (either byte order), version 2.4, snaplen 65536 (spdm_dump refuses a
# larger one), link type 292 (LINKTYPE_PCI_DOE); packets whole (caplen == len <= 65536, DOE
# objects of at least 8 bytes in whole DWs, vendor ID 0x0001), no trailing bytes, at least
# MIN_PACKETS of them.
import struct
import sys

d = open(sys.argv[1], "rb").read()
assert len(d) >= 24, "no global header"
e = "<" if struct.unpack_from("<I", d, 0)[0] == 0xa1b2c3d4 else ">"
magic, vmaj, vmin, _, _, snaplen, linktype = struct.unpack_from(e + "IHHiIII", d, 0)
assert magic == 0xa1b2c3d4, hex(magic)
assert (vmaj, vmin) == (2, 4), (vmaj, vmin)
assert snaplen == 65536, snaplen
assert linktype == 292, linktype
off, n = 24, 0
while off < len(d):
    incl, orig = struct.unpack_from(e + "II", d, off + 8)
    assert incl <= 65536 and incl == orig and incl % 4 == 0 and incl >= 8, (incl, orig)
    assert d[off + 16:off + 18] == b"\x01\x00", "DOE vendor ID 0x0001"
    off += 16 + incl
    n += 1
assert off == len(d), "trailing bytes"
assert n >= int(sys.argv[2]), n
