/* SPDX-License-Identifier: MIT */
/*
 * pcitsm bench ide: IDE encrypt + verify-decrypt throughput on one core, a root port sending
 * Memory Writes to an endpoint over a Secure stream (prefix, header as AAD, payload encrypted,
 * 96-bit MAC, IV counter, PR_Sent counters with IDE Sync every 245), for payloads of 64, 256, 1024
 * and 4096 bytes, one TLP per GCM invocation and aggregated (as many TLPs per unit as PCIe 6.x
 * §6.33 aggregation allows: at most 8 and at most 256 DW of payload), and in bursts (BURST TLPs
 * per pcitsm_ide_tx_burst / pcitsm_ide_rx_burst call, one GCM invocation per TLP). Measured in the
 * same run, on the same buffers:
 *   raw  - AES-256-GCM seal + open of the same payloads and AAD sizes through the same backend,
 *          with nothing of IDE around it (what the engine costs on top of the cipher);
 *   EVP  - a straightforward per-TLP libcrypto EVP implementation (init with the IV, AAD,
 *          update, final / tag) of the same seal + open.
 * The three are measured in interleaved slices so that they share the machine's load, by default
 * on the thread's CPU-time clock (throughput per core: time the thread was not running, on a
 * shared machine, is not counted against any of the three); --clock wall uses the monotonic clock.
 * Streams (--streams N[,N..], default 1,8,64,255): N Secure streams on one port pair (one engine
 * each side, PCIe 6.x §7.9.26 allows a root port up to 256 Selective IDE Stream blocks), each
 * with its own keys, single-TLP units round-robin across them (every TLP another stream's key
 * schedule, IV counter and PR_Sent state) at 256 and 4096 bytes, measured in interleaved slices
 * with the 1-stream figure of the same run, and printed with the ratio to it.
 * Options: --backend auto|ipsec-mb|openssl (or PCITSM_GCM_BACKEND), --seconds S per figure,
 * --clock cpu|wall, --streams, --json (bench.h). Documented in docs/man/pcitsm-bench.1 and
 * docs/performance.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/ide.h"

#define HDR 12                /* 3-DW MWr header */
#define AAD (4 + HDR)         /* IDE prefix + header */
#define UNIT_MAX 8
#define BURST 32              /* TLPs per burst call */
#define NR_COUNTS 8           /* --streams: at most this many counts */
#define STREAM_WIN 0x10000ull /* each stream's address window */

struct ide_bench {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *rp, *ep;
	uint8_t key[32];
	double seconds;
	uint8_t tlp[BURST][HDR + PCITSM_TLP_DATA_MAX];
	uint8_t wire[BURST][PCITSM_IDE_TLP_MAX];
	uint8_t plain[UNIT_MAX * (PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX)];
	uint8_t bplain[BURST][PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX];
	uint8_t msg[64]; /* IDE Sync */
	uint8_t aad[UNIT_MAX * AAD];
	struct bench_report rep;
};

/* Accumulated over interleaved slices, so the three figures see the same machine load. */
struct rate {
	double tlps, secs;
	double bytes_s, tlps_s;
};

#define SLICES 10

static bool use_wall;

/* Seconds on the chosen clock. */
static double clk(void)
{
	struct timespec ts;

	if (use_wall)
		return bench_now();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "model name" from /proc/cpuinfo, for the record (read once, before measuring). */
static void cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 1 + (c[1] == ' ');
			c[strcspn(c, "\n")] = 0;
			snprintf(out, cap, "%s", c);
			break;
		}
	}
	fclose(f);
}

