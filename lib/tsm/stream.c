/* SPDX-License-Identifier: MIT */
/*
 * The IDE stream library, after Linux drivers/pci/ide.c: enumeration of each
 * port's selective blocks, adoption of streams found enabled, the pools (H per host bridge, R and E
 * per port, Stream IDs unique per host bridge with 255 reserved), and the register programming of
 * alloc -> register -> setup -> enable and its reverse. Only Selective IDE streams; Link IDE is
 * never set up. Every register goes through the config-space accessor, as the kernel's do.
 */
#include <stdlib.h>
#include <string.h>

#include "tsm_priv.h"

/* ---------------------------------------------------------------------------------------------
 * Enumeration (pci_ide_init).
 */
void tsm_port_init(struct tsm_fn *fn)
{
	struct tsm_port *pt = &fn->port;
	struct pcitsm_ide_info *ide;
	struct pcitsm_ide_sel sel;

	memset(pt, 0, sizeof(*pt));
	if (!fn->ide_off)
		return;
	ide = calloc(1, sizeof(*ide));
	if (!ide)
		return;
	if (pcitsm_ide_read(fn->cfg, fn->ide_off, ide) != PCITSM_OK || !ide->sel_sup ||
	    !ide->nr_sel)
		goto out;
	pt->ide_off = fn->ide_off;
	pt->sel_cfg = ide->sel_cfg_sup;
	pt->tee_limited = ide->tee_limited_sup;
	/* Every block must have block 0's address-association count; the first that differs and
	 * all after it are ignored. */
	for (unsigned i = 0; i < ide->nr_sel; i++) {
		if (pcitsm_ide_sel_read(fn->cfg, ide, i, &sel) != PCITSM_OK)
			break;
		if (i == 0)
			pt->nr_addr = sel.nr_addr;
		else if (sel.nr_addr != pt->nr_addr)
			break;
		pt->sel_off[i] = ide->sel_off[i];
		pt->nr_sel = i + 1;
	}
	tsm_ida_init(&pt->blocks, pt->nr_sel);
	pt->ide = pt->nr_sel > 0;
out:
	free(ide);
}

static pcitsm_err ctl_read(struct tsm_fn *port, unsigned idx, uint32_t *ctl)
{
	return pcitsm_cfg_read32(port->cfg, port->port.sel_off[idx] + PCITSM_IDE_SEL_CTL, ctl);
}

/* Streams the firmware left enabled: claim their Stream ID, H slot and both block indices. A claim
 * that conflicts leaves IDE off for that endpoint (Linux drivers/pci/ide.c). */
