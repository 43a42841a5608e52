/* SPDX-License-Identifier: MIT */
/*
 * SPDM responder: the right ERROR for every malformed or out-of-order request, and thousands of
 * mutated requests followed by a full authentication on the same responder.
 */
#include "test_spdm_fixture.h"

static const uint8_t get_version[] = { 0x10, 0x84, 0, 0 };
/* 1.3 GET_CAPABILITIES: CT 2^20, no flags, DataTransferSize = MaxSPDMmsgSize = 4096. */
static const uint8_t get_caps13[] = { 0x13, 0xe1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0,
				      0x00, 0x10, 0, 0, 0x00, 0x10, 0, 0 };
/* 1.3 NEGOTIATE_ALGORITHMS: Length 32, DMTF, Fmt1, P-256|P-384, SHA-256/384/512. */
static const uint8_t neg_algs13[32] = { 0x13, 0xe3, 0, 0, 32, 0, 0x01, 0x02, 0x90, 0, 0, 0,
					0x07, 0, 0, 0 };

static uint8_t rsp_buf[8192];

/* Send req and expect an ERROR with code (and data when data >= 0). */
static void expect_error(struct fx *f, const uint8_t *req, size_t len, uint8_t code, int data)
{
	size_t n = fx_rsp(f, req, len, rsp_buf, sizeof(rsp_buf));

	assert_int_equal(n, 4);
	assert_int_equal(rsp_buf[1], PCITSM_SPDM_ERROR);
	if (rsp_buf[2] != code)
		fail_msg("got ERROR %s, want %s", pcitsm_spdm_error_name(rsp_buf[2]),
			 pcitsm_spdm_error_name(code));
	if (data >= 0)
		assert_int_equal(rsp_buf[3], data);
}

static void expect_ok(struct fx *f, const uint8_t *req, size_t len)
{
	size_t n = fx_rsp(f, req, len, rsp_buf, sizeof(rsp_buf));

	assert_true(n >= 4);
	if (rsp_buf[1] != (req[1] & 0x7f))
		fail_msg("%s answered %s %s", pcitsm_spdm_code_name(req[1]),
			 pcitsm_spdm_code_name(rsp_buf[1]), pcitsm_spdm_error_name(rsp_buf[2]));
}

static void vca13(struct fx *f)
{
	expect_ok(f, get_version, sizeof(get_version));
	expect_ok(f, get_caps13, sizeof(get_caps13));
	expect_ok(f, neg_algs13, sizeof(neg_algs13));
}

