/* SPDX-License-Identifier: MIT */
/*
 * The stream pools' allocator (docs/tsm.md: the kernel's IDAs): H slots and Stream IDs per
 * host bridge, selective-block indices per port. Lowest free index first, like ida_alloc.
 */
#include <string.h>

#include "tsm_priv.h"

void tsm_ida_init(struct tsm_ida *a, unsigned size)
{
	memset(a, 0, sizeof(*a));
	a->size = PCITSM_MIN(size, (unsigned)PCITSM_TSM_HB_STREAMS_MAX);
}

bool tsm_ida_test(const struct tsm_ida *a, unsigned i)
{
	return i < a->size && (a->bits[i / 8] >> (i % 8) & 1);
}

pcitsm_err tsm_ida_claim(struct tsm_ida *a, unsigned i)
{
	if (i >= a->size)
		return PCITSM_E_RANGE;
	if (tsm_ida_test(a, i))
		return PCITSM_E_BUSY;
	a->bits[i / 8] |= (uint8_t)(1u << (i % 8));
	a->used++;
	return PCITSM_OK;
}

pcitsm_err tsm_ida_alloc(struct tsm_ida *a, unsigned *out)
{
	for (unsigned i = 0; i < a->size; i++) {
		if (!tsm_ida_test(a, i)) {
			PCITSM_TRY(tsm_ida_claim(a, i));
			*out = i;
			return PCITSM_OK;
		}
	}
	return PCITSM_E_EXHAUSTED;
}

void tsm_ida_free(struct tsm_ida *a, unsigned i)
{
	if (!tsm_ida_test(a, i))
		return;
	a->bits[i / 8] &= (uint8_t)~(1u << (i % 8));
	a->used--;
}
