/* SPDX-License-Identifier: MIT */
/*
 * The interposer campaign (docs/security.md "The interposer campaign"): the IDE tamper campaign
 * (test_ide_campaign) at system level. An emulated platform, a device the firmware TSM connects
 * (SPDM session, Selective IDE Stream keyed by IDE_KM), its TDI locked and started (RUN, its report
 * advertising DMA_WITH_PASID), and DMA by the device with PASID TLP Prefixes and T=1 across the
 * emulated link: Memory Writes (single TLPs, and aggregated units of 2 to 4), each followed by a
 * read-back (a read after posted writes, as a driver flushes them), and Memory Reads whose
 * completions the root port splits. An interposer on the link's tap attacks one TLP of one DMA
 * operation per trial, in either direction:
 *  - tamper: one bit of the IDE TLP Prefix, of its T bit alone, of the PASID TLP Prefix, of the
 *    header, of the payload, of the MAC;
 *  - drop the TLP; replay an earlier TLP of the trial before it; reorder (hold it until the next
 *    unit of its sub-stream has passed), or let the read-back's Memory Read overtake the last
 *    Memory Write before it (PR_Sent counters, PCIe 6.x §6.33 ordering);
 *  - inject before it a forged IDE TLP (its header, another payload, a made-up MAC, or no MAC) or
 *    the same TLP in plaintext.
 * Control trials make no attack.
 *
 * The judge. Observers at both ends of the link see every TLP the receiving engine delivers,
 * before the platform serves it: a Memory Write must carry, in every DW, the stamp the driver
 * wrote for that address in a DMA operation of this trial, after everything delivered before it; a
 * Memory Read must be one the device has outstanding and not yet sent; a completion's data must be
 * the host memory its tag asked for, next in order; the PASID and T must be the device's. After
 * the trial every DW of the private memory holds the fill or a stamp of a write of this trial to
 * that DW. An attack counts as detected only when all of these hold: a receiver rejected a TLP;
 * the receiver's Selective IDE Stream Status reads Insecure; the TDI is in ERROR (PCIe 6.x §11: a
 * bound IDE stream went Insecure), at the device and as the TSM asks it; the attacked DMA
 * operation ended with an error to the driver; and nothing illegitimate was delivered. A
 * plaintext copy is what PCIe 6.x §6.33 discards without an IDE Check Failed: there the judge
 * wants it rejected, the stream still Secure, the TDI in RUN and the operation done. A control
 * trial must move all its data, reject nothing and leave memory exactly as the driver wrote it.
 *
 * Each trial connects, locks and starts afresh (unlock and disconnect after it, through the TSM).
 * PCITSM_CAMPAIGN_LINK_TRIALS (else PCITSM_CAMPAIGN_TRIALS) sets the count,
 * PCITSM_CAMPAIGN_SEED the seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign_ide.h"
#include "pcitsm/emu.h"
#include "pcitsm/tdisp.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"

#define PASID 0x4a5c1
#define TRIALS_CI 260 /* ctest: under a minute with the sanitizers (docs/security.md) */
#define SEED_DEFAULT 20261207
#define OPS_MAX 16
#define PAST_MAX 48
#define OP_MAX 1024      /* bytes per DMA operation */
#define UNIT_AGG_MODE 2u /* Tx Aggregation Mode 10b: up to 4 TLPs per unit (PCIe 6.x §7.9.26) */
#define UNIT_MAX 4

enum kind {
	K_NONE, /* control */
	K_TAMPER_PREFIX, K_TAMPER_T, K_TAMPER_PASID, K_TAMPER_HEADER, K_TAMPER_PAYLOAD,
	K_TAMPER_MAC, K_DROP, K_REPLAY, K_REORDER, K_REORDER_NP_P, K_INJECT_IDE, K_INJECT_PLAIN,
	K_COUNT
};

static const char *const kind_name[K_COUNT] = {
	"none (control)", "tamper IDE prefix", "tamper T bit", "tamper PASID", "tamper header",
	"tamper payload", "tamper MAC", "drop", "replay", "reorder in sub", "reorder NPR>P",
	"inject IDE", "inject plain",
};

enum op_kind { OP_WRITE, OP_UNIT, OP_READ };

struct op {
	enum op_kind kind;
	uint64_t va;
	size_t len;
	uint16_t gen; /* writes: the stamp's generation */
	unsigned n;   /* an aggregated unit: its TLPs */
};

enum tap_mode { TAP_WATCH, TAP_ARMED, TAP_RELEASE };

struct tally {
	unsigned trials, detected, undetected, ep_to_rp, units;
};

struct ifx {
	struct fx *fx;
	struct pcitsm_emu_link *l;
	struct pcitsm_emu_func *ep, *rp;
	struct pcitsm_bdf ep_bdf;
	struct pcitsm_tsm_tdi_evidence *ev; /* the locked TDI's, read before accept */
	uint64_t pb;        /* private memory */
	size_t ps;
	uint16_t gen;       /* the last stamp generation used */
	/* The trial. */
	enum kind kind;
	enum pcitsm_ide_side a, to; /* the attacked direction: a transmits, to receives */
	struct pcitsm_emu_dma d;
	struct op op[OPS_MAX];
	unsigned nops;
	uint16_t fill_gen;
	bool judging;       /* the observers check deliveries */
	unsigned bad;       /* illegitimate deliveries */
	int last_op;        /* the last Memory Write delivered: its operation, its address */
	uint64_t last_addr;
	bool mrd_seen[PCITSM_EMU_TAGS];
	/* The tap. */
	enum tap_mode tmode;
	unsigned tcount, tframe, release_mask;
	bool fired;
	struct pcitsm_ide_frame past[2][PAST_MAX]; /* by transmitting side */
	unsigned npast[2];
	pcitsm_ide_sink_fn sink;   /* the link's own */
	/* Figures. */
	struct tally t[K_COUNT];
	uint64_t tlps, rejected, judged;
	double cpu[4]; /* CPU seconds: connect, lock + start, traffic and judging, reset */
};

