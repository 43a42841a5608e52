/* SPDX-License-Identifier: MIT */
/*
 * DMA across an emulated link as TLPs (docs/sva.md "DMA as TLPs"):
 *   requester  the endpoint's DMA engine turns [va, va + len) into Memory Writes of at most
 *              Max_Payload_Size and Memory Reads of at most Max_Read_Request_Size, DW aligned with
 *              byte enables at the ends, a PASID TLP Prefix when it has a PASID (PCIe 6.x
 *              §6.20.2), a tag per read (PCIe 6.x §2.2.6.2), and sends them from the endpoint's
 *              side of the link in wire bursts;
 *   completer  the root port serves requests its memory does not hold through the IOMMU hook
 *              (after the one TDISP gate, emu_tee_admit), the requests of one delivery together,
 *              and completes reads with completions split at the link's boundary (PCIe 6.x
 *              §2.3.1.1);
 *   tags       the requester gathers completions by tag: one request's completions in address
 *              order, different tags in any order (PCIe 6.x §2.3.2); a completion no outstanding
 *              tag expects is an Unexpected Completion, dropped.
 * The IOMMU's fault record: from the first request of a function it cannot translate (or the gate
 * refuses) until the requester collects it, that function's requests through the IOMMU are refused
 * without being translated, so a transfer stops at its first fault.
 */
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"

#define BURST PCITSM_IDE_WIRE_BURST
#define PEND_MAX (2 * BURST)

/* A request collected for the IOMMU: its header fields, its payload where the wire left it
 * (valid until the delivery's sink_end). */
struct emu_pending {
	struct pcitsm_tlp t;
	bool tee;
};

/* TLPs cross the link as header + payload pointer (struct pcitsm_tlp_ref): a write's payload is
 * the requester's buffer, a completion's the IOMMU's staging buffer (or the host memory), never
 * copied into a frame on the way (docs/sva.md "DMA as TLPs"). */
struct emu_dma_scratch {
	/* the requester's burst of requests: headers, and their payloads where they lie */
	uint8_t req[BURST][PCITSM_TLP_HDR_MAX];
	struct pcitsm_tlp_ref req_ref[BURST];
	struct emu_dma_bufs *bufs; /* NULL until the link's first DMA (below) */
	/* the completer: requests collected, data read (stage[k] for pend[k]: valid until the
	 * completions built on it are sent, at the end of emu_dma_serve), completions built */
	struct emu_pending pend[PEND_MAX];
	unsigned npend;
	struct pcitsm_emu_dma_seg seg[PEND_MAX];
	uint8_t cpl[BURST][PCITSM_TLP_HDR_MAX];
	struct pcitsm_tlp_ref cpl_ref[BURST];
	unsigned ncpl;
	enum pcitsm_ide_side cpl_from; /* the side the built completions leave from */
	bool cpl_tee;                  /* and their T bit */
};

/* The payload buffers of DMA (384 KiB): allocated at a link's first DMA as requester or through
 * the IOMMU, not at start, since most links of a large platform never do any (docs/performance.md
 * "Scale"). */
struct emu_dma_bufs {
	uint8_t edge[BURST][PCITSM_TLP_DATA_MAX];     /* payloads of writes with partial DWs */
	uint8_t stage[PEND_MAX][PCITSM_TLP_DATA_MAX]; /* what the IOMMU read, for pend[k] */
};

static bool dma_bufs(struct emu_dma_scratch *x)
{
	if (!x->bufs)
		x->bufs = calloc(1, sizeof(*x->bufs));
	return x->bufs != NULL;
}

pcitsm_err emu_dma_init(struct pcitsm_emu_link *l)
{
	l->scratch = calloc(1, sizeof(*l->scratch));
	if (!l->scratch)
		return PCITSM_E_NOMEM;
	l->cpl_split = PCITSM_TLP_DATA_MAX;
	return PCITSM_OK;
}

