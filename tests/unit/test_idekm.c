/* SPDX-License-Identifier: MIT */
/*
 * IDE_KM codecs, key material and the requester engine: every object round-trips and matches the
 * layouts of PCIe 6.x §6.33.3 byte for byte (the KEY_PROG-in-DOE example included), the KEY_PROG key/IFV byte
 * order, every decoder's rejections, response-to-request matching, each KP_ACK Status, and the
 * QUERY_RESP cross-check against config space naming the register that differs.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/idekm.h"
#include "testutil.h"

/* ---------------------------------------------------------------------------------------------
 * Helpers
 */
static size_t enc_ks(uint8_t *buf, size_t cap, const struct pcitsm_idekm_ks *m)
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, buf, cap);
	assert_ok(pcitsm_idekm_ks_encode(&w, m));
	return pcitsm_wr_len(&w);
}

/* Field by field: the struct has padding, which a struct copy need not preserve. */
static void assert_ks_equal(const struct pcitsm_idekm_ks *a, const struct pcitsm_idekm_ks *b)
{
	assert_int_equal(a->obj, b->obj);
	assert_int_equal(a->stream_id, b->stream_id);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->kset, b->kset);
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->sub, b->sub);
	assert_int_equal(a->port_index, b->port_index);
}

static struct pcitsm_idekm_ks ks_of(uint8_t obj, uint8_t sid, unsigned kset, enum pcitsm_ide_dir d,
				    enum pcitsm_ide_sub u, uint8_t port)
{
	return (struct pcitsm_idekm_ks){ .obj = obj, .stream_id = sid, .kset = (uint8_t)kset,
					 .dir = d, .sub = u, .port_index = port };
}

/* A register copy: 1 Link block, 2 Selective blocks with 1 and 2 address blocks. */
static size_t mk_regs(uint8_t *r)
{
	uint32_t v[] = {
		/* +04 Capability: Link, Selective, IDE_KM, 1 TC, 2 selective streams */
		PCITSM_IDE_CAP_LINK | PCITSM_IDE_CAP_SEL | PCITSM_IDE_CAP_IDE_KM |
			PCITSM_IDE_CAP_AGGREGATION | 1u << PCITSM_IDE_CAP_SEL_NUM_SHIFT,
		0x00000000, /* +08 Control */
		0x05000000, 0x00000000, /* +0C Link 0 Control, Status */
		/* +14 Selective 0: cap (1 addr), ctl, sts, rid1, rid2, addr x1 */
		1, 0x07000000, 0, 0x00010700, 0x00010001, 0x80080001, 0, 0,
		/* +34 Selective 1: cap (2 addr) ... */
		2, 0xff000000, 0, 0, 0, 0x00100001, 1, 2, 0x00200001, 3, 4,
	};
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(v); i++)
		pcitsm_put_le32(r + 4 * i, v[i]);
	return sizeof(v);
}

/* ---------------------------------------------------------------------------------------------
 * Codecs: layouts and round trips
 */
static void test_query(void **state)
{
	uint8_t buf[8], want[] = { 0x00, 0x00, 0x00, 0x05 }, port = 0;
	struct pcitsm_wr w;

	(void)state;
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_idekm_query_encode(&w, 5));
	assert_int_equal(pcitsm_wr_len(&w), 4);
	assert_memory_equal(buf, want, 4);
	assert_ok(pcitsm_idekm_query_decode(buf, 4, &port));
	assert_int_equal(port, 5);
	/* Negative: short, long, protocol, object, reserved. */
	assert_err(pcitsm_idekm_query_decode(buf, 3, &port), PCITSM_E_SHORT);
	assert_err(pcitsm_idekm_query_decode(buf, 5, &port), PCITSM_E_LONG);
	assert_err(pcitsm_idekm_query_decode(NULL, 0, &port), PCITSM_E_SHORT);
	buf[0] = 1;
	assert_err(pcitsm_idekm_query_decode(buf, 4, &port), PCITSM_E_FIELD);
	buf[0] = 0;
	for (uint8_t o = 1; o < 0xff; o++) {
		buf[1] = o;
		assert_err(pcitsm_idekm_query_decode(buf, 4, &port), PCITSM_E_FIELD);
	}
	buf[1] = 0;
	buf[2] = 0x80;
	assert_err(pcitsm_idekm_query_decode(buf, 4, &port), PCITSM_E_RESERVED);
	/* A full writer: nothing written, sticky E_NOSPC. */
	pcitsm_wr_init(&w, buf, 3);
	assert_err(pcitsm_idekm_query_encode(&w, 0), PCITSM_E_NOSPC);
	assert_int_equal(pcitsm_wr_len(&w), 0);
}

static void test_ksub(void **state)
{
	uint8_t kset;
	enum pcitsm_ide_dir d;
	enum pcitsm_ide_sub u;

	(void)state;
	/* PCIe 6.x §6.33.3 examples: 0x00 = K0|Rx|PR, 0x12 = K0|Tx|NPR, 0x23 = K1|Tx|CPL. */
	assert_int_equal(pcitsm_idekm_ksub_encode(0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR), 0x00);
	assert_int_equal(pcitsm_idekm_ksub_encode(0, PCITSM_IDE_TX, PCITSM_IDE_SUB_NPR), 0x12);
	assert_int_equal(pcitsm_idekm_ksub_encode(1, PCITSM_IDE_TX, PCITSM_IDE_SUB_CPL), 0x23);
	assert_ok(pcitsm_idekm_ksub_decode(0x23, &kset, &d, &u));
	assert_int_equal(kset, 1);
	assert_int_equal(d, PCITSM_IDE_TX);
	assert_int_equal(u, PCITSM_IDE_SUB_CPL);
	assert_ok(pcitsm_idekm_ksub_decode(0x11, &kset, &d, &u));
	assert_int_equal(kset, 1);
	assert_int_equal(d, PCITSM_IDE_RX);
	assert_int_equal(u, PCITSM_IDE_SUB_NPR);
	for (unsigned b = 0; b < 256; b++) {
		pcitsm_err want = b & 0x0c ? PCITSM_E_RESERVED :
				  (b >> 4) > 2 ? PCITSM_E_FIELD : PCITSM_OK;
		assert_err(pcitsm_idekm_ksub_decode((uint8_t)b, &kset, &d, &u), want);
	}
}

