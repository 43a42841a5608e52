/* SPDX-License-Identifier: MIT */
/*
 * The acceptance policy of a TDI (include/pcitsm/policy.h, docs/policy.md): a strict parser of an
 * untrusted JSON file, the evaluation against a device's evidence, and the policy a device's
 * evidence shows now.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pcitsm/policy.h"

#include "json.h"

static const char *const info_bits[] = { "NO_FW_UPDATE", "DMA_NO_PASID", "DMA_WITH_PASID", "ATS",
					 "PRS" };
static const char *const attr_bits[] = { "MSIX_TABLE", "MSIX_PBA", "NON_TEE", "UPDATABLE" };

const char *pcitsm_policy_info_bit_name(unsigned bit)
{
	return bit < PCITSM_ARRAY_SIZE(info_bits) ? info_bits[bit] : NULL;
}

const char *pcitsm_policy_attr_bit_name(unsigned bit)
{
	return bit < PCITSM_ARRAY_SIZE(attr_bits) ? attr_bits[bit] : NULL;
}

/* An array of bit names from names[] into a mask; every name known, none twice. */
static pcitsm_err parse_bits(const struct why *w, const char *what, json_object *arr,
			     const char *(*name)(unsigned), uint16_t *mask)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return policy_fail(w, PCITSM_E_FIELD, "%s: not an array of names", what);
	n = json_object_array_length(arr);
	*mask = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s;
		unsigned bit;

		if (!json_object_is_type(e, json_type_string))
			return policy_fail(w, PCITSM_E_FIELD, "%s[%zu]: not a name", what, i);
		s = json_object_get_string(e);
		for (bit = 0; name(bit); bit++)
			if (strcmp(s, name(bit)) == 0)
				break;
		if (!name(bit))
			return policy_fail(w, PCITSM_E_FIELD, "%s[%zu]: unknown bit \"%.32s\"", what, i, s);
		if (*mask & (1u << bit))
			return policy_fail(w, PCITSM_E_FIELD, "%s[%zu]: %s named twice", what, i, s);
		*mask |= (uint16_t)(1u << bit);
	}
	return PCITSM_OK;
}

static pcitsm_err parse_meas(const struct why *w, json_object *arr, struct pcitsm_policy *p)
{
	static const char *const keys[] = { "index", "digest" };
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return policy_fail(w, PCITSM_E_FIELD, "measurements: not an array");
	n = json_object_array_length(arr);
	if (n > PCITSM_POLICY_MAX_MEAS)
		return policy_fail(w, PCITSM_E_RANGE, "measurements: %zu entries, at most %d", n,
			    PCITSM_POLICY_MAX_MEAS);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *idx, *dig;
		struct pcitsm_policy_meas *m = &p->meas[i];
		const char *s;
		size_t len;
		int64_t v;
		pcitsm_err err;

		if (!json_object_is_type(e, json_type_object))
			return policy_fail(w, PCITSM_E_FIELD, "measurements[%zu]: not an object", i);
		err = policy_only_keys(w, "measurements[]", e, keys, PCITSM_ARRAY_SIZE(keys));
		if (err)
			return err;
		/* DSP0274 GET_MEASUREMENTS: block indexes 1..0xFE (0xFF is the manifest). */
		if (!json_object_object_get_ex(e, "index", &idx) || !policy_int(idx, 1, 254, &v))
			return policy_fail(w, PCITSM_E_FIELD, "measurements[%zu].index: not an integer 1..254",
				    i);
		m->index = (uint8_t)v;
		for (size_t j = 0; j < i; j++)
			if (p->meas[j].index == m->index)
				return policy_fail(w, PCITSM_E_FIELD, "measurements[%zu]: index %u named twice",
					    i, m->index);
		if (!json_object_object_get_ex(e, "digest", &dig) ||
		    !json_object_is_type(dig, json_type_string))
			return policy_fail(w, PCITSM_E_FIELD, "measurements[%zu].digest: not a string", i);
		s = json_object_get_string(dig);
		len = (size_t)json_object_get_string_len(dig);
		if (!len || len % 2 || len / 2 > PCITSM_POLICY_DIGEST_MAX)
			return policy_fail(w, PCITSM_E_FIELD,
				    "measurements[%zu].digest: not 1..%d bytes of hex", i,
				    PCITSM_POLICY_DIGEST_MAX);
		for (size_t k = 0; k < len; k += 2) {
			int hi = pcitsm_hex_digit(s[k]), lo = pcitsm_hex_digit(s[k + 1]);

			if (hi < 0 || lo < 0)
				return policy_fail(w, PCITSM_E_FIELD, "measurements[%zu].digest: not hex", i);
			m->digest[k / 2] = (uint8_t)(hi << 4 | lo);
		}
		m->len = (uint8_t)(len / 2);
		p->nr_meas = (unsigned)i + 1;
	}
	return PCITSM_OK;
}

