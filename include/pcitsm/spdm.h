/* SPDX-License-Identifier: MIT */
/*
 * SPDM (DSP0274 1.0-1.3) for authentication: the requester engine (no I/O: build a request, feed
 * the response), a driver that runs the whole authentication over a DOE transport, and the
 * responder engine (request bytes in, response bytes out) that plugs into a DOE device.
 *
 * Facts: trusted-io-facts.md §A.6, §B, §G. Choices where the facts were unconfirmed: docs/spdm.md.
 */
#ifndef PCITSM_SPDM_H
#define PCITSM_SPDM_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/doe.h"
#include "pcitsm/session.h"

/* ---------------------------------------------------------------------------------------------
 * Protocol constants (facts B.1-B.10).
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

/* Request and response codes (facts B.2). */
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
#define PCITSM_SPDM_CODE_ENUM(name, val) PCITSM_SPDM_##name = val,
	PCITSM_SPDM_CODES(PCITSM_SPDM_CODE_ENUM)
#undef PCITSM_SPDM_CODE_ENUM
};
/* "GET_VERSION"; "0x??" style name "UNKNOWN" for codes not in the table. */
const char *pcitsm_spdm_code_name(uint8_t code);

/* ERROR codes (facts B.10). */
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
#define PCITSM_SPDM_ERROR_ENUM(name, val, str) PCITSM_SPDM_ERR_##name = val,
	PCITSM_SPDM_ERRORS(PCITSM_SPDM_ERROR_ENUM)
#undef PCITSM_SPDM_ERROR_ENUM
};
const char *pcitsm_spdm_error_name(uint8_t code); /* "ResponseNotReady" */

/* CAPABILITIES flags (facts B.3). */
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

/* Algorithm bits (facts B.4). */
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
/* The capabilities a session needs on both sides (facts A.6: ENCRYPT_CAP and MAC_CAP, KEY_EX_CAP),
 * and the ones this implementation adds to them by default (HBEAT_CAP, KEY_UPD_CAP). */
#define PCITSM_SPDM_CAPS_SESSION \
	(PCITSM_SPDM_CAP_ENCRYPT | PCITSM_SPDM_CAP_MAC | PCITSM_SPDM_CAP_KEY_EX | \
	 PCITSM_SPDM_CAP_HBEAT | PCITSM_SPDM_CAP_KEY_UPD)

#define PCITSM_SPDM_NONCE_LEN 32
#define PCITSM_SPDM_CONTEXT_LEN 8 /* RequesterContext, 1.3 */
#define PCITSM_SPDM_MAX_SLOTS 8
#define PCITSM_SPDM_MAX_CHAIN 0xffff /* an SPDM chain's Length is a u16 in 1.2/1.3 (facts B.5) */
#define PCITSM_SPDM_MAX_MEAS_BLOCKS 64
#define PCITSM_SPDM_VCA_MAX 1536 /* transcript A: the six VCA messages at their largest */
/* Retry bounds: Busy answers tolerated per request, RequestResynch restarts per authentication,
 * ResponseNotReady waits per request. */
#define PCITSM_SPDM_BUSY_RETRIES 3
#define PCITSM_SPDM_RESYNCH_RETRIES 2
#define PCITSM_SPDM_NOT_READY_RETRIES 3

/* One measurement block (facts B.7), parsed. value points into the record it came from. */
struct pcitsm_spdm_meas_block {
	uint8_t index;
	uint8_t spec;       /* MeasurementSpecification, bit 0 DMTF */
	uint8_t type;       /* DMTF Type byte: bit 7 raw, bits 6:0 value type */
	const uint8_t *value;
	uint16_t value_len;
};

/* ---------------------------------------------------------------------------------------------
 * Requester engine. No I/O: each pcitsm_spdm_req_<request>() writes the next request into w and
 * remembers it; pcitsm_spdm_req_feed() takes the response bytes (DOE padding tolerated). The first
 * error is sticky (the context stays failed until pcitsm_spdm_req_reset), except E_PEER_BUSY,
 * which means "the peer asked to retry": see pcitsm_spdm_req_retry.
 */
#define PCITSM_SPDM_PEER_VERSIONS 8
struct pcitsm_spdm_req_cfg {
	uint8_t min_version, max_version; /* default 1.2 .. 1.3 */
	uint32_t caps;                    /* our GET_CAPABILITIES flags (default 0) */
	uint8_t ct_exponent;              /* default 20 */
	uint32_t data_transfer_size;      /* largest response we take; default 4096 */
	uint32_t base_asym;               /* offered (default P-256, P-384, RSASSA/PSS 2048/3072) */
	uint32_t base_hash;               /* offered (default SHA-256, SHA-384, SHA-512) */
	/* AlgStructs offered when non-zero (next tasks: DHE, AEAD, key schedule). */
	uint16_t dhe, aead, req_base_asym, key_schedule;
	const struct pcitsm_trust *trust; /* anchors for the chain; NULL: chain not validated */
	bool allow_untrusted; /* a chain that does not validate is reported, not an error */
	const struct pcitsm_env *env;
};
void pcitsm_spdm_req_cfg_default(struct pcitsm_spdm_req_cfg *c, const struct pcitsm_env *env);
/* Accept exactly one version (min = max = version). */
void pcitsm_spdm_req_cfg_pin_version(struct pcitsm_spdm_req_cfg *c, uint8_t version);

