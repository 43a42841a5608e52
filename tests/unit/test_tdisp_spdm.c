/* SPDX-License-Identifier: MIT */
/*
 * TDISP over a real SPDM secure session (DOE loopback): the DSM registered with the SPDM responder
 * as protocol 1 beside IDE_KM (protocol 0) on an emulated endpoint's IDE engine; the default
 * stream's keys programmed and started over the session; the requester's sequence over
 * pcitsm_spdm_drv_vdm_call to RUN; END_SESSION and heartbeat loss moving the TDI to ERROR through the
 * SPDM layer's end hook; and a TDISP request outside any session ignored (PCIe 6.x §11: only inside a session).
 */
#include "test_spdm_fixture.h"
#include "pcitsm/idekm.h"
#include "pcitsm/tdisp.h"

#define SID 7
#define PF 0x0100u

struct tx {
	struct fx *f;
	struct test_ide_link l;
	struct pcitsm_idekm_rsp km;
	struct pcitsm_tdisp_dsm dsm;
	struct pcitsm_tdisp_ifdesc desc;
	struct pcitsm_spdm_req r;
	struct pcitsm_spdm_session s;
};

static pcitsm_err spdm_exchange(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct tx *t = arg;

	return pcitsm_spdm_drv_vdm_call(&t->s, &t->f->loop.x, PCITSM_SPDM_PROTO_TDISP, req, len, rsp);
}

static void km_ended(void *ctx, uint32_t session_id)
{
	pcitsm_idekm_rsp_session_closed(ctx, session_id);
}

static void km_call(struct tx *t, const uint8_t *req, size_t len)
{
	uint8_t out[64];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, out, sizeof(out));
	assert_ok(pcitsm_spdm_drv_vdm_call(&t->s, &t->f->loop.x, PCITSM_SPDM_PROTO_IDE_KM, req, len, &w));
	assert_int_equal(pcitsm_wr_len(&w), PCITSM_IDEKM_KSET_LEN);
	if (out[1] == PCITSM_IDEKM_KP_ACK)
		assert_int_equal(out[5], PCITSM_IDEKM_KP_SUCCESS);
}

/* The six keys of stream SID, key set 0, programmed and started over the session. */
static void key_stream(struct tx *t)
{
	struct pcitsm_idekm_keys keys;
	uint8_t buf[64];
	struct pcitsm_wr w;

	assert_ok(pcitsm_idekm_keys_generate(&t->l.env.env, SID, 0, &keys));
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		struct pcitsm_idekm_key_prog kp;
		struct pcitsm_idekm_ks go = { .obj = PCITSM_IDEKM_K_SET_GO, .stream_id = SID };

		assert_ok(pcitsm_idekm_keys_key_prog(&keys, i, 0, &kp));
		pcitsm_wr_init(&w, buf, sizeof(buf));
		assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
		pcitsm_wipe(&kp, sizeof(kp));
		km_call(t, buf, pcitsm_wr_len(&w));
		pcitsm_wipe(buf, sizeof(buf));
		pcitsm_idekm_keys_slot(i, &go.dir, &go.sub);
		pcitsm_wr_init(&w, buf, sizeof(buf));
		assert_ok(pcitsm_idekm_ks_encode(&w, &go));
		km_call(t, buf, pcitsm_wr_len(&w));
	}
	pcitsm_idekm_keys_wipe(&keys);
}

