/* SPDX-License-Identifier: MIT */
/*
 * TDISP codecs (every message: round trip, short, long, bad field), the interface report builder,
 * decoder, digest and checker (every rule broken on purpose), and the requester engine's checks
 * and tolerance (PCIe 6.x §11; docs/tdisp.md).
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/tdisp.h"
#include "testutil.h"

#define FID 0x0008u

/* ---------------------------------------------------------------------------------------------
 * Codec
 */
static size_t enc(const struct pcitsm_tdisp_msg *m, uint8_t *buf, size_t cap)
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, buf, cap);
	assert_ok(pcitsm_tdisp_encode(&w, m));
	return pcitsm_wr_len(&w);
}

/* m encodes to want bytes, decodes back to the same fields, and fails one byte short and long. */
static void round_trip(struct pcitsm_tdisp_msg m, size_t want)
{
	uint8_t buf[PCITSM_TDISP_MSG_MAX + 1], buf2[PCITSM_TDISP_MSG_MAX + 1];
	struct pcitsm_tdisp_msg d;
	size_t n;

	m.function_id = FID;
	n = enc(&m, buf, sizeof(buf));
	assert_int_equal(n, want);
	assert_int_equal(buf[0], PCITSM_TDISP_PROTOCOL_ID);
	assert_int_equal(buf[1], PCITSM_TDISP_VERSION_10);
	assert_int_equal(buf[2], m.code);
	assert_ok(pcitsm_tdisp_decode(buf, n, &d));
	assert_int_equal(d.code, m.code);
	assert_int_equal(d.function_id, FID);
	/* Re-encoding the decoded message gives the same bytes. */
	assert_int_equal(enc(&d, buf2, sizeof(buf2)), n);
	assert_memory_equal(buf, buf2, n);
	/* Short and long. Variable-size messages are short or long by their own fields. */
	assert_true(pcitsm_tdisp_decode(buf, n - 1, &d) != PCITSM_OK);
	buf[n] = 0;
	assert_true(pcitsm_tdisp_decode(buf, n + 1, &d) != PCITSM_OK);
	if (m.code != PCITSM_TDISP_TDISP_ERROR ||
	    m.u.error.code != PCITSM_TDISP_ERR_VENDOR_SPECIFIC_ERROR)
		assert_err(pcitsm_tdisp_decode(buf, n + 1, &d), PCITSM_E_LONG);
	/* Version 1.1, another protocol, reserved header bytes, FUNCTION_ID reserved bits. */
	buf[1] = 0x11;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_VERSION);
	buf[1] = 0x10;
	buf[0] = 0;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_FIELD);
	buf[0] = 1;
	buf[4] = 1;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_RESERVED);
	buf[4] = 0;
	buf[8] = 0x02;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_RESERVED);
	buf[8] = 0;
	buf[12] = 1;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_RESERVED);
	buf[12] = 0;
	assert_ok(pcitsm_tdisp_decode(buf, n, &d));
	pcitsm_wipe(&d, sizeof(d));
}

