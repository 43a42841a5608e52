/* SPDX-License-Identifier: MIT */
/* Requester internals shared between req.c and req_auth.c. */
#ifndef PCITSM_SPDM_REQ_PRIV_H
#define PCITSM_SPDM_REQ_PRIV_H

#include "pcitsm/spdm_req.h"
#include "msg.h"

/* Largest RDTExponent we wait for: 2^24 us, about 16.8 s per ResponseNotReady (at most
 * PCITSM_SPDM_NOT_READY_RETRIES of them per request, so a device can stall one request for under a
 * minute). A device asking for longer is treated as a bad field. */
#define SPDM_MAX_RDT_EXPONENT 24
/* GET_CERTIFICATE portion size asked for (libspdm's usual block; the responder may send less). */
#define SPDM_CERT_PORTION 1024
/* Most certificates in a chain we split. */
#define SPDM_MAX_CERTS 16

pcitsm_err req_fail(struct pcitsm_spdm_req *r, pcitsm_err e);
pcitsm_err req_begin(struct pcitsm_spdm_req *r, uint8_t code) PCITSM_MUST_CHECK;
pcitsm_err req_commit(struct pcitsm_spdm_req *r, struct pcitsm_wr *rq, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
pcitsm_err req_l1_restart(struct pcitsm_spdm_req *r) PCITSM_MUST_CHECK;

pcitsm_err req_on_digests(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len);
pcitsm_err req_on_certificate(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len);
pcitsm_err req_on_challenge_auth(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len);
pcitsm_err req_on_measurements(struct pcitsm_spdm_req *r, const uint8_t *p, size_t len);
/* MEASUREMENTS against its GET_MEASUREMENTS (operation, signed, slot), in a session or not:
 * operation 0 counts only, otherwise exactly NumberOfBlocks well-formed blocks of the index asked
 * for, Param1 reserved, the slot echoed when signed. */
pcitsm_err req_meas_check(const struct spdm_meas *m, uint8_t operation, bool sign, uint8_t slot)
	PCITSM_MUST_CHECK;

/* 1.3 RequesterContext echoed; the responder's nonce not the requester's reflected. E_NONCE. */
pcitsm_err spdm_fresh_check(const uint8_t *req_nonce, const uint8_t *req_context,
			    const uint8_t *rsp_nonce, const uint8_t *rsp_context) PCITSM_MUST_CHECK;

#endif
