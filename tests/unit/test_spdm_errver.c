/* SPDX-License-Identifier: MIT */
/*
 * The SPDMVersion byte of every ERROR the responder sends (DSP0274 "SPDM version"; docs/spdm.md
 * "Version support"): 1.0 before VERSION was answered and for GET_VERSION; after it the request's
 * version when offered, else the negotiated one. One table over every request code the responder
 * knows, some it does not, and each error path. Then the version matrix: each of 1.0-1.3 pinned
 * on both sides, the flows it supports, and 1.1 / 1.2 signatures that must not cross-verify.
 */
#include "test_spdm_fixture.h"
#include "spdm/msg.h"

enum at { AT_IDLE, AT_VERSION, AT_NEGOTIATED };

/* Bring the responder to a state with connection version v (1.0 VCA for AT_VERSION). */
static void drive(struct fx *f, enum at at, uint8_t v)
{
	uint8_t out[4096];
	uint8_t gv[4] = { 0x10, 0x84, 0, 0 };
	uint8_t caps[20] = { v, 0xe1, 0, 0, 0, 12, 0, 0 };
	uint8_t na[32] = { v, 0xe3, 0, 0, 32, 0, 1, 0 };
	size_t n;

	if (at == AT_IDLE)
		return;
	n = fx_rsp(f, gv, sizeof(gv), out, sizeof(out));
	assert_int_equal(out[1], 0x04);
	if (at == AT_VERSION)
		return;
	pcitsm_put_le32(caps + 8, PCITSM_SPDM_CAP_CERT | PCITSM_SPDM_CAP_CHAL);
	pcitsm_put_le32(caps + 12, 4096);
	pcitsm_put_le32(caps + 16, 4096);
	n = fx_rsp(f, caps, v >= 0x12 ? 20 : v == 0x11 ? 12 : 4, out, sizeof(out));
	assert_int_equal(out[1], 0x61);
	pcitsm_put_le32(na + 8, PCITSM_SPDM_ASYM_ECDSA_P256);
	pcitsm_put_le32(na + 12, PCITSM_SPDM_HASH_SHA256);
	n = fx_rsp(f, na, sizeof(na), out, sizeof(out));
	assert_int_equal(out[1], 0x63);
	(void)n;
}

struct row {
	const char *what;
	enum at at;
	uint8_t conn;            /* connection version (0x12 by default) */
	uint8_t req[12];
	size_t len;
	uint8_t want_code;       /* the ERROR code */
	uint8_t want_version;
};

