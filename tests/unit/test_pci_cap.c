/* SPDX-License-Identifier: MIT */
/* pci: capability walkers on hostile lists, identity, DOE / Device-3 / IDE decoders. */
#include <string.h>

#include "testutil.h"
#include "pcitsm/pci.h"

static void std_cap(struct pcitsm_cfg_emu *e, uint8_t off, uint8_t id, uint8_t next)
{
	pcitsm_cfg_emu_poke(e, off, 1, id);
	pcitsm_cfg_emu_poke(e, off + 1u, 1, next);
}

static void ext_cap(struct pcitsm_cfg_emu *e, uint16_t off, uint16_t id, uint8_t ver, uint16_t next)
{
	pcitsm_cfg_emu_poke(e, off, 4, id | (uint32_t)ver << 16 | (uint32_t)next << 20);
}

/* A function with the capability list bit set and its first pointer at 0x34. */
static void base(struct pcitsm_cfg_emu *e, uint32_t size, uint8_t first)
{
	pcitsm_cfg_emu_init(e, size);
	pcitsm_cfg_emu_poke(e, PCITSM_CFG_VENDOR_ID, 2, 0x1234);
	pcitsm_cfg_emu_poke(e, PCITSM_CFG_DEVICE_ID, 2, 0xabcd);
	pcitsm_cfg_emu_poke(e, PCITSM_CFG_STATUS, 2, PCITSM_CFG_STATUS_CAP_LIST);
	pcitsm_cfg_emu_poke(e, PCITSM_CFG_CAP_PTR, 1, first);
}

static struct pcitsm_cfg_emu emu; /* 12 KiB: not on the stack */

static void list_in_order(void **state)
{
	struct pcitsm_cap caps[8];
	size_t n;

	base(&emu, 4096, 0x43); /* bits 1:0 are reserved and masked */
	std_cap(&emu, 0x40, PCITSM_CAP_ID_PM, 0x50);
	std_cap(&emu, 0x50, PCITSM_CAP_ID_EXP, 0);
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_DOE, 2, 0x180);
	ext_cap(&emu, 0x180, PCITSM_ECAP_ID_IDE, 1, 0);
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, PCITSM_ARRAY_SIZE(caps), &n));
	assert_int_equal(n, 4);
	assert_int_equal(caps[0].id, PCITSM_CAP_ID_PM);
	assert_int_equal(caps[0].off, 0x40);
	assert_false(caps[0].ext);
	assert_int_equal(caps[1].off, 0x50);
	assert_int_equal(caps[2].id, PCITSM_ECAP_ID_DOE);
	assert_int_equal(caps[2].version, 2);
	assert_true(caps[2].ext);
	assert_int_equal(caps[3].id, PCITSM_ECAP_ID_IDE);
	assert_int_equal(caps[3].off, 0x180);

	/* Too small an array: E_NOSPC with what fits. */
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 3, &n), PCITSM_E_NOSPC);
	assert_int_equal(n, 3);

	/* Without Status bit 4 there is no standard list. */
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_STATUS, 2, 0);
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, PCITSM_ARRAY_SIZE(caps), &n));
	assert_int_equal(n, 2);

	/* A 256-byte config space has no extended list, whatever 0x100 would hold. */
	base(&emu, 256, 0x40);
	std_cap(&emu, 0x40, PCITSM_CAP_ID_EXP, 0);
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, PCITSM_ARRAY_SIZE(caps), &n));
	assert_int_equal(n, 1);
}

