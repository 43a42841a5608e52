/* SPDX-License-Identifier: MIT */
/*
 * The DMTF spdm-emu "platform port" protocol over TCP (docs/transports.md): the frame codec,
 * the server's protocol step, the server's socket loop and the client transport.
 *
 * Frame: command u32 BE | transport u32 BE | payload_size u32 BE | payload. One request, one reply,
 * no sequence number. Each frame leaves in one send() on a TCP_NODELAY socket (docs/transports.md:
 * Nagle plus delayed ACK otherwise costs ~40 ms a frame). The choices this file makes where the
 * protocol leaves room are listed in docs/transports.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pcitsm/doe.h"
#include "pcitsm/transport.h"

_Static_assert(PCITSM_SPDMEMU_MAX_PAYLOAD == PCITSM_DOE_MAX_BYTES,
	       "an spdm-emu frame carries one whole DOE object");

#define FRAME_MAX (PCITSM_SPDMEMU_FRAME_HDR_LEN + PCITSM_SPDMEMU_MAX_PAYLOAD)

/* docs/transports.md: TEST payloads. The content is not checked by either end. */
static const char client_hello[] = "Client Hello!"; /* sent with its NUL: 14 bytes */
static const char server_hello[] = "Server Hello!";

/* ---------------------------------------------------------------------------------------------
 * Frame codec.
 */
pcitsm_err pcitsm_spdmemu_hdr_parse(const uint8_t *buf, size_t len, size_t max_payload,
				    struct pcitsm_spdmemu_frame_hdr *h)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, buf, len);
	h->command = pcitsm_rd_be32(&r);
	h->transport = pcitsm_rd_be32(&r);
	h->payload_size = pcitsm_rd_be32(&r);
	/* The payload is at most one whole DOE object (PCIe 6.x §6.30.1): refuse before reading
	 * it. */
	pcitsm_rd_check(&r, h->payload_size <= max_payload, PCITSM_E_RANGE);
	return pcitsm_rd_finish(&r);
}

pcitsm_err pcitsm_spdmemu_frame_parse(const uint8_t *buf, size_t len, size_t max_payload,
				      struct pcitsm_spdmemu_frame_hdr *h, const uint8_t **payload)
{
	struct pcitsm_rd r;
	const uint8_t *hdr;

	pcitsm_rd_init(&r, buf, len);
	hdr = pcitsm_rd_bytes(&r, PCITSM_SPDMEMU_FRAME_HDR_LEN);
	if (!hdr)
		return pcitsm_rd_err(&r);
	PCITSM_TRY(pcitsm_spdmemu_hdr_parse(hdr, PCITSM_SPDMEMU_FRAME_HDR_LEN, max_payload, h));
	*payload = pcitsm_rd_bytes(&r, h->payload_size);
	return pcitsm_rd_finish(&r);
}

pcitsm_err pcitsm_spdmemu_frame_build(struct pcitsm_wr *w, uint32_t command, uint32_t transport,
				      const void *payload, size_t len)
{
	if (len > PCITSM_SPDMEMU_MAX_PAYLOAD)
		return PCITSM_E_INVAL;
	pcitsm_wr_be32(w, command);
	pcitsm_wr_be32(w, transport);
	pcitsm_wr_be32(w, (uint32_t)len);
	pcitsm_wr_bytes(w, payload, len);
	return pcitsm_wr_err(w);
}

/* ---------------------------------------------------------------------------------------------
 * Socket helpers. Every send uses MSG_NOSIGNAL: a peer that went away is E_CLOSED, not SIGPIPE.
 */
static pcitsm_err send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return PCITSM_E_TIMEOUT;
		if (k < 0 && (errno == EPIPE || errno == ECONNRESET))
			return PCITSM_E_CLOSED;
		if (k <= 0)
			return PCITSM_E_IO;
		p += k;
		n -= (size_t)k;
	}
	return PCITSM_OK;
}