static void test_codec_round_trips(void **state)
{
	struct pcitsm_tdisp_msg m;
	uint8_t bytes[300];

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	round_trip((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_VERSION }, 17);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_VERSION,
				       .u.version = { 2, { 0x10, 0x11 } } };
	round_trip(m, 20);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_CAPABILITIES };
	round_trip(m, 21);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_CAPABILITIES,
				       .u.caps = { 0, { 0xfe }, 0x7, 52, 1, 1 } };
	round_trip(m, 45);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_LOCK_INTERFACE_REQUEST,
				       .u.lock = { 0x1f, 7, -0x1000, 0xffff000000000000ull } };
	round_trip(m, 37);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_LOCK_INTERFACE_RESPONSE };
	memset(m.u.nonce, 0xa5, sizeof(m.u.nonce));
	round_trip(m, 49);
	m.code = PCITSM_TDISP_START_INTERFACE_REQUEST;
	round_trip(m, 49);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT,
				       .u.get_report = { 0x40, 0xffff } };
	round_trip(m, 21);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_REPORT,
				       .u.report = { 300, 12, bytes } };
	round_trip(m, 321);
	m.u.report.portion = 0;
	round_trip(m, 21);
	round_trip((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE }, 17);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_STATE, .u.state = 2 };
	round_trip(m, 18);
	round_trip((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_START_INTERFACE_RESPONSE }, 17);
	round_trip((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_STOP_INTERFACE_REQUEST }, 17);
	round_trip((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_STOP_INTERFACE_RESPONSE }, 17);
	/* TDISP_ERROR with every code; VENDOR_SPECIFIC_ERROR with extended data. */
	static const uint32_t codes[] = {
#define CODE(name, val) val,
		PCITSM_TDISP_ERRORS(CODE)
#undef CODE
	};
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(codes); i++) {
		m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_ERROR,
					       .u.error = { codes[i], 0 } };
		if (codes[i] == PCITSM_TDISP_ERR_VENDOR_SPECIFIC_ERROR)
			m.u.error = (typeof(m.u.error)){ codes[i], 5, bytes, 5 };
		if (codes[i] == PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST)
			m.u.error.data = 0x88;
		round_trip(m, 25 + m.u.error.ext_len);
		assert_string_not_equal(pcitsm_tdisp_error_name(codes[i]), "UNKNOWN");
	}
	assert_string_equal(pcitsm_tdisp_error_name(0x0002), "UNKNOWN");
	assert_string_equal(pcitsm_tdisp_code_name(0x83), "LOCK_INTERFACE_REQUEST");
	assert_string_equal(pcitsm_tdisp_state_name(3), "ERROR");
}

static void test_codec_bad_fields(void **state)
{
	struct pcitsm_tdisp_msg m = { .function_id = FID }, d;
	uint8_t buf[128];
	size_t n;

	(void)state;
	/* VERSION_NUM_COUNT 0 and above the maximum. */
	m.code = PCITSM_TDISP_TDISP_VERSION;
	m.u.version.count = 1;
	m.u.version.v[0] = 0x10;
	n = enc(&m, buf, sizeof(buf));
	buf[17] = 0;
	assert_err(pcitsm_tdisp_decode(buf, n - 1, &d), PCITSM_E_FIELD);
	{
		/* A count above the entries a message may hold, with the bytes to match. */
		uint8_t big[17 + 1 + 200] = { 0 };

		memcpy(big, buf, 17);
		big[17] = 200;
		assert_err(pcitsm_tdisp_decode(big, sizeof(big), &d), PCITSM_E_FIELD);
		big[17] = PCITSM_TDISP_MAX_VERSIONS + 1;
		assert_err(pcitsm_tdisp_decode(big, 17 + 1 + PCITSM_TDISP_MAX_VERSIONS + 1, &d),
			   PCITSM_E_FIELD);
	}
	m.u.version.count = 0;
	assert_err(pcitsm_tdisp_encode(&(struct pcitsm_wr){ buf, sizeof(buf), 0, 0 }, &m),
		   PCITSM_E_INVAL);
	/* Capabilities' reserved bytes. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_CAPABILITIES, .function_id = FID };
	n = enc(&m, buf, sizeof(buf));
	buf[17 + 22] = 1;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_RESERVED);
	/* LOCK: reserved flag bits, the reserved byte. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_LOCK_INTERFACE_REQUEST, .function_id = FID };
	n = enc(&m, buf, sizeof(buf));
	buf[17] = 0x20;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_RESERVED);
	buf[17] = 0;
	buf[20] = 1;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_RESERVED);
	/* A portion longer than its bytes, shorter. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_REPORT, .function_id = FID,
				       .u.report = { 4, 0, buf + 100 } };
	n = enc(&m, buf, sizeof(buf));
	buf[17] = 5;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_SHORT);
	buf[17] = 3;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_LONG);
	/* VENDOR_SPECIFIC_ERROR whose ERROR_DATA disagrees with its extended data. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_ERROR, .function_id = FID,
				       .u.error = { PCITSM_TDISP_ERR_VENDOR_SPECIFIC_ERROR, 2, buf + 100,
						    2 } };
	n = enc(&m, buf, sizeof(buf));
	buf[21] = 3;
	assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_FIELD);
	m.u.error.data = 3;
	assert_err(pcitsm_tdisp_encode(&(struct pcitsm_wr){ buf, sizeof(buf), 0, 0 }, &m),
		   PCITSM_E_INVAL);
	/* Extended data on another code. */
	m.u.error = (typeof(m.u.error)){ PCITSM_TDISP_ERR_BUSY, 2, buf, 2 };
	assert_err(pcitsm_tdisp_encode(&(struct pcitsm_wr){ buf, sizeof(buf), 0, 0 }, &m),
		   PCITSM_E_INVAL);
	/* The optional requests are not carried by the codec. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE,
				       .function_id = FID };
	n = enc(&m, buf, sizeof(buf));
	for (unsigned c = 0x88; c <= 0x8c; c++) {
		buf[2] = (uint8_t)c;
		assert_err(pcitsm_tdisp_decode(buf, n, &d), PCITSM_E_UNSUPPORTED);
		m.code = (uint8_t)c;
		assert_err(pcitsm_tdisp_encode(&(struct pcitsm_wr){ buf + 64, 64, 0, 0 }, &m),
			   PCITSM_E_INVAL);
	}
	/* Reserved FUNCTION_ID bits cannot be encoded; a too-small buffer leaves nothing. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_STOP_INTERFACE_REQUEST,
				       .function_id = 0x80000000u };
	assert_err(pcitsm_tdisp_encode(&(struct pcitsm_wr){ buf, sizeof(buf), 0, 0 }, &m),
		   PCITSM_E_INVAL);
	{
		struct pcitsm_wr w;

		m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_START_INTERFACE_REQUEST };
		memset(m.u.nonce, 0x5a, sizeof(m.u.nonce));
		memset(buf, 0, sizeof(buf));
		pcitsm_wr_init(&w, buf, 40);
		assert_err(pcitsm_tdisp_encode(&w, &m), PCITSM_E_NOSPC);
		assert_int_equal(pcitsm_wr_len(&w), 0);
		for (size_t i = 0; i < 40; i++)
			assert_int_not_equal(buf[i], 0x5a);
	}
	/* Under the header. */
	buf[0] = PCITSM_TDISP_PROTOCOL_ID;
	assert_err(pcitsm_tdisp_decode(buf, 16, &d), PCITSM_E_SHORT);
	assert_err(pcitsm_tdisp_decode(buf, 0, &d), PCITSM_E_SHORT);
}

