/* SPDX-License-Identifier: MIT */
/* Opening a TARGET (target.h): a sysfs config file's DOE mailbox, or an spdm-emu TCP peer. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform.h"
#include "target.h"

#define TCP_PREFIX "tcp:"

pcitsm_err cli_split_hostport(const char *s, char *host, size_t host_len, char *port,
			      size_t port_len)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;

	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return PCITSM_E_INVAL;
	hl = (size_t)(colon - s);
	/* [v6-address]:port */
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (!hl || hl >= host_len || strlen(colon + 1) >= port_len)
		return PCITSM_E_INVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return PCITSM_OK;
}

static pcitsm_err open_tcp(const char *spec, const struct cli_target_opts *o,
			   const struct pcitsm_env *env, struct cli_target *t, const char **why)
{
	struct pcitsm_tcp_opts topts = { .timeout_ns = o->timeout_ns,
					 .shutdown_on_close = o->tcp_shutdown };
	char host[128], port[8];
	pcitsm_err e;

	*why = "parse tcp:HOST:PORT";
	PCITSM_TRY(cli_split_hostport(spec, host, sizeof(host), port, sizeof(port)));
	*why = "connect (spdm-emu TEST handshake)";
	e = pcitsm_xport_tcp_connect(&t->tcp, host, port, &topts, env);
	if (e == PCITSM_E_CLOSED && t->tcp.connect_errno) {
		/* No address took the connection: say why, with the address. */
		snprintf(t->why, sizeof(t->why), strchr(host, ':') ? "connect to [%s]:%s: %s"
								  : "connect to %s:%s: %s",
			 host, port,
			 t->tcp.connect_errno == ECONNREFUSED ? "connection refused"
							      : strerror(t->tcp.connect_errno));
		*why = t->why;
	}
	if (e != PCITSM_OK)
		return e;
	t->kind = CLI_TARGET_TCP;
	t->x = &t->tcp.x;
	snprintf(t->name, sizeof(t->name), "%s", t->tcp.x.name);
	return PCITSM_OK;
}

const char *cli_sysfs_root(const char *opt)
{
	const char *env = getenv("PCITSM_SYSFS");

	if (opt)
		return opt;
	return env && *env ? env : CLI_SYSFS_DEFAULT;
}

static pcitsm_err open_sysfs(const struct pcitsm_bdf *bdf, const struct cli_target_opts *o,
			     const struct pcitsm_env *env, struct cli_target *t, const char **why)
{
	const char *root = cli_sysfs_root(o->sysfs_root);
	char canon[13];
	pcitsm_err e;

	pcitsm_bdf_format(bdf, canon);
	/* Mailbox writes need the config file opened for writing (root on a real /sys). */
	*why = "open the config file";
	PCITSM_TRY(pcitsm_cfg_file_open(&t->cfg, root, bdf, true));
	t->cfg_open = true;
	*why = "find a DOE mailbox with CMA-SPDM";
	e = pcitsm_doe_host_find(&t->host, &t->cfg.cfg, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
				 env);
	if (e != PCITSM_OK)
		return e;
	t->kind = CLI_TARGET_SYSFS;
	t->x = &t->host.x;
	snprintf(t->name, sizeof(t->name), "doe:%s", canon);
	t->host.x.name = t->name;
	return PCITSM_OK;
}

/* An endpoint of the embedded platform, through its DOE mailbox in its emulated config space: the
 * same host driver as a real device's config file. */
static pcitsm_err open_emu(const struct pcitsm_bdf *bdf, const struct pcitsm_env *env,
			   struct cli_target *t, const char **why)
{
	struct pcitsm_emu_func *f;
	char canon[13];

	pcitsm_bdf_format(bdf, canon);
	*why = "start the emulated platform";
	PCITSM_TRY(cli_platform_open(&t->plat, NULL, env));
	*why = "find the endpoint on the emulated platform";
	f = cli_platform_endpoint(t->plat, bdf);
	if (!f)
		return PCITSM_E_NOTFOUND;
	*why = "find a DOE mailbox with CMA-SPDM";
	PCITSM_TRY(pcitsm_doe_host_find(&t->host, &f->cfg.cfg, PCITSM_DOE_VID_PCISIG,
					PCITSM_DOE_TYPE_CMA, env));
	t->kind = CLI_TARGET_EMU;
	t->x = &t->host.x;
	snprintf(t->name, sizeof(t->name), "emu-doe:%s", canon);
	t->host.x.name = t->name;
	return PCITSM_OK;
}

