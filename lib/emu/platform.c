/* SPDX-License-Identifier: MIT */
/*
 * The emulated platform: config spaces of root ports and endpoints, built register by register
 * from the specifications (PCIe 6.x §7.9.24, §7.9.26; Linux include/uapi/linux/pci_regs.h), with
 * the IDE registers' behaviour and a DOE mailbox on each endpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "emu_priv.h"
#include "pcitsm/emu.h"

#define EMU_EXP_OFF 0x40      /* PCI Express capability */
#define EMU_EXT_OFF 0x100     /* first extended capability */
#define EMU_DOE_MAX_DW 4096u  /* largest object the emulated mailbox accepts: 16 KiB */
#define EMU_DEV3_SIZE 0x10

/* An endpoint function's registers beyond the header (PCI Local Bus 3.0 §6.2.5; PCIe 6.x §7.5.3.4,
 * §7.7.2): BAR0 (64-bit memory), the MSI-X capability after the PCI Express one, Device Control's
 * Initiate Function Level Reset. */
#define EMU_CFG_BAR0 0x10
#define EMU_BAR_MEM64 0x4u
#define EMU_MSIX_OFF 0x50
#define EMU_MSIX_VECTORS 16
#define EMU_EXP_DEVCTL 0x08
#define EMU_DEVCTL_FLR 0x8000u
/* BAR0 of PF0 is its whole memory window's backed part. The VFs' BAR0s are the PF's VF BAR0
 * (SR-IOV capability): 16 KiB per VF from 64 KiB into the window, VF n at VF BAR0 + (n - 1) x
 * 16 KiB (PCIe 6.x §9.3.3.14). The last three pages of each BAR: a non-TEE doorbell page, the
 * MSI-X table, the PBA. */
#define EMU_VF_BAR_SIZE 0x4000u
#define EMU_VF_BAR_OFF 0x10000u
/* The PF's SR-IOV capability: VFs at Routing IDs PF + 1, + 2, ... (First VF Offset 1, VF Stride
 * 1: functions 1..7 of the PF's device, no ARI needed); every page size of the usual set
 * supported, 4 KiB selected. */
#define EMU_SRIOV_VF_OFFSET 1
#define EMU_SRIOV_VF_STRIDE 1
#define EMU_SRIOV_PGSIZES 0x553u

/* Class codes: PCI-to-PCI bridge, processing accelerator. */
#define EMU_CLASS_BRIDGE 0x060400u
#define EMU_CLASS_ACCEL 0x120000u

void pcitsm_emu_config_default(struct pcitsm_emu_config *cfg)
{
	pcitsm_emu_config_ports(cfg, 2);
}

