/* SPDX-License-Identifier: MIT */
/*
 * SPDM requester, secure sessions (DSP0274 1.3 KEY_EXCHANGE to END_SESSION, VENDOR_DEFINED_REQUEST,
 * 'Transcript and transcript hash calculation rules', 'Key schedule'; DSP0277): the engine (no I/O)
 * that builds KEY_EXCHANGE in the clear and seals every later request itself, and opens every
 * response, so that each key switch sits between exactly the right two messages. Any failure ends
 * the session and wipes it (docs/sessions.md).
 */
#include <stdlib.h>
#include <string.h>

#include "req_priv.h"

void pcitsm_spdm_session_opts_default(struct pcitsm_spdm_session_opts *o)
{
	memset(o, 0, sizeof(*o));
}

void pcitsm_spdm_session_wipe(struct pcitsm_spdm_session *s)
{
	uint8_t peer_error, peer_error_data;
	pcitsm_err err;
	bool started;

	if (!s)
		return;
	err = s->err;
	peer_error = s->peer_error;
	peer_error_data = s->peer_error_data;
	started = s->state != PCITSM_SPDM_SESSION_NONE;
	pcitsm_dhe_free(&s->dhe);
	pcitsm_hash_free(&s->th);
	pcitsm_hash_free(&s->l1);
	if (s->meas)
		pcitsm_wipe(s->meas, s->meas_len);
	free(s->meas);
	free(s->meas_rsp);
	pcitsm_wipe(s, sizeof(*s));
	if (started)
		s->state = PCITSM_SPDM_SESSION_ENDED;
	s->err = err;
	s->peer_error = peer_error;
	s->peer_error_data = peer_error_data;
}