pcitsm_err cli_target_open(const char *target, const struct cli_target_opts *o,
			   const struct pcitsm_env *env, struct cli_target *t, const char **why)
{
	pcitsm_err e;

	memset(t, 0, sizeof(*t));
	t->tcp.fd = -1;
	if (o->platform && strcmp(o->platform, "emu") != 0) {
		*why = "--platform (emu is the only platform)";
		return PCITSM_E_INVAL;
	}
	if (!o->platform && strncmp(target, TCP_PREFIX, strlen(TCP_PREFIX)) == 0) {
		e = open_tcp(target + strlen(TCP_PREFIX), o, env, t, why);
	} else {
		/* Any other TARGET is a PCI address: parsed here, once, and passed on typed. */
		struct pcitsm_bdf bdf;

		e = pcitsm_bdf_parse_why(target, &bdf, t->why, sizeof(t->why));
		*why = t->why;
		if (!e)
			e = o->platform ? open_emu(&bdf, env, t, why) : open_sysfs(&bdf, o, env, t, why);
	}
	if (e == PCITSM_OK && o->pcap_path) {
		*why = "open the pcap file";
		e = pcitsm_pcap_open(&t->pcap, o->pcap_path);
		if (e == PCITSM_OK) {
			t->pcap_open = true;
			t->x->tap = &t->pcap.tap;
		}
	}
	if (e != PCITSM_OK) {
		if (t->x)
			pcitsm_xport_close(t->x);
		if (t->cfg_open)
			pcitsm_cfg_file_close(&t->cfg);
		cli_platform_close(t->plat);
		/* Nothing stays open; *why may point at t->why, which survives. */
		memset(t, 0, offsetof(struct cli_target, why));
		t->tcp.fd = -1;
	}
	return e;
}

pcitsm_err cli_target_close(struct cli_target *t)
{
	pcitsm_err e = PCITSM_OK;

	if (t->x)
		pcitsm_xport_close(t->x);
	t->x = NULL;
	if (t->cfg_open)
		pcitsm_cfg_file_close(&t->cfg);
	t->cfg_open = false;
	if (t->pcap_open)
		e = pcitsm_pcap_close(&t->pcap);
	t->pcap_open = false;
	cli_platform_close(t->plat);
	t->plat = NULL;
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * SPDM authentication of a target.
 */
const char *cli_meas_type_name(uint8_t type)
{
	/* DMTFSpecMeasurementValueType bits 6:0 (DSP0274 1.3 GET_MEASUREMENTS). */
	static const char *const names[] = {
		"immutable ROM",
		"mutable firmware",
		"hardware configuration",
		"firmware configuration",
		"measurement manifest",
		"device mode",
		"version",
		"security version number",
		"hash-extended",
		"informational",
		"structured manifest",
	};
	type &= 0x7f;
	return type < PCITSM_ARRAY_SIZE(names) ? names[type] : "reserved";
}

const char *cli_spdm_version_str(uint8_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u", (unsigned)v >> 4, v & 0xfu);
	return buf;
}

static void print_failure(const struct cli_spdm_run *r, const char *what, const char *why)
{
	fprintf(stderr, "pcitsm: %s: %s: %s (%s)%s%s\n", r->target, what,
		pcitsm_err_str(r->res.err), pcitsm_err_name(r->res.err), why && *why ? ": " : "",
		why ? why : "");
}

pcitsm_err cli_spdm_authenticate(struct cli_spdm_run *r, const struct pcitsm_env *env)
{
	const char *why = NULL;
	char step[96];
	pcitsm_err e;

	memset(&r->res, 0, sizeof(r->res));
	e = cli_target_open(r->target, &r->topts, env, &r->t, &why);
	if (e != PCITSM_OK) {
		r->res.err = e;
		print_failure(r, why, NULL);
		return e;
	}
	r->target_open = true;
	if (r->trust_path) {
		e = pcitsm_trust_load(&r->trust, r->trust_path);
		if (e != PCITSM_OK) {
			r->res.err = e;
			print_failure(r, "load trust anchors", r->trust_path);
			return e;
		}
		r->auth.cfg.trust = r->trust;
	} else if (r->t.plat) {
		/* The emulated platform's TSM trusts the roots of its own devices. */
		r->auth.cfg.trust = r->t.plat->m.trust;
	} else {
		/* No anchor: the chain is reported as not validated; signatures still verified. */
		r->auth.allow_untrusted = true;
	}
	if (r->session) {
		e = pcitsm_spdm_drv_req_authenticate(&r->req, r->t.x, &r->auth, &r->res);
		r->req_ready = true;
	} else {
		e = pcitsm_spdm_drv_authenticate(r->t.x, &r->auth, &r->res);
	}
	if (e != PCITSM_OK) {
		if (r->res.err == PCITSM_OK)
			r->res.err = e;
		snprintf(step, sizeof(step), "SPDM %s failed",
			 pcitsm_spdm_step_name(r->res.failed_step));
		if (r->res.err == PCITSM_E_VERSION && r->res.nr_peer_versions)
			/* One line with the cause: what the device offers, what we accept. */
			fprintf(stderr, "pcitsm: %s: %s: %s (--version)\n", r->target, step,
				r->res.why);
		else
			print_failure(r, step, r->res.why);
		if (r->res.err == PCITSM_E_PEER_ERROR)
			fprintf(stderr,
				"pcitsm: %s: the device answered ERROR %s (0x%02x, data 0x%02x)\n",
				r->target, pcitsm_spdm_error_name(r->res.peer_error),
				r->res.peer_error, r->res.peer_error_data);
	}
	return e;
}

pcitsm_err cli_spdm_done(struct cli_spdm_run *r)
{
	pcitsm_err e = PCITSM_OK;

	if (r->target_open) {
		e = cli_target_close(&r->t);
		if (e != PCITSM_OK)
			fprintf(stderr, "pcitsm: %s: %s: %s (%s)\n", r->topts.pcap_path, "capture",
				pcitsm_err_str(e), pcitsm_err_name(e));
	}
	r->target_open = false;
	if (r->req_ready)
		pcitsm_spdm_req_free(&r->req);
	r->req_ready = false;
	pcitsm_spdm_auth_result_free(&r->res);
	if (r->trust)
		pcitsm_trust_free(r->trust);
	r->trust = NULL;
	return e;
}

static json_object *hex_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_object *o;

	if (!s)
		return NULL;
	pcitsm_hex(s, p, n);
	o = json_object_new_string(s);
	free(s);
	return o;
}

