/* SPDX-License-Identifier: MIT */
/* pcitsmd's platform (model.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ---------------------------------------------------------------------------------------------
 * Faults. Device faults come from lib/emu's device model, firmware faults from lib/tsm's.
 */
const struct pd_fault_desc pd_fault_table[] = {
	{ "untrusted-cert", PD_FAULT_UNTRUSTED_CERT,
	  "the device's root certificate is not among the platform's trust anchors" },
	{ "bad-signature", PD_FAULT_BAD_SIGNATURE, "every signature the device makes has a flipped bit" },
	{ "refuse-key-prog", PD_FAULT_REFUSE_KEY_PROG,
	  "the device answers IDE_KM KEY_PROG with KP_ACK status 4 (unspecified failure)" },
	{ "rp-key-prog-refused", PD_FAULT_RP_KEY_PROG_REFUSED,
	  "firmware (tsm0): the root port's private key path refuses KEY_PROG" },
	{ "fail-after-STEP", PD_FAULT_FAIL_AFTER_STEP,
	  "firmware (tsm0): connect fails with EIO right after STEP (a pcitsm status step name)" },
};
const size_t pd_fault_table_len = PCITSM_ARRAY_SIZE(pd_fault_table);

#define FAIL_AFTER "fail-after-"

pcitsm_err pd_fault_lookup(const char *name, const struct pd_fault_desc **d,
			   enum pcitsm_tsm_step *step)
{
	if (!strncmp(name, FAIL_AFTER, strlen(FAIL_AFTER))) {
		const char *s = name + strlen(FAIL_AFTER);

		for (int i = PCITSM_TSM_STEP_PROBE; i < PCITSM_TSM_STEP_DONE; i++) {
			if (!strcmp(s, pcitsm_tsm_step_name((enum pcitsm_tsm_step)i))) {
				*step = (enum pcitsm_tsm_step)i;
				*d = &pd_fault_table[4];
				return PCITSM_OK;
			}
		}
		return PCITSM_E_INVAL;
	}
	for (size_t i = 0; i < pd_fault_table_len; i++) {
		if (pd_fault_table[i].kind != PD_FAULT_FAIL_AFTER_STEP &&
		    !strcmp(name, pd_fault_table[i].name)) {
			*d = &pd_fault_table[i];
			return PCITSM_OK;
		}
	}
	return PCITSM_E_INVAL;
}

void pd_faults_str(const struct pd *pd, int func, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < pd->o->nr_faults; i++) {
		const struct pd_fault *f = &pd->o->faults[i];

		if (f->fw || pd_find(pd, &f->bdf) != func)
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", f->name);
		if (n >= len) {
			buf[len - 1] = '\0';
			return;
		}
	}
}