pcitsm_err tsm_adopt_streams(struct pcitsm_tsm_core *c)
{
	for (unsigned k = 0; k < c->nr_fns; k++) {
		struct tsm_fn *ep = &c->fns[k], *rp = ep->rp;

		if (!ep->is_endpoint || !ep->port.ide || !rp || !rp->port.ide)
			continue;
		for (unsigned e = 0; e < ep->port.nr_sel; e++) {
			uint32_t ectl, rctl;
			unsigned h, r;
			uint8_t id;
			struct tsm_stream *s;
			bool ok = false;

			if (ctl_read(ep, e, &ectl) || !(ectl & PCITSM_IDE_CTL_EN))
				continue;
			id = (uint8_t)(ectl >> PCITSM_IDE_CTL_ID_SHIFT);
			for (r = 0; r < rp->port.nr_sel && !ok; r++)
				ok = !ctl_read(rp, r, &rctl) && (rctl & PCITSM_IDE_CTL_EN) &&
				     (uint8_t)(rctl >> PCITSM_IDE_CTL_ID_SHIFT) == id;
			r--;
			if (!ok || id == PCITSM_IDE_RESERVED_STREAM_ID ||
			    tsm_ida_claim(&c->hb.ids, id) != PCITSM_OK) {
				pcitsm_warn(c->env, "tsm: %s: enabled stream %u conflicts; IDE off",
					    ep->name, id);
				ep->port.ide = false;
				break;
			}
			s = calloc(1, sizeof(*s));
			if (!s || tsm_ida_alloc(&c->hb.h, &h) != PCITSM_OK ||
			    tsm_ida_claim(&rp->port.blocks, r) != PCITSM_OK ||
			    tsm_ida_claim(&ep->port.blocks, e) != PCITSM_OK) {
				free(s);
				return PCITSM_E_EXHAUSTED;
			}
			*s = (struct tsm_stream){ .hb = &c->hb, .rp = rp, .ep = ep, .h = h, .r = r,
						  .e = e, .stream_id = id, .registered = true,
						  .setup_rp = true, .setup_ep = true,
						  .enabled_rp = true, .enabled_ep = true,
						  .adopted = true };
			c->hb.by_h[h] = s;
		}
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Pools.
 */
pcitsm_err tsm_stream_alloc(struct tsm_fn *ep, struct tsm_stream **out)
{
	struct pcitsm_tsm_core *c = ep->core;
	struct tsm_fn *rp = ep->rp;
	struct tsm_stream *s;
	pcitsm_err e;

	*out = NULL;
	if (!ep->is_endpoint || !ep->port.ide || !rp || !rp->port.ide)
		return PCITSM_E_UNSUPPORTED;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PCITSM_E_NOMEM;
	s->hb = &c->hb;
	s->rp = rp;
	s->ep = ep;
	s->stream_id = -1;
	pthread_mutex_lock(&c->lock);
	e = tsm_ida_alloc(&c->hb.h, &s->h);
	if (!e) {
		e = tsm_ida_alloc(&rp->port.blocks, &s->r);
		if (!e) {
			e = tsm_ida_alloc(&ep->port.blocks, &s->e);
			if (e)
				tsm_ida_free(&rp->port.blocks, s->r);
		}
		if (e)
			tsm_ida_free(&c->hb.h, s->h);
	}
	if (!e)
		c->hb.by_h[s->h] = s;
	pthread_mutex_unlock(&c->lock);
	if (e) {
		free(s);
		return e;
	}
	*out = s;
	return PCITSM_OK;
}

pcitsm_err tsm_stream_register(struct tsm_stream *s, uint8_t stream_id)
{
	struct pcitsm_tsm_core *c = s->ep->core;
	pcitsm_err e;

	pthread_mutex_lock(&c->lock);
	e = tsm_ida_claim(&s->hb->ids, stream_id);
	if (!e) {
		s->stream_id = stream_id;
		s->registered = true;
	}
	pthread_mutex_unlock(&c->lock);
	return e == PCITSM_E_RANGE ? PCITSM_E_INVAL : e;
}

/* ---------------------------------------------------------------------------------------------
 * Registers (pci_ide_stream_setup / _enable / _disable / _teardown).
 */
static pcitsm_err wr(struct tsm_fn *port, uint32_t off, uint32_t v)
{
	return pcitsm_cfg_write32(port->cfg, off, v);
}

/* The endpoint's memory window, from the window (Memory Base / Limit) of the bridge right above it:
 * its root port, or below a switch its Downstream Port, whose window is the endpoint's alone
 * (Linux pci_ide_stream_alloc() reads pci_upstream_bridge()'s). */
static void bridge_window(struct tsm_fn *br, uint64_t *base, uint64_t *limit)
{
	uint32_t v = 0;

	if (pcitsm_cfg_read32(br->cfg, 0x20, &v) != PCITSM_OK)
		v = 0;
	*base = (uint64_t)(v & 0xfff0u) << 16;
	*limit = (uint64_t)(v >> 16 & 0xfff0u) << 16 | 0xfffffu;
}

pcitsm_err tsm_stream_setup(struct tsm_stream *s, struct tsm_fn *port, unsigned idx,
			    const struct tsm_setup_opts *o)
{
	uint32_t blk = port->port.sel_off[idx];
	struct pcitsm_ide_stream_ctl ctl = { 0 };
	bool is_rp = port == s->rp;

	if (s->stream_id < 0 || idx >= port->port.nr_sel)
		return PCITSM_E_STATE;
	/* RID association: limit, then valid + base (segment 0: no flit mode, Segment Captured
	 * clear). */
	PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_RID1, (uint32_t)o->rid_limit << 8));
	PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_RID2, 1u | (uint32_t)o->rid_base << 8));
	/* Up to two address blocks (mem, then pref); unused ones zeroed. */
	for (unsigned k = 0; k < port->port.nr_addr; k++) {
		uint32_t a1 = 0, a2 = 0, a3 = 0;

		if (k == 0 && o->mem_assoc) {
			uint64_t base, limit;

			bridge_window(s->ep->br ? s->ep->br : s->rp, &base, &limit);
			a1 = 1u | (uint32_t)(base >> 20 & 0xfff) << 8 |
			     (uint32_t)(limit >> 20 & 0xfff) << 20;
			a2 = (uint32_t)(limit >> 32);
			a3 = (uint32_t)(base >> 32);
		}
		PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_ADDR1(k), a1));
		PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_ADDR2(k), a2));
		PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_ADDR3(k), a3));
	}
	/* Control: EN=0 with the Stream ID already in (some devices need it for key
	 * programming), TC 0, algorithm 0. */
	ctl.stream_id = (uint8_t)s->stream_id;
	ctl.default_stream = o->default_stream;
	ctl.cfg_en = o->cfg_en && port->port.sel_cfg;
	ctl.tee_limited = o->tee_limited && port->port.tee_limited;
	PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_CTL, pcitsm_ide_ctl_encode(&ctl)));
	if (is_rp)
		s->setup_rp = true;
	else
		s->setup_ep = true;
	return PCITSM_OK;
}

