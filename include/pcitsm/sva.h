/* SPDX-License-Identifier: MIT */
/*
 * Shared virtual addressing for user-space drivers, modelled on Linux 6.19's uio_pci_generic_sva
 * (drivers/uio/uio_pci_generic_sva.c, PCI driver name "uio_pci_sva"), and an example device that
 * uses it: a descriptor-ring DMA engine (copy, fill, compare, CRC32C). docs/sva.md is the guide.
 *
 * The driver's contract, which both backends keep:
 *   - opening the device binds the calling process's address space (iommu_sva_bind_device on
 *     current->mm) and yields a PASID. The PASID belongs to the process: every device one
 *     process opens sees the same one (iommu-sva kernel-doc);
 *   - every bind failure is EINVAL to the caller (the driver maps EBUSY, EOVERFLOW, ENOSPC and
 *     ENOMEM to EINVAL); our `why` text says the real cause;
 *   - registers are the device's memory BARs, one UIO map each;
 *   - the driver writes the PASID into a device register and hands the device plain pointers;
 *   - closing unbinds; before that the device must have stopped issuing requests for the PASID
 *     (iommu-sva kernel-doc): pcitsm_sva_close() waits until the device has quiesced it.
 *
 * Backends:
 *   real      /dev/uioN, /sys/bus/pci/drivers/uio_pci_sva/<BDF>/pasid and
 *             /sys/class/uio/uioN/maps/mapM/{addr,size,offset,name}, under a sysfs root;
 *   emulated  a device served by pcitsmd (--sva-socket PATH) or by pcitsm_sva_server_start():
 *             the process binds over an AF_UNIX socket, the server knows it by SO_PEERCRED, the
 *             registers are a memfd passed with SCM_RIGHTS, and the DMA engine reaches the bound
 *             process's memory through an IOMMU model keyed by PASID, with process_vm_readv and
 *             process_vm_writev into that process only.
 */
#ifndef PCITSM_SVA_H
#define PCITSM_SVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pcitsm/core.h"
#include "pcitsm/pci.h"

/* PASIDs are 20 bits (PCIe 6.x §6.20); PASID 0 is kept for requests without one (RID_PASID). */
#define PCITSM_SVA_PASID_MAX 0xfffffu

/* ---------------------------------------------------------------------------------------------
 * The device handle, both backends.
 */
struct pcitsm_sva_dev;

/* Emulated backend: bind device `index` of the server at socket_path. On failure *why (if not
 * NULL) says the real cause; pcitsm_sva_errno() of any bind failure is EINVAL, as the driver's. */
pcitsm_err pcitsm_sva_open_emu(const char *socket_path, unsigned index, struct pcitsm_sva_dev **out,
			       char *why, size_t whylen) PCITSM_MUST_CHECK;
/* Real backend: the function bdf bound to uio_pci_sva under sysfs_root (normally "/sys"), with its
 * character devices under dev_root (normally "/dev"). */
pcitsm_err pcitsm_sva_open_uio(const char *sysfs_root, const char *dev_root,
			       const struct pcitsm_bdf *bdf, struct pcitsm_sva_dev **out, char *why,
			       size_t whylen) PCITSM_MUST_CHECK;
/* Real backend, what `pcitsm list` and `pcitsm sva bind` need: is the function on uio_pci_sva,
 * its UIO index (-1: none yet), its pasid attribute (0 before the first open; the driver does not
 * clear it at release). E_NOTFOUND: no such function under sysfs_root. */
struct pcitsm_sva_uio_info {
	bool on_uio_pci_sva;
	char driver[64]; /* the bound driver's name, "" if none */
	int uio;
	uint32_t pasid;
	bool pasid_valid; /* the attribute was readable and well formed */
};
pcitsm_err pcitsm_sva_uio_info(const char *sysfs_root, const struct pcitsm_bdf *bdf,
			       struct pcitsm_sva_uio_info *out) PCITSM_MUST_CHECK;
/* Bind the function to uio_pci_sva the way the driver's id_table = NULL requires: write
 * "uio_pci_sva" to driver_override, unbind the current driver, write the address to
 * drivers/uio_pci_sva/bind. unbind reverses it (driver unbind, empty driver_override). */
pcitsm_err pcitsm_sva_uio_bind(const char *sysfs_root, const struct pcitsm_bdf *bdf, char *why,
			       size_t whylen) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_sva_uio_unbind(const char *sysfs_root, const struct pcitsm_bdf *bdf, char *why,
				 size_t whylen) PCITSM_MUST_CHECK;