/* Apply the faults of the options to the device and firmware configurations. */
static pcitsm_err apply_faults(struct pd *pd, const char **why)
{
	for (unsigned i = 0; i < pd->o->nr_faults; i++) {
		const struct pd_fault *f = &pd->o->faults[i];
		const struct pd_fault_desc *d;
		enum pcitsm_tsm_step step = PCITSM_TSM_STEP_NONE;
		struct pcitsm_emu_dev_faults *df = NULL;
		int fi;

		*why = "--fault: unknown fault name";
		PCITSM_TRY(pd_fault_lookup(f->name, &d, &step));
		if (d->kind == PD_FAULT_RP_KEY_PROG_REFUSED || d->kind == PD_FAULT_FAIL_AFTER_STEP) {
			*why = "--fault: a firmware fault takes the target tsm0";
			if (!f->fw)
				return PCITSM_E_INVAL;
			if (d->kind == PD_FAULT_RP_KEY_PROG_REFUSED)
				pd->fw_cfg.faults.rp_key_prog_refused = true;
			else
				pd->fw_cfg.faults.fail_after_step = (int)step;
			continue;
		}
		*why = "--fault: a device fault takes an endpoint's address";
		if (f->fw)
			return PCITSM_E_INVAL;
		fi = pd_find(pd, &f->bdf);
		if (fi < 0 || pd->funcs[fi].f->kind != PCITSM_EMU_ENDPOINT)
			return PCITSM_E_NOTFOUND;
		df = &pd->devs_cfg.faults[pd->funcs[fi].port];
		switch (d->kind) {
		case PD_FAULT_UNTRUSTED_CERT: df->untrusted_cert = true; break;
		case PD_FAULT_BAD_SIGNATURE: df->spdm.bad_signature = true; break;
		case PD_FAULT_REFUSE_KEY_PROG: df->refuse_key_prog = true; break;
		default: break;
		}
	}
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Functions.
 */
int pd_find(const struct pd *pd, const struct pcitsm_bdf *bdf)
{
	for (unsigned i = 0; i < pd->nr_funcs; i++) {
		const struct pcitsm_bdf *b = &pd->funcs[i].f->bdf;

		if (b->seg == bdf->seg && b->bus == bdf->bus && b->dev == bdf->dev && b->fn == bdf->fn)
			return (int)i;
	}
	return -1;
}

int pd_find_name(const struct pd *pd, const char *name)
{
	for (unsigned i = 0; i < pd->nr_funcs; i++)
		if (!strcmp(pd->funcs[i].name, name))
			return (int)i;
	return -1;
}

void pd_hb_name(const struct pd *pd, char *buf, size_t len)
{
	struct pcitsm_tsm_hb_info hb;

	if (pd->m.core && pcitsm_tsm_host_bridge(pd->m.core, 0, &hb) == PCITSM_OK)
		snprintf(buf, len, "%s", hb.name);
	else
		snprintf(buf, len, "pci%04x:%02x", pd->m.plat.config.segment,
			 pd->m.plat.config.root_bus);
}

void pd_devpath(const struct pd *pd, int i, char *buf, size_t len)
{
	char hb[PCITSM_TSM_NAME_MAX];
	int chain[8], n = 0;
	size_t at;

	/* Its ancestors, root port first: below a switch, root port / Upstream Port / Downstream
	 * Port / endpoint (a tree is at most that deep here). */
	for (int f = i; f >= 0 && n < (int)PCITSM_ARRAY_SIZE(chain); f = pd->funcs[f].parent)
		chain[n++] = f;
	pd_hb_name(pd, hb, sizeof(hb));
	at = (size_t)snprintf(buf, len, "%s", hb);
	while (n-- > 0 && at < len)
		at += (size_t)snprintf(buf + at, len - at, "/%s", pd->funcs[chain[n]].name);
}

/* Discover the DOE features of every mailbox, through the mailbox itself (what Linux caches and
 * shows in doe_features/). */
static void discover_doe(struct pd *pd, struct pd_func *pf)
{
	struct pcitsm_cfg *cfg = &pf->f->cfg.cfg;

	for (unsigned nth = 0;; nth++) {
		struct pcitsm_doe_host *h;
		uint16_t off;

		if (pcitsm_ecap_find(cfg, PCITSM_ECAP_ID_DOE, nth, &off) != PCITSM_OK)
			break;
		h = calloc(1, sizeof(*h));
		if (!h)
			break;
		if (pcitsm_doe_host_init(h, cfg, off, pd->env) == PCITSM_OK) {
			for (unsigned i = 0; i < h->nr_protos && pf->nr_doe < PCITSM_ARRAY_SIZE(pf->doe); i++)
				pf->doe[pf->nr_doe++] = h->protos[i];
		}
		pcitsm_xport_close(&h->x);
		free(h);
	}
}

/* The link (port index) of function f: an endpoint's, a VF's PF's, that of the endpoint right
 * below a root port or Downstream Port (the bridges come first in the platform's functions, in
 * link order); 0 for a switch's root port and Upstream Port. */
static unsigned pd_link_of(const struct pcitsm_emu_platform *p, const struct pcitsm_emu_func *f)
{
	unsigned n = p->config.nr_ports;
	unsigned i = (unsigned)((f->physfn ? f->physfn : f) - p->funcs);

	return i < 2 * n ? i % n : 0;
}

/* What failed, for the daemon's message, by the machine's part that failed. */
static const char *part_why(enum pcitsm_machine_part part, const struct pd_opts *o)
{
	switch (part) {
	case PCITSM_MACHINE_PLATFORM:
		return "build the emulated platform";
	case PCITSM_MACHINE_TRUST:
		return "trust store";
	case PCITSM_MACHINE_DEVICES:
		return o->identity_dir ? "load the identity (--identity)" : "device responders";
	case PCITSM_MACHINE_FIRMWARE:
		return "platform firmware TSM";
	case PCITSM_MACHINE_CORE:
		break;
	}
	return "PCI/TSM core";
}

pcitsm_err pd_open(struct pd *pd, const struct pd_opts *o, const struct pcitsm_env *env,
		   const char **why)
{
	struct pcitsm_emu_config cfg;
	struct pcitsm_machine_cfg mc;
	enum pcitsm_machine_part part;
	pcitsm_err e;

	memset(pd, 0, sizeof(*pd));
	pd->o = o;
	pd->env = env;
	{
		pthread_mutexattr_t a;

		/* Recursive: the vfs entry points hold it around calls that take it again. */
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&pd->dev_lock, &a);
		pthread_mutexattr_destroy(&a);
	}
	pthread_mutex_init(&pd->traffic_lock, NULL);

	/* The default platform's ports, repeated up to --ports, with --switches (checked by
	 * pd_opts_parse: it fits the bus budget). */
	*why = "--switches: the layout does not fit one host bridge";
	{
		unsigned max;

		PCITSM_TRY(pcitsm_emu_config_switches(&cfg, o->nr_ports, o->nr_switches, o->sw_ports,
						      &max));
	}
	cfg.ports[0].ep_extra_funcs = o->nr_vfs;
	/* The SVA devices (--sva-socket) are endpoint functions doing PASID DMA: their TDISP reports
	 * say so (DMA_WITH_PASID). */
	if (o->sva_socket)
		for (unsigned i = 0; i < cfg.nr_ports; i++)
			cfg.ports[i].ep_pasid_funcs = 0xff;
	/* The platform needs a pool of at least 1; the TSM core's pool is what sysfs shows. */
	cfg.nr_streams = o->nr_streams ? o->nr_streams : 1;
	*why = "build the emulated platform";
	pcitsm_machine_cfg_default(&mc, env);
	mc.plat = &cfg;
	PCITSM_TRY(pcitsm_machine_build(&pd->m, &mc, PCITSM_MACHINE_PLATFORM, NULL));

	for (unsigned i = 0; i < pd->m.plat.nr_funcs; i++) {
		struct pd_func *pf = &pd->funcs[pd->nr_funcs++];

		pf->f = &pd->m.plat.funcs[i];
		pcitsm_bdf_format(&pf->f->bdf, pf->name);
		pf->parent = -1;
		pf->port = pd_link_of(&pd->m.plat, pf->f);
	}
	for (unsigned i = 0; i < pd->nr_funcs; i++) {
		const struct pcitsm_emu_func *f = pd->funcs[i].f;

		/* The sysfs tree nests a function under the bridge whose bus holds it. */
		if (f->bridge)
			pd->funcs[i].parent = pd_find(pd, &f->bridge->bdf);
		pd->funcs[i].physfn = f->physfn ? pd_find(pd, &f->physfn->bdf) : -1;
	}

	pd->key_policy.max_tlps = o->key_max_tlps;
	pd->key_policy.max_age_ns = (uint64_t)o->key_max_age_s * 1000000000ull;
	pd->fw_cfg.key_policy = &pd->key_policy;
	pd->devs_cfg.identity_dir = o->identity_dir;
	pd->devs_cfg.curve_bits = 384;
	pd->devs_cfg.spdm_version = o->spdm_version;
	e = apply_faults(pd, why);
	if (e)
		goto fail;
	mc.fw = pd->fw_cfg;
	mc.devs = &pd->devs_cfg;
	mc.core.nr_streams = (int)o->nr_streams;
	e = pcitsm_machine_build(&pd->m, &mc, PCITSM_MACHINE_DEVICES, &part);
	if (e)
		goto fail_part;
	for (unsigned i = 0; i < pd->nr_funcs; i++)
		discover_doe(pd, &pd->funcs[i]);
	e = pcitsm_machine_build(&pd->m, &mc, PCITSM_MACHINE_CORE, &part);
	if (e)
		goto fail_part;
	return PCITSM_OK;
fail_part:
	*why = part_why(part, o);
fail:
	pd_close(pd);
	return e;
}

