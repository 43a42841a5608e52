/* SPDX-License-Identifier: MIT */
/*
 * The IDE engine between two ports, driven directly (no link): IV, AAD and MAC layout against an
 * independent GCM computation, Secure / Insecure, check failures and IDE Fail, aggregation,
 * PR_Sent counters and IDE Sync, key refresh, counter exhaustion, association, bad programming.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

#define RP_RID 0x0008 /* 00:01.0 */
#define EP_RID 0x0100 /* 01:00.0 */
#define SID 5

struct fx {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *rp, *ep;
	uint8_t key[2][2][3][32]; /* [kset][sender: 0 rp, 1 ep][sub] */
	uint8_t wire[PCITSM_IDE_TLP_MAX * PCITSM_IDE_AGG_MAX];
	uint8_t plain[PCITSM_IDE_AGG_MAX * (PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX)];
};

static void sel_rp(struct pcitsm_ide_sel *s)
{
	memset(s, 0, sizeof(*s));
	s->ctl.stream_id = SID;
	s->ctl.agg_pr = 3;
	s->ctl.agg_npr = 1;
	s->rid_valid = true;
	s->rid_base = EP_RID;
	s->rid_limit = EP_RID + 7;
	s->nr_addr = 2;
	s->addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000, 0x800fffff };
	s->addr[1] = (struct pcitsm_ide_addr_assoc){ true, 0x100000000ull, 0x1000fffffull };
}

static void sel_ep(struct pcitsm_ide_sel *s)
{
	memset(s, 0, sizeof(*s));
	s->ctl.stream_id = SID;
	s->ctl.default_stream = true;
	s->ctl.agg_pr = 3;
	s->ctl.agg_cpl = 2;
	s->rid_valid = true;
	s->rid_base = RP_RID;
	s->rid_limit = RP_RID;
}

/* KEY_PROG all six slots of kset at both ports, matching Tx to the partner's Rx. */
static void prog(struct fx *f, unsigned kset)
{
	for (int u = 0; u < 3; u++) {
		for (int s = 0; s < 2; s++)
			assert_ok(pcitsm_random(&f->env.env, f->key[kset][s][u], 32));
		assert_ok(pcitsm_ide_key_prog_aes(f->rp, SID, kset, PCITSM_IDE_TX, u,
						  f->key[kset][0][u], 1));
		assert_ok(pcitsm_ide_key_prog_aes(f->ep, SID, kset, PCITSM_IDE_RX, u,
						  f->key[kset][0][u], 1));
		assert_ok(pcitsm_ide_key_prog_aes(f->ep, SID, kset, PCITSM_IDE_TX, u,
						  f->key[kset][1][u], 1));
		assert_ok(pcitsm_ide_key_prog_aes(f->rp, SID, kset, PCITSM_IDE_RX, u,
						  f->key[kset][1][u], 1));
	}
}

static void secure(struct fx *f)
{
	prog(f, 0);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(f->ep, 0));
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 0), PCITSM_IDE_SECURE);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_SECURE);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pcitsm_ide_sel s;

	pcitsm_env_test_init(&f->env, 7);
	assert_ok(pcitsm_gcm_new(&f->gcm, PCITSM_GCM_AUTO));
	assert_ok(pcitsm_ide_port_new(&f->rp, f->gcm, &f->env.env, RP_RID));
	assert_ok(pcitsm_ide_port_new(&f->ep, f->gcm, &f->env.env, EP_RID));
	sel_rp(&s);
	assert_ok(pcitsm_ide_stream_config(f->rp, 0, &s));
	sel_ep(&s);
	assert_ok(pcitsm_ide_stream_config(f->ep, 0, &s));
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

static size_t mk_mwr(uint8_t *buf, uint64_t addr, const uint8_t *data, size_t len)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = RP_RID, .first_be = 0xf,
				.last_be = len > 4 ? 0xf : 0, .addr = addr, .data = data, .len = len };
	size_t n;

	assert_ok(pcitsm_tlp_encode(&t, buf, PCITSM_TLP_HDR_MAX + len, &n));
	return n;
}

static size_t mk_mrd(uint8_t *buf, uint64_t addr, uint8_t tag)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MRD, .req_id = RP_RID, .tag = tag,
				.first_be = 0xf, .last_be = 0xf, .addr = addr, .len = 64 };
	size_t n;

	assert_ok(pcitsm_tlp_encode(&t, buf, 16, &n));
	return n;
}

static size_t mk_cpld(uint8_t *buf, const uint8_t *data, size_t len, uint8_t tag)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_CPLD, .cpl_id = EP_RID, .req_id = RP_RID,
				.tag = tag, .byte_count = (uint16_t)len, .data = data, .len = len };
	size_t n;

	assert_ok(pcitsm_tlp_encode(&t, buf, PCITSM_TLP_HDR_MAX + len, &n));
	return n;
}

/* One TLP from a to b; returns b's verdict and the delivered plaintext. */
static pcitsm_err hop(struct fx *f, struct pcitsm_ide_port *a, struct pcitsm_ide_port *b,
		      const uint8_t *in, size_t len, struct pcitsm_ide_rx_out *out, size_t *wlen)
{
	struct pcitsm_ide_io io = { in, len, f->wire, PCITSM_IDE_TLP_MAX, 0 };

	PCITSM_TRY(pcitsm_ide_tx(a, &io, 1));
	*wlen = io.out_len;
	*out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	return pcitsm_ide_rx(b, f->wire, io.out_len, out);
}

static void test_layout_matches_gcm(void **state)
{
	struct fx *f = *state;
	uint8_t data[64], tlp[80], iv[12] = { 0 }, ct[64], tag[16];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_gcm *ref;
	struct pcitsm_gcm_key *k;
	size_t n, w;

	secure(f);
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(0xa0 + i);
	n = mk_mwr(tlp, 0x80000100, data, sizeof(data));
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(w, 4 + 12 + 64 + 12);
	/* Prefix: PR_Sent 0, Stream ID, sub-stream PR, M=1, K=0. */
	assert_int_equal(f->wire[0], 0x92);
	assert_int_equal(f->wire[2], SID);
	assert_int_equal(f->wire[3], PCITSM_IDE_PFX_M);
	assert_memory_equal(f->wire + 4, tlp, 12); /* header in the clear */
	assert_int_equal(out.n, 1);
	assert_int_equal(out.len[0], n);
	assert_memory_equal(f->plain + out.off[0], tlp, n);
	/* Independently: AES-256-GCM(key PR, IV 00000000 || 0000000000000001, AAD = prefix +
	 * header), MAC = first 12 tag bytes (PCIe 6.x §6.33 AES-GCM). */
	assert_ok(pcitsm_gcm_new(&ref, PCITSM_GCM_OPENSSL));
	assert_ok(pcitsm_gcm_key_new(ref, &k));
	assert_ok(pcitsm_gcm_key_set(k, f->key[0][0][PCITSM_IDE_SUB_PR]));
	iv[11] = 1;
	struct pcitsm_gcm_seg s = { data, ct, sizeof(data) };
	assert_ok(pcitsm_gcm_seal(k, iv, f->wire, 16, &s, 1, tag, 16));
	assert_memory_equal(f->wire + 16, ct, 64);
	assert_memory_equal(f->wire + 80, tag, 12);
	/* The second TLP uses counter 2. */
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	iv[11] = 2;
	assert_ok(pcitsm_gcm_seal(k, iv, f->wire, 16, &s, 1, tag, 16));
	assert_memory_equal(f->wire + 16, ct, 64);
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(ref);
}

/* The zero-copy paths: a payload sealed from a buffer apart from its header gives the same bytes
 * as the whole TLP; a receiver's rx_place gets the payload decrypted where it says (the header
 * alone in the buffer), and on a MAC failure that place is wiped. */
static uint8_t place_buf[64];
static unsigned place_calls;
static bool place_tee;

static uint8_t *place_here(void *ctx, const struct pcitsm_tlp *t)
{
	place_calls++;
	place_tee = t->tee;
	return t->kind == PCITSM_TLP_MWR && ctx == place_buf ? place_buf : NULL;
}