/* The process's PASID for this device (the same for every device the process opened). */
uint32_t pcitsm_sva_pasid(const struct pcitsm_sva_dev *d);
/* Map `map` (BAR order, as UIO numbers them): base and size, or NULL if there is no such map. */
volatile uint8_t *pcitsm_sva_map(struct pcitsm_sva_dev *d, unsigned map, size_t *size);
/* Unbind and free. The emulated device is quiesced first (the call returns once it has stopped
 * using the PASID); E_BUSY if the server could not confirm that (the binding then ends with the
 * connection, as at process exit). */
pcitsm_err pcitsm_sva_close(struct pcitsm_sva_dev *d);
/* The IOVA model, for comparison with SVA (pcitsm bench dma): a DMA buffer of size bytes (a whole
 * number of pages) registered with the device once, as a pinned buffer mapped in the device's own
 * IOVA domain. *va is where this process sees it, *iova where the device does, for requests without
 * a PASID (PASID register enable clear: pcitsm_sva_ring_init_iova). Freed at close. Emulated
 * backend only: uio_pci_sva's open() detaches the device's IOVA domain (E_UNSUPPORTED). */
pcitsm_err pcitsm_sva_dma_alloc(struct pcitsm_sva_dev *d, size_t size, void **va, uint64_t *iova)
	PCITSM_MUST_CHECK;
/* The device address of p inside a registered buffer (E_RANGE if p is in none). */
pcitsm_err pcitsm_sva_dma_addr(const struct pcitsm_sva_dev *d, const void *p, uint64_t *iova)
	PCITSM_MUST_CHECK;
/* The errno the kernel driver returns for a failed open() of /dev/uioN: EINVAL for every bind
 * failure, 0 for PCITSM_OK. */
int pcitsm_sva_errno(pcitsm_err e);

/* ---------------------------------------------------------------------------------------------
 * The example device: registers of map 0 (little-endian, naturally aligned, 4 KiB).
 */
#define PCITSM_SVA_REGS_SIZE 4096u
#define PCITSM_SVA_REG_ID 0x00        /* RO  PCITSM_SVA_ID */
#define PCITSM_SVA_REG_STATUS 0x04    /* RO  bit 0 queue running */
#define PCITSM_SVA_REG_PASID 0x08     /* RW  bit 31 enable, bits 19:0 the PASID of the queue */
#define PCITSM_SVA_REG_CTRL 0x0c      /* RW  bit 0 enable the queue */
#define PCITSM_SVA_REG_RING_BASE 0x10 /* RW  virtual address of the ring (64 B aligned) */
#define PCITSM_SVA_REG_RING_SIZE 0x18 /* RW  entries, a power of two, 1..4096 */
#define PCITSM_SVA_REG_TAIL 0x20      /* RW  doorbell: descriptors written (free-running) */
#define PCITSM_SVA_REG_HEAD 0x24      /* RO  descriptors consumed (free-running) */
#define PCITSM_SVA_REG_ERROR 0x28     /* RO  last queue-level error (enum pcitsm_sva_qerr) */
#define PCITSM_SVA_REG_DONE 0x2c      /* RO  completions written (free-running; a futex word) */
#define PCITSM_SVA_ID 0x41565350u     /* "PSVA" */
#define PCITSM_SVA_PASID_EN 0x80000000u
#define PCITSM_SVA_CTRL_EN 0x1u
/* CTRL bit 1: the queue's requests carry T=1 (TDISP, PCIe 6.x §11): DMA by a TDI to the confidential
 * VM's memory, which reaches it only while the TDI is RUN and only inside a Secure IDE stream; in
 * any other state every access of the queue faults. The driver sets it before enabling the queue
 * (pcitsm_sva_ring_init_tee). */
#define PCITSM_SVA_CTRL_TEE 0x2u
#define PCITSM_SVA_STATUS_RUN 0x1u
#define PCITSM_SVA_RING_MAX 4096u

/* Queue-level errors: the device could not even reach a completion record. */
enum pcitsm_sva_qerr {
	PCITSM_SVA_QERR_NONE = 0,
	PCITSM_SVA_QERR_CONFIG = 1,     /* ring base/size or PASID register invalid */
	PCITSM_SVA_QERR_RING_FAULT = 2, /* fetching a descriptor faulted */
	PCITSM_SVA_QERR_COMP_FAULT = 3, /* the completion record's address faulted */
};

