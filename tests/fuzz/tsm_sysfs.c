/* SPDX-License-Identifier: MIT */
/* Fuzz the PCI/TSM core's sysfs surface: records (op, function, length, bytes) of writes to
 * tsm/connect and tsm/disconnect with arbitrary contents, attribute reads into buffers of any size,
 * available_secure_streams, the stream list, status, rekey, traffic (a TDI's T=1 DMA too) and
 * evidence; and the devsec
 * proposal's writes (tsm/lock, unlock, accept, a TDI's evidence) with driver binding (bind,
 * unbind, driver_override), on a platform (two functions beside the first PF0) whose devices and
 * trust anchors are made once. Invariants: every call returns 0, a length that fits, or a negative
 * errno; after the core is freed nothing is held, no stream is enabled and no TDI is left locked. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/crypto.h"
#include "pcitsm/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pcitsm_env_test env;
static struct pcitsm_machine_cfg mc;
static struct pcitsm_emu_config cfg;
static struct pcitsm_emu_devices_cfg dc = { .curve_bits = 256 };
static struct pcitsm_machine m; /* made up to the firmware once; its core per input */

static void init_once(void)
{
	pcitsm_env_test_init(&env, 11);
	env.env.log_level = PCITSM_LOG_ERR;
	pcitsm_machine_cfg_default(&mc, &env.env);
	pcitsm_emu_config_default(&cfg);
	cfg.ports[0].ep_extra_funcs = 2;
	mc.plat = &cfg;
	dc.faults[1].refuse_key_prog = true; /* the second device never connects */
	mc.devs = &dc;
	if (pcitsm_machine_build(&m, &mc, PCITSM_MACHINE_FIRMWARE, NULL))
		abort();
}

static void no_enable_left(void)
{
	for (unsigned i = 0; i < m.plat.nr_funcs; i++) {
		struct pcitsm_emu_func *f = &m.plat.funcs[i];
		struct pcitsm_ide_info ide;
		struct pcitsm_ide_sel sel;
		int st = pcitsm_emu_tdi_state(f);

		if (st == PCITSM_TDISP_CONFIG_LOCKED || st == PCITSM_TDISP_RUN)
			abort();
		if (!f->ide_off)
			continue;
		if (pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &ide))
			abort();
		for (unsigned s = 0; s < ide.nr_sel; s++)
			if (pcitsm_ide_sel_read(&f->cfg.cfg, &ide, s, &sel) || sel.ctl.enable)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcitsm_tsm_core *core;
	struct pcitsm_rd rd;

	if (!m.devs)
		init_once();
	if (pcitsm_machine_build(&m, &mc, PCITSM_MACHINE_CORE, NULL))
		abort();
	core = m.core;
	pcitsm_rd_init(&rd, data, size);
	while (pcitsm_rd_left(&rd) >= 3) {
		uint8_t op = pcitsm_rd_u8(&rd), fi = pcitsm_rd_u8(&rd), len = pcitsm_rd_u8(&rd);
		/* (PCITSM_MIN evaluates its arguments twice: the length byte is read once, here.) */
		size_t n = PCITSM_MIN((size_t)len, pcitsm_rd_left(&rd));
		const char *p = (const char *)pcitsm_rd_bytes(&rd, n);
		const struct pcitsm_bdf *bdf = &m.plat.funcs[fi % m.plat.nr_funcs].bdf;
		struct pcitsm_tsm_stream_info si[4];
		struct pcitsm_tsm_status st;
		struct pcitsm_tsm_evidence ev;
		struct pcitsm_tsm_traffic tr;
		static struct pcitsm_tsm_tdi_evidence tev;
		char buf[64];
		int rc = 0;

		switch (op % 16) {
		case 0:
			rc = pcitsm_tsm_connect_write(core, bdf, p, n);
			break;
		case 1:
			rc = pcitsm_tsm_disconnect_write(core, bdf, p, n);
			break;
		case 2:
			rc = pcitsm_tsm_attr_read(core, bdf,
						  (enum pcitsm_tsm_attr)(fi % PCITSM_TSM_NR_ATTRS), buf,
						  n % sizeof(buf));
			if (rc >= (int)sizeof(buf))
				abort();
			break;
		case 3:
			rc = pcitsm_tsm_available_streams_read(core, fi & 1, buf, n % sizeof(buf));
			break;
		case 4:
			if (pcitsm_tsm_streams(core, fi & 1, si, fi % 5) > 256)
				abort();
			break;
		case 5:
			if (pcitsm_tsm_status(core, bdf, &st) == PCITSM_OK && st.connected &&
			    st.ep.state != PCITSM_IDE_STATE_SECURE)
				abort();
			break;
		case 6:
			if (pcitsm_tsm_rekey(core, bdf))
				break;
			break;
		case 7:
			if (pcitsm_tsm_traffic(core, bdf, n % 8, 4u * (1 + (fi & 15)), &tr) == PCITSM_OK &&
			    tr.ops != n % 8)
				abort();
			/* A TDI's T=1 DMA: verified reads only from a TDI in RUN. */
			if (pcitsm_tsm_traffic_tee(core, bdf, n % 4, 4u * (1 + (fi & 15)), &tr) ==
				    PCITSM_OK &&
			    (tr.ops != n % 4 ||
			     (tr.reads && pcitsm_emu_tdi_state(pcitsm_emu_find(&m.plat, bdf)) !=
						  PCITSM_TDISP_RUN)))
				abort();
			break;
		case 8:
			if (pcitsm_tsm_evidence_get(core, bdf, &ev) == PCITSM_OK)
				pcitsm_tsm_evidence_free(&ev);
			break;
		case 9:
			rc = pcitsm_tsm_lock_write(core, bdf, p, n);
			break;
		case 10:
			rc = pcitsm_tsm_unlock_write(core, bdf, p, n);
			break;
		case 11:
			rc = pcitsm_tsm_accept_write(core, bdf, p, n);
			break;
		case 12:
			if (pcitsm_tsm_tdi_evidence_get(core, bdf, &tev) == PCITSM_OK &&
			    (tev.report_len > sizeof(tev.report) || tev.state > PCITSM_TDISP_ERROR))
				abort();
			break;
		case 13:
			rc = pcitsm_tsm_driver_bind(core, fi & 1 ? PCITSM_TSM_DRIVER : "x", p, n);
			break;
		case 14:
			rc = pcitsm_tsm_driver_unbind(core, PCITSM_TSM_DRIVER, p, n);
			break;
		default:
			rc = pcitsm_tsm_driver_override_write(core, bdf, p, n);
			break;
		}
		if (rc > 0 && (size_t)rc >= sizeof(buf))
			abort();
	}
	pcitsm_machine_teardown(&m, PCITSM_MACHINE_CORE);
	no_enable_left();
	return 0;
}
