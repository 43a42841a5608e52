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
 * This header: the requester's engines. Nothing here does I/O: a builder writes one request into a
 * writer, a feed takes the response's bytes; spdm_driver.h runs them over a transport.
 */
#ifndef PCITSM_SPDM_REQ_H
#define PCITSM_SPDM_REQ_H

#include "pcitsm/session.h"
#include "pcitsm/spdm.h"

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
	/* The nonce of every signed GET_MEASUREMENTS (a remote verifier's challenge, docs/evidence.md);
	 * NULL: a fresh random one each time. */
	const uint8_t *meas_nonce;
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
	/* The last signed exchange as it crossed the wire, for offline verification and the
	 * evidence a TSM hands out (docs/pcitsmd.md evidence/measurements): the
	 * GET_MEASUREMENTS request and the whole MEASUREMENTS response (signature included). */
	uint8_t meas_req[64];
	size_t meas_req_len;
	uint8_t *meas_rsp; /* malloc'd */
	size_t meas_rsp_len;
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
/* summary_type: 0 none, 1 TCB, 0xff all (DSP0274 1.3 CHALLENGE). Needs the slot's chain. */
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

/* ---------------------------------------------------------------------------------------------
 * Secure sessions, requester side (DSP0274 1.3 KEY_EXCHANGE to END_SESSION, 'Transcript and
 * transcript hash calculation rules', 'Key schedule'; DSP0277; docs/sessions.md).
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
	/* The last signed exchange as it crossed the wire, for evidence (docs/evidence.md): the
	 * GET_MEASUREMENTS sent, and the whole MEASUREMENTS that answered it, signature included. */
	uint8_t meas_req[64];
	size_t meas_req_len;
	uint8_t *meas_rsp; /* malloc'd */
	size_t meas_rsp_len;
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
/* A signed GET_MEASUREMENTS whose Nonce is the caller's 32 bytes (a remote verifier's challenge,
 * DSP0274 clause 10.11: the requester's nonce is in the request, and the signature covers L1 with
 * it), not the engine's own random one. E_INVAL without nonce. */
pcitsm_err pcitsm_spdm_session_req_get_measurements_nonce(struct pcitsm_spdm_session *s,
							  uint8_t operation,
							  const uint8_t nonce[PCITSM_SPDM_NONCE_LEN],
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
 * the session stays usable. The record is opened in place: on return rec holds neither the record
 * nor its plaintext (wiped), so that no secured message needs memory of its own. */
pcitsm_err pcitsm_spdm_session_feed(struct pcitsm_spdm_session *s, uint8_t *rec, size_t len,
				    struct pcitsm_wr *vdm_out) PCITSM_MUST_CHECK;
/* End locally: wipe every secret, free what was allocated; the struct reads all zero but for state
 * (ENDED), err and the peer's last ERROR code. Safe on a zeroed or already ended session. */
void pcitsm_spdm_session_wipe(struct pcitsm_spdm_session *s);

/* ---------------------------------------------------------------------------------------------
 * Recorded evidence, checked offline (docs/evidence.md). A verifier on another machine holds what
 * a requester recorded of one signed measurement exchange and re-runs the requester's checks on
 * it: the same decoders, the same freshness rules, the same L1 signature verification.
 */
struct pcitsm_spdm_meas_record {
	const uint8_t *vca; /* transcript A: GET_VERSION .. ALGORITHMS, exactly */
	size_t vca_len;
	const uint8_t *req; /* the signed GET_MEASUREMENTS */
	size_t req_len;
	const uint8_t *rsp; /* its MEASUREMENTS, signature included, no padding */
	size_t rsp_len;
};
/* What the record says, once decoded (pointers into the record). */
struct pcitsm_spdm_meas_view {
	uint8_t version; /* negotiated: the SPDMVersion of every message after VERSION */
	uint32_t base_asym, base_hash, meas_hash;
	enum pcitsm_hash_alg hash;
	enum pcitsm_sig_alg sig;
	size_t hash_len, sig_len;
	uint8_t slot, operation;
	const uint8_t *req_nonce, *rsp_nonce; /* 32 bytes each */
	const uint8_t *record;                /* MeasurementRecord */
	size_t record_len;
	unsigned nr_blocks;
	const uint8_t *signature; /* sig_len bytes */
	size_t signed_len;        /* rsp[0, signed_len) enters L1 */
	uint8_t prefix[100];      /* the 1.2+ combined signing prefix of MEASUREMENTS */
};
/* Decode the record: VCA message by message (each version byte the negotiated one, exactly one
 * hash and one signature algorithm selected), the GET_MEASUREMENTS asking for a signature, the
 * MEASUREMENTS that answers it as the requester would accept it (req_meas_check), the 1.3
 * RequesterContext echoed and the responder's nonce not ours. E_SHORT, E_FIELD, E_VERSION,
 * E_UNSUPPORTED (SPDM 1.0/1.1: no prefix), E_NONCE; why names the message. */
pcitsm_err pcitsm_spdm_meas_record_parse(const struct pcitsm_spdm_meas_record *rec,
					 struct pcitsm_spdm_meas_view *v, char *why,
					 size_t why_len) PCITSM_MUST_CHECK;
/* The signed GET_MEASUREMENTS that the response rsp answered, rebuilt from transcript A (version,
 * signature size), the response (slot, 1.3 RequesterContext) and the requester's nonce: attributes
 * "signature requested" alone, operation 0xFF (all blocks). For evidence whose source publishes the
 * response and not the request (the proposed netlink evidence-read's `measurements`,
 * docs/genl.md): a request that was anything else makes the signature fail, never pass. out holds
 * 64 bytes. E_FIELD / E_UNSUPPORTED with why. */
pcitsm_err pcitsm_spdm_meas_request_rebuild(const uint8_t *vca, size_t vca_len, const uint8_t *rsp,
					    size_t rsp_len, const uint8_t nonce[PCITSM_SPDM_NONCE_LEN],
					    uint8_t out[64], size_t *out_len, char *why,
					    size_t why_len) PCITSM_MUST_CHECK;
/* The length of the GET_MEASUREMENTS at p from its own fields (version, attributes), for a
 * transcript that holds messages back to back; 0 when p[0, n) cannot hold it. */
size_t pcitsm_spdm_get_measurements_len(const uint8_t *p, size_t n);
/* The signature of MEASUREMENTS over L1 = A || GET_MEASUREMENTS || MEASUREMENTS without its
 * signature, with the combined prefix (DSP0274 1.3 'Signature generation'), checked with leaf.
 * l1_hash receives Hash(L1). E_SIG when it does not verify. */
pcitsm_err pcitsm_spdm_meas_record_verify(const struct pcitsm_spdm_meas_record *rec,
					  const struct pcitsm_spdm_meas_view *v, EVP_PKEY *leaf,
					  uint8_t *l1_hash) PCITSM_MUST_CHECK;
/* The DER certificates of an SPDM certificate chain (DSP0274 1.3 GET_CERTIFICATE: Length u16 =
 * the whole chain, Reserved 0, RootHash[H] = Hash(root) when the root is self-signed, the
 * certificates). E_FIELD / E_HASH with why. */
pcitsm_err pcitsm_spdm_chain_certs(enum pcitsm_hash_alg hash, const uint8_t *chain, size_t len,
				   const uint8_t **certs, size_t *certs_len, char *why,
				   size_t why_len) PCITSM_MUST_CHECK;

#endif /* PCITSM_SPDM_REQ_H */
