/* SPDX-License-Identifier: MIT */
/* Fuzz the pci-tsm evidence-read reply path (include/pcitsm/genl.h): the input is a type mask
 * (u32 LE) and the datagrams of one dump, each as (u32 LE length, bytes), walked and reassembled
 * as the driver does. Whatever the bytes, no object grows past the limit and no type arrives
 * that was not asked for. */
#include <stdlib.h>

#include "pcitsm/genl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_tsmnl_evidence ev;
	struct pcitsm_genl_walk w;
	struct pcitsm_rd r;
	pcitsm_err e = PCITSM_OK;

	pcitsm_rd_init(&r, data, size);
	pcitsm_tsmnl_evidence_init(&ev, pcitsm_rd_le32(&r) & PCITSM_TSMNL_TYPE_ALL);
	ev.limit = 1u << 16; /* the 16 MiB bound, scaled to fuzz inputs */
	pcitsm_genl_walk_init(&w, 77, 4242, 0x1d, pcitsm_tsmnl_evidence_msg, &ev);
	while (!e && pcitsm_rd_left(&r)) {
		uint32_t len = pcitsm_rd_le32(&r);
		const uint8_t *d = pcitsm_rd_bytes(&r, len);

		if (!d)
			break;
		e = pcitsm_genl_walk_feed(&w, d, len);
	}
	if (!e && w.done && pcitsm_tsmnl_evidence_complete(&ev) == PCITSM_OK &&
	    ev.present != ev.mask)
		abort();
	for (unsigned t = 0; t < PCITSM_TSMNL_NR_TYPES; t++)
		if (ev.len[t] > ev.limit || (ev.len[t] && !(ev.present & PCITSM_TSMNL_TYPE_BIT(t))))
			abort();
	if (ev.present & ~ev.mask)
		abort();
	pcitsm_tsmnl_evidence_free(&ev);
	return 0;
}
