/* SPDX-License-Identifier: MIT */
/*
 * The TSM's signed exchange with a verifier's nonce (docs/evidence.md "A connected device: the
 * TSM's signed exchange"), in process: the emulated platform's devices, the platform firmware and
 * the TSM core. The host hands the firmware a nonce only; the firmware asks the device for signed
 * measurements over its own session, checks the signature, publishes the exchange; the bundle
 * made from what it publishes verifies with that nonce and no other, an older response does not
 * verify against a newer nonce, and the device's stream and locked TDI are as they were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/emu.h"
#include "pcitsm/evidence.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"
#include "tsmfw/fw_test.h"

#define PF "0000:01:00.0"
#define VF1 "0000:01:00.1"

static struct fx *fx_new(void)
{
	return test_tsm_new(23, 1);
}

/* Connected, and VF1 locked by the devsec TSM. */
static struct fx *fx_locked(void)
{
	struct fx *fx = fx_new();

	assert_int_equal(W(fx, pcitsm_tsm_connect_write, PF, "tsm0"), 0);
	assert_int_equal(W(fx, pcitsm_tsm_lock_write, VF1, "tsm1"), 0);
	return fx;
}

/* A bundle's content from what the TSM published, with nonce as the caller's. */
static pcitsm_err bundle_of(const struct pcitsm_tsm_evidence *t, const uint8_t *meas,
			    size_t meas_len, const uint8_t nonce[32], struct pcitsm_evidence *ev)
{
	const struct pcitsm_evidence_tsm parts = { t->chain, t->chain_len, t->vca, t->vca_len,
						   meas, meas_len, nonce };
	char why[160];

	return pcitsm_evidence_from_tsm(ev, &parts, NULL, 0, NULL, PF, why, sizeof(why));
}

/* PCITSM_WRITE_CORPUS=DIR: the fuzz target evidence_tsm's seeds from this real exchange (nonce |
 * vca_len | vca | measurements), whole and cut short. */
static void write_corpus(const struct pcitsm_tsm_evidence *t)
{
	const char *dir = getenv("PCITSM_WRITE_CORPUS");
	static const char *const names[] = { "tsm_p256", "tsm_short" };

	if (!dir)
		return;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(names); i++) {
		char path[512];
		uint8_t hdr[34];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "wb");
		assert_non_null(f);
		memcpy(hdr, t->nonce, 32);
		hdr[32] = (uint8_t)t->vca_len;
		hdr[33] = (uint8_t)(t->vca_len >> 8);
		assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
		assert_int_equal(fwrite(t->vca, 1, t->vca_len, f), t->vca_len);
		assert_int_equal(fwrite(t->meas, 1, t->meas_len - 17 * i, f), t->meas_len - 17 * i);
		fclose(f);
	}
}

static void nonce_in_signed_out(void **state)
{
	struct fx *fx = fx_locked();
	struct pcitsm_bdf pf = B(PF), vf1 = B(VF1);
	struct pcitsm_tsm_status before, after, tdi;
	struct pcitsm_tsm_evidence t;
	struct pcitsm_evidence ev;
	struct pcitsm_evidence_verdict *v = calloc(1, sizeof(*v));
	uint8_t nonce[32], other[32];

	(void)state;
	assert_non_null(v);
	memset(nonce, 0xa5, sizeof(nonce));
	memcpy(other, nonce, sizeof(other));
	other[31] ^= 1;
	assert_ok(pcitsm_tsm_status(fx->m.core, &pf, &before));
	assert_ok(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, nonce));

	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t));
	assert_true(t.refreshed && t.has_nonce);
	assert_memory_equal(t.nonce, nonce, 32);
	/* The nonce in the request the device signed: right after its 4-byte header. */
	assert_non_null(t.meas_req);
	assert_memory_equal(t.meas_req + 4, nonce, 32);
	assert_int_equal(t.meas[1], PCITSM_SPDM_MEASUREMENTS);

	/* The verifier's bundle: the request rebuilt from the nonce and the response is the one
	 * the firmware sent, byte for byte. */
	assert_ok(bundle_of(&t, t.meas, t.meas_len, nonce, &ev));
	assert_int_equal(ev.meas_req_len, t.meas_req_len);
	assert_memory_equal(ev.meas_req, t.meas_req, t.meas_req_len);
	assert_ok(pcitsm_evidence_verify(&ev, fx->m.trust, nonce, NULL, v));
	assert_true(v->nonce_pinned);
	/* Another verifier's nonce: refused at the nonce, the signature not even tried. */
	assert_err(pcitsm_evidence_verify(&ev, fx->m.trust, other, NULL, v), PCITSM_E_NONCE);
	assert_int_equal(v->failed, PCITSM_EVIDENCE_NONCE);
	/* A file recording another nonce than the signed one. */
	ev.nonce[0] ^= 1;
	assert_err(pcitsm_evidence_verify(&ev, fx->m.trust, nonce, NULL, v), PCITSM_E_NONCE);
	assert_err(pcitsm_evidence_verify(&ev, fx->m.trust, NULL, NULL, v), PCITSM_E_NONCE);
	pcitsm_evidence_free(&ev);
	write_corpus(&t);

	/* No host SPDM, nothing of the connection changed: the same session, the stream Secure at
	 * both ends, the TDI still CONFIG_LOCKED. */
	assert_ok(pcitsm_tsm_status(fx->m.core, &pf, &after));
	assert_int_equal(after.session_id, before.session_id);
	assert_true(after.connected && after.has_stream);
	assert_int_equal(after.ep.state, 2);
	assert_int_equal(after.rp.state, 2);
	assert_int_equal(after.key_set, before.key_set);
	assert_ok(pcitsm_tsm_status(fx->m.core, &vf1, &tdi));
	assert_string_equal(tdi.lock_tsm, "tsm1");
	assert_int_equal(pcitsm_emu_tdi_state(pcitsm_emu_find(&fx->m.plat, &vf1)),
			 PCITSM_TDISP_CONFIG_LOCKED);
	pcitsm_tsm_evidence_free(&t);
	free(v);
	fx_free(fx);
}

