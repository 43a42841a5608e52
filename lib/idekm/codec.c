/* SPDX-License-Identifier: MIT */
/*
 * IDE_KM object codecs (PCIe 6.x §6.33.3; libspdm pci_idekm.h agrees on every offset).
 * Offsets are from the Protocol ID byte:
 *
 *   QUERY          00 proto | 01 obj | 02 rsvd | 03 PortIndex                              4 bytes
 *   QUERY_RESP     00 proto | 01 obj | 02 rsvd | 03 PortIndex | 04 Dev/Func | 05 Bus |
 *                  06 Segment | 07 MaxPortIndex | 08 IDE capability registers from +0x04   16+ bytes
 *   KEY_PROG       00 proto | 01 obj | 02 rsvd[2] | 04 StreamID | 05 rsvd | 06 KeySubStream |
 *                  07 PortIndex | 08 Key[32] | 40 IFV[8]                                   48 bytes
 *   KP_ACK         as KEY_PROG's first 8 bytes with 05 = Status                           8 bytes
 *   K_SET_GO / K_SET_STOP / K_GOSTOP_ACK: as KEY_PROG's first 8 bytes                      8 bytes
 *
 * Decoders accept exactly one size, reject non-zero reserved bits and values outside the defined
 * ranges; they never cast a struct onto the input.
 */
#include <stdio.h>
#include <string.h>

#include "pcitsm/idekm.h"
#include "idekm/idekm_priv.h"

#define OFF_PROTO 0
#define OFF_OBJ 1
#define OFF_STREAM 4
#define OFF_STATUS 5 /* KP_ACK; reserved elsewhere */
#define OFF_KSUB 6
#define OFF_PORT 7
#define OFF_KEY 8
#define OFF_IFV 40

PCITSM_NAME_FN(pcitsm_idekm_obj_name, uint8_t, PCITSM_IDEKM_OBJECTS, "UNKNOWN")

PCITSM_NAME_FN(pcitsm_idekm_kp_status_name, uint8_t, PCITSM_IDEKM_KP_STATUSES, "RESERVED")

const char *pcitsm_idekm_kp_status_str(uint8_t status)
{
	switch (status) {
#define PCITSM_IDEKM_KP_STR(name, val, str) \
	case val: return str;
	PCITSM_IDEKM_KP_STATUSES(PCITSM_IDEKM_KP_STR)
#undef PCITSM_IDEKM_KP_STR
	}
	return "reserved status (unspecified failure)";
}

uint8_t pcitsm_idekm_ksub_encode(unsigned kset, enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	return (uint8_t)((kset & 1) | (dir == PCITSM_IDE_TX ? PCITSM_IDEKM_KSUB_TX : 0) |
			 ((unsigned)sub & 0xf) << PCITSM_IDEKM_KSUB_SUB_SHIFT);
}

pcitsm_err pcitsm_idekm_ksub_decode(uint8_t b, uint8_t *kset, enum pcitsm_ide_dir *dir,
				    enum pcitsm_ide_sub *sub)
{
	unsigned s = b >> PCITSM_IDEKM_KSUB_SUB_SHIFT;

