/* SPDX-License-Identifier: MIT */
/*
 * IDE bursts (pcitsm_ide_tx_burst / pcitsm_ide_rx_burst) are an optimisation, not a semantic
 * change: two identical port pairs (same seed, same keys) carry the same TLPs, one pair in bursts,
 * the other one TLP per call, and everything is compared byte for byte: IDE TLPs, IDE Sync, the
 * delivered plaintext, errors, the index a burst stopped at, stream states and statistics. Both
 * AES-GCM backends, with and without PCRC. A TLP tampered in the middle of a burst is rejected
 * exactly as singly and the TLPs after it are untouched; a transmit failure mid-burst (no room,
 * IDE Sync due) says which TLP; a burst allocates nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/ide.h"
#include "testutil.h"

#include "alloc_hook.h"

#define RP_RID 0x0008
#define EP_RID 0x0100
#define SID 6
#define NTLP 700
#define CHUNK 37 /* TLPs per burst: not a divisor of anything in sight */
#define OUT_CAP (PCITSM_TLP_HDR_MAX + 256)

struct pair {
	struct pcitsm_env_test env;
	struct pcitsm_gcm *gcm;
	struct pcitsm_ide_port *rp, *ep;
	uint8_t wire[NTLP][PCITSM_TLP_PREFIX_LEN + OUT_CAP + 16];
	uint8_t plain[NTLP][OUT_CAP];
	struct pcitsm_ide_io io[NTLP];
	struct pcitsm_ide_rx_out out[NTLP];
};

static uint8_t tlp[NTLP][OUT_CAP];
static size_t tlp_len[NTLP];

static struct pair *pair_new(enum pcitsm_gcm_backend b, bool pcrc)
{
	struct pair *f = calloc(1, sizeof(*f));
	struct pcitsm_ide_sel s = { 0 };

	assert_non_null(f);
	pcitsm_env_test_init(&f->env, 7);
	if (pcitsm_gcm_new(&f->gcm, b) != PCITSM_OK) {
		free(f);
		return NULL; /* ipsec-mb unusable on this CPU */
	}
	assert_ok(pcitsm_ide_port_new(&f->rp, f->gcm, &f->env.env, RP_RID));
	assert_ok(pcitsm_ide_port_new(&f->ep, f->gcm, &f->env.env, EP_RID));
	s.ctl.stream_id = SID;
	s.ctl.agg_pr = 3;
	s.ctl.pcrc = pcrc;
	s.rid_valid = true;
	s.rid_base = s.rid_limit = EP_RID;
	s.nr_addr = 1;
	s.addr[0] = (struct pcitsm_ide_addr_assoc){ true, 0x80000000, 0x8fffffff };
	assert_ok(pcitsm_ide_stream_config(f->rp, 0, &s));
	s.ctl.default_stream = true;
	s.rid_base = s.rid_limit = RP_RID;
	assert_ok(pcitsm_ide_stream_config(f->ep, 0, &s));
	test_ide_keys(f->rp, f->ep, &f->env.env, SID, 0);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_RX);
	test_ide_go(f->rp, f->ep, SID, 0, PCITSM_IDE_TX);
	assert_ok(pcitsm_ide_stream_enable(f->ep, 0));
	assert_ok(pcitsm_ide_stream_enable(f->rp, 0));
	for (size_t i = 0; i < NTLP; i++) {
		f->io[i] = (struct pcitsm_ide_io){ tlp[i], tlp_len[i], f->wire[i], sizeof(f->wire[i]),
						   0 };
		f->out[i] = (struct pcitsm_ide_rx_out){ .buf = f->plain[i], .cap = OUT_CAP };
	}
	return f;
}

static void pair_free(struct pair *f)
{
	if (!f)
		return;
	pcitsm_ide_port_free(f->rp);
	pcitsm_ide_port_free(f->ep);
	pcitsm_gcm_free(f->gcm);
	free(f);
}

/* Root port to endpoint: Memory Writes, Memory Reads and Completions mixed, then only Memory
 * Writes (so IDE Sync is due every 245), payloads of 4-256 bytes, every fifth memory request with
 * a PASID TLP Prefix. */
