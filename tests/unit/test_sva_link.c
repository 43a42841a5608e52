/* SPDX-License-Identifier: MIT */
/*
 * The SVA device's DMA as TLPs across its emulated link (docs/sva.md "DMA as TLPs"), seen from the
 * wire's tap and from both ends: every request carries the PASID prefix and respects MPS / MRRS;
 * completions split by the completer and reordered on the wire are gathered by tag; on an
 * unconnected link the data is in the clear, on a connected one (Secure stream) the tap sees only
 * ciphertext while the data arrives intact, and no byte of the stream's IDE keys or of the TSM's
 * session secrets crosses it (the hostile-host scan of docs/security.md, for SVA DMA); T=1 DMA works only while the TDI is RUN (faults in
 * CONFIG_UNLOCKED, CONFIG_LOCKED, ERROR, and on a link without a Secure stream), and the TDI's
 * report advertises DMA_WITH_PASID.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcitsm/machine.h"
#include "pcitsm/sva.h"
#include "sva/sva_priv.h"
#include "tsmfw/fw_test.h"

static const char PATTERN[16] = "SVA-SECRET-PATT!";

/* The IDE keys the device was given during connect (IDE_KM KEY_PROG byte order), and every byte
 * the tap saw, for the secret scan. */
static struct {
	uint8_t key[16][32];
	unsigned nkeys;
	uint8_t *wire;
	size_t len, cap;
} scan;

static void key_seen(void *arg, const uint8_t key[32], const uint8_t ifv[8])
{
	(void)arg;
	(void)ifv;
	assert_true(scan.nkeys < 16);
	memcpy(scan.key[scan.nkeys++], key, 32);
}

static void scan_keep(const uint8_t *p, size_t n)
{
	if (scan.len + n > scan.cap) {
		scan.cap = 2 * (scan.len + n);
		scan.wire = realloc(scan.wire, scan.cap);
		assert_non_null(scan.wire);
	}
	memcpy(scan.wire + scan.len, p, n);
	scan.len += n;
}

static void assert_not_on_wire(const char *what, const uint8_t *secret, size_t n)
{
	if (scan.wire && memmem(scan.wire, scan.len, secret, n))
		fail_msg("%s found on the wire", what);
}

/* What the tap saw. */
static struct {
	unsigned requests, no_pasid, wrong_pasid, too_big, ide, plain, pattern_seen, cpl_held;
	uint32_t pasid;
	size_t mps, mrrs;
	/* reordering completions: hold 1024-byte CplDs, inject them by tag in reverse */
	bool reorder;
	struct pcitsm_ide_frame held[16];
	uint8_t held_tag[16];
	unsigned nheld;
} seen;

static void count_request(const struct pcitsm_tlp *t)
{
	seen.requests++;
	if (!t->has_pasid)
		seen.no_pasid++;
	else if (t->pasid.pasid != seen.pasid)
		seen.wrong_pasid++;
	if (t->kind == PCITSM_TLP_MWR ? t->len > seen.mps : t->len > seen.mrrs)
		seen.too_big++;
}

static enum pcitsm_tap_verdict tap(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				   struct pcitsm_ide_frame *f)
{
	struct pcitsm_tlp t;

