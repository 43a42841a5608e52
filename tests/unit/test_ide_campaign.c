/* SPDX-License-Identifier: MIT */
/*
 * The IDE tamper campaign (docs/security.md, "The IDE tamper campaign"): randomized trials on the
 * emulated link, two IDE engines joined by the wire and its tap (PCIe 6.x §6.33).
 *
 * A trial configures the Selective IDE Stream afresh (aggregation per sub-stream and PCRC at
 * random), programs and starts fresh keys, carries random traffic both ways on all three
 * sub-streams (Posted, Non-Posted, Completions; aggregated units; IDE Syncs), and makes ONE attack
 * on one direction (the attacked transmitter `a`, the receiver `to`):
 *  - tamper with one bit of one TLP: prefix, header (AAD), payload (with the PCRC), MAC;
 *  - drop one TLP; replay an earlier one; reorder within a sub-stream, or make a Non-Posted Request
 *    or Completion overtake a Posted TLP sent before it;
 *  - inject an IDE TLP with a made-up MAC, or a plaintext TLP (or IDE Sync) of the stream;
 *  - forge: the transmitter holds the keys and seals, at the right IV counter, what breaks one rule
 *    of the receiver: an IDE Sync whose counts exceed the receiver's, an IDE Sync or a TLP under a
 *    key set programmed but not started (K_SET_GO), K toggling inside an aggregated unit, a unit of
 *    more than 8 TLPs or 256 DW, an IDE Sync inside a unit, a unit to a receiver without
 *    aggregation, PCRC missing or wrong, a TC or a TLP type that is not the sub-stream's, the spent
 *    IV counter, the old key set after the receiver switched to the new one;
 *  - send to a receiver whose stream is enabled but not Secure yet.
 * Control trials reorder legally (a Posted TLP overtaking a Non-Posted Request or a Completion):
 * there everything must arrive and nothing may be rejected.
 *
 * The judge goes by TLP identity. Every TLP sent carries a unique number (address, payload); the
 * sink checks each delivered TLP against the sender's log: the next one of its sub-stream, byte for
 * byte, never a Non-Posted Request or Completion ahead of a Posted TLP sent before it, and only on
 * a Secure stream. An attack is detected when the attacked TLP (or its unit) is itself rejected;
 * otherwise the receiver's stream must be Insecure by the end of the trial, and a TLP it accepted
 * (an IDE Sync is consumed, not delivered) must not be followed by any delivery at that receiver.
 * Anything else is "undetected", and the campaign requires 0.
 *
 * PCITSM_CAMPAIGN_SEED and PCITSM_CAMPAIGN_TRIALS (environment) change the seed and the count; the
 * count is never below 10,000.
 */
#include <stdlib.h>
#include <string.h>

#include "campaign_ide.h"
#include "pcitsm/ide.h"
#include "testutil.h"

#define RP_RID 0x0008
#define EP_RID 0x0100
#define SID 3
#define LOG_MAX 256
#define REC_MAX 96     /* a legitimate TLP: header + payload up to 64 bytes */
#define DATA_MAX 64
#define PAST_MAX 32
#define FORGE_MAX 9    /* one more than a unit may hold */
#define TRIALS_MIN 10000
#define SEED_DEFAULT 20261207

enum kind {
	K_TAMPER_PREFIX, K_TAMPER_HEADER, K_TAMPER_PAYLOAD, K_TAMPER_MAC,
	K_DROP, K_REPLAY, K_REORDER_SUB, K_REORDER_CROSS, K_INJECT_IDE, K_INJECT_PLAIN,
	K_SYNC_COUNT, K_SYNC_KSET, K_KSET_NOT_GO, K_K_TOGGLE, K_UNIT_COUNT, K_UNIT_BYTES,
	K_MSG_IN_UNIT, K_NO_AGG_RX, K_PCRC_MISSING, K_PCRC_WRONG, K_TC, K_SUB_TYPE, K_CTR_SPENT,
	K_NOT_SECURE, K_OLD_KSET,
	K_LEGAL_REORDER, /* control: must be accepted in full */
	K_COUNT
};

static const char *const kind_name[K_COUNT] = {
	"tamper prefix", "tamper header", "tamper payload", "tamper MAC", "drop", "replay",
	"reorder in sub", "reorder NP/CPL>P", "inject IDE", "inject plain", "Sync counts",
	"Sync key set", "K not started", "K in unit", "unit > 8 TLPs", "unit > 256 DW",
	"Sync in unit", "unit, no agg", "PCRC missing", "PCRC wrong", "wrong TC", "wrong TLP type",
	"IV ctr spent", "not Secure", "old key set", "legal reorder",
};

enum tap_mode { TAP_WATCH, TAP_TAMPER, TAP_DROP, TAP_HOLD, TAP_RELEASE };

struct rec {
	uint8_t b[REC_MAX];
	size_t len;
	unsigned p_before; /* Posted TLPs the side sent before this one */
};

struct tally {
	unsigned trials, rejected, insecure, undetected;
	unsigned accepted; /* control trials: everything arrived */
};

