/* SPDX-License-Identifier: MIT */
/*
 * Generic netlink and the pci-tsm evidence-read (include/pcitsm/genl.h, docs/genl.md).
 *  - The request as the proposal's policy wants it; bad requests refused before any I/O.
 *  - Reply streams built the way the kernel builds them (one `type`, then `val` pieces, objects in
 *    ascending type order, several messages per datagram, NLMSG_DONE) reassemble exactly, the
 *    16 MiB bound included; every malformed stream is refused with its own error: short and
 *    truncated messages, bytes after the end, a bad attribute length, a `type` of the wrong size
 *    or unknown, a type not asked for or repeated, a `val` before any `type` or over the bound, a
 *    reply to another request (sequence) or port, NLMSG_ERROR / failed NLMSG_DONE with the
 *    kernel's errno and extended-ack words.
 *  - This machine's kernel, over a real socket: nlctrl resolves to its fixed id, a real dump of
 *    every family ends in NLMSG_DONE, "pci-tsm" is ENOENT from nlctrl (the clean "no such
 *    family"), and an evidence-read sent to a family without it is the kernel's NLMSG_ERROR.
 *  - The fuzz corpus tests/fuzz/corpus/nl_evidence is what these builders write
 *    (PCITSM_WRITE_CORPUS=DIR writes it again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/genl.h"
#include "testutil.h"

#define SEQ 77u
#define PID 4242u
#define FAM 0x1du
#define CORPUS_DIR PCITSM_TEST_DATA "/../fuzz/corpus/nl_evidence"

struct obj {
	unsigned type;
	const uint8_t *p;
	size_t len;
};

/* ---------------------------------------------------------------------------------------------
 * A reply stream: records of (u32 LE length, datagram), as the fuzz target reads them.
 */
struct stream {
	uint8_t *buf;
	size_t cap;
	struct pcitsm_wr w;
	size_t rec;       /* offset of the open record's length, or SIZE_MAX */
	unsigned in_rec;  /* messages in the open record */
};

static void st_init(struct stream *s, size_t cap, uint32_t mask)
{
	s->buf = malloc(cap);
	assert_non_null(s->buf);
	s->cap = cap;
	pcitsm_wr_init(&s->w, s->buf, cap);
	pcitsm_wr_le32(&s->w, mask);
	s->rec = SIZE_MAX;
	s->in_rec = 0;
}

static void st_close_dgram(struct stream *s)
{
	if (s->rec == SIZE_MAX)
		return;
	pcitsm_wr_patch_le32(&s->w, s->rec, (uint32_t)(pcitsm_wr_len(&s->w) - s->rec - 4));
	s->rec = SIZE_MAX;
	s->in_rec = 0;
}

/* Before a message: open a datagram, or a new one when this one has per messages. */
static void st_msg(struct stream *s, unsigned per)
{
	if (s->rec != SIZE_MAX && s->in_rec >= per)
		st_close_dgram(s);
	if (s->rec == SIZE_MAX) {
		s->rec = pcitsm_wr_len(&s->w);
		pcitsm_wr_le32(&s->w, 0);
	}
	s->in_rec++;
}

/* The kernel's dump of objs (ascending types), val pieces of at most chunk bytes, per messages
 * per datagram, then NLMSG_DONE (err) in its own datagram. */
static void st_dump(struct stream *s, const struct obj *objs, size_t n, size_t chunk, unsigned per,
		    int32_t done_err)
{
	for (size_t i = 0; i < n; i++) {
		size_t off = 0;

		do {
			size_t piece = PCITSM_MIN(chunk, objs[i].len - off);
			size_t m;

			st_msg(s, per);
			m = pcitsm_genl_begin(&s->w, FAM, PCITSM_NLM_F_MULTI, SEQ, PID,
					      PCITSM_TSMNL_CMD_EVIDENCE_READ, PCITSM_TSMNL_VERSION);
			if (off == 0)
				pcitsm_genl_put_u32(&s->w, PCITSM_TSMNL_A_TYPE, objs[i].type);
			pcitsm_genl_put(&s->w, PCITSM_TSMNL_A_VAL, piece ? objs[i].p + off : NULL,
					piece);
			pcitsm_genl_end(&s->w, m);
			off += piece;
		} while (off < objs[i].len);
	}
	st_close_dgram(s);
	st_msg(s, 1);
	pcitsm_genl_put_done(&s->w, SEQ, PID, done_err, done_err ? "no evidence available" : NULL);
	st_close_dgram(s);
	assert_ok(pcitsm_wr_err(&s->w));
}

