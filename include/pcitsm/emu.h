/* SPDX-License-Identifier: MIT */
/*
 * The emulated Trusted-I/O platform: one host bridge (segment, bus range, IDE stream pool), root
 * ports, and one endpoint below each root port, all with real config spaces. The IDE capability is
 * at both ends of each link; each endpoint has a DOE instance (discovery, CMA-SPDM, secured
 * CMA-SPDM) and the DEVCAP TEE-IO bit. Everything is reached through the same config-space accessor
 * that drives a real device, so the code under test cannot tell the difference.
 *
 * Facts: trusted-io-facts.md §A, §D.1; linux-tsm-abi.md §1.3, §2.
 */
#ifndef PCITSM_EMU_H
#define PCITSM_EMU_H

#include "pcitsm/core.h"
#include "pcitsm/doe.h"
#include "pcitsm/pci.h"

/* Emulated functions carry this vendor ID. It is not an assigned PCI-SIG vendor ID; a tool that sees
 * it knows it is looking at pcitsm's emulation (docs/emulated-platform.md). */
#define PCITSM_EMU_VENDOR 0x7063 /* "pc" */
#define PCITSM_EMU_DEVICE_ROOT_PORT 0x0001
#define PCITSM_EMU_DEVICE_ENDPOINT 0x0002

#define PCITSM_EMU_MAX_PORTS 16
#define PCITSM_EMU_DEFAULT_STREAMS 256 /* host-bridge pool: Linux nr_ide_streams default */

/* What an IDE capability offers. */
struct pcitsm_emu_ide_cfg {
	bool present;
	unsigned link_tcs;  /* Link IDE blocks (0: no Link IDE), at most 8 */
	unsigned nr_sel;    /* Selective IDE blocks, 1..256 */
	unsigned nr_addr;   /* address-association blocks per selective block, 0..15 */
	bool aggregation, pcrc, tee_limited, ide_km, sel_cfg, partial_hdr, flowthrough;
};

/* One root port and the endpoint below it. */
struct pcitsm_emu_link_cfg {
	struct pcitsm_emu_ide_cfg rp_ide, ep_ide;
	bool ep_tee_io;       /* DEVCAP bit 30 on the endpoint */
	bool ep_doe;          /* a DOE instance on the endpoint */
	uint8_t doe_version;  /* DOE capability version: 1 or 2 */
	bool ep_dev3;         /* a Device-3 capability on the endpoint */
};

struct pcitsm_emu_config {
	uint16_t segment;
	uint8_t root_bus;          /* the host bridge's bus (root ports live here) */
	unsigned nr_streams;       /* host-bridge stream pool size */
	unsigned nr_ports;         /* root ports, each with one endpoint on bus root_bus + 1 + i */
	struct pcitsm_emu_link_cfg ports[PCITSM_EMU_MAX_PORTS];
};

/* The default platform `make run` and `--platform emu` use: two root ports, each with a TEE-IO
 * endpoint; every IDE capability with 1 Link TC, 4 selective streams, 2 address blocks, aggregation,
 * PCRC, IDE_KM at the endpoints, TEE-limited streams, and selective IDE for config requests at the
 * root ports. */
void pcitsm_emu_config_default(struct pcitsm_emu_config *cfg);

enum pcitsm_emu_kind {
	PCITSM_EMU_ROOT_PORT,
	PCITSM_EMU_ENDPOINT,
};

/* The DOE protocols an endpoint's mailbox serves besides discovery. A later layer (the SPDM
 * responder, secured sessions) fills in the handlers; until then the endpoint discards what it
 * cannot serve, as a device with no such responder would. */
struct pcitsm_emu_func {
	struct pcitsm_bdf bdf;
	enum pcitsm_emu_kind kind;
	struct pcitsm_cfg_emu cfg;
	struct pcitsm_emu_func *upstream; /* endpoint: its root port */
	struct pcitsm_emu_func *partner;  /* root port: its endpoint; endpoint: its root port */
	uint16_t ide_off, doe_off, exp_off, dev3_off;
	/* Endpoint only. */
	struct pcitsm_doe_dev doe;
	struct pcitsm_doe_mbox mbox;
	struct pcitsm_doe_handler cma, secured_cma;
	struct pcitsm_doe_handler *cma_impl, *secured_impl; /* set by upper layers */
	/* IDE register behaviour: the stream state a block reports while enabled. Until keys are
	 * installed (a later layer sets this), every enabled stream reads Insecure. */
	uint8_t (*ide_state)(struct pcitsm_emu_func *f, unsigned sel_index);
	void *ide_state_arg;
};

struct pcitsm_emu_platform {
	struct pcitsm_emu_config config;
	unsigned nr_funcs;
	struct pcitsm_emu_func *funcs; /* root ports first, then endpoints */
	const struct pcitsm_env *env;
};

pcitsm_err pcitsm_emu_platform_init(struct pcitsm_emu_platform *p,
				    const struct pcitsm_emu_config *cfg,
				    const struct pcitsm_env *env) PCITSM_MUST_CHECK;
void pcitsm_emu_platform_free(struct pcitsm_emu_platform *p);
struct pcitsm_emu_func *pcitsm_emu_find(struct pcitsm_emu_platform *p, const struct pcitsm_bdf *bdf);
/* Number of host-bridge stream slots not in use (the `available_secure_streams` attribute): the
 * pool minus the streams found enabled in the root ports' selective blocks. */
unsigned pcitsm_emu_available_streams(struct pcitsm_emu_platform *p);

#endif /* PCITSM_EMU_H */
