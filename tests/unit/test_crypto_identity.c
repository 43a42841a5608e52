/* SPDX-License-Identifier: MIT */
/* crypto: device identities, generated, saved, loaded and checked. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pcitsm/crypto.h"
#include "testutil.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "%s/test_crypto_identity.XXXXXX", PCITSM_BINARY_DIR);
	assert_non_null(mkdtemp(dir));
}

static char *path_of(char *buf, size_t len, const char *dir, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", dir, name) < len);
	return buf;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f = fopen(path_of(path, sizeof(path), dir, name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char path[4096];
	size_t len;
	uint8_t *buf = test_read_file(path_of(path, sizeof(path), from_dir, name), &len);
	FILE *f;

	assert_non_null(buf);
	f = fopen(path_of(path, sizeof(path), to_dir, name), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
}

static void assert_identity_equal(const struct pcitsm_identity *a, const struct pcitsm_identity *b)
{
	assert_int_equal(a->curve_bits, b->curve_bits);
	assert_int_equal(a->chain_len, b->chain_len);
	assert_memory_equal(a->chain, b->chain, a->chain_len);
	assert_int_equal(a->root_len, b->root_len);
	assert_memory_equal(a->root, b->root, a->root_len);
	assert_int_equal(EVP_PKEY_eq(a->key, b->key), 1);
	assert_int_equal(a->nr_meas, b->nr_meas);
	for (unsigned i = 0; i < a->nr_meas; i++) {
		assert_int_equal(a->meas[i].index, b->meas[i].index);
		assert_int_equal(a->meas[i].value_type, b->meas[i].value_type);
		assert_int_equal(a->meas[i].raw, b->meas[i].raw);
		assert_int_equal(a->meas[i].len, b->meas[i].len);
		assert_memory_equal(a->meas[i].value, b->meas[i].value, a->meas[i].len);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Generation
 */

static void generate_shapes(void **state)
{
	static const unsigned curves[] = { 256, 384 };

	for (size_t c = 0; c < PCITSM_ARRAY_SIZE(curves); c++) {
		struct pcitsm_identity id;
		size_t off[4], len[4], n;
		char group[32];

		assert_ok(pcitsm_identity_generate(&id, curves[c], "dev0"));
		assert_int_equal(id.curve_bits, curves[c]);
		assert_ok(pcitsm_x509_chain_split(id.chain, id.chain_len, off, len, 4, &n));
		assert_int_equal(n, 3);
		assert_int_equal(id.root_len, len[0]);
		assert_memory_equal(id.root, id.chain, len[0]);
		assert_true(EVP_PKEY_get_group_name(id.key, group, sizeof(group), NULL));
		assert_string_equal(group, curves[c] == 384 ? "secp384r1" : "prime256v1");
		/* the default measurement blocks (docs/identity.md) */
		assert_int_equal(id.nr_meas, 4);
		for (unsigned i = 0; i < id.nr_meas; i++) {
			assert_int_equal(id.meas[i].index, i + 1);
			assert_int_equal(id.meas[i].value_type, i);
			assert_int_equal(id.meas[i].raw, i == 2);
		}
		assert_int_equal(id.meas[0].len, 48);
		assert_int_equal(id.meas[2].len, 16);
		assert_int_equal(id.meas[3].len, 32);
		pcitsm_identity_free(&id);
		assert_null(id.key);
		assert_null(id.chain);
	}
}

static void generate_measurements_follow_name(void **state)
{
	struct pcitsm_identity a, a2, b;

	assert_ok(pcitsm_identity_generate(&a, 256, "alpha"));
	assert_ok(pcitsm_identity_generate(&a2, 384, "alpha"));
	assert_ok(pcitsm_identity_generate(&b, 256, "beta"));
	for (unsigned i = 0; i < a.nr_meas; i++) {
		assert_memory_equal(a.meas[i].value, a2.meas[i].value, a.meas[i].len);
		assert_memory_not_equal(a.meas[i].value, b.meas[i].value, a.meas[i].len);
	}
	/* keys and certificates are fresh every time */
	assert_int_not_equal(EVP_PKEY_eq(a.key, b.key), 1);
	assert_memory_not_equal(a.root, b.root, PCITSM_MIN(a.root_len, b.root_len));
	pcitsm_identity_free(&a);
	pcitsm_identity_free(&a2);
	pcitsm_identity_free(&b);
}

