/* SPDX-License-Identifier: MIT */
/*
 * The authentication driver: runs the requester engine over a transport (DOE vendor 0x0001,
 * type 1 objects): VCA, GET_DIGESTS, GET_CERTIFICATE in portions, CHALLENGE, GET_MEASUREMENTS,
 * with Busy (bounded retry), ResponseNotReady (wait, RESPOND_IF_READY) and RequestResynch
 * (restart at GET_VERSION, bounded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/spdm_driver.h"
#include "req_priv.h"

/* Request and response buffers: a request is at most NEGOTIATE_ALGORITHMS' 128 bytes; a response
 * at most our DataTransferSize, plus DOE padding. */
#define DRV_REQ_MAX 256

const char *pcitsm_spdm_step_name(enum pcitsm_spdm_step s)
{
	static const char *const names[] = {
		[PCITSM_SPDM_STEP_NONE] = "none",
		[PCITSM_SPDM_STEP_VERSION] = "GET_VERSION",
		[PCITSM_SPDM_STEP_CAPABILITIES] = "GET_CAPABILITIES",
		[PCITSM_SPDM_STEP_ALGORITHMS] = "NEGOTIATE_ALGORITHMS",
		[PCITSM_SPDM_STEP_DIGESTS] = "GET_DIGESTS",
		[PCITSM_SPDM_STEP_CERTIFICATE] = "GET_CERTIFICATE",
		[PCITSM_SPDM_STEP_CHALLENGE] = "CHALLENGE",
		[PCITSM_SPDM_STEP_MEASUREMENTS] = "GET_MEASUREMENTS",
	};

	if ((unsigned)s >= PCITSM_ARRAY_SIZE(names))
		return "unknown";
	return names[s];
}

void pcitsm_spdm_auth_opts_default(struct pcitsm_spdm_auth_opts *o, const struct pcitsm_env *env)
{
	memset(o, 0, sizeof(*o));
	pcitsm_spdm_req_cfg_default(&o->cfg, env);
	o->meas = PCITSM_SPDM_MEAS_ALL;
}

pcitsm_err pcitsm_spdm_drv_req_exchange(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
					pcitsm_spdm_build_fn build, const void *arg)
{
	uint8_t req[DRV_REQ_MAX];
	size_t cap = r->cfg.data_transfer_size + 4, rsp_len;
	uint8_t *rsp = malloc(cap);
	struct pcitsm_wr w;
	pcitsm_err e;

	if (!rsp)
		return PCITSM_E_NOMEM;
	pcitsm_wr_init(&w, req, sizeof(req));
	e = build(r, &w, arg);
	while (e == PCITSM_OK) {
		e = pcitsm_xport_exchange(x, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA, req,
					  pcitsm_wr_len(&w), rsp, cap, &rsp_len);
		if (e != PCITSM_OK) {
			(void)req_fail(r, e);
			break;
		}
		e = pcitsm_spdm_req_feed(r, rsp, rsp_len);
		if (e != PCITSM_E_PEER_BUSY || r->retry == PCITSM_SPDM_RETRY_RESYNCH)
			break;
		if (r->retry == PCITSM_SPDM_RETRY_NOT_READY)
			pcitsm_sleep_ns(r->cfg.env, r->retry_ns);
		pcitsm_wr_init(&w, req, sizeof(req));
		e = pcitsm_spdm_req_retry(r, &w);
	}
	free(rsp);
	return e;
}

/* Builders with their arguments, for pcitsm_spdm_drv_req_exchange. */
static pcitsm_err b_version(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_req_get_version(r, w);
}

static pcitsm_err b_caps(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_req_get_capabilities(r, w);
}

static pcitsm_err b_algs(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_req_negotiate_algorithms(r, w);
}

static pcitsm_err b_digests(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_req_get_digests(r, w);
}

static pcitsm_err b_cert(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	const struct pcitsm_spdm_auth_opts *o = arg;
	return pcitsm_spdm_req_get_certificate(r, o->slot, w);
}

static pcitsm_err b_challenge(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	const struct pcitsm_spdm_auth_opts *o = arg;
	return pcitsm_spdm_req_challenge(r, o->slot, o->summary_type, w);
}

static pcitsm_err b_meas(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	const struct pcitsm_spdm_auth_opts *o = arg;
	uint8_t op = o->meas == PCITSM_SPDM_MEAS_ONE ? o->meas_index : 0xff;

	return pcitsm_spdm_req_get_measurements(r, op, !o->meas_unsigned, o->slot, w);
}

