/* SPDX-License-Identifier: MIT */
/*
 * The spdm-emu server's socket loop (docs/transports.md; its bounds: docs/security.md, "Socket
 * servers under load").
 *
 * One device, one owner at a time, as spdm-emu serves it: the connection whose NORMAL or
 * DECAP_TDISP frame the device answered owns the device until it closes (CONTINUE, SHUTDOWN, EOF,
 * a malformed frame) or is dropped. Other connections are accepted and read all the same, so a
 * peer that is slow or silent costs only itself:
 *   - at most max_conns connections; one more is accepted and closed at once (refused);
 *   - a frame must arrive whole within frame_timeout_ns of its first byte (slow loris), and a
 *     reply must leave within frame_timeout_ns (a peer that does not read);
 *   - a connection with no frame under way is dropped after idle_timeout_ns, unless it owns the
 *     device and nobody waits for it (QEMU keeps one socket for a VM's lifetime);
 *   - a frame's payload_size is checked against the largest DOE object before a byte of it is
 *     read, and its buffer grows with the bytes that arrive, never with what the header claims.
 * TEST, CONTINUE, SHUTDOWN and unknown commands touch no device state and are answered to any
 * connection. One thread: the device's handlers are never entered twice at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/tcp_priv.h"

/* Bytes read per recv() and the least a payload buffer grows by. */
#define SRV_CHUNK 65536u

struct srv_conn {
	int fd;
	uint8_t hdr[PCITSM_SPDMEMU_FRAME_HDR_LEN];
	struct pcitsm_spdmemu_frame_hdr h;
	size_t got;         /* bytes of the current frame, header included */
	uint8_t *buf;       /* payload, grown as it arrives */
	size_t cap;
	bool ready;         /* a whole frame waits for the device */
	uint64_t seq;       /* order in which frames became ready */
	uint64_t t_frame;   /* the current frame's first byte */
	uint64_t t_idle;    /* accepted, or the last frame answered */
};

static uint64_t now(const struct pcitsm_spdmemu_server *s)
{
	return pcitsm_now_ns(s->env);
}

pcitsm_err pcitsm_spdmemu_server_init(struct pcitsm_spdmemu_server *s, struct pcitsm_doe_dev *dev,
				      const struct pcitsm_env *env)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->env = env;
	s->lfd = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	s->max_conns = PCITSM_SPDMEMU_MAX_CONNS;
	s->frame_timeout_ns = PCITSM_SPDMEMU_FRAME_TIMEOUT_NS;
	s->idle_timeout_ns = PCITSM_SPDMEMU_IDLE_TIMEOUT_NS;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return PCITSM_E_SYSTEM;
	s->out = malloc(FRAME_MAX);
	s->wrap = malloc(PCITSM_SPDMEMU_MAX_PAYLOAD);
	if (!s->out || !s->wrap) {
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
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	int one = 1;

	if (s->lfd >= 0)
		return PCITSM_E_STATE;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return PCITSM_E_NOTFOUND;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* The kernel's whole accept queue (SOMAXCONN, capped by net.core.somaxconn): with a
		 * short one, a burst of connections overflows it, and a peer whose handshake the
		 * kernel dropped waits for SYN-ACK retransmissions (1 s, 3 s, ...) while it already
		 * believes it is connected; the server's limits and timers then start late. */
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
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

static void conn_drop(struct srv_conn *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Send n bytes before the deadline on a non-blocking socket: a peer that stops reading costs
 * at most frame_timeout_ns. A stop request ends the wait too (E_DEAD). */
static pcitsm_err send_until(struct pcitsm_spdmemu_server *s, int fd, const uint8_t *p, size_t n,
			     uint64_t deadline)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		struct pollfd pf[2] = { { .fd = fd, .events = POLLOUT },
					{ .fd = s->stop_pipe[0], .events = POLLIN } };
		uint64_t t = now(s);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE || errno == ECONNRESET ? PCITSM_E_CLOSED : PCITSM_E_IO;
		if (t >= deadline)
			return PCITSM_E_TIMEOUT;
		if (poll(pf, 2, (int)PCITSM_MIN((deadline - t) / 1000000u + 1, 60000u)) > 0 &&
		    pf[1].revents)
			return PCITSM_E_DEAD;
	}
	return PCITSM_OK;
}

/* Read what the peer sent, at most one chunk. E_CLOSED on EOF (clean: between frames), E_RANGE on
 * an oversize payload_size, OK otherwise (a whole frame sets c->ready). */
