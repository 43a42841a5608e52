/* SPDX-License-Identifier: MIT */
/*
 * IDE_KM responder engine: a device's side of PCIe 6.x §6.33.3. QUERY_RESP is read live from the
 * function's IDE capability; KEY_PROG, K_SET_GO and K_SET_STOP drive the port's IDE engine
 * (lib/ide).
 *
 * What gets an answer and what gets none (docs/idekm.md has the table):
 *   - not IDE_KM, unknown or response object IDs, a QUERY / K_SET_* of the wrong size or with
 *     reserved bits set, an unknown port index on QUERY / K_SET_*, a K_SET_* the engine refuses:
 *     no response (PCIe 6.x §6.33.3: wrong-size payloads are ignored; invalid K_SET_GO/STOP: no ack);
 *   - KEY_PROG: every failure past its first 8 bytes is a KP_ACK with a Status, so the requester
 *     learns which field was wrong (Intel's TEE-IO validator expects exactly these);
 *   - a request from a second session while the bound one is open: no response (PCIe 6.x §6.33.3).
 */
#include <string.h>

#include "pcitsm/idekm.h"
#include "idekm/idekm_priv.h"

#define SEL_CAP_NADDR_MASK 0xfu /* Selective IDE Stream Capability bits 3:0 (PCIe 6.x §7.9.26) */

/* keyed is a byte-wide bitmap of engine stream indexes. */
_Static_assert(PCITSM_IDEKM_RSP_STREAMS <= 8, "keyed bitmap too narrow");

void pcitsm_idekm_rsp_init(struct pcitsm_idekm_rsp *r, const struct pcitsm_env *env)
{
	memset(r, 0, sizeof(*r));
	r->env = env;
	r->self_indexes = PCITSM_IDEKM_SELF_INDEXES_DEFAULT;
	r->self_alias = -1;
}

/* ---------------------------------------------------------------------------------------------
 * PortIndex (docs/idekm.md "PortIndex"): which port an index addresses. An index 1..N below
 * nr_ports is that added port; otherwise the self_indexes setting says whether it is port 0.
 */
static int port_of(const struct pcitsm_idekm_rsp *r, uint8_t idx)
{
	if (idx > 0 && idx < r->nr_ports)
		return idx;
	if (idx < 32 && (r->self_indexes >> idx & 1u))
		return 0;
	return -1;
}

/* The port a KEY_PROG / K_SET_GO / K_SET_STOP addresses: as for QUERY, and once the bound
 * session's QUERY named port 0 by one index, only that index reaches port 0. E_NOTFOUND for an
 * index the setting refuses, E_MISMATCH for another alias of port 0 than the QUERY's. */
