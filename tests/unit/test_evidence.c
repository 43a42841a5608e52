/* SPDX-License-Identifier: MIT */
/*
 * Evidence a remote verifier checks offline (include/pcitsm/evidence.h, docs/evidence.md): a
 * bundle and an EAT token made from a real authentication (the SPDM responder behind a DOE
 * loopback, with the verifier's nonce) and a real interface report verify; each tampering fails
 * naming its check (chain: wrong anchor, broken link; signature; transcript; nonce; measurement
 * digest against the policy; report digest; report against the policy); the decoders refuse
 * truncated, extended, bad-version and malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/evidence.h"
#include "pcitsm/policy.h"
#include "test_spdm_fixture.h"

static const uint8_t nonce[PCITSM_SPDM_NONCE_LEN] = { 0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

struct ev_fx {
	struct fx *f;
	struct pcitsm_trust *other; /* another identity's root */
	uint8_t report[PCITSM_TDISP_DSM_REPORT_MAX];
	size_t report_len;
	uint8_t digest[PCITSM_TDISP_DIGEST_LEN];
	struct pcitsm_evidence ev;
	struct pcitsm_policy pol;
	struct pcitsm_evidence_verdict v;
};

/* The emulated endpoint's report and its digest. */
static void build_report(struct ev_fx *x)
{
	x->report_len = test_tdisp_endpoint_report(x->report, sizeof(x->report), 0);
	assert_ok(pcitsm_tdisp_report_digest(x->report, x->report_len, x->digest));
}

/* The policy the evidence shows (pcitsm policy make's engine), parsed back. */
static void make_policy(struct ev_fx *x)
{
	struct pcitsm_tdisp_report rep;
	const struct pcitsm_policy_evidence pe = { x->f->res.blocks, x->f->res.nr_blocks, &rep };
	json_object *j;
	const char *s;
	char why[160];

	assert_ok(pcitsm_tdisp_report_decode(x->report, x->report_len, &rep));
	j = pcitsm_policy_make(&pe, "0000:01:00.0", NULL);
	assert_non_null(j);
	s = json_object_to_json_string(j);
	assert_ok(pcitsm_policy_parse(s, strlen(s), &x->pol, why, sizeof(why)));
	assert_true(x->pol.nr_meas > 0 && x->pol.has_mmio && x->pol.has_info);
	json_object_put(j);
}

static int setup(void **state)
{
	struct ev_fx *x = calloc(1, sizeof(*x));
	struct pcitsm_identity other;
	char dir[512];

	assert_non_null(x);
	x->f = fx_new("p384");
	x->f->ao.cfg.meas_nonce = nonce;
	assert_ok(fx_auth(x->f));
	build_report(x);
	make_policy(x);
	assert_ok(pcitsm_evidence_from_auth(&x->ev, &x->f->res, x->report, x->report_len, x->digest,
					    "0000:01:00.0"));
	snprintf(dir, sizeof(dir), "%s/identity/p256", PCITSM_TEST_DATA);
	assert_ok(pcitsm_identity_load(&other, dir));
	assert_ok(pcitsm_trust_new(&x->other));
	assert_ok(pcitsm_trust_add_der(x->other, other.root, other.root_len));
	pcitsm_identity_free(&other);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ev_fx *x = *state;

	pcitsm_evidence_free(&x->ev);
	pcitsm_trust_free(x->other);
	fx_free(x->f);
	free(x);
	return 0;
}

/* Verify ev with the fixture's anchor, nonce and policy; the check that failed, or -1. */
static int verify_with(struct ev_fx *x, const struct pcitsm_evidence *ev,
		       const struct pcitsm_trust *trust, const uint8_t *n,
		       const struct pcitsm_policy *pol)
{
	pcitsm_err e = pcitsm_evidence_verify(ev, trust, n, pol, &x->v);

	if (!e)
		return -1;
	assert_true(x->v.outcome[x->v.failed] == PCITSM_EVIDENCE_FAILED);
	assert_true(x->v.why[0] != '\0');
	return (int)x->v.failed;
}

