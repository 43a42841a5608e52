/* SPDX-License-Identifier: MIT */
/* Fuzz the spdm-emu server's DECAP_TDISP answer (pcitsm_spdmemu_decap_tdisp_dsm): a bare TDISP
 * request from any socket peer, outside any session. Whatever comes in, one well-formed TDISP
 * answer goes out -- the state of a TDI the DSM hosts, or TDISP_ERROR -- and no TDI's state
 * changes. Corpus: tests/fuzz/gen_tdisp_sva_corpus.py. */
#include <stdlib.h>

#include "pcitsm/idekm.h"
#include "pcitsm/tdisp.h"
#include "pcitsm/transport.h"

static struct {
	struct pcitsm_env_test env;
	struct pcitsm_idekm_rsp km;
	struct pcitsm_tdisp_dsm dsm;
	struct pcitsm_tdisp_ifdesc desc;
	bool ready;
} fz;

static void setup(void)
{
	pcitsm_env_test_init(&fz.env, 1);
	pcitsm_idekm_rsp_init(&fz.km, &fz.env.env);
	fz.desc.bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, false };
	fz.desc.nr_bars = 1;
	if (pcitsm_tdisp_dsm_init(&fz.dsm, &fz.env.env, &fz.km, NULL) ||
	    pcitsm_tdisp_dsm_add_tdi(&fz.dsm, 0x0100, 0x0100, &fz.desc) ||
	    pcitsm_tdisp_dsm_add_tdi(&fz.dsm, 0x0101, 0x0100, &fz.desc))
		abort();
	pcitsm_tdisp_dsm_find(&fz.dsm, 0x0101)->state = PCITSM_TDISP_RUN;
	fz.ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[256];
	const struct pcitsm_tdisp_tdi *t;
	struct pcitsm_tdisp_msg m;
	struct pcitsm_wr w;

	if (!fz.ready)
		setup();
	pcitsm_wr_init(&w, out, sizeof(out));
	if (pcitsm_spdmemu_decap_tdisp_dsm(&fz.dsm, data, size, &w) ||
	    pcitsm_tdisp_decode(out, pcitsm_wr_len(&w), &m))
		abort();
	if (m.code == PCITSM_TDISP_TDISP_ERROR)
		goto states;
	t = pcitsm_tdisp_dsm_find(&fz.dsm, m.function_id);
	if (m.code != PCITSM_TDISP_DEVICE_INTERFACE_STATE || !t || m.u.state != t->state)
		abort();
states:
	if (pcitsm_tdisp_dsm_find(&fz.dsm, 0x0100)->state != PCITSM_TDISP_CONFIG_UNLOCKED ||
	    pcitsm_tdisp_dsm_find(&fz.dsm, 0x0101)->state != PCITSM_TDISP_RUN)
		abort();
	return 0;
}
