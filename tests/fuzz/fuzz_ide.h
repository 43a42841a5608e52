/* SPDX-License-Identifier: MIT */
/* The IDE fuzz targets' port: one Secure selective stream (Stream ID 1, RID association to the
 * peer, all addresses), keys programmed and started for every sub-stream in both directions
 * (distinct per sub-stream and direction, the same at both ends of a link), then enabled. */
#ifndef PCITSM_FUZZ_IDE_H
#define PCITSM_FUZZ_IDE_H

#include <stdlib.h>

#include "pcitsm/ide.h"

static inline struct pcitsm_ide_port *fuzz_ide_port(struct pcitsm_gcm *g,
						    const struct pcitsm_env *env, uint16_t rid,
						    uint16_t peer, bool dflt, bool pcrc,
						    uint8_t agg_pr, uint8_t agg_npr)
{
	struct pcitsm_ide_sel s = { .ctl = { .stream_id = 1, .agg_pr = agg_pr, .agg_npr = agg_npr,
					     .pcrc = pcrc, .default_stream = dflt },
				    .rid_valid = true, .rid_base = peer, .rid_limit = peer,
				    .nr_addr = 1, .addr = { { true, 0, 0xffffffffull } } };
	uint8_t key[32] = { 0 };
	struct pcitsm_ide_port *p;

	if (pcitsm_ide_port_new(&p, g, env, rid) || pcitsm_ide_stream_config(p, 0, &s))
		abort();
	for (int u = 0; u < 3; u++)
		for (int d = 0; d < 2; d++) {
			key[0] = (uint8_t)(u + 1);
			key[1] = (uint8_t)(d == PCITSM_IDE_TX ? rid : peer);
			if (pcitsm_ide_key_prog_aes(p, 1, 0, d, u, key, 1) ||
			    pcitsm_ide_k_set_go(p, 1, 0, d, u))
				abort();
		}
	if (pcitsm_ide_stream_enable(p, 0))
		abort();
	return p;
}

#endif
