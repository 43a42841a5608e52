/* SPDX-License-Identifier: MIT */
/*
 * SPDM requester: every rejection (size, code, version, reserved, fields, hashes, nonce,
 * signature, chain) with a specific error, and the transcripts recomputed independently from the
 * bytes on the wire (DSP0274 1.3 'Transcript and transcript hash calculation rules', signing with
 * combined_spdm_prefix).
 */
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "test_spdm_fixture.h"

typedef void (*mutate_fn)(uint8_t *rsp, size_t *len);

struct wire {
	uint8_t buf[16384];
	size_t len;
};

/* Build a request, answer it with the real responder, mutate, feed. Requests and (unmutated)
 * responses are appended to log when given. */
static pcitsm_err xchg(struct fx *f, struct pcitsm_spdm_req *r, pcitsm_spdm_build_fn build,
		       const void *arg, mutate_fn mut, struct wire *log)
{
	uint8_t req[256], rsp[8192];
	struct pcitsm_wr w;
	size_t n;
	pcitsm_err e;

	pcitsm_wr_init(&w, req, sizeof(req));
	e = build(r, &w, arg);
	if (e)
		return e;
	n = fx_rsp(f, req, pcitsm_wr_len(&w), rsp, sizeof(rsp));
	if (log) {
		memcpy(log->buf + log->len, req, pcitsm_wr_len(&w));
		log->len += pcitsm_wr_len(&w);
		memcpy(log->buf + log->len, rsp, n);
		log->len += n;
	}
	if (mut)
		mut(rsp, &n);
	return pcitsm_spdm_req_feed(r, rsp, n);
}

static pcitsm_err b_version(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_get_version(r, w);
}
static pcitsm_err b_caps(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_get_capabilities(r, w);
}
static pcitsm_err b_algs(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_negotiate_algorithms(r, w);
}
static pcitsm_err b_digests(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_get_digests(r, w);
}
static pcitsm_err b_cert(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_get_certificate(r, 0, w);
}
static pcitsm_err b_chal(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_challenge(r, 0, 0, w);
}
static pcitsm_err b_meas(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *a)
{
	return pcitsm_spdm_req_get_measurements(r, 0xff, true, 0, w);
}

enum stage { ST_VERSION, ST_CAPS, ST_ALGS, ST_DIGESTS, ST_CERT, ST_CHAL, ST_MEAS };

/* Run every stage before `upto` cleanly (with log), then `upto` with the mutation. */
static pcitsm_err run_to(struct fx *f, struct pcitsm_spdm_req *r, enum stage upto, mutate_fn mut,
			 struct wire *log)
{
	static const pcitsm_spdm_build_fn fns[] = { b_version, b_caps, b_algs, b_digests,
						    b_cert, b_chal, b_meas };
	pcitsm_err e = PCITSM_OK;

	if (!f->started)
		fx_start(f);
	assert_ok(pcitsm_spdm_req_init(r, &f->ao.cfg));
	for (unsigned s = 0; s <= upto && !e; s++) {
		do
			e = xchg(f, r, fns[s], NULL, s == upto ? mut : NULL, log);
		while (!e && s == ST_CERT && !pcitsm_spdm_req_chain_complete(r));
	}
	return e;
}

static pcitsm_err run_mut(struct fx *f, enum stage upto, mutate_fn mut)
{
	struct pcitsm_spdm_req r;
	pcitsm_err e = run_to(f, &r, upto, mut, NULL);

	pcitsm_spdm_req_free(&r);
	return e;
}

