/* SPDX-License-Identifier: MIT */
/*
 * The PASID TLP Prefix codec (PCIe 6.x §6.20.2): known bytes both ways, every PASID bit and flag
 * in its place, and the refusals: another prefix type, reserved bits, a PASID over 20 bits, the
 * prefix on a TLP that is not a Memory Request, Execute Requested on a Memory Write; a TLP with
 * the prefix through the codec and through an IDE stream (the prefix in the AAD).
 */
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

static void test_known_bytes(void **state)
{
	struct pcitsm_tlp_pasid x = { .pasid = 0xabcde, .priv = true, .exec = false }, y;
	const uint8_t want[4] = { 0x91, 0x8a, 0xbc, 0xde };
	uint8_t b[4];

	assert_ok(pcitsm_tlp_pasid_encode(&x, b));
	assert_memory_equal(b, want, 4);
	assert_ok(pcitsm_tlp_pasid_decode(b, &y));
	assert_int_equal(y.pasid, 0xabcde);
	assert_true(y.priv);
	assert_false(y.exec);
	x = (struct pcitsm_tlp_pasid){ .pasid = 1, .exec = true };
	assert_ok(pcitsm_tlp_pasid_encode(&x, b));
	assert_memory_equal(b, ((uint8_t[]){ 0x91, 0x40, 0x00, 0x01 }), 4);
}

/* Every bit of the PASID and both flags round-trip and land where the figure puts them. */
static void test_every_bit(void **state)
{
	for (int i = 0; i < 22; i++) {
		struct pcitsm_tlp_pasid x = { 0 }, y;
		uint8_t b[4];

		if (i < 20)
			x.pasid = 1u << i;
		x.priv = i == 20;
		x.exec = i == 21;
		assert_ok(pcitsm_tlp_pasid_encode(&x, b));
		assert_int_equal(b[0], PCITSM_TLP_PFX_PASID);
		assert_int_equal(b[1] & PCITSM_TLP_PASID_RSVD, 0);
		assert_int_equal((uint32_t)(b[1] & 0xf) << 16 | (uint32_t)b[2] << 8 | b[3], x.pasid);
		assert_ok(pcitsm_tlp_pasid_decode(b, &y));
		assert_int_equal(y.pasid, x.pasid);
		assert_int_equal(y.priv, x.priv);
		assert_int_equal(y.exec, x.exec);
	}
}

static void test_refused(void **state)
{
	struct pcitsm_tlp_pasid x = { .pasid = PCITSM_TLP_PASID_MAX + 1 }, y;
	uint8_t b[4] = { 0x91, 0x00, 0x12, 0x34 };

	assert_err(pcitsm_tlp_pasid_encode(&x, b), PCITSM_E_INVAL);
	x.pasid = PCITSM_TLP_PASID_MAX;
	assert_ok(pcitsm_tlp_pasid_encode(&x, b));
	assert_err(pcitsm_tlp_pasid_encode(NULL, b), PCITSM_E_INVAL);
	/* Another End-End prefix (the IDE prefix, 0x92), a Local prefix, a header byte. */
	for (unsigned v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		if (v != PCITSM_TLP_PFX_PASID)
			assert_err(pcitsm_tlp_pasid_decode(b, &y), PCITSM_E_FIELD);
	}
	b[0] = PCITSM_TLP_PFX_PASID;
	/* Reserved bits 5:4 of byte 1, each. */
	b[1] = 0x10;
	assert_err(pcitsm_tlp_pasid_decode(b, &y), PCITSM_E_RESERVED);
	b[1] = 0x20;
	assert_err(pcitsm_tlp_pasid_decode(b, &y), PCITSM_E_RESERVED);
	assert_int_equal(y.pasid, 0); /* nothing half-decoded */
	b[1] = 0xcf;
	b[2] = 0x12;
	b[3] = 0x34;
	assert_ok(pcitsm_tlp_pasid_decode(b, &y));
	assert_int_equal(y.pasid, 0xf1234);
	assert_true(y.priv && y.exec);
}

