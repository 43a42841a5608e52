/* SPDX-License-Identifier: MIT */
/*
 * AES-256-GCM data path: published known answers on both backends, ipsec-mb and OpenSSL EVP giving
 * identical bytes on thousands of random cases (segmented, in place, truncated tags), tag failures
 * wiping the output, the backend choice by argument and by environment variable.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/crypto.h"
#include "testutil.h"

static void unhex(const char *h, uint8_t *out, size_t *n)
{
	size_t i = 0;

	for (; h[0] && h[1]; h += 2)
		out[i++] = (uint8_t)strtoul((char[3]){ h[0], h[1], 0 }, NULL, 16);
	*n = i;
}

/* The 256-bit cases (13-16) of McGrew and Viega, "The Galois/Counter Mode of Operation", 2005. */
struct kat {
	const char *key, *iv, *aad, *pt, *ct, *tag;
};
static const struct kat kats[] = {
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static struct pcitsm_gcm *open_backend(enum pcitsm_gcm_backend b)
{
	struct pcitsm_gcm *g = NULL;
	pcitsm_err e = pcitsm_gcm_new(&g, b);

	if (b == PCITSM_GCM_IPSECMB && e == PCITSM_E_UNSUPPORTED)
		return NULL;
	assert_ok(e);
	return g;
}

static void run_kats(enum pcitsm_gcm_backend b)
{
	struct pcitsm_gcm *g = open_backend(b);
	struct pcitsm_gcm_key *k;
	uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16], out[64], t[16];
	size_t kl, ivl, al, pl, cl, tl;

	if (!g)
		skip();
	assert_ok(pcitsm_gcm_key_new(g, &k));
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(kats); i++) {
		unhex(kats[i].key, key, &kl);
		unhex(kats[i].iv, iv, &ivl);
		unhex(kats[i].aad, aad, &al);
		unhex(kats[i].pt, pt, &pl);
		unhex(kats[i].ct, ct, &cl);
		unhex(kats[i].tag, tag, &tl);
		assert_int_equal(kl, 32);
		assert_int_equal(pl, cl);
		assert_ok(pcitsm_gcm_key_set(k, key));
		struct pcitsm_gcm_seg s = { pt, out, pl };
		assert_ok(pcitsm_gcm_seal(k, iv, aad, al, &s, 1, t, 16));
		assert_memory_equal(out, ct, cl);
		assert_memory_equal(t, tag, 16);
		/* Open in place, with the 96-bit truncated tag IDE uses. */
		struct pcitsm_gcm_seg o = { out, out, cl };
		assert_ok(pcitsm_gcm_open(k, iv, aad, al, &o, 1, tag, 12));
		assert_memory_equal(out, pt, pl);
	}
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(g);
}

static void test_kat_openssl(void **state) { run_kats(PCITSM_GCM_OPENSSL); }
static void test_kat_ipsecmb(void **state) { run_kats(PCITSM_GCM_IPSECMB); }

/* Split [0, len) into 1..4 random segments. */
static size_t split(struct pcitsm_env *env, const uint8_t *in, uint8_t *out, size_t len,
		    struct pcitsm_gcm_seg *segs)
{
	uint8_t r[4];
	size_t n, off = 0;

	assert_ok(pcitsm_random(env, r, sizeof(r)));
	n = 1 + r[0] % 4;
	for (size_t i = 0; i < n; i++) {
		size_t l = i + 1 == n ? len - off : PCITSM_MIN(len - off, (size_t)r[1 + i % 3] * 3);
		segs[i] = (struct pcitsm_gcm_seg){ in + off, out + off, l };
		off += l;
	}
	return n;
}

