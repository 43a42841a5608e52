/* SPDX-License-Identifier: MIT */
/*
 * Campaign against our responders (docs/security.md "Campaigns against our requester and
 * responders"): a hostile requester sends mutated requests to an emulated device of the one
 * emulated platform (the SPDM responder, secured messages, IDE_KM and TDISP inside a real session),
 * in process through the loopback transport and over a socket to the spdm-emu server
 * (lib/transport/tcp.c, what `pcitsm emulate --listen` and pcitsmd's device ports run). Then the
 * firmware TSM's full connect + lock + accept of that device must still succeed, and the heap and
 * RSS must stay flat (bounded; the figures go to stdout).
 * Requests: PCITSM_CAMPAIGN_TRIALS (default 4000); seed PCITSM_CAMPAIGN_SEED.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "campaign_mut.h"
#include "pcitsm/doe.h"
#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm_driver.h"
#include "pcitsm/tdisp.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"

#define PF "0000:01:00.0"
#define VF1 "0000:01:00.1"
#define RSS_BOUND_KB 4096 /* growth allowed over the whole run, after the warm-up */
#define HEAP_BOUND 65536

struct hostile {
	struct fx *fx;
	struct pcitsm_emu_func *ep;
	struct pcitsm_xport_loop loop;
	struct mut_xport m; /* records a clean run's objects: the corpus of raw requests */
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_spdm_auth_result res;
	struct pcitsm_spdm_req r;
	struct pcitsm_spdm_session s;
	bool have_r;
	unsigned long sent, answered, refused, reopened, raw, vdm, tcp, tcp_reconnects;
};

static struct fx *fx_new(void)
{
	return test_tsm_new(29, 1);
}

/* The firmware TSM's whole flow on the device, and back. */
static void full_flow(struct fx *fx)
{
	struct pcitsm_bdf vf1 = B(VF1);
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));

	assert_non_null(ev);
	assert_int_equal(W(fx, pcitsm_tsm_connect_write, PF, "tsm0"), 0);
	assert_int_equal(W(fx, pcitsm_tsm_lock_write, VF1, "tsm1"), 0);
	assert_ok(pcitsm_tsm_tdi_evidence_get(fx->m.core, &vf1, ev));
	assert_int_equal(W(fx, pcitsm_tsm_accept_write, VF1, "1"), 0);
	assert_int_equal(pcitsm_emu_tdi_state(pcitsm_emu_find(&fx->m.plat, &vf1)),
			 PCITSM_TDISP_RUN);
	assert_int_equal(W(fx, pcitsm_tsm_unlock_write, VF1, "tsm1"), 0);
	assert_int_equal(W(fx, pcitsm_tsm_disconnect_write, PF, "tsm0"), 0);
	free(ev);
}

static size_t rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

/* Our own session with the device (the hostile requester is a conformant one first). */
static void open_session(struct hostile *h)
{
	if (h->have_r) {
		pcitsm_spdm_auth_result_free(&h->res);
		pcitsm_spdm_req_free(&h->r);
	}
	pcitsm_spdm_session_wipe(&h->s);
	assert_ok(pcitsm_spdm_drv_req_authenticate(&h->r, &h->loop.x, &h->ao, &h->res));
	h->have_r = true;
	assert_ok(pcitsm_spdm_drv_session_open(&h->s, &h->r, &h->loop.x, NULL));
	h->reopened++;
}

/* A valid IDE_KM or TDISP request of a random kind (the mutation comes after).
 */
