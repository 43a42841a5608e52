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
/* (filled in by the SPDM work) */

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
/* Split concatenated DER certificates: offsets and lengths of up to max certificates. */
pcitsm_err pcitsm_x509_chain_split(const uint8_t *certs, size_t len, size_t *off, size_t *clen,
				   size_t max, size_t *n) PCITSM_MUST_CHECK;
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
/* Generate a fresh identity in memory: root CA, intermediate, device leaf (ECDSA P-256 or P-384) and
 * a default set of measurements. */
pcitsm_err pcitsm_identity_generate(struct pcitsm_identity *id, unsigned curve_bits,
				    const char *device_name) PCITSM_MUST_CHECK;
/* Write / read an identity directory (layout in docs/identity.md). */
pcitsm_err pcitsm_identity_save(const struct pcitsm_identity *id, const char *dir) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_identity_load(struct pcitsm_identity *id, const char *dir) PCITSM_MUST_CHECK;
void pcitsm_identity_free(struct pcitsm_identity *id);

/* =============================================================================================
 * AES-256-GCM data path (lib/crypto/gcm*.c)
 * ============================================================================================= */
/* (filled in by the IDE work) */

#endif /* PCITSM_CRYPTO_H */
