/* SPDX-License-Identifier: MIT */
/*
 * TLP codec, IDE prefix, IDE TLP split, PCRC and the IDE_KM key byte order: known bytes, round
 * trips, and every rejection (short, long, reserved bits, bad fields).
 */
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

static const uint8_t payload8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void roundtrip(const struct pcitsm_tlp *t, size_t want_len)
{
	uint8_t buf[PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX];
	struct pcitsm_tlp d;
	size_t len;

	assert_ok(pcitsm_tlp_encode(t, buf, sizeof(buf), &len));
	assert_int_equal(len, want_len);
	assert_ok(pcitsm_tlp_decode(buf, len, &d));
	assert_int_equal(d.kind, t->kind);
	assert_int_equal(d.tc, t->tc);
	assert_int_equal(d.attr, t->attr);
	assert_int_equal(d.req_id, t->req_id);
	assert_int_equal(d.tag, t->tag);
	assert_int_equal(d.addr, t->addr);
	assert_int_equal(d.len, t->len);
	if (t->data)
		assert_memory_equal(d.data, t->data, t->len);
	/* One byte less or more is rejected at the exact size. */
	assert_err(pcitsm_tlp_decode(buf, len - 1, &d), PCITSM_E_SHORT);
	buf[len] = 0;
	assert_err(pcitsm_tlp_decode(buf, len + 1, &d), PCITSM_E_LONG);
}

static void test_mwr32_bytes(void **state)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = 0x0100, .tag = 5, .first_be = 0xf,
				.last_be = 0xf, .addr = 0x80001000, .data = payload8, .len = 8 };
	static const uint8_t want[] = { 0x40, 0x00, 0x00, 0x02, 0x01, 0x00, 0x05, 0xff,
					0x80, 0x00, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[64];
	size_t len;

	assert_ok(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_err(pcitsm_tlp_encode(&t, buf, 19, &len), PCITSM_E_NOSPC);
	roundtrip(&t, 20);
}

static void test_mem64(void **state)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MRD, .tc = 3, .attr = 6, .req_id = 0x0208,
				.tag = 0x77, .first_be = 0xf, .last_be = 0xf,
				.addr = 0x123456780ull, .len = 4096 };
	uint8_t buf[32];
	size_t len;

	assert_ok(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len));
	assert_int_equal(len, 16);
	assert_int_equal(buf[0], 0x20);             /* Fmt 001: 4 DW, no data */
	assert_int_equal(buf[3], 0x00);             /* Length 0 = 1024 DW */
	assert_int_equal(pcitsm_get_be32(buf + 8), 1);
	assert_int_equal(pcitsm_get_be32(buf + 12), 0x23456780);
	roundtrip(&t, 16);
	t.kind = PCITSM_TLP_MWR;
	t.data = payload8;
	t.len = 8;
	roundtrip(&t, 24);
	/* A 4-DW header for an address below 4 GiB is malformed (§2.2.4.1). */
	buf[8] = buf[9] = buf[10] = buf[11] = 0;
	assert_ok(pcitsm_tlp_encode(&(struct pcitsm_tlp){ .kind = PCITSM_TLP_MRD, .first_be = 0xf,
							  .addr = 0x123456780ull, .len = 4 },
				    buf, sizeof(buf), &len));
	memset(buf + 8, 0, 4);
	assert_err(pcitsm_tlp_decode(buf, len, &t), PCITSM_E_FIELD);
}