static void set_nodelay(int fd)
{
	int one = 1;

	/* A failure only costs latency (docs/transports.md); the socket stays usable. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---------------------------------------------------------------------------------------------
 * Server: the protocol step (no I/O).
 */
/* Account for n bytes a callee wrote in place at the writer's end. */
static pcitsm_err wr_commit(struct pcitsm_wr *w, size_t n)
{
	if (w->err == PCITSM_OK && n > w->cap - w->off)
		pcitsm_wr_fail(w, PCITSM_E_NOSPC);
	if (w->err == PCITSM_OK)
		w->off += n;
	return w->err;
}

static pcitsm_err reply_empty(struct pcitsm_wr *out, uint32_t command, uint32_t transport)
{
	return pcitsm_spdmemu_frame_build(out, command, transport, NULL, 0);
}

static void tap_object(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj,
		       size_t len)
{
	if (tap && len)
		tap->object(tap, from_device, obj, len);
}

/* Dispatch one whole DOE object into the reply area of out (after a reserved frame header).
 * *rsp_len is 0 when the device discarded the object (PCIe 6.x §6.30.1: no response). */
static pcitsm_err dispatch_into(struct pcitsm_spdmemu_server *s, const uint8_t *obj, size_t len,
				struct pcitsm_wr *out, uint8_t **rsp, size_t *rsp_len)
{
	size_t cap = out->cap - out->off;
	pcitsm_err e;

	tap_object(s->tap, false, obj, len);
	*rsp = out->p + out->off;
	*rsp_len = 0;
	e = pcitsm_doe_dev_dispatch(s->dev, obj, len, *rsp,
				    PCITSM_MIN(cap, PCITSM_SPDMEMU_MAX_PAYLOAD), rsp_len);
	if (e != PCITSM_OK) {
		/* A device answers nothing to an object it cannot take (PCIe 6.x §6.30.1). */
		pcitsm_debug(s->env, "emu server: object discarded: %s", pcitsm_err_name(e));
		*rsp_len = 0;
		return PCITSM_OK;
	}
	tap_object(s->tap, true, *rsp, *rsp_len);
	return PCITSM_OK;
}

/* NORMAL over PCI_DOE: the payload is one whole DOE object, and so is the reply. The response is
 * written in place after the reserved header, whose size field is patched at the end. */
static pcitsm_err serve_doe(struct pcitsm_spdmemu_server *s,
			    const struct pcitsm_spdmemu_frame_hdr *h, const uint8_t *payload,
			    struct pcitsm_wr *out)
{
	size_t hdr_off = pcitsm_wr_len(out);
	uint8_t *rsp;
	size_t rsp_len;

	PCITSM_TRY(reply_empty(out, PCITSM_SPDMEMU_CMD_NORMAL, h->transport));
	PCITSM_TRY(dispatch_into(s, payload, h->payload_size, out, &rsp, &rsp_len));
	PCITSM_TRY(wr_commit(out, rsp_len));
	pcitsm_wr_patch_be32(out, hdr_off + 8, (uint32_t)rsp_len);
	return pcitsm_wr_err(out);
}

/* NORMAL over NONE: the payload is a bare SPDM message. Wrap it as a CMA object (PCIe 6.x §6.31)
 * for the device, and send back the response object's payload (its DW padding included: the DOE
 * layer does not know the SPDM length, docs/transports.md). */
static pcitsm_err serve_bare(struct pcitsm_spdmemu_server *s,
			     const struct pcitsm_spdmemu_frame_hdr *h, const uint8_t *payload,
			     struct pcitsm_wr *out)
{
	size_t hdr_off = pcitsm_wr_len(out);
	struct pcitsm_doe_hdr dh;
	struct pcitsm_wr w;
	const uint8_t *body;
	size_t body_len = 0;
	uint8_t *rsp;
	size_t rsp_len;

	PCITSM_TRY(reply_empty(out, PCITSM_SPDMEMU_CMD_NORMAL, h->transport));
	pcitsm_wr_init(&w, s->wrap, PCITSM_SPDMEMU_MAX_PAYLOAD);
	if (pcitsm_doe_obj_build(&w, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA, payload,
				 h->payload_size) != PCITSM_OK)
		return PCITSM_OK; /* too large to wrap: discarded, empty reply */
	PCITSM_TRY(dispatch_into(s, s->wrap, pcitsm_wr_len(&w), out, &rsp, &rsp_len));
	if (rsp_len && pcitsm_doe_obj_parse(rsp, rsp_len, &dh, &body, &body_len) == PCITSM_OK) {
		memmove(rsp, body, body_len);
		PCITSM_TRY(wr_commit(out, body_len));
	} else {
		body_len = 0;
	}
	pcitsm_wr_patch_be32(out, hdr_off + 8, (uint32_t)body_len);
	return pcitsm_wr_err(out);
}

/* DECAP_TDISP (docs/transports.md): the payload is a bare TDISP request, the reply NORMAL with the
 * bare TDISP response; a request the device does not answer is UNKNOWN, as from a server without
 * the command. */
static pcitsm_err serve_decap_tdisp(struct pcitsm_spdmemu_server *s,
				   const struct pcitsm_spdmemu_frame_hdr *h, const uint8_t *payload,
				   struct pcitsm_wr *out)
{
	uint8_t rsp[256];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, rsp, sizeof(rsp));
	if (s->decap_tdisp(s->decap_arg, payload, h->payload_size, &w) != PCITSM_OK ||
	    pcitsm_wr_err(&w) != PCITSM_OK)
		return reply_empty(out, PCITSM_SPDMEMU_CMD_UNKNOWN, h->transport);
	return pcitsm_spdmemu_frame_build(out, PCITSM_SPDMEMU_CMD_NORMAL, h->transport, rsp,
					  pcitsm_wr_len(&w));
}