pcitsm_err tsm_stream_enable(struct tsm_stream *s, struct tsm_fn *port, unsigned idx)
{
	uint32_t blk = port->port.sel_off[idx], ctl, sts;
	bool is_rp = port == s->rp;

	PCITSM_TRY(ctl_read(port, idx, &ctl));
	PCITSM_TRY(wr(port, blk + PCITSM_IDE_SEL_CTL, ctl | PCITSM_IDE_CTL_EN));
	if (is_rp)
		s->enabled_rp = true;
	else
		s->enabled_ep = true;
	PCITSM_TRY(pcitsm_cfg_read32(port->cfg, blk + PCITSM_IDE_SEL_STS, &sts));
	if ((sts & PCITSM_IDE_STATUS_STATE_MASK) != PCITSM_IDE_STATE_SECURE) {
		tsm_stream_disable(s, port, idx);
		return PCITSM_E_IO;
	}
	return PCITSM_OK;
}

void tsm_stream_disable(struct tsm_stream *s, struct tsm_fn *port, unsigned idx)
{
	uint32_t ctl;

	if (ctl_read(port, idx, &ctl) == PCITSM_OK &&
	    wr(port, port->port.sel_off[idx] + PCITSM_IDE_SEL_CTL, ctl & ~PCITSM_IDE_CTL_EN) ==
		    PCITSM_OK) {
		if (port == s->rp)
			s->enabled_rp = false;
		else
			s->enabled_ep = false;
	}
}

/* Teardown of one partner: Control back to idle (EN=0, reserved Stream ID 255, as Linux leaves
 * idle streams), RID and address association zeroed. */
static void stream_teardown(struct tsm_fn *port, unsigned idx)
{
	uint32_t blk = port->port.sel_off[idx];
	pcitsm_err e;

	e = wr(port, blk + PCITSM_IDE_SEL_CTL,
	       (uint32_t)PCITSM_IDE_RESERVED_STREAM_ID << PCITSM_IDE_CTL_ID_SHIFT);
	if (!e)
		e = wr(port, blk + PCITSM_IDE_SEL_RID1, 0);
	if (!e)
		e = wr(port, blk + PCITSM_IDE_SEL_RID2, 0);
	for (unsigned k = 0; k < port->port.nr_addr && !e; k++) {
		e = wr(port, blk + PCITSM_IDE_SEL_ADDR1(k), 0);
		if (!e)
			e = wr(port, blk + PCITSM_IDE_SEL_ADDR2(k), 0);
		if (!e)
			e = wr(port, blk + PCITSM_IDE_SEL_ADDR3(k), 0);
	}
	if (e)
		pcitsm_warn(port->core->env, "tsm: %s: teardown of block %u: %s", port->name, idx,
			    pcitsm_err_name(e));
}

void tsm_stream_release(struct tsm_stream *s)
{
	struct pcitsm_tsm_core *c;

	if (!s)
		return;
	c = s->ep->core;
	/* Reverse of enable (endpoint then root port). */
	if (s->enabled_rp)
		tsm_stream_disable(s, s->rp, s->r);
	if (s->enabled_ep)
		tsm_stream_disable(s, s->ep, s->e);
	if (s->setup_rp)
		stream_teardown(s->rp, s->r);
	if (s->setup_ep)
		stream_teardown(s->ep, s->e);
	pthread_mutex_lock(&c->lock);
	if (s->registered)
		tsm_ida_free(&s->hb->ids, (unsigned)s->stream_id);
	tsm_ida_free(&s->rp->port.blocks, s->r);
	tsm_ida_free(&s->ep->port.blocks, s->e);
	if (s->hb->by_h[s->h] == s)
		s->hb->by_h[s->h] = NULL;
	tsm_ida_free(&s->hb->h, s->h);
	pthread_mutex_unlock(&c->lock);
	free(s);
}

void tsm_port_status(struct tsm_fn *port, unsigned idx, struct pcitsm_tsm_port_status *st)
{
	memset(st, 0, sizeof(*st));
	st->bdf = port->bdf;
	st->has_ide = port->port.ide;
	st->sel_index = idx;
	if (!port->port.ide || idx >= port->port.nr_sel)
		return;
	if (ctl_read(port, idx, &st->ctl) != PCITSM_OK ||
	    pcitsm_cfg_read32(port->cfg, port->port.sel_off[idx] + PCITSM_IDE_SEL_STS, &st->sts) !=
		    PCITSM_OK)
		return;
	st->enabled = st->ctl & PCITSM_IDE_CTL_EN;
	st->state = st->sts & PCITSM_IDE_STATUS_STATE_MASK;
	st->stream_id = (uint8_t)(st->ctl >> PCITSM_IDE_CTL_ID_SHIFT);
}
