/* SPDX-License-Identifier: MIT */
/*
 * TDISP through the devsec TSM [proposal], end to end over the emulated platform: the firmware
 * TSM locks, reads and accepts a TDI over the device's SPDM session, the DSM on PF0 serves PF0 and
 * its functions; the sysfs ABI's errno for each file and in the order of the staging tree; driver
 * binding; multi-TDI isolation; the device events (FLR, a write to locked configuration, the
 * stream leaving Secure, the session ending) moving a TDI to ERROR; accept refused after the
 * report or the state changed since the evidence was read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/doe.h"
#include "pcitsm/emu.h"
#include "pcitsm/tio.h"
#include "pcitsm/tsm.h"
#include "test_tsm_fixture.h"
#include "testutil.h"

#define PF "0000:01:00.0"
#define VF1 "0000:01:00.1"
#define VF2 "0000:01:00.2"


static struct fx *fx_new_hb(uint8_t heartbeat_period)
{
	struct pcitsm_machine_cfg mc;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_devices_cfg dc;
	struct fx *fx = test_tsm_cfg(11, &mc, &cfg, &dc);

	cfg.ports[0].ep_extra_funcs = 2;
	cfg.ports[0].ep_pasid_funcs = 0x4; /* function 2 does PASID DMA */
	dc.heartbeat_period = heartbeat_period;
	dc.heartbeat_watchdog = heartbeat_period != 0;
	assert_ok(pcitsm_machine_build(&fx->m, &mc, PCITSM_MACHINE_CORE, NULL));
	return fx;
}

static struct fx *fx_new(void)
{
	return fx_new_hb(0);
}


static struct pcitsm_emu_func *F(struct fx *fx, const char *s)
{
	struct pcitsm_bdf b = B(s);
	struct pcitsm_emu_func *f = pcitsm_emu_find(&fx->m.plat, &b);

	assert_non_null(f);
	return f;
}

#define CONNECT(fx, bdf, s) W(fx, pcitsm_tsm_connect_write, bdf, s)
#define LOCK(fx, bdf, s) W(fx, pcitsm_tsm_lock_write, bdf, s)
#define UNLOCK(fx, bdf, s) W(fx, pcitsm_tsm_unlock_write, bdf, s)
#define ACCEPT(fx, bdf, s) W(fx, pcitsm_tsm_accept_write, bdf, s)

static void read_attr(struct fx *fx, const char *bdf, enum pcitsm_tsm_attr a, const char *want)
{
	struct pcitsm_bdf b = B(bdf);
	char buf[64];
	int n = pcitsm_tsm_attr_read(fx->m.core, &b, a, buf, sizeof(buf));

	if (n < 0)
		fail_msg("%s attribute %d: %d", bdf, (int)a, n);
	assert_string_equal(buf, want);
}

static pcitsm_err evidence(struct fx *fx, const char *bdf, struct pcitsm_tsm_tdi_evidence *ev)
{
	struct pcitsm_bdf b = B(bdf);

	return pcitsm_tsm_tdi_evidence_get(fx->m.core, &b, ev);
}

static int bind(struct fx *fx, const char *bdf)
{
	return pcitsm_tsm_driver_bind(fx->m.core, PCITSM_TSM_DRIVER, bdf, strlen(bdf));
}

static int unbind(struct fx *fx, const char *bdf)
{
	return pcitsm_tsm_driver_unbind(fx->m.core, PCITSM_TSM_DRIVER, bdf, strlen(bdf));
}

static int state(struct fx *fx, const char *bdf)
{
	return pcitsm_emu_tdi_state(F(fx, bdf));
}

/* A config write the way the host would make it. */
static void cfg_write(struct fx *fx, const char *bdf, uint32_t off, unsigned width, uint32_t v)
{
	struct pcitsm_cfg *c = &F(fx, bdf)->cfg.cfg;

	if (width == 2)
		assert_ok(pcitsm_cfg_write16(c, off, (uint16_t)v));
	else
		assert_ok(pcitsm_cfg_write32(c, off, v));
}