void pd_close(struct pd *pd)
{
	for (unsigned i = 0; i < pd->nr_tcp; i++) {
		struct pd_tcp *t = pd->tcp[i];

		if (t->running) {
			pcitsm_spdmemu_server_stop(&t->srv);
			pthread_join(t->thread, NULL);
		}
		pcitsm_spdmemu_server_close(&t->srv);
		free(t);
	}
	pd->nr_tcp = 0;
	pcitsm_machine_free(&pd->m);
	pthread_mutex_destroy(&pd->dev_lock);
	pthread_mutex_destroy(&pd->traffic_lock);
}

/* ---------------------------------------------------------------------------------------------
 * Config space.
 */
uint32_t pd_cfg_size(const struct pd *pd, int func)
{
	return pd->funcs[func].f->cfg.cfg.size;
}

/* The width of the next access at off with n bytes left: naturally aligned, largest first. */
static unsigned access_width(uint32_t off, size_t n)
{
	if (!(off & 3) && n >= 4)
		return 4;
	if (!(off & 1) && n >= 2)
		return 2;
	return 1;
}

int pd_cfg_read(struct pd *pd, int func, uint8_t *buf, size_t len, uint32_t off)
{
	struct pcitsm_cfg *cfg = &pd->funcs[func].f->cfg.cfg;
	size_t done = 0;

	if (off >= cfg->size)
		return 0;
	if (len > cfg->size - off)
		len = cfg->size - off;
	pthread_mutex_lock(&pd->dev_lock);
	while (done < len) {
		unsigned w = access_width(off + (uint32_t)done, len - done);
		uint32_t v;

		if (pcitsm_cfg_read(cfg, off + (uint32_t)done, w, &v) != PCITSM_OK)
			break;
		for (unsigned b = 0; b < w; b++)
			buf[done + b] = (uint8_t)(v >> (8 * b));
		done += w;
	}
	pthread_mutex_unlock(&pd->dev_lock);
	return done ? (int)done : (len ? -EIO : 0);
}

