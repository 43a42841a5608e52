/* SPDX-License-Identifier: MIT */
/*
 * Cryptography. The control plane (hashes, HMAC/HKDF, signatures, X.509, identities) uses OpenSSL's
 * libcrypto; the IDE data path's AES-256-GCM uses intel-ipsec-mb where the CPU allows, libcrypto
 * otherwise (DESIGN.md "Data path speed"). Public keys and private keys are OpenSSL EVP_PKEYs.
 *
 * The sections below are kept apart on purpose: hashing and signatures (lib/crypto/hash.c, sig.c),
 * X.509 and identities (lib/crypto/x509.c, identity.c), and the AES-GCM data path
 * (lib/crypto/gcm*.c).
 */
#ifndef PCITSM_CRYPTO_H
#define PCITSM_CRYPTO_H

#include <openssl/evp.h>

#include "pcitsm/core.h"

/* =============================================================================================
 * Hashes and signatures (lib/crypto/hash.c, sig.c)
 * ============================================================================================= */
/* Hash algorithms the control plane uses (SPDM BaseHashAlgo / MeasurementHashAlgo, DSP0274 1.3
 * NEGOTIATE_ALGORITHMS). */
enum pcitsm_hash_alg {
	PCITSM_HASH_NONE = 0,
	PCITSM_HASH_SHA256,
	PCITSM_HASH_SHA384,
	PCITSM_HASH_SHA512,
};
#define PCITSM_HASH_MAX 64 /* bytes, SHA-512 */

size_t pcitsm_hash_size(enum pcitsm_hash_alg alg); /* 0 for NONE or unknown */
const char *pcitsm_hash_name(enum pcitsm_hash_alg alg); /* "sha256" */
/* One-shot: out receives pcitsm_hash_size(alg) bytes. */
pcitsm_err pcitsm_hash(enum pcitsm_hash_alg alg, const void *data, size_t len, uint8_t *out)
	PCITSM_MUST_CHECK;

/* Incremental hash. A zeroed struct is "not started"; pcitsm_hash_free is safe on it. Copy a
 * running hash (a transcript fork) with pcitsm_hash_copy; pcitsm_hash_peek yields the digest so far
 * without ending the running hash. */
struct pcitsm_hash_ctx {
	EVP_MD_CTX *md;
	enum pcitsm_hash_alg alg;
};
pcitsm_err pcitsm_hash_init(struct pcitsm_hash_ctx *h, enum pcitsm_hash_alg alg) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_hash_update(struct pcitsm_hash_ctx *h, const void *data, size_t len)
	PCITSM_MUST_CHECK;
/* Digest and end: h is freed afterwards (as by pcitsm_hash_free). */
pcitsm_err pcitsm_hash_final(struct pcitsm_hash_ctx *h, uint8_t *out) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_hash_peek(const struct pcitsm_hash_ctx *h, uint8_t *out) PCITSM_MUST_CHECK;
/* dst becomes an independent copy of src (dst must be free or zeroed). */
pcitsm_err pcitsm_hash_copy(struct pcitsm_hash_ctx *dst, const struct pcitsm_hash_ctx *src)
	PCITSM_MUST_CHECK;
void pcitsm_hash_free(struct pcitsm_hash_ctx *h);

/* Signature algorithms (SPDM BaseAsymAlgo, DSP0274 1.3 NEGOTIATE_ALGORITHMS). ECDSA signatures are
 * raw r||s, each big-endian and fixed width, as SPDM carries them (not DER). RSA-PSS uses salt
 * length = hash length and MGF1 with the signature hash (docs/spdm.md). */
enum pcitsm_sig_alg {
	PCITSM_SIG_NONE = 0,
	PCITSM_SIG_ECDSA_P256,
	PCITSM_SIG_ECDSA_P384,
	PCITSM_SIG_RSASSA_2048,
	PCITSM_SIG_RSAPSS_2048,
	PCITSM_SIG_RSASSA_3072,
	PCITSM_SIG_RSAPSS_3072,
};
#define PCITSM_SIG_MAX 384 /* bytes, RSA-3072 */

