/* SPDX-License-Identifier: MIT */
/*
 * Fuzz: the host side of the DOE mailbox (lib/doe/host.c) against a device whose registers lie
 * (docs/doe.md, "A device that lies"). The device is a hook on the emulated config space's DOE
 * registers that answers from the input, in the order the host reads:
 *
 *   byte 0   bit 0: capability version 2; bits 1-2: exchanges after the take-over (CMA, secured
 *            CMA, Discovery); bits 3-5: their response buffer, 8 << n bytes
 *   Status   one byte: bit 0 Busy, 1 Error, 2 Data Object Ready, 3 Interrupt; bit 7 holds the
 *            value until the host next writes Control ("Busy forever", "Ready forever")
 *   Read     four bytes, little-endian (the header's Length field among them)
 *   past the end, Status reads 0 and the Read mailbox 0.
 *
 * The host must stay within its bounds between two Control writes: at most 1 s of polls on the
 * env's clock (no real sleep) and a number of accesses linear in its buffer plus the drain bound;
 * every failure but truncation is followed by an Abort. tests/fuzz/gen_doe_host_corpus.py writes
 * the corpus: well-behaved devices answering every kind (Discovery v1/v2, CMA, secured CMA) and
 * each lie of docs/doe.md.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/doe.h"

#define MBOX 0x100u
/* lib/doe/host.c's drain bound and docs/doe.md: at most 1024 DWs past the caller's buffer. */
#define DRAIN_DW 1024u

struct liar {
	const uint8_t *p;
	size_t n;
	uint32_t held;
	bool hold;
	unsigned aborts;
	unsigned long seg_accesses, seg_limit; /* since the last Control write, and its bound */
	uint64_t seg_t0;
	struct pcitsm_env_test t;
};

static uint32_t take(struct liar *l, size_t k)
{
	uint8_t b[4] = { 0 };
	size_t m = k < l->n ? k : l->n;

	memcpy(b, l->p, m);
	l->p += m;
	l->n -= m;
	return pcitsm_get_le32(b);
}

/* Every access: within the segment's access bound and 1 s (plus the poll that saw it) of time. */
static void account(struct liar *l)
{
	if (++l->seg_accesses > l->seg_limit)
		abort();
	if (l->t.clock_ns - l->seg_t0 > PCITSM_DOE_TIMEOUT_NS + 2 * PCITSM_DOE_POLL_NS)
		abort();
}

static pcitsm_err liar_read(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off, unsigned width,
			    uint32_t *val)
{
	struct liar *l = arg;
	uint32_t b;

	account(l);
	switch (off - MBOX) {
	case PCITSM_DOE_STATUS:
		if (l->hold) {
			*val = l->held;
			return PCITSM_OK;
		}
		b = take(l, 1);
		*val = (b & 1 ? PCITSM_DOE_STATUS_BUSY : 0) | (b & 2 ? PCITSM_DOE_STATUS_ERROR : 0) |
		       (b & 4 ? PCITSM_DOE_STATUS_READY : 0) | (b & 8 ? PCITSM_DOE_STATUS_INT : 0);
		l->hold = b & 0x80;
		l->held = *val;
		return PCITSM_OK;
	case PCITSM_DOE_READ:
		*val = take(l, 4);
		return PCITSM_OK;
	default:
		*val = 0;
		return PCITSM_OK;
	}
}

static pcitsm_err liar_write(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off, unsigned width,
			     uint32_t val)
{
	struct liar *l = arg;

	account(l);
	if (off - MBOX == PCITSM_DOE_CTRL) {
		l->hold = false;
		l->aborts += !!(val & PCITSM_DOE_CTRL_ABORT);
		l->seg_accesses = 0;
		l->seg_t0 = l->t.clock_ns;
	}
	return PCITSM_OK;
}

/* Between two Control writes: 129 polls, a 4-byte request, and the response: header, the
 * buffer's DWs, the drain, a Status read every 64 DWs and at the end, each DW read and acked. */
static unsigned long seg_limit(size_t cap)
{
	unsigned long dws = 2 + cap / 4 + 1 + DRAIN_DW;

	return 2 * PCITSM_DOE_TIMEOUT_NS / PCITSM_DOE_POLL_NS + 16 + 2 * dws + dws / 64 + 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[] = { PCITSM_DOE_TYPE_CMA, PCITSM_DOE_TYPE_SECURED_CMA,
					 PCITSM_DOE_TYPE_DISCOVERY };
	static struct pcitsm_cfg_emu emu;
	static struct pcitsm_doe_host h;
	static uint8_t rsp[1024];
	struct liar l = { .p = data, .n = size };
	struct pcitsm_cfg_hook hook = { .off = MBOX + PCITSM_DOE_CTRL, .len = 0x10,
					.read = liar_read, .write = liar_write, .arg = &l };
	uint8_t cfg = size ? data[0] : 0, req[4] = { 0x10, 0x84, 0, 0 };
	size_t cap = (size_t)8 << ((cfg >> 3) & 7), n;

	if (size) {
		l.p++;
		l.n--;
	}
	pcitsm_env_test_init(&l.t, 1);
	l.t.env.log = NULL; /* the host's warnings would flood the fuzzer's output */
	l.seg_t0 = l.t.clock_ns;
	l.seg_limit = seg_limit(8); /* take-over: Discovery's 8-byte buffer */
	pcitsm_cfg_emu_init(&emu, PCITSM_CFG_SIZE_EXT);
	pcitsm_cfg_emu_poke(&emu, MBOX, 4, PCITSM_ECAP_ID_DOE | (cfg & 1 ? 2u : 1u) << 16);
	if (pcitsm_cfg_emu_add_hook(&emu, &hook))
		abort();
	/* A failed take-over still leaves a host to exchange on (dead or not): keep going. */
	if (pcitsm_doe_host_init(&h, &emu.cfg, MBOX, &l.t.env) == PCITSM_E_DEAD && !h.dead)
		abort();
	l.seg_limit = seg_limit(cap);
	for (unsigned k = 0; k < ((cfg >> 1) & 3u); k++) {
		unsigned aborts = l.aborts;
		bool was_dead = h.dead;
		pcitsm_err e;

		e = pcitsm_xport_exchange(&h.x, PCITSM_DOE_VID_PCISIG, types[k % 3], req, sizeof(req),
					  rsp, cap, &n);
		if (n > cap || (e != PCITSM_OK && e != PCITSM_E_TRUNCATED && n))
			abort();
		if (was_dead && e != PCITSM_E_DEAD)
			abort();
		/* Every failure but truncation leaves the mailbox aborted (or dead). */
		if (e != PCITSM_OK && e != PCITSM_E_TRUNCATED && !was_dead && l.aborts == aborts)
			abort();
	}
	return 0;
}
