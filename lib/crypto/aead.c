/* SPDX-License-Identifier: MIT */
/*
 * AES-GCM for SPDM secured messages (DSP0274 1.3 NEGOTIATE_ALGORITHMS; DSP0277 secured message
 * format): 12-byte IV, 16-byte tag, one shot over OpenSSL EVP. Messages are small and rare (the
 * control plane), so each call builds its own cipher context and frees it, which also clears the
 * expanded key.
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "pcitsm/crypto.h"

struct aead_desc {
	const char *name;
	size_t key_size;
	const EVP_CIPHER *(*cipher)(void);
};

/* The SPDM AEAD algorithms of ALGORITHMS (DSP0274 AEADCipherSuite); GCM per NIST SP 800-38D. */
static const struct aead_desc aead_descs[] = {
	[PCITSM_AEAD_AES_128_GCM] = { "aes-128-gcm", 16, EVP_aes_128_gcm },
	[PCITSM_AEAD_AES_256_GCM] = { "aes-256-gcm", 32, EVP_aes_256_gcm },
};

static const struct aead_desc *aead_desc(enum pcitsm_aead_alg alg)
{
	if ((unsigned)alg >= PCITSM_ARRAY_SIZE(aead_descs) || !aead_descs[alg].name)
		return NULL;
	return &aead_descs[alg];
}

static const EVP_CIPHER *aead_cipher(enum pcitsm_aead_alg alg)
{
	const struct aead_desc *d = aead_desc(alg);
	return d ? d->cipher() : NULL;
}

size_t pcitsm_aead_key_size(enum pcitsm_aead_alg alg)
{
	const struct aead_desc *d = aead_desc(alg);
	return d ? d->key_size : 0;
}

const char *pcitsm_aead_name(enum pcitsm_aead_alg alg)
{
	const struct aead_desc *d = aead_desc(alg);
	return d ? d->name : "none";
}

/* Key, IV (12 bytes is GCM's default IV length) and AAD into a fresh context. */
static pcitsm_err aead_start(EVP_CIPHER_CTX *c, enum pcitsm_aead_alg alg, int enc,
			     const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
			     size_t aad_len)
{
	int n;

	if (EVP_CipherInit_ex2(c, aead_cipher(alg), key, iv, enc, NULL) != 1)
		return PCITSM_E_CRYPTO;
	if (aad_len && EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
		return PCITSM_E_CRYPTO;
	return PCITSM_OK;
}

static pcitsm_err aead_args(enum pcitsm_aead_alg alg, const uint8_t *key, const uint8_t *iv,
			    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			    const uint8_t *out, const uint8_t *tag)
{
	if (!aead_cipher(alg) || !key || !iv || !tag || (!aad && aad_len) ||
	    (len && (!in || !out)) || aad_len > INT_MAX || len > INT_MAX)
		return PCITSM_E_INVAL;
	return PCITSM_OK;
}

pcitsm_err pcitsm_aead_seal(enum pcitsm_aead_alg alg, const uint8_t *key,
			    const uint8_t iv[PCITSM_AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
			    const uint8_t *in, size_t len, uint8_t *out,
			    uint8_t tag[PCITSM_AEAD_TAG_LEN])
{
	EVP_CIPHER_CTX *c;
	pcitsm_err err;
	int n;

	PCITSM_TRY(aead_args(alg, key, iv, aad, aad_len, in, len, out, tag));
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return PCITSM_E_NOMEM;
	err = aead_start(c, alg, 1, key, iv, aad, aad_len);
	if (!err && len && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		err = PCITSM_E_CRYPTO;
	if (!err && (EVP_CipherFinal_ex(c, NULL, &n) != 1 ||
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, PCITSM_AEAD_TAG_LEN, tag) != 1))
		err = PCITSM_E_CRYPTO;
	EVP_CIPHER_CTX_free(c);
	if (err) {
		pcitsm_wipe(out, len);
		pcitsm_wipe(tag, PCITSM_AEAD_TAG_LEN);
	}
	return err;
}

pcitsm_err pcitsm_aead_open(enum pcitsm_aead_alg alg, const uint8_t *key,
			    const uint8_t iv[PCITSM_AEAD_IV_LEN], const uint8_t *aad, size_t aad_len,
			    const uint8_t *in, size_t len, uint8_t *out,
			    const uint8_t tag[PCITSM_AEAD_TAG_LEN])
{
	uint8_t expect[PCITSM_AEAD_TAG_LEN];
	EVP_CIPHER_CTX *c;
	pcitsm_err err;
	int n;

	PCITSM_TRY(aead_args(alg, key, iv, aad, aad_len, in, len, out, tag));
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return PCITSM_E_NOMEM;
	memcpy(expect, tag, sizeof(expect)); /* SET_TAG takes a non-const pointer */
	err = aead_start(c, alg, 0, key, iv, aad, aad_len);
	if (!err && len && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		err = PCITSM_E_CRYPTO;
	if (!err && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, PCITSM_AEAD_TAG_LEN, expect) != 1)
		err = PCITSM_E_CRYPTO;
	/* The tag check: libcrypto's GCM final compares with CRYPTO_memcmp (constant time). */
	if (!err && EVP_CipherFinal_ex(c, NULL, &n) != 1)
		err = PCITSM_E_MAC;
	EVP_CIPHER_CTX_free(c);
	if (err)
		pcitsm_wipe(out, len);
	return err;
}