/* Feed every datagram as the driver does; the first error, or E_SHORT if no end came. */
static pcitsm_err st_feed(const uint8_t *p, size_t n, struct pcitsm_tsmnl_evidence *ev,
			  struct pcitsm_genl_walk *w, size_t limit)
{
	struct pcitsm_rd r;
	pcitsm_err e = PCITSM_OK;

	pcitsm_rd_init(&r, p, n);
	pcitsm_tsmnl_evidence_init(ev, pcitsm_rd_le32(&r));
	if (limit)
		ev->limit = limit;
	pcitsm_genl_walk_init(w, SEQ, PID, FAM, pcitsm_tsmnl_evidence_msg, ev);
	while (!e && pcitsm_rd_left(&r)) {
		uint32_t len = pcitsm_rd_le32(&r);
		const uint8_t *d = pcitsm_rd_bytes(&r, len);

		if (!d)
			return PCITSM_E_SHORT;
		e = pcitsm_genl_walk_feed(w, d, len);
	}
	if (!e && !w->done)
		return PCITSM_E_SHORT;
	return e ? e : pcitsm_tsmnl_evidence_complete(ev);
}

static pcitsm_err st_run(struct stream *s, struct pcitsm_tsmnl_evidence *ev,
			 struct pcitsm_genl_walk *w, size_t limit)
{
	return st_feed(s->buf, pcitsm_wr_len(&s->w), ev, w, limit);
}

static uint8_t *pattern(size_t n, uint8_t seed)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
	return p;
}

/* ---------------------------------------------------------------------------------------------
 * The request.
 */
static void test_request(void **state)
{
	static const uint8_t nonce[32] = { 1, 2, 3 };
	struct pcitsm_tsmnl_req req = { "0000:01:00.0", PCITSM_TSMNL_TYPE_BIT(PCITSM_TSMNL_REPORT),
					0, nonce, sizeof(nonce) };
	uint8_t buf[512];
	struct pcitsm_wr w;
	struct pcitsm_rd r;
	struct pcitsm_genl_attr a;
	uint32_t v, len;
	uint16_t u;
	unsigned seen = 0;

	(void)state;
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req));
	memcpy(&len, buf, 4);
	assert_int_equal(len, pcitsm_wr_len(&w));
	memcpy(&u, buf + 4, 2);
	assert_int_equal(u, FAM);
	memcpy(&u, buf + 6, 2);
	assert_int_equal(u, PCITSM_NLM_F_REQUEST | PCITSM_NLM_F_DUMP);
	memcpy(&v, buf + 8, 4);
	assert_int_equal(v, SEQ);
	assert_int_equal(buf[16], PCITSM_TSMNL_CMD_EVIDENCE_READ);
	assert_int_equal(buf[17], PCITSM_TSMNL_VERSION);
	pcitsm_rd_init(&r, buf + 20, len - 20);
	while (pcitsm_genl_attr_next(&r, &a)) {
		seen |= 1u << a.type;
		if (a.type == PCITSM_TSMNL_A_TYPE_MASK) {
			assert_ok(pcitsm_genl_attr_u32(&a, &v));
			assert_int_equal(v, 1u << 10);
		} else if (a.type == PCITSM_TSMNL_A_DEV_NAME) {
			/* NLA_NUL_STRING: the terminator is part of the attribute. */
			assert_int_equal(a.len, 13);
			assert_memory_equal(a.p, "0000:01:00.0", 13);
		} else if (a.type == PCITSM_TSMNL_A_NONCE) {
			assert_int_equal(a.len, 32);
		}
	}
	assert_ok(pcitsm_rd_finish(&r));
	/* No flags attribute when no flag is asked for. */
	assert_int_equal(seen, 1u << 2 | 1u << 4 | 1u << 5);

	/* Refused before any byte goes out. */
	req.dev_name = "0123456789012345678901234567890123";
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_err(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req), PCITSM_E_INVAL);
	req.dev_name = "0000:01:00.0";
	req.type_mask = 0;
	assert_err(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req), PCITSM_E_INVAL);
	req.type_mask = 1u << 11;
	assert_err(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req), PCITSM_E_INVAL);
	req.type_mask = 1;
	req.flags = 2;
	assert_err(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req), PCITSM_E_INVAL);
	req.flags = PCITSM_TSMNL_FLAG_DIGEST;
	req.nonce_len = PCITSM_TSMNL_NONCE_MAX + 1;
	assert_err(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req), PCITSM_E_INVAL);
	req.nonce_len = 0;
	assert_ok(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req));
	/* A writer too small is the writer's error. */
	pcitsm_wr_init(&w, buf, 24);
	assert_err(pcitsm_tsmnl_evidence_encode(&w, FAM, SEQ, PID, &req), PCITSM_E_NOSPC);
	assert_err(pcitsm_genl_getfamily_encode(&w, 1, 1, "a-name-too-long-"), PCITSM_E_INVAL);
}

