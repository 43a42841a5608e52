/* SPDX-License-Identifier: MIT */
/*
 * pcitsm auth TARGET: authenticate a device with SPDM (VCA, digests, certificate chain, CHALLENGE,
 * signed measurements) over its DOE mailbox or an spdm-emu TCP port, and report what was
 * negotiated, the chain and its validation, and the measurement blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "target.h"

static void print_text(const struct cli_spdm_run *r)
{
	json_object *j = cli_spdm_result_json(r), *o, *a;

	printf("target:        %s\n", r->target);
	if (json_object_object_get_ex(j, "spdm_version", &o))
		printf("SPDM version:  %s\n", json_object_get_string(o));
	if (json_object_object_get_ex(j, "algorithms", &a)) {
		json_object_object_foreach(a, k, val)
			printf("  %-17s %s\n", k, json_object_get_string(val));
	}
	if (json_object_object_get_ex(j, "capabilities", &a))
		printf("capabilities:  %s\n",
		       json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	if (json_object_object_get_ex(j, "certificate_chain", &a)) {
		json_object *certs, *why;

		printf("certificate chain (slot %d, %d bytes): %s\n",
		       json_object_get_int(json_object_object_get(a, "slot")),
		       json_object_get_int(json_object_object_get(a, "length")),
		       json_object_get_string(json_object_object_get(a, "validation")));
		if (json_object_object_get_ex(a, "reason", &why))
			printf("  reason: %s\n", json_object_get_string(why));
		certs = json_object_object_get(a, "certificates");
		for (size_t i = 0; i < json_object_array_length(certs); i++)
			printf("  [%zu] %s\n", i,
			       json_object_get_string(json_object_object_get(
				       json_object_array_get_idx(certs, i), "subject")));
	}
	printf("challenge:     %s\n", r->res.challenged ? "verified" : "not done");
	if (json_object_object_get_ex(j, "measurements", &a)) {
		json_object *blocks = json_object_object_get(a, "blocks");

		printf("measurements (%s):\n",
		       r->res.meas_signed ? "signed, verified" : "unsigned");
		for (size_t i = 0; i < json_object_array_length(blocks); i++) {
			json_object *b = json_object_array_get_idx(blocks, i);
			printf("  #%-3d %-24s %-6s %s\n",
			       json_object_get_int(json_object_object_get(b, "index")),
			       json_object_get_string(json_object_object_get(b, "type")),
			       json_object_get_string(json_object_object_get(b, "representation")),
			       json_object_get_string(json_object_object_get(b, "value")));
		}
	}
	printf("result:        %s\n", r->res.err == PCITSM_OK ? "authenticated" : "FAILED");
	json_object_put(j);
}

static int auth_main(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct cli_spdm_run r;
	bool json = false;
	pcitsm_err e;

	memset(&r, 0, sizeof(r));
	pcitsm_spdm_auth_opts_default(&r.auth, env);
	if (cli_spdm_parse(argc, argv, &r, &json, NULL) < 0)
		return cli_usage("auth");
	e = cli_spdm_authenticate(&r, env);
	if (json) {
		json_object *j = cli_spdm_result_json(&r);
		printf("%s\n",
		       json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else if (e == PCITSM_OK || r.res.version) {
		print_text(&r);
	}
	if (cli_spdm_done(&r) != PCITSM_OK && e == PCITSM_OK)
		e = PCITSM_E_IO;
	return e == PCITSM_OK ? 0 : CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_auth = {
	.name = "auth",
	.args = "TARGET [--trust FILE] [--json] [--pcap FILE] [--sysfs DIR] [--slot N] "
		"[--no-challenge] [--timeout SEC] [--shutdown]",
	.summary = "authenticate a device with SPDM; TARGET is DDDD:BB:DD.F or tcp:HOST:PORT",
	.run = auth_main,
};
