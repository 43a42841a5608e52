/* SPDX-License-Identifier: MIT */
/*
 * The IDE_KM responder against an emulated endpoint and root port (lib/emu config spaces) and real
 * IDE engine ports (lib/ide), driven by the requester engine: QUERY_RESP read live from config
 * space and cross-checked by the host, the six KEY_PROGs, K_SET_GO receivers then transmitters,
 * TLPs that decrypt across the two ports (the key byte order holds end to end), a key refresh with
 * K_SET_STOP, every KP_ACK Status, every dropped request, and the one-session rule of PCIe 6.x §6.33.3.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm_rsp.h"
#include "testutil.h"

/* The responder entry point has the SPDM layer's vendor-defined handler shape. */
static const pcitsm_spdm_vdm_fn vdm_shape_check = pcitsm_idekm_rsp_handle;

#define SID 7
#define S1 0x1001u /* session IDs */
#define S2 0x2002u

struct fx {
	struct test_ide_link l;
	struct pcitsm_idekm_rsp rsp, rp_rsp;
	struct pcitsm_idekm_req rq;
	struct pcitsm_idekm_query_resp qr;
	struct pcitsm_idekm_keys keys;
	uint8_t req[PCITSM_IDEKM_MSG_MAX], out[PCITSM_IDEKM_MSG_MAX];
	size_t req_len, out_len;
	uint8_t wire[PCITSM_IDE_TLP_MAX];
	uint8_t plain[PCITSM_IDE_AGG_MAX * (PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX)];
};

/* ---------------------------------------------------------------------------------------------
 * Set-up: selective block 0 at both ports, written through config space, loaded into the engines.
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)vdm_shape_check;
	test_ide_link_init(&f->l, 21, SID);
	pcitsm_idekm_rsp_init(&f->rsp, &f->l.env.env);
	assert_ok(pcitsm_idekm_rsp_add_port(&f->rsp, &f->l.ep->cfg.cfg, f->l.ep_port, &f->l.ep->bdf));
	pcitsm_idekm_rsp_init(&f->rp_rsp, &f->l.env.env);
	assert_ok(pcitsm_idekm_rsp_add_port(&f->rp_rsp, &f->l.rp->cfg.cfg, f->l.rp_port, &f->l.rp->bdf));
	pcitsm_idekm_req_init(&f->rq);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pcitsm_idekm_keys_wipe(&f->keys);
	test_ide_link_free(&f->l);
	pcitsm_wipe(f, sizeof(*f));
	free(f);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Carrying bytes: the SPDM session's job, done here by hand.
 */
/* Raw request bytes into responder r; returns its verdict, the answer in f->out. */
static pcitsm_err send_raw(struct fx *f, struct pcitsm_idekm_rsp *r, uint32_t session,
			   const uint8_t *req, size_t len)
{
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, f->out, sizeof(f->out));
	e = pcitsm_idekm_rsp_handle(r, session, req, len, &w);
	f->out_len = pcitsm_wr_len(&w);
	if (e == PCITSM_E_NORESPONSE)
		assert_int_equal(f->out_len, 0); /* nothing written when dropped */
	return e;
}

/* The requester's pending request (in f->req) through r, then its check of the answer. */
static pcitsm_err exchange(struct fx *f, struct pcitsm_idekm_rsp *r, uint32_t session)
{
	assert_ok(send_raw(f, r, session, f->req, f->req_len));
	pcitsm_wipe(f->req, f->req_len); /* a KEY_PROG carried a key */
	return pcitsm_idekm_req_response(&f->rq, f->out, f->out_len, &f->qr);
}

static pcitsm_err do_query(struct fx *f, struct pcitsm_idekm_rsp *r, uint8_t port)
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, f->req, sizeof(f->req));
	assert_ok(pcitsm_idekm_req_query(&f->rq, port, &w));
	f->req_len = pcitsm_wr_len(&w);
	return exchange(f, r, S1);
}

static pcitsm_err do_key_prog(struct fx *f, struct pcitsm_idekm_rsp *r,
			      const struct pcitsm_idekm_key_prog *kp)
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, f->req, sizeof(f->req));
	assert_ok(pcitsm_idekm_req_key_prog(&f->rq, kp, &w));
	f->req_len = pcitsm_wr_len(&w);
	return exchange(f, r, S1);
}

static pcitsm_err do_k_set(struct fx *f, struct pcitsm_idekm_rsp *r, uint8_t obj, unsigned kset,
			   enum pcitsm_ide_dir d, enum pcitsm_ide_sub u)
{
	struct pcitsm_idekm_ks m = { .stream_id = SID, .kset = (uint8_t)kset, .dir = d, .sub = u };
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, f->req, sizeof(f->req));
	assert_ok(pcitsm_idekm_req_k_set(&f->rq, obj, &m, &w));
	f->req_len = pcitsm_wr_len(&w);
	return exchange(f, r, S1);
}

