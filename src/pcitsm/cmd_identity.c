/* SPDX-License-Identifier: MIT */
/*
 * pcitsm identity: make and inspect device identities (root CA, intermediate CA, device leaf and
 * key, measurement blocks) for emulated SPDM responders. Layout and formats: docs/identity.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "cli.h"
#include "pcitsm/crypto.h"

#define DEFAULT_NAME "dev0"
#define DEFAULT_CURVE 384

static const char *const cert_roles[] = { "root", "intermediate", "device" };
static const char *const cert_files[] = { "root.pem", "intermediate.pem", "device.pem" };

/* ---------------------------------------------------------------------------------------------
 * Describing an identity, as text or JSON
 */

struct cert_info {
	char subject[256];
	char sha256[2 * 32 + 1];
};

static pcitsm_err describe_certs(const struct pcitsm_identity *id, struct cert_info info[3])
{
	size_t off[3], len[3], n;

	PCITSM_TRY(pcitsm_x509_chain_split(id->chain, id->chain_len, off, len, 3, &n));
	if (n != 3)
		return PCITSM_E_FIELD;
	for (size_t i = 0; i < 3; i++) {
		uint8_t md[32];

		PCITSM_TRY(pcitsm_x509_subject(id->chain + off[i], len[i], info[i].subject,
					       sizeof(info[i].subject)));
		if (!EVP_Digest(id->chain + off[i], len[i], md, NULL, EVP_sha256(), NULL))
			return PCITSM_E_CRYPTO;
		pcitsm_hex(info[i].sha256, md, sizeof(md));
	}
	return PCITSM_OK;
}

static const char *key_type(const struct pcitsm_identity *id)
{
	return id->curve_bits == 384 ? "ECDSA P-384" : "ECDSA P-256";
}

static const char *hash_name(const struct pcitsm_identity *id)
{
	return id->curve_bits == 384 ? "SHA-384" : "SHA-256";
}

static void print_text(const char *verb, const char *dir, const struct pcitsm_identity *id,
		       const struct cert_info info[3])
{
	printf("%s %s\n", verb, dir);
	printf("  key:              %s, %s signatures; chain.spdm root hash %s\n", key_type(id),
	       hash_name(id), hash_name(id));
	for (size_t i = 0; i < 3; i++)
		printf("  %-17s %s\n  %-17s sha256 %s\n", cert_files[i], info[i].subject, "",
		       info[i].sha256);
	printf("  measurements:     %u block%s\n", id->nr_meas, id->nr_meas == 1 ? "" : "s");
	for (unsigned i = 0; i < id->nr_meas; i++)
		printf("    index %-3u %s, %s, %zu bytes\n", id->meas[i].index,
		       pcitsm_meas_type_name(id->meas[i].value_type),
		       id->meas[i].raw ? "raw bit stream" : "digest source", id->meas[i].len);
	printf("  files:           ");
	for (size_t i = 0; pcitsm_identity_files[i]; i++)
		printf(" %s", pcitsm_identity_files[i]);
	printf("\n");
}

static json_object *json_describe(const char *dir, const struct pcitsm_identity *id,
				  const struct cert_info info[3])
{
	json_object *o = json_object_new_object(), *certs = json_object_new_array(),
		    *meas = json_object_new_array(), *files = json_object_new_array();

	json_object_object_add(o, "dir", json_object_new_string(dir));
	json_object_object_add(o, "key_type", json_object_new_string(key_type(id)));
	json_object_object_add(o, "curve_bits", json_object_new_int((int)id->curve_bits));
	json_object_object_add(o, "hash", json_object_new_string(hash_name(id)));
	for (size_t i = 0; i < 3; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "role", json_object_new_string(cert_roles[i]));
		json_object_object_add(c, "file", json_object_new_string(cert_files[i]));
		json_object_object_add(c, "subject", json_object_new_string(info[i].subject));
		json_object_object_add(c, "sha256", json_object_new_string(info[i].sha256));
		json_object_array_add(certs, c);
	}
	json_object_object_add(o, "certificates", certs);
	for (unsigned i = 0; i < id->nr_meas; i++) {
		const struct pcitsm_measurement *m = &id->meas[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "index", json_object_new_int(m->index));
		json_object_object_add(j, "type", json_object_new_int(m->value_type));
		json_object_object_add(j, "type_name",
				       json_object_new_string(pcitsm_meas_type_name(m->value_type)));
		json_object_object_add(j, "raw", json_object_new_boolean(m->raw));
		json_object_object_add(j, "len", json_object_new_int((int)m->len));
		json_object_array_add(meas, j);
	}
	json_object_object_add(o, "measurements", meas);
	for (size_t i = 0; pcitsm_identity_files[i]; i++)
		json_object_array_add(files, json_object_new_string(pcitsm_identity_files[i]));
	json_object_object_add(o, "files", files);
	return o;
}

