/* SPDX-License-Identifier: MIT */
/*
 * pcitsm unlock BDF: `echo tsmN > /sys/bus/pci/devices/BDF/tsm/unlock` with the name tsm/lock
 * shows (the proposed TDISP ABI): the TSM stops the interface (TDISP STOP_INTERFACE_REQUEST; any
 * state -> CONFIG_UNLOCKED). EINVAL: not locked, or another name; EBUSY: a driver is bound.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tdi.h"

static int unlock_main(int argc, char **argv)
{
	struct cli_tdi_args a;
	struct cli_sysroot r;
	char path[PATH_MAX], name[64] = "";
	int rc;

	rc = cli_tdi_args_parse("unlock", CLI_TDI_TSM, argc, argv, &a);
	if (rc)
		return rc;
	if (!cli_sysroot_open(&r, a.sysfs))
		return CLI_EXIT_FAIL;
	/* The kernel wants the name that locked it: read it back unless told. */
	if (a.tsm)
		snprintf(name, sizeof(name), "%s", a.tsm);
	else if (cli_dev_path(&r, &a.bdf, "tsm/lock", path, sizeof(path)))
		(void)cli_attr_read(path, name, sizeof(name));
	if (!name[0] && !cli_tdi_tsm(&r, NULL, name, sizeof(name)))
		snprintf(name, sizeof(name), "tsm0");
	return cli_tdi_change(&r, &a.bdf, "unlock", name, "unlocked from");
}

const struct cli_cmd cli_cmd_unlock = {
	.name = "unlock",
	.args = "BDF [--sysfs DIR] [--tsm tsmN]",
	.summary = "stop and unlock a function's TEE Device Interface, as tsm/unlock",
	.run = unlock_main,
};
