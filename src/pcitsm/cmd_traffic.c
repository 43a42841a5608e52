/* SPDX-License-Identifier: MIT */
/*
 * pcitsm traffic BDF [--ops N] [--size BYTES] [--tee]: memory writes and read-backs from the root
 * port to the endpoint across the emulated link, IDE-protected when the stream is Secure, then the
 * counts: operations, bytes, failures, and how many TLPs crossed as IDE TLPs or in the clear. With
 * --tee, the function's own DMA as a TDI (PCIe 6.x §11): writes with T=1 into the confidential VM's
 * private memory, each read back with T=1 and compared; it gets through only while the TDI is RUN,
 * otherwise the platform refuses it and the refusals are counted. Linux has no such interface:
 * this needs the emulated platform's project directory (<root>/pcitsm/devices/BDF/traffic,
 * docs/pcitsmd.md).
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
				    "tlps_secure", "tlps_clear", "key_refreshes", "tee_refused", "result" };

static long long kv_num(const char *text, const char *key)
{
	char v[64];

	return cli_kv_get(text, key, v, sizeof(v)) ? atoll(v) : 0;
}

/* --tee in words: what reached the private memory and came back intact, or what the TDI's state
 * refused. */
static void tee_text(const char *name, const char *text, double ms)
{
	long long size = kv_num(text, "size"), w = kv_num(text, "writes");
	long long r = kv_num(text, "reads"), refused = kv_num(text, "tee_refused");
	long long failures = kv_num(text, "failures");
	char res[64] = "";

	(void)cli_kv_get(text, "result", res, sizeof(res));
	printf("%s: DMA with T=1 into the confidential VM's private memory in %.1f ms:\n", name,
	       ms);
	/* A write is posted: the sender cannot tell one the host dropped; the read-back can. */
	printf("  %lld bytes %s, %lld read back and verified, %lld IDE TLPs\n", w * size,
	       failures ? "sent (posted writes)" : "written", r * size,
	       kv_num(text, "tlps_secure"));
	if (failures)
		printf("  %lld of %lld operations failed (%s); "
		       "%lld requests refused by TDI state%s\n",
		       failures, kv_num(text, "ops"), res, refused,
		       refused ? " (the TDI is not RUN)" : "");
}

static int traffic_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "tee", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL;
	unsigned long ops = 1000, size = 256;
	bool json = false, tee = false;
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
		case 't': tee = true; break;
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
	snprintf(req, sizeof(req), "%lu %lu%s", ops, size, tee ? " tee" : "");
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
		json_object_object_add(o, "tee", json_object_new_boolean(tee));
		if (tee) {
			long long sz = kv_num(text, "size");

			json_object_object_add(o, "bytes_written",
					       json_object_new_int64(kv_num(text, "writes") * sz));
			json_object_object_add(o, "bytes_verified",
					       json_object_new_int64(kv_num(text, "reads") * sz));
		}
		json_object_object_add(o, "ms", json_object_new_double(ms));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if (tee) {
		tee_text(name.s, text, ms);
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
	.args = "BDF [--ops N] [--size BYTES] [--tee] [--sysfs DIR] [--json]",
	.summary = "memory traffic across the emulated link (--tee: a TDI's DMA in RUN)",
	.run = traffic_main,
};