void emu_dma_free(struct pcitsm_emu_link *l)
{
	if (!l->scratch)
		return;
	if (l->scratch->bufs) {
		pcitsm_wipe(l->scratch->bufs, sizeof(*l->scratch->bufs)); /* DMA data in the clear */
		free(l->scratch->bufs);
	}
	pcitsm_wipe(l->scratch, sizeof(*l->scratch));
	free(l->scratch);
	l->scratch = NULL;
}

void pcitsm_emu_link_set_iommu(struct pcitsm_emu_link *l, const struct pcitsm_emu_iommu *ops)
{
	emu_link_lock(l);
	l->iommu = ops ? *ops : (struct pcitsm_emu_iommu){ 0 };
	emu_link_unlock(l);
}

/* ---------------------------------------------------------------------------------------------
 * Completions and tags.
 */
int emu_tag_alloc(struct pcitsm_emu_side *sd, uint16_t req_id, uint64_t addr, size_t len,
		  uint8_t *dst, size_t skip, size_t keep)
{
	for (unsigned i = 0; i < PCITSM_EMU_TAGS; i++) {
		struct pcitsm_emu_tag *tg = &sd->tag[i];

		if (tg->busy)
			continue;
		*tg = (struct pcitsm_emu_tag){ .busy = true, .req_id = req_id, .addr = addr,
					       .len = len, .dst = dst, .skip = skip, .keep = keep };
		return (int)i;
	}
	return -1;
}

pcitsm_err emu_cpl_flush(struct pcitsm_emu_link *l)
{
	struct emu_dma_scratch *x = l->scratch;
	unsigned n = x->ncpl;
	size_t done;

	if (!n)
		return PCITSM_OK;
	x->ncpl = 0; /* before sending: a sink may complete something in turn */
	return pcitsm_ide_wire_send_burst(l->wire, x->cpl_from, x->cpl_tee, x->cpl_ref, n, &done);
}

pcitsm_err emu_complete(struct pcitsm_emu_link *l, enum pcitsm_ide_side to,
			const struct pcitsm_tlp *t, bool tee, const uint8_t *data)
{
	struct emu_dma_scratch *x = l->scratch;
	size_t off = 0, split = l->cpl_split ? l->cpl_split : PCITSM_TLP_DATA_MAX;

	do {
		struct pcitsm_tlp c = { .tc = t->tc, .req_id = t->req_id, .tag = t->tag,
					.cpl_id = emu_side_rid(l, to) };
		uint64_t at = t->addr + off;
		size_t n;

		c.lower_addr = (uint8_t)(at & 0x7f);
		if (!data) {
			c.kind = PCITSM_TLP_CPL;
			c.status = 1; /* Unsupported Request */
			c.byte_count = 4;
			off = t->len;
		} else {
			/* PCIe 6.x §2.3.1.1: a completion ends on a boundary of the split size
			 * (the Read Completion Boundary or a multiple of it), or at the end. */
			n = PCITSM_MIN(t->len - off, split - (size_t)(at & (split - 1)));
			c.kind = PCITSM_TLP_CPLD;
			c.data = data + off;
			c.len = n;
			c.byte_count = (uint16_t)(t->len - off); /* remaining, this one included */
			off += n;
		}
		if (x->ncpl == BURST || (x->ncpl && (x->cpl_from != to || x->cpl_tee != tee)))
			PCITSM_TRY(emu_cpl_flush(l));
		x->cpl_from = to;
		x->cpl_tee = tee;
		/* The header here, the payload where data has it (staging or host memory). */
		x->cpl_ref[x->ncpl] = (struct pcitsm_tlp_ref){ x->cpl[x->ncpl], 0, c.data,
								c.data ? c.len : 0 };
		PCITSM_TRY(pcitsm_tlp_encode_hdr(&c, x->cpl[x->ncpl], PCITSM_TLP_HDR_MAX,
						 &x->cpl_ref[x->ncpl].hdr_len));
		x->ncpl++;
	} while (off < t->len);
	return PCITSM_OK;
}

