/* SPDX-License-Identifier: MIT */
/*
 * A port's IDE engine configured from its own config space (pcitsm_ide_port_load): the selective
 * stream registers a TSM programs (Control, RID association, address associations) decoded by
 * lib/pci and turned into streams whose association, aggregation and PCRC drive the data path;
 * the Enable bit followed; unsupported features ignored; bad programming refused.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

#define RP_RID 0x0008
#define EP_RID 0x0100
#define CAP 0x100
#define SID 7

struct fx {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *rp, *ep;
	struct pcitsm_cfg_emu cfg[2]; /* [0] root port, [1] endpoint */
	uint8_t wire[PCITSM_IDE_TLP_MAX * PCITSM_IDE_AGG_MAX];
	uint8_t plain[PCITSM_IDE_AGG_MAX * (PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX)];
};

/* Block i's offset when every block before it has nr_addr[] address associations. */
static uint32_t block_off(const unsigned *nr_addr, unsigned i)
{
	uint32_t off = CAP + PCITSM_IDE_LINK_BLOCK0; /* no link blocks */

	for (unsigned j = 0; j < i; j++)
		off += PCITSM_IDE_SEL_BLOCK_SIZE(nr_addr[j]);
	return off;
}

/* The IDE capability with nsel selective blocks; cap_bits on top of Selective Supported. */
static void cap_init(struct pcitsm_cfg_emu *e, uint32_t cap_bits, unsigned nsel,
		     const unsigned *nr_addr)
{
	pcitsm_cfg_emu_init(e, 4096);
	pcitsm_cfg_emu_poke(e, CAP, 4, PCITSM_ECAP_ID_IDE | 1u << 16);
	pcitsm_cfg_emu_poke(e, CAP + PCITSM_IDE_CAP, 4,
			    PCITSM_IDE_CAP_SEL | cap_bits | (nsel - 1) << PCITSM_IDE_CAP_SEL_NUM_SHIFT);
	for (unsigned i = 0; i < nsel; i++)
		pcitsm_cfg_emu_poke(e, block_off(nr_addr, i) + PCITSM_IDE_SEL_CAP, 4, nr_addr[i]);
}

/* What a TSM writes into selective block i: Control, RID association, address association 0. */
static void program(struct pcitsm_cfg_emu *e, const unsigned *nr_addr, unsigned i,
		    const struct pcitsm_ide_stream_ctl *c, uint16_t rid_base, uint16_t rid_limit,
		    uint64_t mem_base, uint64_t mem_limit)
{
	uint32_t b = block_off(nr_addr, i);

	pcitsm_cfg_emu_poke(e, b + PCITSM_IDE_SEL_CTL, 4, pcitsm_ide_ctl_encode(c));
	pcitsm_cfg_emu_poke(e, b + PCITSM_IDE_SEL_RID1, 4, (uint32_t)rid_limit << 8);
	pcitsm_cfg_emu_poke(e, b + PCITSM_IDE_SEL_RID2, 4, (uint32_t)rid_base << 8 | 1);
	if (nr_addr[i]) {
		/* Memory Base / Limit Lower are address bits 31:20; Upper are bits 63:32. */
		pcitsm_cfg_emu_poke(e, b + PCITSM_IDE_SEL_ADDR1(0), 4,
				    1 | (uint32_t)(mem_base >> 20 & 0xfff) << 8 |
					    (uint32_t)(mem_limit >> 20 & 0xfff) << 20);
		pcitsm_cfg_emu_poke(e, b + PCITSM_IDE_SEL_ADDR2(0), 4, (uint32_t)(mem_limit >> 32));
		pcitsm_cfg_emu_poke(e, b + PCITSM_IDE_SEL_ADDR3(0), 4, (uint32_t)(mem_base >> 32));
	}
}