static void test_split_and_place(void **state)
{
	struct fx *f = *state;
	uint8_t data[64], tlp[80], w1[PCITSM_IDE_TLP_MAX];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_ide_io io;
	size_t n, w;

	secure(f);
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(0x30 + i);
	n = mk_mwr(tlp, 0x80000100, data, sizeof(data));
	/* Split: header 12 bytes, the payload in data; then the same TLP whole, on a fresh pair
	 * of counters (re-keyed), must give the same wire bytes. */
	io = (struct pcitsm_ide_io){ tlp, 12, w1, sizeof(w1), 0, false, data, sizeof(data) };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	w = io.out_len;
	assert_int_equal(w, 4 + 12 + 64 + 12);
	/* The receiver places the payload: header in its buffer, payload in place_buf. */
	f->ep->rx_place = place_here;
	f->ep->rx_place_ctx = place_buf;
	memset(place_buf, 0, sizeof(place_buf));
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_ok(pcitsm_ide_rx(f->ep, w1, w, &out));
	assert_int_equal(out.n, 1);
	assert_int_equal(out.len[0], 12);
	assert_ptr_equal(out.data, place_buf);
	assert_int_equal(out.data_len, 64);
	assert_memory_equal(f->plain, tlp, 12);
	assert_memory_equal(place_buf, data, 64);
	assert_int_equal(place_calls, 1);
	assert_false(place_tee);
	/* The whole form again: same layout after the header (counter 2 now). */
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_ptr_equal(out.data, place_buf);
	assert_memory_equal(place_buf, data, 64);
	/* A flipped ciphertext bit: E_MAC, and nothing of the forged plaintext stays in place. */
	io = (struct pcitsm_ide_io){ tlp, 12, w1, sizeof(w1), 0, false, data, sizeof(data) };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	w1[20] ^= 1;
	memset(place_buf, 0xee, sizeof(place_buf));
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_err(pcitsm_ide_rx(f->ep, w1, io.out_len, &out), PCITSM_E_MAC);
	assert_int_equal(out.n, 0);
	for (size_t i = 0; i < sizeof(place_buf); i++)
		assert_int_equal(place_buf[i], 0);
	/* A TLP whose MAC checks but whose counters do not (PR_Recv at its limit): decrypted in
	 * place, refused, and wiped there by the engine. */
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	f->ep->stream[0].pr_recv_npr = UINT64_MAX;
	memset(place_buf, 0xee, sizeof(place_buf));
	assert_err(hop(f, f->rp, f->ep, tlp, n, &out, &w), PCITSM_E_REPLAY);
	assert_int_equal(out.n, 0);
	for (size_t i = 0; i < sizeof(place_buf); i++)
		assert_int_equal(place_buf[i], 0);
	f->ep->rx_place = NULL;
}

/* An aggregated unit and a PCRC TLP against an independent GCM computation (PCIe 6.x §6.33 PCRC,
 * aggregation): one invocation per unit, A = the prefixes and headers of all its TLPs in order, P =
 * their payloads in order (then the PCRC, little-endian zlib CRC-32 of the plaintext), MAC only on
 * the last. */
static void test_unit_and_pcrc_layout(void **state)
{
	struct fx *f = *state;
	uint8_t data[3][32], tlp[3][64], w[3][128], aad[3 * 16], pt[3 * 32 + 4], ct[3 * 32 + 4];
	uint8_t iv[12] = { 0 }, tag[16];
	struct pcitsm_ide_io io[3];
	struct pcitsm_ide_rx_out out = { .buf = f->plain, .cap = sizeof(f->plain) };
	struct pcitsm_ide_sel sel;
	struct pcitsm_gcm *ref;
	struct pcitsm_gcm_key *k;
	size_t n[3], dl[3] = { 32, 8, 16 }, pl = 0;

	sel_rp(&sel);
	sel.ctl.pcrc = true;
	assert_ok(pcitsm_ide_stream_config(f->rp, 0, &sel));
	sel_ep(&sel);
	sel.ctl.pcrc = true;
	assert_ok(pcitsm_ide_stream_config(f->ep, 0, &sel));
	secure(f);
	for (int i = 0; i < 3; i++) {
		assert_ok(pcitsm_random(&f->env.env, data[i], dl[i]));
		n[i] = mk_mwr(tlp[i], 0x80000000 + 0x40 * (unsigned)i, data[i], dl[i]);
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], w[i], sizeof(w[i]), 0 };
	}
	assert_ok(pcitsm_ide_tx(f->rp, io, 3));
	for (int i = 0; i < 3; i++) {
		/* Prefix: M and P only on the last; header in the clear. */
		assert_int_equal(w[i][3], i == 2 ? PCITSM_IDE_PFX_M | PCITSM_IDE_PFX_P : 0);
		assert_memory_equal(w[i] + 4, tlp[i], 12);
		assert_int_equal(io[i].out_len, 16 + dl[i] + (i == 2 ? 4 + 12 : 0));
		memcpy(aad + 16 * i, w[i], 16);
		memcpy(pt + pl, data[i], dl[i]);
		pl += dl[i];
	}
	pcitsm_ide_pcrc(pt, pl, pt + pl);
	assert_ok(pcitsm_gcm_new(&ref, PCITSM_GCM_OPENSSL));
	assert_ok(pcitsm_gcm_key_new(ref, &k));
	assert_ok(pcitsm_gcm_key_set(k, f->key[0][0][PCITSM_IDE_SUB_PR]));
	iv[11] = 1;
	struct pcitsm_gcm_seg s = { pt, ct, pl + 4 };
	assert_ok(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &s, 1, tag, 16));
	assert_memory_equal(w[0] + 16, ct, 32);
	assert_memory_equal(w[1] + 16, ct + 32, 8);
	assert_memory_equal(w[2] + 16, ct + 40, 16 + 4); /* payload, then the encrypted PCRC */
	assert_memory_equal(w[2] + 16 + 16 + 4, tag, 12);
	for (int i = 0; i < 3; i++)
		assert_ok(pcitsm_ide_rx(f->ep, w[i], io[i].out_len, &out));
	assert_int_equal(out.n, 3);
	for (int i = 0; i < 3; i++)
		assert_memory_equal(f->plain + out.off[i], tlp[i], n[i]);
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(ref);
}

/* The IV counter starts at the IFV KEY_PROG delivered (here not 1), in KEY_PROG byte order. */
static void test_ifv_start(void **state)
{
	struct fx *f = *state;
	const uint64_t ifv = 0x0102030405060708ull;
	uint8_t key[32], wkey[32], wifv[8], data[16], tlp[32], ct[16], tag[16];
	uint8_t iv[12] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pcitsm_ide_rx_out out;
	struct pcitsm_gcm *ref;
	struct pcitsm_gcm_key *k;
	size_t n, w;

	prog(f, 0); /* every slot, IFV 1 */
	/* Then the root port's Posted TX and the endpoint's Posted RX again, with IFV = ifv. */
	assert_ok(pcitsm_random(&f->env.env, key, sizeof(key)));
	pcitsm_ide_km_key_from_aes(key, wkey);
	pcitsm_ide_km_ifv_encode(ifv, wifv);
	assert_ok(pcitsm_ide_key_prog(f->rp, SID, 0, PCITSM_IDE_TX, PCITSM_IDE_SUB_PR, wkey, wifv));
	assert_ok(pcitsm_ide_key_prog(f->ep, SID, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR, wkey, wifv));
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(f->ep, 0));
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	memset(data, 0x3c, sizeof(data));
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(out.n, 1);
	assert_ok(pcitsm_gcm_new(&ref, PCITSM_GCM_OPENSSL));
	assert_ok(pcitsm_gcm_key_new(ref, &k));
	assert_ok(pcitsm_gcm_key_set(k, key));
	struct pcitsm_gcm_seg sg = { data, ct, sizeof(data) };
	assert_ok(pcitsm_gcm_seal(k, iv, f->wire, 16, &sg, 1, tag, 16));
	assert_memory_equal(f->wire + 16, ct, sizeof(ct));
	assert_memory_equal(f->wire + 32, tag, 12);
	assert_true(f->rp->stream[0].slot[PCITSM_IDE_TX][0][0].ctr == ifv + 1);
	assert_true(f->ep->stream[0].slot[PCITSM_IDE_RX][0][0].ctr == ifv + 1);
	pcitsm_wipe(key, sizeof(key));
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(ref);
}

static void test_types_and_counters(void **state)
{
	struct fx *f = *state;
	uint8_t data[256], tlp[300];
	struct pcitsm_ide_rx_out out;
	size_t n, w;

	secure(f);
	memset(data, 0x3c, sizeof(data));
	/* Three posted writes (one 64-bit), then a read carrying PR_Sent 3, then its completion. */
	for (int i = 0; i < 3; i++) {
		n = mk_mwr(tlp, i == 2 ? 0x100000040ull : 0x80000000, data, 16);
		assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	}
	n = mk_mrd(tlp, 0x80000000, 1);
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(f->wire[1], 3);                             /* PR_Sent_Counter-NPR */
	assert_int_equal(f->wire[3] >> 4, PCITSM_IDE_SUB_NPR);
	assert_int_equal(f->ep->stream[0].pr_recv_npr, 0);
	assert_int_equal(f->ep->stream[0].pr_recv_cpl, 3);
	n = mk_cpld(tlp, data, 256, 1);
	assert_ok(hop(f, f->ep, f->rp, tlp, n, &out, &w));
	assert_int_equal(f->wire[3] >> 4, PCITSM_IDE_SUB_CPL);
	assert_memory_equal(f->plain, tlp, n);
	/* The tap's view: no plaintext byte run of the payload. */
	assert_null(memmem(f->wire + 16, 256, data, 8));
}

