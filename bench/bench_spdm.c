/* SPDX-License-Identifier: MIT */
/*
 * pcitsm bench spdm: full SPDM authentications per second (VCA, GET_DIGESTS, the certificate chain
 * in portions and its validation, CHALLENGE, signed GET_MEASUREMENTS) with the requester and the
 * responder in one process over the in-process DOE loopback transport; and, measured in the same
 * run, the cost of the cryptographic operations one authentication performs, done alone:
 *   2 signatures (CHALLENGE_AUTH, MEASUREMENTS) by the responder's key over what SPDM 1.2+ signs
 *   (the 100-byte prefix and the transcript digest),
 *   2 verifications of those signatures by the leaf's public key,
 *   1 certificate-chain validation against the trust anchor,
 *   hashes over the bytes the transcripts M1 and L1 cover (VCA, chain, measurement record, and
 *   an allowance for the other messages), on both ends, and the chain's root hash and digest.
 * The ratio says how much of an authentication is cryptography and how much is protocol, copies
 * and transport.
 *
 * Secure sessions (engines called directly, no transport, so that the DOE loopback's buffers do
 * not count): sessions established per second (KEY_EXCHANGE, FINISH and END_SESSION, both ends)
 * beside their cryptographic lower bound (two ECDH key generations and derivations, one signature
 * and its verification over what SPDM 1.2+ signs, four HMACs for the two VerifyData; the HKDF key
 * schedule is not in the bound), and secured round trips per second (HEARTBEAT / HEARTBEAT_ACK in
 * an established session) beside AEAD seal + open of both records alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/crypto.h"
#include "pcitsm/doe.h"
#include "pcitsm/spdm_driver.h"
#include "pcitsm/spdm_rsp.h"
#include "pcitsm/transport.h"

#define BENCH_SECONDS_DEFAULT 2.0
#define SIGNED_EXTRA 256 /* request/response bytes a transcript holds beyond VCA and the data */
#define SPDM_SIGN_PREFIX 100 /* DSP0274 1.3 combined_spdm_prefix: 64 + 36 bytes */

struct spdm_bench {
	struct pcitsm_identity id;
	struct pcitsm_spdm_rsp rsp;
	struct pcitsm_doe_dev dev;
	struct pcitsm_xport_loop loop;
	struct pcitsm_trust *trust;
	struct pcitsm_spdm_auth_opts opts;
	struct pcitsm_spdm_auth_result first; /* sizes and algorithms for the crypto baseline */
	enum pcitsm_sig_alg sig;
	enum pcitsm_hash_alg hash;
	uint8_t *msg; /* what each baseline signature covers */
	size_t chal_len, meas_len; /* bytes hashed into M1 and L1 */
	size_t signed_len; /* what SPDM 1.2+ signs: the 100-byte prefix and a digest */
	/* Sessions: the connection kept for them, and one established session. */
	struct pcitsm_spdm_req req;
	struct pcitsm_spdm_auth_result sres;
	struct pcitsm_spdm_session hb;
	enum pcitsm_dhe_alg dhe;
	enum pcitsm_aead_alg aead;
};

/* Plain request into the responder; its answer back. */
static pcitsm_err rsp_plain(struct spdm_bench *b, const uint8_t *q, size_t n, uint8_t *a,
			    size_t cap, size_t *alen)
{
	return pcitsm_spdm_rsp_handle(&b->rsp, q, n, a, cap, alen);
}

/* One secured request built by fn through the responder and back into s. */
static pcitsm_err sec_rt(struct spdm_bench *b, struct pcitsm_spdm_session *s,
			 pcitsm_err (*fn)(struct pcitsm_spdm_session *, struct pcitsm_wr *))
{
	uint8_t q[256], a[512];
	struct pcitsm_wr w;
	size_t n;

	pcitsm_wr_init(&w, q, sizeof(q));
	PCITSM_TRY(fn(s, &w));
	PCITSM_TRY(pcitsm_spdm_rsp_handle_secured(&b->rsp, q, pcitsm_wr_len(&w), a, sizeof(a), &n));
	return pcitsm_spdm_session_feed(s, a, n, NULL);
}

