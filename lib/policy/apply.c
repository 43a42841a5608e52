/* SPDX-License-Identifier: MIT */
/*
 * The link policy of a host (include/pcitsm/policy_apply.h, docs/apply.md): a strict parser of the
 * administrator's JSON file, the match of a function against its entries, and the check of a
 * connection against an entry's requirements.
 */
#include <stdio.h>
#include <string.h>

#include "pcitsm/policy_apply.h"
#include "pcitsm/spdm.h"

#include "json.h"

/* The enum values each name table is searched over (crypto.h's enums are small and dense). */
#define ALG_SCAN 32

/* The algorithm families a policy names, one line each: the family (the name of its fields in
 * struct pcitsm_apply_require and of its functions here), its key under "require", its enum and
 * lib/crypto's name of a value. ALG_FAMILY below makes each family's functions from this list. */
#define APPLY_ALG_FAMILIES(X)                                                                      \
	X(asym, "base_asym", enum pcitsm_sig_alg, pcitsm_sig_name)                                 \
	X(hash, "base_hash", enum pcitsm_hash_alg, pcitsm_hash_name)                               \
	X(dhe, "dhe", enum pcitsm_dhe_alg, pcitsm_dhe_name)                                        \
	X(aead, "aead", enum pcitsm_aead_alg, pcitsm_aead_name)

/* The value (1..ALG_SCAN-1) whose name is s, or 0; "none" names no algorithm a policy can ask for. */
static unsigned alg_by_name(const char *s, const char *(*name_at)(unsigned))
{
	for (unsigned a = 1; a < ALG_SCAN; a++) {
		const char *n = name_at(a);

		if (n && strcmp(n, "none") && !strcmp(n, s))
			return a;
	}
	return 0;
}

const char *pcitsm_apply_tdi_name(enum pcitsm_apply_tdi t)
{
	return t == PCITSM_APPLY_TDI_RUN      ? "RUN"
	       : t == PCITSM_APPLY_TDI_LOCKED ? "CONFIG_LOCKED"
					      : "any";
}

/* ---------------------------------------------------------------------------------------------
 * Parsing. Every message names the field as a path: "devices[2].connect.require.dhe[0]".
 */

/* A string of 1..max-1 bytes into out; NULL charset: any printable ASCII. */
static pcitsm_err get_str(const struct why *w, const char *path, json_object *v, char *out,
			  size_t max, const char *charset)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not a string", path);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (!n || n >= max)
		return policy_fail(w, PCITSM_E_FIELD, "%s: not 1..%zu characters", path, max - 1);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || (charset && !strchr(charset, s[i])))
			return policy_fail(w, PCITSM_E_FIELD, "%s: character %zu not allowed", path,
					   i);
	memcpy(out, s, n + 1);
	return PCITSM_OK;
}

/* "tsmN", as the kernel's connect_store would name one (N decimal, no sign). */
static pcitsm_err get_tsm(const struct why *w, const char *path, json_object *v, char *out)
{
	pcitsm_err e = get_str(w, path, v, out, PCITSM_APPLY_TSM_MAX, "tsm0123456789");

	if (e)
		return e;
	if (strncmp(out, "tsm", 3) || !out[3] || strspn(out + 3, "0123456789") != strlen(out + 3))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not a TSM name \"tsmN\"", path);
	return PCITSM_OK;
}

/* A "0x" hex string no larger than max. */
static pcitsm_err get_hex(const struct why *w, const char *path, json_object *v, uint64_t max,
			  uint64_t *out)
{
	if (!policy_hex_u64(v, out) || *out > max)
		return policy_fail(w, PCITSM_E_FIELD, "%s: not a \"0x...\" hex value up to 0x%llx",
				   path, (unsigned long long)max);
	return PCITSM_OK;
}

/* o is an object whose keys are all among keys[n]; else E_FIELD naming path. */
static pcitsm_err known_object(const struct why *w, const char *path, json_object *o,
			       const char *const *keys, size_t n)
{
	if (!json_object_is_type(o, json_type_object))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not an object", path);
	return policy_only_keys(w, path, o, keys, n);
}

