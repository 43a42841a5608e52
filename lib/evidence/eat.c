/* SPDX-License-Identifier: MIT */
/*
 * The evidence as a CBOR token in the shape of the EAT device-assignment profile
 * (draft-poirier-rats-eat-da; docs/evidence.md "The EAT token" says what is taken from the draft
 * and what is ours), through libcbor. Unsigned: the trust is the device's SPDM signature inside.
 *
 *   { 265 eat_profile: "tag:linaro.org,2025:device#1.0.0", 10 eat_nonce: requester nonce,
 *     266 eat_submods: { "spdm:<device>": {
 *         265: "tag:linaro.org,2025:device-spdm#1.0.0",
 *         3802 measurements: { index: {1: value type, 2: [alg, digest] / 3: raw}, ...,
 *                              "signature": {1 slot, 2 requester nonce, 3 responder nonce,
 *                                            4 combined prefix, 5 L1, 6 hash alg, 7 signature} },
 *         3803 certificates: { slot: DER certificates },
 *         3804 vca: transcript A,
 *         -70001: TDISP interface report, -70002: its SHA-384 (pcitsm private claims) } } }
 *
 * Every map definite and written in this order, integers in their shortest form, so that one
 * content has one encoding: the verifier encodes a decoded token again and compares.
 */
#include <cbor.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/evidence.h"

#define EAT_PROFILE "tag:linaro.org,2025:device#1.0.0"
#define EAT_SPDM_PROFILE "tag:linaro.org,2025:device-spdm#1.0.0"
#define K_PROFILE 265
#define K_NONCE 10
#define K_SUBMODS 266
#define K_MEASUREMENTS 3802
#define K_CERTIFICATES 3803
#define K_VCA 3804
#define K_REPORT (-70001)
#define K_REPORT_DIGEST (-70002)
#define SUBMOD_PREFIX "spdm:"
#define PREFIX_LEN 100

/* ---------------------------------------------------------------------------------------------
 * Encoding: a builder whose first allocation failure is sticky.
 */
struct eb {
	bool ok;
};

static cbor_item_t *num(struct eb *b, int64_t v)
{
	cbor_item_t *i;
	uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) : (uint64_t)v;

	if (u <= 0xff)
		i = v < 0 ? cbor_build_negint8((uint8_t)u) : cbor_build_uint8((uint8_t)u);
	else if (u <= 0xffff)
		i = v < 0 ? cbor_build_negint16((uint16_t)u) : cbor_build_uint16((uint16_t)u);
	else
		i = v < 0 ? cbor_build_negint32((uint32_t)u) : cbor_build_uint32((uint32_t)u);
	b->ok &= i != NULL;
	return i;
}

static cbor_item_t *bytes(struct eb *b, const uint8_t *p, size_t n)
{
	cbor_item_t *i = cbor_build_bytestring(p, n);

	b->ok &= i != NULL;
	return i;
}

static cbor_item_t *text(struct eb *b, const char *s)
{
	cbor_item_t *i = cbor_build_string(s);

	b->ok &= i != NULL;
	return i;
}

static cbor_item_t *map(struct eb *b, size_t n)
{
	cbor_item_t *i = cbor_new_definite_map(n);

	b->ok &= i != NULL;
	return i;
}

/* m[k] = v; m, k, v may be NULL after a failure (then only what exists is released). */
static void put(struct eb *b, cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	if (m && k && v && cbor_map_add(m, (struct cbor_pair){ .key = k, .value = v })) {
		cbor_decref(&k);
		cbor_decref(&v);
		return;
	}
	b->ok = false;
	if (k)
		cbor_decref(&k);
	if (v)
		cbor_decref(&v);
}

/* The draft's hash-algorithm-type values (its CDDL for SPDM measurements). */
static int64_t hash_claim(enum pcitsm_hash_alg h)
{
	switch (h) {
	case PCITSM_HASH_SHA256:
		return 0;
	case PCITSM_HASH_SHA384:
		return 2;
	default:
		return 4; /* SHA-512, the only other one pcitsm negotiates */
	}
}

static cbor_item_t *block_claim(struct eb *b, const struct pcitsm_spdm_meas_block *blk,
				enum pcitsm_hash_alg mhash)
{
	cbor_item_t *m = map(b, 2), *pair;

