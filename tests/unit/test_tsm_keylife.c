/* SPDX-License-Identifier: MIT */
/*
 * Key lifetime (docs/tsm.md "Key lifetime"): the firmware's policy refreshes a stream's keys when
 * one key has protected max_tlps TLPs or the set is max_age_ns old, under traffic, with no TLP
 * lost or rejected, the K bit switching each time and the old set stopped and wiped at both ports
 * (PCIe 6.x §6.33.3 refresh order). At the IV counter's end (PCIe 6.x §6.33: it never wraps) the
 * policy refreshes first; with refresh off the engine refuses exactly the TLP that would need the
 * last counter value, in both directions.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ide/ide_test.h"
#include "pcitsm/emu.h"
#include "pcitsm/ide.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"

#define EP_BDF "0000:01:00.0"
#define SEC 1000000000ull

/* What the tap saw: the K bit of every IDE TLP per sending side, and how often it changed. */
struct ktap {
	int last_k[2];     /* -1: no IDE TLP yet */
	unsigned toggles[2];
	uint64_t ide_tlps[2];
	struct pcitsm_ide_frame last_pr[2]; /* the last Posted Request IDE TLP each side sent */
};
static struct ktap g_tap;

static enum pcitsm_tap_verdict k_tap(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				     struct pcitsm_ide_frame *f)
{
	struct pcitsm_ide_prefix x;

	(void)w;
	if (f->len < 4 || pcitsm_ide_prefix_decode(f->data, &x) != PCITSM_OK)
		return PCITSM_TAP_PASS;
	g_tap.ide_tlps[from]++;
	if (g_tap.last_k[from] >= 0 && g_tap.last_k[from] != (int)x.k)
		g_tap.toggles[from]++;
	g_tap.last_k[from] = x.k;
	if (x.sub == PCITSM_IDE_SUB_PR)
		g_tap.last_pr[from] = *f;
	return PCITSM_TAP_PASS;
}

static struct fx *fx_new(uint64_t max_tlps, uint64_t max_age_ns)
{
	struct fx *fx = test_tsm_new(23, 0);
	struct pcitsm_tsm_key_policy p = { max_tlps, max_age_ns };
	struct pcitsm_bdf ep;

	assert_ok(pcitsm_tio_key_policy_set(fx->m.fw, &p));
	assert_ok(pcitsm_bdf_parse(EP_BDF, &ep));
	assert_int_equal(pcitsm_tsm_connect_write(fx->m.core, &ep, "tsm0", 4), 0);
	memset(&g_tap, 0, sizeof(g_tap));
	g_tap.last_k[0] = g_tap.last_k[1] = -1;
	fx->m.plat.links[0].wire->tap = k_tap;
	return fx;
}

static void fx_done(struct fx *fx)
{
	struct pcitsm_bdf ep;

	assert_ok(pcitsm_bdf_parse(EP_BDF, &ep));
	fx->m.plat.links[0].wire->tap = NULL;
	assert_int_equal(pcitsm_tsm_disconnect_write(fx->m.core, &ep, "tsm0", 4), 0);
	fx_free(fx);
}

static void status(struct fx *fx, struct pcitsm_tsm_status *st)
{
	struct pcitsm_bdf ep;

	assert_ok(pcitsm_bdf_parse(EP_BDF, &ep));
	assert_ok(pcitsm_tsm_status(fx->m.core, &ep, st));
	assert_true(st->connected && st->has_stream);
}

static void traffic(struct fx *fx, uint64_t n, struct pcitsm_tsm_traffic *r)
{
	struct pcitsm_bdf ep;

	assert_ok(pcitsm_bdf_parse(EP_BDF, &ep));
	assert_ok(pcitsm_tsm_traffic(fx->m.core, &ep, n, 64, r));
}

static struct pcitsm_ide_port *port(struct fx *fx, enum pcitsm_ide_side side)
{
	return side == PCITSM_IDE_SIDE_RP ? fx->m.plat.links[0].rp->ide_port
					  : fx->m.plat.links[0].ep->ide_port;
}

static struct pcitsm_ide_stream *stream_of(struct fx *fx, enum pcitsm_ide_side side, uint8_t id)
{
	int i = pcitsm_ide_stream_find(port(fx, side), id);

	assert_true(i >= 0);
	return &port(fx, side)->stream[i];
}

