/* SPDX-License-Identifier: MIT */
/* The emulated platform: topology, capabilities, IDE register behaviour, the endpoint's DOE. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/emu.h"
#include "pcitsm/session.h"
#include "pcitsm/spdm_driver.h"
#include "testutil.h"

struct fixture {
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct pcitsm_emu_config cfg;

	pcitsm_env_test_init(&fx->env, 1);
	pcitsm_emu_config_default(&cfg);
	if (pcitsm_emu_platform_init(&fx->p, &cfg, &fx->env.env) != PCITSM_OK)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	pcitsm_emu_platform_free(&fx->p);
	free(fx);
	return 0;
}

static struct pcitsm_emu_func *func(struct fixture *fx, const char *name)
{
	struct pcitsm_bdf bdf;

	assert_ok(pcitsm_bdf_parse(name, &bdf));
	return pcitsm_emu_find(&fx->p, &bdf);
}

/* Program selective block 0 of a port through config space: RID range, Stream ID, Enable clear. */
static uint16_t program_block0(struct pcitsm_emu_func *f, uint8_t id)
{
	struct pcitsm_ide_info ide;

	assert_ok(pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &ide));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[0] + PCITSM_IDE_SEL_RID1, 0xffff00));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[0] + PCITSM_IDE_SEL_RID2, 1));
	if (f->kind == PCITSM_EMU_ROOT_PORT) {
		/* Address association: the endpoint's 1 MiB window (Memory Base = Limit = bits 31:20). */
		uint32_t mb = (uint32_t)(f->link->side[PCITSM_IDE_SIDE_EP].base >> 20) & 0xfff;

		assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[0] + PCITSM_IDE_SEL_ADDR1(0),
					     1u | mb << 8 | mb << 20));
	}
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[0] + PCITSM_IDE_SEL_CTL,
				     (uint32_t)id << PCITSM_IDE_CTL_ID_SHIFT |
					     (f->kind == PCITSM_EMU_ENDPOINT ? PCITSM_IDE_CTL_DEFAULT
									     : 0)));
	return ide.sel_off[0];
}

static uint8_t state_of(struct pcitsm_emu_func *f, uint16_t blk)
{
	uint32_t v;

	assert_ok(pcitsm_cfg_read32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_STS, &v));
	return v & PCITSM_IDE_STATUS_STATE_MASK;
}

static void set_enable(struct pcitsm_emu_func *f, uint16_t blk, bool on)
{
	uint32_t v;

	assert_ok(pcitsm_cfg_read32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_CTL, &v));
	v = on ? v | PCITSM_IDE_CTL_EN : v & ~PCITSM_IDE_CTL_EN;
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, blk + PCITSM_IDE_SEL_CTL, v));
}

/* Keys for stream id at both ends, mirrored (a port's Tx key is its partner's Rx key). */
static void key_both(struct pcitsm_emu_func *rp, struct pcitsm_emu_func *ep, uint8_t id)
{
	uint8_t key[32], ifv[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };

	for (unsigned d = 0; d < 2; d++)
		for (unsigned s = 0; s < PCITSM_IDE_NR_SUB; s++) {
			enum pcitsm_ide_dir dir = (enum pcitsm_ide_dir)d;

			memset(key, (int)(0x40 + d * 3 + s), sizeof(key));
			assert_ok(pcitsm_ide_key_prog(ep->ide_port, id, 0, dir,
						      (enum pcitsm_ide_sub)s, key, ifv));
			assert_ok(pcitsm_emu_rp_key_prog(rp, id, 0, (enum pcitsm_ide_dir)!d,
							 (enum pcitsm_ide_sub)s, key, ifv));
		}
	for (unsigned d = 0; d < 2; d++)
		for (unsigned s = 0; s < PCITSM_IDE_NR_SUB; s++) {
			assert_ok(pcitsm_ide_k_set_go(ep->ide_port, id, 0, (enum pcitsm_ide_dir)d,
						      (enum pcitsm_ide_sub)s));
			assert_ok(pcitsm_emu_rp_k_set_go(rp, id, 0, (enum pcitsm_ide_dir)d,
							 (enum pcitsm_ide_sub)s));
		}
}

static void engine_binding(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *rp = func(fx, "0000:00:01.0"), *ep = func(fx, "0000:01:00.0");
	struct pcitsm_emu_link *l = ep->link;
	uint8_t w[64], r[64];
	uint16_t rb, eb;

	assert_non_null(rp->ide_port);
	assert_non_null(ep->ide_port);
	assert_ptr_equal(rp->link, l);
	assert_non_null(l->wire);
	/* The root port's private path is for root ports only. */
	assert_err(pcitsm_emu_rp_k_set_go(ep, 3, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR),
		   PCITSM_E_INVAL);
	/* Registers with Enable clear configure the engine stream; no keys: Enable stays Insecure. */
	rb = program_block0(rp, 3);
	eb = program_block0(ep, 3);
	assert_int_equal(pcitsm_ide_stream_find(rp->ide_port, 3), 0);
	assert_int_equal(pcitsm_ide_stream_find(ep->ide_port, 3), 0);
	set_enable(ep, eb, true);
	assert_int_equal(state_of(ep, eb), PCITSM_IDE_STATE_INSECURE);
	set_enable(ep, eb, false);
	/* Keys in, Enable endpoint then root port: Secure at both, read through Status. */
	key_both(rp, ep, 3);
	/* Rewriting the same programming keeps the keys. */
	program_block0(ep, 3);
	set_enable(ep, eb, true);
	set_enable(rp, rb, true);
	assert_int_equal(state_of(ep, eb), PCITSM_IDE_STATE_SECURE);
	assert_int_equal(state_of(rp, rb), PCITSM_IDE_STATE_SECURE);
	/* Memory traffic both ways across the encrypted link (the root port selects the stream by
	 * address, the endpoint by its Default Stream). */
	memset(w, 0x5a, sizeof(w));
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_RP, l->side[1].base, w, sizeof(w)));
	assert_ok(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, l->side[1].base, r, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_EP, l->side[0].base + 64, w, sizeof(w)));
	assert_ok(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_EP, l->side[0].base + 64, r, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
	assert_ok(pcitsm_emu_link_flush(l));
	assert_true(ep->ide_port->stream[0].stats.rx_tlps > 0);
	/* Inside the window, beyond the memory backed: Unsupported Request. Outside the address
	 * association: the root port sends it in the clear and the endpoint drops it (a plaintext
	 * TLP that belongs to its Secure default stream). */
	assert_err(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, l->side[1].base + PCITSM_EMU_MEM_SIZE,
				       r, 4),
		   PCITSM_E_IO);
	assert_err(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, 0x1000, r, 4), PCITSM_E_NORESPONSE);
	/* Clearing Enable at the root port: Insecure, keys gone; its TX refuses Secure-stream TLPs. */
	set_enable(rp, rb, false);
	assert_int_equal(state_of(rp, rb), 0); /* Status reads 0 while Enable is clear */
	set_enable(rp, rb, true);
	assert_int_equal(state_of(rp, rb), PCITSM_IDE_STATE_INSECURE);
	assert_err(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_RP, l->side[1].base, w, 4),
		   PCITSM_E_STATE);
	/* Back to idle (Stream ID 255): no engine stream. */
	set_enable(rp, rb, false);
	assert_ok(pcitsm_cfg_write32(&rp->cfg.cfg, rb + PCITSM_IDE_SEL_CTL,
				     (uint32_t)PCITSM_IDE_RESERVED_STREAM_ID << PCITSM_IDE_CTL_ID_SHIFT));
	assert_int_equal(pcitsm_ide_stream_find(rp->ide_port, 3), -1);
}

static bool ep_key_valid(struct pcitsm_emu_func *ep, unsigned idx)
{
	return ep->ide_port->stream[idx].slot[PCITSM_IDE_RX][PCITSM_IDE_SUB_PR][0].valid;
}