size_t pcitsm_sig_size(enum pcitsm_sig_alg alg); /* 0 for NONE or unknown */
const char *pcitsm_sig_name(enum pcitsm_sig_alg alg); /* "ecdsa-p256" */
/* Whether key (public or private) has the type and size alg needs. RSASSA and RSAPSS of one size
 * both match an RSA key of that size. */
bool pcitsm_sig_key_matches(EVP_PKEY *key, enum pcitsm_sig_alg alg);

/* Sign / verify msg, hashed with hash (the signature's digest algorithm). */
pcitsm_err pcitsm_sig_sign(EVP_PKEY *key, enum pcitsm_sig_alg alg, enum pcitsm_hash_alg hash,
			   const void *msg, size_t len, uint8_t *sig, size_t sig_len) PCITSM_MUST_CHECK;
/* E_SIGNATURE if the signature does not verify, E_INVAL for a key that does not fit alg. */
pcitsm_err pcitsm_sig_verify(EVP_PKEY *pub, enum pcitsm_sig_alg alg, enum pcitsm_hash_alg hash,
			     const void *msg, size_t len, const uint8_t *sig, size_t sig_len)
	PCITSM_MUST_CHECK;
/* The same over a digest already computed with hash (SPDM 1.0/1.1 sign Hash(transcript)). */
pcitsm_err pcitsm_sig_sign_digest(EVP_PKEY *key, enum pcitsm_sig_alg alg, enum pcitsm_hash_alg hash,
				  const uint8_t *digest, uint8_t *sig, size_t sig_len)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_sig_verify_digest(EVP_PKEY *pub, enum pcitsm_sig_alg alg,
				    enum pcitsm_hash_alg hash, const uint8_t *digest,
				    const uint8_t *sig, size_t sig_len) PCITSM_MUST_CHECK;

/* =============================================================================================
 * X.509 and device identities (lib/crypto/x509.c, identity.c)
 * ============================================================================================= */

/* A set of trust anchors (an OpenSSL X509_STORE inside). */
struct pcitsm_trust;
/* Load trust anchors from a file or a directory of files; each file PEM (one or more
 * certificates) or DER (one certificate). */
pcitsm_err pcitsm_trust_load(struct pcitsm_trust **t, const char *path) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_trust_new(struct pcitsm_trust **t) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_trust_add_der(struct pcitsm_trust *t, const uint8_t *der, size_t len)
	PCITSM_MUST_CHECK;
void pcitsm_trust_free(struct pcitsm_trust *t);

/* Validate a certificate chain given as concatenated DER certificates, root (or the certificate
 * signed by a trust anchor) first and leaf last, as SPDM carries them. On success *leaf_pub (if not
 * NULL) receives the leaf's public key (caller frees with EVP_PKEY_free). On failure returns
 * E_CERT (or E_FIELD for bytes that are not DER certificates) and writes a reason naming the
 * certificate and the problem into why ("certificate 2 (CN=...): certificate has expired"). */
pcitsm_err pcitsm_x509_chain_verify(const struct pcitsm_trust *t, const uint8_t *certs, size_t len,
				    EVP_PKEY **leaf_pub, char *why, size_t why_len) PCITSM_MUST_CHECK;
/* Split concatenated DER certificates: offsets and lengths of up to max certificates. Only the
 * outer DER framing is checked here (SEQUENCE tag, minimal definite length, complete): E_SHORT if the
 * last one is cut, E_FIELD for bytes that are not a DER SEQUENCE, E_NOSPC for more than max. */
pcitsm_err pcitsm_x509_chain_split(const uint8_t *certs, size_t len, size_t *off, size_t *clen,
				   size_t max, size_t *n) PCITSM_MUST_CHECK;
/* The most certificates pcitsm_x509_chain_verify accepts in one chain. */
#define PCITSM_X509_MAX_CERTS 16
/* One-line subject of a DER certificate ("CN=pcitsm device, O=pcitsm"). */
pcitsm_err pcitsm_x509_subject(const uint8_t *der, size_t len, char *out, size_t out_len)
	PCITSM_MUST_CHECK;

/* A device identity: the leaf's private key, the certificate chain (root .. leaf, concatenated
 * DER), and the measurement blocks the device reports. */
