/* SPDX-License-Identifier: MIT */
/*
 * SPDM key schedule (session.h, DSP0274 1.3 'Key schedule') against the known answers that
 * tests/kat/spdm_keysched.py computed with Python's hashlib and hmac: every secret, finished key,
 * VerifyData, key and IV for SHA-256/384, AES-128/256-GCM and SPDM 1.1-1.3, two KEY_UPDATE
 * generations per direction; the stages' order; the wipe of the handshake stage.
 */
#include <string.h>

#include "pcitsm/session.h"
#include "testutil.h"

#include "../kat/spdm_keysched_kat.h"

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
}

static void test_bin_concat(void **state)
{
	uint8_t out[PCITSM_BIN_CONCAT_MAX], th[48];
	size_t n;

	(void)state;
	/* BinConcat example (DSP0274 1.3 'Key schedule'): AES-256 key label, SPDM 1.2 */
	assert_ok(pcitsm_bin_concat(0x12, 32, "key", NULL, 0, out, sizeof(out), &n));
	assert_int_equal(n, sizeof(kat_bin_concat_key12));
	assert_memory_equal(out, kat_bin_concat_key12, n);
	/* with a context, 1.3; length little-endian */
	memset(th, 0xab, sizeof(th));
	assert_ok(pcitsm_bin_concat(0x13, 0x130, "req hs data", th, 48, out, sizeof(out), &n));
	assert_int_equal(n, 2 + 8 + 11 + 48);
	assert_memory_equal(out, "\x30\x01spdm1.3 req hs data", 21);
	assert_memory_equal(out + 21, th, 48);
	assert_err(pcitsm_bin_concat(0x12, 32, "key", NULL, 0, out, 12, &n), PCITSM_E_NOSPC);
	assert_err(pcitsm_bin_concat(0x10, 32, "key", NULL, 0, out, sizeof(out), &n),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_bin_concat(0x14, 32, "key", NULL, 0, out, sizeof(out), &n),
		   PCITSM_E_INVAL);
}

static void check_traffic(const struct pcitsm_keysched *ks, const uint8_t *secret,
			  const uint8_t *key, const uint8_t *iv)
{
	uint8_t k[PCITSM_AEAD_KEY_MAX], v[PCITSM_AEAD_IV_LEN];

	assert_ok(pcitsm_keysched_traffic(ks, secret, k, v));
	assert_memory_equal(k, key, pcitsm_aead_key_size(ks->aead));
	assert_memory_equal(v, iv, PCITSM_AEAD_IV_LEN);
}