static void test_check_failed(void **state)
{
	struct fx *f = *state;
	uint8_t data[32] = { 1 }, tlp[64], msg[64];
	struct pcitsm_ide_rx_out out;
	size_t n, w, ml;

	secure(f);
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	struct pcitsm_ide_io io = { tlp, n, f->wire, PCITSM_IDE_TLP_MAX, 0 };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	f->wire[20] ^= 1;
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_err(pcitsm_ide_rx(f->ep, f->wire, io.out_len, &out), PCITSM_E_MAC);
	assert_int_equal(out.n, 0);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	assert_int_equal(f->ep->stream[0].fail_reason, PCITSM_E_MAC);
	assert_false(f->ep->stream[0].slot[PCITSM_IDE_RX][0][0].valid); /* keys invalidated */
	/* Every later TLP of the stream is discarded; the transmitter refuses to send. */
	f->wire[20] ^= 1;
	assert_err(pcitsm_ide_rx(f->ep, f->wire, io.out_len, &out), PCITSM_E_STATE);
	n = mk_cpld(tlp, data, 16, 0);
	io = (struct pcitsm_ide_io){ tlp, n, f->wire, PCITSM_IDE_TLP_MAX, 0 };
	assert_err(pcitsm_ide_tx(f->ep, &io, 1), PCITSM_E_STATE);
	/* The IDE Fail goes out in the clear, and turns the partner Insecure too. */
	assert_ok(pcitsm_ide_next_msg(f->ep, msg, sizeof(msg), &ml));
	assert_int_equal(ml, 16);
	assert_int_equal(msg[7], PCITSM_MSG_IDE_FAIL);
	assert_int_equal(msg[12], SID);
	assert_err(pcitsm_ide_next_msg(f->ep, msg + 20, sizeof(msg) - 20, &ml), PCITSM_E_NOTFOUND);
	assert_ok(pcitsm_ide_rx(f->rp, msg, 16, &out));
	assert_true(out.consumed);
	assert_true(f->rp->stream[0].recvd_fail);
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 0), PCITSM_IDE_INSECURE);
	/* Back to Secure only through Enable = 0, new keys, Enable. */
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 0), PCITSM_IDE_INSECURE);
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
}

static void test_plain_rejected(void **state)
{
	struct fx *f = *state;
	uint8_t data[16] = { 0 }, tlp[64];
	struct pcitsm_ide_rx_out out = { .buf = f->plain, .cap = sizeof(f->plain) };
	struct pcitsm_ide_io io;
	size_t n;

	/* Not enabled: no association, the TLP travels in the clear. */
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	io = (struct pcitsm_ide_io){ tlp, n, f->wire, PCITSM_IDE_TLP_MAX, 0 };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	assert_int_equal(io.out_len, n);
	/* Enabled without keys: Insecure, and the TLP is not sent at all. */
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 0), PCITSM_IDE_INSECURE);
	assert_err(pcitsm_ide_tx(f->rp, &io, 1), PCITSM_E_STATE);
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	secure(f);
	/* A plaintext TLP from the partner's RID on a Secure stream is discarded... */
	assert_err(pcitsm_ide_rx(f->ep, tlp, n, &out), PCITSM_E_UNEXPECTED);
	/* ...one outside the stream is not (and the default stream only takes its TC). */
	tlp[1] = 0x70; /* TC 7 */
	assert_ok(pcitsm_ide_rx(f->ep, tlp, n, &out));
	assert_int_equal(out.n, 1);
	/* An IDE TLP for an unknown stream is misrouted. */
	struct pcitsm_ide_prefix x = { .m = true, .stream_id = 77 };
	pcitsm_ide_prefix_encode(&x, f->wire);
	memcpy(f->wire + 4, tlp, n);
	memset(f->wire + 4 + n, 0, 12);
	assert_err(pcitsm_ide_rx(f->ep, f->wire, 4 + n + 12, &out), PCITSM_E_NOTFOUND);
	assert_int_equal(f->ep->misrouted, 1);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_SECURE);
}

static void test_aggregation(void **state)
{
	struct fx *f = *state;
	uint8_t data[8][128], tlp[8][160], *outb = f->wire;
	struct pcitsm_ide_io io[8];
	struct pcitsm_ide_rx_out out = { .buf = f->plain, .cap = sizeof(f->plain) };
	size_t n[8];

	secure(f);
	for (int i = 0; i < 8; i++) {
		memset(data[i], i, sizeof(data[i]));
		n[i] = mk_mwr(tlp[i], 0x80000000 + 0x100 * (unsigned)i, data[i], 128);
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], outb + i * 200, 200, 0 };
	}
	/* 8 x 128 bytes = 256 DW: the most one unit may carry. */
	assert_ok(pcitsm_ide_tx(f->rp, io, 8));
	for (int i = 0; i < 8; i++) {
		bool last = i == 7;

		assert_int_equal(io[i].out_len, 4 + 12 + 128 + (last ? 12 : 0));
		assert_int_equal(!!(io[i].out[3] & PCITSM_IDE_PFX_M), last);
		assert_ok(pcitsm_ide_rx(f->ep, io[i].out, io[i].out_len, &out));
		assert_int_equal(out.n, last ? 8 : 0);
	}
	for (int i = 0; i < 8; i++)
		assert_memory_equal(f->plain + out.off[i], tlp[i], n[i]);
	/* One IV for the whole unit. */
	assert_int_equal(f->rp->stream[0].slot[PCITSM_IDE_TX][0][0].ctr, 2);
	/* NPR aggregation is "up to 2" here; CPL on the RP is none. */
	n[0] = mk_mrd(tlp[0], 0x80000000, 1);
	n[1] = mk_mrd(tlp[1], 0x80000000, 2);
	n[2] = mk_mrd(tlp[2], 0x80000000, 3);
	for (int i = 0; i < 3; i++)
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], outb + i * 200, 200, 0 };
	assert_err(pcitsm_ide_tx(f->rp, io, 3), PCITSM_E_INVAL);
	assert_ok(pcitsm_ide_tx(f->rp, io, 2));
	assert_ok(pcitsm_ide_rx(f->ep, io[0].out, io[0].out_len, &out));
	assert_ok(pcitsm_ide_rx(f->ep, io[1].out, io[1].out_len, &out));
	assert_int_equal(out.n, 2);
	/* Mixed sub-streams in one unit, and too much payload, are refused. */
	n[1] = mk_mwr(tlp[1], 0x80000000, data[1], 128);
	io[1] = (struct pcitsm_ide_io){ tlp[1], n[1], outb + 200, 200, 0 };
	assert_err(pcitsm_ide_tx(f->rp, io, 2), PCITSM_E_INVAL);
	/* A receiver without aggregation treats a MAC-less TLP as a check failure. */
	f->ep->rx_aggregation = false;
	for (int i = 0; i < 2; i++) {
		n[i] = mk_mwr(tlp[i], 0x80000000, data[i], 64);
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], outb + i * 200, 200, 0 };
	}
	assert_ok(pcitsm_ide_tx(f->rp, io, 2));
	assert_err(pcitsm_ide_rx(f->ep, io[0].out, io[0].out_len, &out), PCITSM_E_FIELD);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
}

/* PCIe 6.x §6.33 aggregation, error handling: a unit carries at most 256 DW of payload; the last
 * TLP counts too. A unit of 128 + 1024 bytes, sealed correctly under the stream's key, is an IDE
 * Check Failed at the receiver. */
static void test_aggregation_too_much_payload(void **state)
{
	struct fx *f = *state;
	static uint8_t data[128 + 1024], tlp1[12 + 1024], w1[4 + 12 + 1024 + 12], ct[128 + 1024];
	uint8_t tlp0[12 + 128], w0[4 + 12 + 128], aad[32], iv[12] = { 0 }, tag[16];
	struct pcitsm_ide_rx_out out = { .buf = f->plain, .cap = sizeof(f->plain) };
	struct pcitsm_ide_prefix x = { .sub = PCITSM_IDE_SUB_PR, .stream_id = SID };
	struct pcitsm_gcm_seg seg = { data, ct, sizeof(data) };
	struct pcitsm_gcm *ref;
	struct pcitsm_gcm_key *k;

	secure(f);
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(mk_mwr(tlp0, 0x80000000, data, 128), sizeof(tlp0));
	assert_int_equal(mk_mwr(tlp1, 0x80000080, data + 128, 1024), sizeof(tlp1));
	pcitsm_ide_prefix_encode(&x, w0);
	x.m = true;
	pcitsm_ide_prefix_encode(&x, w1);
	memcpy(w0 + 4, tlp0, 12);
	memcpy(w1 + 4, tlp1, 12);
	memcpy(aad, w0, 16);
	memcpy(aad + 16, w1, 16);
	assert_ok(pcitsm_gcm_new(&ref, PCITSM_GCM_OPENSSL));
	assert_ok(pcitsm_gcm_key_new(ref, &k));
	assert_ok(pcitsm_gcm_key_set(k, f->key[0][0][PCITSM_IDE_SUB_PR]));
	iv[11] = 1;
	assert_ok(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &seg, 1, tag, 16));
	memcpy(w0 + 16, ct, 128);
	memcpy(w1 + 16, ct + 128, 1024);
	memcpy(w1 + 16 + 1024, tag, 12);
	assert_ok(pcitsm_ide_rx(f->ep, w0, sizeof(w0), &out));
	assert_int_equal(out.n, 0);
	assert_err(pcitsm_ide_rx(f->ep, w1, sizeof(w1), &out), PCITSM_E_FIELD);
	assert_int_equal(out.n, 0);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(ref);
}

