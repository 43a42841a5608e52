/* SPDX-License-Identifier: MIT */
/*
 * The emulated link between a root port and an endpoint: every TLP crosses it in order, through a
 * tap that may observe, modify, drop, duplicate, hold back (reorder), replay and inject. This is
 * the adapter around the two IDE engines: it moves bytes, the engines decide.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/ide.h"

pcitsm_err pcitsm_ide_wire_new(struct pcitsm_ide_wire **out, struct pcitsm_ide_port *rp,
			       struct pcitsm_ide_port *ep, pcitsm_ide_sink_fn sink)
{
	struct pcitsm_ide_wire *w;

	if (!out || !rp || !ep || !sink)
		return PCITSM_E_INVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return PCITSM_E_NOMEM;
	w->port[PCITSM_IDE_SIDE_RP] = rp;
	w->port[PCITSM_IDE_SIDE_EP] = ep;
	w->sink = sink;
	*out = w;
	return PCITSM_OK;
}

void pcitsm_ide_wire_free(struct pcitsm_ide_wire *w)
{
	if (!w)
		return;
	pcitsm_wipe(w->rx_buf, sizeof(w->rx_buf)); /* delivered plaintext */
	pcitsm_wipe(w->burst_rx, sizeof(w->burst_rx));
	free(w);
}

static pcitsm_err enqueue(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, const uint8_t *p,
			  size_t len)
{
	struct pcitsm_ide_frame *f;

	if (len > sizeof(f->data))
		return PCITSM_E_INVAL;
	if (w->q_n[from] == PCITSM_IDE_WIRE_QUEUE)
		return PCITSM_E_EXHAUSTED;
	f = &w->q[from][(w->q_head[from] + w->q_n[from]) % PCITSM_IDE_WIRE_QUEUE];
	memcpy(f->data, p, len);
	f->len = len;
	w->q_n[from]++;
	return PCITSM_OK;
}

/* A frame leaves a port: the tap decides what the wire carries. */
static pcitsm_err put(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
		      struct pcitsm_ide_frame *f)
{
	enum pcitsm_tap_verdict v = w->tap ? w->tap(w, from, f) : PCITSM_TAP_PASS;

	w->stats[!from].sent++;
	if (f->len > sizeof(f->data))
		return PCITSM_E_INVAL;
	switch (v) {
	case PCITSM_TAP_DROP:
		return PCITSM_OK;
	case PCITSM_TAP_DUPLICATE:
		PCITSM_TRY(enqueue(w, from, f->data, f->len));
		return enqueue(w, from, f->data, f->len);
	case PCITSM_TAP_HOLD:
		if (w->hold_n[from] < PCITSM_IDE_WIRE_HOLD) {
			w->hold[from][w->hold_n[from]++] = *f;
			return PCITSM_OK;
		}
		return enqueue(w, from, f->data, f->len);
	default:
		return enqueue(w, from, f->data, f->len);
	}
}

/* IDE Sync and IDE Fail the port owes its partner. */
static pcitsm_err flush_msgs(struct pcitsm_ide_wire *w, enum pcitsm_ide_side side)
{
	while (pcitsm_ide_next_msg(w->port[side], w->msg.data, sizeof(w->msg.data), &w->msg.len) ==
	       PCITSM_OK)
		PCITSM_TRY(put(w, side, &w->msg));
	return PCITSM_OK;
}

/* Delivered TLP j of o, for the sink: in o's buffer, or its header there and its payload where
 * the port's rx_place put it. */
static struct pcitsm_tlp_ref delivered(const struct pcitsm_ide_rx_out *o, size_t j)
{
	return (struct pcitsm_tlp_ref){ o->buf + o->off[j], o->len[j], o->data, o->data_len };
}

static void deliver(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to)
{
	struct pcitsm_ide_rx_out out = { .buf = w->rx_buf, .cap = sizeof(w->rx_buf) };
	struct pcitsm_ide_wire_stats *st = &w->stats[to];
	pcitsm_err e;

	e = pcitsm_ide_rx(w->port[to], w->cur.data, w->cur.len, &out);
	if (e) {
		st->rejected++;
		st->last_reject = e;
	}
	for (size_t i = 0; i < out.n; i++) {
		const struct pcitsm_tlp_ref r = delivered(&out, i);

		st->delivered++;
		w->sink(w, to, &r, out.t[i]);
	}
	if (out.n && w->sink_end)
		w->sink_end(w, to);
	(void)flush_msgs(w, to);
}

void pcitsm_ide_wire_run(struct pcitsm_ide_wire *w)
{
	bool more = true;

	if (w->running)
		return; /* a sink that sends: its TLPs are carried by the outer loop */
	w->running = true;
	while (more) {
		more = false;
		for (int from = 0; from < 2; from++) {
			if (!w->q_n[from])
				continue;
			w->cur = w->q[from][w->q_head[from]];
			w->q_head[from] = (w->q_head[from] + 1) % PCITSM_IDE_WIRE_QUEUE;
			w->q_n[from]--;
			deliver(w, (enum pcitsm_ide_side)!from);
			more = true;
		}
	}
	w->running = false;
}

