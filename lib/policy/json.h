/* SPDX-License-Identifier: MIT */
/*
 * The strict JSON reading the administrator's files of lib/policy share (docs/policy.md,
 * docs/apply.md): one JSON document of bounded size, strict syntax, nothing but white space after
 * it; every key known; integers in a range; "0x" hex strings. Each failure writes one line naming
 * the field into the caller's why buffer.
 */
#ifndef PCITSM_LIB_POLICY_JSON_H
#define PCITSM_LIB_POLICY_JSON_H

#include <json-c/json.h>

#include "pcitsm/core.h"

/* why is a caller buffer; every failure writes one line into it. */
struct why {
	char *buf;
	size_t len;
};

PCITSM_PRINTF(3, 4)
pcitsm_err policy_fail(const struct why *w, pcitsm_err e, const char *fmt, ...);

/* text (len bytes) as one strict JSON document of at most max bytes, what naming it in messages
 * ("the policy"): OK with *root a new object (json_object_put it), E_RANGE too large, E_FIELD
 * (empty, a NUL byte, not JSON, bytes after it), E_NOMEM. depth: how deep the format nests. */
pcitsm_err policy_json_parse(const struct why *w, const char *text, size_t len, size_t max,
			     const char *what, int depth, json_object **root) PCITSM_MUST_CHECK;

/* "0x" then 1..16 hex digits. */
bool policy_hex_u64(json_object *j, uint64_t *out);
/* A JSON integer in [lo, hi]. */
bool policy_int(json_object *j, int64_t lo, int64_t hi, int64_t *out);
/* Every key of object o is one of keys[]; else E_FIELD "WHAT: unknown key \"K\"". */
pcitsm_err policy_only_keys(const struct why *w, const char *what, json_object *o,
			    const char *const *keys, size_t nkeys) PCITSM_MUST_CHECK;

#endif
