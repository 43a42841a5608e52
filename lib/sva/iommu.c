/* SPDX-License-Identifier: MIT */
/*
 * The IOMMU model of the emulated SVA device: a PASID table whose entries are processes. A
 * translation is "this device, this PASID" -> "that process's address space"; the access itself is
 * process_vm_readv / process_vm_writev into that process, so the kernel's page tables decide what
 * is mapped and writable, exactly as the CPU's page tables do for a real SVA IOMMU (iommu-sva
 * kernel-doc: the device shares the process's page tables).
 *
 * Unbind takes the table lock for writing, every access holds it for reading: once
 * sva_iommu_unbind() returns, no access of that device reaches the process. A process that has
 * exited is seen through a pidfd before each access, so its PASID translates to nothing even
 * before the server has noticed the closed socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sva/sva_priv.h"

#define SVA_MAX_BINDINGS 64

struct sva_binding {
	bool used;
	uint32_t pasid;
	pid_t pid;
	int pidfd;
	uint32_t devs; /* bit d: device d is bound to this PASID */
};

/* IOVA regions start at 4 GiB, each 2 MiB aligned (IOMMU large-page granule). */
#define SVA_IOVA_BASE (1ull << 32)
#define SVA_IOVA_ALIGN (2ull << 20)

struct sva_region {
	uint64_t iova, len; /* len 0: free */
	uint8_t *map;       /* the device's own mapping of the buffer */
};

struct sva_iommu {
	pthread_rwlock_t lock;
	uint32_t next_pasid, pasid_max;
	struct sva_binding b[SVA_MAX_BINDINGS];
	uint32_t dev_pasid[PCITSM_SVA_MAX_DEVS]; /* 0: the device is not bound */
	struct sva_region reg[PCITSM_SVA_MAX_DEVS][SVA_MAX_REGIONS];
	uint64_t next_iova[PCITSM_SVA_MAX_DEVS];
};

static void regions_drop(struct sva_iommu *m, unsigned dev)
{
	for (unsigned i = 0; i < SVA_MAX_REGIONS; i++) {
		struct sva_region *r = &m->reg[dev][i];

		if (r->len)
			munmap(r->map, (size_t)r->len);
		*r = (struct sva_region){ 0 };
	}
	m->next_iova[dev] = SVA_IOVA_BASE;
}

pcitsm_err sva_iommu_new(uint32_t pasid_max, struct sva_iommu **out)
{
	struct sva_iommu *m;

	if (pasid_max == 0 || pasid_max > PCITSM_SVA_PASID_MAX)
		return PCITSM_E_INVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return PCITSM_E_NOMEM;
	if (pthread_rwlock_init(&m->lock, NULL) != 0) {
		free(m);
		return PCITSM_E_SYSTEM;
	}
	m->next_pasid = 1; /* PASID 0 is RID_PASID: never handed out */
	m->pasid_max = pasid_max;
	for (unsigned d = 0; d < PCITSM_SVA_MAX_DEVS; d++)
		m->next_iova[d] = SVA_IOVA_BASE;
	*out = m;
	return PCITSM_OK;
}

void sva_iommu_free(struct sva_iommu *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < SVA_MAX_BINDINGS; i++)
		if (m->b[i].used)
			close(m->b[i].pidfd);
	for (unsigned d = 0; d < PCITSM_SVA_MAX_DEVS; d++)
		regions_drop(m, d);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

static bool process_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0; /* readable (exited) or an error */
}

static struct sva_binding *by_pasid(struct sva_iommu *m, uint32_t pasid)
{
	for (unsigned i = 0; i < SVA_MAX_BINDINGS; i++)
		if (m->b[i].used && m->b[i].pasid == pasid)
			return &m->b[i];
	return NULL;
}

static void drop(struct sva_binding *b)
{
	close(b->pidfd);
	*b = (struct sva_binding){ 0 };
}

static bool pasid_in_use(struct sva_iommu *m, uint32_t pasid)
{
	return by_pasid(m, pasid) != NULL;
}

