/* SPDX-License-Identifier: MIT */
/* The mirror's file tree (vfs.h): the kernel's paths first, then the project directory. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pcitsm/spdm.h"
#include "vfs.h"

#define DIR_MODE (S_IFDIR | 0755)
#define LNK_MODE (S_IFLNK | 0777)
#define RO (S_IFREG | 0444)
#define RW (S_IFREG | 0644)
#define WO (S_IFREG | 0200)
#define ATTR_SIZE 4096 /* what sysfs reports for every attribute */
#define TEXT_MAX 8192
#define NS_PER_S ((uint64_t)1000000000)

/* Where the TSM class device's parent lives: the platform firmware (docs/pcitsmd.md). */
#define TSM_PARENT "pcitsm-tsm"
#define PROJ_DIR "pcitsm"

static void vn_set(struct vnode *vn, enum vn_kind kind, int func, int aux, unsigned mode)
{
	vn->kind = kind;
	vn->func = func;
	vn->aux = aux;
	vn->mode = mode;
	vn->target[0] = '\0';
}

static const struct pcitsm_bdf *fbdf(struct pd *pd, int i)
{
	return &pd->funcs[i].f->bdf;
}

static bool tsm_attr(struct pd *pd, int func, enum pcitsm_tsm_attr a)
{
	return pcitsm_tsm_attr_exists(pd->m.core, fbdf(pd, func), a);
}

/* Functions the project directory has an entry for: those with tsm/connect (DSM-capable PF0s)
 * or tsm/lock (TDIs). */
static bool proj_dev(struct pd *pd, int func)
{
	return tsm_attr(pd, func, PCITSM_TSM_ATTR_CONNECT) || tsm_attr(pd, func, PCITSM_TSM_ATTR_LOCK);
}

static bool connected(struct pd *pd, int func)
{
	struct pcitsm_tsm_status st;

	return pcitsm_tsm_status(pd->m.core, fbdf(pd, func), &st) == PCITSM_OK && st.connected;
}

static bool locked(struct pd *pd, int func)
{
	struct pcitsm_tsm_status st;

	return pcitsm_tsm_status(pd->m.core, fbdf(pd, func), &st) == PCITSM_OK && st.lock_tsm[0];
}

/* drivers/pci/iov.c: sriov_numvfs and sriov_drivers_autoprobe are RW (0664 / 0644), the rest
 * RO. */
static const struct {
	const char *name;
	unsigned mode;
} sriov_attrs[SRIOV_NR] = {
	[SRIOV_TOTALVFS] = { "sriov_totalvfs", RO },
	[SRIOV_NUMVFS] = { "sriov_numvfs", S_IFREG | 0664 },
	[SRIOV_OFFSET] = { "sriov_offset", RO },
	[SRIOV_STRIDE] = { "sriov_stride", RO },
	[SRIOV_VF_DEVICE] = { "sriov_vf_device", RO },
	[SRIOV_DRIVERS_AUTOPROBE] = { "sriov_drivers_autoprobe", RW },
};

static const char *const ev_names[EV_NR] = { "certificate_chain", "certificates.der",
					     "measurements", "vca", "nonce", "report",
					     "report_digest", "report_generation" };

/* "../" once per level from /devices/<devpath> up to the root. */
static void up_to_root(struct pd *pd, int func, char *out, size_t cap)
{
	char path[128];
	size_t n = 0;

	pd_devpath(pd, func, path, sizeof(path));
	out[0] = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			n++;
	for (size_t i = 0; i < n + 2 && (i + 1) * 3 < cap; i++)
		memcpy(out + i * 3, "../", 4);
}

/* SR-IOV in a function's directory (drivers/pci/iov.c): a PF's sriov_* attributes and a
 * `virtfnN` link to each VF (N from 0), a VF's `physfn` link to its PF; links between siblings of
 * one bus directory, as pci_iov_sysfs_link makes them. Non-zero: the filler said stop. */
static int sriov_dir(struct pd *pd, const struct vnode *dir, vfs_fill_fn fill, void *ctx)
{
	struct pd_sriov sr;
	struct vnode c;
	char name[32];
	int f = dir->func, pf = pd->funcs[f].physfn;

	if (pf >= 0) {
		vn_set(&c, VL_PHYSFN, f, pf, LNK_MODE);
		snprintf(c.target, sizeof(c.target), "../%s", pd->funcs[pf].name);
		return fill(ctx, "physfn", &c);
	}
	if (!pd_sriov(pd, f, &sr))
		return 0;
	for (int a = 0; a < SRIOV_NR; a++) {
		vn_set(&c, VF_SRIOV, f, a, sriov_attrs[a].mode);
		if (fill(ctx, sriov_attrs[a].name, &c))
			return 1;
	}
	for (unsigned n = 1; n <= sr.num_vfs; n++) {
		int vf = pd_virtfn(pd, f, n);

		if (vf < 0)
			continue;
		vn_set(&c, VL_VIRTFN, f, vf, LNK_MODE);
		snprintf(c.target, sizeof(c.target), "../%s", pd->funcs[vf].name);
		snprintf(name, sizeof(name), "virtfn%u", n - 1);
		if (fill(ctx, name, &c))
			return 1;
	}
	return 0;
}

/* Emit a child; returns non-zero to stop. */
#define EMIT(name, ...)                                  \
	do {                                             \
		vn_set(&c, __VA_ARGS__);                 \
		if (fill(ctx, (name), &c))               \
			return 0;                        \
	} while (0)

