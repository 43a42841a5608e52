/* SPDX-License-Identifier: MIT */
/*
 * Host side of a DOE mailbox, with the semantics of Linux drivers/pci/doe.c (PCIe 6.x
 * §6.30.2): abort on take-over, Busy before a send is someone else's transfer,
 * write the object and Go, poll every 1/128 s for up to 1 s, read and acknowledge DW by DW, check
 * Data Object Ready before the last acknowledge and Error after it. Every failure goes through one
 * abort path; a mailbox that cannot abort is dead for good.
 *
 * Unlike Linux, a response larger than the caller's buffer is drained and reported (E_TRUNCATED),
 * never cut silently, and the response header's reserved bits are checked. A device whose
 * registers lie costs a bounded number of accesses (docs/doe.md, "A device that lies"): Status is
 * read every DOE_RECV_CHECK_DW DWs, so Error set mid-object or Ready gone before Length DWs (a
 * Length beyond what the device holds, Length 0 read as 2^18 DW) stops the read within that many
 * DWs; and at most DOE_DRAIN_MAX_DW DWs past the caller's buffer are drained, the rest of a longer
 * object is discarded by an Abort.
 */
#include <string.h>

#include "doe/internal.h"

/* Discovery indices are 8 bits: 256 requests visit every one (PCIe 6.x §6.30.1.1). */
#define DOE_DISC_MAX_REQUESTS 256u
/* Abort polls: 1 s at 1/128 s, plus one (Linux: retry < PCI_DOE_TIMEOUT / POLL_INTERVAL). */
#define DOE_ABORT_MAX_POLLS (PCITSM_DOE_TIMEOUT_NS / PCITSM_DOE_POLL_NS + 1)
/* Status read every 64 DWs of a response: 1/64 more accesses, at most 64 DWs read past a lie. */
#define DOE_RECV_CHECK_DW 64u
/* DWs drained past the caller's buffer before the host cuts the object with an Abort: enough for
 * a longer response of a later protocol version (PCIe 6.x §6.30.1.1: use the expected prefix),
 * far below 2^18. */
#define DOE_DRAIN_MAX_DW 1024u

static pcitsm_err host_status(struct pcitsm_doe_host *h, uint32_t *sts)
{
	return pcitsm_cfg_read32(h->cfg, h->off + PCITSM_DOE_STATUS, sts);
}

/* Abort (PCIe 6.x §6.30.2): write Abort, then wait up to 1 s for Busy = 0 and Error = 0. Failing
 * that, the mailbox is dead and stays dead. */
static pcitsm_err host_abort(struct pcitsm_doe_host *h)
{
	uint64_t start = pcitsm_now_ns(h->env);
	uint32_t sts;

	if (pcitsm_cfg_write32(h->cfg, h->off + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_ABORT))
		goto dead;
	for (uint64_t i = 0; i < DOE_ABORT_MAX_POLLS; i++) {
		pcitsm_sleep_ns(h->env, PCITSM_DOE_POLL_NS);
		if (host_status(h, &sts))
			goto dead;
		if (!(sts & (PCITSM_DOE_STATUS_BUSY | PCITSM_DOE_STATUS_ERROR)))
			return PCITSM_OK;
		if (pcitsm_now_ns(h->env) - start > PCITSM_DOE_TIMEOUT_NS)
			break;
	}
dead:
	pcitsm_err_log(h->env, "doe@%#x: abort did not complete; mailbox dead", h->off);
	h->dead = true;
	return PCITSM_E_DEAD;
}

/* Steps 1-3: Busy check, the object DW by DW (the last payload DW zero-padded), Go. */
static pcitsm_err host_send(struct pcitsm_doe_host *h, uint16_t vid, uint8_t type,
			    const uint8_t *req, size_t req_len)
{
	uint32_t wr = h->off + PCITSM_DOE_WRITE, sts;
	size_t ndw = (req_len + 3) / 4;

	PCITSM_TRY(host_status(h, &sts));
	/* Busy: another entity (e.g. firmware) is using the mailbox. */
	if (sts & PCITSM_DOE_STATUS_BUSY)
		return PCITSM_E_BUSY;
	if (sts & PCITSM_DOE_STATUS_ERROR)
		return PCITSM_E_IO;
	PCITSM_TRY(pcitsm_cfg_write32(h->cfg, wr, vid | (uint32_t)type << 16));
	PCITSM_TRY(pcitsm_cfg_write32(h->cfg, wr, pcitsm_doe_len_field((uint32_t)(2 + ndw))));
	for (size_t i = 0; i < ndw; i++) {
		uint8_t b[4] = { 0 };

		memcpy(b, req + 4 * i, PCITSM_MIN(4, req_len - 4 * i));
		PCITSM_TRY(pcitsm_cfg_write32(h->cfg, wr, pcitsm_get_le32(b)));
	}
	return pcitsm_cfg_write32(h->cfg, h->off + PCITSM_DOE_CTRL, PCITSM_DOE_CTRL_GO);
}

