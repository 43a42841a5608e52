/* SPDX-License-Identifier: MIT */
/*
 * The evidence bundle, pcitsm's binary format (include/pcitsm/evidence.h, docs/evidence.md):
 *
 *   magic "PCITSMEV" | version u16 = 1 | reserved u16 = 0 | total length u32 (the whole file)
 *   then fields, each: type u16 | length u32 | value, in strictly ascending type order
 *
 * all little-endian. The decoder reads untrusted bytes: every field known, once, in order, of its
 * size; nothing after the last; the total length is the file's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/evidence.h"

#define BUNDLE_MAGIC "PCITSMEV"
#define BUNDLE_HDR_LEN 16
#define FIELD_HDR_LEN 6

enum field {
	F_DEVICE = 1,   /* the device's name, text, informative (optional) */
	F_NONCE = 2,    /* the requester's nonce, 32 bytes */
	F_CHAIN = 3,    /* the SPDM certificate chain */
	F_VCA = 4,      /* transcript A */
	F_MEAS_REQ = 5, /* GET_MEASUREMENTS */
	F_MEAS_RSP = 6, /* MEASUREMENTS, signature included */
	F_REPORT = 7,   /* TDISP interface report (optional) */
	F_DIGEST = 8,   /* its SHA-384 as recorded (with F_REPORT only) */
	F_LAST = F_DIGEST,
};

/* Size bounds of each field's value: [min, max]. */
static const struct {
	size_t min, max;
	bool required;
} fields[F_LAST + 1] = {
	[F_DEVICE] = { 0, PCITSM_EVIDENCE_DEVICE_MAX, false },
	[F_NONCE] = { PCITSM_SPDM_NONCE_LEN, PCITSM_SPDM_NONCE_LEN, true },
	[F_CHAIN] = { 4 + 32 + 1, PCITSM_SPDM_MAX_CHAIN, true },
	[F_VCA] = { 4, PCITSM_SPDM_VCA_MAX, true },
	[F_MEAS_REQ] = { 4, 64, true },
	[F_MEAS_RSP] = { 4, PCITSM_EVIDENCE_MAX, true },
	[F_REPORT] = { 1, PCITSM_TDISP_REPORT_MAX, false },
	[F_DIGEST] = { PCITSM_TDISP_DIGEST_LEN, PCITSM_TDISP_DIGEST_LEN, false },
};

void pcitsm_evidence_free(struct pcitsm_evidence *ev)
{
	free(ev->chain);
	free(ev->certs);
	free(ev->vca);
	free(ev->meas_req);
	free(ev->meas_rsp);
	free(ev->report);
	free(ev->token);
	memset(ev, 0, sizeof(*ev));
}

static pcitsm_err dup(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t n)
{
	*dst = malloc(n ? n : 1);
	if (!*dst)
		return PCITSM_E_NOMEM;
	memcpy(*dst, src, n);
	*dst_len = n;
	return PCITSM_OK;
}

/* The report and its digest, when there is one. */
static pcitsm_err add_report(struct pcitsm_evidence *ev, const uint8_t *report, size_t report_len,
			     const uint8_t digest[PCITSM_TDISP_DIGEST_LEN])
{
	if (!report)
		return PCITSM_OK;
	memcpy(ev->report_digest, digest, sizeof(ev->report_digest));
	ev->has_report = true;
	return dup(&ev->report, &ev->report_len, report, report_len);
}

pcitsm_err pcitsm_evidence_from_auth(struct pcitsm_evidence *ev,
				     const struct pcitsm_spdm_auth_result *res,
				     const uint8_t *report, size_t report_len,
				     const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], const char *device)
{
	pcitsm_err e;

	memset(ev, 0, sizeof(*ev));
	if (!res->meas_rsp || !res->meas_req_len || !res->chain || !res->vca_len)
		return PCITSM_E_STATE;
	snprintf(ev->device, sizeof(ev->device), "%s", device ? device : "");
	memcpy(ev->nonce, res->meas_nonce, sizeof(ev->nonce));
	e = dup(&ev->chain, &ev->chain_len, res->chain, res->chain_len);
	if (!e)
		e = dup(&ev->vca, &ev->vca_len, res->vca, res->vca_len);
	if (!e)
		e = dup(&ev->meas_req, &ev->meas_req_len, res->meas_req, res->meas_req_len);
	if (!e)
		e = dup(&ev->meas_rsp, &ev->meas_rsp_len, res->meas_rsp, res->meas_rsp_len);
	if (!e)
		e = add_report(ev, report, report_len, digest);
	if (e)
		pcitsm_evidence_free(ev);
	return e;
}

