/* SPDX-License-Identifier: MIT */
/*
 * The offline verifier (include/pcitsm/evidence.h, docs/evidence.md "What is checked"): each
 * check one function, run in order, the first failure named. The SPDM checks are lib/spdm's own
 * (pcitsm_spdm_meas_record_*, pcitsm_spdm_chain_certs), the chain's validation lib/crypto's, the
 * policy's evaluation lib/policy's, the report's decoding and digest lib/tdisp's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/evidence.h"

const char *pcitsm_evidence_check_name(enum pcitsm_evidence_check c)
{
	static const char *const names[] = {
#define PCITSM_EV_NAME(id, name) [PCITSM_EVIDENCE_##id] = (name),
		PCITSM_EVIDENCE_CHECKS(PCITSM_EV_NAME)
#undef PCITSM_EV_NAME
	};

	return (unsigned)c < PCITSM_ARRAY_SIZE(names) ? names[c] : "unknown";
}

struct run {
	const struct pcitsm_evidence *ev;
	struct pcitsm_spdm_meas_record rec;
	struct pcitsm_evidence_verdict *v;
};

PCITSM_PRINTF(3, 4)
static pcitsm_err fail(struct run *r, pcitsm_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->v->why, sizeof(r->v->why), fmt, ap);
	va_end(ap);
	return e;
}

static pcitsm_err check_transcript(struct run *r)
{
	pcitsm_err e = pcitsm_spdm_meas_record_parse(&r->rec, &r->v->view, r->v->why,
						     sizeof(r->v->why));

	if (e)
		return e;
	e = pcitsm_policy_record_blocks(r->v->view.record, r->v->view.record_len, r->v->blocks,
					PCITSM_ARRAY_SIZE(r->v->blocks), &r->v->nr_blocks);
	if (e)
		return fail(r, e, "the MeasurementRecord does not walk: %s", pcitsm_err_str(e));
	return PCITSM_OK;
}

/* The chain: its SPDM structure, X.509 validation to an anchor, the leaf fits BaseAsymSel. */
static pcitsm_err check_chain(struct run *r, const struct pcitsm_trust *trust, EVP_PKEY **leaf)
{
	const struct pcitsm_spdm_meas_view *v = &r->v->view;
	const uint8_t *certs = r->ev->certs;
	size_t certs_len = r->ev->certs_len;
	char why[256] = "";
	pcitsm_err e;

	if (r->ev->chain) {
		e = pcitsm_spdm_chain_certs(v->hash, r->ev->chain, r->ev->chain_len, &certs,
					    &certs_len, r->v->why, sizeof(r->v->why));
		if (e)
			return e;
	}
	if (!trust)
		return fail(r, PCITSM_E_CERT, "no trust anchor given");
	e = pcitsm_x509_chain_verify(trust, certs, certs_len, leaf, why, sizeof(why));
	if (e)
		return fail(r, e, "the chain does not validate against the trust anchor: %s",
			    why[0] ? why : pcitsm_err_str(e));
	if (!pcitsm_sig_key_matches(*leaf, v->sig))
		return fail(r, PCITSM_E_CERT, "the leaf key does not fit the negotiated %s",
			    pcitsm_sig_name(v->sig));
	return PCITSM_OK;
}

/* The nonce the request carried: the one the file records (a file whose nonce field is not the
 * signed one says something the device did not sign), and the verifier's own (fresh). */
static pcitsm_err check_nonce(struct run *r, const uint8_t *nonce)
{
	r->v->nonce_pinned = nonce != NULL;
	if (pcitsm_ct_memneq(r->v->view.req_nonce, r->ev->nonce, PCITSM_SPDM_NONCE_LEN))
		return fail(r, PCITSM_E_NONCE,
			    "GET_MEASUREMENTS carries another nonce than the one the %s records",
			    r->ev->token ? "token" : "bundle");
	if (nonce && pcitsm_ct_memneq(r->v->view.req_nonce, nonce, PCITSM_SPDM_NONCE_LEN))
		return fail(r, PCITSM_E_NONCE,
			    "GET_MEASUREMENTS carries another nonce than the verifier's");
	return PCITSM_OK;
}

static pcitsm_err check_signature(struct run *r, EVP_PKEY *leaf)
{
	pcitsm_err e = pcitsm_spdm_meas_record_verify(&r->rec, &r->v->view, leaf, r->v->l1_hash);

	if (e)
		return fail(r, e, "the MEASUREMENTS signature does not verify over L1 = VCA || "
			    "GET_MEASUREMENTS || MEASUREMENTS (%s)", pcitsm_err_name(e));
	return PCITSM_OK;
}

/* An EAT's claims are derived from its signed content: encoded again, it must be the token. */
static pcitsm_err check_claims(struct run *r)
{
	uint8_t *again = NULL;
	size_t n = 0;
	pcitsm_err e;

	if (!r->ev->token)
		return PCITSM_OK;
	e = pcitsm_evidence_eat_encode(r->ev, &again, &n);
	if (!e && (n != r->ev->token_len || memcmp(again, r->ev->token, n) != 0))
		e = fail(r, PCITSM_E_MISMATCH, "the token's claims (measurement blocks, nonces, "
			 "prefix, algorithm) are not those of its signed transcript");
	else if (e)
		e = fail(r, e, "the token's content does not encode: %s", pcitsm_err_str(e));
	free(again);
	return e;
}