static int readdir_locked(struct pd *pd, const struct vnode *dir, vfs_fill_fn fill, void *ctx)
{
	struct vnode c;
	char name[PCITSM_TSM_NAME_MAX + 8], path[128];

	switch (dir->kind) {
	case VD_ROOT:
		EMIT("bus", VD_BUS, -1, 0, DIR_MODE);
		EMIT("class", VD_CLASS, -1, 0, DIR_MODE);
		EMIT("devices", VD_DEVICES, -1, 0, DIR_MODE);
		EMIT(PROJ_DIR, VD_PROJ, -1, 0, DIR_MODE);
		return 0;
	case VD_BUS:
		EMIT("pci", VD_BUS_PCI, -1, 0, DIR_MODE);
		return 0;
	case VD_BUS_PCI:
		EMIT("devices", VD_BUS_PCI_DEVICES, -1, 0, DIR_MODE);
		EMIT("drivers", VD_BUS_PCI_DRIVERS, -1, 0, DIR_MODE);
		return 0;
	case VD_BUS_PCI_DRIVERS:
		EMIT(PCITSM_TSM_DRIVER, VD_DRIVER, -1, 0, DIR_MODE);
		return 0;
	case VD_DRIVER:
		/* drivers/base/bus.c: bind and unbind are write-only; a link per bound device. */
		EMIT("bind", VF_DRV_BIND, -1, 0, WO);
		EMIT("unbind", VF_DRV_UNBIND, -1, 0, WO);
		for (unsigned i = 0; i < pd->nr_funcs; i++) {
			if (pcitsm_tsm_driver_of(pd->m.core, fbdf(pd, (int)i), name,
						 sizeof(name)) <= 0)
				continue;
			vn_set(&c, VL_DRV_DEV, (int)i, 0, LNK_MODE);
			pd_devpath(pd, (int)i, path, sizeof(path));
			snprintf(c.target, sizeof(c.target), "../../../../devices/%s", path);
			if (fill(ctx, pd->funcs[i].name, &c))
				return 0;
		}
		return 0;
	case VD_BUS_PCI_DEVICES:
		for (unsigned i = 0; i < pd->nr_funcs; i++) {
			vn_set(&c, VL_BUS_DEV, (int)i, 0, LNK_MODE);
			pd_devpath(pd, (int)i, path, sizeof(path));
			snprintf(c.target, sizeof(c.target), "../../../devices/%s", path);
			if (fill(ctx, pd->funcs[i].name, &c))
				return 0;
		}
		return 0;
	case VD_CLASS:
		EMIT("tsm", VD_CLASS_TSM, -1, 0, DIR_MODE);
		return 0;
	case VD_CLASS_TSM:
		for (unsigned i = 0; i < pcitsm_tsm_nr_devices(pd->m.core); i++) {
			if (pcitsm_tsm_device_name(pd->m.core, i, name) != PCITSM_OK)
				continue;
			vn_set(&c, VL_CLASS_TSM, -1, (int)i, LNK_MODE);
			snprintf(c.target, sizeof(c.target), "../../devices/platform/%s/tsm/%s",
				 TSM_PARENT, name);
			if (fill(ctx, name, &c))
				return 0;
		}
		return 0;
	case VD_DEVICES:
		pd_hb_name(pd, name, sizeof(name));
		EMIT(name, VD_HB, -1, 0, DIR_MODE);
		EMIT("platform", VD_PLATFORM, -1, 0, DIR_MODE);
		return 0;
	case VD_HB: {
		struct pcitsm_tsm_stream_info st[PCITSM_TSM_HB_STREAMS_MAX];
		size_t n = pcitsm_tsm_streams(pd->m.core, 0, st, PCITSM_ARRAY_SIZE(st));

		/* pci_ide_attr_visible: no attribute while the pool is empty. */
		if (pcitsm_tsm_available_streams_visible(pd->m.core, 0))
			EMIT("available_secure_streams", VF_AVAIL, -1, 0, RO);
		for (size_t i = 0; i < n && i < PCITSM_ARRAY_SIZE(st); i++) {
			int ep = pd_find(pd, &st[i].ep);

			if (ep < 0)
				continue;
			vn_set(&c, VL_STREAM, ep, (int)i, LNK_MODE);
			/* devpath is "pciDDDD:BB/rp/ep": the link is relative to the bridge's dir. */
			pd_devpath(pd, ep, path, sizeof(path));
			snprintf(c.target, sizeof(c.target), "%s", strchr(path, '/') + 1);
			if (fill(ctx, st[i].name, &c))
				return 0;
		}
		for (unsigned i = 0; i < pd->nr_funcs; i++)
			if (pd->funcs[i].parent < 0)
				EMIT(pd->funcs[i].name, VD_FUNC, (int)i, 0, DIR_MODE);
		return 0;
	}
	case VD_FUNC: {
		int f = dir->func;

		EMIT("vendor", VF_VENDOR, f, 0, RO);
		EMIT("device", VF_DEVICE, f, 0, RO);
		EMIT("class", VF_CLASS, f, 0, RO);
		EMIT("revision", VF_REVISION, f, 0, RO);
		EMIT("subsystem_vendor", VF_SUBSYS_VENDOR, f, 0, RO);
		EMIT("subsystem_device", VF_SUBSYS_DEVICE, f, 0, RO);
		EMIT("irq", VF_IRQ, f, 0, RO);
		EMIT("resource", VF_RESOURCE, f, 0, RO);
		EMIT("config", VF_CONFIG, f, 0, RW);
		EMIT("driver_override", VF_DRIVER_OVERRIDE, f, 0, RW);
		if (pcitsm_tsm_driver_of(pd->m.core, fbdf(pd, f), name, sizeof(name)) > 0) {
			char up[64];

			vn_set(&c, VL_DRIVER, f, 0, LNK_MODE);
			up_to_root(pd, f, up, sizeof(up));
			snprintf(c.target, sizeof(c.target), "%sbus/pci/drivers/%s", up, name);
			if (fill(ctx, "driver", &c))
				return 0;
		}
		if (sriov_dir(pd, dir, fill, ctx))
			return 0;
		/* --no-doe-features: a kernel before 6.15, which has no doe_features/ (docs/pcitsmd.md). */
		if (pd->funcs[f].nr_doe && !pd->o->no_doe_features)
			EMIT("doe_features", VD_DOE_FEATURES, f, 0, DIR_MODE);
		if (tsm_attr(pd, f, PCITSM_TSM_ATTR_DIR))
			EMIT("tsm", VD_TSM, f, 0, DIR_MODE);
		if (tsm_attr(pd, f, PCITSM_TSM_ATTR_AUTHENTICATED))
			EMIT("authenticated", VF_TSM_ATTR, f, PCITSM_TSM_ATTR_AUTHENTICATED, RO);
		for (unsigned i = 0; i < pd->nr_funcs; i++)
			if (pd->funcs[i].parent == f)
				EMIT(pd->funcs[i].name, VD_FUNC, (int)i, 0, DIR_MODE);
		return 0;
	}
	case VD_DOE_FEATURES: {
		const struct pd_func *pf = &pd->funcs[dir->func];

		EMIT("doe_discovery", VF_DOE_DISCOVERY, dir->func, 0, RO);
		for (unsigned i = 0; i < pf->nr_doe; i++) {
			if (pf->doe[i].vid == PCITSM_DOE_VID_PCISIG &&
			    pf->doe[i].type == PCITSM_DOE_TYPE_DISCOVERY)
				continue;
			snprintf(name, sizeof(name), "%04x:%02x", pf->doe[i].vid, pf->doe[i].type);
			EMIT(name, VF_DOE_FEATURE, dir->func, (int)i, RO);
		}
		return 0;
	}
	case VD_TSM:
		for (int a = PCITSM_TSM_ATTR_CONNECT; a < PCITSM_TSM_NR_ATTRS; a++)
			if (a != PCITSM_TSM_ATTR_AUTHENTICATED &&
			    tsm_attr(pd, dir->func, (enum pcitsm_tsm_attr)a))
				EMIT(pcitsm_tsm_attr_name((enum pcitsm_tsm_attr)a), VF_TSM_ATTR,
				     dir->func, a, S_IFREG | pcitsm_tsm_attr_mode((enum pcitsm_tsm_attr)a));
		return 0;
	case VD_PLATFORM:
		EMIT(TSM_PARENT, VD_PLAT_TSM, -1, 0, DIR_MODE);
		return 0;
	case VD_PLAT_TSM:
		if (pcitsm_tsm_nr_devices(pd->m.core))
			EMIT("tsm", VD_PLAT_TSM_CLASS, -1, 0, DIR_MODE);
		return 0;
	case VD_PLAT_TSM_CLASS:
		for (unsigned i = 0; i < pcitsm_tsm_nr_devices(pd->m.core); i++)
			if (pcitsm_tsm_device_name(pd->m.core, i, name) == PCITSM_OK)
				EMIT(name, VD_TSMDEV, -1, (int)i, DIR_MODE);
		return 0;
	case VD_TSMDEV:
		EMIT("uevent", VF_UEVENT, -1, dir->aux, RW);
		EMIT("pci_mode", VF_PCI_MODE, -1, dir->aux, RO); /* [proposal] */
		/* device_add_class_symlinks: "device" points at the class device's parent. */
		vn_set(&c, VL_TSM_PARENT, -1, dir->aux, LNK_MODE);
		snprintf(c.target, sizeof(c.target), "../../../%s", TSM_PARENT);
		if (fill(ctx, "device", &c))
			return 0;
		vn_set(&c, VL_SUBSYSTEM, -1, dir->aux, LNK_MODE);
		snprintf(c.target, sizeof(c.target), "../../../../../class/tsm");
		fill(ctx, "subsystem", &c);
		return 0;
	case VD_PROJ:
		EMIT("README", VF_PROJ_README, -1, 0, RO);
		EMIT("platform", VF_PROJ_PLATFORM, -1, 0, RO);
		EMIT("devices", VD_PROJ_DEVICES, -1, 0, DIR_MODE);
		EMIT("tsm0", VD_PROJ_TSM, -1, 0, DIR_MODE);
		return 0;
	case VD_PROJ_TSM:
		/* Ours (docs/tsm.md "Key lifetime"): the TSM's key policy, one value a file. */
		EMIT("key_max_tlps", VF_PROJ_KEY_TLPS, -1, 0, RW);
		EMIT("key_max_age_s", VF_PROJ_KEY_AGE, -1, 0, RW);
		return 0;
	case VD_PROJ_DEVICES:
		for (unsigned i = 0; i < pd->nr_funcs; i++)
			if (proj_dev(pd, (int)i))
				EMIT(pd->funcs[i].name, VD_PROJ_DEV, (int)i, 0, DIR_MODE);
		return 0;
	case VD_PROJ_DEV:
		EMIT("status", VF_PROJ_STATUS, dir->func, 0, RO);
		EMIT("faults", VF_PROJ_FAULTS, dir->func, 0, RO);
		EMIT("rekey", VF_PROJ_REKEY, dir->func, 0, WO);
		EMIT("traffic", VF_PROJ_TRAFFIC, dir->func, 0, RW);
		if (connected(pd, dir->func) || locked(pd, dir->func))
			EMIT("evidence", VD_PROJ_EVIDENCE, dir->func, 0, DIR_MODE);
		return 0;
	case VD_PROJ_EVIDENCE:
		if (connected(pd, dir->func))
			for (int i = EV_CHAIN; i < EV_REPORT; i++)
				EMIT(ev_names[i], VF_EVIDENCE, dir->func, i, i == EV_NONCE ? RW : RO);
		if (locked(pd, dir->func))
			for (int i = EV_REPORT; i < EV_NR; i++)
				EMIT(ev_names[i], VF_EVIDENCE, dir->func, i, RO);
		return 0;
	default:
		return -ENOTDIR;
	}
}

