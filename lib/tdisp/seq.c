/* SPDX-License-Identifier: MIT */
/*
 * The TDISP sequence of a TSM (PCIe 6.x §11; docs/tdisp.md "The sequence"), over a caller's
 * exchange callback so the firmware TSM and a command-line tool run the same steps:
 *
 *   1. GET_TDISP_VERSION: 1.0 offered;
 *   2. GET_TDISP_CAPABILITIES: the seven required requests supported (either bit encoding), the
 *      lock flags asked for supported;
 *   3. GET_DEVICE_INTERFACE_STATE: CONFIG_UNLOCKED;
 *   4. LOCK_INTERFACE_REQUEST: the START nonce kept in the caller's struct;
 *   5. GET_DEVICE_INTERFACE_STATE: CONFIG_LOCKED;
 *   6. GET_DEVICE_INTERFACE_REPORT in portions: offset + portion + remainder constant;
 *   7. the report checked against the guest's view of the function, and digested;
 *   8. the caller's policy;
 *   9. START_INTERFACE_REQUEST with the nonce (wiped then), GET_DEVICE_INTERFACE_STATE: RUN.
 */
#include <stdio.h>
#include <string.h>

#include "pcitsm/tdisp.h"

#define SEQ_PORTION_DEFAULT 1024
#define SEQ_REQUIRED 0x00feu /* bits 1..7: 0x81 - 0x87 */

const char *pcitsm_tdisp_step_name(enum pcitsm_tdisp_step s)
{
	switch (s) {
#define PCITSM_TDISP_STEP_NAME(n, str) \
	case PCITSM_TDISP_STEP_##n: return str;
	PCITSM_TDISP_STEPS(PCITSM_TDISP_STEP_NAME)
#undef PCITSM_TDISP_STEP_NAME
	}
	return "unknown";
}

PCITSM_PRINTF(4, 5)
static pcitsm_err seq_fail(struct pcitsm_tdisp_seq *s, enum pcitsm_tdisp_step step, pcitsm_err e,
			   const char *fmt, ...)
{
	va_list ap;

	s->step = step;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is the line above */
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return e;
}

/* One request and its checked answer. out's pointers point into rsp. */
static pcitsm_err seq_call(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
			   void *arg, enum pcitsm_tdisp_step step, const struct pcitsm_tdisp_msg *m,
			   uint8_t *rsp, size_t cap, struct pcitsm_tdisp_msg *out)
{
	uint8_t req[PCITSM_TDISP_HDR_LEN + 64];
	struct pcitsm_wr w, rw;
	pcitsm_err e;

	pcitsm_wr_init(&w, req, sizeof(req));
	e = pcitsm_tdisp_req_build(&s->rq, m, &w);
	if (e)
		return seq_fail(s, step, e, "%s: %s", pcitsm_tdisp_code_name(m->code),
				pcitsm_err_str(e));
	pcitsm_wr_init(&rw, rsp, cap);
	e = ops->exchange(arg, req, pcitsm_wr_len(&w), &rw);
	pcitsm_wipe(req, sizeof(req)); /* a START carried the nonce */
	if (e) {
		pcitsm_tdisp_req_abandon(&s->rq);
		return seq_fail(s, step, e, "%s: transport: %s", pcitsm_tdisp_code_name(m->code),
				pcitsm_err_str(e));
	}
	e = pcitsm_tdisp_req_response(&s->rq, rsp, pcitsm_wr_len(&rw), out);
	if (e == PCITSM_E_PEER_ERROR) {
		s->tdisp_error = s->rq.peer_error;
		return seq_fail(s, step, e, "%s: TDISP_ERROR %s (0x%x)",
				pcitsm_tdisp_code_name(m->code),
				pcitsm_tdisp_error_name(s->rq.peer_error), s->rq.peer_error);
	}
	if (e)
		return seq_fail(s, step, e, "%s: bad response: %s", pcitsm_tdisp_code_name(m->code),
				pcitsm_err_str(e));
	return PCITSM_OK;
}

static pcitsm_err seq_state(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
			    void *arg, enum pcitsm_tdisp_step step, int want)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE }, out;
	uint8_t rsp[PCITSM_TDISP_HDR_LEN + 64];

	PCITSM_TRY(seq_call(s, ops, arg, step, &m, rsp, sizeof(rsp), &out));
	/* seq_call filled out: it returned OK (the analyzer does not follow variadic seq_fail) */
	s->state = out.u.state; /* NOLINT(clang-analyzer-core.uninitialized.Assign) */
	if (want >= 0 && out.u.state != want)
		return seq_fail(s, step, PCITSM_E_MISMATCH, "TDI is %s, expected %s",
				pcitsm_tdisp_state_name(out.u.state),
				pcitsm_tdisp_state_name((uint8_t)want));
	return PCITSM_OK;
}