/* The six KEY_PROGs of f->keys to the endpoint; the root port by platform means or, with via_rsp,
 * through its own IDE_KM responder (the mirror image: its Tx gets the endpoint's Rx key). */
static void program(struct fx *f, unsigned kset, bool via_rsp)
{
	struct pcitsm_idekm_key_prog kp;

	assert_ok(pcitsm_idekm_keys_generate(&f->l.env.env, SID, kset, &f->keys));
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		assert_ok(pcitsm_idekm_keys_key_prog(&f->keys, i, 0, &kp));
		assert_ok(do_key_prog(f, &f->rsp, &kp));
		assert_int_equal(f->rq.kp_status, PCITSM_IDEKM_KP_SUCCESS);
		if (via_rsp) {
			kp.ks.dir = kp.ks.dir == PCITSM_IDE_RX ? PCITSM_IDE_TX : PCITSM_IDE_RX;
			assert_ok(do_key_prog(f, &f->rp_rsp, &kp));
		}
		pcitsm_wipe(&kp, sizeof(kp));
	}
	if (!via_rsp)
		assert_ok(pcitsm_idekm_keys_prog_partner(&f->keys, f->l.rp_port));
	pcitsm_idekm_keys_wipe(&f->keys);
}

/* PCIe 6.x §6.33.3, §6.33: K_SET_GO every receiver at both ports, then every transmitter. */
static void go(struct fx *f, unsigned kset, bool via_rsp)
{
	for (int d = PCITSM_IDE_RX; d <= PCITSM_IDE_TX; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			assert_ok(do_k_set(f, &f->rsp, PCITSM_IDEKM_K_SET_GO, kset, d, u));
			if (via_rsp)
				assert_ok(do_k_set(f, &f->rp_rsp, PCITSM_IDEKM_K_SET_GO, kset, d, u));
			else
				assert_ok(pcitsm_ide_k_set_go(f->l.rp_port, SID, kset, d, u));
		}
}

static void secure(struct fx *f, bool via_rsp)
{
	assert_ok(do_query(f, &f->rsp, 0));
	program(f, 0, via_rsp);
	go(f, 0, via_rsp);
	assert_ok(pcitsm_ide_stream_enable(f->l.ep_port, 0));
	assert_ok(pcitsm_ide_stream_enable(f->l.rp_port, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->l.ep_port, 0), PCITSM_IDE_SECURE);
	assert_int_equal(pcitsm_ide_stream_state(f->l.rp_port, 0), PCITSM_IDE_SECURE);
}

/* One TLP from a to b through the engines; the plaintext that came out in f->plain. */
static pcitsm_err hop(struct fx *f, struct pcitsm_ide_port *a, struct pcitsm_ide_port *b,
		      const uint8_t *tlp, size_t len, struct pcitsm_ide_rx_out *out)
{
	struct pcitsm_ide_io io = { tlp, len, f->wire, sizeof(f->wire), 0 };

	PCITSM_TRY(pcitsm_ide_tx(a, &io, 1));
	assert_int_equal(f->wire[0], PCITSM_IDE_PFX_BYTE0); /* it went out as an IDE TLP */
	*out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	return pcitsm_ide_rx(b, f->wire, io.out_len, out);
}

/* t encoded and carried from a to b: what comes out at b is what went in. */
static void hop_clear(struct fx *f, const struct pcitsm_tlp *t, struct pcitsm_ide_port *a,
		      struct pcitsm_ide_port *b)
{
	struct pcitsm_ide_rx_out out;
	uint8_t tlp[128];
	size_t n;

	assert_ok(pcitsm_tlp_encode(t, tlp, sizeof(tlp), &n));
	assert_ok(hop(f, a, b, tlp, n, &out));
	assert_memory_equal(f->plain + out.off[0], tlp, n);
}

