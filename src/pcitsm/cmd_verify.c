/* SPDX-License-Identifier: MIT */
/*
 * pcitsm verify BUNDLE --trust ROOT.pem [--policy FILE] [--nonce HEX] [--json]
 * pcitsm verify --eat TOKEN --trust ROOT.pem ...
 *
 * The remote verifier: re-checks offline, on any machine, what `pcitsm evidence --bundle / --eat`
 * wrote (docs/evidence.md): the transcript, the chain against the anchor given here, the nonce
 * the verifier chose, the device's signature over L1, the measurements against a policy, the
 * interface report's digest and the report against the policy. Exit 0 with a summary when every
 * check holds; 1 naming the first check that fails ("format" when the file does not decode).
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tdi.h"
#include "pcitsm/evidence.h"

struct verify_args {
	const char *path, *trust, *policy;
	bool eat, json, has_nonce;
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];
};

static int parse(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		CLI_OPT_ARG("trust", 't'),  CLI_OPT_ARG("policy", 'p'), CLI_OPT_ARG("nonce", 'n'),
		CLI_OPT_ARG("eat", 'e'),    CLI_OPT_FLAG("json", 'j'),  { NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:p:j", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->trust = optarg; break;
		case 'p': a->policy = optarg; break;
		case 'j': a->json = true; break;
		case 'e': a->eat = true; a->path = optarg; break;
		case 'n':
			if (!cli_nonce_parse(optarg, a->nonce)) {
				fprintf(stderr, "pcitsm: verify: --nonce: expected %d hex digits\n",
					2 * PCITSM_SPDM_NONCE_LEN);
				return cli_usage("verify");
			}
			a->has_nonce = true;
			break;
		default: return cli_usage("verify");
		}
	}
	if (!a->eat && optind == argc - 1)
		a->path = argv[optind++];
	if (!a->path || optind != argc || !a->trust)
		return cli_usage("verify");
	return 0;
}

/* The file, at most PCITSM_EVIDENCE_MAX + 1 bytes (the decoder refuses more). */
static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = f ? malloc(PCITSM_EVIDENCE_MAX + 1) : NULL;

	if (buf)
		*n = fread(buf, 1, PCITSM_EVIDENCE_MAX + 1, f);
	if (f && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static json_object *verdict_json(const struct verify_args *a, const struct pcitsm_evidence *ev,
				 const struct pcitsm_evidence_verdict *v, pcitsm_err e)
{
	static const char *const outcome[] = { "not run", "passed", "failed" };
	json_object *o = json_object_new_object(), *checks = json_object_new_object();
	char h[2 * PCITSM_HASH_MAX + 1];

	json_object_object_add(o, "ok", json_object_new_boolean(e == PCITSM_OK));
	json_object_object_add(o, "format", json_object_new_string(a->eat ? "eat" : "bundle"));
	json_object_object_add(o, "device", json_object_new_string(ev->device));
	if (e) {
		json_object_object_add(o, "failed", json_object_new_string(
						    pcitsm_evidence_check_name(v->failed)));
		json_object_object_add(o, "why", json_object_new_string(v->why));
	}
	for (int c = 0; c < PCITSM_EVIDENCE_NR_CHECKS; c++)
		json_object_object_add(checks, pcitsm_evidence_check_name(c),
				       json_object_new_string(outcome[v->outcome[c]]));
	json_object_object_add(o, "checks", checks);
	json_object_object_add(o, "nonce_pinned", json_object_new_boolean(v->nonce_pinned));
	if (v->outcome[PCITSM_EVIDENCE_TRANSCRIPT] == PCITSM_EVIDENCE_PASSED) {
		char ver[8];

		snprintf(ver, sizeof(ver), "%u.%u", (unsigned)v->view.version >> 4,
			 (unsigned)v->view.version & 0xfu);
		json_object_object_add(o, "spdm_version", json_object_new_string(ver));
		json_object_object_add(o, "measurement_blocks",
				       json_object_new_int64((int64_t)v->nr_blocks));
		hex(v->view.req_nonce, PCITSM_SPDM_NONCE_LEN, h);
		json_object_object_add(o, "nonce", json_object_new_string(h));
	}
	if (v->outcome[PCITSM_EVIDENCE_SIGNATURE] == PCITSM_EVIDENCE_PASSED) {
		hex(v->l1_hash, v->view.hash_len, h);
		json_object_object_add(o, "l1_hash", json_object_new_string(h));
	}
	return o;
}

static void verdict_print(const struct verify_args *a, const struct pcitsm_evidence *ev,
			  const struct pcitsm_evidence_verdict *v)
{
	printf("%s: evidence of %s verified\n", a->path, ev->device[0] ? ev->device : "a device");
	printf("  SPDM %u.%u, %zu signed measurement blocks, L1 signature by the chain's leaf\n",
	       (unsigned)v->view.version >> 4, (unsigned)v->view.version & 0xfu, v->nr_blocks);
	for (int c = 0; c < PCITSM_EVIDENCE_NR_CHECKS; c++)
		if (v->outcome[c] == PCITSM_EVIDENCE_PASSED)
			printf("  %-14s ok\n", pcitsm_evidence_check_name(c));
	if (!v->nonce_pinned)
		printf("  note: no --nonce given: the nonce is the bundle's own, freshness is not "
		       "established\n");
	if (!a->policy)
		printf("  note: no --policy given: measurements and report not judged\n");
}

static int run(const struct verify_args *a, const struct pcitsm_policy *pol)
{
	struct pcitsm_evidence_verdict *v = calloc(1, sizeof(*v));
	struct pcitsm_evidence ev = { 0 };
	struct pcitsm_trust *trust = NULL;
	char why[320] = "";
	size_t n = 0;
	uint8_t *buf = read_file(a->path, &n);
	pcitsm_err e;
	int rc = 0;

	if (!buf || !v) {
		free(v);
		free(buf);
		return cli_failf("verify: %s: %s", a->path, buf ? "out of memory" : strerror(errno));
	}
	e = a->eat ? pcitsm_evidence_eat_decode(buf, n, &ev, why, sizeof(why))
		   : pcitsm_evidence_bundle_decode(buf, n, &ev, why, sizeof(why));
	free(buf);
	if (e) {
		if (a->json) {
			json_object *j = json_object_new_object();

			json_object_object_add(j, "ok", json_object_new_boolean(false));
			json_object_object_add(j, "failed", json_object_new_string("format"));
			json_object_object_add(j, "why", json_object_new_string(why));
			printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
			json_object_put(j);
		}
		free(v);
		return cli_failf("verify %s: format: %s (%s)", a->path, why, pcitsm_err_name(e));
	}
	e = pcitsm_trust_load(&trust, a->trust);
	if (e) {
		pcitsm_evidence_free(&ev);
		free(v);
		return cli_failf("verify: --trust %s: %s", a->trust, pcitsm_err_str(e));
	}
	e = pcitsm_evidence_verify(&ev, trust, a->has_nonce ? a->nonce : NULL, pol, v);
	if (a->json) {
		json_object *j = verdict_json(a, &ev, v, e);

		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else if (!e) {
		verdict_print(a, &ev, v);
	}
	if (e)
		rc = cli_failf("verify %s: %s: %s", a->path, pcitsm_evidence_check_name(v->failed),
			       v->why);
	pcitsm_trust_free(trust);
	pcitsm_evidence_free(&ev);
	free(v);
	return rc;
}

static int verify_main(int argc, char **argv)
{
	struct pcitsm_policy *pol = NULL;
	struct verify_args a;
	int rc = parse(argc, argv, &a);

	if (rc)
		return rc;
	if (a.policy) {
		pol = calloc(1, sizeof(*pol));
		if (!pol)
			return cli_fail("verify", PCITSM_E_NOMEM);
		if (!cli_policy_load("verify", a.policy, pol)) {
			free(pol);
			return CLI_EXIT_FAIL;
		}
	}
	rc = run(&a, pol);
	free(pol);
	return rc;
}

const struct cli_cmd cli_cmd_verify = {
	.name = "verify",
	.args = "BUNDLE|--eat TOKEN --trust ROOT.pem [--policy FILE] [--nonce HEX] [--json]",
	.summary = "check an evidence bundle or EAT token offline: chain, nonce, signature, "
		   "measurements, report digest, policy",
	.run = verify_main,
};