/* ---------------------------------------------------------------------------------------------
 * Reassembly of valid streams.
 */
static void test_reassemble(void **state)
{
	uint8_t *cert = pattern(3000, 1), *meas = pattern(700, 2), *rep = pattern(200000, 3);
	const struct obj objs[] = {
		{ PCITSM_TSMNL_CERT0, cert, 3000 },
		{ PCITSM_TSMNL_CERT0 + 1, NULL, 0 }, /* a slot without a chain: one empty val */
		{ PCITSM_TSMNL_MEASUREMENTS, meas, 700 },
		{ PCITSM_TSMNL_REPORT, rep, 200000 },
	};
	uint32_t mask = 1u << 0 | 1u << 1 | 1u << 9 | 1u << 10;
	struct pcitsm_tsmnl_evidence ev;
	struct pcitsm_genl_walk w;
	struct stream s;

	(void)state;
	/* 65000-byte pieces (nla_len is 16 bits), three messages per datagram. */
	st_init(&s, 1u << 20, mask);
	st_dump(&s, objs, 4, 65000, 3, 0);
	assert_ok(st_run(&s, &ev, &w, 0));
	assert_int_equal(ev.present, mask);
	assert_int_equal(ev.len[0], 3000);
	assert_memory_equal(ev.obj[0], cert, 3000);
	assert_int_equal(ev.len[1], 0);
	assert_int_equal(ev.len[9], 700);
	assert_memory_equal(ev.obj[9], meas, 700);
	assert_int_equal(ev.len[10], 200000);
	assert_memory_equal(ev.obj[10], rep, 200000);
	assert_true(w.nr_msgs >= 7);
	pcitsm_tsmnl_evidence_free(&ev);
	free(s.buf);

	/* The same objects one tiny piece per message, one message per datagram. */
	st_init(&s, 4u << 20, mask);
	st_dump(&s, objs, 3, 17, 1, 0);
	assert_err(st_run(&s, &ev, &w, 0), PCITSM_E_SHORT); /* the report never came */
	assert_memory_equal(ev.obj[0], cert, 3000);
	assert_memory_equal(ev.obj[9], meas, 700);
	pcitsm_tsmnl_evidence_free(&ev);
	free(s.buf);
	free(cert);
	free(meas);
	free(rep);
}