/* KEY_EXCHANGE, FINISH, END_SESSION between the two engines. */
static pcitsm_err one_session(struct spdm_bench *b)
{
	struct pcitsm_spdm_session s;
	struct pcitsm_spdm_session_opts o = { 0 };
	uint8_t q[512], a[1024];
	struct pcitsm_wr w;
	size_t n;
	pcitsm_err e;

	pcitsm_wr_init(&w, q, sizeof(q));
	e = pcitsm_spdm_session_req_key_exchange(&s, &b->req, &o, &w);
	if (!e)
		e = rsp_plain(b, q, pcitsm_wr_len(&w), a, sizeof(a), &n);
	if (!e)
		e = pcitsm_spdm_session_feed_plain(&s, a, n);
	if (!e)
		e = sec_rt(b, &s, pcitsm_spdm_session_req_finish);
	if (!e)
		e = sec_rt(b, &s, pcitsm_spdm_session_req_end);
	pcitsm_spdm_session_wipe(&s);
	return e;
}

_Static_assert(PCITSM_DHE_SECRET_MAX <= PCITSM_HASH_MAX, "the HMAC key buffer holds the secret");

/* The session handshake's cryptography alone. */
static pcitsm_err session_crypto_once(struct spdm_bench *b)
{
	struct pcitsm_dhe d[2] = { { 0 }, { 0 } };
	/* The HMAC key is hash-sized (up to 64 bytes, SHA-512), the ECDH secret at most 48: the
	 * buffer holds the larger, the bytes past the secret zero. */
	uint8_t pub[2][PCITSM_DHE_PUB_MAX], secret[PCITSM_HASH_MAX] = { 0 }, mac[PCITSM_HASH_MAX];
	uint8_t sig[PCITSM_SIG_MAX];
	size_t pl = pcitsm_dhe_pub_size(b->dhe), sl = pcitsm_dhe_secret_size(b->dhe);
	size_t gl = pcitsm_sig_size(b->sig), hl = pcitsm_hash_size(b->hash);
	pcitsm_err e = PCITSM_OK;

	for (int i = 0; i < 2 && !e; i++) {
		e = pcitsm_dhe_generate(&d[i], b->dhe);
		if (!e)
			e = pcitsm_dhe_public(&d[i], pub[i], pl);
	}
	for (int i = 0; i < 2 && !e; i++)
		e = pcitsm_dhe_derive(&d[i], pub[1 - i], pl, secret, sl);
	if (!e)
		e = pcitsm_sig_sign(b->id.key, b->sig, b->hash, b->msg, b->signed_len, sig, gl);
	if (!e)
		e = pcitsm_sig_verify(b->first.leaf_pub, b->sig, b->hash, b->msg, b->signed_len, sig,
				      gl);
	for (int i = 0; i < 4 && !e; i++)
		e = pcitsm_hmac(b->hash, secret, hl, b->msg, hl, mac);
	pcitsm_dhe_free(&d[0]);
	pcitsm_dhe_free(&d[1]);
	pcitsm_wipe(secret, sizeof(secret));
	return e;
}

static pcitsm_err heartbeat_rt(struct spdm_bench *b)
{
	return sec_rt(b, &b->hb, pcitsm_spdm_session_req_heartbeat);
}

/* Seal and open of the two records of a HEARTBEAT round trip, alone. */
static pcitsm_err aead_rt(struct spdm_bench *b)
{
	static const uint8_t key[PCITSM_AEAD_KEY_MAX] = { 1 }, iv[PCITSM_AEAD_IV_LEN] = { 2 };
	uint8_t aad[PCITSM_SM_HDR_LEN] = { 3 }, pt[6] = { 4 }, ct[6], tag[PCITSM_AEAD_TAG_LEN];

	for (int i = 0; i < 2; i++) {
		PCITSM_TRY(pcitsm_aead_seal(b->aead, key, iv, aad, sizeof(aad), pt, sizeof(pt), ct,
					    tag));
		PCITSM_TRY(pcitsm_aead_open(b->aead, key, iv, aad, sizeof(aad), ct, sizeof(ct), pt,
					    tag));
	}
	return PCITSM_OK;
}

static pcitsm_err session_setup(struct spdm_bench *b)
{
	struct pcitsm_spdm_session_opts o = { 0 };
	uint8_t q[512], a[1024];
	struct pcitsm_wr w;
	size_t n;

	PCITSM_TRY(pcitsm_spdm_drv_req_authenticate(&b->req, &b->loop.x, &b->opts, &b->sres));
	b->dhe = pcitsm_spdm_dhe_alg(b->req.dhe);
	b->aead = pcitsm_spdm_aead_alg(b->req.aead);
	pcitsm_wr_init(&w, q, sizeof(q));
	PCITSM_TRY(pcitsm_spdm_session_req_key_exchange(&b->hb, &b->req, &o, &w));
	PCITSM_TRY(rsp_plain(b, q, pcitsm_wr_len(&w), a, sizeof(a), &n));
	PCITSM_TRY(pcitsm_spdm_session_feed_plain(&b->hb, a, n));
	return sec_rt(b, &b->hb, pcitsm_spdm_session_req_finish);
}

