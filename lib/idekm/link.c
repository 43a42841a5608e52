/* SPDX-License-Identifier: MIT */
/*
 * The one IDE_KM programming sequence of a link (include/pcitsm/idekm.h, docs/idekm.md "One
 * programming sequence"): QUERY with the QUERY_RESP cross-check, KEY_PROG x 6 at the device and the
 * mirror image at the partner port, K_SET_GO of the receivers at both ends before any transmitter
 * (PCIe 6.x §6.33.3: K_SET_GO; §6.33: a transmitter must not use a key set its receiver cannot
 * take), then Enable. Both the platform-firmware TSM and `pcitsm connect tcp:` run it; what
 * differs between them (the transport to the device, the root port's key path, who sets Enable)
 * comes in through the ops.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/idekm.h"

#define LINK_REQ_MAX (PCITSM_IDEKM_KEY_PROG_LEN + 8)
#define LINK_ACK_MAX 64

static const char *const link_step_names[] = {
#define PCITSM_IDEKM_LINK_NAME(n, s) s,
	PCITSM_IDEKM_LINK_STEPS(PCITSM_IDEKM_LINK_NAME)
#undef PCITSM_IDEKM_LINK_NAME
};

const char *pcitsm_idekm_link_step_name(enum pcitsm_idekm_link_step s)
{
	return (unsigned)s < PCITSM_ARRAY_SIZE(link_step_names) ? link_step_names[s] : "unknown";
}

static const char *const sub_names[] = { "PR", "NPR", "CPL" };

static const char *dir_name(enum pcitsm_ide_dir d)
{
	return d == PCITSM_IDE_RX ? "Rx" : "Tx";
}

static enum pcitsm_ide_dir other_dir(enum pcitsm_ide_dir d)
{
	return d == PCITSM_IDE_RX ? PCITSM_IDE_TX : PCITSM_IDE_RX;
}

/* One line per operation, the order tests read back. No key bytes. */
static void link_log(const struct pcitsm_env *env, const char *op, unsigned kset,
		     enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub, const char *where)
{
	pcitsm_debug(env, "idekm link: %s K%u %s %s at the %s", op, kset, dir_name(dir),
		     sub_names[sub], where);
}

/* One request (already built into req) to the device and the requester's check of the answer. */
static pcitsm_err device_exchange(struct pcitsm_idekm_req *rq,
				  const struct pcitsm_idekm_link_ops *ops, void *arg,
				  const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
				  size_t *rsp_len, struct pcitsm_idekm_query_resp *qr)
{
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, rsp, cap);
	e = ops->device_call(arg, req, len, &w);
	if (!e)
		e = pcitsm_wr_err(&w);
	if (e) {
		pcitsm_idekm_req_abandon(rq);
		return e;
	}
	if (rsp_len)
		*rsp_len = pcitsm_wr_len(&w);
	return pcitsm_idekm_req_response(rq, rsp, pcitsm_wr_len(&w), qr);
}