/* Register rewrites with Enable clear: the same programming keeps the keys, any other (the
 * aggregation mode alone included) reconfigures the stream and loses them; an idle block releases
 * its Stream ID for another block; programming the engine refuses leaves no stream. */
static void engine_reprogramming(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = func(fx, "0000:01:00.0");
	uint8_t key[32] = { 0x11 }, ifv[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };
	struct pcitsm_ide_info ide;
	uint32_t ctl;
	uint16_t eb;

	eb = program_block0(ep, 3);
	assert_ok(pcitsm_ide_read(&ep->cfg.cfg, ep->ide_off, &ide));
	assert_ok(pcitsm_ide_key_prog(ep->ide_port, 3, 0, PCITSM_IDE_RX, PCITSM_IDE_SUB_PR, key, ifv));
	assert_true(ep_key_valid(ep, 0));
	assert_ok(pcitsm_cfg_read32(&ep->cfg.cfg, eb + PCITSM_IDE_SEL_CTL, &ctl));
	assert_ok(pcitsm_cfg_write32(&ep->cfg.cfg, eb + PCITSM_IDE_SEL_CTL, ctl));
	assert_true(ep_key_valid(ep, 0));
	/* Posted aggregation up to 2: a different programming. */
	assert_ok(pcitsm_cfg_write32(&ep->cfg.cfg, eb + PCITSM_IDE_SEL_CTL,
				     ctl | 1u << PCITSM_IDE_CTL_AGG_PR_SHIFT));
	assert_false(ep_key_valid(ep, 0));
	assert_int_equal(ep->ide_port->stream[0].agg[PCITSM_IDE_SUB_PR], 2);
	/* Stream ID 3 moves from block 0 (now idle) to block 1. */
	assert_ok(pcitsm_cfg_write32(&ep->cfg.cfg, eb + PCITSM_IDE_SEL_CTL,
				     (uint32_t)PCITSM_IDE_RESERVED_STREAM_ID
					     << PCITSM_IDE_CTL_ID_SHIFT));
	assert_int_equal(pcitsm_ide_stream_find(ep->ide_port, 3), -1);
	assert_ok(pcitsm_cfg_write32(&ep->cfg.cfg, ide.sel_off[1] + PCITSM_IDE_SEL_CTL,
				     3u << PCITSM_IDE_CTL_ID_SHIFT));
	assert_int_equal(pcitsm_ide_stream_find(ep->ide_port, 3), 1);
	/* An algorithm other than AES-GCM-256: the engine refuses it, the block holds no stream. */
	assert_ok(pcitsm_cfg_write32(&ep->cfg.cfg, ide.sel_off[1] + PCITSM_IDE_SEL_CTL,
				     3u << PCITSM_IDE_CTL_ID_SHIFT | 1u << PCITSM_IDE_CTL_ALG_SHIFT));
	assert_int_equal(pcitsm_ide_stream_find(ep->ide_port, 3), -1);
	assert_false(ep->ide_port->stream[1].configured);
}

static void topology(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *rp = func(fx, "0000:00:01.0"), *ep = func(fx, "0000:01:00.0");
	struct pcitsm_pci_id id;

	assert_int_equal(fx->p.nr_funcs, 4);
	assert_non_null(rp);
	assert_non_null(ep);
	assert_ptr_equal(ep->upstream, rp);
	assert_ptr_equal(rp->partner, ep);
	assert_non_null(func(fx, "0000:02:00.0"));
	assert_null(func(fx, "0000:03:00.0"));

	assert_ok(pcitsm_pci_read_id(&rp->cfg.cfg, &id));
	assert_int_equal(id.vendor, PCITSM_EMU_VENDOR);
	assert_int_equal(id.exp_type, PCITSM_EXP_TYPE_ROOT_PORT);
	assert_int_equal(id.class_code, 0x060400);
	assert_false(id.tee_io);
	assert_int_equal(id.port_number, 1);

	assert_ok(pcitsm_pci_read_id(&ep->cfg.cfg, &id));
	assert_int_equal(id.exp_type, PCITSM_EXP_TYPE_ENDPOINT);
	assert_true(id.tee_io);
	assert_int_equal(id.header_type & 0x7f, 0);

	/* Secondary and subordinate bus of the root port name the endpoint's bus. */
	uint32_t buses;
	assert_ok(pcitsm_cfg_read32(&rp->cfg.cfg, PCITSM_CFG_PRIMARY_BUS, &buses));
	assert_int_equal((buses >> 8) & 0xff, 1);
	assert_int_equal((buses >> 16) & 0xff, 1);
}

static void capabilities(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = func(fx, "0000:01:00.0");
	struct pcitsm_cap caps[16];
	size_t n;
	uint16_t off;
	struct pcitsm_dev3_info d3;
	struct pcitsm_doe_capinfo doe;

	assert_ok(pcitsm_cap_list(&ep->cfg.cfg, caps, 16, &n));
	assert_int_equal(n, 5); /* PCIe, MSI-X, DOE, IDE, Device-3 */
	assert_int_equal(caps[0].id, PCITSM_CAP_ID_EXP);
	assert_false(caps[0].ext);
	assert_int_equal(caps[1].id, PCITSM_CAP_ID_MSIX);
	assert_false(caps[1].ext);
	assert_int_equal(caps[2].id, PCITSM_ECAP_ID_DOE);
	assert_int_equal(caps[2].version, 2);
	assert_int_equal(caps[3].id, PCITSM_ECAP_ID_IDE);
	assert_int_equal(caps[4].id, PCITSM_ECAP_ID_DEV3);

	assert_ok(pcitsm_ecap_find(&ep->cfg.cfg, PCITSM_ECAP_ID_DOE, 0, &off));
	assert_ok(pcitsm_doe_cap_read(&ep->cfg.cfg, off, &doe));
	assert_int_equal(doe.version, 2);
	assert_err(pcitsm_ecap_find(&ep->cfg.cfg, PCITSM_ECAP_ID_DOE, 1, &off), PCITSM_E_NOTFOUND);
	assert_ok(pcitsm_ecap_find(&ep->cfg.cfg, PCITSM_ECAP_ID_DEV3, 0, &off));
	assert_ok(pcitsm_dev3_read(&ep->cfg.cfg, off, &d3));
	assert_false(d3.segment_captured);
}

static void ide_capability_decodes(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *rp = func(fx, "0000:00:01.0"), *ep = func(fx, "0000:01:00.0");
	struct pcitsm_ide_info *ide = calloc(1, sizeof(*ide));
	struct pcitsm_ide_sel sel;

	assert_ok(pcitsm_ide_read(&ep->cfg.cfg, ep->ide_off, ide));
	assert_true(ide->sel_sup && ide->link_sup && ide->ide_km_sup && ide->tee_limited_sup);
	assert_true(ide->aggregation_sup && ide->pcrc_sup);
	assert_false(ide->sel_cfg_sup);
	assert_int_equal(ide->nr_link, 1);
	assert_int_equal(ide->nr_sel, 4);
	assert_int_equal(ide->algs, 0);
	for (unsigned i = 0; i < ide->nr_sel; i++) {
		assert_ok(pcitsm_ide_sel_read(&ep->cfg.cfg, ide, i, &sel));
		assert_int_equal(sel.nr_addr, 2);
		assert_false(sel.ctl.enable);
		/* Idle streams carry the reserved ID. */
		assert_int_equal(sel.ctl.stream_id, PCITSM_IDE_RESERVED_STREAM_ID);
		assert_int_equal(sel.state, PCITSM_IDE_STATE_INSECURE);
	}
	assert_ok(pcitsm_ide_read(&rp->cfg.cfg, rp->ide_off, ide));
	assert_true(ide->sel_cfg_sup);
	assert_false(ide->ide_km_sup);
	free(ide);
}