void emu_cpl_gather(struct pcitsm_emu_link *l, enum pcitsm_ide_side to, const struct pcitsm_tlp *t,
		    bool tee)
{
	struct pcitsm_emu_side *sd = &l->side[to];
	struct pcitsm_emu_tag *tg = &sd->tag[t->tag];
	size_t rem, lo, hi;

	sd->cpl_t = tee;
	/* PCIe 6.x §2.3.2: the tag must be outstanding, for this requester, from the completer
	 * the request went to. */
	if (!tg->busy || tg->done || t->req_id != tg->req_id ||
	    t->cpl_id != emu_side_rid(l, (enum pcitsm_ide_side)!to)) {
		sd->cpl_unexpected++;
		return;
	}
	tg->t = tee;
	if (t->status != 0 || t->kind == PCITSM_TLP_CPL) {
		tg->status = t->status ? t->status : 4; /* a read's Cpl without data: CA */
		tg->done = true;
		return;
	}
	rem = tg->len - tg->got;
	/* One request's completions come in address order: Byte Count is what remains and Lower
	 * Address where this one starts (PCIe 6.x §2.2.9). Anything else is malformed. */
	if (t->byte_count != rem || t->lower_addr != ((tg->addr + tg->got) & 0x7f) ||
	    !t->len || t->len > rem) {
		sd->cpl_unexpected++;
		tg->status = 4;
		tg->done = true;
		return;
	}
	/* The part of [got, got + len) the requester keeps: [skip, skip + keep); already in place
	 * if the receiving engine decrypted it there (emu_cpl_place). */
	lo = PCITSM_MAX(tg->got, tg->skip);
	hi = PCITSM_MIN(tg->got + t->len, tg->skip + tg->keep);
	if (lo < hi && tg->dst + (lo - tg->skip) != t->data + (lo - tg->got))
		memcpy(tg->dst + (lo - tg->skip), t->data + (lo - tg->got), hi - lo);
	tg->got += t->len;
	tg->done = tg->got == tg->len;
}

uint8_t *emu_cpl_place(void *ctx, const struct pcitsm_tlp *t)
{
	struct pcitsm_emu_link *l = ctx;
	const struct pcitsm_emu_tag *tg = &l->side[PCITSM_IDE_SIDE_EP].tag[t->tag];
	size_t off;

	/* Only a completion emu_cpl_gather will take as it stands: an outstanding tag of this
	 * requester from the completer the request went to, at the offset its Byte Count says
	 * (what remains of the request, PCIe 6.x §2.2.9) and its Lower Address agrees with, wholly
	 * inside the part the requester keeps. Anything else goes the usual way, and gather
	 * judges it. */
	if (t->kind != PCITSM_TLP_CPLD || t->status || !tg->busy || tg->done ||
	    t->req_id != tg->req_id || t->cpl_id != emu_side_rid(l, PCITSM_IDE_SIDE_RP) ||
	    !t->byte_count || t->byte_count > tg->len || t->len > t->byte_count)
		return NULL;
	off = tg->len - t->byte_count;
	if (t->lower_addr != ((tg->addr + off) & 0x7f) || off < tg->skip ||
	    off + t->len > tg->skip + tg->keep)
		return NULL;
	return tg->dst + (off - tg->skip);
}

/* ---------------------------------------------------------------------------------------------
 * The completer: requests served through the IOMMU.
 */
static bool in_host_mem(const struct pcitsm_emu_side *sd, const struct pcitsm_tlp *t)
{
	return t->addr >= sd->base && t->addr - sd->base < PCITSM_EMU_MEM_SIZE;
}

bool emu_dma_collect(struct pcitsm_emu_link *l, enum pcitsm_ide_side to, const struct pcitsm_tlp *t,
		     bool tee)
{
	struct emu_dma_scratch *x = l->scratch;

	if (to != PCITSM_IDE_SIDE_RP || !x || !l->iommu.access || !dma_bufs(x))
		return false;
	if (!t->has_pasid && in_host_mem(&l->side[to], t))
		return false;
	if (x->npend == PEND_MAX)
		emu_dma_serve(l, to);
	x->pend[x->npend++] = (struct emu_pending){ *t, tee };
	return true;
}