static size_t vdm_request(struct hostile *h, uint8_t *buf, size_t cap, uint8_t *proto)
{
	struct pcitsm_wr w;
	uint64_t k = mut_rand(&h->m);

	pcitsm_wr_init(&w, buf, cap);
	if (k % 2) {
		struct pcitsm_tdisp_msg m = {0};
		static const uint8_t codes[] = {
			PCITSM_TDISP_GET_TDISP_VERSION,
			PCITSM_TDISP_GET_TDISP_CAPABILITIES,
			PCITSM_TDISP_LOCK_INTERFACE_REQUEST,
			PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT,
			PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE,
			PCITSM_TDISP_START_INTERFACE_REQUEST,
			PCITSM_TDISP_STOP_INTERFACE_REQUEST,
		};

		*proto = PCITSM_SPDM_PROTO_TDISP;
		m.code = codes[(k >> 8) % sizeof(codes)];
		m.function_id = (k >> 16) % 3 ? 0x0101 : 0x0100;
		if (m.code == PCITSM_TDISP_LOCK_INTERFACE_REQUEST) {
			m.u.lock.flags = 0;
			m.u.lock.stream_id = (uint8_t)(k >> 24);
		} else if (m.code == PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT) {
			m.u.get_report.offset = (uint16_t)((k >> 24) % 64);
			m.u.get_report.length = (uint16_t)(1 + (k >> 32) % 2048);
		} else if (m.code == PCITSM_TDISP_START_INTERFACE_REQUEST) {
			for (unsigned i = 0; i < PCITSM_TDISP_NONCE_LEN; i++)
				m.u.nonce[i] = (uint8_t)mut_rand(&h->m);
		}
		if (m.code == PCITSM_TDISP_GET_TDISP_VERSION)
			m.function_id = 0;
		assert_ok(pcitsm_tdisp_encode(&w, &m));
	} else {
		struct pcitsm_idekm_key_prog kp = {0};

		*proto = PCITSM_SPDM_PROTO_IDE_KM;
		kp.ks.stream_id = (uint8_t)(k >> 8);
		kp.ks.kset = (k >> 16) & 1;
		kp.ks.dir = (k >> 17) & 1 ? PCITSM_IDE_TX : PCITSM_IDE_RX;
		kp.ks.sub = (enum pcitsm_ide_sub)((k >> 18) % 3);
		switch ((k >> 24) % 4) {
		case 0:
			assert_ok(pcitsm_idekm_query_encode(&w, (uint8_t)((k >> 32) % 2)));
			break;
		case 1:
			for (unsigned i = 0; i < sizeof(kp.key); i++)
				kp.key[i] = (uint8_t)mut_rand(&h->m);
			kp.ks.obj = PCITSM_IDEKM_KEY_PROG;
			assert_ok(pcitsm_idekm_key_prog_encode(&w, &kp));
			break;
		default:
			kp.ks.obj = (k >> 24) % 4 == 2 ? PCITSM_IDEKM_K_SET_GO
						       : PCITSM_IDEKM_K_SET_STOP;
			assert_ok(pcitsm_idekm_ks_encode(&w, &kp.ks));
			break;
		}
		pcitsm_wipe(&kp, sizeof(kp));
	}
	return pcitsm_wr_len(&w);
}

/* Mutate a request in place (byte 0, the Protocol ID of a VDM, stays when keep0). */
static size_t mutate(struct hostile *h, uint8_t *b, size_t n, size_t cap, bool keep0)
{
	size_t from = keep0 ? 1 : 0;
	size_t add;

	if (n <= from)
		return n;
	switch (mut_rand(&h->m) % 6) {
	case 0: /* flips */
		for (unsigned i = 1 + (unsigned)(mut_rand(&h->m) % 3); i; i--)
			b[from + mut_rand(&h->m) % (n - from)] ^=
				(uint8_t)(1u << (mut_rand(&h->m) % 8));
		return n;
	case 1: /* truncation */
		return from + (size_t)(mut_rand(&h->m) % (n - from));
	case 2: /* extension */
		add = 1 + (size_t)(mut_rand(&h->m) % 64);
		if (n + add > cap)
			add = cap - n;
		for (size_t i = 0; i < add; i++)
			b[n + i] = (uint8_t)mut_rand(&h->m);
		return n + add;
	case 3: /* a random byte among the first (codes, IDs, lengths) */
		b[from + mut_rand(&h->m) % PCITSM_MIN(n - from, (size_t)12)] =
			(uint8_t)mut_rand(&h->m);
		return n;
	case 4: /* a length-like 16-bit field off by a little */
		if (n - from >= 4) {
			size_t at = from + (size_t)(mut_rand(&h->m) % (n - from - 1));

			b[at] = (uint8_t)(b[at] + 1 + mut_rand(&h->m) % 4);
		}
		return n;
	default: /* unchanged: a valid request, in whatever state the device is */
		return n;
	}
}

/* A mutated IDE_KM / TDISP request inside our session. */
static void send_vdm(struct hostile *h)
{
	uint8_t req[256], out[PCITSM_TDISP_MSG_MAX];
	struct pcitsm_wr w;
	uint8_t proto;
	size_t n;
	pcitsm_err e;

	if (h->s.state != PCITSM_SPDM_SESSION_ESTABLISHED)
		open_session(h);
	n = vdm_request(h, req, sizeof(req) - 64, &proto);
	n = mutate(h, req, n, sizeof(req), true);
	pcitsm_wr_init(&w, out, sizeof(out));
	e = pcitsm_spdm_drv_vdm_call(&h->s, &h->loop.x, proto, req, n, &w);
	pcitsm_wipe(req, sizeof(req));
	h->sent++;
	h->vdm++;
	if (!e) {
		h->answered++;
		return;
	}
	h->refused++;
	/* Refused, or the session is gone at the device (a raw GET_VERSION ends it): a clean
	 * HEARTBEAT tells which. */
	if (h->s.state == PCITSM_SPDM_SESSION_ESTABLISHED &&
	    pcitsm_spdm_drv_session_heartbeat(&h->s, &h->loop.x) != PCITSM_OK)
		pcitsm_spdm_session_wipe(&h->s);
}

