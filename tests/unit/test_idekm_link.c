/* SPDX-License-Identifier: MIT */
/*
 * The one IDE_KM programming sequence (pcitsm_idekm_program_link) against our responder and a real
 * root-port engine: the order of its operations (receivers at both ends before any transmitter),
 * the QUERY_RESP cross-check and its messages, a refused KEY_PROG; and the responder's PortIndex
 * setting: index 0 and 1 for QUERY, KEY_PROG, K_SET_GO and K_SET_STOP, an index other than the
 * QUERY's, an index outside the setting, and the two orders reference requesters use (DMTF
 * spdm-emu: KEY_PROG and K_SET_GO interleaved per sub-stream; TF-RMM: every KEY_PROG, then K_SET_GO
 * Rx at both ends, then Tx).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "testutil.h"

#define SID 5
#define S1 0x1001u

/* One recorded operation: which end, which object, key set / direction / sub-stream. */
struct op {
	bool partner;
	uint8_t obj; /* PCITSM_IDEKM_QUERY, _KEY_PROG, _K_SET_GO, _K_SET_STOP; 0xee for Enable */
	uint8_t port_index;
	enum pcitsm_ide_dir dir;
	enum pcitsm_ide_sub sub;
};
#define OP_ENABLE 0xee

struct fx {
	struct test_ide_link l;
	struct pcitsm_idekm_rsp rsp;
	struct pcitsm_idekm_req rq;
	struct op ops[64];
	unsigned nr_ops;
	bool order_violated;
	/* Faults the device transport applies to the responder's answers. */
	int truncate;         /* QUERY_RESP: bytes removed (> 0) or zero bytes added (< 0) */
	bool spdm_emu_query;  /* QUERY_RESP as spdm-emu's sample: 8-byte header, 74 zero DWs */
	uint32_t flip_cap;    /* XORed into QUERY_RESP's IDE Capability register */
	int refuse_key_prog;  /* KP_ACK status 4 for the n-th KEY_PROG (1-based), 0: never */
	unsigned key_progs;
	uint8_t out[PCITSM_IDEKM_MSG_MAX];
	size_t out_len;
};

/* ---------------------------------------------------------------------------------------------
 * Set-up: selective block 0 at both ports with the Stream ID, Enable clear, loaded in the engines.
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_ide_link_init(&f->l, 33, SID);
	pcitsm_idekm_rsp_init(&f->rsp, &f->l.env.env);
	assert_ok(pcitsm_idekm_rsp_add_port(&f->rsp, &f->l.ep->cfg.cfg, f->l.ep_port, &f->l.ep->bdf));
	pcitsm_idekm_req_init(&f->rq);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	test_ide_link_free(&f->l);
	pcitsm_wipe(f, sizeof(*f));
	free(f);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The ops: both ends record what they are asked, and check the rule as they go: no K_SET_GO of
 * a transmitter before every receiver at both ends has its K_SET_GO.
 */
static bool all_rx_go(const struct pcitsm_ide_port *p, unsigned kset)
{
	for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++)
		if (!p->stream[0].slot[PCITSM_IDE_RX][u][kset].go)
			return false;
	return true;
}

static void record(struct fx *f, bool partner, uint8_t obj, uint8_t port, enum pcitsm_ide_dir d,
		   enum pcitsm_ide_sub u)
{
	assert_true(f->nr_ops < PCITSM_ARRAY_SIZE(f->ops));
	f->ops[f->nr_ops++] = (struct op){ partner, obj, port, d, u };
}