	if (scan.cap)
		scan_keep(f->data, f->len);
	if (memmem(f->data, f->len, PATTERN, sizeof(PATTERN)))
		seen.pattern_seen++;
	if (f->len && f->data[0] == PCITSM_IDE_PFX_BYTE0) {
		/* an IDE TLP: the header (PASID prefix included) is in the clear, as AAD */
		seen.ide++;
		if (from == PCITSM_IDE_SIDE_EP && f->len > 8 && f->data[4] == PCITSM_TLP_PFX_PASID)
			seen.requests++;
		return PCITSM_TAP_PASS;
	}
	seen.plain++;
	if (pcitsm_tlp_decode(f->data, f->len, &t) != PCITSM_OK)
		return PCITSM_TAP_PASS;
	if (from == PCITSM_IDE_SIDE_EP && (t.kind == PCITSM_TLP_MWR || t.kind == PCITSM_TLP_MRD))
		count_request(&t);
	if (seen.reorder && t.kind == PCITSM_TLP_CPLD && t.len == 1024 && seen.nheld < 16) {
		seen.held[seen.nheld] = *f;
		seen.held_tag[seen.nheld++] = t.tag;
		seen.cpl_held++;
		if (seen.nheld == 16) {
			/* the tags in reverse order, each tag's completions in their own order */
			for (int k = 3; k >= 0; k--)
				for (unsigned i = 4 * (unsigned)k; i < 4 * (unsigned)k + 4; i++)
					assert_ok(pcitsm_ide_wire_inject(w, PCITSM_IDE_SIDE_RP,
									 seen.held[i].data,
									 seen.held[i].len));
			seen.reorder = false;
		}
		return PCITSM_TAP_DROP;
	}
	return PCITSM_TAP_PASS;
}

static uint8_t *comp_alloc(void)
{
	uint8_t *p = aligned_alloc(64, 64);

	assert_non_null(p);
	memset(p, 0, 64);
	return p;
}

static struct pcitsm_sva_comp copy(struct pcitsm_sva_ring *r, uint32_t pasid, void *src, void *dst,
				   size_t n)
{
	uint8_t *comp = comp_alloc();
	struct pcitsm_sva_comp c;

	assert_ok(pcitsm_sva_submit(r, &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_COPY,
								 .pasid = pasid,
								 .src = (uintptr_t)src,
								 .dst = (uintptr_t)dst, .len = n },
				    comp));
	assert_ok(pcitsm_sva_wait(r, comp, 5000, &c));
	free(comp);
	return c;
}

static uint8_t *pattern_buf(size_t n)
{
	uint8_t *p = aligned_alloc(4096, n);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)PATTERN[i % sizeof(PATTERN)];
	return p;
}

/* An unconnected link: requests with the PASID prefix, MWr <= MPS, MRd <= MRRS, data in the clear;
 * completions split at 1 KiB and reordered on the wire are gathered by tag. */
