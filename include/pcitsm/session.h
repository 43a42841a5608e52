/* SPDX-License-Identifier: MIT */
/*
 * SPDM secure sessions, the parts that need no SPDM state machine (engines: bytes in, bytes out,
 * no transport): the SPDM key schedule (DHE, non-PSK; DSP0274 "Key schedule"), the DSP0277
 * secured-message record layer as bound to PCIe DOE (pcitsm_record_*: seal and open one record),
 * and the secured-message version negotiation carried in KEY_EXCHANGE / KEY_EXCHANGE_RSP opaque
 * data. The session engines of pcitsm/spdm_req.h and pcitsm/spdm_rsp.h drive these; the list of
 * SPDM headers is at the top of pcitsm/spdm.h. Choices where a specification left room:
 * docs/sessions.md.
 */
#ifndef PCITSM_SESSION_H
#define PCITSM_SESSION_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"

/* ---------------------------------------------------------------------------------------------
 * Key schedule (DSP0274 1.3 'Key schedule').
 */
/* The two directions: "req" keys protect requester-to-responder messages, "rsp" the reverse. */
enum pcitsm_sm_dir {
	PCITSM_SM_REQ = 0,
	PCITSM_SM_RSP = 1,
};

enum pcitsm_keysched_stage {
	PCITSM_KS_NONE = 0,  /* parameters set, no secret yet */
	PCITSM_KS_HANDSHAKE, /* handshake secrets, finished keys and master secret derived */
	PCITSM_KS_DATA,      /* application secrets derived; handshake-stage secrets wiped */
};

/* Every secret of one session's schedule, each hash_len bytes. A zeroed struct is "not started". */
struct pcitsm_keysched {
	enum pcitsm_hash_alg hash;
	enum pcitsm_aead_alg aead;
	uint8_t spdm_version; /* negotiated SPDMVersion byte, 0x11..0x13: picks the BinConcat string */
	size_t hash_len;
	enum pcitsm_keysched_stage stage;
	/* handshake stage */
	uint8_t handshake_secret[PCITSM_HASH_MAX];
	uint8_t hs_secret[2][PCITSM_HASH_MAX];    /* [PCITSM_SM_REQ] req_hs_secret, [RSP] rsp_... */
	uint8_t finished_key[2][PCITSM_HASH_MAX];
	uint8_t master_secret[PCITSM_HASH_MAX];
	/* data stage */
	uint8_t app_secret[2][PCITSM_HASH_MAX];   /* current generation (after key updates) */
	uint8_t export_master_secret[PCITSM_HASH_MAX];
};

/* BinConcat(Length, Label, Context) = u16_le(Length) || "spdmX.Y " || Label || Context (DSP0274 1.3
 * 'Key schedule'); context may be NULL with ctx_len 0. E_INVAL for an SPDM version without
 * sessions. */
#define PCITSM_BIN_CONCAT_MAX (2 + 8 + 16 + PCITSM_HASH_MAX)
pcitsm_err pcitsm_bin_concat(uint8_t spdm_version, uint16_t length, const char *label,
			     const uint8_t *context, size_t ctx_len, uint8_t *out, size_t cap,
			     size_t *out_len) PCITSM_MUST_CHECK;

/* Start a schedule: E_INVAL for a hash, AEAD or SPDM version (not 0x11..0x13) it cannot use. */
pcitsm_err pcitsm_keysched_init(struct pcitsm_keysched *ks, enum pcitsm_hash_alg hash,
				enum pcitsm_aead_alg aead, uint8_t spdm_version) PCITSM_MUST_CHECK;
/* Handshake secret from the DHE shared secret, req/rsp handshake secrets bound to TH1 (hash_len
 * bytes), both finished keys, and the master secret. E_STATE unless at PCITSM_KS_NONE. */
pcitsm_err pcitsm_keysched_handshake(struct pcitsm_keysched *ks, const uint8_t *shared,
				     size_t shared_len, const uint8_t *th1) PCITSM_MUST_CHECK;
/* Application secrets and the export master secret bound to TH2; then the handshake-stage
 * secrets are wiped. E_STATE unless at PCITSM_KS_HANDSHAKE. */
pcitsm_err pcitsm_keysched_data(struct pcitsm_keysched *ks, const uint8_t *th2) PCITSM_MUST_CHECK;
/* The AEAD key (pcitsm_aead_key_size) and IV (12 bytes) of a traffic secret (DSP0274 1.3 'Key
 * schedule'). */
pcitsm_err pcitsm_keysched_traffic(const struct pcitsm_keysched *ks, const uint8_t *secret,
				   uint8_t *key, uint8_t iv[PCITSM_AEAD_IV_LEN]) PCITSM_MUST_CHECK;
/* KEY_UPDATE: the next generation of one direction's application secret ("traffic upd"). */
pcitsm_err pcitsm_keysched_update(struct pcitsm_keysched *ks, enum pcitsm_sm_dir dir)
	PCITSM_MUST_CHECK;
