/* SPDX-License-Identifier: MIT */
/*
 * Device evidence a remote verifier checks without trusting the host (docs/evidence.md): the
 * device's SPDM certificate chain, transcript A (VCA), one signed GET_MEASUREMENTS / MEASUREMENTS
 * exchange (DSP0274), the requester's nonce, and a TDISP interface report with its SHA-384 digest
 * (PCIe 6.x §11). Two encodings of the same content, both untrusted input to their decoders:
 *
 *   bundle   pcitsm's own binary format, versioned: "PCITSMEV", version u16, then fields as
 *            (type u16, length u32, value) in ascending type order, every required one present;
 *   EAT      a CBOR token in the shape of the IETF EAT device-assignment profile
 *            (draft-poirier-rats-eat-da), unsigned (UCCS-like): the trust is the device's SPDM
 *            signature inside it.
 *
 * pcitsm_evidence_verify re-checks everything offline and names the first check that fails.
 */
#ifndef PCITSM_EVIDENCE_H
#define PCITSM_EVIDENCE_H

#include "pcitsm/crypto.h"
#include "pcitsm/policy.h"
#include "pcitsm/spdm_driver.h"
#include "pcitsm/tdisp.h"

#define PCITSM_EVIDENCE_VERSION 1
#define PCITSM_EVIDENCE_MAX (1u << 20)  /* a larger bundle or token is refused */
#define PCITSM_EVIDENCE_DEVICE_MAX 64   /* the informative device name, bytes */

/* The evidence, decoded: every buffer malloc'd and owned (pcitsm_evidence_free). */
struct pcitsm_evidence {
	char device[PCITSM_EVIDENCE_DEVICE_MAX + 1]; /* informative: where it was read */
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];        /* the requester's nonce, as recorded */
	uint8_t *chain;  /* the SPDM chain (header, RootHash, DER), or NULL: certs alone */
	size_t chain_len;
	uint8_t *certs;  /* the DER certificates, root first, when chain is NULL */
	size_t certs_len;
	uint8_t *vca, *meas_req, *meas_rsp;
	size_t vca_len, meas_req_len, meas_rsp_len;
	bool has_report;
	uint8_t *report; /* TDISP DEVICE_INTERFACE_REPORT bytes */
	size_t report_len;
	uint8_t report_digest[PCITSM_TDISP_DIGEST_LEN];
	/* Decoded from an EAT: the token itself, which must be exactly what its content encodes. */
	uint8_t *token;
	size_t token_len;
};
void pcitsm_evidence_free(struct pcitsm_evidence *ev);

/* Fill ev from an authentication's result (copies), a TDISP report and its digest (report NULL:
 * none) and the device's name. E_STATE: the result holds no signed MEASUREMENTS. */
pcitsm_err pcitsm_evidence_from_auth(struct pcitsm_evidence *ev,
				     const struct pcitsm_spdm_auth_result *res,
				     const uint8_t *report, size_t report_len,
				     const uint8_t digest[PCITSM_TDISP_DIGEST_LEN],
				     const char *device) PCITSM_MUST_CHECK;

/* What a TSM publishes of a connected device (the mirror's evidence/ files, the proposed netlink
 * evidence-read's cert0, vca and measurements), and the nonce the caller gave it for the signed
 * exchange (docs/evidence.md "A connected device: the TSM's signed exchange"). */
struct pcitsm_evidence_tsm {
	const uint8_t *chain; /* SPDM chain of slot 0 */
	size_t chain_len;
	const uint8_t *vca;
	size_t vca_len;
	const uint8_t *meas; /* the signed MEASUREMENTS, whole */
	size_t meas_len;
	const uint8_t *nonce; /* 32 bytes: the caller's */
};
/* Fill ev from it (copies): the GET_MEASUREMENTS is rebuilt from the nonce, A and the response
 * (pcitsm_spdm_meas_request_rebuild), since the evidence-read publishes no request. E_FIELD /
 * E_UNSUPPORTED with why when the pieces do not decode. */
pcitsm_err pcitsm_evidence_from_tsm(struct pcitsm_evidence *ev, const struct pcitsm_evidence_tsm *t,
				    const uint8_t *report, size_t report_len,
				    const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], const char *device,
				    char *why, size_t why_len) PCITSM_MUST_CHECK;