/* A mutated raw object (a clean run's SPDM request or secured record) straight to the device. */
static void send_raw(struct hostile *h)
{
	const struct mut_obj *o = &h->m.base_req[mut_rand(&h->m) % h->m.nr_base];
	uint8_t *req = malloc(o->len + 64), *rsp = malloc(PCITSM_DOE_MAX_BYTES);
	size_t n, rl = 0;

	assert_non_null(req);
	assert_non_null(rsp);
	memcpy(req, o->b, o->len);
	n = mutate(h, req, o->len, o->len + 64, false);
	if (h->loop.x.ops->exchange(&h->loop.x, PCITSM_DOE_VID_PCISIG, o->type, req, n, rsp,
				    PCITSM_DOE_MAX_BYTES, &rl) == PCITSM_OK)
		h->answered++;
	else
		h->refused++;
	h->sent++;
	h->raw++;
	free(req);
	free(rsp);
}

/* ---------------------------------------------------------------------------------------------
 * Over a socket: the spdm-emu server on the device, fed mutated frames.
 */
struct srv {
	struct pcitsm_spdmemu_server s;
	pthread_t th;
};

static void *srv_run(void *arg)
{
	struct srv *v = arg;

	if (pcitsm_spdmemu_server_run(&v->s) != PCITSM_OK)
		abort();
	return NULL;
}