struct cfx {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *port[2];
	struct pcitsm_ide_wire *w;
	uint32_t seq; /* the next TLP identity */
	uint8_t key[2][PCITSM_IDE_NR_SUB][2][32]; /* [transmitting side][sub-stream][key set] */
	struct pcitsm_gcm_key *old;                /* a key set the transmitter no longer holds */
	/* The trial. */
	enum kind kind;
	enum pcitsm_ide_side a, to;
	enum pcitsm_ide_sub sub_t; /* the sub-stream some kinds aim at */
	uint8_t agg_mode[PCITSM_IDE_NR_SUB];
	bool pcrc;
	unsigned unit_max[2][PCITSM_IDE_NR_SUB];
	struct rec log[2][PCITSM_IDE_NR_SUB][LOG_MAX];
	unsigned n_sent[2][PCITSM_IDE_NR_SUB], n_got[2][PCITSM_IDE_NR_SUB], p_sent[2];
	unsigned bad;       /* illegitimate deliveries this trial */
	bool armed;         /* `to` accepted an attacked TLP: no delivery may follow */
	bool attacked;
	/* The tap on a's frames. */
	enum tap_mode tmode;
	unsigned tframe, tcount, release_mask;
	bool fired;
	struct pcitsm_ide_frame past[PAST_MAX];
	unsigned npast;
	/* Figures. */
	struct tally t[K_COUNT];
	uint64_t sent, delivered, rejected;
	unsigned broken; /* attacks that found a's stream already failed (must stay 0) */
};

static struct cfx *fx; /* the sink and the tap reach the fixture through it */

static uint32_t rnd(struct cfx *f, uint32_t n)
{
	uint32_t r;

	assert_ok(pcitsm_random(&f->env.env, &r, sizeof(r)));
	return r % n;
}

static uint16_t rid(enum pcitsm_ide_side s) { return s == PCITSM_IDE_SIDE_EP ? EP_RID : RP_RID; }

/* The sub-stream of a delivered plaintext TLP: MWr Posted, CplD Completion, the rest Non-Posted
 * (a message delivered as data is judged by the log, which holds none). */
static enum pcitsm_ide_sub sub_of_plain(const uint8_t *t)
{
	uint8_t type = t[0] & 0x1f;

	if (type == 0x0a)
		return PCITSM_IDE_SUB_CPL;
	return (t[0] & 0x40) && type == 0 ? PCITSM_IDE_SUB_PR : PCITSM_IDE_SUB_NPR;
}

static bool secure(struct cfx *f, enum pcitsm_ide_side s)
{
	return pcitsm_ide_stream_state(f->port[s], 0) == PCITSM_IDE_SECURE;
}

/* The judge of every delivered TLP, by identity. */
static void sink(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to,
		 const struct pcitsm_tlp_ref *ref, bool tee)
{
	struct cfx *f = fx;
	enum pcitsm_ide_side from = !to;
	const uint8_t *tlp = ref->hdr; /* delivered whole: every TLP here crosses a stream */
	size_t len = ref->hdr_len;
	enum pcitsm_ide_sub u = sub_of_plain(tlp);
	unsigned i = f->n_got[from][u];
	const struct rec *r = &f->log[from][u][i % LOG_MAX];

	(void)w;
	f->delivered++;
	if (!secure(f, to) || (to == f->to && f->armed)) {
		f->bad++; /* delivered on a stream that is not Secure, or after an accepted attack */
		return;
	}
	if (ref->data_len || i >= f->n_sent[from][u] || r->len != len || memcmp(r->b, tlp, len)) {
		f->bad++; /* not the next TLP sent on its sub-stream: forged, replayed, lost before */
		return;
	}
	if (u != PCITSM_IDE_SUB_PR && f->n_got[from][PCITSM_IDE_SUB_PR] < r->p_before) {
		f->bad++; /* a Non-Posted Request or Completion passed a Posted TLP */
		return;
	}
	f->n_got[from][u]++;
}

/* A fresh TLP of sub-stream u from side `from`, identity f->seq in its address and payload. */
static void fill_tlp(struct cfx *f, enum pcitsm_ide_side from, enum pcitsm_ide_sub u,
		     struct pcitsm_tlp *t, uint8_t *data, size_t dl)
{
	uint32_t id = f->seq++;
	uint64_t addr = 0x80000000u + ((uint64_t)(id & 0xffff) << 12);

	assert_ok(pcitsm_random(&f->env.env, data, dl));
	pcitsm_put_be32(data, id);
	test_ide_tlp(t, u, rid(from), rid(!from), addr, (uint8_t)id, data, dl);
}

static size_t make_tlp(struct cfx *f, enum pcitsm_ide_side from, enum pcitsm_ide_sub u,
		       uint8_t *out, size_t cap)
{
	uint8_t data[DATA_MAX];
	struct pcitsm_tlp t;
	size_t n;

	fill_tlp(f, from, u, &t, data, 4 * (1 + rnd(f, DATA_MAX / 4)));
	assert_ok(pcitsm_tlp_encode(&t, out, cap, &n));
	return n;
}

static void sync_tlp(struct cfx *f, struct pcitsm_tlp *t)
{
	*t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_MSG, .msg_route = PCITSM_MSG_ROUTE_ID,
				  .msg_code = PCITSM_MSG_IDE_SYNC,
				  .target_id = f->port[f->a]->stream[0].rid_base,
				  .req_id = f->port[f->a]->rid };
}

/* A legitimate unit of n TLPs of sub-stream u from side `from` (then an IDE Sync when sync),
 * logged before it goes. A refusal (the stream went Insecure, the IV counter is spent) unlogs. */
