/* SPDX-License-Identifier: MIT */
/*
 * The TDISP DSM (lib/tdisp/dsm.c) on an emulated endpoint whose IDE_KM responder drives a real IDE
 * engine (lib/ide): every request in every TDI state, the LOCK key precondition asked of IDE_KM
 * (keys missing, programmed but not started, programmed in another session, the session gone), the
 * START nonce (mismatch, replay, wiped), report portions, the events that move a TDI to ERROR,
 * several TDIs behind one DSM, and the requester's sequence run against it in-process, including
 * the deviations the requester tolerates and those it refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/crypto.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm_rsp.h"
#include "pcitsm/tdisp.h"
#include "testutil.h"

/* The DSM entry point has the SPDM layer's vendor-defined handler shape. */
static const pcitsm_spdm_vdm_fn vdm_shape_check = pcitsm_tdisp_dsm_handle;

#define SID 7
#define S1 0x1001u
#define S2 0x2002u
#define PF 0x0100u  /* 01:00.0 */
#define VF1 0x0101u
#define VF2 0x0102u
#define OFFSET 0xD0000000ll

struct fx {
	struct test_ide_link l;
	struct pcitsm_idekm_rsp km;
	struct pcitsm_tdisp_dsm dsm;
	struct pcitsm_tdisp_ifdesc desc;
	uint8_t out[PCITSM_TDISP_MSG_MAX];
	size_t out_len;
	struct pcitsm_tdisp_msg rsp;
	/* The exchange interposer: the device deviates as a foreign one does. */
	uint32_t session;
	bool shift_req_msgs, stop_unlocked_refused, bad_remainder;
	unsigned exchanges;
};

static void desc_init(struct pcitsm_tdisp_ifdesc *d)
{
	memset(d, 0, sizeof(*d));
	d->interface_info = PCITSM_TDISP_INFO_DMA_WITH_PASID;
	d->bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, false };
	d->bar[1] = (struct pcitsm_tdisp_bar){ 2, 0xfd000000, 0x4000, false, false };
	d->nr_bars = 2;
	d->msix = true;
	d->msix_table = (struct pcitsm_tdisp_region){ 0, 0x2000, 0x100 };
	d->msix_pba = (struct pcitsm_tdisp_region){ 0, 0x3000, 8 };
	d->msix_msg_ctl = 0x8007;
	d->non_tee[0] = (struct pcitsm_tdisp_region){ 2, 0x1000, 0x1000 };
	d->nr_non_tee = 1;
	memcpy(d->dev_info, "pcitsm", 6);
	d->dev_info_len = 6;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)vdm_shape_check;
	test_ide_link_init(&f->l, 31, SID);
	pcitsm_idekm_rsp_init(&f->km, &f->l.env.env);
	assert_ok(pcitsm_idekm_rsp_add_port(&f->km, &f->l.ep->cfg.cfg, f->l.ep_port, &f->l.ep->bdf));
	assert_int_equal(pcitsm_bdf_rid(&f->l.ep->bdf), PF);
	assert_ok(pcitsm_tdisp_dsm_init(&f->dsm, &f->l.env.env, &f->km, NULL));
	desc_init(&f->desc);
	assert_ok(pcitsm_tdisp_dsm_add_tdi(&f->dsm, PF, PF, &f->desc));
	assert_ok(pcitsm_tdisp_dsm_add_tdi(&f->dsm, VF1, PF, &f->desc));
	assert_ok(pcitsm_tdisp_dsm_add_tdi(&f->dsm, VF2, PF, &f->desc));
	f->session = S1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pcitsm_tdisp_dsm_free(&f->dsm);
	test_ide_link_free(&f->l);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * IDE_KM over a session, by hand: KEY_PROG the slots in prog (bit = the programming order index,
 * which is dir * 3 + sub), K_SET_GO those in go.
 */
static void km(struct fx *f, uint32_t session, uint8_t sid, unsigned kset, unsigned prog,
	       unsigned go)
{
	struct pcitsm_idekm_keys keys;
	uint8_t buf[64], out[64];
	struct pcitsm_wr w, o;

	assert_ok(pcitsm_idekm_keys_generate(&f->l.env.env, sid, kset, &keys));
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		struct pcitsm_idekm_key_prog kp;

		if (!(prog >> i & 1))
			continue;
		assert_ok(pcitsm_idekm_keys_key_prog(&keys, i, 0, &kp));
		pcitsm_wr_init(&w, buf, sizeof(buf));
		assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
		pcitsm_wipe(&kp, sizeof(kp));
		pcitsm_wr_init(&o, out, sizeof(out));
		assert_ok(pcitsm_idekm_rsp_handle(&f->km, session, buf, pcitsm_wr_len(&w), &o));
		pcitsm_wipe(buf, sizeof(buf));
		assert_int_equal(out[5], PCITSM_IDEKM_KP_SUCCESS);
	}
	pcitsm_idekm_keys_wipe(&keys);
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		struct pcitsm_idekm_ks m = { .obj = PCITSM_IDEKM_K_SET_GO, .stream_id = sid,
					     .kset = (uint8_t)kset };

		if (!(go >> i & 1))
			continue;
		pcitsm_idekm_keys_slot(i, &m.dir, &m.sub);
		pcitsm_wr_init(&w, buf, sizeof(buf));
		assert_ok(pcitsm_idekm_ks_encode(&w, &m));
		pcitsm_wr_init(&o, out, sizeof(out));
		assert_ok(pcitsm_idekm_rsp_handle(&f->km, session, buf, pcitsm_wr_len(&w), &o));
	}
}