static void test_sync(void **state)
{
	struct fx *f = *state;
	uint8_t data[4] = { 9 }, tlp[32], msg[64];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_ide_io io;
	size_t n, w, ml;

	secure(f);
	n = mk_mwr(tlp, 0x80000000, data, 4);
	for (int i = 0; i < PCITSM_IDE_SYNC_AT; i++)
		assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	/* At 245 the next posted TLP waits for IDE Sync. */
	io = (struct pcitsm_ide_io){ tlp, n, f->wire, PCITSM_IDE_TLP_MAX, 0 };
	assert_err(pcitsm_ide_tx(f->rp, &io, 1), PCITSM_E_BUSY);
	assert_ok(pcitsm_ide_next_msg(f->rp, msg, sizeof(msg), &ml));
	assert_int_equal(ml, 4 + 16 + 12);
	assert_int_equal(msg[4 + 7], PCITSM_MSG_IDE_SYNC);
	assert_int_equal(msg[4 + 12], 246);
	assert_int_equal(msg[4 + 13], 246);
	assert_int_equal(f->rp->stream[0].pr_sent_npr, 0);
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_ok(pcitsm_ide_rx(f->ep, msg, ml, &out));
	assert_true(out.consumed);
	assert_int_equal(out.n, 0);
	assert_int_equal(f->ep->stream[0].pr_recv_npr, 0);
	assert_int_equal(f->ep->stream[0].stats.rx_syncs, 1);
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	/* A read claiming more posted TLPs than arrived (one overtook them) is a check failure. */
	n = mk_mrd(tlp, 0x80000000, 1);
	io = (struct pcitsm_ide_io){ tlp, n, f->wire, PCITSM_IDE_TLP_MAX, 0 };
	f->rp->stream[0].pr_sent_npr = 5;
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	assert_err(pcitsm_ide_rx(f->ep, f->wire, io.out_len, &out), PCITSM_E_REPLAY);
}

/* PCIe 6.x §6.33 (IDE TLP ordering, IDE Sync): an IDE Sync whose PR_Sent counts exceed the Posted
 * TLPs this receiver got since the last Non-Posted / Completion is an IDE Check Failed. The Sync
 * is correctly sealed: only the counter check can refuse it. Both counts, one at a time. */
static void test_sync_counts_exceed(void **state)
{
	struct fx *f = *state;
	uint8_t data[4] = { 9 }, tlp[32], msg[64];
	struct pcitsm_ide_rx_out out;
	size_t n, w, ml;

	for (int which = 0; which < 2; which++) {
		if (which) {
			assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
			assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
		}
		secure(f);
		n = mk_mwr(tlp, 0x80000000, data, 4);
		for (int i = 0; i < 3; i++)
			assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
		/* The transmitter claims 2 Posted TLPs more than it sent (3 + the Sync itself). */
		if (which)
			f->rp->stream[0].pr_sent_cpl += 2;
		else
			f->rp->stream[0].pr_sent_npr += 2;
		f->rp->stream[0].sync_pending = true;
		assert_ok(pcitsm_ide_next_msg(f->rp, msg, sizeof(msg), &ml));
		assert_int_equal(msg[4 + 7], PCITSM_MSG_IDE_SYNC);
		assert_int_equal(msg[4 + 12 + which], 6);
		out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
		assert_err(pcitsm_ide_rx(f->ep, msg, ml, &out), PCITSM_E_REPLAY);
		assert_false(out.consumed);
		assert_int_equal(out.n, 0);
		assert_int_equal(f->ep->stream[0].stats.rx_syncs, 0);
		assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
		assert_int_equal(f->ep->stream[0].fail_reason, PCITSM_E_REPLAY);
	}
	/* The exact counts (3 writes + the Sync = 4) are accepted. */
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	for (int i = 0; i < 3; i++)
		assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	f->rp->stream[0].sync_pending = true;
	assert_ok(pcitsm_ide_next_msg(f->rp, msg, sizeof(msg), &ml));
	assert_int_equal(msg[4 + 12], 4);
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_ok(pcitsm_ide_rx(f->ep, msg, ml, &out));
	assert_true(out.consumed);
	assert_int_equal(f->ep->stream[0].pr_recv_npr, 0);
	assert_int_equal(f->ep->stream[0].pr_recv_cpl, 0);
}

/* PCIe 6.x §6.33 (key sets, K_SET_GO): a key set programmed at the receiver but not started is not
 * usable; a TLP the transmitter (already switched) sealed under it is an IDE Check Failed, even
 * though its MAC verifies under the programmed key. */
static void test_rx_key_set_not_started(void **state)
{
	struct fx *f = *state;
	uint8_t data[32] = { 4 }, tlp[64];
	struct pcitsm_ide_rx_out out;
	size_t n, w;

	secure(f);
	prog(f, 1);
	for (int u = 0; u < 3; u++)
		assert_ok(pcitsm_ide_k_set_go(f->rp, SID, 1, PCITSM_IDE_TX, u));
	assert_true(f->ep->stream[0].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][1].valid);
	assert_false(f->ep->stream[0].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][1].go);
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	assert_err(hop(f, f->rp, f->ep, tlp, n, &out, &w), PCITSM_E_MAC);
	assert_true(f->wire[3] & PCITSM_IDE_PFX_K);
	assert_int_equal(out.n, 0);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	/* Started, the same key works. */
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	prog(f, 1);
	test_ide_go(f->rp, f->ep, SID, 1, PCITSM_IDE_RX);
	for (int u = 0; u < 3; u++)
		assert_ok(pcitsm_ide_k_set_go(f->rp, SID, 1, PCITSM_IDE_TX, u));
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(out.n, 1);
}

/* PCIe 6.x §6.33 (aggregation, key sets): K may change only on the first TLP of an aggregated
 * unit. A two-TLP unit whose first TLP says K=0 and whose last says K=1, sealed correctly under
 * key set 1 (programmed and started), is an IDE Check Failed: nothing of it is delivered. */
static void test_k_toggle_inside_unit(void **state)
{
	struct fx *f = *state;
	uint8_t data[64], ct[64], w0[4 + 12 + 32], w1[4 + 12 + 32 + 12], aad[32], iv[12] = { 0 };
	uint8_t tag[16], t0[12 + 32], t1[12 + 32];
	struct pcitsm_ide_rx_out out = { .buf = f->plain, .cap = sizeof(f->plain) };
	struct pcitsm_ide_prefix x = { .sub = PCITSM_IDE_SUB_PR, .stream_id = SID };
	struct pcitsm_gcm_seg seg = { data, ct, sizeof(data) };
	struct pcitsm_gcm *ref;
	struct pcitsm_gcm_key *k;

	for (int toggle = 1; toggle >= 0; toggle--) {
		assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
		assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
		secure(f);
		prog(f, 1);
		test_ide_go(f->rp, f->ep, SID, 1, PCITSM_IDE_RX);
		memset(data, 0x6b, sizeof(data));
		assert_int_equal(mk_mwr(t0, 0x80000000, data, 32), sizeof(t0));
		assert_int_equal(mk_mwr(t1, 0x80000020, data + 32, 32), sizeof(t1));
		x.k = !toggle; /* toggle: first TLP K=0, last K=1; control: both K=1 */
		x.m = false;
		pcitsm_ide_prefix_encode(&x, w0);
		x.k = true;
		x.m = true;
		pcitsm_ide_prefix_encode(&x, w1);
		memcpy(w0 + 4, t0, 12);
		memcpy(w1 + 4, t1, 12);
		memcpy(aad, w0, 16);
		memcpy(aad + 16, w1, 16);
		assert_ok(pcitsm_gcm_new(&ref, PCITSM_GCM_OPENSSL));
		assert_ok(pcitsm_gcm_key_new(ref, &k));
		assert_ok(pcitsm_gcm_key_set(k, f->key[1][0][PCITSM_IDE_SUB_PR]));
		iv[11] = 1; /* key set 1's first invocation (IFV 1) */
		assert_ok(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &seg, 1, tag, 16));
		pcitsm_gcm_key_free(k);
		pcitsm_gcm_free(ref);
		memcpy(w0 + 16, ct, 32);
		memcpy(w1 + 16, ct + 32, 32);
		memcpy(w1 + 16 + 32, tag, 12);
		out.n = 0;
		assert_ok(pcitsm_ide_rx(f->ep, w0, sizeof(w0), &out));
		assert_int_equal(out.n, 0);
		if (!toggle) {
			/* The same unit with one K throughout is accepted: the MAC is right. */
			assert_ok(pcitsm_ide_rx(f->ep, w1, sizeof(w1), &out));
			assert_int_equal(out.n, 2);
			assert_memory_equal(f->plain + out.off[1], t1, sizeof(t1));
			continue;
		}
		assert_err(pcitsm_ide_rx(f->ep, w1, sizeof(w1), &out), PCITSM_E_MAC);
		assert_int_equal(out.n, 0);
		assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
		assert_int_equal(f->ep->stream[0].stats.rx_tlps, 0);
	}
}

/* Seal one IDE TLP by hand (prefix x, plaintext TLP of hl header + dl data bytes) under the root
 * port's transmit key of key set kset and sub-stream ksub, with invocation counter ctr: what a
 * transmitter that breaks a rule, with the right key, would put on the wire. */
static size_t seal_by_hand(struct fx *f, unsigned kset, unsigned ksub,
			   const struct pcitsm_ide_prefix *x, const uint8_t *tlp, size_t hl,
			   size_t dl, uint64_t ctr, uint8_t *w)
{
	struct pcitsm_gcm_seg seg = { tlp + hl, w + 4 + hl, dl };
	uint8_t iv[12] = { 0 }, tag[16];
	struct pcitsm_gcm *ref;
	struct pcitsm_gcm_key *k;

	pcitsm_ide_prefix_encode(x, w);
	memcpy(w + 4, tlp, hl);
	pcitsm_put_be64(iv + 4, ctr);
	assert_ok(pcitsm_gcm_new(&ref, PCITSM_GCM_OPENSSL));
	assert_ok(pcitsm_gcm_key_new(ref, &k));
	assert_ok(pcitsm_gcm_key_set(k, f->key[kset][0][ksub]));
	assert_ok(pcitsm_gcm_seal(k, iv, w, 4 + hl, &seg, 1, tag, 16));
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(ref);
	memcpy(w + 4 + hl + dl, tag, 12);
	return 4 + hl + dl + 12;
}

