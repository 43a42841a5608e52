/* SPDX-License-Identifier: MIT */
/*
 * pcitsm traffic BDF [--ops N] [--size BYTES]: memory writes and read-backs from the root port to
 * the endpoint across the emulated link, IDE-protected when the stream is Secure, then the counts:
 * operations, bytes, failures, and how many TLPs crossed as IDE TLPs or in the clear. Linux has no
 * such interface: this needs the emulated platform's project directory
 * (<root>/pcitsm/devices/BDF/traffic, docs/pcitsmd.md).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tsmstat.h"

static const char *const keys[] = { "ops", "size", "writes", "reads", "bytes", "failures",
				    "tlps_secure", "tlps_clear", "key_refreshes", "result" };

static int traffic_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL;
	unsigned long ops = 1000, size = 256;
	bool json = false;
	char path[PATH_MAX], req[64], text[2048], v[64], *end;
	struct pcitsm_bdf bdf;
	struct cli_bdf_name name;
	struct cli_sysroot r;
	double t0, ms;
	int c, err, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sysfs = optarg; break;
		case 'j': json = true; break;
		case 'n':
			ops = strtoul(optarg, &end, 10);
			if (*end || !ops || ops > 10000000ul)
				return cli_usage("traffic");
			break;
		case 'z':
			size = strtoul(optarg, &end, 10);
			if (*end || size < 4 || size > 4096 || size % 4)
				return cli_usage("traffic");
			break;
		default: return cli_usage("traffic");
		}
	}
	rc = cli_bdf_operand("traffic", argc, argv, optind, &bdf);
	if (rc)
		return rc;
	name = cli_bdf_name(&bdf);
	rc = cli_project_open(&r, sysfs, "traffic", "the kernel has no traffic generator");
	if (rc)
		return rc;
	cli_proj_path(&r, &bdf, "traffic", path, sizeof(path));
	snprintf(req, sizeof(req), "%lu %lu", ops, size);
	t0 = cli_now_ms();
	err = -cli_attr_write(path, req);
	ms = cli_now_ms() - t0;
	if (err && err != EIO) {
		cli_sysroot_close(&r);
		return cli_failf("traffic %s: %s (errno %d)", name.s, strerror(err), err);
	}
	if (cli_attr_read(path, text, sizeof(text)) != 0) {
		cli_sysroot_close(&r);
		return cli_failf("traffic %s: cannot read the result", name.s);
	}
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_object_new_string(name.s));
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(keys); i++)
			if (cli_kv_get(text, keys[i], v, sizeof(v)))
				json_object_object_add(o, keys[i],
						       i + 1 == PCITSM_ARRAY_SIZE(keys)
							       ? json_object_new_string(v)
							       : json_object_new_int64(atoll(v)));
		json_object_object_add(o, "ms", json_object_new_double(ms));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		printf("%s: traffic in %.1f ms:", name.s, ms);
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(keys); i++)
			if (cli_kv_get(text, keys[i], v, sizeof(v)))
				printf(" %s=%s", keys[i], v);
		printf("\n");
	}
	if (err || (cli_kv_get(text, "failures", v, sizeof(v)) && strcmp(v, "0")))
		rc = CLI_EXIT_FAIL;
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_traffic = {
	.name = "traffic",
	.args = "BDF [--ops N] [--size BYTES] [--sysfs DIR] [--json]",
	.summary = "memory traffic across the emulated link: counts, bytes, failures",
	.run = traffic_main,
};
