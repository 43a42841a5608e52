/* SPDX-License-Identifier: MIT */
/*
 * The emulated links: an IDE engine (struct pcitsm_ide_port) in every root port and endpoint,
 * driven by the port's selective-stream registers; a pcitsm_ide_wire between each pair; the
 * endpoint's memory, reached by Memory Reads and Writes from the root port; and the root port's
 * private key path that only platform firmware uses.
 */
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"

static pcitsm_err emu_link_lock_init(struct pcitsm_emu_link *l)
{
	pthread_mutexattr_t a;
	int rc;

	if (pthread_mutexattr_init(&a) != 0)
		return PCITSM_E_SYSTEM;
	rc = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	if (!rc)
		rc = pthread_mutex_init(&l->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (rc)
		return PCITSM_E_SYSTEM;
	l->lock_ready = true;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Registers -> engine (PCIe 6.x §7.9.26, §6.33 streams and sub-streams).
 */
/* A selective block's registers changed: the engine follows them through lib/ide's register
 * loader (pcitsm_ide_port_load_block: configure unless the engine already holds exactly this
 * programming, aggregation included, then follow Enable; a block that is idle, Stream ID 255, or
 * whose programming the engine refuses releases its engine stream and its Stream ID, which
 * another block may then take), with what a live register file adds:
 * - while Enable stays set nothing changes: every field was sampled at Enable (an Enable on an
 *   unusable block stays Insecure until Enable is cleared and set again);
 * - the register write itself always succeeds: a block the loader could not load at all holds no
 *   stream either (pcitsm_ide_stream_unconfigure, a no-op where the loader released it). */
static void engine_sync(struct pcitsm_emu_func *f, unsigned idx, bool was_en, bool now_en)
{
	struct pcitsm_ide_port *port = f->ide_port;
	bool configured;

	if (!port || idx >= port->nr_streams || (was_en && now_en))
		return;
	if (pcitsm_ide_port_load_block(port, &f->cfg.cfg, f->ide_off, idx, &configured) ==
		    PCITSM_OK &&
	    configured)
		return;
	/* Cannot fail for an index below the port's stream count (checked above). */
	if (pcitsm_ide_stream_unconfigure(port, idx) != PCITSM_OK)
		pcitsm_debug(port->env, "emu: engine stream %u not released", idx);
}

/* Under the link's lock: a DMA burst never sees the engine change under it. */
void emu_engine_sync(struct pcitsm_emu_func *f, unsigned idx, bool was_en, bool now_en)
{
	emu_link_lock(f->link);
	engine_sync(f, idx, was_en, now_en);
	emu_link_unlock(f->link);
}

void emu_link_lock(struct pcitsm_emu_link *l)
{
	if (l)
		pthread_mutex_lock(&l->lock);
}

void emu_link_unlock(struct pcitsm_emu_link *l)
{
	if (l)
		pthread_mutex_unlock(&l->lock);
}

/* ---------------------------------------------------------------------------------------------
 * Memory at both ends: a side serves Memory Reads and Writes into its memory; completions are
 * gathered by tag (dma.c).
 */
uint16_t emu_side_rid(const struct pcitsm_emu_link *l, enum pcitsm_ide_side side)
{
	return pcitsm_bdf_rid(side == PCITSM_IDE_SIDE_RP ? &l->rp->bdf : &l->ep->bdf);
}

/* ---------------------------------------------------------------------------------------------
 * TDISP gating (emu.h pcitsm_emu_tee_write): who may reach what, by TDI state.
 */
#define EMU_PRIVATE_OFF (PCITSM_EMU_MEM_SIZE / 2)

void pcitsm_emu_private_mem(const struct pcitsm_emu_link *l, uint64_t *base, size_t *size)
{
	*base = l->side[PCITSM_IDE_SIDE_RP].base + EMU_PRIVATE_OFF;
	*size = PCITSM_EMU_MEM_SIZE - EMU_PRIVATE_OFF - PCITSM_EMU_SCRATCH;
}

int emu_link_func_index(const struct pcitsm_emu_link *l, uint16_t rid)
{
	if (pcitsm_bdf_rid(&l->ep->bdf) == rid)
		return 0;
	for (unsigned i = 0; i < l->ep->nr_siblings; i++)
		if (pcitsm_bdf_rid(&l->ep->sibling[i]->bdf) == rid)
			return (int)i + 1;
	return -1;
}

struct pcitsm_emu_link *pcitsm_emu_func_link(struct pcitsm_emu_platform *p,
					     const struct pcitsm_emu_func *f)
{
	for (unsigned k = 0; p->links && k < p->config.nr_ports; k++)
		if (emu_link_func_index(&p->links[k], pcitsm_bdf_rid(&f->bdf)) >= 0)
			return &p->links[k];
	return NULL;
}

/* The endpoint function with Requester ID rid on this link (PF0 or one of its functions). */
static const struct pcitsm_emu_func *link_func(const struct pcitsm_emu_link *l, uint16_t rid)
{
	int i = emu_link_func_index(l, rid);

	return i < 0 ? NULL : i ? l->ep->sibling[i - 1] : l->ep;
}

static bool in_region(const struct pcitsm_tdisp_region *r, uint64_t off, size_t len)
{
	return off < r->offset + r->size && r->offset < off + len;
}

/* Whether [addr, addr + len) lies in a TEE range of f (its BAR0 less non-TEE, MSI-X). */
static bool tee_range(const struct pcitsm_emu_func *f, uint64_t addr, size_t len)
{
	const struct pcitsm_tdisp_bar *b = &f->desc.bar[0];
	uint64_t off;

	if (!f->desc.nr_bars || addr < b->base || addr - b->base + len > b->size)
		return false;
	off = addr - b->base;
	for (unsigned i = 0; i < f->desc.nr_non_tee; i++)
		if (in_region(&f->desc.non_tee[i], off, len))
			return false;
	return !(f->desc.msix && (in_region(&f->desc.msix_table, off, len) ||
				  in_region(&f->desc.msix_pba, off, len)));
}

/* The receiving side's verdict on a request (t: its T bit). The one TDISP gate: requests the host
 * serves from its memory and those it serves through the IOMMU (a PASID, or an IOVA) alike. */
bool emu_tee_admit(const struct pcitsm_emu_link *l, enum pcitsm_ide_side to,
		   const struct pcitsm_tlp *t, bool tbit)
{
	if (to == PCITSM_IDE_SIDE_RP) {
		/* DMA into the host: T=1 only from a TDI in RUN; private memory only with T=1. */
		const struct pcitsm_emu_func *f = link_func(l, t->req_id);
		uint64_t pb;
		size_t ps;

		pcitsm_emu_private_mem(l, &pb, &ps);
		if (tbit)
			return f && pcitsm_emu_tdi_state(f) == PCITSM_TDISP_RUN;
		/* The private window is host physical memory: a PASID request names a virtual
		 * address in the process's address space, never that window. */
		return t->has_pasid || !(t->addr < pb + ps && pb < t->addr + t->len);
	}
	/* MMIO into the device: a TEE range answers T=1 in RUN, T=0 only while unlocked. */
	for (unsigned i = 0; i <= l->ep->nr_siblings; i++) {
		const struct pcitsm_emu_func *f = i ? l->ep->sibling[i - 1] : l->ep;
		int st = pcitsm_emu_tdi_state(f);

		if (!tee_range(f, t->addr, t->len))
			continue;
		if (tbit)
			return st == PCITSM_TDISP_RUN;
		return st < 0 || st == PCITSM_TDISP_CONFIG_UNLOCKED;
	}
	return !tbit; /* T=1 to no TEE range at all */
}

static void serve_request(struct pcitsm_emu_link *l, enum pcitsm_ide_side to,
			  const struct pcitsm_tlp *t, bool tee)
{
	struct pcitsm_emu_side *sd = &l->side[to];
	bool in = t->addr >= sd->base && t->addr - sd->base + t->len <= PCITSM_EMU_MEM_SIZE &&
		  t->len;

	/* PCIe 6.x §11: a request the TDI's state does not admit is dropped (posted) or completed
	 * Unsupported Request (non-posted). */
	if (in && !emu_tee_admit(l, to, t, tee)) {
		in = false;
		l->tee_refused[to]++;
	}

	if (t->kind == PCITSM_TLP_MWR) {
		if (!in) {
			sd->bad++;
			return;
		}
		memcpy(sd->mem + (t->addr - sd->base), t->data, t->len);
		sd->writes++;
		return;
	}
	if (!in)
		sd->bad++;
	else
		sd->reads++;
	/* The completion's T is the request's (PCIe 6.x §11). */
	if (emu_complete(l, to, t, tee, in ? sd->mem + (t->addr - sd->base) : NULL) != PCITSM_OK ||
	    emu_cpl_flush(l) != PCITSM_OK)
		sd->bad++;
}

static void wire_sink(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to,
		      const struct pcitsm_tlp_ref *tlp, bool tee)
{
	struct emu_wire *ew = pcitsm_container_of(w, struct emu_wire, w);
	struct pcitsm_emu_link *l = ew->link;
	struct pcitsm_tlp t;

	/* Header and payload apart (a payload where its sender has it), or one buffer. */
	if (pcitsm_tlp_decode_ref(tlp, &t) != PCITSM_OK) {
		l->side[to].bad++;
		return;
	}
	switch (t.kind) {
	case PCITSM_TLP_MWR:
	case PCITSM_TLP_MRD:
		/* Requests the IOMMU serves wait for the end of the delivery, to go together. */
		if (emu_dma_collect(l, to, &t, tee))
			break;
		emu_dma_serve(l, to); /* in order: what was collected goes first */
		serve_request(l, to, &t, tee);
		break;
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD:
		emu_cpl_gather(l, to, &t, tee);
		break;
	default:
		break; /* messages: the engines consumed IDE Sync / Fail already */
	}
}

static void wire_sink_end(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to)
{
	struct emu_wire *ew = pcitsm_container_of(w, struct emu_wire, w);

	emu_dma_serve(ew->link, to);
}

static pcitsm_err mem_check(const struct pcitsm_emu_link *l, enum pcitsm_ide_side from, size_t len)
{
	if (!l || !l->wire || (unsigned)from > 1 || !len || len % 4 || len > PCITSM_TLP_DATA_MAX)
		return PCITSM_E_INVAL;
	return PCITSM_OK;
}

/* The requester ID of req on side from (NULL: the side's own function). */
static uint16_t req_rid(const struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			const struct pcitsm_emu_func *req)
{
	return req && from == PCITSM_IDE_SIDE_EP ? pcitsm_bdf_rid(&req->bdf)
						 : emu_side_rid(l, from);
}

static pcitsm_err mem_write_as(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			       const struct pcitsm_emu_func *req, bool tbit, uint64_t addr,
			       const void *buf, size_t len);
static pcitsm_err mem_read_as(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			      const struct pcitsm_emu_func *req, bool tbit, uint64_t addr, void *buf,
			      size_t len);

pcitsm_err pcitsm_emu_mem_write(struct pcitsm_emu_link *l, enum pcitsm_ide_side from, uint64_t addr,
				const void *buf, size_t len)
{
	return mem_write_as(l, from, NULL, false, addr, buf, len);
}

pcitsm_err pcitsm_emu_mem_read(struct pcitsm_emu_link *l, enum pcitsm_ide_side from, uint64_t addr,
			       void *buf, size_t len)
{
	return mem_read_as(l, from, NULL, false, addr, buf, len);
}

pcitsm_err pcitsm_emu_tee_write(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
				const struct pcitsm_emu_func *req, bool t, uint64_t addr,
				const void *buf, size_t len)
{
	return mem_write_as(l, from, req, t, addr, buf, len);
}

pcitsm_err pcitsm_emu_tee_read(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			       const struct pcitsm_emu_func *req, bool t, uint64_t addr, void *buf,
			       size_t len)
{
	return mem_read_as(l, from, req, t, addr, buf, len);
}

static pcitsm_err mem_write_as(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			       const struct pcitsm_emu_func *req, bool tbit, uint64_t addr,
			       const void *buf, size_t len)
{
	uint8_t tlp[PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX];
	struct pcitsm_tlp t;
	const uint8_t *p = tlp;
	size_t n;
	pcitsm_err e;

	PCITSM_TRY(mem_check(l, from, len));
	memset(&t, 0, sizeof(t));
	t.kind = PCITSM_TLP_MWR;
	t.req_id = req_rid(l, from, req);
	t.addr = addr;
	t.first_be = 0xf;
	t.last_be = len > 4 ? 0xf : 0;
	t.data = buf;
	t.len = len;
	PCITSM_TRY(pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &n));
	/* T=1 only inside an IDE TLP: the sender's engine refuses it otherwise (E_STATE). */
	pthread_mutex_lock(&l->lock);
	e = pcitsm_ide_wire_send(l->wire, from, tbit, &p, &n, 1);
	pthread_mutex_unlock(&l->lock);
	return e;
}

static pcitsm_err mem_read_as(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			      const struct pcitsm_emu_func *req, bool tbit, uint64_t addr, void *buf,
			      size_t len)
{
	uint8_t tlp[PCITSM_TLP_HDR_MAX];
	struct pcitsm_emu_tag *tg;
	struct pcitsm_tlp t;
	const uint8_t *p = tlp;
	size_t n;
	int tag;
	pcitsm_err e;

	PCITSM_TRY(mem_check(l, from, len));
	memset(&t, 0, sizeof(t));
	t.kind = PCITSM_TLP_MRD;
	t.req_id = req_rid(l, from, req);
	t.addr = addr;
	t.first_be = 0xf;
	t.last_be = len > 4 ? 0xf : 0;
	t.len = len;
	pthread_mutex_lock(&l->lock);
	tag = emu_tag_alloc(&l->side[from], t.req_id, addr, len, buf, 0, len);
	e = tag < 0 ? PCITSM_E_BUSY : PCITSM_OK;
	if (!e) {
		t.tag = (uint8_t)tag;
		e = pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &n);
	}
	if (!e)
		e = pcitsm_ide_wire_send(l->wire, from, tbit, &p, &n, 1);
	if (tag >= 0) {
		tg = &l->side[from].tag[tag];
		if (!e && !tg->done)
			e = PCITSM_E_NORESPONSE;
		else if (!e && tg->status != 0)
			e = PCITSM_E_IO;
		tg->busy = false;
	}
	pthread_mutex_unlock(&l->lock);
	return e;
}

