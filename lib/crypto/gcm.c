/* SPDX-License-Identifier: MIT */
/*
 * AES-256-GCM for the IDE data path (DESIGN.md "Data path speed"): intel-ipsec-mb's direct API
 * (expanded key + GHASH tables in struct gcm_key_data, context on the caller's stack) when the CPU
 * has AES-NI and PCLMULQDQ, and OpenSSL's EVP as the portable fallback. Both compute SP 800-38D
 * GCM with a 96-bit IV; the IDE engine truncates the tag to 96 bits (PCIe 6.x §6.33 AES-GCM).
 *
 * Per call: no allocation, no system call. The key schedule is computed once in key_set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pcitsm/crypto.h"

struct pcitsm_gcm {
	enum pcitsm_gcm_backend backend;
	IMB_MGR *mgr;      /* ipsec-mb */
	EVP_CIPHER *evp;   /* openssl: fetched once */
	char name[48];
	uint64_t expansions; /* successful key_set calls */
};

struct pcitsm_gcm_key {
	struct pcitsm_gcm *g;
	struct gcm_key_data *imb; /* 64-byte aligned */
	EVP_CIPHER_CTX *ctx;
	bool set;
};

static const uint8_t gcm_zero_key[PCITSM_GCM_KEY_LEN];

pcitsm_err pcitsm_gcm_backend_parse(const char *s, enum pcitsm_gcm_backend *b)
{
	if (!s || !b)
		return PCITSM_E_INVAL;
	if (!strcmp(s, "auto"))
		*b = PCITSM_GCM_AUTO;
	else if (!strcmp(s, "ipsec-mb") || !strcmp(s, "ipsecmb"))
		*b = PCITSM_GCM_IPSECMB;
	else if (!strcmp(s, "openssl"))
		*b = PCITSM_GCM_OPENSSL;
	else
		return PCITSM_E_INVAL;
	return PCITSM_OK;
}

static const char *imb_arch_name(IMB_ARCH a)
{
	switch (a) {
	case IMB_ARCH_SSE: return "sse";
	case IMB_ARCH_AVX: return "avx";
	case IMB_ARCH_AVX2: return "avx2";
	case IMB_ARCH_AVX512: return "avx512";
	default: return "other";
	}
}

/* ipsec-mb is usable when its run-time detection picked an AES-NI code path. */
static pcitsm_err imb_open(struct pcitsm_gcm *g)
{
	IMB_ARCH arch = IMB_ARCH_NONE;
	const uint64_t need = IMB_FEATURE_AESNI | IMB_FEATURE_PCLMULQDQ;

	g->mgr = alloc_mb_mgr(0);
	if (!g->mgr)
		return PCITSM_E_NOMEM;
	init_mb_mgr_auto(g->mgr, &arch);
	if (imb_get_errno(g->mgr) || arch < IMB_ARCH_SSE || (g->mgr->features & need) != need) {
		free_mb_mgr(g->mgr);
		g->mgr = NULL;
		return PCITSM_E_UNSUPPORTED;
	}
	g->backend = PCITSM_GCM_IPSECMB;
	snprintf(g->name, sizeof(g->name), "ipsec-mb %s (%s)", imb_get_version_str(),
		 imb_arch_name(arch));
	return PCITSM_OK;
}

static pcitsm_err evp_open(struct pcitsm_gcm *g)
{
	g->evp = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!g->evp)
		return PCITSM_E_CRYPTO;
	g->backend = PCITSM_GCM_OPENSSL;
	snprintf(g->name, sizeof(g->name), "openssl %s", OpenSSL_version(OPENSSL_VERSION_STRING));
	return PCITSM_OK;
}

