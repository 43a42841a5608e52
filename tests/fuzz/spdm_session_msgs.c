/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the session message decoders (KEY_EXCHANGE, KEY_EXCHANGE_RSP, FINISH, the 4-byte messages
 * END_SESSION / HEARTBEAT / KEY_UPDATE and their ACKs, VENDOR_DEFINED_*). Byte 0 picks the
 * decoder, byte 1 the sizes (DHE group, hash, signature, summary present); what decodes must
 * re-encode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "spdm/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[70000];
	size_t dlen, hlen, slen, mlen, n;
	struct pcitsm_wr w;
	const uint8_t *p;
	uint8_t ver;

	if (size < 2)
		return 0;
	dlen = data[1] & 1 ? 96 : 64;
	hlen = data[1] & 2 ? 48 : 32;
	slen = data[1] & 4 ? 96 : 64;
	p = data + 2;
	n = size - 2;
	ver = n ? p[0] : 0;
	pcitsm_wr_init(&w, buf, sizeof(buf));
	switch (data[0] % 5) {
	case 0: {
		struct spdm_key_exchange m;

		if (spdm_dec_key_exchange(p, n, ver, dlen, &m, &mlen))
			break;
		/* the decoders leave the code byte to the engines: compare from byte 2 */
		if (spdm_enc_key_exchange(&w, ver, &m, dlen) || memcmp(buf + 2, p + 2, mlen - 2) ||
		    pcitsm_wr_len(&w) != mlen)
			abort();
		break;
	}
	case 1: {
		struct spdm_key_exchange_rsp m;

		if (spdm_dec_key_exchange_rsp(p, n, ver, dlen, hlen, data[1] & 8, slen, &m, &mlen))
			break;
		if (spdm_enc_key_exchange_rsp(&w, ver, &m, dlen, hlen) ||
		    pcitsm_wr_len(&w) != m.signed_len || memcmp(buf + 2, p + 2, m.signed_len - 2) ||
		    mlen != m.signed_len + slen + hlen)
			abort();
		break;
	}
	case 2: {
		const uint8_t *vd;

		if (!spdm_dec_finish(p, n, hlen, &vd, &mlen) && (mlen != 4 + hlen || vd != p + 4))
			abort();
		break;
	}
	case 3: {
		struct spdm_hdr h;

		if (spdm_dec_hdr_only(p, n, &h, &mlen))
			break;
		if (mlen != 4 || spdm_enc_hdr(&w, h.version, h.code, h.param1, h.param2) ||
		    memcmp(buf, p, 4))
			abort();
		break;
	}
	default: {
		struct spdm_vdm m;

		if (spdm_dec_vdm(p, n, &m, &mlen))
			break;
		if (spdm_enc_vdm(&w, ver, p[1] == PCITSM_SPDM_VENDOR_DEFINED_REQUEST, &m) ||
		    pcitsm_wr_len(&w) != mlen || memcmp(buf + 2, p + 2, mlen - 2))
			abort();
		(void)spdm_vdm_is_pcisig(&m);
		break;
	}
	}
	return 0;
}