/* VerifyData = HMAC(dir's finished key, th) (DSP0274 1.3 'Transcript and transcript hash
 * calculation rules': over the transcript hash), hash_len bytes. E_STATE unless at
 * PCITSM_KS_HANDSHAKE. */
pcitsm_err pcitsm_keysched_verify_data(const struct pcitsm_keysched *ks, enum pcitsm_sm_dir dir,
				       const uint8_t *th, uint8_t *out) PCITSM_MUST_CHECK;
/* The same, compared in constant time with received VerifyData: E_MAC if it differs. */
pcitsm_err pcitsm_keysched_check_verify_data(const struct pcitsm_keysched *ks,
					     enum pcitsm_sm_dir dir, const uint8_t *th,
					     const uint8_t *received) PCITSM_MUST_CHECK;
void pcitsm_keysched_wipe(struct pcitsm_keysched *ks);

/* ---------------------------------------------------------------------------------------------
 * Secured messages over DOE (DSP0277 secured message format, sequence numbers and AEAD nonce, as
 * PCIe 6.x §6.31 binds them to DOE type 2):
 *
 *   SessionID u32 | Length u16 | { AppDataLength u16 | SPDM message } | MAC[16]
 *   \_____________ AAD _______/   \_______ AES-GCM encrypted ______/
 *
 * no sequence-number field, no random data; Length counts from AppDataLength to the end of the MAC;
 * nonce = IV XOR the direction's 64-bit counter, little-endian in nonce bytes 0..7.
 */
#define PCITSM_SM_HDR_LEN 6       /* SessionID + Length: the AAD */
#define PCITSM_SM_OVERHEAD (PCITSM_SM_HDR_LEN + 2 + PCITSM_AEAD_TAG_LEN) /* N + 24 bytes */
#define PCITSM_SM_MAX_APP (0xffff - 2 - PCITSM_AEAD_TAG_LEN) /* Length is a u16 */
/* libspdm refuses a counter at 2^64 - 1 (docs/sessions.md): the last usable value is one below. */
#define PCITSM_SM_SEQ_LIMIT UINT64_MAX

/* Session ID on the wire (DSP0274 1.3 KEY_EXCHANGE): ReqSessionID low 16 bits, RspSessionID
 * high. */
static inline uint32_t pcitsm_session_id(uint16_t req_id, uint16_t rsp_id)
{
	return (uint32_t)req_id | (uint32_t)rsp_id << 16;
}

enum pcitsm_session_role {
	PCITSM_SESSION_REQUESTER = 0,
	PCITSM_SESSION_RESPONDER = 1,
};

enum pcitsm_sm_phase {
	PCITSM_SM_PHASE_NONE = 0,
	PCITSM_SM_PHASE_HANDSHAKE, /* FINISH / FINISH_RSP under the handshake keys */
	PCITSM_SM_PHASE_DATA,      /* everything after FINISH_RSP under the application keys */
};

/* One direction's AEAD key, IV and implicit sequence counter in one phase. */
struct pcitsm_sm_keys {
	uint8_t key[PCITSM_AEAD_KEY_MAX];
	uint8_t iv[PCITSM_AEAD_IV_LEN];
	uint64_t seq;
	bool set;
};

/* A session's secured-message state: the schedule and the four counters (request / response x
 * handshake / application). Plain data: a zeroed struct holds no session. The first failure on a
 * record of this session is sticky (DSP0277 sequence numbers and AEAD nonce: a lost or failed
 * message breaks the session). */
struct pcitsm_session {
	uint32_t id;
	enum pcitsm_session_role role;
	enum pcitsm_sm_phase phase;
	uint16_t sm_version; /* DSP0277 version selected in the opaque data (0x1100, 0x1200) */
	pcitsm_err err;      /* first failure, sticky */
	struct pcitsm_keysched ks;
	struct pcitsm_sm_keys hs[2];  /* [PCITSM_SM_REQ], [PCITSM_SM_RSP] */
	struct pcitsm_sm_keys app[2];
};

pcitsm_err pcitsm_session_init(struct pcitsm_session *s, enum pcitsm_session_role role,
			       uint32_t id, enum pcitsm_hash_alg hash, enum pcitsm_aead_alg aead,
			       uint8_t spdm_version, uint16_t sm_version) PCITSM_MUST_CHECK;
/* After KEY_EXCHANGE_RSP: handshake secrets from the shared secret and TH1, handshake keys of both
 * directions installed, phase HANDSHAKE. */
pcitsm_err pcitsm_session_handshake_keys(struct pcitsm_session *s, const uint8_t *shared,
					 size_t shared_len, const uint8_t *th1) PCITSM_MUST_CHECK;
/* After FINISH_RSP: application secrets from TH2, application keys of both directions installed,
 * handshake keys wiped, phase DATA. */