static void std_hostile(void **state)
{
	struct pcitsm_cap caps[64];
	uint16_t off;
	size_t n;

	/* Loop of two. */
	base(&emu, 4096, 0x40);
	std_cap(&emu, 0x40, 1, 0x50);
	std_cap(&emu, 0x50, 5, 0x40);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 64, &n), PCITSM_E_LOOP);
	assert_int_equal(n, 2);
	assert_err(pcitsm_cap_find(&emu.cfg, PCITSM_CAP_ID_EXP, &off), PCITSM_E_LOOP);

	/* Self-loop, and a self-loop via the reserved bits (0x42 & ~3 = 0x40). */
	std_cap(&emu, 0x40, 1, 0x40);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 64, &n), PCITSM_E_LOOP);
	assert_int_equal(n, 1);
	std_cap(&emu, 0x40, 1, 0x42);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 64, &n), PCITSM_E_LOOP);

	/* Pointers into the header. */
	base(&emu, 4096, 0x20);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 64, &n), PCITSM_E_RANGE);
	assert_int_equal(n, 0);
	base(&emu, 4096, 0x40);
	std_cap(&emu, 0x40, 1, 0x3c);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 64, &n), PCITSM_E_RANGE);
	assert_int_equal(n, 1);

	/* All 48 legal slots chained: fine; the last at 0xfc. */
	base(&emu, 4096, 0x40);
	for (unsigned p = 0x40; p <= 0xfc; p += 4)
		std_cap(&emu, (uint8_t)p, 9, p == 0xfc ? 0 : (uint8_t)(p + 4));
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, 64, &n));
	assert_int_equal(n, 48);
	/* Same chain, descending into a loop at the end. */
	std_cap(&emu, 0xfc, 9, 0x80);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 64, &n), PCITSM_E_LOOP);
	assert_int_equal(n, 48);

	/* An ID of 0xff (all ones) ends the list. */
	base(&emu, 4096, 0x40);
	std_cap(&emu, 0x40, 1, 0x50);
	std_cap(&emu, 0x50, 0xff, 0x40);
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, 64, &n));
	assert_int_equal(n, 1);
}

static void ext_hostile(void **state)
{
	static struct pcitsm_cap caps[1024];
	uint16_t off;
	size_t n;

	base(&emu, 4096, 0);
	/* Loop 0x100 -> 0x200 -> 0x100. */
	ext_cap(&emu, 0x100, 0x2e, 1, 0x200);
	ext_cap(&emu, 0x200, 0x30, 1, 0x100);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 1024, &n), PCITSM_E_LOOP);
	assert_int_equal(n, 2);
	assert_err(pcitsm_ecap_find(&emu.cfg, 0x2f, 0, &off), PCITSM_E_LOOP);
	/* The loop does not stop a find that succeeds before it. */
	assert_ok(pcitsm_ecap_find(&emu.cfg, 0x30, 0, &off));
	assert_int_equal(off, 0x200);
	/* Self-loop. */
	ext_cap(&emu, 0x200, 0x30, 1, 0x200);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 1024, &n), PCITSM_E_LOOP);
	/* Misaligned, below 0x100. */
	ext_cap(&emu, 0x200, 0x30, 1, 0x202);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 1024, &n), PCITSM_E_RANGE);
	assert_int_equal(n, 2);
	ext_cap(&emu, 0x200, 0x30, 1, 0x0fc);
	assert_err(pcitsm_cap_list(&emu.cfg, caps, 1024, &n), PCITSM_E_RANGE);
	/* Header of all ones ends the list. */
	ext_cap(&emu, 0x200, 0x30, 1, 0x300);
	pcitsm_cfg_emu_poke(&emu, 0x300, 4, 0xffffffffu);
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, 1024, &n));
	assert_int_equal(n, 2);
	/* A header of 0 at 0x100: no extended capabilities at all. */
	pcitsm_cfg_emu_poke(&emu, 0x100, 4, 0);
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, 1024, &n));
	assert_int_equal(n, 0);
	assert_err(pcitsm_ecap_find(&emu.cfg, 0x30, 0, &off), PCITSM_E_NOTFOUND);

	/* All (4096 - 256) / 4 = 960 DWs chained: fine, the last at 0xffc. */
	for (unsigned p = 0x100; p <= 0xffc; p += 4)
		ext_cap(&emu, (uint16_t)p, 0x2e, 1, p == 0xffc ? 0 : (uint16_t)(p + 4));
	assert_ok(pcitsm_cap_list(&emu.cfg, caps, 1024, &n));
	assert_int_equal(n, 960);
	assert_ok(pcitsm_ecap_find(&emu.cfg, 0x2e, 959, &off));
	assert_int_equal(off, 0xffc);
	assert_err(pcitsm_ecap_find(&emu.cfg, 0x2e, 960, &off), PCITSM_E_NOTFOUND);
}