/* ---------------------------------------------------------------------------------------------
 * TDISP by hand.
 */
/* Request m for function fid into the DSM over session; the answer decoded into f->rsp. Returns
 * the response code. */
static uint8_t tx(struct fx *f, uint32_t session, uint32_t fid, struct pcitsm_tdisp_msg m)
{
	uint8_t req[128];
	struct pcitsm_wr w, o;

	m.function_id = fid;
	pcitsm_wr_init(&w, req, sizeof(req));
	assert_ok(pcitsm_tdisp_encode(&w, &m));
	pcitsm_wr_init(&o, f->out, sizeof(f->out));
	assert_ok(pcitsm_tdisp_dsm_handle(&f->dsm, session, req, pcitsm_wr_len(&w), &o));
	f->out_len = pcitsm_wr_len(&o);
	assert_ok(pcitsm_tdisp_decode(f->out, f->out_len, &f->rsp));
	assert_int_equal(f->rsp.function_id, fid);
	return f->rsp.code;
}

/* Raw request bytes; the TDISP_ERROR code of the answer (0 if it is not an error). */
static uint32_t tx_raw(struct fx *f, uint32_t session, const uint8_t *req, size_t len)
{
	struct pcitsm_wr o;

	pcitsm_wr_init(&o, f->out, sizeof(f->out));
	assert_ok(pcitsm_tdisp_dsm_handle(&f->dsm, session, req, len, &o));
	f->out_len = pcitsm_wr_len(&o);
	assert_ok(pcitsm_tdisp_decode(f->out, f->out_len, &f->rsp));
	return f->rsp.code == PCITSM_TDISP_TDISP_ERROR ? f->rsp.u.error.code : 0;
}

static void expect_error(struct fx *f, uint8_t code, uint32_t err)
{
	assert_int_equal(code, PCITSM_TDISP_TDISP_ERROR);
	assert_string_equal(pcitsm_tdisp_error_name(f->rsp.u.error.code),
			    pcitsm_tdisp_error_name(err));
	assert_int_equal(f->dsm.stats.last_error, err);
}

static uint8_t state_of(struct fx *f, uint32_t fid)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE };

	assert_int_equal(tx(f, S1, fid, m), PCITSM_TDISP_DEVICE_INTERFACE_STATE);
	return f->rsp.u.state;
}

static struct pcitsm_tdisp_msg lock_msg(uint8_t sid)
{
	return (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_LOCK_INTERFACE_REQUEST,
					  .u.lock = { .flags = PCITSM_TDISP_LOCK_MSIX |
							       PCITSM_TDISP_LOCK_NO_FW_UPDATE,
						      .stream_id = sid, .mmio_offset = OFFSET } };
}

/* LOCK fid over S1 (keys must be in place); the nonce into nonce. */
static void do_lock(struct fx *f, uint32_t fid, uint8_t nonce[PCITSM_TDISP_NONCE_LEN])
{
	assert_int_equal(tx(f, S1, fid, lock_msg(SID)), PCITSM_TDISP_LOCK_INTERFACE_RESPONSE);
	memcpy(nonce, f->rsp.u.nonce, PCITSM_TDISP_NONCE_LEN);
	assert_int_equal(state_of(f, fid), PCITSM_TDISP_CONFIG_LOCKED);
}

static uint8_t do_start(struct fx *f, uint32_t fid, const uint8_t nonce[PCITSM_TDISP_NONCE_LEN])
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_START_INTERFACE_REQUEST };

	memcpy(m.u.nonce, nonce, PCITSM_TDISP_NONCE_LEN);
	return tx(f, S1, fid, m);
}

static void do_stop(struct fx *f, uint32_t fid)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_STOP_INTERFACE_REQUEST };

	assert_int_equal(tx(f, S1, fid, m), PCITSM_TDISP_STOP_INTERFACE_RESPONSE);
	assert_int_equal(state_of(f, fid), PCITSM_TDISP_CONFIG_UNLOCKED);
}

/* Bring PF's TDI to state s from CONFIG_UNLOCKED. */
static void reach(struct fx *f, uint8_t s, uint8_t nonce[PCITSM_TDISP_NONCE_LEN])
{
	do_stop(f, PF);
	if (s == PCITSM_TDISP_CONFIG_UNLOCKED)
		return;
	do_lock(f, PF, nonce);
	if (s == PCITSM_TDISP_RUN)
		assert_int_equal(do_start(f, PF, nonce), PCITSM_TDISP_START_INTERFACE_RESPONSE);
	if (s == PCITSM_TDISP_ERROR)
		pcitsm_tdisp_dsm_flr(&f->dsm, PF);
	assert_int_equal(state_of(f, PF), s);
}

/* ---------------------------------------------------------------------------------------------
 * Every request in every state (PCIe 6.x §11): legal ones answered, the others refused with
 * INVALID_INTERFACE_STATE and the state kept.
 */
