/* SPDX-License-Identifier: MIT */
/*
 * pcitsm evidence TARGET --out DIR: authenticate like `auth` and keep the evidence as files:
 *   chain.spdm         the slot's certificate chain in SPDM format (header, root hash, DER certs)
 *   chain.der          the DER certificates, root first, concatenated
 *   chain.pem          the same certificates as PEM
 *   measurements.bin   the raw MeasurementRecord of the MEASUREMENTS response
 *   measurements.json  its blocks (index, type, representation, value)
 *   vca.bin            transcript A: GET_VERSION .. ALGORITHMS, as hashed into M1/L1
 *   evidence.json      everything `auth --json` reports
 * and, for a locked TDI on a sysfs root with the mirror's project directory (docs/pcitsmd.md), or
 * on a real host whose kernel exports the evidence over generic netlink (docs/genl.md):
 *   report.bin         the TDISP interface report (PCIe 6.x §11, DEVICE_INTERFACE_REPORT)
 *   report_digest      its SHA-384, hex, as evidence/report_digest names it
 *   report.json        the report decoded and checked (what `pcitsm report --json` prints)
 * After a failure the files that could be filled are still written, and the exit status is 1.
 *
 * --bundle FILE and --eat FILE write the same evidence as one file a remote verifier checks
 * offline (`pcitsm verify`, docs/evidence.md): pcitsm's versioned binary bundle, and a CBOR token
 * in the shape of the EAT device-assignment profile. --nonce HEX makes the signed GET_MEASUREMENTS
 * carry the verifier's nonce. With either, --out DIR is optional. Of a device a TSM has connected,
 * everything is the TSM's: with a bundle, a token or --nonce, the TSM's signed exchange with that
 * nonce (or a random one, printed) over its own session, never SPDM from the host.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pcitsm/evidence.h"
#include "pcitsm/genl.h"
#include "target.h"
#include "tdi.h"

#define MAX_CERTS 16

struct out_dir {
	const char *dir;
	unsigned written;
	bool failed;
};

static FILE *out_open(struct out_dir *d, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", d->dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "pcitsm: %s: %s\n", path, strerror(errno));
		d->failed = true;
	}
	return f;
}

static void out_close(struct out_dir *d, FILE *f, const char *path)
{
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "pcitsm: %s: write failed\n", path);
		d->failed = true;
		return;
	}
	d->written++;
	printf("  %s\n", path);
}

static void out_bytes(struct out_dir *d, const char *name, const uint8_t *p, size_t n)
{
	char path[PATH_MAX];
	FILE *f = out_open(d, name, path, sizeof(path));

	if (!f)
		return;
	if (n && fwrite(p, 1, n, f) != n)
		d->failed = true;
	out_close(d, f, path);
}

static void out_json(struct out_dir *d, const char *name, json_object *j)
{
	char path[PATH_MAX];
	FILE *f = out_open(d, name, path, sizeof(path));

	if (f) {
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		out_close(d, f, path);
	}
}

/* Each DER certificate of the chain as PEM. */
static void out_pem(struct out_dir *d, const uint8_t *der, size_t len)
{
	size_t off[MAX_CERTS], clen[MAX_CERTS], n = 0;
	char path[PATH_MAX];
	FILE *f;

	if (pcitsm_x509_chain_split(der, len, off, clen, MAX_CERTS, &n) != PCITSM_OK) {
		fprintf(stderr, "pcitsm: chain.pem: the chain does not split into certificates\n");
		d->failed = true;
		return;
	}
	f = out_open(d, "chain.pem", path, sizeof(path));
	if (!f)
		return;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = der + off[i];
		X509 *x = d2i_X509(NULL, &p, (long)clen[i]);

		if (!x || !PEM_write_X509(f, x))
			d->failed = true;
		X509_free(x);
	}
	out_close(d, f, path);
}

static void write_evidence(struct out_dir *d, const struct cli_spdm_run *r)
{
	const struct pcitsm_spdm_auth_result *res = &r->res;
	json_object *j = cli_spdm_result_json(r), *m;

	if (res->vca_len)
		out_bytes(d, "vca.bin", res->vca, res->vca_len);
	if (res->chain && res->chain_len > res->certs_off) {
		out_bytes(d, "chain.spdm", res->chain, res->chain_len);
		out_bytes(d, "chain.der", res->chain + res->certs_off,
			  res->chain_len - res->certs_off);
		out_pem(d, res->chain + res->certs_off, res->chain_len - res->certs_off);
	}
	if (res->meas) {
		out_bytes(d, "measurements.bin", res->meas, res->meas_len);
		if (json_object_object_get_ex(j, "measurements", &m))
			out_json(d, "measurements.json", m);
	}
	out_json(d, "evidence.json", j);
	json_object_put(j);
}

