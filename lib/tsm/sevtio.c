/* SPDX-License-Identifier: MIT */
/*
 * The platform-firmware TSM's host driver, after Linux drivers/crypto/ccp/sev-dev-tsm.c
 * (Linux drivers/crypto/ccp/sev-dev-tsm.c): a backend (pcitsm_tsm_sevtio) whose link-TSM ops become
 * tsm0. It finds the CMA mailbox, asks the firmware (through its command interface,
 * include/pcitsm/tio.h; the firmware itself is lib/tsmfw) to create and connect the device, relays
 * the firmware's DOE objects, and does the host's share of IDE: the pools and the selective-stream
 * registers, with Enable clear, then Enable once the firmware has installed the keys. It never
 * holds a key.
 *
 * Step order (docs/tsm.md): DOE -> DEV_CREATE -> SPDM (auth, measurements, session) -> stream
 * alloc + register -> stream setup (EP, RP) -> IDE_START (QUERY, KEY_PROG, K_SET_GO) -> Enable
 * (endpoint, then root port) with Secure checked at both. Unwinding is the reverse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/tio.h"
#include "tsm_priv.h"

struct sevtio {
	struct pcitsm_tsm_core *core;
	struct pcitsm_tio_fw *fw; /* the platform's firmware (not owned) */
};

struct sevtio_dev {
	struct sevtio *tio;
	struct tsm_fn *fn;
	struct pcitsm_doe_host *doe; /* the CMA mailbox (pci_tsm_pf0.doe_mb) */
	struct pcitsm_tio_dev *fwdev;
	unsigned relayed;           /* objects relayed for the firmware */
};

/* SPDM_REQUEST exit: the firmware's object goes out as DOE type 1 or 2, the answer comes back. */
static pcitsm_err host_relay(void *host, uint8_t type, const uint8_t *req, size_t req_len,
			     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct sevtio_dev *d = host;

	if (type != PCITSM_DOE_TYPE_CMA && type != PCITSM_DOE_TYPE_SECURED_CMA)
		return PCITSM_E_INVAL;
	d->relayed++;
	return pcitsm_xport_exchange(&d->doe->x, PCITSM_DOE_VID_PCISIG, type, req, req_len, rsp,
				     rsp_cap, rsp_len);
}

/* pci_tsm_pf0_constructor: a DOE mailbox that supports CMA, or no context (ENXIO). */
static pcitsm_err tio_probe(void *ctx, struct tsm_fn *fn, void **drv)
{
	struct sevtio *tio = ctx;
	struct sevtio_dev *d;

	*drv = NULL;
	if (!fn->dsm_capable)
		return PCITSM_OK;
	if (!fn->doe_cma || fn->doe.dead) {
		pcitsm_info(tio->core->env, "tsm: %s: no CMA mailbox", fn->name);
		return PCITSM_OK;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return PCITSM_E_NOMEM;
	d->tio = tio;
	d->fn = fn;
	d->doe = &fn->doe;
	*drv = d;
	return PCITSM_OK;
}

static void tio_remove(void *ctx, struct tsm_fn *fn, void *drv)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)fn;
	if (!d)
		return;
	pcitsm_tio_dev_reclaim(d->fwdev);
	free(d);
}

static void step_mark(struct tsm_fn *fn, enum pcitsm_tsm_step s, uint64_t *t)
{
	uint64_t now = pcitsm_now_ns(fn->core->env);

	fn->step_ns[s] = now - *t;
	*t = now;
}

/* Unwind everything the host holds: streams disabled and torn down, IDs back in the pools. The
 * firmware's part (K_SET_STOP, END_SESSION, RECLAIM) is the caller's. */
static void host_release(struct tsm_fn *fn)
{
	tsm_stream_release(fn->stream);
	fn->stream = NULL;
}

static pcitsm_err tio_connect(void *ctx, struct tsm_fn *fn, void *drv,
			      struct pcitsm_tsm_failure *fail)
{
	struct sevtio *tio = ctx;
	struct sevtio_dev *d = drv;
	const struct pcitsm_env *env = tio->core->env;
	struct tsm_setup_opts ep_o, rp_o;
	struct pcitsm_pci_id rpid;
	struct tsm_stream *s = NULL;
	uint64_t t = pcitsm_now_ns(env);
	pcitsm_err e;

