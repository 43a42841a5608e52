/* SPDX-License-Identifier: MIT */
/*
 * The IDE data path (PCIe 6.x §6.33): a plaintext TLP (or an aggregated unit of up to
 * 8) becomes IDE TLPs with the prefix and header as AAD, the payload (and PCRC) encrypted in one
 * AES-256-GCM invocation per unit under IV = 0^32 || counter (big-endian), and the 96-bit MAC on
 * the last TLP. The receive side is the mirror image plus the PR_Sent counter and error checks of
 * PCIe 6.x §6.33.
 *
 * Per TLP: no allocation, no system call; the AAD is assembled on the stack.
 */
#include <string.h>

#include "ide_engine.h"

#define AAD_MAX (PCITSM_IDE_AGG_MAX * (PCITSM_TLP_PREFIX_LEN + PCITSM_TLP_HDR_MAX))

static enum pcitsm_ide_sub sub_of(const struct pcitsm_tlp *t)
{
	switch (t->kind) {
	case PCITSM_TLP_MWR:
	case PCITSM_TLP_MSG:
		return PCITSM_IDE_SUB_PR; /* posted */
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD:
		return PCITSM_IDE_SUB_CPL;
	default:
		return PCITSM_IDE_SUB_NPR;
	}
}

static size_t data_len(const struct pcitsm_tlp *t) { return t->data ? t->len : 0; }

static bool is_msg(const struct pcitsm_tlp *t, uint8_t code)
{
	return t->kind == PCITSM_TLP_MSG && t->msg_code == code;
}

/* PCIe 6.x §6.33 AES-GCM: the 96-bit IV, fixed field zero, then the invocation counter
 * big-endian. */
static void make_iv(uint64_t ctr, uint8_t iv[PCITSM_GCM_IV_LEN])
{
	memset(iv, 0, 4);
	pcitsm_put_be64(iv + 4, ctr);
}

/* Copy n bytes where n is a header (12 or 16, 4 more with a PASID prefix) or that with the IDE
 * prefix (16 to 24): fixed-size copies
 * the compiler turns into moves (a variable memcpy of a few bytes costs more than the move). */
static inline void copy_hdr(uint8_t *d, const uint8_t *src, size_t n)
{
	switch (n) {
	case 12: memcpy(d, src, 12); break;
	case 16: memcpy(d, src, 16); break;
	case 20: memcpy(d, src, 20); break;
	case 24: memcpy(d, src, 24); break;
	default: memcpy(d, src, n); break;
	}
}

/* Checks before anything is written: state, aggregation limits, counters, buffer sizes. */
/* PCIe 6.x §6.33 PR_Sent counters at the transmitter: a Non-Posted Request or a Completion
 * carries its counter (the Posted TLPs sent since the last one of its kind) and resets it; a
 * Posted TLP counts in both. Returns the value for the prefix (0 for a Posted TLP). */
static inline uint8_t tx_pr_sent(enum pcitsm_ide_sub sub, uint8_t *npr, uint8_t *cpl)
{
	uint8_t v = 0;

	if (sub == PCITSM_IDE_SUB_NPR) {
		v = *npr;
		*npr = 0;
	} else if (sub == PCITSM_IDE_SUB_CPL) {
		v = *cpl;
		*cpl = 0;
	} else {
		(*npr)++;
		(*cpl)++;
	}
	return v;
}

static pcitsm_err tx_check(struct pcitsm_ide_stream *s, const struct pcitsm_ide_io *io,
			   const struct pcitsm_tlp *t, size_t n, bool pcrc)
{
	enum pcitsm_ide_sub sub = sub_of(&t[0]);
	const struct pcitsm_ide_slot *sl = &s->slot[PCITSM_IDE_TX][sub][s->tx_kset];
	size_t total = 0;

	if (s->state != PCITSM_IDE_SECURE) {
		s->stats.dropped += n;
		return PCITSM_E_STATE; /* PCIe 6.x §6.33: never in the clear, never elsewhere */
	}
	for (size_t i = 0; i < n; i++) {
		size_t need = PCITSM_TLP_PREFIX_LEN + pcitsm_tlp_hdr_len(&t[i]) + data_len(&t[i]);

		if (sub_of(&t[i]) != sub)
			return PCITSM_E_INVAL;
		if (i + 1 == n)
			need += PCITSM_IDE_MAC_LEN + (pcrc ? PCITSM_IDE_PCRC_LEN : 0);
		if (io[i].out_cap < need)
			return PCITSM_E_NOSPC;
		total += data_len(&t[i]);
	}
	/* PCIe 6.x §6.33 aggregation: the configured count, at most 256 DW of payload, IDE Sync
	 * closes a unit. */
	if (n > s->agg[sub] || (n > 1 && total > PCITSM_IDE_AGG_DATA_MAX))
		return PCITSM_E_INVAL;
	for (size_t i = 0; i + 1 < n; i++)
		if (t[i].kind == PCITSM_TLP_MSG)
			return PCITSM_E_INVAL;
	if (!sl->valid)
		return PCITSM_E_STATE;
	if (sl->ctr == UINT64_MAX)
		return PCITSM_E_OVERFLOW; /* the counter never wraps: re-key first */
	/* PCIe 6.x §6.33 PR_Sent counters: at 245 an IDE Sync must go first (the Sync itself is
	 * always allowed). */
	if (sub == PCITSM_IDE_SUB_PR && !is_msg(&t[0], PCITSM_MSG_IDE_SYNC) &&
	    (s->pr_sent_npr + n > PCITSM_IDE_SYNC_AT || s->pr_sent_cpl + n > PCITSM_IDE_SYNC_AT)) {
		s->sync_pending = true;
		return PCITSM_E_BUSY;
	}
	return PCITSM_OK;
}