static void test_applies_to(void **state)
{
	struct pcitsm_tlp_pasid x = { .pasid = 7 };
	struct pcitsm_tlp t = { 0 };

	t.kind = PCITSM_TLP_MWR;
	assert_ok(pcitsm_tlp_pasid_check(&x, &t));
	t.kind = PCITSM_TLP_MRD;
	assert_ok(pcitsm_tlp_pasid_check(&x, &t));
	x.exec = true;
	assert_ok(pcitsm_tlp_pasid_check(&x, &t));
	t.kind = PCITSM_TLP_MWR;
	assert_err(pcitsm_tlp_pasid_check(&x, &t), PCITSM_E_FIELD);
	x.exec = false;
	for (int k = PCITSM_TLP_CFGRD1; k <= PCITSM_TLP_MSG; k++) {
		t.kind = (enum pcitsm_tlp_kind)k;
		assert_err(pcitsm_tlp_pasid_check(&x, &t), PCITSM_E_FIELD);
	}
	assert_err(pcitsm_tlp_pasid_check(NULL, &t), PCITSM_E_INVAL);
}

/* A TLP with the prefix: encoded in front of the header, decoded back, refused where it may not
 * be or where a second prefix follows. */
static void test_tlp_with_prefix(void **state)
{
	static const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = 0x100, .first_be = 0xf,
				.last_be = 0xf, .addr = 0x123456780ull, .data = data, .len = 8,
				.has_pasid = true, .pasid = { .pasid = 0x54321, .priv = true } }, d;
	uint8_t b[64], c[64];
	size_t n;

	assert_int_equal(pcitsm_tlp_hdr_len(&t), 20);
	assert_ok(pcitsm_tlp_encode(&t, b, sizeof(b), &n));
	assert_int_equal(n, 4 + 16 + 8);
	assert_memory_equal(b, ((uint8_t[]){ 0x91, 0x85, 0x43, 0x21 }), 4);
	assert_int_equal(b[4] >> 5, 3); /* the header follows: 4 DW with data */
	assert_ok(pcitsm_tlp_decode(b, n, &d));
	assert_true(d.has_pasid);
	assert_int_equal(d.pasid.pasid, 0x54321);
	assert_true(d.pasid.priv);
	assert_int_equal(d.addr, 0x123456780ull);
	assert_memory_equal(d.data, data, 8);
	/* Truncated after the prefix, or with a byte too many. */
	assert_err(pcitsm_tlp_decode(b, 4, &d), PCITSM_E_SHORT);
	assert_err(pcitsm_tlp_decode(b, n - 1, &d), PCITSM_E_SHORT);
	assert_err(pcitsm_tlp_decode(b, n + 1, &d), PCITSM_E_LONG);
	/* Two PASID prefixes; the IDE prefix after it. */
	memcpy(c, b, 4);
	memcpy(c + 4, b, n);
	assert_err(pcitsm_tlp_decode(c, n + 4, &d), PCITSM_E_FIELD);
	c[4] = PCITSM_IDE_PFX_BYTE0;
	assert_err(pcitsm_tlp_decode(c, n + 4, &d), PCITSM_E_FIELD);
	/* Reserved bits in the prefix. */
	b[1] |= 0x20;
	assert_err(pcitsm_tlp_decode(b, n, &d), PCITSM_E_RESERVED);
	b[1] &= (uint8_t)~0x20;
	/* Execute Requested on a write; the prefix on a completion: refused both ways. */
	t.pasid.exec = true;
	assert_err(pcitsm_tlp_encode(&t, c, sizeof(c), &n), PCITSM_E_FIELD);
	b[1] |= PCITSM_TLP_PASID_ER;
	assert_err(pcitsm_tlp_decode(b, 28, &d), PCITSM_E_FIELD);
	t = (struct pcitsm_tlp){ .kind = PCITSM_TLP_CPLD, .req_id = 1, .cpl_id = 2, .byte_count = 8,
				 .data = data, .len = 8, .has_pasid = true };
	assert_err(pcitsm_tlp_encode(&t, c, sizeof(c), &n), PCITSM_E_FIELD);
	t.has_pasid = false;
	assert_ok(pcitsm_tlp_encode(&t, c + 4, sizeof(c) - 4, &n));
	memcpy(c, ((uint8_t[]){ 0x91, 0x00, 0x00, 0x07 }), 4);
	assert_err(pcitsm_tlp_decode(c, n + 4, &d), PCITSM_E_FIELD);
	assert_ok(pcitsm_tlp_decode(c + 4, n, &d));
	assert_false(d.has_pasid);
}