/* Stream ID writable with Enable clear; every field but Enable read-only while set; Status
 * Insecure (no keys yet); clearing Enable works. */
static void ide_enable_sampling(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = func(fx, "0000:01:00.0");
	struct pcitsm_cfg *cfg = &ep->cfg.cfg;
	struct pcitsm_ide_info *ide = calloc(1, sizeof(*ide));
	struct pcitsm_ide_sel sel;
	uint32_t ctl_off, v;

	assert_ok(pcitsm_ide_read(cfg, ep->ide_off, ide));
	ctl_off = ide->sel_off[1] + PCITSM_IDE_SEL_CTL;

	/* Program RID association, then Stream ID 7 with Enable clear. */
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[1] + PCITSM_IDE_SEL_RID1, 0xffff00));
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[1] + PCITSM_IDE_SEL_RID2, 0x000001));
	assert_ok(pcitsm_cfg_write32(cfg, ctl_off, 7u << PCITSM_IDE_CTL_ID_SHIFT |
						   PCITSM_IDE_CTL_DEFAULT));
	assert_ok(pcitsm_cfg_read32(cfg, ctl_off, &v));
	assert_int_equal(v, 7u << PCITSM_IDE_CTL_ID_SHIFT | PCITSM_IDE_CTL_DEFAULT);
	/* Status reads 0 while Enable is clear. */
	assert_ok(pcitsm_cfg_read32(cfg, ide->sel_off[1] + PCITSM_IDE_SEL_STS, &v));
	assert_int_equal(v, 0);

	/* Enable; then try to change the Stream ID: sampled, so it stays 7. */
	assert_ok(pcitsm_cfg_write32(cfg, ctl_off, v = 7u << PCITSM_IDE_CTL_ID_SHIFT |
						       PCITSM_IDE_CTL_DEFAULT | PCITSM_IDE_CTL_EN));
	assert_ok(pcitsm_cfg_write32(cfg, ctl_off, 9u << PCITSM_IDE_CTL_ID_SHIFT | PCITSM_IDE_CTL_EN));
	assert_ok(pcitsm_ide_sel_read(cfg, ide, 1, &sel));
	assert_true(sel.ctl.enable);
	assert_int_equal(sel.ctl.stream_id, 7);
	assert_true(sel.ctl.default_stream);
	assert_true(sel.rid_valid);
	assert_int_equal(sel.rid_limit, 0xffff);
	assert_int_equal(sel.state, PCITSM_IDE_STATE_INSECURE);

	/* A byte write to the Stream ID byte is sampled too. */
	assert_ok(pcitsm_cfg_write8(cfg, ctl_off + 3, 0x42));
	assert_ok(pcitsm_cfg_read8(cfg, ctl_off + 3, &(uint8_t){ 0 }));
	assert_ok(pcitsm_ide_sel_read(cfg, ide, 1, &sel));
	assert_int_equal(sel.ctl.stream_id, 7);

	/* Clear Enable: now the ID is writable again. */
	assert_ok(pcitsm_cfg_write32(cfg, ctl_off, 7u << PCITSM_IDE_CTL_ID_SHIFT));
	assert_ok(pcitsm_cfg_write8(cfg, ctl_off + 3, 0x42));
	assert_ok(pcitsm_ide_sel_read(cfg, ide, 1, &sel));
	assert_false(sel.ctl.enable);
	assert_int_equal(sel.ctl.stream_id, 0x42);

	/* Capability and Selective Capability registers are read-only. */
	assert_ok(pcitsm_cfg_write32(cfg, ep->ide_off + PCITSM_IDE_CAP, 0));
	assert_ok(pcitsm_cfg_read32(cfg, ep->ide_off + PCITSM_IDE_CAP, &v));
	assert_int_equal(v, ide->cap_raw);
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[0] + PCITSM_IDE_SEL_CAP, 0xf));
	assert_ok(pcitsm_cfg_read32(cfg, ide->sel_off[0] + PCITSM_IDE_SEL_CAP, &v));
	assert_int_equal(v, 2);
	free(ide);
}

/* Once a later layer reports a stream Secure, the register says so, but only with RID Valid. */
static uint8_t always_secure(struct pcitsm_emu_func *f, unsigned i)
{
	return PCITSM_IDE_STATE_SECURE;
}

static void ide_state_hook(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = func(fx, "0000:01:00.0");
	struct pcitsm_cfg *cfg = &ep->cfg.cfg;
	struct pcitsm_ide_info *ide = calloc(1, sizeof(*ide));
	struct pcitsm_ide_sel sel;

	ep->ide_state = always_secure;
	assert_ok(pcitsm_ide_read(cfg, ep->ide_off, ide));
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[0] + PCITSM_IDE_SEL_CTL, PCITSM_IDE_CTL_EN));
	assert_ok(pcitsm_ide_sel_read(cfg, ide, 0, &sel));
	assert_int_equal(sel.state, PCITSM_IDE_STATE_INSECURE); /* RID Valid clear */
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[0] + PCITSM_IDE_SEL_CTL, 0));
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[0] + PCITSM_IDE_SEL_RID2, 1));
	assert_ok(pcitsm_cfg_write32(cfg, ide->sel_off[0] + PCITSM_IDE_SEL_CTL, PCITSM_IDE_CTL_EN));
	assert_ok(pcitsm_ide_sel_read(cfg, ide, 0, &sel));
	assert_int_equal(sel.state, PCITSM_IDE_STATE_SECURE);
	free(ide);
}

static void available_streams(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *rp = func(fx, "0000:00:02.0");
	struct pcitsm_ide_info *ide = calloc(1, sizeof(*ide));

	assert_int_equal(pcitsm_emu_available_streams(&fx->p), 256);
	assert_ok(pcitsm_ide_read(&rp->cfg.cfg, rp->ide_off, ide));
	assert_ok(pcitsm_cfg_write32(&rp->cfg.cfg, ide->sel_off[3] + PCITSM_IDE_SEL_CTL,
				     PCITSM_IDE_CTL_EN));
	assert_int_equal(pcitsm_emu_available_streams(&fx->p), 255);
	free(ide);
}

/* The endpoint's DOE mailbox, through its config space, with the host driver. */
static void doe_discovery(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = func(fx, "0000:01:00.0");
	struct pcitsm_doe_host *h = calloc(1, sizeof(*h));
	uint8_t rsp[64];
	size_t rlen;
	static const uint8_t get_version[4] = { 0x10, 0x84, 0, 0 };

	assert_ok(pcitsm_doe_host_find(h, &ep->cfg.cfg, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
				       &fx->env.env));
	assert_int_equal(h->nr_protos, 3);
	assert_true(pcitsm_doe_host_supports(h, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_DISCOVERY));
	assert_true(pcitsm_doe_host_supports(h, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA));
	assert_true(pcitsm_doe_host_supports(h, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_SECURED_CMA));
	/* With no SPDM responder installed the device discards CMA objects: the host times out. */
	assert_err(pcitsm_xport_exchange(&h->x, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
					 get_version, sizeof(get_version), rsp, sizeof(rsp), &rlen),
		   PCITSM_E_TIMEOUT);
	pcitsm_xport_close(&h->x);
	free(h);
}

/* A full host bridge (docs/emulated-platform.md "Scale"): 255 root ports packed 8 functions to a
 * device on the root bus (function 0 multi-function), endpoint i on bus 1 + i, every bus number
 * used; one more port, or a root bus above 0 with 255, does not fit and is refused. */
