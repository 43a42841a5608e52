/* SPDX-License-Identifier: MIT */
/*
 * TEST ONLY: a hostile wire for the campaigns (docs/security.md "Campaigns against our requester
 * and responders"). A wrapping transport: it takes over the ops of an existing struct pcitsm_xport
 * (the CMA mailbox the host relays the firmware's DOE objects through, so the path firmware -> host
 * relay -> DOE mailbox registers -> device stays the real one) and, on the exchanges a trial picks,
 * tampers with what crosses it:
 *  - as a hostile device (responses): bit flips, truncation, extension, a wrong message code, a
 *    wrong length field, an earlier response replayed, two responses swapped, a valid response of
 *    another exchange of a clean run (a valid message in the wrong state);
 *  - as a hostile host (both directions): the above, plus a flipped request, a dropped request, a
 *    dropped response, an earlier request replayed to the device, a clean run's request injected
 *    before the real one.
 * Every object crossing in either direction is also appended to a byte log, for the scan that
 * proves no key, session secret or nonce ever crossed the host in the clear.
 * Single-threaded: one instance at a time (it finds itself through a static pointer, because the
 * wrapped xport is embedded in a struct the test does not own).
 */
#ifndef PCITSM_TEST_CAMPAIGN_MUT_H
#define PCITSM_TEST_CAMPAIGN_MUT_H

#include <stdlib.h>
#include <string.h>

#include "pcitsm/transport.h"

#define MUT_MAX_XCHG 256 /* exchanges recorded per flow */
#define MUT_MAX_TARGETS 3

#define MUT_KINDS(X)                \
	X(FLIP, "flip")             \
	X(TRUNC, "truncate")        \
	X(EXTEND, "extend")         \
	X(CODE, "code")             \
	X(LENGTH, "length")         \
	X(REPLAY, "replay")         \
	X(REORDER, "reorder")       \
	X(STALE, "wrong-state")     \
	X(REQ_FLIP, "req-flip")     \
	X(DROP_REQ, "drop-req")     \
	X(DROP_RSP, "drop-rsp")     \
	X(REQ_REPLAY, "req-replay") \
	X(INJECT, "inject")
#define MUT_ENUM(n, s) MUT_##n,
enum mut_kind { MUT_KINDS(MUT_ENUM) MUT_NR };
#undef MUT_ENUM
#define MUT_NR_DEVICE (MUT_STALE + 1) /* the kinds a hostile device has */

static inline const char *mut_kind_name(enum mut_kind k)
{
#define MUT_NAME(n, s) s,
	static const char *const names[] = {MUT_KINDS(MUT_NAME)};
#undef MUT_NAME
	return k < MUT_NR ? names[k] : "?";
}

struct mut_obj {
	uint8_t type;
	uint8_t *b;
	size_t len;
};

struct mut_xport {
	struct pcitsm_xport *x; /* the wrapped transport */
	const struct pcitsm_xport_ops *inner;
	struct pcitsm_xport_ops ops;
	uint64_t rng;
	bool armed; /* tamper on the targets; off: pass through (and record) */
	unsigned n; /* exchanges this flow */
	unsigned targets[MUT_MAX_TARGETS], nr_targets;
	enum mut_kind kind[MUT_MAX_TARGETS];
	bool fired; /* a tampering happened this flow */
	struct mut_obj req[MUT_MAX_XCHG],
		rsp[MUT_MAX_XCHG]; /* this flow's, as the device saw them */
	struct mut_obj base_req[MUT_MAX_XCHG], base_rsp[MUT_MAX_XCHG]; /* a clean flow's */
	unsigned nr_base;
	struct mut_obj pending; /* REORDER: the response held back for the next exchange */
	uint8_t *log;		/* every object in both directions, for the scan */
	size_t log_len, log_cap;
};

static struct mut_xport *mut_g;

