/* SPDX-License-Identifier: MIT */
/*
 * The platform firmware's TSM (fw.h): an AMD SEV-TIO PSP model. Everything here is "firmware
 * memory": the SPDM connection and session, the IDE keys, the IDE_KM requester. The only way out
 * is the host's DOE relay, which carries CMA objects (public) and secured-CMA objects (encrypted
 * under the session keys), and the root ports' private key path (lib/emu).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm.h"

#define FW_VDM_MAX 1024 /* IDE_KM requests and responses (QUERY_RESP of the emulated ports fits) */

struct tsm_fw {
	struct pcitsm_emu_platform *plat;
	const struct pcitsm_trust *trust;
	struct pcitsm_trust *empty; /* no anchors given: an empty store, so that no chain validates */
	struct pcitsm_tsm_fw_faults faults;
	const struct pcitsm_env *env;
	pthread_mutex_t lock; /* sessions_open */
	unsigned sessions_open;
};

struct tsm_fw_dev {
	struct tsm_fw *fw;
	struct pcitsm_xport x; /* SPDM_REQUEST exits: the host's relay */
	tsm_fw_relay_fn relay;
	void *host;
	uint16_t segment, rid;
	struct pcitsm_emu_func *rp; /* found from the Port Number: the private key path */
	struct pcitsm_spdm_req r;
	bool r_init;
	struct pcitsm_spdm_auth_result auth;
	bool have_auth;
	struct pcitsm_spdm_session s;
	bool session_open;
	struct pcitsm_idekm_req km;
	int stream_id;       /* -1 until IDE_START */
	uint8_t kset;        /* key set in use */
	bool ep_keyed[2], rp_keyed[2]; /* a key set programmed at the port */
};

/* ---------------------------------------------------------------------------------------------
 * The relay transport: every SPDM request the firmware makes leaves through the host.
 */
static pcitsm_err relay_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				 const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				 size_t *rsp_len)
{
	struct tsm_fw_dev *d = pcitsm_container_of(x, struct tsm_fw_dev, x);

	if (vid != PCITSM_DOE_VID_PCISIG)
		return PCITSM_E_INVAL;
	return d->relay(d->host, type, req, req_len, rsp, rsp_cap, rsp_len);
}

static const struct pcitsm_xport_ops relay_ops = { .exchange = relay_exchange };

