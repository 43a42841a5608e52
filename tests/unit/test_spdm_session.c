/* SPDX-License-Identifier: MIT */
/*
 * SPDM secure sessions end to end over the DOE loopback (type 1 for KEY_EXCHANGE, type 2 after):
 * both DHE groups and AEADs, in-session measurements, HEARTBEAT, KEY_UPDATE both ways, a PCI-SIG
 * vendor-defined round trip, END_SESSION with the context wiped, several sessions and the limit,
 * and every failure: bad verify data either way, tampered, replayed and foreign records, KEY_UPDATE
 * out of order, and the responder's ERRORs for out-of-order KEY_EXCHANGE / FINISH.
 */
#include "test_spdm_fixture.h"
#include "pcitsm/session.h"

#define SPDM_TEST_CERT_PORTION 1024 /* the requester's portion size (lib/spdm/req_priv.h) */

struct sx {
	struct fx *f;
	struct pcitsm_spdm_req r;
	bool r_init;
};

static struct sx *sx_new(const char *which, void (*adjust)(struct fx *f))
{
	struct sx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->f = fx_new(which);
	if (adjust)
		adjust(x->f);
	fx_start(x->f);
	assert_ok(pcitsm_doe_dev_register(&x->f->dev, &x->f->rsp.sdoe));
	assert_ok(pcitsm_spdm_drv_req_authenticate(&x->r, &x->f->loop.x, &x->f->ao, &x->f->res));
	x->r_init = true;
	return x;
}

static void sx_free(struct sx *x)
{
	pcitsm_spdm_req_free(&x->r);
	fx_free(x->f);
	free(x);
}

/* A PCI-SIG protocol handler that answers "protocol id, 0xAA, the request reversed". */
static unsigned echo_calls;
static pcitsm_err echo_vdm(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
			   struct pcitsm_wr *rsp)
{
	echo_calls++;
	if (len == 2 && req[1] == 0xee)
		return PCITSM_E_NORESPONSE; /* "ignored" */
	pcitsm_wr_u8(rsp, req[0]);
	pcitsm_wr_u8(rsp, 0xaa);
	for (size_t i = len; i > 1; i--)
		pcitsm_wr_u8(rsp, req[i - 1]);
	return pcitsm_wr_err(rsp);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* After END_SESSION the context holds nothing but the state ENDED. */
static void assert_wiped(const struct pcitsm_spdm_session *s)
{
	struct pcitsm_spdm_session z;

	memset(&z, 0, sizeof(z));
	z.state = PCITSM_SPDM_SESSION_ENDED;
	z.err = s->err;
	z.peer_error = s->peer_error;
	z.peer_error_data = s->peer_error_data;
	assert_memory_equal(s, &z, sizeof(z));
}

static void full_session(const char *which, void (*adjust)(struct fx *f), enum pcitsm_aead_alg aead,
			 enum pcitsm_hash_alg hash, uint16_t sm_version)
{
	struct sx *x = sx_new(which, adjust);
	struct pcitsm_spdm_session s;
	uint8_t q[5] = { PCITSM_SPDM_PROTO_TDISP, 1, 2, 3, 4 }, out[64];
	struct pcitsm_wr w;

	assert_ok(pcitsm_spdm_rsp_register_vdm(&x->f->rsp, PCITSM_SPDM_PROTO_TDISP, echo_vdm, NULL));
	assert_err(pcitsm_spdm_rsp_register_vdm(&x->f->rsp, PCITSM_SPDM_PROTO_TDISP, echo_vdm, NULL),
		   PCITSM_E_EXISTS);
	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	assert_int_equal(s.state, PCITSM_SPDM_SESSION_ESTABLISHED);
	assert_int_equal(s.sm.ks.aead, aead);
	assert_int_equal(s.sm.ks.hash, hash);
	assert_int_equal(s.sm.sm_version, sm_version);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 1);
	/* measurements inside the session, signed and not */
	assert_ok(pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, true));
	assert_true(s.meas_signed && s.meas_nr_blocks > 0);
	assert_ok(pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, false));
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
	/* both key updates, then traffic still flows under the new keys */
	assert_ok(pcitsm_spdm_drv_session_key_update(&s, &x->f->loop.x, false));
	assert_ok(pcitsm_spdm_drv_session_key_update(&s, &x->f->loop.x, true));
	assert_int_equal(s.key_updates, 2);
	assert_int_equal(s.sm.app[PCITSM_SM_REQ].seq, 1); /* VerifyNewKey was the first under it */
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
	/* vendor-defined: payload from the Protocol ID byte, both ways */
	pcitsm_wr_init(&w, out, sizeof(out));
	assert_ok(pcitsm_spdm_drv_vdm_call(&s, &x->f->loop.x, PCITSM_SPDM_PROTO_TDISP, q, sizeof(q), &w));
	assert_int_equal(pcitsm_wr_len(&w), 6);
	assert_memory_equal(out, ((uint8_t[]){ 1, 0xaa, 4, 3, 2, 1 }), 6);
	assert_err(pcitsm_spdm_drv_vdm_call(&s, &x->f->loop.x, 0, q, sizeof(q), &w), PCITSM_E_INVAL);
	/* a protocol nobody registered: ERROR UnsupportedRequest, the session goes on */
	q[0] = PCITSM_SPDM_PROTO_IDE_KM;
	assert_err(pcitsm_spdm_drv_vdm_call(&s, &x->f->loop.x, 0, q, sizeof(q), &w), PCITSM_E_PEER_ERROR);
	assert_int_equal(s.peer_error, PCITSM_SPDM_ERR_UNSUPPORTED_REQUEST);
	/* a request the handler ignores: no response, the session stays in step */
	q[0] = PCITSM_SPDM_PROTO_TDISP;
	q[1] = 0xee;
	assert_err(pcitsm_spdm_drv_vdm_call(&s, &x->f->loop.x, 1, q, 2, &w), PCITSM_E_NORESPONSE);
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
	/* END_SESSION: everything wiped on both sides */
	assert_ok(pcitsm_spdm_drv_session_end(&s, &x->f->loop.x));
	assert_int_equal(s.err, PCITSM_OK);
	assert_wiped(&s);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 0);
	assert_true(all_zero(x->f->rsp.sessions, sizeof(x->f->rsp.sessions)));
	sx_free(x);
}

