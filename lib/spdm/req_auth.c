/* SPDX-License-Identifier: MIT */
/*
 * SPDM requester: GET_DIGESTS, GET_CERTIFICATE (portions, then the chain checks), CHALLENGE and
 * GET_MEASUREMENTS, with transcripts B, C and M (DSP0274 1.3 'Transcript and transcript hash
 * calculation rules', signing with combined_spdm_prefix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "req_priv.h"

pcitsm_err pcitsm_spdm_req_get_digests(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
{
	struct pcitsm_wr rq;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_GET_DIGESTS));
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	PCITSM_TRY(spdm_enc_get_digests(&rq, r->version));
	return req_commit(r, &rq, w);
}

/* DIGESTS: B restarts here (DSP0274 1.3 'Transcript and transcript hash calculation rules'): M1 =
 * A || GET_DIGESTS || DIGESTS. */
pcitsm_err req_on_digests(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_digests d;
	size_t mlen, k = 0;

	PCITSM_TRY(spdm_dec_digests(p, len, r->version, r->hash_len, &d, &mlen));
	memset(r->digests, 0, sizeof(r->digests));
	for (unsigned slot = 0; slot < PCITSM_SPDM_MAX_SLOTS; slot++)
		if (d.slot_mask & (1u << slot))
			memcpy(r->digests[slot], d.digests + r->hash_len * k++, r->hash_len);
	r->slot_mask = d.slot_mask;
	PCITSM_TRY(spdm_ts_restart(&r->m1, r->hash, r->vca, r->vca_len));
	PCITSM_TRY(pcitsm_hash_update(&r->m1, r->req, r->req_len));
	return pcitsm_hash_update(&r->m1, p, mlen);
}

bool pcitsm_spdm_req_chain_complete(const struct pcitsm_spdm_req *r)
{
	return r->chain_done;
}

/* GET_CERTIFICATE: the next portion of slot's chain; a new slot (or a finished chain) restarts. */
pcitsm_err pcitsm_spdm_req_get_certificate(struct pcitsm_spdm_req *r, uint8_t slot,
					   struct pcitsm_wr *w)
{
	struct spdm_get_cert g = { .slot = slot };
	struct pcitsm_wr rq;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_GET_CERTIFICATE));
	if (slot >= PCITSM_SPDM_MAX_SLOTS)
		return PCITSM_E_INVAL;
	if (slot != r->cert_slot || r->chain_done) {
		free(r->chain);
		r->chain = NULL;
		r->chain_len = r->chain_cap = 0;
		r->chain_done = false;
		r->chain_trusted = false;
		r->chain_why[0] = 0;
		EVP_PKEY_free(r->leaf);
		r->leaf = NULL;
		r->cert_slot = slot;
	}
	g.offset = (uint16_t)r->chain_len;
	g.length = (uint16_t)PCITSM_MIN((size_t)SPDM_CERT_PORTION, r->cfg.data_transfer_size - 8);
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	PCITSM_TRY(spdm_enc_get_certificate(&rq, r->version, &g));
	return req_commit(r, &rq, w);
}

static bool cert_self_signed(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	X509 *x = d2i_X509(NULL, &q, (long)len);
	bool self;

	if (!x)
		return false;
	self = X509_check_issued(x, x) == X509_V_OK;
	X509_free(x);
	return self;
}

static pcitsm_err cert_pubkey(const uint8_t *der, size_t len, EVP_PKEY **pub)
{
	const unsigned char *q = der;
	X509 *x = d2i_X509(NULL, &q, (long)len);

	if (!x)
		return PCITSM_E_FIELD;
	*pub = X509_get_pubkey(x);
	X509_free(x);
	return *pub ? PCITSM_OK : PCITSM_E_CERT;
}

