/* SPDX-License-Identifier: MIT */
/*
 * TDISP 1.0 message codecs (PCIe 6.x §11; libspdm's pci_tdisp.h agrees on every offset). Offsets
 * from the Protocol ID byte:
 *
 *   00 ProtocolID=0x01 | 01 TDISPVersion=0x10 | 02 MessageType | 03 rsvd[2] |
 *   05 INTERFACE_ID: FUNCTION_ID u32 | rsvd[8] | 17 payload
 *
 *   GET_TDISP_VERSION            -                                                    17
 *   TDISP_VERSION                VERSION_NUM_COUNT u8 | VERSION_NUM_ENTRY u8[count]   18 + count
 *   GET_TDISP_CAPABILITIES       TSM_CAPS u32                                         21
 *   TDISP_CAPABILITIES           DSM_CAPS u32 | REQ_MSGS_SUPPORTED[16] | LOCK_INTERFACE_FLAGS
 *                                _SUPPORTED u16 | rsvd[3] | DEV_ADDR_WIDTH | NUM_REQ_THIS |
 *                                NUM_REQ_ALL                                          45
 *   LOCK_INTERFACE_REQUEST       FLAGS u16 | DEFAULT_STREAM_ID u8 | rsvd | MMIO_REPORTING_OFFSET
 *                                u64 | BIND_P2P_ADDRESS_MASK u64                      37
 *   LOCK_INTERFACE_RESPONSE      START_INTERFACE_NONCE[32]                            49
 *   GET_DEVICE_INTERFACE_REPORT  OFFSET u16 | LENGTH u16                              21
 *   DEVICE_INTERFACE_REPORT      PORTION_LENGTH u16 | REMAINDER_LENGTH u16 | bytes    21 + portion
 *   GET_DEVICE_INTERFACE_STATE   -                                                    17
 *   DEVICE_INTERFACE_STATE       TDI_STATE u8                                         18
 *   START_INTERFACE_REQUEST      START_INTERFACE_NONCE[32]                            49
 *   START_INTERFACE_RESPONSE, STOP_INTERFACE_REQUEST, STOP_INTERFACE_RESPONSE: -      17
 *   TDISP_ERROR                  ERROR_CODE u32 | ERROR_DATA u32 | EXTENDED_ERROR_DATA 25 + ext
 *
 * Everything goes through the bounded reader and writer; decoders accept exactly one size.
 */
#include <string.h>

#include "pcitsm/tdisp.h"

#define OFF_VERSION 1
#define OFF_CODE 2
#define IFID_RSVD_LEN 8

PCITSM_NAME_FN(pcitsm_tdisp_code_name, uint8_t, PCITSM_TDISP_CODES, "UNKNOWN")

PCITSM_NAME_FN(pcitsm_tdisp_error_name, uint32_t, PCITSM_TDISP_ERRORS, "UNKNOWN")

PCITSM_NAME_FN(pcitsm_tdisp_state_name, uint8_t, PCITSM_TDISP_STATES, "UNKNOWN")

/* The payload size (after the header) of each code this codec carries; -1: variable (checked by
 * its decoder), -2: not carried. */
#define VAR (-1)
#define NOT (-2)
static int payload_len(uint8_t code)
{
	switch (code) {
	case PCITSM_TDISP_GET_TDISP_VERSION:
	case PCITSM_TDISP_GET_DEVICE_INTERFACE_STATE:
	case PCITSM_TDISP_START_INTERFACE_RESPONSE:
	case PCITSM_TDISP_STOP_INTERFACE_REQUEST:
	case PCITSM_TDISP_STOP_INTERFACE_RESPONSE:
		return 0;
	case PCITSM_TDISP_GET_TDISP_CAPABILITIES:
	case PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT:
		return 4;
	case PCITSM_TDISP_TDISP_CAPABILITIES:
		return 28;
	case PCITSM_TDISP_LOCK_INTERFACE_REQUEST:
		return 20;
	case PCITSM_TDISP_LOCK_INTERFACE_RESPONSE:
	case PCITSM_TDISP_START_INTERFACE_REQUEST:
		return PCITSM_TDISP_NONCE_LEN;
	case PCITSM_TDISP_DEVICE_INTERFACE_STATE:
		return 1;
	case PCITSM_TDISP_TDISP_VERSION:
	case PCITSM_TDISP_DEVICE_INTERFACE_REPORT:
	case PCITSM_TDISP_TDISP_ERROR:
		return VAR;
	default:
		return NOT;
	}
}

