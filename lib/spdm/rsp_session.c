/* SPDX-License-Identifier: MIT */
/*
 * SPDM responder, secure sessions (DSP0274 1.3 KEY_EXCHANGE, VENDOR_DEFINED_REQUEST, 'Transcript
 * and transcript hash calculation rules', 'Key schedule'; DSP0277): KEY_EXCHANGE in the clear, then
 * every secured message (DOE type 2) of up to opts.max_sessions sessions: FINISH under the
 * handshake keys, GET_MEASUREMENTS, HEARTBEAT, KEY_UPDATE, END_SESSION and PCI-SIG
 * VENDOR_DEFINED_REQUEST under the application keys. Choices where the specification leaves room
 * are in docs/sessions.md; each sits here as a named constant or a commented branch.
 */
#include <stdlib.h>
#include <string.h>

#include "rsp_handlers.h"

#define RSP_SLOT 0
/* The first RspSessionID handed out; the next ones count up, skipping IDs in use and 0. */
#define RSP_FIRST_SESSION_ID 0x0001
/* Heartbeat watchdog: a session with a HeartbeatPeriod (seconds, DSP0274) that sees no message
 * for this many periods is ended (docs/sessions.md: the timing rule is our choice). */
#define RSP_HEARTBEAT_PERIODS 2
#define RSP_NS_PER_S 1000000000ull

static bool hbeat_negotiated(const struct pcitsm_spdm_rsp *s)
{
	return (s->opts.caps & s->req_caps & PCITSM_SPDM_CAP_HBEAT) != 0;
}

/* Every way a session slot is freed comes through here. A session that was opened (its state is
 * not FREE: KEY_EXCHANGE_RSP went out) is reported to the protocols' end hooks once, after the
 * wipe; a slot whose KEY_EXCHANGE failed was never a session and is not. */
static void sess_end(struct pcitsm_spdm_rsp *s, struct pcitsm_spdm_rsp_session *ss)
{
	bool opened = ss->state != PCITSM_SPDM_RSP_SESS_FREE;
	uint32_t id = ss->sm.id;

	pcitsm_session_wipe(&ss->sm);
	pcitsm_hash_free(&ss->th);
	pcitsm_hash_free(&ss->l1);
	pcitsm_wipe(ss, sizeof(*ss));
	s->sessions_ended++;
	if (!opened)
		return;
	for (unsigned i = 0; i < s->nr_vdm; i++)
		if (s->vdm[i].ended)
			s->vdm[i].ended(s->vdm[i].end_ctx, id);
}

void rsp_sessions_end_all(struct pcitsm_spdm_rsp *s)
{
	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		if (s->sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE)
			sess_end(s, &s->sessions[i]);
}

/* The watchdog's rule: silent for RSP_HEARTBEAT_PERIODS heartbeat periods (DSP0274 HEARTBEAT:
 * a responder that hears nothing within the period may end the session). */
static bool sess_silent_too_long(const struct pcitsm_spdm_rsp *s,
				 const struct pcitsm_spdm_rsp_session *ss)
{
	return s->opts.heartbeat_watchdog && ss->heartbeat_period &&
	       pcitsm_now_ns(s->env) - ss->last_ns >
		       RSP_HEARTBEAT_PERIODS * ss->heartbeat_period * RSP_NS_PER_S;
}

static void sess_expire(struct pcitsm_spdm_rsp *s, struct pcitsm_spdm_rsp_session *ss)
{
	sess_end(s, ss);
	s->sessions_expired++;
}

unsigned pcitsm_spdm_rsp_expire(struct pcitsm_spdm_rsp *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++) {
		struct pcitsm_spdm_rsp_session *ss = &s->sessions[i];

		if (ss->state == PCITSM_SPDM_RSP_SESS_ESTABLISHED && sess_silent_too_long(s, ss)) {
			sess_expire(s, ss);
			n++;
		}
	}
	return n;
}

unsigned pcitsm_spdm_rsp_nr_sessions(const struct pcitsm_spdm_rsp *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		n += s->sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE;
	return n;
}

static struct pcitsm_spdm_rsp_session *sess_find(struct pcitsm_spdm_rsp *s, uint32_t id)
{
	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		if (s->sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE && s->sessions[i].sm.id == id)
			return &s->sessions[i];
	return NULL;
}

static bool rsp_id_in_use(const struct pcitsm_spdm_rsp *s, uint16_t id)
{
	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		if (s->sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE &&
		    (uint16_t)(s->sessions[i].sm.id >> 16) == id)
			return true;
	return false;
}