/* Whether the kernel's evidence over netlink has an interface report for bdf: a host without the
 * pci-tsm family, or a TDI not locked, has none, and the bundle is then the SPDM part alone. */
static bool netlink_has_report(const struct pcitsm_bdf *bdf)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	const struct pcitsm_tsmnl_req req = { addr.s, PCITSM_TSMNL_TYPE_BIT(PCITSM_TSMNL_REPORT), 0,
					      NULL, 0 };
	struct pcitsm_tsmnl_evidence nl;
	char why[512];
	bool has;

	pcitsm_tsmnl_evidence_init(&nl, req.type_mask);
	has = pcitsm_genl_evidence_read(&req, &nl, why, sizeof(why)) == PCITSM_OK &&
	      nl.len[PCITSM_TSMNL_REPORT];
	if (!has)
		printf("  (no interface report: %s)\n", why[0] ? why : "the TDI is not locked");
	pcitsm_tsmnl_evidence_free(&nl);
	return has;
}

/* The interface report of a locked TDI beside the SPDM evidence, when the root keeps one (the
 * emulated platform's project directory) or, on a real host, the kernel exports one over netlink.
 * The files are the same either way. *keep receives it (for the bundle), NULL when there is
 * none. */
static void write_report(struct out_dir *d, const struct cli_spdm_run *r,
			 struct cli_tdi_ev **keep)
{
	struct cli_sysroot sr;
	struct pcitsm_bdf bdf;
	struct cli_tdi_ev *ev;
	char path[PATH_MAX], hex[2 * PCITSM_TDISP_DIGEST_LEN + 2];
	bool netlink = cli_tdi_real_host(r->topts.sysfs_root);