static pcitsm_err rx_at_ep(struct fx *f, const uint8_t *w, size_t len,
			   struct pcitsm_ide_rx_out *out)
{
	*out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	return pcitsm_ide_rx(f->ep, w, len, out);
}

/* PCIe 6.x §6.33 (IDE Check Failed conditions): correctly sealed TLPs that break a rule the MAC
 * cannot see are refused, and the stream goes Insecure: a Memory Write in the Non-Posted
 * sub-stream, a TC other than the stream's, an exhausted invocation counter. A control TLP,
 * sealed the same way and breaking nothing, is accepted first. */
static void test_rx_rules_under_valid_mac(void **state)
{
	struct fx *f = *state;
	uint8_t data[32], tlp[64], w[PCITSM_IDE_TLP_MAX];
	struct pcitsm_ide_prefix x = { .m = true, .sub = PCITSM_IDE_SUB_PR, .stream_id = SID };
	struct pcitsm_ide_rx_out out;
	size_t n, wl;

	memset(data, 0x2d, sizeof(data));
	for (int rule = 0; rule < 4; rule++) {
		struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = RP_RID, .first_be = 0xf,
					.last_be = 0xf, .addr = 0x80000000, .data = data,
					.len = sizeof(data) };
		unsigned ksub = PCITSM_IDE_SUB_PR;
		uint64_t ctr = 1;

		if (rule) {
			assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
			assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
		}
		secure(f);
		x.sub = PCITSM_IDE_SUB_PR;
		if (rule == 1) {
			x.sub = ksub = PCITSM_IDE_SUB_NPR; /* a posted TLP in the NPR sub-stream */
		} else if (rule == 2) {
			t.tc = 1; /* the stream is TC 0 */
		} else if (rule == 3) {
			ctr = UINT64_MAX; /* the receiver's counter is spent */
			f->ep->stream[0].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][0].ctr = UINT64_MAX;
		}
		assert_ok(pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &n));
		wl = seal_by_hand(f, 0, ksub, &x, tlp, n - sizeof(data), sizeof(data), ctr, w);
		if (rule == 0) {
			assert_ok(rx_at_ep(f, w, wl, &out));
			assert_int_equal(out.n, 1);
			assert_memory_equal(f->plain, tlp, n);
			continue;
		}
		assert_err(rx_at_ep(f, w, wl, &out), rule == 3 ? PCITSM_E_MAC : PCITSM_E_FIELD);
		assert_int_equal(out.n, 0);
		assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	}
}

/* §6.33 (aggregation): a receiver holds at most 7 TLPs without a MAC, never a Message; the
 * receiver's Posted counters never wrap. */
static void test_rx_hold_limits_and_counter_wrap(void **state)
{
	struct fx *f = *state;
	uint8_t data[16] = { 3 }, tlp[64], w[PCITSM_IDE_TLP_MAX];
	struct pcitsm_ide_prefix x = { .sub = PCITSM_IDE_SUB_PR, .stream_id = SID };
	struct pcitsm_tlp m = { .kind = PCITSM_TLP_MSG, .req_id = RP_RID, .target_id = EP_RID,
				.msg_route = PCITSM_MSG_ROUTE_ID, .msg_code = PCITSM_MSG_IDE_SYNC };
	struct pcitsm_ide_rx_out out;
	size_t n, wl;

	/* Eight MAC-less TLPs: the eighth can never be followed by a last TLP in the unit. */
	secure(f);
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	pcitsm_ide_prefix_encode(&x, w);
	memcpy(w + 4, tlp, n);
	wl = 4 + n;
	for (int i = 0; i < 7; i++)
		assert_ok(rx_at_ep(f, w, wl, &out));
	assert_err(rx_at_ep(f, w, wl, &out), PCITSM_E_FIELD);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	/* A Message without a MAC (a Message never opens an aggregated unit). */
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	assert_ok(pcitsm_tlp_encode(&m, tlp, sizeof(tlp), &n));
	memcpy(w + 4, tlp, n);
	assert_err(rx_at_ep(f, w, 4 + n, &out), PCITSM_E_FIELD);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	/* The receiver's PR_Recv counters at their limit: the next Posted TLP is refused. */
	for (int c = 0; c < 2; c++) {
		assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
		assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
		secure(f);
		if (c)
			f->ep->stream[0].pr_recv_cpl = UINT64_MAX;
		else
			f->ep->stream[0].pr_recv_npr = UINT64_MAX;
		n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
		assert_err(hop(f, f->rp, f->ep, tlp, n, &out, &wl), PCITSM_E_REPLAY);
		assert_int_equal(out.n, 0);
		assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	}
}

/* With PCRC on, a unit whose last TLP lacks the PCRC (P clear) is an IDE Check Failed too, even
 * though its MAC verifies. */
static void test_pcrc_missing_in_unit(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_sel s;
	uint8_t data[2][64], tlp[2][96], outb[2][200];
	struct pcitsm_ide_io io[2];
	struct pcitsm_ide_rx_out out;

	sel_rp(&s);
	s.ctl.pcrc = true;
	assert_ok(pcitsm_ide_stream_config(f->rp, 0, &s));
	sel_ep(&s);
	s.ctl.pcrc = true;
	assert_ok(pcitsm_ide_stream_config(f->ep, 0, &s));
	secure(f);
	f->rp->stream[0].pcrc = false; /* a transmitter that omits it */
	for (int i = 0; i < 2; i++) {
		size_t n;

		memset(data[i], 0x40 + i, sizeof(data[i]));
		n = mk_mwr(tlp[i], 0x80000000 + 0x40 * (unsigned)i, data[i], sizeof(data[i]));
		io[i] = (struct pcitsm_ide_io){ tlp[i], n, outb[i], sizeof(outb[i]), 0 };
	}
	assert_ok(pcitsm_ide_tx(f->rp, io, 2));
	assert_false(io[1].out[3] & PCITSM_IDE_PFX_P);
	assert_ok(rx_at_ep(f, io[0].out, io[0].out_len, &out));
	assert_err(rx_at_ep(f, io[1].out, io[1].out_len, &out), PCITSM_E_FIELD);
	assert_int_equal(out.n, 0);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
}

/* The transmitter refuses, before writing a byte or spending a counter value: an output buffer too
 * small for TLP + MAC, a unit over 256 DW of payload, a Message inside a unit, a unit spanning a
 * stream and no stream, a key set that is not valid. */
static void test_tx_refusals(void **state)
{
	struct fx *f = *state;
	static uint8_t data[1024], tlp[2][1100], outb[2][1200];
	struct pcitsm_ide_slot *sl;
	struct pcitsm_ide_io io[2];
	struct pcitsm_tlp m = { .kind = PCITSM_TLP_MSG, .req_id = RP_RID, .target_id = EP_RID,
				.msg_route = PCITSM_MSG_ROUTE_ID, .msg_code = PCITSM_MSG_IDE_SYNC };
	size_t n[2];

	secure(f);
	sl = &f->rp->stream[0].slot[PCITSM_IDE_TX][PCITSM_IDE_SUB_PR][0];
	memset(data, 0x77, sizeof(data));
	/* Out buffer: room for the TLP but not its MAC. */
	n[0] = mk_mwr(tlp[0], 0x80000000, data, 64);
	io[0] = (struct pcitsm_ide_io){ tlp[0], n[0], outb[0], 4 + n[0] + PCITSM_IDE_MAC_LEN - 1, 0 };
	assert_err(pcitsm_ide_tx(f->rp, io, 1), PCITSM_E_NOSPC);
	io[0].out_cap = 4 + n[0] + PCITSM_IDE_MAC_LEN;
	assert_int_equal(sl->ctr, 1);
	/* Two writes of 1024 bytes: 512 DW in one unit. */
	for (int i = 0; i < 2; i++) {
		n[i] = mk_mwr(tlp[i], 0x80000000 + 0x400 * (unsigned)i, data, 1024);
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], outb[i], sizeof(outb[i]), 0 };
	}
	assert_err(pcitsm_ide_tx(f->rp, io, 2), PCITSM_E_INVAL);
	/* A Message first in a unit. */
	assert_ok(pcitsm_tlp_encode(&m, tlp[0], sizeof(tlp[0]), &n[0]));
	n[1] = mk_mwr(tlp[1], 0x80000000, data, 64);
	io[0] = (struct pcitsm_ide_io){ tlp[0], n[0], outb[0], sizeof(outb[0]), 0 };
	io[1] = (struct pcitsm_ide_io){ tlp[1], n[1], outb[1], sizeof(outb[1]), 0 };
	assert_err(pcitsm_ide_tx(f->rp, io, 2), PCITSM_E_INVAL);
	/* A write inside the stream's window, then one outside every address association. */
	n[0] = mk_mwr(tlp[0], 0x80000000, data, 64);
	n[1] = mk_mwr(tlp[1], 0x20000000, data, 64);
	io[0] = (struct pcitsm_ide_io){ tlp[0], n[0], outb[0], sizeof(outb[0]), 0 };
	io[1] = (struct pcitsm_ide_io){ tlp[1], n[1], outb[1], sizeof(outb[1]), 0 };
	assert_err(pcitsm_ide_tx(f->rp, io, 2), PCITSM_E_INVAL);
	assert_int_equal(sl->ctr, 1);
	assert_int_equal(f->rp->stream[0].stats.tx_tlps, 0);
	/* A key set that is no longer valid. */
	sl->valid = false;
	assert_err(pcitsm_ide_tx(f->rp, io, 1), PCITSM_E_STATE);
	sl->valid = true;
	assert_ok(pcitsm_ide_tx(f->rp, io, 1));
	assert_int_equal(sl->ctr, 2);
}