/* A free slot within the limit and a fresh RspSessionID, or NULL (SessionLimitExceeded). */
static struct pcitsm_spdm_rsp_session *sess_alloc(struct pcitsm_spdm_rsp *s, uint16_t *rsp_id)
{
	unsigned limit = PCITSM_MIN(s->opts.max_sessions, (unsigned)PCITSM_SPDM_MAX_SESSIONS);

	if (pcitsm_spdm_rsp_nr_sessions(s) >= limit)
		return NULL;
	do {
		if (s->next_rsp_id == 0)
			s->next_rsp_id = RSP_FIRST_SESSION_ID;
		*rsp_id = s->next_rsp_id++;
	} while (rsp_id_in_use(s, *rsp_id));
	for (unsigned i = 0; i < limit; i++)
		if (s->sessions[i].state == PCITSM_SPDM_RSP_SESS_FREE)
			return &s->sessions[i];
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * KEY_EXCHANGE -> KEY_EXCHANGE_RSP (DSP0274 1.3 KEY_EXCHANGE, 'Transcript and transcript hash
 * calculation rules', 'Key schedule'; DSP0277 version negotiation in the opaque data).
 */
struct ke_locals {
	struct pcitsm_dhe dhe;
	uint8_t shared[PCITSM_DHE_SECRET_MAX];
	uint8_t th1[PCITSM_HASH_MAX];
	uint8_t verify[PCITSM_HASH_MAX];
};

static void ke_wipe(struct ke_locals *l)
{
	pcitsm_dhe_free(&l->dhe);
	pcitsm_wipe(l, sizeof(*l));
}

/* The cryptographic part, into ss: the response after the fixed fields is in w already. */
static pcitsm_err ke_build(struct pcitsm_spdm_rsp *s, struct pcitsm_spdm_rsp_session *ss,
			   const struct spdm_key_exchange *ke, const uint8_t *req, size_t mlen,
			   uint16_t rsp_id, uint16_t sm_version, struct pcitsm_wr *w,
			   struct rsp_error *err, struct ke_locals *l)
{
	enum pcitsm_dhe_alg dalg = pcitsm_spdm_dhe_alg(s->dhe);
	size_t dlen = pcitsm_dhe_pub_size(dalg), slen = pcitsm_dhe_secret_size(dalg);
	size_t sig_len = pcitsm_sig_size(s->sig), start = pcitsm_wr_len(w), olen;
	uint8_t random[SPDM_RANDOM_LEN], pub[PCITSM_DHE_PUB_MAX], summary[PCITSM_HASH_MAX];
	uint8_t opaque[PCITSM_SM_OPAQUE_MAX];
	struct spdm_key_exchange_rsp m = {
		.heartbeat_period = hbeat_negotiated(s) ? s->opts.heartbeat_period : 0,
		.rsp_session_id = rsp_id,
		.random = random,
		.exchange = pub,
	};
	uint8_t *sig, *vd;
	pcitsm_err e;

	PCITSM_TRY(pcitsm_random(s->env, random, sizeof(random)));
	/* Our ephemeral key and the shared secret (a bad peer point is the requester's fault). */
	PCITSM_TRY(pcitsm_dhe_generate(&l->dhe, dalg));
	PCITSM_TRY(pcitsm_dhe_public(&l->dhe, pub, dlen));
	e = pcitsm_dhe_derive(&l->dhe, ke->exchange, dlen, l->shared, slen);
	if (e == PCITSM_E_FIELD || e == PCITSM_E_INVAL)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	PCITSM_TRY(e);
	pcitsm_dhe_free(&l->dhe);
	if (ke->summary_type) {
		PCITSM_TRY(rsp_meas_summary(s, ke->summary_type, summary));
		m.summary = summary;
	}
	PCITSM_TRY(pcitsm_sm_opaque_selection_encode(s->version, sm_version, opaque, sizeof(opaque),
						     &olen));
	m.opaque = opaque;
	m.opaque_len = (uint16_t)olen;
	PCITSM_TRY(spdm_enc_key_exchange_rsp(w, s->version, &m, dlen, s->hash_len));
	/* TH for the signature: A || Hash(Ct) || KEY_EXCHANGE || KEY_EXCHANGE_RSP before Signature */
	PCITSM_TRY(spdm_ts_restart(&ss->th, s->hash, s->vca, s->vca_len));
	PCITSM_TRY(pcitsm_hash_update(&ss->th, s->chain_digest, s->hash_len));
	PCITSM_TRY(pcitsm_hash_update(&ss->th, req, mlen));
	PCITSM_TRY(pcitsm_hash_update(&ss->th, w->p + start, pcitsm_wr_len(w) - start));
	sig = pcitsm_wr_reserve(w, sig_len);
	if (!sig)
		return PCITSM_E_NOSPC;
	PCITSM_TRY(spdm_ts_sign(s->version, s->id->key, s->sig, SPDM_KE_SIG_CTX, &ss->th, l->th1,
				sig, sig_len));
	if (s->faults.bad_signature)
		sig[sig_len / 2] ^= 0x01;
	/* TH1: ... || Signature */
	PCITSM_TRY(pcitsm_hash_update(&ss->th, sig, sig_len));
	PCITSM_TRY(pcitsm_hash_peek(&ss->th, l->th1));
	/* req_hs_secret, rsp_hs_secret, finished keys; handshake keys of both directions */
	PCITSM_TRY(pcitsm_session_init(&ss->sm, PCITSM_SESSION_RESPONDER,
				       pcitsm_session_id(ke->req_session_id, rsp_id), s->hash,
				       pcitsm_spdm_aead_alg(s->aead), s->version, sm_version));
	PCITSM_TRY(pcitsm_session_handshake_keys(&ss->sm, l->shared, slen, l->th1));
	/* ResponderVerifyData = HMAC(rsp_finished_key, TH1) */
	PCITSM_TRY(pcitsm_keysched_verify_data(&ss->sm.ks, PCITSM_SM_RSP, l->th1, l->verify));
	if (s->faults.bad_verify_data)
		l->verify[0] ^= 0x01;
	vd = pcitsm_wr_reserve(w, s->hash_len);
	if (!vd)
		return PCITSM_E_NOSPC;
	memcpy(vd, l->verify, s->hash_len);
	PCITSM_TRY(pcitsm_hash_update(&ss->th, vd, s->hash_len));
	PCITSM_TRY(rsp_check_size(s, pcitsm_wr_len(w) - start, err));
	/* This session's M starts at A (1.2+; empty in 1.1), DSP0274 1.3 'Transcript and transcript
	 * hash calculation rules'. */
	PCITSM_TRY(spdm_ts_restart(&ss->l1, s->hash, s->vca,
				   s->version >= PCITSM_SPDM_V12 ? s->vca_len : 0));
	ss->heartbeat_period = m.heartbeat_period;
	return PCITSM_OK;
}

pcitsm_err rsp_key_exchange(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			    struct pcitsm_wr *w, struct rsp_error *err)
{
	enum pcitsm_dhe_alg dalg = pcitsm_spdm_dhe_alg(s->dhe);
	uint16_t peer[PCITSM_SM_MAX_VERSIONS], sm_version, rsp_id;
	struct pcitsm_spdm_rsp_session *ss;
	struct spdm_key_exchange ke;
	struct ke_locals l = { 0 };
	size_t mlen, nv;
	pcitsm_err e;

	if (s->version < PCITSM_SPDM_V11 || !(s->req_caps & PCITSM_SPDM_CAP_KEY_EX))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, PCITSM_SPDM_KEY_EXCHANGE);
	/* Nothing to exchange with: no common DHE group, AEAD or key schedule; and 1.2+ needs the
	 * general opaque format (PCIe 6.x §6.31). */
	if (dalg == PCITSM_DHE_NONE || pcitsm_spdm_aead_alg(s->aead) == PCITSM_AEAD_NONE ||
	    s->key_schedule != PCITSM_SPDM_KEY_SCHEDULE_SPDM ||
	    (s->version >= PCITSM_SPDM_V12 && !(s->other_params & PCITSM_SPDM_OPAQUE_FMT1)))
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	RSP_DECODE(spdm_dec_key_exchange(req, len, s->version, pcitsm_dhe_pub_size(dalg), &ke, &mlen),
		   err);
	if (ke.slot != RSP_SLOT ||
	    (ke.summary_type && !(s->opts.caps & PCITSM_SPDM_CAP_MEAS_MASK)))
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	/* The DSP0277 version: the highest of ours the requester lists (DSP0277 version negotiation
	 * in the opaque data). */
	if (pcitsm_sm_opaque_supported_parse(s->version, ke.opaque, ke.opaque_len, peer,
					     PCITSM_ARRAY_SIZE(peer), &nv) != PCITSM_OK ||
	    pcitsm_sm_version_select(peer, nv, &sm_version) != PCITSM_OK)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	ss = sess_alloc(s, &rsp_id);
	if (!ss)
		return rsp_error(err, PCITSM_SPDM_ERR_SESSION_LIMIT_EXCEEDED, 0);
	e = ke_build(s, ss, &ke, req, mlen, rsp_id, sm_version, w, err, &l);
	ke_wipe(&l);
	if (e != PCITSM_OK) {
		sess_end(s, ss);
		s->sessions_ended--; /* never opened */
		return e;
	}
	ss->state = PCITSM_SPDM_RSP_SESS_HANDSHAKE;
	ss->last_ns = pcitsm_now_ns(s->env);
	s->sessions_opened++;
	/* B restarts when KEY_EXCHANGE comes before a CHALLENGE completes (DSP0274 1.3 'Transcript
	 * and transcript hash calculation rules'). */
	return spdm_ts_restart(&s->m1, s->hash, s->vca, s->vca_len);
}

pcitsm_err rsp_session_required(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err)
{
	/* libspdm answers FINISH outside a session so; the same for the other in-session requests
	 * (docs/sessions.md). 1.1 has no SessionRequired. */
	return rsp_error(err, s->version >= PCITSM_SPDM_V12 ? PCITSM_SPDM_ERR_SESSION_REQUIRED :
							      PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
}

pcitsm_err rsp_vdm_outside(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len)
{
	struct spdm_vdm v;

	if (spdm_dec_vdm(req, len, &v, NULL) == PCITSM_OK && spdm_vdm_is_pcisig(&v))
		return PCITSM_E_NORESPONSE;
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_rsp_register_vdm(struct pcitsm_spdm_rsp *s, uint8_t protocol_id,
					pcitsm_spdm_vdm_fn fn, void *ctx)
{
	if (!s || !fn)
		return PCITSM_E_INVAL;
	for (unsigned i = 0; i < s->nr_vdm; i++)
		if (s->vdm[i].protocol_id == protocol_id)
			return PCITSM_E_EXISTS;
	if (s->nr_vdm >= PCITSM_SPDM_MAX_VDM_PROTOCOLS)
		return PCITSM_E_EXHAUSTED;
	s->vdm[s->nr_vdm++] = (struct pcitsm_spdm_vdm_reg){ protocol_id, fn, ctx, NULL, NULL };
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_rsp_register_vdm_end(struct pcitsm_spdm_rsp *s, uint8_t protocol_id,
					    pcitsm_spdm_vdm_end_fn ended, void *ctx)
{
	if (!s || !ended)
		return PCITSM_E_INVAL;
	for (unsigned i = 0; i < s->nr_vdm; i++) {
		if (s->vdm[i].protocol_id != protocol_id)
			continue;
		if (s->vdm[i].ended)
			return PCITSM_E_EXISTS;
		s->vdm[i].ended = ended;
		s->vdm[i].end_ctx = ctx;
		return PCITSM_OK;
	}
	return PCITSM_E_NOTFOUND;
}

/* ---------------------------------------------------------------------------------------------
 * Inside a session.
 */
enum sess_after {
	SESS_REPLY = 0,   /* seal the response */
	SESS_FINISHED,    /* seal FINISH_RSP under the handshake key, then switch to application keys */
	SESS_END,         /* seal, then end the session */
	SESS_SILENT,      /* send nothing */
};

struct sess_ctx {
	struct pcitsm_spdm_rsp *s;
	struct pcitsm_spdm_rsp_session *ss;
	enum sess_after after;
	uint8_t th2[PCITSM_HASH_MAX];
};

/* FINISH: RequesterVerifyData = HMAC(req_finished_key, Hash(TH || FINISH header)); then
 * FINISH_RSP (no VerifyData: handshake not in the clear) and TH2 over both (DSP0274 1.3 'Transcript
 * and transcript hash calculation rules'). */
static pcitsm_err sess_finish(struct sess_ctx *c, const uint8_t *req, size_t len,
			      struct pcitsm_wr *w, struct rsp_error *err)
{
	struct pcitsm_spdm_rsp *s = c->s;
	struct pcitsm_spdm_rsp_session *ss = c->ss;
	uint8_t th[PCITSM_HASH_MAX];
	const uint8_t *verify;
	size_t mlen, start = pcitsm_wr_len(w);
	pcitsm_err e;

	if (ss->state != PCITSM_SPDM_RSP_SESS_HANDSHAKE)
		return rsp_error(err, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	RSP_DECODE(spdm_dec_finish(req, len, s->hash_len, &verify, &mlen), err);
	PCITSM_TRY(pcitsm_hash_update(&ss->th, req, SPDM_HDR_LEN));
	PCITSM_TRY(pcitsm_hash_peek(&ss->th, th));
	e = pcitsm_keysched_check_verify_data(&ss->sm.ks, PCITSM_SM_REQ, th, verify);
	pcitsm_wipe(th, sizeof(th));
	if (e == PCITSM_E_MAC) {
		/* libspdm answers DecryptError; the session cannot go on (docs/sessions.md). */
		c->after = SESS_END;
		return rsp_error(err, PCITSM_SPDM_ERR_DECRYPT_ERROR, 0);
	}
	PCITSM_TRY(e);
	PCITSM_TRY(pcitsm_hash_update(&ss->th, verify, s->hash_len));
	PCITSM_TRY(spdm_enc_hdr(w, s->version, PCITSM_SPDM_FINISH_RSP, 0, 0));
	/* TH2 = Hash(A || Hash(Ct) || K || FINISH || FINISH_RSP) */
	PCITSM_TRY(pcitsm_hash_update(&ss->th, w->p + start, pcitsm_wr_len(w) - start));
	PCITSM_TRY(pcitsm_hash_final(&ss->th, c->th2));
	c->after = SESS_FINISHED;
	return PCITSM_OK;
}

static pcitsm_err sess_end_session(struct sess_ctx *c, const uint8_t *req, size_t len,
				   struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_hdr h;

	/* Param1 bit 0: negotiated-state clearing; we cache no negotiated state (docs/sessions.md). */
	RSP_DECODE(spdm_dec_hdr_only(req, len, &h, NULL), err);
	if (h.param1 & ~1u || h.param2)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	c->after = SESS_END;
	return spdm_enc_hdr(w, c->s->version, PCITSM_SPDM_END_SESSION_ACK, 0, 0);
}

static pcitsm_err sess_heartbeat(struct sess_ctx *c, const uint8_t *req, size_t len,
				 struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_hdr h;

	if (!hbeat_negotiated(c->s))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, PCITSM_SPDM_HEARTBEAT);
	RSP_DECODE(spdm_dec_hdr_only(req, len, &h, NULL), err);
	if (h.param1 || h.param2)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	return spdm_enc_hdr(w, c->s->version, PCITSM_SPDM_HEARTBEAT_ACK, 0, 0);
}

/*
 * KEY_UPDATE (DSP0274 1.3 KEY_UPDATE, the key switch order of docs/sessions.md). The request was
 * opened under the old request key. UpdateKey: the next request comes under the new request key,
 * the ACK goes out under the current response key. UpdateAllKeys: both directions move on, and the
 * ACK already goes out under the new response key. VerifyNewKey (under the new request key): only
 * right after one of those two.
 */
static pcitsm_err sess_key_update(struct sess_ctx *c, const uint8_t *req, size_t len,
				  struct pcitsm_wr *w, struct rsp_error *err)
{
	struct pcitsm_spdm_rsp *s = c->s;
	struct pcitsm_spdm_rsp_session *ss = c->ss;
	struct spdm_hdr h;

	if (!(s->opts.caps & s->req_caps & PCITSM_SPDM_CAP_KEY_UPD))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, PCITSM_SPDM_KEY_UPDATE);
	RSP_DECODE(spdm_dec_hdr_only(req, len, &h, NULL), err);
	switch (h.param1) {
	case SPDM_KU_UPDATE_KEY:
	case SPDM_KU_UPDATE_ALL_KEYS:
		if (ss->ku_pending)
			return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
		PCITSM_TRY(pcitsm_session_key_update(&ss->sm, PCITSM_SM_REQ));
		if (h.param1 == SPDM_KU_UPDATE_ALL_KEYS)
			PCITSM_TRY(pcitsm_session_key_update(&ss->sm, PCITSM_SM_RSP));
		ss->ku_pending = h.param1;
		break;
	case SPDM_KU_VERIFY_NEW_KEY:
		if (!ss->ku_pending)
			return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
		ss->ku_pending = 0;
		break;
	default:
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	}
	return spdm_enc_hdr(w, s->version, PCITSM_SPDM_KEY_UPDATE_ACK, h.param1, h.param2);
}

/* GET_MEASUREMENTS with this session's M (DSP0274 1.3 'Transcript and transcript hash calculation
 * rules': L1 = A || the session's M). */
static pcitsm_err sess_measurements(struct sess_ctx *c, const uint8_t *req, size_t len,
				    struct pcitsm_wr *w, struct rsp_error *err)
{
	struct pcitsm_hash_ctx conn = c->s->l1;
	pcitsm_err e;

	if (!(c->s->opts.caps & PCITSM_SPDM_CAP_MEAS_MASK))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST,
				 PCITSM_SPDM_GET_MEASUREMENTS);
	c->s->l1 = c->ss->l1;
	e = rsp_get_measurements(c->s, req, len, w, err);
	c->ss->l1 = c->s->l1;
	c->s->l1 = conn;
	return e;
}

/*
 * GET_DIGESTS / GET_CERTIFICATE inside a session (DSP0274 allows both in a session; libspdm's
 * requester reads them there in its default flow). The answers are the ones given outside, but
 * neither is part of the connection's B (the CHALLENGE transcript M1/M2) in a session, and the
 * session's TH is not touched; like every request other than GET_MEASUREMENTS they restart this
 * session's M (docs/sessions.md). The out-of-session handlers run against a scratch B.
 */
static pcitsm_err sess_cert_common(struct sess_ctx *c, rsp_fn fn, const uint8_t *req, size_t len,
				   struct pcitsm_wr *w, struct rsp_error *err)
{
	struct pcitsm_spdm_rsp *s = c->s;
	struct pcitsm_hash_ctx conn = s->m1, scratch = { 0 };
	pcitsm_err e;

	if (!(s->opts.caps & PCITSM_SPDM_CAP_CERT))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, req[1]);
	PCITSM_TRY(spdm_ts_restart(&scratch, s->hash, NULL, 0));
	s->m1 = scratch;
	e = fn(s, req, len, w, err);
	scratch = s->m1;
	s->m1 = conn;
	pcitsm_hash_free(&scratch);
	if (e == PCITSM_OK)
		e = spdm_ts_restart(&c->ss->l1, s->hash, s->vca,
				    s->version >= PCITSM_SPDM_V12 ? s->vca_len : 0);
	return e;
}

static pcitsm_err sess_digests(struct sess_ctx *c, const uint8_t *req, size_t len,
			       struct pcitsm_wr *w, struct rsp_error *err)
{
	return sess_cert_common(c, rsp_get_digests, req, len, w, err);
}

static pcitsm_err sess_certificate(struct sess_ctx *c, const uint8_t *req, size_t len,
				   struct pcitsm_wr *w, struct rsp_error *err)
{
	return sess_cert_common(c, rsp_get_certificate, req, len, w, err);
}

/* VENDOR_DEFINED_REQUEST: PCI-SIG only, to the handler registered for the Protocol ID. */
static pcitsm_err sess_vdm(struct sess_ctx *c, const uint8_t *req, size_t len,
			   struct pcitsm_wr *w, struct rsp_error *err)
{
	struct pcitsm_spdm_rsp *s = c->s;
	const struct pcitsm_spdm_vdm_reg *reg = NULL;
	uint8_t vendor[2];
	struct spdm_vdm v;
	size_t len_off, start;
	pcitsm_err e;

