/* SPDX-License-Identifier: MIT */
/* doe: the spdm-emu TCP protocol: frame codec, the server's protocol step, and the client and
 * server against each other (server in a thread), including malformed frames from a raw socket and
 * a misbehaving scripted server. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pcitsm/doe.h"
#include "pcitsm/idekm.h"
#include "pcitsm/tdisp.h"
#include "pcitsm/transport.h"
#include "testutil.h"

/* ---------------------------------------------------------------------------------------------
 * A simple CMA handler: answers "R" followed by the request, counts requests (device state that
 * must survive CONTINUE), and discards requests that start with 0xdd.
 */
struct echo {
	struct pcitsm_doe_handler h;
	unsigned calls;
};

static pcitsm_err echo_handle(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			      uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct echo *e = pcitsm_container_of(h, struct echo, h);

	e->calls++;
	if (req_len && req[0] == 0xdd)
		return PCITSM_E_NORESPONSE;
	if (req_len + 1 > rsp_cap)
		return PCITSM_E_NOSPC;
	rsp[0] = 'R';
	memcpy(rsp + 1, req, req_len);
	*rsp_len = req_len + 1;
	return PCITSM_OK;
}

struct fixture {
	struct pcitsm_doe_dev dev;
	struct echo echo;
	struct pcitsm_spdmemu_server srv;
	pthread_t thread;
	pcitsm_err run_err;
	bool running;
	char port[8];
};

static void *server_thread(void *arg)
{
	struct fixture *f = arg;

	f->run_err = pcitsm_spdmemu_server_run(&f->srv);
	return NULL;
}

static int fixture_setup(void **state)
{
	static struct fixture fx;
	struct fixture *f = &fx;

	memset(f, 0, sizeof(*f));
	pcitsm_doe_dev_init(&f->dev, 1);
	f->echo.h = (struct pcitsm_doe_handler){ .vid = PCITSM_DOE_VID_PCISIG,
						 .type = PCITSM_DOE_TYPE_CMA,
						 .handle = echo_handle };
	assert_ok(pcitsm_doe_dev_register(&f->dev, &f->echo.h));
	assert_ok(pcitsm_spdmemu_server_init(&f->srv, &f->dev, pcitsm_env_default()));
	*state = f;
	return 0;
}

static void fixture_start(struct fixture *f)
{
	assert_ok(pcitsm_spdmemu_server_listen(&f->srv, "127.0.0.1", "0"));
	assert_true(f->srv.port != 0);
	snprintf(f->port, sizeof(f->port), "%u", f->srv.port);
	assert_int_equal(pthread_create(&f->thread, NULL, server_thread, f), 0);
	f->running = true;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->running) {
		pcitsm_spdmemu_server_stop(&f->srv);
		pthread_join(f->thread, NULL);
	}
	pcitsm_spdmemu_server_close(&f->srv);
	return 0;
}

static const struct pcitsm_tcp_opts short_timeout = { .timeout_ns = 300000000ull };

/* ---------------------------------------------------------------------------------------------
 * Frame codec.
 */
static void frame_header_exact(void **state)
{
	static const uint8_t hdr[12] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x10, 0 };
	struct pcitsm_spdmemu_frame_hdr h;

	assert_ok(pcitsm_spdmemu_hdr_parse(hdr, 12, PCITSM_SPDMEMU_MAX_PAYLOAD, &h));
	assert_int_equal(h.command, PCITSM_SPDMEMU_CMD_NORMAL);
	assert_int_equal(h.transport, PCITSM_SPDMEMU_TRANSPORT_PCI_DOE);
	assert_int_equal(h.payload_size, 0x1000);
	assert_err(pcitsm_spdmemu_hdr_parse(hdr, 11, PCITSM_SPDMEMU_MAX_PAYLOAD, &h),
		   PCITSM_E_SHORT);
	assert_err(pcitsm_spdmemu_hdr_parse(hdr, 12, 0xfff, &h), PCITSM_E_RANGE);
}

static void frame_oversize_and_lengths(void **state)
{
	uint8_t buf[32];
	struct pcitsm_spdmemu_frame_hdr h;
	const uint8_t *p;
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_spdmemu_frame_build(&w, PCITSM_SPDMEMU_CMD_TEST, 2, "abcd", 4));
	assert_int_equal(pcitsm_wr_len(&w), 16);
	assert_ok(pcitsm_spdmemu_frame_parse(buf, 16, 64, &h, &p));
	assert_int_equal(h.command, PCITSM_SPDMEMU_CMD_TEST);
	assert_memory_equal(p, "abcd", 4);
	assert_err(pcitsm_spdmemu_frame_parse(buf, 15, 64, &h, &p), PCITSM_E_SHORT);
	assert_err(pcitsm_spdmemu_frame_parse(buf, 17, 64, &h, &p), PCITSM_E_LONG);
	assert_err(pcitsm_spdmemu_frame_parse(buf, 3, 64, &h, &p), PCITSM_E_SHORT);
	/* A payload size beyond one DOE object is refused before any payload is read. */
	pcitsm_put_be32(buf + 8, PCITSM_SPDMEMU_MAX_PAYLOAD + 1);
	assert_err(pcitsm_spdmemu_frame_parse(buf, 16, PCITSM_SPDMEMU_MAX_PAYLOAD, &h, &p),
		   PCITSM_E_RANGE);
	pcitsm_wr_init(&w, buf, 8);
	assert_err(pcitsm_spdmemu_frame_build(&w, 1, 2, NULL, 0), PCITSM_E_NOSPC);
}