int pd_cfg_write(struct pd *pd, int func, const uint8_t *buf, size_t len, uint32_t off)
{
	struct pcitsm_cfg *cfg = &pd->funcs[func].f->cfg.cfg;
	size_t done = 0;

	if (off >= cfg->size)
		return 0;
	if (len > cfg->size - off)
		len = cfg->size - off;
	pthread_mutex_lock(&pd->dev_lock);
	while (done < len) {
		unsigned w = access_width(off + (uint32_t)done, len - done);
		uint32_t v = 0;

		for (unsigned b = 0; b < w; b++)
			v |= (uint32_t)buf[done + b] << (8 * b);
		if (pcitsm_cfg_write(cfg, off + (uint32_t)done, w, v) != PCITSM_OK)
			break;
		done += w;
	}
	pthread_mutex_unlock(&pd->dev_lock);
	return done ? (int)done : (len ? -EIO : 0);
}

/* ---------------------------------------------------------------------------------------------
 * The generic sysfs files (pci-sysfs.c) derived from config space.
 */
#define IORESOURCE_IO 0x00000100ull
#define IORESOURCE_MEM 0x00000200ull
#define IORESOURCE_PREFETCH 0x00002000ull
#define IORESOURCE_READONLY 0x00004000ull
#define IORESOURCE_SIZEALIGN 0x00040000ull
#define IORESOURCE_MEM_64 0x00100000ull
#define IORESOURCE_UNSET 0x20000000ull
#define PCI_CAP_ID_SSVID 0x0d
#define RES_ROM 6
#define RES_BRIDGE 13 /* after 6 BARs, ROM, 6 SR-IOV BARs */

