/* SPDX-License-Identifier: MIT */
/*
 * The device handle, and its emulated backend: open() of the device is a connection to the
 * server plus BIND; release() is UNBIND (answered once the device has quiesced) and close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "sva/sva_priv.h"

/* Time the server has to answer; quiescing stops an in-flight descriptor between chunks. */
#define SVA_REPLY_TIMEOUT_S 10

int pcitsm_sva_errno(pcitsm_err e)
{
	/* uio_pci_generic_sva's open(): every iommu_sva_bind_device() failure becomes -EINVAL. */
	return e == PCITSM_OK ? 0 : EINVAL;
}

uint32_t pcitsm_sva_pasid(const struct pcitsm_sva_dev *d) { return d->pasid; }

volatile uint8_t *pcitsm_sva_map(struct pcitsm_sva_dev *d, unsigned map, size_t *size)
{
	if (map >= d->nr_maps || !d->maps[map].base)
		return NULL;
	if (size)
		*size = d->maps[map].size;
	return d->maps[map].base;
}

pcitsm_err pcitsm_sva_close(struct pcitsm_sva_dev *d)
{
	pcitsm_err e;

	if (!d)
		return PCITSM_OK;
	e = d->ops->close(d);
	for (unsigned i = 0; i < d->nr_bufs; i++)
		munmap(d->bufs[i].va, d->bufs[i].len);
	for (unsigned i = 0; i < d->nr_maps; i++)
		if (d->maps[i].base)
			munmap((void *)(uintptr_t)d->maps[i].base, d->maps[i].size);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	return e;
}

/* One reply, with at most one descriptor. */
static pcitsm_err emu_recv(int fd, struct sva_rep *rep, int *memfd)
{
	uint8_t buf[SVA_REP_SIZE + 1];
	struct iovec iov = { buf, sizeof(buf) };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	ssize_t n;

	*memfd = -1;
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? PCITSM_E_TIMEOUT : PCITSM_E_IO;
	if (n == 0)
		return PCITSM_E_CLOSED;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *memfd < 0)
			memcpy(memfd, CMSG_DATA(c), sizeof(int));
	if (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		return PCITSM_E_LONG;
	return sva_rep_decode(buf, (size_t)n, rep);
}

static pcitsm_err emu_request(int fd, uint8_t op, unsigned index)
{
	uint8_t buf[SVA_REQ_SIZE];

	sva_req_encode(&(struct sva_req){ .op = op, .index = (uint16_t)index }, buf);
	return send(fd, buf, sizeof(buf), MSG_NOSIGNAL) == (ssize_t)sizeof(buf) ? PCITSM_OK
										 : PCITSM_E_IO;
}

static pcitsm_err emu_close(struct pcitsm_sva_dev *d)
{
	struct sva_rep rep;
	int memfd = -1;
	pcitsm_err e;

	e = emu_request(d->fd, SVA_OP_UNBIND, 0);
	if (!e)
		e = emu_recv(d->fd, &rep, &memfd);
	if (memfd >= 0)
		close(memfd);
	if (!e && (rep.op != (SVA_OP_UNBIND | 0x80) || rep.err))
		e = PCITSM_E_UNEXPECTED;
	/* Without a confirmation the binding still ends with the connection (close below). */
	return e ? PCITSM_E_BUSY : PCITSM_OK;
}