#define PCITSM_IDENTITY_MAX_MEAS 16
#define PCITSM_MEAS_MAX_VALUE 64
struct pcitsm_measurement {
	uint8_t index;      /* 1..0xFE */
	uint8_t value_type; /* DMTFSpecMeasurementValueType bits 6:0 (0 immutable ROM, 1 mutable FW, ...) */
	bool raw;           /* bit 7: raw bit stream rather than a digest source */
	uint8_t value[PCITSM_MEAS_MAX_VALUE];
	size_t len;
};
struct pcitsm_identity {
	EVP_PKEY *key;      /* leaf private key */
	uint8_t *chain;     /* root .. leaf, concatenated DER */
	size_t chain_len;
	uint8_t *root;      /* the root certificate alone (the trust anchor for this identity) */
	size_t root_len;
	unsigned curve_bits; /* 256 or 384 */
	struct pcitsm_measurement meas[PCITSM_IDENTITY_MAX_MEAS];
	unsigned nr_meas;
};
/* Name of a DMTF measurement value type (DSP0274 1.3 GET_MEASUREMENTS), "immutable ROM"; "reserved"
 * if unknown. */
const char *pcitsm_meas_type_name(uint8_t value_type);
/* Generate a fresh identity in memory: root CA, intermediate, device leaf (ECDSA P-256 or P-384) and
 * a default set of measurements. */
pcitsm_err pcitsm_identity_generate(struct pcitsm_identity *id, unsigned curve_bits,
				    const char *device_name) PCITSM_MUST_CHECK;
/* Write / read an identity directory (layout in docs/identity.md). */
pcitsm_err pcitsm_identity_save(const struct pcitsm_identity *id, const char *dir) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_identity_load(struct pcitsm_identity *id, const char *dir) PCITSM_MUST_CHECK;
/* The same, writing what was wrong ("device.key: does not match device.pem") into why. */
pcitsm_err pcitsm_identity_load_why(struct pcitsm_identity *id, const char *dir, char *why,
				    size_t why_len) PCITSM_MUST_CHECK;
void pcitsm_identity_free(struct pcitsm_identity *id);
/* The files an identity directory holds (docs/identity.md), NULL-terminated. */
extern const char *const pcitsm_identity_files[];
/* Longest device name pcitsm_identity_generate accepts (printable ASCII; it goes into the CNs). */
#define PCITSM_IDENTITY_NAME_MAX 40
/* The identity's chain in the SPDM certificate-chain format (DSP0274 1.3 GET_CERTIFICATE): Length
 * u16, Reserved u16, RootHash, certificates. The root hash is SHA-384 for a P-384 identity and
 * SHA-256 for a P-256 one. E_NOSPC if cap is too small (*len still receives the size needed). */
pcitsm_err pcitsm_identity_spdm_chain(const struct pcitsm_identity *id, uint8_t *out, size_t cap,
				      size_t *len) PCITSM_MUST_CHECK;

/* =============================================================================================
 * Key derivation, AEAD and DHE (lib/crypto/hkdf.c, aead.c, dhe.c)
 * ============================================================================================= */
/* HMAC and HKDF (RFC 5869) with a control-plane hash, over OpenSSL's EVP_MAC / EVP_KDF. */
pcitsm_err pcitsm_hmac(enum pcitsm_hash_alg alg, const uint8_t *key, size_t key_len,
		       const void *data, size_t len, uint8_t *out) PCITSM_MUST_CHECK;
/* PRK = HMAC(salt, IKM); prk receives pcitsm_hash_size(alg) bytes. */
pcitsm_err pcitsm_hkdf_extract(enum pcitsm_hash_alg alg, const uint8_t *salt, size_t salt_len,
			       const uint8_t *ikm, size_t ikm_len, uint8_t *prk) PCITSM_MUST_CHECK;
