/* SPDX-License-Identifier: MIT */
/*
 * The firmware as TDISP requester (PCIe 6.x §11; docs/tsm.md "TDISP: the devsec TSM"): the
 * library's one sequence (lib/tdisp seq.c) over the SPDM session the firmware opened at
 * DEV_CONNECT and used for IDE_KM. The host relays secured-CMA objects and never sees the START
 * nonce; accept binds to the evidence the host read (digest and generation) and checks it again
 * against the device before it sends START.
 */
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "pcitsm/spdm_driver.h"

static pcitsm_err tdi_exchange(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct pcitsm_tio_dev *d = arg;

	return pcitsm_spdm_drv_vdm_call(&d->s, &d->x, PCITSM_SPDM_PROTO_TDISP, req, len, rsp);
}

static const struct pcitsm_tdisp_seq_ops tdi_ops = { .exchange = tdi_exchange };

static struct fw_tdi **tdi_slot(struct pcitsm_tio_dev *d, uint16_t rid)
{
	for (unsigned i = 0; i < PCITSM_TIO_MAX_TDIS; i++)
		if (d->tdi[i] && d->tdi[i]->rid == rid)
			return &d->tdi[i];
	return NULL;
}

static void tdi_free(struct fw_tdi **slot)
{
	pcitsm_tdisp_seq_wipe(&(*slot)->seq);
	pcitsm_wipe(*slot, sizeof(**slot));
	free(*slot);
	*slot = NULL;
}

/* The report read again: a digest other than the last one seen is a new generation. */
static pcitsm_err tdi_reread(struct pcitsm_tio_dev *d, struct fw_tdi *t)
{
	PCITSM_TRY(pcitsm_tdisp_seq_reread(&t->seq, &tdi_ops, d, 0));
	if (pcitsm_ct_memneq(t->seen, t->seq.digest, sizeof(t->seen))) {
		memcpy(t->seen, t->seq.digest, sizeof(t->seen));
		t->generation++;
	}
	return PCITSM_OK;
}

static void tdi_fail(struct pcitsm_tsm_failure *fail, enum pcitsm_tsm_step step, pcitsm_err e,
		     const struct pcitsm_tdisp_seq *s)
{
	pcitsm_tsm_failure_set(fail, step, e, "TDISP %s: %s", pcitsm_tdisp_step_name(s->step),
			       s->why[0] ? s->why : pcitsm_err_str(e));
}

pcitsm_err pcitsm_tio_tdi_lock(struct pcitsm_tio_dev *d, uint16_t rid, uint16_t flags,
			       struct pcitsm_tsm_failure *fail)
{
	struct pcitsm_tdisp_seq_opts o;
	struct fw_tdi **slot = NULL;
	pcitsm_err e;

	if (!d || !fail)
		return PCITSM_E_INVAL;
	if (!d->session_open || d->stream_id < 0) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_LOCK, PCITSM_E_STATE,
				       "no SPDM session and IDE stream to lock over");
		return PCITSM_E_STATE;
	}
	if (tdi_slot(d, rid)) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_LOCK, PCITSM_E_EXISTS,
				       "TDI already locked");
		return PCITSM_E_EXISTS;
	}
	for (unsigned i = 0; i < PCITSM_TIO_MAX_TDIS && !slot; i++)
		if (!d->tdi[i])
			slot = &d->tdi[i];
	if (!slot) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_LOCK, PCITSM_E_EXHAUSTED,
				       "too many TDIs locked");
		return PCITSM_E_EXHAUSTED;
	}
	*slot = calloc(1, sizeof(**slot));
	if (!*slot)
		return PCITSM_E_NOMEM;
	(*slot)->rid = rid;
	memset(&o, 0, sizeof(o));
	o.function_id = rid;
	o.lock.flags = flags;
	o.lock.stream_id = (uint8_t)d->stream_id;
	o.stop_stale = true; /* no record of this TDI (checked above): any lock is a leftover */
	e = pcitsm_tdisp_seq_lock(&(*slot)->seq, &tdi_ops, d, &o);
	if (e) {
		tdi_fail(fail, PCITSM_TSM_STEP_TDI_LOCK, e, &(*slot)->seq);
		/* A TDI this sequence locked does not stay locked. */
		if ((*slot)->seq.locked &&
		    pcitsm_tdisp_seq_stop(&(*slot)->seq, &tdi_ops, d) != PCITSM_OK)
			pcitsm_debug(d->fw->env, "tsm fw: STOP after a failed lock not answered");
		tdi_free(slot);
		return e;
	}
	/* Generations count every LOCK of the device's TDIs: evidence read under an earlier lock
	 * never matches a later one. */
	(*slot)->generation = ++d->tdi_generation;
	memcpy((*slot)->seen, (*slot)->seq.digest, sizeof((*slot)->seen));
	return PCITSM_OK;
}

