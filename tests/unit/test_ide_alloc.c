/* SPDX-License-Identifier: MIT */
/*
 * The IDE data path allocates nothing and makes no system call per TLP, and keys are expanded once
 * per key programming (DESIGN.md "Data path speed", issue "IDE link encryption"):
 *  - malloc, calloc, realloc, free and the aligned allocators are interposed here and counted
 *    while N TLPs (every sub-stream, both directions, single and aggregated, PCRC, IDE Sync every
 *    245 posted TLPs, a key refresh in the middle) cross the emulated link: the count is zero;
 *  - the same traffic runs in a child process in seccomp strict mode, where any system call other
 *    than read, write, exit and sigreturn kills it: the child finishes;
 *  - pcitsm_gcm_key_expansions grows by exactly one per KEY_PROG, never per TLP.
 * Both AES-GCM backends. Under AddressSanitizer the allocator belongs to the sanitizer and is not
 * interposed: the allocation count is skipped there (the seccomp and expansion checks still run).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "pcitsm/ide.h"
#include "testutil.h"

#include "alloc_hook.h"

#define RP_RID 0x0008
#define EP_RID 0x0100
#define SID 4
#define NTLP 512 /* distinct pre-built TLPs */
#define ROUNDS 20000

struct fx {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *port[2];
	struct pcitsm_ide_wire *w;
	uint8_t tlp[2][3][NTLP][PCITSM_TLP_HDR_MAX + 256];
	size_t len[2][3][NTLP];
	unsigned kset;
};

static uint64_t delivered;

static void sink(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to,
		 const struct pcitsm_tlp_ref *tlp, bool tee)
{
	delivered++;
}

static void build(struct fx *f)
{
	static uint8_t data[256];

	for (int s = 0; s < 2; s++)
		for (int u = 0; u < 3; u++)
			for (int i = 0; i < NTLP; i++) {
				size_t dl = 4 * (1 + (size_t)(i * 7 % 32));
				struct pcitsm_tlp t;

				assert_ok(pcitsm_random(&f->env.env, data, dl));
				test_ide_tlp(&t, (enum pcitsm_ide_sub)u, s ? EP_RID : RP_RID,
					     s ? RP_RID : EP_RID, 0x80000000 + 64 * (uint64_t)i,
					     (uint8_t)i, data, dl);
				assert_ok(pcitsm_tlp_encode(&t, f->tlp[s][u][i], sizeof(f->tlp[s][u][i]),
							    &f->len[s][u][i]));
			}
}

static struct fx *fx_new(enum pcitsm_gcm_backend b, bool pcrc)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pcitsm_ide_sel s = { 0 };

	pcitsm_env_test_init(&f->env, 99);
	if (pcitsm_gcm_new(&f->gcm, b) != PCITSM_OK) {
		free(f);
		return NULL; /* ipsec-mb unusable on this CPU */
	}
	assert_ok(pcitsm_ide_port_new(&f->port[0], f->gcm, &f->env.env, RP_RID));
	assert_ok(pcitsm_ide_port_new(&f->port[1], f->gcm, &f->env.env, EP_RID));
	s.ctl.stream_id = SID;
	s.ctl.agg_pr = 3;
	s.ctl.agg_npr = 1;
	s.ctl.pcrc = pcrc;
	s.rid_valid = true;
	s.rid_base = s.rid_limit = EP_RID;
	s.nr_addr = 1;
	s.addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000, 0x8fffffff };
	assert_ok(pcitsm_ide_stream_config(f->port[0], 0, &s));
	s.ctl.default_stream = true;
	s.rid_base = s.rid_limit = RP_RID;
	assert_ok(pcitsm_ide_stream_config(f->port[1], 0, &s));
	assert_ok(pcitsm_ide_wire_new(&f->w, f->port[0], f->port[1], sink));
	test_ide_keys(f->port[0], f->port[1], &f->env.env, SID, 0);
	test_ide_go(f->port[0], f->port[1], SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->port[0], f->port[1], SID, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(f->port[1], 0));
	assert_ok(pcitsm_ide_stream_enable(f->port[0], 0));
	build(f);
	return f;
}