static pcitsm_err t_device_call(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct fx *f = arg;
	enum pcitsm_ide_dir d = PCITSM_IDE_RX;
	enum pcitsm_ide_sub u = PCITSM_IDE_SUB_PR;
	uint8_t kset = 0, *p = rsp->p + rsp->off;
	size_t before = pcitsm_wr_len(rsp);
	pcitsm_err e;

	assert_true(len >= 4);
	if (len >= 8 && req[1] != PCITSM_IDEKM_QUERY)
		assert_ok(pcitsm_idekm_ksub_decode(req[6], &kset, &d, &u));
	record(f, false, req[1], req[1] == PCITSM_IDEKM_QUERY ? req[3] : req[7], d, u);
	if (req[1] == PCITSM_IDEKM_K_SET_GO && d == PCITSM_IDE_TX &&
	    !(all_rx_go(f->l.ep_port, kset) && all_rx_go(f->l.rp_port, kset)))
		f->order_violated = true;
	e = pcitsm_idekm_rsp_handle(&f->rsp, S1, req, len, rsp);
	if (e)
		return e;
	if (req[1] == PCITSM_IDEKM_QUERY) {
		size_t n = pcitsm_wr_len(rsp) - before;

		if (f->flip_cap)
			pcitsm_put_le32(p + 8, pcitsm_get_le32(p + 8) ^ f->flip_cap);
		if (f->spdm_emu_query) {
			memset(p + 8, 0, 74 * 4);
			rsp->off = before + 8 + 74 * 4;
		} else if (f->truncate > 0) {
			rsp->off = before + n - (size_t)f->truncate;
		} else if (f->truncate < 0) {
			memset(p + n, 0, (size_t)-f->truncate);
			rsp->off = before + n + (size_t)-f->truncate;
		}
	}
	if (req[1] == PCITSM_IDEKM_KEY_PROG && ++f->key_progs == (unsigned)f->refuse_key_prog)
		p[5] = PCITSM_IDEKM_KP_UNSPECIFIED_FAILURE;
	return PCITSM_OK;
}

static pcitsm_err t_partner_key_prog(void *arg, uint8_t stream_id, unsigned kset,
				     enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				     const uint8_t key[32], const uint8_t ifv[8])
{
	struct fx *f = arg;

	record(f, true, PCITSM_IDEKM_KEY_PROG, 0, dir, sub);
	return pcitsm_ide_key_prog(f->l.rp_port, stream_id, kset, dir, sub, key, ifv);
}

static pcitsm_err t_partner_k_set(void *arg, uint8_t obj, uint8_t stream_id, unsigned kset,
				  enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	struct fx *f = arg;

	record(f, true, obj, 0, dir, sub);
	if (obj == PCITSM_IDEKM_K_SET_GO && dir == PCITSM_IDE_TX &&
	    !(all_rx_go(f->l.ep_port, kset) && all_rx_go(f->l.rp_port, kset)))
		f->order_violated = true;
	if (obj == PCITSM_IDEKM_K_SET_GO)
		return pcitsm_ide_k_set_go(f->l.rp_port, stream_id, kset, dir, sub);
	return pcitsm_ide_k_set_stop(f->l.rp_port, stream_id, kset, dir, sub);
}

static pcitsm_err t_enable(void *arg)
{
	struct fx *f = arg;

	record(f, false, OP_ENABLE, 0, 0, 0);
	PCITSM_TRY(pcitsm_ide_stream_enable(f->l.ep_port, 0));
	return pcitsm_ide_stream_enable(f->l.rp_port, 0);
}

static const struct pcitsm_idekm_partner_ops t_partner = {
	.key_prog = t_partner_key_prog,
	.k_set = t_partner_k_set,
};

static const struct pcitsm_idekm_link_ops t_ops = {
	.device_call = t_device_call,
	.partner = &t_partner,
	.enable = t_enable,
};

static struct pcitsm_idekm_link_opts opts(struct fx *f, uint8_t port_index, bool cross_check)
{
	struct pcitsm_idekm_link_opts o = { .port_index = port_index, .stream_id = SID, .kset = 0,
					    .query = true, .partner_port = f };

	if (cross_check) {
		o.dev_cfg = &f->l.ep->cfg.cfg;
		o.dev_ide_off = f->l.ep->ide_off;
		o.dev_bdf = &f->l.ep->bdf;
	}
	return o;
}

/* A Memory Write each way decrypts at the other end: the keys are mirrored. */
static void traffic_ok(struct fx *f)
{
	uint16_t ep_rid = pcitsm_bdf_rid(&f->l.ep->bdf), rp_rid = pcitsm_bdf_rid(&f->l.rp->bdf);
	uint8_t data[32] = { 1, 2, 3, 4 }, tlp[96], wire[PCITSM_IDE_TLP_MAX], plain[512];
	struct pcitsm_ide_port *from[2] = { f->l.rp_port, f->l.ep_port }, *to[2] = { f->l.ep_port,
										 f->l.rp_port };
	struct pcitsm_tlp t;
	size_t n;

	for (int i = 0; i < 2; i++) {
		struct pcitsm_ide_io io = { tlp, 0, wire, sizeof(wire), 0 };
		struct pcitsm_ide_rx_out out = { .buf = plain, .cap = sizeof(plain) };

		test_ide_tlp(&t, PCITSM_IDE_SUB_PR, i ? ep_rid : rp_rid, i ? rp_rid : ep_rid,
			     i ? 0x10000040 : 0x80000100, 0, data, sizeof(data));
		assert_ok(pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &n));
		io.in_len = n;
		assert_ok(pcitsm_ide_tx(from[i], &io, 1));
		assert_ok(pcitsm_ide_rx(to[i], wire, io.out_len, &out));
		assert_memory_equal(plain + out.off[0], tlp, n);
	}
}

