/* SPDX-License-Identifier: MIT */
/*
 * The emulated SVA device server: what uio_pci_generic_sva's open() and release() do, done by a
 * platform process for a device it models (drivers/uio/uio_pci_generic_sva.c).
 *
 * A process connects to the AF_UNIX socket and sends BIND for a device: the server learns who it is
 * from SO_PEERCRED (never from the message), binds the device to that process's PASID in the IOMMU
 * model, and sends back a fresh register memfd (sealed against resizing, so the process cannot make
 * the device fault on its own registers). The connection is the open file: UNBIND, close() or the
 * process's exit all quiesce the device (the in-flight descriptor is aborted between chunks, the
 * DMA thread confirms it is idle) before the PASID is unbound (iommu-sva kernel-doc: the device must
 * issue no more requests for the PASID before unbind).
 *
 * Every device is an emulated endpoint function behind a root port of the one emulated platform
 * (lib/emu): the platform the caller gives (pcitsmd's), or one of the server's own. Its DMA engine
 * sends Memory Requests across that function's link (PASID prefix, T bit, MPS / MRRS), and the
 * root port serves them through the IOMMU hook this server registers on the link: the IOMMU model
 * keyed by (Requester ID, PASID). On a connected link they are IDE TLPs.
 *
 * Threads: one control thread (accept, requests, hang-ups) and one DMA thread per device, which
 * sleeps on the doorbell register as a futex. Lock order: the link's lock (held for a DMA), then
 * the IOMMU's; the device's own mutex is never held across a DMA.
 *
 * Local processes may be hostile (docs/sva.md "Hostile processes"). Who opened the device is the
 * process that connected, pinned as a pidfd when the connection is accepted (a pid alone may name
 * another process by the time it is used); whoever holds the socket later (SCM_RIGHTS, fork())
 * acts for that process, as an fd of /dev/uioN does for the mm that opened it. The one control
 * thread never waits for a process: replies are sent without blocking (a process that does not
 * read them loses its connection), connections are bounded in all, per user and per process,
 * and a connection that binds no device is closed when idle.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "sva/sva_priv.h"

#define SVA_IDLE_WAIT_MS 50
#define SVA_CONNS_PER_UID 32
#define SVA_CONNS_PER_PROC 16
#define SVA_IDLE_TIMEOUT_MS 10000
/* Out of descriptors: how soon accept() is tried again when no connection has closed. */
#define SVA_FULL_RETRY_MS 100
/* Descriptors one request can carry that we look at (REGISTER carries one; more are refused). */
#define SVA_MAX_FDS 8

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5, include/uapi/asm-generic/socket.h */
#endif

struct sva_devstate {
	struct pcitsm_sva_server *srv;
	unsigned idx;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool bound, busy, stop;
	int memfd;
	volatile uint8_t *regs;
	uint32_t pasid;
	/* read by the engine between chunks */
	atomic_bool abort;
	struct sva_engine eng;
	struct pcitsm_emu_func *ep; /* the endpoint function this device is */
	uint16_t rid;
};

struct sva_conn {
	int fd;    /* -1: free */
	int dev;   /* bound device, -1: none */
	int pidfd; /* the process that connected (opened the device), pinned at accept */
	pid_t pid;
	uid_t uid;
	uint64_t t_idle; /* accepted, or its last request answered */
};

