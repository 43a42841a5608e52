/* SPDX-License-Identifier: MIT */
/*
 * Netlink messages without I/O (genl.h): the encoders, the attribute reader and the walker that
 * checks every message of a received datagram before anything of it is used (Linux
 * include/uapi/linux/netlink.h: nlmsghdr, NLMSG_ERROR's nlmsgerr, NLMSG_DONE's int, extended
 * ack; genetlink.h: genlmsghdr, nlctrl).
 */
#include <string.h>

#include "pcitsm/genl.h"

#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)
#define NLA_LEN_MAX 0xffffu
#define KERR_MAX 4095 /* errno values are below 4096 (Linux MAX_ERRNO) */

/* Host-order integers (netlink is host byte order), through the bounded writer and reader. */
static void wr_u32h(struct pcitsm_wr *w, uint32_t v)
{
	uint8_t *p = pcitsm_wr_reserve(w, sizeof(v));

	if (p)
		memcpy(p, &v, sizeof(v));
}

static void wr_u16h(struct pcitsm_wr *w, uint16_t v)
{
	uint8_t *p = pcitsm_wr_reserve(w, sizeof(v));

	if (p)
		memcpy(p, &v, sizeof(v));
}

static uint32_t rd_u32h(struct pcitsm_rd *r)
{
	uint32_t v = 0;

	pcitsm_rd_copy(r, &v, sizeof(v));
	return v;
}

static uint16_t rd_u16h(struct pcitsm_rd *r)
{
	uint16_t v = 0;

	pcitsm_rd_copy(r, &v, sizeof(v));
	return v;
}

static size_t begin_nlmsg(struct pcitsm_wr *w, uint16_t type, uint16_t flags, uint32_t seq,
			  uint32_t portid)
{
	size_t start = pcitsm_wr_len(w);

	wr_u32h(w, 0); /* nlmsg_len, patched by pcitsm_genl_end */
	wr_u16h(w, type);
	wr_u16h(w, flags);
	wr_u32h(w, seq);
	wr_u32h(w, portid);
	return start;
}

size_t pcitsm_genl_begin(struct pcitsm_wr *w, uint16_t type, uint16_t flags, uint32_t seq,
			 uint32_t portid, uint8_t cmd, uint8_t version)
{
	size_t start = begin_nlmsg(w, type, flags, seq, portid);

	pcitsm_wr_u8(w, cmd);
	pcitsm_wr_u8(w, version);
	pcitsm_wr_zero(w, 2);
	return start;
}

void pcitsm_genl_put(struct pcitsm_wr *w, uint16_t type, const void *p, size_t n)
{
	if (n > NLA_LEN_MAX - PCITSM_NLA_HDRLEN) {
		pcitsm_wr_fail(w, PCITSM_E_INVAL);
		return;
	}
	wr_u16h(w, (uint16_t)(PCITSM_NLA_HDRLEN + n));
	wr_u16h(w, type);
	pcitsm_wr_bytes(w, p, n);
	pcitsm_wr_zero(w, ALIGN4(n) - n);
}

void pcitsm_genl_put_u32(struct pcitsm_wr *w, uint16_t type, uint32_t v)
{
	pcitsm_genl_put(w, type, &v, sizeof(v));
}

void pcitsm_genl_put_str(struct pcitsm_wr *w, uint16_t type, const char *s)
{
	pcitsm_genl_put(w, type, s, strlen(s) + 1);
}

void pcitsm_genl_end(struct pcitsm_wr *w, size_t start)
{
	uint32_t len = (uint32_t)(pcitsm_wr_len(w) - start);

	if (!pcitsm_wr_err(w))
		memcpy(w->p + start, &len, sizeof(len));
}

/* NLMSG_DONE and NLMSG_ERROR as the kernel builds them (net/netlink/af_netlink.c): the error
 * int, for NLMSG_ERROR the request's header (capped), then the extended-ack TLVs. */
static void put_end(struct pcitsm_wr *w, uint16_t type, uint32_t seq, uint32_t portid,
		    int32_t err, const char *ext)
{
	uint16_t flags = (uint16_t)(type == PCITSM_NLMSG_DONE ? PCITSM_NLM_F_MULTI
							      : PCITSM_NLM_F_CAPPED);
	size_t start;

	if (ext)
		flags |= PCITSM_NLM_F_ACK_TLVS;
	start = begin_nlmsg(w, type, flags, seq, portid);
	wr_u32h(w, (uint32_t)err);
	if (type == PCITSM_NLMSG_ERROR) {
		/* The request's header: only its length, type and sequence matter to a reader. */
		wr_u32h(w, PCITSM_NLMSG_HDRLEN);
		wr_u16h(w, 0);
		wr_u16h(w, PCITSM_NLM_F_REQUEST);
		wr_u32h(w, seq);
		wr_u32h(w, portid);
	}
	if (ext)
		pcitsm_genl_put_str(w, PCITSM_NLMSGERR_ATTR_MSG, ext);
	pcitsm_genl_end(w, start);
}