static int verify(struct ev_fx *x, const struct pcitsm_evidence *ev)
{
	return verify_with(x, ev, x->f->trust, nonce, &x->pol);
}

static void expect_fails(struct ev_fx *x, const struct pcitsm_evidence *ev,
			 enum pcitsm_evidence_check c)
{
	int got = verify(x, ev);

	if (got != (int)c)
		fail_msg("expected %s to fail, got %s (%s)", pcitsm_evidence_check_name(c),
			 got < 0 ? "success" : pcitsm_evidence_check_name((enum pcitsm_evidence_check)got),
			 x->v.why);
}

/* ev through the bundle encoding and back. */
static void round_trip(const struct pcitsm_evidence *in, struct pcitsm_evidence *out)
{
	uint8_t *buf;
	size_t n;
	char why[160];

	assert_ok(pcitsm_evidence_bundle_encode(in, &buf, &n));
	assert_ok(pcitsm_evidence_bundle_decode(buf, n, out, why, sizeof(why)));
	free(buf);
}

static void test_bundle_verifies(void **state)
{
	struct ev_fx *x = *state;
	struct pcitsm_evidence back;

	round_trip(&x->ev, &back);
	assert_string_equal(back.device, "0000:01:00.0");
	assert_int_equal(verify(x, &back), -1);
	for (int c = 0; c < PCITSM_EVIDENCE_NR_CHECKS; c++)
		assert_int_equal(x->v.outcome[c], c == PCITSM_EVIDENCE_CLAIMS
							 ? PCITSM_EVIDENCE_NOT_RUN
							 : PCITSM_EVIDENCE_PASSED);
	assert_true(x->v.nonce_pinned);
	assert_int_equal(x->v.nr_blocks, x->f->res.nr_blocks);
	assert_memory_equal(x->v.l1_hash, x->f->res.l1_hash, x->v.view.hash_len);
	/* Without a nonce of the verifier's the bundle's own is compared, and said so. */
	assert_int_equal(verify_with(x, &back, x->f->trust, NULL, NULL), -1);
	assert_false(x->v.nonce_pinned);
	pcitsm_evidence_free(&back);
}

/* A copy of ev with one byte of one of its buffers changed (at off from its end when off < 0). */
static void flipped(const struct pcitsm_evidence *ev, struct pcitsm_evidence *out, uint8_t *which,
		    size_t len, long off, uint8_t mask)
{
	size_t at = off < 0 ? len - (size_t)(-off) : (size_t)off;

	round_trip(ev, out);
	/* the same buffer in the copy */
	if (which == ev->chain)
		which = out->chain;
	else if (which == ev->vca)
		which = out->vca;
	else if (which == ev->meas_req)
		which = out->meas_req;
	else if (which == ev->meas_rsp)
		which = out->meas_rsp;
	else if (which == ev->report)
		which = out->report;
	else if (which == ev->report_digest)
		which = out->report_digest;
	else
		fail_msg("unknown buffer");
	which[at] ^= mask;
}

static void test_chain_tampered(void **state)
{
	struct ev_fx *x = *state;
	size_t off[8], clen[8], n, certs_at = 4 + x->f->res.hash_len;
	struct pcitsm_evidence t;

	/* Another root as the anchor. */
	assert_int_equal(verify_with(x, &x->ev, x->other, nonce, &x->pol), PCITSM_EVIDENCE_CHAIN);
	assert_non_null(strstr(x->v.why, "does not validate"));
	/* A broken link: the intermediate's signature (its last byte) changed. */
	assert_ok(pcitsm_x509_chain_split(x->ev.chain + certs_at, x->ev.chain_len - certs_at, off,
					  clen, 8, &n));
	assert_true(n >= 3);
	flipped(&x->ev, &t, x->ev.chain, x->ev.chain_len, (long)(certs_at + off[1] + clen[1] - 1),
		0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_CHAIN);
	pcitsm_evidence_free(&t);
	/* The RootHash of the SPDM chain header. */
	flipped(&x->ev, &t, x->ev.chain, x->ev.chain_len, 4, 0x80);
	expect_fails(x, &t, PCITSM_EVIDENCE_CHAIN);
	assert_non_null(strstr(x->v.why, "RootHash"));
	pcitsm_evidence_free(&t);
	/* A chain that validates, whose leaf is a P-256 key, for a connection that chose another
	 * algorithm. */
	{
		char path[512];
		size_t der_len;
		uint8_t *der;

		snprintf(path, sizeof(path), "%s/identity/p256/chain.der", PCITSM_TEST_DATA);
		der = test_read_file(path, &der_len);
		assert_non_null(der);
		round_trip(&x->ev, &t);
		free(t.chain);
		t.chain = NULL;
		t.certs = der;
		t.certs_len = der_len;
		assert_int_equal(verify_with(x, &t, x->other, nonce, NULL), PCITSM_EVIDENCE_CHAIN);
		assert_non_null(strstr(x->v.why, "does not fit"));
		pcitsm_evidence_free(&t);
	}
	/* No anchor at all. */
	assert_int_equal(verify_with(x, &x->ev, NULL, nonce, NULL), PCITSM_EVIDENCE_CHAIN);
}