static pcitsm_err setup(struct ide_bench *b, enum pcitsm_gcm_backend want)
{
	struct pcitsm_ide_sel s = { .ctl = { .stream_id = 1, .agg_pr = 3 }, .rid_valid = true,
				    .rid_base = 0x100, .rid_limit = 0x100, .nr_addr = 1,
				    .addr = { { true, 0x80000000, 0x8fffffff } } };
	struct pcitsm_ide_port *p[2];

	pcitsm_env_test_init(&b->env, 1);
	PCITSM_TRY(pcitsm_gcm_new(&b->gcm, want));
	PCITSM_TRY(pcitsm_ide_port_new(&b->rp, b->gcm, &b->env.env, 0x08));
	PCITSM_TRY(pcitsm_ide_port_new(&b->ep, b->gcm, &b->env.env, 0x100));
	p[0] = b->rp;
	p[1] = b->ep;
	PCITSM_TRY(pcitsm_random(&b->env.env, b->key, sizeof(b->key)));
	for (int i = 0; i < 2; i++) {
		s.ctl.default_stream = i;
		PCITSM_TRY(pcitsm_ide_stream_config(p[i], 0, &s));
		for (int u = 0; u < 3; u++)
			for (int d = 0; d < 2; d++) {
				PCITSM_TRY(pcitsm_ide_key_prog_aes(p[i], 1, 0, d, u, b->key, 1));
				PCITSM_TRY(pcitsm_ide_k_set_go(p[i], 1, 0, d, u));
			}
		PCITSM_TRY(pcitsm_ide_stream_enable(p[i], 0));
	}
	return PCITSM_OK;
}

static pcitsm_err make_tlps(struct ide_bench *b, size_t len, size_t *tlp_len)
{
	static uint8_t data[PCITSM_TLP_DATA_MAX];

	PCITSM_TRY(pcitsm_random(&b->env.env, data, len));
	for (unsigned i = 0; i < BURST; i++) {
		struct pcitsm_tlp t = { .kind = PCITSM_TLP_MWR, .req_id = 0x08, .first_be = 0xf,
					.last_be = len > 4 ? 0xf : 0, .addr = 0x80000000 + 0x1000 * i,
					.data = data, .len = len };
		PCITSM_TRY(pcitsm_tlp_encode(&t, b->tlp[i], sizeof(b->tlp[i]), tlp_len));
	}
	return PCITSM_OK;
}

/* One unit from rp through ep; an IDE Sync when the transmitter asks for it. */
static pcitsm_err pair_once(struct ide_bench *b, struct pcitsm_ide_port *rp,
			    struct pcitsm_ide_port *ep, struct pcitsm_ide_io *io, size_t n)
{
	struct pcitsm_ide_rx_out out = { .buf = b->plain, .cap = sizeof(b->plain) };
	pcitsm_err e = pcitsm_ide_tx(rp, io, n);
	size_t len;

	if (e == PCITSM_E_BUSY) {
		PCITSM_TRY(pcitsm_ide_next_msg(rp, b->msg, sizeof(b->msg), &len));
		PCITSM_TRY(pcitsm_ide_rx(ep, b->msg, len, &out));
		e = pcitsm_ide_tx(rp, io, n);
	}
	PCITSM_TRY(e);
	for (size_t i = 0; i < n; i++)
		PCITSM_TRY(pcitsm_ide_rx(ep, io[i].out, io[i].out_len, &out));
	return out.n == n ? PCITSM_OK : PCITSM_E_STATE;
}

/* One unit through both engines of the main pair. */
static pcitsm_err ide_once(struct ide_bench *b, struct pcitsm_ide_io *io, size_t n)
{
	return pair_once(b, b->rp, b->ep, io, n);
}

/* A burst through both engines: the transmitter stops at the TLP that must wait for an IDE Sync
 * (E_BUSY); what it sent is received, then the Sync, and the burst resumes where it stopped. */
static pcitsm_err burst_once(struct ide_bench *b, struct pcitsm_ide_io *io, size_t n)
{
	struct pcitsm_ide_rx_out out[BURST];
	const uint8_t *in[BURST];
	size_t len[BURST], at = 0, done, got;
	pcitsm_err e;

	while (at < n) {
		e = pcitsm_ide_tx_burst(b->rp, io + at, n - at, &done);
		if (e && e != PCITSM_E_BUSY)
			return e;
		for (size_t i = 0; i < done; i++) {
			in[i] = io[at + i].out;
			len[i] = io[at + i].out_len;
			out[i].buf = b->bplain[at + i]; /* the rest is the receiver's to set */
			out[i].cap = sizeof(b->bplain[at + i]);
		}
		PCITSM_TRY(pcitsm_ide_rx_burst(b->ep, in, len, out, done, &got));
		if (got != done || (done && out[done - 1].n != 1))
			return PCITSM_E_STATE;
		at += done;
		if (e == PCITSM_E_BUSY) {
			struct pcitsm_ide_rx_out m = { .buf = b->plain, .cap = sizeof(b->plain) };

			PCITSM_TRY(pcitsm_ide_next_msg(b->rp, b->msg, sizeof(b->msg), &len[0]));
			PCITSM_TRY(pcitsm_ide_rx(b->ep, b->msg, len[0], &m));
		}
	}
	return PCITSM_OK;
}