/* Lock, read the evidence, accept: the whole flow on one TDI. */
static void flow(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_tdisp_report *rep = calloc(1, sizeof(*rep));
	struct pcitsm_tsm_status s;
	struct pcitsm_bdf vf1 = B(VF1);

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_UNLOCKED);
	read_attr(fx, VF1, PCITSM_TSM_ATTR_LOCK, "\n");
	read_attr(fx, VF1, PCITSM_TSM_ATTR_ACCEPT, "0\n");
	read_attr(fx, PF, PCITSM_TSM_ATTR_BOUND, "\n");
	assert_int_equal(LOCK(fx, VF1, "tsm1\n"), 0);
	read_attr(fx, VF1, PCITSM_TSM_ATTR_LOCK, "tsm1\n");
	/* Multi-TDI isolation: only the locked one moved. */
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(state(fx, PF), PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_UNLOCKED);
	read_attr(fx, PF, PCITSM_TSM_ATTR_LOCK, "\n");

	/* The evidence: the report built from VF1's BAR0 (16 KiB at window + 64 KiB). */
	assert_ok(evidence(fx, VF1, ev));
	assert_int_equal(ev->state, PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(ev->generation, 1);
	assert_ok(pcitsm_tdisp_report_decode(ev->report, ev->report_len, rep));
	assert_int_equal(rep->interface_info & PCITSM_TDISP_INFO_DMA_WITH_PASID, 0);
	assert_true(rep->interface_info & PCITSM_TDISP_INFO_NO_FW_UPDATE);
	/* BAR0 of 4 pages: a TEE page, the non-TEE page, the MSI-X table, the PBA. */
	assert_int_equal(rep->nr_ranges, 4);
	assert_int_equal(rep->range[0].attrs, 0);
	assert_int_equal(rep->range[1].attrs, PCITSM_TDISP_RANGE_NON_TEE);
	assert_int_equal(rep->range[2].attrs, PCITSM_TDISP_RANGE_MSIX_TABLE);
	assert_int_equal(rep->range[3].attrs, PCITSM_TDISP_RANGE_MSIX_PBA);
	assert_int_equal(rep->range[0].first_page, (PCITSM_EMU_MEM_BASE + 0x10000) >> 12);
	assert_int_equal(rep->range[0].range_id, 0);
	assert_ok(pcitsm_tdisp_report_check(ev->report, ev->report_len, &F(fx, VF1)->desc, 0, NULL));
	{
		uint8_t dg[PCITSM_TDISP_DIGEST_LEN];

		assert_ok(pcitsm_tdisp_report_digest(ev->report, ev->report_len, dg));
		assert_memory_equal(dg, ev->digest, sizeof(dg));
	}
	assert_ok(pcitsm_tsm_status(fx->m.core, &vf1, &s));
	assert_string_equal(s.lock_tsm, "tsm1");
	assert_int_equal(s.tdi_state, PCITSM_TDISP_CONFIG_LOCKED);

	assert_int_equal(ACCEPT(fx, VF1, "1\n"), 0);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_RUN);
	read_attr(fx, VF1, PCITSM_TSM_ATTR_ACCEPT, "1\n");
	read_attr(fx, PF, PCITSM_TSM_ATTR_BOUND, "tsm1\n");
	assert_int_equal(ACCEPT(fx, VF1, "y"), 0); /* already accepted: nothing sent */
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_UNLOCKED);

	/* PASID: function 2's report says DMA_WITH_PASID. */
	assert_int_equal(LOCK(fx, VF2, "tsm1"), 0);
	assert_ok(evidence(fx, VF2, ev));
	assert_ok(pcitsm_tdisp_report_decode(ev->report, ev->report_len, rep));
	assert_true(rep->interface_info & PCITSM_TDISP_INFO_DMA_WITH_PASID);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_RUN); /* untouched */

	assert_int_equal(UNLOCK(fx, VF1, "tsm1\n"), 0);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_UNLOCKED);
	read_attr(fx, VF1, PCITSM_TSM_ATTR_LOCK, "\n");
	read_attr(fx, VF1, PCITSM_TSM_ATTR_ACCEPT, "0\n");
	read_attr(fx, PF, PCITSM_TSM_ATTR_BOUND, "\n");
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_LOCKED);
	/* Disconnecting the DSM stops its TDIs first. */
	assert_int_equal(W(fx, pcitsm_tsm_disconnect_write, PF, "tsm0"), 0);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_UNLOCKED);
	read_attr(fx, VF2, PCITSM_TSM_ATTR_LOCK, "\n");
	free(rep);
	free(ev);
	fx_free(fx);
}

/* tsm/lock: EINVAL format; EBUSY locked; ENXIO not devsec; EBUSY driver bound; the op's error. */
static void lock_errnos(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_bdf rp = B("0000:00:01.0");

	(void)st;
	assert_false(pcitsm_tsm_attr_exists(fx->m.core, &rp, PCITSM_TSM_ATTR_LOCK));
	assert_int_equal(LOCK(fx, "0000:00:01.0", "tsm1"), -ENOENT);
	/* The op's error: the DSM has no link connection. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), -ENOTCONN);
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(LOCK(fx, VF1, "x"), -EINVAL);
	assert_int_equal(LOCK(fx, VF1, " tsm1"), -EINVAL);
	assert_int_equal(LOCK(fx, VF1, "tsm0"), -ENXIO); /* a link TSM */
	assert_int_equal(LOCK(fx, VF1, "tsm7"), -ENXIO);
	/* ENXIO comes before the bound driver's EBUSY; EBUSY before the op. */
	assert_int_equal(bind(fx, VF1), 0);
	assert_int_equal(LOCK(fx, VF1, "tsm0"), -ENXIO);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), -EBUSY);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(unbind(fx, VF1), 0);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	/* Already locked: EBUSY, before the format and the TSM checks. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), -EBUSY);
	assert_int_equal(LOCK(fx, VF1, "tsm9"), -EBUSY);
	assert_int_equal(LOCK(fx, VF1, "x"), -EINVAL);
	fx_free(fx);
}

/* tsm/unlock: EINVAL not locked or another name; EBUSY driver bound. */
static void unlock_errnos(void **st)
{
	struct fx *fx = fx_new();

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), -EINVAL);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(UNLOCK(fx, VF1, "tsm0"), -EINVAL);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1x"), -EINVAL);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1\n\n"), -EINVAL);
	assert_int_equal(bind(fx, VF1), 0);
	assert_int_equal(UNLOCK(fx, VF1, "tsm0"), -EINVAL); /* EINVAL first */
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), -EBUSY);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(unbind(fx, VF1), 0);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), -EINVAL);
	fx_free(fx);
}

