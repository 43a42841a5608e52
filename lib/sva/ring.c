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

pcitsm_err pcitsm_sva_ring_init(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				uint32_t entries)
{
	size_t size;
	volatile uint8_t *regs = pcitsm_sva_map(dev, 0, &size);

	if (!regs || size < PCITSM_SVA_REGS_SIZE || entries == 0 || entries > PCITSM_SVA_RING_MAX ||
	    (entries & (entries - 1)))
		return PCITSM_E_INVAL;
	if (sva_reg_rd32(regs, PCITSM_SVA_REG_ID) != PCITSM_SVA_ID)
		return PCITSM_E_UNSUPPORTED;
	memset(r, 0, sizeof(*r));
	r->slots = aligned_alloc(4096, (size_t)entries * PCITSM_SVA_DESC_SIZE < 4096
					       ? 4096
					       : (size_t)entries * PCITSM_SVA_DESC_SIZE);
	if (!r->slots)
		return PCITSM_E_NOMEM;
	memset(r->slots, 0, (size_t)entries * PCITSM_SVA_DESC_SIZE);
	r->dev = dev;
	r->regs = regs;
	r->entries = entries;
	r->tail = sva_reg_rd32(regs, PCITSM_SVA_REG_HEAD);
	sva_reg_wr32(regs, PCITSM_SVA_REG_TAIL, r->tail);
	sva_reg_wr32(regs, PCITSM_SVA_REG_PASID, pcitsm_sva_pasid(dev) | PCITSM_SVA_PASID_EN);
	sva_reg_wr64(regs, PCITSM_SVA_REG_RING_BASE, (uint64_t)(uintptr_t)r->slots);
	sva_reg_wr32(regs, PCITSM_SVA_REG_RING_SIZE, entries);
	sva_reg_wr32(regs, PCITSM_SVA_REG_CTRL, PCITSM_SVA_CTRL_EN);
	sva_futex_wake(regs, PCITSM_SVA_REG_TAIL);
	return PCITSM_OK;
}

pcitsm_err pcitsm_sva_submit(struct pcitsm_sva_ring *r, const struct pcitsm_sva_desc *d,
			     volatile uint8_t *comp)
{
	struct pcitsm_sva_desc x = *d;
	uint32_t head = sva_reg_rd32(r->regs, PCITSM_SVA_REG_HEAD);

	if (r->tail - head >= r->entries)
		return PCITSM_E_BUSY;
	x.completion = (uint64_t)(uintptr_t)comp;
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
	free(r->slots);
	r->slots = NULL;
}
