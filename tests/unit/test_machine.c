/* SPDX-License-Identifier: MIT */
/*
 * The emulated machine (include/pcitsm/machine.h): made part by part in order and taken down from
 * any part; a part that fails is named, the parts before it stay until freed; a machine without
 * devices has no trust store and a firmware that trusts nothing; the core taken down and made
 * again over the same firmware connects as before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/machine.h"
#include "testutil.h"

struct mfx {
	struct pcitsm_env_test env;
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_devices_cfg dc;
	struct pcitsm_machine m;
};

static struct mfx *mfx_new(void)
{
	struct mfx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	pcitsm_env_test_init(&x->env, 31);
	x->env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_machine_cfg_default(&x->mc, &x->env.env);
	x->dc.curve_bits = 256;
	x->mc.devs = &x->dc;
	return x;
}

static void mfx_free(struct mfx *x)
{
	pcitsm_machine_free(&x->m);
	assert_int_equal(x->m.made, 0);
	assert_null(x->m.core);
	assert_null(x->m.fw);
	assert_null(x->m.devs);
	assert_null(x->m.trust);
	free(x);
}

static int connect_ep0(struct pcitsm_machine *m)
{
	return pcitsm_tsm_connect_write(m->core, &m->plat.links[0].ep->bdf, "tsm0", 4);
}

/* The defaults: the default platform (two ports); every part made in order, one at a time. */
static void parts_in_order(void **state)
{
	struct mfx *x = mfx_new();

	(void)state;
	assert_int_equal(x->mc.core.nr_streams, -1);
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_PLATFORM, NULL));
	assert_int_equal(x->m.made, 1);
	assert_int_equal(x->m.plat.config.nr_ports, 2);
	assert_null(x->m.trust);
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_DEVICES, NULL));
	assert_non_null(x->m.trust);
	assert_non_null(x->m.devs);
	assert_null(x->m.fw);
	/* Again up to a part already made: nothing to do. */
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_TRUST, NULL));
	assert_int_equal(x->m.made, 3);
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, NULL));
	assert_int_equal(x->m.made, 5);
	assert_int_equal(connect_ep0(&x->m), 0);
	mfx_free(x);
}

/* The core taken down (disconnecting what it connected) and made again over the same firmware. */
static void core_again(void **state)
{
	struct mfx *x = mfx_new();
	struct pcitsm_tio_fw *fw;

	(void)state;
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, NULL));
	fw = x->m.fw;
	assert_int_equal(connect_ep0(&x->m), 0);
	assert_int_equal(pcitsm_tio_sessions_open(fw), 1);
	pcitsm_machine_teardown(&x->m, PCITSM_MACHINE_CORE);
	assert_null(x->m.core);
	assert_int_equal(x->m.made, 4);
	assert_int_equal(pcitsm_tio_sessions_open(fw), 0);
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, NULL));
	assert_ptr_equal(x->m.fw, fw);
	assert_int_equal(connect_ep0(&x->m), 0);
	mfx_free(x);
}

/* No devices: no trust store, no responders; the firmware is there, and trusts nothing. */
static void no_devices(void **state)
{
	struct mfx *x = mfx_new();

	(void)state;
	x->mc.devs = NULL;
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, NULL));
	assert_null(x->m.trust);
	assert_null(x->m.devs);
	assert_non_null(x->m.fw);
	assert_true(connect_ep0(&x->m) < 0); /* nothing answers on the mailbox */
	mfx_free(x);
}

/* no_anchors: the devices' roots exist, but the firmware is not given them. */
static void no_anchors(void **state)
{
	struct mfx *x = mfx_new();
	struct pcitsm_tsm_status st;

	(void)state;
	x->mc.no_anchors = true;
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, NULL));
	assert_non_null(x->m.trust);
	assert_int_equal(connect_ep0(&x->m), -EACCES);
	assert_ok(pcitsm_tsm_status(x->m.core, &x->m.plat.links[0].ep->bdf, &st));
	assert_false(st.connected);
	assert_int_equal(st.last_failure.step, PCITSM_TSM_STEP_SPDM_AUTH);
	mfx_free(x);
}

/* A part that fails is named; the parts before it stay (and are freed by pcitsm_machine_free). */
static void failed_part(void **state)
{
	struct pcitsm_tsm_key_policy bad = { .max_tlps = PCITSM_TSM_KEY_MAX_TLPS_CAP + 1 };
	struct pcitsm_emu_config pc;
	enum pcitsm_machine_part part = PCITSM_MACHINE_CORE;
	struct mfx *x = mfx_new();

	(void)state;
	/* The firmware refuses a key policy above its cap (TIO_INIT's check). */
	x->mc.fw.key_policy = &bad;
	assert_err(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, &part), PCITSM_E_RANGE);
	assert_int_equal(part, PCITSM_MACHINE_FIRMWARE);
	assert_int_equal(x->m.made, 3);
	assert_non_null(x->m.devs);
	assert_null(x->m.fw);
	assert_null(x->m.core);
	/* Given a good one, the build goes on from there. */
	x->mc.fw.key_policy = NULL;
	assert_ok(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, &part));
	mfx_free(x);

	/* A platform the emulator refuses: nothing made. */
	x = mfx_new();
	pcitsm_emu_config_default(&pc);
	pc.nr_ports = 0;
	x->mc.plat = &pc;
	part = PCITSM_MACHINE_CORE;
	assert_true(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_CORE, &part) != PCITSM_OK);
	assert_int_equal(part, PCITSM_MACHINE_PLATFORM);
	assert_int_equal(x->m.made, 0);
	/* Past the last part, or with no environment: refused before anything is made. */
	x->mc.plat = NULL;
	assert_err(pcitsm_machine_build(&x->m, &x->mc, (enum pcitsm_machine_part)5, NULL),
		   PCITSM_E_INVAL);
	x->mc.env = NULL;
	assert_err(pcitsm_machine_build(&x->m, &x->mc, PCITSM_MACHINE_PLATFORM, NULL),
		   PCITSM_E_INVAL);
	assert_int_equal(x->m.made, 0);
	mfx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parts_in_order), cmocka_unit_test(core_again),
		cmocka_unit_test(no_devices),     cmocka_unit_test(no_anchors),
		cmocka_unit_test(failed_part),
	};

	return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
