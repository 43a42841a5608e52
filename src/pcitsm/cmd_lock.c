/* SPDX-License-Identifier: MIT */
/*
 * pcitsm lock BDF: `echo tsmN > /sys/bus/pci/devices/BDF/tsm/lock` (the proposed TDISP ABI,
 * docs/pcitsmd.md "Proposal: TDISP"): the TSM locks the function's TEE Device Interface (TDISP
 * LOCK_INTERFACE_REQUEST; CONFIG_UNLOCKED -> CONFIG_LOCKED) and reads its interface report. The
 * kernel's errno is explained (EBUSY a driver is bound or already locked, ENXIO not a devsec TSM).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tdi.h"

static int lock_main(int argc, char **argv)
{
	struct cli_tdi_args a;
	struct cli_sysroot r;
	char name[64];
	int rc;

	rc = cli_tdi_args_parse("lock", CLI_TDI_TSM, argc, argv, &a);
	if (rc)
		return rc;
	if (!cli_sysroot_open(&r, a.sysfs))
		return CLI_EXIT_FAIL;
	if (!cli_tdi_tsm(&r, a.tsm, name, sizeof(name))) {
		rc = cli_failf("lock %s: %s has no TSM (class/tsm is empty)", cli_bdf_name(&a.bdf).s,
			       r.root);
		cli_sysroot_close(&r);
		return rc;
	}
	return cli_tdi_change(&r, &a.bdf, "lock", name, "locked by");
}

const struct cli_cmd cli_cmd_lock = {
	.name = "lock",
	.args = "BDF [--sysfs DIR] [--tsm tsmN]",
	.summary = "lock a function's TEE Device Interface (TDISP CONFIG_LOCKED), as tsm/lock",
	.run = lock_main,
};
