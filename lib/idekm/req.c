/* SPDX-License-Identifier: MIT */
/*
 * IDE_KM requester engine: build a request, check the response against it (PCIe 6.x §6.33.3: one request
 * outstanding; the answer echoes PortIndex, Stream ID and Key Sub-Stream), and cross-check
 * QUERY_RESP's register copy against the host's own reading of config space (PCIe 6.x §6.33.3: downgrade
 * protection). Pure bytes: the TSM carries them over the SPDM session.
 */
#include <stdio.h>
#include <string.h>

#include "pcitsm/idekm.h"
#include "idekm/idekm_priv.h"

void pcitsm_idekm_req_init(struct pcitsm_idekm_req *rq)
{
	memset(rq, 0, sizeof(*rq));
}

void pcitsm_idekm_req_abandon(struct pcitsm_idekm_req *rq)
{
	rq->pending = false;
}

static pcitsm_err req_ready(const struct pcitsm_idekm_req *rq, struct pcitsm_wr *w)
{
	if (rq->err)
		return rq->err;
	if (rq->pending)
		return PCITSM_E_STATE;
	if (!w)
		return PCITSM_E_INVAL;
	return PCITSM_OK;
}

static void req_sent(struct pcitsm_idekm_req *rq, uint8_t obj, uint8_t port_index,
		     const struct pcitsm_idekm_ks *ks)
{
	rq->pending = true;
	rq->obj = obj;
	rq->port_index = port_index;
	memset(&rq->ks, 0, sizeof(rq->ks));
	if (ks) {
		rq->ks = *ks;
		rq->ks.obj = obj;
		rq->ks.status = 0;
	}
}

pcitsm_err pcitsm_idekm_req_query(struct pcitsm_idekm_req *rq, uint8_t port_index,
				  struct pcitsm_wr *w)
{
	PCITSM_TRY(req_ready(rq, w));
	PCITSM_TRY(pcitsm_idekm_query_encode(w, port_index));
	req_sent(rq, PCITSM_IDEKM_QUERY, port_index, NULL);
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_req_key_prog(struct pcitsm_idekm_req *rq,
				     const struct pcitsm_idekm_key_prog *kp, struct pcitsm_wr *w)
{
	PCITSM_TRY(req_ready(rq, w));
	if (!kp)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_idekm_key_prog_encode(w, kp));
	req_sent(rq, PCITSM_IDEKM_KEY_PROG, kp->ks.port_index, &kp->ks);
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_req_k_set(struct pcitsm_idekm_req *rq, uint8_t obj,
				  const struct pcitsm_idekm_ks *m, struct pcitsm_wr *w)
{
	struct pcitsm_idekm_ks ks;

	PCITSM_TRY(req_ready(rq, w));
	if (!m || (obj != PCITSM_IDEKM_K_SET_GO && obj != PCITSM_IDEKM_K_SET_STOP))
		return PCITSM_E_INVAL;
	ks = *m;
	ks.obj = obj;
	ks.status = 0;
	PCITSM_TRY(pcitsm_idekm_ks_encode(w, &ks));
	req_sent(rq, obj, ks.port_index, &ks);
	return PCITSM_OK;
}

/* The response object ID each request expects (PCIe 6.x §6.33.3). */
static uint8_t answer_to(uint8_t req_obj)
{
	switch (req_obj) {
	case PCITSM_IDEKM_QUERY: return PCITSM_IDEKM_QUERY_RESP;
	case PCITSM_IDEKM_KEY_PROG: return PCITSM_IDEKM_KP_ACK;
	default: return PCITSM_IDEKM_K_GOSTOP_ACK;
	}
}

static bool same_slot(const struct pcitsm_idekm_ks *a, const struct pcitsm_idekm_ks *b)
{
	return a->stream_id == b->stream_id && a->kset == b->kset && a->dir == b->dir &&
	       a->sub == b->sub && a->port_index == b->port_index;
}

/* A peer protocol violation: the requester stays failed. */
static pcitsm_err req_fail(struct pcitsm_idekm_req *rq, pcitsm_err e)
{
	rq->pending = false;
	rq->err = e;
	return e;
}

pcitsm_err pcitsm_idekm_req_response(struct pcitsm_idekm_req *rq, const uint8_t *rsp, size_t n,
				     struct pcitsm_idekm_query_resp *qr)
{
	struct pcitsm_idekm_ks ks;
	uint8_t obj;
	pcitsm_err e;

