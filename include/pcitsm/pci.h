/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space: one accessor interface with two backends (a sysfs `config` file and an
 * emulated register file), capability walkers that survive hostile lists, and decoders for the
 * Trusted-I/O capabilities (DOE 0x2E, IDE 0x30, Device-3 0x2F, DEVCAP TEE bit).
 *
 * References: PCIe 6.x §7.9.24, §7.9.26; Linux drivers/pci/ide.c, include/uapi/linux/pci_regs.h.
 */
#ifndef PCITSM_PCI_H
#define PCITSM_PCI_H

#include "pcitsm/core.h"

#define PCITSM_CFG_SIZE_LEGACY 256u
#define PCITSM_CFG_SIZE_EXT 4096u

/* Standard header offsets (PCI Local Bus 3.0 / pci_regs.h). */
#define PCITSM_CFG_VENDOR_ID 0x00
#define PCITSM_CFG_DEVICE_ID 0x02
#define PCITSM_CFG_COMMAND 0x04
#define PCITSM_CFG_STATUS 0x06
#define PCITSM_CFG_STATUS_CAP_LIST 0x0010
#define PCITSM_CFG_REVISION 0x08
#define PCITSM_CFG_CLASS 0x09 /* 3 bytes: prog-if, subclass, base class */
#define PCITSM_CFG_HEADER_TYPE 0x0e
#define PCITSM_CFG_CAP_PTR 0x34
#define PCITSM_CFG_PRIMARY_BUS 0x18 /* type 1: primary, secondary, subordinate */
#define PCITSM_CFG_EXT_START 0x100

/* Capability IDs. */
#define PCITSM_CAP_ID_PM 0x01
#define PCITSM_CAP_ID_MSI 0x05
#define PCITSM_CAP_ID_EXP 0x10
#define PCITSM_CAP_ID_MSIX 0x11
#define PCITSM_ECAP_ID_SRIOV 0x0010
#define PCITSM_ECAP_ID_DOE 0x002e
#define PCITSM_ECAP_ID_DEV3 0x002f
#define PCITSM_ECAP_ID_IDE 0x0030

/* SR-IOV Extended Capability (PCIe 6.x §9.3.3; Linux include/uapi/linux/pci_regs.h). */
#define PCITSM_SRIOV_CAP 0x04
#define PCITSM_SRIOV_CTRL 0x08          /* 16 bits */
#define PCITSM_SRIOV_CTRL_VFE 0x0001u   /* VF Enable */
#define PCITSM_SRIOV_CTRL_MSE 0x0008u   /* VF Memory Space Enable */
#define PCITSM_SRIOV_STATUS 0x0a
#define PCITSM_SRIOV_INITIAL_VF 0x0c
#define PCITSM_SRIOV_TOTAL_VF 0x0e
#define PCITSM_SRIOV_NUM_VF 0x10
#define PCITSM_SRIOV_FUNC_LINK 0x12
#define PCITSM_SRIOV_VF_OFFSET 0x14     /* First VF Offset */
#define PCITSM_SRIOV_VF_STRIDE 0x16
#define PCITSM_SRIOV_VF_DID 0x1a        /* VF Device ID */
#define PCITSM_SRIOV_SUP_PGSIZE 0x1c
#define PCITSM_SRIOV_SYS_PGSIZE 0x20
#define PCITSM_SRIOV_BAR 0x24           /* VF BAR0..5, 4 bytes each */
#define PCITSM_SRIOV_VFM 0x3c
#define PCITSM_SRIOV_SIZE 0x40

/* PCI Express capability. */
#define PCITSM_EXP_FLAGS 0x02      /* bits 7:4 device/port type */
#define PCITSM_EXP_DEVCAP 0x04
#define PCITSM_EXP_DEVCAP_TEE 0x40000000u /* bit 30: TEE-IO (TDISP) supported */
#define PCITSM_EXP_LNKCAP 0x0c     /* bits 31:24 port number */
#define PCITSM_EXP_TYPE_ENDPOINT 0x0
#define PCITSM_EXP_TYPE_LEG_END 0x1
#define PCITSM_EXP_TYPE_ROOT_PORT 0x4
#define PCITSM_EXP_TYPE_UPSTREAM 0x5
#define PCITSM_EXP_TYPE_DOWNSTREAM 0x6
#define PCITSM_EXP_TYPE_RC_END 0x9

