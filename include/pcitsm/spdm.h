/* SPDX-License-Identifier: MIT */
/*
 * The SPDM headers (DSP0274 1.0-1.3; secured messages DSP0277 1.1/1.2 as bound to PCIe DOE):
 *   pcitsm/spdm.h         protocol constants, names, algorithm translations: no state, no I/O
 *   pcitsm/spdm_req.h     requester engines: the connection (VCA, authentication) and its secure
 *                         sessions; bytes in, bytes out, no transport
 *   pcitsm/spdm_rsp.h     the responder engine, its vendor-defined protocol registry and its fault
 *                         injection (tests, pcitsmd --fault); bytes in, bytes out, no transport
 *   pcitsm/spdm_driver.h  driver calls: every function that moves bytes over a transport
 *                         (struct pcitsm_xport) is here and named pcitsm_spdm_drv_*
 *   pcitsm/session.h      the key schedule and the DSP0277 record layer (pcitsm_record_*)
 * Choices where a specification left room: docs/spdm.md, docs/sessions.md.
 *
 * This header: the protocol's constants and the pure helpers every role shares.
 */
#ifndef PCITSM_SPDM_H
#define PCITSM_SPDM_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"

/* ---------------------------------------------------------------------------------------------
 * Protocol constants (DSP0274 1.3).
 */
#define PCITSM_SPDM_V10 0x10
#define PCITSM_SPDM_V11 0x11
#define PCITSM_SPDM_V12 0x12
#define PCITSM_SPDM_V13 0x13
#define PCITSM_SPDM_V14 0x14

/* "1.0" .. "1.3" (the versions implemented in both roles, docs/spdm.md) into the version byte;
 * E_INVAL for anything else. Parse at the edge, then pin a role with the helpers below. */
pcitsm_err pcitsm_spdm_version_parse(const char *s, uint8_t *out) PCITSM_MUST_CHECK;
/* "1.0, 1.1" from version bytes, into buf (always NUL-terminated when len > 0). */
const char *pcitsm_spdm_version_list_str(const uint8_t *v, unsigned n, char *buf, size_t len);

/* Request and response codes (DSP0274 1.3 request and response codes). */
#define PCITSM_SPDM_CODES(X)                                                  \
	X(DIGESTS, 0x01) X(CERTIFICATE, 0x02) X(CHALLENGE_AUTH, 0x03)         \
	X(VERSION, 0x04) X(CHUNK_SEND_ACK, 0x05) X(CHUNK_RESPONSE, 0x06)      \
	X(ENDPOINT_INFO, 0x07) X(MEASUREMENTS, 0x60) X(CAPABILITIES, 0x61)    \
	X(SUPPORTED_EVENT_TYPES, 0x62) X(ALGORITHMS, 0x63)                    \
	X(KEY_EXCHANGE_RSP, 0x64) X(FINISH_RSP, 0x65) X(PSK_EXCHANGE_RSP, 0x66) \
	X(PSK_FINISH_RSP, 0x67) X(HEARTBEAT_ACK, 0x68) X(KEY_UPDATE_ACK, 0x69) \
	X(ENCAPSULATED_REQUEST, 0x6a) X(ENCAPSULATED_RESPONSE_ACK, 0x6b)      \
	X(END_SESSION_ACK, 0x6c) X(CSR, 0x6d) X(SET_CERTIFICATE_RSP, 0x6e)    \
	X(MEASUREMENT_EXTENSION_LOG, 0x6f) X(SUBSCRIBE_EVENT_TYPES_ACK, 0x70) \
	X(EVENT_ACK, 0x71) X(KEY_PAIR_INFO, 0x7c) X(SET_KEY_PAIR_INFO_ACK, 0x7d) \
	X(VENDOR_DEFINED_RESPONSE, 0x7e) X(ERROR, 0x7f)                       \
	X(GET_DIGESTS, 0x81) X(GET_CERTIFICATE, 0x82) X(CHALLENGE, 0x83)      \
	X(GET_VERSION, 0x84) X(CHUNK_SEND, 0x85) X(CHUNK_GET, 0x86)           \
	X(GET_ENDPOINT_INFO, 0x87) X(GET_MEASUREMENTS, 0xe0)                  \
	X(GET_CAPABILITIES, 0xe1) X(GET_SUPPORTED_EVENT_TYPES, 0xe2)          \
	X(NEGOTIATE_ALGORITHMS, 0xe3) X(KEY_EXCHANGE, 0xe4) X(FINISH, 0xe5)   \
	X(PSK_EXCHANGE, 0xe6) X(PSK_FINISH, 0xe7) X(HEARTBEAT, 0xe8)          \
	X(KEY_UPDATE, 0xe9) X(GET_ENCAPSULATED_REQUEST, 0xea)                 \
	X(DELIVER_ENCAPSULATED_RESPONSE, 0xeb) X(END_SESSION, 0xec)           \
	X(GET_CSR, 0xed) X(SET_CERTIFICATE, 0xee)                             \
	X(GET_MEASUREMENT_EXTENSION_LOG, 0xef) X(SUBSCRIBE_EVENT_TYPES, 0xf0) \
	X(SEND_EVENT, 0xf1) X(GET_KEY_PAIR_INFO, 0xfc) X(SET_KEY_PAIR_INFO, 0xfd) \
	X(VENDOR_DEFINED_REQUEST, 0xfe) X(RESPOND_IF_READY, 0xff)

