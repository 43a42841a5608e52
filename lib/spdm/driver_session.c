/* SPDX-License-Identifier: MIT */
/*
 * The session driver: the session engine over a transport. KEY_EXCHANGE travels as a CMA-SPDM
 * object (DOE type 1), everything after it as secured CMA-SPDM objects (type 2, PCIe 6.x §6.31).
 * Inside a session there is no retry: a lost message breaks the lockstep of the implicit counters
 * (DSP0277 sequence numbers and AEAD nonce), so any transport error ends the session.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/spdm_driver.h"
#include "req_priv.h"

typedef pcitsm_err (*sess_build_fn)(struct pcitsm_spdm_session *s, struct pcitsm_wr *w,
				    const void *arg);

/* One secured exchange: build, send as type 2, feed the answer. */
static pcitsm_err sess_exchange(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
				sess_build_fn build, const void *arg, size_t req_max,
				struct pcitsm_wr *vdm_out)
{
	size_t rsp_cap = (s->r ? s->r->cfg.data_transfer_size : 4096) + PCITSM_SM_OVERHEAD + 4;
	size_t rsp_len;
	uint8_t *req = malloc(req_max), *rsp = malloc(rsp_cap);
	struct pcitsm_wr w;
	pcitsm_err e;

	if (!req || !rsp) {
		e = PCITSM_E_NOMEM;
		goto out;
	}
	pcitsm_wr_init(&w, req, req_max);
	e = build(s, &w, arg);
	if (e)
		goto out;
	e = pcitsm_xport_exchange(x, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_SECURED_CMA, req,
				  pcitsm_wr_len(&w), rsp, rsp_cap, &rsp_len);
	/* The device chose silence (a VDM it ignores): nothing was sealed back, so the counters
	 * still agree; only that request is done. Not after FINISH or KEY_UPDATE: without their
	 * answer the keys are out of step, as after an ERROR to them, and the session ends. */
	if ((e == PCITSM_E_NORESPONSE || e == PCITSM_E_TIMEOUT) &&
	    s->req_hdr[1] != PCITSM_SPDM_FINISH && s->req_hdr[1] != PCITSM_SPDM_KEY_UPDATE) {
		s->outstanding = false;
		goto out;
	}
	if (e) {
		if (!s->err)
			s->err = e;
		pcitsm_spdm_session_wipe(s);
		goto out;
	}
	e = pcitsm_spdm_session_feed(s, rsp, rsp_len, vdm_out);
out:
	if (req)
		pcitsm_wipe(req, req_max);
	if (rsp)
		pcitsm_wipe(rsp, rsp_cap);
	free(req);
	free(rsp);
	return e;
}

/* KEY_EXCHANGE is plain: built here, sent as type 1. */
static pcitsm_err sess_key_exchange(struct pcitsm_spdm_session *s, struct pcitsm_spdm_req *r,
				    struct pcitsm_xport *x,
				    const struct pcitsm_spdm_session_opts *o)
{
	uint8_t req[64 + PCITSM_DHE_PUB_MAX + PCITSM_SM_OPAQUE_MAX];
	size_t rsp_cap = r->cfg.data_transfer_size + 4, rsp_len;
	uint8_t *rsp = malloc(rsp_cap);
	struct pcitsm_wr w;
	pcitsm_err e;

	if (!rsp)
		return PCITSM_E_NOMEM;
	pcitsm_wr_init(&w, req, sizeof(req));
	e = pcitsm_spdm_session_req_key_exchange(s, r, o, &w);
	if (!e)
		e = pcitsm_xport_exchange(x, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA, req,
					  pcitsm_wr_len(&w), rsp, rsp_cap, &rsp_len);
	if (!e)
		e = pcitsm_spdm_session_feed_plain(s, rsp, rsp_len);
	else if (s->state != PCITSM_SPDM_SESSION_NONE) {
		if (!s->err)
			s->err = e;
		pcitsm_spdm_session_wipe(s);
	}
	free(rsp);
	return e;
}

static pcitsm_err b_finish(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_session_req_finish(s, w);
}

pcitsm_err pcitsm_spdm_drv_session_open(struct pcitsm_spdm_session *s, struct pcitsm_spdm_req *r,
					struct pcitsm_xport *x,
					const struct pcitsm_spdm_session_opts *o)
{
	struct pcitsm_spdm_session_opts dflt;

	if (!o) {
		pcitsm_spdm_session_opts_default(&dflt);
		o = &dflt;
	}
	PCITSM_TRY(sess_key_exchange(s, r, x, o));
	return sess_exchange(s, x, b_finish, NULL, 256, NULL);
}