/* Mutations. */
static void m_cut1(uint8_t *p, size_t *n) { (*n)--; }
static void m_cut_to3(uint8_t *p, size_t *n) { *n = 3; }
static void m_extra4(uint8_t *p, size_t *n) { memset(p + *n, 0, 4); *n += 4; }
static void m_extra_nz(uint8_t *p, size_t *n) { p[*n] = 1; *n += 1; }
static void m_code(uint8_t *p, size_t *n) { p[1] ^= 0x02; }
static void m_version(uint8_t *p, size_t *n) { p[0]++; }
static void m_param2(uint8_t *p, size_t *n) { p[3] = 0x20; }
static void m_param1_bit4(uint8_t *p, size_t *n) { p[2] |= 0x10; }
static void m_param2_bit4(uint8_t *p, size_t *n) { p[3] |= 0x10; }
static void m_param1_slot(uint8_t *p, size_t *n) { p[2] = 1; }
static void m_byte4(uint8_t *p, size_t *n) { p[4] ^= 0x01; }
static void m_byte5(uint8_t *p, size_t *n) { p[5] ^= 0x01; }
static void m_byte8(uint8_t *p, size_t *n) { p[8] ^= 0x01; }
static void m_last(uint8_t *p, size_t *n) { p[*n - 1] ^= 0x01; }
/* ERROR ResponseNotReady to CHALLENGE: RDTExponent, RequestCode, Token, RDTM. */
static void not_ready(uint8_t *p, size_t *n, uint8_t rdt_exponent)
{
	p[1] = PCITSM_SPDM_ERROR;
	p[2] = PCITSM_SPDM_ERR_RESPONSE_NOT_READY;
	p[3] = 0;
	p[4] = rdt_exponent;
	p[5] = PCITSM_SPDM_CHALLENGE;
	p[6] = 7;
	p[7] = 1;
	*n = 8;
}
static void m_not_ready_24(uint8_t *p, size_t *n) { not_ready(p, n, 24); }
static void m_not_ready_25(uint8_t *p, size_t *n) { not_ready(p, n, 25); }

static void m_error(uint8_t *p, size_t *n)
{
	p[1] = PCITSM_SPDM_ERROR;
	p[2] = PCITSM_SPDM_ERR_UNSPECIFIED;
	p[3] = 0;
	*n = 4;
}
/* Pad to the next DW with zeros, as DOE does. */
static void m_pad(uint8_t *p, size_t *n)
{
	while (*n % 4)
		p[(*n)++] = 0;
}

/* A device may make a request wait at most 2^24 us per ResponseNotReady. */
static void rejects_long_not_ready(void **state)
{
	struct fx *f = fx_new("p256");
	struct pcitsm_spdm_req r;

	assert_err(run_to(f, &r, ST_CHAL, m_not_ready_24, NULL), PCITSM_E_PEER_BUSY);
	assert_int_equal(r.retry, PCITSM_SPDM_RETRY_NOT_READY);
	assert_true(r.retry_ns == (1ull << 24) * 1000u);
	pcitsm_spdm_req_free(&r);
	assert_err(run_mut(f, ST_CHAL, m_not_ready_25), PCITSM_E_FIELD);
	fx_free(f);
}

static void rejects_vca(void **state)
{
	struct fx *f = fx_new("p256");

	/* VERSION: 14 bytes (4 entries), so DOE pads it with 2 zero bytes. */
	assert_err(run_mut(f, ST_VERSION, m_cut_to3), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_VERSION, m_cut1), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_VERSION, m_extra4), PCITSM_E_LONG);
	assert_err(run_mut(f, ST_VERSION, m_extra_nz), PCITSM_E_LONG);
	assert_ok(run_mut(f, ST_VERSION, m_pad)); /* DOE padding is fine */
	assert_err(run_mut(f, ST_VERSION, m_code), PCITSM_E_UNEXPECTED);
	assert_err(run_mut(f, ST_VERSION, m_version), PCITSM_E_VERSION);
	assert_err(run_mut(f, ST_VERSION, m_param2), PCITSM_E_RESERVED);
	assert_err(run_mut(f, ST_VERSION, m_byte4), PCITSM_E_RESERVED);
	assert_err(run_mut(f, ST_VERSION, m_error), PCITSM_E_PEER_ERROR);
	/* CAPABILITIES: DataTransferSize (byte 12) below 42. */
	assert_err(run_mut(f, ST_CAPS, m_cut1), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_CAPS, m_extra4), PCITSM_E_LONG);
	assert_err(run_mut(f, ST_CAPS, m_byte4), PCITSM_E_RESERVED);
	assert_err(run_mut(f, ST_CAPS, m_code), PCITSM_E_UNEXPECTED);
	/* ALGORITHMS: a wrong Length, a hash selection of two bits. */
	assert_err(run_mut(f, ST_ALGS, m_byte4), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_ALGS, m_extra4), PCITSM_E_LONG);
	assert_err(run_mut(f, ST_ALGS, m_cut1), PCITSM_E_SHORT);
	fx_free(f);
}

