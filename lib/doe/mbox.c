/* SPDX-License-Identifier: MIT */
/*
 * The DOE capability's registers on an emulated config space (PCIe 6.x §7.9.24, §6.30.2): the
 * device end of a mailbox, so the host driver (and a real program through pcitsmd's config file)
 * drives an emulated device with the same register sequence as real hardware.
 *
 *   +0x00 header (RO)  +0x04 Capabilities (RO, no interrupts)  +0x08 Control (Abort, Go)
 *   +0x0c Status (Busy, Error, Data Object Ready)  +0x10 Write mailbox  +0x14 Read mailbox
 */
#include <stdlib.h>
#include <string.h>

#include "doe/internal.h"

#define DOE_CTRL_RW_MASK (PCITSM_DOE_CTRL_INT_EN | 0xcu) /* Int Enable, Attention, Async Enable */

/* Bytes of a DW covered by an access of width at byte offset (off & 3), as a bit mask. */
static uint32_t byte_mask(uint32_t off, unsigned width)
{
	uint32_t m = width == 4 ? 0xffffffffu : ((1u << (8 * width)) - 1);

	return m << (8 * (off & 3));
}

static void mbox_reset(struct pcitsm_doe_mbox *m)
{
	m->wlen = 0;
	m->rlen = 0;
	m->rpos = 0;
	m->ready = false;
	m->error = false;
	m->busy_left = 0;
}

static uint32_t mbox_status(struct pcitsm_doe_mbox *m)
{
	uint32_t v = m->error ? PCITSM_DOE_STATUS_ERROR : 0;

	if (m->fault_no_abort)
		return v | PCITSM_DOE_STATUS_BUSY;
	if (m->busy_left) {
		m->busy_left--;
		return v | PCITSM_DOE_STATUS_BUSY;
	}
	return v | (m->ready ? PCITSM_DOE_STATUS_READY : 0);
}

/* Host-order DWs to the little-endian byte stream the object is (in place), and back. */
static void dws_to_bytes(uint32_t *dw, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		pcitsm_put_le32((uint8_t *)&dw[i], dw[i]);
}

static void bytes_to_dws(uint32_t *dw, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dw[i] = pcitsm_get_le32((const uint8_t *)&dw[i]);
}

/* Go (PCIe 6.x §6.30.2): the device takes the object written so far and answers synchronously. */
static void mbox_go(struct pcitsm_doe_mbox *m)
{
	size_t out = 0;
	uint32_t n = m->wlen;
	pcitsm_err e;

	m->wlen = 0;
	if (m->error)
		return;
	/* Go while Busy, or an object shorter than its header: Error (PCIe 6.x §6.30.2). */
	if (m->busy_left || n < 2) {
		m->error = true;
		return;
	}
	m->ready = false;
	m->rlen = m->rpos = 0;
	dws_to_bytes(m->wbuf, n);
	e = pcitsm_doe_dev_dispatch(m->dev, (const uint8_t *)m->wbuf, (size_t)n * 4,
				    (uint8_t *)m->rbuf, (size_t)m->max_obj_dw * 4, &out);
	/* Discarded or unanswerable objects get no response: the requester times out (PCIe 6.x
	 * §6.30.1). */
	if (e || m->fault_no_response)
		return;
	m->rlen = (uint32_t)(out / 4);
	bytes_to_dws(m->rbuf, m->rlen);
	if (m->fault_wrong_type)
		m->rbuf[0] ^= 0x00ff0000u;
	m->ready = true;
	m->busy_left = m->busy_polls;
}

static void mbox_control(struct pcitsm_doe_mbox *m, uint32_t val, uint32_t bytes)
{
	uint32_t ctrl = pcitsm_cfg_emu_peek(m->cfg, m->off + PCITSM_DOE_CTRL, 4);

	/* Abort (bit 0) and Go (bit 31) read as 0; the rest are plain RW bits. */
	ctrl = (ctrl & ~(DOE_CTRL_RW_MASK & bytes)) | (val & DOE_CTRL_RW_MASK & bytes);
	pcitsm_cfg_emu_poke(m->cfg, m->off + PCITSM_DOE_CTRL, 4, ctrl);
	if ((bytes & val & PCITSM_DOE_CTRL_ABORT) && !m->fault_no_abort) {
		mbox_reset(m);
		return;
	}
	if (bytes & val & PCITSM_DOE_CTRL_GO)
		mbox_go(m);
}

static void mbox_write_data(struct pcitsm_doe_mbox *m, uint32_t val)
{
	if (m->error)
		return;
	/* Write-mailbox overflow sets Error (PCIe 6.x §6.30.2). */
	if (m->wlen >= m->max_obj_dw) {
		m->error = true;
		return;
	}
	m->wbuf[m->wlen++] = val;
}