/* Step 4: poll every 1/128 s until Data Object Ready; Error -> E_IO; 1 s -> E_TIMEOUT. */
static pcitsm_err host_wait(struct pcitsm_doe_host *h)
{
	uint64_t start = pcitsm_now_ns(h->env);
	uint32_t sts;

	for (;;) {
		PCITSM_TRY(host_status(h, &sts));
		if (sts & PCITSM_DOE_STATUS_ERROR)
			return PCITSM_E_IO;
		if (sts & PCITSM_DOE_STATUS_READY)
			return PCITSM_OK;
		if (pcitsm_now_ns(h->env) - start > PCITSM_DOE_TIMEOUT_NS)
			return PCITSM_E_TIMEOUT;
		pcitsm_sleep_ns(h->env, PCITSM_DOE_POLL_NS);
	}
}

/* Read the current DW and acknowledge it. With check (the object's last DW, and every
 * DOE_RECV_CHECK_DW-th): Ready must still be set and Error clear, else the device holds fewer DWs
 * than its Length says or failed mid-object. */
static pcitsm_err host_read_dw(struct pcitsm_doe_host *h, bool check, uint32_t *val)
{
	uint32_t rd = h->off + PCITSM_DOE_READ, sts;

	PCITSM_TRY(pcitsm_cfg_read32(h->cfg, rd, val));
	if (check) {
		PCITSM_TRY(host_status(h, &sts));
		if ((sts & PCITSM_DOE_STATUS_ERROR) || !(sts & PCITSM_DOE_STATUS_READY))
			return PCITSM_E_IO;
	}
	return pcitsm_cfg_write32(h->cfg, rd, 0);
}

/* Step 5: the response. Header first (vid/type must match the request's), Length from DW1, then
 * every DW: stored while rsp has room, drained after, up to DOE_DRAIN_MAX_DW; past that the
 * object is cut by an Abort (E_TRUNCATED, the abort's failure recorded in h->dead). Error
 * re-checked at the end. */
static pcitsm_err host_recv(struct pcitsm_doe_host *h, uint16_t vid, uint8_t type, uint8_t *rsp,
			    size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_doe_hdr hdr;
	uint32_t dw0, dw1, sts, val;
	size_t stored = 0, drained = 0, plen;

	PCITSM_TRY(host_read_dw(h, false, &dw0));
	PCITSM_TRY(pcitsm_cfg_read32(h->cfg, h->off + PCITSM_DOE_READ, &dw1));
	PCITSM_TRY(pcitsm_doe_hdr_decode(dw0, dw1, &hdr));
	if (hdr.vid != vid || hdr.type != type) {
		pcitsm_warn(h->env, "doe@%#x: expected [%04x, %02x], got [%04x, %02x]", h->off, vid,
			    type, hdr.vid, hdr.type);
		return PCITSM_E_FIELD;
	}
	/* DW1 was read above; acknowledge it (the last DW when the payload is empty). */
	if (hdr.len_dw == 2) {
		PCITSM_TRY(host_status(h, &sts));
		if (!(sts & PCITSM_DOE_STATUS_READY))
			return PCITSM_E_IO;
	}
	PCITSM_TRY(pcitsm_cfg_write32(h->cfg, h->off + PCITSM_DOE_READ, 0));

	plen = ((size_t)hdr.len_dw - 2) * 4;
	for (size_t i = 0; i < hdr.len_dw - 2u; i++) {
		uint8_t b[4];
		size_t n;

		if (drained >= DOE_DRAIN_MAX_DW) {
			*rsp_len = stored;
			(void)host_abort(h);
			return PCITSM_E_TRUNCATED;
		}
		PCITSM_TRY(host_read_dw(h, i + 3 == hdr.len_dw || (i + 1) % DOE_RECV_CHECK_DW == 0,
					&val));
		pcitsm_put_le32(b, val);
		n = PCITSM_MIN(4, rsp_cap - stored);
		if (n)
			memcpy(rsp + stored, b, n);
		else
			drained++;
		stored += n;
	}
	/* Final Error check, for anything since Data Object Ready. */
	PCITSM_TRY(host_status(h, &sts));
	if (sts & PCITSM_DOE_STATUS_ERROR)
		return PCITSM_E_IO;
	*rsp_len = stored;
	return stored < plen ? PCITSM_E_TRUNCATED : PCITSM_OK;
}

/* One request/response on the mailbox; any failure but truncation aborts it. */
static pcitsm_err host_exchange_raw(struct pcitsm_doe_host *h, uint16_t vid, uint8_t type,
				    const uint8_t *req, size_t req_len, uint8_t *rsp,
				    size_t rsp_cap, size_t *rsp_len)
{
	pcitsm_err e;

	*rsp_len = 0;
	if (h->dead)
		return PCITSM_E_DEAD;
	if ((!req && req_len) || (!rsp && rsp_cap) ||
	    req_len > PCITSM_DOE_MAX_BYTES - PCITSM_DOE_HDR_LEN)
		return PCITSM_E_INVAL;
	e = host_send(h, vid, type, req, req_len);
	if (!e)
		e = host_wait(h);
	if (!e)
		e = host_recv(h, vid, type, rsp, rsp_cap, rsp_len);
	if (e && e != PCITSM_E_TRUNCATED) {
		*rsp_len = 0;
		/* The abort's own failure (E_DEAD) is recorded in h->dead; report the cause. */
		(void)host_abort(h);
	}
	return e;
}