static void p384_aes256(void **state)
{
	full_session("p384", NULL, PCITSM_AEAD_AES_256_GCM, PCITSM_HASH_SHA512, PCITSM_SM_V12);
}

static void adj_p256_aes128(struct fx *f)
{
	f->ro.dhe = PCITSM_SPDM_DHE_SECP256R1;
	f->ro.aead = PCITSM_SPDM_AEAD_AES_128_GCM;
	f->ro.base_hash = PCITSM_SPDM_HASH_SHA256;
}

static void p256_aes128_sha256(void **state)
{
	full_session("p256", adj_p256_aes128, PCITSM_AEAD_AES_128_GCM, PCITSM_HASH_SHA256,
		     PCITSM_SM_V12);
}

static void adj_spdm12(struct fx *f)
{
	f->ao.cfg.max_version = PCITSM_SPDM_V12;
}

static void spdm12(void **state)
{
	full_session("p384", adj_spdm12, PCITSM_AEAD_AES_256_GCM, PCITSM_HASH_SHA512, PCITSM_SM_V12);
}

static void adj_spdm11(struct fx *f)
{
	f->ao.cfg.min_version = f->ao.cfg.max_version = PCITSM_SPDM_V11;
}

static void spdm11(void **state)
{
	full_session("p256", adj_spdm11, PCITSM_AEAD_AES_256_GCM, PCITSM_HASH_SHA512, PCITSM_SM_V12);
}

static pcitsm_err b_challenge(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_req_challenge(r, 0, 0, w);
}

static pcitsm_err b_meas(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	return pcitsm_spdm_req_get_measurements(r, 0xff, true, 0, w);
}

/* DSP0277 1.1 when the requester offers only that, with SPDM 1.3 (opaque format 1) and 1.1 (the
 * DSP0277 opaque header); traffic and END_SESSION as usual. */
static void dsp0277_v11(void **state)
{
	static const uint16_t v11[] = { PCITSM_SM_V11 }, v10[] = { PCITSM_SM_V10 };
	struct pcitsm_spdm_session_opts o = { .sm_versions = v11, .nr_sm_versions = 1 };

	for (int spdm11 = 0; spdm11 < 2; spdm11++) {
		struct sx *x = sx_new("p256", spdm11 ? adj_spdm11 : NULL);
		struct pcitsm_spdm_session s;

		assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, &o));
		assert_int_equal(s.sm.sm_version, PCITSM_SM_V11);
		assert_int_equal(x->f->rsp.sessions[0].sm.sm_version, PCITSM_SM_V11);
		assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
		assert_ok(pcitsm_spdm_drv_session_end(&s, &x->f->loop.x));
		/* no common version (1.0 only): the responder refuses KEY_EXCHANGE */
		o.sm_versions = v10;
		assert_err(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, &o),
			   PCITSM_E_PEER_ERROR);
		assert_int_equal(s.peer_error, PCITSM_SPDM_ERR_INVALID_REQUEST);
		o.sm_versions = v11;
		sx_free(x);
	}
}

/* Negotiation: DHE, AEAD, key schedule offered and selected; KEY_EX on both sides. And the
 * connection's own transcripts stay in step around a session (B and M restart at KEY_EXCHANGE
 * on both sides): CHALLENGE and signed measurements in the clear still verify. */
static void negotiated(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	assert_ok(pcitsm_spdm_drv_req_exchange(&x->r, &x->f->loop.x, b_challenge, NULL));
	assert_ok(pcitsm_spdm_drv_req_exchange(&x->r, &x->f->loop.x, b_meas, NULL));
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_end(&s, &x->f->loop.x));

	assert_int_equal(x->r.dhe, PCITSM_SPDM_DHE_SECP384R1);
	assert_int_equal(x->r.aead, PCITSM_SPDM_AEAD_AES_256_GCM);
	assert_int_equal(x->r.key_schedule, PCITSM_SPDM_KEY_SCHEDULE_SPDM);
	assert_true(x->r.rsp_caps & PCITSM_SPDM_CAP_KEY_EX);
	assert_true(x->f->rsp.req_caps & PCITSM_SPDM_CAP_KEY_EX);
	assert_int_equal(x->f->rsp.dhe, PCITSM_SPDM_DHE_SECP384R1);
	sx_free(x);
}

static void adj_bad_rsp_verify(struct fx *f)
{
	f->faults.bad_verify_data = true;
}

static void bad_responder_verify_data(void **state)
{
	struct sx *x = sx_new("p384", adj_bad_rsp_verify);
	struct pcitsm_spdm_session s;

	assert_err(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL), PCITSM_E_MAC);
	assert_int_equal(s.err, PCITSM_E_MAC);
	assert_wiped(&s);
	sx_free(x);
}

static void adj_bad_sig(struct fx *f)
{
	f->faults.bad_signature = true;
}

static void bad_key_exchange_signature(void **state)
{
	struct fx *f = fx_new("p384");
	struct pcitsm_spdm_req r;
	struct pcitsm_spdm_session s;

	adj_bad_sig(f);
	fx_start(f);
	assert_ok(pcitsm_doe_dev_register(&f->dev, &f->rsp.sdoe));
	f->ao.skip_challenge = true;
	f->ao.meas = PCITSM_SPDM_MEAS_NONE;
	assert_ok(pcitsm_spdm_drv_req_authenticate(&r, &f->loop.x, &f->ao, &f->res));
	assert_err(pcitsm_spdm_drv_session_open(&s, &r, &f->loop.x, NULL), PCITSM_E_SIGNATURE);
	assert_wiped(&s);
	pcitsm_spdm_req_free(&r);
	fx_free(f);
}

/* Plain KEY_EXCHANGE, then FINISH by hand: the engine's pieces. */
static void key_exchange(struct sx *x, struct pcitsm_spdm_session *s)
{
	uint8_t req[256], rsp[1024];
	struct pcitsm_wr w;
	size_t n;

	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_key_exchange(s, &x->r, &(struct pcitsm_spdm_session_opts){ 0 },
						       &w));
	n = fx_rsp(x->f, req, pcitsm_wr_len(&w), rsp, sizeof(rsp));
	assert_ok(pcitsm_spdm_session_feed_plain(s, rsp, n));
	assert_int_equal(s->state, PCITSM_SPDM_SESSION_HANDSHAKE);
}