struct pcitsm_sva_server {
	const struct pcitsm_env *env;
	int lfd;
	int wake[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sva_iommu *iommu;
	unsigned ndev;
	struct sva_devstate dev[PCITSM_SVA_MAX_DEVS];
	struct sva_conn conn[PCITSM_SVA_MAX_CONNS];
	unsigned max_conns, per_uid, per_proc;
	uint64_t idle_ns;
	bool full; /* accept() ran out of descriptors: retried when one closes, or soon */
	pthread_t ctl;
	struct pcitsm_emu_platform own; /* the server's own platform, when none was given */
	bool own_ready;
	struct pcitsm_emu_platform *plat;
};

/* ---------------------------------------------------------------------------------------------
 * The DMA thread.
 */

/* One step of a running queue. Returns true if the thread should sleep on the doorbell (tail as
 * seen in *seen). Called with busy set, without the lock. */
static bool queue_step(struct sva_devstate *d, uint32_t *seen)
{
	volatile uint8_t *regs = d->regs;
	uint32_t ctrl = sva_reg_rd32(regs, PCITSM_SVA_REG_CTRL);
	uint32_t preg = sva_reg_rd32(regs, PCITSM_SVA_REG_PASID);
	uint64_t base = sva_reg_rd64(regs, PCITSM_SVA_REG_RING_BASE);
	uint32_t size = sva_reg_rd32(regs, PCITSM_SVA_REG_RING_SIZE);
	uint32_t head = sva_reg_rd32(regs, PCITSM_SVA_REG_HEAD);
	uint32_t tail = sva_reg_rd32(regs, PCITSM_SVA_REG_TAIL);
	uint8_t desc[PCITSM_SVA_DESC_SIZE];
	enum pcitsm_sva_qerr qerr;
	uint32_t q_pasid;
	uint64_t at;
	size_t done;

	*seen = tail;
	if (!(ctrl & PCITSM_SVA_CTRL_EN)) {
		sva_reg_wr32(regs, PCITSM_SVA_REG_STATUS, 0);
		return true;
	}
	/* PASID enable clear: requests carry no PASID and use the IOVA regions. */
	q_pasid = preg & PCITSM_SVA_PASID_EN ? preg & ~PCITSM_SVA_PASID_EN : SVA_NO_PASID;
	if ((preg & PCITSM_SVA_PASID_EN && (q_pasid == 0 || q_pasid > PCITSM_SVA_PASID_MAX)) ||
	    (!(preg & PCITSM_SVA_PASID_EN) && preg) ||
	    size == 0 || size > PCITSM_SVA_RING_MAX || (size & (size - 1)) || base == 0 ||
	    base % PCITSM_SVA_DESC_SIZE || base >= PCITSM_SVA_VA_LIMIT ||
	    (uint32_t)(tail - head) > size) {
		sva_reg_wr32(regs, PCITSM_SVA_REG_ERROR, PCITSM_SVA_QERR_CONFIG);
		sva_reg_wr32(regs, PCITSM_SVA_REG_CTRL, 0);
		sva_reg_wr32(regs, PCITSM_SVA_REG_STATUS, 0);
		return true;
	}
	sva_reg_wr32(regs, PCITSM_SVA_REG_STATUS, PCITSM_SVA_STATUS_RUN);
	if (head == tail)
		return true;
	/* The descriptor is fetched like any other DMA read, with the queue's PASID and T. */
	d->eng.dma.pasid = q_pasid;
	d->eng.dma.t = ctrl & PCITSM_SVA_CTRL_TEE;
	if (sva_engine_dma(&d->eng, SVA_READ,
			   base + (uint64_t)(head & (size - 1)) * PCITSM_SVA_DESC_SIZE, desc,
			   sizeof(desc), &done, &at)) {
		qerr = PCITSM_SVA_QERR_RING_FAULT;
		sva_reg_wr32(regs, PCITSM_SVA_REG_CTRL, 0);
	} else {
		qerr = sva_engine_exec(&d->eng, q_pasid, ctrl & PCITSM_SVA_CTRL_TEE, desc);
	}
	if (qerr)
		sva_reg_wr32(regs, PCITSM_SVA_REG_ERROR, qerr);
	sva_reg_wr32(regs, PCITSM_SVA_REG_HEAD, head + 1);
	sva_reg_wr32(regs, PCITSM_SVA_REG_DONE, sva_reg_rd32(regs, PCITSM_SVA_REG_DONE) + 1);
	sva_futex_wake(regs, PCITSM_SVA_REG_DONE);
	return false;
}

static void *dma_thread(void *arg)
{
	struct sva_devstate *d = arg;

	for (;;) {
		volatile uint8_t *regs;
		uint32_t seen = 0;
		bool sleep;

		pthread_mutex_lock(&d->mu);
		while (!d->stop && (!d->bound || atomic_load(&d->abort)))
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->stop) {
			pthread_mutex_unlock(&d->mu);
			return NULL;
		}
		d->busy = true;
		regs = d->regs;
		pthread_mutex_unlock(&d->mu);

		sleep = queue_step(d, &seen);

		pthread_mutex_lock(&d->mu);
		d->busy = false;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		/* The mapping stays valid while we sleep: quiesce unmaps only after !busy, and a
		 * futex wait on an unmapped word would just fail. */
		if (sleep && !atomic_load(&d->abort))
			sva_futex_wait(regs, PCITSM_SVA_REG_TAIL, seen, SVA_IDLE_WAIT_MS);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Binding and quiescing.
 */

static pcitsm_err regs_new(int *memfd, volatile uint8_t **regs)
{
	int fd = memfd_create("pcitsm-sva-regs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0)
		return PCITSM_E_SYSTEM;
	if (ftruncate(fd, PCITSM_SVA_REGS_SIZE) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
	    (p = mmap(NULL, PCITSM_SVA_REGS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
		    MAP_FAILED) {
		close(fd);
		return PCITSM_E_SYSTEM;
	}
	*memfd = fd;
	*regs = p;
	sva_reg_wr32(*regs, PCITSM_SVA_REG_ID, PCITSM_SVA_ID);
	return PCITSM_OK;
}

static pcitsm_err dev_bind(struct sva_devstate *d, pid_t pid, int pidfd)
{
	volatile uint8_t *regs;
	uint32_t pasid;
	int memfd;
	pcitsm_err e;

	e = sva_iommu_bind(d->srv->iommu, d->idx, pid, pidfd, &pasid);
	if (e)
		return e;
	e = regs_new(&memfd, &regs);
	if (e) {
		sva_iommu_unbind(d->srv->iommu, d->idx, pasid);
		return e;
	}
	pthread_mutex_lock(&d->mu);
	d->memfd = memfd;
	d->regs = regs;
	d->pasid = pasid;
	d->bound = true;
	atomic_store(&d->abort, false);
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pcitsm_info(d->srv->env, "sva%u: bound to pid %ld, PASID %u", d->idx, (long)pid, pasid);
	return PCITSM_OK;
}

/* Stop the queue, wait until the DMA thread is outside any descriptor, then unbind. */
static void dev_quiesce_unbind(struct sva_devstate *d)
{
	volatile uint8_t *regs;

	pthread_mutex_lock(&d->mu);
	if (!d->bound) {
		pthread_mutex_unlock(&d->mu);
		return;
	}
	atomic_store(&d->abort, true);
	sva_futex_wake(d->regs, PCITSM_SVA_REG_TAIL);
	while (d->busy)
		pthread_cond_wait(&d->cv, &d->mu);
	d->bound = false;
	regs = d->regs;
	d->regs = NULL;
	pthread_mutex_unlock(&d->mu);

	sva_iommu_unbind(d->srv->iommu, d->idx, d->pasid);
	pcitsm_info(d->srv->env, "sva%u: unbound PASID %u", d->idx, d->pasid);
	munmap((void *)(uintptr_t)regs, PCITSM_SVA_REGS_SIZE);
	close(d->memfd);
	d->memfd = -1;
	d->pasid = 0;
}

/* ---------------------------------------------------------------------------------------------
 * The control thread.
 */

/* Send a reply without waiting: a request and its reply are one message each way, so a process
 * that reads its replies always has room; one whose socket is full stops reading, and the one
 * control thread must not wait for it. false: not sent (the caller closes the connection). */
static bool reply(int fd, const struct sva_rep *p, int memfd)
{
	uint8_t buf[SVA_REP_SIZE];
	struct iovec iov = { buf, sizeof(buf) };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	sva_rep_encode(p, buf);
	if (memfd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &memfd, sizeof(int));
	}
	do /* the socket is non-blocking (accept4): EAGAIN when the process's socket is full */
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(buf);
}

static void conn_close(struct pcitsm_sva_server *s, struct sva_conn *c)
{
	if (c->dev >= 0)
		dev_quiesce_unbind(&s->dev[c->dev]);
	close(c->fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	*c = (struct sva_conn){ .fd = -1, .dev = -1, .pidfd = -1 };
	s->full = false; /* a descriptor is free again */
}

/* REGISTER: map the driver's buffer into the device's IOVA domain. The memfd must be sealed
 * against shrinking (else the driver could make the device's own mapping fault under it) and at
 * least as large as announced. */
static pcitsm_err do_register(struct pcitsm_sva_server *s, struct sva_conn *c, int memfd,
			      uint64_t len, uint64_t *iova)
{
	struct stat st;
	int seals;

	if (c->dev < 0)
		return PCITSM_E_STATE;
	if (memfd < 0)
		return PCITSM_E_INVAL;
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(memfd, &st) != 0 ||
	    (uint64_t)st.st_size < len)
		return PCITSM_E_FIELD;
	return sva_iommu_map(s->iommu, (unsigned)c->dev, memfd, len, iova);
}

/* Take the descriptors a request carried: the first in *keep, every other one closed at once (a
 * process cannot make the server hold descriptors for it). Returns how many there were. */
static unsigned take_fds(struct msghdr *m, int *keep)
{
	unsigned n = 0;

	*keep = -1;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
		size_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0))
			continue;
		k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++, n++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (*keep < 0)
				*keep = fd;
			else
				close(fd); /* not ours to keep */
		}
	}
	return n;
}

