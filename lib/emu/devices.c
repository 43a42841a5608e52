/* SPDX-License-Identifier: MIT */
/*
 * The emulated device: one constructor (pcitsm_emu_device_new) gives an endpoint its identity, an
 * SPDM responder (CMA and secured CMA on the endpoint's DOE instance) and an IDE_KM responder
 * registered as its vendor-defined handler for protocol 0x00, bound to the endpoint's config
 * space and IDE engine. pcitsmd's and the CLI's platforms call it for every endpoint
 * (pcitsm_emu_devices_new); `pcitsm emulate` calls it for the endpoint of a one-port platform of
 * its own (pcitsm_emu_standalone_new). Whatever serves it (a DOE mailbox, an spdm-emu TCP port),
 * it is the same device (docs/emulated-platform.md).
 *
 * Every DOE response of the device, header included, stays within a bound (default 4608 bytes:
 * QEMU drops larger frames): the SPDM responder's DataTransferSize and MaxSPDMmsgSize are set so
 * that its largest message, sealed in a secured message, fits, and each handler is given no more
 * room than the bound leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"
#include "pcitsm/idekm.h"
#include "pcitsm/session.h"
#include "pcitsm/spdm_rsp.h"
#include "pcitsm/tdisp.h"

/* The responder's DataTransferSize at the default bound: the largest SPDM message it sends. */
#define EMU_SPDM_DTS_DEFAULT 4096u

struct pcitsm_emu_device {
	struct pcitsm_emu_func *ep;
	const struct pcitsm_identity *id; /* own_id, or borrowed from the configuration */
	struct pcitsm_identity *own_id;   /* generated here, freed here */
	struct pcitsm_spdm_rsp rsp;
	bool rsp_init;
	struct pcitsm_idekm_rsp km;
	struct pcitsm_tdisp_dsm dsm; /* TDISP: PF0 and its functions' TDIs */
	bool dsm_init;
	size_t max_payload; /* the bound less the DOE header: the most a handler may write */
	struct pcitsm_doe_handler cma, secured; /* the responder's handlers, bounded */
	struct pcitsm_emu_dev_faults faults;
	void (*key_observer)(void *arg, const uint8_t key[32], const uint8_t ifv[8]);
	void *key_observer_arg;
};

/* ---------------------------------------------------------------------------------------------
 * The response bound.
 */
static pcitsm_err cma_bounded(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			      uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_emu_device *d = pcitsm_container_of(h, struct pcitsm_emu_device, cma);

	return d->rsp.doe.handle(&d->rsp.doe, req, req_len, rsp,
				 PCITSM_MIN(rsp_cap, d->max_payload), rsp_len);
}

static pcitsm_err secured_bounded(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
				  uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_emu_device *d = pcitsm_container_of(h, struct pcitsm_emu_device, secured);

	return d->rsp.sdoe.handle(&d->rsp.sdoe, req, req_len, rsp,
				  PCITSM_MIN(rsp_cap, d->max_payload), rsp_len);
}

/* DataTransferSize (= MaxSPDMmsgSize: no chunking) for a DOE response bound: what is left of the
 * bound after the DOE header and the secured-message framing (DSP0277: session ID, length,
 * application data length, MAC), a multiple of 4; at the default bound, the responder's own
 * default 4096. 0 if the bound leaves less than DSP0274's minimum. */
static uint32_t dts_for(uint32_t max_doe_rsp)
{
	uint32_t room;

	if (max_doe_rsp < PCITSM_EMU_DOE_RSP_MIN || max_doe_rsp > PCITSM_DOE_MAX_BYTES)
		return 0;
	room = ((max_doe_rsp - PCITSM_DOE_HDR_LEN) & ~3u) - PCITSM_SM_OVERHEAD;
	room &= ~3u;
	if (max_doe_rsp <= PCITSM_EMU_DOE_RSP_MAX)
		room = PCITSM_MIN(room, EMU_SPDM_DTS_DEFAULT);
	return room;
}

/* ---------------------------------------------------------------------------------------------
 * IDE_KM.
 */
/* The SPDM responder reports every session that ends (END_SESSION, a failure, GET_VERSION, the
 * heartbeat watchdog); if it is the one the IDE_KM responder is bound to, the next IDE_KM request
 * first invalidates that session's keys (PCIe 6.x §6.33.3). */