static uint32_t peek(const struct pcitsm_cfg_emu *c, uint32_t off, unsigned w)
{
	return pcitsm_cfg_emu_peek(c, off, w);
}

static uint32_t rw_mask32(const struct pcitsm_cfg_emu *c, uint32_t off)
{
	return (uint32_t)c->rw[off] | (uint32_t)c->rw[off + 1] << 8 | (uint32_t)c->rw[off + 2] << 16 |
	       (uint32_t)c->rw[off + 3] << 24;
}

static bool is_bridge(const struct pcitsm_cfg_emu *c)
{
	return (peek(c, PCITSM_CFG_HEADER_TYPE, 1) & 0x7f) == 1;
}

void pd_sysfs_ids(struct pd *pd, int func, struct pd_sysfs_ids *ids)
{
	struct pcitsm_cfg_emu *c = &pd->funcs[func].f->cfg;

	memset(ids, 0, sizeof(*ids));
	pthread_mutex_lock(&pd->dev_lock);
	ids->bridge = is_bridge(c);
	if (!ids->bridge) {
		ids->subsys_vendor = (uint16_t)peek(c, 0x2c, 2);
		ids->subsys_device = (uint16_t)peek(c, 0x2e, 2);
	} else {
		/* pci_setup_device: a bridge's subsystem IDs come from its SSVID capability. */
		struct pcitsm_cap caps[48];
		size_t n = 0;

		if (pcitsm_cap_list(&c->cfg, caps, PCITSM_ARRAY_SIZE(caps), &n) == PCITSM_OK ||
		    n > 0) {
			for (size_t i = 0; i < n; i++) {
				if (!caps[i].ext && caps[i].id == PCI_CAP_ID_SSVID) {
					ids->subsys_vendor = (uint16_t)peek(c, caps[i].off + 4u, 2);
					ids->subsys_device = (uint16_t)peek(c, caps[i].off + 6u, 2);
					break;
				}
			}
		}
	}
	/* Interrupt Pin 0: no INTx, irq 0; else the line the platform routed (Interrupt Line). */
	ids->irq = peek(c, 0x3d, 1) ? peek(c, 0x3c, 1) : 0;
	pthread_mutex_unlock(&pd->dev_lock);
}

bool pd_vf_ids(struct pd *pd, int func, uint16_t *vendor, uint16_t *device)
{
	int pf = pd->funcs[func].physfn;
	const struct pcitsm_emu_func *p;

	if (pf < 0)
		return false;
	p = pd->funcs[pf].f;
	pthread_mutex_lock(&pd->dev_lock);
	*vendor = (uint16_t)peek(&p->cfg, PCITSM_CFG_VENDOR_ID, 2);
	*device = (uint16_t)peek(&p->cfg, p->sriov_off + PCITSM_SRIOV_VF_DID, 2);
	pthread_mutex_unlock(&pd->dev_lock);
	return true;
}