/* Validate against the trust anchors; with allow_untrusted a failure is recorded, not fatal. */
static pcitsm_err chain_validate(struct pcitsm_spdm_req *r, const uint8_t *certs, size_t len,
				 const uint8_t *leaf_der, size_t leaf_len)
{
	pcitsm_err e;

	if (!r->cfg.trust) {
		snprintf(r->chain_why, sizeof(r->chain_why), "no trust anchor given");
		if (!r->cfg.allow_untrusted)
			return PCITSM_E_CERT;
		return cert_pubkey(leaf_der, leaf_len, &r->leaf);
	}
	r->chain_why[0] = 0;
	e = pcitsm_x509_chain_verify(r->cfg.trust, certs, len, &r->leaf, r->chain_why,
				     sizeof(r->chain_why));
	if (e == PCITSM_OK) {
		r->chain_trusted = true;
		return PCITSM_OK;
	}
	if (!r->chain_why[0])
		snprintf(r->chain_why, sizeof(r->chain_why), "%s", pcitsm_err_str(e));
	if (!r->cfg.allow_untrusted)
		return e;
	return cert_pubkey(leaf_der, leaf_len, &r->leaf);
}

/*
 * The whole SPDM chain (DSP0274 1.3 GET_CERTIFICATE): Length matches, Reserved zero, RootHash =
 * Hash(first certificate) when that certificate is self-signed, Hash(chain) = the slot's DIGESTS
 * entry, the certificates validate against the anchors, and the leaf key fits the negotiated
 * BaseAsymAlgo.
 */
pcitsm_err pcitsm_spdm_chain_certs(enum pcitsm_hash_alg hash, const uint8_t *chain, size_t len,
				   const uint8_t **certs, size_t *certs_len, char *why,
				   size_t why_len)
{
	size_t off[SPDM_MAX_CERTS], clen[SPDM_MAX_CERTS], n, hash_len = pcitsm_hash_size(hash);
	uint8_t h[PCITSM_HASH_MAX];
	const uint8_t *root_hash;
	struct pcitsm_rd rd;
	uint16_t length;

	if (!hash_len)
		return PCITSM_E_INVAL;
	pcitsm_rd_init(&rd, chain, len);
	length = pcitsm_rd_le16(&rd);
	pcitsm_rd_zero(&rd, 2);
	root_hash = pcitsm_rd_bytes(&rd, hash_len);
	*certs = pcitsm_rd_rest(&rd, certs_len);
	pcitsm_rd_check(&rd, length == len && *certs_len > 0, PCITSM_E_FIELD);
	if (pcitsm_rd_err(&rd)) {
		snprintf(why, why_len, "the chain's header (Length, Reserved, RootHash) is wrong");
		return pcitsm_rd_err(&rd);
	}
	if (pcitsm_x509_chain_split(*certs, *certs_len, off, clen, SPDM_MAX_CERTS, &n) !=
		    PCITSM_OK ||
	    n == 0) {
		snprintf(why, why_len, "certificate chain is not DER");
		return PCITSM_E_FIELD;
	}
	PCITSM_TRY(pcitsm_hash(hash, *certs + off[0], clen[0], h));
	if (pcitsm_ct_memneq(h, root_hash, hash_len) && cert_self_signed(*certs, clen[0])) {
		snprintf(why, why_len, "RootHash is not the root's hash");
		return PCITSM_E_HASH;
	}
	return PCITSM_OK;
}

/*
 * The whole SPDM chain (DSP0274 1.3 GET_CERTIFICATE): its structure (pcitsm_spdm_chain_certs),
 * Hash(chain) = the slot's DIGESTS entry, the certificates validate against the anchors, and the
 * leaf key fits the negotiated BaseAsymAlgo.
 */
static pcitsm_err chain_check(struct pcitsm_spdm_req *r)
{
	size_t off[SPDM_MAX_CERTS], clen[SPDM_MAX_CERTS], n, certs_len;
	uint8_t h[PCITSM_HASH_MAX];
	const uint8_t *certs;

	PCITSM_TRY(pcitsm_spdm_chain_certs(r->hash, r->chain, r->chain_len, &certs, &certs_len,
					   r->chain_why, sizeof(r->chain_why)));
	PCITSM_TRY(pcitsm_x509_chain_split(certs, certs_len, off, clen, SPDM_MAX_CERTS, &n));
	PCITSM_TRY(pcitsm_hash(r->hash, r->chain, r->chain_len, h));
	if ((r->slot_mask & (1u << r->cert_slot)) &&
	    pcitsm_ct_memneq(h, r->digests[r->cert_slot], r->hash_len)) {
		snprintf(r->chain_why, sizeof(r->chain_why), "chain does not match its DIGESTS entry");
		return PCITSM_E_HASH;
	}
	PCITSM_TRY(chain_validate(r, certs, certs_len, certs + off[n - 1], clen[n - 1]));
	if (!pcitsm_sig_key_matches(r->leaf, r->sig)) {
		snprintf(r->chain_why, sizeof(r->chain_why),
			 "leaf key does not fit the negotiated %s", pcitsm_sig_name(r->sig));
		return PCITSM_E_CERT;
	}
	return PCITSM_OK;
}