pcitsm_err pcitsm_spdmemu_serve_frame(struct pcitsm_spdmemu_server *s,
				      const struct pcitsm_spdmemu_frame_hdr *h,
				      const uint8_t *payload, struct pcitsm_wr *out,
				      enum pcitsm_spdmemu_action *act)
{
	*act = PCITSM_SPDMEMU_ACT_REPLY;
	switch (h->command) {
	case PCITSM_SPDMEMU_CMD_TEST:
		/* docs/transports.md: the first frame of a connection; answered whenever it
		 * comes. */
		return pcitsm_spdmemu_frame_build(out, PCITSM_SPDMEMU_CMD_TEST, h->transport,
						  server_hello, sizeof(server_hello));
	case PCITSM_SPDMEMU_CMD_NORMAL:
		if (h->transport == PCITSM_SPDMEMU_TRANSPORT_PCI_DOE)
			return serve_doe(s, h, payload, out);
		if (h->transport == PCITSM_SPDMEMU_TRANSPORT_NONE)
			return serve_bare(s, h, payload, out);
		break; /* MCTP, TCP and unknown transports: not served here */
	case PCITSM_SPDMEMU_CMD_DECAP_TDISP:
		if (s->decap_tdisp)
			return serve_decap_tdisp(s, h, payload, out);
		break;
	case PCITSM_SPDMEMU_CMD_CONTINUE:
		*act = PCITSM_SPDMEMU_ACT_CONTINUE;
		return reply_empty(out, h->command, h->transport);
	case PCITSM_SPDMEMU_CMD_SHUTDOWN:
		*act = PCITSM_SPDMEMU_ACT_SHUTDOWN;
		return reply_empty(out, h->command, h->transport);
	default:
		break; /* includes the out-of-band 0x8001 / 0x8002 requests (docs/transports.md) */
	}
	return reply_empty(out, PCITSM_SPDMEMU_CMD_UNKNOWN, h->transport);
}

/* ---------------------------------------------------------------------------------------------
 * Server: sockets.
 */