/* A policy with only the parts of p that one check judges (lib/policy evaluates them in order). */
static struct pcitsm_policy *policy_part(const struct pcitsm_policy *p, bool meas)
{
	struct pcitsm_policy *q = malloc(sizeof(*q));

	if (!q)
		return NULL;
	*q = *p;
	if (meas) {
		q->has_info = q->has_mmio = false;
		q->nr_mmio = 0;
	} else {
		q->nr_meas = 0;
	}
	return q;
}

static pcitsm_err eval_part(struct run *r, const struct pcitsm_policy *p, bool meas)
{
	static const struct pcitsm_tdisp_report none;
	struct pcitsm_policy *q = policy_part(p, meas);
	const struct pcitsm_policy_evidence pe = { r->v->blocks, r->v->nr_blocks,
						   r->ev->has_report ? &r->v->report : &none };
	pcitsm_err e;

	if (!q)
		return fail(r, PCITSM_E_NOMEM, "out of memory");
	e = pcitsm_policy_eval(q, &pe, r->v->why, sizeof(r->v->why));
	free(q);
	return e;
}

static pcitsm_err check_report(struct run *r)
{
	pcitsm_err e = pcitsm_tdisp_report_decode(r->ev->report, r->ev->report_len, &r->v->report);

	if (e)
		return fail(r, e, "the interface report (%zu bytes) does not decode: %s",
			    r->ev->report_len, pcitsm_err_str(e));
	return PCITSM_OK;
}

static pcitsm_err check_report_digest(struct run *r)
{
	uint8_t d[PCITSM_TDISP_DIGEST_LEN];
	pcitsm_err e = pcitsm_tdisp_report_digest(r->ev->report, r->ev->report_len, d);

	if (e)
		return fail(r, e, "cannot hash the report");
	if (pcitsm_ct_memneq(d, r->ev->report_digest, sizeof(d)))
		return fail(r, PCITSM_E_HASH, "the report's SHA-384 is not the recorded digest");
	return PCITSM_OK;
}

static pcitsm_err check_report_policy(struct run *r, const struct pcitsm_policy *p)
{
	if (!r->ev->has_report)
		return fail(r, PCITSM_E_NOTFOUND,
			    "the policy judges an interface report and the evidence has none");
	return eval_part(r, p, false);
}

/* Record the outcome of check c; false stops the run. */
static bool step(struct run *r, enum pcitsm_evidence_check c, pcitsm_err e, pcitsm_err *first)
{
	r->v->outcome[c] = e ? PCITSM_EVIDENCE_FAILED : PCITSM_EVIDENCE_PASSED;
	if (e) {
		r->v->failed = c;
		*first = e;
	}
	return e == PCITSM_OK;
}

pcitsm_err pcitsm_evidence_verify(const struct pcitsm_evidence *ev,
				  const struct pcitsm_trust *trust, const uint8_t *nonce,
				  const struct pcitsm_policy *policy,
				  struct pcitsm_evidence_verdict *v)
{
	struct run r = { ev, { ev->vca, ev->vca_len, ev->meas_req, ev->meas_req_len, ev->meas_rsp,
			       ev->meas_rsp_len }, v };
	bool judge_report = policy && (policy->has_info || policy->has_mmio);
	EVP_PKEY *leaf = NULL;
	pcitsm_err e = PCITSM_OK;

	memset(v, 0, sizeof(*v));
	if (!ev->vca || !ev->meas_req || !ev->meas_rsp)
		return PCITSM_E_INVAL;
	if (step(&r, PCITSM_EVIDENCE_TRANSCRIPT, check_transcript(&r), &e) &&
	    step(&r, PCITSM_EVIDENCE_CHAIN, check_chain(&r, trust, &leaf), &e) &&
	    step(&r, PCITSM_EVIDENCE_NONCE, check_nonce(&r, nonce), &e) &&
	    step(&r, PCITSM_EVIDENCE_SIGNATURE, check_signature(&r, leaf), &e) &&
	    (!ev->token || step(&r, PCITSM_EVIDENCE_CLAIMS, check_claims(&r), &e)) &&
	    (!policy || step(&r, PCITSM_EVIDENCE_MEASUREMENTS, eval_part(&r, policy, true), &e)) &&
	    (!ev->has_report || (step(&r, PCITSM_EVIDENCE_REPORT, check_report(&r), &e) &&
				 step(&r, PCITSM_EVIDENCE_REPORT_DIGEST, check_report_digest(&r),
				      &e))) &&
	    judge_report)
		(void)step(&r, PCITSM_EVIDENCE_REPORT_POLICY, check_report_policy(&r, policy), &e);
	EVP_PKEY_free(leaf);
	if (!e)
		v->why[0] = '\0';
	return e;
}