static pcitsm_err parse_mmio(const struct why *w, json_object *arr, struct pcitsm_policy *p)
{
	static const char *const keys[] = { "bar", "offset", "size", "attributes" };
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return policy_fail(w, PCITSM_E_FIELD, "mmio: not an array");
	n = json_object_array_length(arr);
	if (n > PCITSM_POLICY_MAX_MMIO)
		return policy_fail(w, PCITSM_E_RANGE, "mmio: %zu ranges, at most %d", n,
			    PCITSM_POLICY_MAX_MMIO);
	p->has_mmio = true;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *v;
		struct pcitsm_policy_mmio *m = &p->mmio[i];
		int64_t bar;
		pcitsm_err err;

		if (!json_object_is_type(e, json_type_object))
			return policy_fail(w, PCITSM_E_FIELD, "mmio[%zu]: not an object", i);
		err = policy_only_keys(w, "mmio[]", e, keys, PCITSM_ARRAY_SIZE(keys));
		if (err)
			return err;
		if (!json_object_object_get_ex(e, "bar", &v) ||
		    !policy_int(v, 0, PCITSM_TDISP_NR_BARS - 1, &bar))
			return policy_fail(w, PCITSM_E_FIELD, "mmio[%zu].bar: not an integer 0..5", i);
		m->bar = (uint8_t)bar;
		/* Report ranges are whole 4 KiB pages (PCIe 6.x §11, DEVICE_INTERFACE_REPORT). */
		if (!json_object_object_get_ex(e, "offset", &v) || !policy_hex_u64(v, &m->offset) ||
		    m->offset % PCITSM_TDISP_PAGE)
			return policy_fail(w, PCITSM_E_FIELD,
				    "mmio[%zu].offset: not a \"0x...\" multiple of 4 KiB", i);
		if (!json_object_object_get_ex(e, "size", &v) || !policy_hex_u64(v, &m->size) ||
		    !m->size || m->size % PCITSM_TDISP_PAGE ||
		    m->size / PCITSM_TDISP_PAGE > UINT32_MAX)
			return policy_fail(w, PCITSM_E_FIELD,
				    "mmio[%zu].size: not a \"0x...\" non-zero multiple of 4 KiB", i);
		m->attrs = 0;
		if (json_object_object_get_ex(e, "attributes", &v)) {
			char what[32];

			snprintf(what, sizeof(what), "mmio[%zu].attributes", i);
			err = parse_bits(w, what, v, pcitsm_policy_attr_bit_name, &m->attrs);
			if (err)
				return err;
		}
		p->nr_mmio = (unsigned)i + 1;
	}
	return PCITSM_OK;
}