static void error_versions(void **state)
{
	static const struct row rows[] = {
		/* Before VERSION: 1.0 whatever the request says. */
		{ "caps before VERSION", AT_IDLE, 0x12, { 0x12, 0xe1 }, 20, 0x04, 0x10 },
		{ "digests before VERSION", AT_IDLE, 0x12, { 0x13, 0x81 }, 4, 0x04, 0x10 },
		{ "unknown before VERSION", AT_IDLE, 0x12, { 0x12, 0xe2 }, 4, 0x04, 0x10 },
		{ "GET_VERSION 1.1", AT_IDLE, 0x12, { 0x11, 0x84 }, 4, 0x41, 0x10 },
		{ "short", AT_IDLE, 0x12, { 0x12 }, 1, 0x01, 0x10 },
		/* After VERSION, before CAPABILITIES: the request's version if offered. */
		{ "caps bad size 1.2", AT_VERSION, 0x12, { 0x12, 0xe1 }, 8, 0x01, 0x12 },
		{ "caps bad size 1.3", AT_VERSION, 0x12, { 0x13, 0xe1 }, 4, 0x01, 0x13 },
		{ "caps bad size 1.1", AT_VERSION, 0x12, { 0x11, 0xe1 }, 4, 0x01, 0x11 },
		{ "caps bad flags 1.1", AT_VERSION, 0x12,
		  { 0x11, 0xe1, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0 }, 12, 0x01, 0x11 },
		{ "caps version not offered", AT_VERSION, 0x12, { 0x15, 0xe1 }, 20, 0x41, 0x10 },
		{ "algs before caps", AT_VERSION, 0x12, { 0x12, 0xe3 }, 32, 0x04, 0x12 },
		{ "digests before caps", AT_VERSION, 0x12, { 0x12, 0x81 }, 4, 0x04, 0x12 },
		{ "GET_VERSION 1.2 after VERSION", AT_VERSION, 0x12, { 0x12, 0x84 }, 4, 0x41, 0x10 },
		/* Negotiated: request's version if offered, else the negotiated one. */
		{ "digests bad size", AT_NEGOTIATED, 0x12, { 0x12, 0x81, 0, 0, 0 }, 5, 0x01, 0x12 },
		{ "digests other offered version", AT_NEGOTIATED, 0x12, { 0x13, 0x81 }, 4, 0x41,
		  0x13 },
		{ "digests version not offered", AT_NEGOTIATED, 0x12, { 0x20, 0x81 }, 4, 0x41, 0x12 },
		{ "certificate bad slot", AT_NEGOTIATED, 0x12, { 0x12, 0x82, 3, 0, 0, 0, 0x10, 0 },
		  8, 0x01, 0x12 },
		{ "challenge short", AT_NEGOTIATED, 0x12, { 0x12, 0x83 }, 4, 0x01, 0x12 },
		{ "measurements unsupported", AT_NEGOTIATED, 0x12, { 0x12, 0xe0 }, 4, 0x07, 0x12 },
		{ "caps again", AT_NEGOTIATED, 0x12, { 0x12, 0xe1 }, 20, 0x04, 0x12 },
		{ "algs again", AT_NEGOTIATED, 0x12, { 0x12, 0xe3 }, 32, 0x04, 0x12 },
		{ "key exchange unsupported", AT_NEGOTIATED, 0x12, { 0x12, 0xe4 }, 4, 0x07, 0x12 },
		{ "finish outside", AT_NEGOTIATED, 0x12, { 0x12, 0xe5 }, 4, 0x07, 0x12 },
		{ "end session outside", AT_NEGOTIATED, 0x12, { 0x12, 0xec }, 4, 0x07, 0x12 },
		{ "heartbeat outside", AT_NEGOTIATED, 0x12, { 0x12, 0xe8 }, 4, 0x07, 0x12 },
		{ "key update outside", AT_NEGOTIATED, 0x12, { 0x12, 0xe9 }, 4, 0x07, 0x12 },
		{ "respond if ready, none", AT_NEGOTIATED, 0x12, { 0x12, 0xff, 0x83, 1 }, 4, 0x04,
		  0x12 },
		{ "respond if ready 1.3: NoPending", AT_NEGOTIATED, 0x13, { 0x13, 0xff, 0x83, 1 }, 4,
		  0x45, 0x13 },
		{ "unknown 0x87", AT_NEGOTIATED, 0x12, { 0x12, 0x87 }, 4, 0x07, 0x12 },
		{ "unknown 0xe2", AT_NEGOTIATED, 0x12, { 0x12, 0xe2 }, 4, 0x07, 0x12 },
		{ "unknown 0xf0", AT_NEGOTIATED, 0x12, { 0x12, 0xf0 }, 4, 0x07, 0x12 },
		{ "unknown 0x10 (a response code)", AT_NEGOTIATED, 0x12, { 0x12, 0x10 }, 4, 0x07,
		  0x12 },
		{ "vendor defined, not PCI-SIG", AT_NEGOTIATED, 0x12,
		  { 0x12, 0xfe, 0, 0, 0, 0, 0, 0, 0 }, 9, 0x07, 0x12 },
		/* 1.1 and 1.0 connections. */
		{ "1.1 digests bad size", AT_NEGOTIATED, 0x11, { 0x11, 0x81, 0, 1 }, 4, 0x01, 0x11 },
		{ "1.1 finish outside: Unexpected", AT_NEGOTIATED, 0x11, { 0x11, 0xe5 }, 4, 0x07,
		  0x11 },
		{ "1.0 unknown", AT_NEGOTIATED, 0x10, { 0x10, 0xe2 }, 4, 0x07, 0x10 },
		{ "1.0 request as 1.3", AT_NEGOTIATED, 0x10, { 0x13, 0x82 }, 8, 0x41, 0x13 },
	};

	(void)state;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		struct fx *f = fx_new("p256");
		uint8_t out[4096];
		size_t n;

		/* No measurements or sessions: their requests are unsupported. */
		f->ro.caps = PCITSM_SPDM_CAP_CERT | PCITSM_SPDM_CAP_CHAL;
		fx_start(f);
		drive(f, r->at, r->conn);
		n = fx_rsp(f, r->req, r->len, out, sizeof(out));
		print_message("%s\n", r->what);
		assert_true(n >= 4);
		assert_int_equal(out[1], PCITSM_SPDM_ERROR);
		assert_int_equal(out[2], r->want_code);
		assert_int_equal(out[0], r->want_version);
		fx_free(f);
	}
}