static int describe(const char *verb, const char *dir, const struct pcitsm_identity *id, bool json)
{
	struct cert_info info[3];
	pcitsm_err err = describe_certs(id, info);
	json_object *o;

	if (err)
		return cli_fail("describing the identity", err);
	if (!json) {
		print_text(verb, dir, id, info);
		return 0;
	}
	o = json_describe(dir, id, info);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Subcommands
 */

PCITSM_PRINTF(1, 2) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pcitsm identity: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_USAGE;
}

/* The first identity file already in dir, or NULL. */
static const char *existing_file(const char *dir)
{
	for (size_t i = 0; pcitsm_identity_files[i]; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, pcitsm_identity_files[i]);
		if (!lstat(path, &st))
			return pcitsm_identity_files[i];
	}
	return NULL;
}

static int identity_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "curve", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = DEFAULT_NAME, *dir, *exists;
	unsigned curve = DEFAULT_CURVE;
	bool force = false, json = false;
	struct pcitsm_identity id;
	pcitsm_err err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c' && (!strcmp(optarg, "p384") || !strcmp(optarg, "P-384")))
			curve = 384;
		else if (c == 'c' && (!strcmp(optarg, "p256") || !strcmp(optarg, "P-256")))
			curve = 256;
		else if (c == 'c')
			return usage_error("--curve must be p256 or p384, not '%s'", optarg);
		else if (c == 'n')
			name = optarg;
		else if (c == 'f')
			force = true;
		else if (c == 'j')
			json = true;
		else
			return cli_usage("identity");
	}
	if (optind != argc - 1)
		return cli_usage("identity");
	dir = argv[optind];
	exists = existing_file(dir);
	if (exists && !force)
		return cli_failf("%s already holds an identity (%s exists); use --force to replace it",
				 dir, exists);
	err = pcitsm_identity_generate(&id, curve, name);
	if (err == PCITSM_E_INVAL)
		return usage_error("--name must be 1 to %d printable ASCII characters",
				   PCITSM_IDENTITY_NAME_MAX);
	if (err)
		return cli_fail("generating the identity", err);
	err = pcitsm_identity_save(&id, dir);
	if (err == PCITSM_E_SYSTEM || err == PCITSM_E_IO)
		rc = cli_failf("cannot write the identity to %s: %s", dir, strerror(errno));
	else if (err)
		rc = cli_failf("cannot write the identity to %s: %s (%s)", dir, pcitsm_err_str(err),
			       pcitsm_err_name(err));
	else
		rc = describe("wrote identity to", dir, &id, json);
	pcitsm_identity_free(&id);
	return rc;
}

static int identity_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct pcitsm_identity id;
	bool json = false;
	char why[512];
	pcitsm_err err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage("identity");
		json = true;
	}
	if (optind != argc - 1)
		return cli_usage("identity");
	err = pcitsm_identity_load_why(&id, argv[optind], why, sizeof(why));
	if (err)
		return cli_failf("%s: %s (%s)", argv[optind], why[0] ? why : pcitsm_err_str(err),
				 pcitsm_err_name(err));
	rc = describe("identity in", argv[optind], &id, json);
	pcitsm_identity_free(&id);
	return rc;
}

static int identity_run(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "create"))
		return identity_create(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return identity_show(argc - 1, argv + 1);
	return cli_usage("identity");
}

const struct cli_cmd cli_cmd_identity = {
	.name = "identity",
	.args = "create DIR [--curve p256|p384] [--name NAME] [--force] [--json] | show DIR [--json]",
	.summary = "make or inspect a device identity (certificate chain, key, measurements)",
	.run = identity_run,
};
