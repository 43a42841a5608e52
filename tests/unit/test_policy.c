/* SPDX-License-Identifier: MIT */
/*
 * The TDI acceptance policy (include/pcitsm/policy.h): the parser refuses every malformed file
 * naming the fault; the round trip make -> parse -> eval passes on the same evidence; a tampered
 * measurement, interface info or MMIO range is refused naming the entry; the MEASUREMENTS walker
 * refuses short, long and inconsistent responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/policy.h"
#include "testutil.h"

struct fixture {
	uint8_t report[PCITSM_TDISP_DSM_REPORT_MAX];
	size_t report_len;
	struct pcitsm_tdisp_report rep;
	uint8_t meas[512];
	size_t meas_len;
	struct pcitsm_spdm_meas_block blocks[8];
	size_t nr_blocks;
};

/* A function as the emulated endpoints have it, decoded. */
static void build_report(struct fixture *f, int64_t mmio_offset)
{
	f->report_len = test_tdisp_endpoint_report(f->report, sizeof(f->report), mmio_offset);
	assert_ok(pcitsm_tdisp_report_decode(f->report, f->report_len, &f->rep));
}

/* A MEASUREMENTS response with blocks 1 and 2 (SHA-384 digests) and 3 (a raw bit stream). */
static void build_meas(struct fixture *f, uint8_t fill)
{
	struct pcitsm_wr w;
	size_t len_at;

	pcitsm_wr_init(&w, f->meas, sizeof(f->meas));
	pcitsm_wr_u8(&w, 0x12);
	pcitsm_wr_u8(&w, PCITSM_SPDM_MEASUREMENTS);
	pcitsm_wr_u8(&w, 0);
	pcitsm_wr_u8(&w, 0);
	pcitsm_wr_u8(&w, 3);
	len_at = pcitsm_wr_len(&w);
	pcitsm_wr_le24(&w, 0);
	for (uint8_t i = 1; i <= 3; i++) {
		uint16_t vlen = i == 3 ? 5 : 48;

		pcitsm_wr_u8(&w, i);
		pcitsm_wr_u8(&w, 1);
		pcitsm_wr_le16(&w, (uint16_t)(3 + vlen));
		pcitsm_wr_u8(&w, i == 3 ? 0x80 : 0x01);
		pcitsm_wr_le16(&w, vlen);
		for (uint16_t k = 0; k < vlen; k++)
			pcitsm_wr_u8(&w, (uint8_t)(fill + i * 16 + k));
	}
	{
		size_t rec = pcitsm_wr_len(&w) - len_at - 3;

		f->meas[len_at] = (uint8_t)rec;
		f->meas[len_at + 1] = (uint8_t)(rec >> 8);
		f->meas[len_at + 2] = (uint8_t)(rec >> 16);
	}
	pcitsm_wr_zero(&w, 32 + 2); /* nonce, OpaqueDataLength 0 */
	assert_ok(pcitsm_wr_err(&w));
	f->meas_len = pcitsm_wr_len(&w);
	assert_ok(pcitsm_policy_meas_blocks(f->meas, f->meas_len, f->blocks, 8, &f->nr_blocks));
	assert_int_equal(f->nr_blocks, 3);
}

static struct pcitsm_policy_evidence evidence(const struct fixture *f)
{
	return (struct pcitsm_policy_evidence){ f->blocks, f->nr_blocks, &f->rep };
}

/* The policy the fixture's evidence shows, as text. */
static char *make_text(const struct fixture *f)
{
	struct pcitsm_policy_evidence ev = evidence(f);
	unsigned skipped = 99;
	json_object *j = pcitsm_policy_make(&ev, "0000:01:00.0", &skipped);
	char *s;

	assert_non_null(j);
	assert_int_equal(skipped, 1); /* the raw block */
	s = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	json_object_put(j);
	return s;
}

static pcitsm_err parse(const char *text, struct pcitsm_policy *p, char *why)
{
	return pcitsm_policy_parse(text, strlen(text), p, why, 160);
}

static void expect_refused(const char *text, const char *why_part)
{
	struct pcitsm_policy *p = calloc(1, sizeof(*p));
	char why[160] = "";

	assert_true(parse(text, p, why) != PCITSM_OK);
	if (!strstr(why, why_part))
		fail_msg("policy %s: why \"%s\" lacks \"%s\"", text, why, why_part);
	free(p);
}

