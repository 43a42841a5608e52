/* SPDX-License-Identifier: MIT */
/*
 * SPDM responder: the helpers its dispatcher (rsp.c) and its handlers (rsp_auth.c, rsp_session.c)
 * share: the ERROR a handler reports and the version it carries, the DataTransferSize check, and
 * the restart of transcript M. They depend on the responder's state only, never on a handler.
 */
#include "rsp_common.h"

/* Version of GET_VERSION, VERSION and of an ERROR before VERSION was answered (DSP0274 "SPDM
 * version": GET_VERSION / VERSION always carry 1.0). */
#define RSP_DEFAULT_VERSION PCITSM_SPDM_V10

bool rsp_version_offered(const struct pcitsm_spdm_rsp *s, uint8_t v)
{
	for (unsigned i = 0; i < s->opts.nr_versions; i++)
		if (s->opts.versions[i] == v)
			return true;
	return false;
}

/*
 * The SPDMVersion of an ERROR answering req (DSP0274 "SPDM version" and GET_VERSION clauses; docs/
 * spdm.md "Version support"): 1.0 before VERSION was answered and for GET_VERSION itself; after
 * it, the request's own version when it is one we offer, else the negotiated one (1.0 while none
 * is). Computed from the state before the request is handled, since GET_VERSION and
 * RequestResynch reset it.
 */
uint8_t rsp_error_version(const struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t len)
{
	if (s->state == PCITSM_SPDM_RSP_IDLE)
		return RSP_DEFAULT_VERSION;
	if (len >= 2 && req[1] != PCITSM_SPDM_GET_VERSION && rsp_version_offered(s, req[0]))
		return req[0];
	return s->version ? s->version : RSP_DEFAULT_VERSION;
}

pcitsm_err rsp_error(struct rsp_error *err, uint8_t code, uint8_t data)
{
	err->code = code;
	err->data = data;
	return PCITSM_E_PEER_ERROR;
}

pcitsm_err rsp_check_size(const struct pcitsm_spdm_rsp *s, size_t n, struct rsp_error *err)
{
	if (s->version >= PCITSM_SPDM_V12 && n > s->req_data_transfer_size)
		return rsp_error(err, PCITSM_SPDM_ERR_RESPONSE_TOO_LARGE, 0);
	return PCITSM_OK;
}

pcitsm_err rsp_l1_restart(struct pcitsm_spdm_rsp *s)
{
	return spdm_ts_restart(&s->l1, s->hash, s->vca, s->version >= PCITSM_SPDM_V12 ? s->vca_len : 0);
}
