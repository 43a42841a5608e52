/* SPDX-License-Identifier: MIT */
/*
 * The platform-firmware TSM against faults the review found untested: a device whose QUERY_RESP
 * disagrees with its config space (the downgrade cross-check must stop the connect before any
 * key), Stream IDs that collide (the pool's uniqueness, directly and against an adopted stream),
 * and the order in which the firmware's connect and rekey start keys (the library's one
 * sequence: receivers at both ends before any transmitter), read from its debug log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"
#include "pcitsm/tio.h"
#include "tsm/tsm_priv.h"


/* The firmware's IDE_KM operations, as its debug log names them (one test at a time). */
#define LOG_MAX 256
static char g_log[LOG_MAX][96];
static unsigned g_nr_log;
static unsigned g_keys_seen;

static void capture(const struct pcitsm_env *env, enum pcitsm_log_level lvl, const char *msg)
{
	(void)env;
	(void)lvl;
	if (strncmp(msg, "idekm link: ", 12) || g_nr_log >= LOG_MAX)
		return;
	snprintf(g_log[g_nr_log++], sizeof(g_log[0]), "%s", msg + 12);
}

static void key_seen(void *arg, const uint8_t key[32], const uint8_t ifv[8])
{
	(void)arg;
	(void)key;
	(void)ifv;
	g_keys_seen++;
}

/* adopt_id >= 0: firmware left a stream with that Stream ID enabled at root port 0 and its
 * endpoint before the core started. */
static struct fx *fx_new(const struct pcitsm_emu_dev_faults *f0, int adopt_id, bool log)
{
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_devices_cfg dc;
	struct fx *fx = test_tsm_cfg(11, &mc, &cfg, &dc);

	if (log) {
		fx->env.env.log_level = PCITSM_LOG_DEBUG;
		fx->env.env.log = capture;
	}
	g_nr_log = g_keys_seen = 0;
	if (f0)
		dc.faults[0] = *f0;
	dc.key_observer = key_seen;
	assert_ok(pcitsm_machine_build(&fx->m, &mc, PCITSM_MACHINE_FIRMWARE, NULL));
	if (adopt_id >= 0) {
		/* Root port 0000:00:01.0 and its endpoint 0000:01:00.0. */
		test_ide_enable_block0(&fx->m.plat.funcs[0], (uint8_t)adopt_id);
		test_ide_enable_block0(&fx->m.plat.funcs[2], (uint8_t)adopt_id);
	}
	assert_ok(pcitsm_machine_build(&fx->m, &mc, PCITSM_MACHINE_CORE, NULL));
	return fx;
}

static int wr(struct fx *fx, const char *bdf, const char *s)
{
	struct pcitsm_bdf b;

	assert_ok(pcitsm_bdf_parse(bdf, &b));
	return pcitsm_tsm_connect_write(fx->m.core, &b, s, strlen(s));
}

static int dis(struct fx *fx, const char *bdf)
{
	struct pcitsm_bdf b;

	assert_ok(pcitsm_bdf_parse(bdf, &b));
	return pcitsm_tsm_disconnect_write(fx->m.core, &b, "tsm0", 4);
}

static void status(struct fx *fx, const char *bdf, struct pcitsm_tsm_status *st)
{
	struct pcitsm_bdf b;

	assert_ok(pcitsm_bdf_parse(bdf, &b));
	assert_ok(pcitsm_tsm_status(fx->m.core, &b, st));
}

/* ---------------------------------------------------------------------------------------------
 * (a) QUERY_RESP that disagrees with config space.
 */
static void query_resp_lie(void **state)
{
	struct pcitsm_emu_dev_faults lie = { .query_resp_lie = true };
	struct pcitsm_tsm_status st;
	struct fx *fx;

	(void)state;
	fx = fx_new(&lie, -1, false);
	assert_int_equal(wr(fx, "0000:01:00.0", "tsm0"), -pcitsm_err_errno(PCITSM_E_MISMATCH));
	status(fx, "0000:01:00.0", &st);
	assert_false(st.connected);
	assert_int_equal(st.last_failure.step, PCITSM_TSM_STEP_IDE_QUERY);
	assert_err(st.last_failure.err, PCITSM_E_MISMATCH);
	assert_non_null(strstr(st.last_failure.why, "QUERY_RESP IDE Capability: device 0x"));
	assert_int_equal(g_keys_seen, 0); /* no KEY_PROG reached the device */
	/* No stream enabled, no ID, slot or block taken, the session ended. */
	test_tsm_assert_clean(fx);
	/* The honest neighbour connects. */
	assert_int_equal(wr(fx, "0000:02:00.0", "tsm0"), 0);
	assert_true(g_keys_seen == 6);
	assert_int_equal(dis(fx, "0000:02:00.0"), 0);
	fx_free(fx);
}

/* ---------------------------------------------------------------------------------------------
 * (b) Stream ID uniqueness.
 */