/* An older response against a newer nonce: the rebuilt request carries the new nonce, the old
 * signature covers the old one. */
static void replayed_response_fails(void **state)
{
	struct fx *fx = fx_locked();
	struct pcitsm_bdf pf = B(PF);
	struct pcitsm_tsm_evidence t1, t2;
	struct pcitsm_evidence ev;
	struct pcitsm_evidence_verdict *v = calloc(1, sizeof(*v));
	uint8_t n1[32], n2[32];

	(void)state;
	assert_non_null(v);
	memset(n1, 0x11, sizeof(n1));
	memset(n2, 0x22, sizeof(n2));
	assert_ok(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, n1));
	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t1));
	assert_ok(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, n2));
	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t2));
	assert_memory_equal(t2.nonce, n2, 32);
	assert_true(t1.meas_len != t2.meas_len || memcmp(t1.meas, t2.meas, t1.meas_len));

	assert_ok(bundle_of(&t2, t2.meas, t2.meas_len, n2, &ev));
	assert_ok(pcitsm_evidence_verify(&ev, fx->m.trust, n2, NULL, v));
	pcitsm_evidence_free(&ev);
	assert_ok(bundle_of(&t2, t1.meas, t1.meas_len, n2, &ev));
	assert_err(pcitsm_evidence_verify(&ev, fx->m.trust, n2, NULL, v), PCITSM_E_SIGNATURE);
	assert_int_equal(v->failed, PCITSM_EVIDENCE_SIGNATURE);
	pcitsm_evidence_free(&ev);
	/* The old response with its own nonce still verifies: it is a real signature, only not
	 * a fresh one for n2. */
	assert_ok(bundle_of(&t1, t1.meas, t1.meas_len, n1, &ev));
	assert_ok(pcitsm_evidence_verify(&ev, fx->m.trust, n1, NULL, v));
	pcitsm_evidence_free(&ev);
	pcitsm_tsm_evidence_free(&t1);
	pcitsm_tsm_evidence_free(&t2);
	free(v);
	fx_free(fx);
}

/* The request rebuilt from the TSM's pieces: only from a MEASUREMENTS of exactly its own size,
 * after a VCA that decodes. */