/* Append a portion; the first one fixes the total (PortionLength + RemainderLength). */
static pcitsm_err chain_append(struct pcitsm_spdm_req *r, const struct spdm_cert *c)
{
	size_t total = (size_t)c->portion_len + c->remainder_len;

	if (r->chain_len == 0) {
		if (total > PCITSM_SPDM_MAX_CHAIN || total < 4 + r->hash_len)
			return PCITSM_E_FIELD;
		r->chain = malloc(total);
		if (!r->chain)
			return PCITSM_E_NOMEM;
		r->chain_cap = total;
	} else if (r->chain_len + total != r->chain_cap) {
		return PCITSM_E_FIELD; /* RemainderLength inconsistent with the first portion */
	}
	memcpy(r->chain + r->chain_len, c->portion, c->portion_len);
	r->chain_len += c->portion_len;
	return PCITSM_OK;
}

/* CERTIFICATE: B grows by GET_CERTIFICATE || CERTIFICATE. */
pcitsm_err req_on_certificate(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_get_cert g;
	struct spdm_cert c;
	size_t mlen;

	PCITSM_TRY(spdm_dec_get_certificate(r->req, r->req_len, r->version, &g, NULL));
	PCITSM_TRY(spdm_dec_certificate(p, len, r->version, &c, &mlen));
	if (c.slot != g.slot || c.portion_len == 0 || c.portion_len > g.length)
		return PCITSM_E_FIELD;
	PCITSM_TRY(chain_append(r, &c));
	PCITSM_TRY(pcitsm_hash_update(&r->m1, r->req, r->req_len));
	PCITSM_TRY(pcitsm_hash_update(&r->m1, p, mlen));
	if (c.remainder_len)
		return PCITSM_OK;
	PCITSM_TRY(chain_check(r));
	r->chain_done = true;
	return PCITSM_OK;
}

/* The key for slot's signatures: its chain must be complete and checked. */
static pcitsm_err need_leaf(const struct pcitsm_spdm_req *r, uint8_t slot)
{
	return r->chain_done && r->leaf && r->cert_slot == slot ? PCITSM_OK : PCITSM_E_STATE;
}

static pcitsm_err fresh_nonce(struct pcitsm_spdm_req *r, uint8_t *nonce, uint8_t *context)
{
	PCITSM_TRY(pcitsm_random(r->cfg.env, nonce, PCITSM_SPDM_NONCE_LEN));
	return pcitsm_random(r->cfg.env, context, PCITSM_SPDM_CONTEXT_LEN);
}

pcitsm_err pcitsm_spdm_req_challenge(struct pcitsm_spdm_req *r, uint8_t slot, uint8_t summary_type,
				     struct pcitsm_wr *w)
{
	struct spdm_challenge c = { .slot = slot, .summary_type = summary_type };
	struct pcitsm_wr rq;
	pcitsm_err e;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_CHALLENGE));
	PCITSM_TRY(need_leaf(r, slot));
	if (summary_type != 0 && summary_type != 1 && summary_type != 0xff)
		return PCITSM_E_INVAL;
	/* A measurement summary needs a responder that measures. */
	if (summary_type && !(r->rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK))
		return PCITSM_E_UNSUPPORTED;
	PCITSM_TRY(fresh_nonce(r, c.nonce, c.context));
	memcpy(r->nonce, c.nonce, sizeof(r->nonce));
	memcpy(r->context, c.context, sizeof(r->context));
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	e = spdm_enc_challenge(&rq, r->version, &c);
	pcitsm_wipe(&c, sizeof(c));
	PCITSM_TRY(e);
	return req_commit(r, &rq, w);
}

/* Freshness checks shared by CHALLENGE_AUTH, MEASUREMENTS and the offline verifier: the 1.3
 * RequesterContext is echoed; the responder's nonce is its own, never ours reflected
 * (docs/spdm.md). */
