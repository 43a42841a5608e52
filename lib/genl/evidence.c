/* SPDX-License-Identifier: MIT */
/*
 * The pci-tsm family's evidence-read without I/O (genl.h): the request, and the reassembly of the
 * dump's replies into one object per evidence type [proposal, docs/genl.md]. The kernel sends,
 * for each requested type in ascending order, a message whose first attribute is `type` followed
 * by a `val`, then as many messages of `val` alone as the object needs (nla_len is 16 bits, so an
 * object of up to 16 MiB arrives in pieces); an object the TSM lacks is one empty `val`.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/genl.h"

#define GROW_MIN 4096u

static const char *const type_names[PCITSM_TSMNL_NR_TYPES] = {
	"cert0", "cert1", "cert2", "cert3", "cert4", "cert5", "cert6", "cert7",
	"vca",   "measurements", "report",
};

const char *pcitsm_tsmnl_type_name(unsigned t)
{
	return t < PCITSM_TSMNL_NR_TYPES ? type_names[t] : NULL;
}

pcitsm_err pcitsm_tsmnl_evidence_encode(struct pcitsm_wr *w, uint16_t family, uint32_t seq,
					uint32_t portid, const struct pcitsm_tsmnl_req *req)
{
	size_t start;

	if (!req->dev_name || !*req->dev_name ||
	    strlen(req->dev_name) >= PCITSM_TSMNL_DEV_NAME_MAX || !req->type_mask ||
	    (req->type_mask & ~PCITSM_TSMNL_TYPE_ALL) || (req->flags & ~PCITSM_TSMNL_FLAG_DIGEST) ||
	    req->nonce_len > PCITSM_TSMNL_NONCE_MAX || (req->nonce_len && !req->nonce))
		return PCITSM_E_INVAL;
	start = pcitsm_genl_begin(w, family, PCITSM_NLM_F_REQUEST | PCITSM_NLM_F_DUMP, seq, portid,
				  PCITSM_TSMNL_CMD_EVIDENCE_READ, PCITSM_TSMNL_VERSION);
	pcitsm_genl_put_u32(w, PCITSM_TSMNL_A_TYPE_MASK, req->type_mask);
	if (req->flags)
		pcitsm_genl_put_u32(w, PCITSM_TSMNL_A_FLAGS, req->flags);
	pcitsm_genl_put_str(w, PCITSM_TSMNL_A_DEV_NAME, req->dev_name);
	if (req->nonce_len)
		pcitsm_genl_put(w, PCITSM_TSMNL_A_NONCE, req->nonce, req->nonce_len);
	pcitsm_genl_end(w, start);
	return pcitsm_wr_err(w);
}

void pcitsm_tsmnl_evidence_init(struct pcitsm_tsmnl_evidence *ev, uint32_t mask)
{
	memset(ev, 0, sizeof(*ev));
	ev->mask = mask;
	ev->limit = PCITSM_TSMNL_OBJECT_MAX;
	ev->cur = -1;
}

void pcitsm_tsmnl_evidence_free(struct pcitsm_tsmnl_evidence *ev)
{
	for (unsigned t = 0; t < PCITSM_TSMNL_NR_TYPES; t++) {
		free(ev->obj[t]);
		ev->obj[t] = NULL;
		ev->len[t] = ev->cap[t] = 0;
	}
	ev->present = 0;
	ev->cur = -1;
}

/* `type`: a known type, asked for, after the previous one (ascending, each once). */
static pcitsm_err ev_type(struct pcitsm_tsmnl_evidence *ev, const struct pcitsm_genl_attr *a)
{
	uint32_t t;

	PCITSM_TRY(pcitsm_genl_attr_u32(a, &t));
	if (t >= PCITSM_TSMNL_NR_TYPES)
		return PCITSM_E_FIELD;
	if (!(ev->mask & PCITSM_TSMNL_TYPE_BIT(t)) || (int)t <= ev->cur)
		return PCITSM_E_UNEXPECTED;
	ev->cur = (int)t;
	ev->present |= PCITSM_TSMNL_TYPE_BIT(t);
	return PCITSM_OK;
}

/* `val`: the next piece of the current object, which may not grow past ev->limit. */
static pcitsm_err ev_val(struct pcitsm_tsmnl_evidence *ev, const struct pcitsm_genl_attr *a)
{
	unsigned t;
	size_t need;

	if (ev->cur < 0)
		return PCITSM_E_UNEXPECTED;
	t = (unsigned)ev->cur;
	if (a->len > ev->limit - ev->len[t])
		return PCITSM_E_RANGE;
	need = ev->len[t] + a->len;
	if (need > ev->cap[t]) {
		size_t cap = PCITSM_MAX(PCITSM_MAX(need, 2 * ev->cap[t]), GROW_MIN);
		uint8_t *p;

		cap = PCITSM_MIN(cap, PCITSM_MAX(ev->limit, need));
		p = realloc(ev->obj[t], cap);
		if (!p)
			return PCITSM_E_NOMEM;
		ev->obj[t] = p;
		ev->cap[t] = cap;
	}
	if (a->len)
		memcpy(ev->obj[t] + ev->len[t], a->p, a->len);
	ev->len[t] = need;
	return PCITSM_OK;
}

pcitsm_err pcitsm_tsmnl_evidence_msg(void *ctx, const struct pcitsm_genl_msg *m)
{
	struct pcitsm_tsmnl_evidence *ev = ctx;
	struct pcitsm_genl_attr a;
	struct pcitsm_rd r;

	if (m->cmd != PCITSM_TSMNL_CMD_EVIDENCE_READ)
		return PCITSM_E_UNEXPECTED;
	pcitsm_rd_init(&r, m->attrs, m->attrs_len);
	while (pcitsm_genl_attr_next(&r, &a)) {
		if (a.type == PCITSM_TSMNL_A_TYPE)
			PCITSM_TRY(ev_type(ev, &a));
		else if (a.type == PCITSM_TSMNL_A_VAL)
			PCITSM_TRY(ev_val(ev, &a));
		/* Other attributes (a later kernel's) are skipped, as netlink readers do. */
	}
	return pcitsm_rd_err(&r);
}

pcitsm_err pcitsm_tsmnl_evidence_complete(const struct pcitsm_tsmnl_evidence *ev)
{
	return ev->present == ev->mask ? PCITSM_OK : PCITSM_E_SHORT;
}
