/* SPDX-License-Identifier: MIT */
/*
 * Capability walkers that survive hostile lists, and the small decoders built on them: function
 * identity (PCIe capability: port type, DEVCAP TEE bit, LNKCAP port number), DOE capability
 * header (PCIe 6.x §7.9.24), Device-3 (Linux drivers/pci/ide.c).
 *
 * Standard list (PCI Local Bus 3.0 §6.7): pointer at 0x34, bits 1:0 reserved (masked), legal
 * targets 0x40..0xFC, 0 ends. Extended list (PCIe §7.6.3): starts at 0x100, next pointer in bits
 * 31:20, legal targets 0x100..0xFFC and DW aligned, a header of 0 or all ones ends the list.
 * A pointer seen twice is a loop (visited set, one bit per DW), whatever the count.
 */
#include <string.h>

#include "pci/internal.h"

#define CAP_STD_MIN 0x40u
#define CAP_STD_MAX 0xfcu
/* (256 - 64) / 4 DWs can hold a standard capability. */
#define CAP_STD_MAX_ENTRIES 48u
#define CAP_EXT_MAX 0xffcu
#define CAP_EXT_MAX_ENTRIES ((PCITSM_CFG_SIZE_EXT - PCITSM_CFG_SIZE_LEGACY) / 4u)

struct cap_iter {
	struct pcitsm_cfg *cfg;
	bool ext;     /* walking the extended list */
	bool done;    /* both lists ended */
	uint32_t next; /* next pointer to visit, 0 = end of the current list */
	unsigned count;
	uint64_t visited[PCITSM_CFG_SIZE_EXT / 4 / 64];
};

static bool visit(struct cap_iter *it, uint32_t off)
{
	uint64_t bit = 1ull << ((off / 4) % 64);
	uint64_t *w = &it->visited[off / 4 / 64];

	if (*w & bit)
		return false;
	*w |= bit;
	return true;
}

static pcitsm_err cap_iter_init(struct cap_iter *it, struct pcitsm_cfg *cfg)
{
	uint16_t status;
	uint8_t ptr;

	memset(it, 0, sizeof(*it));
	it->cfg = cfg;
	PCITSM_TRY(pcitsm_cfg_read16(cfg, PCITSM_CFG_STATUS, &status));
	if (!(status & PCITSM_CFG_STATUS_CAP_LIST))
		return PCITSM_OK;
	PCITSM_TRY(pcitsm_cfg_read8(cfg, PCITSM_CFG_CAP_PTR, &ptr));
	it->next = ptr & ~3u;
	return PCITSM_OK;
}

/* Switch to the extended list: only a 4 KiB config space has one. */
static void cap_iter_start_ext(struct cap_iter *it)
{
	it->ext = true;
	it->count = 0;
	if (it->cfg->size < PCITSM_CFG_SIZE_EXT)
		it->done = true;
	else
		it->next = PCITSM_CFG_EXT_START;
}

static pcitsm_err cap_next_std(struct cap_iter *it, struct pcitsm_cap *cap)
{
	uint32_t off = it->next;
	uint8_t id, next;

	if (off < CAP_STD_MIN || off > CAP_STD_MAX)
		return PCITSM_E_RANGE;
	if (!visit(it, off) || ++it->count > CAP_STD_MAX_ENTRIES)
		return PCITSM_E_LOOP;
	PCITSM_TRY(pcitsm_cfg_read8(it->cfg, off, &id));
	PCITSM_TRY(pcitsm_cfg_read8(it->cfg, off + 1, &next));
	if (id == 0xff) {
		/* All ones: nothing answers here; treat as the end (Linux does the same). */
		it->next = 0;
		return PCITSM_E_NOTFOUND;
	}
	cap->id = id;
	cap->off = (uint16_t)off;
	cap->version = 0;
	cap->ext = false;
	it->next = next & ~3u;
	return PCITSM_OK;
}