static void test_cfg_cpl_msg(void **state)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_CFGWR1, .req_id = 0x0008, .tag = 1,
				.first_be = 0xf, .target_id = 0x0100, .reg = 0x8a4, .data = payload8,
				.len = 4 };
	struct pcitsm_tlp d;
	uint8_t buf[32];
	size_t len;

	roundtrip(&t, 16);
	assert_ok(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len));
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(buf[10], 0x08);
	assert_int_equal(buf[11], 0xa4);
	assert_ok(pcitsm_tlp_decode(buf, len, &d));
	assert_int_equal(d.reg, 0x8a4);
	assert_int_equal(d.target_id, 0x0100);
	t.kind = PCITSM_TLP_CFGRD1;
	t.data = NULL;
	roundtrip(&t, 12);
	t.len = 8; /* config requests are 1 DW */
	assert_err(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len), PCITSM_E_INVAL);

	struct pcitsm_tlp c = { .kind = PCITSM_TLP_CPLD, .cpl_id = 0x0100, .req_id = 0x0008,
				.tag = 9, .byte_count = 8, .lower_addr = 0x40, .data = payload8,
				.len = 8 };
	roundtrip(&c, 20);
	c.kind = PCITSM_TLP_CPL;
	c.data = NULL;
	c.len = 0;
	c.status = 1;
	roundtrip(&c, 12);
	assert_ok(pcitsm_tlp_encode(&c, buf, sizeof(buf), &len));
	buf[11] |= 0x80; /* reserved bit beside Lower Address */
	assert_err(pcitsm_tlp_decode(buf, len, &d), PCITSM_E_RESERVED);

	struct pcitsm_tlp m = { .kind = PCITSM_TLP_MSG, .msg_route = PCITSM_MSG_ROUTE_ID,
				.msg_code = PCITSM_MSG_IDE_SYNC, .req_id = 8, .target_id = 0x100,
				.msg_body = { 3, 4 } };
	roundtrip(&m, 16);
	assert_ok(pcitsm_tlp_encode(&m, buf, sizeof(buf), &len));
	assert_int_equal(buf[0], 0x32); /* Fmt 001, Type 1_0010 */
	assert_int_equal(buf[7], 0x54);
	assert_int_equal(buf[12], 3);
	assert_ok(pcitsm_tlp_decode(buf, len, &d));
	assert_int_equal(d.msg_code, PCITSM_MSG_IDE_SYNC);
	assert_int_equal(d.target_id, 0x100);
	buf[10] = 1; /* reserved */
	assert_err(pcitsm_tlp_decode(buf, len, &d), PCITSM_E_RESERVED);
}

static void test_decode_rejects(void **state)
{
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .first_be = 0xf, .addr = 0x1000,
				.data = payload8, .len = 4 };
	uint8_t buf[32], b[32];
	struct pcitsm_tlp d;
	size_t len;

	assert_ok(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len));
	assert_err(pcitsm_tlp_decode(buf, 3, &d), PCITSM_E_SHORT);
	memcpy(b, buf, len);
	b[2] |= 0x80; /* TD: ECRC */
	assert_err(pcitsm_tlp_decode(b, len, &d), PCITSM_E_UNSUPPORTED);
	memcpy(b, buf, len);
	b[1] |= 0x01; /* TH */
	assert_err(pcitsm_tlp_decode(b, len, &d), PCITSM_E_RESERVED);
	memcpy(b, buf, len);
	b[11] |= 0x01; /* PH with TH = 0 */
	assert_err(pcitsm_tlp_decode(b, len, &d), PCITSM_E_RESERVED);
	memcpy(b, buf, len);
	b[0] = 0x92; /* a prefix where a header must be */
	assert_err(pcitsm_tlp_decode(b, len, &d), PCITSM_E_FIELD);
	memcpy(b, buf, len);
	b[0] = 0x42; /* IOWr: not carried */
	assert_err(pcitsm_tlp_decode(b, len, &d), PCITSM_E_FIELD);
	memcpy(b, buf, len);
	b[7] = 0xf3; /* 1-DW request with Last BE set */
	assert_err(pcitsm_tlp_decode(b, len, &d), PCITSM_E_FIELD);
	/* Encode-side checks. */
	t.addr = 0x1002;
	assert_err(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len), PCITSM_E_INVAL);
	t.addr = 0x1000;
	t.len = 6;
	assert_err(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len), PCITSM_E_INVAL);
	t.len = 4;
	t.tc = 8;
	assert_err(pcitsm_tlp_encode(&t, buf, sizeof(buf), &len), PCITSM_E_INVAL);
}

/* A TLP in two parts (pcitsm_tlp_ref): header alone, payload elsewhere; the same checks as one
 * buffer, and nothing but header | payload accepted as the split. */
