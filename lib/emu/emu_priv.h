/* SPDX-License-Identifier: MIT */
/* lib/emu internals shared between platform.c (registers), link.c (engines, wire, memory) and
 * devices.c (responders). */
#ifndef PCITSM_EMU_PRIV_H
#define PCITSM_EMU_PRIV_H

#include "pcitsm/emu.h"

/* Type 1 header: Memory Base (bits 15:4 = address 31:20) and Memory Limit, one DW. */
#define EMU_CFG_MEM_BASE 0x20

/* Build / free the links: one IDE engine per root port and endpoint, one wire per pair. */
pcitsm_err emu_links_init(struct pcitsm_emu_platform *p) PCITSM_MUST_CHECK;
void emu_links_free(struct pcitsm_emu_platform *p);

/* A selective block's registers changed (index idx): bring the engine stream in line. was_en,
 * now_en: the block's Enable before and after the write. */
void emu_engine_sync(struct pcitsm_emu_func *f, unsigned idx, bool was_en, bool now_en);

/* TDISP events of an endpoint function (devices.c; no-ops for a function without a TDI). */
void emu_tdi_config_written(struct pcitsm_emu_func *f);
void emu_tdi_flr(struct pcitsm_emu_func *f);
void emu_tdi_stream_insecure(struct pcitsm_emu_func *f, uint8_t stream_id);

#endif
