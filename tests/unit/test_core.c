/* SPDX-License-Identifier: MIT */
/* core: reader, writer, errors, env. */
#include <string.h>

#include "testutil.h"

static void rd_integers(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b };
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, in, sizeof(in));
	assert_int_equal(pcitsm_rd_u8(&r), 0x01);
	assert_int_equal(pcitsm_rd_le16(&r), 0x0302);
	assert_int_equal(pcitsm_rd_be16(&r), 0x0405);
	assert_int_equal(pcitsm_rd_le32(&r), 0x09080706);
	assert_int_equal(pcitsm_rd_left(&r), 2);
	assert_int_equal(pcitsm_rd_be16(&r), 0x0a0b);
	assert_ok(pcitsm_rd_finish(&r));

	pcitsm_rd_init(&r, in, 8);
	assert_true(pcitsm_rd_le64(&r) == 0x0807060504030201ull);
	pcitsm_rd_init(&r, in, 8);
	assert_true(pcitsm_rd_be64(&r) == 0x0102030405060708ull);
	pcitsm_rd_init(&r, in, 3);
	assert_int_equal(pcitsm_rd_le24(&r), 0x030201);
	pcitsm_rd_init(&r, in, 4);
	assert_int_equal(pcitsm_rd_be32(&r), 0x01020304);
}

static void rd_short_is_sticky(void **state)
{
	static const uint8_t in[] = { 0xaa, 0xbb, 0xcc };
	struct pcitsm_rd r;
	uint8_t out[4] = { 1, 2, 3, 4 };

	pcitsm_rd_init(&r, in, sizeof(in));
	assert_int_equal(pcitsm_rd_le32(&r), 0);
	assert_err(pcitsm_rd_err(&r), PCITSM_E_SHORT);
	/* Everything after the first error reads zero and moves nothing. */
	assert_int_equal(pcitsm_rd_u8(&r), 0);
	assert_null(pcitsm_rd_bytes(&r, 1));
	pcitsm_rd_copy(&r, out, sizeof(out));
	assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);
	assert_int_equal(pcitsm_rd_left(&r), 0);
	pcitsm_rd_fail(&r, PCITSM_E_FIELD);
	assert_err(pcitsm_rd_finish(&r), PCITSM_E_SHORT);
}

static void rd_exact_finish(void **state)
{
	static const uint8_t in[] = { 1, 2, 3 };
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, in, sizeof(in));
	pcitsm_rd_skip(&r, 2);
	assert_err(pcitsm_rd_finish(&r), PCITSM_E_LONG);
	pcitsm_rd_skip(&r, 1);
	assert_ok(pcitsm_rd_finish(&r));
	pcitsm_rd_skip(&r, 1);
	assert_err(pcitsm_rd_finish(&r), PCITSM_E_SHORT);
}

static void rd_reserved_and_check(void **state)
{
	static const uint8_t zeros[] = { 0, 0, 0, 1 };
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, zeros, sizeof(zeros));
	pcitsm_rd_zero(&r, 3);
	assert_ok(pcitsm_rd_err(&r));
	pcitsm_rd_init(&r, zeros, sizeof(zeros));
	pcitsm_rd_zero(&r, 4);
	assert_err(pcitsm_rd_err(&r), PCITSM_E_RESERVED);

	pcitsm_rd_init(&r, zeros, sizeof(zeros));
	pcitsm_rd_check(&r, pcitsm_rd_u8(&r) == 1, PCITSM_E_FIELD);
	assert_err(pcitsm_rd_err(&r), PCITSM_E_FIELD);
}

static void rd_sub_views(void **state)
{
	static const uint8_t in[] = { 3, 0xa, 0xb, 0xc, 0xd };
	struct pcitsm_rd r, sub;
	size_t n;
	const uint8_t *rest;

	pcitsm_rd_init(&r, in, sizeof(in));
	sub = pcitsm_rd_sub(&r, pcitsm_rd_u8(&r));
	assert_int_equal(pcitsm_rd_u8(&sub), 0xa);
	assert_err(pcitsm_rd_finish(&sub), PCITSM_E_LONG);
	rest = pcitsm_rd_rest(&r, &n);
	assert_int_equal(n, 1);
	assert_int_equal(rest[0], 0xd);
	assert_ok(pcitsm_rd_finish(&r));

	/* A length prefix past the end fails parent and child alike. */
	pcitsm_rd_init(&r, in, 2);
	sub = pcitsm_rd_sub(&r, pcitsm_rd_u8(&r));
	assert_err(pcitsm_rd_err(&sub), PCITSM_E_SHORT);
	assert_err(pcitsm_rd_err(&r), PCITSM_E_SHORT);

	/* NULL input behaves as empty. */
	pcitsm_rd_init(&r, NULL, 99);
	assert_int_equal(pcitsm_rd_left(&r), 0);
	assert_ok(pcitsm_rd_finish(&r));
}

