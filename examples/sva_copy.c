/* SPDX-License-Identifier: MIT */
/*
 * A user-space driver for the example SVA DMA device: malloc two buffers and have the device copy,
 * fill, compare and checksum them through plain pointers (no bounce buffers, no IOVA mappings).
 * docs/sva.md walks through it.
 *
 *   sva_copy --socket PATH [--device N] [--size BYTES]     the emulated device (pcitsmd --sva-socket)
 *   sva_copy --uio BDF [--sysfs DIR]                        a real function bound to uio_pci_sva
 *
 * Exit status: 0 when every result checked out, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/sva.h"
#include "sva_opts.h"

static int check(const char *what, pcitsm_err e, const struct pcitsm_sva_comp *c, uint8_t want)
{
	if (e) {
		fprintf(stderr, "%s: %s\n", what, pcitsm_err_str(e));
		return 1;
	}
	if (c->status != want) {
		fprintf(stderr, "%s: %s (fault at 0x%llx)\n", what, pcitsm_sva_status_name(c->status),
			(unsigned long long)c->fault_addr);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sva_opts o = { .accept = SVA_OPT_UIO,
			      .name = "sva_copy",
			      .usage = "sva_copy --socket PATH [--device N] [--size BYTES] | "
				       "--uio BDF [--sysfs DIR]" };
	size_t size;
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring ring;
	struct pcitsm_sva_comp c = { 0 }; /* a submit that fails leaves it so */
	uint8_t *src, *dst, *comp;
	char why[256] = "";
	bool filled;
	int bad = 0, rc;
	pcitsm_err e;

	rc = sva_opts_parse(&o, argc, argv);
	if (rc)
		return rc;
	size = o.size;
	/* 1. open the device: this binds our address space and gives us our PASID */
	if (o.sock) {
		e = pcitsm_sva_open_emu(o.sock, o.index, &dev, why, sizeof(why));
	} else {
		struct pcitsm_bdf bdf;

		e = pcitsm_bdf_parse(o.bdf, &bdf);
		if (!e)
			e = pcitsm_sva_open_uio(o.sysfs, "/dev", &bdf, &dev, why, sizeof(why));
	}
	if (e) {
		fprintf(stderr, "sva_copy: open: %s (errno %d as the driver gives it)\n",
			why[0] ? why : pcitsm_err_str(e), pcitsm_sva_errno(e));
		return 1;
	}
	printf("bound: PASID %u\n", pcitsm_sva_pasid(dev));
	/* 2. the ring in our memory; the device gets our PASID in its PASID register */
	e = pcitsm_sva_ring_init(&ring, dev, 64);
	if (e) {
		fprintf(stderr, "sva_copy: ring: %s\n", pcitsm_err_str(e));
		(void)pcitsm_sva_close(dev);
		return 1;
	}
	/* 3. plain malloc'ed buffers, handed over as pointers */
	src = malloc(size);
	dst = malloc(size);
	comp = aligned_alloc(PCITSM_SVA_COMP_SIZE, PCITSM_SVA_COMP_SIZE);
	if (!src || !dst || !comp) {
		fprintf(stderr, "sva_copy: out of memory\n");
		free(src);
		free(dst);
		free(comp);
		pcitsm_sva_ring_fini(&ring);
		(void)pcitsm_sva_close(dev);
		return 1;
	}
	for (size_t i = 0; i < size; i++)
		src[i] = (uint8_t)(i * 7 + (i >> 11));
	memset(dst, 0, size);

	/* Submit one descriptor and wait for its completion record. */
#define RUN(name, desc, want)                                                               \
	(pcitsm_sva_submit(&ring, (desc), comp)                                              \
		 ? 1                                                                         \
		 : check(name, pcitsm_sva_wait(&ring, comp, 10000, &c), &c, (want)))
	struct pcitsm_sva_desc d = { .op = PCITSM_SVA_OP_COPY, .pasid = pcitsm_sva_pasid(dev),
				     .src = (uintptr_t)src, .dst = (uintptr_t)dst, .len = size };
	bad |= RUN("copy", &d, PCITSM_SVA_ST_SUCCESS);
	if (memcmp(src, dst, size) != 0)
		bad = 1;
	printf("copy    %zu bytes: %s, destination %s\n", size, pcitsm_sva_status_name(c.status),
	       memcmp(src, dst, size) ? "DIFFERS" : "matches");

	d = (struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_COMPARE, .pasid = d.pasid,
				      .src = (uintptr_t)src, .dst = (uintptr_t)dst, .len = size };
	dst[size / 2] ^= 1;
	bad |= RUN("compare", &d, PCITSM_SVA_ST_DIFFERENT);
	printf("compare %zu bytes: %s at offset %llu\n", size, pcitsm_sva_status_name(c.status),
	       (unsigned long long)c.diff_offset);
	if (c.diff_offset != size / 2)
		bad = 1;

	d = (struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_FILL, .pasid = d.pasid,
				      .dst = (uintptr_t)dst, .len = size,
				      .pattern = 0x0123456789abcdefull };
	bad |= RUN("fill", &d, PCITSM_SVA_ST_SUCCESS);
	filled = true;
	for (size_t i = 0; i < size; i++)
		if (dst[i] != (uint8_t)(0x0123456789abcdefull >> (i % 8 * 8)))
			filled = false;
	bad |= !filled;
	printf("fill    %zu bytes: %s, pattern %s\n", size, pcitsm_sva_status_name(c.status),
	       filled ? "checked" : "WRONG");

	d = (struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_CRC32C, .pasid = d.pasid,
				      .src = (uintptr_t)src, .len = size };
	bad |= RUN("crc32c", &d, PCITSM_SVA_ST_SUCCESS);
	printf("crc32c  %zu bytes: %s, 0x%08x (CPU: 0x%08x)\n", size, pcitsm_sva_status_name(c.status),
	       c.crc, pcitsm_crc32c(0, src, size));
	if (c.crc != pcitsm_crc32c(0, src, size))
		bad = 1;

	/* 4. stop the device, then unbind (close waits until the PASID is quiesced) */
	pcitsm_sva_ring_fini(&ring);
	e = pcitsm_sva_close(dev);
	printf("unbound: %s\n", pcitsm_err_str(e));
	free(src);
	free(dst);
	free(comp);
	printf("%s\n", bad || e ? "FAILED" : "all results checked");
	return bad || e ? 1 : 0;
}