static pcitsm_err tx_unit(struct pcitsm_ide_port *p, int idx, struct pcitsm_ide_io *io,
			  const struct pcitsm_tlp *t, size_t n)
{
	struct pcitsm_ide_stream *s = &p->stream[idx];
	enum pcitsm_ide_sub sub = sub_of(&t[0]);
	struct pcitsm_ide_slot *sl = &s->slot[PCITSM_IDE_TX][sub][s->tx_kset];
	struct pcitsm_gcm_seg seg[PCITSM_IDE_AGG_MAX + 1];
	uint8_t aad[AAD_MAX], iv[PCITSM_GCM_IV_LEN], crc[PCITSM_IDE_PCRC_LEN];
	uint8_t npr = s->pr_sent_npr, cpl = s->pr_sent_cpl;
	size_t aad_len = 0, nseg = 0, total = 0, end = 0;
	uint32_t c = PCITSM_IDE_PCRC_SEED;
	bool pcrc;

	for (size_t i = 0; i < n; i++)
		total += data_len(&t[i]);
	pcrc = s->pcrc && total;
	PCITSM_TRY(tx_check(s, io, t, n, pcrc));
	for (size_t i = 0; i < n; i++) {
		struct pcitsm_ide_prefix x = { .m = i + 1 == n, .k = s->tx_kset, .t = io[i].t,
					       .sub = (uint8_t)sub, .stream_id = s->id };
		size_t hl = pcitsm_tlp_hdr_len(&t[i]), dl = data_len(&t[i]);
		uint8_t *o = io[i].out;

		x.p = x.m && pcrc;
		x.pr_sent = tx_pr_sent(sub, &npr, &cpl);
		pcitsm_ide_prefix_encode(&x, o);
		copy_hdr(o + PCITSM_TLP_PREFIX_LEN, io[i].in, hl);
		if (is_msg(&t[i], PCITSM_MSG_IDE_SYNC)) {
			/* Both counters go in the Sync, then both restart from 0. */
			o[PCITSM_TLP_PREFIX_LEN + PCITSM_IDE_MSG_SYNC_NPR_BYTE] = npr;
			o[PCITSM_TLP_PREFIX_LEN + PCITSM_IDE_MSG_SYNC_CPL_BYTE] = cpl;
			npr = cpl = 0;
		}
		/* A single TLP's AAD is its own prefix and header, in place. */
		if (n > 1)
			copy_hdr(aad + aad_len, o, PCITSM_TLP_PREFIX_LEN + hl);
		aad_len += PCITSM_TLP_PREFIX_LEN + hl;
		seg[nseg++] = (struct pcitsm_gcm_seg){ t[i].data, o + PCITSM_TLP_PREFIX_LEN + hl,
						       dl };
		if (pcrc)
			c = pcitsm_ide_pcrc_update(c, t[i].data, dl);
		io[i].out_len = end = PCITSM_TLP_PREFIX_LEN + hl + dl;
	}
	if (pcrc) {
		pcitsm_ide_pcrc_final(c, crc);
		seg[nseg++] = (struct pcitsm_gcm_seg){ crc, io[n - 1].out + end, sizeof(crc) };
		end += sizeof(crc);
	}
	make_iv(sl->ctr, iv);
	PCITSM_TRY(pcitsm_gcm_seal(sl->key, iv, n > 1 ? aad : io[0].out, aad_len, seg, nseg,
				   io[n - 1].out + end, PCITSM_IDE_MAC_LEN));
	io[n - 1].out_len = end + PCITSM_IDE_MAC_LEN;
	/* Commit. */
	sl->ctr++;
	s->pr_sent_npr = npr;
	s->pr_sent_cpl = cpl;
	if (npr >= PCITSM_IDE_SYNC_AT || cpl >= PCITSM_IDE_SYNC_AT)
		s->sync_pending = true;
	if (is_msg(&t[n - 1], PCITSM_MSG_IDE_SYNC))
		s->stats.tx_syncs++;
	s->stats.tx_tlps += n;
	return PCITSM_OK;
}