static inline uint64_t mut_rand(struct mut_xport *m)
{
	/* splitmix64: reproducible from the seed printed with a failure */
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void mut_obj_set(struct mut_obj *o, uint8_t type, const uint8_t *b, size_t len)
{
	free(o->b);
	o->b = malloc(len ? len : 1);
	if (!o->b)
		abort();
	memcpy(o->b, b, len);
	o->len = len;
	o->type = type;
}

static inline void mut_obj_free(struct mut_obj *o)
{
	free(o->b);
	memset(o, 0, sizeof(*o));
}

static inline void mut_log(struct mut_xport *m, const uint8_t *b, size_t len)
{
	if (m->log_len + len > m->log_cap) {
		m->log_cap = (m->log_len + len) * 2;
		m->log = realloc(m->log, m->log_cap);
		if (!m->log)
			abort();
	}
	memcpy(m->log + m->log_len, b, len);
	m->log_len += len;
}

/* One exchange with the device, recorded (and logged) as the device saw it. */
static inline pcitsm_err mut_forward(struct mut_xport *m, uint16_t vid, uint8_t type,
				     const uint8_t *req, size_t req_len, uint8_t *rsp,
				     size_t rsp_cap, size_t *rsp_len)
{
	pcitsm_err e;

	mut_log(m, req, req_len);
	e = m->inner->exchange(m->x, vid, type, req, req_len, rsp, rsp_cap, rsp_len);
	if (!e)
		mut_log(m, rsp, *rsp_len);
	return e;
}

static inline int mut_target(const struct mut_xport *m, unsigned i)
{
	if (!m->armed)
		return -1;
	for (unsigned t = 0; t < m->nr_targets; t++)
		if (m->targets[t] == i)
			return (int)t;
	return -1;
}

/* An earlier object of this flow of the same DOE type (or NULL). */
static inline const struct mut_obj *mut_earlier(struct mut_xport *m, const struct mut_obj *v,
						unsigned n, uint8_t type)
{
	unsigned tries = n ? 4 : 0;

	while (tries--) {
		const struct mut_obj *o = &v[mut_rand(m) % n];

		if (o->b && o->type == type)
			return o;
	}
	return NULL;
}

/* Tamper with a response of len bytes in rsp (cap rsp_cap) in place. */
static inline pcitsm_err mut_response(struct mut_xport *m, enum mut_kind k, uint8_t type,
				      uint8_t *rsp, size_t rsp_cap, size_t *len)
{
	const struct mut_obj *o;
	size_t n = *len, add;

	switch (k) {
	case MUT_FLIP:
		for (unsigned i = 1 + (unsigned)(mut_rand(m) % 3); n && i; i--)
			rsp[mut_rand(m) % n] ^= (uint8_t)(1u << (mut_rand(m) % 8));
		break;
	case MUT_TRUNC:
		*len = n ? (size_t)(mut_rand(m) % n) : 0;
		break;
	case MUT_EXTEND:
		add = 1 + (size_t)(mut_rand(m) % 64);
		if (n + add > rsp_cap) {
			*len = rsp_cap; /* as the transport reports a response too large */
			return PCITSM_E_TRUNCATED;
		}
		for (size_t i = 0; i < add; i++)
			rsp[n + i] = (uint8_t)mut_rand(m);
		*len = n + add;
		break;
	case MUT_CODE:
		/* SPDM / IDE_KM / TDISP codes sit in the first bytes of a CMA object; of a secured
		 * one, the first bytes are the Session ID (DSP0277): both are "which message". */
		if (n > 1)
			rsp[type == 1 ? 1 : mut_rand(m) % 4] = (uint8_t)mut_rand(m);
		break;
	case MUT_LENGTH:
		/* A 16-bit length: the secured record's Length (DSP0277: after the Session ID), or
		 * a little-endian field somewhere in the first 16 bytes of a plain message. */
		if (n >= 6) {
			size_t at =
				type == 2 ? 4 : 2 + (size_t)(mut_rand(m) % ((n < 16 ? n : 16) - 2));
			uint16_t v = (uint16_t)(rsp[at] | rsp[at + 1] << 8);

			v += (uint16_t)(mut_rand(m) % 2 ? 1 + mut_rand(m) % 16
							: -(1 + mut_rand(m) % 16));
			rsp[at] = (uint8_t)v;
			rsp[at + 1] = (uint8_t)(v >> 8);
		}
		break;
	case MUT_REPLAY:
		o = mut_earlier(m, m->rsp, m->n, type);
		goto copy;
	case MUT_STALE:
		o = mut_earlier(m, m->base_rsp, m->nr_base, type);
	copy:
		if (!o || o->len > rsp_cap)
			return PCITSM_E_NORESPONSE;
		memcpy(rsp, o->b, o->len);
		*len = o->len;
		break;
	default:
		break;
	}
	return PCITSM_OK;
}

static pcitsm_err mut_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
			       const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
			       size_t *rsp_len)
{
	struct mut_xport *m = mut_g;
	unsigned i = m->n;
	int t = mut_target(m, i);
	enum mut_kind k = t >= 0 ? m->kind[t] : MUT_NR;
	uint8_t *alt = NULL;
	const struct mut_obj *o;
	pcitsm_err e;

	(void)x;
	if (i < MUT_MAX_XCHG)
		m->n++;
	if (t >= 0)
		m->fired = true;
	switch (k) {
	case MUT_DROP_REQ:
		*rsp_len = 0;
		return PCITSM_E_TIMEOUT;
	case MUT_REQ_FLIP:
		alt = malloc(req_len ? req_len : 1);
		if (!alt)
			abort();
		memcpy(alt, req, req_len);
		for (unsigned b = 1 + (unsigned)(mut_rand(m) % 3); req_len && b; b--)
			alt[mut_rand(m) % req_len] ^= (uint8_t)(1u << (mut_rand(m) % 8));
		req = alt;
		break;
	case MUT_REQ_REPLAY:
		o = mut_earlier(m, m->req, i < MUT_MAX_XCHG ? i : MUT_MAX_XCHG, type);
		if (o) {
			req = o->b;
			req_len = o->len;
		}
		break;
	case MUT_INJECT:
		o = mut_earlier(m, m->base_req, m->nr_base, type);
		if (o) {
			uint8_t *junk = malloc(rsp_cap);
			size_t jl;

			if (!junk)
				abort();
			(void)mut_forward(m, vid, type, o->b, o->len, junk, rsp_cap, &jl);
			free(junk);
		}
		break;
	default:
		break;
	}
	e = mut_forward(m, vid, type, req, req_len, rsp, rsp_cap, rsp_len);
	if (i < MUT_MAX_XCHG) {
		mut_obj_set(&m->req[i], type, req, req_len);
		if (!e)
			mut_obj_set(&m->rsp[i], type, rsp, *rsp_len);
	}
	free(alt);
	if (e)
		return e;
	if (m->pending.b) { /* REORDER's second half: the held response arrives now */
		if (m->pending.len <= rsp_cap) {
			memcpy(rsp, m->pending.b, m->pending.len);
			*rsp_len = m->pending.len;
		}
		mut_obj_free(&m->pending);
	}
	if (k == MUT_DROP_RSP) {
		*rsp_len = 0;
		return PCITSM_E_TIMEOUT;
	}
	if (k == MUT_REORDER && i > 0 && m->rsp[i - 1].b && m->rsp[i - 1].len <= rsp_cap) {
		mut_obj_set(&m->pending, type, rsp, *rsp_len);
		memcpy(rsp, m->rsp[i - 1].b, m->rsp[i - 1].len);
		*rsp_len = m->rsp[i - 1].len;
		return PCITSM_OK;
	}
	if (k < MUT_NR_DEVICE)
		return mut_response(m, k, type, rsp, rsp_cap, rsp_len);
	return PCITSM_OK;
}

