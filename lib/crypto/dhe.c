/* SPDX-License-Identifier: MIT */
/*
 * Ephemeral ECDH for SPDM KEY_EXCHANGE (DSP0274 1.3 NEGOTIATE_ALGORITHMS, KEY_EXCHANGE) over
 * OpenSSL 3 EVP: public values on the wire are X || Y (fixed width, big-endian, no 0x04 prefix),
 * the shared secret is the X coordinate. A peer's value is imported as an uncompressed point, which
 * libcrypto rejects unless both coordinates are below the prime and the point is on the curve; the
 * key check then runs the full public-key validation (the curves here have cofactor 1).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pcitsm/crypto.h"

#define SEC1_UNCOMPRESSED 0x04 /* SEC 1 §2.3.3 point encoding prefix */

struct dhe_desc {
	const char *name;
	const char *group; /* libcrypto's group name */
	size_t secret_size; /* one coordinate; the public value is X || Y */
};

/* The SPDM DHE groups of ALGORITHMS (DSP0274 DHE); curves of SEC 2. */
static const struct dhe_desc dhe_descs[] = {
	[PCITSM_DHE_SECP256R1] = { "secp256r1", "P-256", 32 },
	[PCITSM_DHE_SECP384R1] = { "secp384r1", "P-384", 48 },
};

static const struct dhe_desc *dhe_desc(enum pcitsm_dhe_alg alg)
{
	if ((unsigned)alg >= PCITSM_ARRAY_SIZE(dhe_descs) || !dhe_descs[alg].name)
		return NULL;
	return &dhe_descs[alg];
}

static const char *dhe_group(enum pcitsm_dhe_alg alg)
{
	const struct dhe_desc *d = dhe_desc(alg);
	return d ? d->group : NULL;
}

size_t pcitsm_dhe_secret_size(enum pcitsm_dhe_alg alg)
{
	const struct dhe_desc *d = dhe_desc(alg);
	return d ? d->secret_size : 0;
}

size_t pcitsm_dhe_pub_size(enum pcitsm_dhe_alg alg)
{
	return 2 * pcitsm_dhe_secret_size(alg); /* X || Y (DSP0274 1.3 NEGOTIATE_ALGORITHMS) */
}

const char *pcitsm_dhe_name(enum pcitsm_dhe_alg alg)
{
	const struct dhe_desc *d = dhe_desc(alg);
	return d ? d->name : "none";
}

pcitsm_err pcitsm_dhe_generate(struct pcitsm_dhe *d, enum pcitsm_dhe_alg alg)
{
	const char *group = dhe_group(alg);

	if (!d || !group || d->key)
		return PCITSM_E_INVAL;
	d->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	if (!d->key)
		return PCITSM_E_CRYPTO;
	d->alg = alg;
	return PCITSM_OK;
}

pcitsm_err pcitsm_dhe_public(const struct pcitsm_dhe *d, uint8_t *out, size_t len)
{
	uint8_t pt[1 + PCITSM_DHE_PUB_MAX];
	size_t want, n = 0;

	if (!d || !d->key || !out)
		return PCITSM_E_INVAL;
	want = pcitsm_dhe_pub_size(d->alg);
	if (len < want)
		return PCITSM_E_NOSPC;
	if (EVP_PKEY_get_octet_string_param(d->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
					    sizeof(pt), &n) != 1)
		return PCITSM_E_CRYPTO;
	if (n != 1 + want || pt[0] != SEC1_UNCOMPRESSED)
		return PCITSM_E_CRYPTO;
	memcpy(out, pt + 1, want);
	return PCITSM_OK;
}

/* The peer's X || Y as an EVP_PKEY: E_FIELD if libcrypto refuses the point. */
static pcitsm_err dhe_import(enum pcitsm_dhe_alg alg, const uint8_t *xy, size_t len,
			     EVP_PKEY **out)
{
	uint8_t pt[1 + PCITSM_DHE_PUB_MAX];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	pcitsm_err err = PCITSM_E_FIELD;

	pt[0] = SEC1_UNCOMPRESSED;
	memcpy(pt + 1, xy, len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)(uintptr_t)dhe_group(alg), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + len);
	params[2] = OSSL_PARAM_construct_end();

	*out = NULL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx)
		return PCITSM_E_NOMEM;
	if (EVP_PKEY_fromdata_init(ctx) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return PCITSM_E_CRYPTO;
	}
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1) {
		EVP_PKEY_CTX_free(ctx);
		/* Full validation: on the curve, not infinity, order n (SP 800-56A 5.6.2.3.3). */
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
		if (ctx && EVP_PKEY_public_check(ctx) == 1)
			err = PCITSM_OK;
	}
	EVP_PKEY_CTX_free(ctx);
	if (err) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return err;
}

pcitsm_err pcitsm_dhe_derive(const struct pcitsm_dhe *d, const uint8_t *peer, size_t peer_len,
			     uint8_t *secret, size_t secret_len)
{
	EVP_PKEY *pub = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	pcitsm_err err;
	size_t n;

	if (!d || !d->key || !peer || !secret || peer_len != pcitsm_dhe_pub_size(d->alg) ||
	    secret_len != pcitsm_dhe_secret_size(d->alg))
		return PCITSM_E_INVAL;
	err = dhe_import(d->alg, peer, peer_len, &pub);
	if (err)
		goto out;
	/* ECDH (SEC 1 §3.3.1): the shared secret is the X coordinate, fixed width. */
	err = PCITSM_E_CRYPTO;
	n = secret_len;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, d->key, NULL);
	if (ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer_ex(ctx, pub, 1) == 1 &&
	    EVP_PKEY_derive(ctx, secret, &n) == 1 && n == secret_len)
		err = PCITSM_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	if (err)
		pcitsm_wipe(secret, secret_len);
	return err;
}

void pcitsm_dhe_free(struct pcitsm_dhe *d)
{
	if (!d)
		return;
	EVP_PKEY_free(d->key);
	d->key = NULL;
	d->alg = PCITSM_DHE_NONE;
}