static void test_parse_refusals(void **state)
{
	static const char big[] = "{\"pcitsm_policy\":1}";
	struct pcitsm_policy *p = calloc(1, sizeof(*p));
	char why[160], *huge;
	size_t n;

	(void)state;
	assert_ok(parse(big, p, why));
	assert_int_equal(p->nr_meas, 0);
	assert_false(p->has_info);
	assert_false(p->has_mmio);
	expect_refused("", "empty");
	expect_refused("[]", "not a JSON object");
	expect_refused("{", "not JSON");
	expect_refused("{\"pcitsm_policy\":1} x", "byte 20");
	expect_refused("{\"pcitsm_policy\":1}{}", "byte 19");
	expect_refused("{}", "pcitsm_policy");
	expect_refused("{\"pcitsm_policy\":2}", "pcitsm_policy");
	expect_refused("{\"pcitsm_policy\":\"1\"}", "pcitsm_policy");
	expect_refused("{\"pcitsm_policy\":1,\"extra\":0}", "unknown key \"extra\"");
	expect_refused("{\"pcitsm_policy\":1,\"device\":3}", "device");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":{}}", "measurements: not an array");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[1]}", "measurements[0]: not an object");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":0,\"digest\":\"00\"}]}",
		       "measurements[0].index");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":255,\"digest\":\"00\"}]}",
		       "measurements[0].index");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1.5,\"digest\":\"00\"}]}",
		       "measurements[0].index");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1}]}",
		       "measurements[0].digest");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1,\"digest\":\"0\"}]}",
		       "measurements[0].digest");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1,\"digest\":\"zz\"}]}",
		       "not hex");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1,\"digest\":\"\"}]}",
		       "measurements[0].digest");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1,\"digest\":\"00\","
		       "\"x\":1}]}",
		       "unknown key");
	expect_refused("{\"pcitsm_policy\":1,\"measurements\":[{\"index\":1,\"digest\":\"00\"},"
		       "{\"index\":1,\"digest\":\"01\"}]}",
		       "index 1 named twice");
	expect_refused("{\"pcitsm_policy\":1,\"interface_info\":\"ATS\"}", "interface_info");
	expect_refused("{\"pcitsm_policy\":1,\"interface_info\":[\"FOO\"]}", "unknown bit");
	expect_refused("{\"pcitsm_policy\":1,\"interface_info\":[\"ATS\",\"ATS\"]}", "named twice");
	expect_refused("{\"pcitsm_policy\":1,\"interface_info\":[1]}", "not a name");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":6,\"offset\":\"0x0\",\"size\":"
		       "\"0x1000\"}]}",
		       "mmio[0].bar");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":0,\"offset\":\"0x800\",\"size\":"
		       "\"0x1000\"}]}",
		       "mmio[0].offset");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":0,\"offset\":\"0\",\"size\":"
		       "\"0x1000\"}]}",
		       "mmio[0].offset");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":0,\"offset\":\"0x0\",\"size\":"
		       "\"0x0\"}]}",
		       "mmio[0].size");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":0,\"offset\":\"0x0\",\"size\":"
		       "\"0x10000000000000000\"}]}",
		       "mmio[0].size");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":0,\"offset\":\"0x0\",\"size\":"
		       "\"0x100000000000\"}]}",
		       "mmio[0].size");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[{\"bar\":0,\"offset\":\"0x0\",\"size\":"
		       "\"0x1000\",\"attributes\":[\"MSIX\"]}]}",
		       "mmio[0].attributes[0]: unknown bit");
	expect_refused("{\"pcitsm_policy\":1,\"mmio\":[[]]}", "mmio[0]: not an object");
	/* Nesting past the tokener's depth, NUL bytes, a file too large. */
	expect_refused("{\"pcitsm_policy\":1,\"device\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}",
		       "not JSON");
	assert_err(pcitsm_policy_parse("{}\0{}", 5, p, why, sizeof(why)), PCITSM_E_FIELD);
	n = PCITSM_POLICY_TEXT_MAX + 1;
	huge = malloc(n);
	memset(huge, ' ', n);
	assert_err(pcitsm_policy_parse(huge, n, p, why, sizeof(why)), PCITSM_E_RANGE);
	free(huge);
	/* A failed parse leaves nothing half filled. */
	assert_true(parse("{\"pcitsm_policy\":1,\"interface_info\":[\"ATS\"],\"mmio\":{}}", p,
			  why) != PCITSM_OK);
	assert_false(p->has_info);
	free(p);
}