/* A unit of one TLP (the burst path): tx_unit's steps for n = 1 with the loop and the AAD copy
 * gone: the prefix and header written in place are the AAD. Same checks (tx_check), same bytes,
 * same commit (test_ide_burst compares it with tx_unit). */
static inline pcitsm_err tx_single(struct pcitsm_ide_port *p, int idx, struct pcitsm_ide_io *io,
				   const struct pcitsm_tlp *t)
{
	struct pcitsm_ide_stream *s = &p->stream[idx];
	enum pcitsm_ide_sub sub = sub_of(t);
	struct pcitsm_ide_slot *sl = &s->slot[PCITSM_IDE_TX][sub][s->tx_kset];
	struct pcitsm_ide_prefix x = { .m = 1, .k = s->tx_kset, .t = io->t, .sub = (uint8_t)sub,
				       .stream_id = s->id };
	size_t hl = pcitsm_tlp_hdr_len(t), dl = data_len(t), end = PCITSM_TLP_PREFIX_LEN + hl + dl;
	struct pcitsm_gcm_seg seg[2];
	uint8_t iv[PCITSM_GCM_IV_LEN], crc[PCITSM_IDE_PCRC_LEN];
	uint8_t npr = s->pr_sent_npr, cpl = s->pr_sent_cpl;
	bool pcrc = s->pcrc && dl, sync = is_msg(t, PCITSM_MSG_IDE_SYNC);
	uint8_t *o = io->out;

	PCITSM_TRY(tx_check(s, io, t, 1, pcrc));
	x.p = pcrc;
	x.pr_sent = tx_pr_sent(sub, &npr, &cpl);
	pcitsm_ide_prefix_encode(&x, o);
	copy_hdr(o + PCITSM_TLP_PREFIX_LEN, io->in, hl);
	if (sync) {
		o[PCITSM_TLP_PREFIX_LEN + PCITSM_IDE_MSG_SYNC_NPR_BYTE] = npr;
		o[PCITSM_TLP_PREFIX_LEN + PCITSM_IDE_MSG_SYNC_CPL_BYTE] = cpl;
		npr = cpl = 0;
	}
	/* The payload sealed from where it lies (t->data: after the header in io->in, or io->data):
	 * one pass, no copy. */
	seg[0] = (struct pcitsm_gcm_seg){ t->data, o + PCITSM_TLP_PREFIX_LEN + hl, dl };
	if (pcrc) {
		pcitsm_ide_pcrc_final(pcitsm_ide_pcrc_update(PCITSM_IDE_PCRC_SEED, t->data, dl),
				      crc);
		seg[1] = (struct pcitsm_gcm_seg){ crc, o + end, sizeof(crc) };
		end += sizeof(crc);
	}
	make_iv(sl->ctr, iv);
	PCITSM_TRY(pcitsm_gcm_seal(sl->key, iv, o, PCITSM_TLP_PREFIX_LEN + hl, seg, pcrc ? 2 : 1,
				   o + end, PCITSM_IDE_MAC_LEN));
	io->out_len = end + PCITSM_IDE_MAC_LEN;
	/* Commit. */
	sl->ctr++;
	s->pr_sent_npr = npr;
	s->pr_sent_cpl = cpl;
	if (npr >= PCITSM_IDE_SYNC_AT || cpl >= PCITSM_IDE_SYNC_AT)
		s->sync_pending = true;
	if (sync)
		s->stats.tx_syncs++;
	s->stats.tx_tlps++;
	return PCITSM_OK;
}

static inline pcitsm_err decode_io(const struct pcitsm_ide_io *io, struct pcitsm_tlp *t)
{
	const struct pcitsm_tlp_ref r = { io->in, io->in_len, io->data, io->data_len };

	if (!io->in || !io->out)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_tlp_decode_ref(&r, t));
	t->tee = io->t;
	return PCITSM_OK;
}

static pcitsm_err decode_all(const struct pcitsm_ide_io *io, struct pcitsm_tlp *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		PCITSM_TRY(decode_io(&io[i], &t[i]));
	return PCITSM_OK;
}

/* No stream: a plain TLP (PCIe 6.x §6.33 selective stream rules), never one with T=1 (TDISP,
 * PCIe 6.x §11: TEE traffic only inside IDE); its two parts, if apart, go out as one. */
