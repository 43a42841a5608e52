/* SPDX-License-Identifier: MIT */
/*
 * HMAC and HKDF (RFC 5869) over OpenSSL 3's EVP_MAC and EVP_KDF, for the SPDM key schedule
 * (DSP0274 1.3 'Key schedule'). The SPDM-specific BinConcat info string is built in lib/spdm/.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "pcitsm/crypto.h"

static const char *hkdf_digest(enum pcitsm_hash_alg alg)
{
	switch (alg) {
	case PCITSM_HASH_SHA256:
		return "SHA256";
	case PCITSM_HASH_SHA384:
		return "SHA384";
	case PCITSM_HASH_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

pcitsm_err pcitsm_hmac(enum pcitsm_hash_alg alg, const uint8_t *key, size_t key_len,
		       const void *data, size_t len, uint8_t *out)
{
	const char *md = hkdf_digest(alg);
	size_t n = 0;

	if (!md || !key || !key_len || (!data && len) || !out)
		return PCITSM_E_INVAL;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, key_len, data ? data : "", len, out,
		       pcitsm_hash_size(alg), &n))
		return PCITSM_E_CRYPTO;
	return n == pcitsm_hash_size(alg) ? PCITSM_OK : PCITSM_E_CRYPTO;
}

/* One EVP_KDF "HKDF" run in the given mode (extract only or expand only). */
static pcitsm_err hkdf_run(enum pcitsm_hash_alg alg, int mode, const uint8_t *key, size_t key_len,
			   const uint8_t *salt, size_t salt_len, const uint8_t *info,
			   size_t info_len, uint8_t *out, size_t out_len)
{
	const char *md = hkdf_digest(alg);
	OSSL_PARAM params[6], *p = params;
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	int ok;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t)md, 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)key,
						 key_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)(uintptr_t)salt, salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)(uintptr_t)info, info_len);
	*p = OSSL_PARAM_construct_end();

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return PCITSM_E_CRYPTO;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return PCITSM_E_NOMEM;
	ok = EVP_KDF_derive(ctx, out, out_len, params);
	EVP_KDF_CTX_free(ctx); /* clears its copies of key, salt and info */
	if (ok != 1) {
		pcitsm_wipe(out, out_len);
		return PCITSM_E_CRYPTO;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_hkdf_extract(enum pcitsm_hash_alg alg, const uint8_t *salt, size_t salt_len,
			       const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
	if (!hkdf_digest(alg) || !ikm || !ikm_len || (!salt && salt_len) || !prk)
		return PCITSM_E_INVAL;
	/* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zeros. */
	return hkdf_run(alg, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt, salt_len, NULL, 0,
			prk, pcitsm_hash_size(alg));
}

pcitsm_err pcitsm_hkdf_expand(enum pcitsm_hash_alg alg, const uint8_t *prk, size_t prk_len,
			      const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	size_t h = pcitsm_hash_size(alg);

	/* RFC 5869 §2.3: PRK at least HashLen, L at most 255 * HashLen. */
	if (!h || !prk || prk_len < h || (!info && info_len) || !out || !out_len ||
	    out_len > 255 * h)
		return PCITSM_E_INVAL;
	return hkdf_run(alg, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_len, NULL, 0, info, info_len,
			out, out_len);
}