/* tsm/accept: EINVAL unparsable or false; EINVAL not locked; EBUSY driver bound; the op's. */
static void accept_errnos(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(ACCEPT(fx, VF1, "1"), -EINVAL); /* not locked */
	assert_int_equal(ACCEPT(fx, VF1, "x"), -EINVAL);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(ACCEPT(fx, VF1, ""), -EINVAL);
	assert_int_equal(ACCEPT(fx, VF1, "x"), -EINVAL);
	assert_int_equal(ACCEPT(fx, VF1, "o"), -EINVAL);
	assert_int_equal(ACCEPT(fx, VF1, "ox"), -EINVAL);
	assert_int_equal(ACCEPT(fx, VF1, "0"), -EINVAL); /* no unaccept */
	assert_int_equal(ACCEPT(fx, VF1, "n"), -EINVAL);
	assert_int_equal(ACCEPT(fx, VF1, "off"), -EINVAL);
	assert_int_equal(bind(fx, VF1), 0);
	assert_int_equal(ACCEPT(fx, VF1, "0"), -EINVAL); /* EINVAL before EBUSY */
	assert_int_equal(ACCEPT(fx, VF1, "on"), -EBUSY);
	assert_int_equal(unbind(fx, VF1), 0);
	/* The op: no evidence read since the lock, nothing to bind to. */
	assert_int_equal(ACCEPT(fx, VF1, "1"), -ESTALE);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	assert_ok(evidence(fx, VF1, ev));
	assert_int_equal(ACCEPT(fx, VF1, "True"), 0);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_RUN);
	free(ev);
	fx_free(fx);
}

/* Accept is transactional: a report that changed after the evidence was read, a TDI that left
 * CONFIG_LOCKED, or a re-lock in between, and START is never sent. */
