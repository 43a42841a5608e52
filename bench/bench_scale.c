/* SPDX-License-Identifier: MIT */
/*
 * pcitsm bench scale: the cost of a connected device as the host bridge fills up. For each
 * device count (1, 16, 64 and 255 by default: 255 endpoints is every bus number of one host
 * bridge, docs/emulated-platform.md "Scale"), one emulated platform with that many root ports
 * and endpoints, the platform-firmware TSM, and every endpoint connected through the PCI/TSM core
 * (what `pcitsm connect --all` writes to each tsm/connect); then all disconnected, and the host
 * bridge's pool must read full again. Figures per count: connect time per device, heap the
 * connections hold (mallinfo2: bytes in use, arenas and mapped chunks, after minus before), the
 * heap of the whole platform with every device connected. The baseline is the 16-device run:
 * ratio = (per-device time at the largest count) / (per-device time at 16), in the connecting
 * thread's CPU time (the TSM core, firmware and devices all run on it; wall time is shown
 * beside); the target is at most 1.2.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/crypto.h"
#include "pcitsm/machine.h"

#define SCALE_TARGET 1.2
#define SCALE_BASE 16 /* the count the others are compared with */

struct scale_row {
	unsigned n;
	double connect_s, disconnect_s;
	double connect_cpu_s; /* the connecting thread's CPU time: what the ratio compares */
	long heap_conn;  /* bytes the connections hold */
	long heap_total; /* platform, devices, TSM and connections */
	long heap_plat, heap_devs; /* of which the platform (config spaces, engines, link memory)
				    * and the devices (identities, responders) */
	unsigned avail_connected, avail_after, pool;
	unsigned sw_ports, switches; /* the layout: endpoints below switches of sw_ports (0: none) */
};

/* Bytes in use: in the arenas, and in the chunks glibc maps on their own (the large ones). */
static long heap_now(void)
{
	struct mallinfo2 m = mallinfo2();

	return (long)(m.uordblks + m.hblkhd);
}

/* The machine part by part, measuring the heap of the platform and of the devices on the way. */
static pcitsm_err scale_new(struct pcitsm_machine *s, unsigned n, unsigned curve_bits,
			    const struct pcitsm_env *env, struct scale_row *row)
{
	struct pcitsm_emu_config *cfg = calloc(1, sizeof(*cfg));
	struct pcitsm_emu_devices_cfg *dc = calloc(1, sizeof(*dc));
	struct pcitsm_machine_cfg mc;
	pcitsm_err e;

	if (!cfg || !dc) {
		free(cfg);
		free(dc);
		return PCITSM_E_NOMEM;
	}
	row->switches = pcitsm_emu_config_spread(cfg, n, row->sw_ports);
	dc->curve_bits = curve_bits;
	pcitsm_machine_cfg_default(&mc, env);
	mc.plat = cfg;
	mc.devs = dc;
	row->heap_plat = heap_now();
	e = pcitsm_machine_build(s, &mc, PCITSM_MACHINE_PLATFORM, NULL);
	row->heap_plat = heap_now() - row->heap_plat;
	if (!e)
		e = pcitsm_machine_build(s, &mc, PCITSM_MACHINE_TRUST, NULL);
	row->heap_devs = heap_now();
	if (!e)
		e = pcitsm_machine_build(s, &mc, PCITSM_MACHINE_DEVICES, NULL);
	row->heap_devs = heap_now() - row->heap_devs;
	if (!e)
		e = pcitsm_machine_build(s, &mc, PCITSM_MACHINE_CORE, NULL);
	free(cfg);
	free(dc);
	return e;
}

static unsigned available(struct pcitsm_machine *s, unsigned *pool)
{
	struct pcitsm_tsm_hb_info hb;

	if (pcitsm_tsm_host_bridge(s->core, 0, &hb) != PCITSM_OK)
		return 0;
	*pool = hb.nr_streams;
	return hb.nr_streams - hb.h_in_use;
}