static void find_nth(void **state)
{
	uint16_t off;

	base(&emu, 4096, 0x40);
	std_cap(&emu, 0x40, PCITSM_CAP_ID_MSI, 0x60);
	std_cap(&emu, 0x60, PCITSM_CAP_ID_EXP, 0);
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_DOE, 1, 0x140);
	ext_cap(&emu, 0x140, PCITSM_ECAP_ID_IDE, 1, 0x180);
	ext_cap(&emu, 0x180, PCITSM_ECAP_ID_DOE, 2, 0);
	assert_ok(pcitsm_cap_find(&emu.cfg, PCITSM_CAP_ID_EXP, &off));
	assert_int_equal(off, 0x60);
	assert_err(pcitsm_cap_find(&emu.cfg, PCITSM_CAP_ID_PM, &off), PCITSM_E_NOTFOUND);
	assert_ok(pcitsm_ecap_find(&emu.cfg, PCITSM_ECAP_ID_DOE, 0, &off));
	assert_int_equal(off, 0x100);
	assert_ok(pcitsm_ecap_find(&emu.cfg, PCITSM_ECAP_ID_DOE, 1, &off));
	assert_int_equal(off, 0x180);
	assert_err(pcitsm_ecap_find(&emu.cfg, PCITSM_ECAP_ID_DOE, 2, &off), PCITSM_E_NOTFOUND);
	/* A broken standard list does not hide extended capabilities. */
	std_cap(&emu, 0x60, PCITSM_CAP_ID_EXP, 0x60);
	assert_ok(pcitsm_ecap_find(&emu.cfg, PCITSM_ECAP_ID_IDE, 0, &off));
	assert_int_equal(off, 0x140);
}

static void identity(void **state)
{
	struct pcitsm_pci_id id;

	base(&emu, 4096, 0x40);
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_REVISION, 4, 0x12000103u); /* class 120001, rev 3 */
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_HEADER_TYPE, 1, 0x80);
	std_cap(&emu, 0x40, PCITSM_CAP_ID_EXP, 0);
	pcitsm_cfg_emu_poke(&emu, 0x40 + PCITSM_EXP_FLAGS, 2, 0x0042); /* type 4: root port */
	pcitsm_cfg_emu_poke(&emu, 0x40 + PCITSM_EXP_DEVCAP, 4, PCITSM_EXP_DEVCAP_TEE | 0x8000);
	pcitsm_cfg_emu_poke(&emu, 0x40 + PCITSM_EXP_LNKCAP, 4, 0x07000000u | 0x4411);
	assert_ok(pcitsm_pci_read_id(&emu.cfg, &id));
	assert_int_equal(id.vendor, 0x1234);
	assert_int_equal(id.device, 0xabcd);
	assert_int_equal(id.class_code, 0x120001);
	assert_int_equal(id.revision, 3);
	assert_int_equal(id.header_type, 0x80);
	assert_int_equal(id.exp_type, PCITSM_EXP_TYPE_ROOT_PORT);
	assert_true(id.tee_io);
	assert_int_equal(id.port_number, 7);

	/* No PCIe capability. */
	std_cap(&emu, 0x40, PCITSM_CAP_ID_PM, 0);
	assert_ok(pcitsm_pci_read_id(&emu.cfg, &id));
	assert_int_equal(id.exp_type, -1);
	assert_false(id.tee_io);
	/* The PCIe capability cannot sit at 0xfc (it would run past 256). */
	base(&emu, 4096, 0xfc);
	std_cap(&emu, 0xfc, PCITSM_CAP_ID_EXP, 0);
	assert_err(pcitsm_pci_read_id(&emu.cfg, &id), PCITSM_E_RANGE);
	/* Nothing answers. */
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_VENDOR_ID, 2, 0xffff);
	assert_err(pcitsm_pci_read_id(&emu.cfg, &id), PCITSM_E_NOTFOUND);
	/* A Virtual Function: 0xFFFF IDs over a real class code (PCIe 6.x §9.3.4.1.1, .2). */
	base(&emu, 4096, 0x40);
	std_cap(&emu, 0x40, PCITSM_CAP_ID_EXP, 0);
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_VENDOR_ID, 4, 0xffffffffu);
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_REVISION, 4, 0x12000001u);
	assert_ok(pcitsm_pci_read_id(&emu.cfg, &id));
	assert_true(id.vf);
	assert_int_equal(id.vendor, 0xffff);
	assert_int_equal(id.device, 0xffff);
	assert_int_equal(id.class_code, 0x120000);
	assert_int_equal(id.exp_type, PCITSM_EXP_TYPE_ENDPOINT);
	/* ... but all ones is no function, and a Device ID alone is not a VF. */
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_REVISION, 4, 0xffffffffu);
	assert_err(pcitsm_pci_read_id(&emu.cfg, &id), PCITSM_E_NOTFOUND);
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_REVISION, 4, 0x12000001u);
	pcitsm_cfg_emu_poke(&emu, PCITSM_CFG_DEVICE_ID, 2, 0x0003);
	assert_err(pcitsm_pci_read_id(&emu.cfg, &id), PCITSM_E_NOTFOUND);
}