/* The bytes a request names: a read, every DW; a write, those its byte enables select (the
 * completer supports contiguous enables: a first DW's ending at its last byte, a last DW's
 * starting at its first). */
static bool request_bytes(const struct pcitsm_tlp *t, size_t *skip, size_t *keep)
{
	/* bytes before / after the enabled ones of a first / last DW mask; -1: not contiguous */
	static const int8_t lead[16] = { -1, 0,  -1, -1, -1, -1, -1, -1,
					 3,  -1, -1, -1, 2,  -1, 1,  0 };
	static const int8_t trail[16] = { -1, 3,  -1, 2,  -1, -1, -1, 1,
					  -1, -1, -1, -1, -1, -1, -1, 0 };
	size_t dw = t->len / 4;

	*skip = 0;
	*keep = t->len;
	if (t->kind == PCITSM_TLP_MRD)
		return true;
	if (dw == 1) {
		/* 1 DW: any contiguous mask */
		unsigned m = t->first_be, a = 0, b;

		if (!m)
			return false;
		while (!(m >> a & 1))
			a++;
		b = a;
		while (b < 4 && m >> b & 1)
			b++;
		if (m >> b)
			return false;
		*skip = a;
		*keep = b - a;
		return true;
	}
	if (lead[t->first_be] < 0 || trail[t->last_be] < 0)
		return false;
	*skip = (size_t)lead[t->first_be];
	*keep = t->len - *skip - (size_t)trail[t->last_be];
	return true;
}

static void record_fault(struct pcitsm_emu_link *l, int fn, const struct pcitsm_tlp *t,
			 uint64_t va, pcitsm_err cause)
{
	if (fn < 0 || l->dma_fault[fn].set)
		return;
	l->dma_fault[fn].set = true;
	l->dma_fault[fn].write = t->kind == PCITSM_TLP_MWR;
	l->dma_fault[fn].va = va;
	l->dma_fault[fn].cause = cause;
}

/* Refuse one request: a write dropped, a read completed Unsupported Request. */
static void refuse(struct pcitsm_emu_link *l, const struct emu_pending *p)
{
	l->side[PCITSM_IDE_SIDE_RP].bad++;
	if (p->t.kind == PCITSM_TLP_MRD &&
	    emu_complete(l, PCITSM_IDE_SIDE_RP, &p->t, p->tee, NULL) != PCITSM_OK)
		l->side[PCITSM_IDE_SIDE_RP].bad++;
}

/* Admission of one request: the fault record, then the one TDISP gate. */
static bool admit(struct pcitsm_emu_link *l, const struct emu_pending *p, int fn)
{
	size_t skip, keep;

	if (fn < 0 || l->dma_fault[fn].set) /* blocked from its first fault until collected */
		return false;
	if (!request_bytes(&p->t, &skip, &keep)) {
		record_fault(l, fn, &p->t, p->t.addr, PCITSM_E_FIELD);
		return false;
	}
	if (!emu_tee_admit(l, PCITSM_IDE_SIDE_RP, &p->t, p->tee)) {
		l->tee_refused[PCITSM_IDE_SIDE_RP]++;
		record_fault(l, fn, &p->t, p->t.addr + skip, PCITSM_E_STATE);
		return false;
	}
	return true;
}

static bool same_group(const struct emu_pending *a, const struct emu_pending *b)
{
	return a->t.req_id == b->t.req_id && a->t.has_pasid == b->t.has_pasid &&
	       a->t.pasid.pasid == b->t.pasid.pasid && a->t.kind == b->t.kind && a->tee == b->tee;
}

