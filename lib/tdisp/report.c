/* SPDX-License-Identifier: MIT */
/*
 * The TDI interface report (PCIe 6.x §11, DEVICE_INTERFACE_REPORT): built by the device from a
 * description of its function, decoded and checked by the requester against the rules a Linux
 * guest applies before it maps the TDI's MMIO as private (docs/tdisp.md "Report rules"), and
 * digested for the evidence an accept is bound to.
 */
#include <string.h>

#include "pcitsm/crypto.h"
#include "pcitsm/tdisp.h"

#define PAGE_MASK ((uint64_t)PCITSM_TDISP_PAGE - 1)
#define PAGE_SHIFT 12

static uint64_t page_floor(uint64_t a) { return a & ~PAGE_MASK; }
static uint64_t page_ceil(uint64_t a) { return (a + PAGE_MASK) & ~PAGE_MASK; }

/* ---------------------------------------------------------------------------------------------
 * Description checks
 */
static const struct pcitsm_tdisp_bar *bar_of(const struct pcitsm_tdisp_ifdesc *d, unsigned index)
{
	for (unsigned i = 0; i < d->nr_bars && i < PCITSM_TDISP_NR_BARS; i++)
		if (d->bar[i].index == index)
			return &d->bar[i];
	return NULL;
}

static bool region_ok(const struct pcitsm_tdisp_ifdesc *d, const struct pcitsm_tdisp_region *g)
{
	const struct pcitsm_tdisp_bar *b = bar_of(d, g->bar);

	return b && g->size && g->offset < b->size && g->size <= b->size - g->offset;
}

static bool desc_ok(const struct pcitsm_tdisp_ifdesc *d)
{
	int next = 0;

	if (d->nr_bars > PCITSM_TDISP_NR_BARS || d->nr_non_tee > PCITSM_TDISP_MAX_NON_TEE ||
	    d->dev_info_len > PCITSM_TDISP_DEV_INFO_MAX)
		return false;
	for (unsigned i = 0; i < d->nr_bars; i++) {
		const struct pcitsm_tdisp_bar *b = &d->bar[i];

		/* Ascending, a 64-bit BAR takes two slots, page aligned and sized, no wrap. */
		if (b->index < next || b->index + (b->is64 ? 1 : 0) >= PCITSM_TDISP_NR_BARS ||
		    (b->base & PAGE_MASK) || !b->size || (b->size & PAGE_MASK) ||
		    b->base + b->size - 1 < b->base || (b->size >> PAGE_SHIFT) > UINT32_MAX)
			return false;
		next = b->index + (b->is64 ? 2 : 1);
		for (unsigned j = 0; j < i; j++) {
			const struct pcitsm_tdisp_bar *a = &d->bar[j];

			if (b->base <= a->base + a->size - 1 && a->base <= b->base + b->size - 1)
				return false; /* overlapping BARs */
		}
	}
	if (d->msix && (!region_ok(d, &d->msix_table) || !region_ok(d, &d->msix_pba)))
		return false;
	for (unsigned i = 0; i < d->nr_non_tee; i++)
		if (!region_ok(d, &d->non_tee[i]))
			return false;
	return true;
}

/* base + off without wrapping the whole BAR [base, base + size). */
static bool offset_ok(uint64_t base, uint64_t size, int64_t off)
{
	uint64_t u = (uint64_t)off;

	if (off >= 0)
		return base + size - 1 + u >= base + size - 1;
	return base >= (uint64_t)0 - u;
}

/* ---------------------------------------------------------------------------------------------
 * Builder
 */
struct special {
	uint64_t lo, hi; /* BAR-relative, page granular */
	uint16_t attrs;
};

/* The regions of BAR b with their attributes, page granular. */
static unsigned specials_of(const struct pcitsm_tdisp_ifdesc *d, uint8_t bar, uint16_t lock_flags,
			    struct special *sp)
{
	bool locked = lock_flags & PCITSM_TDISP_LOCK_MSIX;
	unsigned n = 0;

