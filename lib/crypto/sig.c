/* SPDX-License-Identifier: MIT */
/*
 * Signatures over OpenSSL 3 EVP: ECDSA P-256/P-384 with raw r||s (the SPDM wire form, DSP0274 1.3
 * NEGOTIATE_ALGORITHMS), RSASSA-PKCS1-v1_5 and RSA-PSS (salt = hash length, MGF1 with the same
 * hash) at 2048 and 3072 bits. Everything goes through one digest-based path; the message forms
 * hash first.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/internal.h"

struct sig_desc {
	const char *name;
	int type;           /* EVP_PKEY_EC or EVP_PKEY_RSA */
	const char *group;  /* EC curve */
	int bits;
	bool pss;
	size_t size;
};

static const struct sig_desc sig_descs[] = {
	[PCITSM_SIG_ECDSA_P256] = { "ecdsa-p256", EVP_PKEY_EC, "prime256v1", 256, false, 64 },
	[PCITSM_SIG_ECDSA_P384] = { "ecdsa-p384", EVP_PKEY_EC, "secp384r1", 384, false, 96 },
	[PCITSM_SIG_RSASSA_2048] = { "rsassa-2048", EVP_PKEY_RSA, NULL, 2048, false, 256 },
	[PCITSM_SIG_RSAPSS_2048] = { "rsapss-2048", EVP_PKEY_RSA, NULL, 2048, true, 256 },
	[PCITSM_SIG_RSASSA_3072] = { "rsassa-3072", EVP_PKEY_RSA, NULL, 3072, false, 384 },
	[PCITSM_SIG_RSAPSS_3072] = { "rsapss-3072", EVP_PKEY_RSA, NULL, 3072, true, 384 },
};

static const struct sig_desc *sig_desc(enum pcitsm_sig_alg alg)
{
	if ((unsigned)alg >= PCITSM_ARRAY_SIZE(sig_descs) || !sig_descs[alg].name)
		return NULL;
	return &sig_descs[alg];
}

size_t pcitsm_sig_size(enum pcitsm_sig_alg alg)
{
	const struct sig_desc *d = sig_desc(alg);
	return d ? d->size : 0;
}

const char *pcitsm_sig_name(enum pcitsm_sig_alg alg)
{
	const struct sig_desc *d = sig_desc(alg);
	return d ? d->name : "none";
}

bool pcitsm_sig_key_matches(EVP_PKEY *key, enum pcitsm_sig_alg alg)
{
	const struct sig_desc *d = sig_desc(alg);
	char group[64];

	if (!d || !key || EVP_PKEY_get_base_id(key) != d->type)
		return false;
	if (d->type == EVP_PKEY_RSA)
		return EVP_PKEY_get_bits(key) == d->bits;
	if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1)
		return false;
	return strcmp(group, d->group) == 0;
}

/* A signing or verifying context for key with alg's padding and the signature digest set. */
static EVP_PKEY_CTX *sig_ctx(EVP_PKEY *key, const struct sig_desc *d, enum pcitsm_hash_alg hash,
			     bool sign)
{
	const EVP_MD *md = pcitsm_hash_md(hash);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

	if (!pc)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(pc) : EVP_PKEY_verify_init(pc)) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pc, md) != 1)
		goto fail;
	if (d->type == EVP_PKEY_RSA) {
		int pad = d->pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;

		if (EVP_PKEY_CTX_set_rsa_padding(pc, pad) != 1)
			goto fail;
		if (d->pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
			       EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1))
			goto fail;
	}
	return pc;
fail:
	EVP_PKEY_CTX_free(pc);
	return NULL;
}

/* DER ECDSA-Sig-Value -> fixed-width r||s. */
static pcitsm_err ecdsa_der_to_raw(const uint8_t *der, size_t der_len, uint8_t *raw, size_t raw_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	size_t half = raw_len / 2;
	pcitsm_err err = PCITSM_E_CRYPTO;

	if (!es)
		return PCITSM_E_CRYPTO;
	if (BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half) == (int)half &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half) == (int)half)
		err = PCITSM_OK;
	ECDSA_SIG_free(es);
	return err;
}

