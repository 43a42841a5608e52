/* SPDX-License-Identifier: MIT */
/* Fuzz: a config-space image (first byte picks 256 or 4096 bytes) through the emulated accessor:
 * capability list, identity, and every DOE, IDE and Device-3 capability found. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/pci.h"

static struct pcitsm_cfg_emu emu;
static struct pcitsm_ide_info ide;
static struct pcitsm_ide_sel sel;

static void decode(struct pcitsm_cfg *cfg, const struct pcitsm_cap *c)
{
	struct pcitsm_doe_capinfo doe;
	struct pcitsm_dev3_info d3;

	if (c->id == PCITSM_ECAP_ID_DOE && pcitsm_doe_cap_read(cfg, c->off, &doe) == PCITSM_OK &&
	    doe.off + (uint32_t)PCITSM_DOE_CAP_SIZE > cfg->size)
		abort();
	if (c->id == PCITSM_ECAP_ID_DEV3 && pcitsm_dev3_read(cfg, c->off, &d3) == PCITSM_OK &&
	    d3.off != c->off)
		abort();
	if (c->id != PCITSM_ECAP_ID_IDE || pcitsm_ide_read(cfg, c->off, &ide))
		return;
	/* Every block the walk accepted lies inside config space. */
	for (unsigned i = 0; i < ide.nr_sel; i++)
		if (pcitsm_ide_sel_read(cfg, &ide, i, &sel) ||
		    sel.off + PCITSM_IDE_SEL_BLOCK_SIZE(sel.nr_addr) > cfg->size)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_cap caps[64];
	struct pcitsm_pci_id id;
	uint16_t off;
	size_t n = 0;

	if (size < 1)
		return 0;
	pcitsm_cfg_emu_init(&emu, data[0] & 1 ? PCITSM_CFG_SIZE_LEGACY : PCITSM_CFG_SIZE_EXT);
	memcpy(emu.val, data + 1, PCITSM_MIN(size - 1, sizeof(emu.val)));
	if (pcitsm_cap_list(&emu.cfg, caps, PCITSM_ARRAY_SIZE(caps), &n) == PCITSM_E_INVAL ||
	    n > PCITSM_ARRAY_SIZE(caps))
		abort();
	for (size_t i = 0; i < n; i++)
		if (caps[i].ext)
			decode(&emu.cfg, &caps[i]);
	if (pcitsm_pci_read_id(&emu.cfg, &id) == PCITSM_OK && id.exp_type > 0xf)
		abort();
	if (pcitsm_ecap_find(&emu.cfg, PCITSM_ECAP_ID_IDE, 1, &off) == PCITSM_OK && off < 0x100)
		abort();
	return 0;
}
