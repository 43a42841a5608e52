/* SPDX-License-Identifier: MIT */
/*
 * Loopback transport straight into a device's DOE handlers (no registers): the request object is
 * built, dispatched, and the response object parsed and checked exactly as one from a mailbox
 * would be.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/doe.h"
#include "pcitsm/transport.h"

static pcitsm_err loop_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				size_t *rsp_len)
{
	struct pcitsm_xport_loop *l = pcitsm_container_of(x, struct pcitsm_xport_loop, x);
	size_t qcap = PCITSM_DOE_HDR_LEN + req_len + 3, olen = 0, plen;
	uint8_t *q = malloc(qcap), *o = malloc(PCITSM_DOE_MAX_BYTES);
	struct pcitsm_doe_hdr hdr;
	const uint8_t *pl;
	struct pcitsm_wr w;
	pcitsm_err e;

	*rsp_len = 0;
	e = !q || !o ? PCITSM_E_NOMEM : PCITSM_OK;
	if (!e) {
		pcitsm_wr_init(&w, q, qcap);
		e = pcitsm_doe_obj_build(&w, vid, type, req, req_len);
	}
	if (!e)
		e = pcitsm_doe_dev_dispatch(l->dev, q, pcitsm_wr_len(&w), o, PCITSM_DOE_MAX_BYTES,
					    &olen);
	if (!e)
		e = pcitsm_doe_obj_parse(o, olen, &hdr, &pl, &plen);
	if (!e && (hdr.vid != vid || hdr.type != type))
		e = PCITSM_E_FIELD;
	if (!e) {
		*rsp_len = PCITSM_MIN(plen, rsp_cap);
		if (*rsp_len)
			memcpy(rsp, pl, *rsp_len);
		if (plen > rsp_cap)
			e = PCITSM_E_TRUNCATED;
	}
	free(q);
	free(o);
	return e;
}

static const struct pcitsm_xport_ops loop_ops = {
	.exchange = loop_exchange,
};

void pcitsm_xport_loop_init(struct pcitsm_xport_loop *l, struct pcitsm_doe_dev *dev)
{
	memset(l, 0, sizeof(*l));
	l->x.ops = &loop_ops;
	l->x.name = "loop";
	l->dev = dev;
}