static pcitsm_err fail_at(struct pcitsm_idekm_link_result *res, enum pcitsm_idekm_link_step step,
			  bool at_partner, pcitsm_err e, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static pcitsm_err fail_at(struct pcitsm_idekm_link_result *res, enum pcitsm_idekm_link_step step,
			  bool at_partner, pcitsm_err e, const char *fmt, ...)
{
	va_list ap;

	res->step = step;
	res->at_partner = at_partner;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return e;
}

static pcitsm_err step_done(const struct pcitsm_idekm_link_ops *ops, void *arg,
			    struct pcitsm_idekm_link_result *res, enum pcitsm_idekm_link_step step)
{
	pcitsm_err e = ops->step_done ? ops->step_done(arg, step) : PCITSM_OK;

	if (e)
		return fail_at(res, step, false, e, "stopped after %s: %s",
			       pcitsm_idekm_link_step_name(step), pcitsm_err_str(e));
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Step 1: QUERY, and QUERY_RESP against the device's config space (downgrade protection).
 */
static pcitsm_err link_query(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
			     const struct pcitsm_idekm_link_ops *ops, void *arg,
			     const struct pcitsm_idekm_link_opts *o, struct pcitsm_idekm_link_result *res)
{
	uint8_t req[16];
	uint8_t *rsp = malloc(PCITSM_IDEKM_MSG_MAX);
	struct pcitsm_idekm_query_resp *qr = malloc(sizeof(*qr));
	struct pcitsm_idekm_mismatch mm;
	struct pcitsm_wr w;
	size_t n = 0;
	pcitsm_err e;

	if (!rsp || !qr) {
		free(rsp);
		free(qr);
		return fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, PCITSM_E_NOMEM, "out of memory");
	}
	pcitsm_debug(env, "idekm link: QUERY PortIndex %u at the device", o->port_index);
	pcitsm_wr_init(&w, req, sizeof(req));
	e = pcitsm_idekm_req_query(rq, o->port_index, &w);
	if (!e)
		e = device_exchange(rq, ops, arg, req, pcitsm_wr_len(&w), rsp, PCITSM_IDEKM_MSG_MAX,
				    &n, qr);
	if (e == PCITSM_E_SHORT || e == PCITSM_E_LONG || e == PCITSM_E_RANGE) {
		char why[sizeof(res->why)];

		pcitsm_idekm_query_resp_explain(rsp, n, why, sizeof(why));
		fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, e, "%s", why);
		goto out;
	}
	if (e == PCITSM_E_UNEXPECTED && n >= 4 && rsp[1] == PCITSM_IDEKM_QUERY_RESP) {
		fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, e,
			"QUERY_RESP for PortIndex %u, expected %u (the index of the QUERY)", rsp[3],
			o->port_index);
		goto out;
	}
	if (e) {
		fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, e, "QUERY PortIndex %u: %s",
			o->port_index, pcitsm_err_str(e));
		goto out;
	}
	res->max_port_index = qr->max_port_index;
	res->bus = qr->bus;
	res->dev_func = qr->dev_func;
	res->nr_link = qr->nr_link;
	res->nr_sel = qr->nr_sel;
	if (o->dev_cfg) {
		memset(&mm, 0, sizeof(mm));
		e = pcitsm_idekm_query_resp_check(qr, o->dev_cfg, o->dev_ide_off, o->dev_bdf, &mm);
		if (e == PCITSM_E_MISMATCH) {
			fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, e,
				"QUERY_RESP %s: device 0x%08x, config space 0x%08x", mm.name,
				(unsigned)mm.device, (unsigned)mm.host);
			goto out;
		}
		if (e) {
			fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, e,
				"the device's IDE capability in config space: %s", pcitsm_err_str(e));
			goto out;
		}
		res->cross_checked = true;
	}
	if (!qr->nr_sel)
		e = fail_at(res, PCITSM_IDEKM_LINK_QUERY, false, PCITSM_E_UNSUPPORTED,
			    "QUERY_RESP: the device has no Selective IDE stream (IDE Capability "
			    "register 0x%08x)", (unsigned)qr->ide_cap);
out:
	free(rsp);
	free(qr);
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Step 2: KEY_PROG, slot by slot, device then partner.
 */
