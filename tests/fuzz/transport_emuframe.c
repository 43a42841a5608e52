/* SPDX-License-Identifier: MIT */
/* Fuzz the spdm-emu frame parser and the server's protocol step: any bytes as one frame, served by
 * a device with DOE discovery and a CMA handler that echoes. Deterministic. */
#include <stdint.h>
#include <string.h>

#include "pcitsm/doe.h"
#include "pcitsm/transport.h"

static pcitsm_err echo(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	if (req_len > rsp_cap)
		return PCITSM_E_NOSPC;
	memcpy(rsp, req, req_len);
	*rsp_len = req_len;
	return PCITSM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_doe_handler h = { .vid = 1, .type = 1, .handle = echo };
	struct pcitsm_spdmemu_frame_hdr fh, rh;
	struct pcitsm_spdmemu_server s;
	enum pcitsm_spdmemu_action act;
	struct pcitsm_doe_dev dev;
	const uint8_t *payload, *rp;
	struct pcitsm_wr out;

	if (pcitsm_spdmemu_frame_parse(data, size, PCITSM_SPDMEMU_MAX_PAYLOAD, &fh, &payload) !=
	    PCITSM_OK)
		return 0;
	pcitsm_doe_dev_init(&dev, 2);
	if (pcitsm_doe_dev_register(&dev, &h) != PCITSM_OK ||
	    pcitsm_spdmemu_server_init(&s, &dev, pcitsm_env_default()) != PCITSM_OK)
		return 0;
	pcitsm_wr_init(&out, s.out, PCITSM_SPDMEMU_FRAME_HDR_LEN + PCITSM_SPDMEMU_MAX_PAYLOAD);
	/* Every frame gets exactly one well-formed reply frame. */
	if (pcitsm_spdmemu_serve_frame(&s, &fh, payload, &out, &act) != PCITSM_OK ||
	    pcitsm_spdmemu_frame_parse(s.out, pcitsm_wr_len(&out), PCITSM_SPDMEMU_MAX_PAYLOAD, &rh,
				       &rp) != PCITSM_OK)
		__builtin_trap();
	pcitsm_spdmemu_server_close(&s);
	return 0;
}
