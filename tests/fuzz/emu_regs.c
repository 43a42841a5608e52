/* SPDX-License-Identifier: MIT */
/* Fuzz the emulated ports' IDE registers and the engines they drive: records (op, side, offset u16
 * LE, value u32 LE) of config writes anywhere in the capability, reads, key installation through
 * the engines (as IDE_KM and the private root-port path do) and memory traffic across the link.
 * Invariant: a selective block's Status reads Secure only while its Enable and RID Valid are set. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/emu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_status(struct pcitsm_emu_func *f)
{
	struct pcitsm_ide_info ide;
	struct pcitsm_ide_sel sel;

	if (pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &ide))
		abort();
	for (unsigned i = 0; i < ide.nr_sel; i++) {
		if (pcitsm_ide_sel_read(&f->cfg.cfg, &ide, i, &sel))
			abort();
		if (sel.state == PCITSM_IDE_STATE_SECURE && (!sel.ctl.enable || !sel.rid_valid))
			abort();
	}
}

static void keys(struct pcitsm_emu_func *f, uint8_t id, uint8_t kset, uint8_t seed)
{
	uint8_t key[32], ifv[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };

	for (unsigned d = 0; d < 2; d++)
		for (unsigned s = 0; s < PCITSM_IDE_NR_SUB; s++) {
			memset(key, seed ^ (uint8_t)(d * 3 + s), sizeof(key));
			if (pcitsm_ide_key_prog(f->ide_port, id, kset & 1, (enum pcitsm_ide_dir)d,
						(enum pcitsm_ide_sub)s, key, ifv) == PCITSM_OK &&
			    pcitsm_ide_k_set_go(f->ide_port, id, kset & 1, (enum pcitsm_ide_dir)d,
						(enum pcitsm_ide_sub)s))
				continue;
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config cfg;
	struct pcitsm_env_test env;
	struct pcitsm_rd rd;
	uint8_t buf[256];

	pcitsm_env_test_init(&env, 3);
	env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_emu_config_default(&cfg);
	cfg.nr_ports = 1;
	if (pcitsm_emu_platform_init(&p, &cfg, &env.env))
		abort();
	pcitsm_rd_init(&rd, data, size);
	while (pcitsm_rd_left(&rd) >= 8) {
		uint8_t op = pcitsm_rd_u8(&rd), side = pcitsm_rd_u8(&rd) & 1;
		uint16_t off = pcitsm_rd_le16(&rd);
		uint32_t v = pcitsm_rd_le32(&rd), got;
		struct pcitsm_emu_func *f = &p.funcs[side ? 1 : 0];
		struct pcitsm_emu_link *l = &p.links[0];
		uint32_t at = f->ide_off + (off % 0x100u);
		size_t n = 4u * (1 + (v & 63));

		switch (op % 6) {
		case 0: /* a DW write inside the IDE capability */
			if (pcitsm_cfg_write32(&f->cfg.cfg, at & ~3u, v))
				abort();
			break;
		case 1: /* a narrower write */
			if (pcitsm_cfg_write(&f->cfg.cfg, at & ~1u, 2, v & 0xffff))
				abort();
			break;
		case 2:
			if (pcitsm_cfg_read32(&f->cfg.cfg, at & ~3u, &got))
				abort();
			break;
		case 3: /* keys for a Stream ID at one port */
			keys(f, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16));
			break;
		case 4: /* traffic from either side */
			memset(buf, (int)v, sizeof(buf));
			if (n > sizeof(buf))
				n = sizeof(buf);
			if (!pcitsm_emu_mem_write(l, side, l->side[!side].base + (off & 0xff0u), buf, n) &&
			    pcitsm_emu_mem_read(l, side, l->side[!side].base + (off & 0xff0u), buf, n))
				break;
			break;
		default: /* any config write elsewhere (header, PCIe capability, DOE) */
			if (pcitsm_cfg_write32(&f->cfg.cfg, off % PCITSM_CFG_SIZE_EXT & ~3u, v))
				abort();
			break;
		}
		check_status(&p.funcs[0]);
		check_status(&p.funcs[1]);
	}
	pcitsm_emu_platform_free(&p);
	return 0;
}
