/* SPDX-License-Identifier: MIT */
/*
 * The example DMA device's descriptor and completion-record codec (layout: include/pcitsm/sva.h,
 * docs/sva.md). The device decodes descriptors written by an untrusted process: every field is
 * checked before anything is executed.
 */
#include <pthread.h>

#include "pcitsm/sva.h"

void pcitsm_sva_desc_encode(const struct pcitsm_sva_desc *d, uint8_t out[PCITSM_SVA_DESC_SIZE])
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, out, PCITSM_SVA_DESC_SIZE);
	pcitsm_wr_u8(&w, d->op);
	pcitsm_wr_zero(&w, 3);
	pcitsm_wr_le32(&w, d->pasid);
	pcitsm_wr_le64(&w, d->src);
	pcitsm_wr_le64(&w, d->dst);
	pcitsm_wr_le64(&w, d->len);
	pcitsm_wr_le64(&w, d->pattern);
	pcitsm_wr_le64(&w, d->completion);
	pcitsm_wr_zero(&w, 16);
}

/* [va, va + len) lies in the user address range and does not wrap. */
static bool range_ok(uint64_t va, uint64_t len)
{
	return va != 0 && va < PCITSM_SVA_VA_LIMIT && len <= PCITSM_SVA_VA_LIMIT - va;
}

pcitsm_err pcitsm_sva_desc_decode(const void *in, size_t len, struct pcitsm_sva_desc *out)
{
	struct pcitsm_sva_desc d = { 0 };
	struct pcitsm_rd r;
	bool uses_src, uses_dst;
	pcitsm_err e;

	if (len < PCITSM_SVA_DESC_SIZE)
		return PCITSM_E_SHORT;
	if (len > PCITSM_SVA_DESC_SIZE)
		return PCITSM_E_LONG;
	pcitsm_rd_init(&r, in, len);
	d.op = pcitsm_rd_u8(&r);
	pcitsm_rd_zero(&r, 3);
	d.pasid = pcitsm_rd_le32(&r);
	d.src = pcitsm_rd_le64(&r);
	d.dst = pcitsm_rd_le64(&r);
	d.len = pcitsm_rd_le64(&r);
	d.pattern = pcitsm_rd_le64(&r);
	d.completion = pcitsm_rd_le64(&r);
	pcitsm_rd_zero(&r, 16);
	e = pcitsm_rd_finish(&r);
	if (e)
		return e;

	switch (d.op) {
	case PCITSM_SVA_OP_COPY:
	case PCITSM_SVA_OP_COMPARE:
		uses_src = uses_dst = true;
		if (d.pattern != 0)
			return PCITSM_E_FIELD;
		break;
	case PCITSM_SVA_OP_FILL:
		uses_src = false;
		uses_dst = true;
		break;
	case PCITSM_SVA_OP_CRC32C:
		uses_src = true;
		uses_dst = false;
		if (d.pattern >> 32)
			return PCITSM_E_FIELD;
		break;
	default:
		return PCITSM_E_FIELD;
	}
	if (d.pasid > PCITSM_SVA_PASID_MAX)
		return PCITSM_E_FIELD;
	if ((!uses_src && d.src) || (!uses_dst && d.dst))
		return PCITSM_E_FIELD;
	if (d.completion & (PCITSM_SVA_COMP_SIZE - 1))
		return PCITSM_E_FIELD;
	/* Bounds: every range is a user virtual range that does not wrap. */
	if (d.len == 0 || d.len > PCITSM_SVA_LEN_MAX)
		return PCITSM_E_RANGE;
	if ((uses_src && !range_ok(d.src, d.len)) || (uses_dst && !range_ok(d.dst, d.len)) ||
	    !range_ok(d.completion, PCITSM_SVA_COMP_SIZE))
		return PCITSM_E_RANGE;
	if (d.op == PCITSM_SVA_OP_COPY && d.src < d.dst + d.len && d.dst < d.src + d.len)
		return PCITSM_E_FIELD;
	*out = d;
	return PCITSM_OK;
}

void pcitsm_sva_comp_encode(const struct pcitsm_sva_comp *c, uint8_t out[PCITSM_SVA_COMP_SIZE])
{
	struct pcitsm_wr w;

	pcitsm_wr_init(&w, out, PCITSM_SVA_COMP_SIZE);
	pcitsm_wr_u8(&w, c->status);
	pcitsm_wr_u8(&w, c->fault_flags);
	pcitsm_wr_zero(&w, 2);
	pcitsm_wr_le32(&w, c->crc);
	pcitsm_wr_le64(&w, c->bytes_done);
	pcitsm_wr_le64(&w, c->fault_addr);
	pcitsm_wr_le64(&w, c->diff_offset);
}

pcitsm_err pcitsm_sva_comp_decode(const void *in, size_t len, struct pcitsm_sva_comp *out)
{
	struct pcitsm_sva_comp c = { 0 };
	struct pcitsm_rd r;
	pcitsm_err e;

	pcitsm_rd_init(&r, in, len);
	c.status = pcitsm_rd_u8(&r);
	c.fault_flags = pcitsm_rd_u8(&r);
	pcitsm_rd_zero(&r, 2);
	c.crc = pcitsm_rd_le32(&r);
	c.bytes_done = pcitsm_rd_le64(&r);
	c.fault_addr = pcitsm_rd_le64(&r);
	c.diff_offset = pcitsm_rd_le64(&r);
	e = pcitsm_rd_finish(&r);
	if (e)
		return e;
	*out = c;
	return PCITSM_OK;
}

const char *pcitsm_sva_status_name(uint8_t status)
{
	switch (status) {
	case PCITSM_SVA_ST_PENDING: return "pending";
	case PCITSM_SVA_ST_SUCCESS: return "success";
	case PCITSM_SVA_ST_DIFFERENT: return "different";
	case PCITSM_SVA_ST_INVALID: return "invalid descriptor";
	case PCITSM_SVA_ST_BAD_PASID: return "bad PASID";
	case PCITSM_SVA_ST_FAULT: return "I/O page fault";
	case PCITSM_SVA_ST_ABORTED: return "aborted";
	default: return "unknown";
	}
}

/* CRC-32C, reflected polynomial 0x82f63b78, slicing by 8 (tables built once). */
static uint32_t crc_tab[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? c >> 1 ^ 0x82f63b78u : c >> 1;
		crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_tab[t][i] = crc_tab[t - 1][i] >> 8 ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

uint32_t pcitsm_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (n >= 8) {
		uint32_t lo = pcitsm_get_le32(b) ^ crc, hi = pcitsm_get_le32(b + 4);
		crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][lo >> 8 & 0xff] ^ crc_tab[5][lo >> 16 & 0xff] ^
		      crc_tab[4][lo >> 24] ^ crc_tab[3][hi & 0xff] ^ crc_tab[2][hi >> 8 & 0xff] ^
		      crc_tab[1][hi >> 16 & 0xff] ^ crc_tab[0][hi >> 24];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = crc >> 8 ^ crc_tab[0][(crc ^ *b++) & 0xff];
	return ~crc;
}
