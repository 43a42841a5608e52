/* SPDX-License-Identifier: MIT */
/*
 * Traffic across a link (pcitsm_tsm_traffic): memory writes and read-backs in both directions
 * through the platform's memory path (platform ops mem_write / mem_read; on the emulated platform
 * every TLP goes through both IDE engines and the wire with its tap), with the TSM's key lifetime
 * check before every operation, optionally with asked-for key refreshes in between (the "no loss
 * under rekey" check); or a TDI's own DMA with T=1 into the confidential VM's private memory
 * (platform ops tee_write / tee_read, pcitsm_tsm_traffic_tee), which the platform lets through
 * only while the TDI is RUN (PCIe 6.x §11).
 */
#include <stdlib.h>
#include <string.h>

#include "tsm_priv.h"

/* The link's counters right now (the platform's, taken under the DSM mutex). */
static pcitsm_err link_now(struct tsm_fn *fn, struct pcitsm_platform_link *l)
{
	const struct pcitsm_platform *p = &fn->core->plat;

	return p->ops->link ? p->ops->link(p->ctx, fn->idx, l) : PCITSM_E_UNSUPPORTED;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(seed >> 56);
	}
}

static void note(struct pcitsm_tsm_traffic *r, pcitsm_err e)
{
	r->failures++;
	if (!r->first_err)
		r->first_err = e;
}

/* One write and its read-back: i-th operation of a run. Plain traffic alternates the sides
 * (even: the host writes the device's memory; odd: the device DMAs to the host's); a TDI's run
 * (tee) is the function's own DMA with T=1 into the host's private memory. */
static pcitsm_err op_write(struct tsm_fn *fn, bool tee, uint64_t i, uint64_t addr,
			   const uint8_t *buf, size_t size)
{
	const struct pcitsm_platform *p = &fn->core->plat;
	enum pcitsm_ide_side from = i & 1 ? PCITSM_IDE_SIDE_EP : PCITSM_IDE_SIDE_RP;

	if (tee)
		return p->ops->tee_write(p->ctx, fn->idx, addr, buf, size);
	return p->ops->mem_write(p->ctx, fn->idx, from, addr, buf, size);
}

static pcitsm_err op_read(struct tsm_fn *fn, bool tee, uint64_t i, uint64_t addr, uint8_t *buf,
			  size_t size)
{
	const struct pcitsm_platform *p = &fn->core->plat;
	enum pcitsm_ide_side from = i & 1 ? PCITSM_IDE_SIDE_EP : PCITSM_IDE_SIDE_RP;

	if (tee)
		return p->ops->tee_read(p->ctx, fn->idx, addr, buf, size);
	return p->ops->mem_read(p->ctx, fn->idx, from, addr, buf, size);
}

/* Where operation i writes: a slot of size bytes in the other side's memory, or in the private
 * memory for a TDI's run. */
static uint64_t op_addr(const struct pcitsm_platform_link *l, bool tee, uint64_t i, size_t size)
{
	enum pcitsm_ide_side from = i & 1 ? PCITSM_IDE_SIDE_EP : PCITSM_IDE_SIDE_RP;

	if (tee)
		return l->priv_base + (i % (l->priv_size / size)) * size;
	return l->mem_base[!from] + ((i / 2) % (l->mem_size / size)) * size;
}

static void rekey_now(struct pcitsm_tsm_core *c, struct tsm_fn *fn, struct pcitsm_tsm_traffic *r)
{
	struct tsm_dev *d;
	pcitsm_err e;

	pthread_mutex_lock(&c->lock);
	d = fn->tsm;
	pthread_mutex_unlock(&c->lock);
	e = d && d->link->rekey ? d->link->rekey(d->ctx, fn, fn->drv) : PCITSM_E_STATE;
	if (e) {
		note(r, e);
		return;
	}
	fn->rekeys++;
	pthread_mutex_lock(&c->lock);
	c->rekeys++;
	pthread_mutex_unlock(&c->lock);
}

