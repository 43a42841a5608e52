/* SPDX-License-Identifier: MIT */
/*
 * Key derivation, AEAD and DHE (crypto.h): HMAC (RFC 4231), HKDF (RFC 5869) known answers and
 * bounds; AES-128/256-GCM known answers (McGrew and Viega), tag failures wiping the output; ECDH
 * on secp256r1 and secp384r1 agreeing between two sides, public values rejected when not on the
 * curve.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/crypto.h"
#include "testutil.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t i = 0;

	for (; h[0] && h[1]; h += 2)
		out[i++] = (uint8_t)strtoul((char[3]){ h[0], h[1], 0 }, NULL, 16);
	return i;
}

static void assert_hex(const uint8_t *got, const char *want)
{
	uint8_t w[256];
	size_t n = unhex(want, w);

	assert_memory_equal(got, w, n);
}

static void test_hmac_rfc4231(void **state)
{
	static const char data[] = "what do ya want for nothing?";
	uint8_t out[PCITSM_HASH_MAX];

	(void)state;
	/* RFC 4231 test case 2 */
	assert_ok(pcitsm_hmac(PCITSM_HASH_SHA256, (const uint8_t *)"Jefe", 4, data, 28, out));
	assert_hex(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_ok(pcitsm_hmac(PCITSM_HASH_SHA384, (const uint8_t *)"Jefe", 4, data, 28, out));
	assert_hex(out, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
			"8e2240ca5e69e2c78b3239ecfab21649");
	assert_err(pcitsm_hmac(PCITSM_HASH_NONE, (const uint8_t *)"k", 1, data, 1, out),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_hmac(PCITSM_HASH_SHA256, NULL, 0, data, 1, out), PCITSM_E_INVAL);
	assert_err(pcitsm_hmac(PCITSM_HASH_SHA256, (const uint8_t *)"k", 1, NULL, 1, out),
		   PCITSM_E_INVAL);
}