static void rebuild_refusals(void **state)
{
	struct fx *fx = fx_locked();
	struct pcitsm_bdf pf = B(PF);
	struct pcitsm_tsm_evidence t;
	struct pcitsm_evidence ev;
	uint8_t nonce[32] = { 7 }, *big, req[64];
	size_t len;

	(void)state;
	assert_ok(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, nonce));
	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t));
	big = calloc(1, t.meas_len + 4);
	assert_non_null(big);
	memcpy(big, t.meas, t.meas_len);
	assert_err(bundle_of(&t, big, t.meas_len + 4, nonce, &ev), PCITSM_E_FIELD);  /* long */
	/* Zero bytes up to the next DW: DOE padding to a decoder, not part of what was signed. */
	if (t.meas_len % 4)
		assert_err(bundle_of(&t, big, t.meas_len + 4 - t.meas_len % 4, nonce, &ev),
			   PCITSM_E_FIELD);
	assert_err(bundle_of(&t, big, t.meas_len - 1, nonce, &ev), PCITSM_E_FIELD);  /* short */
	assert_err(bundle_of(&t, big, 3, nonce, &ev), PCITSM_E_FIELD);
	big[1] = PCITSM_SPDM_CHALLENGE_AUTH;                                          /* code */
	assert_err(bundle_of(&t, big, t.meas_len, nonce, &ev), PCITSM_E_FIELD);
	big[1] = t.meas[1];
	big[0] ^= 1;                                                                  /* version */
	assert_err(bundle_of(&t, big, t.meas_len, nonce, &ev), PCITSM_E_FIELD);
	assert_err(pcitsm_spdm_meas_request_rebuild(t.vca, t.vca_len - 1, t.meas, t.meas_len, nonce,
						    req, &len, NULL, 0), PCITSM_E_FIELD);
	assert_err(pcitsm_spdm_meas_request_rebuild(t.vca, t.vca_len, t.meas, t.meas_len, NULL,
						    req, &len, NULL, 0), PCITSM_E_INVAL);
	/* What the firmware sent, byte for byte. */
	assert_ok(pcitsm_spdm_meas_request_rebuild(t.vca, t.vca_len, t.meas, t.meas_len, nonce, req,
						   &len, NULL, 0));
	assert_int_equal(len, t.meas_req_len);
	assert_memory_equal(req, t.meas_req, len);
	free(big);
	pcitsm_tsm_evidence_free(&t);
	fx_free(fx);
}

/* Only a connected device, a known function, a nonce. */
static void wrong_state(void **state)
{
	struct fx *fx = fx_new();
	struct pcitsm_bdf pf = B(PF), none = B("0000:42:00.0");
	struct pcitsm_tsm_evidence t;
	uint8_t nonce[32] = { 1 };

	(void)state;
	assert_err(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, nonce), PCITSM_E_STATE);
	assert_err(pcitsm_tsm_evidence_refresh(fx->m.core, &none, nonce), PCITSM_E_NOTFOUND);
	assert_int_equal(W(fx, pcitsm_tsm_connect_write, PF, "tsm0"), 0);
	assert_err(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, NULL), PCITSM_E_INVAL);
	/* Before any refresh: the connect-time exchange, the firmware's own nonce. */
	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t));
	assert_false(t.refreshed);
	assert_true(t.has_nonce);
	pcitsm_tsm_evidence_free(&t);
	assert_int_equal(W(fx, pcitsm_tsm_disconnect_write, PF, "tsm0"), 0);
	assert_err(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, nonce), PCITSM_E_STATE);
	test_tsm_assert_clean(fx);
	fx_free(fx);
}

/* The firmware checks the exchange as it will publish it: when the session's transcript M held
 * an earlier unsigned GET_MEASUREMENTS, the device signed over more than a verifier rebuilds from
 * the published pieces, and the firmware refuses to publish (the session's own check passed). */
static void firmware_checks_published_pieces(void **state)
{
	struct fx *fx = fx_locked();
	struct pcitsm_bdf pf = B(PF);
	struct pcitsm_tsm_evidence t;
	uint8_t n1[32], n2[32];

	(void)state;
	memset(n1, 0x31, sizeof(n1));
	memset(n2, 0x32, sizeof(n2));
	assert_ok(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, n1));
	assert_ok(pcitsm_tio_test_session_unsigned_measurements(fx->m.fw, pf.seg, pcitsm_bdf_rid(&pf)));
	assert_err(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, n2), PCITSM_E_SIGNATURE);
	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t));
	assert_memory_equal(t.nonce, n1, 32); /* nothing published */
	pcitsm_tsm_evidence_free(&t);
	/* The signed MEASUREMENTS restarted M: the next refresh publishes. */
	assert_ok(pcitsm_tsm_evidence_refresh(fx->m.core, &pf, n2));
	assert_ok(pcitsm_tsm_evidence_get(fx->m.core, &pf, &t));
	assert_memory_equal(t.nonce, n2, 32);
	pcitsm_tsm_evidence_free(&t);
	fx_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nonce_in_signed_out),
		cmocka_unit_test(replayed_response_fails),
		cmocka_unit_test(rebuild_refusals),
		cmocka_unit_test(wrong_state),
		cmocka_unit_test(firmware_checks_published_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