static void test_signature_tampered(void **state)
{
	struct ev_fx *x = *state;
	struct pcitsm_evidence t;

	flipped(&x->ev, &t, x->ev.meas_rsp, x->ev.meas_rsp_len, -1, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_SIGNATURE);
	pcitsm_evidence_free(&t);
	/* A measurement value inside the signed record: the signature no longer covers it. */
	flipped(&x->ev, &t, x->ev.meas_rsp, x->ev.meas_rsp_len, 8 + 7, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_SIGNATURE);
	pcitsm_evidence_free(&t);
}

/* Offsets in A: GET_VERSION 4, VERSION 6 + 2n, GET_CAPABILITIES 20, CAPABILITIES 20. */
static size_t caps_rsp_at(const struct pcitsm_evidence *ev)
{
	return 4 + 6 + 2 * (size_t)ev->vca[4 + 5] + 20;
}

static void test_transcript_tampered(void **state)
{
	struct ev_fx *x = *state;
	struct pcitsm_evidence t;

	/* CAPABILITIES claims another version than the connection's. */
	flipped(&x->ev, &t, x->ev.vca, x->ev.vca_len, (long)caps_rsp_at(&x->ev), 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_TRANSCRIPT);
	assert_non_null(strstr(x->v.why, "CAPABILITIES"));
	pcitsm_evidence_free(&t);
	/* A byte of A that still decodes (CTExponent): L1 is not what the device signed. */
	flipped(&x->ev, &t, x->ev.vca, x->ev.vca_len, (long)caps_rsp_at(&x->ev) + 5, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_SIGNATURE);
	pcitsm_evidence_free(&t);
	/* VERSION no longer lists the connection's version (its entries' high bytes). */
	round_trip(&x->ev, &t);
	for (size_t i = 0; i < t.vca[4 + 5]; i++)
		t.vca[4 + 6 + 2 * i + 1] ^= 0x40;
	expect_fails(x, &t, PCITSM_EVIDENCE_TRANSCRIPT);
	assert_non_null(strstr(x->v.why, "VERSION"));
	pcitsm_evidence_free(&t);
	/* A byte after ALGORITHMS. */
	round_trip(&x->ev, &t);
	t.vca = realloc(t.vca, t.vca_len + 1);
	t.vca[t.vca_len++] = 0;
	expect_fails(x, &t, PCITSM_EVIDENCE_TRANSCRIPT);
	assert_non_null(strstr(x->v.why, "after ALGORITHMS"));
	pcitsm_evidence_free(&t);
	/* MEASUREMENTS names another slot than the request (Param2 bits 3:0). */
	flipped(&x->ev, &t, x->ev.meas_rsp, x->ev.meas_rsp_len, 3, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_TRANSCRIPT);
	assert_non_null(strstr(x->v.why, "does not answer"));
	pcitsm_evidence_free(&t);
	/* A GET_MEASUREMENTS that asks for no signature. */
	flipped(&x->ev, &t, x->ev.meas_req, x->ev.meas_req_len, 2, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_TRANSCRIPT);
	pcitsm_evidence_free(&t);
	/* The responder's nonce made the requester's (a reflection): refused as the requester
	 * refuses it. */
	round_trip(&x->ev, &t);
	{
		size_t rec = t.meas_rsp[5] | (size_t)t.meas_rsp[6] << 8 | (size_t)t.meas_rsp[7] << 16;

		memcpy(t.meas_rsp + 8 + rec, nonce, sizeof(nonce));
	}
	expect_fails(x, &t, PCITSM_EVIDENCE_TRANSCRIPT);
	assert_non_null(strstr(x->v.why, "reflected"));
	pcitsm_evidence_free(&t);
}

