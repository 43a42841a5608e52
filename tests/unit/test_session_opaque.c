/* SPDX-License-Identifier: MIT */
/*
 * Secured-message version negotiation in KEY_EXCHANGE opaque data (session.h, DSP0277 version
 * negotiation in the opaque data): two wire examples byte for byte, both header formats, selection
 * rules, and strict parsing (reserved bytes, padding, element counts, duplicates, truncation at
 * every length, elements of other registries and other SMDataIDs).
 */
#include <string.h>

#include "pcitsm/session.h"
#include "testutil.h"

/* DSP0277 opaque data: KEY_EXCHANGE with one version (1.1), KEY_EXCHANGE_RSP selecting 1.1 */
static const uint8_t ex_supported[] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
					0x01, 0x01, 0x01, 0x00, 0x11, 0x00, 0x00, 0x00 };
static const uint8_t ex_selection[] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
					0x01, 0x00, 0x00, 0x11 };

static void test_facts_examples(void **state)
{
	static const uint16_t v11 = PCITSM_SM_V11;
	uint8_t out[PCITSM_SM_OPAQUE_MAX];
	uint16_t versions[PCITSM_SM_MAX_VERSIONS], sel;
	size_t n;

	(void)state;
	assert_ok(pcitsm_sm_opaque_supported_encode(0x12, &v11, 1, out, sizeof(out), &n));
	assert_int_equal(n, sizeof(ex_supported));
	assert_memory_equal(out, ex_supported, n);
	assert_ok(pcitsm_sm_opaque_selection_encode(0x12, PCITSM_SM_V11, out, sizeof(out), &n));
	assert_int_equal(n, sizeof(ex_selection));
	assert_memory_equal(out, ex_selection, n);

	assert_ok(pcitsm_sm_opaque_supported_parse(0x13, ex_supported, sizeof(ex_supported),
						   versions, PCITSM_SM_MAX_VERSIONS, &n));
	assert_int_equal(n, 1);
	assert_int_equal(versions[0], PCITSM_SM_V11);
	assert_ok(pcitsm_sm_opaque_selection_parse(0x12, ex_selection, sizeof(ex_selection),
						   pcitsm_sm_versions, pcitsm_sm_nr_versions,
						   &sel));
	assert_int_equal(sel, PCITSM_SM_V11);
}

/* Requester offers ours, responder parses and selects, requester checks; for both formats. */
static void test_negotiation(void **state)
{
	static const uint8_t spdm[] = { 0x11, 0x12, 0x13 };
	uint8_t ke[PCITSM_SM_OPAQUE_MAX], rsp[PCITSM_SM_OPAQUE_MAX];
	uint16_t versions[PCITSM_SM_MAX_VERSIONS], sel, got;
	size_t ke_len, rsp_len, n;

	(void)state;
	for (size_t i = 0; i < sizeof(spdm); i++) {
		assert_ok(pcitsm_sm_opaque_supported_encode(spdm[i], pcitsm_sm_versions,
							    pcitsm_sm_nr_versions, ke, sizeof(ke),
							    &ke_len));
		assert_int_equal(ke_len % 4, 0);
		assert_ok(pcitsm_sm_opaque_supported_parse(spdm[i], ke, ke_len, versions,
							   PCITSM_SM_MAX_VERSIONS, &n));
		assert_int_equal(n, pcitsm_sm_nr_versions);
		assert_ok(pcitsm_sm_version_select(versions, n, &sel));
		assert_int_equal(sel, PCITSM_SM_V12);
		assert_ok(pcitsm_sm_opaque_selection_encode(spdm[i], sel, rsp, sizeof(rsp),
							    &rsp_len));
		assert_ok(pcitsm_sm_opaque_selection_parse(spdm[i], rsp, rsp_len,
							   pcitsm_sm_versions,
							   pcitsm_sm_nr_versions, &got));
		assert_int_equal(got, PCITSM_SM_V12);
	}
	/* SPDM 1.1 uses the DSP0277 header: "DMTF", OpaqueVersion 1 */
	assert_ok(pcitsm_sm_opaque_selection_encode(0x11, PCITSM_SM_V11, rsp, sizeof(rsp),
						    &rsp_len));
	assert_int_equal(rsp_len, 16);
	assert_memory_equal(rsp, "\x46\x54\x4d\x44\x01\x01\x00\x00", 8);
	/* ... which a 1.2 parser refuses, and the reverse */
	assert_err(pcitsm_sm_opaque_selection_parse(0x12, rsp, rsp_len, pcitsm_sm_versions,
						    pcitsm_sm_nr_versions, &got),
		   PCITSM_E_RESERVED);
	assert_err(pcitsm_sm_opaque_selection_parse(0x11, ex_selection, sizeof(ex_selection),
						    pcitsm_sm_versions, pcitsm_sm_nr_versions,
						    &got),
		   PCITSM_E_FIELD);
}