static void accept_transactional(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_tdisp_dsm *dsm;
	struct pcitsm_tdisp_tdi *t;
	struct pcitsm_bdf vf1 = B(VF1);
	struct pcitsm_tsm_status s;

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	dsm = pcitsm_emu_device_dsm(F(fx, PF)->dev);
	assert_non_null(dsm);
	t = pcitsm_tdisp_dsm_find(dsm, pcitsm_bdf_rid(&vf1));
	assert_non_null(t);

	/* The device's report changes after the evidence was read. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(evidence(fx, VF1, ev));
	t->report[t->report_len - 5] ^= 0x01; /* device-specific info length's neighbour */
	assert_int_equal(ACCEPT(fx, VF1, "1"), -ESTALE);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	assert_ok(pcitsm_tsm_status(fx->m.core, &vf1, &s));
	assert_int_equal(s.last_failure.step, PCITSM_TSM_STEP_TDI_ACCEPT);
	/* Reading the evidence again binds to the new report (a new generation). */
	assert_ok(evidence(fx, VF1, ev));
	assert_int_equal(ev->generation, 2);
	assert_int_equal(ACCEPT(fx, VF1, "1"), 0);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);

	/* The TDI leaves CONFIG_LOCKED (a write to its locked configuration) after the read. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(evidence(fx, VF1, ev));
	cfg_write(fx, VF1, PCITSM_CFG_COMMAND, 2, 0x0006);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(ACCEPT(fx, VF1, "1"), -EIO);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	/* Refused by the firmware's state check, not left to the device to refuse START. */
	assert_ok(pcitsm_tsm_status(fx->m.core, &vf1, &s));
	assert_int_equal(s.last_failure.err, PCITSM_E_STATE);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0); /* STOP is legal in ERROR */
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_UNLOCKED);

	/* Unlocked and locked again after the read: the binding went with the unlock. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(evidence(fx, VF1, ev));
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(ACCEPT(fx, VF1, "1"), -ESTALE);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	free(ev);
	fx_free(fx);
}

/* The device's events: each moves the TDI it hits to ERROR, and only that one. */
static void events(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_emu_func *vf1 = F(fx, VF1), *pf = F(fx, PF);
	uint16_t exp = vf1->exp_off;

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	/* Writes to an unlocked function's configuration are not events. */
	cfg_write(fx, VF1, PCITSM_CFG_COMMAND, 2, 0x0006);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_UNLOCKED);

	/* A write that changes the Command register of a locked VF (Bus Master Enable, the one bit
	 * a VF's Command has); its BAR0 reads zero and ignores writes (PCIe 6.x §9.3.4.1.11). */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(LOCK(fx, VF2, "tsm1"), 0);
	cfg_write(fx, VF1, PCITSM_CFG_COMMAND, 2, 0x0006); /* unchanged: not a change */
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	cfg_write(fx, VF1, 0x10, 4, 0xffffffff); /* BAR sizing: read-only zero */
	assert_int_equal(pcitsm_cfg_emu_peek(&vf1->cfg, 0x10, 4), 0);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	cfg_write(fx, VF1, PCITSM_CFG_COMMAND, 2, 0x0000);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(vf1), PCITSM_TDISP_CAUSE_CONFIG_WRITE);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);

	/* The VFs' BAR0 is the PF's VF BAR0: sizing it (a change) is a write to every VF's locked
	 * configuration; PF0's own TDI is not hit. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(LOCK(fx, PF, "tsm1"), 0);
	cfg_write(fx, PF, pf->sriov_off + PCITSM_SRIOV_BAR, 4, 0xffffffff);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(vf1), PCITSM_TDISP_CAUSE_CONFIG_WRITE);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_ERROR);
	assert_int_equal(state(fx, PF), PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(vf1->desc.bar[0].base, 0xffffc000ull); /* follows the register */
	cfg_write(fx, PF, pf->sriov_off + PCITSM_SRIOV_BAR, 4,
		  (uint32_t)(PCITSM_EMU_MEM_BASE + 0x10000) | 0x4);
	assert_int_equal(vf1->desc.bar[0].base, PCITSM_EMU_MEM_BASE + 0x10000);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(UNLOCK(fx, VF2, "tsm1"), 0);
	assert_int_equal(UNLOCK(fx, PF, "tsm1"), 0);
	assert_int_equal(LOCK(fx, VF2, "tsm1"), 0);

	/* FLR of VF1 (Device Control, Initiate FLR). */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	cfg_write(fx, VF1, exp + 0x08, 2, 0x8000);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(vf1), PCITSM_TDISP_CAUSE_FLR);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_LOCKED);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);

	/* FLR of PF0 hits its functions too. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	cfg_write(fx, PF, pf->exp_off + 0x08, 2, 0x8000);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_ERROR);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);
	assert_int_equal(UNLOCK(fx, VF2, "tsm1"), 0);

	/* The stream goes Insecure (the endpoint's Enable cleared behind the TSM's back). */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	{
		struct pcitsm_ide_info ide;
		struct pcitsm_ide_sel sel;
		uint32_t ctl_off;

		assert_ok(pcitsm_ide_read(&pf->cfg.cfg, pf->ide_off, &ide));
		for (unsigned i = 0; i < ide.nr_sel; i++) {
			assert_ok(pcitsm_ide_sel_read(&pf->cfg.cfg, &ide, i, &sel));
			if (!sel.ctl.enable)
				continue;
			ctl_off = sel.off + PCITSM_IDE_SEL_CTL;
			assert_ok(pcitsm_cfg_write32(&pf->cfg.cfg, ctl_off,
						     pcitsm_cfg_emu_peek(&pf->cfg, ctl_off, 4) &
							     ~PCITSM_IDE_CTL_EN));
		}
	}
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(vf1), PCITSM_TDISP_CAUSE_STREAM_INSECURE);
	fx_free(fx);
}

/* The SPDM session that locked the TDI ends (the device sees GET_VERSION: every session over):
 * the TDI goes to ERROR, and the next accept fails. */
static void session_end(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_doe_host h;
	static const uint8_t get_version[4] = { 0x10, 0x84, 0, 0 };
	uint8_t rsp[64];
	size_t n;

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(evidence(fx, VF1, ev));
	assert_ok(pcitsm_doe_host_find(&h, &F(fx, PF)->cfg.cfg, PCITSM_DOE_VID_PCISIG,
				       PCITSM_DOE_TYPE_CMA, &fx->env.env));
	assert_ok(pcitsm_xport_exchange(&h.x, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
					get_version, sizeof(get_version), rsp, sizeof(rsp), &n));
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(F(fx, VF1)), PCITSM_TDISP_CAUSE_SESSION_ENDED);
	/* ... and the stream its keys came over is Insecure at the endpoint. */
	{
		struct pcitsm_bdf pfb = B(PF);
		struct pcitsm_tsm_status s;

		assert_ok(pcitsm_tsm_status(fx->m.core, &pfb, &s));
		assert_true(s.has_stream);
		assert_true(s.ep.enabled);
		assert_int_equal(s.ep.state, PCITSM_IDE_STATE_INSECURE);
	}
	assert_true(ACCEPT(fx, VF1, "1") < 0);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	free(ev);
	fx_free(fx);
}

