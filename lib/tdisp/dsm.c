/* SPDX-License-Identifier: MIT */
/*
 * The device's TDISP responder (DSM), strict (PCIe 6.x §11; docs/tdisp.md "The DSM"): one const
 * table of requests (code, exact size, the TDI states each is legal in, handler), one admit check,
 * one step. Every refusal is a TDISP_ERROR and leaves the TDI's state as it was. The DSM on PF0
 * serves several TDIs (PF0 and its VFs), each with its own interface ID, state, nonce and report.
 *
 * Admit order: header (INVALID_REQUEST), version (VERSION_MISMATCH), code (UNSUPPORTED_REQUEST:
 * the optional 0x88-0x8B and anything unknown), exact size (INVALID_REQUEST), interface
 * (INVALID_INTERFACE), state (INVALID_INTERFACE_STATE); then the handler's own checks.
 */
#include <string.h>

#include "pcitsm/idekm.h"
#include "pcitsm/tdisp.h"

#define ST(s) (1u << PCITSM_TDISP_##s)
#define ST_ANY (ST(CONFIG_UNLOCKED) | ST(CONFIG_LOCKED) | ST(RUN) | ST(ERROR))
#define ST_LOCKED (ST(CONFIG_LOCKED) | ST(RUN))

#define DSM_ADDR_WIDTH_MIN 52 /* what a TSM requires to place DMA anywhere (docs/tdisp.md) */

const char *pcitsm_tdisp_cause_name(enum pcitsm_tdisp_cause c)
{
	switch (c) {
#define PCITSM_TDISP_CAUSE_NAME(name, str) \
	case PCITSM_TDISP_CAUSE_##name: return #name;
	PCITSM_TDISP_CAUSES(PCITSM_TDISP_CAUSE_NAME)
#undef PCITSM_TDISP_CAUSE_NAME
	}
	return "UNKNOWN";
}

void pcitsm_tdisp_dsm_opts_default(struct pcitsm_tdisp_dsm_opts *o)
{
	*o = (struct pcitsm_tdisp_dsm_opts){
		.lock_flags = PCITSM_TDISP_LOCK_NO_FW_UPDATE | PCITSM_TDISP_LOCK_CACHE_LINE_128 |
			      PCITSM_TDISP_LOCK_MSIX,
		.dev_addr_width = DSM_ADDR_WIDTH_MIN,
		.portion_max = 1024,
	};
}

pcitsm_err pcitsm_tdisp_dsm_init(struct pcitsm_tdisp_dsm *d, const struct pcitsm_env *env,
				 const struct pcitsm_idekm_rsp *km,
				 const struct pcitsm_tdisp_dsm_opts *o)
{
	struct pcitsm_tdisp_dsm_opts dflt;

	if (!d)
		return PCITSM_E_INVAL;
	memset(d, 0, sizeof(*d));
	if (!o) {
		pcitsm_tdisp_dsm_opts_default(&dflt);
		o = &dflt;
	}
	/* P2P binding is not offered (BIND_P2P_STREAM_REQUEST is unsupported). */
	if (!env || !km || o->lock_flags & ~PCITSM_TDISP_LOCK_FLAGS_DEFINED ||
	    o->lock_flags & PCITSM_TDISP_LOCK_BIND_P2P || o->dev_addr_width < DSM_ADDR_WIDTH_MIN ||
	    o->dev_addr_width > 64 || !o->portion_max)
		return PCITSM_E_INVAL;
	d->env = env;
	d->km = km;
	d->opts = *o;
	return PCITSM_OK;
}

struct pcitsm_tdisp_tdi *pcitsm_tdisp_dsm_find(struct pcitsm_tdisp_dsm *d, uint32_t function_id)
{
	for (unsigned i = 0; d && i < d->nr_tdis; i++)
		if (d->tdi[i].function_id == function_id)
			return &d->tdi[i];
	return NULL;
}

