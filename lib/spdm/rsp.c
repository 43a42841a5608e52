/* SPDX-License-Identifier: MIT */
/*
 * SPDM responder: one step function over a const table of request handlers (legal state, needed
 * capability, handler). Malformed or out-of-place requests get the matching SPDM ERROR and the
 * responder keeps serving. VCA handlers are here; certificates, CHALLENGE and measurements in
 * rsp_auth.c. New requests (KEY_EXCHANGE, FINISH, VENDOR_DEFINED...) are new rows in rsp_handlers.
 */
#include <stdlib.h>
#include <string.h>

#include "rsp_handlers.h"

/* ResponseNotReady fault: wait hint 2^10 us, and the RDTM multiplier (DSP0274 1.3 ERROR and
 * RESPOND_IF_READY). */
#define RSP_NOT_READY_RDT_EXPONENT 10
#define RSP_NOT_READY_RDTM 2
/* The responder's own signing algorithms: whatever the identity's key is. */
#define RSP_HASH_SUPPORTED \
	(PCITSM_SPDM_HASH_SHA256 | PCITSM_SPDM_HASH_SHA384 | PCITSM_SPDM_HASH_SHA512)

void pcitsm_spdm_rsp_opts_default(struct pcitsm_spdm_rsp_opts *o)
{
	*o = (struct pcitsm_spdm_rsp_opts){
		.versions = { PCITSM_SPDM_V10, PCITSM_SPDM_V11, PCITSM_SPDM_V12, PCITSM_SPDM_V13 },
		.nr_versions = 4,
		.caps = PCITSM_SPDM_CAP_CERT | PCITSM_SPDM_CAP_CHAL | PCITSM_SPDM_CAP_MEAS_SIG |
			PCITSM_SPDM_CAPS_SESSION,
		.ct_exponent = 12,
		.dhe = PCITSM_SPDM_DHE_SECP256R1 | PCITSM_SPDM_DHE_SECP384R1,
		.aead = PCITSM_SPDM_AEAD_AES_128_GCM | PCITSM_SPDM_AEAD_AES_256_GCM,
		.key_schedule = PCITSM_SPDM_KEY_SCHEDULE_SPDM,
		.max_sessions = 4,
		.data_transfer_size = 4096,
		.base_hash = RSP_HASH_SUPPORTED,
		.meas_hash = PCITSM_SPDM_MEAS_HASH_SHA384,
	};
}

static pcitsm_err rsp_doe_handle(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
				 uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_spdm_rsp *s = pcitsm_container_of(h, struct pcitsm_spdm_rsp, doe);

	return pcitsm_spdm_rsp_handle(s, req, req_len, rsp, rsp_cap, rsp_len);
}

static bool opts_ok(const struct pcitsm_spdm_rsp_opts *o)
{
	if (o->nr_versions == 0 || o->nr_versions > PCITSM_ARRAY_SIZE(o->versions))
		return false;
	for (unsigned i = 0; i < o->nr_versions; i++)
		if (o->versions[i] < PCITSM_SPDM_V10 || o->versions[i] > PCITSM_SPDM_V14)
			return false;
	if (o->max_sessions > PCITSM_SPDM_MAX_SESSIONS)
		return false;
	return o->data_transfer_size >= SPDM_MIN_DATA_TRANSFER && o->base_hash &&
	       !(o->base_hash & ~RSP_HASH_SUPPORTED) &&
	       (o->meas_hash == PCITSM_SPDM_MEAS_HASH_RAW ||
		pcitsm_spdm_meas_hash_alg(o->meas_hash) != PCITSM_HASH_NONE);
}