/* Every slot of key set k at both ports stopped and wiped: no key, no counter, no GO. */
static void assert_set_wiped(struct fx *fx, uint8_t id, unsigned k)
{
	for (int side = 0; side < 2; side++) {
		struct pcitsm_ide_stream *s = stream_of(fx, (enum pcitsm_ide_side)side, id);

		for (int d = 0; d < 2; d++)
			for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
				assert_false(s->slot[d][u][k].valid);
				assert_false(s->slot[d][u][k].go);
				assert_int_equal(s->slot[d][u][k].ctr, 0);
			}
	}
}

struct wire_snap {
	struct pcitsm_ide_wire_stats st[2];
};

static void snap(struct fx *fx, struct wire_snap *w)
{
	memcpy(w->st, fx->m.plat.links[0].wire->stats, sizeof(w->st));
}

/* Since the snapshot: nothing rejected or refused, every TLP sent delivered, both ways. */
static void assert_no_loss(struct fx *fx, const struct wire_snap *a)
{
	const struct pcitsm_ide_wire_stats *b = fx->m.plat.links[0].wire->stats;

	for (int side = 0; side < 2; side++) {
		assert_int_equal(b[side].rejected - a->st[side].rejected, 0);
		assert_int_equal(b[side].tx_refused - a->st[side].tx_refused, 0);
		assert_true(b[side].sent - a->st[side].sent > 0);
		assert_int_equal(b[side].delivered - a->st[side].delivered,
				 b[side].sent - a->st[side].sent);
	}
}

/* ---------------------------------------------------------------------------------------------
 * The count limit under continuous traffic both ways.
 */
static void count_refresh_under_traffic(void **state)
{
	struct fx *fx = fx_new(40, 0);
	struct pcitsm_tsm_traffic r;
	struct pcitsm_tsm_status st, st1;
	struct wire_snap w;

	(void)state;
	status(fx, &st);
	assert_true(st.keys.valid);
	assert_int_equal(st.keys.policy.max_tlps, 40);
	assert_int_equal(st.keys.tlps, 0);
	snap(fx, &w);
	/* One long run: 600 operations, each a write and a read-back, alternating directions. */
	traffic(fx, 600, &r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.reads, 600);
	assert_true(r.key_refreshes >= 6);
	assert_no_loss(fx, &w);
	print_message("600 operations: %" PRIu64 " refreshes, %" PRIu64 " IDE TLPs, 0 lost\n",
		      r.key_refreshes, r.tlps_secure);
	/* Each refresh switched the K bit once in each direction, and only then. */
	assert_int_equal(g_tap.toggles[PCITSM_IDE_SIDE_RP], r.key_refreshes);
	assert_int_equal(g_tap.toggles[PCITSM_IDE_SIDE_EP], r.key_refreshes);
	status(fx, &st1);
	assert_int_equal(st1.rekeys - st.rekeys, r.key_refreshes);
	assert_int_equal(st1.keys.refreshes, r.key_refreshes);
	assert_int_equal(st1.key_set, (st.key_set + r.key_refreshes) & 1);
	assert_int_equal(g_tap.last_k[PCITSM_IDE_SIDE_RP], st1.key_set);
	assert_int_equal(g_tap.last_k[PCITSM_IDE_SIDE_EP], st1.key_set);
	assert_true(st1.keys.tlps_key < 40);
	assert_int_equal(st1.keys.next_tlps, 40 - st1.keys.tlps_key);
	assert_int_equal(st1.rp.state, PCITSM_IDE_STATE_SECURE);
	assert_int_equal(st1.ep.state, PCITSM_IDE_STATE_SECURE);
	/* Operation by operation: at each refresh the K bit switches and the old set is gone at
	 * both ports. */
	for (int round = 0; round < 3; round++) {
		unsigned ops = 0, before = g_tap.toggles[PCITSM_IDE_SIDE_RP];
		uint8_t k;

		status(fx, &st);
		k = st.key_set;
		do {
			traffic(fx, 1, &r);
			assert_int_equal(r.failures, 0);
			assert_true(++ops < 200);
		} while (!r.key_refreshes);
		status(fx, &st1);
		assert_int_equal(st1.key_set, k ^ 1);
		assert_set_wiped(fx, st1.stream_id, k);
		assert_int_equal(g_tap.toggles[PCITSM_IDE_SIDE_RP], before + 1);
		assert_int_equal(g_tap.last_k[PCITSM_IDE_SIDE_RP], k ^ 1);
		assert_int_equal(g_tap.last_k[PCITSM_IDE_SIDE_EP], k ^ 1);
	}
	assert_no_loss(fx, &w);
	fx_done(fx);
}

