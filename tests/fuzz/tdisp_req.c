/* SPDX-License-Identifier: MIT */
/* Fuzz the TDISP requester and the report checker. Input: a selector byte, then bytes.
 *   sel < 0x80: the requester with request 0x81 + sel % 7 outstanding takes the bytes as its
 *               response; the bytes are also decoded and checked as an interface report;
 *   sel >= 0x80: the whole sequence (lock -> report -> check -> start) against a device that
 *               answers with the input's records [len u16][bytes] in turn. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/tdisp.h"

struct script {
	const uint8_t *p;
	size_t n;
};

static pcitsm_err replay(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct script *s = arg;
	size_t n;

	(void)req;
	(void)len;
	if (s->n < 2)
		return PCITSM_E_NORESPONSE;
	n = pcitsm_get_le16(s->p);
	s->p += 2;
	s->n -= 2;
	n = PCITSM_MIN(n, s->n);
	pcitsm_wr_bytes(rsp, s->p, n);
	s->p += n;
	s->n -= n;
	return pcitsm_wr_err(rsp);
}

static void view_init(struct pcitsm_tdisp_ifdesc *v)
{
	memset(v, 0, sizeof(*v));
	v->bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, false };
	v->bar[1] = (struct pcitsm_tdisp_bar){ 2, 0xfd000000, 0x4000, false, false };
	v->nr_bars = 2;
	v->msix = true;
	v->msix_table = (struct pcitsm_tdisp_region){ 0, 0x2000, 0x100 };
	v->msix_pba = (struct pcitsm_tdisp_region){ 0, 0x3000, 8 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_tdisp_seq seq;
	struct pcitsm_tdisp_ifdesc view;
	struct pcitsm_tdisp_check_result res;
	struct pcitsm_tdisp_report rep;
	struct pcitsm_tdisp_msg m = { 0 }, out;
	struct pcitsm_tdisp_req rq;
	uint8_t req[64], sel;
	struct pcitsm_wr w;
	char dev[256];
	pcitsm_err e;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	view_init(&view);
	if (sel >= 0x80) {
		struct pcitsm_tdisp_seq_ops ops = { .exchange = replay };
		struct pcitsm_tdisp_seq_opts o = { .function_id = 0x100, .view = &view,
						   .portion = (uint16_t)(sel & 0x7f) * 8 };
		struct script s = { data, size };

		o.lock.flags = PCITSM_TDISP_LOCK_MSIX;
		o.lock.stream_id = 7;
		o.lock.mmio_offset = 0xD0000000ll;
		e = pcitsm_tdisp_seq_run(&seq, &ops, &s, &o);
		if (!e && (seq.state != PCITSM_TDISP_RUN || seq.locked))
			abort();
		if (seq.report_len > sizeof(seq.report))
			abort();
		pcitsm_tdisp_deviations_str(seq.rq.deviations, dev, sizeof(dev));
		pcitsm_tdisp_seq_wipe(&seq);
		return 0;
	}
	/* One response. */
	pcitsm_tdisp_req_init(&rq, 0x100);
	m.code = (uint8_t)(PCITSM_TDISP_GET_TDISP_VERSION + sel % 7);
	m.u.get_report.length = 0x40;
	pcitsm_wr_init(&w, req, sizeof(req));
	if (pcitsm_tdisp_req_build(&rq, &m, &w))
		abort();
	e = pcitsm_tdisp_req_response(&rq, data, size, &out);
	if (rq.pending || (e && e != PCITSM_E_PEER_ERROR && rq.err != e))
		abort();
	if (!e && out.code != PCITSM_TDISP_RSP_OF(m.code))
		abort();
	if (!e && out.code == PCITSM_TDISP_DEVICE_INTERFACE_REPORT && out.u.report.portion > 0x40)
		abort();
	pcitsm_wipe(&out, sizeof(out));
	/* The same bytes as a report. */
	if (pcitsm_tdisp_report_decode(data, size, &rep) == PCITSM_OK &&
	    size != 20 + 16 * (size_t)rep.nr_ranges + rep.dev_info_len)
		abort();
	e = pcitsm_tdisp_report_check(data, size, &view, (int64_t)(sel & 0x3f) << 28, &res);
	if (e == PCITSM_E_FIELD && res.rule == PCITSM_TDISP_RULE_OK)
		abort();
	if (!e && res.rule != PCITSM_TDISP_RULE_OK)
		abort();
	(void)pcitsm_tdisp_rule_name(res.rule);
	return 0;
}