pcitsm_err pcitsm_session_data_keys(struct pcitsm_session *s, const uint8_t *th2)
	PCITSM_MUST_CHECK;
/* KEY_UPDATE for one direction (phase DATA): next-generation secret, key and IV; counter 0. */
pcitsm_err pcitsm_session_key_update(struct pcitsm_session *s, enum pcitsm_sm_dir dir)
	PCITSM_MUST_CHECK;

/* Protect one SPDM message (this side's direction, current phase) into out: N + 24 bytes, not
 * DW-padded (the DOE object builder pads). msg may already sit where the record carries it
 * (out + PCITSM_SM_HDR_LEN + 2): it is then sealed in place. E_NOSPC, E_INVAL (message over
 * PCITSM_SM_MAX_APP), E_STATE (no keys, or the session failed), E_OVERFLOW (the counter would
 * reach its limit). */
pcitsm_err pcitsm_record_seal(struct pcitsm_session *s, const uint8_t *msg, size_t len,
			      uint8_t *out, size_t cap, size_t *out_len) PCITSM_MUST_CHECK;
/* Check and decrypt one record from the peer (DOE padding of up to 3 zero bytes after the record
 * is accepted) and write the SPDM message to out (cap must hold Length - 16 bytes). out may be
 * rec + PCITSM_SM_HDR_LEN: the record is then opened in place. Errors:
 * E_NOTFOUND for another session's ID (nothing changes: the caller may ignore the record);
 * E_SHORT, E_LONG, E_FIELD, E_RESERVED for a malformed record; E_MAC for a failed tag (also a
 * replayed or reordered record); E_OVERFLOW at the counter limit; E_STATE once failed. */
pcitsm_err pcitsm_record_open(struct pcitsm_session *s, const uint8_t *rec, size_t len,
			      uint8_t *out, size_t cap, size_t *out_len) PCITSM_MUST_CHECK;
/* The Session ID of a record (to find its session): E_SHORT under 4 bytes. */
pcitsm_err pcitsm_record_session_id(const uint8_t *rec, size_t len, uint32_t *id)
	PCITSM_MUST_CHECK;
/* Wipe every key and secret; the struct becomes "no session". */
void pcitsm_session_wipe(struct pcitsm_session *s);

/* ---------------------------------------------------------------------------------------------
 * Secured-message version negotiation in KEY_EXCHANGE / KEY_EXCHANGE_RSP opaque data
 * (DSP0277 version negotiation in the opaque data): SPDM 1.2+ general opaque data (OpaqueDataFmt1),
 * SPDM 1.1 the DSP0277 header. Versions are DSP0277 version numbers (0x1100 = 1.1); only
 * major.minor (bits 15:8) take part in matching.
 */
#define PCITSM_SM_V10 0x1000
#define PCITSM_SM_V11 0x1100
#define PCITSM_SM_V12 0x1200
#define PCITSM_SM_V13 0x1300
#define PCITSM_SM_MAX_VERSIONS 16 /* versions kept from a peer's list */
#define PCITSM_SM_OPAQUE_MAX 64   /* our encodings never exceed this */

/* The DSP0277 versions this implementation speaks, highest first. */
extern const uint16_t pcitsm_sm_versions[];
extern const size_t pcitsm_sm_nr_versions;

/* KEY_EXCHANGE (requester): the SupportedVersion element listing versions. */
pcitsm_err pcitsm_sm_opaque_supported_encode(uint8_t spdm_version, const uint16_t *versions,
					     size_t n, uint8_t *out, size_t cap, size_t *out_len)
	PCITSM_MUST_CHECK;
/* KEY_EXCHANGE (responder): the peer's list (up to max entries; E_FIELD beyond). */
pcitsm_err pcitsm_sm_opaque_supported_parse(uint8_t spdm_version, const uint8_t *p, size_t len,
					    uint16_t *versions, size_t max, size_t *n)
	PCITSM_MUST_CHECK;
/* The highest of ours also in the peer's list: E_VERSION if none. */
pcitsm_err pcitsm_sm_version_select(const uint16_t *peer, size_t n, uint16_t *selected)
	PCITSM_MUST_CHECK;
/* KEY_EXCHANGE_RSP (responder): the VersionSelection element. */
pcitsm_err pcitsm_sm_opaque_selection_encode(uint8_t spdm_version, uint16_t version, uint8_t *out,
					     size_t cap, size_t *out_len) PCITSM_MUST_CHECK;
/* KEY_EXCHANGE_RSP (requester): the selection, which must be one of offered[] (E_VERSION). */
pcitsm_err pcitsm_sm_opaque_selection_parse(uint8_t spdm_version, const uint8_t *p, size_t len,
					    const uint16_t *offered, size_t n, uint16_t *version)
	PCITSM_MUST_CHECK;

#endif /* PCITSM_SESSION_H */