static json_object *caps_json(uint32_t caps)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[] = {
		{ PCITSM_SPDM_CAP_CACHE, "CACHE" },
		{ PCITSM_SPDM_CAP_CERT, "CERT" },
		{ PCITSM_SPDM_CAP_CHAL, "CHAL" },
		{ PCITSM_SPDM_CAP_MEAS_NOSIG, "MEAS_NOSIG" },
		{ PCITSM_SPDM_CAP_MEAS_SIG, "MEAS_SIG" },
		{ PCITSM_SPDM_CAP_MEAS_FRESH, "MEAS_FRESH" },
		{ PCITSM_SPDM_CAP_ENCRYPT, "ENCRYPT" },
		{ PCITSM_SPDM_CAP_MAC, "MAC" },
		{ PCITSM_SPDM_CAP_MUT_AUTH, "MUT_AUTH" },
		{ PCITSM_SPDM_CAP_KEY_EX, "KEY_EX" },
		{ PCITSM_SPDM_CAP_ENCAP, "ENCAP" },
		{ PCITSM_SPDM_CAP_HBEAT, "HBEAT" },
		{ PCITSM_SPDM_CAP_KEY_UPD, "KEY_UPD" },
		{ PCITSM_SPDM_CAP_CHUNK, "CHUNK" },
		{ PCITSM_SPDM_CAP_HANDSHAKE_IN_CLEAR, "HANDSHAKE_IN_THE_CLEAR" },
		{ PCITSM_SPDM_CAP_PUB_KEY_ID, "PUB_KEY_ID" },
	};
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(flags); i++) {
		/* MEAS_CAP is a 2-bit field: compare it whole. */
		bool meas = flags[i].bit & PCITSM_SPDM_CAP_MEAS_MASK;
		uint32_t v = caps & (meas ? PCITSM_SPDM_CAP_MEAS_MASK : flags[i].bit);
		if (v == flags[i].bit)
			json_object_array_add(a, json_object_new_string(flags[i].name));
	}
	return a;
}