static struct ifx *G; /* the tap, the observers and the config accessor reach the fixture here */

static uint32_t rnd(struct ifx *f, uint32_t n)
{
	uint32_t r;

	assert_ok(pcitsm_random(&f->fx->env.env, &r, sizeof(r)));
	return r % n;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The machine is shared: the phases are timed in this process's CPU time. */
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* ---- the host's choice of aggregation ----
 * PCIe 6.x §6.33 aggregation: software enables it per sub-stream at the transmitter, in the
 * Selective IDE Stream Control register, before it sets Enable. The TSM core programs no
 * aggregation (lib/tsm/stream.c); the endpoint's config accessor adds Tx Aggregation Mode for
 * Posted Requests to the TSM's own setup write (Enable clear, a Stream ID), so the engine takes
 * it from the registers as it takes every other field. */
static const struct pcitsm_cfg_ops *cfg_inner;
static struct pcitsm_cfg_ops cfg_agg;
static uint32_t sel_ctl[PCITSM_IDE_MAX_SEL];
static unsigned nr_sel;

static pcitsm_err agg_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
{
	for (unsigned i = 0; i < nr_sel; i++)
		if (width == 4 && off == sel_ctl[i] && !(val & PCITSM_IDE_CTL_EN) &&
		    (val >> PCITSM_IDE_CTL_ID_SHIFT) != PCITSM_IDE_RESERVED_STREAM_ID)
			val |= UNIT_AGG_MODE << PCITSM_IDE_CTL_AGG_PR_SHIFT;
	return cfg_inner->write(cfg, off, width, val);
}

static void agg_install(struct ifx *f)
{
	struct pcitsm_ide_info ide;
	struct pcitsm_cfg *c = &f->ep->cfg.cfg;

	assert_ok(pcitsm_ide_read(c, f->ep->ide_off, &ide));
	assert_true(ide.aggregation_sup);
	for (nr_sel = 0; nr_sel < ide.nr_sel; nr_sel++)
		sel_ctl[nr_sel] = ide.sel_off[nr_sel] + PCITSM_IDE_SEL_CTL;
	cfg_inner = c->ops;
	cfg_agg = *c->ops;
	cfg_agg.write = agg_write;
	c->ops = &cfg_agg;
}

/* ---- stamps: every DW the driver writes names its address and its operation ---- */

static uint32_t stamp(const struct ifx *f, uint16_t gen, uint64_t addr)
{
	return (uint32_t)gen << 16 | (uint32_t)((addr - f->pb) / 4);
}

static uint16_t next_gen(struct ifx *f)
{
	if (++f->gen == 0) /* 0: the forger's */
		f->gen = 1;
	return f->gen;
}

static void stamp_fill(const struct ifx *f, uint8_t *buf, uint64_t va, size_t len, uint16_t gen)
{
	for (size_t i = 0; i < len; i += 4)
		pcitsm_put_le32(buf + i, stamp(f, gen, va + i));
}

static uint8_t *host(const struct ifx *f, uint64_t addr)
{
	return f->l->side[PCITSM_IDE_SIDE_RP].mem + (addr - f->l->side[PCITSM_IDE_SIDE_RP].base);
}

/* The write operation of this trial that stamped DW v at addr, or -1. */
static int stamp_op(const struct ifx *f, uint32_t v, uint64_t addr)
{
	if (addr < f->pb || addr >= f->pb + f->ps || (v & 0xffff) != (addr - f->pb) / 4)
		return -1;
	for (unsigned i = 0; i < f->nops; i++) {
		const struct op *o = &f->op[i];

		if (o->kind != OP_READ && o->gen == v >> 16 && addr >= o->va &&
		    addr < o->va + o->len)
			return (int)i;
	}
	return -1;
}

/* ---- the observers: every TLP a receiver delivers, judged before the platform serves it ---- */

static bool device_request(const struct ifx *f, const struct pcitsm_tlp *t, bool tee)
{
	return tee && t->has_pasid && t->pasid.pasid == PASID && !t->pasid.priv && !t->pasid.exec &&
	       t->req_id == pcitsm_bdf_rid(&f->ep->bdf);
}

static bool judge_write(struct ifx *f, const struct pcitsm_tlp *t)
{
	int op = -1;

	if (t->first_be != 0xf || (t->len > 4 && t->last_be != 0xf))
		return false;
	for (size_t i = 0; i < t->len; i += 4) {
		int o = stamp_op(f, pcitsm_get_le32(t->data + i), t->addr + i);

		if (o < 0 || (i && o != op))
			return false;
		op = o;
	}
	/* In the order the driver wrote: never behind what was delivered before it. */
	if (op < f->last_op || (op == f->last_op && t->addr <= f->last_addr))
		return false;
	f->last_op = op;
	f->last_addr = t->addr;
	return true;
}

static bool judge_read(struct ifx *f, const struct pcitsm_tlp *t)
{
	const struct pcitsm_emu_tag *tg = &f->l->side[PCITSM_IDE_SIDE_EP].tag[t->tag];

	if (!tg->busy || tg->done || tg->addr != t->addr || tg->len != t->len ||
	    f->mrd_seen[t->tag])
		return false;
	f->mrd_seen[t->tag] = true;
	return true;
}

static bool judge_completion(struct ifx *f, const struct pcitsm_tlp *t, bool tee)
{
	const struct pcitsm_emu_tag *tg = &f->l->side[PCITSM_IDE_SIDE_EP].tag[t->tag];

	if (!tee || !tg->busy || tg->done || t->req_id != pcitsm_bdf_rid(&f->ep->bdf) ||
	    t->cpl_id != pcitsm_bdf_rid(&f->rp->bdf))
		return false;
	if (t->kind == PCITSM_TLP_CPL) /* Unsupported Request: only from a TDI no longer in RUN */
		return t->status == 1 && pcitsm_emu_tdi_state(f->ep) != PCITSM_TDISP_RUN;
	return t->status == 0 && t->len <= tg->len - tg->got &&
	       !memcmp(t->data, host(f, tg->addr + tg->got), t->len);
}

static void observe(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to,
		    const struct pcitsm_tlp_ref *tlp, bool tee)
{
	struct ifx *f = G;
	struct pcitsm_tlp t;
	bool ok = true;

	if (f->judging && pcitsm_tlp_decode_ref(tlp, &t) == PCITSM_OK &&
	    t.kind != PCITSM_TLP_MSG) {
		f->judged++;
		if (to == PCITSM_IDE_SIDE_RP && t.kind == PCITSM_TLP_MWR)
			ok = device_request(f, &t, tee) && judge_write(f, &t);
		else if (to == PCITSM_IDE_SIDE_RP && t.kind == PCITSM_TLP_MRD)
			ok = device_request(f, &t, tee) && judge_read(f, &t);
		else if (to == PCITSM_IDE_SIDE_EP &&
			 (t.kind == PCITSM_TLP_CPLD || t.kind == PCITSM_TLP_CPL))
			ok = judge_completion(f, &t, tee);
		else
			ok = false; /* nothing else crosses in this traffic */
		if (!ok && f->bad++ < 3)
			print_message("illegitimate delivery to the %s: kind %d at 0x%llx\n",
				      to == PCITSM_IDE_SIDE_RP ? "root port" : "endpoint", t.kind,
				      (unsigned long long)t.addr);
	}
	f->sink(w, to, tlp, tee);
}

/* ---- the interposer ---- */

static bool is_msg(const struct pcitsm_ide_frame *fr)
{
	size_t lo, hi;

	if (!campaign_part_range(fr, PART_HEADER, &lo, &hi))
		return true;
	return (fr->data[lo] & 0x18) == 0x10; /* Type 10rrr: a Message */
}

/* The TLP of IDE TLP fr with a forged payload: plaintext into out, its length. */
static size_t forge_plain(struct ifx *f, const struct pcitsm_ide_frame *fr, uint8_t *out,
			  size_t cap)
{
	uint8_t data[PCITSM_TLP_DATA_MAX];
	size_t lo, hi, n;
	struct pcitsm_tlp t;

	assert_true(campaign_part_range(fr, PART_HEADER, &lo, &hi));
	assert_true(campaign_part_range(fr, PART_PAYLOAD, &lo, &hi) || lo == hi);
	if (fr->data[PCITSM_IDE_PFX_FLAGS_BYTE] & PCITSM_IDE_PFX_P)
		hi -= PCITSM_IDE_PCRC_LEN;
	assert_ok(pcitsm_tlp_decode(fr->data + PCITSM_TLP_PREFIX_LEN, hi - PCITSM_TLP_PREFIX_LEN,
				    &t));
	if (t.len && t.data) {
		if (t.kind == PCITSM_TLP_MWR)
			stamp_fill(f, data, t.addr, t.len, 0); /* no operation's: gen 0 */
		else
			assert_ok(pcitsm_random(&f->fx->env.env, data, t.len));
		t.data = data;
	}
	assert_ok(pcitsm_tlp_encode(&t, out, cap, &n));
	return n;
}

static void inject(struct ifx *f, struct pcitsm_ide_wire *w, const struct pcitsm_ide_frame *fr)
{
	struct pcitsm_ide_frame x;
	size_t n = forge_plain(f, fr, x.data + PCITSM_TLP_PREFIX_LEN,
			       sizeof(x.data) - PCITSM_TLP_PREFIX_LEN - PCITSM_IDE_MAC_LEN);

	if (f->kind == K_INJECT_PLAIN) {
		assert_ok(pcitsm_ide_wire_inject(w, f->a, x.data + PCITSM_TLP_PREFIX_LEN, n));
		return;
	}
	/* Its IDE TLP Prefix, and a made-up MAC, or none (then it waits at the receiver for the
	 * MAC of a unit, PCIe 6.x §6.33 aggregation). */
	memcpy(x.data, fr->data, PCITSM_TLP_PREFIX_LEN);
	x.len = PCITSM_TLP_PREFIX_LEN + n;
	if (rnd(f, 4) == 0) {
		x.data[PCITSM_IDE_PFX_FLAGS_BYTE] &=
			(uint8_t)~(PCITSM_IDE_PFX_M | PCITSM_IDE_PFX_P);
	} else {
		x.data[PCITSM_IDE_PFX_FLAGS_BYTE] |= PCITSM_IDE_PFX_M;
		assert_ok(pcitsm_random(&f->fx->env.env, x.data + x.len, PCITSM_IDE_MAC_LEN));
		x.len += PCITSM_IDE_MAC_LEN;
	}
	assert_ok(pcitsm_ide_wire_inject(w, f->a, x.data, x.len));
}

/* An earlier TLP of fr's sub-stream (the last recorded is fr itself) on the wire before fr: the
 * operation in flight is what it disturbs. (One of another sub-stream, or one without a MAC that
 * waits for a unit there, is caught by the next TLP of its own sub-stream, maybe of a later
 * operation.) */
static void replay(struct ifx *f, struct pcitsm_ide_wire *w, const struct pcitsm_ide_frame *fr)
{
	const struct pcitsm_ide_frame *p[PAST_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i + 1 < f->npast[f->a]; i++)
		if (campaign_sub(&f->past[f->a][i]) == campaign_sub(fr))
			p[n++] = &f->past[f->a][i];
	assert_true(n > 0);
	n = rnd(f, n);
	assert_ok(pcitsm_ide_wire_inject(w, f->a, p[n]->data, p[n]->len));
}

static enum pcitsm_tap_verdict strike(struct ifx *f, struct pcitsm_ide_wire *w,
				      struct pcitsm_ide_frame *fr)
{
	static const enum campaign_part part[K_COUNT] = {
		[K_TAMPER_PREFIX] = PART_PREFIX, [K_TAMPER_PASID] = PART_PASID,
		[K_TAMPER_HEADER] = PART_HEADER, [K_TAMPER_PAYLOAD] = PART_PAYLOAD,
		[K_TAMPER_MAC] = PART_MAC,
	};
	size_t lo, hi;

	f->fired = true;
	switch (f->kind) {
	case K_TAMPER_PREFIX:
	case K_TAMPER_PASID:
	case K_TAMPER_HEADER:
	case K_TAMPER_PAYLOAD:
	case K_TAMPER_MAC:
		assert_true(campaign_part_range(fr, part[f->kind], &lo, &hi));
		campaign_flip(fr, lo, hi, rnd(f, (uint32_t)(hi - lo) * 8));
		return PCITSM_TAP_PASS;
	case K_TAMPER_T:
		fr->data[PCITSM_IDE_PFX_FLAGS_BYTE] ^= PCITSM_IDE_PFX_T;
		return PCITSM_TAP_PASS;
	case K_DROP:
		return PCITSM_TAP_DROP;
	case K_REPLAY:
		replay(f, w, fr);
		return PCITSM_TAP_PASS;
	case K_REORDER:
	case K_REORDER_NP_P:
		f->release_mask = 1u << (f->kind == K_REORDER ? campaign_sub(fr)
							       : PCITSM_IDE_SUB_NPR);
		f->tmode = TAP_RELEASE;
		return PCITSM_TAP_HOLD;
	default:
		inject(f, w, fr);
		return PCITSM_TAP_PASS;
	}
}

static enum pcitsm_tap_verdict tap(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				   struct pcitsm_ide_frame *fr)
{
	struct ifx *f = G;

	if (!fr->len || fr->data[0] != PCITSM_IDE_PFX_BYTE0 || is_msg(fr))
		return PCITSM_TAP_PASS;
	if (!f->fired && f->npast[from] < PAST_MAX)
		f->past[from][f->npast[from]++] = *fr;
	if (from != f->a)
		return PCITSM_TAP_PASS;
	switch (f->tmode) {
	case TAP_WATCH:
		return PCITSM_TAP_PASS;
	case TAP_RELEASE:
		/* The held TLP goes right after the next unit of the sub-streams named. */
		if (!campaign_release_after(w, from, fr, f->release_mask))
			return PCITSM_TAP_PASS;
		f->tmode = TAP_WATCH;
		return PCITSM_TAP_DROP;
	default:
		if (f->tcount++ != f->tframe)
			return PCITSM_TAP_PASS;
		f->tmode = TAP_WATCH;
		return strike(f, w, fr);
	}
}

/* ---- the driver: DMA operations ---- */

/* Pieces of [addr, addr + len) cut at multiples of size (requests at MPS / MRRS, completions at
 * the completer's boundary: lib/emu/dma.c). */
static unsigned pieces(uint64_t addr, size_t len, unsigned size)
{
	unsigned n = 0;

	for (uint64_t a = addr, end = addr + len; a < end; n++)
		a += PCITSM_MIN(end - a, (uint64_t)size - (a & (size - 1)));
	return n;
}

static unsigned completions(const struct ifx *f, uint64_t va, size_t len)
{
	unsigned n = 0;

	for (uint64_t a = va, end = va + len; a < end;) {
		size_t k = (size_t)PCITSM_MIN(end - a, (uint64_t)f->d.mrrs - (a & (f->d.mrrs - 1)));

		n += pieces(a, k, f->l->cpl_split);
		a += k;
	}
	return n;
}

static struct op *op_new(struct ifx *f, enum op_kind k)
{
	struct op *o = &f->op[f->nops++];
	size_t max = k == OP_UNIT ? 4 * (8 + 56 * UNIT_MAX) : OP_MAX;

	assert_true(f->nops <= OPS_MAX);
	o->kind = k;
	o->len = 4 * (1 + rnd(f, (uint32_t)max / 4));
	if (k == OP_UNIT && o->len < 4 * 8 * UNIT_MAX)
		o->len = 4 * 8 * UNIT_MAX;
	if (k == OP_UNIT) {
		/* Requests never cross a 4 KiB boundary (PCIe 6.x §2.2.7). */
		uint64_t page = (f->pb + 4095) & ~4095ull;

		o->va = page + 4096 * rnd(f, (uint32_t)((f->pb + f->ps - page) / 4096)) +
			4 * rnd(f, (uint32_t)(4096 - o->len) / 4 + 1);
		o->n = 2 + rnd(f, UNIT_MAX - 1);
	} else {
		o->va = f->pb + 4 * rnd(f, (uint32_t)(f->ps - o->len) / 4 + 1);
		o->n = 0;
	}
	o->gen = k == OP_READ ? 0 : next_gen(f);
	return o;
}

static pcitsm_err read_op(struct ifx *f, uint64_t va, size_t len)
{
	static uint8_t buf[OP_MAX], want[OP_MAX];
	size_t done;
	uint64_t fault;
	pcitsm_err e;

	memcpy(want, host(f, va), len);
	memset(f->mrd_seen, 0, sizeof(f->mrd_seen));
	e = pcitsm_emu_dma_read(f->l, &f->d, va, buf, len, &done, &fault);
	if (!e && memcmp(buf, want, len)) {
		f->bad++;
		print_message("a read returned other bytes than host memory holds\n");
	}
	return e;
}

/* The device's DMA engine sends an aggregated unit of Memory Writes (PCIe 6.x §6.33: one MAC on
 * the last); the link's lock held as the platform's DMA path holds it. */
static pcitsm_err unit_write(struct ifx *f, const struct op *o, const uint8_t *data)
{
	uint8_t tlp[UNIT_MAX][PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX];
	const uint8_t *p[UNIT_MAX];
	size_t l[UNIT_MAX], at = 0, n = o->n, dw = o->len / 4;
	pcitsm_err e;

	for (size_t i = 0; i < n; i++) {
		size_t k = 4 * (i + 1 == n ? dw - at / 4 : (dw - at / 4) / (n - i));
		struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .first_be = 0xf,
					.last_be = k > 4 ? 0xf : 0, .addr = o->va + at,
					.req_id = pcitsm_bdf_rid(&f->ep->bdf), .data = data + at,
					.len = k, .has_pasid = true, .pasid = { .pasid = PASID } };

		assert_ok(pcitsm_tlp_encode(&t, tlp[i], sizeof(tlp[i]), &l[i]));
		p[i] = tlp[i];
		at += k;
	}
	f->t[f->kind].units++;
	pthread_mutex_lock(&f->l->lock);
	e = pcitsm_ide_wire_send(f->l->wire, PCITSM_IDE_SIDE_EP, true, p, l, n);
	pthread_mutex_unlock(&f->l->lock);
	return e;
}

