/* SPDX-License-Identifier: MIT */
/*
 * DOE data objects (PCIe 6.x §6.30.1).
 *
 * Header: DW0 = Vendor ID [15:0], Type [23:16], reserved [31:24]; DW1 = Length in DW including
 * the header [17:0] (0 means 2^18), Connection ID [29:18] for PCI-SIG types 3/4 (else reserved),
 * reserved [31:30]. Then the payload, zero-padded to a DW.
 */
#include <string.h>

#include "doe/internal.h"

#define DOE_DW1_LEN_MASK 0x3ffffu
#define DOE_DW1_CONN_SHIFT 18
#define DOE_DW1_CONN_MASK 0xfffu
#define DOE_DW1_RSVD_MASK 0xc0000000u

static bool doe_type_has_conn_id(uint16_t vid, uint8_t type)
{
	return vid == PCITSM_DOE_VID_PCISIG &&
	       (type == PCITSM_DOE_TYPE_CMA_CID || type == PCITSM_DOE_TYPE_SECURED_CMA_CID);
}

pcitsm_err pcitsm_doe_hdr_decode(uint32_t dw0, uint32_t dw1, struct pcitsm_doe_hdr *hdr)
{
	uint32_t len = dw1 & DOE_DW1_LEN_MASK;

	memset(hdr, 0, sizeof(*hdr));
	hdr->vid = (uint16_t)dw0;
	hdr->type = (uint8_t)(dw0 >> 16);
	if (dw0 >> 24)
		return PCITSM_E_RESERVED;
	if (dw1 & DOE_DW1_RSVD_MASK)
		return PCITSM_E_RESERVED;
	if (doe_type_has_conn_id(hdr->vid, hdr->type))
		hdr->conn_id = (uint16_t)((dw1 >> DOE_DW1_CONN_SHIFT) & DOE_DW1_CONN_MASK);
	else if ((dw1 >> DOE_DW1_CONN_SHIFT) & DOE_DW1_CONN_MASK)
		return PCITSM_E_RESERVED;
	/* 0 means 2^18 DW; 1 is invalid (the header alone is 2). */
	if (len == 1)
		return PCITSM_E_FIELD;
	hdr->len_dw = len ? len : PCITSM_DOE_MAX_DW;
	return PCITSM_OK;
}

uint32_t pcitsm_doe_len_field(uint32_t len_dw)
{
	return len_dw == PCITSM_DOE_MAX_DW ? 0 : len_dw;
}

pcitsm_err pcitsm_doe_obj_parse(const uint8_t *obj, size_t len, struct pcitsm_doe_hdr *hdr,
				const uint8_t **payload, size_t *plen)
{
	struct pcitsm_rd r;
	const uint8_t *pl;
	uint32_t dw0, dw1;
	size_t size;

	if (!hdr || !payload || !plen)
		return PCITSM_E_INVAL;
	*payload = NULL;
	*plen = 0;
	pcitsm_rd_init(&r, obj, len);
	dw0 = pcitsm_rd_le32(&r);
	dw1 = pcitsm_rd_le32(&r);
	PCITSM_TRY(pcitsm_rd_err(&r));
	PCITSM_TRY(pcitsm_doe_hdr_decode(dw0, dw1, hdr));
	/* The object must be exactly Length DWs: no fewer bytes, no more. */
	size = (size_t)hdr->len_dw * 4;
	if (len < size)
		return PCITSM_E_SHORT;
	pl = pcitsm_rd_bytes(&r, size - PCITSM_DOE_HDR_LEN);
	PCITSM_TRY(pcitsm_rd_finish(&r));
	*payload = pl;
	*plen = size - PCITSM_DOE_HDR_LEN;
	return PCITSM_OK;
}

pcitsm_err pcitsm_doe_obj_build(struct pcitsm_wr *w, uint16_t vid, uint8_t type,
				const void *payload, size_t plen)
{
	size_t pad, dw;

	if (!w || (!payload && plen))
		return PCITSM_E_INVAL;
	if (plen > PCITSM_DOE_MAX_BYTES - PCITSM_DOE_HDR_LEN)
		return PCITSM_E_INVAL;
	pad = (4 - plen % 4) % 4;
	dw = (PCITSM_DOE_HDR_LEN + plen + pad) / 4;
	pcitsm_wr_le16(w, vid);
	pcitsm_wr_u8(w, type);
	pcitsm_wr_u8(w, 0);
	pcitsm_wr_le32(w, pcitsm_doe_len_field((uint32_t)dw));
	if (plen)
		pcitsm_wr_bytes(w, payload, plen);
	pcitsm_wr_zero(w, pad);
	return pcitsm_wr_err(w);
}
