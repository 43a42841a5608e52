/* SPDX-License-Identifier: MIT */
/*
 * The emulated link with its tap: on a Secure stream the tap sees no plaintext payload; IDE Sync
 * flows by itself; a key refresh under continuous traffic loses and rejects nothing. The tamper
 * campaign is tests/unit/test_ide_campaign.c.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

#define RP_RID 0x0008
#define EP_RID 0x0100
#define SID 3
#define LOG_MAX 64
#define TLP_SMALL 96

struct rec {
	uint8_t b[TLP_SMALL];
	size_t len;
};

struct lfx {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *port[2];
	struct pcitsm_ide_wire *w;
	/* What each side sent (the last LOG_MAX, a ring) and how many arrived, per sub-stream. */
	struct rec sent[2][3][LOG_MAX];
	unsigned n_sent[2][3], n_got[2][3];
	unsigned corrupted;
	uint64_t delivered;
	/* The tap. */
	const uint8_t *secret;
	size_t secret_len;
	unsigned plain_seen, frames;
};

static struct lfx *fx; /* the sink and tap reach the fixture through it */

static enum pcitsm_ide_sub sub_of_bytes(const uint8_t *t)
{
	uint8_t type = t[0] & 0x1f;

	if (type == 0x0a)
		return PCITSM_IDE_SUB_CPL;
	return (t[0] & 0x40) && type == 0 ? PCITSM_IDE_SUB_PR : PCITSM_IDE_SUB_NPR;
}

static void sink(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to,
		 const struct pcitsm_tlp_ref *tlp, bool tee)
{
	enum pcitsm_ide_side from = !to;
	enum pcitsm_ide_sub u = sub_of_bytes(tlp->hdr);
	unsigned i = fx->n_got[from][u]++;

	fx->delivered++;
	/* Exactly the next TLP sent on that sub-stream, or it is corrupted. */
	const struct rec *r = &fx->sent[from][u][i % LOG_MAX];

	if (i >= fx->n_sent[from][u] || r->len != tlp->hdr_len + tlp->data_len ||
	    memcmp(r->b, tlp->hdr, tlp->hdr_len) ||
	    (tlp->data_len && memcmp(r->b + tlp->hdr_len, tlp->data, tlp->data_len)))
		fx->corrupted++;
}

static void establish(struct lfx *f)
{
	for (int s = 0; s < 2; s++)
		assert_ok(pcitsm_ide_stream_disable(f->port[s], 0));
	test_ide_keys(f->port[0], f->port[1], &f->env.env, SID, 0);
	test_ide_go(f->port[0], f->port[1], SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->port[0], f->port[1], SID, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(f->port[1], 0));
	assert_ok(pcitsm_ide_stream_enable(f->port[0], 0));
	memset(f->n_sent, 0, sizeof(f->n_sent));
	memset(f->n_got, 0, sizeof(f->n_got));
	memset(f->w->stats, 0, sizeof(f->w->stats));
}

static int setup(void **state)
{
	struct lfx *f = calloc(1, sizeof(*f));
	struct pcitsm_ide_sel s = { 0 };

	pcitsm_env_test_init(&f->env, 2026);
	assert_ok(pcitsm_gcm_new(&f->gcm, PCITSM_GCM_AUTO));
	assert_ok(pcitsm_ide_port_new(&f->port[0], f->gcm, &f->env.env, RP_RID));
	assert_ok(pcitsm_ide_port_new(&f->port[1], f->gcm, &f->env.env, EP_RID));
	s.ctl.stream_id = SID;
	s.ctl.agg_pr = 2;
	s.rid_valid = true;
	s.rid_base = s.rid_limit = EP_RID;
	s.nr_addr = 1;
	s.addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000, 0x8fffffff };
	assert_ok(pcitsm_ide_stream_config(f->port[0], 0, &s));
	s.ctl.default_stream = true;
	s.rid_base = s.rid_limit = RP_RID;
	assert_ok(pcitsm_ide_stream_config(f->port[1], 0, &s));
	assert_ok(pcitsm_ide_wire_new(&f->w, f->port[0], f->port[1], sink));
	establish(f);
	fx = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct lfx *f = *state;

	pcitsm_ide_wire_free(f->w);
	pcitsm_ide_port_free(f->port[0]);
	pcitsm_ide_port_free(f->port[1]);
	pcitsm_gcm_free(f->gcm);
	free(f);
	return 0;
}

