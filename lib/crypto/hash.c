/* SPDX-License-Identifier: MIT */
/* Hashes over OpenSSL 3 EVP: one-shot and incremental (copyable, for transcript forks). */
#include <openssl/evp.h>

#include "crypto/internal.h"

struct hash_desc {
	const char *name;
	size_t size;
	const EVP_MD *(*md)(void);
};

/* FIPS 180-4 digests; sizes in bytes. */
static const struct hash_desc hash_descs[] = {
	[PCITSM_HASH_SHA256] = { "sha256", 32, EVP_sha256 },
	[PCITSM_HASH_SHA384] = { "sha384", 48, EVP_sha384 },
	[PCITSM_HASH_SHA512] = { "sha512", 64, EVP_sha512 },
};

static const struct hash_desc *hash_desc(enum pcitsm_hash_alg alg)
{
	if ((unsigned)alg >= PCITSM_ARRAY_SIZE(hash_descs) || !hash_descs[alg].name)
		return NULL;
	return &hash_descs[alg];
}

const EVP_MD *pcitsm_hash_md(enum pcitsm_hash_alg alg)
{
	const struct hash_desc *d = hash_desc(alg);
	return d ? d->md() : NULL;
}

size_t pcitsm_hash_size(enum pcitsm_hash_alg alg)
{
	const struct hash_desc *d = hash_desc(alg);
	return d ? d->size : 0;
}

const char *pcitsm_hash_name(enum pcitsm_hash_alg alg)
{
	const struct hash_desc *d = hash_desc(alg);
	return d ? d->name : "none";
}

pcitsm_err pcitsm_hash(enum pcitsm_hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	const EVP_MD *md = pcitsm_hash_md(alg);

	if (!md || (!data && len))
		return PCITSM_E_INVAL;
	if (EVP_Digest(data ? data : "", len, out, NULL, md, NULL) != 1)
		return PCITSM_E_CRYPTO;
	return PCITSM_OK;
}

pcitsm_err pcitsm_hash_init(struct pcitsm_hash_ctx *h, enum pcitsm_hash_alg alg)
{
	const EVP_MD *md = pcitsm_hash_md(alg);

	h->md = NULL;
	h->alg = PCITSM_HASH_NONE;
	if (!md)
		return PCITSM_E_INVAL;
	h->md = EVP_MD_CTX_new();
	if (!h->md)
		return PCITSM_E_NOMEM;
	if (EVP_DigestInit_ex(h->md, md, NULL) != 1) {
		pcitsm_hash_free(h);
		return PCITSM_E_CRYPTO;
	}
	h->alg = alg;
	return PCITSM_OK;
}

pcitsm_err pcitsm_hash_update(struct pcitsm_hash_ctx *h, const void *data, size_t len)
{
	if (!h->md || (!data && len))
		return PCITSM_E_STATE;
	if (len && EVP_DigestUpdate(h->md, data, len) != 1)
		return PCITSM_E_CRYPTO;
	return PCITSM_OK;
}

pcitsm_err pcitsm_hash_final(struct pcitsm_hash_ctx *h, uint8_t *out)
{
	int ok;

	if (!h->md)
		return PCITSM_E_STATE;
	ok = EVP_DigestFinal_ex(h->md, out, NULL);
	pcitsm_hash_free(h);
	return ok == 1 ? PCITSM_OK : PCITSM_E_CRYPTO;
}

pcitsm_err pcitsm_hash_peek(const struct pcitsm_hash_ctx *h, uint8_t *out)
{
	struct pcitsm_hash_ctx tmp = { 0 };

	PCITSM_TRY(pcitsm_hash_copy(&tmp, h));
	return pcitsm_hash_final(&tmp, out);
}

pcitsm_err pcitsm_hash_copy(struct pcitsm_hash_ctx *dst, const struct pcitsm_hash_ctx *src)
{
	dst->md = NULL;
	dst->alg = PCITSM_HASH_NONE;
	if (!src->md)
		return PCITSM_E_STATE;
	dst->md = EVP_MD_CTX_new();
	if (!dst->md)
		return PCITSM_E_NOMEM;
	if (EVP_MD_CTX_copy_ex(dst->md, src->md) != 1) {
		pcitsm_hash_free(dst);
		return PCITSM_E_CRYPTO;
	}
	dst->alg = src->alg;
	return PCITSM_OK;
}

void pcitsm_hash_free(struct pcitsm_hash_ctx *h)
{
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
	h->alg = PCITSM_HASH_NONE;
}