static pcitsm_err tx_plain(struct pcitsm_ide_io *io)
{
	size_t len = io->in_len + io->data_len;

	if (io->t)
		return PCITSM_E_STATE;
	if (io->out_cap < len)
		return PCITSM_E_NOSPC;
	memcpy(io->out, io->in, io->in_len);
	if (io->data_len)
		memcpy(io->out + io->in_len, io->data, io->data_len);
	io->out_len = len;
	return PCITSM_OK;
}

pcitsm_err ide_tx_stream(struct pcitsm_ide_port *p, int idx, struct pcitsm_ide_io *io, size_t n)
{
	struct pcitsm_tlp t[PCITSM_IDE_AGG_MAX];

	if (!n || n > PCITSM_IDE_AGG_MAX)
		return PCITSM_E_INVAL;
	PCITSM_TRY(decode_all(io, t, n));
	return tx_unit(p, idx, io, t, n);
}

/* One TLP, its own unit: what pcitsm_ide_tx does for n = 1 (the burst's loop body, inlined). */
static inline pcitsm_err tx_one(struct pcitsm_ide_port *p, struct pcitsm_ide_io *io)
{
	struct pcitsm_tlp t;
	int idx;

	PCITSM_TRY(decode_io(io, &t));
	idx = pcitsm_ide_select(p, &t);
	if (idx >= 0)
		return tx_single(p, idx, io, &t);
	return tx_plain(io);
}

pcitsm_err pcitsm_ide_tx_burst(struct pcitsm_ide_port *p, struct pcitsm_ide_io *io, size_t n,
			       size_t *done)
{
	pcitsm_err e = PCITSM_OK;
	size_t i;

	if (done)
		*done = 0;
	if (!p || !done || (n && !io))
		return PCITSM_E_INVAL;
	/* Each TLP checked, sealed and committed before the next is looked at; the first error
	 * stops the burst with the rest untouched. */
	for (i = 0; i < n; i++) {
		e = tx_one(p, &io[i]);
		if (e)
			break;
	}
	*done = i;
	return e;
}

pcitsm_err pcitsm_ide_tx(struct pcitsm_ide_port *p, struct pcitsm_ide_io *io, size_t n)
{
	struct pcitsm_tlp t[PCITSM_IDE_AGG_MAX];
	int idx;

	if (!p || !io || !n || n > PCITSM_IDE_AGG_MAX)
		return PCITSM_E_INVAL;
	PCITSM_TRY(decode_all(io, t, n));
	idx = pcitsm_ide_select(p, &t[0]);
	for (size_t i = 1; i < n; i++)
		if (pcitsm_ide_select(p, &t[i]) != idx)
			return PCITSM_E_INVAL; /* a unit is one stream and sub-stream */
	if (idx >= 0)
		return tx_unit(p, idx, io, t, n);
	/* No stream: one plain TLP at a time. */
	if (n != 1)
		return PCITSM_E_INVAL;
	return tx_plain(&io[0]);
}

/* ------------------------------------------------------------------------------------------- */

/* IDE Check Failed (PCIe 6.x §6.33 error handling): the TLP and all later ones of the stream are
 * discarded. */
static pcitsm_err rx_fail(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s, pcitsm_err why)
{
	s->stats.dropped++;
	ide_stream_fail(p, s, why, true);
	return why;
}

/* A plaintext TLP: IDE Fail is accepted in the clear; anything a Secure stream should have
 * carried is discarded; the rest passes. */
static pcitsm_err rx_clear(struct pcitsm_ide_port *p, const uint8_t *in, size_t len,
			   struct pcitsm_ide_rx_out *out)
{
	struct pcitsm_ide_stream *s;
	struct pcitsm_tlp t;

	PCITSM_TRY(pcitsm_tlp_decode(in, len, &t));
	if (is_msg(&t, PCITSM_MSG_IDE_FAIL)) {
		out->consumed = true;
		s = ide_stream_by_id(p, t.msg_body[PCITSM_IDE_MSG_FAIL_STREAM_BYTE - 12]);
		if (!s || !s->enabled) {
			p->misrouted++;
			return PCITSM_E_NOTFOUND;
		}
		out->stream = pcitsm_ide_stream_find(p, s->id);
		s->recvd_fail = true;
		ide_stream_fail(p, s, PCITSM_E_PEER_ERROR, false);
		return PCITSM_OK;
	}
	out->stream = ide_rx_owner(p, &t);
	if (out->stream >= 0 || is_msg(&t, PCITSM_MSG_IDE_SYNC)) {
		p->clear_dropped++; /* Sync is always an IDE TLP (PCIe 6.x §2.2.8 IDE messages) */
		return PCITSM_E_UNEXPECTED;
	}
	if (out->cap < len)
		return PCITSM_E_NOSPC;
	memcpy(out->buf, in, len);
	out->t[0] = false;
	out->off[0] = 0;
	out->len[0] = len;
	out->n = 1;
	return PCITSM_OK;
}