struct meas_arg {
	uint8_t op;
	bool sign;
	const uint8_t *nonce; /* the caller's, or NULL */
};

static pcitsm_err b_meas(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	const struct meas_arg *a = arg;

	if (a->nonce)
		return pcitsm_spdm_session_req_get_measurements_nonce(s, a->op, a->nonce, w);
	return pcitsm_spdm_session_req_get_measurements(s, a->op, a->sign, w);
}

pcitsm_err pcitsm_spdm_drv_session_measurements(struct pcitsm_spdm_session *s,
						struct pcitsm_xport *x, uint8_t operation,
						bool sign)
{
	struct meas_arg a = { operation, sign, NULL };

	return sess_exchange(s, x, b_meas, &a, 256, NULL);
}

pcitsm_err pcitsm_spdm_drv_session_measurements_nonce(struct pcitsm_spdm_session *s,
						      struct pcitsm_xport *x, uint8_t operation,
						      const uint8_t nonce[PCITSM_SPDM_NONCE_LEN])
{
	struct meas_arg a = { operation, true, nonce };

	if (!nonce)
		return PCITSM_E_INVAL;
	return sess_exchange(s, x, b_meas, &a, 256, NULL);
}

static pcitsm_err b_heartbeat(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_session_req_heartbeat(s, w);
}

pcitsm_err pcitsm_spdm_drv_session_heartbeat(struct pcitsm_spdm_session *s, struct pcitsm_xport *x)
{
	return sess_exchange(s, x, b_heartbeat, NULL, 64, NULL);
}

static pcitsm_err b_digests(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_session_req_get_digests(s, w);
}

pcitsm_err pcitsm_spdm_drv_session_get_digests(struct pcitsm_spdm_session *s,
					       struct pcitsm_xport *x)
{
	return sess_exchange(s, x, b_digests, NULL, 64, NULL);
}

static pcitsm_err b_certificate(struct pcitsm_spdm_session *s, struct pcitsm_wr *w,
				const void *arg)
{
	return pcitsm_spdm_session_req_get_certificate(s, w);
}

/* Portions until the chain is complete; each one is checked as it arrives. */
pcitsm_err pcitsm_spdm_drv_session_get_certificate(struct pcitsm_spdm_session *s,
						   struct pcitsm_xport *x)
{
	s->cert_off = 0;
	s->cert_match = false;
	do
		PCITSM_TRY(sess_exchange(s, x, b_certificate, NULL, 64, NULL));
	while (!s->cert_match);
	return PCITSM_OK;
}

static pcitsm_err b_key_update(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_session_req_key_update(s, *(const uint8_t *)arg, w);
}

pcitsm_err pcitsm_spdm_drv_session_key_update(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
					      bool all)
{
	uint8_t op = all ? SPDM_KU_UPDATE_ALL_KEYS : SPDM_KU_UPDATE_KEY;
	uint8_t verify = SPDM_KU_VERIFY_NEW_KEY;

	PCITSM_TRY(sess_exchange(s, x, b_key_update, &op, 64, NULL));
	return sess_exchange(s, x, b_key_update, &verify, 64, NULL);
}

static pcitsm_err b_end(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_session_req_end(s, w);
}

pcitsm_err pcitsm_spdm_drv_session_end(struct pcitsm_spdm_session *s, struct pcitsm_xport *x)
{
	pcitsm_err e = sess_exchange(s, x, b_end, NULL, 64, NULL);

	pcitsm_spdm_session_wipe(s); /* whatever the answer, this side is done */
	return e;
}

struct vdm_arg {
	uint8_t protocol_id;
	const uint8_t *req;
	size_t len;
};

static pcitsm_err b_vdm(struct pcitsm_spdm_session *s, struct pcitsm_wr *w, const void *arg)
{
	const struct vdm_arg *a = arg;

	return pcitsm_spdm_session_req_vdm(s, a->protocol_id, a->req, a->len, w);
}

pcitsm_err pcitsm_spdm_drv_vdm_call(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
				    uint8_t protocol_id, const uint8_t *req, size_t len,
				    struct pcitsm_wr *rsp)
{
	struct vdm_arg a = { protocol_id, req, len };

	if (!s || !x || !rsp)
		return PCITSM_E_INVAL;
	if (s->state != PCITSM_SPDM_SESSION_ESTABLISHED)
		return PCITSM_E_STATE;
	return sess_exchange(s, x, b_vdm, &a, len + PCITSM_SPDM_VDM_HDR_LEN + PCITSM_SM_OVERHEAD,
			     rsp);
}
