/* SPDX-License-Identifier: MIT */
/*
 * IDE Extended Capability (0x30) decoder: PCIe 6.x §7.9.26; Linux include/uapi/linux/pci_regs.h.
 *
 * Layout: header, IDE Capability (+0x04), IDE Control (+0x08), nr_link Link blocks of 8 bytes from
 * +0x0C, then nr_sel Selective blocks of 0x14 + 12 * nAddr bytes each. Selective blocks are walked
 * one by one, each with its own address-association count (the kernel assumes they are equal; a
 * device need not be), and every block must end inside config space (E_RANGE otherwise), so a
 * hostile count never makes us read past 4 KiB.
 */
#include <string.h>

#include "pci/internal.h"

#define IDE_HDR_LEN 0x0cu            /* header, Capability, Control */
#define IDE_SEL_FIXED_LEN 0x14u      /* Capability, Control, Status, RID 1, RID 2 */
#define IDE_SEL_CAP_NADDR_MASK 0xfu  /* Selective Stream Capability bits 3:0 */
#define IDE_CTL_FLOWTHROUGH_EN 0x4u  /* IDE Control bit 2 */
#define IDE_ADDR1_VALID 0x1u
#define IDE_ADDR_GRANULE_SHIFT 20    /* address bits 31:20 in 12-bit fields: 1 MiB granules */
#define IDE_ADDR_LOW_ONES 0xfffffull /* the implied low bits of a limit */

void pcitsm_ide_ctl_decode(uint32_t ctl, struct pcitsm_ide_stream_ctl *c)
{
	c->enable = ctl & PCITSM_IDE_CTL_EN;
	c->xt = ctl & PCITSM_IDE_CTL_XT;
	c->agg_npr = (ctl >> PCITSM_IDE_CTL_AGG_NPR_SHIFT) & 3;
	c->agg_pr = (ctl >> PCITSM_IDE_CTL_AGG_PR_SHIFT) & 3;
	c->agg_cpl = (ctl >> PCITSM_IDE_CTL_AGG_CPL_SHIFT) & 3;
	c->pcrc = ctl & PCITSM_IDE_CTL_PCRC_EN;
	c->cfg_en = ctl & PCITSM_IDE_CTL_CFG_EN;
	c->phe = (ctl >> PCITSM_IDE_CTL_PHE_SHIFT) & PCITSM_IDE_CTL_PHE_MASK;
	c->alg = (ctl >> PCITSM_IDE_CTL_ALG_SHIFT) & PCITSM_IDE_CTL_ALG_MASK;
	c->tc = (ctl >> PCITSM_IDE_CTL_TC_SHIFT) & PCITSM_IDE_CTL_TC_MASK;
	c->default_stream = ctl & PCITSM_IDE_CTL_DEFAULT;
	c->tee_limited = ctl & PCITSM_IDE_CTL_TEE_LIMITED;
	c->stream_id = (uint8_t)(ctl >> PCITSM_IDE_CTL_ID_SHIFT);
}

uint32_t pcitsm_ide_ctl_encode(const struct pcitsm_ide_stream_ctl *c)
{
	uint32_t v = 0;

	v |= c->enable ? PCITSM_IDE_CTL_EN : 0;
	v |= c->xt ? PCITSM_IDE_CTL_XT : 0;
	v |= (uint32_t)(c->agg_npr & 3) << PCITSM_IDE_CTL_AGG_NPR_SHIFT;
	v |= (uint32_t)(c->agg_pr & 3) << PCITSM_IDE_CTL_AGG_PR_SHIFT;
	v |= (uint32_t)(c->agg_cpl & 3) << PCITSM_IDE_CTL_AGG_CPL_SHIFT;
	v |= c->pcrc ? PCITSM_IDE_CTL_PCRC_EN : 0;
	v |= c->cfg_en ? PCITSM_IDE_CTL_CFG_EN : 0;
	v |= (uint32_t)(c->phe & PCITSM_IDE_CTL_PHE_MASK) << PCITSM_IDE_CTL_PHE_SHIFT;
	v |= (uint32_t)(c->alg & PCITSM_IDE_CTL_ALG_MASK) << PCITSM_IDE_CTL_ALG_SHIFT;
	v |= (uint32_t)(c->tc & PCITSM_IDE_CTL_TC_MASK) << PCITSM_IDE_CTL_TC_SHIFT;
	v |= c->default_stream ? PCITSM_IDE_CTL_DEFAULT : 0;
	v |= c->tee_limited ? PCITSM_IDE_CTL_TEE_LIMITED : 0;
	v |= (uint32_t)c->stream_id << PCITSM_IDE_CTL_ID_SHIFT;
	return v;
}

