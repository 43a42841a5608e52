/* SPDX-License-Identifier: MIT */
/*
 * Link captures (docs/tap.md): a tap on an emulated link (struct pcitsm_ide_wire) that writes
 * every TLP a port transmits to a pcap file through the one writer (pcap.c), behind a 16-byte
 * record header of ours (capture.h), and passes it on unchanged; and the record decoder that
 * `pcitsm tap` reads such a file with.
 */
#include <string.h>

#include "pcitsm/capture.h"

void pcitsm_tap_rec_hdr_encode(enum pcitsm_tap_dir dir, const struct pcitsm_bdf *rp, uint64_t seq,
			       uint8_t out[PCITSM_TAP_REC_HDR])
{
	out[0] = PCITSM_TAP_REC_VERSION;
	out[1] = (uint8_t)dir;
	out[2] = out[3] = 0;
	pcitsm_put_be16(out + 4, rp->seg);
	out[6] = rp->bus;
	out[7] = (uint8_t)(rp->dev << 3 | rp->fn);
	pcitsm_put_be64(out + 8, seq);
}

/* The wire's tap: called for every frame a port puts on the wire, in order, under the link's
 * lock (lib/emu holds it around every send), so one capture sees one caller at a time. Written
 * and flushed at once: a reader of the file sees each TLP while the link runs. */
static enum pcitsm_tap_verdict link_tap(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
					struct pcitsm_ide_frame *f)
{
	struct pcitsm_link_capture *c = w->tap_ctx;
	enum pcitsm_tap_dir dir = from == PCITSM_IDE_SIDE_RP ? PCITSM_TAP_DOWN : PCITSM_TAP_UP;

	if (!c || f->len > PCITSM_IDE_TLP_MAX)
		return PCITSM_TAP_PASS; /* the wire refuses such a frame itself */
	pcitsm_tap_rec_hdr_encode(dir, &c->rp, c->seq++, c->rec);
	memcpy(c->rec + PCITSM_TAP_REC_HDR, f->data, f->len);
	pcitsm_pcap_write(&c->pcap, c->rec, PCITSM_TAP_REC_HDR + f->len);
	pcitsm_pcap_flush(&c->pcap); /* an error stays in c->pcap.err for close */
	return PCITSM_TAP_PASS;
}

pcitsm_err pcitsm_link_capture_open(struct pcitsm_link_capture *c, const char *path,
				    const struct pcitsm_bdf *rp)
{
	if (!c || !rp)
		return PCITSM_E_INVAL;
	memset(c, 0, sizeof(*c));
	c->rp = *rp;
	return pcitsm_pcap_open_linktype(&c->pcap, path, PCITSM_PCAP_LINKTYPE_TLP);
}

void pcitsm_link_capture_attach(struct pcitsm_link_capture *c, struct pcitsm_ide_wire *w)
{
	c->wire = w;
	w->tap_ctx = c;
	w->tap = link_tap;
}

pcitsm_err pcitsm_link_capture_close(struct pcitsm_link_capture *c)
{
	if (c->wire && c->wire->tap_ctx == c) {
		c->wire->tap = NULL;
		c->wire->tap_ctx = NULL;
	}
	c->wire = NULL;
	pcitsm_wipe(c->rec, sizeof(c->rec)); /* the last TLP: plaintext on a clear link */
	return pcitsm_pcap_close(&c->pcap);
}

/* ---------------------------------------------------------------------------------------------
 * Reading a record back. The file is anybody's: every length is checked before it is used.
 */

/* An IDE TLP: its parts (pcitsm_ide_tlp_split checks every length against the header), then the
 * header's fields, decoded with its payload's length (the ciphertext stands in for the data). */
static pcitsm_err rec_ide(struct pcitsm_tap_rec *r)
{
	size_t data;

	PCITSM_TRY(pcitsm_ide_tlp_split(r->tlp, r->len, &r->v));
	data = r->v.payload_len - (r->v.pfx.p ? PCITSM_IDE_PCRC_LEN : 0);
	PCITSM_TRY(pcitsm_tlp_decode(r->v.hdr, r->v.hdr_len + data, &r->hdr));
	r->payload = r->v.payload;
	r->payload_len = data;
	return PCITSM_OK;
}

static pcitsm_err rec_clear(struct pcitsm_tap_rec *r)
{
	PCITSM_TRY(pcitsm_tlp_decode(r->tlp, r->len, &r->hdr));
	r->payload = r->hdr.data;
	r->payload_len = r->hdr.data ? r->hdr.len : 0;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tap_rec_parse(const uint8_t *in, size_t len, struct pcitsm_tap_rec *r)
{
	struct pcitsm_rd rd;
	uint8_t version, dir, devfn;

	if (!r)
		return PCITSM_E_INVAL;
	memset(r, 0, sizeof(*r));
	if (!in || len <= PCITSM_TAP_REC_HDR)
		return in || !len ? PCITSM_E_SHORT : PCITSM_E_INVAL;
	if (len > PCITSM_TAP_REC_MAX)
		return PCITSM_E_LONG;
	pcitsm_rd_init(&rd, in, PCITSM_TAP_REC_HDR);
	version = pcitsm_rd_u8(&rd);
	dir = pcitsm_rd_u8(&rd);
	pcitsm_rd_check(&rd, version == PCITSM_TAP_REC_VERSION, PCITSM_E_VERSION);
	pcitsm_rd_check(&rd, dir <= PCITSM_TAP_UP, PCITSM_E_FIELD);
	pcitsm_rd_check(&rd, pcitsm_rd_be16(&rd) == 0, PCITSM_E_RESERVED);
	r->rp.seg = pcitsm_rd_be16(&rd);
	r->rp.bus = pcitsm_rd_u8(&rd);
	devfn = pcitsm_rd_u8(&rd);
	r->seq = pcitsm_rd_be64(&rd);
	PCITSM_TRY(pcitsm_rd_finish(&rd));
	r->dir = (enum pcitsm_tap_dir)dir;
	r->rp.dev = devfn >> 3;
	r->rp.fn = devfn & 7;
	r->tlp = in + PCITSM_TAP_REC_HDR;
	r->len = len - PCITSM_TAP_REC_HDR;
	r->ide = r->tlp[0] == PCITSM_IDE_PFX_BYTE0;
	/* On failure the payload stays unset: both set it only once the TLP decoded. */
	r->tlp_err = r->ide ? rec_ide(r) : rec_clear(r);
	return PCITSM_OK;
}
