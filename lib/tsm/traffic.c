/* SPDX-License-Identifier: MIT */
/*
 * Traffic across an emulated link (pcitsm_tsm_traffic): memory writes and read-backs in both
 * directions, every TLP through both IDE engines and the wire with its tap, optionally with key
 * refreshes in between (the "no loss under rekey" check).
 */
#include <stdlib.h>
#include <string.h>

#include "tsm_priv.h"

static uint64_t secure_tlps(const struct pcitsm_emu_link *l)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < PCITSM_IDE_PORT_STREAMS; i++)
		n += l->rp->ide_port->stream[i].stats.tx_tlps + l->ep->ide_port->stream[i].stats.tx_tlps;
	return n;
}

static uint64_t wire_tlps(const struct pcitsm_emu_link *l)
{
	return l->wire->stats[0].sent + l->wire->stats[1].sent;
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
	struct pcitsm_emu_link *l;
	uint8_t *wbuf, *rbuf;
	uint64_t sec0, all0, slots;

	if (!r)
		return PCITSM_E_INVAL;
	memset(r, 0, sizeof(*r));
	if (!fn)
		return PCITSM_E_NOTFOUND;
	if (!size || size % 4 || size > PCITSM_TLP_DATA_MAX)
		return PCITSM_E_INVAL;
	l = fn->f->link;
	if (!fn->is_endpoint || !l || !l->wire)
		return PCITSM_E_UNSUPPORTED;
	wbuf = malloc(size);
	rbuf = malloc(size);
	if (!wbuf || !rbuf) {
		free(wbuf);
		free(rbuf);
		return PCITSM_E_NOMEM;
	}
	slots = (PCITSM_EMU_MEM_SIZE - PCITSM_EMU_SCRATCH) / size;
	pthread_mutex_lock(&fn->lock);
	sec0 = secure_tlps(l);
	all0 = wire_tlps(l);
	for (uint64_t i = 0; i < n_ops; i++) {
		/* Even: the host writes the device's memory; odd: the device DMAs to the host's. */
		enum pcitsm_ide_side from = i & 1 ? PCITSM_IDE_SIDE_EP : PCITSM_IDE_SIDE_RP;
		uint64_t base = l->side[!from].base + ((i / 2) % slots) * size;
		pcitsm_err e;

		fill(wbuf, size, i + 1);
		r->ops++;
		e = pcitsm_emu_mem_write(l, from, base, wbuf, size);
		if (e) {
			note(r, e);
		} else {
			r->writes++;
			r->bytes += size;
			e = pcitsm_emu_mem_read(l, from, base, rbuf, size);
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
	r->tlps_secure = secure_tlps(l) - sec0;
	r->tlps_clear = wire_tlps(l) - all0 - PCITSM_MIN(r->tlps_secure, wire_tlps(l) - all0);
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
