/* SPDX-License-Identifier: MIT */
/*
 * Captures (lib/capture/): one pcap writer, and two taps that feed it: every DOE object crossing
 * a transport (docs/transports.md), and every TLP crossing an emulated link (docs/tap.md).
 */
#ifndef PCITSM_CAPTURE_H
#define PCITSM_CAPTURE_H

#include "pcitsm/core.h"
#include "pcitsm/ide.h"
#include "pcitsm/pci.h"
#include "pcitsm/transport.h"

/* The writer: a pcap file of one link type, written with libpcap, one packet per call with a
 * wall-clock timestamp. The snapshot length is 65536, the largest libspdm's spdm_dump accepts
 * (it rejects a larger one in the global header); a packet longer than that is stored cut to its
 * first 65536 bytes (caplen) with its true length (len), as pcap allows, and counted in
 * truncated.
 *
 * DOE captures (pcitsm_pcap_open): link type LINKTYPE_PCI_DOE (292 in the tcpdump.org link-layer
 * registry), one packet per DOE object; the tap is the transport's observer. Link type 292 has no
 * direction field: direction is implied by order (requests and responses alternate; see
 * docs/transports.md). */
#define PCITSM_PCAP_LINKTYPE_PCI_DOE 292
#define PCITSM_PCAP_SNAPLEN 65536
struct pcap;
struct pcap_dumper;
struct pcitsm_pcap {
	struct pcitsm_xport_tap tap; /* DOE captures: set as the transport's tap */
	struct pcap *pcap;
	struct pcap_dumper *dumper;
	unsigned long packets;
	unsigned long truncated; /* packets stored cut to PCITSM_PCAP_SNAPLEN */
	pcitsm_err err; /* first write error, reported by pcitsm_pcap_close */
};
pcitsm_err pcitsm_pcap_open(struct pcitsm_pcap *c, const char *path) PCITSM_MUST_CHECK;
/* A capture of another link type (the tap is unused). */
pcitsm_err pcitsm_pcap_open_linktype(struct pcitsm_pcap *c, const char *path, uint32_t linktype)
	PCITSM_MUST_CHECK;
/* One packet; a failure is kept in c->err (the first one) for close. */
void pcitsm_pcap_write(struct pcitsm_pcap *c, const uint8_t *pkt, size_t len);
/* Push what was written to the file, so that a reader sees it now; a failure is also kept in
 * c->err. */
pcitsm_err pcitsm_pcap_flush(struct pcitsm_pcap *c);
/* Flush and close; returns the first error seen while capturing. */
pcitsm_err pcitsm_pcap_close(struct pcitsm_pcap *c) PCITSM_MUST_CHECK;

/* Reading a capture back (`pcitsm tap`): the file's link type, then its packets in order. */
struct pcitsm_pcap_in {
	struct pcap *pcap;
	uint32_t linktype;
};
/* E_SYSTEM when libpcap cannot open it as a pcap file (its reason in why). */
pcitsm_err pcitsm_pcap_in_open(struct pcitsm_pcap_in *in, const char *path, char *why,
			       size_t why_len) PCITSM_MUST_CHECK;
/* The next packet: pkt valid until the next call; caplen bytes stored of len sent; ts_us its
 * time in microseconds since the epoch. E_NOTFOUND at the end of the file, E_TRUNCATED for a
 * file cut inside a packet (libpcap's error). */
pcitsm_err pcitsm_pcap_in_next(struct pcitsm_pcap_in *in, const uint8_t **pkt, size_t *caplen,
			       size_t *len, uint64_t *ts_us) PCITSM_MUST_CHECK;
void pcitsm_pcap_in_close(struct pcitsm_pcap_in *in);