/* One secured exchange straight into the responder; returns the response record length. */
static size_t sec(struct sx *x, const uint8_t *rec, size_t len, uint8_t *out, size_t cap,
		  pcitsm_err want)
{
	size_t n = 0;

	assert_err(pcitsm_spdm_rsp_handle_secured(&x->f->rsp, rec, len, out, cap, &n), want);
	return n;
}

static void bad_requester_verify_data(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t req[256], rsp[256];
	struct pcitsm_wr w;
	size_t n;

	key_exchange(x, &s);
	s.sm.ks.finished_key[PCITSM_SM_REQ][0] ^= 1; /* our VerifyData will be wrong */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_finish(&s, &w));
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	/* ERROR DecryptError under the handshake key; both sides end the session */
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 0);
	assert_err(pcitsm_spdm_session_feed(&s, rsp, n, NULL), PCITSM_E_PEER_ERROR);
	assert_int_equal(s.peer_error, PCITSM_SPDM_ERR_DECRYPT_ERROR);
	assert_wiped(&s);
	sx_free(x);
}

/* Two sessions; a tampered record on one ends that one only. */
static void tampered_record(void **state)
{
	struct sx *x = sx_new("p256", NULL);
	struct pcitsm_spdm_session a, b;
	uint8_t req[64], rsp[256];
	struct pcitsm_wr w;
	size_t n;

	assert_ok(pcitsm_spdm_drv_session_open(&a, &x->r, &x->f->loop.x, NULL));
	assert_ok(pcitsm_spdm_drv_session_open(&b, &x->r, &x->f->loop.x, NULL));
	assert_int_not_equal(a.sm.id, b.sm.id);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 2);
	for (size_t bit = 0; bit < 3; bit++) {
		struct pcitsm_spdm_session *t = bit == 0 ? &a : &b;

		if (bit == 2)
			break;
		pcitsm_wr_init(&w, req, sizeof(req));
		assert_ok(pcitsm_spdm_session_req_heartbeat(t, &w));
		if (t == &a)
			req[9] ^= 0x40; /* inside the ciphertext */
		n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
		if (t == &a) {
			assert_err(pcitsm_spdm_session_feed(t, rsp, n, NULL), PCITSM_E_PEER_ERROR);
			assert_int_equal(t->peer_error, PCITSM_SPDM_ERR_DECRYPT_ERROR);
			assert_int_equal(t->state, PCITSM_SPDM_SESSION_ENDED);
		} else {
			assert_ok(pcitsm_spdm_session_feed(t, rsp, n, NULL));
		}
	}
	assert_int_equal(x->f->rsp.decrypt_errors, 1);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 1);
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&b, &x->f->loop.x));
	/* a tampered response ends the requester's session */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_heartbeat(&b, &w));
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	rsp[n - 1] ^= 1; /* the MAC */
	assert_err(pcitsm_spdm_session_feed(&b, rsp, n, NULL), PCITSM_E_MAC);
	assert_wiped(&b);
	sx_free(x);
}

static void replayed_record(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t req[64], rsp[256], old[256];
	size_t old_len;
	struct pcitsm_wr w;
	size_t n;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_heartbeat(&s, &w));
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	memcpy(old, rsp, n);
	old_len = n;
	assert_ok(pcitsm_spdm_session_feed(&s, rsp, n, NULL));
	/* the same request again: the counter moved on, the tag fails, DecryptError, gone */
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	assert_int_equal(x->f->rsp.decrypt_errors, 1);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 0);
	/* and the old response replayed to the requester fails too */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_heartbeat(&s, &w));
	assert_err(pcitsm_spdm_session_feed(&s, old, old_len, NULL), PCITSM_E_MAC);
	assert_wiped(&s);
	sx_free(x);
}

static void unknown_session_id(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t req[64], rsp[256], foreign[64];
	struct pcitsm_wr w;
	size_t n;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_heartbeat(&s, &w));
	memcpy(foreign, req, pcitsm_wr_len(&w));
	foreign[3] ^= 0x80; /* another RspSessionID */
	/* dropped silently; the session is untouched and the real record still opens */
	sec(x, foreign, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_E_NORESPONSE);
	assert_int_equal(x->f->rsp.dropped_records, 1);
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	/* a response naming another session: E_NOTFOUND and nothing changes */
	memcpy(foreign, rsp, n);
	foreign[0] ^= 1;
	assert_err(pcitsm_spdm_session_feed(&s, foreign, n, NULL), PCITSM_E_NOTFOUND);
	assert_ok(pcitsm_spdm_session_feed(&s, rsp, n, NULL));
	assert_int_equal(s.heartbeats, 1);
	assert_ok(pcitsm_spdm_drv_session_end(&s, &x->f->loop.x));
	sx_free(x);
}

/* Seal a plaintext SPDM message in s straight to the responder; return its opened answer. */
static size_t raw_call(struct sx *x, struct pcitsm_spdm_session *s, const uint8_t *msg, size_t len,
		       uint8_t *plain)
{
	uint8_t rec[128], rsp[256];
	size_t n, m;

	assert_ok(pcitsm_record_seal(&s->sm, msg, len, rec, sizeof(rec), &n));
	n = sec(x, rec, n, rsp, sizeof(rsp), PCITSM_OK);
	assert_ok(pcitsm_record_open(&s->sm, rsp, n, plain, sizeof(rsp), &m));
	return m;
}