static void m_caps_dts(uint8_t *p, size_t *n) { p[12] = 41; p[13] = p[14] = p[15] = 0; }
static void m_algs_two_hashes(uint8_t *p, size_t *n) { p[16] |= 0x03; }
static void m_algs_unoffered_asym(uint8_t *p, size_t *n) { p[12] = 0; p[13] = 0x02; }
static void m_algs_meas_spec(uint8_t *p, size_t *n) { p[6] = 0; }

static void rejects_fields(void **state)
{
	struct fx *f = fx_new("p256");

	assert_err(run_mut(f, ST_CAPS, m_caps_dts), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_ALGS, m_algs_two_hashes), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_ALGS, m_algs_unoffered_asym), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_ALGS, m_algs_meas_spec), PCITSM_E_FIELD);
	fx_free(f);
}

static void rejects_certificates(void **state)
{
	struct fx *f = fx_new("p256");

	assert_err(run_mut(f, ST_DIGESTS, m_cut1), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_DIGESTS, m_extra4), PCITSM_E_LONG);
	/* 1.3: a provisioned slot that is not a supported one. */
	assert_err(run_mut(f, ST_DIGESTS, m_param2_bit4), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_DIGESTS, m_code), PCITSM_E_UNEXPECTED);
	/* The first CERTIFICATE: slot, reserved bits, PortionLength beyond the bytes, truncation. */
	assert_err(run_mut(f, ST_CERT, m_param1_slot), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_CERT, m_param1_bit4), PCITSM_E_RESERVED);
	assert_err(run_mut(f, ST_CERT, m_byte5), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_CERT, m_cut1), PCITSM_E_SHORT);
	fx_free(f);
}

/* A chain whose last portion is altered no longer matches its DIGESTS entry. */
static void rejects_chain_digest(void **state)
{
	struct fx *f = fx_new("p256");
	struct pcitsm_spdm_req r;
	pcitsm_err e;

	assert_ok(run_to(f, &r, ST_DIGESTS, NULL, NULL));
	do
		e = xchg(f, &r, b_cert, NULL, NULL, NULL);
	while (!e && r.chain_len + 1024 < r.chain_cap);
	assert_ok(e);
	assert_false(pcitsm_spdm_req_chain_complete(&r));
	assert_err(xchg(f, &r, b_cert, NULL, m_last, NULL), PCITSM_E_HASH);
	assert_non_null(strstr(r.chain_why, "DIGESTS"));
	/* Sticky: nothing more until a new GET_VERSION after a reset. */
	assert_err(xchg(f, &r, b_chal, NULL, NULL, NULL), PCITSM_E_HASH);
	pcitsm_spdm_req_free(&r);
	fx_free(f);
}

static void rejects_challenge_auth(void **state)
{
	struct fx *f = fx_new("p384");

	assert_err(run_mut(f, ST_CHAL, m_cut1), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_CHAL, m_extra4), PCITSM_E_LONG);
	assert_err(run_mut(f, ST_CHAL, m_code), PCITSM_E_UNEXPECTED);
	assert_err(run_mut(f, ST_CHAL, m_param1_slot), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_CHAL, m_param1_bit4), PCITSM_E_RESERVED);
	assert_err(run_mut(f, ST_CHAL, m_byte4), PCITSM_E_HASH); /* CertChainHash */
	assert_err(run_mut(f, ST_CHAL, m_last), PCITSM_E_SIGNATURE);
	assert_err(run_mut(f, ST_CHAL, m_version), PCITSM_E_VERSION);
	fx_free(f);
}