/* The first failure ends the session. */
static pcitsm_err sess_fail(struct pcitsm_spdm_session *s, pcitsm_err e)
{
	if (e == PCITSM_OK)
		return e;
	if (!s->err)
		s->err = e;
	pcitsm_debug(s->r ? s->r->cfg.env : NULL, "spdm: session %08x ended: %s", s->sm.id,
		     pcitsm_err_name(e));
	pcitsm_spdm_session_wipe(s);
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * KEY_EXCHANGE / KEY_EXCHANGE_RSP, in the clear.
 */
static pcitsm_err ke_check(const struct pcitsm_spdm_req *r, const struct pcitsm_spdm_session_opts *o)
{
	if (r->err || r->state != PCITSM_SPDM_REQ_NEGOTIATED || r->outstanding)
		return PCITSM_E_STATE;
	if (r->version < PCITSM_SPDM_V11 ||
	    !(r->cfg.caps & r->rsp_caps & PCITSM_SPDM_CAP_KEY_EX) ||
	    pcitsm_spdm_dhe_alg(r->dhe) == PCITSM_DHE_NONE ||
	    pcitsm_spdm_aead_alg(r->aead) == PCITSM_AEAD_NONE ||
	    r->key_schedule != PCITSM_SPDM_KEY_SCHEDULE_SPDM ||
	    (r->version >= PCITSM_SPDM_V12 && !(r->other_params & PCITSM_SPDM_OPAQUE_FMT1)))
		return PCITSM_E_UNSUPPORTED;
	/* The responder's key comes from the chain read for this slot. */
	if (!r->chain_done || !r->leaf || r->cert_slot != o->slot)
		return PCITSM_E_STATE;
	if (o->summary_type && (o->summary_type != 1 && o->summary_type != 0xff))
		return PCITSM_E_INVAL;
	if (o->summary_type && !(r->rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK))
		return PCITSM_E_UNSUPPORTED;
	if (o->sm_versions && (!o->nr_sm_versions || o->nr_sm_versions > PCITSM_SPDM_SM_OFFER_MAX))
		return PCITSM_E_INVAL;
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_session_req_key_exchange(struct pcitsm_spdm_session *s,
						struct pcitsm_spdm_req *r,
						const struct pcitsm_spdm_session_opts *o,
						struct pcitsm_wr *w)
{
	enum pcitsm_dhe_alg dalg = pcitsm_spdm_dhe_alg(r->dhe);
	size_t dlen = pcitsm_dhe_pub_size(dalg), olen = 0, start = pcitsm_wr_len(w);
	uint8_t random[SPDM_RANDOM_LEN], pub[PCITSM_DHE_PUB_MAX], opaque[PCITSM_SM_OPAQUE_MAX];
	uint8_t ct_hash[PCITSM_HASH_MAX];
	struct spdm_key_exchange ke = { 0 };
	pcitsm_err e;

	memset(s, 0, sizeof(*s));
	PCITSM_TRY(ke_check(r, o));
	s->r = r;
	s->opts = *o;
	s->state = PCITSM_SPDM_SESSION_KEY_EXCHANGE;
	s->dhe_bits = r->dhe;
	s->aead_bits = r->aead;
	s->nr_sm_offered = o->sm_versions ? o->nr_sm_versions :
			   PCITSM_MIN(pcitsm_sm_nr_versions, (size_t)PCITSM_SPDM_SM_OFFER_MAX);
	memcpy(s->sm_offered, o->sm_versions ? o->sm_versions : pcitsm_sm_versions,
	       s->nr_sm_offered * sizeof(uint16_t));
	ke.summary_type = o->summary_type;
	ke.slot = o->slot;
	ke.req_session_id = o->req_session_id;
	ke.session_policy = o->session_policy;
	e = pcitsm_random(r->cfg.env, random, sizeof(random));
	while (!e && !ke.req_session_id)
		e = pcitsm_random(r->cfg.env, &ke.req_session_id, sizeof(ke.req_session_id));
	if (!e)
		e = pcitsm_dhe_generate(&s->dhe, dalg);
	if (!e)
		e = pcitsm_dhe_public(&s->dhe, pub, dlen);
	if (!e)
		e = pcitsm_sm_opaque_supported_encode(r->version, s->sm_offered, s->nr_sm_offered,
						      opaque, sizeof(opaque), &olen);
	ke.random = random;
	ke.exchange = pub;
	ke.opaque = opaque;
	ke.opaque_len = (uint16_t)olen;
	if (!e)
		e = spdm_enc_key_exchange(w, r->version, &ke, dlen);
	/* TH starts: A || Hash(Ct) || KEY_EXCHANGE (DSP0274 1.3 'Transcript and transcript hash
	 * calculation rules') */
	if (!e)
		e = pcitsm_hash(r->hash, r->chain, r->chain_len, ct_hash);
	if (!e)
		e = spdm_ts_restart(&s->th, r->hash, r->vca, r->vca_len);
	if (!e)
		e = pcitsm_hash_update(&s->th, ct_hash, r->hash_len);
	if (!e)
		e = pcitsm_hash_update(&s->th, w->p + start, pcitsm_wr_len(w) - start);
	/* M restarts on any request other than GET_MEASUREMENTS, B when KEY_EXCHANGE comes before
	 * a CHALLENGE completes (DSP0274 1.3 'Transcript and transcript hash calculation rules'),
	 * as the responder does. */
	if (!e)
		e = req_l1_restart(r);
	if (!e)
		e = spdm_ts_restart(&r->m1, r->hash, r->vca, r->vca_len);
	if (e)
		return sess_fail(s, e);
	memcpy(s->req_hdr, w->p + start, 4);
	s->sm.id = ke.req_session_id; /* the low half until the response names the rest */
	s->outstanding = true;
	return PCITSM_OK;
}

/* An ERROR answer: remember it; E_PEER_ERROR (E_PEER_BUSY for Busy, not retried in a session). */
static pcitsm_err on_peer_error(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len)
{
	struct spdm_error e;

	PCITSM_TRY(spdm_dec_error(p, len, &e, NULL));
	s->peer_error = e.code;
	s->peer_error_data = e.data;
	return PCITSM_E_PEER_ERROR;
}

static pcitsm_err on_key_exchange_rsp(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len)
{
	struct pcitsm_spdm_req *r = s->r;
	enum pcitsm_dhe_alg dalg = pcitsm_spdm_dhe_alg(s->dhe_bits);
	size_t dlen = pcitsm_dhe_pub_size(dalg), slen = pcitsm_dhe_secret_size(dalg), mlen;
	uint8_t shared[PCITSM_DHE_SECRET_MAX], th1[PCITSM_HASH_MAX];
	uint16_t sm_version = 0;
	struct spdm_key_exchange_rsp m;
	struct spdm_hdr h;
	pcitsm_err e;

	PCITSM_TRY(spdm_peek_hdr(p, len, &h));
	if (h.code == PCITSM_SPDM_ERROR)
		return on_peer_error(s, p, len);
	if (h.version != r->version)
		return PCITSM_E_VERSION;
	if (h.code != PCITSM_SPDM_KEY_EXCHANGE_RSP)
		return PCITSM_E_UNEXPECTED;
	PCITSM_TRY(spdm_dec_key_exchange_rsp(p, len, r->version, dlen, r->hash_len,
					     s->opts.summary_type != 0, r->sig_len, &m, &mlen));
	/* No mutual authentication: we never set MUT_AUTH_CAP. */
	if (m.mut_auth || m.req_slot)
		return PCITSM_E_FIELD;
	if (m.heartbeat_period && !(r->cfg.caps & r->rsp_caps & PCITSM_SPDM_CAP_HBEAT))
		return PCITSM_E_FIELD;
	PCITSM_TRY(pcitsm_sm_opaque_selection_parse(r->version, m.opaque, m.opaque_len,
						    s->sm_offered, s->nr_sm_offered, &sm_version));
	/* Signature over A || Hash(Ct) || KEY_EXCHANGE || KEY_EXCHANGE_RSP before Signature */
	PCITSM_TRY(pcitsm_hash_update(&s->th, p, m.signed_len));
	PCITSM_TRY(spdm_ts_verify(r->version, r->leaf, r->sig, SPDM_KE_SIG_CTX, &s->th, th1,
				  m.signature, r->sig_len));
	/* TH1 = Hash(... || Signature) */
	PCITSM_TRY(pcitsm_hash_update(&s->th, m.signature, r->sig_len));
	PCITSM_TRY(pcitsm_hash_peek(&s->th, th1));
	e = pcitsm_dhe_derive(&s->dhe, m.exchange, dlen, shared, slen);
	pcitsm_dhe_free(&s->dhe);
	/* handshake secrets and keys, then ResponderVerifyData = HMAC(rsp_finished_key, TH1) */
	if (!e)
		e = pcitsm_session_init(&s->sm, PCITSM_SESSION_REQUESTER,
					pcitsm_session_id((uint16_t)s->sm.id, m.rsp_session_id),
					r->hash, pcitsm_spdm_aead_alg(s->aead_bits), r->version,
					sm_version);
	if (!e)
		e = pcitsm_session_handshake_keys(&s->sm, shared, slen, th1);
	pcitsm_wipe(shared, sizeof(shared));
	if (!e)
		e = pcitsm_keysched_check_verify_data(&s->sm.ks, PCITSM_SM_RSP, th1, m.verify_data);
	pcitsm_wipe(th1, sizeof(th1));
	if (!e)
		e = pcitsm_hash_update(&s->th, m.verify_data, r->hash_len);
	if (e)
		return e;
	if (m.summary)
		memcpy(s->meas_summary, m.summary, r->hash_len);
	s->heartbeat_period = m.heartbeat_period;
	/* This session's M starts at A (DSP0274 1.3 'Transcript and transcript hash calculation
	 * rules'). */
	PCITSM_TRY(spdm_ts_restart(&s->l1, r->hash, r->vca,
				   r->version >= PCITSM_SPDM_V12 ? r->vca_len : 0));
	s->state = PCITSM_SPDM_SESSION_HANDSHAKE;
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_session_feed_plain(struct pcitsm_spdm_session *s, const uint8_t *rsp,
					  size_t len)
{
	if (s->state != PCITSM_SPDM_SESSION_KEY_EXCHANGE || !s->outstanding)
		return PCITSM_E_STATE;
	s->outstanding = false;
	return sess_fail(s, on_key_exchange_rsp(s, rsp, len));
}

/* ---------------------------------------------------------------------------------------------
 * Secured requests.
 */
/* Seal the plaintext request msg into w and make it the outstanding one. */
static pcitsm_err sess_send(struct pcitsm_spdm_session *s, const uint8_t *msg, size_t n,
			    struct pcitsm_wr *w)
{
	size_t out_len;
	uint8_t *out;
	pcitsm_err e;

	out = pcitsm_wr_reserve(w, n + PCITSM_SM_OVERHEAD);
	if (!out)
		return PCITSM_E_NOSPC;
	e = pcitsm_record_seal(&s->sm, msg, n, out, n + PCITSM_SM_OVERHEAD, &out_len);
	if (e)
		return sess_fail(s, e);
	memcpy(s->req_hdr, msg, 4);
	s->outstanding = true;
	return PCITSM_OK;
}

static pcitsm_err sess_ready(const struct pcitsm_spdm_session *s,
			     enum pcitsm_spdm_session_state need)
{
	if (s->state != need || s->outstanding)
		return PCITSM_E_STATE;
	return PCITSM_OK;
}

/* FINISH under the request handshake key: RequesterVerifyData = HMAC(req_finished_key,
 * Hash(A || Hash(Ct) || K || FINISH header)) (DSP0274 1.3 'Transcript and transcript hash
 * calculation rules'). */
pcitsm_err pcitsm_spdm_session_req_finish(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
{
	struct pcitsm_spdm_req *r = s->r;
	uint8_t msg[SPDM_HDR_LEN + PCITSM_HASH_MAX], th[PCITSM_HASH_MAX];
	struct pcitsm_wr mw;
	pcitsm_err e;

	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_HANDSHAKE));
	pcitsm_wr_init(&mw, msg, sizeof(msg));
	e = spdm_enc_hdr(&mw, r->version, PCITSM_SPDM_FINISH, 0, 0);
	if (!e)
		e = pcitsm_hash_update(&s->th, msg, SPDM_HDR_LEN);
	if (!e)
		e = pcitsm_hash_peek(&s->th, th);
	if (!e)
		e = pcitsm_keysched_verify_data(&s->sm.ks, PCITSM_SM_REQ, th, msg + SPDM_HDR_LEN);
	if (!e)
		e = pcitsm_hash_update(&s->th, msg + SPDM_HDR_LEN, r->hash_len);
	if (!e)
		e = sess_send(s, msg, SPDM_HDR_LEN + r->hash_len, w);
	pcitsm_wipe(th, sizeof(th));
	pcitsm_wipe(msg, sizeof(msg));
	return e ? sess_fail(s, e) : PCITSM_OK;
}

/* nonce: the caller's for a signed request, NULL for the engine's own random one. */
static pcitsm_err sess_get_meas(struct pcitsm_spdm_session *s, uint8_t operation, bool sign,
				const uint8_t *nonce, struct pcitsm_wr *w)
{
	struct pcitsm_spdm_req *r = s->r;
	struct spdm_get_meas g = { .operation = operation, .slot = s->opts.slot };
	uint8_t msg[64];
	struct pcitsm_wr mw;

	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_ESTABLISHED));
	if (!(r->rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK) ||
	    (sign && (r->rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK) != PCITSM_SPDM_CAP_MEAS_SIG))
		return PCITSM_E_UNSUPPORTED;
	if (sign) {
		g.attributes = SPDM_MEAS_ATTR_SIG;
		if (nonce)
			memcpy(s->nonce, nonce, sizeof(s->nonce));
		else
			PCITSM_TRY(pcitsm_random(r->cfg.env, s->nonce, sizeof(s->nonce)));
		memcpy(g.nonce, s->nonce, sizeof(g.nonce));
		if (r->version >= PCITSM_SPDM_V13)
			PCITSM_TRY(pcitsm_random(r->cfg.env, g.context, sizeof(g.context)));
	}
	pcitsm_wr_init(&mw, msg, sizeof(msg));
	PCITSM_TRY(spdm_enc_get_measurements(&mw, r->version, &g));
	/* M grows by the request (DSP0274 1.3 'Transcript and transcript hash calculation
	 * rules') */
	PCITSM_TRY(pcitsm_hash_update(&s->l1, msg, pcitsm_wr_len(&mw)));
	PCITSM_TRY(sess_send(s, msg, pcitsm_wr_len(&mw), w));
	memcpy(s->context, g.context, PCITSM_SPDM_CONTEXT_LEN); /* 1.3: must be echoed */
	if (sign) { /* kept for evidence: the request whose nonce the signature will cover */
		memcpy(s->meas_req, msg, pcitsm_wr_len(&mw));
		s->meas_req_len = pcitsm_wr_len(&mw);
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_session_req_get_measurements(struct pcitsm_spdm_session *s,
						    uint8_t operation, bool sign,
						    struct pcitsm_wr *w)
{
	return sess_get_meas(s, operation, sign, NULL, w);
}

pcitsm_err pcitsm_spdm_session_req_get_measurements_nonce(struct pcitsm_spdm_session *s,
							  uint8_t operation,
							  const uint8_t nonce[PCITSM_SPDM_NONCE_LEN],
							  struct pcitsm_wr *w)
{
	if (!nonce)
		return PCITSM_E_INVAL;
	return sess_get_meas(s, operation, true, nonce, w);
}

/* In session, DSP0274 keeps GET_DIGESTS / GET_CERTIFICATE out of B (no effect on a later
 * CHALLENGE) and out of TH; they restart the session's M like any non-GET_MEASUREMENTS request. */
static pcitsm_err cert_ready(const struct pcitsm_spdm_session *s)
{
	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_ESTABLISHED));
	if (!(s->r->rsp_caps & PCITSM_SPDM_CAP_CERT))
		return PCITSM_E_UNSUPPORTED;
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_session_req_get_digests(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
{
	uint8_t msg[SPDM_HDR_LEN];
	struct pcitsm_wr mw;

	PCITSM_TRY(cert_ready(s));
	pcitsm_wr_init(&mw, msg, sizeof(msg));
	PCITSM_TRY(spdm_enc_get_digests(&mw, s->r->version));
	return sess_send(s, msg, pcitsm_wr_len(&mw), w);
}

pcitsm_err pcitsm_spdm_session_req_get_certificate(struct pcitsm_spdm_session *s,
						   struct pcitsm_wr *w)
{
	struct pcitsm_spdm_req *r = s->r;
	struct spdm_get_cert g = { .slot = s->opts.slot };
	uint8_t msg[16];
	struct pcitsm_wr mw;

	PCITSM_TRY(cert_ready(s));
	if (s->cert_match)
		s->cert_off = 0; /* a finished chain: read it again from the start */
	s->cert_match = false;
	g.offset = s->cert_off;
	g.length = (uint16_t)PCITSM_MIN((size_t)SPDM_CERT_PORTION, r->cfg.data_transfer_size - 8);
	pcitsm_wr_init(&mw, msg, sizeof(msg));
	PCITSM_TRY(spdm_enc_get_certificate(&mw, r->version, &g));
	PCITSM_TRY(sess_send(s, msg, pcitsm_wr_len(&mw), w));
	s->cert_req_len = g.length;
	return PCITSM_OK;
}

static pcitsm_err send_hdr(struct pcitsm_spdm_session *s, uint8_t code, uint8_t p1, uint8_t p2,
			   struct pcitsm_wr *w)
{
	uint8_t msg[SPDM_HDR_LEN];
	struct pcitsm_wr mw;

	pcitsm_wr_init(&mw, msg, sizeof(msg));
	PCITSM_TRY(spdm_enc_hdr(&mw, s->r->version, code, p1, p2));
	return sess_send(s, msg, sizeof(msg), w);
}

pcitsm_err pcitsm_spdm_session_req_heartbeat(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
{
	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_ESTABLISHED));
	if (!(s->r->cfg.caps & s->r->rsp_caps & PCITSM_SPDM_CAP_HBEAT))
		return PCITSM_E_UNSUPPORTED;
	return send_hdr(s, PCITSM_SPDM_HEARTBEAT, 0, 0, w);
}

/*
 * KEY_UPDATE, the key switch order (DSP0274 1.3 KEY_UPDATE, docs/sessions.md): the request always
 * goes out under the current request key. UpdateAllKeys: the ACK comes back under the NEW response
 * key, so the receive key moves on right after sealing the request. UpdateKey: the ACK comes under
 * the current response key. After either ACK the request key moves on and VerifyNewKey is sent
 * under it.
 */
pcitsm_err pcitsm_spdm_session_req_key_update(struct pcitsm_spdm_session *s, uint8_t op,
					      struct pcitsm_wr *w)
{
	uint8_t tag;

	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_ESTABLISHED));
	if (!(s->r->cfg.caps & s->r->rsp_caps & PCITSM_SPDM_CAP_KEY_UPD))
		return PCITSM_E_UNSUPPORTED;
	if (op == SPDM_KU_VERIFY_NEW_KEY ? !s->ku_pending :
	    (op != SPDM_KU_UPDATE_KEY && op != SPDM_KU_UPDATE_ALL_KEYS) || s->ku_pending)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_random(s->r->cfg.env, &tag, 1));
	PCITSM_TRY(send_hdr(s, PCITSM_SPDM_KEY_UPDATE, op, tag, w));
	if (op == SPDM_KU_UPDATE_ALL_KEYS)
		return sess_fail(s, pcitsm_session_key_update(&s->sm, PCITSM_SM_RSP));
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_session_req_end(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
{
	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_ESTABLISHED));
	return send_hdr(s, PCITSM_SPDM_END_SESSION, 0, 0, w);
}