static json_object *algs_json(const struct pcitsm_spdm_auth_result *res)
{
	json_object *o = json_object_new_object();

	json_object_object_add(
		o, "base_asym",
		json_object_new_string(pcitsm_sig_name(pcitsm_spdm_sig_alg(res->base_asym))));
	json_object_object_add(
		o, "base_hash",
		json_object_new_string(pcitsm_hash_name(pcitsm_spdm_hash_alg(res->base_hash))));
	json_object_object_add(
		o, "measurement_hash",
		json_object_new_string(
			res->meas_hash == PCITSM_SPDM_MEAS_HASH_RAW
				? "raw"
				: pcitsm_hash_name(pcitsm_spdm_meas_hash_alg(res->meas_hash))));
	json_object_object_add(o, "measurement_spec",
			       json_object_new_string(res->meas_spec & PCITSM_SPDM_MEAS_SPEC_DMTF
							      ? "DMTF"
							      : "none"));
	return o;
}

#define CLI_MAX_CERTS 16
static json_object *chain_json(const struct cli_spdm_run *r)
{
	const struct pcitsm_spdm_auth_result *res = &r->res;
	json_object *o = json_object_new_object(), *certs = json_object_new_array();
	size_t off[CLI_MAX_CERTS], len[CLI_MAX_CERTS], n = 0;
	const uint8_t *der = res->chain + res->certs_off;
	size_t der_len = res->chain_len - res->certs_off;
	char subject[256];

	json_object_object_add(o, "slot", json_object_new_int(res->slot));
	json_object_object_add(o, "length", json_object_new_int64((int64_t)res->chain_len));
	if (pcitsm_x509_chain_split(der, der_len, off, len, CLI_MAX_CERTS, &n) != PCITSM_OK)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		if (pcitsm_x509_subject(der + off[i], len[i], subject, sizeof(subject)) !=
		    PCITSM_OK)
			snprintf(subject, sizeof(subject), "(unreadable)");
		json_object_object_add(c, "subject", json_object_new_string(subject));
		json_object_object_add(c, "der_length", json_object_new_int64((int64_t)len[i]));
		json_object_array_add(certs, c);
	}
	json_object_object_add(o, "certificates", certs);
	json_object_object_add(
		o, "validation",
		json_object_new_string(!r->auth.cfg.trust ? "not validated (no trust anchor given)"
				       : res->chain_trusted ? "trusted"
							    : "NOT trusted"));
	json_object_object_add(o, "trusted", json_object_new_boolean(res->chain_trusted));
	if (res->chain_why[0])
		json_object_object_add(o, "reason", json_object_new_string(res->chain_why));
	return o;
}

static json_object *meas_json(const struct pcitsm_spdm_auth_result *res)
{
	json_object *o = json_object_new_object(), *blocks = json_object_new_array();

	json_object_object_add(o, "signed", json_object_new_boolean(res->meas_signed));
	for (unsigned i = 0; i < res->nr_blocks && i < PCITSM_SPDM_MAX_MEAS_BLOCKS; i++) {
		const struct pcitsm_spdm_meas_block *b = &res->blocks[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "index", json_object_new_int(b->index));
		json_object_object_add(j, "type",
				       json_object_new_string(cli_meas_type_name(b->type)));
		json_object_object_add(j, "representation",
				       json_object_new_string(b->type & 0x80 ? "raw" : "digest"));
		json_object_object_add(j, "value", hex_json(b->value, b->value_len));
		json_object_array_add(blocks, j);
	}
	json_object_object_add(o, "blocks", blocks);
	return o;
}

json_object *cli_spdm_result_json(const struct cli_spdm_run *r)
{
	const struct pcitsm_spdm_auth_result *res = &r->res;
	json_object *o = json_object_new_object();
	char ver[8];

	json_object_object_add(o, "target", json_object_new_string(r->target));
	json_object_object_add(o, "authenticated", json_object_new_boolean(res->err == PCITSM_OK));
	if (res->version) {
		json_object_object_add(o, "spdm_version",
				       json_object_new_string(cli_spdm_version_str(
					       res->version, ver, sizeof(ver))));
		json_object_object_add(o, "capabilities", caps_json(res->rsp_caps));
		json_object_object_add(o, "algorithms", algs_json(res));
	}
	if (res->chain && res->chain_len >= res->certs_off)
		json_object_object_add(o, "certificate_chain", chain_json(r));
	if (res->challenged) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "verified", json_object_new_boolean(true));
		json_object_object_add(c, "m1_hash", hex_json(res->m1_hash, res->hash_len));
		json_object_object_add(o, "challenge", c);
	}
	if (res->meas)
		json_object_object_add(o, "measurements", meas_json(res));
	if (res->err != PCITSM_OK) {
		json_object *e = json_object_new_object();
		json_object_object_add(
			e, "step", json_object_new_string(pcitsm_spdm_step_name(res->failed_step)));
		json_object_object_add(e, "code",
				       json_object_new_string(pcitsm_err_name(res->err)));
		json_object_object_add(
			e, "message",
			json_object_new_string(res->why[0] ? res->why : pcitsm_err_str(res->err)));
		if (res->err == PCITSM_E_PEER_ERROR)
			json_object_object_add(
				e, "peer_error",
				json_object_new_string(pcitsm_spdm_error_name(res->peer_error)));
		if (res->err == PCITSM_E_VERSION && res->nr_peer_versions) {
			json_object *a = json_object_new_array();

			for (unsigned i = 0; i < res->nr_peer_versions; i++)
				json_object_array_add(a, json_object_new_string(cli_spdm_version_str(
								 res->peer_versions[i], ver,
								 sizeof(ver))));
			json_object_object_add(e, "device_versions", a);
			a = json_object_new_array();
			for (unsigned v = res->min_version; v && v <= res->max_version; v++)
				json_object_array_add(a, json_object_new_string(cli_spdm_version_str(
								 (uint8_t)v, ver, sizeof(ver))));
			json_object_object_add(e, "accepted_versions", a);
		}
		json_object_object_add(o, "error", e);
	}
	return o;
}