static void m_meas_blocks(uint8_t *p, size_t *n) { p[4]++; }

static void rejects_measurements(void **state)
{
	struct fx *f = fx_new("p256");

	assert_err(run_mut(f, ST_MEAS, m_cut1), PCITSM_E_SHORT);
	assert_err(run_mut(f, ST_MEAS, m_extra4), PCITSM_E_LONG);
	assert_err(run_mut(f, ST_MEAS, m_meas_blocks), PCITSM_E_FIELD);
	assert_err(run_mut(f, ST_MEAS, m_byte8), PCITSM_E_FIELD); /* first block's index 1 -> 0 */
	assert_err(run_mut(f, ST_MEAS, m_last), PCITSM_E_SIGNATURE);
	assert_err(run_mut(f, ST_MEAS, m_code), PCITSM_E_UNEXPECTED);
	fx_free(f);
}

/* The responder's fault knobs, through the whole driver over DOE. */
static void rejects_responder_faults(void **state)
{
	struct fx *f;

	f = fx_new("p256");
	f->faults.bad_signature = true;
	assert_err(fx_auth(f), PCITSM_E_SIGNATURE);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_CHALLENGE);
	f->ao.skip_challenge = true;
	assert_err(fx_auth(f), PCITSM_E_SIGNATURE);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_MEASUREMENTS);
	fx_free(f);

	f = fx_new("p256");
	f->faults.echo_nonce = true;
	assert_err(fx_auth(f), PCITSM_E_NONCE);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_CHALLENGE);
	fx_free(f);

	f = fx_new("p384");
	f->faults.wrong_context = true;
	assert_err(fx_auth(f), PCITSM_E_NONCE);
	f->ao.skip_challenge = true;
	assert_err(fx_auth(f), PCITSM_E_NONCE);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_MEASUREMENTS);
	/* 1.2 has no RequesterContext: nothing to echo. */
	f->ao.cfg.max_version = PCITSM_SPDM_V12;
	assert_ok(fx_auth(f));
	fx_free(f);

	f = fx_new("p256");
	f->faults.bad_root_hash = true;
	assert_err(fx_auth(f), PCITSM_E_HASH);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_CERTIFICATE);
	assert_non_null(strstr(f->res.why, "RootHash"));
	fx_free(f);
}

static void rejects_untrusted_chain(void **state)
{
	struct fx *f = fx_new("p256");
	struct fx *other = fx_new("p384");

	/* A chain that does not validate: an explicit failure naming the reason. */
	f->faults.corrupt_chain = true;
	assert_err(fx_auth(f), PCITSM_E_CERT);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_CERTIFICATE);
	assert_true(strlen(f->res.chain_why) > 0);
	assert_non_null(strstr(f->res.why, f->res.chain_why));
	/* Reported, not fatal, when asked: the leaf key still proves possession. */
	f->ao.allow_untrusted = true;
	assert_ok(fx_auth(f));
	assert_false(f->res.chain_trusted);
	assert_true(f->res.challenged);
	fx_free(f);

	/* Someone else's root. */
	f = fx_new("p256");
	f->ao.cfg.trust = other->trust;
	assert_err(fx_auth(f), PCITSM_E_CERT);
	assert_true(strlen(f->res.chain_why) > 0);
	/* No anchor at all. */
	f->ao.cfg.trust = NULL;
	assert_err(fx_auth(f), PCITSM_E_CERT);
	assert_string_equal(f->res.chain_why, "no trust anchor given");
	fx_free(f);
	fx_free(other);
}

/* DSP0274 (NEGOTIATE_ALGORITHMS, GET_CERTIFICATE): the leaf's key must be of the negotiated
 * BaseAsymAlgo. A responder that negotiates ECDSA P-384 (its signing key) but serves a chain,
 * valid and trusted, whose leaf holds a P-256 key is refused at the certificate step. */