pcitsm_err pcitsm_spdm_rsp_init(struct pcitsm_spdm_rsp *s, const struct pcitsm_identity *id,
				const struct pcitsm_spdm_rsp_opts *o, const struct pcitsm_env *env)
{
	memset(s, 0, sizeof(*s));
	if (!id || !id->key || !id->chain || !id->root || !env || !opts_ok(o))
		return PCITSM_E_INVAL;
	if (pcitsm_sig_key_matches(id->key, PCITSM_SIG_ECDSA_P256)) {
		s->sig = PCITSM_SIG_ECDSA_P256;
		s->base_asym = PCITSM_SPDM_ASYM_ECDSA_P256;
	} else if (pcitsm_sig_key_matches(id->key, PCITSM_SIG_ECDSA_P384)) {
		s->sig = PCITSM_SIG_ECDSA_P384;
		s->base_asym = PCITSM_SPDM_ASYM_ECDSA_P384;
	} else {
		return PCITSM_E_UNSUPPORTED;
	}
	s->doe.vid = PCITSM_DOE_VID_PCISIG;
	s->doe.type = PCITSM_DOE_TYPE_CMA;
	s->doe.handle = rsp_doe_handle;
	s->sdoe.vid = PCITSM_DOE_VID_PCISIG;
	s->sdoe.type = PCITSM_DOE_TYPE_SECURED_CMA;
	s->sdoe.handle = rsp_secured_doe;
	s->opts = *o;
	s->id = id;
	s->env = env;
	/* Where a secured request is opened: any record's plaintext fits (its Length is a u16), so
	 * no secured message allocates (docs/sessions.md). */
	s->rec_scratch = malloc(PCITSM_SM_MAX_APP + 2);
	if (!s->rec_scratch)
		return PCITSM_E_NOMEM;
	return PCITSM_OK;
}

void pcitsm_spdm_rsp_set_faults(struct pcitsm_spdm_rsp *s, const struct pcitsm_spdm_faults *f)
{
	s->faults = *f;
}

static void rsp_reset(struct pcitsm_spdm_rsp *s)
{
	/* A new connection ends every session (docs/sessions.md). */
	rsp_sessions_end_all(s);
	pcitsm_hash_free(&s->m1);
	pcitsm_hash_free(&s->l1);
	free(s->chain);
	s->chain = NULL;
	s->chain_len = 0;
	free(s->pending);
	s->pending = NULL;
	s->pending_len = 0;
	s->state = PCITSM_SPDM_RSP_IDLE;
	s->version = 0;
	s->vca_len = 0;
}

void pcitsm_spdm_rsp_free(struct pcitsm_spdm_rsp *s)
{
	rsp_reset(s);
	free(s->rec_scratch);
	s->rec_scratch = NULL;
}

/* GET_VERSION: reset the connection, answer the versions offered (DSP0274 1.3 GET_VERSION). */
static pcitsm_err rsp_get_version(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				  struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_version v = { .count = (uint8_t)s->opts.nr_versions };
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_get_version(req, len, &mlen), err);
	rsp_reset(s);
	for (unsigned i = 0; i < s->opts.nr_versions; i++)
		v.entries[i] = (uint16_t)(s->opts.versions[i] << 8);
	PCITSM_TRY(spdm_enc_version(w, &v));
	/* A = GET_VERSION || VERSION ... */
	PCITSM_TRY(spdm_vca_append(s->vca, &s->vca_len, req, mlen));
	PCITSM_TRY(spdm_vca_append(s->vca, &s->vca_len, w->p + start, pcitsm_wr_len(w) - start));
	s->state = PCITSM_SPDM_RSP_VERSION;
	return PCITSM_OK;
}

/* Request flags that only a responder may set (CACHE, MEAS, MEAS_FRESH; DSP0274 1.3
 * GET_CAPABILITIES). */
#define RSP_REQ_FLAGS_INVALID \
	(PCITSM_SPDM_CAP_CACHE | PCITSM_SPDM_CAP_MEAS_MASK | PCITSM_SPDM_CAP_MEAS_FRESH)

/* GET_CAPABILITIES: its version byte picks the connection's version. */
static pcitsm_err rsp_get_capabilities(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				       struct pcitsm_wr *w, struct rsp_error *err)
{
	uint8_t v = req[0];
	struct spdm_caps rq, c = {
		.ct_exponent = s->opts.ct_exponent,
		.flags = s->opts.caps,
		.data_transfer_size = s->opts.data_transfer_size,
		.max_msg_size = s->opts.data_transfer_size,
	};
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_capabilities(req, len, v, true, &rq, &mlen), err);
	if (rq.flags & RSP_REQ_FLAGS_INVALID ||
	    (rq.flags & PCITSM_SPDM_CAP_PSK_MASK) == PCITSM_SPDM_CAP_PSK_MASK)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	PCITSM_TRY(spdm_enc_capabilities(w, v, false, &c));
	PCITSM_TRY(spdm_vca_append(s->vca, &s->vca_len, req, mlen));
	PCITSM_TRY(spdm_vca_append(s->vca, &s->vca_len, w->p + start, pcitsm_wr_len(w) - start));
	s->version = v;
	s->req_caps = rq.flags;
	s->req_data_transfer_size = v >= PCITSM_SPDM_V12 ? rq.data_transfer_size : 0;
	s->state = PCITSM_SPDM_RSP_CAPS;
	return PCITSM_OK;
}