static void set_enable(struct pcitsm_cfg_emu *e, const unsigned *nr_addr, unsigned i, bool on)
{
	uint32_t b = block_off(nr_addr, i) + PCITSM_IDE_SEL_CTL;
	uint32_t v = pcitsm_cfg_emu_peek(e, b, 4);

	pcitsm_cfg_emu_poke(e, b, 4, on ? v | PCITSM_IDE_CTL_EN : v & ~PCITSM_IDE_CTL_EN);
}

static const unsigned nr_addr[3] = { 0, 1, 2 };

/* Root port: block 1 is the stream to the endpoint (RID 01:00.0-01:00.7, 4 GiB-4.5 GiB window),
 * blocks 0 and 2 idle. Endpoint: block 0 is its Default Stream to the root port. */
static void program_both(struct fx *f)
{
	struct pcitsm_ide_stream_ctl c = { .stream_id = SID, .tc = 2, .agg_pr = 2, .agg_npr = 1,
					   .pcrc = true };
	struct pcitsm_ide_stream_ctl idle = { .stream_id = PCITSM_IDE_RESERVED_STREAM_ID };

	cap_init(&f->cfg[0], PCITSM_IDE_CAP_AGGREGATION | PCITSM_IDE_CAP_PCRC |
				     PCITSM_IDE_CAP_IDE_KM, 3, nr_addr);
	program(&f->cfg[0], nr_addr, 0, &idle, 0, 0, 0, 0);
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	program(&f->cfg[0], nr_addr, 2, &idle, 0, 0, 0, 0);
	cap_init(&f->cfg[1], PCITSM_IDE_CAP_AGGREGATION | PCITSM_IDE_CAP_PCRC |
				     PCITSM_IDE_CAP_IDE_KM, 1, nr_addr);
	c.default_stream = true;
	c.agg_npr = 0;
	c.agg_cpl = 3;
	program(&f->cfg[1], nr_addr, 0, &c, RP_RID, RP_RID, 0, 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	pcitsm_env_test_init(&f->env, 11);
	assert_ok(pcitsm_gcm_new(&f->gcm, PCITSM_GCM_AUTO));
	assert_ok(pcitsm_ide_port_new(&f->rp, f->gcm, &f->env.env, RP_RID));
	assert_ok(pcitsm_ide_port_new(&f->ep, f->gcm, &f->env.env, EP_RID));
	program_both(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pcitsm_ide_port_free(f->rp);
	pcitsm_ide_port_free(f->ep);
	pcitsm_gcm_free(f->gcm);
	free(f);
	return 0;
}

/* Key set 0 programmed and GO in every slot at both ports. */
static void keys(struct fx *f)
{
	test_ide_keys(f->rp, f->ep, &f->env.env, SID, 0);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_TX);
}

static size_t mk_mwr(uint8_t *buf, uint8_t tc, uint64_t addr, size_t len)
{
	static const uint8_t data[64] = { 1, 2, 3, 4 };
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .tc = tc, .req_id = RP_RID,
				.first_be = 0xf, .last_be = len > 4 ? 0xf : 0, .addr = addr,
				.data = data, .len = len };
	size_t n;

	assert_ok(pcitsm_tlp_encode(&t, buf, PCITSM_TLP_HDR_MAX + len, &n));
	return n;
}