/* A TLP without a MAC: held until the unit's last TLP (PCIe 6.x §6.33 aggregation). */
static pcitsm_err rx_hold(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s,
			  struct pcitsm_ide_rx_unit *u, const struct pcitsm_ide_tlp_view *v,
			  const struct pcitsm_tlp *t, size_t dl)
{
	if (!p->rx_aggregation || u->n + 1 >= PCITSM_IDE_AGG_MAX || t->kind == PCITSM_TLP_MSG ||
	    u->data_len + dl > PCITSM_IDE_AGG_DATA_MAX)
		return rx_fail(p, s, PCITSM_E_FIELD);
	u->hdr_off[u->n] = (uint8_t)u->aad_len;
	u->hdr_len[u->n] = (uint8_t)v->hdr_len;
	copy_hdr(u->aad + u->aad_len, v->hdr - PCITSM_TLP_PREFIX_LEN,
		 PCITSM_TLP_PREFIX_LEN + v->hdr_len);
	u->aad_len += PCITSM_TLP_PREFIX_LEN + v->hdr_len;
	u->data_off[u->n] = (uint16_t)u->data_len;
	u->data_len_of[u->n] = (uint16_t)dl;
	memcpy(u->data + u->data_len, v->payload, dl);
	u->data_len += dl;
	u->pr_sent[u->n] = v->pfx.pr_sent;
	u->msg[u->n] = 0;
	u->kset = v->pfx.k;
	u->n++;
	return PCITSM_OK;
}

/* Receiver PR counters (PCIe 6.x §6.33), one TLP, on copies: false on underflow or overflow. */
static inline bool rx_counter_step(enum pcitsm_ide_sub sub, uint8_t msg, uint8_t pr_sent,
				   uint8_t sync_npr, uint8_t sync_cpl, uint64_t *npr, uint64_t *cpl)
{
	uint64_t *c;

	if (sub == PCITSM_IDE_SUB_PR) {
		if (*npr == UINT64_MAX || *cpl == UINT64_MAX)
			return false;
		(*npr)++;
		(*cpl)++;
		if (msg == PCITSM_MSG_IDE_SYNC) {
			if (sync_npr > *npr || sync_cpl > *cpl)
				return false;
			*npr -= sync_npr;
			*cpl -= sync_cpl;
		}
		return true;
	}
	c = sub == PCITSM_IDE_SUB_NPR ? npr : cpl;
	if (pr_sent > *c)
		return false; /* a Non-Posted Request or Completion passed a Posted one */
	*c -= pr_sent;
	return true;
}

/* The same over a whole unit. */
static bool rx_counters(const struct pcitsm_ide_rx_unit *u, enum pcitsm_ide_sub sub,
			uint64_t *npr, uint64_t *cpl)
{
	for (unsigned j = 0; j < u->n; j++)
		if (!rx_counter_step(sub, u->msg[j], u->pr_sent[j], u->sync_npr[j], u->sync_cpl[j],
				     npr, cpl))
			return false;
	return true;
}

static void rx_deliver(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s,
		       struct pcitsm_ide_rx_unit *u, struct pcitsm_ide_rx_out *out,
		       const size_t *off, const size_t *len)
{
	bool fail = false;

	for (unsigned j = 0; j < u->n; j++) {
		if (u->msg[j] == PCITSM_MSG_IDE_SYNC) {
			s->stats.rx_syncs++;
			out->consumed = true;
		} else if (u->msg[j] == PCITSM_MSG_IDE_FAIL) {
			fail = true;
		} else {
			out->t[out->n] = u->aad[u->hdr_off[j] + PCITSM_IDE_PFX_FLAGS_BYTE] &
					 PCITSM_IDE_PFX_T;
			out->off[out->n] = off[j];
			out->len[out->n++] = len[j];
		}
	}
	s->stats.rx_tlps += u->n;
	s->stats.rx_units++;
	if (fail) {
		/* A protected IDE Fail from the partner: Insecure, and nothing of the unit is used. */
		pcitsm_wipe(out->buf, off[u->n - 1] + len[u->n - 1]);
		out->n = 0;
		out->consumed = true;
		s->recvd_fail = true;
		ide_stream_fail(p, s, PCITSM_E_PEER_ERROR, false);
	}
}

/* Commit a verified unit or TLP: IV counter, the key set switch (PCIe 6.x §6.33 key refresh), the
 * PR_Sent counters. */