/* One operation; a write is followed by its read-back. armed: the tap strikes frame tframe of
 * the attacked direction (counted from this operation's first). */
static pcitsm_err run_op(struct ifx *f, const struct op *o, bool armed)
{
	static uint8_t data[OP_MAX];
	size_t done;
	uint64_t fault;
	pcitsm_err e;

	if (armed) {
		f->tmode = TAP_ARMED;
		f->tcount = 0;
	}
	if (o->kind == OP_READ)
		return read_op(f, o->va, o->len);
	stamp_fill(f, data, o->va, o->len, o->gen);
	if (o->kind == OP_UNIT)
		e = unit_write(f, o, data);
	else
		e = pcitsm_emu_dma_write(f->l, &f->d, o->va, data, o->len, &done, &fault);
	if (armed && f->tmode == TAP_ARMED)
		f->tmode = TAP_WATCH; /* only the write's TLPs are targets */
	return e ? e : read_op(f, o->va, PCITSM_MIN(o->len, 256));
}

/* The frames of the attacked direction the operation sends that the attack can take:
 * [*first, *first + return value). In a unit only the last carries a MAC. */
static unsigned targets(struct ifx *f, const struct op *o, unsigned *first)
{
	*first = 0;
	if (o->kind == OP_READ)
		return f->a == PCITSM_IDE_SIDE_EP ? pieces(o->va, o->len, f->d.mrrs)
						  : completions(f, o->va, o->len);
	if (o->kind == OP_WRITE)
		return pieces(o->va, o->len, f->d.mps);
	if (f->kind == K_TAMPER_MAC)
		*first = o->n - 1;
	return f->kind == K_TAMPER_MAC ? 1 : o->n;
}