static void wr_basic_and_patch(void **state)
{
	uint8_t buf[16];
	struct pcitsm_wr w;
	size_t lenpos;

	pcitsm_wr_init(&w, buf, sizeof(buf));
	pcitsm_wr_u8(&w, 0x12);
	lenpos = pcitsm_wr_len(&w);
	pcitsm_wr_le16(&w, 0);
	pcitsm_wr_be32(&w, 0xdeadbeef);
	pcitsm_wr_le24(&w, 0x030201);
	pcitsm_wr_patch_le16(&w, lenpos, (uint16_t)pcitsm_wr_len(&w));
	assert_ok(pcitsm_wr_err(&w));
	assert_int_equal(pcitsm_wr_len(&w), 10);
	static const uint8_t want[] = { 0x12, 10, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 };
	assert_memory_equal(buf, want, sizeof(want));

	/* Patch outside what was written is a caller error. */
	pcitsm_wr_patch_be32(&w, 8, 1);
	assert_err(pcitsm_wr_err(&w), PCITSM_E_INVAL);
}

static void wr_overflow_is_sticky(void **state)
{
	uint8_t buf[4];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, buf, sizeof(buf));
	pcitsm_wr_le16(&w, 1);
	pcitsm_wr_le32(&w, 2);
	assert_err(pcitsm_wr_err(&w), PCITSM_E_NOSPC);
	assert_int_equal(pcitsm_wr_len(&w), 2);
	pcitsm_wr_u8(&w, 3); /* would fit, but the writer has failed */
	assert_int_equal(pcitsm_wr_len(&w), 2);
	assert_null(pcitsm_wr_reserve(&w, 0));
}

static void err_table(void **state)
{
	assert_string_equal(pcitsm_err_name(PCITSM_E_SHORT), "E_SHORT");
	assert_string_equal(pcitsm_err_str(PCITSM_OK), "success");
	assert_int_equal(pcitsm_err_group(PCITSM_E_INVAL), PCITSM_EG_CALLER);
	assert_int_equal(pcitsm_err_group(PCITSM_E_MAC), PCITSM_EG_PEER);
	assert_int_equal(pcitsm_err_group(PCITSM_E_NOMEM), PCITSM_EG_LOCAL);
	assert_int_equal(pcitsm_err_group(PCITSM_E_TIMEOUT), PCITSM_EG_TRANSPORT);
	assert_int_equal(pcitsm_err_group(PCITSM_OK), PCITSM_EG_NONE);
	assert_string_equal(pcitsm_err_name((pcitsm_err)12345), "E_UNKNOWN");
	assert_int_not_equal(pcitsm_err_errno(PCITSM_E_IO), 0);
}

static void secrets(void **state)
{
	uint8_t a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(pcitsm_ct_memneq(a, b, sizeof(a)), 0);
	b[31] ^= 0x80;
	assert_int_not_equal(pcitsm_ct_memneq(a, b, sizeof(a)), 0);
	pcitsm_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0);
}

static void test_env_is_deterministic(void **state)
{
	struct pcitsm_env_test t1, t2;
	uint8_t x[40], y[40];

	pcitsm_env_test_init(&t1, 42);
	pcitsm_env_test_init(&t2, 42);
	assert_ok(pcitsm_random(&t1.env, x, sizeof(x)));
	assert_ok(pcitsm_random(&t2.env, y, sizeof(y)));
	assert_memory_equal(x, y, sizeof(x));
	uint64_t t0 = pcitsm_now_ns(&t1.env);
	pcitsm_sleep_ns(&t1.env, 500);
	assert_true(pcitsm_now_ns(&t1.env) == t0 + 500);
	t1.rng_fail = true;
	assert_err(pcitsm_random(&t1.env, x, 1), PCITSM_E_RNG);

	const struct pcitsm_env *real = pcitsm_env_default();
	assert_ok(pcitsm_random(real, x, sizeof(x)));
	assert_true(pcitsm_now_ns(real) > 0);
	assert_int_equal(pcitsm_log_level_parse("debug", PCITSM_LOG_ERR), PCITSM_LOG_DEBUG);
	assert_int_equal(pcitsm_log_level_parse("bogus", PCITSM_LOG_WARN), PCITSM_LOG_WARN);
}

static void hex(void **state)
{
	char out[7];
	static const uint8_t in[] = { 0x00, 0xab, 0x7f };

	pcitsm_hex(out, in, sizeof(in));
	assert_string_equal(out, "00ab7f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rd_integers),
		cmocka_unit_test(rd_short_is_sticky),
		cmocka_unit_test(rd_exact_finish),
		cmocka_unit_test(rd_reserved_and_check),
		cmocka_unit_test(rd_sub_views),
		cmocka_unit_test(wr_basic_and_patch),
		cmocka_unit_test(wr_overflow_is_sticky),
		cmocka_unit_test(err_table),
		cmocka_unit_test(secrets),
		cmocka_unit_test(test_env_is_deterministic),
		cmocka_unit_test(hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