pcitsm_err pcitsm_spdmemu_server_init(struct pcitsm_spdmemu_server *s, struct pcitsm_doe_dev *dev,
				      const struct pcitsm_env *env)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->env = env;
	s->lfd = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return PCITSM_E_SYSTEM;
	s->in = malloc(FRAME_MAX);
	s->out = malloc(FRAME_MAX);
	s->wrap = malloc(PCITSM_SPDMEMU_MAX_PAYLOAD);
	if (!s->in || !s->out || !s->wrap) {
		pcitsm_spdmemu_server_close(s);
		return PCITSM_E_NOMEM;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdmemu_server_listen(struct pcitsm_spdmemu_server *s, const char *host,
					const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1;

	if (s->lfd >= 0)
		return PCITSM_E_STATE;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return PCITSM_E_NOTFOUND;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0) {
			s->lfd = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (s->lfd < 0)
		return PCITSM_E_SYSTEM;
	/* getsockname filled ss when it returned 0, which clang-analyzer does not model */
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
		/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage,clang-analyzer-core.Undef*) */
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	return PCITSM_OK;
}

/* Wait until fd is readable (true) or a stop was requested (false). */
static bool wait_readable(struct pcitsm_spdmemu_server *s, int fd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = s->stop_pipe[0], .events = POLLIN } };
		int r = poll(p, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || p[1].revents)
			return false;
		if (p[0].revents)
			return true;
	}
}

/* Read exactly n bytes. E_CLOSED on EOF (*got says how far it came), E_DEAD on a stop request. */
static pcitsm_err server_recv(struct pcitsm_spdmemu_server *s, int fd, uint8_t *p, size_t n,
			      size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t k;

		if (!wait_readable(s, fd))
			return PCITSM_E_DEAD;
		k = recv(fd, p + *got, n - *got, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return PCITSM_E_CLOSED;
		if (k < 0)
			return PCITSM_E_IO;
		*got += (size_t)k;
	}
	return PCITSM_OK;
}

/* Read one frame into s->in. A clean EOF between frames is E_CLOSED with *clean set. */
static pcitsm_err server_read_frame(struct pcitsm_spdmemu_server *s, int fd,
				    struct pcitsm_spdmemu_frame_hdr *h, bool *clean)
{
	size_t got;
	pcitsm_err e;

	*clean = false;
	e = server_recv(s, fd, s->in, PCITSM_SPDMEMU_FRAME_HDR_LEN, &got);
	if (e == PCITSM_E_CLOSED && got == 0)
		*clean = true;
	PCITSM_TRY(e);
	PCITSM_TRY(pcitsm_spdmemu_hdr_parse(s->in, PCITSM_SPDMEMU_FRAME_HDR_LEN,
					    PCITSM_SPDMEMU_MAX_PAYLOAD, h));
	return server_recv(s, fd, s->in + PCITSM_SPDMEMU_FRAME_HDR_LEN, h->payload_size, &got);
}

/* Serve one connection until the peer closes it, a malformed frame, CONTINUE or SHUTDOWN. A stop
 * request reads as SHUTDOWN, with *stopped set. */
static enum pcitsm_spdmemu_action serve_conn(struct pcitsm_spdmemu_server *s, int fd,
					     bool *stopped)
{
	*stopped = false;
	for (;;) {
		struct pcitsm_spdmemu_frame_hdr h;
		enum pcitsm_spdmemu_action act;
		struct pcitsm_wr out;
		bool clean;
		pcitsm_err e;

		e = server_read_frame(s, fd, &h, &clean);
		if (e == PCITSM_E_DEAD) {
			*stopped = true;
			return PCITSM_SPDMEMU_ACT_SHUTDOWN;
		}
		if (e != PCITSM_OK) {
			if (!clean) {
				s->bad_frames++;
				pcitsm_info(s->env, "emu server: connection dropped: %s",
					    pcitsm_err_name(e));
			}
			return PCITSM_SPDMEMU_ACT_CONTINUE;
		}
		pcitsm_wr_init(&out, s->out, FRAME_MAX);
		e = pcitsm_spdmemu_serve_frame(s, &h, s->in + PCITSM_SPDMEMU_FRAME_HDR_LEN, &out,
					       &act);
		if (e == PCITSM_OK)
			e = send_all(fd, s->out, pcitsm_wr_len(&out));
		if (e != PCITSM_OK) {
			pcitsm_info(s->env, "emu server: reply failed: %s", pcitsm_err_name(e));
			return PCITSM_SPDMEMU_ACT_CONTINUE;
		}
		s->frames++;
		if (act != PCITSM_SPDMEMU_ACT_REPLY)
			return act;
	}
}