/* The attacked operation and its frame. */
static const struct op *attacked_op(struct ifx *f)
{
	enum kind k = f->kind;
	const struct op *o;
	unsigned first, n;

	/* Only requests carry a PASID; only the device sends Posted Requests. */
	if (k == K_TAMPER_PASID || k == K_REORDER_NP_P)
		f->a = PCITSM_IDE_SIDE_EP;
	else
		f->a = (enum pcitsm_ide_side)rnd(f, 2);
	f->to = !f->a;
	if (f->a == PCITSM_IDE_SIDE_RP)
		o = op_new(f, OP_READ); /* the root port sends completions */
	else if (k == K_TAMPER_PAYLOAD || k == K_REORDER_NP_P)
		o = op_new(f, rnd(f, 2) ? OP_UNIT : OP_WRITE);
	else
		o = op_new(f, (enum op_kind)rnd(f, 3));
	n = targets(f, o, &first);
	assert_true(n > 0);
	f->tframe = first + (k == K_REORDER_NP_P ? n - 1 : rnd(f, n));
	return o;
}

/* ---- a trial ---- */

static void connect_lock_start(struct ifx *f)
{
	struct pcitsm_bdf *b = &f->ep_bdf;
	double t0 = cpu_s();

	assert_int_equal(pcitsm_tsm_connect_write(f->fx->m.core, b, "tsm0", 4), 0);
	f->cpu[0] += cpu_s() - t0;
	t0 = cpu_s();
	assert_int_equal(pcitsm_tsm_lock_write(f->fx->m.core, b, "tsm1", 4), 0);
	/* The verifier reads the report; accept is bound to what it read. */
	assert_ok(pcitsm_tsm_tdi_evidence_get(f->fx->m.core, b, f->ev));
	assert_int_equal(pcitsm_tsm_accept_write(f->fx->m.core, b, "1", 1), 0);
	assert_int_equal(pcitsm_emu_tdi_state(f->ep), PCITSM_TDISP_RUN);
	f->cpu[1] += cpu_s() - t0;
}