static void test_ks_roundtrip(void **state)
{
	static const uint8_t objs[] = { PCITSM_IDEKM_KP_ACK, PCITSM_IDEKM_K_SET_GO,
					PCITSM_IDEKM_K_SET_STOP, PCITSM_IDEKM_K_GOSTOP_ACK };
	uint8_t buf[16];
	struct pcitsm_idekm_ks m, got;

	(void)state;
	for (size_t o = 0; o < PCITSM_ARRAY_SIZE(objs); o++)
		for (unsigned k = 0; k < 2; k++)
			for (unsigned d = 0; d < 2; d++)
				for (unsigned u = 0; u < 3; u++) {
					m = ks_of(objs[o], (uint8_t)(7 + u), k, d, u, (uint8_t)o);
					assert_int_equal(enc_ks(buf, sizeof(buf), &m), 8);
					assert_int_equal(buf[0], 0);
					assert_int_equal(buf[1], objs[o]);
					assert_int_equal(buf[2] | buf[3] | buf[5], 0);
					assert_int_equal(buf[4], 7 + u);
					assert_int_equal(buf[6], k | d << 1 | u << 4);
					assert_int_equal(buf[7], o);
					assert_ok(pcitsm_idekm_ks_decode(buf, 8, &got));
					assert_ks_equal(&got, &m);
				}
	/* Every KP_ACK Status value, defined and reserved, travels at offset 5. */
	for (unsigned st = 0; st < 256; st++) {
		m = ks_of(PCITSM_IDEKM_KP_ACK, 1, 0, 0, 0, 0);
		m.status = (uint8_t)st;
		enc_ks(buf, sizeof(buf), &m);
		assert_int_equal(buf[5], st);
		assert_ok(pcitsm_idekm_ks_decode(buf, 8, &got));
		assert_int_equal(got.status, st);
	}
	assert_string_equal(pcitsm_idekm_kp_status_name(0), "SUCCESS");
	assert_string_equal(pcitsm_idekm_kp_status_name(1), "INCORRECT_LENGTH");
	assert_string_equal(pcitsm_idekm_kp_status_name(2), "UNSUPPORTED_PORT_INDEX");
	assert_string_equal(pcitsm_idekm_kp_status_name(3), "UNSUPPORTED_VALUE");
	assert_string_equal(pcitsm_idekm_kp_status_name(4), "UNSPECIFIED_FAILURE");
	assert_string_equal(pcitsm_idekm_kp_status_name(5), "RESERVED");
	assert_string_equal(pcitsm_idekm_kp_status_name(0xff), "RESERVED");
	assert_string_equal(pcitsm_idekm_obj_name(PCITSM_IDEKM_K_GOSTOP_ACK), "K_GOSTOP_ACK");
	assert_string_equal(pcitsm_idekm_obj_name(7), "UNKNOWN");
}

static void test_ks_negative(void **state)
{
	uint8_t buf[16], bad[16];
	struct pcitsm_idekm_ks m = ks_of(PCITSM_IDEKM_K_SET_GO, 3, 1, 1, 2, 0), got;
	struct pcitsm_wr w;

	(void)state;
	enc_ks(buf, sizeof(buf), &m);
	assert_err(pcitsm_idekm_ks_decode(buf, 7, &got), PCITSM_E_SHORT);
	assert_err(pcitsm_idekm_ks_decode(buf, 9, &got), PCITSM_E_LONG);
	assert_err(pcitsm_idekm_ks_decode(buf, 0, &got), PCITSM_E_SHORT);
	/* Object IDs: only the four 8-byte objects. */
	for (unsigned o = 0; o < 256; o++) {
		bool ok = o >= 3 && o <= 6;

		memcpy(bad, buf, 8);
		bad[1] = (uint8_t)o;
		assert_err(pcitsm_idekm_ks_decode(bad, 8, &got), ok ? PCITSM_OK : PCITSM_E_FIELD);
	}
	memcpy(bad, buf, 8);
	bad[0] = 1; /* TDISP's Protocol ID */
	assert_err(pcitsm_idekm_ks_decode(bad, 8, &got), PCITSM_E_FIELD);
	/* Reserved bytes 2, 3 and (outside KP_ACK) 5; Key Sub-Stream bits 3:2; sub-stream > CPL. */
	for (int off = 2; off <= 5; off++) {
		if (off == 4)
			continue;
		memcpy(bad, buf, 8);
		bad[off] = 1;
		assert_err(pcitsm_idekm_ks_decode(bad, 8, &got), PCITSM_E_RESERVED);
	}
	memcpy(bad, buf, 8);
	bad[6] |= 0x04;
	assert_err(pcitsm_idekm_ks_decode(bad, 8, &got), PCITSM_E_RESERVED);
	bad[6] = 0x08;
	assert_err(pcitsm_idekm_ks_decode(bad, 8, &got), PCITSM_E_RESERVED);
	for (unsigned s = 3; s < 16; s++) {
		bad[6] = (uint8_t)(s << 4);
		assert_err(pcitsm_idekm_ks_decode(bad, 8, &got), PCITSM_E_FIELD);
	}
	/* Encoder: fields out of range, status outside KP_ACK, object not an 8-byte one. */
	pcitsm_wr_init(&w, bad, sizeof(bad));
	m.kset = 2;
	assert_err(pcitsm_idekm_ks_encode(&w, &m), PCITSM_E_INVAL);
	m.kset = 0;
	m.sub = 3;
	assert_err(pcitsm_idekm_ks_encode(&w, &m), PCITSM_E_INVAL);
	m.sub = 0;
	m.dir = 2;
	assert_err(pcitsm_idekm_ks_encode(&w, &m), PCITSM_E_INVAL);
	m.dir = 0;
	m.status = 1;
	assert_err(pcitsm_idekm_ks_encode(&w, &m), PCITSM_E_INVAL);
	m.status = 0;
	m.obj = PCITSM_IDEKM_KEY_PROG;
	assert_err(pcitsm_idekm_ks_encode(&w, &m), PCITSM_E_INVAL);
	m.obj = 0x40;
	assert_err(pcitsm_idekm_ks_encode(&w, &m), PCITSM_E_INVAL);
	assert_int_equal(pcitsm_wr_len(&w), 0);
}