static void generate_rejects_bad_arguments(void **state)
{
	struct pcitsm_identity id;
	char longname[PCITSM_IDENTITY_NAME_MAX + 2];

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_err(pcitsm_identity_generate(&id, 521, "dev0"), PCITSM_E_INVAL);
	assert_err(pcitsm_identity_generate(&id, 0, "dev0"), PCITSM_E_INVAL);
	assert_err(pcitsm_identity_generate(&id, 256, ""), PCITSM_E_INVAL);
	assert_err(pcitsm_identity_generate(&id, 256, NULL), PCITSM_E_INVAL);
	assert_err(pcitsm_identity_generate(&id, 256, "tab\there"), PCITSM_E_INVAL);
	assert_err(pcitsm_identity_generate(&id, 256, longname), PCITSM_E_INVAL);
	longname[PCITSM_IDENTITY_NAME_MAX] = '\0';
	assert_ok(pcitsm_identity_generate(&id, 256, longname));
	pcitsm_identity_free(&id);
	assert_err(pcitsm_identity_generate(NULL, 256, "dev0"), PCITSM_E_INVAL);
}

/* DSP0274 1.3 GET_CERTIFICATE: Length u16, Reserved u16, RootHash, certificates */
static void spdm_chain_format(void **state)
{
	static const struct { unsigned bits; const char *md; size_t h; } cases[] = {
		{ 384, "SHA384", 48 },
		{ 256, "SHA256", 32 },
	};

	for (size_t c = 0; c < PCITSM_ARRAY_SIZE(cases); c++) {
		struct pcitsm_identity id;
		uint8_t buf[8192], h[64];
		size_t len;

		assert_ok(pcitsm_identity_generate(&id, cases[c].bits, "dev0"));
		assert_err(pcitsm_identity_spdm_chain(&id, buf, 10, &len), PCITSM_E_NOSPC);
		assert_int_equal(len, 4 + cases[c].h + id.chain_len);
		assert_ok(pcitsm_identity_spdm_chain(&id, buf, sizeof(buf), &len));
		assert_int_equal(pcitsm_get_le16(buf), len);
		assert_int_equal(pcitsm_get_le16(buf + 2), 0);
		assert_true(EVP_Digest(id.root, id.root_len, h, NULL,
				       EVP_get_digestbyname(cases[c].md), NULL));
		assert_memory_equal(buf + 4, h, cases[c].h);
		assert_memory_equal(buf + 4 + cases[c].h, id.chain, id.chain_len);
		pcitsm_identity_free(&id);
	}
}

static void meas_type_names(void **state)
{
	assert_string_equal(pcitsm_meas_type_name(0), "immutable ROM");
	assert_string_equal(pcitsm_meas_type_name(3), "firmware configuration");
	assert_string_equal(pcitsm_meas_type_name(10), "structured measurement manifest");
	assert_string_equal(pcitsm_meas_type_name(11), "reserved");
}

/* ---------------------------------------------------------------------------------------------
 * Save and load
 */