/* The hex ID key of a match object (at most max) into *x, when given; *has says whether it was. */
static pcitsm_err match_id(const struct why *w, const char *at, json_object *o, const char *key,
			   uint64_t max, uint64_t *x, bool *has)
{
	char path[96];
	json_object *v;

	*has = json_object_object_get_ex(o, key, &v);
	if (!*has)
		return PCITSM_OK;
	snprintf(path, sizeof(path), "%s.match.%s", at, key);
	return get_hex(w, path, v, max, x);
}

static pcitsm_err parse_match(const struct why *w, const char *at, json_object *o,
			      struct pcitsm_apply_match *m)
{
	static const char *const keys[] = { "bdf", "vendor", "device", "class", "class_mask" };
	char path[96], bdf[16];
	json_object *v;
	uint64_t x, vendor = 0, device = 0, class_code = 0;
	pcitsm_err e;

	snprintf(path, sizeof(path), "%s.match", at);
	e = known_object(w, path, o, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	m->class_mask = 0xffffff;
	if (json_object_object_get_ex(o, "bdf", &v)) {
		snprintf(path, sizeof(path), "%s.match.bdf", at);
		e = get_str(w, path, v, bdf, sizeof(bdf), NULL);
		if (e)
			return e;
		if (pcitsm_bdf_parse(bdf, &m->bdf) != PCITSM_OK)
			return policy_fail(w, PCITSM_E_FIELD,
					   "%s: not a PCI address \"DDDD:BB:DD.F\"", path);
		m->has_bdf = true;
	}
	e = match_id(w, at, o, "vendor", 0xffff, &vendor, &m->has_vendor);
	if (!e)
		e = match_id(w, at, o, "device", 0xffff, &device, &m->has_device);
	if (!e)
		e = match_id(w, at, o, "class", 0xffffff, &class_code, &m->has_class);
	if (e)
		return e;
	m->vendor = (uint16_t)vendor;
	m->device = (uint16_t)device;
	m->class_code = (uint32_t)class_code;
	if (json_object_object_get_ex(o, "class_mask", &v)) {
		snprintf(path, sizeof(path), "%s.match.class_mask", at);
		if (!m->has_class)
			return policy_fail(w, PCITSM_E_FIELD, "%s: given without class", path);
		e = get_hex(w, path, v, 0xffffff, &x);
		if (e)
			return e;
		if (!x)
			return policy_fail(w, PCITSM_E_FIELD, "%s: 0 would match every class",
					   path);
		m->class_mask = (uint32_t)x;
	}
	/* The IDs are matched only together with a vendor, the one ID that says whose they are. */
	if (m->has_bdf && (m->has_vendor || m->has_device || m->has_class))
		return policy_fail(w, PCITSM_E_FIELD, "%s.match: bdf or IDs, not both", at);
	if (!m->has_bdf && !m->has_vendor)
		return policy_fail(w, PCITSM_E_FIELD,
				   "%s.match: needs bdf, or vendor [device] [class]", at);
	return PCITSM_OK;
}

/* An array of 1..PCITSM_APPLY_MAX_ALGS algorithm names, each known, none twice, into out[*nr]. */
static pcitsm_err parse_alg_names(const struct why *w, const char *path, json_object *arr,
				  const char *(*name_at)(unsigned), unsigned *out, unsigned *nr)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not an array of names", path);
	n = json_object_array_length(arr);
	if (!n || n > PCITSM_APPLY_MAX_ALGS)
		return policy_fail(w, PCITSM_E_FIELD, "%s: 1..%d names", path,
				   PCITSM_APPLY_MAX_ALGS);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		out[i] = json_object_is_type(v, json_type_string)
				 ? alg_by_name(json_object_get_string(v), name_at)
				 : 0;
		if (!out[i])
			return policy_fail(w, PCITSM_E_FIELD,
					   "%s[%zu]: not an algorithm name known here", path, i);
		for (size_t j = 0; j < i; j++)
			if (out[j] == out[i])
				return policy_fail(w, PCITSM_E_FIELD, "%s[%zu]: named twice",
						   path, i);
	}
	*nr = (unsigned)n;
	return PCITSM_OK;
}

