/* SPDX-License-Identifier: MIT */
/*
 * pcitsm bench connect: full connects per second through the PCI/TSM core and the platform-
 * firmware TSM on the emulated platform (what `echo tsm0 > tsm/connect` does: DOE discovery,
 * TIO_DEV_CREATE, SPDM authentication with signed measurements, KEY_EXCHANGE + FINISH, stream
 * allocation and register setup, IDE_KM QUERY, 6 KEY_PROG at the endpoint and 6 at the root port,
 * 12 K_SET_GO, Enable at both ends), each followed by a disconnect that is timed separately; the
 * mean time of each connect step; the heap each connected device holds; and, measured in the same
 * run over the same emulated DOE mailbox, the baseline: the SPDM part alone (authentication with
 * signed measurements, session open, END_SESSION) with no TSM core, no IDE and no IDE_KM.
 * ratio = baseline / connect: the share of a connect that is SPDM.
 * In the same run, on each connection, the TDISP steps through the devsec TSM (the proposed
 * tsm/lock, evidence read, tsm/accept, tsm/unlock; PCIe 6.x §11): lock (VERSION, CAPABILITIES,
 * LOCK_INTERFACE, the report in portions), report (the evidence read again from the device with
 * its digest), accept (START_INTERFACE with the lock's nonce, RUN), unlock (STOP), each timed.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/crypto.h"
#include "pcitsm/machine.h"
#include "pcitsm/spdm_driver.h"

#define CONNECT_SECONDS_DEFAULT 3.0

struct connect_bench {
	struct pcitsm_machine m;
	struct pcitsm_bdf ep;
	struct pcitsm_doe_host doe; /* the baseline's own host on the endpoint's mailbox */
	const struct pcitsm_env *env;
};

static pcitsm_err setup(struct connect_bench *b, unsigned curve_bits)
{
	struct pcitsm_emu_devices_cfg dc = { .curve_bits = curve_bits };
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_func *ep;

	pcitsm_machine_cfg_default(&mc, b->env);
	mc.devs = &dc;
	PCITSM_TRY(pcitsm_machine_build(&b->m, &mc, PCITSM_MACHINE_CORE, NULL));
	ep = &b->m.plat.funcs[b->m.plat.config.nr_ports]; /* the first endpoint */
	b->ep = ep->bdf;
	return pcitsm_doe_host_find(&b->doe, &ep->cfg.cfg, PCITSM_DOE_VID_PCISIG,
				    PCITSM_DOE_TYPE_CMA, b->env);
}

static pcitsm_err build_meas(struct pcitsm_spdm_req *r, struct pcitsm_wr *w, const void *arg)
{
	(void)arg;
	return pcitsm_spdm_req_get_measurements(r, 0xff, true, 0, w);
}

/* The baseline: the SPDM work of a connect, alone, over the same mailbox model. */
static pcitsm_err spdm_alone(struct connect_bench *b)
{
	struct pcitsm_spdm_auth_opts o;
	struct pcitsm_spdm_auth_result res;
	struct pcitsm_spdm_session_opts so;
	struct pcitsm_spdm_session *s = calloc(1, sizeof(*s));
	struct pcitsm_spdm_req *r = calloc(1, sizeof(*r));
	pcitsm_err e;

	if (!s || !r) {
		free(s);
		free(r);
		return PCITSM_E_NOMEM;
	}
	pcitsm_spdm_auth_opts_default(&o, b->env);
	o.cfg.trust = b->m.trust;
	o.meas = PCITSM_SPDM_MEAS_NONE;
	e = pcitsm_spdm_drv_req_authenticate(r, &b->doe.x, &o, &res);
	if (!e)
		e = pcitsm_spdm_drv_req_exchange(r, &b->doe.x, build_meas, NULL);
	if (!e) {
		pcitsm_spdm_session_opts_default(&so);
		e = pcitsm_spdm_drv_session_open(s, r, &b->doe.x, &so);
	}
	if (!e)
		e = pcitsm_spdm_drv_session_end(s, &b->doe.x);
	pcitsm_spdm_session_wipe(s);
	pcitsm_spdm_auth_result_free(&res);
	pcitsm_spdm_req_free(r);
	free(s);
	free(r);
	return e;
}