/* The TDI stopped (STOP_INTERFACE: ERROR -> CONFIG_UNLOCKED), the device disconnected. A stream
 * that went Insecure comes back only with Enable cleared and new keys (PCIe 6.x §6.33), which the
 * TSM does by a new connect. */
static void reset(struct ifx *f)
{
	struct pcitsm_bdf *b = &f->ep_bdf;
	double t0 = cpu_s();

	assert_int_equal(pcitsm_tsm_unlock_write(f->fx->m.core, b, "tsm1", 4), 0);
	assert_int_equal(pcitsm_tsm_disconnect_write(f->fx->m.core, b, "tsm0", 4), 0);
	f->cpu[3] += cpu_s() - t0;
	test_tsm_assert_clean(f->fx);
}

/* The state a port's enabled Selective IDE Stream reads (Status, PCIe 6.x §7.9.26), -1: none. */
static int stream_state(struct pcitsm_emu_func *port)
{
	struct pcitsm_ide_info ide;
	struct pcitsm_ide_sel sel;

	assert_ok(pcitsm_ide_read(&port->cfg.cfg, port->ide_off, &ide));
	for (unsigned i = 0; i < ide.nr_sel; i++) {
		assert_ok(pcitsm_ide_sel_read(&port->cfg.cfg, &ide, i, &sel));
		if (sel.ctl.enable)
			return sel.state;
	}
	return -1;
}