static uint32_t rnd(struct lfx *f, uint32_t n)
{
	uint32_t r;

	assert_ok(pcitsm_random(&f->env.env, &r, sizeof(r)));
	return r % n;
}

/* A random TLP of sub-stream u from side `from`, payload 4..len_max bytes. */
static size_t make(struct lfx *f, enum pcitsm_ide_side from, enum pcitsm_ide_sub u,
		   size_t len_max, uint8_t *out)
{
	uint8_t data[64];
	size_t dl = 4 * (1 + rnd(f, (uint32_t)len_max / 4)), n;
	uint8_t tag = (uint8_t)rnd(f, 256);
	uint64_t addr = 0x80000000 + 4 * rnd(f, 1 << 20);
	struct pcitsm_tlp t;

	assert_ok(pcitsm_random(&f->env.env, data, dl));
	test_ide_tlp(&t, u, from ? EP_RID : RP_RID, from ? RP_RID : EP_RID, addr, tag, data, dl);
	assert_ok(pcitsm_tlp_encode(&t, out, TLP_SMALL, &n));
	return n;
}

/* Send n TLPs of sub-stream u from `from` as one unit, logging them first. */
static void send(struct lfx *f, enum pcitsm_ide_side from, enum pcitsm_ide_sub u, size_t n)
{
	const uint8_t *p[4];
	size_t l[4];
	pcitsm_err e;

	for (size_t i = 0; i < n; i++) {
		struct rec *r = &f->sent[from][u][f->n_sent[from][u]++ % LOG_MAX];

		r->len = make(f, from, u, 64, r->b);
		p[i] = r->b;
		l[i] = r->len;
	}
	e = pcitsm_ide_wire_send(f->w, from, false, p, l, n);
	if (e) {
		/* Refused (the stream went Insecure): not sent; the test's counts then fail. */
		assert_int_equal(e, PCITSM_E_STATE);
		f->n_sent[from][u] -= (unsigned)n;
	}
}

/* The tap on a Secure stream: every frame is an IDE TLP, and no 8-byte piece of any plaintext
 * payload sent (fx->secret, all of it, at every offset a multiple of 4) appears in it. */
static enum pcitsm_tap_verdict tap_plain(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
					 struct pcitsm_ide_frame *fr)
{
	assert_int_equal(fr->data[0], PCITSM_IDE_PFX_BYTE0);
	fx->frames++;
	for (size_t off = 0; off + 8 <= fx->secret_len; off += 4)
		if (memmem(fr->data, fr->len, fx->secret + off, 8))
			fx->plain_seen++;
	return PCITSM_TAP_PASS;
}

/* Memory Writes from the root port (32- and 64-bit addresses), Completions with data from the
 * endpoint, and aggregated units, payloads 4 to 4096 bytes. */
static void test_tap_sees_no_plaintext(void **state)
{
	struct lfx *f = *state;
	static uint8_t data[4096], tlp[4][4200];
	size_t n[4], sent = 0;

	f->w->tap = tap_plain;
	f->secret = data;
	for (size_t len = 4; len <= 4096; len *= 2) {
		struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = RP_RID, .first_be = 0xf,
					.last_be = len > 4 ? 0xf : 0, .addr = 0x80000000,
					.data = data, .len = len };
		struct pcitsm_tlp c = { .kind = PCITSM_TLP_CPLD, .cpl_id = EP_RID, .req_id = RP_RID,
					.byte_count = (uint16_t)len, .data = data, .len = len };
		const uint8_t *p[4] = { tlp[0], tlp[1], tlp[2], tlp[3] };

		assert_ok(pcitsm_random(&f->env.env, data, len));
		f->secret_len = len;
		assert_ok(pcitsm_tlp_encode(&t, tlp[0], sizeof(tlp[0]), &n[0]));
		assert_ok(pcitsm_ide_wire_send(f->w, PCITSM_IDE_SIDE_RP, false, p, n, 1));
		assert_ok(pcitsm_tlp_encode(&c, tlp[0], sizeof(tlp[0]), &n[0]));
		assert_ok(pcitsm_ide_wire_send(f->w, PCITSM_IDE_SIDE_EP, false, p, n, 1));
		sent += 2;
		if (len > 256)
			continue;
		/* A unit of two posted writes (the stream allows up to 4), the second above 4 GiB is
		 * outside the window, so both at 32-bit addresses; payload split between them. */
		t.len = len >= 8 ? len / 2 : len;
		t.last_be = t.len > 4 ? 0xf : 0;
		assert_ok(pcitsm_tlp_encode(&t, tlp[0], sizeof(tlp[0]), &n[0]));
		t.data = data + (len - t.len);
		t.addr += 0x1000;
		assert_ok(pcitsm_tlp_encode(&t, tlp[1], sizeof(tlp[1]), &n[1]));
		assert_ok(pcitsm_ide_wire_send(f->w, PCITSM_IDE_SIDE_RP, false, p, n, 2));
		sent += 2;
	}
	assert_int_equal(f->plain_seen, 0);
	assert_true(f->frames >= sent);
	assert_int_equal(f->w->stats[PCITSM_IDE_SIDE_EP].delivered +
				 f->w->stats[PCITSM_IDE_SIDE_RP].delivered, sent);
	assert_int_equal(f->w->stats[PCITSM_IDE_SIDE_EP].rejected, 0);
	assert_int_equal(f->w->stats[PCITSM_IDE_SIDE_RP].rejected, 0);
	f->w->tap = NULL;
}

