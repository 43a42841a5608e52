/* SPDX-License-Identifier: MIT */
/*
 * Transcripts and signatures (DSP0274 1.3 'Transcript and transcript hash calculation rules',
 * signing with combined_spdm_prefix), shared by the requester and the responder. Transcript A is
 * kept as bytes; M1 = A || B || C and L1 = A || M as running hashes restarted at A.
 */
#include <string.h>

#include "msg.h"

pcitsm_err spdm_vca_append(uint8_t *vca, size_t *vca_len, const uint8_t *p, size_t n)
{
	if (n > PCITSM_SPDM_VCA_MAX - *vca_len)
		return PCITSM_E_LONG;
	memcpy(vca + *vca_len, p, n);
	*vca_len += n;
	return PCITSM_OK;
}

pcitsm_err spdm_ts_restart(struct pcitsm_hash_ctx *h, enum pcitsm_hash_alg alg, const uint8_t *vca,
			   size_t vca_len)
{
	pcitsm_hash_free(h);
	PCITSM_TRY(pcitsm_hash_init(h, alg));
	return pcitsm_hash_update(h, vca, vca_len);
}

/*
 * The 1.2+ combined signing prefix (DSP0274 1.3 signing with combined_spdm_prefix):
 * "dmtf-spdm-vX.Y.*" four times (64 bytes), then zero bytes and the context string so that the
 * context ends at byte 99; then Hash(transcript).
 */
pcitsm_err spdm_sign_message(uint8_t version, const char *context, const uint8_t *th_hash,
			     size_t hash_len, uint8_t *out, size_t cap, size_t *len)
{
	char label[] = "dmtf-spdm-vX.Y.*";
	size_t clen = strlen(context);

	if (clen > 36 || cap < SPDM_SIGN_PREFIX_LEN + hash_len)
		return PCITSM_E_INVAL;
	label[11] = (char)('0' + (version >> 4));
	label[13] = (char)('0' + (version & 0xf));
	for (unsigned i = 0; i < 4; i++)
		memcpy(out + 16 * i, label, 16);
	memset(out + 64, 0, 36 - clen);
	memcpy(out + SPDM_SIGN_PREFIX_LEN - clen, context, clen);
	memcpy(out + SPDM_SIGN_PREFIX_LEN, th_hash, hash_len);
	*len = SPDM_SIGN_PREFIX_LEN + hash_len;
	return PCITSM_OK;
}

pcitsm_err spdm_ts_sign(uint8_t version, EVP_PKEY *key, enum pcitsm_sig_alg sig,
			const char *context, const struct pcitsm_hash_ctx *th, uint8_t *th_hash,
			uint8_t *out, size_t out_len)
{
	uint8_t msg[SPDM_SIGN_PREFIX_LEN + PCITSM_HASH_MAX];
	size_t hash_len = pcitsm_hash_size(th->alg), mlen;

	PCITSM_TRY(pcitsm_hash_peek(th, th_hash));
	/* SPDM 1.0/1.1: the signature is over Hash(transcript) directly. */
	if (version < PCITSM_SPDM_V12)
		return pcitsm_sig_sign_digest(key, sig, th->alg, th_hash, out, out_len);
	PCITSM_TRY(spdm_sign_message(version, context, th_hash, hash_len, msg, sizeof(msg), &mlen));
	return pcitsm_sig_sign(key, sig, th->alg, msg, mlen, out, out_len);
}

pcitsm_err spdm_ts_verify(uint8_t version, EVP_PKEY *pub, enum pcitsm_sig_alg sig,
			  const char *context, const struct pcitsm_hash_ctx *th, uint8_t *th_hash,
			  const uint8_t *sigbytes, size_t sig_len)
{
	uint8_t msg[SPDM_SIGN_PREFIX_LEN + PCITSM_HASH_MAX];
	size_t hash_len = pcitsm_hash_size(th->alg), mlen;

	PCITSM_TRY(pcitsm_hash_peek(th, th_hash));
	if (version < PCITSM_SPDM_V12)
		return pcitsm_sig_verify_digest(pub, sig, th->alg, th_hash, sigbytes, sig_len);
	PCITSM_TRY(spdm_sign_message(version, context, th_hash, hash_len, msg, sizeof(msg), &mlen));
	return pcitsm_sig_verify(pub, sig, th->alg, msg, mlen, sigbytes, sig_len);
}