static void test_state_table(void **state)
{
	struct fx *f = *state;
	static const uint8_t codes[] = {
		PCITSM_TDISP_GET_TDISP_VERSION, PCITSM_TDISP_GET_TDISP_CAPABILITIES,
		PCITSM_TDISP_LOCK_INTERFACE_REQUEST, PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT,
		PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE, PCITSM_TDISP_START_INTERFACE_REQUEST,
		PCITSM_TDISP_STOP_INTERFACE_REQUEST,
	};
	/* legal[code index]: bit per state (UNLOCKED, LOCKED, RUN, ERROR). */
	static const uint8_t legal[] = { 0xf, 0xf, 0x1, 0x6, 0xf, 0x2, 0xf };
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN];

	km(f, S1, SID, 0, 0x3f, 0x3f);
	for (uint8_t s = 0; s <= PCITSM_TDISP_ERROR; s++)
		for (size_t i = 0; i < sizeof(codes); i++) {
			struct pcitsm_tdisp_msg m = { .code = codes[i] };
			uint8_t got;

			reach(f, s, nonce);
			if (codes[i] == PCITSM_TDISP_LOCK_INTERFACE_REQUEST)
				m = lock_msg(SID);
			if (codes[i] == PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT)
				m.u.get_report.length = 0xffff;
			if (codes[i] == PCITSM_TDISP_START_INTERFACE_REQUEST)
				memcpy(m.u.nonce, nonce, sizeof(nonce));
			got = tx(f, S1, PF, m);
			if (legal[i] >> s & 1) {
				assert_int_equal(got, PCITSM_TDISP_RSP_OF(codes[i]));
				continue;
			}
			expect_error(f, got, PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE);
			assert_int_equal(state_of(f, PF), s);
		}
	/* The transitions the legal ones made. */
	reach(f, PCITSM_TDISP_RUN, nonce);
	do_stop(f, PF);
	reach(f, PCITSM_TDISP_ERROR, nonce);
	do_stop(f, PF); /* ERROR -> CONFIG_UNLOCKED */
	/* STOP in CONFIG_UNLOCKED succeeds (and stays there). */
	do_stop(f, PF);
}