static void test_backends_identical(void **state)
{
	struct pcitsm_gcm *gi = open_backend(PCITSM_GCM_IPSECMB);
	struct pcitsm_gcm *go = open_backend(PCITSM_GCM_OPENSSL);
	struct pcitsm_gcm_key *ki, *ko;
	struct pcitsm_env_test t;
	static uint8_t pt[1200], c1[1200], c2[1200], aad[64];
	uint8_t key[32], iv[12], t1[16], t2[16], r[4];
	struct pcitsm_gcm_seg s[4];

	if (!gi)
		skip();
	pcitsm_env_test_init(&t, 42);
	assert_ok(pcitsm_gcm_key_new(gi, &ki));
	assert_ok(pcitsm_gcm_key_new(go, &ko));
	for (int i = 0; i < 3000; i++) {
		assert_ok(pcitsm_random(&t.env, r, sizeof(r)));
		size_t len = (size_t)(r[0] | r[1] << 8) % sizeof(pt);
		size_t al = r[2] % sizeof(aad), tl = r[3] & 1 ? 12 : 16, n;

		assert_ok(pcitsm_random(&t.env, key, sizeof(key)));
		assert_ok(pcitsm_random(&t.env, iv, sizeof(iv)));
		assert_ok(pcitsm_random(&t.env, aad, al));
		assert_ok(pcitsm_random(&t.env, pt, len));
		assert_ok(pcitsm_gcm_key_set(ki, key));
		assert_ok(pcitsm_gcm_key_set(ko, key));
		n = split(&t.env, pt, c1, len, s);
		assert_ok(pcitsm_gcm_seal(ki, iv, aad, al, s, n, t1, tl));
		struct pcitsm_gcm_seg one = { pt, c2, len };
		assert_ok(pcitsm_gcm_seal(ko, iv, aad, al, &one, 1, t2, tl));
		assert_memory_equal(c1, c2, len);
		assert_memory_equal(t1, t2, tl);
		/* Each opens the other's output, in place, segmented differently. */
		n = split(&t.env, c2, c2, len, s);
		assert_ok(pcitsm_gcm_open(ki, iv, aad, al, s, n, t2, tl));
		assert_memory_equal(c2, pt, len);
		n = split(&t.env, c1, c1, len, s);
		assert_ok(pcitsm_gcm_open(ko, iv, aad, al, s, n, t1, tl));
		assert_memory_equal(c1, pt, len);
	}
	pcitsm_gcm_key_free(ki);
	pcitsm_gcm_key_free(ko);
	pcitsm_gcm_free(gi);
	pcitsm_gcm_free(go);
}

/* The sizes that matter for block and GHASH boundaries (0, 1, 15, 16, 17, ..., 4096 and past),
 * each with AAD lengths 0, 1, 12, 15, 16, 17, 20 (an IDE prefix + 4-DW header) and random ones up
 * to 300, sealed by both backends as one segment and as random segments: identical ciphertext and
 * tags, and each opens the other's output. */
static void test_backends_identical_sizes(void **state)
{
	static const size_t sizes[] = { 0,   1,   2,   3,    4,    7,    8,    12,   15,   16,
					17,  31,  32,  33,   47,   48,   63,   64,   65,   96,
					127, 128, 129, 255,  256,  257,  511,  512,  1023, 1024,
					1025, 2047, 2048, 4095, 4096, 4097, 8191, 8192 };
	static const size_t aads[] = { 0, 1, 12, 15, 16, 17, 20 };
	struct pcitsm_gcm *gi = open_backend(PCITSM_GCM_IPSECMB);
	struct pcitsm_gcm *go = open_backend(PCITSM_GCM_OPENSSL);
	struct pcitsm_gcm_key *ki, *ko;
	struct pcitsm_env_test t;
	static uint8_t pt[8192], c1[8192], c2[8192], o[8192], aad[300];
	uint8_t key[32], iv[12], t1[16], t2[16], r[2];
	struct pcitsm_gcm_seg s[4];
	unsigned cases = 0;

	if (!gi)
		skip();
	pcitsm_env_test_init(&t, 4096);
	assert_ok(pcitsm_gcm_key_new(gi, &ki));
	assert_ok(pcitsm_gcm_key_new(go, &ko));
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];

		for (size_t a = 0; a < PCITSM_ARRAY_SIZE(aads) + 5; a++) {
			size_t al, tl = a & 1 ? 12 : 16, n;

			assert_ok(pcitsm_random(&t.env, r, sizeof(r)));
			al = a < PCITSM_ARRAY_SIZE(aads) ? aads[a] : (size_t)(r[0] | r[1] << 8) % 301;
			assert_ok(pcitsm_random(&t.env, key, sizeof(key)));
			assert_ok(pcitsm_random(&t.env, iv, sizeof(iv)));
			assert_ok(pcitsm_random(&t.env, aad, al));
			assert_ok(pcitsm_random(&t.env, pt, len));
			assert_ok(pcitsm_gcm_key_set(ki, key));
			assert_ok(pcitsm_gcm_key_set(ko, key));
			struct pcitsm_gcm_seg one_i = { pt, c1, len }, one_o = { pt, c2, len };
			assert_ok(pcitsm_gcm_seal(ki, iv, aad, al, &one_i, 1, t1, tl));
			assert_ok(pcitsm_gcm_seal(ko, iv, aad, al, &one_o, 1, t2, tl));
			assert_memory_equal(c1, c2, len);
			assert_memory_equal(t1, t2, tl);
			/* Segmented on one side: the same bytes again. */
			n = split(&t.env, pt, c2, len, s);
			assert_ok(pcitsm_gcm_seal(a & 2 ? ko : ki, iv, aad, al, s, n, t2, tl));
			assert_memory_equal(c1, c2, len);
			assert_memory_equal(t1, t2, tl);
			/* Cross open. */
			struct pcitsm_gcm_seg d_o = { c1, o, len }, d_i = { c2, o, len };
			assert_ok(pcitsm_gcm_open(ko, iv, aad, al, &d_o, 1, t1, tl));
			assert_memory_equal(o, pt, len);
			assert_ok(pcitsm_gcm_open(ki, iv, aad, al, &d_i, 1, t2, tl));
			assert_memory_equal(o, pt, len);
			cases++;
		}
	}
	print_message("ipsec-mb and openssl: %u cases, identical bytes\n", cases);
	pcitsm_gcm_key_free(ki);
	pcitsm_gcm_key_free(ko);
	pcitsm_gcm_free(gi);
	pcitsm_gcm_free(go);
}

