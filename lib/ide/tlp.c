/* SPDX-License-Identifier: MIT */
/*
 * Non-flit-mode TLP headers (PCIe base spec §2.2): the subset IDE protects here, MRd/MWr with 32-
 * and 64-bit addresses, CfgRd1/CfgWr1, Cpl/CplD and the ID-routed or local messages that carry
 * IDE Sync (0x54) and IDE Fail (0x55) (PCIe 6.x §2.2.8 IDE messages, §6.33 selective stream rules).
 *
 * DW0: Fmt[2:0] Type[4:0] | T9 TC[2:0] T8 Attr[2] LN TH | TD EP Attr[1:0] AT[1:0] Length[9:8] |
 * Length[7:0]. All header DWs are big-endian.
 */
#include <string.h>

#include "pcitsm/ide.h"

/* Fmt (§2.2.1): header size and data presence. */
#define FMT_3DW 0x0
#define FMT_4DW 0x1
#define FMT_3DW_DATA 0x2
#define FMT_4DW_DATA 0x3
#define FMT_PREFIX 0x4
/* Type[4:0]. */
#define TYPE_MEM 0x00
#define TYPE_CFG1 0x05
#define TYPE_CPL 0x0a
#define TYPE_MSG 0x10 /* 1_0rrr: r = routing */

#define FOUR_GIB (1ull << 32)
#define LEN_DW_MAX 1024u

static bool has_data(enum pcitsm_tlp_kind k)
{
	return k == PCITSM_TLP_MWR || k == PCITSM_TLP_CFGWR1 || k == PCITSM_TLP_CPLD;
}

static bool is_mem(enum pcitsm_tlp_kind k) { return k == PCITSM_TLP_MRD || k == PCITSM_TLP_MWR; }

static size_t dw_hdr_len(const struct pcitsm_tlp *t)
{
	if (t->kind == PCITSM_TLP_MSG || (is_mem(t->kind) && t->addr >= FOUR_GIB))
		return 16;
	return 12;
}

size_t pcitsm_tlp_hdr_len(const struct pcitsm_tlp *t)
{
	return dw_hdr_len(t) + (t->has_pasid ? PCITSM_TLP_PREFIX_LEN : 0);
}

/* Length in DW the header's Length field describes (payload, or the read size for MRd). */
static pcitsm_err length_dw(const struct pcitsm_tlp *t, uint32_t *dw)
{
	*dw = 0;
	switch (t->kind) {
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_MSG:
		return t->len ? PCITSM_E_INVAL : PCITSM_OK; /* Length reserved */
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1:
		*dw = 1;
		return t->len == 4 ? PCITSM_OK : PCITSM_E_INVAL;
	default:
		if (!t->len || t->len % 4 || t->len > PCITSM_TLP_DATA_MAX)
			return PCITSM_E_INVAL;
		*dw = (uint32_t)(t->len / 4);
		return PCITSM_OK;
	}
}

/* Byte enables (§2.2.5): a 1-DW request has Last BE 0; longer ones need both non-zero. */
static bool be_ok(const struct pcitsm_tlp *t, uint32_t dw)
{
	if (t->first_be > 0xf || t->last_be > 0xf)
		return false;
	if (dw == 1)
		return t->last_be == 0;
	return t->first_be && t->last_be;
}

static pcitsm_err check_fields(const struct pcitsm_tlp *t, uint32_t dw)
{
	if (t->tc > 7 || t->attr > 7)
		return PCITSM_E_INVAL;
	switch (t->kind) {
	case PCITSM_TLP_MRD:
	case PCITSM_TLP_MWR:
		return be_ok(t, dw) && !(t->addr & 3) ? PCITSM_OK : PCITSM_E_INVAL;
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1:
		return be_ok(t, dw) && !(t->reg & 3) && t->reg < 4096 ? PCITSM_OK : PCITSM_E_INVAL;
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD:
		return t->status <= 7 && t->byte_count >= 1 && t->byte_count <= 4096 &&
			       t->lower_addr < 0x80 ? PCITSM_OK : PCITSM_E_INVAL;
	case PCITSM_TLP_MSG:
		return t->msg_route == PCITSM_MSG_ROUTE_ID || t->msg_route == PCITSM_MSG_ROUTE_LOCAL ?
			       PCITSM_OK : PCITSM_E_INVAL;
	}
	return PCITSM_E_INVAL;
}