/* Every DW of private memory holds the fill or a stamp of this trial's writes to it; in a
 * control trial, exactly what the driver wrote last. */
static bool memory_ok(struct ifx *f, bool exact)
{
	for (uint64_t a = f->pb; a + 4 <= f->pb + f->ps; a += 4) {
		uint32_t v = pcitsm_get_le32(host(f, a));
		int want = -1;

		for (unsigned i = 0; exact && i < f->nops; i++)
			if (f->op[i].kind != OP_READ && a >= f->op[i].va &&
			    a < f->op[i].va + f->op[i].len)
				want = (int)i;
		if (exact ? v != stamp(f, want < 0 ? f->fill_gen : f->op[want].gen, a)
			  : v != stamp(f, f->fill_gen, a) && stamp_op(f, v, a) < 0)
			return false;
	}
	return true;
}

/* What a trial left. */
struct outcome {
	const struct op *o; /* the attacked operation */
	pcitsm_err e;       /* its result to the driver */
	pcitsm_err e_post;  /* the traffic after it */
	uint64_t rejected;  /* TLPs the receivers rejected */
	int rx, rp;         /* the receiver's and the root port's stream state */
	int tdi, tsm_tdi;   /* the TDI's state at the device, and as the TSM asks it */
};

/* One trial of f->kind: connect, lock, start; traffic; the attack (on a random frame of a random
 * operation, or with force_a >= 0 on the first frame of a read from that side, or of a write);
 * traffic after it. The TDI stays as the trial left it. */
static void play(struct ifx *f, int force_a, struct outcome *r)
{
	struct pcitsm_ide_wire_stats *st = f->l->wire->stats;
	unsigned pre = rnd(f, 3);
	uint64_t rej0, sent0;
	double t0;

	connect_lock_start(f);
	t0 = cpu_s();
	/* Per trial: Max_Payload_Size, Max_Read_Request_Size, the completer's boundary. */
	f->d = (struct pcitsm_emu_dma){ .pasid = PASID, .t = true };
	f->d.mps = (uint16_t)(128 << rnd(f, 2));
	f->d.mrrs = (uint16_t)(128 << rnd(f, 3));
	f->l->cpl_split = (uint16_t)(64 << rnd(f, 3));
	f->fill_gen = next_gen(f);
	stamp_fill(f, host(f, f->pb), f->pb, f->ps, f->fill_gen);
	f->nops = 0;
	f->bad = 0;
	f->last_op = -1;
	f->last_addr = 0;
	f->npast[0] = f->npast[1] = 0;
	f->fired = false;
	f->tmode = TAP_WATCH;
	f->a = PCITSM_IDE_SIDE_EP;
	f->to = PCITSM_IDE_SIDE_RP;
	rej0 = st[0].rejected + st[1].rejected;
	sent0 = st[0].sent + st[1].sent;
	f->judging = true;
	/* Traffic before: a write and a read (something of each direction to replay), more. */
	for (unsigned i = 0; i < 2 + pre; i++)
		assert_ok(run_op(f, op_new(f, i == 0 ? OP_WRITE : i == 1 ? OP_READ
							   : (enum op_kind)rnd(f, 3)),
				 false));
	if (f->kind == K_NONE) {
		r->o = op_new(f, (enum op_kind)rnd(f, 3));
		f->a = (enum pcitsm_ide_side)rnd(f, 2);
		f->to = !f->a;
		r->e = run_op(f, r->o, false);
		f->fired = true;
	} else {
		if (force_a >= 0) {
			f->a = (enum pcitsm_ide_side)force_a;
			f->to = !f->a;
			r->o = op_new(f, f->a == PCITSM_IDE_SIDE_RP ? OP_READ : OP_WRITE);
			f->tframe = 0;
		} else {
			r->o = attacked_op(f);
		}
		r->e = run_op(f, r->o, true);
	}
	assert_true(f->fired);
	/* Traffic after: a write and a read, successors on every sub-stream both ways. */
	r->e_post = run_op(f, op_new(f, OP_WRITE), false);
	if (!r->e_post)
		r->e_post = run_op(f, op_new(f, OP_READ), false);
	pthread_mutex_lock(&f->l->lock);
	pcitsm_ide_wire_release(f->l->wire, f->a);
	pcitsm_ide_wire_run(f->l->wire);
	pthread_mutex_unlock(&f->l->lock);
	f->judging = false;
	f->tmode = TAP_WATCH;
	f->cpu[2] += cpu_s() - t0;
	r->rejected = st[0].rejected + st[1].rejected - rej0;
	f->rejected += r->rejected;
	f->tlps += st[0].sent + st[1].sent - sent0;
	r->rx = stream_state(f->to == PCITSM_IDE_SIDE_RP ? f->rp : f->ep);
	r->rp = stream_state(f->rp);
	r->tdi = pcitsm_emu_tdi_state(f->ep);
	r->tsm_tdi = -1;
	assert_ok(pcitsm_tsm_tdi_state_get(f->fx->m.core, &f->ep_bdf, &r->tsm_tdi));
}