static int connect_errno(struct connect_bench *b, bool on)
{
	return on ? pcitsm_tsm_connect_write(b->m.core, &b->ep, "tsm0", 4)
		  : pcitsm_tsm_disconnect_write(b->m.core, &b->ep, "tsm0", 4);
}

/* The devsec TSM's TDISP steps on the connected endpoint, each timed into t[4]. */
static int tdisp_round(struct connect_bench *b, double t[4])
{
	struct pcitsm_tsm_tdi_evidence *ev = malloc(sizeof(*ev));
	double t0 = bench_now(), t1, t2, t3;
	int rc;

	if (!ev)
		return -ENOMEM;
	rc = pcitsm_tsm_lock_write(b->m.core, &b->ep, "tsm1", 4);
	t1 = bench_now();
	if (!rc && pcitsm_tsm_tdi_evidence_get(b->m.core, &b->ep, ev) != PCITSM_OK)
		rc = -EIO;
	t2 = bench_now();
	if (!rc)
		rc = pcitsm_tsm_accept_write(b->m.core, &b->ep, "1", 1);
	t3 = bench_now();
	if (!rc)
		rc = pcitsm_tsm_unlock_write(b->m.core, &b->ep, "tsm1", 4);
	t[0] += t1 - t0;
	t[1] += t2 - t1;
	t[2] += t3 - t2;
	t[3] += bench_now() - t3;
	free(ev);
	return rc;
}