struct find_ctx {
	const char *name;
	size_t len;
	struct vnode *out;
	bool found;
};

static int find_fill(void *ctx, const char *name, const struct vnode *vn)
{
	struct find_ctx *fc = ctx;

	if (strlen(name) != fc->len || memcmp(name, fc->name, fc->len))
		return 0;
	*fc->out = *vn;
	fc->found = true;
	return 1;
}

static int lookup_locked(struct pd *pd, const char *path, struct vnode *vn)
{
	const char *p = path;

	vn_set(vn, VD_ROOT, -1, 0, DIR_MODE);
	for (;;) {
		struct find_ctx fc;
		struct vnode next;
		size_t n;
		int rc;

		while (*p == '/')
			p++;
		if (!*p)
			return 0;
		n = strcspn(p, "/");
		if ((vn->mode & S_IFMT) != S_IFDIR)
			return -ENOTDIR;
		fc = (struct find_ctx){ p, n, &next, false };
		rc = readdir_locked(pd, vn, find_fill, &fc);
		if (rc < 0)
			return rc;
		if (!fc.found)
			return -ENOENT;
		*vn = next;
		p += n;
	}
}

size_t vfs_size(struct pd *pd, const struct vnode *vn)
{
	if (vn->kind == VF_CONFIG)
		return pd_cfg_size(pd, vn->func);
	if ((vn->mode & S_IFMT) == S_IFLNK)
		return strlen(vn->target);
	if ((vn->mode & S_IFMT) == S_IFDIR)
		return 0;
	return ATTR_SIZE;
}

int vfs_open(struct pd *pd, const struct vnode *vn, bool rd, bool wr)
{
	if ((vn->mode & S_IFMT) == S_IFDIR)
		return wr ? -EISDIR : 0;
	if (rd && !(vn->mode & 0444))
		return -EACCES;
	if (wr && !(vn->mode & 0222))
		return -EACCES;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Contents.
 */
static int textf(char *buf, size_t cap, size_t *n, const char *fmt, ...) PCITSM_PRINTF(4, 5);
static int textf(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= cap)
		return -ENOSPC;
	va_start(ap, fmt);
	r = vsnprintf(buf + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= cap - *n)
		return -ENOSPC;
	*n += (size_t)r;
	return 0;
}

static const char *state_word(uint8_t s)
{
	return s == PCITSM_IDE_STATE_SECURE ? "secure" : s == PCITSM_IDE_STATE_INSECURE ? "insecure"
											: "unknown";
}

/* The key set in use and the key lifetime policy (docs/tsm.md "Key lifetime"); "none" where the
 * policy sets no limit. */