static void fx_free(struct fx *f)
{
	pcitsm_ide_wire_free(f->w);
	pcitsm_ide_port_free(f->port[0]);
	pcitsm_ide_port_free(f->port[1]);
	pcitsm_gcm_free(f->gcm);
	free(f);
}

/* Rounds of traffic both ways: posted units of 1-8 (IDE Sync every 245), reads and
 * completions. No assertion inside (it may run under seccomp strict): returns the first error. */
static pcitsm_err traffic(struct fx *f, unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++) {
		for (int s = 0; s < 2; s++) {
			/* Posted only for half of every 400 rounds, so the PR_Sent counters reach
			 * 245 and IDE Sync goes out; reads and completions otherwise. */
			unsigned u = r % 400 < 200 ? PCITSM_IDE_SUB_PR
				     : r % 5 == 4 ? PCITSM_IDE_SUB_NPR
				     : r % 5 == 3 ? PCITSM_IDE_SUB_CPL : PCITSM_IDE_SUB_PR;
			size_t n = u == PCITSM_IDE_SUB_PR ? 1 + r % 8 : 1;
			const uint8_t *p[8];
			size_t l[8];

			for (size_t i = 0; i < n; i++) {
				unsigned k = (r * 8 + (unsigned)i) % NTLP;

				p[i] = f->tlp[s][u][k];
				l[i] = f->len[s][u][k];
			}
			/* PCIe 6.x §6.33 aggregation: at most 256 DW of payload in a unit. */
			while (n > 1) {
				size_t total = 0;

				for (size_t i = 0; i < n; i++)
					total += l[i] - 12;
				if (total <= PCITSM_IDE_AGG_DATA_MAX)
					break;
				n--;
			}
			PCITSM_TRY(pcitsm_ide_wire_send(f->w, (enum pcitsm_ide_side)s, false, p, l, n));
		}
	}
	for (int s = 0; s < 2; s++)
		if (f->w->stats[s].rejected || f->w->stats[s].tx_refused)
			return PCITSM_E_STATE;
	return PCITSM_OK;
}

/* A key refresh: KEY_PROG the other set, receivers GO, transmitters GO. */
static void refresh(struct fx *f)
{
	f->kset ^= 1;
	test_ide_keys(f->port[0], f->port[1], &f->env.env, SID, f->kset);
	test_ide_go(f->port[0], f->port[1], SID, f->kset, PCITSM_IDE_RX);
	test_ide_go(f->port[0], f->port[1], SID, f->kset, PCITSM_IDE_TX);
}

