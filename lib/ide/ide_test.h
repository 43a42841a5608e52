/* SPDX-License-Identifier: MIT */
/*
 * TEST ONLY: what a KEY_PROG with a chosen IFV would leave in a slot, without the key bytes the
 * test does not have (the firmware made them). Tests of the key lifetime policy (docs/tsm.md "Key
 * lifetime") use it to put a connected stream's invocation counters just below the limit of
 * PCIe 6.x §6.33 (the counter never wraps) without sending 2^64 TLPs. Not part of include/pcitsm:
 * no library or program file includes it.
 */
#ifndef PCITSM_IDE_TEST_H
#define PCITSM_IDE_TEST_H

#include "pcitsm/ide.h"

/* The slot (stream_id, kset, dir, sub) continues at invocation counter ifv, as if KEY_PROG had
 * delivered its key with that IFV. E_STATE for a slot that is not valid; E_FIELD for 0 or
 * UINT64_MAX (as pcitsm_ide_key_prog_aes); E_NOTFOUND for an unknown stream. */
pcitsm_err pcitsm_ide_test_slot_ifv(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
				    enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub, uint64_t ifv)
	PCITSM_MUST_CHECK;

#endif
