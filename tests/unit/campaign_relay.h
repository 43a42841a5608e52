/* SPDX-License-Identifier: MIT */
/*
 * The campaigns against the requester (docs/security.md "Campaigns against our requester and
 * responders"), shared by test_campaign_relay and test_campaign_recover: the firmware TSM
 * connects, locks and accepts a device over the emulated platform while the wire between them is
 * hostile (tests/unit/campaign_mut.h, wrapped around the CMA mailbox the host relays through, so
 * the DOE path is the real one).
 *  - hostile_device: every trial tampers with one to three responses of a connect + lock + accept
 *    (bit flips, truncation, extension, wrong codes and lengths, replayed, reordered and
 *    wrong-state responses);
 *  - hostile_host: the host relay tampers with, drops, replays or injects objects in both
 *    directions, and everything the host sees (relay buffers, the pcap capture, the debug log) is
 *    scanned for the IDE keys, the session's secrets and the TDISP START nonce.
 * Oracle per trial: no crash, no hang (each trial's wall time bounded); a step that succeeds yields
 * exactly the clean run's evidence (certificate chain, VCA transcript, measurement record,
 * interface report and its digest), working IDE traffic (so the key acks were real) and a TDI in
 * RUN at the device; a failed connect leaves no stream enabled, no Stream ID or slot taken, no
 * session open and no valid key slot at either port; no secret in the clear anywhere.
 * Trials: PCITSM_CAMPAIGN_TRIALS (default 1000 / 200; PCITSM_CAMPAIGN_HOST_TRIALS for the second
 * alone); seed: PCITSM_CAMPAIGN_SEED. Figures go to stdout (`make campaign`: the full counts).
 */
#ifndef PCITSM_TEST_CAMPAIGN_RELAY_H
#define PCITSM_TEST_CAMPAIGN_RELAY_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign_mut.h"
#include "pcitsm/capture.h"
#include "pcitsm/doe.h"
#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"
#include "tsm/tsm_priv.h"
#include "tsmfw/fw_test.h"

#define PF "0000:01:00.0"
#define VF1 "0000:01:00.1"
#define MAX_SECRETS 64
#define TRIAL_MAX_S \
	10 /* far above a trial's real time: a trial past it hung  \
                        */

/* What the host may see, and the secrets it must not. */
struct watch {
	struct pcitsm_xport_tap tap; /* the relay tap: forwards to the pcap capture when open */
	struct pcitsm_xport_tap *pcap;
	char *log;
	size_t log_len, log_cap;
	uint8_t secret[MAX_SECRETS][64];
	size_t secret_len[MAX_SECRETS];
	unsigned nr_secrets, nr_keys;
	bool record_random; /* record 32-byte random draws as secrets (the START
                         nonce) */
	pcitsm_err (*random)(const struct pcitsm_env *, void *, size_t);
};
static struct watch g_w;

static inline void add_secret(const void *p, size_t n)
{
	if (g_w.nr_secrets >= MAX_SECRETS || n > 64)
		fail_msg("too many secrets in one trial");
	memcpy(g_w.secret[g_w.nr_secrets], p, n);
	g_w.secret_len[g_w.nr_secrets++] = n;
}

static inline void relay_tap(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *o,
			     size_t n)
{
	(void)tap;
	if (g_w.pcap)
		g_w.pcap->object(g_w.pcap, from_device, o, n);
}

static inline void log_line(const struct pcitsm_env *env, enum pcitsm_log_level lvl,
			    const char *msg)
{
	size_t n = strlen(msg);

	(void)env;
	(void)lvl;
	if (g_w.log_len + n > g_w.log_cap) {
		g_w.log_cap = (g_w.log_len + n) * 2;
		g_w.log = realloc(g_w.log, g_w.log_cap);
		assert_non_null(g_w.log);
	}
	memcpy(g_w.log + g_w.log_len, msg, n);
	g_w.log_len += n;
}

/* The device's TDISP responder draws the START nonce from the environment (PCIe 6.x §11 LOCK);
 * while a lock runs, every 32-byte draw is one. */