	put(b, m, num(b, 1), num(b, blk->type & 0x7f));
	if (blk->type & 0x80) {
		put(b, m, num(b, 3), bytes(b, blk->value, blk->value_len));
		return m;
	}
	pair = cbor_new_definite_array(2);
	b->ok &= pair != NULL;
	if (pair) {
		cbor_item_t *alg = num(b, hash_claim(mhash)), *val = bytes(b, blk->value,
									   blk->value_len);

		b->ok &= alg && val && cbor_array_push(pair, alg) && cbor_array_push(pair, val);
		if (alg)
			cbor_decref(&alg);
		if (val)
			cbor_decref(&val);
	}
	put(b, m, num(b, 2), pair);
	return m;
}

static cbor_item_t *signature_claim(struct eb *b, const struct pcitsm_evidence *ev,
				    const struct pcitsm_spdm_meas_view *v)
{
	cbor_item_t *m = map(b, 7);
	size_t l1_len = ev->vca_len + ev->meas_req_len + v->signed_len;
	uint8_t *l1 = malloc(l1_len);

	b->ok &= l1 != NULL;
	if (l1) {
		memcpy(l1, ev->vca, ev->vca_len);
		memcpy(l1 + ev->vca_len, ev->meas_req, ev->meas_req_len);
		memcpy(l1 + ev->vca_len + ev->meas_req_len, ev->meas_rsp, v->signed_len);
	}
	put(b, m, num(b, 1), num(b, v->slot));
	put(b, m, num(b, 2), bytes(b, v->req_nonce, PCITSM_SPDM_NONCE_LEN));
	put(b, m, num(b, 3), bytes(b, v->rsp_nonce, PCITSM_SPDM_NONCE_LEN));
	put(b, m, num(b, 4), bytes(b, v->prefix, PREFIX_LEN));
	put(b, m, num(b, 5), l1 ? bytes(b, l1, l1_len) : NULL);
	put(b, m, num(b, 6), num(b, hash_claim(v->hash)));
	put(b, m, num(b, 7), bytes(b, v->signature, v->sig_len));
	free(l1);
	return m;
}

static cbor_item_t *measurements_claim(struct eb *b, const struct pcitsm_evidence *ev,
				       const struct pcitsm_spdm_meas_view *v)
{
	enum pcitsm_hash_alg mhash = pcitsm_spdm_meas_hash_alg(v->meas_hash);
	struct pcitsm_spdm_meas_block blk;
	cbor_item_t *m = map(b, (size_t)v->nr_blocks + 1);
	size_t off = 0;

	while (pcitsm_spdm_meas_next(v->record, v->record_len, &off, &blk) == PCITSM_OK)
		put(b, m, num(b, blk.index), block_claim(b, &blk, mhash));
	put(b, m, text(b, "signature"), signature_claim(b, ev, v));
	return m;
}

static cbor_item_t *submod_claims(struct eb *b, const struct pcitsm_evidence *ev,
				  const struct pcitsm_spdm_meas_view *v, const uint8_t *certs,
				  size_t certs_len)
{
	cbor_item_t *m = map(b, ev->has_report ? 6 : 4), *c = map(b, 1);

	put(b, m, num(b, K_PROFILE), text(b, EAT_SPDM_PROFILE));
	put(b, m, num(b, K_MEASUREMENTS), measurements_claim(b, ev, v));
	put(b, c, num(b, v->slot), bytes(b, certs, certs_len));
	put(b, m, num(b, K_CERTIFICATES), c);
	put(b, m, num(b, K_VCA), bytes(b, ev->vca, ev->vca_len));
	if (ev->has_report) {
		put(b, m, num(b, K_REPORT), bytes(b, ev->report, ev->report_len));
		put(b, m, num(b, K_REPORT_DIGEST),
		    bytes(b, ev->report_digest, sizeof(ev->report_digest)));
	}
	return m;
}

