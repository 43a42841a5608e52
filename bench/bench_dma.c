/* SPDX-License-Identifier: MIT */
/*
 * pcitsm bench dma: the example SVA device (docs/sva.md) copying buffers of 4 KiB to 64 MiB, in
 * three ways a user-space driver can hand memory to a device, each measured in the same run:
 *   sva     plain malloc'ed buffers, handed over as pointers (the device translates through the
 *           process's PASID: uio_pci_generic_sva);
 *   iova    buffers registered with the device once (pinned and mapped in its IOVA domain),
 *           the device works in them directly;
 *   bounce  the data copied by the CPU into a registered buffer, the device copies it, and the
 *           CPU copies the result out again: what a driver without SVA does for arbitrary memory;
 * each over a plaintext link and over an IDE-encrypted one (the endpoints connected by the TSM:
 * SPDM, IDE_KM, a Secure stream), beside memcpy of the same size by the CPU, the bound. Each figure
 * is throughput (bytes copied per second of wall time) and CPU time per byte (every thread of this
 * process: the driver and the emulated device, which here runs on the host's CPUs), and a ratio to
 * its baseline. The encrypted rows are also compared with `bench ide`'s own burst throughput at
 * the devices' TLP size (MPS 4096), measured in the same run: a copy moves each byte across the
 * link twice (a completion in, a write out), so the link carries 2 x size bytes per copy, and the
 * ratio is link bytes per second of CPU time over bench ide's payload bytes per second of CPU time.
 *
 * The devices are emulated in this process (pcitsm_sva_server_start_cfg), each an endpoint function
 * of an emulated platform: every access crosses its link as TLPs (docs/sva.md "DMA as TLPs"), and
 * the root port serves them through the IOMMU model (SVA: process_vm_readv/process_vm_writev into
 * this process; IOVA: copies within the device's own mapping).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/emu.h"
#include "pcitsm/machine.h"
#include "pcitsm/sva.h"
#include "pcitsm/tsm.h"

#define DMA_SECONDS_DEFAULT 8.0 /* the whole run, spread over sizes and modes */
#define DMA_MIN_SIZE (4u << 10)
#define DMA_MAX_SIZE (64u << 20)

enum dma_mode { M_MEMCPY, M_SVA, M_IOVA, M_BOUNCE, M_SVA_IDE, M_IOVA_IDE, M_BOUNCE_IDE, M_NR };
static const char *const mode_names[M_NR] = { "memcpy",  "sva",      "iova",      "bounce",
					      "sva_ide", "iova_ide", "bounce_ide" };

/* One link's two devices: SVA on one, IOVA (and bounce) on the other. */
struct dma_devs {
	struct pcitsm_sva_server *srv;
	struct pcitsm_sva_dev *dsva, *diova;
	struct pcitsm_sva_ring rsva, riova;
	uint8_t *rsrc, *rdst, *rcomp; /* registered */
	uint64_t isrc, idst;
	char sock[108];
};

/* The encrypted side: a platform whose endpoints the TSM connected. */
struct dma_bench {
	struct dma_devs plain, ide;
	struct pcitsm_machine c; /* the platform of the encrypted rows */
	uint8_t *usrc, *udst;       /* malloc'ed */
	uint8_t *comp;              /* for the SVA rings, in malloc'ed memory */
};

struct figure {
	double gbps, cpu_ns_per_byte;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pcitsm_err device_copy(struct pcitsm_sva_ring *r, uint64_t src, uint64_t dst, size_t n,
			      uint32_t pasid, volatile uint8_t *comp)
{
	struct pcitsm_sva_comp c;
	pcitsm_err e;

	e = pcitsm_sva_submit(r, &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_COPY, .pasid = pasid,
							    .src = src, .dst = dst, .len = n },
			      comp);
	if (!e)
		e = pcitsm_sva_wait(r, comp, 60000, &c);
	if (!e && c.status != PCITSM_SVA_ST_SUCCESS)
		e = PCITSM_E_PEER_ERROR;
	return e;
}

