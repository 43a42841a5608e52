/* SPDX-License-Identifier: MIT */
/*
 * SPDM responder: GET_DIGESTS, GET_CERTIFICATE, CHALLENGE, GET_MEASUREMENTS over one identity
 * (slot 0), with transcripts B, C and M kept exactly as the requester keeps them (DSP0274 1.3
 * 'Transcript and transcript hash calculation rules', signing with combined_spdm_prefix). Each
 * handler checks, builds the response, and only then touches a transcript.
 */
#include <stdlib.h>
#include <string.h>

#include "rsp_handlers.h"

#define RSP_SLOT 0 /* the one provisioned slot */

/* Slot 0's SPDM chain for the negotiated hash: Length | Reserved | Hash(root) | root..leaf. The
 * chain faults corrupt it here, so digests and hashes stay consistent with what is sent. */
pcitsm_err rsp_chain_build(struct pcitsm_spdm_rsp *s)
{
	const struct pcitsm_identity *id = s->id;
	size_t len = 4 + s->hash_len + id->chain_len;
	struct pcitsm_wr w;

	if (len > PCITSM_SPDM_MAX_CHAIN)
		return PCITSM_E_INVAL;
	free(s->chain);
	s->chain = malloc(len);
	if (!s->chain)
		return PCITSM_E_NOMEM;
	pcitsm_wr_init(&w, s->chain, len);
	pcitsm_wr_le16(&w, (uint16_t)len);
	pcitsm_wr_le16(&w, 0);
	PCITSM_TRY(pcitsm_hash(s->hash, id->root, id->root_len, pcitsm_wr_reserve(&w, s->hash_len)));
	pcitsm_wr_bytes(&w, id->chain, id->chain_len);
	PCITSM_TRY(pcitsm_wr_err(&w));
	s->chain_len = len;
	if (s->faults.bad_root_hash)
		s->chain[4] ^= 0x01;
	if (s->faults.corrupt_chain)
		s->chain[len - 40] ^= 0x01; /* inside the leaf's signature value */
	return pcitsm_hash(s->hash, s->chain, s->chain_len, s->chain_digest);
}

pcitsm_err rsp_get_digests(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			   struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_digests d = {
		.supported_mask = 1u << RSP_SLOT,
		.slot_mask = 1u << RSP_SLOT,
		.digests = s->chain_digest,
	};
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_get_digests(req, len, &mlen), err);
	PCITSM_TRY(spdm_enc_digests(w, s->version, &d, s->hash_len));
	/* B restarts: M1 = A || GET_DIGESTS || DIGESTS. */
	PCITSM_TRY(spdm_ts_restart(&s->m1, s->hash, s->vca, s->vca_len));
	PCITSM_TRY(pcitsm_hash_update(&s->m1, req, mlen));
	return pcitsm_hash_update(&s->m1, w->p + start, pcitsm_wr_len(w) - start);
}

/* The most chain bytes one CERTIFICATE carries: both sides' DataTransferSize minus the header. */
static size_t cert_portion_max(const struct pcitsm_spdm_rsp *s)
{
	size_t n = s->opts.data_transfer_size;

	if (s->version >= PCITSM_SPDM_V12)
		n = PCITSM_MIN(n, (size_t)s->req_data_transfer_size);
	return n - 8;
}

pcitsm_err rsp_get_certificate(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			       struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_get_cert g;
	struct spdm_cert c = { .slot = RSP_SLOT };
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_get_certificate(req, len, s->version, &g, &mlen), err);
	if (g.slot != RSP_SLOT || (!g.size_requested && (g.offset >= s->chain_len || !g.length)))
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	if (g.size_requested) {
		c.remainder_len = (uint16_t)s->chain_len; /* 1.3 SlotSizeRequested */
	} else {
		c.portion_len = (uint16_t)PCITSM_MIN(PCITSM_MIN((size_t)g.length, cert_portion_max(s)),
						     s->chain_len - g.offset);
		c.remainder_len = (uint16_t)(s->chain_len - g.offset - c.portion_len);
		c.portion = s->chain + g.offset;
	}
	PCITSM_TRY(spdm_enc_certificate(w, s->version, &c));
	/* B grows by GET_CERTIFICATE || CERTIFICATE. */
	PCITSM_TRY(pcitsm_hash_update(&s->m1, req, mlen));
	return pcitsm_hash_update(&s->m1, w->p + start, pcitsm_wr_len(w) - start);
}

