/* SPDX-License-Identifier: MIT */
/*
 * A port's IDE engine configured from its own config space (PCIe 6.x §7.9.26): the IDE
 * Extended Capability is decoded by lib/pci (pcitsm_ide_read, pcitsm_ide_sel_read) and each
 * Selective IDE Stream block becomes one engine stream, so association (RID range, address ranges,
 * Default Stream, TC), aggregation and PCRC come from the registers software programmed.
 */
#include <stdlib.h>
#include <string.h>

#include "ide_engine.h"

static uint8_t agg_count(uint8_t mode) { return (uint8_t)(1u << (mode & 3)); }

/* Does the configured stream already hold what these registers say? */
static bool same_config(const struct pcitsm_ide_stream *s, const struct pcitsm_ide_sel *sel)
{
	const struct pcitsm_ide_stream_ctl *c = &sel->ctl;

	if (!s->configured || s->id != c->stream_id || s->tc != c->tc || c->alg || c->phe ||
	    s->default_stream != c->default_stream || s->cfg_en != c->cfg_en ||
	    s->pcrc != c->pcrc || s->tee_limited != c->tee_limited ||
	    s->agg[PCITSM_IDE_SUB_PR] != agg_count(c->agg_pr) ||
	    s->agg[PCITSM_IDE_SUB_NPR] != agg_count(c->agg_npr) ||
	    s->agg[PCITSM_IDE_SUB_CPL] != agg_count(c->agg_cpl) || s->rid_valid != sel->rid_valid ||
	    s->rid_base != sel->rid_base || s->rid_limit != sel->rid_limit ||
	    s->nr_addr != sel->nr_addr)
		return false;
	for (unsigned j = 0; j < sel->nr_addr; j++)
		if (s->addr[j].valid != sel->addr[j].valid || s->addr[j].base != sel->addr[j].base ||
		    s->addr[j].limit != sel->addr[j].limit)
			return false;
	return true;
}

/* An idle block carries the reserved Stream ID with Enable clear (Linux drivers/pci/ide.c; the
 * state software leaves a block in at init and teardown): it holds no stream. The reserved Stream
 * ID with Enable set is bad programming instead (pcitsm_ide_stream_config refuses it). */
static bool block_idle(const struct pcitsm_ide_sel *sel)
{
	return sel->ctl.stream_id == PCITSM_IDE_RESERVED_STREAM_ID && !sel->ctl.enable;
}

/* One selective block: configure (if not enabled), then follow its Enable bit. The block holds no
 * stream when it is idle or when the engine refuses its programming: whatever the engine held for
 * it is then released, its Stream ID free for another block. */
static pcitsm_err load_block(struct pcitsm_ide_port *p, const struct pcitsm_ide_info *ide,
			     unsigned i, struct pcitsm_ide_sel *sel, bool *configured)
{
	struct pcitsm_ide_stream *s = &p->stream[i];
	pcitsm_err e;

	*configured = false;
	/* Enable set on a stream already running: the registers were sampled when it was set. */
	if (sel->ctl.enable && s->enabled && s->id == sel->ctl.stream_id) {
		*configured = true;
		return PCITSM_OK;
	}
	if (block_idle(sel))
		return pcitsm_ide_stream_unconfigure(p, i);
	if (s->enabled)
		PCITSM_TRY(pcitsm_ide_stream_disable(p, i));
	/* Features the capability does not advertise are not in effect. */
	if (!ide->aggregation_sup)
		sel->ctl.agg_npr = sel->ctl.agg_pr = sel->ctl.agg_cpl = 0;
	if (!ide->pcrc_sup)
		sel->ctl.pcrc = false;
	if (!ide->sel_cfg_sup)
		sel->ctl.cfg_en = false;
	/* Reprogramming resets the stream and loses its keys; the same registers read again (e.g.
	 * to pick up Enable after KEY_PROG) do not. */
	if (!same_config(s, sel)) {
		e = pcitsm_ide_stream_config(p, i, sel);
		if (e) {
			PCITSM_TRY(pcitsm_ide_stream_unconfigure(p, i));
			return e;
		}
	}
	*configured = true;
	if (sel->ctl.enable)
		PCITSM_TRY(pcitsm_ide_stream_enable(p, i));
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_port_load(struct pcitsm_ide_port *p, struct pcitsm_cfg *cfg, uint16_t cap_off,
				unsigned *nr_streams)
{
	struct pcitsm_ide_info info, *ide = &info;
	struct pcitsm_ide_sel *sel;
	unsigned nb = 0, n = 0;
	pcitsm_err de = PCITSM_OK, e = PCITSM_OK;

	if (!p || !cfg)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_ide_read(cfg, cap_off, ide));
	if (!ide->sel_sup)
		return PCITSM_E_UNSUPPORTED;
	/* Up to 256 blocks of decoded registers: on the heap, once per load (not per TLP). */
	sel = calloc(PCITSM_MIN(ide->nr_sel, p->nr_streams) + 1, sizeof(*sel));
	if (!sel)
		return PCITSM_E_NOMEM;
	p->rx_aggregation = ide->aggregation_sup;
	/* Every block is decoded first; blocks before one that does not decode are still loaded. */
	for (; nb < ide->nr_sel && nb < p->nr_streams; nb++) {
		de = pcitsm_ide_sel_read(cfg, ide, nb, &sel[nb]);
		if (de)
			break;
	}
	/* A stream whose block no longer carries its Stream ID (another one, or the reserved one)
	 * is released before any block is configured, so that a Stream ID moving from one block to
	 * another in one load is free for its new block, whichever of the two comes first. */
	for (unsigned i = 0; i < nb && !e; i++)
		if (p->stream[i].configured && p->stream[i].id != sel[i].ctl.stream_id)
			e = pcitsm_ide_stream_unconfigure(p, i);
	for (unsigned i = 0; i < nb && !e; i++) {
		bool configured;

		e = load_block(p, ide, i, &sel[i], &configured);
		n += !e && configured;
	}
	free(sel);
	if (nr_streams)
		*nr_streams = n;
	return e ? e : de;
}

pcitsm_err pcitsm_ide_port_load_block(struct pcitsm_ide_port *p, struct pcitsm_cfg *cfg,
				      uint16_t cap_off, unsigned i, bool *configured)
{
	struct pcitsm_ide_info ide;
	struct pcitsm_ide_sel sel;
	bool c = false;
	pcitsm_err e;

	if (configured)
		*configured = false;
	if (!p || !cfg || i >= p->nr_streams)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_ide_read(cfg, cap_off, &ide));
	if (!ide.sel_sup)
		return PCITSM_E_UNSUPPORTED;
	PCITSM_TRY(pcitsm_ide_sel_read(cfg, &ide, i, &sel));
	e = load_block(p, &ide, i, &sel, &c);
	if (configured)
		*configured = !e && c;
	return e;
}