	RSP_DECODE(spdm_dec_vdm(req, len, &v, NULL), err);
	if (!spdm_vdm_is_pcisig(&v))
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST,
				 PCITSM_SPDM_VENDOR_DEFINED_REQUEST);
	for (unsigned i = 0; i < s->nr_vdm; i++)
		if (s->vdm[i].protocol_id == v.payload[0])
			reg = &s->vdm[i];
	if (!reg)
		return rsp_error(err, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST,
				 PCITSM_SPDM_VENDOR_DEFINED_REQUEST);
	pcitsm_put_le16(vendor, PCITSM_SPDM_VENDOR_PCISIG);
	PCITSM_TRY(spdm_enc_hdr(w, s->version, PCITSM_SPDM_VENDOR_DEFINED_RESPONSE, 0, 0));
	pcitsm_wr_le16(w, PCITSM_SPDM_STANDARD_PCISIG);
	pcitsm_wr_u8(w, sizeof(vendor));
	pcitsm_wr_bytes(w, vendor, sizeof(vendor));
	len_off = pcitsm_wr_len(w);
	pcitsm_wr_le16(w, 0);
	start = pcitsm_wr_len(w);
	PCITSM_TRY(pcitsm_wr_err(w));
	e = reg->fn(reg->ctx, c->ss->sm.id, v.payload, v.payload_len, w);
	if (e == PCITSM_E_NORESPONSE) {
		c->after = SESS_SILENT;
		return PCITSM_OK;
	}
	if (e == PCITSM_OK && pcitsm_wr_err(w) == PCITSM_E_NOSPC)
		e = PCITSM_E_NOSPC;
	if (e == PCITSM_OK && (pcitsm_wr_len(w) == start || pcitsm_wr_len(w) - start > 0xffff ||
			       w->p[start] != v.payload[0]))
		e = PCITSM_E_FIELD; /* the handler broke its contract: our failure */
	if (e != PCITSM_OK) {
		w->off = 0;
		w->err = PCITSM_OK;
		if (pcitsm_err_group(e) == PCITSM_EG_PEER && e != PCITSM_E_FIELD)
			return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
		return rsp_error(err, PCITSM_SPDM_ERR_UNSPECIFIED, 0);
	}
	pcitsm_wr_patch_le16(w, len_off, (uint16_t)(pcitsm_wr_len(w) - start));
	return pcitsm_wr_err(w);
}