pcitsm_err pcitsm_tdisp_dsm_add_tdi(struct pcitsm_tdisp_dsm *d, uint32_t function_id,
				    uint32_t pf_function_id, const struct pcitsm_tdisp_ifdesc *desc)
{
	uint8_t scratch[PCITSM_TDISP_DSM_REPORT_MAX];
	struct pcitsm_tdisp_tdi *t;
	struct pcitsm_wr w;

	if (!d || !desc || (function_id | pf_function_id) & PCITSM_TDISP_FUNCTION_ID_RSVD)
		return PCITSM_E_INVAL;
	if (pcitsm_tdisp_dsm_find(d, function_id))
		return PCITSM_E_EXISTS;
	if (d->nr_tdis >= PCITSM_TDISP_MAX_TDIS)
		return PCITSM_E_EXHAUSTED;
	/* The description must give a report with every lock flag. */
	pcitsm_wr_init(&w, scratch, sizeof(scratch));
	if (pcitsm_tdisp_report_build(desc, PCITSM_TDISP_LOCK_FLAGS_DEFINED, 0, &w) != PCITSM_OK)
		return PCITSM_E_INVAL;
	t = &d->tdi[d->nr_tdis++];
	memset(t, 0, sizeof(*t));
	t->function_id = function_id;
	t->pf_function_id = pf_function_id;
	t->desc = *desc;
	t->state = PCITSM_TDISP_CONFIG_UNLOCKED;
	return PCITSM_OK;
}

/* Leave the locked states: the nonce, the report and the lock go (PCIe 6.x §11: the DSM scrubs
 * before CONFIG_UNLOCKED; a nonce is destroyed when the TDI leaves CONFIG_LOCKED). */
static void tdi_scrub(struct pcitsm_tdisp_tdi *t)
{
	pcitsm_wipe(t->nonce, sizeof(t->nonce));
	t->nonce_valid = false;
	pcitsm_wipe(t->report, sizeof(t->report));
	t->report_len = 0;
	memset(&t->lock, 0, sizeof(t->lock));
	t->session_id = 0;
}

void pcitsm_tdisp_dsm_free(struct pcitsm_tdisp_dsm *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->nr_tdis; i++)
		tdi_scrub(&d->tdi[i]);
	pcitsm_wipe(d, sizeof(*d));
}

/* ---------------------------------------------------------------------------------------------
 * Events (PCIe 6.x §11, TDI state transitions): CONFIG_LOCKED / RUN -> ERROR.
 */
static void tdi_fail(struct pcitsm_tdisp_dsm *d, struct pcitsm_tdisp_tdi *t,
		     enum pcitsm_tdisp_cause cause)
{
	if (t->state != PCITSM_TDISP_CONFIG_LOCKED && t->state != PCITSM_TDISP_RUN)
		return;
	pcitsm_wipe(t->nonce, PCITSM_TDISP_NONCE_LEN); /* destroyed on leaving CONFIG_LOCKED */
	t->nonce_valid = false;
	t->state = PCITSM_TDISP_ERROR;
	t->cause = cause;
	pcitsm_info(d->env, "tdisp: TDI 0x%06x -> ERROR (%s)", t->function_id,
		    pcitsm_tdisp_cause_name(cause));
}

void pcitsm_tdisp_dsm_session_ended(struct pcitsm_tdisp_dsm *d, uint32_t session_id)
{
	for (unsigned i = 0; d && i < d->nr_tdis; i++)
		if (d->tdi[i].session_id == session_id)
			tdi_fail(d, &d->tdi[i], PCITSM_TDISP_CAUSE_SESSION_ENDED);
}

void pcitsm_tdisp_dsm_flr(struct pcitsm_tdisp_dsm *d, uint32_t function_id)
{
	/* An FLR of a PF hits every VF TDI of it too. */
	for (unsigned i = 0; d && i < d->nr_tdis; i++)
		if (d->tdi[i].function_id == function_id || d->tdi[i].pf_function_id == function_id)
			tdi_fail(d, &d->tdi[i], PCITSM_TDISP_CAUSE_FLR);
}

void pcitsm_tdisp_dsm_config_written(struct pcitsm_tdisp_dsm *d, uint32_t function_id)
{
	struct pcitsm_tdisp_tdi *t = pcitsm_tdisp_dsm_find(d, function_id);

	if (t)
		tdi_fail(d, t, PCITSM_TDISP_CAUSE_CONFIG_WRITE);
}