static void key_update_out_of_order(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t req[64], plain[256];
	uint8_t verify[4] = { PCITSM_SPDM_V13, PCITSM_SPDM_KEY_UPDATE, 3, 7 };
	uint8_t bad_op[4] = { PCITSM_SPDM_V13, PCITSM_SPDM_KEY_UPDATE, 9, 7 };
	struct pcitsm_wr w;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	/* requester engine: VerifyNewKey before an update is refused locally */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_err(pcitsm_spdm_session_req_key_update(&s, 3, &w), PCITSM_E_STATE);
	/* responder: VerifyNewKey with no update pending, an unknown operation: InvalidRequest */
	assert_int_equal(raw_call(x, &s, verify, 4, plain), 4);
	assert_int_equal(plain[1], PCITSM_SPDM_ERROR);
	assert_int_equal(plain[2], PCITSM_SPDM_ERR_INVALID_REQUEST);
	raw_call(x, &s, bad_op, 4, plain);
	assert_int_equal(plain[2], PCITSM_SPDM_ERR_INVALID_REQUEST);
	/* UpdateKey acknowledged; a second UpdateKey before VerifyNewKey is refused on both sides */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_key_update(&s, 1, &w));
	{
		uint8_t rsp[256];
		size_t n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);

		assert_ok(pcitsm_spdm_session_feed(&s, rsp, n, NULL));
	}
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_err(pcitsm_spdm_session_req_key_update(&s, 2, &w), PCITSM_E_STATE);
	bad_op[2] = 1; /* under the new request key now */
	raw_call(x, &s, bad_op, 4, plain);
	assert_int_equal(plain[2], PCITSM_SPDM_ERR_INVALID_REQUEST);
	/* an ACK that does not echo the tag ends the requester's session */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_key_update(&s, 3, &w));
	s.req_hdr[3] ^= 1;
	{
		uint8_t rsp[256];
		size_t n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);

		assert_err(pcitsm_spdm_session_feed(&s, rsp, n, NULL), PCITSM_E_FIELD);
	}
	assert_wiped(&s);
	sx_free(x);
}

static void adj_limit2(struct fx *f)
{
	f->ro.max_sessions = 2;
	f->ro.heartbeat_period = 5;
	f->ro.heartbeat_watchdog = true;
}

static void session_limit(void **state)
{
	struct sx *x = sx_new("p384", adj_limit2);
	struct pcitsm_spdm_session s[3];

	assert_ok(pcitsm_spdm_drv_session_open(&s[0], &x->r, &x->f->loop.x, NULL));
	assert_int_equal(s[0].heartbeat_period, 5);
	/* any message within two periods keeps a session alive */
	x->f->et.clock_ns += 9ull * 1000000000ull;
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s[0], &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_open(&s[1], &x->r, &x->f->loop.x, NULL));
	assert_err(pcitsm_spdm_drv_session_open(&s[2], &x->r, &x->f->loop.x, NULL), PCITSM_E_PEER_ERROR);
	assert_int_equal(s[2].peer_error, PCITSM_SPDM_ERR_SESSION_LIMIT_EXCEEDED);
	/* one ends: room again */
	assert_ok(pcitsm_spdm_drv_session_end(&s[0], &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_open(&s[2], &x->r, &x->f->loop.x, NULL));
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s[1], &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s[2], &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_end(&s[1], &x->f->loop.x));
	/* silent for more than two heartbeat periods: the responder ends the session and drops
	 * what comes next */
	x->f->et.clock_ns += 11ull * 1000000000ull;
	assert_err(pcitsm_spdm_drv_session_heartbeat(&s[2], &x->f->loop.x), PCITSM_E_NORESPONSE);
	assert_int_equal(x->f->rsp.sessions_expired, 1);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 0);
	pcitsm_spdm_session_wipe(&s[2]);
	sx_free(x);
}

static const uint8_t get_version[] = { 0x10, 0x84, 0, 0 };

static void responder_out_of_order(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t req[256], rsp[1024], plain[256];
	uint8_t finish_clear[4 + 48] = { PCITSM_SPDM_V13, PCITSM_SPDM_FINISH, 0, 0 };
	uint8_t finish_again[4 + 48] = { PCITSM_SPDM_V13, PCITSM_SPDM_FINISH, 0, 0 };
	uint8_t vdm[12] = { PCITSM_SPDM_V13, PCITSM_SPDM_VENDOR_DEFINED_REQUEST, 0, 0, 3, 0, 2,
			    1, 0, 1, 0, 0 };
	struct pcitsm_wr w;
	size_t n;

	/* FINISH in the clear: SessionRequired */
	n = fx_rsp(x->f, finish_clear, sizeof(finish_clear), rsp, sizeof(rsp));
	assert_int_equal(rsp[1], PCITSM_SPDM_ERROR);
	assert_int_equal(rsp[2], PCITSM_SPDM_ERR_SESSION_REQUIRED);
	/* a PCI-SIG vendor-defined request outside a session: ignored, nothing written */
	assert_err(pcitsm_spdm_rsp_handle(&x->f->rsp, vdm, sizeof(vdm), rsp, sizeof(rsp), &n),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(n, 0);
	/* FINISH twice: UnexpectedRequest in the established session */
	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	memcpy(plain, finish_again, sizeof(finish_again));
	n = raw_call(x, &s, plain, sizeof(finish_again), plain);
	assert_int_equal(plain[1], PCITSM_SPDM_ERROR);
	assert_int_equal(plain[2], PCITSM_SPDM_ERR_UNEXPECTED_REQUEST);
	/* KEY_EXCHANGE inside a session: UnexpectedRequest */
	plain[0] = PCITSM_SPDM_V13, plain[1] = PCITSM_SPDM_KEY_EXCHANGE;
	raw_call(x, &s, plain, 4, plain);
	assert_int_equal(plain[2], PCITSM_SPDM_ERR_UNEXPECTED_REQUEST);
	/* GET_VERSION ends every session; KEY_EXCHANGE before ALGORITHMS: UnexpectedRequest */
	n = fx_rsp(x->f, get_version, sizeof(get_version), rsp, sizeof(rsp));
	assert_int_equal(rsp[1], PCITSM_SPDM_VERSION);
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 0);
	pcitsm_spdm_session_wipe(&s);
	pcitsm_wr_init(&w, req, sizeof(req));
	req[0] = PCITSM_SPDM_V13, req[1] = PCITSM_SPDM_KEY_EXCHANGE;
	memset(req + 2, 0, 200);
	fx_rsp(x->f, req, 200, rsp, sizeof(rsp));
	assert_int_equal(rsp[1], PCITSM_SPDM_ERROR);
	assert_int_equal(rsp[2], PCITSM_SPDM_ERR_UNEXPECTED_REQUEST);
	sx_free(x);
}

/* Requester-side state rules. */
/* A transport that lets `pass` secured requests through, then drops the next one unanswered. */
struct mute {
	struct pcitsm_xport x;
	struct pcitsm_xport *inner;
	unsigned pass;
};

static pcitsm_err mute_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				size_t *rsp_len)
{
	struct mute *m = (struct mute *)(void *)x;

	if (type == PCITSM_DOE_TYPE_SECURED_CMA && m->pass-- == 0)
		return PCITSM_E_TIMEOUT;
	return pcitsm_xport_exchange(m->inner, vid, type, req, req_len, rsp, rsp_cap, rsp_len);
}