/* Heartbeat loss (DSP0274 HEARTBEAT; PCIe 6.x §11): the device offered a HeartbeatPeriod and
 * the TSM sends nothing for longer than two periods. The device's timer ends the session by the
 * env's clock, no request needed: the TDIs it locked (RUN and CONFIG_LOCKED) go to ERROR with
 * the cause recorded, the stream its keys came over goes Insecure, T=1 DMA into private memory is
 * refused from then on; an unlocked TDI stays as it was. Within the period nothing moves. */
static void heartbeat_loss(void **st)
{
	struct fx *fx = fx_new_hb(5);
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_emu_link *l = F(fx, PF)->link;
	struct pcitsm_bdf pfb = B(PF);
	struct pcitsm_tsm_status s;
	uint8_t w[16] = { 0x5a };
	uint64_t pb;
	size_t ps;

	(void)st;
	pcitsm_emu_private_mem(l, &pb, &ps);
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(LOCK(fx, PF, "tsm1"), 0);
	assert_ok(evidence(fx, PF, ev));
	assert_int_equal(ACCEPT(fx, PF, "1"), 0);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(pcitsm_emu_tee_write(l, PCITSM_IDE_SIDE_EP, F(fx, PF), true, pb, w, sizeof(w)));
	/* 9 s of silence: under two periods of 5 s, the session lives. */
	fx->env.clock_ns += 9ull * 1000000000ull;
	assert_int_equal(state(fx, PF), PCITSM_TDISP_RUN);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_CONFIG_LOCKED);
	/* Traffic is not a heartbeat: only SPDM messages keep the session. 2 s more: gone. */
	fx->env.clock_ns += 2ull * 1000000000ull;
	assert_int_equal(state(fx, PF), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(F(fx, PF)), PCITSM_TDISP_CAUSE_SESSION_ENDED);
	assert_int_equal(state(fx, VF1), PCITSM_TDISP_ERROR);
	assert_int_equal(pcitsm_emu_tdi_cause(F(fx, VF1)), PCITSM_TDISP_CAUSE_SESSION_ENDED);
	assert_int_equal(state(fx, VF2), PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(pcitsm_emu_tdi_cause(F(fx, VF2)), PCITSM_TDISP_CAUSE_NONE);
	assert_ok(pcitsm_tsm_status(fx->m.core, &pfb, &s));
	assert_true(s.has_stream);
	assert_true(s.ep.enabled);
	assert_int_equal(s.ep.state, PCITSM_IDE_STATE_INSECURE);
	/* T=1 DMA is refused now: the endpoint's stream is no longer Secure, so it sends none. */
	assert_err(pcitsm_emu_tee_write(l, PCITSM_IDE_SIDE_EP, F(fx, PF), true, pb, w, sizeof(w)),
		   PCITSM_E_STATE);
	free(ev);
	fx_free(fx);
}

/* The same device with heartbeats: a HEARTBEAT within each period keeps the session and the TDI. */
static void heartbeat_kept(void **st)
{
	struct fx *fx = fx_new_hb(5);
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_bdf pfb = B(PF);
	int live;

	(void)st;
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_int_equal(LOCK(fx, PF, "tsm1"), 0);
	assert_ok(evidence(fx, PF, ev));
	assert_int_equal(ACCEPT(fx, PF, "1"), 0);
	for (int i = 0; i < 4; i++) {
		fx->env.clock_ns += 8ull * 1000000000ull;
		/* Any SPDM message of the session counts: the TSM asks the TDI's state. */
		assert_ok(pcitsm_tsm_tdi_state_get(fx->m.core, &pfb, &live));
		assert_int_equal(live, PCITSM_TDISP_RUN);
	}
	assert_int_equal(state(fx, PF), PCITSM_TDISP_RUN);
	free(ev);
	fx_free(fx);
}

/* The TSM's "DMA in RUN" (pcitsm_tsm_traffic_tee): a TDI's T=1 DMA into the private memory
 * through the platform ops, written and read back verified only in RUN; in CONFIG_LOCKED and
 * after a locked-configuration write (ERROR) every request is refused by TDI state and counted;
 * a VF's DMA carries its own Requester ID, so VF1 in RUN gets through while VF2 (locked) does
 * not. */