/* n TLPs of tl bytes through once() (a unit or a burst, both directions), in batches of `batch`
 * calls, for a slice of the run. */
static pcitsm_err run_timed(struct ide_bench *b, size_t tl, size_t n,
			    pcitsm_err (*once)(struct ide_bench *, struct pcitsm_ide_io *, size_t),
			    int batch, struct rate *r)
{
	struct pcitsm_ide_io io[PCITSM_MAX(BURST, UNIT_MAX)];
	size_t iters = 0;
	double t0, t;

	for (size_t i = 0; i < n; i++)
		io[i] = (struct pcitsm_ide_io){ b->tlp[i], tl, b->wire[i], sizeof(b->wire[i]), 0 };
	t0 = clk();
	do {
		for (int k = 0; k < batch; k++)
			PCITSM_TRY(once(b, io, n));
		iters += (size_t)batch;
		t = clk() - t0;
	} while (t < b->seconds / SLICES);
	r->tlps += (double)(iters * n);
	r->secs += t;
	return PCITSM_OK;
}

/* The same seal + open through the same backend, nothing else. */
static pcitsm_err run_raw(struct ide_bench *b, size_t len, size_t n, struct rate *r)
{
	struct pcitsm_gcm_key *k;
	struct pcitsm_gcm_seg enc[UNIT_MAX], dec[UNIT_MAX];
	uint8_t iv[12] = { 0 }, tag[12];
	uint64_t ctr = 1;
	size_t iters = 0;
	double t0, t;
	pcitsm_err e = PCITSM_OK;

	PCITSM_TRY(pcitsm_gcm_key_new(b->gcm, &k));
	PCITSM_TRY(pcitsm_gcm_key_set(k, b->key));
	for (size_t i = 0; i < n; i++) {
		enc[i] = (struct pcitsm_gcm_seg){ b->tlp[i] + HDR, b->wire[i] + AAD, len };
		dec[i] = (struct pcitsm_gcm_seg){ b->wire[i] + AAD, b->plain + i * len, len };
	}
	t0 = clk();
	do {
		for (int j = 0; j < 64 && !e; j++, ctr++) {
			pcitsm_put_be64(iv + 4, ctr);
			e = pcitsm_gcm_seal(k, iv, b->aad, AAD * n, enc, n, tag, sizeof(tag));
			if (!e)
				e = pcitsm_gcm_open(k, iv, b->aad, AAD * n, dec, n, tag, sizeof(tag));
		}
		iters += 64;
		t = clk() - t0;
	} while (t < b->seconds / SLICES && !e);
	pcitsm_gcm_key_free(k);
	r->tlps += (double)(iters * n);
	r->secs += t;
	return e;
}

/* A per-TLP EVP implementation: what one would write with libcrypto alone. */
static int evp_once(EVP_CIPHER_CTX *ec, EVP_CIPHER_CTX *dc, struct ide_bench *b, size_t len,
		    const uint8_t *iv)
{
	uint8_t tag[16];
	int n, ok = 1;

	ok &= EVP_EncryptInit_ex(ec, NULL, NULL, NULL, iv);
	ok &= EVP_EncryptUpdate(ec, NULL, &n, b->aad, AAD);
	ok &= EVP_EncryptUpdate(ec, b->wire[0] + AAD, &n, b->tlp[0] + HDR, (int)len);
	ok &= EVP_EncryptFinal_ex(ec, NULL, &n);
	ok &= EVP_CIPHER_CTX_ctrl(ec, EVP_CTRL_GCM_GET_TAG, 16, tag);
	ok &= EVP_DecryptInit_ex(dc, NULL, NULL, NULL, iv);
	ok &= EVP_DecryptUpdate(dc, NULL, &n, b->aad, AAD);
	ok &= EVP_DecryptUpdate(dc, b->plain, &n, b->wire[0] + AAD, (int)len);
	ok &= EVP_CIPHER_CTX_ctrl(dc, EVP_CTRL_GCM_SET_TAG, 12, tag);
	ok &= EVP_DecryptFinal_ex(dc, NULL, &n) == 1;
	return ok;
}