/* The strongest common bit (highest value wins). */
static uint32_t pick(uint32_t offered, uint32_t supported)
{
	uint32_t common = offered & supported;

	while (common & (common - 1))
		common &= common - 1;
	return common;
}

static uint16_t supported_struct(const struct pcitsm_spdm_rsp_opts *o, uint8_t type)
{
	switch (type) {
	case PCITSM_SPDM_ALG_TYPE_DHE:
		return o->dhe;
	case PCITSM_SPDM_ALG_TYPE_AEAD:
		return o->aead;
	case PCITSM_SPDM_ALG_TYPE_REQ_ASYM:
		return o->req_base_asym;
	default:
		return o->key_schedule;
	}
}

/* Selections (DSP0274 1.3 NEGOTIATE_ALGORITHMS): one bit from each offered set, or zero when
 * nothing is common (docs/spdm.md: the requester decides that no common algorithm is fatal). */
static void select_algorithms(struct pcitsm_spdm_rsp *s, const struct spdm_algs *rq,
			      struct spdm_algs *a)
{
	bool meas = s->opts.caps & PCITSM_SPDM_CAP_MEAS_MASK;

	a->meas_spec = meas ? rq->meas_spec & PCITSM_SPDM_MEAS_SPEC_DMTF : 0;
	a->meas_hash = a->meas_spec ? s->opts.meas_hash : 0;
	a->other_params = s->version >= PCITSM_SPDM_V12 ? rq->other_params & PCITSM_SPDM_OPAQUE_FMT1 : 0;
	a->base_asym = rq->base_asym & s->base_asym;
	a->base_hash = pick(rq->base_hash, s->opts.base_hash);
	a->nr_structs = rq->nr_structs;
	for (unsigned i = 0; i < rq->nr_structs; i++) {
		a->structs[i].type = rq->structs[i].type;
		a->structs[i].bits = (uint16_t)pick(rq->structs[i].bits,
						    supported_struct(&s->opts, rq->structs[i].type));
	}
}

static pcitsm_err rsp_negotiate_algorithms(struct pcitsm_spdm_rsp *s, const uint8_t *req,
					   size_t len, struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_algs rq, a = { 0 };
	size_t mlen, start = pcitsm_wr_len(w);

	RSP_DECODE(spdm_dec_algorithms(req, len, s->version, true, &rq, &mlen), err);
	select_algorithms(s, &rq, &a);
	PCITSM_TRY(spdm_enc_algorithms(w, s->version, false, &a));
	/* ... || NEGOTIATE_ALGORITHMS || ALGORITHMS: A is complete. */
	PCITSM_TRY(spdm_vca_append(s->vca, &s->vca_len, req, mlen));
	PCITSM_TRY(spdm_vca_append(s->vca, &s->vca_len, w->p + start, pcitsm_wr_len(w) - start));
	s->base_hash = a.base_hash;
	s->hash = pcitsm_spdm_hash_alg(a.base_hash);
	s->hash_len = pcitsm_hash_size(s->hash);
	s->other_params = a.other_params;
	spdm_algs_structs(&a, &(struct spdm_alg_sel){ &s->dhe, &s->aead, &s->req_base_asym,
							    &s->key_schedule });
	s->state = PCITSM_SPDM_RSP_NEGOTIATED;
	if (s->hash == PCITSM_HASH_NONE)
		return PCITSM_OK; /* nothing common: the requester gives up */
	PCITSM_TRY(rsp_chain_build(s));
	PCITSM_TRY(spdm_ts_restart(&s->m1, s->hash, s->vca, s->vca_len));
	return rsp_l1_restart(s);
}