pcitsm_err pcitsm_spdmemu_server_run(struct pcitsm_spdmemu_server *s)
{
	if (s->lfd < 0)
		return PCITSM_E_STATE;
	for (;;) {
		enum pcitsm_spdmemu_action act;
		bool stopped;
		int fd;

		if (!wait_readable(s, s->lfd))
			return PCITSM_OK; /* stop requested */
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN))
			continue;
		if (fd < 0)
			return PCITSM_E_SYSTEM;
		set_nodelay(fd);
		s->connections++;
		/* One connection at a time, like spdm-emu; device state carries over (CONTINUE, and
		 * SHUTDOWN when the server outlives its clients). A stop request always stops. */
		act = serve_conn(s, fd, &stopped);
		close(fd);
		if (stopped)
			return PCITSM_OK;
		if (act == PCITSM_SPDMEMU_ACT_SHUTDOWN) {
			s->shutdowns++;
			if (!s->serve_after_shutdown)
				return PCITSM_OK;
		}
	}
}

void pcitsm_spdmemu_server_stop(struct pcitsm_spdmemu_server *s)
{
	/* The byte stays in the pipe, so every later wait sees the request too. A full pipe means a
	 * stop is already pending. write() is async-signal-safe. */
	if (write(s->stop_pipe[1], "s", 1) < 0)
		return;
}

void pcitsm_spdmemu_server_close(struct pcitsm_spdmemu_server *s)
{
	if (s->lfd >= 0)
		close(s->lfd);
	for (int i = 0; i < 2; i++)
		if (s->stop_pipe[i] >= 0)
			close(s->stop_pipe[i]);
	free(s->in);
	free(s->out);
	free(s->wrap);
	s->in = s->out = s->wrap = NULL;
	s->lfd = s->stop_pipe[0] = s->stop_pipe[1] = -1;
}

/* ---------------------------------------------------------------------------------------------
 * Client transport.
 */
static struct pcitsm_xport_tcp *to_tcp(struct pcitsm_xport *x)
{
	return pcitsm_container_of(x, struct pcitsm_xport_tcp, x);
}

/* Read exactly n bytes before the deadline (env clock). poll() is only the way to wait: when it
 * times out, the time the env clock allowed has passed. */
static pcitsm_err client_recv(struct pcitsm_xport_tcp *t, uint8_t *p, size_t n, uint64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
		uint64_t now = pcitsm_now_ns(t->env);
		uint64_t ms;
		ssize_t k;
		int r;

		if (now >= deadline)
			return PCITSM_E_TIMEOUT;
		ms = (deadline - now + 999999u) / 1000000u;
		r = poll(&pfd, 1, (int)PCITSM_MIN(ms, (uint64_t)1 << 30));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return PCITSM_E_IO;
		if (r == 0)
			return PCITSM_E_TIMEOUT;
		k = recv(t->fd, p + got, n - got, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return PCITSM_E_CLOSED;
		if (k < 0)
			return PCITSM_E_IO;
		got += (size_t)k;
	}
	return PCITSM_OK;
}

/* Receive one frame into t->buf. Any failure leaves the byte stream out of step: the connection
 * is marked broken. */