/* The calling thread's CPU time: on a shared machine, time spent descheduled counts for no row. */
static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Connect endpoint 0..n-1 (funcs[n + i], the platform's order), then disconnect them all. */
static pcitsm_err scale_round(unsigned n, unsigned curve_bits, const struct pcitsm_env *env,
			      struct scale_row *row)
{
	struct pcitsm_machine s = { 0 };
	long m0, m1;
	double t0, t1, c0;
	pcitsm_err e;
	int rc = 0;

	m0 = heap_now();
	e = scale_new(&s, n, curve_bits, env, row);
	if (e) {
		pcitsm_machine_free(&s);
		return e;
	}
	m1 = heap_now();
	row->n = n;
	row->heap_total = m1 - m0;
	t0 = bench_now();
	c0 = thread_cpu_s();
	for (unsigned i = 0; i < n && !rc; i++)
		rc = pcitsm_tsm_connect_write(s.core, &s.plat.funcs[n + i].bdf, "tsm0", 4);
	row->connect_cpu_s = thread_cpu_s() - c0;
	t1 = bench_now();
	row->connect_s = t1 - t0;
	m0 = heap_now();
	row->heap_conn = m0 - m1;
	row->heap_total += row->heap_conn;
	row->avail_connected = available(&s, &row->pool);
	for (unsigned i = 0; i < n && !rc; i++)
		rc = pcitsm_tsm_disconnect_write(s.core, &s.plat.funcs[n + i].bdf, "tsm0", 4);
	row->disconnect_s = bench_now() - t1;
	row->avail_after = available(&s, &row->pool);
	pcitsm_machine_free(&s);
	if (rc)
		return PCITSM_E_IO;
	/* Every device holds one stream while connected, none afterwards. */
	if (row->avail_connected != row->pool - n || row->avail_after != row->pool)
		return PCITSM_E_STATE;
	return PCITSM_OK;
}

/* One row of the --json document (bench.h): per device count. connect_ms is the per-device
 * connect time that `make plots` draws against the count. */
static void row_json(json_object *o, const struct scale_row *r)
{
	bench_set_int(o, "devices", r->n);
	bench_set_num(o, "connect_ms", 1e3 * r->connect_s / r->n);
	bench_set_num(o, "connect_cpu_ms_per_device", 1e3 * r->connect_cpu_s / r->n);
	bench_set_num(o, "disconnect_ms_per_device", 1e3 * r->disconnect_s / r->n);
	bench_set_int(o, "heap_bytes_per_connection", r->heap_conn / (long)r->n);
	bench_set_int(o, "heap_bytes_total_connected", r->heap_total);
	bench_set_int(o, "heap_bytes_platform", r->heap_plat);
	bench_set_int(o, "heap_bytes_devices", r->heap_devs);
	bench_set_int(o, "available_secure_streams_connected", r->avail_connected);
	bench_set_int(o, "available_secure_streams_after", r->avail_after);
	bench_set_int(o, "switches", r->switches);
	bench_set_int(o, "switch_ports", r->switches ? r->sw_ports : 0);
}

/* --switch-ports K: endpoints below switches of K Downstream Ports where the count allows
 * (pcitsm_emu_config_spread). */
static int parse_sw_ports(const char *arg, void *out)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end || !v || v > PCITSM_EMU_MAX_SWITCH_PORTS)
		return -1;
	*(unsigned *)out = (unsigned)v;
	return 0;
}

/* --devices 1,16,64,255: ascending counts in 1..PCITSM_EMU_MAX_PORTS, at most 8. */
struct scale_counts {
	unsigned v[8];
	unsigned n;
};

static int parse_counts(const char *arg, void *out)
{
	struct scale_counts *c = out;
	const char *p = arg;

	c->n = 0;
	while (*p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || !v || v > PCITSM_EMU_MAX_PORTS || c->n == 8 ||
		    (c->n && v <= c->v[c->n - 1]) || (*end && *end != ','))
			return -1;
		c->v[c->n++] = (unsigned)v;
		p = *end ? end + 1 : end;
	}
	return c->n ? 0 : -1;
}