/* Legal sequences: the state a request needs and the capability it uses. */
static const struct rsp_handler {
	uint8_t code;
	enum pcitsm_spdm_rsp_state state; /* IDLE: any state */
	uint32_t cap;
	rsp_fn fn;
} rsp_handlers[] = {
	{ PCITSM_SPDM_GET_VERSION, PCITSM_SPDM_RSP_IDLE, 0, rsp_get_version },
	{ PCITSM_SPDM_GET_CAPABILITIES, PCITSM_SPDM_RSP_VERSION, 0, rsp_get_capabilities },
	{ PCITSM_SPDM_NEGOTIATE_ALGORITHMS, PCITSM_SPDM_RSP_CAPS, 0, rsp_negotiate_algorithms },
	{ PCITSM_SPDM_GET_DIGESTS, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_CERT,
	  rsp_get_digests },
	{ PCITSM_SPDM_GET_CERTIFICATE, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_CERT,
	  rsp_get_certificate },
	{ PCITSM_SPDM_CHALLENGE, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_CHAL, rsp_challenge },
	{ PCITSM_SPDM_GET_MEASUREMENTS, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_MEAS_MASK,
	  rsp_get_measurements },
	{ PCITSM_SPDM_KEY_EXCHANGE, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_KEY_EX,
	  rsp_key_exchange },
	{ PCITSM_SPDM_FINISH, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_KEY_EX,
	  rsp_session_required },
	{ PCITSM_SPDM_END_SESSION, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_KEY_EX,
	  rsp_session_required },
	{ PCITSM_SPDM_HEARTBEAT, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_HBEAT,
	  rsp_session_required },
	{ PCITSM_SPDM_KEY_UPDATE, PCITSM_SPDM_RSP_NEGOTIATED, PCITSM_SPDM_CAP_KEY_UPD,
	  rsp_session_required },
};

static const struct rsp_handler *find_handler(uint8_t code)
{
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(rsp_handlers); i++)
		if (rsp_handlers[i].code == code)
			return &rsp_handlers[i];
	return NULL;
}

static pcitsm_err rsp_not_ready(struct pcitsm_spdm_rsp *s, struct pcitsm_wr *w);

/* RESPOND_IF_READY: the response held back behind ResponseNotReady (DSP0274 1.3 ERROR and
 * RESPOND_IF_READY). */