static void full_host_bridge(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config *cfg = calloc(1, sizeof(*cfg));
	const unsigned n = PCITSM_EMU_MAX_PORTS;
	uint8_t dev, fn;

	(void)state;
	assert_non_null(cfg);
	pcitsm_env_test_init(&env, 1);
	pcitsm_emu_config_ports(cfg, n);
	assert_int_equal(cfg->nr_ports, 255);
	cfg->root_bus = 1;
	assert_err(pcitsm_emu_platform_init(&p, cfg, &env.env), PCITSM_E_INVAL);
	cfg->root_bus = 0;
	cfg->nr_ports = n + 1;
	assert_err(pcitsm_emu_platform_init(&p, cfg, &env.env), PCITSM_E_INVAL);
	cfg->nr_ports = n;
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	assert_int_equal(p.nr_funcs, 2 * n);
	for (unsigned i = 0; i < n; i++) {
		struct pcitsm_emu_func *rp = &p.funcs[i], *ep = &p.funcs[n + i];
		uint32_t buses, hdr, flags;

		pcitsm_emu_rp_devfn(cfg, i, &dev, &fn);
		assert_int_equal(dev, i / 8);
		assert_int_equal(fn, i % 8);
		assert_int_equal(rp->bdf.bus, 0);
		assert_int_equal(rp->bdf.dev, dev);
		assert_int_equal(rp->bdf.fn, fn);
		assert_ptr_equal(pcitsm_emu_find(&p, &rp->bdf), rp);
		assert_ptr_equal(pcitsm_emu_find(&p, &ep->bdf), ep);
		assert_ok(pcitsm_cfg_read32(&rp->cfg.cfg, PCITSM_CFG_PRIMARY_BUS, &buses));
		assert_int_equal(buses & 0xffffff, (i + 1) << 8 | (i + 1) << 16);
		assert_ok(pcitsm_cfg_read32(&rp->cfg.cfg, 0x0c, &hdr));
		assert_int_equal(hdr >> 16 & 0xff, i % 8 == 0 && i + 1 < n ? 0x81 : 0x01);
		assert_ok(pcitsm_cfg_read32(&rp->cfg.cfg, rp->exp_off, &flags));
		assert_int_equal(flags >> 20 & 0xf, PCITSM_EXP_TYPE_ROOT_PORT);
		assert_ok(pcitsm_cfg_read32(&rp->cfg.cfg, rp->exp_off + PCITSM_EXP_LNKCAP, &flags));
		assert_int_equal(flags >> 24, i + 1); /* Port Number */
		assert_int_equal(ep->bdf.bus, i + 1);
		assert_int_equal(ep->bdf.dev, 0);
		assert_ptr_equal(ep->upstream, rp);
		assert_ptr_equal(p.links[i].rp, rp);
		assert_ptr_equal(p.links[i].ep, ep);
	}
	assert_int_equal(pcitsm_emu_available_streams(&p), PCITSM_EMU_DEFAULT_STREAMS);
	pcitsm_emu_platform_free(&p);
	/* Up to 31 root ports keep one per device, devices 1..31. */
	pcitsm_emu_config_ports(cfg, PCITSM_EMU_RP_ONE_PER_DEVICE);
	pcitsm_emu_rp_devfn(cfg, PCITSM_EMU_RP_ONE_PER_DEVICE - 1, &dev, &fn);
	assert_int_equal(dev, 31);
	assert_int_equal(fn, 0);
	free(cfg);
}

/* ---------------------------------------------------------------------------------------------
 * Switches (docs/emulated-platform.md "Switches").
 */
static uint32_t cfg32(struct pcitsm_emu_func *f, uint32_t off)
{
	uint32_t v;

	assert_ok(pcitsm_cfg_read32(&f->cfg.cfg, off, &v));
	return v;
}

static unsigned exp_type(struct pcitsm_emu_func *f)
{
	return cfg32(f, f->exp_off) >> 20 & 0xf;
}

/* A Type 1 function's bus numbers and memory window, as Linux reads them. */
static void assert_bridge(struct pcitsm_emu_func *f, unsigned type, unsigned pri, unsigned sec,
			  unsigned sub, uint64_t base, uint64_t size)
{
	uint32_t win = cfg32(f, 0x20);

	assert_int_equal(exp_type(f), type);
	assert_int_equal(cfg32(f, 0x08) >> 8, 0x060400); /* PCI-to-PCI bridge */
	assert_int_equal(cfg32(f, 0x0c) >> 16 & 0x7f, 1); /* Type 1 header */
	assert_int_equal(cfg32(f, PCITSM_CFG_PRIMARY_BUS) & 0xffffff, pri | sec << 8 | sub << 16);
	assert_int_equal((uint64_t)(win & 0xfff0) << 16, base);
	assert_int_equal(((uint64_t)(win >> 16 & 0xfff0) << 16 | 0xfffff) + 1, base + size);
}

/* Three root ports, the first two with a 3-port switch: buses depth-first (switch 0: USP on 1,
 * internal bus 2, endpoints 3..5; switch 1: 6, 7, 8..10; then root port 3's endpoint on 11),
 * port types, windows nested, each endpoint's IDE partner its root port, the links below a
 * switch sharing their root port's engine and lock. */
