/* SPDX-License-Identifier: MIT */
/*
 * The one pcap writer (libpcap), and its DOE tap: one packet per DOE object, link type
 * LINKTYPE_PCI_DOE (292, tcpdump.org link-layer registry; docs/transports.md), snapshot length
 * 65536, so libspdm's spdm_dump reads it (it refuses a larger snapshot length). The link
 * captures (link.c, docs/tap.md) write through the same functions.
 *
 * Link type 292 carries the object only, so the direction is not recorded: a capture alternates
 * request, response, request... and a discarded request (no response) breaks that rhythm only in
 * time. docs/transports.md says so for readers.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "pcitsm/capture.h"
#include "pcitsm/doe.h"

void pcitsm_pcap_write(struct pcitsm_pcap *c, const uint8_t *pkt, size_t len)
{
	struct pcap_pkthdr ph;
	struct timespec ts;

	if (!c->dumper || c->err != PCITSM_OK)
		return;
	if (len > UINT32_MAX) {
		c->err = PCITSM_E_INVAL;
		return;
	}
	/* Wall-clock time: captures are compared with other tools' logs. */
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&ph, 0, sizeof(ph));
	ph.ts.tv_sec = ts.tv_sec;
	ph.ts.tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
	ph.len = (bpf_u_int32)len;
	/* Cut to the snapshot length; len keeps the packet's true size (a reader sees caplen < len). */
	ph.caplen = (bpf_u_int32)PCITSM_MIN(len, (size_t)PCITSM_PCAP_SNAPLEN);
	pcap_dump((u_char *)c->dumper, &ph, pkt);
	c->packets++;
	if (ph.caplen < len)
		c->truncated++;
}

pcitsm_err pcitsm_pcap_flush(struct pcitsm_pcap *c)
{
	if (!c->dumper)
		return PCITSM_E_STATE;
	if (pcap_dump_flush(c->dumper) != 0) {
		if (c->err == PCITSM_OK)
			c->err = PCITSM_E_IO;
		return PCITSM_E_IO;
	}
	return PCITSM_OK;
}

static void pcap_object(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj,
			size_t len)
{
	struct pcitsm_pcap *c = pcitsm_container_of(tap, struct pcitsm_pcap, tap);

	(void)from_device;
	if (len > PCITSM_DOE_MAX_BYTES) {
		if (c->err == PCITSM_OK)
			c->err = PCITSM_E_INVAL;
		return;
	}
	pcitsm_pcap_write(c, obj, len);
}

/* A libpcap that predates a link type (1.10.3 predates 292) refuses it in savefiles ("link-layer
 * type 292 isn't supported"). Then open with a placeholder link type and set the file header's
 * LinkType field (offset 20, u32 in the writer's byte order, as libpcap itself writes it) before
 * the first packet. The one workaround for old libpcap; see docs/transports.md. */
#define PCAP_PLACEHOLDER_DLT 147 /* DLT_USER0 */
#define PCAP_HDR_LINKTYPE_OFF 20
#define PCAP_HDR_LEN 24

static pcitsm_err pcap_set_linktype(struct pcap_dumper *d, uint32_t linktype)
{
	FILE *f = pcap_dump_file(d);

	if (!f || fflush(f) != 0 || ftell(f) != PCAP_HDR_LEN)
		return PCITSM_E_IO;
	if (fseek(f, PCAP_HDR_LINKTYPE_OFF, SEEK_SET) != 0 || fwrite(&linktype, 4, 1, f) != 1 ||
	    fseek(f, 0, SEEK_END) != 0)
		return PCITSM_E_IO;
	return PCITSM_OK;
}

static pcitsm_err pcap_open_as(struct pcitsm_pcap *c, const char *path, int dlt)
{
	c->pcap = pcap_open_dead(dlt, PCITSM_PCAP_SNAPLEN);
	if (!c->pcap)
		return PCITSM_E_NOMEM;
	c->dumper = pcap_dump_open(c->pcap, path);
	if (c->dumper)
		return PCITSM_OK;
	pcap_close(c->pcap);
	c->pcap = NULL;
	return PCITSM_E_SYSTEM;
}

pcitsm_err pcitsm_pcap_open_linktype(struct pcitsm_pcap *c, const char *path, uint32_t linktype)
{
	pcitsm_err e;

	memset(c, 0, sizeof(*c));
	if (!path || linktype > INT32_MAX)
		return PCITSM_E_INVAL;
	if (pcap_open_as(c, path, (int)linktype) == PCITSM_OK)
		return PCITSM_OK;
	PCITSM_TRY(pcap_open_as(c, path, PCAP_PLACEHOLDER_DLT));
	e = pcap_set_linktype(c->dumper, linktype);
	if (e != PCITSM_OK) {
		pcap_dump_close(c->dumper);
		pcap_close(c->pcap);
		c->dumper = NULL;
		c->pcap = NULL;
	}
	return e;
}

pcitsm_err pcitsm_pcap_open(struct pcitsm_pcap *c, const char *path)
{
	pcitsm_err e = pcitsm_pcap_open_linktype(c, path, PCITSM_PCAP_LINKTYPE_PCI_DOE);

	c->tap.object = pcap_object; /* a capture that failed to open ignores objects */
	return e;
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

pcitsm_err pcitsm_pcap_in_open(struct pcitsm_pcap_in *in, const char *path, char *why,
			       size_t why_len)
{
	char err[PCAP_ERRBUF_SIZE] = "";

	memset(in, 0, sizeof(*in));
	if (!path)
		return PCITSM_E_INVAL;
	in->pcap = pcap_open_offline(path, err);
	if (!in->pcap) {
		if (why && why_len)
			snprintf(why, why_len, "%s", err);
		return PCITSM_E_SYSTEM;
	}
	in->linktype = (uint32_t)pcap_datalink(in->pcap);
	return PCITSM_OK;
}

pcitsm_err pcitsm_pcap_in_next(struct pcitsm_pcap_in *in, const uint8_t **pkt, size_t *caplen,
			       size_t *len, uint64_t *ts_us)
{
	struct pcap_pkthdr *ph;
	const u_char *data;
	int rc;

	if (!in->pcap)
		return PCITSM_E_STATE;
	rc = pcap_next_ex(in->pcap, &ph, &data);
	if (rc == PCAP_ERROR_BREAK)
		return PCITSM_E_NOTFOUND;
	if (rc != 1)
		return PCITSM_E_TRUNCATED;
	*pkt = data;
	*caplen = ph->caplen;
	*len = ph->len;
	*ts_us = (uint64_t)ph->ts.tv_sec * 1000000u + (uint64_t)ph->ts.tv_usec;
	return PCITSM_OK;
}

void pcitsm_pcap_in_close(struct pcitsm_pcap_in *in)
{
	if (in->pcap)
		pcap_close(in->pcap);
	in->pcap = NULL;
}
