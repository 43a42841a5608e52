/* SPDX-License-Identifier: MIT */
/* The reason text that chain checks and identity loading hand back to the caller. */
#include <stdarg.h>
#include <stdio.h>

#include "crypto/internal.h"

void pcitsm_crypto_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}