struct drv {
	struct pcitsm_spdm_req *r;
	struct pcitsm_xport *x;
	const struct pcitsm_spdm_auth_opts *o;
	struct pcitsm_spdm_auth_result *res;
};

static pcitsm_err drv_step(struct drv *d, enum pcitsm_spdm_step step, pcitsm_spdm_build_fn fn)
{
	pcitsm_err e;

	d->res->failed_step = step;
	e = pcitsm_spdm_drv_req_exchange(d->r, d->x, fn, d->o);
	d->res->busy_retries += d->r->busy_retries;
	d->res->not_ready_waits += d->r->not_ready_waits;
	return e;
}

/* The sequence, each step in its place (DSP0274 1.3). */
static pcitsm_err drv_run(struct drv *d)
{
	const struct pcitsm_spdm_auth_opts *o = d->o;
	struct pcitsm_spdm_req *r = d->r;

	PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_VERSION, b_version));
	PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_CAPABILITIES, b_caps));
	PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_ALGORITHMS, b_algs));
	if (!(r->rsp_caps & PCITSM_SPDM_CAP_CERT))
		return PCITSM_E_UNSUPPORTED; /* nothing to authenticate against */
	PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_DIGESTS, b_digests));
	if (!(r->slot_mask & (1u << o->slot)))
		return PCITSM_E_NOTFOUND;
	do
		PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_CERTIFICATE, b_cert));
	while (!pcitsm_spdm_req_chain_complete(r));
	if (!o->skip_challenge && (r->rsp_caps & PCITSM_SPDM_CAP_CHAL))
		PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_CHALLENGE, b_challenge));
	if (o->meas != PCITSM_SPDM_MEAS_NONE)
		PCITSM_TRY(drv_step(d, PCITSM_SPDM_STEP_MEASUREMENTS, b_meas));
	d->res->failed_step = PCITSM_SPDM_STEP_NONE;
	return PCITSM_OK;
}

/* Hand what the engine learnt to the result (ownership of chain, key and record moves; with keep
 * the chain and key are copied, so that the engine can go on to sessions). */
static void drv_collect(struct pcitsm_spdm_req *r, struct pcitsm_spdm_auth_result *res, bool keep)
{
	size_t off = 0;

	res->version = r->version;
	res->rsp_caps = r->rsp_caps;
	res->base_asym = r->base_asym;
	res->base_hash = r->base_hash;
	res->meas_hash = r->meas_hash;
	res->meas_spec = r->meas_spec;
	res->other_params = r->other_params;
	memcpy(res->vca, r->vca, r->vca_len);
	res->vca_len = r->vca_len;
	res->slot_mask = r->slot_mask;
	memcpy(res->digests, r->digests, sizeof(res->digests));
	res->hash_len = r->hash_len;
	if (r->chain_done && keep) {
		res->chain = malloc(r->chain_len);
		if (res->chain) {
			memcpy(res->chain, r->chain, r->chain_len);
			res->chain_len = r->chain_len;
			res->certs_off = 4 + r->hash_len;
		}
		if (r->leaf && EVP_PKEY_up_ref(r->leaf))
			res->leaf_pub = r->leaf;
	} else if (r->chain_done) {
		res->chain = r->chain;
		res->chain_len = r->chain_len;
		res->certs_off = 4 + r->hash_len;
		r->chain = NULL;
		res->leaf_pub = r->leaf;
		r->leaf = NULL;
	}
	res->chain_trusted = r->chain_trusted;
	snprintf(res->chain_why, sizeof(res->chain_why), "%s", r->chain_why);
	res->challenged = r->challenged;
	memcpy(res->m1_hash, r->m1_hash, sizeof(res->m1_hash));
	memcpy(res->meas_summary, r->meas_summary, sizeof(res->meas_summary));
	res->meas_signed = r->meas_signed;
	memcpy(res->l1_hash, r->l1_hash, sizeof(res->l1_hash));
	res->meas = r->meas;
	res->meas_len = r->meas_len;
	r->meas = NULL;
	memcpy(res->meas_req, r->meas_req, r->meas_req_len);
	res->meas_req_len = r->meas_req_len;
	res->meas_rsp = r->meas_rsp;
	res->meas_rsp_len = r->meas_rsp_len;
	r->meas_rsp = NULL;
	r->meas_rsp_len = 0;
	memcpy(res->meas_nonce, r->nonce, sizeof(res->meas_nonce));
	res->peer_error = r->peer_error;
	res->peer_error_data = r->peer_error_data;
	memcpy(res->peer_versions, r->peer_versions, sizeof(res->peer_versions));
	res->nr_peer_versions = r->nr_peer_versions;
	while (res->nr_blocks < PCITSM_SPDM_MAX_MEAS_BLOCKS &&
	       pcitsm_spdm_meas_next(res->meas, res->meas_len, &off,
				     &res->blocks[res->nr_blocks]) == PCITSM_OK)
		res->nr_blocks++;
}

