/* SPDX-License-Identifier: MIT */
/* Shared helpers for the cmocka unit tests. */
#ifndef PCITSM_TESTUTIL_H
#define PCITSM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pcitsm/core.h"

/* Assert that an expression yields a given pcitsm_err, printing names on mismatch. */
#define assert_err(expr, want) _assert_err((expr), (want), #expr, __FILE__, __LINE__)
#define assert_ok(expr) assert_err((expr), PCITSM_OK)
void _assert_err(pcitsm_err got, pcitsm_err want, const char *expr, const char *file, int line);

/* Skips are visible (issue "every security check has a test that fails without it"): a test
 * that cannot run here calls skip(), which counts it; the program then exits with
 * TEST_EXIT_SKIP, which CMakeLists.txt maps to "skipped" (SKIP_RETURN_CODE), unless a test failed.
 * Every test program's `return cmocka_run_group_tests(...)` goes through test_exit_code. */
#define TEST_EXIT_SKIP 77
extern unsigned test_skipped;
int test_exit_code(int failed);
#undef skip
#define skip() (test_skipped++, _skip(__FILE__, __LINE__))
#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)                          \
	test_exit_code(_cmocka_run_group_tests(#group_tests, group_tests,                        \
					       sizeof(group_tests) / sizeof((group_tests)[0]),   \
					       group_setup, group_teardown))

/* A test program's main in one call: test_run(a, b, c) runs the test functions a, b and c in that
 * order, each under its own name, and returns the exit code as cmocka_run_group_tests does
 * (through test_exit_code). test_run_fixture(setup, teardown, a, b, ...) gives every test a fresh
 * fixture: setup before it and teardown after it, as cmocka_unit_test_setup_teardown does. */
typedef void (*test_fn)(void **state);
typedef int (*test_fixture_fn)(void **state);
int test_run_list(const char *names, const test_fn *fns, size_t n, test_fixture_fn setup,
		  test_fixture_fn teardown);
#define test_run_fixture(setup, teardown, ...)                                                     \
	test_run_list(#__VA_ARGS__, (const test_fn[]){ __VA_ARGS__ },                             \
		      sizeof((const test_fn[]){ __VA_ARGS__ }) / sizeof(test_fn), setup, teardown)
#define test_run(...) test_run_fixture(NULL, NULL, __VA_ARGS__)

/* Bytes of heap in use now: the sanitizer allocator's count under AddressSanitizer (where
 * glibc's malloc is not the one in use), mallinfo2's uordblks + hblkhd otherwise. For leak assertions
 * that look at memory, not only at counters. Not under valgrind (test_under_valgrind): memcheck
 * replaces the allocator and mallinfo2 then sees none of the heap; its own leak check runs. */
size_t test_heap_in_use(void);

/* True when the program runs under valgrind (make test-valgrind; RUNNING_ON_VALGRIND). A test
 * that cannot run there (heap or RSS figures, seccomp strict mode, tight time limits) prints why
 * with test_skip_under_valgrind and is counted as skipped, never passed. */
int test_under_valgrind(void);
/* The IOMMU model's bind holds a pidfd of the bound process (lib/sva/iommu.c); valgrind 3.19
 * (Debian 12) does not know pidfd_open and answers ENOSYS, so no SVA device binds under it: true
 * (after printing the reason) when that is so; the test then exits TEST_EXIT_SKIP. */