static unsigned count_ops(const struct fx *f, uint8_t obj)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->nr_ops; i++)
		n += f->ops[i].obj == obj;
	return n;
}

/* ---------------------------------------------------------------------------------------------
 * The sequence.
 */
static void test_link_order(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 0, true);
	struct pcitsm_idekm_link_result res;
	unsigned first_tx_go = 0, last_rx_go = 0, last_kp = 0, first_go = 0;

	assert_ok(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res));
	assert_true(res.cross_checked);
	assert_int_equal(res.dev_keyed, 6);
	assert_int_equal(res.partner_keyed, 6);
	assert_int_equal(res.nr_sel, 4);
	assert_int_equal(res.nr_link, 1);
	assert_false(f->order_violated);
	/* QUERY, 12 KEY_PROG (6 at each end), 12 K_SET_GO, Enable. */
	assert_int_equal(f->nr_ops, 1 + 12 + 12 + 1);
	assert_int_equal(f->ops[0].obj, PCITSM_IDEKM_QUERY);
	assert_int_equal(count_ops(f, PCITSM_IDEKM_KEY_PROG), 12);
	assert_int_equal(count_ops(f, PCITSM_IDEKM_K_SET_GO), 12);
	for (unsigned i = 0; i < f->nr_ops; i++) {
		const struct op *p = &f->ops[i];

		if (p->obj == PCITSM_IDEKM_KEY_PROG)
			last_kp = i;
		if (p->obj == PCITSM_IDEKM_K_SET_GO && !first_go)
			first_go = i;
		if (p->obj == PCITSM_IDEKM_K_SET_GO && p->dir == PCITSM_IDE_RX)
			last_rx_go = i;
		if (p->obj == PCITSM_IDEKM_K_SET_GO && p->dir == PCITSM_IDE_TX && !first_tx_go)
			first_tx_go = i;
		/* The partner programs the mirror image: the direction opposite the device's. */
		if (p->obj == PCITSM_IDEKM_KEY_PROG && p->partner) {
			assert_false(f->ops[i - 1].partner);
			assert_int_equal(p->dir, !f->ops[i - 1].dir);
			assert_int_equal(p->sub, f->ops[i - 1].sub);
		}
	}
	assert_true(last_kp < first_go);
	assert_true(last_rx_go < first_tx_go); /* every receiver, both ends, before a transmitter */
	assert_int_equal(f->ops[f->nr_ops - 1].obj, OP_ENABLE);
	assert_int_equal(pcitsm_ide_stream_state(f->l.ep_port, 0), PCITSM_IDE_SECURE);
	assert_int_equal(pcitsm_ide_stream_state(f->l.rp_port, 0), PCITSM_IDE_SECURE);
	traffic_ok(f);
}

/* PortIndex 1 (DMTF's and TF-RMM's requesters): every request carries it and the default
 * responder serves it. */
static void test_link_port_index_1(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 1, true);
	struct pcitsm_idekm_link_result res;

	assert_ok(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res));
	assert_int_equal(res.max_port_index, 1);
	for (unsigned i = 0; i < f->nr_ops; i++)
		if (!f->ops[i].partner && f->ops[i].obj != OP_ENABLE)
			assert_int_equal(f->ops[i].port_index, 1);
	assert_int_equal(f->rsp.self_alias, 1);
	traffic_ok(f);
	/* Stop: K_SET_STOP of the set in use is refused (no ack): the first device error. */
	assert_err(pcitsm_idekm_stop_link(&f->rq, &f->l.env.env, &t_ops, f, &o, 6, 6),
		   PCITSM_E_NORESPONSE);
}