static pcitsm_err send_unit(struct cfx *f, enum pcitsm_ide_side from, enum pcitsm_ide_sub u,
			    size_t n, bool sync)
{
	const uint8_t *p[PCITSM_IDE_AGG_MAX];
	size_t l[PCITSM_IDE_AGG_MAX];
	unsigned first = f->n_sent[from][u];
	pcitsm_err e;

	assert_true(n >= 1 && n <= PCITSM_IDE_AGG_MAX && first + n <= LOG_MAX);
	for (size_t i = 0; i < n; i++) {
		struct rec *r = &f->log[from][u][first + i];

		r->len = make_tlp(f, from, u, r->b, sizeof(r->b));
		r->p_before = f->p_sent[from];
		p[i] = r->b;
		l[i] = r->len;
	}
	f->n_sent[from][u] += (unsigned)n;
	if (u == PCITSM_IDE_SUB_PR)
		f->p_sent[from] += (unsigned)n;
	if (sync)
		f->port[from]->stream[0].sync_pending = true; /* a port may send one at any time */
	e = pcitsm_ide_wire_send(f->w, from, false, p, l, n);
	if (e) {
		if (e != PCITSM_E_STATE && e != PCITSM_E_OVERFLOW)
			fail_msg("send: %s", pcitsm_err_name(e));
		f->n_sent[from][u] -= (unsigned)n;
		if (u == PCITSM_IDE_SUB_PR)
			f->p_sent[from] -= (unsigned)n;
		return e;
	}
	f->sent += n;
	return PCITSM_OK;
}

static void random_step(struct cfx *f, enum pcitsm_ide_side side)
{
	enum pcitsm_ide_sub u = (enum pcitsm_ide_sub)rnd(f, PCITSM_IDE_NR_SUB);
	size_t n = 1 + rnd(f, f->unit_max[side][u]);

	(void)send_unit(f, side, u, n, u == PCITSM_IDE_SUB_PR && rnd(f, 6) == 0);
}

/* ---- the tap ---- */

static void tamper(struct cfx *f, struct pcitsm_ide_frame *fr)
{
	static const enum campaign_part part[] = {
		[K_TAMPER_PREFIX] = PART_PREFIX, [K_TAMPER_HEADER] = PART_HEADER,
		[K_TAMPER_PAYLOAD] = PART_PAYLOAD, [K_TAMPER_MAC] = PART_MAC,
	};
	size_t lo, hi;

	assert_true(f->kind <= K_TAMPER_MAC);
	assert_true(campaign_part_range(fr, part[f->kind], &lo, &hi));
	campaign_flip(fr, lo, hi, rnd(f, (uint32_t)(hi - lo) * 8));
}

static enum pcitsm_tap_verdict tap(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				   struct pcitsm_ide_frame *fr)
{
	struct cfx *f = fx;
	enum tap_mode mode = f->tmode;

	if (from != f->a)
		return PCITSM_TAP_PASS;
	if (!f->attacked && f->npast < PAST_MAX)
		f->past[f->npast++] = *fr;
	if (mode == TAP_WATCH)
		return PCITSM_TAP_PASS;
	if (mode == TAP_RELEASE) {
		if (!campaign_release_after(w, from, fr, f->release_mask))
			return PCITSM_TAP_PASS;
		f->tmode = TAP_WATCH;
		return PCITSM_TAP_DROP;
	}
	if (f->tcount++ != f->tframe)
		return PCITSM_TAP_PASS;
	f->fired = true;
	f->tmode = TAP_WATCH;
	switch (mode) {
	case TAP_DROP:
		return PCITSM_TAP_DROP;
	case TAP_HOLD:
		if (f->kind == K_REORDER_SUB)
			f->release_mask = 1u << campaign_sub(fr);
		f->tmode = TAP_RELEASE;
		return PCITSM_TAP_HOLD;
	default:
		tamper(f, fr);
		return PCITSM_TAP_PASS;
	}
}

/* ---- the forging transmitter: a's own keys and IV counters, its rules broken on purpose ---- */

struct forge {
	enum pcitsm_ide_sub sub;  /* the prefix's sub-stream, whose key seals */
	unsigned kset;            /* the key set that seals */
	uint8_t k[FORGE_MAX];     /* K of each frame */
	int pcrc;                 /* -1: as the stream wants; 0 none; 1 right; 2 wrong */
	uint8_t sync_dnpr, sync_dcpl; /* added to an IDE Sync's counts */
	struct pcitsm_gcm_key *key;   /* NULL: a's slot (kset, sub) and its counter; else this key */
	uint64_t ctr;                 /* ... at this counter */
};