/* The KEY_PROG inside the VENDOR_DEFINED_REQUEST, byte for byte (docs/idekm.md). */
static void test_key_prog_e4(void **state)
{
	struct pcitsm_idekm_key_prog kp, got;
	uint8_t buf[64], vdm[11 + 48];
	struct pcitsm_wr w;

	(void)state;
	memset(&kp, 0, sizeof(kp));
	kp.ks = ks_of(PCITSM_IDEKM_KEY_PROG, 0x2a, 0, PCITSM_IDE_TX, PCITSM_IDE_SUB_NPR, 0);
	for (int i = 0; i < 32; i++)
		kp.key[i] = (uint8_t)(0xc0 + i);
	pcitsm_ide_km_ifv_encode(1, kp.ifv);
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
	assert_int_equal(pcitsm_wr_len(&w), 48);
	/* 00 | 02 00 00 | StreamID | 00 | KeySubStream | PortIndex | Key[32] | IFV[8] */
	const uint8_t head[] = { 0x00, 0x02, 0x00, 0x00, 0x2a, 0x00, 0x12, 0x00 };
	const uint8_t ifv1[] = { 0, 0, 0, 0, 1, 0, 0, 0 };
	assert_memory_equal(buf, head, 8);
	assert_memory_equal(buf + 8, kp.key, 32);
	assert_memory_equal(buf + 40, ifv1, 8);
	/* The SPDM framing around it (the SPDM layer's, shown for the lengths): header 12 FE 00 00 |
	 * 03 00 | 02 | 01 00 | 30 00, ReqLength 48, 59 bytes in all (AppDataLen 0x3B). */
	const uint8_t vhdr[] = { 0x12, 0xfe, 0, 0, 0x03, 0x00, 0x02, 0x01, 0x00, 0x30, 0x00 };
	memcpy(vdm, vhdr, sizeof(vhdr));
	memcpy(vdm + 11, buf, 48);
	assert_int_equal(sizeof(vdm), 0x3b);
	assert_int_equal(pcitsm_get_le16(vdm + 9), pcitsm_wr_len(&w));
	/* Decode it back. */
	assert_ok(pcitsm_idekm_key_prog_decode(buf, 48, &got));
	assert_ks_equal(&got.ks, &kp.ks);
	assert_memory_equal(got.key, kp.key, sizeof(kp.key));
	assert_memory_equal(got.ifv, kp.ifv, sizeof(kp.ifv));
	pcitsm_wipe(&got, sizeof(got));
	pcitsm_wipe(buf, sizeof(buf));
}

static void test_key_prog_negative(void **state)
{
	struct pcitsm_idekm_key_prog kp, got;
	uint8_t buf[64], bad[64], zero[sizeof(got)];
	struct pcitsm_wr w;

	(void)state;
	memset(zero, 0, sizeof(zero));
	memset(&kp, 0, sizeof(kp));
	kp.ks = ks_of(PCITSM_IDEKM_KEY_PROG, 1, 1, PCITSM_IDE_RX, PCITSM_IDE_SUB_CPL, 0);
	memset(kp.key, 0x5a, sizeof(kp.key));
	pcitsm_ide_km_ifv_encode(1, kp.ifv);
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
	for (size_t n = 0; n < 48; n++) {
		memset(&got, 0xee, sizeof(got));
		assert_err(pcitsm_idekm_key_prog_decode(buf, n, &got), PCITSM_E_SHORT);
		assert_memory_equal(&got, zero, sizeof(got)); /* wiped on the error path */
	}
	assert_err(pcitsm_idekm_key_prog_decode(buf, 49, &got), PCITSM_E_LONG);
	memcpy(bad, buf, 48);
	bad[1] = PCITSM_IDEKM_K_SET_GO;
	assert_err(pcitsm_idekm_key_prog_decode(bad, 48, &got), PCITSM_E_FIELD);
	memcpy(bad, buf, 48);
	bad[0] = 0x01;
	assert_err(pcitsm_idekm_key_prog_decode(bad, 48, &got), PCITSM_E_FIELD);
	for (int off = 2; off <= 5; off++) {
		if (off == 4)
			continue;
		memcpy(bad, buf, 48);
		bad[off] = 0x10;
		memset(&got, 0xee, sizeof(got));
		assert_err(pcitsm_idekm_key_prog_decode(bad, 48, &got), PCITSM_E_RESERVED);
		assert_memory_equal(&got, zero, sizeof(got));
	}
	memcpy(bad, buf, 48);
	bad[6] = 0x30; /* sub-stream 3 */
	assert_err(pcitsm_idekm_key_prog_decode(bad, 48, &got), PCITSM_E_FIELD);
	bad[6] = 0x04;
	assert_err(pcitsm_idekm_key_prog_decode(bad, 48, &got), PCITSM_E_RESERVED);
	/* Encoder field checks. */
	kp.ks.sub = 4;
	assert_err(pcitsm_idekm_key_prog_encode(&w, &kp), PCITSM_E_INVAL);
	kp.ks.sub = 0;
	kp.ks.status = 3;
	assert_err(pcitsm_idekm_key_prog_encode(&w, &kp), PCITSM_E_INVAL);
	pcitsm_wr_init(&w, bad, 47);
	kp.ks.status = 0;
	assert_err(pcitsm_idekm_key_prog_encode(&w, &kp), PCITSM_E_NOSPC);
	assert_int_equal(pcitsm_wr_len(&w), 0);
	pcitsm_wipe(&kp, sizeof(kp));
	pcitsm_wipe(buf, sizeof(buf));
	pcitsm_wipe(bad, sizeof(bad));
}

