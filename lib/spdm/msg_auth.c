/* SPDX-License-Identifier: MIT */
/* SPDM codecs for certificates, CHALLENGE, measurements, ERROR, RESPOND_IF_READY (DSP0274 1.3). */
#include "msg.h"

static void rd_params(struct pcitsm_rd *r, uint8_t *p1, uint8_t *p2)
{
	pcitsm_rd_skip(r, 2);
	*p1 = pcitsm_rd_u8(r);
	*p2 = pcitsm_rd_u8(r);
}

/* GET_CERTIFICATE / CERTIFICATE: Param1 the slot (bits 7:4 reserved), Param2 bits that 1.3
 * defines (v13_bits), reserved before it. */
static void rd_cert_params(struct pcitsm_rd *r, uint8_t version, uint8_t v13_bits, uint8_t *slot,
			   uint8_t *bits)
{
	uint8_t p1, p2;

	rd_params(r, &p1, &p2);
	pcitsm_rd_check(r, (p1 & 0xf0) == 0, PCITSM_E_RESERVED);
	pcitsm_rd_check(r, (p2 & ~(version >= PCITSM_SPDM_V13 ? v13_bits : 0u)) == 0,
			PCITSM_E_RESERVED);
	*slot = p1 & 0xf;
	*bits = p2 & v13_bits;
}

static void wr_hdr(struct pcitsm_wr *w, uint8_t version, uint8_t code, uint8_t p1, uint8_t p2)
{
	pcitsm_wr_u8(w, version);
	pcitsm_wr_u8(w, code);
	pcitsm_wr_u8(w, p1);
	pcitsm_wr_u8(w, p2);
}

static unsigned popcount8(uint8_t v)
{
	unsigned n = 0;

	for (; v; v &= (uint8_t)(v - 1))
		n++;
	return n;
}