static pcitsm_err run_evp(struct ide_bench *b, size_t len, struct rate *r)
{
	EVP_CIPHER_CTX *ec = EVP_CIPHER_CTX_new(), *dc = EVP_CIPHER_CTX_new();
	uint8_t iv[12] = { 0 };
	uint64_t ctr = 1;
	size_t iters = 0;
	double t0, t;
	int ok = ec && dc;

	ok = ok && EVP_EncryptInit_ex(ec, EVP_aes_256_gcm(), NULL, b->key, NULL);
	ok = ok && EVP_DecryptInit_ex(dc, EVP_aes_256_gcm(), NULL, b->key, NULL);
	t0 = clk();
	do {
		for (int j = 0; j < 64 && ok; j++, ctr++) {
			pcitsm_put_be64(iv + 4, ctr);
			ok = evp_once(ec, dc, b, len, iv);
		}
		iters += 64;
		t = clk() - t0;
	} while (t < b->seconds / SLICES && ok);
	EVP_CIPHER_CTX_free(ec);
	EVP_CIPHER_CTX_free(dc);
	r->tlps += (double)iters;
	r->secs += t;
	return ok ? PCITSM_OK : PCITSM_E_CRYPTO;
}

static void rate_done(struct rate *r, size_t len)
{
	r->tlps_s = r->tlps / r->secs;
	r->bytes_s = r->tlps_s * (double)len;
}

/* n TLPs per unit; burst: BURST single-TLP units per call (printed as "bN"). */
static pcitsm_err row(struct ide_bench *b, size_t len, size_t n, bool burst)
{
	struct rate ide = { 0 }, raw = { 0 }, evp = { 0 };
	json_object *o;
	char agg[8];
	size_t tl;

	bench_progress(&b->rep, "payload %zu, %s %zu", len, burst ? "burst" : "TLPs/unit",
		       burst ? (size_t)BURST : n);

	PCITSM_TRY(make_tlps(b, len, &tl));
	for (int i = 0; i < SLICES; i++) {
		PCITSM_TRY(burst ? run_timed(b, tl, BURST, burst_once, 4, &ide)
				 : run_timed(b, tl, n, ide_once, 64, &ide));
		PCITSM_TRY(run_raw(b, len, n, &raw));
		PCITSM_TRY(run_evp(b, len, &evp));
	}
	rate_done(&ide, len);
	rate_done(&raw, len);
	rate_done(&evp, len);
	snprintf(agg, sizeof(agg), burst ? "b%zu" : "%zu", burst ? (size_t)BURST : n);
	o = bench_row(&b->rep);
	bench_set_str(o, "kind", burst ? "burst" : n > 1 ? "aggregated" : "single");
	bench_set_int(o, "payload", (int64_t)len);
	bench_set_int(o, "tlps_per_call", (int64_t)(burst ? BURST : n));
	bench_set_num(o, "ide_gbps", ide.bytes_s / 1e9);
	bench_set_num(o, "ide_mtlps", ide.tlps_s / 1e6);
	bench_set_num(o, "raw_gbps", raw.bytes_s / 1e9);
	bench_set_num(o, "evp_gbps", evp.bytes_s / 1e9);
	bench_set_num(o, "ide_to_raw", ide.bytes_s / raw.bytes_s);
	bench_set_num(o, "ide_to_evp", ide.bytes_s / evp.bytes_s);
	if (bench_text(&b->rep))
		printf("%7zu  %3s  %8.2f  %9.2f  %8.2f  %8.2f  %7.2f  %7.2f\n", len, agg,
		       ide.bytes_s / 1e9, ide.tlps_s / 1e6, raw.bytes_s / 1e9, evp.bytes_s / 1e9,
		       ide.bytes_s / raw.bytes_s, ide.bytes_s / evp.bytes_s);
	return PCITSM_OK;
}

double bench_ide_burst_gbps(size_t len, double seconds)
{
	struct ide_bench *b = calloc(1, sizeof(*b));
	struct rate ide = { 0 };
	double r = -1;

	if (!b)
		return -1;
	b->seconds = seconds;
	if (setup(b, PCITSM_GCM_AUTO) == PCITSM_OK) {
		size_t tl;
		pcitsm_err e = make_tlps(b, len, &tl);

		for (int i = 0; i < SLICES && !e; i++)
			e = run_timed(b, tl, BURST, burst_once, 4, &ide);
		if (!e) {
			rate_done(&ide, len);
			r = ide.bytes_s / 1e9;
		}
	}
	pcitsm_ide_port_free(b->rp);
	pcitsm_ide_port_free(b->ep);
	pcitsm_gcm_free(b->gcm);
	free(b);
	return r;
}