static void test_nonce_mismatch(void **state)
{
	struct ev_fx *x = *state;
	uint8_t other[PCITSM_SPDM_NONCE_LEN];
	struct pcitsm_evidence t;

	memcpy(other, nonce, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(verify_with(x, &x->ev, x->f->trust, other, &x->pol),
			 PCITSM_EVIDENCE_NONCE);
	/* The bundle's recorded nonce changed, and no verifier nonce: still refused. */
	round_trip(&x->ev, &t);
	t.nonce[0] ^= 1;
	assert_int_equal(verify_with(x, &t, x->f->trust, NULL, NULL), PCITSM_EVIDENCE_NONCE);
	/* The request's nonce changed: the signature no longer holds either, but the nonce is
	 * named first. */
	pcitsm_evidence_free(&t);
	flipped(&x->ev, &t, x->ev.meas_req, x->ev.meas_req_len, 4, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_NONCE);
	pcitsm_evidence_free(&t);
}

static void test_policy_refusals(void **state)
{
	struct ev_fx *x = *state;
	struct pcitsm_policy p = x->pol;
	struct pcitsm_evidence t;

	p.meas[0].digest[0] ^= 1;
	assert_int_equal(verify_with(x, &x->ev, x->f->trust, nonce, &p),
			 PCITSM_EVIDENCE_MEASUREMENTS);
	assert_non_null(strstr(x->v.why, "digest differs"));
	p = x->pol;
	p.info_required |= PCITSM_TDISP_INFO_PRS;
	assert_int_equal(verify_with(x, &x->ev, x->f->trust, nonce, &p),
			 PCITSM_EVIDENCE_REPORT_POLICY);
	assert_non_null(strstr(x->v.why, "PRS"));
	p = x->pol;
	p.mmio[0].size *= 2;
	assert_int_equal(verify_with(x, &x->ev, x->f->trust, nonce, &p),
			 PCITSM_EVIDENCE_REPORT_POLICY);
	/* A policy on the report, and no report. */
	round_trip(&x->ev, &t);
	free(t.report);
	t.report = NULL;
	t.has_report = false;
	assert_int_equal(verify(x, &t), PCITSM_EVIDENCE_REPORT_POLICY);
	/* Even a policy that requires nothing of the report needs one. */
	p = x->pol;
	p.info_required = 0;
	p.nr_mmio = 0;
	assert_int_equal(verify_with(x, &t, x->f->trust, nonce, &p), PCITSM_EVIDENCE_REPORT_POLICY);
	assert_non_null(strstr(x->v.why, "has none"));
	/* ... which passes with a policy on the measurements alone. */
	p = x->pol;
	p.has_info = p.has_mmio = false;
	assert_int_equal(verify_with(x, &t, x->f->trust, nonce, &p), -1);
	pcitsm_evidence_free(&t);
}

static void test_report_tampered(void **state)
{
	struct ev_fx *x = *state;
	struct pcitsm_evidence t;

	/* A range's page count (bytes 16.. are the ranges): the digest no longer matches. */
	flipped(&x->ev, &t, x->ev.report, x->ev.report_len, 16 + 8, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_REPORT_DIGEST);
	pcitsm_evidence_free(&t);
	flipped(&x->ev, &t, x->ev.report_digest, PCITSM_TDISP_DIGEST_LEN, 0, 0x01);
	expect_fails(x, &t, PCITSM_EVIDENCE_REPORT_DIGEST);
	pcitsm_evidence_free(&t);
	/* A report that does not decode. */
	round_trip(&x->ev, &t);
	t.report_len -= 1;
	expect_fails(x, &t, PCITSM_EVIDENCE_REPORT);
	pcitsm_evidence_free(&t);
}

static pcitsm_err decode(const uint8_t *p, size_t n, char *why)
{
	struct pcitsm_evidence ev;
	pcitsm_err e = pcitsm_evidence_bundle_decode(p, n, &ev, why, 160);

	if (!e)
		pcitsm_evidence_free(&ev);
	return e;
}

static void test_bundle_refusals(void **state)
{
	struct ev_fx *x = *state;
	uint8_t *buf, *big;
	size_t n;
	char why[160];

	assert_ok(pcitsm_evidence_bundle_encode(&x->ev, &buf, &n));
	assert_ok(decode(buf, n, why));
	/* Truncated anywhere, extended by a byte. */
	for (size_t k = 0; k < n; k += 97)
		assert_true(decode(buf, k, why) != PCITSM_OK);
	assert_err(decode(buf, n - 1, why), PCITSM_E_SHORT);
	assert_non_null(strstr(why, "truncated: "));
	big = malloc(n + 1);
	memcpy(big, buf, n);
	big[n] = 0;
	assert_err(decode(big, n + 1, why), PCITSM_E_LONG);
	/* Extended and its length patched: bytes after the last field are a field header cut. */
	big[12] = (uint8_t)(n + 1);
	big[13] = (uint8_t)((n + 1) >> 8);
	assert_err(decode(big, n + 1, why), PCITSM_E_SHORT);
	free(big);
	/* Version 2, a bad magic, reserved bytes. */
	buf[8] = 2;
	assert_err(decode(buf, n, why), PCITSM_E_VERSION);
	assert_non_null(strstr(why, "version 2"));
	buf[8] = 1;
	buf[0] ^= 1;
	assert_err(decode(buf, n, why), PCITSM_E_FIELD);
	buf[0] ^= 1;
	buf[10] = 1;
	assert_err(decode(buf, n, why), PCITSM_E_FIELD);
	buf[10] = 0;
	/* The first field (DEVICE, type 1) made type 9 (unknown), then 2 (NONCE twice: order). */
	buf[16] = 9;
	assert_err(decode(buf, n, why), PCITSM_E_FIELD);
	assert_non_null(strstr(why, "unknown"));
	buf[16] = 2;
	assert_err(decode(buf, n, why), PCITSM_E_FIELD);
	buf[16] = 1;
	/* The NONCE field's length made 31. */
	buf[16 + 6 + 12 + 2] = 31;
	assert_err(decode(buf, n, why), PCITSM_E_FIELD);
	assert_non_null(strstr(why, "31 bytes, expected 32..32"));
	buf[16 + 6 + 12 + 2] = 32;
	assert_ok(decode(buf, n, why));
	/* The NONCE field twice in a row; the NONCE field left out. */
	{
		size_t at = 16 + 6 + 12, flen = 6 + 32;
		uint8_t *two = malloc(n + flen), *none = malloc(n - flen);

		memcpy(two, buf, at + flen);
		memcpy(two + at + flen, buf + at, n - at);
		two[12] = (uint8_t)(n + flen);
		two[13] = (uint8_t)((n + flen) >> 8);
		assert_err(decode(two, n + flen, why), PCITSM_E_FIELD);
		assert_non_null(strstr(why, "out of order"));
		memcpy(none, buf, at);
		memcpy(none + at, buf + at + flen, n - at - flen);
		none[12] = (uint8_t)(n - flen);
		none[13] = (uint8_t)((n - flen) >> 8);
		assert_err(decode(none, n - flen, why), PCITSM_E_FIELD);
		assert_non_null(strstr(why, "field 2 is missing"));
		free(two);
		free(none);
	}
	assert_err(decode(buf, 0, why), PCITSM_E_SHORT);
	free(buf);
}

/* ---------------------------------------------------------------------------------------------
 * The EAT token.
 */
static void eat_of(struct ev_fx *x, uint8_t **tok, size_t *n)
{
	assert_ok(pcitsm_evidence_eat_encode(&x->ev, tok, n));
}

static pcitsm_err eat_verify(struct ev_fx *x, const uint8_t *tok, size_t n, int *failed)
{
	struct pcitsm_evidence ev;
	char why[160];
	pcitsm_err e = pcitsm_evidence_eat_decode(tok, n, &ev, why, sizeof(why));

	*failed = -2; /* did not decode */
	if (e)
		return e;
	*failed = verify(x, &ev);
	pcitsm_evidence_free(&ev);
	return PCITSM_OK;
}

/* Flip the byte at the offset of needle's position + k inside the token. */
static void flip_in(uint8_t *tok, size_t n, const uint8_t *needle, size_t nlen, size_t k)
{
	uint8_t *at = memmem(tok, n, needle, nlen);

	assert_non_null(at);
	at[k] ^= 0x01;
}

static void test_eat_verifies_and_tampered(void **state)
{
	struct ev_fx *x = *state;
	uint8_t *tok, *big, other[PCITSM_SPDM_NONCE_LEN];
	const uint8_t *sig = x->ev.meas_rsp + x->ev.meas_rsp_len - 16;
	struct pcitsm_evidence ev;
	size_t n;
	int failed;
	char why[160];

	eat_of(x, &tok, &n);
	assert_ok(eat_verify(x, tok, n, &failed));
	assert_int_equal(failed, -1);
	assert_int_equal(x->v.outcome[PCITSM_EVIDENCE_CLAIMS], PCITSM_EVIDENCE_PASSED);
	/* Wrong anchor, nonce. */
	assert_ok(pcitsm_evidence_eat_decode(tok, n, &ev, why, sizeof(why)));
	assert_int_equal(verify_with(x, &ev, x->other, nonce, &x->pol), PCITSM_EVIDENCE_CHAIN);
	memcpy(other, nonce, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(verify_with(x, &ev, x->f->trust, other, &x->pol), PCITSM_EVIDENCE_NONCE);
	pcitsm_evidence_free(&ev);
	/* The signature's bytes. */
	flip_in(tok, n, sig, 16, 15);
	assert_ok(eat_verify(x, tok, n, &failed));
	assert_int_equal(failed, PCITSM_EVIDENCE_SIGNATURE);
	free(tok);
	/* A measurement block claim (the first occurrence of its value: the claims come before
	 * the signed L1 in the token): the claims check. */
	eat_of(x, &tok, &n);
	flip_in(tok, n, x->f->res.blocks[0].value, x->f->res.blocks[0].value_len, 0);
	assert_ok(eat_verify(x, tok, n, &failed));
	assert_int_equal(failed, PCITSM_EVIDENCE_CLAIMS);
	free(tok);
	eat_of(x, &tok, &n);
	/* The report digest. */
	flip_in(tok, n, x->digest, sizeof(x->digest), 0);
	assert_ok(eat_verify(x, tok, n, &failed));
	assert_int_equal(failed, PCITSM_EVIDENCE_REPORT_DIGEST);
	free(tok);
	eat_of(x, &tok, &n);
	/* The top-level eat_nonce claim (10, the first occurrence) differs from the request's: the
	 * nonce check, which holds the token's recorded nonce to the signed one. */
	flip_in(tok, n, nonce, sizeof(nonce), 0);
	assert_ok(eat_verify(x, tok, n, &failed));
	assert_int_equal(failed, PCITSM_EVIDENCE_NONCE);
	free(tok);
	/* Truncated, extended, a wrong profile. */
	eat_of(x, &tok, &n);
	assert_err(pcitsm_evidence_eat_decode(tok, n - 1, &ev, why, sizeof(why)), PCITSM_E_SHORT);
	for (size_t k = 0; k < n; k += 101)
		assert_true(pcitsm_evidence_eat_decode(tok, k, &ev, why, sizeof(why)) != PCITSM_OK);
	big = malloc(n + 1);
	memcpy(big, tok, n);
	big[n] = 0;
	assert_err(pcitsm_evidence_eat_decode(big, n + 1, &ev, why, sizeof(why)), PCITSM_E_LONG);
	free(big);
	/* An array that declares 2^32 - 1 elements in 5 bytes is refused before anything is
	 * allocated for it. */
	{
		static const uint8_t huge[] = { 0x9a, 0xff, 0xff, 0xff, 0xff, 0x00 };

		assert_err(pcitsm_evidence_eat_decode(huge, sizeof(huge), &ev, why, sizeof(why)),
			   PCITSM_E_FIELD);
		assert_non_null(strstr(why, "declares more elements"));
	}
	flip_in(tok, n, (const uint8_t *)"device#1.0.0", 12, 7);
	assert_err(pcitsm_evidence_eat_decode(tok, n, &ev, why, sizeof(why)), PCITSM_E_FIELD);
	assert_non_null(strstr(why, "eat_profile"));
	free(tok);
}

/* The bundle and the token of one evidence carry the same content. */
static void test_bundle_and_eat_agree(void **state)
{
	struct ev_fx *x = *state;
	struct pcitsm_evidence ev;
	uint8_t *tok, *b1, *b2;
	size_t n, n1, n2;
	char why[160];

	eat_of(x, &tok, &n);
	assert_ok(pcitsm_evidence_eat_decode(tok, n, &ev, why, sizeof(why)));
	assert_memory_equal(ev.meas_rsp, x->ev.meas_rsp, x->ev.meas_rsp_len);
	assert_memory_equal(ev.meas_req, x->ev.meas_req, x->ev.meas_req_len);
	assert_memory_equal(ev.vca, x->ev.vca, x->ev.vca_len);
	assert_memory_equal(ev.report, x->ev.report, x->ev.report_len);
	assert_memory_equal(ev.certs, x->ev.chain + 4 + x->f->res.hash_len,
			    x->ev.chain_len - 4 - x->f->res.hash_len);
	/* Encoded again from the decoded token: the same bytes. */
	assert_ok(pcitsm_evidence_eat_encode(&ev, &b1, &n1));
	assert_int_equal(n1, n);
	assert_memory_equal(b1, tok, n);
	/* A bundle of a token's content (DER certificates only) is refused at encoding. */
	assert_err(pcitsm_evidence_bundle_encode(&ev, &b2, &n2), PCITSM_E_INVAL);
	free(b1);
	free(tok);
	pcitsm_evidence_free(&ev);
}

/* SPDM 1.2 (no RequesterContext) verifies; SPDM 1.1 (no combined prefix) is refused. */
static void test_versions(void **state)
{
	struct ev_fx *x = *state;
	static const uint8_t versions[] = { PCITSM_SPDM_V12, PCITSM_SPDM_V11 };

	for (size_t i = 0; i < sizeof(versions); i++) {
		struct fx *f = fx_new("p384");
		struct pcitsm_evidence ev;

		f->ao.cfg.meas_nonce = nonce;
		pcitsm_spdm_req_cfg_pin_version(&f->ao.cfg, versions[i]);
		assert_ok(fx_auth(f));
		assert_ok(pcitsm_evidence_from_auth(&ev, &f->res, NULL, 0, NULL, "v"));
		if (versions[i] == PCITSM_SPDM_V12) {
			assert_int_equal(verify_with(x, &ev, f->trust, nonce, NULL), -1);
			assert_int_equal(x->v.view.version, PCITSM_SPDM_V12);
		} else {
			assert_int_equal(verify_with(x, &ev, f->trust, nonce, NULL),
					 PCITSM_EVIDENCE_TRANSCRIPT);
			assert_non_null(strstr(x->v.why, "1.2 or later"));
		}
		pcitsm_evidence_free(&ev);
		fx_free(f);
	}
}

int main(void)
{
	return test_run_fixture(setup, teardown, test_bundle_verifies, test_chain_tampered,
				test_signature_tampered, test_transcript_tampered,
				test_nonce_mismatch, test_policy_refusals, test_report_tampered,
				test_bundle_refusals, test_eat_verifies_and_tampered,
				test_bundle_and_eat_agree, test_versions);
}