static void forge(struct cfx *f, const struct pcitsm_tlp *t, size_t n, const struct forge *o)
{
	static struct pcitsm_ide_frame fr[FORGE_MAX];
	struct pcitsm_ide_stream *s = &f->port[f->a]->stream[0];
	struct pcitsm_ide_slot *sl = &s->slot[PCITSM_IDE_TX][o->sub][o->kset];
	struct pcitsm_gcm_seg seg[FORGE_MAX + 1];
	uint8_t aad[FORGE_MAX * (PCITSM_TLP_PREFIX_LEN + PCITSM_TLP_HDR_MAX)];
	uint8_t iv[PCITSM_GCM_IV_LEN] = { 0 }, crc[PCITSM_IDE_PCRC_LEN];
	uint8_t npr = s->pr_sent_npr, cpl = s->pr_sent_cpl;
	uint32_t c = PCITSM_IDE_PCRC_SEED;
	size_t aad_len = 0, nseg = 0, total = 0;
	bool p;

	assert_true(n >= 1 && n <= FORGE_MAX);
	if (!o->key && !sl->valid) {
		/* Only a broken receiver gets here: it failed the stream on legitimate traffic
		 * before the attack, and a's keys went with it. The trial is judged as it stands. */
		f->broken++;
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += t[i].data ? t[i].len : 0;
	p = o->pcrc < 0 ? s->pcrc && total : o->pcrc > 0;
	for (size_t i = 0; i < n; i++) {
		struct pcitsm_ide_prefix x = { .m = i + 1 == n, .k = o->k[i], .sub = (uint8_t)o->sub,
					       .stream_id = SID };
		size_t hl = pcitsm_tlp_hdr_len(&t[i]), len, dl;
		uint8_t *h = fr[i].data + PCITSM_TLP_PREFIX_LEN;

		x.p = x.m && p;
		if (o->sub == PCITSM_IDE_SUB_NPR) {
			x.pr_sent = npr;
			npr = 0;
		} else if (o->sub == PCITSM_IDE_SUB_CPL) {
			x.pr_sent = cpl;
			cpl = 0;
		} else {
			npr++;
			cpl++;
		}
		pcitsm_ide_prefix_encode(&x, fr[i].data);
		assert_ok(pcitsm_tlp_encode(&t[i], h, sizeof(fr[i].data) - PCITSM_TLP_PREFIX_LEN,
					    &len));
		if (t[i].kind == PCITSM_TLP_MSG && t[i].msg_code == PCITSM_MSG_IDE_SYNC) {
			h[PCITSM_IDE_MSG_SYNC_NPR_BYTE] = (uint8_t)(npr + o->sync_dnpr);
			h[PCITSM_IDE_MSG_SYNC_CPL_BYTE] = (uint8_t)(cpl + o->sync_dcpl);
			npr = cpl = 0;
		}
		memcpy(aad + aad_len, fr[i].data, PCITSM_TLP_PREFIX_LEN + hl);
		aad_len += PCITSM_TLP_PREFIX_LEN + hl;
		dl = len - hl;
		seg[nseg++] = (struct pcitsm_gcm_seg){ dl ? t[i].data : h + hl, h + hl, dl };
		if (p && dl)
			c = pcitsm_ide_pcrc_update(c, t[i].data, dl);
		fr[i].len = PCITSM_TLP_PREFIX_LEN + len;
	}
	if (p) {
		pcitsm_ide_pcrc_final(c, crc);
		if (o->pcrc == 2)
			crc[rnd(f, sizeof(crc))] ^= 0x80;
		seg[nseg++] = (struct pcitsm_gcm_seg){ crc, fr[n - 1].data + fr[n - 1].len,
						       sizeof(crc) };
		fr[n - 1].len += sizeof(crc);
	}
	pcitsm_put_be64(iv + 4, o->key ? o->ctr : sl->ctr);
	assert_ok(pcitsm_gcm_seal(o->key ? o->key : sl->key, iv, aad, aad_len, seg, nseg,
				  fr[n - 1].data + fr[n - 1].len, PCITSM_IDE_MAC_LEN));
	fr[n - 1].len += PCITSM_IDE_MAC_LEN;
	/* The transmitter's own state moves on as if it had sent these: whatever the receiver lets
	 * through, the legitimate traffic after it still verifies. */
	if (!o->key && sl->ctr != UINT64_MAX)
		sl->ctr++;
	s->pr_sent_npr = npr;
	s->pr_sent_cpl = cpl;
	for (size_t i = 0; i < n; i++)
		assert_ok(pcitsm_ide_wire_inject(f->w, f->a, fr[i].data, fr[i].len));
	pcitsm_ide_wire_run(f->w);
}

/* n TLPs of sub-stream u from a, dl bytes each (a Memory Read asks for them), as one unit under
 * key set kset; pcrc as in struct forge. */
static void forge_plain(struct cfx *f, enum pcitsm_ide_sub u, size_t n, size_t dl, int pcrc,
			unsigned kset)
{
	static uint8_t data[FORGE_MAX][PCITSM_IDE_AGG_DATA_MAX];
	struct pcitsm_tlp t[FORGE_MAX];
	struct forge o = { .sub = u, .kset = kset, .pcrc = pcrc };

	for (size_t i = 0; i < n; i++) {
		fill_tlp(f, f->a, u, &t[i], data[i], dl);
		o.k[i] = (uint8_t)kset;
	}
	forge(f, t, n, &o);
}

/* ---- a trial ---- */

static bool uses_set1(enum kind k)
{
	return k == K_SYNC_KSET || k == K_KSET_NOT_GO || k == K_K_TOGGLE || k == K_OLD_KSET;
}

static void keys(struct cfx *f, unsigned kset, bool only_a)
{
	uint8_t key[32];

	for (int s = 0; s < 2; s++) {
		if (only_a && s != (int)f->a)
			continue;
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			uint64_t ifv = 1;

			if (f->kind == K_CTR_SPENT && kset == 0 && s == (int)f->a && u == (int)f->sub_t)
				ifv = UINT64_MAX - 1 - rnd(f, 4);
			assert_ok(pcitsm_random(&f->env.env, key, sizeof(key)));
			memcpy(f->key[s][u][kset], key, sizeof(key));
			assert_ok(pcitsm_ide_key_prog_aes(f->port[s], SID, kset, PCITSM_IDE_TX,
							  (enum pcitsm_ide_sub)u, key, ifv));
			assert_ok(pcitsm_ide_key_prog_aes(f->port[!s], SID, kset, PCITSM_IDE_RX,
							  (enum pcitsm_ide_sub)u, key, ifv));
		}
	}
	pcitsm_wipe(key, sizeof(key));
}