static pcitsm_err one(struct dma_bench *b, enum dma_mode m, size_t n)
{
	struct dma_devs *d = m >= M_SVA_IDE ? &b->ide : &b->plain;

	switch (m) {
	case M_MEMCPY:
		memcpy(b->udst, b->usrc, n);
		__asm__ volatile("" : : "r"(b->udst) : "memory");
		return PCITSM_OK;
	case M_SVA:
	case M_SVA_IDE:
		return device_copy(&d->rsva, (uintptr_t)b->usrc, (uintptr_t)b->udst, n,
				   pcitsm_sva_pasid(d->dsva), b->comp);
	case M_IOVA:
	case M_IOVA_IDE:
		return device_copy(&d->riova, d->isrc, d->idst, n, 0, d->rcomp);
	case M_BOUNCE:
	case M_BOUNCE_IDE: {
		pcitsm_err e;

		memcpy(d->rsrc, b->usrc, n);
		e = device_copy(&d->riova, d->isrc, d->idst, n, 0, d->rcomp);
		memcpy(b->udst, d->rdst, n);
		return e;
	}
	default:
		return PCITSM_E_INVAL;
	}
}

static pcitsm_err measure(struct dma_bench *b, enum dma_mode m, size_t n, double seconds,
			  struct figure *f)
{
	double t0, c0, t = 0;
	uint64_t reps = 0;
	pcitsm_err e;

	e = one(b, m, n); /* warm: pages touched, caches as in steady state */
	if (e)
		return e;
	t0 = bench_now();
	c0 = cpu_now();
	do {
		e = one(b, m, n);
		reps++;
		t = bench_now() - t0;
	} while (!e && t < seconds);
	if (e)
		return e;
	f->gbps = (double)n * (double)reps / t / 1e9;
	f->cpu_ns_per_byte = (cpu_now() - c0) * 1e9 / ((double)n * (double)reps);
	return PCITSM_OK;
}

/* Two devices of one server (on the given platform's first two endpoints, or the server's own):
 * the SVA ring on one, the IOVA ring and the registered buffers on the other. */
static pcitsm_err devs_setup(struct dma_devs *d, const char *tag, struct pcitsm_emu_platform *plat)
{
	struct pcitsm_sva_server_cfg cfg = { .ndev = 2, .platform = plat };
	char why[200];
	void *p;
	pcitsm_err e;

	snprintf(d->sock, sizeof(d->sock), "/tmp/pcitsm-bench-dma-%s-%ld.sock", tag, (long)getpid());
	cfg.socket_path = d->sock;
	if (plat) {
		cfg.ep[0] = plat->links[0].ep;
		cfg.ep[1] = plat->links[1].ep;
	}
	e = pcitsm_sva_server_start_cfg(&cfg, &d->srv);
	if (!e)
		e = pcitsm_sva_open_emu(d->sock, 0, &d->dsva, why, sizeof(why));
	if (!e)
		e = pcitsm_sva_open_emu(d->sock, 1, &d->diova, why, sizeof(why));
	if (!e)
		e = pcitsm_sva_ring_init(&d->rsva, d->dsva, 16);
	if (!e)
		e = pcitsm_sva_ring_init_iova(&d->riova, d->diova, 16);
	if (!e)
		e = pcitsm_sva_dma_alloc(d->diova, DMA_MAX_SIZE, &p, &d->isrc);
	if (!e) {
		d->rsrc = p;
		e = pcitsm_sva_dma_alloc(d->diova, DMA_MAX_SIZE, &p, &d->idst);
	}
	if (!e) {
		d->rdst = p;
		e = pcitsm_sva_dma_alloc(d->diova, 4096, &p, &(uint64_t){ 0 });
	}
	if (e)
		return e;
	d->rcomp = p;
	memset(d->rdst, 0, DMA_MAX_SIZE);
	return PCITSM_OK;
}

static void devs_teardown(struct dma_devs *d)
{
	if (d->rsva.slots)
		pcitsm_sva_ring_fini(&d->rsva);
	if (d->riova.slots)
		pcitsm_sva_ring_fini(&d->riova);
	(void)pcitsm_sva_close(d->dsva);
	(void)pcitsm_sva_close(d->diova);
	pcitsm_sva_server_stop(d->srv);
}

