/* SPDX-License-Identifier: MIT */
/*
 * pcitsm status [BDF]: the TSM state of one device, or of every device with tsm/connect: the
 * kernel's attributes by their names, the registered stream, the Selective IDE stream registers at
 * the root port and the endpoint (Enable, Stream ID, state: what `lspci -vvv` shows), and, on the
 * emulated platform, the SPDM session and algorithms from the project directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tsmstat.h"

#define MAX_DEVS 256

static int status_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL;
	bool json = false, verbose = false;
	struct pcitsm_bdf *devs;
	struct cli_sysroot r;
	json_object *out;
	size_t n = 0;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 's': sysfs = optarg; break;
		case 'j': json = true; break;
		case 'v': verbose = true; break;
		default: return cli_usage("status");
		}
	}
	if (optind < argc - 1)
		return cli_usage("status");
	devs = calloc(MAX_DEVS, sizeof(*devs));
	if (!devs)
		return cli_fail("status", PCITSM_E_NOMEM);
	if (optind == argc - 1) {
		if (!cli_bdf_arg("status", argv[optind], &devs[0])) {
			free(devs);
			return CLI_EXIT_USAGE;
		}
		n = 1;
	}
	if (!cli_sysroot_open(&r, sysfs)) {
		free(devs);
		return CLI_EXIT_FAIL;
	}
	if (!n) {
		n = cli_tsm_devices(&r, devs, MAX_DEVS);
		if (!n && !json)
			printf("no device under %s has tsm/connect (no link TSM, or no DSM-capable "
			       "device)\n", r.root);
	}
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct cli_dev_status s;

		cli_dev_status_read(&r, &devs[i], &s);
		if (!s.exists)
			rc = CLI_EXIT_FAIL;
		if (json)
			json_object_array_add(out, cli_dev_status_json(&s));
		else
			cli_dev_status_print(&s, verbose);
		cli_dev_status_free(&s);
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	free(devs);
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_status = {
	.name = "status",
	.args = "[BDF] [--sysfs DIR] [--json] [-v]",
	.summary = "TSM state: kernel attributes, stream state at both ends, session and algorithms",
	.run = status_main,
};
