/* SPDX-License-Identifier: MIT */
/*
 * pcitsm tap FILE [--json]: what an interposer on the link saw. Reads a link capture (pcitsmd
 * --tap, docs/tap.md; lib/capture's record format) and prints one line per TLP: direction, the
 * IDE TLP Prefix's fields when present (PCIe 6.x §6.33), the header's fields (in the clear under
 * IDE: it is the AAD), the payload's length and first bytes (ciphertext on a Secure stream) and
 * the MAC; then a summary. The file is untrusted: every record goes through
 * pcitsm_tap_rec_parse, and a record that does not decode is reported, counted, and makes the
 * exit status 1.
 */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pcitsm/capture.h"

#define TAP_HEAD_BYTES 8 /* payload bytes shown per TLP */

struct tap_sum {
	uint64_t tlps, dir[2], ide, clear, bad, wire_bytes, payload_bytes, enc_bytes;
	struct pcitsm_bdf rp;
	bool have_rp, mixed_rp;
};

static const char *const kind_name[] = {
	[PCITSM_TLP_MRD] = "MRd",   [PCITSM_TLP_MWR] = "MWr", [PCITSM_TLP_CFGRD1] = "CfgRd1",
	[PCITSM_TLP_CFGWR1] = "CfgWr1", [PCITSM_TLP_CPL] = "Cpl", [PCITSM_TLP_CPLD] = "CplD",
	[PCITSM_TLP_MSG] = "Msg",
};
static const char *const sub_name[] = { "PR", "NPR", "CPL" };
static const char *const dir_name[] = { "RP->EP", "EP->RP" };

/* Completion Status (PCIe 6.x §2.2.9). */
static const char *status_name(uint8_t st)
{
	static const char *const n[] = { "SC", "UR", "CRS", "rsv3", "CA", "rsv5", "rsv6", "rsv7" };

	return n[st & 7];
}

static void rid_str(uint16_t rid, char out[8])
{
	snprintf(out, 8, "%02x:%02x.%x", rid >> 8, rid >> 3 & 0x1f, rid & 7);
}

static void hex_str(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 3 <= cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
}

static bool is_request(const struct pcitsm_tlp *t)
{
	return t->kind == PCITSM_TLP_MRD || t->kind == PCITSM_TLP_MWR;
}

static bool is_cpl(const struct pcitsm_tlp *t)
{
	return t->kind == PCITSM_TLP_CPL || t->kind == PCITSM_TLP_CPLD;
}

/* The header's own words, as one text fragment. */
static void hdr_text(const struct pcitsm_tlp *t, char *out, size_t cap)
{
	char req[8], cpl[8];

	rid_str(t->req_id, req);
	rid_str(t->cpl_id, cpl);
	if (is_request(t))
		snprintf(out, cap, "%-4s len %-4zu req %s tag %-3u addr 0x%" PRIx64, kind_name[t->kind],
			 t->len, req, t->tag, t->addr);
	else if (is_cpl(t))
		snprintf(out, cap, "%-4s len %-4zu req %s tag %-3u cpl %s %s bc %u",
			 kind_name[t->kind], t->len, req, t->tag, cpl, status_name(t->status),
			 t->byte_count);
	else if (t->kind == PCITSM_TLP_MSG)
		snprintf(out, cap, "Msg  code 0x%02x req %s%s", t->msg_code, req,
			 t->msg_code == PCITSM_MSG_IDE_SYNC   ? " (IDE Sync)"
			 : t->msg_code == PCITSM_MSG_IDE_FAIL ? " (IDE Fail)"
							      : "");
	else
		snprintf(out, cap, "%-6s len %-4zu req %s tag %-3u", kind_name[t->kind], t->len, req,
			 t->tag);
}

static void print_rec(uint64_t n, const struct pcitsm_tap_rec *r)
{
	char hdr[128], head[2 * TAP_HEAD_BYTES + 1], mac[2 * PCITSM_IDE_MAC_LEN + 1], pfx[48];

	if (r->tlp_err) {
		printf("%6" PRIu64 " %s malformed TLP (%zu bytes): %s\n", n, dir_name[r->dir], r->len,
		       pcitsm_err_name(r->tlp_err));
		return;
	}
	hdr_text(&r->hdr, hdr, sizeof(hdr));
	hex_str(r->payload, PCITSM_MIN(r->payload_len, (size_t)TAP_HEAD_BYTES), head, sizeof(head));
	if (r->ide)
		snprintf(pfx, sizeof(pfx), "IDE sid %-3u %-3s K%u T%u M%u P%u", r->v.pfx.stream_id,
			 sub_name[r->v.pfx.sub], r->v.pfx.k, r->v.pfx.t, r->v.pfx.m, r->v.pfx.p);
	else
		snprintf(pfx, sizeof(pfx), "clear");
	printf("%6" PRIu64 " %s %-25s %s", n, dir_name[r->dir], pfx, hdr);
	if (r->payload_len)
		printf(" data %zu %s%s", r->payload_len, head,
		       r->payload_len > TAP_HEAD_BYTES ? ".." : "");
	if (r->ide && r->v.mac) {
		hex_str(r->v.mac, PCITSM_IDE_MAC_LEN, mac, sizeof(mac));
		printf(" mac %s", mac);
	}
	printf("\n");
}