/* BIND and UNBIND of an admitted request; *send_fd is the register memfd a BIND returns. */
static pcitsm_err do_bind_unbind(struct pcitsm_sva_server *s, struct sva_conn *c,
				 const struct sva_req *q, struct sva_rep *rep, int *send_fd)
{
	if (q->op == SVA_OP_UNBIND) {
		if (c->dev < 0)
			return PCITSM_E_STATE;
		dev_quiesce_unbind(&s->dev[c->dev]);
		c->dev = -1;
		return PCITSM_OK;
	}
	if (c->dev >= 0)
		return PCITSM_E_STATE; /* one device per open file */
	if (q->index >= s->ndev)
		return PCITSM_E_NOTFOUND;
	/* Bound to the process that opened the device (connected), whoever sends this. */
	PCITSM_TRY(dev_bind(&s->dev[q->index], c->pid, c->pidfd));
	c->dev = q->index;
	rep->pasid = s->dev[q->index].pasid;
	rep->map_size = PCITSM_SVA_REGS_SIZE;
	*send_fd = s->dev[q->index].memfd;
	return PCITSM_OK;
}

static void conn_request(struct pcitsm_sva_server *s, struct sva_conn *c)
{
	uint8_t buf[SVA_REQ_SIZE + 1];
	struct iovec iov = { buf, sizeof(buf) };
	union {
		char b[CMSG_SPACE(SVA_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct sva_rep rep = { 0 };
	struct sva_req q;
	ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int memfd, send_fd = -1;
	unsigned nfds;
	pcitsm_err e;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(s, c); /* release(): the process closed the device or exited */
		return;
	}
	if (n < 0)
		return;
	c->t_idle = pcitsm_now_ns(s->env);
	nfds = take_fds(&m, &memfd);
	e = sva_req_admit(buf, (size_t)n, m.msg_flags, nfds, &q);
	rep.op = (uint8_t)((e ? SVA_OP_BIND : q.op) | 0x80);
	if (!e && q.op == SVA_OP_REGISTER)
		e = do_register(s, c, memfd, q.length, &rep.iova);
	else if (!e)
		e = do_bind_unbind(s, c, &q, &rep, &send_fd);
	if (memfd >= 0)
		close(memfd);
	if (e) {
		/* As the driver: every bind failure is EINVAL; the cause travels beside it. */
		rep.err = EINVAL;
		rep.cause = (uint32_t)e;
	}
	if (!reply(c->fd, &rep, send_fd)) {
		pcitsm_info(s->env, "sva: pid %ld does not read its replies: connection closed",
			    (long)c->pid);
		conn_close(s, c);
	}
}

/* Who connected: the kernel's word, taken at connect() (SO_PEERCRED) and pinned as a pidfd
 * (SO_PEERPIDFD). -1: the process has exited already. */
static int peer_pidfd(int fd, const struct ucred *cred)
{
	socklen_t l = sizeof(int);
	int pidfd = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &l) == 0)
		return pidfd;
	if (errno != ENOPROTOOPT)
		return -1; /* ESRCH: gone */
	/* Before Linux 6.5: pinned now, so a process that exited and whose pid came back between
	 * its connect() and this accept would be taken for it (docs/sva.md "Hostile processes"). */
	return (int)syscall(SYS_pidfd_open, cred->pid, 0);
}

