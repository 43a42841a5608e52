/* SPDX-License-Identifier: MIT */
/* Shared between the lib/doe sources; not part of the API. */
#ifndef PCITSM_DOE_INTERNAL_H
#define PCITSM_DOE_INTERNAL_H

#include "pcitsm/doe.h"

/* Decode the two header DWs (PCIe 6.x §6.30.1): E_RESERVED for reserved bits, E_FIELD for Length
 * 1. */
pcitsm_err pcitsm_doe_hdr_decode(uint32_t dw0, uint32_t dw1, struct pcitsm_doe_hdr *hdr)
	PCITSM_MUST_CHECK;
/* The Length field for an object of len_dw DWs (2^18 is encoded as 0). */
uint32_t pcitsm_doe_len_field(uint32_t len_dw);

/* Discovery DW2 of request and response (PCIe 6.x §6.30.1.1). */
#define PCITSM_DOE_DISC_INDEX_MASK 0xffu
#define PCITSM_DOE_DISC_VER_SHIFT 8
#define PCITSM_DOE_DISC_VER2 2u
#define PCITSM_DOE_DISC_NEXT_SHIFT 24
#define PCITSM_DOE_DISC_TYPE_SHIFT 16
#define PCITSM_DOE_DISC_BAD_VID 0xffffu

#endif