static inline pcitsm_err watch_random(const struct pcitsm_env *env, void *buf, size_t n)
{
	pcitsm_err e = g_w.random(env, buf, n);

	if (!e && g_w.record_random && n == PCITSM_TDISP_NONCE_LEN)
		add_secret(buf, n);
	return e;
}

static inline void key_seen(void *arg, const uint8_t key[32], const uint8_t ifv[8])
{
	(void)arg;
	(void)ifv; /* public: 1 by definition (PCIe 6.x §6.33.3) */
	add_secret(key, 32);
	g_w.nr_keys++;
}

struct base {
	struct pcitsm_tsm_evidence ev;
	struct pcitsm_tsm_tdi_evidence tdi;
};

struct campaign {
	struct fx *fx;
	struct mut_xport m;
	struct base base;
	bool host; /* hostile host: both directions, drops and injections, scans */
	unsigned long trials, fired, by_outcome[4], by_kind[MUT_NR][4];
	double max_s;
};
enum { OUT_CONNECT, OUT_LOCK, OUT_ACCEPT, OUT_ACCEPTED };

static inline struct fx *fx_new(bool debug_log)
{
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_devices_cfg dc;
	struct fx *fx = test_tsm_cfg(23, &mc, &cfg, &dc);

	memset(&g_w, 0, sizeof(g_w));
	g_w.tap.object = relay_tap;
	g_w.random = fx->env.env.random;
	fx->env.env.random = watch_random;
	fx->env.env.log_level = debug_log ? PCITSM_LOG_DEBUG : PCITSM_LOG_ERR;
	fx->env.env.log = log_line;
	cfg.ports[0].ep_extra_funcs = 1;
	dc.key_observer = key_seen;
	mc.core.relay_tap = &g_w.tap;
	assert_ok(pcitsm_machine_build(&fx->m, &mc, PCITSM_MACHINE_CORE, NULL));
	return fx;
}

/* Nothing of a stream or a key left: no Enable, idle blocks, empty pools, no session, no valid key
 * slot in either port's engine. */
static inline void assert_clean(struct fx *fx)
{
	test_tsm_assert_clean(fx);
	for (unsigned i = 0; i < fx->m.plat.nr_funcs; i++) {
		struct pcitsm_ide_port *p = fx->m.plat.funcs[i].ide_port;

		for (unsigned s = 0; p && s < p->nr_streams; s++)
			for (unsigned d = 0; d < 2; d++)
				for (unsigned u = 0; u < PCITSM_IDE_NR_SUB; u++)
					for (unsigned ks = 0; ks < 2; ks++)
						assert_false(p->stream[s].slot[d][u][ks].valid);
	}
}

static inline bool contains(const uint8_t *hay, size_t n, const uint8_t *s, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (hay[i] == s[0] && !memcmp(hay + i, s, k))
			return true;
	return false;
}

/* A secret in its own byte order and, for a 32-byte key, in IDE_KM's other one.
 */
static inline void assert_absent(const char *where, const uint8_t *hay, size_t n)
{
	for (unsigned i = 0; i < g_w.nr_secrets; i++) {
		uint8_t grp[32];

		if (contains(hay, n, g_w.secret[i], g_w.secret_len[i]))
			fail_msg("secret %u (%zu bytes) found in the %s", i, g_w.secret_len[i],
				 where);
		if (g_w.secret_len[i] != 32)
			continue;
		pcitsm_ide_km_key_to_aes(g_w.secret[i], grp);
		if (contains(hay, n, grp, 32))
			fail_msg("key %u found in the %s (AES order)", i, where);
	}
}

static inline void add_session_secrets(struct fx *fx)
{
	struct pcitsm_bdf b = B(PF);
	const struct pcitsm_session *sm =
		pcitsm_tio_test_session(fx->m.fw, b.seg, pcitsm_bdf_rid(&b));

	assert_non_null(sm);
	for (int d = 0; d < 2; d++) {
		add_secret(sm->app[d].key, 32);
		add_secret(sm->app[d].iv, PCITSM_AEAD_IV_LEN);
		add_secret(sm->ks.app_secret[d], sm->ks.hash_len);
	}
	add_secret(sm->ks.export_master_secret, sm->ks.hash_len);
}