/* OKM = T(1) || T(2) ... truncated to out_len (at most 255 * hash size, else E_INVAL). */
pcitsm_err pcitsm_hkdf_expand(enum pcitsm_hash_alg alg, const uint8_t *prk, size_t prk_len,
			      const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
	PCITSM_MUST_CHECK;

/* AEADs of SPDM secured messages (DSP0274 1.3 NEGOTIATE_ALGORITHMS: AES-128-GCM, AES-256-GCM;
 * 12-byte IV, 16-byte tag), one-shot over OpenSSL EVP. This is the control plane; the IDE data path
 * is the section below. */
enum pcitsm_aead_alg {
	PCITSM_AEAD_NONE = 0,
	PCITSM_AEAD_AES_128_GCM,
	PCITSM_AEAD_AES_256_GCM,
};
#define PCITSM_AEAD_KEY_MAX 32
#define PCITSM_AEAD_IV_LEN 12
#define PCITSM_AEAD_TAG_LEN 16

size_t pcitsm_aead_key_size(enum pcitsm_aead_alg alg); /* 0 for NONE or unknown */
const char *pcitsm_aead_name(enum pcitsm_aead_alg alg);  /* "aes-256-gcm" */
/* Encrypt len bytes of in into out (equal or not overlapping) and write the 16-byte tag. */
pcitsm_err pcitsm_aead_seal(enum pcitsm_aead_alg alg, const uint8_t *key,
			    const uint8_t iv[PCITSM_AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
			    const uint8_t *in, size_t len, uint8_t *out,
			    uint8_t tag[PCITSM_AEAD_TAG_LEN]) PCITSM_MUST_CHECK;
/* Decrypt and check the tag (constant-time, in libcrypto's GCM final step): E_MAC on mismatch,
 * and then the len output bytes are wiped. */
pcitsm_err pcitsm_aead_open(enum pcitsm_aead_alg alg, const uint8_t *key,
			    const uint8_t iv[PCITSM_AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
			    const uint8_t *in, size_t len, uint8_t *out,
			    const uint8_t tag[PCITSM_AEAD_TAG_LEN]) PCITSM_MUST_CHECK;

/* Ephemeral ECDH of SPDM KEY_EXCHANGE (DSP0274 1.3 NEGOTIATE_ALGORITHMS, KEY_EXCHANGE): public
 * values are X || Y, each big-endian and fixed width, no 0x04 prefix; the shared secret is the X
 * coordinate of the product. */
enum pcitsm_dhe_alg {
	PCITSM_DHE_NONE = 0,
	PCITSM_DHE_SECP256R1,
	PCITSM_DHE_SECP384R1,
};
#define PCITSM_DHE_PUB_MAX 96    /* secp384r1 X || Y */
#define PCITSM_DHE_SECRET_MAX 48 /* secp384r1 X */

size_t pcitsm_dhe_pub_size(enum pcitsm_dhe_alg alg);    /* D: 64, 96; 0 if unknown */
size_t pcitsm_dhe_secret_size(enum pcitsm_dhe_alg alg); /* 32, 48; 0 if unknown */
const char *pcitsm_dhe_name(enum pcitsm_dhe_alg alg);   /* "secp256r1" */

/* One ephemeral key pair. A zeroed struct holds none; pcitsm_dhe_free is safe on it. */
struct pcitsm_dhe {
	enum pcitsm_dhe_alg alg;
	EVP_PKEY *key;
};
/* A fresh key pair from libcrypto's DRBG (d must hold none). */
pcitsm_err pcitsm_dhe_generate(struct pcitsm_dhe *d, enum pcitsm_dhe_alg alg) PCITSM_MUST_CHECK;
/* Our public value, pcitsm_dhe_pub_size(d->alg) bytes (E_NOSPC if len is smaller). */
pcitsm_err pcitsm_dhe_public(const struct pcitsm_dhe *d, uint8_t *out, size_t len)
	PCITSM_MUST_CHECK;
/* Import the peer's public value and derive the shared secret into secret
 * (pcitsm_dhe_secret_size bytes). E_INVAL if peer_len is not D; E_FIELD if the value is not a
 * point on the curve (or a coordinate is not below the field prime). secret is wiped on failure. */
pcitsm_err pcitsm_dhe_derive(const struct pcitsm_dhe *d, const uint8_t *peer, size_t peer_len,
			     uint8_t *secret, size_t secret_len) PCITSM_MUST_CHECK;
/* Free the key pair (libcrypto clears the private scalar). */
void pcitsm_dhe_free(struct pcitsm_dhe *d);

/* =============================================================================================
 * AES-256-GCM data path (lib/crypto/gcm*.c)
 * ============================================================================================= */
/* One AES-256-GCM implementation chosen at run time: intel-ipsec-mb's direct API when the CPU has
 * AES-NI and PCLMULQDQ, OpenSSL's EVP otherwise. Both give identical bytes (test_crypto_gcm.c).
 * Keys are expanded once, by pcitsm_gcm_key_set; a seal or open allocates nothing and makes no
 * system call. */
enum pcitsm_gcm_backend {
	PCITSM_GCM_AUTO = 0,    /* PCITSM_GCM_BACKEND from the environment, else ipsec-mb if usable */
	PCITSM_GCM_IPSECMB = 1, /* intel-ipsec-mb direct AES-GCM API (E_UNSUPPORTED if unusable) */
	PCITSM_GCM_OPENSSL = 2, /* libcrypto EVP_aes_256_gcm */
};
#define PCITSM_GCM_ENV "PCITSM_GCM_BACKEND" /* "auto", "ipsec-mb" or "openssl" */
#define PCITSM_GCM_KEY_LEN 32
#define PCITSM_GCM_IV_LEN 12
#define PCITSM_GCM_TAG_LEN 16

struct pcitsm_gcm;     /* a backend instance (for ipsec-mb: one IMB_MGR) */
struct pcitsm_gcm_key; /* one expanded key, bound to the backend that made it */

/* "auto", "ipsec-mb" (or "ipsecmb"), "openssl": E_INVAL otherwise. */
pcitsm_err pcitsm_gcm_backend_parse(const char *s, enum pcitsm_gcm_backend *b) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_gcm_new(struct pcitsm_gcm **g, enum pcitsm_gcm_backend want) PCITSM_MUST_CHECK;
void pcitsm_gcm_free(struct pcitsm_gcm *g);
enum pcitsm_gcm_backend pcitsm_gcm_backend_of(const struct pcitsm_gcm *g);
/* "ipsec-mb 1.3.0 (avx2)" or "openssl 3.0.x". */
const char *pcitsm_gcm_name(const struct pcitsm_gcm *g);

pcitsm_err pcitsm_gcm_key_new(struct pcitsm_gcm *g, struct pcitsm_gcm_key **k) PCITSM_MUST_CHECK;
/* Expand a 32-byte key (the only per-key work). */
pcitsm_err pcitsm_gcm_key_set(struct pcitsm_gcm_key *k, const uint8_t key[PCITSM_GCM_KEY_LEN])
	PCITSM_MUST_CHECK;
/* How many keys this backend instance has expanded (pcitsm_gcm_key_set calls that succeeded):
 * lets tests prove that keys are expanded once per key programming, never per TLP. */
uint64_t pcitsm_gcm_key_expansions(const struct pcitsm_gcm *g);
/* Wipe the expanded key; the object stays reusable. */
void pcitsm_gcm_key_clear(struct pcitsm_gcm_key *k);
void pcitsm_gcm_key_free(struct pcitsm_gcm_key *k);

/* One piece of plaintext / ciphertext; in and out may be equal (in place) or not overlap. */
struct pcitsm_gcm_seg {
	const uint8_t *in;
	uint8_t *out;
	size_t len;
};
/* Encrypt the concatenation of segs (the AAD first) under a 12-byte IV; write the first tag_len
 * (1..16) bytes of the tag. */
pcitsm_err pcitsm_gcm_seal(struct pcitsm_gcm_key *k, const uint8_t iv[PCITSM_GCM_IV_LEN],
			   const uint8_t *aad, size_t aad_len, const struct pcitsm_gcm_seg *segs,
			   size_t nseg, uint8_t *tag, size_t tag_len) PCITSM_MUST_CHECK;
/* Decrypt and check the truncated tag in constant time: E_MAC on mismatch, and then every output
 * byte is wiped. */
pcitsm_err pcitsm_gcm_open(struct pcitsm_gcm_key *k, const uint8_t iv[PCITSM_GCM_IV_LEN],
			   const uint8_t *aad, size_t aad_len, const struct pcitsm_gcm_seg *segs,
			   size_t nseg, const uint8_t *tag, size_t tag_len) PCITSM_MUST_CHECK;

#endif /* PCITSM_CRYPTO_H */