static void doe_and_dev3(void **state)
{
	struct pcitsm_doe_capinfo d;
	struct pcitsm_dev3_info d3;

	base(&emu, 4096, 0);
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_DOE, 2, 0x200);
	pcitsm_cfg_emu_poke(&emu, 0x104, 4, 1 | 5u << 1 | 1u << 12 | 1u << 13);
	ext_cap(&emu, 0x200, PCITSM_ECAP_ID_DEV3, 1, 0);
	pcitsm_cfg_emu_poke(&emu, 0x20c, 4, PCITSM_DEV3_STA_SEGMENT);
	assert_ok(pcitsm_doe_cap_read(&emu.cfg, 0x100, &d));
	assert_int_equal(d.version, 2);
	assert_true(d.irq);
	assert_int_equal(d.irq_msg, 5);
	assert_true(d.attention);
	assert_true(d.async);
	assert_err(pcitsm_doe_cap_read(&emu.cfg, 0x200, &d), PCITSM_E_FIELD);
	assert_err(pcitsm_doe_cap_read(&emu.cfg, 0x0fc, &d), PCITSM_E_RANGE);
	assert_err(pcitsm_doe_cap_read(&emu.cfg, 0x102, &d), PCITSM_E_RANGE);
	assert_err(pcitsm_doe_cap_read(&emu.cfg, 0xff0, &d), PCITSM_E_RANGE);
	assert_ok(pcitsm_dev3_read(&emu.cfg, 0x200, &d3));
	assert_true(d3.segment_captured);
	assert_int_equal(d3.sta_raw, PCITSM_DEV3_STA_SEGMENT);
	assert_err(pcitsm_dev3_read(&emu.cfg, 0x100, &d3), PCITSM_E_FIELD);
}

static void ide_ctl_roundtrip(void **state)
{
	struct pcitsm_ide_stream_ctl c = { .enable = true, .pcrc = true, .cfg_en = true,
					   .default_stream = true, .tee_limited = true,
					   .agg_npr = 1, .agg_pr = 2, .agg_cpl = 3, .phe = 4,
					   .alg = 0, .tc = 5, .stream_id = 0xa7 };
	struct pcitsm_ide_stream_ctl d;
	uint32_t v = pcitsm_ide_ctl_encode(&c);

	/* 0 EN, 3:2 NPR=1, 5:4 PR=2, 7:6 CPL=3, 8 PCRC, 9 CFG, 13:10 PHE=4, 21:19 TC=5,
	 * 22 default, 23 TEE-limited, 31:24 ID. */
	assert_int_equal(v, 0x1u | 1u << 2 | 2u << 4 | 3u << 6 | 1u << 8 | 1u << 9 | 4u << 10 |
				    5u << 19 | 1u << 22 | 1u << 23 | 0xa7u << 24);
	pcitsm_ide_ctl_decode(v, &d);
	assert_memory_equal(&c, &d, sizeof(c));
	pcitsm_ide_ctl_decode(0x1fu << 14 | 2, &d);
	assert_int_equal(d.alg, 0x1f);
	assert_true(d.xt);
	assert_false(d.enable);
}