pcitsm_err pcitsm_evidence_eat_encode(const struct pcitsm_evidence *ev, uint8_t **out, size_t *len)
{
	const struct pcitsm_spdm_meas_record rec = { ev->vca, ev->vca_len, ev->meas_req,
						     ev->meas_req_len, ev->meas_rsp,
						     ev->meas_rsp_len };
	struct pcitsm_spdm_meas_view v;
	const uint8_t *certs = ev->certs;
	size_t certs_len = ev->certs_len, size = 0, n;
	char name[sizeof(SUBMOD_PREFIX) + PCITSM_EVIDENCE_DEVICE_MAX];
	struct eb b = { true };
	cbor_item_t *top, *subs;
	unsigned char *buf = NULL;

	if (!ev->vca || !ev->meas_req || !ev->meas_rsp ||
	    pcitsm_spdm_meas_record_parse(&rec, &v, NULL, 0))
		return PCITSM_E_FIELD;
	if (ev->chain && pcitsm_spdm_chain_certs(v.hash, ev->chain, ev->chain_len, &certs,
						 &certs_len, NULL, 0))
		return PCITSM_E_FIELD;
	if (!certs)
		return PCITSM_E_FIELD;
	snprintf(name, sizeof(name), SUBMOD_PREFIX "%s", ev->device[0] ? ev->device : "device");
	top = map(&b, 3);
	subs = map(&b, 1);
	put(&b, top, num(&b, K_PROFILE), text(&b, EAT_PROFILE));
	put(&b, top, num(&b, K_NONCE), bytes(&b, v.req_nonce, PCITSM_SPDM_NONCE_LEN));
	put(&b, subs, text(&b, name), submod_claims(&b, ev, &v, certs, certs_len));
	put(&b, top, num(&b, K_SUBMODS), subs);
	n = b.ok && top ? cbor_serialize_alloc(top, &buf, &size) : 0;
	if (top)
		cbor_decref(&top);
	if (!n) {
		free(buf);
		return PCITSM_E_NOMEM;
	}
	*out = buf;
	*len = n;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Decoding: the structure only, every key known and once, definite lengths throughout.
 */
struct dec {
	char *why;
	size_t wl;
};

PCITSM_PRINTF(2, 3)
static pcitsm_err bad(const struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->why && d->wl) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->wl, fmt, ap);
		va_end(ap);
	}
	return PCITSM_E_FIELD;
}

/* An integer key's value, false for any other key. */
static bool int_key(const cbor_item_t *k, int64_t *v)
{
	if (cbor_isa_uint(k) && cbor_get_int(k) <= INT64_MAX) {
		*v = (int64_t)cbor_get_int(k);
		return true;
	}
	if (cbor_isa_negint(k) && cbor_get_int(k) < INT64_MAX) {
		*v = -1 - (int64_t)cbor_get_int(k);
		return true;
	}
	return false;
}

static bool is_map(const cbor_item_t *i)
{
	return i && cbor_isa_map(i) && cbor_map_is_definite(i);
}

/* The value of integer key k in map m (NULL when absent); a key twice is refused. */
static const cbor_item_t *get(const cbor_item_t *m, int64_t k, bool *twice)
{
	const struct cbor_pair *p = cbor_map_handle(m);
	const cbor_item_t *found = NULL;
	int64_t v;

	for (size_t i = 0; i < cbor_map_size(m); i++)
		if (int_key(p[i].key, &v) && v == k) {
			*twice |= found != NULL;
			found = p[i].value;
		}
	return found;
}

/* A definite byte string of len in [min, max] copied out. */
static bool get_bytes(const cbor_item_t *i, size_t min, size_t max, uint8_t **out, size_t *len)
{
	size_t n;

	if (!i || !cbor_isa_bytestring(i) || !cbor_bytestring_is_definite(i))
		return false;
	n = cbor_bytestring_length(i);
	if (n < min || n > max)
		return false;
	*out = malloc(n ? n : 1);
	if (!*out)
		return false;
	memcpy(*out, cbor_bytestring_handle(i), n);
	*len = n;
	return true;
}

static bool is_text(const cbor_item_t *i, const char *s)
{
	return i && cbor_isa_string(i) && cbor_string_is_definite(i) &&
	       cbor_string_length(i) == strlen(s) &&
	       memcmp(cbor_string_handle(i), s, strlen(s)) == 0;
}

/* The "signature" claim: its L1 and signature give the exchange back. */
static pcitsm_err dec_signature(const struct dec *d, const cbor_item_t *s,
				struct pcitsm_evidence *ev)
{
	const cbor_item_t *l1i, *sigi;
	uint8_t *l1 = NULL, *sig = NULL;
	size_t l1_len, sig_len, req_len, rest;
	bool twice = false;