static pcitsm_err parse_root(const struct why *w, json_object *root, struct pcitsm_policy *p)
{
	static const char *const keys[] = { "pcitsm_policy", "device", "measurements",
					    "interface_info", "mmio" };
	json_object *v;
	int64_t ver;
	pcitsm_err e;

	if (!json_object_is_type(root, json_type_object))
		return policy_fail(w, PCITSM_E_FIELD, "the policy is not a JSON object");
	e = policy_only_keys(w, "policy", root, keys, PCITSM_ARRAY_SIZE(keys));
	if (e)
		return e;
	if (!json_object_object_get_ex(root, "pcitsm_policy", &v) ||
	    !policy_int(v, PCITSM_POLICY_VERSION, PCITSM_POLICY_VERSION, &ver))
		return policy_fail(w, PCITSM_E_FIELD, "pcitsm_policy: absent or not %d",
			    PCITSM_POLICY_VERSION);
	if (json_object_object_get_ex(root, "device", &v) &&
	    !json_object_is_type(v, json_type_string))
		return policy_fail(w, PCITSM_E_FIELD, "device: not a string");
	if (json_object_object_get_ex(root, "measurements", &v)) {
		e = parse_meas(w, v, p);
		if (e)
			return e;
	}
	if (json_object_object_get_ex(root, "interface_info", &v)) {
		e = parse_bits(w, "interface_info", v, pcitsm_policy_info_bit_name, &p->info_required);
		if (e)
			return e;
		p->has_info = true;
	}
	if (json_object_object_get_ex(root, "mmio", &v))
		return parse_mmio(w, v, p);
	return PCITSM_OK;
}

pcitsm_err pcitsm_policy_parse(const char *text, size_t len, struct pcitsm_policy *p, char *why,
			       size_t why_len)
{
	const struct why w = { why, why_len };
	json_object *root;
	pcitsm_err e;

	if (!p || (!text && len))
		return PCITSM_E_INVAL;
	memset(p, 0, sizeof(*p));
	/* The format nests 4 deep. */
	e = policy_json_parse(&w, text, len, PCITSM_POLICY_TEXT_MAX, "the policy", 16,
			      &root);
	if (e)
		return e;
	e = parse_root(&w, root, p);
	json_object_put(root);
	if (e)
		memset(p, 0, sizeof(*p));
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Evaluation
 */

static void bits_str(uint16_t mask, const char *(*name)(unsigned), char *buf, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned bit = 0; bit < 16 && at < n; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		if (name(bit))
			at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? "," : "", name(bit));
		else
			at += (size_t)snprintf(buf + at, n - at, "%sbit%u", at ? "," : "", bit);
	}
	if (!buf[0])
		snprintf(buf, n, "none");
}

/* The first page of BAR bar's first range in the report (its base with the reporting offset). */
static bool bar_first_page(const struct pcitsm_tdisp_report *r, uint16_t bar, uint64_t *page)
{
	for (uint32_t i = 0; i < r->nr_ranges; i++)
		if (r->range[i].range_id == bar) {
			*page = r->range[i].first_page;
			return true;
		}
	return false;
}

static pcitsm_err eval_meas(const struct why *w, const struct pcitsm_policy_meas *m,
			    const struct pcitsm_policy_evidence *ev)
{
	for (size_t i = 0; i < ev->nr_blocks; i++) {
		const struct pcitsm_spdm_meas_block *b = &ev->blocks[i];

		if (b->index != m->index)
			continue;
		if (b->value_len != m->len)
			return policy_fail(w, PCITSM_E_MISMATCH,
				    "measurement %u: digest of %u bytes, expected %u", m->index,
				    b->value_len, m->len);
		if (pcitsm_ct_memneq(b->value, m->digest, m->len))
			return policy_fail(w, PCITSM_E_MISMATCH, "measurement %u: digest differs",
				    m->index);
		return PCITSM_OK;
	}
	return policy_fail(w, PCITSM_E_MISMATCH, "measurement %u: absent from the evidence", m->index);
}