/* LOCK needs every key of the default stream programmed and started over this session. */
static void test_lock_keys(void **state)
{
	struct fx *f = *state;
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN];

	/* No keys at all. */
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
	/* Programmed, not started. */
	km(f, S1, SID, 0, 0x3f, 0);
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	/* Five of six started. */
	km(f, S1, SID, 0, 0, 0x1f);
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
	/* Reprogramming a started key needs a new K_SET_GO. */
	km(f, S1, SID, 0, 0x20, 0x20);
	km(f, S1, SID, 0, 0x01, 0);
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	km(f, S1, SID, 0, 0, 0x01);
	/* All six: not over another session, not for another stream. */
	expect_error(f, tx(f, S2, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	expect_error(f, tx(f, S1, PF, lock_msg(SID + 1)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
	do_lock(f, PF, nonce);
	do_stop(f, PF);
	/* K_SET_STOP of one slot takes the precondition away. */
	{
		uint8_t buf[16], out[16];
		struct pcitsm_idekm_ks m = { .obj = PCITSM_IDEKM_K_SET_STOP, .stream_id = SID,
					     .dir = PCITSM_IDE_TX, .sub = PCITSM_IDE_SUB_CPL };
		struct pcitsm_wr w, o;

		pcitsm_wr_init(&w, buf, sizeof(buf));
		assert_ok(pcitsm_idekm_ks_encode(&w, &m));
		pcitsm_wr_init(&o, out, sizeof(out));
		assert_ok(pcitsm_idekm_rsp_handle(&f->km, S1, buf, pcitsm_wr_len(&w), &o));
	}
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	km(f, S1, SID, 0, 0x20, 0x20);
	do_lock(f, PF, nonce);
	do_stop(f, PF);
	/* The stream going Insecure at the engine takes its keys, and the precondition, away. */
	assert_ok(pcitsm_ide_stream_disable(f->l.ep_port, 0));
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	km(f, S1, SID, 0, 0x3f, 0x3f);
	do_lock(f, PF, nonce);
	do_stop(f, PF);
	/* The keying session closed: its keys count no more, even before IDE_KM drops them. */
	pcitsm_idekm_rsp_session_closed(&f->km, S1);
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	/* Keys from session S2 now (S1's are invalidated first): LOCK over S1 is refused, over S2
	 * accepted. */
	km(f, S2, SID, 1, 0x3f, 0x3f);
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	assert_int_equal(tx(f, S2, PF, lock_msg(SID)), PCITSM_TDISP_LOCK_INTERFACE_RESPONSE);
	/* An unsupported flag (BIND_P2P) or an unaligned offset is the TSM's error. */
	do_stop(f, PF);
	{
		struct pcitsm_tdisp_msg m = lock_msg(SID);

		m.u.lock.flags |= PCITSM_TDISP_LOCK_BIND_P2P;
		expect_error(f, tx(f, S2, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
		m = lock_msg(SID);
		m.u.lock.mmio_offset = 0x800;
		expect_error(f, tx(f, S2, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
		m.u.lock.mmio_offset = -0x1000000000ll; /* below 0 */
		expect_error(f, tx(f, S2, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
	}
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
}

/* A stream that is not the Default Stream cannot be the one LOCK names. */
static void test_lock_default_stream(void **state)
{
	struct fx *f = *state;

	f->l.ep_port->stream[0].default_stream = false;
	km(f, S1, SID, 0, 0x3f, 0x3f);
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	f->l.ep_port->stream[0].default_stream = true;
	f->l.ep_port->stream[0].tc = 1;
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INVALID_REQUEST);
	f->l.ep_port->stream[0].tc = 0;
	assert_int_equal(tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_LOCK_INTERFACE_RESPONSE);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return !acc;
}

/* START: constant-time compare, consumed, a replay fails. */
static void test_nonce(void **state)
{
	struct fx *f = *state;
	struct pcitsm_tdisp_tdi *t = pcitsm_tdisp_dsm_find(&f->dsm, PF);
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN], old[PCITSM_TDISP_NONCE_LEN], bad[PCITSM_TDISP_NONCE_LEN];

	km(f, S1, SID, 0, 0x3f, 0x3f);
	do_lock(f, PF, nonce);
	assert_true(t->nonce_valid);
	assert_memory_equal(t->nonce, nonce, sizeof(nonce));
	/* Each byte wrong in turn: INVALID_NONCE, still CONFIG_LOCKED. */
	for (size_t i = 0; i < sizeof(nonce); i += 31) {
		memcpy(bad, nonce, sizeof(bad));
		bad[i] ^= 0x01;
		expect_error(f, do_start(f, PF, bad), PCITSM_TDISP_ERR_INVALID_NONCE);
		assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	}
	assert_int_equal(do_start(f, PF, nonce), PCITSM_TDISP_START_INTERFACE_RESPONSE);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_RUN);
	/* Consumed: gone from the TDI. */
	assert_false(t->nonce_valid);
	assert_true(all_zero(t->nonce, sizeof(t->nonce)));
	/* Replay in RUN: refused by state. */
	expect_error(f, do_start(f, PF, nonce), PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE);
	/* Replay after STOP and a new LOCK: a new nonce, the old one refused. */
	memcpy(old, nonce, sizeof(old));
	do_stop(f, PF);
	do_lock(f, PF, nonce);
	assert_memory_not_equal(old, nonce, sizeof(old));
	expect_error(f, do_start(f, PF, old), PCITSM_TDISP_ERR_INVALID_NONCE);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	/* STOP destroys the nonce. */
	do_stop(f, PF);
	assert_false(t->nonce_valid);
	assert_true(all_zero(t->nonce, sizeof(t->nonce)));
	assert_true(all_zero(t->report, sizeof(t->report)));
	/* A random source that fails: INSUFFICIENT_ENTROPY, still CONFIG_UNLOCKED. */
	f->l.env.rng_fail = true;
	expect_error(f, tx(f, S1, PF, lock_msg(SID)), PCITSM_TDISP_ERR_INSUFFICIENT_ENTROPY);
	f->l.env.rng_fail = false;
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
}

/* The report: portions, offsets, exact size, the rules a guest checks. */
static void test_report(void **state)
{
	struct fx *f = *state;
	struct pcitsm_tdisp_tdi *t = pcitsm_tdisp_dsm_find(&f->dsm, PF);
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT };
	struct pcitsm_tdisp_report rep;
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN], got[PCITSM_TDISP_DSM_REPORT_MAX];
	size_t off = 0;

	/* Not before LOCK. */
	m.u.get_report.length = 0xffff;
	expect_error(f, tx(f, S1, PF, m), PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE);
	km(f, S1, SID, 0, 0x3f, 0x3f);
	do_lock(f, PF, nonce);
	/* OFFSET 0xFFFF, OFFSET at the end, LENGTH 0: INVALID_REQUEST. */
	m.u.get_report.offset = 0xffff;
	expect_error(f, tx(f, S1, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
	m.u.get_report.offset = t->report_len;
	expect_error(f, tx(f, S1, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
	m.u.get_report.offset = 0;
	m.u.get_report.length = 0;
	expect_error(f, tx(f, S1, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	/* In 7-byte portions. */
	do {
		m.u.get_report.offset = (uint16_t)off;
		m.u.get_report.length = 7;
		assert_int_equal(tx(f, S1, PF, m), PCITSM_TDISP_DEVICE_INTERFACE_REPORT);
		assert_true(f->rsp.u.report.portion <= 7);
		assert_int_equal(off + f->rsp.u.report.portion + f->rsp.u.report.remainder,
				 t->report_len);
		memcpy(got + off, f->rsp.u.report.bytes, f->rsp.u.report.portion);
		off += f->rsp.u.report.portion;
	} while (f->rsp.u.report.remainder);
	assert_int_equal(off, t->report_len);
	assert_memory_equal(got, t->report, off);
	/* Exact size: header + ranges + 4 + DEVICE_SPECIFIC_INFO_LEN. */
	assert_ok(pcitsm_tdisp_report_decode(got, off, &rep));
	assert_int_equal(off, 16 + 16 * rep.nr_ranges + 4 + rep.dev_info_len);
	assert_int_equal(rep.dev_info_len, 6);
	assert_true(rep.interface_info & PCITSM_TDISP_INFO_DMA_WITH_PASID);
	assert_true(rep.interface_info & PCITSM_TDISP_INFO_NO_FW_UPDATE);
	assert_int_equal(rep.msix_msg_ctl, 0x8007);
	/* A Linux guest accepts it, with the offset it asked for. */
	assert_ok(pcitsm_tdisp_report_check(got, off, &f->desc, OFFSET, NULL));
	/* The DSM's portion cap. */
	f->dsm.opts.portion_max = 64;
	m.u.get_report.offset = 0;
	m.u.get_report.length = 0xffff;
	assert_int_equal(tx(f, S1, PF, m), PCITSM_TDISP_DEVICE_INTERFACE_REPORT);
	assert_int_equal(f->rsp.u.report.portion, 64);
	assert_int_equal(f->rsp.u.report.remainder, t->report_len - 64);
	/* Still readable in RUN. */
	assert_int_equal(do_start(f, PF, nonce), PCITSM_TDISP_START_INTERFACE_RESPONSE);
	assert_int_equal(tx(f, S1, PF, m), PCITSM_TDISP_DEVICE_INTERFACE_REPORT);
}

/* Requests the DSM refuses before looking at any TDI. */
static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE };
	uint8_t req[64];
	struct pcitsm_wr w, o;

	/* 0x88-0x8C and codes that are no request: UNSUPPORTED_REQUEST, ERROR_DATA the code. */
	for (unsigned code = 0x80; code <= 0x8c; code++) {
		if (code >= 0x81 && code <= 0x87)
			continue;
		pcitsm_wr_init(&w, req, sizeof(req));
		assert_ok(pcitsm_tdisp_encode(&w, &m));
		req[2] = (uint8_t)code;
		assert_int_equal(tx_raw(f, S1, req, pcitsm_wr_len(&w)),
				 PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST);
		assert_int_equal(f->rsp.u.error.data, code);
	}
	req[2] = PCITSM_TDISP_DEVICE_INTERFACE_STATE; /* a response code as a request */
	assert_int_equal(tx_raw(f, S1, req, PCITSM_TDISP_HDR_LEN),
			 PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST);
	req[2] = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE;
	/* Version 1.1: VERSION_MISMATCH. */
	req[1] = 0x11;
	assert_int_equal(tx_raw(f, S1, req, PCITSM_TDISP_HDR_LEN),
			 PCITSM_TDISP_ERR_VERSION_MISMATCH);
	req[1] = PCITSM_TDISP_VERSION_10;
	/* Wrong size, reserved bytes: INVALID_REQUEST. */
	assert_int_equal(tx_raw(f, S1, req, PCITSM_TDISP_HDR_LEN + 1),
			 PCITSM_TDISP_ERR_INVALID_REQUEST);
	assert_int_equal(tx_raw(f, S1, req, PCITSM_TDISP_HDR_LEN - 1),
			 PCITSM_TDISP_ERR_INVALID_REQUEST);
	req[3] = 1;
	assert_int_equal(tx_raw(f, S1, req, PCITSM_TDISP_HDR_LEN),
			 PCITSM_TDISP_ERR_INVALID_REQUEST);
	req[3] = 0;
	req[16] = 1;
	assert_int_equal(tx_raw(f, S1, req, PCITSM_TDISP_HDR_LEN),
			 PCITSM_TDISP_ERR_INVALID_REQUEST);
	req[16] = 0;
	/* Reserved LOCK flag bits. */
	{
		struct pcitsm_tdisp_msg l = lock_msg(SID);

		l.function_id = PF;
		pcitsm_wr_init(&w, req, sizeof(req));
		assert_ok(pcitsm_tdisp_encode(&w, &l));
		req[18] = 0x80;
		assert_int_equal(tx_raw(f, S1, req, pcitsm_wr_len(&w)),
				 PCITSM_TDISP_ERR_INVALID_REQUEST);
	}
	/* Size is checked before the interface: a long request to an unknown one. */
	pcitsm_wr_init(&w, req, sizeof(req));
	m.function_id = 0x0010;
	assert_ok(pcitsm_tdisp_encode(&w, &m));
	assert_int_equal(tx_raw(f, S1, req, pcitsm_wr_len(&w) + 1),
			 PCITSM_TDISP_ERR_INVALID_REQUEST);
	/* An interface the DSM does not host. */
	expect_error(f, tx(f, S1, 0x0010, m), PCITSM_TDISP_ERR_INVALID_INTERFACE);
	/* Not TDISP at all: no answer. */
	req[0] = 0;
	pcitsm_wr_init(&o, f->out, sizeof(f->out));
	assert_err(pcitsm_tdisp_dsm_handle(&f->dsm, S1, req, PCITSM_TDISP_HDR_LEN, &o),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(pcitsm_wr_len(&o), 0);
	/* Capabilities: DSM_CAPS 0, address width >= 52, NUM_REQ_* >= 1, the seven requests; a
	 * non-zero (reserved) TSM_CAPS refused. */
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_CAPABILITIES };
	assert_int_equal(tx(f, S1, PF, m), PCITSM_TDISP_TDISP_CAPABILITIES);
	assert_int_equal(f->rsp.u.caps.dsm_caps, 0);
	assert_true(f->rsp.u.caps.dev_addr_width >= 52);
	assert_true(f->rsp.u.caps.num_req_this >= 1 && f->rsp.u.caps.num_req_all >= 1);
	assert_int_equal(f->rsp.u.caps.req_msgs[0], 0xfe);
	assert_int_equal(f->rsp.u.caps.req_msgs[1], 0);
	m.u.tsm_caps = 1;
	expect_error(f, tx(f, S1, PF, m), PCITSM_TDISP_ERR_INVALID_REQUEST);
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_VERSION };
	assert_int_equal(tx(f, S1, PF, m), PCITSM_TDISP_TDISP_VERSION);
	assert_int_equal(f->rsp.u.version.count, 1);
	assert_int_equal(f->rsp.u.version.v[0], 0x10);
}

/* Session end, FLR, a locked-configuration write, the stream going Insecure: locked TDIs to
 * ERROR; unlocked ones untouched. */
static void test_events(void **state)
{
	struct fx *f = *state;
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN];
	struct pcitsm_tdisp_tdi *t = pcitsm_tdisp_dsm_find(&f->dsm, PF);

	km(f, S1, SID, 0, 0x3f, 0x3f);
	/* Session end: in CONFIG_LOCKED and in RUN; another session's end does nothing. */
	do_lock(f, PF, nonce);
	pcitsm_tdisp_dsm_session_ended(&f->dsm, S2);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	pcitsm_tdisp_dsm_session_ended(&f->dsm, S1);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_ERROR);
	assert_int_equal(t->cause, PCITSM_TDISP_CAUSE_SESSION_ENDED);
	assert_false(t->nonce_valid);
	assert_true(all_zero(t->nonce, sizeof(t->nonce)));
	expect_error(f, do_start(f, PF, nonce), PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE);
	do_stop(f, PF);
	do_lock(f, PF, nonce);
	assert_int_equal(do_start(f, PF, nonce), PCITSM_TDISP_START_INTERFACE_RESPONSE);
	pcitsm_tdisp_dsm_session_ended(&f->dsm, S1);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_ERROR);
	/* FLR. */
	do_stop(f, PF);
	do_lock(f, PF, nonce);
	pcitsm_tdisp_dsm_flr(&f->dsm, PF);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_ERROR);
	assert_int_equal(t->cause, PCITSM_TDISP_CAUSE_FLR);
	/* A write to locked configuration. */
	do_stop(f, PF);
	do_lock(f, PF, nonce);
	assert_int_equal(do_start(f, PF, nonce), PCITSM_TDISP_START_INTERFACE_RESPONSE);
	pcitsm_tdisp_dsm_config_written(&f->dsm, PF);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_ERROR);
	assert_int_equal(t->cause, PCITSM_TDISP_CAUSE_CONFIG_WRITE);
	/* The default stream going Insecure; another stream's does nothing. */
	do_stop(f, PF);
	do_lock(f, PF, nonce);
	pcitsm_tdisp_dsm_stream_insecure(&f->dsm, SID + 1);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	pcitsm_tdisp_dsm_stream_insecure(&f->dsm, SID);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_ERROR);
	assert_int_equal(t->cause, PCITSM_TDISP_CAUSE_STREAM_INSECURE);
	/* None of them touches a CONFIG_UNLOCKED TDI. */
	do_stop(f, PF);
	pcitsm_tdisp_dsm_flr(&f->dsm, PF);
	pcitsm_tdisp_dsm_config_written(&f->dsm, PF);
	pcitsm_tdisp_dsm_session_ended(&f->dsm, 0);
	pcitsm_tdisp_dsm_stream_insecure(&f->dsm, 0);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
}

/* PF0 and two VFs behind one DSM: each its own state, nonce and report; an FLR of a VF hits only
 * that VF, an FLR of the PF hits them all. */
static void test_multi_tdi(void **state)
{
	struct fx *f = *state;
	uint8_t n_pf[PCITSM_TDISP_NONCE_LEN], n_vf1[PCITSM_TDISP_NONCE_LEN];
	struct pcitsm_tdisp_tdi *pf = pcitsm_tdisp_dsm_find(&f->dsm, PF);
	struct pcitsm_tdisp_tdi *vf2 = pcitsm_tdisp_dsm_find(&f->dsm, VF2);
	struct pcitsm_tdisp_tdi vf2_before;

	km(f, S1, SID, 0, 0x3f, 0x3f);
	memcpy(&vf2_before, vf2, sizeof(vf2_before));
	do_lock(f, VF1, n_vf1);
	/* The others as they were. */
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(state_of(f, VF2), PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_memory_equal(vf2, &vf2_before, sizeof(vf2_before));
	assert_false(pf->nonce_valid);
	/* Each its own nonce: VF1's does not start PF. */
	do_lock(f, PF, n_pf);
	assert_memory_not_equal(n_pf, n_vf1, sizeof(n_pf));
	expect_error(f, do_start(f, PF, n_vf1), PCITSM_TDISP_ERR_INVALID_NONCE);
	assert_int_equal(do_start(f, VF1, n_vf1), PCITSM_TDISP_START_INTERFACE_RESPONSE);
	assert_int_equal(state_of(f, VF1), PCITSM_TDISP_RUN);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	/* Stopping one leaves the other. */
	do_stop(f, PF);
	assert_int_equal(state_of(f, VF1), PCITSM_TDISP_RUN);
	/* FLR of VF2 (unlocked) and of VF1: only VF1 to ERROR. */
	do_lock(f, PF, n_pf);
	pcitsm_tdisp_dsm_flr(&f->dsm, VF1);
	assert_int_equal(state_of(f, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_CONFIG_LOCKED);
	/* FLR of the PF: every locked TDI of it. */
	do_stop(f, VF1);
	do_lock(f, VF2, n_vf1);
	pcitsm_tdisp_dsm_flr(&f->dsm, PF);
	assert_int_equal(state_of(f, PF), PCITSM_TDISP_ERROR);
	assert_int_equal(state_of(f, VF2), PCITSM_TDISP_ERROR);
	assert_int_equal(state_of(f, VF1), PCITSM_TDISP_CONFIG_UNLOCKED);
	/* Hosting limits. */
	assert_err(pcitsm_tdisp_dsm_add_tdi(&f->dsm, VF1, PF, &f->desc), PCITSM_E_EXISTS);
	assert_err(pcitsm_tdisp_dsm_add_tdi(&f->dsm, 0x02000000, PF, &f->desc), PCITSM_E_INVAL);
	for (uint32_t fid = 0x20; f->dsm.nr_tdis < PCITSM_TDISP_MAX_TDIS; fid++)
		assert_ok(pcitsm_tdisp_dsm_add_tdi(&f->dsm, fid, PF, &f->desc));
	assert_err(pcitsm_tdisp_dsm_add_tdi(&f->dsm, 0x40, PF, &f->desc), PCITSM_E_EXHAUSTED);
}

/* ---------------------------------------------------------------------------------------------
 * The requester's sequence against the DSM, in-process.
 */
static pcitsm_err exchange(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct fx *f = arg;
	size_t at = pcitsm_wr_len(rsp);
	uint8_t *p;

	f->exchanges++;
	PCITSM_TRY(pcitsm_tdisp_dsm_handle(&f->dsm, f->session, req, len, rsp));
	p = rsp->p + at;
	/* A device that counts REQ_MSGS_SUPPORTED from 0x81 (0x7F). */
	if (f->shift_req_msgs && p[2] == PCITSM_TDISP_TDISP_CAPABILITIES)
		p[PCITSM_TDISP_HDR_LEN + 4] = 0x7f;
	/* A device whose report remainder drifts between portions. */
	if (f->bad_remainder && p[2] == PCITSM_TDISP_DEVICE_INTERFACE_REPORT &&
	    req[PCITSM_TDISP_HDR_LEN] != 0)
		p[PCITSM_TDISP_HDR_LEN + 2]++;
	/* A device that refuses STOP in CONFIG_UNLOCKED. */
	if (f->stop_unlocked_refused && req[2] == PCITSM_TDISP_STOP_INTERFACE_REQUEST &&
	    pcitsm_tdisp_dsm_find(&f->dsm, PF)->generation == 0) {
		struct pcitsm_tdisp_msg e = { .code = PCITSM_TDISP_TDISP_ERROR, .function_id = PF,
					      .u.error.code = PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE };

		rsp->off = at;
		PCITSM_TRY(pcitsm_tdisp_encode(rsp, &e));
	}
	return PCITSM_OK;
}

static pcitsm_err refuse_policy(void *arg, struct pcitsm_tdisp_seq *s)
{
	(void)arg;
	snprintf(s->why, sizeof(s->why), "test policy says no");
	return PCITSM_E_MISMATCH;
}

static void seq_opts(struct fx *f, struct pcitsm_tdisp_seq_opts *o, uint16_t portion)
{
	*o = (struct pcitsm_tdisp_seq_opts){ .function_id = PF, .portion = portion,
					     .view = &f->desc };
	o->lock = lock_msg(SID).u.lock;
}

static void test_sequence(void **state)
{
	struct fx *f = *state;
	struct pcitsm_tdisp_seq_ops ops = { .exchange = exchange };
	struct pcitsm_tdisp_seq *s = calloc(1, sizeof(*s));
	struct pcitsm_tdisp_tdi *t = pcitsm_tdisp_dsm_find(&f->dsm, PF);
	struct pcitsm_tdisp_seq_opts o;
	uint8_t digest[PCITSM_TDISP_DIGEST_LEN];

	/* Without keys: LOCK refused, named. */
	seq_opts(f, &o, 0);
	assert_err(pcitsm_tdisp_seq_run(s, &ops, f, &o), PCITSM_E_PEER_ERROR);
	assert_int_equal(s->step, PCITSM_TDISP_STEP_LOCK);
	assert_int_equal(s->tdisp_error, PCITSM_TDISP_ERR_INVALID_REQUEST);
	/* With them: RUN, the report the DSM holds, its digest. */
	km(f, S1, SID, 0, 0x3f, 0x3f);
	assert_ok(pcitsm_tdisp_seq_run(s, &ops, f, &o));
	assert_int_equal(t->state, PCITSM_TDISP_RUN);
	assert_int_equal(s->state, PCITSM_TDISP_RUN);
	assert_int_equal(s->report_len, t->report_len);
	assert_memory_equal(s->report, t->report, s->report_len);
	assert_ok(pcitsm_hash(PCITSM_HASH_SHA384, t->report, t->report_len, digest));
	assert_memory_equal(s->digest, digest, sizeof(digest));
	assert_int_equal(s->rq.deviations, 0);
	assert_false(s->locked);
	assert_true(all_zero(s->nonce, sizeof(s->nonce)));
	/* Already running: the state check refuses to lock, the TDI is left as it is. */
	assert_err(pcitsm_tdisp_seq_run(s, &ops, f, &o), PCITSM_E_MISMATCH);
	assert_int_equal(s->step, PCITSM_TDISP_STEP_STATE);
	assert_int_equal(t->state, PCITSM_TDISP_RUN);
	assert_ok(pcitsm_tdisp_seq_stop(s, &ops, f));
	assert_int_equal(t->state, PCITSM_TDISP_CONFIG_UNLOCKED);
	/* A policy that refuses: no START, the TDI unlocked again, the refusal named. */
	ops.policy = refuse_policy;
	assert_err(pcitsm_tdisp_seq_run(s, &ops, f, &o), PCITSM_E_MISMATCH);
	assert_int_equal(s->step, PCITSM_TDISP_STEP_POLICY);
	assert_string_equal(s->why, "test policy says no");
	assert_int_equal(t->state, PCITSM_TDISP_CONFIG_UNLOCKED);
	ops.policy = NULL;
	/* A view the report does not fit: refused at the check, rule named. */
	f->desc.bar[1].base += 0x1000;
	assert_err(pcitsm_tdisp_seq_run(s, &ops, f, &o), PCITSM_E_FIELD);
	assert_int_equal(s->step, PCITSM_TDISP_STEP_CHECK);
	assert_int_equal(s->check.rule, PCITSM_TDISP_RULE_BAR_BASE);
	assert_int_equal(t->state, PCITSM_TDISP_CONFIG_UNLOCKED);
	f->desc.bar[1].base -= 0x1000;
	/* Over another session than the keys': LOCK refused. */
	f->session = S2;
	assert_err(pcitsm_tdisp_seq_run(s, &ops, f, &o), PCITSM_E_PEER_ERROR);
	assert_int_equal(s->step, PCITSM_TDISP_STEP_LOCK);
	f->session = S1;
	/* START without a lock. */
	pcitsm_tdisp_seq_wipe(s);
	assert_err(pcitsm_tdisp_seq_start(s, &ops, f), PCITSM_E_STATE);
	pcitsm_tdisp_seq_wipe(s);
	free(s);
}

/* What the requester tolerates: REQ_MSGS_SUPPORTED 0x7F, portions capped at 64 bytes, STOP in
 * CONFIG_UNLOCKED refused; and what it does not: a remainder that drifts. */
static void test_tolerance(void **state)
{
	struct fx *f = *state;
	struct pcitsm_tdisp_seq_ops ops = { .exchange = exchange };
	struct pcitsm_tdisp_seq *s = calloc(1, sizeof(*s));
	struct pcitsm_tdisp_tdi *t = pcitsm_tdisp_dsm_find(&f->dsm, PF);
	struct pcitsm_tdisp_seq_opts o;
	char dev[128];
	unsigned before;

	km(f, S1, SID, 0, 0x3f, 0x3f);
	/* STOP in CONFIG_UNLOCKED answered INVALID_INTERFACE_STATE: accepted, noted. */
	f->stop_unlocked_refused = true;
	pcitsm_tdisp_seq_init(s, PF);
	assert_ok(pcitsm_tdisp_seq_stop(s, &ops, f));
	assert_true(s->rq.deviations & PCITSM_TDISP_DEV_STOP_UNLOCKED_REFUSED);
	f->stop_unlocked_refused = false;
	/* 0x7F and a 64-byte cap. */
	f->shift_req_msgs = true;
	f->dsm.opts.portion_max = 64;
	seq_opts(f, &o, 1024);
	before = f->exchanges;
	assert_ok(pcitsm_tdisp_seq_run(s, &ops, f, &o));
	assert_int_equal(t->state, PCITSM_TDISP_RUN);
	assert_true(s->rq.deviations & PCITSM_TDISP_DEV_REQ_MSGS_SHIFTED);
	assert_true(s->rq.deviations & PCITSM_TDISP_DEV_SHORT_PORTION);
	assert_int_equal(s->supported & 0xfe, 0xfe);
	/* version, caps, state, lock, state, ceil(report / 64) portions, start, state */
	assert_int_equal(f->exchanges - before, 7 + (t->report_len + 63) / 64);
	pcitsm_tdisp_deviations_str(s->rq.deviations, dev, sizeof(dev));
	assert_string_equal(dev, "REQ_MSGS_SHIFTED,SHORT_PORTION");
	assert_ok(pcitsm_tdisp_seq_stop(s, &ops, f));
	/* A remainder that changes between portions: refused, the TDI unlocked again. */
	f->bad_remainder = true;
	assert_err(pcitsm_tdisp_seq_run(s, &ops, f, &o), PCITSM_E_MISMATCH);
	assert_int_equal(s->step, PCITSM_TDISP_STEP_REPORT);
	assert_int_equal(t->state, PCITSM_TDISP_CONFIG_UNLOCKED);
	pcitsm_tdisp_seq_wipe(s);
	free(s);
}

int main(void)
{
	return test_run_fixture(setup, teardown, test_state_table, test_lock_keys,
				test_lock_default_stream, test_nonce, test_report, test_refusals,
				test_events, test_multi_tdi, test_sequence, test_tolerance);
}