static pcitsm_err seq_hello(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
			    void *arg, const struct pcitsm_tdisp_seq_opts *o)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_TDISP_VERSION }, out;
	uint8_t rsp[PCITSM_TDISP_HDR_LEN + 64];

	PCITSM_TRY(seq_call(s, ops, arg, PCITSM_TDISP_STEP_VERSION, &m, rsp, sizeof(rsp), &out));
	m = (struct pcitsm_tdisp_msg){ .code = PCITSM_TDISP_GET_TDISP_CAPABILITIES };
	PCITSM_TRY(seq_call(s, ops, arg, PCITSM_TDISP_STEP_CAPABILITIES, &m, rsp, sizeof(rsp),
			    &out));
	s->caps = out.u.caps;
	s->supported = pcitsm_tdisp_caps_supported(&s->caps, &s->rq.deviations);
	if ((s->supported & SEQ_REQUIRED) != SEQ_REQUIRED)
		return seq_fail(s, PCITSM_TDISP_STEP_CAPABILITIES, PCITSM_E_UNSUPPORTED,
				"a required request is not supported (REQ_MSGS_SUPPORTED 0x%04x)",
				s->supported);
	if (o->lock.flags & ~s->caps.lock_flags)
		return seq_fail(s, PCITSM_TDISP_STEP_CAPABILITIES, PCITSM_E_UNSUPPORTED,
				"lock flags 0x%x asked, 0x%x supported", o->lock.flags,
				s->caps.lock_flags);
	return PCITSM_OK;
}

/* Step 6: the report in portions. */
static pcitsm_err seq_report(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
			     void *arg, uint16_t portion)
{
	static const enum pcitsm_tdisp_step st = PCITSM_TDISP_STEP_REPORT;
	uint8_t rsp[PCITSM_TDISP_MSG_MAX];
	size_t off = 0, total = 0;

	s->report_len = 0;
	for (;;) {
		struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT }, out;
		size_t this_total;

		if (off > UINT16_MAX)
			return seq_fail(s, st, PCITSM_E_RANGE, "report longer than OFFSET can reach");
		m.u.get_report.offset = (uint16_t)off;
		m.u.get_report.length = (uint16_t)(total ? PCITSM_MIN((size_t)portion, total - off) :
							   portion);
		PCITSM_TRY(seq_call(s, ops, arg, st, &m, rsp, sizeof(rsp), &out));
		/* OFFSET + PORTION_LENGTH + REMAINDER_LENGTH is the report's length: the same in
		 * every portion. out is filled, as in seq_state. */
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		this_total = off + out.u.report.portion + out.u.report.remainder;
		if (total && this_total != total)
			return seq_fail(s, st, PCITSM_E_MISMATCH,
					"report length changed from %zu to %zu at offset %zu", total,
					this_total, off);
		total = this_total;
		if (total > sizeof(s->report))
			return seq_fail(s, st, PCITSM_E_RANGE, "report of %zu bytes, at most %zu",
					total, sizeof(s->report));
		memcpy(s->report + off, out.u.report.bytes, out.u.report.portion);
		off += out.u.report.portion;
		if (!out.u.report.remainder)
			break;
	}
	s->report_len = off;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tdisp_seq_lock(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
				 void *arg, const struct pcitsm_tdisp_seq_opts *o)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_LOCK_INTERFACE_REQUEST }, out;
	uint8_t rsp[PCITSM_TDISP_HDR_LEN + 64];
	pcitsm_err e;

	if (!s || !ops || !ops->exchange || !o)
		return PCITSM_E_INVAL;
	pcitsm_tdisp_seq_init(s, o->function_id);
	/* 1-3 */
	PCITSM_TRY(seq_hello(s, ops, arg, o));
	PCITSM_TRY(seq_state(s, ops, arg, PCITSM_TDISP_STEP_STATE, o->stop_stale ? -1 :
				     PCITSM_TDISP_CONFIG_UNLOCKED));
	if (o->stop_stale && s->state != PCITSM_TDISP_CONFIG_UNLOCKED) {
		/* Left by a lock the caller does not hold (its answer lost, its session ended):
		 * without a STOP the TDI would stay unusable for good. */
		PCITSM_TRY(pcitsm_tdisp_seq_stop(s, ops, arg));
		PCITSM_TRY(seq_state(s, ops, arg, PCITSM_TDISP_STEP_STATE,
				     PCITSM_TDISP_CONFIG_UNLOCKED));
	}
	/* 4 */
	m.u.lock = o->lock;
	PCITSM_TRY(seq_call(s, ops, arg, PCITSM_TDISP_STEP_LOCK, &m, rsp, sizeof(rsp), &out));
	memcpy(s->nonce, out.u.nonce, sizeof(s->nonce));
	pcitsm_wipe(&out, sizeof(out));
	pcitsm_wipe(rsp, sizeof(rsp));
	s->locked = true;
	/* 5, 6 */
	PCITSM_TRY(seq_state(s, ops, arg, PCITSM_TDISP_STEP_LOCK, PCITSM_TDISP_CONFIG_LOCKED));
	PCITSM_TRY(seq_report(s, ops, arg, o->portion ? o->portion : SEQ_PORTION_DEFAULT));
	/* 7 */
	e = pcitsm_tdisp_report_decode(s->report, s->report_len, &s->rep);
	if (e) {
		s->check.rule = PCITSM_TDISP_RULE_SIZE;
		return seq_fail(s, PCITSM_TDISP_STEP_CHECK, PCITSM_E_FIELD, "report: %s",
				pcitsm_err_str(e));
	}
	if (o->view) {
		e = pcitsm_tdisp_report_check(s->report, s->report_len, o->view, o->lock.mmio_offset,
					      &s->check);
		if (e)
			return seq_fail(s, PCITSM_TDISP_STEP_CHECK, e, "report range %u: %s (%s)",
					s->check.range, pcitsm_tdisp_rule_str(s->check.rule),
					pcitsm_tdisp_rule_name(s->check.rule));
	}
	e = pcitsm_tdisp_report_digest(s->report, s->report_len, s->digest);
	if (e)
		return seq_fail(s, PCITSM_TDISP_STEP_CHECK, e, "report digest: %s",
				pcitsm_err_str(e));
	return PCITSM_OK;
}