static void establish(struct cfx *f)
{
	struct pcitsm_ide_sel sel = { 0 };
	unsigned skip_go = PCITSM_IDE_NR_SUB;

	for (int s = 0; s < 2; s++)
		assert_ok(pcitsm_ide_stream_disable(f->port[s], 0)); /* keys and held units gone */
	f->pcrc = f->kind == K_PCRC_MISSING || f->kind == K_PCRC_WRONG || rnd(f, 2);
	sel.ctl.stream_id = SID;
	sel.ctl.pcrc = f->pcrc;
	for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
		f->agg_mode[u] = (uint8_t)rnd(f, 4);
	sel.ctl.agg_pr = f->agg_mode[PCITSM_IDE_SUB_PR];
	sel.ctl.agg_npr = f->agg_mode[PCITSM_IDE_SUB_NPR];
	sel.ctl.agg_cpl = f->agg_mode[PCITSM_IDE_SUB_CPL];
	sel.rid_valid = true;
	sel.rid_base = sel.rid_limit = EP_RID;
	sel.nr_addr = 1;
	sel.addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000, 0x8fffffff };
	assert_ok(pcitsm_ide_stream_config(f->port[PCITSM_IDE_SIDE_RP], 0, &sel));
	sel.ctl.default_stream = true;
	sel.rid_base = sel.rid_limit = RP_RID;
	assert_ok(pcitsm_ide_stream_config(f->port[PCITSM_IDE_SIDE_EP], 0, &sel));
	keys(f, 0, false);
	if (uses_set1(f->kind))
		keys(f, 1, true); /* a's TX and to's RX: programmed, not started */
	if (f->kind == K_NOT_SECURE)
		skip_go = rnd(f, PCITSM_IDE_NR_SUB);
	for (int s = 0; s < 2; s++)
		for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			assert_ok(pcitsm_ide_k_set_go(f->port[s], SID, 0, PCITSM_IDE_RX, u));
			if (s != (int)f->to || u != skip_go)
				assert_ok(pcitsm_ide_k_set_go(f->port[s], SID, 0, PCITSM_IDE_TX, u));
		}
	if (f->kind == K_K_TOGGLE) /* a key refresh under way: both sets started at the receiver */
		assert_ok(pcitsm_ide_k_set_go(f->port[f->to], SID, 1, PCITSM_IDE_RX, f->sub_t));
	for (int s = 0; s < 2; s++) {
		assert_ok(pcitsm_ide_stream_enable(f->port[s], 0));
		f->port[s]->rx_aggregation = true;
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			f->unit_max[s][u] = 1u << f->agg_mode[u];
	}
	assert_int_equal(secure(f, f->to), f->kind != K_NOT_SECURE);
	assert_true(secure(f, f->a));
	if (f->kind == K_OLD_KSET) {
		/* A key refresh in a's direction (IDE_KM K_SET_GO): the receiver starts set 1, then
		 * the transmitter, which switches to it and forgets set 0. */
		for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++)
			assert_ok(pcitsm_ide_k_set_go(f->port[f->to], SID, 1, PCITSM_IDE_RX, u));
		for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++)
			assert_ok(pcitsm_ide_k_set_go(f->port[f->a], SID, 1, PCITSM_IDE_TX, u));
		assert_int_equal(f->port[f->a]->stream[0].tx_kset, 1);
	}
	if (f->kind == K_NO_AGG_RX) {
		f->port[f->to]->rx_aggregation = false;
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			f->unit_max[f->a][u] = 1;
	}
	memset(f->n_sent, 0, sizeof(f->n_sent));
	memset(f->n_got, 0, sizeof(f->n_got));
	memset(f->p_sent, 0, sizeof(f->p_sent));
	memset(f->w->stats, 0, sizeof(f->w->stats));
	f->bad = 0;
	f->armed = f->attacked = f->fired = false;
	f->tmode = TAP_WATCH;
	f->tcount = f->npast = 0;
}

/* The attack send: a unit from a (and maybe an IDE Sync after it) with the tap armed on one of
 * its frames. */
static void tap_send(struct cfx *f, enum tap_mode mode, enum pcitsm_ide_sub u, bool sync_ok,
		     bool last)
{
	size_t n = 1 + rnd(f, f->unit_max[f->a][u]);
	bool sync = sync_ok && u == PCITSM_IDE_SUB_PR && rnd(f, 3) == 0;
	unsigned frames = (unsigned)n + sync;

	f->tmode = mode;
	f->tcount = 0;
	f->tframe = last ? frames - 1 : rnd(f, frames);
	if (send_unit(f, f->a, u, n, sync)) {
		f->broken++; /* as in forge(): a failed on legitimate traffic */
		f->fired = true;
		f->tmode = TAP_WATCH;
	}
}

static void inject_ide(struct cfx *f)
{
	uint8_t b[PCITSM_TLP_PREFIX_LEN + REC_MAX + PCITSM_IDE_PCRC_LEN + PCITSM_IDE_MAC_LEN];
	enum pcitsm_ide_sub u = (enum pcitsm_ide_sub)rnd(f, PCITSM_IDE_NR_SUB);
	struct pcitsm_ide_prefix x = { .sub = (uint8_t)u, .stream_id = SID };
	size_t n;

	/* One draw per statement: the order of draws is the same whatever the compiler. */
	x.m = rnd(f, 4) != 0;
	x.k = rnd(f, 2);
	x.pr_sent = (uint8_t)rnd(f, 4);

	x.p = x.m && f->pcrc && u != PCITSM_IDE_SUB_NPR;
	pcitsm_ide_prefix_encode(&x, b);
	n = PCITSM_TLP_PREFIX_LEN + make_tlp(f, f->a, u, b + PCITSM_TLP_PREFIX_LEN, REC_MAX);
	if (x.p) {
		assert_ok(pcitsm_random(&f->env.env, b + n, PCITSM_IDE_PCRC_LEN));
		n += PCITSM_IDE_PCRC_LEN;
	}
	if (x.m) {
		assert_ok(pcitsm_random(&f->env.env, b + n, PCITSM_IDE_MAC_LEN));
		n += PCITSM_IDE_MAC_LEN;
	}
	assert_ok(pcitsm_ide_wire_inject(f->w, f->a, b, n));
	pcitsm_ide_wire_run(f->w);
}

