/* SPDX-License-Identifier: MIT */
/*
 * SPDM requester engine: VCA (GET_VERSION, GET_CAPABILITIES, NEGOTIATE_ALGORITHMS) and the
 * request/response plumbing (legal sequences, ERROR handling, retries). No I/O: a request is built
 * into the caller's writer and kept; the response is fed back. Certificates, CHALLENGE and
 * measurements are in req_auth.c.
 */
#include <stdlib.h>
#include <string.h>

#include "req_priv.h"

void pcitsm_spdm_req_cfg_default(struct pcitsm_spdm_req_cfg *c, const struct pcitsm_env *env)
{
	*c = (struct pcitsm_spdm_req_cfg){
		.min_version = PCITSM_SPDM_V12,
		.max_version = PCITSM_SPDM_V13,
		.ct_exponent = 20,
		.data_transfer_size = 4096,
		.base_asym = PCITSM_SPDM_ASYM_ECDSA_P256 | PCITSM_SPDM_ASYM_ECDSA_P384 |
			     PCITSM_SPDM_ASYM_RSASSA_2048 | PCITSM_SPDM_ASYM_RSAPSS_2048 |
			     PCITSM_SPDM_ASYM_RSASSA_3072 | PCITSM_SPDM_ASYM_RSAPSS_3072,
		.base_hash = PCITSM_SPDM_HASH_SHA256 | PCITSM_SPDM_HASH_SHA384 |
			     PCITSM_SPDM_HASH_SHA512,
		/* Secure sessions (PCIe 6.x §6.31): both DHE groups, both AES-GCM sizes. */
		.caps = PCITSM_SPDM_CAPS_SESSION,
		.dhe = PCITSM_SPDM_DHE_SECP256R1 | PCITSM_SPDM_DHE_SECP384R1,
		.aead = PCITSM_SPDM_AEAD_AES_128_GCM | PCITSM_SPDM_AEAD_AES_256_GCM,
		.key_schedule = PCITSM_SPDM_KEY_SCHEDULE_SPDM,
		.env = env,
	};
}

/* What this engine can verify at all: a cfg may only narrow it. */
#define REQ_ASYM_SUPPORTED                                                        \
	(PCITSM_SPDM_ASYM_ECDSA_P256 | PCITSM_SPDM_ASYM_ECDSA_P384 |               \
	 PCITSM_SPDM_ASYM_RSASSA_2048 | PCITSM_SPDM_ASYM_RSAPSS_2048 |             \
	 PCITSM_SPDM_ASYM_RSASSA_3072 | PCITSM_SPDM_ASYM_RSAPSS_3072)
#define REQ_HASH_SUPPORTED \
	(PCITSM_SPDM_HASH_SHA256 | PCITSM_SPDM_HASH_SHA384 | PCITSM_SPDM_HASH_SHA512)

pcitsm_err pcitsm_spdm_req_init(struct pcitsm_spdm_req *r, const struct pcitsm_spdm_req_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	if (!cfg->env || cfg->min_version < PCITSM_SPDM_V10 || cfg->max_version > PCITSM_SPDM_V13 ||
	    cfg->min_version > cfg->max_version || !cfg->base_hash ||
	    (cfg->base_hash & ~REQ_HASH_SUPPORTED) || (cfg->base_asym & ~REQ_ASYM_SUPPORTED) ||
	    cfg->data_transfer_size < SPDM_MIN_DATA_TRANSFER)
		return PCITSM_E_INVAL;
	r->cfg = *cfg;
	return PCITSM_OK;
}

/* Everything learnt from the peer goes; cfg stays. */
void pcitsm_spdm_req_reset(struct pcitsm_spdm_req *r)
{
	struct pcitsm_spdm_req_cfg cfg = r->cfg;

	pcitsm_spdm_req_free(r);
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
}

void pcitsm_spdm_req_free(struct pcitsm_spdm_req *r)
{
	pcitsm_hash_free(&r->m1);
	pcitsm_hash_free(&r->l1);
	EVP_PKEY_free(r->leaf);
	r->leaf = NULL;
	free(r->chain);
	r->chain = NULL;
	r->chain_len = r->chain_cap = 0;
	free(r->meas);
	r->meas = NULL;
	r->meas_len = 0;
	free(r->meas_rsp);
	r->meas_rsp = NULL;
	r->meas_rsp_len = 0;
	pcitsm_wipe(r->nonce, sizeof(r->nonce));
}

