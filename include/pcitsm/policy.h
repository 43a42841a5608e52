/* SPDX-License-Identifier: MIT */
/*
 * Acceptance policy of a TEE Device Interface: what a device's evidence must show before its
 * interface is started for a confidential VM (PCIe 6.x §11, START_INTERFACE_REQUEST is the
 * relying party's decision). A policy is a JSON file (docs/policy.md), untrusted input, naming
 *
 *   measurements     the expected value (a digest) of SPDM measurement blocks, by index
 *                    (DSP0274 GET_MEASUREMENTS);
 *   interface_info   the INTERFACE_INFO bits the interface report must have set;
 *   mmio             the interface report's MMIO ranges in order: BAR, offset from the BAR's first
 *                    range, size, attributes; addresses themselves differ from host to host and
 *                    are not pinned.
 *
 * An evaluation returns OK or E_MISMATCH with the first failing entry named in words
 * ("measurement 3: digest differs", "mmio range 2: BAR 0 size 0x4000, expected 0x8000").
 * `pcitsm policy make` writes the policy a device's evidence shows now (pcitsm_policy_make).
 */
#ifndef PCITSM_POLICY_H
#define PCITSM_POLICY_H

#include <json-c/json.h>

#include "pcitsm/core.h"
#include "pcitsm/spdm.h"
#include "pcitsm/tdisp.h"

#define PCITSM_POLICY_VERSION 1
#define PCITSM_POLICY_MAX_MEAS 64     /* measurement indexes are 1..254 */
#define PCITSM_POLICY_DIGEST_MAX 64   /* SHA-512 */
#define PCITSM_POLICY_MAX_MMIO PCITSM_TDISP_MAX_RANGES
#define PCITSM_POLICY_TEXT_MAX 65536  /* a larger file is refused */
#define PCITSM_POLICY_MAX_BLOCKS 255  /* blocks one MEASUREMENTS record may carry */

struct pcitsm_policy_meas {
	uint8_t index;
	uint8_t len;
	uint8_t digest[PCITSM_POLICY_DIGEST_MAX];
};
struct pcitsm_policy_mmio {
	uint8_t bar;
	uint64_t offset, size; /* bytes */
	uint16_t attrs;
};
struct pcitsm_policy {
	unsigned nr_meas;
	struct pcitsm_policy_meas meas[PCITSM_POLICY_MAX_MEAS];
	bool has_info;
	uint16_t info_required;
	bool has_mmio; /* absent: the layout is not checked; [] pins "no ranges" */
	unsigned nr_mmio;
	struct pcitsm_policy_mmio mmio[PCITSM_POLICY_MAX_MMIO];
};

/* Parse a policy file's text (len bytes, no NUL inside): one JSON object, strict, every key known,
 * "pcitsm_policy": 1. E_FIELD (why names the key and the fault), E_RANGE (too large, too many
 * entries), E_NOMEM. */
pcitsm_err pcitsm_policy_parse(const char *text, size_t len, struct pcitsm_policy *p, char *why,
			       size_t why_len) PCITSM_MUST_CHECK;

/* The evidence a policy is evaluated against: the measurement blocks (as pcitsm_spdm_meas_next
 * gives them) and the decoded interface report. */
struct pcitsm_policy_evidence {
	const struct pcitsm_spdm_meas_block *blocks;
	size_t nr_blocks;
	const struct pcitsm_tdisp_report *report;
};
/* OK, or E_MISMATCH with why naming the first failing entry: measurements in policy order, then
 * interface_info, then mmio ranges in order. E_INVAL: p or ev NULL. */
pcitsm_err pcitsm_policy_eval(const struct pcitsm_policy *p, const struct pcitsm_policy_evidence *ev,
			      char *why, size_t why_len) PCITSM_MUST_CHECK;

/* The policy the evidence shows: every digest block (DMTF raw-bit-stream blocks and values longer
 * than PCITSM_POLICY_DIGEST_MAX are left out, counted in *skipped when not NULL), the interface
 * info bits as reported, the MMIO layout. A new JSON object, or NULL (out of memory). */
json_object *pcitsm_policy_make(const struct pcitsm_policy_evidence *ev, const char *device,
				unsigned *skipped);

/* The MeasurementRecord inside a MEASUREMENTS response (DSP0274 1.3: SPDMVersion, 0x60, Param1,
 * Param2, NumberOfBlocks u8, MeasurementRecordLength u24, record, then nonce, opaque data and the
 * signature, which are not read here), and its blocks walked into blocks[max]: E_SHORT, E_FIELD
 * (not MEASUREMENTS, a block count that disagrees with NumberOfBlocks, two blocks of one index),
 * E_RANGE (more than max blocks), or what pcitsm_spdm_meas_next says of a block. */
pcitsm_err pcitsm_policy_meas_blocks(const uint8_t *rsp, size_t n,
				     struct pcitsm_spdm_meas_block *blocks, size_t max,
				     size_t *nr) PCITSM_MUST_CHECK;

/* The same walk over a bare MeasurementRecord (what pcitsmd's evidence/measurements holds):
 * E_FIELD for two blocks of one index, E_RANGE past max, what pcitsm_spdm_meas_next says of a
 * block. */
pcitsm_err pcitsm_policy_record_blocks(const uint8_t *record, size_t len,
				       struct pcitsm_spdm_meas_block *blocks, size_t max,
				       size_t *nr) PCITSM_MUST_CHECK;

/* "NO_FW_UPDATE", "DMA_NO_PASID", ...: the INTERFACE_INFO bit names (bit 0 upwards), and the
 * MMIO range attribute names ("MSIX_TABLE", "MSIX_PBA", "NON_TEE", "UPDATABLE"); NULL past the
 * last. */
const char *pcitsm_policy_info_bit_name(unsigned bit);
const char *pcitsm_policy_attr_bit_name(unsigned bit);

#endif /* PCITSM_POLICY_H */