/* Posted writes both ways and a read with its completion: every one decrypts at the partner. */
static void traffic(struct fx *f, unsigned kset)
{
	uint16_t ep_rid = pcitsm_bdf_rid(&f->l.ep->bdf), rp_rid = pcitsm_bdf_rid(&f->l.rp->bdf);
	uint8_t data[64], tlp[128];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_tlp t;
	size_t n;

	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 7 + kset);
	for (int round = 0; round < 3; round++) {
		/* Root port -> endpoint: MWr in its address association. */
		t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_MWR, .req_id = rp_rid, .first_be = 0xf,
					 .last_be = 0xf, .addr = 0x80000100, .data = data,
					 .len = sizeof(data) };
		assert_ok(pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &n));
		assert_ok(hop(f, f->l.rp_port, f->l.ep_port, tlp, n, &out));
		assert_int_equal((f->wire[3] & PCITSM_IDE_PFX_K) != 0, kset);
		assert_null(memmem(f->wire + 16, sizeof(data), data, 16)); /* encrypted */
		assert_int_equal(out.n, 1);
		assert_memory_equal(f->plain + out.off[0], tlp, n);
		/* Endpoint -> root port: DMA write on the Default Stream. */
		t.req_id = ep_rid;
		t.addr = 0x10000040;
		hop_clear(f, &t, f->l.ep_port, f->l.rp_port);
		/* A read and its completion: the NPR and CPL sub-streams. */
		hop_clear(f, &(struct pcitsm_tlp){ .kind = PCITSM_TLP_MRD, .req_id = rp_rid, .tag = 3,
						   .first_be = 0xf, .last_be = 0xf,
						   .addr = 0x80000200, .len = 64 },
			  f->l.rp_port, f->l.ep_port);
		hop_clear(f, &(struct pcitsm_tlp){ .kind = PCITSM_TLP_CPLD, .cpl_id = ep_rid,
						   .req_id = rp_rid, .tag = 3, .byte_count = 64,
						   .data = data, .len = 64 },
			  f->l.ep_port, f->l.rp_port);
		/* And the other way: the endpoint's DMA read, the root port's completion. */
		hop_clear(f, &(struct pcitsm_tlp){ .kind = PCITSM_TLP_MRD, .req_id = ep_rid, .tag = 4,
						   .first_be = 0xf, .last_be = 0xf,
						   .addr = 0x10000000, .len = 64 },
			  f->l.ep_port, f->l.rp_port);
		hop_clear(f, &(struct pcitsm_tlp){ .kind = PCITSM_TLP_CPLD, .cpl_id = rp_rid,
						   .req_id = ep_rid, .tag = 4, .byte_count = 64,
						   .data = data, .len = 64 },
			  f->l.rp_port, f->l.ep_port);
	}
}

/* ---------------------------------------------------------------------------------------------
 * End to end
 */
static void test_e2e_platform_keys(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_mismatch mm;

	secure(f, false);
	/* The QUERY_RESP the endpoint sent agrees with what the host reads itself. */
	assert_int_equal(f->qr.bus, 1);
	assert_int_equal(f->qr.dev_func, 0);
	assert_int_equal(f->qr.max_port_index, 0);
	assert_true(f->qr.ide_cap & PCITSM_IDE_CAP_IDE_KM);
	assert_int_equal(f->qr.nr_link, 1);
	assert_int_equal(f->qr.nr_sel, 4);
	assert_int_equal(pcitsm_idekm_qr_reg(&f->qr, f->qr.sel_off[0] + PCITSM_IDE_SEL_CTL) >> 24,
			 SID);
	assert_ok(pcitsm_idekm_query_resp_check(&f->qr, &f->l.ep->cfg.cfg, f->l.ep->ide_off,
						&f->l.ep->bdf, &mm));
	traffic(f, 0);
	assert_int_equal(f->rsp.stats.dropped, 0);
	assert_int_equal(f->rsp.stats.answered, 1 + 6 + 6);
}

static void test_e2e_both_responders(void **state)
{
	struct fx *f = *state;

	secure(f, true);
	traffic(f, 0);
	assert_int_equal(f->rp_rsp.stats.answered, 6 + 6);
}

/* The same keys with the root port given the KEY_PROG bytes as if they were AES bytes: nothing
 * decrypts. The test above would notice a wrong byte order. */
static void test_e2e_wrong_byte_order_fails(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_key_prog kp;
	struct pcitsm_ide_rx_out out;
	uint8_t data[16] = { 1, 2, 3 }, tlp[64];
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = pcitsm_bdf_rid(&f->l.rp->bdf),
				.first_be = 0xf, .last_be = 0xf, .addr = 0x80000000, .data = data,
				.len = sizeof(data) };
	size_t n;

	assert_ok(pcitsm_idekm_keys_generate(&f->l.env.env, SID, 0, &f->keys));
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		assert_ok(pcitsm_idekm_keys_key_prog(&f->keys, i, 0, &kp));
		assert_ok(do_key_prog(f, &f->rsp, &kp));
		assert_ok(pcitsm_ide_key_prog_aes(f->l.rp_port, SID, 0,
						  kp.ks.dir == PCITSM_IDE_RX ? PCITSM_IDE_TX :
									       PCITSM_IDE_RX,
						  kp.ks.sub, kp.key, 1));
		pcitsm_wipe(&kp, sizeof(kp));
	}
	go(f, 0, false);
	assert_ok(pcitsm_ide_stream_enable(f->l.ep_port, 0));
	assert_ok(pcitsm_ide_stream_enable(f->l.rp_port, 0));
	assert_ok(pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &n));
	assert_err(hop(f, f->l.rp_port, f->l.ep_port, tlp, n, &out), PCITSM_E_MAC);
}

