/* SPDX-License-Identifier: MIT */
/* The example SVA device's descriptor and completion codec, its socket messages, and CRC-32C:
 * every field the device checks, one negative case each. */
#include "testutil.h"

#include <string.h>

#include "pcitsm/sva.h"
#include "sva/sva_priv.h"

static uint8_t comp_rec[64] __attribute__((aligned(32)));
static uint8_t bufa[4096], bufb[4096];

static struct pcitsm_sva_desc good(uint8_t op)
{
	struct pcitsm_sva_desc d = { .op = op, .pasid = 5, .len = 4096,
				     .completion = (uintptr_t)comp_rec };

	if (op != PCITSM_SVA_OP_FILL)
		d.src = (uintptr_t)bufa;
	if (op == PCITSM_SVA_OP_COPY || op == PCITSM_SVA_OP_COMPARE || op == PCITSM_SVA_OP_FILL)
		d.dst = (uintptr_t)bufb;
	if (op == PCITSM_SVA_OP_FILL)
		d.pattern = 0xa5a5a5a5a5a5a5a5ull;
	if (op == PCITSM_SVA_OP_CRC32C)
		d.pattern = 0xffffffffu;
	return d;
}

static pcitsm_err roundtrip(const struct pcitsm_sva_desc *d)
{
	uint8_t raw[PCITSM_SVA_DESC_SIZE];
	struct pcitsm_sva_desc out;

	pcitsm_sva_desc_encode(d, raw);
	return pcitsm_sva_desc_decode(raw, sizeof(raw), &out);
}

static void test_desc_good(void **state)
{
	uint8_t raw[PCITSM_SVA_DESC_SIZE];
	struct pcitsm_sva_desc d, out;

	(void)state;
	for (uint8_t op = PCITSM_SVA_OP_COPY; op <= PCITSM_SVA_OP_CRC32C; op++) {
		d = good(op);
		pcitsm_sva_desc_encode(&d, raw);
		assert_ok(pcitsm_sva_desc_decode(raw, sizeof(raw), &out));
		assert_int_equal(d.op, out.op);
		assert_int_equal(d.pasid, out.pasid);
		assert_int_equal(d.src, out.src);
		assert_int_equal(d.dst, out.dst);
		assert_int_equal(d.len, out.len);
		assert_int_equal(d.pattern, out.pattern);
		assert_int_equal(d.completion, out.completion);
	}
}

static void test_desc_size(void **state)
{
	uint8_t raw[PCITSM_SVA_DESC_SIZE + 1] = { 0 };
	struct pcitsm_sva_desc d = good(PCITSM_SVA_OP_COPY), out;

	(void)state;
	pcitsm_sva_desc_encode(&d, raw);
	assert_err(pcitsm_sva_desc_decode(raw, PCITSM_SVA_DESC_SIZE - 1, &out), PCITSM_E_SHORT);
	assert_err(pcitsm_sva_desc_decode(raw, PCITSM_SVA_DESC_SIZE + 1, &out), PCITSM_E_LONG);
	assert_err(pcitsm_sva_desc_decode(raw, 0, &out), PCITSM_E_SHORT);
}

