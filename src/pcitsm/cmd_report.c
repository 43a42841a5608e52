/* SPDX-License-Identifier: MIT */
/*
 * pcitsm report BDF [--json] [--netlink]: the interface report of a locked TDI from the evidence
 * (pcitsm/devices/BDF/evidence/report on the emulated platform; on a real host, or with --netlink,
 * the kernel's evidence-read over generic netlink, docs/genl.md), decoded: interface info bits, MSI-X/LNR/TPH controls,
 * every MMIO range with its BAR, address, size and attributes; its SHA-384 digest; and the Linux
 * guest's report rules checked against the function's BARs and MSI-X capability (docs/tdisp.md
 * "Report rules"), the rule broken named. Exit 1 when the report breaks a rule.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "tdi.h"

static int report_main(int argc, char **argv)
{
	struct cli_tdi_args a;
	struct cli_tdi_ev *ev;
	struct cli_sysroot r;
	int rc;

	rc = cli_tdi_args_parse("report", CLI_TDI_JSON | CLI_TDI_NETLINK, argc, argv, &a);
	if (rc)
		return rc;
	rc = cli_tdi_evidence_open(&r, &a, "report", false, &ev);
	if (!ev)
		return rc;
	if (!rc) {
		if (a.json) {
			json_object *j = cli_tdi_report_json(ev);

			json_object_object_add(j, "address",
					       json_object_new_string(cli_bdf_name(&a.bdf).s));
			printf("%s\n", json_object_to_json_string_ext(
					       j, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(j);
		} else {
			cli_tdi_report_print(&a.bdf, ev);
		}
		if (!ev->has_view || ev->check_err != PCITSM_OK)
			rc = CLI_EXIT_FAIL;
	}
	cli_tdi_free(ev);
	free(ev);
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_report = {
	.name = "report",
	.args = "BDF [--sysfs DIR] [--json] [--netlink]",
	.summary = "a locked TDI's interface report, decoded and checked against the Linux rules",
	.run = report_main,
};