/* Exactly at the limit: a key that has protected max_tlps TLPs is refreshed before the next
 * operation, one that has protected one fewer is not. */
static void count_threshold_exact(void **state)
{
	struct fx *fx = fx_new(10, 0);
	struct pcitsm_tsm_traffic r;
	struct pcitsm_tsm_status st;

	(void)state;
	/* 19 operations: the root port's Posted Request key has sent 10 (operations 0, 2, .., 18);
	 * the check before operation 18 saw 9. */
	traffic(fx, 19, &r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.key_refreshes, 0);
	status(fx, &st);
	assert_int_equal(st.key_set, 0);
	assert_int_equal(st.keys.tlps_key, 10);
	assert_int_equal(st.keys.next_tlps, 0);
	assert_int_equal(st.keys.next_ns, UINT64_MAX);
	/* 10 + 9 on PR, 10 + 9 on NPR, 9 + 10 completions: 57 TLPs on the set. */
	assert_int_equal(st.keys.tlps, 57);
	traffic(fx, 1, &r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.key_refreshes, 1);
	status(fx, &st);
	assert_int_equal(st.key_set, 1);
	/* The new set carried the link flush (one TLP per key) and this operation. */
	assert_int_equal(st.keys.tlps_key, 2);
	assert_int_equal(st.keys.next_tlps, 8);
	assert_set_wiped(fx, st.stream_id, 0);
	fx_done(fx);
}

/* The age limit from the firmware's clock (the test clock moves only when told). */
static void age_threshold_exact(void **state)
{
	struct fx *fx = fx_new(0, 5 * SEC);
	struct pcitsm_tsm_traffic r;
	struct pcitsm_tsm_status st;

	(void)state;
	traffic(fx, 4, &r);
	assert_int_equal(r.key_refreshes, 0);
	status(fx, &st);
	assert_true(st.keys.refresh_on);
	assert_true(st.keys.age_ns < 5 * SEC);
	assert_int_equal(st.keys.next_ns, 5 * SEC - st.keys.age_ns);
	/* Only the cap bounds the count while the policy names an age alone. */
	assert_int_equal(st.keys.next_tlps, PCITSM_TSM_KEY_MAX_TLPS_CAP - st.keys.tlps_key);
	/* One nanosecond short of the limit: no refresh. */
	fx->env.clock_ns += st.keys.next_ns - 1;
	status(fx, &st);
	assert_int_equal(st.keys.age_ns, 5 * SEC - 1);
	traffic(fx, 1, &r);
	assert_int_equal(r.key_refreshes, 0);
	/* At the limit: refreshed before the next operation, and the age starts again. */
	status(fx, &st);
	fx->env.clock_ns += st.keys.next_ns;
	traffic(fx, 1, &r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.key_refreshes, 1);
	status(fx, &st);
	assert_int_equal(st.key_set, 1);
	assert_true(st.keys.age_ns < SEC);
	assert_set_wiped(fx, st.stream_id, 0);
	fx_done(fx);
}

/* ---------------------------------------------------------------------------------------------
 * The IV counter's end.
 */
/* The key of `dir` at side `from`'s transmitter and its partner's receiver continue at ifv. */
static void counters_near_end(struct fx *fx, enum pcitsm_ide_side from, uint64_t ifv)
{
	struct pcitsm_tsm_status st;

	status(fx, &st);
	assert_ok(pcitsm_ide_test_slot_ifv(port(fx, from), st.stream_id, st.key_set, PCITSM_IDE_TX,
					   PCITSM_IDE_SUB_PR, ifv));
	assert_ok(pcitsm_ide_test_slot_ifv(port(fx, !from), st.stream_id, st.key_set,
					   PCITSM_IDE_RX, PCITSM_IDE_SUB_PR, ifv));
}

/* With the default policy a set whose counter is 3 short of the end is refreshed before traffic
 * stops: the root port's transmitter (TX) and its receiver (RX, the endpoint's DMA). */
