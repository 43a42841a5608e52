/* SPDX-License-Identifier: MIT */
/* Shared between the lib/pci sources; not part of the API. */
#ifndef PCITSM_PCI_INTERNAL_H
#define PCITSM_PCI_INTERNAL_H

#include "pcitsm/pci.h"

/* An extended capability of len bytes with ID want at off (>= 0x100, DW aligned, inside config
 * space: E_RANGE; another ID: E_FIELD). *hdr receives its header. */
pcitsm_err pcitsm_pci_ecap_check(struct pcitsm_cfg *cfg, uint16_t off, uint32_t len, uint16_t want,
				 uint32_t *hdr) PCITSM_MUST_CHECK;

#endif
