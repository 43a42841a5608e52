/* SPDX-License-Identifier: MIT */
/*
 * The IDE engine's control side: selective stream configuration from the port's registers, the
 * IDE_KM operations (KEY_PROG, K_SET_GO, K_SET_STOP), Enable, the Secure / Insecure state
 * (PCIe 6.x §6.33 streams and sub-streams, key refresh, error handling), transmit association
 * (PCIe 6.x §6.33 selective stream rules), and the IDE Sync / IDE Fail messages a port owes its
 * partner (PCIe 6.x §6.33 PR_Sent counters, §2.2.8 IDE messages).
 */
#include <stdlib.h>
#include <string.h>

#include "ide_engine.h"

#define NO_STREAM PCITSM_IDE_NO_STREAM

static size_t port_size(unsigned nr_streams)
{
	return sizeof(struct pcitsm_ide_port) + nr_streams * sizeof(struct pcitsm_ide_stream);
}

pcitsm_err pcitsm_ide_port_new_streams(struct pcitsm_ide_port **out, struct pcitsm_gcm *gcm,
				       const struct pcitsm_env *env, uint16_t rid,
				       unsigned nr_streams)
{
	struct pcitsm_ide_port *p;

	if (!out || !gcm || !env || !nr_streams || nr_streams > PCITSM_IDE_PORT_STREAMS_MAX)
		return PCITSM_E_INVAL;
	p = calloc(1, port_size(nr_streams));
	if (!p)
		return PCITSM_E_NOMEM;
	p->gcm = gcm;
	p->env = env;
	p->rid = rid;
	p->rx_aggregation = true;
	p->nr_streams = nr_streams;
	for (unsigned id = 0; id < PCITSM_ARRAY_SIZE(p->id_to_idx); id++)
		p->id_to_idx[id] = NO_STREAM;
	*out = p;
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_port_new(struct pcitsm_ide_port **out, struct pcitsm_gcm *gcm,
			       const struct pcitsm_env *env, uint16_t rid)
{
	return pcitsm_ide_port_new_streams(out, gcm, env, rid, PCITSM_IDE_PORT_STREAMS_DEFAULT);
}

void ide_slot_invalidate(struct pcitsm_ide_slot *sl)
{
	pcitsm_gcm_key_clear(sl->key);
	sl->ctr = 0;
	sl->valid = false;
	sl->go = false;
}

static void keys_invalidate(struct pcitsm_ide_stream *s)
{
	for (int d = 0; d < 2; d++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
			for (int k = 0; k < 2; k++)
				ide_slot_invalidate(&s->slot[d][u][k]);
	for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
		ide_rx_unit_reset(&s->rx_unit[u]);
}

void pcitsm_ide_port_free(struct pcitsm_ide_port *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->nr_streams; i++) {
		keys_invalidate(&p->stream[i]);
		for (int d = 0; d < 2; d++)
			for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
				for (int k = 0; k < 2; k++)
					pcitsm_gcm_key_free(p->stream[i].slot[d][u][k].key);
	}
	pcitsm_wipe(p, port_size(p->nr_streams));
	free(p);
}

void ide_rx_unit_reset(struct pcitsm_ide_rx_unit *u)
{
	if (u->n)
		pcitsm_wipe(u->data, u->data_len);
	u->n = 0;
	u->aad_len = 0;
	u->data_len = 0;
}

/* PCIe 6.x §6.33 error handling: Secure -> Insecure; keys and IVs invalidated; the partner told
 * with IDE Fail. */
void ide_stream_fail(struct pcitsm_ide_port *p, struct pcitsm_ide_stream *s, pcitsm_err why,
		     bool send_fail)
{
	bool was_secure = s->state == PCITSM_IDE_SECURE;

	if (was_secure) {
		s->stats.check_failed++;
		pcitsm_info(p->env, "ide: stream %u insecure: %s", s->id, pcitsm_err_name(why));
	}
	s->state = PCITSM_IDE_INSECURE;
	s->fail_reason = why;
	s->sync_pending = false;
	keys_invalidate(s);
	if (send_fail && s->rid_valid)
		s->fail_pending = true;
	/* TDISP (PCIe 6.x §11): a bound stream going Insecure takes its TDIs to ERROR. */
	if (was_secure && p->on_insecure)
		p->on_insecure(p->on_insecure_arg, s->id);
}

/* Tx Aggregation Mode encoding (PCIe 6.x §7.9.26): 00 none, 01 up to 2, 10 up to 4, 11 up to 8. */
static uint8_t agg_count(uint8_t mode) { return (uint8_t)(1u << (mode & 3)); }

static pcitsm_err check_sel(const struct pcitsm_ide_sel *sel)
{
	if (sel->ctl.alg != 0 || sel->ctl.phe != 0)
		return PCITSM_E_UNSUPPORTED; /* AES-GCM-256 only; no partial header encryption */
	if (sel->ctl.stream_id == PCITSM_IDE_RESERVED_STREAM_ID || sel->ctl.tc > 7 ||
	    sel->nr_addr > PCITSM_IDE_MAX_ADDR)
		return PCITSM_E_FIELD;
	if (sel->rid_valid && sel->rid_base > sel->rid_limit)
		return PCITSM_E_FIELD;
	for (unsigned j = 0; j < sel->nr_addr; j++)
		if (sel->addr[j].valid && sel->addr[j].base > sel->addr[j].limit)
			return PCITSM_E_FIELD;
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_stream_config(struct pcitsm_ide_port *p, unsigned idx,
				    const struct pcitsm_ide_sel *sel)
{
	struct pcitsm_ide_stream *s;
	uint16_t other;

	if (!p || !sel || idx >= p->nr_streams)
		return PCITSM_E_INVAL;
	s = &p->stream[idx];
	if (s->enabled)
		return PCITSM_E_STATE;
	PCITSM_TRY(check_sel(sel));
	other = p->id_to_idx[sel->ctl.stream_id];
	if (other != NO_STREAM && other != idx)
		return PCITSM_E_EXISTS; /* Stream IDs are unique per port (PCIe 6.x §7.9.26) */
	/* New programming: keys of the old one are lost (PCIe 6.x §6.33 streams and sub-streams
	 * "loss of capability programming"). */
	keys_invalidate(s);
	if (s->configured)
		p->id_to_idx[s->id] = NO_STREAM;
	s->id = sel->ctl.stream_id;
	s->tc = sel->ctl.tc;
	s->default_stream = sel->ctl.default_stream;
	s->cfg_en = sel->ctl.cfg_en;
	s->pcrc = sel->ctl.pcrc;
	s->tee_limited = sel->ctl.tee_limited;
	s->agg[PCITSM_IDE_SUB_PR] = agg_count(sel->ctl.agg_pr);
	s->agg[PCITSM_IDE_SUB_NPR] = agg_count(sel->ctl.agg_npr);
	s->agg[PCITSM_IDE_SUB_CPL] = agg_count(sel->ctl.agg_cpl);
	s->rid_valid = sel->rid_valid;
	s->rid_base = sel->rid_base;
	s->rid_limit = sel->rid_limit;
	s->nr_addr = sel->nr_addr;
	memcpy(s->addr, sel->addr, sizeof(s->addr));
	s->state = PCITSM_IDE_INSECURE;
	s->configured = true;
	p->id_to_idx[s->id] = (uint16_t)idx;
	return PCITSM_OK;
}

struct pcitsm_ide_stream *ide_stream_by_id(struct pcitsm_ide_port *p, uint8_t id)
{
	uint16_t i = p->id_to_idx[id];

	return i == NO_STREAM ? NULL : &p->stream[i];
}

int pcitsm_ide_stream_find(const struct pcitsm_ide_port *p, uint8_t id)
{
	return p->id_to_idx[id] == NO_STREAM ? -1 : p->id_to_idx[id];
}

static pcitsm_err slot_lookup(struct pcitsm_ide_port *p, uint8_t id, unsigned kset,
			      enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
			      struct pcitsm_ide_stream **s, struct pcitsm_ide_slot **sl)
{
	if (!p || kset > 1 || (unsigned)dir > 1 || (unsigned)sub >= PCITSM_IDE_NR_SUB)
		return PCITSM_E_INVAL;
	*s = ide_stream_by_id(p, id);
	if (!*s)
		return PCITSM_E_NOTFOUND;
	*sl = &(*s)->slot[dir][sub][kset];
	return PCITSM_OK;
}

/* The slot a Secure stream is using right now in that direction and sub-stream. */
static bool slot_in_use(const struct pcitsm_ide_stream *s, unsigned kset, enum pcitsm_ide_dir dir,
			enum pcitsm_ide_sub sub)
{
	if (s->state != PCITSM_IDE_SECURE)
		return false;
	return dir == PCITSM_IDE_TX ? s->tx_kset == kset : s->rx_kset[sub] == kset;
}

pcitsm_err pcitsm_ide_key_prog_aes(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
				   enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				   const uint8_t aes_key[32], uint64_t ifv)
{
	struct pcitsm_ide_stream *s;
	struct pcitsm_ide_slot *sl;
	pcitsm_err e;

	PCITSM_TRY(slot_lookup(p, stream_id, kset, dir, sub, &s, &sl));
	/* PCIe 6.x §6.33 AES-GCM: the counter starts at the IFV and never wraps; 0 is not a valid
	 * start. */
	if (ifv == 0 || ifv == UINT64_MAX)
		return PCITSM_E_FIELD;
	if (slot_in_use(s, kset, dir, sub))
		return PCITSM_E_BUSY;
	if (!sl->key)
		PCITSM_TRY(pcitsm_gcm_key_new(p->gcm, &sl->key));
	ide_slot_invalidate(sl);
	e = pcitsm_gcm_key_set(sl->key, aes_key);
	if (e)
		return e;
	sl->ctr = ifv;
	sl->valid = true;
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_key_prog(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
			       enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
			       const uint8_t key[32], const uint8_t ifv[8])
{
	uint8_t aes[32];
	pcitsm_err e;

	pcitsm_ide_km_key_to_aes(key, aes);
	e = pcitsm_ide_key_prog_aes(p, stream_id, kset, dir, sub, aes,
				    pcitsm_ide_km_ifv_decode(ifv));
	pcitsm_wipe(aes, sizeof(aes));
	return e;
}

static bool set_ready(const struct pcitsm_ide_stream *s, enum pcitsm_ide_dir dir, unsigned kset)
{
	for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
		if (!s->slot[dir][u][kset].valid || !s->slot[dir][u][kset].go)
			return false;
	return true;
}

/* PCIe 6.x §6.33 key refresh: a transmitter that toggles K on one sub-stream uses the new K on all
 * of them, so it switches once all three of its sub-streams have the new set GO. */
static void tx_maybe_switch(struct pcitsm_ide_stream *s, unsigned kset)
{
	if (s->state != PCITSM_IDE_SECURE || s->tx_kset == kset || !set_ready(s, PCITSM_IDE_TX, kset))
		return;
	for (int u = 0; u < PCITSM_IDE_NR_SUB; u++)
		ide_slot_invalidate(&s->slot[PCITSM_IDE_TX][u][s->tx_kset]);
	s->tx_kset = (uint8_t)kset;
}

pcitsm_err pcitsm_ide_k_set_go(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
			       enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	struct pcitsm_ide_stream *s;
	struct pcitsm_ide_slot *sl;

	PCITSM_TRY(slot_lookup(p, stream_id, kset, dir, sub, &s, &sl));
	if (!sl->valid)
		return PCITSM_E_STATE;
	sl->go = true;
	/* A receiver keeps the old set until the first TLP with the toggled K (pcitsm_ide_rx). */
	if (dir == PCITSM_IDE_TX)
		tx_maybe_switch(s, kset);
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_k_set_stop(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
				 enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	struct pcitsm_ide_stream *s;
	struct pcitsm_ide_slot *sl;

	PCITSM_TRY(slot_lookup(p, stream_id, kset, dir, sub, &s, &sl));
	if (slot_in_use(s, kset, dir, sub))
		return PCITSM_E_BUSY;
	ide_slot_invalidate(sl);
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_stream_enable(struct pcitsm_ide_port *p, unsigned idx)
{
	struct pcitsm_ide_stream *s;

	if (!p || idx >= p->nr_streams)
		return PCITSM_E_INVAL;
	s = &p->stream[idx];
	if (!s->configured)
		return PCITSM_E_STATE;
	s->enabled = true;
	if (s->state == PCITSM_IDE_SECURE || !s->rid_valid)
		return PCITSM_OK; /* RID association not Valid: stays Insecure (PCIe 6.x §7.9.26) */
	/* Secure needs one key set programmed and GO in all six (direction x sub-stream) slots. */
	for (unsigned k = 0; k < 2; k++) {
		if (!set_ready(s, PCITSM_IDE_RX, k) || !set_ready(s, PCITSM_IDE_TX, k))
			continue;
		s->tx_kset = (uint8_t)k;
		memset(s->rx_kset, (int)k, sizeof(s->rx_kset));
		/* PCIe 6.x §6.33 PR_Sent counters: both sides' counters are 0 on entering
		 * Secure. */
		s->pr_sent_npr = s->pr_sent_cpl = 0;
		s->pr_recv_npr = s->pr_recv_cpl = 0;
		s->sync_pending = s->fail_pending = false;
		s->recvd_fail = false;
		s->fail_reason = PCITSM_OK;
		s->state = PCITSM_IDE_SECURE;
		break;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_stream_disable(struct pcitsm_ide_port *p, unsigned idx)
{
	struct pcitsm_ide_stream *s;

	if (!p || idx >= p->nr_streams)
		return PCITSM_E_INVAL;
	s = &p->stream[idx];
	s->enabled = false;
	s->state = PCITSM_IDE_INSECURE;
	s->fail_pending = s->sync_pending = false;
	keys_invalidate(s);
	return PCITSM_OK;
}

pcitsm_err pcitsm_ide_stream_unconfigure(struct pcitsm_ide_port *p, unsigned idx)
{
	struct pcitsm_ide_stream *s;

	if (!p || idx >= p->nr_streams)
		return PCITSM_E_INVAL;
	s = &p->stream[idx];
	/* Enable cleared first: Insecure, every key and IV invalidated (the expanded keys stay
	 * allocated and cleared, for the next KEY_PROG). */
	PCITSM_TRY(pcitsm_ide_stream_disable(p, idx));
	if (s->configured && p->id_to_idx[s->id] == idx)
		p->id_to_idx[s->id] = NO_STREAM;
	s->configured = false;
	/* No association left behind (stats and the last fail_reason stay for diagnostics). */
	s->id = 0;
	s->tc = 0;
	s->default_stream = s->cfg_en = s->pcrc = s->tee_limited = false;
	memset(s->agg, 0, sizeof(s->agg));
	s->rid_valid = false;
	s->rid_base = s->rid_limit = 0;
	s->nr_addr = 0;
	memset(s->addr, 0, sizeof(s->addr));
	s->recvd_fail = false;
	return PCITSM_OK;
}

enum pcitsm_ide_state pcitsm_ide_stream_state(const struct pcitsm_ide_port *p, unsigned idx)
{
	if (!p || idx >= p->nr_streams)
		return PCITSM_IDE_INSECURE;
	return p->stream[idx].state;
}

pcitsm_err pcitsm_ide_key_usage(const struct pcitsm_ide_port *p, uint8_t stream_id,
				struct pcitsm_ide_key_usage *u)
{
	const struct pcitsm_ide_stream *s;

	if (!p || !u)
		return PCITSM_E_INVAL;
	memset(u, 0, sizeof(*u));
	if (p->id_to_idx[stream_id] == NO_STREAM)
		return PCITSM_E_NOTFOUND;
	s = &p->stream[p->id_to_idx[stream_id]];
	u->secure = s->state == PCITSM_IDE_SECURE;
	for (unsigned sub = 0; sub < PCITSM_IDE_NR_SUB; sub++) {
		u->kset[PCITSM_IDE_TX][sub] = s->tx_kset;
		u->kset[PCITSM_IDE_RX][sub] = s->rx_kset[sub];
		for (unsigned d = 0; d < 2; d++) {
			const struct pcitsm_ide_slot *sl = &s->slot[d][sub][u->kset[d][sub]];

			u->ctr[d][sub] = sl->valid ? sl->ctr : 0;
		}
	}
	return PCITSM_OK;
}

static bool rid_in(const struct pcitsm_ide_stream *s, uint16_t rid)
{
	return s->rid_valid && rid >= s->rid_base && rid <= s->rid_limit;
}

static bool addr_in(const struct pcitsm_ide_stream *s, uint64_t addr)
{
	for (unsigned j = 0; j < s->nr_addr; j++)
		if (s->addr[j].valid && addr >= s->addr[j].base && addr <= s->addr[j].limit)
			return true;
	return false;
}

/* Association at the transmitter (PCIe 6.x §6.33 selective stream rules). Completions use the RID
 * range of their destination (the requester), which is where their request's stream came from. */
static bool stream_matches(const struct pcitsm_ide_stream *s, const struct pcitsm_tlp *t)
{
	switch (t->kind) {
	case PCITSM_TLP_MRD:
	case PCITSM_TLP_MWR:
		return addr_in(s, t->addr);
	case PCITSM_TLP_CFGRD1:
	case PCITSM_TLP_CFGWR1:
		return s->cfg_en && rid_in(s, t->target_id);
	case PCITSM_TLP_CPL:
	case PCITSM_TLP_CPLD:
		return rid_in(s, t->req_id);
	case PCITSM_TLP_MSG:
		return t->msg_route == PCITSM_MSG_ROUTE_ID && rid_in(s, t->target_id);
	}
	return false;
}

int pcitsm_ide_select(const struct pcitsm_ide_port *p, const struct pcitsm_tlp *t)
{
	int dflt = -1;

	for (int i = 0; i < (int)p->nr_streams; i++) {
		const struct pcitsm_ide_stream *s = &p->stream[i];

		if (!s->enabled || s->tc != t->tc)
			continue;
		if (stream_matches(s, t))
			return i;
		if (s->default_stream && dflt < 0)
			dflt = i;
	}
	/* Default Stream: every TLP of its TC that matches no other stream (PCIe 6.x §7.9.26 bit
	 * 22). */
	return dflt;
}

/* Is a plaintext TLP from the partner one that a Secure stream should have carried? */
int ide_rx_owner(const struct pcitsm_ide_port *p, const struct pcitsm_tlp *t)
{
	uint16_t src = t->kind == PCITSM_TLP_CPL || t->kind == PCITSM_TLP_CPLD ? t->cpl_id : t->req_id;

	for (int i = 0; i < (int)p->nr_streams; i++) {
		const struct pcitsm_ide_stream *s = &p->stream[i];

		if (s->state == PCITSM_IDE_SECURE && s->tc == t->tc &&
		    (s->default_stream || rid_in(s, src)))
			return i;
	}
	return -1;
}

static void msg_init(const struct pcitsm_ide_port *p, const struct pcitsm_ide_stream *s,
		     uint8_t code, struct pcitsm_tlp *m)
{
	/* PCIe 6.x §2.2.8 IDE messages: routed by ID to the RID Base of the RID association, TC of
	 * the stream, Requester ID of the function implementing IDE. */
	memset(m, 0, sizeof(*m));
	m->kind = PCITSM_TLP_MSG;
	m->msg_route = PCITSM_MSG_ROUTE_ID;
	m->msg_code = code;
	m->target_id = s->rid_base;
	m->req_id = p->rid;
	m->tc = s->tc;
}

pcitsm_err pcitsm_ide_next_msg(struct pcitsm_ide_port *p, uint8_t *out, size_t cap, size_t *len)
{
	struct pcitsm_tlp m;
	uint8_t plain[PCITSM_TLP_HDR_MAX];
	size_t n;

	for (int i = 0; i < (int)p->nr_streams; i++) {
		struct pcitsm_ide_stream *s = &p->stream[i];

		if (!s->fail_pending)
			continue;
		/* The stream is Insecure now, so the Fail goes as a plain TLP (PCIe 6.x §2.2.8 IDE
		 * messages). */
		msg_init(p, s, PCITSM_MSG_IDE_FAIL, &m);
		m.msg_body[PCITSM_IDE_MSG_FAIL_STREAM_BYTE - 12] = s->id;
		PCITSM_TRY(pcitsm_tlp_encode(&m, out, cap, len));
		s->fail_pending = false;
		return PCITSM_OK;
	}
	for (int i = 0; i < (int)p->nr_streams; i++) {
		struct pcitsm_ide_stream *s = &p->stream[i];
		struct pcitsm_ide_io io;

		if (!s->sync_pending)
			continue;
		s->sync_pending = false;
		if (s->state != PCITSM_IDE_SECURE || !s->rid_valid)
			continue;
		/* The counters go in when the TX path seals it (ide_tx_unit). */
		msg_init(p, s, PCITSM_MSG_IDE_SYNC, &m);
		PCITSM_TRY(pcitsm_tlp_encode(&m, plain, sizeof(plain), &n));
		io = (struct pcitsm_ide_io){ plain, n, out, cap, 0 };
		PCITSM_TRY(ide_tx_stream(p, i, &io, 1));
		*len = io.out_len;
		return PCITSM_OK;
	}
	return PCITSM_E_NOTFOUND;
}
