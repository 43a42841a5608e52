/* SPDX-License-Identifier: MIT */
/*
 * The transport wrapper every protocol engine calls (include/pcitsm/transport.h): argument checks,
 * the tap, and the adapter's exchange.
 */
#include <stdlib.h>

#include "pcitsm/doe.h"
#include "pcitsm/transport.h"

/* Show the tap one whole object rebuilt from vid/type and a payload. The tap is an observer: if
 * memory is short it misses the object, the exchange goes on. */
static void tap_object(struct pcitsm_xport_tap *tap, bool from_device, uint16_t vid, uint8_t type,
		       const uint8_t *payload, size_t plen)
{
	size_t cap = PCITSM_DOE_HDR_LEN + plen + 3;
	uint8_t *obj = malloc(cap);
	struct pcitsm_wr w;

	if (!obj)
		return;
	pcitsm_wr_init(&w, obj, cap);
	if (pcitsm_doe_obj_build(&w, vid, type, payload, plen) == PCITSM_OK)
		tap->object(tap, from_device, obj, pcitsm_wr_len(&w));
	free(obj);
}

pcitsm_err pcitsm_xport_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				 const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				 size_t *rsp_len)
{
	pcitsm_err e;

	if (!rsp_len)
		return PCITSM_E_INVAL;
	*rsp_len = 0;
	if (!x || !x->ops || !x->ops->exchange || (!req && req_len) || (!rsp && rsp_cap))
		return PCITSM_E_INVAL;
	if (req_len > PCITSM_DOE_MAX_BYTES - PCITSM_DOE_HDR_LEN)
		return PCITSM_E_INVAL;
	if (x->tap && x->tap->object)
		tap_object(x->tap, false, vid, type, req, req_len);
	e = x->ops->exchange(x, vid, type, req, req_len, rsp, rsp_cap, rsp_len);
	/* An adapter must never claim more than it could store. */
	if (*rsp_len > rsp_cap) {
		*rsp_len = rsp_cap;
		if (!e)
			e = PCITSM_E_TRUNCATED;
	}
	if (e)
		return e;
	if (x->tap && x->tap->object)
		tap_object(x->tap, true, vid, type, rsp, *rsp_len);
	return PCITSM_OK;
}

void pcitsm_xport_close(struct pcitsm_xport *x)
{
	if (x && x->ops && x->ops->close)
		x->ops->close(x);
}
