/* SPDX-License-Identifier: MIT */
/*
 * The example device's DMA engine: one descriptor at a time, every access through the IOMMU model
 * with the queue's PASID. Order of checks (docs/sva.md, "The example device"):
 *   1. decode (every field; an invalid descriptor is never executed);
 *   2. the descriptor's PASID must be the queue's (the PASID register the driver programmed);
 *   3. each access is a DMA across the device's link (Memory Requests with the PASID prefix and
 *      the queue's T bit), translated by the IOMMU for (this function, that PASID) behind the root
 *      port: an untranslated or unmapped address, or a request the TDISP gate refuses, is an I/O
 *      page fault, reported in the completion record; the transfer stops there and nothing else
 *      is touched;
 *   4. the completion record is written the same way.
 */
#include <string.h>

#include "sva/sva_priv.h"

pcitsm_err sva_engine_dma(struct sva_engine *e, enum sva_access acc, uint64_t va, void *buf,
			  size_t len, size_t *done, uint64_t *fault)
{
	*fault = va;
	if (acc == SVA_WRITE)
		return pcitsm_emu_dma_write(e->link, &e->dma, va, buf, len, done, fault);
	return pcitsm_emu_dma_read(e->link, &e->dma, va, buf, len, done, fault);
}

/* The faults a device sees: no translation or a page fault (E_RANGE), a request its own engine
 * would not send (T=1 without a Secure stream: E_STATE), a read never completed. */
static void fault(struct pcitsm_sva_comp *c, uint64_t va, bool write, pcitsm_err e)
{
	c->status = e == PCITSM_E_RANGE || e == PCITSM_E_NOTFOUND || e == PCITSM_E_STATE ||
				    e == PCITSM_E_NORESPONSE
			    ? PCITSM_SVA_ST_FAULT
			    : PCITSM_SVA_ST_ABORTED;
	c->fault_addr = va;
	c->fault_flags = write ? PCITSM_SVA_FAULT_WRITE : 0;
}

static bool aborted(const struct sva_engine *e)
{
	return e->abort && atomic_load_explicit(e->abort, memory_order_relaxed);
}

/* One chunk in: read len bytes at va into dst; on failure fill the record. */
static bool dma_in(struct sva_engine *e, uint32_t pasid, uint64_t va, void *dst, size_t len,
		   struct pcitsm_sva_comp *c)
{
	size_t done;
	uint64_t at;
	pcitsm_err err;

	(void)pasid; /* the queue's, in e->dma */
	err = sva_engine_dma(e, SVA_READ, va, dst, len, &done, &at);
	if (err)
		fault(c, at, false, err);
	return err == PCITSM_OK;
}

static bool dma_out(struct sva_engine *e, uint32_t pasid, uint64_t va, const void *src, size_t len,
		    struct pcitsm_sva_comp *c)
{
	size_t done;
	uint64_t at;
	pcitsm_err err;

	(void)pasid;
	err = sva_engine_dma(e, SVA_WRITE, va, (void *)(uintptr_t)src, len, &done, &at);
	c->bytes_done += done;
	if (err)
		fault(c, at, true, err);
	return err == PCITSM_OK;
}

static void run_op(struct sva_engine *e, const struct pcitsm_sva_desc *d, struct pcitsm_sva_comp *c)
{
	uint8_t *a = e->buf, *b = e->buf + SVA_ENGINE_CHUNK;
	uint32_t crc = (uint32_t)d->pattern;
	uint64_t off = 0;

	if (d->op == PCITSM_SVA_OP_FILL) {
		for (size_t i = 0; i < SVA_ENGINE_CHUNK; i += 8)
			pcitsm_put_le64(a + i, d->pattern);
	}
	while (off < d->len) {
		size_t n = (size_t)PCITSM_MIN(d->len - off, (uint64_t)SVA_ENGINE_CHUNK);

		if (aborted(e)) {
			c->status = PCITSM_SVA_ST_ABORTED;
			return;
		}
		switch (d->op) {
		case PCITSM_SVA_OP_COPY:
			if (!dma_in(e, d->pasid, d->src + off, a, n, c) ||
			    !dma_out(e, d->pasid, d->dst + off, a, n, c))
				return;
			break;
		case PCITSM_SVA_OP_FILL:
			if (!dma_out(e, d->pasid, d->dst + off, a, n, c))
				return;
			break;
		case PCITSM_SVA_OP_COMPARE:
			if (!dma_in(e, d->pasid, d->src + off, a, n, c) ||
			    !dma_in(e, d->pasid, d->dst + off, b, n, c))
				return;
			c->bytes_done += n;
			if (memcmp(a, b, n) != 0) {
				size_t i = 0;

				while (a[i] == b[i])
					i++;
				c->status = PCITSM_SVA_ST_DIFFERENT;
				c->diff_offset = off + i;
				return;
			}
			break;
		case PCITSM_SVA_OP_CRC32C:
			if (!dma_in(e, d->pasid, d->src + off, a, n, c))
				return;
			crc = pcitsm_crc32c(crc, a, n);
			c->bytes_done += n;
			break;
		}
		off += n;
	}
	c->crc = d->op == PCITSM_SVA_OP_CRC32C ? crc : 0;
	c->status = PCITSM_SVA_ST_SUCCESS;
}

enum pcitsm_sva_qerr sva_engine_exec(struct sva_engine *e, uint32_t q_pasid, bool tee,
				     const uint8_t desc[PCITSM_SVA_DESC_SIZE])
{
	struct pcitsm_sva_desc d;
	struct pcitsm_sva_comp c = { 0 };
	uint8_t rec[PCITSM_SVA_COMP_SIZE];
	uint64_t comp_va = pcitsm_get_le64(desc + 40), at;
	size_t done;

	e->dma.pasid = q_pasid;
	e->dma.t = tee;
	/* 1. decode: on an invalid descriptor only the completion address is used, and only if it
	 * is itself well formed. */
	if (pcitsm_sva_desc_decode(desc, PCITSM_SVA_DESC_SIZE, &d) != PCITSM_OK) {
		if (comp_va == 0 || comp_va & (PCITSM_SVA_COMP_SIZE - 1) ||
		    comp_va >= PCITSM_SVA_VA_LIMIT - PCITSM_SVA_COMP_SIZE)
			return PCITSM_SVA_QERR_COMP_FAULT;
		c.status = PCITSM_SVA_ST_INVALID;
	} else if (d.pasid != q_pasid) {
		/* 2. the descriptor's PASID must be the queue's */
		c.status = PCITSM_SVA_ST_BAD_PASID;
	} else {
		/* 3. the operation, through the IOMMU */
		run_op(e, &d, &c);
	}
	/* 4. the completion record, with the queue's PASID */
	pcitsm_sva_comp_encode(&c, rec);
	/* The status byte last: the driver polls it, and must see the rest once it is set. */
	if (sva_engine_dma(e, SVA_WRITE, comp_va + 1, rec + 1, sizeof(rec) - 1, &done, &at) ||
	    sva_engine_dma(e, SVA_WRITE, comp_va, rec, 1, &done, &at))
		return PCITSM_SVA_QERR_COMP_FAULT;
	return PCITSM_SVA_QERR_NONE;
}