enum pcitsm_spdm_retry {
	PCITSM_SPDM_RETRY_NONE = 0,
	PCITSM_SPDM_RETRY_BUSY,      /* send the same request again */
	PCITSM_SPDM_RETRY_NOT_READY, /* wait retry_ns, then send RESPOND_IF_READY */
	PCITSM_SPDM_RETRY_RESYNCH,   /* start again at GET_VERSION */
};

enum pcitsm_spdm_req_state {
	PCITSM_SPDM_REQ_START = 0,
	PCITSM_SPDM_REQ_VERSION,    /* VERSION received */
	PCITSM_SPDM_REQ_CAPS,       /* CAPABILITIES received */
	PCITSM_SPDM_REQ_NEGOTIATED, /* ALGORITHMS received: VCA complete */
	PCITSM_SPDM_REQ_FAILED,
};

struct pcitsm_spdm_req {
	struct pcitsm_spdm_req_cfg cfg;
	enum pcitsm_spdm_req_state state;
	pcitsm_err err; /* sticky */

	/* The outstanding request (kept for transcripts and retries). */
	uint8_t req[160];
	size_t req_len;
	bool outstanding;
	enum pcitsm_spdm_retry retry;
	uint64_t retry_ns;
	bool rif_outstanding;  /* the last request built was RESPOND_IF_READY */
	unsigned busy_retries, not_ready_waits; /* for the outstanding request */
	uint8_t rif_code, rif_token;
	/* What a peer ERROR said, for messages. */
	uint8_t peer_error, peer_error_data;
	/* The versions the peer's VERSION listed (the first PCITSM_SPDM_PEER_VERSIONS), kept even when
	 * none is acceptable, for the E_VERSION message. */
	uint8_t peer_versions[PCITSM_SPDM_PEER_VERSIONS];
	uint8_t nr_peer_versions;

	/* Negotiated (VERSION, CAPABILITIES, ALGORITHMS). */
	uint8_t version;
	uint32_t rsp_caps;
	uint8_t rsp_ct_exponent;
	uint32_t rsp_data_transfer_size, rsp_max_msg_size;
	uint8_t meas_spec;
	uint8_t other_params;
	uint32_t base_asym, base_hash, meas_hash;
	uint16_t dhe, aead, req_base_asym, key_schedule;
	enum pcitsm_hash_alg hash;
	enum pcitsm_hash_alg mhash; /* NONE for raw bit streams only */
	enum pcitsm_sig_alg sig;
	size_t hash_len, sig_len;

	/* Transcript A as bytes, then running hashes of A||B||C (M1) and A||M (L1). */
	uint8_t vca[PCITSM_SPDM_VCA_MAX];
	size_t vca_len;
	struct pcitsm_hash_ctx m1, l1;

	/* GET_DIGESTS / GET_CERTIFICATE. */
	uint8_t slot_mask;
	uint8_t digests[PCITSM_SPDM_MAX_SLOTS][PCITSM_HASH_MAX];
	uint8_t cert_slot;
	uint8_t *chain; /* the SPDM chain of cert_slot being read, malloc'd */
	size_t chain_len, chain_cap;
	bool chain_done;
	EVP_PKEY *leaf; /* the leaf's public key once the chain is verified */
	bool chain_trusted; /* validated against cfg.trust */
	char chain_why[256];

	/* CHALLENGE / GET_MEASUREMENTS in flight, and results. */
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];
	uint8_t context[PCITSM_SPDM_CONTEXT_LEN];
	uint8_t chal_summary_type;
	uint8_t meas_summary[PCITSM_HASH_MAX];
	bool challenged;
	uint8_t m1_hash[PCITSM_HASH_MAX]; /* Hash(M1) of the verified CHALLENGE_AUTH */
	uint8_t l1_hash[PCITSM_HASH_MAX]; /* Hash(L1) of the verified MEASUREMENTS */
	uint8_t meas_count;               /* from an operation-0 GET_MEASUREMENTS */
	uint8_t *meas;                    /* MeasurementRecord of the last MEASUREMENTS, malloc'd */
	size_t meas_len;
	unsigned meas_nr_blocks;
	bool meas_signed;
};

pcitsm_err pcitsm_spdm_req_init(struct pcitsm_spdm_req *r, const struct pcitsm_spdm_req_cfg *cfg)
	PCITSM_MUST_CHECK;
/* Back to START (a new connection), keeping cfg. */
void pcitsm_spdm_req_reset(struct pcitsm_spdm_req *r);
void pcitsm_spdm_req_free(struct pcitsm_spdm_req *r);

