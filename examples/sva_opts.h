/* SPDX-License-Identifier: MIT */
/*
 * The command line the SVA examples share (sva_copy.c, sva_tee.c): which device, and how many
 * bytes to move. Header-only, so that an example builds from its own directory with nothing but
 * the installed library (docs/install.md).
 *
 *   --socket PATH [--device N]   the emulated device N of pcitsmd --sva-socket PATH
 *   --size BYTES                 4096 .. PCITSM_SVA_LEN_MAX (default 1 MiB)
 * and, where the example takes them (sva_opts.accept):
 *   --uio BDF [--sysfs DIR]      a real function bound to uio_pci_sva (SVA_OPT_UIO)
 *   --status FILE                the endpoint's status file in pcitsmd's mirror (SVA_OPT_STATUS)
 */
#ifndef PCITSM_EXAMPLE_SVA_OPTS_H
#define PCITSM_EXAMPLE_SVA_OPTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/sva.h"

#define SVA_OPT_UIO (1u << 0)
#define SVA_OPT_STATUS (1u << 1)

struct sva_opts {
	const char *name;  /* the program, for messages */
	const char *usage; /* its usage line, after "usage: " */
	unsigned accept;   /* SVA_OPT_*: the options beyond --socket, --device and --size */
	const char *sock, *bdf, *sysfs, *status;
	unsigned index;
	size_t size;
};

/* The value after argv[*i] when the option is name and is accepted, else NULL. */
static inline const char *sva_opt_value(int argc, char **argv, int *i, const char *name,
					bool accepted)
{
	if (!accepted || !argv[*i] || strcmp(argv[*i], name) || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Parse argv into o (name, usage and accept set by the caller): 0, or 2 (the usage printed) for
 * an unknown option, no device or both kinds, or a size out of range. */
static inline int sva_opts_parse(struct sva_opts *o, int argc, char **argv)
{
	bool uio = o->accept & SVA_OPT_UIO;
	const char *v;

	o->sock = o->bdf = o->status = NULL;
	o->sysfs = "/sys";
	o->index = 0;
	o->size = 1 << 20;
	for (int i = 1; i < argc; i++) {
		if ((v = sva_opt_value(argc, argv, &i, "--socket", true)))
			o->sock = v;
		else if ((v = sva_opt_value(argc, argv, &i, "--device", true)))
			o->index = (unsigned)strtoul(v, NULL, 10);
		else if ((v = sva_opt_value(argc, argv, &i, "--size", true)))
			o->size = (size_t)strtoull(v, NULL, 0);
		else if ((v = sva_opt_value(argc, argv, &i, "--uio", uio)))
			o->bdf = v;
		else if ((v = sva_opt_value(argc, argv, &i, "--sysfs", uio)))
			o->sysfs = v;
		else if ((v = sva_opt_value(argc, argv, &i, "--status", o->accept & SVA_OPT_STATUS)))
			o->status = v;
		else {
			fprintf(stderr, "usage: %s\n", o->usage);
			return 2;
		}
	}
	if ((!o->sock == !o->bdf) || o->size < 4096 || o->size > PCITSM_SVA_LEN_MAX) {
		fprintf(stderr, "%s: give --socket%s, and a size of 4096..1 GiB\n", o->name,
			uio ? " or --uio" : "");
		return 2;
	}
	return 0;
}

#endif