pcitsm_err pcitsm_tio_tdi_evidence(struct pcitsm_tio_dev *d, uint16_t rid,
				   struct pcitsm_tsm_tdi_evidence *ev)
{
	struct fw_tdi **slot = d ? tdi_slot(d, rid) : NULL;
	struct fw_tdi *t;
	pcitsm_err e;

	if (!ev)
		return PCITSM_E_INVAL;
	memset(ev, 0, sizeof(*ev));
	if (!slot)
		return PCITSM_E_NOTFOUND;
	t = *slot;
	if (!d->session_open)
		return PCITSM_E_STATE;
	e = tdi_reread(d, t);
	ev->state = t->seq.state;
	if (e)
		return e;
	memcpy(ev->report, t->seq.report, t->seq.report_len);
	ev->report_len = t->seq.report_len;
	memcpy(ev->digest, t->seq.digest, sizeof(ev->digest));
	ev->generation = t->generation;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tio_tdi_state(struct pcitsm_tio_dev *d, uint16_t rid, uint8_t *state)
{
	struct pcitsm_tdisp_seq *s;
	pcitsm_err e;

	if (!d || !state)
		return PCITSM_E_INVAL;
	if (!d->session_open)
		return PCITSM_E_STATE;
	/* A requester of its own: the state of any TDI of the device, locked by us or not, and
	 * no effect on a lock's nonce or report. */
	s = malloc(sizeof(*s));
	if (!s)
		return PCITSM_E_NOMEM;
	pcitsm_tdisp_seq_init(s, rid);
	e = pcitsm_tdisp_seq_state(s, &tdi_ops, d);
	*state = s->state;
	pcitsm_tdisp_seq_wipe(s);
	free(s);
	return e;
}

pcitsm_err pcitsm_tio_tdi_accept(struct pcitsm_tio_dev *d, uint16_t rid,
				 const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], uint32_t generation,
				 struct pcitsm_tsm_failure *fail)
{
	struct fw_tdi **slot = d ? tdi_slot(d, rid) : NULL;
	struct fw_tdi *t;
	bool stale;
	pcitsm_err e;

	if (!digest || !fail)
		return PCITSM_E_INVAL;
	if (!slot) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_ACCEPT, PCITSM_E_NOTFOUND,
				       "TDI not locked by the firmware");
		return PCITSM_E_NOTFOUND;
	}
	t = *slot;
	if (!d->session_open) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_ACCEPT, PCITSM_E_STATE,
				       "the SPDM session is gone");
		return PCITSM_E_STATE;
	}
	/* The evidence must still be the TDI's: still CONFIG_LOCKED, the report as read. */
	e = tdi_reread(d, t);
	if (e == PCITSM_E_MISMATCH && t->seq.step == PCITSM_TDISP_STEP_STATE)
		e = PCITSM_OK; /* not locked any more: said below */
	if (e) {
		tdi_fail(fail, PCITSM_TSM_STEP_TDI_ACCEPT, e, &t->seq);
		return e;
	}
	if (t->seq.state != PCITSM_TDISP_CONFIG_LOCKED) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_ACCEPT, PCITSM_E_STATE,
				       "TDI left CONFIG_LOCKED (%s) after the evidence was read",
				       pcitsm_tdisp_state_name(t->seq.state));
		return PCITSM_E_STATE;
	}
	/* The caller's evidence: the same report bytes, and no LOCK or change since. */
	stale = generation != t->generation;
	stale |= pcitsm_ct_memneq(digest, t->seq.digest, PCITSM_TDISP_DIGEST_LEN) != 0;
	if (stale) {
		pcitsm_tsm_failure_set(fail, PCITSM_TSM_STEP_TDI_ACCEPT, PCITSM_E_MISMATCH,
				       "the report changed after the evidence was read "
				       "(generation %u, now %u)", generation, t->generation);
		return PCITSM_E_MISMATCH;
	}
	e = pcitsm_tdisp_seq_start(&t->seq, &tdi_ops, d);
	if (e) {
		tdi_fail(fail, PCITSM_TSM_STEP_TDI_ACCEPT, e, &t->seq);
		return e;
	}
	return PCITSM_OK;
}

void pcitsm_tio_tdi_unlock(struct pcitsm_tio_dev *d, uint16_t rid)
{
	struct fw_tdi **slot = d ? tdi_slot(d, rid) : NULL;

	if (!slot)
		return;
	if (d->session_open && pcitsm_tdisp_seq_stop(&(*slot)->seq, &tdi_ops, d) != PCITSM_OK)
		pcitsm_debug(d->fw->env, "tsm fw: STOP of TDI 0x%04x not answered", rid);
	tdi_free(slot);
}

/* DEV_DISCONNECT / RECLAIM: every TDI record goes (the device moves them to ERROR itself when the
 * session ends). */
void fw_tdis_drop(struct pcitsm_tio_dev *d)
{
	for (unsigned i = 0; i < PCITSM_TIO_MAX_TDIS; i++)
		if (d->tdi[i])
			tdi_free(&d->tdi[i]);
}