static pcitsm_err cap_next_ext(struct cap_iter *it, struct pcitsm_cap *cap)
{
	uint32_t off = it->next, hdr;

	if (off < PCITSM_CFG_EXT_START || off > CAP_EXT_MAX || (off & 3))
		return PCITSM_E_RANGE;
	if (!visit(it, off) || ++it->count > CAP_EXT_MAX_ENTRIES)
		return PCITSM_E_LOOP;
	PCITSM_TRY(pcitsm_cfg_read32(it->cfg, off, &hdr));
	if (hdr == 0 || hdr == 0xffffffffu) {
		it->next = 0;
		return PCITSM_E_NOTFOUND;
	}
	cap->id = (uint16_t)hdr;
	cap->off = (uint16_t)off;
	cap->version = (uint8_t)((hdr >> 16) & 0xf);
	cap->ext = true;
	it->next = hdr >> 20;
	return PCITSM_OK;
}

/* The next capability, OK; E_NOTFOUND at the end of both lists; E_LOOP / E_RANGE / access errors
 * on a broken list (the walk cannot continue). */
static pcitsm_err cap_next(struct cap_iter *it, struct pcitsm_cap *cap)
{
	pcitsm_err e;

	while (!it->done) {
		if (!it->next) {
			if (it->ext)
				it->done = true;
			else
				cap_iter_start_ext(it);
			continue;
		}
		e = it->ext ? cap_next_ext(it, cap) : cap_next_std(it, cap);
		if (e != PCITSM_E_NOTFOUND)
			return e;
	}
	return PCITSM_E_NOTFOUND;
}

pcitsm_err pcitsm_cap_list(struct pcitsm_cfg *cfg, struct pcitsm_cap *caps, size_t max, size_t *n)
{
	struct cap_iter it;
	struct pcitsm_cap cap;
	pcitsm_err e;

	if (!n)
		return PCITSM_E_INVAL;
	*n = 0;
	if (!caps && max)
		return PCITSM_E_INVAL;
	PCITSM_TRY(cap_iter_init(&it, cfg));
	while ((e = cap_next(&it, &cap)) == PCITSM_OK) {
		if (*n >= max)
			return PCITSM_E_NOSPC;
		caps[(*n)++] = cap;
	}
	return e == PCITSM_E_NOTFOUND ? PCITSM_OK : e;
}

pcitsm_err pcitsm_cap_find(struct pcitsm_cfg *cfg, uint8_t id, uint16_t *off)
{
	struct cap_iter it;
	struct pcitsm_cap cap;
	pcitsm_err e;

	if (!off)
		return PCITSM_E_INVAL;
	*off = 0;
	PCITSM_TRY(cap_iter_init(&it, cfg));
	while ((e = cap_next(&it, &cap)) == PCITSM_OK && !cap.ext) {
		if (cap.id == id) {
			*off = cap.off;
			return PCITSM_OK;
		}
	}
	return e == PCITSM_OK ? PCITSM_E_NOTFOUND : e;
}

pcitsm_err pcitsm_ecap_find(struct pcitsm_cfg *cfg, uint16_t id, unsigned nth, uint16_t *off)
{
	struct cap_iter it;
	struct pcitsm_cap cap;
	pcitsm_err e;

	if (!off)
		return PCITSM_E_INVAL;
	*off = 0;
	PCITSM_TRY(cap_iter_init(&it, cfg));
	/* Only the extended list matters: skip the standard one, whatever state it is in. */
	it.next = 0;
	while ((e = cap_next(&it, &cap)) == PCITSM_OK) {
		if (cap.ext && cap.id == id && nth-- == 0) {
			*off = cap.off;
			return PCITSM_OK;
		}
	}
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Identity.
 */
pcitsm_err pcitsm_pci_read_id(struct pcitsm_cfg *cfg, struct pcitsm_pci_id *id)
{
	uint32_t class_rev, devcap, lnkcap;
	uint16_t exp, flags;
	pcitsm_err e;

	if (!id)
		return PCITSM_E_INVAL;
	memset(id, 0, sizeof(*id));
	id->exp_type = -1;
	PCITSM_TRY(pcitsm_cfg_read16(cfg, PCITSM_CFG_VENDOR_ID, &id->vendor));
	PCITSM_TRY(pcitsm_cfg_read16(cfg, PCITSM_CFG_DEVICE_ID, &id->device));
	/* 0x08: revision in bits 7:0, class code (prog-if, sub, base) in bits 31:8. */
	PCITSM_TRY(pcitsm_cfg_read32(cfg, PCITSM_CFG_REVISION, &class_rev));
	if (id->vendor == 0xffff) {
		/* No function reads all ones; a VF reads 0xFFFF IDs over a real class code. */
		if (id->device != 0xffff || class_rev == 0xffffffffu)
			return PCITSM_E_NOTFOUND;
		id->vf = true;
	}
	id->revision = (uint8_t)class_rev;
	id->class_code = class_rev >> 8;
	PCITSM_TRY(pcitsm_cfg_read8(cfg, PCITSM_CFG_HEADER_TYPE, &id->header_type));

	e = pcitsm_cap_find(cfg, PCITSM_CAP_ID_EXP, &exp);
	if (e == PCITSM_E_NOTFOUND)
		return PCITSM_OK;
	if (e)
		return e;
	/* The PCIe capability is 0x3c bytes; a pointer at 0xfc cannot hold it. */
	if (exp + PCITSM_EXP_LNKCAP + 4u > PCITSM_CFG_SIZE_LEGACY)
		return PCITSM_E_RANGE;
	PCITSM_TRY(pcitsm_cfg_read16(cfg, exp + PCITSM_EXP_FLAGS, &flags));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, exp + PCITSM_EXP_DEVCAP, &devcap));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, exp + PCITSM_EXP_LNKCAP, &lnkcap));
	id->exp_type = (flags >> 4) & 0xf;
	id->tee_io = (devcap & PCITSM_EXP_DEVCAP_TEE) != 0;
	id->port_number = (uint8_t)(lnkcap >> 24);
	return PCITSM_OK;
}

