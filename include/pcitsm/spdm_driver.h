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
 * This header: the driver calls. Each one runs requester engines (spdm_req.h) over a transport x
 * (DOE vendor 0x0001: type 1 CMA-SPDM objects in the clear, type 2 secured CMA-SPDM objects).
 */
#ifndef PCITSM_SPDM_DRIVER_H
#define PCITSM_SPDM_DRIVER_H

#include "pcitsm/doe.h"
#include "pcitsm/spdm_req.h"

/* ---------------------------------------------------------------------------------------------
 * Authentication over a transport (DOE vendor 0x0001 type 1 objects): VCA, GET_DIGESTS,
 * GET_CERTIFICATE (portions), CHALLENGE, GET_MEASUREMENTS, with Busy, ResponseNotReady and
 * RequestResynch handled within the bounds of pcitsm/spdm.h.
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
	/* The signed exchange as it crossed the wire (offline verification, docs/evidence.md). */
	uint8_t meas_req[64];
	size_t meas_req_len;
	uint8_t *meas_rsp; /* malloc'd */
	size_t meas_rsp_len;
	uint8_t meas_nonce[PCITSM_SPDM_NONCE_LEN]; /* the requester's nonce in meas_req */
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
pcitsm_err pcitsm_spdm_drv_authenticate(struct pcitsm_xport *x,
					const struct pcitsm_spdm_auth_opts *o,
					struct pcitsm_spdm_auth_result *res) PCITSM_MUST_CHECK;
void pcitsm_spdm_auth_result_free(struct pcitsm_spdm_auth_result *res);

/* One request/response exchange with retry handling, for callers running their own sequence:
 * build_fn is called again on Busy; RESPOND_IF_READY is sent after ResponseNotReady. */
typedef pcitsm_err (*pcitsm_spdm_build_fn)(struct pcitsm_spdm_req *r, struct pcitsm_wr *w,
					   const void *arg);
pcitsm_err pcitsm_spdm_drv_req_exchange(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
					pcitsm_spdm_build_fn build,
					const void *arg) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Secure sessions over a transport (docs/sessions.md). KEY_EXCHANGE travels as type 1, everything
 * after it as type 2; there is no retry inside a session (a lost message breaks the lockstep of
 * the implicit counters, DSP0277), so a transport error ends the session.
 */
/* Authenticate like pcitsm_spdm_drv_authenticate, but keep the connection in r (initialised here
 * from o->cfg) so that sessions can be opened on it; free r with pcitsm_spdm_req_free. */
pcitsm_err pcitsm_spdm_drv_req_authenticate(struct pcitsm_spdm_req *r, struct pcitsm_xport *x,
					    const struct pcitsm_spdm_auth_opts *o,
					    struct pcitsm_spdm_auth_result *res) PCITSM_MUST_CHECK;
/* KEY_EXCHANGE (type 1) and FINISH (type 2): s is ESTABLISHED on success, ENDED on failure. */
pcitsm_err pcitsm_spdm_drv_session_open(struct pcitsm_spdm_session *s, struct pcitsm_spdm_req *r,
					struct pcitsm_xport *x,
					const struct pcitsm_spdm_session_opts *o) PCITSM_MUST_CHECK;
/* GET_MEASUREMENTS inside the session; the record lands in s->meas. */
pcitsm_err pcitsm_spdm_drv_session_measurements(struct pcitsm_spdm_session *s,
						struct pcitsm_xport *x, uint8_t operation,
						bool sign) PCITSM_MUST_CHECK;
/* Signed, with the caller's nonce (pcitsm_spdm_session_req_get_measurements_nonce); the exchange
 * lands in s->meas_req / s->meas_rsp once its signature verified over the session's L1. */
pcitsm_err pcitsm_spdm_drv_session_measurements_nonce(struct pcitsm_spdm_session *s,
						      struct pcitsm_xport *x, uint8_t operation,
						      const uint8_t nonce[PCITSM_SPDM_NONCE_LEN])
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdm_drv_session_heartbeat(struct pcitsm_spdm_session *s, struct pcitsm_xport *x)
	PCITSM_MUST_CHECK;
/* GET_DIGESTS inside the session: E_HASH (session ended) when the slot's digest is not the hash
 * of the chain authenticated before KEY_EXCHANGE. */
pcitsm_err pcitsm_spdm_drv_session_get_digests(struct pcitsm_spdm_session *s,
					       struct pcitsm_xport *x)
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



/* Requester: one PCI-SIG vendor-defined exchange inside an established secure session s, over
 * transport x (DOE type 2 objects). req points at the Protocol ID byte of the request payload
 * (req[0] must equal protocol_id, else E_INVAL); the response payload, from its Protocol ID byte,
 * is appended to rsp. Errors: E_STATE (no established session), E_FIELD (the response is not a
 * PCI-SIG vendor-defined response for protocol_id), E_PEER_ERROR (the device answered ERROR),
 * E_NORESPONSE / E_TIMEOUT (the device chose silence: the session stays usable), a record error
 * (E_MAC ...: the session is ended), E_NOSPC (rsp too small). */
pcitsm_err pcitsm_spdm_drv_vdm_call(struct pcitsm_spdm_session *s, struct pcitsm_xport *x,
				    uint8_t protocol_id, const uint8_t *req, size_t len,
				    struct pcitsm_wr *rsp) PCITSM_MUST_CHECK;

#endif /* PCITSM_SPDM_DRIVER_H */