/* ---------------------------------------------------------------------------------------------
 * The server's protocol step, without sockets.
 */
static void step(struct fixture *f, uint32_t cmd, uint32_t transport, const void *payload,
		 size_t len, struct pcitsm_spdmemu_frame_hdr *rh, const uint8_t **rp,
		 enum pcitsm_spdmemu_action *act)
{
	struct pcitsm_spdmemu_frame_hdr h = { cmd, transport, (uint32_t)len };
	struct pcitsm_wr out;

	pcitsm_wr_init(&out, f->srv.out, PCITSM_SPDMEMU_FRAME_HDR_LEN + PCITSM_SPDMEMU_MAX_PAYLOAD);
	assert_ok(pcitsm_spdmemu_serve_frame(&f->srv, &h, payload, &out, act));
	assert_ok(pcitsm_spdmemu_frame_parse(f->srv.out, pcitsm_wr_len(&out),
					     PCITSM_SPDMEMU_MAX_PAYLOAD, rh, rp));
}

static void serve_step_commands(void **state)
{
	struct fixture *f = *state;
	struct pcitsm_spdmemu_frame_hdr rh;
	enum pcitsm_spdmemu_action act;
	const uint8_t *rp;

	step(f, PCITSM_SPDMEMU_CMD_TEST, 2, "Client Hello!", 14, &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_TEST);
	assert_int_equal(rh.payload_size, 14);
	assert_string_equal((const char *)rp, "Server Hello!");
	assert_int_equal(act, PCITSM_SPDMEMU_ACT_REPLY);

	step(f, PCITSM_SPDMEMU_CMD_CONTINUE, 2, NULL, 0, &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_CONTINUE);
	assert_int_equal(rh.payload_size, 0);
	assert_int_equal(act, PCITSM_SPDMEMU_ACT_CONTINUE);

	step(f, PCITSM_SPDMEMU_CMD_SHUTDOWN, 2, NULL, 0, &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_SHUTDOWN);
	assert_int_equal(act, PCITSM_SPDMEMU_ACT_SHUTDOWN);

	/* Unknown commands, the unsupported out-of-band ones, and NORMAL over MCTP / TCP. */
	step(f, 0x1234, 2, "x", 1, &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_UNKNOWN);
	assert_int_equal(rh.payload_size, 0);
	step(f, PCITSM_SPDMEMU_CMD_OOB_KEY_UPDATE, 2, NULL, 0, &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_UNKNOWN);
	step(f, PCITSM_SPDMEMU_CMD_NORMAL, PCITSM_SPDMEMU_TRANSPORT_MCTP, "x", 1, &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_UNKNOWN);
	assert_int_equal(rh.transport, PCITSM_SPDMEMU_TRANSPORT_MCTP);
	assert_int_equal(act, PCITSM_SPDMEMU_ACT_REPLY);
}