/* A family's functions: fam_name_at (its name of a value, for the two above), the public
 * pcitsm_apply_fam_parse (policy_apply.h), parse_fam (a policy's list of names) and in_fam (whether
 * a value is among a list's nr). */
/* NOLINTBEGIN(bugprone-macro-parentheses): `type` is a type name, which no parentheses may
 * enclose */
#define ALG_FAMILY(fam, key, type, name_fn)                                                        \
	static const char *fam##_name_at(unsigned a)                                               \
	{                                                                                          \
		return name_fn((type)a);                                                           \
	}                                                                                          \
	bool pcitsm_apply_##fam##_parse(const char *s, type *out)                                  \
	{                                                                                          \
		unsigned a = alg_by_name(s, fam##_name_at);                                        \
                                                                                                   \
		if (a)                                                                             \
			*out = (type)a;                                                            \
		return a != 0;                                                                     \
	}                                                                                          \
	static pcitsm_err parse_##fam(const struct why *w, const char *path, json_object *arr,     \
				      type *out, unsigned *nr)                                     \
	{                                                                                          \
		unsigned a[PCITSM_APPLY_MAX_ALGS] = { 0 };                                         \
		pcitsm_err e = parse_alg_names(w, path, arr, fam##_name_at, a, nr);                \
                                                                                                   \
		for (unsigned i = 0; !e && i < *nr; i++)                                           \
			out[i] = (type)a[i];                                                       \
		return e;                                                                          \
	}                                                                                          \
	static bool in_##fam(const type *list, unsigned nr, type v)                                \
	{                                                                                          \
		for (unsigned k = 0; k < nr; k++)                                                  \
			if (list[k] == v)                                                          \
				return true;                                                       \
		return false;                                                                      \
	}
/* NOLINTEND(bugprone-macro-parentheses) */
APPLY_ALG_FAMILIES(ALG_FAMILY)
#undef ALG_FAMILY

static pcitsm_err parse_root_hash(const struct why *w, const char *path, json_object *v,
				  struct pcitsm_apply_require *r)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not a string", path);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	/* A digest of one of the SPDM base hash algorithms: SHA-256, -384 or -512. */
	if (n != 64 && n != 96 && n != 128)
		return policy_fail(w, PCITSM_E_FIELD, "%s: not 32, 48 or 64 bytes of hex", path);
	for (size_t i = 0; i < n; i += 2) {
		int hi = pcitsm_hex_digit(s[i]), lo = pcitsm_hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return policy_fail(w, PCITSM_E_FIELD, "%s: not hex", path);
		r->root_hash[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	r->root_hash_len = n / 2;
	return PCITSM_OK;
}

static pcitsm_err parse_require(const struct why *w, const char *at, json_object *o,
				struct pcitsm_apply_require *r)
{
	static const char *const keys[] = {
		"ide", "spdm_version_min", "base_asym", "base_hash", "dhe", "aead", "root_hash"
	};
	char path[128], ver[8];
	json_object *v;
	pcitsm_err e = PCITSM_OK;

	snprintf(path, sizeof(path), "%s.connect.require", at);
	e = known_object(w, path, o, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	if (json_object_object_get_ex(o, "ide", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return policy_fail(w, PCITSM_E_FIELD, "%s.ide: not true or false", path);
		r->ide = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(o, "spdm_version_min", &v)) {
		char p[160];

		snprintf(p, sizeof(p), "%s.spdm_version_min", path);
		e = get_str(w, p, v, ver, sizeof(ver), "0123456789.");
		if (e)
			return e;
		if (pcitsm_spdm_version_parse(ver, &r->spdm_min) != PCITSM_OK)
			return policy_fail(w, PCITSM_E_FIELD, "%s: not an SPDM version 1.0..1.3",
					   p);
	}
#define ALGS(fam, key, type, name_fn)                                                              \
	if (!e && json_object_object_get_ex(o, key, &v)) {                                         \
		char p[160];                                                                       \
                                                                                                   \
		snprintf(p, sizeof(p), "%s." key, path);                                           \
		e = parse_##fam(w, p, v, r->fam, &r->nr_##fam);                                    \
	}
	APPLY_ALG_FAMILIES(ALGS)
#undef ALGS
	if (!e && json_object_object_get_ex(o, "root_hash", &v)) {
		char p[160];

		snprintf(p, sizeof(p), "%s.root_hash", path);
		e = parse_root_hash(w, p, v, r);
	}
	return e;
}

static pcitsm_err parse_connect(const struct why *w, const char *at, json_object *o,
				struct pcitsm_apply_entry *en)
{
	static const char *const keys[] = { "tsm", "require" };
	char path[96];
	json_object *v;
	pcitsm_err e;

	snprintf(path, sizeof(path), "%s.connect", at);
	en->req.ide = true;
	if (json_object_is_type(o, json_type_boolean)) {
		/* "connect": true, the short form; false is the same as leaving it out. */
		en->connect = json_object_get_boolean(o);
		return PCITSM_OK;
	}
	if (!json_object_is_type(o, json_type_object))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not an object or true", path);
	e = policy_only_keys(w, path, o, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	en->connect = true;
	if (json_object_object_get_ex(o, "tsm", &v)) {
		snprintf(path, sizeof(path), "%s.connect.tsm", at);
		e = get_tsm(w, path, v, en->tsm);
		if (e)
			return e;
	}
	if (json_object_object_get_ex(o, "require", &v))
		return parse_require(w, at, v, &en->req);
	return PCITSM_OK;
}

static pcitsm_err parse_tdisp(const struct why *w, const char *at, json_object *o,
			      struct pcitsm_apply_entry *en)
{
	static const char *const keys[] = { "state", "tsm", "policy" };
	char path[96], state[16];
	json_object *v;
	pcitsm_err e;

	snprintf(path, sizeof(path), "%s.tdisp", at);
	e = known_object(w, path, o, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	snprintf(path, sizeof(path), "%s.tdisp.state", at);
	if (!json_object_object_get_ex(o, "state", &v))
		return policy_fail(w, PCITSM_E_FIELD, "%s: absent (RUN or CONFIG_LOCKED)", path);
	e = get_str(w, path, v, state, sizeof(state), NULL);
	if (e)
		return e;
	if (!strcmp(state, "RUN"))
		en->tdi = PCITSM_APPLY_TDI_RUN;
	else if (!strcmp(state, "CONFIG_LOCKED"))
		en->tdi = PCITSM_APPLY_TDI_LOCKED;
	else
		return policy_fail(w, PCITSM_E_FIELD, "%s: not RUN or CONFIG_LOCKED", path);
	if (json_object_object_get_ex(o, "tsm", &v)) {
		snprintf(path, sizeof(path), "%s.tdisp.tsm", at);
		e = get_tsm(w, path, v, en->tdi_tsm);
		if (e)
			return e;
	}
	if (json_object_object_get_ex(o, "policy", &v)) {
		snprintf(path, sizeof(path), "%s.tdisp.policy", at);
		e = get_str(w, path, v, en->policy, sizeof(en->policy), NULL);
		if (e)
			return e;
		/* The policy decides what runs: a relative path would depend on where pcitsm runs
		 * (a unit's working directory), so it must be absolute. */
		if (en->policy[0] != '/')
			return policy_fail(w, PCITSM_E_FIELD, "%s: not an absolute path", path);
		if (en->tdi != PCITSM_APPLY_TDI_RUN)
			return policy_fail(w, PCITSM_E_FIELD,
					   "%s: a policy is for accept (state RUN)", path);
	}
	return PCITSM_OK;
}

static pcitsm_err parse_entry(const struct why *w, size_t i, json_object *o, struct pcitsm_apply *a)
{
	static const char *const keys[] = { "name", "match", "connect", "tdisp" };
	struct pcitsm_apply_entry *en = &a->e[i];
	char at[32], path[64];
	json_object *v;
	pcitsm_err e;

	snprintf(at, sizeof(at), "devices[%zu]", i);
	e = known_object(w, at, o, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	snprintf(en->name, sizeof(en->name), "%s", at);
	if (json_object_object_get_ex(o, "name", &v)) {
		snprintf(path, sizeof(path), "%s.name", at);
		e = get_str(w, path, v, en->name, sizeof(en->name),
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
		if (e)
			return e;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(a->e[j].name, en->name))
				return policy_fail(w, PCITSM_E_FIELD, "%s: \"%s\" named twice",
						   path, en->name);
	}
	if (!json_object_object_get_ex(o, "match", &v))
		return policy_fail(w, PCITSM_E_FIELD, "%s.match: absent", at);
	e = parse_match(w, at, v, &en->match);
	if (e)
		return e;
	en->req.ide = true;
	if (json_object_object_get_ex(o, "connect", &v)) {
		e = parse_connect(w, at, v, en);
		if (e)
			return e;
	}
	if (json_object_object_get_ex(o, "tdisp", &v)) {
		e = parse_tdisp(w, at, v, en);
		if (e)
			return e;
	}
	if (!en->connect && en->tdi == PCITSM_APPLY_TDI_ANY)
		return policy_fail(w, PCITSM_E_FIELD,
				   "%s: neither connect nor tdisp: nothing to do", at);
	return PCITSM_OK;
}

static pcitsm_err parse_root(const struct why *w, json_object *root, struct pcitsm_apply *a)
{
	static const char *const keys[] = { "pcitsm_apply", "unmatched", "devices" };
	json_object *v;
	int64_t ver;
	size_t n;
	pcitsm_err e;

	if (!json_object_is_type(root, json_type_object))
		return policy_fail(w, PCITSM_E_FIELD, "the file is not a JSON object");
	e = policy_only_keys(w, "the file", root, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	if (!json_object_object_get_ex(root, "pcitsm_apply", &v) ||
	    !policy_int(v, PCITSM_APPLY_VERSION, PCITSM_APPLY_VERSION, &ver))
		return policy_fail(w, PCITSM_E_FIELD, "pcitsm_apply: absent or not %d",
				   PCITSM_APPLY_VERSION);
	if (json_object_object_get_ex(root, "unmatched", &v)) {
		const char *s =
			json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

		if (!strcmp(s, "ignore"))
			a->unmatched = PCITSM_APPLY_UNMATCHED_IGNORE;
		else if (!strcmp(s, "report"))
			a->unmatched = PCITSM_APPLY_UNMATCHED_REPORT;
		else
			return policy_fail(w, PCITSM_E_FIELD,
					   "unmatched: not \"ignore\" or \"report\"");
	}
	if (!json_object_object_get_ex(root, "devices", &v) ||
	    !json_object_is_type(v, json_type_array))
		return policy_fail(w, PCITSM_E_FIELD, "devices: absent or not an array");
	n = json_object_array_length(v);
	if (n > PCITSM_APPLY_MAX_ENTRIES)
		return policy_fail(w, PCITSM_E_RANGE, "devices: %zu entries, at most %d", n,
				   PCITSM_APPLY_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		e = parse_entry(w, i, json_object_array_get_idx(v, i), a);
		if (e)
			return e;
		a->nr = (unsigned)i + 1;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_apply_parse(const char *text, size_t len, struct pcitsm_apply *a, char *why,
			      size_t why_len)
{
	const struct why w = { why, why_len };
	json_object *root;
	pcitsm_err e;

	if (!a || (!text && len))
		return PCITSM_E_INVAL;
	memset(a, 0, sizeof(*a));
	/* The format nests 5 deep (devices[].connect.require.dhe[]). */
	e = policy_json_parse(&w, text, len, PCITSM_APPLY_TEXT_MAX, "the file", 16, &root);
	if (e)
		return e;
	e = parse_root(&w, root, a);
	json_object_put(root);
	if (e)
		memset(a, 0, sizeof(*a));
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Matching and requirements
 */

bool pcitsm_apply_matches(const struct pcitsm_apply_match *m, const struct pcitsm_apply_ids *id)
{
	if (m->has_bdf)
		return m->bdf.seg == id->bdf.seg && m->bdf.bus == id->bdf.bus &&
		       m->bdf.dev == id->bdf.dev && m->bdf.fn == id->bdf.fn;
	if (!m->has_vendor || m->vendor != id->vendor)
		return false;
	if (m->has_device && m->device != id->device)
		return false;
	return !m->has_class || (id->class_code & m->class_mask) == (m->class_code & m->class_mask);
}

int pcitsm_apply_find(const struct pcitsm_apply *a, const struct pcitsm_apply_ids *id)
{
	for (unsigned i = 0; i < a->nr; i++)
		if (pcitsm_apply_matches(&a->e[i].match, id))
			return (int)i;
	return -1;
}

pcitsm_err pcitsm_apply_require_check(const struct pcitsm_apply_require *r,
				      const struct pcitsm_apply_seen *s, char *why, size_t why_len)
{
	const struct why w = { why, why_len };

	if (r->spdm_min && !s->spdm_version)
		return policy_fail(&w, PCITSM_E_MISMATCH, "spdm_version not shown by this host");
	if ((r->nr_asym && !s->asym) || (r->nr_hash && !s->hash) || (r->nr_dhe && !s->dhe) ||
	    (r->nr_aead && !s->aead))
		return policy_fail(&w, PCITSM_E_MISMATCH,
				   "the negotiated algorithms are not shown by this host");
	if (r->spdm_min && s->spdm_version < r->spdm_min)
		return policy_fail(&w, PCITSM_E_MISMATCH,
				   "spdm_version %u.%u, at least %u.%u required",
				   s->spdm_version >> 4, s->spdm_version & 0xf, r->spdm_min >> 4,
				   r->spdm_min & 0xf);
	if (r->nr_asym && !in_asym(r->asym, r->nr_asym, s->asym))
		return policy_fail(&w, PCITSM_E_MISMATCH, "base_asym %s, not among those required",
				   pcitsm_sig_name(s->asym));
	if (r->nr_hash && !in_hash(r->hash, r->nr_hash, s->hash))
		return policy_fail(&w, PCITSM_E_MISMATCH, "base_hash %s, not among those required",
				   pcitsm_hash_name(s->hash));
	if (r->nr_dhe && !in_dhe(r->dhe, r->nr_dhe, s->dhe))
		return policy_fail(&w, PCITSM_E_MISMATCH, "dhe %s, not among those required",
				   pcitsm_dhe_name(s->dhe));
	if (r->nr_aead && !in_aead(r->aead, r->nr_aead, s->aead))
		return policy_fail(&w, PCITSM_E_MISMATCH, "aead %s, not among those required",
				   pcitsm_aead_name(s->aead));
	if (r->root_hash_len) {
		if (!s->has_root_hash)
			return policy_fail(&w, PCITSM_E_MISMATCH,
					   "root_hash not shown by this host (no certificate chain "
					   "to read)");
		/* A public value, but compared in constant time as every digest is here. */
		if (s->root_hash_len != r->root_hash_len ||
		    pcitsm_ct_memneq(s->root_hash, r->root_hash, r->root_hash_len))
			return policy_fail(&w, PCITSM_E_MISMATCH,
					   "root_hash differs (the chain's root is not the one "
					   "required)");
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_apply_chain_root_hash(const uint8_t *chain, size_t len, enum pcitsm_hash_alg alg,
					struct pcitsm_apply_seen *s)
{
	size_t h = pcitsm_hash_size(alg);
	struct pcitsm_rd rd;
	const uint8_t *root;
	uint16_t total;

	if (!h || h > sizeof(s->root_hash))
		return PCITSM_E_INVAL;
	pcitsm_rd_init(&rd, chain, len);
	total = pcitsm_rd_le16(&rd);
	pcitsm_rd_skip(&rd, 2); /* Reserved */
	root = pcitsm_rd_bytes(&rd, h);
	if (pcitsm_rd_err(&rd))
		return pcitsm_rd_err(&rd);
	/* Length covers the header and the certificates (DSP0274 1.3 certificate chain format). */
	if (total != len || !pcitsm_rd_left(&rd))
		return PCITSM_E_FIELD;
	memcpy(s->root_hash, root, h);
	s->root_hash_len = h;
	s->has_root_hash = true;
	return PCITSM_OK;
}