static void test_ref(void **state)
{
	uint8_t pl[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = 0x0100, .first_be = 0xf,
				.last_be = 0xf, .addr = 0x80001000, .data = pl, .len = 8,
				.has_pasid = true, .pasid = { .pasid = 0x1234 } };
	uint8_t whole[64], hdr[PCITSM_TLP_HDR_MAX];
	struct pcitsm_tlp_ref r;
	struct pcitsm_tlp d;
	size_t len, hl;

	assert_ok(pcitsm_tlp_encode(&t, whole, sizeof(whole), &len));
	assert_ok(pcitsm_tlp_encode_hdr(&t, hdr, sizeof(hdr), &hl));
	assert_int_equal(hl, 16);
	assert_int_equal(len, hl + 8);
	assert_memory_equal(hdr, whole, hl);
	assert_err(pcitsm_tlp_encode_hdr(&t, hdr, hl - 1, &len), PCITSM_E_NOSPC);
	r = (struct pcitsm_tlp_ref){ hdr, hl, pl, sizeof(pl) };
	assert_ok(pcitsm_tlp_decode_ref(&r, &d));
	assert_ptr_equal(d.data, pl);
	assert_int_equal(d.len, 8);
	assert_true(d.has_pasid);
	assert_int_equal(d.pasid.pasid, 0x1234);
	/* Whole in hdr: as pcitsm_tlp_decode. */
	r = (struct pcitsm_tlp_ref){ whole, hl + 8, NULL, 0 };
	assert_ok(pcitsm_tlp_decode_ref(&r, &d));
	assert_memory_equal(d.data, pl, 8);
	/* The payload one DW short, one DW long: the header disagrees. */
	r = (struct pcitsm_tlp_ref){ hdr, hl, pl, 4 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_SHORT);
	r = (struct pcitsm_tlp_ref){ hdr, hl, pl, 12 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_LONG);
	/* Part of the payload in the header's buffer, or the header cut short. */
	r = (struct pcitsm_tlp_ref){ whole, hl + 4, pl + 4, 4 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_FIELD);
	r = (struct pcitsm_tlp_ref){ hdr, hl - 4, pl, 8 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_FIELD);
	r = (struct pcitsm_tlp_ref){ hdr, 3, pl, 8 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_INVAL);
	r = (struct pcitsm_tlp_ref){ hdr, hl, NULL, 8 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_INVAL);
	/* A read has no payload: a second part is bytes too many. */
	t.kind = PCITSM_TLP_MRD;
	t.data = NULL;
	assert_ok(pcitsm_tlp_encode_hdr(&t, hdr, sizeof(hdr), &hl));
	r = (struct pcitsm_tlp_ref){ hdr, hl, pl, 8 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_LONG);
	/* A bad header is refused as whole. */
	t.kind = PCITSM_TLP_MWR;
	assert_ok(pcitsm_tlp_encode_hdr(&t, hdr, sizeof(hdr), &hl));
	hdr[PCITSM_TLP_PREFIX_LEN + 2] |= 0x80; /* TD: ECRC */
	r = (struct pcitsm_tlp_ref){ hdr, hl, pl, 8 };
	assert_err(pcitsm_tlp_decode_ref(&r, &d), PCITSM_E_UNSUPPORTED);
}

static void test_prefix(void **state)
{
	struct pcitsm_ide_prefix x = { .m = true, .k = true, .p = true, .sub = PCITSM_IDE_SUB_CPL,
				       .stream_id = 0x21, .pr_sent = 7 };
	struct pcitsm_ide_prefix y;
	uint8_t b[4];

	pcitsm_ide_prefix_encode(&x, b);
	assert_int_equal(b[0], 0x92);
	assert_int_equal(b[1], 7);
	assert_int_equal(b[2], 0x21);
	assert_int_equal(b[3], 0x2e);
	assert_ok(pcitsm_ide_prefix_decode(b, &y));
	assert_memory_equal(&x, &y, sizeof(x));
	b[3] = 0x80;
	assert_err(pcitsm_ide_prefix_decode(b, &y), PCITSM_E_RESERVED);
	b[3] = 0x34; /* sub-stream 3: reserved value */
	assert_err(pcitsm_ide_prefix_decode(b, &y), PCITSM_E_FIELD);
	b[3] = 0x08; /* P without M */
	assert_err(pcitsm_ide_prefix_decode(b, &y), PCITSM_E_FIELD);
	b[0] = 0x91;
	b[3] = 0;
	assert_err(pcitsm_ide_prefix_decode(b, &y), PCITSM_E_FIELD);
}