static void print_text(const struct scale_row *rows, unsigned nr, unsigned curve_bits,
		       const struct scale_row *base, const struct scale_row *top)
{
	printf("scale: emulated platform, one host bridge, %s; "
	       "platform-firmware TSM (SEV-TIO model), ECDSA P-%u device identities\n",
	       rows[0].sw_ports ? "endpoints below switches where the count allows"
				: "a root port per endpoint",
	       curve_bits);
	printf("%8s %9s %14s %14s %14s %14s %16s %8s\n", "devices", "switches", "connect ms/dev",
	       "CPU ms/dev", "disconn ms/dev", "heap B/conn", "heap total B", "pool");
	for (unsigned i = 0; i < nr; i++)
		printf("%8u %4u x %-2u %14.3f %14.3f %14.3f %14ld %16ld %4u/%u\n", rows[i].n,
		       rows[i].switches, rows[i].switches ? rows[i].sw_ports : 0,
		       1e3 * rows[i].connect_s / rows[i].n, 1e3 * rows[i].connect_cpu_s / rows[i].n,
		       1e3 * rows[i].disconnect_s / rows[i].n,
		       rows[i].heap_conn / (long)rows[i].n, rows[i].heap_total,
		       rows[i].avail_connected, rows[i].pool);
	if (base && top && top != base) {
		double r = (top->connect_cpu_s / top->n) / (base->connect_cpu_s / base->n);

		printf("  ratio per-device connect CPU time %u vs %u devices: %.2f (target <= %.1f: %s)\n",
		       top->n, base->n, r, SCALE_TARGET, r <= SCALE_TARGET ? "met" : "NOT met");
	}
	if (top)
		printf("  heap with %u devices connected: %ld bytes (%.1f MiB; platform %.1f MiB, "
		       "devices %.1f MiB)\n",
		       top->n, top->heap_total, (double)top->heap_total / (1 << 20),
		       (double)top->heap_plat / (1 << 20), (double)top->heap_devs / (1 << 20));
}

static int bench_scale_run(int argc, char **argv)
{
	struct scale_counts counts = { { 1, 16, 64, 255 }, 4 };
	struct scale_row rows[8] = { 0 };
	const struct scale_row *base = NULL, *top = NULL;
	double seconds = 0;
	unsigned curve_bits = 384, sw_ports = 0;
	bool json = false;
	struct bench_report rep;
	int nargs = 0;
	char *args[16];
	const struct bench_opt opts[] = {
		{ "--seconds", bench_parse_seconds, &seconds },
		{ "--curve", bench_parse_curve, &curve_bits },
		{ "--devices", parse_counts, &counts },
		{ "--switch-ports", parse_sw_ports, &sw_ports },
	};

	/* --json takes no value: take it out before the pairs are read. */
	for (int i = 0; i < argc && nargs < (int)PCITSM_ARRAY_SIZE(args); i++)
		if (strcmp(argv[i], "--json"))
			args[nargs++] = argv[i];
		else
			json = true;
	if (nargs == (int)PCITSM_ARRAY_SIZE(args) ||
	    bench_opts_parse(nargs, args, opts, PCITSM_ARRAY_SIZE(opts)) < 0) {
		fprintf(stderr, "usage: pcitsm bench scale [--devices N,N,...] [--switch-ports K] "
				"[--curve p256|p384] [--seconds S] [--json]\n");
		return CLI_EXIT_USAGE;
	}
	/* A quick run (--seconds under 1, the test suite's): 1, 16 and 32 devices, P-256. */
	if (seconds > 0 && seconds < 1) {
		counts = (struct scale_counts){ { 1, SCALE_BASE, 2 * SCALE_BASE }, 3 };
		curve_bits = 256;
	}
	bench_report_init(&rep, "scale", json);
	bench_set_int(rep.doc, "curve_bits", curve_bits);
	bench_progress_steps(&rep, counts.n);
	for (unsigned i = 0; i < counts.n; i++) {
		pcitsm_err e;

		bench_progress(&rep, "%u devices", counts.v[i]);
		rows[i].sw_ports = sw_ports;
		e = scale_round(counts.v[i], curve_bits, pcitsm_env_default(), &rows[i]);
		if (e)
			return bench_report_finish(
				&rep, cli_failf("bench scale: %u devices: %s", counts.v[i],
						e == PCITSM_E_STATE ? "the stream pool did not follow"
								    : pcitsm_err_str(e)));
		if (rows[i].n == SCALE_BASE)
			base = &rows[i];
		top = &rows[i];
		row_json(bench_row(&rep), &rows[i]);
	}
	if (bench_text(&rep))
		print_text(rows, counts.n, curve_bits, base, top);
	if (base && top && top != base) {
		bench_set_num(rep.doc, "ratio_per_device_connect",
			      (top->connect_cpu_s / top->n) / (base->connect_cpu_s / base->n));
		bench_set_num(rep.doc, "ratio_target", SCALE_TARGET);
	}
	bench_set_int(rep.doc, "heap_bytes_total_largest", top ? top->heap_total : 0);
	return bench_report_finish(&rep, 0);
}

const struct bench bench_scale = {
	.name = "scale",
	.summary = "connect time and heap per device for 1, 16, 64 and 255 devices under one host "
		   "bridge; the 255-vs-16 per-device ratio (target 1.2) and the heap of 255 connected",
	.run = bench_scale_run,
};
