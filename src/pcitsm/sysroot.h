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
/* Stop an embedded pcitsmd and remove its mount point. */
void cli_sysroot_close(struct cli_sysroot *r);

/* <root>/bus/pci/devices/<bdf>/<rel> into buf; false if it does not fit. */
bool cli_dev_path(const struct cli_sysroot *r, const char *bdf, const char *rel, char *buf,
		  size_t len);
/* Read a small text attribute (trailing newline removed). Returns 0 or -errno. */
int cli_attr_read(const char *path, char *buf, size_t len);
/* Write an attribute the way `echo VALUE > path` does: one write(2) of "VALUE\n". 0 or -errno. */
int cli_attr_write(const char *path, const char *value);
/* The first TSM class device's name ("tsm0"), or false if the root has none. */
bool cli_first_tsm(const struct cli_sysroot *r, char *name, size_t len);
/* Whether the root has the mirror's project directory (pcitsm/). */
bool cli_has_project(const struct cli_sysroot *r);
/* <root>/pcitsm/devices/<bdf>/<file>. */
bool cli_proj_path(const struct cli_sysroot *r, const char *bdf, const char *file, char *buf,
		   size_t len);
/* Look up key in a key=value text (as the project directory's files are); false if absent. */
bool cli_kv_get(const char *text, const char *key, char *val, size_t len);
/* Every function under bus/pci/devices with tsm/connect, sorted. Returns the count (at most max). */
size_t cli_tsm_devices(const struct cli_sysroot *r, char (*out)[16], size_t max);
/* Canonicalise a BDF argument ("0000:01:00.0"); false on a bad address. */
bool cli_bdf_arg(const char *arg, char out[13]);
/* Monotonic milliseconds, for the commands' step timings. */
double cli_now_ms(void);

#endif