static void serve_step_normal(void **state)
{
	static const uint8_t obj[] = { 0x01, 0x00, 0x01, 0x00, 0x03, 0x00,
				       0x00, 0x00, 0x12, 0x11, 0x00, 0x00 };
	static const uint8_t discard[] = { 0x01, 0x00, 0x01, 0x00, 0x03, 0x00,
					   0x00, 0x00, 0xdd, 0x00, 0x00, 0x00 };
	struct fixture *f = *state;
	struct pcitsm_spdmemu_frame_hdr rh;
	enum pcitsm_spdmemu_action act;
	const uint8_t *rp;

	/* PCI_DOE: a whole object in, a whole object out. */
	step(f, PCITSM_SPDMEMU_CMD_NORMAL, 2, obj, sizeof(obj), &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_NORMAL);
	assert_int_equal(rh.transport, 2);
	assert_int_equal(rh.payload_size, 16);
	assert_int_equal(pcitsm_get_le32(rp + 4), 4);
	assert_memory_equal(rp + 8, "R\x12\x11\x00\x00", 5);

	/* NONE: a bare message in, the response's payload out (DW padding included). */
	step(f, PCITSM_SPDMEMU_CMD_NORMAL, 0, "\x12\x84", 2, &rh, &rp, &act);
	assert_int_equal(rh.transport, 0);
	assert_int_equal(rh.payload_size, 8);
	assert_memory_equal(rp, "R\x12\x84\x00\x00", 5);

	/* Discarded object, or an object the device cannot parse: an empty NORMAL. */
	step(f, PCITSM_SPDMEMU_CMD_NORMAL, 2, discard, sizeof(discard), &rh, &rp, &act);
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_NORMAL);
	assert_int_equal(rh.payload_size, 0);
	step(f, PCITSM_SPDMEMU_CMD_NORMAL, 2, obj, 7, &rh, &rp, &act);
	assert_int_equal(rh.payload_size, 0);
	step(f, PCITSM_SPDMEMU_CMD_NORMAL, 2, NULL, 0, &rh, &rp, &act);
	assert_int_equal(rh.payload_size, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Client and server over loopback.
 */
struct counter_tap {
	struct pcitsm_xport_tap tap;
	unsigned to_dev, from_dev;
};

static void count_object(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj,
			 size_t len)
{
	struct counter_tap *c = pcitsm_container_of(tap, struct counter_tap, tap);

	assert_true(len >= 8 && len % 4 == 0);
	if (from_device)
		c->from_dev++;
	else
		c->to_dev++;
}

static void client_exchange_and_discovery(void **state)
{
	struct fixture *f = *state;
	struct counter_tap ct = { .tap.object = count_object };
	struct pcitsm_xport_tcp t;
	uint8_t rsp[64];
	uint8_t disc[4] = { 0, 0, 0, 0 };
	char name[32];
	size_t n;

	fixture_start(f);
	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, NULL, pcitsm_env_default()));

	snprintf(name, sizeof(name), "tcp:127.0.0.1:%s", f->port);
	assert_string_equal(t.x.name, name);
	t.x.tap = &ct.tap;
	assert_ok(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"\x12\x84\x00", 3, rsp,
					sizeof(rsp), &n));
	/* The handler saw the DW-padded payload; the response comes back padded too. */
	assert_int_equal(n, 8);
	assert_memory_equal(rsp, "R\x12\x84\x00\x00\x00\x00\x00", 8);
	/* The device's built-in discovery, index 0: the discovery protocol itself. */
	assert_ok(pcitsm_xport_exchange(&t.x, 1, 0, disc, sizeof(disc), rsp, sizeof(rsp), &n));
	assert_int_equal(n, 4);
	assert_int_equal(pcitsm_get_le16(rsp), 1);
	assert_int_equal(rsp[2], 0);
	assert_int_equal(rsp[3], 1);
	/* A discarded object: the server's empty NORMAL. */
	assert_err(
		pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"\xdd", 1, rsp, sizeof(rsp), &n),
		PCITSM_E_NORESPONSE);
	/* Too small a buffer is reported, never cut. */
	assert_err(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"abcdefgh", 8, rsp, 4, &n),
		   PCITSM_E_TRUNCATED);
	/* The transport wrapper shows the tap every request and every answered response. */
	assert_int_equal(ct.to_dev, 4);
	assert_int_equal(ct.from_dev, 2);
	pcitsm_xport_close(&t.x);
	assert_int_equal(f->echo.calls, 3);
}

static void client_continue_keeps_state_and_shutdown_stops(void **state)
{
	struct fixture *f = *state;
	struct pcitsm_tcp_opts opts = { .shutdown_on_close = true };
	struct pcitsm_spdmemu_frame_hdr rh;
	struct pcitsm_xport_tcp t;
	uint8_t rsp[16];
	size_t n;

	fixture_start(f);
	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, NULL, pcitsm_env_default()));
	assert_ok(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"a", 1, rsp, sizeof(rsp), &n));
	/* An unknown command is answered UNKNOWN and the connection stays usable. */
	assert_ok(pcitsm_xport_tcp_command(&t, 0x4242, 2, NULL, 0, &rh, rsp, sizeof(rsp)));
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_UNKNOWN);
	assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_CONTINUE, 2, NULL, 0, &rh, rsp,
					   sizeof(rsp)));
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_CONTINUE);
	assert_int_equal(rh.payload_size, 0);
	pcitsm_xport_close(&t.x);

	/* The next connection reaches the same device; close with SHUTDOWN stops the server. */
	assert_ok(pcitsm_xport_tcp_connect(&t, "::ffff:127.0.0.1", f->port, &opts,
					   pcitsm_env_default()));
	assert_ok(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"b", 1, rsp, sizeof(rsp), &n));
	pcitsm_xport_close(&t.x);
	pthread_join(f->thread, NULL);
	f->running = false;
	assert_ok(f->run_err);
	assert_int_equal(f->echo.calls, 2);
	assert_int_equal(f->srv.connections, 2);
}

/* A server that outlives its clients (a pcitsmd device port): SHUTDOWN ends that connection only,
 * and the next client is served at once. 50 rounds of connect, exchange, SHUTDOWN, close, each
 * bounded by the client's short timeout (a server that stopped would time the TEST out). */