static void test_sync_and_refresh_under_traffic(void **state)
{
	struct lfx *f = *state;
	unsigned k = 0, refreshes = 0;
	uint64_t sent = 0;

	/* 2000 rounds of traffic on all six (direction, sub-stream) pairs, aggregated and not, with
	 * a key refresh every 250 rounds after the first 250 (posted only, for IDE Sync), the
	 * transmitters switching one sub-stream at a time. */
	for (int i = 0; i < 2000; i++) {
		int phase = i < 250 ? -1 : i % 250;

		if (phase == 10) {
			k ^= 1;
			refreshes++;
			test_ide_keys(f->port[0], f->port[1], &f->env.env, SID, k);
		} else if (phase == 20) {
			test_ide_go(f->port[0], f->port[1], SID, k, PCITSM_IDE_RX);
		} else if (phase >= 30 && phase < 36) {
			assert_ok(pcitsm_ide_k_set_go(f->port[phase % 2], SID, k, PCITSM_IDE_TX,
						      (phase - 30) / 2));
		}
		for (int s = 0; s < 2; s++) {
			send(f, s, PCITSM_IDE_SUB_PR, 1 + (i & 3));
			/* The first 250 rounds are posted only, so the counters reach 245. */
			if (i >= 250 && i % 3 == 0)
				send(f, s, PCITSM_IDE_SUB_NPR, 1);
			if (i >= 250 && i % 5 == 0)
				send(f, s, PCITSM_IDE_SUB_CPL, 1);
		}
	}
	for (int s = 0; s < 2; s++) {
		assert_int_equal(f->w->stats[s].rejected, 0);
		assert_int_equal(f->w->stats[s].tx_refused, 0);
		assert_int_equal(pcitsm_ide_stream_state(f->port[s], 0), PCITSM_IDE_SECURE);
		assert_true(f->port[s]->stream[0].stats.tx_syncs >= 2);
		assert_int_equal(f->port[s]->stream[0].tx_kset, k);
		/* Every receiver switched on the first TLP with the toggled K and dropped the old
		 * set; the transmitters' old set is gone too. */
		for (int u = 0; u < 3; u++) {
			assert_int_equal(f->port[s]->stream[0].rx_kset[u], k);
			assert_false(f->port[s]->stream[0].slot[PCITSM_IDE_RX][u][!k].valid);
			assert_false(f->port[s]->stream[0].slot[PCITSM_IDE_TX][u][!k].valid);
			/* Zero loss: everything sent on each sub-stream arrived, in order. */
			assert_int_equal(f->n_got[s][u], f->n_sent[s][u]);
			sent += f->n_sent[s][u];
		}
	}
	assert_int_equal(f->corrupted, 0);
	print_message("refresh under traffic: %u refreshes, %llu TLPs sent, all delivered, "
		      "0 rejected\n", refreshes, (unsigned long long)sent);
	assert_int_equal(refreshes, 7);
}