static void test_plaintext(void **state)
{
	struct pcitsm_sva_server_cfg cfg = { .ndev = 1, .mps = 256, .mrrs = 4096 };
	char sock[108], why[200];
	struct pcitsm_sva_server *s;
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_emu_link *l;
	struct pcitsm_sva_comp c;
	size_t n = 64 << 10;
	uint8_t *src = pattern_buf(n), *dst = calloc(1, n);

	(void)state;
	snprintf(sock, sizeof(sock), "/tmp/pcitsm-sva-link-%ld.sock", (long)getpid());
	cfg.socket_path = sock;
	assert_ok(pcitsm_sva_server_start_cfg(&cfg, &s));
	l = pcitsm_emu_func_link(pcitsm_sva_server_platform(s), pcitsm_sva_server_func(s, 0));
	assert_non_null(l);
	assert_ok(pcitsm_sva_open_emu(sock, 0, &dev, why, sizeof(why)));
	assert_ok(pcitsm_sva_ring_init(&r, dev, 16));
	memset(&seen, 0, sizeof(seen));
	seen.pasid = pcitsm_sva_pasid(dev);
	seen.mps = 256;
	seen.mrrs = 4096;
	l->wire->tap = tap;

	c = copy(&r, seen.pasid, src, dst, n);
	if (c.status != PCITSM_SVA_ST_SUCCESS)
		fail_msg("copy: %s at 0x%llx, %llu bytes done", pcitsm_sva_status_name(c.status),
			 (unsigned long long)c.fault_addr, (unsigned long long)c.bytes_done);
	assert_memory_equal(src, dst, n);
	/* n / MPS writes and n / MRRS reads at least */
	assert_true(seen.requests >= n / 256 + n / 4096);
	assert_int_equal(seen.no_pasid, 0);
	assert_int_equal(seen.wrong_pasid, 0);
	assert_int_equal(seen.too_big, 0);
	assert_true(seen.pattern_seen > 0); /* in the clear */
	assert_int_equal(seen.ide, 0);
	assert_true(l->dma_tlps >= seen.requests);

	/* out-of-order completions: 16 KiB read as 4 MRd, each completed in 4 CplDs of 1 KiB, the
	 * tap delivers the tags in reverse */
	memset(dst, 0, n);
	l->cpl_split = 1024;
	seen.reorder = true;
	c = copy(&r, seen.pasid, src, dst, 16 << 10);
	if (c.status != PCITSM_SVA_ST_SUCCESS)
		fail_msg("reordered: %s, %u completions held, %llu unexpected",
			 pcitsm_sva_status_name(c.status), seen.cpl_held,
			 (unsigned long long)l->side[PCITSM_IDE_SIDE_EP].cpl_unexpected);
	assert_int_equal(seen.cpl_held, 16);
	assert_memory_equal(src, dst, 16 << 10);
	assert_int_equal(l->side[PCITSM_IDE_SIDE_EP].cpl_unexpected, 0);

	/* A fault stops the transfer there: with the tap every request is its own delivery (its own
	 * IOMMU call), so only the IOMMU's fault record keeps the requests after the faulting page
	 * from landing. */
	{
		long pg = sysconf(_SC_PAGESIZE);
		uint8_t *m = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		assert_true(m != MAP_FAILED);
		memset(m, 0x11, (size_t)pg * 3);
		assert_int_equal(munmap(m + pg, (size_t)pg), 0);
		/* from the middle of the first page: one burst of 32 writes of 256 bytes holds the
		 * second half of page 0, all of page 1 (unmapped) and the first half of page 2 */
		c = copy(&r, seen.pasid, src, m + pg / 2, (size_t)pg * 5 / 2);
		assert_int_equal(c.status, PCITSM_SVA_ST_FAULT);
		assert_int_equal(c.fault_addr, (uintptr_t)(m + pg));
		assert_int_equal(c.bytes_done, (uint64_t)pg / 2);
		assert_int_equal(m[pg / 2], (uint8_t)PATTERN[0]);
		assert_int_equal(m[pg / 2 - 1], 0x11);
		for (long i = 0; i < pg; i++)
			assert_int_equal(m[2 * pg + i], 0x11); /* past the fault: untouched */
		munmap(m, (size_t)pg);
		munmap(m + 2 * pg, (size_t)pg);
	}

	l->wire->tap = NULL;
	pcitsm_sva_ring_fini(&r);
	assert_ok(pcitsm_sva_close(dev));
	pcitsm_sva_server_stop(s);
	free(src);
	free(dst);
}

/* ---------------------------------------------------------------------------------------------
 * A connected endpoint: the full platform (devices, firmware TSM, the TSM core) in this process.
 */
struct stack {
	struct pcitsm_machine m;
	struct pcitsm_bdf ep;
	struct pcitsm_sva_server *srv;
	char sock[108];
};

static void stack_new(struct stack *k)
{
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_devices_cfg dc = { .curve_bits = 256, .key_observer = key_seen };
	struct pcitsm_sva_server_cfg sc = { .ndev = 2 };

	memset(k, 0, sizeof(*k));
	scan.nkeys = 0;
	pcitsm_machine_cfg_default(&mc, pcitsm_env_default());
	pcitsm_emu_config_default(&cfg);
	cfg.ports[0].ep_pasid_funcs = 1;
	mc.plat = &cfg;
	mc.devs = &dc;
	assert_ok(pcitsm_machine_build(&k->m, &mc, PCITSM_MACHINE_CORE, NULL));
	k->ep = k->m.plat.links[0].ep->bdf;
	assert_int_equal(pcitsm_tsm_connect_write(k->m.core, &k->ep, "tsm0", 4), 0);
	snprintf(k->sock, sizeof(k->sock), "/tmp/pcitsm-sva-link2-%ld.sock", (long)getpid());
	sc.socket_path = k->sock;
	sc.platform = &k->m.plat;
	sc.ep[0] = k->m.plat.links[0].ep; /* connected */
	sc.ep[1] = k->m.plat.links[1].ep; /* not connected */
	assert_ok(pcitsm_sva_server_start_cfg(&sc, &k->srv));
}