static pcitsm_err host_xport_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				      const uint8_t *req, size_t req_len, uint8_t *rsp,
				      size_t rsp_cap, size_t *rsp_len)
{
	struct pcitsm_doe_host *h = pcitsm_container_of(x, struct pcitsm_doe_host, x);

	return host_exchange_raw(h, vid, type, req, req_len, rsp, rsp_cap, rsp_len);
}

static const struct pcitsm_xport_ops host_ops = {
	.exchange = host_xport_exchange,
};

/* Discovery (PCIe 6.x §6.30.1.1): index 0, then each Next Index until 0. A Next Index seen before
 * is a loop. */
static pcitsm_err host_discover(struct pcitsm_doe_host *h)
{
	uint8_t version = h->cap_version >= 2 ? PCITSM_DOE_DISC_VER2 : 0;
	uint64_t seen[DOE_DISC_MAX_REQUESTS / 64] = { 0 };
	unsigned index = 0;

	h->nr_protos = 0;
	for (unsigned n = 0; n < DOE_DISC_MAX_REQUESTS; n++) {
		uint8_t req[4], rsp[8];
		size_t rlen;
		uint32_t dw;
		pcitsm_err e;

		seen[index / 64] |= 1ull << (index % 64);
		pcitsm_put_le32(req, index | (uint32_t)version << PCITSM_DOE_DISC_VER_SHIFT);
		e = host_exchange_raw(h, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_DISCOVERY, req,
				      sizeof(req), rsp, sizeof(rsp), &rlen);
		/* A longer response is legal (PCIe 6.x §6.30.1: use the expected prefix). */
		if (e && e != PCITSM_E_TRUNCATED)
			return e;
		if (rlen < 4)
			return PCITSM_E_SHORT;
		dw = pcitsm_get_le32(rsp);
		if ((dw & 0xffff) == PCITSM_DOE_DISC_BAD_VID)
			return PCITSM_E_FIELD;
		if (h->nr_protos >= PCITSM_ARRAY_SIZE(h->protos))
			return PCITSM_E_EXHAUSTED;
		h->protos[h->nr_protos].vid = (uint16_t)dw;
		h->protos[h->nr_protos].type = (uint8_t)(dw >> PCITSM_DOE_DISC_TYPE_SHIFT);
		h->nr_protos++;
		index = dw >> PCITSM_DOE_DISC_NEXT_SHIFT;
		if (!index)
			return PCITSM_OK;
		if (seen[index / 64] & (1ull << (index % 64)))
			return PCITSM_E_LOOP;
	}
	return PCITSM_E_LOOP;
}

pcitsm_err pcitsm_doe_host_init(struct pcitsm_doe_host *h, struct pcitsm_cfg *cfg, uint16_t off,
				const struct pcitsm_env *env)
{
	struct pcitsm_doe_capinfo info;

	if (!h || !cfg || !env)
		return PCITSM_E_INVAL;
	memset(h, 0, sizeof(*h));
	h->x.ops = &host_ops;
	h->x.name = "doe";
	h->cfg = cfg;
	h->off = off;
	h->env = env;
	PCITSM_TRY(pcitsm_doe_cap_read(cfg, off, &info));
	h->cap_version = info.version;
	/* Resynchronise: whatever a previous user left in the mailbox is dropped. */
	PCITSM_TRY(host_abort(h));
	return host_discover(h);
}

bool pcitsm_doe_host_supports(const struct pcitsm_doe_host *h, uint16_t vid, uint8_t type)
{
	for (unsigned i = 0; h && i < h->nr_protos; i++)
		if (h->protos[i].vid == vid && h->protos[i].type == type)
			return true;
	return false;
}

pcitsm_err pcitsm_doe_host_find(struct pcitsm_doe_host *h, struct pcitsm_cfg *cfg, uint16_t vid,
				uint8_t type, const struct pcitsm_env *env)
{
	uint16_t off;
	pcitsm_err e;

	if (!h || !cfg || !env)
		return PCITSM_E_INVAL;
	for (unsigned nth = 0;; nth++) {
		e = pcitsm_ecap_find(cfg, PCITSM_ECAP_ID_DOE, nth, &off);
		if (e)
			return e;
		e = pcitsm_doe_host_init(h, cfg, off, env);
		if (e) {
			pcitsm_info(env, "doe@%#x: skipped: %s", off, pcitsm_err_name(e));
			continue;
		}
		if (pcitsm_doe_host_supports(h, vid, type))
			return PCITSM_OK;
	}
}