static void switch_enumeration(void **state)
{
	const uint64_t mb = PCITSM_EMU_MEM_WINDOW;
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config *cfg = calloc(1, sizeof(*cfg));
	unsigned max;

	(void)state;
	assert_non_null(cfg);
	pcitsm_env_test_init(&env, 1);
	assert_ok(pcitsm_emu_config_switches(cfg, 3, 2, 3, &max));
	assert_int_equal(max, 251);
	assert_int_equal(cfg->nr_ports, 7);
	assert_int_equal(pcitsm_emu_config_buses(cfg), 11);
	assert_int_equal(pcitsm_emu_config_root_ports(cfg), 3);
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	assert_int_equal(p.nr_funcs, 2 * 7 + 2 * 2);
	for (unsigned s = 0; s < 2; s++) {
		struct pcitsm_bdf b = { 0, 0, (uint8_t)(1 + s), 0 };
		struct pcitsm_emu_func *rp = pcitsm_emu_find(&p, &b), *usp;
		unsigned bus = 1 + 5 * s;
		struct pcitsm_ide_info ide;

		assert_non_null(rp);
		assert_int_equal(rp->kind, PCITSM_EMU_ROOT_PORT);
		assert_bridge(rp, PCITSM_EXP_TYPE_ROOT_PORT, 0, bus, bus + 4,
			      PCITSM_EMU_MEM_BASE + 3 * s * mb, 3 * mb);
		assert_int_equal(cfg32(rp, rp->exp_off + PCITSM_EXP_LNKCAP) >> 24, 1 + s);
		assert_ok(pcitsm_ide_read(&rp->cfg.cfg, rp->ide_off, &ide));
		assert_true(ide.nr_sel >= 3); /* a block per endpoint below it */
		assert_null(rp->partner);
		b = (struct pcitsm_bdf){ 0, (uint8_t)bus, 0, 0 };
		usp = pcitsm_emu_find(&p, &b);
		assert_non_null(usp);
		assert_int_equal(usp->kind, PCITSM_EMU_SWITCH_UP);
		assert_ptr_equal(usp->bridge, rp);
		assert_int_equal(usp->ide_off, 0); /* no IDE, no TEE-IO: no DSM */
		assert_int_equal(cfg32(usp, 0x00) >> 16, PCITSM_EMU_DEVICE_SWITCH_UP);
		assert_bridge(usp, PCITSM_EXP_TYPE_UPSTREAM, bus, bus + 1, bus + 4,
			      PCITSM_EMU_MEM_BASE + 3 * s * mb, 3 * mb);
		for (unsigned k = 0; k < 3; k++) {
			unsigned i = 3 * s + k;
			struct pcitsm_emu_link *l = &p.links[i];
			struct pcitsm_emu_func *dsp = l->dsp, *ep = l->ep;

			assert_non_null(dsp);
			assert_int_equal(dsp->kind, PCITSM_EMU_SWITCH_DOWN);
			assert_int_equal(dsp->bdf.bus, bus + 1);
			assert_int_equal(dsp->bdf.dev, k);
			assert_ptr_equal(dsp->bridge, usp);
			assert_int_equal(dsp->ide_off, 0);
			assert_bridge(dsp, PCITSM_EXP_TYPE_DOWNSTREAM, bus + 1, bus + 2 + k,
				      bus + 2 + k, PCITSM_EMU_MEM_BASE + i * mb, mb);
			assert_ptr_equal(&p.funcs[i], dsp);
			assert_ptr_equal(&p.funcs[7 + i], ep);
			assert_int_equal(ep->bdf.bus, bus + 2 + k);
			assert_int_equal(exp_type(ep), PCITSM_EXP_TYPE_ENDPOINT);
			assert_ptr_equal(ep->bridge, dsp);
			assert_ptr_equal(ep->upstream, rp);
			assert_ptr_equal(l->rp, rp);
			assert_ptr_equal(rp->ide_port, p.links[3 * s].rp->ide_port);
			assert_ptr_equal(l->mutex, p.links[3 * s].mutex);
			assert_int_equal(l->side[PCITSM_IDE_SIDE_EP].base, PCITSM_EMU_MEM_BASE + i * mb);
		}
	}
	assert_ptr_not_equal(p.links[0].mutex, p.links[3].mutex);
	/* The third root port, with its endpoint right below it. */
	assert_bridge(p.links[6].rp, PCITSM_EXP_TYPE_ROOT_PORT, 0, 11, 11,
		      PCITSM_EMU_MEM_BASE + 6 * mb, mb);
	assert_null(p.links[6].dsp);
	assert_ptr_equal(p.links[6].ep->bridge, p.links[6].rp);
	assert_ptr_equal(p.links[6].rp->partner, p.links[6].ep);
	assert_int_equal(p.links[6].ep->bdf.bus, 11);
	assert_int_equal(pcitsm_emu_available_streams(&p), PCITSM_EMU_DEFAULT_STREAMS);
	pcitsm_emu_platform_free(&p);

	/* The most a switch allows: one with 32 Downstream Ports (devices 0..31 of its internal
	 * bus) and 221 root ports, 253 endpoints up to bus 255; one endpoint more does not fit. */
	assert_ok(pcitsm_emu_config_switches(cfg, 222, 1, 32, &max));
	assert_int_equal(max, 253);
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	assert_int_equal(p.links[31].dsp->bdf.dev, 31);
	assert_int_equal(p.links[252].ep->bdf.bus, 255);
	assert_int_equal(p.links[252].rp->bdf.dev, 221 / 8);
	pcitsm_emu_platform_free(&p);
	assert_err(pcitsm_emu_config_switches(cfg, 223, 1, 32, &max), PCITSM_E_INVAL);
	assert_int_equal(max, 253);
	/* 64 Downstream Ports: eight functions to a device, function 0 multi-function. */
	assert_ok(pcitsm_emu_config_switches(cfg, 1, 1, PCITSM_EMU_MAX_SWITCH_PORTS, &max));
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	assert_int_equal(p.links[9].dsp->bdf.dev, 1);
	assert_int_equal(p.links[9].dsp->bdf.fn, 1);
	assert_int_equal(cfg32(p.links[8].dsp, 0x0c) >> 16 & 0xff, 0x81);
	assert_int_equal(cfg32(p.links[63].dsp, 0x0c) >> 16 & 0xff, 0x01);
	pcitsm_emu_platform_free(&p);
	free(cfg);
}

/* Layouts past the bus budget or out of range are refused: by the configuration helper, naming
 * the most endpoints that many switches allow, and by the platform. */
static void switch_bad_configs(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config *cfg = calloc(1, sizeof(*cfg));
	unsigned max;

	(void)state;
	assert_non_null(cfg);
	pcitsm_env_test_init(&env, 1);
	assert_err(pcitsm_emu_config_switches(cfg, 250, 2, 8, &max), PCITSM_E_INVAL);
	assert_int_equal(max, 251);
	assert_err(pcitsm_emu_config_switches(cfg, 2, 3, 2, &max), PCITSM_E_INVAL);
	assert_err(pcitsm_emu_config_switches(cfg, 2, 1, 0, &max), PCITSM_E_INVAL);
	assert_err(pcitsm_emu_config_switches(cfg, 2, 1, PCITSM_EMU_MAX_SWITCH_PORTS + 1, &max),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_emu_config_switches(cfg, 0, 0, 8, &max), PCITSM_E_INVAL);
	assert_ok(pcitsm_emu_config_switches(cfg, 4, 2, 8, &max));
	/* More endpoints below switches than links; no Downstream Port; too many; past bus 255. */
	cfg->nr_switches = 3;
	assert_err(pcitsm_emu_platform_init(&p, cfg, &env.env), PCITSM_E_INVAL);
	cfg->nr_switches = 2;
	cfg->sw_ports = 0;
	assert_err(pcitsm_emu_platform_init(&p, cfg, &env.env), PCITSM_E_INVAL);
	cfg->sw_ports = PCITSM_EMU_MAX_SWITCH_PORTS + 1;
	assert_err(pcitsm_emu_platform_init(&p, cfg, &env.env), PCITSM_E_INVAL);
	cfg->sw_ports = 8;
	cfg->root_bus = (uint8_t)(255 - pcitsm_emu_config_buses(cfg) + 1);
	assert_err(pcitsm_emu_platform_init(&p, cfg, &env.env), PCITSM_E_INVAL);
	cfg->root_bus--;
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	assert_int_equal(p.links[cfg->nr_ports - 1].ep->bdf.bus, 255);
	pcitsm_emu_platform_free(&p);
	free(cfg);
}

/* Selective block idx of a port: RID association 0..0xFFFF (as SEV-TIO programs both ends),
 * Stream ID id, the root port's address association the endpoint's window. */
static uint16_t program_block(struct pcitsm_emu_func *f, unsigned idx, uint8_t id, uint64_t win)
{
	struct pcitsm_ide_info ide;
	uint32_t m = (uint32_t)(win >> 20) & 0xfff;

	assert_ok(pcitsm_ide_read(&f->cfg.cfg, f->ide_off, &ide));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[idx] + PCITSM_IDE_SEL_RID1, 0xffff00));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[idx] + PCITSM_IDE_SEL_RID2, 1));
	if (f->kind == PCITSM_EMU_ROOT_PORT)
		assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[idx] + PCITSM_IDE_SEL_ADDR1(0),
					     1u | m << 8 | m << 20));
	assert_ok(pcitsm_cfg_write32(&f->cfg.cfg, ide.sel_off[idx] + PCITSM_IDE_SEL_CTL,
				     (uint32_t)id << PCITSM_IDE_CTL_ID_SHIFT |
					     (f->kind == PCITSM_EMU_ENDPOINT ? PCITSM_IDE_CTL_DEFAULT
									     : 0)));
	return ide.sel_off[idx];
}

static void traffic_both_ways(struct pcitsm_emu_link *l, uint8_t fill)
{
	uint8_t w[64], r[64];

	memset(w, fill, sizeof(w));
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_RP, l->side[1].base, w, sizeof(w)));
	assert_memory_equal(l->side[PCITSM_IDE_SIDE_EP].mem, w, sizeof(w)); /* it crossed */
	assert_ok(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, l->side[1].base, r, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
	memset(w, fill ^ 0xff, sizeof(w));
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_EP, l->side[0].base + 64, w, sizeof(w)));
	assert_ok(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_EP, l->side[0].base + 64, r, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
}

/* Selective IDE through a switch (PCIe 6.x §6.33): two streams from one root port to two
 * endpoints below its switch, each root-port block with the RID range 0..0xFFFF; both Secure,
 * traffic both ways on each (completions go back on their request's stream, not on the first
 * stream whose RID range matches), and the switch holds no key. */