/* Fixed-width r||s -> DER, into a malloc'd buffer. */
static pcitsm_err ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, (int)(raw_len / 2), NULL);
	BIGNUM *s = BN_bin2bn(raw + raw_len / 2, (int)(raw_len / 2), NULL);
	unsigned char *out = NULL;
	int n;

	if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(s);
		return PCITSM_E_NOMEM;
	}
	n = i2d_ECDSA_SIG(es, &out);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return PCITSM_E_CRYPTO;
	*der = out;
	*der_len = (size_t)n;
	return PCITSM_OK;
}

pcitsm_err pcitsm_sig_sign_digest(EVP_PKEY *key, enum pcitsm_sig_alg alg, enum pcitsm_hash_alg hash,
				  const uint8_t *digest, uint8_t *sig, size_t sig_len)
{
	const struct sig_desc *d = sig_desc(alg);
	uint8_t der[PCITSM_SIG_MAX + 16];
	size_t der_len = sizeof(der);
	EVP_PKEY_CTX *pc;
	pcitsm_err err = PCITSM_E_CRYPTO;

	if (!d || !pcitsm_hash_md(hash) || sig_len != d->size || !pcitsm_sig_key_matches(key, alg))
		return PCITSM_E_INVAL;
	pc = sig_ctx(key, d, hash, true);
	if (!pc)
		return PCITSM_E_CRYPTO;
	if (EVP_PKEY_sign(pc, der, &der_len, digest, pcitsm_hash_size(hash)) == 1) {
		if (d->type == EVP_PKEY_EC)
			err = ecdsa_der_to_raw(der, der_len, sig, sig_len);
		else if (der_len == sig_len) {
			memcpy(sig, der, sig_len);
			err = PCITSM_OK;
		}
	}
	EVP_PKEY_CTX_free(pc);
	return err;
}

pcitsm_err pcitsm_sig_verify_digest(EVP_PKEY *pub, enum pcitsm_sig_alg alg,
				    enum pcitsm_hash_alg hash, const uint8_t *digest,
				    const uint8_t *sig, size_t sig_len)
{
	const struct sig_desc *d = sig_desc(alg);
	uint8_t *der = NULL;
	size_t der_len = sig_len;
	EVP_PKEY_CTX *pc;
	pcitsm_err err;
	int rc;

	if (!d || !pcitsm_hash_md(hash) || !pcitsm_sig_key_matches(pub, alg))
		return PCITSM_E_INVAL;
	if (sig_len != d->size)
		return PCITSM_E_SIGNATURE;
	if (d->type == EVP_PKEY_EC)
		PCITSM_TRY(ecdsa_raw_to_der(sig, sig_len, &der, &der_len));
	pc = sig_ctx(pub, d, hash, false);
	if (!pc) {
		OPENSSL_free(der);
		return PCITSM_E_CRYPTO;
	}
	rc = EVP_PKEY_verify(pc, der ? der : sig, der_len, digest, pcitsm_hash_size(hash));
	err = rc == 1 ? PCITSM_OK : PCITSM_E_SIGNATURE;
	EVP_PKEY_CTX_free(pc);
	OPENSSL_free(der);
	return err;
}

pcitsm_err pcitsm_sig_sign(EVP_PKEY *key, enum pcitsm_sig_alg alg, enum pcitsm_hash_alg hash,
			   const void *msg, size_t len, uint8_t *sig, size_t sig_len)
{
	uint8_t digest[PCITSM_HASH_MAX];

	if (!pcitsm_hash_md(hash))
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_hash(hash, msg, len, digest));
	return pcitsm_sig_sign_digest(key, alg, hash, digest, sig, sig_len);
}

pcitsm_err pcitsm_sig_verify(EVP_PKEY *pub, enum pcitsm_sig_alg alg, enum pcitsm_hash_alg hash,
			     const void *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	uint8_t digest[PCITSM_HASH_MAX];

	if (!pcitsm_hash_md(hash))
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_hash(hash, msg, len, digest));
	return pcitsm_sig_verify_digest(pub, alg, hash, digest, sig, sig_len);
}