/* A responder set to answer index 0 only: QUERY(1) gets no answer, the sequence stops there. */
static void test_link_index_outside_setting(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 1, false);
	struct pcitsm_idekm_link_result res;

	f->rsp.self_indexes = 1u << 0;
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(res.step, PCITSM_IDEKM_LINK_QUERY);
	assert_int_equal(f->rsp.stats.last_drop, PCITSM_E_NOTFOUND);
	assert_int_equal(count_ops(f, PCITSM_IDEKM_KEY_PROG), 0);
	/* The same requester, index 0: served. */
	o.port_index = 0;
	assert_ok(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res));
}

/* ---------------------------------------------------------------------------------------------
 * QUERY_RESP: sizes explained, the cross-check.
 */
static void expect_query_fail(struct fx *f, pcitsm_err want, const char *why)
{
	struct pcitsm_idekm_link_opts o = opts(f, 0, true);
	struct pcitsm_idekm_link_result res;

	pcitsm_idekm_req_init(&f->rq);
	f->nr_ops = 0;
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res), want);
	assert_int_equal(res.step, PCITSM_IDEKM_LINK_QUERY);
	assert_false(res.at_partner);
	assert_string_equal(res.why, why);
	assert_int_equal(f->nr_ops, 1); /* nothing after the QUERY */
	assert_false(f->l.ep_port->stream[0].slot[PCITSM_IDE_RX][0][0].valid);
}

static void test_link_query_resp_sizes(void **state)
{
	struct fx *f = *state;
	uint32_t cap;
	char want[256];

	assert_ok(pcitsm_cfg_read32(&f->l.ep->cfg.cfg, f->l.ep->ide_off + PCITSM_IDE_CAP, &cap));
	/* The default endpoint: 1 Link block, 4 Selective blocks with 2 address blocks each:
	 * 8 + 8 + 8 + 4 * (0x14 + 2 * 12) = 200 bytes. */
	f->truncate = 4;
	snprintf(want, sizeof(want), "QUERY_RESP: 196 bytes, expected 200 for 1 link + 4 selective "
		 "streams with 8 address association blocks (IDE Capability register 0x%08x)", cap);
	expect_query_fail(f, PCITSM_E_SHORT, want);
	f->truncate = -4;
	snprintf(want, sizeof(want), "QUERY_RESP: 204 bytes, expected 200 for 1 link + 4 selective "
		 "streams with 8 address association blocks (IDE Capability register 0x%08x)", cap);
	expect_query_fail(f, PCITSM_E_LONG, want);
	/* Cut inside the last Selective block's fixed part: its address blocks are unknown. */
	f->truncate = 44;
	snprintf(want, sizeof(want), "QUERY_RESP: 156 bytes, expected at least 176 for 1 link + 4 "
		 "selective streams with 6 address association blocks (IDE Capability register "
		 "0x%08x)", cap);
	expect_query_fail(f, PCITSM_E_SHORT, want);
	/* spdm-emu's sample device: a header and 74 zero DWs, which claim no IDE at all. */
	f->truncate = 0;
	f->spdm_emu_query = true;
	expect_query_fail(f, PCITSM_E_LONG, "QUERY_RESP: 304 bytes, expected 16 for 0 link + 0 "
			  "selective streams with 0 address association blocks (IDE Capability "
			  "register 0x00000000)");
}

/* A device that claims a capability its config space does not have (downgrade protection): the
 * cross-check stops the sequence before any key leaves; without config space it goes through. */
static void test_link_cross_check(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 0, false);
	struct pcitsm_idekm_link_result res;
	uint32_t cap;
	char want[128];

	assert_ok(pcitsm_cfg_read32(&f->l.ep->cfg.cfg, f->l.ep->ide_off + PCITSM_IDE_CAP, &cap));
	f->flip_cap = PCITSM_IDE_CAP_AGGREGATION; /* the layout stays the same */
	snprintf(want, sizeof(want), "QUERY_RESP IDE Capability: device 0x%08x, config space 0x%08x",
		 cap ^ PCITSM_IDE_CAP_AGGREGATION, cap);
	expect_query_fail(f, PCITSM_E_MISMATCH, want);
	/* No config space to compare with: accepted, and said so. */
	pcitsm_idekm_req_init(&f->rq);
	assert_ok(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res));
	assert_false(res.cross_checked);
}

