/* SPDX-License-Identifier: MIT */
/* Hashes (one-shot, incremental, forks) and signatures (ECDSA raw r||s, RSASSA, RSA-PSS). */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "pcitsm/crypto.h"
#include "testutil.h"

static void hash_known_answers(void **state)
{
	static const uint8_t sha256_abc[] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
					      0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
					      0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
					      0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	uint8_t out[PCITSM_HASH_MAX];

	assert_ok(pcitsm_hash(PCITSM_HASH_SHA256, "abc", 3, out));
	assert_memory_equal(out, sha256_abc, 32);
	assert_int_equal(pcitsm_hash_size(PCITSM_HASH_SHA256), 32);
	assert_int_equal(pcitsm_hash_size(PCITSM_HASH_SHA384), 48);
	assert_int_equal(pcitsm_hash_size(PCITSM_HASH_SHA512), 64);
	assert_int_equal(pcitsm_hash_size(PCITSM_HASH_NONE), 0);
	assert_string_equal(pcitsm_hash_name(PCITSM_HASH_SHA384), "sha384");
	assert_err(pcitsm_hash(PCITSM_HASH_NONE, "abc", 3, out), PCITSM_E_INVAL);
	assert_err(pcitsm_hash(PCITSM_HASH_SHA256, NULL, 3, out), PCITSM_E_INVAL);
	assert_ok(pcitsm_hash(PCITSM_HASH_SHA256, NULL, 0, out));
}

/* Incremental equals one-shot; a copy forks a transcript; peek does not end it. */
static void hash_incremental_and_fork(void **state)
{
	static const enum pcitsm_hash_alg algs[] = { PCITSM_HASH_SHA256, PCITSM_HASH_SHA384,
						     PCITSM_HASH_SHA512 };

	for (unsigned i = 0; i < 3; i++) {
		struct pcitsm_hash_ctx h = { 0 }, fork = { 0 };
		uint8_t a[64], b[64], c[64];

		assert_ok(pcitsm_hash_init(&h, algs[i]));
		assert_ok(pcitsm_hash_update(&h, "hello ", 6));
		assert_ok(pcitsm_hash_copy(&fork, &h));
		assert_ok(pcitsm_hash_peek(&h, a));
		assert_ok(pcitsm_hash(algs[i], "hello ", 6, b));
		assert_memory_equal(a, b, pcitsm_hash_size(algs[i]));
		assert_ok(pcitsm_hash_update(&h, "world", 5));
		assert_ok(pcitsm_hash_update(&fork, "there", 5));
		assert_ok(pcitsm_hash_final(&h, a));
		assert_ok(pcitsm_hash_final(&fork, c));
		assert_ok(pcitsm_hash(algs[i], "hello world", 11, b));
		assert_memory_equal(a, b, pcitsm_hash_size(algs[i]));
		assert_ok(pcitsm_hash(algs[i], "hello there", 11, b));
		assert_memory_equal(c, b, pcitsm_hash_size(algs[i]));
		/* Finished contexts are freed: using them is a state error. */
		assert_err(pcitsm_hash_update(&h, "x", 1), PCITSM_E_STATE);
		assert_err(pcitsm_hash_final(&h, a), PCITSM_E_STATE);
		assert_err(pcitsm_hash_copy(&fork, &h), PCITSM_E_STATE);
		pcitsm_hash_free(&h);
	}
	{
		struct pcitsm_hash_ctx h = { 0 };
		assert_err(pcitsm_hash_init(&h, PCITSM_HASH_NONE), PCITSM_E_INVAL);
		pcitsm_hash_free(&h);
	}
}

static void sig_ecdsa(void **state)
{
	static const struct {
		enum pcitsm_sig_alg alg;
		const char *group;
	} cases[] = { { PCITSM_SIG_ECDSA_P256, "P-256" }, { PCITSM_SIG_ECDSA_P384, "P-384" } };

	for (unsigned i = 0; i < 2; i++) {
		EVP_PKEY *k = EVP_EC_gen(cases[i].group);
		size_t n = pcitsm_sig_size(cases[i].alg);
		uint8_t sig[PCITSM_SIG_MAX], dig[64];

		assert_non_null(k);
		assert_true(pcitsm_sig_key_matches(k, cases[i].alg));
		assert_false(pcitsm_sig_key_matches(k, cases[1 - i].alg));
		assert_false(pcitsm_sig_key_matches(k, PCITSM_SIG_RSASSA_2048));
		assert_ok(pcitsm_sig_sign(k, cases[i].alg, PCITSM_HASH_SHA384, "msg", 3, sig, n));
		assert_ok(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA384, "msg", 3, sig, n));
		assert_err(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA384, "msh", 3, sig, n),
			   PCITSM_E_SIGNATURE);
		assert_err(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA256, "msg", 3, sig, n),
			   PCITSM_E_SIGNATURE);
		assert_err(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA384, "msg", 3, sig,
					     n - 1),
			   PCITSM_E_SIGNATURE);
		sig[n - 1] ^= 1;
		assert_err(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA384, "msg", 3, sig, n),
			   PCITSM_E_SIGNATURE);
		/* r = 0: never valid. */
		memset(sig, 0, n / 2);
		assert_err(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA384, "msg", 3, sig, n),
			   PCITSM_E_SIGNATURE);
		/* The digest forms agree with the message forms. */
		assert_ok(pcitsm_hash(PCITSM_HASH_SHA512, "msg", 3, dig));
		assert_ok(pcitsm_sig_sign_digest(k, cases[i].alg, PCITSM_HASH_SHA512, dig, sig, n));
		assert_ok(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_SHA512, "msg", 3, sig, n));
		/* Misuse. */
		assert_err(pcitsm_sig_sign(k, cases[i].alg, PCITSM_HASH_SHA384, "m", 1, sig, n + 1),
			   PCITSM_E_INVAL);
		assert_err(pcitsm_sig_sign(k, cases[1 - i].alg, PCITSM_HASH_SHA384, "m", 1, sig,
					   pcitsm_sig_size(cases[1 - i].alg)),
			   PCITSM_E_INVAL);
		assert_err(pcitsm_sig_verify(k, cases[i].alg, PCITSM_HASH_NONE, "m", 1, sig, n),
			   PCITSM_E_INVAL);
		EVP_PKEY_free(k);
	}
}