pcitsm_err pcitsm_spdm_session_req_vdm(struct pcitsm_spdm_session *s, uint8_t protocol_id,
				       const uint8_t *payload, size_t len, struct pcitsm_wr *w)
{
	uint8_t vendor[2];
	struct spdm_vdm v = {
		.standard_id = PCITSM_SPDM_STANDARD_PCISIG,
		.vendor_len = sizeof(vendor),
		.vendor_id = vendor,
		.payload_len = (uint16_t)len,
		.payload = payload,
	};
	size_t n = PCITSM_SPDM_VDM_HDR_LEN + len, out_len;
	uint8_t hdr[sizeof(s->req_hdr)];
	struct pcitsm_wr mw;
	uint8_t *out;
	pcitsm_err e;

	PCITSM_TRY(sess_ready(s, PCITSM_SPDM_SESSION_ESTABLISHED));
	if (!payload || !len || payload[0] != protocol_id ||
	    len > PCITSM_SM_MAX_APP - PCITSM_SPDM_VDM_HDR_LEN)
		return PCITSM_E_INVAL;
	pcitsm_put_le16(vendor, PCITSM_SPDM_VENDOR_PCISIG);
	/* The message is encoded where the record will carry it (after SessionID, Length and
	 * AppDataLength) and sealed in place: no copy, no allocation per message. */
	out = pcitsm_wr_reserve(w, n + PCITSM_SM_OVERHEAD);
	if (!out)
		return PCITSM_E_NOSPC;
	pcitsm_wr_init(&mw, out + PCITSM_SM_HDR_LEN + 2, n);
	e = spdm_enc_vdm(&mw, s->r->version, true, &v);
	if (!e && pcitsm_wr_len(&mw) != n)
		e = PCITSM_E_INVAL;
	if (e) {
		pcitsm_wipe(out, n + PCITSM_SM_OVERHEAD);
		return e;
	}
	memcpy(hdr, out + PCITSM_SM_HDR_LEN + 2, sizeof(hdr));
	e = pcitsm_record_seal(&s->sm, out + PCITSM_SM_HDR_LEN + 2, n, out, n + PCITSM_SM_OVERHEAD,
			       &out_len);
	if (e)
		return sess_fail(s, e);
	memcpy(s->req_hdr, hdr, sizeof(hdr));
	s->outstanding = true;
	s->vdm_protocol = protocol_id;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Responses inside the session.
 */
static pcitsm_err on_finish_rsp(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len)
{
	uint8_t th2[PCITSM_HASH_MAX];
	struct spdm_hdr h;
	size_t mlen;
	pcitsm_err e;

	PCITSM_TRY(spdm_dec_hdr_only(p, len, &h, &mlen));
	if (h.param1 || h.param2)
		return PCITSM_E_RESERVED;
	/* TH2 = Hash(A || Hash(Ct) || K || FINISH || FINISH_RSP); application keys from it */
	PCITSM_TRY(pcitsm_hash_update(&s->th, p, mlen));
	PCITSM_TRY(pcitsm_hash_final(&s->th, th2));
	e = pcitsm_session_data_keys(&s->sm, th2);
	pcitsm_wipe(th2, sizeof(th2));
	if (!e)
		s->state = PCITSM_SPDM_SESSION_ESTABLISHED;
	return e;
}

static pcitsm_err on_key_update_ack(struct pcitsm_spdm_session *s, const struct spdm_hdr *h)
{
	uint8_t op = s->req_hdr[2];

	/* The ACK echoes operation and tag (DSP0274 1.3 KEY_UPDATE); anything else is out of
	 * order. */
	if (h->param1 != op || h->param2 != s->req_hdr[3])
		return PCITSM_E_FIELD;
	if (op == SPDM_KU_VERIFY_NEW_KEY) {
		s->ku_pending = 0;
		s->key_updates++;
		return PCITSM_OK;
	}
	/* Now the request key moves on; VerifyNewKey goes under it. */
	PCITSM_TRY(pcitsm_session_key_update(&s->sm, PCITSM_SM_REQ));
	s->ku_pending = op;
	return PCITSM_OK;
}

/* MEASUREMENTS in the session: M and its signature as out of session, with this session's M. */
static pcitsm_err on_measurements(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len)
{
	struct pcitsm_spdm_req *r = s->r;
	bool sign = s->req_hdr[2] & SPDM_MEAS_ATTR_SIG;
	struct spdm_meas m;
	size_t mlen;

	PCITSM_TRY(spdm_dec_measurements(p, len, r->version, sign ? r->sig_len : 0, &m, &mlen));
	/* the same checks as outside a session: count, index, Param1, slot */
	PCITSM_TRY(req_meas_check(&m, s->req_hdr[3], sign, s->opts.slot));
	if (sign && (pcitsm_ct_memneq(m.nonce, s->nonce, PCITSM_SPDM_NONCE_LEN) == 0))
		return PCITSM_E_NONCE; /* our own nonce reflected */
	if (r->version >= PCITSM_SPDM_V13 && sign &&
	    pcitsm_ct_memneq(m.context, s->context, PCITSM_SPDM_CONTEXT_LEN))
		return PCITSM_E_NONCE;
	PCITSM_TRY(pcitsm_hash_update(&s->l1, p, sign ? m.signed_len : mlen));
	if (sign) {
		PCITSM_TRY(spdm_ts_verify(r->version, r->leaf, r->sig, SPDM_CTX_MEASUREMENTS, &s->l1,
					  s->l1_hash, m.signature, r->sig_len));
		PCITSM_TRY(spdm_ts_restart(&s->l1, r->hash, r->vca,
					   r->version >= PCITSM_SPDM_V12 ? r->vca_len : 0));
	}
	if (sign) {
		/* The whole signed response, as evidence beside the request that asked for it. */
		uint8_t *copy = malloc(mlen);

		if (!copy)
			return PCITSM_E_NOMEM;
		memcpy(copy, p, mlen);
		free(s->meas_rsp);
		s->meas_rsp = copy;
		s->meas_rsp_len = mlen;
	}
	free(s->meas);
	s->meas = malloc(m.record_len ? m.record_len : 1);
	if (!s->meas)
		return PCITSM_E_NOMEM;
	memcpy(s->meas, m.record, m.record_len);
	s->meas_len = m.record_len;
	s->meas_nr_blocks = m.nr_blocks;
	s->meas_signed = sign;
	return PCITSM_OK;
}

static pcitsm_err session_m_restart(struct pcitsm_spdm_session *s)
{
	struct pcitsm_spdm_req *r = s->r;

	return spdm_ts_restart(&s->l1, r->hash, r->vca,
			       r->version >= PCITSM_SPDM_V12 ? r->vca_len : 0);
}

/* DIGESTS in the session: our slot's entry is Hash(the chain authenticated before KEY_EXCHANGE). */
static pcitsm_err on_digests(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len)
{
	struct pcitsm_spdm_req *r = s->r;
	uint8_t slot = s->opts.slot, h[PCITSM_HASH_MAX];
	struct spdm_digests d;
	unsigned k = 0;

	PCITSM_TRY(spdm_dec_digests(p, len, r->version, r->hash_len, &d, NULL));
	if (!(d.slot_mask & (1u << slot)))
		return PCITSM_E_FIELD;
	for (unsigned i = 0; i < slot; i++)
		k += (d.slot_mask >> i) & 1;
	PCITSM_TRY(pcitsm_hash(r->hash, r->chain, r->chain_len, h));
	if (pcitsm_ct_memneq(h, d.digests + (size_t)k * r->hash_len, r->hash_len))
		return PCITSM_E_HASH;
	s->digests_match = true;
	return session_m_restart(s);
}

/* CERTIFICATE in the session: each portion must be the validated chain's bytes at that offset and
 * the lengths must add up to it, so the chain read here is the one whose leaf signed
 * KEY_EXCHANGE_RSP (and so matches its digest). */
static pcitsm_err on_certificate(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len)
{
	struct pcitsm_spdm_req *r = s->r;
	struct spdm_cert c;

	PCITSM_TRY(spdm_dec_certificate(p, len, r->version, &c, NULL));
	if (c.slot != s->opts.slot || c.portion_len == 0 || c.portion_len > s->cert_req_len)
		return PCITSM_E_FIELD;
	if ((size_t)s->cert_off + c.portion_len + c.remainder_len != r->chain_len ||
	    pcitsm_ct_memneq(c.portion, r->chain + s->cert_off, c.portion_len))
		return PCITSM_E_CERT;
	s->cert_off = (uint16_t)(s->cert_off + c.portion_len);
	s->cert_match = c.remainder_len == 0;
	return session_m_restart(s);
}

static pcitsm_err on_vdm(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len,
			 struct pcitsm_wr *out)
{
	struct spdm_vdm v;

	PCITSM_TRY(spdm_dec_vdm(p, len, &v, NULL));
	if (!spdm_vdm_is_pcisig(&v) || v.payload[0] != s->vdm_protocol)
		return PCITSM_E_FIELD;
	if (!out)
		return PCITSM_E_INVAL;
	pcitsm_wr_bytes(out, v.payload, v.payload_len);
	return pcitsm_wr_err(out);
}

/* The plaintext response to the outstanding request. end: the session ends after it. */
static pcitsm_err on_secured(struct pcitsm_spdm_session *s, const uint8_t *p, size_t len,
			     struct pcitsm_wr *out, bool *end)
{
	uint8_t code = s->req_hdr[1];
	struct spdm_hdr h;
	pcitsm_err e;

	PCITSM_TRY(spdm_peek_hdr(p, len, &h));
	if (h.code == PCITSM_SPDM_ERROR) {
		e = on_peer_error(s, p, len);
		/* DecryptError: the responder has ended the session (docs/sessions.md). So has a
		 * failed handshake, and a refused KEY_UPDATE leaves the keys out of step. */
		*end = s->peer_error == PCITSM_SPDM_ERR_DECRYPT_ERROR ||
		       code == PCITSM_SPDM_FINISH || code == PCITSM_SPDM_KEY_UPDATE;
		return e;
	}
	if (h.version != s->r->version)
		return *end = true, PCITSM_E_VERSION;
	if (h.code != (code & 0x7f))
		return *end = true, PCITSM_E_UNEXPECTED;
	switch (code) {
	case PCITSM_SPDM_FINISH:
		*end = true; /* until it succeeds */
		PCITSM_TRY(on_finish_rsp(s, p, len));
		*end = false;
		return PCITSM_OK;
	case PCITSM_SPDM_END_SESSION:
		*end = true;
		PCITSM_TRY(spdm_dec_hdr_only(p, len, &h, NULL));
		return h.param1 || h.param2 ? PCITSM_E_RESERVED : PCITSM_OK;
	case PCITSM_SPDM_HEARTBEAT:
		PCITSM_TRY(spdm_dec_hdr_only(p, len, &h, NULL));
		if (h.param1 || h.param2)
			return PCITSM_E_RESERVED;
		s->heartbeats++;
		return PCITSM_OK;
	case PCITSM_SPDM_KEY_UPDATE:
		*end = true;
		PCITSM_TRY(spdm_dec_hdr_only(p, len, &h, NULL));
		PCITSM_TRY(on_key_update_ack(s, &h));
		*end = false;
		return PCITSM_OK;
	case PCITSM_SPDM_GET_MEASUREMENTS:
		return on_measurements(s, p, len);
	case PCITSM_SPDM_GET_DIGESTS:
		return on_digests(s, p, len);
	case PCITSM_SPDM_GET_CERTIFICATE:
		return on_certificate(s, p, len);
	case PCITSM_SPDM_VENDOR_DEFINED_REQUEST:
		return on_vdm(s, p, len, out);
	default:
		return PCITSM_E_STATE;
	}
}

pcitsm_err pcitsm_spdm_session_feed(struct pcitsm_spdm_session *s, uint8_t *rec, size_t len,
				    struct pcitsm_wr *vdm_out)
{
	size_t n, off;
	uint32_t id;
	bool end = false;
	pcitsm_err e;

	if ((s->state != PCITSM_SPDM_SESSION_HANDSHAKE &&
	     s->state != PCITSM_SPDM_SESSION_ESTABLISHED) || !s->outstanding)
		return PCITSM_E_STATE;
	e = pcitsm_record_session_id(rec, len, &id);
	if (e)
		return sess_fail(s, e); /* not even a Session ID: the answer is broken */
	if (id != s->sm.id)
		return PCITSM_E_NOTFOUND; /* another session's record: nothing changes */
	s->outstanding = false;
	/* Opened in place: the plaintext replaces the ciphertext in the caller's buffer (no
	 * allocation per message) and is wiped there once handled. */
	off = PCITSM_MIN(len, (size_t)PCITSM_SM_HDR_LEN);
	e = pcitsm_record_open(&s->sm, rec, len, rec + off, len - off, &n);
	if (e)
		end = true; /* a record that does not open ends the session (docs/sessions.md) */
	else
		e = on_secured(s, rec + off, n, vdm_out, &end);
	pcitsm_wipe(rec + off, len - off);
	if (e == PCITSM_E_PEER_ERROR && !end)
		return e;
	if (e || end) {
		pcitsm_err why = e ? e : PCITSM_OK;

		if (why == PCITSM_OK) { /* END_SESSION_ACK: a clean end */
			pcitsm_spdm_session_wipe(s);
			return PCITSM_OK;
		}
		return sess_fail(s, why);
	}
	return PCITSM_OK;
}