pcitsm_err pcitsm_tdisp_seq_reread(struct pcitsm_tdisp_seq *s,
				   const struct pcitsm_tdisp_seq_ops *ops, void *arg, uint16_t portion)
{
	pcitsm_err e;

	if (!s || !ops || !ops->exchange)
		return PCITSM_E_INVAL;
	if (s->rq.err || s->rq.pending)
		return seq_fail(s, PCITSM_TDISP_STEP_STATE, PCITSM_E_STATE, "requester failed");
	PCITSM_TRY(seq_state(s, ops, arg, PCITSM_TDISP_STEP_STATE, -1));
	if (s->state != PCITSM_TDISP_CONFIG_LOCKED && s->state != PCITSM_TDISP_RUN)
		return seq_fail(s, PCITSM_TDISP_STEP_STATE, PCITSM_E_MISMATCH,
				"TDI is %s, not locked", pcitsm_tdisp_state_name(s->state));
	PCITSM_TRY(seq_report(s, ops, arg, portion ? portion : SEQ_PORTION_DEFAULT));
	e = pcitsm_tdisp_report_decode(s->report, s->report_len, &s->rep);
	if (e) {
		s->check.rule = PCITSM_TDISP_RULE_SIZE;
		return seq_fail(s, PCITSM_TDISP_STEP_CHECK, PCITSM_E_FIELD, "report: %s",
				pcitsm_err_str(e));
	}
	e = pcitsm_tdisp_report_digest(s->report, s->report_len, s->digest);
	if (e)
		return seq_fail(s, PCITSM_TDISP_STEP_CHECK, e, "report digest: %s",
				pcitsm_err_str(e));
	return PCITSM_OK;
}

pcitsm_err pcitsm_tdisp_seq_state(struct pcitsm_tdisp_seq *s,
				  const struct pcitsm_tdisp_seq_ops *ops, void *arg)
{
	if (!s || !ops || !ops->exchange)
		return PCITSM_E_INVAL;
	if (s->rq.err || s->rq.pending)
		return seq_fail(s, PCITSM_TDISP_STEP_STATE, PCITSM_E_STATE, "requester failed");
	return seq_state(s, ops, arg, PCITSM_TDISP_STEP_STATE, -1);
}