/* The 16 MiB bound: an object of exactly the bound is whole, one byte more is E_RANGE. */
static void test_bound(void **state)
{
	const size_t max = PCITSM_TSMNL_OBJECT_MAX;
	uint8_t *big = pattern(max + 1, 9);
	struct obj o = { PCITSM_TSMNL_REPORT, big, max };
	struct pcitsm_tsmnl_evidence ev;
	struct pcitsm_genl_walk w;
	struct stream s;

	(void)state;
	st_init(&s, max + (max / 65000 + 4) * 64, 1u << 10);
	st_dump(&s, &o, 1, 65000, 4, 0);
	assert_ok(st_run(&s, &ev, &w, 0));
	assert_int_equal(ev.len[10], max);
	assert_memory_equal(ev.obj[10], big, max);
	pcitsm_tsmnl_evidence_free(&ev);
	free(s.buf);

	o.len = max + 1;
	st_init(&s, max + (max / 65000 + 4) * 64, 1u << 10);
	st_dump(&s, &o, 1, 65000, 4, 0);
	assert_err(st_run(&s, &ev, &w, 0), PCITSM_E_RANGE);
	assert_true(ev.len[10] <= max);
	pcitsm_tsmnl_evidence_free(&ev);
	free(s.buf);

	/* A lowered limit holds the same way, on the piece that crosses it. */
	o.len = 100;
	st_init(&s, 4096, 1u << 10);
	st_dump(&s, &o, 1, 30, 1, 0);
	assert_ok(st_run(&s, &ev, &w, 100));
	pcitsm_tsmnl_evidence_free(&ev);
	assert_err(st_run(&s, &ev, &w, 99), PCITSM_E_RANGE);
	assert_int_equal(ev.len[10], 90);
	pcitsm_tsmnl_evidence_free(&ev);
	free(s.buf);
	free(big);
}

/* ---------------------------------------------------------------------------------------------
 * Malformed streams: one datagram each, fed to a fresh walker.
 */
static pcitsm_err feed1(const uint8_t *d, size_t n, uint32_t mask, struct pcitsm_genl_walk *w,
			struct pcitsm_tsmnl_evidence *ev)
{
	pcitsm_err e;

	pcitsm_tsmnl_evidence_init(ev, mask);
	pcitsm_genl_walk_init(w, SEQ, PID, FAM, pcitsm_tsmnl_evidence_msg, ev);
	e = pcitsm_genl_walk_feed(w, d, n);
	pcitsm_tsmnl_evidence_free(ev);
	return e;
}

/* One evidence message with the given attributes (raw TLVs). */
static size_t msg_raw(uint8_t *buf, size_t cap, uint32_t seq, uint32_t pid, uint16_t type,
		      uint8_t cmd, const uint8_t *tlv, size_t tlv_len)
{
	struct pcitsm_wr w;
	size_t m;

	pcitsm_wr_init(&w, buf, cap);
	m = pcitsm_genl_begin(&w, type, PCITSM_NLM_F_MULTI, seq, pid, cmd, 1);
	pcitsm_wr_bytes(&w, tlv, tlv_len);
	pcitsm_genl_end(&w, m);
	assert_ok(pcitsm_wr_err(&w));
	return pcitsm_wr_len(&w);
}

static size_t tlv_u32(uint8_t *p, uint16_t type, uint32_t v)
{
	uint16_t len = 8;

	memcpy(p, &len, 2);
	memcpy(p + 2, &type, 2);
	memcpy(p + 4, &v, 4);
	return 8;
}

static size_t tlv_val(uint8_t *p, const char *s)
{
	uint16_t len = (uint16_t)(4 + strlen(s)), type = PCITSM_TSMNL_A_VAL;

	memcpy(p, &len, 2);
	memcpy(p + 2, &type, 2);
	memcpy(p + 4, s, strlen(s));
	return (4 + strlen(s) + 3) & ~3u;
}