static void km_session_ended(void *ctx, uint32_t session_id)
{
	struct pcitsm_emu_device *d = ctx;

	pcitsm_idekm_rsp_session_closed(&d->km, session_id);
	/* The device's engines do not wait for that request: the streams the ended session keyed
	 * go Insecure now, their keys invalidated (PCIe 6.x §6.33.3), so the link stops carrying
	 * IDE TLPs the moment the session is gone. The responder's own bookkeeping follows at its
	 * next request. */
	if (!d->km.stale)
		return;
	for (unsigned i = 0; i < d->km.nr_ports; i++)
		for (unsigned s = 0; s < PCITSM_IDEKM_RSP_STREAMS; s++)
			if (d->km.port[i].keyed & (1u << s) &&
			    pcitsm_ide_stream_disable(d->km.port[i].ide, s) != PCITSM_OK)
				pcitsm_debug(d->km.env, "emu: stream %u not disabled", s);
}

/* IDE_KM, with the refused-KEY_PROG and lying-QUERY_RESP faults around the real responder. */
static pcitsm_err km_vdm(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
			 struct pcitsm_wr *rsp)
{
	struct pcitsm_emu_device *d = ctx;
	struct pcitsm_idekm_key_prog kp;
	struct pcitsm_idekm_ks ack;
	uint8_t obj;

	if (d->key_observer && pcitsm_idekm_peek(req, len, &obj) == PCITSM_OK &&
	    obj == PCITSM_IDEKM_KEY_PROG &&
	    pcitsm_idekm_key_prog_decode(req, len, &kp) == PCITSM_OK) {
		d->key_observer(d->key_observer_arg, kp.key, kp.ifv);
		pcitsm_wipe(&kp, sizeof(kp));
	}
	if (d->faults.refuse_key_prog && pcitsm_idekm_peek(req, len, &obj) == PCITSM_OK &&
	    obj == PCITSM_IDEKM_KEY_PROG) {
		if (pcitsm_idekm_key_prog_decode(req, len, &kp) != PCITSM_OK)
			return PCITSM_E_NORESPONSE;
		ack = kp.ks;
		pcitsm_wipe(&kp, sizeof(kp));
		ack.obj = PCITSM_IDEKM_KP_ACK;
		ack.status = PCITSM_IDEKM_KP_UNSPECIFIED_FAILURE;
		return pcitsm_idekm_ks_encode(rsp, &ack);
	}
	if (d->faults.query_resp_lie && pcitsm_idekm_peek(req, len, &obj) == PCITSM_OK &&
	    obj == PCITSM_IDEKM_QUERY) {
		size_t at = pcitsm_wr_len(rsp) + PCITSM_IDEKM_QUERY_RESP_HDR_LEN;

		PCITSM_TRY(pcitsm_idekm_rsp_handle(&d->km, session_id, req, len, rsp));
		if (pcitsm_wr_len(rsp) >= at + 4) /* the IDE Capability register */
			rsp->p[at] ^= (uint8_t)PCITSM_IDE_CAP_AGGREGATION;
		return PCITSM_OK;
	}
	return pcitsm_idekm_rsp_handle(&d->km, session_id, req, len, rsp);
}

/* ---------------------------------------------------------------------------------------------
 * TDISP (PCIe 6.x §11): the DSM on function 0, one TDI per function of the device, each named by
 * its Requester ID and described by its real BAR0 and MSI-X (platform.c func_regs_build). It needs
 * the IDE_KM responder (LOCK asks it whether the default stream's keys were programmed and started
 * over the same session), so only a device with IDE has one.
 */
static pcitsm_err tdis_init(struct pcitsm_emu_device *d, struct pcitsm_emu_func *ep,
			    const struct pcitsm_env *env)
{
	uint32_t pf = pcitsm_bdf_rid(&ep->bdf);

	PCITSM_TRY(pcitsm_tdisp_dsm_init(&d->dsm, env, &d->km, NULL));
	d->dsm_init = true;
	PCITSM_TRY(pcitsm_tdisp_dsm_add_tdi(&d->dsm, pf, pf, &ep->desc));
	ep->dev = d;
	for (unsigned i = 0; i < ep->nr_siblings; i++) {
		struct pcitsm_emu_func *f = ep->sibling[i];

		PCITSM_TRY(pcitsm_tdisp_dsm_add_tdi(&d->dsm, pcitsm_bdf_rid(&f->bdf), pf, &f->desc));
		f->dev = d;
	}
	return pcitsm_tdisp_dsm_register(&d->dsm, &d->rsp);
}