typedef pcitsm_err (*sess_fn)(struct sess_ctx *c, const uint8_t *req, size_t len,
			      struct pcitsm_wr *w, struct rsp_error *err);

/* The requests a session serves; FINISH only in the handshake phase, the others only after. */
static const struct sess_handler {
	uint8_t code;
	enum pcitsm_spdm_rsp_sess_state state;
	sess_fn fn;
} sess_handlers[] = {
	{ PCITSM_SPDM_FINISH, PCITSM_SPDM_RSP_SESS_HANDSHAKE, sess_finish },
	{ PCITSM_SPDM_END_SESSION, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_end_session },
	{ PCITSM_SPDM_HEARTBEAT, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_heartbeat },
	{ PCITSM_SPDM_KEY_UPDATE, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_key_update },
	{ PCITSM_SPDM_GET_MEASUREMENTS, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_measurements },
	{ PCITSM_SPDM_VENDOR_DEFINED_REQUEST, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_vdm },
	{ PCITSM_SPDM_GET_DIGESTS, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_digests },
	{ PCITSM_SPDM_GET_CERTIFICATE, PCITSM_SPDM_RSP_SESS_ESTABLISHED, sess_certificate },
};

static pcitsm_err sess_step(struct sess_ctx *c, const uint8_t *req, size_t len,
			    struct pcitsm_wr *w, struct rsp_error *err)
{
	struct spdm_hdr h;