/* The platform of the encrypted rows: both endpoints connected (echo tsm0 > tsm/connect). */
static pcitsm_err connected_setup(struct pcitsm_machine *c)
{
	struct pcitsm_emu_devices_cfg dc = { .curve_bits = 256 };
	struct pcitsm_machine_cfg mc;

	pcitsm_machine_cfg_default(&mc, pcitsm_env_default());
	mc.devs = &dc;
	PCITSM_TRY(pcitsm_machine_build(c, &mc, PCITSM_MACHINE_CORE, NULL));
	for (unsigned i = 0; i < 2; i++)
		if (pcitsm_tsm_connect_write(c->core, &c->plat.links[i].ep->bdf, "tsm0", 4) != 0)
			return PCITSM_E_STATE;
	return PCITSM_OK;
}

/* The benchmark's own buffers (memcpy's, SVA's, and bounce's source and destination alike): 2 MiB
 * aligned and MADV_HUGEPAGE, so that every mode that touches them works on the same huge pages
 * (for SVA this also shortens the kernel's page walk behind process_vm_readv/writev). */
static uint8_t *huge_alloc(size_t n)
{
	uint8_t *p = aligned_alloc(2u << 20, n);

	if (p)
		(void)madvise(p, n, MADV_HUGEPAGE); /* advice: without it, 4 KiB pages */
	return p;
}

static pcitsm_err setup(struct dma_bench *b)
{
	PCITSM_TRY(devs_setup(&b->plain, "plain", NULL));
	PCITSM_TRY(connected_setup(&b->c));
	PCITSM_TRY(devs_setup(&b->ide, "ide", &b->c.plat));
	b->usrc = huge_alloc(DMA_MAX_SIZE);
	b->udst = huge_alloc(DMA_MAX_SIZE);
	b->comp = aligned_alloc(64, 64);
	if (!b->usrc || !b->udst || !b->comp)
		return PCITSM_E_NOMEM;
	for (size_t i = 0; i < DMA_MAX_SIZE; i++)
		b->usrc[i] = (uint8_t)(i * 131 + 17);
	memset(b->udst, 0, DMA_MAX_SIZE);
	return PCITSM_OK;
}

static void teardown(struct dma_bench *b)
{
	devs_teardown(&b->plain);
	devs_teardown(&b->ide); /* the devices before the platform they sit on */
	pcitsm_machine_free(&b->c);
	free(b->usrc);
	free(b->udst);
	free(b->comp);
}

static void print_row(size_t n, const struct figure *f, double ide_gbps)
{
	char sz[16];

	if (n >= 1u << 20)
		snprintf(sz, sizeof(sz), "%zu MiB", n >> 20);
	else
		snprintf(sz, sizeof(sz), "%zu KiB", n >> 10);
	printf("%7s %7.2f | %6.2f %6.2f %6.2f %5.2f %5.2f | %6.2f %6.2f %6.2f %5.2f %5.2f | "
	       "%.2f %.2f %.2f %.2f %.2f %.2f %.2f\n",
	       sz, f[M_MEMCPY].gbps, f[M_SVA].gbps, f[M_IOVA].gbps, f[M_BOUNCE].gbps,
	       f[M_SVA].gbps / f[M_BOUNCE].gbps, f[M_SVA].gbps / f[M_MEMCPY].gbps, f[M_SVA_IDE].gbps,
	       f[M_IOVA_IDE].gbps, f[M_BOUNCE_IDE].gbps, f[M_SVA_IDE].gbps / f[M_BOUNCE_IDE].gbps,
	       2.0 / f[M_SVA_IDE].cpu_ns_per_byte / ide_gbps, f[M_MEMCPY].cpu_ns_per_byte,
	       f[M_SVA].cpu_ns_per_byte, f[M_IOVA].cpu_ns_per_byte, f[M_BOUNCE].cpu_ns_per_byte,
	       f[M_SVA_IDE].cpu_ns_per_byte, f[M_IOVA_IDE].cpu_ns_per_byte,
	       f[M_BOUNCE_IDE].cpu_ns_per_byte);
	fflush(stdout);
}