static pcitsm_err link_key_prog(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
				const struct pcitsm_idekm_link_ops *ops, void *arg,
				const struct pcitsm_idekm_link_opts *o,
				const struct pcitsm_idekm_keys *k, struct pcitsm_idekm_link_result *res)
{
	struct pcitsm_idekm_key_prog kp;
	uint8_t req[LINK_REQ_MAX], rsp[LINK_ACK_MAX];
	struct pcitsm_wr w;
	pcitsm_err e = PCITSM_OK;

	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		e = pcitsm_idekm_keys_key_prog(k, i, o->port_index, &kp);
		if (e)
			break;
		link_log(env, "KEY_PROG", kp.ks.kset, kp.ks.dir, kp.ks.sub, "device");
		pcitsm_wr_init(&w, req, sizeof(req));
		e = pcitsm_idekm_req_key_prog(rq, &kp, &w);
		if (!e)
			e = device_exchange(rq, ops, arg, req, pcitsm_wr_len(&w), rsp, sizeof(rsp),
					    NULL, NULL);
		pcitsm_wipe(req, sizeof(req));
		if (e == PCITSM_E_PEER_ERROR) {
			res->kp_status = rq->kp_status;
			fail_at(res, PCITSM_IDEKM_LINK_KEY_PROG, false, e,
				"KEY_PROG %s %s at the device: KP_ACK status %u (%s)",
				dir_name(kp.ks.dir), sub_names[kp.ks.sub], rq->kp_status,
				pcitsm_idekm_kp_status_str(rq->kp_status));
			break;
		}
		if (e) {
			fail_at(res, PCITSM_IDEKM_LINK_KEY_PROG, false, e,
				"KEY_PROG %s %s at the device: %s", dir_name(kp.ks.dir),
				sub_names[kp.ks.sub], pcitsm_err_str(e));
			break;
		}
		res->dev_keyed = i + 1;
		/* The partner sends what the device receives, and the other way round. */
		link_log(env, "KEY_PROG", kp.ks.kset, other_dir(kp.ks.dir), kp.ks.sub, "partner");
		e = ops->partner->key_prog(o->partner_port, kp.ks.stream_id, kp.ks.kset,
					   other_dir(kp.ks.dir), kp.ks.sub, kp.key, kp.ifv);
		if (e) {
			fail_at(res, PCITSM_IDEKM_LINK_KEY_PROG, true, e,
				"KEY_PROG %s %s at the partner port: %s", dir_name(other_dir(kp.ks.dir)),
				sub_names[kp.ks.sub], pcitsm_err_str(e));
			break;
		}
		res->partner_keyed = i + 1;
	}
	pcitsm_wipe(&kp, sizeof(kp));
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Step 3 (and the stop): K_SET_GO / K_SET_STOP of one slot at the device.
 */
static pcitsm_err device_k_set(struct pcitsm_idekm_req *rq, const struct pcitsm_idekm_link_ops *ops,
			       void *arg, uint8_t obj, const struct pcitsm_idekm_link_opts *o,
			       unsigned kset, enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	struct pcitsm_idekm_ks m = { .stream_id = o->stream_id, .kset = (uint8_t)kset, .dir = dir,
				     .sub = sub, .port_index = o->port_index };
	uint8_t req[16], rsp[LINK_ACK_MAX];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, req, sizeof(req));
	PCITSM_TRY(pcitsm_idekm_req_k_set(rq, obj, &m, &w));
	return device_exchange(rq, ops, arg, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), NULL, NULL);
}