static void test_negative(void **state)
{
	const uint32_t rep = 1u << 10, all = PCITSM_TSMNL_TYPE_ALL;
	uint8_t tlv[64], d[256];
	struct pcitsm_tsmnl_evidence ev;
	struct pcitsm_genl_walk w;
	size_t t, n;

	(void)state;
	t = tlv_u32(tlv, PCITSM_TSMNL_A_TYPE, 10);
	t += tlv_val(tlv + t, "abcde");
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_ok(feed1(d, n, rep, &w, &ev));

	/* Short: an empty datagram, a header cut, a message cut (truncated datagram). */
	assert_err(feed1(d, 0, rep, &w, &ev), PCITSM_E_SHORT);
	assert_err(feed1(d, 15, rep, &w, &ev), PCITSM_E_SHORT);
	assert_err(feed1(d, n - 1, rep, &w, &ev), PCITSM_E_SHORT);
	/* nlmsg_len below the header. */
	d[0] = 12;
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_FIELD);
	/* Wrong sequence: a reply to another request; wrong port. */
	n = msg_raw(d, sizeof(d), SEQ + 1, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_REPLAY);
	n = msg_raw(d, sizeof(d), SEQ, PID + 1, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_UNEXPECTED);
	/* Another family's message; another command. */
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM + 1, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_UNEXPECTED);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 2, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_UNEXPECTED);

	/* Bad attribute lengths: nla_len under its header, past the message, a 2-byte type. */
	memcpy(tlv, (uint16_t[]){ 3 }, 2);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_FIELD);
	memcpy(tlv, (uint16_t[]){ 200 }, 2);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_SHORT);
	memcpy(tlv, (uint16_t[]){ 6 }, 2);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_FIELD);

	/* Types: unknown, not asked for, repeated, out of order, a val before any type. */
	t = tlv_u32(tlv, PCITSM_TSMNL_A_TYPE, 11);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, all, &w, &ev), PCITSM_E_FIELD);
	t = tlv_u32(tlv, PCITSM_TSMNL_A_TYPE, 9);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_UNEXPECTED);
	t = tlv_u32(tlv, PCITSM_TSMNL_A_TYPE, 10);
	t += tlv_u32(tlv + t, PCITSM_TSMNL_A_TYPE, 10);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_UNEXPECTED);
	t = tlv_u32(tlv, PCITSM_TSMNL_A_TYPE, 10);
	t += tlv_u32(tlv + t, PCITSM_TSMNL_A_TYPE, 9);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, all, &w, &ev), PCITSM_E_UNEXPECTED);
	t = tlv_val(tlv, "x");
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_UNEXPECTED);
	/* An attribute of a later kernel is skipped. */
	t = tlv_u32(tlv, 9, 1);
	t += tlv_u32(tlv + t, PCITSM_TSMNL_A_TYPE, 10);
	n = msg_raw(d, sizeof(d), SEQ, PID, FAM, 1, tlv, t);
	assert_ok(feed1(d, n, rep, &w, &ev));
}

/* The ends of an exchange: NLMSG_ERROR and NLMSG_DONE with an errno, bytes after the end. */
static void test_ends(void **state)
{
	const uint32_t rep = 1u << 10;
	struct pcitsm_tsmnl_evidence ev;
	struct pcitsm_genl_walk w;
	uint8_t d[512];
	struct pcitsm_wr wr;
	size_t n;

	(void)state;
	pcitsm_wr_init(&wr, d, sizeof(d));
	pcitsm_genl_put_error(&wr, SEQ, PID, -EPERM, "needs \x01 admin");
	n = pcitsm_wr_len(&wr);
	assert_err(feed1(d, n, rep, &w, &ev), PCITSM_E_PEER_ERROR);
	assert_int_equal(w.kerr, EPERM);
	assert_string_equal(w.ext, "needs ? admin"); /* control characters never reach a terminal */
	assert_true(w.done);

	/* Bytes after the end, in the same datagram and in the next one. */
	pcitsm_genl_put_done(&wr, SEQ, PID, 0, NULL);
	assert_err(feed1(d, pcitsm_wr_len(&wr), rep, &w, &ev), PCITSM_E_PEER_ERROR);
	pcitsm_wr_init(&wr, d, sizeof(d));
	pcitsm_genl_put_done(&wr, SEQ, PID, 0, NULL);
	pcitsm_genl_put_done(&wr, SEQ, PID, 0, NULL);
	assert_err(feed1(d, pcitsm_wr_len(&wr), rep, &w, &ev), PCITSM_E_LONG);
	pcitsm_tsmnl_evidence_init(&ev, rep);
	pcitsm_genl_walk_init(&w, SEQ, PID, FAM, pcitsm_tsmnl_evidence_msg, &ev);
	assert_ok(pcitsm_genl_walk_feed(&w, d, pcitsm_wr_len(&wr) / 2));
	assert_true(w.done);
	assert_err(pcitsm_genl_walk_feed(&w, d, pcitsm_wr_len(&wr) / 2), PCITSM_E_LONG);
	/* The dump ended before the report: complete says so. */
	assert_err(pcitsm_tsmnl_evidence_complete(&ev), PCITSM_E_SHORT);

	/* A dump that failed on the way: DONE carries the errno and the words. */
	pcitsm_wr_init(&wr, d, sizeof(d));
	pcitsm_genl_put_done(&wr, SEQ, PID, -ENXIO, "no evidence available");
	assert_err(feed1(d, pcitsm_wr_len(&wr), rep, &w, &ev), PCITSM_E_PEER_ERROR);
	assert_int_equal(w.kerr, ENXIO);
	assert_string_equal(w.ext, "no evidence available");
	/* A positive or absurd error value is not an errno. */
	pcitsm_wr_init(&wr, d, sizeof(d));
	pcitsm_genl_put_done(&wr, SEQ, PID, 5, NULL);
	assert_err(feed1(d, pcitsm_wr_len(&wr), rep, &w, &ev), PCITSM_E_FIELD);
	pcitsm_wr_init(&wr, d, sizeof(d));
	pcitsm_genl_put_error(&wr, SEQ, PID, -70000, NULL);
	assert_err(feed1(d, pcitsm_wr_len(&wr), rep, &w, &ev), PCITSM_E_FIELD);
	/* DONE without its int; an overrun notice. */
	pcitsm_wr_init(&wr, d, sizeof(d));
	pcitsm_genl_put_done(&wr, SEQ, PID, 0, NULL);
	d[0] = 16;
	assert_err(feed1(d, 16, rep, &w, &ev), PCITSM_E_SHORT);
	d[4] = PCITSM_NLMSG_OVERRUN;
	assert_err(feed1(d, 16, rep, &w, &ev), PCITSM_E_IO);
	d[4] = PCITSM_NLMSG_NOOP;
	assert_ok(feed1(d, 16, rep, &w, &ev));
	assert_false(w.done);
}