void pcitsm_emu_config_ports(struct pcitsm_emu_config *cfg, unsigned n)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->segment = 0;
	cfg->root_bus = 0;
	cfg->nr_streams = PCITSM_EMU_DEFAULT_STREAMS;
	cfg->nr_ports = PCITSM_MIN(n, (unsigned)PCITSM_EMU_MAX_PORTS);
	for (unsigned i = 0; i < cfg->nr_ports; i++) {
		struct pcitsm_emu_link_cfg *l = &cfg->ports[i];
		struct pcitsm_emu_ide_cfg ide = {
			.present = true, .link_tcs = 1, .nr_sel = 4, .nr_addr = 2,
			.aggregation = true, .pcrc = true, .tee_limited = true,
		};

		l->rp_ide = ide;
		l->rp_ide.sel_cfg = true;
		l->ep_ide = ide;
		l->ep_ide.ide_km = true;
		l->ep_tee_io = true;
		l->ep_doe = true;
		l->doe_version = 2;
		l->ep_dev3 = true;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Extended capability headers.
 */
static void put_ecap_hdr(struct pcitsm_cfg_emu *c, uint16_t off, uint16_t id, uint8_t ver,
			 uint16_t next)
{
	pcitsm_cfg_emu_poke(c, off, 4, (uint32_t)id | (uint32_t)ver << 16 | (uint32_t)next << 20);
}

static uint32_t ide_cap_size(const struct pcitsm_emu_ide_cfg *ide)
{
	return PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * ide->link_tcs +
	       ide->nr_sel * PCITSM_IDE_SEL_BLOCK_SIZE(ide->nr_addr);
}

/* ---------------------------------------------------------------------------------------------
 * IDE register behaviour (PCIe 6.x §7.9.26): while Enable is set the other control fields are
 * sampled and read only; Status reads 0 while Enable is clear, and the stream's state (Insecure
 * until keys are installed) while it is set; Enable with the RID Valid bit clear stays Insecure.
 */
struct ide_layout {
	struct pcitsm_emu_func *f;
	uint16_t base;
	unsigned nr_link, nr_sel, nr_addr;
};

/* Which register of the capability does offset off (DW aligned, relative) hit? */
enum ide_reg { IDE_REG_OTHER, IDE_REG_LINK_CTL, IDE_REG_LINK_STS, IDE_REG_SEL_CTL, IDE_REG_SEL_STS };

static enum ide_reg ide_classify(const struct ide_layout *l, uint32_t rel, unsigned *index)
{
	uint32_t sel0 = PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * l->nr_link;
	uint32_t bsz = PCITSM_IDE_SEL_BLOCK_SIZE(l->nr_addr);

	if (rel >= PCITSM_IDE_LINK_BLOCK0 && rel < sel0) {
		*index = (rel - PCITSM_IDE_LINK_BLOCK0) / PCITSM_IDE_LINK_BLOCK_SIZE;
		return (rel - PCITSM_IDE_LINK_BLOCK0) % PCITSM_IDE_LINK_BLOCK_SIZE ? IDE_REG_LINK_STS
										   : IDE_REG_LINK_CTL;
	}
	if (rel >= sel0 && rel < sel0 + bsz * l->nr_sel) {
		uint32_t in = (rel - sel0) % bsz;

		*index = (rel - sel0) / bsz;
		if (in == PCITSM_IDE_SEL_CTL)
			return IDE_REG_SEL_CTL;
		if (in == PCITSM_IDE_SEL_STS)
			return IDE_REG_SEL_STS;
	}
	return IDE_REG_OTHER;
}

static uint32_t ide_sel_block(const struct ide_layout *l, unsigned i)
{
	return l->base + PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * l->nr_link +
	       i * PCITSM_IDE_SEL_BLOCK_SIZE(l->nr_addr);
}

static uint32_t ide_status(struct ide_layout *l, enum ide_reg reg, unsigned i, uint32_t off)
{
	struct pcitsm_cfg_emu *c = &l->f->cfg;
	uint32_t ctl = pcitsm_cfg_emu_peek(c, off - 4, 4);
	uint32_t sticky = pcitsm_cfg_emu_peek(c, off, 4) & PCITSM_IDE_STATUS_RECVD_FAIL;
	uint8_t state = PCITSM_IDE_STATE_INSECURE;

	if (!(ctl & PCITSM_IDE_CTL_EN))
		return sticky;
	if (reg == IDE_REG_SEL_STS) {
		uint32_t rid2 = pcitsm_cfg_emu_peek(c, ide_sel_block(l, i) + PCITSM_IDE_SEL_RID2, 4);
		if ((rid2 & 1) && l->f->ide_state)
			state = l->f->ide_state(l->f, i);
		else if ((rid2 & 1) && l->f->ide_port && i < l->f->ide_port->nr_streams)
			state = (uint8_t)pcitsm_ide_stream_state(l->f->ide_port, i);
	}
	return sticky | state;
}

/* The standard masked write: RW bits take the new value, RW1C bits clear where 1 is written. */
static void masked_write(struct pcitsm_cfg_emu *c, uint32_t off, unsigned width, uint32_t val)
{
	uint32_t old = pcitsm_cfg_emu_peek(c, off, width);
	uint32_t rw = 0, rw1c = 0;

	for (unsigned b = 0; b < width; b++) {
		rw |= (uint32_t)c->rw[off + b] << (8 * b);
		rw1c |= (uint32_t)c->rw1c[off + b] << (8 * b);
	}
	old = (old & ~rw) | (val & rw);
	old &= ~(val & rw1c);
	pcitsm_cfg_emu_poke(c, off, width, old);
}

static pcitsm_err ide_hook_read(struct pcitsm_cfg_emu *c, void *arg, uint32_t off, unsigned width,
				uint32_t *val)
{
	struct ide_layout *l = arg;
	uint32_t dw = off & ~3u;
	unsigned i;
	enum ide_reg reg = ide_classify(l, dw - l->base, &i);
	uint32_t v;

	if (reg == IDE_REG_LINK_STS || reg == IDE_REG_SEL_STS)
		v = ide_status(l, reg, i, dw);
	else
		v = pcitsm_cfg_emu_peek(c, dw, 4);
	v >>= 8 * (off & 3);
	*val = width == 4 ? v : v & ((1u << (8 * width)) - 1);
	return PCITSM_OK;
}

static pcitsm_err ide_reg_write(struct ide_layout *l, struct pcitsm_cfg_emu *c, uint32_t off,
				unsigned width, uint32_t val);

/* Which selective block does offset off (absolute) fall in? -1 for none. */
static int ide_sel_index(const struct ide_layout *l, uint32_t off)
{
	uint32_t sel0 = l->base + PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * l->nr_link;
	uint32_t bsz = PCITSM_IDE_SEL_BLOCK_SIZE(l->nr_addr);

	if (off < sel0 || off >= sel0 + bsz * l->nr_sel)
		return -1;
	return (int)((off - sel0) / bsz);
}

static pcitsm_err ide_hook_write(struct pcitsm_cfg_emu *c, void *arg, uint32_t off, unsigned width,
				 uint32_t val)
{
	struct ide_layout *l = arg;
	int sel = ide_sel_index(l, off);
	bool was_en = false;
	pcitsm_err e;

	if (sel >= 0)
		was_en = pcitsm_cfg_emu_peek(c, ide_sel_block(l, (unsigned)sel) + PCITSM_IDE_SEL_CTL, 4) &
			 PCITSM_IDE_CTL_EN;
	e = ide_reg_write(l, c, off, width, val);
	/* The engine follows the registers (docs/emulated-platform.md). */
	if (!e && sel >= 0 && l->f->ide_port) {
		uint32_t ctl = pcitsm_cfg_emu_peek(c, ide_sel_block(l, (unsigned)sel) +
							      PCITSM_IDE_SEL_CTL, 4);

		emu_engine_sync(l->f, (unsigned)sel, was_en, ctl & PCITSM_IDE_CTL_EN);
		/* A stream leaving Secure takes the TDIs bound to it to ERROR. */
		if (was_en && !(ctl & PCITSM_IDE_CTL_EN))
			emu_tdi_stream_insecure(l->f, (uint8_t)(ctl >> PCITSM_IDE_CTL_ID_SHIFT));
	}
	return e;
}

static pcitsm_err ide_reg_write(struct ide_layout *l, struct pcitsm_cfg_emu *c, uint32_t off,
				unsigned width, uint32_t val)
{
	uint32_t dw = off & ~3u;
	unsigned i;
	enum ide_reg reg = ide_classify(l, dw - l->base, &i);

	if (reg == IDE_REG_LINK_CTL || reg == IDE_REG_SEL_CTL) {
		uint32_t old = pcitsm_cfg_emu_peek(c, dw, 4);
		uint32_t shift = 8 * (off & 3);
		uint32_t mask = width == 4 ? ~0u : ((1u << (8 * width)) - 1) << shift;
		uint32_t full = (old & ~mask) | ((val << shift) & mask);

		/* Enable set: every field but Enable is sampled (read only). */
		if (old & PCITSM_IDE_CTL_EN)
			full = (old & ~PCITSM_IDE_CTL_EN) | (full & PCITSM_IDE_CTL_EN);
		masked_write(c, dw, 4, full);
		return PCITSM_OK;
	}
	masked_write(c, off, width, val);
	return PCITSM_OK;
}

/* Control bits a port implements, from what its capability offers. */
static uint32_t ide_ctl_rw(const struct pcitsm_emu_ide_cfg *ide, bool selective, bool root_port)
{
	uint32_t rw = PCITSM_IDE_CTL_EN | PCITSM_IDE_CTL_TC_MASK << PCITSM_IDE_CTL_TC_SHIFT |
		      PCITSM_IDE_CTL_ID_MASK << PCITSM_IDE_CTL_ID_SHIFT |
		      PCITSM_IDE_CTL_ALG_MASK << PCITSM_IDE_CTL_ALG_SHIFT;

	if (ide->aggregation)
		rw |= 0x3fu << PCITSM_IDE_CTL_AGG_NPR_SHIFT;
	if (ide->pcrc)
		rw |= PCITSM_IDE_CTL_PCRC_EN;
	if (ide->partial_hdr)
		rw |= PCITSM_IDE_CTL_PHE_MASK << PCITSM_IDE_CTL_PHE_SHIFT;
	if (selective) {
		if (root_port && ide->sel_cfg)
			rw |= PCITSM_IDE_CTL_CFG_EN;
		if (!root_port)
			rw |= PCITSM_IDE_CTL_DEFAULT;
		if (ide->tee_limited)
			rw |= PCITSM_IDE_CTL_TEE_LIMITED;
	}
	return rw;
}

static pcitsm_err ide_build(struct pcitsm_emu_func *f, const struct pcitsm_emu_ide_cfg *ide,
			    uint16_t off, uint16_t next)
{
	struct pcitsm_cfg_emu *c = &f->cfg;
	bool rp = f->kind == PCITSM_EMU_ROOT_PORT;
	uint32_t cap = 0, pos;
	struct ide_layout *l;
	struct pcitsm_cfg_hook hook;

	if (ide->nr_sel > PCITSM_IDE_MAX_SEL || ide->link_tcs > PCITSM_IDE_MAX_LINK ||
	    ide->nr_addr > PCITSM_IDE_MAX_ADDR || (!ide->nr_sel && !ide->link_tcs) ||
	    off + ide_cap_size(ide) > PCITSM_CFG_SIZE_EXT)
		return PCITSM_E_INVAL;

	put_ecap_hdr(c, off, PCITSM_ECAP_ID_IDE, 1, next);
	/* IDE Capability (PCIe 6.x §7.9.26); algorithm 0 = AES-GCM-256 with a 96-bit MAC. */
	if (ide->link_tcs)
		cap |= PCITSM_IDE_CAP_LINK | (ide->link_tcs - 1) << PCITSM_IDE_CAP_LINK_TC_SHIFT;
	if (ide->nr_sel)
		cap |= PCITSM_IDE_CAP_SEL | (ide->nr_sel - 1) << PCITSM_IDE_CAP_SEL_NUM_SHIFT;
	cap |= ide->flowthrough ? PCITSM_IDE_CAP_FLOWTHROUGH : 0;
	cap |= ide->partial_hdr ? PCITSM_IDE_CAP_PARTIAL_HDR : 0;
	cap |= ide->aggregation ? PCITSM_IDE_CAP_AGGREGATION : 0;
	cap |= ide->pcrc ? PCITSM_IDE_CAP_PCRC : 0;
	cap |= ide->ide_km ? PCITSM_IDE_CAP_IDE_KM : 0;
	cap |= ide->sel_cfg ? PCITSM_IDE_CAP_SEL_CFG : 0;
	cap |= ide->tee_limited ? PCITSM_IDE_CAP_TEE_LIMITED : 0;
	pcitsm_cfg_emu_poke(c, off + PCITSM_IDE_CAP, 4, cap);
	pcitsm_cfg_emu_mask(c, off + PCITSM_IDE_CTL, 4, ide->flowthrough ? 0x4u : 0, 0);

	pos = off + PCITSM_IDE_LINK_BLOCK0;
	for (unsigned i = 0; i < ide->link_tcs; i++, pos += PCITSM_IDE_LINK_BLOCK_SIZE) {
		pcitsm_cfg_emu_mask(c, pos, 4, ide_ctl_rw(ide, false, rp), 0);
		pcitsm_cfg_emu_mask(c, pos + 4, 4, 0, PCITSM_IDE_STATUS_RECVD_FAIL);
	}
	for (unsigned i = 0; i < ide->nr_sel; i++, pos += PCITSM_IDE_SEL_BLOCK_SIZE(ide->nr_addr)) {
		pcitsm_cfg_emu_poke(c, pos + PCITSM_IDE_SEL_CAP, 4, ide->nr_addr);
		pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_CTL, 4, ide_ctl_rw(ide, true, rp), 0);
		pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_STS, 4, 0, PCITSM_IDE_STATUS_RECVD_FAIL);
		pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_RID1, 4, 0x00ffff00u, 0);
		pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_RID2, 4, 0xffffff01u, 0);
		for (unsigned k = 0; k < ide->nr_addr; k++) {
			pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_ADDR1(k), 4, 0xffffff01u, 0);
			pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_ADDR2(k), 4, ~0u, 0);
			pcitsm_cfg_emu_mask(c, pos + PCITSM_IDE_SEL_ADDR3(k), 4, ~0u, 0);
		}
	}

	l = calloc(1, sizeof(*l));
	if (!l)
		return PCITSM_E_NOMEM;
	*l = (struct ide_layout){ .f = f, .base = off, .nr_link = ide->link_tcs,
				  .nr_sel = ide->nr_sel, .nr_addr = ide->nr_addr };
	hook = (struct pcitsm_cfg_hook){
		.off = off + 4,
		.len = (ide_cap_size(ide) - 4 + 3) & ~3u,
		.read = ide_hook_read,
		.write = ide_hook_write,
		.arg = l,
	};
	f->ide_off = off;
	if (pcitsm_cfg_emu_add_hook(c, &hook) != PCITSM_OK) {
		free(l);
		return PCITSM_E_EXHAUSTED;
	}
	/* Idle streams carry the reserved Stream ID 255 (Linux drivers/pci/ide.c), as Linux leaves
	 * them. */
	for (unsigned i = 0; i < ide->nr_sel; i++) {
		uint32_t ctl_off = ide_sel_block(l, i) + PCITSM_IDE_SEL_CTL;
		pcitsm_cfg_emu_poke(c, ctl_off, 4,
				    (uint32_t)PCITSM_IDE_RESERVED_STREAM_ID << PCITSM_IDE_CTL_ID_SHIFT);
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Standard header and PCI Express capability.
 */
static void header_build(struct pcitsm_emu_func *f, uint16_t device, uint32_t class_code,
			 uint8_t header_type)
{
	struct pcitsm_cfg_emu *c = &f->cfg;

	pcitsm_cfg_emu_poke(c, PCITSM_CFG_VENDOR_ID, 2, PCITSM_EMU_VENDOR);
	pcitsm_cfg_emu_poke(c, PCITSM_CFG_DEVICE_ID, 2, device);
	/* Command: I/O, memory, bus master, parity, SERR, INTx disable are writable. */
	pcitsm_cfg_emu_mask(c, PCITSM_CFG_COMMAND, 2, 0x0547, 0);
	pcitsm_cfg_emu_poke(c, PCITSM_CFG_STATUS, 2, PCITSM_CFG_STATUS_CAP_LIST);
	pcitsm_cfg_emu_poke(c, PCITSM_CFG_REVISION, 4, class_code << 8 | 0x01);
	pcitsm_cfg_emu_poke(c, PCITSM_CFG_HEADER_TYPE, 1, header_type);
	pcitsm_cfg_emu_poke(c, PCITSM_CFG_CAP_PTR, 1, EMU_EXP_OFF);
}

/* ---------------------------------------------------------------------------------------------
 * An endpoint function's BAR0, MSI-X and the TDISP events its configuration writes raise
 * (PCIe 6.x §11, TDI state transitions; docs/tdisp.md "The platform"): a write that changes
 * the Command register or BAR0 of a locked function is a write to locked configuration (the TDI
 * goes to ERROR); Initiate Function Level Reset is an FLR.
 */
static pcitsm_err locked_reg_write(struct pcitsm_cfg_emu *c, void *arg, uint32_t off,
				   unsigned width, uint32_t val)
{
	struct pcitsm_emu_func *f = arg;
	uint32_t dw = off & ~3u, before = pcitsm_cfg_emu_peek(c, dw, 4);

	masked_write(c, off, width, val);
	if (pcitsm_cfg_emu_peek(c, dw, 4) != before)
		emu_tdi_config_written(f);
	return PCITSM_OK;
}

static pcitsm_err devctl_write(struct pcitsm_cfg_emu *c, void *arg, uint32_t off, unsigned width,
			       uint32_t val)
{
	struct pcitsm_emu_func *f = arg;
	uint32_t ctl = f->exp_off + EMU_EXP_DEVCTL;
	uint32_t wide = val << (8 * (off - ctl)); /* the write as a DW */
	uint32_t before = pcitsm_cfg_emu_peek(c, ctl, 4);

	if (off < ctl + 2 && wide & EMU_DEVCTL_FLR) {
		/* FLR: the function's Command register back to 0, its TDI to ERROR. Initiate FLR
		 * always reads 0. */
		pcitsm_cfg_emu_poke(c, PCITSM_CFG_COMMAND, 2, 0);
		emu_tdi_flr(f);
		val &= ~(EMU_DEVCTL_FLR >> (8 * (off - ctl)));
	}
	masked_write(c, off, width, val);
	if (pcitsm_cfg_emu_peek(c, ctl, 4) != before)
		emu_tdi_config_written(f);
	return PCITSM_OK;
}

/* f's registers and description; a VF's BAR0 is its PF's VF BAR0 (base, size here) while its
 * own BAR registers are read-only zero (PCIe 6.x §9.3.4.1.11). */
static pcitsm_err func_regs_build(struct pcitsm_emu_func *f, uint64_t base, uint64_t size,
				  bool pasid)
{
	struct pcitsm_cfg_emu *c = &f->cfg;
	struct pcitsm_tdisp_ifdesc *d = &f->desc;
	struct pcitsm_cfg_hook h;

	memset(d, 0, sizeof(*d));
	d->interface_info = PCITSM_TDISP_INFO_DMA_NO_PASID |
			    (pasid ? PCITSM_TDISP_INFO_DMA_WITH_PASID : 0);
	d->bar[0] = (struct pcitsm_tdisp_bar){ .index = 0, .base = base, .size = size, .is64 = true };
	d->nr_bars = 1;
	d->non_tee[0] = (struct pcitsm_tdisp_region){ 0, size - 3 * PCITSM_TDISP_PAGE,
						      PCITSM_TDISP_PAGE };
	d->nr_non_tee = 1;
	d->msix = true;
	d->msix_table = (struct pcitsm_tdisp_region){ 0, size - 2 * PCITSM_TDISP_PAGE,
						      PCITSM_TDISP_PAGE };
	d->msix_pba = (struct pcitsm_tdisp_region){ 0, size - PCITSM_TDISP_PAGE, PCITSM_TDISP_PAGE };
	d->msix_msg_ctl = EMU_MSIX_VECTORS - 1;

	/* BAR0: 64-bit memory, sized by its writable bits. */
	if (!f->physfn) {
		pcitsm_cfg_emu_poke(c, EMU_CFG_BAR0, 4, (uint32_t)base | EMU_BAR_MEM64);
		pcitsm_cfg_emu_poke(c, EMU_CFG_BAR0 + 4, 4, (uint32_t)(base >> 32));
		pcitsm_cfg_emu_mask(c, EMU_CFG_BAR0, 4, (uint32_t)~(size - 1) & ~0xfu, 0);
		pcitsm_cfg_emu_mask(c, EMU_CFG_BAR0 + 4, 4, 0xffffffffu, 0);
	}
	/* MSI-X after the PCI Express capability: table and PBA in BAR0. */
	pcitsm_cfg_emu_poke(c, f->exp_off + 1, 1, EMU_MSIX_OFF);
	pcitsm_cfg_emu_poke(c, EMU_MSIX_OFF, 2, PCITSM_CAP_ID_MSIX);
	pcitsm_cfg_emu_poke(c, EMU_MSIX_OFF + 2, 2, EMU_MSIX_VECTORS - 1);
	pcitsm_cfg_emu_mask(c, EMU_MSIX_OFF + 2, 2, 0xc000, 0); /* Enable, Function Mask */
	pcitsm_cfg_emu_poke(c, EMU_MSIX_OFF + 4, 4, (uint32_t)d->msix_table.offset);
	pcitsm_cfg_emu_poke(c, EMU_MSIX_OFF + 8, 4, (uint32_t)d->msix_pba.offset);
	/* Device Control: the low 15 bits writable; Initiate FLR is the hook's. */
	pcitsm_cfg_emu_mask(c, f->exp_off + EMU_EXP_DEVCTL, 2, 0x7fff, 0);

	h = (struct pcitsm_cfg_hook){ PCITSM_CFG_COMMAND, 4, NULL, locked_reg_write, f };
	PCITSM_TRY(pcitsm_cfg_emu_add_hook(c, &h));
	if (!f->physfn) {
		h = (struct pcitsm_cfg_hook){ EMU_CFG_BAR0, 8, NULL, locked_reg_write, f };
		PCITSM_TRY(pcitsm_cfg_emu_add_hook(c, &h));
	}
	h = (struct pcitsm_cfg_hook){ (uint32_t)f->exp_off + EMU_EXP_DEVCTL, 4, NULL, devctl_write,
				      f };
	return pcitsm_cfg_emu_add_hook(c, &h);
}

static void exp_build(struct pcitsm_emu_func *f, uint8_t type, bool tee_io, uint8_t port_number);

/* ---------------------------------------------------------------------------------------------
 * SR-IOV (PCIe 6.x §9.3): PF0's SR-IOV Extended Capability and its VFs. The VFs are enabled as
 * the platform comes up (VF Enable and VF MSE set, NumVFs = TotalVFs = InitialVFs), as a host
 * that wrote sriov_numvfs finds them; the model does not add or remove functions afterwards.
 */
static uint32_t sriov_peek(const struct pcitsm_emu_func *pf, uint32_t reg, unsigned width)
{
	return pcitsm_cfg_emu_peek(&pf->cfg, pf->sriov_off + reg, width);
}

/* VF n's (1-based) Routing ID: PF RID + First VF Offset + (n - 1) x VF Stride (PCIe 6.x
 * §9.3.3.10, .11), from the PF's registers. */
static uint16_t sriov_vf_rid(const struct pcitsm_emu_func *pf, unsigned n)
{
	return (uint16_t)(pcitsm_bdf_rid(&pf->bdf) + sriov_peek(pf, PCITSM_SRIOV_VF_OFFSET, 2) +
			  (n - 1) * sriov_peek(pf, PCITSM_SRIOV_VF_STRIDE, 2));
}

/* VF n's BAR0 base: the PF's VF BAR0 (64-bit) + (n - 1) x the VF BAR's size (§9.3.3.14). */
static uint64_t sriov_vf_bar0(const struct pcitsm_emu_func *pf, unsigned n)
{
	uint64_t base = (sriov_peek(pf, PCITSM_SRIOV_BAR, 4) & ~0xfu) |
			(uint64_t)sriov_peek(pf, PCITSM_SRIOV_BAR + 4, 4) << 32;

	return base + (uint64_t)(n - 1) * EMU_VF_BAR_SIZE;
}

/* A change to the PF's SR-IOV Control, NumVFs, System Page Size or VF BARs changes what every VF
 * is (PCIe 6.x §11: a write to locked configuration): their TDIs go to ERROR, and each VF's
 * description follows the VF BAR0 it now decodes. */
static pcitsm_err sriov_write(struct pcitsm_cfg_emu *c, void *arg, uint32_t off, unsigned width,
			      uint32_t val)
{
	struct pcitsm_emu_func *pf = arg;
	uint32_t dw = off & ~3u, before = pcitsm_cfg_emu_peek(c, dw, 4);

	masked_write(c, off, width, val);
	if (pcitsm_cfg_emu_peek(c, dw, 4) == before)
		return PCITSM_OK;
	for (unsigned i = 0; i < pf->nr_siblings; i++) {
		struct pcitsm_emu_func *vf = pf->sibling[i];

		vf->desc.bar[0].base = sriov_vf_bar0(pf, vf->vf_num);
		emu_tdi_config_written(vf);
	}
	return PCITSM_OK;
}

static pcitsm_err sriov_build(struct pcitsm_emu_func *pf, uint16_t off, uint16_t next,
			      unsigned nr_vfs, uint64_t vf_bar)
{
	struct pcitsm_cfg_emu *c = &pf->cfg;
	struct pcitsm_cfg_hook h;

	put_ecap_hdr(c, off, PCITSM_ECAP_ID_SRIOV, 1, next);
	pf->sriov_off = off;
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_CTRL, 2,
			    PCITSM_SRIOV_CTRL_VFE | PCITSM_SRIOV_CTRL_MSE);
	pcitsm_cfg_emu_mask(c, off + PCITSM_SRIOV_CTRL, 2,
			    PCITSM_SRIOV_CTRL_VFE | PCITSM_SRIOV_CTRL_MSE, 0);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_INITIAL_VF, 2, nr_vfs);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_TOTAL_VF, 2, nr_vfs);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_NUM_VF, 2, nr_vfs);
	pcitsm_cfg_emu_mask(c, off + PCITSM_SRIOV_NUM_VF, 2, 0xffff, 0);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_VF_OFFSET, 2, EMU_SRIOV_VF_OFFSET);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_VF_STRIDE, 2, EMU_SRIOV_VF_STRIDE);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_VF_DID, 2, PCITSM_EMU_DEVICE_VF);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_SUP_PGSIZE, 4, EMU_SRIOV_PGSIZES);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_SYS_PGSIZE, 4, 1); /* 4 KiB */
	pcitsm_cfg_emu_mask(c, off + PCITSM_SRIOV_SYS_PGSIZE, 4, EMU_SRIOV_PGSIZES, 0);
	/* VF BAR0: 64-bit memory, EMU_VF_BAR_SIZE per VF, sized by its writable bits. */
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_BAR, 4, (uint32_t)vf_bar | EMU_BAR_MEM64);
	pcitsm_cfg_emu_poke(c, off + PCITSM_SRIOV_BAR + 4, 4, (uint32_t)(vf_bar >> 32));
	pcitsm_cfg_emu_mask(c, off + PCITSM_SRIOV_BAR, 4, ~(EMU_VF_BAR_SIZE - 1) & ~0xfu, 0);
	pcitsm_cfg_emu_mask(c, off + PCITSM_SRIOV_BAR + 4, 4, 0xffffffffu, 0);
	h = (struct pcitsm_cfg_hook){ (uint32_t)off + PCITSM_SRIOV_CTRL,
				      PCITSM_SRIOV_BAR + 8 - PCITSM_SRIOV_CTRL, NULL, sriov_write,
				      pf };
	return pcitsm_cfg_emu_add_hook(c, &h);
}