pcitsm_err pcitsm_tdisp_seq_start(struct pcitsm_tdisp_seq *s,
				  const struct pcitsm_tdisp_seq_ops *ops, void *arg)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_START_INTERFACE_REQUEST }, out;
	uint8_t rsp[PCITSM_TDISP_HDR_LEN + 64];
	pcitsm_err e;

	if (!s || !ops || !ops->exchange)
		return PCITSM_E_INVAL;
	if (!s->locked)
		return seq_fail(s, PCITSM_TDISP_STEP_START, PCITSM_E_STATE, "not locked");
	/* 9: the nonce goes with this one request, whatever the answer. */
	memcpy(m.u.nonce, s->nonce, sizeof(s->nonce));
	pcitsm_wipe(s->nonce, PCITSM_TDISP_NONCE_LEN); /* sent once */
	s->locked = false;
	e = seq_call(s, ops, arg, PCITSM_TDISP_STEP_START, &m, rsp, sizeof(rsp), &out);
	pcitsm_wipe(&m, sizeof(m));
	PCITSM_TRY(e);
	return seq_state(s, ops, arg, PCITSM_TDISP_STEP_START, PCITSM_TDISP_RUN);
}

pcitsm_err pcitsm_tdisp_seq_stop(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
				 void *arg)
{
	struct pcitsm_tdisp_msg m = { .code = PCITSM_TDISP_STOP_INTERFACE_REQUEST }, out;
	uint8_t rsp[PCITSM_TDISP_HDR_LEN + 64];
	uint32_t dev;
	pcitsm_err e;

	if (!s || !ops || !ops->exchange)
		return PCITSM_E_INVAL;
	pcitsm_wipe(s->nonce, sizeof(s->nonce));
	s->locked = false;
	if (s->rq.err || s->rq.pending) { /* a failed exchange left it unusable: start afresh */
		dev = s->rq.deviations;
		pcitsm_tdisp_req_init(&s->rq, s->rq.function_id);
		s->rq.deviations = dev;
	}
	e = seq_call(s, ops, arg, PCITSM_TDISP_STEP_STOP, &m, rsp, sizeof(rsp), &out);
	if (e != PCITSM_E_PEER_ERROR || s->tdisp_error != PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE)
		return e;
	/* Some devices refuse STOP in CONFIG_UNLOCKED: fine if that is where the TDI is. */
	PCITSM_TRY(seq_state(s, ops, arg, PCITSM_TDISP_STEP_STOP, PCITSM_TDISP_CONFIG_UNLOCKED));
	s->rq.deviations |= PCITSM_TDISP_DEV_STOP_UNLOCKED_REFUSED;
	s->tdisp_error = 0;
	s->why[0] = 0;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tdisp_seq_run(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
				void *arg, const struct pcitsm_tdisp_seq_opts *o)
{
	struct pcitsm_tdisp_check_result check;
	enum pcitsm_tdisp_step step;
	uint32_t tdisp_error;
	char why[sizeof(s->why)];
	bool locked;
	pcitsm_err e;

	if (!s || !ops || !o)
		return PCITSM_E_INVAL;
	e = pcitsm_tdisp_seq_lock(s, ops, arg, o);
	locked = s->locked; /* LOCK succeeded, whatever failed after it */
	if (!e && ops->policy) {
		e = ops->policy(arg, s);
		if (e) {
			s->step = PCITSM_TDISP_STEP_POLICY;
			if (!s->why[0])
				snprintf(s->why, sizeof(s->why), "policy refused the report: %s",
					 pcitsm_err_str(e));
		}
	}
	if (!e)
		e = pcitsm_tdisp_seq_start(s, ops, arg);
	if (!e)
		return PCITSM_OK;
	/* Unwind: a TDI the sequence locked does not stay locked (best effort), and the result
	 * still names the step that failed. */
	if (locked) {
		step = s->step;
		tdisp_error = s->tdisp_error;
		check = s->check;
		memcpy(why, s->why, sizeof(why));
		if (pcitsm_tdisp_seq_stop(s, ops, arg) != PCITSM_OK)
			pcitsm_wipe(s->nonce, sizeof(s->nonce));
		s->step = step;
		s->tdisp_error = tdisp_error;
		s->check = check;
		memcpy(s->why, why, sizeof(why));
	}
	pcitsm_wipe(s->nonce, sizeof(s->nonce));
	s->locked = false;
	return e;
}

void pcitsm_tdisp_seq_init(struct pcitsm_tdisp_seq *s, uint32_t function_id)
{
	pcitsm_tdisp_seq_wipe(s);
	pcitsm_tdisp_req_init(&s->rq, function_id);
}

void pcitsm_tdisp_seq_wipe(struct pcitsm_tdisp_seq *s)
{
	if (s)
		pcitsm_wipe(s, sizeof(*s));
}
