/* SPDX-License-Identifier: MIT */
/*
 * Fuzz: arbitrary bytes as one record of a link capture (docs/tap.md), as `pcitsm tap` reads it
 * from an untrusted file: the record header, then the TLP, plaintext or IDE. Whatever is accepted
 * must point inside the input.
 */
#include <stdlib.h>

#include "pcitsm/capture.h"

static void inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	if (n && (!p || p < data || n > size || (size_t)(p - data) > size - n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_tap_rec r;

	if (pcitsm_tap_rec_parse(data, size, &r) != PCITSM_OK)
		return 0;
	if (r.dir > PCITSM_TAP_UP || r.len + PCITSM_TAP_REC_HDR != size)
		abort();
	inside(data, size, r.tlp, r.len);
	if (r.tlp_err) {
		if (r.payload || r.payload_len)
			abort();
		return 0;
	}
	inside(data, size, r.payload, r.payload_len);
	if (r.ide) {
		inside(data, size, r.v.hdr, r.v.hdr_len);
		if (r.v.pfx.m)
			inside(data, size, r.v.mac, PCITSM_IDE_MAC_LEN);
		if (r.payload_len > r.len)
			abort();
	}
	return 0;
}
