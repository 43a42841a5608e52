/* SPDX-License-Identifier: MIT */
/*
 * SPDM signatures (DSP0274 1.3 signing with combined_spdm_prefix): the combined signing prefix byte
 * for byte, and the requester's verification of RSASSA / RSAPSS 2048 / 3072 signatures made by
 * OpenSSL over prefix || Hash(T).
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "spdm/msg.h"
#include "testutil.h"

static void prefix_layout(void **state)
{
	static const char ctx[] = "responder-challenge_auth signing";
	uint8_t th[48], msg[200];
	size_t len;

	memset(th, 0xab, sizeof(th));
	assert_ok(spdm_sign_message(0x12, ctx, th, sizeof(th), msg, sizeof(msg), &len));
	assert_int_equal(len, 148);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(msg + 16 * i, "dmtf-spdm-v1.2.*", 16);
	/* 36 - 32 = 4 zero bytes, then the context ending at byte 99, then the hash. */
	for (int i = 64; i < 68; i++)
		assert_int_equal(msg[i], 0);
	assert_memory_equal(msg + 68, ctx, 32);
	assert_memory_equal(msg + 100, th, 48);
	assert_ok(spdm_sign_message(0x13, "responder-measurements signing", th, 32, msg,
				    sizeof(msg), &len));
	assert_int_equal(len, 132);
	assert_memory_equal(msg + 48, "dmtf-spdm-v1.3.*", 16);
	for (int i = 64; i < 70; i++)
		assert_int_equal(msg[i], 0);
	assert_memory_equal(msg + 70, "responder-measurements signing", 30);
	/* Too small an output. */
	assert_err(spdm_sign_message(0x13, ctx, th, 48, msg, 147, &len), PCITSM_E_INVAL);
}

/* Sign prefix || Hash(T) (1.2+) or Hash(T) directly (1.1) with OpenSSL, verify via the SPDM
 * path the requester uses. */
static void rsa_case(EVP_PKEY *k, bool pss, enum pcitsm_sig_alg alg, uint8_t version)
{
	struct pcitsm_hash_ctx t = { 0 };
	uint8_t th[64], msg[200], sig[512];
	size_t len, n = sizeof(sig);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(k, NULL);
	const char *ctx = "responder-measurements signing";

	assert_ok(pcitsm_hash_init(&t, PCITSM_HASH_SHA384));
	assert_ok(pcitsm_hash_update(&t, "A || M transcript", 17));
	assert_ok(pcitsm_hash_peek(&t, th));
	if (version >= 0x12) {
		assert_ok(spdm_sign_message(version, ctx, th, 48, msg, sizeof(msg), &len));
		assert_ok(pcitsm_hash(PCITSM_HASH_SHA384, msg, len, th));
	}
	/* th is now the digest the signature covers. */
	assert_int_equal(EVP_PKEY_sign_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(pc, EVP_sha384()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, pss ? RSA_PKCS1_PSS_PADDING :
								RSA_PKCS1_PADDING), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST), 1);
	assert_int_equal(EVP_PKEY_sign(pc, sig, &n, th, 48), 1);
	EVP_PKEY_CTX_free(pc);
	assert_ok(spdm_ts_verify(version, k, alg, ctx, &t, th, sig, n));
	/* The other context, version, or a flipped bit: rejected. */
	assert_err(spdm_ts_verify(version, k, alg, SPDM_CTX_CHALLENGE_AUTH, &t, th, sig, n),
		   version >= 0x12 ? PCITSM_E_SIGNATURE : PCITSM_OK);
	assert_err(spdm_ts_verify(version == 0x12 ? 0x13 : 0x12, k, alg, ctx, &t, th, sig, n),
		   PCITSM_E_SIGNATURE);
	sig[n / 2] ^= 1;
	assert_err(spdm_ts_verify(version, k, alg, ctx, &t, th, sig, n), PCITSM_E_SIGNATURE);
	pcitsm_hash_free(&t);
}

static void rsa_verification(void **state)
{
	EVP_PKEY *k2 = EVP_RSA_gen(2048), *k3 = EVP_RSA_gen(3072);

	assert_non_null(k2);
	assert_non_null(k3);
	for (uint8_t v = 0x11; v <= 0x13; v++) {
		rsa_case(k2, false, PCITSM_SIG_RSASSA_2048, v);
		rsa_case(k2, true, PCITSM_SIG_RSAPSS_2048, v);
		rsa_case(k3, false, PCITSM_SIG_RSASSA_3072, v);
		rsa_case(k3, true, PCITSM_SIG_RSAPSS_3072, v);
	}
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prefix_layout),
		cmocka_unit_test(rsa_verification),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
