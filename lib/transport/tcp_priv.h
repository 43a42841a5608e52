/* SPDX-License-Identifier: MIT */
/* Shared between lib/transport/tcp.c (codec, protocol step, client) and tcp_server.c (the
 * server's socket loop); not part of the API. */
#ifndef PCITSM_TCP_PRIV_H
#define PCITSM_TCP_PRIV_H

#include "pcitsm/transport.h"

#define FRAME_MAX (PCITSM_SPDMEMU_FRAME_HDR_LEN + PCITSM_SPDMEMU_MAX_PAYLOAD)

/* send() all n bytes with MSG_NOSIGNAL: a peer that went away is E_CLOSED, EAGAIN (a send
 * timeout) E_TIMEOUT. */
pcitsm_err tcp_send_all(int fd, const uint8_t *p, size_t n) PCITSM_MUST_CHECK;
/* TCP_NODELAY: one frame, one segment (docs/transports.md). */
void tcp_set_nodelay(int fd);

#endif