pcitsm_err req_fail(struct pcitsm_spdm_req *r, pcitsm_err e)
{
	if (e != PCITSM_OK && r->err == PCITSM_OK) {
		r->err = e;
		r->state = PCITSM_SPDM_REQ_FAILED;
		pcitsm_debug(r->cfg.env, "spdm: requester failed: %s", pcitsm_err_name(e));
	}
	return e;
}

/* Legal sequences (DSP0274 1.3 GET_VERSION, GET_CAPABILITIES): the state a request needs and the
 * responder capability. */
static const struct req_rule {
	uint8_t code;
	enum pcitsm_spdm_req_state state;
	uint32_t cap;
} req_rules[] = {
	{ PCITSM_SPDM_GET_CAPABILITIES, PCITSM_SPDM_REQ_VERSION, 0 },
	{ PCITSM_SPDM_NEGOTIATE_ALGORITHMS, PCITSM_SPDM_REQ_CAPS, 0 },
	{ PCITSM_SPDM_GET_DIGESTS, PCITSM_SPDM_REQ_NEGOTIATED, PCITSM_SPDM_CAP_CERT },
	{ PCITSM_SPDM_GET_CERTIFICATE, PCITSM_SPDM_REQ_NEGOTIATED, PCITSM_SPDM_CAP_CERT },
	{ PCITSM_SPDM_CHALLENGE, PCITSM_SPDM_REQ_NEGOTIATED, PCITSM_SPDM_CAP_CHAL },
	{ PCITSM_SPDM_GET_MEASUREMENTS, PCITSM_SPDM_REQ_NEGOTIATED, PCITSM_SPDM_CAP_MEAS_MASK },
};

pcitsm_err req_begin(struct pcitsm_spdm_req *r, uint8_t code)
{
	if (r->err)
		return r->err;
	if (r->outstanding)
		return PCITSM_E_STATE;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(req_rules); i++) {
		if (req_rules[i].code != code)
			continue;
		if (r->state != req_rules[i].state)
			return PCITSM_E_STATE;
		if (req_rules[i].cap && !(r->rsp_caps & req_rules[i].cap))
			return PCITSM_E_UNSUPPORTED;
		return PCITSM_OK;
	}
	return code == PCITSM_SPDM_GET_VERSION ? PCITSM_OK : PCITSM_E_UNSUPPORTED;
}

/* The request was written into r->req by enc; hand it to the caller and mark it outstanding. */
pcitsm_err req_commit(struct pcitsm_spdm_req *r, struct pcitsm_wr *rq, struct pcitsm_wr *w)
{
	PCITSM_TRY(pcitsm_wr_err(rq));
	r->req_len = pcitsm_wr_len(rq);
	pcitsm_wr_bytes(w, r->req, r->req_len);
	PCITSM_TRY(pcitsm_wr_err(w));
	r->outstanding = true;
	r->rif_outstanding = false;
	r->retry = PCITSM_SPDM_RETRY_NONE;
	r->busy_retries = r->not_ready_waits = 0;
	return PCITSM_OK;
}

/* L1 restarts at A from 1.2, and empty in 1.1 (DSP0274 1.3 'Transcript and transcript hash
 * calculation rules'). */
pcitsm_err req_l1_restart(struct pcitsm_spdm_req *r)
{
	return spdm_ts_restart(&r->l1, r->hash, r->vca, r->version >= PCITSM_SPDM_V12 ? r->vca_len : 0);
}

/* GET_VERSION: a new connection; every transcript restarts (DSP0274 1.3 GET_VERSION). */
pcitsm_err pcitsm_spdm_req_get_version(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
{
	struct pcitsm_wr rq;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_GET_VERSION));
	pcitsm_spdm_req_reset(r);
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	PCITSM_TRY(spdm_enc_get_version(&rq));
	return req_commit(r, &rq, w);
}

pcitsm_err pcitsm_spdm_req_get_capabilities(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
{
	struct spdm_caps c = {
		.ct_exponent = r->cfg.ct_exponent,
		.flags = r->cfg.caps,
		.data_transfer_size = r->cfg.data_transfer_size,
		.max_msg_size = r->cfg.data_transfer_size, /* no chunking */
	};
	struct pcitsm_wr rq;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_GET_CAPABILITIES));
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	PCITSM_TRY(spdm_enc_capabilities(&rq, r->version, true, &c));
	return req_commit(r, &rq, w);
}

