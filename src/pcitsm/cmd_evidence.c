/* SPDX-License-Identifier: MIT */
/*
 * pcitsm evidence TARGET --out DIR: authenticate like `auth` and keep the evidence as files:
 *   chain.spdm         the slot's certificate chain in SPDM format (header, root hash, DER certs)
 *   chain.der          the DER certificates, root first, concatenated
 *   chain.pem          the same certificates as PEM
 *   measurements.bin   the raw MeasurementRecord of the MEASUREMENTS response
 *   measurements.json  its blocks (index, type, representation, value)
 *   vca.bin            transcript A: GET_VERSION .. ALGORITHMS, as hashed into M1/L1
 *   evidence.json      everything `auth --json` reports
 * After a failure the files that could be filled are still written, and the exit status is 1.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "target.h"

#define MAX_CERTS 16

struct out_dir {
	const char *dir;
	unsigned written;
	bool failed;
};

static FILE *out_open(struct out_dir *d, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", d->dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "pcitsm: %s: %s\n", path, strerror(errno));
		d->failed = true;
	}
	return f;
}

static void out_close(struct out_dir *d, FILE *f, const char *path)
{
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "pcitsm: %s: write failed\n", path);
		d->failed = true;
		return;
	}
	d->written++;
	printf("  %s\n", path);
}

static void out_bytes(struct out_dir *d, const char *name, const uint8_t *p, size_t n)
{
	char path[PATH_MAX];
	FILE *f = out_open(d, name, path, sizeof(path));

	if (!f)
		return;
	if (n && fwrite(p, 1, n, f) != n)
		d->failed = true;
	out_close(d, f, path);
}

static void out_json(struct out_dir *d, const char *name, json_object *j)
{
	char path[PATH_MAX];
	FILE *f = out_open(d, name, path, sizeof(path));

	if (f) {
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		out_close(d, f, path);
	}
}

/* Each DER certificate of the chain as PEM. */
static void out_pem(struct out_dir *d, const uint8_t *der, size_t len)
{
	size_t off[MAX_CERTS], clen[MAX_CERTS], n = 0;
	char path[PATH_MAX];
	FILE *f;

	if (pcitsm_x509_chain_split(der, len, off, clen, MAX_CERTS, &n) != PCITSM_OK) {
		fprintf(stderr, "pcitsm: chain.pem: the chain does not split into certificates\n");
		d->failed = true;
		return;
	}
	f = out_open(d, "chain.pem", path, sizeof(path));
	if (!f)
		return;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = der + off[i];
		X509 *x = d2i_X509(NULL, &p, (long)clen[i]);

		if (!x || !PEM_write_X509(f, x))
			d->failed = true;
		X509_free(x);
	}
	out_close(d, f, path);
}

static void write_evidence(struct out_dir *d, const struct cli_spdm_run *r)
{
	const struct pcitsm_spdm_auth_result *res = &r->res;
	json_object *j = cli_spdm_result_json(r), *m;

	if (res->vca_len)
		out_bytes(d, "vca.bin", res->vca, res->vca_len);
	if (res->chain && res->chain_len > res->certs_off) {
		out_bytes(d, "chain.spdm", res->chain, res->chain_len);
		out_bytes(d, "chain.der", res->chain + res->certs_off,
			  res->chain_len - res->certs_off);
		out_pem(d, res->chain + res->certs_off, res->chain_len - res->certs_off);
	}
	if (res->meas) {
		out_bytes(d, "measurements.bin", res->meas, res->meas_len);
		if (json_object_object_get_ex(j, "measurements", &m))
			out_json(d, "measurements.json", m);
	}
	out_json(d, "evidence.json", j);
	json_object_put(j);
}

static int evidence_main(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct out_dir d = { 0 };
	struct cli_spdm_run r;
	pcitsm_err e;

	memset(&r, 0, sizeof(r));
	pcitsm_spdm_auth_opts_default(&r.auth, env);
	if (cli_spdm_parse(argc, argv, &r, NULL, &d.dir) < 0 || !d.dir)
		return cli_usage("evidence");
	if (mkdir(d.dir, 0755) < 0 && errno != EEXIST)
		return cli_failf("%s: %s", d.dir, strerror(errno));
	e = cli_spdm_authenticate(&r, env);
	printf("evidence from %s%s:\n", r.target, e == PCITSM_OK ? "" : " (authentication FAILED)");
	write_evidence(&d, &r);
	if (cli_spdm_done(&r) != PCITSM_OK)
		d.failed = true;
	if (e != PCITSM_OK || d.failed)
		return CLI_EXIT_FAIL;
	return 0;
}

const struct cli_cmd cli_cmd_evidence = {
	.name = "evidence",
	.args = "TARGET --out DIR [--trust FILE] [--pcap FILE] [--sysfs DIR] [--slot N] "
		"[--timeout SEC] [--shutdown]",
	.summary = "authenticate with SPDM and save the chain, measurements and VCA transcript",
	.run = evidence_main,
};