pcitsm_err pcitsm_evidence_from_tsm(struct pcitsm_evidence *ev, const struct pcitsm_evidence_tsm *t,
				    const uint8_t *report, size_t report_len,
				    const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], const char *device,
				    char *why, size_t why_len)
{
	uint8_t req[64];
	size_t req_len = 0;
	pcitsm_err e;

	memset(ev, 0, sizeof(*ev));
	if (!t->chain || !t->vca || !t->meas || !t->nonce)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_spdm_meas_request_rebuild(t->vca, t->vca_len, t->meas, t->meas_len,
						    t->nonce, req, &req_len, why, why_len));
	snprintf(ev->device, sizeof(ev->device), "%s", device ? device : "");
	memcpy(ev->nonce, t->nonce, sizeof(ev->nonce));
	e = dup(&ev->chain, &ev->chain_len, t->chain, t->chain_len);
	if (!e)
		e = dup(&ev->vca, &ev->vca_len, t->vca, t->vca_len);
	if (!e)
		e = dup(&ev->meas_req, &ev->meas_req_len, req, req_len);
	if (!e)
		e = dup(&ev->meas_rsp, &ev->meas_rsp_len, t->meas, t->meas_len);
	if (!e)
		e = add_report(ev, report, report_len, digest);
	if (e)
		pcitsm_evidence_free(ev);
	return e;
}

static void put(struct pcitsm_wr *w, enum field f, const void *p, size_t n)
{
	pcitsm_wr_le16(w, (uint16_t)f);
	pcitsm_wr_le32(w, (uint32_t)n);
	pcitsm_wr_bytes(w, p, n);
}

pcitsm_err pcitsm_evidence_bundle_encode(const struct pcitsm_evidence *ev, uint8_t **out,
					 size_t *len)
{
	size_t cap = BUNDLE_HDR_LEN + 8 * FIELD_HDR_LEN + strlen(ev->device) +
		     sizeof(ev->nonce) + ev->chain_len + ev->vca_len + ev->meas_req_len +
		     ev->meas_rsp_len + (ev->has_report ? ev->report_len + PCITSM_TDISP_DIGEST_LEN : 0);
	struct pcitsm_wr w;
	uint8_t *buf;

	if (!ev->chain || cap > PCITSM_EVIDENCE_MAX)
		return PCITSM_E_INVAL;
	buf = malloc(cap);
	if (!buf)
		return PCITSM_E_NOMEM;
	pcitsm_wr_init(&w, buf, cap);
	pcitsm_wr_bytes(&w, BUNDLE_MAGIC, 8);
	pcitsm_wr_le16(&w, PCITSM_EVIDENCE_VERSION);
	pcitsm_wr_le16(&w, 0);
	pcitsm_wr_le32(&w, 0); /* patched below */
	if (ev->device[0])
		put(&w, F_DEVICE, ev->device, strlen(ev->device));
	put(&w, F_NONCE, ev->nonce, sizeof(ev->nonce));
	put(&w, F_CHAIN, ev->chain, ev->chain_len);
	put(&w, F_VCA, ev->vca, ev->vca_len);
	put(&w, F_MEAS_REQ, ev->meas_req, ev->meas_req_len);
	put(&w, F_MEAS_RSP, ev->meas_rsp, ev->meas_rsp_len);
	if (ev->has_report) {
		put(&w, F_REPORT, ev->report, ev->report_len);
		put(&w, F_DIGEST, ev->report_digest, sizeof(ev->report_digest));
	}
	pcitsm_wr_patch_le32(&w, 12, (uint32_t)pcitsm_wr_len(&w));
	if (pcitsm_wr_err(&w)) {
		free(buf);
		return pcitsm_wr_err(&w);
	}
	*out = buf;
	*len = pcitsm_wr_len(&w);
	return PCITSM_OK;
}