/* VF n of pf (PCIe 6.x §9.3.4): Vendor ID and Device ID read 0xFFFF, the class code is the PF's;
 * Command has only Bus Master Enable (Memory Space is the PF's VF MSE); its BARs read zero, its
 * BAR0 is the PF's VF BAR0 for VF n; a PCI Express capability (Endpoint, the PF's TEE-IO bit) and
 * MSI-X. */
static pcitsm_err vf_build(struct pcitsm_emu_func *vf, struct pcitsm_emu_func *pf, unsigned n,
			   const struct pcitsm_emu_link_cfg *l)
{
	struct pcitsm_cfg_emu *c = &vf->cfg;
	uint16_t rid = sriov_vf_rid(pf, n);

	vf->kind = PCITSM_EMU_ENDPOINT;
	vf->bdf = (struct pcitsm_bdf){ pf->bdf.seg, (uint8_t)(rid >> 8), (uint8_t)(rid >> 3 & 0x1f),
				       (uint8_t)(rid & 7) };
	vf->upstream = pf->upstream;
	vf->bridge = pf->bridge;
	vf->physfn = pf;
	vf->vf_num = n;
	pcitsm_cfg_emu_init(c, PCITSM_CFG_SIZE_EXT);
	header_build(vf, 0xffff, EMU_CLASS_ACCEL, 0x00);
	pcitsm_cfg_emu_poke(c, PCITSM_CFG_VENDOR_ID, 2, 0xffff);
	pcitsm_cfg_emu_mask(c, PCITSM_CFG_COMMAND, 2, 0x0004, 0);
	exp_build(vf, PCITSM_EXP_TYPE_ENDPOINT, l->ep_tee_io, 0);
	PCITSM_TRY(func_regs_build(vf, sriov_vf_bar0(pf, n), EMU_VF_BAR_SIZE,
				   l->ep_pasid_funcs >> n & 1));
	pf->sibling[pf->nr_siblings++] = vf;
	return PCITSM_OK;
}

