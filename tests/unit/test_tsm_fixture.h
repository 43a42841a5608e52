/* SPDX-License-Identifier: MIT */
/* The TSM tests' machine: an emulated platform with its devices, the platform firmware and the TSM
 * core over it, booted in the order pcitsmd boots them (test_tsm, test_tsm_faults,
 * test_tsm_tdisp). Each test makes the platform, trust store and devices its own way, then calls
 * test_tsm_boot; test_tsm_free takes all of it down. */
#ifndef PCITSM_TEST_TSM_FIXTURE_H
#define PCITSM_TEST_TSM_FIXTURE_H

#include <stdlib.h>

#include "pcitsm/emu.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"
#include "testutil.h"

struct fx {
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform plat;
	struct pcitsm_trust *trust;
	struct pcitsm_emu_devices *devs;
	struct pcitsm_tio_fw *fw;
	struct pcitsm_tsm_core *core;
};

/* The firmware (trusting anchors, with faults if given) and the SEV-TIO core over fx->plat;
 * nr_streams -1 keeps the platform's pool size. */
static inline void test_tsm_boot(struct fx *fx, const struct pcitsm_env *env,
				 struct pcitsm_trust *anchors, const struct pcitsm_tio_faults *faults,
				 int nr_streams, struct pcitsm_xport_tap *relay_tap)
{
	struct pcitsm_tio_cfg fc = { 0 };
	struct pcitsm_tsm_core_cfg cc;

	fc.env = env;
	fc.trust = anchors;
	if (faults)
		fc.faults = *faults;
	pcitsm_emu_rp_keys(&fx->plat, &fc.rp_keys);
	assert_ok(pcitsm_tio_fw_new(&fx->fw, &fc));
	pcitsm_tsm_core_cfg_default(&cc, env);
	pcitsm_emu_tsm_platform(&fx->plat, &cc.plat);
	cc.backend = &pcitsm_tsm_sevtio;
	cc.backend_arg = fx->fw;
	cc.nr_streams = nr_streams;
	cc.relay_tap = relay_tap;
	assert_ok(pcitsm_tsm_core_new(&fx->core, &cc));
}

/* Every selective block of every function idle (Enable clear, Stream ID 255), but those of the
 * stream keep_id (-1: none), which may stay enabled. */
static inline void test_tsm_assert_blocks_idle(struct fx *fx, int keep_id)
{
	for (unsigned i = 0; i < fx->plat.nr_funcs; i++) {
		struct pcitsm_emu_func *f = &fx->plat.funcs[i];
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

	pcitsm_tsm_counters(fx->core, &k);
	assert_int_equal(k.h_in_use, 0);
	assert_int_equal(k.ids_in_use, 0);
	assert_int_equal(k.port_blocks_in_use, 0);
	assert_int_equal(k.sessions_open, 0);
	test_tsm_assert_blocks_idle(fx, -1);
}

static inline void fx_free(struct fx *fx)
{
	pcitsm_tsm_core_free(fx->core);
	pcitsm_tio_fw_free(fx->fw);
	pcitsm_emu_devices_free(fx->devs);
	pcitsm_emu_platform_free(&fx->plat);
	pcitsm_trust_free(fx->trust);
	free(fx);
}

#endif