static void fmt_type(const struct pcitsm_tlp *t, uint8_t *fmt, uint8_t *type)
{
	bool four = dw_hdr_len(t) == 16;

	*fmt = (uint8_t)((has_data(t->kind) ? FMT_3DW_DATA : FMT_3DW) | (four ? FMT_4DW : 0));
	switch (t->kind) {
	case PCITSM_TLP_MRD:
	case PCITSM_TLP_MWR: *type = TYPE_MEM; break;
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1: *type = TYPE_CFG1; break;
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD: *type = TYPE_CPL; break;
	case PCITSM_TLP_MSG: *type = (uint8_t)(TYPE_MSG | t->msg_route); break;
	}
}

static pcitsm_err encode(const struct pcitsm_tlp *t, uint8_t *out, size_t cap, size_t *len,
			 bool payload)
{
	struct pcitsm_wr w;
	uint8_t fmt, type;
	uint32_t dw;

	PCITSM_TRY(length_dw(t, &dw));
	PCITSM_TRY(check_fields(t, dw));
	if (payload && has_data(t->kind) && !t->data)
		return PCITSM_E_INVAL;
	fmt_type(t, &fmt, &type);
	pcitsm_wr_init(&w, out, cap);
	if (t->has_pasid) {
		uint8_t pfx[PCITSM_TLP_PREFIX_LEN];

		PCITSM_TRY(pcitsm_tlp_pasid_check(&t->pasid, t));
		PCITSM_TRY(pcitsm_tlp_pasid_encode(&t->pasid, pfx));
		pcitsm_wr_bytes(&w, pfx, sizeof(pfx));
	}
	/* DW0 */
	pcitsm_wr_u8(&w, (uint8_t)(fmt << 5 | type));
	pcitsm_wr_u8(&w, (uint8_t)(t->tc << 4 | (t->attr >> 2 & 1) << 2));
	pcitsm_wr_u8(&w, (uint8_t)(t->ep << 6 | (t->attr & 3) << 4 | (dw >> 8 & 3)));
	pcitsm_wr_u8(&w, (uint8_t)dw);
	switch (t->kind) {
	case PCITSM_TLP_MRD:
	case PCITSM_TLP_MWR:
		pcitsm_wr_be16(&w, t->req_id);
		pcitsm_wr_u8(&w, t->tag);
		pcitsm_wr_u8(&w, (uint8_t)(t->last_be << 4 | t->first_be));
		if (t->addr >= FOUR_GIB)
			pcitsm_wr_be32(&w, (uint32_t)(t->addr >> 32));
		pcitsm_wr_be32(&w, (uint32_t)t->addr);
		break;
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1:
		pcitsm_wr_be16(&w, t->req_id);
		pcitsm_wr_u8(&w, t->tag);
		pcitsm_wr_u8(&w, (uint8_t)(t->last_be << 4 | t->first_be));
		pcitsm_wr_be16(&w, t->target_id);
		pcitsm_wr_u8(&w, (uint8_t)(t->reg >> 8));       /* Ext Register Number */
		pcitsm_wr_u8(&w, (uint8_t)(t->reg & 0xfc));     /* Register Number, 2 reserved */
		break;
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD:
		pcitsm_wr_be16(&w, t->cpl_id);
		pcitsm_wr_u8(&w, (uint8_t)(t->status << 5 | t->bcm << 4 | (t->byte_count >> 8 & 0xf)));
		pcitsm_wr_u8(&w, (uint8_t)t->byte_count);
		pcitsm_wr_be16(&w, t->req_id);
		pcitsm_wr_u8(&w, t->tag);
		pcitsm_wr_u8(&w, t->lower_addr);
		break;
	case PCITSM_TLP_MSG:
		pcitsm_wr_be16(&w, t->req_id);
		pcitsm_wr_u8(&w, t->tag);
		pcitsm_wr_u8(&w, t->msg_code);
		pcitsm_wr_be16(&w, t->msg_route == PCITSM_MSG_ROUTE_ID ? t->target_id : 0);
		pcitsm_wr_zero(&w, 2);
		pcitsm_wr_bytes(&w, t->msg_body, 4);
		break;
	}
	if (payload && has_data(t->kind))
		pcitsm_wr_bytes(&w, t->data, t->len);
	*len = pcitsm_wr_len(&w);
	return pcitsm_wr_err(&w);
}

pcitsm_err pcitsm_tlp_encode(const struct pcitsm_tlp *t, uint8_t *out, size_t cap, size_t *len)
{
	return encode(t, out, cap, len, true);
}