static void exp_build(struct pcitsm_emu_func *f, uint8_t type, bool tee_io, uint8_t port_number)
{
	struct pcitsm_cfg_emu *c = &f->cfg;
	uint32_t devcap = 0x00000002u; /* Max_Payload_Size supported: 512 bytes */

	if (tee_io)
		devcap |= PCITSM_EXP_DEVCAP_TEE;
	pcitsm_cfg_emu_poke(c, EMU_EXP_OFF, 2, PCITSM_CAP_ID_EXP); /* next pointer 0 */
	pcitsm_cfg_emu_poke(c, EMU_EXP_OFF + PCITSM_EXP_FLAGS, 2, 0x2u | (uint32_t)type << 4);
	pcitsm_cfg_emu_poke(c, EMU_EXP_OFF + PCITSM_EXP_DEVCAP, 4, devcap);
	/* Link Capabilities: 32 GT/s x16, and the port number in bits 31:24. */
	pcitsm_cfg_emu_poke(c, EMU_EXP_OFF + PCITSM_EXP_LNKCAP, 4,
			    0x105u | (uint32_t)port_number << 24);
	f->exp_off = EMU_EXP_OFF;
}

/* ---------------------------------------------------------------------------------------------
 * The endpoint's DOE protocols: forward to the implementation an upper layer installs, or discard
 * the object (no response) as a device without that responder does.
 */
