/* SPDX-License-Identifier: MIT */
/*
 * The link policy file of pcitsm apply (include/pcitsm/policy_apply.h, docs/apply.md): the parser
 * refuses every malformed file naming the field (short, long, bad field, wrong combination), the
 * match is by address or IDs with a class mask and the first entry wins, the requirements refuse a
 * connection that does not show them, the chain's RootHash is read at its exact place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/policy_apply.h"
#include "testutil.h"

static pcitsm_err parse(const char *text, struct pcitsm_apply *a, char *why)
{
	return pcitsm_apply_parse(text, strlen(text), a, why, 200);
}

/* The file is refused with E_FIELD and why names want. */
static void refused(const char *text, const char *want)
{
	struct pcitsm_apply *a = calloc(1, sizeof(*a));
	char why[200] = "";

	assert_non_null(a);
	assert_err(parse(text, a, why), PCITSM_E_FIELD);
	if (!strstr(why, want))
		fail_msg("\"%s\": why \"%s\" does not name \"%s\"", text, why, want);
	assert_int_equal(a->nr, 0); /* nothing half-parsed is left */
	free(a);
}

#define HEAD "{\"pcitsm_apply\":1,\"devices\":["
#define M_VENDOR "\"match\":{\"vendor\":\"0x7063\"}"

static void test_refusals(void **state)
{
	(void)state;
	refused("", "empty");
	refused("[]", "not a JSON object");
	refused("{\"pcitsm_apply\":1,\"devices\":[]} x", "byte 32");
	refused("{\"pcitsm_apply\":1,\"devices\":[]}{}", "byte 31");
	refused("{\"devices\":[]}", "pcitsm_apply");
	refused("{\"pcitsm_apply\":2,\"devices\":[]}", "pcitsm_apply");
	refused("{\"pcitsm_apply\":1}", "devices: absent");
	refused("{\"pcitsm_apply\":1,\"devices\":{}}", "devices: absent or not an array");
	refused("{\"pcitsm_apply\":1,\"devices\":[],\"x\":1}", "unknown key \"x\"");
	refused("{\"pcitsm_apply\":1,\"devices\":[],\"unmatched\":\"disconnect\"}", "unmatched");
	refused(HEAD "1]}", "devices[0]: not an object");
	refused(HEAD "{\"connect\":true}]}", "devices[0].match: absent");
	refused(HEAD "{\"match\":{},\"connect\":true}]}", "devices[0].match: needs bdf");
	refused(HEAD "{\"match\":{\"device\":\"0x1\"},\"connect\":true}]}", "needs bdf, or vendor");
	refused(HEAD "{\"match\":{\"bdf\":\"0000:01:00.0\",\"vendor\":\"0x1\"},\"connect\":true}]}",
		"bdf or IDs, not both");
	refused(HEAD "{\"match\":{\"bdf\":\"0000:01:00.8\"},\"connect\":true}]}",
		"devices[0].match.bdf: not a PCI address");
	refused(HEAD "{\"match\":{\"bdf\":3},\"connect\":true}]}", "devices[0].match.bdf: not a string");
	refused(HEAD "{\"match\":{\"vendor\":\"0x10000\"},\"connect\":true}]}",
		"devices[0].match.vendor");
	refused(HEAD "{\"match\":{\"vendor\":\"7063\"},\"connect\":true}]}", "devices[0].match.vendor");
	refused(HEAD "{\"match\":{\"vendor\":\"0x7063\",\"class\":\"0x1000000\"},\"connect\":true}]}",
		"devices[0].match.class");
	refused(HEAD "{\"match\":{\"vendor\":\"0x7063\",\"class_mask\":\"0xff\"},\"connect\":true}]}",
		"devices[0].match.class_mask: given without class");
	refused(HEAD "{\"match\":{\"vendor\":\"0x7063\",\"class\":\"0x1\",\"class_mask\":\"0x0\"},"
		"\"connect\":true}]}",
		"class_mask: 0 would match");
	refused(HEAD "{" M_VENDOR "}]}", "neither connect nor tdisp");
	refused(HEAD "{" M_VENDOR ",\"connect\":false}]}", "neither connect nor tdisp");
	refused(HEAD "{" M_VENDOR ",\"connect\":1}]}", "devices[0].connect: not an object or true");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"tsm\":\"tsmx\"}}]}", "devices[0].connect.tsm");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"tsm\":\"tsm\"}}]}", "not a TSM name");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"x\":1}}]}", "devices[0].connect: unknown key");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"require\":{\"ide\":1}}}]}", "require.ide");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"require\":{\"spdm_version_min\":\"1.4\"}}}]}",
		"require.spdm_version_min");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"require\":{\"aead\":[]}}}]}", "require.aead: 1..4");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"require\":{\"aead\":[\"aes-256-gcm\","
		"\"aes-256-gcm\"]}}}]}",
		"require.aead[1]: named twice");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"require\":{\"base_hash\":[\"md5\"]}}}]}",
		"require.base_hash[0]: not an algorithm");
	refused(HEAD "{" M_VENDOR ",\"connect\":{\"require\":{\"root_hash\":\"00\"}}}]}",
		"require.root_hash: not 32, 48 or 64 bytes");
	refused(HEAD "{" M_VENDOR ",\"tdisp\":{}}]}", "devices[0].tdisp.state: absent");
	refused(HEAD "{" M_VENDOR ",\"tdisp\":{\"state\":\"CONFIG_UNLOCKED\"}}]}",
		"devices[0].tdisp.state: not RUN or CONFIG_LOCKED");
	refused(HEAD "{" M_VENDOR ",\"tdisp\":{\"state\":\"RUN\",\"policy\":\"p.json\"}}]}",
		"devices[0].tdisp.policy: not an absolute path");
	refused(HEAD "{" M_VENDOR ",\"tdisp\":{\"state\":\"CONFIG_LOCKED\",\"policy\":\"/p\"}}]}",
		"a policy is for accept");
	refused(HEAD "{\"name\":\"a b\"," M_VENDOR ",\"connect\":true}]}",
		"devices[0].name: character 1");
	refused(HEAD "{\"name\":\"a\"," M_VENDOR ",\"connect\":true},{\"name\":\"a\"," M_VENDOR
		     ",\"connect\":true}]}",
		"devices[1].name: \"a\" named twice");
}

