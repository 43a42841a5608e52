/* SPDX-License-Identifier: MIT */
/*
 * pcitsm disconnect BDF|--all: `echo tsmN > /sys/bus/pci/devices/BDF/tsm/disconnect` with the
 * name tsm/connect shows, and the kernel's errno explained (ENXIO not connected, EINVAL name
 * mismatch). Afterwards no stream is left: the host bridge's streamH.R.E link is gone.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tsmstat.h"

#define MAX_DEVS 256

static int disconnect_one(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
			  const char *tsm_opt, bool quiet_if_idle, bool quiet,
			  struct cli_progress *pr)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	char path[PATH_MAX], name[64] = "";
	struct cli_dev_status s;
	double t0, ms;
	int err;

	/* The kernel wants the exact name given to connect: read it back unless told. */
	if (cli_dev_path(r, bdf, "tsm/connect", path, sizeof(path)) &&
	    cli_attr_read(path, name, sizeof(name)) == 0 && !name[0] && quiet_if_idle)
		return 0;
	if (tsm_opt)
		snprintf(name, sizeof(name), "%s", tsm_opt);
	else if (!name[0] && !cli_first_tsm(r, name, sizeof(name)))
		snprintf(name, sizeof(name), "tsm0");
	if (!cli_dev_path(r, bdf, "tsm/disconnect", path, sizeof(path)))
		return CLI_EXIT_FAIL;
	t0 = cli_now_ms();
	err = -cli_attr_write(path, name);
	ms = cli_now_ms() - t0;
	if (pr)
		cli_progress_clear(pr);
	if (err) {
		const char *m = cli_disconnect_errno_meaning(err);

		fprintf(stderr, "pcitsm: disconnect %s: write %s to tsm/disconnect: %s (errno %d)%s%s\n",
			addr.s, name, strerror(err), err, m ? ": " : "", m ? m : "");
		return CLI_EXIT_FAIL;
	}
	if (quiet)
		return 0;
	cli_dev_status_read(r, bdf, &s);
	printf("%s: disconnected from %s in %.1f ms; %s\n", addr.s, name, ms,
	       s.has_stream ? "a stream is still registered!" : "no stream left");
	cli_dev_status_free(&s);
	return 0;
}

int cli_disconnect_one(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
		       const char *tsm_opt, bool quiet_if_idle, bool quiet)
{
	return disconnect_one(r, bdf, tsm_opt, quiet_if_idle, quiet, NULL);
}

static int disconnect_main(int argc, char **argv)
{
	struct cli_dev_args a;
	struct cli_sysroot r;
	int rc;

	rc = cli_dev_args_parse("disconnect", false, argc, argv, &a);
	if (rc)
		return rc;
	if (!cli_sysroot_open(&r, a.sysfs))
		return CLI_EXIT_FAIL;
	if (a.all) {
		struct pcitsm_bdf *devs = calloc(MAX_DEVS, sizeof(*devs));
		size_t n = devs ? cli_tsm_devices(&r, devs, MAX_DEVS) : 0;

		struct cli_progress pr;

		cli_progress_init(&pr, n, false);
		for (size_t i = 0; i < n; i++) {
			cli_progress_show(&pr, i + 1, "disconnect", &devs[i]);
			if (disconnect_one(&r, &devs[i], a.tsm, true, false, &pr))
				rc = CLI_EXIT_FAIL;
		}
		cli_progress_clear(&pr);
		free(devs);
	} else {
		rc = disconnect_one(&r, &a.bdf, a.tsm, false, false, NULL);
	}
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_disconnect = {
	.name = "disconnect",
	.args = "BDF|--all [--sysfs DIR] [--tsm tsmN]",
	.summary = "disconnect devices from the TSM (stream and session torn down), as tsm/disconnect",
	.run = disconnect_main,
};
