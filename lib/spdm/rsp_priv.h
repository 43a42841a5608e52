/* SPDX-License-Identifier: MIT */
/* Responder internals shared between rsp.c and rsp_auth.c. */
#ifndef PCITSM_SPDM_RSP_PRIV_H
#define PCITSM_SPDM_RSP_PRIV_H

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
/* ResponseTooLarge unless n fits the requester's DataTransferSize (1.2+). */
pcitsm_err rsp_check_size(const struct pcitsm_spdm_rsp *s, size_t n, struct rsp_error *err);
pcitsm_err rsp_l1_restart(struct pcitsm_spdm_rsp *s) PCITSM_MUST_CHECK;
pcitsm_err rsp_chain_build(struct pcitsm_spdm_rsp *s) PCITSM_MUST_CHECK;

pcitsm_err rsp_get_digests(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			   struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_get_certificate(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			       struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_challenge(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
			 struct pcitsm_wr *w, struct rsp_error *err);
pcitsm_err rsp_get_measurements(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len,
				struct pcitsm_wr *w, struct rsp_error *err);

#endif