static void build(void)
{
	struct pcitsm_env_test env;
	uint8_t data[256];

	pcitsm_env_test_init(&env, 3);
	for (size_t i = 0; i < NTLP; i++) {
		enum pcitsm_ide_sub u = i >= 150 ? PCITSM_IDE_SUB_PR
				       : i % 9 == 4 ? PCITSM_IDE_SUB_NPR
				       : i % 9 == 7 ? PCITSM_IDE_SUB_CPL : PCITSM_IDE_SUB_PR;
		size_t dl = 4 * (1 + i * 13 % 64);
		uint64_t addr = 0x80000000 + 64 * (uint64_t)i;
		struct pcitsm_tlp t;

		assert_ok(pcitsm_random(&env.env, data, dl));
		test_ide_tlp(&t, u, RP_RID, EP_RID, addr, (uint8_t)i, data, dl);
		/* Some memory requests carry a PASID TLP Prefix (in the AAD). */
		if (u != PCITSM_IDE_SUB_CPL && i % 5 == 1) {
			t.has_pasid = true;
			t.pasid = (struct pcitsm_tlp_pasid){ .pasid = 0x10000 + (uint32_t)i,
							     .exec = u == PCITSM_IDE_SUB_NPR };
		}
		assert_ok(pcitsm_tlp_encode(&t, tlp[i], sizeof(tlp[i]), &tlp_len[i]));
	}
}

static void same_out(const struct pcitsm_ide_rx_out *a, const struct pcitsm_ide_rx_out *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->stream, b->stream);
	assert_int_equal(a->consumed, b->consumed);
	for (size_t j = 0; j < a->n; j++) {
		assert_int_equal(a->off[j], b->off[j]);
		assert_int_equal(a->len[j], b->len[j]);
		assert_memory_equal(a->buf + a->off[j], b->buf + b->off[j], a->len[j]);
	}
}

static void same_ports(const struct pair *a, const struct pair *b)
{
	assert_int_equal(pcitsm_ide_stream_state(a->rp, 0), pcitsm_ide_stream_state(b->rp, 0));
	assert_int_equal(pcitsm_ide_stream_state(a->ep, 0), pcitsm_ide_stream_state(b->ep, 0));
	assert_memory_equal(&a->rp->stream[0].stats, &b->rp->stream[0].stats,
			    sizeof(a->rp->stream[0].stats));
	assert_memory_equal(&a->ep->stream[0].stats, &b->ep->stream[0].stats,
			    sizeof(a->ep->stream[0].stats));
}

/* The IDE Sync the transmitter asks for (E_BUSY), into the receiver; the same on the twin. */
static void sync_both(struct pair *a, struct pair *b)
{
	uint8_t ma[64], mb[64], buf[64];
	size_t la, lb;
	struct pcitsm_ide_rx_out o = { .buf = buf, .cap = sizeof(buf) };

	assert_ok(pcitsm_ide_next_msg(a->rp, ma, sizeof(ma), &la));
	assert_ok(pcitsm_ide_next_msg(b->rp, mb, sizeof(mb), &lb));
	assert_int_equal(la, lb);
	assert_memory_equal(ma, mb, la);
	assert_ok(pcitsm_ide_rx(a->ep, ma, la, &o));
	assert_true(o.consumed);
	assert_ok(pcitsm_ide_rx(b->ep, mb, lb, &o));
}

/* Singles on the twin: TLPs at..end one call each until the first error. */
static pcitsm_err tx_singles(struct pair *b, size_t at, size_t end, size_t *done)
{
	pcitsm_err e = PCITSM_OK;

	for (*done = 0; at + *done < end; ++*done) {
		e = pcitsm_ide_tx(b->rp, &b->io[at + *done], 1);
		if (e)
			break;
	}
	return e;
}

static pcitsm_err rx_singles(struct pair *b, size_t at, size_t end, size_t *done)
{
	pcitsm_err e = PCITSM_OK;

	for (*done = 0; at + *done < end; ++*done) {
		e = pcitsm_ide_rx(b->ep, b->wire[at + *done], b->io[at + *done].out_len,
				  &b->out[at + *done]);
		if (e)
			break;
	}
	return e;
}

static pcitsm_err rx_burst(struct pair *a, size_t at, size_t end, size_t *done)
{
	const uint8_t *in[CHUNK];
	size_t len[CHUNK];

	for (size_t i = at; i < end; i++) {
		in[i - at] = a->wire[i];
		len[i - at] = a->io[i].out_len;
	}
	return pcitsm_ide_rx_burst(a->ep, in, len, &a->out[at], end - at, done);
}

