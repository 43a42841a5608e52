/* SPDX-License-Identifier: MIT */
/* The strict JSON reading of lib/policy's administrator files (json.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

pcitsm_err policy_fail(const struct why *w, pcitsm_err e, const char *fmt, ...)
{
	va_list ap;

	if (w->buf && w->len) {
		va_start(ap, fmt);
		vsnprintf(w->buf, w->len, fmt, ap);
		va_end(ap);
	}
	return e;
}

pcitsm_err policy_json_parse(const struct why *w, const char *text, size_t len, size_t max,
			     const char *what, int depth, json_object **root)
{
	json_tokener *tok;
	size_t end;
	pcitsm_err e;

	*root = NULL;
	if (len > max)
		return policy_fail(w, PCITSM_E_RANGE, "%s is %zu bytes, at most %zu", what, len,
				   max);
	if (!len || memchr(text, '\0', len))
		return policy_fail(w, PCITSM_E_FIELD, "%s is empty or holds a NUL byte", what);
	tok = json_tokener_new_ex(depth);
	if (!tok)
		return PCITSM_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*root = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!*root) {
		e = policy_fail(w, PCITSM_E_FIELD, "not JSON: %s at byte %zu",
				json_tokener_error_desc(json_tokener_get_error(tok)), end);
		json_tokener_free(tok);
		return e;
	}
	json_tokener_free(tok);
	/* One complete JSON document, then at most whitespace. */
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", text[i])) {
			json_object_put(*root);
			*root = NULL;
			return policy_fail(w, PCITSM_E_FIELD,
					   "bytes after the JSON object at byte %zu", i);
		}
	return PCITSM_OK;
}

bool policy_hex_u64(json_object *j, uint64_t *out)
{
	const char *s;
	size_t n;
	uint64_t v = 0;

	if (!json_object_is_type(j, json_type_string))
		return false;
	s = json_object_get_string(j);
	n = (size_t)json_object_get_string_len(j);
	if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	for (size_t i = 2; i < n; i++) {
		int d = pcitsm_hex_digit(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

bool policy_int(json_object *j, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v;

	if (!json_object_is_type(j, json_type_int))
		return false;
	v = json_object_get_int64(j);
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

pcitsm_err policy_only_keys(const struct why *w, const char *what, json_object *o,
			    const char *const *keys, size_t nkeys)
{
	json_object_object_foreach(o, k, v)
	{
		size_t i;

		(void)v;
		for (i = 0; i < nkeys; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == nkeys)
			return policy_fail(w, PCITSM_E_FIELD, "%s: unknown key \"%.32s\"", what, k);
	}
	return PCITSM_OK;
}