/* Every receiver at both ends (device Rx and partner Rx, per sub-stream), then every transmitter. */
static pcitsm_err link_go(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
			  const struct pcitsm_idekm_link_ops *ops, void *arg,
			  const struct pcitsm_idekm_link_opts *o, struct pcitsm_idekm_link_result *res)
{
	static const enum pcitsm_ide_dir order[2] = { PCITSM_IDE_RX, PCITSM_IDE_TX };

	for (unsigned d = 0; d < 2; d++) {
		for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			enum pcitsm_ide_sub sub = (enum pcitsm_ide_sub)u;
			pcitsm_err e;

			link_log(env, "K_SET_GO", o->kset, order[d], sub, "device");
			e = device_k_set(rq, ops, arg, PCITSM_IDEKM_K_SET_GO, o, o->kset, order[d],
					 sub);
			if (e)
				return fail_at(res, PCITSM_IDEKM_LINK_K_SET_GO, false, e,
					       "K_SET_GO %s %s at the device: %s",
					       dir_name(order[d]), sub_names[u],
					       e == PCITSM_E_NORESPONSE ? "no K_GOSTOP_ACK"
									: pcitsm_err_str(e));
			link_log(env, "K_SET_GO", o->kset, order[d], sub, "partner");
			e = ops->partner->k_set(o->partner_port, PCITSM_IDEKM_K_SET_GO,
						o->stream_id, o->kset, order[d], sub);
			if (e)
				return fail_at(res, PCITSM_IDEKM_LINK_K_SET_GO, true, e,
					       "K_SET_GO %s %s at the partner port: %s",
					       dir_name(order[d]), sub_names[u], pcitsm_err_str(e));
		}
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The sequence.
 */
pcitsm_err pcitsm_idekm_program_link(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
				     const struct pcitsm_idekm_link_ops *ops, void *arg,
				     const struct pcitsm_idekm_link_opts *o,
				     struct pcitsm_idekm_link_result *res)
{
	struct pcitsm_idekm_keys *k;
	pcitsm_err e;

	if (!res)
		return PCITSM_E_INVAL;
	memset(res, 0, sizeof(*res));
	if (!rq || !env || !ops || !ops->device_call || !ops->partner ||
	    !ops->partner->key_prog || !ops->partner->k_set || !o || o->kset > 1 ||
	    o->stream_id == PCITSM_IDE_RESERVED_STREAM_ID)
		return PCITSM_E_INVAL;
	if (rq->err) /* a failure earlier in the session: start clean */
		pcitsm_idekm_req_init(rq);

	/* 1. QUERY, cross-checked. */
	if (o->query) {
		PCITSM_TRY(link_query(rq, env, ops, arg, o, res));
		PCITSM_TRY(step_done(ops, arg, res, PCITSM_IDEKM_LINK_QUERY));
	}

	/* 2. Six keys, KEY_PROG at the device, the mirror image at the partner. */
	k = malloc(sizeof(*k));
	if (!k)
		return fail_at(res, PCITSM_IDEKM_LINK_KEY_PROG, false, PCITSM_E_NOMEM,
			       "out of memory");
	e = pcitsm_idekm_keys_generate(env, o->stream_id, o->kset, k);
	if (e)
		fail_at(res, PCITSM_IDEKM_LINK_KEY_PROG, false, e, "key generation: %s",
			pcitsm_err_str(e));
	else
		e = link_key_prog(rq, env, ops, arg, o, k, res);
	pcitsm_idekm_keys_wipe(k);
	free(k);
	PCITSM_TRY(e);
	PCITSM_TRY(step_done(ops, arg, res, PCITSM_IDEKM_LINK_KEY_PROG));

	/* 3. K_SET_GO: receivers at both ends, then transmitters. */
	PCITSM_TRY(link_go(rq, env, ops, arg, o, res));
	PCITSM_TRY(step_done(ops, arg, res, PCITSM_IDEKM_LINK_K_SET_GO));

	/* 4. Enable (the caller's order: endpoint before root port). */
	if (ops->enable) {
		pcitsm_debug(env, "idekm link: Enable");
		e = ops->enable(arg);
		if (e)
			return fail_at(res, PCITSM_IDEKM_LINK_ENABLE, false, e, "Enable: %s",
				       pcitsm_err_str(e));
		PCITSM_TRY(step_done(ops, arg, res, PCITSM_IDEKM_LINK_ENABLE));
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_stop_link(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
				  const struct pcitsm_idekm_link_ops *ops, void *arg,
				  const struct pcitsm_idekm_link_opts *o, unsigned dev_slots,
				  unsigned partner_slots)
{
	pcitsm_err first = PCITSM_OK;

	if (!rq || !env || !ops || !ops->device_call || !ops->partner || !ops->partner->k_set || !o ||
	    o->kset > 1)
		return PCITSM_E_INVAL;
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		enum pcitsm_ide_dir dir;
		enum pcitsm_ide_sub sub;

		pcitsm_idekm_keys_slot(i, &dir, &sub);
		if (i < dev_slots) {
			pcitsm_err e;

			if (rq->err)
				pcitsm_idekm_req_init(rq);
			link_log(env, "K_SET_STOP", o->kset, dir, sub, "device");
			e = device_k_set(rq, ops, arg, PCITSM_IDEKM_K_SET_STOP, o, o->kset, dir, sub);
			if (e && !first)
				first = e;
		}
		if (i < partner_slots) {
			link_log(env, "K_SET_STOP", o->kset, other_dir(dir), sub, "partner");
			if (ops->partner->k_set(o->partner_port, PCITSM_IDEKM_K_SET_STOP,
						o->stream_id, o->kset, other_dir(dir), sub) != PCITSM_OK)
				pcitsm_debug(env, "idekm link: partner K_SET_STOP: slot already gone");
		}
	}
	if (rq->err)
		pcitsm_idekm_req_init(rq);
	return first;
}