static void rx_commit(struct pcitsm_ide_stream *s, struct pcitsm_ide_slot *sl,
		      enum pcitsm_ide_sub sub, unsigned kset, uint64_t npr, uint64_t cpl)
{
	sl->ctr++;
	if (kset != s->rx_kset[sub]) {
		ide_slot_invalidate(&s->slot[PCITSM_IDE_RX][sub][s->rx_kset[sub]]);
		s->rx_kset[sub] = (uint8_t)kset;
	}
	s->pr_recv_npr = npr;
	s->pr_recv_cpl = cpl;
}

/* The last TLP of a unit (or a single TLP): verify the MAC, then the counters, then deliver. */
static pcitsm_err rx_last(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s,
			  struct pcitsm_ide_rx_unit *u, struct pcitsm_ide_slot *sl,
			  const struct pcitsm_ide_tlp_view *v, const struct pcitsm_tlp *t, size_t dl,
			  struct pcitsm_ide_rx_out *out)
{
	enum pcitsm_ide_sub sub = v->pfx.sub;
	struct pcitsm_gcm_seg seg[PCITSM_IDE_AGG_MAX + 1];
	size_t off[PCITSM_IDE_AGG_MAX], len[PCITSM_IDE_AGG_MAX], pos = 0, total = 0, nseg = 0;
	uint8_t iv[PCITSM_GCM_IV_LEN], crc[PCITSM_IDE_PCRC_LEN], want[PCITSM_IDE_PCRC_LEN];
	uint64_t npr = s->pr_recv_npr, cpl = s->pr_recv_cpl;
	uint32_t c = PCITSM_IDE_PCRC_SEED;
	pcitsm_err e;

	/* PCIe 6.x §6.33 aggregation: at most 256 DW of payload per unit, its last TLP included
	 * (PCIe 6.x §6.33 error handling: a violation is an IDE Check Failed). */
	if (u->data_len + dl > PCITSM_IDE_AGG_DATA_MAX)
		return rx_fail(p, s, PCITSM_E_FIELD);
	/* Room for every TLP of the unit, checked before any state changes. */
	for (unsigned j = 0; j < u->n; j++)
		pos += u->hdr_len[j] + u->data_len_of[j];
	if (pos + v->hdr_len + dl > out->cap)
		return PCITSM_E_NOSPC;
	/* The current TLP joins the unit record. */
	u->hdr_off[u->n] = (uint8_t)u->aad_len;
	u->hdr_len[u->n] = (uint8_t)v->hdr_len;
	u->data_len_of[u->n] = (uint16_t)dl;
	u->pr_sent[u->n] = v->pfx.pr_sent;
	u->msg[u->n] = t->kind == PCITSM_TLP_MSG ? t->msg_code : 0;
	u->sync_npr[u->n] = t->msg_body[PCITSM_IDE_MSG_SYNC_NPR_BYTE - 12];
	u->sync_cpl[u->n] = t->msg_body[PCITSM_IDE_MSG_SYNC_CPL_BYTE - 12];
	copy_hdr(u->aad + u->aad_len, v->hdr - PCITSM_TLP_PREFIX_LEN,
		 PCITSM_TLP_PREFIX_LEN + v->hdr_len);
	u->aad_len += PCITSM_TLP_PREFIX_LEN + v->hdr_len;
	u->n++;
	pos = 0;
	for (unsigned j = 0; j < u->n; j++) {
		const uint8_t *src = j + 1 == u->n ? v->payload : u->data + u->data_off[j];

		off[j] = pos;
		len[j] = u->hdr_len[j] + (size_t)u->data_len_of[j];
		copy_hdr(out->buf + pos, u->aad + u->hdr_off[j] + PCITSM_TLP_PREFIX_LEN, u->hdr_len[j]);
		seg[nseg++] = (struct pcitsm_gcm_seg){ src, out->buf + pos + u->hdr_len[j],
						       u->data_len_of[j] };
		total += u->data_len_of[j];
		pos += len[j];
	}
	/* PCIe 6.x §6.33 PCRC: with PCRC enabled every unit with a MAC and a payload carries it. */
	if (s->pcrc && total && !v->pfx.p)
		return rx_fail(p, s, PCITSM_E_FIELD);
	if (v->pfx.p)
		seg[nseg++] = (struct pcitsm_gcm_seg){ v->payload + dl, crc, sizeof(crc) };
	make_iv(sl->ctr, iv);
	e = pcitsm_gcm_open(sl->key, iv, u->aad, u->aad_len, seg, nseg, v->mac, PCITSM_IDE_MAC_LEN);
	if (!e && !rx_counters(u, sub, &npr, &cpl))
		e = PCITSM_E_REPLAY;
	if (e) {
		pcitsm_wipe(out->buf, pos);
		return rx_fail(p, s, e);
	}
	rx_commit(s, sl, sub, u->kset, npr, cpl);
	if (v->pfx.p) {
		for (unsigned j = 0; j < u->n; j++)
			c = pcitsm_ide_pcrc_update(c, seg[j].out, seg[j].len);
		pcitsm_ide_pcrc_final(c, want);
		if (pcitsm_ct_memneq(want, crc, sizeof(crc))) {
			/* PCRC Check Failed: reported, the data is not used (PCIe 6.x §6.33 error
			 * handling). */
			pcitsm_wipe(out->buf, pos);
			s->stats.dropped += u->n;
			ide_rx_unit_reset(u);
			return PCITSM_E_HASH;
		}
	}
	rx_deliver(p, s, u, out, off, len);
	ide_rx_unit_reset(u);
	return PCITSM_OK;
}