/* A device as the fixture builds it, and the policy made from it now (*text: that policy). */
static struct fixture *pinned(struct pcitsm_policy **p, char **text)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[160];

	*p = calloc(1, sizeof(**p));
	assert_non_null(f);
	assert_non_null(*p);
	build_report(f, 0);
	build_meas(f, 0x10);
	*text = make_text(f);
	assert_ok(parse(*text, *p, why));
	return f;
}

static void test_round_trip(void **state)
{
	struct pcitsm_policy *p;
	struct pcitsm_policy_evidence ev;
	char why[160], *text;
	struct fixture *f = pinned(&p, &text);

	(void)state;
	assert_int_equal(p->nr_meas, 2);
	assert_true(p->has_info);
	assert_int_equal(p->info_required,
			 PCITSM_TDISP_INFO_NO_FW_UPDATE | PCITSM_TDISP_INFO_DMA_NO_PASID);
	assert_int_equal(p->nr_mmio, f->rep.nr_ranges);
	ev = evidence(f);
	assert_ok(pcitsm_policy_eval(p, &ev, why, sizeof(why)));

	/* The same device on another host: other addresses (another reporting offset) pass. */
	build_report(f, 0x10000000);
	ev = evidence(f);
	assert_ok(pcitsm_policy_eval(p, &ev, why, sizeof(why)));
	free(text);
	free(p);
	free(f);
}

static void eval_fails(const struct pcitsm_policy *p, const struct fixture *f, const char *want)
{
	struct pcitsm_policy_evidence ev = evidence(f);
	char why[160] = "";

	assert_err(pcitsm_policy_eval(p, &ev, why, sizeof(why)), PCITSM_E_MISMATCH);
	if (strcmp(why, want) != 0)
		fail_msg("why \"%s\", expected \"%s\"", why, want);
}

static void test_tampered(void **state)
{
	struct pcitsm_policy *p;
	struct pcitsm_tdisp_report saved;
	char why[160], *text;
	struct fixture *f = pinned(&p, &text);

	(void)state;

	/* A measurement: one byte of block 2's digest, every byte position matters. */
	build_meas(f, 0x10);
	f->meas[(size_t)(f->blocks[1].value - f->meas) + 47] ^= 1;
	eval_fails(p, f, "measurement 2: digest differs");
	build_meas(f, 0x10);
	f->meas[(size_t)(f->blocks[1].value - f->meas)] ^= 0x80;
	eval_fails(p, f, "measurement 2: digest differs");
	build_meas(f, 0x10);
	f->blocks[0].value_len = 32;
	eval_fails(p, f, "measurement 1: digest of 32 bytes, expected 48");
	build_meas(f, 0x10);
	f->nr_blocks = 1;
	eval_fails(p, f, "measurement 2: absent from the evidence");
	build_meas(f, 0x10);

	/* Interface info: a required bit missing; an extra bit is fine. */
	saved = f->rep;
	f->rep.interface_info &= (uint16_t)~PCITSM_TDISP_INFO_NO_FW_UPDATE;
	eval_fails(p, f, "interface info: NO_FW_UPDATE required, the report has DMA_NO_PASID");
	f->rep.interface_info = saved.interface_info | PCITSM_TDISP_INFO_ATS;
	assert_ok(pcitsm_policy_eval(p, &(struct pcitsm_policy_evidence){ f->blocks, f->nr_blocks,
									 &f->rep },
				     why, sizeof(why)));

	/* MMIO: size, offset, BAR, attributes, count, each named by range. */
	f->rep = saved;
	f->rep.range[2].pages += 1;
	eval_fails(p, f, "mmio range 2: BAR 0 size 0x2000, expected 0x1000");
	f->rep = saved;
	f->rep.range[1].first_page += 1;
	eval_fails(p, f, "mmio range 1: BAR 0 offset 0x3000, expected 0x2000");
	f->rep = saved;
	f->rep.range[0].first_page -= 1; /* moves BAR 0's base: range 1 is now further */
	eval_fails(p, f, "mmio range 1: BAR 0 offset 0x3000, expected 0x2000");
	f->rep = saved;
	f->rep.range[f->rep.nr_ranges - 1].range_id = 4;
	{
		char want[96];

		snprintf(want, sizeof(want), "mmio range %u: BAR 4, expected BAR 2",
			 f->rep.nr_ranges - 1);
		eval_fails(p, f, want);
	}
	f->rep = saved;
	f->rep.range[1].attrs = PCITSM_TDISP_RANGE_NON_TEE;
	eval_fails(p, f, "mmio range 1: BAR 0 attributes NON_TEE, expected MSIX_TABLE");
	f->rep = saved;
	f->rep.nr_ranges--;
	{
		char want[96];

		snprintf(want, sizeof(want), "mmio range %u: absent from the report",
			 saved.nr_ranges - 1);
		eval_fails(p, f, want);
	}
	f->rep = saved;
	p->nr_mmio--;
	{
		char want[96];

		snprintf(want, sizeof(want), "mmio range %u: BAR 2, not in the policy (%u ranges expected)",
			 saved.nr_ranges - 1, p->nr_mmio);
		eval_fails(p, f, want);
	}
	/* Without mmio the layout is not judged; without interface_info neither are the bits. */
	p->has_mmio = false;
	p->has_info = false;
	f->rep.interface_info = 0;
	assert_ok(pcitsm_policy_eval(p, &(struct pcitsm_policy_evidence){ f->blocks, f->nr_blocks,
									 &f->rep },
				     why, sizeof(why)));
	assert_err(pcitsm_policy_eval(p, NULL, why, sizeof(why)), PCITSM_E_INVAL);
	free(text);
	free(p);
	free(f);
}

