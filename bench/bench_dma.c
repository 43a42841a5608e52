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
 * beside memcpy of the same size by the CPU, the bound. Each figure is throughput (bytes moved
 * per second of wall time) and CPU time per byte (every thread of this process: the driver and the
 * emulated device, which here runs on the host's CPUs), and a ratio to its baseline.
 *
 * The device is emulated in this process (pcitsm_sva_server_start): SVA accesses are
 * process_vm_readv/process_vm_writev, IOVA accesses are copies within the device's own mapping.
 * The link is not in the path (plaintext, no TLPs): an IDE-encrypted link is not measured here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"
#include "cli.h"
#include "pcitsm/sva.h"

#define DMA_SECONDS_DEFAULT 8.0 /* the whole run, spread over sizes and modes */
#define DMA_MIN_SIZE (4u << 10)
#define DMA_MAX_SIZE (64u << 20)

enum dma_mode { M_MEMCPY, M_SVA, M_IOVA, M_BOUNCE, M_NR };
static const char *const mode_names[M_NR] = { "memcpy", "sva", "iova", "bounce" };

struct dma_bench {
	struct pcitsm_sva_server *srv;
	struct pcitsm_sva_dev *dsva, *diova;
	struct pcitsm_sva_ring rsva, riova;
	uint8_t *usrc, *udst;       /* malloc'ed */
	uint8_t *rsrc, *rdst, *rcomp; /* registered */
	uint64_t isrc, idst;
	uint8_t *comp;              /* for the SVA ring, in malloc'ed memory */
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
	switch (m) {
	case M_MEMCPY:
		memcpy(b->udst, b->usrc, n);
		__asm__ volatile("" : : "r"(b->udst) : "memory");
		return PCITSM_OK;
	case M_SVA:
		return device_copy(&b->rsva, (uintptr_t)b->usrc, (uintptr_t)b->udst, n,
				   pcitsm_sva_pasid(b->dsva), b->comp);
	case M_IOVA:
		return device_copy(&b->riova, b->isrc, b->idst, n, 0, b->rcomp);
	case M_BOUNCE: {
		pcitsm_err e;

		memcpy(b->rsrc, b->usrc, n);
		e = device_copy(&b->riova, b->isrc, b->idst, n, 0, b->rcomp);
		memcpy(b->udst, b->rdst, n);
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

static pcitsm_err setup(struct dma_bench *b, const char *sock)
{
	char why[200];
	void *p;
	pcitsm_err e;

	e = pcitsm_sva_server_start(sock, 2, NULL, &b->srv);
	if (e)
		return e;
	e = pcitsm_sva_open_emu(sock, 0, &b->dsva, why, sizeof(why));
	if (!e)
		e = pcitsm_sva_open_emu(sock, 1, &b->diova, why, sizeof(why));
	if (!e)
		e = pcitsm_sva_ring_init(&b->rsva, b->dsva, 16);
	if (!e)
		e = pcitsm_sva_ring_init_iova(&b->riova, b->diova, 16);
	if (!e)
		e = pcitsm_sva_dma_alloc(b->diova, DMA_MAX_SIZE, &p, &b->isrc);
	if (!e) {
		b->rsrc = p;
		e = pcitsm_sva_dma_alloc(b->diova, DMA_MAX_SIZE, &p, &b->idst);
	}
	if (!e) {
		b->rdst = p;
		e = pcitsm_sva_dma_alloc(b->diova, 4096, &p, &(uint64_t){ 0 });
	}
	if (e)
		return e;
	b->rcomp = p;
	b->usrc = malloc(DMA_MAX_SIZE);
	b->udst = malloc(DMA_MAX_SIZE);
	b->comp = aligned_alloc(64, 64);
	if (!b->usrc || !b->udst || !b->comp)
		return PCITSM_E_NOMEM;
	for (size_t i = 0; i < DMA_MAX_SIZE; i++)
		b->usrc[i] = (uint8_t)(i * 131 + 17);
	memset(b->udst, 0, DMA_MAX_SIZE);
	memset(b->rdst, 0, DMA_MAX_SIZE);
	return PCITSM_OK;
}

static void teardown(struct dma_bench *b)
{
	if (b->rsva.slots)
		pcitsm_sva_ring_fini(&b->rsva);
	if (b->riova.slots)
		pcitsm_sva_ring_fini(&b->riova);
	(void)pcitsm_sva_close(b->dsva);
	(void)pcitsm_sva_close(b->diova);
	pcitsm_sva_server_stop(b->srv);
	free(b->usrc);
	free(b->udst);
	free(b->comp);
}

static int bench_dma_run(int argc, char **argv)
{
	double seconds = DMA_SECONDS_DEFAULT;
	struct dma_bench b = { 0 };
	bool json = false;
	char sock[108];
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
	/* --seconds is the whole run's budget, spread over every size and mode */
	seconds /= 8.0 * M_NR;
	bench_report_init(&rep, "dma", json);
	bench_set_str(rep.doc, "link", "plaintext");
	bench_progress_steps(&rep, 8);
	snprintf(sock, sizeof(sock), "/tmp/pcitsm-bench-dma-%ld.sock", (long)getpid());
	e = setup(&b, sock);
	if (e) {
		teardown(&b);
		bench_report_finish(&rep, CLI_EXIT_FAIL);
		return cli_fail("bench dma: set-up", e);
	}
	if (bench_text(&rep)) {
		printf("DMA copy by the emulated SVA device (docs/sva.md), plaintext link; each mode's "
		       "ratio to memcpy, and SVA's ratio to bounce\n");
		printf("%9s %9s %9s %6s %9s %6s %9s %6s %11s   %s\n", "size", "memcpy", "sva", "ratio",
		       "iova", "ratio", "bounce", "ratio", "sva/bounce",
		       "CPU ns/B memcpy sva iova bounce");
		printf("%9s %9s %9s %6s %9s %6s %9s %6s %11s\n", "", "GB/s", "GB/s", "", "GB/s", "",
		       "GB/s", "", "ratio");
	}
	for (size_t n = DMA_MIN_SIZE; n <= DMA_MAX_SIZE && !rc; n *= 4) {
		struct figure f[M_NR];
		json_object *row = json_object_new_object();

		bench_progress(&rep, "%zu KiB", n >> 10);
		for (int m = 0; m < M_NR && !rc; m++) {
			e = measure(&b, (enum dma_mode)m, n, seconds, &f[m]);
			if (e)
				rc = cli_fail("bench dma", e);
		}
		if (rc) {
			json_object_put(row);
			break;
		}
		/* the device really copied: the last SVA and bounce runs left src in udst */
		if (memcmp(b.usrc, b.udst, n)) {
			json_object_put(row);
			rc = cli_failf("bench dma: %zu bytes: the copy is wrong", n);
			break;
		}
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
		json_object_array_add(rep.rows, row);
		if (bench_text(&rep)) {
			char sz[16];

			if (n >= 1u << 20)
				snprintf(sz, sizeof(sz), "%zu MiB", n >> 20);
			else
				snprintf(sz, sizeof(sz), "%zu KiB", n >> 10);
			printf("%9s %9.2f %9.2f %6.2f %9.2f %6.2f %9.2f %6.2f %11.2f   %.2f %.2f %.2f "
			       "%.2f\n",
			       sz, f[M_MEMCPY].gbps, f[M_SVA].gbps, f[M_SVA].gbps / f[M_MEMCPY].gbps,
			       f[M_IOVA].gbps, f[M_IOVA].gbps / f[M_MEMCPY].gbps, f[M_BOUNCE].gbps,
			       f[M_BOUNCE].gbps / f[M_MEMCPY].gbps, f[M_SVA].gbps / f[M_BOUNCE].gbps,
			       f[M_MEMCPY].cpu_ns_per_byte, f[M_SVA].cpu_ns_per_byte,
			       f[M_IOVA].cpu_ns_per_byte, f[M_BOUNCE].cpu_ns_per_byte);
			fflush(stdout);
		}
	}
	rc = bench_report_finish(&rep, rc);
	teardown(&b);
	return rc;
}

const struct bench bench_dma = {
	.name = "dma",
	.summary = "SVA vs registered (IOVA) vs bounce-buffer DMA, 4 KiB to 64 MiB, beside memcpy",
	.run = bench_dma_run,
};
