/* SPDX-License-Identifier: MIT */
/*
 * pcitsmd's command line: what the emulated platform looks like (root ports, identities, faults),
 * where the mirror is mounted, TCP device ports, and how the caller learns the mount is ready.
 * Parsing only: no I/O, so the unit tests drive it directly (tests/unit/test_pcitsmd_opts.c).
 */
#ifndef PCITSMD_OPTS_H
#define PCITSMD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pcitsm/core.h"
#include "pcitsm/emu.h"
#include "pcitsm/pci.h"
#include "pcitsm/tsm.h"

#define PD_MAX_DEVPORTS PCITSM_EMU_MAX_PORTS
#define PD_MAX_FAULTS 32

/* --device-port BDF=HOST:PORT: serve that endpoint's DOE instance in the spdm-emu protocol. */
struct pd_devport {
	struct pcitsm_bdf bdf;
	char host[128];
	char port[8];
};

/* --fault BDF=NAME: a device fault; --fault tsm0=NAME: a firmware (TSM) fault. Names are in the
 * fault table (model.c). */
struct pd_fault {
	bool fw;               /* target "tsm0" */
	struct pcitsm_bdf bdf; /* device target */
	char name[32];
};

struct pd_opts {
	const char *mountpoint;
	unsigned nr_ports;      /* root ports, each with one endpoint (1..PCITSM_EMU_MAX_PORTS) */
	unsigned nr_streams;    /* host-bridge stream pool (0..256; 0: available_secure_streams ENXIO) */
	const char *identity_dir; /* NULL: a fresh identity per endpoint */
	bool foreground;
	bool debug;             /* FUSE debug output (implies foreground) */
	const char *pidfile;
	int ready_fd;           /* -1: none; else "READY\n" is written there once mounted */
	unsigned port_base;     /* 0: none; else endpoint i is served on port_base + i */
	const char *port_host;  /* host for --port-base (default 127.0.0.1) */
	struct pd_devport devports[PD_MAX_DEVPORTS];
	unsigned nr_devports;
	struct pd_fault faults[PD_MAX_FAULTS];
	unsigned nr_faults;
	uint8_t spdm_version;   /* --version V: the devices offer only SPDM V (0: 1.0-1.3) */
	bool no_doe_features;   /* --no-doe-features: no doe_features/ (a kernel before 6.15) */
	const char *sva_socket; /* --sva-socket PATH: the example SVA devices (NULL: none) */
	unsigned sva_devices;   /* --sva-devices N (default 2) */
	unsigned nr_vfs;        /* --vfs N: functions 1..N of the first endpoint, each a TDI */
	/* The firmware TSM's key lifetime policy (docs/tsm.md "Key lifetime"): --key-max-tlps N
	 * (0..2^48; with --key-max-age 0 too, no automatic refresh) and --key-max-age SECONDS
	 * (0: no age limit). */
	uint64_t key_max_tlps;
	unsigned key_max_age_s;
	const char *tap_dir;    /* --tap DIR: a pcap of every link's TLPs (tap.h; NULL: none) */
};

void pd_opts_default(struct pd_opts *o);
/* Parse argv. 0 on success; -1 with a message in err on a usage error; 1 when --help or
 * --version was given (text already printed to stdout). */
int pd_opts_parse(struct pd_opts *o, int argc, char **argv, char *err, size_t errlen);
/* "0000:01:00.0=127.0.0.1:2323" or "0000:01:00.0=[::1]:2323". */
pcitsm_err pd_parse_devport(const char *s, struct pd_devport *out) PCITSM_MUST_CHECK;
/* "0000:01:00.0=bad-signature" or "tsm0=fail-after-key_prog". The name is checked against the fault table by the caller. */
pcitsm_err pd_parse_fault(const char *s, struct pd_fault *out) PCITSM_MUST_CHECK;
/* A decimal in [0, max] of up to 19 digits. */
pcitsm_err pd_parse_u64(const char *s, uint64_t max, uint64_t *out) PCITSM_MUST_CHECK;
/* A decimal in [min, max]. */
pcitsm_err pd_parse_uint(const char *s, unsigned min, unsigned max,
			 unsigned *out) PCITSM_MUST_CHECK;

void pd_usage(FILE *out);

#endif
