/* SPDX-License-Identifier: MIT */
/* The emulated SVA device's socket messages (layout: sva_priv.h), and the register futex. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sva/sva_priv.h"

void sva_req_encode(const struct sva_req *q, uint8_t out[SVA_REQ_SIZE])
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, out, SVA_REQ_SIZE);
	pcitsm_wr_u8(&w, q->op);
	pcitsm_wr_u8(&w, SVA_PROTO_VERSION);
	pcitsm_wr_le16(&w, q->index);
	pcitsm_wr_zero(&w, 4);
	pcitsm_wr_le64(&w, q->length);
}

pcitsm_err sva_req_decode(const void *in, size_t len, struct sva_req *out)
{
	struct sva_req q;
	struct pcitsm_rd r;
	pcitsm_err e;

	pcitsm_rd_init(&r, in, len);
	q.op = pcitsm_rd_u8(&r);
	pcitsm_rd_check(&r, pcitsm_rd_u8(&r) == SVA_PROTO_VERSION, PCITSM_E_VERSION);
	q.index = pcitsm_rd_le16(&r);
	pcitsm_rd_zero(&r, 4);
	q.length = pcitsm_rd_le64(&r);
	e = pcitsm_rd_finish(&r);
	if (e)
		return e;
	if (q.op != SVA_OP_BIND && q.op != SVA_OP_UNBIND && q.op != SVA_OP_REGISTER)
		return PCITSM_E_FIELD;
	/* only REGISTER has a length: a whole number of pages, at most the largest transfer */
	if (q.op == SVA_OP_REGISTER ? q.length == 0 || q.length % 4096 || q.length > PCITSM_SVA_LEN_MAX
				    : q.length != 0)
		return PCITSM_E_FIELD;
	*out = q;
	return PCITSM_OK;
}

pcitsm_err sva_req_admit(const void *in, size_t len, int msg_flags, unsigned nfds,
			 struct sva_req *out)
{
	struct sva_req q;

	/* Cut by the receive buffer: longer than a request, or more ancillary data than fits. */
	if (msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return PCITSM_E_LONG;
	PCITSM_TRY(sva_req_decode(in, len, &q));
	/* REGISTER carries exactly its buffer's memfd; nothing else carries a descriptor. */
	if (nfds != (q.op == SVA_OP_REGISTER))
		return PCITSM_E_FIELD;
	*out = q;
	return PCITSM_OK;
}

void sva_rep_encode(const struct sva_rep *p, uint8_t out[SVA_REP_SIZE])
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, out, SVA_REP_SIZE);
	pcitsm_wr_u8(&w, p->op);
	pcitsm_wr_u8(&w, p->err);
	pcitsm_wr_zero(&w, 2);
	pcitsm_wr_le32(&w, p->pasid);
	pcitsm_wr_le32(&w, p->map_size);
	pcitsm_wr_le32(&w, p->cause);
	pcitsm_wr_le64(&w, p->iova);
}

pcitsm_err sva_rep_decode(const void *in, size_t len, struct sva_rep *out)
{
	struct sva_rep p;
	struct pcitsm_rd r;
	pcitsm_err e;

	pcitsm_rd_init(&r, in, len);
	p.op = pcitsm_rd_u8(&r);
	p.err = pcitsm_rd_u8(&r);
	pcitsm_rd_zero(&r, 2);
	p.pasid = pcitsm_rd_le32(&r);
	p.map_size = pcitsm_rd_le32(&r);
	p.cause = pcitsm_rd_le32(&r);
	p.iova = pcitsm_rd_le64(&r);
	e = pcitsm_rd_finish(&r);
	if (e)
		return e;
	if ((p.op & 0x7f) < SVA_OP_BIND || (p.op & 0x7f) > SVA_OP_REGISTER)
		return PCITSM_E_FIELD;
	if (!(p.op & 0x80) || p.pasid > PCITSM_SVA_PASID_MAX)
		return PCITSM_E_FIELD;
	*out = p;
	return PCITSM_OK;
}

void sva_futex_wake(volatile uint8_t *regs, unsigned off)
{
	syscall(SYS_futex, (uint32_t *)(uintptr_t)(regs + off), FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void sva_futex_wait(volatile uint8_t *regs, unsigned off, uint32_t seen, unsigned timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

	syscall(SYS_futex, (uint32_t *)(uintptr_t)(regs + off), FUTEX_WAIT, seen, &ts, NULL, 0);
}