/* ---------------------------------------------------------------------------------------------
 * Report
 */
static void desc_init(struct pcitsm_tdisp_ifdesc *d)
{
	memset(d, 0, sizeof(*d));
	d->interface_info = PCITSM_TDISP_INFO_DMA_WITH_PASID | PCITSM_TDISP_INFO_DMA_NO_PASID;
	d->bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, true };
	d->bar[1] = (struct pcitsm_tdisp_bar){ 2, 0xfd000000, 0x4000, false, false };
	d->nr_bars = 2;
	d->msix = true;
	d->msix_table = (struct pcitsm_tdisp_region){ 0, 0x2000, 0x100 };
	d->msix_pba = (struct pcitsm_tdisp_region){ 0, 0x3000, 8 };
	d->msix_msg_ctl = 0x8007;
	d->tph_control = 0x100;
	d->non_tee[0] = (struct pcitsm_tdisp_region){ 2, 0x1000, 0x1000 };
	d->nr_non_tee = 1;
	memcpy(d->dev_info, "abc", 3);
	d->dev_info_len = 3;
}

static size_t build(const struct pcitsm_tdisp_ifdesc *d, uint16_t flags, int64_t off, uint8_t *buf)
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, buf, PCITSM_TDISP_DSM_REPORT_MAX);
	assert_ok(pcitsm_tdisp_report_build(d, flags, off, &w));
	return pcitsm_wr_len(&w);
}

#define OFF 0xD0000000ll