int test_sva_cannot_bind(void);
#define test_skip_under_valgrind(why)                                                              \
	do {                                                                                       \
		if (test_under_valgrind()) {                                                       \
			print_message("skipped under valgrind: %s\n", (why));                      \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Read a whole file from tests/data (or an absolute path) into a malloc'd buffer. */
uint8_t *test_read_file(const char *path, size_t *len);

/* ---------------------------------------------------------------------------------------------
 * IDE: the two engines of one link. Inline, so that a test built without lib/ide
 * (PCITSM_SUBSYSTEMS) does not link against it.
 */
#include "pcitsm/ide.h"

/* Fresh random keys for Stream ID id, key set kset, every sub-stream, at both ports, mirrored:
 * each port's TX key is the other port's RX key (KEY_PROG, IFV 1). */
static inline void test_ide_keys(struct pcitsm_ide_port *a, struct pcitsm_ide_port *b,
				 const struct pcitsm_env *env, uint8_t id, unsigned kset)
{
	struct pcitsm_ide_port *port[2] = { a, b };
	uint8_t key[32];

	for (int s = 0; s < 2; s++)
		for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
			assert_ok(pcitsm_random(env, key, sizeof(key)));
			assert_ok(pcitsm_ide_key_prog_aes(port[s], id, kset, PCITSM_IDE_TX,
							  (enum pcitsm_ide_sub)u, key, 1));
			assert_ok(pcitsm_ide_key_prog_aes(port[!s], id, kset, PCITSM_IDE_RX,
							  (enum pcitsm_ide_sub)u, key, 1));
		}
	pcitsm_wipe(key, sizeof(key));
}

/* K_SET_GO for Stream ID id, key set kset, direction dir, every sub-stream, at both ports. */
static inline void test_ide_go(struct pcitsm_ide_port *a, struct pcitsm_ide_port *b, uint8_t id,
			       unsigned kset, enum pcitsm_ide_dir dir)
{
	for (int u = 0; u < PCITSM_IDE_NR_SUB; u++) {
		assert_ok(pcitsm_ide_k_set_go(a, id, kset, dir, (enum pcitsm_ide_sub)u));
		assert_ok(pcitsm_ide_k_set_go(b, id, kset, dir, (enum pcitsm_ide_sub)u));
	}
}

/* A TLP of sub-stream u (Memory Write, Memory Read, Completion with data) from the function
 * from_rid to the function to_rid, with len bytes of data (a Memory Read asks for them). */
static inline void test_ide_tlp(struct pcitsm_tlp *t, enum pcitsm_ide_sub u, uint16_t from_rid,
				uint16_t to_rid, uint64_t addr, uint8_t tag, const uint8_t *data,
				size_t len)
{
	*t = (struct pcitsm_tlp){ .first_be = 0xf, .last_be = len > 4 ? 0xf : 0, .req_id = from_rid,
				  .tag = tag, .addr = addr, .data = data, .len = len };
	if (u == PCITSM_IDE_SUB_PR) {
		t->kind = PCITSM_TLP_MWR;
	} else if (u == PCITSM_IDE_SUB_NPR) {
		t->kind = PCITSM_TLP_MRD;
		t->data = NULL;
	} else {
		t->kind = PCITSM_TLP_CPLD;
		t->cpl_id = from_rid;
		t->req_id = to_rid;
		t->byte_count = (uint16_t)len;
	}
}

/* ---------------------------------------------------------------------------------------------
 * One emulated link (lib/emu) with real IDE engines (lib/ide): the default platform's first root
 * port and endpoint, selective block 0 at both written through config space with Stream ID sid
 * and Enable clear (the endpoint's Default Stream towards the root port; the root port's block
 * for the endpoint's RIDs and the low 4 GiB), and loaded into each port's engine. Inline, as above.
 */
#include "pcitsm/emu.h"

struct test_ide_link {
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform plat;
	struct pcitsm_emu_func *ep, *rp;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *ep_port, *rp_port;
};

static inline void test_ide_sel_write(struct pcitsm_emu_func *f, uint32_t ctl, uint16_t rid_base,
				      uint16_t rid_limit, bool addr)
{
	struct pcitsm_ide_info info;
	uint32_t b;

	assert_ok(pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &info));
	b = info.sel_off[0];
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, b + PCITSM_IDE_SEL_CTL, ctl));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, b + PCITSM_IDE_SEL_RID1, (uint32_t)rid_limit << 8));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, b + PCITSM_IDE_SEL_RID2,
				     (uint32_t)rid_base << 8 | 1));
	if (addr) /* 0 .. 4 GiB - 1: base 0, limit 0xfff (address bits 31:20), valid */
		assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, b + PCITSM_IDE_SEL_ADDR1(0), 0xfff00001u));
}

/* Selective block 0 of f's config space into engine port p; it must hold Stream ID sid. */
static inline void test_ide_engine_load(struct pcitsm_emu_func *f, struct pcitsm_ide_port *p,
					uint8_t sid)
{
	struct pcitsm_ide_info info;
	struct pcitsm_ide_sel sel;

	assert_ok(pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &info));
	assert_ok(pcitsm_ide_sel_read(&f->cfg.cfg, &info, 0, &sel));
	assert_int_equal(sel.ctl.stream_id, sid);
	assert_ok(pcitsm_ide_stream_config(p, 0, &sel));
}