static void test_desc_fields(void **state)
{
	uint8_t raw[PCITSM_SVA_DESC_SIZE];
	struct pcitsm_sva_desc d, out;

	(void)state;
	/* op */
	d = good(PCITSM_SVA_OP_COPY);
	d.op = 0;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d.op = 5;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	/* reserved bytes: 1..3 and 48..63 */
	for (size_t off = 1; off < PCITSM_SVA_DESC_SIZE; off = off == 3 ? 48 : off + 1) {
		d = good(PCITSM_SVA_OP_COPY);
		pcitsm_sva_desc_encode(&d, raw);
		raw[off] = 1;
		assert_err(pcitsm_sva_desc_decode(raw, sizeof(raw), &out), PCITSM_E_RESERVED);
	}
	/* PASID is 20 bits */
	d = good(PCITSM_SVA_OP_COPY);
	d.pasid = PCITSM_SVA_PASID_MAX + 1;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d.pasid = PCITSM_SVA_PASID_MAX;
	assert_ok(roundtrip(&d));
	/* fields the op does not use */
	d = good(PCITSM_SVA_OP_FILL);
	d.src = (uintptr_t)bufa;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d = good(PCITSM_SVA_OP_CRC32C);
	d.dst = (uintptr_t)bufb;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d = good(PCITSM_SVA_OP_CRC32C);
	d.pattern = 1ull << 32;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d = good(PCITSM_SVA_OP_COPY);
	d.pattern = 1;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	/* completion alignment and presence */
	d = good(PCITSM_SVA_OP_COPY);
	d.completion += 8;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d.completion = 0;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	/* overlapping copy */
	d = good(PCITSM_SVA_OP_COPY);
	d.dst = d.src + 100;
	assert_err(roundtrip(&d), PCITSM_E_FIELD);
	d.dst = d.src + 4096; /* adjacent is fine */
	assert_ok(roundtrip(&d));
}

static void test_desc_bounds(void **state)
{
	struct pcitsm_sva_desc d;

	(void)state;
	d = good(PCITSM_SVA_OP_COPY);
	d.len = 0;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	d.len = PCITSM_SVA_LEN_MAX + 1;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	/* a range past the user address space, or wrapping */
	d = good(PCITSM_SVA_OP_COPY);
	d.dst = PCITSM_SVA_VA_LIMIT - 100;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	d.dst = UINT64_MAX - 10;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	d = good(PCITSM_SVA_OP_CRC32C);
	d.src = 0;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	d = good(PCITSM_SVA_OP_COPY);
	d.completion = PCITSM_SVA_VA_LIMIT - 16;
	assert_err(roundtrip(&d), PCITSM_E_FIELD); /* misaligned first */
	d.completion = PCITSM_SVA_VA_LIMIT;
	assert_err(roundtrip(&d), PCITSM_E_RANGE);
	d = good(PCITSM_SVA_OP_COPY);
	d.src = PCITSM_SVA_VA_LIMIT - 4096;
	assert_ok(roundtrip(&d));
}

static void test_comp(void **state)
{
	struct pcitsm_sva_comp c = { .status = PCITSM_SVA_ST_FAULT, .fault_flags = 1, .crc = 7,
				     .bytes_done = 4096, .fault_addr = 0x1000, .diff_offset = 3 },
			       out;
	uint8_t raw[PCITSM_SVA_COMP_SIZE + 1] = { 0 };

	(void)state;
	pcitsm_sva_comp_encode(&c, raw);
	assert_ok(pcitsm_sva_comp_decode(raw, PCITSM_SVA_COMP_SIZE, &out));
	assert_int_equal(out.status, c.status);
	assert_int_equal(out.fault_flags, c.fault_flags);
	assert_int_equal(out.crc, c.crc);
	assert_int_equal(out.bytes_done, c.bytes_done);
	assert_int_equal(out.fault_addr, c.fault_addr);
	assert_int_equal(out.diff_offset, c.diff_offset);
	assert_err(pcitsm_sva_comp_decode(raw, PCITSM_SVA_COMP_SIZE - 1, &out), PCITSM_E_SHORT);
	assert_err(pcitsm_sva_comp_decode(raw, PCITSM_SVA_COMP_SIZE + 1, &out), PCITSM_E_LONG);
	raw[2] = 1;
	assert_err(pcitsm_sva_comp_decode(raw, PCITSM_SVA_COMP_SIZE, &out), PCITSM_E_RESERVED);
	assert_string_equal(pcitsm_sva_status_name(PCITSM_SVA_ST_BAD_PASID), "bad PASID");
	assert_string_equal(pcitsm_sva_status_name(0x7f), "unknown");
}