static const struct pcitsm_xport_ops mute_ops = { .exchange = mute_exchange };

/* No answer to FINISH or KEY_UPDATE: the keys are out of step, so the session ends and is wiped
 * (as after an ERROR to them); no answer to HEARTBEAT keeps it. */
static void silent_finish_or_key_update(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct mute m = { .x = { .ops = &mute_ops, .name = "mute" }, .inner = &x->f->loop.x };
	struct pcitsm_spdm_session s;

	m.pass = 0;
	assert_err(pcitsm_spdm_drv_session_open(&s, &x->r, &m.x, NULL), PCITSM_E_TIMEOUT);
	assert_wiped(&s);
	m.pass = 1;
	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &m.x, NULL));
	assert_err(pcitsm_spdm_drv_session_heartbeat(&s, &m.x), PCITSM_E_TIMEOUT);
	assert_int_equal(s.state, PCITSM_SPDM_SESSION_ESTABLISHED);
	pcitsm_spdm_session_wipe(&s);
	for (int all = 0; all < 2; all++) {
		m.pass = 1;
		assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &m.x, NULL));
		assert_err(pcitsm_spdm_drv_session_key_update(&s, &m.x, all), PCITSM_E_TIMEOUT);
		assert_int_equal(s.err, PCITSM_E_TIMEOUT);
		assert_wiped(&s);
	}
	sx_free(x);
}

/* The responder's session context that s talks to. */
static struct pcitsm_spdm_rsp_session *rsp_side(struct sx *x, const struct pcitsm_spdm_session *s)
{
	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		if (x->f->rsp.sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE &&
		    x->f->rsp.sessions[i].sm.id == s->sm.id)
			return &x->f->rsp.sessions[i];
	fail();
	return NULL;
}

/* An unsigned MEASUREMENTS for GET_MEASUREMENTS(index 1), forged under the responder's key: one
 * block of index `index`, NumberOfBlocks nr, Param1 p1. */
static pcitsm_err forged_measurements(struct sx *x, uint8_t nr, uint8_t index, uint8_t p1)
{
	struct pcitsm_spdm_session s;
	uint8_t req[128], msg[128], rec[256];
	struct pcitsm_wr w;
	size_t n;
	pcitsm_err e;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_get_measurements(&s, 1, false, &w));
	pcitsm_wr_init(&w, msg, sizeof(msg));
	pcitsm_wr_u8(&w, x->r.version);
	pcitsm_wr_u8(&w, PCITSM_SPDM_MEASUREMENTS);
	pcitsm_wr_u8(&w, p1);
	pcitsm_wr_u8(&w, 0);
	pcitsm_wr_u8(&w, nr);
	pcitsm_wr_le24(&w, 11);
	/* Index | DMTF | MeasurementSize 7 | Type 0 (ROM digest) | ValueSize 4 | Value */
	pcitsm_wr_bytes(&w, ((uint8_t[]){ index, 1, 7, 0, 0, 4, 0, 1, 2, 3, 4 }), 11);
	memset(pcitsm_wr_reserve(&w, PCITSM_SPDM_NONCE_LEN), 0x55, PCITSM_SPDM_NONCE_LEN);
	pcitsm_wr_le16(&w, 0); /* OpaqueDataLength */
	if (x->r.version >= PCITSM_SPDM_V13)
		pcitsm_wr_zero(&w, PCITSM_SPDM_CONTEXT_LEN); /* the (unsigned) request's context */
	assert_ok(pcitsm_wr_err(&w));
	assert_ok(pcitsm_record_seal(&rsp_side(x, &s)->sm, msg, pcitsm_wr_len(&w), rec,
				      sizeof(rec), &n));
	e = pcitsm_spdm_session_feed(&s, rec, n, NULL);
	if (e == PCITSM_OK)
		assert_int_equal(s.meas_nr_blocks, 1);
	else
		assert_wiped(&s);
	pcitsm_spdm_session_wipe(&s);
	return e;
}

/* MEASUREMENTS inside a session get the checks they get outside one (req_on_measurements). */
static void session_measurements_fields(void **state)
{
	struct sx *x = sx_new("p384", NULL);

	assert_ok(forged_measurements(x, 1, 1, 0)); /* the forgery itself is well formed */
	assert_err(forged_measurements(x, 2, 1, 0), PCITSM_E_FIELD);    /* count != blocks */
	assert_err(forged_measurements(x, 1, 2, 0), PCITSM_E_FIELD);    /* not the index asked */
	assert_err(forged_measurements(x, 1, 1, 3), PCITSM_E_RESERVED); /* Param1 reserved */
	sx_free(x);
}

/* SIGNED in-session MEASUREMENTS, each forged one way by the responder (its faults switched
 * on after the session is open, so KEY_EXCHANGE was honest): a bad signature, our own nonce
 * reflected, and (1.3) a RequesterContext that is not ours, the last two correctly signed so that
 * only the check named fails (DSP0274 GET_MEASUREMENTS / MEASUREMENTS, docs/sessions.md). */
static pcitsm_err signed_forgery(struct sx *x, bool *fault)
{
	struct pcitsm_spdm_session s;
	pcitsm_err e;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	/* the honest one verifies first */
	assert_ok(pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, true));
	assert_true(s.meas_signed);
	*fault = true;
	e = pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, true);
	*fault = false;
	if (e != PCITSM_OK)
		assert_wiped(&s);
	pcitsm_spdm_session_wipe(&s);
	return e;
}

static void session_measurements_signed_forged(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_faults *o = &x->f->rsp.faults;

	assert_int_equal(x->r.version, PCITSM_SPDM_V13);
	assert_err(signed_forgery(x, &o->bad_signature), PCITSM_E_SIGNATURE);
	assert_err(signed_forgery(x, &o->echo_nonce), PCITSM_E_NONCE);
	assert_err(signed_forgery(x, &o->wrong_context), PCITSM_E_NONCE);
	sx_free(x);
}

/* Application requests before FINISH, sealed under the request handshake key by hand (our
 * engine refuses to build them): the responder answers ERROR UnexpectedRequest (DSP0274: only
 * FINISH is legal in the handshake phase) and the session's handshake goes on. A KEY_EXCHANGE_RSP
 * fed to an established session is refused without touching it. */