static void switch_streams(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config *cfg = calloc(1, sizeof(*cfg));
	unsigned max;

	(void)state;
	assert_non_null(cfg);
	pcitsm_env_test_init(&env, 1);
	assert_ok(pcitsm_emu_config_switches(cfg, 1, 1, 2, &max));
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	for (unsigned i = 0; i < 2; i++) {
		struct pcitsm_emu_link *l = &p.links[i];
		uint8_t id = (uint8_t)(5 + i);
		uint16_t rb = program_block(l->rp, i, id, l->side[PCITSM_IDE_SIDE_EP].base);
		uint16_t eb = program_block(l->ep, 0, id, 0);

		key_both(l->rp, l->ep, id);
		set_enable(l->ep, eb, true);
		set_enable(l->rp, rb, true);
		assert_int_equal(state_of(l->rp, rb), PCITSM_IDE_STATE_SECURE);
		assert_int_equal(state_of(l->ep, eb), PCITSM_IDE_STATE_SECURE);
		assert_null(l->dsp->ide_port);
	}
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < 2; i++) {
			traffic_both_ways(&p.links[i], (uint8_t)(0x30 + 2 * round + i));
			assert_int_equal(p.links[i].sw_unrouted, 0);
		}
	for (unsigned i = 0; i < 2; i++) {
		assert_true(p.links[i].ep->ide_port->stream[0].stats.rx_tlps > 0);
		assert_int_equal(p.links[i].ep->ide_port->misrouted, 0);
		assert_int_equal(pcitsm_ide_stream_state(p.links[i].ep->ide_port, 0),
				 PCITSM_IDE_SECURE);
	}
	assert_int_equal(p.links[0].rp->ide_port->misrouted, 0);
	assert_int_equal(pcitsm_emu_available_streams(&p), PCITSM_EMU_DEFAULT_STREAMS - 2);
	pcitsm_emu_platform_free(&p);
	free(cfg);
}

/* The switch routes by the TLP header (PCIe 6.x §2.2.4, §7.5.3): a memory request goes down to
 * the endpoint only while its Upstream Port's and its Downstream Port's windows hold the
 * address; what it does not route never arrives (a write lost, a read never completed), while
 * the endpoint's requests to host memory still go up. */
static void switch_routing(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config *cfg = calloc(1, sizeof(*cfg));
	struct pcitsm_emu_link *l;
	uint8_t w[16], r[16];
	uint32_t win;
	unsigned max;

	(void)state;
	assert_non_null(cfg);
	pcitsm_env_test_init(&env, 1);
	assert_ok(pcitsm_emu_config_switches(cfg, 1, 1, 2, &max));
	assert_ok(pcitsm_emu_platform_init(&p, cfg, &env.env));
	l = &p.links[1];
	traffic_both_ways(l, 0x11);
	/* Downstream Port 1's window moved to Downstream Port 0's: link 1's endpoint is cut off. */
	win = cfg32(p.links[0].dsp, 0x20);
	pcitsm_cfg_emu_poke(&l->dsp->cfg, 0x20, 4, win);
	memset(w, 0x22, sizeof(w));
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_RP, l->side[1].base, w, sizeof(w)));
	assert_int_equal(l->side[PCITSM_IDE_SIDE_EP].mem[0], 0x11);
	assert_int_equal(l->sw_unrouted, 1);
	assert_err(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, l->side[1].base, r, sizeof(r)),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(l->sw_unrouted, 2);
	/* Upstream, to host memory: unaffected. */
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_EP, l->side[0].base, w, sizeof(w)));
	assert_ok(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_EP, l->side[0].base, r, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
	/* An endpoint's request into a window the switch claims goes to a peer, not up. */
	assert_err(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_EP, PCITSM_EMU_MEM_BASE, r, sizeof(r)),
		   PCITSM_E_NORESPONSE);
	/* The Upstream Port's window without link 0's range: link 0 is cut off too. */
	win = cfg32(l->dsp->bridge, 0x20);
	pcitsm_cfg_emu_poke(&l->dsp->bridge->cfg, 0x20, 4, (win & 0xffff0000u) | (win >> 16));
	assert_err(pcitsm_emu_mem_read(&p.links[0], PCITSM_IDE_SIDE_RP, p.links[0].side[1].base, r,
				       sizeof(r)),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(p.links[0].sw_unrouted, 1);
	pcitsm_emu_platform_free(&p);
	free(cfg);
}

static void bad_configs(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config cfg;

	pcitsm_env_test_init(&env, 1);
	pcitsm_emu_config_default(&cfg);
	cfg.nr_ports = 0;
	assert_err(pcitsm_emu_platform_init(&p, &cfg, &env.env), PCITSM_E_INVAL);
	pcitsm_emu_config_default(&cfg);
	cfg.ports[0].ep_ide.nr_sel = 256;
	cfg.ports[0].ep_ide.nr_addr = 15; /* 256 blocks of 200 bytes cannot fit in 4 KiB */
	assert_err(pcitsm_emu_platform_init(&p, &cfg, &env.env), PCITSM_E_INVAL);
	pcitsm_emu_config_default(&cfg);
	cfg.nr_streams = 0;
	assert_err(pcitsm_emu_platform_init(&p, &cfg, &env.env), PCITSM_E_INVAL);
	pcitsm_emu_config_default(&cfg);
	cfg.ports[1].ep_extra_funcs = PCITSM_EMU_MAX_EXTRA_FUNCS + 1;
	assert_err(pcitsm_emu_platform_init(&p, &cfg, &env.env), PCITSM_E_INVAL);
	/* Extra functions come after every root port and endpoint. */
	cfg.ports[1].ep_extra_funcs = PCITSM_EMU_MAX_EXTRA_FUNCS;
	assert_ok(pcitsm_emu_platform_init(&p, &cfg, &env.env));
	assert_int_equal(p.nr_funcs, 4 + PCITSM_EMU_MAX_EXTRA_FUNCS);
	assert_int_equal(p.funcs[4].bdf.bus, 2);
	assert_int_equal(p.funcs[4].bdf.fn, 1);
	assert_ptr_equal(p.funcs[4].upstream, &p.funcs[1]);
	assert_int_equal(p.funcs[4].ide_off, 0);
	assert_int_equal(p.funcs[4].doe_off, 0);
	pcitsm_emu_platform_free(&p);
	/* A platform without DOE or IDE on the endpoint still builds. */
	pcitsm_emu_config_default(&cfg);
	cfg.ports[0].ep_doe = false;
	cfg.ports[0].ep_ide.present = false;
	cfg.ports[0].ep_dev3 = false;
	assert_ok(pcitsm_emu_platform_init(&p, &cfg, &env.env));
	pcitsm_emu_platform_free(&p);
}

/* SR-IOV (PCIe 6.x §9.3): PF0's capability as a driver reads it, and the VFs where it says they
 * are: Routing ID PF + First VF Offset + (n - 1) x VF Stride, Vendor/Device ID 0xFFFF, BAR
 * registers zero, BAR0 the PF's VF BAR0 + (n - 1) x its size. */