pcitsm_err spdm_fresh_check(const uint8_t *req_nonce, const uint8_t *req_context,
			    const uint8_t *rsp_nonce, const uint8_t *rsp_context)
{
	if (rsp_context && pcitsm_ct_memneq(rsp_context, req_context, PCITSM_SPDM_CONTEXT_LEN))
		return PCITSM_E_NONCE;
	if (!pcitsm_ct_memneq(rsp_nonce, req_nonce, PCITSM_SPDM_NONCE_LEN))
		return PCITSM_E_NONCE;
	return PCITSM_OK;
}

static pcitsm_err check_fresh(const struct pcitsm_spdm_req *r, const uint8_t *nonce,
			      const uint8_t *context)
{
	return spdm_fresh_check(r->nonce, r->context, nonce, context);
}

/*
 * CHALLENGE_AUTH (DSP0274 1.3 CHALLENGE): slot and mask, CertChainHash = Hash(chain), freshness,
 * then C = CHALLENGE || CHALLENGE_AUTH without the signature; M1 = A || B || C is signed with the
 * "responder-challenge_auth signing" context (DSP0274 1.3 'Transcript and transcript hash
 * calculation rules', signing with combined_spdm_prefix). M1 restarts afterwards.
 */
pcitsm_err req_on_challenge_auth(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_challenge c;
	struct spdm_challenge_auth a;
	uint8_t h[PCITSM_HASH_MAX];
	size_t mlen;

	PCITSM_TRY(spdm_dec_challenge(r->req, r->req_len, r->version, &c, NULL));
	PCITSM_TRY(spdm_dec_challenge_auth(p, len, r->version, r->hash_len, c.summary_type != 0,
					   r->sig_len, &a, &mlen));
	if (a.slot != c.slot || !(a.slot_mask & (1u << c.slot)))
		return PCITSM_E_FIELD;
	PCITSM_TRY(pcitsm_hash(r->hash, r->chain, r->chain_len, h));
	if (pcitsm_ct_memneq(h, a.chain_hash, r->hash_len))
		return PCITSM_E_HASH;
	PCITSM_TRY(check_fresh(r, a.nonce, a.context));
	/* C */
	PCITSM_TRY(pcitsm_hash_update(&r->m1, r->req, r->req_len));
	PCITSM_TRY(pcitsm_hash_update(&r->m1, p, a.signed_len));
	PCITSM_TRY(spdm_ts_verify(r->version, r->leaf, r->sig, SPDM_CTX_CHALLENGE_AUTH, &r->m1,
				  r->m1_hash, a.signature, r->sig_len));
	if (a.summary)
		memcpy(r->meas_summary, a.summary, r->hash_len);
	r->chal_summary_type = c.summary_type;
	r->challenged = true;
	return spdm_ts_restart(&r->m1, r->hash, r->vca, r->vca_len);
}

pcitsm_err pcitsm_spdm_req_get_measurements(struct pcitsm_spdm_req *r, uint8_t operation, bool sign,
					    uint8_t slot, struct pcitsm_wr *w)
{
	struct spdm_get_meas g = { .operation = operation, .slot = slot };
	struct pcitsm_wr rq;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_GET_MEASUREMENTS));
	if (sign) {
		if ((r->rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK) != PCITSM_SPDM_CAP_MEAS_SIG)
			return PCITSM_E_UNSUPPORTED;
		PCITSM_TRY(need_leaf(r, slot));
		g.attributes = SPDM_MEAS_ATTR_SIG;
	}
	PCITSM_TRY(fresh_nonce(r, g.nonce, g.context));
	if (sign && r->cfg.meas_nonce)
		memcpy(g.nonce, r->cfg.meas_nonce, sizeof(g.nonce));
	memcpy(r->nonce, g.nonce, sizeof(r->nonce));
	memcpy(r->context, g.context, sizeof(r->context));
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	PCITSM_TRY(spdm_enc_get_measurements(&rq, r->version, &g));
	return req_commit(r, &rq, w);
}