static void test_load_association(void **state)
{
	struct fx *f = *state;
	const struct pcitsm_ide_stream *s;
	unsigned n;

	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1); /* blocks 0 and 2 are idle */
	assert_ok(pcitsm_ide_port_load(f->ep, &f->cfg[1].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_true(f->rp->rx_aggregation);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 1);
	assert_int_equal(pcitsm_ide_stream_find(f->ep, SID), 0);
	s = &f->rp->stream[1];
	assert_true(s->configured);
	assert_false(s->enabled);
	assert_false(f->rp->stream[0].configured);
	assert_false(f->rp->stream[2].configured);
	assert_int_equal(s->tc, 2);
	assert_true(s->pcrc);
	assert_false(s->default_stream);
	assert_int_equal(s->agg[PCITSM_IDE_SUB_PR], 4);
	assert_int_equal(s->agg[PCITSM_IDE_SUB_NPR], 2);
	assert_int_equal(s->agg[PCITSM_IDE_SUB_CPL], 1);
	assert_true(s->rid_valid);
	assert_int_equal(s->rid_base, EP_RID);
	assert_int_equal(s->rid_limit, EP_RID + 7);
	assert_int_equal(s->nr_addr, 1);
	assert_true(s->addr[0].valid);
	assert_true(s->addr[0].base == 0x100000000ull);
	assert_true(s->addr[0].limit == 0x11fffffffull);
	s = &f->ep->stream[0];
	assert_true(s->default_stream);
	assert_int_equal(s->agg[PCITSM_IDE_SUB_CPL], 8);
	assert_int_equal(s->nr_addr, 0);
}

/* Enable from the registers, then traffic selected by the decoded association. */
static void test_enable_and_traffic(void **state)
{
	struct fx *f = *state;
	uint8_t tlp[PCITSM_TLP_HDR_MAX + 64];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_ide_io io;
	struct pcitsm_tlp t;
	size_t n;

	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	assert_ok(pcitsm_ide_port_load(f->ep, &f->cfg[1].cfg, CAP, NULL));
	keys(f);
	/* Enable written in config space, then the ports follow it. */
	set_enable(&f->cfg[1], nr_addr, 0, true);
	set_enable(&f->cfg[0], nr_addr, 1, true);
	assert_ok(pcitsm_ide_port_load(f->ep, &f->cfg[1].cfg, CAP, NULL));
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_SECURE);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_SECURE);
	/* Loading again with Enable still set keeps the running stream (and its keys). */
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_SECURE);

	/* In the address window, TC 2: the stream (PCRC on, from the Control register). */
	n = mk_mwr(tlp, 2, 0x100001000ull, 64);
	assert_ok(pcitsm_tlp_decode(tlp, n, &t));
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 1);
	io = (struct pcitsm_ide_io){ tlp, n, f->wire, sizeof(f->wire), 0 };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	assert_int_equal(f->wire[0], PCITSM_IDE_PFX_BYTE0);
	assert_true(f->wire[PCITSM_IDE_PFX_FLAGS_BYTE] & PCITSM_IDE_PFX_P);
	assert_int_equal(io.out_len, 4 + n + PCITSM_IDE_PCRC_LEN + PCITSM_IDE_MAC_LEN);
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_ok(pcitsm_ide_rx(f->ep, f->wire, io.out_len, &out));
	assert_int_equal(out.n, 1);
	assert_memory_equal(out.buf, tlp, n);
	/* Aggregation mode PR "up to 4" from the register: 4 is a unit, 5 is refused. */
	{
		struct pcitsm_ide_io u[5];
		uint8_t tl[5][PCITSM_TLP_HDR_MAX + 64], w[5][PCITSM_IDE_TLP_MAX];

		for (int i = 0; i < 5; i++) {
			n = mk_mwr(tl[i], 2, 0x100002000ull + 64 * (unsigned)i, 16);
			u[i] = (struct pcitsm_ide_io){ tl[i], n, w[i], sizeof(w[i]), 0 };
		}
		assert_err(pcitsm_ide_tx(f->rp, u, 5), PCITSM_E_INVAL);
		assert_ok(pcitsm_ide_tx(f->rp, u, 4));
		for (int i = 0; i < 4; i++) {
			out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
			assert_ok(pcitsm_ide_rx(f->ep, w[i], u[i].out_len, &out));
			assert_int_equal(out.n, i == 3 ? 4 : 0);
		}
	}
	/* Outside the window, or another TC: no stream, sent as it is. */
	n = mk_mwr(tlp, 2, 0x120000000ull, 64);
	assert_ok(pcitsm_tlp_decode(tlp, n, &t));
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1);
	n = mk_mwr(tlp, 0, 0x100001000ull, 64);
	assert_ok(pcitsm_tlp_decode(tlp, n, &t));
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1);
	/* The endpoint's Default Stream takes every TC 2 request, whatever the address. */
	n = mk_mwr(tlp, 2, 0x5000, 4);
	assert_ok(pcitsm_tlp_decode(tlp, n, &t));
	assert_int_equal(pcitsm_ide_select(f->ep, &t), 0);
	/* Completions to a requester inside the RID range use the root port's stream. */
	t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_CPL, .tc = 2, .cpl_id = RP_RID,
				 .req_id = EP_RID + 3, .byte_count = 4 };
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 1);
	t.req_id = EP_RID + 8;
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1);

	/* Enable cleared in the registers: Insecure, keys gone, TX refuses. */
	set_enable(&f->cfg[0], nr_addr, 1, false);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_INSECURE);
	assert_false(f->rp->stream[1].enabled);
	assert_false(f->rp->stream[1].slot[PCITSM_IDE_TX][0][0].valid);
}