/* A new connection: admitted into a free slot within the limits, else told why and closed. */
static void conn_open(struct pcitsm_sva_server *s, int fd)
{
	struct sva_rep rep = { .op = SVA_OP_BIND | 0x80, .err = EINVAL };
	struct sva_conn *slot = NULL;
	unsigned total = 0, of_uid = 0, of_proc = 0;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	pcitsm_err e = PCITSM_OK;
	int pidfd = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || cred.pid <= 0)
		e = PCITSM_E_SYSTEM;
	else if ((pidfd = peer_pidfd(fd, &cred)) < 0)
		e = PCITSM_E_DEAD;
	for (unsigned i = 0; !e && i < PCITSM_SVA_MAX_CONNS; i++) {
		const struct sva_conn *c = &s->conn[i];

		if (c->fd < 0) {
			slot = slot ? slot : &s->conn[i];
			continue;
		}
		total++;
		of_uid += c->uid == cred.uid;
		of_proc += c->pid == cred.pid;
	}
	if (!e && (!slot || total >= s->max_conns || of_uid >= s->per_uid ||
		   of_proc >= s->per_proc))
		e = PCITSM_E_EXHAUSTED;
	if (e) {
		pcitsm_info(s->env, "sva: connection refused: %s", pcitsm_err_name(e));
		rep.cause = (uint32_t)e;
		(void)reply(fd, &rep, -1); /* the answer to the BIND it is about to send */
		close(fd);
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	*slot = (struct sva_conn){ .fd = fd, .dev = -1, .pidfd = pidfd, .pid = cred.pid,
				   .uid = cred.uid, .t_idle = pcitsm_now_ns(s->env) };
}