static pcitsm_err conn_read(struct pcitsm_spdmemu_server *s, struct srv_conn *c, bool *clean)
{
	size_t hl = PCITSM_SPDMEMU_FRAME_HDR_LEN, want;
	uint8_t *dst;
	ssize_t k;

	*clean = c->got == 0;
	if (c->got < hl) {
		dst = c->hdr + c->got;
		want = hl - c->got;
	} else {
		size_t have = c->got - hl, need = c->h.payload_size;

		want = PCITSM_MIN(need - have, SRV_CHUNK);
		if (have + want > c->cap) {
			size_t cap = PCITSM_MIN(need, PCITSM_MAX(have + want, 2 * c->cap));
			uint8_t *nb = realloc(c->buf, cap);

			if (!nb)
				return PCITSM_E_NOMEM;
			c->buf = nb;
			c->cap = cap;
		}
		dst = c->buf + have;
	}
	k = recv(c->fd, dst, want, MSG_DONTWAIT);
	if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return PCITSM_OK;
	if (k == 0 || (k < 0 && errno == ECONNRESET))
		return PCITSM_E_CLOSED;
	if (k < 0)
		return PCITSM_E_IO;
	if (c->got == 0)
		c->t_frame = now(s);
	c->got += (size_t)k;
	*clean = false;
	if (c->got == hl)
		/* The payload is at most one whole DOE object: refused before a byte of it. */
		PCITSM_TRY(pcitsm_spdmemu_hdr_parse(c->hdr, hl, PCITSM_SPDMEMU_MAX_PAYLOAD, &c->h));
	if (c->got >= hl && c->got - hl == c->h.payload_size) {
		c->ready = true;
		c->seq = ++s->ready_seq;
	}
	return PCITSM_OK;
}

static bool needs_owner(const struct pcitsm_spdmemu_frame_hdr *h)
{
	return h->command == PCITSM_SPDMEMU_CMD_NORMAL ||
	       h->command == PCITSM_SPDMEMU_CMD_DECAP_TDISP;
}

/* Answer c's whole frame; the action says whether c stays. */
static enum pcitsm_spdmemu_action conn_serve(struct pcitsm_spdmemu_server *s, struct srv_conn *c)
{
	enum pcitsm_spdmemu_action act;
	struct pcitsm_wr out;
	pcitsm_err e;

	pcitsm_wr_init(&out, s->out, FRAME_MAX);
	e = pcitsm_spdmemu_serve_frame(s, &c->h, c->buf, &out, &act);
	if (e == PCITSM_OK)
		e = send_until(s, c->fd, s->out, pcitsm_wr_len(&out), now(s) + s->frame_timeout_ns);
	c->ready = false;
	c->got = 0;
	c->t_idle = now(s);
	if (e != PCITSM_OK) {
		pcitsm_info(s->env, "emu server: reply failed: %s", pcitsm_err_name(e));
		s->timeouts += e == PCITSM_E_TIMEOUT;
		return PCITSM_SPDMEMU_ACT_CONTINUE;
	}
	s->frames++;
	return act;
}

struct srv_loop {
	struct srv_conn *c;
	unsigned n;   /* slots */
	int owner;    /* index of the connection that owns the device, -1 for none */
	bool stop;    /* SHUTDOWN (without serve_after_shutdown) or a stop request */
	bool full;    /* out of descriptors: accept again when a connection closes */
};

static void loop_drop(struct pcitsm_spdmemu_server *s, struct srv_loop *L, unsigned i)
{
	if (L->owner == (int)i)
		L->owner = -1;
	conn_drop(&L->c[i]);
	L->full = false;
}

/* The next frame the device answers: the owner's, else the oldest waiting one; frames that need
 * no owner are answered whoever sends them. -1: nothing to answer now. */
static int loop_pick(struct srv_loop *L)
{
	int best = -1;

	for (unsigned i = 0; i < L->n; i++) {
		struct srv_conn *c = &L->c[i];

		if (c->fd < 0 || !c->ready)
			continue;
		if ((int)i == L->owner || !needs_owner(&c->h))
			return (int)i;
		if (L->owner < 0 && (best < 0 || c->seq < L->c[best].seq))
			best = (int)i;
	}
	return best;
}

static void loop_dispatch(struct pcitsm_spdmemu_server *s, struct srv_loop *L)
{
	int i;

	while (!L->stop && (i = loop_pick(L)) >= 0) {
		enum pcitsm_spdmemu_action act;

		if (needs_owner(&L->c[i].h))
			L->owner = i;
		act = conn_serve(s, &L->c[i]);
		if (act == PCITSM_SPDMEMU_ACT_REPLY)
			continue;
		loop_drop(s, L, (unsigned)i);
		if (act == PCITSM_SPDMEMU_ACT_SHUTDOWN) {
			s->shutdowns++;
			L->stop = !s->serve_after_shutdown;
		}
	}
}

static bool someone_waits(const struct srv_loop *L)
{
	for (unsigned i = 0; i < L->n; i++)
		if (L->c[i].fd >= 0 && L->c[i].ready && (int)i != L->owner)
			return true;
	return false;
}

/* The deadline of connection i (0: none): its frame's, or its idleness's. */
static uint64_t conn_deadline(struct pcitsm_spdmemu_server *s, const struct srv_loop *L,
			      unsigned i, bool waiters)
{
	const struct srv_conn *c = &L->c[i];

	if (c->fd < 0 || c->ready)
		return 0; /* a whole frame waits: the wait is the device's, not the peer's */
	if (c->got)
		return c->t_frame + s->frame_timeout_ns;
	if ((int)i == L->owner && !waiters)
		return 0;
	return c->t_idle + s->idle_timeout_ns;
}