/* Requests, each in its legal place (E_STATE otherwise). */
pcitsm_err pcitsm_spdm_req_get_version(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_req_get_capabilities(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_req_negotiate_algorithms(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_req_get_digests(struct pcitsm_spdm_req *r, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
/* The next portion of slot's chain (the first call starts at offset 0); loop until
 * pcitsm_spdm_req_chain_complete(). On completion the chain is checked (length, root hash, digest)
 * and validated against cfg.trust. */
pcitsm_err pcitsm_spdm_req_get_certificate(struct pcitsm_spdm_req *r, uint8_t slot,
					   struct pcitsm_wr *w) PCITSM_MUST_CHECK;
bool pcitsm_spdm_req_chain_complete(const struct pcitsm_spdm_req *r);
/* summary_type: 0 none, 1 TCB, 0xff all (facts B.6). Needs the slot's chain. */
pcitsm_err pcitsm_spdm_req_challenge(struct pcitsm_spdm_req *r, uint8_t slot, uint8_t summary_type,
				     struct pcitsm_wr *w) PCITSM_MUST_CHECK;
/* operation: 0 count, 1..0xfe one index, 0xff all; sign requests a signature (needs the chain). */
pcitsm_err pcitsm_spdm_req_get_measurements(struct pcitsm_spdm_req *r, uint8_t operation, bool sign,
					    uint8_t slot, struct pcitsm_wr *w) PCITSM_MUST_CHECK;
/* After E_PEER_BUSY: rebuild what the peer asked for (the same request, or RESPOND_IF_READY). For
 * RETRY_RESYNCH the caller starts again with pcitsm_spdm_req_reset + get_version. */
pcitsm_err pcitsm_spdm_req_retry(struct pcitsm_spdm_req *r, struct pcitsm_wr *w) PCITSM_MUST_CHECK;

/* Process the response to the outstanding request. */
pcitsm_err pcitsm_spdm_req_feed(struct pcitsm_spdm_req *r, const uint8_t *rsp, size_t len)
	PCITSM_MUST_CHECK;

/* Walk a MeasurementRecord: *off starts at 0; E_NOTFOUND at the end. */
pcitsm_err pcitsm_spdm_meas_next(const uint8_t *record, size_t len, size_t *off,
				 struct pcitsm_spdm_meas_block *b) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Driver: the whole authentication over a transport (DOE vendor 0x0001 type 1 objects):
 * VCA, GET_DIGESTS, GET_CERTIFICATE (portions), CHALLENGE, GET_MEASUREMENTS, with Busy, ResponseNotReady and
 * RequestResynch handled within the bounds above.
 */
enum pcitsm_spdm_meas_mode {
	PCITSM_SPDM_MEAS_NONE = 0,
	PCITSM_SPDM_MEAS_ALL,  /* one request for every block (operation 0xff) */
	PCITSM_SPDM_MEAS_ONE,  /* one index */
};
struct pcitsm_spdm_auth_opts {
	struct pcitsm_spdm_req_cfg cfg; /* versions, algorithms, trust anchors, env */
	uint8_t slot;                   /* default 0 */
	bool skip_challenge;
	uint8_t summary_type;           /* CHALLENGE MeasurementSummaryHashType, default 0 */
	enum pcitsm_spdm_meas_mode meas; /* default ALL */
	uint8_t meas_index;
	bool meas_unsigned;             /* default signed */
	bool allow_untrusted;           /* report an unvalidated chain instead of failing */
};
void pcitsm_spdm_auth_opts_default(struct pcitsm_spdm_auth_opts *o, const struct pcitsm_env *env);

enum pcitsm_spdm_step {
	PCITSM_SPDM_STEP_NONE = 0,
	PCITSM_SPDM_STEP_VERSION,
	PCITSM_SPDM_STEP_CAPABILITIES,
	PCITSM_SPDM_STEP_ALGORITHMS,
	PCITSM_SPDM_STEP_DIGESTS,
	PCITSM_SPDM_STEP_CERTIFICATE,
	PCITSM_SPDM_STEP_CHALLENGE,
	PCITSM_SPDM_STEP_MEASUREMENTS,
};
const char *pcitsm_spdm_step_name(enum pcitsm_spdm_step s); /* "GET_CERTIFICATE" */

struct pcitsm_spdm_auth_result {
	/* Negotiated. */
	uint8_t version;
	uint32_t rsp_caps;
	uint32_t base_asym, base_hash, meas_hash;
	uint8_t meas_spec, other_params;
	/* Transcript A (VCA) bytes, for evidence files. */
	uint8_t vca[PCITSM_SPDM_VCA_MAX];
	size_t vca_len;
	/* Certificates: the DIGESTS, the slot's SPDM chain (header + root hash + DER certificates). */
	uint8_t slot, slot_mask;
	uint8_t digests[PCITSM_SPDM_MAX_SLOTS][PCITSM_HASH_MAX];
	size_t hash_len;
	uint8_t *chain; /* malloc'd */
	size_t chain_len;
	size_t certs_off; /* DER certificates start here within chain */
	EVP_PKEY *leaf_pub;
	bool chain_trusted;
	char chain_why[256]; /* why the chain did not validate, or "" */
	/* CHALLENGE_AUTH. */
	bool challenged;
	uint8_t m1_hash[PCITSM_HASH_MAX];
	uint8_t meas_summary[PCITSM_HASH_MAX];
	/* MEASUREMENTS: the raw record and its blocks (values point into meas). */
	bool meas_signed;
	uint8_t l1_hash[PCITSM_HASH_MAX];
	uint8_t *meas; /* malloc'd */
	size_t meas_len;
	unsigned nr_blocks;
	struct pcitsm_spdm_meas_block blocks[PCITSM_SPDM_MAX_MEAS_BLOCKS];
	/* Failure: the step, the error, what the peer said (ERROR code), a sentence. */
	enum pcitsm_spdm_step failed_step;
	pcitsm_err err;
	uint8_t peer_error, peer_error_data;
	/* What the device's VERSION listed, and the range we accepted (cfg), for E_VERSION. */
	uint8_t peer_versions[PCITSM_SPDM_PEER_VERSIONS];
	uint8_t nr_peer_versions;
	uint8_t min_version, max_version;
	unsigned busy_retries, not_ready_waits, resynchs;
	char why[320];
};

/* Run the authentication. res is always filled (free it with pcitsm_spdm_auth_result_free). */
pcitsm_err pcitsm_spdm_drv_authenticate(struct pcitsm_xport *x, const struct pcitsm_spdm_auth_opts *o,
				    struct pcitsm_spdm_auth_result *res) PCITSM_MUST_CHECK;
void pcitsm_spdm_auth_result_free(struct pcitsm_spdm_auth_result *res);

/* One request/response exchange with retry handling, for callers running their own sequence:
 * build_fn is called again on Busy; RESPOND_IF_READY is sent after ResponseNotReady. */
typedef pcitsm_err (*pcitsm_spdm_build_fn)(struct pcitsm_spdm_req *r, struct pcitsm_wr *w,
					   const void *arg);
pcitsm_err pcitsm_spdm_drv_req_exchange(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
				    pcitsm_spdm_build_fn build, const void *arg) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * VENDOR_DEFINED_REQUEST / RESPONSE for PCI-SIG protocols (facts B.9, E.1, F.1). On the wire:
 *
 *   SPDM hdr (4) | StandardID u16 = 3 | Len u8 = 2 | VendorID u16 = 0x0001 | Req/RespLength u16 |
 *   payload: Protocol ID u8 | protocol object ...
 *
 * The SPDM layer adds and strips everything up to the payload; protocol code sees the payload from
 * its Protocol ID byte (offset 0 of facts E.3). These messages are served only inside a secure
 * session: one received outside a session is ignored (no response), as facts E.1 require.
 */
#define PCITSM_SPDM_STANDARD_PCISIG 3
#define PCITSM_SPDM_VENDOR_PCISIG 0x0001
#define PCITSM_SPDM_VDM_HDR_LEN 11 /* up to and including Req/RespLength */
#define PCITSM_SPDM_PROTO_IDE_KM 0x00
#define PCITSM_SPDM_PROTO_TDISP 0x01
#define PCITSM_SPDM_MAX_VDM_PROTOCOLS 4 /* handlers one responder can register */

/* A responder's handler for one PCI-SIG protocol. req points at the Protocol ID byte of the
 * request payload (len counts it); the handler appends its response payload, starting with the
 * Protocol ID byte, to rsp. session_id is the secure session the request arrived in. Returns:
 *   PCITSM_OK            the VENDOR_DEFINED_RESPONSE carries what was written to rsp;
 *   PCITSM_E_NORESPONSE  send nothing (facts E.1: a payload of the wrong size is ignored);
 *   a peer error (2xx)   SPDM ERROR InvalidRequest;
 *   anything else        SPDM ERROR Unspecified.
 * The handler runs inside the responder's step: it must not call back into the responder. */
typedef pcitsm_err (*pcitsm_spdm_vdm_fn)(void *ctx, uint32_t session_id, const uint8_t *req,
					 size_t len, struct pcitsm_wr *rsp);
struct pcitsm_spdm_rsp;
/* Register fn for protocol_id on an initialised responder (the registrations survive GET_VERSION
 * and sessions; pcitsm_spdm_rsp_init clears them). E_EXISTS if protocol_id already has a handler, E_EXHAUSTED past
 * PCITSM_SPDM_MAX_VDM_PROTOCOLS, E_INVAL for a NULL fn. */
pcitsm_err pcitsm_spdm_rsp_register_vdm(struct pcitsm_spdm_rsp *s, uint8_t protocol_id,
					pcitsm_spdm_vdm_fn fn, void *ctx) PCITSM_MUST_CHECK;
/* A protocol's "session ended" hook: called once for every session of the responder that ends
 * after it was opened (KEY_EXCHANGE_RSP sent), however it ends: END_SESSION, a record that fails to
 * decrypt, a failed FINISH or seal, the heartbeat watchdog, GET_VERSION (ends them all) and
 * pcitsm_spdm_rsp_free. It runs after the slot is wiped (the ID is no longer in the table), inside
 * the responder's step: it must not call back into the responder. Every session is reported, not
 * only those that carried this protocol's messages. */
typedef void (*pcitsm_spdm_vdm_end_fn)(void *ctx, uint32_t session_id);
/* Give protocol_id's registration an end hook with its own ctx (which must stay valid until
 * pcitsm_spdm_rsp_free). E_NOTFOUND if protocol_id has no handler, E_EXISTS if it has a hook
 * already, E_INVAL for a NULL ended. */
pcitsm_err pcitsm_spdm_rsp_register_vdm_end(struct pcitsm_spdm_rsp *s, uint8_t protocol_id,
					    pcitsm_spdm_vdm_end_fn ended, void *ctx) PCITSM_MUST_CHECK;

/* Requester: one PCI-SIG vendor-defined exchange inside an established secure session s, over
 * transport x (DOE type 2 objects). req points at the Protocol ID byte of the request payload
 * (req[0] must equal protocol_id, else E_INVAL); the response payload, from its Protocol ID byte,
 * is appended to rsp. Errors: E_STATE (no established session), E_FIELD (the response is not a
 * PCI-SIG vendor-defined response for protocol_id), E_PEER_ERROR (the device answered ERROR),
 * E_NORESPONSE / E_TIMEOUT (the device chose silence: the session stays usable), a record error
 * (E_MAC ...: the session is ended), E_NOSPC (rsp too small). */
struct pcitsm_spdm_session;
pcitsm_err pcitsm_spdm_drv_vdm_call(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
				uint8_t protocol_id, const uint8_t *req, size_t len,
				struct pcitsm_wr *rsp) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Responder engine: any request bytes in, response bytes out (an ERROR where the request is bad),
 * and the DOE handler (vendor 0x0001, type 1) wrapping it.
 */
struct pcitsm_spdm_rsp_opts {
	uint8_t versions[8]; /* offered in VERSION, e.g. {0x10, 0x11, 0x12, 0x13} (the default) */
	unsigned nr_versions;
	uint32_t caps;        /* default CERT, CHAL, MEAS with signature */
	uint8_t ct_exponent;  /* default 12 */
	uint32_t data_transfer_size; /* default 4096 (no chunking) */
	uint32_t base_hash;   /* supported; default SHA-256, SHA-384, SHA-512 */
	uint32_t meas_hash;   /* the one used; default SHA-384 */
	uint16_t dhe, aead, req_base_asym, key_schedule; /* supported AlgStruct values; default DHE
							  * P-256|P-384, AEAD AES-128|256-GCM, SPDM key schedule */
	unsigned max_sessions;    /* concurrent sessions, 1..PCITSM_SPDM_MAX_SESSIONS, default 4 */
	uint8_t heartbeat_period; /* KEY_EXCHANGE_RSP Param1 with HBEAT_CAP on both sides, default 0 */
	bool heartbeat_watchdog;  /* end a session silent for 2 periods (default off: lenient) */
	/* Fault knobs for tests. */
	bool fault_bad_verify_data; /* flip a bit of ResponderVerifyData in KEY_EXCHANGE_RSP */
	bool fault_bad_signature;  /* flip a bit in every signature */
	bool fault_echo_nonce;     /* put the requester's nonce where ours goes */
	bool fault_wrong_context;  /* 1.3: echo a different RequesterContext */
	bool fault_corrupt_chain;  /* flip a byte inside the leaf certificate */
	bool fault_bad_root_hash;  /* wrong RootHash in the chain header */
	unsigned fault_busy;       /* answer Busy to this many requests after VCA */
	unsigned fault_not_ready;  /* answer ResponseNotReady to this many CHALLENGE/MEASUREMENTS */
	unsigned fault_resynch;    /* answer RequestResynch to this many requests after VCA */
};
void pcitsm_spdm_rsp_opts_default(struct pcitsm_spdm_rsp_opts *o);
/* Offer exactly one version in VERSION. */
void pcitsm_spdm_rsp_opts_pin_version(struct pcitsm_spdm_rsp_opts *o, uint8_t version);

enum pcitsm_spdm_rsp_state {
	PCITSM_SPDM_RSP_IDLE = 0,   /* no GET_VERSION yet */
	PCITSM_SPDM_RSP_VERSION,    /* after VERSION */
	PCITSM_SPDM_RSP_CAPS,       /* after CAPABILITIES */
	PCITSM_SPDM_RSP_NEGOTIATED, /* after ALGORITHMS */
};

#define PCITSM_SPDM_MAX_SESSIONS 8

/* One responder-side session slot. */
enum pcitsm_spdm_rsp_sess_state {
	PCITSM_SPDM_RSP_SESS_FREE = 0,
	PCITSM_SPDM_RSP_SESS_HANDSHAKE,   /* KEY_EXCHANGE_RSP sent: FINISH next, handshake keys */
	PCITSM_SPDM_RSP_SESS_ESTABLISHED, /* FINISH_RSP sent: application keys */
};
struct pcitsm_spdm_rsp_session {
	enum pcitsm_spdm_rsp_sess_state state;
	struct pcitsm_session sm;   /* keys and counters */
	struct pcitsm_hash_ctx th;  /* A || Hash(Ct) || K || F, until TH2 */
	struct pcitsm_hash_ctx l1;  /* A || this session's M */
	uint8_t heartbeat_period;
	uint8_t ku_pending;         /* KEY_UPDATE op awaiting VerifyNewKey, 0 none */
	uint64_t last_ns;           /* env clock at the last message of this session */
};
struct pcitsm_spdm_vdm_reg {
	uint8_t protocol_id;
	pcitsm_spdm_vdm_fn fn;
	void *ctx;
	pcitsm_spdm_vdm_end_fn ended; /* optional */
	void *end_ctx;
};

struct pcitsm_spdm_rsp {
	struct pcitsm_doe_handler doe;  /* vid 0x0001, type 1 */
	struct pcitsm_doe_handler sdoe; /* vid 0x0001, type 2: secured messages */
	struct pcitsm_spdm_rsp_opts opts;
	const struct pcitsm_identity *id;
	const struct pcitsm_env *env;
	enum pcitsm_sig_alg sig; /* from the identity's key */
	uint32_t base_asym;      /* the one bit matching it */

	enum pcitsm_spdm_rsp_state state;
	uint8_t version;
	uint32_t req_caps;
	uint32_t req_data_transfer_size;
	uint32_t base_hash;
	enum pcitsm_hash_alg hash;
	size_t hash_len;
	uint16_t dhe, aead, req_base_asym, key_schedule;
	uint8_t other_params;

	uint8_t vca[PCITSM_SPDM_VCA_MAX];
	size_t vca_len;
	struct pcitsm_hash_ctx m1, l1;
	uint8_t *chain; /* slot 0's SPDM chain for the negotiated hash, malloc'd */
	size_t chain_len;
	uint8_t chain_digest[PCITSM_HASH_MAX];

	/* A response held back behind ResponseNotReady. */
	uint8_t *pending;
	size_t pending_len;
	uint8_t pending_code, pending_token;
	unsigned faults_busy, faults_not_ready, faults_resynch;
	unsigned served, errors; /* counters */

	/* Secure sessions and vendor-defined protocols (rsp_session.c). */
	struct pcitsm_spdm_rsp_session sessions[PCITSM_SPDM_MAX_SESSIONS];
	uint16_t next_rsp_id;
	struct pcitsm_spdm_vdm_reg vdm[PCITSM_SPDM_MAX_VDM_PROTOCOLS];
	unsigned nr_vdm;
	unsigned sessions_opened, sessions_ended, decrypt_errors, dropped_records, sessions_expired;
	uint8_t *rec_scratch; /* a secured request's plaintext: PCITSM_SM_MAX_APP + 2, from init */
};

pcitsm_err pcitsm_spdm_rsp_init(struct pcitsm_spdm_rsp *s, const struct pcitsm_identity *id,
				const struct pcitsm_spdm_rsp_opts *o, const struct pcitsm_env *env)
	PCITSM_MUST_CHECK;
void pcitsm_spdm_rsp_free(struct pcitsm_spdm_rsp *s);
/* One request, one response. Every malformed or out-of-place request gets an SPDM ERROR (returns
 * PCITSM_OK with the ERROR written); only a local failure or a too-small rsp buffer returns an
 * error, and E_NORESPONSE for a request to be ignored (a PCI-SIG VENDOR_DEFINED_REQUEST outside a
 * session, facts E.1): nothing is written. */
pcitsm_err pcitsm_spdm_rsp_handle(struct pcitsm_spdm_rsp *s, const uint8_t *req, size_t req_len,
				  uint8_t *rsp, size_t rsp_cap, size_t *rsp_len) PCITSM_MUST_CHECK;
/* One secured message (a DOE type 2 payload) in, one out: the same contract as the DOE handler
 * s->sdoe. A record for no open session is dropped (E_NORESPONSE); a record that fails to decrypt
 * is answered with ERROR DecryptError under the session's response key and ends that session only
 * (docs/sessions.md). */
pcitsm_err pcitsm_spdm_rsp_handle_secured(struct pcitsm_spdm_rsp *s, const uint8_t *rec,
					  size_t len, uint8_t *rsp, size_t rsp_cap,
					  size_t *rsp_len) PCITSM_MUST_CHECK;
/* Open sessions (handshake or established). */
unsigned pcitsm_spdm_rsp_nr_sessions(const struct pcitsm_spdm_rsp *s);

/* ---------------------------------------------------------------------------------------------
 * Secure sessions, requester side (facts B.8, B.11, C; docs/sessions.md).
 *
 * A session rides on an authenticated connection: the requester engine r keeps transcript A, the
 * slot's certificate chain (Hash(Ct)) and the leaf key that signs KEY_EXCHANGE_RSP. The session
 * engine below builds requests and takes responses without I/O: KEY_EXCHANGE goes in the clear
 * (DOE type 1), everything after it as secured messages (DOE type 2 payloads) that the engine
 * seals and opens itself, so that every key switch happens exactly between the right two
 * messages. The first failure ends the session: every secret is wiped and the state is ENDED.
 */
enum pcitsm_spdm_session_state {
	PCITSM_SPDM_SESSION_NONE = 0,
	PCITSM_SPDM_SESSION_KEY_EXCHANGE, /* KEY_EXCHANGE sent */
	PCITSM_SPDM_SESSION_HANDSHAKE,    /* KEY_EXCHANGE_RSP verified: FINISH under handshake keys */
	PCITSM_SPDM_SESSION_ESTABLISHED,  /* FINISH_RSP received: application keys */
	PCITSM_SPDM_SESSION_ENDED,        /* END_SESSION_ACK, or a failure (err): all secrets wiped */
};

struct pcitsm_spdm_session_opts {
	uint8_t slot;           /* the responder's slot; its chain must have been read. Default 0 */
	uint8_t summary_type;   /* KEY_EXCHANGE MeasurementSummaryHashType: 0, 1, 0xff. Default 0 */
	uint16_t req_session_id; /* 0: random */
	uint8_t session_policy; /* 1.2+ SessionPolicy byte, default 0 */
	/* DSP0277 versions to offer, highest first (NULL: pcitsm_sm_versions, i.e. 1.2 and 1.1). */
	const uint16_t *sm_versions;
	size_t nr_sm_versions; /* at most PCITSM_SPDM_SM_OFFER_MAX */
};
#define PCITSM_SPDM_SM_OFFER_MAX 4

struct pcitsm_spdm_session {
	struct pcitsm_spdm_req *r; /* the connection, borrowed */
	enum pcitsm_spdm_session_state state;
	pcitsm_err err; /* why the session ended early */
	struct pcitsm_spdm_session_opts opts;
	struct pcitsm_session sm;  /* record layer: keys, IVs, the four counters */
	struct pcitsm_dhe dhe;     /* our ephemeral key, only between KEY_EXCHANGE and its response */
	struct pcitsm_hash_ctx th; /* A || Hash(Ct) || K || F until TH2 */
	struct pcitsm_hash_ctx l1; /* A || this session's M */
	uint16_t dhe_bits, aead_bits; /* negotiated AlgStruct values */
	uint16_t sm_offered[PCITSM_SPDM_SM_OFFER_MAX]; /* DSP0277 versions in our KEY_EXCHANGE */
	size_t nr_sm_offered;
	uint8_t heartbeat_period; /* from KEY_EXCHANGE_RSP */
	uint8_t meas_summary[PCITSM_HASH_MAX]; /* from KEY_EXCHANGE_RSP when asked for */
	/* The outstanding request: its header, and for KEY_UPDATE / VDM what the answer must echo. */
	bool outstanding;
	uint8_t req_hdr[4];
	uint8_t vdm_protocol;
	uint8_t ku_pending; /* UpdateKey / UpdateAllKeys acknowledged, VerifyNewKey not yet sent */
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];
	uint8_t context[PCITSM_SPDM_CONTEXT_LEN];
	/* What the peer said last, and the results of in-session requests. */
	uint8_t peer_error, peer_error_data;
	uint8_t *meas; /* MeasurementRecord of the last MEASUREMENTS in this session, malloc'd */
	size_t meas_len;
	unsigned meas_nr_blocks;
	bool meas_signed;
	uint8_t l1_hash[PCITSM_HASH_MAX];
	unsigned heartbeats, key_updates;
	/* In-session GET_DIGESTS / GET_CERTIFICATE (docs/sessions.md): the DIGESTS entry for our
	 * slot matched Hash(the chain whose leaf signed KEY_EXCHANGE_RSP); the chain read in this
	 * session, portion by portion, is byte for byte that chain (cert_off: next offset). */
	bool digests_match, cert_match;
	uint16_t cert_off, cert_req_len;
};

void pcitsm_spdm_session_opts_default(struct pcitsm_spdm_session_opts *o);
/* Engine. Each builder writes one message into w: KEY_EXCHANGE as a plain SPDM message, all others
 * as a secured record (the DOE type 2 payload, not padded). E_STATE out of place, E_UNSUPPORTED
 * when the connection did not negotiate what the request needs (KEY_EX_CAP on both sides, one DHE
 * group, one AEAD, the SPDM key schedule, OpaqueDataFmt1 with 1.2+; HBEAT_CAP, KEY_UPD_CAP). */
pcitsm_err pcitsm_spdm_session_req_key_exchange(struct pcitsm_spdm_session *s,
						struct pcitsm_spdm_req *r,
						const struct pcitsm_spdm_session_opts *o,
						struct pcitsm_wr *w) PCITSM_MUST_CHECK;
/* KEY_EXCHANGE_RSP (or ERROR), plain: signature, TH1, handshake keys, ResponderVerifyData. */
pcitsm_err pcitsm_spdm_session_feed_plain(struct pcitsm_spdm_session *s, const uint8_t *rsp,
					  size_t len) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_session_req_finish(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_session_req_get_measurements(struct pcitsm_spdm_session *s,
						    uint8_t operation, bool sign,
						    struct pcitsm_wr *w) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_session_req_heartbeat(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
/* GET_DIGESTS / GET_CERTIFICATE (the next portion of the session's slot) inside the session;
 * E_UNSUPPORTED without the responder's CERT_CAP. */
pcitsm_err pcitsm_spdm_session_req_get_digests(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_session_req_get_certificate(struct pcitsm_spdm_session *s,
						   struct pcitsm_wr *w) PCITSM_MUST_CHECK;
/* op: 1 UpdateKey, 2 UpdateAllKeys, 3 VerifyNewKey (only right after an acknowledged 1 or 2). */
pcitsm_err pcitsm_spdm_session_req_key_update(struct pcitsm_spdm_session *s, uint8_t op,
					      struct pcitsm_wr *w) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_session_req_end(struct pcitsm_spdm_session *s, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
/* payload from its Protocol ID byte (payload[0] == protocol_id). */
pcitsm_err pcitsm_spdm_session_req_vdm(struct pcitsm_spdm_session *s, uint8_t protocol_id,
				       const uint8_t *payload, size_t len,
				       struct pcitsm_wr *w) PCITSM_MUST_CHECK;
/* A secured record from the responder (DOE padding tolerated). A VENDOR_DEFINED_RESPONSE's payload
 * (from its Protocol ID byte) is appended to vdm_out (may be NULL otherwise). E_NOTFOUND: a record
 * of another session (nothing changes). A record that does not open (E_MAC ...), ERROR
 * DecryptError, or a broken protocol rule ends the session. Any other ERROR is E_PEER_ERROR and
 * the session stays usable. */
pcitsm_err pcitsm_spdm_session_feed(struct pcitsm_spdm_session *s, uint8_t *rec, size_t len,
				    struct pcitsm_wr *vdm_out) PCITSM_MUST_CHECK;
/* End locally: wipe every secret, free what was allocated; the struct reads all zero but for state
 * (ENDED), err and the peer's last ERROR code. Safe on a zeroed or already ended session. */
void pcitsm_spdm_session_wipe(struct pcitsm_spdm_session *s);

/* Driver, over a transport: */
/* Authenticate like pcitsm_spdm_drv_authenticate, but keep the connection in r (initialised here from
 * o->cfg) so that sessions can be opened on it; free r with pcitsm_spdm_req_free. */
pcitsm_err pcitsm_spdm_drv_req_authenticate(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
					const struct pcitsm_spdm_auth_opts *o,
					struct pcitsm_spdm_auth_result *res) PCITSM_MUST_CHECK;
/* KEY_EXCHANGE (type 1) and FINISH (type 2): s is ESTABLISHED on success, ENDED on failure. */
pcitsm_err pcitsm_spdm_drv_session_open(struct pcitsm_spdm_session *s, struct pcitsm_spdm_req *r,
				    struct pcitsm_xport *x,
				    const struct pcitsm_spdm_session_opts *o) PCITSM_MUST_CHECK;
/* GET_MEASUREMENTS inside the session; the record lands in s->meas. */
pcitsm_err pcitsm_spdm_drv_session_measurements(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
					    uint8_t operation, bool sign) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_drv_session_heartbeat(struct pcitsm_spdm_session *s, struct pcitsm_xport *x)
	PCITSM_MUST_CHECK;
/* GET_DIGESTS inside the session: E_HASH (session ended) when the slot's digest is not the hash
 * of the chain authenticated before KEY_EXCHANGE. */
pcitsm_err pcitsm_spdm_drv_session_get_digests(struct pcitsm_spdm_session *s, struct pcitsm_xport *x)
	PCITSM_MUST_CHECK;
/* The whole chain by GET_CERTIFICATE inside the session: E_CERT (session ended) when it is not
 * the chain whose leaf signed KEY_EXCHANGE_RSP. */
pcitsm_err pcitsm_spdm_drv_session_get_certificate(struct pcitsm_spdm_session *s,
					       struct pcitsm_xport *x) PCITSM_MUST_CHECK;
/* all: UpdateAllKeys, else UpdateKey; either way followed by VerifyNewKey under the new key. */
pcitsm_err pcitsm_spdm_drv_session_key_update(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
					  bool all) PCITSM_MUST_CHECK;
/* END_SESSION; the session is wiped whatever the answer. */
pcitsm_err pcitsm_spdm_drv_session_end(struct pcitsm_spdm_session *s, struct pcitsm_xport *x)
	PCITSM_MUST_CHECK;

#endif /* PCITSM_SPDM_H */