/* The record holds exactly nr_blocks well-formed blocks; one index asked for, that one. */
static pcitsm_err check_record(const struct spdm_meas *m, uint8_t operation)
{
	struct pcitsm_spdm_meas_block b;
	unsigned n = 0;
	size_t off = 0;
	pcitsm_err e;

	while ((e = pcitsm_spdm_meas_next(m->record, m->record_len, &off, &b)) == PCITSM_OK) {
		if (operation != 0xff && b.index != operation)
			return PCITSM_E_FIELD;
		n++;
	}
	if (e != PCITSM_E_NOTFOUND)
		return e == PCITSM_E_SHORT || e == PCITSM_E_LONG ? PCITSM_E_FIELD : e;
	if (n != m->nr_blocks || (operation != 0xff && n != 1))
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

pcitsm_err req_meas_check(const struct spdm_meas *m, uint8_t operation, bool sign, uint8_t slot)
{
	if (operation == 0) {
		if (m->nr_blocks || m->record_len)
			return PCITSM_E_FIELD;
	} else {
		if (m->param1)
			return PCITSM_E_RESERVED;
		PCITSM_TRY(check_record(m, operation));
	}
	if (sign ? (m->param2 & 0xf) != slot : (m->param2 & 0x30) != 0)
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

/* The record (for the blocks). */
static pcitsm_err keep_record(struct pcitsm_spdm_req *r, const struct spdm_meas *m)
{
	uint8_t *copy = malloc(m->record_len ? m->record_len : 1);

	if (!copy)
		return PCITSM_E_NOMEM;
	memcpy(copy, m->record, m->record_len);
	free(r->meas);
	r->meas = copy;
	r->meas_len = m->record_len;
	r->meas_nr_blocks = m->nr_blocks;
	return PCITSM_OK;
}

/* The signed exchange as it crossed the wire: the request and the whole response (mlen bytes, no
 * DOE padding), which is all an offline verifier needs besides A and the chain, and the evidence
 * a TSM hands out (docs/pcitsmd.md evidence/measurements). Only a signed one is kept: the pair
 * always belongs together. */
static pcitsm_err keep_exchange(struct pcitsm_spdm_req *r, const uint8_t *p, size_t mlen)
{
	uint8_t *copy = malloc(mlen);

	if (!copy || r->req_len > sizeof(r->meas_req)) {
		free(copy);
		return PCITSM_E_NOMEM;
	}
	memcpy(copy, p, mlen);
	free(r->meas_rsp);
	r->meas_rsp = copy;
	r->meas_rsp_len = mlen;
	memcpy(r->meas_req, r->req, r->req_len);
	r->meas_req_len = r->req_len;
	return PCITSM_OK;
}

/*
 * MEASUREMENTS (DSP0274 1.3 GET_MEASUREMENTS): counts and indices as asked, freshness, then M grows
 * by GET_MEASUREMENTS || MEASUREMENTS (without the signature when signed); a signed response is
 * verified over L1 = A || M with "responder-measurements signing" and M restarts (DSP0274 1.3
 * 'Transcript and transcript hash calculation rules').
 */
pcitsm_err req_on_measurements(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_get_meas g;
	struct spdm_meas m;
	bool sign;
	size_t mlen;

	PCITSM_TRY(spdm_dec_get_measurements(r->req, r->req_len, r->version, &g, NULL));
	sign = g.attributes & SPDM_MEAS_ATTR_SIG;
	PCITSM_TRY(spdm_dec_measurements(p, len, r->version, sign ? r->sig_len : 0, &m, &mlen));
	PCITSM_TRY(req_meas_check(&m, g.operation, sign, g.slot));
	PCITSM_TRY(check_fresh(r, m.nonce, m.context));
	/* B restarts when GET_MEASUREMENTS comes before a CHALLENGE completes (DSP0274 1.3
	 * 'Transcript and transcript hash calculation rules'). */
	PCITSM_TRY(spdm_ts_restart(&r->m1, r->hash, r->vca, r->vca_len));
	PCITSM_TRY(pcitsm_hash_update(&r->l1, r->req, r->req_len));
	PCITSM_TRY(pcitsm_hash_update(&r->l1, p, sign ? m.signed_len : mlen));
	if (sign) {
		PCITSM_TRY(spdm_ts_verify(r->version, r->leaf, r->sig, SPDM_CTX_MEASUREMENTS, &r->l1,
					  r->l1_hash, m.signature, r->sig_len));
		PCITSM_TRY(req_l1_restart(r));
		PCITSM_TRY(keep_exchange(r, p, mlen));
	}
	if (g.operation == 0) {
		r->meas_count = m.param1;
		return PCITSM_OK;
	}
	r->meas_signed = sign;
	return keep_record(r, &m);
}
