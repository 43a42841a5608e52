/* SPDX-License-Identifier: MIT */
/*
 * TDISP requester engine, tolerant (docs/tdisp.md "Tolerance"): builds each request and checks the
 * response against the request it answers. What real devices do differently from PCIe 6.x §11 and
 * is harmless is accepted and recorded in rq->deviations; what would let a device mislead the TSM
 * (another interface's answer, a portion longer than asked, an unknown state) fails the requester.
 */
#include <stdio.h>
#include <string.h>

#include "pcitsm/tdisp.h"

#define ADDR_WIDTH_EXPECTED 52

void pcitsm_tdisp_deviations_str(uint32_t flags, char *buf, size_t n)
{
	size_t at = 0;

	if (!n)
		return;
	buf[0] = 0;
#define PCITSM_TDISP_DEV_STR(name, bit, str)                                             \
	if ((flags & (bit)) && at < n)                                                   \
		at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? "," : "", #name);
	PCITSM_TDISP_DEVIATIONS(PCITSM_TDISP_DEV_STR)
#undef PCITSM_TDISP_DEV_STR
	if (!at)
		snprintf(buf, n, "none");
}

uint16_t pcitsm_tdisp_caps_supported(const struct pcitsm_tdisp_caps *c, uint32_t *deviations)
{
	uint16_t bits = (uint16_t)(c->req_msgs[0] | c->req_msgs[1] << 8);

	/* Bit 0 would be request 0x80, which does not exist: a device that sets it counts from
	 * 0x81 (bit = code - 0x81). */
	if (bits & 1u) {
		*deviations |= PCITSM_TDISP_DEV_REQ_MSGS_SHIFTED;
		bits = (uint16_t)(bits << 1);
	}
	return bits;
}

void pcitsm_tdisp_req_init(struct pcitsm_tdisp_req *rq, uint32_t function_id)
{
	memset(rq, 0, sizeof(*rq));
	rq->function_id = function_id;
}

void pcitsm_tdisp_req_abandon(struct pcitsm_tdisp_req *rq)
{
	rq->pending = false;
}

static bool is_request(uint8_t code)
{
	return code >= PCITSM_TDISP_GET_TDISP_VERSION && code <= PCITSM_TDISP_STOP_INTERFACE_REQUEST;
}

pcitsm_err pcitsm_tdisp_req_build(struct pcitsm_tdisp_req *rq, const struct pcitsm_tdisp_msg *m,
				  struct pcitsm_wr *w)
{
	struct pcitsm_tdisp_msg out;
	pcitsm_err e;

	if (!rq || !m || !w || !is_request(m->code))
		return PCITSM_E_INVAL;
	if (rq->err)
		return rq->err;
	if (rq->pending)
		return PCITSM_E_STATE;
	out = *m;
	out.function_id = rq->function_id;
	e = pcitsm_tdisp_encode(w, &out);
	pcitsm_wipe(&out, sizeof(out));
	if (e)
		return e;
	rq->pending = true;
	rq->code = m->code;
	rq->rep_length = m->code == PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT ?
				 m->u.get_report.length : 0;
	return PCITSM_OK;
}

static pcitsm_err req_fail(struct pcitsm_tdisp_req *rq, pcitsm_err e)
{
	rq->err = e;
	return e;
}

/* What the answer to the outstanding request must satisfy beyond its format. */
static pcitsm_err check_answer(struct pcitsm_tdisp_req *rq, const struct pcitsm_tdisp_msg *m)
{
	bool v10 = false;

	switch (m->code) {
	case PCITSM_TDISP_TDISP_VERSION:
		for (unsigned i = 0; i < m->u.version.count; i++)
			v10 |= m->u.version.v[i] == PCITSM_TDISP_VERSION_10;
		return v10 ? PCITSM_OK : PCITSM_E_VERSION;
	case PCITSM_TDISP_TDISP_CAPABILITIES:
		if (m->u.caps.dsm_caps)
			rq->deviations |= PCITSM_TDISP_DEV_DSM_CAPS;
		if (m->u.caps.dev_addr_width < ADDR_WIDTH_EXPECTED)
			rq->deviations |= PCITSM_TDISP_DEV_ADDR_WIDTH;
		if (!m->u.caps.num_req_this || !m->u.caps.num_req_all)
			rq->deviations |= PCITSM_TDISP_DEV_NUM_REQ_ZERO;
		return PCITSM_OK;
	case PCITSM_TDISP_DEVICE_INTERFACE_REPORT:
		/* PCIe 6.x §11: the DSM may return fewer bytes than asked, never more. */
		if (m->u.report.portion > rq->rep_length)
			return PCITSM_E_FIELD;
		if (!m->u.report.portion && m->u.report.remainder)
			return PCITSM_E_FIELD; /* no progress */
		if (m->u.report.portion < rq->rep_length && m->u.report.remainder)
			rq->deviations |= PCITSM_TDISP_DEV_SHORT_PORTION;
		return PCITSM_OK;
	case PCITSM_TDISP_DEVICE_INTERFACE_STATE:
		return m->u.state <= PCITSM_TDISP_ERROR ? PCITSM_OK : PCITSM_E_FIELD;
	default:
		return PCITSM_OK;
	}
}

pcitsm_err pcitsm_tdisp_req_response(struct pcitsm_tdisp_req *rq, const uint8_t *rsp, size_t n,
				     struct pcitsm_tdisp_msg *out)
{
	pcitsm_err e;

	if (!rq || !out)
		return PCITSM_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (rq->err)
		return rq->err;
	if (!rq->pending)
		return PCITSM_E_STATE;
	rq->pending = false;
	e = pcitsm_tdisp_decode(rsp, n, out);
	if (e)
		return req_fail(rq, e);
	/* The answer must be about the interface asked about. */
	if (out->function_id != rq->function_id) {
		pcitsm_wipe(out, sizeof(*out));
		return req_fail(rq, PCITSM_E_UNEXPECTED);
	}
	if (out->code == PCITSM_TDISP_TDISP_ERROR) {
		rq->peer_error = out->u.error.code;
		rq->peer_error_data = out->u.error.data;
		return PCITSM_E_PEER_ERROR;
	}
	if (out->code != PCITSM_TDISP_RSP_OF(rq->code)) {
		pcitsm_wipe(out, sizeof(*out));
		return req_fail(rq, PCITSM_E_UNEXPECTED);
	}
	e = check_answer(rq, out);
	if (e) {
		pcitsm_wipe(out, sizeof(*out));
		return req_fail(rq, e);
	}
	return PCITSM_OK;
}
