/* SPDX-License-Identifier: MIT */
/* The error table: names, messages, groups and the errno each maps to at the sysfs ABI. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "pcitsm/core.h"

struct err_desc {
	pcitsm_err code;
	const char *name;
	const char *str;
};

static const struct err_desc err_table[] = {
#define PCITSM_ERR_DESC(name, val, str) { PCITSM_##name, #name, str },
	PCITSM_ERRORS(PCITSM_ERR_DESC)
#undef PCITSM_ERR_DESC
};

static const struct err_desc *err_find(pcitsm_err e)
{
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(err_table); i++)
		if (err_table[i].code == e)
			return &err_table[i];
	return NULL;
}

const char *pcitsm_err_name(pcitsm_err e)
{
	const struct err_desc *d = err_find(e);
	return d ? d->name : "E_UNKNOWN";
}

const char *pcitsm_err_str(pcitsm_err e)
{
	const struct err_desc *d = err_find(e);
	return d ? d->str : "unknown error";
}

enum pcitsm_err_group pcitsm_err_group(pcitsm_err e)
{
	if (e == PCITSM_OK)
		return PCITSM_EG_NONE;
	switch ((int)e / 100) {
	case 1: return PCITSM_EG_CALLER;
	case 2: return PCITSM_EG_PEER;
	case 3: return PCITSM_EG_LOCAL;
	default: return PCITSM_EG_TRANSPORT;
	}
}

int pcitsm_err_errno(pcitsm_err e)
{
	switch (e) {
	case PCITSM_OK: return 0;
	case PCITSM_E_INVAL: return EINVAL;
	case PCITSM_E_STATE: return EBUSY;
	case PCITSM_E_NOSPC: return ENOSPC;
	case PCITSM_E_UNSUPPORTED: return EOPNOTSUPP;
	case PCITSM_E_NOTFOUND: return ENXIO;
	case PCITSM_E_EXISTS: return EEXIST;
	case PCITSM_E_NOMEM: return ENOMEM;
	case PCITSM_E_EXHAUSTED: return ENOSPC;
	case PCITSM_E_BUSY: return EBUSY;
	case PCITSM_E_TIMEOUT: return ETIMEDOUT;
	case PCITSM_E_DEAD: return ENODEV;
	case PCITSM_E_CLOSED: return ECONNRESET;
	case PCITSM_E_CERT:
	case PCITSM_E_SIGNATURE:
	case PCITSM_E_MAC: return EACCES;
	default: return EIO;
	}
}

void pcitsm_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

int pcitsm_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

pcitsm_err pcitsm_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len < 2 * n)
		return PCITSM_E_SHORT;
	if (len > 2 * n)
		return PCITSM_E_LONG;
	for (size_t i = 0; i < n; i++) {
		int hi = pcitsm_hex_digit(s[2 * i]), lo = pcitsm_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return PCITSM_E_FIELD;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return PCITSM_OK;
}