static void ida_collide(void **state)
{
	struct tsm_ida a;
	unsigned i;

	(void)state;
	tsm_ida_init(&a, 8);
	assert_ok(tsm_ida_claim(&a, 3));
	assert_err(tsm_ida_claim(&a, 3), PCITSM_E_BUSY); /* a second stream with the same ID */
	assert_int_equal(a.used, 1);
	assert_err(tsm_ida_claim(&a, 8), PCITSM_E_RANGE);
	for (unsigned n = 0; n < 7; n++) {
		assert_ok(tsm_ida_alloc(&a, &i));
		assert_true(i != 3);
	}
	assert_err(tsm_ida_alloc(&a, &i), PCITSM_E_EXHAUSTED);
	tsm_ida_free(&a, 3);
	assert_ok(tsm_ida_claim(&a, 3));
	assert_int_equal(a.used, 8);
}

/* The adopted stream holds Stream ID 1; a connect's stream takes H slot 1 and so (SEV-TIO:
 * Stream ID = H) Stream ID 1: the claim must fail, the adopted stream stay as it was. */
static void connect_collides_with_adopted(void **state)
{
	struct pcitsm_tsm_stream_info si[4];
	struct pcitsm_tsm_counters before, after;
	struct pcitsm_tsm_status st;
	struct fx *fx;

	(void)state;
	fx = fx_new(NULL, 1, false);
	assert_int_equal(pcitsm_tsm_streams(fx->m.core, 0, si, 4), 1);
	assert_true(si[0].adopted);
	assert_int_equal(si[0].stream_id, 1);
	pcitsm_tsm_counters(fx->m.core, &before);
	assert_int_equal(wr(fx, "0000:02:00.0", "tsm0"), -EBUSY);
	status(fx, "0000:02:00.0", &st);
	assert_false(st.connected);
	assert_int_equal(st.last_failure.step, PCITSM_TSM_STEP_STREAM_ALLOC);
	assert_err(st.last_failure.err, PCITSM_E_BUSY);
	assert_int_equal(g_keys_seen, 0);
	pcitsm_tsm_counters(fx->m.core, &after);
	assert_int_equal(after.h_in_use, before.h_in_use);
	assert_int_equal(after.ids_in_use, before.ids_in_use);
	assert_int_equal(after.port_blocks_in_use, before.port_blocks_in_use);
	assert_int_equal(after.sessions_open, 0);
	assert_int_equal(pcitsm_tsm_streams(fx->m.core, 0, si, 4), 1);
	test_tsm_assert_blocks_idle(fx, 1); /* only the adopted stream */
	fx_free(fx);
}

/* ---------------------------------------------------------------------------------------------
 * The order of the firmware's key operations (the library's sequence, read from its log).
 */
static unsigned find(const char *s, unsigned from)
{
	for (unsigned i = from; i < g_nr_log; i++)
		if (strstr(g_log[i], s))
			return i;
	return UINT32_MAX;
}

static unsigned find_last(const char *s)
{
	unsigned last = UINT32_MAX;

	for (unsigned i = 0; i < g_nr_log; i++)
		if (strstr(g_log[i], s))
			last = i;
	return last;
}

static unsigned count(const char *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g_nr_log; i++)
		n += strstr(g_log[i], s) != NULL;
	return n;
}

static void check_order(unsigned kset, bool query)
{
	char rx[32], tx[32], kp[32];

	snprintf(rx, sizeof(rx), "K_SET_GO K%u Rx", kset);
	snprintf(tx, sizeof(tx), "K_SET_GO K%u Tx", kset);
	snprintf(kp, sizeof(kp), "KEY_PROG K%u", kset);
	assert_int_equal(count(rx), 6); /* 3 sub-streams x 2 ends */
	assert_int_equal(count(tx), 6);
	assert_int_equal(count(kp), 12);
	assert_true(find_last(rx) < find(tx, 0));
	assert_true(find_last(kp) < find(rx, 0));
	for (const char *const *end = (const char *const[]){ "device", "partner", NULL }; *end;
	     end++) {
		char want[64];

		snprintf(want, sizeof(want), "%s PR at the %s", rx, *end);
		assert_true(find(want, 0) != UINT32_MAX);
	}
	if (query)
		assert_non_null(strstr(g_log[0], "QUERY PortIndex 0 at the device"));
}

static void fw_key_order(void **state)
{
	struct pcitsm_bdf ep;
	struct fx *fx;

	(void)state;
	fx = fx_new(NULL, -1, true);
	assert_int_equal(wr(fx, "0000:01:00.0", "tsm0"), 0);
	check_order(0, true);
	assert_ok(pcitsm_bdf_parse("0000:01:00.0", &ep));
	g_nr_log = 0;
	assert_ok(pcitsm_tsm_rekey(fx->m.core, &ep));
	check_order(1, false);
	assert_int_equal(count("QUERY"), 0);
	assert_int_equal(dis(fx, "0000:01:00.0"), 0);
	fx_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_resp_lie),
		cmocka_unit_test(ida_collide),
		cmocka_unit_test(connect_collides_with_adopted),
		cmocka_unit_test(fw_key_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