static void run_identical(enum pcitsm_gcm_backend backend, bool pcrc)
{
	struct pair *a = pair_new(backend, pcrc), *b = pair_new(backend, pcrc);
	unsigned syncs = 0;

	if (!a || !b) {
		pair_free(a);
		pair_free(b);
		skip();
	}
	for (size_t at = 0; at < NTLP;) {
		size_t end = PCITSM_MIN(at + CHUNK, NTLP), da, db;
		pcitsm_err ea = pcitsm_ide_tx_burst(a->rp, &a->io[at], end - at, &da);
		pcitsm_err eb = tx_singles(b, at, end, &db);

		assert_int_equal(ea, eb);
		assert_int_equal(da, db);
		for (size_t i = at; i < at + da; i++) {
			assert_int_equal(a->io[i].out_len, b->io[i].out_len);
			assert_memory_equal(a->wire[i], b->wire[i], a->io[i].out_len);
		}
		ea = rx_burst(a, at, at + da, &da);
		eb = rx_singles(b, at, at + db, &db);
		assert_ok(ea);
		assert_ok(eb);
		assert_int_equal(da, db);
		for (size_t i = at; i < at + da; i++) {
			same_out(&a->out[i], &b->out[i]);
			assert_int_equal(a->out[i].n, 1);
		}
		at += da;
		if (at < end) {
			assert_int_equal(ea = pcitsm_ide_tx_burst(a->rp, &a->io[at], end - at, &da),
					 PCITSM_E_BUSY);
			assert_int_equal(da, 0);
			sync_both(a, b);
			syncs++;
		}
		same_ports(a, b);
	}
	assert_true(syncs >= 2);
	assert_int_equal(a->rp->stream[0].stats.tx_tlps, NTLP + syncs);
	pair_free(a);
	pair_free(b);
}

static void test_identical_ipsecmb(void **state) { run_identical(PCITSM_GCM_IPSECMB, false); }
static void test_identical_openssl(void **state) { run_identical(PCITSM_GCM_OPENSSL, false); }
static void test_identical_pcrc_ipsecmb(void **state) { run_identical(PCITSM_GCM_IPSECMB, true); }
static void test_identical_pcrc_openssl(void **state) { run_identical(PCITSM_GCM_OPENSSL, true); }

/* TLP 9 of a burst of 20 has a flipped payload bit: IDE Check Failed at index 9, as singly; 0-8
 * delivered, 10-19 untouched; the stream is Insecure on both and says IDE Fail the same way. */
static void run_tamper(enum pcitsm_gcm_backend backend)
{
	struct pair *a = pair_new(backend, false), *b = pair_new(backend, false);
	uint8_t fa[64], fb[64];
	size_t da, db, la, lb;

	if (!a || !b) {
		pair_free(a);
		pair_free(b);
		skip();
	}
	assert_ok(pcitsm_ide_tx_burst(a->rp, a->io, 20, &da));
	assert_int_equal(da, 20);
	assert_ok(tx_singles(b, 0, 20, &db));
	a->wire[9][PCITSM_TLP_PREFIX_LEN + 16 + 1] ^= 0x04;
	b->wire[9][PCITSM_TLP_PREFIX_LEN + 16 + 1] ^= 0x04;
	for (size_t i = 10; i < 20; i++)
		a->out[i].n = 99; /* sentinel: untouched */
	assert_err(rx_burst(a, 0, 20, &da), PCITSM_E_MAC);
	assert_int_equal(da, 9);
	assert_err(rx_singles(b, 0, 20, &db), PCITSM_E_MAC);
	assert_int_equal(db, 9);
	for (size_t i = 0; i <= 9; i++)
		same_out(&a->out[i], &b->out[i]);
	for (size_t i = 10; i < 20; i++)
		assert_int_equal(a->out[i].n, 99);
	/* Nothing of the tampered TLP reached its buffer. */
	assert_int_equal(a->out[9].n, 0);
	same_ports(a, b);
	assert_int_equal(pcitsm_ide_stream_state(a->ep, 0), PCITSM_IDE_INSECURE);
	assert_ok(pcitsm_ide_next_msg(a->ep, fa, sizeof(fa), &la));
	assert_ok(pcitsm_ide_next_msg(b->ep, fb, sizeof(fb), &lb));
	assert_int_equal(la, lb);
	assert_memory_equal(fa, fb, la);
	/* The rest, resumed: refused by the Insecure stream at its first TLP, as singly. */
	assert_err(rx_burst(a, 10, 20, &da), PCITSM_E_STATE);
	assert_int_equal(da, 0);
	assert_err(rx_singles(b, 10, 20, &db), PCITSM_E_STATE);
	same_ports(a, b);
	pair_free(a);
	pair_free(b);
}

static void test_tamper_ipsecmb(void **state) { run_tamper(PCITSM_GCM_IPSECMB); }
static void test_tamper_openssl(void **state) { run_tamper(PCITSM_GCM_OPENSSL); }

/* A transmit failure mid-burst (no room for TLP 5): it is named, 0-4 are sent and committed, the
 * rest untouched; resumed after the caller fixes it, the output is what singles give. */