static void keys_text(char *buf, size_t cap, size_t *n, const struct pcitsm_tsm_key_state *k)
{
	if (!k->valid)
		return;
	textf(buf, cap, n,
	      "key_tlps=%" PRIu64 "\nkey_tlps_max_per_key=%" PRIu64 "\nkey_age_ms=%" PRIu64
	      "\nkey_refreshes_by_policy=%" PRIu64 "\n",
	      k->tlps, k->tlps_key, k->age_ns / 1000000, k->refreshes);
	textf(buf, cap, n, "key_policy_max_tlps=%" PRIu64 "\nkey_policy_max_age_s=%" PRIu64 "\n",
	      k->policy.max_tlps, k->policy.max_age_ns / (uint64_t)1000000000);
	if (!k->refresh_on) {
		textf(buf, cap, n, "key_next_refresh=off\n");
		return;
	}
	textf(buf, cap, n, "key_next_refresh_tlps=%" PRIu64 "\n", k->next_tlps);
	if (k->next_ns != UINT64_MAX)
		textf(buf, cap, n, "key_next_refresh_ms=%" PRIu64 "\n", k->next_ns / 1000000);
	else
		textf(buf, cap, n, "key_next_refresh_ms=none\n");
}

static void port_text(char *buf, size_t cap, size_t *n, const char *pfx,
		      const struct pcitsm_tsm_port_status *p)
{
	char b[13];

	pcitsm_bdf_format(&p->bdf, b);
	textf(buf, cap, n, "%s=%s\n%s_block=%u\n%s_enabled=%d\n%s_state=%s\n%s_stream_id=%u\n", pfx,
	      b, pfx, p->sel_index, pfx, p->enabled, pfx, state_word(p->state), pfx, p->stream_id);
}

static int status_text(struct pd *pd, int func, char *buf, size_t cap)
{
	struct pcitsm_tsm_status st;
	const struct pcitsm_tsm_failure *lf;
	size_t n = 0;
	char b[13];
	int tdi_state = -1;
	pcitsm_err e;

	if (pcitsm_tsm_tdi_state_get(pd->m.core, fbdf(pd, func), &tdi_state) != PCITSM_OK)
		tdi_state = -1;
	e = pcitsm_tsm_status(pd->m.core, fbdf(pd, func), &st);

	if (e)
		return -pcitsm_err_errno(e);
	lf = &st.last_failure;
	textf(buf, cap, &n, "device=%s\nconnected=%d\ntsm=%s\nauthenticated=%d\n",
	      pd->funcs[func].name, st.connected, st.tsm, st.authenticated);
	if (st.connected) {
		pcitsm_bdf_format(&st.dsm, b);
		textf(buf, cap, &n, "dsm=%s\nspdm_version=%u.%u\n", b, st.spdm_version >> 4,
		      st.spdm_version & 0xf);
		textf(buf, cap, &n, "base_asym=%s\nbase_hash=%s\nmeasurement_hash=%s\n",
		      pcitsm_sig_name(pcitsm_spdm_sig_alg(st.base_asym)),
		      pcitsm_hash_name(pcitsm_spdm_hash_alg(st.base_hash)),
		      pcitsm_hash_name(pcitsm_spdm_meas_hash_alg(st.meas_hash)));
		textf(buf, cap, &n, "dhe=%s\naead=%s\nchain_trusted=%d\nsession_id=0x%08x\n",
		      pcitsm_dhe_name(pcitsm_spdm_dhe_alg(st.dhe)),
		      pcitsm_aead_name(pcitsm_spdm_aead_alg(st.aead)), st.chain_trusted,
		      st.session_id);
	}
	if (st.connected && st.has_stream) {
		textf(buf, cap, &n, "stream=stream%u.%u.%u\nstream_id=%u\nkey_set=K%u\nrekeys=%" PRIu64
				    "\n",
		      st.h, st.r, st.e, st.stream_id, st.key_set, st.rekeys);
		keys_text(buf, cap, &n, &st.keys);
		port_text(buf, cap, &n, "rp", &st.rp);
		port_text(buf, cap, &n, "ep", &st.ep);
	}
	if (st.lock_tsm[0])
		textf(buf, cap, &n, "lock=%s\naccepted=%d\nreport_generation=%u\n", st.lock_tsm,
		      st.accepted, st.evidence_generation);
	/* The TDI's state as the device says it now (asked again, not the last answer kept), locked
	 * or not; the last one known when there is no session to ask over. */
	if (tdi_state >= 0 || st.tdi_state >= 0)
		textf(buf, cap, &n, "tdi_state=%s\n",
		      pcitsm_tdisp_state_name(
			      (uint8_t)(tdi_state >= 0 ? tdi_state : st.tdi_state)));
	if (st.driver[0])
		textf(buf, cap, &n, "driver=%s\n", st.driver);
	textf(buf, cap, &n, "connects=%" PRIu64 "\ndisconnects=%" PRIu64 "\nfailures=%" PRIu64 "\n",
	      st.connects, st.disconnects, st.failures);
	if (st.last_connect_ns)
		textf(buf, cap, &n, "last_connect_us=%" PRIu64 "\n", st.last_connect_ns / 1000);
	if (lf->step != PCITSM_TSM_STEP_NONE) {
		textf(buf, cap, &n, "last_failure_step=%s\nlast_failure_errno=%d\nlast_failure_error=%s\n",
		      pcitsm_tsm_step_name(lf->step), lf->errno_val, pcitsm_err_name(lf->err));
		if (lf->peer_error)
			textf(buf, cap, &n, "last_failure_peer_error=%s (0x%02x, data 0x%02x)\n",
			      pcitsm_spdm_error_name(lf->peer_error), lf->peer_error,
			      lf->peer_error_data);
		if (lf->peer_status >= 0)
			textf(buf, cap, &n, "last_failure_peer_status=%d\n", lf->peer_status);
		if (lf->why[0])
			textf(buf, cap, &n, "last_failure_why=%s\n", lf->why);
	}
	return (int)n;
}