pcitsm_err sva_iommu_bind(struct sva_iommu *m, unsigned dev, pid_t pid, int owner,
			  uint32_t *pasid)
{
	struct sva_binding *b = NULL, *free_slot = NULL;
	pcitsm_err e = PCITSM_OK;
	int pidfd;

	if (dev >= PCITSM_SVA_MAX_DEVS || pid <= 0 || owner < 0)
		return PCITSM_E_INVAL;
	/* The binding keeps its own reference to the process the caller pinned. */
	pidfd = fcntl(owner, F_DUPFD_CLOEXEC, 0);
	if (pidfd < 0)
		return PCITSM_E_SYSTEM;
	if (process_gone(pidfd)) {
		close(pidfd);
		return PCITSM_E_DEAD; /* its pid may already name another process */
	}
	pthread_rwlock_wrlock(&m->lock);
	if (m->dev_pasid[dev]) {
		e = PCITSM_E_BUSY;
		goto out;
	}
	for (unsigned i = 0; i < SVA_MAX_BINDINGS; i++) {
		struct sva_binding *c = &m->b[i];

		if (!c->used) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		/* A stale entry of an exited process whose pid came back is not that process. */
		if (c->pid == pid && !process_gone(c->pidfd))
			b = c;
	}
	if (!b) {
		uint32_t p = m->next_pasid, tries = 0;

		if (!free_slot) {
			e = PCITSM_E_EXHAUSTED;
			goto out;
		}
		while (pasid_in_use(m, p) && tries++ < m->pasid_max)
			p = p % m->pasid_max + 1;
		if (pasid_in_use(m, p)) {
			e = PCITSM_E_EXHAUSTED;
			goto out;
		}
		m->next_pasid = p % m->pasid_max + 1;
		b = free_slot;
		*b = (struct sva_binding){ .used = true, .pasid = p, .pid = pid, .pidfd = pidfd };
		pidfd = -1;
	}
	b->devs |= 1u << dev;
	m->dev_pasid[dev] = b->pasid;
	*pasid = b->pasid;
out:
	pthread_rwlock_unlock(&m->lock);
	if (pidfd >= 0)
		close(pidfd);
	return e;
}

void sva_iommu_unbind(struct sva_iommu *m, unsigned dev, uint32_t pasid)
{
	struct sva_binding *b;

	if (dev >= PCITSM_SVA_MAX_DEVS)
		return;
	pthread_rwlock_wrlock(&m->lock);
	b = by_pasid(m, pasid);
	if (b && m->dev_pasid[dev] == pasid) {
		b->devs &= ~(1u << dev);
		m->dev_pasid[dev] = 0;
		if (!b->devs)
			drop(b); /* the PASID goes with the last binding of the process */
		regions_drop(m, dev);
	}
	pthread_rwlock_unlock(&m->lock);
}

pcitsm_err sva_iommu_map(struct sva_iommu *m, unsigned dev, int memfd, uint64_t len, uint64_t *iova)
{
	struct sva_region *slot = NULL;
	pcitsm_err e = PCITSM_OK;
	void *p;

	if (dev >= PCITSM_SVA_MAX_DEVS || len == 0 || len > PCITSM_SVA_LEN_MAX)
		return PCITSM_E_INVAL;
	/* The device's mapping: the buffer stays mapped (pinned) until the device is unbound. */
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (p == MAP_FAILED)
		return PCITSM_E_SYSTEM;
	pthread_rwlock_wrlock(&m->lock);
	for (unsigned i = 0; i < SVA_MAX_REGIONS && !slot; i++)
		if (!m->reg[dev][i].len)
			slot = &m->reg[dev][i];
	if (!m->dev_pasid[dev])
		e = PCITSM_E_STATE;
	else if (!slot)
		e = PCITSM_E_EXHAUSTED;
	if (!e) {
		*slot = (struct sva_region){ .iova = m->next_iova[dev], .len = len, .map = p };
		m->next_iova[dev] += (len + SVA_IOVA_ALIGN - 1) / SVA_IOVA_ALIGN * SVA_IOVA_ALIGN;
		*iova = slot->iova;
	}
	pthread_rwlock_unlock(&m->lock);
	if (e)
		munmap(p, (size_t)len);
	return e;
}

/* The IOVA translation: the region of device dev that holds iova, or NULL. */
static const struct sva_region *region(const struct sva_iommu *m, unsigned dev, uint64_t iova)
{
	for (unsigned i = 0; i < SVA_MAX_REGIONS; i++) {
		const struct sva_region *r = &m->reg[dev][i];

		if (r->len && iova >= r->iova && iova - r->iova < r->len)
			return r;
	}
	return NULL;
}

/* A request without a PASID: through the device's IOVA regions, a fault where they end. */
static pcitsm_err access_iova(struct sva_iommu *m, unsigned dev, enum sva_access acc, uint64_t va,
			      uint8_t *buf, size_t len, size_t *moved)
{
	while (*moved < len) {
		const struct sva_region *r = region(m, dev, va + *moved);
		size_t off, n;

		if (!r)
			return PCITSM_E_RANGE;
		off = (size_t)(va + *moved - r->iova);
		n = (size_t)PCITSM_MIN((uint64_t)(len - *moved), r->len - off);
		if (acc == SVA_WRITE)
			memcpy(r->map + off, buf + *moved, n);
		else
			memcpy(buf + *moved, r->map + off, n);
		*moved += n;
	}
	return PCITSM_OK;
}