/* A connected device's evidence is the clean run's, and its stream carries traffic. */
static inline void check_connected(struct campaign *c)
{
	struct pcitsm_tsm_evidence ev;
	struct pcitsm_tsm_traffic t;
	struct pcitsm_bdf pf = B(PF);
	const struct base *b = &c->base;

	assert_ok(pcitsm_tsm_evidence_get(c->fx->m.core, &pf, &ev));
	assert_true(ev.chain_trusted);
	assert_int_equal(ev.chain_len, b->ev.chain_len);
	assert_memory_equal(ev.chain, b->ev.chain, ev.chain_len);
	assert_int_equal(ev.vca_len, b->ev.vca_len);
	assert_memory_equal(ev.vca, b->ev.vca, ev.vca_len);
	/* The measurement record (DSP0274 clause 10.11): the evidence is the whole signed
	 * MEASUREMENTS response, whose nonce and signature differ per run; its record (after the
	 * 4-byte header, NumberOfBlocks and the 3-byte MeasurementRecordLength) must not. */
	assert_true(ev.meas_len >= 8 && b->ev.meas_len >= 8);
	{
		size_t rl = ev.meas[5] | (size_t)ev.meas[6] << 8 | (size_t)ev.meas[7] << 16;
		size_t bl = b->ev.meas[5] | (size_t)b->ev.meas[6] << 8 | (size_t)b->ev.meas[7] << 16;

		assert_int_equal(rl, bl);
		assert_true(8 + rl <= ev.meas_len && 8 + bl <= b->ev.meas_len);
		assert_memory_equal(ev.meas, b->ev.meas, 8 + rl);
	}
	pcitsm_tsm_evidence_free(&ev);
	assert_int_equal(g_w.nr_keys, 6); /* 3 sub-streams x 2 directions, acked by the device */
	assert_ok(pcitsm_tsm_traffic(c->fx->m.core, &pf, 6, 64, &t));
	assert_int_equal(t.failures, 0);
	assert_true(t.tlps_secure > 0);
}

/* One connect + lock + accept; returns the outcome. */
static inline int flow(struct campaign *c, bool check)
{
	struct fx *fx = c->fx;
	struct pcitsm_bdf vf1 = B(VF1);
	struct pcitsm_tsm_tdi_evidence *ev = &c->base.tdi;
	unsigned nonces;
	int rc;

	if (W(fx, pcitsm_tsm_connect_write, PF, "tsm0") != 0) {
		if (check)
			assert_clean(fx);
		return OUT_CONNECT;
	}
	if (check) {
		bool armed = c->m.armed;

		c->m.armed = false; /* the checks' own traffic and reads are not tampered with */
		check_connected(c);
		c->m.armed = armed;
	}
	if (c->host)
		add_session_secrets(fx);
	nonces = g_w.nr_secrets;
	g_w.record_random = true;
	rc = W(fx, pcitsm_tsm_lock_write, VF1, "tsm1");
	g_w.record_random = false;
	/* Control: a lock that succeeded drew its START nonce, and the scan looks for it. */
	if (rc == 0)
		assert_true(g_w.nr_secrets > nonces);
	if (rc != 0) {
		if (getenv("PCITSM_CAMPAIGN_DEBUG")) {
			struct pcitsm_tsm_status st;

			assert_ok(pcitsm_tsm_status(fx->m.core, &vf1, &st));
			fprintf(stderr, "lock rc %d armed %d fired %d: step %d %s\n", rc,
				c->m.armed, c->m.fired, st.last_failure.step, st.last_failure.why);
		}
		return OUT_LOCK;
	}
	if (check) {
		struct pcitsm_tsm_tdi_evidence *got = calloc(1, sizeof(*got));

		assert_non_null(got);
		if (pcitsm_tsm_tdi_evidence_get(fx->m.core, &vf1, got) != PCITSM_OK) {
			free(got);
			return OUT_LOCK;
		}
		/* The report read is the device's: the clean run's bytes and digest. */
		assert_int_equal(got->report_len, ev->report_len);
		assert_memory_equal(got->report, ev->report, ev->report_len);
		assert_memory_equal(got->digest, ev->digest, sizeof(ev->digest));
		free(got);
	} else {
		assert_ok(pcitsm_tsm_tdi_evidence_get(fx->m.core, &vf1, ev));
	}
	if (W(fx, pcitsm_tsm_accept_write, VF1, "1") != 0)
		return OUT_ACCEPT;
	/* An accept the firmware reports is one the device made: the TDI runs. */
	assert_int_equal(pcitsm_emu_tdi_state(pcitsm_emu_find(&fx->m.plat, &vf1)),
			 PCITSM_TDISP_RUN);
	return OUT_ACCEPTED;
}