void pcitsm_genl_put_done(struct pcitsm_wr *w, uint32_t seq, uint32_t portid, int32_t err,
			  const char *ext)
{
	put_end(w, PCITSM_NLMSG_DONE, seq, portid, err, ext);
}

void pcitsm_genl_put_error(struct pcitsm_wr *w, uint32_t seq, uint32_t portid, int32_t err,
			   const char *ext)
{
	put_end(w, PCITSM_NLMSG_ERROR, seq, portid, err, ext);
}

pcitsm_err pcitsm_genl_getfamily_encode(struct pcitsm_wr *w, uint32_t seq, uint32_t portid,
					const char *name)
{
	size_t start;

	if (!name || !*name || strlen(name) >= PCITSM_GENL_NAMSIZ)
		return PCITSM_E_INVAL;
	start = pcitsm_genl_begin(w, PCITSM_GENL_ID_CTRL, PCITSM_NLM_F_REQUEST, seq, portid,
				  PCITSM_CTRL_CMD_GETFAMILY, PCITSM_CTRL_VERSION);
	pcitsm_genl_put_str(w, PCITSM_CTRL_ATTR_FAMILY_NAME, name);
	pcitsm_genl_end(w, start);
	return pcitsm_wr_err(w);
}

bool pcitsm_genl_attr_next(struct pcitsm_rd *r, struct pcitsm_genl_attr *a)
{
	size_t left = pcitsm_rd_left(r);
	uint16_t len;

	if (!left)
		return false;
	len = rd_u16h(r);
	a->type = rd_u16h(r) & PCITSM_NLA_TYPE_MASK;
	/* nla_len counts the header; it must fit what is left of the message. */
	if (len < PCITSM_NLA_HDRLEN) {
		pcitsm_rd_fail(r, PCITSM_E_FIELD);
		return false;
	}
	a->len = len - PCITSM_NLA_HDRLEN;
	a->p = pcitsm_rd_bytes(r, a->len);
	if (!a->p)
		return false;
	pcitsm_rd_skip(r, PCITSM_MIN(ALIGN4(a->len) - a->len, pcitsm_rd_left(r)));
	return !pcitsm_rd_err(r);
}

pcitsm_err pcitsm_genl_attr_u32(const struct pcitsm_genl_attr *a, uint32_t *v)
{
	if (a->len != sizeof(*v))
		return PCITSM_E_FIELD;
	memcpy(v, a->p, sizeof(*v));
	return PCITSM_OK;
}

void pcitsm_genl_walk_init(struct pcitsm_genl_walk *w, uint32_t seq, uint32_t portid,
			   uint16_t family, pcitsm_genl_msg_fn msg, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->seq = seq;
	w->portid = portid;
	w->family = family;
	w->msg = msg;
	w->ctx = ctx;
}

static pcitsm_err walk_fail(struct pcitsm_genl_walk *w, pcitsm_err e)
{
	if (!w->err)
		w->err = e;
	return w->err;
}

/* The extended-ack message (NLMSGERR_ATTR_MSG), printable characters only: it goes to a
 * terminal. A malformed TLV area is not an error of the exchange: it only loses the words. */
static void walk_extack(struct pcitsm_genl_walk *w, struct pcitsm_rd *r)
{
	struct pcitsm_genl_attr a;

	while (pcitsm_genl_attr_next(r, &a)) {
		size_t n = 0;

		if (a.type != PCITSM_NLMSGERR_ATTR_MSG || !a.len || a.p[a.len - 1])
			continue;
		for (; n + 1 < sizeof(w->ext) && n + 1 < a.len; n++)
			w->ext[n] = (char)(a.p[n] >= 0x20 && a.p[n] < 0x7f ? a.p[n] : '?');
		w->ext[n] = '\0';
	}
}

/* NLMSG_ERROR / NLMSG_DONE: the error int, then (ERROR) the echoed request, then extack. */
static pcitsm_err walk_end(struct pcitsm_genl_walk *w, uint16_t type, uint16_t flags,
			   struct pcitsm_rd *m)
{
	int32_t err = (int32_t)rd_u32h(m);

	if (type == PCITSM_NLMSG_ERROR) {
		struct pcitsm_rd orig = *m;
		uint32_t olen = rd_u32h(&orig);

		/* Capped: the request's header only; else the whole request. */
		pcitsm_rd_skip(m, (flags & PCITSM_NLM_F_CAPPED) || olen < PCITSM_NLMSG_HDRLEN
					  ? PCITSM_NLMSG_HDRLEN
					  : ALIGN4(olen));
	}
	if (pcitsm_rd_err(m))
		return walk_fail(w, PCITSM_E_SHORT);
	if (err > 0 || err < -KERR_MAX)
		return walk_fail(w, PCITSM_E_FIELD);
	if (flags & PCITSM_NLM_F_ACK_TLVS)
		walk_extack(w, m);
	w->done = true;
	if (err) {
		w->kerr = -err;
		return walk_fail(w, PCITSM_E_PEER_ERROR);
	}
	return PCITSM_OK;
}