void pcitsm_tdisp_dsm_stream_insecure(struct pcitsm_tdisp_dsm *d, uint8_t stream_id)
{
	for (unsigned i = 0; d && i < d->nr_tdis; i++)
		if (d->tdi[i].lock.stream_id == stream_id)
			tdi_fail(d, &d->tdi[i], PCITSM_TDISP_CAUSE_STREAM_INSECURE);
}

/* ---------------------------------------------------------------------------------------------
 * Handlers. Each fills the response message or refuses with an ERROR_CODE (E_PEER_ERROR).
 */
struct dsm_ctx {
	struct pcitsm_tdisp_dsm *d;
	struct pcitsm_tdisp_tdi *t;
	uint32_t session_id;
	const struct pcitsm_tdisp_msg *req;
	struct pcitsm_tdisp_msg *rsp;
	uint32_t err;
};

static pcitsm_err refuse(struct dsm_ctx *c, uint32_t code)
{
	c->err = code;
	return PCITSM_E_PEER_ERROR;
}

static pcitsm_err dsm_get_version(struct dsm_ctx *c)
{
	c->rsp->u.version.count = 1;
	c->rsp->u.version.v[0] = PCITSM_TDISP_VERSION_10;
	return PCITSM_OK;
}

static pcitsm_err dsm_get_capabilities(struct dsm_ctx *c)
{
	struct pcitsm_tdisp_caps *caps = &c->rsp->u.caps;

	if (c->req->u.tsm_caps) /* reserved in TDISP 1.0 */
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST);
	caps->dsm_caps = 0;
	/* Bit (code - 0x80): the seven required requests, 0x81-0x87. */
	caps->req_msgs[0] = 0xfe;
	caps->lock_flags = c->d->opts.lock_flags;
	caps->dev_addr_width = c->d->opts.dev_addr_width;
	caps->num_req_this = 1;
	caps->num_req_all = 1;
	return PCITSM_OK;
}

/* PCIe 6.4 §11.3.8: IDE is required, so LOCK needs every key of the default stream programmed
 * and started over this SPDM session; the default stream must be the function's Default Stream
 * on TC0. The IDE_KM responder says what this session did (not the caller). */
static bool keys_ready(const struct dsm_ctx *c, uint8_t stream_id)
{
	struct pcitsm_idekm_key_state ks;

	if (pcitsm_idekm_rsp_key_state(c->d->km, c->session_id, stream_id, &ks) != PCITSM_OK)
		return false;
	if (!ks.default_stream || ks.tc != 0)
		return false;
	for (unsigned k = 0; k < 2; k++)
		if (ks.programmed[k] == PCITSM_IDEKM_SLOTS_ALL && ks.started[k] == PCITSM_IDEKM_SLOTS_ALL)
			return true;
	return false;
}

static pcitsm_err dsm_lock(struct dsm_ctx *c)
{
	const struct pcitsm_tdisp_lock_params *lp = &c->req->u.lock;
	struct pcitsm_tdisp_tdi *t = c->t;
	uint8_t report[PCITSM_TDISP_DSM_REPORT_MAX], nonce[PCITSM_TDISP_NONCE_LEN];
	struct pcitsm_wr w;
	pcitsm_err e;

	/* Flags this DSM does not support. */
	if (lp->flags & ~c->d->opts.lock_flags)
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST);
	if (!keys_ready(c, lp->stream_id))
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST);
	/* The report as locked: an offset that is not page aligned or wraps is the TSM's error. */
	pcitsm_wr_init(&w, report, sizeof(report));
	e = pcitsm_tdisp_report_build(&t->desc, lp->flags, lp->mmio_offset, &w);
	if (e)
		return refuse(c, e == PCITSM_E_RANGE ? PCITSM_TDISP_ERR_INVALID_REQUEST :
						       PCITSM_TDISP_ERR_INVALID_DEVICE_CONFIGURATION);
	if (pcitsm_random(c->d->env, nonce, sizeof(nonce)) != PCITSM_OK) {
		pcitsm_wipe(nonce, sizeof(nonce));
		return refuse(c, PCITSM_TDISP_ERR_INSUFFICIENT_ENTROPY);
	}
	/* Commit. */
	memcpy(t->report, report, pcitsm_wr_len(&w));
	t->report_len = (uint16_t)pcitsm_wr_len(&w);
	t->lock = *lp;
	t->session_id = c->session_id;
	memcpy(t->nonce, nonce, sizeof(nonce));
	t->nonce_valid = true;
	t->generation++;
	t->state = PCITSM_TDISP_CONFIG_LOCKED;
	t->cause = PCITSM_TDISP_CAUSE_NONE;
	memcpy(c->rsp->u.nonce, nonce, sizeof(nonce));
	pcitsm_wipe(nonce, sizeof(nonce));
	return PCITSM_OK;
}