static void conn_accept(struct pcitsm_sva_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			conn_open(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		/* Out of descriptors: the backlog waits (polling the listening socket meanwhile
		 * would spin). */
		s->full = errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
		return;
	}
}

/* Close every connection that bound no device and sent nothing for idle_ns; the time to the next
 * such deadline in ms (-1: none). A bound connection is an open device: it stays. */
static int conn_expire(struct pcitsm_sva_server *s)
{
	uint64_t t = pcitsm_now_ns(s->env), next = 0;

	for (unsigned i = 0; i < PCITSM_SVA_MAX_CONNS; i++) {
		struct sva_conn *c = &s->conn[i];
		uint64_t d = c->t_idle + s->idle_ns;

		if (c->fd < 0 || c->dev >= 0)
			continue;
		if (d <= t) {
			pcitsm_info(s->env, "sva: idle connection of pid %ld closed", (long)c->pid);
			conn_close(s, c);
			continue;
		}
		if (!next || d < next)
			next = d;
	}
	return next ? (int)PCITSM_MIN((next - t) / 1000000u + 1, 60000u) : -1;
}

static void *ctl_thread(void *arg)
{
	struct pcitsm_sva_server *s = arg;

	for (;;) {
		struct pollfd p[PCITSM_SVA_MAX_CONNS + 2];
		struct sva_conn *who[PCITSM_SVA_MAX_CONNS + 2];
		int ms = conn_expire(s), r;
		nfds_t n = 0;

		if (s->full)
			ms = ms >= 0 && ms < SVA_FULL_RETRY_MS ? ms : SVA_FULL_RETRY_MS;
		p[n++] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = s->full ? -1 : s->lfd, .events = POLLIN };
		for (unsigned i = 0; i < PCITSM_SVA_MAX_CONNS; i++)
			if (s->conn[i].fd >= 0) {
				who[n] = &s->conn[i];
				p[n++] = (struct pollfd){ .fd = s->conn[i].fd, .events = POLLIN };
			}
		r = poll(p, n, ms);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && p[0].revents)
			break;
		for (nfds_t k = 2; r > 0 && k < n; k++) {
			if (p[k].revents & POLLIN)
				conn_request(s, who[k]);
			else if (p[k].revents & (POLLHUP | POLLERR | POLLNVAL))
				conn_close(s, who[k]);
		}
		if ((r > 0 && p[1].revents & POLLIN) || s->full)
			conn_accept(s);
	}
	for (unsigned i = 0; i < PCITSM_SVA_MAX_CONNS; i++)
		if (s->conn[i].fd >= 0)
			conn_close(s, &s->conn[i]);
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Start and stop.
 */

static void dev_stop(struct sva_devstate *d)
{
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thr, NULL);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d->eng.buf);
}

