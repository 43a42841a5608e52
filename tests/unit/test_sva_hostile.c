/* SPDX-License-Identifier: MIT */
/*
 * Hostile processes against the emulated SVA device (docs/sva.md "Hostile processes"): no
 * descriptor, PASID or timing lets a process make the device touch another process's memory, and
 * no process can starve the others of the device server.
 *
 * The whole program runs in a PID namespace of its own, as its init, so that a test can give a new
 * process the PID of one that just died (clone3 with set_tid) and the PASID space is small
 * (2 bits: PASIDs 1..3), so PASIDs come back at once. Every race runs ITER times; in each, a second
 * process holds a canary pattern at the addresses the device was told to write, and checks that
 * no byte of it changes.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcitsm/sva.h"
#include "sva/sva_priv.h"

#define NDEV 4
#define ITER 200
#define WAIT_MS 3000
/* The server's bounds in this program (pcitsm_sva_server_cfg) */
#define MAX_CONNS 40
#define PER_UID 24
#define PER_PROC 8
#define IDLE_MS 1000
#define OTHER_UID 65534

/* MAP_PRIVATE, made before any fork: every process of the test has its own copy at the same
 * address, so an address one process hands the device names memory in each of them. */
#define FILL_LEN (8u << 20)
#define AREA_Y (FILL_LEN + 4096)     /* 64 KiB: canaries of the short races */
#define AREA_RING (AREA_Y + 65536)   /* 4 KiB: a ring as another process lays it out */
#define AREA_COMP (AREA_RING + 4096) /* 4 KiB: completion records */
#define ARENA (AREA_COMP + 4096)
static uint8_t *arena;

static char sock[108];
static bool other_user; /* real root: another uid can be taken (not in a user namespace of ours) */
static pid_t server;
static int srv_cmd = -1, srv_ans = -1;

/* ---------------------------------------------------------------------------------------------
 * The server, a process of the namespace; asked for its RSS and descriptor count over a pipe.
 */

static uint64_t self_rss_kb(void)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static uint64_t self_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	uint64_t n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void server_main(int cmd, int ans)
{
	struct pcitsm_sva_server_cfg c = { .socket_path = sock, .ndev = NDEV,
					   .max_conns = MAX_CONNS, .max_conns_per_uid = PER_UID,
					   .max_conns_per_proc = PER_PROC,
					   .idle_timeout_ms = IDLE_MS, .pasid_bits = 2 };
	struct pcitsm_sva_server *s;
	char op;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pcitsm_sva_server_start_cfg(&c, &s) || chmod(sock, 0666))
		_exit(1);
	(void)!write(ans, "R", 1);
	while (read(cmd, &op, 1) == 1 && op == 'M') {
		uint64_t v[2] = { self_rss_kb(), self_fds() };

		(void)!write(ans, v, sizeof(v));
	}
	pcitsm_sva_server_stop(s);
	_exit(0);
}

static void srv_query(uint64_t *rss_kb, uint64_t *fds)
{
	uint64_t v[2];

	assert_int_equal(write(srv_cmd, "M", 1), 1);
	assert_int_equal(read(srv_ans, v, sizeof(v)), (ssize_t)sizeof(v));
	*rss_kb = v[0];
	*fds = v[1];
}