bool pd_sriov(struct pd *pd, int func, struct pd_sriov *s)
{
	const struct pcitsm_emu_func *f = pd->funcs[func].f;
	const struct pcitsm_cfg_emu *c = &f->cfg;

	if (!f->sriov_off)
		return false;
	pthread_mutex_lock(&pd->dev_lock);
	s->total_vfs = peek(c, f->sriov_off + PCITSM_SRIOV_TOTAL_VF, 2);
	/* num_VFs: what is enabled (NumVFs while VF Enable is set). */
	s->num_vfs = peek(c, f->sriov_off + PCITSM_SRIOV_CTRL, 2) & PCITSM_SRIOV_CTRL_VFE
			     ? f->nr_siblings : 0;
	s->offset = peek(c, f->sriov_off + PCITSM_SRIOV_VF_OFFSET, 2);
	s->stride = peek(c, f->sriov_off + PCITSM_SRIOV_VF_STRIDE, 2);
	s->vf_device = (uint16_t)peek(c, f->sriov_off + PCITSM_SRIOV_VF_DID, 2);
	pthread_mutex_unlock(&pd->dev_lock);
	return true;
}

int pd_virtfn(const struct pd *pd, int func, unsigned n)
{
	const struct pcitsm_emu_func *f = pd->funcs[func].f;

	if (n < 1 || n > f->nr_siblings)
		return -1;
	return pd_find(pd, &f->sibling[n - 1]->bdf);
}

/* One BAR (pci_read_bases / decode_bar): implemented when its address bits have writable bits;
 * its size is the lowest writable address bit, what writing all ones would reveal. Returns the
 * registers it used (2 for a 64-bit memory BAR). */
static unsigned bar_decode(const struct pcitsm_cfg_emu *c, uint32_t off, bool last,
			   struct pd_resource *r)
{
	uint32_t v = peek(c, off, 4), m = rw_mask32(c, off);
	uint64_t addr, wmask;
	unsigned used = 1;

	if (v & 1) { /* I/O */
		wmask = m & 0xfffffffcu;
		addr = v & 0xfffffffcu;
		r->flags = IORESOURCE_IO | (v & 3u);
	} else {
		wmask = m & 0xfffffff0u;
		addr = v & 0xfffffff0u;
		r->flags = IORESOURCE_MEM | (v & 0xfu);
		if (v & 8)
			r->flags |= IORESOURCE_PREFETCH;
		if ((v & 6) == 4 && !last) {
			wmask |= (uint64_t)rw_mask32(c, off + 4) << 32;
			addr |= (uint64_t)peek(c, off + 4, 4) << 32;
			r->flags |= IORESOURCE_MEM_64;
			used = 2;
		}
	}
	if (!wmask) {
		r->flags = 0;
		return used;
	}
	r->flags |= IORESOURCE_SIZEALIGN;
	r->start = addr;
	r->end = addr + (wmask & (0 - wmask)) - 1;
	if (!addr)
		r->flags |= IORESOURCE_UNSET; /* never assigned: size shown from 0 */
	return used;
}

/* SR-IOV (Linux drivers/pci/iov.c sriov_init, pci_iov_resource_size, pci_iov_scan_device): a
 * PF's VF BARs are its resources 7..12, each the VF BAR's size times TotalVFs; VF n's BARs are
 * its PF's VF BARs, n - 1 sizes on (its own BAR registers read zero). */
static void sriov_resources(struct pd *pd, int func, struct pd_resource res[PD_NR_RESOURCES])
{
	const struct pcitsm_emu_func *f = pd->funcs[func].f, *pf = f->physfn ? f->physfn : f;
	uint32_t off = pf->sriov_off;
	unsigned total;

	if (!off)
		return;
	total = peek(&pf->cfg, off + PCITSM_SRIOV_TOTAL_VF, 2);
	for (unsigned i = 0; i < 6;) {
		struct pd_resource r = { 0 };
		unsigned used = bar_decode(&pf->cfg, off + PCITSM_SRIOV_BAR + 4 * i, i == 5, &r);
		uint64_t size = r.end - r.start + 1;

		if (r.flags && f->physfn) {
			r.start += (f->vf_num - 1) * size;
			r.end = r.start + size - 1;
			res[i] = r;
		} else if (r.flags && total) {
			r.end = r.start + size * total - 1;
			res[RES_ROM + 1 + i] = r;
		}
		i += used;
	}
}

