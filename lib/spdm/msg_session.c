/* SPDX-License-Identifier: MIT */
/*
 * Codecs of the session messages (DSP0274 1.3 KEY_EXCHANGE, VENDOR_DEFINED_REQUEST): KEY_EXCHANGE,
 * KEY_EXCHANGE_RSP, FINISH, the 4-byte messages (FINISH_RSP, END_SESSION, HEARTBEAT, KEY_UPDATE and
 * their ACKs) and VENDOR_DEFINED_REQUEST / RESPONSE. Structure only; the engines check meaning.
 */
#include "msg.h"

pcitsm_err spdm_enc_hdr(struct pcitsm_wr *w, uint8_t version, uint8_t code, uint8_t p1, uint8_t p2)
{
	pcitsm_wr_u8(w, version);
	pcitsm_wr_u8(w, code);
	pcitsm_wr_u8(w, p1);
	pcitsm_wr_u8(w, p2);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_hdr_only(const uint8_t *p, size_t len, struct spdm_hdr *h, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	h->version = pcitsm_rd_u8(&r);
	h->code = pcitsm_rd_u8(&r);
	h->param1 = pcitsm_rd_u8(&r);
	h->param2 = pcitsm_rd_u8(&r);
	return spdm_rd_end(&r, mlen);
}

/* KEY_EXCHANGE: hdr | ReqSessionID | SessionPolicy | rsvd | Random[32] | ExchangeData[D] |
 * OpaqueDataLength | OpaqueData. SessionPolicy is reserved before 1.2. */
pcitsm_err spdm_enc_key_exchange(struct pcitsm_wr *w, uint8_t version,
				 const struct spdm_key_exchange *m, size_t dhe_len)
{
	if (m->opaque_len > SPDM_MAX_OPAQUE)
		return PCITSM_E_INVAL;
	PCITSM_TRY(spdm_enc_hdr(w, version, PCITSM_SPDM_KEY_EXCHANGE, m->summary_type, m->slot));
	pcitsm_wr_le16(w, m->req_session_id);
	pcitsm_wr_u8(w, version >= PCITSM_SPDM_V12 ? m->session_policy : 0);
	pcitsm_wr_u8(w, 0);
	pcitsm_wr_bytes(w, m->random, SPDM_RANDOM_LEN);
	pcitsm_wr_bytes(w, m->exchange, dhe_len);
	pcitsm_wr_le16(w, m->opaque_len);
	pcitsm_wr_bytes(w, m->opaque, m->opaque_len);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_key_exchange(const uint8_t *p, size_t len, uint8_t version, size_t dhe_len,
				 struct spdm_key_exchange *m, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_skip(&r, 2);
	m->summary_type = pcitsm_rd_u8(&r);
	m->slot = pcitsm_rd_u8(&r);
	m->req_session_id = pcitsm_rd_le16(&r);
	if (version >= PCITSM_SPDM_V12)
		m->session_policy = pcitsm_rd_u8(&r);
	else
		pcitsm_rd_zero(&r, 1), m->session_policy = 0;
	pcitsm_rd_zero(&r, 1);
	m->random = pcitsm_rd_bytes(&r, SPDM_RANDOM_LEN);
	m->exchange = pcitsm_rd_bytes(&r, dhe_len);
	m->opaque_len = pcitsm_rd_le16(&r);
	pcitsm_rd_check(&r, m->opaque_len <= SPDM_MAX_OPAQUE, PCITSM_E_FIELD);
	m->opaque = pcitsm_rd_bytes(&r, m->opaque_len);
	pcitsm_rd_check(&r, m->summary_type == 0 || m->summary_type == 1 || m->summary_type == 0xff,
			PCITSM_E_FIELD);
	return spdm_rd_end(&r, mlen);
}

/* KEY_EXCHANGE_RSP: hdr(HeartbeatPeriod, rsvd) | RspSessionID | MutAuthRequested |
 * ReqSlotIDParam | Random[32] | ExchangeData[D] | [Summary H] | OpaqueDataLength | OpaqueData |
 * Signature[S] | ResponderVerifyData[H]. */
pcitsm_err spdm_enc_key_exchange_rsp(struct pcitsm_wr *w, uint8_t version,
				     const struct spdm_key_exchange_rsp *m, size_t dhe_len,
				     size_t hash_len)
{
	if (m->opaque_len > SPDM_MAX_OPAQUE)
		return PCITSM_E_INVAL;
	PCITSM_TRY(spdm_enc_hdr(w, version, PCITSM_SPDM_KEY_EXCHANGE_RSP, m->heartbeat_period, 0));
	pcitsm_wr_le16(w, m->rsp_session_id);
	pcitsm_wr_u8(w, m->mut_auth);
	pcitsm_wr_u8(w, m->req_slot);
	pcitsm_wr_bytes(w, m->random, SPDM_RANDOM_LEN);
	pcitsm_wr_bytes(w, m->exchange, dhe_len);
	if (m->summary)
		pcitsm_wr_bytes(w, m->summary, hash_len);
	pcitsm_wr_le16(w, m->opaque_len);
	pcitsm_wr_bytes(w, m->opaque, m->opaque_len);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_key_exchange_rsp(const uint8_t *p, size_t len, uint8_t version, size_t dhe_len,
				     size_t hash_len, bool summary, size_t sig_len,
				     struct spdm_key_exchange_rsp *m, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_skip(&r, 2);
	m->heartbeat_period = pcitsm_rd_u8(&r);
	pcitsm_rd_zero(&r, 1);
	m->rsp_session_id = pcitsm_rd_le16(&r);
	m->mut_auth = pcitsm_rd_u8(&r);
	m->req_slot = pcitsm_rd_u8(&r);
	m->random = pcitsm_rd_bytes(&r, SPDM_RANDOM_LEN);
	m->exchange = pcitsm_rd_bytes(&r, dhe_len);
	m->summary = summary ? pcitsm_rd_bytes(&r, hash_len) : NULL;
	m->opaque_len = pcitsm_rd_le16(&r);
	pcitsm_rd_check(&r, m->opaque_len <= SPDM_MAX_OPAQUE, PCITSM_E_FIELD);
	m->opaque = pcitsm_rd_bytes(&r, m->opaque_len);
	m->signed_len = pcitsm_rd_pos(&r);
	m->signature = pcitsm_rd_bytes(&r, sig_len);
	m->verify_data = pcitsm_rd_bytes(&r, hash_len);
	(void)version;
	return spdm_rd_end(&r, mlen);
}

/* FINISH: Param1 bit 0 (signature included) must be clear here; Param2 the requester's slot
 * (reserved without a signature). */
pcitsm_err spdm_dec_finish(const uint8_t *p, size_t len, size_t hash_len, const uint8_t **verify,
			   size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_skip(&r, 2);
	pcitsm_rd_check(&r, !(pcitsm_rd_u8(&r) & 0x01), PCITSM_E_UNSUPPORTED);
	pcitsm_rd_skip(&r, 1);
	*verify = pcitsm_rd_bytes(&r, hash_len);
	return spdm_rd_end(&r, mlen);
}

/* VENDOR_DEFINED_*: hdr(rsvd, rsvd) | StandardID | Len | VendorID[Len] | Length u16 | payload. */
pcitsm_err spdm_enc_vdm(struct pcitsm_wr *w, uint8_t version, bool request,
			const struct spdm_vdm *m)
{
	PCITSM_TRY(spdm_enc_hdr(w, version,
				request ? PCITSM_SPDM_VENDOR_DEFINED_REQUEST :
					  PCITSM_SPDM_VENDOR_DEFINED_RESPONSE, 0, 0));
	pcitsm_wr_le16(w, m->standard_id);
	pcitsm_wr_u8(w, m->vendor_len);
	pcitsm_wr_bytes(w, m->vendor_id, m->vendor_len);
	pcitsm_wr_le16(w, m->payload_len);
	pcitsm_wr_bytes(w, m->payload, m->payload_len);
	return pcitsm_wr_err(w);
}

pcitsm_err spdm_dec_vdm(const uint8_t *p, size_t len, struct spdm_vdm *m, size_t *mlen)
{
	struct pcitsm_rd r;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_skip(&r, 2);
	pcitsm_rd_zero(&r, 2); /* 1.4's large-payload bit is not ours to accept */
	m->standard_id = pcitsm_rd_le16(&r);
	m->vendor_len = pcitsm_rd_u8(&r);
	m->vendor_id = pcitsm_rd_bytes(&r, m->vendor_len);
	m->payload_len = pcitsm_rd_le16(&r);
	m->payload = pcitsm_rd_bytes(&r, m->payload_len);
	return spdm_rd_end(&r, mlen);
}

bool spdm_vdm_is_pcisig(const struct spdm_vdm *m)
{
	return m->standard_id == PCITSM_SPDM_STANDARD_PCISIG && m->vendor_len == 2 &&
	       pcitsm_get_le16(m->vendor_id) == PCITSM_SPDM_VENDOR_PCISIG && m->payload_len >= 1;
}