/* Our raw r||s against OpenSSL's own DER signatures, both ways. */
static void sig_ecdsa_interop(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t der[80], raw[64];
	size_t dlen = sizeof(der);
	const unsigned char *q = der;
	unsigned char *p = der;
	ECDSA_SIG *es;

	assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(c, der, &dlen, (const uint8_t *)"abc", 3), 1);
	es = d2i_ECDSA_SIG(NULL, &q, (long)dlen);
	assert_non_null(es);
	BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
	ECDSA_SIG_free(es);
	assert_ok(pcitsm_sig_verify(k, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "abc", 3, raw, 64));

	assert_ok(pcitsm_sig_sign(k, PCITSM_SIG_ECDSA_P256, PCITSM_HASH_SHA256, "abc", 3, raw, 64));
	es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
	dlen = (size_t)i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	assert_int_equal(EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestVerify(c, der, dlen, (const uint8_t *)"abc", 3), 1);
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
}

/* RSA signed by OpenSSL directly (PKCS#1 v1.5, PSS with salt = hash length), verified by us. */
static size_t openssl_rsa_sign(EVP_PKEY *k, bool pss, const EVP_MD *md, uint8_t *sig)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	size_t n = 512;

	assert_int_equal(EVP_DigestSignInit(c, &pc, md, NULL, k), 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(c, sig, &n, (const uint8_t *)"spdm", 4), 1);
	EVP_MD_CTX_free(c);
	return n;
}

static void sig_rsa(void **state)
{
	static const struct {
		unsigned bits;
		enum pcitsm_sig_alg ssa, pss;
	} cases[] = { { 2048, PCITSM_SIG_RSASSA_2048, PCITSM_SIG_RSAPSS_2048 },
		      { 3072, PCITSM_SIG_RSASSA_3072, PCITSM_SIG_RSAPSS_3072 } };

	for (unsigned i = 0; i < 2; i++) {
		EVP_PKEY *k = EVP_RSA_gen(cases[i].bits);
		uint8_t sig[512];
		size_t n;

		assert_non_null(k);
		assert_true(pcitsm_sig_key_matches(k, cases[i].ssa));
		assert_true(pcitsm_sig_key_matches(k, cases[i].pss));
		assert_false(pcitsm_sig_key_matches(k, cases[1 - i].ssa));
		assert_false(pcitsm_sig_key_matches(k, PCITSM_SIG_ECDSA_P256));
		n = openssl_rsa_sign(k, false, EVP_sha384(), sig);
		assert_int_equal(n, pcitsm_sig_size(cases[i].ssa));
		assert_ok(pcitsm_sig_verify(k, cases[i].ssa, PCITSM_HASH_SHA384, "spdm", 4, sig, n));
		assert_err(pcitsm_sig_verify(k, cases[i].pss, PCITSM_HASH_SHA384, "spdm", 4, sig, n),
			   PCITSM_E_SIGNATURE);
		n = openssl_rsa_sign(k, true, EVP_sha256(), sig);
		assert_ok(pcitsm_sig_verify(k, cases[i].pss, PCITSM_HASH_SHA256, "spdm", 4, sig, n));
		assert_err(pcitsm_sig_verify(k, cases[i].ssa, PCITSM_HASH_SHA256, "spdm", 4, sig, n),
			   PCITSM_E_SIGNATURE);
		sig[7] ^= 0x40;
		assert_err(pcitsm_sig_verify(k, cases[i].pss, PCITSM_HASH_SHA256, "spdm", 4, sig, n),
			   PCITSM_E_SIGNATURE);
		/* And our own RSA signatures verify. */
		assert_ok(pcitsm_sig_sign(k, cases[i].pss, PCITSM_HASH_SHA512, "x", 1, sig, n));
		assert_ok(pcitsm_sig_verify(k, cases[i].pss, PCITSM_HASH_SHA512, "x", 1, sig, n));
		assert_ok(pcitsm_sig_sign(k, cases[i].ssa, PCITSM_HASH_SHA512, "x", 1, sig, n));
		assert_ok(pcitsm_sig_verify(k, cases[i].ssa, PCITSM_HASH_SHA512, "x", 1, sig, n));
		EVP_PKEY_free(k);
	}
	assert_string_equal(pcitsm_sig_name(PCITSM_SIG_RSAPSS_3072), "rsapss-3072");
	assert_int_equal(pcitsm_sig_size(PCITSM_SIG_NONE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_known_answers),
		cmocka_unit_test(hash_incremental_and_fork),
		cmocka_unit_test(sig_ecdsa),
		cmocka_unit_test(sig_ecdsa_interop),
		cmocka_unit_test(sig_rsa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
