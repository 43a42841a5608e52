/* SPDX-License-Identifier: MIT */
/*
 * pcitsm policy make BDF [-o FILE] [--netlink]: the acceptance policy a locked TDI's evidence
 * shows now (from the project directory, or over generic netlink on a real host, docs/genl.md)
 * (docs/policy.md): its measurement digests by index, its interface info bits, its MMIO layout
 * (BAR, offset, size, attributes; no addresses), for a fleet to pin and give to
 * `pcitsm accept --policy`. A report that breaks a Linux report rule is not pinned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tdi.h"

static int policy_make(int argc, char **argv)
{
	struct cli_tdi_args a;
	struct cli_tdi_ev *ev;
	struct cli_sysroot r;
	char why[256];
	unsigned skipped = 0;
	int rc;

	rc = cli_tdi_args_parse("policy", CLI_TDI_OUT | CLI_TDI_NETLINK, argc, argv, &a);
	if (rc)
		return rc;
	rc = cli_tdi_evidence_open(&r, &a, "policy make", true, &ev);
	if (!ev)
		return rc;
	if (!rc && (!ev->has_view || ev->check_err != PCITSM_OK)) {
		cli_tdi_check_str(ev, why, sizeof(why));
		rc = cli_failf("policy make %s: the report breaks a Linux report rule: %s; not pinned",
			       cli_bdf_name(&a.bdf).s, why);
	}
	if (!rc) {
		const struct pcitsm_policy_evidence pe = { ev->blocks, ev->nr_blocks, &ev->rep };
		json_object *j = pcitsm_policy_make(&pe, cli_bdf_name(&a.bdf).s, &skipped);
		const char *s = j ? json_object_to_json_string_ext(
					    j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
				  : NULL;
		FILE *f = !s ? NULL : a.out ? fopen(a.out, "w") : stdout;

		if (!s)
			rc = cli_fail("policy", PCITSM_E_NOMEM);
		else if (!f)
			rc = cli_failf("policy make: %s: %s", a.out, strerror(errno));
		else {
			fprintf(f, "%s\n", s);
			if (a.out && (ferror(f) | fclose(f)))
				rc = cli_failf("policy make: %s: write failed", a.out);
			else if (a.out)
				printf("%s: policy written to %s (%zu measurement blocks, %u not "
				       "pinned: raw or longer than a digest; %u MMIO ranges)\n",
				       cli_bdf_name(&a.bdf).s, a.out, ev->nr_blocks - skipped,
				       skipped, ev->rep.nr_ranges);
		}
		json_object_put(j);
	}
	cli_tdi_free(ev);
	free(ev);
	cli_sysroot_close(&r);
	return rc;
}

static int policy_main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "make"))
		return policy_make(argc - 1, argv + 1);
	return cli_usage("policy");
}

const struct cli_cmd cli_cmd_policy = {
	.name = "policy",
	.args = "make BDF [-o FILE] [--sysfs DIR] [--netlink]",
	.summary = "write the acceptance policy a locked TDI's evidence shows now, to pin",
	.run = policy_main,
};
