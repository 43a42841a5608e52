/* SPDX-License-Identifier: MIT */
/*
 * The embedded emulated platform as the CLI uses it: the emulated machine (machine.h) up to its
 * devices, that is lib/emu's hierarchy with its device responders (pcitsm_emu_devices_new: a
 * generated identity, an SPDM responder with sessions and the IDE_KM handler on every endpoint),
 * and the trust store holding those identities' roots (what the platform's TSM trusts).
 * `--platform emu` on any command, and `make run`.
 */
#ifndef PCITSM_CLI_PLATFORM_H
#define PCITSM_CLI_PLATFORM_H

#include "pcitsm/machine.h"

/* HeartbeatPeriod the emulated endpoints offer in KEY_EXCHANGE_RSP (docs/sessions.md). */
#define CLI_EMU_HEARTBEAT_PERIOD 10

struct cli_platform {
	struct pcitsm_machine m; /* made up to PCITSM_MACHINE_DEVICES */
};

/* Build the default platform; every endpoint gets a fresh ECDSA P-384 identity, or the identity in
 * identity_dir when given (then all endpoints share it). Allocated: free with cli_platform_close. */
pcitsm_err cli_platform_open(struct cli_platform **p, const char *identity_dir,
			     const struct pcitsm_env *env) PCITSM_MUST_CHECK;
void cli_platform_close(struct cli_platform *p);
/* The endpoint at bdf, or NULL. */
struct pcitsm_emu_func *cli_platform_endpoint(struct cli_platform *p, const struct pcitsm_bdf *bdf);

#endif