static int tcp_open(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* One frame: a clean run's CMA object as a NORMAL PCI_DOE payload (DOE header included), the frame
 * header or the object mutated. Returns the connection (a new one when the server closed it or did
 * not answer in time). */
static int send_frame(struct hostile *h, int fd, uint16_t port)
{
	const struct mut_obj *o = &h->m.base_req[mut_rand(&h->m) % h->m.nr_base];
	size_t cap = PCITSM_SPDMEMU_FRAME_HDR_LEN + 8 + o->len + 64;
	uint8_t *f = malloc(cap), rsp[4096];
	size_t n = 8 + o->len;
	uint32_t dw = (uint32_t)(n / 4);
	ssize_t got;

	assert_non_null(f);
	/* DOE header (PCIe 6.x §6.30.1): vendor, type, length in DW. */
	f[12] = 0x01;
	f[13] = 0x00;
	f[14] = o->type;
	f[15] = 0;
	f[16] = (uint8_t)dw;
	f[17] = (uint8_t)(dw >> 8);
	f[18] = (uint8_t)(dw >> 16) & 0x03;
	f[19] = 0;
	memcpy(f + 20, o->b, o->len);
	n = mutate(h, f + 12, n, cap - 12, false);
	pcitsm_put_be32(f, PCITSM_SPDMEMU_CMD_NORMAL);
	pcitsm_put_be32(f + 4, PCITSM_SPDMEMU_TRANSPORT_PCI_DOE);
	pcitsm_put_be32(f + 8, (uint32_t)n);
	if (mut_rand(&h->m) % 8 == 0) /* the frame header itself */
		f[mut_rand(&h->m) % 12] ^= (uint8_t)(1u << (mut_rand(&h->m) % 8));
	h->sent++;
	h->tcp++;
	if (send(fd, f, 12 + n, MSG_NOSIGNAL) != (ssize_t)(12 + n))
		got = -1;
	else
		got = recv(fd, rsp, sizeof(rsp), 0);
	free(f);
	if (got > 0) {
		h->answered++;
		/* Drain the rest of a long answer so that frames stay in step. */
		while (recv(fd, rsp, sizeof(rsp), MSG_DONTWAIT) > 0)
			;
		return fd;
	}
	h->refused++;
	close(fd);
	h->tcp_reconnects++;
	return tcp_open(port);
}

static void sockets(struct hostile *h, unsigned long n)
{
	struct srv *v = calloc(1, sizeof(*v));
	int fd;

	assert_non_null(v);
	assert_ok(pcitsm_spdmemu_server_init(&v->s, &h->ep->doe, &h->fx->env.env));
	v->s.serve_after_shutdown = true;
	assert_ok(pcitsm_spdmemu_server_listen(&v->s, "127.0.0.1", "0"));
	assert_int_equal(pthread_create(&v->th, NULL, srv_run, v), 0);
	fd = tcp_open(v->s.port);
	for (unsigned long i = 0; i < n; i++)
		fd = send_frame(h, fd, v->s.port);
	close(fd);
	pcitsm_spdmemu_server_stop(&v->s);
	assert_int_equal(pthread_join(v->th, NULL), 0);
	printf("  spdm-emu server: %lu connections, %lu frames, %lu malformed\n", v->s.connections,
	       v->s.frames, v->s.bad_frames);
	pcitsm_spdmemu_server_close(&v->s);
	free(v);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hostile_requester(void **state)
{
	struct hostile *h = calloc(1, sizeof(*h));
	const char *s = getenv("PCITSM_CAMPAIGN_TRIALS");
	unsigned long n = s && *s ? strtoul(s, NULL, 0) : 4000, warm = n / 10;
	const char *seed = getenv("PCITSM_CAMPAIGN_SEED");
	struct pcitsm_bdf pf = B(PF);
	size_t rss0 = 0, rss1, heap0 = 0, heap1;
	double t0;

	(void)state;
	assert_non_null(h);
	h->fx = fx_new();
	h->ep = pcitsm_emu_find(&h->fx->m.plat, &pf);
	assert_non_null(h->ep);
	pcitsm_xport_loop_init(&h->loop, &h->ep->doe);
	mut_install(&h->m, &h->loop.x, seed ? strtoull(seed, NULL, 0) : 1);
	pcitsm_spdm_auth_opts_default(&h->ao, &h->fx->env.env);
	h->ao.cfg.trust = h->fx->m.trust;
	/* The corpus: a clean authentication, session and a few VDMs, as the device saw them. */
	open_session(h);
	for (unsigned i = 0; i < 8; i++)
		send_vdm(h);
	mut_keep_base(&h->m);
	assert_true(h->m.nr_base > 8);
	full_flow(h->fx); /* and the device was good before */
	h->sent = h->answered = h->refused = h->vdm = h->raw = 0;

	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		if (i == warm) {
			rss0 = rss_kb();
			heap0 = test_heap_in_use();
		}
		mut_flow_reset(&h->m); /* the recorder keeps nothing per request */
		/* Batches, so that a session survives a run of in-session requests. */
		if ((i / 64) % 4 == 3)
			send_raw(h);
		else
			send_vdm(h);
	}
	rss1 = rss_kb();
	heap1 = test_heap_in_use();
	if (h->s.state == PCITSM_SPDM_SESSION_ESTABLISHED &&
	    pcitsm_spdm_drv_session_end(&h->s, &h->loop.x) != PCITSM_OK)
		h->refused++; /* a raw request last ended it at the device */
	printf("campaign hostile_requester: %lu requests in process (%lu "
	       "IDE_KM/TDISP in a session, "
	       "%lu raw SPDM/secured), %lu answered, %lu refused or silent, %lu "
	       "sessions, %.1f s\n",
	       h->sent, h->vdm, h->raw, h->answered, h->refused, h->reopened, now_s() - t0);
	printf("  RSS %zu kB -> %zu kB, heap %zu -> %zu bytes (after %lu warm-up "
	       "requests)\n",
	       rss0, rss1, heap0, heap1, warm);
	/* Under valgrind the RSS is memcheck's shadow memory and the heap counter reads 0: not
	 * judged there (the release and sanitizer runs judge them). */
	if (test_under_valgrind())
		printf("  RSS and heap not judged under valgrind\n");
	else
		assert_true(rss1 <= rss0 + RSS_BOUND_KB);
	assert_true(heap1 <= heap0 + HEAP_BOUND);
	/* The device still does the whole flow for the firmware TSM. */
	full_flow(h->fx);

	/* Over a socket. */
	h->sent = h->answered = h->refused = 0;
	t0 = now_s();
	rss0 = rss_kb();
	sockets(h, n / 10);
	printf("campaign hostile_requester tcp: %lu frames, %lu answered, %lu "
	       "refused or unanswered "
	       "(%lu reconnects), %.1f s, RSS %zu kB -> %zu kB\n",
	       h->tcp, h->answered, h->refused, h->tcp_reconnects, now_s() - t0, rss0, rss_kb());
	full_flow(h->fx);
	fflush(stdout);

	pcitsm_spdm_session_wipe(&h->s);
	pcitsm_spdm_auth_result_free(&h->res);
	pcitsm_spdm_req_free(&h->r);
	mut_remove(&h->m);
	fx_free(h->fx);
	free(h);
}

int main(void)
{
	return test_run(hostile_requester);
}
