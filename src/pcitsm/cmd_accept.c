/* SPDX-License-Identifier: MIT */
/*
 * pcitsm accept BDF [--policy FILE]: the relying party's decision, then `echo 1 >
 * /sys/bus/pci/devices/BDF/tsm/accept` (the proposed TDISP ABI; the TSM starts the interface,
 * CONFIG_LOCKED -> RUN). Before the write: the evidence is read, the report's digest must be the
 * one the evidence names, the report must follow the Linux guest's rules, and the policy (when
 * given, docs/policy.md) must hold, else the interface is not started and the failing entry is
 * named. Just before the write the report digest is read again (on a real host: the report, over
 * netlink): a report that changed since the evidence was read is refused (the platform refuses it
 * too, docs/pcitsmd.md "Proposal: TDISP"). The evidence comes from the emulated platform's project
 * directory, or on a real host from the kernel over generic netlink (docs/genl.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tdi.h"

static int accept_main(int argc, char **argv)
{
	struct pcitsm_policy *pol = NULL;
	struct cli_tdi_args a;
	struct cli_tdi_ev *ev = NULL;
	struct cli_sysroot r;
	int rc;

	rc = cli_tdi_args_parse("accept", CLI_TDI_POLICY | CLI_TDI_NETLINK, argc, argv, &a);
	if (rc)
		return rc;
	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return cli_fail("accept", PCITSM_E_NOMEM);
	if (a.policy && !cli_policy_load("accept", a.policy, pol)) {
		free(pol);
		return CLI_EXIT_FAIL;
	}
	rc = cli_tdi_evidence_open(&r, &a, "accept", a.policy && pol->nr_meas, &ev);
	if (!ev) {
		free(pol);
		return rc;
	}
	if (rc)
		goto out;
	rc = cli_tdi_accept(&r, &a.bdf, ev, a.policy ? pol : NULL, a.policy, false);
out:
	cli_tdi_free(ev);
	free(ev);
	free(pol);
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_accept = {
	.name = "accept",
	.args = "BDF [--policy FILE] [--sysfs DIR] [--netlink]",
	.summary = "check a locked TDI's evidence (and a policy), then start it, as tsm/accept",
	.run = accept_main,
};