static void stack_free(struct stack *k)
{
	pcitsm_sva_server_stop(k->srv);
	pcitsm_machine_free(&k->m);
}

/* Encrypted: the tap sees IDE TLPs only, never the pattern; the data arrives intact. */
static void test_encrypted(void **state)
{
	static struct stack k;
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_sva_comp c;
	struct pcitsm_emu_link *l;
	size_t n = 256 << 10;
	uint8_t *src = pattern_buf(n), *dst = calloc(1, n);
	char why[200];

	(void)state;
	stack_new(&k);
	l = &k.m.plat.links[0];
	assert_ok(pcitsm_sva_open_emu(k.sock, 0, &dev, why, sizeof(why)));
	assert_ok(pcitsm_sva_ring_init(&r, dev, 16));
	memset(&seen, 0, sizeof(seen));
	seen.pasid = pcitsm_sva_pasid(dev);
	scan.len = 0;
	scan.cap = 1;
	l->wire->tap = tap;
	c = copy(&r, seen.pasid, src, dst, n);
	l->wire->tap = NULL;
	assert_int_equal(c.status, PCITSM_SVA_ST_SUCCESS);
	assert_memory_equal(src, dst, n);
	assert_true(seen.ide >= 2 * n / 4096);
	assert_int_equal(seen.plain, 0);
	assert_int_equal(seen.pattern_seen, 0);
	/* The secret scan: the six keys of the stream (both byte orders) and the session's secrets
	 * are nowhere in the wire's bytes; a planted key checks the search itself. */
	assert_int_equal(scan.nkeys, 6);
	assert_true(scan.len >= 2 * n);
	for (unsigned i = 0; i < scan.nkeys; i++) {
		uint8_t aes[32];

		pcitsm_ide_km_key_to_aes(scan.key[i], aes);
		assert_not_on_wire("an IDE key (KEY_PROG order)", scan.key[i], 32);
		assert_not_on_wire("an IDE key (AES order)", aes, 32);
	}
	{
		const struct pcitsm_session *sm =
			pcitsm_tio_test_session(k.m.fw, k.ep.seg, pcitsm_bdf_rid(&k.ep));

		assert_non_null(sm);
		for (int d = 0; d < 2; d++) {
			assert_not_on_wire("a session key", sm->app[d].key, 32);
			assert_not_on_wire("a session IV", sm->app[d].iv, PCITSM_AEAD_IV_LEN);
			assert_not_on_wire("an application secret", sm->ks.app_secret[d],
					   sm->ks.hash_len);
		}
		assert_not_on_wire("the export master secret", sm->ks.export_master_secret,
				   sm->ks.hash_len);
	}
	scan_keep(scan.key[0], 32);
	assert_non_null(memmem(scan.wire, scan.len, scan.key[0], 32));
	free(scan.wire);
	memset(&scan, 0, sizeof(scan));
	assert_true(seen.requests >= 2 * n / 4096); /* each with the PASID prefix after IDE's */
	pcitsm_sva_ring_fini(&r);
	assert_ok(pcitsm_sva_close(dev));
	stack_free(&k);
	free(src);
	free(dst);
}

/* A T=1 copy: its completion status, or QUEUE_FAULT if the device could not even fetch the ring
 * (a T=1 read of the ring refused: a queue error, no completion record). */