/* The translation: device dev may reach PASID pasid only while dev is bound to it. */
static const struct sva_binding *lookup(struct sva_iommu *m, unsigned dev, uint32_t pasid)
{
	const struct sva_binding *b = by_pasid(m, pasid);

	if (!b || dev >= PCITSM_SVA_MAX_DEVS || !(b->devs & 1u << dev))
		return NULL;
	if (process_gone(b->pidfd))
		return NULL;
	return b;
}

/* process_vm_readv / process_vm_writev over the segments from byte `moved` on, as few calls as
 * the kernel allows: one for all of them unless one stops short at a page it cannot reach.
 * Segments that continue each other at both ends (a burst's requests in address order, read into
 * consecutive staging buffers or written from one buffer) go as one iovec: the kernel pins and
 * walks each iovec on its own, so one of 128 KiB costs far less than 32 of 4 KiB. */
static pcitsm_err vm_access(pid_t pid, enum sva_access acc, const struct pcitsm_emu_dma_seg *seg,
			    size_t n, size_t total, size_t *moved)
{
	struct iovec local[SVA_IOV_MAX], remote[SVA_IOV_MAX];

	while (*moved < total) {
		size_t skip = *moved, k = 0, i = 0;
		ssize_t got;

		while (skip >= seg[i].len) /* the segment holding byte `moved` */
			skip -= seg[i++].len;
		for (; i < n; i++, skip = 0) {
			uint8_t *lb = seg[i].buf + skip;
			uint64_t rva = seg[i].va + skip;
			size_t len = seg[i].len - skip;

			if (k && (uint8_t *)local[k - 1].iov_base + local[k - 1].iov_len == lb &&
			    (uintptr_t)remote[k - 1].iov_base + remote[k - 1].iov_len == rva) {
				local[k - 1].iov_len += len;
				remote[k - 1].iov_len += len;
				continue;
			}
			if (k == SVA_IOV_MAX)
				break;
			local[k] = (struct iovec){ lb, len };
			remote[k++] = (struct iovec){ (void *)(uintptr_t)rva, len };
		}
		got = acc == SVA_WRITE ? process_vm_writev(pid, local, k, remote, k, 0)
				       : process_vm_readv(pid, local, k, remote, k, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ESRCH)
			return PCITSM_E_NOTFOUND; /* exited while we looked */
		if (got <= 0)
			return PCITSM_E_RANGE; /* EFAULT: not mapped, or not writable for a write */
		/* A short transfer stopped at a page the process has not mapped (or, for a write,
		 * not mapped writable): go round once more, which faults there. */
		*moved += (size_t)got;
	}
	return PCITSM_OK;
}

pcitsm_err sva_iommu_access_v(struct sva_iommu *m, unsigned dev, uint32_t pasid,
			      enum sva_access acc, const struct pcitsm_emu_dma_seg *seg, size_t n,
			      size_t *done)
{
	const struct sva_binding *b;
	pcitsm_err e = PCITSM_OK;
	size_t moved = 0, total = 0;

	for (size_t i = 0; i < n; i++)
		total += seg[i].len;
	pthread_rwlock_rdlock(&m->lock);
	if (pasid == SVA_NO_PASID) {
		if (dev >= PCITSM_SVA_MAX_DEVS || !m->dev_pasid[dev]) {
			e = PCITSM_E_NOTFOUND;
			goto out;
		}
		for (size_t i = 0; i < n && !e; i++) {
			size_t k = 0;

			e = access_iova(m, dev, acc, seg[i].va, seg[i].buf, seg[i].len, &k);
			moved += k;
		}
		goto out;
	}
	b = lookup(m, dev, pasid);
	if (!b) {
		e = PCITSM_E_NOTFOUND;
		goto out;
	}
	e = vm_access(b->pid, acc, seg, n, total, &moved);
out:
	pthread_rwlock_unlock(&m->lock);
	*done = moved;
	return e;
}

pcitsm_err sva_iommu_access(struct sva_iommu *m, unsigned dev, uint32_t pasid, enum sva_access acc,
			    uint64_t va, void *buf, size_t len, size_t *done)
{
	struct pcitsm_emu_dma_seg s = { va, buf, len };

	return sva_iommu_access_v(m, dev, pasid, acc, &s, 1, done);
}