/* A QUERY_RESP, well formed, of a device with Link IDE only: nothing to program. */
static void test_link_no_selective(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 0, false);
	struct pcitsm_idekm_link_result res;
	uint32_t cap;
	char want[128];

	assert_ok(pcitsm_cfg_read32(&f->l.ep->cfg.cfg, f->l.ep->ide_off + PCITSM_IDE_CAP, &cap));
	f->flip_cap = PCITSM_IDE_CAP_SEL;
	f->truncate = 200 - (8 + 8 + 8); /* header, Capability + Control, the Link block */
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res),
		   PCITSM_E_UNSUPPORTED);
	assert_int_equal(res.step, PCITSM_IDEKM_LINK_QUERY);
	assert_int_equal(res.nr_sel, 0);
	assert_int_equal(res.nr_link, 1);
	snprintf(want, sizeof(want), "QUERY_RESP: the device has no Selective IDE stream (IDE "
		 "Capability register 0x%08x)", cap ^ PCITSM_IDE_CAP_SEL);
	assert_string_equal(res.why, want);
	assert_int_equal(count_ops(f, PCITSM_IDEKM_KEY_PROG), 0);
}

/* The device refuses its third key: the sequence stops at KEY_PROG with the Status, two slots
 * programmed at each end, and stopping those two works. */
static void test_link_key_prog_refused(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 0, true);
	struct pcitsm_idekm_link_result res;

	f->refuse_key_prog = 3;
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res),
		   PCITSM_E_PEER_ERROR);
	assert_int_equal(res.step, PCITSM_IDEKM_LINK_KEY_PROG);
	assert_int_equal(res.kp_status, PCITSM_IDEKM_KP_UNSPECIFIED_FAILURE);
	assert_int_equal(res.dev_keyed, 2);
	assert_int_equal(res.partner_keyed, 2);
	assert_string_equal(res.why, "KEY_PROG Rx CPL at the device: KP_ACK status 4 (unspecified "
				     "failure)");
	assert_int_equal(count_ops(f, PCITSM_IDEKM_K_SET_GO), 0);
	f->nr_ops = 0;
	assert_ok(pcitsm_idekm_stop_link(&f->rq, &f->l.env.env, &t_ops, f, &o, res.dev_keyed,
					 res.partner_keyed));
	assert_int_equal(count_ops(f, PCITSM_IDEKM_K_SET_STOP), 4);
}

/* A random source that repeats itself: two equal keys are refused (PCIe 6.x §6.33: every key
 * generated separately), the struct wiped, nothing sent. */
static pcitsm_err stuck_random(const struct pcitsm_env *env, void *buf, size_t n)
{
	(void)env;
	memset(buf, 0x5a, n);
	return PCITSM_OK;
}

static void test_link_stuck_rng(void **state)
{
	struct fx *f = *state;
	struct pcitsm_env stuck = f->l.env.env;
	struct pcitsm_idekm_link_opts o = opts(f, 0, true);
	struct pcitsm_idekm_link_result res;
	struct pcitsm_idekm_keys k;
	static const uint8_t zero[sizeof(k)];

	stuck.random = stuck_random;
	assert_err(pcitsm_idekm_keys_generate(&stuck, SID, 0, &k), PCITSM_E_RNG);
	assert_memory_equal(&k, zero, sizeof(k));
	assert_err(pcitsm_idekm_program_link(&f->rq, &stuck, &t_ops, f, &o, &res), PCITSM_E_RNG);
	assert_int_equal(res.step, PCITSM_IDEKM_LINK_KEY_PROG);
	assert_int_equal(count_ops(f, PCITSM_IDEKM_KEY_PROG), 0);
}

/* A QUERY_RESP whose last Selective block starts inside extended config space but ends past it
 * (20 blocks of 15 address associations): E_RANGE, whatever its size. */
static void test_query_resp_past_config_space(void **state)
{
	size_t n = 8 + 8 + 20 * (0x14 + 15 * 12);
	uint8_t *p = calloc(1, n + 4);
	struct pcitsm_idekm_query_resp qr;
	char why[256];

	(void)state;
	assert_non_null(p);
	p[1] = PCITSM_IDEKM_QUERY_RESP;
	pcitsm_put_le32(p + 8, PCITSM_IDE_CAP_SEL | 19u << PCITSM_IDE_CAP_SEL_NUM_SHIFT);
	for (unsigned i = 0; i < 20; i++)
		pcitsm_put_le32(p + 16 + i * (0x14 + 15 * 12), 15);
	assert_err(pcitsm_idekm_query_resp_decode(p, n, &qr), PCITSM_E_RANGE);
	pcitsm_idekm_query_resp_explain(p, n, why, sizeof(why));
	assert_string_equal(why, "QUERY_RESP: 4016 bytes, expected 4016 for 0 link + 20 selective "
				 "streams with 300 address association blocks (IDE Capability "
				 "register 0x00130002): more than extended config space holds");
	/* One block fewer fits. */
	pcitsm_put_le32(p + 8, PCITSM_IDE_CAP_SEL | 18u << PCITSM_IDE_CAP_SEL_NUM_SHIFT);
	assert_ok(pcitsm_idekm_query_resp_decode(p, n - (0x14 + 15 * 12), &qr));
	assert_int_equal(qr.nr_sel, 19);
	free(p);
}