/* KEY_PROG byte order (docs/idekm.md), computed here from its statement: message byte 8 + 4i + j =
 * AESkey[4i + 3 - j]; IFV 1 is 00 00 00 00 01 00 00 00. */
static void test_key_byte_order(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_idekm_keys k;
	struct pcitsm_idekm_key_prog kp;
	uint8_t buf[48], aes[32];
	struct pcitsm_wr w;
	const uint8_t ifv1[] = { 0, 0, 0, 0, 1, 0, 0, 0 };

	(void)state;
	pcitsm_env_test_init(&env, 3);
	assert_ok(pcitsm_idekm_keys_generate(&env.env, 9, 1, &k));
	for (unsigned i = 0; i < 6; i++) {
		enum pcitsm_ide_dir d;
		enum pcitsm_ide_sub u;

		pcitsm_idekm_keys_slot(i, &d, &u);
		assert_ok(pcitsm_idekm_keys_key_prog(&k, i, 2, &kp));
		pcitsm_wr_init(&w, buf, sizeof(buf));
		assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
		assert_int_equal(buf[4], 9);
		assert_int_equal(buf[6], 1 | d << 1 | u << 4);
		assert_int_equal(buf[7], 2);
		for (int g = 0; g < 8; g++)
			for (int j = 0; j < 4; j++)
				assert_int_equal(buf[8 + 4 * g + j], k.key[d][u][4 * g + 3 - j]);
		assert_memory_equal(buf + 40, ifv1, 8);
		/* And back through lib/ide's inverse. */
		pcitsm_ide_km_key_to_aes(buf + 8, aes);
		assert_memory_equal(aes, k.key[d][u], 32);
		assert_int_equal(pcitsm_ide_km_ifv_decode(buf + 40), 1);
	}
	assert_err(pcitsm_idekm_keys_key_prog(&k, 6, 0, &kp), PCITSM_E_INVAL);
	pcitsm_wipe(&kp, sizeof(kp));
	pcitsm_wipe(buf, sizeof(buf));
	pcitsm_wipe(aes, sizeof(aes));
	pcitsm_idekm_keys_wipe(&k);
}

static void test_keys_generate(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_idekm_keys k, k2, zero;
	enum pcitsm_ide_dir d;
	enum pcitsm_ide_sub u;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	pcitsm_env_test_init(&env, 11);
	assert_ok(pcitsm_idekm_keys_generate(&env.env, 4, 0, &k));
	assert_int_equal(k.stream_id, 4);
	assert_int_equal(k.kset, 0);
	assert_int_equal(k.ifv, 1);
	for (unsigned a = 0; a < 6; a++)
		for (unsigned b = a + 1; b < 6; b++)
			assert_memory_not_equal(k.key[a / 3][a % 3], k.key[b / 3][b % 3], 32);
	/* A deterministic env gives the same keys from the same seed, others from another. */
	pcitsm_env_test_init(&env, 11);
	assert_ok(pcitsm_idekm_keys_generate(&env.env, 4, 0, &k2));
	assert_memory_equal(&k, &k2, sizeof(k));
	assert_ok(pcitsm_idekm_keys_generate(&env.env, 4, 0, &k2));
	assert_memory_not_equal(k.key, k2.key, sizeof(k.key));
	/* Failures leave the struct wiped. */
	env.rng_fail = true;
	assert_err(pcitsm_idekm_keys_generate(&env.env, 4, 0, &k2), PCITSM_E_RNG);
	assert_memory_equal(&k2, &zero, sizeof(k2));
	env.rng_fail = false;
	memset(&k2, 0x77, sizeof(k2));
	assert_err(pcitsm_idekm_keys_generate(&env.env, 4, 2, &k2), PCITSM_E_INVAL);
	assert_memory_equal(&k2, &zero, sizeof(k2));
	assert_err(pcitsm_idekm_keys_generate(&env.env, 255, 0, &k2), PCITSM_E_INVAL);
	assert_err(pcitsm_idekm_keys_generate(NULL, 1, 0, &k2), PCITSM_E_INVAL);
	pcitsm_idekm_keys_wipe(&k);
	assert_memory_equal(&k, &zero, sizeof(k));
	pcitsm_idekm_keys_wipe(&k2);
	/* Programming order: Rx PR, NPR, CPL, then Tx PR, NPR, CPL. */
	for (unsigned i = 0; i < 6; i++) {
		pcitsm_idekm_keys_slot(i, &d, &u);
		assert_int_equal(d, i < 3 ? PCITSM_IDE_RX : PCITSM_IDE_TX);
		assert_int_equal(u, i % 3);
	}
}