/* Serve pend[i..j): admitted, same requester, PASID, direction: one IOMMU call. */
static void serve_group(struct pcitsm_emu_link *l, unsigned i, unsigned j, int fn)
{
	struct emu_dma_scratch *x = l->scratch;
	const struct emu_pending *p0 = &x->pend[i];
	enum pcitsm_emu_dma_dir dir = p0->t.kind == PCITSM_TLP_MWR ? PCITSM_EMU_DMA_WRITE
								    : PCITSM_EMU_DMA_READ;
	size_t done = 0, at = 0;
	pcitsm_err e;

	for (unsigned k = i; k < j; k++) {
		const struct pcitsm_tlp *t = &x->pend[k].t;
		size_t skip, keep;

		(void)request_bytes(t, &skip, &keep); /* checked in admit() */
		x->seg[k] = (struct pcitsm_emu_dma_seg){
			t->addr + skip,
			dir == PCITSM_EMU_DMA_WRITE ? (uint8_t *)(uintptr_t)t->data + skip
						    : x->bufs->stage[k],
			keep };
	}
	e = l->iommu.access(l->iommu.ctx, p0->t.req_id, p0->t.has_pasid ? p0->t.pasid.pasid : 0,
			    dir, &x->seg[i], j - i, &done);
	for (unsigned k = i; k < j; k++) {
		const struct emu_pending *p = &x->pend[k];
		const struct pcitsm_emu_dma_seg *sg = &x->seg[k];
		bool ok = !e || done >= at + sg->len;

		if (!ok)
			record_fault(l, fn, &p->t, sg->va + (done > at ? done - at : 0), e);
		at += sg->len;
		if (!ok) {
			refuse(l, p);
			continue;
		}
		if (dir == PCITSM_EMU_DMA_WRITE) {
			l->side[PCITSM_IDE_SIDE_RP].writes++;
		} else {
			l->side[PCITSM_IDE_SIDE_RP].reads++;
			if (emu_complete(l, PCITSM_IDE_SIDE_RP, &p->t, p->tee, sg->buf) !=
			    PCITSM_OK)
				l->side[PCITSM_IDE_SIDE_RP].bad++;
		}
	}
}

void emu_dma_serve(struct pcitsm_emu_link *l, enum pcitsm_ide_side to)
{
	struct emu_dma_scratch *x = l->scratch;
	unsigned i = 0;

	if (to != PCITSM_IDE_SIDE_RP || !x || !x->npend)
		return;
	while (i < x->npend) {
		const struct emu_pending *p = &x->pend[i];
		int fn = emu_link_func_index(l, p->t.req_id);
		unsigned j = i + 1;

		if (!admit(l, p, fn)) {
			refuse(l, p);
			i++;
			continue;
		}
		while (j < x->npend && same_group(p, &x->pend[j]) && admit(l, &x->pend[j], fn))
			j++;
		serve_group(l, i, j, fn);
		/* a request admit() refused at j is served (refused) on the next round */
		i = j;
	}
	x->npend = 0;
	if (emu_cpl_flush(l) != PCITSM_OK)
		l->side[to].bad++;
}

/* ---------------------------------------------------------------------------------------------
 * The requester: the endpoint's DMA engine.
 */
struct dma_run {
	struct pcitsm_emu_link *l;
	const struct pcitsm_emu_dma *d;
	uint16_t rid;
	int fn;
	uint64_t va;  /* the transfer: [va, va + len) */
	size_t len;
	uint64_t cur; /* the next DW-aligned request address */
	uint64_t end; /* DW-aligned end */
};

static bool pow2_in(unsigned v) { return v >= 128 && v <= 4096 && !(v & (v - 1)); }

static pcitsm_err run_init(struct dma_run *r, struct pcitsm_emu_link *l,
			   const struct pcitsm_emu_dma *d, uint64_t va, size_t len)
{
	const struct pcitsm_emu_func *f = d->req ? d->req : l ? l->ep : NULL;

	if (!l || !l->wire || !l->scratch || !f || !len || va + len < va ||
	    d->pasid > PCITSM_TLP_PASID_MAX || (d->mps && !pow2_in(d->mps)) ||
	    (d->mrrs && !pow2_in(d->mrrs)))
		return PCITSM_E_INVAL;
	*r = (struct dma_run){ .l = l, .d = d, .rid = pcitsm_bdf_rid(&f->bdf), .va = va,
			       .len = len, .cur = va & ~3ull, .end = (va + len + 3) & ~3ull };
	r->fn = emu_link_func_index(l, r->rid);
	return r->fn < 0 ? PCITSM_E_INVAL : PCITSM_OK;
}