static void test_meas_blocks(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pcitsm_spdm_meas_block b[8];
	size_t nr;

	(void)state;
	build_meas(f, 0);
	/* Short: every truncation inside the header or the record. */
	for (size_t n = 0; n < 8 + 3 * 4; n++)
		assert_true(pcitsm_policy_meas_blocks(f->meas, n, b, 8, &nr) != PCITSM_OK);
	/* Not MEASUREMENTS. */
	f->meas[1] = PCITSM_SPDM_CHALLENGE_AUTH;
	assert_err(pcitsm_policy_meas_blocks(f->meas, f->meas_len, b, 8, &nr), PCITSM_E_FIELD);
	f->meas[1] = PCITSM_SPDM_MEASUREMENTS;
	/* NumberOfBlocks disagreeing with the record. */
	f->meas[4] = 2;
	assert_err(pcitsm_policy_meas_blocks(f->meas, f->meas_len, b, 8, &nr), PCITSM_E_FIELD);
	f->meas[4] = 3;
	/* More blocks than the caller holds. */
	assert_err(pcitsm_policy_meas_blocks(f->meas, f->meas_len, b, 2, &nr), PCITSM_E_RANGE);
	/* Two blocks of one index. */
	f->meas[8 + 4 + 3 + 48] = 1;
	assert_err(pcitsm_policy_meas_blocks(f->meas, f->meas_len, b, 8, &nr), PCITSM_E_FIELD);
	f->meas[8 + 4 + 3 + 48] = 2;
	/* A record length past the response. */
	f->meas[7] = 0x10;
	assert_err(pcitsm_policy_meas_blocks(f->meas, f->meas_len, b, 8, &nr), PCITSM_E_SHORT);
	f->meas[7] = 0;
	assert_ok(pcitsm_policy_meas_blocks(f->meas, f->meas_len, b, 8, &nr));
	assert_int_equal(nr, 3);
	assert_int_equal(b[2].index, 3);
	/* The bare record (as pcitsmd keeps it): the same blocks; a duplicate index, a block cut
	 * short and too many blocks refused. */
	{
		const uint8_t *rec = f->meas + 8;
		size_t rec_len = (size_t)f->meas[5] | (size_t)f->meas[6] << 8;

		assert_ok(pcitsm_policy_record_blocks(rec, rec_len, b, 8, &nr));
		assert_int_equal(nr, 3);
		assert_int_equal(b[1].index, 2);
		assert_true(pcitsm_policy_record_blocks(rec, rec_len - 1, b, 8, &nr) != PCITSM_OK);
		assert_err(pcitsm_policy_record_blocks(rec, rec_len, b, 1, &nr), PCITSM_E_RANGE);
		f->meas[8 + 4 + 3 + 48] = 1;
		assert_err(pcitsm_policy_record_blocks(rec, rec_len, b, 8, &nr), PCITSM_E_FIELD);
		f->meas[8 + 4 + 3 + 48] = 2;
		assert_ok(pcitsm_policy_record_blocks(rec, 0, b, 8, &nr));
		assert_int_equal(nr, 0);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_meas_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