/* PCIe 6.x §6.33 refresh over IDE_KM: K1 programmed while K0 carries traffic, GO Rx then Tx, traffic on K1,
 * then K_SET_STOP K0. K0's slots in use could not be stopped before the switch. */
static void test_e2e_refresh(void **state)
{
	struct fx *f = *state;

	secure(f, false);
	traffic(f, 0);
	/* K0 is in use: programming it again is refused with a Status, stopping it gets no ack. */
	struct pcitsm_idekm_key_prog kp;
	assert_ok(pcitsm_idekm_keys_generate(&f->l.env.env, SID, 0, &f->keys));
	assert_ok(pcitsm_idekm_keys_key_prog(&f->keys, 0, 0, &kp));
	assert_err(do_key_prog(f, &f->rsp, &kp), PCITSM_E_PEER_ERROR);
	assert_int_equal(f->rq.kp_status, PCITSM_IDEKM_KP_UNSPECIFIED_FAILURE);
	pcitsm_wipe(&kp, sizeof(kp));
	pcitsm_idekm_keys_wipe(&f->keys);
	struct pcitsm_idekm_ks m = { .obj = PCITSM_IDEKM_K_SET_STOP, .stream_id = SID };
	struct pcitsm_wr w;
	pcitsm_wr_init(&w, f->req, sizeof(f->req));
	assert_ok(pcitsm_idekm_ks_encode(&w, &m));
	assert_err(send_raw(f, &f->rsp, S1, f->req, 8), PCITSM_E_NORESPONSE);
	assert_int_equal(f->rsp.stats.last_drop, PCITSM_E_BUSY);

	program(f, 1, false);
	go(f, 1, false);
	traffic(f, 1);
	for (int d = PCITSM_IDE_RX; d <= PCITSM_IDE_TX; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			assert_ok(do_k_set(f, &f->rsp, PCITSM_IDEKM_K_SET_STOP, 0, d, u));
	assert_false(f->l.ep_port->stream[0].slot[PCITSM_IDE_RX][0][0].valid);
	traffic(f, 1);
}

/* QUERY_RESP is read live: a register written after the first QUERY shows in the next. The
 * root port's capability is not the endpoint's: the cross-check names the register. */
static void test_query_live_and_crosscheck(void **state)
{
	struct fx *f = *state;
	struct pcitsm_idekm_mismatch mm;
	uint32_t ctl_off;

	assert_ok(do_query(f, &f->rsp, 0));
	ctl_off = f->qr.sel_off[1] + PCITSM_IDE_SEL_CTL;
	assert_int_equal(pcitsm_idekm_qr_reg(&f->qr, ctl_off), 0xff000000u); /* idle: ID 255 */
	assert_ok(pcitsm_cfg_write32(&f->l.ep->cfg.cfg, f->l.ep->ide_off + ctl_off,
				     9u << 24 | 3u << PCITSM_IDE_CTL_TC_SHIFT));
	assert_ok(do_query(f, &f->rsp, 0));
	assert_int_equal(pcitsm_idekm_qr_reg(&f->qr, ctl_off), 9u << 24 | 3u << 19);
	assert_ok(pcitsm_idekm_query_resp_check(&f->qr, &f->l.ep->cfg.cfg, f->l.ep->ide_off, NULL,
						&mm));
	/* Against the root port's config space (another function): the capability differs. */
	assert_err(pcitsm_idekm_query_resp_check(&f->qr, &f->l.rp->cfg.cfg, f->l.rp->ide_off, NULL,
						 &mm),
		   PCITSM_E_MISMATCH);
	assert_string_equal(mm.name, "IDE Capability");
	assert_int_equal(mm.off, PCITSM_IDE_CAP);
	/* Or the device lies about an algorithm after the host read its registers. */
	assert_ok(pcitsm_cfg_write32(&f->l.ep->cfg.cfg, f->l.ep->ide_off + ctl_off,
				     9u << 24 | 1u << PCITSM_IDE_CTL_ALG_SHIFT));
	assert_err(pcitsm_idekm_query_resp_check(&f->qr, &f->l.ep->cfg.cfg, f->l.ep->ide_off, NULL,
						 &mm),
		   PCITSM_E_MISMATCH);
	assert_string_equal(mm.name, "Selective 1 Control");
	/* A responder for several ports: MaxPortIndex and each port's own registers. */
	assert_ok(pcitsm_idekm_rsp_add_port(&f->rsp, &f->l.rp->cfg.cfg, f->l.rp_port, &f->l.rp->bdf));
	assert_ok(do_query(f, &f->rsp, 1));
	assert_int_equal(f->qr.port_index, 1);
	assert_int_equal(f->qr.max_port_index, 1);
	assert_int_equal(f->qr.bus, 0);
	assert_int_equal(f->qr.dev_func, 1 << 3);
	assert_ok(pcitsm_idekm_query_resp_check(&f->qr, &f->l.rp->cfg.cfg, f->l.rp->ide_off,
						&f->l.rp->bdf, &mm));
}

/* ---------------------------------------------------------------------------------------------
 * KP_ACK Status for each bad KEY_PROG, with the slot echoed.
 */
static size_t mk_key_prog(uint8_t *buf, uint8_t sid, uint8_t ksub, uint8_t port, uint64_t ifv)
{
	struct pcitsm_idekm_key_prog kp;
	struct pcitsm_wr w;

	memset(&kp, 0, sizeof(kp));
	kp.ks.obj = PCITSM_IDEKM_KEY_PROG;
	kp.ks.stream_id = sid;
	kp.ks.port_index = port;
	memset(kp.key, 0x3c, sizeof(kp.key));
	pcitsm_ide_km_ifv_encode(ifv, kp.ifv);
	pcitsm_wr_init(&w, buf, 64);
	assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
	buf[6] = ksub;
	return 48;
}

static void expect_kp_ack(struct fx *f, const uint8_t *req, size_t len, uint8_t status)
{
	assert_ok(send_raw(f, &f->rsp, S1, req, len));
	assert_int_equal(f->out_len, 8);
	assert_int_equal(f->out[0], 0);
	assert_int_equal(f->out[1], PCITSM_IDEKM_KP_ACK);
	assert_int_equal(f->out[2] | f->out[3], 0);
	assert_int_equal(f->out[4], req[4]);                 /* Stream ID */
	assert_int_equal(f->out[5], status);
	assert_int_equal(f->out[6], req[6] & 0xf3);          /* Key Sub-Stream, reserved bits 0 */
	assert_int_equal(f->out[7], req[7]);                 /* PortIndex */
	assert_int_equal(f->rsp.stats.last_kp_status, status);
}

static void test_kp_ack_statuses(void **state)
{
	struct fx *f = *state;
	uint8_t req[128];
	size_t n;

	/* Success, every slot. */
	for (unsigned b = 0; b < 0x30; b++)
		if (!(b & 0x0c)) {
			n = mk_key_prog(req, SID, (uint8_t)b, 0, 1);
			expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_SUCCESS);
		}
	/* 0x01 Incorrect length: every size from 8 (the echoed fields present) up, but 48. */
	n = mk_key_prog(req, SID, 0x12, 0, 1);
	memset(req + 48, 0, sizeof(req) - 48);
	for (size_t l = 8; l < sizeof(req); l++)
		if (l != 48)
			expect_kp_ack(f, req, l, PCITSM_IDEKM_KP_INCORRECT_LENGTH);
	/* 0x02 Unsupported PortIndex: outside the accepted setting (0 and 1 by default). */
	for (unsigned p = 2; p < 256; p += 17) {
		n = mk_key_prog(req, SID, 0x00, (uint8_t)p, 1);
		expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_PORT_INDEX);
	}
	/* 0x03 Unsupported value: sub-stream 3..15, reserved bits, Stream ID of no configured
	 * stream or the reserved 255, IFV other than 1 (Intel TEE-IO validator cases 2.4-2.6). */
	for (unsigned s = 3; s < 16; s++) {
		n = mk_key_prog(req, SID, (uint8_t)(s << 4 | 1), 0, 1);
		expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	}
	n = mk_key_prog(req, SID, 0x04, 0, 1);
	expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	n = mk_key_prog(req, SID, 0x08, 0, 1);
	expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	for (int off = 2; off <= 5; off++) {
		if (off == 4)
			continue;
		n = mk_key_prog(req, SID, 0x02, 0, 1);
		req[off] = 0x40;
		expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	}
	n = mk_key_prog(req, SID + 1, 0x00, 0, 1);
	expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	n = mk_key_prog(req, 255, 0x00, 0, 1);
	expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	static const uint64_t bad_ifv[] = { 0, 2, 0xff, 1ull << 32, UINT64_MAX };
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad_ifv); i++) {
		n = mk_key_prog(req, SID, 0x00, 0, bad_ifv[i]);
		expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
	}
	/* Order: a wrong length wins over a wrong port, a wrong port over a wrong field. */
	n = mk_key_prog(req, 255, 0x30, 9, 0);
	expect_kp_ack(f, req, 47, PCITSM_IDEKM_KP_INCORRECT_LENGTH);
	expect_kp_ack(f, req, n, PCITSM_IDEKM_KP_UNSUPPORTED_PORT_INDEX);
	/* 0x04 Unspecified failure: the key set is in use by the Secure stream (test_e2e_refresh). */
	assert_int_equal(f->rsp.stats.dropped, 0);
	pcitsm_wipe(req, sizeof(req));
}

