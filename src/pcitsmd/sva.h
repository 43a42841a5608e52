/* SPDX-License-Identifier: MIT */
/* pcitsmd --sva-socket: the example SVA DMA devices (lib/sva, docs/sva.md) beside the mirror. */
#ifndef PCITSMD_SVA_H
#define PCITSMD_SVA_H

#include "model.h"
#include "opts.h"
#include "pcitsm/sva.h"

/* Start the devices if --sva-socket was given (*out stays NULL otherwise), each an endpoint
 * function of pd's platform (function 0 of each port, then the other functions): their DMA crosses
 * that function's link, IDE-encrypted once the device is connected (docs/sva.md). The socket path
 * is made absolute first: the daemon leaves its working directory. On failure *why names the
 * step. */
pcitsm_err pd_sva_start(struct pd *pd, const struct pd_opts *o, struct pcitsm_sva_server **out,
			const char **why) PCITSM_MUST_CHECK;

#endif
