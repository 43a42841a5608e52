/* SPDX-License-Identifier: MIT */
/*
 * The IDE TLP prefix and the parts of an IDE TLP (PCIe 6.x §6.33 IDE TLP format), the PASID TLP
 * Prefix (PCIe 6.x §6.20.2), the PCRC
 * (PCIe 6.x §6.33 PCRC), and the byte order of keys and IFVs inside IDE_KM KEY_PROG (PCIe 6.x
 * §6.33.3; docs/ide-wire-format.md). Bit positions that the specification shows only in figures
 * come from the "Wire format choices" table in pcitsm/ide.h.
 */
#include <string.h>

#include "pcitsm/ide.h"

void pcitsm_ide_prefix_encode(const struct pcitsm_ide_prefix *x, uint8_t out[4])
{
	out[0] = PCITSM_IDE_PFX_BYTE0;
	out[PCITSM_IDE_PFX_PR_SENT_BYTE] = x->pr_sent;
	out[PCITSM_IDE_PFX_STREAM_BYTE] = x->stream_id;
	out[PCITSM_IDE_PFX_FLAGS_BYTE] =
		(uint8_t)((x->sub & PCITSM_IDE_PFX_SUB_MASK) << PCITSM_IDE_PFX_SUB_SHIFT |
			  (x->p ? PCITSM_IDE_PFX_P : 0) | (x->m ? PCITSM_IDE_PFX_M : 0) |
			  (x->k ? PCITSM_IDE_PFX_K : 0) | (x->t ? PCITSM_IDE_PFX_T : 0));
}

