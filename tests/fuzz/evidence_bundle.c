/* SPDX-License-Identifier: MIT */
/* Fuzz the evidence decoders (include/pcitsm/evidence.h). Byte 0 even: the rest is a bundle; odd:
 * an EAT token. What decodes is verified without an anchor (transcript, then the chain's structure)
 * and encoded again: a bundle must give back the same bytes, a token must decode again. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_evidence_verdict v;
	struct pcitsm_evidence ev, again;
	uint8_t *out = NULL;
	size_t n = 0;
	char why[160];
	bool eat;

	if (size < 1)
		return 0;
	eat = data[0] & 1;
	if ((eat ? pcitsm_evidence_eat_decode : pcitsm_evidence_bundle_decode)(data + 1, size - 1,
									       &ev, why,
									       sizeof(why)))
		return 0;
	if (pcitsm_evidence_verify(&ev, NULL, NULL, NULL, &v) == PCITSM_OK)
		abort(); /* no anchor: never verified */
	if (!eat) {
		if (pcitsm_evidence_bundle_encode(&ev, &out, &n) || n != size - 1 ||
		    memcmp(out, data + 1, n) != 0)
			abort();
	} else if (pcitsm_evidence_eat_encode(&ev, &out, &n) == PCITSM_OK) {
		if (pcitsm_evidence_eat_decode(out, n, &again, why, sizeof(why)))
			abort();
		pcitsm_evidence_free(&again);
	}
	free(out);
	pcitsm_evidence_free(&ev);
	return 0;
}
