/* SPDX-License-Identifier: MIT */
/*
 * A TEE Device Interface as the CLI sees it (lock, unlock, report, accept, policy, status): the
 * proposed kernel files tsm/lock, tsm/unlock, tsm/accept and their errno meanings (docs/pcitsmd.md
 * "Proposal: TDISP"), and the evidence the mirror's project directory keeps of a locked function:
 * pcitsm/devices/<BDF>/evidence/report (the interface report, read again from the device),
 * report_digest and measurements (the MeasurementRecord, or a whole MEASUREMENTS response), or on
 * a real host the kernel's evidence-read over generic netlink (docs/genl.md, a proposed ABI),
 * checked here with lib/tdisp's Linux-rules checker against the guest's view of the function (its
 * `resource` file and the MSI-X capability in `config`).
 */
#ifndef PCITSM_CLI_TDI_H
#define PCITSM_CLI_TDI_H

#include <json-c/json.h>

#include "pcitsm/policy.h"
#include "pcitsm/tdisp.h"
#include "sysroot.h"

struct cli_tdi_ev {
	uint8_t report[PCITSM_TDISP_REPORT_MAX];
	size_t report_len;
	struct pcitsm_tdisp_report rep;
	uint8_t digest[PCITSM_TDISP_DIGEST_LEN]; /* SHA-384 of report, computed here */
	bool has_digest_file;                    /* evidence/report_digest was read */
	bool via_netlink;                        /* read over generic netlink, not from files */
	uint8_t *meas;                           /* the MEASUREMENTS response, malloc'd, or NULL */
	size_t meas_len;
	struct pcitsm_spdm_meas_block blocks[PCITSM_POLICY_MAX_BLOCKS];
	size_t nr_blocks;
	bool has_view;                           /* the guest's view was read */
	struct pcitsm_tdisp_ifdesc view;
	int64_t mmio_offset;                     /* status tdi_mmio_offset, else 0 */
	pcitsm_err check_err;                    /* the Linux-rules check: OK or E_FIELD/E_RANGE */
	struct pcitsm_tdisp_check_result check;
	char state[32];                          /* status tdi_state, or "" */
};

/* Read and check the evidence of bdf (need_meas: the measurements must be there too), from the
 * project directory or (netlink) the kernel's evidence-read. 0, or the reason printed as
 * "pcitsm: CMD BDF: ..." and CLI_EXIT_FAIL. Always finish with cli_tdi_free. */
int cli_tdi_read(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
		 bool need_meas, bool netlink, struct cli_tdi_ev *ev);
void cli_tdi_free(struct cli_tdi_ev *ev);
/* A whole file of at most cap bytes into a new *out (malloc'd): 0 or -errno. */
int cli_read_alloc(const char *path, size_t cap, uint8_t **out, size_t *len);

/* The evidence's report digest as it reads now, compared with ev->digest: 0 same, 1 different,
 * -errno unreadable. From the report_digest file, or (ev->via_netlink) the report read again
 * over netlink and hashed. */
int cli_tdi_digest_compare(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
			   const struct cli_tdi_ev *ev);

/* Write value to the device's tsm/<file> (lock, unlock, accept); on failure print
 * "pcitsm: CMD BDF: write VALUE to tsm/FILE: STRERROR (errno N): MEANING" and return
 * CLI_EXIT_FAIL. *ms: the write's duration. */
int cli_tdi_write(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
		  const char *file, const char *value, double *ms);
/* cli_tdi_write of name to tsm/<cmd>, then on success "BDF: DONE NAME in X ms; TDI STATE" (done:
 * "locked by", "unlocked from"); closes r either way. */
int cli_tdi_change(struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
		   const char *name, const char *done);
/* What errno err means when writing tsm/<file> (driver_bound: the function has a driver). */
const char *cli_tdi_errno_meaning(const char *file, int err, bool driver_bound);

/* The TSM to lock with: tsm_opt, else the first whose pci_mode is devsec, else the first. */
bool cli_tdi_tsm(const struct cli_sysroot *r, const char *tsm_opt, char *name, size_t len);

/* The TDI's state word from the project status ("CONFIG_LOCKED"), or "" when not shown. */
void cli_tdi_state(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, char *buf,
		   size_t len);

/* The arguments of lock, unlock, report, accept and policy make: BDF [--sysfs DIR] and those of
 * the options allowed (CLI_TDI_*) the command takes. 0, or the usage / bad address printed and
 * CLI_EXIT_USAGE. */
#define CLI_TDI_TSM 1u    /* --tsm tsmN */
#define CLI_TDI_JSON 2u   /* --json */
#define CLI_TDI_POLICY 4u /* --policy FILE */
#define CLI_TDI_OUT 8u    /* -o, --out FILE */
#define CLI_TDI_NETLINK 16u /* --netlink */
struct cli_tdi_args {
	const char *sysfs, *tsm, *policy, *out;
	bool json, netlink;
	struct pcitsm_bdf bdf;
};
int cli_tdi_args_parse(const char *cmd, unsigned allowed, int argc, char **argv,
		       struct cli_tdi_args *a);

/* The file whose presence says the kernel has the proposed TDISP support (pci_mode). */
#define CLI_TDI_DEVSEC_MODE "/sys/class/tsm/tsm0/pci_mode"
/* A real host with the proposed TDISP support: no --sysfs (sysfs_opt), no PCITSM_SYSFS, and
 * CLI_TDI_DEVSEC_MODE present. Its evidence is read over generic netlink. */
bool cli_tdi_real_host(const char *sysfs_opt);

/* bdf's evidence read into a new *ev (cli_tdi_read): on a real host (cli_tdi_real_host) or with
 * --netlink, over generic netlink with r the kernel's /sys (or --sysfs); else from the project
 * directory (docs/pcitsmd.md: the evidence pcitsmd keeps), opened into r. *ev NULL: nothing is
 * open (the reason printed, rc returned); else the caller finishes with cli_tdi_free, free and
 * cli_sysroot_close, whatever rc. */
int cli_tdi_evidence_open(struct cli_sysroot *r, const struct cli_tdi_args *a, const char *cmd,
			  bool need_meas, struct cli_tdi_ev **ev);

/* The measurement policy file (docs/policy.md), parsed into *p; false with
 * "pcitsm: CMD: policy FILE ..." printed. */
bool cli_policy_load(const char *cmd, const char *file, struct pcitsm_policy *p);
/* The relying party's decision on bdf's evidence ev (read since the lock), then `echo 1 >
 * tsm/accept`: refused (printed, CLI_EXIT_FAIL) when the TDI is not CONFIG_LOCKED, the report
 * breaks a Linux report rule, pol (when not NULL; policy_name names it) does not hold, or the
 * report changed since ev was read. quiet: no lines on stdout (failures still go to stderr). */
int cli_tdi_accept(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
		   const struct cli_tdi_ev *ev, const struct pcitsm_policy *pol,
		   const char *policy_name, bool quiet);

json_object *cli_tdi_report_json(const struct cli_tdi_ev *ev);
void cli_tdi_report_print(const struct pcitsm_bdf *bdf, const struct cli_tdi_ev *ev);
/* "BAR_BASE (range 3): the first range of a BAR is not at the BAR's base". */
void cli_tdi_check_str(const struct cli_tdi_ev *ev, char *buf, size_t len);

#endif