static void json_row(json_object *row, size_t n, const struct figure *f, double ide_gbps)
{
	json_object_object_add(row, "size", json_object_new_int64((int64_t)n));
	for (int m = 0; m < M_NR; m++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "gbps", json_object_new_double(f[m].gbps));
		json_object_object_add(o, "cpu_ns_per_byte",
				       json_object_new_double(f[m].cpu_ns_per_byte));
		json_object_object_add(o, "ratio_to_memcpy",
				       json_object_new_double(f[m].gbps / f[M_MEMCPY].gbps));
		json_object_object_add(row, mode_names[m], o);
	}
	json_object_object_add(row, "sva_to_bounce",
			       json_object_new_double(f[M_SVA].gbps / f[M_BOUNCE].gbps));
	json_object_object_add(row, "sva_ide_to_bounce_ide",
			       json_object_new_double(f[M_SVA_IDE].gbps / f[M_BOUNCE_IDE].gbps));
	/* link bytes (2 x size per copy) per CPU second over bench ide's, per CPU second */
	json_object_object_add(row, "sva_ide_to_bench_ide",
			       json_object_new_double(2.0 / f[M_SVA_IDE].cpu_ns_per_byte / ide_gbps));
}

static int bench_dma_run(int argc, char **argv)
{
	double seconds = DMA_SECONDS_DEFAULT, ide_gbps;
	struct dma_bench b = { 0 };
	bool json = false;
	struct bench_report rep;
	pcitsm_err e;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = strtod(argv[++i], NULL);
			if (seconds <= 0)
				return cli_usage("bench");
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr, "usage: pcitsm bench dma [--seconds S] [--json]\n");
			return CLI_EXIT_USAGE;
		}
	}
	/* --seconds is the whole run's budget, spread over every size and mode, and bench ide */
	seconds /= 8.0 * M_NR + 1;
	bench_report_init(&rep, "dma", json);
	bench_set_num(rep.doc, "mps", PCITSM_TLP_DATA_MAX);
	bench_set_str(rep.doc, "link", "plaintext and IDE-encrypted"); /* both, in every row */
	bench_progress_steps(&rep, 9);
	bench_progress(&rep, "bench ide, 4096-byte TLPs");
	e = setup(&b);
	if (e) {
		teardown(&b);
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		return cli_fail("bench dma: set-up", e);
	}
	ide_gbps = bench_ide_burst_gbps(PCITSM_TLP_DATA_MAX, seconds);
	if (ide_gbps <= 0) {
		teardown(&b);
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		return cli_fail("bench dma: bench ide's figure", PCITSM_E_SYSTEM);
	}
	bench_set_num(rep.doc, "bench_ide_gbps", ide_gbps);
	if (bench_text(&rep)) {
		printf("DMA copy by the emulated SVA device (docs/sva.md), GB/s; plaintext link, then "
		       "IDE-encrypted link; bench ide (4096-byte TLPs, b32): %.2f GB/s per CPU\n"
		       "s/b, s/mc, s/ide: SVA's ratio to bounce, to memcpy, and (link bytes per CPU "
		       "second) to bench ide\n",
		       ide_gbps);
		printf("%7s %7s | %6s %6s %6s %5s %5s | %6s %6s %6s %5s %5s | %s\n", "size",
		       "memcpy", "sva", "iova", "bounce", "s/b", "s/mc", "sva", "iova", "bounce",
		       "s/b", "s/ide", "CPU ns/B: memcpy sva iova bounce sva iova bounce (ide)");
	}
	for (size_t n = DMA_MIN_SIZE; n <= DMA_MAX_SIZE && !rc; n *= 4) {
		struct figure f[M_NR];

		bench_progress(&rep, "%zu KiB", n >> 10);
		for (int m = 0; m < M_NR && !rc; m++) {
			e = measure(&b, (enum dma_mode)m, n, seconds, &f[m]);
			if (e)
				rc = cli_fail("bench dma", e);
			/* the device really copied: the SVA and bounce runs leave src in udst */
			if (!rc && m != M_IOVA && m != M_IOVA_IDE && memcmp(b.usrc, b.udst, n))
				rc = cli_failf("bench dma: %s, %zu bytes: the copy is wrong",
					       mode_names[m], n);
			if (!rc)
				memset(b.udst, 0, n);
		}
		if (rc)
			break;
		json_row(bench_row(&rep), n, f, ide_gbps);
		if (bench_text(&rep))
			print_row(n, f, ide_gbps);
	}
	rc = bench_report_finish(&rep, rc);
	teardown(&b);
	return rc;
}

const struct bench bench_dma = {
	.name = "dma",
	.summary = "SVA vs registered (IOVA) vs bounce-buffer DMA as TLPs, plaintext and IDE links, "
		   "4 KiB to 64 MiB, beside memcpy and bench ide",
	.run = bench_dma_run,
};