enum pcitsm_spdm_code {
#define PCITSM_SPDM_CODE_ENUM(name, val) PCITSM_SPDM_##name = (val),
	PCITSM_SPDM_CODES(PCITSM_SPDM_CODE_ENUM)
#undef PCITSM_SPDM_CODE_ENUM
};
/* "GET_VERSION"; "0x??" style name "UNKNOWN" for codes not in the table. */
const char *pcitsm_spdm_code_name(uint8_t code);

/* ERROR codes (DSP0274 1.3 ERROR and RESPOND_IF_READY). */
#define PCITSM_SPDM_ERRORS(X)                                                       \
	X(INVALID_REQUEST, 0x01, "InvalidRequest") X(BUSY, 0x03, "Busy")            \
	X(UNEXPECTED_REQUEST, 0x04, "UnexpectedRequest")                            \
	X(UNSPECIFIED, 0x05, "Unspecified") X(DECRYPT_ERROR, 0x06, "DecryptError")  \
	X(UNSUPPORTED_REQUEST, 0x07, "UnsupportedRequest")                          \
	X(REQUEST_IN_FLIGHT, 0x08, "RequestInFlight")                               \
	X(INVALID_RESPONSE_CODE, 0x09, "InvalidResponseCode")                       \
	X(SESSION_LIMIT_EXCEEDED, 0x0a, "SessionLimitExceeded")                     \
	X(SESSION_REQUIRED, 0x0b, "SessionRequired")                                \
	X(RESET_REQUIRED, 0x0c, "ResetRequired")                                    \
	X(RESPONSE_TOO_LARGE, 0x0d, "ResponseTooLarge")                             \
	X(REQUEST_TOO_LARGE, 0x0e, "RequestTooLarge")                               \
	X(LARGE_RESPONSE, 0x0f, "LargeResponse") X(MESSAGE_LOST, 0x10, "MessageLost") \
	X(INVALID_POLICY, 0x11, "InvalidPolicy") X(DATA_TOO_LARGE, 0x12, "DataTooLarge") \
	X(VERSION_MISMATCH, 0x41, "VersionMismatch")                                \
	X(RESPONSE_NOT_READY, 0x42, "ResponseNotReady")                             \
	X(REQUEST_RESYNCH, 0x43, "RequestResynch")                                  \
	X(OPERATION_FAILED, 0x44, "OperationFailed")                                \
	X(NO_PENDING_REQUESTS, 0x45, "NoPendingRequests")                           \
	X(VENDOR_DEFINED, 0xff, "VendorDefined")