#define QUEUE_FAULT 0xff
static uint8_t t1_copy(struct stack *k, unsigned idx, uint8_t *src, uint8_t *dst, size_t n)
{
	struct pcitsm_sva_dev *dev;
	struct pcitsm_sva_ring r;
	struct pcitsm_sva_comp c = { 0 };
	uint8_t *comp = comp_alloc();
	char why[200];
	pcitsm_err e;

	memset(dst, 0, n);
	assert_ok(pcitsm_sva_open_emu(k->sock, idx, &dev, why, sizeof(why)));
	assert_ok(pcitsm_sva_ring_init_tee(&r, dev, 16));
	assert_ok(pcitsm_sva_submit(&r, &(struct pcitsm_sva_desc){ .op = PCITSM_SVA_OP_COPY,
								 .pasid = pcitsm_sva_pasid(dev),
								 .src = (uintptr_t)src,
								 .dst = (uintptr_t)dst, .len = n },
				    comp));
	for (int i = 0; i < 2500 && sva_reg_rd32(r.regs, PCITSM_SVA_REG_HEAD) != r.tail; i++)
		usleep(2000);
	assert_int_equal(sva_reg_rd32(r.regs, PCITSM_SVA_REG_HEAD), r.tail);
	if (sva_reg_rd32(r.regs, PCITSM_SVA_REG_ERROR) == PCITSM_SVA_QERR_RING_FAULT) {
		assert_int_equal(comp[0], 0);
		c.status = QUEUE_FAULT;
	} else {
		e = pcitsm_sva_wait(&r, comp, 5000, &c);
		assert_ok(e);
	}
	free(comp);
	pcitsm_sva_ring_fini(&r);
	assert_ok(pcitsm_sva_close(dev));
	if (c.status == PCITSM_SVA_ST_SUCCESS)
		assert_memory_equal(src, dst, n);
	return c.status;
}

