/* SPDX-License-Identifier: MIT */
/* Fuzz the SVA server's admission of a request (sva_req_admit): the bytes a local process sent on
 * the device socket, with what recvmsg() said about them (cut, and how many descriptors came
 * along). Input: byte 0 = bit 0 MSG_TRUNC, bit 1 MSG_CTRUNC, bits 2-3 the descriptor count; the
 * rest is the message. Whatever is admitted is one whole request whose descriptors are exactly
 * what its op carries, and re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sva/sva_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[SVA_REQ_SIZE];
	struct sva_req q;
	unsigned nfds;
	int flags;

	if (size < 1)
		return 0;
	flags = (data[0] & 1 ? MSG_TRUNC : 0) | (data[0] & 2 ? MSG_CTRUNC : 0);
	nfds = (data[0] >> 2) & 3;
	if (sva_req_admit(data + 1, size - 1, flags, nfds, &q) != PCITSM_OK)
		return 0;
	if (flags || size - 1 != SVA_REQ_SIZE || nfds != (q.op == SVA_OP_REGISTER))
		abort();
	sva_req_encode(&q, out);
	if (memcmp(out, data + 1, SVA_REQ_SIZE))
		abort();
	return 0;
}