static json_object *rec_json(uint64_t n, uint64_t ts_us, const struct pcitsm_tap_rec *r)
{
	json_object *o = json_object_new_object();
	const struct pcitsm_tlp *t = &r->hdr;
	char s[2 * PCITSM_IDE_MAC_LEN + 1], req[8];

	json_object_object_add(o, "index", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)r->seq));
	json_object_object_add(o, "time_us", json_object_new_int64((int64_t)ts_us));
	json_object_object_add(o, "direction",
			       json_object_new_string(r->dir == PCITSM_TAP_DOWN ? "down" : "up"));
	json_object_object_add(o, "wire_bytes", json_object_new_int64((int64_t)r->len));
	json_object_object_add(o, "ide", json_object_new_boolean(r->ide));
	if (r->tlp_err) {
		json_object_object_add(o, "error", json_object_new_string(pcitsm_err_name(r->tlp_err)));
		return o;
	}
	if (r->ide) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "stream_id", json_object_new_int(r->v.pfx.stream_id));
		json_object_object_add(p, "sub_stream", json_object_new_string(sub_name[r->v.pfx.sub]));
		json_object_object_add(p, "k", json_object_new_int(r->v.pfx.k));
		json_object_object_add(p, "t", json_object_new_int(r->v.pfx.t));
		json_object_object_add(p, "m", json_object_new_int(r->v.pfx.m));
		json_object_object_add(p, "p", json_object_new_int(r->v.pfx.p));
		json_object_object_add(p, "pr_sent", json_object_new_int(r->v.pfx.pr_sent));
		json_object_object_add(o, "prefix", p);
		if (r->v.mac) {
			hex_str(r->v.mac, PCITSM_IDE_MAC_LEN, s, sizeof(s));
			json_object_object_add(o, "mac", json_object_new_string(s));
		}
	}
	rid_str(t->req_id, req);
	json_object_object_add(o, "type", json_object_new_string(kind_name[t->kind]));
	json_object_object_add(o, "length", json_object_new_int64((int64_t)t->len));
	json_object_object_add(o, "requester", json_object_new_string(req));
	json_object_object_add(o, "tag", json_object_new_int(t->tag));
	if (is_request(t)) {
		/* Hex text: a 64-bit address does not fit JSON's integers. */
		snprintf(s, sizeof(s), "0x%" PRIx64, t->addr);
		json_object_object_add(o, "address", json_object_new_string(s));
	}
	if (is_cpl(t)) {
		rid_str(t->cpl_id, req);
		json_object_object_add(o, "completer", json_object_new_string(req));
		json_object_object_add(o, "status", json_object_new_int(t->status));
	}
	if (t->kind == PCITSM_TLP_MSG)
		json_object_object_add(o, "msg_code", json_object_new_int(t->msg_code));
	json_object_object_add(o, "payload_bytes", json_object_new_int64((int64_t)r->payload_len));
	hex_str(r->payload, PCITSM_MIN(r->payload_len, (size_t)TAP_HEAD_BYTES), s, sizeof(s));
	json_object_object_add(o, "payload_head", json_object_new_string(s));
	return o;
}

static void count(struct tap_sum *m, const struct pcitsm_tap_rec *r)
{
	m->tlps++;
	m->dir[r->dir]++;
	m->wire_bytes += r->len;
	if (m->have_rp && pcitsm_bdf_rid(&m->rp) != pcitsm_bdf_rid(&r->rp))
		m->mixed_rp = true;
	if (m->have_rp && m->rp.seg != r->rp.seg)
		m->mixed_rp = true;
	m->rp = r->rp;
	m->have_rp = true;
	if (r->tlp_err) {
		m->bad++;
		return;
	}
	if (r->ide)
		m->ide++;
	else
		m->clear++;
	m->payload_bytes += r->payload_len;
	if (r->ide)
		m->enc_bytes += r->payload_len;
}

