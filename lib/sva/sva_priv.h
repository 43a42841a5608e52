/* SPDX-License-Identifier: MIT */
/* lib/sva internals: the IOMMU model, the DMA engine, the backends' operations. */
#ifndef PCITSM_SVA_PRIV_H
#define PCITSM_SVA_PRIV_H

#include <stdatomic.h>

#include "pcitsm/emu.h"
#include "pcitsm/sva.h"

/* ---------------------------------------------------------------------------------------------
 * IOMMU model. A PASID names one process's address space (one PASID per process, shared by all
 * the devices it binds, freed when its last binding goes: iommu-sva kernel-doc); a device reaches
 * a PASID only while that device is bound to it. Every DMA access goes through sva_iommu_access(),
 * the one place a translation is looked up, so a later gate (a TDI's private memory only while the
 * TDI is in RUN) is one more check there.
 */
struct sva_iommu;

/* PASIDs 1..pasid_max are handed out (2^20 - 1 at most: the PASID TLP Prefix's 20 bits, PCIe 6.x
 * §6.20.2; an IOMMU's PASID table may be smaller), round robin, so a freed PASID comes back as
 * late as the space allows; E_INVAL outside 1..PCITSM_SVA_PASID_MAX. */
pcitsm_err sva_iommu_new(uint32_t pasid_max, struct sva_iommu **out) PCITSM_MUST_CHECK;
void sva_iommu_free(struct sva_iommu *m);
/* Bind device dev (0..PCITSM_SVA_MAX_DEVS-1) to the process owner (a pidfd the caller took when
 * the process opened the device; pid is its pid, for process_vm_readv/writev); *pasid is the
 * process's PASID. The binding keeps a duplicate of owner: a process is the same one only while
 * that pidfd says it lives, so a new process that got a dead one's pid never joins its binding.
 * E_BUSY: the device is bound already; E_EXHAUSTED: no PASID or binding left; E_DEAD: the owner
 * has exited; E_SYSTEM: the pidfd cannot be duplicated. */
pcitsm_err sva_iommu_bind(struct sva_iommu *m, unsigned dev, pid_t pid, int owner,
			  uint32_t *pasid) PCITSM_MUST_CHECK;
/* Remove the binding and the device's IOVA regions. Waits for accesses in progress: after it
 * returns, no access of dev reaches the process. */
void sva_iommu_unbind(struct sva_iommu *m, unsigned dev, uint32_t pasid);
/* The IOVA model beside SVA: a region of a buffer the driver registered once (a memfd it shares
 * with the device, as a pinned and mapped DMA buffer), at an IOVA the IOMMU picks. Requests without
 * a PASID (SVA_NO_PASID) are translated through these regions only. E_EXHAUSTED: no region left;
 * E_SYSTEM: the buffer cannot be mapped. */
#define SVA_NO_PASID 0u
#define SVA_MAX_REGIONS 16
pcitsm_err sva_iommu_map(struct sva_iommu *m, unsigned dev, int memfd, uint64_t len,
			 uint64_t *iova) PCITSM_MUST_CHECK;

enum sva_access { SVA_READ, SVA_WRITE };
/* A DMA access of len bytes at virtual address va through (dev, pasid); pasid SVA_NO_PASID: va is
 * an IOVA of one of the device's regions. *done is the number of
 * bytes moved. E_NOTFOUND: no translation (the device is not bound to that PASID, or the process
 * has exited); E_RANGE: an I/O page fault at va + *done (unmapped, or not writable on a write). */
pcitsm_err sva_iommu_access(struct sva_iommu *m, unsigned dev, uint32_t pasid, enum sva_access acc,
			    uint64_t va, void *buf, size_t len, size_t *done) PCITSM_MUST_CHECK;
/* The same for n segments in one direction, in order, with as few process_vm_readv/writev calls
 * as the process's mappings allow (one iovec array per call): what the root port's IOMMU hook
 * calls for a burst of requests. */
#define SVA_IOV_MAX 64
pcitsm_err sva_iommu_access_v(struct sva_iommu *m, unsigned dev, uint32_t pasid,
			      enum sva_access acc, const struct pcitsm_emu_dma_seg *seg, size_t n,
			      size_t *done) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * The DMA engine of one device, at its emulated endpoint: executes one descriptor fetched from the
 * ring and writes its completion record, every access a DMA across the endpoint's link
 * (pcitsm_emu_dma_read / _write: Memory Requests with the queue's PASID and T bit, served by the
 * root port through the IOMMU hook).
 */
struct sva_engine {
	struct pcitsm_emu_link *link;
	struct pcitsm_emu_dma dma; /* requester, MPS / MRRS; PASID and T set per queue */
	uint8_t *buf;              /* staging, SVA_ENGINE_CHUNK * 2 bytes */
	atomic_bool *abort;        /* set by unbind / exit: stop between chunks */
};
#define SVA_ENGINE_CHUNK (256u * 1024u)