	if (rq->err)
		return rq->err;
	if (!rq->pending)
		return PCITSM_E_STATE;
	if (rq->obj == PCITSM_IDEKM_QUERY && !qr)
		return PCITSM_E_INVAL;
	e = pcitsm_idekm_peek(rsp, n, &obj);
	if (e)
		return req_fail(rq, e);
	if (obj != answer_to(rq->obj))
		return req_fail(rq, PCITSM_E_UNEXPECTED);

	if (rq->obj == PCITSM_IDEKM_QUERY) {
		e = pcitsm_idekm_query_resp_decode(rsp, n, qr);
		if (e)
			return req_fail(rq, e);
		if (qr->port_index != rq->port_index)
			return req_fail(rq, PCITSM_E_UNEXPECTED);
		rq->pending = false;
		return PCITSM_OK;
	}

	e = pcitsm_idekm_ks_decode(rsp, n, &ks);
	if (e)
		return req_fail(rq, e);
	if (!same_slot(&ks, &rq->ks))
		return req_fail(rq, PCITSM_E_UNEXPECTED);
	rq->pending = false;
	if (ks.obj == PCITSM_IDEKM_KP_ACK) {
		rq->kp_status = ks.status;
		if (ks.status != PCITSM_IDEKM_KP_SUCCESS)
			return PCITSM_E_PEER_ERROR;
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * QUERY_RESP against config space.
 */
static bool is_status_reg(const struct pcitsm_idekm_query_resp *qr, uint32_t off)
{
	uint32_t link_end = PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * qr->nr_link;

	if (off >= PCITSM_IDE_LINK_BLOCK0 && off < link_end)
		return (off - PCITSM_IDE_LINK_BLOCK0) % PCITSM_IDE_LINK_BLOCK_SIZE == 4;
	for (unsigned i = 0; i < qr->nr_sel; i++)
		if (off == qr->sel_off[i] + (uint32_t)PCITSM_IDE_SEL_STS)
			return true;
	return false;
}

static pcitsm_err mismatch(struct pcitsm_idekm_mismatch *mm, const struct pcitsm_idekm_query_resp *qr,
			   uint32_t off, uint32_t device, uint32_t host, const char *name)
{
	if (mm) {
		mm->off = (uint16_t)off;
		mm->device = device;
		mm->host = host;
		if (name)
			snprintf(mm->name, sizeof(mm->name), "%s", name);
		else
			pcitsm_idekm_qr_reg_name(qr, off, mm->name, sizeof(mm->name));
	}
	return PCITSM_E_MISMATCH;
}

pcitsm_err pcitsm_idekm_query_resp_check(const struct pcitsm_idekm_query_resp *qr,
					 struct pcitsm_cfg *cfg, uint16_t ide_off,
					 const struct pcitsm_bdf *bdf,
					 struct pcitsm_idekm_mismatch *mm)
{
	uint32_t hdr;

	if (!qr || !cfg || !qr->regs)
		return PCITSM_E_INVAL;
	if (bdf) {
		uint8_t df = (uint8_t)(bdf->dev << 3 | bdf->fn);

		if (qr->bus != bdf->bus)
			return mismatch(mm, qr, 0, qr->bus, bdf->bus, "Bus number");
		if (qr->dev_func != df)
			return mismatch(mm, qr, 0, qr->dev_func, df, "Dev/Func number");
	}
	/* The host's capability must be IDE: the rest is compared at the same offsets. */
	PCITSM_TRY(pcitsm_cfg_read32(cfg, ide_off, &hdr));
	if ((hdr & 0xffff) != PCITSM_ECAP_ID_IDE)
		return PCITSM_E_NOTFOUND;
	/* Register by register, in order: the Capability registers that define the layout come
	 * before the blocks they describe, so once they agree both sides walk the same layout. */
	for (uint32_t off = PCITSM_IDE_CAP; off < qr->regs_len + 4; off += 4) {
		uint32_t dev = pcitsm_idekm_qr_reg(qr, off), host;

		if (is_status_reg(qr, off))
			continue;
		PCITSM_TRY(pcitsm_cfg_read32(cfg, ide_off + off, &host));
		if (dev != host)
			return mismatch(mm, qr, off, dev, host, NULL);
	}
	return PCITSM_OK;
}
