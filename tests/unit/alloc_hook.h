/* SPDX-License-Identifier: MIT */
/*
 * Counting every allocation of a test program: malloc, calloc, realloc, free and the aligned
 * allocators are interposed (glibc's allocator under its internal names) and counted into n_alloc
 * while counting is set. Include from exactly one file of a test program. Under AddressSanitizer
 * the allocator belongs to the sanitizer and is not interposed: NO_MALLOC_HOOK is defined and the
 * counts stay zero, so a test must skip what it cannot count there.
 */
#ifndef PCITSM_TEST_ALLOC_HOOK_H
#define PCITSM_TEST_ALLOC_HOOK_H

#include <errno.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define NO_MALLOC_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MALLOC_HOOK 1
#endif
#endif

static volatile int counting;
static volatile unsigned long n_alloc;

#ifndef NO_MALLOC_HOOK
/* glibc's allocator under its internal names: every allocation of the process comes here. */
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
void *__libc_memalign(size_t a, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void free(void *p);
void *aligned_alloc(size_t a, size_t n);
void *memalign(size_t a, size_t n);
int posix_memalign(void **p, size_t a, size_t n);

static void count(void)
{
	if (counting)
		n_alloc++;
}

void *malloc(size_t n)
{
	count();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	count();
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	count();
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p)
		count();
	__libc_free(p);
}

void *aligned_alloc(size_t a, size_t n)
{
	count();
	return __libc_memalign(a, n);
}

void *memalign(size_t a, size_t n)
{
	count();
	return __libc_memalign(a, n);
}

int posix_memalign(void **p, size_t a, size_t n)
{
	count();
	if (a < sizeof(void *) || (a & (a - 1)))
		return EINVAL;
	*p = __libc_memalign(a, n);
	return *p ? 0 : ENOMEM;
}
#endif

#endif