static pcitsm_err walk_family(struct pcitsm_genl_walk *w, uint16_t flags, struct pcitsm_rd *m)
{
	struct pcitsm_genl_msg g = { .flags = flags };
	pcitsm_err e;

	g.cmd = pcitsm_rd_u8(m);
	g.version = pcitsm_rd_u8(m);
	pcitsm_rd_skip(m, 2);
	g.attrs = pcitsm_rd_rest(m, &g.attrs_len);
	if (pcitsm_rd_err(m))
		return walk_fail(w, PCITSM_E_SHORT);
	e = w->msg ? w->msg(w->ctx, &g) : PCITSM_E_UNEXPECTED;
	if (e)
		return walk_fail(w, e);
	/* A reply that is not part of a dump is the whole answer. */
	if (!(flags & PCITSM_NLM_F_MULTI))
		w->done = true;
	return PCITSM_OK;
}

/* One message at r's position: its header checked, its body handled, r moved past it. */
static pcitsm_err walk_one(struct pcitsm_genl_walk *w, struct pcitsm_rd *r)
{
	size_t left = pcitsm_rd_left(r);
	uint32_t len, seq, pid;
	uint16_t type, flags;
	struct pcitsm_rd m;

	if (left < PCITSM_NLMSG_HDRLEN)
		return walk_fail(w, PCITSM_E_SHORT);
	len = rd_u32h(r);
	type = rd_u16h(r);
	flags = rd_u16h(r);
	seq = rd_u32h(r);
	pid = rd_u32h(r);
	if (len < PCITSM_NLMSG_HDRLEN)
		return walk_fail(w, PCITSM_E_FIELD);
	if (len > left)
		return walk_fail(w, PCITSM_E_SHORT); /* a message cut short: truncated datagram */
	/* A reply belongs to this request: same sequence number, addressed to this port. */
	if (seq != w->seq)
		return walk_fail(w, PCITSM_E_REPLAY);
	if (pid != w->portid)
		return walk_fail(w, PCITSM_E_UNEXPECTED);
	m = pcitsm_rd_sub(r, len - PCITSM_NLMSG_HDRLEN);
	pcitsm_rd_skip(r, PCITSM_MIN(ALIGN4(len) - len, pcitsm_rd_left(r)));
	w->nr_msgs++;
	switch (type) {
	case PCITSM_NLMSG_NOOP:
		return PCITSM_OK;
	case PCITSM_NLMSG_ERROR:
	case PCITSM_NLMSG_DONE:
		return walk_end(w, type, flags, &m);
	case PCITSM_NLMSG_OVERRUN:
		return walk_fail(w, PCITSM_E_IO);
	default:
		if (type != w->family)
			return walk_fail(w, PCITSM_E_UNEXPECTED);
		return walk_family(w, flags, &m);
	}
}

pcitsm_err pcitsm_genl_walk_feed(struct pcitsm_genl_walk *w, const uint8_t *p, size_t n)
{
	struct pcitsm_rd r;

	if (w->err)
		return w->err;
	pcitsm_rd_init(&r, p, n);
	if (!n)
		return walk_fail(w, PCITSM_E_SHORT);
	while (pcitsm_rd_left(&r) && !w->err) {
		/* Nothing may follow the end of the exchange. */
		if (w->done)
			return walk_fail(w, PCITSM_E_LONG);
		walk_one(w, &r);
	}
	return w->err;
}

pcitsm_err pcitsm_genl_family_msg(void *ctx, const struct pcitsm_genl_msg *m)
{
	struct pcitsm_genl_family *f = ctx;
	bool has_id = false, has_name = false;
	struct pcitsm_genl_attr a;
	struct pcitsm_rd r;
	uint16_t id = 0;

	if (m->cmd != PCITSM_CTRL_CMD_NEWFAMILY)
		return PCITSM_E_UNEXPECTED;
	pcitsm_rd_init(&r, m->attrs, m->attrs_len);
	while (pcitsm_genl_attr_next(&r, &a)) {
		if (a.type == PCITSM_CTRL_ATTR_FAMILY_ID) {
			if (a.len != sizeof(id))
				return PCITSM_E_FIELD;
			memcpy(&id, a.p, sizeof(id));
			has_id = true;
		} else if (a.type == PCITSM_CTRL_ATTR_FAMILY_NAME) {
			/* The name asked for, NUL-terminated, nothing after it. */
			has_name = a.len == strlen(f->name) + 1 && !memcmp(a.p, f->name, a.len);
			if (!has_name)
				return PCITSM_E_MISMATCH;
		}
	}
	PCITSM_TRY(pcitsm_rd_err(&r));
	if (!has_id || !has_name || !id)
		return PCITSM_E_FIELD;
	f->id = id;
	f->found = true;
	return PCITSM_OK;
}