/* An extended capability of `len` bytes with ID `want` at off, inside config space. */
static pcitsm_err ecap_check(struct pcitsm_cfg *cfg, uint16_t off, uint32_t len, uint16_t want,
			     uint32_t *hdr)
{
	if (!cfg)
		return PCITSM_E_INVAL;
	if (off < PCITSM_CFG_EXT_START || (off & 3) || off + len > cfg->size)
		return PCITSM_E_RANGE;
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off, hdr));
	if ((*hdr & 0xffff) != want)
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

/* DOE capability header and Capabilities register (PCIe 6.x §7.9.24). */
pcitsm_err pcitsm_doe_cap_read(struct pcitsm_cfg *cfg, uint16_t off, struct pcitsm_doe_capinfo *d)
{
	uint32_t hdr, cap;

	if (!d)
		return PCITSM_E_INVAL;
	memset(d, 0, sizeof(*d));
	PCITSM_TRY(ecap_check(cfg, off, PCITSM_DOE_CAP_SIZE, PCITSM_ECAP_ID_DOE, &hdr));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off + PCITSM_DOE_CAP, &cap));
	d->off = off;
	d->version = (uint8_t)((hdr >> 16) & 0xf);
	d->irq = cap & 0x1;                         /* bit 0 Interrupt Support */
	d->irq_msg = (uint16_t)((cap >> 1) & 0x7ff); /* bits 11:1 Interrupt Message Number */
	d->attention = (cap >> 12) & 1;             /* bit 12 Attention Mechanism Support */
	d->async = (cap >> 13) & 1;                 /* bit 13 Async Message Support */
	return PCITSM_OK;
}

/* Device-3 (0x2F): Capability, Control, Status (Linux drivers/pci/ide.c). */
pcitsm_err pcitsm_dev3_read(struct pcitsm_cfg *cfg, uint16_t off, struct pcitsm_dev3_info *d)
{
	uint32_t hdr;

	if (!d)
		return PCITSM_E_INVAL;
	memset(d, 0, sizeof(*d));
	PCITSM_TRY(ecap_check(cfg, off, PCITSM_DEV3_STA + 4, PCITSM_ECAP_ID_DEV3, &hdr));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off + PCITSM_DEV3_CAP, &d->cap_raw));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off + PCITSM_DEV3_CTL, &d->ctl_raw));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off + PCITSM_DEV3_STA, &d->sta_raw));
	d->off = off;
	d->segment_captured = (d->sta_raw & PCITSM_DEV3_STA_SEGMENT) != 0;
	return PCITSM_OK;
}

pcitsm_err pcitsm_pci_ecap_check(struct pcitsm_cfg *cfg, uint16_t off, uint32_t len, uint16_t want,
				 uint32_t *hdr)
{
	return ecap_check(cfg, off, len, want, hdr);
}
