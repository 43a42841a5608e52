/* SPDX-License-Identifier: MIT */
/*
 * The emulated endpoints' responders: an identity, an SPDM responder (CMA and secured CMA on the
 * endpoint's DOE mailbox) and an IDE_KM responder registered as its vendor-defined handler for
 * protocol 0x00, bound to the endpoint's config space and IDE engine. Test faults per device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm.h"

struct emu_dev {
	struct pcitsm_emu_func *ep;
	struct pcitsm_identity *id; /* own, or the shared one */
	bool own_id;
	struct pcitsm_spdm_rsp rsp;
	bool rsp_init;
	struct pcitsm_idekm_rsp km;
	struct pcitsm_emu_dev_faults faults;
	void (*key_observer)(void *arg, const uint8_t key[32], const uint8_t ifv[8]);
	void *key_observer_arg;
};

struct pcitsm_emu_devices {
	struct pcitsm_emu_platform *p;
	struct pcitsm_identity shared;
	bool have_shared;
	unsigned n;
	struct emu_dev dev[PCITSM_EMU_MAX_PORTS];
};

/* The SPDM responder reports every session that ends (END_SESSION, a failure, GET_VERSION, the
 * heartbeat watchdog); if it is the one the IDE_KM responder is bound to, the next IDE_KM request
 * first invalidates that session's keys (§E.1). */
static void km_session_ended(void *ctx, uint32_t session_id)
{
	struct emu_dev *d = ctx;

	pcitsm_idekm_rsp_session_closed(&d->km, session_id);
}

/* IDE_KM, with the refused-KEY_PROG and lying-QUERY_RESP faults around the real responder. */
static pcitsm_err km_vdm(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
			 struct pcitsm_wr *rsp)
{
	struct emu_dev *d = ctx;
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

static pcitsm_err dev_init(struct pcitsm_emu_devices *ds, struct emu_dev *d,
			   const struct pcitsm_emu_devices_cfg *cfg, unsigned port,
			   struct pcitsm_trust *trust)
{
	struct pcitsm_emu_func *ep = d->ep;
	struct pcitsm_spdm_rsp_opts opts;
	char name[64], bdf[13];

	d->faults = cfg->faults[port];
	d->key_observer = cfg->key_observer;
	d->key_observer_arg = cfg->key_observer_arg;
	if (ds->have_shared) {
		d->id = &ds->shared;
	} else {
		d->id = calloc(1, sizeof(*d->id));
		if (!d->id)
			return PCITSM_E_NOMEM;
		d->own_id = true;
		pcitsm_bdf_format(&ep->bdf, bdf);
		snprintf(name, sizeof(name), "emulated endpoint %s", bdf);
		PCITSM_TRY(pcitsm_identity_generate(d->id, cfg->curve_bits ? cfg->curve_bits : 384,
						    name));
	}
	if (trust && !d->faults.untrusted_cert)
		PCITSM_TRY(pcitsm_trust_add_der(trust, d->id->root, d->id->root_len));
	pcitsm_spdm_rsp_opts_default(&opts);
	opts.fault_bad_signature = d->faults.bad_signature;
	opts.heartbeat_period = cfg->heartbeat_period;
	if (cfg->spdm_version)
		pcitsm_spdm_rsp_opts_pin_version(&opts, cfg->spdm_version);
	PCITSM_TRY(pcitsm_spdm_rsp_init(&d->rsp, d->id, &opts, ds->p->env));
	d->rsp_init = true;
	pcitsm_idekm_rsp_init(&d->km, ds->p->env);
	if (ep->ide_off && ep->ide_port) {
		PCITSM_TRY(pcitsm_idekm_rsp_add_port(&d->km, &ep->cfg.cfg, ep->ide_port, &ep->bdf));
		PCITSM_TRY(pcitsm_spdm_rsp_register_vdm(&d->rsp, PCITSM_SPDM_PROTO_IDE_KM, km_vdm, d));
		PCITSM_TRY(pcitsm_spdm_rsp_register_vdm_end(&d->rsp, PCITSM_SPDM_PROTO_IDE_KM,
							    km_session_ended, d));
	}
	ep->cma_impl = &d->rsp.doe;
	ep->secured_impl = &d->rsp.sdoe;
	return PCITSM_OK;
}

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
	ds->p = p;
	if (cfg->identity_dir) {
		e = pcitsm_identity_load(&ds->shared, cfg->identity_dir);
		ds->have_shared = !e;
	}
	for (unsigned i = 0; i < p->config.nr_ports && !e; i++) {
		struct pcitsm_emu_func *ep = &p->funcs[p->config.nr_ports + i];

		if (ep->kind != PCITSM_EMU_ENDPOINT || !ep->doe_off)
			continue;
		ds->dev[ds->n].ep = ep;
		e = dev_init(ds, &ds->dev[ds->n++], cfg, i, trust);
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
	for (unsigned i = 0; i < ds->n; i++) {
		struct emu_dev *d = &ds->dev[i];

		d->ep->cma_impl = NULL;
		d->ep->secured_impl = NULL;
		if (d->rsp_init)
			pcitsm_spdm_rsp_free(&d->rsp);
		pcitsm_wipe(&d->km, sizeof(d->km));
		if (d->own_id && d->id) {
			pcitsm_identity_free(d->id);
			free(d->id);
		}
	}
	if (ds->have_shared)
		pcitsm_identity_free(&ds->shared);
	free(ds);
}