static void inject_plain(struct cfx *f)
{
	uint8_t b[REC_MAX];
	size_t n;

	if (rnd(f, 4) == 0) {
		struct pcitsm_tlp t;

		sync_tlp(f, &t);
		assert_ok(pcitsm_tlp_encode(&t, b, sizeof(b), &n));
	} else {
		n = make_tlp(f, f->a, (enum pcitsm_ide_sub)rnd(f, PCITSM_IDE_NR_SUB), b, sizeof(b));
	}
	assert_ok(pcitsm_ide_wire_inject(f->w, f->a, b, n));
	pcitsm_ide_wire_run(f->w);
}

/* An IDE Sync, alone or last in a unit after a Memory Write. */
static void forge_sync(struct cfx *f)
{
	static uint8_t data[DATA_MAX];
	struct pcitsm_tlp t[2];
	struct forge o = { .sub = PCITSM_IDE_SUB_PR, .pcrc = -1 };
	size_t n = 1 + rnd(f, 2);

	if (n == 2)
		fill_tlp(f, f->a, PCITSM_IDE_SUB_PR, &t[0], data, 4 * (1 + rnd(f, 8)));
	sync_tlp(f, &t[n - 1]);
	if (f->kind == K_SYNC_KSET) {
		o.kset = 1;
		o.k[0] = o.k[1] = 1;
	} else {
		unsigned which = rnd(f, 3);

		if (which != 1)
			o.sync_dnpr = (uint8_t)(1 + rnd(f, 8));
		if (which != 0)
			o.sync_dcpl = (uint8_t)(1 + rnd(f, 8));
	}
	forge(f, t, n, &o);
}

/* A unit whose K toggles: the first frames under one set, the last under the other, sealed by
 * the last frame's set (both started at the receiver). */
static void forge_k_toggle(struct cfx *f)
{
	static uint8_t data[FORGE_MAX][DATA_MAX];
	struct pcitsm_tlp t[PCITSM_IDE_AGG_MAX];
	unsigned first = rnd(f, 2);
	size_t n = 2 + rnd(f, 3);
	struct forge o = { .sub = f->sub_t, .kset = !first, .pcrc = -1 };

	for (size_t i = 0; i < n; i++) {
		fill_tlp(f, f->a, f->sub_t, &t[i], data[i], 4 * (1 + rnd(f, 8)));
		o.k[i] = (uint8_t)(i + 1 == n ? !first : first);
	}
	forge(f, t, n, &o);
}

static void forge_sync_in_unit(struct cfx *f)
{
	static uint8_t data[DATA_MAX];
	struct pcitsm_tlp t[2];
	struct forge o = { .sub = PCITSM_IDE_SUB_PR, .pcrc = -1 };

	sync_tlp(f, &t[0]);
	fill_tlp(f, f->a, PCITSM_IDE_SUB_PR, &t[1], data, 4 * (1 + rnd(f, 8)));
	forge(f, t, 2, &o);
}

/* One TLP whose TC or type is not its sub-stream's. */
static void forge_misfit(struct cfx *f)
{
	static uint8_t data[DATA_MAX];
	struct pcitsm_tlp t;
	enum pcitsm_ide_sub u = (enum pcitsm_ide_sub)rnd(f, PCITSM_IDE_NR_SUB);
	struct forge o = { .sub = u, .pcrc = -1 };

	if (f->kind == K_SUB_TYPE) {
		/* A TLP of another sub-stream under this one's prefix and key. */
		enum pcitsm_ide_sub other = (enum pcitsm_ide_sub)((u + 1 + rnd(f, 2)) %
								  PCITSM_IDE_NR_SUB);

		fill_tlp(f, f->a, other, &t, data, 4 * (1 + rnd(f, 8)));
	} else {
		fill_tlp(f, f->a, u, &t, data, 4 * (1 + rnd(f, 8)));
		t.tc = (uint8_t)(1 + rnd(f, 7));
	}
	forge(f, &t, 1, &o);
}