static pcitsm_err cma_forward(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			      uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_emu_func *f = pcitsm_container_of(h, struct pcitsm_emu_func, cma);
	pcitsm_err e;

	if (!f->cma_impl)
		return PCITSM_E_NORESPONSE;
	/* The responders change the link's engines (IDE_KM) and TDI states: under its lock. */
	emu_link_lock(f->link);
	e = f->cma_impl->handle(f->cma_impl, req, req_len, rsp, rsp_cap, rsp_len);
	emu_link_unlock(f->link);
	return e;
}

static pcitsm_err secured_forward(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
				  uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_emu_func *f = pcitsm_container_of(h, struct pcitsm_emu_func, secured_cma);
	pcitsm_err e;

	if (!f->secured_impl)
		return PCITSM_E_NORESPONSE;
	emu_link_lock(f->link);
	e = f->secured_impl->handle(f->secured_impl, req, req_len, rsp, rsp_cap, rsp_len);
	emu_link_unlock(f->link);
	return e;
}

static pcitsm_err endpoint_build(struct pcitsm_emu_func *f, const struct pcitsm_emu_link_cfg *l,
				 uint8_t port_number, uint64_t mem_base)
{
	uint16_t pos = EMU_EXT_OFF;
	uint16_t doe_off = 0, ide_off = 0, dev3_off = 0, sriov_off = 0;

	/* One PF: not a multi-function device; its VFs are found through SR-IOV. */
	header_build(f, PCITSM_EMU_DEVICE_ENDPOINT, EMU_CLASS_ACCEL, 0x00);
	exp_build(f, PCITSM_EXP_TYPE_ENDPOINT, l->ep_tee_io, port_number);
	PCITSM_TRY(func_regs_build(f, mem_base, PCITSM_EMU_MEM_SIZE, l->ep_pasid_funcs & 1));

	/* Lay the extended capabilities out first, so that each knows its successor. */
	if (l->ep_doe) {
		doe_off = pos;
		pos += PCITSM_DOE_CAP_SIZE;
	}
	if (l->ep_ide.present) {
		ide_off = pos;
		pos = (uint16_t)((pos + ide_cap_size(&l->ep_ide) + 3) & ~3u);
	}
	if (l->ep_dev3) {
		dev3_off = pos;
		pos += EMU_DEV3_SIZE;
	}
	if (l->ep_extra_funcs) {
		sriov_off = pos;
		pos += PCITSM_SRIOV_SIZE;
	}
	if (pos > PCITSM_CFG_SIZE_EXT)
		return PCITSM_E_INVAL;

	if (doe_off) {
		uint16_t next = ide_off ? ide_off : dev3_off ? dev3_off : sriov_off;

		pcitsm_doe_dev_init(&f->doe, l->doe_version ? l->doe_version : 1);
		f->cma = (struct pcitsm_doe_handler){ PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
						      cma_forward };
		f->secured_cma = (struct pcitsm_doe_handler){ PCITSM_DOE_VID_PCISIG,
							      PCITSM_DOE_TYPE_SECURED_CMA,
							      secured_forward };
		PCITSM_TRY(pcitsm_doe_dev_register(&f->doe, &f->cma));
		if (!l->ep_no_secured_cma)
			PCITSM_TRY(pcitsm_doe_dev_register(&f->doe, &f->secured_cma));
		PCITSM_TRY(pcitsm_doe_mbox_init(&f->mbox, &f->cfg, doe_off, next,
						l->doe_version ? l->doe_version : 1, &f->doe,
						EMU_DOE_MAX_DW));
		f->doe_off = doe_off;
	}
	if (ide_off)
		PCITSM_TRY(ide_build(f, &l->ep_ide, ide_off, dev3_off ? dev3_off : sriov_off));
	if (dev3_off) {
		/* Device-3: Segment Captured is clear (no flit mode on the emulated link). */
		put_ecap_hdr(&f->cfg, dev3_off, PCITSM_ECAP_ID_DEV3, 1, sriov_off);
		f->dev3_off = dev3_off;
	}
	if (sriov_off)
		PCITSM_TRY(sriov_build(f, sriov_off, 0, l->ep_extra_funcs,
				       mem_base + EMU_VF_BAR_OFF));
	return PCITSM_OK;
}

