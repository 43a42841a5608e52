/* SPDX-License-Identifier: MIT */
/*
 * Checks of lib/spdm that the mutation table (tests/mutants/spdm.txt, docs/security.md) breaks one
 * by one and that no other test pinned down:
 *  - the leaf key must fit the BaseAsymAlgo the responder selected in ALGORITHMS (DSP0274
 *    GET_CERTIFICATE / CERTIFICATE: the leaf's key is the one that signs with that algorithm);
 *  - the chain's Length field is the chain's length, even when DIGESTS vouches for the bytes;
 *  - CHALLENGE names the slot whose chain was read and checked;
 *  - a secured-message session that failed is not brought back by its data-phase keys
 *    (DSP0277: a record error ends the session).
 */
#include <string.h>

#include "pcitsm/crypto.h"
#include "pcitsm/session.h"
#include "test_spdm_fixture.h"

#include "../kat/spdm_keysched_kat.h"

typedef void (*edit_fn)(uint8_t *p, size_t *n);

/* One request built by the requester, answered by the real responder, the answer edited, fed. */
static pcitsm_err step(struct fx *f, struct pcitsm_spdm_req *r, pcitsm_spdm_build_fn build,
		       edit_fn edit)
{
	uint8_t req[256], rsp[8192];
	struct pcitsm_wr w;
	size_t n;
	pcitsm_err e;

	pcitsm_wr_init(&w, req, sizeof(req));
	e = build(r, &w, NULL);
	if (e)
		return e;
	n = fx_rsp(f, req, pcitsm_wr_len(&w), rsp, sizeof(rsp));
	if (edit)
		edit(rsp, &n);
	return pcitsm_spdm_req_feed(r, rsp, n);
}

static pcitsm_err b_version(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	(void)a;
	return pcitsm_spdm_req_get_version(r, w);
}
static pcitsm_err b_caps(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	(void)a;
	return pcitsm_spdm_req_get_capabilities(r, w);
}
static pcitsm_err b_algs(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	(void)a;
	return pcitsm_spdm_req_negotiate_algorithms(r, w);
}
static pcitsm_err b_digests(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	(void)a;
	return pcitsm_spdm_req_get_digests(r, w);
}
static pcitsm_err b_cert(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	(void)a;
	return pcitsm_spdm_req_get_certificate(r, 0, w);
}

/* VCA and DIGESTS clean, ALGORITHMS edited by algs_edit; then the whole chain of slot 0. */
static pcitsm_err read_chain(struct fx *f, struct pcitsm_spdm_req *r, edit_fn algs_edit)
{
	pcitsm_err e;

	if (!f->started)
		fx_start(f);
	assert_ok(pcitsm_spdm_req_init(r, &f->ao.cfg));
	assert_ok(step(f, r, b_version, NULL));
	assert_ok(step(f, r, b_caps, NULL));
	assert_ok(step(f, r, b_algs, algs_edit));
	assert_ok(step(f, r, b_digests, NULL));
	do
		e = step(f, r, b_cert, NULL);
	while (!e && !pcitsm_spdm_req_chain_complete(r));
	return e;
}

/* ALGORITHMS BaseAsymSel (offset 12, DSP0274 Table "Successful ALGORITHMS"): ECDSA P-256 (bit 4)
 * in place of the P-384 the responder chose. */
static void sel_p256(uint8_t *p, size_t *n)
{
	(void)n;
	assert_int_equal(pcitsm_get_le32(p + 12), 1u << 7);
	pcitsm_put_le32(p + 12, 1u << 4);
}

static void leaf_must_fit_selected_alg(void **state)
{
	struct fx *f = fx_new("p384");
	struct pcitsm_spdm_req r;
	uint8_t buf[256];
	struct pcitsm_wr w;

	(void)state;
	/* The P-384 leaf under a P-256 selection: the chain is refused at CERTIFICATE. */
	assert_err(read_chain(f, &r, sel_p256), PCITSM_E_CERT);
	assert_non_null(strstr(r.chain_why, "leaf key does not fit"));
	assert_false(r.chain_done);
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_true(pcitsm_spdm_req_challenge(&r, 0, 0, &w) != PCITSM_OK);
	pcitsm_spdm_req_free(&r);
	/* The same chain under the algorithm it was made for is accepted. */
	assert_ok(read_chain(f, &r, NULL));
	assert_true(r.chain_done);
	pcitsm_spdm_req_free(&r);
	fx_free(f);
}

/* A responder whose chain header lies about Length, with a DIGESTS entry computed over those very
 * bytes: the hash matches, the Length check alone refuses it. The edits need the chain and the
 * digest, so they come through statics. */