	memset(&sr, 0, sizeof(sr));
	snprintf(sr.root, sizeof(sr.root), "%s",
		 cli_sysfs_root(r->topts.sysfs_root));
	if (pcitsm_bdf_parse(r->target, &bdf) != PCITSM_OK)
		return;
	if (netlink ? !netlink_has_report(&bdf)
		    : !cli_proj_path(&sr, &bdf, "evidence/report", path, sizeof(path)) ||
			      access(path, F_OK) != 0)
		return;
	ev = calloc(1, sizeof(*ev));
	if (!ev || cli_tdi_read(&sr, &bdf, "evidence", false, netlink, ev)) {
		d->failed = true;
	} else if (d->dir) {
		json_object *j = cli_tdi_report_json(ev);

		out_bytes(d, "report.bin", ev->report, ev->report_len);
		for (size_t i = 0; i < PCITSM_TDISP_DIGEST_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", ev->digest[i]);
		strcat(hex, "\n");
		out_bytes(d, "report_digest", (const uint8_t *)hex, strlen(hex));
		out_json(d, "report.json", j);
		json_object_put(j);
	}
	if (ev && !d->failed) {
		*keep = ev;
		return;
	}
	if (ev)
		cli_tdi_free(ev);
	free(ev);
}

/* One encoding of the evidence into path. */
static void write_one(struct out_dir *d, const char *path, const struct pcitsm_evidence *ev,
		      pcitsm_err (*encode)(const struct pcitsm_evidence *, uint8_t **, size_t *))
{
	uint8_t *buf = NULL;
	size_t n = 0;
	FILE *f;
	bool ok;
	pcitsm_err e = encode(ev, &buf, &n);

	if (e) {
		fprintf(stderr, "pcitsm: %s: %s\n", path, pcitsm_err_str(e));
		d->failed = true;
		return;
	}
	f = fopen(path, "wb");
	ok = f && fwrite(buf, 1, n, f) == n;
	/* fclose once, whatever happened: it also reports a write the buffer held back */
	if (f && fclose(f))
		ok = false;
	if (!ok) {
		fprintf(stderr, "pcitsm: %s: %s\n", path, strerror(errno));
		d->failed = true;
	} else {
		d->written++;
		printf("  %s (%zu bytes)\n", path, n);
	}
	free(buf);
}

/* The bundle and the token asked for, then ev freed. */
static void write_encodings(struct out_dir *d, const struct cli_spdm_run *r,
			    struct pcitsm_evidence *ev)
{
	if (r->bundle_path)
		write_one(d, r->bundle_path, ev, pcitsm_evidence_bundle_encode);
	if (r->eat_path)
		write_one(d, r->eat_path, ev, pcitsm_evidence_eat_encode);
	pcitsm_evidence_free(ev);
}

/* The bundle and the EAT token (docs/evidence.md), from the authentication and the report. */
static void write_bundles(struct out_dir *d, const struct cli_spdm_run *r,
			  const struct cli_tdi_ev *rep)
{
	struct pcitsm_evidence ev;
	pcitsm_err e = pcitsm_evidence_from_auth(&ev, &r->res, rep ? rep->report : NULL,
						 rep ? rep->report_len : 0,
						 rep ? rep->digest : NULL, r->target);

	if (e) {
		fprintf(stderr, "pcitsm: evidence %s: no signed measurements to bundle (%s)\n",
			r->target, pcitsm_err_str(e));
		d->failed = true;
		return;
	}
	write_encodings(d, r, &ev);
}

/* The TSM's published objects of a connected device, in the order of the proposal's types. */
enum { TSM_CHAIN, TSM_VCA, TSM_MEAS, TSM_NR };
static const struct { const char *file; unsigned type; const char *out; } tsm_objs[TSM_NR] = {
	[TSM_CHAIN] = { "certificate_chain", PCITSM_TSMNL_CERT0, "chain.spdm" },
	[TSM_VCA] = { "vca", PCITSM_TSMNL_VCA, "vca.bin" },
	[TSM_MEAS] = { "measurements", PCITSM_TSMNL_MEASUREMENTS, "measurements.bin" },
};

struct tsm_ev {
	uint8_t *obj[TSM_NR];
	size_t len[TSM_NR];
	bool fresh; /* refreshed with nonce */
	uint8_t nonce[PCITSM_SPDM_NONCE_LEN];
};

static void tsm_ev_free(struct tsm_ev *t)
{
	for (unsigned i = 0; i < TSM_NR; i++)
		free(t->obj[i]);
	memset(t, 0, sizeof(*t));
}

/* The objects from the mirror's project directory (docs/pcitsmd.md): with a nonce, written to
 * evidence/nonce first (the TSM signs measurements with it over its session), and read back from
 * it after the measurements, so that a refresh by another caller in between is seen. */
static int tsm_ev_mirror(const struct cli_sysroot *sr, const struct pcitsm_bdf *bdf,
			 const char *target, struct tsm_ev *t)
{
	char path[PATH_MAX], hex[2 * PCITSM_SPDM_NONCE_LEN + 2];
	uint8_t back[PCITSM_SPDM_NONCE_LEN];
	int err;

	if (t->fresh) {
		pcitsm_hex(hex, t->nonce, sizeof(t->nonce));
		if (!cli_proj_path(sr, bdf, "evidence/nonce", path, sizeof(path)))
			return -ENAMETOOLONG;
		err = cli_attr_write(path, hex);
		if (err) {
			fprintf(stderr, "pcitsm: evidence %s: the TSM's signed measurements with the "
				"nonce: %s\n", target, strerror(-err));
			return err;
		}
	}
	for (unsigned i = 0; i < TSM_NR; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "evidence/%s", tsm_objs[i].file);
		err = !cli_proj_path(sr, bdf, rel, path, sizeof(path))
			      ? -ENAMETOOLONG
			      : cli_read_alloc(path, 1u << 20, &t->obj[i], &t->len[i]);
		if (err) {
			fprintf(stderr, "pcitsm: evidence %s: the TSM's %s: %s\n", target,
				tsm_objs[i].file, strerror(-err));
			return err;
		}
	}
	if (!t->fresh)
		return 0;
	if (!cli_proj_path(sr, bdf, "evidence/nonce", path, sizeof(path)) ||
	    cli_attr_read(path, hex, sizeof(hex)) != 0 ||
	    pcitsm_hex_decode(hex, strlen(hex), back, sizeof(back)) != PCITSM_OK ||
	    pcitsm_ct_memneq(back, t->nonce, sizeof(back))) {
		fprintf(stderr, "pcitsm: evidence %s: the TSM's measurements carry another nonce "
			"(another caller refreshed them): try again\n", target);
		return -EAGAIN;
	}
	return 0;
}

/* The objects over the kernel's evidence-read (docs/genl.md), the nonce as its `nonce`
 * attribute: the TSM refreshes the measurements with it before the dump. */