static void shutdown_then_reconnect_loop(void **state)
{
	struct fixture *f = *state;
	struct pcitsm_tcp_opts opts = { .timeout_ns = 2000000000ull, .shutdown_on_close = true };
	struct pcitsm_xport_tcp t;
	uint8_t rsp[16];
	size_t n;

	f->srv.serve_after_shutdown = true;
	fixture_start(f);
	for (unsigned i = 0; i < 50; i++) {
		assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, &opts,
						   pcitsm_env_default()));
		assert_ok(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"c", 1, rsp,
						sizeof(rsp), &n));
		assert_true(n >= 2);
		assert_int_equal(rsp[0], 'R');
		assert_int_equal(rsp[1], 'c');
		assert_false(t.broken);
		pcitsm_xport_close(&t.x); /* SHUTDOWN, its echo, close */
	}
	assert_int_equal(f->echo.calls, 50);
	/* A stop request still stops it while a client is connected, and is no SHUTDOWN. */
	opts.shutdown_on_close = false;
	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, &opts, pcitsm_env_default()));
	pcitsm_spdmemu_server_stop(&f->srv);
	pthread_join(f->thread, NULL);
	f->running = false;
	pcitsm_xport_close(&t.x);
	assert_ok(f->run_err);
	assert_int_equal(f->srv.connections, 51);
	assert_int_equal(f->srv.shutdowns, 50);
}

/* Connecting to a port nobody listens on: E_CLOSED, and connect_errno says ECONNREFUSED (what
 * the CLI prints as "connection refused"). */
static void client_connection_refused(void **state)
{
	struct fixture *f = *state;
	struct pcitsm_xport_tcp t;
	char port[8];

	/* Bind a port, then free it: nobody listens there. */
	assert_ok(pcitsm_spdmemu_server_listen(&f->srv, "127.0.0.1", "0"));
	snprintf(port, sizeof(port), "%u", f->srv.port);
	close(f->srv.lfd);
	f->srv.lfd = -1;
	assert_err(pcitsm_xport_tcp_connect(&t, "127.0.0.1", port, &short_timeout,
					    pcitsm_env_default()),
		   PCITSM_E_CLOSED);
	assert_int_equal(t.connect_errno, ECONNREFUSED);
	assert_int_equal(t.fd, -1);
}

/* A raw client socket for sending malformed frames. */
static int raw_connect(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Read until EOF; returns the number of bytes the server sent. */
static size_t raw_drain(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	ssize_t k;

	while ((k = recv(fd, buf + got, cap - got, 0)) > 0)
		got += (size_t)k;
	return got;
}

static void server_survives_malformed_frames(void **state)
{
	static const uint8_t oversize[12] = { 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x40, 0x00, 0x01 };
	static const uint8_t mid_frame[14] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 12, 1, 0 };
	static const uint8_t half_header[5] = { 0, 0, 0xde, 0xad, 0 };
	static const uint8_t unknown[12] = { 0, 0, 0x77, 0x77, 0, 0, 0, 2, 0, 0, 0, 0 };
	struct fixture *f = *state;
	struct pcitsm_xport_tcp t;
	uint8_t buf[64];
	size_t n;
	int fd;

	fixture_start(f);
	/* Oversize payload size: the connection is closed, nothing is answered. */
	fd = raw_connect(f->port);
	assert_int_equal(send(fd, oversize, sizeof(oversize), 0), (ssize_t)sizeof(oversize));
	assert_int_equal(raw_drain(fd, buf, sizeof(buf)), 0);
	close(fd);
	/* EOF in the middle of a payload, and in the middle of a header. */
	fd = raw_connect(f->port);
	assert_int_equal(send(fd, mid_frame, sizeof(mid_frame), 0), (ssize_t)sizeof(mid_frame));
	shutdown(fd, SHUT_WR);
	assert_int_equal(raw_drain(fd, buf, sizeof(buf)), 0);
	close(fd);
	fd = raw_connect(f->port);
	assert_int_equal(send(fd, half_header, sizeof(half_header), 0),
			 (ssize_t)sizeof(half_header));
	shutdown(fd, SHUT_WR);
	assert_int_equal(raw_drain(fd, buf, sizeof(buf)), 0);
	close(fd);
	/* An unknown command as the very first frame: UNKNOWN, empty payload. */
	fd = raw_connect(f->port);
	assert_int_equal(send(fd, unknown, sizeof(unknown), 0), (ssize_t)sizeof(unknown));
	shutdown(fd, SHUT_WR);
	assert_int_equal(raw_drain(fd, buf, sizeof(buf)), 12);
	assert_int_equal(pcitsm_get_be32(buf), PCITSM_SPDMEMU_CMD_UNKNOWN);
	assert_int_equal(pcitsm_get_be32(buf + 8), 0);
	close(fd);

	/* Still serving. */
	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, NULL, pcitsm_env_default()));
	assert_ok(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"c", 1, buf, sizeof(buf), &n));
	pcitsm_xport_close(&t.x);
	assert_int_equal(f->srv.bad_frames, 3);
}

/* ---------------------------------------------------------------------------------------------
 * The server's bounds (docs/security.md, "Socket servers under load"), with short timeouts.
 */
#define BOUND_MS 200u

/* Milliseconds until the server closes fd (EOF or reset, whatever it sent first is read and
 * dropped), or -1 when it has not within limit_ms. */
static long closed_after_ms(int fd, long limit_ms)
{
	struct timespec t0, t1;
	uint8_t buf[256];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long ms;
		ssize_t k;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > limit_ms)
			return -1;
		if (poll(&p, 1, (int)(limit_ms - ms) + 1) <= 0)
			continue;
		k = recv(fd, buf, sizeof(buf), 0);
		if (k <= 0)
			return ms;
	}
}