static void test_link_bad_args(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_link_opts o = opts(f, 0, false);
	struct pcitsm_idekm_link_result res;
	static const struct pcitsm_idekm_partner_ops no_k_set = { .key_prog = t_partner_key_prog };
	struct pcitsm_idekm_link_ops no_partner = t_ops;

	no_partner.partner = &no_k_set;
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &no_partner, f, &o, &res),
		   PCITSM_E_INVAL);
	o.stream_id = PCITSM_IDE_RESERVED_STREAM_ID;
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res),
		   PCITSM_E_INVAL);
	o.stream_id = SID;
	o.kset = 2;
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, &res),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_idekm_program_link(&f->rq, &f->l.env.env, &t_ops, f, &o, NULL),
		   PCITSM_E_INVAL);
	assert_int_equal(f->nr_ops, 0);
	assert_string_equal(pcitsm_idekm_link_step_name(PCITSM_IDEKM_LINK_K_SET_GO), "k_set_go");
	assert_string_equal(pcitsm_idekm_link_step_name((enum pcitsm_idekm_link_step)99), "unknown");
}

/* ---------------------------------------------------------------------------------------------
 * The responder's PortIndex, request by request.
 */
static pcitsm_err req(struct fx *f, const uint8_t *p, size_t n)
{
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, f->out, sizeof(f->out));
	e = pcitsm_idekm_rsp_handle(&f->rsp, S1, p, n, &w);
	f->out_len = pcitsm_wr_len(&w);
	return e;
}

static pcitsm_err query(struct fx *f, uint8_t port)
{
	uint8_t q[4] = { 0, PCITSM_IDEKM_QUERY, 0, port };

	return req(f, q, 4);
}

/* KEY_PROG of slot (dir, sub) of key set kset at port, a fresh key; returns the KP_ACK Status. The
 * root port gets the mirror image (by platform means). */
static int key_prog(struct fx *f, uint8_t port, unsigned kset, enum pcitsm_ide_dir d,
		    enum pcitsm_ide_sub u)
{
	struct pcitsm_idekm_key_prog kp = { .ks = { .stream_id = SID, .kset = (uint8_t)kset,
						    .dir = d, .sub = u, .port_index = port } };
	uint8_t b[64], aes[32];
	struct pcitsm_wr w;

	assert_ok(pcitsm_random(&f->l.env.env, aes, sizeof(aes)));
	pcitsm_ide_km_key_from_aes(aes, kp.key);
	pcitsm_ide_km_ifv_encode(1, kp.ifv);
	pcitsm_wr_init(&w, b, sizeof(b));
	assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
	assert_ok(req(f, b, 48));
	assert_int_equal(f->out_len, 8);
	assert_int_equal(f->out[1], PCITSM_IDEKM_KP_ACK);
	assert_int_equal(f->out[7], port);
	if (f->out[5] == PCITSM_IDEKM_KP_SUCCESS)
		assert_ok(pcitsm_ide_key_prog_aes(f->l.rp_port, SID, kset, !d, u, aes, 1));
	pcitsm_wipe(aes, sizeof(aes));
	pcitsm_wipe(b, sizeof(b));
	pcitsm_wipe(&kp, sizeof(kp));
	return f->out[5];
}

/* K_SET_GO / K_SET_STOP at port: OK with the K_GOSTOP_ACK echoing the port, or the drop. */
static pcitsm_err k_set(struct fx *f, uint8_t obj, uint8_t port, unsigned kset,
			enum pcitsm_ide_dir d, enum pcitsm_ide_sub u)
{
	struct pcitsm_idekm_ks m = { .obj = obj, .stream_id = SID, .kset = (uint8_t)kset, .dir = d,
				     .sub = u, .port_index = port };
	uint8_t b[8];
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, b, sizeof(b));
	assert_ok(pcitsm_idekm_ks_encode(&w, &m));
	e = req(f, b, 8);
	if (!e) {
		assert_int_equal(f->out[1], PCITSM_IDEKM_K_GOSTOP_ACK);
		assert_int_equal(f->out[7], port);
	}
	return e;
}

