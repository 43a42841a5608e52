/* SPDX-License-Identifier: MIT */
/*
 * SPDM message codecs (internal): one encoder and one decoder per message, used by both the
 * requester and the responder. Decoders parse only through struct pcitsm_rd, check sizes exactly
 * (trailing DOE padding tolerated, see spdm_rd_end) and reserved fields, and report the message's
 * logical length (what enters a transcript). Pointers in decoded structs point into the input.
 *
 * Decoders check structure; the engines check meaning (negotiated values, state). The header's
 * version and code bytes are checked by the engines too, because each end reports them differently.
 */
#ifndef PCITSM_SPDM_MSG_H
#define PCITSM_SPDM_MSG_H

#include "pcitsm/session.h"
#include "pcitsm/spdm.h"

#define SPDM_HDR_LEN 4
#define SPDM_MAX_VERSION_ENTRIES 32 /* our bound on VERSION entries (the field is a u8) */
#define SPDM_MAX_ALG_STRUCTS 4      /* AlgType 2..5 (DSP0274 1.3 NEGOTIATE_ALGORITHMS) */
#define SPDM_MAX_EXT_ALGS 20        /* total external algorithms (DSP0274 1.3) */
#define SPDM_NEG_ALGS_MAX_LEN 128   /* NEGOTIATE_ALGORITHMS Length in 1.1-1.3 (DSP0274 1.3) */
#define SPDM_MIN_DATA_TRANSFER 42   /* DataTransferSize minimum, 1.2+ (DSP0274 1.3) */
#define SPDM_MAX_OPAQUE 1024        /* OpaqueDataLength bound (DSP0274 1.3 CHALLENGE) */
#define SPDM_MAX_ERROR_EXT 32       /* ExtendedErrorData bound (DSP0274 1.3 ERROR) */
#define SPDM_SIGN_PREFIX_LEN 100    /* DSP0274 1.3 combined_spdm_prefix */

/* The 4-byte header. */
struct spdm_hdr {
	uint8_t version, code, param1, param2;
};
/* Read the header of any message; E_SHORT under 4 bytes. */
pcitsm_err spdm_peek_hdr(const uint8_t *p, size_t len, struct spdm_hdr *h) PCITSM_MUST_CHECK;

/* Exact end of a message: nothing left but DOE padding (fewer than 4 zero bytes that end on a DW
 * boundary, PCIe 6.x §6.31; docs/transports.md). *mlen gets the logical length. */
pcitsm_err spdm_rd_end(const struct pcitsm_rd *r, size_t *mlen) PCITSM_MUST_CHECK;

/* GET_VERSION / VERSION (DSP0274 1.3 GET_VERSION). */
struct spdm_version {
	uint8_t count;
	uint16_t entries[SPDM_MAX_VERSION_ENTRIES];
};
pcitsm_err spdm_enc_get_version(struct pcitsm_wr *w) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_get_version(const uint8_t *p, size_t len, size_t *mlen) PCITSM_MUST_CHECK;
pcitsm_err spdm_enc_version(struct pcitsm_wr *w, const struct spdm_version *m) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_version(const uint8_t *p, size_t len, struct spdm_version *m, size_t *mlen)
	PCITSM_MUST_CHECK;

/* GET_CAPABILITIES / CAPABILITIES: size by version (1.0 request 4, 1.0/1.1 12, 1.2+ 20). */
struct spdm_caps {
	uint8_t param1;     /* 1.3 request: bit 0 asks for the algorithms block */
	uint8_t ct_exponent;
	uint32_t flags;
	uint32_t data_transfer_size, max_msg_size; /* 1.2+ */
};
/* The size of a GET_CAPABILITIES (request) or CAPABILITIES of version. */
size_t spdm_caps_len(uint8_t version, bool request);
pcitsm_err spdm_enc_capabilities(struct pcitsm_wr *w, uint8_t version, bool request,
				 const struct spdm_caps *m) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_capabilities(const uint8_t *p, size_t len, uint8_t version, bool request,
				 struct spdm_caps *m, size_t *mlen) PCITSM_MUST_CHECK;

/* NEGOTIATE_ALGORITHMS / ALGORITHMS. External algorithms are parsed and counted, never used. */
struct spdm_alg_struct {
	uint8_t type;
	uint16_t bits;
};
struct spdm_algs {
	uint8_t meas_spec;      /* MeasurementSpecification(Sel) */
	uint8_t other_params;   /* OtherParamsSupport / Selection */
	uint8_t mel_spec;       /* 1.3 */
	uint32_t meas_hash;     /* response only */
	uint32_t base_asym, base_hash;
	uint8_t ext_asym_count, ext_hash_count;
	uint8_t nr_structs;
	struct spdm_alg_struct structs[SPDM_MAX_ALG_STRUCTS];
};
pcitsm_err spdm_enc_algorithms(struct pcitsm_wr *w, uint8_t version, bool request,
			       const struct spdm_algs *m) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_algorithms(const uint8_t *p, size_t len, uint8_t version, bool request,
			       struct spdm_algs *m, size_t *mlen) PCITSM_MUST_CHECK;
