/* SPDX-License-Identifier: MIT */
/* SPDM codecs for the VCA messages (DSP0274 1.3 GET_VERSION, GET_CAPABILITIES,
 * NEGOTIATE_ALGORITHMS) and the common helpers. */
#include "msg.h"

pcitsm_err spdm_peek_hdr(const uint8_t *p, size_t len, struct spdm_hdr *h)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	h->version = pcitsm_rd_u8(&r);
	h->code = pcitsm_rd_u8(&r);
	h->param1 = pcitsm_rd_u8(&r);
	h->param2 = pcitsm_rd_u8(&r);
	return pcitsm_rd_err(&r);
}

pcitsm_err spdm_rd_end(const struct pcitsm_rd *r, size_t *mlen)
{
	size_t pos = pcitsm_rd_pos(r), left = pcitsm_rd_left(r);

	if (pcitsm_rd_err(r))
		return pcitsm_rd_err(r);
	/* DOE padding: fewer than 4 zero bytes up to the next DW boundary (PCIe 6.x §6.30.1;
	 * docs/transports.md). */
	if (left) {
		if (left >= 4 || (pos + left) % 4)
			return PCITSM_E_LONG;
		for (size_t i = 0; i < left; i++)
			if (r->p[pos + i])
				return PCITSM_E_LONG;
	}
	if (mlen)
		*mlen = pos;
	return PCITSM_OK;
}

/* Version, code and the two params; the caller knows version and code already. */
static void rd_params(struct pcitsm_rd *r, uint8_t *p1, uint8_t *p2)
{
	pcitsm_rd_skip(r, 2);
	*p1 = pcitsm_rd_u8(r);
	*p2 = pcitsm_rd_u8(r);
}

static void wr_hdr(struct pcitsm_wr *w, uint8_t version, uint8_t code, uint8_t p1, uint8_t p2)
{
	pcitsm_wr_u8(w, version);
	pcitsm_wr_u8(w, code);
	pcitsm_wr_u8(w, p1);
	pcitsm_wr_u8(w, p2);
}

/* A 4-byte message with both params reserved. */
static pcitsm_err dec_bare(const uint8_t *p, size_t len, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_skip(&r, 2);
	pcitsm_rd_zero(&r, 2);
	return spdm_rd_end(&r, mlen);
}