pcitsm_err pcitsm_emu_link_flush(struct pcitsm_emu_link *l)
{
	uint8_t z[4] = { 0 }, r[4];

	if (!l || !l->wire)
		return PCITSM_E_INVAL;
	for (int from = 0; from < 2; from++) {
		uint64_t at = l->side[!from].base + PCITSM_EMU_MEM_SIZE - PCITSM_EMU_SCRATCH;

		PCITSM_TRY(pcitsm_emu_mem_write(l, (enum pcitsm_ide_side)from, at, z, sizeof(z)));
		PCITSM_TRY(pcitsm_emu_mem_read(l, (enum pcitsm_ide_side)from, at, r, sizeof(r)));
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The root port's private key path.
 */
pcitsm_err pcitsm_emu_rp_key_prog(struct pcitsm_emu_func *rp, uint8_t stream_id, unsigned kset,
				  enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				  const uint8_t key[32], const uint8_t ifv[8])
{
	pcitsm_err e;

	if (!rp || rp->kind != PCITSM_EMU_ROOT_PORT || !rp->ide_port)
		return PCITSM_E_INVAL;
	emu_link_lock(rp->link);
	e = pcitsm_ide_key_prog(rp->ide_port, stream_id, kset, dir, sub, key, ifv);
	emu_link_unlock(rp->link);
	return e;
}

pcitsm_err pcitsm_emu_rp_k_set_go(struct pcitsm_emu_func *rp, uint8_t stream_id, unsigned kset,
				  enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	pcitsm_err e;

	if (!rp || rp->kind != PCITSM_EMU_ROOT_PORT || !rp->ide_port)
		return PCITSM_E_INVAL;
	emu_link_lock(rp->link);
	e = pcitsm_ide_k_set_go(rp->ide_port, stream_id, kset, dir, sub);
	emu_link_unlock(rp->link);
	return e;
}

pcitsm_err pcitsm_emu_rp_k_set_stop(struct pcitsm_emu_func *rp, uint8_t stream_id, unsigned kset,
				    enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	pcitsm_err e;

	if (!rp || rp->kind != PCITSM_EMU_ROOT_PORT || !rp->ide_port)
		return PCITSM_E_INVAL;
	emu_link_lock(rp->link);
	e = pcitsm_ide_k_set_stop(rp->ide_port, stream_id, kset, dir, sub);
	emu_link_unlock(rp->link);
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Construction.
 */
/* The endpoint's engine failed a stream by itself (an IDE Check Failed, the root port's IDE
 * Fail): the device's TDIs bound to it go to ERROR (TDISP, PCIe 6.x §11), as when software
 * clears Enable (platform.c). */
static void ep_stream_insecure(void *arg, uint8_t stream_id)
{
	emu_tdi_stream_insecure(arg, stream_id);
}

pcitsm_err emu_links_init(struct pcitsm_emu_platform *p)
{
	unsigned n = p->config.nr_ports;

	p->links = calloc(n, sizeof(*p->links));
	if (!p->links)
		return PCITSM_E_NOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct pcitsm_emu_link *l = &p->links[i];
		struct emu_wire *ew;

		l->rp = &p->funcs[i];
		l->ep = &p->funcs[n + i];
		l->rp->link = l->ep->link = l;
		l->side[PCITSM_IDE_SIDE_EP].base = PCITSM_EMU_MEM_BASE + i * PCITSM_EMU_MEM_WINDOW;
		l->side[PCITSM_IDE_SIDE_RP].base = PCITSM_EMU_HOST_MEM_BASE;
		PCITSM_TRY(emu_link_lock_init(l));
		PCITSM_TRY(emu_dma_init(l));
		for (int sd = 0; sd < 2; sd++) {
			l->side[sd].mem = calloc(1, PCITSM_EMU_MEM_SIZE);
			if (!l->side[sd].mem)
				return PCITSM_E_NOMEM;
		}
		PCITSM_TRY(pcitsm_gcm_new(&l->gcm, PCITSM_GCM_AUTO));
		if (l->rp->ide_off)
			PCITSM_TRY(pcitsm_ide_port_new(&l->rp->ide_port, l->gcm, p->env,
						       pcitsm_bdf_rid(&l->rp->bdf)));
		if (l->ep->ide_off) {
			PCITSM_TRY(pcitsm_ide_port_new(&l->ep->ide_port, l->gcm, p->env,
						       pcitsm_bdf_rid(&l->ep->bdf)));
			l->ep->ide_port->on_insecure = ep_stream_insecure;
			l->ep->ide_port->on_insecure_arg = l->ep;
		}
		if (!l->rp->ide_port || !l->ep->ide_port)
			continue; /* no IDE at one end: no wire either */
		/* The endpoint's DMA engine decrypts read completions into their destination. */
		l->ep->ide_port->rx_place = emu_cpl_place;
		l->ep->ide_port->rx_place_ctx = l;
		ew = calloc(1, sizeof(*ew));
		if (!ew)
			return PCITSM_E_NOMEM;
		ew->link = l;
		ew->w.port[PCITSM_IDE_SIDE_RP] = l->rp->ide_port;
		ew->w.port[PCITSM_IDE_SIDE_EP] = l->ep->ide_port;
		ew->w.sink = wire_sink;
		ew->w.sink_end = wire_sink_end;
		l->wire = &ew->w;
	}
	return PCITSM_OK;
}

void emu_links_free(struct pcitsm_emu_platform *p)
{
	if (!p->links)
		return;
	for (unsigned i = 0; i < p->config.nr_ports; i++) {
		struct pcitsm_emu_link *l = &p->links[i];

		if (l->wire) {
			struct emu_wire *ew = pcitsm_container_of(l->wire, struct emu_wire, w);

			pcitsm_wipe(ew, sizeof(*ew)); /* delivered plaintext */
			free(ew);
		}
		if (l->rp) {
			pcitsm_ide_port_free(l->rp->ide_port);
			l->rp->ide_port = NULL;
		}
		if (l->ep) {
			pcitsm_ide_port_free(l->ep->ide_port);
			l->ep->ide_port = NULL;
		}
		pcitsm_gcm_free(l->gcm);
		emu_dma_free(l);
		if (l->lock_ready)
			pthread_mutex_destroy(&l->lock);
		for (int sd = 0; sd < 2; sd++) {
			if (l->side[sd].mem)
				pcitsm_wipe(l->side[sd].mem, PCITSM_EMU_MEM_SIZE);
			free(l->side[sd].mem);
		}
	}
	free(p->links);
	p->links = NULL;
}
