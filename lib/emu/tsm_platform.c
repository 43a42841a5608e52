/* SPDX-License-Identifier: MIT */
/*
 * What the emulated platform provides to the TSM (include/pcitsm/platform.h): the host's view
 * (functions, host bridge, memory traffic across each link) and, separately, the root ports' private
 * key path for the platform firmware. lib/tsm and lib/tsmfw reach this platform only through these.
 */
#include "emu_priv.h"

/* ---------------------------------------------------------------------------------------------
 * The host's grant.
 */
static unsigned host_nr_funcs(void *ctx)
{
	const struct pcitsm_emu_platform *p = ctx;

	return p->nr_funcs;
}

static pcitsm_err host_func(void *ctx, unsigned i, struct pcitsm_platform_func *out)
{
	struct pcitsm_emu_platform *p = ctx;
	struct pcitsm_emu_func *f;

	if (i >= p->nr_funcs)
		return PCITSM_E_NOTFOUND;
	f = &p->funcs[i];
	out->bdf = f->bdf;
	out->cfg = &f->cfg.cfg;
	out->ide_off = f->ide_off;
	out->upstream = f->upstream ? (int)(f->upstream - p->funcs) : -1;
	out->bridge = f->bridge ? (int)(f->bridge - p->funcs) : -1;
	return PCITSM_OK;
}

static void host_bridge(void *ctx, struct pcitsm_platform_hb *hb)
{
	const struct pcitsm_emu_platform *p = ctx;

	hb->segment = p->config.segment;
	hb->bus = p->config.root_bus;
	hb->nr_streams = p->config.nr_streams;
}

/* The link of function i, when it carries TLPs: a VF's is its PF's. */
static struct pcitsm_emu_link *func_link(struct pcitsm_emu_platform *p, unsigned i)
{
	struct pcitsm_emu_func *f = i < p->nr_funcs ? &p->funcs[i] : NULL;
	struct pcitsm_emu_link *l = f ? f->link : NULL;

	if (f && !l && f->physfn)
		l = f->physfn->link;
	return l && l->wire ? l : NULL;
}

static pcitsm_err host_link(void *ctx, unsigned i, struct pcitsm_platform_link *out)
{
	struct pcitsm_emu_link *l = func_link(ctx, i);

	if (!l)
		return PCITSM_E_UNSUPPORTED;
	out->mem_base[PCITSM_IDE_SIDE_RP] = l->side[PCITSM_IDE_SIDE_RP].base;
	out->mem_base[PCITSM_IDE_SIDE_EP] = l->side[PCITSM_IDE_SIDE_EP].base;
	/* Plain (T=0) traffic: below the host's private memory, which only T=1 DMA of a TDI in
	 * RUN reaches (pcitsm_emu_private_mem); the scratch after it is link_flush's. */
	out->mem_size = PCITSM_EMU_MEM_SIZE / 2;
	out->tlps_secure = 0;
	for (unsigned s = 0; s < l->rp->ide_port->nr_streams; s++)
		out->tlps_secure += l->rp->ide_port->stream[s].stats.tx_tlps;
	for (unsigned s = 0; s < l->ep->ide_port->nr_streams; s++)
		out->tlps_secure += l->ep->ide_port->stream[s].stats.tx_tlps;
	out->tlps_wire = l->wire->stats[0].sent + l->wire->stats[1].sent;
	pcitsm_emu_private_mem(l, &out->priv_base, &out->priv_size);
	out->tee_refused = l->tee_refused[PCITSM_IDE_SIDE_RP] + l->tee_refused[PCITSM_IDE_SIDE_EP];
	return PCITSM_OK;
}

/* The requesting function of a TDI's DMA: an endpoint function on link l (PF0 or a VF). */
static const struct pcitsm_emu_func *tee_requester(struct pcitsm_emu_platform *p, unsigned i,
						  const struct pcitsm_emu_link *l)
{
	const struct pcitsm_emu_func *f = &p->funcs[i];

	return f->kind == PCITSM_EMU_ENDPOINT && (f == l->ep || f->physfn == l->ep) ? f : NULL;
}

static pcitsm_err host_tee_write(void *ctx, unsigned i, uint64_t addr, const void *buf, size_t len)
{
	struct pcitsm_emu_link *l = func_link(ctx, i);
	const struct pcitsm_emu_func *f = l ? tee_requester(ctx, i, l) : NULL;

	if (!f)
		return PCITSM_E_UNSUPPORTED;
	return pcitsm_emu_tee_write(l, PCITSM_IDE_SIDE_EP, f, true, addr, buf, len);
}

