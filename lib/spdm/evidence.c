/* SPDX-License-Identifier: MIT */
/*
 * Recorded evidence, checked offline (spdm_req.h, docs/evidence.md): transcript A and one signed
 * GET_MEASUREMENTS / MEASUREMENTS exchange, decoded with the codecs the requester uses and held to
 * the requester's rules, then the MEASUREMENTS signature verified over L1 (DSP0274 1.3 'Transcript
 * and transcript hash calculation rules', signing with combined_spdm_prefix).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "req_priv.h"

PCITSM_PRINTF(4, 5)
static pcitsm_err bad(char *why, size_t why_len, pcitsm_err e, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* The length of the VCA message at p from its own fields (A holds the messages back to back). */
static size_t vca_msg_len(const uint8_t *p, size_t n)
{
	if (n < SPDM_HDR_LEN)
		return 0;
	switch (p[1]) {
	case PCITSM_SPDM_GET_VERSION:
		return SPDM_HDR_LEN;
	case PCITSM_SPDM_VERSION:
		return n < 6 ? 0 : 6 + 2 * (size_t)p[5];
	case PCITSM_SPDM_GET_CAPABILITIES:
	case PCITSM_SPDM_CAPABILITIES:
		return spdm_caps_len(p[0], p[1] == PCITSM_SPDM_GET_CAPABILITIES);
	case PCITSM_SPDM_NEGOTIATE_ALGORITHMS:
	case PCITSM_SPDM_ALGORITHMS:
		return n < 6 ? 0 : (size_t)p[4] | (size_t)p[5] << 8;
	default:
		return 0;
	}
}

/* The next message of A, which must be code and exactly its own length. */
static const uint8_t *vca_next(const struct pcitsm_spdm_meas_record *rec, size_t *at,
			       uint8_t code, size_t *len)
{
	const uint8_t *p = rec->vca + *at;
	size_t n = rec->vca_len - *at, m = vca_msg_len(p, n);

	if (n < SPDM_HDR_LEN || p[1] != code || m < SPDM_HDR_LEN || m > n)
		return NULL;
	*at += m;
	*len = m;
	return p;
}

/* A = GET_VERSION || VERSION || GET_CAPABILITIES || CAPABILITIES || NEGOTIATE_ALGORITHMS ||
 * ALGORITHMS: the version is GET_CAPABILITIES', one VERSION lists it, every later message carries
 * it, and ALGORITHMS selects one hash and one signature algorithm pcitsm verifies. */
static pcitsm_err parse_vca(const struct pcitsm_spdm_meas_record *rec,
			    struct pcitsm_spdm_meas_view *v, char *why, size_t wl)
{
	static const uint8_t codes[] = { PCITSM_SPDM_GET_VERSION,	  PCITSM_SPDM_VERSION,
					 PCITSM_SPDM_GET_CAPABILITIES,	  PCITSM_SPDM_CAPABILITIES,
					 PCITSM_SPDM_NEGOTIATE_ALGORITHMS, PCITSM_SPDM_ALGORITHMS };
	const uint8_t *msg[PCITSM_ARRAY_SIZE(codes)];
	size_t len[PCITSM_ARRAY_SIZE(codes)], at = 0, mlen;
	struct spdm_version ver;
	struct spdm_caps caps;
	struct spdm_algs algs;
	bool listed = false;

	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(codes); i++) {
		msg[i] = vca_next(rec, &at, codes[i], &len[i]);
		if (!msg[i])
			return bad(why, wl, PCITSM_E_FIELD, "VCA: no %s at byte %zu",
				   pcitsm_spdm_code_name(codes[i]), at);
	}
	if (at != rec->vca_len)
		return bad(why, wl, PCITSM_E_LONG, "VCA: %zu bytes after ALGORITHMS",
			   rec->vca_len - at);
	v->version = msg[2][0];
	if (spdm_dec_get_version(msg[0], len[0], &mlen) || msg[0][0] != PCITSM_SPDM_V10 ||
	    spdm_dec_version(msg[1], len[1], &ver, &mlen) || msg[1][0] != PCITSM_SPDM_V10)
		return bad(why, wl, PCITSM_E_FIELD, "VCA: GET_VERSION / VERSION do not decode");
	for (unsigned i = 0; i < ver.count; i++)
		listed |= (uint8_t)(ver.entries[i] >> 8) == v->version;
	if (!listed)
		return bad(why, wl, PCITSM_E_VERSION, "VCA: SPDM %u.%u is not among VERSION's entries",
			   v->version >> 4, v->version & 0xf);
	for (size_t i = 3; i < PCITSM_ARRAY_SIZE(codes); i++)
		if (msg[i][0] != v->version)
			return bad(why, wl, PCITSM_E_VERSION,
				   "VCA: %s carries SPDM %u.%u, the connection is %u.%u",
				   pcitsm_spdm_code_name(codes[i]), msg[i][0] >> 4, msg[i][0] & 0xf,
				   v->version >> 4, v->version & 0xf);
	/* SPDM 1.0/1.1 sign Hash(L1) with no prefix and no VCA in L1: not taken as evidence. */
	if (v->version < PCITSM_SPDM_V12)
		return bad(why, wl, PCITSM_E_UNSUPPORTED, "VCA: SPDM %u.%u evidence is not verified "
			   "(1.2 or later signs with the combined prefix)", v->version >> 4,
			   v->version & 0xf);
	if (spdm_dec_capabilities(msg[2], len[2], v->version, true, &caps, &mlen) ||
	    spdm_dec_capabilities(msg[3], len[3], v->version, false, &caps, &mlen) ||
	    spdm_dec_algorithms(msg[4], len[4], v->version, true, &algs, &mlen) ||
	    spdm_dec_algorithms(msg[5], len[5], v->version, false, &algs, &mlen))
		return bad(why, wl, PCITSM_E_FIELD, "VCA: CAPABILITIES or ALGORITHMS do not decode");
	if ((caps.flags & PCITSM_SPDM_CAP_MEAS_MASK) != PCITSM_SPDM_CAP_MEAS_SIG)
		return bad(why, wl, PCITSM_E_FIELD, "VCA: the responder does not sign measurements");
	v->base_asym = algs.base_asym;
	v->base_hash = algs.base_hash;
	v->meas_hash = algs.meas_hash;
	v->hash = pcitsm_spdm_hash_alg(algs.base_hash);
	v->sig = pcitsm_spdm_sig_alg(algs.base_asym);
	v->hash_len = pcitsm_hash_size(v->hash);
	v->sig_len = pcitsm_sig_size(v->sig);
	if (!v->hash_len || !v->sig_len)
		return bad(why, wl, PCITSM_E_UNSUPPORTED,
			   "VCA: ALGORITHMS selects BaseHashSel 0x%x, BaseAsymSel 0x%x", algs.base_hash,
			   algs.base_asym);
	return PCITSM_OK;
}

