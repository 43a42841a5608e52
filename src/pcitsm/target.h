/* SPDX-License-Identifier: MIT */
/*
 * A TARGET on the command line, opened as a DOE transport:
 *   DDDD:BB:DD.F    the function's `config` file under the sysfs root (default /sys; --sysfs DIR),
 *                   driven through its DOE mailbox that supports CMA-SPDM;
 *   tcp:HOST:PORT   a device served in the DMTF spdm-emu protocol (IPv6: tcp:[::1]:2323);
 *   DDDD:BB:DD.F with --platform emu: an endpoint of the embedded emulated platform, driven
 *                   through its DOE mailbox in its emulated config space (the same host driver).
 * With a pcap path every DOE object crossing the transport is captured (LINKTYPE_PCI_DOE).
 */
#ifndef PCITSM_CLI_TARGET_H
#define PCITSM_CLI_TARGET_H

#include "pcitsm/capture.h"
#include "pcitsm/doe.h"
#include "pcitsm/pci.h"
#include "pcitsm/transport.h"

#define CLI_SYSFS_DEFAULT "/sys"

/* The sysfs root a command reads: --sysfs (opt), else $PCITSM_SYSFS, else CLI_SYSFS_DEFAULT. Every
 * command resolves it here, so one exported PCITSM_SYSFS points all of them at a pcitsmd mirror. */
const char *cli_sysfs_root(const char *opt);

struct cli_target_opts {
	const char *sysfs_root; /* NULL: cli_sysfs_root(NULL) */
	const char *pcap_path; /* NULL: no capture */
	const char *platform; /* NULL, or "emu": the embedded emulated platform */
	uint64_t timeout_ns; /* TCP receive timeout; 0: the transport's default */
	bool tcp_shutdown; /* send SHUTDOWN to a tcp: server when done */
};

enum cli_target_kind {
	CLI_TARGET_SYSFS,
	CLI_TARGET_TCP,
	CLI_TARGET_EMU,
};

struct cli_platform;

struct cli_target {
	enum cli_target_kind kind;
	struct cli_platform *plat; /* CLI_TARGET_EMU: the embedded platform, owned */
	struct pcitsm_xport *x; /* the transport to use, once open */
	struct pcitsm_xport_tcp tcp;
	struct pcitsm_cfg_file cfg;
	bool cfg_open;
	struct pcitsm_doe_host host;
	struct pcitsm_pcap pcap;
	bool pcap_open;
	char name[160]; /* "doe:0000:01:00.0", "tcp:127.0.0.1:2323" */
	char why[224];  /* a failure's step when it needs words of its own ("connection refused") */
};

/* Open target. On failure *why names the step ("open config", "find a CMA mailbox", "connect")
 * and nothing stays open. */
pcitsm_err cli_target_open(const char *target, const struct cli_target_opts *o,
			   const struct pcitsm_env *env, struct cli_target *t,
			   const char **why) PCITSM_MUST_CHECK;
/* Close the transport and the capture; returns the capture's first write error, if any. */
pcitsm_err cli_target_close(struct cli_target *t) PCITSM_MUST_CHECK;

/* Split "HOST:PORT" ("[v6]:PORT" allowed) into host and port buffers. */
pcitsm_err cli_split_hostport(const char *s, char *host, size_t host_len, char *port,
			      size_t port_len) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * SPDM authentication of a target, shared by `auth` and `evidence`.
 */
#include <json-c/json.h>

#include "pcitsm/spdm_driver.h"

struct cli_spdm_run {
	const char *target;
	struct cli_target_opts topts;
	const char *trust_path; /* NULL: the chain is reported, not validated */
	struct pcitsm_spdm_auth_opts auth;
	struct pcitsm_trust *trust;
	struct cli_target t;
	struct pcitsm_spdm_auth_result res;
	bool target_open;
	/* --session (auth): the connection is kept in req for a secure session on it. */
	bool session;
	struct pcitsm_spdm_req req;
	bool req_ready;
	/* evidence: --bundle FILE, --eat FILE, --nonce HEX (the signed measurements' nonce). */
	const char *bundle_path, *eat_path;
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];
	bool has_nonce;
};
/* Options of the SPDM commands: TARGET [--trust FILE] [--pcap FILE] [--sysfs DIR]
 * [--platform emu] [--slot N] [--no-challenge] [--timeout SEC] [--shutdown] [--session], plus
 * --json when json is not NULL and --out DIR, --bundle FILE, --eat FILE, --nonce HEX when out_dir
 * is not NULL (evidence). Returns -1 on a usage error. */
int cli_spdm_parse(int argc, char **argv, struct cli_spdm_run *r, bool *json, const char **out_dir);
/* Load the trust anchors, open the target, authenticate. On failure prints one clear line naming
 * the target, the step and the peer's error to stderr and returns the error; res stays valid for
 * reporting. Always finish with cli_spdm_done. */
pcitsm_err cli_spdm_authenticate(struct cli_spdm_run *r,
				 const struct pcitsm_env *env) PCITSM_MUST_CHECK;
/* Close the target (reporting a pcap write error on stderr) and free everything; returns the
 * pcap error. */
pcitsm_err cli_spdm_done(struct cli_spdm_run *r) PCITSM_MUST_CHECK;
/* The result as JSON: version, capabilities, algorithms, chain subjects and validation, challenge,
 * measurement blocks, and the failure when there is one. */
json_object *cli_spdm_result_json(const struct cli_spdm_run *r);
/* The DMTF measurement value type name ("immutable ROM"), DSP0274 1.3 GET_MEASUREMENTS. */
const char *cli_meas_type_name(uint8_t type);
/* "1.2" from 0x12; buf of at least 8 bytes. */
const char *cli_spdm_version_str(uint8_t v, char *buf, size_t len);

#endif