/* The root port's IOMMU: a request of (Requester ID, PASID) reaches the process bound to the
 * device that function is (an unknown requester translates to nothing). */
static pcitsm_err iommu_hook(void *ctx, uint16_t rid, uint32_t pasid, enum pcitsm_emu_dma_dir dir,
			     const struct pcitsm_emu_dma_seg *seg, size_t n, size_t *done)
{
	struct pcitsm_sva_server *s = ctx;

	for (unsigned i = 0; i < s->ndev; i++)
		if (s->dev[i].rid == rid)
			return sva_iommu_access_v(s->iommu, i, pasid,
						  dir == PCITSM_EMU_DMA_WRITE ? SVA_WRITE : SVA_READ,
						  seg, n, done);
	*done = 0;
	return PCITSM_E_NOTFOUND;
}

/* The server's own platform: two root ports, four functions below each (device i: port i % 2,
 * function i / 2), every function doing PASID DMA; no link connected (plaintext). */
static pcitsm_err own_platform(struct pcitsm_sva_server *s, struct pcitsm_emu_func **ep)
{
	struct pcitsm_emu_config c;

	pcitsm_emu_config_default(&c);
	for (unsigned p = 0; p < c.nr_ports; p++) {
		c.ports[p].ep_extra_funcs = PCITSM_SVA_MAX_DEVS / c.nr_ports - 1;
		c.ports[p].ep_pasid_funcs = 0xff;
	}
	PCITSM_TRY(pcitsm_emu_platform_init(&s->own, &c, s->env));
	s->own_ready = true;
	s->plat = &s->own;
	for (unsigned i = 0; i < s->ndev; i++) {
		struct pcitsm_emu_func *pf = s->own.links[i % c.nr_ports].ep;

		ep[i] = i / c.nr_ports ? pf->sibling[i / c.nr_ports - 1] : pf;
	}
	return PCITSM_OK;
}

static pcitsm_err attach(struct pcitsm_sva_server *s, struct pcitsm_emu_func *const *ep,
			 const struct pcitsm_sva_server_cfg *cfg)
{
	for (unsigned i = 0; i < s->ndev; i++) {
		struct pcitsm_emu_func *f = ep[i];
		struct pcitsm_emu_link *l = f ? pcitsm_emu_func_link(s->plat, f) : NULL;

		if (!l || !l->wire)
			return PCITSM_E_INVAL;
		for (unsigned j = 0; j < i; j++)
			if (s->dev[j].ep == f)
				return PCITSM_E_EXISTS;
		s->dev[i].ep = f;
		s->dev[i].rid = pcitsm_bdf_rid(&f->bdf);
		s->dev[i].eng.link = l;
		s->dev[i].eng.dma = (struct pcitsm_emu_dma){ .req = f, .mps = cfg->mps,
							     .mrrs = cfg->mrrs };
	}
	for (unsigned i = 0; i < s->ndev; i++)
		pcitsm_emu_link_set_iommu(s->dev[i].eng.link,
					  &(struct pcitsm_emu_iommu){ iommu_hook, s });
	return PCITSM_OK;
}

static void detach(struct pcitsm_sva_server *s)
{
	for (unsigned i = 0; i < s->ndev; i++)
		if (s->dev[i].eng.link)
			pcitsm_emu_link_set_iommu(s->dev[i].eng.link, NULL);
	if (s->own_ready)
		pcitsm_emu_platform_free(&s->own);
	s->own_ready = false;
}

pcitsm_err pcitsm_sva_server_start_cfg(const struct pcitsm_sva_server_cfg *cfg,
				       struct pcitsm_sva_server **out)
{
	struct pcitsm_emu_func *ep[PCITSM_SVA_MAX_DEVS] = { 0 };
	struct pcitsm_sva_server *s;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *socket_path = cfg ? cfg->socket_path : NULL;
	unsigned started = 0, ndev = cfg ? cfg->ndev : 0;
	pcitsm_err e = PCITSM_E_SYSTEM;