static pcitsm_err traffic_run(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			      uint64_t n_ops, size_t size, uint64_t every, bool tee,
			      struct pcitsm_tsm_traffic *r)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf), *locked;
	const struct pcitsm_platform *p = &c->plat;
	struct pcitsm_platform_link l, l1;
	uint8_t *wbuf, *rbuf;

	if (!r)
		return PCITSM_E_INVAL;
	memset(r, 0, sizeof(*r));
	r->tee = tee;
	if (!fn)
		return PCITSM_E_NOTFOUND;
	if (!size || size % 4 || size > PCITSM_TLP_DATA_MAX)
		return PCITSM_E_INVAL;
	if (!fn->is_endpoint || link_now(fn, &l) != PCITSM_OK)
		return PCITSM_E_UNSUPPORTED;
	if (tee ? !p->ops->tee_write || !p->ops->tee_read || l.priv_size < size
		: !p->ops->mem_write || !p->ops->mem_read || l.mem_size < size)
		return PCITSM_E_UNSUPPORTED;
	wbuf = malloc(size);
	rbuf = malloc(size);
	if (!wbuf || !rbuf) {
		free(wbuf);
		free(rbuf);
		return PCITSM_E_NOMEM;
	}
	/* A TDI's DMA holds its DSM's mutex, as a lock or an accept of the device does. */
	locked = tee && fn->dsm ? fn->dsm : fn;
	pthread_mutex_lock(&locked->lock);
	if (link_now(fn, &l1) == PCITSM_OK)
		l = l1; /* the counters at the start */
	for (uint64_t i = 0; i < n_ops; i++) {
		uint64_t addr = op_addr(&l, tee, i, size);
		bool refreshed;
		pcitsm_err e;

		/* The TSM's key lifetime policy before every operation (docs/tsm.md "Key
		 * lifetime"): a refresh comes between two operations, never inside one. */
		e = tsm_fn_key_check(fn, &refreshed);
		if (e)
			note(r, e);
		r->key_refreshes += refreshed;
		fill(wbuf, size, i + 1);
		r->ops++;
		e = op_write(fn, tee, i, addr, wbuf, size);
		if (e) {
			note(r, e);
		} else {
			r->writes++;
			r->bytes += size;
			e = op_read(fn, tee, i, addr, rbuf, size);
			if (!e && memcmp(wbuf, rbuf, size))
				e = PCITSM_E_MAC; /* wrong data came back */
			if (e) {
				note(r, e);
			} else {
				r->reads++;
				r->bytes += size;
			}
		}
		if (every && (i + 1) % every == 0 && i + 1 < n_ops)
			rekey_now(c, fn, r);
	}
	if (link_now(fn, &l1) != PCITSM_OK)
		l1 = l;
	r->tlps_secure = l1.tlps_secure - l.tlps_secure;
	r->tlps_clear = l1.tlps_wire - l.tlps_wire -
			PCITSM_MIN(r->tlps_secure, l1.tlps_wire - l.tlps_wire);
	r->tee_refused = l1.tee_refused - l.tee_refused;
	pthread_mutex_unlock(&locked->lock);
	pcitsm_wipe(wbuf, size);
	pcitsm_wipe(rbuf, size);
	free(wbuf);
	free(rbuf);
	return PCITSM_OK;
}

pcitsm_err pcitsm_tsm_traffic_rekey(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				    uint64_t n_ops, size_t size, uint64_t every,
				    struct pcitsm_tsm_traffic *r)
{
	return traffic_run(c, bdf, n_ops, size, every, false, r);
}

pcitsm_err pcitsm_tsm_traffic(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			      uint64_t n_ops, size_t size, struct pcitsm_tsm_traffic *res)
{
	return traffic_run(c, bdf, n_ops, size, 0, false, res);
}

pcitsm_err pcitsm_tsm_traffic_tee(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				  uint64_t n_ops, size_t size, struct pcitsm_tsm_traffic *res)
{
	return traffic_run(c, bdf, n_ops, size, 0, true, res);
}