static int group_setup(void **state)
{
	int cmd[2], ans[2];
	char c;

	(void)state;
	if (pipe(cmd) || pipe(ans))
		return -1;
	server = fork();
	if (server < 0)
		return -1;
	if (server == 0) {
		close(cmd[1]);
		close(ans[0]);
		server_main(cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	srv_cmd = cmd[1];
	srv_ans = ans[0];
	return read(srv_ans, &c, 1) == 1 ? 0 : -1;
}

static int group_teardown(void **state)
{
	int st;

	(void)state;
	close(srv_cmd);
	for (int i = 0; i < 500; i++) {
		if (waitpid(server, &st, WNOHANG) == server)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
		usleep(10000);
	}
	kill(server, SIGKILL);
	(void)waitpid(server, &st, 0);
	return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Helpers.
 */

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000u +
	       (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* The namespace's init reaps every orphan (a helper whose parent was killed). */
static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* fork(), the child getting pid want (which must be free): clone3's set_tid. */
static pid_t fork_as(pid_t want)
{
	struct clone_args a = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)&want,
				.set_tid_size = 1 };

	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

/* Open device idx; a device still quiescing from its last owner is retried for WAIT_MS. */
static pcitsm_err open_retry(unsigned idx, struct pcitsm_sva_dev **dev)
{
	struct timespec t0;
	char why[200];
	pcitsm_err e;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((e = pcitsm_sva_open_emu(sock, idx, dev, why, sizeof(why))) == PCITSM_E_BUSY &&
	       ms_since(&t0) < WAIT_MS)
		usleep(500);
	return e;
}

/* Bytes of p[0..n) that are not v. */
static size_t bytes_not(const uint8_t *p, size_t n, uint8_t v)
{
	static uint8_t ref[4096];
	size_t bad = 0;

	memset(ref, v, sizeof(ref));
	for (size_t o = 0; o < n; o += sizeof(ref)) {
		size_t k = PCITSM_MIN(sizeof(ref), n - o);

		if (memcmp(p + o, ref, k) == 0)
			continue;
		for (size_t i = 0; i < k; i++)
			bad += p[o + i] != v;
	}
	return bad;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	return bytes_not(p, n, v) == 0;
}

static pcitsm_err run_desc(struct pcitsm_sva_ring *r, const struct pcitsm_sva_desc *d,
			   uint8_t *comp, struct pcitsm_sva_comp *c)
{
	memset(comp, 0, PCITSM_SVA_COMP_SIZE);
	PCITSM_TRY(pcitsm_sva_submit(r, d, comp));
	return pcitsm_sva_wait(r, comp, WAIT_MS, c);
}

/* Wait until HEAD passes head (the device consumed one descriptor), at most WAIT_MS. */
static bool consumed(volatile uint8_t *regs, uint32_t head)
{
	for (int i = 0; i < WAIT_MS && sva_reg_rd32(regs, PCITSM_SVA_REG_HEAD) == head; i++)
		usleep(1000);
	return sva_reg_rd32(regs, PCITSM_SVA_REG_HEAD) != head;
}

static int raw_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { 3, 0 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(a.sun_path, sock);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send len bytes with nfds descriptors; the reply's cause (0: success), or -1 without one. The
 * descriptor a reply carries (a BIND's registers) is in *got when got is not NULL, else closed. */
static int raw_exchange_fd(int sfd, const void *msg, size_t len, const int *fds, unsigned nfds,
			   struct sva_rep *rep, int *got)
{
	union {
		char b[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} u = { 0 }, ur;
	struct iovec iov = { (void *)(uintptr_t)msg, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint8_t buf[SVA_REP_SIZE + 8];
	struct iovec riov = { buf, sizeof(buf) };
	struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = ur.b,
			     .msg_controllen = sizeof(ur.b) };
	struct cmsghdr *h;
	struct sva_rep p;
	int rfd = -1;
	ssize_t n;

	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = u.b;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sfd, &m, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	n = recvmsg(sfd, &rm, MSG_CMSG_CLOEXEC);
	h = n > 0 ? CMSG_FIRSTHDR(&rm) : NULL;
	if (h && h->cmsg_type == SCM_RIGHTS)
		memcpy(&rfd, CMSG_DATA(h), sizeof(int));
	if (got)
		*got = rfd;
	else if (rfd >= 0)
		close(rfd);
	if (n != SVA_REP_SIZE || sva_rep_decode(buf, (size_t)n, &p))
		return -1;
	if (rep)
		*rep = p;
	return p.err ? (int)p.cause : 0;
}

static int raw_exchange(int sfd, const void *msg, size_t len, const int *fds, unsigned nfds,
			struct sva_rep *rep)
{
	return raw_exchange_fd(sfd, msg, len, fds, nfds, rep, NULL);
}

static int raw_req(int sfd, uint8_t op, uint16_t idx, uint64_t len, const int *fds,
		   unsigned nfds, struct sva_rep *rep)
{
	uint8_t q[SVA_REQ_SIZE];

	sva_req_encode(&(struct sva_req){ .op = op, .index = idx, .length = len }, q);
	return raw_exchange(sfd, q, sizeof(q), fds, nfds, rep);
}

/* ---------------------------------------------------------------------------------------------
 * Races of identity: exit, PID reuse, PASID reuse, rebind, fork, a passed descriptor.
 */

struct shared {
	uint32_t p_pasid, q_pasid;
	pid_t helper;
	uint64_t q_hit; /* bytes of Q's canary that changed */
};
/* What one IOMMU access moves at most: one delivery of a burst of requests (docs/sva.md "DMA as
 * TLPs"), MPS 4 KiB. The pidfd check precedes each access, so this is the most that may land in
 * a process that got the pid of one that died while the access was under way. */
#define ONE_ACCESS (PCITSM_IDE_WIRE_BURST * 4096u)
static struct shared *sh;

/* Process P: bind device 0, start a FILL of FILL_LEN over its arena, optionally leave a helper
 * holding the device open (so the server sees no hang-up when P dies), say "started", wait. */
static void proc_p(int go, bool held)
{
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	uint8_t *comp = arena + AREA_COMP;

	if (open_retry(0, &dev) || pcitsm_sva_ring_init(&r, dev, 16))
		_exit(1);
	sh->p_pasid = pcitsm_sva_pasid(dev);
	memset(comp, 0, 64);
	if (pcitsm_sva_submit(&r, &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_FILL,
							    .pasid = pcitsm_sva_pasid(dev),
							    .dst = (uintptr_t)arena, .len = FILL_LEN,
							    .pattern = 0x5a5a5a5a5a5a5a5aull },
			      comp))
		_exit(1);
	if (held) {
		pid_t h = fork();

		if (h == 0) {
			for (;;)
				pause(); /* holds the socket: the device stays open */
		}
		sh->helper = h;
	}
	for (int i = 0; i < WAIT_MS && ((volatile uint8_t *)arena)[0] != 0x5a; i++)
		usleep(1000);
	(void)!write(go, "S", 1);
	for (;;)
		pause();
}

/* Process Q, P's pid: canary over everything P's device was told to write (its fill and its
 * completion record), bind, run its own DMA, check the canary. Exit code: 0, or the failure. */
static int proc_q(unsigned idx)
{
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_sva_comp c;
	uint8_t *own = arena + AREA_Y, *comp = arena + AREA_COMP + 64;

	memset(arena, 0xc5, FILL_LEN);
	memset(arena + AREA_COMP, 0xc5, 64);
	/* Two binds first: with PASIDs 1..3 handed out in turn, Q's own then lands on P's PASID
	 * whenever P's is free again by then */
	for (int i = 0; i < 2 * (idx == 0); i++) {
		if (open_retry(3, &dev))
			return 12;
		(void)pcitsm_sva_close(dev);
	}
	if (open_retry(idx, &dev) || pcitsm_sva_ring_init(&r, dev, 16))
		return 12;
	sh->q_pasid = pcitsm_sva_pasid(dev);
	if (run_desc(&r, &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_FILL,
						   .pasid = pcitsm_sva_pasid(dev),
						   .dst = (uintptr_t)own, .len = 4096,
						   .pattern = 0x0101010101010101ull },
		     comp, &c) ||
	    c.status != PCITSM_SVA_ST_SUCCESS || !all_bytes(own, 4096, 1))
		return 11;
	usleep(2000);
	sh->q_hit = bytes_not(arena, FILL_LEN, 0xc5);
	if (sh->q_hit > ONE_ACCESS || !all_bytes(arena + AREA_COMP, 64, 0xc5))
		return 10;
	pcitsm_sva_ring_fini(&r);
	return pcitsm_sva_close(dev) ? 13 : 0;
}

/* P binds, starts a DMA into its memory and is killed; Q is born with P's pid at once and binds
 * (the same device when P's exit closed it, another while a helper of P holds P's open). Q must
 * never receive a byte of P's DMA, nor its completion record, and its own DMA must work. */
static void test_pid_reuse_exit_race(void **state)
{
	unsigned same_pasid = 0, held_n = 0, hit_n = 0;
	uint64_t hit_max = 0;
	struct timespec t0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned it = 0; it < ITER; it++) {
		bool held = it & 1;
		struct pollfd pf;
		int go[2], st;
		pid_t p, q;
		char c;

		assert_int_equal(pipe(go), 0);
		sh->helper = 0;
		p = fork();
		if (p == 0) {
			close(go[0]);
			proc_p(go[1], held);
		}
		close(go[1]);
		pf = (struct pollfd){ .fd = go[0], .events = POLLIN };
		if (poll(&pf, 1, WAIT_MS) != 1 || read(go[0], &c, 1) != 1) {
			kill(p, SIGKILL);
			fail_msg("iteration %u: P did not start its DMA", it);
		}
		close(go[0]);
		usleep((useconds_t)(rand() % 1000));
		kill(p, SIGKILL);
		assert_int_equal(waitpid(p, &st, 0), p);
		q = fork_as(p);
		if (q == 0)
			_exit(proc_q(held ? 1 : 0));
		if (q < 0)
			fail_msg("clone3 with P's pid %ld: %s", (long)p, strerror(errno));
		assert_int_equal(q, p);
		assert_int_equal(waitpid(q, &st, 0), q);
		if (sh->helper > 0) {
			kill(sh->helper, SIGKILL);
			held_n++;
		}
		reap_orphans();
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("iteration %u (%s): Q failed with %d (10: %lu bytes of its canary "
				 "or its completion record changed, 11: own DMA, 12: bind)", it,
				 held ? "held" : "exit", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
				 (unsigned long)sh->q_hit);
		same_pasid += sh->q_pasid == sh->p_pasid;
		hit_n += sh->q_hit != 0;
		hit_max = sh->q_hit > hit_max ? sh->q_hit : hit_max;
	}
	printf("pid reuse: %u iterations (%u with P's device held open), Q had P's pid in all and "
	       "P's PASID in %u; an access under way at P's death landed in Q in %u (at most %lu "
	       "bytes, bound %u), %lu ms\n", ITER, held_n, same_pasid, hit_n,
	       (unsigned long)hit_max, ONE_ACCESS, (unsigned long)ms_since(&t0));
}

/* Unbind (close without stopping the queue) with work still queued, then bind again at once (this
 * process, or another): the queued descriptors never run for the new binding. */
static void test_rebind_with_work_queued(void **state)
{
	size_t n = PCITSM_SVA_LEN_MAX;
	uint8_t *a = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *b = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *y = arena + AREA_Y, *comp = arena + AREA_COMP;
	struct timespec t0;

	(void)state;
	assert_true(a != MAP_FAILED && b != MAP_FAILED);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned it = 0; it < ITER; it++) {
		struct pcitsm_sva_dev *dev;
		struct pcitsm_sva_ring r;
		uint32_t pasid;
		pid_t child = -1;
		int st;

		memset(y, 0x77, 65536);
		assert_ok(open_retry(2, &dev));
		assert_ok(pcitsm_sva_ring_init(&r, dev, 16));
		pasid = pcitsm_sva_pasid(dev);
		/* a long compare keeps the device busy; eight fills wait behind it */
		assert_ok(pcitsm_sva_submit(&r, &(struct pcitsm_sva_desc){
			.op = PCITSM_SVA_OP_COMPARE, .pasid = pasid, .src = (uintptr_t)a,
			.dst = (uintptr_t)b, .len = n }, comp));
		for (unsigned k = 0; k < 8; k++)
			assert_ok(pcitsm_sva_submit(&r, &(struct pcitsm_sva_desc){
				.op = PCITSM_SVA_OP_FILL, .pasid = pasid,
				.dst = (uintptr_t)(y + k * 4096), .len = 4096 },
				comp + 64 + 64 * k));
		if (it & 1)
			usleep((useconds_t)(rand() % 500));
		/* no ring_fini: the unbind must stop the queue itself (the ring is freed after it:
		 * the device may not have fetched the compare yet) */
		assert_ok(pcitsm_sva_close(dev));
		free(r.slots);
		if (it & 2)
			child = fork();
		if (child <= 0) {
			/* the new owner: this process again, or a child with a copy of y */
			struct pcitsm_sva_comp c = { 0 };
			uint8_t *own = y + 8 * 4096;
			pcitsm_err e;
			int why = 0;

			e = open_retry(2, &dev);
			if (!e)
				e = pcitsm_sva_ring_init(&r, dev, 16);
			if (!e)
				e = run_desc(&r, &(struct pcitsm_sva_desc){
					.op = PCITSM_SVA_OP_FILL, .pasid = pcitsm_sva_pasid(dev),
					.dst = (uintptr_t)own, .len = 64, .pattern = 0 },
					     comp + 1024, &c);
			usleep(1000);
			if (e || c.status != PCITSM_SVA_ST_SUCCESS)
				why = 2; /* the rebind itself failed */
			else if (!all_bytes(y, 8 * 4096, 0x77))
				why = 3; /* queued work ran */
			if (child == 0) {
				if (why == 2)
					fprintf(stderr, "rebind: %s, status %u\n", pcitsm_err_name(e),
						c.status);
				_exit(why);
			}
			if (why)
				fail_msg("iteration %u: %s (%s, status %u)", it,
					 why == 3 ? "queued work ran after the rebind"
						  : "the rebind failed", pcitsm_err_name(e), c.status);
			pcitsm_sva_ring_fini(&r);
			assert_ok(pcitsm_sva_close(dev));
		} else {
			assert_int_equal(waitpid(child, &st, 0), child);
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				fail_msg("iteration %u: the other process: %s", it,
					 WIFEXITED(st) && WEXITSTATUS(st) == 3
						 ? "queued work ran after the rebind"
						 : "the rebind failed");
		}
		assert_true(all_bytes(y, 8 * 4096, 0x77));
		assert_int_equal(comp[64], 0); /* no queued fill completed */
	}
	printf("rebind with work queued: %u iterations, %lu ms\n", ITER,
	       (unsigned long)ms_since(&t0));
	munmap(a, n);
	munmap(b, n);
}

/* Descriptors naming every PASID there is (the space is 1..3) but the queue's, and the queue's
 * PASID register set to another process's: nothing reaches the other process, nor this one. */
static void test_foreign_pasid(void **state)
{
	uint8_t *y = arena + AREA_Y, *comp = arena + AREA_COMP;
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_sva_comp c;
	int to_b[2], from_b[2], st;
	uint32_t mine, theirs;
	unsigned bad = 0, ring_faults = 0;
	pid_t b;
	char ok;

	(void)state;
	assert_int_equal(pipe(to_b), 0);
	assert_int_equal(pipe(from_b), 0);
	memset(y, 0x42, 65536);
	b = fork();
	if (b == 0) {
		struct pcitsm_sva_dev *bd;
		uint32_t p;

		if (open_retry(1, &bd))
			_exit(2);
		p = pcitsm_sva_pasid(bd);
		(void)!write(from_b[1], &p, sizeof(p));
		if (read(to_b[0], &ok, 1) != 1)
			_exit(3);
		_exit(all_bytes(y, 65536, 0x42) ? 0 : 4);
	}
	assert_int_equal(read(from_b[0], &theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	assert_ok(open_retry(0, &dev));
	assert_ok(pcitsm_sva_ring_init(&r, dev, 16));
	mine = pcitsm_sva_pasid(dev);
	assert_int_not_equal(mine, theirs);
	for (unsigned it = 0; it < ITER; it++) {
		uint32_t pasid = (uint32_t)rand() % 4; /* 0..3: every PASID of the space, and 0 */

		if (pasid == mine)
			pasid = theirs;
		assert_ok(run_desc(&r, &(struct pcitsm_sva_desc){
			.op = it & 1 ? PCITSM_SVA_OP_FILL : PCITSM_SVA_OP_COPY, .pasid = pasid,
			.src = it & 1 ? 0 : (uintptr_t)(y + 32768), .dst = (uintptr_t)y,
			.len = 4096 + (it % 7) * 512 }, comp, &c));
		assert_int_equal(c.status, PCITSM_SVA_ST_BAD_PASID);
		bad++;
		if (it % 20 == 0) {
			/* the other process's PASID in this queue's register: the ring is fetched
			 * with it, and (device 0, that PASID) has no translation */
			uint32_t head = sva_reg_rd32(r.regs, PCITSM_SVA_REG_HEAD);

			sva_reg_wr32(r.regs, PCITSM_SVA_REG_PASID, theirs | PCITSM_SVA_PASID_EN);
			assert_ok(pcitsm_sva_submit(&r, &(struct pcitsm_sva_desc){
				.op = PCITSM_SVA_OP_FILL, .pasid = theirs, .dst = (uintptr_t)y,
				.len = 4096 }, comp));
			assert_true(consumed(r.regs, head));
			assert_int_equal(sva_reg_rd32(r.regs, PCITSM_SVA_REG_ERROR),
					 PCITSM_SVA_QERR_RING_FAULT);
			ring_faults++;
			pcitsm_sva_ring_fini(&r);
			sva_reg_wr32(r.regs, PCITSM_SVA_REG_ERROR, 0);
			assert_ok(pcitsm_sva_ring_init(&r, dev, 16));
		}
	}
	assert_true(all_bytes(y, 65536, 0x42)); /* nor this process's copy */
	assert_int_equal(write(to_b[1], "x", 1), 1);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pcitsm_sva_ring_fini(&r);
	assert_ok(pcitsm_sva_close(dev));
	printf("foreign PASID: %u descriptors BAD_PASID, %u ring faults\n", bad, ring_faults);
}

/* fork() after bind: the child has another mm. The parent's DMA lands in the parent's pages,
 * never in the child's copy of them; the child's own device gets another PASID and, with the
 * parent's PASID programmed, reaches nothing. */
static void test_fork_after_bind(void **state)
{
	uint8_t *z = arena + AREA_Y, *comp = arena + AREA_COMP;
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_sva_comp c;
	uint32_t pasid;
	struct timespec t0;

	(void)state;
	assert_ok(open_retry(0, &dev));
	assert_ok(pcitsm_sva_ring_init(&r, dev, 16));
	pasid = pcitsm_sva_pasid(dev);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned it = 0; it < ITER; it++) {
		int go[2], done[2], st;
		pid_t child;
		char x;

		memset(z, 0x11, 16384);
		assert_int_equal(pipe(go), 0);
		assert_int_equal(pipe(done), 0);
		child = fork();
		if (child == 0) {
			int rc = 0;

			memset(z, 0xc3, 16384);
			(void)!write(go[1], "g", 1);
			if (it % 20 == 0) {
				struct pcitsm_sva_dev *cd;
				struct pcitsm_sva_ring cr;

				if (open_retry(3, &cd) || pcitsm_sva_ring_init(&cr, cd, 16))
					_exit(2);
				if (pcitsm_sva_pasid(cd) == pasid)
					_exit(3);
				sva_reg_wr32(cr.regs, PCITSM_SVA_REG_PASID,
					     pasid | PCITSM_SVA_PASID_EN);
				if (pcitsm_sva_submit(&cr, &(struct pcitsm_sva_desc){
					    .op = PCITSM_SVA_OP_FILL, .pasid = pasid,
					    .dst = (uintptr_t)(z + 8192), .len = 4096 },
					    comp + 512) ||
				    !consumed(cr.regs, 0) ||
				    sva_reg_rd32(cr.regs, PCITSM_SVA_REG_ERROR) !=
					    PCITSM_SVA_QERR_RING_FAULT)
					rc = 4;
				pcitsm_sva_ring_fini(&cr);
				if (pcitsm_sva_close(cd))
					rc = 5;
			}
			if (read(done[0], &x, 1) != 1)
				_exit(6);
			_exit(rc ? rc : all_bytes(z, 16384, 0xc3) ? 0 : 7);
		}
		assert_int_equal(read(go[0], &x, 1), 1);
		assert_ok(run_desc(&r, &(struct pcitsm_sva_desc){
			.op = PCITSM_SVA_OP_FILL, .pasid = pasid, .dst = (uintptr_t)z,
			.len = 8192, .pattern = 0xaaaaaaaaaaaaaaaaull }, comp, &c));
		assert_int_equal(c.status, PCITSM_SVA_ST_SUCCESS);
		assert_true(all_bytes(z, 8192, 0xaa));
		assert_int_equal(write(done[1], "d", 1), 1);
		assert_int_equal(waitpid(child, &st, 0), child);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("iteration %u: child failed with %d (7: its copy changed)", it,
				 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		assert_true(all_bytes(z + 8192, 8192, 0x11)); /* the child's device reached nothing */
		close(go[0]);
		close(go[1]);
		close(done[0]);
		close(done[1]);
	}
	pcitsm_sva_ring_fini(&r);
	assert_ok(pcitsm_sva_close(dev));
	printf("fork after bind: %u iterations, %lu ms\n", ITER, (unsigned long)ms_since(&t0));
}

static int send_fd(int via, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	char c = 'f';
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	return sendmsg(via, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int via)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char c;
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *h;
	int fd = -1;

	if (recvmsg(via, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	h = CMSG_FIRSTHDR(&m);
	if (h && h->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

/* B, holding A's device fd (SCM_RIGHTS), unbinds and binds again and queues a fill of its own
 * memory in a ring of its own memory: as with uio_pci_sva, the binding is A's (the process that
 * opened the device: the same PASID as A's other device) and the device fetches and writes in A's
 * address space, never in B's. Once A has exited, the BIND is refused (E_DEAD). */
static void test_fd_passing(void **state)
{
	uint8_t *y = arena + AREA_Y, *ring = arena + AREA_RING, *comp = arena + AREA_COMP;
	unsigned alive_n = 0, dead_n = 0;

	(void)state;
	for (unsigned it = 0; it < ITER; it++) {
		unsigned mode = it % 4; /* 0, 2: A alive; 1: A reaped first; 3: A exits at once */
		struct sva_rep rep;
		int sp[2], fd, memfd = -1, cause, st;
		uint32_t a_pasid;
		pid_t a;

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		memset(ring, 0, 4096); /* A's ring area, inherited: nothing to fetch */
		memset(y, 0x42, 4096);
		a = fork();
		if (a == 0) {
			struct pcitsm_sva_dev *d1, *d3;
			uint32_t p;
			char x;

			if (open_retry(3, &d3) || open_retry(1, &d1))
				_exit(2);
			p = pcitsm_sva_pasid(d3);
			if (send_fd(sp[1], d1->fd) || write(sp[1], &p, sizeof(p)) != sizeof(p))
				_exit(3);
			if (mode & 1)
				_exit(0);
			(void)!read(sp[1], &x, 1);
			_exit(all_bytes(y, 4096, 0x42) ? 0 : 4); /* untouched here too */
		}
		fd = recv_fd(sp[0]);
		assert_true(fd >= 0);
		assert_int_equal(read(sp[0], &a_pasid, sizeof(a_pasid)), (ssize_t)sizeof(a_pasid));
		if (mode == 1) {
			assert_int_equal(waitpid(a, &st, 0), a);
			a = -1;
		}
		/* B's canary, and a ring in B's memory whose one descriptor fills it */
		memset(y, 0xb0, 4096);
		memset(comp, 0, 64);
		pcitsm_sva_desc_encode(&(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_FILL,
								   .pasid = a_pasid,
								   .dst = (uintptr_t)y, .len = 4096,
								   .completion = (uintptr_t)comp },
				       ring);
		cause = raw_req(fd, SVA_OP_UNBIND, 0, 0, NULL, 0, NULL);
		assert_true(cause == 0);
		{
			uint8_t q[SVA_REQ_SIZE];

			sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND, .index = 1 }, q);
			cause = raw_exchange_fd(fd, q, sizeof(q), NULL, 0, &rep, &memfd);
		}
		if (cause == 0) {
			volatile uint8_t *regs = mmap(NULL, PCITSM_SVA_REGS_SIZE,
						      PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);

			alive_n++;
			assert_true(mode != 1);
			/* A's PASID: the binding is A's (while A lives: exiting, A may have
			 * released its other device and with it that PASID) */
			if (mode != 3)
				assert_int_equal(rep.pasid, a_pasid);
			assert_true(regs != MAP_FAILED);
			sva_reg_wr64(regs, PCITSM_SVA_REG_RING_BASE, (uintptr_t)ring);
			sva_reg_wr32(regs, PCITSM_SVA_REG_RING_SIZE, 16);
			sva_reg_wr32(regs, PCITSM_SVA_REG_PASID, a_pasid | PCITSM_SVA_PASID_EN);
			sva_reg_wr32(regs, PCITSM_SVA_REG_CTRL, PCITSM_SVA_CTRL_EN);
			sva_reg_wr32(regs, PCITSM_SVA_REG_TAIL, 1);
			sva_futex_wake(regs, PCITSM_SVA_REG_TAIL);
			/* the device fetches the ring in A's address space (nothing there) */
			assert_true(consumed(regs, 0));
			assert_int_not_equal(sva_reg_rd32(regs, PCITSM_SVA_REG_ERROR), 0);
			munmap((void *)(uintptr_t)regs, PCITSM_SVA_REGS_SIZE);
			close(memfd);
		} else {
			dead_n++;
			assert_int_equal(cause, PCITSM_E_DEAD);
			assert_true(mode & 1);
		}
		/* B's memory was never fetched nor written */
		assert_true(all_bytes(y, 4096, 0xb0));
		assert_true(all_bytes(comp, 64, 0));
		close(fd);
		if (a > 0) {
			assert_int_equal(write(sp[0], "x", 1), 1);
			assert_int_equal(waitpid(a, &st, 0), a);
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		close(sp[0]);
		close(sp[1]);
	}
	assert_true(alive_n > 0 && dead_n > 0);
	printf("fd passing: %u iterations, bound for the opener %u times, refused (opener gone) %u "
	       "times\n", ITER, alive_n, dead_n);
}

/* ---------------------------------------------------------------------------------------------
 * Resource exhaustion.
 */

/* Open connections until one is refused; each is asked a BIND of a device that does not exist,
 * so an admitted one answers E_NOTFOUND and a refused one E_EXHAUSTED. Returns how many were
 * admitted (kept in fds[]). */
static unsigned flood(int *fds, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < max; i++) {
		uint8_t q[SVA_REQ_SIZE], buf[SVA_REP_SIZE];
		struct sva_rep p;
		int fd = raw_connect();

		if (fd < 0)
			break;
		sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND, .index = NDEV + 1 }, q);
		(void)!send(fd, q, sizeof(q), MSG_NOSIGNAL); /* a refused one may be closed already */
		if (recv(fd, buf, sizeof(buf), 0) != SVA_REP_SIZE ||
		    sva_rep_decode(buf, sizeof(buf), &p) || p.cause != PCITSM_E_NOTFOUND) {
			close(fd);
			break;
		}
		fds[n++] = fd;
	}
	return n;
}

/* A flooding process: as uid, opens connections until refused, reports how many it holds, then
 * keeps them alive (a request every 200 ms) until told to go silent, then holds them silently. */
static pid_t flooder(uid_t uid, int report, int ctl)
{
	pid_t p = fork();

	if (p == 0) {
		int fds[MAX_CONNS];
		unsigned n;
		char c;

		if (uid && setuid(uid))
			_exit(1);
		n = flood(fds, PER_PROC + 4);
		(void)!write(report, &n, sizeof(n));
		for (;;) {
			struct pollfd pf = { .fd = ctl, .events = POLLIN };

			if (poll(&pf, 1, 200) == 1 && read(ctl, &c, 1) == 1)
				break;
			for (unsigned i = 0; i < n; i++) {
				uint8_t q[SVA_REQ_SIZE], buf[SVA_REP_SIZE];

				sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND,
								  .index = NDEV + 1 }, q);
				if (send(fds[i], q, sizeof(q), MSG_NOSIGNAL) == sizeof(q))
					(void)!recv(fds[i], buf, sizeof(buf), 0);
			}
		}
		for (;;)
			pause(); /* silent: the server's idle timeout must close them */
	}
	return p;
}

/* One bind, a 64 KiB copy, close; its time in ms, or -1 on failure. */
static long well_behaved(unsigned idx)
{
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_sva_comp c;
	uint8_t *y = arena + AREA_Y, *comp = arena + AREA_COMP;
	struct timespec t0;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(y, 0x3d, 32768);
	if (open_retry(idx, &dev))
		return -1;
	ok = !pcitsm_sva_ring_init(&r, dev, 16) &&
	     !run_desc(&r, &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_COPY,
						     .pasid = pcitsm_sva_pasid(dev),
						     .src = (uintptr_t)y,
						     .dst = (uintptr_t)(y + 32768), .len = 32768 },
		       comp, &c) &&
	     c.status == PCITSM_SVA_ST_SUCCESS && all_bytes(y + 32768, 32768, 0x3d);
	pcitsm_sva_ring_fini(&r);
	ok = !pcitsm_sva_close(dev) && ok;
	return ok ? (long)ms_since(&t0) : -1;
}

/* Connection limits (per process, per user, in all) and the idle timeout: floods of connections
 * hold at most their share; another user is served meanwhile; once the floods go silent, a
 * well-behaved client of the flooding user is served within the idle timeout. */
static void test_connection_floods(void **state)
{
	unsigned n[6] = { 0 }, want[6] = { PER_PROC, PER_PROC, PER_PROC, 0, PER_PROC, PER_PROC };
	uid_t uid[6] = { 0, 0, 0, 0, OTHER_UID, OTHER_UID };
	int rep[2], ctl[2], st;
	pid_t f[6] = { 0 };
	uint64_t rss0, rss1, fd0, fd1;
	unsigned nf = other_user ? 6 : 4;
	struct timespec t0;
	long lat = -1;

	(void)state;
	if (!other_user)
		printf("not root: the per-user and total limits are tested with one user only\n");
	srv_query(&rss0, &fd0);
	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(ctl), 0);
	for (unsigned i = 0; i < nf; i++) {
		f[i] = flooder(uid[i], rep[1], ctl[0]);
		assert_int_equal(read(rep[0], &n[i], sizeof(n[i])), (ssize_t)sizeof(n[i]));
		if (i == 3 && nf == 6) {
			/* this user is at its limit: another user is still served */
			pid_t w = fork();

			if (w == 0)
				_exit(!setuid(OTHER_UID) && well_behaved(1) >= 0 ? 0 : 1);
			assert_int_equal(waitpid(w, &st, 0), w);
			assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
	}
	for (unsigned i = 0; i < nf; i++)
		if (n[i] != want[i])
			fail_msg("flooder %u (uid %u) holds %u connections, expected %u", i,
				 (unsigned)uid[i], n[i], want[i]);
	if (nf == 6) {
		/* 40 in all: one more process of the other user, below its own limit, is refused */
		int fds[4];

		pid_t g = fork();

		if (g == 0)
			_exit(!setuid(OTHER_UID) && flood(fds, 4) == 0 ? 0 : 1);
		assert_int_equal(waitpid(g, &st, 0), g);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* the floods go silent: the idle timeout frees their slots for a well-behaved client */
	for (unsigned i = 0; i < nf; i++)
		assert_int_equal(write(ctl[1], "s", 1), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (lat < 0 && ms_since(&t0) < IDLE_MS + 5000) {
		lat = well_behaved(2);
		if (lat < 0)
			usleep(10000);
	}
	if (lat < 0)
		fail_msg("no bind within %u ms after the floods went silent", IDLE_MS + 5000);
	printf("floods: per process %u, per user %u, in all %u connections held; a client of the "
	       "flooding user served %lu ms after they went silent (idle timeout %u ms)\n",
	       PER_PROC, PER_UID, nf == 6 ? MAX_CONNS : PER_UID, (unsigned long)ms_since(&t0),
	       IDLE_MS);
	assert_true(ms_since(&t0) < IDLE_MS + 5000);
	for (unsigned i = 0; i < nf; i++) {
		kill(f[i], SIGKILL);
		assert_int_equal(waitpid(f[i], NULL, 0), f[i]);
	}
	for (int i = 0; i < 200; i++) {
		srv_query(&rss1, &fd1);
		if (fd1 <= fd0)
			break;
		usleep(10000);
	}
	printf("server RSS %lu -> %lu kB, descriptors %lu -> %lu\n", (unsigned long)rss0,
	       (unsigned long)rss1, (unsigned long)fd0, (unsigned long)fd1);
	assert_true(fd1 <= fd0);
	assert_true(rss1 <= rss0 + 8192);
	close(rep[0]);
	close(rep[1]);
	close(ctl[0]);
	close(ctl[1]);
}

/* A process that sends requests and never reads the replies: its connection is closed once its
 * socket is full, and meanwhile a well-behaved client's bind, copy and close stay prompt. */
static void test_silent_reader(void **state)
{
	struct {
		unsigned sent;
		unsigned ms;
	} res;
	int out[2], st;
	uint64_t rss0, rss1, fd0, fd1;
	long worst = 0;
	unsigned rounds = 0;
	pid_t n;

	(void)state;
	srv_query(&rss0, &fd0);
	assert_int_equal(pipe(out), 0);
	n = fork();
	if (n == 0) {
		uint8_t q[SVA_REQ_SIZE];
		struct timespec t0;
		int fd = raw_connect();

		res.sent = 0;
		sva_req_encode(&(struct sva_req){ .op = SVA_OP_UNBIND }, q);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (fd >= 0 && ms_since(&t0) < 10000) {
			ssize_t k = send(fd, q, sizeof(q), MSG_NOSIGNAL | MSG_DONTWAIT);

			if (k == (ssize_t)sizeof(q))
				res.sent++;
			else if (errno == EAGAIN)
				usleep(200);
			else
				break; /* EPIPE, ECONNRESET: the server closed it */
		}
		res.ms = (unsigned)ms_since(&t0);
		(void)!write(out[1], &res, sizeof(res));
		_exit(0);
	}
	/* meanwhile (and after), a well-behaved client */
	for (;;) {
		struct pollfd pf = { .fd = out[0], .events = POLLIN };
		long t = well_behaved(3);

		assert_true(t >= 0);
		worst = t > worst ? t : worst;
		rounds++;
		if (rounds >= 20 && poll(&pf, 1, 0) == 1)
			break;
	}
	assert_int_equal(read(out[0], &res, sizeof(res)), (ssize_t)sizeof(res));
	assert_int_equal(waitpid(n, &st, 0), n);
	printf("silent reader: closed after %u requests, %u ms; meanwhile %u binds + copies, the "
	       "slowest %ld ms\n", res.sent, res.ms, rounds, worst);
	assert_true(res.ms < 10000); /* closed, not left to time out */
	assert_true(worst < 2000);
	for (int i = 0; i < 200; i++) {
		srv_query(&rss1, &fd1);
		if (fd1 <= fd0)
			break;
		usleep(10000);
	}
	assert_true(fd1 <= fd0);
	assert_true(rss1 <= rss0 + 8192);
	close(out[0]);
	close(out[1]);
}

/* ---------------------------------------------------------------------------------------------
 * The request parser, at the server's socket and alone.
 */

static void test_bad_requests(void **state)
{
	uint8_t q[SVA_REQ_SIZE], big[4096] = { SVA_OP_BIND, SVA_PROTO_VERSION };
	int fds[8], p[2], mfd, fd, bound;
	uint64_t rss, fd0, fd1;
	struct sva_rep rep;

	(void)state;
	srv_query(&rss, &fd0);
	fd = raw_connect();
	assert_true(fd >= 0);
	/* too long (cut by the server's buffer), too short, bad version, reserved bytes set */
	assert_int_equal(raw_exchange(fd, big, sizeof(big), NULL, 0, NULL), PCITSM_E_LONG);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND }, q);
	assert_int_equal(raw_exchange(fd, q, SVA_REQ_SIZE - 1, NULL, 0, NULL), PCITSM_E_SHORT);
	q[1] = 2;
	assert_int_equal(raw_exchange(fd, q, sizeof(q), NULL, 0, NULL), PCITSM_E_VERSION);
	q[1] = SVA_PROTO_VERSION;
	q[5] = 1;
	assert_true(raw_exchange(fd, q, sizeof(q), NULL, 0, NULL) > 0);
	q[5] = 0;
	q[0] = 9;
	assert_int_equal(raw_exchange(fd, q, sizeof(q), NULL, 0, NULL), PCITSM_E_FIELD);
	/* a descriptor where none belongs, and eight at once: refused, none kept */
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < 8; i++)
		fds[i] = p[i & 1];
	assert_int_equal(raw_req(fd, SVA_OP_BIND, 0, 0, fds, 1, NULL), PCITSM_E_FIELD);
	assert_int_equal(raw_req(fd, SVA_OP_REGISTER, 0, 4096, fds, 8, NULL), PCITSM_E_FIELD);
	/* on a bound connection: REGISTER without its memfd, with a pipe, with a short memfd */
	bound = raw_connect();
	assert_int_equal(raw_req(bound, SVA_OP_BIND, 2, 0, NULL, 0, NULL), 0);
	assert_int_equal(raw_req(bound, SVA_OP_REGISTER, 0, 4096, NULL, 0, NULL), PCITSM_E_FIELD);
	assert_int_equal(raw_req(bound, SVA_OP_REGISTER, 0, 4096, p, 1, NULL), PCITSM_E_FIELD);
	mfd = memfd_create("short", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(mfd >= 0 && ftruncate(mfd, 4096) == 0 &&
		    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
	assert_int_equal(raw_req(bound, SVA_OP_REGISTER, 0, 8192, &mfd, 1, &rep), PCITSM_E_FIELD);
	assert_int_equal(raw_req(bound, SVA_OP_REGISTER, 0, 4096, &mfd, 1, &rep), 0);
	assert_true(rep.iova >= 1ull << 32);
	assert_int_equal(raw_req(bound, SVA_OP_UNBIND, 0, 0, NULL, 0, NULL), 0);
	close(bound);
	close(fd);
	close(mfd);
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < 200; i++) {
		srv_query(&rss, &fd1);
		if (fd1 <= fd0)
			break;
		usleep(10000);
	}
	assert_true(fd1 <= fd0); /* no descriptor a process sent stays in the server */
}

static void test_admit(void **state)
{
	uint8_t b[SVA_REQ_SIZE];
	struct sva_req q;

	(void)state;
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_BIND, .index = 1 }, b);
	assert_ok(sva_req_admit(b, sizeof(b), 0, 0, &q));
	assert_int_equal(q.index, 1);
	assert_err(sva_req_admit(b, sizeof(b), MSG_TRUNC, 0, &q), PCITSM_E_LONG);
	assert_err(sva_req_admit(b, sizeof(b), MSG_CTRUNC, 0, &q), PCITSM_E_LONG);
	assert_err(sva_req_admit(b, sizeof(b), 0, 1, &q), PCITSM_E_FIELD);
	assert_err(sva_req_admit(b, sizeof(b) - 1, 0, 0, &q), PCITSM_E_SHORT);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_REGISTER, .length = 4096 }, b);
	assert_ok(sva_req_admit(b, sizeof(b), 0, 1, &q));
	assert_err(sva_req_admit(b, sizeof(b), 0, 0, &q), PCITSM_E_FIELD);
	assert_err(sva_req_admit(b, sizeof(b), 0, 2, &q), PCITSM_E_FIELD);
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_UNBIND }, b);
	assert_ok(sva_req_admit(b, sizeof(b), 0, 0, &q));
	assert_err(sva_req_admit(b, sizeof(b), 0, 1, &q), PCITSM_E_FIELD);
}