/* The AlgStructs a selection carries, by type (DHE, AEAD, ReqBaseAsymAlg, KeySchedule); a type
 * the selection does not carry leaves its value alone. Both roles keep them this way. */
struct spdm_alg_sel {
	uint16_t *dhe, *aead, *req_base_asym, *key_schedule;
};
void spdm_algs_structs(const struct spdm_algs *a, const struct spdm_alg_sel *out);

/* GET_DIGESTS / DIGESTS (DSP0274 1.3 GET_DIGESTS). */
struct spdm_digests {
	uint8_t supported_mask; /* 1.3 Param1 */
	uint8_t slot_mask;      /* Param2 */
	const uint8_t *digests; /* popcount(slot_mask) * H bytes */
};
pcitsm_err spdm_enc_get_digests(struct pcitsm_wr *w, uint8_t version) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_get_digests(const uint8_t *p, size_t len, size_t *mlen) PCITSM_MUST_CHECK;
pcitsm_err spdm_enc_digests(struct pcitsm_wr *w, uint8_t version, const struct spdm_digests *m,
			    size_t hash_len) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_digests(const uint8_t *p, size_t len, uint8_t version, size_t hash_len,
			    struct spdm_digests *m, size_t *mlen) PCITSM_MUST_CHECK;

/* GET_CERTIFICATE / CERTIFICATE. */
struct spdm_get_cert {
	uint8_t slot;
	bool size_requested; /* 1.3 Param2 bit 0 */
	uint16_t offset, length;
};
struct spdm_cert {
	uint8_t slot;
	uint8_t info; /* 1.3 Param2 bits 2:0 */
	uint16_t portion_len, remainder_len;
	const uint8_t *portion;
};
pcitsm_err spdm_enc_get_certificate(struct pcitsm_wr *w, uint8_t version,
				    const struct spdm_get_cert *m) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_get_certificate(const uint8_t *p, size_t len, uint8_t version,
				    struct spdm_get_cert *m, size_t *mlen) PCITSM_MUST_CHECK;
pcitsm_err spdm_enc_certificate(struct pcitsm_wr *w, uint8_t version, const struct spdm_cert *m)
	PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_certificate(const uint8_t *p, size_t len, uint8_t version, struct spdm_cert *m,
				size_t *mlen) PCITSM_MUST_CHECK;

/* CHALLENGE / CHALLENGE_AUTH (DSP0274 1.3 CHALLENGE). */
struct spdm_challenge {
	uint8_t slot;         /* 0-7 or 0xff */
	uint8_t summary_type; /* 0, 1, 0xff */
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];
	uint8_t context[PCITSM_SPDM_CONTEXT_LEN]; /* 1.3 */
};
struct spdm_challenge_auth {
	uint8_t slot;      /* Param1 bits 3:0 */
	uint8_t slot_mask; /* Param2 */
	const uint8_t *chain_hash;  /* H */
	const uint8_t *nonce;       /* 32 */
	const uint8_t *summary;     /* H, or NULL when not requested */
	uint16_t opaque_len;
	const uint8_t *opaque;
	const uint8_t *context;     /* 1.3: 8 */
	const uint8_t *signature;   /* S */
	size_t signed_len;          /* bytes before the signature */
};
pcitsm_err spdm_enc_challenge(struct pcitsm_wr *w, uint8_t version, const struct spdm_challenge *m)
	PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_challenge(const uint8_t *p, size_t len, uint8_t version,
			      struct spdm_challenge *m, size_t *mlen) PCITSM_MUST_CHECK;
/* Encodes everything but the signature, which the caller appends (S bytes). */
pcitsm_err spdm_enc_challenge_auth(struct pcitsm_wr *w, uint8_t version,
				   const struct spdm_challenge_auth *m, size_t hash_len)
	PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_challenge_auth(const uint8_t *p, size_t len, uint8_t version, size_t hash_len,
				   bool summary, size_t sig_len, struct spdm_challenge_auth *m,
				   size_t *mlen) PCITSM_MUST_CHECK;

