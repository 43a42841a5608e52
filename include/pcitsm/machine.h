/* SPDX-License-Identifier: MIT */
/*
 * An emulated machine: lib/emu's platform, its devices (every endpoint's responders and the trust
 * store holding their roots), the platform-firmware TSM and the PCI/TSM core over them, made in
 * the order platform boot makes them and taken down in reverse. The one assembly of these parts,
 * for pcitsmd, the CLI's embedded platform, the benches and the tests (docs/architecture.md
 * "Modules and their dependencies"): it names the device side and the TSM together, which
 * neither may do (lib/emu knows no TSM; the TSM gets the platform as ops, platform.h).
 *
 * A machine is made part by part (enum pcitsm_machine_part), as far as a caller needs: the CLI
 * stops at the devices, a test that sets registers up as firmware would before the core starts
 * makes the firmware, does its work, then makes the core.
 */
#ifndef PCITSM_MACHINE_H
#define PCITSM_MACHINE_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/emu.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"

/* The parts, in the order they are made. */
enum pcitsm_machine_part {
	PCITSM_MACHINE_PLATFORM, /* lib/emu's hierarchy: root ports, endpoints, links */
	PCITSM_MACHINE_TRUST,    /* the trust store for the devices' roots (only with devices) */
	PCITSM_MACHINE_DEVICES,  /* every endpoint's responders (pcitsm_emu_devices_new) */
	PCITSM_MACHINE_FIRMWARE, /* the platform-firmware TSM (TIO_INIT) */
	PCITSM_MACHINE_CORE,     /* the PCI/TSM core; tsm0 is SEV-TIO over the firmware */
};

struct pcitsm_machine_cfg {
	const struct pcitsm_env *env;
	const struct pcitsm_emu_config *plat;      /* NULL: pcitsm_emu_config_default */
	const struct pcitsm_emu_devices_cfg *devs; /* NULL: no responders and no trust store */
	/* The firmware's configuration (faults, key policy); the machine sets env, the root ports'
	 * key path, and trust: the devices' roots, or none with no_anchors (every chain is then
	 * untrusted). */
	struct pcitsm_tio_cfg fw;
	bool no_anchors;
	/* The core's (nr_streams, relay_tap); the machine sets env, plat, backend, backend_arg. */
	struct pcitsm_tsm_core_cfg core;
};
/* The default machine over env: the default platform, no devices, the firmware's and the core's
 * defaults (pcitsm_tsm_core_cfg_default). Start every configuration here. */
void pcitsm_machine_cfg_default(struct pcitsm_machine_cfg *cfg, const struct pcitsm_env *env);

struct pcitsm_machine {
	struct pcitsm_emu_platform plat;
	struct pcitsm_trust *trust;       /* NULL without devices */
	struct pcitsm_emu_devices *devs;  /* NULL without devices */
	struct pcitsm_tio_fw *fw;
	struct pcitsm_tsm_core *core;
	unsigned made; /* parts made: PCITSM_MACHINE_PLATFORM .. made - 1 */
};

/* Make m's parts that are not made yet, in order, up to and including upto, from cfg (the same cfg
 * on every call for one machine; m zeroed before the first). On failure the parts made stay, for
 * pcitsm_machine_free, and *failed (if not NULL) names the part that failed. */
pcitsm_err pcitsm_machine_build(struct pcitsm_machine *m, const struct pcitsm_machine_cfg *cfg,
				enum pcitsm_machine_part upto, enum pcitsm_machine_part *failed)
	PCITSM_MUST_CHECK;
/* Take m's parts from `from` on down, the last made first (the core disconnects every device);
 * pcitsm_machine_build makes them again. */
void pcitsm_machine_teardown(struct pcitsm_machine *m, enum pcitsm_machine_part from);
/* All of it: m is zeroed, as before its first build. */
void pcitsm_machine_free(struct pcitsm_machine *m);

#endif