static void tee_traffic(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_bdf pf = B(PF), vf1 = B(VF1), vf2 = B(VF2), rp = B("0000:00:01.0");
	struct pcitsm_tsm_traffic r;

	(void)st;
	assert_err(pcitsm_tsm_traffic_tee(fx->m.core, &rp, 1, 64, &r), PCITSM_E_UNSUPPORTED);
	assert_err(pcitsm_tsm_traffic_tee(fx->m.core, &pf, 1, 6, &r), PCITSM_E_INVAL);
	/* No Secure stream yet: the port sends no T=1 request at all. */
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &pf, 2, 64, &r));
	assert_true(r.tee);
	assert_int_equal(r.failures, 2);
	assert_int_equal(r.first_err, PCITSM_E_STATE);
	assert_int_equal(r.reads, 0);
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	/* CONFIG_UNLOCKED, then CONFIG_LOCKED: the host refuses (write dropped, read UR). */
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &pf, 4, 256, &r));
	assert_int_equal(r.writes, 4);
	assert_int_equal(r.reads, 0);
	assert_int_equal(r.failures, 4);
	assert_int_equal(r.first_err, PCITSM_E_IO);
	assert_int_equal(r.tee_refused, 8);
	assert_int_equal(LOCK(fx, PF, "tsm1"), 0);
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &pf, 4, 256, &r));
	assert_int_equal(r.reads, 0);
	assert_int_equal(r.tee_refused, 8);
	/* RUN: written, read back, verified; IDE TLPs, none refused. */
	assert_ok(evidence(fx, PF, ev));
	assert_int_equal(ACCEPT(fx, PF, "1"), 0);
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &pf, 300, 256, &r));
	assert_int_equal(r.writes, 300);
	assert_int_equal(r.reads, 300);
	assert_int_equal(r.bytes, 2 * 300 * 256);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.tee_refused, 0);
	assert_true(r.tlps_secure >= 600);
	assert_int_equal(r.tlps_clear, 0);
	/* The VFs: their own Requester IDs, their own TDI states. */
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(evidence(fx, VF1, ev));
	assert_int_equal(ACCEPT(fx, VF1, "1"), 0);
	assert_int_equal(LOCK(fx, VF2, "tsm1"), 0);
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &vf1, 8, 64, &r));
	assert_int_equal(r.reads, 8);
	assert_int_equal(r.failures, 0);
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &vf2, 8, 64, &r));
	assert_int_equal(r.reads, 0);
	assert_int_equal(r.tee_refused, 16);
	/* ERROR (a write to PF0's locked Command register): refused again; VF1 still RUN. */
	cfg_write(fx, PF, PCITSM_CFG_COMMAND, 2, 0x0002);
	assert_int_equal(state(fx, PF), PCITSM_TDISP_ERROR);
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &pf, 4, 256, &r));
	assert_int_equal(r.reads, 0);
	assert_int_equal(r.failures, 4);
	assert_int_equal(r.tee_refused, 8);
	assert_ok(pcitsm_tsm_traffic_tee(fx->m.core, &vf1, 2, 64, &r));
	assert_int_equal(r.reads, 2);
	free(ev);
	fx_free(fx);
}

/* pcitsm_tsm_tdi_state_get asks the device each time, locked or not: a locked-configuration
 * write shows as ERROR at once (no evidence read in between), and the status's last known state
 * follows; no connection to ask over is E_STATE. */
static void live_state(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_bdf vf1 = B(VF1), vf2 = B(VF2), rp = B("0000:00:01.0");
	struct pcitsm_tsm_status s;
	int live;

	(void)st;
	assert_err(pcitsm_tsm_tdi_state_get(fx->m.core, &vf1, &live), PCITSM_E_STATE);
	assert_int_equal(live, -1);
	assert_err(pcitsm_tsm_tdi_state_get(fx->m.core, &rp, &live), PCITSM_E_STATE);
	assert_err(pcitsm_tsm_tdi_state_get(fx->m.core, &vf1, NULL), PCITSM_E_INVAL);
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);
	assert_ok(pcitsm_tsm_tdi_state_get(fx->m.core, &vf2, &live));
	assert_int_equal(live, PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(LOCK(fx, VF1, "tsm1"), 0);
	assert_ok(pcitsm_tsm_tdi_state_get(fx->m.core, &vf1, &live));
	assert_int_equal(live, PCITSM_TDISP_CONFIG_LOCKED);
	cfg_write(fx, VF1, PCITSM_CFG_COMMAND, 2, 0x0004);
	assert_ok(pcitsm_tsm_tdi_state_get(fx->m.core, &vf1, &live));
	assert_int_equal(live, PCITSM_TDISP_ERROR);
	assert_ok(pcitsm_tsm_status(fx->m.core, &vf1, &s));
	assert_int_equal(s.tdi_state, PCITSM_TDISP_ERROR);
	assert_ok(pcitsm_tsm_tdi_state_get(fx->m.core, &vf2, &live));
	assert_int_equal(live, PCITSM_TDISP_CONFIG_UNLOCKED);
	assert_int_equal(UNLOCK(fx, VF1, "tsm1"), 0);
	assert_ok(pcitsm_tsm_tdi_state_get(fx->m.core, &vf1, &live));
	assert_int_equal(live, PCITSM_TDISP_CONFIG_UNLOCKED);
	fx_free(fx);
}

