/* SPDX-License-Identifier: MIT */
/*
 * The example device's driver side: the ring lives in this process's memory and the device fetches
 * it by virtual address with our PASID, as the documented use of uio_pci_sva goes (open, mmap, read
 * the PASID, write it into a device register, hand the device plain pointers; docs/sva.md).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sva/sva_priv.h"

static pcitsm_err ring_init(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev, uint32_t entries,
			    bool iova, bool tee)
{
	size_t size, bytes = PCITSM_MAX((size_t)entries * PCITSM_SVA_DESC_SIZE, (size_t)4096);
	volatile uint8_t *regs = pcitsm_sva_map(dev, 0, &size);
	uint64_t base;
	void *slots;
	pcitsm_err e;

	if (!regs || size < PCITSM_SVA_REGS_SIZE || entries == 0 || entries > PCITSM_SVA_RING_MAX ||
	    (entries & (entries - 1)))
		return PCITSM_E_INVAL;
	if (sva_reg_rd32(regs, PCITSM_SVA_REG_ID) != PCITSM_SVA_ID)
		return PCITSM_E_UNSUPPORTED;
	memset(r, 0, sizeof(*r));
	if (iova) {
		e = pcitsm_sva_dma_alloc(dev, bytes, &slots, &base);
		if (e)
			return e;
	} else {
		slots = aligned_alloc(4096, bytes);
		if (!slots)
			return PCITSM_E_NOMEM;
		base = (uint64_t)(uintptr_t)slots;
	}
	memset(slots, 0, bytes);
	r->slots = slots;
	r->iova = iova;
	r->dev = dev;
	r->regs = regs;
	r->entries = entries;
	r->tail = sva_reg_rd32(regs, PCITSM_SVA_REG_HEAD);
	sva_reg_wr32(regs, PCITSM_SVA_REG_TAIL, r->tail);
	/* the documented use: write the process's PASID into a device register */
	sva_reg_wr32(regs, PCITSM_SVA_REG_PASID,
		     iova ? 0 : pcitsm_sva_pasid(dev) | PCITSM_SVA_PASID_EN);
	sva_reg_wr64(regs, PCITSM_SVA_REG_RING_BASE, base);
	sva_reg_wr32(regs, PCITSM_SVA_REG_RING_SIZE, entries);
	sva_reg_wr32(regs, PCITSM_SVA_REG_CTRL, PCITSM_SVA_CTRL_EN | (tee ? PCITSM_SVA_CTRL_TEE : 0));
	sva_futex_wake(regs, PCITSM_SVA_REG_TAIL);
	return PCITSM_OK;
}

pcitsm_err pcitsm_sva_ring_init(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				uint32_t entries)
{
	return ring_init(r, dev, entries, false, false);
}

pcitsm_err pcitsm_sva_ring_init_tee(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				    uint32_t entries)
{
	return ring_init(r, dev, entries, false, true);
}

pcitsm_err pcitsm_sva_ring_init_iova(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				     uint32_t entries)
{
	return ring_init(r, dev, entries, true, false);
}

pcitsm_err pcitsm_sva_submit(struct pcitsm_sva_ring *r, const struct pcitsm_sva_desc *d,
			     volatile uint8_t *comp)
{
	struct pcitsm_sva_desc x = *d;
	uint32_t head = sva_reg_rd32(r->regs, PCITSM_SVA_REG_HEAD);

	if (r->tail - head >= r->entries)
		return PCITSM_E_BUSY;
	x.completion = (uint64_t)(uintptr_t)comp;
	if (r->iova && pcitsm_sva_dma_addr(r->dev, (const void *)(uintptr_t)comp, &x.completion))
		return PCITSM_E_RANGE;
	for (unsigned i = 0; i < PCITSM_SVA_COMP_SIZE; i++)
		comp[i] = 0;
	pcitsm_sva_desc_encode(&x, r->slots + (size_t)(r->tail & (r->entries - 1)) *
						      PCITSM_SVA_DESC_SIZE);
	r->tail++;
	/* The doorbell: a release store after the descriptor, then wake the device. */
	sva_reg_wr32(r->regs, PCITSM_SVA_REG_TAIL, r->tail);
	sva_futex_wake(r->regs, PCITSM_SVA_REG_TAIL);
	return PCITSM_OK;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

pcitsm_err pcitsm_sva_wait(struct pcitsm_sva_ring *r, volatile const uint8_t *comp,
			   unsigned timeout_ms, struct pcitsm_sva_comp *out)
{
	uint64_t end = now_ms() + timeout_ms;
	uint8_t rec[PCITSM_SVA_COMP_SIZE];

	for (;;) {
		uint32_t done = sva_reg_rd32(r->regs, PCITSM_SVA_REG_DONE);

		if (atomic_load_explicit((_Atomic uint8_t *)(uintptr_t)comp, memory_order_acquire))
			break;
		if (now_ms() >= end)
			return PCITSM_E_TIMEOUT;
		sva_futex_wait(r->regs, PCITSM_SVA_REG_DONE, done, 20);
	}
	for (unsigned i = 0; i < sizeof(rec); i++)
		rec[i] = comp[i];
	return pcitsm_sva_comp_decode(rec, sizeof(rec), out);
}

void pcitsm_sva_ring_fini(struct pcitsm_sva_ring *r)
{
	uint64_t end = now_ms() + 5000;

	if (!r->slots)
		return;
	sva_reg_wr32(r->regs, PCITSM_SVA_REG_CTRL, 0);
	sva_futex_wake(r->regs, PCITSM_SVA_REG_TAIL);
	/* The device reads the ring until it sees the queue disabled. */
	while (sva_reg_rd32(r->regs, PCITSM_SVA_REG_STATUS) & PCITSM_SVA_STATUS_RUN && now_ms() < end)
		sva_futex_wait(r->regs, PCITSM_SVA_REG_DONE, sva_reg_rd32(r->regs, PCITSM_SVA_REG_DONE),
			       10);
	if (!r->iova)
		free(r->slots); /* a registered ring goes with the device */
	r->slots = NULL;
}
