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
 * This header: the responder engine (request bytes in, response bytes out) with the DOE handlers
 * that plug it into a DOE device, its registry of PCI-SIG vendor-defined protocols, and the fault
 * injection that makes it misbehave on purpose.
 */
#ifndef PCITSM_SPDM_RSP_H
#define PCITSM_SPDM_RSP_H

#include "pcitsm/doe.h"
#include "pcitsm/session.h"
#include "pcitsm/spdm.h"

/* A responder's handler for one PCI-SIG protocol. req points at the Protocol ID byte of the
 * request payload (len counts it); the handler appends its response payload, starting with the
 * Protocol ID byte, to rsp. session_id is the secure session the request arrived in. Returns:
 *   PCITSM_OK            the VENDOR_DEFINED_RESPONSE carries what was written to rsp;
 *   PCITSM_E_NORESPONSE  send nothing (PCIe 6.x §6.33.3: a payload of the wrong size is ignored);
 *   a peer error (2xx)   SPDM ERROR InvalidRequest;
 *   anything else        SPDM ERROR Unspecified.
 * The handler runs inside the responder's step: it must not call back into the responder. */
typedef pcitsm_err (*pcitsm_spdm_vdm_fn)(void *ctx, uint32_t session_id, const uint8_t *req,
					 size_t len, struct pcitsm_wr *rsp);
struct pcitsm_spdm_rsp;
/* Register fn for protocol_id on an initialised responder (the registrations survive GET_VERSION
 * and sessions; pcitsm_spdm_rsp_init clears them). E_EXISTS if protocol_id already has a handler,
 * E_EXHAUSTED past PCITSM_SPDM_MAX_VDM_PROTOCOLS, E_INVAL for a NULL fn. */
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
};
void pcitsm_spdm_rsp_opts_default(struct pcitsm_spdm_rsp_opts *o);
/* Offer exactly one version in VERSION. */
void pcitsm_spdm_rsp_opts_pin_version(struct pcitsm_spdm_rsp_opts *o, uint8_t version);

/* ---------------------------------------------------------------------------------------------
 * Fault injection: what a responder can be told to get wrong, for the tests and pcitsmd's
 * --fault. Not part of the options: a responder is correct unless pcitsm_spdm_rsp_set_faults says
 * otherwise.
 */
struct pcitsm_spdm_faults {
	bool bad_verify_data; /* flip a bit of ResponderVerifyData in KEY_EXCHANGE_RSP */
	bool bad_signature;   /* flip a bit in every signature */
	bool echo_nonce;      /* put the requester's nonce where ours goes */
	bool wrong_context;   /* 1.3: echo a different RequesterContext */
	bool corrupt_chain;   /* flip a byte inside the leaf certificate */
	bool bad_root_hash;   /* wrong RootHash in the chain header */
	unsigned busy;        /* answer Busy to this many requests after VCA */
	unsigned not_ready;   /* answer ResponseNotReady to this many CHALLENGE/MEASUREMENTS */
	unsigned resynch;     /* answer RequestResynch to this many requests after VCA */
};

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
	/* Faults still to inject (the counts go down as they fire); all zero unless set. */
	struct pcitsm_spdm_faults faults;
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
 * session, PCIe 6.x §6.33.3): nothing is written. */
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
/* The heartbeat watchdog run now, not only when the next record arrives: every established
 * session silent for two HeartbeatPeriods (by the env's clock) is ended as a heartbeat loss
 * (the protocols' end hooks run, sessions_expired counts it). For a device model that checks its
 * timer whenever it is observed. Returns how many ended; 0 without heartbeat_watchdog. Must not be
 * called from inside a handler of this responder. */
unsigned pcitsm_spdm_rsp_expire(struct pcitsm_spdm_rsp *s);
/* Make an initialised responder misbehave as f says from its next request on (the chain faults
 * apply from the next ALGORITHMS, where the chain is built); a zeroed f makes it correct again. */
void pcitsm_spdm_rsp_set_faults(struct pcitsm_spdm_rsp *s, const struct pcitsm_spdm_faults *f);

#endif /* PCITSM_SPDM_RSP_H */
