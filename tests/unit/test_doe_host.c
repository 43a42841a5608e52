/* SPDX-License-Identifier: MIT */
/*
 * doe: the host driver against the mailbox register model, end to end on an emulated config
 * space, with the deterministic clock (1 s timeouts cost nothing). Faults come from the model's
 * own injection flags, or from a pass-through accessor that alters what the host reads.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "pcitsm/doe.h"

#define MBOX 0x100

static pcitsm_err echo(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	if (req_len > rsp_cap)
		return PCITSM_E_NOSPC;
	for (size_t i = 0; i < req_len; i++)
		rsp[i] = req[req_len - 1 - i];
	*rsp_len = req_len;
	return PCITSM_OK;
}

struct rig {
	struct pcitsm_env_test t;
	struct pcitsm_cfg_emu emu;
	struct pcitsm_doe_dev dev;
	struct pcitsm_doe_mbox mbox;
	struct pcitsm_doe_handler cma, sec;
	struct pcitsm_doe_host host;
};

static struct rig *rig_new(uint8_t version, uint32_t max_dw)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	pcitsm_env_test_init(&r->t, 1);
	pcitsm_cfg_emu_init(&r->emu, PCITSM_CFG_SIZE_EXT);
	pcitsm_doe_dev_init(&r->dev, version);
	r->cma = (struct pcitsm_doe_handler){ .vid = 1, .type = PCITSM_DOE_TYPE_CMA,
					      .handle = echo };
	r->sec = (struct pcitsm_doe_handler){ .vid = 1, .type = PCITSM_DOE_TYPE_SECURED_CMA,
					      .handle = echo };
	assert_ok(pcitsm_doe_dev_register(&r->dev, &r->cma));
	assert_ok(pcitsm_doe_dev_register(&r->dev, &r->sec));
	assert_ok(pcitsm_doe_mbox_init(&r->mbox, &r->emu, MBOX, 0, version, &r->dev, max_dw));
	return r;
}

static void rig_free(struct rig *r)
{
	pcitsm_doe_mbox_free(&r->mbox);
	free(r);
}

static pcitsm_err xchg(struct rig *r, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
		       size_t *n)
{
	return pcitsm_xport_exchange(&r->host.x, 1, PCITSM_DOE_TYPE_CMA, req, len, rsp, cap, n);
}

static void discovery_and_echo(void **state)
{
	static const uint8_t req[] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t want[] = { 0, 0, 6, 5, 4, 3, 2, 1 };
	struct rig *r = rig_new(2, 64);
	uint8_t rsp[16];
	uint64_t t0;
	size_t n;

	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	assert_int_equal(r->host.cap_version, 2);
	assert_int_equal(r->host.nr_protos, 3);
	assert_true(pcitsm_doe_host_supports(&r->host, 1, PCITSM_DOE_TYPE_DISCOVERY));
	assert_true(pcitsm_doe_host_supports(&r->host, 1, PCITSM_DOE_TYPE_CMA));
	assert_true(pcitsm_doe_host_supports(&r->host, 1, PCITSM_DOE_TYPE_SECURED_CMA));
	assert_false(pcitsm_doe_host_supports(&r->host, 1, PCITSM_DOE_TYPE_ASYNC));

	/* A payload that is not a whole DW goes out zero-padded. */
	assert_ok(xchg(r, req, sizeof(req), rsp, sizeof(rsp), &n));
	assert_int_equal(n, 8);
	assert_memory_equal(rsp, want, 8);
	/* Secured CMA too, and an empty payload. */
	assert_ok(pcitsm_xport_exchange(&r->host.x, 1, PCITSM_DOE_TYPE_SECURED_CMA, req, 4, rsp,
					sizeof(rsp), &n));
	assert_int_equal(n, 4);
	assert_ok(xchg(r, NULL, 0, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 0);

	/* The device stays Busy for a few polls after Go: the host waits 1/128 s each. */
	r->mbox.busy_polls = 5;
	t0 = r->t.clock_ns;
	assert_ok(xchg(r, req, sizeof(req), rsp, sizeof(rsp), &n));
	assert_true(r->t.clock_ns - t0 == 5 * PCITSM_DOE_POLL_NS);
	rig_free(r);
}

