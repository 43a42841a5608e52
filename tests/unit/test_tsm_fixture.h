/* SPDX-License-Identifier: MIT */
/* The TSM tests' machine: an emulated platform with its devices, the platform firmware and the TSM
 * core over it (include/pcitsm/machine.h), booted in the order pcitsmd boots them (test_tsm,
 * test_tsm_faults, test_tsm_tdisp, test_tsm_keylife, the campaigns). Each test configures the
 * machine its own way from test_tsm_cfg's and builds it (pcitsm_machine_build); fx_free takes
 * all of it down. */
#ifndef PCITSM_TEST_TSM_FIXTURE_H
#define PCITSM_TEST_TSM_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "pcitsm/machine.h"
#include "testutil.h"

struct fx {
	struct pcitsm_env_test env;
	struct pcitsm_machine m;
};

/* What every TSM test starts from: a fixture whose deterministic environment is seeded with seed
 * and logs errors only; mc the default machine over it, with devices dc of P-256 identities (the
 * quick ones) on the platform pc, both the defaults for the caller to change. */
static inline struct fx *test_tsm_cfg(uint64_t seed, struct pcitsm_machine_cfg *mc,
				      struct pcitsm_emu_config *pc,
				      struct pcitsm_emu_devices_cfg *dc)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	pcitsm_env_test_init(&fx->env, seed);
	fx->env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_machine_cfg_default(mc, &fx->env.env);
	pcitsm_emu_config_default(pc);
	mc->plat = pc;
	memset(dc, 0, sizeof(*dc));
	dc->curve_bits = 256;
	mc->devs = dc;
	return fx;
}

/* test_tsm_cfg's machine made whole, its first endpoint with functions 1..extra_funcs. */
static inline struct fx *test_tsm_new(uint64_t seed, unsigned extra_funcs)
{
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_devices_cfg dc;
	struct fx *fx = test_tsm_cfg(seed, &mc, &cfg, &dc);

	cfg.ports[0].ep_extra_funcs = extra_funcs;
	assert_ok(pcitsm_machine_build(&fx->m, &mc, PCITSM_MACHINE_CORE, NULL));
	return fx;
}

/* The function at s, an address the test writes correctly. */
static inline struct pcitsm_bdf B(const char *s)
{
	struct pcitsm_bdf b;

	assert_ok(pcitsm_bdf_parse(s, &b));
	return b;
}

/* A sysfs write (tsm/connect, lock, accept, ...) of s to the function at bdf: its return. */
typedef int (*write_fn)(struct pcitsm_tsm_core *, const struct pcitsm_bdf *, const char *, size_t);
static inline int W(struct fx *fx, write_fn fn, const char *bdf, const char *s)
{
	struct pcitsm_bdf b = B(bdf);

	return fn(fx->m.core, &b, s, strlen(s));
}

/* Every selective block of every function idle (Enable clear, Stream ID 255), but those of the
 * stream keep_id (-1: none), which may stay enabled. */
static inline void test_tsm_assert_blocks_idle(struct fx *fx, int keep_id)
{
	for (unsigned i = 0; i < fx->m.plat.nr_funcs; i++) {
		struct pcitsm_emu_func *f = &fx->m.plat.funcs[i];
		struct pcitsm_ide_info ide;
		struct pcitsm_ide_sel sel;

		if (!f->ide_off)
			continue;
		assert_ok(pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &ide));
		for (unsigned s = 0; s < ide.nr_sel; s++) {
			assert_ok(pcitsm_ide_sel_read(&f->cfg.cfg, &ide, s, &sel));
			if (keep_id >= 0 && sel.ctl.stream_id == keep_id)
				continue;
			assert_false(sel.ctl.enable);
			assert_int_equal(sel.ctl.stream_id, PCITSM_IDE_RESERVED_STREAM_ID);
		}
	}
}

/* Nothing of a stream left anywhere: no Enable bit, every selective block idle (ID 255), no pool
 * slot, no Stream ID, no session. */
static inline void test_tsm_assert_clean(struct fx *fx)
{
	struct pcitsm_tsm_counters k;

	pcitsm_tsm_counters(fx->m.core, &k);
	assert_int_equal(k.h_in_use, 0);
	assert_int_equal(k.ids_in_use, 0);
	assert_int_equal(k.port_blocks_in_use, 0);
	assert_int_equal(k.sessions_open, 0);
	test_tsm_assert_blocks_idle(fx, -1);
}

static inline void fx_free(struct fx *fx)
{
	pcitsm_machine_free(&fx->m);
	free(fx);
}

#endif