/* Busy / RequestResynch / ResponseNotReady faults after VCA carry the request's version. */
static void fault_versions(void **state)
{
	static const uint8_t get_digests[4] = { 0x11, 0x81, 0, 0 };
	uint8_t out[4096];

	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		struct fx *f = fx_new("p256");

		f->ro.caps = PCITSM_SPDM_CAP_CERT | PCITSM_SPDM_CAP_CHAL;
		f->faults.busy = k == 0;
		f->faults.resynch = k == 1;
		fx_start(f);
		drive(f, AT_NEGOTIATED, 0x11);
		assert_true(fx_rsp(f, get_digests, 4, out, sizeof(out)) >= 4);
		assert_int_equal(out[1], PCITSM_SPDM_ERROR);
		assert_int_equal(out[2], k == 0 ? PCITSM_SPDM_ERR_BUSY :
						  PCITSM_SPDM_ERR_REQUEST_RESYNCH);
		assert_int_equal(out[0], 0x11);
		/* After a resynch the connection is back before VERSION: 1.0. */
		if (k == 1) {
			assert_true(fx_rsp(f, get_digests, 4, out, sizeof(out)) >= 4);
			assert_int_equal(out[2], PCITSM_SPDM_ERR_UNEXPECTED_REQUEST);
			assert_int_equal(out[0], 0x10);
		}
		fx_free(f);
	}
	{
		struct fx *f = fx_new("p256");

		f->faults.not_ready = 1;
		f->ao.cfg.min_version = f->ao.cfg.max_version = PCITSM_SPDM_V11;
		assert_ok(fx_auth(f));
		assert_int_equal(f->res.version, PCITSM_SPDM_V11);
		assert_int_equal(f->res.not_ready_waits, 1);
		fx_free(f);
	}
}

/* Each version pinned on both sides: VCA, digests, certificate, CHALLENGE everywhere; signed
 * measurements from 1.1 (1.0 too, with libspdm's layout); a session from 1.1. */
static void version_matrix(void **state)
{
	(void)state;
	for (uint8_t v = PCITSM_SPDM_V10; v <= PCITSM_SPDM_V13; v++) {
		struct fx *f = fx_new(v & 1 ? "p384" : "p256");
		struct pcitsm_spdm_req r;
		struct pcitsm_spdm_session s;

		print_message("SPDM %x.%x\n", v >> 4, v & 0xf);
		pcitsm_spdm_rsp_opts_pin_version(&f->ro, v);
		pcitsm_spdm_req_cfg_pin_version(&f->ao.cfg, v);
		fx_start(f);
		assert_ok(pcitsm_doe_dev_register(&f->dev, &f->rsp.sdoe));
		assert_ok(pcitsm_spdm_drv_req_authenticate(&r, &f->loop.x, &f->ao, &f->res));
		assert_int_equal(f->res.version, v);
		assert_true(f->res.chain_trusted);
		assert_true(f->res.challenged);
		assert_true(f->res.meas_signed);
		assert_int_equal(f->res.nr_blocks, f->id.nr_meas);
		if (v == PCITSM_SPDM_V10) {
			/* No KEY_EXCHANGE before 1.1. */
			assert_err(pcitsm_spdm_drv_session_open(&s, &r, &f->loop.x, NULL),
				   PCITSM_E_UNSUPPORTED);
		} else {
			assert_ok(pcitsm_spdm_drv_session_open(&s, &r, &f->loop.x, NULL));
			assert_int_equal(s.state, PCITSM_SPDM_SESSION_ESTABLISHED);
			assert_ok(pcitsm_spdm_drv_session_measurements(&s, &f->loop.x, 0xff, true));
			assert_true(s.meas_signed);
			assert_ok(pcitsm_spdm_drv_session_end(&s, &f->loop.x));
		}
		pcitsm_spdm_session_wipe(&s);
		pcitsm_spdm_req_free(&r);
		fx_free(f);
	}
}

/* Inside a session the record layer wraps the ERROR, under the same rule: the request's version
 * when offered, else the negotiated one. */
static void session_error_versions(void **state)
{
	static const struct {
		uint8_t req[4];
		uint8_t code, version;
	} rows[] = {
		{ { 0x13, 0xe8, 0, 0 }, PCITSM_SPDM_ERR_VERSION_MISMATCH, 0x13 },
		{ { 0x20, 0xe8, 0, 0 }, PCITSM_SPDM_ERR_VERSION_MISMATCH, 0x12 },
		{ { 0x12, 0x83, 0, 0 }, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST, 0x12 }, /* CHALLENGE: not in a session */
		{ { 0x12, 0xe4, 0, 0 }, PCITSM_SPDM_ERR_UNEXPECTED_REQUEST, 0x12 },
		{ { 0x12, 0xe9, 9, 0 }, PCITSM_SPDM_ERR_INVALID_REQUEST, 0x12 },
	};
	struct fx *f = fx_new("p256");
	struct pcitsm_spdm_req r;
	struct pcitsm_spdm_session s;
	uint8_t rec[256], out[256], pt[256];
	size_t n, m, k;

	(void)state;
	pcitsm_spdm_req_cfg_pin_version(&f->ao.cfg, PCITSM_SPDM_V12);
	fx_start(f);
	assert_ok(pcitsm_doe_dev_register(&f->dev, &f->rsp.sdoe));
	assert_ok(pcitsm_spdm_drv_req_authenticate(&r, &f->loop.x, &f->ao, &f->res));
	assert_ok(pcitsm_spdm_drv_session_open(&s, &r, &f->loop.x, NULL));
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(rows); i++) {
		assert_ok(pcitsm_record_seal(&s.sm, rows[i].req, 4, rec, sizeof(rec), &n));
		assert_ok(pcitsm_spdm_rsp_handle_secured(&f->rsp, rec, n, out, sizeof(out), &m));
		assert_ok(pcitsm_record_open(&s.sm, out, m, pt, sizeof(pt), &k));
		assert_true(k >= 4);
		assert_int_equal(pt[1], PCITSM_SPDM_ERROR);
		assert_int_equal(pt[2], rows[i].code);
		assert_int_equal(pt[0], rows[i].version);
	}
	/* The session survived every refusal. */
	assert_ok(pcitsm_spdm_drv_session_end(&s, &f->loop.x));
	pcitsm_spdm_session_wipe(&s);
	pcitsm_spdm_req_free(&r);
	fx_free(f);
}