/* f's TDI, as the device sees it now. The device's heartbeat timer is checked first: the session
 * that locked the TDI may have gone silent for two HeartbeatPeriods since anything last looked
 * (DSP0274 HEARTBEAT), and its end moves the TDI to ERROR and its streams Insecure (the end hooks
 * of the IDE_KM responder and the DSM) before the state is read. */
static struct pcitsm_tdisp_tdi *func_tdi(const struct pcitsm_emu_func *f)
{
	if (!f || !f->dev || !f->dev->dsm_init)
		return NULL;
	if (pcitsm_spdm_rsp_expire(&f->dev->rsp))
		pcitsm_debug(f->dev->km.env, "emu: heartbeat lost, session ended");
	return pcitsm_tdisp_dsm_find(&f->dev->dsm, pcitsm_bdf_rid(&f->bdf));
}

/* The link whose DMA path reads f's TDI state (emu_tee_admit, under the link's lock): a VF's is
 * its PF's. A TDI state change by a configuration write is made under that lock too, so a DMA
 * burst sees the state before or after it, never a change in the middle of its checks. */
static struct pcitsm_emu_link *tdi_link(const struct pcitsm_emu_func *f)
{
	return f->link ? f->link : f->physfn ? f->physfn->link : NULL;
}

void emu_tdi_config_written(struct pcitsm_emu_func *f)
{
	struct pcitsm_emu_link *l = f ? tdi_link(f) : NULL;

	emu_link_lock(l);
	if (func_tdi(f))
		pcitsm_tdisp_dsm_config_written(&f->dev->dsm, pcitsm_bdf_rid(&f->bdf));
	emu_link_unlock(l);
}

void emu_tdi_flr(struct pcitsm_emu_func *f)
{
	struct pcitsm_emu_link *l = f ? tdi_link(f) : NULL;

	emu_link_lock(l);
	if (func_tdi(f))
		pcitsm_tdisp_dsm_flr(&f->dev->dsm, pcitsm_bdf_rid(&f->bdf));
	emu_link_unlock(l);
}

void emu_tdi_stream_insecure(struct pcitsm_emu_func *f, uint8_t stream_id)
{
	struct pcitsm_emu_link *l = f ? tdi_link(f) : NULL;

	emu_link_lock(l);
	if (f && f->dev && f->dev->dsm_init)
		pcitsm_tdisp_dsm_stream_insecure(&f->dev->dsm, stream_id);
	emu_link_unlock(l);
}

int pcitsm_emu_tdi_state(const struct pcitsm_emu_func *f)
{
	const struct pcitsm_tdisp_tdi *t = func_tdi(f);

	return t ? (int)t->state : -1;
}

enum pcitsm_tdisp_cause pcitsm_emu_tdi_cause(const struct pcitsm_emu_func *f)
{
	const struct pcitsm_tdisp_tdi *t = func_tdi(f);

	return t ? t->cause : PCITSM_TDISP_CAUSE_NONE;
}