/* ---------------------------------------------------------------------------------------------
 * No response.
 */
static void expect_drop(struct fx *f, uint32_t session, const uint8_t *req, size_t len, pcitsm_err why)
{
	uint64_t before = f->rsp.stats.dropped;

	assert_err(send_raw(f, &f->rsp, session, req, len), PCITSM_E_NORESPONSE);
	assert_int_equal(f->rsp.stats.dropped, before + 1);
	assert_err(f->rsp.stats.last_drop, why);
}

static void test_drops(void **state)
{
	struct fx *f = *state;
	uint8_t q[8] = { 0, PCITSM_IDEKM_QUERY, 0, 0 }, b[16], kp[64];
	struct pcitsm_idekm_ks m = { .obj = PCITSM_IDEKM_K_SET_GO, .stream_id = SID };
	struct pcitsm_wr w;

	/* Not IDE_KM, too short to say, response objects, unknown objects. */
	expect_drop(f, S1, q, 0, PCITSM_E_SHORT);
	expect_drop(f, S1, q, 1, PCITSM_E_SHORT);
	q[0] = 1;
	expect_drop(f, S1, q, 4, PCITSM_E_FIELD);
	q[0] = 0;
	for (unsigned o = 0; o < 256; o++) {
		if (o == PCITSM_IDEKM_QUERY || o == PCITSM_IDEKM_KEY_PROG ||
		    o == PCITSM_IDEKM_K_SET_GO || o == PCITSM_IDEKM_K_SET_STOP)
			continue;
		q[1] = (uint8_t)o;
		expect_drop(f, S1, q, 4, o <= 6 ? PCITSM_E_UNEXPECTED : PCITSM_E_FIELD);
	}
	/* QUERY: wrong size, reserved byte, no such port. */
	q[1] = PCITSM_IDEKM_QUERY;
	expect_drop(f, S1, q, 3, PCITSM_E_SHORT);
	expect_drop(f, S1, q, 5, PCITSM_E_LONG);
	q[2] = 1;
	expect_drop(f, S1, q, 4, PCITSM_E_RESERVED);
	q[2] = 0;
	q[3] = 2; /* 0 and 1 are the endpoint by default; 2 is nothing */
	expect_drop(f, S1, q, 4, PCITSM_E_NOTFOUND);
	q[3] = 31;
	expect_drop(f, S1, q, 4, PCITSM_E_NOTFOUND);
	q[3] = 0xff;
	expect_drop(f, S1, q, 4, PCITSM_E_NOTFOUND);
	/* KEY_PROG without the 8 bytes a KP_ACK would echo. */
	mk_key_prog(kp, SID, 0, 0, 1);
	for (size_t l = 2; l < 8; l++)
		expect_drop(f, S1, kp, l, PCITSM_E_SHORT);
	/* K_SET_GO / K_SET_STOP: wrong size, reserved bits, sub-stream, port, no stream, slot not
	 * programmed (PCIe 6.x §6.33.3: invalid K_SET_GO/STOP, no ack). */
	pcitsm_wr_init(&w, b, sizeof(b));
	assert_ok(pcitsm_idekm_ks_encode(&w, &m));
	expect_drop(f, S1, b, 7, PCITSM_E_SHORT);
	expect_drop(f, S1, b, 9, PCITSM_E_LONG);
	b[5] = 1;
	expect_drop(f, S1, b, 8, PCITSM_E_RESERVED);
	b[5] = 0;
	b[6] = 0x30;
	expect_drop(f, S1, b, 8, PCITSM_E_FIELD);
	b[6] = 0;
	b[7] = 2;
	expect_drop(f, S1, b, 8, PCITSM_E_NOTFOUND);
	b[7] = 0;
	b[4] = SID + 1;
	expect_drop(f, S1, b, 8, PCITSM_E_NOTFOUND);
	b[4] = SID;
	expect_drop(f, S1, b, 8, PCITSM_E_STATE); /* GO for a slot never programmed */
	b[1] = PCITSM_IDEKM_K_SET_STOP;
	b[4] = 200;
	expect_drop(f, S1, b, 8, PCITSM_E_NOTFOUND);
	assert_int_equal(f->rsp.stats.answered, 0);
	assert_false(f->rsp.bound); /* nothing answered: no session bound */
	/* A too small response buffer is the caller's problem, not a drop. */
	struct pcitsm_wr tiny;
	uint8_t t[8];
	q[3] = 0;
	pcitsm_wr_init(&tiny, t, sizeof(t));
	assert_err(pcitsm_idekm_rsp_handle(&f->rsp, S1, q, 4, &tiny), PCITSM_E_NOSPC);
	mk_key_prog(kp, SID, 0, 0, 1);
	pcitsm_wr_init(&tiny, t, 7);
	assert_err(pcitsm_idekm_rsp_handle(&f->rsp, S1, kp, 48, &tiny), PCITSM_E_NOSPC);
	assert_err(pcitsm_idekm_rsp_handle(NULL, S1, kp, 48, &tiny), PCITSM_E_INVAL);
	pcitsm_wipe(kp, sizeof(kp));
}