static void bounds_start(struct fixture *f, unsigned max_conns)
{
	f->srv.max_conns = max_conns;
	f->srv.frame_timeout_ns = BOUND_MS * 1000000ull;
	f->srv.idle_timeout_ns = BOUND_MS * 1000000ull;
	fixture_start(f);
}

/* One exchange on a fresh client, which must be served at once. */
static void served(struct fixture *f, const char *what)
{
	struct pcitsm_xport_tcp t;
	uint8_t rsp[16];
	size_t n;

	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, &short_timeout,
					   pcitsm_env_default()));
	assert_ok(pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)what, 1, rsp, sizeof(rsp),
					&n));
	assert_int_equal(rsp[1], what[0]);
	pcitsm_xport_close(&t.x);
}

/* max_conns: one connection more is closed at once, counted, and a slot that frees up serves. */
static void server_refuses_over_limit(void **state)
{
	struct fixture *f = *state;
	int a, b, c;

	bounds_start(f, 2);
	a = raw_connect(f->port);
	b = raw_connect(f->port);
	c = raw_connect(f->port);
	assert_true(closed_after_ms(c, BOUND_MS / 2) >= 0);
	close(c);
	assert_int_equal(f->srv.refused, 1);
	close(a);
	usleep(20000);
	served(f, "a");
	close(b);
}

/* A slow loris (one header byte, then nothing) and a silent connection are dropped after their
 * timeouts; meanwhile, and after, others are served at once. */
static void server_drops_slow_and_idle(void **state)
{
	static const uint8_t one = 0;
	struct fixture *f = *state;
	int loris, silent;
	long ms;

	bounds_start(f, 8);
	loris = raw_connect(f->port);
	silent = raw_connect(f->port);
	assert_int_equal(send(loris, &one, 1, 0), 1);
	served(f, "b");
	ms = closed_after_ms(loris, 5 * BOUND_MS);
	assert_true(ms >= 0);
	assert_true(closed_after_ms(silent, 5 * BOUND_MS) >= 0);
	served(f, "c");
	assert_true(f->srv.timeouts >= 2);
	close(loris);
	close(silent);
}

/* One owner at a time: B's NORMAL waits while A owns the device; A idle while B waits is dropped
 * after idle_timeout and B is answered then. TEST frames are answered to anyone meanwhile. */
static void server_one_owner_and_handover(void **state)
{
	static const uint8_t test_frame[12] = { 0, 0, 0xde, 0xad, 0, 0, 0, 2, 0, 0, 0, 0 };
	struct fixture *f = *state;
	struct pcitsm_xport_tcp a, b;
	uint8_t rsp[16];
	size_t n;
	int c;

	bounds_start(f, 8);
	f->srv.idle_timeout_ns = 3 * BOUND_MS * 1000000ull;
	assert_ok(pcitsm_xport_tcp_connect(&a, "127.0.0.1", f->port, &short_timeout,
					   pcitsm_env_default()));
	assert_ok(pcitsm_xport_exchange(&a.x, 1, 1, (const uint8_t *)"a", 1, rsp, sizeof(rsp),
					&n));
	/* A TEST from a third connection is answered while A owns the device. */
	c = raw_connect(f->port);
	assert_int_equal(send(c, test_frame, sizeof(test_frame), 0), (ssize_t)sizeof(test_frame));
	assert_int_equal(recv(c, rsp, 12, MSG_WAITALL), 12);
	assert_int_equal(pcitsm_get_be32(rsp), PCITSM_SPDMEMU_CMD_TEST);
	close(c);
	/* B's exchange (client timeout 300 ms) times out: A still owns the device. */
	assert_ok(pcitsm_xport_tcp_connect(&b, "127.0.0.1", f->port, &short_timeout,
					   pcitsm_env_default()));
	assert_err(pcitsm_xport_exchange(&b.x, 1, 1, (const uint8_t *)"b", 1, rsp, sizeof(rsp),
					 &n),
		   PCITSM_E_TIMEOUT);
	assert_int_equal(f->echo.calls, 1);
	pcitsm_xport_close(&b.x);
	/* Now with a patient B: A is dropped after 3 x 200 ms of idleness, B answered. */
	b.opts.timeout_ns = 0;
	assert_ok(pcitsm_xport_tcp_connect(&b, "127.0.0.1", f->port, NULL, pcitsm_env_default()));
	assert_ok(pcitsm_xport_exchange(&b.x, 1, 1, (const uint8_t *)"b", 1, rsp, sizeof(rsp),
					&n));
	assert_int_equal(rsp[1], 'b');
	assert_err(pcitsm_xport_exchange(&a.x, 1, 1, (const uint8_t *)"a", 1, rsp, sizeof(rsp),
					 &n),
		   PCITSM_E_CLOSED);
	pcitsm_xport_close(&a.x);
	pcitsm_xport_close(&b.x);
}

/* A peer that sends requests and never reads the replies: once its socket buffers are full the
 * reply cannot leave; it is dropped frame_timeout later and others are served again. */