static pcitsm_err dsm_get_report(struct dsm_ctx *c)
{
	struct pcitsm_tdisp_tdi *t = c->t;
	uint16_t off = c->req->u.get_report.offset, len = c->req->u.get_report.length;
	uint16_t portion;

	/* An OFFSET past the report (0xFFFF included) or an empty LENGTH asks for nothing. */
	if (off >= t->report_len || !len)
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST);
	portion = PCITSM_MIN(len, (uint16_t)(t->report_len - off));
	portion = PCITSM_MIN(portion, c->d->opts.portion_max);
	c->rsp->u.report.portion = portion;
	c->rsp->u.report.remainder = (uint16_t)(t->report_len - off - portion);
	c->rsp->u.report.bytes = t->report + off;
	return PCITSM_OK;
}

static pcitsm_err dsm_get_state(struct dsm_ctx *c)
{
	c->rsp->u.state = (uint8_t)c->t->state;
	return PCITSM_OK;
}

static pcitsm_err dsm_start(struct dsm_ctx *c)
{
	struct pcitsm_tdisp_tdi *t = c->t;

	/* Constant time; the nonce is consumed by the START it admits (PCIe 6.x §11). */
	if (!t->nonce_valid ||
	    pcitsm_ct_memneq(c->req->u.nonce, t->nonce, PCITSM_TDISP_NONCE_LEN))
		return refuse(c, PCITSM_TDISP_ERR_INVALID_NONCE);
	pcitsm_wipe(t->nonce, PCITSM_TDISP_NONCE_LEN); /* consumed */
	t->nonce_valid = false;
	t->state = PCITSM_TDISP_RUN;
	return PCITSM_OK;
}

static pcitsm_err dsm_stop(struct dsm_ctx *c)
{
	/* Legal in every state, CONFIG_UNLOCKED included (it is already there: success). */
	tdi_scrub(c->t);
	c->t->state = PCITSM_TDISP_CONFIG_UNLOCKED;
	return PCITSM_OK;
}

typedef pcitsm_err (*dsm_fn)(struct dsm_ctx *c);
static const struct dsm_handler {
	uint8_t code;
	uint8_t len;    /* exact request size from the Protocol ID byte */
	uint8_t states; /* bit per TDI state the request is legal in */
	dsm_fn fn;
} dsm_handlers[] = {
	{ PCITSM_TDISP_GET_TDISP_VERSION, PCITSM_TDISP_HDR_LEN, ST_ANY, dsm_get_version },
	{ PCITSM_TDISP_GET_TDISP_CAPABILITIES, PCITSM_TDISP_HDR_LEN + 4, ST_ANY,
	  dsm_get_capabilities },
	{ PCITSM_TDISP_LOCK_INTERFACE_REQUEST, PCITSM_TDISP_HDR_LEN + 20, ST(CONFIG_UNLOCKED),
	  dsm_lock },
	{ PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT, PCITSM_TDISP_HDR_LEN + 4, ST_LOCKED,
	  dsm_get_report },
	{ PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE, PCITSM_TDISP_HDR_LEN, ST_ANY, dsm_get_state },
	{ PCITSM_TDISP_START_INTERFACE_REQUEST, PCITSM_TDISP_HDR_LEN + PCITSM_TDISP_NONCE_LEN,
	  ST(CONFIG_LOCKED), dsm_start },
	{ PCITSM_TDISP_STOP_INTERFACE_REQUEST, PCITSM_TDISP_HDR_LEN, ST_ANY, dsm_stop },
};