static void rejects_leaf_key_not_negotiated(void **state)
{
	struct fx *f = fx_new("p384");
	struct fx *p256 = fx_new("p256");
	uint8_t *chain = f->id.chain, *root = f->id.root;
	size_t chain_len = f->id.chain_len, root_len = f->id.root_len;

	f->id.chain = p256->id.chain;
	f->id.chain_len = p256->id.chain_len;
	f->id.root = p256->id.root;
	f->id.root_len = p256->id.root_len;
	assert_ok(pcitsm_trust_add_der(f->trust, p256->id.root, p256->id.root_len));
	assert_err(fx_auth(f), PCITSM_E_CERT);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_CERTIFICATE);
	assert_non_null(strstr(f->res.chain_why, "leaf key does not fit the negotiated"));
	f->id.chain = chain;
	f->id.chain_len = chain_len;
	f->id.root = root;
	f->id.root_len = root_len;
	fx_free(f);
	fx_free(p256);
}

/* Misuse: requests out of order are E_STATE and leave the engine usable. */
static void rejects_wrong_state(void **state)
{
	struct fx *f = fx_new("p256");
	struct pcitsm_spdm_req r;
	uint8_t buf[256];
	struct pcitsm_wr w;

	assert_ok(pcitsm_spdm_req_init(&r, &f->ao.cfg));
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_err(pcitsm_spdm_req_challenge(&r, 0, 0, &w), PCITSM_E_STATE);
	assert_err(pcitsm_spdm_req_get_capabilities(&r, &w), PCITSM_E_STATE);
	assert_err(pcitsm_spdm_req_feed(&r, buf, 4), PCITSM_E_STATE);
	assert_err(pcitsm_spdm_req_retry(&r, &w), PCITSM_E_STATE);
	assert_ok(pcitsm_spdm_req_get_version(&r, &w));
	assert_err(pcitsm_spdm_req_get_version(&r, &w), PCITSM_E_STATE); /* one outstanding */
	pcitsm_spdm_req_free(&r);
	/* Signed measurements need the chain first. */
	assert_ok(run_to(f, &r, ST_DIGESTS, NULL, NULL));
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_err(pcitsm_spdm_req_get_measurements(&r, 0xff, true, 0, &w), PCITSM_E_STATE);
	assert_ok(pcitsm_spdm_req_get_measurements(&r, 0xff, false, 0, &w));
	pcitsm_spdm_req_free(&r);
	fx_free(f);
}

/* ---------------------------------------------------------------------------------------------
 * Transcripts recomputed from the wire: A, then M1 = A || B || C and L1 = A || M, and the
 * signatures checked with OpenSSL over the prefix built here (DSP0274 1.3 'Transcript and
 * transcript hash calculation rules', signing with combined_spdm_prefix).
 */
static const EVP_MD *md_of(uint32_t base_hash)
{
	return base_hash == PCITSM_SPDM_HASH_SHA256 ? EVP_sha256() :
	       base_hash == PCITSM_SPDM_HASH_SHA384 ? EVP_sha384() : EVP_sha512();
}

/* Verify an ECDSA r||s signature over prefix(version, context) || th_hash. */
static void verify_spdm_sig(EVP_PKEY *pub, const EVP_MD *md, uint8_t version, const char *context,
			    const uint8_t *th_hash, const uint8_t *sig, size_t sig_len)
{
	uint8_t msg[100 + 64], der[160];
	size_t hl = (size_t)EVP_MD_get_size(md), clen = strlen(context);
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *dp = der;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int dlen;

	for (int i = 0; i < 4; i++) {
		memcpy(msg + 16 * i, "dmtf-spdm-vX.Y.*", 16);
		msg[16 * i + 11] = (uint8_t)('0' + (version >> 4));
		msg[16 * i + 13] = (uint8_t)('0' + (version & 15));
	}
	memset(msg + 64, 0, 36);
	memcpy(msg + 100 - clen, context, clen);
	memcpy(msg + 100, th_hash, hl);
	ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)sig_len / 2, NULL),
		       BN_bin2bn(sig + sig_len / 2, (int)sig_len / 2, NULL));
	dlen = i2d_ECDSA_SIG(es, &dp);
	assert_true(dlen > 0);
	assert_int_equal(EVP_DigestVerifyInit(c, NULL, md, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(c, der, (size_t)dlen, msg, 100 + hl), 1);
	EVP_MD_CTX_free(c);
	ECDSA_SIG_free(es);
}