/* ---------------------------------------------------------------------------------------------
 * QUERY_RESP
 */
static size_t enc_qr(uint8_t *buf, size_t cap, uint8_t port, uint8_t maxp, const uint8_t *regs,
		     size_t n)
{
	struct pcitsm_idekm_query_resp h = { .port_index = port, .dev_func = 0x08, .bus = 0x01,
					     .segment = 0, .max_port_index = maxp };
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, buf, cap);
	assert_ok(pcitsm_idekm_query_resp_encode(&w, &h, regs, n));
	return pcitsm_wr_len(&w);
}

static void test_query_resp(void **state)
{
	uint8_t regs[256], buf[512];
	struct pcitsm_idekm_query_resp *qr = calloc(1, sizeof(*qr));
	char name[64];
	size_t n = mk_regs(regs), len;

	(void)state;
	len = enc_qr(buf, sizeof(buf), 1, 2, regs, n);
	assert_int_equal(len, 8 + n);
	const uint8_t head[] = { 0x00, 0x01, 0x00, 0x01, 0x08, 0x01, 0x00, 0x02 };
	assert_memory_equal(buf, head, 8);
	assert_memory_equal(buf + 8, regs, n);
	assert_ok(pcitsm_idekm_query_resp_decode(buf, len, qr));
	assert_int_equal(qr->port_index, 1);
	assert_int_equal(qr->dev_func, 0x08);
	assert_int_equal(qr->bus, 1);
	assert_int_equal(qr->max_port_index, 2);
	assert_int_equal(qr->nr_link, 1);
	assert_int_equal(qr->nr_sel, 2);
	assert_int_equal(qr->sel_off[0], 0x14);
	assert_int_equal(qr->sel_naddr[0], 1);
	assert_int_equal(qr->sel_off[1], 0x14 + 0x20);
	assert_int_equal(qr->sel_naddr[1], 2);
	assert_int_equal(qr->regs_len, n);
	assert_int_equal(pcitsm_idekm_qr_reg(qr, 0x0c), 0x05000000);
	assert_int_equal(pcitsm_idekm_qr_reg(qr, 0x14 + 4), 0x07000000);
	assert_int_equal(pcitsm_idekm_qr_reg(qr, 0x34 + 0x1c + 12), 4);
	assert_int_equal(pcitsm_idekm_qr_reg(qr, 0x34 + 0x2c), 0); /* past the end */
	assert_int_equal(pcitsm_idekm_qr_reg(qr, 6), 0);           /* misaligned */
	pcitsm_idekm_qr_reg_name(qr, 0x04, name, sizeof(name));
	assert_string_equal(name, "IDE Capability");
	pcitsm_idekm_qr_reg_name(qr, 0x08, name, sizeof(name));
	assert_string_equal(name, "IDE Control");
	pcitsm_idekm_qr_reg_name(qr, 0x10, name, sizeof(name));
	assert_string_equal(name, "Link 0 Status");
	pcitsm_idekm_qr_reg_name(qr, 0x14 + 0x10, name, sizeof(name));
	assert_string_equal(name, "Selective 0 RID Association 2");
	pcitsm_idekm_qr_reg_name(qr, 0x34 + 0x04, name, sizeof(name));
	assert_string_equal(name, "Selective 1 Control");
	pcitsm_idekm_qr_reg_name(qr, 0x34 + 0x14 + 12 + 8, name, sizeof(name));
	assert_string_equal(name, "Selective 1 Address Association 1.3");
	free(qr);
}