static int traffic_text(struct pd *pd, int func, char *buf, size_t cap)
{
	struct pd_traffic_last t;
	size_t n = 0;

	pthread_mutex_lock(&pd->traffic_lock);
	t = pd->traffic_last[func];
	pthread_mutex_unlock(&pd->traffic_lock);
	if (!t.valid) {
		textf(buf, cap, &n, "runs=0\n");
		return (int)n;
	}
	textf(buf, cap, &n,
	      "runs=1\nops=%" PRIu64 "\nsize=%zu\nwrites=%" PRIu64 "\nreads=%" PRIu64
	      "\nbytes=%" PRIu64 "\nfailures=%" PRIu64 "\ntlps_secure=%" PRIu64
	      "\ntlps_clear=%" PRIu64 "\nkey_refreshes=%" PRIu64 "\nresult=%s\n",
	      t.res.ops, t.size, t.res.writes, t.res.reads, t.res.bytes, t.res.failures,
	      t.res.tlps_secure, t.res.tlps_clear, t.res.key_refreshes,
	      t.err ? pcitsm_err_name(t.err)
		    : t.res.first_err ? pcitsm_err_name(t.res.first_err) : "ok");
	/* A TDI's DMA with T=1 into private memory: what its state refused. */
	textf(buf, cap, &n, "tee=%d\n", t.res.tee);
	if (t.res.tee)
		textf(buf, cap, &n, "tee_refused=%" PRIu64 "\n", t.res.tee_refused);
	return (int)n;
}

static const char readme[] =
	"pcitsm project directory: what the Linux 6.19 sysfs ABI does not have.\n"
	"Everything outside this directory mirrors the kernel's files (docs/pcitsmd.md).\n"
	"\n"
	"platform                     the emulated platform: ports, stream pool, TSM counters\n"
	"devices/<BDF>/status         key=value: connection, SPDM version and algorithms, session,\n"
	"                             stream and both ends' state, counters, the last failure\n"
	"devices/<BDF>/faults         the faults injected into this device (--fault)\n"
	"devices/<BDF>/rekey          write anything: refresh the stream's keys (ENXIO if not\n"
	"                             connected)\n"
	"devices/<BDF>/traffic        write \"N [SIZE] [tee]\": N memory write/read-back\n"
	"                             operations of SIZE bytes across the link; with tee, the\n"
	"                             function's own DMA with T=1 into the confidential VM's\n"
	"                             private memory (TDISP: only in RUN); read: the last\n"
	"                             run's counts\n"
	"tsm0/key_max_tlps            the TSM's key lifetime policy (ours): refresh a stream's\n"
	"tsm0/key_max_age_s           keys once one key protected N TLPs / after S seconds;\n"
	"                             0: no such limit; both 0: no automatic refresh\n"
	"devices/<BDF>/evidence/      while connected: certificate_chain (SPDM chain, slot used),\n"
	"                             certificates.der, measurements (signed MEASUREMENTS),\n"
	"                             vca (GET_VERSION..ALGORITHMS transcript), nonce (write 64\n"
	"                             hex digits: the TSM gets measurements signed with that\n"
	"                             nonce over its session; read: the nonce of measurements);\n"
	"                             while the TDI is locked [proposal]: report (interface\n"
	"                             report, read again from the device), report_digest\n"
	"                             (SHA-384, hex), report_generation; a read binds the next\n"
	"                             tsm/accept to it\n";

static int platform_text(struct pd *pd, char *buf, size_t cap)
{
	struct pcitsm_tsm_counters c;
	size_t n = 0;
	char hb[PCITSM_TSM_NAME_MAX];

	pcitsm_tsm_counters(pd->m.core, &c);
	pd_hb_name(pd, hb, sizeof(hb));
	textf(buf, cap, &n, "host_bridge=%s\nroot_ports=%u\nstream_pool=%u\ntsm=tsm0\nbackend=firmware\n"
			    "devsec_tsm=tsm1\nvfs=%u\n",
	      hb, pd->m.plat.config.nr_ports, pd->o->nr_streams, pd->o->nr_vfs);
	textf(buf, cap, &n,
	      "connected=%u\nh_in_use=%u\nids_in_use=%u\nport_blocks_in_use=%u\nsessions_open=%u\n"
	      "connects=%" PRIu64 "\nfailed_connects=%" PRIu64 "\ndisconnects=%" PRIu64
	      "\nrekeys=%" PRIu64 "\n",
	      c.connected, c.h_in_use, c.ids_in_use, c.port_blocks_in_use, c.sessions_open,
	      c.connects, c.failed_connects, c.disconnects, c.rekeys);
	for (unsigned i = 0; i < pd->nr_tcp; i++)
		textf(buf, cap, &n, "tcp_port=%s=%u\n", pd->funcs[pd->tcp[i]->func].name,
		      pd->tcp[i]->srv.port);
	return (int)n;
}

/* drivers/pci/iov.c formats: "%u\n", sriov_vf_device "%x\n". */
static int sriov_text(struct pd *pd, const struct vnode *vn, char *buf, size_t cap)
{
	struct pd_sriov sr;

	if (!pd_sriov(pd, vn->func, &sr))
		return -ENOENT;
	switch (vn->aux) {
	case SRIOV_TOTALVFS: return snprintf(buf, cap, "%u\n", sr.total_vfs);
	case SRIOV_NUMVFS: return snprintf(buf, cap, "%u\n", sr.num_vfs);
	case SRIOV_OFFSET: return snprintf(buf, cap, "%u\n", sr.offset);
	case SRIOV_STRIDE: return snprintf(buf, cap, "%u\n", sr.stride);
	case SRIOV_VF_DEVICE: return snprintf(buf, cap, "%x\n", sr.vf_device);
	default: return snprintf(buf, cap, "%u\n", !pd->sriov_no_autoprobe[vn->func]);
	}
}

/* sriov_numvfs_store, in its order: kstrtou16 (base 0) else EINVAL; above TotalVFs ERANGE; the
 * number already enabled: done; otherwise the PF's driver would have to do it (its
 * sriov_configure), and no driver of the mirror has one: ENOENT. sriov_drivers_autoprobe: a
 * kstrtobool. */
static int sriov_write(struct pd *pd, const struct vnode *vn, const char *buf, size_t len)
{
	struct pd_sriov sr;
	char s[16], *end;
	unsigned long v;
	bool b;
	size_t n = len;

	if (!pd_sriov(pd, vn->func, &sr))
		return -ENOENT;
	if (vn->aux == SRIOV_DRIVERS_AUTOPROBE) {
		if (pcitsm_tsm_kstrtobool(buf, len, &b))
			return -EINVAL;
		pd->sriov_no_autoprobe[vn->func] = !b;
		return (int)len;
	}
	if (vn->aux != SRIOV_NUMVFS)
		return -EACCES;
	if (n && buf[n - 1] == '\n')
		n--;
	if (!n || n >= sizeof(s))
		return -EINVAL;
	memcpy(s, buf, n);
	s[n] = '\0';
	if (s[0] < '0' || s[0] > '9')
		if (s[0] != '+' || s[1] < '0' || s[1] > '9')
			return -EINVAL;
	v = strtoul(s, &end, 0);
	if (*end || v > 0xffff)
		return -EINVAL;
	if (v > sr.total_vfs)
		return -ERANGE;
	if (v == sr.num_vfs)
		return (int)len;
	return -ENOENT;
}

