/* SPDX-License-Identifier: MIT */
/* Fuzz every SPDM request decoder (the responder's parsers); a decoded message re-encodes to the
 * same bytes after the header's first two. Input: selector byte, version byte, message. */
#include <stdlib.h>
#include <string.h>
#include "spdm/msg.h"

static void same(const struct pcitsm_wr *w, const uint8_t *p, size_t mlen)
{
	if (pcitsm_wr_err(w) || pcitsm_wr_len(w) != mlen || memcmp(w->p + 2, p + 2, mlen - 2))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[512], ver, code, token;
	struct pcitsm_wr w;
	pcitsm_err rc = PCITSM_OK;
	size_t mlen = 0;
	union {
		struct spdm_caps caps;
		struct spdm_algs algs;
		struct spdm_get_cert gc;
		struct spdm_challenge ch;
		struct spdm_get_meas gm;
	} m;

	if (size < 2)
		return 0;
	ver = (uint8_t)(0x10 + data[1] % 5);
	pcitsm_wr_init(&w, out, sizeof(out));
	switch (data[0] % 8) {
	case 0:
		rc = spdm_dec_get_version(data + 2, size - 2, &mlen);
		break;
	case 1:
		if (!spdm_dec_capabilities(data + 2, size - 2, ver, true, &m.caps, &mlen) &&
		    ver < 0x14 && !spdm_enc_capabilities(&w, ver, true, &m.caps))
			same(&w, data + 2, mlen);
		break;
	case 2:
		rc = spdm_dec_algorithms(data + 2, size - 2, ver, true, &m.algs, &mlen);
		break;
	case 3:
		rc = spdm_dec_get_digests(data + 2, size - 2, &mlen);
		break;
	case 4:
		if (!spdm_dec_get_certificate(data + 2, size - 2, ver, &m.gc, &mlen) &&
		    !spdm_enc_get_certificate(&w, ver, &m.gc))
			same(&w, data + 2, mlen);
		break;
	case 5:
		if (!spdm_dec_challenge(data + 2, size - 2, ver, &m.ch, &mlen) &&
		    !spdm_enc_challenge(&w, ver, &m.ch))
			same(&w, data + 2, mlen);
		break;
	case 6:
		if (!spdm_dec_get_measurements(data + 2, size - 2, ver, &m.gm, &mlen) &&
		    !spdm_enc_get_measurements(&w, ver, &m.gm))
			same(&w, data + 2, mlen);
		break;
	default:
		rc = spdm_dec_respond_if_ready(data + 2, size - 2, &code, &token, &mlen);
		break;
	}
	(void)rc;
	return 0;
}
