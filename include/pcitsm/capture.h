/* SPDX-License-Identifier: MIT */
/*
 * Captures of what crosses a transport (lib/capture/): a tap on struct pcitsm_xport that writes
 * every DOE object to a pcap file (docs/transports.md).
 */
#ifndef PCITSM_CAPTURE_H
#define PCITSM_CAPTURE_H

#include "pcitsm/core.h"
#include "pcitsm/transport.h"

/* pcap capture: a tap writing one packet per DOE object, link type LINKTYPE_PCI_DOE (292 in the
 * tcpdump.org link-layer registry), with a wall-clock timestamp. Link type 292 has no direction field: direction is implied by order
 * (requests and responses alternate; see docs/transports.md). The snapshot length is 65536, the
 * largest libspdm's spdm_dump accepts (it rejects a larger one in the global header); an object
 * longer than that is stored cut to its first 65536 bytes (caplen) with its true length (len), as
 * pcap allows, and counted in truncated. */
#define PCITSM_PCAP_LINKTYPE_PCI_DOE 292
#define PCITSM_PCAP_SNAPLEN 65536
struct pcap;
struct pcap_dumper;
struct pcitsm_pcap {
	struct pcitsm_xport_tap tap;
	struct pcap *pcap;
	struct pcap_dumper *dumper;
	unsigned long packets;
	unsigned long truncated; /* packets stored cut to PCITSM_PCAP_SNAPLEN */
	pcitsm_err err; /* first write error, reported by pcitsm_pcap_close */
};
pcitsm_err pcitsm_pcap_open(struct pcitsm_pcap *c, const char *path) PCITSM_MUST_CHECK;
/* Flush and close; returns the first error seen while capturing. */
pcitsm_err pcitsm_pcap_close(struct pcitsm_pcap *c) PCITSM_MUST_CHECK;

#endif /* PCITSM_CAPTURE_H */