static void handshake_phase_order(void **state)
{
	static const uint8_t codes[] = { PCITSM_SPDM_HEARTBEAT, PCITSM_SPDM_END_SESSION,
					 PCITSM_SPDM_KEY_UPDATE, PCITSM_SPDM_GET_DIGESTS };
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t msg[4], plain[256], junk[8] = { PCITSM_SPDM_V13, PCITSM_SPDM_KEY_EXCHANGE_RSP };
	uint8_t req[256], rsp[256];
	struct pcitsm_wr w;
	size_t n;

	key_exchange(x, &s);
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_err(pcitsm_spdm_session_req_get_digests(&s, &w), PCITSM_E_STATE);
	assert_err(pcitsm_spdm_session_req_get_certificate(&s, &w), PCITSM_E_STATE);
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(codes); i++) {
		msg[0] = x->r.version;
		msg[1] = codes[i];
		msg[2] = codes[i] == PCITSM_SPDM_KEY_UPDATE ? 1 : 0;
		msg[3] = 0;
		assert_int_equal(raw_call(x, &s, msg, sizeof(msg), plain), 4);
		assert_int_equal(plain[1], PCITSM_SPDM_ERROR);
		assert_int_equal(plain[2], PCITSM_SPDM_ERR_UNEXPECTED_REQUEST);
	}
	assert_int_equal(pcitsm_spdm_rsp_nr_sessions(&x->f->rsp), 1);
	/* FINISH still completes the handshake */
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_finish(&s, &w));
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	assert_ok(pcitsm_spdm_session_feed(&s, rsp, n, NULL));
	assert_int_equal(s.state, PCITSM_SPDM_SESSION_ESTABLISHED);
	/* a plain KEY_EXCHANGE_RSP now: wrong state, the session is untouched */
	assert_err(pcitsm_spdm_session_feed_plain(&s, junk, sizeof(junk)), PCITSM_E_STATE);
	assert_int_equal(s.state, PCITSM_SPDM_SESSION_ESTABLISHED);
	assert_int_equal(s.err, PCITSM_OK);
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_end(&s, &x->f->loop.x));
	sx_free(x);
}

/* GET_DIGESTS / GET_CERTIFICATE inside the session (docs/sessions.md): both succeed, the chain
 * read is the authenticated one, a portion asked at an offset is that part of the chain, and
 * neither B (a later CHALLENGE in the clear) nor the session (signed measurements, KEY_UPDATE) is
 * disturbed. */
static void session_digests_certificate(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t msg[8], plain[256];
	struct pcitsm_wr w;
	size_t n;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	/* signed measurements straddle the reads: M restarts, the signature still verifies */
	assert_ok(pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, false));
	assert_ok(pcitsm_spdm_drv_session_get_digests(&s, &x->f->loop.x));
	assert_true(s.digests_match);
	assert_ok(pcitsm_spdm_drv_session_get_certificate(&s, &x->f->loop.x));
	assert_true(s.cert_match);
	assert_int_equal(s.cert_off, x->r.chain_len);
	assert_true(x->r.chain_len > SPDM_TEST_CERT_PORTION); /* it took more than one portion */
	assert_ok(pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, true));
	assert_ok(pcitsm_spdm_drv_session_key_update(&s, &x->f->loop.x, true));
	assert_ok(pcitsm_spdm_drv_session_get_certificate(&s, &x->f->loop.x)); /* again from 0 */
	assert_ok(pcitsm_spdm_drv_session_measurements(&s, &x->f->loop.x, 0xff, true));
	/* the responder's portion at offset 10, length 20 */
	pcitsm_wr_init(&w, msg, sizeof(msg));
	pcitsm_wr_bytes(&w, ((uint8_t[]){ x->r.version, PCITSM_SPDM_GET_CERTIFICATE, 0, 0 }), 4);
	pcitsm_wr_le16(&w, 10);
	pcitsm_wr_le16(&w, 20);
	assert_ok(pcitsm_wr_err(&w));
	n = raw_call(x, &s, msg, pcitsm_wr_len(&w), plain);
	assert_int_equal(n, 8 + 20);
	assert_int_equal(plain[1], PCITSM_SPDM_GET_CERTIFICATE & 0x7f);
	assert_int_equal(pcitsm_get_le16(plain + 4), 20);
	assert_int_equal(pcitsm_get_le16(plain + 6), x->r.chain_len - 30);
	assert_memory_equal(plain + 8, x->r.chain + 10, 20);
	/* B was not touched on either side: CHALLENGE in the clear verifies */
	assert_ok(pcitsm_spdm_drv_req_exchange(&x->r, &x->f->loop.x, b_challenge, NULL));
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&s, &x->f->loop.x));
	assert_ok(pcitsm_spdm_drv_session_end(&s, &x->f->loop.x));
	sx_free(x);
}

/* A DIGESTS entry or a chain portion that is not the authenticated chain ends the session. */
static void session_chain_mismatch(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	x->f->rsp.chain_digest[0] ^= 1;
	assert_err(pcitsm_spdm_drv_session_get_digests(&s, &x->f->loop.x), PCITSM_E_HASH);
	assert_wiped(&s);
	x->f->rsp.chain_digest[0] ^= 1;
	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	x->f->rsp.chain[x->f->rsp.chain_len - 40] ^= 1; /* in the leaf, the last portion */
	assert_err(pcitsm_spdm_drv_session_get_certificate(&s, &x->f->loop.x), PCITSM_E_CERT);
	assert_wiped(&s);
	x->f->rsp.chain[x->f->rsp.chain_len - 40] ^= 1;
	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	x->f->rsp.chain_len--; /* the lengths no longer add up to the chain */
	assert_err(pcitsm_spdm_drv_session_get_certificate(&s, &x->f->loop.x), PCITSM_E_CERT);
	x->f->rsp.chain_len++;
	sx_free(x);
}

/* DIGESTS / CERTIFICATE forged under the responder's key for an in-session request: the field
 * checks of the in-session parsers. digests: Param2 (slot mask) p2; certificate: slot, portion
 * length plen (PortionLength as sent; 0 or more than asked are refused). */