/* IDE capability at 0x200: 2 link blocks, 3 selective blocks with 1, 2 and 0 address blocks. */
static void ide_setup(void)
{
	uint32_t sel0 = 0x200 + 0x0c + 2 * 8;

	base(&emu, 4096, 0);
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_DOE, 1, 0x200);
	ext_cap(&emu, 0x200, PCITSM_ECAP_ID_IDE, 1, 0);
	pcitsm_cfg_emu_poke(&emu, 0x204, 4, PCITSM_IDE_CAP_LINK | PCITSM_IDE_CAP_SEL |
					     PCITSM_IDE_CAP_IDE_KM | PCITSM_IDE_CAP_TEE_LIMITED |
					     1u << 13 | 2u << 16);
	pcitsm_cfg_emu_poke(&emu, 0x208, 4, 0x4);
	pcitsm_cfg_emu_poke(&emu, 0x20c + 8 + 4, 4, PCITSM_IDE_STATE_SECURE | 0x80000000u);
	pcitsm_cfg_emu_poke(&emu, sel0, 4, 1);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20, 4, 2);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + 0x2c, 4, 0);
	/* Block 1: control, status, RIDs, two address associations. */
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_CTL, 4, 0x05000001u);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_STS, 4, 2);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_RID1, 4, 0x0001ff00u);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_RID2, 4, 0x03010001u);
	/* addr 0: valid, base lower 0x801 (bits 31:20), limit lower 0x8ff; upper base 1,
	 * upper limit 2. */
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_ADDR1(0), 4, 0x8ff80101u);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_ADDR2(0), 4, 2);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_ADDR3(0), 4, 1);
	pcitsm_cfg_emu_poke(&emu, sel0 + 0x20 + PCITSM_IDE_SEL_ADDR1(1), 4, 0);
}

static void ide_decode(void **state)
{
	struct pcitsm_ide_info ide;
	struct pcitsm_ide_sel sel;
	uint32_t sel0 = 0x200 + 0x0c + 2 * 8;

	ide_setup();
	assert_ok(pcitsm_ide_read(&emu.cfg, 0x200, &ide));
	assert_true(ide.link_sup);
	assert_true(ide.sel_sup);
	assert_true(ide.ide_km_sup);
	assert_true(ide.tee_limited_sup);
	assert_false(ide.pcrc_sup);
	assert_true(ide.flowthrough_en);
	assert_int_equal(ide.nr_link, 2);
	assert_int_equal(ide.nr_sel, 3);
	assert_int_equal(ide.link[0].off, 0x20c);
	assert_int_equal(ide.link[1].state, PCITSM_IDE_STATE_SECURE);
	assert_true(ide.link[1].recvd_fail);
	/* Sequential walk: 0x14 + 12, then 0x14 + 24. */
	assert_int_equal(ide.sel_off[0], sel0);
	assert_int_equal(ide.sel_off[1], sel0 + 0x20);
	assert_int_equal(ide.sel_off[2], sel0 + 0x20 + 0x2c);

	assert_ok(pcitsm_ide_sel_read(&emu.cfg, &ide, 1, &sel));
	assert_int_equal(sel.nr_addr, 2);
	assert_true(sel.ctl.enable);
	assert_int_equal(sel.ctl.stream_id, 5);
	assert_int_equal(sel.state, PCITSM_IDE_STATE_SECURE);
	assert_int_equal(sel.rid_limit, 0x01ff);
	assert_true(sel.rid_valid);
	assert_int_equal(sel.rid_base, 0x0100);
	assert_int_equal(sel.seg_base, 3);
	assert_true(sel.addr[0].valid);
	assert_true(sel.addr[0].base == 0x0000000180100000ull);
	assert_true(sel.addr[0].limit == 0x000000028fffffffull);
	assert_false(sel.addr[1].valid);
	assert_true(sel.addr[1].limit == 0xfffffull);
	assert_err(pcitsm_ide_sel_read(&emu.cfg, &ide, 3, &sel), PCITSM_E_INVAL);

	/* The device grows block 2 after the walk so it runs past 4 KiB: re-checked. */
	pcitsm_cfg_emu_poke(&emu, 0x200, 4, PCITSM_ECAP_ID_IDE | 1u << 16);
	ide.sel_off[2] = 0xfe0;
	pcitsm_cfg_emu_poke(&emu, 0xfe0, 4, 15);
	assert_err(pcitsm_ide_sel_read(&emu.cfg, &ide, 2, &sel), PCITSM_E_RANGE);
}