/* Log and send n TLPs of sub-stream u from `from` with pcitsm_ide_wire_send_burst. */
static pcitsm_err send_burst(struct lfx *f, enum pcitsm_ide_side from, enum pcitsm_ide_sub u,
			     size_t n, bool tee, size_t *done)
{
	struct pcitsm_tlp_ref p[LOG_MAX];
	pcitsm_err e;

	assert_true(n <= LOG_MAX);
	for (size_t i = 0; i < n; i++) {
		struct rec *r = &f->sent[from][u][f->n_sent[from][u]++ % LOG_MAX];
		struct pcitsm_tlp t;

		r->len = make(f, from, u, 64, r->b);
		p[i] = (struct pcitsm_tlp_ref){ r->b, r->len, NULL, 0 };
		/* Every other TLP with a payload in two parts: header, and the payload where it
		 * lies (sealed from there). */
		assert_ok(pcitsm_tlp_decode(r->b, r->len, &t));
		if (t.data && i % 2)
			p[i] = (struct pcitsm_tlp_ref){ r->b, pcitsm_tlp_hdr_len(&t), t.data,
							t.len };
	}
	e = pcitsm_ide_wire_send_burst(f->w, from, tee, p, n, done);
	f->n_sent[from][u] -= (unsigned)(n - *done);
	return e;
}

static unsigned tap_calls, tap_drop_at;
static enum pcitsm_tap_verdict tap_count(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
					 struct pcitsm_ide_frame *fr)
{
	return ++tap_calls == tap_drop_at ? PCITSM_TAP_DROP : PCITSM_TAP_PASS;
}

/* Bursts: every TLP delivered once, in order and intact, over both engines' burst calls, across
 * the IDE Syncs the PR_Sent counters ask for (245 posted TLPs, PCIe 6.x §6.33) and both
 * directions; with a tap, the tap acts on each TLP as with single sends; a T=1 burst without a
 * Secure stream is refused at its first TLP; a link without streams carries a burst in the clear,
 * and a tap there acts on each TLP as with single sends. */
static void test_burst(void **state)
{
	struct lfx *f = *state;
	size_t done, total = 0;
	uint64_t syncs;

	for (int k = 0; k < 13; k++) {
		assert_ok(send_burst(f, PCITSM_IDE_SIDE_RP, PCITSM_IDE_SUB_PR, 48, false, &done));
		assert_int_equal(done, 48);
		assert_ok(send_burst(f, PCITSM_IDE_SIDE_EP, PCITSM_IDE_SUB_CPL, 7, false, &done));
		total += 48 + 7;
	}
	assert_int_equal(f->corrupted, 0);
	assert_int_equal(f->delivered, total);
	assert_int_equal(f->n_got[0][PCITSM_IDE_SUB_PR], 13 * 48);
	syncs = f->port[1]->stream[0].stats.rx_syncs;
	assert_true(syncs >= 2); /* 624 posted TLPs: an IDE Sync at least every 245 */
	assert_int_equal(f->w->stats[1].rejected, 0);
	assert_int_equal(f->w->stats[0].rejected, 0);

	/* no Secure stream: the T=1 burst is refused before anything leaves, T=0 goes in clear */
	for (int s = 0; s < 2; s++)
		assert_ok(pcitsm_ide_stream_disable(f->port[s], 0));
	memset(f->n_sent, 0, sizeof(f->n_sent));
	memset(f->n_got, 0, sizeof(f->n_got));
	f->delivered = 0;
	f->corrupted = 0;
	assert_err(send_burst(f, PCITSM_IDE_SIDE_RP, PCITSM_IDE_SUB_PR, 10, true, &done),
		   PCITSM_E_STATE);
	assert_int_equal(done, 0);
	assert_int_equal(f->delivered, 0);
	assert_ok(send_burst(f, PCITSM_IDE_SIDE_RP, PCITSM_IDE_SUB_PR, 40, false, &done));
	assert_int_equal(done, 40);
	assert_int_equal(f->delivered, 40);
	assert_int_equal(f->corrupted, 0);
	/* a tap: called once per TLP, as with single sends; a TLP it drops is not delivered */
	f->w->tap = tap_count;
	tap_calls = 0;
	tap_drop_at = 5;
	f->delivered = 0;
	assert_ok(send_burst(f, PCITSM_IDE_SIDE_RP, PCITSM_IDE_SUB_PR, 20, false, &done));
	assert_int_equal(tap_calls, 20);
	assert_int_equal(f->delivered, 19);
	f->w->tap = NULL;
	/* E_INVAL for no done or no arrays */
	assert_err(pcitsm_ide_wire_send_burst(f->w, PCITSM_IDE_SIDE_RP, false, NULL, 1, &done),
		   PCITSM_E_INVAL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tap_sees_no_plaintext),
		T(test_sync_and_refresh_under_traffic),
		T(test_burst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