/* Take over x's exchanges. */
static inline void mut_install(struct mut_xport *m, struct pcitsm_xport *x, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->x = x;
	m->inner = x->ops;
	m->ops = *x->ops;
	m->ops.exchange = mut_exchange;
	m->rng = seed;
	x->ops = &m->ops;
	mut_g = m;
}

/* A new flow: this flow's records and the log emptied. */
static inline void mut_flow_reset(struct mut_xport *m)
{
	for (unsigned i = 0; i < MUT_MAX_XCHG; i++) {
		mut_obj_free(&m->req[i]);
		mut_obj_free(&m->rsp[i]);
	}
	mut_obj_free(&m->pending);
	m->n = 0;
	m->fired = false;
	m->log_len = 0;
}

/* The flow just run (unarmed) becomes the clean reference. */
static inline void mut_keep_base(struct mut_xport *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		mut_obj_set(&m->base_req[i], m->req[i].type, m->req[i].b, m->req[i].len);
		if (m->rsp[i].b)
			mut_obj_set(&m->base_rsp[i], m->rsp[i].type, m->rsp[i].b, m->rsp[i].len);
	}
	m->nr_base = m->n;
}

static inline void mut_remove(struct mut_xport *m)
{
	mut_flow_reset(m);
	for (unsigned i = 0; i < MUT_MAX_XCHG; i++) {
		mut_obj_free(&m->base_req[i]);
		mut_obj_free(&m->base_rsp[i]);
	}
	m->x->ops = m->inner;
	free(m->log);
	m->log = NULL;
	mut_g = NULL;
}

#endif /* PCITSM_TEST_CAMPAIGN_MUT_H */