static void drv_explain(struct pcitsm_spdm_auth_result *res)
{
	const char *step = pcitsm_spdm_step_name(res->failed_step);

	if (res->err == PCITSM_OK)
		return;
	if (res->err == PCITSM_E_VERSION && res->failed_step == PCITSM_SPDM_STEP_VERSION &&
	    res->nr_peer_versions) {
		char offered[8 * PCITSM_SPDM_PEER_VERSIONS];

		pcitsm_spdm_version_list_str(res->peer_versions, res->nr_peer_versions, offered,
					     sizeof(offered));
		if (res->min_version == res->max_version)
			snprintf(res->why, sizeof(res->why), "device offers SPDM %s; pcitsm accepts %u.%u",
				 offered, (unsigned)res->min_version >> 4, res->min_version & 0xfu);
		else
			snprintf(res->why, sizeof(res->why),
				 "device offers SPDM %s; pcitsm accepts %u.%u\xe2\x80\x93%u.%u", offered,
				 (unsigned)res->min_version >> 4, res->min_version & 0xfu,
				 (unsigned)res->max_version >> 4, res->max_version & 0xfu);
	} else if (res->err == PCITSM_E_PEER_ERROR)
		snprintf(res->why, sizeof(res->why), "%s: responder answered ERROR %s (0x%02x, data 0x%02x)",
			 step, pcitsm_spdm_error_name(res->peer_error), res->peer_error,
			 res->peer_error_data);
	else if (res->chain_why[0] && res->failed_step == PCITSM_SPDM_STEP_CERTIFICATE)
		snprintf(res->why, sizeof(res->why), "%s: %s: %s", step, pcitsm_err_str(res->err),
			 res->chain_why);
	else
		snprintf(res->why, sizeof(res->why), "%s: %s (%s)", step, pcitsm_err_str(res->err),
			 pcitsm_err_name(res->err));
}

static pcitsm_err drv_authenticate(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
				   const struct pcitsm_spdm_auth_opts *o,
				   struct pcitsm_spdm_auth_result *res, bool keep)
{
	struct pcitsm_spdm_req_cfg cfg = o->cfg;
	struct drv d = { r, x, o, res };
	pcitsm_err e;

	memset(res, 0, sizeof(*res));
	res->slot = o->slot;
	res->min_version = o->cfg.min_version;
	res->max_version = o->cfg.max_version;
	cfg.allow_untrusted |= o->allow_untrusted;
	e = pcitsm_spdm_req_init(r, &cfg);
	if (e == PCITSM_OK) {
		for (;;) {
			e = drv_run(&d);
			/* RequestResynch: start again at GET_VERSION, a bounded number of times. */
			if (e != PCITSM_E_PEER_BUSY || r->retry != PCITSM_SPDM_RETRY_RESYNCH ||
			    res->resynchs >= PCITSM_SPDM_RESYNCH_RETRIES)
				break;
			res->resynchs++;
			pcitsm_spdm_req_reset(r);
		}
		drv_collect(r, res, keep);
	}
	res->err = e;
	drv_explain(res);
	if (e)
		pcitsm_debug(cfg.env, "spdm: authentication failed: %s", res->why);
	return e;
}

pcitsm_err pcitsm_spdm_drv_req_authenticate(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
					    const struct pcitsm_spdm_auth_opts *o,
					    struct pcitsm_spdm_auth_result *res)
{
	return drv_authenticate(r, x, o, res, true);
}

pcitsm_err pcitsm_spdm_drv_authenticate(struct pcitsm_xport *x,
					const struct pcitsm_spdm_auth_opts *o,
					struct pcitsm_spdm_auth_result *res)
{
	struct pcitsm_spdm_req r;
	pcitsm_err e;

	e = drv_authenticate(&r, x, o, res, false);
	pcitsm_spdm_req_free(&r);
	return e;
}

void pcitsm_spdm_auth_result_free(struct pcitsm_spdm_auth_result *res)
{
	free(res->chain);
	res->chain = NULL;
	EVP_PKEY_free(res->leaf_pub);
	res->leaf_pub = NULL;
	free(res->meas);
	res->meas = NULL;
	res->nr_blocks = 0;
	free(res->meas_rsp);
	res->meas_rsp = NULL;
	res->meas_rsp_len = 0;
}