static void test_query_resp_negative(void **state)
{
	uint8_t regs[256], buf[512], bad[512];
	struct pcitsm_idekm_query_resp *qr = calloc(1, sizeof(*qr));
	struct pcitsm_idekm_query_resp h = { .port_index = 3, .max_port_index = 2 };
	struct pcitsm_wr w;
	size_t n = mk_regs(regs), len;

	(void)state;
	len = enc_qr(buf, sizeof(buf), 0, 0, regs, n);
	/* Every length but the right one. */
	for (size_t l = 0; l < len + 12; l++) {
		pcitsm_err want = l < len ? PCITSM_E_SHORT : l > len ? PCITSM_E_LONG : PCITSM_OK;

		memset(bad, 0, sizeof(bad));
		memcpy(bad, buf, len);
		assert_err(pcitsm_idekm_query_resp_decode(bad, l, qr), want);
	}
	memcpy(bad, buf, len);
	bad[1] = PCITSM_IDEKM_QUERY;
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_FIELD);
	memcpy(bad, buf, len);
	bad[0] = 0x01;
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_FIELD);
	memcpy(bad, buf, len);
	bad[2] = 0x01;
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_RESERVED);
	memcpy(bad, buf, len);
	bad[3] = 1; /* PortIndex 1 > MaxPortIndex 0 */
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_FIELD);
	/* A Selective block's count changed: the copy no longer matches its own layout. */
	memcpy(bad, buf, len);
	bad[8 + 0x30] = 3; /* Selective 1 claims 3 address blocks */
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_SHORT);
	bad[8 + 0x30] = 1;
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_LONG);
	/* Link IDE not supported: its TC count no longer counts. */
	memcpy(bad, buf, len);
	bad[8] &= (uint8_t)~PCITSM_IDE_CAP_LINK;
	assert_err(pcitsm_idekm_query_resp_decode(bad, len, qr), PCITSM_E_LONG);
	/* 256 selective blocks of 15 address blocks cannot fit in config space. */
	uint8_t *big = calloc(1, 8192);
	big[1] = PCITSM_IDEKM_QUERY_RESP;
	pcitsm_put_le32(big + 8, PCITSM_IDE_CAP_SEL | 0xffu << PCITSM_IDE_CAP_SEL_NUM_SHIFT);
	for (size_t off = 16; off + 4 <= 8192; off += 200)
		big[off] = 15;
	assert_err(pcitsm_idekm_query_resp_decode(big, 8192, qr), PCITSM_E_RANGE);
	free(big);
	/* Only the header and Capability + Control: valid when nothing else is supported. */
	memset(bad, 0, 16);
	bad[1] = PCITSM_IDEKM_QUERY_RESP;
	assert_ok(pcitsm_idekm_query_resp_decode(bad, 16, qr));
	assert_int_equal(qr->nr_link + qr->nr_sel, 0);
	/* Encoder: a copy that disagrees with itself, PortIndex above MaxPortIndex. */
	pcitsm_wr_init(&w, bad, sizeof(bad));
	assert_err(pcitsm_idekm_query_resp_encode(&w, &h, regs, n), PCITSM_E_INVAL);
	h.max_port_index = 3;
	assert_err(pcitsm_idekm_query_resp_encode(&w, &h, regs, n - 4), PCITSM_E_INVAL);
	assert_err(pcitsm_idekm_query_resp_encode(&w, &h, regs, n + 4), PCITSM_E_INVAL);
	pcitsm_wr_init(&w, bad, n);
	assert_err(pcitsm_idekm_query_resp_encode(&w, &h, regs, n), PCITSM_E_NOSPC);
	free(qr);
}

/* ---------------------------------------------------------------------------------------------
 * Requester
 */
struct rq_fx {
	struct pcitsm_idekm_req rq;
	struct pcitsm_idekm_query_resp qr;
	uint8_t req[64], rsp[512];
	struct pcitsm_wr w;
};

static int rq_setup(void **state)
{
	struct rq_fx *f = calloc(1, sizeof(*f));

	pcitsm_idekm_req_init(&f->rq);
	pcitsm_wr_init(&f->w, f->req, sizeof(f->req));
	*state = f;
	return 0;
}

static int rq_teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_req_query(void **state)
{
	struct rq_fx *f = *state;
	uint8_t regs[256];
	size_t n = mk_regs(regs), len;

	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, 8, &f->qr), PCITSM_E_STATE);
	assert_ok(pcitsm_idekm_req_query(&f->rq, 0, &f->w));
	assert_int_equal(pcitsm_wr_len(&f->w), 4);
	/* One request at a time (PCIe 6.x §6.33.3). */
	assert_err(pcitsm_idekm_req_query(&f->rq, 0, &f->w), PCITSM_E_STATE);
	assert_int_equal(pcitsm_wr_len(&f->w), 4);
	len = enc_qr(f->rsp, sizeof(f->rsp), 0, 0, regs, n);
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, len, NULL), PCITSM_E_INVAL);
	assert_ok(pcitsm_idekm_req_response(&f->rq, f->rsp, len, &f->qr));
	assert_int_equal(f->qr.nr_sel, 2);
	assert_false(f->rq.pending);
	/* Port 1 asked, port 0 answered: not the answer, and the requester stays failed. */
	assert_ok(pcitsm_idekm_req_query(&f->rq, 1, &f->w));
	len = enc_qr(f->rsp, sizeof(f->rsp), 0, 1, regs, n);
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, len, &f->qr), PCITSM_E_UNEXPECTED);
	assert_err(pcitsm_idekm_req_query(&f->rq, 1, &f->w), PCITSM_E_UNEXPECTED);
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, len, &f->qr), PCITSM_E_UNEXPECTED);
	pcitsm_idekm_req_init(&f->rq);
	/* Timeout: abandon, then ask again. */
	assert_ok(pcitsm_idekm_req_query(&f->rq, 0, &f->w));
	pcitsm_idekm_req_abandon(&f->rq);
	assert_ok(pcitsm_idekm_req_query(&f->rq, 0, &f->w));
	/* A malformed QUERY_RESP fails it. */
	len = enc_qr(f->rsp, sizeof(f->rsp), 0, 0, regs, n);
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, len - 1, &f->qr), PCITSM_E_SHORT);
	assert_int_equal(f->rq.err, PCITSM_E_SHORT);
}