static void server_drops_peer_that_does_not_read(void **state)
{
	static uint8_t obj[(256u << 10) + 8], frame[sizeof(obj) + 12];
	struct fixture *f = *state;
	struct pcitsm_wr w;
	struct timespec t0, t1;
	size_t off = 0;
	int fd;

	bounds_start(f, 8);
	pcitsm_wr_init(&w, obj, sizeof(obj));
	assert_ok(pcitsm_doe_obj_build(&w, 1, 1, frame, sizeof(obj) - 8)); /* zeros: echoed */
	pcitsm_wr_init(&w, frame, sizeof(frame));
	assert_ok(pcitsm_spdmemu_frame_build(&w, PCITSM_SPDMEMU_CMD_NORMAL, 2, obj, sizeof(obj)));
	fd = raw_connect(f->port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Send frames back to back for 1.5 s (or until the server closes): never read. */
	for (;;) {
		ssize_t k = send(fd, frame + off, sizeof(frame) - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k > 0)
			off = (off + (size_t)k) % sizeof(frame);
		else if (k < 0 && errno != EAGAIN)
			break;
		else
			usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= 2 || f->srv.timeouts)
			break;
	}
	served(f, "d");
	assert_true(f->srv.timeouts >= 1);
	close(fd);
}

static void server_stop_while_idle_and_connected(void **state)
{
	struct fixture *f = *state;
	int fd;

	fixture_start(f);
	fd = raw_connect(f->port); /* the server now waits inside this connection */
	usleep(20000);
	pcitsm_spdmemu_server_stop(&f->srv);
	pcitsm_spdmemu_server_stop(&f->srv); /* twice is harmless */
	pthread_join(f->thread, NULL);
	f->running = false;
	assert_ok(f->run_err);
	close(fd);
	assert_err(pcitsm_spdmemu_server_run(&f->srv),
		   PCITSM_OK); /* a pending stop returns at once */
}

/* ---------------------------------------------------------------------------------------------
 * A scripted server: answers TEST, reads one frame, then sends the script and either closes or
 * waits for the client to close.
 */
struct script {
	int lfd;
	char port[8];
	const uint8_t *bytes;
	size_t len;
	bool close_after;
	bool reply_test_with_normal;
	pthread_t thread;
};

static bool raw_read_frame(int fd)
{
	uint8_t hdr[12], body[256];
	size_t got = 0, need;
	ssize_t k;

	while (got < 12 && (k = recv(fd, hdr + got, 12 - got, 0)) > 0)
		got += (size_t)k;
	if (got < 12)
		return false;
	need = pcitsm_get_be32(hdr + 8);
	while (need && (k = recv(fd, body, PCITSM_MIN(need, sizeof(body)), 0)) > 0)
		need -= (size_t)k;
	return need == 0;
}

static void *script_thread(void *arg)
{
	static const uint8_t test_reply[12 + 14] = { 0,	  0,   0xde, 0xad, 0,	0,   0,	  2,   0,
						     0,	  0,   14,   'S',  'e', 'r', 'v', 'e', 'r',
						     ' ', 'H', 'e',  'l',  'l', 'o', '!', 0 };
	struct script *s = arg;
	uint8_t tr[sizeof(test_reply)];
	int fd = accept(s->lfd, NULL, NULL);
	uint8_t sink[64];

	if (fd < 0)
		return NULL;
	memcpy(tr, test_reply, sizeof(tr));
	if (s->reply_test_with_normal)
		pcitsm_put_be32(tr, PCITSM_SPDMEMU_CMD_NORMAL);
	if (raw_read_frame(fd) && send(fd, tr, sizeof(tr), 0) > 0 && !s->reply_test_with_normal &&
	    raw_read_frame(fd) && s->len)
		(void)!send(fd, s->bytes, s->len, 0);
	if (!s->close_after)
		while (recv(fd, sink, sizeof(sink), 0) > 0)
			;
	close(fd);
	return NULL;
}

static void script_start(struct script *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
	snprintf(s->port, sizeof(s->port), "%u", ntohs(a.sin_port));
	assert_int_equal(pthread_create(&s->thread, NULL, script_thread, s), 0);
}

/* Connect to a script, exchange once, and return the client's error. */
static pcitsm_err scripted(const uint8_t *bytes, size_t len, bool close_after, size_t rsp_cap)
{
	struct script s = { .bytes = bytes, .len = len, .close_after = close_after };
	struct pcitsm_xport_tcp t;
	uint8_t rsp[64] = { 0 }; /* also the next request's byte: never sent uninitialised */
	size_t n;
	pcitsm_err e;

	script_start(&s);
	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", s.port, &short_timeout,
					   pcitsm_env_default()));
	e = pcitsm_xport_exchange(&t.x, 1, 1, (const uint8_t *)"", 2, rsp, rsp_cap, &n);
	/* After an error that left the stream out of step the connection is dead; otherwise it is
	 * still usable (the script answers nothing more, so the next exchange times out). */
	if (e != PCITSM_OK) {
		pcitsm_err next = t.broken ? PCITSM_E_DEAD : PCITSM_E_TIMEOUT;
		assert_err(pcitsm_xport_exchange(&t.x, 1, 1, rsp, 1, rsp, sizeof(rsp), &n), next);
	}
	pcitsm_xport_close(&t.x);
	pthread_join(s.thread, NULL);
	close(s.lfd);
	return e;
}