/* The binary bundle. Encode: *out malloc'd. Decode: E_SHORT (truncated), E_LONG (bytes after the
 * last field, or over PCITSM_EVIDENCE_MAX), E_VERSION (not version 1), E_FIELD (bad magic, a field
 * out of order, unknown, missing or of the wrong size), with why naming it. */
pcitsm_err pcitsm_evidence_bundle_encode(const struct pcitsm_evidence *ev, uint8_t **out,
					 size_t *len) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_evidence_bundle_decode(const uint8_t *p, size_t n, struct pcitsm_evidence *ev,
					 char *why, size_t why_len) PCITSM_MUST_CHECK;

/* The EAT token (CBOR, docs/evidence.md "The EAT token"). Encode needs a record that decodes (the
 * derived claims come from it): E_FIELD otherwise. Decode takes the structure only (one map,
 * definite lengths, known keys, each once, the profile strings, byte strings of the right sizes);
 * the claims derived from the signed transcript are compared by pcitsm_evidence_verify. */
pcitsm_err pcitsm_evidence_eat_encode(const struct pcitsm_evidence *ev, uint8_t **out,
				      size_t *len) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_evidence_eat_decode(const uint8_t *p, size_t n, struct pcitsm_evidence *ev,
				      char *why, size_t why_len) PCITSM_MUST_CHECK;

/* The checks, in the order they run. */
#define PCITSM_EVIDENCE_CHECKS(X)                                                              \
	X(TRANSCRIPT, "transcript") X(CHAIN, "chain") X(NONCE, "nonce")                        \
	X(SIGNATURE, "signature") X(CLAIMS, "claims") X(MEASUREMENTS, "measurements")          \
	X(REPORT, "report") X(REPORT_DIGEST, "report-digest") X(REPORT_POLICY, "report-policy")
enum pcitsm_evidence_check {
#define PCITSM_EV_ENUM(id, name) PCITSM_EVIDENCE_##id,
	PCITSM_EVIDENCE_CHECKS(PCITSM_EV_ENUM)
#undef PCITSM_EV_ENUM
	PCITSM_EVIDENCE_NR_CHECKS
};
const char *pcitsm_evidence_check_name(enum pcitsm_evidence_check c); /* "report-digest" */

enum pcitsm_evidence_outcome {
	PCITSM_EVIDENCE_NOT_RUN = 0, /* an earlier check failed, or nothing to check */
	PCITSM_EVIDENCE_PASSED,
	PCITSM_EVIDENCE_FAILED,
};
struct pcitsm_evidence_verdict {
	enum pcitsm_evidence_outcome outcome[PCITSM_EVIDENCE_NR_CHECKS];
	enum pcitsm_evidence_check failed; /* valid when verify returned an error */
	char why[320];                     /* the failure, or "" */
	bool nonce_pinned;                 /* the nonce was compared with the verifier's */
	struct pcitsm_spdm_meas_view view; /* once TRANSCRIPT passed (points into ev) */
	uint8_t l1_hash[PCITSM_HASH_MAX];
	size_t nr_blocks;
	struct pcitsm_spdm_meas_block blocks[PCITSM_POLICY_MAX_BLOCKS]; /* into ev */
	struct pcitsm_tdisp_report report;  /* decoded, when REPORT passed */
};

/*
 * Verify ev offline: TRANSCRIPT (VCA and the exchange decode as the requester takes them), CHAIN
 * (the SPDM chain's structure, X.509 validation against trust, the leaf key fits BaseAsymSel),
 * NONCE (the request's nonce is the one the bundle records, and nonce when given, else not
 * pinned),
 * SIGNATURE (over L1 with the leaf key), CLAIMS (an EAT's derived claims are its transcript's),
 * MEASUREMENTS (the signed blocks against policy's digests), REPORT (the report decodes), its
 * DIGEST (SHA-384 of the report = the recorded digest), REPORT_POLICY (policy's interface info
 * and MMIO layout). policy NULL: no policy checks. OK, or the first failure's error with
 * v->failed and v->why.
 */
pcitsm_err pcitsm_evidence_verify(const struct pcitsm_evidence *ev,
				  const struct pcitsm_trust *trust, const uint8_t *nonce,
				  const struct pcitsm_policy *policy,
				  struct pcitsm_evidence_verdict *v) PCITSM_MUST_CHECK;

#endif /* PCITSM_EVIDENCE_H */
