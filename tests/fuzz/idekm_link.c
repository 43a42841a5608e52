/* SPDX-License-Identifier: MIT */
/* Fuzz the one IDE_KM programming sequence (pcitsm_idekm_program_link) and its stop: every
 * device answer comes from the input, as records (u16 LE length, response bytes); byte 0 picks the
 * PortIndex (bit 0) and whether QUERY runs (bit 1). The partner port accepts everything. The
 * sequence either succeeds with six slots at both ends or fails naming a step; never crashes. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/idekm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pcitsm_err device_call(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct pcitsm_rd *rd = arg;
	size_t n;

	(void)req;
	(void)len;
	if (pcitsm_rd_left(rd) < 2)
		return PCITSM_E_NORESPONSE;
	n = pcitsm_rd_le16(rd); /* read once: PCITSM_MIN evaluates its arguments twice */
	n = PCITSM_MIN(n, pcitsm_rd_left(rd));
	pcitsm_wr_bytes(rsp, pcitsm_rd_bytes(rd, n), n);
	return PCITSM_OK;
}

static pcitsm_err partner_key_prog(void *arg, uint8_t stream_id, unsigned kset,
				   enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				   const uint8_t key[32], const uint8_t ifv[8])
{
	(void)arg, (void)stream_id, (void)kset, (void)dir, (void)sub, (void)key, (void)ifv;
	return PCITSM_OK;
}

static pcitsm_err partner_k_set(void *arg, uint8_t obj, uint8_t stream_id, unsigned kset,
				enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	(void)arg, (void)obj, (void)stream_id, (void)kset, (void)dir, (void)sub;
	return PCITSM_OK;
}

static const struct pcitsm_idekm_partner_ops partner = {
	.key_prog = partner_key_prog,
	.k_set = partner_k_set,
};

static const struct pcitsm_idekm_link_ops ops = {
	.device_call = device_call,
	.partner = &partner,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_idekm_link_opts o = { .stream_id = 1 };
	struct pcitsm_idekm_link_result res;
	struct pcitsm_idekm_req rq;
	struct pcitsm_env_test env;
	struct pcitsm_rd rd;
	pcitsm_err e;

	if (size < 1)
		return 0;
	o.port_index = data[0] & 1;
	o.query = data[0] & 2;
	pcitsm_env_test_init(&env, 9);
	env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_idekm_req_init(&rq);
	pcitsm_rd_init(&rd, data + 1, size - 1);
	e = pcitsm_idekm_program_link(&rq, &env.env, &ops, &rd, &o, &res);
	if (!e && (res.dev_keyed != 6 || res.partner_keyed != 6))
		abort();
	if (e && !res.why[0])
		abort();
	if (res.partner_keyed > res.dev_keyed)
		abort();
	e = pcitsm_idekm_stop_link(&rq, &env.env, &ops, &rd, &o, res.dev_keyed, res.partner_keyed);
	if (e == PCITSM_E_INVAL)
		abort();
	return 0;
}