static void busy_before_send(void **state)
{
	struct rig *r = rig_new(1, 64);
	uint8_t req[4] = { 0 }, rsp[8];
	size_t n;

	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	/* Someone else's transfer is in progress. */
	r->mbox.busy_left = 1000;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_BUSY);
	assert_int_equal(n, 0);
	/* Linux aborts after that; the mailbox works again. */
	assert_false(r->host.dead);
	assert_ok(xchg(r, req, 4, rsp, sizeof(rsp), &n));
	rig_free(r);
}

static void timeout(void **state)
{
	struct rig *r = rig_new(1, 64);
	uint8_t req[4] = { 0 }, rsp[8];
	uint64_t t0;
	size_t n;

	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	r->mbox.fault_no_response = true;
	t0 = r->t.clock_ns;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_TIMEOUT);
	/* 1 s of polling, then one poll of the abort; no more than that. */
	assert_true(r->t.clock_ns - t0 > PCITSM_DOE_TIMEOUT_NS);
	assert_true(r->t.clock_ns - t0 <= PCITSM_DOE_TIMEOUT_NS + 3 * PCITSM_DOE_POLL_NS);
	assert_false(r->host.dead);
	r->mbox.fault_no_response = false;
	assert_ok(xchg(r, req, 4, rsp, sizeof(rsp), &n));
	rig_free(r);
}

static void error_overflow(void **state)
{
	struct rig *r = rig_new(1, 8);
	uint8_t req[64] = { 0 }, rsp[64];
	size_t n;

	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	/* 2 + 16 DWs into an 8-DW mailbox: Error, then abort. */
	assert_err(xchg(r, req, sizeof(req), rsp, sizeof(rsp), &n), PCITSM_E_IO);
	assert_false(r->mbox.error);
	assert_ok(xchg(r, req, 24, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 24);
	/* Error left set before a send: E_IO and abort, as Linux does. */
	r->mbox.error = true;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_IO);
	assert_ok(xchg(r, req, 4, rsp, sizeof(rsp), &n));
	rig_free(r);
}

static void dead_mailbox(void **state)
{
	struct rig *r = rig_new(1, 64);
	uint8_t req[4] = { 0 }, rsp[8];
	size_t n;

	/* A wedged mailbox: the take-over abort never completes. */
	r->mbox.fault_no_abort = true;
	assert_err(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env), PCITSM_E_DEAD);
	assert_true(r->host.dead);
	/* Dead for good, even if the device recovers. */
	r->mbox.fault_no_abort = false;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_DEAD);
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_DEAD);

	/* Wedged after a good start: Busy for good, and the abort after E_BUSY kills it. */
	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	r->mbox.fault_no_abort = true;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_BUSY);
	assert_true(r->host.dead);
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_DEAD);
	rig_free(r);
}

static void wrong_type_and_truncation(void **state)
{
	struct rig *r = rig_new(1, 64);
	uint8_t req[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, rsp[16];
	size_t n;

	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	r->mbox.fault_wrong_type = true;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_FIELD);
	assert_false(r->mbox.ready); /* aborted */
	r->mbox.fault_wrong_type = false;

	/* Too small a buffer: what fits, E_TRUNCATED, the rest drained (not left behind). */
	assert_err(xchg(r, req, 12, rsp, 5, &n), PCITSM_E_TRUNCATED);
	assert_int_equal(n, 5);
	assert_memory_equal(rsp, "\x0c\x0b\x0a\x09\x08", 5);
	assert_false(r->mbox.ready);
	assert_err(xchg(r, req, 12, rsp, 0, &n), PCITSM_E_TRUNCATED);
	assert_ok(xchg(r, req, 12, rsp, 12, &n));
	assert_int_equal(n, 12);
	rig_free(r);
}

/* ---------------------------------------------------------------------------------------------
 * A pass-through accessor over the emulated space that alters what the host reads from the
 * Read mailbox or Status: a device that misbehaves in ways the model itself never does.
 */