static void sriov(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config cfg;
	struct pcitsm_emu_func *pf, *vf;
	struct pcitsm_cfg *c;
	struct pcitsm_pci_id id;
	uint16_t off, v16;
	uint32_t v32, bar;

	(void)state;
	pcitsm_env_test_init(&env, 3);
	pcitsm_emu_config_default(&cfg);
	cfg.ports[1].ep_extra_funcs = 3;
	assert_ok(pcitsm_emu_platform_init(&p, &cfg, &env.env));
	pf = &p.funcs[3];
	c = &pf->cfg.cfg;
	assert_ok(pcitsm_ecap_find(c, PCITSM_ECAP_ID_SRIOV, 0, &off));
	assert_int_equal(off, pf->sriov_off);
	assert_ok(pcitsm_cfg_read16(c, off + PCITSM_SRIOV_TOTAL_VF, &v16));
	assert_int_equal(v16, 3);
	assert_ok(pcitsm_cfg_read16(c, off + PCITSM_SRIOV_INITIAL_VF, &v16));
	assert_int_equal(v16, 3);
	assert_ok(pcitsm_cfg_read16(c, off + PCITSM_SRIOV_NUM_VF, &v16));
	assert_int_equal(v16, 3);
	assert_ok(pcitsm_cfg_read16(c, off + PCITSM_SRIOV_CTRL, &v16));
	assert_int_equal(v16, PCITSM_SRIOV_CTRL_VFE | PCITSM_SRIOV_CTRL_MSE);
	assert_ok(pcitsm_cfg_read16(c, off + PCITSM_SRIOV_VF_DID, &v16));
	assert_int_equal(v16, PCITSM_EMU_DEVICE_VF);
	assert_ok(pcitsm_cfg_read32(c, off + PCITSM_SRIOV_SUP_PGSIZE, &v32));
	assert_true(v32 & 1); /* 4 KiB */
	/* VF BAR0: 64-bit memory of 16 KiB per VF, as sizing finds it. */
	assert_ok(pcitsm_cfg_read32(c, off + PCITSM_SRIOV_BAR, &bar));
	assert_int_equal(bar & 0xf, 0x4);
	assert_ok(pcitsm_cfg_write32(c, off + PCITSM_SRIOV_BAR, 0xffffffffu));
	assert_ok(pcitsm_cfg_read32(c, off + PCITSM_SRIOV_BAR, &v32));
	assert_int_equal(v32, 0xffffc004u);
	assert_ok(pcitsm_cfg_write32(c, off + PCITSM_SRIOV_BAR, bar));
	/* The PF is no multi-function device. */
	assert_ok(pcitsm_pci_read_id(c, &id));
	assert_false(id.vf);
	assert_int_equal(id.header_type & 0x80, 0);
	assert_int_equal(pf->nr_siblings, 3);
	for (unsigned n = 1; n <= 3; n++) {
		vf = pf->sibling[n - 1];
		assert_ptr_equal(vf->physfn, pf);
		assert_int_equal(vf->vf_num, n);
		assert_int_equal(pcitsm_bdf_rid(&vf->bdf), pcitsm_bdf_rid(&pf->bdf) + n);
		assert_ptr_equal(pcitsm_emu_find(&p, &vf->bdf), vf);
		assert_ptr_equal(vf->upstream, &p.funcs[1]);
		assert_ok(pcitsm_pci_read_id(&vf->cfg.cfg, &id));
		assert_true(id.vf);
		assert_int_equal(id.vendor, 0xffff);
		assert_int_equal(id.device, 0xffff);
		assert_int_equal(id.exp_type, PCITSM_EXP_TYPE_ENDPOINT);
		assert_true(id.tee_io);
		/* BAR registers read zero and stay zero; Memory Space Enable is not a VF's. */
		assert_ok(pcitsm_cfg_write32(&vf->cfg.cfg, 0x10, 0xffffffffu));
		assert_ok(pcitsm_cfg_read32(&vf->cfg.cfg, 0x10, &v32));
		assert_int_equal(v32, 0);
		assert_ok(pcitsm_cfg_write16(&vf->cfg.cfg, PCITSM_CFG_COMMAND, 0x0006));
		assert_ok(pcitsm_cfg_read16(&vf->cfg.cfg, PCITSM_CFG_COMMAND, &v16));
		assert_int_equal(v16, 0x0004);
		assert_int_equal(vf->desc.bar[0].base, (bar & ~0xfu) + (n - 1) * 0x4000ull);
		assert_int_equal(vf->desc.bar[0].size, 0x4000);
		assert_int_equal(vf->ide_off, 0);
		assert_int_equal(vf->doe_off, 0);
	}
	pcitsm_emu_platform_free(&p);
	/* No VFs: no SR-IOV capability. */
	pcitsm_emu_config_default(&cfg);
	assert_ok(pcitsm_emu_platform_init(&p, &cfg, &env.env));
	assert_err(pcitsm_ecap_find(&p.funcs[2].cfg.cfg, PCITSM_ECAP_ID_SRIOV, 0, &off),
		   PCITSM_E_NOTFOUND);
	assert_int_equal(p.funcs[2].sriov_off, 0);
	pcitsm_emu_platform_free(&p);
}

/* ---------------------------------------------------------------------------------------------
 * The one emulated device (pcitsm_emu_device_new) and its DOE response bound.
 */
struct size_tap {
	struct pcitsm_xport_tap tap;
	size_t max_rsp;
	unsigned nr_rsp;
};

static void size_tap_object(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj,
			    size_t len)
{
	struct size_tap *t = pcitsm_container_of(tap, struct size_tap, tap);

	(void)obj;
	if (!from_device)
		return;
	t->nr_rsp++;
	t->max_rsp = PCITSM_MAX(t->max_rsp, len);
}

/* One raw CMA object through the device's DOE instance, as a mailbox or a TCP port hands it in:
 * the whole response object's length (0 when discarded). */
static size_t raw_cma(struct pcitsm_emu_func *ep, const uint8_t *spdm, size_t len, uint8_t *rsp,
		      size_t cap)
{
	uint8_t obj[128];
	struct pcitsm_wr w;
	size_t n = 0;
	pcitsm_err e;

	pcitsm_wr_init(&w, obj, sizeof(obj));
	assert_ok(pcitsm_doe_obj_build(&w, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA, spdm, len));
	e = pcitsm_doe_dev_dispatch(&ep->doe, obj, pcitsm_wr_len(&w), rsp, cap, &n);
	return e == PCITSM_OK ? n : 0;
}

/* The largest things a requester can ask for, each answered in one DOE response within bound:
 * the whole authentication (P-384, requester DataTransferSize 64 KiB), then GET_CERTIFICATE of
 * the whole chain at once (Length 0xFFFF: the portion is capped, DSP0274 GET_CERTIFICATE) and
 * every measurement, signed. Returns the chain length. */
