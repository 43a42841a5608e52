/* SPDX-License-Identifier: MIT */
/* Responder internals shared between rsp.c and rsp_auth.c. */
#ifndef PCITSM_SPDM_RSP_PRIV_H
#define PCITSM_SPDM_RSP_PRIV_H

#include "pcitsm/spdm_rsp.h"
#include "msg.h"

/* What a handler reports when the answer is an SPDM ERROR. */
struct rsp_error {
	uint8_t code, data;
};

/* A request handler: writes the response into w and returns OK, or fills *err and returns
 * E_PEER_ERROR; any other error is a local failure. */
typedef pcitsm_err (*rsp_fn)(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			     struct pcitsm_wr *w, struct rsp_error *err);

pcitsm_err rsp_error(struct rsp_error *err, uint8_t code, uint8_t data);
/* The SPDMVersion of an ERROR answering req, from the state before req is handled (rsp.c). */
uint8_t rsp_error_version(const struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len);
/* ResponseTooLarge unless n fits the requester's DataTransferSize (1.2+). */
pcitsm_err rsp_check_size(const struct pcitsm_spdm_rsp *s, size_t n, struct rsp_error *err);
pcitsm_err rsp_l1_restart(struct pcitsm_spdm_rsp *s) PCITSM_MUST_CHECK;
pcitsm_err rsp_chain_build(struct pcitsm_spdm_rsp *s) PCITSM_MUST_CHECK;
/* MeasurementSummaryHash of type 1 (TCB) or 0xff (all) (facts B.6). */
pcitsm_err rsp_meas_summary(const struct pcitsm_spdm_rsp *s, uint8_t type, uint8_t *out)
	PCITSM_MUST_CHECK;

pcitsm_err rsp_get_digests(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			   struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_get_certificate(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			       struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_challenge(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			 struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_get_measurements(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err);

/* Sessions (rsp_session.c). */
pcitsm_err rsp_key_exchange(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			    struct pcitsm_wr *w, struct rsp_error *err);
/* FINISH, END_SESSION, HEARTBEAT, KEY_UPDATE in the clear: SessionRequired (1.2+). */
pcitsm_err rsp_session_required(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err);
/* A VENDOR_DEFINED_REQUEST outside a session: E_NORESPONSE for PCI-SIG (facts E.1). */
pcitsm_err rsp_vdm_outside(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len);
void rsp_sessions_end_all(struct pcitsm_spdm_rsp *s);
pcitsm_err rsp_secured_doe(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			   uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

#endif