/* An aggregated unit: a flipped bit in its first (MAC-less) TLP fails the unit's MAC; a unit of
 * reads claiming more Posted TLPs than arrived fails the counter check; a plaintext IDE Sync that
 * no stream's association claims is still never delivered (IDE Sync is always an IDE TLP). */
static void test_unit_mac_counters_and_plain_sync(void **state)
{
	struct fx *f = *state;
	uint8_t data[2][64], tlp[2][96], outb[2][200];
	struct pcitsm_ide_io io[2];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_tlp m = { .kind = PCITSM_TLP_MSG, .req_id = 0x0200, .target_id = EP_RID,
				.msg_route = PCITSM_MSG_ROUTE_ID, .msg_code = PCITSM_MSG_IDE_SYNC };
	size_t n;

	for (int round = 0; round < 2; round++) {
		if (round) {
			assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
			assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
		}
		secure(f);
		for (int i = 0; i < 2; i++) {
			memset(data[i], 0x50 + i, sizeof(data[i]));
			n = round ? mk_mrd(tlp[i], 0x80000000, (uint8_t)i)
				  : mk_mwr(tlp[i], 0x80000000 + 0x40 * (unsigned)i, data[i], 64);
			io[i] = (struct pcitsm_ide_io){ tlp[i], n, outb[i], sizeof(outb[i]), 0 };
		}
		if (round)
			f->rp->stream[0].pr_sent_npr = 5; /* 5 writes that never reached the endpoint */
		assert_ok(pcitsm_ide_tx(f->rp, io, 2));
		if (!round)
			io[0].out[4 + 12 + 7] ^= 0x10;
		assert_ok(rx_at_ep(f, io[0].out, io[0].out_len, &out));
		assert_err(rx_at_ep(f, io[1].out, io[1].out_len, &out),
			   round ? PCITSM_E_REPLAY : PCITSM_E_MAC);
		assert_int_equal(out.n, 0);
		assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	}
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	assert_ok(pcitsm_tlp_encode(&m, tlp[0], sizeof(tlp[0]), &n));
	assert_err(rx_at_ep(f, tlp[0], n, &out), PCITSM_E_UNEXPECTED);
	assert_int_equal(out.n, 0);
}

static void test_refresh(void **state)
{
	struct fx *f = *state;
	uint8_t data[32] = { 4 }, tlp[4][64];
	struct pcitsm_ide_rx_out out;
	size_t n[4], w;

	secure(f);
	n[0] = mk_mwr(tlp[0], 0x80000000, data, 32);
	n[1] = mk_mrd(tlp[1], 0x80000000, 1);
	n[2] = mk_cpld(tlp[2], data, 32, 1);
	n[3] = mk_cpld(tlp[3], data, 32, 2);
	pcitsm_put_be16(tlp[3] + 8, EP_RID); /* a completion from the root port to the endpoint */
	/* Every sub-stream in both directions, so every receiver sees each K toggle. */
#define TRAFFIC()                                                                      \
	do {                                                                           \
		assert_ok(hop(f, f->rp, f->ep, tlp[0], n[0], &out, &w));               \
		assert_ok(hop(f, f->rp, f->ep, tlp[1], n[1], &out, &w));               \
		assert_ok(hop(f, f->ep, f->rp, tlp[2], n[2], &out, &w));               \
		assert_ok(hop(f, f->ep, f->rp, tlp[0], n[0], &out, &w));               \
		assert_ok(hop(f, f->ep, f->rp, tlp[1], n[1], &out, &w));               \
		assert_ok(hop(f, f->rp, f->ep, tlp[3], n[3], &out, &w));               \
	} while (0)
	for (int round = 0; round < 4; round++) {
		unsigned k = (round + 1) & 1;

		TRAFFIC();
		prog(f, k);
		TRAFFIC();
		test_ide_go(f->rp, f->ep, SID, k, PCITSM_IDE_RX);
		TRAFFIC();
		/* Transmitters one sub-stream at a time: the switch happens with the third. */
		for (int u = 0; u < 3; u++) {
			assert_ok(pcitsm_ide_k_set_go(f->rp, SID, k, PCITSM_IDE_TX, u));
			TRAFFIC();
			assert_ok(pcitsm_ide_k_set_go(f->ep, SID, k, PCITSM_IDE_TX, u));
			TRAFFIC();
		}
		assert_int_equal(f->rp->stream[0].tx_kset, k);
		assert_int_equal(f->ep->stream[0].rx_kset[0], k);
		assert_false(f->ep->stream[0].slot[PCITSM_IDE_RX][0][!k].valid);
		assert_int_equal(f->wire[3] & PCITSM_IDE_PFX_K ? 1 : 0, k);
	}
	assert_int_equal(f->ep->stream[0].stats.check_failed, 0);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_SECURE);
	assert_int_equal(pcitsm_ide_stream_state(f->rp, 0), PCITSM_IDE_SECURE);
	/* A TLP with K toggled to a set that is not GO is a check failure. */
	n[0] = mk_mwr(tlp[0], 0x80000000, data, 32);
	struct pcitsm_ide_io io = { tlp[0], n[0], f->wire, PCITSM_IDE_TLP_MAX, 0 };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	f->wire[3] ^= PCITSM_IDE_PFX_K;
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_err(pcitsm_ide_rx(f->ep, f->wire, io.out_len, &out), PCITSM_E_MAC);
#undef TRAFFIC
}

static void test_programming_errors(void **state)
{
	struct fx *f = *state;
	uint8_t key[32] = { 1 }, wire_key[32], ifv[8], data[4] = { 0 }, tlp[32];
	struct pcitsm_ide_sel s;
	struct pcitsm_ide_rx_out out;
	size_t n, w;

	assert_err(pcitsm_ide_key_prog_aes(f->rp, 99, 0, PCITSM_IDE_TX, 0, key, 1),
		   PCITSM_E_NOTFOUND);
	assert_err(pcitsm_ide_key_prog_aes(f->rp, SID, 2, PCITSM_IDE_TX, 0, key, 1), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_key_prog_aes(f->rp, SID, 0, PCITSM_IDE_TX, 3, key, 1), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_key_prog_aes(f->rp, SID, 0, PCITSM_IDE_TX, 0, key, 0), PCITSM_E_FIELD);
	assert_err(pcitsm_ide_k_set_go(f->rp, SID, 1, PCITSM_IDE_TX, 0), PCITSM_E_STATE);
	sel_rp(&s);
	s.ctl.alg = 1;
	assert_err(pcitsm_ide_stream_config(f->rp, 1, &s), PCITSM_E_UNSUPPORTED);
	sel_rp(&s);
	s.ctl.phe = 2;
	assert_err(pcitsm_ide_stream_config(f->rp, 1, &s), PCITSM_E_UNSUPPORTED);
	sel_rp(&s);
	assert_err(pcitsm_ide_stream_config(f->rp, 1, &s), PCITSM_E_EXISTS);
	s.ctl.stream_id = PCITSM_IDE_RESERVED_STREAM_ID;
	assert_err(pcitsm_ide_stream_config(f->rp, 1, &s), PCITSM_E_FIELD);
	sel_rp(&s);
	s.ctl.stream_id = 9;
	s.rid_base = 0x200;
	s.rid_limit = 0x100;
	assert_err(pcitsm_ide_stream_config(f->rp, 1, &s), PCITSM_E_FIELD);
	assert_err(pcitsm_ide_stream_config(f->rp, f->rp->nr_streams, &s), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_stream_enable(f->rp, 3), PCITSM_E_STATE);

	secure(f);
	sel_rp(&s);
	assert_err(pcitsm_ide_stream_config(f->rp, 0, &s), PCITSM_E_STATE);
	/* The keys in use can be neither overwritten nor stopped. */
	assert_err(pcitsm_ide_key_prog_aes(f->rp, SID, 0, PCITSM_IDE_TX, 0, key, 1), PCITSM_E_BUSY);
	assert_err(pcitsm_ide_k_set_stop(f->rp, SID, 0, PCITSM_IDE_RX, 1), PCITSM_E_BUSY);
	/* KEY_PROG wire byte order: the same key through both entry points. */
	pcitsm_ide_km_key_from_aes(f->key[0][0][0], wire_key);
	pcitsm_ide_km_ifv_encode(1, ifv);
	assert_ok(pcitsm_ide_key_prog(f->rp, SID, 1, PCITSM_IDE_TX, 0, wire_key, ifv));
	assert_ok(pcitsm_ide_k_set_stop(f->rp, SID, 1, PCITSM_IDE_TX, 0));
	/* IV counter exhaustion: the last value is refused, the stream needs a refresh. */
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_disable(f->ep, 0));
	secure(f);
	f->rp->stream[0].slot[PCITSM_IDE_TX][0][0].ctr = UINT64_MAX - 1;
	f->ep->stream[0].slot[PCITSM_IDE_RX][0][0].ctr = UINT64_MAX - 1;
	n = mk_mwr(tlp, 0x80000000, data, 4);
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_err(hop(f, f->rp, f->ep, tlp, n, &out, &w), PCITSM_E_OVERFLOW);
	assert_err(pcitsm_ide_key_prog_aes(f->ep, SID, 1, PCITSM_IDE_RX, 0, key, UINT64_MAX),
		   PCITSM_E_FIELD);
}