static void test_split(void **state)
{
	uint8_t tlp[4 + 12 + 8 + 4 + 12];
	struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .first_be = 0xf, .last_be = 0xf,
				.addr = 0x1000, .data = payload8, .len = 8 };
	struct pcitsm_ide_prefix x = { .m = true, .p = true, .stream_id = 1 };
	struct pcitsm_ide_tlp_view v;
	size_t len;

	pcitsm_ide_prefix_encode(&x, tlp);
	assert_ok(pcitsm_tlp_encode(&t, tlp + 4, sizeof(tlp) - 4, &len));
	memset(tlp + 4 + len, 0xee, 16);
	assert_ok(pcitsm_ide_tlp_split(tlp, sizeof(tlp), &v));
	assert_int_equal(v.hdr_len, 12);
	assert_int_equal(v.payload_len, 12);
	assert_ptr_equal(v.mac, tlp + sizeof(tlp) - 12);
	assert_err(pcitsm_ide_tlp_split(tlp, sizeof(tlp) - 1, &v), PCITSM_E_SHORT);
	assert_err(pcitsm_ide_tlp_split(tlp, 6, &v), PCITSM_E_SHORT);
	x.m = x.p = false;
	pcitsm_ide_prefix_encode(&x, tlp);
	assert_err(pcitsm_ide_tlp_split(tlp, sizeof(tlp), &v), PCITSM_E_LONG);
	assert_ok(pcitsm_ide_tlp_split(tlp, 4 + 12 + 8, &v));
	assert_null(v.mac);
	tlp[4] = 0x92; /* a second prefix */
	assert_err(pcitsm_ide_tlp_split(tlp, 4 + 12 + 8, &v), PCITSM_E_FIELD);
}

static void test_pcrc_and_km_order(void **state)
{
	uint8_t c[4], aes[32], wire[32], back[32], ifv[8];
	static const uint8_t one[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };

	/* CRC-32 check value of "123456789" is 0xCBF43926; written little-endian. */
	pcitsm_ide_pcrc((const uint8_t *)"123456789", 9, c);
	assert_int_equal(pcitsm_get_le32(c), 0xcbf43926);
	uint32_t r = pcitsm_ide_pcrc_update(PCITSM_IDE_PCRC_SEED, (const uint8_t *)"1234", 4);
	pcitsm_ide_pcrc_final(pcitsm_ide_pcrc_update(r, (const uint8_t *)"56789", 5), c);
	assert_int_equal(pcitsm_get_le32(c), 0xcbf43926);

	/* PCIe 6.x §6.33.3; docs/ide-wire-format.md: message byte 8 + 4i + j = AES key byte 4i +
	 * 3 - j; IFV 1 = 00 00 00 00 01 00 00 00. */
	for (int i = 0; i < 32; i++)
		aes[i] = (uint8_t)i;
	pcitsm_ide_km_key_from_aes(aes, wire);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			assert_int_equal(wire[4 * i + j], aes[4 * i + 3 - j]);
	pcitsm_ide_km_key_to_aes(wire, back);
	assert_memory_equal(back, aes, 32);
	pcitsm_ide_km_ifv_encode(1, ifv);
	assert_memory_equal(ifv, one, 8);
	assert_int_equal(pcitsm_ide_km_ifv_decode(one), 1);
	pcitsm_ide_km_ifv_encode(0x0102030405060708ull, ifv);
	assert_int_equal(pcitsm_ide_km_ifv_decode(ifv), 0x0102030405060708ull);
	assert_int_equal(ifv[0], 0x04);
	assert_int_equal(ifv[4], 0x08);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwr32_bytes),  cmocka_unit_test(test_mem64),
		cmocka_unit_test(test_cfg_cpl_msg),  cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_prefix),       cmocka_unit_test(test_split),
		cmocka_unit_test(test_pcrc_and_km_order), cmocka_unit_test(test_ref),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
