/* SPDX-License-Identifier: MIT */
/* Fuzz the TLP decoder and the IDE TLP splitter: whatever decodes must re-encode to the same
 * bytes, and nothing may read out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/ide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PCITSM_IDE_TLP_MAX];
	struct pcitsm_ide_tlp_view v;
	struct pcitsm_tlp t;
	size_t len;

	if (pcitsm_tlp_decode(data, size, &t) == PCITSM_OK) {
		if (pcitsm_tlp_encode(&t, out, sizeof(out), &len) != PCITSM_OK || len != size ||
		    memcmp(out, data, size))
			abort();
	}
	if (pcitsm_ide_tlp_split(data, size, &v) == PCITSM_OK) {
		size_t body = v.hdr_len + v.payload_len + (v.mac ? PCITSM_IDE_MAC_LEN : 0);

		if (PCITSM_TLP_PREFIX_LEN + body != size)
			abort();
		return pcitsm_tlp_decode(v.hdr, v.hdr_len + v.payload_len, &t) == PCITSM_E_INVAL;
	}
	return 0;
}