/* A write of any value to the Read mailbox acknowledges the current DW (PCIe 6.x §7.9.24). */
static void mbox_ack(struct pcitsm_doe_mbox *m)
{
	if (!m->ready)
		return;
	if (++m->rpos >= m->rlen) {
		m->ready = false;
		m->rlen = m->rpos = 0;
	}
}

static pcitsm_err mbox_hook_read(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off,
				 unsigned width, uint32_t *val)
{
	struct pcitsm_doe_mbox *m = arg;
	uint32_t reg = (off - m->off) & ~3u, dw;

	switch (reg) {
	case PCITSM_DOE_STATUS:
		dw = mbox_status(m);
		break;
	case PCITSM_DOE_WRITE:
	case PCITSM_DOE_READ:
		/* Mailboxes are whole-DW registers; a partial access sets Error (PCIe 6.x
		 * §7.9.24). */
		if (width != 4) {
			m->error = true;
			dw = 0;
		} else {
			dw = reg == PCITSM_DOE_READ && m->ready && m->rpos < m->rlen ?
				     m->rbuf[m->rpos] : 0;
		}
		break;
	default: /* header, Capabilities, Control: the backing store */
		dw = pcitsm_cfg_emu_peek(emu, m->off + reg, 4);
		break;
	}
	*val = (dw & byte_mask(off, width)) >> (8 * (off & 3));
	return PCITSM_OK;
}

static pcitsm_err mbox_hook_write(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off,
				  unsigned width, uint32_t val)
{
	struct pcitsm_doe_mbox *m = arg;
	uint32_t reg = (off - m->off) & ~3u, bytes = byte_mask(off, width);
	uint32_t dw = val << (8 * (off & 3));

	switch (reg) {
	case PCITSM_DOE_CTRL:
		mbox_control(m, dw, bytes);
		break;
	case PCITSM_DOE_WRITE:
	case PCITSM_DOE_READ:
		if (width != 4)
			m->error = true;
		else if (reg == PCITSM_DOE_WRITE)
			mbox_write_data(m, val);
		else
			mbox_ack(m);
		break;
	default: /* header, Capabilities: read-only; Status: no interrupts, nothing to clear */
		break;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_doe_mbox_init(struct pcitsm_doe_mbox *m, struct pcitsm_cfg_emu *cfg, uint16_t off,
				uint16_t next_cap, uint8_t cap_version, struct pcitsm_doe_dev *dev,
				uint32_t max_obj_dw)
{
	struct pcitsm_cfg_hook hook = {
		.off = off,
		.len = PCITSM_DOE_CAP_SIZE,
		.read = mbox_hook_read,
		.write = mbox_hook_write,
		.arg = m,
	};
	pcitsm_err e;

	if (!m || !cfg || !dev || cfg->cfg.size < PCITSM_CFG_SIZE_EXT)
		return PCITSM_E_INVAL;
	if (off < PCITSM_CFG_EXT_START || (off & 3) || (next_cap & 3) || next_cap > 0xffc ||
	    !cap_version || cap_version > 0xf)
		return PCITSM_E_INVAL;
	/* Room for at least a header and a Discovery response; at most 2^18 DW (PCIe 6.x
	 * §6.30.1). */
	if (max_obj_dw < 4 || max_obj_dw > PCITSM_DOE_MAX_DW)
		return PCITSM_E_INVAL;
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->off = off;
	m->dev = dev;
	m->max_obj_dw = max_obj_dw;
	m->wbuf = calloc(max_obj_dw, sizeof(uint32_t));
	m->rbuf = calloc(max_obj_dw, sizeof(uint32_t));
	if (!m->wbuf || !m->rbuf) {
		pcitsm_doe_mbox_free(m);
		return PCITSM_E_NOMEM;
	}
	e = pcitsm_cfg_emu_add_hook(cfg, &hook);
	if (e) {
		pcitsm_doe_mbox_free(m);
		return e;
	}
	/* Header: ID [15:0], version [19:16], next [31:20]. */
	pcitsm_cfg_emu_poke(cfg, off, 4, PCITSM_ECAP_ID_DOE | (uint32_t)cap_version << 16 |
					     (uint32_t)next_cap << 20);
	pcitsm_cfg_emu_poke(cfg, off + PCITSM_DOE_CAP, 4, 0);
	pcitsm_cfg_emu_poke(cfg, off + PCITSM_DOE_CTRL, 4, 0);
	dev->max_obj_dw = pcitsm_doe_len_field(max_obj_dw);
	return PCITSM_OK;
}

void pcitsm_doe_mbox_free(struct pcitsm_doe_mbox *m)
{
	if (!m)
		return;
	free(m->wbuf);
	free(m->rbuf);
	m->wbuf = m->rbuf = NULL;
	m->wlen = m->rlen = m->rpos = 0;
	m->ready = false;
}