static void add_struct(struct spdm_algs *a, uint8_t type, uint16_t bits)
{
	if (bits)
		a->structs[a->nr_structs++] = (struct spdm_alg_struct){ type, bits };
}

pcitsm_err pcitsm_spdm_req_negotiate_algorithms(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
{
	struct spdm_algs a = {
		.meas_spec = PCITSM_SPDM_MEAS_SPEC_DMTF,
		.other_params = r->version >= PCITSM_SPDM_V12 ? PCITSM_SPDM_OPAQUE_FMT1 : 0,
		.base_asym = r->cfg.base_asym,
		.base_hash = r->cfg.base_hash,
	};
	struct pcitsm_wr rq;

	PCITSM_TRY(req_begin(r, PCITSM_SPDM_NEGOTIATE_ALGORITHMS));
	if (r->version > PCITSM_SPDM_V10) {
		add_struct(&a, PCITSM_SPDM_ALG_TYPE_DHE, r->cfg.dhe);
		add_struct(&a, PCITSM_SPDM_ALG_TYPE_AEAD, r->cfg.aead);
		add_struct(&a, PCITSM_SPDM_ALG_TYPE_REQ_ASYM, r->cfg.req_base_asym);
		add_struct(&a, PCITSM_SPDM_ALG_TYPE_KEY_SCHEDULE, r->cfg.key_schedule);
	}
	pcitsm_wr_init(&rq, r->req, sizeof(r->req));
	PCITSM_TRY(spdm_enc_algorithms(&rq, r->version, true, &a));
	return req_commit(r, &rq, w);
}

/* After Busy or ResponseNotReady: the same request again, or RESPOND_IF_READY, within bounds. */
pcitsm_err pcitsm_spdm_req_retry(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
{
	if (r->err)
		return r->err;
	if (!r->outstanding)
		return PCITSM_E_STATE;
	switch (r->retry) {
	case PCITSM_SPDM_RETRY_BUSY:
		if (++r->busy_retries > PCITSM_SPDM_BUSY_RETRIES)
			return req_fail(r, PCITSM_E_PEER_BUSY);
		r->rif_outstanding = false;
		pcitsm_wr_bytes(w, r->req, r->req_len);
		return pcitsm_wr_err(w);
	case PCITSM_SPDM_RETRY_NOT_READY:
		if (++r->not_ready_waits > PCITSM_SPDM_NOT_READY_RETRIES)
			return req_fail(r, PCITSM_E_TIMEOUT);
		r->rif_outstanding = true;
		return spdm_enc_respond_if_ready(w, r->req[0], r->rif_code, r->rif_token);
	default:
		return PCITSM_E_STATE;
	}
}

/* ERROR from the peer: Busy, ResponseNotReady and RequestResynch ask for a retry (E_PEER_BUSY,
 * not sticky); anything else is the peer refusing (E_PEER_ERROR); DSP0274 1.3 ERROR. */
static pcitsm_err on_error(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_error e;

	PCITSM_TRY(spdm_dec_error(p, len, &e, NULL));
	r->peer_error = e.code;
	r->peer_error_data = e.data;
	switch (e.code) {
	case PCITSM_SPDM_ERR_BUSY:
		r->retry = PCITSM_SPDM_RETRY_BUSY;
		return PCITSM_E_PEER_BUSY;
	case PCITSM_SPDM_ERR_RESPONSE_NOT_READY:
		/* Wait 2^RDTExponent us, then RESPOND_IF_READY(code, token). */
		if (e.request_code != r->req[1] || e.rdt_exponent > SPDM_MAX_RDT_EXPONENT)
			return PCITSM_E_FIELD;
		r->retry_ns = (1ull << e.rdt_exponent) * 1000u;
		r->rif_code = e.request_code;
		r->rif_token = e.token;
		r->retry = PCITSM_SPDM_RETRY_NOT_READY;
		return PCITSM_E_PEER_BUSY;
	case PCITSM_SPDM_ERR_REQUEST_RESYNCH:
		r->retry = PCITSM_SPDM_RETRY_RESYNCH;
		return PCITSM_E_PEER_BUSY;
	default:
		pcitsm_debug(r->cfg.env, "spdm: peer ERROR %s (0x%02x) data 0x%02x to %s",
			     pcitsm_spdm_error_name(e.code), e.code, e.data,
			     pcitsm_spdm_code_name(r->req[1]));
		return PCITSM_E_PEER_ERROR;
	}
}

/* VERSION: pick the highest version both sides have within cfg (DSP0274 1.3 GET_VERSION). */
static pcitsm_err on_version(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_version v;
	uint8_t best = 0;
	size_t mlen;

	PCITSM_TRY(spdm_dec_version(p, len, &v, &mlen));
	r->nr_peer_versions = 0;
	for (unsigned i = 0; i < v.count; i++) {
		uint8_t ver = (uint8_t)(v.entries[i] >> 8); /* major << 4 | minor */

		if (r->nr_peer_versions < PCITSM_SPDM_PEER_VERSIONS)
			r->peer_versions[r->nr_peer_versions++] = ver;
	}
	for (unsigned i = 0; i < v.count; i++) {
		uint8_t ver = (uint8_t)(v.entries[i] >> 8);

		if (ver >= r->cfg.min_version && ver <= r->cfg.max_version && ver > best)
			best = ver;
	}
	if (!best)
		return PCITSM_E_VERSION;
	/* A: GET_VERSION || VERSION. */
	PCITSM_TRY(spdm_vca_append(r->vca, &r->vca_len, r->req, r->req_len));
	PCITSM_TRY(spdm_vca_append(r->vca, &r->vca_len, p, mlen));
	r->version = best;
	r->state = PCITSM_SPDM_REQ_VERSION;
	return PCITSM_OK;
}

static pcitsm_err on_capabilities(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_caps c;
	size_t mlen;

	PCITSM_TRY(spdm_dec_capabilities(p, len, r->version, false, &c, &mlen));
	/* MEAS_CAP 11b and PSK_CAP 11b are not defined (DSP0274 1.3 GET_CAPABILITIES). */
	if ((c.flags & PCITSM_SPDM_CAP_MEAS_MASK) == PCITSM_SPDM_CAP_MEAS_MASK ||
	    (c.flags & PCITSM_SPDM_CAP_PSK_MASK) == PCITSM_SPDM_CAP_PSK_MASK)
		return PCITSM_E_FIELD;
	PCITSM_TRY(spdm_vca_append(r->vca, &r->vca_len, r->req, r->req_len));
	PCITSM_TRY(spdm_vca_append(r->vca, &r->vca_len, p, mlen));
	r->rsp_caps = c.flags;
	r->rsp_ct_exponent = c.ct_exponent;
	r->rsp_data_transfer_size = c.data_transfer_size;
	r->rsp_max_msg_size = c.max_msg_size;
	r->state = PCITSM_SPDM_REQ_CAPS;
	return PCITSM_OK;
}

static bool one_bit_of(uint32_t sel, uint32_t offered)
{
	return sel && !(sel & (sel - 1)) && (sel & offered);
}

static uint16_t offered_struct(const struct pcitsm_spdm_req_cfg *c, uint8_t type)
{
	switch (type) {
	case PCITSM_SPDM_ALG_TYPE_DHE:
		return c->dhe;
	case PCITSM_SPDM_ALG_TYPE_AEAD:
		return c->aead;
	case PCITSM_SPDM_ALG_TYPE_REQ_ASYM:
		return c->req_base_asym;
	default:
		return c->key_schedule;
	}
}

/* ALGORITHMS: every selection one bit of what was offered (or zero where allowed). */
static pcitsm_err check_algorithms(struct pcitsm_spdm_req *r, const struct spdm_algs *a)
{
	bool need_asym = r->rsp_caps & (PCITSM_SPDM_CAP_CHAL | PCITSM_SPDM_CAP_MEAS_SIG |
					 PCITSM_SPDM_CAP_KEY_EX);

	if (!one_bit_of(a->base_hash, r->cfg.base_hash))
		return PCITSM_E_FIELD;
	if (a->base_asym ? !one_bit_of(a->base_asym, r->cfg.base_asym) : need_asym)
		return PCITSM_E_FIELD;
	if (a->ext_asym_count || a->ext_hash_count || a->mel_spec ||
	    (a->other_params & ~(r->version >= PCITSM_SPDM_V12 ? PCITSM_SPDM_OPAQUE_FMT1 : 0)))
		return PCITSM_E_FIELD;
	if (r->rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK) {
		if (a->meas_spec != PCITSM_SPDM_MEAS_SPEC_DMTF || !one_bit_of(a->meas_hash, 0xff))
			return PCITSM_E_FIELD;
	}
	for (unsigned i = 0; i < a->nr_structs; i++) {
		uint16_t offered = offered_struct(&r->cfg, a->structs[i].type);

		if (!offered || (a->structs[i].bits && !one_bit_of(a->structs[i].bits, offered)))
			return PCITSM_E_FIELD;
	}
	return PCITSM_OK;
}

static pcitsm_err on_algorithms(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	struct spdm_algs a;
	size_t mlen;

	PCITSM_TRY(spdm_dec_algorithms(p, len, r->version, false, &a, &mlen));
	PCITSM_TRY(check_algorithms(r, &a));
	PCITSM_TRY(spdm_vca_append(r->vca, &r->vca_len, r->req, r->req_len));
	PCITSM_TRY(spdm_vca_append(r->vca, &r->vca_len, p, mlen));
	r->meas_spec = a.meas_spec;
	r->other_params = a.other_params;
	r->base_asym = a.base_asym;
	r->base_hash = a.base_hash;
	r->meas_hash = a.meas_hash;
	spdm_algs_structs(&a, &(struct spdm_alg_sel){ &r->dhe, &r->aead, &r->req_base_asym,
							    &r->key_schedule });
	r->hash = pcitsm_spdm_hash_alg(a.base_hash);
	r->mhash = pcitsm_spdm_meas_hash_alg(a.meas_hash);
	r->sig = pcitsm_spdm_sig_alg(a.base_asym);
	r->hash_len = pcitsm_hash_size(r->hash);
	r->sig_len = pcitsm_sig_size(r->sig);
	/* VCA complete: M1 and L1 start from A (DSP0274 1.3 'Transcript and transcript hash
	 * calculation rules'). */
	PCITSM_TRY(spdm_ts_restart(&r->m1, r->hash, r->vca, r->vca_len));
	PCITSM_TRY(req_l1_restart(r));
	r->state = PCITSM_SPDM_REQ_NEGOTIATED;
	return PCITSM_OK;
}

/* The response handlers, by request code. */
static const struct req_handler {
	uint8_t code;
	pcitsm_err (*fn)(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len);
} req_handlers[] = {
	{ PCITSM_SPDM_GET_VERSION, on_version },
	{ PCITSM_SPDM_GET_CAPABILITIES, on_capabilities },
	{ PCITSM_SPDM_NEGOTIATE_ALGORITHMS, on_algorithms },
	{ PCITSM_SPDM_GET_DIGESTS, req_on_digests },
	{ PCITSM_SPDM_GET_CERTIFICATE, req_on_certificate },
	{ PCITSM_SPDM_CHALLENGE, req_on_challenge_auth },
	{ PCITSM_SPDM_GET_MEASUREMENTS, req_on_measurements },
};

static pcitsm_err feed(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len)
{
	uint8_t code = r->req[1];
	struct spdm_hdr h;

	PCITSM_TRY(spdm_peek_hdr(p, len, &h));
	if (h.code == PCITSM_SPDM_ERROR)
		return on_error(r, p, len);
	/* The response carries the request's version and the request code with bit 7 clear. */
	if (h.version != r->req[0])
		return PCITSM_E_VERSION;
	if (h.code != (code & 0x7f))
		return PCITSM_E_UNEXPECTED;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(req_handlers); i++) {
		if (req_handlers[i].code != code)
			continue;
		PCITSM_TRY(req_handlers[i].fn(r, p, len));
		/* M: reset by any request other than GET_MEASUREMENTS (DSP0274 1.3 'Transcript and
		 * transcript hash calculation rules'). */
		if (r->state == PCITSM_SPDM_REQ_NEGOTIATED && code != PCITSM_SPDM_GET_MEASUREMENTS &&
		    code != PCITSM_SPDM_NEGOTIATE_ALGORITHMS)
			PCITSM_TRY(req_l1_restart(r));
		return PCITSM_OK;
	}
	return PCITSM_E_STATE;
}

pcitsm_err pcitsm_spdm_req_feed(struct pcitsm_spdm_req *r, const uint8_t *rsp, size_t len)
{
	pcitsm_err e;

	if (r->err)
		return r->err;
	if (!r->outstanding)
		return PCITSM_E_STATE;
	r->retry = PCITSM_SPDM_RETRY_NONE;
	e = feed(r, rsp, len);
	if (e == PCITSM_E_PEER_BUSY)
		return e; /* still outstanding: pcitsm_spdm_req_retry or a resynch */
	r->outstanding = false;
	r->rif_outstanding = false;
	return req_fail(r, e);
}