static pcitsm_err client_read_frame(struct pcitsm_xport_tcp *t, struct pcitsm_spdmemu_frame_hdr *h)
{
	uint64_t deadline = pcitsm_now_ns(t->env) + t->opts.timeout_ns;
	pcitsm_err e;

	e = client_recv(t, t->buf, PCITSM_SPDMEMU_FRAME_HDR_LEN, deadline);
	if (e == PCITSM_OK)
		e = pcitsm_spdmemu_hdr_parse(t->buf, PCITSM_SPDMEMU_FRAME_HDR_LEN,
					     PCITSM_SPDMEMU_MAX_PAYLOAD, h);
	if (e == PCITSM_OK)
		e = client_recv(t, t->buf + PCITSM_SPDMEMU_FRAME_HDR_LEN, h->payload_size,
				deadline);
	if (e != PCITSM_OK)
		t->broken = true;
	return e;
}

/* Send the frame held in t->buf[0, len) with one send(). */
static pcitsm_err client_send(struct pcitsm_xport_tcp *t, size_t len)
{
	pcitsm_err e = send_all(t->fd, t->buf, len);

	if (e != PCITSM_OK)
		t->broken = true;
	return e;
}

pcitsm_err pcitsm_xport_tcp_command(struct pcitsm_xport_tcp *t, uint32_t command,
				    uint32_t transport, const uint8_t *payload, size_t len,
				    struct pcitsm_spdmemu_frame_hdr *reply, uint8_t *rsp,
				    size_t rsp_cap)
{
	struct pcitsm_wr w;

	if (t->broken || t->fd < 0)
		return PCITSM_E_DEAD;
	pcitsm_wr_init(&w, t->buf, FRAME_MAX);
	PCITSM_TRY(pcitsm_spdmemu_frame_build(&w, command, transport, payload, len));
	PCITSM_TRY(client_send(t, pcitsm_wr_len(&w)));
	PCITSM_TRY(client_read_frame(t, reply));
	if (reply->payload_size > rsp_cap)
		return PCITSM_E_TRUNCATED;
	if (reply->payload_size)
		memcpy(rsp, t->buf + PCITSM_SPDMEMU_FRAME_HDR_LEN, reply->payload_size);
	return PCITSM_OK;
}

static pcitsm_err tcp_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
			       const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
			       size_t *rsp_len)
{
	struct pcitsm_xport_tcp *t = to_tcp(x);
	const uint8_t *obj = t->buf + PCITSM_SPDMEMU_FRAME_HDR_LEN;
	struct pcitsm_spdmemu_frame_hdr h;
	struct pcitsm_doe_hdr dh;
	const uint8_t *body;
	struct pcitsm_wr w;
	size_t body_len;

	*rsp_len = 0;
	if (t->broken || t->fd < 0)
		return PCITSM_E_DEAD;
	/* Request: one NORMAL frame, transport PCI_DOE, carrying one whole DOE object
	 * (docs/transports.md). */
	pcitsm_wr_init(&w, t->buf, FRAME_MAX);
	PCITSM_TRY(pcitsm_spdmemu_frame_build(&w, PCITSM_SPDMEMU_CMD_NORMAL,
					      PCITSM_SPDMEMU_TRANSPORT_PCI_DOE, NULL, 0));
	PCITSM_TRY(pcitsm_doe_obj_build(&w, vid, type, req, req_len));
	pcitsm_wr_patch_be32(&w, 8, (uint32_t)(pcitsm_wr_len(&w) - PCITSM_SPDMEMU_FRAME_HDR_LEN));
	PCITSM_TRY(pcitsm_wr_err(&w));
	PCITSM_TRY(client_send(t, pcitsm_wr_len(&w)));

	/* Reply: NORMAL over the same transport, or the request was not served. */
	PCITSM_TRY(client_read_frame(t, &h));
	if (h.command != PCITSM_SPDMEMU_CMD_NORMAL ||
	    h.transport != PCITSM_SPDMEMU_TRANSPORT_PCI_DOE)
		return PCITSM_E_UNEXPECTED;
	if (h.payload_size == 0)
		return PCITSM_E_NORESPONSE; /* discarded by the device (docs/transports.md) */
	PCITSM_TRY(pcitsm_doe_obj_parse(obj, h.payload_size, &dh, &body, &body_len));
	if (dh.vid != vid || dh.type != type)
		return PCITSM_E_FIELD;
	if (body_len > rsp_cap)
		return PCITSM_E_TRUNCATED;
	memcpy(rsp, body, body_len);
	*rsp_len = body_len;
	return PCITSM_OK;
}