PCITSM_PRINTF(4, 5)
static pcitsm_err bad(char *why, size_t wl, pcitsm_err e, const char *fmt, ...)
{
	va_list ap;

	if (why && wl) {
		va_start(ap, fmt);
		vsnprintf(why, wl, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* One field's value into ev. */
static pcitsm_err take(struct pcitsm_evidence *ev, enum field f, const uint8_t *v, size_t n)
{
	switch (f) {
	case F_DEVICE:
		if (memchr(v, '\0', n))
			return PCITSM_E_FIELD;
		memcpy(ev->device, v, n);
		ev->device[n] = '\0';
		return PCITSM_OK;
	case F_NONCE:
		memcpy(ev->nonce, v, n);
		return PCITSM_OK;
	case F_CHAIN:
		return dup(&ev->chain, &ev->chain_len, v, n);
	case F_VCA:
		return dup(&ev->vca, &ev->vca_len, v, n);
	case F_MEAS_REQ:
		return dup(&ev->meas_req, &ev->meas_req_len, v, n);
	case F_MEAS_RSP:
		return dup(&ev->meas_rsp, &ev->meas_rsp_len, v, n);
	case F_REPORT:
		ev->has_report = true;
		return dup(&ev->report, &ev->report_len, v, n);
	case F_DIGEST:
		memcpy(ev->report_digest, v, n);
		return PCITSM_OK;
	}
	return PCITSM_E_FIELD;
}

static pcitsm_err decode_fields(struct pcitsm_rd *r, struct pcitsm_evidence *ev, char *why,
				size_t wl)
{
	bool seen[F_LAST + 1] = { false };
	unsigned last = 0;

	while (pcitsm_rd_left(r)) {
		unsigned type = pcitsm_rd_le16(r);
		size_t n = pcitsm_rd_le32(r);
		const uint8_t *v;

		if (pcitsm_rd_err(r))
			return bad(why, wl, PCITSM_E_SHORT, "truncated field header after type %u",
				   last);
		if (type <= last || type > F_LAST)
			return bad(why, wl, PCITSM_E_FIELD, "field type %u %s", type,
				   type > F_LAST ? "is unknown to version 1" : "out of order");
		if (n < fields[type].min || n > fields[type].max)
			return bad(why, wl, PCITSM_E_FIELD, "field %u: %zu bytes, expected %zu..%zu",
				   type, n, fields[type].min, fields[type].max);
		v = pcitsm_rd_bytes(r, n);
		if (!v)
			return bad(why, wl, PCITSM_E_SHORT, "field %u: truncated (%zu bytes)", type,
				   n);
		PCITSM_TRY(take(ev, (enum field)type, v, n));
		seen[type] = true;
		last = type;
	}
	for (unsigned f = 1; f <= F_LAST; f++)
		if (fields[f].required && !seen[f])
			return bad(why, wl, PCITSM_E_FIELD, "field %u is missing", f);
	if (seen[F_REPORT] != seen[F_DIGEST])
		return bad(why, wl, PCITSM_E_FIELD, "a report without its digest, or one alone");
	return PCITSM_OK;
}

pcitsm_err pcitsm_evidence_bundle_decode(const uint8_t *p, size_t n, struct pcitsm_evidence *ev,
					 char *why, size_t why_len)
{
	struct pcitsm_rd r;
	uint16_t version;
	uint32_t total;
	pcitsm_err e;

	memset(ev, 0, sizeof(*ev));
	if (n > PCITSM_EVIDENCE_MAX)
		return bad(why, why_len, PCITSM_E_LONG, "%zu bytes, at most %u", n,
			   PCITSM_EVIDENCE_MAX);
	if (n < BUNDLE_HDR_LEN)
		return bad(why, why_len, PCITSM_E_SHORT, "%zu bytes: shorter than the header", n);
	if (memcmp(p, BUNDLE_MAGIC, 8) != 0)
		return bad(why, why_len, PCITSM_E_FIELD, "not a pcitsm evidence bundle (magic)");
	pcitsm_rd_init(&r, p + 8, n - 8);
	version = pcitsm_rd_le16(&r);
	if (version != PCITSM_EVIDENCE_VERSION)
		return bad(why, why_len, PCITSM_E_VERSION, "bundle version %u, this verifier reads %u",
			   version, PCITSM_EVIDENCE_VERSION);
	pcitsm_rd_zero(&r, 2);
	total = pcitsm_rd_le32(&r);
	if (pcitsm_rd_err(&r))
		return bad(why, why_len, PCITSM_E_FIELD, "reserved header bytes are not zero");
	if (total > n)
		return bad(why, why_len, PCITSM_E_SHORT, "truncated: %zu of %u bytes", n, total);
	if (total < n)
		return bad(why, why_len, PCITSM_E_LONG, "%zu bytes after the bundle's %u", n - total,
			   total);
	e = decode_fields(&r, ev, why, why_len);
	if (e)
		pcitsm_evidence_free(ev);
	return e;
}