/* Alternate slices of fn and base until seconds pass; count and time both. */
static pcitsm_err interleave(struct spdm_bench *b, double seconds, pcitsm_err (*fn)(struct spdm_bench *),
			     pcitsm_err (*base)(struct spdm_bench *), unsigned slice,
			     unsigned long *n, double *fn_s, double *base_s)
{
	double t0 = bench_now();
	pcitsm_err e = PCITSM_OK;

	*n = 0;
	*fn_s = *base_s = 0;
	do {
		double t1 = bench_now(), t2;

		for (unsigned i = 0; i < slice && !e; i++)
			e = fn(b);
		t2 = bench_now();
		*fn_s += t2 - t1;
		for (unsigned i = 0; i < slice && !e; i++)
			e = base(b);
		*base_s += bench_now() - t2;
		*n += slice;
	} while (!e && bench_now() - t0 < seconds);
	return e;
}

/* A figure beside its bound: a JSON row (kind), and the text unless --json. */
static void print_pair(struct bench_report *r, const char *kind, const char *what,
		       const char *base, unsigned long n, double fn_s, double base_s)
{
	json_object *o = bench_row(r);

	bench_set_str(o, "kind", kind);
	bench_set_int(o, "count", (int64_t)n);
	bench_set_num(o, "per_s", (double)n / fn_s);
	bench_set_num(o, "ms", 1e3 * fn_s / (double)n);
	bench_set_num(o, "bound_per_s", (double)n / base_s);
	bench_set_num(o, "bound_ms", 1e3 * base_s / (double)n);
	bench_set_num(o, "ratio", base_s / fn_s);
	if (!bench_text(r))
		return;
	printf("  %-28s%10.1f /s  (%lu in %.2f s, %.3f ms each)\n", what, (double)n / fn_s, n, fn_s,
	       1e3 * fn_s / (double)n);
	printf("  %-28s%10.1f /s  (%lu in %.2f s, %.3f ms each)\n", base, (double)n / base_s, n,
	       base_s, 1e3 * base_s / (double)n);
	printf("  %-28s%10.2f\n", "ratio bound / full:", base_s / fn_s);
}

static pcitsm_err one_auth(struct spdm_bench *b, struct pcitsm_spdm_auth_result *res)
{
	return pcitsm_spdm_drv_authenticate(&b->loop.x, &b->opts, res);
}

/* The cryptography of one authentication, alone. */
static pcitsm_err crypto_once(struct spdm_bench *b)
{
	const struct pcitsm_spdm_auth_result *r = &b->first;
	uint8_t sig[PCITSM_SIG_MAX], digest[PCITSM_HASH_MAX];
	size_t sl = pcitsm_sig_size(b->sig);
	char why[64];

	/* Transcripts M1 and L1, kept by both ends. */
	for (int side = 0; side < 2; side++) {
		PCITSM_TRY(pcitsm_hash(b->hash, b->msg, b->chal_len, digest));
		PCITSM_TRY(pcitsm_hash(b->hash, b->msg, b->meas_len, digest));
	}
	/* CHALLENGE_AUTH and MEASUREMENTS: signed by the responder, verified by the requester. */
	for (int i = 0; i < 2; i++) {
		PCITSM_TRY(pcitsm_sig_sign(b->id.key, b->sig, b->hash, b->msg, b->signed_len, sig,
					   sl));
		PCITSM_TRY(pcitsm_sig_verify(r->leaf_pub, b->sig, b->hash, b->msg, b->signed_len,
					     sig, sl));
	}
	/* The requester's chain checks: validation, root hash, chain digest. */
	PCITSM_TRY(pcitsm_x509_chain_verify(b->trust, b->id.chain, b->id.chain_len, NULL, why,
					    sizeof(why)));
	PCITSM_TRY(pcitsm_hash(b->hash, b->id.root, b->id.root_len, digest));
	return pcitsm_hash(b->hash, r->chain, r->chain_len, digest);
}