struct skew {
	struct pcitsm_cfg cfg;
	struct pcitsm_cfg *inner;
	unsigned dw;      /* index of the response DW being read (counted by acks) */
	unsigned disc_n;  /* discovery responses seen */
	uint32_t len;     /* Length of the response being read */
	int mode;
	bool acked_all;
	bool go;          /* Go written, no Abort since */
	unsigned aborts;  /* Abort writes seen */
	unsigned long rd_reads; /* Read Data Mailbox reads: the work a lying device caused */
	unsigned long accesses;
};
enum { SKEW_NEXT_LOOP = 1, SKEW_NEXT_MANY, SKEW_BAD_VID, SKEW_LEN1, SKEW_RSVD, SKEW_LEN_HUGE,
       SKEW_DROP_READY, SKEW_LATE_ERROR, SKEW_BUSY_FOREVER, SKEW_LEN_HUGE_READY, SKEW_ERROR_MID,
       SKEW_READY_EMPTY };
/* A spinning host is a failed test, not a hung one: past this many accesses every access fails. */
#define SKEW_MAX_ACCESSES 5000000ul

static uint32_t skew_rdmbox(struct skew *s, uint32_t v)
{
	if (s->dw == 1 && s->mode == SKEW_LEN1)
		return 1;
	if (s->dw == 1 && s->mode == SKEW_RSVD)
		return v | 0x80000000u;
	if (s->dw == 1 && (s->mode == SKEW_LEN_HUGE || s->mode == SKEW_LEN_HUGE_READY))
		return 0;
	if (s->dw != 2)
		return v;
	switch (s->mode) {
	case SKEW_NEXT_LOOP:
		return (v & 0x00ffffffu) | 1u << 24;
	case SKEW_NEXT_MANY:
		return 0x00000001u | ((s->disc_n + 1) & 0xffu) << 24 | (s->disc_n & 0xffu) << 16;
	case SKEW_BAD_VID:
		return (v & 0xffff0000u) | 0xffffu;
	default:
		return v;
	}
}

/* Status as the lying device shows it, from the model's own. */
static uint32_t skew_status(struct skew *s, uint32_t v)
{
	switch (s->mode) {
	case SKEW_DROP_READY:
		return s->dw > 0 ? v & ~PCITSM_DOE_STATUS_READY : v;
	case SKEW_LATE_ERROR:
		return s->acked_all ? v | PCITSM_DOE_STATUS_ERROR : v;
	case SKEW_BUSY_FOREVER: /* from Go on, Busy and never Ready; an Abort ends it */
		return s->go && !s->acked_all ? PCITSM_DOE_STATUS_BUSY : v;
	case SKEW_LEN_HUGE_READY: /* Ready for as long as the host reads */
	case SKEW_READY_EMPTY:
		return s->go ? v | PCITSM_DOE_STATUS_READY : v;
	case SKEW_ERROR_MID:
		return s->dw >= 5 ? v | PCITSM_DOE_STATUS_ERROR : v;
	default:
		return v;
	}
}

static pcitsm_err skew_read(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val)
{
	struct skew *s = pcitsm_container_of(cfg, struct skew, cfg);

	if (++s->accesses > SKEW_MAX_ACCESSES)
		return PCITSM_E_IO;
	PCITSM_TRY(pcitsm_cfg_read(s->inner, off, width, val));
	if (off == MBOX + PCITSM_DOE_READ && s->dw == 1)
		s->len = *val & 0x3ffff;
	if (off == MBOX + PCITSM_DOE_READ) {
		s->rd_reads++;
		*val = skew_rdmbox(s, *val);
	}
	if (off == MBOX + PCITSM_DOE_STATUS)
		*val = skew_status(s, *val);
	return PCITSM_OK;
}