/* The value a block reports: raw bytes, or their digest with the measurement hash. */
static pcitsm_err meas_value(const struct pcitsm_spdm_rsp *s, const struct pcitsm_measurement *m,
			     uint8_t *type, uint8_t *out, uint16_t *out_len)
{
	enum pcitsm_hash_alg mh = pcitsm_spdm_meas_hash_alg(s->opts.meas_hash);

	*type = m->value_type & 0x7f;
	if (m->raw || mh == PCITSM_HASH_NONE) {
		*type |= 0x80;
		memcpy(out, m->value, m->len);
		*out_len = (uint16_t)m->len;
		return PCITSM_OK;
	}
	*out_len = (uint16_t)pcitsm_hash_size(mh);
	return pcitsm_hash(mh, m->value, m->len, out);
}

/* Blocks for an operation (0xff all, else one index) or, with tcb_only, the immutable-ROM ones
 * (the TCB summary; which blocks are TCB is device-defined, DSP0274 1.3 CHALLENGE). */
static pcitsm_err meas_record(const struct pcitsm_spdm_rsp *s, uint8_t operation, bool tcb_only,
			      struct pcitsm_wr *w, unsigned *nr)
{
	uint8_t value[PCITSM_HASH_MAX > PCITSM_MEAS_MAX_VALUE ? PCITSM_HASH_MAX : PCITSM_MEAS_MAX_VALUE];

	*nr = 0;
	for (unsigned i = 0; i < s->id->nr_meas && i < PCITSM_IDENTITY_MAX_MEAS; i++) {
		const struct pcitsm_measurement *m = &s->id->meas[i];
		uint16_t vlen;
		uint8_t type;

		if (operation != 0xff && m->index != operation)
			continue;
		if (tcb_only && (m->value_type & 0x7f) != 0)
			continue;
		PCITSM_TRY(meas_value(s, m, &type, value, &vlen));
		spdm_enc_meas_block(w, m->index, type, value, vlen);
		(*nr)++;
	}
	return pcitsm_wr_err(w);
}

/* MeasurementSummaryHash = Hash(selected blocks, each whole) (DSP0274 1.3 CHALLENGE). */
pcitsm_err rsp_meas_summary(const struct pcitsm_spdm_rsp *s, uint8_t type, uint8_t *out)
{
	uint8_t buf[PCITSM_IDENTITY_MAX_MEAS * (7 + PCITSM_HASH_MAX + PCITSM_MEAS_MAX_VALUE)];
	struct pcitsm_wr w;
	unsigned nr;

	pcitsm_wr_init(&w, buf, sizeof(buf));
	PCITSM_TRY(meas_record(s, 0xff, type == 1, &w, &nr));
	return pcitsm_hash(s->hash, buf, pcitsm_wr_len(&w), out);
}

/* Our nonce, or (fault) the requester's reflected. */
static pcitsm_err rsp_nonce(const struct pcitsm_spdm_rsp *s, const uint8_t *req_nonce,
			    uint8_t *nonce)
{
	if (s->faults.echo_nonce) {
		memcpy(nonce, req_nonce, PCITSM_SPDM_NONCE_LEN);
		return PCITSM_OK;
	}
	return pcitsm_random(s->env, nonce, PCITSM_SPDM_NONCE_LEN);
}

/* Sign transcript th into the S bytes reserved at the end of w. */
static pcitsm_err rsp_sign(struct pcitsm_spdm_rsp *s, const char *context,
			   const struct pcitsm_hash_ctx *th, struct pcitsm_wr *w)
{
	size_t sig_len = pcitsm_sig_size(s->sig);
	uint8_t th_hash[PCITSM_HASH_MAX];
	uint8_t *sig = pcitsm_wr_reserve(w, sig_len);

	if (!sig)
		return PCITSM_E_NOSPC;
	PCITSM_TRY(spdm_ts_sign(s->version, s->id->key, s->sig, context, th, th_hash, sig, sig_len));
	if (s->faults.bad_signature)
		sig[sig_len / 2] ^= 0x01;
	return PCITSM_OK;
}

/*
 * CHALLENGE -> CHALLENGE_AUTH: C = CHALLENGE || CHALLENGE_AUTH without the signature; sign
 * M1 = A || B || C with "responder-challenge_auth signing"; M1 restarts (DSP0274 1.3 CHALLENGE,
 * 'Transcript and transcript hash calculation rules', signing with combined_spdm_prefix).
 */