/* Selective block 0 of f enabled with Stream ID id for every RID, as firmware that set up a
 * stream before the TSM core started would leave it (Stream ID written before Enable). */
static inline void test_ide_enable_block0(struct pcitsm_emu_func *f, uint8_t id)
{
	struct pcitsm_ide_info ide;
	uint16_t blk;

	assert_ok(pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &ide));
	blk = ide.sel_off[0];
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_RID1, 0xffff00));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_RID2, 1));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_CTL,
				     (uint32_t)id << PCITSM_IDE_CTL_ID_SHIFT));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_CTL,
				     (uint32_t)id << PCITSM_IDE_CTL_ID_SHIFT | PCITSM_IDE_CTL_EN));
}

static inline void test_ide_link_init(struct test_ide_link *l, uint64_t seed, uint8_t sid)
{
	struct pcitsm_emu_config cfg;
	struct pcitsm_bdf ep_bdf = { 0, 1, 0, 0 }, rp_bdf = { 0, 0, 1, 0 };
	uint16_t ep_rid, rp_rid;

	pcitsm_env_test_init(&l->env, seed);
	l->env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_emu_config_default(&cfg);
	assert_ok(pcitsm_emu_platform_init(&l->plat, &cfg, &l->env.env));
	l->ep = pcitsm_emu_find(&l->plat, &ep_bdf);
	l->rp = pcitsm_emu_find(&l->plat, &rp_bdf);
	assert_non_null(l->ep);
	assert_non_null(l->rp);
	ep_rid = pcitsm_bdf_rid(&l->ep->bdf);
	rp_rid = pcitsm_bdf_rid(&l->rp->bdf);
	test_ide_sel_write(l->ep, (uint32_t)sid << 24 | PCITSM_IDE_CTL_DEFAULT, rp_rid, rp_rid, false);
	test_ide_sel_write(l->rp, (uint32_t)sid << 24, ep_rid, ep_rid, true);
	assert_ok(pcitsm_gcm_new(&l->gcm, PCITSM_GCM_AUTO));
	assert_ok(pcitsm_ide_port_new(&l->ep_port, l->gcm, &l->env.env, ep_rid));
	assert_ok(pcitsm_ide_port_new(&l->rp_port, l->gcm, &l->env.env, rp_rid));
	test_ide_engine_load(l->ep, l->ep_port, sid);
	test_ide_engine_load(l->rp, l->rp_port, sid);
}

static inline void test_ide_link_free(struct test_ide_link *l)
{
	pcitsm_ide_port_free(l->ep_port);
	pcitsm_ide_port_free(l->rp_port);
	pcitsm_gcm_free(l->gcm);
	pcitsm_emu_platform_free(&l->plat);
}

/* ---------------------------------------------------------------------------------------------
 * TDISP: the interface report of a function shaped as the emulated endpoints are (BAR 0 64-bit
 * with the MSI-X table and PBA, BAR 2 with a non-TEE page; no firmware update, MSI-X locked), the
 * pinned device the evidence and policy tests verify. Its length; MMIO offset as the device
 * reports it.
 */
#include <string.h>

#include "pcitsm/tdisp.h"

static inline size_t test_tdisp_endpoint_report(uint8_t *buf, size_t cap, int64_t mmio_offset)
{
	struct pcitsm_tdisp_ifdesc d;
	struct pcitsm_wr w;

	memset(&d, 0, sizeof(d));
	d.interface_info = PCITSM_TDISP_INFO_DMA_NO_PASID;
	d.bar[0] = (struct pcitsm_tdisp_bar){ 0, 0xfe000000, 0x10000, true, true };
	d.bar[1] = (struct pcitsm_tdisp_bar){ 2, 0xfd000000, 0x4000, false, false };
	d.nr_bars = 2;
	d.msix = true;
	d.msix_table = (struct pcitsm_tdisp_region){ 0, 0x2000, 0x100 };
	d.msix_pba = (struct pcitsm_tdisp_region){ 0, 0x3000, 8 };
	d.non_tee[0] = (struct pcitsm_tdisp_region){ 2, 0x1000, 0x1000 };
	d.nr_non_tee = 1;
	pcitsm_wr_init(&w, buf, cap);
	assert_ok(pcitsm_tdisp_report_build(&d, PCITSM_TDISP_LOCK_NO_FW_UPDATE | PCITSM_TDISP_LOCK_MSIX,
					    mmio_offset, &w));
	return pcitsm_wr_len(&w);
}

#endif