static uint8_t lie_digest[PCITSM_HASH_MAX];
static size_t lie_hash_len;
static bool lie_first;

static void digests_lie(uint8_t *p, size_t *n)
{
	assert_true(*n >= 4 + lie_hash_len);
	memcpy(p + 4, lie_digest, lie_hash_len); /* slot 0's digest follows the header */
}

static void certificate_lie(uint8_t *p, size_t *n)
{
	/* header (4), PortionLength (2), RemainderLength (2), then the chain: Length (2) first */
	if (lie_first)
		pcitsm_put_le16(p + 8, (uint16_t)(pcitsm_get_le16(p + 8) + 1));
	lie_first = false;
	(void)n;
}

static void chain_length_must_match(void **state)
{
	struct fx *f = fx_new("p256");
	struct pcitsm_spdm_req r;
	uint8_t *lied;
	size_t len;
	pcitsm_err e;

	(void)state;
	assert_ok(read_chain(f, &r, NULL));
	len = r.chain_len;
	lied = malloc(len);
	assert_non_null(lied);
	memcpy(lied, r.chain, len);
	pcitsm_put_le16(lied, (uint16_t)(pcitsm_get_le16(lied) + 1));
	lie_hash_len = r.hash_len;
	assert_ok(pcitsm_hash(r.hash, lied, len, lie_digest));
	pcitsm_spdm_req_free(&r);

	assert_ok(pcitsm_spdm_req_init(&r, &f->ao.cfg));
	assert_ok(step(f, &r, b_version, NULL));
	assert_ok(step(f, &r, b_caps, NULL));
	assert_ok(step(f, &r, b_algs, NULL));
	assert_ok(step(f, &r, b_digests, digests_lie));
	lie_first = true;
	do
		e = step(f, &r, b_cert, certificate_lie);
	while (!e && !pcitsm_spdm_req_chain_complete(&r));
	assert_err(e, PCITSM_E_FIELD);
	assert_false(r.chain_done);
	pcitsm_spdm_req_free(&r);
	free(lied);
	fx_free(f);
}

/* The chain read is slot 0's: CHALLENGE of slot 1 has no checked key to verify with. */
static void challenge_needs_that_slots_chain(void **state)
{
	struct fx *f = fx_new("p256");
	struct pcitsm_spdm_req r;
	uint8_t buf[256];
	struct pcitsm_wr w;

	(void)state;
	assert_ok(read_chain(f, &r, NULL));
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_err(pcitsm_spdm_req_challenge(&r, 1, 0, &w), PCITSM_E_STATE);
	assert_int_equal(pcitsm_wr_len(&w), 0);
	assert_ok(pcitsm_spdm_req_challenge(&r, 0, 0, &w));
	pcitsm_spdm_req_free(&r);
	fx_free(f);
}

/* A record that fails its MAC in the handshake phase ends the session: FINISH's data keys do not
 * make it usable again, and nothing is sealed with it. */
static void failed_session_stays_failed(void **state)
{
	const struct kat_keysched *t = &kat_keysched[0];
	static uint8_t rec[256], out[256];
	struct pcitsm_session req, rsp;
	size_t rlen, olen;

	(void)state;
	assert_ok(pcitsm_session_init(&req, PCITSM_SESSION_REQUESTER, 0xbeef0001u, t->hash,
				      t->aead, t->spdm_version, PCITSM_SM_V12));
	assert_ok(pcitsm_session_init(&rsp, PCITSM_SESSION_RESPONDER, 0xbeef0001u, t->hash,
				      t->aead, t->spdm_version, PCITSM_SM_V12));
	assert_ok(pcitsm_session_handshake_keys(&req, t->shared, t->shared_len, t->th1));
	assert_ok(pcitsm_session_handshake_keys(&rsp, t->shared, t->shared_len, t->th1));
	assert_ok(pcitsm_record_seal(&req, (const uint8_t *)"finish", 6, rec, sizeof(rec), &rlen));
	rec[rlen - 1] ^= 0x01; /* the tag's last byte */
	assert_err(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen), PCITSM_E_MAC);
	assert_err(pcitsm_session_data_keys(&rsp, t->th2), PCITSM_E_STATE);
	assert_err(pcitsm_record_seal(&rsp, (const uint8_t *)"x", 1, rec, sizeof(rec), &rlen),
		   PCITSM_E_STATE);
	/* the peer that saw no error moves on */
	assert_ok(pcitsm_session_data_keys(&req, t->th2));
	pcitsm_session_wipe(&req);
	pcitsm_session_wipe(&rsp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leaf_must_fit_selected_alg),
		cmocka_unit_test(chain_length_must_match),
		cmocka_unit_test(challenge_needs_that_slots_chain),
		cmocka_unit_test(failed_session_stays_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
