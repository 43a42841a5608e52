/* SPDX-License-Identifier: MIT */
/*
 * Checks of lib/crypto that the mutation table (tests/mutants/crypto.txt, docs/security.md)
 * breaks one by one and that no other test pinned down: the exact raw ECDSA signature size, a
 * key of the wrong size for the algorithm.
 */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "pcitsm/crypto.h"
#include "testutil.h"

/*
 * An ECDSA signature is r || s, each exactly the curve's size (DSP0274 BaseAsymAlgo; here 32
 * bytes for P-256). The same r and s, each with a leading zero byte, are the same numbers: only
 * the size check rejects that 66-byte encoding.
 */
static void ecdsa_raw_size_exact(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	uint8_t sig[64], padded[66] = { 0 };

	(void)state;
	assert_non_null(k);
	assert_ok(pcitsm_sig_sign(k, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "msg", 3, sig, 64));
	assert_ok(pcitsm_sig_verify(k, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "msg", 3, sig, 64));
	memcpy(padded + 1, sig, 32);
	memcpy(padded + 34, sig + 32, 32);
	assert_err(pcitsm_sig_verify(k, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "msg", 3,
				     padded, sizeof(padded)),
		   PCITSM_E_SIGNATURE);
	/* one byte short: the last byte of s missing */
	assert_err(pcitsm_sig_verify(k, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "msg", 3, sig, 63),
		   PCITSM_E_SIGNATURE);
	EVP_PKEY_free(k);
}

/* A P-384 key does not verify for ECDSA P-256, nor a P-256 key for P-384: E_INVAL before any
 * signature is looked at (the negotiated algorithm and the leaf key must agree). */
static void key_of_another_size(void **state)
{
	EVP_PKEY *k256 = EVP_EC_gen("P-256"), *k384 = EVP_EC_gen("P-384");
	uint8_t sig[96];

	(void)state;
	assert_non_null(k256);
	assert_non_null(k384);
	assert_ok(pcitsm_sig_sign(k256, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "m", 1, sig, 64));
	assert_err(pcitsm_sig_verify(k384, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "m", 1, sig, 64),
		   PCITSM_E_INVAL);
	assert_ok(pcitsm_sig_sign(k384, PCITSM_SIG_ECDSA_P384, PCITSM_HASH_SHA384, "m", 1, sig, 96));
	assert_err(pcitsm_sig_verify(k256, PCITSM_SIG_ECDSA_P384, PCITSM_HASH_SHA384, "m", 1, sig, 96),
		   PCITSM_E_INVAL);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(k384);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ecdsa_raw_size_exact),
		cmocka_unit_test(key_of_another_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