#define NORMAL_HDR(tr, n) 0, 0, 0, 1, 0, 0, 0, tr, 0, 0, 0, n
static void client_rejects_bad_replies(void **state)
{
	static const uint8_t good[] = { NORMAL_HDR(2, 12), 1, 0, 1, 0, 3, 0, 0, 0, 'R', 1, 2, 0 };
	static const uint8_t wrong_cmd[] = { 0, 0, 0xff, 0xff, 0, 0, 0, 2, 0, 0, 0, 0 };
	static const uint8_t wrong_tr[] = {
		NORMAL_HDR(0, 12), 1, 0, 1, 0, 3, 0, 0, 0, 'R', 1, 2, 0
	};
	static const uint8_t wrong_type[] = {
		NORMAL_HDR(2, 12), 1, 0, 2, 0, 3, 0, 0, 0, 1, 2, 3, 4
	};
	static const uint8_t len_short[] = {
		NORMAL_HDR(2, 12), 1, 0, 1, 0, 4, 0, 0, 0, 1, 2, 3, 4
	};
	static const uint8_t len_long[] = { NORMAL_HDR(2, 12), 1, 0, 1, 0, 2, 0, 0, 0, 1, 2, 3, 4 };
	static const uint8_t oversize[] = { 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x40, 0x00, 0x01 };
	static const uint8_t mid_frame[] = { NORMAL_HDR(2, 12), 1, 0, 1, 0 };
	static const uint8_t mid_header[] = { 0, 0, 0 };

	assert_ok(scripted(good, sizeof(good), false, 64));
	assert_err(scripted(good, sizeof(good), false, 3), PCITSM_E_TRUNCATED);
	assert_err(scripted(wrong_cmd, sizeof(wrong_cmd), false, 64), PCITSM_E_UNEXPECTED);
	assert_err(scripted(wrong_tr, sizeof(wrong_tr), false, 64), PCITSM_E_UNEXPECTED);
	assert_err(scripted(wrong_type, sizeof(wrong_type), false, 64), PCITSM_E_FIELD);
	assert_err(scripted(len_short, sizeof(len_short), false, 64), PCITSM_E_SHORT);
	assert_err(scripted(len_long, sizeof(len_long), false, 64), PCITSM_E_LONG);
	assert_err(scripted(oversize, sizeof(oversize), false, 64), PCITSM_E_RANGE);
	assert_err(scripted(mid_frame, sizeof(mid_frame), true, 64), PCITSM_E_CLOSED);
	assert_err(scripted(mid_header, sizeof(mid_header), true, 64), PCITSM_E_CLOSED);
	assert_err(scripted(NULL, 0, false, 64), PCITSM_E_TIMEOUT);
}

static void client_handshake_failures(void **state)
{
	struct script s = { .reply_test_with_normal = true };
	struct pcitsm_xport_tcp t;

	script_start(&s);
	assert_err(pcitsm_xport_tcp_connect(&t, "127.0.0.1", s.port, &short_timeout,
					    pcitsm_env_default()),
		   PCITSM_E_UNEXPECTED);
	pthread_join(s.thread, NULL);
	/* Nobody listening any more. */
	close(s.lfd);
	assert_err(pcitsm_xport_tcp_connect(&t, "127.0.0.1", s.port, &short_timeout,
					    pcitsm_env_default()),
		   PCITSM_E_CLOSED);
	assert_err(pcitsm_xport_tcp_connect(&t, "no-such-host.invalid", "2323", &short_timeout,
					    pcitsm_env_default()),
		   PCITSM_E_NOTFOUND);
}

/* ---------------------------------------------------------------------------------------------
 * DECAP_TDISP: a bare TDISP GET_DEVICE_INTERFACE_STATE outside any session (docs/transports.md).
 */
static size_t tdisp_req(uint8_t *buf, size_t cap, uint8_t code, uint32_t fid)
{
	struct pcitsm_tdisp_msg m;
	struct pcitsm_wr w;

	memset(&m, 0, sizeof(m));
	m.code = code;
	m.function_id = fid;
	pcitsm_wr_init(&w, buf, cap);
	assert_ok(pcitsm_tdisp_encode(&w, &m));
	return pcitsm_wr_len(&w);
}