static void save_load_round_trip(void **state)
{
	static const unsigned curves[] = { 256, 384 };

	for (size_t c = 0; c < PCITSM_ARRAY_SIZE(curves); c++) {
		struct pcitsm_identity id, back;
		char dir[4096], path[4200], why[256];
		struct stat st;
		size_t len;
		uint8_t *key;

		assert_ok(pcitsm_identity_generate(&id, curves[c], "round trip"));
		tmpdir(dir, sizeof(dir));
		assert_ok(pcitsm_identity_save(&id, dir));
		assert_ok(pcitsm_identity_load_why(&back, dir, why, sizeof(why)));
		assert_string_equal(why, "");
		assert_identity_equal(&id, &back);
		pcitsm_identity_free(&back);

		/* the key file: PKCS#8 PEM, owner-only */
		assert_int_equal(stat(path_of(path, sizeof(path), dir, "device.key"), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		key = test_read_file(path, &len);
		assert_non_null(key);
		assert_memory_equal(key, "-----BEGIN PRIVATE KEY-----", 27);
		free(key);

		/* saving again over it is allowed (the CLI asks for --force) and loads the same */
		assert_ok(pcitsm_identity_save(&id, dir));
		assert_ok(pcitsm_identity_load(&back, dir));
		assert_identity_equal(&id, &back);
		pcitsm_identity_free(&back);
		rm_rf(dir);
		pcitsm_identity_free(&id);
	}
}

/* save refuses an identity whose parts disagree, before writing anything */
static void save_rejects_inconsistent(void **state)
{
	struct pcitsm_identity a, b, back;
	uint8_t *root;
	size_t root_len;
	char dir[4096];

	assert_ok(pcitsm_identity_generate(&a, 256, "a"));
	assert_ok(pcitsm_identity_generate(&b, 256, "b"));
	tmpdir(dir, sizeof(dir));
	/* another identity's root (pointer and length together: the struct stays well formed) */
	root = a.root;
	root_len = a.root_len;
	a.root = b.root;
	a.root_len = b.root_len;
	assert_err(pcitsm_identity_save(&a, dir), PCITSM_E_INVAL);
	a.root = root;
	a.root_len = root_len;
	a.chain_len--;
	assert_err(pcitsm_identity_save(&a, dir), PCITSM_E_INVAL);
	a.chain_len++;
	assert_err(pcitsm_identity_save(NULL, dir), PCITSM_E_INVAL);
	/* nothing was written */
	assert_err(pcitsm_identity_load(&back, dir), PCITSM_E_NOTFOUND);
	rm_rf(dir);
	pcitsm_identity_free(&a);
	pcitsm_identity_free(&b);
}

/* Each corruption of one file fails the load with a reason naming that file. */
struct corruption {
	const char *file;
	const char *text; /* new content, or NULL to delete the file */
	pcitsm_err want;
	const char *why;
};

static void load_rejects(void **state)
{
	static const struct corruption cases[] = {
		{ "root.pem", NULL, PCITSM_E_NOTFOUND, "root.pem: No such file" },
		{ "measurements.json", NULL, PCITSM_E_NOTFOUND, "measurements.json" },
		{ "device.pem", "not a certificate\n", PCITSM_E_FIELD, "device.pem: not a PEM" },
		{ "device.key", "", PCITSM_E_FIELD, "device.key: not a regular file" },
		{ "device.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		  PCITSM_E_FIELD, "device.key: not an unencrypted PEM private key" },
		{ "chain.der", "0", PCITSM_E_FIELD, "chain.der: differs" },
		{ "chain.spdm", "0000", PCITSM_E_FIELD, "chain.spdm: not the SPDM chain" },
		{ "measurements.json", "{\"measurements\": [", PCITSM_E_FIELD, "measurements.json" },
		{ "measurements.json", "{\"measurements\": []} x", PCITSM_E_FIELD, "measurements.json" },
		{ "measurements.json", "[]", PCITSM_E_FIELD, "measurements.json" },
		{ "measurements.json",
		  "{\"measurements\": [{\"index\": 1, \"type\": 0, \"raw\": false, \"value\": \"0g\"}]}",
		  PCITSM_E_FIELD, "measurements.json" },
		{ "measurements.json",
		  "{\"measurements\": [{\"index\": 255, \"type\": 0, \"raw\": false, \"value\": \"00\"}]}",
		  PCITSM_E_FIELD, "measurements.json" },
		{ "measurements.json",
		  "{\"measurements\": [{\"index\": 1, \"type\": 0, \"raw\": 0, \"value\": \"00\"}]}",
		  PCITSM_E_FIELD, "measurements.json" },
		{ "measurements.json",
		  "{\"measurements\": [{\"index\": 2, \"type\": 1, \"raw\": true, \"value\": \"00\"},"
		  " {\"index\": 2, \"type\": 1, \"raw\": true, \"value\": \"01\"}]}",
		  PCITSM_E_FIELD, "distinct indices" },
	};
	struct pcitsm_identity id, back;
	char dir[4096], path[4200], why[512];

	assert_ok(pcitsm_identity_generate(&id, 256, "dev0"));
	tmpdir(dir, sizeof(dir));
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(cases); i++) {
		assert_ok(pcitsm_identity_save(&id, dir));
		if (cases[i].text)
			write_text(dir, cases[i].file, cases[i].text);
		else
			assert_int_equal(unlink(path_of(path, sizeof(path), dir, cases[i].file)), 0);
		assert_err(pcitsm_identity_load_why(&back, dir, why, sizeof(why)), cases[i].want);
		assert_null(back.key);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why, cases[i].why);
	}
	/* A valid measurements file written by hand loads, upper-case hex included. */
	assert_ok(pcitsm_identity_save(&id, dir));
	write_text(dir, "measurements.json",
		   "{\"measurements\": [{\"index\": 7, \"type\": 6, \"raw\": true, \"value\": \"aB\"}]}\n");
	assert_ok(pcitsm_identity_load(&back, dir));
	assert_int_equal(back.nr_meas, 1);
	assert_int_equal(back.meas[0].index, 7);
	assert_int_equal(back.meas[0].value[0], 0xab);
	pcitsm_identity_free(&back);
	rm_rf(dir);
	assert_err(pcitsm_identity_load(&back, dir), PCITSM_E_NOTFOUND);
	pcitsm_identity_free(&id);
}

/* Another identity's key (same curve), or its leaf certificate, does not fit. */
static void load_rejects_mismatched_key_and_chain(void **state)
{
	struct pcitsm_identity a, b, back;
	char da[4096], db[4096], why[512];

	assert_ok(pcitsm_identity_generate(&a, 384, "dev0"));
	assert_ok(pcitsm_identity_generate(&b, 384, "dev0"));
	tmpdir(da, sizeof(da));
	tmpdir(db, sizeof(db));
	assert_ok(pcitsm_identity_save(&a, da));
	assert_ok(pcitsm_identity_save(&b, db));

	copy_file(db, da, "device.key");
	assert_err(pcitsm_identity_load_why(&back, da, why, sizeof(why)), PCITSM_E_FIELD);
	assert_string_equal(why, "device.key: does not match the key of device.pem");

	/* b's leaf and key together, under a's root and intermediate: the chain breaks */
	copy_file(db, da, "device.pem");
	assert_err(pcitsm_identity_load_why(&back, da, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "certificates do not form a valid chain: certificate 2"));

	/* b's whole chain with a's chain.der left in place */
	copy_file(db, da, "root.pem");
	copy_file(db, da, "intermediate.pem");
	assert_err(pcitsm_identity_load_why(&back, da, why, sizeof(why)), PCITSM_E_FIELD);
	assert_non_null(strstr(why, "chain.der: differs"));
	copy_file(db, da, "chain.der");
	assert_err(pcitsm_identity_load_why(&back, da, why, sizeof(why)), PCITSM_E_FIELD);
	assert_non_null(strstr(why, "chain.spdm"));
	copy_file(db, da, "chain.spdm");
	assert_ok(pcitsm_identity_load(&back, da));
	pcitsm_identity_free(&back);

	rm_rf(da);
	rm_rf(db);
	pcitsm_identity_free(&a);
	pcitsm_identity_free(&b);
}

/* The identity committed under tests/data (made by `pcitsm identity create`) still loads. */
static void load_committed_identity(void **state)
{
	struct pcitsm_identity id;
	char why[512];

	assert_ok(pcitsm_identity_load_why(&id, PCITSM_TEST_DATA "/identity/p384", why,
					   sizeof(why)));
	assert_int_equal(id.curve_bits, 384);
	assert_int_equal(id.nr_meas, 4);
	pcitsm_identity_free(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generate_shapes),
		cmocka_unit_test(generate_measurements_follow_name),
		cmocka_unit_test(generate_rejects_bad_arguments),
		cmocka_unit_test(spdm_chain_format),
		cmocka_unit_test(meas_type_names),
		cmocka_unit_test(save_load_round_trip),
		cmocka_unit_test(save_rejects_inconsistent),
		cmocka_unit_test(load_rejects),
		cmocka_unit_test(load_rejects_mismatched_key_and_chain),
		cmocka_unit_test(load_committed_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