static pcitsm_err skew_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
{
	struct skew *s = pcitsm_container_of(cfg, struct skew, cfg);

	if (++s->accesses > SKEW_MAX_ACCESSES)
		return PCITSM_E_IO;
	if (off == MBOX + PCITSM_DOE_CTRL && (val & PCITSM_DOE_CTRL_GO))
		s->go = true;
	if (off == MBOX + PCITSM_DOE_CTRL && (val & PCITSM_DOE_CTRL_ABORT)) {
		s->go = false;
		s->aborts++;
	}
	if (off == MBOX + PCITSM_DOE_READ) {
		if (++s->dw == 3)
			s->disc_n++;
		if (s->dw == s->len)
			s->acked_all = true;
	}
	if (off == MBOX + PCITSM_DOE_CTRL && (val & (PCITSM_DOE_CTRL_GO | PCITSM_DOE_CTRL_ABORT))) {
		s->dw = 0;
		s->acked_all = false;
	}
	return pcitsm_cfg_write(s->inner, off, width, val);
}

static const struct pcitsm_cfg_ops skew_ops = { .read = skew_read, .write = skew_write };

static void skew_init(struct skew *s, struct rig *r, int mode)
{
	memset(s, 0, sizeof(*s));
	s->cfg.ops = &skew_ops;
	s->cfg.size = r->emu.cfg.size;
	s->inner = &r->emu.cfg;
	s->mode = mode;
}

static void discovery_hostile(void **state)
{
	struct rig *r = rig_new(1, 64);
	struct skew s;

	/* Next Index points back: a loop, found without hanging. */
	skew_init(&s, r, SKEW_NEXT_LOOP);
	assert_err(pcitsm_doe_host_init(&r->host, &s.cfg, MBOX, &r->t.env), PCITSM_E_LOOP);
	/* Always a new Next Index: more protocols than the table holds. */
	skew_init(&s, r, SKEW_NEXT_MANY);
	assert_err(pcitsm_doe_host_init(&r->host, &s.cfg, MBOX, &r->t.env), PCITSM_E_EXHAUSTED);
	assert_int_equal(r->host.nr_protos, PCITSM_ARRAY_SIZE(r->host.protos));
	/* The device says our index is invalid. */
	skew_init(&s, r, SKEW_BAD_VID);
	assert_err(pcitsm_doe_host_init(&r->host, &s.cfg, MBOX, &r->t.env), PCITSM_E_FIELD);
	rig_free(r);
}

/* A rig whose mailbox is seen through s, behaving (mode 0) until a test sets s->mode, with the
 * host driver taken over on it. */
static struct rig *skew_rig(struct skew *s)
{
	struct rig *r = rig_new(1, 1024);

	skew_init(s, r, 0);
	assert_ok(pcitsm_doe_host_init(&r->host, &s->cfg, MBOX, &r->t.env));
	return r;
}