pcitsm_err pcitsm_gcm_new(struct pcitsm_gcm **out, enum pcitsm_gcm_backend want)
{
	struct pcitsm_gcm *g;
	const char *env;
	pcitsm_err e;

	if (!out)
		return PCITSM_E_INVAL;
	*out = NULL;
	if (want == PCITSM_GCM_AUTO) {
		env = getenv(PCITSM_GCM_ENV);
		if (env && *env)
			PCITSM_TRY(pcitsm_gcm_backend_parse(env, &want));
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return PCITSM_E_NOMEM;
	switch (want) {
	case PCITSM_GCM_AUTO:
		e = imb_open(g);
		if (e == PCITSM_E_UNSUPPORTED)
			e = evp_open(g);
		break;
	case PCITSM_GCM_IPSECMB:
		e = imb_open(g);
		break;
	case PCITSM_GCM_OPENSSL:
		e = evp_open(g);
		break;
	default:
		e = PCITSM_E_INVAL;
	}
	if (e) {
		free(g);
		return e;
	}
	*out = g;
	return PCITSM_OK;
}

void pcitsm_gcm_free(struct pcitsm_gcm *g)
{
	if (!g)
		return;
	if (g->mgr)
		free_mb_mgr(g->mgr);
	EVP_CIPHER_free(g->evp);
	free(g);
}

enum pcitsm_gcm_backend pcitsm_gcm_backend_of(const struct pcitsm_gcm *g) { return g->backend; }
const char *pcitsm_gcm_name(const struct pcitsm_gcm *g) { return g->name; }

pcitsm_err pcitsm_gcm_key_new(struct pcitsm_gcm *g, struct pcitsm_gcm_key **out)
{
	struct pcitsm_gcm_key *k;
	size_t sz = (sizeof(struct gcm_key_data) + 63) & ~(size_t)63;

	if (!g || !out)
		return PCITSM_E_INVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return PCITSM_E_NOMEM;
	k->g = g;
	if (g->backend == PCITSM_GCM_IPSECMB)
		k->imb = aligned_alloc(64, sz);
	else
		k->ctx = EVP_CIPHER_CTX_new();
	if (!k->imb && !k->ctx) {
		free(k);
		return PCITSM_E_NOMEM;
	}
	if (k->imb)
		memset(k->imb, 0, sizeof(*k->imb));
	*out = k;
	return PCITSM_OK;
}

pcitsm_err pcitsm_gcm_key_set(struct pcitsm_gcm_key *k, const uint8_t key[PCITSM_GCM_KEY_LEN])
{
	k->set = false;
	if (k->imb) {
		IMB_AES256_GCM_PRE(k->g->mgr, key, k->imb);
		if (imb_get_errno(k->g->mgr))
			return PCITSM_E_CRYPTO;
	} else if (EVP_EncryptInit_ex2(k->ctx, k->g->evp, key, NULL, NULL) != 1) {
		return PCITSM_E_CRYPTO;
	}
	k->set = true;
	__atomic_fetch_add(&k->g->expansions, 1, __ATOMIC_RELAXED);
	return PCITSM_OK;
}

uint64_t pcitsm_gcm_key_expansions(const struct pcitsm_gcm *g)
{
	return g ? __atomic_load_n(&g->expansions, __ATOMIC_RELAXED) : 0;
}

void pcitsm_gcm_key_clear(struct pcitsm_gcm_key *k)
{
	if (!k)
		return;
	if (k->imb)
		pcitsm_wipe(k->imb, sizeof(*k->imb));
	/* EVP: overwrite the key schedule with an all-zero key's (nothing secret left, and no free:
	 * a receiver invalidates its old key set from the data path, PCIe 6.x §6.33 key refresh);
	 * reset only if that fails, which cleanses and frees the provider's context. */
	if (k->ctx && (!k->set || EVP_EncryptInit_ex2(k->ctx, NULL, gcm_zero_key, NULL, NULL) != 1))
		EVP_CIPHER_CTX_reset(k->ctx);
	k->set = false;
}

void pcitsm_gcm_key_free(struct pcitsm_gcm_key *k)
{
	if (!k)
		return;
	pcitsm_gcm_key_clear(k);
	free(k->imb);
	EVP_CIPHER_CTX_free(k->ctx);
	free(k);
}

/* ipsec-mb rejects NULL pointers even with zero lengths: give it a harmless non-NULL one. */
static const uint8_t gcm_empty[16];

static void imb_crypt(struct pcitsm_gcm_key *k, bool enc, const uint8_t *iv, const uint8_t *aad,
		      size_t aad_len, const struct pcitsm_gcm_seg *segs, size_t nseg,
		      uint8_t tag[PCITSM_GCM_TAG_LEN])
{
	IMB_MGR *m = k->g->mgr;
	struct gcm_context_data ctx;
	const uint8_t *a = aad_len ? aad : gcm_empty;

	if (nseg == 1 && segs[0].len) {
		if (enc)
			IMB_AES256_GCM_ENC(m, k->imb, &ctx, segs[0].out, segs[0].in, segs[0].len, iv,
					   a, aad_len, tag, PCITSM_GCM_TAG_LEN);
		else
			IMB_AES256_GCM_DEC(m, k->imb, &ctx, segs[0].out, segs[0].in, segs[0].len, iv,
					   a, aad_len, tag, PCITSM_GCM_TAG_LEN);
		/* ctx holds the GHASH state and the last partial block's keystream */
		pcitsm_wipe(&ctx, sizeof(ctx));
		return;
	}
	IMB_AES256_GCM_INIT(m, k->imb, &ctx, iv, a, aad_len);
	for (size_t i = 0; i < nseg; i++) {
		if (!segs[i].len)
			continue;
		if (enc)
			IMB_AES256_GCM_ENC_UPDATE(m, k->imb, &ctx, segs[i].out, segs[i].in,
						  segs[i].len);
		else
			IMB_AES256_GCM_DEC_UPDATE(m, k->imb, &ctx, segs[i].out, segs[i].in,
						  segs[i].len);
	}
	if (enc)
		IMB_AES256_GCM_ENC_FINALIZE(m, k->imb, &ctx, tag, PCITSM_GCM_TAG_LEN);
	else
		IMB_AES256_GCM_DEC_FINALIZE(m, k->imb, &ctx, tag, PCITSM_GCM_TAG_LEN);
	pcitsm_wipe(&ctx, sizeof(ctx));
}

/* EVP: IV only (the key schedule stays), AAD, each segment, final. */
static pcitsm_err evp_crypt(struct pcitsm_gcm_key *k, int enc, const uint8_t *iv, const uint8_t *aad,
			    size_t aad_len, const struct pcitsm_gcm_seg *segs, size_t nseg,
			    uint8_t *tag, size_t tag_len)
{
	EVP_CIPHER_CTX *c = k->ctx;
	int n;

	if (EVP_CipherInit_ex2(c, NULL, NULL, iv, enc, NULL) != 1)
		return PCITSM_E_CRYPTO;
	if (aad_len && EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
		return PCITSM_E_CRYPTO;
	for (size_t i = 0; i < nseg; i++)
		if (segs[i].len &&
		    EVP_CipherUpdate(c, segs[i].out, &n, segs[i].in, (int)segs[i].len) != 1)
			return PCITSM_E_CRYPTO;
	if (enc) {
		if (EVP_CipherFinal_ex(c, NULL, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, PCITSM_GCM_TAG_LEN, tag) != 1)
			return PCITSM_E_CRYPTO;
		return PCITSM_OK;
	}
	/* The expected tag, then the library's constant-time check (CRYPTO_memcmp). */
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, (int)tag_len, tag) != 1)
		return PCITSM_E_CRYPTO;
	return EVP_CipherFinal_ex(c, NULL, &n) == 1 ? PCITSM_OK : PCITSM_E_MAC;
}