pcitsm_err pcitsm_tdisp_peek(const uint8_t *p, size_t n, uint8_t *version, uint8_t *code,
			     uint32_t *function_id)
{
	struct pcitsm_rd r;
	uint64_t rsvd_tail;
	uint16_t rsvd;
	uint8_t proto;

	pcitsm_rd_init(&r, p, n);
	proto = pcitsm_rd_u8(&r);
	*version = pcitsm_rd_u8(&r);
	*code = pcitsm_rd_u8(&r);
	rsvd = pcitsm_rd_le16(&r);
	*function_id = pcitsm_rd_le32(&r);
	rsvd_tail = pcitsm_rd_le64(&r);
	if (n >= 1 && proto != PCITSM_TDISP_PROTOCOL_ID)
		return PCITSM_E_FIELD;
	if (pcitsm_rd_err(&r))
		return pcitsm_rd_err(&r);
	if (rsvd || rsvd_tail || *function_id & PCITSM_TDISP_FUNCTION_ID_RSVD)
		return PCITSM_E_RESERVED;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Encoder
 */
pcitsm_err pcitsm_tdisp_encode(struct pcitsm_wr *w, const struct pcitsm_tdisp_msg *m)
{
	size_t start = pcitsm_wr_len(w);

	if (!m || payload_len(m->code) == NOT || m->function_id & PCITSM_TDISP_FUNCTION_ID_RSVD)
		return PCITSM_E_INVAL;
	switch (m->code) {
	case PCITSM_TDISP_TDISP_VERSION:
		if (!m->u.version.count || m->u.version.count > PCITSM_TDISP_MAX_VERSIONS)
			return PCITSM_E_INVAL;
		break;
	case PCITSM_TDISP_DEVICE_INTERFACE_REPORT:
		if (m->u.report.portion && !m->u.report.bytes)
			return PCITSM_E_INVAL;
		break;
	case PCITSM_TDISP_TDISP_ERROR:
		if ((m->u.error.ext_len && m->u.error.code != PCITSM_TDISP_ERR_VENDOR_SPECIFIC_ERROR) ||
		    (m->u.error.ext_len && !m->u.error.ext) ||
		    (m->u.error.code == PCITSM_TDISP_ERR_VENDOR_SPECIFIC_ERROR &&
		     m->u.error.data != m->u.error.ext_len))
			return PCITSM_E_INVAL;
		break;
	default:
		break;
	}
	pcitsm_wr_u8(w, PCITSM_TDISP_PROTOCOL_ID);
	pcitsm_wr_u8(w, PCITSM_TDISP_VERSION_10);
	pcitsm_wr_u8(w, m->code);
	pcitsm_wr_zero(w, 2);
	pcitsm_wr_le32(w, m->function_id);
	pcitsm_wr_zero(w, IFID_RSVD_LEN);
	switch (m->code) {
	case PCITSM_TDISP_TDISP_VERSION:
		pcitsm_wr_u8(w, m->u.version.count);
		pcitsm_wr_bytes(w, m->u.version.v, m->u.version.count);
		break;
	case PCITSM_TDISP_GET_TDISP_CAPABILITIES:
		pcitsm_wr_le32(w, m->u.tsm_caps);
		break;
	case PCITSM_TDISP_TDISP_CAPABILITIES:
		pcitsm_wr_le32(w, m->u.caps.dsm_caps);
		pcitsm_wr_bytes(w, m->u.caps.req_msgs, PCITSM_TDISP_REQ_MSGS_LEN);
		pcitsm_wr_le16(w, m->u.caps.lock_flags);
		pcitsm_wr_zero(w, 3);
		pcitsm_wr_u8(w, m->u.caps.dev_addr_width);
		pcitsm_wr_u8(w, m->u.caps.num_req_this);
		pcitsm_wr_u8(w, m->u.caps.num_req_all);
		break;
	case PCITSM_TDISP_LOCK_INTERFACE_REQUEST:
		pcitsm_wr_le16(w, m->u.lock.flags);
		pcitsm_wr_u8(w, m->u.lock.stream_id);
		pcitsm_wr_zero(w, 1);
		pcitsm_wr_le64(w, (uint64_t)m->u.lock.mmio_offset);
		pcitsm_wr_le64(w, m->u.lock.p2p_mask);
		break;
	case PCITSM_TDISP_LOCK_INTERFACE_RESPONSE:
	case PCITSM_TDISP_START_INTERFACE_REQUEST:
		pcitsm_wr_bytes(w, m->u.nonce, PCITSM_TDISP_NONCE_LEN);
		break;
	case PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT:
		pcitsm_wr_le16(w, m->u.get_report.offset);
		pcitsm_wr_le16(w, m->u.get_report.length);
		break;
	case PCITSM_TDISP_DEVICE_INTERFACE_REPORT:
		pcitsm_wr_le16(w, m->u.report.portion);
		pcitsm_wr_le16(w, m->u.report.remainder);
		pcitsm_wr_bytes(w, m->u.report.bytes, m->u.report.portion);
		break;
	case PCITSM_TDISP_DEVICE_INTERFACE_STATE:
		pcitsm_wr_u8(w, m->u.state);
		break;
	case PCITSM_TDISP_TDISP_ERROR:
		pcitsm_wr_le32(w, m->u.error.code);
		pcitsm_wr_le32(w, m->u.error.data);
		pcitsm_wr_bytes(w, m->u.error.ext, m->u.error.ext_len);
		break;
	default:
		break;
	}
	if (pcitsm_wr_err(w)) {
		/* Nothing half-written stays visible: wipe what went in (a nonce may have). */
		if (w->off > start && start < w->cap)
			pcitsm_wipe(w->p + start, PCITSM_MIN(w->off, w->cap) - start);
		w->off = start;
		return pcitsm_wr_err(w);
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Decoder
 */
static void decode_payload(struct pcitsm_rd *r, struct pcitsm_tdisp_msg *m)
{
	switch (m->code) {
	case PCITSM_TDISP_TDISP_VERSION:
		m->u.version.count = pcitsm_rd_u8(r);
		if (m->u.version.count < 1 || m->u.version.count > PCITSM_TDISP_MAX_VERSIONS) {
			pcitsm_rd_fail(r, PCITSM_E_FIELD); /* and never copy past v[] */
			break;
		}
		pcitsm_rd_copy(r, m->u.version.v, m->u.version.count);
		break;
	case PCITSM_TDISP_GET_TDISP_CAPABILITIES:
		m->u.tsm_caps = pcitsm_rd_le32(r);
		break;
	case PCITSM_TDISP_TDISP_CAPABILITIES:
		m->u.caps.dsm_caps = pcitsm_rd_le32(r);
		pcitsm_rd_copy(r, m->u.caps.req_msgs, PCITSM_TDISP_REQ_MSGS_LEN);
		m->u.caps.lock_flags = pcitsm_rd_le16(r);
		pcitsm_rd_zero(r, 3);
		m->u.caps.dev_addr_width = pcitsm_rd_u8(r);
		m->u.caps.num_req_this = pcitsm_rd_u8(r);
		m->u.caps.num_req_all = pcitsm_rd_u8(r);
		break;
	case PCITSM_TDISP_LOCK_INTERFACE_REQUEST:
		m->u.lock.flags = pcitsm_rd_le16(r);
		m->u.lock.stream_id = pcitsm_rd_u8(r);
		pcitsm_rd_zero(r, 1);
		m->u.lock.mmio_offset = (int64_t)pcitsm_rd_le64(r);
		m->u.lock.p2p_mask = pcitsm_rd_le64(r);
		pcitsm_rd_check(r, !(m->u.lock.flags & ~PCITSM_TDISP_LOCK_FLAGS_DEFINED),
				PCITSM_E_RESERVED);
		break;
	case PCITSM_TDISP_LOCK_INTERFACE_RESPONSE:
	case PCITSM_TDISP_START_INTERFACE_REQUEST:
		pcitsm_rd_copy(r, m->u.nonce, PCITSM_TDISP_NONCE_LEN);
		break;
	case PCITSM_TDISP_GET_DEVICE_INTERFACE_REPORT:
		m->u.get_report.offset = pcitsm_rd_le16(r);
		m->u.get_report.length = pcitsm_rd_le16(r);
		break;
	case PCITSM_TDISP_DEVICE_INTERFACE_REPORT:
		m->u.report.portion = pcitsm_rd_le16(r);
		m->u.report.remainder = pcitsm_rd_le16(r);
		m->u.report.bytes = pcitsm_rd_bytes(r, m->u.report.portion);
		break;
	case PCITSM_TDISP_DEVICE_INTERFACE_STATE:
		m->u.state = pcitsm_rd_u8(r);
		break;
	case PCITSM_TDISP_TDISP_ERROR:
		m->u.error.code = pcitsm_rd_le32(r);
		m->u.error.data = pcitsm_rd_le32(r);
		if (m->u.error.code == PCITSM_TDISP_ERR_VENDOR_SPECIFIC_ERROR) {
			/* ERROR_DATA is the length of the extended error data. */
			m->u.error.ext = pcitsm_rd_rest(r, &m->u.error.ext_len);
			pcitsm_rd_check(r, m->u.error.data == m->u.error.ext_len, PCITSM_E_FIELD);
		}
		break;
	default:
		break;
	}
}

pcitsm_err pcitsm_tdisp_decode(const uint8_t *p, size_t n, struct pcitsm_tdisp_msg *m)
{
	struct pcitsm_rd r;
	uint8_t version;
	pcitsm_err e;
	int plen;

	memset(m, 0, sizeof(*m));
	e = pcitsm_tdisp_peek(p, n, &version, &m->code, &m->function_id);
	if (!e && version != PCITSM_TDISP_VERSION_10)
		e = PCITSM_E_VERSION;
	plen = payload_len(m->code);
	if (!e && plen == NOT)
		e = PCITSM_E_UNSUPPORTED;
	if (!e && plen >= 0 && n != PCITSM_TDISP_HDR_LEN + (size_t)plen)
		e = n < PCITSM_TDISP_HDR_LEN + (size_t)plen ? PCITSM_E_SHORT : PCITSM_E_LONG;
	if (!e) {
		pcitsm_rd_init(&r, p + PCITSM_TDISP_HDR_LEN, n - PCITSM_TDISP_HDR_LEN);
		decode_payload(&r, m);
		e = pcitsm_rd_finish(&r);
	}
	if (e)
		pcitsm_wipe(m, sizeof(*m));
	return e;
}