static void test_report_build(void **state)
{
	struct pcitsm_tdisp_ifdesc d;
	struct pcitsm_tdisp_report r;
	uint8_t buf[PCITSM_TDISP_DSM_REPORT_MAX];
	size_t n;
	struct pcitsm_wr w;

	(void)state;
	desc_init(&d);
	n = build(&d, PCITSM_TDISP_LOCK_MSIX | PCITSM_TDISP_LOCK_NO_FW_UPDATE, OFF, buf);
	assert_ok(pcitsm_tdisp_report_decode(buf, n, &r));
	assert_int_equal(n, 16 + 16 * r.nr_ranges + 4 + 3);
	assert_int_equal(r.interface_info, PCITSM_TDISP_INFO_DMA_WITH_PASID |
				PCITSM_TDISP_INFO_DMA_NO_PASID | PCITSM_TDISP_INFO_NO_FW_UPDATE);
	assert_int_equal(r.msix_msg_ctl, 0x8007);
	assert_int_equal(r.tph_control, 0x100);
	/* BAR0: [0,2) TEE, [2] table, [3] PBA, [4,16) TEE; BAR2: [0] TEE, [1] non-TEE, [2,4) TEE. */
	assert_int_equal(r.nr_ranges, 7);
	static const struct pcitsm_tdisp_range want[] = {
		{ (0xfe000000 + OFF) >> 12, 2, 0, 0 },
		{ (0xfe002000 + OFF) >> 12, 1, PCITSM_TDISP_RANGE_MSIX_TABLE, 0 },
		{ (0xfe003000 + OFF) >> 12, 1, PCITSM_TDISP_RANGE_MSIX_PBA, 0 },
		{ (0xfe004000 + OFF) >> 12, 12, 0, 0 },
		{ (0xfd000000 + OFF) >> 12, 1, 0, 2 },
		{ (0xfd001000 + OFF) >> 12, 1, PCITSM_TDISP_RANGE_NON_TEE, 2 },
		{ (0xfd002000 + OFF) >> 12, 2, 0, 2 },
	};
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(r.range[i].first_page, want[i].first_page);
		assert_int_equal(r.range[i].pages, want[i].pages);
		assert_int_equal(r.range[i].attrs, want[i].attrs);
		assert_int_equal(r.range[i].range_id, want[i].range_id);
	}
	assert_memory_equal(r.dev_info, "abc", 3);
	/* MSI-X not locked: table and PBA non-TEE, one range; message control and TPH 0; no
	 * NO_FW_UPDATE. */
	n = build(&d, 0, 0, buf);
	assert_ok(pcitsm_tdisp_report_decode(buf, n, &r));
	assert_int_equal(r.nr_ranges, 6);
	assert_int_equal(r.range[1].attrs, PCITSM_TDISP_RANGE_NON_TEE);
	assert_int_equal(r.range[1].pages, 2);
	assert_int_equal(r.msix_msg_ctl, 0);
	assert_int_equal(r.tph_control, 0);
	assert_false(r.interface_info & PCITSM_TDISP_INFO_NO_FW_UPDATE);
	assert_ok(pcitsm_tdisp_report_check(buf, n, &d, 0, NULL));
	/* A negative offset. */
	n = build(&d, 0, -0x10000000ll, buf);
	assert_ok(pcitsm_tdisp_report_check(buf, n, &d, -0x10000000ll, NULL));
	/* Descriptions a function cannot have; offsets the TSM must not ask for. */
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0x800, &w), PCITSM_E_RANGE);
	d.bar[0].base = 0xffffffff00000000ull;
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0x100000000ll, &w), PCITSM_E_RANGE);
	assert_ok(pcitsm_tdisp_report_build(&d, 0, 0xff000000ll, &w));
	pcitsm_wr_init(&w, buf, sizeof(buf));
	desc_init(&d);
	assert_err(pcitsm_tdisp_report_build(&d, 0, -0xfe000000ll, &w), PCITSM_E_RANGE);
	d.bar[1].base = 0xfe008000; /* overlaps BAR0 */
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0, &w), PCITSM_E_INVAL);
	desc_init(&d);
	d.bar[1].index = 1; /* inside 64-bit BAR0 */
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0, &w), PCITSM_E_INVAL);
	desc_init(&d);
	d.bar[1].size = 0x800;
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0, &w), PCITSM_E_INVAL);
	desc_init(&d);
	d.msix_pba.offset = 0x10000;
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0, &w), PCITSM_E_INVAL);
	desc_init(&d);
	d.non_tee[0].bar = 4;
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0, &w), PCITSM_E_INVAL);
	assert_int_equal(pcitsm_wr_len(&w), 0);
	/* Too many ranges for one report. */
	desc_init(&d);
	d.bar[1].size = 0x100000;
	d.nr_non_tee = PCITSM_TDISP_MAX_NON_TEE;
	for (unsigned i = 0; i < d.nr_non_tee; i++)
		d.non_tee[i] = (struct pcitsm_tdisp_region){ 2, 0x2000u * i + 0x1000, 0x1000 };
	assert_ok(pcitsm_tdisp_report_build(&d, 0, 0, &w));
	d.bar[0].size = 0x100000;
	d.bar[1].base = 0xfd000000;
	d.msix_table.offset = 0x20000; /* split BAR0 further */
	for (unsigned i = 0; i < d.nr_non_tee; i++)
		d.non_tee[i].bar = (uint8_t)(i & 1 ? 0 : 2);
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_tdisp_report_build(&d, 0, 0, &w));
	/* A buffer too small. */
	pcitsm_wr_init(&w, buf, 40);
	assert_err(pcitsm_tdisp_report_build(&d, 0, 0, &w), PCITSM_E_NOSPC);
	assert_int_equal(pcitsm_wr_len(&w), 0);
}