static json_object *sum_json(const struct tap_sum *m)
{
	json_object *o = json_object_new_object();
	char name[13];

	if (m->have_rp && !m->mixed_rp) {
		pcitsm_bdf_format(&m->rp, name);
		json_object_object_add(o, "root_port", json_object_new_string(name));
	}
	json_object_object_add(o, "tlps", json_object_new_int64((int64_t)m->tlps));
	json_object_object_add(o, "down", json_object_new_int64((int64_t)m->dir[PCITSM_TAP_DOWN]));
	json_object_object_add(o, "up", json_object_new_int64((int64_t)m->dir[PCITSM_TAP_UP]));
	json_object_object_add(o, "ide", json_object_new_int64((int64_t)m->ide));
	json_object_object_add(o, "clear", json_object_new_int64((int64_t)m->clear));
	json_object_object_add(o, "malformed", json_object_new_int64((int64_t)m->bad));
	json_object_object_add(o, "wire_bytes", json_object_new_int64((int64_t)m->wire_bytes));
	json_object_object_add(o, "payload_bytes",
			       json_object_new_int64((int64_t)m->payload_bytes));
	json_object_object_add(o, "encrypted_payload_bytes",
			       json_object_new_int64((int64_t)m->enc_bytes));
	return o;
}

static void sum_text(const struct tap_sum *m)
{
	char name[13] = "?";

	if (m->have_rp && !m->mixed_rp)
		pcitsm_bdf_format(&m->rp, name);
	printf("link %s: %" PRIu64 " TLPs (%" PRIu64 " RP->EP, %" PRIu64 " EP->RP): %" PRIu64
	       " IDE, %" PRIu64 " in the clear, %" PRIu64 " malformed\n",
	       m->mixed_rp ? "(several)" : name, m->tlps, m->dir[PCITSM_TAP_DOWN],
	       m->dir[PCITSM_TAP_UP], m->ide, m->clear, m->bad);
	printf("  %" PRIu64 " bytes on the wire, %" PRIu64 " bytes of payload (%" PRIu64
	       " encrypted)\n",
	       m->wire_bytes, m->payload_bytes, m->enc_bytes);
}

/* Every packet of the file, printed or gathered; false on a file error (already reported). */
static bool tap_read(struct pcitsm_pcap_in *in, const char *path, bool json, json_object *arr,
		     struct tap_sum *m)
{
	const uint8_t *pkt;
	size_t caplen, len;
	uint64_t ts, n = 0;
	pcitsm_err e;

	while ((e = pcitsm_pcap_in_next(in, &pkt, &caplen, &len, &ts)) == PCITSM_OK) {
		struct pcitsm_tap_rec r;

		/* A record cut by the snapshot length is no record of ours: as malformed. */
		e = caplen == len ? pcitsm_tap_rec_parse(pkt, caplen, &r) : PCITSM_E_TRUNCATED;
		if (e) {
			m->tlps++;
			m->bad++;
			if (json) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "index", json_object_new_int64((int64_t)n));
				json_object_object_add(o, "error",
						       json_object_new_string(pcitsm_err_name(e)));
				json_object_array_add(arr, o);
			} else {
				printf("%6" PRIu64 " malformed record (%zu bytes): %s\n", n, caplen,
				       pcitsm_err_name(e));
			}
			n++;
			continue;
		}
		count(m, &r);
		if (json)
			json_object_array_add(arr, rec_json(n, ts, &r));
		else
			print_rec(n, &r);
		n++;
	}
	if (e != PCITSM_E_NOTFOUND) {
		cli_failf("tap %s: the file ends inside a packet", path);
		return false;
	}
	return true;
}

static int tap_main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_FLAG("json", 'j'),
		{ NULL, 0, NULL, 0 },
	};
	struct pcitsm_pcap_in in;
	struct tap_sum m;
	json_object *arr = NULL;
	bool json = false, ok;
	char why[256] = "";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_usage("tap");
		json = true;
	}
	if (optind != argc - 1)
		return cli_usage("tap");
	if (pcitsm_pcap_in_open(&in, argv[optind], why, sizeof(why)) != PCITSM_OK)
		return cli_failf("tap %s: %s", argv[optind], why);
	if (in.linktype != PCITSM_PCAP_LINKTYPE_TLP) {
		pcitsm_pcap_in_close(&in);
		return cli_failf("tap %s: link type %u is not a link capture (%u, docs/tap.md)",
				 argv[optind], in.linktype, PCITSM_PCAP_LINKTYPE_TLP);
	}
	memset(&m, 0, sizeof(m));
	if (json)
		arr = json_object_new_array();
	ok = tap_read(&in, argv[optind], json, arr, &m);
	pcitsm_pcap_in_close(&in);
	if (ok && json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "tlps", arr);
		json_object_object_add(o, "summary", sum_json(&m));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (ok) {
		sum_text(&m);
	} else {
		json_object_put(arr);
	}
	return ok && !m.bad ? 0 : CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_tap = {
	.name = "tap",
	.args = "FILE [--json]",
	.summary = "decode a link capture (pcitsmd --tap): every TLP, IDE prefix, header, MAC",
	.run = tap_main,
};