static pcitsm_err setup(struct spdm_bench *b, unsigned curve_bits, uint16_t dhe,
			const struct pcitsm_env *env)
{
	struct pcitsm_spdm_rsp_opts ro;

	PCITSM_TRY(pcitsm_identity_generate(&b->id, curve_bits, "bench device"));
	pcitsm_spdm_rsp_opts_default(&ro);
	PCITSM_TRY(pcitsm_spdm_rsp_init(&b->rsp, &b->id, &ro, env));
	pcitsm_doe_dev_init(&b->dev, 2);
	PCITSM_TRY(pcitsm_doe_dev_register(&b->dev, &b->rsp.doe));
	pcitsm_xport_loop_init(&b->loop, &b->dev);
	PCITSM_TRY(pcitsm_trust_new(&b->trust));
	PCITSM_TRY(pcitsm_trust_add_der(b->trust, b->id.root, b->id.root_len));
	pcitsm_spdm_auth_opts_default(&b->opts, env);
	b->opts.cfg.trust = b->trust;
	if (dhe)
		b->opts.cfg.dhe = dhe; /* offer only that group */
	/* The first authentication checks that everything works and sizes the baseline. */
	PCITSM_TRY(one_auth(b, &b->first));
	b->sig = pcitsm_spdm_sig_alg(b->first.base_asym);
	b->hash = pcitsm_spdm_hash_alg(b->first.base_hash);
	b->chal_len = b->first.vca_len + b->first.chain_len + SIGNED_EXTRA;
	b->meas_len = b->first.vca_len + b->first.meas_len + SIGNED_EXTRA;
	b->signed_len = SPDM_SIGN_PREFIX + pcitsm_hash_size(b->hash);
	b->msg = calloc(1, PCITSM_MAX(b->chal_len, b->meas_len));
	return b->msg ? PCITSM_OK : PCITSM_E_NOMEM;
}

static void teardown(struct spdm_bench *b)
{
	pcitsm_spdm_session_wipe(&b->hb);
	pcitsm_spdm_req_free(&b->req);
	pcitsm_spdm_auth_result_free(&b->sres);
	free(b->msg);
	pcitsm_spdm_auth_result_free(&b->first);
	if (b->trust)
		pcitsm_trust_free(b->trust);
	pcitsm_spdm_rsp_free(&b->rsp);
	pcitsm_identity_free(&b->id);
}

