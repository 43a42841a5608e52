/* SPDX-License-Identifier: MIT */
/* lib/emu internals shared between platform.c (registers), link.c (engines, wire, memory) and
 * devices.c (responders). */
#ifndef PCITSM_EMU_PRIV_H
#define PCITSM_EMU_PRIV_H

#include "pcitsm/emu.h"

/* The wire has no user pointer, so the link wraps it: the sink finds its link with container_of.
 * Initialised as pcitsm_ide_wire_new does (zeroed, two ports, a sink). */
struct emu_wire {
	struct pcitsm_ide_wire w;
	struct pcitsm_emu_link *link;
};

/* Type 1 header: Memory Base (bits 15:4 = address 31:20) and Memory Limit, one DW. */
#define EMU_CFG_MEM_BASE 0x20

/* Build / free the links: one IDE engine per root port and endpoint, one wire per pair. */
pcitsm_err emu_links_init(struct pcitsm_emu_platform *p) PCITSM_MUST_CHECK;
void emu_links_free(struct pcitsm_emu_platform *p);

/* A selective block's registers changed (index idx): bring the engine stream in line. was_en,
 * now_en: the block's Enable before and after the write. */
void emu_engine_sync(struct pcitsm_emu_func *f, unsigned idx, bool was_en, bool now_en);

/* The link's lock (NULL: no link, nothing to lock). */
void emu_link_lock(struct pcitsm_emu_link *l);
void emu_link_unlock(struct pcitsm_emu_link *l);
uint16_t emu_side_rid(const struct pcitsm_emu_link *l, enum pcitsm_ide_side side);
/* Function number of rid on l's endpoint device (0: PF0), -1 if none. */
int emu_link_func_index(const struct pcitsm_emu_link *l, uint16_t rid);
/* The one TDISP gate (link.c): does side `to` admit request t with T bit tbit? */
bool emu_tee_admit(const struct pcitsm_emu_link *l, enum pcitsm_ide_side to,
		   const struct pcitsm_tlp *t, bool tbit);

/* dma.c: DMA through the IOMMU hook, completions and tags. */
pcitsm_err emu_dma_init(struct pcitsm_emu_link *l) PCITSM_MUST_CHECK;
void emu_dma_free(struct pcitsm_emu_link *l);
/* A request delivered to side `to`: true if it is the IOMMU's (collected, served at
 * emu_dma_serve), false if the side's own memory serves it. */
bool emu_dma_collect(struct pcitsm_emu_link *l, enum pcitsm_ide_side to, const struct pcitsm_tlp *t,
		     bool tee);
/* Serve what was collected for side `to` (the end of a delivery, or before another request). */
void emu_dma_serve(struct pcitsm_emu_link *l, enum pcitsm_ide_side to);
/* Complete read t from side `to`: data (t->len bytes; NULL: Unsupported Request), split at the
 * link's cpl_split boundaries, with T bit tee. */
pcitsm_err emu_complete(struct pcitsm_emu_link *l, enum pcitsm_ide_side to,
			const struct pcitsm_tlp *t, bool tee, const uint8_t *data) PCITSM_MUST_CHECK;
/* Send the completions emu_complete built. */
pcitsm_err emu_cpl_flush(struct pcitsm_emu_link *l) PCITSM_MUST_CHECK;
/* A completion delivered to side `to`: gathered into its tag. */
void emu_cpl_gather(struct pcitsm_emu_link *l, enum pcitsm_ide_side to, const struct pcitsm_tlp *t,
		    bool tee);
/* The endpoint's engine rx_place (ctx: the link): where a completion's payload is decrypted, the
 * destination of its tag if gather would take it as it is, else NULL. */
uint8_t *emu_cpl_place(void *ctx, const struct pcitsm_tlp *t);
/* Take a free tag of side sd for a read (dst: where the bytes [skip, skip + keep) of the
 * request go), or -1. */
int emu_tag_alloc(struct pcitsm_emu_side *sd, uint16_t req_id, uint64_t addr, size_t len,
		  uint8_t *dst, size_t skip, size_t keep);

/* TDISP events of an endpoint function (devices.c; no-ops for a function without a TDI). */
void emu_tdi_config_written(struct pcitsm_emu_func *f);
void emu_tdi_flr(struct pcitsm_emu_func *f);
void emu_tdi_stream_insecure(struct pcitsm_emu_func *f, uint8_t stream_id);

#endif