static pcitsm_err rsp_respond_if_ready(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				       struct pcitsm_wr *w, struct rsp_error *err)
{
	uint8_t code, token;

	RSP_DECODE(spdm_dec_respond_if_ready(req, len, &code, &token, NULL), err);
	if (!s->pending)
		return rsp_error(err, s->version >= PCITSM_SPDM_V13 ?
					      PCITSM_SPDM_ERR_NO_PENDING_REQUESTS :
					      PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	if (code != s->pending_code || token != s->pending_token)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	if (s->faults.not_ready)
		return rsp_not_ready(s, w);
	pcitsm_wr_bytes(w, s->pending, s->pending_len);
	free(s->pending);
	s->pending = NULL;
	return pcitsm_wr_err(w);
}

/* The header checks every request goes through: state, version, capability. */
static pcitsm_err rsp_admit(struct pcitsm_spdm_rsp *s, const struct spdm_hdr *h,
			    const struct rsp_handler *hd, struct rsp_error *err)
{
	if (h->code == PCITSM_SPDM_GET_VERSION)
		return h->version == PCITSM_SPDM_V10 ?
			       PCITSM_OK :
			       rsp_error(err, PCITSM_SPDM_ERR_VERSION_MISMATCH, 0);
	if (s->state == PCITSM_SPDM_RSP_IDLE)
		return rsp_error(err, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	if (s->state == PCITSM_SPDM_RSP_VERSION ? !rsp_version_offered(s, h->version) :
						  h->version != s->version)
		return rsp_error(err, PCITSM_SPDM_ERR_VERSION_MISMATCH, 0);
	if (!hd)
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, h->code);
	if (hd->cap && !(s->opts.caps & hd->cap))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, h->code);
	if (s->state != hd->state)
		return rsp_error(err, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	if (s->state == PCITSM_SPDM_RSP_NEGOTIATED && s->hash == PCITSM_HASH_NONE)
		return rsp_error(err, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	return PCITSM_OK;
}

/* Test faults after VCA: Busy, RequestResynch (back to IDLE). */
static pcitsm_err rsp_faults(struct pcitsm_spdm_rsp *s, const struct spdm_hdr *h,
			     struct rsp_error *err)
{
	if (s->state != PCITSM_SPDM_RSP_NEGOTIATED || h->code == PCITSM_SPDM_GET_VERSION)
		return PCITSM_OK;
	if (s->faults.busy) {
		s->faults.busy--;
		return rsp_error(err, PCITSM_SPDM_ERR_BUSY, 0);
	}
	if (s->faults.resynch) {
		s->faults.resynch--;
		rsp_reset(s);
		return rsp_error(err, PCITSM_SPDM_ERR_REQUEST_RESYNCH, 0);
	}
	return PCITSM_OK;
}

/* ResponseNotReady with the held-back response's code and token (DSP0274 1.3 ERROR and
 * RESPOND_IF_READY). */
static pcitsm_err rsp_not_ready(struct pcitsm_spdm_rsp *s, struct pcitsm_wr *w)
{
	uint8_t ext[4] = { RSP_NOT_READY_RDT_EXPONENT, s->pending_code, s->pending_token,
			   RSP_NOT_READY_RDTM };

	s->faults.not_ready--;
	w->off = 0;
	return spdm_enc_error(w, s->version, PCITSM_SPDM_ERR_RESPONSE_NOT_READY, 0, ext, sizeof(ext));
}

/* Hold the response just built back: answer ResponseNotReady with a token instead. */
static pcitsm_err rsp_hold(struct pcitsm_spdm_rsp *s, uint8_t code, struct pcitsm_wr *w)
{
	s->pending_len = pcitsm_wr_len(w);
	s->pending = malloc(s->pending_len);
	if (!s->pending)
		return PCITSM_E_NOMEM;
	memcpy(s->pending, w->p, s->pending_len);
	s->pending_code = code;
	s->pending_token++;
	return rsp_not_ready(s, w);
}

static pcitsm_err rsp_step(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			   struct pcitsm_wr *w, struct rsp_error *err)
{
	const struct rsp_handler *hd;
	struct spdm_hdr h;
	pcitsm_err e;

	if (spdm_peek_hdr(req, len, &h) != PCITSM_OK)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	if (h.code == PCITSM_SPDM_RESPOND_IF_READY && s->state == PCITSM_SPDM_RSP_NEGOTIATED &&
	    h.version == s->version)
		return rsp_respond_if_ready(s, req, len, w, err);
	/* PCI-SIG vendor-defined messages outside a session are ignored (PCIe 6.x §6.33.3). */
	if (h.code == PCITSM_SPDM_VENDOR_DEFINED_REQUEST)
		PCITSM_TRY(rsp_vdm_outside(s, req, len));
	hd = find_handler(h.code);
	PCITSM_TRY(rsp_admit(s, &h, hd, err));
	PCITSM_TRY(rsp_faults(s, &h, err));
	free(s->pending); /* a new request drops a held-back response */
	s->pending = NULL;
	e = hd->fn(s, req, len, w, err);
	if (e != PCITSM_OK)
		return e;
	/* M restarts on any request other than GET_MEASUREMENTS (DSP0274 1.3 'Transcript and
	 * transcript hash calculation rules'). */
	if (s->state == PCITSM_SPDM_RSP_NEGOTIATED && h.code != PCITSM_SPDM_GET_MEASUREMENTS &&
	    h.code != PCITSM_SPDM_NEGOTIATE_ALGORITHMS && s->hash != PCITSM_HASH_NONE)
		PCITSM_TRY(rsp_l1_restart(s));
	if (s->faults.not_ready &&
	    (h.code == PCITSM_SPDM_CHALLENGE || h.code == PCITSM_SPDM_GET_MEASUREMENTS)) {
		return rsp_hold(s, h.code, w);
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_rsp_handle(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t req_len,
				  uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct rsp_error err = { 0 };
	uint8_t ev = rsp_error_version(s, req, req_len);
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, rsp, rsp_cap);
	*rsp_len = 0;
	e = rsp_step(s, req, req_len, &w, &err);
	s->served++;
	if (e == PCITSM_E_NOSPC || e == PCITSM_E_NORESPONSE)
		return e;
	if (e != PCITSM_OK) {
		/* Anything but a refusal is our own failure: Unspecified. */
		if (e != PCITSM_E_PEER_ERROR)
			err = (struct rsp_error){ PCITSM_SPDM_ERR_UNSPECIFIED, 0 };
		s->errors++;
		pcitsm_wr_init(&w, rsp, rsp_cap);
		PCITSM_TRY(spdm_enc_error(&w, ev, err.code, err.data, NULL, 0));
		pcitsm_debug(s->env, "spdm responder: %s -> ERROR %s",
			     req_len >= 2 ? pcitsm_spdm_code_name(req[1]) : "short",
			     pcitsm_spdm_error_name(err.code));
	}
	*rsp_len = pcitsm_wr_len(&w);
	return PCITSM_OK;
}