/* ---------------------------------------------------------------------------------------------
 * The namespace.
 */

static int ns_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? write(fd, s, strlen(s)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* A PID namespace of our own (root: just that; others: in a user namespace of their own). */
static int enter_pid_ns(void)
{
	uid_t u = geteuid();
	gid_t g = getegid();
	char map[64];

	if (u == 0)
		return unshare(CLONE_NEWPID);
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)u);
	if (ns_write("/proc/self/uid_map", map) || ns_write("/proc/self/setgroups", "deny"))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)g);
	return ns_write("/proc/self/gid_map", map);
}

static int ns_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_pid_reuse_exit_race),
		cmocka_unit_test(test_rebind_with_work_queued),
		cmocka_unit_test(test_foreign_pasid),
		cmocka_unit_test(test_fork_after_bind),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_connection_floods),
		cmocka_unit_test(test_silent_reader),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

int main(void)
{
	int st, limit_s = 240;
	pid_t init;

	if (test_sva_cannot_bind())
		return TEST_EXIT_SKIP;
	if (test_under_valgrind()) {
		printf("SKIP: valgrind runs neither clone3 with set_tid nor these races in time\n");
		return TEST_EXIT_SKIP;
	}
	snprintf(sock, sizeof(sock), "/tmp/pcitsm-sva-hostile-%ld.sock", (long)getpid());
	other_user = geteuid() == 0;
	if (enter_pid_ns()) {
		printf("SKIP: no PID namespace here (%s): PID reuse cannot be arranged\n",
		       strerror(errno));
		return TEST_EXIT_SKIP;
	}
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED || sh == MAP_FAILED)
		return 1;
	fflush(stdout);
	init = fork(); /* pid 1 of the namespace: it runs the tests */
	if (init < 0)
		return 1;
	if (init == 0) {
		srand(12345);
		_exit(ns_tests());
	}
	/* The watchdog lives out here: the namespace's init ignores signals it has no handler
	 * for, and a SIGKILL to it ends every process of the namespace. */
	/* _exit: once the namespace's init is gone this process can create no task in it, which
	 * LeakSanitizer's exit-time check needs (it has nothing to find here). */
	for (int i = 0; i < limit_s * 10; i++) {
		if (waitpid(init, &st, WNOHANG) == init)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
		usleep(100000);
	}
	fprintf(stderr, "test_sva_hostile: not done in %d s: killed\n", limit_s);
	kill(init, SIGKILL);
	(void)waitpid(init, &st, 0);
	unlink(sock);
	return 1;
}