static void response_hostile(void **state)
{
	uint8_t req[8] = { 0 }, rsp[16];
	struct skew s;
	struct rig *r = skew_rig(&s);
	size_t n;

	s.mode = SKEW_LEN1;
	assert_err(xchg(r, req, 8, rsp, sizeof(rsp), &n), PCITSM_E_FIELD);
	s.mode = SKEW_RSVD;
	assert_err(xchg(r, req, 8, rsp, sizeof(rsp), &n), PCITSM_E_RESERVED);
	/* Ready gone before the last acknowledge. */
	s.mode = SKEW_DROP_READY;
	assert_err(xchg(r, req, 8, rsp, sizeof(rsp), &n), PCITSM_E_IO);
	/* Length 0 (2^18 DW) from a device that has 4: Ready is gone after them, and the Status
	 * check every 64 DWs stops the read there, not 2^18 DWs later. */
	s.mode = SKEW_LEN_HUGE;
	s.rd_reads = 0;
	assert_err(xchg(r, req, 8, rsp, sizeof(rsp), &n), PCITSM_E_IO);
	assert_true(s.rd_reads <= 2 + 64);
	assert_false(r->host.dead);
	s.mode = 0;
	assert_ok(xchg(r, req, 8, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 8);
	rig_free(r);
}

/* Busy forever after Go, never Ready: E_TIMEOUT after 1 s of polls on the env's clock (no real
 * sleep), then one Abort, which this device honours: the mailbox works again. (A device that
 * stays Busy through the Abort too is dead_mailbox.) */
static void busy_forever(void **state)
{
	uint8_t req[4] = { 0 }, rsp[16];
	struct skew s;
	struct rig *r = skew_rig(&s);
	unsigned aborts = s.aborts;
	uint64_t t0 = r->t.clock_ns;
	size_t n;

	s.mode = SKEW_BUSY_FOREVER;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_TIMEOUT);
	assert_int_equal(n, 0);
	assert_true(r->t.clock_ns - t0 > PCITSM_DOE_TIMEOUT_NS);
	assert_true(r->t.clock_ns - t0 <= PCITSM_DOE_TIMEOUT_NS + 3 * PCITSM_DOE_POLL_NS);
	assert_int_equal(s.aborts, aborts + 1);
	assert_false(r->host.dead);
	s.mode = 0;
	assert_ok(xchg(r, req, 4, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 4);
	rig_free(r);
}

/* Length 0 (2^18 DW) with Ready held for as long as the host reads: the host stores what its
 * buffer holds, drains at most 1024 DWs more, then cuts the object with an Abort: E_TRUNCATED,
 * the prefix kept, a bounded number of reads, the mailbox usable. */
static void length0_ready_forever(void **state)
{
	uint8_t req[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, rsp[16];
	struct skew s;
	struct rig *r = skew_rig(&s);
	unsigned aborts = s.aborts;
	size_t n;

	s.mode = SKEW_LEN_HUGE_READY;
	s.rd_reads = 0;
	assert_err(xchg(r, req, 8, rsp, sizeof(rsp), &n), PCITSM_E_TRUNCATED);
	assert_int_equal(n, sizeof(rsp));
	assert_memory_equal(rsp, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_true(s.rd_reads <= 2 + 4 + 1024);
	assert_int_equal(s.aborts, aborts + 1);
	assert_false(r->host.dead);
	s.mode = 0;
	assert_ok(xchg(r, req, 8, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 8);
	rig_free(r);
}

/* A real object longer than the caller's buffer by more than the drain bound (4096 DWs into 16
 * bytes): cut by an Abort after 1024 drained DWs, not read to its end. */
static void length_beyond_buffer(void **state)
{
	struct rig *r = rig_new(1, 8192);
	static uint8_t req[16384];
	uint8_t rsp[16];
	size_t n;

	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	assert_err(xchg(r, req, sizeof(req), rsp, sizeof(rsp), &n), PCITSM_E_TRUNCATED);
	assert_int_equal(n, sizeof(rsp));
	/* The device still held most of it: the Abort discarded it (Ready clear, nothing left). */
	assert_false(r->mbox.ready);
	assert_false(r->host.dead);
	/* Within the bound it is drained, as before: no Abort needed. */
	assert_err(xchg(r, req, 4000, rsp, sizeof(rsp), &n), PCITSM_E_TRUNCATED);
	assert_false(r->mbox.ready);
	assert_ok(xchg(r, req, 16, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 16);
	rig_free(r);
}

/* An honest object of 2^18 DW, both ways: its Length field is 0 (PCIe 6.x §6.30.1) and the host
 * reads all of it into a buffer that holds it. */
static void length0_whole(void **state)
{
	struct rig *r = rig_new(1, PCITSM_DOE_MAX_DW);
	size_t len = PCITSM_DOE_MAX_BYTES - PCITSM_DOE_HDR_LEN, n;
	uint8_t *req = malloc(len), *rsp = malloc(len);

	assert_non_null(req);
	assert_non_null(rsp);
	for (size_t i = 0; i < len; i++)
		req[i] = (uint8_t)(i * 7);
	assert_ok(pcitsm_doe_host_init(&r->host, &r->emu.cfg, MBOX, &r->t.env));
	assert_ok(xchg(r, req, len, rsp, len, &n));
	assert_int_equal(n, len);
	assert_int_equal(rsp[0], req[len - 1]);
	assert_int_equal(rsp[len - 1], req[0]);
	free(req);
	free(rsp);
	rig_free(r);
}

/* Error set while the host reads a 130-DW object: E_IO within 64 DWs, then Abort. */
static void error_mid_object(void **state)
{
	static uint8_t req[512], rsp[1024];
	struct skew s;
	struct rig *r = skew_rig(&s);
	unsigned aborts = s.aborts;
	size_t n;

	s.mode = SKEW_ERROR_MID;
	s.rd_reads = 0;
	assert_err(xchg(r, req, sizeof(req), rsp, sizeof(rsp), &n), PCITSM_E_IO);
	assert_int_equal(n, 0);
	assert_true(s.rd_reads <= 2 + 64);
	assert_int_equal(s.aborts, aborts + 1);
	assert_false(r->host.dead);
	s.mode = 0;
	assert_ok(xchg(r, req, sizeof(req), rsp, sizeof(rsp), &n));
	assert_int_equal(n, sizeof(req));
	rig_free(r);
}

/* Ready with nothing in the Read mailbox (it reads 0): a header of vendor 0, type 0 is not the
 * request's: E_FIELD, then Abort. */
static void ready_without_data(void **state)
{
	uint8_t req[4] = { 0 }, rsp[16];
	struct skew s;
	struct rig *r = skew_rig(&s);
	unsigned aborts = s.aborts;
	size_t n;

	r->mbox.fault_no_response = true;
	s.mode = SKEW_READY_EMPTY;
	s.rd_reads = 0;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_FIELD);
	assert_int_equal(n, 0);
	assert_true(s.rd_reads <= 2);
	assert_int_equal(s.aborts, aborts + 1);
	r->mbox.fault_no_response = false;
	s.mode = 0;
	assert_ok(xchg(r, req, 4, rsp, sizeof(rsp), &n));
	rig_free(r);
}

static void late_error(void **state)
{
	uint8_t req[4] = { 0 }, rsp[16];
	struct skew s;
	struct rig *r = skew_rig(&s);
	size_t n;

	/* Error shows up only after the final acknowledge: the last check catches it. */
	s.mode = SKEW_LATE_ERROR;
	assert_err(xchg(r, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_IO);
	assert_int_equal(n, 0);
	s.mode = 0;
	assert_ok(xchg(r, req, 4, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 4);
	rig_free(r);
}

static void find_instance(void **state)
{
	struct rig *r = rig_new(1, 64);
	struct pcitsm_doe_dev dev2;
	struct pcitsm_doe_mbox m2, m3;
	struct pcitsm_doe_handler only = { .vid = 1, .type = PCITSM_DOE_TYPE_CMA, .handle = echo };

	/* 0x100: CMA + secured (the rig's); 0x180: CMA only; 0x200: wedged. */
	pcitsm_doe_dev_init(&dev2, 1);
	assert_ok(pcitsm_doe_dev_register(&dev2, &only));
	assert_ok(pcitsm_doe_mbox_init(&m2, &r->emu, 0x180, 0x100, 1, &dev2, 64));
	assert_ok(pcitsm_doe_mbox_init(&m3, &r->emu, 0x200, 0x180, 1, &dev2, 64));
	m3.fault_no_abort = true;
	/* List head at 0x100 is the rig's mailbox; relink: 0x100 -> 0x200 -> 0x180 -> end. */
	pcitsm_cfg_emu_poke(&r->emu, 0x100, 4, PCITSM_ECAP_ID_DOE | 1u << 16 | 0x200u << 20);
	pcitsm_cfg_emu_poke(&r->emu, 0x200, 4, PCITSM_ECAP_ID_DOE | 1u << 16 | 0x180u << 20);
	pcitsm_cfg_emu_poke(&r->emu, 0x180, 4, PCITSM_ECAP_ID_DOE | 1u << 16);

	assert_ok(pcitsm_doe_host_find(&r->host, &r->emu.cfg, 1, PCITSM_DOE_TYPE_CMA, &r->t.env));
	assert_int_equal(r->host.off, 0x100);
	/* Make the first one CMA-less: the wedged one is skipped, 0x180 is found. */
	r->dev.handlers[0] = &r->sec;
	r->dev.nr_handlers = 1;
	assert_ok(pcitsm_doe_host_find(&r->host, &r->emu.cfg, 1, PCITSM_DOE_TYPE_CMA, &r->t.env));
	assert_int_equal(r->host.off, 0x180);
	assert_err(pcitsm_doe_host_find(&r->host, &r->emu.cfg, 1, PCITSM_DOE_TYPE_ASYNC,
					&r->t.env),
		   PCITSM_E_NOTFOUND);
	pcitsm_doe_mbox_free(&m2);
	pcitsm_doe_mbox_free(&m3);
	rig_free(r);
}

static void model_registers(void **state)
{
	struct rig *r = rig_new(2, 8);
	uint32_t v;
	uint16_t v16;
	uint8_t v8;

	/* Header and Capabilities are read-only. */
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX, &v));
	assert_int_equal(v, PCITSM_ECAP_ID_DOE | 2u << 16);
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX, 0));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX, &v));
	assert_int_equal(v, PCITSM_ECAP_ID_DOE | 2u << 16);
	/* Nothing ready: the read mailbox reads 0, the write mailbox always reads 0. */
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_READ, &v));
	assert_int_equal(v, 0);
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE, 0x12345678));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE, &v));
	assert_int_equal(v, 0);
	/* Go and Abort read as 0; Interrupt Enable is kept. */
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL,
				     PCITSM_DOE_CTRL_ABORT | PCITSM_DOE_CTRL_INT_EN));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL, &v));
	assert_int_equal(v, PCITSM_DOE_CTRL_INT_EN);
	/* Go with fewer than 2 DWs written: Error. */
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE, 0x00010001));
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_GO));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_STATUS, &v));
	assert_int_equal(v, PCITSM_DOE_STATUS_ERROR);
	/* Abort clears it. */
	assert_ok(pcitsm_cfg_write8(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_ABORT));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_STATUS, &v));
	assert_int_equal(v, 0);
	/* A partial-width mailbox access sets Error. */
	assert_ok(pcitsm_cfg_read16(&r->emu.cfg, MBOX + PCITSM_DOE_READ, &v16));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_STATUS, &v));
	assert_int_equal(v, PCITSM_DOE_STATUS_ERROR);
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_ABORT));
	assert_ok(pcitsm_cfg_write16(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE + 2, 1));
	assert_ok(pcitsm_cfg_read8(&r->emu.cfg, MBOX + PCITSM_DOE_STATUS, &v8));
	assert_int_equal(v8, PCITSM_DOE_STATUS_ERROR);
	/* An object whose Length differs from what was written: discarded, no Ready. */
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_ABORT));
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE, 0x00010001));
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE, 4));
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_WRITE, 0));
	assert_ok(pcitsm_cfg_write32(&r->emu.cfg, MBOX + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_GO));
	assert_ok(pcitsm_cfg_read32(&r->emu.cfg, MBOX + PCITSM_DOE_STATUS, &v));
	assert_int_equal(v, 0);
	/* init argument checks */
	assert_err(pcitsm_doe_mbox_init(&r->mbox, &r->emu, 0x102, 0, 1, &r->dev, 8),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_doe_mbox_init(&r->mbox, &r->emu, 0x200, 0, 1, &r->dev, 3),
		   PCITSM_E_INVAL);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discovery_and_echo),
		cmocka_unit_test(busy_before_send),
		cmocka_unit_test(timeout),
		cmocka_unit_test(error_overflow),
		cmocka_unit_test(dead_mailbox),
		cmocka_unit_test(wrong_type_and_truncation),
		cmocka_unit_test(discovery_hostile),
		cmocka_unit_test(response_hostile),
		cmocka_unit_test(late_error),
		cmocka_unit_test(busy_forever),
		cmocka_unit_test(length0_ready_forever),
		cmocka_unit_test(length_beyond_buffer),
		cmocka_unit_test(length0_whole),
		cmocka_unit_test(error_mid_object),
		cmocka_unit_test(ready_without_data),
		cmocka_unit_test(find_instance),
		cmocka_unit_test(model_registers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
