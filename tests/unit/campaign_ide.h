/* SPDX-License-Identifier: MIT */
/*
 * TEST ONLY: what the IDE link campaigns share (docs/security.md "The IDE tamper campaign" and
 * "The interposer campaign"): the trial count from the environment, and where the parts of an IDE
 * TLP sit in a frame on the wire, for an interposer that flips a bit of one part.
 *
 * Non-flit-mode IDE TLP on the wire (PCIe 6.x §6.33 IDE TLP format; docs/ide-wire-format.md):
 *   [IDE TLP Prefix, 1 DW] [PASID TLP Prefix, 1 DW, memory requests with a PASID (PCIe 6.x
 *   §6.20.2)] [header, 3 or 4 DW] [payload] [PCRC, 1 DW, if P] [MAC, 3 DW, if M]
 */
#ifndef PCITSM_TEST_CAMPAIGN_IDE_H
#define PCITSM_TEST_CAMPAIGN_IDE_H

#include <stdlib.h>

#include "pcitsm/ide.h"
#include "testutil.h"

#define CAMPAIGN_TRIALS_MAX 100000000ul

/* A count from the environment (dflt when unset or empty); anything but a number fails the test. */
static inline unsigned campaign_count(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long x;

	if (!v || !*v)
		return dflt;
	x = strtoul(v, &end, 0);
	if (*end || x > CAMPAIGN_TRIALS_MAX)
		fail_msg("%s=%s: not a count", name, v);
	return (unsigned)x;
}

enum campaign_part {
	PART_PREFIX,  /* the IDE TLP Prefix (its T bit included) */
	PART_PASID,   /* the PASID TLP Prefix (empty when the TLP has none) */
	PART_HEADER,  /* the TLP header (AAD) */
	PART_PAYLOAD, /* the encrypted payload with its PCRC (empty for none) */
	PART_MAC,     /* the MAC (empty on a TLP inside an aggregated unit) */
};

/* [*lo, *hi) of part `part` in the IDE TLP fr; false when the part is empty there. */
static inline bool campaign_part_range(const struct pcitsm_ide_frame *fr, enum campaign_part part,
				       size_t *lo, size_t *hi)
{
	size_t h = PCITSM_TLP_PREFIX_LEN, hl;
	bool m = fr->data[PCITSM_IDE_PFX_FLAGS_BYTE] & PCITSM_IDE_PFX_M;

	if (fr->len > h && fr->data[h] == PCITSM_TLP_PFX_PASID)
		h += PCITSM_TLP_PREFIX_LEN;
	hl = fr->len > h && fr->data[h] & 0x20 ? 16 : 12; /* Fmt bit 0: 4-DW header */
	switch (part) {
	case PART_PREFIX:
		*lo = 0, *hi = PCITSM_TLP_PREFIX_LEN;
		break;
	case PART_PASID:
		*lo = PCITSM_TLP_PREFIX_LEN, *hi = h;
		break;
	case PART_HEADER:
		*lo = h, *hi = h + hl;
		break;
	case PART_PAYLOAD:
		*lo = h + hl, *hi = fr->len - (m ? PCITSM_IDE_MAC_LEN : 0);
		break;
	default:
		*lo = m ? fr->len - PCITSM_IDE_MAC_LEN : fr->len, *hi = fr->len;
		break;
	}
	return *lo < *hi && *hi <= fr->len;
}

/* Flip bit r (any number: taken modulo the part's bits) of [lo, hi) of fr. */
static inline void campaign_flip(struct pcitsm_ide_frame *fr, size_t lo, size_t hi, uint32_t r)
{
	size_t bit = lo * 8 + r % ((hi - lo) * 8);

	fr->data[bit / 8] ^= (uint8_t)(1u << bit % 8);
}

/* The sub-stream in fr's IDE TLP Prefix. */
static inline enum pcitsm_ide_sub campaign_sub(const struct pcitsm_ide_frame *fr)
{
	uint8_t flags = fr->data[PCITSM_IDE_PFX_FLAGS_BYTE];

	return (enum pcitsm_ide_sub)(flags >> PCITSM_IDE_PFX_SUB_SHIFT & PCITSM_IDE_PFX_SUB_MASK);
}

/* A reorder's second half, in a tap: when fr (leaving side `from`) is an IDE TLP with a MAC, the
 * last of its unit, of a sub-stream in mask (bit per sub-stream), it goes on the wire now and the
 * held frames right after it (a unit overtakes whole: its verdict comes with its MAC); the tap
 * then drops fr (true). */
static inline bool campaign_release_after(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
					  const struct pcitsm_ide_frame *fr, unsigned mask)
{
	if (fr->data[0] != PCITSM_IDE_PFX_BYTE0 ||
	    !(fr->data[PCITSM_IDE_PFX_FLAGS_BYTE] & PCITSM_IDE_PFX_M) ||
	    !(mask & 1u << campaign_sub(fr)))
		return false;
	assert_ok(pcitsm_ide_wire_inject(w, from, fr->data, fr->len));
	pcitsm_ide_wire_release(w, from);
	return true;
}

#endif /* PCITSM_TEST_CAMPAIGN_IDE_H */
