#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Known answers for the SPDM key schedule (DSP0274 1.3 'Key schedule') and the DSP0277 nonce,
computed here from the specification alone with hashlib and hmac, independently of the C code.
Prints a C header (tests/kat/spdm_keysched_kat.h) that tests/unit/test_session_keys.c compares
against, and that tests/integration/kat_keysched.sh regenerates and diffs.

    python3 tests/kat/spdm_keysched.py > tests/kat/spdm_keysched_kat.h
"""
import hashlib
import hmac
import struct

HASHES = {"sha256": (hashlib.sha256, "PCITSM_HASH_SHA256"),
          "sha384": (hashlib.sha384, "PCITSM_HASH_SHA384")}
AEADS = {"aes-128-gcm": (16, "PCITSM_AEAD_AES_128_GCM"),
         "aes-256-gcm": (32, "PCITSM_AEAD_AES_256_GCM")}
IV_LEN = 12


def hkdf_extract(md, salt, ikm):
    return hmac.new(salt, ikm, md).digest()                      # RFC 5869 §2.2


def hkdf_expand(md, prk, info, length):
    out, t, i = b"", b"", 1                                      # RFC 5869 §2.3
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), md).digest()
        out += t
        i += 1
    return out[:length]


def bin_concat(spdm_version, length, label, context=b""):
    # u16_le(Length) || "spdmX.Y " || Label || Context (DSP0274 1.3 'Key schedule')
    ver = "spdm%d.%d " % (spdm_version >> 4, spdm_version & 0xF)
    return struct.pack("<H", length) + ver.encode() + label.encode() + context


def expand_label(md, ver, secret, label, context, length):
    return hkdf_expand(md, secret, bin_concat(ver, length, label, context), length)


def fixed(tag, n):
    """Deterministic filler bytes for an input: SHA-512 of a tag, stretched."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha512(("%s/%d" % (tag, i)).encode()).digest()
        i += 1
    return out[:n]


def schedule(hash_name, aead_name, ver):
    md, _ = HASHES[hash_name]
    keylen, _ = AEADS[aead_name]
    h = md().digest_size
    v = {}
    shared = fixed("shared-" + hash_name, 32 if h == 32 else 48)   # P-256 / P-384 X coordinate
    th1 = md(b"TH1 transcript " + hash_name.encode()).digest()
    th2 = md(b"TH2 transcript " + hash_name.encode()).digest()
    v["shared"], v["th1"], v["th2"] = shared, th1, th2

    def traffic(prefix, secret):
        v[prefix + "_key"] = expand_label(md, ver, secret, "key", b"", keylen)
        v[prefix + "_iv"] = expand_label(md, ver, secret, "iv", b"", IV_LEN)

    # DSP0274 1.3 'Key schedule', DHE (non-PSK)
    hs = hkdf_extract(md, b"\0" * h, shared)
    v["handshake_secret"] = hs
    for d in ("req", "rsp"):
        v[d + "_hs_secret"] = expand_label(md, ver, hs, d + " hs data", th1, h)
        v[d + "_finished_key"] = expand_label(md, ver, v[d + "_hs_secret"], "finished", b"", h)
        traffic(d + "_hs", v[d + "_hs_secret"])
        # VerifyData = HMAC(finished_key, transcript hash) (DSP0274 1.3 KEY_EXCHANGE, FINISH)
        v[d + "_verify_th1"] = hmac.new(v[d + "_finished_key"], th1, md).digest()
    salt1 = expand_label(md, ver, hs, "derived", b"", h)
    master = hkdf_extract(md, salt1, b"\0" * h)
    v["master_secret"] = master
    for d in ("req", "rsp"):
        v[d + "_app_secret"] = expand_label(md, ver, master, d + " app data", th2, h)
        traffic(d + "_app", v[d + "_app_secret"])
        # KEY_UPDATE, two generations
        s = v[d + "_app_secret"]
        for gen in (1, 2):
            s = expand_label(md, ver, s, "traffic upd", b"", h)
            v["%s_app_secret_%d" % (d, gen)] = s
            traffic("%s_app_%d" % (d, gen), s)
    v["export_master_secret"] = expand_label(md, ver, master, "exp master", th2, h)
    return v


