/* SPDX-License-Identifier: MIT */
/*
 * pcitsmd --tap DIR: a link capture on every emulated link (lib/capture, docs/tap.md), one pcap
 * file per link named by its root port, DIR/0000:00:01.0.pcap, each TLP flushed to the file as
 * it crosses, so a reader follows the link while the daemon runs.
 */
#ifndef PCITSMD_TAP_H
#define PCITSMD_TAP_H

#include "model.h"

struct pd_tap;
/* Open DIR/<root port>.pcap for every link that has a wire and attach it, before any traffic.
 * *out NULL when dir is NULL. On failure nothing is left open and *why names what failed. */
pcitsm_err pd_tap_start(struct pd *pd, const char *dir, struct pd_tap **out, const char **why)
	PCITSM_MUST_CHECK;
/* Detach and close every capture (after the last traffic, before pd_close); logs a write error. */
void pd_tap_stop(struct pd *pd, struct pd_tap *t);

#endif