static pcitsm_err forged_cert_msg(bool digests, uint8_t p2_or_slot, uint16_t plen)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	pcitsm_err e;
	uint8_t req[128], msg[2048], rec[2200];
	struct pcitsm_wr w;
	size_t n;

	assert_ok(pcitsm_spdm_drv_session_open(&s, &x->r, &x->f->loop.x, NULL));
	pcitsm_wr_init(&w, req, sizeof(req));
	if (digests)
		assert_ok(pcitsm_spdm_session_req_get_digests(&s, &w));
	else
		assert_ok(pcitsm_spdm_session_req_get_certificate(&s, &w));
	pcitsm_wr_init(&w, msg, sizeof(msg));
	pcitsm_wr_u8(&w, x->r.version);
	if (digests) {
		pcitsm_wr_u8(&w, PCITSM_SPDM_GET_DIGESTS & 0x7f);
		pcitsm_wr_u8(&w, 0xff);
		pcitsm_wr_u8(&w, p2_or_slot);
		for (unsigned i = 0; i < 8; i++)
			if (p2_or_slot & (1u << i))
				pcitsm_wr_bytes(&w, x->f->rsp.chain_digest, x->r.hash_len);
	} else {
		pcitsm_wr_u8(&w, PCITSM_SPDM_GET_CERTIFICATE & 0x7f);
		pcitsm_wr_u8(&w, p2_or_slot);
		pcitsm_wr_u8(&w, 0);
		pcitsm_wr_le16(&w, plen);
		pcitsm_wr_le16(&w, (uint16_t)(x->r.chain_len - plen));
		pcitsm_wr_bytes(&w, x->r.chain, plen);
	}
	assert_ok(pcitsm_wr_err(&w));
	assert_ok(pcitsm_record_seal(&rsp_side(x, &s)->sm, msg, pcitsm_wr_len(&w), rec,
				      sizeof(rec), &n));
	e = pcitsm_spdm_session_feed(&s, rec, n, NULL);
	if (e != PCITSM_OK)
		assert_wiped(&s);
	pcitsm_spdm_session_wipe(&s);
	sx_free(x);
	return e;
}

static void session_cert_msgs_fields(void **state)
{

	assert_ok(forged_cert_msg(true, 0x01, 0));               /* well formed */
	assert_ok(forged_cert_msg(true, 0x03, 0));               /* slot 0 among others */
	assert_err(forged_cert_msg(true, 0x02, 0), PCITSM_E_FIELD); /* not our slot */
	assert_ok(forged_cert_msg(false, 0, 100));               /* well formed */
	assert_err(forged_cert_msg(false, 1, 100), PCITSM_E_FIELD); /* another slot */
	assert_err(forged_cert_msg(false, 0, 0), PCITSM_E_FIELD);   /* empty portion */
	assert_err(forged_cert_msg(false, 0, SPDM_TEST_CERT_PORTION + 1), PCITSM_E_FIELD);
}

static void requester_state(void **state)
{
	struct sx *x = sx_new("p384", NULL);
	struct pcitsm_spdm_session s;
	uint8_t req[256];
	struct pcitsm_wr w;

	memset(&s, 0, sizeof(s));
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_err(pcitsm_spdm_session_req_finish(&s, &w), PCITSM_E_STATE);
	assert_err(pcitsm_spdm_session_req_heartbeat(&s, &w), PCITSM_E_STATE);
	assert_err(pcitsm_spdm_session_req_key_exchange(
			   &s, &x->r, &(struct pcitsm_spdm_session_opts){ .slot = 1 }, &w),
		   PCITSM_E_STATE);
	key_exchange(x, &s);
	assert_err(pcitsm_spdm_session_req_heartbeat(&s, &w), PCITSM_E_STATE);
	pcitsm_spdm_session_wipe(&s);
	assert_wiped(&s);
	sx_free(x);
}

/* ---------------------------------------------------------------------------------------------
 * The protocols' "session ended" hooks.
 */
struct ended_log {
	struct pcitsm_spdm_rsp *rsp;
	unsigned n;
	uint32_t id[8];
	bool in_table; /* some reported ID was still in the responder's table at the call */
};

static void ended_rec(void *ctx, uint32_t session_id)
{
	struct ended_log *l = ctx;

	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		if (l->rsp->sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE &&
		    l->rsp->sessions[i].sm.id == session_id)
			l->in_table = true;
	if (l->n < PCITSM_ARRAY_SIZE(l->id))
		l->id[l->n] = session_id;
	l->n++;
}

/* ID was reported exactly once. */
static void assert_ended_once(const struct ended_log *l, uint32_t id)
{
	unsigned k = 0;

	for (unsigned i = 0; i < l->n && i < PCITSM_ARRAY_SIZE(l->id); i++)
		k += l->id[i] == id;
	assert_int_equal(k, 1);
}

static void hook_register(struct sx *x, struct ended_log *km, struct ended_log *td)
{
	struct pcitsm_spdm_rsp *r = &x->f->rsp;

	*km = (struct ended_log){ .rsp = r };
	*td = (struct ended_log){ .rsp = r };
	/* no handler for the protocol yet; a NULL hook */
	assert_err(pcitsm_spdm_rsp_register_vdm_end(r, PCITSM_SPDM_PROTO_IDE_KM, ended_rec, km),
		   PCITSM_E_NOTFOUND);
	assert_ok(pcitsm_spdm_rsp_register_vdm(r, PCITSM_SPDM_PROTO_IDE_KM, echo_vdm, NULL));
	assert_ok(pcitsm_spdm_rsp_register_vdm(r, PCITSM_SPDM_PROTO_TDISP, echo_vdm, NULL));
	assert_ok(pcitsm_spdm_rsp_register_vdm(r, 0x02, echo_vdm, NULL)); /* no hook */
	assert_err(pcitsm_spdm_rsp_register_vdm_end(r, PCITSM_SPDM_PROTO_IDE_KM, NULL, km),
		   PCITSM_E_INVAL);
	assert_ok(pcitsm_spdm_rsp_register_vdm_end(r, PCITSM_SPDM_PROTO_IDE_KM, ended_rec, km));
	assert_err(pcitsm_spdm_rsp_register_vdm_end(r, PCITSM_SPDM_PROTO_IDE_KM, ended_rec, km),
		   PCITSM_E_EXISTS);
	assert_ok(pcitsm_spdm_rsp_register_vdm_end(r, PCITSM_SPDM_PROTO_TDISP, ended_rec, td));
}