enum pcitsm_spdm_error_code {
#define PCITSM_SPDM_ERROR_ENUM(name, val, str) PCITSM_SPDM_ERR_##name = (val),
	PCITSM_SPDM_ERRORS(PCITSM_SPDM_ERROR_ENUM)
#undef PCITSM_SPDM_ERROR_ENUM
};
const char *pcitsm_spdm_error_name(uint8_t code); /* "ResponseNotReady" */

/* CAPABILITIES flags (DSP0274 1.3 GET_CAPABILITIES). */
#define PCITSM_SPDM_CAP_CACHE (1u << 0)
#define PCITSM_SPDM_CAP_CERT (1u << 1)
#define PCITSM_SPDM_CAP_CHAL (1u << 2)
#define PCITSM_SPDM_CAP_MEAS_MASK (3u << 3)
#define PCITSM_SPDM_CAP_MEAS_NOSIG (1u << 3)
#define PCITSM_SPDM_CAP_MEAS_SIG (2u << 3)
#define PCITSM_SPDM_CAP_MEAS_FRESH (1u << 5)
#define PCITSM_SPDM_CAP_ENCRYPT (1u << 6)
#define PCITSM_SPDM_CAP_MAC (1u << 7)
#define PCITSM_SPDM_CAP_MUT_AUTH (1u << 8)
#define PCITSM_SPDM_CAP_KEY_EX (1u << 9)
#define PCITSM_SPDM_CAP_PSK_MASK (3u << 10)
#define PCITSM_SPDM_CAP_ENCAP (1u << 12)
#define PCITSM_SPDM_CAP_HBEAT (1u << 13)
#define PCITSM_SPDM_CAP_KEY_UPD (1u << 14)
#define PCITSM_SPDM_CAP_HANDSHAKE_IN_CLEAR (1u << 15)
#define PCITSM_SPDM_CAP_PUB_KEY_ID (1u << 16)
#define PCITSM_SPDM_CAP_CHUNK (1u << 17)

/* Algorithm bits (DSP0274 1.3 NEGOTIATE_ALGORITHMS). */
#define PCITSM_SPDM_ASYM_RSASSA_2048 0x001u
#define PCITSM_SPDM_ASYM_RSAPSS_2048 0x002u
#define PCITSM_SPDM_ASYM_RSASSA_3072 0x004u
#define PCITSM_SPDM_ASYM_RSAPSS_3072 0x008u
#define PCITSM_SPDM_ASYM_ECDSA_P256 0x010u
#define PCITSM_SPDM_ASYM_ECDSA_P384 0x080u
#define PCITSM_SPDM_HASH_SHA256 0x01u
#define PCITSM_SPDM_HASH_SHA384 0x02u
#define PCITSM_SPDM_HASH_SHA512 0x04u
#define PCITSM_SPDM_MEAS_HASH_RAW 0x01u
#define PCITSM_SPDM_MEAS_HASH_SHA256 0x02u
#define PCITSM_SPDM_MEAS_HASH_SHA384 0x04u
#define PCITSM_SPDM_MEAS_HASH_SHA512 0x08u
#define PCITSM_SPDM_MEAS_SPEC_DMTF 0x01u
#define PCITSM_SPDM_OPAQUE_FMT1 0x02u
#define PCITSM_SPDM_ALG_TYPE_DHE 2
#define PCITSM_SPDM_ALG_TYPE_AEAD 3
#define PCITSM_SPDM_ALG_TYPE_REQ_ASYM 4
#define PCITSM_SPDM_ALG_TYPE_KEY_SCHEDULE 5
#define PCITSM_SPDM_DHE_SECP256R1 0x08u
#define PCITSM_SPDM_DHE_SECP384R1 0x10u
#define PCITSM_SPDM_AEAD_AES_128_GCM 0x01u
#define PCITSM_SPDM_AEAD_AES_256_GCM 0x02u
#define PCITSM_SPDM_KEY_SCHEDULE_SPDM 0x01u

