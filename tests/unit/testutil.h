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

/* Bytes of heap in use now: the sanitizer allocator's count under AddressSanitizer (where
 * glibc's malloc is not the one in use), mallinfo2's uordblks + hblkhd otherwise. For leak assertions
 * that look at memory, not only at counters. */
size_t test_heap_in_use(void);

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

#endif