pcitsm_err pcitsm_tlp_encode_hdr(const struct pcitsm_tlp *t, uint8_t *out, size_t cap, size_t *len)
{
	return encode(t, out, cap, len, false);
}

static pcitsm_err decode_kind(uint8_t fmt, uint8_t type, struct pcitsm_tlp *t)
{
	bool data = fmt & 2, four = fmt & 1;

	if (fmt >= FMT_PREFIX)
		return PCITSM_E_FIELD;
	if (type == TYPE_MEM)
		t->kind = data ? PCITSM_TLP_MWR : PCITSM_TLP_MRD;
	else if (type == TYPE_CFG1 && !four)
		t->kind = data ? PCITSM_TLP_CFGWR1 : PCITSM_TLP_CFGRD1;
	else if (type == TYPE_CPL && !four)
		t->kind = data ? PCITSM_TLP_CPLD : PCITSM_TLP_CPL;
	else if ((type & 0x18) == TYPE_MSG && four && !data)
		t->kind = PCITSM_TLP_MSG;
	else
		return PCITSM_E_FIELD;
	t->msg_route = type & 7;
	return PCITSM_OK;
}

/* The first field error wins, as with the sticky reader. */
static inline void check(pcitsm_err *e, bool ok, pcitsm_err why)
{
	if (!ok && !*e)
		*e = why;
}

/* Header fields after DW0, read straight from the bytes (h holds the whole header: the data path
 * decodes every TLP twice, so this avoids a call per byte). */
static pcitsm_err decode_body(const uint8_t *h, struct pcitsm_tlp *t, bool four)
{
	pcitsm_err e = PCITSM_OK;

	switch (t->kind) {
	case PCITSM_TLP_MRD:
	case PCITSM_TLP_MWR:
		t->req_id = pcitsm_get_be16(h + 4);
		t->tag = h[6];
		t->first_be = h[7] & 0xf;
		t->last_be = h[7] >> 4;
		t->addr = four ? (uint64_t)pcitsm_get_be32(h + 8) << 32 | pcitsm_get_be32(h + 12)
			       : pcitsm_get_be32(h + 8);
		check(&e, !(t->addr & 3), PCITSM_E_RESERVED); /* PH with TH = 0 */
		/* §2.2.4.1: addresses below 4 GiB must use the 3-DW format. */
		check(&e, !four || t->addr >= FOUR_GIB, PCITSM_E_FIELD);
		break;
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1:
		t->req_id = pcitsm_get_be16(h + 4);
		t->tag = h[6];
		t->first_be = h[7] & 0xf;
		t->last_be = h[7] >> 4;
		t->target_id = pcitsm_get_be16(h + 8);
		check(&e, !(h[10] & 0xf0), PCITSM_E_RESERVED);
		check(&e, !(h[11] & 3), PCITSM_E_RESERVED);
		t->reg = (uint16_t)((h[10] & 0xf) << 8 | h[11]);
		break;
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD:
		t->cpl_id = pcitsm_get_be16(h + 4);
		t->status = h[6] >> 5;
		t->bcm = h[6] & 0x10;
		t->byte_count = (uint16_t)((h[6] & 0xf) << 8 | h[7]);
		if (!t->byte_count)
			t->byte_count = 4096;
		t->req_id = pcitsm_get_be16(h + 8);
		t->tag = h[10];
		t->lower_addr = h[11];
		check(&e, !(t->lower_addr & 0x80), PCITSM_E_RESERVED);
		break;
	case PCITSM_TLP_MSG:
		t->req_id = pcitsm_get_be16(h + 4);
		t->tag = h[6];
		t->msg_code = h[7];
		t->target_id = pcitsm_get_be16(h + 8);
		check(&e, !h[10] && !h[11], PCITSM_E_RESERVED);
		memcpy(t->msg_body, h + 12, 4);
		check(&e, t->msg_route == PCITSM_MSG_ROUTE_ID ||
				  (t->msg_route == PCITSM_MSG_ROUTE_LOCAL && !t->target_id),
		      PCITSM_E_FIELD);
		break;
	}
	return e;
}

/* The payload size the header announces; the Length field's own rules go to *e. */
static size_t announced(const struct pcitsm_tlp *t, uint32_t dw, pcitsm_err *e)
{
	switch (t->kind) {
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_MSG:
		check(e, !dw, PCITSM_E_RESERVED);
		return 0;
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1:
		check(e, dw == 1, PCITSM_E_FIELD);
		return 4;
	default:
		return (dw ? dw : LEN_DW_MAX) * 4;
	}
}