	if (spdm_peek_hdr(req, len, &h) != PCITSM_OK)
		return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	if (h.version != c->s->version)
		return rsp_error(err, PCITSM_SPDM_ERR_VERSION_MISMATCH, 0);
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sess_handlers); i++) {
		if (sess_handlers[i].code != h.code)
			continue;
		/* FINISH once more, or anything before FINISH: out of order. */
		if (c->ss->state != sess_handlers[i].state)
			return rsp_error(err, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
		return sess_handlers[i].fn(c, req, len, w, err);
	}
	/* KEY_EXCHANGE and VCA belong outside; anything else is not served in a session. */
	return rsp_error(err, h.code == PCITSM_SPDM_KEY_EXCHANGE || h.code == PCITSM_SPDM_GET_VERSION ?
				      PCITSM_SPDM_ERR_UNEXPECTED_REQUEST :
				      PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST,
			 h.code == PCITSM_SPDM_KEY_EXCHANGE || h.code == PCITSM_SPDM_GET_VERSION ?
				 0 : h.code);
}

/* Seal the plaintext response in pt into rsp; then whatever comes after (key switch, end). */
static pcitsm_err sess_reply(struct sess_ctx *c, const uint8_t *pt, size_t n, uint8_t *rsp,
			     size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_spdm_rsp_session *ss = c->ss;
	pcitsm_err e;

	e = pcitsm_record_seal(&ss->sm, pt, n, rsp, rsp_cap, rsp_len);
	if (e == PCITSM_OK && c->after == SESS_FINISHED) {
		/* application keys from TH2; the handshake keys are gone */
		e = pcitsm_session_data_keys(&ss->sm, c->th2);
		if (e == PCITSM_OK)
			ss->state = PCITSM_SPDM_RSP_SESS_ESTABLISHED;
	}
	if (e != PCITSM_OK || c->after == SESS_END) {
		sess_end(c->s, ss);
		if (e != PCITSM_OK)
			*rsp_len = 0;
	}
	return e == PCITSM_E_NOSPC ? e : e == PCITSM_OK ? PCITSM_OK : PCITSM_E_NORESPONSE;
}