static const struct dsm_handler *find_handler(uint8_t code)
{
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(dsm_handlers); i++)
		if (dsm_handlers[i].code == code)
			return &dsm_handlers[i];
	return NULL;
}

/* The checks every request goes through, in the order of the file comment. */
static pcitsm_err dsm_admit(struct dsm_ctx *c, const uint8_t *req, size_t len,
			    const struct dsm_handler **hd)
{
	uint8_t version = 0, code = 0;
	uint32_t fid = 0;
	pcitsm_err e = pcitsm_tdisp_peek(req, len, &version, &code, &fid);

	c->rsp->function_id = fid & ~PCITSM_TDISP_FUNCTION_ID_RSVD;
	if (e)
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST);
	if (version != PCITSM_TDISP_VERSION_10)
		return refuse(c, PCITSM_TDISP_ERR_VERSION_MISMATCH);
	*hd = find_handler(code);
	if (!*hd) {
		c->rsp->u.error.data = code; /* ERROR_DATA: the request code */
		return refuse(c, PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST);
	}
	if (len != (*hd)->len)
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST);
	c->t = pcitsm_tdisp_dsm_find(c->d, fid);
	if (!c->t)
		return refuse(c, PCITSM_TDISP_ERR_INVALID_INTERFACE);
	if (!((*hd)->states & 1u << c->t->state))
		return refuse(c, PCITSM_TDISP_ERR_INVALID_INTERFACE_STATE);
	return PCITSM_OK;
}

static pcitsm_err dsm_step(struct dsm_ctx *c, const uint8_t *req, size_t len)
{
	const struct dsm_handler *hd = NULL;
	struct pcitsm_tdisp_msg m;
	pcitsm_err e;

	PCITSM_TRY(dsm_admit(c, req, len, &hd));
	if (pcitsm_tdisp_decode(req, len, &m) != PCITSM_OK)
		return refuse(c, PCITSM_TDISP_ERR_INVALID_REQUEST); /* reserved bits */
	c->req = &m;
	c->rsp->code = PCITSM_TDISP_RSP_OF(hd->code);
	e = hd->fn(c);
	c->req = NULL; /* m goes out of scope */
	pcitsm_wipe(&m, sizeof(m)); /* a START carried the nonce */
	return e;
}

pcitsm_err pcitsm_tdisp_dsm_handle(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
				   struct pcitsm_wr *rsp)
{
	struct pcitsm_tdisp_dsm *d = ctx;
	struct pcitsm_tdisp_msg out;
	struct dsm_ctx c = { .d = d, .session_id = session_id, .rsp = &out };
	pcitsm_err e;

	if (!d || !rsp || !req)
		return PCITSM_E_INVAL;
	if (pcitsm_wr_err(rsp))
		return pcitsm_wr_err(rsp);
	d->stats.requests++;
	if (!len || req[0] != PCITSM_TDISP_PROTOCOL_ID) {
		d->stats.dropped++;
		return PCITSM_E_NORESPONSE;
	}
	memset(&out, 0, sizeof(out));
	e = dsm_step(&c, req, len);
	if (e == PCITSM_E_PEER_ERROR) {
		uint32_t fid = out.function_id, data = out.u.error.data;

		pcitsm_wipe(&out, sizeof(out));
		out.code = PCITSM_TDISP_TDISP_ERROR;
		out.function_id = fid;
		out.u.error.code = c.err;
		out.u.error.data = c.err == PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST ? data : 0;
		d->stats.errors++;
		d->stats.last_error = c.err;
		pcitsm_debug(d->env, "tdisp: %s for 0x%06x -> %s",
			     len >= 3 ? pcitsm_tdisp_code_name(req[2]) : "short", fid,
			     pcitsm_tdisp_error_name(c.err));
	} else if (e) {
		pcitsm_wipe(&out, sizeof(out));
		return e;
	}
	e = pcitsm_tdisp_encode(rsp, &out);
	pcitsm_wipe(&out, sizeof(out)); /* a LOCK response carried the nonce */
	if (e)
		return e;
	d->stats.answered++;
	return PCITSM_OK;
}