static pcitsm_err tx(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, bool tee,
		     const struct pcitsm_tlp_ref *tlps, size_t n)
{
	struct pcitsm_ide_io io[PCITSM_IDE_AGG_MAX];

	for (size_t i = 0; i < n; i++)
		io[i] = (struct pcitsm_ide_io){ tlps[i].hdr, tlps[i].hdr_len, w->txf[i].data,
						sizeof(w->txf[i].data), 0, tee, tlps[i].data,
						tlps[i].data_len };
	PCITSM_TRY(pcitsm_ide_tx(w->port[from], io, n));
	for (size_t i = 0; i < n; i++)
		w->txf[i].len = io[i].out_len;
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_wire_send(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, bool tee,
				const uint8_t *const *tlps, const size_t *lens, size_t n)
{
	struct pcitsm_tlp_ref r[PCITSM_IDE_AGG_MAX];
	pcitsm_err e;

	if (!w || !tlps || !lens || !n || n > PCITSM_IDE_AGG_MAX || (unsigned)from > 1)
		return PCITSM_E_INVAL;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct pcitsm_tlp_ref){ tlps[i], lens[i], NULL, 0 };
	e = tx(w, from, tee, r, n);
	if (e == PCITSM_E_BUSY) {
		/* PCIe 6.x §6.33 PR_Sent counters: the IDE Sync goes first, then the TLPs. */
		PCITSM_TRY(flush_msgs(w, from));
		e = tx(w, from, tee, r, n);
	}
	if (e) {
		w->stats[!from].tx_refused++;
		return e;
	}
	for (size_t i = 0; i < n; i++)
		PCITSM_TRY(put(w, from, &w->txf[i]));
	PCITSM_TRY(flush_msgs(w, from));
	pcitsm_ide_wire_run(w);
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Bursts.
 */

/* The TLPs built in burst_tx[from][0..k-1] cross to the other side: received in bursts (a TLP the
 * receiver rejects is counted, as deliver() does, and the rest carry on), handed to the sink in
 * order, then sink_end. */
static void burst_deliver(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, size_t k)
{
	enum pcitsm_ide_side to = (enum pcitsm_ide_side)!from;
	struct pcitsm_ide_wire_stats *st = &w->stats[to];
	struct pcitsm_ide_rx_out *out = w->burst_out[from];
	const uint8_t *in[PCITSM_IDE_WIRE_BURST];
	size_t len[PCITSM_IDE_WIRE_BURST], got = 0;
	bool any = false;

	for (size_t i = 0; i < k; i++) {
		in[i] = w->burst_tx[from][i].data;
		len[i] = w->burst_tx[from][i].len;
		out[i] = (struct pcitsm_ide_rx_out){ .buf = w->burst_rx[from][i],
						     .cap = sizeof(w->burst_rx[from][i]) };
	}
	st->sent += k;
	while (got < k) {
		size_t d;
		pcitsm_err e = pcitsm_ide_rx_burst(w->port[to], in + got, len + got, out + got,
						   k - got, &d);

		got += d;
		if (e) {
			st->rejected++;
			st->last_reject = e;
			out[got++].n = 0; /* what a single rx leaves of a rejected TLP: nothing */
		}
	}
	for (size_t i = 0; i < k; i++) {
		for (size_t j = 0; j < out[i].n; j++) {
			const struct pcitsm_tlp_ref r = delivered(&out[i], j);

			st->delivered++;
			w->sink(w, to, &r, out[i].t[j]);
			any = true;
		}
	}
	if (any && w->sink_end)
		w->sink_end(w, to);
	(void)flush_msgs(w, to);
}

/* One TLP the slow way: as pcitsm_ide_wire_send of one TLP, without running the queue. */
static pcitsm_err send_queued(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, bool tee,
			      const struct pcitsm_tlp_ref *tlp)
{
	pcitsm_err e = tx(w, from, tee, tlp, 1);

	if (e == PCITSM_E_BUSY) {
		PCITSM_TRY(flush_msgs(w, from));
		e = tx(w, from, tee, tlp, 1);
	}
	if (e) {
		w->stats[!from].tx_refused++;
		return e;
	}
	PCITSM_TRY(put(w, from, &w->txf[0]));
	return flush_msgs(w, from);
}

/* A link on which neither port has a stream enabled or Secure carries every T=0 TLP in the clear:
 * the transmitter would copy it out unchanged and the receiver copy it in unchanged (PCIe 6.x
 * §6.33 selective stream rules: no stream selects it, none owns it). Then the burst's own TLPs go
 * to the sink as they are, header and payload where the sender has them, without the copies; the
 * engines' checks of such a TLP (it decodes, it is not an IDE message) are made here, and anything
 * else takes the engines' path. */
static bool clear_link(const struct pcitsm_ide_wire *w, bool tee)
{
	if (tee)
		return false;
	for (int side = 0; side < 2; side++)
		for (int i = 0; (unsigned)i < w->port[side]->nr_streams; i++)
			if (w->port[side]->stream[i].enabled ||
			    w->port[side]->stream[i].state == PCITSM_IDE_SECURE)
				return false;
	return true;
}

static bool clear_tlps(const struct pcitsm_tlp_ref *tlps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pcitsm_tlp t;

		if (!tlps[i].hdr || pcitsm_tlp_decode_ref(&tlps[i], &t) != PCITSM_OK ||
		    t.kind == PCITSM_TLP_MSG)
			return false;
	}
	return true;
}