static void ide_cap_decode(struct pcitsm_ide_info *ide, uint32_t cap)
{
	ide->link_sup = cap & PCITSM_IDE_CAP_LINK;
	ide->sel_sup = cap & PCITSM_IDE_CAP_SEL;
	ide->flowthrough_sup = cap & PCITSM_IDE_CAP_FLOWTHROUGH;
	ide->partial_hdr_sup = cap & PCITSM_IDE_CAP_PARTIAL_HDR;
	ide->aggregation_sup = cap & PCITSM_IDE_CAP_AGGREGATION;
	ide->pcrc_sup = cap & PCITSM_IDE_CAP_PCRC;
	ide->ide_km_sup = cap & PCITSM_IDE_CAP_IDE_KM;
	ide->sel_cfg_sup = cap & PCITSM_IDE_CAP_SEL_CFG;
	ide->tee_limited_sup = cap & PCITSM_IDE_CAP_TEE_LIMITED;
	ide->xt_sup = cap & PCITSM_IDE_CAP_XT;
	ide->algs = (cap >> PCITSM_IDE_CAP_ALG_SHIFT) & PCITSM_IDE_CAP_ALG_MASK;
	/* Counts are encoded minus one (Linux drivers/pci/ide.c: nr_link_ide, nr_sel_ide). */
	ide->nr_link = ide->link_sup ?
		((cap >> PCITSM_IDE_CAP_LINK_TC_SHIFT) & PCITSM_IDE_CAP_LINK_TC_MASK) + 1 : 0;
	ide->nr_sel = ide->sel_sup ?
		((cap >> PCITSM_IDE_CAP_SEL_NUM_SHIFT) & PCITSM_IDE_CAP_SEL_NUM_MASK) + 1 : 0;
}

/* The size of the Selective block at pos, from its own Capability register; E_RANGE unless the
 * whole block lies inside config space. */
static pcitsm_err ide_sel_size(struct pcitsm_cfg *cfg, uint32_t pos, uint32_t *size,
			       uint8_t *naddr)
{
	uint32_t cap;

	if (pos + IDE_SEL_FIXED_LEN > cfg->size)
		return PCITSM_E_RANGE;
	PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_CAP, &cap));
	*naddr = cap & IDE_SEL_CAP_NADDR_MASK;
	*size = PCITSM_IDE_SEL_BLOCK_SIZE(*naddr);
	if (pos + *size > cfg->size)
		return PCITSM_E_RANGE;
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_read(struct pcitsm_cfg *cfg, uint16_t off, struct pcitsm_ide_info *ide)
{
	uint32_t hdr, pos, size;
	uint8_t naddr;

	if (!ide)
		return PCITSM_E_INVAL;
	memset(ide, 0, sizeof(*ide));
	PCITSM_TRY(pcitsm_pci_ecap_check(cfg, off, IDE_HDR_LEN, PCITSM_ECAP_ID_IDE, &hdr));
	ide->off = off;
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off + PCITSM_IDE_CAP, &ide->cap_raw));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, off + PCITSM_IDE_CTL, &ide->ctl_raw));
	ide_cap_decode(ide, ide->cap_raw);
	ide->flowthrough_en = ide->ctl_raw & IDE_CTL_FLOWTHROUGH_EN;

	/* Link blocks: Control, Status. */
	pos = off + PCITSM_IDE_LINK_BLOCK0;
	for (unsigned i = 0; i < ide->nr_link; i++, pos += PCITSM_IDE_LINK_BLOCK_SIZE) {
		struct pcitsm_ide_link *l = &ide->link[i];

		if (pos + PCITSM_IDE_LINK_BLOCK_SIZE > cfg->size)
			return PCITSM_E_RANGE;
		l->off = (uint16_t)pos;
		PCITSM_TRY(pcitsm_cfg_read32(cfg, pos, &l->ctl_raw));
		PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + 4, &l->status_raw));
		pcitsm_ide_ctl_decode(l->ctl_raw, &l->ctl);
		l->state = l->status_raw & PCITSM_IDE_STATUS_STATE_MASK;
		l->recvd_fail = l->status_raw & PCITSM_IDE_STATUS_RECVD_FAIL;
	}

	/* Selective blocks, walked sequentially. */
	for (unsigned i = 0; i < ide->nr_sel; i++) {
		PCITSM_TRY(ide_sel_size(cfg, pos, &size, &naddr));
		ide->sel_off[i] = (uint16_t)pos;
		pos += size;
	}
	return PCITSM_OK;
}