static void test_limits(void **state)
{
	struct pcitsm_apply *a = calloc(1, sizeof(*a));
	size_t cap = PCITSM_APPLY_TEXT_MAX + 64;
	char *text = malloc(cap), why[200];
	size_t n;

	(void)state;
	assert_non_null(a);
	assert_non_null(text);
	/* One entry too many. */
	n = (size_t)snprintf(text, cap, HEAD);
	for (int i = 0; i <= PCITSM_APPLY_MAX_ENTRIES; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s{" M_VENDOR ",\"connect\":true}",
				      i ? "," : "");
	snprintf(text + n, cap - n, "]}");
	assert_err(parse(text, a, why), PCITSM_E_RANGE);
	assert_non_null(strstr(why, "at most 64"));
	/* Too large a file, whatever it holds. */
	memset(text, ' ', PCITSM_APPLY_TEXT_MAX + 1);
	assert_err(pcitsm_apply_parse(text, PCITSM_APPLY_TEXT_MAX + 1, a, why, sizeof(why)),
		   PCITSM_E_RANGE);
	/* A NUL inside. */
	assert_err(pcitsm_apply_parse("{\"pcitsm_apply\":1,\0", 19, a, why, sizeof(why)),
		   PCITSM_E_FIELD);
	assert_err(pcitsm_apply_parse(NULL, 1, a, why, sizeof(why)), PCITSM_E_INVAL);
	free(text);
	free(a);
}

static void test_match(void **state)
{
	static const char file[] =
		HEAD "{\"name\":\"one\",\"match\":{\"bdf\":\"0000:02:00.0\"},\"tdisp\":{\"state\":"
		     "\"RUN\",\"policy\":\"/etc/pcitsm/p.json\"}},"
		     "{\"name\":\"accel\",\"match\":{\"vendor\":\"0x7063\",\"class\":\"0x120000\","
		     "\"class_mask\":\"0xff0000\"},\"connect\":{\"tsm\":\"tsm0\",\"require\":{"
		     "\"spdm_version_min\":\"1.2\",\"dhe\":[\"secp384r1\"],\"ide\":false}}},"
		     "{\"match\":{\"vendor\":\"0x7063\",\"device\":\"0x0003\"},\"connect\":true}]}";
	struct pcitsm_apply *a = calloc(1, sizeof(*a));
	struct pcitsm_apply_ids id = { { 0, 2, 0, 0 }, 0x7063, 0x0002, 0x120000 };
	char why[200];

	(void)state;
	assert_non_null(a);
	assert_ok(parse(file, a, why));
	assert_int_equal(a->nr, 3);
	assert_string_equal(a->e[0].name, "one");
	assert_string_equal(a->e[2].name, "devices[2]");
	assert_int_equal(a->e[0].tdi, PCITSM_APPLY_TDI_RUN);
	assert_string_equal(a->e[0].policy, "/etc/pcitsm/p.json");
	assert_false(a->e[0].connect);
	assert_true(a->e[1].connect);
	assert_false(a->e[1].req.ide);
	assert_true(a->e[2].req.ide); /* the default */
	assert_int_equal(a->e[1].req.spdm_min, 0x12);
	assert_int_equal(a->e[1].req.nr_dhe, 1);
	assert_int_equal(a->e[1].req.dhe[0], PCITSM_DHE_SECP384R1);
	/* The first entry that matches wins: the address before the IDs. */
	assert_int_equal(pcitsm_apply_find(a, &id), 0);
	id.bdf.bus = 1;
	assert_int_equal(pcitsm_apply_find(a, &id), 1);
	/* The class mask: 0x12xxxx matches, 0x13xxxx does not; then the device ID entry. */
	id.class_code = 0x12ff01;
	assert_int_equal(pcitsm_apply_find(a, &id), 1);
	id.class_code = 0x130000;
	assert_int_equal(pcitsm_apply_find(a, &id), -1);
	id.device = 0x0003;
	assert_int_equal(pcitsm_apply_find(a, &id), 2);
	id.vendor = 0x1af4;
	assert_int_equal(pcitsm_apply_find(a, &id), -1);
	free(a);
}

static void test_require(void **state)
{
	struct pcitsm_apply_require r = { 0 };
	struct pcitsm_apply_seen s = { 0 };
	char why[200];

	(void)state;
	s.spdm_version = 0x13;
	s.asym = PCITSM_SIG_ECDSA_P384;
	s.hash = PCITSM_HASH_SHA384;
	s.dhe = PCITSM_DHE_SECP384R1;
	s.aead = PCITSM_AEAD_AES_256_GCM;
	assert_ok(pcitsm_apply_require_check(&r, &s, why, sizeof(why)));
	r.spdm_min = 0x12;
	assert_ok(pcitsm_apply_require_check(&r, &s, why, sizeof(why)));
	s.spdm_version = 0x11;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	assert_non_null(strstr(why, "spdm_version 1.1, at least 1.2"));
	s.spdm_version = 0;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	assert_non_null(strstr(why, "not shown"));
	s.spdm_version = 0x12;
	r.nr_asym = 1;
	r.asym[0] = PCITSM_SIG_ECDSA_P256;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	assert_non_null(strstr(why, "base_asym ecdsa-p384"));
	r.asym[1] = PCITSM_SIG_ECDSA_P384;
	r.nr_asym = 2;
	assert_ok(pcitsm_apply_require_check(&r, &s, why, sizeof(why)));
	r.nr_hash = 1;
	r.hash[0] = PCITSM_HASH_SHA512;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	r.hash[0] = PCITSM_HASH_SHA384;
	r.nr_dhe = 1;
	r.dhe[0] = PCITSM_DHE_SECP256R1;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	assert_non_null(strstr(why, "dhe secp384r1"));
	r.dhe[0] = PCITSM_DHE_SECP384R1;
	r.nr_aead = 1;
	r.aead[0] = PCITSM_AEAD_AES_128_GCM;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	r.aead[0] = PCITSM_AEAD_AES_256_GCM;
	assert_ok(pcitsm_apply_require_check(&r, &s, why, sizeof(why)));
	/* The root hash: absent, another, one byte off at the end, the same. */
	r.root_hash_len = 48;
	memset(r.root_hash, 0xab, 48);
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	assert_non_null(strstr(why, "root_hash not shown"));
	s.has_root_hash = true;
	s.root_hash_len = 48;
	memset(s.root_hash, 0xab, 48);
	s.root_hash[47] = 0xac;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
	assert_non_null(strstr(why, "root_hash differs"));
	s.root_hash[47] = 0xab;
	assert_ok(pcitsm_apply_require_check(&r, &s, why, sizeof(why)));
	s.root_hash_len = 32;
	assert_err(pcitsm_apply_require_check(&r, &s, why, sizeof(why)), PCITSM_E_MISMATCH);
}

static void test_chain_root_hash(void **state)
{
	uint8_t chain[4 + 48 + 8];
	struct pcitsm_apply_seen s;

	(void)state;
	memset(chain, 0x30, sizeof(chain));
	chain[0] = sizeof(chain);
	chain[1] = 0;
	for (unsigned i = 0; i < 48; i++)
		chain[4 + i] = (uint8_t)i;
	memset(&s, 0, sizeof(s));
	assert_ok(pcitsm_apply_chain_root_hash(chain, sizeof(chain), PCITSM_HASH_SHA384, &s));
	assert_true(s.has_root_hash);
	assert_int_equal(s.root_hash_len, 48);
	assert_int_equal(s.root_hash[47], 47);
	/* Short: the header, the hash cut. */
	memset(&s, 0, sizeof(s));
	assert_err(pcitsm_apply_chain_root_hash(chain, 3, PCITSM_HASH_SHA384, &s), PCITSM_E_SHORT);
	assert_err(pcitsm_apply_chain_root_hash(chain, 40, PCITSM_HASH_SHA384, &s), PCITSM_E_SHORT);
	/* Length that disagrees with the bytes (long and short), no certificate after the hash. */
	assert_err(pcitsm_apply_chain_root_hash(chain, sizeof(chain) - 1, PCITSM_HASH_SHA384, &s),
		   PCITSM_E_FIELD);
	chain[0] = 4 + 48;
	assert_err(pcitsm_apply_chain_root_hash(chain, 4 + 48, PCITSM_HASH_SHA384, &s),
		   PCITSM_E_FIELD);
	assert_false(s.has_root_hash);
	assert_err(pcitsm_apply_chain_root_hash(chain, sizeof(chain), PCITSM_HASH_NONE, &s),
		   PCITSM_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),     cmocka_unit_test(test_limits),
		cmocka_unit_test(test_match),        cmocka_unit_test(test_require),
		cmocka_unit_test(test_chain_root_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
