/* SPDX-License-Identifier: MIT */
/*
 * pcitsm sva: put a function on Linux's uio_pci_sva driver (drivers/uio/uio_pci_generic_sva.c)
 * and back, and show what a user-space driver needs from it (docs/sva.md):
 *   pcitsm sva bind BDF [--sysfs DIR]     driver_override, unbind the current driver, bind
 *   pcitsm sva unbind BDF [--sysfs DIR]   unbind, clear driver_override
 *   pcitsm sva status BDF [--sysfs DIR]   driver, UIO device, pasid attribute
 * --sysfs defaults to /sys; a copy of the kernel's layout works the same (tests/integration).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pcitsm/sva.h"
#include "target.h"

static int status(const char *sysfs, const struct pcitsm_bdf *bdf, const char *name)
{
	struct pcitsm_sva_uio_info i;
	pcitsm_err e = pcitsm_sva_uio_info(sysfs, bdf, &i);

	if (e)
		return cli_failf("sva: no function %s under %s", name, sysfs);
	printf("%s: driver %s", name, i.driver[0] ? i.driver : "none");
	if (i.on_uio_pci_sva) {
		if (i.uio >= 0)
			printf(", /dev/uio%d", i.uio);
		if (i.pasid_valid)
			printf(", pasid %u%s", i.pasid, i.pasid ? "" : " (not opened yet)");
		else
			printf(", pasid unreadable");
	}
	printf("\n");
	return 0;
}

static int sva_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL, *verb;
	struct pcitsm_bdf bdf;
	char name[13], why[256] = "";
	pcitsm_err e;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sysfs = optarg; break;
		default: return cli_usage("sva");
		}
	}
	if (optind != argc - 2)
		return cli_usage("sva");
	sysfs = cli_sysfs_root(sysfs);
	verb = argv[optind];
	if (pcitsm_bdf_parse(argv[optind + 1], &bdf))
		return cli_usage("sva");
	pcitsm_bdf_format(&bdf, name);
	if (!strcmp(verb, "status"))
		return status(sysfs, &bdf, name);
	if (!strcmp(verb, "bind"))
		e = pcitsm_sva_uio_bind(sysfs, &bdf, why, sizeof(why));
	else if (!strcmp(verb, "unbind"))
		e = pcitsm_sva_uio_unbind(sysfs, &bdf, why, sizeof(why));
	else
		return cli_usage("sva");
	if (e)
		return cli_failf("sva %s %s: %s", verb, name, why[0] ? why : pcitsm_err_str(e));
	return status(sysfs, &bdf, name);
}

const struct cli_cmd cli_cmd_sva = {
	.name = "sva",
	.args = "bind|unbind|status BDF [--sysfs DIR]",
	.summary = "put a function on uio_pci_sva (shared virtual addressing for user-space drivers)",
	.run = sva_main,
};
