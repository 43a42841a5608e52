/* SPDX-License-Identifier: MIT */
/*
 * One device's TSM state as a sysfs root shows it (shared by status, connect, disconnect, rekey):
 * the kernel's attributes (tsm/connect, authenticated, tsm/dsm, tsm/bound), the registered stream
 * (the host bridge's streamH.R.E link that points at the device), the stream's Selective IDE
 * registers at both ends read from their config files, and the mirror's project status when there
 * is one.
 */
#ifndef PCITSM_CLI_TSMSTAT_H
#define PCITSM_CLI_TSMSTAT_H

#include <json-c/json.h>
#include <stdio.h>

#include "sysroot.h"

struct cli_port_state {
	bool found;       /* the block was read */
	bool has_bdf;     /* the port is known (the root port: its directory is a PCI function) */
	struct pcitsm_bdf bdf;
	unsigned block;   /* selective block index (R or E) */
	bool enabled;
	unsigned state;   /* 0 Insecure, 2 Secure */
	unsigned stream_id;
	char why[96];     /* why it was not read */
};

struct cli_dev_status {
	struct pcitsm_bdf bdf;
	bool exists;
	bool has_connect, has_auth, has_dsm, has_bound;
	char connect[32], authenticated[32], dsm[32], bound[32];
	/* The proposed TDISP files (tsm/lock holder, tsm/accept) and the TDI state the project
	 * status shows (tdi_state). */
	bool has_lock, has_accept;
	char lock[32], accept[32], tdi_state[32];
	bool has_stream;          /* a streamH.R.E link points at the device */
	char stream[32];
	unsigned h, r, e;
	struct cli_port_state rp, ep;
	char *proj;               /* the project directory's status text, or NULL */
};

void cli_dev_status_read(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
			 struct cli_dev_status *s);
void cli_dev_status_free(struct cli_dev_status *s);
json_object *cli_dev_status_json(const struct cli_dev_status *s);
void cli_dev_status_print(const struct cli_dev_status *s, bool verbose);
const char *cli_ide_state_word(unsigned state);
/* The project status's last_failure_* lines, readable, to out. */
void cli_failure_print(FILE *out, const char *proj, const char *indent);
/* What a connect / disconnect errno means at the kernel ABI (Linux
 * Documentation/ABI/testing/sysfs-bus-pci). */
const char *cli_connect_errno_meaning(int err);
const char *cli_disconnect_errno_meaning(int err);

/* `echo TSM > BDF/tsm/connect` (cmd_connect.c), then the result: with json an object appended to
 * out (nothing printed), else the stream's state at both ends on stdout and a failure's errno
 * meaning and the failed step on stderr. 0 or CLI_EXIT_FAIL. */
int cli_connect_one(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *tsm,
		    bool json, json_object *out);
/* `echo NAME > BDF/tsm/disconnect` with the name tsm/connect shows (or tsm_opt) (cmd_disconnect.c):
 * 0, or the errno's meaning printed and CLI_EXIT_FAIL. quiet_if_idle: 0 at once when not
 * connected; quiet: no line on stdout. */
int cli_disconnect_one(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
		       const char *tsm_opt, bool quiet_if_idle, bool quiet);

/* pcitsm connect tcp:HOST:PORT [OPTIONS] (connect_tcp.c). */
int cli_connect_tcp(const char *target, int argc, char **argv);

#endif
