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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/crypto.h"
#include "pcitsm/doe.h"
#include "pcitsm/spdm.h"

#define BENCH_SECONDS_DEFAULT 2.0
#define SIGNED_EXTRA 256 /* request/response bytes a transcript holds beyond VCA and the data */
#define SPDM_SIGN_PREFIX 100 /* 1.2+: 64-byte version label and 36-byte context (facts B.12) */

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
};

static pcitsm_err one_auth(struct spdm_bench *b, struct pcitsm_spdm_auth_result *res)
{
	return pcitsm_spdm_authenticate(&b->loop.x, &b->opts, res);
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

static pcitsm_err setup(struct spdm_bench *b, unsigned curve_bits, const struct pcitsm_env *env)
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
	free(b->msg);
	pcitsm_spdm_auth_result_free(&b->first);
	if (b->trust)
		pcitsm_trust_free(b->trust);
	pcitsm_spdm_rsp_free(&b->rsp);
	pcitsm_identity_free(&b->id);
}

static int parse(int argc, char **argv, double *seconds, unsigned *curve_bits)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			*seconds = strtod(argv[++i], NULL);
			if (!(*seconds > 0 && *seconds <= 600))
				return -1;
		} else if (!strcmp(argv[i], "--curve") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "p256"))
				*curve_bits = 256;
			else if (!strcmp(argv[i], "p384"))
				*curve_bits = 384;
			else
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int bench_spdm_run(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct spdm_bench *b = calloc(1, sizeof(*b));
	double seconds = BENCH_SECONDS_DEFAULT, t0, auth_s, crypto_s;
	unsigned long auths = 0, cryptos = 0;
	unsigned curve_bits = 384;
	pcitsm_err e;

	if (!b)
		return cli_fail("bench spdm", PCITSM_E_NOMEM);
	if (parse(argc, argv, &seconds, &curve_bits) < 0) {
		free(b);
		fprintf(stderr, "usage: pcitsm bench spdm [--seconds S] [--curve p256|p384]\n");
		return CLI_EXIT_USAGE;
	}
	e = setup(b, curve_bits, env);
	if (e != PCITSM_OK) {
		fprintf(stderr, "pcitsm: bench spdm: set-up failed: %s (%s) %s\n",
			pcitsm_err_str(e), pcitsm_err_name(e), b->first.why);
		teardown(b);
		free(b);
		return CLI_EXIT_FAIL;
	}
	/* Alternate one full authentication (both ends in this process) and the same
	 * cryptography alone, so both figures see the same machine load. */
	auth_s = crypto_s = 0;
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
		teardown(b);
		free(b);
		return cli_fail("bench spdm", e);
	}
	printf("spdm: SPDM %x.%x, %s, %s, chain %zu bytes, %u measurement blocks\n",
	       b->first.version >> 4, b->first.version & 0xf, pcitsm_sig_name(b->sig),
	       pcitsm_hash_name(b->hash), b->first.chain_len, b->first.nr_blocks);
	printf("  full authentications:       %10.1f /s  (%lu in %.2f s, %.3f ms each)\n",
	       (double)auths / auth_s, auths, auth_s, 1e3 * auth_s / (double)auths);
	printf("  their cryptography alone:   %10.1f /s  (%lu in %.2f s, %.3f ms each)\n",
	       (double)cryptos / crypto_s, cryptos, crypto_s, 1e3 * crypto_s / (double)cryptos);
	printf("  ratio crypto / full:        %10.2f   (%.0f%% of an authentication is crypto)\n",
	       (crypto_s / (double)cryptos) / (auth_s / (double)auths),
	       100.0 * (crypto_s / (double)cryptos) / (auth_s / (double)auths));
	teardown(b);
	free(b);
	return 0;
}

const struct bench bench_spdm = {
	.name = "spdm",
	.summary = "full SPDM authentications/s in one process, beside their crypto alone",
	.run = bench_spdm_run,
};