/* A 1.1 signature (over Hash(M) directly) does not verify as 1.2 (prefixed), nor the reverse. */
static void signature_versions_differ(void **state)
{
	struct fx *f = fx_new("p256");
	struct pcitsm_hash_ctx th = { 0 };
	uint8_t sig[64], h[PCITSM_HASH_MAX];
	EVP_PKEY *pub = f->id.key;

	(void)state;
	assert_ok(pcitsm_hash_init(&th, PCITSM_HASH_SHA256));
	assert_ok(pcitsm_hash_update(&th, (const uint8_t *)"transcript", 10));
	assert_ok(spdm_ts_sign(0x11, f->id.key, PCITSM_SIG_ECDSA_P256, SPDM_CTX_CHALLENGE_AUTH, &th,
			       h, sig, sizeof(sig)));
	assert_ok(spdm_ts_verify(0x11, pub, PCITSM_SIG_ECDSA_P256, SPDM_CTX_CHALLENGE_AUTH, &th, h,
				 sig, sizeof(sig)));
	assert_ok(spdm_ts_verify(0x10, pub, PCITSM_SIG_ECDSA_P256, SPDM_CTX_CHALLENGE_AUTH, &th, h,
				 sig, sizeof(sig)));
	assert_int_not_equal(spdm_ts_verify(0x12, pub, PCITSM_SIG_ECDSA_P256,
					    SPDM_CTX_CHALLENGE_AUTH, &th, h, sig, sizeof(sig)),
			     PCITSM_OK);
	assert_ok(spdm_ts_sign(0x12, f->id.key, PCITSM_SIG_ECDSA_P256, SPDM_CTX_CHALLENGE_AUTH, &th,
			       h, sig, sizeof(sig)));
	assert_ok(spdm_ts_verify(0x12, pub, PCITSM_SIG_ECDSA_P256, SPDM_CTX_CHALLENGE_AUTH, &th, h,
				 sig, sizeof(sig)));
	assert_int_not_equal(spdm_ts_verify(0x11, pub, PCITSM_SIG_ECDSA_P256,
					    SPDM_CTX_CHALLENGE_AUTH, &th, h, sig, sizeof(sig)),
			     PCITSM_OK);
	assert_int_not_equal(spdm_ts_verify(0x13, pub, PCITSM_SIG_ECDSA_P256,
					    SPDM_CTX_CHALLENGE_AUTH, &th, h, sig, sizeof(sig)),
			     PCITSM_OK);
	pcitsm_hash_free(&th);
	fx_free(f);
}

/* A 1.1-only responder and the default requester (1.2-1.3): E_VERSION, and the message names both
 * sides' versions once. */
static void mismatch_message(void **state)
{
	struct fx *f = fx_new("p256");
	static const uint8_t v[] = { 0x10, 0x11 };

	(void)state;
	memcpy(f->ro.versions, v, sizeof(v));
	f->ro.nr_versions = 2;
	assert_err(fx_auth(f), PCITSM_E_VERSION);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_VERSION);
	assert_int_equal(f->res.nr_peer_versions, 2);
	assert_string_equal(f->res.why,
			    "device offers SPDM 1.0, 1.1; pcitsm accepts 1.2\xe2\x80\x93" "1.3");
	pcitsm_spdm_req_cfg_pin_version(&f->ao.cfg, PCITSM_SPDM_V13);
	assert_err(fx_auth(f), PCITSM_E_VERSION);
	assert_string_equal(f->res.why, "device offers SPDM 1.0, 1.1; pcitsm accepts 1.3");
	fx_free(f);
}

int main(void)
{
	return test_run(error_versions, fault_versions, version_matrix, session_error_versions,
		        signature_versions_differ, mismatch_message);
}