static void attack(struct cfx *f)
{
	enum pcitsm_ide_sub any = (enum pcitsm_ide_sub)rnd(f, PCITSM_IDE_NR_SUB);
	enum pcitsm_ide_sub data_sub = rnd(f, 2) ? PCITSM_IDE_SUB_PR : PCITSM_IDE_SUB_CPL;
	size_t n;

	switch (f->kind) {
	case K_TAMPER_PREFIX:
	case K_TAMPER_HEADER:
		tap_send(f, TAP_TAMPER, any, true, false);
		break;
	case K_TAMPER_PAYLOAD:
		tap_send(f, TAP_TAMPER, data_sub, false, false);
		break;
	case K_TAMPER_MAC:
		tap_send(f, TAP_TAMPER, any, true, true);
		break;
	case K_DROP:
		tap_send(f, TAP_DROP, any, true, false);
		break;
	case K_REPLAY: {
		const struct pcitsm_ide_frame *p = &f->past[rnd(f, f->npast)];

		f->attacked = true;
		assert_ok(pcitsm_ide_wire_inject(f->w, f->a, p->data, p->len));
		pcitsm_ide_wire_run(f->w);
		f->fired = true;
		break;
	}
	case K_REORDER_SUB:
		tap_send(f, TAP_HOLD, any, true, rnd(f, 2));
		(void)send_unit(f, f->a, campaign_sub(&f->w->hold[f->a][0]), 1, false);
		break;
	case K_REORDER_CROSS:
		/* A Posted TLP held; a Non-Posted Request or Completion overtakes it. (Overtaking an
		 * IDE Sync alone misorders no data: the Sync restarts the counts the overtaker
		 * carries, and the receiver accepts it, rightly.) */
		f->release_mask = 1u << PCITSM_IDE_SUB_NPR | 1u << PCITSM_IDE_SUB_CPL;
		tap_send(f, TAP_HOLD, PCITSM_IDE_SUB_PR, false, true);
		any = rnd(f, 2) ? PCITSM_IDE_SUB_NPR : PCITSM_IDE_SUB_CPL;
		(void)send_unit(f, f->a, any, 1 + rnd(f, f->unit_max[f->a][any]), false);
		break;
	case K_LEGAL_REORDER:
		f->release_mask = 1u << PCITSM_IDE_SUB_PR;
		tap_send(f, TAP_HOLD, rnd(f, 2) ? PCITSM_IDE_SUB_NPR : PCITSM_IDE_SUB_CPL, false,
			 true);
		if (!f->broken)
			(void)send_unit(f, f->a, PCITSM_IDE_SUB_PR, 1, false);
		break;
	case K_INJECT_IDE:
		inject_ide(f);
		f->fired = true;
		break;
	case K_INJECT_PLAIN:
		inject_plain(f);
		f->fired = true;
		break;
	case K_SYNC_COUNT:
	case K_SYNC_KSET:
		forge_sync(f);
		f->fired = true;
		break;
	case K_KSET_NOT_GO:
		forge_plain(f, any, 1, 4 * (1 + rnd(f, 8)), -1, 1);
		f->fired = true;
		break;
	case K_K_TOGGLE:
		forge_k_toggle(f);
		f->fired = true;
		break;
	case K_UNIT_COUNT:
		forge_plain(f, data_sub, FORGE_MAX, 4, -1, 0);
		f->fired = true;
		break;
	case K_UNIT_BYTES: {
		/* 1024 bytes held, then a last TLP that takes the unit past 256 DW. */
		static uint8_t d0[PCITSM_IDE_AGG_DATA_MAX], d1[DATA_MAX];
		struct pcitsm_tlp t[2];
		struct forge o = { .sub = data_sub, .pcrc = -1 };

		fill_tlp(f, f->a, data_sub, &t[0], d0, PCITSM_IDE_AGG_DATA_MAX);
		fill_tlp(f, f->a, data_sub, &t[1], d1, 4 * (1 + rnd(f, 8)));
		forge(f, t, 2, &o);
		f->fired = true;
		break;
	}
	case K_MSG_IN_UNIT:
		forge_sync_in_unit(f);
		f->fired = true;
		break;
	case K_NO_AGG_RX:
		n = 2 + rnd(f, 3);
		forge_plain(f, any, n, 4 * (1 + rnd(f, 8)), -1, 0);
		f->fired = true;
		break;
	case K_PCRC_MISSING:
	case K_PCRC_WRONG:
		n = 1 + rnd(f, 2);
		forge_plain(f, data_sub, n, 4 * (1 + rnd(f, 8)),
			    f->kind == K_PCRC_MISSING ? 0 : 2, 0);
		f->fired = true;
		break;
	case K_TC:
	case K_SUB_TYPE:
		forge_misfit(f);
		f->fired = true;
		break;
	case K_CTR_SPENT: {
		struct pcitsm_ide_slot *sl = &f->port[f->a]->stream[0].slot[PCITSM_IDE_TX][f->sub_t][0];

		/* Spend the counter with legitimate TLPs (at most 4 left), then seal with the last
		 * value, which the transmitter refuses to use. */
		for (int i = 0; i < 8 && sl->ctr != UINT64_MAX; i++)
			if (send_unit(f, f->a, f->sub_t, 1, false))
				break;
		f->attacked = true;
		forge_plain(f, f->sub_t, 1, 4 * (1 + rnd(f, 8)), -1, 0);
		f->fired = true;
		break;
	}
	case K_NOT_SECURE:
		random_step(f, f->a);
		f->fired = true;
		break;
	case K_OLD_KSET: {
		/* The receiver moves to set 1 on sub_t with a legitimate TLP; then a TLP under set 0,
		 * sealed with its key at its next counter (1: set 0 was never used). */
		static uint8_t data[DATA_MAX];
		struct pcitsm_tlp t;
		struct forge o = { .sub = f->sub_t, .pcrc = -1, .key = f->old, .ctr = 1 };

		if (send_unit(f, f->a, f->sub_t, 1, false)) {
			f->broken++;
		} else {
			assert_ok(pcitsm_gcm_key_set(f->old, f->key[f->a][f->sub_t][0]));
			fill_tlp(f, f->a, f->sub_t, &t, data, 4 * (1 + rnd(f, 8)));
			forge(f, &t, 1, &o);
		}
		f->fired = true;
		break;
	}
	default:
		fail();
	}
	f->attacked = true;
}

/* Whether the attack step handed `to` the attacked TLP itself (as against dropping or holding it),
 * so that its acceptance shows now. */
static bool attack_processed(enum kind k)
{
	return k != K_DROP && k != K_REORDER_SUB && k != K_REORDER_CROSS && k != K_NOT_SECURE &&
	       k != K_LEGAL_REORDER;
}

