/* SPDX-License-Identifier: MIT */
/*
 * Fuzz: the DSP0277 secured-message decoder over DOE with a fixed session (SHA-256, AES-256-GCM,
 * SPDM 1.2, fixed shared secret and transcript hashes). First byte even: the rest is a record from
 * the requester, opened by the responder. Odd: the rest is an SPDM message, sealed by the
 * requester and opened by the responder (must round-trip), then with one byte flipped (must fail).
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/session.h"

#define SID 0x00020001u

static void fixed_pair(struct pcitsm_session *req, struct pcitsm_session *rsp)
{
	static const uint8_t shared[32] = { 0x11 }, th1[32] = { 0x22 }, th2[32] = { 0x33 };

	if (pcitsm_session_init(req, PCITSM_SESSION_REQUESTER, SID, PCITSM_HASH_SHA256,
				PCITSM_AEAD_AES_256_GCM, 0x12, PCITSM_SM_V12) ||
	    pcitsm_session_init(rsp, PCITSM_SESSION_RESPONDER, SID, PCITSM_HASH_SHA256,
				PCITSM_AEAD_AES_256_GCM, 0x12, PCITSM_SM_V12) ||
	    pcitsm_session_handshake_keys(req, shared, 32, th1) ||
	    pcitsm_session_handshake_keys(rsp, shared, 32, th1) ||
	    pcitsm_session_data_keys(req, th2) || pcitsm_session_data_keys(rsp, th2))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rec[PCITSM_SM_MAX_APP + PCITSM_SM_OVERHEAD], out[sizeof(rec)];
	struct pcitsm_session req, rsp, rsp2;
	size_t rlen, olen;
	pcitsm_err err;

	if (size < 1 || size > PCITSM_SM_MAX_APP)
		return 0;
	fixed_pair(&req, &rsp);
	rsp2 = rsp;
	if (!(data[0] & 1)) {
		err = pcitsm_record_open(&rsp, data + 1, size - 1, out, sizeof(out), &olen);
		if (!err && olen + PCITSM_SM_OVERHEAD > size - 1)
			abort();
		if (err && (olen || (err != PCITSM_E_NOTFOUND && size > 5 && !rsp.err)))
			abort();
		return 0;
	}
	if (pcitsm_record_seal(&req, data + 1, size - 1, rec, sizeof(rec), &rlen) ||
	    rlen != size - 1 + PCITSM_SM_OVERHEAD)
		abort();
	if (pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen) || olen != size - 1 ||
	    memcmp(out, data + 1, olen))
		abort();
	rec[(data[0] >> 1) % rlen] ^= 0x20;
	if (!pcitsm_record_open(&rsp2, rec, rlen, out, sizeof(out), &olen))
		abort();
	return 0;
}