/* One request each way in the current state: what gets through. */
struct gate {
	pcitsm_err mmio_t_rd, mmio_t_wr, mmio_rd, dma_t_priv, dma_priv, dma_shared;
	bool mmio_t_landed, dma_t_landed;
};

static void gate_probe(struct fx *fx, const struct pcitsm_emu_func *dev, struct gate *g)
{
	struct pcitsm_emu_link *l = F(fx, PF)->link;
	uint64_t ep = l->side[PCITSM_IDE_SIDE_EP].base + 0x100, pb;
	uint8_t w[16], r[16];
	size_t ps;
	static uint8_t n;

	pcitsm_emu_private_mem(l, &pb, &ps);
	memset(w, ++n, sizeof(w));
	memset(l->side[PCITSM_IDE_SIDE_EP].mem + 0x100, 0, sizeof(w));
	memset(l->side[PCITSM_IDE_SIDE_RP].mem + (pb - l->side[PCITSM_IDE_SIDE_RP].base), 0,
	       sizeof(w));
	/* Host-initiated MMIO into PF0's TEE range. */
	g->mmio_t_wr = pcitsm_emu_tee_write(l, PCITSM_IDE_SIDE_RP, NULL, true, ep, w, sizeof(w));
	g->mmio_t_landed = !memcmp(l->side[PCITSM_IDE_SIDE_EP].mem + 0x100, w, sizeof(w));
	g->mmio_t_rd = pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_RP, NULL, true, ep, r, sizeof(r));
	g->mmio_rd = pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_RP, NULL, false, ep, r, sizeof(r));
	/* Device-initiated DMA by function dev into the host's private and shared memory. */
	g->dma_t_priv = pcitsm_emu_tee_write(l, PCITSM_IDE_SIDE_EP, dev, true, pb, w, sizeof(w));
	g->dma_t_landed = !memcmp(l->side[PCITSM_IDE_SIDE_RP].mem +
					  (pb - l->side[PCITSM_IDE_SIDE_RP].base),
				  w, sizeof(w));
	if (!g->dma_t_priv)
		g->dma_t_priv = pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_EP, dev, true, pb, r,
						    sizeof(r));
	g->dma_priv = pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_EP, dev, false, pb, r, sizeof(r));
	g->dma_shared = pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_EP, dev, false,
					    l->side[PCITSM_IDE_SIDE_RP].base + 64, r, sizeof(r));
}

/* PCIe 6.x §11: T=1 reaches private memory and TEE MMIO only in RUN, from both sides, in every
 * state; T=0 never reaches private memory, and TEE MMIO only while unlocked. */
static void gating(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	struct pcitsm_emu_func *pf = F(fx, PF), *vf1 = F(fx, VF1);
	struct pcitsm_emu_link *l = pf->link;
	uint8_t r[16];
	struct gate g;

	(void)st;
	/* No Secure stream yet: a port never sends T=1 in the clear. */
	assert_err(pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_RP, NULL, true,
				       l->side[PCITSM_IDE_SIDE_EP].base, r, sizeof(r)), PCITSM_E_STATE);
	assert_int_equal(CONNECT(fx, PF, "tsm0"), 0);

	/* CONFIG_UNLOCKED: T=0 works as for any device; T=1 refused. */
	gate_probe(fx, pf, &g);
	assert_ok(g.mmio_t_wr); /* posted: the sender cannot tell */
	assert_false(g.mmio_t_landed);
	assert_err(g.mmio_t_rd, PCITSM_E_IO);
	assert_ok(g.mmio_rd);
	assert_false(g.dma_t_landed);
	assert_err(g.dma_t_priv, PCITSM_E_IO);
	assert_err(g.dma_priv, PCITSM_E_IO);
	assert_ok(g.dma_shared);

	/* CONFIG_LOCKED: neither T=1 nor T=0 reaches TEE MMIO; T=1 DMA refused. */
	assert_int_equal(LOCK(fx, PF, "tsm1"), 0);
	gate_probe(fx, pf, &g);
	assert_false(g.mmio_t_landed);
	assert_err(g.mmio_t_rd, PCITSM_E_IO);
	assert_err(g.mmio_rd, PCITSM_E_IO);
	assert_false(g.dma_t_landed);
	assert_err(g.dma_t_priv, PCITSM_E_IO);
	assert_err(g.dma_priv, PCITSM_E_IO);
	assert_ok(g.dma_shared);
	/* The non-TEE page and the MSI-X table still answer T=0. */
	assert_ok(pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_RP, NULL, false,
				      l->side[PCITSM_IDE_SIDE_EP].base + 0xd000, r, sizeof(r)));

	/* RUN: T=1 both ways; T=0 still off TEE MMIO and private memory. */
	assert_ok(evidence(fx, PF, ev));
	assert_int_equal(ACCEPT(fx, PF, "1"), 0);
	gate_probe(fx, pf, &g);
	assert_ok(g.mmio_t_wr);
	assert_true(g.mmio_t_landed);
	assert_ok(g.mmio_t_rd);
	assert_err(g.mmio_rd, PCITSM_E_IO);
	assert_true(g.dma_t_landed);
	assert_ok(g.dma_t_priv);
	assert_err(g.dma_priv, PCITSM_E_IO);
	assert_ok(g.dma_shared);
	/* The T bit crossed the link in the IDE TLP Prefix and the completer copied it: a T=1 read's
	 * completion carries T=1, a T=0 read's T=0 (PCIe 6.x §11). */
	assert_ok(pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_EP, pf, true, l->side[PCITSM_IDE_SIDE_RP].base,
				      r, sizeof(r)));
	assert_true(l->side[PCITSM_IDE_SIDE_EP].cpl_t);
	assert_ok(pcitsm_emu_tee_read(l, PCITSM_IDE_SIDE_EP, pf, false,
				      l->side[PCITSM_IDE_SIDE_RP].base, r, sizeof(r)));
	assert_false(l->side[PCITSM_IDE_SIDE_EP].cpl_t);
	/* Another function of the device, not in RUN, gets nothing with T=1. */
	gate_probe(fx, vf1, &g);
	assert_false(g.dma_t_landed);
	assert_err(g.dma_t_priv, PCITSM_E_IO);

	/* ERROR (a write to PF0's locked Command register): T=1 refused again. */
	cfg_write(fx, PF, PCITSM_CFG_COMMAND, 2, 0x0002);
	assert_int_equal(state(fx, PF), PCITSM_TDISP_ERROR);
	gate_probe(fx, pf, &g);
	assert_false(g.mmio_t_landed);
	assert_err(g.mmio_t_rd, PCITSM_E_IO);
	assert_err(g.mmio_rd, PCITSM_E_IO);
	assert_false(g.dma_t_landed);
	assert_err(g.dma_t_priv, PCITSM_E_IO);
	assert_true(l->tee_refused[PCITSM_IDE_SIDE_EP] > 0 && l->tee_refused[PCITSM_IDE_SIDE_RP] > 0);

	/* Back to CONFIG_UNLOCKED: T=0 MMIO works again. */
	assert_int_equal(UNLOCK(fx, PF, "tsm1"), 0);
	gate_probe(fx, pf, &g);
	assert_ok(g.mmio_rd);
	assert_err(g.mmio_t_rd, PCITSM_E_IO);
	free(ev);
	fx_free(fx);
}

