/* SPDX-License-Identifier: MIT */
/* Shared between the IDE engine's control side (stream.c) and its data path (datapath.c). */
#ifndef PCITSM_IDE_ENGINE_H
#define PCITSM_IDE_ENGINE_H

#include "pcitsm/ide.h"

struct pcitsm_ide_stream *ide_stream_by_id(struct pcitsm_ide_port *p, uint8_t id);
void ide_slot_invalidate(struct pcitsm_ide_slot *sl);
void ide_rx_unit_reset(struct pcitsm_ide_rx_unit *u);
/* PCIe 6.x §6.33 error handling: the stream goes Insecure for `why`, keys invalidated, IDE Fail
 * queued if send_fail. */
void ide_stream_fail(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s, pcitsm_err why,
		     bool send_fail);
/* The Secure stream a plaintext TLP from the partner should have used, or -1. */
int ide_rx_owner(const struct pcitsm_ide_port *p, const struct pcitsm_tlp *t);
/* A non-posted request (Requester ID rid, Tag tag) arrived on stream idx: its completions go back
 * on it (pcitsm_ide_select). */
void ide_npr_record(struct pcitsm_ide_port *p, uint16_t rid, uint8_t tag, unsigned idx);
/* TX on a known stream (used by pcitsm_ide_tx and for IDE Sync). */
pcitsm_err ide_tx_stream(struct pcitsm_ide_port *p, int idx, struct pcitsm_ide_io *io, size_t n)
	PCITSM_MUST_CHECK;

#endif
