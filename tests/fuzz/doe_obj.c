/* SPDX-License-Identifier: MIT */
/* Fuzz: the DOE object parser, and a device (Discovery + one echo protocol) serving the input as
 * a request object, whose response must itself parse. */
#include <stdlib.h>

#include "pcitsm/doe.h"

static pcitsm_err echo(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	size_t n = req_len < rsp_cap ? req_len : rsp_cap;

	for (size_t i = 0; i < n; i++)
		rsp[i] = req[i];
	*rsp_len = n;
	return PCITSM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_doe_handler cma = { .vid = 1, .type = 1, .handle = echo };
	static uint8_t rsp[4096];
	struct pcitsm_doe_hdr hdr;
	struct pcitsm_doe_dev d;
	const uint8_t *pl;
	size_t plen, n;

	if (pcitsm_doe_obj_parse(data, size, &hdr, &pl, &plen) == PCITSM_OK &&
	    (plen != size - 8 || hdr.len_dw * 4u != size))
		abort();
	pcitsm_doe_dev_init(&d, size && (data[0] & 1) ? 2 : 1);
	if (pcitsm_doe_dev_register(&d, &cma))
		abort();
	if (pcitsm_doe_dev_dispatch(&d, data, size, rsp, sizeof(rsp), &n) == PCITSM_OK &&
	    (pcitsm_doe_obj_parse(rsp, n, &hdr, &pl, &plen) || hdr.vid != pcitsm_get_le16(data)))
		abort();
	return 0;
}
