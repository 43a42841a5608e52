/* SPDX-License-Identifier: MIT */
/* Shared inside lib/idekm: the pieces of the codecs the requester and responder reuse. */
#ifndef PCITSM_IDEKM_PRIV_H
#define PCITSM_IDEKM_PRIV_H

#include "pcitsm/idekm.h"

/* KEY_PROG's slot bytes as they came, for the KP_ACK echo (PCIe 6.x §6.33.3): the responder answers a
 * KEY_PROG whose size or fields are wrong with a Status, echoing what it can. */
struct idekm_raw_hdr {
	uint8_t stream_id, ksub, port_index;
};
/* E_SHORT under 8 bytes, E_FIELD unless Protocol ID and object are KEY_PROG's; nothing else
 * checked. */
pcitsm_err idekm_key_prog_raw(const uint8_t *p, size_t n, struct idekm_raw_hdr *h)
	PCITSM_MUST_CHECK;
/* A KP_ACK echoing h (Key Sub-Stream with its reserved bits cleared) with Status status. */
pcitsm_err idekm_kp_ack_raw(struct pcitsm_wr *w, const struct idekm_raw_hdr *h, uint8_t status)
	PCITSM_MUST_CHECK;
/* Walk a QUERY_RESP register copy (from the IDE Capability register, n bytes) into qr's layout
 * fields (ide_cap .. sel_naddr, regs, regs_len). */
pcitsm_err idekm_regs_layout(const uint8_t *regs, size_t n, struct pcitsm_idekm_query_resp *qr)
	PCITSM_MUST_CHECK;

#endif