static void test_select(void **state)
{
	static const uint16_t only10_13[] = { PCITSM_SM_V10, PCITSM_SM_V13 };
	static const uint16_t with_update[] = { 0x1000, 0x1105 };
	static const uint16_t v12 = PCITSM_SM_V12;
	uint16_t sel;
	uint8_t out[PCITSM_SM_OPAQUE_MAX];
	size_t n;

	(void)state;
	assert_err(pcitsm_sm_version_select(only10_13, 2, &sel), PCITSM_E_VERSION);
	assert_err(pcitsm_sm_version_select(NULL, 0, &sel), PCITSM_E_VERSION);
	/* update/alpha bits do not matter; we answer with ours */
	assert_ok(pcitsm_sm_version_select(with_update, 2, &sel));
	assert_int_equal(sel, PCITSM_SM_V11);
	/* a selection the requester did not offer */
	assert_ok(pcitsm_sm_opaque_selection_encode(0x12, PCITSM_SM_V13, out, sizeof(out), &n));
	assert_err(pcitsm_sm_opaque_selection_parse(0x12, out, n, pcitsm_sm_versions,
						    pcitsm_sm_nr_versions, &sel),
		   PCITSM_E_VERSION);
	assert_ok(pcitsm_sm_opaque_selection_encode(0x12, PCITSM_SM_V11, out, sizeof(out), &n));
	assert_err(pcitsm_sm_opaque_selection_parse(0x12, out, n, &v12, 1, &sel),
		   PCITSM_E_VERSION);
}

static pcitsm_err parse_supported(const uint8_t *p, size_t len)
{
	uint16_t v[PCITSM_SM_MAX_VERSIONS];
	size_t n;

	return pcitsm_sm_opaque_supported_parse(0x12, p, len, v, PCITSM_SM_MAX_VERSIONS, &n);
}

static pcitsm_err parse_selection(const uint8_t *p, size_t len)
{
	uint16_t v;

	return pcitsm_sm_opaque_selection_parse(0x12, p, len, pcitsm_sm_versions,
						pcitsm_sm_nr_versions, &v);
}