	if (b & PCITSM_IDEKM_KSUB_RSVD)
		return PCITSM_E_RESERVED;
	if (s > PCITSM_IDE_SUB_CPL)
		return PCITSM_E_FIELD; /* 0 PR, 1 NPR, 2 CPL; the rest unsupported (PCIe 6.x §6.33.3) */
	*kset = b & PCITSM_IDEKM_KSUB_KSET;
	*dir = b & PCITSM_IDEKM_KSUB_TX ? PCITSM_IDE_TX : PCITSM_IDE_RX;
	*sub = (enum pcitsm_ide_sub)s;
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_peek(const uint8_t *p, size_t n, uint8_t *obj)
{
	if (!p || n < 2)
		return PCITSM_E_SHORT;
	if (p[OFF_PROTO] != PCITSM_IDEKM_PROTOCOL_ID)
		return PCITSM_E_FIELD;
	*obj = p[OFF_OBJ];
	return PCITSM_OK;
}

/* The object, exactly n bytes long, with the right protocol and one of the object IDs in mask. */
static pcitsm_err check_frame(const uint8_t *p, size_t n, size_t want, unsigned obj_mask)
{
	if (!p || n < want)
		return PCITSM_E_SHORT;
	if (n > want)
		return PCITSM_E_LONG;
	if (p[OFF_PROTO] != PCITSM_IDEKM_PROTOCOL_ID || p[OFF_OBJ] > 7 ||
	    !(obj_mask & 1u << p[OFF_OBJ]))
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

static bool ks_fields_ok(const struct pcitsm_idekm_ks *m)
{
	return m->kset <= 1 && (unsigned)m->dir <= PCITSM_IDE_TX &&
	       (unsigned)m->sub <= PCITSM_IDE_SUB_CPL;
}

/* ---------------------------------------------------------------------------------------------
 * QUERY
 */
pcitsm_err pcitsm_idekm_query_encode(struct pcitsm_wr *w, uint8_t port_index)
{
	uint8_t *p = pcitsm_wr_reserve(w, PCITSM_IDEKM_QUERY_LEN);

	if (!p)
		return pcitsm_wr_err(w);
	p[OFF_PROTO] = PCITSM_IDEKM_PROTOCOL_ID;
	p[OFF_OBJ] = PCITSM_IDEKM_QUERY;
	p[3] = port_index;
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_query_decode(const uint8_t *p, size_t n, uint8_t *port_index)
{
	PCITSM_TRY(check_frame(p, n, PCITSM_IDEKM_QUERY_LEN, 1u << PCITSM_IDEKM_QUERY));
	if (p[2])
		return PCITSM_E_RESERVED;
	*port_index = p[3];
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The 8-byte key-slot header: KEY_PROG's first 8 bytes, KP_ACK, K_SET_GO/STOP, K_GOSTOP_ACK.
 */
#define KS_OBJS                                                                        \
	(1u << PCITSM_IDEKM_KP_ACK | 1u << PCITSM_IDEKM_K_SET_GO |                       \
	 1u << PCITSM_IDEKM_K_SET_STOP | 1u << PCITSM_IDEKM_K_GOSTOP_ACK)

static void ks_put(uint8_t *p, const struct pcitsm_idekm_ks *m, uint8_t obj)
{
	p[OFF_PROTO] = PCITSM_IDEKM_PROTOCOL_ID;
	p[OFF_OBJ] = obj;
	p[2] = p[3] = 0;
	p[OFF_STREAM] = m->stream_id;
	p[OFF_STATUS] = obj == PCITSM_IDEKM_KP_ACK ? m->status : 0;
	p[OFF_KSUB] = pcitsm_idekm_ksub_encode(m->kset, m->dir, m->sub);
	p[OFF_PORT] = m->port_index;
}

/* The header fields of p (frame already checked). */
static pcitsm_err ks_get(const uint8_t *p, struct pcitsm_idekm_ks *m)
{
	memset(m, 0, sizeof(*m));
	m->obj = p[OFF_OBJ];
	m->stream_id = p[OFF_STREAM];
	m->port_index = p[OFF_PORT];
	if (p[2] || p[3])
		return PCITSM_E_RESERVED;
	if (m->obj == PCITSM_IDEKM_KP_ACK)
		m->status = p[OFF_STATUS];
	else if (p[OFF_STATUS])
		return PCITSM_E_RESERVED;
	return pcitsm_idekm_ksub_decode(p[OFF_KSUB], &m->kset, &m->dir, &m->sub);
}

pcitsm_err pcitsm_idekm_ks_encode(struct pcitsm_wr *w, const struct pcitsm_idekm_ks *m)
{
	uint8_t *p;

	if (!m || m->obj > 7 || !(KS_OBJS & 1u << m->obj) || !ks_fields_ok(m) ||
	    (m->obj != PCITSM_IDEKM_KP_ACK && m->status))
		return PCITSM_E_INVAL;
	p = pcitsm_wr_reserve(w, PCITSM_IDEKM_KSET_LEN);
	if (!p)
		return pcitsm_wr_err(w);
	ks_put(p, m, m->obj);
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_ks_decode(const uint8_t *p, size_t n, struct pcitsm_idekm_ks *m)
{
	PCITSM_TRY(check_frame(p, n, PCITSM_IDEKM_KSET_LEN, KS_OBJS));
	return ks_get(p, m);
}

/* ---------------------------------------------------------------------------------------------
 * KEY_PROG
 */
pcitsm_err pcitsm_idekm_key_prog_encode(struct pcitsm_wr *w, const struct pcitsm_idekm_key_prog *kp)
{
	uint8_t *p;

	if (!kp || !ks_fields_ok(&kp->ks) || kp->ks.status)
		return PCITSM_E_INVAL;
	p = pcitsm_wr_reserve(w, PCITSM_IDEKM_KEY_PROG_LEN);
	if (!p)
		return pcitsm_wr_err(w);
	ks_put(p, &kp->ks, PCITSM_IDEKM_KEY_PROG);
	memcpy(p + OFF_KEY, kp->key, PCITSM_IDEKM_KEY_LEN);
	memcpy(p + OFF_IFV, kp->ifv, PCITSM_IDEKM_IFV_LEN);
	return PCITSM_OK;
}

pcitsm_err idekm_key_prog_raw(const uint8_t *p, size_t n, struct idekm_raw_hdr *h)
{
	if (!p || n < PCITSM_IDEKM_KSET_LEN)
		return PCITSM_E_SHORT;
	if (p[OFF_PROTO] != PCITSM_IDEKM_PROTOCOL_ID || p[OFF_OBJ] != PCITSM_IDEKM_KEY_PROG)
		return PCITSM_E_FIELD;
	h->stream_id = p[OFF_STREAM];
	h->ksub = p[OFF_KSUB];
	h->port_index = p[OFF_PORT];
	return PCITSM_OK;
}

pcitsm_err idekm_kp_ack_raw(struct pcitsm_wr *w, const struct idekm_raw_hdr *h, uint8_t status)
{
	uint8_t *p = pcitsm_wr_reserve(w, PCITSM_IDEKM_KSET_LEN);

	if (!p)
		return pcitsm_wr_err(w);
	p[OFF_PROTO] = PCITSM_IDEKM_PROTOCOL_ID;
	p[OFF_OBJ] = PCITSM_IDEKM_KP_ACK;
	p[OFF_STREAM] = h->stream_id;
	p[OFF_STATUS] = status;
	p[OFF_KSUB] = h->ksub & (uint8_t)~PCITSM_IDEKM_KSUB_RSVD;
	p[OFF_PORT] = h->port_index;
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_key_prog_decode(const uint8_t *p, size_t n, struct pcitsm_idekm_key_prog *kp)
{
	pcitsm_err e = check_frame(p, n, PCITSM_IDEKM_KEY_PROG_LEN, 1u << PCITSM_IDEKM_KEY_PROG);

	if (!e)
		e = ks_get(p, &kp->ks);
	if (e) {
		pcitsm_wipe(kp, sizeof(*kp));
		return e;
	}
	memcpy(kp->key, p + OFF_KEY, PCITSM_IDEKM_KEY_LEN);
	memcpy(kp->ifv, p + OFF_IFV, PCITSM_IDEKM_IFV_LEN);
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * QUERY_RESP. The register copy is the IDE capability from +0x04 (PCIe 6.x §6.33.3,
 * §7.9.26): Capability,
 * Control, nr_link Link blocks (Control, Status), then nr_sel Selective blocks, each 0x14 + 12 *
 * nAddr bytes with nAddr in its own Capability register bits 3:0. The layout is walked over the
 * copy itself with the same rules pcitsm_ide_read applies to config space.
 */
#define CAP_REL(regs_off) ((uint32_t)(regs_off) + 4u) /* copy offset -> capability-relative */
#define SEL_CAP_NADDR_MASK 0xfu
#define SEL_FIXED_LEN 0x14u

static uint32_t get_reg(const uint8_t *regs, uint32_t cap_off)
{
	return pcitsm_get_le32(regs + cap_off - 4);
}

/* Walk the copy: E_SHORT when it ends inside the described layout, E_LONG when bytes follow it,
 * E_RANGE when the layout could not fit in extended config space. */
pcitsm_err idekm_regs_layout(const uint8_t *regs, size_t n, struct pcitsm_idekm_query_resp *qr)
{
	uint32_t cap, pos;

	if (n < 8)
		return PCITSM_E_SHORT;
	cap = pcitsm_get_le32(regs);
	qr->ide_cap = cap;
	qr->ide_ctl = pcitsm_get_le32(regs + 4);
	qr->nr_link = cap & PCITSM_IDE_CAP_LINK ?
		((cap >> PCITSM_IDE_CAP_LINK_TC_SHIFT) & PCITSM_IDE_CAP_LINK_TC_MASK) + 1 : 0;
	qr->nr_sel = cap & PCITSM_IDE_CAP_SEL ?
		((cap >> PCITSM_IDE_CAP_SEL_NUM_SHIFT) & PCITSM_IDE_CAP_SEL_NUM_MASK) + 1 : 0;
	pos = PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * qr->nr_link;
	for (unsigned i = 0; i < qr->nr_sel; i++) {
		uint8_t naddr;

		if (CAP_REL(PCITSM_IDEKM_REGS_MAX) < pos + SEL_FIXED_LEN)
			return PCITSM_E_RANGE;
		if (CAP_REL(n) < pos + SEL_FIXED_LEN)
			return PCITSM_E_SHORT;
		naddr = get_reg(regs, pos + PCITSM_IDE_SEL_CAP) & SEL_CAP_NADDR_MASK;
		qr->sel_off[i] = (uint16_t)pos;
		qr->sel_naddr[i] = naddr;
		pos += PCITSM_IDE_SEL_BLOCK_SIZE(naddr);
	}
	if (CAP_REL(PCITSM_IDEKM_REGS_MAX) < pos)
		return PCITSM_E_RANGE;
	if (CAP_REL(n) < pos)
		return PCITSM_E_SHORT;
	if (CAP_REL(n) > pos)
		return PCITSM_E_LONG;
	qr->regs = regs;
	qr->regs_len = n;
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_query_resp_encode(struct pcitsm_wr *w,
					  const struct pcitsm_idekm_query_resp *hdr,
					  const uint8_t *regs, size_t n)
{
	struct pcitsm_idekm_query_resp lay;
	uint8_t *p;

	memset(&lay, 0, sizeof(lay));
	if (!hdr || !regs || hdr->max_port_index < hdr->port_index ||
	    idekm_regs_layout(regs, n, &lay) != PCITSM_OK)
		return PCITSM_E_INVAL;
	p = pcitsm_wr_reserve(w, PCITSM_IDEKM_QUERY_RESP_HDR_LEN + n);
	if (!p)
		return pcitsm_wr_err(w);
	p[OFF_PROTO] = PCITSM_IDEKM_PROTOCOL_ID;
	p[OFF_OBJ] = PCITSM_IDEKM_QUERY_RESP;
	p[2] = 0;
	p[3] = hdr->port_index;
	p[4] = hdr->dev_func;
	p[5] = hdr->bus;
	p[6] = hdr->segment;
	p[7] = hdr->max_port_index;
	memcpy(p + PCITSM_IDEKM_QUERY_RESP_HDR_LEN, regs, n);
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_query_resp_decode(const uint8_t *p, size_t n,
					  struct pcitsm_idekm_query_resp *qr)
{
	memset(qr, 0, sizeof(*qr));
	if (!p || n < PCITSM_IDEKM_QUERY_RESP_MIN)
		return PCITSM_E_SHORT;
	if (p[OFF_PROTO] != PCITSM_IDEKM_PROTOCOL_ID || p[OFF_OBJ] != PCITSM_IDEKM_QUERY_RESP)
		return PCITSM_E_FIELD;
	if (p[2])
		return PCITSM_E_RESERVED;
	qr->port_index = p[3];
	qr->dev_func = p[4];
	qr->bus = p[5];
	qr->segment = p[6];
	qr->max_port_index = p[7];
	if (qr->max_port_index < qr->port_index)
		return PCITSM_E_FIELD;
	return idekm_regs_layout(p + PCITSM_IDEKM_QUERY_RESP_HDR_LEN,
				 n - PCITSM_IDEKM_QUERY_RESP_HDR_LEN, qr);
}

uint32_t pcitsm_idekm_qr_reg(const struct pcitsm_idekm_query_resp *qr, uint32_t off)
{
	if (!qr->regs || off < 4 || off % 4 || off - 4 + 4 > qr->regs_len)
		return 0;
	return get_reg(qr->regs, off);
}

/* ---------------------------------------------------------------------------------------------
 * Register names, for mismatch reports and logs.
 */
static const char *const sel_fixed_names[] = {
	"Capability", "Control", "Status", "RID Association 1", "RID Association 2",
};

void pcitsm_idekm_qr_reg_name(const struct pcitsm_idekm_query_resp *qr, uint32_t off, char *buf,
			      size_t n)
{
	uint32_t link_end = PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * qr->nr_link;

	if (!buf || !n)
		return;
	if (off == PCITSM_IDE_CAP) {
		snprintf(buf, n, "IDE Capability");
	} else if (off == PCITSM_IDE_CTL) {
		snprintf(buf, n, "IDE Control");
	} else if (off >= PCITSM_IDE_LINK_BLOCK0 && off < link_end) {
		uint32_t rel = off - PCITSM_IDE_LINK_BLOCK0;

		snprintf(buf, n, "Link %u %s", (unsigned)(rel / PCITSM_IDE_LINK_BLOCK_SIZE),
			 rel % PCITSM_IDE_LINK_BLOCK_SIZE ? "Status" : "Control");
	} else {
		for (unsigned i = qr->nr_sel; i-- > 0;) {
			uint32_t rel;

			if (off < qr->sel_off[i])
				continue;
			rel = off - qr->sel_off[i];
			if (rel < SEL_FIXED_LEN)
				snprintf(buf, n, "Selective %u %s", i, sel_fixed_names[rel / 4]);
			else if (rel < PCITSM_IDE_SEL_BLOCK_SIZE(qr->sel_naddr[i]))
				snprintf(buf, n, "Selective %u Address Association %u.%u", i,
					 (unsigned)((rel - SEL_FIXED_LEN) / 12),
					 (unsigned)((rel - SEL_FIXED_LEN) % 12 / 4 + 1));
			else
				break;
			return;
		}
		snprintf(buf, n, "register +0x%03x", (unsigned)off);
	}
}

/* ---------------------------------------------------------------------------------------------
 * A QUERY_RESP of the wrong size, explained: what its own Capability registers imply.
 */
void pcitsm_idekm_query_resp_explain(const uint8_t *p, size_t n, char *buf, size_t len)
{
	const uint8_t *regs;
	uint32_t cap, pos;
	unsigned nr_link, nr_sel, naddr = 0;
	bool exact = true;

	if (!buf || !len)
		return;
	if (!p || n < PCITSM_IDEKM_QUERY_RESP_MIN) {
		snprintf(buf, len, "QUERY_RESP: %zu bytes, expected at least %u (header, IDE Capability "
			 "and Control registers)", p ? n : 0, (unsigned)PCITSM_IDEKM_QUERY_RESP_MIN);
		return;
	}
	regs = p + PCITSM_IDEKM_QUERY_RESP_HDR_LEN;
	cap = pcitsm_get_le32(regs);
	nr_link = cap & PCITSM_IDE_CAP_LINK ?
		((cap >> PCITSM_IDE_CAP_LINK_TC_SHIFT) & PCITSM_IDE_CAP_LINK_TC_MASK) + 1 : 0;
	nr_sel = cap & PCITSM_IDE_CAP_SEL ?
		((cap >> PCITSM_IDE_CAP_SEL_NUM_SHIFT) & PCITSM_IDE_CAP_SEL_NUM_MASK) + 1 : 0;
	/* The same walk as idekm_regs_layout; a block past the bytes received counts as one
	 * without address associations ("at least"). */
	pos = PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * nr_link;
	for (unsigned i = 0; i < nr_sel; i++) {
		uint8_t na = 0;

		if (CAP_REL(n - PCITSM_IDEKM_QUERY_RESP_HDR_LEN) >= pos + SEL_FIXED_LEN)
			na = get_reg(regs, pos + PCITSM_IDE_SEL_CAP) & SEL_CAP_NADDR_MASK;
		else
			exact = false;
		naddr += na;
		pos += PCITSM_IDE_SEL_BLOCK_SIZE(na);
	}
	snprintf(buf, len,
		 "QUERY_RESP: %zu bytes, expected %s%u for %u link + %u selective stream%s with %u "
		 "address association block%s (IDE Capability register 0x%08x)%s",
		 n, exact ? "" : "at least ",
		 (unsigned)(PCITSM_IDEKM_QUERY_RESP_HDR_LEN + pos - 4), nr_link, nr_sel,
		 nr_sel == 1 ? "" : "s", naddr, naddr == 1 ? "" : "s", cap,
		 PCITSM_IDEKM_QUERY_RESP_HDR_LEN + pos - 4 > PCITSM_IDEKM_QUERY_RESP_MAX ?
			 ": more than extended config space holds" : "");
}