	/* 1. SEV-TIO needs secured CMA on the same mailbox: EFAULT otherwise. */
	if (!pcitsm_doe_host_supports(d->doe, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_SECURED_CMA)) {
		fail->errno_val = EFAULT;
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_DOE, PCITSM_E_UNSUPPORTED,
				       "the CMA mailbox does not support secured CMA (DOE type 2)");
		return PCITSM_E_UNSUPPORTED;
	}
	if (!fn->rp || !fn->port.ide || !fn->rp->port.ide) {
		fail->errno_val = ENXIO;
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_DOE, PCITSM_E_UNSUPPORTED,
				       "no selective IDE at the endpoint or its root port");
		return PCITSM_E_UNSUPPORTED;
	}
	step_mark(fn, PCITSM_TSM_STEP_DOE, &t);

	/* 2. TIO_DEV_CREATE with the RID, the root port's Port Number and the segment. */
	e = pcitsm_pci_read_id(fn->rp->cfg, &rpid);
	if (!e)
		e = pcitsm_tio_dev_create(tio->fw, fn->bdf.seg, pcitsm_bdf_rid(&fn->bdf),
					  rpid.port_number, host_relay, d, &d->fwdev);
	if (e) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_DEV_CREATE, e, "TIO_DEV_CREATE: %s",
				       pcitsm_err_str(e));
		return e;
	}
	step_mark(fn, PCITSM_TSM_STEP_DEV_CREATE, &t);

	/* 3. DEV_CONNECT, SPDM part: the firmware authenticates, measures, opens the session. */
	e = pcitsm_tio_dev_connect(d->fwdev, fail, fn->step_ns);
	if (e)
		goto fw_unwind;
	t = pcitsm_now_ns(env);

	/* 4. Stream IDs: H, R, E from the pools; the Stream ID is the H index (SEV-TIO, 6.19). */
	e = tsm_stream_alloc(fn, &s);
	if (!e) {
		fn->stream = s;
		e = tsm_stream_register(s, (uint8_t)s->h);
	}
	if (e) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_STREAM_ALLOC, e, "%s",
				       e == PCITSM_E_EXHAUSTED
					       ? "IDE stream pool exhausted (host bridge slots or "
						 "selective blocks at a port)"
				       : e == PCITSM_E_BUSY ? "Stream ID already registered in the host bridge"
							    : pcitsm_err_str(e));
		goto unwind;
	}
	step_mark(fn, PCITSM_TSM_STEP_STREAM_ALLOC, &t);

	/* 5. Setup at both partners, Enable clear, Stream ID set. SEV-TIO forces the RID range to
	 * 0..0xFFFF, the first stream to be the Default Stream, and CFG / TEE-limited per side. */
	ep_o = (struct tsm_setup_opts){ .default_stream = true, .cfg_en = false, .tee_limited = true,
					.rid_base = 0, .rid_limit = 0xffff, .mem_assoc = false };
	rp_o = (struct tsm_setup_opts){ .default_stream = false, .cfg_en = true, .tee_limited = false,
					.rid_base = 0, .rid_limit = 0xffff, .mem_assoc = true };
	e = tsm_stream_setup(s, fn, s->e, &ep_o);
	if (!e)
		e = tsm_stream_setup(s, fn->rp, s->r, &rp_o);
	if (e) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_STREAM_SETUP, e,
				       "selective stream registers: %s", pcitsm_err_str(e));
		goto unwind;
	}
	step_mark(fn, PCITSM_TSM_STEP_STREAM_SETUP, &t);

	/* 6. DEV_CONNECT, IDE part: keys at both ends, GO receivers then transmitters. */
	e = pcitsm_tio_ide_start(d->fwdev, (uint8_t)s->stream_id, fn->cfg, fn->port.ide_off,
				 &fn->bdf, fail, fn->step_ns);
	if (e)
		goto unwind;
	t = pcitsm_now_ns(env);

	/* 7. Enable, endpoint before root port (PCIe r7.0 §6.33.8 with config-request IDE), and
	 * Secure at both. */
	e = tsm_stream_enable(s, fn, s->e);
	if (!e)
		e = tsm_stream_enable(s, fn->rp, s->r);
	if (e) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_ENABLE, e,
				       "stream %d did not reach Secure at the %s", s->stream_id,
				       s->enabled_ep ? "root port" : "endpoint");
		goto unwind;
	}
	step_mark(fn, PCITSM_TSM_STEP_ENABLE, &t);
	fn->have_step_ns = true;
	fn->key_set = pcitsm_tio_dev_key_set(d->fwdev);
	return PCITSM_OK;

