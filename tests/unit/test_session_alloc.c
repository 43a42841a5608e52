/* SPDX-License-Identifier: MIT */
/*
 * No allocation per secured message (docs/sessions.md "Memory"): N secured round trips through
 * the requester's session engine and the responder (HEARTBEAT / HEARTBEAT_ACK and a PCI-SIG
 * VENDOR_DEFINED exchange, each a DSP0277 record sealed and opened at both ends) make no call to
 * the allocator from pcitsm. Every allocation of the process is interposed and counted
 * (alloc_hook.h); libcrypto's own (its per-call AEAD contexts) go through
 * CRYPTO_set_mem_functions and are counted apart, and reported. Under AddressSanitizer the
 * allocator cannot be interposed: the program exits 77 (skipped).
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "test_spdm_fixture.h"

#include "alloc_hook.h"

#define ROUNDS 2000

static volatile unsigned long n_crypto;

#ifndef NO_MALLOC_HOOK
static void *crypto_malloc(size_t n, const char *file, int line)
{
	if (counting)
		n_crypto++;
	return __libc_malloc(n);
}

static void *crypto_realloc(void *p, size_t n, const char *file, int line)
{
	if (counting)
		n_crypto++;
	return __libc_realloc(p, n);
}

static void crypto_free(void *p, const char *file, int line)
{
	if (p && counting)
		n_crypto++;
	__libc_free(p);
}
#endif

static pcitsm_err echo_vdm(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
			   struct pcitsm_wr *rsp)
{
	pcitsm_wr_bytes(rsp, req, len);
	return pcitsm_wr_err(rsp);
}

struct rt {
	struct fx *f;
	struct pcitsm_spdm_req r;
	struct pcitsm_spdm_session s;
};

/* One heartbeat and one vendor-defined exchange, engines only, no transport. */
static pcitsm_err round_trip(struct rt *t)
{
	static const uint8_t payload[] = { PCITSM_SPDM_PROTO_IDE_KM, 1, 2, 3, 4, 5, 6, 7 };
	uint8_t q[256], a[512], echoed[64];
	struct pcitsm_wr w, vo;
	size_t n;

	pcitsm_wr_init(&w, q, sizeof(q));
	PCITSM_TRY(pcitsm_spdm_session_req_heartbeat(&t->s, &w));
	PCITSM_TRY(pcitsm_spdm_rsp_handle_secured(&t->f->rsp, q, pcitsm_wr_len(&w), a, sizeof(a),
						  &n));
	PCITSM_TRY(pcitsm_spdm_session_feed(&t->s, a, n, NULL));
	pcitsm_wr_init(&w, q, sizeof(q));
	PCITSM_TRY(pcitsm_spdm_session_req_vdm(&t->s, payload[0], payload, sizeof(payload), &w));
	PCITSM_TRY(pcitsm_spdm_rsp_handle_secured(&t->f->rsp, q, pcitsm_wr_len(&w), a, sizeof(a),
						  &n));
	pcitsm_wr_init(&vo, echoed, sizeof(echoed));
	PCITSM_TRY(pcitsm_spdm_session_feed(&t->s, a, n, &vo));
	if (pcitsm_wr_len(&vo) != sizeof(payload) || memcmp(echoed, payload, sizeof(payload)))
		return PCITSM_E_FIELD;
	return PCITSM_OK;
}

static void no_alloc_per_record(const char *which)
{
	struct rt *t = calloc(1, sizeof(*t));
	pcitsm_err e = PCITSM_OK;

	assert_non_null(t);
	t->f = fx_new(which);
	fx_start(t->f);
	assert_ok(pcitsm_doe_dev_register(&t->f->dev, &t->f->rsp.sdoe));
	assert_ok(pcitsm_spdm_rsp_register_vdm(&t->f->rsp, PCITSM_SPDM_PROTO_IDE_KM, echo_vdm,
					       NULL));
	assert_ok(pcitsm_spdm_drv_req_authenticate(&t->r, &t->f->loop.x, &t->f->ao, &t->f->res));
	assert_ok(pcitsm_spdm_drv_session_open(&t->s, &t->r, &t->f->loop.x, NULL));
	assert_ok(round_trip(t)); /* first-use paths */

	n_alloc = 0;
	n_crypto = 0;
	counting = 1;
	for (unsigned i = 0; i < ROUNDS && !e; i++)
		e = round_trip(t);
	counting = 0;
	assert_ok(e);
	assert_int_equal(t->s.state, PCITSM_SPDM_SESSION_ESTABLISHED);
	print_message("%s: %u secured round trips (%u records): %lu allocator calls by pcitsm, "
		      "%lu by libcrypto\n", which, 2 * ROUNDS, 4 * ROUNDS, n_alloc, n_crypto);
	assert_int_equal(n_alloc, 0);

	pcitsm_spdm_session_wipe(&t->s);
	pcitsm_spdm_req_free(&t->r);
	fx_free(t->f);
	free(t);
}

/* The hook sees our allocations, and libcrypto's apart. */
static void hook_works(void **state)
{
	void *volatile q;

	n_alloc = 0;
	n_crypto = 0;
	counting = 1;
	q = malloc(16);
	free(q);
	q = OPENSSL_malloc(16);
	OPENSSL_free(q);
	counting = 0;
	assert_int_equal(n_alloc, 2);
	assert_int_equal(n_crypto, 2);
}

static void no_alloc_p256(void **state) { no_alloc_per_record("p256"); }
static void no_alloc_p384(void **state) { no_alloc_per_record("p384"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_works),
		cmocka_unit_test(no_alloc_p256),
		cmocka_unit_test(no_alloc_p384),
	};

#ifdef NO_MALLOC_HOOK
	(void)tests;
	return 77; /* the sanitizer's allocator is not interposed: nothing to count */
#else
	/* Before libcrypto allocates anything, or it keeps its own allocator. */
	if (!CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