/* The next request: at most max bytes, not across a multiple of max. */
static size_t next_len(const struct dma_run *r, unsigned max)
{
	return (size_t)PCITSM_MIN(r->end - r->cur, (uint64_t)max - (r->cur & (max - 1)));
}

static void req_header(const struct dma_run *r, struct pcitsm_tlp *t, enum pcitsm_tlp_kind k,
		       size_t n)
{
	memset(t, 0, sizeof(*t));
	t->kind = k;
	t->req_id = r->rid;
	t->addr = r->cur;
	t->len = n;
	t->first_be = 0xf;
	t->last_be = n > 4 ? 0xf : 0;
	if (r->d->pasid) {
		t->has_pasid = true;
		t->pasid.pasid = r->d->pasid;
	}
}

/* Collect the IOMMU's fault record of this requester: the first byte not moved. */
static bool take_fault(struct dma_run *r, uint64_t *at)
{
	struct pcitsm_emu_link *l = r->l;

	if (!l->dma_fault[r->fn].set)
		return false;
	*at = l->dma_fault[r->fn].va;
	l->dma_fault[r->fn].set = false;
	return true;
}

static size_t clamp_done(const struct dma_run *r, uint64_t at)
{
	return at <= r->va ? 0 : (size_t)PCITSM_MIN(at - r->va, (uint64_t)r->len);
}

/* A write's request: its payload straight from buf, or (a partial DW at either end) from an
 * edge buffer with the bytes in place; byte enables select what is written. */
static pcitsm_err build_write(struct dma_run *r, const uint8_t *buf, unsigned slot, size_t n)
{
	struct emu_dma_scratch *x = r->l->scratch;
	uint64_t lo = PCITSM_MAX(r->cur, r->va), hi = PCITSM_MIN(r->cur + n, r->va + r->len);
	struct pcitsm_tlp t;
	unsigned fb, lb;

	req_header(r, &t, PCITSM_TLP_MWR, n);
	/* The payload stays where it is: the TLP carries a pointer to it. */
	if (lo == r->cur && hi == r->cur + n) {
		t.data = buf + (r->cur - r->va);
	} else {
		memset(x->bufs->edge[slot], 0, n);
		memcpy(x->bufs->edge[slot] + (lo - r->cur), buf + (lo - r->va), (size_t)(hi - lo));
		t.data = x->bufs->edge[slot];
		/* First DW: bytes from lo; last DW: bytes up to hi (PCIe 6.x §2.2.5). */
		fb = (0xfu << (lo & 3)) & 0xf;
		lb = 0xfu >> ((4 - (hi & 3)) & 3);
		if (n == 4) {
			t.first_be = (uint8_t)(fb & lb);
			t.last_be = 0;
		} else {
			t.first_be = lo - r->cur < 4 ? (uint8_t)fb : 0xf;
			t.last_be = r->cur + n - hi < 4 ? (uint8_t)lb : 0xf;
		}
	}
	x->req_ref[slot] = (struct pcitsm_tlp_ref){ x->req[slot], 0, t.data, n };
	return pcitsm_tlp_encode_hdr(&t, x->req[slot], PCITSM_TLP_HDR_MAX,
				     &x->req_ref[slot].hdr_len);
}