/* Break rule by rule: the checker names each. */
static void expect_rule(const uint8_t *p, size_t n, const struct pcitsm_tdisp_ifdesc *view,
			int64_t off, enum pcitsm_tdisp_rule rule, unsigned range)
{
	struct pcitsm_tdisp_check_result res;

	assert_err(pcitsm_tdisp_report_check(p, n, view, off, &res), PCITSM_E_FIELD);
	assert_string_equal(pcitsm_tdisp_rule_name(res.rule), pcitsm_tdisp_rule_name(rule));
	if (rule != PCITSM_TDISP_RULE_SIZE)
		assert_int_equal(res.range, range);
}

#define RG(i) (16 + 16 * (i)) /* offset of range i in the report */

static void test_report_rules(void **state)
{
	struct pcitsm_tdisp_ifdesc d, v;
	uint8_t good[PCITSM_TDISP_DSM_REPORT_MAX], buf[PCITSM_TDISP_DSM_REPORT_MAX + 8];
	uint8_t dg1[PCITSM_TDISP_DIGEST_LEN], dg2[PCITSM_TDISP_DIGEST_LEN];
	size_t n;

	(void)state;
	desc_init(&d);
	n = build(&d, PCITSM_TDISP_LOCK_MSIX, OFF, good);
	assert_ok(pcitsm_tdisp_report_check(good, n, &d, OFF, NULL));
#define FRESH() memcpy(buf, good, n)
	/* SIZE: truncated, extended, a count the bytes do not carry, a DEVICE_SPECIFIC_INFO_LEN. */
	FRESH();
	expect_rule(buf, n - 1, &d, OFF, PCITSM_TDISP_RULE_SIZE, 0);
	buf[n] = 0;
	expect_rule(buf, n + 1, &d, OFF, PCITSM_TDISP_RULE_SIZE, 0);
	buf[12]++;
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_SIZE, 0);
	FRESH();
	buf[RG(7)] = 4;
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_SIZE, 0);
	expect_rule(buf, 10, &d, OFF, PCITSM_TDISP_RULE_SIZE, 0);
	/* RANGE_ID 6; RANGE_ID 1 (the upper half of 64-bit BAR0), 4 (no BAR). */
	FRESH();
	buf[RG(6) + 14] = 6;
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_RANGE_ID, 6);
	buf[RG(6) + 14] = 1;
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_NOT_MEM_BAR, 6);
	buf[RG(6) + 14] = 4;
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_NOT_MEM_BAR, 6);
	/* PAGE: the guest sees BAR2 at an address that is not page aligned. */
	v = d;
	v.bar[1].base += 0x800;
	expect_rule(good, n, &v, OFF, PCITSM_TDISP_RULE_PAGE, 4);
	/* BAR_ORDER: a BAR2 range before BAR0's last. */
	FRESH();
	memcpy(buf + RG(3), good + RG(4), 16);
	memcpy(buf + RG(4), good + RG(3), 16);
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_BAR_ORDER, 4);
	/* OFFSET_WRAP: undoing the offset goes below 0, or the page number overflows. */
	expect_rule(good, n, &d, 0x100000000000ll, PCITSM_TDISP_RULE_OFFSET_WRAP, 0);
	FRESH();
	pcitsm_put_le64(buf + RG(0), 0xfff0000000000000ull);
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_OFFSET_WRAP, 0);
	/* BAR_BASE: the first range of BAR0 one page up; the wrong offset undone. */
	FRESH();
	pcitsm_put_le64(buf + RG(0), pcitsm_get_le64(good + RG(0)) + 1);
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_BAR_BASE, 0);
	expect_rule(good, n, &d, OFF + 0x1000, PCITSM_TDISP_RULE_BAR_BASE, 0);
	/* RANGE_ORDER: BAR0's third range overlapping its second. */
	FRESH();
	pcitsm_put_le64(buf + RG(2), pcitsm_get_le64(good + RG(1)));
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_RANGE_ORDER, 2);
	/* BAR_FIT: BAR0's last range one page longer. */
	FRESH();
	pcitsm_put_le32(buf + RG(3) + 8, pcitsm_get_le32(good + RG(3) + 8) + 1);
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_BAR_FIT, 3);
	/* MSIX_UNFLAGGED: the table's range or the PBA's with no attribute. */
	FRESH();
	buf[RG(1) + 12] = 0;
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_MSIX_UNFLAGGED, 1);
	FRESH();
	buf[RG(2) + 12] = PCITSM_TDISP_RANGE_MSIX_TABLE; /* the wrong one */
	expect_rule(buf, n, &d, OFF, PCITSM_TDISP_RULE_MSIX_UNFLAGGED, 2);
	buf[RG(2) + 12] = PCITSM_TDISP_RANGE_NON_TEE; /* non-TEE is fine */
	assert_ok(pcitsm_tdisp_report_check(buf, n, &d, OFF, NULL));
	/* Rule names and words. */
	assert_string_equal(pcitsm_tdisp_rule_name(PCITSM_TDISP_RULE_BAR_BASE), "BAR_BASE");
	assert_string_not_equal(pcitsm_tdisp_rule_str(PCITSM_TDISP_RULE_BAR_FIT), "unknown rule");
	/* The digest: SHA-384, and a tampered report has another. */
	assert_ok(pcitsm_tdisp_report_digest(good, n, dg1));
	FRESH();
	buf[RG(0) + 12] ^= PCITSM_TDISP_RANGE_NON_TEE;
	assert_ok(pcitsm_tdisp_report_check(buf, n, &d, OFF, NULL)); /* still well-formed ... */
	assert_ok(pcitsm_tdisp_report_digest(buf, n, dg2));
	assert_memory_not_equal(dg1, dg2, sizeof(dg1)); /* ... but not the evidence */