static pcitsm_err gcm_check(const struct pcitsm_gcm_key *k, const struct pcitsm_gcm_seg *segs,
			    size_t nseg, size_t aad_len, size_t tag_len)
{
	size_t total = aad_len;

	if (!k || !k->set)
		return PCITSM_E_STATE;
	if ((nseg && !segs) || !tag_len || tag_len > PCITSM_GCM_TAG_LEN)
		return PCITSM_E_INVAL;
	for (size_t i = 0; i < nseg; i++) {
		if (segs[i].len > INT32_MAX - total)
			return PCITSM_E_INVAL;
		total += segs[i].len;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_gcm_seal(struct pcitsm_gcm_key *k, const uint8_t iv[PCITSM_GCM_IV_LEN],
			   const uint8_t *aad, size_t aad_len, const struct pcitsm_gcm_seg *segs,
			   size_t nseg, uint8_t *tag, size_t tag_len)
{
	uint8_t full[PCITSM_GCM_TAG_LEN];

	PCITSM_TRY(gcm_check(k, segs, nseg, aad_len, tag_len));
	if (k->imb)
		imb_crypt(k, true, iv, aad, aad_len, segs, nseg, full);
	else
		PCITSM_TRY(evp_crypt(k, 1, iv, aad, aad_len, segs, nseg, full, sizeof(full)));
	memcpy(tag, full, tag_len);
	return PCITSM_OK;
}

/* Constant-time tag comparison: the IDE MAC (12 bytes) as a 64-bit and a 32-bit word, no branch
 * on the data; other lengths byte by byte (pcitsm_ct_memneq). */
static int tag_neq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t a0, b0;
	uint32_t a1, b1;

	if (n != 12)
		return pcitsm_ct_memneq(a, b, n);
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + 8, 4);
	memcpy(&b1, b + 8, 4);
	return ((a0 ^ b0) | (a1 ^ b1)) != 0;
}

pcitsm_err pcitsm_gcm_open(struct pcitsm_gcm_key *k, const uint8_t iv[PCITSM_GCM_IV_LEN],
			   const uint8_t *aad, size_t aad_len, const struct pcitsm_gcm_seg *segs,
			   size_t nseg, const uint8_t *tag, size_t tag_len)
{
	uint8_t full[PCITSM_GCM_TAG_LEN];
	pcitsm_err e;

	PCITSM_TRY(gcm_check(k, segs, nseg, aad_len, tag_len));
	if (k->imb) {
		imb_crypt(k, false, iv, aad, aad_len, segs, nseg, full);
		e = tag_neq(full, tag, tag_len) ? PCITSM_E_MAC : PCITSM_OK;
	} else {
		memcpy(full, tag, tag_len);
		e = evp_crypt(k, 0, iv, aad, aad_len, segs, nseg, full, tag_len);
	}
	if (e)
		for (size_t i = 0; i < nseg; i++)
			pcitsm_wipe(segs[i].out, segs[i].len);
	return e;
}