unsigned pcitsm_emu_config_root_ports(const struct pcitsm_emu_config *cfg)
{
	unsigned below = cfg->nr_switches * cfg->sw_ports;

	return cfg->nr_switches + (cfg->nr_ports > below ? cfg->nr_ports - below : 0);
}

unsigned pcitsm_emu_config_buses(const struct pcitsm_emu_config *cfg)
{
	return cfg->nr_ports + 2 * cfg->nr_switches;
}

pcitsm_err pcitsm_emu_config_switches(struct pcitsm_emu_config *cfg, unsigned root_ports,
				      unsigned switches, unsigned sw_ports, unsigned *max)
{
	unsigned eps;

	/* Bus budget (docs/emulated-platform.md "Scale"): buses 1..255 hold the endpoints and
	 * two buses per switch. */
	*max = 2 * switches < PCITSM_EMU_MAX_PORTS ? PCITSM_EMU_MAX_PORTS - 2 * switches : 0;
	if (!root_ports || root_ports > PCITSM_EMU_MAX_PORTS || switches > root_ports ||
	    (switches && (!sw_ports || sw_ports > PCITSM_EMU_MAX_SWITCH_PORTS)))
		return PCITSM_E_INVAL;
	eps = root_ports - switches + switches * sw_ports;
	if (eps > *max)
		return PCITSM_E_INVAL;
	pcitsm_emu_config_ports(cfg, eps);
	cfg->nr_switches = switches;
	cfg->sw_ports = switches ? sw_ports : 0;
	return PCITSM_OK;
}

unsigned pcitsm_emu_config_spread(struct pcitsm_emu_config *cfg, unsigned n, unsigned sw_ports)
{
	unsigned s = 0, max;

	n = PCITSM_MIN(n, (unsigned)PCITSM_EMU_MAX_PORTS);
	if (sw_ports && sw_ports <= PCITSM_EMU_MAX_SWITCH_PORTS)
		s = PCITSM_MIN(n / sw_ports, (PCITSM_EMU_MAX_PORTS - n) / 2);
	if (!s || pcitsm_emu_config_switches(cfg, n - s * sw_ports + s, s, sw_ports, &max)) {
		pcitsm_emu_config_ports(cfg, n);
		return 0;
	}
	return s;
}

/* The i-th of n functions on one bus: one per device (from device `first`) while they fit in
 * 32 - first devices, else eight functions to a device (devices 0..31, multi-function). */
static void bus_devfn(unsigned n, unsigned i, unsigned first, uint8_t *dev, uint8_t *fn)
{
	if (n <= 32 - first) {
		*dev = (uint8_t)(first + i);
		*fn = 0;
	} else {
		*dev = (uint8_t)(i / 8);
		*fn = (uint8_t)(i % 8);
	}
}

/* Header Type (PCI Local Bus 3.0 §6.2.1): Type 1, with bit 7 on function 0 of a device whose
 * other functions are bridges too (Linux scans functions 1..7 only then). */