/* driver_override, bind, unbind as the kernel's files behave. */
static void driver_binding(void **st)
{
	struct fx *fx = fx_new();
	struct pcitsm_bdf vf1 = B(VF1);
	char buf[64];

	(void)st;
	assert_int_equal(pcitsm_tsm_driver_override_read(fx->m.core, &vf1, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "(null)\n");
	assert_int_equal(pcitsm_tsm_driver_bind(fx->m.core, "vfio-pci", VF1, 12), -ENODEV);
	assert_int_equal(pcitsm_tsm_driver_bind(fx->m.core, PCITSM_TSM_DRIVER, "0000:09:00.0", 12),
			 -ENODEV);
	assert_int_equal(bind(fx, "0000:00:01.0"), -ENODEV); /* a root port does not match */
	assert_int_equal(pcitsm_tsm_driver_override_write(fx->m.core, &vf1, "vfio-pci\n", 9), 0);
	assert_true(pcitsm_tsm_driver_override_read(fx->m.core, &vf1, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "vfio-pci\n");
	assert_int_equal(bind(fx, VF1), -ENODEV); /* the override names another driver */
	assert_int_equal(pcitsm_tsm_driver_override_write(fx->m.core, &vf1, "\n", 1), 0);
	assert_int_equal(bind(fx, VF1 "\n"), 0);
	assert_int_equal(bind(fx, VF1), -EBUSY);
	assert_int_equal(pcitsm_tsm_driver_of(fx->m.core, &vf1, buf, sizeof(buf)), 9);
	assert_string_equal(buf, PCITSM_TSM_DRIVER);
	assert_int_equal(pcitsm_tsm_driver_unbind(fx->m.core, "vfio-pci", VF1, 12), -ENODEV);
	assert_int_equal(unbind(fx, VF1), 0);
	assert_int_equal(unbind(fx, VF1), -ENODEV);
	assert_int_equal(pcitsm_tsm_driver_of(fx->m.core, &vf1, buf, sizeof(buf)), 0);
	fx_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flow),
		cmocka_unit_test(lock_errnos),
		cmocka_unit_test(unlock_errnos),
		cmocka_unit_test(accept_errnos),
		cmocka_unit_test(accept_transactional),
		cmocka_unit_test(events),
		cmocka_unit_test(session_end),
		cmocka_unit_test(heartbeat_loss),
		cmocka_unit_test(heartbeat_kept),
		cmocka_unit_test(driver_binding),
		cmocka_unit_test(gating),
		cmocka_unit_test(tee_traffic),
		cmocka_unit_test(live_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