/* PCIe 6.x §6.33.3: one session owns IDE_KM while it is open; once it closes, the streams it
 * keyed go Insecure before another session is answered. */
static void test_sessions(void **state)
{
	struct fx *f = *state;
	uint8_t q[4] = { 0, PCITSM_IDEKM_QUERY, 0, 0 }, go[8];
	struct pcitsm_idekm_ks m = { .obj = PCITSM_IDEKM_K_SET_GO, .stream_id = SID };
	struct pcitsm_wr w;

	secure(f, false); /* all in session S1 */
	assert_true(f->rsp.bound);
	assert_int_equal(f->rsp.session_id, S1);
	expect_drop(f, S2, q, 4, PCITSM_E_BUSY);
	pcitsm_wr_init(&w, go, sizeof(go));
	assert_ok(pcitsm_idekm_ks_encode(&w, &m));
	expect_drop(f, S2, go, 8, PCITSM_E_BUSY);
	pcitsm_idekm_rsp_session_closed(&f->rsp, S2); /* not the bound one: nothing happens */
	expect_drop(f, S2, q, 4, PCITSM_E_BUSY);
	assert_int_equal(pcitsm_ide_stream_state(f->l.ep_port, 0), PCITSM_IDE_SECURE);
	traffic(f, 0);
	/* S1 closes: the keys stay until someone else asks ... */
	pcitsm_idekm_rsp_session_closed(&f->rsp, S1);
	assert_int_equal(pcitsm_ide_stream_state(f->l.ep_port, 0), PCITSM_IDE_SECURE);
	/* ... then the stream is Insecure and its keys gone before S2 gets its answer. */
	assert_ok(send_raw(f, &f->rsp, S2, q, 4));
	assert_int_equal(f->out[1], PCITSM_IDEKM_QUERY_RESP);
	assert_int_equal(pcitsm_ide_stream_state(f->l.ep_port, 0), PCITSM_IDE_INSECURE);
	assert_false(f->l.ep_port->stream[0].slot[PCITSM_IDE_RX][0][0].valid);
	assert_false(f->l.ep_port->stream[0].slot[PCITSM_IDE_TX][2][0].valid);
	assert_int_equal(f->rsp.session_id, S2);
	expect_drop(f, S1, q, 4, PCITSM_E_BUSY);
}