static void decap_tdisp_state_over_a_client(void **state)
{
	struct fixture *f = *state;
	static struct pcitsm_tdisp_dsm dsm;
	static struct pcitsm_idekm_rsp km;
	struct pcitsm_tdisp_ifdesc desc;
	struct pcitsm_spdmemu_frame_hdr rh;
	struct pcitsm_xport_tcp t;
	struct pcitsm_tdisp_msg m;
	uint8_t req[64], rsp[64];
	size_t n;

	memset(&desc, 0, sizeof(desc));
	desc.interface_info = PCITSM_TDISP_INFO_DMA_NO_PASID;
	desc.bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x4000, false, false };
	desc.nr_bars = 1;
	pcitsm_idekm_rsp_init(&km, pcitsm_env_default());
	assert_ok(pcitsm_tdisp_dsm_init(&dsm, pcitsm_env_default(), &km, NULL));
	assert_ok(pcitsm_tdisp_dsm_add_tdi(&dsm, 0x0100, 0x0100, &desc));
	assert_ok(pcitsm_tdisp_dsm_add_tdi(&dsm, 0x0101, 0x0100, &desc));
	/* The VF as a started TDI would be. */
	pcitsm_tdisp_dsm_find(&dsm, 0x0101)->state = PCITSM_TDISP_RUN;

	fixture_start(f);
	assert_ok(pcitsm_xport_tcp_connect(&t, "127.0.0.1", f->port, NULL, pcitsm_env_default()));
	/* A server without a DSM behind it answers UNKNOWN, as spdm-emu without the command. */
	n = tdisp_req(req, sizeof(req), PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE, 0x0100);
	assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_DECAP_TDISP,
					   PCITSM_SPDMEMU_TRANSPORT_PCI_DOE, req, n, &rh, rsp,
					   sizeof(rsp)));
	assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_UNKNOWN);
	assert_int_equal(rh.payload_size, 0);
	f->srv.decap_arg = &dsm;
	f->srv.decap_tdisp = pcitsm_spdmemu_decap_tdisp_dsm;

	/* Each TDI's own state, answered NORMAL with the bare TDISP response. */
	for (uint32_t fid = 0x0100; fid <= 0x0101; fid++) {
		n = tdisp_req(req, sizeof(req), PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE, fid);
		assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_DECAP_TDISP,
						   PCITSM_SPDMEMU_TRANSPORT_PCI_DOE, req, n, &rh, rsp,
						   sizeof(rsp)));
		assert_int_equal(rh.command, PCITSM_SPDMEMU_CMD_NORMAL);
		assert_ok(pcitsm_tdisp_decode(rsp, rh.payload_size, &m));
		assert_int_equal(m.code, PCITSM_TDISP_DEVICE_INTERFACE_STATE);
		assert_int_equal(m.function_id, fid);
		assert_int_equal(m.u.state, fid == 0x0100 ? PCITSM_TDISP_CONFIG_UNLOCKED
							  : PCITSM_TDISP_RUN);
	}
	/* Outside a session only the state is served: LOCK is UNSUPPORTED_REQUEST and changes
	 * nothing; an unknown function INVALID_INTERFACE; a short request INVALID_REQUEST. */
	n = tdisp_req(req, sizeof(req), PCITSM_TDISP_STOP_INTERFACE_REQUEST, 0x0101);
	assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_DECAP_TDISP, 2, req, n, &rh, rsp,
					   sizeof(rsp)));
	assert_ok(pcitsm_tdisp_decode(rsp, rh.payload_size, &m));
	assert_int_equal(m.code, PCITSM_TDISP_TDISP_ERROR);
	assert_int_equal(m.u.error.code, PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST);
	assert_int_equal(pcitsm_tdisp_dsm_find(&dsm, 0x0101)->state, PCITSM_TDISP_RUN);
	n = tdisp_req(req, sizeof(req), PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE, 0x0200);
	assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_DECAP_TDISP, 2, req, n, &rh, rsp,
					   sizeof(rsp)));
	assert_ok(pcitsm_tdisp_decode(rsp, rh.payload_size, &m));
	assert_int_equal(m.u.error.code, PCITSM_TDISP_ERR_INVALID_INTERFACE);
	assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_DECAP_TDISP, 2, req, 5, &rh, rsp,
					   sizeof(rsp)));
	assert_ok(pcitsm_tdisp_decode(rsp, rh.payload_size, &m));
	assert_int_equal(m.u.error.code, PCITSM_TDISP_ERR_INVALID_REQUEST);
	/* One byte too long: INVALID_REQUEST too (exact size). */
	n = tdisp_req(req, sizeof(req), PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE, 0x0100);
	req[n] = 0;
	assert_ok(pcitsm_xport_tcp_command(&t, PCITSM_SPDMEMU_CMD_DECAP_TDISP, 2, req, n + 1, &rh,
					   rsp, sizeof(rsp)));
	assert_ok(pcitsm_tdisp_decode(rsp, rh.payload_size, &m));
	assert_int_equal(m.u.error.code, PCITSM_TDISP_ERR_INVALID_REQUEST);
	pcitsm_xport_close(&t.x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_header_exact),
		cmocka_unit_test(frame_oversize_and_lengths),
		cmocka_unit_test_setup_teardown(serve_step_commands, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(serve_step_normal, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(client_exchange_and_discovery, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(client_continue_keeps_state_and_shutdown_stops,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(server_survives_malformed_frames, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(server_stop_while_idle_and_connected, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(shutdown_then_reconnect_loop, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(server_refuses_over_limit, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(server_drops_slow_and_idle, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(server_one_owner_and_handover, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(server_drops_peer_that_does_not_read, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(client_connection_refused, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(decap_tdisp_state_over_a_client, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(client_rejects_bad_replies),
		cmocka_unit_test(client_handshake_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