static uint8_t bus_header_type(unsigned n, unsigned i, unsigned first)
{
	bool multi = n > 32 - first && i % 8 == 0 && i + 1 < n;

	return multi ? 0x81 : 0x01;
}

void pcitsm_emu_rp_devfn(const struct pcitsm_emu_config *cfg, unsigned i, uint8_t *dev,
			 uint8_t *fn)
{
	unsigned n = pcitsm_emu_config_root_ports(cfg);

	/* Up to PCITSM_EMU_RP_ONE_PER_DEVICE root ports: devices 1..31, function 0. */
	bus_devfn(n, i, 32 - PCITSM_EMU_RP_ONE_PER_DEVICE, dev, fn);
}

/* A bridge's Type 1 registers (PCI-to-PCI Bridge 1.2 §3.2.5): bus numbers and the memory window
 * [base, base + size), which holds every window below it (Linux pci_bus_size_bridges nests
 * them). */
static void bridge_build(struct pcitsm_emu_func *f, uint16_t device, uint8_t exp_type,
			 uint8_t port_number, uint8_t header_type, const uint8_t bus[3],
			 uint64_t base, uint64_t size)
{
	uint32_t win = (uint32_t)(base >> 16 & 0xfff0u) |
		       (uint32_t)((base + size - 1) >> 16 & 0xfff0u) << 16;

	header_build(f, device, EMU_CLASS_BRIDGE, header_type);
	exp_build(f, exp_type, false, port_number);
	pcitsm_cfg_emu_poke(&f->cfg, PCITSM_CFG_PRIMARY_BUS, 4,
			    bus[0] | (uint32_t)bus[1] << 8 | (uint32_t)bus[2] << 16);
	pcitsm_cfg_emu_poke(&f->cfg, EMU_CFG_MEM_BASE, 4, win);
}

/* Where the construction stands: the next bus number (depth-first), the next link, and the next
 * free slot past the endpoints' functions. */
struct emu_build {
	struct pcitsm_emu_platform *p;
	const struct pcitsm_emu_config *cfg;
	unsigned bus, link, extra;
};

static struct pcitsm_emu_func *func_new(struct pcitsm_emu_func *f, enum pcitsm_emu_kind kind,
					const struct emu_build *b, uint8_t bus, uint8_t dev,
					uint8_t fn)
{
	f->kind = kind;
	f->bdf = (struct pcitsm_bdf){ b->cfg->segment, bus, dev, fn };
	pcitsm_cfg_emu_init(&f->cfg, PCITSM_CFG_SIZE_EXT);
	return f;
}

/* The endpoint of the next link, on bus `bus` below `bridge`, partner of root port rp. */
static pcitsm_err endpoint_add(struct emu_build *b, struct pcitsm_emu_func *bridge,
			       struct pcitsm_emu_func *rp, uint8_t bus)
{
	unsigned i = b->link++;
	struct pcitsm_emu_func *ep = func_new(&b->p->funcs[b->cfg->nr_ports + i],
					      PCITSM_EMU_ENDPOINT, b, bus, 0, 0);

	ep->bridge = bridge;
	ep->upstream = rp;
	ep->partner = rp;
	return endpoint_build(ep, &b->cfg->ports[i], 0,
			      PCITSM_EMU_MEM_BASE + i * PCITSM_EMU_MEM_WINDOW);
}

/* Root port r with its endpoint directly below it. */
static pcitsm_err root_port_add(struct emu_build *b, unsigned r, uint8_t dev, uint8_t fn)
{
	const struct pcitsm_emu_config *cfg = b->cfg;
	const struct pcitsm_emu_link_cfg *l = &cfg->ports[b->link];
	struct pcitsm_emu_func *rp = func_new(&b->p->funcs[b->link], PCITSM_EMU_ROOT_PORT, b,
					      cfg->root_bus, dev, fn);
	uint8_t bus[3] = { cfg->root_bus, (uint8_t)b->bus, (uint8_t)b->bus };

	/* The bridge's memory window: the endpoint's memory (what Linux associates with the RP's
	 * stream, Linux drivers/pci/ide.c pci_ide_stream_alloc()). */
	bridge_build(rp, PCITSM_EMU_DEVICE_ROOT_PORT, PCITSM_EXP_TYPE_ROOT_PORT, (uint8_t)(1 + r),
		     bus_header_type(pcitsm_emu_config_root_ports(cfg), r,
				     32 - PCITSM_EMU_RP_ONE_PER_DEVICE),
		     bus, PCITSM_EMU_MEM_BASE + b->link * PCITSM_EMU_MEM_WINDOW,
		     PCITSM_EMU_MEM_WINDOW);
	if (l->rp_ide.present)
		PCITSM_TRY(ide_build(rp, &l->rp_ide, EMU_EXT_OFF, 0));
	rp->partner = &b->p->funcs[cfg->nr_ports + b->link];
	return endpoint_add(b, rp, rp, (uint8_t)b->bus++);
}

/* Root port r with a switch below it (PCIe 6.x §1.3.3): its Upstream Port on the root port's
 * secondary bus, the Downstream Ports on the switch's internal bus, an endpoint below each. Bus
 * numbers depth-first: USP bus, internal bus, then one per Downstream Port. The root port has a
 * Selective IDE block per endpoint below it: each stream runs from it to one endpoint (Linux
 * drivers/pci/ide.c pci_ide_stream_alloc() pairs an endpoint with pcie_find_root_port()). */