/* Features the capability does not advertise are ignored; RID association not Valid keeps the
 * stream Insecure; bad programming is refused. */
static void test_capability_limits(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_stream_ctl c = { .stream_id = SID, .agg_pr = 3, .pcrc = true,
					   .cfg_en = true };
	uint32_t b;
	unsigned n;

	cap_init(&f->cfg[0], 0, 3, nr_addr);
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID, 0x80000000, 0x8fffffff);
	c.stream_id = PCITSM_IDE_RESERVED_STREAM_ID;
	program(&f->cfg[0], nr_addr, 0, &c, 0, 0, 0, 0);
	program(&f->cfg[0], nr_addr, 2, &c, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_false(f->rp->rx_aggregation);
	assert_int_equal(f->rp->stream[1].agg[PCITSM_IDE_SUB_PR], 1);
	assert_false(f->rp->stream[1].pcrc);
	assert_false(f->rp->stream[1].cfg_en);

	/* RID association Valid clear: Enable leaves the stream Insecure (PCIe 6.x §7.9.26). */
	assert_ok(pcitsm_ide_port_load(f->ep, &f->cfg[1].cfg, CAP, NULL));
	keys(f);
	b = block_off(nr_addr, 1);
	pcitsm_cfg_emu_poke(&f->cfg[0], b + PCITSM_IDE_SEL_RID2, 4, (uint32_t)EP_RID << 8);
	set_enable(&f->cfg[0], nr_addr, 1, true);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	assert_true(f->rp->stream[1].enabled);
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_INSECURE);
	set_enable(&f->cfg[0], nr_addr, 1, false);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));

	/* Two blocks with the same Stream ID. */
	c.stream_id = SID;
	program(&f->cfg[0], nr_addr, 2, &c, EP_RID, EP_RID, 0, 0);
	assert_err(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_EXISTS);
	/* An algorithm other than AES-GCM-256, partial header encryption. */
	c.stream_id = 9;
	c.alg = 1;
	program(&f->cfg[0], nr_addr, 2, &c, EP_RID, EP_RID, 0, 0);
	assert_err(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_UNSUPPORTED);
	c.alg = 0;
	c.phe = 1;
	program(&f->cfg[0], nr_addr, 2, &c, EP_RID, EP_RID, 0, 0);
	assert_err(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_UNSUPPORTED);
	/* RID Base above RID Limit. */
	c.phe = 0;
	program(&f->cfg[0], nr_addr, 2, &c, EP_RID + 1, EP_RID, 0, 0);
	assert_err(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_FIELD);
	/* No Selective IDE support, no IDE capability at all. */
	pcitsm_cfg_emu_poke(&f->cfg[0], CAP + PCITSM_IDE_CAP, 4, PCITSM_IDE_CAP_LINK);
	assert_err(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_UNSUPPORTED);
	pcitsm_cfg_emu_poke(&f->cfg[0], CAP, 4, PCITSM_ECAP_ID_DOE | 1u << 16);
	assert_true(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL) != PCITSM_OK);
	assert_err(pcitsm_ide_port_load(NULL, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_INVAL);
}