/* Copy [off, off+size) of a generated text out. */
static int slice(const char *text, int len, char *buf, size_t size, off_t off)
{
	if (len < 0)
		return len;
	if (off >= len)
		return 0;
	if (size > (size_t)(len - off))
		size = (size_t)(len - off);
	memcpy(buf, text + off, size);
	return (int)size;
}

/* A locked TDI's evidence: each read asks the device again (through the firmware) and binds the
 * next accept of this function to what it returned. */
static int tdi_evidence_read(struct pd *pd, const struct vnode *vn, char *buf, size_t size,
			     off_t off)
{
	struct pcitsm_tsm_tdi_evidence *ev = calloc(1, sizeof(*ev));
	char text[2 * PCITSM_TDISP_DIGEST_LEN + 16];
	size_t n = 0;
	int r;
	pcitsm_err e;

	if (!ev)
		return -ENOMEM;
	e = pcitsm_tsm_tdi_evidence_get(pd->m.core, fbdf(pd, vn->func), ev);
	if (e) {
		free(ev);
		return e == PCITSM_E_STATE ? -ENODATA : -pcitsm_err_errno(e);
	}
	if (vn->aux == EV_REPORT) {
		r = slice((const char *)ev->report, (int)ev->report_len, buf, size, off);
	} else {
		if (vn->aux == EV_REPORT_DIGEST) {
			for (size_t i = 0; i < PCITSM_TDISP_DIGEST_LEN; i++)
				textf(text, sizeof(text), &n, "%02x", ev->digest[i]);
			textf(text, sizeof(text), &n, "\n");
		} else {
			textf(text, sizeof(text), &n, "%u\n", ev->generation);
		}
		r = slice(text, (int)n, buf, size, off);
	}
	free(ev);
	return r;
}

static int evidence_read(struct pd *pd, const struct vnode *vn, char *buf, size_t size, off_t off)
{
	char hex[2 * PCITSM_TSM_NONCE_LEN + 2];
	struct pcitsm_tsm_evidence ev;
	const uint8_t *p = NULL;
	size_t len = 0;
	int r;
	pcitsm_err e = pcitsm_tsm_evidence_get(pd->m.core, fbdf(pd, vn->func), &ev);

	if (e)
		return e == PCITSM_E_STATE ? -ENODATA : -pcitsm_err_errno(e);
	switch (vn->aux) {
	case EV_CHAIN: p = ev.chain; len = ev.chain_len; break;
	case EV_CERTS:
		if (ev.certs_off <= ev.chain_len) {
			p = ev.chain + ev.certs_off;
			len = ev.chain_len - ev.certs_off;
		}
		break;
	case EV_MEAS: p = ev.meas; len = ev.meas_len; break;
	case EV_VCA: p = ev.vca; len = ev.vca_len; break;
	case EV_NONCE:
		/* The requester's nonce of the published measurements: the verifier's after a
		 * refresh, the TSM's own from the connect before. */
		if (!ev.has_nonce) {
			pcitsm_tsm_evidence_free(&ev);
			return -ENODATA;
		}
		pcitsm_hex(hex, ev.nonce, sizeof(ev.nonce));
		hex[2 * sizeof(ev.nonce)] = '\n';
		p = (const uint8_t *)hex;
		len = 2 * sizeof(ev.nonce) + 1;
		break;
	default: break;
	}
	r = len > INT32_MAX ? -EFBIG : slice((const char *)p, (int)len, buf, size, off);
	pcitsm_tsm_evidence_free(&ev);
	return r;
}