/* A few thousand mutated requests: every one is answered with a well-formed response or dropped,
 * never a peer error that would become an SPDM ERROR. */
static void test_mutations(void **state)
{
	struct fx *f = *state;
	uint8_t base[4][64], req[80], rnd[8];
	size_t lens[4];
	struct pcitsm_idekm_query_resp *qr = calloc(1, sizeof(*qr));
	struct pcitsm_idekm_ks ks;
	struct pcitsm_wr w;
	uint64_t answered = 0;

	pcitsm_wr_init(&w, base[0], 64);
	assert_ok(pcitsm_idekm_query_encode(&w, 0));
	lens[0] = 4;
	lens[1] = mk_key_prog(base[1], SID, 0x10, 0, 1);
	for (int i = 2; i < 4; i++) {
		struct pcitsm_idekm_ks m = { .obj = (uint8_t)(i == 2 ? PCITSM_IDEKM_K_SET_GO :
								       PCITSM_IDEKM_K_SET_STOP),
					     .stream_id = SID, .sub = PCITSM_IDE_SUB_NPR };
		pcitsm_wr_init(&w, base[i], 64);
		assert_ok(pcitsm_idekm_ks_encode(&w, &m));
		lens[i] = 8;
	}
	for (int it = 0; it < 5000; it++) {
		size_t n;
		pcitsm_err e;
		uint8_t obj;

		assert_ok(pcitsm_random(&f->l.env.env, rnd, sizeof(rnd)));
		n = lens[rnd[0] & 3];
		memcpy(req, base[rnd[0] & 3], n);
		for (int k = 0; k < 1 + (rnd[1] & 3); k++)
			req[rnd[2 + k] % n] ^= (uint8_t)(1u << (rnd[6] & 7));
		if (rnd[7] & 1)
			n = (n + rnd[7] % 9) - 4;
		memset(req + lens[rnd[0] & 3], 0, sizeof(req) - lens[rnd[0] & 3]);
		e = send_raw(f, &f->rsp, S1, req, n);
		if (e == PCITSM_E_NORESPONSE)
			continue;
		assert_ok(e);
		answered++;
		assert_ok(pcitsm_idekm_peek(f->out, f->out_len, &obj));
		if (obj == PCITSM_IDEKM_QUERY_RESP)
			assert_ok(pcitsm_idekm_query_resp_decode(f->out, f->out_len, qr));
		else if (obj == PCITSM_IDEKM_KP_ACK && (f->out[6] >> 4) > 2)
			assert_true(f->out[5] >= PCITSM_IDEKM_KP_INCORRECT_LENGTH &&
				    f->out[5] <= PCITSM_IDEKM_KP_UNSUPPORTED_VALUE);
		else
			assert_ok(pcitsm_idekm_ks_decode(f->out, f->out_len, &ks));
	}
	assert_true(answered > 500);
	free(qr);
}