/* Drop every connection past its deadline; return the nearest deadline left (0: none). */
static uint64_t loop_expire(struct pcitsm_spdmemu_server *s, struct srv_loop *L)
{
	bool waiters = someone_waits(L);
	uint64_t t = now(s), next = 0;

	for (unsigned i = 0; i < L->n; i++) {
		uint64_t d = conn_deadline(s, L, i, waiters);

		if (!d)
			continue;
		if (d <= t) {
			pcitsm_info(s->env, "emu server: connection dropped: %s",
				    L->c[i].got ? "frame too slow" : "idle");
			s->timeouts++;
			loop_drop(s, L, i);
			continue;
		}
		if (!next || d < next)
			next = d;
	}
	return next;
}

/* Accept every pending connection: into a free slot, or closed at once when none is left. */
static pcitsm_err loop_accept(struct pcitsm_spdmemu_server *s, struct srv_loop *L)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		unsigned i;

		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return PCITSM_OK;
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			       errno == ENOMEM)) {
			/* Out of descriptors: the backlog waits for one to close (polling the
			 * listening socket meanwhile would spin). */
			L->full = true;
			return PCITSM_OK;
		}
		if (fd < 0)
			return PCITSM_E_SYSTEM;
		for (i = 0; i < L->n && L->c[i].fd >= 0; i++)
			;
		if (i == L->n) {
			s->refused++;
			close(fd);
			continue;
		}
		tcp_set_nodelay(fd);
		L->c[i].fd = fd;
		L->c[i].t_idle = now(s);
		s->connections++;
	}
}

static void loop_read(struct pcitsm_spdmemu_server *s, struct srv_loop *L, unsigned i)
{
	struct srv_conn *c = &L->c[i];
	bool clean;
	pcitsm_err e = conn_read(s, c, &clean);

	if (e == PCITSM_OK)
		return;
	if (!clean) {
		s->bad_frames++;
		pcitsm_info(s->env, "emu server: connection dropped: %s", pcitsm_err_name(e));
	}
	loop_drop(s, L, i);
}

/* One poll: the stop pipe, the listening socket, every connection that has no whole frame
 * waiting (one that has is not read further: its peer waits for the answer). */
static pcitsm_err loop_poll(struct pcitsm_spdmemu_server *s, struct srv_loop *L,
			    struct pollfd *p, unsigned *who, uint64_t deadline)
{
	nfds_t n = 0;
	int ms = -1, r;

	p[n++] = (struct pollfd){ .fd = s->stop_pipe[0], .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = L->full ? -1 : s->lfd, .events = POLLIN };
	for (unsigned i = 0; i < L->n; i++)
		if (L->c[i].fd >= 0 && !L->c[i].ready) {
			who[n] = i;
			p[n++] = (struct pollfd){ .fd = L->c[i].fd, .events = POLLIN };
		}
	if (deadline) {
		uint64_t t = now(s);

		ms = deadline > t ? (int)PCITSM_MIN((deadline - t) / 1000000u + 1, 60000u) : 0;
	}
	r = poll(p, n, ms);
	if (r < 0 && errno != EINTR)
		return PCITSM_E_SYSTEM;
	if (r <= 0)
		return PCITSM_OK;
	if (p[0].revents) {
		L->stop = true;
		return PCITSM_OK;
	}
	for (nfds_t k = 2; k < n; k++)
		if (p[k].revents)
			loop_read(s, L, who[k]);
	if (p[1].revents)
		return loop_accept(s, L);
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdmemu_server_run(struct pcitsm_spdmemu_server *s)
{
	struct srv_loop L = { .owner = -1 };
	struct pollfd *p;
	unsigned *who;
	pcitsm_err e = PCITSM_OK;

	if (s->lfd < 0)
		return PCITSM_E_STATE;
	if (!s->max_conns || !s->frame_timeout_ns || !s->idle_timeout_ns)
		return PCITSM_E_INVAL;
	L.n = s->max_conns;
	L.c = calloc(L.n, sizeof(*L.c));
	p = calloc(L.n + 2, sizeof(*p));
	who = calloc(L.n + 2, sizeof(*who));
	if (!L.c || !p || !who) {
		e = PCITSM_E_NOMEM;
		goto out;
	}
	for (unsigned i = 0; i < L.n; i++)
		L.c[i].fd = -1;
	while (!L.stop && e == PCITSM_OK) {
		uint64_t next;

		loop_dispatch(s, &L);
		next = loop_expire(s, &L);
		/* An owner dropped for idleness frees the device for the frames that wait. */
		loop_dispatch(s, &L);
		if (!L.stop)
			e = loop_poll(s, &L, p, who, next);
	}
out:
	for (unsigned i = 0; L.c && i < L.n; i++)
		if (L.c[i].fd >= 0)
			conn_drop(&L.c[i]);
	free(L.c);
	free(p);
	free(who);
	return e;
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
	free(s->out);
	free(s->wrap);
	s->out = s->wrap = NULL;
	s->lfd = s->stop_pipe[0] = s->stop_pipe[1] = -1;
}