static pcitsm_err tlp_decode_hdr(const uint8_t *in, size_t len, struct pcitsm_tlp *t);

/* PCIe 6.x §6.20.2: one PASID TLP Prefix may precede the header; it is checked against the TLP it
 * accompanies. */
pcitsm_err pcitsm_tlp_decode(const uint8_t *in, size_t len, struct pcitsm_tlp *t)
{
	struct pcitsm_tlp_pasid x;

	if (len < PCITSM_TLP_PREFIX_LEN || !in || in[0] != PCITSM_TLP_PFX_PASID)
		return tlp_decode_hdr(in, len, t);
	PCITSM_TRY(pcitsm_tlp_pasid_decode(in, &x));
	PCITSM_TRY(tlp_decode_hdr(in + PCITSM_TLP_PREFIX_LEN, len - PCITSM_TLP_PREFIX_LEN, t));
	t->has_pasid = true;
	t->pasid = x;
	return pcitsm_tlp_pasid_check(&x, t);
}

pcitsm_err pcitsm_tlp_decode_ref(const struct pcitsm_tlp_ref *r, struct pcitsm_tlp *t)
{
	const uint8_t *h = r->hdr;
	size_t pfx;

	if (!r->data_len)
		return pcitsm_tlp_decode(h, r->hdr_len, t);
	if (!r->data || !h || r->hdr_len < 4)
		return PCITSM_E_INVAL;
	/* Nothing is read past hdr_len: it must be the prefix and header that Fmt announces. */
	pfx = h[0] == PCITSM_TLP_PFX_PASID ? PCITSM_TLP_PREFIX_LEN : 0;
	if (r->hdr_len < pfx + 4 || r->hdr_len != pfx + (h[pfx] & 0x20 ? 16u : 12u))
		return PCITSM_E_FIELD;
	/* The header announces the payload: decoded as one TLP of hdr_len + data_len bytes, of
	 * which only the header is read; the payload must be exactly the second part. */
	PCITSM_TRY(pcitsm_tlp_decode(h, r->hdr_len + r->data_len, t));
	if (!t->data) {
		memset(t, 0, sizeof(*t));
		return PCITSM_E_LONG; /* a TLP without payload, and bytes after its header */
	}
	t->data = r->data;
	return PCITSM_OK;
}

static pcitsm_err tlp_decode_hdr(const uint8_t *in, size_t len, struct pcitsm_tlp *t)
{
	uint8_t b0, b1, b2;
	size_t hl, n;
	uint32_t dw;
	pcitsm_err e;

	memset(t, 0, sizeof(*t));
	if (len < 4)
		return PCITSM_E_SHORT;
	if (!in)
		return PCITSM_E_INVAL;
	b0 = in[0];
	b1 = in[1];
	b2 = in[2];
	PCITSM_TRY(decode_kind(b0 >> 5, b0 & 0x1f, t));
	if (b2 & 0x80)
		return PCITSM_E_UNSUPPORTED; /* TD: ECRC is forbidden on IDE TLPs (PCIe 6.x §6.33) */
	/* T9, T8, LN, TH, AT: not used by these TLPs. */
	if (b1 & 0x8b || b2 & 0x0c)
		return PCITSM_E_RESERVED;
	t->tc = b1 >> 4 & 7;
	t->attr = (uint8_t)((b1 >> 2 & 1) << 2 | (b2 >> 4 & 3));
	t->ep = b2 & 0x40;
	dw = (uint32_t)(b2 & 3) << 8 | in[3];
	hl = b0 & 0x20 ? 16 : 12;
	if (len < hl)
		return PCITSM_E_SHORT;
	e = decode_body(in, t, b0 & 0x20);
	n = announced(t, dw, &e);
	if (e)
		return e;
	if (has_data(t->kind)) {
		if (len < hl + n)
			return PCITSM_E_SHORT;
		t->data = in + hl;
		t->len = n;
	} else if (t->kind == PCITSM_TLP_MRD || t->kind == PCITSM_TLP_CFGRD1) {
		t->len = n; /* the read length */
	}
	if (len > hl + (t->data ? n : 0))
		return PCITSM_E_LONG;
	if (t->kind != PCITSM_TLP_CPL && t->kind != PCITSM_TLP_CPLD && t->kind != PCITSM_TLP_MSG &&
	    !be_ok(t, (uint32_t)(n / 4)))
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}
