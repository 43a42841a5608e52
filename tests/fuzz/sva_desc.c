/* SPDX-License-Identifier: MIT */
/* Fuzz the SVA example device's descriptor decoder (bytes an untrusted process wrote into its
 * ring) and the completion-record and socket-message decoders: whatever decodes must satisfy the
 * invariants the DMA engine relies on, and re-encode to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/sva.h"
#include "sva/sva_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[PCITSM_SVA_DESC_SIZE];
	struct pcitsm_sva_desc d;
	struct pcitsm_sva_comp c;
	struct sva_req q;
	struct sva_rep p;

	if (pcitsm_sva_desc_decode(data, size, &d) == PCITSM_OK) {
		if (size != PCITSM_SVA_DESC_SIZE || d.len == 0 || d.len > PCITSM_SVA_LEN_MAX ||
		    d.pasid > PCITSM_SVA_PASID_MAX || d.completion % PCITSM_SVA_COMP_SIZE ||
		    (d.src && d.src + d.len > PCITSM_SVA_VA_LIMIT) ||
		    (d.dst && d.dst + d.len > PCITSM_SVA_VA_LIMIT))
			abort();
		pcitsm_sva_desc_encode(&d, out);
		if (memcmp(out, data, size))
			abort();
	}
	if (pcitsm_sva_comp_decode(data, size, &c) == PCITSM_OK && size != PCITSM_SVA_COMP_SIZE)
		abort();
	if (sva_req_decode(data, size, &q) == PCITSM_OK && size != SVA_REQ_SIZE)
		abort();
	if (sva_rep_decode(data, size, &p) == PCITSM_OK && size != SVA_REP_SIZE)
		abort();
	return 0;
}