pcitsm_err tsm_fw_new(struct tsm_fw **out, struct pcitsm_emu_platform *plat,
		      const struct pcitsm_trust *trust, const struct pcitsm_tsm_fw_faults *faults,
		      const struct pcitsm_env *env)
{
	struct tsm_fw *fw = calloc(1, sizeof(*fw));

	if (!fw)
		return PCITSM_E_NOMEM;
	fw->plat = plat;
	fw->trust = trust;
	fw->faults = *faults;
	fw->env = env;
	if (!trust) {
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

void tsm_fw_free(struct tsm_fw *fw)
{
	if (!fw)
		return;
	pcitsm_trust_free(fw->empty);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

unsigned tsm_fw_sessions_open(struct tsm_fw *fw)
{
	unsigned n;

	pthread_mutex_lock(&fw->lock);
	n = fw->sessions_open;
	pthread_mutex_unlock(&fw->lock);
	return n;
}

static void sessions_add(struct tsm_fw *fw, int d)
{
	pthread_mutex_lock(&fw->lock);
	fw->sessions_open = (unsigned)((int)fw->sessions_open + d);
	pthread_mutex_unlock(&fw->lock);
}

/* The root port with Port Number port_number (LNKCAP[31:24]) in the platform's topology. */
static struct pcitsm_emu_func *find_rp(struct tsm_fw *fw, uint8_t port_number)
{
	for (unsigned i = 0; i < fw->plat->nr_funcs; i++) {
		struct pcitsm_emu_func *f = &fw->plat->funcs[i];
		struct pcitsm_pci_id id;

		if (f->kind == PCITSM_EMU_ROOT_PORT && pcitsm_pci_read_id(&f->cfg.cfg, &id) == PCITSM_OK &&
		    id.port_number == port_number)
			return f;
	}
	return NULL;
}

pcitsm_err tsm_fw_dev_create(struct tsm_fw *fw, uint16_t segment, uint16_t rid, uint8_t port_number,
			     tsm_fw_relay_fn relay, void *host, struct tsm_fw_dev **out)
{
	struct tsm_fw_dev *d;

	*out = NULL;
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
	d->rp = find_rp(fw, port_number);
	if (!d->rp) {
		free(d);
		return PCITSM_E_NOTFOUND;
	}
	pcitsm_idekm_req_init(&d->km);
	*out = d;
	return PCITSM_OK;
}

/* A test fault: fail right after `step`. */
static pcitsm_err fault_after(const struct tsm_fw_dev *d, enum pcitsm_tsm_step step,
			      struct pcitsm_tsm_failure *fail)
{
	if (d->fw->faults.fail_after_step != (int)step)
		return PCITSM_OK;
	tsm_fail(fail, step, PCITSM_E_IO, "injected firmware failure after %s",
		 pcitsm_tsm_step_name(step));
	return PCITSM_E_IO;
}

static pcitsm_err build_meas(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	(void)arg;
	return pcitsm_spdm_req_get_measurements(r, 0xff, true, 0, w);
}

static void step_time(const struct tsm_fw_dev *d, uint64_t *step_ns, enum pcitsm_tsm_step s,
		      uint64_t *t)
{
	uint64_t now = pcitsm_now_ns(d->fw->env);

	if (step_ns)
		step_ns[s] = now - *t;
	*t = now;
}

pcitsm_err tsm_fw_dev_connect(struct tsm_fw_dev *d, struct pcitsm_tsm_failure *fail,
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
	e = pcitsm_spdm_req_authenticate(&d->r, &d->x, &o, &d->auth);
	d->r_init = true;
	d->have_auth = true;
	if (e) {
		tsm_fail(fail, PCITSM_TSM_STEP_SPDM_AUTH, e, "%s: %s",
			 pcitsm_spdm_step_name(d->auth.failed_step),
			 d->auth.why[0] ? d->auth.why : pcitsm_err_str(e));
		fail->peer_error = d->auth.peer_error;
		fail->peer_error_data = d->auth.peer_error_data;
		return e;
	}
	step_time(d, step_ns, PCITSM_TSM_STEP_SPDM_AUTH, &t);
	PCITSM_TRY(fault_after(d, PCITSM_TSM_STEP_SPDM_AUTH, fail));

	/* Signed measurements, all blocks. */
	if (d->r.rsp_caps & PCITSM_SPDM_CAP_MEAS_SIG) {
		e = pcitsm_spdm_req_exchange(&d->r, &d->x, build_meas, NULL);
		if (e) {
			tsm_fail(fail, PCITSM_TSM_STEP_MEASUREMENTS, e, "GET_MEASUREMENTS: %s",
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
	e = pcitsm_spdm_session_open(&d->s, &d->r, &d->x, &so);
	if (e) {
		tsm_fail(fail, PCITSM_TSM_STEP_SESSION, e, "session: %s", pcitsm_err_str(e));
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
 * IDE_KM inside the session.
 */
static pcitsm_err km_call(struct tsm_fw_dev *d, const uint8_t *req, size_t len,
			  struct pcitsm_idekm_query_resp *qr, uint8_t *rsp, size_t cap)
{
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, rsp, cap);
	e = pcitsm_spdm_vdm_call(&d->s, &d->x, PCITSM_SPDM_PROTO_IDE_KM, req, len, &w);
	if (e) {
		pcitsm_idekm_req_abandon(&d->km);
		return e;
	}
	return pcitsm_idekm_req_response(&d->km, rsp, pcitsm_wr_len(&w), qr);
}

static pcitsm_err km_query(struct tsm_fw_dev *d, struct pcitsm_cfg *ep_cfg, uint16_t ide_off,
			   const struct pcitsm_bdf *bdf, struct pcitsm_tsm_failure *fail)
{
	uint8_t req[16];
	uint8_t *rsp = malloc(PCITSM_IDEKM_MSG_MAX);
	struct pcitsm_idekm_query_resp *qr = malloc(sizeof(*qr));
	struct pcitsm_idekm_mismatch mm = { 0 };
	struct pcitsm_wr w;
	pcitsm_err e;

	if (!rsp || !qr) {
		free(rsp);
		free(qr);
		return PCITSM_E_NOMEM;
	}
	pcitsm_wr_init(&w, req, sizeof(req));
	e = pcitsm_idekm_req_query(&d->km, 0, &w);
	if (!e)
		e = km_call(d, req, pcitsm_wr_len(&w), qr, rsp, PCITSM_IDEKM_MSG_MAX);
	if (e) {
		tsm_fail(fail, PCITSM_TSM_STEP_IDE_QUERY, e, "IDE_KM QUERY: %s", pcitsm_err_str(e));
	} else {
		/* §E.1: downgrade protection, the device's registers against the host's reading. */
		e = pcitsm_idekm_query_resp_check(qr, ep_cfg, ide_off, bdf, &mm);
		if (e)
			tsm_fail(fail, PCITSM_TSM_STEP_IDE_QUERY, e,
				 "QUERY_RESP %s: device 0x%08x, config space 0x%08x", mm.name,
				 mm.device, mm.host);
	}
	free(rsp);
	free(qr);
	return e;
}

/* KEY_PROG of the six slots of keys at the endpoint (in the session) and their mirror image at the
 * root port (private path). */
static pcitsm_err key_prog_all(struct tsm_fw_dev *d, const struct pcitsm_idekm_keys *k,
			       struct pcitsm_tsm_failure *fail)
{
	struct pcitsm_idekm_key_prog kp;
	uint8_t req[PCITSM_IDEKM_KEY_PROG_LEN + 8], rsp[64];
	struct pcitsm_wr w;
	pcitsm_err e = PCITSM_OK;

	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS && !e; i++) {
		e = pcitsm_idekm_keys_key_prog(k, i, 0, &kp);
		if (e)
			break;
		pcitsm_wr_init(&w, req, sizeof(req));
		e = pcitsm_idekm_req_key_prog(&d->km, &kp, &w);
		if (!e)
			e = km_call(d, req, pcitsm_wr_len(&w), NULL, rsp, sizeof(rsp));
		pcitsm_wipe(req, sizeof(req));
		if (e) {
			tsm_fail(fail, PCITSM_TSM_STEP_KEY_PROG, e, "KEY_PROG %u at the endpoint: %s", i,
				 e == PCITSM_E_PEER_ERROR ? pcitsm_idekm_kp_status_str(d->km.kp_status)
							  : pcitsm_err_str(e));
			if (e == PCITSM_E_PEER_ERROR) {
				fail->peer_status = d->km.kp_status;
				fail->errno_val = EIO; /* the device refused its key */
			}
			break;
		}
		/* The root port: its Tx is the endpoint's Rx and the other way round. */
		if (d->fw->faults.rp_key_prog_refused) {
			e = PCITSM_E_BUSY;
		} else {
			enum pcitsm_ide_dir rpdir = kp.ks.dir == PCITSM_IDE_RX ? PCITSM_IDE_TX
									      : PCITSM_IDE_RX;
			e = pcitsm_emu_rp_key_prog(d->rp, kp.ks.stream_id, kp.ks.kset, rpdir,
						   kp.ks.sub, kp.key, kp.ifv);
		}
		if (e)
			tsm_fail(fail, PCITSM_TSM_STEP_KEY_PROG, e, "KEY_PROG %u at the root port: %s", i,
				 pcitsm_err_str(e));
	}
	pcitsm_wipe(&kp, sizeof(kp));
	return e;
}

static pcitsm_err k_set(struct tsm_fw_dev *d, uint8_t obj, uint8_t stream_id, unsigned kset,
			enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	struct pcitsm_idekm_ks m = { .stream_id = stream_id, .kset = (uint8_t)kset, .dir = dir,
				     .sub = sub, .port_index = 0 };
	uint8_t req[16], rsp[32];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, req, sizeof(req));
	PCITSM_TRY(pcitsm_idekm_req_k_set(&d->km, obj, &m, &w));
	return km_call(d, req, pcitsm_wr_len(&w), NULL, rsp, sizeof(rsp));
}

/* K_SET_GO: every receiver at both ports, then every transmitter (§D.6, §E.5 step 4). */
static pcitsm_err go_all(struct tsm_fw_dev *d, uint8_t stream_id, unsigned kset,
			 struct pcitsm_tsm_failure *fail)
{
	static const enum pcitsm_ide_dir order[2] = { PCITSM_IDE_RX, PCITSM_IDE_TX };

	for (unsigned o = 0; o < 2; o++) {
		enum pcitsm_ide_dir dir = order[o];

		for (unsigned sub = 0; sub < PCITSM_IDE_NR_SUB; sub++) {
			pcitsm_err e = k_set(d, PCITSM_IDEKM_K_SET_GO, stream_id, kset, dir,
					     (enum pcitsm_ide_sub)sub);

			if (e) {
				tsm_fail(fail, PCITSM_TSM_STEP_K_SET_GO, e,
					 "K_SET_GO at the endpoint: %s", pcitsm_err_str(e));
				return e;
			}
			e = pcitsm_emu_rp_k_set_go(d->rp, stream_id, kset, dir,
						   (enum pcitsm_ide_sub)sub);
			if (e) {
				tsm_fail(fail, PCITSM_TSM_STEP_K_SET_GO, e,
					 "K_SET_GO at the root port: %s", pcitsm_err_str(e));
				return e;
			}
		}
	}
	return PCITSM_OK;
}

static pcitsm_err program_set(struct tsm_fw_dev *d, uint8_t stream_id, unsigned kset,
			      struct pcitsm_tsm_failure *fail, uint64_t *step_ns, uint64_t *t)
{
	struct pcitsm_idekm_keys *k = malloc(sizeof(*k));
	pcitsm_err e;

	if (!k)
		return PCITSM_E_NOMEM;
	e = pcitsm_idekm_keys_generate(d->fw->env, stream_id, kset, k);
	if (e) {
		tsm_fail(fail, PCITSM_TSM_STEP_KEY_PROG, e, "key generation: %s", pcitsm_err_str(e));
		free(k);
		return e;
	}
	d->ep_keyed[kset] = d->rp_keyed[kset] = true;
	e = key_prog_all(d, k, fail);
	pcitsm_idekm_keys_wipe(k);
	free(k);
	if (e)
		return e;
	if (t)
		step_time(d, step_ns, PCITSM_TSM_STEP_KEY_PROG, t);
	PCITSM_TRY(fault_after(d, PCITSM_TSM_STEP_KEY_PROG, fail));
	e = go_all(d, stream_id, kset, fail);
	if (!e && t)
		step_time(d, step_ns, PCITSM_TSM_STEP_K_SET_GO, t);
	return e ? e : fault_after(d, PCITSM_TSM_STEP_K_SET_GO, fail);
}

pcitsm_err tsm_fw_dev_ide_start(struct tsm_fw_dev *d, uint8_t stream_id, struct pcitsm_cfg *ep_cfg,
				uint16_t ep_ide_off, const struct pcitsm_bdf *ep_bdf,
				struct pcitsm_tsm_failure *fail, uint64_t *step_ns)
{
	uint64_t t = pcitsm_now_ns(d->fw->env);

	if (!d->session_open)
		return PCITSM_E_STATE;
	d->stream_id = stream_id;
	PCITSM_TRY(km_query(d, ep_cfg, ep_ide_off, ep_bdf, fail));
	step_time(d, step_ns, PCITSM_TSM_STEP_IDE_QUERY, &t);
	PCITSM_TRY(fault_after(d, PCITSM_TSM_STEP_IDE_QUERY, fail));
	d->kset = 0; /* §D.6: K0 first (recommended) */
	return program_set(d, stream_id, 0, fail, step_ns, &t);
}

pcitsm_err tsm_fw_dev_rekey(struct tsm_fw_dev *d)
{
	struct pcitsm_tsm_failure fail = { .peer_status = -1 };
	unsigned next = d->kset ^ 1u;
	pcitsm_err e;

	if (!d->session_open || d->stream_id < 0)
		return PCITSM_E_STATE;
	e = program_set(d, (uint8_t)d->stream_id, next, &fail, NULL, NULL);
	if (e) {
		pcitsm_warn(d->fw->env, "tsm fw: rekey: %s", fail.why);
		return e;
	}
	d->kset = (uint8_t)next;
	return PCITSM_OK;
}

uint8_t tsm_fw_dev_key_set(const struct tsm_fw_dev *d)
{
	return d->kset;
}

/* Best effort, as teardown cannot fail: a slot the device or the root port no longer knows (its
 * stream already idle) is simply gone. */
void tsm_fw_dev_ide_stop(struct tsm_fw_dev *d)
{
	if (d->stream_id < 0)
		return;
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
			enum pcitsm_ide_dir dir;
			enum pcitsm_ide_sub sub;

			pcitsm_idekm_keys_slot(i, &dir, &sub);
			if (d->ep_keyed[k] && d->session_open &&
			    k_set(d, PCITSM_IDEKM_K_SET_STOP, (uint8_t)d->stream_id, k, dir, sub) !=
				    PCITSM_OK)
				pcitsm_idekm_req_init(&d->km);
			if (d->rp_keyed[k] &&
			    pcitsm_emu_rp_k_set_stop(d->rp, (uint8_t)d->stream_id, k, dir, sub) !=
				    PCITSM_OK)
				pcitsm_debug(d->fw->env, "tsm fw: root port K_SET_STOP: slot gone");
		}
		d->ep_keyed[k] = d->rp_keyed[k] = false;
	}
	d->stream_id = -1;
}

void tsm_fw_dev_disconnect(struct tsm_fw_dev *d)
{
	if (!d->session_open)
		return;
	if (pcitsm_spdm_session_end(&d->s, &d->x) != PCITSM_OK)
		pcitsm_info(d->fw->env, "tsm fw: END_SESSION not acknowledged; session wiped");
	pcitsm_spdm_session_wipe(&d->s);
	d->session_open = false;
	sessions_add(d->fw, -1);
}

void tsm_fw_dev_reclaim(struct tsm_fw_dev *d)
{
	if (!d)
		return;
	tsm_fw_dev_disconnect(d);
	if (d->have_auth)
		pcitsm_spdm_auth_result_free(&d->auth);
	if (d->r_init)
		pcitsm_spdm_req_free(&d->r);
	pcitsm_wipe(d, sizeof(*d));
	free(d);
}

void tsm_fw_dev_status(const struct tsm_fw_dev *d, struct pcitsm_tsm_status *st)
{
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

pcitsm_err tsm_fw_dev_evidence(const struct tsm_fw_dev *d, struct pcitsm_tsm_evidence *ev)
{
	if (!d->have_auth)
		return PCITSM_E_STATE;
	PCITSM_TRY(dup(&ev->chain, &ev->chain_len, d->auth.chain, d->auth.chain_len));
	ev->certs_off = d->auth.certs_off;
	PCITSM_TRY(dup(&ev->meas, &ev->meas_len, d->r.meas, d->r.meas_len));
	PCITSM_TRY(dup(&ev->vca, &ev->vca_len, d->auth.vca, d->auth.vca_len));
	ev->chain_trusted = d->auth.chain_trusted;
	return PCITSM_OK;
}

const struct pcitsm_session *tsm_fw_dev_session(const struct tsm_fw_dev *d)
{
	return d && d->session_open ? &d->s.sm : NULL;
}