/* One block at a time (pcitsm_ide_port_load_block): the block's stream only, rx_aggregation left
 * alone; an idle block holds no stream; an index past the engine's streams is refused. */
static void test_load_block(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_stream_ctl c = { .stream_id = SID, .agg_pr = 3 };
	bool configured = true;

	cap_init(&f->cfg[0], 0, 3, nr_addr);
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID, 0x80000000, 0x8fffffff);
	c.stream_id = PCITSM_IDE_RESERVED_STREAM_ID;
	program(&f->cfg[0], nr_addr, 0, &c, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 0, &configured));
	assert_false(configured);
	assert_false(f->rp->stream[0].configured);
	assert_ok(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 1, &configured));
	assert_true(configured);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 1);
	assert_int_equal(f->rp->stream[1].agg[PCITSM_IDE_SUB_PR], 1); /* not advertised */
	assert_true(f->rp->rx_aggregation);
	assert_err(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 3, &configured),
		   PCITSM_E_INVAL);
	assert_false(configured);
	assert_err(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, f->rp->nr_streams,
					      NULL),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_ide_port_load_block(NULL, &f->cfg[0].cfg, CAP, 0, NULL), PCITSM_E_INVAL);
	pcitsm_cfg_emu_poke(&f->cfg[0], CAP + PCITSM_IDE_CAP, 4, PCITSM_IDE_CAP_LINK);
	assert_err(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 1, NULL),
		   PCITSM_E_UNSUPPORTED);
}

/* A Stream ID moves from block 0 to block 1 across two loads (and back, and two blocks swap theirs
 * in one load): the block left idle releases its stream and the Stream ID, the new block takes it;
 * a block whose registers did not change keeps its keys. */
static void test_stream_id_moves(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_stream_ctl c = { .stream_id = SID, .tc = 2 };
	struct pcitsm_ide_stream_ctl idle = { .stream_id = PCITSM_IDE_RESERVED_STREAM_ID };
	unsigned n;

	program(&f->cfg[0], nr_addr, 0, &c, EP_RID, EP_RID + 7, 0, 0);
	program(&f->cfg[0], nr_addr, 1, &idle, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 0);
	assert_ok(pcitsm_ide_port_load(f->ep, &f->cfg[1].cfg, CAP, NULL));
	keys(f);
	assert_true(f->rp->stream[0].slot[PCITSM_IDE_TX][0][0].valid);
	/* Block 0 idle, block 1 takes the Stream ID. */
	program(&f->cfg[0], nr_addr, 0, &idle, 0, 0, 0, 0);
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 1);
	assert_false(f->rp->stream[0].configured);
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 0), PCITSM_IDE_INSECURE);
	assert_false(f->rp->stream[0].slot[PCITSM_IDE_TX][0][0].valid); /* keys went with it */
	assert_false(f->rp->stream[0].slot[PCITSM_IDE_RX][0][0].valid);
	assert_true(f->rp->stream[1].configured);
	assert_false(f->rp->stream[1].slot[PCITSM_IDE_TX][0][0].valid); /* new stream, no keys */
	/* Keys for the Stream ID now go to block 1's stream; an unchanged reload keeps them. */
	keys(f);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_true(f->rp->stream[1].slot[PCITSM_IDE_TX][0][0].valid);
	/* And back to block 0, the lower block, which the load reaches first. */
	program(&f->cfg[0], nr_addr, 0, &c, EP_RID, EP_RID + 7, 0, 0);
	program(&f->cfg[0], nr_addr, 1, &idle, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 0);
	assert_false(f->rp->stream[1].configured);
	assert_false(f->rp->stream[1].slot[PCITSM_IDE_TX][0][0].valid);
	/* Two blocks swap their Stream IDs in one load. */
	c.stream_id = SID + 1;
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 2);
	program(&f->cfg[0], nr_addr, 0, &c, EP_RID, EP_RID + 7, 0, 0);
	c.stream_id = SID;
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 2);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 1);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID + 1), 0);
	/* A block running with Enable set is left alone and still counts as holding its stream. */
	keys(f);
	set_enable(&f->cfg[1], nr_addr, 0, true);
	set_enable(&f->cfg[0], nr_addr, 1, true);
	assert_ok(pcitsm_ide_port_load(f->ep, &f->cfg[1].cfg, CAP, NULL));
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_SECURE);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 2);
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_SECURE);
	/* Enable cleared and the block idled in one go: Insecure, keys gone, Stream ID free. */
	program(&f->cfg[0], nr_addr, 1, &idle, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, &n));
	assert_int_equal(n, 1);
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 1), PCITSM_IDE_INSECURE);
	assert_false(f->rp->stream[1].configured);
	assert_false(f->rp->stream[1].slot[PCITSM_IDE_RX][0][0].valid);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), -1);
}