static void run_counted(enum pcitsm_gcm_backend b, bool pcrc)
{
	struct fx *f = fx_new(b, pcrc);
	uint64_t exp0, before;

	if (!f)
		skip();
#ifndef NO_MALLOC_HOOK
	{
		/* The hook sees allocations: one malloc and one free. */
		void *volatile q;

		n_alloc = 0;
		counting = 1;
		q = malloc(16);
		free(q);
		counting = 0;
		assert_int_equal(n_alloc, 2);
	}
#endif
	assert_ok(traffic(f, 50)); /* first-use paths */
	exp0 = pcitsm_gcm_key_expansions(f->gcm);
	assert_int_equal(exp0, 12); /* 2 ports x 2 directions x 3 sub-streams */
	before = delivered;
	n_alloc = 0;
	counting = 1;
	pcitsm_err e = traffic(f, ROUNDS / 2);
	counting = 0;
	assert_ok(e);
	/* A refresh expands exactly the 12 new keys, and allocates nothing either: the key objects
	 * were made at the first KEY_PROG of each slot. */
	refresh(f);
	assert_int_equal(pcitsm_gcm_key_expansions(f->gcm), exp0 + 12);
	counting = 1;
	e = traffic(f, ROUNDS / 2);
	counting = 0;
	assert_ok(e);
	assert_int_equal(pcitsm_gcm_key_expansions(f->gcm), exp0 + 12);
#ifdef NO_MALLOC_HOOK
	print_message("%s%s: %llu TLPs delivered, allocations not counted (AddressSanitizer), "
		      "%llu key expansions\n",
		      pcitsm_gcm_name(f->gcm), pcrc ? " pcrc" : "",
		      (unsigned long long)(delivered - before),
		      (unsigned long long)(pcitsm_gcm_key_expansions(f->gcm) - exp0));
#else
	print_message("%s%s: %llu TLPs delivered, %lu allocations, %llu key expansions\n",
		      pcitsm_gcm_name(f->gcm), pcrc ? " pcrc" : "",
		      (unsigned long long)(delivered - before), n_alloc,
		      (unsigned long long)(pcitsm_gcm_key_expansions(f->gcm) - exp0));
#endif
	assert_true(delivered - before > (uint64_t)ROUNDS * 4);
	assert_int_equal(pcitsm_ide_stream_state(f->port[0], 0), PCITSM_IDE_SECURE);
	assert_true(f->port[0]->stream[0].stats.tx_syncs > 10);
#ifdef NO_MALLOC_HOOK
	fx_free(f);
	skip();
#else
	assert_int_equal(n_alloc, 0);
	fx_free(f);
#endif
}

static void test_no_alloc_ipsecmb(void **state) { run_counted(PCITSM_GCM_IPSECMB, false); }
static void test_no_alloc_openssl(void **state) { run_counted(PCITSM_GCM_OPENSSL, false); }
static void test_no_alloc_pcrc(void **state) { run_counted(PCITSM_GCM_AUTO, true); }

/* The same traffic where any system call but read/write/exit/sigreturn is fatal. */
static void run_strict(enum pcitsm_gcm_backend b)
{
	struct fx *f;
	int fd[2], status;
	pcitsm_err e = PCITSM_E_IO;
	uint64_t got = 0;
	pid_t pid;

	test_skip_under_valgrind("memcheck makes system calls of its own in the traced process, "
				 "which seccomp strict mode kills");
	f = fx_new(b, true);
	if (!f)
		skip();
	assert_ok(traffic(f, 50));
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t res[2];

		close(fd[0]);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0)) {
			res[0] = (uint64_t)-1; /* not available here: say so */
		} else {
			uint64_t d0 = delivered;

			res[0] = traffic(f, ROUNDS);
			res[1] = delivered - d0;
		}
		if (write(fd[1], res, sizeof(res)) != sizeof(res))
			res[0] = 1;
		syscall(SYS_exit, 0); /* exit_group is not allowed in strict mode */
	}
	close(fd[1]);
	uint64_t res[2] = { 0 };
	ssize_t n = read(fd[0], res, sizeof(res));

	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fx_free(f);
	if (WIFSIGNALED(status))
		fail_msg("the data path made a system call: child killed by signal %d",
			 WTERMSIG(status));
	assert_int_equal(n, sizeof(res));
	if (res[0] == (uint64_t)-1)
		skip(); /* seccomp strict mode refused by this kernel or container */
	e = (pcitsm_err)res[0];
	got = res[1];
	assert_ok(e);
	print_message("seccomp strict: %llu TLPs delivered, no system call\n",
		      (unsigned long long)got);
	assert_true(got > (uint64_t)ROUNDS * 4);
}

static void test_no_syscall_ipsecmb(void **state) { run_strict(PCITSM_GCM_IPSECMB); }
static void test_no_syscall_openssl(void **state) { run_strict(PCITSM_GCM_OPENSSL); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_alloc_ipsecmb),   cmocka_unit_test(test_no_alloc_openssl),
		cmocka_unit_test(test_no_alloc_pcrc),      cmocka_unit_test(test_no_syscall_ipsecmb),
		cmocka_unit_test(test_no_syscall_openssl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