static void ide_hostile(void **state)
{
	struct pcitsm_ide_info ide;

	/* 256 selective blocks of 20 bytes cannot fit in 4 KiB. */
	base(&emu, 4096, 0);
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_IDE, 1, 0);
	pcitsm_cfg_emu_poke(&emu, 0x104, 4, PCITSM_IDE_CAP_SEL | 0xffu << 16);
	assert_err(pcitsm_ide_read(&emu.cfg, 0x100, &ide), PCITSM_E_RANGE);
	/* Two blocks, the second with 15 address blocks (200 bytes) starting near the end. */
	pcitsm_cfg_emu_poke(&emu, 0x104, 4, PCITSM_IDE_CAP_SEL | 1u << 16);
	pcitsm_cfg_emu_poke(&emu, 0x10c, 4, 15);
	for (unsigned i = 0; i < 20; i++)
		pcitsm_cfg_emu_poke(&emu, 0x10c + 200 * i, 4, 15);
	assert_ok(pcitsm_ide_read(&emu.cfg, 0x100, &ide));
	/* 19 blocks of 200 bytes from 0x10c end at 0xfe4; a 20th runs past 4 KiB. */
	pcitsm_cfg_emu_poke(&emu, 0x104, 4, PCITSM_IDE_CAP_SEL | 19u << 16);
	assert_err(pcitsm_ide_read(&emu.cfg, 0x100, &ide), PCITSM_E_RANGE);
	pcitsm_cfg_emu_poke(&emu, 0x104, 4, PCITSM_IDE_CAP_SEL | 18u << 16);
	assert_ok(pcitsm_ide_read(&emu.cfg, 0x100, &ide));
	assert_int_equal(ide.nr_sel, 19);
	assert_int_equal(ide.sel_off[18], 0x10c + 200 * 18);

	/* Link blocks past the end, the header itself past the end, not an IDE capability. */
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_IDE, 1, 0xff0);
	ext_cap(&emu, 0xff0, PCITSM_ECAP_ID_IDE, 1, 0);
	pcitsm_cfg_emu_poke(&emu, 0xff4, 4, PCITSM_IDE_CAP_LINK | 7u << 13);
	assert_err(pcitsm_ide_read(&emu.cfg, 0xff0, &ide), PCITSM_E_RANGE);
	assert_err(pcitsm_ide_read(&emu.cfg, 0xff8, &ide), PCITSM_E_RANGE);
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_DOE, 1, 0);
	assert_err(pcitsm_ide_read(&emu.cfg, 0x100, &ide), PCITSM_E_FIELD);
	/* Selective not supported: no blocks even if the count field says otherwise. */
	ext_cap(&emu, 0x100, PCITSM_ECAP_ID_IDE, 1, 0);
	pcitsm_cfg_emu_poke(&emu, 0x104, 4, 0xffu << 16);
	assert_ok(pcitsm_ide_read(&emu.cfg, 0x100, &ide));
	assert_int_equal(ide.nr_sel, 0);
	assert_int_equal(ide.nr_link, 0);
}

int main(void)
{
	return test_run(list_in_order, std_hostile, ext_hostile, find_nth, identity, doe_and_dev3,
		        ide_ctl_roundtrip, ide_decode, ide_hostile);
}
