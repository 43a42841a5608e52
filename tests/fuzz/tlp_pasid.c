/* SPDX-License-Identifier: MIT */
/* Fuzz the PASID TLP Prefix decoder: 4 prefix bytes then a TLP. A decoded prefix re-encodes to the
 * same bytes; the applicability check runs against the TLP when it decodes. */
#include <stdlib.h>
#include <string.h>
#include "pcitsm/ide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_tlp_pasid x;
	struct pcitsm_tlp t;
	uint8_t again[4];

	if (size < 4 || pcitsm_tlp_pasid_decode(data, &x))
		return 0;
	if (x.pasid > PCITSM_TLP_PASID_MAX || pcitsm_tlp_pasid_encode(&x, again) ||
	    memcmp(again, data, 4))
		abort();
	if (pcitsm_tlp_decode(data + 4, size - 4, &t) == PCITSM_OK &&
	    pcitsm_tlp_pasid_check(&x, &t) == PCITSM_OK &&
	    t.kind != PCITSM_TLP_MRD && t.kind != PCITSM_TLP_MWR)
		abort();
	return 0;
}