static void enable_and_check(struct fx *f)
{
	assert_ok(pcitsm_ide_stream_enable(f->l.ep_port, 0));
	assert_ok(pcitsm_ide_stream_enable(f->l.rp_port, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->l.ep_port, 0), PCITSM_IDE_SECURE);
	traffic_ok(f);
}

/* Index 0 and index 1: QUERY, KEY_PROG x 6, K_SET_GO x 6, then a second key set programmed and
 * stopped with K_SET_STOP x 6, all at that index. */
static void port_index_case(struct fx *f, uint8_t port)
{
	assert_ok(query(f, port));
	assert_int_equal(f->out[1], PCITSM_IDEKM_QUERY_RESP);
	assert_int_equal(f->out[3], port);     /* PortIndex echoed */
	assert_int_equal(f->out[7], port);     /* MaxPortIndex covers it */
	assert_int_equal(f->rsp.self_alias, port);
	for (unsigned i = 0; i < 6; i++) {
		enum pcitsm_ide_dir d;
		enum pcitsm_ide_sub u;

		pcitsm_idekm_keys_slot(i, &d, &u);
		assert_int_equal(key_prog(f, port, 0, d, u), PCITSM_IDEKM_KP_SUCCESS);
	}
	for (int d = PCITSM_IDE_RX; d <= PCITSM_IDE_TX; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			assert_ok(k_set(f, PCITSM_IDEKM_K_SET_GO, port, 0, d, u));
			assert_ok(pcitsm_ide_k_set_go(f->l.rp_port, SID, 0, d, u));
		}
	enable_and_check(f);
	for (unsigned i = 0; i < 6; i++) {
		enum pcitsm_ide_dir d;
		enum pcitsm_ide_sub u;

		pcitsm_idekm_keys_slot(i, &d, &u);
		assert_int_equal(key_prog(f, port, 1, d, u), PCITSM_IDEKM_KP_SUCCESS);
		assert_ok(k_set(f, PCITSM_IDEKM_K_SET_STOP, port, 1, d, u));
		assert_false(f->l.ep_port->stream[0].slot[d][u][1].valid);
	}
	assert_int_equal(f->rsp.stats.dropped, 0);
}

static void test_rsp_port_index_0(void **state)
{
	port_index_case(*state, 0);
}

static void test_rsp_port_index_1(void **state)
{
	port_index_case(*state, 1);
}

/* After QUERY(1), requests for index 0 are refused: KP_ACK Unsupported PortIndex, no ack for
 * K_SET_*; before any QUERY both indexes of the setting are accepted. */
static void test_rsp_index_mismatch_after_query(void **state)
{
	struct fx *f = *state;

	assert_int_equal(key_prog(f, 0, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR), 0);
	assert_int_equal(key_prog(f, 1, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_NPR), 0);
	assert_ok(query(f, 1));
	assert_int_equal(key_prog(f, 0, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_CPL),
			 PCITSM_IDEKM_KP_UNSUPPORTED_PORT_INDEX);
	assert_false(f->l.ep_port->stream[0].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_CPL][0].valid);
	assert_int_equal(key_prog(f, 1, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_CPL), 0);
	assert_err(k_set(f, PCITSM_IDEKM_K_SET_GO, 0, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(f->rsp.stats.last_drop, PCITSM_E_MISMATCH);
	assert_false(f->l.ep_port->stream[0].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][0].go);
	assert_err(k_set(f, PCITSM_IDEKM_K_SET_STOP, 0, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR),
		   PCITSM_E_NORESPONSE);
	assert_true(f->l.ep_port->stream[0].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][0].valid);
	assert_ok(k_set(f, PCITSM_IDEKM_K_SET_GO, 1, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR));
	/* A new QUERY(0) moves the alias back. */
	assert_ok(query(f, 0));
	assert_int_equal(key_prog(f, 1, 0, PCITSM_IDE_TX, PCITSM_IDE_SUB_PR),
			 PCITSM_IDEKM_KP_UNSUPPORTED_PORT_INDEX);
	assert_int_equal(key_prog(f, 0, 0, PCITSM_IDE_TX, PCITSM_IDE_SUB_PR), 0);
	/* The bound session ends: the alias goes with it. */
	pcitsm_idekm_rsp_session_closed(&f->rsp, S1);
	assert_int_equal(key_prog(f, 1, 0, PCITSM_IDE_TX, PCITSM_IDE_SUB_NPR), 0);
	assert_int_equal(f->rsp.self_alias, -1);
}