pcitsm_err pcitsm_emu_dma_write(struct pcitsm_emu_link *l, const struct pcitsm_emu_dma *d,
				uint64_t va, const void *buf, size_t len, size_t *done,
				uint64_t *fault)
{
	unsigned mps = d && d->mps ? d->mps : PCITSM_TLP_DATA_MAX;
	struct dma_run r;
	pcitsm_err e;

	*done = 0;
	if (!d)
		return PCITSM_E_INVAL;
	PCITSM_TRY(run_init(&r, l, d, va, len));
	emu_link_lock(l);
	if (!dma_bufs(l->scratch)) { /* the edge buffers of partial DWs */
		emu_link_unlock(l);
		return PCITSM_E_NOMEM;
	}
	l->dma_fault[r.fn].set = false;
	e = PCITSM_OK;
	while (!e && r.cur < r.end) {
		uint64_t start = r.cur, at;
		unsigned n = 0;
		size_t sent = 0;

		for (; n < BURST && r.cur < r.end && !e; n++) {
			size_t k = next_len(&r, mps);

			e = build_write(&r, buf, n, k);
			r.cur += k;
		}
		if (!e)
			e = pcitsm_ide_wire_send_burst(l->wire, PCITSM_IDE_SIDE_EP, d->t,
						       l->scratch->req_ref, n, &sent);
		l->dma_tlps += sent;
		if (take_fault(&r, &at)) {
			*done = clamp_done(&r, at);
			*fault = r.va + *done;
			e = PCITSM_E_RANGE;
		} else if (e) {
			/* the sender refused the request at `sent`: those before it landed */
			uint64_t a = start;

			for (size_t i = 0; i < sent; i++)
				a += next_len(&(struct dma_run){ .cur = a, .end = r.end }, mps);
			*done = clamp_done(&r, a);
			*fault = r.va + *done;
		} else {
			*done = clamp_done(&r, r.cur);
		}
	}
	emu_link_unlock(l);
	return e;
}

pcitsm_err pcitsm_emu_dma_read(struct pcitsm_emu_link *l, const struct pcitsm_emu_dma *d,
			       uint64_t va, void *buf, size_t len, size_t *done, uint64_t *fault)
{
	unsigned mrrs = d && d->mrrs ? d->mrrs : PCITSM_TLP_DATA_MAX;
	struct pcitsm_emu_side *sd;
	struct dma_run r;
	pcitsm_err e;

	*done = 0;
	if (!d)
		return PCITSM_E_INVAL;
	PCITSM_TRY(run_init(&r, l, d, va, len));
	sd = &l->side[PCITSM_IDE_SIDE_EP];
	emu_link_lock(l);
	l->dma_fault[r.fn].set = false;
	e = PCITSM_OK;
	while (!e && r.cur < r.end) {
		int tags[BURST];
		unsigned n = 0;
		size_t sent = 0;
		uint64_t at;
		bool failed = false;

		for (; n < BURST && r.cur < r.end && !e; n++) {
			size_t k = next_len(&r, mrrs);
			uint64_t lo = PCITSM_MAX(r.cur, r.va);
			uint64_t hi = PCITSM_MIN(r.cur + k, r.va + r.len);
			struct pcitsm_tlp t;

			tags[n] = emu_tag_alloc(sd, r.rid, r.cur, k, (uint8_t *)buf + (lo - r.va),
						(size_t)(lo - r.cur), (size_t)(hi - lo));
			if (tags[n] < 0) {
				e = PCITSM_E_BUSY;
				break;
			}
			req_header(&r, &t, PCITSM_TLP_MRD, k);
			t.tag = (uint8_t)tags[n];
			l->scratch->req_ref[n] = (struct pcitsm_tlp_ref){ l->scratch->req[n] };
			e = pcitsm_tlp_encode_hdr(&t, l->scratch->req[n], PCITSM_TLP_HDR_MAX,
						  &l->scratch->req_ref[n].hdr_len);
			r.cur += k;
		}
		if (!e)
			e = pcitsm_ide_wire_send_burst(l->wire, PCITSM_IDE_SIDE_EP, d->t,
						       l->scratch->req_ref, n, &sent);
		l->dma_tlps += sent;
		/* In request order: the first that did not complete successfully ends the run (the
		 * bytes before it arrived). */
		for (unsigned i = 0; i < n; i++) {
			struct pcitsm_emu_tag *tg = &sd->tag[tags[i]];

			if (!failed && i < sent && tg->done && !tg->status) {
				*done = clamp_done(&r, tg->addr + tg->len);
			} else if (!failed) {
				failed = true;
				*fault = r.va + *done;
				if (!e)
					e = !tg->done ? PCITSM_E_NORESPONSE : PCITSM_E_RANGE;
			}
			tg->busy = false;
		}
		(void)take_fault(&r, &at); /* collected: the fault is the failed request's */
	}
	emu_link_unlock(l);
	return e;
}