/* GET_VERSION: always version 0x10, params zero (DSP0274 1.3 GET_VERSION). */
pcitsm_err spdm_enc_get_version(struct pcitsm_wr *w)
{
	wr_hdr(w, PCITSM_SPDM_V10, PCITSM_SPDM_GET_VERSION, 0, 0);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_get_version(const uint8_t *p, size_t len, size_t *mlen)
{
	return dec_bare(p, len, mlen);
}

/* VERSION: hdr | rsvd | count | entries u16[count] (DSP0274 1.3 GET_VERSION). */
pcitsm_err spdm_enc_version(struct pcitsm_wr *w, const struct spdm_version *m)
{
	if (m->count == 0 || m->count > SPDM_MAX_VERSION_ENTRIES)
		return PCITSM_E_INVAL;
	wr_hdr(w, PCITSM_SPDM_V10, PCITSM_SPDM_VERSION, 0, 0);
	pcitsm_wr_u8(w, 0);
	pcitsm_wr_u8(w, m->count);
	for (unsigned i = 0; i < m->count; i++)
		pcitsm_wr_le16(w, m->entries[i]);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_version(const uint8_t *p, size_t len, struct spdm_version *m, size_t *mlen)
{
	struct pcitsm_rd r;
	uint8_t p1, p2;

	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &p1, &p2);
	pcitsm_rd_check(&r, p1 == 0 && p2 == 0, PCITSM_E_RESERVED);
	pcitsm_rd_zero(&r, 1);
	m->count = pcitsm_rd_u8(&r);
	pcitsm_rd_check(&r, m->count > 0 && m->count <= SPDM_MAX_VERSION_ENTRIES, PCITSM_E_FIELD);
	for (unsigned i = 0; i < m->count && !pcitsm_rd_err(&r); i++)
		m->entries[i] = pcitsm_rd_le16(&r);
	return spdm_rd_end(&r, mlen);
}

/* GET_CAPABILITIES / CAPABILITIES. 1.0: request 4 bytes, response 12; 1.1: 12; 1.2+: 20. */
size_t spdm_caps_len(uint8_t version, bool request)
{
	if (version == PCITSM_SPDM_V10)
		return request ? 4 : 12;
	return version == PCITSM_SPDM_V11 ? 12 : 20;
}

pcitsm_err spdm_enc_capabilities(struct pcitsm_wr *w, uint8_t version, bool request,
				 const struct spdm_caps *m)
{
	size_t n = spdm_caps_len(version, request);

	wr_hdr(w, version, request ? PCITSM_SPDM_GET_CAPABILITIES : PCITSM_SPDM_CAPABILITIES,
	       request && version >= PCITSM_SPDM_V13 ? m->param1 : 0, 0);
	if (n >= 12) {
		pcitsm_wr_u8(w, 0);
		pcitsm_wr_u8(w, m->ct_exponent);
		pcitsm_wr_le16(w, 0);
		pcitsm_wr_le32(w, m->flags);
	}
	if (n >= 20) {
		pcitsm_wr_le32(w, m->data_transfer_size);
		pcitsm_wr_le32(w, m->max_msg_size);
	}
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_capabilities(const uint8_t *p, size_t len, uint8_t version, bool request,
				 struct spdm_caps *m, size_t *mlen)
{
	size_t n = spdm_caps_len(version, request);
	struct pcitsm_rd r;
	uint8_t p2;

	*m = (struct spdm_caps){ 0 };
	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->param1, &p2);
	/* 1.3 request Param1 bit 0 asks for the algorithms block; everything else reserved. */
	pcitsm_rd_check(&r, p2 == 0, PCITSM_E_RESERVED);
	pcitsm_rd_check(&r, (m->param1 & ~(request && version >= PCITSM_SPDM_V13 ? 1u : 0u)) == 0,
			PCITSM_E_RESERVED);
	if (n >= 12) {
		pcitsm_rd_zero(&r, 1);
		m->ct_exponent = pcitsm_rd_u8(&r);
		if (version >= PCITSM_SPDM_V14)
			pcitsm_rd_skip(&r, 2); /* ExtFlags (1.4) */
		else
			pcitsm_rd_zero(&r, 2);
		m->flags = pcitsm_rd_le32(&r);
	}
	if (n >= 20) {
		m->data_transfer_size = pcitsm_rd_le32(&r);
		m->max_msg_size = pcitsm_rd_le32(&r);
		/* 1.2+: DataTransferSize >= 42, MaxSPDMmsgSize >= it, equal without CHUNK_CAP. */
		pcitsm_rd_check(&r, m->data_transfer_size >= SPDM_MIN_DATA_TRANSFER &&
					    m->max_msg_size >= m->data_transfer_size,
				PCITSM_E_FIELD);
		pcitsm_rd_check(&r, (m->flags & PCITSM_SPDM_CAP_CHUNK) ||
					    m->max_msg_size == m->data_transfer_size,
				PCITSM_E_FIELD);
	}
	return spdm_rd_end(&r, mlen);
}

/* AlgStruct tables: AlgType | AlgCount (fixed 2 << 4 | ext) | AlgSupported u16 | ext * 4. */
static void wr_alg_structs(struct pcitsm_wr *w, const struct spdm_algs *m)
{
	for (unsigned i = 0; i < m->nr_structs; i++) {
		pcitsm_wr_u8(w, m->structs[i].type);
		pcitsm_wr_u8(w, 0x20);
		pcitsm_wr_le16(w, m->structs[i].bits);
	}
}

/* Ascending, unique AlgTypes 2..5 (DSP0274 1.3 NEGOTIATE_ALGORITHMS; ascending order is what
 * libspdm emits). */
static void rd_alg_structs(struct pcitsm_rd *r, struct spdm_algs *m, unsigned ext_total)
{
	uint8_t last = 0;

	pcitsm_rd_check(r, m->nr_structs <= SPDM_MAX_ALG_STRUCTS, PCITSM_E_FIELD);
	for (unsigned i = 0; i < m->nr_structs && !pcitsm_rd_err(r); i++) {
		uint8_t type = pcitsm_rd_u8(r), count = pcitsm_rd_u8(r);
		uint16_t bits = pcitsm_rd_le16(r);

		pcitsm_rd_check(r, type >= PCITSM_SPDM_ALG_TYPE_DHE &&
					   type <= PCITSM_SPDM_ALG_TYPE_KEY_SCHEDULE && type > last,
				PCITSM_E_FIELD);
		pcitsm_rd_check(r, count >> 4 == 2, PCITSM_E_FIELD);
		ext_total += count & 0xf;
		pcitsm_rd_check(r, ext_total <= SPDM_MAX_EXT_ALGS, PCITSM_E_FIELD);
		pcitsm_rd_skip(r, 4u * (count & 0xf));
		m->structs[i].type = type;
		m->structs[i].bits = bits;
		last = type;
	}
}

/* NEGOTIATE_ALGORITHMS (32-byte fixed part) / ALGORITHMS (36-byte fixed part), DSP0274 1.3
 * NEGOTIATE_ALGORITHMS. */
pcitsm_err spdm_enc_algorithms(struct pcitsm_wr *w, uint8_t version, bool request,
			       const struct spdm_algs *m)
{
	size_t start = pcitsm_wr_len(w);

	if (m->nr_structs > SPDM_MAX_ALG_STRUCTS || m->ext_asym_count || m->ext_hash_count)
		return PCITSM_E_INVAL;
	wr_hdr(w, version, request ? PCITSM_SPDM_NEGOTIATE_ALGORITHMS : PCITSM_SPDM_ALGORITHMS,
	       m->nr_structs, 0);
	pcitsm_wr_le16(w, 0); /* Length, patched below */
	pcitsm_wr_u8(w, m->meas_spec);
	pcitsm_wr_u8(w, m->other_params);
	if (request) {
		pcitsm_wr_le32(w, m->base_asym);
		pcitsm_wr_le32(w, m->base_hash);
		pcitsm_wr_zero(w, 12);
		pcitsm_wr_u8(w, 0); /* ExtAsymCount */
		pcitsm_wr_u8(w, 0); /* ExtHashCount */
		pcitsm_wr_u8(w, 0);
		pcitsm_wr_u8(w, m->mel_spec);
	} else {
		pcitsm_wr_le32(w, m->meas_hash);
		pcitsm_wr_le32(w, m->base_asym);
		pcitsm_wr_le32(w, m->base_hash);
		pcitsm_wr_zero(w, 11);
		pcitsm_wr_u8(w, m->mel_spec);
		pcitsm_wr_u8(w, 0); /* ExtAsymSelCount */
		pcitsm_wr_u8(w, 0); /* ExtHashSelCount */
		pcitsm_wr_le16(w, 0);
	}
	wr_alg_structs(w, m);
	pcitsm_wr_patch_le16(w, start + 4, (uint16_t)(pcitsm_wr_len(w) - start));
	return pcitsm_wr_err(w);
}

void spdm_algs_structs(const struct spdm_algs *a, const struct spdm_alg_sel *out)
{
	for (unsigned i = 0; i < a->nr_structs; i++) {
		uint16_t bits = a->structs[i].bits;

		switch (a->structs[i].type) {
		case PCITSM_SPDM_ALG_TYPE_DHE:
			*out->dhe = bits;
			break;
		case PCITSM_SPDM_ALG_TYPE_AEAD:
			*out->aead = bits;
			break;
		case PCITSM_SPDM_ALG_TYPE_REQ_ASYM:
			*out->req_base_asym = bits;
			break;
		default:
			*out->key_schedule = bits;
			break;
		}
	}
}

pcitsm_err spdm_dec_algorithms(const uint8_t *p, size_t len, uint8_t version, bool request,
			       struct spdm_algs *m, size_t *mlen)
{
	struct pcitsm_rd r;
	uint8_t p2;
	uint16_t length;

	*m = (struct spdm_algs){ 0 };
	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->nr_structs, &p2);
	pcitsm_rd_check(&r, p2 == 0, PCITSM_E_RESERVED);
	/* 1.0 has no AlgStruct tables: Param1 is reserved. */
	pcitsm_rd_check(&r, version > PCITSM_SPDM_V10 || m->nr_structs == 0, PCITSM_E_RESERVED);
	length = pcitsm_rd_le16(&r);
	m->meas_spec = pcitsm_rd_u8(&r);
	m->other_params = pcitsm_rd_u8(&r);
	if (request) {
		m->base_asym = pcitsm_rd_le32(&r);
		m->base_hash = pcitsm_rd_le32(&r);
		if (version >= PCITSM_SPDM_V14)
			pcitsm_rd_skip(&r, 12); /* PqcAsymAlgo (1.4) and reserved */
		else
			pcitsm_rd_zero(&r, 12);
		m->ext_asym_count = pcitsm_rd_u8(&r);
		m->ext_hash_count = pcitsm_rd_u8(&r);
		pcitsm_rd_zero(&r, 1);
	} else {
		m->meas_hash = pcitsm_rd_le32(&r);
		m->base_asym = pcitsm_rd_le32(&r);
		m->base_hash = pcitsm_rd_le32(&r);
		if (version >= PCITSM_SPDM_V14)
			pcitsm_rd_skip(&r, 11);
		else
			pcitsm_rd_zero(&r, 11);
	}
	m->mel_spec = pcitsm_rd_u8(&r);
	pcitsm_rd_check(&r, version >= PCITSM_SPDM_V13 || m->mel_spec == 0, PCITSM_E_RESERVED);
	if (!request) {
		m->ext_asym_count = pcitsm_rd_u8(&r);
		m->ext_hash_count = pcitsm_rd_u8(&r);
		pcitsm_rd_zero(&r, 2);
	}
	pcitsm_rd_check(&r, m->ext_asym_count + m->ext_hash_count <= SPDM_MAX_EXT_ALGS,
			PCITSM_E_FIELD);
	pcitsm_rd_skip(&r, 4u * (m->ext_asym_count + m->ext_hash_count));
	rd_alg_structs(&r, m, m->ext_asym_count + m->ext_hash_count);
	/* The Length field covers exactly what was parsed (<= 128 up to 1.3). */
	pcitsm_rd_check(&r, length == pcitsm_rd_pos(&r), PCITSM_E_FIELD);
	pcitsm_rd_check(&r, !request || version >= PCITSM_SPDM_V14 || length <= SPDM_NEG_ALGS_MAX_LEN,
			PCITSM_E_FIELD);
	return spdm_rd_end(&r, mlen);
}