CASES = [("sha256", "aes-256-gcm", 0x12), ("sha256", "aes-256-gcm", 0x13),
         ("sha384", "aes-256-gcm", 0x12), ("sha384", "aes-256-gcm", 0x13),
         ("sha256", "aes-128-gcm", 0x12), ("sha384", "aes-256-gcm", 0x11)]

FIELDS = ["shared", "th1", "th2", "handshake_secret", "req_hs_secret", "rsp_hs_secret",
          "req_finished_key", "rsp_finished_key", "req_verify_th1", "rsp_verify_th1",
          "master_secret", "req_hs_key", "req_hs_iv", "rsp_hs_key", "rsp_hs_iv",
          "req_app_secret", "rsp_app_secret", "export_master_secret",
          "req_app_key", "req_app_iv", "rsp_app_key", "rsp_app_iv",
          "req_app_secret_1", "req_app_1_key", "req_app_1_iv",
          "rsp_app_secret_1", "rsp_app_1_key", "rsp_app_1_iv",
          "req_app_secret_2", "req_app_2_key", "req_app_2_iv",
          "rsp_app_secret_2", "rsp_app_2_key", "rsp_app_2_iv"]

# The AEAD nonce (DSP0277 sequence numbers): IV XOR the 64-bit sequence number, little-endian in
# bytes 0..7.
NONCE_IV = bytes(range(0xA0, 0xAC))
NONCE_SEQS = [0, 1, 0xFF, 0x100, 0x0102030405060708, 0xFFFFFFFFFFFFFFFE]


def nonce(iv, seq):
    s = struct.pack("<Q", seq) + b"\0" * 4
    return bytes(a ^ b for a, b in zip(iv, s))


def c_bytes(b):
    rows = [", ".join("0x%02x" % x for x in b[i:i + 12]) for i in range(0, len(b), 12)]
    return "{\n\t\t\t" + ",\n\t\t\t".join(rows) + " }"


def main():
    out = []
    w = out.append
    w("/* SPDX-License-Identifier: MIT */")
    w("/* Generated by tests/kat/spdm_keysched.py: do not edit. SPDM key schedule known answers")
    w(" * (DSP0274 1.3 'Key schedule', DSP0277 nonce) computed with Python's hashlib and hmac. */")
    w("#ifndef SPDM_KEYSCHED_KAT_H")
    w("#define SPDM_KEYSCHED_KAT_H")
    w("")
    w("struct kat_keysched {")
    w("\tconst char *name;")
    w("\tenum pcitsm_hash_alg hash;")
    w("\tenum pcitsm_aead_alg aead;")
    w("\tuint8_t spdm_version;")
    w("\tsize_t shared_len;")
    for f in FIELDS:
        w("\tuint8_t %s[64];" % f)
    w("};")
    w("")
    w("static const struct kat_keysched kat_keysched[] = {")
    for hash_name, aead_name, ver in CASES:
        v = schedule(hash_name, aead_name, ver)
        w("\t{")
        w('\t\t.name = "%s %s spdm%d.%d",' % (hash_name, aead_name, ver >> 4, ver & 0xF))
        w("\t\t.hash = %s," % HASHES[hash_name][1])
        w("\t\t.aead = %s," % AEADS[aead_name][1])
        w("\t\t.spdm_version = 0x%02x," % ver)
        w("\t\t.shared_len = %d," % len(v["shared"]))
        for f in FIELDS:
            w("\t\t.%s = %s," % (f, c_bytes(v[f])))
        w("\t},")
    w("};")
    w("")
    w("/* BinConcat example (DSP0274 1.3 'Key schedule'): AES-256 key label, SPDM 1.2. */")
    w("static const uint8_t kat_bin_concat_key12[] = %s;" % c_bytes(bin_concat(0x12, 32, "key")))
    w("")
    w("/* Nonces for one IV and several sequence numbers (C.4). */")
    w("static const uint8_t kat_nonce_iv[12] = %s;" % c_bytes(NONCE_IV))
    w("static const struct { uint64_t seq; uint8_t nonce[12]; } kat_nonce[] = {")
    for s in NONCE_SEQS:
        w("\t{ 0x%016xull, %s }," % (s, c_bytes(nonce(NONCE_IV, s))))
    w("};")
    w("")
    w("#endif")
    print("\n".join(out))


if __name__ == "__main__":
    main()
