/* SPDX-License-Identifier: MIT */
/* Fuzz the responder's step function: a sequence of requests (u16 LE length, bytes) into one
 * responder; every answer must be a response or an ERROR. */
#include <stdlib.h>

#include "pcitsm/spdm_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_identity id;
	static bool have_id;
	struct pcitsm_env_test et;
	struct pcitsm_spdm_rsp_opts o;
	struct pcitsm_spdm_rsp s;
	static uint8_t rsp[8192];
	struct pcitsm_rd r;

	if (!have_id) {
		if (pcitsm_identity_generate(&id, 256, "fuzz") != PCITSM_OK)
			abort();
		have_id = true;
	}
	pcitsm_env_test_init(&et, 2);
	pcitsm_spdm_rsp_opts_default(&o);
	if (pcitsm_spdm_rsp_init(&s, &id, &o, &et.env) != PCITSM_OK)
		abort();
	pcitsm_rd_init(&r, data, size);
	while (pcitsm_rd_left(&r) >= 2) {
		size_t n = pcitsm_rd_le16(&r), out = 0;
		const uint8_t *req;

		n = PCITSM_MIN(n, pcitsm_rd_left(&r));
		req = pcitsm_rd_bytes(&r, n);
		pcitsm_err e = pcitsm_spdm_rsp_handle(&s, req, n, rsp, sizeof(rsp), &out);

		/* a PCI-SIG vendor-defined request outside a session is ignored */
		if (e == PCITSM_E_NORESPONSE && out == 0 && n >= 2 && req[1] == 0xfe)
			continue;
		if (e != PCITSM_OK || out < 4)
			abort();
		if (rsp[1] != PCITSM_SPDM_ERROR && (n < 2 || rsp[1] != (req[1] & 0x7f)))
			abort();
	}
	pcitsm_spdm_rsp_free(&s);
	return 0;
}