static void trial(struct cfx *f)
{
	unsigned pre = 1 + rnd(f, 6), post = rnd(f, 6);
	uint64_t rej0, rej;
	struct tally *t;
	bool deferred = false;

	f->kind = (enum kind)rnd(f, K_COUNT);
	f->a = (enum pcitsm_ide_side)rnd(f, 2);
	f->to = !f->a;
	f->sub_t = (enum pcitsm_ide_sub)rnd(f, PCITSM_IDE_NR_SUB);
	t = &f->t[f->kind];
	establish(f);
	/* Random traffic both ways, a's first (something to replay). */
	for (unsigned i = 0; i < pre; i++)
		random_step(f, i == 0 || rnd(f, 3) ? f->a : f->to);
	rej0 = f->w->stats[f->to].rejected;
	attack(f);
	assert_true(f->fired);
	rej = f->w->stats[f->to].rejected - rej0;
	for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
		deferred |= f->port[f->to]->stream[0].rx_unit[u].n != 0;
	/* Accepted, not held for a later MAC: nothing may be delivered at `to` from now on. */
	if (!rej && !deferred && attack_processed(f->kind))
		f->armed = true;
	for (unsigned i = 0; i < post; i++)
		random_step(f, rnd(f, 3) ? f->a : f->to);
	/* Successors on every sub-stream both ways, so that a loss or a reorder has one. */
	for (int round = 0; round < 2; round++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			(void)send_unit(f, f->a, (enum pcitsm_ide_sub)u, 1, false);
			(void)send_unit(f, f->to, (enum pcitsm_ide_sub)u, 1, false);
		}
	pcitsm_ide_wire_release(f->w, f->a);
	pcitsm_ide_wire_run(f->w);
	if (f->kind == K_NOT_SECURE)
		rej = f->w->stats[f->to].rejected - rej0;
	f->rejected += f->w->stats[0].rejected + f->w->stats[1].rejected;
	t->trials++;
	if (f->kind == K_LEGAL_REORDER) {
		/* Control: everything arrives, nothing is rejected. */
		bool all = true;

		for (int s = 0; s < 2; s++)
			for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
				all &= f->n_got[s][u] == f->n_sent[s][u];
		if (f->bad || !all || f->w->stats[0].rejected || f->w->stats[1].rejected ||
		    !secure(f, f->a) || !secure(f, f->to)) {
			t->undetected++;
			print_message("legal reorder refused: bad %u, rejected %llu/%llu\n", f->bad,
				      (unsigned long long)f->w->stats[0].rejected,
				      (unsigned long long)f->w->stats[1].rejected);
		} else {
			t->accepted++;
		}
		return;
	}
	if (f->bad || (!rej && secure(f, f->to))) {
		t->undetected++;
		if (t->undetected <= 3)
			print_message("undetected: %s, dir %d, sub %d, bad deliveries %u, rejected %llu, "
				      "to Secure %d\n", kind_name[f->kind], f->a, f->sub_t, f->bad,
				      (unsigned long long)rej, secure(f, f->to));
	} else if (rej) {
		t->rejected++;
	} else {
		t->insecure++;
	}
}

static void test_tamper_campaign(void **state)
{
	struct cfx *f = *state;
	unsigned trials = campaign_count("PCITSM_CAMPAIGN_TRIALS", TRIALS_MIN);
	unsigned undetected = 0;

	if (trials < TRIALS_MIN)
		trials = TRIALS_MIN;
	for (unsigned i = 0; i < trials; i++)
		trial(f);
	print_message("campaign: %u trials, %llu TLPs sent, %llu delivered, %llu rejected\n",
		      trials, (unsigned long long)f->sent, (unsigned long long)f->delivered,
		      (unsigned long long)f->rejected);
	print_message("  %-17s %6s %16s %14s %10s\n", "kind", "trials", "rejected itself",
		      "Insecure later", "undetected");
	for (int k = 0; k < K_COUNT; k++) {
		const struct tally *t = &f->t[k];

		if (k == K_LEGAL_REORDER)
			print_message("  %-17s %6u %16s %14s %10u  (control: %u accepted in full)\n",
				      kind_name[k], t->trials, "-", "-", t->undetected, t->accepted);
		else
			print_message("  %-17s %6u %16u %14u %10u\n", kind_name[k], t->trials,
				      t->rejected, t->insecure, t->undetected);
		undetected += t->undetected;
		/* Every kind ran often enough to mean something. */
		assert_true(t->trials >= trials / K_COUNT / 2);
	}
	print_message("campaign: undetected %u, attacks on a failed stream %u\n", undetected,
		      f->broken);
	assert_int_equal(undetected, 0);
	assert_int_equal(f->broken, 0);
	assert_true(f->delivered > (uint64_t)trials * 5);
}

static int setup(void **state)
{
	struct cfx *f = calloc(1, sizeof(*f));
	unsigned seed = campaign_count("PCITSM_CAMPAIGN_SEED", SEED_DEFAULT);

	assert_non_null(f);
	pcitsm_env_test_init(&f->env, seed);
	print_message("campaign: seed %u\n", seed);
	assert_ok(pcitsm_gcm_new(&f->gcm, PCITSM_GCM_AUTO));
	assert_ok(pcitsm_ide_port_new(&f->port[0], f->gcm, &f->env.env, RP_RID));
	assert_ok(pcitsm_ide_port_new(&f->port[1], f->gcm, &f->env.env, EP_RID));
	assert_ok(pcitsm_ide_wire_new(&f->w, f->port[0], f->port[1], sink));
	assert_ok(pcitsm_gcm_key_new(f->gcm, &f->old));
	f->w->tap = tap;
	fx = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct cfx *f = *state;

	pcitsm_ide_wire_free(f->w);
	pcitsm_gcm_key_free(f->old);
	pcitsm_wipe(f->key, sizeof(f->key));
	pcitsm_ide_port_free(f->port[0]);
	pcitsm_ide_port_free(f->port[1]);
	pcitsm_gcm_free(f->gcm);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tamper_campaign, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