static int tsm_ev_netlink(const struct pcitsm_bdf *bdf, const char *target, struct tsm_ev *t)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	struct pcitsm_tsmnl_req req = { addr.s, 0, 0, t->fresh ? t->nonce : NULL,
					t->fresh ? sizeof(t->nonce) : 0 };
	struct pcitsm_tsmnl_evidence nl;
	char why[512] = "";

	for (unsigned i = 0; i < TSM_NR; i++)
		req.type_mask |= PCITSM_TSMNL_TYPE_BIT(tsm_objs[i].type);
	pcitsm_tsmnl_evidence_init(&nl, req.type_mask);
	if (pcitsm_genl_evidence_read(&req, &nl, why, sizeof(why)) != PCITSM_OK) {
		fprintf(stderr, "pcitsm: evidence %s: %s\n", target, why);
		pcitsm_tsmnl_evidence_free(&nl);
		return -EIO;
	}
	for (unsigned i = 0; i < TSM_NR; i++) { /* taken over from the reassembly */
		t->obj[i] = nl.obj[tsm_objs[i].type];
		t->len[i] = nl.len[tsm_objs[i].type];
		nl.obj[tsm_objs[i].type] = NULL;
	}
	pcitsm_tsmnl_evidence_free(&nl);
	return 0;
}

/* The files of --out DIR from the TSM's objects. */
static void tsm_ev_files(struct out_dir *d, const struct tsm_ev *t)
{
	for (unsigned i = 0; i < TSM_NR; i++) {
		const uint8_t *p = t->obj[i];
		size_t n = t->len[i];

		out_bytes(d, tsm_objs[i].out, p, n);
		if (i != TSM_CHAIN)
			continue;
		/* the chain: SPDM header (4 bytes), the root hash (of the negotiated algorithm,
		 * which the file does not name: the size at which the rest splits into
		 * certificates), then the DER certificates (DSP0274 certificate chain format) */
		for (int h = PCITSM_HASH_SHA256; h <= PCITSM_HASH_SHA512; h++) {
			size_t off = 4 + pcitsm_hash_size((enum pcitsm_hash_alg)h);
			size_t co[MAX_CERTS], cl[MAX_CERTS], nc;

			if (n > off && pcitsm_x509_chain_split(p + off, n - off, co, cl, MAX_CERTS,
							       &nc) == PCITSM_OK) {
				out_bytes(d, "chain.der", p + off, n - off);
				out_pem(d, p + off, n - off);
				break;
			}
		}
	}
}

/* The bundle and token from the TSM's signed exchange with the caller's nonce. */
static void tsm_ev_bundles(struct out_dir *d, const struct cli_spdm_run *r, const struct tsm_ev *t,
			   const struct cli_tdi_ev *rep)
{
	const struct pcitsm_evidence_tsm parts = {
		t->obj[TSM_CHAIN], t->len[TSM_CHAIN], t->obj[TSM_VCA], t->len[TSM_VCA],
		t->obj[TSM_MEAS], t->len[TSM_MEAS], t->nonce,
	};
	struct pcitsm_evidence ev;
	char why[256] = "";
	pcitsm_err e = pcitsm_evidence_from_tsm(&ev, &parts, rep ? rep->report : NULL,
						rep ? rep->report_len : 0, rep ? rep->digest : NULL,
						r->target, why, sizeof(why));

	if (e) {
		fprintf(stderr, "pcitsm: evidence %s: the TSM's evidence does not make a bundle: %s\n",
			r->target, why[0] ? why : pcitsm_err_str(e));
		d->failed = true;
		return;
	}
	write_encodings(d, r, &ev);
}

/* A device a TSM has connected (its tsm/connect names the TSM): the TSM owns its SPDM. Running
 * SPDM from the host restarts the device's connection (GET_VERSION), which ends the TSM's session:
 * the stream goes Insecure and a locked TDI moves to ERROR (PCIe 6.x §11). The evidence is then
 * the TSM's, as it publishes it (the mirror's project directory; on a real host the kernel's
 * evidence-read over netlink, docs/genl.md): the chain of slot 0, the VCA transcript and the
 * signed MEASUREMENTS response. A bundle or token needs the verifier's nonce in the signed
 * exchange: the TSM is handed it (--nonce, else a random one, printed) and asks the device over
 * its own session (docs/evidence.md "A connected device: the TSM's signed exchange"). Returns -1
 * when the device is not connected (authenticate from the host), 0 when everything was written,
 * 1 on failure. */
