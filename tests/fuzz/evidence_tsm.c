/* SPDX-License-Identifier: MIT */
/* Fuzz the bundle made from a TSM's published evidence (pcitsm_evidence_from_tsm, which rebuilds
 * the GET_MEASUREMENTS from transcript A and the device's MEASUREMENTS): input = nonce[32] |
 * vca_len u16 LE | vca | measurements. What makes a bundle never verifies without an anchor and
 * encodes to a bundle that decodes to the same request. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t chain[40] = { 40, 0, 0, 0 }; /* a size the bundle takes */
	static struct pcitsm_evidence_verdict v;
	struct pcitsm_evidence_tsm t = { chain, sizeof(chain), NULL, 0, NULL, 0, data };
	struct pcitsm_evidence ev, back;
	uint8_t *out = NULL;
	size_t n = 0;
	char why[160];

	if (size < 34)
		return 0;
	t.vca_len = (size_t)data[32] | (size_t)data[33] << 8;
	if (t.vca_len > size - 34)
		return 0;
	t.vca = data + 34;
	t.meas = t.vca + t.vca_len;
	t.meas_len = size - 34 - t.vca_len;
	if (pcitsm_evidence_from_tsm(&ev, &t, NULL, 0, NULL, "fuzz", why, sizeof(why)))
		return 0;
	if (ev.meas_req_len > 64 || memcmp(ev.meas_req + 4, data, 32) != 0)
		abort(); /* the caller's nonce, where DSP0274 puts it */
	if (pcitsm_evidence_verify(&ev, NULL, data, NULL, &v) == PCITSM_OK)
		abort(); /* no anchor: never verified */
	if (pcitsm_evidence_bundle_encode(&ev, &out, &n) == PCITSM_OK) {
		if (pcitsm_evidence_bundle_decode(out, n, &back, why, sizeof(why)) ||
		    back.meas_req_len != ev.meas_req_len ||
		    memcmp(back.meas_req, ev.meas_req, ev.meas_req_len))
			abort();
		pcitsm_evidence_free(&back);
	}
	free(out);
	pcitsm_evidence_free(&ev);
	return 0;
}