/* Descriptor: 64 bytes, little-endian.
 *   0 op   1 reserved   2 reserved(2)   4 pasid   8 src   16 dst   24 len   32 pattern
 *   40 completion   48 reserved(16)
 * copy: src -> dst, no overlap; fill: dst <- the 8-byte pattern repeated; compare: src vs dst;
 * crc32c: over src, seed in pattern bits 31:0. Unused fields must be zero. */
#define PCITSM_SVA_DESC_SIZE 64u
#define PCITSM_SVA_COMP_SIZE 32u
#define PCITSM_SVA_LEN_MAX (1ull << 30)
/* Highest user virtual address + 1 a descriptor may name (x86-64 5-level paging; others lower). */
#define PCITSM_SVA_VA_LIMIT (1ull << 56)

enum pcitsm_sva_op {
	PCITSM_SVA_OP_COPY = 1,
	PCITSM_SVA_OP_FILL = 2,
	PCITSM_SVA_OP_COMPARE = 3,
	PCITSM_SVA_OP_CRC32C = 4,
};

struct pcitsm_sva_desc {
	uint8_t op;
	uint32_t pasid;
	uint64_t src, dst, len, pattern, completion;
};

/* Completion record: 32 bytes, written by the device at desc.completion (32-byte aligned).
 *   0 status   1 fault flags (bit 0: the faulting access was a write)   2 reserved(2)
 *   4 crc   8 bytes done   16 fault address   24 compare: offset of the first difference */
enum pcitsm_sva_status {
	PCITSM_SVA_ST_PENDING = 0, /* the driver zeroes the record before submitting */
	PCITSM_SVA_ST_SUCCESS = 1,
	PCITSM_SVA_ST_DIFFERENT = 2, /* compare: the buffers differ */
	PCITSM_SVA_ST_INVALID = 0x10,
	PCITSM_SVA_ST_BAD_PASID = 0x11,
	PCITSM_SVA_ST_FAULT = 0x12, /* I/O page fault: the address is not mapped (or not writable) */
	PCITSM_SVA_ST_ABORTED = 0x13, /* unbind or process exit while in flight */
};
#define PCITSM_SVA_FAULT_WRITE 0x1u

struct pcitsm_sva_comp {
	uint8_t status;
	uint8_t fault_flags;
	uint32_t crc;
	uint64_t bytes_done, fault_addr, diff_offset;
};

void pcitsm_sva_desc_encode(const struct pcitsm_sva_desc *d, uint8_t out[PCITSM_SVA_DESC_SIZE]);
/* Strict: exact size (E_SHORT / E_LONG), op (E_FIELD), reserved bytes (E_RESERVED), PASID width,
 * fields the op does not use being zero, completion alignment (E_FIELD), length and address ranges
 * (E_RANGE), overlapping copy (E_FIELD). */
pcitsm_err pcitsm_sva_desc_decode(const void *in, size_t len, struct pcitsm_sva_desc *out)
	PCITSM_MUST_CHECK;
void pcitsm_sva_comp_encode(const struct pcitsm_sva_comp *c, uint8_t out[PCITSM_SVA_COMP_SIZE]);
pcitsm_err pcitsm_sva_comp_decode(const void *in, size_t len, struct pcitsm_sva_comp *out)
	PCITSM_MUST_CHECK;
const char *pcitsm_sva_status_name(uint8_t status);
/* CRC-32C (Castagnoli, reflected, as iSCSI and NVMe use): crc = pcitsm_crc32c(crc, p, n), starting
 * from 0. */
uint32_t pcitsm_crc32c(uint32_t crc, const void *p, size_t n);

/* ---------------------------------------------------------------------------------------------
 * The example driver: a ring in the process's memory, a doorbell, completion records.
 */
struct pcitsm_sva_ring {
	struct pcitsm_sva_dev *dev;
	volatile uint8_t *regs;
	uint8_t *slots; /* entries * 64 bytes, in this process */
	uint32_t entries;
	uint32_t tail;
	bool iova;      /* requests without a PASID, addresses are IOVAs */
};

/* Allocate the ring, write PASID, ring base and size, enable the queue. */
pcitsm_err pcitsm_sva_ring_init(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				uint32_t entries) PCITSM_MUST_CHECK;
/* The same with CTRL.TEE set: every request of the queue carries T=1. */
pcitsm_err pcitsm_sva_ring_init_tee(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				    uint32_t entries) PCITSM_MUST_CHECK;
/* The same in the IOVA model: the ring in a registered buffer, the PASID register 0. Descriptors
 * then carry PASID 0 and IOVAs (pcitsm_sva_dma_addr). */
