/* SPDX-License-Identifier: MIT */
/* Fuzz the TDISP DSM with request sequences. The DSM hosts two TDIs (0x0100, 0x0101) over an
 * IDE_KM responder whose default stream 7 session 1 keyed and started. Input: records of
 * [flags][len][len bytes]; flags bit 0 picks session 1 or 2, bit 7 puts the TDI's real nonce into
 * a START. Every request gets exactly one well-formed answer about the interface asked for, and a
 * refusal never changes a TDI's state. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/idekm.h"
#include "pcitsm/tdisp.h"

static struct {
	struct pcitsm_env_test env;
	struct pcitsm_cfg_emu cfg;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *port;
	struct pcitsm_idekm_rsp km;
	struct pcitsm_tdisp_dsm dsm;
	struct pcitsm_tdisp_ifdesc desc;
} fz;

static void km_send(const uint8_t *req, size_t len)
{
	uint8_t out[64];
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, out, sizeof(out));
	if (pcitsm_idekm_rsp_handle(&fz.km, 1, req, len, &w) != PCITSM_OK)
		abort();
}

static void setup(void)
{
	struct pcitsm_ide_sel sel = { .ctl = { .default_stream = true, .stream_id = 7 },
				      .rid_valid = true, .rid_limit = 0xffff };
	struct pcitsm_bdf bdf = { 0, 1, 0, 0 };
	struct pcitsm_idekm_keys keys;
	uint8_t buf[64];
	struct pcitsm_wr w;

	pcitsm_env_test_init(&fz.env, 1);
	fz.env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_cfg_emu_init(&fz.cfg, PCITSM_CFG_SIZE_EXT);
	pcitsm_cfg_emu_poke(&fz.cfg, 0x100, 4, PCITSM_ECAP_ID_IDE | 1u << 16);
	pcitsm_cfg_emu_poke(&fz.cfg, 0x104, 4, PCITSM_IDE_CAP_SEL);
	if (pcitsm_gcm_new(&fz.gcm, PCITSM_GCM_AUTO) ||
	    pcitsm_ide_port_new(&fz.port, fz.gcm, &fz.env.env, 0x100) ||
	    pcitsm_ide_stream_config(fz.port, 0, &sel))
		abort();
	pcitsm_idekm_rsp_init(&fz.km, &fz.env.env);
	if (pcitsm_idekm_rsp_add_port(&fz.km, &fz.cfg.cfg, fz.port, &bdf) ||
	    pcitsm_idekm_keys_generate(&fz.env.env, 7, 0, &keys))
		abort();
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		struct pcitsm_idekm_key_prog kp;
		struct pcitsm_idekm_ks go = { .obj = PCITSM_IDEKM_K_SET_GO, .stream_id = 7 };

		pcitsm_wr_init(&w, buf, sizeof(buf));
		if (pcitsm_idekm_keys_key_prog(&keys, i, 0, &kp) ||
		    pcitsm_idekm_key_prog_encode(&w, &kp))
			abort();
		km_send(buf, pcitsm_wr_len(&w));
		pcitsm_idekm_keys_slot(i, &go.dir, &go.sub);
		pcitsm_wr_init(&w, buf, sizeof(buf));
		if (pcitsm_idekm_ks_encode(&w, &go))
			abort();
		km_send(buf, pcitsm_wr_len(&w));
	}
	pcitsm_idekm_keys_wipe(&keys);
	fz.desc.bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, false };
	fz.desc.nr_bars = 1;
	fz.desc.msix = true;
	fz.desc.msix_table = (struct pcitsm_tdisp_region){ 0, 0x2000, 0x100 };
	fz.desc.msix_pba = (struct pcitsm_tdisp_region){ 0, 0x3000, 8 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PCITSM_TDISP_MSG_MAX];
	struct pcitsm_tdisp_msg m;

	if (!fz.gcm)
		setup();
	if (pcitsm_tdisp_dsm_init(&fz.dsm, &fz.env.env, &fz.km, NULL) ||
	    pcitsm_tdisp_dsm_add_tdi(&fz.dsm, 0x100, 0x100, &fz.desc) ||
	    pcitsm_tdisp_dsm_add_tdi(&fz.dsm, 0x101, 0x100, &fz.desc))
		abort();
	while (size >= 2) {
		uint8_t flags = data[0], len = data[1], req[256];
		struct pcitsm_tdisp_tdi *t;
		uint8_t before[2];
		struct pcitsm_wr w;
		uint32_t fid;
		pcitsm_err e;

		data += 2;
		size -= 2;
		if (len > size)
			len = (uint8_t)size;
		memcpy(req, data, len);
		data += len;
		size -= len;
		fid = len >= 9 ? pcitsm_get_le32(req + 5) : 0;
		t = pcitsm_tdisp_dsm_find(&fz.dsm, fid);
		if (flags & 0x80 && t && len == PCITSM_TDISP_HDR_LEN + PCITSM_TDISP_NONCE_LEN)
			memcpy(req + PCITSM_TDISP_HDR_LEN, t->nonce, PCITSM_TDISP_NONCE_LEN);
		before[0] = (uint8_t)fz.dsm.tdi[0].state;
		before[1] = (uint8_t)fz.dsm.tdi[1].state;
		pcitsm_wr_init(&w, out, sizeof(out));
		e = pcitsm_tdisp_dsm_handle(&fz.dsm, (flags & 1) + 1u, req, len, &w);
		if (e == PCITSM_E_NORESPONSE && (!len || req[0] != PCITSM_TDISP_PROTOCOL_ID))
			continue;
		if (e || pcitsm_tdisp_decode(out, pcitsm_wr_len(&w), &m))
			abort();
		if (m.code == PCITSM_TDISP_TDISP_ERROR &&
		    (fz.dsm.tdi[0].state != before[0] || fz.dsm.tdi[1].state != before[1]))
			abort();
		if (m.code != PCITSM_TDISP_TDISP_ERROR && m.function_id != fid)
			abort();
		pcitsm_wipe(&m, sizeof(m));
	}
	pcitsm_tdisp_dsm_free(&fz.dsm);
	return 0;
}