unwind:
	/* Reverse: Enable cleared, keys stopped, registers idle, IDs released, session ended. */
	if (s && s->enabled_rp)
		tsm_stream_disable(s, fn->rp, s->r);
	if (s && s->enabled_ep)
		tsm_stream_disable(s, fn, s->e);
	pcitsm_tio_ide_stop(d->fwdev);
	host_release(fn);
fw_unwind:
	pcitsm_tio_dev_disconnect(d->fwdev);
	pcitsm_tio_dev_reclaim(d->fwdev);
	d->fwdev = NULL;
	return e;
}

/* TIO_DEV_DISCONNECT, then disable -> teardown -> unregister -> free. */
static void tio_disconnect(void *ctx, struct tsm_fn *fn, void *drv)
{
	struct sevtio_dev *d = drv;
	struct tsm_stream *s = fn->stream;

	(void)ctx;
	if (s && s->enabled_rp)
		tsm_stream_disable(s, fn->rp, s->r);
	if (s && s->enabled_ep)
		tsm_stream_disable(s, fn, s->e);
	if (d->fwdev) {
		pcitsm_tio_ide_stop(d->fwdev);
		pcitsm_tio_dev_disconnect(d->fwdev);
		pcitsm_tio_dev_reclaim(d->fwdev);
		d->fwdev = NULL;
	}
	host_release(fn);
}

/* The host's share of a refresh the firmware made (PCIe 6.x §6.33.3 refresh order): traffic
 * switches, then the firmware stops the old set. */
static pcitsm_err refresh_finish(struct sevtio_dev *d, struct tsm_fn *fn)
{
	fn->key_set = pcitsm_tio_dev_key_set(d->fwdev);
	/* Every receiver switches to the new set now rather than at the next TLP of its sub-stream,
	 * so that the old set can be stopped and the next refresh program it again (PCIe 6.x §6.33
	 * key refresh). */
	PCITSM_TRY(tsm_fn_link_flush(fn));
	return pcitsm_tio_dev_rekey_done(d->fwdev);
}

static pcitsm_err tio_rekey(void *ctx, struct tsm_fn *fn, void *drv)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	if (!d->fwdev)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_tio_dev_rekey(d->fwdev));
	return refresh_finish(d, fn);
}

/* TIO_DEV_KEY_CHECK: the firmware decides and refreshes; the host relays and switches traffic. */
static pcitsm_err tio_key_check(void *ctx, struct tsm_fn *fn, void *drv, bool *refreshed)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	*refreshed = false;
	if (!d || !d->fwdev)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_tio_dev_key_check(d->fwdev, refreshed));
	return *refreshed ? refresh_finish(d, fn) : PCITSM_OK;
}

/* TIO_SET_KEY_POLICY: the firmware checks and keeps it; the host only passes it on. */
static pcitsm_err tio_key_policy(void *ctx, const struct pcitsm_tsm_key_policy *set,
				 struct pcitsm_tsm_key_policy *get)
{
	struct sevtio *tio = ctx;

	if (set)
		PCITSM_TRY(pcitsm_tio_key_policy_set(tio->fw, set));
	pcitsm_tio_key_policy_get(tio->fw, get);
	return PCITSM_OK;
}

static void tio_status(void *ctx, struct tsm_fn *fn, void *drv, struct pcitsm_tsm_status *st)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)fn;
	if (d && d->fwdev)
		pcitsm_tio_dev_status(d->fwdev, st);
}

static pcitsm_err tio_evidence(void *ctx, struct tsm_fn *fn, void *drv,
			       struct pcitsm_tsm_evidence *ev)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)fn;
	if (!d || !d->fwdev)
		return PCITSM_E_STATE;
	return pcitsm_tio_dev_evidence(d->fwdev, ev);
}