/* Translations between SPDM algorithm bits and crypto.h algorithms (NONE if not supported). */
enum pcitsm_hash_alg pcitsm_spdm_hash_alg(uint32_t base_hash_bit);
enum pcitsm_hash_alg pcitsm_spdm_meas_hash_alg(uint32_t meas_hash_bit);
enum pcitsm_sig_alg pcitsm_spdm_sig_alg(uint32_t base_asym_bit);
enum pcitsm_dhe_alg pcitsm_spdm_dhe_alg(uint16_t dhe_bit);
enum pcitsm_aead_alg pcitsm_spdm_aead_alg(uint16_t aead_bit);
/* The capabilities a session needs on both sides (PCIe 6.x §6.31: ENCRYPT_CAP and MAC_CAP,
 * KEY_EX_CAP), and the ones this implementation adds to them by default (HBEAT_CAP,
 * KEY_UPD_CAP). */
#define PCITSM_SPDM_CAPS_SESSION \
	(PCITSM_SPDM_CAP_ENCRYPT | PCITSM_SPDM_CAP_MAC | PCITSM_SPDM_CAP_KEY_EX | \
	 PCITSM_SPDM_CAP_HBEAT | PCITSM_SPDM_CAP_KEY_UPD)

#define PCITSM_SPDM_NONCE_LEN 32
#define PCITSM_SPDM_CONTEXT_LEN 8 /* RequesterContext, 1.3 */
#define PCITSM_SPDM_MAX_SLOTS 8
#define PCITSM_SPDM_MAX_CHAIN 0xffff /* chain Length is a u16 in 1.2/1.3 (DSP0274 1.3) */
#define PCITSM_SPDM_MAX_MEAS_BLOCKS 64
#define PCITSM_SPDM_VCA_MAX 1536 /* transcript A: the six VCA messages at their largest */
/* Retry bounds: Busy answers tolerated per request, RequestResynch restarts per authentication,
 * ResponseNotReady waits per request. */
#define PCITSM_SPDM_BUSY_RETRIES 3
#define PCITSM_SPDM_RESYNCH_RETRIES 2
#define PCITSM_SPDM_NOT_READY_RETRIES 3

/* One measurement block (DSP0274 1.3 GET_MEASUREMENTS), parsed. value points into the record it
 * came from. */
struct pcitsm_spdm_meas_block {
	uint8_t index;
	uint8_t spec;       /* MeasurementSpecification, bit 0 DMTF */
	uint8_t type;       /* DMTF Type byte: bit 7 raw, bits 6:0 value type */
	const uint8_t *value;
	uint16_t value_len;
};

/* Walk a MeasurementRecord: *off starts at 0; E_NOTFOUND at the end. */
pcitsm_err pcitsm_spdm_meas_next(const uint8_t *record, size_t len, size_t *off,
				 struct pcitsm_spdm_meas_block *b) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * VENDOR_DEFINED_REQUEST / RESPONSE for PCI-SIG protocols (DSP0274 1.3 VENDOR_DEFINED_REQUEST;
 * PCIe 6.x §6.33.3, §11). On the wire:
 *
 *   SPDM hdr (4) | StandardID u16 = 3 | Len u8 = 2 | VendorID u16 = 0x0001 | Req/RespLength u16 |
 *   payload: Protocol ID u8 | protocol object ...
 *
 * The SPDM layer adds and strips everything up to the payload; protocol code sees the payload from
 * its Protocol ID byte (offset 0 of PCIe 6.x §6.33.3). These messages are served only inside a
 * secure session: one received outside a session is ignored (no response), as PCIe 6.x §6.33.3
 * requires.
 */
#define PCITSM_SPDM_STANDARD_PCISIG 3
#define PCITSM_SPDM_VENDOR_PCISIG 0x0001
#define PCITSM_SPDM_VDM_HDR_LEN 11 /* up to and including Req/RespLength */
#define PCITSM_SPDM_PROTO_IDE_KM 0x00
#define PCITSM_SPDM_PROTO_TDISP 0x01
#define PCITSM_SPDM_MAX_VDM_PROTOCOLS 4 /* handlers one responder can register */

#endif /* PCITSM_SPDM_H */
