/* SPDX-License-Identifier: MIT */
/*
 * Traffic across a link (pcitsm_tsm_traffic): memory writes and read-backs in both directions
 * through the platform's memory path (platform ops mem_write / mem_read; on the emulated platform
 * every TLP goes through both IDE engines and the wire with its tap), with the TSM's key lifetime
 * check before every operation, optionally with asked-for key refreshes in between (the "no loss
 * under rekey" check).
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

pcitsm_err pcitsm_tsm_traffic_rekey(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				    uint64_t n_ops, size_t size, uint64_t every,
				    struct pcitsm_tsm_traffic *r)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	const struct pcitsm_platform *p = &c->plat;
	struct pcitsm_platform_link l, l1;
	uint8_t *wbuf, *rbuf;
	uint64_t slots;

	if (!r)
		return PCITSM_E_INVAL;
	memset(r, 0, sizeof(*r));
	if (!fn)
		return PCITSM_E_NOTFOUND;
	if (!size || size % 4 || size > PCITSM_TLP_DATA_MAX)
		return PCITSM_E_INVAL;
	if (!fn->is_endpoint || link_now(fn, &l) != PCITSM_OK || !p->ops->mem_write ||
	    !p->ops->mem_read || l.mem_size < size)
		return PCITSM_E_UNSUPPORTED;
	wbuf = malloc(size);
	rbuf = malloc(size);
	if (!wbuf || !rbuf) {
		free(wbuf);
		free(rbuf);
		return PCITSM_E_NOMEM;
	}
	slots = l.mem_size / size;
	pthread_mutex_lock(&fn->lock);
	if (link_now(fn, &l1) == PCITSM_OK)
		l = l1; /* the counters at the start */
	for (uint64_t i = 0; i < n_ops; i++) {
		/* Even: the host writes the device's memory; odd: the device DMAs to the host's. */
		enum pcitsm_ide_side from = i & 1 ? PCITSM_IDE_SIDE_EP : PCITSM_IDE_SIDE_RP;
		uint64_t base = l.mem_base[!from] + ((i / 2) % slots) * size;
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
		e = p->ops->mem_write(p->ctx, fn->idx, from, base, wbuf, size);
		if (e) {
			note(r, e);
		} else {
			r->writes++;
			r->bytes += size;
			e = p->ops->mem_read(p->ctx, fn->idx, from, base, rbuf, size);
			if (!e && memcmp(wbuf, rbuf, size))
				e = PCITSM_E_MAC; /* wrong data came back */
			if (e) {
				note(r, e);
			} else {
				r->reads++;
				r->bytes += size;
			}
		}
		if (every && (i + 1) % every == 0 && i + 1 < n_ops) {
			struct tsm_dev *d;

			pthread_mutex_lock(&c->lock);
			d = fn->tsm;
			pthread_mutex_unlock(&c->lock);
			e = d && d->link->rekey ? d->link->rekey(d->ctx, fn, fn->drv) : PCITSM_E_STATE;
			if (e) {
				note(r, e);
			} else {
				fn->rekeys++;
				pthread_mutex_lock(&c->lock);
				c->rekeys++;
				pthread_mutex_unlock(&c->lock);
			}
		}
	}
	if (link_now(fn, &l1) != PCITSM_OK)
		l1 = l;
	r->tlps_secure = l1.tlps_secure - l.tlps_secure;
	r->tlps_clear = l1.tlps_wire - l.tlps_wire -
			PCITSM_MIN(r->tlps_secure, l1.tlps_wire - l.tlps_wire);
	pthread_mutex_unlock(&fn->lock);
	pcitsm_wipe(wbuf, size);
	pcitsm_wipe(rbuf, size);
	free(wbuf);
	free(rbuf);
	return PCITSM_OK;
}

pcitsm_err pcitsm_tsm_traffic(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			      uint64_t n_ops, size_t size, struct pcitsm_tsm_traffic *res)
{
	return pcitsm_tsm_traffic_rekey(c, bdf, n_ops, size, 0, res);
}