/* GET_MEASUREMENTS / MEASUREMENTS (DSP0274 1.3 GET_MEASUREMENTS). */
#define SPDM_MEAS_ATTR_SIG 0x01
#define SPDM_MEAS_ATTR_RAW 0x02
#define SPDM_MEAS_ATTR_NEW 0x04
struct spdm_get_meas {
	uint8_t attributes;
	uint8_t operation;
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];     /* with a signature */
	uint8_t slot;                             /* with a signature, 1.1+ */
	uint8_t context[PCITSM_SPDM_CONTEXT_LEN]; /* 1.3 */
};
struct spdm_meas {
	uint8_t param1;  /* total count for operation 0 */
	uint8_t param2;  /* slot bits 3:0, content changed bits 5:4 */
	uint8_t nr_blocks;
	uint32_t record_len;
	const uint8_t *record;
	const uint8_t *nonce;
	uint16_t opaque_len;
	const uint8_t *opaque;
	const uint8_t *context;   /* 1.3 */
	const uint8_t *signature; /* NULL if unsigned */
	size_t signed_len;
};
pcitsm_err spdm_enc_get_measurements(struct pcitsm_wr *w, uint8_t version,
				     const struct spdm_get_meas *m) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_get_measurements(const uint8_t *p, size_t len, uint8_t version,
				     struct spdm_get_meas *m, size_t *mlen) PCITSM_MUST_CHECK;
/* Encodes everything but the signature. */
pcitsm_err spdm_enc_measurements(struct pcitsm_wr *w, uint8_t version, const struct spdm_meas *m)
	PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_measurements(const uint8_t *p, size_t len, uint8_t version, size_t sig_len,
				 struct spdm_meas *m, size_t *mlen) PCITSM_MUST_CHECK;
/* One measurement block with a DMTF measurement (Type, ValueSize, Value). */
void spdm_enc_meas_block(struct pcitsm_wr *w, uint8_t index, uint8_t type, const uint8_t *value,
			 uint16_t value_len);

/* ERROR / RESPOND_IF_READY (DSP0274 1.3 ERROR and RESPOND_IF_READY). */
struct spdm_error {
	uint8_t code, data;
	const uint8_t *ext;
	size_t ext_len;
	/* ResponseNotReady extended data */
	uint8_t rdt_exponent, request_code, token, rdtm;
};
pcitsm_err spdm_enc_error(struct pcitsm_wr *w, uint8_t version, uint8_t code, uint8_t data,
			  const uint8_t *ext, size_t ext_len) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_error(const uint8_t *p, size_t len, struct spdm_error *m, size_t *mlen)
	PCITSM_MUST_CHECK;
pcitsm_err spdm_enc_respond_if_ready(struct pcitsm_wr *w, uint8_t version, uint8_t code,
				     uint8_t token) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_respond_if_ready(const uint8_t *p, size_t len, uint8_t *code, uint8_t *token,
				     size_t *mlen) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Transcripts and signatures (transcript.c), shared by both ends so they agree byte for byte.
 */
/* Append to transcript A (bounded by PCITSM_SPDM_VCA_MAX). */
pcitsm_err spdm_vca_append(uint8_t *vca, size_t *vca_len, const uint8_t *p, size_t n)
	PCITSM_MUST_CHECK;
/* Restart a running transcript hash at A: h = Hash-in-progress(A). */
pcitsm_err spdm_ts_restart(struct pcitsm_hash_ctx *h, enum pcitsm_hash_alg alg, const uint8_t *vca,
			   size_t vca_len) PCITSM_MUST_CHECK;
/* The signature contexts (DSP0274 1.3 signing with combined_spdm_prefix). */
#define SPDM_CTX_CHALLENGE_AUTH "responder-challenge_auth signing"
#define SPDM_CTX_MEASUREMENTS "responder-measurements signing"
/* Sign / verify the transcript th (its running hash) for version: 1.2+ with the combined signing
 * prefix, 1.0/1.1 over Hash(transcript). th_hash receives Hash(transcript). */
pcitsm_err spdm_ts_sign(uint8_t version, EVP_PKEY *key, enum pcitsm_sig_alg sig,
			const char *context, const struct pcitsm_hash_ctx *th, uint8_t *th_hash,
			uint8_t *out, size_t out_len) PCITSM_MUST_CHECK;
pcitsm_err spdm_ts_verify(uint8_t version, EVP_PKEY *pub, enum pcitsm_sig_alg sig,
			  const char *context, const struct pcitsm_hash_ctx *th, uint8_t *th_hash,
			  const uint8_t *sigbytes, size_t sig_len) PCITSM_MUST_CHECK;