static pcitsm_err port_for_key(const struct pcitsm_idekm_rsp *r, uint8_t idx, int *port)
{
	int p = port_of(r, idx);

	if (p < 0)
		return PCITSM_E_NOTFOUND;
	if (p == 0 && r->self_alias >= 0 && idx != r->self_alias)
		return PCITSM_E_MISMATCH;
	*port = p;
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_rsp_add_port(struct pcitsm_idekm_rsp *r, struct pcitsm_cfg *cfg,
				     struct pcitsm_ide_port *ide, const struct pcitsm_bdf *bdf)
{
	struct pcitsm_idekm_rsp_port *p;
	uint16_t off;

	if (!r || !cfg || !ide || !bdf)
		return PCITSM_E_INVAL;
	if (r->nr_ports >= PCITSM_IDEKM_MAX_PORTS)
		return PCITSM_E_EXHAUSTED;
	/* A stream the bitmaps cannot track would keep its keys when the session ends. */
	if (ide->nr_streams > PCITSM_IDEKM_RSP_STREAMS)
		return PCITSM_E_UNSUPPORTED;
	PCITSM_TRY(pcitsm_ecap_find(cfg, PCITSM_ECAP_ID_IDE, 0, &off));
	p = &r->port[r->nr_ports++];
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->ide_off = off;
	p->ide = ide;
	p->dev_func = (uint8_t)(bdf->dev << 3 | bdf->fn);
	p->bus = bdf->bus;
	p->segment = (uint8_t)bdf->seg;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * QUERY -> QUERY_RESP
 */

/* The end of the IDE capability (capability-relative), from the live registers. */
static pcitsm_err ide_cap_len(struct pcitsm_cfg *cfg, uint16_t ide_off, uint32_t *len)
{
	struct pcitsm_ide_info info;
	uint32_t cap, last;

	PCITSM_TRY(pcitsm_ide_read(cfg, ide_off, &info));
	if (!info.nr_sel) {
		*len = PCITSM_IDE_LINK_BLOCK0 + PCITSM_IDE_LINK_BLOCK_SIZE * info.nr_link;
		return PCITSM_OK;
	}
	last = info.sel_off[info.nr_sel - 1];
	PCITSM_TRY(pcitsm_cfg_read32(cfg, last + PCITSM_IDE_SEL_CAP, &cap));
	*len = last + PCITSM_IDE_SEL_BLOCK_SIZE(cap & SEL_CAP_NADDR_MASK) - ide_off;
	return PCITSM_OK;
}

static pcitsm_err rsp_query(struct pcitsm_idekm_rsp *r, const uint8_t *req, size_t len,
			    struct pcitsm_wr *w)
{
	struct pcitsm_idekm_query_resp hdr;
	struct pcitsm_idekm_rsp_port *p;
	uint8_t regs[PCITSM_IDEKM_REGS_MAX];
	uint8_t idx;
	uint32_t cap_len;
	int pi;

	PCITSM_TRY(pcitsm_idekm_query_decode(req, len, &idx));
	pi = port_of(r, idx);
	if (pi < 0)
		return PCITSM_E_NOTFOUND; /* QUERY_RESP has no Status: no response (docs/idekm.md) */
	p = &r->port[pi];
	PCITSM_TRY(ide_cap_len(p->cfg, p->ide_off, &cap_len));
	if (cap_len - 4 > sizeof(regs))
		return PCITSM_E_RANGE;
	for (uint32_t off = PCITSM_IDE_CAP; off < cap_len; off += 4) {
		uint32_t v;

		PCITSM_TRY(pcitsm_cfg_read32(p->cfg, p->ide_off + off, &v));
		pcitsm_put_le32(regs + off - 4, v);
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.port_index = idx;
	hdr.dev_func = p->dev_func;
	hdr.bus = p->bus;
	hdr.segment = p->segment;
	/* MaxPortIndex: the ports added, or the index asked for if higher (an alias of port 0). */
	hdr.max_port_index = (uint8_t)PCITSM_MAX(r->nr_ports - 1, (unsigned)idx);
	PCITSM_TRY(pcitsm_idekm_query_resp_encode(w, &hdr, regs, cap_len - 4));
	if (pi == 0)
		r->self_alias = idx;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * KEY_PROG -> KP_ACK
 */

/* A key slot's bit in prog / go: direction x 3 + sub-stream. */
static uint8_t slot_bit(enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
{
	return (uint8_t)(1u << ((unsigned)dir * PCITSM_IDE_NR_SUB + (unsigned)sub));
}

/* KP_ACK Status for what the IDE engine said (docs/idekm.md). */
static uint8_t kp_status_of(pcitsm_err e)
{
	switch (e) {
	case PCITSM_OK:
		return PCITSM_IDEKM_KP_SUCCESS;
	case PCITSM_E_NOTFOUND: /* no stream with that Stream ID at this port */
	case PCITSM_E_FIELD:    /* a value the engine cannot take */
	case PCITSM_E_INVAL:
		return PCITSM_IDEKM_KP_UNSUPPORTED_VALUE;
	default:                /* E_BUSY (the key set is in use), E_NOMEM, E_CRYPTO ... */
		return PCITSM_IDEKM_KP_UNSPECIFIED_FAILURE;
	}
}

/* Which KP_ACK Status a KEY_PROG earns before the engine is asked, in this order: size, port
 * index, the other fields (reserved bits, sub-stream 3..15, Stream ID 255, IFV != 1). */
static uint8_t kp_check(const struct pcitsm_idekm_rsp *r, const uint8_t *req, size_t len,
			const struct idekm_raw_hdr *h, struct pcitsm_idekm_key_prog *kp, int *port)
{
	if (len != PCITSM_IDEKM_KEY_PROG_LEN)
		return PCITSM_IDEKM_KP_INCORRECT_LENGTH;
	if (port_for_key(r, h->port_index, port) != PCITSM_OK)
		return PCITSM_IDEKM_KP_UNSUPPORTED_PORT_INDEX;
	if (pcitsm_idekm_key_prog_decode(req, len, kp) != PCITSM_OK)
		return PCITSM_IDEKM_KP_UNSUPPORTED_VALUE;
	if (kp->ks.stream_id == PCITSM_IDE_RESERVED_STREAM_ID ||
	    pcitsm_ide_km_ifv_decode(kp->ifv) != PCITSM_IDEKM_IFV_INIT)
		return PCITSM_IDEKM_KP_UNSUPPORTED_VALUE; /* PCIe 6.x §6.33.3: the IFV must be 1 */
	return PCITSM_IDEKM_KP_SUCCESS;
}

static pcitsm_err rsp_key_prog(struct pcitsm_idekm_rsp *r, const uint8_t *req, size_t len,
			       struct pcitsm_wr *w)
{
	struct pcitsm_idekm_key_prog kp;
	struct idekm_raw_hdr h;
	uint8_t st;
	int port = -1;

	/* Without its first 8 bytes there is nothing to echo: no response. */
	PCITSM_TRY(idekm_key_prog_raw(req, len, &h));
	memset(&kp, 0, sizeof(kp));
	st = kp_check(r, req, len, &h, &kp, &port);
	if (st == PCITSM_IDEKM_KP_SUCCESS) {
		struct pcitsm_idekm_rsp_port *p = &r->port[port];
		pcitsm_err e;
		int idx;

		e = pcitsm_ide_key_prog(p->ide, kp.ks.stream_id, kp.ks.kset, kp.ks.dir, kp.ks.sub,
					kp.key, kp.ifv);
		st = kp_status_of(e);
		idx = pcitsm_ide_stream_find(p->ide, kp.ks.stream_id);
		if (!e && idx >= 0 && idx < PCITSM_IDEKM_RSP_STREAMS) {
			uint8_t bit = slot_bit(kp.ks.dir, kp.ks.sub);

			p->keyed |= (uint8_t)(1u << idx);
			p->prog[idx][kp.ks.kset] |= bit;
			p->go[idx][kp.ks.kset] &= (uint8_t)~bit; /* a new key needs its own K_SET_GO */
		}
		if (e)
			pcitsm_debug(r->env, "idekm: KEY_PROG stream %u ksub 0x%02x port %u: %s",
				     h.stream_id, h.ksub, h.port_index, pcitsm_err_name(e));
	}
	pcitsm_wipe(&kp, sizeof(kp));
	r->stats.last_kp_status = st;
	return idekm_kp_ack_raw(w, &h, st);
}

/* ---------------------------------------------------------------------------------------------
 * K_SET_GO / K_SET_STOP -> K_GOSTOP_ACK
 */
static pcitsm_err rsp_k_set(struct pcitsm_idekm_rsp *r, uint8_t obj, const uint8_t *req,
			    size_t len, struct pcitsm_wr *w)
{
	struct pcitsm_idekm_rsp_port *p;
	struct pcitsm_idekm_ks m;
	struct pcitsm_ide_port *ide;
	int port, idx;
	uint8_t bit;

	PCITSM_TRY(pcitsm_idekm_ks_decode(req, len, &m));
	/* Another index than the QUERY's: recommended no ack (PCIe 6.x §6.33.3). */
	PCITSM_TRY(port_for_key(r, m.port_index, &port));
	p = &r->port[port];
	ide = p->ide;
	if (obj == PCITSM_IDEKM_K_SET_GO)
		PCITSM_TRY(pcitsm_ide_k_set_go(ide, m.stream_id, m.kset, m.dir, m.sub));
	else
		PCITSM_TRY(pcitsm_ide_k_set_stop(ide, m.stream_id, m.kset, m.dir, m.sub));
	idx = pcitsm_ide_stream_find(ide, m.stream_id);
	bit = slot_bit(m.dir, m.sub);
	if (idx >= 0 && idx < PCITSM_IDEKM_RSP_STREAMS) {
		if (obj == PCITSM_IDEKM_K_SET_GO) {
			p->go[idx][m.kset] |= bit;
		} else {
			p->prog[idx][m.kset] &= (uint8_t)~bit;
			p->go[idx][m.kset] &= (uint8_t)~bit;
		}
	}
	m.obj = PCITSM_IDEKM_K_GOSTOP_ACK;
	return pcitsm_idekm_ks_encode(w, &m);
}

/* ---------------------------------------------------------------------------------------------
 * Sessions (PCIe 6.x §6.33.3) and dispatch.
 */

/* The bound session closed: every stream it keyed goes Insecure with its keys invalidated. */
static void rsp_drop_stale(struct pcitsm_idekm_rsp *r)
{
	for (unsigned i = 0; i < r->nr_ports; i++) {
		struct pcitsm_idekm_rsp_port *p = &r->port[i];

		for (unsigned s = 0; s < PCITSM_IDEKM_RSP_STREAMS; s++)
			if (p->keyed & (1u << s) && pcitsm_ide_stream_disable(p->ide, s) != PCITSM_OK)
				pcitsm_warn(r->env, "idekm: port %u stream %u: disable failed", i, s);
		p->keyed = 0;
		memset(p->prog, 0, sizeof(p->prog));
		memset(p->go, 0, sizeof(p->go));
	}
	r->bound = r->stale = false;
	r->self_alias = -1;
	pcitsm_info(r->env, "idekm: bound session closed; its streams are Insecure");
}

void pcitsm_idekm_rsp_session_closed(struct pcitsm_idekm_rsp *r, uint32_t session_id)
{
	if (r && r->bound && r->session_id == session_id)
		r->stale = true;
}

/* The slots of key set k the engine still holds (and has started, with go): a key the engine
 * dropped (K_SET_STOP, a refresh, the stream going Insecure) no longer counts. */
static uint8_t engine_slots(const struct pcitsm_ide_stream *st, unsigned k, bool go)
{
	uint8_t m = 0;

	for (unsigned d = 0; d < 2; d++)
		for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			const struct pcitsm_ide_slot *sl = &st->slot[d][u][k];

			if (sl->valid && (sl->go || !go))
				m |= slot_bit((enum pcitsm_ide_dir)d, (enum pcitsm_ide_sub)u);
		}
	return m;
}

pcitsm_err pcitsm_idekm_rsp_key_state(const struct pcitsm_idekm_rsp *r, uint32_t session_id,
				      uint8_t stream_id, struct pcitsm_idekm_key_state *ks)
{
	const struct pcitsm_idekm_rsp_port *p;
	const struct pcitsm_ide_stream *st;
	int idx;

	if (!r || !ks)
		return PCITSM_E_INVAL;
	memset(ks, 0, sizeof(*ks));
	if (!r->nr_ports)
		return PCITSM_E_NOTFOUND;
	p = &r->port[0];
	idx = pcitsm_ide_stream_find(p->ide, stream_id);
	if (idx < 0 || idx >= PCITSM_IDEKM_RSP_STREAMS)
		return PCITSM_E_NOTFOUND;
	st = &p->ide->stream[idx];
	ks->default_stream = st->default_stream;
	ks->tc = st->tc;
	/* Only the bound, still open session's keys count (PCIe 6.x §6.33.3, PCIe 6.4 §11.3.8). */
	if (!r->bound || r->stale || r->session_id != session_id)
		return PCITSM_OK;
	for (unsigned k = 0; k < 2; k++) {
		ks->programmed[k] = p->prog[idx][k] & engine_slots(st, k, false);
		ks->started[k] = p->go[idx][k] & engine_slots(st, k, true);
	}
	return PCITSM_OK;
}

static pcitsm_err rsp_drop(struct pcitsm_idekm_rsp *r, uint8_t obj, pcitsm_err why)
{
	r->stats.dropped++;
	r->stats.last_drop = why;
	pcitsm_debug(r->env, "idekm: %s dropped: %s", pcitsm_idekm_obj_name(obj),
		     pcitsm_err_name(why));
	return PCITSM_E_NORESPONSE;
}

pcitsm_err pcitsm_idekm_rsp_handle(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
				   struct pcitsm_wr *rsp)
{
	struct pcitsm_idekm_rsp *r = ctx;
	size_t before;
	uint8_t obj = 0xff;
	pcitsm_err e;

	if (!r || !rsp)
		return PCITSM_E_INVAL;
	if (pcitsm_wr_err(rsp))
		return pcitsm_wr_err(rsp);
	r->stats.requests++;
	e = pcitsm_idekm_peek(req, len, &obj);
	if (e)
		return rsp_drop(r, obj, e);
	if (obj != PCITSM_IDEKM_QUERY && obj != PCITSM_IDEKM_KEY_PROG &&
	    obj != PCITSM_IDEKM_K_SET_GO && obj != PCITSM_IDEKM_K_SET_STOP)
		return rsp_drop(r, obj, obj <= PCITSM_IDEKM_K_GOSTOP_ACK ? PCITSM_E_UNEXPECTED :
									   PCITSM_E_FIELD);
	/* PCIe 6.x §6.33.3: a closed bound session's keys go before anyone else is answered; while it is
	 * open, other sessions are not served. */
	if (r->stale)
		rsp_drop_stale(r);
	if (r->bound && r->session_id != session_id)
		return rsp_drop(r, obj, PCITSM_E_BUSY);

	before = pcitsm_wr_len(rsp);
	switch (obj) {
	case PCITSM_IDEKM_QUERY:
		e = rsp_query(r, req, len, rsp);
		break;
	case PCITSM_IDEKM_KEY_PROG:
		e = rsp_key_prog(r, req, len, rsp);
		break;
	default:
		e = rsp_k_set(r, obj, req, len, rsp);
		break;
	}
	if (pcitsm_wr_err(rsp))
		return pcitsm_wr_err(rsp);
	if (e)
		return rsp_drop(r, obj, e);
	if (pcitsm_wr_len(rsp) == before)
		return rsp_drop(r, obj, PCITSM_E_STATE);
	if (obj == PCITSM_IDEKM_QUERY || obj == PCITSM_IDEKM_KEY_PROG) {
		r->bound = true;
		r->session_id = session_id;
	}
	r->stats.answered++;
	return PCITSM_OK;
}