static int bench_spdm_run(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct spdm_bench *b = calloc(1, sizeof(*b));
	double seconds = BENCH_SECONDS_DEFAULT, t0, auth_s, crypto_s;
	unsigned long auths = 0, cryptos = 0;
	unsigned curve_bits = 384, dhe_bits = 0;
	uint16_t dhe = 0;
	pcitsm_err e;
	bool json = false;
	struct bench_report rep;
	const struct bench_opt opts[] = {
		{ "--seconds", bench_parse_seconds, &seconds },
		{ "--curve", bench_parse_curve, &curve_bits },
		{ "--dhe", bench_parse_curve, &dhe_bits },
		{ "--json", NULL, &json },
	};

	if (!b)
		return cli_fail("bench spdm", PCITSM_E_NOMEM);
	if (bench_opts_parse(argc, argv, opts, PCITSM_ARRAY_SIZE(opts)) < 0) {
		free(b);
		fprintf(stderr, "usage: pcitsm bench spdm [--seconds S] [--curve p256|p384] "
				"[--dhe p256|p384] [--json]\n");
		return CLI_EXIT_USAGE;
	}
	if (dhe_bits) /* offer only that group */
		dhe = dhe_bits == 256 ? PCITSM_SPDM_DHE_SECP256R1 : PCITSM_SPDM_DHE_SECP384R1;
	bench_report_init(&rep, "spdm", json);
	bench_set_num(rep.doc, "seconds", seconds);
	bench_progress_steps(&rep, 4);
	bench_progress(&rep, "set-up (identity, first authentication)");
	e = setup(b, curve_bits, dhe, env);
	if (e != PCITSM_OK) {
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		fprintf(stderr, "pcitsm: bench spdm: set-up failed: %s (%s) %s\n",
			pcitsm_err_str(e), pcitsm_err_name(e), b->first.why);
		teardown(b);
		free(b);
		return CLI_EXIT_FAIL;
	}
	/* Alternate one full authentication (both ends in this process) and the same
	 * cryptography alone, so both figures see the same machine load. */
	auth_s = crypto_s = 0;
	bench_progress(&rep, "authentications");
	t0 = bench_now();
	do {
		struct pcitsm_spdm_auth_result res;
		double t1 = bench_now(), t2;

		e = one_auth(b, &res);
		pcitsm_spdm_auth_result_free(&res);
		t2 = bench_now();
		auth_s += t2 - t1;
		auths++;
		if (e == PCITSM_OK)
			e = crypto_once(b);
		crypto_s += bench_now() - t2;
		cryptos++;
	} while (e == PCITSM_OK && bench_now() - t0 < seconds);
	if (e != PCITSM_OK) {
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		teardown(b);
		free(b);
		return cli_fail("bench spdm", e);
	}
	bench_set_str(rep.doc, "sig", pcitsm_sig_name(b->sig));
	bench_set_str(rep.doc, "hash", pcitsm_hash_name(b->hash));
	bench_set_int(rep.doc, "chain_bytes", (int64_t)b->first.chain_len);
	{
		json_object *o = bench_row(&rep);

		bench_set_str(o, "kind", "authentication");
		bench_set_int(o, "count", (int64_t)auths);
		bench_set_num(o, "per_s", (double)auths / auth_s);
		bench_set_num(o, "ms", 1e3 * auth_s / (double)auths);
		bench_set_num(o, "bound_per_s", (double)cryptos / crypto_s);
		bench_set_num(o, "bound_ms", 1e3 * crypto_s / (double)cryptos);
		bench_set_num(o, "ratio", (crypto_s / (double)cryptos) / (auth_s / (double)auths));
	}
	if (bench_text(&rep)) {
		printf("spdm: SPDM %x.%x, %s, %s, chain %zu bytes, %u measurement blocks\n",
		       b->first.version >> 4, b->first.version & 0xf, pcitsm_sig_name(b->sig),
		       pcitsm_hash_name(b->hash), b->first.chain_len, b->first.nr_blocks);
		printf("  full authentications:       %10.1f /s  (%lu in %.2f s, %.3f ms each)\n",
		       (double)auths / auth_s, auths, auth_s, 1e3 * auth_s / (double)auths);
		printf("  their cryptography alone:   %10.1f /s  (%lu in %.2f s, %.3f ms each)\n",
		       (double)cryptos / crypto_s, cryptos, crypto_s,
		       1e3 * crypto_s / (double)cryptos);
		printf("  ratio crypto / full:        %10.2f   (%.0f%% of an authentication is "
		       "crypto)\n",
		       (crypto_s / (double)cryptos) / (auth_s / (double)auths),
		       100.0 * (crypto_s / (double)cryptos) / (auth_s / (double)auths));
	}
	{
		unsigned long n;
		double fs, bs;

		/* After the authentications (each GET_VERSION ends every session): the connection
		 * and the session the round trips use. */
		bench_progress(&rep, "sessions");
		e = session_setup(b);
		if (e == PCITSM_OK)
			e = interleave(b, seconds, one_session, session_crypto_once, 1, &n, &fs,
				       &bs);
		if (e == PCITSM_OK) {
			if (bench_text(&rep))
				printf("sessions: %s, %s, DSP0277 %u.%u (KEY_EXCHANGE + FINISH + "
				       "END_SESSION)\n",
				       pcitsm_dhe_name(b->dhe), pcitsm_aead_name(b->aead),
				       (unsigned)b->hb.sm.sm_version >> 12,
				       (b->hb.sm.sm_version >> 8) & 0xfu);
			print_pair(&rep, "session", "sessions established:",
				   "their crypto bound:", n, fs, bs);
			bench_progress(&rep, "secured round trips");
			e = interleave(b, seconds, heartbeat_rt, aead_rt, 256, &n, &fs, &bs);
		}
		if (e == PCITSM_OK) {
			if (bench_text(&rep))
				printf("secured round trips (HEARTBEAT / HEARTBEAT_ACK, %s):\n",
				       pcitsm_aead_name(b->aead));
			print_pair(&rep, "heartbeat", "round trips:", "AEAD seal+open x2 bound:", n,
				   fs, bs);
		}
		if (e != PCITSM_OK) {
			bench_report_finish(&rep, CLI_EXIT_FAIL);
			teardown(b);
			free(b);
			return cli_fail("bench spdm sessions", e);
		}
	}
	teardown(b);
	free(b);
	return bench_report_finish(&rep, 0);
}

const struct bench bench_spdm = {
	.name = "spdm",
	.summary = "SPDM authentications, sessions and secured round trips per second, each beside "
		   "its crypto alone",
	.run = bench_spdm_run,
};
