/* SPDX-License-Identifier: MIT */
/*
 * A confidential user-space driver: bind an SVA device that is a TDI (its endpoint connected, the
 * TDI locked and accepted: RUN), set the queue's T bit, and have the device copy a malloc'ed buffer
 * over the Secure IDE stream with T=1 DMA, then check the data. docs/sva.md "T=1".
 *
 *   sva_tee --socket PATH [--device N] [--size BYTES] [--status FILE]
 *
 * --status: the endpoint's status file in pcitsmd's project directory
 * (MOUNT/pcitsm/devices/<BDF>/status), whose stream= and tdi_state= lines are printed beside what
 * the device did. Exit status: 0 when the copy succeeded and the data checked, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/sva.h"
#include "sva_opts.h"

/* The value of "key=" in the status file, or "-". */
static void status_value(const char *file, const char *key, char *out, size_t cap)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f = file ? fopen(file, "r") : NULL;

	snprintf(out, cap, "-");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, cap, "%s", line + kl + 1);
		}
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct sva_opts o = { .accept = SVA_OPT_STATUS,
			      .name = "sva_tee",
			      .usage = "sva_tee --socket PATH [--device N] [--size BYTES] "
				       "[--status FILE]" };
	size_t size;
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring ring;
	struct pcitsm_sva_comp c = { 0 };
	uint8_t *src, *dst, *comp;
	char why[256] = "", stream[64], tdi[64];
	uint32_t qerr = 0;
	bool same;
	pcitsm_err e;
	int rc;

	rc = sva_opts_parse(&o, argc, argv);
	if (rc)
		return rc;
	size = o.size;
	status_value(o.status, "stream", stream, sizeof(stream));
	status_value(o.status, "tdi_state", tdi, sizeof(tdi));
	e = pcitsm_sva_open_emu(o.sock, o.index, &dev, why, sizeof(why));
	if (e) {
		fprintf(stderr, "sva_tee: open: %s\n", why[0] ? why : pcitsm_err_str(e));
		return 1;
	}
	printf("bound: device %u, PASID %u; stream %s, TDI %s\n", o.index, pcitsm_sva_pasid(dev),
	       stream, tdi);
	/* The queue's requests carry T=1: they reach our memory only while the TDI is RUN. */
	e = pcitsm_sva_ring_init_tee(&ring, dev, 16);
	src = malloc(size);
	dst = calloc(1, size);
	comp = aligned_alloc(PCITSM_SVA_COMP_SIZE, PCITSM_SVA_COMP_SIZE);
	if (e || !src || !dst || !comp) {
		fprintf(stderr, "sva_tee: set-up: %s\n", pcitsm_err_str(e ? e : PCITSM_E_NOMEM));
		free(src);
		free(dst);
		free(comp);
		(void)pcitsm_sva_close(dev);
		return 1;
	}
	for (size_t i = 0; i < size; i++)
		src[i] = (uint8_t)(i * 13 + (i >> 12));
	e = pcitsm_sva_submit(&ring,
			      &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_COPY,
							 .pasid = pcitsm_sva_pasid(dev),
							 .src = (uintptr_t)src,
							 .dst = (uintptr_t)dst, .len = size },
			      comp);
	/* Wait for the completion record, or a queue error: a T=1 fetch of the ring itself that
	 * faults (the TDI not in RUN) stops the queue before any record can be written. */
	for (int i = 0; !e && i < 100; i++) {
		e = pcitsm_sva_wait(&ring, comp, 100, &c);
		qerr = *(volatile uint32_t *)(ring.regs + PCITSM_SVA_REG_ERROR);
		if (e == PCITSM_E_TIMEOUT && !qerr)
			e = PCITSM_OK, c.status = PCITSM_SVA_ST_PENDING;
		else if (e == PCITSM_E_TIMEOUT)
			break;
		if (!e && c.status != PCITSM_SVA_ST_PENDING)
			break;
	}
	same = !e && !memcmp(src, dst, size);
	if (e)
		printf("T=1 copy %zu bytes: %s, queue error %u (the device stopped at its first "
		       "T=1 request)\n",
		       size, pcitsm_err_str(e), qerr);
	else
		printf("T=1 copy %zu bytes: %s, %llu bytes done, destination %s\n", size,
		       pcitsm_sva_status_name(c.status), (unsigned long long)c.bytes_done,
		       same ? "matches" : "DIFFERS");
	pcitsm_sva_ring_fini(&ring);
	e = pcitsm_sva_close(dev) ? PCITSM_E_BUSY : e;
	free(src);
	free(dst);
	free(comp);
	same = same && c.status == PCITSM_SVA_ST_SUCCESS && !e;
	printf("%s\n", same ? "T=1 DMA over the Secure stream checked" : "FAILED");
	return same ? 0 : 1;
}