static int read_locked(struct pd *pd, const struct vnode *vn, char *buf, size_t size, off_t off,
		       unsigned uid)
{
	char *text;
	int len = -EIO, r;
	struct pcitsm_pci_id id;
	struct pcitsm_cfg *cfg;
	size_t n = 0;

	if (off < 0)
		return -EINVAL;
	if (vn->kind == VF_CONFIG) {
		/* Linux: only root reads past the first 64 bytes (pci_read_config). */
		uint32_t lim = uid == 0 ? pd_cfg_size(pd, vn->func) : 64;

		if ((uint64_t)off >= lim)
			return 0;
		if (size > lim - (uint32_t)off)
			size = lim - (uint32_t)off;
		return pd_cfg_read(pd, vn->func, (uint8_t *)buf, size, (uint32_t)off);
	}
	if (vn->kind == VF_EVIDENCE)
		return vn->aux >= EV_REPORT ? tdi_evidence_read(pd, vn, buf, size, off)
					    : evidence_read(pd, vn, buf, size, off);
	text = malloc(TEXT_MAX);
	if (!text)
		return -ENOMEM;
	switch (vn->kind) {
	case VF_VENDOR:
	case VF_DEVICE:
	case VF_CLASS:
	case VF_REVISION:
		cfg = &pd->funcs[vn->func].f->cfg.cfg;
		pthread_mutex_lock(&pd->dev_lock);
		r = pcitsm_pci_read_id(cfg, &id) == PCITSM_OK;
		pthread_mutex_unlock(&pd->dev_lock);
		if (!r)
			break;
		/* A VF's IDs are its PF's (pci_iov_scan_device). */
		if (id.vf)
			(void)pd_vf_ids(pd, vn->func, &id.vendor, &id.device);
		/* pci-sysfs.c formats. */
		if (vn->kind == VF_VENDOR)
			len = snprintf(text, TEXT_MAX, "0x%04x\n", id.vendor);
		else if (vn->kind == VF_DEVICE)
			len = snprintf(text, TEXT_MAX, "0x%04x\n", id.device);
		else if (vn->kind == VF_CLASS)
			len = snprintf(text, TEXT_MAX, "0x%06x\n", id.class_code);
		else
			len = snprintf(text, TEXT_MAX, "0x%02x\n", id.revision);
		break;
	case VF_SUBSYS_VENDOR:
	case VF_SUBSYS_DEVICE:
	case VF_IRQ: {
		struct pd_sysfs_ids ids;

		pd_sysfs_ids(pd, vn->func, &ids);
		/* pci-sysfs.c: subsystem_* "0x%04x\n", irq "%u\n". */
		if (vn->kind == VF_IRQ)
			len = snprintf(text, TEXT_MAX, "%u\n", ids.irq);
		else
			len = snprintf(text, TEXT_MAX, "0x%04x\n", vn->kind == VF_SUBSYS_VENDOR ?
						       ids.subsys_vendor : ids.subsys_device);
		break;
	}
	case VF_RESOURCE: {
		struct pd_resource res[PD_NR_RESOURCES];
		unsigned nr = pd_resources(pd, vn->func, res);

		/* resource_show: one "start end flags" line per resource, 0x%016llx each. */
		for (unsigned i = 0; i < nr; i++)
			if (textf(text, TEXT_MAX, &n, "0x%016llx 0x%016llx 0x%016llx\n",
				  (unsigned long long)res[i].start, (unsigned long long)res[i].end,
				  (unsigned long long)res[i].flags))
				break;
		len = (int)n;
		break;
	}
	case VF_SRIOV:
		len = sriov_text(pd, vn, text, TEXT_MAX);
		break;
	case VF_DOE_FEATURE: {
		const struct pcitsm_doe_proto *p = &pd->funcs[vn->func].doe[vn->aux];
		len = snprintf(text, TEXT_MAX, "%04x:%02x\n", p->vid, p->type);
		break;
	}
	case VF_DOE_DISCOVERY:
		len = snprintf(text, TEXT_MAX, "0001:00\n");
		break;
	case VF_TSM_ATTR:
		len = pcitsm_tsm_attr_read(pd->m.core, fbdf(pd, vn->func),
					   (enum pcitsm_tsm_attr)vn->aux, text, TEXT_MAX);
		break;
	case VF_AVAIL:
		len = pcitsm_tsm_available_streams_read(pd->m.core, 0, text, TEXT_MAX);
		break;
	case VF_UEVENT:
		len = 0; /* the tsm class adds no uevent variables */
		break;
	case VF_PCI_MODE: {
		const char *m = pcitsm_tsm_pci_mode(pd->m.core, (unsigned)vn->aux);

		len = m ? snprintf(text, TEXT_MAX, "%s\n", m) : -ENOENT;
		break;
	}
	case VF_DRIVER_OVERRIDE:
		len = pcitsm_tsm_driver_override_read(pd->m.core, fbdf(pd, vn->func), text,
						      TEXT_MAX);
		break;
	case VF_DRV_BIND:
	case VF_DRV_UNBIND:
		len = -EACCES;
		break;
	case VF_PROJ_README:
		len = snprintf(text, TEXT_MAX, "%s", readme);
		break;
	case VF_PROJ_PLATFORM:
		len = platform_text(pd, text, TEXT_MAX);
		break;
	case VF_PROJ_STATUS:
		len = status_text(pd, vn->func, text, TEXT_MAX);
		break;
	case VF_PROJ_FAULTS:
		pd_faults_str(pd, vn->func, text, TEXT_MAX - 1);
		n = strlen(text);
		text[n++] = '\n';
		len = (int)n;
		break;
	case VF_PROJ_TRAFFIC:
		len = traffic_text(pd, vn->func, text, TEXT_MAX);
		break;
	case VF_PROJ_REKEY:
		len = -EACCES;
		break;
	case VF_PROJ_KEY_TLPS:
	case VF_PROJ_KEY_AGE: {
		struct pcitsm_tsm_key_policy p;
		pcitsm_err e = pcitsm_tsm_key_policy(pd->m.core, NULL, &p);

		len = e ? -pcitsm_err_errno(e)
			: snprintf(text, TEXT_MAX, "%" PRIu64 "\n",
				   vn->kind == VF_PROJ_KEY_TLPS ? p.max_tlps
								: p.max_age_ns / NS_PER_S);
		break;
	}
	default:
		len = -EISDIR;
		break;
	}
	r = slice(text, len, buf, size, off);
	free(text);
	return r;
}

static bool uevent_action_ok(const char *buf, size_t len)
{
	static const char *const actions[] = { "add", "remove", "change", "move",
						"online", "offline", "bind", "unbind" };
	size_t n = 0;

	while (n < len && buf[n] != ' ' && buf[n] != '\n')
		n++;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(actions); i++)
		if (strlen(actions[i]) == n && !memcmp(buf, actions[i], n))
			return true;
	return false;
}