static void test_hkdf_rfc5869(void **state)
{
	uint8_t ikm[22], salt[13], info[10], prk[PCITSM_HASH_MAX], okm[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (unsigned i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	/* RFC 5869 A.1 */
	assert_ok(pcitsm_hkdf_extract(PCITSM_HASH_SHA256, salt, sizeof(salt), ikm, sizeof(ikm),
				      prk));
	assert_hex(prk, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
	assert_ok(pcitsm_hkdf_expand(PCITSM_HASH_SHA256, prk, 32, info, sizeof(info), okm, 42));
	assert_hex(okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			"34007208d5b887185865");
	/* RFC 5869 A.3: no salt, no info */
	assert_ok(pcitsm_hkdf_extract(PCITSM_HASH_SHA256, NULL, 0, ikm, sizeof(ikm), prk));
	assert_hex(prk, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
	assert_ok(pcitsm_hkdf_expand(PCITSM_HASH_SHA256, prk, 32, NULL, 0, okm, 42));
	assert_hex(okm, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
			"9d201395faa4b61a96c8");
}

static void test_hkdf_bounds(void **state)
{
	uint8_t prk[64] = { 1 }, big[255 * 32 + 1];

	(void)state;
	/* L at most 255 * HashLen; PRK at least HashLen */
	assert_ok(pcitsm_hkdf_expand(PCITSM_HASH_SHA256, prk, 32, NULL, 0, big, 255 * 32));
	assert_err(pcitsm_hkdf_expand(PCITSM_HASH_SHA256, prk, 32, NULL, 0, big, 255 * 32 + 1),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_hkdf_expand(PCITSM_HASH_SHA256, prk, 31, NULL, 0, big, 32),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_hkdf_expand(PCITSM_HASH_SHA384, prk, 48, NULL, 0, big, 0), PCITSM_E_INVAL);
	assert_err(pcitsm_hkdf_expand(PCITSM_HASH_NONE, prk, 48, NULL, 0, big, 8), PCITSM_E_INVAL);
	assert_err(pcitsm_hkdf_extract(PCITSM_HASH_SHA256, NULL, 0, NULL, 0, big), PCITSM_E_INVAL);
	assert_err(pcitsm_hkdf_extract(PCITSM_HASH_SHA256, NULL, 4, prk, 4, big), PCITSM_E_INVAL);
}

/* McGrew and Viega, "The Galois/Counter Mode of Operation": test cases 2 (AES-128) and 14
 * (AES-256), all-zero key, IV and one zero block. */
static void test_aead_kat(void **state)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, pt[16] = { 0 }, ct[16], back[16], tag[16];

	(void)state;
	assert_int_equal(pcitsm_aead_key_size(PCITSM_AEAD_AES_128_GCM), 16);
	assert_int_equal(pcitsm_aead_key_size(PCITSM_AEAD_AES_256_GCM), 32);
	assert_int_equal(pcitsm_aead_key_size(PCITSM_AEAD_NONE), 0);
	assert_string_equal(pcitsm_aead_name(PCITSM_AEAD_AES_256_GCM), "aes-256-gcm");

	assert_ok(pcitsm_aead_seal(PCITSM_AEAD_AES_128_GCM, key, iv, NULL, 0, pt, 16, ct, tag));
	assert_hex(ct, "0388dace60b6a392f328c2b971b2fe78");
	assert_hex(tag, "ab6e47d42cec13bdf53a67b21257bddf");
	assert_ok(pcitsm_aead_open(PCITSM_AEAD_AES_128_GCM, key, iv, NULL, 0, ct, 16, back, tag));
	assert_memory_equal(back, pt, 16);

	assert_ok(pcitsm_aead_seal(PCITSM_AEAD_AES_256_GCM, key, iv, NULL, 0, pt, 16, ct, tag));
	assert_hex(ct, "cea7403d4d606b6e074ec5d3baf39d18");
	assert_hex(tag, "d0d1c8a799996bf0265b98b5d48ab919");
	/* in place */
	assert_ok(pcitsm_aead_open(PCITSM_AEAD_AES_256_GCM, key, iv, NULL, 0, ct, 16, ct, tag));
	assert_memory_equal(ct, pt, 16);
	assert_err(pcitsm_aead_seal(PCITSM_AEAD_NONE, key, iv, NULL, 0, pt, 16, ct, tag),
		   PCITSM_E_INVAL);
}

static void test_aead_tamper(void **state)
{
	uint8_t key[32], iv[12], aad[6] = { 1, 2, 3, 4, 5, 6 }, pt[40], ct[40], out[40], tag[16];
	uint8_t zero[40] = { 0 };

	(void)state;
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 3);
	memset(iv, 0x5a, sizeof(iv));
	memset(pt, 0x11, sizeof(pt));
	assert_ok(pcitsm_aead_seal(PCITSM_AEAD_AES_256_GCM, key, iv, aad, 6, pt, 40, ct, tag));
	/* A flipped bit anywhere (AAD, ciphertext, tag, IV) fails and leaves no plaintext. */
	for (unsigned i = 0; i < 6 + 40 + 16 + 12; i++) {
		uint8_t a[6], c[40], t[16], v[12];

		memcpy(a, aad, 6), memcpy(c, ct, 40), memcpy(t, tag, 16), memcpy(v, iv, 12);
		if (i < 6)
			a[i] ^= 1;
		else if (i < 46)
			c[i - 6] ^= 0x80;
		else if (i < 62)
			t[i - 46] ^= 4;
		else
			v[i - 62] ^= 2;
		memset(out, 0xee, sizeof(out));
		assert_err(pcitsm_aead_open(PCITSM_AEAD_AES_256_GCM, key, v, a, 6, c, 40, out, t),
			   PCITSM_E_MAC);
		assert_memory_equal(out, zero, sizeof(out));
	}
	assert_ok(pcitsm_aead_open(PCITSM_AEAD_AES_256_GCM, key, iv, aad, 6, ct, 40, out, tag));
	assert_memory_equal(out, pt, 40);
}

static void dhe_pair(enum pcitsm_dhe_alg alg)
{
	struct pcitsm_dhe a = { 0 }, b = { 0 };
	uint8_t pa[PCITSM_DHE_PUB_MAX], pb[PCITSM_DHE_PUB_MAX], bad[PCITSM_DHE_PUB_MAX];
	uint8_t sa[PCITSM_DHE_SECRET_MAX], sb[PCITSM_DHE_SECRET_MAX];
	uint8_t zero[PCITSM_DHE_SECRET_MAX] = { 0 };
	size_t d = pcitsm_dhe_pub_size(alg), s = pcitsm_dhe_secret_size(alg);

	assert_ok(pcitsm_dhe_generate(&a, alg));
	assert_ok(pcitsm_dhe_generate(&b, alg));
	assert_err(pcitsm_dhe_generate(&a, alg), PCITSM_E_INVAL); /* already holds a key */
	assert_err(pcitsm_dhe_public(&a, pa, d - 1), PCITSM_E_NOSPC);
	assert_ok(pcitsm_dhe_public(&a, pa, d));
	assert_ok(pcitsm_dhe_public(&b, pb, d));
	assert_ok(pcitsm_dhe_derive(&a, pb, d, sa, s));
	assert_ok(pcitsm_dhe_derive(&b, pa, d, sb, s));
	assert_memory_equal(sa, sb, s);
	/* the shared secret is the X coordinate of a point: never all zero here */
	assert_memory_not_equal(sa, zero, s);

	/* wrong sizes are the caller's error */
	assert_err(pcitsm_dhe_derive(&a, pb, d - 1, sa, s), PCITSM_E_INVAL);
	assert_err(pcitsm_dhe_derive(&a, pb, d, sa, s + 1), PCITSM_E_INVAL);
	/* not on the curve: Y changed */
	memcpy(bad, pb, d);
	bad[d - 1] ^= 1;
	memset(sa, 0xee, s);
	assert_err(pcitsm_dhe_derive(&a, bad, d, sa, s), PCITSM_E_FIELD);
	assert_memory_equal(sa, zero, s);
	/* all zero (the point at infinity has no X || Y encoding) */
	memset(bad, 0, d);
	assert_err(pcitsm_dhe_derive(&a, bad, d, sa, s), PCITSM_E_FIELD);
	/* coordinates not below the prime */
	memset(bad, 0xff, d);
	assert_err(pcitsm_dhe_derive(&a, bad, d, sa, s), PCITSM_E_FIELD);
	/* X and Y swapped: off the curve */
	memcpy(bad, pb + d / 2, d / 2);
	memcpy(bad + d / 2, pb, d / 2);
	assert_err(pcitsm_dhe_derive(&a, bad, d, sa, s), PCITSM_E_FIELD);

	pcitsm_dhe_free(&a);
	pcitsm_dhe_free(&b);
	pcitsm_dhe_free(&a); /* safe twice */
	assert_err(pcitsm_dhe_public(&a, pa, d), PCITSM_E_INVAL);
}

static void test_dhe(void **state)
{
	struct pcitsm_dhe z = { 0 };

	(void)state;
	assert_int_equal(pcitsm_dhe_pub_size(PCITSM_DHE_SECP256R1), 64);
	assert_int_equal(pcitsm_dhe_pub_size(PCITSM_DHE_SECP384R1), 96);
	assert_int_equal(pcitsm_dhe_secret_size(PCITSM_DHE_SECP384R1), 48);
	assert_int_equal(pcitsm_dhe_pub_size(PCITSM_DHE_NONE), 0);
	assert_string_equal(pcitsm_dhe_name(PCITSM_DHE_SECP384R1), "secp384r1");
	dhe_pair(PCITSM_DHE_SECP256R1);
	dhe_pair(PCITSM_DHE_SECP384R1);
	assert_err(pcitsm_dhe_generate(&z, PCITSM_DHE_NONE), PCITSM_E_INVAL);
	pcitsm_dhe_free(&z);
}

/* A P-256 public value used on a P-384 key (and the reverse) is refused by size. */
static void test_dhe_cross_curve(void **state)
{
	struct pcitsm_dhe a = { 0 }, b = { 0 };
	uint8_t pub[PCITSM_DHE_PUB_MAX], s[PCITSM_DHE_SECRET_MAX];

	(void)state;
	assert_ok(pcitsm_dhe_generate(&a, PCITSM_DHE_SECP256R1));
	assert_ok(pcitsm_dhe_generate(&b, PCITSM_DHE_SECP384R1));
	assert_ok(pcitsm_dhe_public(&a, pub, sizeof(pub)));
	assert_err(pcitsm_dhe_derive(&b, pub, 64, s, 48), PCITSM_E_INVAL);
	/* 96 bytes whose first 64 are a valid P-256 point are not a P-384 point */
	memset(pub + 64, 0, 32);
	assert_err(pcitsm_dhe_derive(&b, pub, 96, s, 48), PCITSM_E_FIELD);
	pcitsm_dhe_free(&a);
	pcitsm_dhe_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_hkdf_bounds),
		cmocka_unit_test(test_aead_kat),
		cmocka_unit_test(test_aead_tamper),
		cmocka_unit_test(test_dhe),
		cmocka_unit_test(test_dhe_cross_curve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