/* The judge of one trial (the file's head comment). */
static bool judge(struct ifx *f, const struct outcome *r)
{
	bool ok;

	switch (f->kind) {
	case K_NONE:
		ok = !r->e && !r->e_post && !r->rejected && r->rx == PCITSM_IDE_STATE_SECURE &&
		     r->rp == PCITSM_IDE_STATE_SECURE && r->tdi == PCITSM_TDISP_RUN &&
		     r->tsm_tdi == PCITSM_TDISP_RUN && memory_ok(f, true);
		break;
	case K_INJECT_PLAIN:
		/* PCIe 6.x §6.33: a non-IDE TLP of a sub-stream that carries IDE TLPs is
		 * discarded, no IDE Check Failed. */
		ok = !r->e && !r->e_post && r->rejected && r->rx == PCITSM_IDE_STATE_SECURE &&
		     r->tdi == PCITSM_TDISP_RUN && r->tsm_tdi == PCITSM_TDISP_RUN &&
		     memory_ok(f, true);
		break;
	default:
		ok = r->e && r->rejected && r->rx == PCITSM_IDE_STATE_INSECURE &&
		     r->tdi == PCITSM_TDISP_ERROR && r->tsm_tdi == PCITSM_TDISP_ERROR &&
		     pcitsm_emu_tdi_cause(f->ep) == PCITSM_TDISP_CAUSE_STREAM_INSECURE &&
		     memory_ok(f, false);
		break;
	}
	return ok && !f->bad;
}

static void trial(struct ifx *f)
{
	struct outcome r;
	struct tally *t;

	f->kind = (enum kind)rnd(f, K_COUNT);
	t = &f->t[f->kind];
	play(f, -1, &r);
	t->trials++;
	if (f->kind != K_NONE && f->a == PCITSM_IDE_SIDE_EP)
		t->ep_to_rp++;
	if (judge(f, &r)) {
		t->detected++;
	} else if (t->undetected++ < 3) {
		print_message("undetected: %s, %s, op %d of %u bytes, op %s, rejected %llu, "
			      "receiver state %d, TDI %d (TSM: %d), bad deliveries %u\n",
			      kind_name[f->kind], f->a == PCITSM_IDE_SIDE_EP ? "EP->RP" : "RP->EP",
			      r.o->kind, (unsigned)r.o->len, pcitsm_err_name(r.e),
			      (unsigned long long)r.rejected, r.rx, r.tdi, r.tsm_tdi, f->bad);
	}
	reset(f);
}

/* The defect the campaign found, on its own: a TLP the endpoint's engine rejects (IDE Check
 * Failed), and one the root port's rejects (whose IDE Fail reaches the endpoint), each take the
 * device's TDI to ERROR (TDISP, PCIe 6.x §11: a bound IDE stream went Insecure), which only a
 * cleared Enable did before. A plaintext copy, discarded without a check failure, does not. */
static void test_check_failed_tdi_error(void **state)
{
	struct ifx *f = *state;
	struct outcome r;

	for (int a = 0; a < 2; a++) {
		f->kind = K_TAMPER_MAC;
		play(f, a, &r);
		if (r.rx != PCITSM_IDE_STATE_INSECURE || r.rp != PCITSM_IDE_STATE_INSECURE ||
		    stream_state(f->ep) != PCITSM_IDE_STATE_INSECURE)
			fail_msg("MAC from the %s: not Insecure (receiver %d, root port %d)",
				 a == PCITSM_IDE_SIDE_RP ? "root port" : "endpoint", r.rx, r.rp);
		if (r.tdi != PCITSM_TDISP_ERROR || r.tsm_tdi != PCITSM_TDISP_ERROR)
			fail_msg("MAC from the %s: the TDI is %d (the TSM reads %d), not ERROR",
				 a == PCITSM_IDE_SIDE_RP ? "root port" : "endpoint", r.tdi,
				 r.tsm_tdi);
		assert_int_equal(pcitsm_emu_tdi_cause(f->ep), PCITSM_TDISP_CAUSE_STREAM_INSECURE);
		assert_true(r.e != PCITSM_OK);
		assert_true(judge(f, &r));
		reset(f);
	}
	f->kind = K_INJECT_PLAIN;
	play(f, PCITSM_IDE_SIDE_EP, &r);
	assert_int_equal(r.tdi, PCITSM_TDISP_RUN);
	assert_int_equal(r.rx, PCITSM_IDE_STATE_SECURE);
	assert_true(judge(f, &r));
	reset(f);
}