/* T=1: only in RUN, from both sides: the device's completion status, the host's refusal count. */
static void test_tee_gate(void **state)
{
	static struct stack k;
	struct pcitsm_tsm_tdi_evidence *ev = malloc(sizeof(*ev));
	struct pcitsm_tdisp_report rep;
	struct pcitsm_emu_link *l;
	size_t n = 64 << 10;
	uint8_t *src = pattern_buf(n), *dst = calloc(1, n);
	uint64_t refused;
	uint16_t cmd;

	(void)state;
	assert_non_null(ev);
	stack_new(&k);
	l = &k.m.plat.links[0];
	/* CONFIG_UNLOCKED: the ring itself cannot be fetched with T=1 */
	refused = l->tee_refused[PCITSM_IDE_SIDE_RP];
	assert_int_equal(t1_copy(&k, 0, src, dst, n), QUEUE_FAULT);
	assert_true(l->tee_refused[PCITSM_IDE_SIDE_RP] > refused);
	/* CONFIG_LOCKED */
	assert_int_equal(pcitsm_tsm_lock_write(k.m.core, &k.ep, "tsm1", 4), 0);
	assert_int_equal(pcitsm_emu_tdi_state(l->ep), PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(t1_copy(&k, 0, src, dst, n), QUEUE_FAULT);
	/* the report advertises DMA_WITH_PASID for the function */
	assert_ok(pcitsm_tsm_tdi_evidence_get(k.m.core, &k.ep, ev));
	assert_ok(pcitsm_tdisp_report_decode(ev->report, ev->report_len, &rep));
	assert_true(rep.interface_info & PCITSM_TDISP_INFO_DMA_WITH_PASID);
	/* RUN: T=1 DMA works */
	assert_int_equal(pcitsm_tsm_accept_write(k.m.core, &k.ep, "1", 1), 0);
	assert_int_equal(pcitsm_emu_tdi_state(l->ep), PCITSM_TDISP_RUN);
	refused = l->tee_refused[PCITSM_IDE_SIDE_RP];
	assert_int_equal(t1_copy(&k, 0, src, dst, n), PCITSM_SVA_ST_SUCCESS);
	assert_int_equal(l->tee_refused[PCITSM_IDE_SIDE_RP], refused);
	/* the other device, on a link with no Secure stream: T=1 never leaves its port */
	assert_int_equal(t1_copy(&k, 1, src, dst, n), QUEUE_FAULT);
	/* ERROR: a write to locked configuration (the Command register) */
	assert_ok(pcitsm_cfg_read16(&l->ep->cfg.cfg, 4, &cmd));
	assert_ok(pcitsm_cfg_write16(&l->ep->cfg.cfg, 4, cmd ^ 4));
	assert_int_equal(pcitsm_emu_tdi_state(l->ep), PCITSM_TDISP_ERROR);
	refused = l->tee_refused[PCITSM_IDE_SIDE_RP];
	assert_int_equal(t1_copy(&k, 0, src, dst, n), QUEUE_FAULT);
	assert_true(l->tee_refused[PCITSM_IDE_SIDE_RP] > refused);
	assert_int_equal(pcitsm_tsm_unlock_write(k.m.core, &k.ep, "tsm1", 4), 0);
	stack_free(&k);
	free(ev);
	free(src);
	free(dst);
}

/* Completions are peer bytes: one no outstanding tag expects is dropped and counted, one that
 * breaks its request's order (Byte Count, Lower Address) fails the read, a duplicate after the
 * read completed is dropped. The root port reads the endpoint's memory; a tap rewrites the
 * completion in the clear link. */
static int cpl_fault; /* 1: duplicate, 2: other tag, 3: other requester, 4: bad Byte Count, 5: bad
		       * Lower Address */
static enum pcitsm_tap_verdict cpl_tap(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				       struct pcitsm_ide_frame *f)
{
	struct pcitsm_tlp t;
	size_t n;

	if (pcitsm_tlp_decode(f->data, f->len, &t) != PCITSM_OK || t.kind != PCITSM_TLP_CPLD)
		return PCITSM_TAP_PASS;
	switch (cpl_fault) {
	case 1: return PCITSM_TAP_DUPLICATE;
	case 2: t.tag ^= 0x55; break;
	case 3: t.req_id ^= 0x100; break;
	case 4: t.byte_count += 4; break;
	case 5: t.lower_addr ^= 0x10; break;
	default: return PCITSM_TAP_PASS;
	}
	assert_ok(pcitsm_tlp_encode(&t, f->data, sizeof(f->data), &n));
	f->len = n;
	return PCITSM_TAP_PASS;
}

static void test_completion_checks(void **state)
{
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_link *l;
	struct pcitsm_emu_side *rp;
	uint8_t buf[64];
	uint64_t at;
	static const pcitsm_err want[6] = { PCITSM_OK, PCITSM_OK, PCITSM_E_NORESPONSE,
					    PCITSM_E_NORESPONSE, PCITSM_E_IO, PCITSM_E_IO };

	(void)state;
	pcitsm_emu_config_default(&cfg);
	assert_ok(pcitsm_emu_platform_init(&p, &cfg, pcitsm_env_default()));
	l = &p.links[0];
	rp = &l->side[PCITSM_IDE_SIDE_RP];
	at = l->side[PCITSM_IDE_SIDE_EP].base;
	l->wire->tap = cpl_tap;
	for (cpl_fault = 0; cpl_fault <= 5; cpl_fault++) {
		uint64_t unexpected = rp->cpl_unexpected;
		pcitsm_err e = pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, at, buf, sizeof(buf));

		if (e != want[cpl_fault])
			fail_msg("fault %d: %s, want %s", cpl_fault, pcitsm_err_name(e),
				 pcitsm_err_name(want[cpl_fault]));
		assert_int_equal(rp->cpl_unexpected - unexpected, cpl_fault == 0 ? 0 : 1);
		/* every tag is free again */
		for (unsigned i = 0; i < PCITSM_EMU_TAGS; i++)
			assert_false(rp->tag[i].busy);
	}
	l->wire->tap = NULL;
	pcitsm_emu_platform_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completion_checks),
		cmocka_unit_test(test_plaintext),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_tee_gate),
	};

	if (test_sva_cannot_bind())
		return TEST_EXIT_SKIP;
	alarm(test_under_valgrind() ? 1200 : 60); /* memcheck runs it 20 to 50 times slower */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