/* Untampered: unlock and disconnect; then nothing of the trial is left. */
static inline void teardown(struct campaign *c)
{
	struct pcitsm_bdf vf1 = B(VF1);
	struct pcitsm_tsm_status st;

	c->m.armed = false;
	assert_ok(pcitsm_tsm_status(c->fx->m.core, &vf1, &st));
	if (st.lock_tsm[0])
		assert_int_equal(W(c->fx, pcitsm_tsm_unlock_write, VF1, "tsm1"), 0);
	(void)W(c->fx, pcitsm_tsm_disconnect_write, PF, "tsm0");
	assert_clean(c->fx);
	assert_true(pcitsm_emu_tdi_state(pcitsm_emu_find(&c->fx->m.plat, &vf1)) !=
		    PCITSM_TDISP_RUN);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

static inline void campaign_setup(struct campaign *c, bool host)
{
	struct tsm_fn *fn;
	struct pcitsm_bdf pf = B(PF);

	memset(c, 0, sizeof(*c));
	c->host = host;
	c->fx = fx_new(host);
	fn = tsm_fn_find(c->fx->m.core, &pf);
	assert_non_null(fn);
	mut_install(&c->m, &fn->doe.x, env_ul("PCITSM_CAMPAIGN_SEED", 1));
	/* The clean run: the reference evidence and objects. */
	assert_int_equal(flow(c, false), OUT_ACCEPTED);
	{
		struct pcitsm_bdf b = B(PF);

		assert_ok(pcitsm_tsm_evidence_get(c->fx->m.core, &b, &c->base.ev));
	}
	mut_keep_base(&c->m);
	teardown(c);
	assert_true(c->m.nr_base > 10);
}

static inline void campaign_free(struct campaign *c)
{
	pcitsm_tsm_evidence_free(&c->base.ev);
	mut_remove(&c->m);
	fx_free(c->fx);
	free(g_w.log);
	pcitsm_wipe(&g_w, sizeof(g_w));
}

/* The host's view of this trial holds no secret: relay buffers, the debug log, the capture. */
static inline void scan_host(struct campaign *c, const char *pcap_path)
{
	uint8_t *file;
	size_t flen;

	/* Control: the search finds a secret where one is. */
	if (g_w.nr_secrets) {
		uint8_t probe[160] = { 0 };

		memcpy(probe + 40, g_w.secret[0], g_w.secret_len[0]);
		assert_true(contains(probe, sizeof(probe), g_w.secret[0], g_w.secret_len[0]));
	}
	assert_absent("relay buffers", c->m.log, c->m.log_len);
	assert_absent("debug log", (const uint8_t *)g_w.log, g_w.log_len);
	if (!pcap_path)
		return;
	file = test_read_file(pcap_path, &flen);
	assert_non_null(file);
	assert_absent("pcap capture", file, flen);
	free(file);
}

static inline void trial(struct campaign *c, unsigned long i, const char *pcap_path)
{
	struct pcitsm_pcap pcap;
	unsigned kinds = c->host ? MUT_NR : MUT_NR_DEVICE;
	double t0 = now_s(), dt;
	int out;

	mut_flow_reset(&c->m);
	g_w.nr_secrets = g_w.nr_keys = 0;
	g_w.log_len = 0;
	c->m.nr_targets =
		1 + (unsigned)(mut_rand(&c->m) % 8 == 0) + (unsigned)(mut_rand(&c->m) % 16 == 0);
	for (unsigned t = 0; t < c->m.nr_targets; t++) {
		c->m.targets[t] = (unsigned)(mut_rand(&c->m) % c->m.nr_base);
		c->m.kind[t] = (enum mut_kind)(mut_rand(&c->m) % kinds);
	}
	if (pcap_path) {
		assert_ok(pcitsm_pcap_open(&pcap, pcap_path));
		g_w.pcap = &pcap.tap;
	}
	c->m.armed = true;
	out = flow(c, true);
	c->m.armed = false;
	c->trials++;
	c->fired += c->m.fired;
	c->by_outcome[out]++;
	c->by_kind[c->m.kind[0]][out]++;
	if (c->host)
		scan_host(c, NULL);
	teardown(c);
	if (pcap_path) {
		g_w.pcap = NULL;
		assert_ok(pcitsm_pcap_close(&pcap));
		scan_host(c, pcap_path);
	}
	dt = now_s() - t0;
	if (dt > c->max_s)
		c->max_s = dt;
	if (dt > TRIAL_MAX_S)
		fail_msg("trial %lu took %.1f s", i, dt);
}

static inline void report(const struct campaign *c, const char *name, double secs)
{
	static const char *const out_name[] = { "connect refused", "lock refused", "accept refused",
						"all accepted (neutral)" };

	printf("campaign %s: %lu trials (%lu tampered), %.1f s, slowest trial %.3f "
	       "s, %u objects "
	       "per clean flow\n",
	       name, c->trials, c->fired, secs, c->max_s, c->m.nr_base);
	for (unsigned o = 0; o < 4; o++)
		printf("  %-24s %lu\n", out_name[o], c->by_outcome[o]);
	for (unsigned k = 0; k < (c->host ? MUT_NR : MUT_NR_DEVICE); k++)
		printf("  first kind %-12s connect-refused %lu lock-refused %lu "
		       "accept-refused %lu "
		       "accepted %lu\n",
		       mut_kind_name((enum mut_kind)k), c->by_kind[k][0], c->by_kind[k][1],
		       c->by_kind[k][2], c->by_kind[k][3]);
	fflush(stdout);
}

static inline void run(bool host, unsigned long dflt)
{
	struct campaign *c = calloc(1, sizeof(*c));
	unsigned long n = env_ul("PCITSM_CAMPAIGN_TRIALS", dflt);
	char path[] = "/tmp/test_campaign_pcap_XXXXXX";
	double t0;
	int fd = -1;

	/* The host campaign scans a capture file per trial: its count can be set on its own. */
	if (host)
		n = env_ul("PCITSM_CAMPAIGN_HOST_TRIALS", n);
	assert_non_null(c);
	campaign_setup(c, host);
	if (host) {
		fd = mkstemp(path);
		assert_true(fd >= 0);
		close(fd);
	}
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++)
		trial(c, i, host ? path : NULL);
	report(c, host ? "hostile_host" : "hostile_device", now_s() - t0);
	if (host)
		unlink(path);
	/* Every kind was tried, and the device is still good for a clean flow. */
	assert_true(n < 200 || c->by_outcome[OUT_CONNECT] > 0);
	mut_flow_reset(&c->m);
	g_w.nr_keys = g_w.nr_secrets = 0;
	c->m.armed = false;
	assert_int_equal(flow(c, true), OUT_ACCEPTED);
	teardown(c);
	campaign_free(c);
	free(c);
}

#endif /* PCITSM_TEST_CAMPAIGN_RELAY_H */