#undef FRESH
}

/* ---------------------------------------------------------------------------------------------
 * Requester
 */
static size_t rsp_of(struct pcitsm_tdisp_msg m, uint32_t fid, uint8_t *buf)
{
	m.function_id = fid;
	return enc(&m, buf, PCITSM_TDISP_MSG_MAX);
}

static void send_req(struct pcitsm_tdisp_req *rq, struct pcitsm_tdisp_msg m)
{
	uint8_t req[128];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_tdisp_req_build(rq, &m, &w));
	assert_int_equal(pcitsm_get_le32(req + 5), rq->function_id);
}

static void test_requester(void **state)
{
	struct pcitsm_tdisp_req rq;
	struct pcitsm_tdisp_msg out;
	struct pcitsm_tdisp_caps caps = { .req_msgs = { 0x7f } };
	uint8_t rsp[PCITSM_TDISP_MSG_MAX], bytes[64] = { 0 };
	uint32_t dev = 0;
	size_t n;
	struct pcitsm_wr w;
	char s[128];

	(void)state;
	/* REQ_MSGS_SUPPORTED either way. */
	assert_int_equal(pcitsm_tdisp_caps_supported(&caps, &dev), 0xfe);
	assert_int_equal(dev, PCITSM_TDISP_DEV_REQ_MSGS_SHIFTED);
	caps.req_msgs[0] = 0xfe;
	dev = 0;
	assert_int_equal(pcitsm_tdisp_caps_supported(&caps, &dev), 0xfe);
	assert_int_equal(dev, 0);
	pcitsm_tdisp_deviations_str(0, s, sizeof(s));
	assert_string_equal(s, "none");

	pcitsm_tdisp_req_init(&rq, FID);
	/* Nothing outstanding; one at a time; only requests. */
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_STOP_INTERFACE_RESPONSE }, FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_STATE);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_STOP_INTERFACE_REQUEST });
	pcitsm_wr_init(&w, rsp, sizeof(rsp));
	assert_err(pcitsm_tdisp_req_build(&rq, &(struct pcitsm_tdisp_msg){
						 .code = PCITSM_TDISP_GET_TDISP_VERSION }, &w),
		   PCITSM_E_STATE);
	assert_err(pcitsm_tdisp_req_build(&rq, &(struct pcitsm_tdisp_msg){
						 .code = PCITSM_TDISP_TDISP_VERSION }, &w),
		   PCITSM_E_INVAL);
	/* TDISP_ERROR: a well-formed answer, the requester stays usable. */
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_ERROR,
					      .u.error = { PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE } },
		   FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_PEER_ERROR);
	assert_int_equal(rq.peer_error, PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE);
	/* A state above ERROR: refused, sticky. */
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_STATE,
					      .u.state = 4 }, FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_FIELD);
	pcitsm_wr_init(&w, rsp, sizeof(rsp));
	assert_err(pcitsm_tdisp_req_build(&rq, &(struct pcitsm_tdisp_msg){
						 .code = PCITSM_TDISP_GET_TDISP_VERSION }, &w),
		   PCITSM_E_FIELD);
	/* Another interface's answer; another code's. */
	pcitsm_tdisp_req_init(&rq, FID);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_STATE }, FID + 1,
		   rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_UNEXPECTED);
	pcitsm_tdisp_req_init(&rq, FID);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_STOP_INTERFACE_RESPONSE }, FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_UNEXPECTED);
	/* Report portions: more than asked refused; less accepted and noted; none with a
	 * remainder refused. */
	pcitsm_tdisp_req_init(&rq, FID);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT,
						 .u.get_report = { 0, 32 } });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_REPORT,
					      .u.report = { 33, 0, bytes } }, FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_FIELD);
	pcitsm_tdisp_req_init(&rq, FID);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT,
						 .u.get_report = { 0, 128 } });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_REPORT,
					      .u.report = { 64, 100, bytes } }, FID, rsp);
	assert_ok(pcitsm_tdisp_req_response(&rq, rsp, n, &out));
	assert_int_equal(rq.deviations, PCITSM_TDISP_DEV_SHORT_PORTION);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT,
						 .u.get_report = { 64, 100 } });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_DEVICE_INTERFACE_REPORT,
					      .u.report = { 0, 100, bytes } }, FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_FIELD);
	/* Capabilities a validator would flag: accepted, noted. */
	pcitsm_tdisp_req_init(&rq, FID);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_CAPABILITIES });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_CAPABILITIES,
					      .u.caps = { 1, { 0xfe }, 7, 48, 0, 0 } }, FID, rsp);
	assert_ok(pcitsm_tdisp_req_response(&rq, rsp, n, &out));
	assert_int_equal(rq.deviations, PCITSM_TDISP_DEV_DSM_CAPS | PCITSM_TDISP_DEV_ADDR_WIDTH |
						PCITSM_TDISP_DEV_NUM_REQ_ZERO);
	/* TDISP_VERSION without 1.0. */
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_VERSION });
	n = rsp_of((struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_TDISP_VERSION,
					      .u.version = { 1, { 0x20 } } }, FID, rsp);
	assert_err(pcitsm_tdisp_req_response(&rq, rsp, n, &out), PCITSM_E_VERSION);
	/* Abandon forgets the outstanding request. */
	pcitsm_tdisp_req_init(&rq, FID);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_VERSION });
	pcitsm_tdisp_req_abandon(&rq);
	send_req(&rq, (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_VERSION });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_round_trips),
		cmocka_unit_test(test_codec_bad_fields),
		cmocka_unit_test(test_report_build),
		cmocka_unit_test(test_report_rules),
		cmocka_unit_test(test_requester),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