/* Where the payload of t (T bit tee) is decrypted: where the port's rx_place says, else dflt. */
static uint8_t *rx_dest(struct pcitsm_ide_port *p, const struct pcitsm_tlp *t, bool tee,
			uint8_t *dflt)
{
	struct pcitsm_tlp h = *t;
	uint8_t *d;

	h.tee = tee;
	d = p->rx_place(p->rx_place_ctx, &h);
	return d ? d : dflt;
}

/* A TLP with a MAC and no unit in progress (the common case): the same checks as rx_last, with
 * the received prefix and header used in place as the AAD and the payload decrypted straight
 * into out->buf. */
static pcitsm_err rx_single(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s,
			    struct pcitsm_ide_slot *sl, const struct pcitsm_ide_tlp_view *v,
			    const struct pcitsm_tlp *t, size_t dl, struct pcitsm_ide_rx_out *out)
{
	enum pcitsm_ide_sub sub = v->pfx.sub;
	size_t hl = v->hdr_len;
	struct pcitsm_gcm_seg seg[2]; /* not zero-initialised: only what is used is set */
	uint8_t iv[PCITSM_GCM_IV_LEN], crc[PCITSM_IDE_PCRC_LEN], want[PCITSM_IDE_PCRC_LEN];
	uint64_t npr = s->pr_recv_npr, cpl = s->pr_recv_cpl;
	uint8_t msg = t->kind == PCITSM_TLP_MSG ? t->msg_code : 0;
	uint8_t *dst = out->buf + hl;
	pcitsm_err e;

	if (hl + dl > out->cap)
		return PCITSM_E_NOSPC;
	/* PCIe 6.x §6.33 PCRC: with PCRC enabled every TLP with a MAC and a payload carries it. */
	if (s->pcrc && dl && !v->pfx.p)
		return rx_fail(p, s, PCITSM_E_FIELD);
	if (p->rx_place && dl && !msg)
		dst = rx_dest(p, t, v->pfx.t, dst);
	seg[0] = (struct pcitsm_gcm_seg){ v->payload, dst, dl };
	if (v->pfx.p)
		seg[1] = (struct pcitsm_gcm_seg){ v->payload + dl, crc, sizeof(crc) };
	make_iv(sl->ctr, iv);
	e = pcitsm_gcm_open(sl->key, iv, v->hdr - PCITSM_TLP_PREFIX_LEN,
			    PCITSM_TLP_PREFIX_LEN + hl, seg, v->pfx.p ? 2 : 1, v->mac,
			    PCITSM_IDE_MAC_LEN);
	if (!e && !rx_counter_step(sub, msg, v->pfx.pr_sent,
				   t->msg_body[PCITSM_IDE_MSG_SYNC_NPR_BYTE - 12],
				   t->msg_body[PCITSM_IDE_MSG_SYNC_CPL_BYTE - 12], &npr, &cpl))
		e = PCITSM_E_REPLAY;
	if (e) {
		pcitsm_wipe(dst, dl); /* unverified plaintext, wherever rx_place put it */
		return rx_fail(p, s, e);
	}
	rx_commit(s, sl, sub, v->pfx.k, npr, cpl);
	s->stats.rx_tlps++;
	s->stats.rx_units++;
	if (v->pfx.p) {
		pcitsm_ide_pcrc_final(pcitsm_ide_pcrc_update(PCITSM_IDE_PCRC_SEED, dst, dl), want);
		if (pcitsm_ct_memneq(want, crc, sizeof(crc))) {
			/* PCRC Check Failed: reported, the data is not used (PCIe 6.x §6.33 error
			 * handling). */
			pcitsm_wipe(dst, dl);
			s->stats.dropped++;
			return PCITSM_E_HASH;
		}
	}
	if (msg == PCITSM_MSG_IDE_SYNC) {
		s->stats.rx_syncs++;
		out->consumed = true;
		return PCITSM_OK;
	}
	if (msg == PCITSM_MSG_IDE_FAIL) {
		/* A protected IDE Fail from the partner: Insecure. */
		out->consumed = true;
		s->recvd_fail = true;
		ide_stream_fail(p, s, PCITSM_E_PEER_ERROR, false);
		return PCITSM_OK;
	}
	copy_hdr(out->buf, v->hdr, hl);
	out->t[0] = v->pfx.t;
	out->off[0] = 0;
	out->len[0] = hl + dl;
	if (dst != out->buf + hl) {
		out->len[0] = hl;
		out->data = dst;
		out->data_len = dl;
	}
	out->n = 1;
	return PCITSM_OK;
}

