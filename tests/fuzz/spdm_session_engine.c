/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the session engines on both sides. Per input: authenticate, then byte 0 picks
 *   0: the rest is a KEY_EXCHANGE_RSP fed to the requester after its KEY_EXCHANGE;
 *   1: open a session; the rest is records (u16 LE length, bytes) to the responder's secured path;
 *   2: open a session; the rest is plaintext requests (u16 LE length, bytes) sealed with the
 *      session's keys, so the responder's in-session parsers see them;
 *   3: open a session; the rest is a response record for the requester (byte 1: the request);
 *   byte 0 >= 0xf0: open a session; bytes 1-3 are the outstanding request's code, Param1, Param2;
 *      the rest is a plaintext response sealed with the responder's keys, so the requester's
 *      in-session parsers see it.
 * Nothing may crash; an open session must still be usable or cleanly ended. A "session ended" hook
 * on a registered protocol must see each opened session exactly once, after its slot is gone.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/spdm_driver.h"
#include "pcitsm/spdm_rsp.h"

/* A transport straight into the responder (no DOE framing, small buffers: fast). */
struct direct {
	struct pcitsm_xport x;
	struct pcitsm_spdm_rsp *s;
};

static pcitsm_err direct_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				  const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				  size_t *rsp_len)
{
	struct direct *d = (struct direct *)(void *)x;

	if (type == PCITSM_DOE_TYPE_CMA)
		return pcitsm_spdm_rsp_handle(d->s, req, req_len, rsp, rsp_cap, rsp_len);
	return pcitsm_spdm_rsp_handle_secured(d->s, req, req_len, rsp, rsp_cap, rsp_len);
}

static const struct pcitsm_xport_ops direct_ops = { .exchange = direct_exchange };

/* A protocol handler (echo the Protocol ID) and its end hook, which checks the slot is gone. */
struct ended {
	const struct pcitsm_spdm_rsp *s;
	unsigned n;
};

static pcitsm_err echo_vdm(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
			   struct pcitsm_wr *rsp)
{
	pcitsm_wr_u8(rsp, req[0]);
	return pcitsm_wr_err(rsp);
}

