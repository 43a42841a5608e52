/* SPDX-License-Identifier: MIT */
/* Fuzz the TLP decoder (whole, and in two parts: pcitsm_tlp_decode_ref, the header in a buffer of
 * its own) and the IDE TLP splitter: whatever decodes must re-encode to the same bytes, and
 * nothing may read out of bounds. */
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
	if (size) {
		/* The first byte says where the input splits into header and payload; the header is
		 * copied to a buffer of exactly its size so that a read past it is caught. */
		size_t h = PCITSM_MIN((size_t)data[0], size - 1);
		uint8_t *hdr = malloc(h ? h : 1);
		struct pcitsm_tlp_ref r = { hdr, h, data + 1 + h, size - 1 - h };

		if (!hdr)
			return 0;
		memcpy(hdr, data + 1, h);
		if (pcitsm_tlp_decode_ref(&r, &t) == PCITSM_OK) {
			if (r.data_len && (t.data != r.data || t.len != r.data_len ||
					   pcitsm_tlp_hdr_len(&t) != h))
				abort();
			if (pcitsm_tlp_encode_hdr(&t, out, sizeof(out), &len) != PCITSM_OK ||
			    len != pcitsm_tlp_hdr_len(&t) || memcmp(out, hdr, len))
				abort();
		}
		free(hdr);
	}
	if (pcitsm_ide_tlp_split(data, size, &v) == PCITSM_OK) {
		size_t body = v.hdr_len + v.payload_len + (v.mac ? PCITSM_IDE_MAC_LEN : 0);

		if (PCITSM_TLP_PREFIX_LEN + body != size)
			abort();
		return pcitsm_tlp_decode(v.hdr, v.hdr_len + v.payload_len, &t) == PCITSM_E_INVAL;
	}
	return 0;
}