static void run_kat(const struct kat_keysched *t)
{
	struct pcitsm_keysched ks;
	uint8_t vd[PCITSM_HASH_MAX], bad[PCITSM_HASH_MAX];
	size_t h = pcitsm_hash_size(t->hash);

	print_message("  %s\n", t->name);
	assert_ok(pcitsm_keysched_init(&ks, t->hash, t->aead, t->spdm_version));
	/* handshake stage, TH1 */
	assert_ok(pcitsm_keysched_handshake(&ks, t->shared, t->shared_len, t->th1));
	assert_int_equal(ks.stage, PCITSM_KS_HANDSHAKE);
	assert_memory_equal(ks.handshake_secret, t->handshake_secret, h);
	assert_memory_equal(ks.hs_secret[PCITSM_SM_REQ], t->req_hs_secret, h);
	assert_memory_equal(ks.hs_secret[PCITSM_SM_RSP], t->rsp_hs_secret, h);
	assert_memory_equal(ks.finished_key[PCITSM_SM_REQ], t->req_finished_key, h);
	assert_memory_equal(ks.finished_key[PCITSM_SM_RSP], t->rsp_finished_key, h);
	assert_memory_equal(ks.master_secret, t->master_secret, h);
	check_traffic(&ks, ks.hs_secret[PCITSM_SM_REQ], t->req_hs_key, t->req_hs_iv);
	check_traffic(&ks, ks.hs_secret[PCITSM_SM_RSP], t->rsp_hs_key, t->rsp_hs_iv);
	/* VerifyData = HMAC(finished key, TH) */
	assert_ok(pcitsm_keysched_verify_data(&ks, PCITSM_SM_REQ, t->th1, vd));
	assert_memory_equal(vd, t->req_verify_th1, h);
	assert_ok(pcitsm_keysched_verify_data(&ks, PCITSM_SM_RSP, t->th1, vd));
	assert_memory_equal(vd, t->rsp_verify_th1, h);
	assert_ok(pcitsm_keysched_check_verify_data(&ks, PCITSM_SM_RSP, t->th1, t->rsp_verify_th1));
	memcpy(bad, t->rsp_verify_th1, h);
	bad[h - 1] ^= 1;
	assert_err(pcitsm_keysched_check_verify_data(&ks, PCITSM_SM_RSP, t->th1, bad),
		   PCITSM_E_MAC);
	/* the requester's VerifyData is not the responder's */
	assert_err(pcitsm_keysched_check_verify_data(&ks, PCITSM_SM_REQ, t->th1,
						     t->rsp_verify_th1), PCITSM_E_MAC);
	assert_err(pcitsm_keysched_handshake(&ks, t->shared, t->shared_len, t->th1),
		   PCITSM_E_STATE);
	assert_err(pcitsm_keysched_update(&ks, PCITSM_SM_REQ), PCITSM_E_STATE);

	/* data stage, TH2 */
	assert_ok(pcitsm_keysched_data(&ks, t->th2));
	assert_int_equal(ks.stage, PCITSM_KS_DATA);
	assert_memory_equal(ks.app_secret[PCITSM_SM_REQ], t->req_app_secret, h);
	assert_memory_equal(ks.app_secret[PCITSM_SM_RSP], t->rsp_app_secret, h);
	assert_memory_equal(ks.export_master_secret, t->export_master_secret, h);
	check_traffic(&ks, ks.app_secret[PCITSM_SM_REQ], t->req_app_key, t->req_app_iv);
	check_traffic(&ks, ks.app_secret[PCITSM_SM_RSP], t->rsp_app_key, t->rsp_app_iv);
	/* the handshake stage is gone */
	assert_zero(ks.handshake_secret, sizeof(ks.handshake_secret));
	assert_zero(ks.hs_secret[0], sizeof(ks.hs_secret));
	assert_zero(ks.finished_key[0], sizeof(ks.finished_key));
	assert_zero(ks.master_secret, sizeof(ks.master_secret));
	assert_err(pcitsm_keysched_verify_data(&ks, PCITSM_SM_REQ, t->th1, vd), PCITSM_E_STATE);
	assert_err(pcitsm_keysched_data(&ks, t->th2), PCITSM_E_STATE);

	/* KEY_UPDATE: one direction at a time, the other untouched */
	assert_ok(pcitsm_keysched_update(&ks, PCITSM_SM_REQ));
	assert_memory_equal(ks.app_secret[PCITSM_SM_REQ], t->req_app_secret_1, h);
	assert_memory_equal(ks.app_secret[PCITSM_SM_RSP], t->rsp_app_secret, h);
	check_traffic(&ks, ks.app_secret[PCITSM_SM_REQ], t->req_app_1_key, t->req_app_1_iv);
	assert_ok(pcitsm_keysched_update(&ks, PCITSM_SM_REQ));
	assert_memory_equal(ks.app_secret[PCITSM_SM_REQ], t->req_app_secret_2, h);
	check_traffic(&ks, ks.app_secret[PCITSM_SM_REQ], t->req_app_2_key, t->req_app_2_iv);
	assert_ok(pcitsm_keysched_update(&ks, PCITSM_SM_RSP));
	check_traffic(&ks, ks.app_secret[PCITSM_SM_RSP], t->rsp_app_1_key, t->rsp_app_1_iv);
	assert_ok(pcitsm_keysched_update(&ks, PCITSM_SM_RSP));
	assert_memory_equal(ks.app_secret[PCITSM_SM_RSP], t->rsp_app_secret_2, h);
	check_traffic(&ks, ks.app_secret[PCITSM_SM_RSP], t->rsp_app_2_key, t->rsp_app_2_iv);
	assert_err(pcitsm_keysched_update(&ks, (enum pcitsm_sm_dir)2), PCITSM_E_INVAL);

	pcitsm_keysched_wipe(&ks);
	assert_zero((const uint8_t *)&ks, sizeof(ks));
}

static void test_kat(void **state)
{
	(void)state;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(kat_keysched); i++)
		run_kat(&kat_keysched[i]);
}