/* END_SESSION, a tampered record and GET_VERSION each report every session they end, once, to each
 * protocol's hook with its own ctx, after the slot is gone; handlers are not called for it. */
static void session_end_hook(void **state)
{
	struct sx *x = sx_new("p256", NULL);
	struct ended_log km, td;
	struct pcitsm_spdm_session a, b, c, d;
	uint8_t req[64], rsp[256];
	struct pcitsm_wr w;
	uint32_t ida, idb;
	unsigned calls;
	size_t n;

	hook_register(x, &km, &td);
	/* END_SESSION */
	assert_ok(pcitsm_spdm_drv_session_open(&a, &x->r, &x->f->loop.x, NULL));
	assert_int_equal(km.n, 0);
	calls = echo_calls;
	ida = a.sm.id;
	assert_ok(pcitsm_spdm_drv_session_end(&a, &x->f->loop.x));
	assert_int_equal(km.n, 1);
	assert_int_equal(km.id[0], ida);
	/* a tampered record ends b only */
	assert_ok(pcitsm_spdm_drv_session_open(&b, &x->r, &x->f->loop.x, NULL));
	assert_ok(pcitsm_spdm_drv_session_open(&c, &x->r, &x->f->loop.x, NULL));
	idb = b.sm.id;
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_heartbeat(&b, &w));
	req[9] ^= 0x40;
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	assert_err(pcitsm_spdm_session_feed(&b, rsp, n, NULL), PCITSM_E_PEER_ERROR);
	assert_int_equal(km.n, 2);
	assert_int_equal(km.id[1], idb);
	/* c goes on; nothing more is reported */
	assert_ok(pcitsm_spdm_drv_session_heartbeat(&c, &x->f->loop.x));
	assert_int_equal(km.n, 2);
	/* GET_VERSION with c and d open ends both */
	assert_ok(pcitsm_spdm_drv_session_open(&d, &x->r, &x->f->loop.x, NULL));
	n = fx_rsp(x->f, get_version, sizeof(get_version), rsp, sizeof(rsp));
	assert_int_equal(rsp[1], PCITSM_SPDM_VERSION);
	assert_int_equal(km.n, 4);
	assert_ended_once(&km, c.sm.id);
	assert_ended_once(&km, d.sm.id);
	/* GET_VERSION again, and the end: nothing left to report */
	n = fx_rsp(x->f, get_version, sizeof(get_version), rsp, sizeof(rsp));
	assert_int_equal(km.n, 4);
	assert_false(km.in_table);
	/* the other hook saw the same, in the same order; no handler ran */
	assert_int_equal(td.n, 4);
	assert_memory_equal(td.id, km.id, sizeof(km.id[0]) * 4);
	assert_int_equal(echo_calls, calls);
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = i + 1; j < 4; j++)
			assert_int_not_equal(km.id[i], km.id[j]);
	pcitsm_spdm_session_wipe(&c);
	pcitsm_spdm_session_wipe(&d);
	sx_free(x);
	assert_int_equal(km.n, 4);
}

/* The heartbeat watchdog, a failed FINISH and pcitsm_spdm_rsp_free report too; a KEY_EXCHANGE that
 * failed (no session) does not. */
static void session_end_hook_more(void **state)
{
	struct sx *x = sx_new("p384", adj_limit2);
	struct ended_log km, td;
	struct pcitsm_spdm_session s[2], h;
	uint8_t req[256], rsp[256];
	struct pcitsm_wr w;
	uint32_t open_id;
	size_t n;

	hook_register(x, &km, &td);
	/* a failed FINISH (handshake phase) */
	key_exchange(x, &h);
	assert_int_equal(km.n, 0);
	h.sm.ks.finished_key[PCITSM_SM_REQ][0] ^= 1;
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_spdm_session_req_finish(&h, &w));
	n = sec(x, req, pcitsm_wr_len(&w), rsp, sizeof(rsp), PCITSM_OK);
	assert_int_equal(km.n, 1);
	assert_int_equal(km.id[0], h.sm.id);
	assert_err(pcitsm_spdm_session_feed(&h, rsp, n, NULL), PCITSM_E_PEER_ERROR);
	/* the watchdog ends a silent session when its next record arrives */
	assert_ok(pcitsm_spdm_drv_session_open(&s[0], &x->r, &x->f->loop.x, NULL));
	open_id = s[0].sm.id;
	x->f->et.clock_ns += 11ull * 1000000000ull;
	assert_err(pcitsm_spdm_drv_session_heartbeat(&s[0], &x->f->loop.x), PCITSM_E_NORESPONSE);
	assert_int_equal(x->f->rsp.sessions_expired, 1);
	assert_int_equal(km.n, 2);
	assert_int_equal(km.id[1], open_id);
	/* the session limit refuses a KEY_EXCHANGE: no session, no report */
	assert_ok(pcitsm_spdm_drv_session_open(&s[1], &x->r, &x->f->loop.x, NULL));
	open_id = s[1].sm.id;
	pcitsm_spdm_session_wipe(&s[0]);
	assert_ok(pcitsm_spdm_drv_session_open(&s[0], &x->r, &x->f->loop.x, NULL));
	assert_err(pcitsm_spdm_drv_session_open(&h, &x->r, &x->f->loop.x, NULL), PCITSM_E_PEER_ERROR);
	assert_int_equal(km.n, 2);
	/* freeing the responder ends the two open ones */
	pcitsm_spdm_session_wipe(&s[0]);
	pcitsm_spdm_session_wipe(&s[1]);
	pcitsm_spdm_session_wipe(&h);
	sx_free(x);
	assert_int_equal(km.n, 4);
	assert_ended_once(&km, open_id);
	assert_false(km.in_table);
	assert_int_equal(td.n, 4);
}

int main(void)
{
	return test_run(p384_aes256, p256_aes128_sha256, spdm12, spdm11, negotiated, dsp0277_v11,
		        bad_responder_verify_data, bad_key_exchange_signature,
		        bad_requester_verify_data, tampered_record, replayed_record,
		        unknown_session_id, key_update_out_of_order, session_limit,
		        responder_out_of_order, requester_state, session_measurements_fields,
		        session_measurements_signed_forged, handshake_phase_order,
		        session_digests_certificate, session_chain_mismatch,
		        session_cert_msgs_fields, silent_finish_or_key_update, session_end_hook,
		        session_end_hook_more);
}