/* nlctrl's GETFAMILY answer. */
static void test_family_reply(void **state)
{
	struct pcitsm_genl_family f = { .name = "pci-tsm" };
	struct pcitsm_genl_walk w;
	uint8_t d[256];
	struct pcitsm_wr wr;
	size_t m;
	uint16_t id = 0x21;

	(void)state;
	pcitsm_wr_init(&wr, d, sizeof(d));
	m = pcitsm_genl_begin(&wr, PCITSM_GENL_ID_CTRL, 0, SEQ, PID, PCITSM_CTRL_CMD_NEWFAMILY, 2);
	pcitsm_genl_put_str(&wr, PCITSM_CTRL_ATTR_FAMILY_NAME, "pci-tsm");
	pcitsm_genl_put(&wr, PCITSM_CTRL_ATTR_FAMILY_ID, &id, 2);
	pcitsm_genl_end(&wr, m);
	pcitsm_genl_walk_init(&w, SEQ, PID, PCITSM_GENL_ID_CTRL, pcitsm_genl_family_msg, &f);
	assert_ok(pcitsm_genl_walk_feed(&w, d, pcitsm_wr_len(&wr)));
	assert_true(w.done && f.found);
	assert_int_equal(f.id, 0x21);

	f = (struct pcitsm_genl_family){ .name = "pci-ts" };
	pcitsm_genl_walk_init(&w, SEQ, PID, PCITSM_GENL_ID_CTRL, pcitsm_genl_family_msg, &f);
	assert_err(pcitsm_genl_walk_feed(&w, d, pcitsm_wr_len(&wr)), PCITSM_E_MISMATCH);

	pcitsm_wr_init(&wr, d, sizeof(d));
	m = pcitsm_genl_begin(&wr, PCITSM_GENL_ID_CTRL, 0, SEQ, PID, PCITSM_CTRL_CMD_NEWFAMILY, 2);
	pcitsm_genl_put_str(&wr, PCITSM_CTRL_ATTR_FAMILY_NAME, "pci-tsm");
	pcitsm_genl_put_u32(&wr, PCITSM_CTRL_ATTR_FAMILY_ID, id);
	pcitsm_genl_end(&wr, m);
	f = (struct pcitsm_genl_family){ .name = "pci-tsm" };
	pcitsm_genl_walk_init(&w, SEQ, PID, PCITSM_GENL_ID_CTRL, pcitsm_genl_family_msg, &f);
	assert_err(pcitsm_genl_walk_feed(&w, d, pcitsm_wr_len(&wr)), PCITSM_E_FIELD);
	assert_false(f.found);
}