unsigned pd_resources(struct pd *pd, int func, struct pd_resource res[PD_NR_RESOURCES])
{
	struct pcitsm_cfg_emu *c = &pd->funcs[func].f->cfg;
	unsigned nbars, rom_off;
	bool bridge;

	memset(res, 0, sizeof(*res) * PD_NR_RESOURCES);
	pthread_mutex_lock(&pd->dev_lock);
	bridge = is_bridge(c);
	nbars = bridge ? 2 : 6;
	rom_off = bridge ? 0x38 : 0x30;
	for (unsigned i = 0; i < nbars;)
		i += bar_decode(c, 0x10 + 4 * i, i + 1 == nbars, &res[i]);
	sriov_resources(pd, func, res);
	/* Expansion ROM: address bits 31:11, enable bit 0. */
	{
		uint32_t v = peek(c, rom_off, 4), m = rw_mask32(c, rom_off) & 0xfffff800u;

		if (m) {
			struct pd_resource *r = &res[RES_ROM];

			r->start = v & 0xfffff800u;
			r->end = r->start + (m & (0 - m)) - 1;
			r->flags = IORESOURCE_MEM | IORESOURCE_PREFETCH | IORESOURCE_READONLY |
				   IORESOURCE_SIZEALIGN | (r->start ? 0 : IORESOURCE_UNSET);
		}
	}
	if (bridge) {
		/* Windows (pci_read_bridge_windows / pci_read_bridge_io, _mmio, _mmio_pref): the memory
		 * window always exists; the I/O and prefetchable ones where the probe finds them (the
		 * base register writable or set). Decoded as base..limit when base <= limit: I/O
		 * 0x1C/0x1D, memory 0x20/0x22, prefetchable 0x24/0x26 with upper halves 0x28/0x2C. */
		struct pd_resource *w = &res[RES_BRIDGE];

		if (c->rw[0x1c] || peek(c, 0x1c, 1)) {
			uint64_t b = (peek(c, 0x1c, 1) & 0xf0u) << 8, l = (peek(c, 0x1d, 1) & 0xf0u) << 8;

			if (b <= l)
				w[0] = (struct pd_resource){ b, l | 0xfff, IORESOURCE_IO };
		}
		{
			uint64_t b = (uint64_t)(peek(c, 0x20, 2) & 0xfff0u) << 16;
			uint64_t l = (uint64_t)(peek(c, 0x22, 2) & 0xfff0u) << 16;

			if (b <= l)
				w[1] = (struct pd_resource){ b, l | 0xfffff, IORESOURCE_MEM };
		}
		if (c->rw[0x24] | c->rw[0x25] || peek(c, 0x24, 4)) {
			uint64_t b = (uint64_t)(peek(c, 0x24, 2) & 0xfff0u) << 16;
			uint64_t l = (uint64_t)(peek(c, 0x26, 2) & 0xfff0u) << 16;
			uint64_t f = IORESOURCE_MEM | IORESOURCE_PREFETCH;

			if ((peek(c, 0x24, 1) & 0xf) == 1) {
				b |= (uint64_t)peek(c, 0x28, 4) << 32;
				l |= (uint64_t)peek(c, 0x2c, 4) << 32;
				f |= IORESOURCE_MEM_64;
			}
			if (b <= l)
				w[2] = (struct pd_resource){ b, l | 0xfffff, f };
		}
	}
	pthread_mutex_unlock(&pd->dev_lock);
	return bridge ? 17 : 13;
}

/* ---------------------------------------------------------------------------------------------
 * TCP device ports.
 */
