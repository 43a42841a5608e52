/* SPDX-License-Identifier: MIT */
/*
 * The generic netlink driver (genl.h): a raw AF_NETLINK socket of protocol NETLINK_GENERIC that
 * sends one request and hands every datagram of the answer to the walker (msg.c). Only datagrams
 * from the kernel (port 0) count; a datagram larger than the buffer is measured first
 * (MSG_PEEK | MSG_TRUNC) and the buffer grown, so nothing is cut silently.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pcitsm/genl.h"

#define BUF_INITIAL (32u << 10) /* the kernel's dump skbs are at most about 32 KiB */
#define TIMEOUT_MS 5000
#define EAGAIN_TRIES 3          /* the evidence changed during the read: read it again */

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

pcitsm_err pcitsm_genl_sock_open(struct pcitsm_genl_sock *s, int *sys_errno)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(sa);
	int one = 1, e;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0) {
		e = errno;
		if (sys_errno)
			*sys_errno = e;
		return e == EAFNOSUPPORT || e == EPROTONOSUPPORT ? PCITSM_E_UNSUPPORTED
								  : PCITSM_E_SYSTEM;
	}
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &sl) != 0 || sa.nl_family != AF_NETLINK)
		goto fail;
	/* The kernel's words on errors, and no echo of our request in them: both optional. */
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = sa.nl_pid;
	s->seq = (uint32_t)time(NULL);
	s->timeout_ms = TIMEOUT_MS;
	s->cap = BUF_INITIAL;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		close(s->fd);
		s->fd = -1;
		return PCITSM_E_NOMEM;
	}
	return PCITSM_OK;
fail:
	e = errno;
	if (sys_errno)
		*sys_errno = e;
	close(s->fd);
	s->fd = -1;
	return PCITSM_E_SYSTEM;
}