/* GET_DIGESTS: 4 bytes, params reserved. */
pcitsm_err spdm_enc_get_digests(struct pcitsm_wr *w, uint8_t version)
{
	wr_hdr(w, version, PCITSM_SPDM_GET_DIGESTS, 0, 0);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_get_digests(const uint8_t *p, size_t len, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_skip(&r, 2);
	pcitsm_rd_zero(&r, 2);
	return spdm_rd_end(&r, mlen);
}

/* DIGESTS: Param1 supported slots (1.3, else reserved), Param2 slot mask, H bytes per set bit. */
pcitsm_err spdm_enc_digests(struct pcitsm_wr *w, uint8_t version, const struct spdm_digests *m,
			    size_t hash_len)
{
	wr_hdr(w, version, PCITSM_SPDM_DIGESTS, version >= PCITSM_SPDM_V13 ? m->supported_mask : 0,
	       m->slot_mask);
	pcitsm_wr_bytes(w, m->digests, hash_len * popcount8(m->slot_mask));
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_digests(const uint8_t *p, size_t len, uint8_t version, size_t hash_len,
			    struct spdm_digests *m, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->supported_mask, &m->slot_mask);
	pcitsm_rd_check(&r, version >= PCITSM_SPDM_V13 || m->supported_mask == 0,
			PCITSM_E_RESERVED);
	/* 1.3: a provisioned slot is a supported one. */
	pcitsm_rd_check(&r, version < PCITSM_SPDM_V13 ||
				    (m->slot_mask & ~m->supported_mask) == 0,
			PCITSM_E_FIELD);
	m->digests = pcitsm_rd_bytes(&r, hash_len * popcount8(m->slot_mask));
	return spdm_rd_end(&r, mlen);
}

/* GET_CERTIFICATE: Param1 slot (bits 3:0), Param2 reserved (1.3 bit 0 SlotSizeRequested),
 * Offset u16, Length u16. */
pcitsm_err spdm_enc_get_certificate(struct pcitsm_wr *w, uint8_t version,
				    const struct spdm_get_cert *m)
{
	if (m->slot >= PCITSM_SPDM_MAX_SLOTS)
		return PCITSM_E_INVAL;
	wr_hdr(w, version, PCITSM_SPDM_GET_CERTIFICATE, m->slot,
	       version >= PCITSM_SPDM_V13 && m->size_requested ? 1 : 0);
	pcitsm_wr_le16(w, m->offset);
	pcitsm_wr_le16(w, m->length);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_get_certificate(const uint8_t *p, size_t len, uint8_t version,
				    struct spdm_get_cert *m, size_t *mlen)
{
	struct pcitsm_rd r;
	uint8_t size_requested;

	pcitsm_rd_init(&r, p, len);
	rd_cert_params(&r, version, 1, &m->slot, &size_requested); /* 1.3: SlotSizeRequested */
	m->size_requested = size_requested;
	m->offset = pcitsm_rd_le16(&r);
	m->length = pcitsm_rd_le16(&r);
	return spdm_rd_end(&r, mlen);
}

/* CERTIFICATE: Param1 slot, Param2 reserved (1.3: certificate info bits 2:0), PortionLength,
 * RemainderLength, the portion. */
pcitsm_err spdm_enc_certificate(struct pcitsm_wr *w, uint8_t version, const struct spdm_cert *m)
{
	wr_hdr(w, version, PCITSM_SPDM_CERTIFICATE, m->slot,
	       version >= PCITSM_SPDM_V13 ? m->info : 0);
	pcitsm_wr_le16(w, m->portion_len);
	pcitsm_wr_le16(w, m->remainder_len);
	pcitsm_wr_bytes(w, m->portion, m->portion_len);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_certificate(const uint8_t *p, size_t len, uint8_t version, struct spdm_cert *m,
				size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	rd_cert_params(&r, version, 7, &m->slot, &m->info); /* 1.3: certificate info */
	m->portion_len = pcitsm_rd_le16(&r);
	m->remainder_len = pcitsm_rd_le16(&r);
	m->portion = pcitsm_rd_bytes(&r, m->portion_len);
	return spdm_rd_end(&r, mlen);
}

/* CHALLENGE: Param1 slot (0-7, 0xff), Param2 summary type (0, 1, 0xff), Nonce, 1.3 context. */
static bool summary_type_ok(uint8_t t)
{
	return t == 0 || t == 1 || t == 0xff;
}

pcitsm_err spdm_enc_challenge(struct pcitsm_wr *w, uint8_t version, const struct spdm_challenge *m)
{
	wr_hdr(w, version, PCITSM_SPDM_CHALLENGE, m->slot, m->summary_type);
	pcitsm_wr_bytes(w, m->nonce, sizeof(m->nonce));
	if (version >= PCITSM_SPDM_V13)
		pcitsm_wr_bytes(w, m->context, sizeof(m->context));
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_challenge(const uint8_t *p, size_t len, uint8_t version,
			      struct spdm_challenge *m, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->slot, &m->summary_type);
	pcitsm_rd_check(&r, m->slot < PCITSM_SPDM_MAX_SLOTS || m->slot == 0xff, PCITSM_E_FIELD);
	pcitsm_rd_check(&r, summary_type_ok(m->summary_type), PCITSM_E_FIELD);
	pcitsm_rd_copy(&r, m->nonce, sizeof(m->nonce));
	if (version >= PCITSM_SPDM_V13)
		pcitsm_rd_copy(&r, m->context, sizeof(m->context));
	return spdm_rd_end(&r, mlen);
}

/* CHALLENGE_AUTH: CertChainHash[H] | Nonce | Summary[H or 0] | OpaqueLength | Opaque |
 * (1.3 RequesterContext) | Signature[S]. */
pcitsm_err spdm_enc_challenge_auth(struct pcitsm_wr *w, uint8_t version,
				   const struct spdm_challenge_auth *m, size_t hash_len)
{
	if (m->opaque_len > SPDM_MAX_OPAQUE)
		return PCITSM_E_INVAL;
	wr_hdr(w, version, PCITSM_SPDM_CHALLENGE_AUTH, m->slot & 0xf, m->slot_mask);
	pcitsm_wr_bytes(w, m->chain_hash, hash_len);
	pcitsm_wr_bytes(w, m->nonce, PCITSM_SPDM_NONCE_LEN);
	if (m->summary)
		pcitsm_wr_bytes(w, m->summary, hash_len);
	pcitsm_wr_le16(w, m->opaque_len);
	pcitsm_wr_bytes(w, m->opaque, m->opaque_len);
	if (version >= PCITSM_SPDM_V13)
		pcitsm_wr_bytes(w, m->context, PCITSM_SPDM_CONTEXT_LEN);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_challenge_auth(const uint8_t *p, size_t len, uint8_t version, size_t hash_len,
				   bool summary, size_t sig_len, struct spdm_challenge_auth *m,
				   size_t *mlen)
{
	struct pcitsm_rd r;
	uint8_t p1;

	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &p1, &m->slot_mask);
	/* Bits 7:4 reserved (bit 7 BasicMutAuthReq is deprecated from 1.2 and never used here). */
	pcitsm_rd_check(&r, (p1 & 0xf0) == 0, PCITSM_E_RESERVED);
	m->slot = p1 & 0xf;
	m->chain_hash = pcitsm_rd_bytes(&r, hash_len);
	m->nonce = pcitsm_rd_bytes(&r, PCITSM_SPDM_NONCE_LEN);
	m->summary = summary ? pcitsm_rd_bytes(&r, hash_len) : NULL;
	m->opaque_len = pcitsm_rd_le16(&r);
	pcitsm_rd_check(&r, m->opaque_len <= SPDM_MAX_OPAQUE, PCITSM_E_FIELD);
	m->opaque = pcitsm_rd_bytes(&r, m->opaque_len);
	m->context = version >= PCITSM_SPDM_V13 ? pcitsm_rd_bytes(&r, PCITSM_SPDM_CONTEXT_LEN) : NULL;
	m->signed_len = pcitsm_rd_pos(&r);
	m->signature = pcitsm_rd_bytes(&r, sig_len);
	return spdm_rd_end(&r, mlen);
}

/* GET_MEASUREMENTS: Param1 attributes, Param2 operation; with a signature Nonce and SlotIDParam
 * (1.1+); 1.3 RequesterContext always. */
static uint8_t meas_attr_mask(uint8_t version)
{
	return SPDM_MEAS_ATTR_SIG | SPDM_MEAS_ATTR_RAW |
	       (version >= PCITSM_SPDM_V13 ? SPDM_MEAS_ATTR_NEW : 0);
}

pcitsm_err spdm_enc_get_measurements(struct pcitsm_wr *w, uint8_t version,
				     const struct spdm_get_meas *m)
{
	wr_hdr(w, version, PCITSM_SPDM_GET_MEASUREMENTS, m->attributes, m->operation);
	if (m->attributes & SPDM_MEAS_ATTR_SIG) {
		pcitsm_wr_bytes(w, m->nonce, sizeof(m->nonce));
		if (version >= PCITSM_SPDM_V11)
			pcitsm_wr_u8(w, m->slot);
	}
	if (version >= PCITSM_SPDM_V13)
		pcitsm_wr_bytes(w, m->context, sizeof(m->context));
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_get_measurements(const uint8_t *p, size_t len, uint8_t version,
				     struct spdm_get_meas *m, size_t *mlen)
{
	struct pcitsm_rd r;

	*m = (struct spdm_get_meas){ 0 };
	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->attributes, &m->operation);
	pcitsm_rd_check(&r, (m->attributes & ~meas_attr_mask(version)) == 0, PCITSM_E_RESERVED);
	if (m->attributes & SPDM_MEAS_ATTR_SIG) {
		pcitsm_rd_copy(&r, m->nonce, sizeof(m->nonce));
		if (version >= PCITSM_SPDM_V11) {
			/* SlotIDParam: bits 3:0 slot (0xf: pre-provisioned key), 7:4 reserved. */
			m->slot = pcitsm_rd_u8(&r);
			pcitsm_rd_check(&r, (m->slot & 0xf0) == 0, PCITSM_E_RESERVED);
			pcitsm_rd_check(&r, m->slot < PCITSM_SPDM_MAX_SLOTS || m->slot == 0xf,
					PCITSM_E_FIELD);
		}
	}
	if (version >= PCITSM_SPDM_V13)
		pcitsm_rd_copy(&r, m->context, sizeof(m->context));
	return spdm_rd_end(&r, mlen);
}

/* MEASUREMENTS: NumberOfBlocks | RecordLength u24 | Record | Nonce | OpaqueLength | Opaque |
 * (1.3 RequesterContext) | Signature if requested. */
pcitsm_err spdm_enc_measurements(struct pcitsm_wr *w, uint8_t version, const struct spdm_meas *m)
{
	if (m->opaque_len > SPDM_MAX_OPAQUE || m->record_len > 0xffffff)
		return PCITSM_E_INVAL;
	wr_hdr(w, version, PCITSM_SPDM_MEASUREMENTS, m->param1, m->param2);
	pcitsm_wr_u8(w, m->nr_blocks);
	pcitsm_wr_le24(w, m->record_len);
	pcitsm_wr_bytes(w, m->record, m->record_len);
	pcitsm_wr_bytes(w, m->nonce, PCITSM_SPDM_NONCE_LEN);
	pcitsm_wr_le16(w, m->opaque_len);
	pcitsm_wr_bytes(w, m->opaque, m->opaque_len);
	if (version >= PCITSM_SPDM_V13)
		pcitsm_wr_bytes(w, m->context, PCITSM_SPDM_CONTEXT_LEN);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_measurements(const uint8_t *p, size_t len, uint8_t version, size_t sig_len,
				 struct spdm_meas *m, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->param1, &m->param2);
	pcitsm_rd_check(&r, (m->param2 & 0xc0) == 0, PCITSM_E_RESERVED);
	m->nr_blocks = pcitsm_rd_u8(&r);
	m->record_len = pcitsm_rd_le24(&r);
	m->record = pcitsm_rd_bytes(&r, m->record_len);
	m->nonce = pcitsm_rd_bytes(&r, PCITSM_SPDM_NONCE_LEN);
	m->opaque_len = pcitsm_rd_le16(&r);
	pcitsm_rd_check(&r, m->opaque_len <= SPDM_MAX_OPAQUE, PCITSM_E_FIELD);
	m->opaque = pcitsm_rd_bytes(&r, m->opaque_len);
	m->context = version >= PCITSM_SPDM_V13 ? pcitsm_rd_bytes(&r, PCITSM_SPDM_CONTEXT_LEN) : NULL;
	m->signed_len = pcitsm_rd_pos(&r);
	m->signature = sig_len ? pcitsm_rd_bytes(&r, sig_len) : NULL;
	return spdm_rd_end(&r, mlen);
}

/* Measurement block: Index | Spec (DMTF) | MeasurementSize u16 | Type | ValueSize u16 | Value. */
void spdm_enc_meas_block(struct pcitsm_wr *w, uint8_t index, uint8_t type, const uint8_t *value,
			 uint16_t value_len)
{
	pcitsm_wr_u8(w, index);
	pcitsm_wr_u8(w, PCITSM_SPDM_MEAS_SPEC_DMTF);
	pcitsm_wr_le16(w, (uint16_t)(3 + value_len));
	pcitsm_wr_u8(w, type);
	pcitsm_wr_le16(w, value_len);
	pcitsm_wr_bytes(w, value, value_len);
}

pcitsm_err pcitsm_spdm_meas_next(const uint8_t *record, size_t len, size_t *off,
				 struct pcitsm_spdm_meas_block *b)
{
	struct pcitsm_rd r, m;
	uint16_t size;

	if (*off >= len)
		return PCITSM_E_NOTFOUND;
	pcitsm_rd_init(&r, record + *off, len - *off);
	b->index = pcitsm_rd_u8(&r);
	b->spec = pcitsm_rd_u8(&r);
	size = pcitsm_rd_le16(&r);
	m = pcitsm_rd_sub(&r, size);
	/* Index 0 and 0xff are not block indices; only the DMTF format is understood. */
	pcitsm_rd_check(&r, b->index != 0 && b->index != 0xff, PCITSM_E_FIELD);
	pcitsm_rd_check(&r, b->spec == PCITSM_SPDM_MEAS_SPEC_DMTF, PCITSM_E_FIELD);
	PCITSM_TRY(pcitsm_rd_err(&r));
	b->type = pcitsm_rd_u8(&m);
	b->value_len = pcitsm_rd_le16(&m);
	b->value = pcitsm_rd_bytes(&m, b->value_len);
	PCITSM_TRY(pcitsm_rd_finish(&m));
	*off += pcitsm_rd_pos(&r);
	return PCITSM_OK;
}

/* ERROR: Param1 code, Param2 data, ExtendedErrorData (<= 32; 4 bytes for ResponseNotReady). */
pcitsm_err spdm_enc_error(struct pcitsm_wr *w, uint8_t version, uint8_t code, uint8_t data,
			  const uint8_t *ext, size_t ext_len)
{
	if (ext_len > SPDM_MAX_ERROR_EXT)
		return PCITSM_E_INVAL;
	wr_hdr(w, version, PCITSM_SPDM_ERROR, code, data);
	pcitsm_wr_bytes(w, ext, ext_len);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_error(const uint8_t *p, size_t len, struct spdm_error *m, size_t *mlen)
{
	struct pcitsm_rd r;

	*m = (struct spdm_error){ 0 };
	pcitsm_rd_init(&r, p, len);
	rd_params(&r, &m->code, &m->data);
	if (m->code == PCITSM_SPDM_ERR_RESPONSE_NOT_READY) {
		m->ext = r.err ? NULL : r.p + r.off;
		m->ext_len = 4;
		m->rdt_exponent = pcitsm_rd_u8(&r);
		m->request_code = pcitsm_rd_u8(&r);
		m->token = pcitsm_rd_u8(&r);
		m->rdtm = pcitsm_rd_u8(&r);
		return spdm_rd_end(&r, mlen);
	}
	/* Other codes: whatever follows is extended data (padding cannot be told apart). */
	m->ext = pcitsm_rd_rest(&r, &m->ext_len);
	pcitsm_rd_check(&r, m->ext_len <= SPDM_MAX_ERROR_EXT, PCITSM_E_LONG);
	PCITSM_TRY(pcitsm_rd_err(&r));
	if (mlen)
		*mlen = len;
	return PCITSM_OK;
}

/* RESPOND_IF_READY: Param1 the original request code, Param2 the token. */
pcitsm_err spdm_enc_respond_if_ready(struct pcitsm_wr *w, uint8_t version, uint8_t code,
				     uint8_t token)
{
	wr_hdr(w, version, PCITSM_SPDM_RESPOND_IF_READY, code, token);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_respond_if_ready(const uint8_t *p, size_t len, uint8_t *code, uint8_t *token,
				     size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	rd_params(&r, code, token);
	return spdm_rd_end(&r, mlen);
}