/* The session installs exactly the KAT's keys and IVs, counters at 0, phase by phase. */
static void test_session_installs_kat(void **state)
{
	const struct kat_keysched *t = &kat_keysched[2]; /* sha384 aes-256-gcm 1.2 */
	size_t k = pcitsm_aead_key_size(t->aead);
	struct pcitsm_session s;

	(void)state;
	assert_ok(pcitsm_session_init(&s, PCITSM_SESSION_REQUESTER, 0x00020001, t->hash, t->aead,
				      t->spdm_version, PCITSM_SM_V12));
	assert_err(pcitsm_session_data_keys(&s, t->th2), PCITSM_E_STATE);
	assert_ok(pcitsm_session_handshake_keys(&s, t->shared, t->shared_len, t->th1));
	assert_int_equal(s.phase, PCITSM_SM_PHASE_HANDSHAKE);
	assert_memory_equal(s.hs[PCITSM_SM_REQ].key, t->req_hs_key, k);
	assert_memory_equal(s.hs[PCITSM_SM_REQ].iv, t->req_hs_iv, 12);
	assert_memory_equal(s.hs[PCITSM_SM_RSP].key, t->rsp_hs_key, k);
	assert_memory_equal(s.hs[PCITSM_SM_RSP].iv, t->rsp_hs_iv, 12);
	assert_int_equal(s.hs[PCITSM_SM_REQ].seq, 0);
	assert_err(pcitsm_session_key_update(&s, PCITSM_SM_REQ), PCITSM_E_STATE);
	assert_err(pcitsm_session_handshake_keys(&s, t->shared, t->shared_len, t->th1),
		   PCITSM_E_STATE);
	assert_ok(pcitsm_session_data_keys(&s, t->th2));
	assert_int_equal(s.phase, PCITSM_SM_PHASE_DATA);
	assert_zero((const uint8_t *)s.hs, sizeof(s.hs));
	assert_memory_equal(s.app[PCITSM_SM_REQ].key, t->req_app_key, k);
	assert_memory_equal(s.app[PCITSM_SM_RSP].iv, t->rsp_app_iv, 12);
	s.app[PCITSM_SM_RSP].seq = 7;
	assert_ok(pcitsm_session_key_update(&s, PCITSM_SM_RSP));
	assert_memory_equal(s.app[PCITSM_SM_RSP].key, t->rsp_app_1_key, k);
	assert_memory_equal(s.app[PCITSM_SM_RSP].iv, t->rsp_app_1_iv, 12);
	assert_int_equal(s.app[PCITSM_SM_RSP].seq, 0);
	assert_memory_equal(s.app[PCITSM_SM_REQ].key, t->req_app_key, k);
	pcitsm_session_wipe(&s);
	assert_zero((const uint8_t *)&s, sizeof(s));
}

static void test_bad_parameters(void **state)
{
	struct pcitsm_keysched ks;
	struct pcitsm_session s;
	uint8_t x[64] = { 0 };

	(void)state;
	assert_err(pcitsm_keysched_init(&ks, PCITSM_HASH_NONE, PCITSM_AEAD_AES_256_GCM, 0x12),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_keysched_init(&ks, PCITSM_HASH_SHA256, PCITSM_AEAD_NONE, 0x12),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_keysched_init(&ks, PCITSM_HASH_SHA256, PCITSM_AEAD_AES_256_GCM, 0x10),
		   PCITSM_E_INVAL);
	/* a failed init leaves a schedule that refuses every stage */
	assert_err(pcitsm_keysched_handshake(&ks, x, 32, x), PCITSM_E_STATE);
	assert_err(pcitsm_keysched_traffic(&ks, x, x, x), PCITSM_E_STATE);
	assert_ok(pcitsm_keysched_init(&ks, PCITSM_HASH_SHA256, PCITSM_AEAD_AES_256_GCM, 0x12));
	assert_err(pcitsm_keysched_handshake(&ks, x, 0, x), PCITSM_E_INVAL);
	assert_err(pcitsm_keysched_handshake(&ks, NULL, 32, x), PCITSM_E_INVAL);
	assert_err(pcitsm_keysched_data(&ks, x), PCITSM_E_STATE);
	assert_err(pcitsm_keysched_verify_data(&ks, PCITSM_SM_REQ, x, x), PCITSM_E_STATE);
	assert_err(pcitsm_session_init(&s, (enum pcitsm_session_role)5, 1, PCITSM_HASH_SHA256,
				       PCITSM_AEAD_AES_256_GCM, 0x12, PCITSM_SM_V12),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_session_init(&s, PCITSM_SESSION_RESPONDER, 1, PCITSM_HASH_SHA256,
				       PCITSM_AEAD_AES_256_GCM, 0x14, PCITSM_SM_V12),
		   PCITSM_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bin_concat),
		cmocka_unit_test(test_kat),
		cmocka_unit_test(test_session_installs_kat),
		cmocka_unit_test(test_bad_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