/* ---------------------------------------------------------------------------------------------
 * Link captures (docs/tap.md): every TLP an emulated link's ports put on the wire, both
 * directions, as it is on the wire (an IDE TLP: prefix, header, encrypted payload, MAC; else the
 * plaintext TLP), each behind a 16-byte record header of ours. The tcpdump.org registry has no
 * format for PCI Express TLPs (LINKTYPE_PCI_EXP, 125, is only "reserved for PCI Express", with no
 * packet layout), so the file uses a private-use link type, LINKTYPE_USER1 (148), and this
 * header, all fields big-endian:
 *
 *   byte 0      format version, 1
 *   byte 1      direction: 0 downstream (root port -> endpoint), 1 upstream
 *   bytes 2-3   reserved, 0
 *   bytes 4-7   the link's root port: segment (16 bits), bus, device << 3 | function
 *   bytes 8-15  sequence number of the TLP on this link (both directions), from 0
 *   bytes 16-   the TLP
 *
 * The time is the pcap record's. Nothing but what the ports transmit is recorded: IDE_KM keys
 * travel in the SPDM session over the DOE mailbox, never over the link.
 */
#define PCITSM_PCAP_LINKTYPE_TLP 148 /* LINKTYPE_USER1 */
#define PCITSM_TAP_REC_VERSION 1
#define PCITSM_TAP_REC_HDR 16
#define PCITSM_TAP_REC_MAX (PCITSM_TAP_REC_HDR + PCITSM_IDE_TLP_MAX)
enum pcitsm_tap_dir { PCITSM_TAP_DOWN = 0, PCITSM_TAP_UP = 1 };

struct pcitsm_link_capture {
	struct pcitsm_pcap pcap;
	struct pcitsm_bdf rp;
	uint64_t seq;
	struct pcitsm_ide_wire *wire; /* attached to, or NULL */
	uint8_t rec[PCITSM_TAP_REC_MAX];
};
/* Create the file (the capture of the link below root port rp). */
pcitsm_err pcitsm_link_capture_open(struct pcitsm_link_capture *c, const char *path,
				    const struct pcitsm_bdf *rp) PCITSM_MUST_CHECK;
/* Become w's tap (w->tap, w->tap_ctx): from here on the wire carries its TLPs one by one
 * (pcitsm_ide_wire_send_burst), each written and flushed to the file as it enters the wire, and
 * passed on unchanged. Call it with the link idle (its lock held, or before traffic starts). */
void pcitsm_link_capture_attach(struct pcitsm_link_capture *c, struct pcitsm_ide_wire *w);
/* Detach from the wire (same rule as attach) and close; the first write error, if any. */
pcitsm_err pcitsm_link_capture_close(struct pcitsm_link_capture *c) PCITSM_MUST_CHECK;

/* The 16-byte record header, for the tap and for tests that make records. */
void pcitsm_tap_rec_hdr_encode(enum pcitsm_tap_dir dir, const struct pcitsm_bdf *rp, uint64_t seq,
			       uint8_t out[PCITSM_TAP_REC_HDR]);

/* One record of a link capture, decoded (the bytes come from a file: untrusted). */
struct pcitsm_tap_rec {
	enum pcitsm_tap_dir dir;
	struct pcitsm_bdf rp;
	uint64_t seq;
	const uint8_t *tlp; /* the TLP as on the wire */
	size_t len;
	/* What the TLP is. tlp_err OK: ide tells which of the two it is, hdr holds the header's
	 * fields (in the clear on the wire under IDE too: it is the AAD) and payload its data
	 * (ciphertext under IDE; the PCRC, when P, is not part of it). Else why it does not decode
	 * (the record itself is still valid). */
	pcitsm_err tlp_err;
	bool ide;
	struct pcitsm_ide_tlp_view v; /* ide: prefix fields, MAC */
	struct pcitsm_tlp hdr;
	const uint8_t *payload;
	size_t payload_len;
};
/* E_SHORT: fewer than 17 bytes; E_LONG: more than PCITSM_TAP_REC_MAX; E_VERSION: another format
 * version; E_FIELD: a direction other than 0 or 1; E_RESERVED: reserved bytes set. */
pcitsm_err pcitsm_tap_rec_parse(const uint8_t *in, size_t len, struct pcitsm_tap_rec *r)
	PCITSM_MUST_CHECK;

#endif /* PCITSM_CAPTURE_H */
