/* SPDX-License-Identifier: MIT */
/*
 * pcitsm rekey BDF: refresh a connected device's IDE keys (the other key set programmed at both
 * ends, K_SET_GO, the old set stopped) with no TLP lost. Linux 6.19 has no rekey interface
 * (Linux drivers/pci/ide.c), so this needs the emulated platform's project directory
 * (<root>/pcitsm/devices/BDF/rekey, docs/pcitsmd.md).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tsmstat.h"

static int rekey_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL;
	char path[PATH_MAX], before[16] = "?", after[16] = "?", v[16];
	struct pcitsm_bdf bdf;
	struct cli_bdf_name name;
	struct cli_dev_status s;
	struct cli_sysroot r;
	double t0, ms;
	int c, err, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return cli_usage("rekey");
		sysfs = optarg;
	}
	rc = cli_bdf_operand("rekey", argc, argv, optind, &bdf);
	if (rc)
		return rc;
	name = cli_bdf_name(&bdf);
	rc = cli_project_open(&r, sysfs, "rekey", "Linux 6.19 has no rekey interface");
	if (rc)
		return rc;
	cli_dev_status_read(&r, &bdf, &s);
	if (s.proj)
		cli_kv_get(s.proj, "key_set", before, sizeof(before));
	cli_dev_status_free(&s);
	cli_proj_path(&r, &bdf, "rekey", path, sizeof(path));
	t0 = cli_now_ms();
	err = -cli_attr_write(path, "1");
	ms = cli_now_ms() - t0;
	if (err) {
		rc = cli_failf("rekey %s: %s (errno %d)%s", name.s, strerror(err), err,
			       err == ENXIO ? ": the device is not connected"
			       : err == ENOENT ? ": not a device with tsm/connect"
					       : "");
	} else {
		cli_dev_status_read(&r, &bdf, &s);
		if (s.proj) {
			cli_kv_get(s.proj, "key_set", after, sizeof(after));
			if (cli_kv_get(s.proj, "rekeys", v, sizeof(v)))
				printf("%s: rekeyed in %.1f ms: key set %s -> %s (%s rekeys); root port %s, "
				       "endpoint %s\n",
				       name.s, ms, before, after, v,
				       s.rp.found ? cli_ide_state_word(s.rp.state) : "?",
				       s.ep.found ? cli_ide_state_word(s.ep.state) : "?");
		}
		cli_dev_status_free(&s);
	}
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_rekey = {
	.name = "rekey",
	.args = "BDF [--sysfs DIR]",
	.summary = "refresh a connected stream's IDE keys (emulated platform only)",
	.run = rekey_main,
};
