/* SPDX-License-Identifier: MIT */
/*
 * pcap capture of DOE objects: a transport tap that writes one packet per object with libpcap,
 * link type LINKTYPE_PCI_DOE (292, trusted-io-facts.md §G), readable by libspdm's spdm_dump.
 *
 * Link type 292 carries the object only, so the direction is not recorded: a capture alternates
 * request, response, request... and a discarded request (no response) breaks that rhythm only in
 * time. docs/transports.md says so for readers.
 */
#include <pcap/pcap.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "pcitsm/doe.h"

static void pcap_object(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj,
			size_t len)
{
	struct pcitsm_pcap *c = pcitsm_container_of(tap, struct pcitsm_pcap, tap);
	struct pcap_pkthdr ph;
	struct timespec ts;

	if (!c->dumper || c->err != PCITSM_OK)
		return;
	if (len > PCITSM_DOE_MAX_BYTES) {
		c->err = PCITSM_E_INVAL;
		return;
	}
	/* Wall-clock time: captures are compared with other tools' logs. */
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&ph, 0, sizeof(ph));
	ph.ts.tv_sec = ts.tv_sec;
	ph.ts.tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
	ph.len = (bpf_u_int32)len;
	ph.caplen = (bpf_u_int32)PCITSM_MIN(len, (size_t)PCITSM_PCAP_SNAPLEN);
	pcap_dump((u_char *)c->dumper, &ph, obj);
	c->packets++;
}

pcitsm_err pcitsm_pcap_open(struct pcitsm_pcap *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->tap.object = pcap_object;
	c->pcap = pcap_open_dead(PCITSM_PCAP_LINKTYPE_PCI_DOE, PCITSM_PCAP_SNAPLEN);
	if (!c->pcap)
		return PCITSM_E_NOMEM;
	c->dumper = pcap_dump_open(c->pcap, path);
	if (!c->dumper) {
		pcap_close(c->pcap);
		c->pcap = NULL;
		return PCITSM_E_SYSTEM;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_pcap_close(struct pcitsm_pcap *c)
{
	pcitsm_err e = c->err;

	if (c->dumper) {
		if (pcap_dump_flush(c->dumper) != 0 && e == PCITSM_OK)
			e = PCITSM_E_IO;
		pcap_dump_close(c->dumper);
	}
	if (c->pcap)
		pcap_close(c->pcap);
	c->dumper = NULL;
	c->pcap = NULL;
	return e;
}