static void test_proto(void **state)
{
	uint8_t q[SVA_REQ_SIZE + 1] = { 0 }, p[SVA_REP_SIZE + 1] = { 0 };
	struct sva_req req;
	struct sva_rep rep;

	(void)state;
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND, .index = 3 }, q);
	assert_ok(sva_req_decode(q, SVA_REQ_SIZE, &req));
	assert_int_equal(req.op, SVA_OP_BIND);
	assert_int_equal(req.index, 3);
	assert_err(sva_req_decode(q, SVA_REQ_SIZE - 1, &req), PCITSM_E_SHORT);
	assert_err(sva_req_decode(q, SVA_REQ_SIZE + 1, &req), PCITSM_E_LONG);
	q[1] = 2;
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_VERSION);
	q[1] = SVA_PROTO_VERSION;
	q[0] = 9;
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_FIELD);
	q[0] = SVA_OP_BIND;
	q[7] = 1;
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_RESERVED);
	/* a length only on REGISTER, and there whole pages up to the largest transfer */
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND, .length = 4096 }, q);
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_FIELD);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_REGISTER, .length = 8192 }, q);
	assert_ok(sva_req_decode(q, SVA_REQ_SIZE, &req));
	assert_int_equal(req.length, 8192);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_REGISTER, .length = 0 }, q);
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_FIELD);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_REGISTER, .length = 4097 }, q);
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_FIELD);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_REGISTER, .length = PCITSM_SVA_LEN_MAX + 4096 }, q);
	assert_err(sva_req_decode(q, SVA_REQ_SIZE, &req), PCITSM_E_FIELD);

	sva_rep_encode(&(struct sva_rep){ .op = SVA_OP_BIND | 0x80, .pasid = 9, .map_size = 4096,
					  .iova = 1ull << 32 },
		       p);
	assert_ok(sva_rep_decode(p, SVA_REP_SIZE, &rep));
	assert_int_equal(rep.pasid, 9);
	assert_int_equal(rep.iova, 1ull << 32);
	p[2] = 1;
	assert_err(sva_rep_decode(p, SVA_REP_SIZE, &rep), PCITSM_E_RESERVED);
	p[2] = 0;
	assert_err(sva_rep_decode(p, SVA_REP_SIZE - 1, &rep), PCITSM_E_SHORT);
	assert_err(sva_rep_decode(p, SVA_REP_SIZE + 1, &rep), PCITSM_E_LONG);
	sva_rep_encode(&(struct sva_rep){ .op = SVA_OP_BIND | 0x80, .pasid = PCITSM_SVA_PASID_MAX + 1 },
		       p);
	assert_err(sva_rep_decode(p, SVA_REP_SIZE, &rep), PCITSM_E_FIELD);
	sva_rep_encode(&(struct sva_rep){ .op = SVA_OP_BIND }, p);
	assert_err(sva_rep_decode(p, SVA_REP_SIZE, &rep), PCITSM_E_FIELD);
	sva_rep_encode(&(struct sva_rep){ .op = 4 | 0x80 }, p);
	assert_err(sva_rep_decode(p, SVA_REP_SIZE, &rep), PCITSM_E_FIELD);
}

static void test_crc32c(void **state)
{
	static const char check[] = "123456789";
	uint8_t big[1000];

	(void)state;
	/* The CRC-32C check value (RFC 3720 B.4 family: 0xe3069283 for "123456789"). */
	assert_int_equal(pcitsm_crc32c(0, check, 9), 0xe3069283u);
	/* 32 bytes of zeros: RFC 3720 DSP0274 1.3 NEGOTIATE_ALGORITHMS gives aa 36 91 8a, i.e.
	 * 0x8a9136aa */
	memset(big, 0, 32);
	assert_int_equal(pcitsm_crc32c(0, big, 32), 0x8a9136aau);
	/* incremental equals one shot */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	assert_int_equal(pcitsm_crc32c(pcitsm_crc32c(0, big, 333), big + 333, sizeof(big) - 333),
			 pcitsm_crc32c(0, big, sizeof(big)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desc_good),   cmocka_unit_test(test_desc_size),
		cmocka_unit_test(test_desc_fields), cmocka_unit_test(test_desc_bounds),
		cmocka_unit_test(test_comp),        cmocka_unit_test(test_proto),
		cmocka_unit_test(test_crc32c),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