int vfs_parse_u64(const char *buf, size_t len, uint64_t *v)
{
	char s[32], *end;

	if (len == 0 || len >= sizeof(s))
		return -EINVAL;
	memcpy(s, buf, len);
	s[len] = '\0';
	if (s[len - 1] == '\n')
		s[--len] = '\0';
	if (!len || strspn(s, "0123456789") != len)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

/* A store of pcitsm/tsm0/key_max_tlps or key_max_age_s: the other value kept, the TSM checks. */
static int key_policy_store(struct pd *pd, enum vn_kind which, const char *buf, size_t size)
{
	struct pcitsm_tsm_key_policy p;
	uint64_t v;
	pcitsm_err e;
	int r = vfs_parse_u64(buf, size, &v);

	if (r)
		return r;
	e = pcitsm_tsm_key_policy(pd->m.core, NULL, &p);
	if (e)
		return -pcitsm_err_errno(e);
	if (which == VF_PROJ_KEY_AGE) {
		if (v > UINT64_MAX / NS_PER_S)
			return -ERANGE;
		p.max_age_ns = v * NS_PER_S;
	} else {
		p.max_tlps = v;
	}
	e = pcitsm_tsm_key_policy(pd->m.core, &p, &p);
	if (e == PCITSM_E_RANGE)
		return -ERANGE; /* above the cap (kstrtou64's answer to a number too big) */
	return e ? -pcitsm_err_errno(e) : (int)size;
}

int vfs_parse_nonce(const char *buf, size_t len, uint8_t nonce[PCITSM_TSM_NONCE_LEN])
{
	if (len && buf[len - 1] == '\n')
		len--;
	return pcitsm_hex_decode(buf, len, nonce, PCITSM_TSM_NONCE_LEN) ? -EINVAL : 0;
}

/* evidence/nonce: the TSM signs nothing itself; it asks the device over its own session for
 * measurements signed with this nonce (pcitsm_tsm_evidence_refresh), which then are what
 * evidence/measurements gives. Not connected: ENXIO, as rekey. */
static int nonce_store(struct pd *pd, const struct vnode *vn, const char *buf, size_t size)
{
	uint8_t nonce[PCITSM_TSM_NONCE_LEN];
	pcitsm_err e;

	if (vn->aux != EV_NONCE)
		return -EACCES;
	if (vfs_parse_nonce(buf, size, nonce))
		return -EINVAL;
	e = pcitsm_tsm_evidence_refresh(pd->m.core, fbdf(pd, vn->func), nonce);
	if (e == PCITSM_E_STATE) /* disconnected since the open */
		return -ENXIO;
	return e ? -pcitsm_err_errno(e) : (int)size;
}

int vfs_parse_traffic(const char *buf, size_t len, uint64_t *n_ops, size_t *size, bool *tee)
{
	static const char tee_word[] = " tee";
	char s[64], *end;
	unsigned long long n, sz = 256;

	if (len == 0 || len >= sizeof(s))
		return -EINVAL;
	memcpy(s, buf, len);
	s[len] = '\0';
	if (s[len - 1] == '\n')
		s[--len] = '\0';
	/* the word, if there, is the last thing in s: cut it off */
	end = strstr(s, tee_word);
	*tee = end && end[sizeof(tee_word) - 1] == '\0';
	if (*tee) {
		*end = '\0';
		len = (size_t)(end - s);
	}
	if (!len || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	n = strtoull(s, &end, 10);
	if (*end == ' ') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		sz = strtoull(end + 1, &end, 10);
	}
	if (*end || n < 1 || n > 10000000ull || sz < 4 || sz > 4096 || sz % 4)
		return -EINVAL;
	*n_ops = n;
	*size = (size_t)sz;
	return 0;
}

static int write_locked(struct pd *pd, const struct vnode *vn, const char *buf, size_t size,
			off_t off)
{
	int r;

	if (off < 0)
		return -EINVAL;
	if (vn->kind != VF_CONFIG) {
		/* kernfs_fop_write_iter: a sysfs attribute's store sees at most PAGE_SIZE bytes (the
		 * write(2) returns what it consumed, so a longer one is short); sysfs_kf_write does not
		 * call the store for an empty write. */
		if (size > ATTR_SIZE)
			size = ATTR_SIZE;
		if (!size)
			return 0;
	}
	switch (vn->kind) {
	case VF_CONFIG:
		return pd_cfg_write(pd, vn->func, (const uint8_t *)buf, size, (uint32_t)PCITSM_MIN(
								     (uint64_t)off, UINT32_MAX));
	case VF_TSM_ATTR:
		if (vn->aux == PCITSM_TSM_ATTR_CONNECT)
			r = pcitsm_tsm_connect_write(pd->m.core, fbdf(pd, vn->func), buf, size);
		else if (vn->aux == PCITSM_TSM_ATTR_DISCONNECT)
			r = pcitsm_tsm_disconnect_write(pd->m.core, fbdf(pd, vn->func), buf, size);
		else if (vn->aux == PCITSM_TSM_ATTR_LOCK)
			r = pcitsm_tsm_lock_write(pd->m.core, fbdf(pd, vn->func), buf, size);
		else if (vn->aux == PCITSM_TSM_ATTR_UNLOCK)
			r = pcitsm_tsm_unlock_write(pd->m.core, fbdf(pd, vn->func), buf, size);
		else if (vn->aux == PCITSM_TSM_ATTR_ACCEPT)
			r = pcitsm_tsm_accept_write(pd->m.core, fbdf(pd, vn->func), buf, size);
		else
			r = -EACCES;
		return r < 0 ? r : (int)size;
	case VF_SRIOV:
		return sriov_write(pd, vn, buf, size);
	case VF_DRIVER_OVERRIDE:
		r = pcitsm_tsm_driver_override_write(pd->m.core, fbdf(pd, vn->func), buf, size);
		return r < 0 ? r : (int)size;
	case VF_DRV_BIND:
		r = pcitsm_tsm_driver_bind(pd->m.core, PCITSM_TSM_DRIVER, buf, size);
		return r < 0 ? r : (int)size;
	case VF_DRV_UNBIND:
		r = pcitsm_tsm_driver_unbind(pd->m.core, PCITSM_TSM_DRIVER, buf, size);
		return r < 0 ? r : (int)size;
	case VF_UEVENT:
		/* A synthetic uevent (kobject_synth_uevent): a known action, else EINVAL; nothing
		 * listens here, so a valid one is accepted and dropped. */
		return uevent_action_ok(buf, size) ? (int)size : -EINVAL;
	case VF_PROJ_REKEY: {
		pcitsm_err e = pcitsm_tsm_rekey(pd->m.core, fbdf(pd, vn->func));

		if (e == PCITSM_E_STATE)
			return -ENXIO; /* not connected, as disconnect says */
		return e ? -pcitsm_err_errno(e) : (int)size;
	}
	case VF_PROJ_KEY_TLPS:
	case VF_PROJ_KEY_AGE:
		return key_policy_store(pd, vn->kind, buf, size);
	case VF_EVIDENCE:
		return nonce_store(pd, vn, buf, size);
	case VF_PROJ_TRAFFIC: {
		struct pd_traffic_last t = { .valid = true };
		const struct pcitsm_bdf *b = fbdf(pd, vn->func);
		bool tee;

		r = vfs_parse_traffic(buf, size, &t.n_ops, &t.size, &tee);
		if (r)
			return r;
		pthread_mutex_lock(&pd->traffic_lock);
		if (tee)
			t.err = pcitsm_tsm_traffic_tee(pd->m.core, b, t.n_ops, t.size, &t.res);
		else
			t.err = pcitsm_tsm_traffic(pd->m.core, b, t.n_ops, t.size, &t.res);
		t.res.tee = tee;
		pd->traffic_last[vn->func] = t;
		pthread_mutex_unlock(&pd->traffic_lock);
		return t.err ? -pcitsm_err_errno(t.err) : (int)size;
	}
	default:
		return (vn->mode & S_IFMT) == S_IFDIR ? -EISDIR : -EACCES;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Entry points. Every access to the platform (lib/tsm, the emulated config spaces, the device
 * responders) holds the device lock: lib/tsm serialises its own operations, but the mirror's
 * config-space and DOE accesses and the TCP ports reach the same registers and responders, so
 * the daemon serialises them all (Linux, too, holds pci_tsm_rwsem for writing across a connect).
 */
int vfs_readdir(struct pd *pd, const struct vnode *dir, vfs_fill_fn fill, void *ctx)
{
	int r;

	pthread_mutex_lock(&pd->dev_lock);
	r = readdir_locked(pd, dir, fill, ctx);
	pthread_mutex_unlock(&pd->dev_lock);
	return r;
}

int vfs_lookup(struct pd *pd, const char *path, struct vnode *vn)
{
	int r;

	pthread_mutex_lock(&pd->dev_lock);
	r = lookup_locked(pd, path, vn);
	pthread_mutex_unlock(&pd->dev_lock);
	return r;
}

int vfs_read(struct pd *pd, const struct vnode *vn, char *buf, size_t size, off_t off, unsigned uid)
{
	int r;

	pthread_mutex_lock(&pd->dev_lock);
	r = read_locked(pd, vn, buf, size, off, uid);
	pthread_mutex_unlock(&pd->dev_lock);
	return r;
}

int vfs_write(struct pd *pd, const struct vnode *vn, const char *buf, size_t size, off_t off)
{
	int r;

	pthread_mutex_lock(&pd->dev_lock);
	r = write_locked(pd, vn, buf, size, off);
	pthread_mutex_unlock(&pd->dev_lock);
	return r;
}
