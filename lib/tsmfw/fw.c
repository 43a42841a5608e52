/* SPDX-License-Identifier: MIT */
/*
 * The platform firmware's TSM (include/pcitsm/tio.h): an AMD SEV-TIO PSP model. Everything here is
 * "firmware memory": the SPDM connection and session, the IDE keys, the IDE_KM requester. The only
 * ways out are the host's DOE relay, which carries CMA objects (public) and secured-CMA objects
 * (encrypted under the session keys), and the platform's private key path into the root ports
 * (struct pcitsm_platform_rp_keys). Failures go back as struct pcitsm_tsm_failure: a step, an
 * error, a sentence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm_driver.h"

/* ---------------------------------------------------------------------------------------------
 * The relay transport: every SPDM request the firmware makes leaves through the host.
 */
static pcitsm_err relay_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				 const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				 size_t *rsp_len)
{
	struct pcitsm_tio_dev *d = pcitsm_container_of(x, struct pcitsm_tio_dev, x);

	if (vid != PCITSM_DOE_VID_PCISIG)
		return PCITSM_E_INVAL;
	return d->relay(d->host, type, req, req_len, rsp, rsp_cap, rsp_len);
}

static const struct pcitsm_xport_ops relay_ops = { .exchange = relay_exchange };

static const struct pcitsm_idekm_link_ops fw_link_ops;
static const struct pcitsm_idekm_partner_ops refused_partner_ops;

/* ---------------------------------------------------------------------------------------------
 * Key lifetime (docs/tsm.md "Key lifetime"): the policy, and what the set in use has done.
 */
void pcitsm_tio_key_policy_default(struct pcitsm_tsm_key_policy *p)
{
	p->max_tlps = PCITSM_TSM_KEY_MAX_TLPS_DEFAULT;
	p->max_age_ns = PCITSM_TSM_KEY_MAX_AGE_DEFAULT_NS;
}

/* A count limit far below the end of the 64-bit invocation counter (PCIe 6.x §6.33: it never
 * wraps), so that the refresh always comes first. */
static pcitsm_err key_policy_check(const struct pcitsm_tsm_key_policy *p)
{
	return p->max_tlps > PCITSM_TSM_KEY_MAX_TLPS_CAP ? PCITSM_E_RANGE : PCITSM_OK;
}

pcitsm_err pcitsm_tio_key_policy_set(struct pcitsm_tio_fw *fw,
				     const struct pcitsm_tsm_key_policy *p)
{
	if (!fw || !p)
		return PCITSM_E_INVAL;
	PCITSM_TRY(key_policy_check(p));
	pthread_mutex_lock(&fw->lock);
	fw->key_policy = *p;
	pthread_mutex_unlock(&fw->lock);
	return PCITSM_OK;
}