static int bench_connect_run(int argc, char **argv)
{
	struct connect_bench *b = calloc(1, sizeof(*b));
	double seconds = CONNECT_SECONDS_DEFAULT, t0, conn_s = 0, disc_s = 0, base_s = 0;
	unsigned long n = 0;
	unsigned curve_bits = 384;
	double td[4] = { 0 }; /* lock, report, accept, unlock */
	uint64_t steps[PCITSM_TSM_STEP_DONE + 1], sum[PCITSM_TSM_STEP_DONE + 1] = { 0 };
	struct pcitsm_tsm_status st;
	long mem = 0;
	pcitsm_err e;
	int rc = 0;
	bool json = false;
	struct bench_report rep;
	json_object *o;
	const struct bench_opt opts[] = {
		{ "--seconds", bench_parse_seconds, &seconds },
		{ "--curve", bench_parse_curve, &curve_bits },
		{ "--json", NULL, &json },
	};

	if (!b)
		return cli_fail("bench connect", PCITSM_E_NOMEM);
	if (bench_opts_parse(argc, argv, opts, PCITSM_ARRAY_SIZE(opts)) < 0) {
		free(b);
		fprintf(stderr, "usage: pcitsm bench connect [--seconds S] [--curve p256|p384] "
				"[--json]\n");
		return CLI_EXIT_USAGE;
	}
	b->env = pcitsm_env_default();
	bench_report_init(&rep, "connect", json);
	bench_set_num(rep.doc, "seconds", seconds);
	bench_set_int(rep.doc, "curve_bits", curve_bits);
	bench_progress(&rep, "set-up (emulated platform, devices)");
	e = setup(b, curve_bits);
	if (e) {
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		pcitsm_machine_free(&b->m);
		free(b);
		return cli_fail("bench connect: set-up", e);
	}
	/* Alternate one connect + disconnect and one baseline round: the same machine load. */
	bench_progress(&rep, "connects for %.1f s", seconds);
	t0 = bench_now();
	do {
		struct mallinfo2 m0 = mallinfo2(), m1;
		double t1 = bench_now(), t2, t3, td_end;

		rc = connect_errno(b, true);
		t2 = bench_now();
		m1 = mallinfo2();
		if (rc)
			break;
		mem += (long)m1.uordblks - (long)m0.uordblks;
		if (pcitsm_tsm_step_times(b->m.core, &b->ep, steps) == PCITSM_OK)
			for (unsigned s = 0; s <= PCITSM_TSM_STEP_DONE; s++)
				sum[s] += steps[s];
		rc = tdisp_round(b, td);
		if (rc) {
			fprintf(stderr, "pcitsm: bench connect: TDISP lock/report/accept/unlock: %s\n",
				strerror(-rc));
			break;
		}
		td_end = bench_now();
		rc = connect_errno(b, false);
		t3 = bench_now();
		if (rc)
			break;
		conn_s += t2 - t1;
		disc_s += t3 - td_end;
		n++;
		e = spdm_alone(b);
		base_s += bench_now() - t3;
	} while (!e && bench_now() - t0 < seconds);
	if (rc || e || !n) {
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		if (rc && pcitsm_tsm_status(b->m.core, &b->ep, &st) == PCITSM_OK)
			fprintf(stderr, "pcitsm: bench connect: connect failed at %s: %s\n",
				pcitsm_tsm_step_name(st.last_failure.step), st.last_failure.why);
		pcitsm_machine_free(&b->m);
		free(b);
		return cli_fail("bench connect", e ? e : PCITSM_E_IO);
	}
	o = bench_row(&rep);
	bench_set_int(o, "devices", 1); /* one endpoint connected at a time */
	bench_set_int(o, "root_ports", b->m.plat.config.nr_ports);
	bench_set_int(o, "count", (int64_t)n);
	bench_set_num(o, "connect_ms", 1e3 * conn_s / (double)n);
	bench_set_num(o, "connects_per_s", (double)n / conn_s);
	bench_set_num(o, "disconnect_ms", 1e3 * disc_s / (double)n);
	bench_set_num(o, "spdm_alone_ms", 1e3 * base_s / (double)n);
	bench_set_num(o, "ratio", base_s / conn_s);
	bench_set_num(o, "tdisp_lock_ms", 1e3 * td[0] / (double)n);
	bench_set_num(o, "tdisp_report_ms", 1e3 * td[1] / (double)n);
	bench_set_num(o, "tdisp_accept_ms", 1e3 * td[2] / (double)n);
	bench_set_num(o, "tdisp_unlock_ms", 1e3 * td[3] / (double)n);
	bench_set_int(o, "heap_bytes", mem / (long)n);
	for (unsigned s = PCITSM_TSM_STEP_PROBE; s <= PCITSM_TSM_STEP_DONE; s++) {
		char key[48];

		snprintf(key, sizeof(key), "step_%s_ms",
			 s == PCITSM_TSM_STEP_DONE ? "total" : pcitsm_tsm_step_name(s));
		bench_set_num(o, key, 1e-6 * (double)sum[s] / (double)n);
	}
	if (!bench_text(&rep))
		goto out;
	printf("connect: emulated platform (%u root ports), platform-firmware TSM (SEV-TIO model), "
	       "ECDSA P-%u device identity\n",
	       b->m.plat.config.nr_ports, curve_bits);
	printf("  full connects:              %10.1f /s  (%lu in %.2f s, %.3f ms each)\n",
	       (double)n / conn_s, n, conn_s, 1e3 * conn_s / (double)n);
	printf("  disconnects:                %10.1f /s  (%.3f ms each)\n", (double)n / disc_s,
	       1e3 * disc_s / (double)n);
	printf("  SPDM auth + session alone:  %10.1f /s  (%.3f ms each)\n", (double)n / base_s,
	       1e3 * base_s / (double)n);
	printf("  ratio SPDM alone / connect: %10.2f   (%.0f%% of a connect is the SPDM part)\n",
	       base_s / conn_s, 100.0 * base_s / conn_s);
	printf("  TDISP on the connection (devsec TSM tsm1, the same run):\n");
	printf("    lock   (LOCK_INTERFACE, report read): %8.3f ms\n", 1e3 * td[0] / (double)n);
	printf("    report (evidence read, digest):       %8.3f ms\n", 1e3 * td[1] / (double)n);
	printf("    accept (START_INTERFACE, RUN):        %8.3f ms\n", 1e3 * td[2] / (double)n);
	printf("    unlock (STOP_INTERFACE):              %8.3f ms\n", 1e3 * td[3] / (double)n);
	printf("  heap held per connected device: %ld bytes\n", mem / (long)n);
	printf("  mean time per step (ms):\n");
	for (unsigned s = PCITSM_TSM_STEP_PROBE; s <= PCITSM_TSM_STEP_DONE; s++)
		printf("    %-14s %8.3f\n", s == PCITSM_TSM_STEP_DONE ? "total" : pcitsm_tsm_step_name(s),
		       1e-6 * (double)sum[s] / (double)n);
out:
	pcitsm_machine_free(&b->m);
	free(b);
	return bench_report_finish(&rep, 0);
}

const struct bench bench_connect = {
	.name = "connect",
	.summary = "TSM connects per second and per-step latency, beside the SPDM part alone; TDISP "
		   "lock, report and accept times",
	.run = bench_connect_run,
};
