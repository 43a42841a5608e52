/* SPDX-License-Identifier: MIT */
/* The bounded, sticky-error byte reader and writer (core.h). */
#include <string.h>

#include "pcitsm/core.h"

void pcitsm_rd_init(struct pcitsm_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = PCITSM_OK;
}

void pcitsm_rd_fail(struct pcitsm_rd *r, pcitsm_err e)
{
	if (r->err == PCITSM_OK)
		r->err = e;
}

/* Take n bytes or fail with E_SHORT; NULL once failed. */
static const uint8_t *rd_take(struct pcitsm_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = PCITSM_E_SHORT;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t pcitsm_rd_u8(struct pcitsm_rd *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p ? p[0] : 0;
}

#define RD_INT(name, type, n, get)                        \
	type pcitsm_rd_##name(struct pcitsm_rd *r)        \
	{                                                 \
		const uint8_t *p = rd_take(r, n);         \
		return p ? get(p) : 0;                    \
	}
RD_INT(le16, uint16_t, 2, pcitsm_get_le16)
RD_INT(le24, uint32_t, 3, pcitsm_get_le24)
RD_INT(le32, uint32_t, 4, pcitsm_get_le32)
RD_INT(le64, uint64_t, 8, pcitsm_get_le64)
RD_INT(be16, uint16_t, 2, pcitsm_get_be16)
RD_INT(be32, uint32_t, 4, pcitsm_get_be32)
RD_INT(be64, uint64_t, 8, pcitsm_get_be64)
#undef RD_INT

const uint8_t *pcitsm_rd_bytes(struct pcitsm_rd *r, size_t n)
{
	return rd_take(r, n);
}

void pcitsm_rd_copy(struct pcitsm_rd *r, void *dst, size_t n)
{
	const uint8_t *p = rd_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

void pcitsm_rd_skip(struct pcitsm_rd *r, size_t n)
{
	(void)rd_take(r, n);
}

void pcitsm_rd_zero(struct pcitsm_rd *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	uint8_t acc = 0;

	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	if (acc)
		r->err = PCITSM_E_RESERVED;
}

const uint8_t *pcitsm_rd_rest(struct pcitsm_rd *r, size_t *n)
{
	size_t left = pcitsm_rd_left(r);

	*n = left;
	if (r->err)
		return NULL;
	return rd_take(r, left);
}

struct pcitsm_rd pcitsm_rd_sub(struct pcitsm_rd *r, size_t n)
{
	struct pcitsm_rd sub;
	const uint8_t *p = rd_take(r, n);

	pcitsm_rd_init(&sub, p, p ? n : 0);
	if (!p)
		sub.err = r->err;
	return sub;
}

pcitsm_err pcitsm_rd_finish(const struct pcitsm_rd *r)
{
	if (r->err)
		return r->err;
	return r->off == r->len ? PCITSM_OK : PCITSM_E_LONG;
}

void pcitsm_wr_init(struct pcitsm_wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = p ? cap : 0;
	w->off = 0;
	w->err = PCITSM_OK;
}

void pcitsm_wr_fail(struct pcitsm_wr *w, pcitsm_err e)
{
	if (w->err == PCITSM_OK)
		w->err = e;
}

uint8_t *pcitsm_wr_reserve(struct pcitsm_wr *w, size_t n)
{
	uint8_t *p;

	if (w->err)
		return NULL;
	if (n > w->cap - w->off) {
		w->err = PCITSM_E_NOSPC;
		return NULL;
	}
	p = w->p + w->off;
	w->off += n;
	if (n)
		memset(p, 0, n);
	return p;
}

void pcitsm_wr_u8(struct pcitsm_wr *w, uint8_t v)
{
	uint8_t *p = pcitsm_wr_reserve(w, 1);
	if (p)
		p[0] = v;
}

#define WR_INT(name, type, n, put)                                \
	void pcitsm_wr_##name(struct pcitsm_wr *w, type v)        \
	{                                                         \
		uint8_t *p = pcitsm_wr_reserve(w, n);             \
		if (p)                                            \
			put(p, v);                                \
	}
WR_INT(le16, uint16_t, 2, pcitsm_put_le16)
WR_INT(le24, uint32_t, 3, pcitsm_put_le24)
WR_INT(le32, uint32_t, 4, pcitsm_put_le32)
WR_INT(le64, uint64_t, 8, pcitsm_put_le64)
WR_INT(be16, uint16_t, 2, pcitsm_put_be16)
WR_INT(be32, uint32_t, 4, pcitsm_put_be32)
WR_INT(be64, uint64_t, 8, pcitsm_put_be64)
#undef WR_INT

void pcitsm_wr_bytes(struct pcitsm_wr *w, const void *src, size_t n)
{
	uint8_t *p = pcitsm_wr_reserve(w, n);
	if (p && n)
		memcpy(p, src, n);
}

void pcitsm_wr_zero(struct pcitsm_wr *w, size_t n)
{
	(void)pcitsm_wr_reserve(w, n);
}

/* A patch must land inside what was already written. */
static uint8_t *wr_patch_at(struct pcitsm_wr *w, size_t off, size_t n)
{
	if (w->err)
		return NULL;
	if (off > w->off || n > w->off - off) {
		w->err = PCITSM_E_INVAL;
		return NULL;
	}
	return w->p + off;
}

#define WR_PATCH(name, type, n, put)                                          \
	void pcitsm_wr_patch_##name(struct pcitsm_wr *w, size_t off, type v)  \
	{                                                                     \
		uint8_t *p = wr_patch_at(w, off, n);                          \
		if (p)                                                        \
			put(p, v);                                            \
	}
WR_PATCH(le16, uint16_t, 2, pcitsm_put_le16)
WR_PATCH(le32, uint32_t, 4, pcitsm_put_le32)
WR_PATCH(be16, uint16_t, 2, pcitsm_put_be16)
WR_PATCH(be32, uint32_t, 4, pcitsm_put_be32)
#undef WR_PATCH

void pcitsm_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

int pcitsm_ct_memneq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc != 0;
}

void pcitsm_hex(char *out, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}