/* --streams: one port pair with n Secure streams, Stream IDs 0..n-1, each with its own keys
 * (fresh random per stream, direction and sub-stream) and its own address window. */
struct multi {
	unsigned n;
	struct pcitsm_ide_port *rp, *ep;
	unsigned next; /* the stream the next TLP goes to */
	struct rate r;
};

static pcitsm_err multi_stream(struct ide_bench *b, struct multi *m, unsigned i)
{
	struct pcitsm_ide_sel s = { .ctl = { .stream_id = (uint8_t)i }, .rid_valid = true,
				    .rid_base = 0x100, .rid_limit = 0x100, .nr_addr = 1 };
	uint8_t key[2][32]; /* [0]: rp -> ep, [1]: ep -> rp */
	pcitsm_err e = PCITSM_OK;

	s.addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000ull + STREAM_WIN * i,
						     0x80000000ull + STREAM_WIN * (i + 1) - 1 };
	PCITSM_TRY(pcitsm_ide_stream_config(m->rp, i, &s));
	PCITSM_TRY(pcitsm_ide_stream_config(m->ep, i, &s));
	for (int u = 0; u < PCITSM_IDE_NR_SUB && !e; u++) {
		e = pcitsm_random(&b->env.env, key, sizeof(key));
		for (int d = 0; d < 2 && !e; d++) {
			/* TX of one end and RX of the other share a key. */
			e = pcitsm_ide_key_prog_aes(m->rp, (uint8_t)i, 0, d, u, key[d == 0], 1);
			if (!e)
				e = pcitsm_ide_key_prog_aes(m->ep, (uint8_t)i, 0, d, u, key[d != 0],
							    1);
			if (!e)
				e = pcitsm_ide_k_set_go(m->rp, (uint8_t)i, 0, d, u);
			if (!e)
				e = pcitsm_ide_k_set_go(m->ep, (uint8_t)i, 0, d, u);
		}
	}
	pcitsm_wipe(key, sizeof(key));
	PCITSM_TRY(e);
	PCITSM_TRY(pcitsm_ide_stream_enable(m->rp, i));
	PCITSM_TRY(pcitsm_ide_stream_enable(m->ep, i));
	return pcitsm_ide_stream_state(m->rp, i) == PCITSM_IDE_SECURE ? PCITSM_OK : PCITSM_E_STATE;
}

static pcitsm_err multi_setup(struct ide_bench *b, struct multi *m, unsigned n)
{
	m->n = n;
	PCITSM_TRY(pcitsm_ide_port_new_streams(&m->rp, b->gcm, &b->env.env, 0x08, n));
	PCITSM_TRY(pcitsm_ide_port_new_streams(&m->ep, b->gcm, &b->env.env, 0x100, n));
	for (unsigned i = 0; i < n; i++)
		PCITSM_TRY(multi_stream(b, m, i));
	return PCITSM_OK;
}

static void multi_free(struct multi *m)
{
	pcitsm_ide_port_free(m->rp);
	pcitsm_ide_port_free(m->ep);
	m->rp = m->ep = NULL;
}

/* A slice of single-TLP units round-robin across the streams: the TLP's address (3-DW header
 * bytes 8..11) moved into the next stream's window, the payload the same for every stream. */
static pcitsm_err multi_slice(struct ide_bench *b, struct multi *m, size_t tl)
{
	struct pcitsm_ide_io io = { b->tlp[0], tl, b->wire[0], sizeof(b->wire[0]), 0 };
	size_t iters = 0;
	double t0 = clk(), t;

	do {
		for (int k = 0; k < 64; k++) {
			pcitsm_put_be32(b->tlp[0] + 8, (uint32_t)(0x80000000ull +
								  STREAM_WIN * m->next));
			m->next = m->next + 1 == m->n ? 0 : m->next + 1;
			PCITSM_TRY(pair_once(b, m->rp, m->ep, &io, 1));
		}
		iters += 64;
		t = clk() - t0;
	} while (t < b->seconds / SLICES);
	m->r.tlps += (double)iters;
	m->r.secs += t;
	return PCITSM_OK;
}

