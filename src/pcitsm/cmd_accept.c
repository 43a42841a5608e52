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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tdi.h"

bool cli_policy_load(const char *cmd, const char *file, struct pcitsm_policy *p)
{
	char why[200] = "";
	FILE *f = fopen(file, "rb");
	char *text;
	size_t n;
	pcitsm_err e;

	if (!f) {
		cli_failf("%s: policy %s: %s", cmd, file, strerror(errno));
		return false;
	}
	text = malloc(PCITSM_POLICY_TEXT_MAX + 1);
	n = text ? fread(text, 1, PCITSM_POLICY_TEXT_MAX + 1, f) : 0;
	fclose(f);
	if (!text) {
		cli_fail(cmd, PCITSM_E_NOMEM);
		return false;
	}
	e = pcitsm_policy_parse(text, n, p, why, sizeof(why));
	free(text);
	if (e) {
		cli_failf("%s: policy %s is not valid: %s", cmd, file, why);
		return false;
	}
	return true;
}

static int accept_main(int argc, char **argv)
{
	struct pcitsm_policy *pol = NULL;
	struct cli_tdi_args a;
	struct cli_tdi_ev *ev = NULL;
	struct cli_sysroot r;
	char why[256], state[32];
	struct cli_bdf_name addr;
	double ms;
	int rc, d;

	rc = cli_tdi_args_parse("accept", CLI_TDI_POLICY | CLI_TDI_NETLINK, argc, argv, &a);
	if (rc)
		return rc;
	addr = cli_bdf_name(&a.bdf);
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
	if (ev->state[0] && strcmp(ev->state, "CONFIG_LOCKED") != 0) {
		rc = cli_failf("accept %s: the TDI is %s, not CONFIG_LOCKED; not started", addr.s,
			       ev->state);
		goto out;
	}
	if (!ev->has_view || ev->check_err != PCITSM_OK) {
		cli_tdi_check_str(ev, why, sizeof(why));
		rc = cli_failf("accept %s: the report breaks a Linux report rule: %s; not started",
			       addr.s, why);
		goto out;
	}
	if (a.policy) {
		const struct pcitsm_policy_evidence pe = { ev->blocks, ev->nr_blocks, &ev->rep };

		if (pcitsm_policy_eval(pol, &pe, why, sizeof(why)) != PCITSM_OK) {
			rc = cli_failf("accept %s: policy %s refused: %s; not started", addr.s,
				       a.policy, why);
			goto out;
		}
		printf("%s: policy %s holds (%u measurements, %s interface info, %s MMIO layout)\n",
		       addr.s, a.policy, pol->nr_meas, pol->has_info ? "required" : "no",
		       pol->has_mmio ? "pinned" : "no");
	}
	/* The report the decision was made on must still be the device's. */
	d = cli_tdi_digest_compare(&r, &a.bdf, ev);
	if (d == 1 || (d < 0 && (ev->has_digest_file || ev->via_netlink))) {
		rc = cli_failf("accept %s: the report changed after the evidence was read; read it "
			       "again (not started)", addr.s);
		goto out;
	}
	rc = cli_tdi_write(&r, &a.bdf, "accept", "accept", "1", &ms);
	if (!rc) {
		cli_tdi_state(&r, &a.bdf, state, sizeof(state));
		printf("%s: accepted in %.1f ms; TDI %s\n", addr.s, ms,
		       state[0] ? state : "state not shown");
	}
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
