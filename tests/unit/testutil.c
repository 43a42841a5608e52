/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/allocator_interface.h>
#endif

size_t test_heap_in_use(void)
{
#ifdef TEST_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd; /* in use in the arenas, and mmap'd blocks */
#endif
}

int test_under_valgrind(void)
{
	return RUNNING_ON_VALGRIND ? 1 : 0;
}

int test_sva_cannot_bind(void)
{
	long fd;

	if (!test_under_valgrind())
		return 0;
	fd = syscall(SYS_pidfd_open, getpid(), 0);
	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	if (errno != ENOSYS)
		return 0;
	printf("SKIP: valgrind lacks pidfd_open, which the SVA bind needs\n");
	return 1;
}

void _assert_err(pcitsm_err got, pcitsm_err want, const char *expr, const char *file, int line)
{
	if (got != want) {
		print_error("%s returned %s (%d), expected %s (%d)\n", expr, pcitsm_err_name(got),
			    (int)got, pcitsm_err_name(want), (int)want);
		_fail(file, line);
	}
}

uint8_t *test_read_file(const char *path, size_t *len)
{
	char full[4096];
	FILE *f;
	uint8_t *buf;
	long n;

	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", PCITSM_TEST_DATA, path);
	f = fopen(full, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

unsigned test_skipped;

int test_exit_code(int failed)
{
	if (failed)
		return failed;
	if (test_skipped) {
		print_message("%u test(s) skipped: this program reports itself skipped (exit %d)\n",
			      test_skipped, TEST_EXIT_SKIP);
		return TEST_EXIT_SKIP;
	}
	return 0;
}

int test_run_list(const char *names, const test_fn *fns, size_t n, test_fixture_fn setup,
		  test_fixture_fn teardown)
{
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	char *copy = strdup(names), *save = NULL, *name;
	size_t i = 0;
	int failed;

	if (!tests || !copy) {
		print_error("test_run: out of memory\n");
		free(tests);
		free(copy);
		return 1;
	}
	/* names is the macro's argument list as written: "a, b, c". */
	for (name = strtok_r(copy, ", ", &save); name && i < n; name = strtok_r(NULL, ", ", &save)) {
		tests[i] = (struct CMUnitTest){ .name = name, .test_func = fns[i],
						.setup_func = setup, .teardown_func = teardown };
		i++;
	}
	if (i != n || name) {
		print_error("test_run: %zu names for %zu tests in \"%s\"\n", i, n, names);
		failed = 1;
	} else {
		failed = test_exit_code(_cmocka_run_group_tests("tests", tests, n, NULL, NULL));
	}
	free(copy);
	free(tests);
	return failed;
}
