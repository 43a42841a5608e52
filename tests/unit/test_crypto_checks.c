/* SPDX-License-Identifier: MIT */
/*
 * Checks of lib/crypto that the mutation table (tests/mutants/crypto.txt, docs/security.md)
 * breaks one by one and that no other test pinned down: the exact raw ECDSA signature size, a
 * key of the wrong size for the algorithm, an RSA leaf of a size SPDM has no algorithm for.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

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

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate for key, valid for a day, signed by (issuer, ikey) or self-signed. */
static X509 *cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	name = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					       -1, -1, 0));
	assert_true(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name));
	assert_true(X509_set_pubkey(x, key));
	ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	ext(x, issuer ? issuer : x, NID_key_usage,
	    ca ? "critical,keyCertSign" : "critical,digitalSignature");
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static uint8_t *der_of(X509 *x, size_t *len)
{
	int n = i2d_X509(x, NULL);
	uint8_t *der, *p;

	assert_true(n > 0);
	der = p = malloc((size_t)n);
	assert_non_null(der);
	assert_int_equal(i2d_X509(x, &p), n);
	*len = (size_t)n;
	return der;
}

/* SPDM signs with RSA 2048 or 3072 only (DSP0274 BaseAsymAlgo): a 2560-bit leaf that validates
 * as a certificate is still refused, naming why. */
static void rsa_leaf_of_other_size(void **state)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *leaf_key = EVP_RSA_gen(2560);
	X509 *ca, *leaf;
	uint8_t *ca_der, *leaf_der;
	size_t ca_len, leaf_len;
	struct pcitsm_trust *t;
	EVP_PKEY *pub = NULL;
	char why[256];

	(void)state;
	assert_non_null(ca_key);
	assert_non_null(leaf_key);
	ca = cert("checks root", ca_key, NULL, NULL, true);
	leaf = cert("checks leaf", leaf_key, ca, ca_key, false);
	ca_der = der_of(ca, &ca_len);
	leaf_der = der_of(leaf, &leaf_len);
	assert_ok(pcitsm_trust_new(&t));
	assert_ok(pcitsm_trust_add_der(t, ca_der, ca_len));
	assert_err(pcitsm_x509_chain_verify(t, leaf_der, leaf_len, &pub, why, sizeof(why)),
		   PCITSM_E_CERT);
	assert_null(pub);
	assert_non_null(strstr(why, "not 2048 or 3072"));
	pcitsm_trust_free(t);
	free(ca_der);
	free(leaf_der);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ecdsa_raw_size_exact),
		cmocka_unit_test(key_of_another_size),
		cmocka_unit_test(rsa_leaf_of_other_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