bool cli_nonce_parse(const char *hex, uint8_t out[32])
{
	return pcitsm_hex_decode(hex, strlen(hex), out, PCITSM_SPDM_NONCE_LEN) == PCITSM_OK;
}

int cli_spdm_parse(int argc, char **argv, struct cli_spdm_run *r, bool *json, const char **out_dir)
{
	static const struct option longopts[] = {
		CLI_OPT_ARG("trust", 't'), CLI_OPT_FLAG("json", 'j'), CLI_OPT_ARG("pcap", 'p'),
		CLI_OPT_ARG("sysfs", 's'), CLI_OPT_ARG("platform", 'P'), CLI_OPT_ARG("slot", 'S'),
		CLI_OPT_FLAG("no-challenge", 'n'), CLI_OPT_ARG("timeout", 'T'),
		CLI_OPT_FLAG("shutdown", 'D'), CLI_OPT_ARG("out", 'o'),
		CLI_OPT_FLAG("session", 'E'), CLI_OPT_ARG("version", 'v'),
		CLI_OPT_ARG("bundle", 'B'), CLI_OPT_ARG("eat", 'A'), CLI_OPT_ARG("nonce", 'N'),
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	uint8_t ver;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:jp:s:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			r->trust_path = optarg;
			break;
		case 'j':
			if (!json)
				return -1;
			*json = true;
			break;
		case 'o':
			if (!out_dir)
				return -1;
			*out_dir = optarg;
			break;
		case 'p':
			r->topts.pcap_path = optarg;
			break;
		case 'B':
		case 'A':
			if (!out_dir)
				return -1;
			*(c == 'B' ? &r->bundle_path : &r->eat_path) = optarg;
			break;
		case 'N':
			if (!out_dir || !cli_nonce_parse(optarg, r->nonce)) {
				fprintf(stderr, "pcitsm: --nonce: expected %d hex digits\n",
					2 * PCITSM_SPDM_NONCE_LEN);
				return -1;
			}
			r->has_nonce = true;
			r->auth.cfg.meas_nonce = r->nonce;
			break;
		case 's':
			r->topts.sysfs_root = optarg;
			break;
		case 'P':
			r->topts.platform = optarg;
			break;
		case 'n':
			r->auth.skip_challenge = true;
			break;
		case 'D':
			r->topts.tcp_shutdown = true;
			break;
		case 'E':
			r->session = true;
			break;
		case 'v':
			/* --version V: speak exactly SPDM V (docs/spdm.md "Version support"). */
			if (pcitsm_spdm_version_parse(optarg, &ver) != PCITSM_OK) {
				fprintf(stderr, "pcitsm: --version %s: expected 1.0, 1.1, 1.2 or 1.3\n",
					optarg);
				return -1;
			}
			pcitsm_spdm_req_cfg_pin_version(&r->auth.cfg, ver);
			break;
		case 'S':
			v = strtol(optarg, &end, 0);
			if (*end || v < 0 || v >= PCITSM_SPDM_MAX_SLOTS)
				return -1;
			r->auth.slot = (uint8_t)v;
			break;
		case 'T':
			v = strtol(optarg, &end, 0);
			if (*end || v <= 0 || v > 3600)
				return -1;
			r->topts.timeout_ns = (uint64_t)v * 1000000000ull;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	r->target = argv[optind];
	return 0;
}