/* TIO_DEV_MEASUREMENTS: the host hands the nonce over and relays the secured objects. */
static pcitsm_err tio_evidence_refresh(void *ctx, struct tsm_fn *fn, void *drv,
				       const uint8_t nonce[PCITSM_TSM_NONCE_LEN])
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)fn;
	if (!d || !d->fwdev)
		return PCITSM_E_STATE;
	return pcitsm_tio_dev_evidence_refresh(d->fwdev, nonce);
}

static unsigned tio_sessions(void *ctx)
{
	struct sevtio *tio = ctx;

	return pcitsm_tio_sessions_open(tio->fw);
}

static const struct tsm_link_ops sevtio_ops = {
	.probe = tio_probe,
	.remove = tio_remove,
	.connect = tio_connect,
	.disconnect = tio_disconnect,
	.rekey = tio_rekey,
	.key_check = tio_key_check,
	.key_policy = tio_key_policy,
	.status = tio_status,
	.evidence = tio_evidence,
	.evidence_refresh = tio_evidence_refresh,
	.sessions_open = tio_sessions,
};

/* ---------------------------------------------------------------------------------------------
 * The devsec ops [proposal]: the same firmware, asked to lock, report, accept and unlock a TDI
 * over the device's session (SEV-TIO's TDI commands, phase 2). The host still only relays.
 */
static pcitsm_err devsec_lock(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
			      struct pcitsm_tsm_failure *fail)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)dsm;
	if (!d->fwdev)
		return PCITSM_E_STATE;
	/* The lock flags this TSM asks for: no firmware update while locked, MSI-X locked. */
	return pcitsm_tio_tdi_lock(d->fwdev, pcitsm_bdf_rid(&fn->bdf),
				   PCITSM_TDISP_LOCK_NO_FW_UPDATE | PCITSM_TDISP_LOCK_MSIX, fail);
}

static void devsec_unlock(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)dsm;
	if (d->fwdev)
		pcitsm_tio_tdi_unlock(d->fwdev, pcitsm_bdf_rid(&fn->bdf));
}

static pcitsm_err devsec_evidence(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
				  struct pcitsm_tsm_tdi_evidence *ev)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)dsm;
	if (!d->fwdev)
		return PCITSM_E_STATE;
	return pcitsm_tio_tdi_evidence(d->fwdev, pcitsm_bdf_rid(&fn->bdf), ev);
}

static pcitsm_err devsec_accept(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
				const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], uint32_t generation,
				struct pcitsm_tsm_failure *fail)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)dsm;
	if (!d->fwdev)
		return PCITSM_E_STATE;
	return pcitsm_tio_tdi_accept(d->fwdev, pcitsm_bdf_rid(&fn->bdf), digest, generation, fail);
}

static pcitsm_err devsec_state(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
			       uint8_t *state)
{
	struct sevtio_dev *d = drv;

	(void)ctx;
	(void)dsm;
	if (!d->fwdev)
		return PCITSM_E_STATE;
	return pcitsm_tio_tdi_state(d->fwdev, pcitsm_bdf_rid(&fn->bdf), state);
}

static const struct tsm_devsec_ops sevtio_devsec_ops = {
	.lock = devsec_lock,
	.unlock = devsec_unlock,
	.evidence = devsec_evidence,
	.accept = devsec_accept,
	.state = devsec_state,
};

static void sevtio_free(void *ctx)
{
	free(ctx);
}

/* TIO_STATUS -> TIO_INIT -> tsm_register(&sev_tsm_ops): the firmware is the platform's, already
 * initialised (pcitsm_tio_fw_new); the driver only holds it. */
static pcitsm_err sevtio_init(struct pcitsm_tsm_core *c, void *arg, void **ctx)
{
	struct sevtio *tio;

	if (!arg)
		return PCITSM_E_INVAL;
	tio = calloc(1, sizeof(*tio));
	if (!tio)
		return PCITSM_E_NOMEM;
	tio->core = c;
	tio->fw = arg;
	*ctx = tio;
	return PCITSM_OK;
}

const struct pcitsm_tsm_backend pcitsm_tsm_sevtio = {
	.name = "sev-tio",
	.init = sevtio_init,
	.fini = sevtio_free,
	.link = &sevtio_ops,
	.devsec = &sevtio_devsec_ops,
};