static size_t largest_responses(struct pcitsm_emu_func *ep, uint32_t bound, size_t *portion)
{
	struct pcitsm_env_test env;
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_spdm_auth_result res;
	struct pcitsm_xport_loop loop;
	struct size_tap st = { .tap.object = size_tap_object };
	uint8_t get_cert[8] = { PCITSM_SPDM_V13, 0x82, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t get_meas[45] = { PCITSM_SPDM_V13, 0xe0, 0x01, 0xff };
	uint8_t *rsp = malloc(PCITSM_DOE_MAX_BYTES);
	size_t n, chain_len;

	assert_non_null(rsp);
	pcitsm_env_test_init(&env, 7);
	pcitsm_xport_loop_init(&loop, &ep->doe);
	loop.x.tap = &st.tap;
	pcitsm_spdm_auth_opts_default(&ao, &env.env);
	ao.cfg.data_transfer_size = 0x10000;
	ao.allow_untrusted = true;
	assert_ok(pcitsm_spdm_drv_authenticate(&loop.x, &ao, &res));
	assert_int_equal(res.version, PCITSM_SPDM_V13);
	assert_true(res.meas_signed);
	assert_true(st.nr_rsp >= 7);
	assert_true(st.max_rsp <= bound);
	chain_len = res.chain_len;
	pcitsm_spdm_auth_result_free(&res);

	/* CERTIFICATE: header (8) + PortionLength bytes; RemainderLength the rest. */
	n = raw_cma(ep, get_cert, sizeof(get_cert), rsp, PCITSM_DOE_MAX_BYTES);
	assert_true(n > PCITSM_DOE_HDR_LEN + 8);
	assert_true(n <= bound);
	assert_int_equal(rsp[PCITSM_DOE_HDR_LEN + 1], 0x02); /* CERTIFICATE */
	*portion = pcitsm_get_le16(rsp + PCITSM_DOE_HDR_LEN + 4);
	assert_int_equal(*portion + pcitsm_get_le16(rsp + PCITSM_DOE_HDR_LEN + 6), chain_len);
	/* MEASUREMENTS, every block, signed. */
	n = raw_cma(ep, get_meas, sizeof(get_meas), rsp, PCITSM_DOE_MAX_BYTES);
	assert_true(n > PCITSM_DOE_HDR_LEN);
	assert_true(n <= bound);
	assert_int_equal(rsp[PCITSM_DOE_HDR_LEN + 1], 0x60); /* MEASUREMENTS */
	free(rsp);
	return chain_len;
}

static void device_response_bound(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = &fx->p.funcs[fx->p.config.nr_ports];
	struct pcitsm_emu_device_cfg dc = { .curve_bits = 384 };
	struct pcitsm_emu_device *d;
	size_t chain, portion;

	/* The default: 4608 bytes (QEMU's limit); DataTransferSize 4096. */
	assert_ok(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL));
	assert_int_equal(pcitsm_emu_device_data_transfer_size(d), 4096);
	chain = largest_responses(ep, PCITSM_EMU_DOE_RSP_MAX, &portion);
	assert_int_equal(portion, chain); /* a P-384 chain fits in one */
	pcitsm_emu_device_free(d);
	assert_null(ep->cma_impl);

	/* A small bound: the chain comes in portions, every response within 512 bytes. */
	dc.max_doe_rsp = 512;
	assert_ok(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL));
	assert_int_equal(pcitsm_emu_device_data_transfer_size(d),
			 512 - PCITSM_DOE_HDR_LEN - PCITSM_SM_OVERHEAD);
	chain = largest_responses(ep, 512, &portion);
	assert_true(portion < chain);
	assert_int_equal(portion, 512 - PCITSM_DOE_HDR_LEN - PCITSM_SM_OVERHEAD - 8);
	pcitsm_emu_device_free(d);

	/* A raised bound (a device option): DataTransferSize follows it. */
	dc.max_doe_rsp = 65536;
	assert_ok(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL));
	assert_int_equal(pcitsm_emu_device_data_transfer_size(d),
			 65536 - PCITSM_DOE_HDR_LEN - PCITSM_SM_OVERHEAD);
	pcitsm_emu_device_free(d);
}

static void device_bad_configs(void **state)
{
	struct fixture *fx = *state;
	struct pcitsm_emu_func *ep = &fx->p.funcs[fx->p.config.nr_ports];
	struct pcitsm_emu_func *rp = &fx->p.funcs[0];
	uint8_t v13 = PCITSM_SPDM_V13, v09 = 0x09;
	struct pcitsm_emu_device_cfg dc = { .curve_bits = 256 };
	struct pcitsm_emu_device *d = NULL, *d2;

	/* Bounds outside PCITSM_EMU_DOE_RSP_MIN .. the DOE maximum. */
	dc.max_doe_rsp = PCITSM_EMU_DOE_RSP_MIN - 4;
	assert_err(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL), PCITSM_E_INVAL);
	assert_null(d);
	assert_null(ep->cma_impl);
	dc.max_doe_rsp = PCITSM_DOE_MAX_BYTES + 4;
	assert_err(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL), PCITSM_E_INVAL);
	dc.max_doe_rsp = 0;
	/* A version the responder cannot offer; too many versions. */
	dc.versions = &v09;
	dc.nr_versions = 1;
	assert_err(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL), PCITSM_E_INVAL);
	dc.versions = &v13;
	dc.nr_versions = 9;
	assert_err(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL), PCITSM_E_INVAL);
	dc.nr_versions = 1;
	/* Not an endpoint with a DOE instance; an endpoint that has a device already. */
	assert_err(pcitsm_emu_device_new(&d, rp, &dc, &fx->env.env, NULL), PCITSM_E_INVAL);
	assert_ok(pcitsm_emu_device_new(&d, ep, &dc, &fx->env.env, NULL));
	assert_err(pcitsm_emu_device_new(&d2, ep, &dc, &fx->env.env, NULL), PCITSM_E_EXISTS);
	pcitsm_emu_device_free(d);
	pcitsm_emu_device_free(NULL);
}

/* What `pcitsm emulate` serves: the same device (SPDM with the pinned version, IDE_KM on the
 * endpoint's IDE engine) on a one-port platform of its own. */
static void standalone_device(void **state)
{
	struct pcitsm_env_test env;
	uint8_t v12 = PCITSM_SPDM_V12;
	struct pcitsm_emu_device_cfg dc = { .curve_bits = 256, .versions = &v12,
					    .nr_versions = 1, .name = "standalone" };
	struct pcitsm_emu_standalone *s = NULL;
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_spdm_auth_result res;
	struct pcitsm_xport_loop loop;
	struct pcitsm_emu_func *ep;
	uint32_t w;

	(void)state;
	pcitsm_env_test_init(&env, 3);
	assert_err(pcitsm_emu_standalone_new(&s, &dc, 3, &env.env), PCITSM_E_INVAL);
	assert_null(s);
	assert_ok(pcitsm_emu_standalone_new(&s, &dc, 2, &env.env));
	ep = pcitsm_emu_standalone_endpoint(s);
	assert_int_equal(ep->kind, PCITSM_EMU_ENDPOINT);
	assert_true(ep->ide_off && ep->ide_port && ep->doe_off);
	assert_ok(pcitsm_cfg_read32(&ep->cfg.cfg, 0, &w));
	assert_int_equal(w, (uint32_t)PCITSM_EMU_DEVICE_ENDPOINT << 16 | PCITSM_EMU_VENDOR);
	pcitsm_xport_loop_init(&loop, &ep->doe);
	pcitsm_spdm_auth_opts_default(&ao, &env.env);
	ao.allow_untrusted = true;
	assert_ok(pcitsm_spdm_drv_authenticate(&loop.x, &ao, &res));
	assert_int_equal(res.version, PCITSM_SPDM_V12);
	pcitsm_spdm_auth_result_free(&res);
	assert_true(pcitsm_emu_device_requests(pcitsm_emu_standalone_device(s)) >= 6);
	assert_non_null(pcitsm_emu_device_identity(pcitsm_emu_standalone_device(s))->root);
	/* Only 1.2 offered: a requester that needs 1.3 finds no common version. */
	ao.cfg.min_version = PCITSM_SPDM_V13;
	assert_err(pcitsm_spdm_drv_authenticate(&loop.x, &ao, &res), PCITSM_E_VERSION);
	pcitsm_spdm_auth_result_free(&res);
	pcitsm_emu_standalone_free(s);
	pcitsm_emu_standalone_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(topology, setup, teardown),
		cmocka_unit_test(full_host_bridge),
		cmocka_unit_test_setup_teardown(capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(ide_capability_decodes, setup, teardown),
		cmocka_unit_test_setup_teardown(ide_enable_sampling, setup, teardown),
		cmocka_unit_test_setup_teardown(ide_state_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(available_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(engine_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(engine_reprogramming, setup, teardown),
		cmocka_unit_test_setup_teardown(doe_discovery, setup, teardown),
		cmocka_unit_test(bad_configs),
		cmocka_unit_test(switch_enumeration),
		cmocka_unit_test(switch_bad_configs),
		cmocka_unit_test(switch_streams),
		cmocka_unit_test(switch_routing),
		cmocka_unit_test(sriov),
		cmocka_unit_test_setup_teardown(device_response_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(device_bad_configs, setup, teardown),
		cmocka_unit_test(standalone_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