	if (!socket_path || strlen(socket_path) >= sizeof(a.sun_path) || ndev == 0 ||
	    ndev > PCITSM_SVA_MAX_DEVS || cfg->pasid_bits > 20)
		return PCITSM_E_INVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PCITSM_E_NOMEM;
	s->env = cfg->env ? cfg->env : pcitsm_env_default();
	s->ndev = ndev;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	for (unsigned i = 0; i < PCITSM_SVA_MAX_CONNS; i++)
		s->conn[i] = (struct sva_conn){ .fd = -1, .dev = -1, .pidfd = -1 };
	s->max_conns = cfg->max_conns ? PCITSM_MIN(cfg->max_conns, PCITSM_SVA_MAX_CONNS)
				      : PCITSM_SVA_MAX_CONNS;
	s->per_uid = cfg->max_conns_per_uid ? cfg->max_conns_per_uid : SVA_CONNS_PER_UID;
	s->per_proc = cfg->max_conns_per_proc ? cfg->max_conns_per_proc : SVA_CONNS_PER_PROC;
	s->idle_ns = (uint64_t)(cfg->idle_timeout_ms ? cfg->idle_timeout_ms : SVA_IDLE_TIMEOUT_MS) *
		     1000000u;
	strcpy(s->path, socket_path);
	strcpy(a.sun_path, socket_path);
	if (cfg->platform) {
		s->plat = cfg->platform;
		memcpy(ep, cfg->ep, sizeof(ep));
		e = PCITSM_OK;
	} else {
		e = own_platform(s, ep);
	}
	if (!e)
		e = attach(s, ep, cfg);
	if (!e)
		e = sva_iommu_new(cfg->pasid_bits ? (1u << cfg->pasid_bits) - 1
						  : PCITSM_SVA_PASID_MAX, &s->iommu);
	if (e)
		goto fail;
	e = PCITSM_E_SYSTEM;
	if (pipe2(s->wake, O_CLOEXEC) != 0)
		goto fail;
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->lfd < 0)
		goto fail;
	unlink(socket_path);
	/* A backlog that takes a burst of clients; the loop admits (or refuses) them. */
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->lfd, 128) != 0)
		goto fail;
	for (; started < ndev; started++) {
		struct sva_devstate *d = &s->dev[started];
		struct sva_engine eng = d->eng;
		struct pcitsm_emu_func *f = d->ep;
		uint16_t rid = d->rid;

		*d = (struct sva_devstate){ .srv = s, .idx = started, .memfd = -1, .ep = f, .rid = rid };
		d->eng = eng;
		d->eng.abort = &d->abort;
		d->eng.buf = malloc(2 * SVA_ENGINE_CHUNK);
		if (!d->eng.buf || pthread_mutex_init(&d->mu, NULL) != 0 ||
		    pthread_cond_init(&d->cv, NULL) != 0 ||
		    pthread_create(&d->thr, NULL, dma_thread, d) != 0) {
			free(d->eng.buf);
			goto fail;
		}
	}
	if (pthread_create(&s->ctl, NULL, ctl_thread, s) != 0)
		goto fail;
	*out = s;
	return PCITSM_OK;
fail:
	while (started)
		dev_stop(&s->dev[--started]);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(socket_path);
	}
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	detach(s);
	sva_iommu_free(s->iommu);
	free(s);
	return e;
}

pcitsm_err pcitsm_sva_server_start(const char *socket_path, unsigned ndev,
				   const struct pcitsm_env *env, struct pcitsm_sva_server **out)
{
	struct pcitsm_sva_server_cfg c = { .socket_path = socket_path, .ndev = ndev, .env = env };

	return pcitsm_sva_server_start_cfg(&c, out);
}

struct pcitsm_emu_platform *pcitsm_sva_server_platform(struct pcitsm_sva_server *s)
{
	return s->plat;
}

struct pcitsm_emu_func *pcitsm_sva_server_func(struct pcitsm_sva_server *s, unsigned i)
{
	return i < s->ndev ? s->dev[i].ep : NULL;
}

void pcitsm_sva_server_stop(struct pcitsm_sva_server *s)
{
	if (!s)
		return;
	(void)!write(s->wake[1], "x", 1);
	pthread_join(s->ctl, NULL); /* every connection closed, every device quiesced */
	for (unsigned i = 0; i < s->ndev; i++)
		dev_stop(&s->dev[i]);
	close(s->lfd);
	unlink(s->path);
	close(s->wake[0]);
	close(s->wake[1]);
	detach(s);
	sva_iommu_free(s->iommu);
	free(s);
}