static pcitsm_err switch_add(struct emu_build *b, unsigned r, uint8_t dev, uint8_t fn)
{
	const struct pcitsm_emu_config *cfg = b->cfg;
	unsigned k = cfg->sw_ports, first = b->link;
	uint8_t usp_bus = (uint8_t)b->bus, in_bus = (uint8_t)(b->bus + 1);
	uint8_t sub = (uint8_t)(b->bus + 1 + k);
	uint64_t base = PCITSM_EMU_MEM_BASE + first * PCITSM_EMU_MEM_WINDOW;
	struct pcitsm_emu_ide_cfg ide = cfg->ports[first].rp_ide;
	struct pcitsm_emu_func *rp, *usp;
	uint8_t bus[3];

	rp = func_new(&b->p->funcs[b->extra++], PCITSM_EMU_ROOT_PORT, b, cfg->root_bus, dev, fn);
	bus[0] = cfg->root_bus, bus[1] = usp_bus, bus[2] = sub;
	bridge_build(rp, PCITSM_EMU_DEVICE_ROOT_PORT, PCITSM_EXP_TYPE_ROOT_PORT, (uint8_t)(1 + r),
		     bus_header_type(pcitsm_emu_config_root_ports(cfg), r,
				     32 - PCITSM_EMU_RP_ONE_PER_DEVICE),
		     bus, base, k * PCITSM_EMU_MEM_WINDOW);
	ide.nr_sel = PCITSM_MAX(ide.nr_sel, k);
	if (ide.present)
		PCITSM_TRY(ide_build(rp, &ide, EMU_EXT_OFF, 0));

	usp = func_new(&b->p->funcs[b->extra++], PCITSM_EMU_SWITCH_UP, b, usp_bus, 0, 0);
	usp->bridge = rp;
	bus[0] = usp_bus, bus[1] = in_bus, bus[2] = sub;
	bridge_build(usp, PCITSM_EMU_DEVICE_SWITCH_UP, PCITSM_EXP_TYPE_UPSTREAM, 0, 0x01, bus, base,
		     k * PCITSM_EMU_MEM_WINDOW);

	b->bus += 2;
	for (unsigned i = 0; i < k; i++) {
		struct pcitsm_emu_func *dsp;
		uint8_t d, f;

		bus_devfn(k, i, 0, &d, &f);
		dsp = func_new(&b->p->funcs[b->link], PCITSM_EMU_SWITCH_DOWN, b, in_bus, d, f);
		dsp->bridge = usp;
		bus[0] = in_bus, bus[1] = (uint8_t)b->bus, bus[2] = (uint8_t)b->bus;
		bridge_build(dsp, PCITSM_EMU_DEVICE_SWITCH_DOWN, PCITSM_EXP_TYPE_DOWNSTREAM,
			     (uint8_t)(1 + i), bus_header_type(k, i, 0), bus,
			     PCITSM_EMU_MEM_BASE + b->link * PCITSM_EMU_MEM_WINDOW,
			     PCITSM_EMU_MEM_WINDOW);
		PCITSM_TRY(endpoint_add(b, dsp, rp, (uint8_t)b->bus++));
	}
	return PCITSM_OK;
}

static pcitsm_err config_check(const struct pcitsm_emu_config *cfg, unsigned *nfuncs)
{
	unsigned n;

	if (!cfg->nr_ports || cfg->nr_ports > PCITSM_EMU_MAX_PORTS || !cfg->nr_streams ||
	    cfg->nr_streams > 256 ||
	    cfg->root_bus + pcitsm_emu_config_buses(cfg) > 255)
		return PCITSM_E_INVAL;
	if (cfg->nr_switches &&
	    (!cfg->sw_ports || cfg->sw_ports > PCITSM_EMU_MAX_SWITCH_PORTS ||
	     cfg->nr_switches * cfg->sw_ports > cfg->nr_ports))
		return PCITSM_E_INVAL;
	n = 2 * cfg->nr_ports + 2 * cfg->nr_switches;
	for (unsigned i = 0; i < cfg->nr_ports; i++) {
		if (cfg->ports[i].ep_extra_funcs > PCITSM_EMU_MAX_EXTRA_FUNCS)
			return PCITSM_E_INVAL;
		n += cfg->ports[i].ep_extra_funcs;
	}
	*nfuncs = n;
	return PCITSM_OK;
}

pcitsm_err pcitsm_emu_platform_init(struct pcitsm_emu_platform *p,
				    const struct pcitsm_emu_config *cfg,
				    const struct pcitsm_env *env)
{
	struct emu_build b = { .p = p, .cfg = &p->config };
	pcitsm_err e;
	unsigned n, rps;

	memset(p, 0, sizeof(*p));
	PCITSM_TRY(config_check(cfg, &n));
	p->funcs = calloc(n, sizeof(*p->funcs));
	if (!p->funcs)
		return PCITSM_E_NOMEM;
	p->config = *cfg;
	if (!cfg->nr_switches)
		p->config.sw_ports = 0;
	p->env = env;
	p->nr_funcs = n;
	b.bus = cfg->root_bus + 1u;
	b.extra = n - 2 * cfg->nr_switches;
	rps = pcitsm_emu_config_root_ports(cfg);

	/* Root ports in device order, each subtree numbered before the next (depth-first). */
	e = PCITSM_OK;
	for (unsigned r = 0; r < rps && !e; r++) {
		uint8_t dev, fn;

		pcitsm_emu_rp_devfn(cfg, r, &dev, &fn);
		e = r < cfg->nr_switches ? switch_add(&b, r, dev, fn) : root_port_add(&b, r, dev, fn);
	}
	/* The endpoints' VFs, where their PF's SR-IOV capability puts them. */
	for (unsigned i = 0, k = 2 * cfg->nr_ports; i < cfg->nr_ports && !e; i++) {
		struct pcitsm_emu_func *pf0 = &p->funcs[cfg->nr_ports + i];

		for (unsigned vf = 1; vf <= cfg->ports[i].ep_extra_funcs && !e; vf++, k++)
			e = vf_build(&p->funcs[k], pf0, vf, &cfg->ports[i]);
	}
	if (!e)
		e = emu_links_init(p);
	if (e)
		pcitsm_emu_platform_free(p);
	return e;
}

void pcitsm_emu_platform_free(struct pcitsm_emu_platform *p)
{
	emu_links_free(p);
	for (unsigned i = 0; i < p->nr_funcs; i++) {
		struct pcitsm_emu_func *f = &p->funcs[i];

		for (unsigned h = 0; h < f->cfg.nr_hooks; h++)
			if (f->cfg.hooks[h].read == ide_hook_read)
				free(f->cfg.hooks[h].arg);
		if (f->doe_off)
			pcitsm_doe_mbox_free(&f->mbox);
	}
	free(p->funcs);
	p->funcs = NULL;
	p->nr_funcs = 0;
}

struct pcitsm_emu_func *pcitsm_emu_find(struct pcitsm_emu_platform *p, const struct pcitsm_bdf *bdf)
{
	for (unsigned i = 0; i < p->nr_funcs; i++) {
		const struct pcitsm_bdf *b = &p->funcs[i].bdf;

		if (b->seg == bdf->seg && b->bus == bdf->bus && b->dev == bdf->dev && b->fn == bdf->fn)
			return &p->funcs[i];
	}
	return NULL;
}


/* The IDE register layout of f (its capability's hook), or NULL. */
static const struct ide_layout *ide_layout_of(const struct pcitsm_emu_func *f)
{
	for (unsigned h = 0; h < f->cfg.nr_hooks; h++)
		if (f->cfg.hooks[h].read == ide_hook_read)
			return f->cfg.hooks[h].arg;
	return NULL;
}

unsigned pcitsm_emu_available_streams(struct pcitsm_emu_platform *p)
{
	unsigned used = 0;

	for (unsigned i = 0; i < p->nr_funcs; i++) {
		struct pcitsm_emu_func *f = &p->funcs[i];
		const struct ide_layout *l = ide_layout_of(f);

		if (f->kind != PCITSM_EMU_ROOT_PORT || !l)
			continue;
		for (unsigned s = 0; s < l->nr_sel; s++)
			if (pcitsm_cfg_emu_peek(&f->cfg, ide_sel_block(l, s) + PCITSM_IDE_SEL_CTL, 4) &
			    PCITSM_IDE_CTL_EN)
				used++;
	}
	return used >= p->config.nr_streams ? 0 : p->config.nr_streams - used;
}