static pcitsm_err tcp_forward(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			      uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct pd_fwd *fw = pcitsm_container_of(h, struct pd_fwd, h);
	pcitsm_err e;

	pthread_mutex_lock(&fw->pd->dev_lock);
	e = fw->orig->handle(fw->orig, req, req_len, rsp, rsp_cap, rsp_len);
	pthread_mutex_unlock(&fw->pd->dev_lock);
	return e;
}

static void *tcp_thread(void *arg)
{
	struct pd_tcp *t = arg;

	if (pcitsm_spdmemu_server_run(&t->srv) != PCITSM_OK)
		fprintf(stderr, "pcitsmd: %s: TCP server stopped with an error\n",
			t->pd->funcs[t->func].name);
	return NULL;
}

static pcitsm_err tcp_add(struct pd *pd, int func, const char *host, const char *port,
			  const char **why)
{
	struct pcitsm_emu_func *f = pd->funcs[func].f;
	struct pd_tcp *t;
	pcitsm_err e;

	*why = "--device-port: not an endpoint with a DOE mailbox";
	if (f->kind != PCITSM_EMU_ENDPOINT || !f->doe_off)
		return PCITSM_E_NOTFOUND;
	t = calloc(1, sizeof(*t));
	if (!t)
		return PCITSM_E_NOMEM;
	t->pd = pd;
	t->func = func;
	t->srv.lfd = -1;
	pcitsm_doe_dev_init(&t->dev, f->doe.cap_version);
	for (unsigned i = 0; i < f->doe.nr_handlers; i++) {
		struct pcitsm_doe_handler *o = f->doe.handlers[i];

		t->fwd[i] = (struct pd_fwd){ { o->vid, o->type, tcp_forward }, o, pd };
		e = pcitsm_doe_dev_register(&t->dev, &t->fwd[i].h);
		if (e) {
			free(t);
			return e;
		}
	}
	*why = "TCP server";
	e = pcitsm_spdmemu_server_init(&t->srv, &t->dev, pd->env);
	if (e) {
		free(t);
		return e;
	}
	/* The platform outlives its clients: a client's SHUTDOWN ends its connection, and the port
	 * serves the next one (docs/emulated-platform.md). */
	t->srv.serve_after_shutdown = true;
	pd->tcp[pd->nr_tcp++] = t;
	*why = "--device-port: listen";
	PCITSM_TRY(pcitsm_spdmemu_server_listen(&t->srv, host, port));
	*why = "TCP server thread";
	if (pthread_create(&t->thread, NULL, tcp_thread, t) != 0)
		return PCITSM_E_SYSTEM;
	t->running = true;
	return PCITSM_OK;
}

pcitsm_err pd_tcp_start(struct pd *pd, const char **why)
{
	for (unsigned i = 0; i < pd->o->nr_devports; i++) {
		const struct pd_devport *dp = &pd->o->devports[i];
		int fi = pd_find(pd, &dp->bdf);

		*why = "--device-port: no such function";
		if (fi < 0)
			return PCITSM_E_NOTFOUND;
		PCITSM_TRY(tcp_add(pd, fi, dp->host, dp->port, why));
	}
	if (pd->o->port_base) {
		unsigned k = 0;

		for (unsigned i = 0; i < pd->nr_funcs; i++) {
			char port[8];

			if (pd->funcs[i].f->kind != PCITSM_EMU_ENDPOINT || !pd->funcs[i].f->doe_off)
				continue;
			snprintf(port, sizeof(port), "%u", pd->o->port_base + k++);
			PCITSM_TRY(tcp_add(pd, (int)i, pd->o->port_host, port, why));
		}
	}
	return PCITSM_OK;
}

void pd_tcp_print(struct pd *pd, FILE *out)
{
	for (unsigned i = 0; i < pd->nr_tcp; i++)
		fprintf(out, "pcitsmd: %s served in the spdm-emu protocol on port %u\n",
			pd->funcs[pd->tcp[i]->func].name, pd->tcp[i]->srv.port);
}