/* Address Association j: base = Addr3 (upper) | Addr1[19:8] as bits 31:20; limit = Addr2 (upper)
 * | Addr1[31:20] as bits 31:20 | 0xFFFFF (PCIe 6.x §7.9.26). */
static void ide_addr_decode(uint32_t a1, uint32_t a2, uint32_t a3, struct pcitsm_ide_addr_assoc *a)
{
	a->valid = a1 & IDE_ADDR1_VALID;
	a->base = (uint64_t)a3 << 32 | (uint64_t)((a1 >> 8) & 0xfff) << IDE_ADDR_GRANULE_SHIFT;
	a->limit = (uint64_t)a2 << 32 | (uint64_t)((a1 >> 20) & 0xfff) << IDE_ADDR_GRANULE_SHIFT |
		   IDE_ADDR_LOW_ONES;
}

pcitsm_err pcitsm_ide_sel_read(struct pcitsm_cfg *cfg, const struct pcitsm_ide_info *ide,
			       unsigned i, struct pcitsm_ide_sel *sel)
{
	uint32_t pos, size, rid1, rid2;

	if (!cfg || !ide || !sel || i >= ide->nr_sel || i >= PCITSM_IDE_MAX_SEL)
		return PCITSM_E_INVAL;
	memset(sel, 0, sizeof(*sel));
	pos = ide->sel_off[i];
	PCITSM_TRY(ide_sel_size(cfg, pos, &size, &sel->nr_addr));
	sel->off = (uint16_t)pos;
	PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_CTL, &sel->ctl_raw));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_STS, &sel->status_raw));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_RID1, &rid1));
	PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_RID2, &rid2));
	pcitsm_ide_ctl_decode(sel->ctl_raw, &sel->ctl);
	sel->state = sel->status_raw & PCITSM_IDE_STATUS_STATE_MASK;
	sel->recvd_fail = sel->status_raw & PCITSM_IDE_STATUS_RECVD_FAIL;
	/* RID Association 1: bits 23:8 limit. 2: bit 0 valid, 23:8 base, 31:24 segment base. */
	sel->rid_limit = (uint16_t)(rid1 >> 8);
	sel->rid_valid = rid2 & 1;
	sel->rid_base = (uint16_t)(rid2 >> 8);
	sel->seg_base = (uint8_t)(rid2 >> 24);
	for (unsigned j = 0; j < sel->nr_addr; j++) {
		uint32_t a1, a2, a3;

		PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_ADDR1(j), &a1));
		PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_ADDR2(j), &a2));
		PCITSM_TRY(pcitsm_cfg_read32(cfg, pos + PCITSM_IDE_SEL_ADDR3(j), &a3));
		ide_addr_decode(a1, a2, a3, &sel->addr[j]);
	}
	return PCITSM_OK;
}
