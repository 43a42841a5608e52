/* SPDX-License-Identifier: MIT */
/* SPDM responder: the handlers its dispatcher (rsp.c) puts in its table and the calls it makes
 * into them. The handlers get what they share from rsp_common.h, never from rsp.c. */
#ifndef PCITSM_SPDM_RSP_HANDLERS_H
#define PCITSM_SPDM_RSP_HANDLERS_H

#include "rsp_common.h"

/* Authentication (rsp_auth.c). */
pcitsm_err rsp_get_digests(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			   struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_get_certificate(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			       struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_challenge(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			 struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_get_measurements(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err);
/* Slot 0's chain for the negotiated hash, once ALGORITHMS is sent. */
pcitsm_err rsp_chain_build(struct pcitsm_spdm_rsp *s) PCITSM_MUST_CHECK;
/* MeasurementSummaryHash of type 1 (TCB) or 0xff (all) (DSP0274 CHALLENGE_AUTH), also for
 * KEY_EXCHANGE_RSP. */
pcitsm_err rsp_meas_summary(const struct pcitsm_spdm_rsp *s, uint8_t type, uint8_t *out)
	PCITSM_MUST_CHECK;

/* Sessions (rsp_session.c). */
pcitsm_err rsp_key_exchange(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			    struct pcitsm_wr *w, struct rsp_error *err);
/* FINISH, END_SESSION, HEARTBEAT, KEY_UPDATE in the clear: SessionRequired (1.2+). */
pcitsm_err rsp_session_required(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err);
/* A VENDOR_DEFINED_REQUEST outside a session: E_NORESPONSE for PCI-SIG (docs/sessions.md). */
pcitsm_err rsp_vdm_outside(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len);
void rsp_sessions_end_all(struct pcitsm_spdm_rsp *s);
pcitsm_err rsp_secured_doe(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			   uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

#endif