/* Ports: up to PCITSM_IDEKM_MAX_PORTS, each with an IDE capability. */
static void test_add_port(void **state)
{
	struct fx *f = *state;
	struct pcitsm_cfg_emu *bare = calloc(1, sizeof(*bare));
	struct pcitsm_idekm_rsp r;

	pcitsm_idekm_rsp_init(&r, &f->l.env.env);
	pcitsm_cfg_emu_init(bare, PCITSM_CFG_SIZE_EXT);
	assert_err(pcitsm_idekm_rsp_add_port(&r, &bare->cfg, f->l.ep_port, &f->l.ep->bdf),
		   PCITSM_E_NOTFOUND);
	assert_err(pcitsm_idekm_rsp_add_port(&r, NULL, f->l.ep_port, &f->l.ep->bdf), PCITSM_E_INVAL);
	assert_err(pcitsm_idekm_rsp_add_port(&r, &f->l.ep->cfg.cfg, NULL, &f->l.ep->bdf),
		   PCITSM_E_INVAL);
	/* A port with more streams than the responder's bitmaps track. */
	struct pcitsm_ide_port *wide;
	assert_ok(pcitsm_ide_port_new_streams(&wide, f->l.ep_port->gcm, &f->l.env.env, 0x100,
					      PCITSM_IDEKM_RSP_STREAMS + 1));
	assert_err(pcitsm_idekm_rsp_add_port(&r, &f->l.ep->cfg.cfg, wide, &f->l.ep->bdf),
		   PCITSM_E_UNSUPPORTED);
	assert_int_equal(r.nr_ports, 0);
	pcitsm_ide_port_free(wide);
	for (unsigned i = 0; i < PCITSM_IDEKM_MAX_PORTS; i++)
		assert_ok(pcitsm_idekm_rsp_add_port(&r, &f->l.ep->cfg.cfg, f->l.ep_port, &f->l.ep->bdf));
	assert_err(pcitsm_idekm_rsp_add_port(&r, &f->l.ep->cfg.cfg, f->l.ep_port, &f->l.ep->bdf),
		   PCITSM_E_EXHAUSTED);
	assert_int_equal(r.nr_ports, PCITSM_IDEKM_MAX_PORTS);
	assert_int_equal(r.port[0].ide_off, f->l.ep->ide_off);
	/* The last port index answers, with MaxPortIndex 7. */
	uint8_t q[4] = { 0, PCITSM_IDEKM_QUERY, 0, PCITSM_IDEKM_MAX_PORTS - 1 };
	assert_ok(send_raw(f, &r, S1, q, 4));
	assert_int_equal(f->out[3], PCITSM_IDEKM_MAX_PORTS - 1);
	assert_int_equal(f->out[7], PCITSM_IDEKM_MAX_PORTS - 1);
	free(bare);
}

int main(void)
{
	return test_run_fixture(setup, teardown, test_e2e_platform_keys, test_e2e_both_responders,
		                                 test_e2e_wrong_byte_order_fails, test_e2e_refresh,
		                                 test_query_live_and_crosscheck,
		                                 test_kp_ack_statuses, test_drops, test_sessions,
		                                 test_mutations, test_add_port);
}