/* Register states that leave a block without a stream, block by block: idle (Stream ID 255, Enable
 * clear); the reserved Stream ID with Enable set, or programming the engine refuses (the error is
 * returned); a Stream ID another block still holds (E_EXISTS until that block lets it go). */
static void test_block_without_stream(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_stream_ctl c = { .stream_id = SID, .tc = 2 };
	struct pcitsm_ide_stream_ctl idle = { .stream_id = PCITSM_IDE_RESERVED_STREAM_ID };
	bool configured;

	program(&f->cfg[0], nr_addr, 0, &c, EP_RID, EP_RID + 7, 0, 0);
	program(&f->cfg[0], nr_addr, 1, &idle, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	/* Block 1 takes the Stream ID while block 0 still holds it: refused, block 1 empty. */
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	assert_err(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 1, &configured),
		   PCITSM_E_EXISTS);
	assert_false(configured);
	assert_false(f->rp->stream[1].configured);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 0);
	/* Block 0 goes idle: released; now block 1 can have it. */
	program(&f->cfg[0], nr_addr, 0, &idle, 0, 0, 0, 0);
	assert_ok(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 0, &configured));
	assert_false(configured);
	assert_false(f->rp->stream[0].configured);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), -1);
	assert_ok(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 1, &configured));
	assert_true(configured);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 1);
	/* Loading an idle block again, or one never configured: nothing to release, no error. */
	assert_ok(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 0, &configured));
	assert_false(configured);
	/* The reserved Stream ID with Enable set is bad programming: refused, stream released. */
	idle.enable = true;
	program(&f->cfg[0], nr_addr, 1, &idle, 0, 0, 0, 0);
	assert_err(pcitsm_ide_port_load_block(f->rp, &f->cfg[0].cfg, CAP, 1, &configured),
		   PCITSM_E_FIELD);
	assert_false(configured);
	assert_false(f->rp->stream[1].configured);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), -1);
	/* An algorithm the engine does not implement, on a block that held a stream. */
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	assert_ok(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL));
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), 1);
	c.alg = 1;
	program(&f->cfg[0], nr_addr, 1, &c, EP_RID, EP_RID + 7, 0x100000000ull, 0x11fffffffull);
	assert_err(pcitsm_ide_port_load(f->rp, &f->cfg[0].cfg, CAP, NULL), PCITSM_E_UNSUPPORTED);
	assert_false(f->rp->stream[1].configured);
	assert_int_equal(pcitsm_ide_stream_find(f->rp, SID), -1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_load_association),
		T(test_enable_and_traffic),
		T(test_capability_limits),
		T(test_load_block),
		T(test_stream_id_moves),
		T(test_block_without_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