static void wrap_refreshed(enum pcitsm_ide_side from, uint64_t max_tlps)
{
	struct fx *fx = fx_new(max_tlps, PCITSM_TSM_KEY_MAX_AGE_DEFAULT_NS);
	struct pcitsm_tsm_traffic r;
	struct pcitsm_tsm_status st;
	struct wire_snap w;

	traffic(fx, 8, &r);
	assert_int_equal(r.key_refreshes, 0);
	counters_near_end(fx, from, UINT64_MAX - 3);
	status(fx, &st);
	assert_true(st.keys.tlps_key >= UINT64_MAX - 5);
	assert_int_equal(st.keys.next_tlps, 0);
	snap(fx, &w);
	traffic(fx, 40, &r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.key_refreshes, 1);
	assert_no_loss(fx, &w);
	status(fx, &st);
	assert_int_equal(st.key_set, 1);
	assert_true(st.keys.tlps_key < 40);
	assert_set_wiped(fx, st.stream_id, 0);
	fx_done(fx);
}

static void wrap_refreshed_tx(void **state)
{
	(void)state;
	wrap_refreshed(PCITSM_IDE_SIDE_RP, PCITSM_TSM_KEY_MAX_TLPS_DEFAULT);
}

static void wrap_refreshed_rx(void **state)
{
	(void)state;
	wrap_refreshed(PCITSM_IDE_SIDE_EP, PCITSM_TSM_KEY_MAX_TLPS_DEFAULT);
}

/* A policy that names only an age still refreshes at the count cap, long before the end. */
static void wrap_refreshed_age_only(void **state)
{
	(void)state;
	wrap_refreshed(PCITSM_IDE_SIDE_RP, 0);
	wrap_refreshed(PCITSM_IDE_SIDE_EP, 0);
}

/* Refresh off: side `from` writes until its Posted Request key's counter is at its last value;
 * exactly that write is refused at the transmitter (E_OVERFLOW), nothing goes on the wire, the
 * counter stays at its end (no wrap to 0) and the stream stays Secure. The partner's receiver,
 * at the same end, refuses a replay of the last TLP without opening it. */
static void wrap_refused(enum pcitsm_ide_side from)
{
	struct fx *fx = fx_new(0, 0);
	struct pcitsm_emu_link *l = &fx->m.plat.links[0];
	struct pcitsm_ide_wire_stats *ws = l->wire->stats;
	uint64_t at = l->side[!from].base;
	struct pcitsm_tsm_traffic r;
	struct pcitsm_tsm_status st;
	struct pcitsm_ide_stream *tx, *rx;
	uint8_t buf[64] = { 1, 2, 3 };
	uint64_t sent, rejected;

	status(fx, &st);
	assert_false(st.keys.refresh_on);
	assert_int_equal(st.keys.next_tlps, UINT64_MAX);
	counters_near_end(fx, from, UINT64_MAX - 3);
	tx = stream_of(fx, from, st.stream_id);
	rx = stream_of(fx, !from, st.stream_id);
	for (int i = 0; i < 3; i++)
		assert_ok(pcitsm_emu_mem_write(l, from, at, buf, sizeof(buf)));
	assert_true(tx->slot[PCITSM_IDE_TX][PCITSM_IDE_SUB_PR][0].ctr == UINT64_MAX);
	assert_true(rx->slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][0].ctr == UINT64_MAX);
	sent = ws[!from].sent;
	assert_err(pcitsm_emu_mem_write(l, from, at, buf, sizeof(buf)), PCITSM_E_OVERFLOW);
	assert_int_equal(ws[!from].sent, sent);
	assert_true(tx->slot[PCITSM_IDE_TX][PCITSM_IDE_SUB_PR][0].ctr == UINT64_MAX);
	assert_int_equal(tx->state, PCITSM_IDE_SECURE);
	assert_int_equal(rx->state, PCITSM_IDE_SECURE);
	/* The traffic path sees the refusal too; the policy, off, refreshes nothing. */
	traffic(fx, 2, &r);
	assert_int_equal(r.key_refreshes, 0);
	assert_true(r.failures > 0);
	/* The receiver at its end: the last Posted Request again is refused. */
	assert_true(g_tap.last_pr[from].len > 0);
	sent = ws[!from].delivered;
	rejected = ws[!from].rejected;
	assert_ok(pcitsm_ide_wire_inject(l->wire, from, g_tap.last_pr[from].data,
					 g_tap.last_pr[from].len));
	pcitsm_ide_wire_run(l->wire);
	assert_int_equal(ws[!from].rejected, rejected + 1);
	assert_int_equal(ws[!from].delivered, sent);
	fx_done(fx);
}