/* The 1.2+ message that is signed: prefix (100 bytes) || th_hash. */
pcitsm_err spdm_sign_message(uint8_t version, const char *context, const uint8_t *th_hash,
			     size_t hash_len, uint8_t *out, size_t cap, size_t *len) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Session messages (msg_session.c, DSP0274 1.3 KEY_EXCHANGE to END_SESSION,
 * VENDOR_DEFINED_REQUEST). Exact sizes; DOE padding is tolerated by the plain-path decoders like
 * the others (inside a secured record there is none).
 */
#define SPDM_RANDOM_LEN 32
#define SPDM_KE_SIG_CTX "responder-key_exchange_rsp signing"
struct spdm_key_exchange {
	uint8_t summary_type; /* Param1 */
	uint8_t slot;         /* Param2 */
	uint16_t req_session_id;
	uint8_t session_policy; /* 1.2+; reserved in 1.1 */
	const uint8_t *random;   /* 32 */
	const uint8_t *exchange; /* D */
	uint16_t opaque_len;
	const uint8_t *opaque;
};
pcitsm_err spdm_enc_key_exchange(struct pcitsm_wr *w, uint8_t version,
				 const struct spdm_key_exchange *m, size_t dhe_len) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_key_exchange(const uint8_t *p, size_t len, uint8_t version, size_t dhe_len,
				 struct spdm_key_exchange *m, size_t *mlen) PCITSM_MUST_CHECK;
struct spdm_key_exchange_rsp {
	uint8_t heartbeat_period; /* Param1 */
	uint16_t rsp_session_id;
	uint8_t mut_auth, req_slot;
	const uint8_t *random, *exchange;
	const uint8_t *summary; /* H, or NULL when the request's Param1 was 0 */
	uint16_t opaque_len;
	const uint8_t *opaque;
	const uint8_t *signature;   /* S */
	const uint8_t *verify_data; /* H */
	size_t signed_len;          /* bytes before the signature */
};
/* Encodes everything before the signature; the caller appends Signature and VerifyData. */
pcitsm_err spdm_enc_key_exchange_rsp(struct pcitsm_wr *w, uint8_t version,
				     const struct spdm_key_exchange_rsp *m, size_t dhe_len,
				     size_t hash_len) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_key_exchange_rsp(const uint8_t *p, size_t len, uint8_t version, size_t dhe_len,
				     size_t hash_len, bool summary, size_t sig_len,
				     struct spdm_key_exchange_rsp *m, size_t *mlen) PCITSM_MUST_CHECK;
/* FINISH without a signature (no mutual authentication): hdr | RequesterVerifyData[H]. */
pcitsm_err spdm_dec_finish(const uint8_t *p, size_t len, size_t hash_len, const uint8_t **verify,
			   size_t *mlen) PCITSM_MUST_CHECK;
/* A 4-byte message: code and both params as given, no body (FINISH_RSP without VerifyData,
 * END_SESSION(_ACK), HEARTBEAT(_ACK), KEY_UPDATE(_ACK), FINISH header). */
pcitsm_err spdm_enc_hdr(struct pcitsm_wr *w, uint8_t version, uint8_t code, uint8_t p1,
			uint8_t p2) PCITSM_MUST_CHECK;
/* Exactly 4 bytes; params returned; reserved params checked by the caller. */
pcitsm_err spdm_dec_hdr_only(const uint8_t *p, size_t len, struct spdm_hdr *h, size_t *mlen)
	PCITSM_MUST_CHECK;
/* KEY_UPDATE operations (DSP0274 1.3 KEY_UPDATE). */
#define SPDM_KU_UPDATE_KEY 1
#define SPDM_KU_UPDATE_ALL_KEYS 2
#define SPDM_KU_VERIFY_NEW_KEY 3
/* VENDOR_DEFINED_REQUEST / RESPONSE (DSP0274 1.3 VENDOR_DEFINED_REQUEST): any StandardID and
 * VendorID length. */
struct spdm_vdm {
	uint16_t standard_id;
	uint8_t vendor_len;
	const uint8_t *vendor_id;
	uint16_t payload_len;
	const uint8_t *payload;
};
pcitsm_err spdm_enc_vdm(struct pcitsm_wr *w, uint8_t version, bool request,
			const struct spdm_vdm *m) PCITSM_MUST_CHECK;
pcitsm_err spdm_dec_vdm(const uint8_t *p, size_t len, struct spdm_vdm *m, size_t *mlen)
	PCITSM_MUST_CHECK;
/* Whether m is PCI-SIG (StandardID 3, VendorID 0x0001) with a Protocol ID byte. */
bool spdm_vdm_is_pcisig(const struct spdm_vdm *m);

#endif /* PCITSM_SPDM_MSG_H */
