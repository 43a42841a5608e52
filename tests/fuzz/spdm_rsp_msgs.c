/* SPDX-License-Identifier: MIT */
/* Fuzz every SPDM response decoder (the requester's parsers) and the measurement-block walker.
 * Input: selector byte, version byte, hash/signature size byte, message. */
#include "spdm/msg.h"

static const size_t hash_lens[] = { 32, 48, 64 };
static const size_t sig_lens[] = { 0, 64, 96, 256, 384 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spdm_version v;
	struct spdm_caps c;
	struct spdm_algs a;
	struct spdm_digests d;
	struct spdm_cert ce;
	struct spdm_challenge_auth ca;
	struct spdm_meas m;
	struct spdm_error e;
	struct pcitsm_spdm_meas_block b;
	pcitsm_err rc = PCITSM_OK;
	size_t mlen, hl, sl, off = 0;
	const uint8_t *p;
	uint8_t ver;

	if (size < 3)
		return 0;
	ver = (uint8_t)(0x10 + data[1] % 5);
	hl = hash_lens[data[2] % 3];
	sl = sig_lens[(data[2] >> 2) % 5];
	p = data + 3;
	size -= 3;
	switch (data[0] % 9) {
	case 0:
		rc = spdm_dec_version(p, size, &v, &mlen);
		break;
	case 1:
		rc = spdm_dec_capabilities(p, size, ver, false, &c, &mlen);
		break;
	case 2:
		rc = spdm_dec_algorithms(p, size, ver, false, &a, &mlen);
		break;
	case 3:
		rc = spdm_dec_digests(p, size, ver, hl, &d, &mlen);
		break;
	case 4:
		rc = spdm_dec_certificate(p, size, ver, &ce, &mlen);
		break;
	case 5:
		rc = spdm_dec_challenge_auth(p, size, ver, hl, data[2] & 0x80, sl, &ca, &mlen);
		break;
	case 6:
		if (!spdm_dec_measurements(p, size, ver, sl, &m, &mlen))
			while (!pcitsm_spdm_meas_next(m.record, m.record_len, &off, &b))
				;
		break;
	case 7:
		rc = spdm_dec_error(p, size, &e, &mlen);
		break;
	default:
		while (!pcitsm_spdm_meas_next(p, size, &off, &b))
			;
		break;
	}
	(void)rc;
	return 0;
}
