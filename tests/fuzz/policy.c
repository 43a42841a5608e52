/* SPDX-License-Identifier: MIT */
/* Fuzz the TDI policy (include/pcitsm/policy.h). Byte 0 even: the rest is a policy file, parsed
 * and, when accepted, evaluated against a fixed report; odd: the rest is a MEASUREMENTS response
 * whose blocks, when accepted, give a policy (make) that must parse back and pass on them. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pcitsm_policy pol;
static struct pcitsm_spdm_meas_block blocks[PCITSM_POLICY_MAX_BLOCKS];

/* A report of one 64 KiB BAR 0 with its MSI-X table on page 2. */
static void fixed_report(struct pcitsm_tdisp_report *r)
{
	static uint8_t buf[PCITSM_TDISP_DSM_REPORT_MAX];
	struct pcitsm_tdisp_ifdesc d;
	struct pcitsm_wr w;

	memset(&d, 0, sizeof(d));
	d.interface_info = PCITSM_TDISP_INFO_DMA_NO_PASID;
	d.bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, false };
	d.nr_bars = 1;
	d.msix = true;
	d.msix_table = (struct pcitsm_tdisp_region){ 0, 0x2000, 0x100 };
	d.msix_pba = (struct pcitsm_tdisp_region){ 0, 0x3000, 8 };
	pcitsm_wr_init(&w, buf, sizeof(buf));
	if (pcitsm_tdisp_report_build(&d, PCITSM_TDISP_LOCK_MSIX, 0, &w) ||
	    pcitsm_tdisp_report_decode(buf, pcitsm_wr_len(&w), r))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_tdisp_report rep;
	struct pcitsm_policy_evidence ev = { NULL, 0, &rep };
	char why[160];
	size_t nr;

	if (size < 1)
		return 0;
	if (!rep.nr_ranges)
		fixed_report(&rep);
	if (!(data[0] & 1)) {
		if (pcitsm_policy_parse((const char *)data + 1, size - 1, &pol, why, sizeof(why)) ==
		    PCITSM_OK) {
			pcitsm_err e = pcitsm_policy_eval(&pol, &ev, why, sizeof(why));

			if (e != PCITSM_OK && e != PCITSM_E_MISMATCH)
				abort();
		}
		return 0;
	}
	if (pcitsm_policy_meas_blocks(data + 1, size - 1, blocks, PCITSM_POLICY_MAX_BLOCKS, &nr) ==
	    PCITSM_OK) {
		json_object *j;
		const char *s;

		ev.blocks = blocks;
		ev.nr_blocks = nr;
		j = pcitsm_policy_make(&ev, NULL, NULL);
		if (!j)
			abort();
		s = json_object_to_json_string(j);
		/* What make writes parses back, and the evidence it came from passes. */
		if (pcitsm_policy_parse(s, strlen(s), &pol, why, sizeof(why)) != PCITSM_OK ||
		    pcitsm_policy_eval(&pol, &ev, why, sizeof(why)) != PCITSM_OK)
			abort();
		json_object_put(j);
	}
	return 0;
}