static pcitsm_err eval_mmio(const struct why *w, const struct pcitsm_policy *p,
			    const struct pcitsm_tdisp_report *r)
{
	for (unsigned i = 0; i < p->nr_mmio || i < r->nr_ranges; i++) {
		const struct pcitsm_policy_mmio *m = &p->mmio[i];
		const struct pcitsm_tdisp_range *g = &r->range[i];
		uint64_t base = 0, size, off;
		char a[64], b[64];

		if (i >= r->nr_ranges)
			return policy_fail(w, PCITSM_E_MISMATCH, "mmio range %u: absent from the report", i);
		if (i >= p->nr_mmio)
			return policy_fail(w, PCITSM_E_MISMATCH,
				    "mmio range %u: BAR %u, not in the policy (%u ranges expected)", i,
				    g->range_id, p->nr_mmio);
		if (g->range_id != m->bar)
			return policy_fail(w, PCITSM_E_MISMATCH, "mmio range %u: BAR %u, expected BAR %u", i,
				    g->range_id, m->bar);
		(void)bar_first_page(r, g->range_id, &base);
		if (g->first_page < base)
			return policy_fail(w, PCITSM_E_MISMATCH,
				    "mmio range %u: BAR %u below the BAR's first range", i, m->bar);
		/* In pages: no product can overflow (policy values are page multiples). */
		off = g->first_page - base;
		if (off != m->offset / PCITSM_TDISP_PAGE)
			return policy_fail(w, PCITSM_E_MISMATCH,
				    "mmio range %u: BAR %u offset 0x%" PRIx64 ", expected 0x%" PRIx64,
				    i, m->bar,
				    off > UINT64_MAX / PCITSM_TDISP_PAGE ? off : off * PCITSM_TDISP_PAGE,
				    m->offset);
		size = (uint64_t)g->pages * PCITSM_TDISP_PAGE;
		if (size != m->size)
			return policy_fail(w, PCITSM_E_MISMATCH,
				    "mmio range %u: BAR %u size 0x%" PRIx64 ", expected 0x%" PRIx64, i,
				    m->bar, size, m->size);
		if (g->attrs != m->attrs) {
			bits_str(g->attrs, pcitsm_policy_attr_bit_name, a, sizeof(a));
			bits_str(m->attrs, pcitsm_policy_attr_bit_name, b, sizeof(b));
			return policy_fail(w, PCITSM_E_MISMATCH,
				    "mmio range %u: BAR %u attributes %s, expected %s", i, m->bar, a,
				    b);
		}
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_policy_eval(const struct pcitsm_policy *p, const struct pcitsm_policy_evidence *ev,
			      char *why, size_t why_len)
{
	const struct why w = { why, why_len };
	pcitsm_err e;

	if (!p || !ev || !ev->report || (ev->nr_blocks && !ev->blocks))
		return PCITSM_E_INVAL;
	for (unsigned i = 0; i < p->nr_meas; i++) {
		e = eval_meas(&w, &p->meas[i], ev);
		if (e)
			return e;
	}
	if (p->has_info && (ev->report->interface_info & p->info_required) != p->info_required) {
		char want[96], have[96];

		bits_str(p->info_required & ~ev->report->interface_info, pcitsm_policy_info_bit_name,
			 want, sizeof(want));
		bits_str(ev->report->interface_info, pcitsm_policy_info_bit_name, have, sizeof(have));
		return policy_fail(&w, PCITSM_E_MISMATCH, "interface info: %s required, the report has %s",
			    want, have);
	}
	if (p->has_mmio)
		return eval_mmio(&w, p, ev->report);
	if (why && why_len)
		snprintf(why, why_len, "every entry holds");
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The policy evidence shows
 */

static json_object *bits_json(uint16_t mask, const char *(*name)(unsigned))
{
	json_object *a = json_object_new_array();

	for (unsigned bit = 0; a && bit < 16; bit++)
		if ((mask & (1u << bit)) && name(bit))
			json_object_array_add(a, json_object_new_string(name(bit)));
	return a;
}

static json_object *hex_json(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%" PRIx64, v);
	return json_object_new_string(s);
}

json_object *pcitsm_policy_make(const struct pcitsm_policy_evidence *ev, const char *device,
				unsigned *skipped)
{
	json_object *root = json_object_new_object(), *meas = json_object_new_array(), *mmio;
	const struct pcitsm_tdisp_report *r = ev->report;
	unsigned skip = 0;

	mmio = json_object_new_array();
	if (!root || !meas || !mmio) {
		json_object_put(root);
		json_object_put(meas);
		json_object_put(mmio);
		return NULL;
	}
	json_object_object_add(root, "pcitsm_policy", json_object_new_int(PCITSM_POLICY_VERSION));
	if (device)
		json_object_object_add(root, "device", json_object_new_string(device));
	for (size_t i = 0; i < ev->nr_blocks; i++) {
		const struct pcitsm_spdm_meas_block *b = &ev->blocks[i];
		json_object *m;
		char hex[2 * PCITSM_POLICY_DIGEST_MAX + 1];

		/* DMTF measurement value type bit 7: a raw bit stream, not a digest. */
		if ((b->type & 0x80) || !b->value_len || b->value_len > PCITSM_POLICY_DIGEST_MAX ||
		    b->index == 0 || b->index == 0xff) {
			skip++;
			continue;
		}
		for (size_t k = 0; k < b->value_len; k++)
			snprintf(hex + 2 * k, 3, "%02x", b->value[k]);
		m = json_object_new_object();
		json_object_object_add(m, "index", json_object_new_int(b->index));
		json_object_object_add(m, "digest", json_object_new_string(hex));
		json_object_array_add(meas, m);
	}
	json_object_object_add(root, "measurements", meas);
	json_object_object_add(root, "interface_info",
			       bits_json(r->interface_info, pcitsm_policy_info_bit_name));
	for (uint32_t i = 0; i < r->nr_ranges; i++) {
		const struct pcitsm_tdisp_range *g = &r->range[i];
		json_object *m = json_object_new_object();
		uint64_t base = 0;

		(void)bar_first_page(r, g->range_id, &base);
		json_object_object_add(m, "bar", json_object_new_int(g->range_id));
		json_object_object_add(m, "offset",
				       hex_json((g->first_page - base) * PCITSM_TDISP_PAGE));
		json_object_object_add(m, "size", hex_json((uint64_t)g->pages * PCITSM_TDISP_PAGE));
		json_object_object_add(m, "attributes",
				       bits_json(g->attrs, pcitsm_policy_attr_bit_name));
		json_object_array_add(mmio, m);
	}
	json_object_object_add(root, "mmio", mmio);
	if (skipped)
		*skipped = skip;
	return root;
}

/* ---------------------------------------------------------------------------------------------
 * The measurement blocks of a MEASUREMENTS response
 */

pcitsm_err pcitsm_policy_record_blocks(const uint8_t *record, size_t len,
				       struct pcitsm_spdm_meas_block *blocks, size_t max, size_t *nr)
{
	size_t off = 0, got = 0;
	pcitsm_err e;

	*nr = 0;
	for (;;) {
		struct pcitsm_spdm_meas_block b;

		e = pcitsm_spdm_meas_next(record, len, &off, &b);
		if (e == PCITSM_E_NOTFOUND)
			break;
		if (e)
			return e;
		if (got == max)
			return PCITSM_E_RANGE;
		for (size_t i = 0; i < got; i++)
			if (blocks[i].index == b.index)
				return PCITSM_E_FIELD;
		blocks[got++] = b;
	}
	*nr = got;
	return PCITSM_OK;
}

pcitsm_err pcitsm_policy_meas_blocks(const uint8_t *rsp, size_t n,
				     struct pcitsm_spdm_meas_block *blocks, size_t max, size_t *nr)
{
	struct pcitsm_rd rd, rec;
	const uint8_t *record;
	uint32_t rec_len;
	uint8_t code, count;
	size_t got = 0;
	pcitsm_err e;

	*nr = 0;
	pcitsm_rd_init(&rd, rsp, n);
	(void)pcitsm_rd_u8(&rd); /* SPDMVersion */
	code = pcitsm_rd_u8(&rd);
	pcitsm_rd_skip(&rd, 2); /* Param1, Param2 */
	count = pcitsm_rd_u8(&rd);
	rec_len = pcitsm_rd_le24(&rd);
	rec = pcitsm_rd_sub(&rd, rec_len);
	if (pcitsm_rd_err(&rd))
		return pcitsm_rd_err(&rd);
	if (code != PCITSM_SPDM_MEASUREMENTS)
		return PCITSM_E_FIELD;
	record = pcitsm_rd_rest(&rec, &got);
	e = pcitsm_policy_record_blocks(record, rec_len, blocks, max, &got);
	if (e)
		return e;
	if (got != count)
		return PCITSM_E_FIELD;
	*nr = got;
	return PCITSM_OK;
}