static void test_tx_fail_mid(void **state)
{
	struct pair *a = pair_new(PCITSM_GCM_AUTO, false), *b = pair_new(PCITSM_GCM_AUTO, false);
	size_t da, db;

	for (size_t i = 6; i < 12; i++)
		a->io[i].out_len = 12345; /* sentinel */
	a->io[5].out_cap = 8;
	b->io[5].out_cap = 8;
	assert_err(pcitsm_ide_tx_burst(a->rp, a->io, 12, &da), PCITSM_E_NOSPC);
	assert_int_equal(da, 5);
	assert_err(tx_singles(b, 0, 12, &db), PCITSM_E_NOSPC);
	assert_int_equal(db, 5);
	for (size_t i = 6; i < 12; i++)
		assert_int_equal(a->io[i].out_len, 12345);
	assert_int_equal(a->rp->stream[0].stats.tx_tlps, 5);
	a->io[5].out_cap = b->io[5].out_cap = sizeof(a->wire[5]);
	assert_ok(pcitsm_ide_tx_burst(a->rp, &a->io[5], 7, &da));
	assert_int_equal(da, 7);
	assert_ok(tx_singles(b, 5, 12, &db));
	for (size_t i = 0; i < 12; i++) {
		assert_int_equal(a->io[i].out_len, b->io[i].out_len);
		assert_memory_equal(a->wire[i], b->wire[i], a->io[i].out_len);
	}
	same_ports(a, b);
	pair_free(a);
	pair_free(b);
}

static void test_args(void **state)
{
	struct pair *a = pair_new(PCITSM_GCM_AUTO, false);
	const uint8_t *in[1] = { a->wire[0] };
	size_t len[1] = { 0 }, done = 7;

	assert_err(pcitsm_ide_tx_burst(NULL, a->io, 1, &done), PCITSM_E_INVAL);
	assert_int_equal(done, 0);
	assert_err(pcitsm_ide_tx_burst(a->rp, NULL, 1, &done), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_tx_burst(a->rp, a->io, 1, NULL), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_rx_burst(NULL, in, len, a->out, 1, &done), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_rx_burst(a->ep, NULL, len, a->out, 1, &done), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_rx_burst(a->ep, in, NULL, a->out, 1, &done), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_rx_burst(a->ep, in, len, NULL, 1, &done), PCITSM_E_INVAL);
	assert_err(pcitsm_ide_rx_burst(a->ep, in, len, a->out, 1, NULL), PCITSM_E_INVAL);
	done = 7;
	assert_ok(pcitsm_ide_tx_burst(a->rp, NULL, 0, &done));
	assert_int_equal(done, 0);
	assert_ok(pcitsm_ide_rx_burst(a->ep, NULL, NULL, NULL, 0, &done));
	/* A NULL buffer inside a burst is that TLP's error. */
	a->io[2].in = NULL;
	assert_err(pcitsm_ide_tx_burst(a->rp, a->io, 4, &done), PCITSM_E_INVAL);
	assert_int_equal(done, 2);
	pair_free(a);
}

/* Bursts of every size the caller may pick, with IDE Sync between: no allocation. */
static void run_no_alloc(enum pcitsm_gcm_backend backend)
{
	struct pair *a = pair_new(backend, true);

	if (!a)
		skip();
#ifdef NO_MALLOC_HOOK
	pair_free(a);
	skip();
#else
	size_t done, at = 0, total = 0;

	n_alloc = 0;
	counting = 1;
	for (unsigned r = 0; r < 40; r++) {
		size_t n = 1 + (r * 11) % CHUNK, end = PCITSM_MIN(at + n, NTLP);
		pcitsm_err e = pcitsm_ide_tx_burst(a->rp, &a->io[at], end - at, &done);
		uint8_t m[64], buf[64];
		struct pcitsm_ide_rx_out o = { .buf = buf, .cap = sizeof(buf) };
		size_t ml, got;

		if (rx_burst(a, at, at + done, &got) || got != done)
			break;
		total += done;
		at = (at + done) % (NTLP - CHUNK);
		if (e == PCITSM_E_BUSY) {
			if (pcitsm_ide_next_msg(a->rp, m, sizeof(m), &ml) ||
			    pcitsm_ide_rx(a->ep, m, ml, &o))
				break;
		} else if (e) {
			break;
		}
	}
	counting = 0;
	assert_int_equal(n_alloc, 0);
	assert_true(total > 500);
	pair_free(a);
#endif
}

static void test_no_alloc_ipsecmb(void **state) { run_no_alloc(PCITSM_GCM_IPSECMB); }
static void test_no_alloc_openssl(void **state) { run_no_alloc(PCITSM_GCM_OPENSSL); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_ipsecmb),
		cmocka_unit_test(test_identical_openssl),
		cmocka_unit_test(test_identical_pcrc_ipsecmb),
		cmocka_unit_test(test_identical_pcrc_openssl),
		cmocka_unit_test(test_tamper_ipsecmb),
		cmocka_unit_test(test_tamper_openssl),
		cmocka_unit_test(test_tx_fail_mid),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_no_alloc_ipsecmb),
		cmocka_unit_test(test_no_alloc_openssl),
	};

	build();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