/* Every count in interleaved slices (the same machine load), then one row each with the ratio to
 * the 1-stream figure (m[0]). */
static pcitsm_err streams_rows(struct ide_bench *b, struct multi *m, unsigned nc, size_t len)
{
	size_t tl;

	bench_progress(&b->rep, "%zu-byte TLPs over %u stream counts", len, nc);
	PCITSM_TRY(make_tlps(b, len, &tl));
	for (unsigned c = 0; c < nc; c++)
		m[c].r = (struct rate){ 0 };
	for (int i = 0; i < SLICES; i++)
		for (unsigned c = 0; c < nc; c++)
			PCITSM_TRY(multi_slice(b, &m[c], tl));
	for (unsigned c = 0; c < nc; c++) {
		json_object *o = bench_row(&b->rep);

		rate_done(&m[c].r, len);
		bench_set_str(o, "kind", "streams");
		bench_set_int(o, "payload", (int64_t)len);
		bench_set_int(o, "streams", m[c].n);
		bench_set_num(o, "ide_gbps", m[c].r.bytes_s / 1e9);
		bench_set_num(o, "ide_mtlps", m[c].r.tlps_s / 1e6);
		bench_set_num(o, "ratio_to_1", m[c].r.bytes_s / m[0].r.bytes_s);
		if (bench_text(&b->rep))
			printf("%7zu  %7u  %8.2f  %9.2f  %10.2f\n", len, m[c].n,
			       m[c].r.bytes_s / 1e9, m[c].r.tlps_s / 1e6,
			       m[c].r.bytes_s / m[0].r.bytes_s);
	}
	return PCITSM_OK;
}

static pcitsm_err streams_run(struct ide_bench *b, const unsigned *counts, unsigned nc)
{
	static const size_t sizes[] = { 256, 4096 };
	struct multi m[NR_COUNTS] = { 0 };
	pcitsm_err e = PCITSM_OK;

	for (unsigned c = 0; c < nc && !e; c++)
		e = multi_setup(b, &m[c], counts[c]);
	if (!e && bench_text(&b->rep))
		printf("\nstreams: single-TLP units round-robin across N Secure streams, each "
		       "with its own keys (one engine per side)\n"
		       "payload  streams  IDE GB/s  IDE MTLP/s  ratio to 1\n");
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sizes) && !e; i++)
		e = streams_rows(b, m, nc, sizes[i]);
	for (unsigned c = 0; c < nc; c++)
		multi_free(&m[c]);
	return e;
}

static int bench_ide_usage(void)
{
	fprintf(stderr,
		"usage: pcitsm bench ide [--backend auto|ipsec-mb|openssl] [--seconds S]\n"
		"                        [--clock cpu|wall] [--streams N[,N..]] [--json]\n"
		"  --backend  AES-256-GCM implementation (default: auto = $%s, else ipsec-mb when\n"
		"             the CPU has AES-NI and PCLMULQDQ, else openssl)\n"
		"  --seconds  measuring time per row and per figure, in 10 interleaved slices\n"
		"             (default 1)\n"
		"  --clock    cpu: the thread's CPU time (default), wall: monotonic time\n"
		"  --streams  Secure streams interleaved on one engine, each count 1..255\n"
		"             (default 1,8,64,255; the 1-stream baseline is always measured)\n"
		"  --json     one JSON document on stdout (docs/performance.md)\n",
		PCITSM_GCM_ENV);
	return CLI_EXIT_USAGE;
}

static int parse_backend(const char *arg, void *out)
{
	return pcitsm_gcm_backend_parse(arg, out) ? -1 : 0;
}

static int parse_clock(const char *arg, void *out)
{
	bool *wall = out;

	if (strcmp(arg, "cpu") && strcmp(arg, "wall"))
		return -1;
	*wall = !strcmp(arg, "wall");
	return 0;
}

/* --streams N[,N..]: counts 1..255 (Stream IDs 0..254), at most NR_COUNTS - 1 of them; the
 * 1-stream baseline goes first, added when it is not listed. */
struct stream_counts {
	unsigned n[NR_COUNTS];
	unsigned nr;
};

