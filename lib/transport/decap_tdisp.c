/* SPDX-License-Identifier: MIT */
/*
 * DECAP_TDISP for a device's DSM (include/pcitsm/transport.h): a bare TDISP
 * GET_DEVICE_INTERFACE_STATE outside any session, answered with the TDI's state and nothing else
 * (PCIe 6.x §11 carries TDISP inside a secure session; this side door reads state only, the way
 * QEMU's TDISP device models use it; docs/transports.md).
 */
#include <string.h>

#include "pcitsm/tdisp.h"
#include "pcitsm/transport.h"

static pcitsm_err answer_error(struct pcitsm_wr *rsp, uint32_t function_id, uint32_t code)
{
	struct pcitsm_tdisp_msg m;

	memset(&m, 0, sizeof(m));
	m.code = PCITSM_TDISP_TDISP_ERROR;
	m.function_id = function_id & ~PCITSM_TDISP_FUNCTION_ID_RSVD;
	m.u.error.code = code;
	return pcitsm_tdisp_encode(rsp, &m);
}

pcitsm_err pcitsm_spdmemu_decap_tdisp_dsm(void *dsm, const uint8_t *req, size_t len,
					  struct pcitsm_wr *rsp)
{
	struct pcitsm_tdisp_dsm *d = dsm;
	const struct pcitsm_tdisp_tdi *tdi;
	struct pcitsm_tdisp_msg m;
	uint32_t fid = 0;
	uint8_t version, code;
	pcitsm_err e;

	if (!d || !rsp)
		return PCITSM_E_INVAL;
	e = pcitsm_tdisp_peek(req, len, &version, &code, &fid);
	if (e == PCITSM_E_SHORT || e == PCITSM_E_FIELD)
		return answer_error(rsp, 0, PCITSM_TDISP_ERR_INVALID_REQUEST);
	if (e == PCITSM_OK && version == PCITSM_TDISP_VERSION_10 &&
	    code != PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE)
		return answer_error(rsp, fid, PCITSM_TDISP_ERR_UNSUPPORTED_REQUEST);
	e = pcitsm_tdisp_decode(req, len, &m);
	if (e == PCITSM_E_VERSION)
		return answer_error(rsp, fid, PCITSM_TDISP_ERR_VERSION_MISMATCH);
	if (e)
		return answer_error(rsp, fid, PCITSM_TDISP_ERR_INVALID_REQUEST);
	tdi = pcitsm_tdisp_dsm_find(d, m.function_id);
	if (!tdi)
		return answer_error(rsp, m.function_id, PCITSM_TDISP_ERR_INVALID_INTERFACE);
	memset(&m, 0, sizeof(m));
	m.code = PCITSM_TDISP_DEVICE_INTERFACE_STATE;
	m.function_id = tdi->function_id;
	m.u.state = (uint8_t)tdi->state;
	return pcitsm_tdisp_encode(rsp, &m);
}