static int write_tsm_evidence(struct out_dir *d, const struct cli_spdm_run *r,
			      const struct cli_tdi_ev *rep)
{
	struct cli_sysroot sr;
	struct pcitsm_bdf bdf;
	struct tsm_ev t;
	char path[PATH_MAX], tsm[64] = "", hex[2 * PCITSM_SPDM_NONCE_LEN + 1];
	bool netlink = cli_tdi_real_host(r->topts.sysfs_root);
	int err;

	memset(&sr, 0, sizeof(sr));
	memset(&t, 0, sizeof(t));
	snprintf(sr.root, sizeof(sr.root), "%s",
		 cli_sysfs_root(r->topts.sysfs_root));
	if (pcitsm_bdf_parse(r->target, &bdf) != PCITSM_OK ||
	    !cli_dev_path(&sr, &bdf, "tsm/connect", path, sizeof(path)) ||
	    cli_attr_read(path, tsm, sizeof(tsm)) != 0 || !tsm[0])
		return -1;
	printf("  (connected to %s: the TSM's evidence, not a host SPDM run, which would end the "
	       "TSM's session)\n", tsm);
	t.fresh = r->bundle_path || r->eat_path || r->has_nonce;
	if (t.fresh) {
		if (r->has_nonce) {
			memcpy(t.nonce, r->nonce, sizeof(t.nonce));
		} else if (pcitsm_random(pcitsm_env_default(), t.nonce, sizeof(t.nonce))) {
			fprintf(stderr, "pcitsm: evidence %s: no random nonce\n", r->target);
			return 1;
		}
		pcitsm_hex(hex, t.nonce, sizeof(t.nonce));
		printf("  nonce %s%s\n", hex,
		       r->has_nonce ? "" : " (random: give it to pcitsm verify --nonce)");
	}
	err = netlink ? tsm_ev_netlink(&bdf, r->target, &t)
		      : tsm_ev_mirror(&sr, &bdf, r->target, &t);
	for (unsigned i = 0; !err && i < TSM_NR; i++) {
		if (!t.obj[i] || !t.len[i]) {
			fprintf(stderr, "pcitsm: evidence %s: the TSM's %s: not published\n",
				r->target, tsm_objs[i].file);
			err = -ENODATA;
		}
	}
	if (!err && d->dir)
		tsm_ev_files(d, &t);
	if (!err && t.fresh)
		tsm_ev_bundles(d, r, &t, rep);
	tsm_ev_free(&t);
	return err || d->failed ? 1 : 0;
}

static int evidence_main(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct cli_tdi_ev *rep = NULL;
	struct out_dir d = { 0 };
	struct cli_spdm_run r;
	const char *dir = NULL;
	pcitsm_err e;

	memset(&r, 0, sizeof(r));
	pcitsm_spdm_auth_opts_default(&r.auth, env);
	if (cli_spdm_parse(argc, argv, &r, NULL, &dir) < 0 ||
	    (!dir && !r.bundle_path && !r.eat_path))
		return cli_usage("evidence");
	d.dir = dir;
	if (d.dir && mkdir(d.dir, 0755) < 0 && errno != EEXIST)
		return cli_failf("%s: %s", d.dir, strerror(errno));
	/* The report first: authenticating from the host restarts the device's SPDM connection
	 * (GET_VERSION), which ends the TSM's session and moves a locked TDI to ERROR (PCIe 6.x
	 * §11), after which the device no longer answers for the report. */
	printf("evidence from %s:\n", r.target);
	write_report(&d, &r, &rep);
	/* From the TSM when it holds the device: files, and a bundle from its signed exchange
	 * with the verifier's nonce. */
	{
		int t = write_tsm_evidence(&d, &r, rep);

		if (t >= 0) {
			if (rep)
				cli_tdi_free(rep);
			free(rep);
			return t || d.failed ? CLI_EXIT_FAIL : 0;
		}
	}
	e = cli_spdm_authenticate(&r, env);
	if (e != PCITSM_OK)
		printf("  (authentication FAILED)\n");
	if (d.dir)
		write_evidence(&d, &r);
	if (e == PCITSM_OK && (r.bundle_path || r.eat_path))
		write_bundles(&d, &r, rep);
	if (rep)
		cli_tdi_free(rep);
	free(rep);
	if (cli_spdm_done(&r) != PCITSM_OK)
		d.failed = true;
	if (e != PCITSM_OK || d.failed)
		return CLI_EXIT_FAIL;
	return 0;
}

const struct cli_cmd cli_cmd_evidence = {
	.name = "evidence",
	.args = "TARGET [--out DIR] [--bundle FILE] [--eat FILE] [--nonce HEX] [--trust FILE] "
		"[--pcap FILE] [--sysfs DIR] [--slot N] [--timeout SEC] [--shutdown]",
	.summary = "authenticate with SPDM and save the chain, measurements, VCA transcript and a "
		   "locked TDI's interface report, as files or as one bundle / EAT token",
	.run = evidence_main,
};
