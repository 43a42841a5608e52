/* SPDX-License-Identifier: MIT */
/*
 * pcitsm connect BDF|--all: what an administrator does on a 6.19 host, `echo tsm0 >
 * /sys/bus/pci/devices/BDF/tsm/connect`, with the kernel's errno explained, then the result: the
 * stream registered and its state at both ends. On the emulated platform the project directory
 * also names the connect step that failed and the device's answer.
 * pcitsm connect tcp:HOST:PORT: the device half of connect against an spdm-emu responder
 * (connect_tcp.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tsmstat.h"

#define MAX_DEVS 256 /* a host bridge's bus numbers hold at most 255 (docs/emulated-platform.md) */

static int connect_one(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *tsm,
		       bool json, json_object *out, struct cli_progress *pr)
{
	const struct cli_bdf_name name = cli_bdf_name(bdf);
	struct cli_dev_status s;
	char path[PATH_MAX];
	double t0, ms;
	int err;

	if (!cli_dev_path(r, bdf, "tsm/connect", path, sizeof(path)))
		return CLI_EXIT_FAIL;
	t0 = cli_now_ms();
	err = -cli_attr_write(path, tsm);
	ms = cli_now_ms() - t0;
	cli_dev_status_read(r, bdf, &s);
	if (pr)
		cli_progress_clear(pr);
	if (json) {
		json_object *o = cli_dev_status_json(&s);

		json_object_object_add(o, "result", json_object_new_string(err ? "failed" : "connected"));
		json_object_object_add(o, "errno", json_object_new_int(err));
		if (err)
			json_object_object_add(o, "error", json_object_new_string(strerror(err)));
		json_object_object_add(o, "ms", json_object_new_double(ms));
		json_object_array_add(out, o);
	} else if (err) {
		const char *m = cli_connect_errno_meaning(err);

		fprintf(stderr, "pcitsm: connect %s: write %s to tsm/connect: %s (errno %d)%s%s\n",
			name.s, tsm, strerror(err), err, m ? ": " : "", m ? m : "");
		cli_failure_print(stderr, s.proj, "pcitsm:   ");
	} else {
		printf("%s: connected to %s in %.1f ms\n", name.s, tsm, ms);
		if (s.has_stream)
			printf("  %s: root port %s %s, endpoint %s %s\n", s.stream,
			       s.rp.has_bdf ? cli_bdf_name(&s.rp.bdf).s : "",
			       s.rp.found ? cli_ide_state_word(s.rp.state) : s.rp.why,
			       cli_bdf_name(&s.ep.bdf).s,
			       s.ep.found ? cli_ide_state_word(s.ep.state) : s.ep.why);
		else
			printf("  no IDE stream registered (the TSM set up SPDM only)\n");
	}
	cli_dev_status_free(&s);
	return err ? CLI_EXIT_FAIL : 0;
}

int cli_connect_one(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *tsm,
		    bool json, json_object *out)
{
	return connect_one(r, bdf, tsm, json, out, NULL);
}

static int connect_main(int argc, char **argv)
{
	struct cli_dev_args a;
	char tsm[64];
	struct pcitsm_bdf *devs = NULL;
	struct cli_sysroot r;
	json_object *out;
	size_t n = 0;
	int rc;

	if (argc >= 2 && !strncmp(argv[1], "tcp:", 4))
		return cli_connect_tcp(argv[1], argc - 1, argv + 1);
	rc = cli_dev_args_parse("connect", true, argc, argv, &a);
	if (rc)
		return rc;
	if (!cli_sysroot_open(&r, a.sysfs))
		return CLI_EXIT_FAIL;
	if (a.tsm)
		snprintf(tsm, sizeof(tsm), "%s", a.tsm);
	else if (!cli_first_tsm(&r, tsm, sizeof(tsm))) {
		cli_sysroot_close(&r);
		return cli_failf("connect: no TSM under %s/class/tsm: the kernel has no PCI/TSM "
				 "(needs Linux 6.19 and a TSM such as SEV-TIO)", r.root);
	}
	out = json_object_new_array();
	if (a.all) {
		struct cli_progress pr;

		devs = calloc(MAX_DEVS, sizeof(*devs));
		n = devs ? cli_tsm_devices(&r, devs, MAX_DEVS) : 0;
		if (!n && !a.json)
			printf("no device under %s has tsm/connect\n", r.root);
		cli_progress_init(&pr, n, a.json);
		for (size_t i = 0; i < n; i++) {
			char path[PATH_MAX], cur[32];
			int one;

			cli_progress_show(&pr, i + 1, "connect", &devs[i]);
			/* Skip the connected ones: --all connects what is not. */
			if (cli_dev_path(&r, &devs[i], "tsm/connect", path, sizeof(path)) &&
			    cli_attr_read(path, cur, sizeof(cur)) == 0 && cur[0]) {
				cli_progress_clear(&pr);
				if (!a.json)
					printf("%s: already connected to %s\n",
					       cli_bdf_name(&devs[i]).s, cur);
				continue;
			}
			one = connect_one(&r, &devs[i], tsm, a.json, out, &pr);
			if (one)
				rc = CLI_EXIT_FAIL;
		}
		cli_progress_clear(&pr);
		free(devs);
	} else {
		rc = connect_one(&r, &a.bdf, tsm, a.json, out, NULL);
	}
	if (a.json)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	cli_sysroot_close(&r);
	return rc;
}

const struct cli_cmd cli_cmd_connect = {
	.name = "connect",
	.args = "BDF|--all [--sysfs DIR] [--tsm tsmN] [--json] | tcp:HOST:PORT [--trust FILE] "
		"[--stream-id N] [--port-index N] [--device BDF [--sysfs DIR]] [--hold SEC] "
		"[--pcap FILE]",
	.summary = "connect devices to the TSM (SPDM session and IDE stream), as tsm/connect does",
	.run = connect_main,
};