void pcitsm_tio_key_policy_get(struct pcitsm_tio_fw *fw, struct pcitsm_tsm_key_policy *p)
{
	pthread_mutex_lock(&fw->lock);
	*p = fw->key_policy;
	pthread_mutex_unlock(&fw->lock);
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The set in use, counted at the root port: its transmitters' counters are what it sent, its
 * receivers' what the endpoint sent and it took, so one port covers all six keys. A key's TLPs
 * are its counter minus the IFV (1, PCIe 6.x §6.33.3). */
static pcitsm_err key_state(const struct pcitsm_tio_dev *d, const struct pcitsm_tsm_key_policy *p,
			    struct pcitsm_tsm_key_state *ks)
{
	struct pcitsm_ide_key_usage u;
	uint64_t limit;

	memset(ks, 0, sizeof(*ks));
	ks->policy = *p;
	ks->refresh_on = p->max_tlps || p->max_age_ns;
	ks->refreshes = d->policy_refreshes;
	if (d->stream_id < 0 || !d->rp_keyed[d->kset])
		return PCITSM_OK;
	if (!d->fw->rp_keys.usage)
		return PCITSM_E_UNSUPPORTED;
	PCITSM_TRY(d->fw->rp_keys.usage(d->rp, (uint8_t)d->stream_id, &u));
	ks->valid = u.secure;
	for (unsigned dir = 0; dir < 2; dir++) {
		for (unsigned sub = 0; sub < PCITSM_IDE_NR_SUB; sub++) {
			uint64_t n = sat_sub(u.ctr[dir][sub], PCITSM_IDEKM_IFV_INIT);

			ks->tlps = n > UINT64_MAX - ks->tlps ? UINT64_MAX : ks->tlps + n;
			ks->tlps_key = PCITSM_MAX(ks->tlps_key, n);
		}
	}
	ks->age_ns = sat_sub(pcitsm_now_ns(d->fw->env), d->kset_since_ns);
	limit = p->max_tlps ? p->max_tlps : PCITSM_TSM_KEY_MAX_TLPS_CAP;
	ks->next_tlps = ks->refresh_on ? sat_sub(limit, ks->tlps_key) : UINT64_MAX;
	ks->next_ns = ks->refresh_on && p->max_age_ns ? sat_sub(p->max_age_ns, ks->age_ns)
						      : UINT64_MAX;
	return PCITSM_OK;
}

/* Due when the busiest key reached the count limit (the cap while only age is set), or the set's
 * age the age limit. */
static bool key_due(const struct pcitsm_tsm_key_state *ks)
{
	const struct pcitsm_tsm_key_policy *p = &ks->policy;

	if (!ks->valid || !ks->refresh_on)
		return false;
	if (ks->tlps_key >= (p->max_tlps ? p->max_tlps : PCITSM_TSM_KEY_MAX_TLPS_CAP))
		return true;
	return p->max_age_ns && ks->age_ns >= p->max_age_ns;
}

pcitsm_err pcitsm_tio_fw_new(struct pcitsm_tio_fw **out, const struct pcitsm_tio_cfg *cfg)
{
	struct pcitsm_tio_fw *fw;

	if (!out || !cfg || !cfg->env || !cfg->rp_keys.find || !cfg->rp_keys.partner)
		return PCITSM_E_INVAL;
	*out = NULL;
	if (cfg->key_policy && key_policy_check(cfg->key_policy))
		return PCITSM_E_RANGE;
	fw = calloc(1, sizeof(*fw));
	if (!fw)
		return PCITSM_E_NOMEM;
	fw->rp_keys = cfg->rp_keys;
	fw->trust = cfg->trust;
	fw->faults = cfg->faults;
	fw->env = cfg->env;
	if (cfg->key_policy)
		fw->key_policy = *cfg->key_policy;
	else
		pcitsm_tio_key_policy_default(&fw->key_policy);
	/* IDE_KM's partner is the root port's private key path (a refusing one under the test
	 * fault). */
	fw->link = fw_link_ops;
	fw->link.partner = fw->faults.rp_key_prog_refused ? &refused_partner_ops : fw->rp_keys.partner;
	if (!fw->trust) {
		pcitsm_err e = pcitsm_trust_new(&fw->empty);

		if (e) {
			free(fw);
			return e;
		}
		fw->trust = fw->empty;
	}
	pthread_mutex_init(&fw->lock, NULL);
	*out = fw;
	return PCITSM_OK;
}

void pcitsm_tio_fw_free(struct pcitsm_tio_fw *fw)
{
	if (!fw)
		return;
	pcitsm_trust_free(fw->empty);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

unsigned pcitsm_tio_sessions_open(struct pcitsm_tio_fw *fw)
{
	unsigned n;

	pthread_mutex_lock(&fw->lock);
	n = fw->sessions_open;
	pthread_mutex_unlock(&fw->lock);
	return n;
}

static void sessions_add(struct pcitsm_tio_fw *fw, int d)
{
	pthread_mutex_lock(&fw->lock);
	fw->sessions_open = (unsigned)((int)fw->sessions_open + d);
	pthread_mutex_unlock(&fw->lock);
}

pcitsm_err pcitsm_tio_dev_create(struct pcitsm_tio_fw *fw, uint16_t segment, uint16_t rid,
				 uint8_t port_number, pcitsm_tio_relay_fn relay, void *host,
				 struct pcitsm_tio_dev **out)
{
	struct pcitsm_tio_dev *d;
	pcitsm_err e;

	if (!out)
		return PCITSM_E_INVAL;
	*out = NULL;
	if (!fw || !relay)
		return PCITSM_E_INVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return PCITSM_E_NOMEM;
	d->fw = fw;
	d->x.ops = &relay_ops;
	d->x.name = "fw-relay";
	d->relay = relay;
	d->host = host;
	d->segment = segment;
	d->rid = rid;
	d->stream_id = -1;
	e = fw->rp_keys.find(fw->rp_keys.ctx, segment, port_number, &d->rp);
	if (e) {
		free(d);
		return e;
	}
	pcitsm_idekm_req_init(&d->km);
	pthread_mutex_lock(&fw->lock);
	d->next = fw->devs;
	fw->devs = d;
	pthread_mutex_unlock(&fw->lock);
	*out = d;
	return PCITSM_OK;
}

/* Failures go back to the host as a step, an error and a sentence. */
static void fw_fail(struct pcitsm_tsm_failure *fail, enum pcitsm_tsm_step step, pcitsm_err e,
		    const char *what, const char *why)
{
	pcitsm_tsm_failure_set(fail, step, e, "%s%s%s", what, *what ? ": " : "", why);
}

/* A test fault: fail right after `step`. */
static pcitsm_err fault_after(const struct pcitsm_tio_dev *d, enum pcitsm_tsm_step step,
			      struct pcitsm_tsm_failure *fail)
{
	if (d->fw->faults.fail_after_step != (int)step)
		return PCITSM_OK;
	pcitsm_tsm_failure_set(fail, step, PCITSM_E_IO, "injected firmware failure after %s",
			       pcitsm_tsm_step_name(step));
	return PCITSM_E_IO;
}

static pcitsm_err build_meas(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	(void)arg;
	return pcitsm_spdm_req_get_measurements(r, 0xff, true, 0, w);
}

static void step_time(const struct pcitsm_tio_dev *d, uint64_t *step_ns, enum pcitsm_tsm_step s,
		      uint64_t *t)
{
	uint64_t now = pcitsm_now_ns(d->fw->env);

	if (step_ns)
		step_ns[s] = now - *t;
	*t = now;
}

pcitsm_err pcitsm_tio_dev_connect(struct pcitsm_tio_dev *d, struct pcitsm_tsm_failure *fail,
			      uint64_t *step_ns)
{
	struct pcitsm_spdm_auth_opts o;
	struct pcitsm_spdm_session_opts so;
	uint64_t t = pcitsm_now_ns(d->fw->env);
	pcitsm_err e;

	/* VCA, digests, chain against the firmware's anchors, CHALLENGE. */
	pcitsm_spdm_auth_opts_default(&o, d->fw->env);
	o.cfg.trust = d->fw->trust;
	o.meas = PCITSM_SPDM_MEAS_NONE;
	e = pcitsm_spdm_drv_req_authenticate(&d->r, &d->x, &o, &d->auth);
	d->r_init = true;
	d->have_auth = true;
	if (e) {
		fw_fail(fail, PCITSM_TSM_STEP_SPDM_AUTH, e, pcitsm_spdm_step_name(d->auth.failed_step),
			d->auth.why[0] ? d->auth.why : pcitsm_err_str(e));
		fail->peer_error = d->auth.peer_error;
		fail->peer_error_data = d->auth.peer_error_data;
		return e;
	}
	step_time(d, step_ns, PCITSM_TSM_STEP_SPDM_AUTH, &t);
	PCITSM_TRY(fault_after(d, PCITSM_TSM_STEP_SPDM_AUTH, fail));

	/* Signed measurements, all blocks. */
	if (d->r.rsp_caps & PCITSM_SPDM_CAP_MEAS_SIG) {
		e = pcitsm_spdm_drv_req_exchange(&d->r, &d->x, build_meas, NULL);
		if (e) {
			fw_fail(fail, PCITSM_TSM_STEP_MEASUREMENTS, e, "GET_MEASUREMENTS",
				pcitsm_err_str(e));
			fail->peer_error = d->r.peer_error;
			fail->peer_error_data = d->r.peer_error_data;
			return e;
		}
	}
	step_time(d, step_ns, PCITSM_TSM_STEP_MEASUREMENTS, &t);
	PCITSM_TRY(fault_after(d, PCITSM_TSM_STEP_MEASUREMENTS, fail));

	/* KEY_EXCHANGE, FINISH. */
	pcitsm_spdm_session_opts_default(&so);
	e = pcitsm_spdm_drv_session_open(&d->s, &d->r, &d->x, &so);
	if (e) {
		fw_fail(fail, PCITSM_TSM_STEP_SESSION, e, "session", pcitsm_err_str(e));
		fail->peer_error = d->s.peer_error;
		fail->peer_error_data = d->s.peer_error_data;
		pcitsm_spdm_session_wipe(&d->s);
		return e;
	}
	d->session_open = true;
	sessions_add(d->fw, 1);
	step_time(d, step_ns, PCITSM_TSM_STEP_SESSION, &t);
	return fault_after(d, PCITSM_TSM_STEP_SESSION, fail);
}

/* ---------------------------------------------------------------------------------------------
 * IDE_KM inside the session: the library's one programming sequence (pcitsm_idekm_program_link),
 * with the session as the device transport and the root port's private key path as the partner.
 */
static pcitsm_err fw_device_call(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct pcitsm_tio_dev *d = arg;

	return pcitsm_spdm_drv_vdm_call(&d->s, &d->x, PCITSM_SPDM_PROTO_IDE_KM, req, len, rsp);
}

/* The test fault rp_key_prog_refused: a root-port key path that refuses every KEY_PROG. Nothing
 * is ever keyed through it, so no K_SET reaches it either; refused too. */
static pcitsm_err refused_key_prog(void *port, uint8_t stream_id, unsigned kset,
				   enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				   const uint8_t key[PCITSM_IDEKM_KEY_LEN],
				   const uint8_t ifv[PCITSM_IDEKM_IFV_LEN])
{
	return PCITSM_E_BUSY;
}

static pcitsm_err refused_k_set(void *port, uint8_t obj, uint8_t stream_id, unsigned kset,
				enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	return PCITSM_E_BUSY;
}

static const struct pcitsm_idekm_partner_ops refused_partner_ops = {
	.key_prog = refused_key_prog,
	.k_set = refused_k_set,
};

static const enum pcitsm_tsm_step link_to_tsm_step[] = {
	[PCITSM_IDEKM_LINK_QUERY] = PCITSM_TSM_STEP_IDE_QUERY,
	[PCITSM_IDEKM_LINK_KEY_PROG] = PCITSM_TSM_STEP_KEY_PROG,
	[PCITSM_IDEKM_LINK_K_SET_GO] = PCITSM_TSM_STEP_K_SET_GO,
	[PCITSM_IDEKM_LINK_ENABLE] = PCITSM_TSM_STEP_ENABLE,
	[PCITSM_IDEKM_LINK_K_SET_STOP] = PCITSM_TSM_STEP_K_SET_GO,
};

/* After each step: its time (connect only) and the injected-failure test hook. */
static pcitsm_err fw_step_done(void *arg, enum pcitsm_idekm_link_step step)
{
	struct pcitsm_tio_dev *d = arg;
	enum pcitsm_tsm_step s = link_to_tsm_step[step];

	if (d->step_t)
		step_time(d, d->step_ns, s, d->step_t);
	return fault_after(d, s, d->step_fail);
}

/* The template of each device's ops; .partner is set at DEV_CREATE. */
static const struct pcitsm_idekm_link_ops fw_link_ops = {
	.device_call = fw_device_call,
	.enable = NULL, /* the host sets Enable once IDE_START returned (lib/tsm/sevtio.c) */
	.step_done = fw_step_done,
};

static void fw_link_opts(const struct pcitsm_tio_dev *d, unsigned kset, struct pcitsm_idekm_link_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port_index = 0; /* PCIe 6.x §6.33.3: an endpoint represents itself as PortIndex 0 */
	o->stream_id = (uint8_t)d->stream_id;
	o->kset = kset;
	o->partner_port = d->rp;
}

/* One key set at both ports (and, for a connect, the QUERY before it). */
static pcitsm_err program_set(struct pcitsm_tio_dev *d, struct pcitsm_idekm_link_opts *o,
			      struct pcitsm_tsm_failure *fail, uint64_t *step_ns, uint64_t *t)
{
	struct pcitsm_idekm_link_result res;
	pcitsm_err e;

	d->step_fail = fail;
	d->step_ns = step_ns;
	d->step_t = t;
	e = pcitsm_idekm_program_link(&d->km, d->fw->env, &d->fw->link, d, o, &res);
	d->step_fail = NULL;
	d->step_ns = NULL;
	d->step_t = NULL;
	if (res.dev_keyed)
		d->ep_keyed[o->kset] = true;
	if (res.partner_keyed)
		d->rp_keyed[o->kset] = true;
	if (e && fail->step == PCITSM_TSM_STEP_NONE) {
		fw_fail(fail, link_to_tsm_step[res.step], e, "", res.why);
		if (e == PCITSM_E_PEER_ERROR && res.step == PCITSM_IDEKM_LINK_KEY_PROG) {
			fail->peer_status = res.kp_status;
			fail->errno_val = EIO; /* the device refused its key */
		}
	}
	return e;
}

pcitsm_err pcitsm_tio_ide_start(struct pcitsm_tio_dev *d, uint8_t stream_id,
				struct pcitsm_cfg *ep_cfg, uint16_t ep_ide_off, const struct pcitsm_bdf *ep_bdf,
				struct pcitsm_tsm_failure *fail, uint64_t *step_ns)
{
	struct pcitsm_idekm_link_opts o;
	uint64_t t = pcitsm_now_ns(d->fw->env);

	if (!d->session_open)
		return PCITSM_E_STATE;
	d->stream_id = stream_id;
	d->kset = 0; /* PCIe 6.x §6.33: either key set may come first; K0 is the recommended one */
	d->stop_pending = false;
	fw_link_opts(d, 0, &o);
	o.query = true;
	/* Downgrade protection: QUERY_RESP against the endpoint's config space as the host reads it. */
	o.dev_cfg = ep_cfg;
	o.dev_ide_off = ep_ide_off;
	o.dev_bdf = ep_bdf;
	PCITSM_TRY(program_set(d, &o, fail, step_ns, &t));
	d->kset_since_ns = pcitsm_now_ns(d->fw->env);
	return PCITSM_OK;
}

pcitsm_err pcitsm_tio_dev_rekey(struct pcitsm_tio_dev *d)
{
	struct pcitsm_tsm_failure fail = { .peer_status = -1 };
	struct pcitsm_idekm_link_opts o;
	unsigned next = d->kset ^ 1u;
	pcitsm_err e;

	if (!d->session_open || d->stream_id < 0)
		return PCITSM_E_STATE;
	fw_link_opts(d, next, &o);
	e = program_set(d, &o, &fail, NULL, NULL);
	if (e) {
		pcitsm_warn(d->fw->env, "tsm fw: rekey: %s", fail.why);
		return e;
	}
	/* The old set waits for its K_SET_STOP (pcitsm_tio_dev_rekey_done); a refresh before that
	 * has just reprogrammed it. */
	d->kset = (uint8_t)next;
	d->kset_since_ns = pcitsm_now_ns(d->fw->env);
	d->stop_pending = true;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tio_dev_rekey_done(struct pcitsm_tio_dev *d)
{
	struct pcitsm_idekm_link_opts o;
	struct pcitsm_ide_key_usage u;
	unsigned old = d->kset ^ 1u;
	pcitsm_err e;

	if (!d->stop_pending || d->stream_id < 0)
		return PCITSM_E_STATE;
	/* Traffic has switched: no receiver of the root port still on the old set (PCIe 6.x §6.33
	 * key refresh: a receiver switches at the first TLP with the new K). */
	if (d->fw->rp_keys.usage &&
	    d->fw->rp_keys.usage(d->rp, (uint8_t)d->stream_id, &u) == PCITSM_OK)
		for (unsigned sub = 0; sub < PCITSM_IDE_NR_SUB; sub++)
			if (u.secure && u.kset[PCITSM_IDE_RX][sub] != d->kset)
				return PCITSM_E_BUSY;
	fw_link_opts(d, old, &o);
	e = pcitsm_idekm_stop_link(&d->km, d->fw->env, &d->fw->link, d, &o,
				   d->ep_keyed[old] && d->session_open ? PCITSM_IDEKM_NR_KEYS : 0,
				   d->rp_keyed[old] ? PCITSM_IDEKM_NR_KEYS : 0);
	if (e) {
		pcitsm_warn(d->fw->env, "tsm fw: K_SET_STOP K%u after a refresh: %s", old,
			    pcitsm_err_str(e));
		return e;
	}
	d->ep_keyed[old] = d->rp_keyed[old] = false;
	d->stop_pending = false;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tio_dev_key_check(struct pcitsm_tio_dev *d, bool *refreshed)
{
	struct pcitsm_tsm_key_policy p;
	struct pcitsm_tsm_key_state ks;

	if (!d || !refreshed)
		return PCITSM_E_INVAL;
	*refreshed = false;
	if (d->stream_id < 0 || !d->session_open)
		return PCITSM_OK;
	pcitsm_tio_key_policy_get(d->fw, &p);
	PCITSM_TRY(key_state(d, &p, &ks));
	if (!key_due(&ks))
		return PCITSM_OK;
	PCITSM_TRY(pcitsm_tio_dev_rekey(d));
	d->policy_refreshes++;
	*refreshed = true;
	pcitsm_info(d->fw->env,
		    "tsm fw: stream %d: keys refreshed by policy (now K%u; the old set's busiest "
		    "key had %" PRIu64 " TLPs, age %" PRIu64 " ms)",
		    d->stream_id, d->kset, ks.tlps_key, ks.age_ns / 1000000);
	return PCITSM_OK;
}

uint8_t pcitsm_tio_dev_key_set(const struct pcitsm_tio_dev *d)
{
	return d->kset;
}

/* Best effort, as teardown cannot fail: a slot the device or the root port no longer knows (its
 * stream already idle) is simply gone. */
void pcitsm_tio_ide_stop(struct pcitsm_tio_dev *d)
{
	struct pcitsm_idekm_link_opts o;

	if (d->stream_id < 0)
		return;
	for (unsigned k = 0; k < 2; k++) {
		unsigned dev = d->ep_keyed[k] && d->session_open ? PCITSM_IDEKM_NR_KEYS : 0;
		unsigned rp = d->rp_keyed[k] ? PCITSM_IDEKM_NR_KEYS : 0;

		fw_link_opts(d, k, &o);
		if ((dev || rp) &&
		    pcitsm_idekm_stop_link(&d->km, d->fw->env, &d->fw->link, d, &o, dev, rp) !=
			    PCITSM_OK)
			pcitsm_debug(d->fw->env, "tsm fw: K_SET_STOP K%u: a slot was already gone", k);
		d->ep_keyed[k] = d->rp_keyed[k] = false;
	}
	d->stream_id = -1;
	d->stop_pending = false;
}

void pcitsm_tio_dev_disconnect(struct pcitsm_tio_dev *d)
{
	if (!d->session_open)
		return;
	if (pcitsm_spdm_drv_session_end(&d->s, &d->x) != PCITSM_OK)
		pcitsm_info(d->fw->env, "tsm fw: END_SESSION not acknowledged; session wiped");
	pcitsm_spdm_session_wipe(&d->s);
	d->session_open = false;
	sessions_add(d->fw, -1);
}

void pcitsm_tio_dev_reclaim(struct pcitsm_tio_dev *d)
{
	if (!d)
		return;
	pcitsm_tio_dev_disconnect(d);
	fw_tdis_drop(d);
	free(d->ev_rsp);
	if (d->have_auth)
		pcitsm_spdm_auth_result_free(&d->auth);
	if (d->r_init)
		pcitsm_spdm_req_free(&d->r);
	pthread_mutex_lock(&d->fw->lock);
	for (struct pcitsm_tio_dev **p = &d->fw->devs; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			break;
		}
	}
	pthread_mutex_unlock(&d->fw->lock);
	pcitsm_wipe(d, sizeof(*d));
	free(d);
}

void pcitsm_tio_dev_status(const struct pcitsm_tio_dev *d, struct pcitsm_tsm_status *st)
{
	struct pcitsm_tsm_key_policy p;

	if (!d->have_auth)
		return;
	st->spdm_version = d->auth.version;
	st->base_asym = d->auth.base_asym;
	st->base_hash = d->auth.base_hash;
	st->meas_hash = d->auth.meas_hash;
	st->dhe = d->r.dhe;
	st->aead = d->r.aead;
	st->key_schedule = d->r.key_schedule;
	st->chain_trusted = d->auth.chain_trusted;
	st->session_id = d->session_open ? d->s.sm.id : 0;
	st->key_set = d->kset;
	pcitsm_tio_key_policy_get(d->fw, &p);
	if (key_state(d, &p, &st->keys) != PCITSM_OK)
		st->keys.valid = false;
}

static pcitsm_err dup(uint8_t **out, size_t *out_len, const uint8_t *p, size_t n)
{
	*out = NULL;
	*out_len = 0;
	if (!p || !n)
		return PCITSM_OK;
	*out = malloc(n);
	if (!*out)
		return PCITSM_E_NOMEM;
	memcpy(*out, p, n);
	*out_len = n;
	return PCITSM_OK;
}

/* The requester's nonce of a recorded GET_MEASUREMENTS: Nonce[32] right after the header. */
static void req_nonce(const uint8_t *req, size_t len, struct pcitsm_tsm_evidence *ev)
{
	if (len >= 4 + PCITSM_SPDM_NONCE_LEN) {
		memcpy(ev->nonce, req + 4, PCITSM_SPDM_NONCE_LEN);
		ev->has_nonce = true;
	}
}

pcitsm_err pcitsm_tio_dev_evidence(const struct pcitsm_tio_dev *d, struct pcitsm_tsm_evidence *ev)
{
	if (!d->have_auth)
		return PCITSM_E_STATE;
	PCITSM_TRY(dup(&ev->chain, &ev->chain_len, d->auth.chain, d->auth.chain_len));
	ev->certs_off = d->auth.certs_off;
	PCITSM_TRY(dup(&ev->vca, &ev->vca_len, d->auth.vca, d->auth.vca_len));
	ev->chain_trusted = d->auth.chain_trusted;
	if (d->ev_fresh) { /* the last refresh, with its caller's nonce */
		PCITSM_TRY(dup(&ev->meas, &ev->meas_len, d->ev_rsp, d->ev_rsp_len));
		PCITSM_TRY(dup(&ev->meas_req, &ev->meas_req_len, d->ev_req, d->ev_req_len));
		req_nonce(d->ev_req, d->ev_req_len, ev);
		ev->refreshed = true;
		return PCITSM_OK;
	}
	/* The signed MEASUREMENTS response as the device sent it (its record, nonce, opaque data
	 * and signature); a requester that kept only the record hands that. */
	if (d->r.meas_rsp) {
		PCITSM_TRY(dup(&ev->meas, &ev->meas_len, d->r.meas_rsp, d->r.meas_rsp_len));
		PCITSM_TRY(dup(&ev->meas_req, &ev->meas_req_len, d->r.meas_req,
			       d->r.meas_req_len));
		req_nonce(d->r.meas_req, d->r.meas_req_len, ev);
	} else {
		PCITSM_TRY(dup(&ev->meas, &ev->meas_len, d->r.meas, d->r.meas_len));
	}
	return PCITSM_OK;
}

/* The exchange as published must verify on its own: L1 = A || GET_MEASUREMENTS || MEASUREMENTS
 * without its signature (DSP0274 'Transcript and transcript hash calculation rules'), which holds
 * only when the session's M had nothing before this request. A verifier rebuilds exactly this. */
static pcitsm_err fw_check_published(const struct pcitsm_tio_dev *d)
{
	const struct pcitsm_spdm_meas_record rec = {
		.vca = d->auth.vca, .vca_len = d->auth.vca_len,
		.req = d->s.meas_req, .req_len = d->s.meas_req_len,
		.rsp = d->s.meas_rsp, .rsp_len = d->s.meas_rsp_len,
	};
	struct pcitsm_spdm_meas_view v;
	uint8_t l1[PCITSM_HASH_MAX];
	pcitsm_err e;

	if (!d->s.meas_rsp || !d->s.meas_req_len)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_spdm_meas_record_parse(&rec, &v, NULL, 0));
	e = pcitsm_spdm_meas_record_verify(&rec, &v, d->r.leaf, l1);
	pcitsm_wipe(l1, sizeof(l1));
	return e;
}

pcitsm_err pcitsm_tio_dev_evidence_refresh(struct pcitsm_tio_dev *d,
					   const uint8_t nonce[PCITSM_TSM_NONCE_LEN])
{
	uint8_t *rsp;
	pcitsm_err e;

	if (!d || !nonce)
		return PCITSM_E_INVAL;
	if (!d->session_open || !d->have_auth)
		return PCITSM_E_STATE;
	/* All blocks, signed, the caller's nonce in the request (DSP0274 clause 10.11). */
	e = pcitsm_spdm_drv_session_measurements_nonce(&d->s, &d->x, 0xff, nonce);
	if (e) {
		pcitsm_info(d->fw->env, "tsm fw: GET_MEASUREMENTS with the caller's nonce: %s",
			    pcitsm_err_str(e));
		if (d->s.state != PCITSM_SPDM_SESSION_ESTABLISHED && d->session_open) {
			d->session_open = false; /* a failure that ended the session */
			sessions_add(d->fw, -1);
		}
		return e;
	}
	e = fw_check_published(d);
	if (e) {
		pcitsm_warn(d->fw->env, "tsm fw: the signed exchange does not verify as published: %s",
			    pcitsm_err_str(e));
		return e;
	}
	rsp = malloc(d->s.meas_rsp_len);
	if (!rsp)
		return PCITSM_E_NOMEM;
	memcpy(rsp, d->s.meas_rsp, d->s.meas_rsp_len);
	free(d->ev_rsp);
	d->ev_rsp = rsp;
	d->ev_rsp_len = d->s.meas_rsp_len;
	memcpy(d->ev_req, d->s.meas_req, d->s.meas_req_len);
	d->ev_req_len = d->s.meas_req_len;
	d->ev_fresh = true;
	return PCITSM_OK;
}