static void wrap_refused_tx(void **state)
{
	(void)state;
	wrap_refused(PCITSM_IDE_SIDE_RP);
}

static void wrap_refused_rx(void **state)
{
	(void)state;
	wrap_refused(PCITSM_IDE_SIDE_EP);
}

/* ---------------------------------------------------------------------------------------------
 * The setting.
 */
static void policy_setting(void **state)
{
	struct fx *fx = fx_new(100, 0);
	struct pcitsm_tsm_key_policy p = { PCITSM_TSM_KEY_MAX_TLPS_CAP + 1, 0 }, q;
	struct pcitsm_tio_cfg fc = { 0 };
	struct pcitsm_tio_fw *fw = NULL;
	struct pcitsm_bdf ep, none;
	bool refreshed = true;

	(void)state;
	/* Above the cap: refused, the policy unchanged. */
	assert_err(pcitsm_tio_key_policy_set(fx->m.fw, &p), PCITSM_E_RANGE);
	pcitsm_tio_key_policy_get(fx->m.fw, &q);
	assert_int_equal(q.max_tlps, 100);
	p.max_tlps = PCITSM_TSM_KEY_MAX_TLPS_CAP;
	assert_ok(pcitsm_tio_key_policy_set(fx->m.fw, &p));
	pcitsm_tio_key_policy_get(fx->m.fw, &q);
	assert_int_equal(q.max_tlps, PCITSM_TSM_KEY_MAX_TLPS_CAP);
	assert_err(pcitsm_tio_key_policy_set(fx->m.fw, NULL), PCITSM_E_INVAL);
	/* The same check at TIO_INIT; no policy given: the defaults. */
	fc.env = &fx->env.env;
	pcitsm_emu_rp_keys(&fx->m.plat, &fc.rp_keys);
	p.max_tlps = PCITSM_TSM_KEY_MAX_TLPS_CAP + 1;
	fc.key_policy = &p;
	assert_err(pcitsm_tio_fw_new(&fw, &fc), PCITSM_E_RANGE);
	assert_null(fw);
	fc.key_policy = NULL;
	assert_ok(pcitsm_tio_fw_new(&fw, &fc));
	pcitsm_tio_key_policy_get(fw, &q);
	assert_int_equal(q.max_tlps, PCITSM_TSM_KEY_MAX_TLPS_DEFAULT);
	assert_int_equal(q.max_age_ns, PCITSM_TSM_KEY_MAX_AGE_DEFAULT_NS);
	pcitsm_tio_fw_free(fw);
	/* The host's check: nothing due, nothing done; errors for what is not connected. */
	assert_ok(pcitsm_bdf_parse(EP_BDF, &ep));
	assert_ok(pcitsm_tsm_key_check(fx->m.core, &ep, &refreshed));
	assert_false(refreshed);
	assert_err(pcitsm_tsm_key_check(fx->m.core, &ep, NULL), PCITSM_E_INVAL);
	assert_ok(pcitsm_bdf_parse("0000:07:00.0", &none));
	assert_err(pcitsm_tsm_key_check(fx->m.core, &none, &refreshed), PCITSM_E_NOTFOUND);
	/* A rekey asked for ends like a policy refresh: old set stopped at both ports. */
	assert_ok(pcitsm_tsm_rekey(fx->m.core, &ep));
	{
		struct pcitsm_tsm_status st;

		status(fx, &st);
		assert_int_equal(st.key_set, 1);
		assert_int_equal(st.keys.refreshes, 0);
		assert_set_wiped(fx, st.stream_id, 0);
	}
	assert_int_equal(pcitsm_tsm_disconnect_write(fx->m.core, &ep, "tsm0", 4), 0);
	assert_err(pcitsm_tsm_key_check(fx->m.core, &ep, &refreshed), PCITSM_E_STATE);
	assert_int_equal(pcitsm_tsm_connect_write(fx->m.core, &ep, "tsm0", 4), 0);
	fx_done(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(count_refresh_under_traffic),
		cmocka_unit_test(count_threshold_exact),
		cmocka_unit_test(age_threshold_exact),
		cmocka_unit_test(wrap_refreshed_tx),
		cmocka_unit_test(wrap_refreshed_rx),
		cmocka_unit_test(wrap_refreshed_age_only),
		cmocka_unit_test(wrap_refused_tx),
		cmocka_unit_test(wrap_refused_rx),
		cmocka_unit_test(policy_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