static int parse_streams(const char *arg, void *out)
{
	struct stream_counts *sc = out;
	const char *p = arg;

	sc->n[0] = 1;
	sc->nr = 1;
	do {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || (*end && *end != ',') || v < 1 || v > 255 || sc->nr >= NR_COUNTS)
			return -1;
		if (v != 1)
			sc->n[sc->nr++] = (unsigned)v;
		p = *end ? end + 1 : end;
	} while (*p);
	return p[-1] == ',' ? -1 : 0;
}

static int bench_ide_run(int argc, char **argv)
{
	static struct ide_bench b;
	enum pcitsm_gcm_backend want = PCITSM_GCM_AUTO;
	static const size_t sizes[] = { 64, 256, 1024, 4096 };
	pcitsm_err e = PCITSM_OK;
	char model[128];
	bool json = false;
	struct stream_counts sc = { { 1, 8, 64, 255 }, 4 };
	const struct bench_opt opts[] = {
		{ "--backend", parse_backend, &want },
		{ "--seconds", bench_parse_seconds, &b.seconds },
		{ "--clock", parse_clock, &use_wall },
		{ "--streams", parse_streams, &sc },
		{ "--json", NULL, &json },
	};
	json_object *cnt;
	int rc;

	b.seconds = 1.0;
	if (bench_opts_parse(argc, argv, opts, PCITSM_ARRAY_SIZE(opts)) < 0)
		return bench_ide_usage();
	e = setup(&b, want);
	if (e)
		return cli_fail("bench ide", e);
	cpu_model(model, sizeof(model));
	bench_report_init(&b.rep, "ide", json);
	bench_set_str(b.rep.doc, "backend", pcitsm_gcm_name(b.gcm));
	bench_set_str(b.rep.doc, "clock", use_wall ? "wall" : "cpu");
	bench_set_str(b.rep.doc, "cpu", model);
	bench_set_num(b.rep.doc, "seconds", b.seconds);
	cnt = json_object_new_array();
	for (unsigned c = 0; c < sc.nr; c++)
		json_object_array_add(cnt, json_object_new_int((int)sc.n[c]));
	json_object_object_add(b.rep.doc, "stream_counts", cnt);
	bench_progress_steps(&b.rep, 3 * PCITSM_ARRAY_SIZE(sizes) + 2);
	if (bench_text(&b.rep)) {
		printf("IDE encrypt + verify-decrypt, 1 core, backend %s, %s clock\n",
		       pcitsm_gcm_name(b.gcm), use_wall ? "wall" : "CPU-time");
		printf("cpu: %s\n", model);
		printf("payload  agg   IDE GB/s  IDE MTLP/s  raw GB/s  EVP GB/s  IDE/raw  "
		       "IDE/EVP\n");
	}
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sizes) && !e; i++)
		e = row(&b, sizes[i], 1, false);
	/* Aggregated: the largest unit PCIe 6.x §6.33 aggregation allows (8 TLPs, 256 DW of
	 * payload). */
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sizes) && !e; i++) {
		size_t n = PCITSM_MIN(UNIT_MAX, PCITSM_IDE_AGG_DATA_MAX / sizes[i]);

		if (n < 2) {
			bench_progress(&b.rep, "payload %zu", sizes[i]);
			if (bench_text(&b.rep))
				printf("%7zu    -  (a unit holds at most 256 DW: no aggregation)\n",
				       sizes[i]);
		} else
			e = row(&b, sizes[i], n, false);
	}
	/* Bursts: BURST single-TLP units per call on each side. */
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sizes) && !e; i++)
		e = row(&b, sizes[i], 1, true);
	if (!e)
		e = streams_run(&b, sc.n, sc.nr);
	rc = bench_report_finish(&b.rep, e ? CLI_EXIT_FAIL : 0); /* the progress line gone first */
	if (e)
		rc = cli_fail("bench ide", e);
	pcitsm_ide_port_free(b.rp);
	pcitsm_ide_port_free(b.ep);
	pcitsm_gcm_free(b.gcm);
	pcitsm_wipe(b.key, sizeof(b.key));
	return rc;
}

const struct bench bench_ide = {
	.name = "ide",
	.summary = "IDE TLP encrypt + verify-decrypt throughput vs raw AES-GCM and per-TLP EVP",
	.run = bench_ide_run,
};