static void errors_before_version(void **state)
{
	struct fx *f = fx_new("p256");
	static const uint8_t v12[] = { 0x12, 0x84, 0, 0 };
	static const uint8_t long_gv[] = { 0x10, 0x84, 0, 0, 0, 0, 0, 0 };
	static const uint8_t rsvd_gv[] = { 0x10, 0x84, 1, 0 };
	static const uint8_t digests[] = { 0x13, 0x81, 0, 0 };

	fx_start(f);
	expect_error(f, get_caps13, sizeof(get_caps13), PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	expect_error(f, digests, sizeof(digests), PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	expect_error(f, get_version, 3, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_error(f, get_version, 0, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_error(f, v12, sizeof(v12), PCITSM_SPDM_ERR_VERSION_MISMATCH, 0);
	expect_error(f, long_gv, sizeof(long_gv), PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_error(f, rsvd_gv, sizeof(rsvd_gv), PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	/* ERROR before a version is negotiated carries 0x10. */
	assert_int_equal(rsp_buf[0], 0x10);
	/* VERSION lists 1.0-1.3 as u16 entries. */
	expect_ok(f, get_version, sizeof(get_version));
	assert_int_equal(rsp_buf[5], 4);
	assert_int_equal(rsp_buf[6 + 2 * 3 + 1], 0x13);
	fx_free(f);
}

static void errors_vca(void **state)
{
	struct fx *f = fx_new("p256");
	uint8_t req[64];

	fx_start(f);
	expect_ok(f, get_version, sizeof(get_version));
	expect_error(f, neg_algs13, sizeof(neg_algs13), PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	memcpy(req, get_caps13, sizeof(get_caps13));
	req[0] = 0x15;
	expect_error(f, req, sizeof(get_caps13), PCITSM_SPDM_ERR_VERSION_MISMATCH, 0);
	req[0] = 0x13;
	req[12] = 41, req[13] = 0; /* DataTransferSize below 42 */
	expect_error(f, req, sizeof(get_caps13), PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	memcpy(req, get_caps13, sizeof(get_caps13));
	req[8] = PCITSM_SPDM_CAP_CACHE; /* a responder-only flag */
	expect_error(f, req, sizeof(get_caps13), PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_error(f, get_caps13, sizeof(get_caps13) - 1, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_ok(f, get_caps13, sizeof(get_caps13));
	assert_int_equal(rsp_buf[0], 0x13);
	expect_error(f, get_caps13, sizeof(get_caps13), PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	/* NEGOTIATE_ALGORITHMS: wrong Length; AlgStructs out of order; bad AlgCount. */
	memcpy(req, neg_algs13, sizeof(neg_algs13));
	req[4] = 36;
	expect_error(f, req, sizeof(neg_algs13), PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	memcpy(req, neg_algs13, sizeof(neg_algs13));
	req[2] = 2, req[4] = 40;
	memcpy(req + 32, (const uint8_t[]){ 5, 0x20, 1, 0, 2, 0x20, 0x08, 0 }, 8);
	expect_error(f, req, 40, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	memcpy(req + 32, (const uint8_t[]){ 2, 0x30, 0x08, 0, 5, 0x20, 1, 0 }, 8);
	expect_error(f, req, 40, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	/* Well-formed AlgStructs: the responder answers each with zero (it supports none). */
	memcpy(req + 32, (const uint8_t[]){ 2, 0x20, 0x08, 0, 5, 0x20, 1, 0 }, 8);
	expect_ok(f, req, 40);
	assert_int_equal(rsp_buf[2], 2);
	fx_free(f);
}

static void errors_negotiated(void **state)
{
	struct fx *f = fx_new("p384");
	uint8_t req[64] = { 0x13 };

	fx_start(f);
	vca13(f);
	req[1] = 0x81, req[2] = 0;
	expect_ok(f, req, 4);
	req[0] = 0x12;
	expect_error(f, req, 4, PCITSM_SPDM_ERR_VERSION_MISMATCH, 0);
	req[0] = 0x13;
	req[2] = 1; /* GET_DIGESTS params are reserved */
	expect_error(f, req, 4, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	req[2] = 0;
	req[1] = PCITSM_SPDM_KEY_EXCHANGE;
	expect_error(f, req, 4, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, PCITSM_SPDM_KEY_EXCHANGE);
	req[1] = 0x99;
	expect_error(f, req, 4, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, 0x99);
	req[1] = PCITSM_SPDM_GET_CAPABILITIES;
	expect_error(f, req, 20, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	/* CHALLENGE: slot 3 (unprovisioned), summary type 2, short. */
	memset(req + 1, 0, 43);
	req[1] = PCITSM_SPDM_CHALLENGE;
	req[2] = 3;
	expect_error(f, req, 44, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	req[2] = 0, req[3] = 2;
	expect_error(f, req, 44, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	req[3] = 0;
	expect_error(f, req, 36, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_ok(f, req, 44);
	/* GET_CERTIFICATE: slot 1, offset past the end, length 0. */
	memcpy(req, (const uint8_t[]){ 0x13, 0x82, 1, 0, 0, 0, 0, 4 }, 8);
	expect_error(f, req, 8, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	memcpy(req, (const uint8_t[]){ 0x13, 0x82, 0, 0, 0xff, 0xf0, 0, 4 }, 8);
	expect_error(f, req, 8, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	memcpy(req, (const uint8_t[]){ 0x13, 0x82, 0, 0, 0, 0, 0, 0 }, 8);
	expect_error(f, req, 8, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	/* 1.3 SlotSizeRequested: no bytes, the size as RemainderLength. */
	memcpy(req, (const uint8_t[]){ 0x13, 0x82, 0, 1, 0, 0, 0, 0 }, 8);
	expect_ok(f, req, 8);
	assert_int_equal(pcitsm_get_le16(rsp_buf + 4), 0);
	assert_int_equal(pcitsm_get_le16(rsp_buf + 6), 4 + f->rsp.hash_len + f->id.chain_len);
	/* GET_MEASUREMENTS: a missing index, a reserved attribute bit, a reserved slot bit. */
	memset(req, 0, sizeof(req));
	memcpy(req, (const uint8_t[]){ 0x13, 0xe0, 0x00, 0x77 }, 4);
	expect_error(f, req, 12, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	req[2] = 0x08, req[3] = 0xff;
	expect_error(f, req, 12, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	req[2] = 0x01, req[36] = 0x10;
	expect_error(f, req, 45, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	req[36] = 0;
	expect_ok(f, req, 45);
	req[2] = 0, req[3] = 0; /* count only */
	expect_ok(f, req, 12);
	assert_int_equal(rsp_buf[2], f->id.nr_meas);
	/* RESPOND_IF_READY with nothing pending. */
	memcpy(req, (const uint8_t[]){ 0x13, 0xff, 0x83, 0 }, 4);
	expect_error(f, req, 4, PCITSM_SPDM_ERR_NO_PENDING_REQUESTS, 0);
	/* GET_VERSION starts over: the old version's requests are now unexpected. */
	expect_ok(f, get_version, sizeof(get_version));
	memcpy(req, (const uint8_t[]){ 0x13, 0x81, 0, 0 }, 4);
	expect_error(f, req, 4, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	fx_free(f);
}

static void errors_caps_and_sizes(void **state)
{
	struct fx *f = fx_new("p256");
	uint8_t req[64] = { 0x13, 0xe0, 0x00, 0xff };
	uint8_t caps[20];

	f->ro.caps = PCITSM_SPDM_CAP_CERT | PCITSM_SPDM_CAP_CHAL;
	fx_start(f);
	vca13(f);
	expect_error(f, req, 12, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, 0xe0);
	memset(req, 0, sizeof(req));
	memcpy(req, (const uint8_t[]){ 0x13, 0x83, 0, 1 }, 4); /* summary needs MEAS_CAP */
	expect_error(f, req, 44, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	pcitsm_spdm_rsp_free(&f->rsp);

	/* A requester whose DataTransferSize is 64: every block at once does not fit. */
	pcitsm_spdm_rsp_opts_default(&f->ro);
	fx_start(f);
	memcpy(caps, get_caps13, sizeof(caps));
	caps[12] = 64, caps[13] = 0, caps[16] = 64, caps[17] = 0;
	expect_ok(f, get_version, sizeof(get_version));
	expect_ok(f, caps, sizeof(caps));
	expect_ok(f, neg_algs13, sizeof(neg_algs13));
	memset(req, 0, sizeof(req));
	memcpy(req, (const uint8_t[]){ 0x13, 0xe0, 0x01, 0xff }, 4);
	expect_error(f, req, 45, PCITSM_SPDM_ERR_RESPONSE_TOO_LARGE, 0);
	/* Certificates come in portions of at most 64 - 8 bytes. */
	memcpy(req, (const uint8_t[]){ 0x13, 0x82, 0, 0, 0, 0, 0, 4 }, 8);
	expect_ok(f, req, 8);
	assert_int_equal(pcitsm_get_le16(rsp_buf + 4), 56);
	fx_free(f);
}

static void errors_v12(void **state)
{
	struct fx *f = fx_new("p256");
	uint8_t caps[20], algs[32], req[40] = { 0x12, 0xff, 0x83, 0 };

	fx_start(f);
	memcpy(caps, get_caps13, sizeof(caps));
	memcpy(algs, neg_algs13, sizeof(algs));
	caps[0] = algs[0] = 0x12;
	expect_ok(f, get_version, sizeof(get_version));
	expect_ok(f, caps, sizeof(caps));
	expect_ok(f, algs, sizeof(algs));
	expect_error(f, req, 4, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0);
	/* 1.2 CHALLENGE is 36 bytes: the 1.3 size is too long. */
	memset(req, 0, sizeof(req));
	memcpy(req, (const uint8_t[]){ 0x12, 0x83, 0, 0 }, 4);
	expect_error(f, req, 40, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);
	expect_ok(f, req, 36);
	fx_free(f);
}

/* ---------------------------------------------------------------------------------------------
 * Mutation: record the requests of a real authentication, replay thousands of mutated ones (and
 * out-of-order originals), check every answer is the request's response or a known ERROR, then
 * authenticate on the same responder.
 */
struct rec {
	struct pcitsm_xport x;
	struct pcitsm_xport *inner;
	uint8_t req[32][256];
	size_t len[32];
	unsigned n;
};

static pcitsm_err rec_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
			       const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
			       size_t *rsp_len)
{
	struct rec *r = pcitsm_container_of(x, struct rec, x);

	if (r->n < 32 && req_len <= 256) {
		memcpy(r->req[r->n], req, req_len);
		r->len[r->n++] = req_len;
	}
	return pcitsm_xport_exchange(r->inner, vid, type, req, req_len, rsp, rsp_cap, rsp_len);
}

static const struct pcitsm_xport_ops rec_ops = { .exchange = rec_exchange };

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool known_error(uint8_t code)
{
	return strcmp(pcitsm_spdm_error_name(code), "Reserved") != 0;
}

static void mutate(uint8_t *p, size_t *len, uint64_t *s)
{
	unsigned k = (unsigned)(xorshift(s) % 6);

	switch (k) {
	case 0: /* flip bits */
		for (unsigned i = 0; i < 1 + xorshift(s) % 3; i++)
			p[xorshift(s) % *len] ^= (uint8_t)(1u << (xorshift(s) % 8));
		break;
	case 1: /* random byte */
		p[xorshift(s) % *len] = (uint8_t)xorshift(s);
		break;
	case 2: /* truncate */
		*len = (size_t)(xorshift(s) % *len);
		break;
	case 3: /* extend */
		for (unsigned i = 0, n = 1 + xorshift(s) % 8; i < n; i++)
			p[(*len)++] = (uint8_t)xorshift(s);
		break;
	case 4: /* another code */
		if (*len > 1)
			p[1] = (uint8_t)(0x80 | xorshift(s));
		break;
	default: /* params */
		if (*len > 3)
			p[2 + xorshift(s) % 2] = (uint8_t)xorshift(s);
		break;
	}
}

static void mutated_requests_then_auth(void **state)
{
	struct fx *f = fx_new("p256");
	struct rec rec = { .x = { .ops = &rec_ops, .name = "rec" } };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned errors = 0, answers = 0;
	uint8_t req[300];

	fx_start(f);
	rec.inner = &f->loop.x;
	assert_ok(pcitsm_spdm_drv_authenticate(&rec.x, &f->ao, &f->res));
	assert_true(rec.n >= 7);
	for (unsigned i = 0; i < 5000; i++) {
		unsigned which = (unsigned)(xorshift(&seed) % rec.n);
		size_t len = rec.len[which], n;

		memcpy(req, rec.req[which], len);
		if (i % 5)
			mutate(req, &len, &seed);
		assert_ok(pcitsm_spdm_rsp_handle(&f->rsp, req, len, rsp_buf, sizeof(rsp_buf), &n));
		assert_true(n >= 4);
		if (rsp_buf[1] == PCITSM_SPDM_ERROR) {
			assert_true(known_error(rsp_buf[2]));
			errors++;
		} else {
			assert_true(len >= 2);
			assert_int_equal(rsp_buf[1], req[1] & 0x7f);
			answers++;
		}
	}
	assert_true(errors > 2500);
	assert_true(answers > 100);
	/* Still serving: a full authentication on the same responder. */
	pcitsm_spdm_auth_result_free(&f->res);
	assert_ok(pcitsm_spdm_drv_authenticate(&f->loop.x, &f->ao, &f->res));
	assert_true(f->res.chain_trusted);
	assert_true(f->res.meas_signed);
	fx_free(f);
}

int main(void)
{
	return test_run(errors_before_version, errors_vca, errors_negotiated, errors_caps_and_sizes,
		        errors_v12, mutated_requests_then_auth);
}