/* Releasing a stream (pcitsm_ide_stream_unconfigure): Insecure, not enabled, every slot of both
 * key sets invalidated with its expanded key kept (cleared, not freed), the Stream ID unmapped so an
 * IDE TLP that still carries it is misrouted and KEY_PROG finds no stream; the Stream ID free for
 * another stream; a second release, or one of a stream never configured, does nothing. */
static void test_unconfigure(void **state)
{
	struct fx *f = *state;
	uint8_t data[32] = { 1 }, tlp[64], ide[PCITSM_IDE_TLP_MAX], key[32] = { 2 }, msg[64];
	struct pcitsm_gcm_key *kept[2][PCITSM_IDE_NR_SUB][2];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_ide_sel s;
	size_t n, w, ml;

	secure(f);
	prog(f, 1); /* the other key set programmed too (not GO) */
	n = mk_mwr(tlp, 0x80000000, data, sizeof(data));
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(out.n, 1);
	/* A second TLP, sealed but not yet received, to replay after the release. */
	struct pcitsm_ide_io io = { tlp, n, ide, sizeof(ide), 0 };
	assert_ok(pcitsm_ide_tx(f->rp, &io, 1));
	for (int d = 0; d < 2; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			for (int k = 0; k < 2; k++) {
				kept[d][u][k] = f->ep->stream[0].slot[d][u][k].key;
				assert_non_null(kept[d][u][k]);
				assert_true(f->ep->stream[0].slot[d][u][k].valid);
			}

	assert_ok(pcitsm_ide_stream_unconfigure(f->ep, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
	assert_false(f->ep->stream[0].configured);
	assert_false(f->ep->stream[0].enabled);
	assert_false(f->ep->stream[0].rid_valid);
	assert_false(f->ep->stream[0].default_stream);
	for (int d = 0; d < 2; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			for (int k = 0; k < 2; k++) {
				const struct pcitsm_ide_slot *sl = &f->ep->stream[0].slot[d][u][k];

				assert_false(sl->valid);
				assert_false(sl->go);
				assert_true(sl->ctr == 0);
				assert_ptr_equal(sl->key, kept[d][u][k]);
			}
	assert_int_equal(pcitsm_ide_stream_find(f->ep, SID), -1);
	/* The partner's TLP for the released Stream ID: misrouted, nothing delivered. */
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_err(pcitsm_ide_rx(f->ep, ide, io.out_len, &out), PCITSM_E_NOTFOUND);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.stream, -1);
	assert_int_equal(f->ep->misrouted, 1);
	assert_err(pcitsm_ide_key_prog_aes(f->ep, SID, 0, PCITSM_IDE_RX, 0, key, 1),
		   PCITSM_E_NOTFOUND);
	assert_err(pcitsm_ide_k_set_go(f->ep, SID, 1, PCITSM_IDE_RX, 0), PCITSM_E_NOTFOUND);
	assert_err(pcitsm_ide_stream_enable(f->ep, 0), PCITSM_E_STATE);
	/* A plaintext TLP is no longer any stream's: delivered as it is; no IDE Fail owed. */
	assert_ok(pcitsm_ide_rx(f->ep, tlp, n, &out));
	assert_int_equal(out.n, 1);
	assert_err(pcitsm_ide_next_msg(f->ep, msg, sizeof(msg), &ml), PCITSM_E_NOTFOUND);

	/* Idempotent, and a no-op on a stream never configured; bad arguments refused. */
	assert_ok(pcitsm_ide_stream_unconfigure(f->ep, 0));
	assert_false(f->ep->stream[0].configured);
	assert_ok(pcitsm_ide_stream_unconfigure(f->ep, 3));
	assert_false(f->ep->stream[3].configured);
	assert_err(pcitsm_ide_stream_unconfigure(f->ep, f->ep->nr_streams), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_stream_unconfigure(NULL, 0), PCITSM_E_INVAL);

	/* The Stream ID is free: another stream takes it, and traffic runs on fresh keys. */
	sel_ep(&s);
	assert_ok(pcitsm_ide_stream_config(f->ep, 2, &s));
	assert_int_equal(pcitsm_ide_stream_find(f->ep, SID), 2);
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	prog(f, 0);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(f->ep, 2));
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 2), PCITSM_IDE_SECURE);
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(out.n, 1);
	assert_int_equal(out.stream, 2);
	/* The unconfigured index is not the one that got it. */
	assert_false(f->ep->stream[0].configured);
}

static void test_select(void **state)
{
	struct fx *f = *state;
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .addr = 0x80000000 };
	struct pcitsm_ide_sel s;

	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1); /* not enabled */
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	assert_ok(pcitsm_ide_stream_enable(f->ep, 0));
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 0);
	t.addr = 0x80100000;
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1); /* outside every range */
	t.addr = 0x1000fff00ull;
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 0);
	t.tc = 1;
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1);
	/* Endpoint: the default stream takes its TC's TLPs. */
	t.tc = 0;
	t.addr = 0x1234000;
	assert_int_equal(pcitsm_ide_select(f->ep, &t), 0);
	/* Config requests only with Selective IDE for Configuration Requests enabled. */
	t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_CFGRD1, .target_id = EP_RID };
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1);
	assert_ok(pcitsm_ide_stream_disable(f->rp, 0));
	sel_rp(&s);
	s.ctl.cfg_en = true;
	assert_ok(pcitsm_ide_stream_config(f->rp, 0, &s));
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 0);
	t.target_id = 0x300;
	assert_int_equal(pcitsm_ide_select(f->rp, &t), -1);
	/* Completions and ID-routed messages by the destination's RID. */
	t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_CPL, .req_id = EP_RID + 2 };
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 0);
	t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_MSG, .msg_route = PCITSM_MSG_ROUTE_ID,
				 .target_id = EP_RID };
	assert_int_equal(pcitsm_ide_select(f->rp, &t), 0);
}

static void test_pcrc(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_sel s;
	uint8_t data[100], tlp[128];
	struct pcitsm_ide_rx_out out;
	size_t n, w;

	sel_rp(&s);
	s.ctl.pcrc = true;
	assert_ok(pcitsm_ide_stream_config(f->rp, 0, &s));
	sel_ep(&s);
	s.ctl.pcrc = true;
	assert_ok(pcitsm_ide_stream_config(f->ep, 0, &s));
	secure(f);
	memset(data, 0x11, sizeof(data));
	n = mk_mwr(tlp, 0x80000000, data, 100);
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_int_equal(w, 4 + 12 + 100 + 4 + 12);
	assert_true(f->wire[3] & PCITSM_IDE_PFX_P);
	assert_memory_equal(f->plain, tlp, n);
	/* A read has no payload: no PCRC. */
	n = mk_mrd(tlp, 0x80000000, 1);
	assert_ok(hop(f, f->rp, f->ep, tlp, n, &out, &w));
	assert_false(f->wire[3] & PCITSM_IDE_PFX_P);
	/* A transmitter without PCRC towards a receiver requiring it: check failure. */
	f->rp->stream[0].pcrc = false;
	n = mk_mwr(tlp, 0x80000000, data, 100);
	assert_err(hop(f, f->rp, f->ep, tlp, n, &out, &w), PCITSM_E_FIELD);
}

/* TDISP (PCIe 6.x §11): the T bit travels in the IDE TLP Prefix (byte 3 bit 0) under the MAC, on
 * the single, unit and burst paths; the receiver hands out what it received; a flipped T fails the
 * MAC; T=1 never goes in the clear. */