pcitsm_err pcitsm_ide_prefix_decode(const uint8_t in[4], struct pcitsm_ide_prefix *x)
{
	uint8_t f = in[PCITSM_IDE_PFX_FLAGS_BYTE];

	memset(x, 0, sizeof(*x));
	if (in[0] != PCITSM_IDE_PFX_BYTE0)
		return PCITSM_E_FIELD;
	/* Bit 7 of the sub-stream nibble is reserved when TEE-IO is supported (PCIe 6.x §6.33
	 * streams and sub-streams). */
	if (f & PCITSM_IDE_PFX_RSVD)
		return PCITSM_E_RESERVED;
	x->pr_sent = in[PCITSM_IDE_PFX_PR_SENT_BYTE];
	x->stream_id = in[PCITSM_IDE_PFX_STREAM_BYTE];
	x->sub = f >> PCITSM_IDE_PFX_SUB_SHIFT & PCITSM_IDE_PFX_SUB_MASK;
	x->p = f & PCITSM_IDE_PFX_P;
	x->m = f & PCITSM_IDE_PFX_M;
	x->k = f & PCITSM_IDE_PFX_K;
	x->t = f & PCITSM_IDE_PFX_T;
	/* 011b-110b are reserved sub-streams: IDE Check Failed (PCIe 6.x §6.33 streams and
	 * sub-streams). PCRC only with a MAC. */
	if (x->sub > PCITSM_IDE_SUB_CPL || (x->p && !x->m))
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tlp_pasid_encode(const struct pcitsm_tlp_pasid *x, uint8_t out[4])
{
	if (!x || !out || x->pasid > PCITSM_TLP_PASID_MAX)
		return PCITSM_E_INVAL;
	out[0] = PCITSM_TLP_PFX_PASID;
	out[1] = (uint8_t)((x->priv ? PCITSM_TLP_PASID_PMR : 0) | (x->exec ? PCITSM_TLP_PASID_ER : 0) |
			   (x->pasid >> 16 & 0xf));
	out[2] = (uint8_t)(x->pasid >> 8);
	out[3] = (uint8_t)x->pasid;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tlp_pasid_decode(const uint8_t in[4], struct pcitsm_tlp_pasid *x)
{
	if (!in || !x)
		return PCITSM_E_INVAL;
	memset(x, 0, sizeof(*x));
	if (in[0] != PCITSM_TLP_PFX_PASID)
		return PCITSM_E_FIELD;
	if (in[1] & PCITSM_TLP_PASID_RSVD)
		return PCITSM_E_RESERVED;
	x->priv = in[1] & PCITSM_TLP_PASID_PMR;
	x->exec = in[1] & PCITSM_TLP_PASID_ER;
	x->pasid = (uint32_t)(in[1] & 0xf) << 16 | (uint32_t)in[2] << 8 | in[3];
	return PCITSM_OK;
}

pcitsm_err pcitsm_tlp_pasid_check(const struct pcitsm_tlp_pasid *x, const struct pcitsm_tlp *t)
{
	if (!x || !t)
		return PCITSM_E_INVAL;
	/* PCIe 6.x §6.20.2.2: Memory Requests only; Execute Requested on a Memory Read only. */
	if (t->kind != PCITSM_TLP_MRD && t->kind != PCITSM_TLP_MWR)
		return PCITSM_E_FIELD;
	if (x->exec && t->kind != PCITSM_TLP_MRD)
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_tlp_split(const uint8_t *in, size_t len, struct pcitsm_ide_tlp_view *v)
{
	const uint8_t *dw0;
	size_t data = 0, dw, need, pfx = 0;

	memset(v, 0, sizeof(*v));
	if (len < PCITSM_TLP_PREFIX_LEN + 4)
		return PCITSM_E_SHORT;
	if (!in)
		return PCITSM_E_INVAL;
	dw0 = in + PCITSM_TLP_PREFIX_LEN;
	PCITSM_TRY(pcitsm_ide_prefix_decode(in, &v->pfx));
	/* Other End-End prefixes follow the IDE prefix and belong to the AAD (PCIe 6.x §6.33 IDE
	 * TLP format): a PASID TLP Prefix is accepted, and read as part of the header. */
	if (dw0[0] == PCITSM_TLP_PFX_PASID) {
		if (len < 2 * PCITSM_TLP_PREFIX_LEN + 4)
			return PCITSM_E_SHORT;
		pfx = PCITSM_TLP_PREFIX_LEN;
	}
	if (dw0[pfx] >> 5 >= 4)
		return PCITSM_E_FIELD; /* any other prefix: not produced or accepted here */
	v->hdr_len = pfx + (dw0[pfx] & 0x20 ? 16 : 12);
	v->hdr = dw0;
	dw0 += pfx;
	if (dw0[0] & 0x40) {
		dw = (size_t)(dw0[2] & 3) << 8 | dw0[3];
		data = (dw ? dw : 1024) * 4;
	}
	v->payload_len = data + (v->pfx.p ? PCITSM_IDE_PCRC_LEN : 0);
	need = PCITSM_TLP_PREFIX_LEN + v->hdr_len + v->payload_len +
	       (v->pfx.m ? PCITSM_IDE_MAC_LEN : 0);
	if (len < need)
		return PCITSM_E_SHORT;
	if (len > need)
		return PCITSM_E_LONG;
	v->payload = v->hdr + v->hdr_len;
	if (v->pfx.m)
		v->mac = v->payload + v->payload_len;
	return PCITSM_OK;
}

/* CRC-32, polynomial 0x04C11DB7 reflected (0xEDB88320), seed all ones, result complemented: the
 * PCIe 6.x §6.33 PCRC register algorithm plus its ECRC-like bit mapping equals this value stored
 * little-endian. */
uint32_t pcitsm_ide_pcrc_update(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = crc >> 1 ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return crc;
}

void pcitsm_ide_pcrc_final(uint32_t crc, uint8_t out[PCITSM_IDE_PCRC_LEN])
{
	if (PCITSM_IDE_PCRC_WIRE_LE)
		pcitsm_put_le32(out, ~crc);
	else
		pcitsm_put_be32(out, ~crc);
}

void pcitsm_ide_pcrc(const uint8_t *p, size_t n, uint8_t out[PCITSM_IDE_PCRC_LEN])
{
	pcitsm_ide_pcrc_final(pcitsm_ide_pcrc_update(PCITSM_IDE_PCRC_SEED, p, n), out);
}

/* PCIe 6.x §6.33.3; docs/ide-wire-format.md: each DW of the key holds 4 AES bytes, lowest index in
 * bits 31:24, sent little-endian. */
void pcitsm_ide_km_key_to_aes(const uint8_t wire[32], uint8_t aes[32])
{
	for (size_t i = 0; i < 8; i++)
		pcitsm_put_be32(aes + 4 * i, pcitsm_get_le32(wire + 4 * i));
}

void pcitsm_ide_km_key_from_aes(const uint8_t aes[32], uint8_t wire[32])
{
	for (size_t i = 0; i < 8; i++)
		pcitsm_put_le32(wire + 4 * i, pcitsm_get_be32(aes + 4 * i));
}

/* PCIe 6.x §6.33.3; docs/ide-wire-format.md: IFV DW0 = IV bytes 4..7, DW1 = IV bytes 8..11, same
 * reversal: IFV 1 is 00 00 00 00 01 00 00 00. The counter is IV bytes 4..11 big-endian. */
uint64_t pcitsm_ide_km_ifv_decode(const uint8_t wire[8])
{
	return (uint64_t)pcitsm_get_le32(wire) << 32 | pcitsm_get_le32(wire + 4);
}

void pcitsm_ide_km_ifv_encode(uint64_t ifv, uint8_t wire[8])
{
	pcitsm_put_le32(wire, (uint32_t)(ifv >> 32));
	pcitsm_put_le32(wire + 4, (uint32_t)ifv);
}