static void clear_deliver(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
			  const struct pcitsm_tlp_ref *tlps, size_t n)
{
	enum pcitsm_ide_side to = (enum pcitsm_ide_side)!from;
	bool was_running = w->running;

	w->running = true;
	w->burst_busy[from] = true;
	w->stats[to].sent += n;
	w->stats[to].delivered += n;
	for (size_t i = 0; i < n; i++)
		w->sink(w, to, &tlps[i], false);
	if (n && w->sink_end)
		w->sink_end(w, to);
	w->burst_busy[from] = false;
	w->running = was_running;
	if (!was_running)
		pcitsm_ide_wire_run(w);
}

/* Up to PCITSM_IDE_WIRE_BURST TLPs with the engines' burst calls; *sent: how many went. */
static pcitsm_err burst_chunk(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, bool tee,
			      const struct pcitsm_tlp_ref *tlps, size_t n, size_t *sent)
{
	struct pcitsm_ide_io io[PCITSM_IDE_WIRE_BURST];
	bool was_running = w->running;
	size_t k;
	pcitsm_err e;

	/* Each payload is sealed from where the sender has it, straight into the wire frame. */
	for (size_t i = 0; i < n; i++)
		io[i] = (struct pcitsm_ide_io){ tlps[i].hdr,
						tlps[i].hdr_len,
						w->burst_tx[from][i].data,
						sizeof(w->burst_tx[from][i].data),
						0,
						tee,
						tlps[i].data,
						tlps[i].data_len };
	e = pcitsm_ide_tx_burst(w->port[from], io, n, &k);
	for (size_t i = 0; i < k; i++)
		w->burst_tx[from][i].len = io[i].out_len;
	/* What the sink sends back while these are delivered waits in the queue (wire_run). */
	w->running = true;
	w->burst_busy[from] = true;
	if (k)
		burst_deliver(w, from, k);
	w->burst_busy[from] = false;
	w->running = was_running;
	*sent = k;
	if (e == PCITSM_E_BUSY) {
		/* PCIe 6.x §6.33 PR_Sent counters: the IDE Sync goes here, between the TLPs. */
		e = flush_msgs(w, from);
	} else if (e) {
		w->stats[!from].tx_refused++;
	}
	if (!was_running)
		pcitsm_ide_wire_run(w);
	return e;
}

pcitsm_err pcitsm_ide_wire_send_burst(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				      bool tee, const struct pcitsm_tlp_ref *tlps, size_t n,
				      size_t *done)
{
	size_t i = 0;
	pcitsm_err e = PCITSM_OK;

	if (done)
		*done = 0;
	if (!w || !tlps || !done || (unsigned)from > 1)
		return PCITSM_E_INVAL;
	while (i < n && !e) {
		if (w->tap || w->q_n[from] || w->burst_busy[from]) {
			/* The tap acts on each TLP; queued frames go first: one by one. */
			e = send_queued(w, from, tee, &tlps[i]);
			if (!e) {
				i++;
				pcitsm_ide_wire_run(w);
			}
		} else {
			size_t k = PCITSM_MIN(n - i, (size_t)PCITSM_IDE_WIRE_BURST), sent;

			if (clear_link(w, tee) && clear_tlps(tlps + i, k)) {
				clear_deliver(w, from, tlps + i, k);
				i += k;
				continue;
			}
			e = burst_chunk(w, from, tee, tlps + i, k, &sent);
			i += sent;
		}
	}
	*done = i;
	return e;
}

pcitsm_err pcitsm_ide_wire_inject(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				  const uint8_t *bytes, size_t len)
{
	if (!w || !bytes || (unsigned)from > 1)
		return PCITSM_E_INVAL;
	return enqueue(w, from, bytes, len);
}

void pcitsm_ide_wire_release(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from)
{
	for (unsigned i = 0; i < w->hold_n[from]; i++)
		(void)enqueue(w, from, w->hold[from][i].data, w->hold[from][i].len);
	w->hold_n[from] = 0;
}