/* A record that did not open: ERROR DecryptError under this session's response key (as libspdm
 * does), then the session ends. If even that cannot be sealed, nothing is sent. */
static pcitsm_err sess_decrypt_error(struct sess_ctx *c, uint8_t *rsp, size_t rsp_cap,
				     size_t *rsp_len)
{
	uint8_t pt[8];
	struct pcitsm_wr w;

	c->s->decrypt_errors++;
	c->ss->sm.err = PCITSM_OK; /* the session ends right after this one message */
	pcitsm_wr_init(&w, pt, sizeof(pt));
	c->after = SESS_END;
	if (spdm_enc_error(&w, c->s->version, PCITSM_SPDM_ERR_DECRYPT_ERROR, 0, NULL, 0))
		return PCITSM_E_NORESPONSE;
	return sess_reply(c, pt, pcitsm_wr_len(&w), rsp, rsp_cap, rsp_len);
}

pcitsm_err pcitsm_spdm_rsp_handle_secured(struct pcitsm_spdm_rsp *s, const uint8_t *rec,
					  size_t len, uint8_t *rsp, size_t rsp_cap,
					  size_t *rsp_len)
{
	struct sess_ctx c = { .s = s };
	struct rsp_error err = { 0 };
	uint8_t *pt = s->rec_scratch, *out = rsp;
	size_t n, cap = rsp_cap > PCITSM_SM_OVERHEAD ? rsp_cap - PCITSM_SM_OVERHEAD : 0;
	struct pcitsm_wr w;
	uint32_t id;
	pcitsm_err e;

	*rsp_len = 0;
	s->served++;
	/* No response of ours exceeds our DataTransferSize (no chunking). */
	cap = PCITSM_MIN(cap, (size_t)s->opts.data_transfer_size);
	/* A record for no session of ours: dropped, as libspdm does (docs/sessions.md). */
	if (pcitsm_record_session_id(rec, len, &id) != PCITSM_OK || !(c.ss = sess_find(s, id))) {
		s->dropped_records++;
		return PCITSM_E_NORESPONSE;
	}
	/* The watchdog: silent for RSP_HEARTBEAT_PERIODS heartbeat periods, the session is over. */
	if (sess_silent_too_long(s, c.ss)) {
		sess_expire(s, c.ss);
		s->dropped_records++;
		return PCITSM_E_NORESPONSE;
	}
	c.ss->last_ns = pcitsm_now_ns(s->env);
	/* The request opens into the scratch of init; the response is written where the record
	 * will carry it in rsp (after SessionID, Length, AppDataLength) and sealed in place. */
	if (cap)
		out = rsp + PCITSM_SM_HDR_LEN + 2;
	if (pcitsm_record_open(&c.ss->sm, rec, len, pt, PCITSM_SM_MAX_APP + 2, &n) != PCITSM_OK) {
		e = sess_decrypt_error(&c, rsp, rsp_cap, rsp_len);
		goto out;
	}
	pcitsm_wr_init(&w, out, cap);
	e = sess_step(&c, pt, n, &w, &err);
	if (e == PCITSM_E_NOSPC)
		goto out;
	if (e != PCITSM_OK) {
		if (e != PCITSM_E_PEER_ERROR)
			err = (struct rsp_error){ PCITSM_SPDM_ERR_UNSPECIFIED, 0 };
		s->errors++;
		pcitsm_wr_init(&w, out, cap);
		e = spdm_enc_error(&w, rsp_error_version(s, pt, n), err.code, err.data, NULL, 0);
		if (e != PCITSM_OK)
			goto out;
		pcitsm_debug(s->env, "spdm responder: session %08x: %s -> ERROR %s", id,
			     n >= 2 ? pcitsm_spdm_code_name(pt[1]) : "short",
			     pcitsm_spdm_error_name(err.code));
	}
	if (c.after == SESS_SILENT) {
		e = PCITSM_E_NORESPONSE;
		goto out;
	}
	e = sess_reply(&c, out, pcitsm_wr_len(&w), rsp, rsp_cap, rsp_len);
out:
	pcitsm_wipe(pt, PCITSM_MIN(len, (size_t)PCITSM_SM_MAX_APP + 2));
	if (!*rsp_len)
		pcitsm_wipe(out, cap); /* a plaintext response that was not sealed */
	pcitsm_wipe(c.th2, sizeof(c.th2));
	return e;
}

pcitsm_err rsp_secured_doe(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			   uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_spdm_rsp *s = pcitsm_container_of(h, struct pcitsm_spdm_rsp, sdoe);

	return pcitsm_spdm_rsp_handle_secured(s, req, req_len, rsp, rsp_cap, rsp_len);
}