/* ---------------------------------------------------------------------------------------------
 * This machine's kernel.
 */
static bool real_sock(struct pcitsm_genl_sock *s)
{
	int serr = 0;
	pcitsm_err e = pcitsm_genl_sock_open(s, &serr);

	if (e) {
		print_message("no generic netlink socket here (%s, %s): real-socket test skipped\n",
			      pcitsm_err_name(e), strerror(serr));
		return false;
	}
	return true;
}

static void test_real_resolve(void **state)
{
	struct pcitsm_genl_sock s;
	struct pcitsm_genl_walk w;
	struct pcitsm_tsmnl_evidence ev;
	char why[512] = "";
	struct pcitsm_tsmnl_req req = { "0000:00:00.0", PCITSM_TSMNL_TYPE_BIT(PCITSM_TSMNL_REPORT),
					0, NULL, 0 };
	uint16_t id = 0;

	(void)state;
	if (!real_sock(&s)) {
		skip();
		return;
	}
	assert_true(s.portid != 0);
	/* A family that exists: nlctrl itself, at its fixed id. */
	assert_ok(pcitsm_genl_sock_resolve(&s, "nlctrl", &id, &w));
	assert_int_equal(id, PCITSM_GENL_ID_CTRL);
	assert_true(w.done);
	/* The proposal's family is not in this kernel: nlctrl says ENOENT. */
	assert_err(pcitsm_genl_sock_resolve(&s, PCITSM_TSMNL_FAMILY, &id, &w), PCITSM_E_NOTFOUND);
	assert_int_equal(w.kerr, ENOENT);
	/* An evidence-read dump to a family without the command: the kernel's NLMSG_ERROR, real. */
	pcitsm_tsmnl_evidence_init(&ev, req.type_mask);
	assert_err(pcitsm_genl_sock_evidence(&s, PCITSM_GENL_ID_CTRL, &req, &ev, &w),
		   PCITSM_E_PEER_ERROR);
	assert_int_equal(w.kerr, EOPNOTSUPP);
	pcitsm_tsmnl_evidence_free(&ev);
	pcitsm_genl_sock_close(&s);

	/* The whole read, as the CLI calls it: the clean "no such family" words. */
	pcitsm_tsmnl_evidence_init(&ev, req.type_mask);
	assert_err(pcitsm_genl_evidence_read(&req, &ev, why, sizeof(why)), PCITSM_E_NOTFOUND);
	assert_non_null(
		strstr(why, "the kernel has no pci-tsm netlink family (ENOENT from nlctrl)"));
	pcitsm_tsmnl_evidence_free(&ev);
}

/* A real multi-part dump: every family nlctrl knows, ended by NLMSG_DONE. */
struct families {
	unsigned n;
	bool nlctrl;
};

static pcitsm_err count_family(void *ctx, const struct pcitsm_genl_msg *m)
{
	struct families *f = ctx;
	struct pcitsm_genl_attr a;
	struct pcitsm_rd r;

	assert_true(m->flags & PCITSM_NLM_F_MULTI);
	pcitsm_rd_init(&r, m->attrs, m->attrs_len);
	while (pcitsm_genl_attr_next(&r, &a))
		if (a.type == PCITSM_CTRL_ATTR_FAMILY_NAME && a.len == 7 &&
		    !memcmp(a.p, "nlctrl", 7))
			f->nlctrl = true;
	f->n++;
	return pcitsm_rd_err(&r);
}

