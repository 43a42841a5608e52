/* SPDX-License-Identifier: MIT */
/*
 * Fuzz: KEY_EXCHANGE / KEY_EXCHANGE_RSP opaque data (secured-message versions). The first byte
 * picks the SPDM version (1.1 DSP0277 header, 1.2/1.3 general format); the rest goes through both
 * parsers. A parsed version list must fit, and a selection made from it must encode and parse back
 * to itself.
 */
#include <stdlib.h>

#include "pcitsm/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t versions[PCITSM_SM_MAX_VERSIONS], sel, back;
	uint8_t enc[PCITSM_SM_OPAQUE_MAX];
	uint8_t spdm;
	size_t n, len;

	if (size < 1)
		return 0;
	spdm = (uint8_t)(0x11 + data[0] % 3);
	if (!pcitsm_sm_opaque_supported_parse(spdm, data + 1, size - 1, versions,
					      PCITSM_SM_MAX_VERSIONS, &n)) {
		if (!n || n > PCITSM_SM_MAX_VERSIONS || size - 1 < 11 + 2 * n)
			abort();
		if (!pcitsm_sm_version_select(versions, n, &sel)) {
			if (pcitsm_sm_opaque_selection_encode(spdm, sel, enc, sizeof(enc), &len) ||
			    pcitsm_sm_opaque_selection_parse(spdm, enc, len, versions, n, &back) ||
			    back != sel)
				abort();
		}
	}
	if (!pcitsm_sm_opaque_selection_parse(spdm, data + 1, size - 1, pcitsm_sm_versions,
					      pcitsm_sm_nr_versions, &sel)) {
		if ((sel >> 8) != 0x11 && (sel >> 8) != 0x12)
			abort();
	}
	return 0;
}
