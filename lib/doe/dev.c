/* SPDX-License-Identifier: MIT */
/*
 * Device side of one DOE instance: handlers dispatched by (vendor, type), the built-in Discovery
 * protocol (PCIe 6.x §6.30.1.1). The in-process loopback transport into it is
 * lib/transport/loop.c.
 *
 * Receiver rules (PCIe 6.x §6.30.1): a malformed object or an unsupported type is discarded
 * silently, so the requester sees no response (E_NORESPONSE here, a timeout on a mailbox).
 */
#include <string.h>

#include "doe/internal.h"

#define DISC_REQ_MIN_LEN 4u /* DW2 */
#define DISC_DW3_TYPE_MIN PCITSM_DOE_TYPE_CMA_CID
#define DISC_DW3_TYPE_MAX PCITSM_DOE_TYPE_ASYNC
#define DISC_DW3_LEN_MASK 0x3ffffu

void pcitsm_doe_dev_init(struct pcitsm_doe_dev *d, uint8_t cap_version)
{
	memset(d, 0, sizeof(*d));
	d->cap_version = cap_version;
}

static struct pcitsm_doe_handler *dev_lookup(const struct pcitsm_doe_dev *d, uint16_t vid,
					     uint8_t type)
{
	for (unsigned i = 0; i < d->nr_handlers; i++)
		if (d->handlers[i]->vid == vid && d->handlers[i]->type == type)
			return d->handlers[i];
	return NULL;
}

pcitsm_err pcitsm_doe_dev_register(struct pcitsm_doe_dev *d, struct pcitsm_doe_handler *h)
{
	if (!d || !h || !h->handle)
		return PCITSM_E_INVAL;
	if (h->vid == PCITSM_DOE_VID_PCISIG && h->type == PCITSM_DOE_TYPE_DISCOVERY)
		return PCITSM_E_INVAL;
	if (dev_lookup(d, h->vid, h->type))
		return PCITSM_E_EXISTS;
	if (d->nr_handlers >= PCITSM_DOE_MAX_PROTOCOLS)
		return PCITSM_E_EXHAUSTED;
	d->handlers[d->nr_handlers++] = h;
	return PCITSM_OK;
}

/* Discovery (PCIe 6.x §6.30.1.1). Request DW2: index [7:0], version [15:8]. Response DW2: vid
 * [15:0], type [23:16], next index [31:24] (0 = last); optional DW3: Max DO Length [17:0]. Index 0
 * is Discovery itself, index i > 0 the (i-1)th handler. A longer request uses its prefix (PCIe 6.x
 * §6.30.1). */
static pcitsm_err dev_discovery(const struct pcitsm_doe_dev *d, const uint8_t *req, size_t req_len,
				uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	unsigned n = 1 + d->nr_handlers, index, version;
	uint16_t vid = PCITSM_DOE_DISC_BAD_VID;
	uint8_t type = 0, next = 0;
	struct pcitsm_wr w;
	uint32_t dw2;

	if (req_len < DISC_REQ_MIN_LEN)
		return PCITSM_E_NORESPONSE;
	dw2 = pcitsm_get_le32(req);
	index = dw2 & PCITSM_DOE_DISC_INDEX_MASK;
	version = (dw2 >> PCITSM_DOE_DISC_VER_SHIFT) & 0xff;
	if (index < n) {
		vid = index ? d->handlers[index - 1]->vid : PCITSM_DOE_VID_PCISIG;
		type = index ? d->handlers[index - 1]->type : PCITSM_DOE_TYPE_DISCOVERY;
		next = index + 1 < n ? (uint8_t)(index + 1) : 0;
	}
	pcitsm_wr_init(&w, rsp, rsp_cap);
	pcitsm_wr_le32(&w, (uint32_t)vid | (uint32_t)type << PCITSM_DOE_DISC_TYPE_SHIFT |
				   (uint32_t)next << PCITSM_DOE_DISC_NEXT_SHIFT);
	/* DW3 only in version 2, never for Discovery itself, required for types 3, 4, 5. */
	if (d->cap_version >= 2 && version >= PCITSM_DOE_DISC_VER2 &&
	    vid == PCITSM_DOE_VID_PCISIG && type >= DISC_DW3_TYPE_MIN && type <= DISC_DW3_TYPE_MAX)
		pcitsm_wr_le32(&w, d->max_obj_dw & DISC_DW3_LEN_MASK);
	*rsp_len = pcitsm_wr_len(&w);
	return pcitsm_wr_err(&w);
}

pcitsm_err pcitsm_doe_dev_dispatch(struct pcitsm_doe_dev *d, const uint8_t *req, size_t req_len,
				   uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_doe_handler *h = NULL;
	struct pcitsm_doe_hdr hdr;
	const uint8_t *pl;
	size_t plen, out = 0, pad;
	struct pcitsm_wr w;
	pcitsm_err e;

	if (!d || !rsp || !rsp_len)
		return PCITSM_E_INVAL;
	*rsp_len = 0;
	if (rsp_cap < PCITSM_DOE_HDR_LEN)
		return PCITSM_E_NOSPC;
	/* Malformed object: silent discard. */
	if (pcitsm_doe_obj_parse(req, req_len, &hdr, &pl, &plen))
		return PCITSM_E_NORESPONSE;
	if (hdr.vid == PCITSM_DOE_VID_PCISIG && hdr.type == PCITSM_DOE_TYPE_DISCOVERY) {
		e = dev_discovery(d, pl, plen, rsp + PCITSM_DOE_HDR_LEN,
				  rsp_cap - PCITSM_DOE_HDR_LEN, &out);
	} else {
		h = dev_lookup(d, hdr.vid, hdr.type);
		if (!h)
			return PCITSM_E_NORESPONSE;
		e = h->handle(h, pl, plen, rsp + PCITSM_DOE_HDR_LEN, rsp_cap - PCITSM_DOE_HDR_LEN,
			      &out);
	}
	if (e)
		return e;
	if (out > rsp_cap - PCITSM_DOE_HDR_LEN)
		return PCITSM_E_NOSPC;
	/* Header in front of the handler's payload, zero padding behind it. */
	pad = (4 - out % 4) % 4;
	if (pad > rsp_cap - PCITSM_DOE_HDR_LEN - out ||
	    out + pad > PCITSM_DOE_MAX_BYTES - PCITSM_DOE_HDR_LEN)
		return PCITSM_E_NOSPC;
	memset(rsp + PCITSM_DOE_HDR_LEN + out, 0, pad);
	pcitsm_wr_init(&w, rsp, PCITSM_DOE_HDR_LEN);
	pcitsm_wr_le16(&w, hdr.vid);
	pcitsm_wr_u8(&w, hdr.type);
	pcitsm_wr_u8(&w, 0);
	pcitsm_wr_le32(&w, pcitsm_doe_len_field((uint32_t)((PCITSM_DOE_HDR_LEN + out + pad) / 4)));
	PCITSM_TRY(pcitsm_wr_err(&w));
	*rsp_len = PCITSM_DOE_HDR_LEN + out + pad;
	return PCITSM_OK;
}
