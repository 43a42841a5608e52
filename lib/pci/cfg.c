/* SPDX-License-Identifier: MIT */
/*
 * The config-space accessor: checked wrappers in front of any backend, and the emulated register
 * file (per-bit RW / RW1C masks, read-only otherwise, hooks that own a DW-aligned range).
 */
#include <string.h>

#include "pcitsm/pci.h"

/* Width 1, 2 or 4, naturally aligned, inside the config space: checked before any backend runs. */
static pcitsm_err cfg_check(const struct pcitsm_cfg *cfg, uint32_t off, unsigned width)
{
	if (!cfg || !cfg->ops)
		return PCITSM_E_INVAL;
	if (width != 1 && width != 2 && width != 4)
		return PCITSM_E_INVAL;
	if (off & (width - 1))
		return PCITSM_E_INVAL;
	if (off >= cfg->size || cfg->size - off < width)
		return PCITSM_E_RANGE;
	return PCITSM_OK;
}

pcitsm_err pcitsm_cfg_read(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val)
{
	pcitsm_err e;

	if (!val)
		return PCITSM_E_INVAL;
	*val = 0;
	e = cfg_check(cfg, off, width);
	if (e)
		return e;
	if (!cfg->ops->read)
		return PCITSM_E_UNSUPPORTED;
	e = cfg->ops->read(cfg, off, width, val);
	if (e) {
		*val = 0;
		return e;
	}
	/* A backend must not hand back bits wider than the access. */
	if (width < 4)
		*val &= (1u << (8 * width)) - 1;
	return PCITSM_OK;
}

pcitsm_err pcitsm_cfg_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
{
	pcitsm_err e = cfg_check(cfg, off, width);

	if (e)
		return e;
	if (!cfg->ops->write)
		return PCITSM_E_UNSUPPORTED;
	if (width < 4 && (val >> (8 * width)))
		return PCITSM_E_INVAL;
	return cfg->ops->write(cfg, off, width, val);
}

pcitsm_err pcitsm_cfg_read8(struct pcitsm_cfg *cfg, uint32_t off, uint8_t *val)
{
	uint32_t v = 0;
	pcitsm_err e = pcitsm_cfg_read(cfg, off, 1, &v);

	if (val)
		*val = (uint8_t)v;
	return e;
}

pcitsm_err pcitsm_cfg_read16(struct pcitsm_cfg *cfg, uint32_t off, uint16_t *val)
{
	uint32_t v = 0;
	pcitsm_err e = pcitsm_cfg_read(cfg, off, 2, &v);

	if (val)
		*val = (uint16_t)v;
	return e;
}

pcitsm_err pcitsm_cfg_read32(struct pcitsm_cfg *cfg, uint32_t off, uint32_t *val)
{
	return pcitsm_cfg_read(cfg, off, 4, val);
}

pcitsm_err pcitsm_cfg_write8(struct pcitsm_cfg *cfg, uint32_t off, uint8_t val)
{
	return pcitsm_cfg_write(cfg, off, 1, val);
}

pcitsm_err pcitsm_cfg_write16(struct pcitsm_cfg *cfg, uint32_t off, uint16_t val)
{
	return pcitsm_cfg_write(cfg, off, 2, val);
}

pcitsm_err pcitsm_cfg_write32(struct pcitsm_cfg *cfg, uint32_t off, uint32_t val)
{
	return pcitsm_cfg_write(cfg, off, 4, val);
}

/* ---------------------------------------------------------------------------------------------
 * Emulated register file.
 */
static struct pcitsm_cfg_emu *to_emu(struct pcitsm_cfg *cfg)
{
	return pcitsm_container_of(cfg, struct pcitsm_cfg_emu, cfg);
}

/* The hook owning off, if any. A naturally aligned access of at most 4 bytes never straddles a
 * DW, so it is either wholly inside a DW-aligned hook range or wholly outside it. */