static void on_ended(void *ctx, uint32_t session_id)
{
	struct ended *e = ctx;

	for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
		if (e->s->sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE &&
		    e->s->sessions[i].sm.id == session_id)
			abort();
	e->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_identity id;
	static struct pcitsm_trust *trust;
	static bool have_id;
	static uint8_t rsp[8192], rec[8192];
	struct pcitsm_env_test et;
	struct pcitsm_spdm_rsp_opts o;
	struct pcitsm_spdm_rsp s;
	struct direct loop;
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_spdm_auth_result res;
	struct pcitsm_spdm_req r;
	struct pcitsm_spdm_session ss;
	struct pcitsm_rd rd;
	struct pcitsm_wr w;
	struct ended ended = { .s = &s };
	size_t n;
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0] >= 0xf0 ? 4 : data[0] % 4;
	if (!have_id) {
		if (pcitsm_identity_generate(&id, 256, "fuzz") != PCITSM_OK ||
		    pcitsm_trust_new(&trust) || pcitsm_trust_add_der(trust, id.root, id.root_len))
			abort();
		have_id = true;
	}
	pcitsm_env_test_init(&et, 3);
	pcitsm_spdm_rsp_opts_default(&o);
	if (pcitsm_spdm_rsp_init(&s, &id, &o, &et.env) != PCITSM_OK ||
	    pcitsm_spdm_rsp_register_vdm(&s, PCITSM_SPDM_PROTO_IDE_KM, echo_vdm, NULL) ||
	    pcitsm_spdm_rsp_register_vdm_end(&s, PCITSM_SPDM_PROTO_IDE_KM, on_ended, &ended))
		abort();
	loop = (struct direct){ .x = { .ops = &direct_ops, .name = "direct" }, .s = &s };
	pcitsm_spdm_auth_opts_default(&ao, &et.env);
	ao.skip_challenge = true;
	ao.meas = PCITSM_SPDM_MEAS_NONE;
	ao.cfg.trust = trust;
	if (pcitsm_spdm_drv_req_authenticate(&r, &loop.x, &ao, &res) != PCITSM_OK)
		abort();
	pcitsm_rd_init(&rd, data + 1, size - 1);
	memset(&ss, 0, sizeof(ss));
	if (mode == 0) {
		pcitsm_wr_init(&w, rec, sizeof(rec));
		if (pcitsm_spdm_session_req_key_exchange(&ss, &r, &(struct pcitsm_spdm_session_opts){ 0 },
							 &w))
			abort();
		if (pcitsm_spdm_session_feed_plain(&ss, data + 1, size - 1) == PCITSM_OK &&
		    ss.state != PCITSM_SPDM_SESSION_HANDSHAKE)
			abort();
		goto out;
	}
	if (pcitsm_spdm_drv_session_open(&ss, &r, &loop.x, NULL) != PCITSM_OK)
		abort();
	while (mode < 3 && pcitsm_rd_left(&rd) >= 2) {
		size_t len = PCITSM_MIN((size_t)pcitsm_rd_le16(&rd), pcitsm_rd_left(&rd));
		const uint8_t *p = pcitsm_rd_bytes(&rd, len);
		pcitsm_err e;

		if (mode == 2) {
			if (ss.state != PCITSM_SPDM_SESSION_ESTABLISHED ||
			    pcitsm_record_seal(&ss.sm, p, len, rec, sizeof(rec), &n))
				break;
			p = rec;
			len = n;
		}
		e = pcitsm_spdm_rsp_handle_secured(&s, p, len, rsp, sizeof(rsp), &n);
		if (e != PCITSM_OK && e != PCITSM_E_NORESPONSE)
			abort();
		if (e == PCITSM_OK && n < PCITSM_SM_OVERHEAD)
			abort();
	}
	if (mode == 4 && size >= 4) {
		struct pcitsm_spdm_rsp_session *rs = NULL;
		uint8_t hdr[4] = { r.version, data[1], data[2], data[3] };
		pcitsm_err e;

		for (unsigned i = 0; i < PCITSM_SPDM_MAX_SESSIONS; i++)
			if (s.sessions[i].state != PCITSM_SPDM_RSP_SESS_FREE &&
			    s.sessions[i].sm.id == ss.sm.id)
				rs = &s.sessions[i];
		if (!rs || pcitsm_record_seal(&rs->sm, data + 4, size - 4, rec, sizeof(rec), &n))
			goto out;
		ss.outstanding = true;
		memcpy(ss.req_hdr, hdr, sizeof(hdr));
		e = pcitsm_spdm_session_feed(&ss, rec, n, NULL);
		/* a failure ends the session, unless it is an ERROR the session survives */
		if (e != PCITSM_OK && e != PCITSM_E_PEER_ERROR &&
		    ss.state != PCITSM_SPDM_SESSION_ENDED)
			abort();
	}
	if (mode == 3 && size >= 2) {
		uint8_t hdr[4] = { r.version, data[1], 1, 0 };

		ss.outstanding = true;
		memcpy(ss.req_hdr, hdr, sizeof(hdr));
		size_t m = PCITSM_MIN(size - 2, sizeof(rec)); /* opened in place: a copy */
		pcitsm_err e;

		memcpy(rec, data + 2, m);
		e = pcitsm_spdm_session_feed(&ss, rec, m, NULL);

		/* only a record of another session leaves the request outstanding */
		if (e != PCITSM_OK && e != PCITSM_E_NOTFOUND &&
		    ss.state == PCITSM_SPDM_SESSION_ESTABLISHED && ss.outstanding)
			abort();
	}
out:
	pcitsm_spdm_session_wipe(&ss);
	pcitsm_spdm_req_free(&r);
	pcitsm_spdm_auth_result_free(&res);
	pcitsm_spdm_rsp_free(&s);
	if (ended.n != s.sessions_opened)
		abort(); /* each opened session reported once, the last ones by rsp_free */
	return 0;
}