/* GET_MEASUREMENTS with a signature, and the MEASUREMENTS that answers it, as the requester takes
 * them (req_meas_check), exactly their own size. */
static pcitsm_err parse_exchange(const struct pcitsm_spdm_meas_record *rec,
				 struct pcitsm_spdm_meas_view *v, char *why, size_t wl)
{
	struct spdm_get_meas g;
	struct spdm_meas m;
	size_t mlen;

	if (rec->req_len < SPDM_HDR_LEN || rec->req[0] != v->version ||
	    rec->req[1] != PCITSM_SPDM_GET_MEASUREMENTS ||
	    spdm_dec_get_measurements(rec->req, rec->req_len, v->version, &g, &mlen) ||
	    mlen != rec->req_len)
		return bad(why, wl, PCITSM_E_FIELD, "GET_MEASUREMENTS does not decode as SPDM %u.%u",
			   v->version >> 4, v->version & 0xf);
	if (!(g.attributes & SPDM_MEAS_ATTR_SIG) || g.operation == 0)
		return bad(why, wl, PCITSM_E_FIELD, "GET_MEASUREMENTS asks for no signed blocks");
	if (rec->rsp_len < SPDM_HDR_LEN || rec->rsp[0] != v->version ||
	    rec->rsp[1] != PCITSM_SPDM_MEASUREMENTS ||
	    spdm_dec_measurements(rec->rsp, rec->rsp_len, v->version, v->sig_len, &m, &mlen) ||
	    mlen != rec->rsp_len)
		return bad(why, wl, PCITSM_E_FIELD, "MEASUREMENTS does not decode as SPDM %u.%u "
			   "with a %zu-byte signature", v->version >> 4, v->version & 0xf,
			   v->sig_len);
	if (req_meas_check(&m, g.operation, true, g.slot))
		return bad(why, wl, PCITSM_E_FIELD,
			   "MEASUREMENTS does not answer its GET_MEASUREMENTS (blocks, slot)");
	/* Where the request's nonce and context sit: header, then Nonce[32] @4, slot, context. */
	v->req_nonce = rec->req + SPDM_HDR_LEN;
	if (spdm_fresh_check(v->req_nonce, rec->req + SPDM_HDR_LEN + PCITSM_SPDM_NONCE_LEN + 1,
			     m.nonce, m.context))
		return bad(why, wl, PCITSM_E_NONCE, "MEASUREMENTS: RequesterContext not echoed, or "
			   "the requester's nonce reflected");
	v->slot = g.slot;
	v->operation = g.operation;
	v->rsp_nonce = m.nonce;
	v->record = m.record;
	v->record_len = m.record_len;
	v->nr_blocks = m.nr_blocks;
	v->signature = m.signature;
	v->signed_len = m.signed_len;
	return PCITSM_OK;
}