	if (!is_map(s) || cbor_map_size(s) != 7)
		return bad(d, "measurements.signature: not a map of 7 claims");
	for (int64_t k = 1; k <= 7; k++)
		if (!get(s, k, &twice))
			return bad(d, "measurements.signature: claim %lld missing", (long long)k);
	l1i = get(s, 5, &twice);
	sigi = get(s, 7, &twice);
	if (twice || !get_bytes(l1i, ev->vca_len, PCITSM_EVIDENCE_MAX, &l1, &l1_len) ||
	    !get_bytes(sigi, 1, 1024, &sig, &sig_len)) {
		free(l1);
		return bad(d, "measurements.signature: L1 or signature not byte strings");
	}
	if (memcmp(l1, ev->vca, ev->vca_len) != 0 ||
	    !(req_len = pcitsm_spdm_get_measurements_len(l1 + ev->vca_len,
							 l1_len - ev->vca_len))) {
		free(l1);
		free(sig);
		return bad(d, "measurements.signature: L1 is not the VCA claim then GET_MEASUREMENTS");
	}
	rest = l1_len - ev->vca_len - req_len;
	ev->meas_req = malloc(req_len);
	ev->meas_rsp = malloc(rest + sig_len);
	if (ev->meas_req && ev->meas_rsp) {
		memcpy(ev->meas_req, l1 + ev->vca_len, req_len);
		ev->meas_req_len = req_len;
		memcpy(ev->meas_rsp, l1 + ev->vca_len + req_len, rest);
		memcpy(ev->meas_rsp + rest, sig, sig_len);
		ev->meas_rsp_len = rest + sig_len;
	}
	free(l1);
	free(sig);
	return ev->meas_req && ev->meas_rsp ? PCITSM_OK : PCITSM_E_NOMEM;
}

/* 3802: blocks by index (their content is compared by the verifier), and the signature. */
static pcitsm_err dec_measurements(const struct dec *d, const cbor_item_t *m,
				   struct pcitsm_evidence *ev)
{
	const struct cbor_pair *p;
	const cbor_item_t *sig = NULL;

	if (!is_map(m))
		return bad(d, "measurements: not a map");
	p = cbor_map_handle(m);
	for (size_t i = 0; i < cbor_map_size(m); i++) {
		int64_t k;

		if (is_text(p[i].key, "signature") && !sig)
			sig = p[i].value;
		else if (!int_key(p[i].key, &k) || k < 1 || k > 254 || !is_map(p[i].value))
			return bad(d, "measurements: entry %zu is neither a block nor the signature", i);
	}
	if (!sig)
		return bad(d, "measurements: no signature claim");
	return dec_signature(d, sig, ev);
}

static pcitsm_err dec_submod(const struct dec *d, const cbor_item_t *s, struct pcitsm_evidence *ev)
{
	const cbor_item_t *certs, *meas, *rep, *dig;
	const struct cbor_pair *cp;
	bool twice = false;
	uint8_t *digest = NULL;
	size_t n;

	if (!is_map(s))
		return bad(d, "the submodule is not a map");
	rep = get(s, K_REPORT, &twice);
	dig = get(s, K_REPORT_DIGEST, &twice);
	if (cbor_map_size(s) != (rep ? 6u : 4u) || !rep != !dig)
		return bad(d, "the submodule has unknown or missing claims");
	if (!is_text(get(s, K_PROFILE, &twice), EAT_SPDM_PROFILE))
		return bad(d, "the submodule's eat_profile is not " EAT_SPDM_PROFILE);
	if (!get_bytes(get(s, K_VCA, &twice), 4, PCITSM_SPDM_VCA_MAX, &ev->vca, &ev->vca_len))
		return bad(d, "vca: not a byte string of 4..%d bytes", PCITSM_SPDM_VCA_MAX);
	certs = get(s, K_CERTIFICATES, &twice);
	if (!is_map(certs) || cbor_map_size(certs) != 1)
		return bad(d, "certificates: not a map of one slot");
	cp = cbor_map_handle(certs);
	if (!cbor_isa_uint(cp[0].key) || cbor_get_int(cp[0].key) >= PCITSM_SPDM_MAX_SLOTS ||
	    !get_bytes(cp[0].value, 1, PCITSM_SPDM_MAX_CHAIN, &ev->certs, &ev->certs_len))
		return bad(d, "certificates: not a slot's DER chain");
	meas = get(s, K_MEASUREMENTS, &twice);
	if (twice)
		return bad(d, "a claim appears twice");
	PCITSM_TRY(dec_measurements(d, meas, ev));
	if (rep) {
		if (!get_bytes(rep, 1, PCITSM_TDISP_REPORT_MAX, &ev->report, &ev->report_len) ||
		    !get_bytes(dig, PCITSM_TDISP_DIGEST_LEN, PCITSM_TDISP_DIGEST_LEN, &digest, &n))
			return bad(d, "the report or its digest is not a byte string of its size");
		memcpy(ev->report_digest, digest, n);
		free(digest);
		ev->has_report = true;
	}
	return PCITSM_OK;
}