pcitsm_err rsp_challenge(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			 struct pcitsm_wr *w, struct rsp_error *err)
{
	uint8_t summary[PCITSM_HASH_MAX], nonce[PCITSM_SPDM_NONCE_LEN], context[8];
	struct spdm_challenge c;
	struct spdm_challenge_auth a = { .slot = RSP_SLOT, .slot_mask = 1u << RSP_SLOT };
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_challenge(req, len, s->version, &c, &mlen), err);
	if (c.slot != RSP_SLOT ||
	    (c.summary_type && !(s->opts.caps & PCITSM_SPDM_CAP_MEAS_MASK)))
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	PCITSM_TRY(rsp_nonce(s, c.nonce, nonce));
	if (c.summary_type) {
		PCITSM_TRY(rsp_meas_summary(s, c.summary_type, summary));
		a.summary = summary;
	}
	memcpy(context, c.context, sizeof(context));
	if (s->faults.wrong_context)
		context[0] ^= 0x01;
	a.chain_hash = s->chain_digest;
	a.nonce = nonce;
	a.context = context;
	PCITSM_TRY(spdm_enc_challenge_auth(w, s->version, &a, s->hash_len));
	PCITSM_TRY(pcitsm_hash_update(&s->m1, req, mlen));
	PCITSM_TRY(pcitsm_hash_update(&s->m1, w->p + start, pcitsm_wr_len(w) - start));
	PCITSM_TRY(rsp_sign(s, SPDM_CTX_CHALLENGE_AUTH, &s->m1, w));
	return spdm_ts_restart(&s->m1, s->hash, s->vca, s->vca_len);
}

/*
 * GET_MEASUREMENTS -> MEASUREMENTS: M grows by the request and the response (without the
 * signature); a signed one signs L1 = A || M with "responder-measurements signing" and M restarts.
 * B restarts too (DSP0274 1.3 GET_MEASUREMENTS, 'Transcript and transcript hash calculation
 * rules').
 */
pcitsm_err rsp_get_measurements(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err)
{
	uint8_t record[PCITSM_IDENTITY_MAX_MEAS * (7 + PCITSM_HASH_MAX + PCITSM_MEAS_MAX_VALUE)];
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN], context[8];
	struct spdm_get_meas g;
	struct spdm_meas m = { 0 };
	struct pcitsm_wr rw;
	bool sign;
	unsigned nr = 0;
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_get_measurements(req, len, s->version, &g, &mlen), err);
	sign = g.attributes & SPDM_MEAS_ATTR_SIG;
	if (sign && ((s->opts.caps & PCITSM_SPDM_CAP_MEAS_MASK) != PCITSM_SPDM_CAP_MEAS_SIG ||
		     g.slot != RSP_SLOT))
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	pcitsm_wr_init(&rw, record, sizeof(record));
	if (g.operation == 0)
		m.param1 = (uint8_t)s->id->nr_meas;
	else
		PCITSM_TRY(meas_record(s, g.operation, false, &rw, &nr));
	if (g.operation != 0 && g.operation != 0xff && nr == 0)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	PCITSM_TRY(rsp_nonce(s, g.nonce, nonce));
	memcpy(context, g.context, sizeof(context));
	if (s->faults.wrong_context)
		context[0] ^= 0x01;
	m.param2 = sign ? RSP_SLOT : 0;
	m.nr_blocks = (uint8_t)nr;
	m.record_len = (uint32_t)pcitsm_wr_len(&rw);
	m.record = record;
	m.nonce = nonce;
	m.context = context;
	PCITSM_TRY(spdm_enc_measurements(w, s->version, &m));
	PCITSM_TRY(rsp_check_size(s, pcitsm_wr_len(w) - start + (sign ? pcitsm_sig_size(s->sig) : 0),
				  err));
	PCITSM_TRY(spdm_ts_restart(&s->m1, s->hash, s->vca, s->vca_len));
	PCITSM_TRY(pcitsm_hash_update(&s->l1, req, mlen));
	PCITSM_TRY(pcitsm_hash_update(&s->l1, w->p + start, pcitsm_wr_len(w) - start));
	if (!sign)
		return PCITSM_OK;
	PCITSM_TRY(rsp_sign(s, SPDM_CTX_MEASUREMENTS, &s->l1, w));
	return rsp_l1_restart(s);
}