pcitsm_err pcitsm_spdm_meas_request_rebuild(const uint8_t *vca, size_t vca_len, const uint8_t *rsp,
					    size_t rsp_len, const uint8_t nonce[PCITSM_SPDM_NONCE_LEN],
					    uint8_t out[64], size_t *out_len, char *why, size_t wl)
{
	const struct pcitsm_spdm_meas_record rec = { .vca = vca, .vca_len = vca_len };
	struct pcitsm_spdm_meas_view v;
	struct spdm_get_meas g = { .attributes = SPDM_MEAS_ATTR_SIG, .operation = 0xff };
	struct spdm_meas m;
	struct pcitsm_wr w;
	size_t mlen;

	if (!vca || !rsp || !nonce || !out || !out_len)
		return PCITSM_E_INVAL;
	memset(&v, 0, sizeof(v));
	PCITSM_TRY(parse_vca(&rec, &v, why, wl));
	if (rsp_len < SPDM_HDR_LEN || rsp[0] != v.version || rsp[1] != PCITSM_SPDM_MEASUREMENTS ||
	    spdm_dec_measurements(rsp, rsp_len, v.version, v.sig_len, &m, &mlen) || mlen != rsp_len)
		return bad(why, wl, PCITSM_E_FIELD, "MEASUREMENTS does not decode as SPDM %u.%u "
			   "with a %zu-byte signature", v.version >> 4, v.version & 0xf, v.sig_len);
	/* DSP0274 1.2+ MEASUREMENTS Param2: SlotIDParam in bits 3:0 when signed. */
	g.slot = m.param2 & 0xf;
	memcpy(g.nonce, nonce, PCITSM_SPDM_NONCE_LEN);
	if (v.version >= PCITSM_SPDM_V13)
		memcpy(g.context, m.context, PCITSM_SPDM_CONTEXT_LEN);
	pcitsm_wr_init(&w, out, 64);
	PCITSM_TRY(spdm_enc_get_measurements(&w, v.version, &g));
	*out_len = pcitsm_wr_len(&w);
	return PCITSM_OK;
}

size_t pcitsm_spdm_get_measurements_len(const uint8_t *p, size_t n)
{
	size_t len = SPDM_HDR_LEN;

	if (n < SPDM_HDR_LEN || p[1] != PCITSM_SPDM_GET_MEASUREMENTS)
		return 0;
	/* DSP0274 1.3 GET_MEASUREMENTS: Nonce and (1.1+) SlotIDParam with a signature, 1.3
	 * RequesterContext. */
	if (p[2] & SPDM_MEAS_ATTR_SIG)
		len += PCITSM_SPDM_NONCE_LEN + (p[0] >= PCITSM_SPDM_V11 ? 1 : 0);
	if (p[0] >= PCITSM_SPDM_V13)
		len += PCITSM_SPDM_CONTEXT_LEN;
	return len <= n ? len : 0;
}

pcitsm_err pcitsm_spdm_meas_record_parse(const struct pcitsm_spdm_meas_record *rec,
					 struct pcitsm_spdm_meas_view *v, char *why, size_t why_len)
{
	size_t plen;

	if (!rec || !v || !rec->vca || !rec->req || !rec->rsp)
		return PCITSM_E_INVAL;
	memset(v, 0, sizeof(*v));
	PCITSM_TRY(parse_vca(rec, v, why, why_len));
	PCITSM_TRY(parse_exchange(rec, v, why, why_len));
	return spdm_sign_message(v->version, SPDM_CTX_MEASUREMENTS, v->prefix, 0, v->prefix,
				 sizeof(v->prefix), &plen);
}

pcitsm_err pcitsm_spdm_meas_record_verify(const struct pcitsm_spdm_meas_record *rec,
					  const struct pcitsm_spdm_meas_view *v, EVP_PKEY *leaf,
					  uint8_t *l1_hash)
{
	struct pcitsm_hash_ctx l1 = { 0 };
	pcitsm_err e;

	/* L1 = A || GET_MEASUREMENTS || MEASUREMENTS without its signature. */
	e = spdm_ts_restart(&l1, v->hash, rec->vca, rec->vca_len);
	if (!e)
		e = pcitsm_hash_update(&l1, rec->req, rec->req_len);
	if (!e)
		e = pcitsm_hash_update(&l1, rec->rsp, v->signed_len);
	if (!e)
		e = spdm_ts_verify(v->version, leaf, v->sig, SPDM_CTX_MEASUREMENTS, &l1, l1_hash,
				   v->signature, v->sig_len);
	pcitsm_hash_free(&l1);
	return e;
}