/* Through an IDE stream: the prefix travels in the clear after the IDE prefix, is covered by the
 * MAC (a flipped PASID bit is IDE Check Failed), and is delivered with the header. */
static void test_ide_carries_pasid(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_gcm *g;
	struct pcitsm_ide_port *rp, *ep;
	struct pcitsm_ide_sel s = { .ctl = { .stream_id = 3 }, .rid_valid = true, .rid_base = 0x100,
				    .rid_limit = 0x100, .nr_addr = 1,
				    .addr = { { true, 0x80000000, 0x8fffffff } } };
	static const uint8_t data[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = 0x08, .first_be = 0xf,
				.last_be = 0xf, .addr = 0x80001000, .data = data, .len = 16,
				.has_pasid = true, .pasid = { .pasid = 0xbeef1 } };
	uint8_t tlp[64], wire[128], plain[64];
	struct pcitsm_ide_io io = { tlp, 0, wire, sizeof(wire), 0 };
	struct pcitsm_ide_rx_out out = { .buf = plain, .cap = sizeof(plain) };

	pcitsm_env_test_init(&env, 5);
	assert_ok(pcitsm_gcm_new(&g, PCITSM_GCM_AUTO));
	assert_ok(pcitsm_ide_port_new(&rp, g, &env.env, 0x08));
	assert_ok(pcitsm_ide_port_new(&ep, g, &env.env, 0x100));
	assert_ok(pcitsm_ide_stream_config(rp, 0, &s));
	s.ctl.default_stream = true;
	s.rid_base = s.rid_limit = 0x08;
	assert_ok(pcitsm_ide_stream_config(ep, 0, &s));
	test_ide_keys(rp, ep, &env.env, 3, 0);
	test_ide_go(rp, ep, 3, 0, PCITSM_IDE_RX);
	test_ide_go(rp, ep, 3, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(ep, 0));
	assert_ok(pcitsm_ide_stream_enable(rp, 0));
	assert_ok(pcitsm_tlp_encode(&t, tlp, sizeof(tlp), &io.in_len));
	for (int round = 0; round < 2; round++) {
		assert_ok(pcitsm_ide_tx(rp, &io, 1));
		assert_int_equal(io.out_len, 4 + 4 + 12 + 16 + PCITSM_IDE_MAC_LEN);
		assert_int_equal(wire[0], PCITSM_IDE_PFX_BYTE0);
		assert_memory_equal(wire + 4, tlp, 4 + 12); /* PASID prefix and header in clear */
		assert_memory_not_equal(wire + 20, data, 16);
		if (round == 1)
			break;
		assert_ok(pcitsm_ide_rx(ep, wire, io.out_len, &out));
		assert_int_equal(out.n, 1);
		assert_int_equal(out.len[0], io.in_len);
		assert_memory_equal(plain + out.off[0], tlp, io.in_len);
	}
	wire[6] ^= 0x01; /* PASID[8] */
	assert_err(pcitsm_ide_rx(ep, wire, io.out_len, &out), PCITSM_E_MAC);
	assert_int_equal(pcitsm_ide_stream_state(ep, 0), PCITSM_IDE_INSECURE);
	pcitsm_ide_port_free(rp);
	pcitsm_ide_port_free(ep);
	pcitsm_gcm_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_bytes),
		cmocka_unit_test(test_every_bit),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_applies_to),
		cmocka_unit_test(test_tlp_with_prefix),
		cmocka_unit_test(test_ide_carries_pasid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