/* The answer to each request kind, and every way it can fail to match. */
static void test_req_match(void **state)
{
	struct rq_fx *f = *state;
	struct pcitsm_idekm_key_prog kp;
	struct pcitsm_idekm_ks base = ks_of(0, 6, 1, PCITSM_IDE_TX, PCITSM_IDE_SUB_NPR, 0), a;
	static const uint8_t reqs[] = { PCITSM_IDEKM_KEY_PROG, PCITSM_IDEKM_K_SET_GO,
					PCITSM_IDEKM_K_SET_STOP };
	size_t len;

	memset(&kp, 0, sizeof(kp));
	kp.ks = base;
	kp.ks.obj = PCITSM_IDEKM_KEY_PROG;
	pcitsm_ide_km_ifv_encode(1, kp.ifv);
	for (size_t r = 0; r < PCITSM_ARRAY_SIZE(reqs); r++) {
		uint8_t ans = reqs[r] == PCITSM_IDEKM_KEY_PROG ? PCITSM_IDEKM_KP_ACK :
								 PCITSM_IDEKM_K_GOSTOP_ACK;

		for (int wrong = 0; wrong <= 7; wrong++) {
			pcitsm_err want = wrong ? PCITSM_E_UNEXPECTED : PCITSM_OK;

			pcitsm_idekm_req_init(&f->rq);
			pcitsm_wr_init(&f->w, f->req, sizeof(f->req));
			if (reqs[r] == PCITSM_IDEKM_KEY_PROG)
				assert_ok(pcitsm_idekm_req_key_prog(&f->rq, &kp, &f->w));
			else
				assert_ok(pcitsm_idekm_req_k_set(&f->rq, reqs[r], &base, &f->w));
			assert_int_equal(f->req[1], reqs[r]);
			a = base;
			a.obj = ans;
			switch (wrong) {
			case 1: a.stream_id++; break;
			case 2: a.kset ^= 1; break;
			case 3: a.dir = PCITSM_IDE_RX; break;
			case 4: a.sub = PCITSM_IDE_SUB_PR; break;
			case 5: a.port_index = 1; break;
			case 6: /* the other acknowledgement */
				a.obj = ans == PCITSM_IDEKM_KP_ACK ? PCITSM_IDEKM_K_GOSTOP_ACK :
								     PCITSM_IDEKM_KP_ACK;
				break;
			case 7: /* the request itself, echoed back */
				a.obj = reqs[r] == PCITSM_IDEKM_KEY_PROG ? PCITSM_IDEKM_K_SET_GO :
									   reqs[r];
				break;
			}
			len = enc_ks(f->rsp, sizeof(f->rsp), &a);
			assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, len, NULL), want);
			assert_false(f->rq.pending);
			assert_int_equal(f->rq.err, want);
		}
	}
	/* K_SET takes only GO and STOP. */
	pcitsm_idekm_req_init(&f->rq);
	assert_err(pcitsm_idekm_req_k_set(&f->rq, PCITSM_IDEKM_KEY_PROG, &base, &f->w),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_idekm_req_k_set(&f->rq, PCITSM_IDEKM_K_GOSTOP_ACK, &base, &f->w),
		   PCITSM_E_INVAL);
	assert_false(f->rq.pending);
	pcitsm_wipe(&kp, sizeof(kp));
}

/* Each KP_ACK Status: success is OK; every other value (defined or reserved) is E_PEER_ERROR
 * carrying it, and the requester can go on. */
static void test_req_kp_status(void **state)
{
	struct rq_fx *f = *state;
	struct pcitsm_idekm_key_prog kp;
	struct pcitsm_idekm_ks a;
	static const uint8_t statuses[] = { 0, 1, 2, 3, 4, 5, 6, 0x80, 0xff };
	size_t len;

	memset(&kp, 0, sizeof(kp));
	kp.ks = ks_of(PCITSM_IDEKM_KEY_PROG, 2, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_CPL, 0);
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(statuses); i++) {
		pcitsm_wr_init(&f->w, f->req, sizeof(f->req));
		assert_ok(pcitsm_idekm_req_key_prog(&f->rq, &kp, &f->w));
		a = kp.ks;
		a.obj = PCITSM_IDEKM_KP_ACK;
		a.status = statuses[i];
		len = enc_ks(f->rsp, sizeof(f->rsp), &a);
		assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, len, NULL),
			   statuses[i] ? PCITSM_E_PEER_ERROR : PCITSM_OK);
		assert_int_equal(f->rq.kp_status, statuses[i]);
		assert_int_equal(f->rq.err, PCITSM_OK);
		assert_false(f->rq.pending);
	}
	/* Garbage in place of the KP_ACK: the decoder's error, sticky. */
	pcitsm_wr_init(&f->w, f->req, sizeof(f->req));
	assert_ok(pcitsm_idekm_req_key_prog(&f->rq, &kp, &f->w));
	f->rsp[0] = 0;
	f->rsp[1] = PCITSM_IDEKM_KP_ACK;
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, 7, NULL), PCITSM_E_SHORT);
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, 1, NULL), PCITSM_E_SHORT);
	pcitsm_idekm_req_init(&f->rq);
	pcitsm_wr_init(&f->w, f->req, sizeof(f->req));
	assert_ok(pcitsm_idekm_req_key_prog(&f->rq, &kp, &f->w));
	f->rsp[0] = 1; /* TDISP */
	assert_err(pcitsm_idekm_req_response(&f->rq, f->rsp, 8, NULL), PCITSM_E_FIELD);
	pcitsm_wipe(&kp, sizeof(kp));
}

/* ---------------------------------------------------------------------------------------------
 * QUERY_RESP against config space
 */
#define IDE_OFF 0x100

static void cfg_from_regs(struct pcitsm_cfg_emu *c, const uint8_t *regs, size_t n)
{
	pcitsm_cfg_emu_init(c, PCITSM_CFG_SIZE_EXT);
	pcitsm_cfg_emu_poke(c, IDE_OFF, 4, PCITSM_ECAP_ID_IDE | 1u << 16);
	for (size_t i = 0; i < n; i += 4)
		pcitsm_cfg_emu_poke(c, IDE_OFF + 4 + (uint32_t)i, 4, pcitsm_get_le32(regs + i));
}