static void th(const EVP_MD *md, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
	       uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestInit_ex(c, md, NULL), 1);
	EVP_DigestUpdate(c, a, alen);
	EVP_DigestUpdate(c, b, blen);
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

static void transcripts_exact(void **state)
{
	static const char *const ids[] = { "p256", "p384" };

	for (unsigned k = 0; k < 2; k++)
		for (uint8_t v = PCITSM_SPDM_V12; v <= PCITSM_SPDM_V13; v++) {
			struct fx *f = fx_new(ids[k]);
			struct wire vca = { 0 }, b = { 0 }, m = { 0 };
			struct pcitsm_spdm_req r;
			uint8_t h[64];
			size_t sig_len = k ? 96 : 64, hl;
			const EVP_MD *md;

			f->ao.cfg.min_version = f->ao.cfg.max_version = v;
			assert_ok(run_to(f, &r, ST_ALGS, NULL, &vca));
			/* A is exactly the six VCA messages as sent (the loop adds no padding here). */
			assert_int_equal(r.vca_len, vca.len);
			assert_memory_equal(r.vca, vca.buf, vca.len);
			md = md_of(r.base_hash);
			hl = r.hash_len;
			/* B || C: the log holds whole messages; C stops before the signature. */
			assert_ok(xchg(f, &r, b_digests, NULL, NULL, &b));
			do
				assert_ok(xchg(f, &r, b_cert, NULL, NULL, &b));
			while (!pcitsm_spdm_req_chain_complete(&r));
			assert_ok(xchg(f, &r, b_chal, NULL, NULL, &b));
			b.len -= sig_len;
			th(md, vca.buf, vca.len, b.buf, b.len, h);
			assert_memory_equal(h, r.m1_hash, hl);
			verify_spdm_sig(r.leaf, md, v, "responder-challenge_auth signing", h,
					b.buf + b.len, sig_len);
			/* M: an unsigned GET_MEASUREMENTS then a signed one, both in L1. */
			{
				uint8_t req[64], rsp[4096];
				struct pcitsm_wr w;
				size_t n;

				pcitsm_wr_init(&w, req, sizeof(req));
				assert_ok(pcitsm_spdm_req_get_measurements(&r, 1, false, 0, &w));
				n = fx_rsp(f, req, pcitsm_wr_len(&w), rsp, sizeof(rsp));
				memcpy(m.buf, req, pcitsm_wr_len(&w));
				memcpy(m.buf + pcitsm_wr_len(&w), rsp, n);
				m.len = pcitsm_wr_len(&w) + n;
				assert_ok(pcitsm_spdm_req_feed(&r, rsp, n));
			}
			assert_ok(xchg(f, &r, b_meas, NULL, NULL, &m));
			m.len -= sig_len;
			th(md, vca.buf, vca.len, m.buf, m.len, h);
			assert_memory_equal(h, r.l1_hash, hl);
			verify_spdm_sig(r.leaf, md, v, "responder-measurements signing", h,
					m.buf + m.len, sig_len);
			pcitsm_spdm_req_free(&r);
			fx_free(f);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rejects_vca),
		cmocka_unit_test(rejects_long_not_ready),
		cmocka_unit_test(rejects_fields),
		cmocka_unit_test(rejects_certificates),
		cmocka_unit_test(rejects_chain_digest),
		cmocka_unit_test(rejects_challenge_auth),
		cmocka_unit_test(rejects_measurements),
		cmocka_unit_test(rejects_responder_faults),
		cmocka_unit_test(rejects_untrusted_chain),
		cmocka_unit_test(rejects_leaf_key_not_negotiated),
		cmocka_unit_test(rejects_wrong_state),
		cmocka_unit_test(transcripts_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