static void test_real_dump(void **state)
{
	struct families fam = { 0 };
	struct pcitsm_genl_sock s;
	struct pcitsm_genl_walk w;
	uint8_t req[32];
	struct pcitsm_wr wr;
	size_t m;

	(void)state;
	if (!real_sock(&s)) {
		skip();
		return;
	}
	pcitsm_wr_init(&wr, req, sizeof(req));
	m = pcitsm_genl_begin(&wr, PCITSM_GENL_ID_CTRL, PCITSM_NLM_F_REQUEST | PCITSM_NLM_F_DUMP,
			      ++s.seq, s.portid, PCITSM_CTRL_CMD_GETFAMILY, PCITSM_CTRL_VERSION);
	pcitsm_genl_end(&wr, m);
	pcitsm_genl_walk_init(&w, s.seq, s.portid, PCITSM_GENL_ID_CTRL, count_family, &fam);
	assert_ok(pcitsm_genl_sock_exchange(&s, req, pcitsm_wr_len(&wr), &w));
	assert_true(w.done);
	assert_true(fam.nlctrl);
	assert_true(fam.n >= 1);
	assert_int_equal(w.nr_msgs, fam.n + 1); /* every family, then DONE */
	print_message("real dump: %u families, %u messages\n", fam.n, w.nr_msgs);
	pcitsm_genl_sock_close(&s);
}

/* ---------------------------------------------------------------------------------------------
 * The fuzz corpus: these builders' streams, byte for byte.
 */
struct seed {
	const char *name;
	void (*build)(struct stream *s);
};

static void seed_report(struct stream *s)
{
	uint8_t *p = pattern(120, 4);
	struct obj o = { PCITSM_TSMNL_REPORT, p, 120 };

	st_init(s, 4096, 1u << 10);
	st_dump(s, &o, 1, 1000, 2, 0);
	free(p);
}

static void seed_all(struct stream *s)
{
	uint8_t *p = pattern(300, 5);
	struct obj o[PCITSM_TSMNL_NR_TYPES];

	for (unsigned t = 0; t < PCITSM_TSMNL_NR_TYPES; t++)
		o[t] = (struct obj){ t, p, t == 3 || t == 5 ? 0 : 20 + 25 * t };
	st_init(s, 8192, PCITSM_TSMNL_TYPE_ALL);
	st_dump(s, o, PCITSM_TSMNL_NR_TYPES, 64, 4, 0);
	free(p);
}

static void seed_pieces(struct stream *s)
{
	uint8_t *p = pattern(900, 6);
	struct obj o[2] = { { PCITSM_TSMNL_MEASUREMENTS, p, 400 },
			    { PCITSM_TSMNL_REPORT, p, 900 } };

	st_init(s, 8192, 3u << 9);
	st_dump(s, o, 2, 128, 3, 0);
	free(p);
}

static void seed_enxio(struct stream *s)
{
	st_init(s, 256, 1u << 10);
	st_dump(s, NULL, 0, 1, 1, -ENXIO);
}

static void seed_eperm(struct stream *s)
{
	st_init(s, 256, 1u << 10);
	st_msg(s, 1);
	pcitsm_genl_put_error(&s->w, SEQ, PID, -EPERM, "admin only");
	st_close_dgram(s);
}

static const struct seed seeds[] = {
	{ "report", seed_report }, { "all_types", seed_all }, { "pieces", seed_pieces },
	{ "done_enxio", seed_enxio }, { "error_eperm", seed_eperm },
};

static void test_corpus(void **state)
{
	const char *out = getenv("PCITSM_WRITE_CORPUS");

	(void)state;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(seeds); i++) {
		char path[512];
		struct stream s;
		size_t len;
		uint8_t *file;

		seeds[i].build(&s);
		len = pcitsm_wr_len(&s.w);
		if (out) {
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s", out, seeds[i].name);
			f = fopen(path, "wb");
			assert_non_null(f);
			assert_int_equal(fwrite(s.buf, 1, len, f), len);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, seeds[i].name);
		file = test_read_file(path, &len);
		assert_non_null(file);
		assert_int_equal(len, pcitsm_wr_len(&s.w));
		assert_memory_equal(file, s.buf, len);
		free(file);
		free(s.buf);
	}
}

int main(void)
{
	return test_run(test_request, test_reassemble, test_bound, test_negative, test_ends,
			test_family_reply, test_real_resolve, test_real_dump, test_corpus);
}