static void test_crosscheck(void **state)
{
	struct pcitsm_cfg_emu *c = calloc(1, sizeof(*c));
	struct pcitsm_idekm_query_resp *qr = calloc(1, sizeof(*qr));
	struct pcitsm_idekm_mismatch mm;
	struct pcitsm_bdf bdf = { 0, 0x01, 0x01, 0 };
	uint8_t regs[256], buf[512];
	size_t n = mk_regs(regs), len;
	struct {
		uint32_t off;
		const char *name;
	} regs_checked[] = {
		{ 0x04, "IDE Capability" },
		{ 0x08, "IDE Control" },
		{ 0x0c, "Link 0 Control" },
		{ 0x14, "Selective 0 Capability" },
		{ 0x18, "Selective 0 Control" },
		{ 0x20, "Selective 0 RID Association 1" },
		{ 0x24, "Selective 0 RID Association 2" },
		{ 0x28, "Selective 0 Address Association 0.1" },
		{ 0x2c, "Selective 0 Address Association 0.2" },
		{ 0x30, "Selective 0 Address Association 0.3" },
		{ 0x38, "Selective 1 Control" },
		{ 0x5c, "Selective 1 Address Association 1.3" },
	};

	(void)state;
	cfg_from_regs(c, regs, n);
	len = enc_qr(buf, sizeof(buf), 0, 0, regs, n);
	assert_ok(pcitsm_idekm_query_resp_decode(buf, len, qr));
	assert_ok(pcitsm_idekm_query_resp_check(qr, &c->cfg, IDE_OFF, &bdf, &mm));
	assert_ok(pcitsm_idekm_query_resp_check(qr, &c->cfg, IDE_OFF, NULL, NULL));
	/* The device's claim differs from what the host reads: the first such register is named. */
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(regs_checked); i++) {
		uint32_t off = regs_checked[i].off, host = pcitsm_cfg_emu_peek(c, IDE_OFF + off, 4);

		pcitsm_cfg_emu_poke(c, IDE_OFF + off, 4, host ^ 0x00004000); /* e.g. an algorithm */
		memset(&mm, 0, sizeof(mm));
		assert_err(pcitsm_idekm_query_resp_check(qr, &c->cfg, IDE_OFF, NULL, &mm),
			   PCITSM_E_MISMATCH);
		assert_int_equal(mm.off, off);
		assert_int_equal(mm.device, host);
		assert_int_equal(mm.host, host ^ 0x00004000);
		assert_string_equal(mm.name, regs_checked[i].name);
		pcitsm_cfg_emu_poke(c, IDE_OFF + off, 4, host);
	}
	/* Status registers change under traffic: not compared. */
	pcitsm_cfg_emu_poke(c, IDE_OFF + 0x10, 4, PCITSM_IDE_STATE_SECURE);
	pcitsm_cfg_emu_poke(c, IDE_OFF + 0x1c, 4, PCITSM_IDE_STATE_SECURE);
	pcitsm_cfg_emu_poke(c, IDE_OFF + 0x3c, 4, PCITSM_IDE_STATUS_RECVD_FAIL);
	assert_ok(pcitsm_idekm_query_resp_check(qr, &c->cfg, IDE_OFF, &bdf, &mm));
	/* Bus and Dev/Func. */
	bdf.bus = 2;
	assert_err(pcitsm_idekm_query_resp_check(qr, &c->cfg, IDE_OFF, &bdf, &mm),
		   PCITSM_E_MISMATCH);
	assert_string_equal(mm.name, "Bus number");
	bdf = (struct pcitsm_bdf){ 0, 0x01, 0x00, 0 };
	assert_err(pcitsm_idekm_query_resp_check(qr, &c->cfg, IDE_OFF, &bdf, &mm),
		   PCITSM_E_MISMATCH);
	assert_string_equal(mm.name, "Dev/Func number");
	assert_int_equal(mm.device, 0x08);
	/* Not an IDE capability at ide_off; the device's copy runs past the host's config space. */
	assert_err(pcitsm_idekm_query_resp_check(qr, &c->cfg, 0x200, NULL, &mm), PCITSM_E_NOTFOUND);
	pcitsm_cfg_emu_poke(c, 0xfb0, 4, PCITSM_ECAP_ID_IDE);
	for (uint32_t o = 0xfb4; o < 0x1000; o += 4)
		pcitsm_cfg_emu_poke(c, o, 4, pcitsm_get_le32(regs + (o - 0xfb4)));
	assert_err(pcitsm_idekm_query_resp_check(qr, &c->cfg, 0xfb0, NULL, &mm), PCITSM_E_RANGE);
	assert_err(pcitsm_idekm_query_resp_check(NULL, &c->cfg, IDE_OFF, NULL, &mm), PCITSM_E_INVAL);
	free(qr);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_ksub),
		cmocka_unit_test(test_ks_roundtrip),
		cmocka_unit_test(test_ks_negative),
		cmocka_unit_test(test_key_prog_e4),
		cmocka_unit_test(test_key_prog_negative),
		cmocka_unit_test(test_key_byte_order),
		cmocka_unit_test(test_keys_generate),
		cmocka_unit_test(test_query_resp),
		cmocka_unit_test(test_query_resp_negative),
		cmocka_unit_test_setup_teardown(test_req_query, rq_setup, rq_teardown),
		cmocka_unit_test_setup_teardown(test_req_match, rq_setup, rq_teardown),
		cmocka_unit_test_setup_teardown(test_req_kp_status, rq_setup, rq_teardown),
		cmocka_unit_test(test_crosscheck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