/* One DMA of the engine: E_RANGE etc. as pcitsm_emu_dma_read / _write, *fault where it stopped. */
pcitsm_err sva_engine_dma(struct sva_engine *e, enum sva_access acc, uint64_t va, void *buf,
			  size_t len, size_t *done, uint64_t *fault) PCITSM_MUST_CHECK;
/* Execute raw descriptor bytes for the queue whose PASID register holds q_pasid, its requests with
 * T bit tee. Returns the queue-level error (PCITSM_SVA_QERR_NONE when a completion record was
 * written). */
enum pcitsm_sva_qerr sva_engine_exec(struct sva_engine *e, uint32_t q_pasid, bool tee,
				     const uint8_t desc[PCITSM_SVA_DESC_SIZE]);

/* ---------------------------------------------------------------------------------------------
 * Backends.
 */
struct sva_dma_buf;
struct sva_backend_ops {
	pcitsm_err (*close)(struct pcitsm_sva_dev *d);
	/* NULL: the backend has no IOVA model */
	pcitsm_err (*dma_alloc)(struct pcitsm_sva_dev *d, size_t size, struct sva_dma_buf *b);
};

struct sva_map {
	volatile uint8_t *base;
	size_t size;
};
#define SVA_MAX_MAPS 6

/* A registered DMA buffer as the driver sees it. */
struct sva_dma_buf {
	uint8_t *va;
	size_t len;
	uint64_t iova;
};

struct pcitsm_sva_dev {
	const struct sva_backend_ops *ops;
	int fd; /* the socket (emulated) or /dev/uioN (real) */
	uint32_t pasid;
	struct sva_map maps[SVA_MAX_MAPS];
	unsigned nr_maps;
	struct sva_dma_buf bufs[SVA_MAX_REGIONS];
	unsigned nr_bufs;
};

/* The emulated device's socket protocol (SOCK_SEQPACKET, little-endian):
 * request 16 bytes: op (1 BIND, 2 UNBIND, 3 REGISTER), version (1), device index u16,
 *                   reserved u32, length u64 (REGISTER: the buffer's size; else 0)
 *                   REGISTER carries the buffer's memfd in SCM_RIGHTS
 * reply   24 bytes: op | 0x80, errno (0 or EINVAL), reserved u16, PASID u32, map size u32,
 *                   cause u32 (a pcitsm_err: why a request failed), IOVA u64 (REGISTER)
 *                   with the register memfd in SCM_RIGHTS on a successful BIND. */
#define SVA_PROTO_VERSION 1
#define SVA_OP_BIND 1
#define SVA_OP_UNBIND 2
#define SVA_OP_REGISTER 3
#define SVA_REQ_SIZE 16
#define SVA_REP_SIZE 24

struct sva_req {
	uint8_t op;
	uint16_t index;
	uint64_t length;
};
pcitsm_err sva_req_decode(const void *in, size_t len, struct sva_req *out) PCITSM_MUST_CHECK;
/* A request as the server received it: len bytes, recvmsg()'s msg_flags, the number of file
 * descriptors it carried. E_LONG: cut (MSG_TRUNC / MSG_CTRUNC); E_FIELD: a descriptor where none
 * belongs, or a REGISTER without exactly one; else as sva_req_decode. */
pcitsm_err sva_req_admit(const void *in, size_t len, int msg_flags, unsigned nfds,
			 struct sva_req *out) PCITSM_MUST_CHECK;
void sva_req_encode(const struct sva_req *q, uint8_t out[SVA_REQ_SIZE]);

struct sva_rep {
	uint8_t op;
	uint8_t err; /* errno */
	uint32_t pasid, map_size, cause;
	uint64_t iova;
};
pcitsm_err sva_rep_decode(const void *in, size_t len, struct sva_rep *out) PCITSM_MUST_CHECK;
void sva_rep_encode(const struct sva_rep *p, uint8_t out[SVA_REP_SIZE]);

/* Little-endian register access on a mapping shared with the device. */
static inline uint32_t sva_reg_rd32(volatile uint8_t *regs, unsigned off)
{
	return atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)(regs + off), memory_order_acquire);
}
static inline void sva_reg_wr32(volatile uint8_t *regs, unsigned off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(uintptr_t)(regs + off), v, memory_order_release);
}
static inline uint64_t sva_reg_rd64(volatile uint8_t *regs, unsigned off)
{
	return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)(regs + off), memory_order_acquire);
}
static inline void sva_reg_wr64(volatile uint8_t *regs, unsigned off, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)(uintptr_t)(regs + off), v, memory_order_release);
}
/* Wake / wait on a register word (a shared futex: the memfd is MAP_SHARED in both processes). */
void sva_futex_wake(volatile uint8_t *regs, unsigned off);
void sva_futex_wait(volatile uint8_t *regs, unsigned off, uint32_t seen, unsigned timeout_ms);

#endif