pcitsm_err pcitsm_sva_ring_init_iova(struct pcitsm_sva_ring *r, struct pcitsm_sva_dev *dev,
				     uint32_t entries) PCITSM_MUST_CHECK;
/* Zero *comp, write the descriptor into the next slot (d->completion = comp's device address: its
 * virtual address, or in the IOVA model its IOVA; d->pasid as given), ring the doorbell. E_BUSY if
 * the ring is full; E_RANGE if an IOVA ring's comp is not in a registered buffer. */
pcitsm_err pcitsm_sva_submit(struct pcitsm_sva_ring *r, const struct pcitsm_sva_desc *d,
			     volatile uint8_t *comp) PCITSM_MUST_CHECK;
/* Wait until the record's status is not PENDING, at most timeout_ms; decode it into *out.
 * E_TIMEOUT if the device did not complete it. */
pcitsm_err pcitsm_sva_wait(struct pcitsm_sva_ring *r, volatile const uint8_t *comp,
			   unsigned timeout_ms, struct pcitsm_sva_comp *out) PCITSM_MUST_CHECK;
/* Disable the queue, wait until the device has stopped, free the ring. */
void pcitsm_sva_ring_fini(struct pcitsm_sva_ring *r);

/* ---------------------------------------------------------------------------------------------
 * The emulated device's server (pcitsmd --sva-socket runs one). ndev devices, index 0..ndev-1.
 */
#define PCITSM_SVA_MAX_DEVS 8u
struct pcitsm_sva_server;
struct pcitsm_emu_platform;
struct pcitsm_emu_func;
/* Every device is an emulated endpoint function (lib/emu) whose DMA crosses its link as TLPs
 * (docs/sva.md "DMA as TLPs"): with platform NULL the server builds its own (the default platform,
 * four functions below each of its two root ports, no link connected: plaintext), else device i
 * is function ep[i] of the given platform (pcitsmd's), which must outlive the server. mps / mrrs:
 * the devices' Max_Payload_Size and Max_Read_Request_Size in bytes, powers of two 128..4096
 * (0: 4096). E_INVAL: a function that is not an endpoint function on a link; E_EXISTS: twice. */
struct pcitsm_sva_server_cfg {
	const char *socket_path;
	unsigned ndev;
	struct pcitsm_emu_platform *platform;
	struct pcitsm_emu_func *ep[PCITSM_SVA_MAX_DEVS];
	uint16_t mps, mrrs;
	const struct pcitsm_env *env;
	/* Bounds against local processes (docs/sva.md "Hostile processes"); 0: the default.
	 * max_conns: open connections in all (64, at most PCITSM_SVA_MAX_CONNS); per_uid / per_proc:
	 * of one user / one process, counted by the kernel's word on who connected (32 / 16); one
	 * more is answered E_EXHAUSTED and closed. idle_timeout_ms: a connection that has bound no
	 * device is closed after this long without a request (10000); a bound one is an open
	 * device and stays. A reply the process does not read at once closes its connection. */
	unsigned max_conns, max_conns_per_uid, max_conns_per_proc, idle_timeout_ms;
	/* PASIDs handed out: 1 .. 2^pasid_bits - 1 (1..20; 0: 20, the PASID TLP Prefix's width) */
	unsigned pasid_bits;
};
#define PCITSM_SVA_MAX_CONNS 64u
pcitsm_err pcitsm_sva_server_start_cfg(const struct pcitsm_sva_server_cfg *cfg,
				       struct pcitsm_sva_server **out) PCITSM_MUST_CHECK;
/* The same on the server's own platform. */
pcitsm_err pcitsm_sva_server_start(const char *socket_path, unsigned ndev,
				   const struct pcitsm_env *env, struct pcitsm_sva_server **out)
	PCITSM_MUST_CHECK;
/* The platform the devices sit on, and device i's endpoint function (NULL past the last). */
struct pcitsm_emu_platform *pcitsm_sva_server_platform(struct pcitsm_sva_server *s);
struct pcitsm_emu_func *pcitsm_sva_server_func(struct pcitsm_sva_server *s, unsigned i);
/* Stop every device (quiesced as at unbind), close the socket, remove its path. */
void pcitsm_sva_server_stop(struct pcitsm_sva_server *s);

#endif /* PCITSM_SVA_H */
