/* SPDX-License-Identifier: MIT */
/*
 * The PASID TLP Prefix codec (PCIe 6.x §6.20.2): known bytes both ways, every PASID bit and flag
 * in its place, and the refusals: another prefix type, reserved bits, a PASID over 20 bits, the
 * prefix on a TLP that is not a Memory Request, Execute Requested on a Memory Write.
 */
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

static void test_known_bytes(void **state)
{
	struct pcitsm_tlp_pasid x = { .pasid = 0xabcde, .priv = true, .exec = false }, y;
	const uint8_t want[4] = { 0x91, 0x8a, 0xbc, 0xde };
	uint8_t b[4];

	assert_ok(pcitsm_tlp_pasid_encode(&x, b));
	assert_memory_equal(b, want, 4);
	assert_ok(pcitsm_tlp_pasid_decode(b, &y));
	assert_int_equal(y.pasid, 0xabcde);
	assert_true(y.priv);
	assert_false(y.exec);
	x = (struct pcitsm_tlp_pasid){ .pasid = 1, .exec = true };
	assert_ok(pcitsm_tlp_pasid_encode(&x, b));
	assert_memory_equal(b, ((uint8_t[]){ 0x91, 0x40, 0x00, 0x01 }), 4);
}

/* Every bit of the PASID and both flags round-trip and land where the figure puts them. */
static void test_every_bit(void **state)
{
	for (int i = 0; i < 22; i++) {
		struct pcitsm_tlp_pasid x = { 0 }, y;
		uint8_t b[4];

		if (i < 20)
			x.pasid = 1u << i;
		x.priv = i == 20;
		x.exec = i == 21;
		assert_ok(pcitsm_tlp_pasid_encode(&x, b));
		assert_int_equal(b[0], PCITSM_TLP_PFX_PASID);
		assert_int_equal(b[1] & PCITSM_TLP_PASID_RSVD, 0);
		assert_int_equal((uint32_t)(b[1] & 0xf) << 16 | (uint32_t)b[2] << 8 | b[3], x.pasid);
		assert_ok(pcitsm_tlp_pasid_decode(b, &y));
		assert_int_equal(y.pasid, x.pasid);
		assert_int_equal(y.priv, x.priv);
		assert_int_equal(y.exec, x.exec);
	}
}

static void test_refused(void **state)
{
	struct pcitsm_tlp_pasid x = { .pasid = PCITSM_TLP_PASID_MAX + 1 }, y;
	uint8_t b[4] = { 0x91, 0x00, 0x12, 0x34 };

	assert_err(pcitsm_tlp_pasid_encode(&x, b), PCITSM_E_INVAL);
	x.pasid = PCITSM_TLP_PASID_MAX;
	assert_ok(pcitsm_tlp_pasid_encode(&x, b));
	assert_err(pcitsm_tlp_pasid_encode(NULL, b), PCITSM_E_INVAL);
	/* Another End-End prefix (the IDE prefix, 0x92), a Local prefix, a header byte. */
	for (unsigned v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		if (v != PCITSM_TLP_PFX_PASID)
			assert_err(pcitsm_tlp_pasid_decode(b, &y), PCITSM_E_FIELD);
	}
	b[0] = PCITSM_TLP_PFX_PASID;
	/* Reserved bits 5:4 of byte 1, each. */
	b[1] = 0x10;
	assert_err(pcitsm_tlp_pasid_decode(b, &y), PCITSM_E_RESERVED);
	b[1] = 0x20;
	assert_err(pcitsm_tlp_pasid_decode(b, &y), PCITSM_E_RESERVED);
	assert_int_equal(y.pasid, 0); /* nothing half-decoded */
	b[1] = 0xcf;
	b[2] = 0x12;
	b[3] = 0x34;
	assert_ok(pcitsm_tlp_pasid_decode(b, &y));
	assert_int_equal(y.pasid, 0xf1234);
	assert_true(y.priv && y.exec);
}

static void test_applies_to(void **state)
{
	struct pcitsm_tlp_pasid x = { .pasid = 7 };
	struct pcitsm_tlp t = { 0 };

	t.kind = PCITSM_TLP_MWR;
	assert_ok(pcitsm_tlp_pasid_check(&x, &t));
	t.kind = PCITSM_TLP_MRD;
	assert_ok(pcitsm_tlp_pasid_check(&x, &t));
	x.exec = true;
	assert_ok(pcitsm_tlp_pasid_check(&x, &t));
	t.kind = PCITSM_TLP_MWR;
	assert_err(pcitsm_tlp_pasid_check(&x, &t), PCITSM_E_FIELD);
	x.exec = false;
	for (int k = PCITSM_TLP_CFGRD1; k <= PCITSM_TLP_MSG; k++) {
		t.kind = (enum pcitsm_tlp_kind)k;
		assert_err(pcitsm_tlp_pasid_check(&x, &t), PCITSM_E_FIELD);
	}
	assert_err(pcitsm_tlp_pasid_check(NULL, &t), PCITSM_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_bytes),
		cmocka_unit_test(test_every_bit),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_applies_to),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
