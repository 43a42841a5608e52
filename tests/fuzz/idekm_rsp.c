/* SPDX-License-Identifier: MIT */
/* Fuzz the IDE_KM requester's response checks and every decoder. Input: a selector byte (which
 * request is outstanding: QUERY, KEY_PROG, K_SET_GO, K_SET_STOP; its slot from the high bits),
 * then the response bytes. A QUERY_RESP that decodes is cross-checked against a fixed config space
 * and every register named. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/idekm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_cfg_emu cfg;
	static struct pcitsm_idekm_query_resp qr;
	struct pcitsm_idekm_key_prog kp;
	struct pcitsm_idekm_mismatch mm;
	struct pcitsm_idekm_req rq;
	struct pcitsm_idekm_ks ks;
	struct pcitsm_bdf bdf = { 0, 1, 0, 0 };
	uint8_t req[64], port, sel;
	struct pcitsm_wr w;
	char name[64];
	pcitsm_err e;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	/* Every decoder on the raw bytes: each accepts exactly one size. */
	if ((pcitsm_idekm_query_decode(data, size, &port) == PCITSM_OK && size != 4) ||
	    (pcitsm_idekm_ks_decode(data, size, &ks) == PCITSM_OK && size != 8) ||
	    (pcitsm_idekm_key_prog_decode(data, size, &kp) == PCITSM_OK && size != 48))
		abort();
	pcitsm_wipe(&kp, sizeof(kp));

	/* The requester with one request outstanding. */
	pcitsm_idekm_req_init(&rq);
	pcitsm_wr_init(&w, req, sizeof(req));
	memset(&kp, 0, sizeof(kp));
	kp.ks = (struct pcitsm_idekm_ks){ .stream_id = sel >> 4, .kset = sel >> 2 & 1,
					  .dir = sel >> 3 & 1, .sub = (sel >> 4) % 3 };
	switch (sel & 3) {
	case 0: e = pcitsm_idekm_req_query(&rq, sel >> 2 & 1, &w); break;
	case 1: e = pcitsm_idekm_req_key_prog(&rq, &kp, &w); break;
	case 2: e = pcitsm_idekm_req_k_set(&rq, PCITSM_IDEKM_K_SET_GO, &kp.ks, &w); break;
	default: e = pcitsm_idekm_req_k_set(&rq, PCITSM_IDEKM_K_SET_STOP, &kp.ks, &w); break;
	}
	if (e)
		abort();
	e = pcitsm_idekm_req_response(&rq, data, size, &qr);
	if (rq.pending || (e && e != PCITSM_E_PEER_ERROR && rq.err != e))
		abort();
	/* A QUERY_RESP of the wrong size is explained in words. */
	if (!(sel & 3) && (e == PCITSM_E_SHORT || e == PCITSM_E_LONG || e == PCITSM_E_RANGE)) {
		char why[256];

		pcitsm_idekm_query_resp_explain(data, size, why, sizeof(why));
		if (strncmp(why, "QUERY_RESP: ", 12))
			abort();
	}
	if (e || (sel & 3))
		return 0;
	/* A QUERY_RESP that decoded: cross-check it and name every register. */
	if (!cfg.cfg.ops) {
		pcitsm_cfg_emu_init(&cfg, PCITSM_CFG_SIZE_EXT);
		pcitsm_cfg_emu_poke(&cfg, 0x100, 4, PCITSM_ECAP_ID_IDE | 1u << 16);
		pcitsm_cfg_emu_poke(&cfg, 0x104, 4, PCITSM_IDE_CAP_SEL);
	}
	e = pcitsm_idekm_query_resp_check(&qr, &cfg.cfg, 0x100, &bdf, &mm);
	if (e != PCITSM_OK && e != PCITSM_E_MISMATCH && e != PCITSM_E_RANGE)
		abort();
	for (uint32_t off = 0; off < qr.regs_len + 8; off += 4) {
		pcitsm_idekm_qr_reg_name(&qr, off, name, sizeof(name));
		(void)pcitsm_idekm_qr_reg(&qr, off);
	}
	return 0;
}