/* REGISTER: a sealed memfd, mapped here and sent to the device. */
static pcitsm_err emu_dma_alloc(struct pcitsm_sva_dev *d, size_t size, struct sva_dma_buf *b)
{
	uint8_t buf[SVA_REQ_SIZE];
	struct iovec iov = { buf, sizeof(buf) };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	struct sva_rep rep;
	int fd, junk = -1;
	void *p;
	pcitsm_err e;

	fd = memfd_create("pcitsm-sva-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return PCITSM_E_SYSTEM;
	if (ftruncate(fd, (off_t)size) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		close(fd);
		return PCITSM_E_SYSTEM;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return PCITSM_E_NOMEM;
	}
	sva_req_encode(&(struct sva_req){ .op = SVA_OP_REGISTER, .length = size }, buf);
	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	e = sendmsg(d->fd, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(buf) ? PCITSM_OK : PCITSM_E_IO;
	close(fd);
	if (!e)
		e = emu_recv(d->fd, &rep, &junk);
	if (junk >= 0)
		close(junk);
	if (!e && (rep.op != (SVA_OP_REGISTER | 0x80) || rep.err))
		e = rep.err ? (pcitsm_err)rep.cause : PCITSM_E_UNEXPECTED;
	if (e) {
		munmap(p, size);
		return e;
	}
	*b = (struct sva_dma_buf){ p, size, rep.iova };
	return PCITSM_OK;
}

static const struct sva_backend_ops emu_ops = { .close = emu_close, .dma_alloc = emu_dma_alloc };

pcitsm_err pcitsm_sva_dma_alloc(struct pcitsm_sva_dev *d, size_t size, void **va, uint64_t *iova)
{
	pcitsm_err e;

	if (!d->ops->dma_alloc)
		return PCITSM_E_UNSUPPORTED;
	if (size == 0 || size % 4096 || size > PCITSM_SVA_LEN_MAX)
		return PCITSM_E_INVAL;
	if (d->nr_bufs == SVA_MAX_REGIONS)
		return PCITSM_E_EXHAUSTED;
	e = d->ops->dma_alloc(d, size, &d->bufs[d->nr_bufs]);
	if (e)
		return e;
	*va = d->bufs[d->nr_bufs].va;
	*iova = d->bufs[d->nr_bufs].iova;
	d->nr_bufs++;
	return PCITSM_OK;
}

pcitsm_err pcitsm_sva_dma_addr(const struct pcitsm_sva_dev *d, const void *p, uint64_t *iova)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < d->nr_bufs; i++) {
		uintptr_t b = (uintptr_t)d->bufs[i].va;

		if (a >= b && a - b < d->bufs[i].len) {
			*iova = d->bufs[i].iova + (a - b);
			return PCITSM_OK;
		}
	}
	return PCITSM_E_RANGE;
}

pcitsm_err pcitsm_sva_open_emu(const char *socket_path, unsigned index, struct pcitsm_sva_dev **out,
			       char *why, size_t whylen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { SVA_REPLY_TIMEOUT_S, 0 };
	struct pcitsm_sva_dev *d;
	struct sva_rep rep;
	int memfd = -1;
	void *p;
	pcitsm_err e;

	if (!socket_path || strlen(socket_path) >= sizeof(a.sun_path)) {
		pcitsm_why(why, whylen, "socket path missing or too long");
		return PCITSM_E_INVAL;
	}
	strcpy(a.sun_path, socket_path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return PCITSM_E_NOMEM;
	d->ops = &emu_ops;
	d->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(d->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		pcitsm_why(why, whylen, "cannot reach the device server at %s: %s", socket_path,
		    strerror(errno));
		e = PCITSM_E_IO;
		goto fail;
	}
	e = emu_request(d->fd, SVA_OP_BIND, index);
	if (!e)
		e = emu_recv(d->fd, &rep, &memfd);
	if (e) {
		pcitsm_why(why, whylen, "no answer to bind: %s", pcitsm_err_str(e));
		goto fail;
	}
	if (rep.op != (SVA_OP_BIND | 0x80)) {
		e = PCITSM_E_UNEXPECTED;
		pcitsm_why(why, whylen, "unexpected reply to bind");
		goto fail;
	}
	if (rep.err) {
		/* EINVAL, as the driver; the cause from the server is only for the message. */
		e = (pcitsm_err)rep.cause;
		if (!strcmp(pcitsm_err_name(e), "E_UNKNOWN") || e == PCITSM_OK)
			e = PCITSM_E_PEER_ERROR;
		pcitsm_why(why, whylen, "bind of device %u refused (errno %d): %s%s", index, rep.err,
		    pcitsm_err_str(e), e == PCITSM_E_BUSY ? " (bound by another process)" : "");
		goto fail;
	}
	if (memfd < 0 || rep.map_size != PCITSM_SVA_REGS_SIZE || rep.pasid == 0) {
		e = PCITSM_E_FIELD;
		pcitsm_why(why, whylen, "bind reply without registers or PASID");
		goto fail;
	}
	p = mmap(NULL, rep.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (p == MAP_FAILED) {
		e = PCITSM_E_SYSTEM;
		pcitsm_why(why, whylen, "mmap of the registers: %s", strerror(errno));
		goto fail;
	}
	close(memfd);
	d->maps[0] = (struct sva_map){ p, rep.map_size };
	d->nr_maps = 1;
	d->pasid = rep.pasid;
	*out = d;
	return PCITSM_OK;
fail:
	if (memfd >= 0)
		close(memfd);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	return e;
}