static pcitsm_err dec_top(const struct dec *d, const cbor_item_t *top, struct pcitsm_evidence *ev)
{
	const cbor_item_t *subs;
	const struct cbor_pair *sp;
	uint8_t *nonce = NULL;
	bool twice = false;
	size_t n, plen = strlen(SUBMOD_PREFIX);

	if (!is_map(top) || cbor_map_size(top) != 3)
		return bad(d, "the token is not a map of 3 claims");
	if (!is_text(get(top, K_PROFILE, &twice), EAT_PROFILE))
		return bad(d, "eat_profile is not " EAT_PROFILE);
	if (!get_bytes(get(top, K_NONCE, &twice), PCITSM_SPDM_NONCE_LEN, PCITSM_SPDM_NONCE_LEN,
		       &nonce, &n))
		return bad(d, "eat_nonce: not %d bytes", PCITSM_SPDM_NONCE_LEN);
	memcpy(ev->nonce, nonce, n);
	free(nonce);
	subs = get(top, K_SUBMODS, &twice);
	if (twice || !is_map(subs) || cbor_map_size(subs) != 1)
		return bad(d, "eat_submods: not a map of one device");
	sp = cbor_map_handle(subs);
	n = cbor_isa_string(sp[0].key) && cbor_string_is_definite(sp[0].key)
		    ? cbor_string_length(sp[0].key)
		    : 0;
	if (n <= plen || n > plen + PCITSM_EVIDENCE_DEVICE_MAX ||
	    memcmp(cbor_string_handle(sp[0].key), SUBMOD_PREFIX, plen) != 0 ||
	    memchr(cbor_string_handle(sp[0].key), '\0', n))
		return bad(d, "eat_submods: the device is not named \"spdm:...\"");
	memcpy(ev->device, cbor_string_handle(sp[0].key) + plen, n - plen);
	ev->device[n - plen] = '\0';
	if (!strcmp(ev->device, "device"))
		ev->device[0] = '\0';
	return dec_submod(d, sp[0].value, ev);
}

/* libcbor 0.8's cbor_load allocates a definite array or map at its declared size before reading
 * an element: a few bytes could ask for gigabytes. Walk the items first (its streaming decoder,
 * which allocates nothing) and refuse any collection that declares more elements than bytes
 * remain, since each element takes at least one. */
struct scan {
	size_t left;
	bool ok;
};

static void scan_array(void *ctx, size_t size)
{
	struct scan *s = ctx;

	s->ok &= size <= s->left;
}

static void scan_map(void *ctx, size_t size)
{
	struct scan *s = ctx;

	s->ok &= size <= s->left / 2;
}

static bool sizes_plausible(const uint8_t *p, size_t n)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	struct scan s = { 0, true };
	size_t pos = 0;

	cb.array_start = scan_array;
	cb.map_start = scan_map;
	while (pos < n && s.ok) {
		struct cbor_decoder_result r;

		s.left = n - pos;
		r = cbor_stream_decode(p + pos, n - pos, &cb, &s);
		if (r.status != CBOR_DECODER_FINISHED || !r.read)
			break; /* cbor_load reports it */
		pos += r.read;
	}
	return s.ok;
}

pcitsm_err pcitsm_evidence_eat_decode(const uint8_t *p, size_t n, struct pcitsm_evidence *ev,
				      char *why, size_t why_len)
{
	const struct dec d = { why, why_len };
	struct cbor_load_result res;
	cbor_item_t *top;
	pcitsm_err e;

	memset(ev, 0, sizeof(*ev));
	if (n > PCITSM_EVIDENCE_MAX) {
		(void)bad(&d, "%zu bytes, at most %u", n, PCITSM_EVIDENCE_MAX);
		return PCITSM_E_LONG;
	}
	if (!sizes_plausible(p, n)) {
		(void)bad(&d, "a CBOR array or map declares more elements than the token has bytes");
		return PCITSM_E_FIELD;
	}
	top = cbor_load(p, n, &res);
	if (!top) {
		(void)bad(&d, "not CBOR (libcbor error %d at byte %zu)", (int)res.error.code,
			  res.error.position);
		return res.error.code == CBOR_ERR_NOTENOUGHDATA ? PCITSM_E_SHORT : PCITSM_E_FIELD;
	}
	if (res.read != n) {
		cbor_decref(&top);
		(void)bad(&d, "%zu bytes after the token's %zu", n - res.read, res.read);
		return PCITSM_E_LONG;
	}
	e = dec_top(&d, top, ev);
	cbor_decref(&top);
	if (!e) {
		ev->token = malloc(n);
		if (!ev->token)
			e = PCITSM_E_NOMEM;
		else
			memcpy(ev->token, p, n);
		ev->token_len = n;
	}
	if (e)
		pcitsm_evidence_free(ev);
	return e;
}
