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

/* Read a whole file from tests/data (or an absolute path) into a malloc'd buffer. */
uint8_t *test_read_file(const char *path, size_t *len);

#endif