/* The setting: 1 only (a responder that answers as spdm-emu's requester expects and nothing
 * else), and an index no setting reaches. */
static void test_rsp_index_setting(void **state)
{
	struct fx *f = *state;

	f->rsp.self_indexes = 1u << 1;
	assert_err(query(f, 0), PCITSM_E_NORESPONSE);
	assert_int_equal(f->rsp.stats.last_drop, PCITSM_E_NOTFOUND);
	assert_int_equal(key_prog(f, 0, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR),
			 PCITSM_IDEKM_KP_UNSUPPORTED_PORT_INDEX);
	assert_err(k_set(f, PCITSM_IDEKM_K_SET_GO, 0, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR),
		   PCITSM_E_NORESPONSE);
	assert_ok(query(f, 1));
	assert_int_equal(key_prog(f, 1, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR), 0);
	/* Index 2 and up: outside the default setting, and outside every 32-bit one past 31. */
	f->rsp.self_indexes = PCITSM_IDEKM_SELF_INDEXES_DEFAULT;
	assert_err(query(f, 2), PCITSM_E_NORESPONSE);
	f->rsp.self_indexes = UINT32_MAX;
	assert_ok(query(f, 31));
	assert_int_equal(f->out[7], 31);
	assert_err(query(f, 32), PCITSM_E_NORESPONSE);
	assert_err(query(f, 0xff), PCITSM_E_NORESPONSE);
}

/* DMTF spdm-emu's requester: PortIndex 1, KEY_PROG then K_SET_GO of each slot in turn (Rx PR,
 * NPR, CPL, then Tx). The root port is started the same way, receivers first. */
static void test_rsp_order_spdm_emu(void **state)
{
	struct fx *f = *state;

	assert_ok(query(f, 1));
	for (unsigned i = 0; i < 6; i++) {
		enum pcitsm_ide_dir d;
		enum pcitsm_ide_sub u;

		pcitsm_idekm_keys_slot(i, &d, &u);
		assert_int_equal(key_prog(f, 1, 0, d, u), 0);
		assert_ok(k_set(f, PCITSM_IDEKM_K_SET_GO, 1, 0, d, u));
	}
	for (int d = PCITSM_IDE_RX; d <= PCITSM_IDE_TX; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			assert_ok(pcitsm_ide_k_set_go(f->l.rp_port, SID, 0, d, u));
	enable_and_check(f);
}

/* TF-RMM: PortIndex 1, every KEY_PROG (both ends), then K_SET_GO Rx at the endpoint and the root
 * port, then K_SET_GO Tx at both. */
static void test_rsp_order_tf_rmm(void **state)
{
	struct fx *f = *state;

	assert_ok(query(f, 1));
	for (unsigned i = 0; i < 6; i++) {
		enum pcitsm_ide_dir d;
		enum pcitsm_ide_sub u;

		pcitsm_idekm_keys_slot(i, &d, &u);
		assert_int_equal(key_prog(f, 1, 0, d, u), 0);
	}
	for (int d = PCITSM_IDE_RX; d <= PCITSM_IDE_TX; d++) {
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			assert_ok(k_set(f, PCITSM_IDEKM_K_SET_GO, 1, 0, d, u));
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			assert_ok(pcitsm_ide_k_set_go(f->l.rp_port, SID, 0, d, u));
	}
	enable_and_check(f);
}

int main(void)
{
	return test_run_fixture(setup, teardown, test_link_order, test_link_port_index_1,
		                                 test_link_index_outside_setting,
		                                 test_link_query_resp_sizes, test_link_cross_check,
		                                 test_link_no_selective, test_link_key_prog_refused,
		                                 test_link_stuck_rng,
		                                 test_query_resp_past_config_space,
		                                 test_link_bad_args, test_rsp_port_index_0,
		                                 test_rsp_port_index_1,
		                                 test_rsp_index_mismatch_after_query,
		                                 test_rsp_index_setting, test_rsp_order_spdm_emu,
		                                 test_rsp_order_tf_rmm);
}