static const struct pcitsm_cfg_hook *emu_hook(const struct pcitsm_cfg_emu *emu, uint32_t off)
{
	for (unsigned i = 0; i < emu->nr_hooks; i++) {
		const struct pcitsm_cfg_hook *h = &emu->hooks[i];

		if (off >= h->off && off - h->off < h->len)
			return h;
	}
	return NULL;
}

static pcitsm_err emu_read(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val)
{
	struct pcitsm_cfg_emu *emu = to_emu(cfg);
	const struct pcitsm_cfg_hook *h = emu_hook(emu, off);

	if (h && h->read)
		return h->read(emu, h->arg, off, width, val);
	*val = pcitsm_cfg_emu_peek(emu, off, width);
	return PCITSM_OK;
}

static pcitsm_err emu_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
{
	struct pcitsm_cfg_emu *emu = to_emu(cfg);
	const struct pcitsm_cfg_hook *h = emu_hook(emu, off);

	if (h)
		return h->write ? h->write(emu, h->arg, off, width, val) : PCITSM_OK;
	for (unsigned i = 0; i < width; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t rw = emu->rw[off + i], rw1c = emu->rw1c[off + i];
		uint8_t cur = emu->val[off + i];

		/* RW bits take the written value, RW1C bits clear where a 1 is written, the rest
		 * (read-only) keep their value. */
		cur = (uint8_t)((cur & ~(rw & ~rw1c)) | (b & rw & ~rw1c));
		cur = (uint8_t)(cur & ~(b & rw1c));
		emu->val[off + i] = cur;
	}
	return PCITSM_OK;
}

static const struct pcitsm_cfg_ops emu_ops = {
	.read = emu_read,
	.write = emu_write,
};

void pcitsm_cfg_emu_init(struct pcitsm_cfg_emu *emu, uint32_t size)
{
	memset(emu, 0, sizeof(*emu));
	emu->cfg.ops = &emu_ops;
	emu->cfg.size = size == PCITSM_CFG_SIZE_LEGACY ? PCITSM_CFG_SIZE_LEGACY
						       : PCITSM_CFG_SIZE_EXT;
}

pcitsm_err pcitsm_cfg_emu_add_hook(struct pcitsm_cfg_emu *emu, const struct pcitsm_cfg_hook *hook)
{
	if (!emu || !hook || !hook->len || (hook->off & 3) || (hook->len & 3))
		return PCITSM_E_INVAL;
	if (hook->off >= emu->cfg.size || emu->cfg.size - hook->off < hook->len)
		return PCITSM_E_INVAL;
	for (unsigned i = 0; i < emu->nr_hooks; i++) {
		const struct pcitsm_cfg_hook *h = &emu->hooks[i];

		if (hook->off < h->off + h->len && h->off < hook->off + hook->len)
			return PCITSM_E_EXISTS;
	}
	if (emu->nr_hooks >= PCITSM_CFG_EMU_MAX_HOOKS)
		return PCITSM_E_EXHAUSTED;
	emu->hooks[emu->nr_hooks++] = *hook;
	return PCITSM_OK;
}

uint32_t pcitsm_cfg_emu_peek(const struct pcitsm_cfg_emu *emu, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width && i < 4; i++)
		if (off + i < emu->cfg.size)
			v |= (uint32_t)emu->val[off + i] << (8 * i);
	return v;
}

void pcitsm_cfg_emu_poke(struct pcitsm_cfg_emu *emu, uint32_t off, unsigned width, uint32_t val)
{
	for (unsigned i = 0; i < width && i < 4; i++)
		if (off + i < emu->cfg.size)
			emu->val[off + i] = (uint8_t)(val >> (8 * i));
}

void pcitsm_cfg_emu_mask(struct pcitsm_cfg_emu *emu, uint32_t off, unsigned width, uint32_t rw,
			 uint32_t rw1c)
{
	for (unsigned i = 0; i < width && i < 4; i++) {
		if (off + i >= emu->cfg.size)
			break;
		emu->rw[off + i] = (uint8_t)(rw >> (8 * i));
		emu->rw1c[off + i] = (uint8_t)(rw1c >> (8 * i));
	}
}