static pcitsm_err rx_ide(struct pcitsm_ide_port *p, const uint8_t *in, size_t len,
			 struct pcitsm_ide_rx_out *out)
{
	struct pcitsm_ide_stream *s = NULL;
	struct pcitsm_ide_tlp_view v;
	struct pcitsm_ide_rx_unit *u;
	struct pcitsm_ide_slot *sl;
	struct pcitsm_tlp t;
	size_t dl;
	pcitsm_err e;

	e = pcitsm_ide_tlp_split(in, len, &v);
	if (len >= PCITSM_TLP_PREFIX_LEN)
		s = ide_stream_by_id(p, in[PCITSM_IDE_PFX_STREAM_BYTE]);
	if (!s || !s->enabled) {
		p->misrouted++; /* Misrouted IDE TLP: no associated stream (PCIe 6.x §6.33) */
		return e ? e : PCITSM_E_NOTFOUND;
	}
	out->stream = pcitsm_ide_stream_find(p, s->id);
	if (s->state != PCITSM_IDE_SECURE) { /* PCIe 6.x §6.33: Insecure receives nothing */
		s->stats.dropped++;
		return PCITSM_E_STATE;
	}
	if (e)
		return rx_fail(p, s, e);
	dl = v.payload_len - (v.pfx.p ? PCITSM_IDE_PCRC_LEN : 0);
	e = pcitsm_tlp_decode(v.hdr, v.hdr_len + dl, &t);
	if (e)
		return rx_fail(p, s, e);
	/* The TLP type must match its sub-stream, the TC the stream's (PCIe 6.x §6.33 error
	 * handling, selective stream rules). */
	if (sub_of(&t) != v.pfx.sub || t.tc != s->tc)
		return rx_fail(p, s, PCITSM_E_FIELD);
	u = &s->rx_unit[v.pfx.sub];
	sl = &s->slot[PCITSM_IDE_RX][v.pfx.sub][v.pfx.k];
	/* K may toggle only on a unit's first TLP, and only to a set that got K_SET_GO (PCIe 6.x
	 * §6.33 aggregation, key refresh). */
	if ((u->n && v.pfx.k != u->kset) || !sl->valid || !sl->go || sl->ctr == UINT64_MAX)
		return rx_fail(p, s, PCITSM_E_MAC);
	if (!v.pfx.m)
		return rx_hold(p, s, u, &v, &t, dl);
	if (!u->n)
		return rx_single(p, s, sl, &v, &t, dl, out);
	u->kset = v.pfx.k;
	return rx_last(p, s, u, sl, &v, &t, dl, out);
}

static inline pcitsm_err rx_one(struct pcitsm_ide_port *p, const uint8_t *in, size_t len,
				struct pcitsm_ide_rx_out *out)
{
	if (!in || !out || !out->buf)
		return PCITSM_E_INVAL;
	out->n = 0;
	out->stream = -1;
	out->consumed = false;
	out->data = NULL;
	out->data_len = 0;
	if (len && in[0] == PCITSM_IDE_PFX_BYTE0)
		return rx_ide(p, in, len, out);
	return rx_clear(p, in, len, out);
}

pcitsm_err pcitsm_ide_rx(struct pcitsm_ide_port *p, const uint8_t *in, size_t len,
			 struct pcitsm_ide_rx_out *out)
{
	if (!p)
		return PCITSM_E_INVAL;
	return rx_one(p, in, len, out);
}

pcitsm_err pcitsm_ide_rx_burst(struct pcitsm_ide_port *p, const uint8_t *const *in,
			       const size_t *len, struct pcitsm_ide_rx_out *out, size_t n,
			       size_t *done)
{
	pcitsm_err e = PCITSM_OK;
	size_t i;

	if (done)
		*done = 0;
	if (!p || !done || (n && (!in || !len || !out)))
		return PCITSM_E_INVAL;
	/* Each TLP verified and committed (or discarded, with the stream's error handling) before
	 * the next; the first error stops the burst with the rest untouched. */
	for (i = 0; i < n; i++) {
		e = rx_one(p, in[i], len[i], &out[i]);
		if (e)
			break;
	}
	*done = i;
	return e;
}