static pcitsm_err host_tee_read(void *ctx, unsigned i, uint64_t addr, void *buf, size_t len)
{
	struct pcitsm_emu_link *l = func_link(ctx, i);
	const struct pcitsm_emu_func *f = l ? tee_requester(ctx, i, l) : NULL;

	if (!f)
		return PCITSM_E_UNSUPPORTED;
	return pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_EP, f, true, addr, buf, len);
}

static pcitsm_err host_mem_write(void *ctx, unsigned i, enum pcitsm_ide_side from, uint64_t addr,
				 const void *buf, size_t len)
{
	struct pcitsm_emu_link *l = func_link(ctx, i);

	return l ? pcitsm_emu_mem_write(l, from, addr, buf, len) : PCITSM_E_UNSUPPORTED;
}

static pcitsm_err host_mem_read(void *ctx, unsigned i, enum pcitsm_ide_side from, uint64_t addr,
				void *buf, size_t len)
{
	struct pcitsm_emu_link *l = func_link(ctx, i);

	return l ? pcitsm_emu_mem_read(l, from, addr, buf, len) : PCITSM_E_UNSUPPORTED;
}

static pcitsm_err host_link_flush(void *ctx, unsigned i)
{
	struct pcitsm_emu_link *l = func_link(ctx, i);

	return l ? pcitsm_emu_link_flush(l) : PCITSM_OK;
}

static const struct pcitsm_platform_ops emu_host_ops = {
	.nr_funcs = host_nr_funcs,
	.func = host_func,
	.host_bridge = host_bridge,
	.link = host_link,
	.mem_write = host_mem_write,
	.mem_read = host_mem_read,
	.tee_write = host_tee_write,
	.tee_read = host_tee_read,
	.link_flush = host_link_flush,
};

void pcitsm_emu_tsm_platform(struct pcitsm_emu_platform *p, struct pcitsm_platform *out)
{
	out->ops = &emu_host_ops;
	out->ctx = p;
}

/* ---------------------------------------------------------------------------------------------
 * The firmware's grant: the root ports' private key path.
 */
static pcitsm_err rp_key_prog(void *port, uint8_t stream_id, unsigned kset, enum pcitsm_ide_dir dir,
			      enum pcitsm_ide_sub sub, const uint8_t key[PCITSM_IDEKM_KEY_LEN],
			      const uint8_t ifv[PCITSM_IDEKM_IFV_LEN])
{
	return pcitsm_emu_rp_key_prog(port, stream_id, kset, dir, sub, key, ifv);
}

static pcitsm_err rp_k_set(void *port, uint8_t obj, uint8_t stream_id, unsigned kset,
			   enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	if (obj == PCITSM_IDEKM_K_SET_GO)
		return pcitsm_emu_rp_k_set_go(port, stream_id, kset, dir, sub);
	return pcitsm_emu_rp_k_set_stop(port, stream_id, kset, dir, sub);
}

const struct pcitsm_idekm_partner_ops pcitsm_emu_rp_key_ops = {
	.key_prog = rp_key_prog,
	.k_set = rp_k_set,
};

static pcitsm_err rp_usage(void *port, uint8_t stream_id, struct pcitsm_ide_key_usage *u)
{
	struct pcitsm_emu_func *rp = port;

	if (!rp || rp->kind != PCITSM_EMU_ROOT_PORT || !rp->ide_port)
		return PCITSM_E_INVAL;
	return pcitsm_ide_key_usage(rp->ide_port, stream_id, u);
}

/* The root port with Port Number port_number (LNKCAP[31:24]). */
static pcitsm_err rp_find(void *ctx, uint16_t segment, uint8_t port_number, void **port)
{
	struct pcitsm_emu_platform *p = ctx;

	*port = NULL;
	for (unsigned i = 0; i < p->nr_funcs; i++) {
		struct pcitsm_emu_func *f = &p->funcs[i];
		struct pcitsm_pci_id id;

		if (f->kind == PCITSM_EMU_ROOT_PORT && f->bdf.seg == segment &&
		    pcitsm_pci_read_id(&f->cfg.cfg, &id) == PCITSM_OK &&
		    id.port_number == port_number) {
			*port = f;
			return PCITSM_OK;
		}
	}
	return PCITSM_E_NOTFOUND;
}

void pcitsm_emu_rp_keys(struct pcitsm_emu_platform *p, struct pcitsm_platform_rp_keys *out)
{
	out->find = rp_find;
	out->partner = &pcitsm_emu_rp_key_ops;
	out->usage = rp_usage;
	out->ctx = p;
}
