/* SPDX-License-Identifier: MIT */
/* Fuzz the requester engine: responses (u16 LE length, bytes) fed to a full authentication
 * sequence. The environment is seeded like the corpus recording, so recorded sessions replay. */
#include "pcitsm/spdm_req.h"

/* The next response from the input, or NULL when it runs out. */
static const uint8_t *next(struct pcitsm_rd *r, size_t *n)
{
	*n = pcitsm_rd_le16(r);
	*n = PCITSM_MIN(*n, pcitsm_rd_left(r));
	return pcitsm_rd_err(r) ? NULL : pcitsm_rd_bytes(r, *n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_env_test et;
	struct pcitsm_spdm_req_cfg cfg;
	struct pcitsm_spdm_req q;
	struct pcitsm_rd r;
	uint8_t buf[256];
	struct pcitsm_wr w;
	const uint8_t *p;
	size_t n;
	pcitsm_err e = PCITSM_OK;

	pcitsm_env_test_init(&et, 1);
	pcitsm_spdm_req_cfg_default(&cfg, &et.env);
	cfg.allow_untrusted = true;
	if (pcitsm_spdm_req_init(&q, &cfg) != PCITSM_OK)
		return 0;
	pcitsm_rd_init(&r, data, size);
	for (unsigned step = 0; !e && step < 64; step++) {
		pcitsm_wr_init(&w, buf, sizeof(buf));
		if (step == 0)
			e = pcitsm_spdm_req_get_version(&q, &w);
		else if (step == 1)
			e = pcitsm_spdm_req_get_capabilities(&q, &w);
		else if (step == 2)
			e = pcitsm_spdm_req_negotiate_algorithms(&q, &w);
		else if (step == 3)
			e = pcitsm_spdm_req_get_digests(&q, &w);
		else if (!pcitsm_spdm_req_chain_complete(&q))
			e = pcitsm_spdm_req_get_certificate(&q, 0, &w);
		else if (!q.challenged)
			e = pcitsm_spdm_req_challenge(&q, 0, 0xff, &w);
		else
			e = pcitsm_spdm_req_get_measurements(&q, 0xff, true, 0, &w);
		p = next(&r, &n);
		if (e || !p)
			break;
		e = pcitsm_spdm_req_feed(&q, p, n);
		if (e == PCITSM_E_PEER_BUSY)
			break;
	}
	pcitsm_spdm_req_free(&q);
	return 0;
}
