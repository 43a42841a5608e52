/* SPDX-License-Identifier: MIT */
/*
 * The sysfs root the TSM commands (connect, disconnect, status, rekey, traffic) work on:
 *   --sysfs DIR            that directory (a pcitsmd mirror, or a copy of /sys);
 *   $PCITSM_SYSFS          the same, from the environment (a script that started pcitsmd once);
 *   /sys                   when the kernel has a TSM (/sys/class/tsm/tsm* exists);
 *   the embedded platform  otherwise: pcitsmd started on a private mount (a private mount
 *                          namespace when unshare works, else a temporary directory), stopped
 *                          and removed when the command ends.
 * And the files below it: the kernel's attributes and the mirror's project directory pcitsm/.
 */
#ifndef PCITSM_CLI_SYSROOT_H
#define PCITSM_CLI_SYSROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pcitsm/pci.h"

struct cli_sysroot {
	char root[2048];
	bool embedded;  /* pcitsmd started by us */
	pid_t pid;
	bool private_ns;
};

/* Choose or start the root. On failure prints why and returns false. */
bool cli_sysroot_open(struct cli_sysroot *r, const char *sysfs_opt);
/* The embedded platform, its links captured into tap_dir (pcitsmd --tap, docs/tap.md): false
 * (why printed, naming cmd) where the root would be another (PCITSM_SYSFS, a kernel TSM). */
bool cli_sysroot_open_tap(struct cli_sysroot *r, const char *cmd, const char *tap_dir);
/* Stop an embedded pcitsmd and remove its mount point. */
void cli_sysroot_close(struct cli_sysroot *r);

/* <root>/bus/pci/devices/<bdf>/<rel> into buf (rel NULL: the device's directory); false if it
 * does not fit. */
bool cli_dev_path(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *rel,
		  char *buf, size_t len);
/* Read a small text attribute (trailing newline removed). Returns 0 or -errno. */
int cli_attr_read(const char *path, char *buf, size_t len);
/* Write an attribute the way `echo VALUE > path` does: one write(2) of "VALUE\n". 0 or -errno. */
int cli_attr_write(const char *path, const char *value);
/* The first TSM class device's name ("tsm0"), or false if the root has none. */
bool cli_first_tsm(const struct cli_sysroot *r, char *name, size_t len);
/* Whether the root has the mirror's project directory (pcitsm/). */
bool cli_has_project(const struct cli_sysroot *r);
/* <root>/pcitsm/devices/<bdf>/<file>. */
bool cli_proj_path(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *file,
		   char *buf, size_t len);
/* Look up key in a key=value text (as the project directory's files are); false if absent. */
bool cli_kv_get(const char *text, const char *key, char *val, size_t len);
/* Every function under bus/pci/devices with tsm/connect, sorted by address. Directory names that
 * are not PCI addresses are skipped. Returns the count (at most max). */
size_t cli_tsm_devices(const struct cli_sysroot *r, struct pcitsm_bdf *out, size_t max);
/* The same over the functions that have at least one of the files any[] (relative to the
 * device's directory, NULL-terminated). */
size_t cli_pci_functions(const struct cli_sysroot *r, const char *const *any,
			 struct pcitsm_bdf *out, size_t max);

/* PCI addresses are parsed once, where they enter (an argument, a sysfs directory name), travel
 * inward as struct pcitsm_bdf, and are formatted only for paths and output. */
/* A BDF argument of command cmd ("0000:01:00.0", hex in either case); on a bad address prints
 * "pcitsm: CMD: 'ARG' is not a PCI address: WHY" and returns false. */
bool cli_bdf_arg(const char *cmd, const char *arg, struct pcitsm_bdf *out);
/* The address as sysfs names it ("0000:01:00.0"), for paths and output: cli_bdf_name(&b).s is
 * valid until the end of the full expression that calls it. */
/* The one operand of cmd, a PCI address, at argv[at] (the last argument): 0 with *out set; else
 * the usage or the reason naming a bad address is printed and the result is CLI_EXIT_USAGE. */
int cli_bdf_operand(const char *cmd, int argc, char **argv, int at, struct pcitsm_bdf *out);
/* The arguments of connect and disconnect: BDF|--all [--sysfs DIR] [--tsm tsmN], and --json when
 * json_ok. 0, or (usage or the reason for a bad address printed) CLI_EXIT_USAGE. */
struct cli_dev_args {
	bool all, json;
	const char *sysfs, *tsm;
	struct pcitsm_bdf bdf; /* the device, when not all */
};
int cli_dev_args_parse(const char *cmd, bool json_ok, int argc, char **argv,
		       struct cli_dev_args *a);
/* Open the root for a command that needs the mirror's project directory (pcitsm/): 0, or the
 * failure printed ("CMD: ROOT has no pcitsm/ project directory: KERNEL_LACKS; CMD needs the
 * emulated platform ...") and CLI_EXIT_FAIL with nothing left open. */
int cli_project_open(struct cli_sysroot *r, const char *sysfs, const char *cmd,
		     const char *kernel_lacks);
struct cli_bdf_name {
	char s[13];
};
struct cli_bdf_name cli_bdf_name(const struct pcitsm_bdf *bdf);
/* qsort order of struct pcitsm_bdf: segment, bus, device, function (sysfs's name order). */
int cli_bdf_cmp(const void *a, const void *b);
/* Monotonic milliseconds, for the commands' step timings. */
double cli_now_ms(void);
/* A progress line for work over many devices ("[ 17/255] connect 0000:11:00.0"), redrawn in place
 * on stderr, only when stderr is a terminal and the output is not JSON: nothing extra otherwise.
 * Clear it before printing anything else. */
struct cli_progress {
	bool on;
	size_t total;
};
void cli_progress_init(struct cli_progress *p, size_t total, bool json);
void cli_progress_show(struct cli_progress *p, size_t done, const char *verb,
		       const struct pcitsm_bdf *bdf);
void cli_progress_clear(struct cli_progress *p);

#endif
