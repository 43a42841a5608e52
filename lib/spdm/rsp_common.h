/* SPDX-License-Identifier: MIT */
/* SPDM responder: what every request handler works with (rsp_common.c). Handlers include this
 * (through rsp_handlers.h); the dispatcher, rsp.c, exports nothing to them. */
#ifndef PCITSM_SPDM_RSP_COMMON_H
#define PCITSM_SPDM_RSP_COMMON_H

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

/* Decoder failures are the requester's fault: InvalidRequest. */
#define RSP_DECODE(expr, err)                                                       \
	do {                                                                        \
		if ((expr) != PCITSM_OK)                                            \
			return rsp_error(err, PCITSM_SPDM_ERR_INVALID_REQUEST, 0);  \
	} while (0)

pcitsm_err rsp_error(struct rsp_error *err, uint8_t code, uint8_t data);
/* v is one of the versions this responder offers in VERSION. */
bool rsp_version_offered(const struct pcitsm_spdm_rsp *s, uint8_t v);
/* The SPDMVersion of an ERROR answering req, from the state before req is handled. */
uint8_t rsp_error_version(const struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len);
/* ResponseTooLarge unless n fits the requester's DataTransferSize (1.2+). */
pcitsm_err rsp_check_size(const struct pcitsm_spdm_rsp *s, size_t n, struct rsp_error *err);
/* Transcript M starts again: A (1.2+) and nothing else. */
pcitsm_err rsp_l1_restart(struct pcitsm_spdm_rsp *s) PCITSM_MUST_CHECK;

#endif