static void tcp_close(struct pcitsm_xport *x)
{
	struct pcitsm_xport_tcp *t = to_tcp(x);
	struct pcitsm_spdmemu_frame_hdr h;

	/* SHUTDOWN only when asked: a plain close leaves the server serving the next client. */
	if (t->fd >= 0 && t->opts.shutdown_on_close && !t->broken &&
	    pcitsm_xport_tcp_command(t, PCITSM_SPDMEMU_CMD_SHUTDOWN,
				     PCITSM_SPDMEMU_TRANSPORT_PCI_DOE, NULL, 0, &h, NULL,
				     0) != PCITSM_OK)
		pcitsm_info(t->env, "%s: SHUTDOWN not acknowledged", t->label);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
}

static const struct pcitsm_xport_ops tcp_ops = {
	.exchange = tcp_exchange,
	.close = tcp_close,
};

static pcitsm_err client_connect(struct pcitsm_xport_tcp *t, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct timeval tv = { .tv_sec = (time_t)(t->opts.timeout_ns / 1000000000u),
			      .tv_usec = (suseconds_t)(t->opts.timeout_ns % 1000000000u / 1000u) };
	struct addrinfo *res, *ai;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return PCITSM_E_NOTFOUND;
	for (ai = res; ai && t->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			t->fd = fd;
			t->connect_errno = 0;
		} else {
			t->connect_errno = errno;
			close(fd);
		}
	}
	freeaddrinfo(res);
	if (t->fd < 0)
		return PCITSM_E_CLOSED; /* connect_errno says why (ECONNREFUSED: nobody listens) */
	set_nodelay(t->fd);
	/* A peer that stops reading must not block a send for ever. */
	(void)setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return PCITSM_OK;
}

pcitsm_err pcitsm_xport_tcp_connect(struct pcitsm_xport_tcp *t, const char *host, const char *port,
				    const struct pcitsm_tcp_opts *opts,
				    const struct pcitsm_env *env)
{
	struct pcitsm_spdmemu_frame_hdr h;
	uint8_t hello[64];
	pcitsm_err e;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->env = env;
	if (opts)
		t->opts = *opts;
	if (!t->opts.timeout_ns)
		t->opts.timeout_ns = PCITSM_SPDMEMU_TIMEOUT_NS;
	snprintf(t->label, sizeof(t->label), strchr(host, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", host,
		 port);
	t->x.ops = &tcp_ops;
	t->x.name = t->label;
	t->buf = malloc(FRAME_MAX);
	if (!t->buf)
		return PCITSM_E_NOMEM;
	e = client_connect(t, host, port);
	/* docs/transports.md: TEST "Client Hello!\0" first; the server answers TEST (content not
	 * checked). */
	if (e == PCITSM_OK)
		e = pcitsm_xport_tcp_command(t, PCITSM_SPDMEMU_CMD_TEST,
					     PCITSM_SPDMEMU_TRANSPORT_PCI_DOE,
					     (const uint8_t *)client_hello, sizeof(client_hello),
					     &h, hello, sizeof(hello));
	if (e == PCITSM_OK && h.command != PCITSM_SPDMEMU_CMD_TEST)
		e = PCITSM_E_UNEXPECTED;
	if (e != PCITSM_OK) {
		t->opts.shutdown_on_close = false;
		tcp_close(&t->x);
	}
	return e;
}