	if (d->msix && d->msix_table.bar == bar)
		sp[n++] = (struct special){ page_floor(d->msix_table.offset),
					    page_ceil(d->msix_table.offset + d->msix_table.size),
					    locked ? PCITSM_TDISP_RANGE_MSIX_TABLE :
						     PCITSM_TDISP_RANGE_NON_TEE };
	if (d->msix && d->msix_pba.bar == bar)
		sp[n++] = (struct special){ page_floor(d->msix_pba.offset),
					    page_ceil(d->msix_pba.offset + d->msix_pba.size),
					    locked ? PCITSM_TDISP_RANGE_MSIX_PBA :
						     PCITSM_TDISP_RANGE_NON_TEE };
	for (unsigned i = 0; i < d->nr_non_tee; i++)
		if (d->non_tee[i].bar == bar)
			sp[n++] = (struct special){ page_floor(d->non_tee[i].offset),
						    page_ceil(d->non_tee[i].offset +
							      d->non_tee[i].size),
						    PCITSM_TDISP_RANGE_NON_TEE };
	return n;
}

static uint16_t attrs_at(const struct special *sp, unsigned n, uint64_t lo, uint64_t hi)
{
	uint16_t a = 0;

	for (unsigned i = 0; i < n; i++)
		if (sp[i].lo < hi && lo < sp[i].hi)
			a |= sp[i].attrs;
	return a;
}