static void test_over_session(void **state)
{
	struct tx *t = calloc(1, sizeof(*t));
	struct pcitsm_tdisp_seq *seq = calloc(1, sizeof(*seq));
	struct pcitsm_tdisp_seq_ops ops = { .exchange = spdm_exchange };
	struct pcitsm_tdisp_seq_opts o = { .function_id = PF };
	struct pcitsm_tdisp_tdi *tdi;
	uint8_t out[256];
	struct pcitsm_wr w;
	size_t n;

	(void)state;
	/* The endpoint: IDE engine, IDE_KM responder, DSM; SPDM responder serving both. */
	test_ide_link_init(&t->l, 5, SID);
	t->f = fx_new("p384");
	t->f->ro.heartbeat_period = 5;
	t->f->ro.heartbeat_watchdog = true;
	fx_start(t->f);
	assert_ok(pcitsm_doe_dev_register(&t->f->dev, &t->f->rsp.sdoe));
	pcitsm_idekm_rsp_init(&t->km, &t->l.env.env);
	assert_ok(pcitsm_idekm_rsp_add_port(&t->km, &t->l.ep->cfg.cfg, t->l.ep_port, &t->l.ep->bdf));
	assert_ok(pcitsm_spdm_rsp_register_vdm(&t->f->rsp, PCITSM_SPDM_PROTO_IDE_KM,
					       pcitsm_idekm_rsp_handle, &t->km));
	assert_ok(pcitsm_spdm_rsp_register_vdm_end(&t->f->rsp, PCITSM_SPDM_PROTO_IDE_KM, km_ended,
						   &t->km));
	assert_ok(pcitsm_tdisp_dsm_init(&t->dsm, &t->l.env.env, &t->km, NULL));
	t->desc.bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, false };
	t->desc.nr_bars = 1;
	t->desc.interface_info = PCITSM_TDISP_INFO_DMA_WITH_PASID;
	assert_ok(pcitsm_tdisp_dsm_add_tdi(&t->dsm, PF, PF, &t->desc));
	assert_ok(pcitsm_tdisp_dsm_register(&t->dsm, &t->f->rsp));
	assert_err(pcitsm_tdisp_dsm_register(&t->dsm, &t->f->rsp), PCITSM_E_EXISTS);
	tdi = pcitsm_tdisp_dsm_find(&t->dsm, PF);

	/* Outside a session: a TDISP request is ignored. */
	{
		struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE,
					      .function_id = PF };
		uint8_t msg[64] = { PCITSM_SPDM_V12, PCITSM_SPDM_VENDOR_DEFINED_REQUEST, 0, 0,
				    PCITSM_SPDM_STANDARD_PCISIG, 0, 2,
				    PCITSM_SPDM_VENDOR_PCISIG & 0xff, 0 };

		pcitsm_wr_init(&w, msg + PCITSM_SPDM_VDM_HDR_LEN, sizeof(msg) - PCITSM_SPDM_VDM_HDR_LEN);
		assert_ok(pcitsm_tdisp_encode(&w, &m));
		pcitsm_put_le16(msg + 9, (uint16_t)pcitsm_wr_len(&w));
		assert_ok(pcitsm_spdm_drv_req_authenticate(&t->r, &t->f->loop.x, &t->f->ao, &t->f->res));
		n = 0;
		assert_err(pcitsm_spdm_rsp_handle(&t->f->rsp, msg,
						  PCITSM_SPDM_VDM_HDR_LEN + pcitsm_wr_len(&w), out,
						  sizeof(out), &n),
			   PCITSM_E_NORESPONSE);
		assert_int_equal(n, 0);
		assert_int_equal(t->dsm.stats.requests, 0);
	}
	/* Inside one: keys over the session, then lock -> report -> check -> start. */
	assert_ok(pcitsm_spdm_drv_session_open(&t->s, &t->r, &t->f->loop.x, NULL));
	key_stream(t);
	o.lock.stream_id = SID;
	o.lock.mmio_offset = 0x100000000ll;
	o.view = &t->desc;
	assert_ok(pcitsm_tdisp_seq_run(seq, &ops, t, &o));
	assert_int_equal(tdi->state, PCITSM_TDISP_RUN);
	assert_true(seq->rep.interface_info & PCITSM_TDISP_INFO_DMA_WITH_PASID);
	assert_int_equal(seq->rep.nr_ranges, 1);
	assert_int_equal(seq->rep.range[0].first_page, (0xfe000000ull + 0x100000000ull) >> 12);
	/* END_SESSION: the SPDM layer's end hook moves the TDI it locked to ERROR. */
	assert_ok(pcitsm_spdm_drv_session_end(&t->s, &t->f->loop.x));
	assert_int_equal(tdi->state, PCITSM_TDISP_ERROR);
	assert_int_equal(tdi->cause, PCITSM_TDISP_CAUSE_SESSION_ENDED);
	/* A new session can stop it; LOCK needs keys of that session again. */
	assert_ok(pcitsm_spdm_drv_session_open(&t->s, &t->r, &t->f->loop.x, NULL));
	assert_ok(pcitsm_tdisp_seq_stop(seq, &ops, t));
	assert_int_equal(tdi->state, PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_err(pcitsm_tdisp_seq_run(seq, &ops, t, &o), PCITSM_E_PEER_ERROR);
	assert_int_equal(seq->tdisp_error, PCITSM_TDISP_ERR_INVALID_REQUEST);
	key_stream(t);
	assert_ok(pcitsm_tdisp_seq_run(seq, &ops, t, &o));
	assert_int_equal(tdi->state, PCITSM_TDISP_RUN);
	/* Heartbeat loss: silent for more than two periods, the responder ends the session, and
	 * the TDI it locked goes to ERROR. */
	t->f->et.clock_ns += 11ull * 1000000000ull;
	assert_err(pcitsm_spdm_drv_session_heartbeat(&t->s, &t->f->loop.x), PCITSM_E_NORESPONSE);
	assert_int_equal(t->f->rsp.sessions_expired, 1);
	assert_int_equal(tdi->state, PCITSM_TDISP_ERROR);
	assert_int_equal(tdi->cause, PCITSM_TDISP_CAUSE_SESSION_ENDED);
	pcitsm_spdm_session_wipe(&t->s);

	pcitsm_tdisp_seq_wipe(seq);
	free(seq);
	pcitsm_tdisp_dsm_free(&t->dsm);
	pcitsm_spdm_req_free(&t->r);
	fx_free(t->f);
	test_ide_link_free(&t->l);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_over_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