/* ---- the campaign ---- */

static void test_interposer_campaign(void **state)
{
	struct ifx *f = *state;
	/* memcheck runs it 20 to 50 times slower: a tenth there */
	unsigned dflt = test_under_valgrind() ? TRIALS_CI / 10 : TRIALS_CI;
	unsigned trials = campaign_count("PCITSM_CAMPAIGN_LINK_TRIALS",
					 campaign_count("PCITSM_CAMPAIGN_TRIALS", dflt));
	unsigned undetected = 0, ep_to_rp = 0;
	double t0 = clock_s(CLOCK_MONOTONIC), c0 = cpu_s();

	memset(f->cpu, 0, sizeof(f->cpu));
	for (unsigned i = 0; i < trials; i++)
		trial(f);
	print_message("interposer campaign: %u trials in %.1f s (%.1f s of CPU); per trial, ms of "
		      "CPU: connect %.2f, lock + start %.2f, traffic and judging %.2f, unlock + "
		      "disconnect %.2f\n", trials, clock_s(CLOCK_MONOTONIC) - t0, cpu_s() - c0,
		      1e3 * f->cpu[0] / trials, 1e3 * f->cpu[1] / trials, 1e3 * f->cpu[2] / trials,
		      1e3 * f->cpu[3] / trials);
	print_message("  %-18s %6s %8s %8s %10s %6s\n", "kind", "trials", "EP->RP", "detected",
		      "undetected", "units");
	for (int k = 0; k < K_COUNT; k++) {
		const struct tally *t = &f->t[k];

		print_message("  %-18s %6u %8u %8u %10u %6u\n", kind_name[k], t->trials,
			      t->ep_to_rp, t->detected, t->undetected, t->units);
		undetected += t->undetected;
		ep_to_rp += t->ep_to_rp;
		if (trials >= 1000) /* enough for every kind to count */
			assert_true(t->trials >= trials / K_COUNT / 2);
	}
	print_message("interposer campaign: %llu TLPs on the wire, %llu delivered and judged, %llu "
		      "rejected; undetected %u\n", (unsigned long long)f->tlps,
		      (unsigned long long)f->judged, (unsigned long long)f->rejected, undetected);
	assert_int_equal(undetected, 0);
	assert_true(f->judged > (uint64_t)trials * 10);
	if (trials >= 1000)
		assert_true(ep_to_rp > trials / 4 && ep_to_rp < trials * 3 / 4 + trials / K_COUNT);
}

static int setup(void **state)
{
	struct ifx *f = calloc(1, sizeof(*f));
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_devices_cfg dc;
	struct pcitsm_tdisp_report rep;
	unsigned seed = campaign_count("PCITSM_CAMPAIGN_SEED", SEED_DEFAULT);
	struct fx *fx = test_tsm_cfg(seed, &mc, &cfg, &dc);

	assert_non_null(f);
	print_message("interposer campaign: seed %u\n", seed);
	pcitsm_emu_config_ports(&cfg, 1);
	cfg.ports[0].ep_pasid_funcs = 1; /* PF0 does PASID DMA: its report says DMA_WITH_PASID */
	assert_ok(pcitsm_machine_build(&fx->m, &mc, PCITSM_MACHINE_CORE, NULL));
	f->fx = fx;
	f->ev = calloc(1, sizeof(*f->ev));
	assert_non_null(f->ev);
	f->l = &fx->m.plat.links[0];
	f->ep = f->l->ep;
	f->rp = f->l->rp;
	f->ep_bdf = f->ep->bdf;
	pcitsm_emu_private_mem(f->l, &f->pb, &f->ps);
	f->ps &= ~(size_t)3;
	agg_install(f);
	/* The link: its own sink behind the observers, the interposer on its tap. */
	f->sink = f->l->wire->sink;
	f->l->wire->sink = observe;
	f->l->wire->tap = tap;
	G = f;
	/* What every trial starts from: the TDI in RUN says DMA_WITH_PASID, the endpoint's stream
	 * aggregates Posted Requests (from its registers). */
	connect_lock_start(f);
	assert_ok(pcitsm_tdisp_report_decode(f->ev->report, f->ev->report_len, &rep));
	assert_true(rep.interface_info & PCITSM_TDISP_INFO_DMA_WITH_PASID);
	{
		int i = -1;

		for (unsigned s = 0; s < f->ep->ide_port->nr_streams && i < 0; s++)
			if (pcitsm_ide_stream_state(f->ep->ide_port, s) == PCITSM_IDE_SECURE)
				i = (int)s;
		assert_true(i >= 0);
		assert_int_equal(f->ep->ide_port->stream[i].agg[PCITSM_IDE_SUB_PR], UNIT_MAX);
	}
	reset(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct ifx *f = *state;

	f->l->wire->tap = NULL;
	f->l->wire->sink = f->sink;
	f->ep->cfg.cfg.ops = cfg_inner;
	fx_free(f->fx);
	free(f->ev);
	free(f);
	G = NULL;
	return 0;
}

int main(void)
{
	return test_run_fixture(setup, teardown, test_check_failed_tdi_error,
				test_interposer_campaign);
}