static void test_t_bit(void **state)
{
	struct fx *f = *state;
	uint8_t data[64], tlp[4][96], *outb = f->wire;
	struct pcitsm_ide_io io[4];
	struct pcitsm_ide_rx_out out = { .buf = f->plain, .cap = sizeof(f->plain) };
	size_t n[4], done;

	memset(data, 0x5a, sizeof(data));
	for (int i = 0; i < 4; i++)
		n[i] = mk_mwr(tlp[i], 0x80000000 + 0x100 * (unsigned)i, data, sizeof(data));
	/* Before Secure: T=1 is refused on every path, T=0 goes out in the clear (no stream). */
	io[0] = (struct pcitsm_ide_io){ tlp[0], n[0], outb, 200, 0, true };
	assert_err(pcitsm_ide_tx(f->rp, io, 1), PCITSM_E_STATE);
	assert_err(pcitsm_ide_tx_burst(f->rp, io, 1, &done), PCITSM_E_STATE);
	assert_int_equal(done, 0);
	io[0].t = false;
	assert_ok(pcitsm_ide_tx(f->rp, io, 1));
	assert_int_equal(io[0].out_len, n[0]);
	assert_ok(pcitsm_ide_rx(f->ep, io[0].out, io[0].out_len, &out));
	assert_int_equal(out.n, 1);
	assert_false(out.t[0]);

	secure(f);
	/* Single TLP: T in the prefix, handed out by the receiver. */
	for (int t = 0; t < 2; t++) {
		io[0] = (struct pcitsm_ide_io){ tlp[0], n[0], outb, 200, 0, t };
		assert_ok(pcitsm_ide_tx(f->rp, io, 1));
		assert_int_equal(outb[PCITSM_IDE_PFX_FLAGS_BYTE] & PCITSM_IDE_PFX_T, t);
		assert_ok(pcitsm_ide_rx(f->ep, outb, io[0].out_len, &out));
		assert_int_equal(out.n, 1);
		assert_int_equal(out.t[0], t);
	}
	/* Burst: the same per TLP, mixed. */
	for (int i = 0; i < 4; i++)
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], outb + i * 200, 200, 0, i & 1 };
	assert_ok(pcitsm_ide_tx_burst(f->rp, io, 4, &done));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(io[i].out[PCITSM_IDE_PFX_FLAGS_BYTE] & PCITSM_IDE_PFX_T, i & 1);
		assert_ok(pcitsm_ide_rx(f->ep, io[i].out, io[i].out_len, &out));
		assert_int_equal(out.t[0], i & 1);
	}
	/* An aggregated unit: each TLP keeps its own T. */
	for (int i = 0; i < 4; i++)
		io[i] = (struct pcitsm_ide_io){ tlp[i], n[i], outb + i * 200, 200, 0, i == 2 };
	assert_ok(pcitsm_ide_tx(f->rp, io, 4));
	for (int i = 0; i < 4; i++)
		assert_ok(pcitsm_ide_rx(f->ep, io[i].out, io[i].out_len, &out));
	assert_int_equal(out.n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out.t[i], i == 2);
	/* The MAC covers T: an interposer that sets it is an IDE Check Failed. */
	io[0] = (struct pcitsm_ide_io){ tlp[0], n[0], outb, 200, 0, false };
	assert_ok(pcitsm_ide_tx(f->rp, io, 1));
	outb[PCITSM_IDE_PFX_FLAGS_BYTE] |= PCITSM_IDE_PFX_T;
	assert_err(pcitsm_ide_rx(f->ep, outb, io[0].out_len, &out), PCITSM_E_MAC);
	assert_int_equal(pcitsm_ide_stream_state(f->ep, 0), PCITSM_IDE_INSECURE);
}

/* Ports of 1..256 selective streams (pcitsm_ide_port_new_streams): out-of-range counts refused;
 * 255 Secure streams on one port pair (every Stream ID but the reserved one), the last at block
 * index 255, each with its own keys: TLPs round-robin across them each reach the receiver's
 * stream of their Stream ID, and a TLP relabelled with another Stream ID fails that stream's
 * MAC. */
#define MANY PCITSM_IDE_PORT_STREAMS_MAX

static void many_key(uint8_t key[32], unsigned idx, unsigned u, unsigned side)
{
	memset(key, 0, 32);
	key[0] = (uint8_t)idx;
	key[1] = (uint8_t)(idx >> 8);
	key[2] = (uint8_t)(u * 2 + side);
	key[31] = 0xa5;
}

static void many_stream(struct pcitsm_ide_port *tx, struct pcitsm_ide_port *rx, unsigned idx)
{
	struct pcitsm_ide_sel s = { .ctl = { .stream_id = (uint8_t)(idx - 1) }, .rid_valid = true,
				    .rid_base = RP_RID, .rid_limit = RP_RID, .nr_addr = 1 };
	uint8_t key[32];

	s.addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000ull + 0x1000ull * idx,
						     0x80000fffull + 0x1000ull * idx };
	assert_ok(pcitsm_ide_stream_config(tx, idx, &s));
	assert_ok(pcitsm_ide_stream_config(rx, idx, &s));
	for (unsigned u = 0; u < 3; u++)
		for (unsigned d = 0; d < 2; d++) {
			many_key(key, idx, u, d);
			assert_ok(pcitsm_ide_key_prog_aes(tx, s.ctl.stream_id, 0, d, u, key, 1));
			assert_ok(pcitsm_ide_k_set_go(tx, s.ctl.stream_id, 0, d, u));
			many_key(key, idx, u, !d);
			assert_ok(pcitsm_ide_key_prog_aes(rx, s.ctl.stream_id, 0, d, u, key, 1));
			assert_ok(pcitsm_ide_k_set_go(rx, s.ctl.stream_id, 0, d, u));
		}
	assert_ok(pcitsm_ide_stream_enable(tx, idx));
	assert_ok(pcitsm_ide_stream_enable(rx, idx));
	assert_int_equal(pcitsm_ide_stream_state(tx, idx), PCITSM_IDE_SECURE);
}

static void test_port_stream_count(void **state)
{
	struct fx *f = *state;
	struct pcitsm_ide_port *tx = NULL, *rx = NULL, *one = NULL;
	struct pcitsm_ide_sel s;
	uint8_t data[16] = { 1, 2, 3 }, tlp[PCITSM_TLP_HDR_MAX + sizeof(data)];
	struct pcitsm_ide_rx_out out;
	struct pcitsm_ide_io io;
	size_t n;

	assert_err(pcitsm_ide_port_new_streams(&one, f->gcm, &f->env.env, RP_RID, 0),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_ide_port_new_streams(&one, f->gcm, &f->env.env, RP_RID, MANY + 1),
		   PCITSM_E_INVAL);
	assert_null(one);
	assert_int_equal(f->rp->nr_streams, PCITSM_IDE_PORT_STREAMS_DEFAULT);
	/* One stream: block 1 does not exist. */
	assert_ok(pcitsm_ide_port_new_streams(&one, f->gcm, &f->env.env, RP_RID, 1));
	sel_rp(&s);
	assert_ok(pcitsm_ide_stream_config(one, 0, &s));
	assert_err(pcitsm_ide_stream_config(one, 1, &s), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_stream_enable(one, 1), PCITSM_E_INVAL);
	pcitsm_ide_port_free(one);

	assert_ok(pcitsm_ide_port_new_streams(&tx, f->gcm, &f->env.env, RP_RID, MANY));
	assert_ok(pcitsm_ide_port_new_streams(&rx, f->gcm, &f->env.env, EP_RID, MANY));
	assert_int_equal(tx->nr_streams, MANY);
	/* Block 0 idle; blocks 1..255 carry Stream IDs 0..254. */
	for (unsigned idx = 1; idx < MANY; idx++)
		many_stream(tx, rx, idx);
	assert_int_equal(pcitsm_ide_stream_find(rx, 254), MANY - 1);
	assert_err(pcitsm_ide_stream_config(tx, MANY, &s), PCITSM_E_INVAL);
	assert_int_equal(pcitsm_ide_stream_state(tx, MANY), PCITSM_IDE_INSECURE);
	for (unsigned round = 0; round < 2; round++)
		for (unsigned idx = 1; idx < MANY; idx++) {
			n = mk_mwr(tlp, 0x80000000ull + 0x1000ull * idx + 8 * round, data,
				   sizeof(data));
			io = (struct pcitsm_ide_io){ tlp, n, f->wire, sizeof(f->wire), 0 };
			assert_ok(pcitsm_ide_tx(tx, &io, 1));
			assert_int_equal(f->wire[PCITSM_IDE_PFX_STREAM_BYTE], idx - 1);
			out = (struct pcitsm_ide_rx_out){ .buf = f->plain,
							  .cap = sizeof(f->plain) };
			assert_ok(pcitsm_ide_rx(rx, f->wire, io.out_len, &out));
			assert_int_equal(out.n, 1);
			assert_int_equal(out.stream, (int)idx);
			assert_memory_equal(f->plain + out.off[0], tlp, n);
		}
	/* Another stream's keys: the TLP of the stream at block 255 relabelled as Stream ID 3. */
	n = mk_mwr(tlp, 0x80000000ull + 0x1000ull * (MANY - 1), data, sizeof(data));
	io = (struct pcitsm_ide_io){ tlp, n, f->wire, sizeof(f->wire), 0 };
	assert_ok(pcitsm_ide_tx(tx, &io, 1));
	f->wire[PCITSM_IDE_PFX_STREAM_BYTE] = 3;
	out = (struct pcitsm_ide_rx_out){ .buf = f->plain, .cap = sizeof(f->plain) };
	assert_err(pcitsm_ide_rx(rx, f->wire, io.out_len, &out), PCITSM_E_MAC);
	assert_int_equal(pcitsm_ide_stream_state(rx, 4), PCITSM_IDE_INSECURE);
	assert_int_equal(pcitsm_ide_stream_state(rx, MANY - 1), PCITSM_IDE_SECURE);
	pcitsm_ide_port_free(tx);
	pcitsm_ide_port_free(rx);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_split_and_place), T(test_layout_matches_gcm),
		T(test_unit_and_pcrc_layout), T(test_ifv_start), T(test_types_and_counters), T(test_check_failed),
		T(test_plain_rejected),     T(test_aggregation),        T(test_sync),
		T(test_aggregation_too_much_payload),
		T(test_refresh),            T(test_programming_errors), T(test_select),
		T(test_pcrc),
		T(test_sync_counts_exceed), T(test_rx_key_set_not_started),
		T(test_k_toggle_inside_unit), T(test_rx_rules_under_valid_mac),
		T(test_rx_hold_limits_and_counter_wrap), T(test_pcrc_missing_in_unit),
		T(test_tx_refusals), T(test_unit_mac_counters_and_plain_sync),
		T(test_unconfigure), T(test_t_bit), T(test_port_stream_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