/* ---------------------------------------------------------------------------------------------
 * The accessor. Offsets are bytes; width is 1, 2 or 4 and the access must be naturally aligned
 * and inside `size` (E_INVAL / E_RANGE otherwise, checked by the wrappers before the backend).
 */
struct pcitsm_cfg;
struct pcitsm_cfg_ops {
	pcitsm_err (*read)(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val);
	pcitsm_err (*write)(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val);
};
struct pcitsm_cfg {
	const struct pcitsm_cfg_ops *ops;
	uint32_t size; /* 256 or 4096 */
};

pcitsm_err pcitsm_cfg_read8(struct pcitsm_cfg *cfg, uint32_t off, uint8_t *val) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_cfg_read16(struct pcitsm_cfg *cfg, uint32_t off, uint16_t *val) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_cfg_read32(struct pcitsm_cfg *cfg, uint32_t off, uint32_t *val) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_cfg_write8(struct pcitsm_cfg *cfg, uint32_t off, uint8_t val) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_cfg_write16(struct pcitsm_cfg *cfg, uint32_t off, uint16_t val) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_cfg_write32(struct pcitsm_cfg *cfg, uint32_t off, uint32_t val) PCITSM_MUST_CHECK;
/* Any width (1, 2 or 4), with the same checks: for code that forwards accesses. */
pcitsm_err pcitsm_cfg_read(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_cfg_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
	PCITSM_MUST_CHECK;

/* Backend 1: <sysfs_root>/bus/pci/devices/<bdf>/config, pread/pwrite. A 4-byte aligned pwrite of 4
 * bytes is one DW config write (what DOE mailboxes need). size = the file's size (256 without
 * root, 4096 for PCIe as root): a file of 4096 bytes or more is 4096, of 256..4095 is 256, a
 * smaller one is E_RANGE. A missing device is E_NOTFOUND, other open failures E_SYSTEM, a failed
 * or short pread/pwrite E_IO. The address is typed: callers parse it where it enters
 * (pcitsm_bdf_parse) and the path is made from it, so no other text reaches the path. */
struct pcitsm_cfg_file {
	struct pcitsm_cfg cfg;
	int fd;
};
struct pcitsm_bdf;
pcitsm_err pcitsm_cfg_file_open(struct pcitsm_cfg_file *f, const char *sysfs_root,
				const struct pcitsm_bdf *bdf, bool writable) PCITSM_MUST_CHECK;
void pcitsm_cfg_file_close(struct pcitsm_cfg_file *f);

/* Backend 2: an emulated register file. Each byte has a write mask (RW bits) and a RW1C mask; other
 * bits are read-only. A hook claims a DW-aligned range and then handles every access inside it
 * itself (the DOE mailbox's side effects, IDE's Enable sampling); it may use peek/poke on the
 * backing store. */
struct pcitsm_cfg_emu;
struct pcitsm_cfg_hook {
	uint32_t off, len; /* DW-aligned range claimed */
	pcitsm_err (*read)(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off, unsigned width,
			   uint32_t *val);
	pcitsm_err (*write)(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off, unsigned width,
			    uint32_t val);
	void *arg;
};
#define PCITSM_CFG_EMU_MAX_HOOKS 16
struct pcitsm_cfg_emu {
	struct pcitsm_cfg cfg;
	uint8_t val[PCITSM_CFG_SIZE_EXT];
	uint8_t rw[PCITSM_CFG_SIZE_EXT];   /* 1 bits: writable */
	uint8_t rw1c[PCITSM_CFG_SIZE_EXT]; /* 1 bits: write-1-to-clear */
	struct pcitsm_cfg_hook hooks[PCITSM_CFG_EMU_MAX_HOOKS];
	unsigned nr_hooks;
};
/* size: 256, or 4096 (any other value is taken as 4096). Everything starts zero and read-only. */
void pcitsm_cfg_emu_init(struct pcitsm_cfg_emu *emu, uint32_t size);
/* Hooks: DW-aligned, non-empty, inside size (E_INVAL), not overlapping another (E_EXISTS), at
 * most PCITSM_CFG_EMU_MAX_HOOKS (E_EXHAUSTED). */
pcitsm_err pcitsm_cfg_emu_add_hook(struct pcitsm_cfg_emu *emu, const struct pcitsm_cfg_hook *hook)
	PCITSM_MUST_CHECK;
/* Direct access to the backing store, bypassing masks and hooks (device-side model code). Bytes
 * outside size read 0 and are not written. */
uint32_t pcitsm_cfg_emu_peek(const struct pcitsm_cfg_emu *emu, uint32_t off, unsigned width);
void pcitsm_cfg_emu_poke(struct pcitsm_cfg_emu *emu, uint32_t off, unsigned width, uint32_t val);
/* Set the RW / RW1C masks of a register (width 1, 2 or 4). */
void pcitsm_cfg_emu_mask(struct pcitsm_cfg_emu *emu, uint32_t off, unsigned width, uint32_t rw,
			 uint32_t rw1c);

/* ---------------------------------------------------------------------------------------------
 * Capability walkers. Both stop on loops (E_LOOP), pointers outside the legal range or misaligned
 * (E_RANGE), and more entries than can fit (E_LOOP): they never hang and never read out of bounds.
 */
struct pcitsm_cap {
	uint16_t id;
	uint16_t off;
	uint8_t version; /* extended capabilities only */
	bool ext;
};
/* Every capability, standard then extended, in list order. *n is the number found (also on error,
 * the entries before the bad pointer). More than max entries: E_NOSPC with *n = max. The standard
 * list is followed only when Status bit 4 (Capabilities List) is set; a capability ID of 0xFF ends
 * it (an all-ones read). A 256-byte config space has no extended list. */
pcitsm_err pcitsm_cap_list(struct pcitsm_cfg *cfg, struct pcitsm_cap *caps, size_t max, size_t *n)
	PCITSM_MUST_CHECK;
/* The nth (0-based) instance of a standard / extended capability: E_NOTFOUND if absent. */
pcitsm_err pcitsm_cap_find(struct pcitsm_cfg *cfg, uint8_t id, uint16_t *off) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_ecap_find(struct pcitsm_cfg *cfg, uint16_t id, unsigned nth, uint16_t *off)
	PCITSM_MUST_CHECK;

/* Identity of a function. */
struct pcitsm_pci_id {
	uint16_t vendor, device;
	uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
	uint8_t revision, header_type;
	int exp_type; /* PCIe device/port type, or -1 when there is no PCIe capability */
	bool tee_io;  /* DEVCAP bit 30 */
	uint8_t port_number; /* LNKCAP[31:24] */
	/* Vendor ID and Device ID read 0xFFFF but the class code does not: a Virtual Function
	 * (PCIe 6.x §9.3.4.1.1, .2), whose IDs are its PF's Vendor ID and the VF Device ID of the
	 * PF's SR-IOV capability (what Linux's sysfs `vendor` / `device` show). vendor and device
	 * stay 0xFFFF here. */
	bool vf;
};
/* All ones (no function answers: Vendor ID 0xFFFF and no class code) is E_NOTFOUND. */
pcitsm_err pcitsm_pci_read_id(struct pcitsm_cfg *cfg, struct pcitsm_pci_id *id) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * DOE capability registers (PCIe 6.x §7.9.24).
 */
#define PCITSM_DOE_CAP 0x04
#define PCITSM_DOE_CTRL 0x08
#define PCITSM_DOE_STATUS 0x0c
#define PCITSM_DOE_WRITE 0x10
#define PCITSM_DOE_READ 0x14
#define PCITSM_DOE_CAP_SIZE 0x18
#define PCITSM_DOE_CTRL_ABORT 0x00000001u
#define PCITSM_DOE_CTRL_INT_EN 0x00000002u
#define PCITSM_DOE_CTRL_GO 0x80000000u
#define PCITSM_DOE_STATUS_BUSY 0x00000001u
#define PCITSM_DOE_STATUS_INT 0x00000002u
#define PCITSM_DOE_STATUS_ERROR 0x00000004u
#define PCITSM_DOE_STATUS_READY 0x80000000u

struct pcitsm_doe_capinfo {
	uint16_t off;
	uint8_t version;
	bool irq;
	uint16_t irq_msg;
	bool attention;
	bool async;
};
/* E_FIELD if the capability at off is not DOE, E_RANGE if it does not fit in config space. */
pcitsm_err pcitsm_doe_cap_read(struct pcitsm_cfg *cfg, uint16_t off, struct pcitsm_doe_capinfo *d)
	PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * IDE capability (PCIe 6.x §7.9.26; Linux include/uapi/linux/pci_regs.h).
 */
#define PCITSM_IDE_CAP 0x04
#define PCITSM_IDE_CTL 0x08
#define PCITSM_IDE_LINK_BLOCK0 0x0c
#define PCITSM_IDE_LINK_BLOCK_SIZE 8
#define PCITSM_IDE_SEL_BLOCK_SIZE(n) (20u + 12u * (n))
#define PCITSM_IDE_MAX_LINK 8
#define PCITSM_IDE_MAX_SEL 256
#define PCITSM_IDE_MAX_ADDR 15

/* IDE Capability register bits. */
#define PCITSM_IDE_CAP_LINK 0x00000001u
#define PCITSM_IDE_CAP_SEL 0x00000002u
#define PCITSM_IDE_CAP_FLOWTHROUGH 0x00000004u
#define PCITSM_IDE_CAP_PARTIAL_HDR 0x00000008u
#define PCITSM_IDE_CAP_AGGREGATION 0x00000010u
#define PCITSM_IDE_CAP_PCRC 0x00000020u
#define PCITSM_IDE_CAP_IDE_KM 0x00000040u
#define PCITSM_IDE_CAP_SEL_CFG 0x00000080u
#define PCITSM_IDE_CAP_ALG_SHIFT 8
#define PCITSM_IDE_CAP_ALG_MASK 0x1fu
#define PCITSM_IDE_CAP_LINK_TC_SHIFT 13
#define PCITSM_IDE_CAP_LINK_TC_MASK 0x7u
#define PCITSM_IDE_CAP_SEL_NUM_SHIFT 16
#define PCITSM_IDE_CAP_SEL_NUM_MASK 0xffu
#define PCITSM_IDE_CAP_TEE_LIMITED 0x01000000u
#define PCITSM_IDE_CAP_XT 0x02000000u

/* Link / Selective Stream Control bits (same positions; 9, 22, 23 selective only). */
#define PCITSM_IDE_CTL_EN 0x00000001u
#define PCITSM_IDE_CTL_XT 0x00000002u
#define PCITSM_IDE_CTL_AGG_NPR_SHIFT 2
#define PCITSM_IDE_CTL_AGG_PR_SHIFT 4
#define PCITSM_IDE_CTL_AGG_CPL_SHIFT 6
#define PCITSM_IDE_CTL_PCRC_EN 0x00000100u
#define PCITSM_IDE_CTL_CFG_EN 0x00000200u
#define PCITSM_IDE_CTL_PHE_SHIFT 10
#define PCITSM_IDE_CTL_PHE_MASK 0xfu
#define PCITSM_IDE_CTL_ALG_SHIFT 14
#define PCITSM_IDE_CTL_ALG_MASK 0x1fu
#define PCITSM_IDE_CTL_TC_SHIFT 19
#define PCITSM_IDE_CTL_TC_MASK 0x7u
#define PCITSM_IDE_CTL_DEFAULT 0x00400000u
#define PCITSM_IDE_CTL_TEE_LIMITED 0x00800000u
#define PCITSM_IDE_CTL_ID_SHIFT 24
#define PCITSM_IDE_CTL_ID_MASK 0xffu

/* Stream Status. */
#define PCITSM_IDE_STATUS_STATE_MASK 0xfu
#define PCITSM_IDE_STATE_INSECURE 0x0u
#define PCITSM_IDE_STATE_SECURE 0x2u
#define PCITSM_IDE_STATUS_RECVD_FAIL 0x80000000u

/* Selective block registers (offsets inside a block). */
#define PCITSM_IDE_SEL_CAP 0x00
#define PCITSM_IDE_SEL_CTL 0x04
#define PCITSM_IDE_SEL_STS 0x08
#define PCITSM_IDE_SEL_RID1 0x0c /* bits 23:8 RID limit */
#define PCITSM_IDE_SEL_RID2 0x10 /* bit 0 valid, 23:8 RID base, 31:24 segment base */
#define PCITSM_IDE_SEL_ADDR1(k) (0x14u + 12u * (k))
#define PCITSM_IDE_SEL_ADDR2(k) (0x18u + 12u * (k)) /* memory limit upper */
#define PCITSM_IDE_SEL_ADDR3(k) (0x1cu + 12u * (k)) /* memory base upper */

#define PCITSM_IDE_RESERVED_STREAM_ID 255

/* The reserved stream ID idle streams carry (Linux drivers/pci/ide.c). */
struct pcitsm_ide_stream_ctl {
	bool enable, xt, pcrc, cfg_en, default_stream, tee_limited;
	uint8_t agg_npr, agg_pr, agg_cpl; /* 0 none, 1 up to 2, 2 up to 4, 3 up to 8 */
	uint8_t phe, alg, tc, stream_id;
};
void pcitsm_ide_ctl_decode(uint32_t ctl, struct pcitsm_ide_stream_ctl *c);
uint32_t pcitsm_ide_ctl_encode(const struct pcitsm_ide_stream_ctl *c);

struct pcitsm_ide_addr_assoc {
	bool valid;
	uint64_t base, limit; /* limit inclusive: low 20 bits are all ones */
};

struct pcitsm_ide_sel {
	uint16_t off; /* of the block, from the start of config space */
	uint8_t nr_addr;
	uint32_t ctl_raw, status_raw;
	struct pcitsm_ide_stream_ctl ctl;
	uint8_t state; /* status bits 3:0 */
	bool recvd_fail;
	bool rid_valid;
	uint16_t rid_base, rid_limit;
	uint8_t seg_base;
	struct pcitsm_ide_addr_assoc addr[PCITSM_IDE_MAX_ADDR];
};

struct pcitsm_ide_link {
	uint16_t off;
	uint32_t ctl_raw, status_raw;
	struct pcitsm_ide_stream_ctl ctl;
	uint8_t state;
	bool recvd_fail;
};

struct pcitsm_ide_info {
	uint16_t off; /* of the capability */
	uint32_t cap_raw, ctl_raw;
	bool link_sup, sel_sup, flowthrough_sup, partial_hdr_sup, aggregation_sup, pcrc_sup,
		ide_km_sup, sel_cfg_sup, tee_limited_sup, xt_sup;
	uint8_t algs;
	bool flowthrough_en;
	unsigned nr_link; /* Link TCs + 1 when Link IDE is supported, else 0 */
	unsigned nr_sel;  /* Selective count + 1 when Selective is supported, else 0 */
	struct pcitsm_ide_link link[PCITSM_IDE_MAX_LINK];
	uint16_t sel_off[PCITSM_IDE_MAX_SEL]; /* offset of selective block i */
};
/* Decode the capability at off: header, link blocks, and the offset of every selective block
 * (walked sequentially: each block's size depends on its own address-association count). A block
 * list that runs past the end of config space is E_RANGE. */
pcitsm_err pcitsm_ide_read(struct pcitsm_cfg *cfg, uint16_t off, struct pcitsm_ide_info *ide)
	PCITSM_MUST_CHECK;
/* Selective block i (E_INVAL if i >= nr_sel). The block's size is read again and re-checked against
 * config space (the device may have changed it): E_RANGE if it no longer fits. */
pcitsm_err pcitsm_ide_sel_read(struct pcitsm_cfg *cfg, const struct pcitsm_ide_info *ide, unsigned i,
			       struct pcitsm_ide_sel *sel) PCITSM_MUST_CHECK;

/* Device-3 (0x2F): Status register (+0x0c) bit 3 = Segment Captured. */
#define PCITSM_DEV3_CAP 0x04
#define PCITSM_DEV3_CTL 0x08
#define PCITSM_DEV3_STA 0x0c
#define PCITSM_DEV3_STA_SEGMENT 0x00000008u
struct pcitsm_dev3_info {
	uint16_t off;
	uint32_t cap_raw, ctl_raw, sta_raw;
	bool segment_captured;
};
pcitsm_err pcitsm_dev3_read(struct pcitsm_cfg *cfg, uint16_t off, struct pcitsm_dev3_info *d)
	PCITSM_MUST_CHECK;

/* PCI addresses "DDDD:BB:DD.F". */
struct pcitsm_bdf {
	uint16_t seg;
	uint8_t bus, dev, fn;
};
/* Exactly 12 characters: 4 + 2 + 2 hex digits (either case), device <= 0x1f, function 0-7;
 * anything else is E_INVAL. Format writes lowercase, as sysfs names devices. */
pcitsm_err pcitsm_bdf_parse(const char *s, struct pcitsm_bdf *bdf) PCITSM_MUST_CHECK;
/* The same, and on E_INVAL a reason naming the input for the user in why (a NUL-terminated
 * message such as "'0000:01:20.0' is not a PCI address: device 20 is above 1f"); why may be NULL.
 * Where an address enters from a user (an argument, a file), this is the call. */
pcitsm_err pcitsm_bdf_parse_why(const char *s, struct pcitsm_bdf *bdf, char *why, size_t why_len)
	PCITSM_MUST_CHECK;
void pcitsm_bdf_format(const struct pcitsm_bdf *bdf, char out[13]);
static inline uint16_t pcitsm_bdf_rid(const struct pcitsm_bdf *b)
{
	return (uint16_t)(b->bus << 8 | b->dev << 3 | b->fn);
}

#endif /* PCITSM_PCI_H */
