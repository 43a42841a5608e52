/* SPDX-License-Identifier: MIT */
/* Fuzz the IDE_KM responder: records (session byte, u16 LE length, request bytes) into one responder
 * bound to an emulated IDE capability and a real IDE engine port with Stream ID 1 configured.
 * Session byte bit 0 picks one of two sessions, bit 7 first closes the bound one, bit 5 toggles
 * whether PortIndex 0 is the function (the default accepts 0 and 1). Every request is
 * answered with an object our decoders accept (a KP_ACK may echo an unsupported sub-stream) or
 * dropped; never a peer error. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/idekm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cfg_init(struct pcitsm_cfg_emu *c)
{
	/* IDE at 0x100: 1 Link TC, 2 Selective blocks of 1 address block, IDE_KM. */
	pcitsm_cfg_emu_init(c, PCITSM_CFG_SIZE_EXT);
	pcitsm_cfg_emu_poke(c, 0x100, 4, PCITSM_ECAP_ID_IDE | 1u << 16);
	pcitsm_cfg_emu_poke(c, 0x104, 4, PCITSM_IDE_CAP_LINK | PCITSM_IDE_CAP_SEL |
					 PCITSM_IDE_CAP_IDE_KM | 1u << PCITSM_IDE_CAP_SEL_NUM_SHIFT);
	pcitsm_cfg_emu_poke(c, 0x114, 4, 1);
	pcitsm_cfg_emu_poke(c, 0x118, 4, 1u << 24);
	pcitsm_cfg_emu_poke(c, 0x134, 4, 1);
	pcitsm_cfg_emu_poke(c, 0x138, 4, 0xffu << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_cfg_emu cfg;
	static struct pcitsm_gcm *gcm;
	static uint8_t out[PCITSM_IDEKM_MSG_MAX];
	static struct pcitsm_idekm_query_resp qr;
	struct pcitsm_ide_sel sel = { .ctl = { .stream_id = 1 }, .rid_valid = true,
				      .rid_base = 8, .rid_limit = 8 };
	struct pcitsm_bdf bdf = { 0, 1, 0, 0 };
	struct pcitsm_env_test env;
	struct pcitsm_ide_port *port;
	struct pcitsm_idekm_rsp r;
	struct pcitsm_idekm_ks ks;
	struct pcitsm_rd rd;

	if (!gcm && pcitsm_gcm_new(&gcm, PCITSM_GCM_AUTO))
		abort();
	cfg_init(&cfg);
	pcitsm_env_test_init(&env, 5);
	env.env.log_level = PCITSM_LOG_ERR;
	if (pcitsm_ide_port_new(&port, gcm, &env.env, 0x100) ||
	    pcitsm_ide_stream_config(port, 0, &sel))
		abort();
	pcitsm_idekm_rsp_init(&r, &env.env);
	if (pcitsm_idekm_rsp_add_port(&r, &cfg.cfg, port, &bdf))
		abort();
	pcitsm_rd_init(&rd, data, size);
	while (pcitsm_rd_left(&rd) >= 3) {
		uint8_t s = pcitsm_rd_u8(&rd), obj;
		size_t n = pcitsm_rd_le16(&rd); /* once: PCITSM_MIN evaluates it twice */
		const uint8_t *req;
		struct pcitsm_wr w;
		pcitsm_err e;

		n = PCITSM_MIN(n, pcitsm_rd_left(&rd));
		req = pcitsm_rd_bytes(&rd, n);

		if (s & 0x80)
			pcitsm_idekm_rsp_session_closed(&r, r.session_id);
		if (s & 0x20)
			r.self_indexes ^= 1u;
		if (s & 0x40) /* Enable the stream: keys in use, KEY_PROG / K_SET_STOP refused */
			if (pcitsm_ide_stream_enable(port, 0))
				abort();
		pcitsm_wr_init(&w, out, sizeof(out));
		e = pcitsm_idekm_rsp_handle(&r, 1 + (s & 1), req, n, &w);
		if (e == PCITSM_E_NORESPONSE) {
			if (pcitsm_wr_len(&w))
				abort();
			continue;
		}
		if (e || pcitsm_idekm_peek(out, pcitsm_wr_len(&w), &obj))
			abort();
		if (obj == PCITSM_IDEKM_QUERY_RESP) {
			if (pcitsm_idekm_query_resp_decode(out, pcitsm_wr_len(&w), &qr) ||
			    pcitsm_idekm_query_resp_check(&qr, &cfg.cfg, 0x100, &bdf, NULL) ||
			    qr.port_index != req[3] || qr.max_port_index < qr.port_index)
				abort();
		} else if (pcitsm_idekm_ks_decode(out, pcitsm_wr_len(&w), &ks) &&
			   !(obj == PCITSM_IDEKM_KP_ACK && out[5] && out[6] >> 4 > 2)) {
			abort();
		}
	}
	pcitsm_ide_port_free(port);
	return 0;
}