static void test_strict(void **state)
{
	uint8_t b[64];

	(void)state;
	/* every truncation */
	for (size_t n = 0; n < sizeof(ex_supported); n++)
		assert_err(parse_supported(ex_supported, n), PCITSM_E_SHORT);
	/* trailing bytes: read as another element, which does not fit */
	memcpy(b, ex_supported, 16);
	memset(b + 16, 0, 4);
	assert_err(parse_supported(b, 20), PCITSM_E_LONG); /* TotalElements 1, more bytes */
	b[0] = 2;
	assert_err(parse_supported(b, 20), PCITSM_E_SHORT); /* second element has no SMDataVersion */
	/* reserved header bytes, padding */
	memcpy(b, ex_supported, 16);
	b[2] = 1;
	assert_err(parse_supported(b, 16), PCITSM_E_RESERVED);
	memcpy(b, ex_supported, 16);
	b[15] = 1;
	assert_err(parse_supported(b, 16), PCITSM_E_RESERVED);
	/* TotalElements 0 or 2 with one element; none at all */
	memcpy(b, ex_supported, 16);
	b[0] = 0;
	assert_err(parse_supported(b, 16), PCITSM_E_LONG);
	assert_err(parse_supported(b, 4), PCITSM_E_FIELD);
	b[0] = 2;
	assert_err(parse_supported(b, 16), PCITSM_E_SHORT);
	/* DMTF element with a VendorLen */
	memcpy(b, ex_supported, 16);
	b[5] = 1;
	assert_err(parse_supported(b, 16), PCITSM_E_FIELD);
	/* SMDataVersion 2 */
	memcpy(b, ex_supported, 16);
	b[8] = 2;
	assert_err(parse_supported(b, 16), PCITSM_E_FIELD);
	/* VersionCount 0, or more than the data holds */
	memcpy(b, ex_supported, 16);
	b[10] = 0;
	assert_err(parse_supported(b, 16), PCITSM_E_FIELD);
	b[10] = 2;
	assert_err(parse_supported(b, 16), PCITSM_E_SHORT);
	/* DataLen one more than the versions need */
	memcpy(b, ex_supported, 16);
	b[6] = 6;
	assert_err(parse_supported(b, 16), PCITSM_E_LONG);
	/* the selection element where a version list is wanted, and the reverse */
	assert_err(parse_supported(ex_selection, sizeof(ex_selection)), PCITSM_E_FIELD);
	assert_err(parse_selection(ex_supported, sizeof(ex_supported)), PCITSM_E_FIELD);
	/* a selection with an extra byte of data */
	memcpy(b, ex_selection, 12);
	b[6] = 5;
	memset(b + 12, 0, 4);
	assert_err(parse_selection(b, 16), PCITSM_E_LONG);
	/* two version lists */
	b[0] = 2, b[1] = b[2] = b[3] = 0;
	memcpy(b + 4, ex_supported + 4, 12);
	memcpy(b + 16, ex_supported + 4, 12);
	assert_err(parse_supported(b, 16), PCITSM_E_SHORT);
	assert_err(parse_supported(b, 28), PCITSM_E_FIELD);
	b[0] = 1;
	assert_ok(parse_supported(b, 16));
	/* more versions than the caller keeps */
	{
		uint16_t v[1];
		size_t n;
		uint8_t ke[PCITSM_SM_OPAQUE_MAX];
		size_t len;

		assert_ok(pcitsm_sm_opaque_supported_encode(0x12, pcitsm_sm_versions, 2, ke,
							    sizeof(ke), &len));
		assert_err(pcitsm_sm_opaque_supported_parse(0x12, ke, len, v, 1, &n),
			   PCITSM_E_FIELD);
		assert_err(pcitsm_sm_opaque_supported_encode(0x10, pcitsm_sm_versions, 2, ke,
							     sizeof(ke), &len), PCITSM_E_INVAL);
		assert_err(pcitsm_sm_opaque_supported_encode(0x12, pcitsm_sm_versions, 0, ke,
							     sizeof(ke), &len), PCITSM_E_INVAL);
		assert_err(pcitsm_sm_opaque_supported_encode(0x12, pcitsm_sm_versions, 2, ke,
							     15, &len), PCITSM_E_NOSPC);
	}
}

/* Elements of other registries and other secured-message data are checked, then skipped. */
static void test_other_elements(void **state)
{
	uint8_t b[64];
	size_t n = 0;

	(void)state;
	b[n++] = 3, b[n++] = 0, b[n++] = 0, b[n++] = 0; /* TotalElements 3 */
	/* registry 3 (PCI-SIG), VendorLen 2, VendorID 0x0001, DataLen 3, data, 1 pad */
	memcpy(b + n, "\x03\x02\x01\x00\x03\x00\xaa\xbb\xcc\x00", 10), n += 10;
	memset(b + n, 0, 2), n += 2; /* padded to 12 */
	/* DMTF AEAD limit (SMDataID 2), exponent 40 */
	memcpy(b + n, "\x00\x00\x03\x00\x01\x02\x28\x00", 8), n += 8;
	memcpy(b + n, ex_supported + 4, 12), n += 12;
	assert_ok(parse_supported(b, n));
	/* a non-zero pad byte of the vendor element */
	b[4 + 11] = 1;
	assert_err(parse_supported(b, n), PCITSM_E_RESERVED);
	b[4 + 11] = 0;
	/* AEAD limit over 64 */
	b[4 + 12 + 6] = 65;
	assert_err(parse_supported(b, n), PCITSM_E_FIELD);
	b[4 + 12 + 6] = 64;
	assert_ok(parse_supported(b, n));
	/* only the other elements: no version list */
	b[0] = 2;
	assert_err(parse_supported(b, n - 12), PCITSM_E_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_examples),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_other_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