struct pcitsm_tdisp_dsm *pcitsm_emu_device_dsm(struct pcitsm_emu_device *d)
{
	return d && d->dsm_init ? &d->dsm : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The one constructor.
 */
static pcitsm_err device_init(struct pcitsm_emu_device *d, struct pcitsm_emu_func *ep,
			      const struct pcitsm_emu_device_cfg *cfg,
			      const struct pcitsm_env *env, struct pcitsm_trust *trust)
{
	uint32_t bound = cfg->max_doe_rsp ? cfg->max_doe_rsp : PCITSM_EMU_DOE_RSP_MAX;
	struct pcitsm_spdm_rsp_opts opts;
	char name[64], bdf[13];

	d->ep = ep;
	d->faults = cfg->faults;
	d->key_observer = cfg->key_observer;
	d->key_observer_arg = cfg->key_observer_arg;
	pcitsm_spdm_rsp_opts_default(&opts);
	opts.data_transfer_size = dts_for(bound);
	if (!opts.data_transfer_size || cfg->nr_versions > PCITSM_ARRAY_SIZE(opts.versions))
		return PCITSM_E_INVAL;
	d->max_payload = (bound - PCITSM_DOE_HDR_LEN) & ~(size_t)3;
	if (cfg->nr_versions) {
		memcpy(opts.versions, cfg->versions, cfg->nr_versions);
		opts.nr_versions = cfg->nr_versions;
	}
	opts.heartbeat_period = cfg->heartbeat_period;
	opts.heartbeat_watchdog = cfg->heartbeat_watchdog;
	if (cfg->identity) {
		d->id = cfg->identity;
	} else {
		d->own_id = calloc(1, sizeof(*d->own_id));
		if (!d->own_id)
			return PCITSM_E_NOMEM;
		pcitsm_bdf_format(&ep->bdf, bdf);
		if (cfg->name)
			snprintf(name, sizeof(name), "%s", cfg->name);
		else
			snprintf(name, sizeof(name), "emulated endpoint %s", bdf);
		PCITSM_TRY(pcitsm_identity_generate(d->own_id,
						    cfg->curve_bits ? cfg->curve_bits : 384, name));
		d->id = d->own_id;
	}
	if (trust && !d->faults.untrusted_cert)
		PCITSM_TRY(pcitsm_trust_add_der(trust, d->id->root, d->id->root_len));
	PCITSM_TRY(pcitsm_spdm_rsp_init(&d->rsp, d->id, &opts, env));
	d->rsp_init = true;
	pcitsm_spdm_rsp_set_faults(&d->rsp, &d->faults.spdm);
	pcitsm_idekm_rsp_init(&d->km, env);
	if (ep->ide_off && ep->ide_port) {
		PCITSM_TRY(pcitsm_idekm_rsp_add_port(&d->km, &ep->cfg.cfg, ep->ide_port, &ep->bdf));
		PCITSM_TRY(pcitsm_spdm_rsp_register_vdm(&d->rsp, PCITSM_SPDM_PROTO_IDE_KM, km_vdm, d));
		PCITSM_TRY(pcitsm_spdm_rsp_register_vdm_end(&d->rsp, PCITSM_SPDM_PROTO_IDE_KM,
							    km_session_ended, d));
		PCITSM_TRY(tdis_init(d, ep, env));
	}
	d->cma = (struct pcitsm_doe_handler){ PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
					      cma_bounded };
	d->secured = (struct pcitsm_doe_handler){ PCITSM_DOE_VID_PCISIG,
						  PCITSM_DOE_TYPE_SECURED_CMA, secured_bounded };
	ep->cma_impl = &d->cma;
	ep->secured_impl = &d->secured;
	return PCITSM_OK;
}

pcitsm_err pcitsm_emu_device_new(struct pcitsm_emu_device **out, struct pcitsm_emu_func *ep,
				 const struct pcitsm_emu_device_cfg *cfg,
				 const struct pcitsm_env *env, struct pcitsm_trust *trust)
{
	struct pcitsm_emu_device *d;
	pcitsm_err e;

	if (!out)
		return PCITSM_E_INVAL;
	*out = NULL;
	if (!ep || !cfg || !env || ep->kind != PCITSM_EMU_ENDPOINT || !ep->doe_off)
		return PCITSM_E_INVAL;
	if (ep->cma_impl || ep->secured_impl)
		return PCITSM_E_EXISTS; /* one device per endpoint */
	d = calloc(1, sizeof(*d));
	if (!d)
		return PCITSM_E_NOMEM;
	e = device_init(d, ep, cfg, env, trust);
	if (e) {
		pcitsm_emu_device_free(d);
		return e;
	}
	*out = d;
	return PCITSM_OK;
}

void pcitsm_emu_device_free(struct pcitsm_emu_device *d)
{
	if (!d)
		return;
	if (d->ep && d->ep->cma_impl == &d->cma)
		d->ep->cma_impl = NULL;
	if (d->ep && d->ep->secured_impl == &d->secured)
		d->ep->secured_impl = NULL;
	if (d->ep) {
		if (d->ep->dev == d)
			d->ep->dev = NULL;
		for (unsigned i = 0; i < d->ep->nr_siblings; i++)
			if (d->ep->sibling[i]->dev == d)
				d->ep->sibling[i]->dev = NULL;
	}
	if (d->rsp_init)
		pcitsm_spdm_rsp_free(&d->rsp);
	if (d->dsm_init)
		pcitsm_tdisp_dsm_free(&d->dsm);
	pcitsm_wipe(&d->km, sizeof(d->km));
	if (d->own_id) {
		pcitsm_identity_free(d->own_id);
		free(d->own_id);
	}
	free(d);
}

const struct pcitsm_identity *pcitsm_emu_device_identity(const struct pcitsm_emu_device *d)
{
	return d->id;
}

uint32_t pcitsm_emu_device_data_transfer_size(const struct pcitsm_emu_device *d)
{
	return d->rsp.opts.data_transfer_size;
}

unsigned pcitsm_emu_device_requests(const struct pcitsm_emu_device *d)
{
	return d->rsp.served;
}

/* ---------------------------------------------------------------------------------------------
 * Every endpoint of a platform.
 */
struct pcitsm_emu_devices {
	struct pcitsm_identity shared;
	bool have_shared;
	unsigned n;
	struct pcitsm_emu_device *dev[PCITSM_EMU_MAX_PORTS];
};

pcitsm_err pcitsm_emu_devices_new(struct pcitsm_emu_devices **out, struct pcitsm_emu_platform *p,
				  const struct pcitsm_emu_devices_cfg *cfg, struct pcitsm_trust *trust)
{
	struct pcitsm_emu_devices *ds;
	pcitsm_err e = PCITSM_OK;

	if (!out || !p || !cfg)
		return PCITSM_E_INVAL;
	*out = NULL;
	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return PCITSM_E_NOMEM;
	if (cfg->identity_dir) {
		e = pcitsm_identity_load(&ds->shared, cfg->identity_dir);
		ds->have_shared = !e;
	}
	for (unsigned i = 0; i < p->config.nr_ports && !e; i++) {
		struct pcitsm_emu_func *ep = &p->funcs[p->config.nr_ports + i];
		struct pcitsm_emu_device_cfg dc = {
			.identity = ds->have_shared ? &ds->shared : NULL,
			.curve_bits = cfg->curve_bits,
			.heartbeat_period = cfg->heartbeat_period,
			.heartbeat_watchdog = cfg->heartbeat_watchdog,
			.versions = &cfg->spdm_version,
			.nr_versions = cfg->spdm_version ? 1 : 0,
			.max_doe_rsp = cfg->max_doe_rsp,
			.faults = cfg->faults[i],
			.key_observer = cfg->key_observer,
			.key_observer_arg = cfg->key_observer_arg,
		};

		if (ep->kind != PCITSM_EMU_ENDPOINT || !ep->doe_off)
			continue;
		e = pcitsm_emu_device_new(&ds->dev[ds->n], ep, &dc, p->env, trust);
		if (!e)
			ds->n++;
	}
	if (e) {
		pcitsm_emu_devices_free(ds);
		return e;
	}
	*out = ds;
	return PCITSM_OK;
}

void pcitsm_emu_devices_free(struct pcitsm_emu_devices *ds)
{
	if (!ds)
		return;
	for (unsigned i = 0; i < ds->n; i++)
		pcitsm_emu_device_free(ds->dev[i]);
	if (ds->have_shared)
		pcitsm_identity_free(&ds->shared);
	free(ds);
}

/* ---------------------------------------------------------------------------------------------
 * One device on its own (`pcitsm emulate`): the default platform's first link, alone, so that the
 * endpoint has the same config space, IDE capability and engine as pcitsmd's.
 */
struct pcitsm_emu_standalone {
	struct pcitsm_emu_platform p;
	bool p_init;
	struct pcitsm_emu_device *dev;
};

pcitsm_err pcitsm_emu_standalone_new(struct pcitsm_emu_standalone **out,
				     const struct pcitsm_emu_device_cfg *cfg, uint8_t doe_version,
				     const struct pcitsm_env *env)
{
	struct pcitsm_emu_standalone *s;
	struct pcitsm_emu_config pc;
	pcitsm_err e;

	if (!out)
		return PCITSM_E_INVAL;
	*out = NULL;
	if (!cfg || !env || (doe_version != 1 && doe_version != 2))
		return PCITSM_E_INVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PCITSM_E_NOMEM;
	pcitsm_emu_config_default(&pc);
	pc.nr_ports = 1;
	pc.ports[0].doe_version = doe_version;
	e = pcitsm_emu_platform_init(&s->p, &pc, env);
	s->p_init = !e;
	if (!e)
		e = pcitsm_emu_device_new(&s->dev, &s->p.funcs[1], cfg, env, NULL);
	if (e) {
		pcitsm_emu_standalone_free(s);
		return e;
	}
	*out = s;
	return PCITSM_OK;
}

void pcitsm_emu_standalone_free(struct pcitsm_emu_standalone *s)
{
	if (!s)
		return;
	pcitsm_emu_device_free(s->dev);
	if (s->p_init)
		pcitsm_emu_platform_free(&s->p);
	free(s);
}

struct pcitsm_emu_func *pcitsm_emu_standalone_endpoint(struct pcitsm_emu_standalone *s)
{
	return &s->p.funcs[1];
}

struct pcitsm_emu_device *pcitsm_emu_standalone_device(struct pcitsm_emu_standalone *s)
{
	return s->dev;
}