/* The ranges of one BAR, from its base, split where the attributes change. */
static pcitsm_err bar_ranges(const struct pcitsm_tdisp_ifdesc *d, const struct pcitsm_tdisp_bar *b,
			     uint16_t lock_flags, int64_t off, struct pcitsm_wr *w, unsigned *count)
{
	struct special sp[2 + PCITSM_TDISP_MAX_NON_TEE];
	uint64_t cut[2 * PCITSM_ARRAY_SIZE(sp) + 2];
	unsigned nsp = specials_of(d, b->index, lock_flags, sp), ncut = 0;
	uint64_t seg_lo = 0;
	uint16_t seg_attrs = 0;

	cut[ncut++] = 0;
	cut[ncut++] = b->size;
	for (unsigned i = 0; i < nsp; i++) {
		cut[ncut++] = PCITSM_MIN(sp[i].lo, b->size);
		cut[ncut++] = PCITSM_MIN(sp[i].hi, b->size);
	}
	/* Sort the cut points (a handful: insertion sort). */
	for (unsigned i = 1; i < ncut; i++)
		for (unsigned j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			uint64_t t = cut[j];

			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	for (unsigned i = 0; i + 1 < ncut; i++) {
		uint64_t lo = cut[i], hi = cut[i + 1];
		uint16_t a;

		if (lo == hi)
			continue;
		a = attrs_at(sp, nsp, lo, hi);
		if (lo != 0 && a == seg_attrs)
			continue; /* same attributes: the segment goes on */
		if (lo != 0) {
			if (*count >= PCITSM_TDISP_BUILD_RANGES)
				return PCITSM_E_EXHAUSTED;
			pcitsm_wr_le64(w, (b->base + seg_lo + (uint64_t)off) >> PAGE_SHIFT);
			pcitsm_wr_le32(w, (uint32_t)((lo - seg_lo) >> PAGE_SHIFT));
			pcitsm_wr_le16(w, seg_attrs);
			pcitsm_wr_le16(w, b->index);
			(*count)++;
		}
		seg_lo = lo;
		seg_attrs = a;
	}
	if (*count >= PCITSM_TDISP_BUILD_RANGES)
		return PCITSM_E_EXHAUSTED;
	pcitsm_wr_le64(w, (b->base + seg_lo + (uint64_t)off) >> PAGE_SHIFT);
	pcitsm_wr_le32(w, (uint32_t)((b->size - seg_lo) >> PAGE_SHIFT));
	pcitsm_wr_le16(w, seg_attrs);
	pcitsm_wr_le16(w, b->index);
	(*count)++;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tdisp_report_build(const struct pcitsm_tdisp_ifdesc *d, uint16_t lock_flags,
				     int64_t mmio_offset, struct pcitsm_wr *w)
{
	bool msix_locked;
	size_t start, count_at;
	unsigned count = 0;

	if (!d || !w || !desc_ok(d))
		return PCITSM_E_INVAL;
	if ((uint64_t)mmio_offset & PAGE_MASK)
		return PCITSM_E_RANGE;
	for (unsigned i = 0; i < d->nr_bars; i++)
		if (!offset_ok(d->bar[i].base, d->bar[i].size, mmio_offset))
			return PCITSM_E_RANGE;
	msix_locked = d->msix && (lock_flags & PCITSM_TDISP_LOCK_MSIX);
	start = pcitsm_wr_len(w);
	pcitsm_wr_le16(w, (uint16_t)(d->interface_info & ~PCITSM_TDISP_INFO_NO_FW_UPDATE) |
			  (lock_flags & PCITSM_TDISP_LOCK_NO_FW_UPDATE ?
				   PCITSM_TDISP_INFO_NO_FW_UPDATE : 0));
	pcitsm_wr_zero(w, 2);
	pcitsm_wr_le16(w, msix_locked ? d->msix_msg_ctl : 0);
	pcitsm_wr_le16(w, d->lnr_control);
	pcitsm_wr_le32(w, msix_locked ? d->tph_control : 0);
	count_at = pcitsm_wr_len(w);
	pcitsm_wr_le32(w, 0); /* MMIO_RANGE_COUNT, patched below */
	for (unsigned i = 0; i < d->nr_bars; i++) {
		pcitsm_err e = bar_ranges(d, &d->bar[i], lock_flags, mmio_offset, w, &count);

		if (e) {
			w->off = start;
			return e;
		}
	}
	pcitsm_wr_le32(w, d->dev_info_len);
	pcitsm_wr_bytes(w, d->dev_info, d->dev_info_len);
	pcitsm_wr_patch_le32(w, count_at, count);
	if (pcitsm_wr_err(w)) {
		w->off = start;
		return pcitsm_wr_err(w);
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Decoder, digest
 */
pcitsm_err pcitsm_tdisp_report_decode(const uint8_t *p, size_t n, struct pcitsm_tdisp_report *rep)
{
	struct pcitsm_rd r;

	memset(rep, 0, sizeof(*rep));
	pcitsm_rd_init(&r, p, n);
	rep->interface_info = pcitsm_rd_le16(&r);
	pcitsm_rd_skip(&r, 2); /* reserved: ignored, as a receiver of a reserved field does */
	rep->msix_msg_ctl = pcitsm_rd_le16(&r);
	rep->lnr_control = pcitsm_rd_le16(&r);
	rep->tph_control = pcitsm_rd_le32(&r);
	rep->nr_ranges = pcitsm_rd_le32(&r);
	if (!pcitsm_rd_err(&r) && rep->nr_ranges > PCITSM_TDISP_MAX_RANGES) {
		/* Too many to hold: a size error if the bytes cannot carry them either. */
		pcitsm_err e = pcitsm_rd_left(&r) / PCITSM_TDISP_RANGE_LEN < rep->nr_ranges ?
				       PCITSM_E_SHORT : PCITSM_E_RANGE;

		memset(rep, 0, sizeof(*rep));
		return e;
	}
	for (uint32_t i = 0; i < rep->nr_ranges; i++) {
		rep->range[i].first_page = pcitsm_rd_le64(&r);
		rep->range[i].pages = pcitsm_rd_le32(&r);
		rep->range[i].attrs = pcitsm_rd_le16(&r);
		rep->range[i].range_id = pcitsm_rd_le16(&r);
	}
	rep->dev_info_len = pcitsm_rd_le32(&r);
	rep->dev_info = pcitsm_rd_bytes(&r, rep->dev_info_len);
	if (pcitsm_rd_finish(&r) != PCITSM_OK) {
		pcitsm_err e = pcitsm_rd_finish(&r);

		memset(rep, 0, sizeof(*rep));
		return e;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_tdisp_report_digest(const uint8_t *p, size_t n,
				      uint8_t out[PCITSM_TDISP_DIGEST_LEN])
{
	if (!p || !out)
		return PCITSM_E_INVAL;
	return pcitsm_hash(PCITSM_HASH_SHA384, p, n, out);
}

/* ---------------------------------------------------------------------------------------------
 * Checker: the Linux guest's rules (docs/tdisp.md "Report rules")
 */
const char *pcitsm_tdisp_rule_name(enum pcitsm_tdisp_rule r)
{
	switch (r) {
#define PCITSM_TDISP_RULE_NAME(name, str) \
	case PCITSM_TDISP_RULE_##name: return #name;
	PCITSM_TDISP_RULES(PCITSM_TDISP_RULE_NAME)
#undef PCITSM_TDISP_RULE_NAME
	}
	return "UNKNOWN";
}

const char *pcitsm_tdisp_rule_str(enum pcitsm_tdisp_rule r)
{
	switch (r) {
#define PCITSM_TDISP_RULE_STR(name, str) \
	case PCITSM_TDISP_RULE_##name: return str;
	PCITSM_TDISP_RULES(PCITSM_TDISP_RULE_STR)
#undef PCITSM_TDISP_RULE_STR
	}
	return "unknown rule";
}

/* The region g (of the view) touches [lo, lo + len) of BAR b, page granular. */
static bool touches(const struct pcitsm_tdisp_bar *b, const struct pcitsm_tdisp_region *g,
		    uint64_t lo, uint64_t len)
{
	uint64_t glo, ghi;

	if (g->bar != b->index || !g->size)
		return false;
	glo = b->base + page_floor(g->offset);
	ghi = b->base + page_ceil(g->offset + g->size);
	return glo < lo + len && lo < ghi;
}

static enum pcitsm_tdisp_rule check_range(const struct pcitsm_tdisp_range *rg,
					  const struct pcitsm_tdisp_ifdesc *view, int64_t off,
					  int *prev_bar, uint64_t *prev_end)
{
	const struct pcitsm_tdisp_bar *b;
	uint64_t addr, len;

	if (rg->range_id >= PCITSM_TDISP_NR_BARS)
		return PCITSM_TDISP_RULE_RANGE_ID;
	b = bar_of(view, rg->range_id);
	if (!b || !b->size)
		return PCITSM_TDISP_RULE_NOT_MEM_BAR;
	if ((b->base | b->size) & PAGE_MASK)
		return PCITSM_TDISP_RULE_PAGE;
	if ((int)rg->range_id < *prev_bar)
		return PCITSM_TDISP_RULE_BAR_ORDER;
	/* Undo MMIO_REPORTING_OFFSET. */
	if (rg->first_page >> (64 - PAGE_SHIFT))
		return PCITSM_TDISP_RULE_OFFSET_WRAP;
	addr = rg->first_page << PAGE_SHIFT;
	if (off >= 0 ? addr < (uint64_t)off : addr - (uint64_t)off < addr)
		return PCITSM_TDISP_RULE_OFFSET_WRAP;
	addr -= (uint64_t)off;
	len = (uint64_t)rg->pages << PAGE_SHIFT;
	if ((int)rg->range_id != *prev_bar) {
		if (addr != b->base)
			return PCITSM_TDISP_RULE_BAR_BASE;
	} else if (addr < *prev_end) {
		return PCITSM_TDISP_RULE_RANGE_ORDER;
	}
	if (addr < b->base || len > b->size || addr - b->base > b->size - len)
		return PCITSM_TDISP_RULE_BAR_FIT;
	/* The MSI-X table and PBA are never mapped as private memory: a range over them must say
	 * so (MSI-X table / PBA when locked, non-TEE otherwise). */
	if (view->msix &&
	    ((touches(b, &view->msix_table, addr, len) &&
	      !(rg->attrs & (PCITSM_TDISP_RANGE_MSIX_TABLE | PCITSM_TDISP_RANGE_NON_TEE))) ||
	     (touches(b, &view->msix_pba, addr, len) &&
	      !(rg->attrs & (PCITSM_TDISP_RANGE_MSIX_PBA | PCITSM_TDISP_RANGE_NON_TEE)))))
		return PCITSM_TDISP_RULE_MSIX_UNFLAGGED;
	*prev_bar = rg->range_id;
	*prev_end = addr + len;
	return PCITSM_TDISP_RULE_OK;
}

pcitsm_err pcitsm_tdisp_report_check(const uint8_t *p, size_t n,
				     const struct pcitsm_tdisp_ifdesc *view, int64_t mmio_offset,
				     struct pcitsm_tdisp_check_result *res)
{
	struct pcitsm_tdisp_check_result local;
	struct pcitsm_tdisp_report rep;
	uint64_t prev_end = 0;
	int prev_bar = -1;
	pcitsm_err e;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (!p || !view)
		return PCITSM_E_INVAL;
	e = pcitsm_tdisp_report_decode(p, n, &rep);
	if (e == PCITSM_E_SHORT || e == PCITSM_E_LONG) {
		res->rule = PCITSM_TDISP_RULE_SIZE;
		return PCITSM_E_FIELD;
	}
	PCITSM_TRY(e);
	for (uint32_t i = 0; i < rep.nr_ranges; i++) {
		enum pcitsm_tdisp_rule rule =
			check_range(&rep.range[i], view, mmio_offset, &prev_bar, &prev_end);

		if (rule != PCITSM_TDISP_RULE_OK) {
			res->rule = rule;
			res->range = i;
			return PCITSM_E_FIELD;
		}
	}
	return PCITSM_OK;
}