static void tamper_one(enum pcitsm_gcm_backend b)
{
	struct pcitsm_gcm *g = open_backend(b);
	struct pcitsm_gcm_key *k;
	uint8_t key[32] = { 1 }, iv[12] = { 2 }, aad[20] = { 3 }, pt[100], ct[100], tag[12], z[100];

	if (!g)
		skip();
	memset(pt, 0x5a, sizeof(pt));
	memset(z, 0, sizeof(z));
	assert_ok(pcitsm_gcm_key_new(g, &k));
	struct pcitsm_gcm_seg s = { pt, ct, sizeof(pt) };
	assert_err(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &s, 1, tag, 12), PCITSM_E_STATE);
	assert_ok(pcitsm_gcm_key_set(k, key));
	assert_err(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &s, 1, tag, 0), PCITSM_E_INVAL);
	assert_err(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &s, 1, tag, 17), PCITSM_E_INVAL);
	assert_ok(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &s, 1, tag, 12));
	for (size_t bit = 0; bit < 8 * (sizeof(aad) + sizeof(ct) + sizeof(tag)); bit += 37) {
		uint8_t a2[20], c2[100], t2[12], out[100];
		size_t byte = bit / 8;
		uint8_t m = (uint8_t)(1u << bit % 8);

		memcpy(a2, aad, sizeof(a2));
		memcpy(c2, ct, sizeof(c2));
		memcpy(t2, tag, sizeof(t2));
		if (byte < 20)
			a2[byte] ^= m;
		else if (byte < 120)
			c2[byte - 20] ^= m;
		else
			t2[byte - 120] ^= m;
		struct pcitsm_gcm_seg o = { c2, out, sizeof(c2) };
		assert_err(pcitsm_gcm_open(k, iv, a2, sizeof(a2), &o, 1, t2, 12), PCITSM_E_MAC);
		assert_memory_equal(out, z, sizeof(out)); /* nothing unauthenticated leaks */
	}
	pcitsm_gcm_key_clear(k);
	assert_err(pcitsm_gcm_seal(k, iv, aad, sizeof(aad), &s, 1, tag, 12), PCITSM_E_STATE);
	pcitsm_gcm_key_free(k);
	pcitsm_gcm_free(g);
}

static void test_tamper_openssl(void **state) { tamper_one(PCITSM_GCM_OPENSSL); }
static void test_tamper_ipsecmb(void **state) { tamper_one(PCITSM_GCM_IPSECMB); }

static void test_choice(void **state)
{
	enum pcitsm_gcm_backend b;
	struct pcitsm_gcm *g;

	assert_ok(pcitsm_gcm_backend_parse("openssl", &b));
	assert_int_equal(b, PCITSM_GCM_OPENSSL);
	assert_ok(pcitsm_gcm_backend_parse("ipsec-mb", &b));
	assert_int_equal(b, PCITSM_GCM_IPSECMB);
	assert_ok(pcitsm_gcm_backend_parse("auto", &b));
	assert_int_equal(b, PCITSM_GCM_AUTO);
	assert_err(pcitsm_gcm_backend_parse("aesni", &b), PCITSM_E_INVAL);

	setenv(PCITSM_GCM_ENV, "openssl", 1);
	assert_ok(pcitsm_gcm_new(&g, PCITSM_GCM_AUTO));
	assert_int_equal(pcitsm_gcm_backend_of(g), PCITSM_GCM_OPENSSL);
	assert_non_null(strstr(pcitsm_gcm_name(g), "openssl"));
	pcitsm_gcm_free(g);
	setenv(PCITSM_GCM_ENV, "bogus", 1);
	assert_err(pcitsm_gcm_new(&g, PCITSM_GCM_AUTO), PCITSM_E_INVAL);
	/* An explicit choice wins over the environment. */
	assert_ok(pcitsm_gcm_new(&g, PCITSM_GCM_OPENSSL));
	pcitsm_gcm_free(g);
	unsetenv(PCITSM_GCM_ENV);
	assert_ok(pcitsm_gcm_new(&g, PCITSM_GCM_AUTO));
	pcitsm_gcm_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_openssl),      cmocka_unit_test(test_kat_ipsecmb),
		cmocka_unit_test(test_backends_identical), cmocka_unit_test(test_tamper_openssl),
		cmocka_unit_test(test_backends_identical_sizes),
		cmocka_unit_test(test_tamper_ipsecmb),   cmocka_unit_test(test_choice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