void pcitsm_genl_sock_close(struct pcitsm_genl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

/* The size of the next datagram, waiting at most the timeout: > 0, or a pcitsm_err negated. */
static long next_size(struct pcitsm_genl_sock *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	ssize_t n;
	int k;

	do
		k = poll(&pfd, 1, s->timeout_ms);
	while (k < 0 && errno == EINTR);
	if (k == 0)
		return -(long)PCITSM_E_TIMEOUT;
	if (k < 0)
		return -(long)PCITSM_E_SYSTEM;
	do
		n = recv(s->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		/* ENOBUFS: the socket overflowed and the kernel dropped replies. */
		return -(long)(errno == ENOBUFS ? PCITSM_E_IO : PCITSM_E_SYSTEM);
	return n ? (long)n : -(long)PCITSM_E_SHORT;
}

/* Receive one datagram into s->buf: its length, from the kernel only. */
static pcitsm_err recv_one(struct pcitsm_genl_sock *s, size_t *len, bool *from_kernel)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1 };
	long want = next_size(s);
	ssize_t n;

	if (want < 0)
		return (pcitsm_err)-want;
	if ((size_t)want > s->cap) {
		uint8_t *p;

		if ((size_t)want > PCITSM_GENL_DGRAM_MAX) {
			/* Take it off the queue; it cannot be read whole. */
			if (recv(s->fd, s->buf, 1, MSG_TRUNC) < 0)
				return PCITSM_E_SYSTEM;
			return PCITSM_E_TRUNCATED;
		}
		p = realloc(s->buf, (size_t)want);
		if (!p)
			return PCITSM_E_NOMEM;
		s->buf = p;
		s->cap = (size_t)want;
	}
	iov = (struct iovec){ s->buf, s->cap };
	do
		n = recvmsg(s->fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ENOBUFS ? PCITSM_E_IO : PCITSM_E_SYSTEM;
	if (mh.msg_flags & MSG_TRUNC)
		return PCITSM_E_TRUNCATED;
	*from_kernel = mh.msg_namelen >= sizeof(from) && from.nl_family == AF_NETLINK &&
		       from.nl_pid == 0;
	*len = (size_t)n;
	return PCITSM_OK;
}

pcitsm_err pcitsm_genl_sock_exchange(struct pcitsm_genl_sock *s, const uint8_t *req, size_t len,
				     struct pcitsm_genl_walk *w)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t k;

	do
		k = sendto(s->fd, req, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (k < 0 && errno == EINTR);
	if (k < 0 || (size_t)k != len)
		return PCITSM_E_SYSTEM;
	while (!w->done && !w->err) {
		bool from_kernel = false;
		size_t n = 0;
		pcitsm_err e = recv_one(s, &n, &from_kernel);

		if (e)
			return e;
		if (!from_kernel) {
			s->foreign++;
			continue;
		}
		e = pcitsm_genl_walk_feed(w, s->buf, n);
		if (e)
			return e;
	}
	return w->err;
}

pcitsm_err pcitsm_genl_sock_resolve(struct pcitsm_genl_sock *s, const char *name, uint16_t *id,
				    struct pcitsm_genl_walk *w)
{
	struct pcitsm_genl_family f = { .name = name };
	uint8_t req[64];
	struct pcitsm_wr wr;
	pcitsm_err e;

	pcitsm_wr_init(&wr, req, sizeof(req));
	PCITSM_TRY(pcitsm_genl_getfamily_encode(&wr, ++s->seq, s->portid, name));
	pcitsm_genl_walk_init(w, s->seq, s->portid, PCITSM_GENL_ID_CTRL, pcitsm_genl_family_msg,
			      &f);
	e = pcitsm_genl_sock_exchange(s, req, pcitsm_wr_len(&wr), w);
	if (e == PCITSM_E_PEER_ERROR && w->kerr == ENOENT)
		return PCITSM_E_NOTFOUND;
	if (e)
		return e;
	if (!f.found)
		return PCITSM_E_NOTFOUND;
	*id = f.id;
	return PCITSM_OK;
}

pcitsm_err pcitsm_genl_sock_evidence(struct pcitsm_genl_sock *s, uint16_t family,
				     const struct pcitsm_tsmnl_req *req,
				     struct pcitsm_tsmnl_evidence *ev, struct pcitsm_genl_walk *w)
{
	uint8_t buf[PCITSM_NLMSG_HDRLEN + PCITSM_GENL_HDRLEN + 3 * 8 + PCITSM_NLA_HDRLEN +
		    PCITSM_TSMNL_DEV_NAME_MAX + PCITSM_NLA_HDRLEN + PCITSM_TSMNL_NONCE_MAX];
	struct pcitsm_wr wr;

	pcitsm_wr_init(&wr, buf, sizeof(buf));
	PCITSM_TRY(pcitsm_tsmnl_evidence_encode(&wr, family, ++s->seq, s->portid, req));
	pcitsm_genl_walk_init(w, s->seq, s->portid, family, pcitsm_tsmnl_evidence_msg, ev);
	PCITSM_TRY(pcitsm_genl_sock_exchange(s, buf, pcitsm_wr_len(&wr), w));
	return pcitsm_tsmnl_evidence_complete(ev);
}

/* What the kernel's errno means for an evidence-read (the proposal's pre and dumpit paths). */
static const char *kerr_meaning(int kerr, bool nonce)
{
	switch (kerr) {
	case EPERM:
	case EACCES:
		return "evidence-read is admin-only: it needs CAP_NET_ADMIN (root)";
	case ENODEV:
		return "the kernel knows no PCI device of that name";
	case ENXIO:
		return "the kernel has no TSM context or no evidence for the device (connect it, "
		       "and lock it for an interface report)";
	case EAGAIN:
		return "the evidence changed during every read";
	case EOPNOTSUPP:
		return nonce ? "the TSM cannot refresh the evidence with a nonce"
			     : "the kernel's pci-tsm family has no evidence-read";
	case EINVAL:
		return "the kernel refused the request";
	default:
		return NULL;
	}
}

static void say_walk(char *why, size_t len, const char *what, pcitsm_err e,
		     const struct pcitsm_genl_walk *w, bool nonce)
{
	const char *m = kerr_meaning(w->kerr, nonce);

	if (e == PCITSM_E_PEER_ERROR)
		pcitsm_why(why, len, "%s: the kernel answered %s (errno %d)%s%s%s%s", what,
			   strerror(w->kerr), w->kerr, m ? ": " : "", m ? m : "",
			   w->ext[0] ? "; kernel says: " : "", w->ext);
	else if (e == PCITSM_E_SYSTEM)
		pcitsm_why(why, len, "%s: %s", what, strerror(errno));
	else
		pcitsm_why(why, len, "%s: the reply was refused: %s (%s)", what,
			   pcitsm_err_str(e), pcitsm_err_name(e));
}

static pcitsm_err read_once(struct pcitsm_genl_sock *s, uint16_t family,
			    const struct pcitsm_tsmnl_req *req, struct pcitsm_tsmnl_evidence *ev,
			    char *why, size_t why_len)
{
	struct pcitsm_genl_walk w = { 0 };
	pcitsm_err e = pcitsm_genl_sock_evidence(s, family, req, ev, &w);

	if (e == PCITSM_E_SHORT && w.done && !w.err) {
		for (unsigned t = 0; t < PCITSM_TSMNL_NR_TYPES; t++)
			if ((ev->mask & ~ev->present) & PCITSM_TSMNL_TYPE_BIT(t)) {
				pcitsm_why(why, why_len, "evidence-read of %s: the dump ended "
					   "without the %s object", req->dev_name,
					   pcitsm_tsmnl_type_name(t));
				break;
			}
	} else if (e) {
		char what[80];

		snprintf(what, sizeof(what), "evidence-read of %s", req->dev_name);
		say_walk(why, why_len, what, e, &w, req->nonce_len != 0);
		if (e == PCITSM_E_PEER_ERROR && w.kerr == EAGAIN)
			return PCITSM_E_BUSY;
	}
	return e;
}

pcitsm_err pcitsm_genl_evidence_read(const struct pcitsm_tsmnl_req *req,
				     struct pcitsm_tsmnl_evidence *ev, char *why, size_t why_len)
{
	struct pcitsm_genl_sock s;
	struct pcitsm_genl_walk w = { 0 };
	uint16_t family = 0;
	int serr = 0;
	pcitsm_err e = pcitsm_genl_sock_open(&s, &serr);

	if (e) {
		pcitsm_why(why, why_len, "no generic netlink socket: %s", strerror(serr));
		return e;
	}
	e = pcitsm_genl_sock_resolve(&s, PCITSM_TSMNL_FAMILY, &family, &w);
	if (e == PCITSM_E_NOTFOUND)
		pcitsm_why(why, why_len,
			   "the kernel has no %s netlink family (ENOENT from nlctrl): TDISP "
			   "evidence over netlink needs the proposed devsec PCI/TSM support, which "
			   "Linux 6.19 does not have", PCITSM_TSMNL_FAMILY);
	else if (e)
		say_walk(why, why_len, "resolving the " PCITSM_TSMNL_FAMILY " family", e, &w,
			 false);
	for (unsigned i = 0; !e && i < EAGAIN_TRIES; i++) {
		size_t limit = ev->limit;

		pcitsm_tsmnl_evidence_free(ev);
		pcitsm_tsmnl_evidence_init(ev, req->type_mask);
		ev->limit = limit;
		e = read_once(&s, family, req, ev, why, why_len);
		if (e != PCITSM_E_BUSY)
			break;
		if (i + 1 < EAGAIN_TRIES)
			e = PCITSM_OK;
	}
	pcitsm_genl_sock_close(&s);
	return e;
}
