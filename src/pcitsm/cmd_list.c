/* SPDX-License-Identifier: MIT */
/*
 * pcitsm list: one entry per PCI function with what Trusted I/O needs to know about it: identity,
 * DOE features, the IDE capability decoded (pciutils' words), every stream block's state, TEE-IO,
 * and the kernel's TSM attributes when the sysfs root has them.
 *
 * The same code reads a real /sys (config files, doe_features, tsm attributes) and the embedded
 * emulated platform (--platform emu), whose config spaces are reached through the same accessor.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pcitsm/doe.h"
#include "pcitsm/emu.h"
#include "pcitsm/pci.h"
#include "sysroot.h"
#include "target.h"
#include "pcitsm/sva.h"

/* pciutils' decode words (ls-ecaps.c): aggregation modes and partial-header-encryption modes. */
static const char *const agg_words[] = { "-", "=2", "=4", "=8" };
static const char *const phe_words[] = { "no", "17:2", "25:2", "33:2", "41:2" };

static const char *phe_word(uint8_t phe)
{
	return phe < PCITSM_ARRAY_SIZE(phe_words) ? phe_words[phe] : "reserved";
}

static const char *alg_word(uint8_t alg)
{
	return alg == 0 ? "AES-GCM-256-96b" : "reserved";
}

static const char *state_word(uint8_t state)
{
	switch (state) {
	case PCITSM_IDE_STATE_INSECURE: return "Insecure";
	case PCITSM_IDE_STATE_SECURE: return "Secure";
	default: return "Unknown";
	}
}

static const char *exp_type_word(int t)
{
	switch (t) {
	case -1: return "conventional PCI";
	case PCITSM_EXP_TYPE_ENDPOINT: return "Endpoint";
	case PCITSM_EXP_TYPE_LEG_END: return "Legacy Endpoint";
	case PCITSM_EXP_TYPE_ROOT_PORT: return "Root Port";
	case PCITSM_EXP_TYPE_UPSTREAM: return "Upstream Port";
	case PCITSM_EXP_TYPE_DOWNSTREAM: return "Downstream Port";
	case PCITSM_EXP_TYPE_RC_END: return "RC Integrated Endpoint";
	default: return "other PCIe function";
	}
}

/* ---------------------------------------------------------------------------------------------
 * Where the functions come from: a sysfs root, or the in-process emulated platform.
 */
struct list_src {
	const char *sysfs;                 /* NULL for the emulated platform */
	struct pcitsm_emu_platform *emu;
};

/* Read a small sysfs attribute; returns false when absent. Trailing newline removed. */
static bool read_attr(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return true;
}

static json_object *jstr(const char *s) { return json_object_new_string(s); }
static json_object *jbool(bool b) { return json_object_new_boolean(b); }
static json_object *jint(int64_t v) { return json_object_new_int64(v); }

static void add_ctl(json_object *o, const struct pcitsm_ide_stream_ctl *c, bool selective)
{
	json_object_object_add(o, "enable", jbool(c->enable));
	json_object_object_add(o, "stream_id", jint(c->stream_id));
	json_object_object_add(o, "tc", jint(c->tc));
	json_object_object_add(o, "algorithm", jstr(alg_word(c->alg)));
	json_object_object_add(o, "pcrc", jbool(c->pcrc));
	json_object_object_add(o, "partial_header", jstr(phe_word(c->phe)));
	json_object_object_add(o, "aggregation_npr", jstr(agg_words[c->agg_npr & 3]));
	json_object_object_add(o, "aggregation_pr", jstr(agg_words[c->agg_pr & 3]));
	json_object_object_add(o, "aggregation_cpl", jstr(agg_words[c->agg_cpl & 3]));
	if (selective) {
		json_object_object_add(o, "config_requests", jbool(c->cfg_en));
		json_object_object_add(o, "default_stream", jbool(c->default_stream));
		json_object_object_add(o, "tee_limited", jbool(c->tee_limited));
	}
}

/* Decode the IDE capability into JSON; errors are reported in the object, not fatal. */
static json_object *ide_json(struct pcitsm_cfg *cfg, uint16_t off)
{
	json_object *o = json_object_new_object(), *arr;
	struct pcitsm_ide_info *ide = calloc(1, sizeof(*ide));
	pcitsm_err e;

	if (!ide)
		return o;
	e = pcitsm_ide_read(cfg, off, ide);
	json_object_object_add(o, "offset", jint(off));
	if (e) {
		json_object_object_add(o, "error", jstr(pcitsm_err_str(e)));
		free(ide);
		return o;
	}
	json_object_object_add(o, "link", jbool(ide->link_sup));
	json_object_object_add(o, "selective", jbool(ide->sel_sup));
	json_object_object_add(o, "flow_through", jbool(ide->flowthrough_sup));
	json_object_object_add(o, "partial_header", jbool(ide->partial_hdr_sup));
	json_object_object_add(o, "aggregation", jbool(ide->aggregation_sup));
	json_object_object_add(o, "pcrc", jbool(ide->pcrc_sup));
	json_object_object_add(o, "ide_km", jbool(ide->ide_km_sup));
	json_object_object_add(o, "selective_config", jbool(ide->sel_cfg_sup));
	json_object_object_add(o, "tee_limited", jbool(ide->tee_limited_sup));
	json_object_object_add(o, "algorithms", jstr(alg_word(ide->algs)));
	json_object_object_add(o, "link_tcs", jint(ide->nr_link));
	json_object_object_add(o, "selective_streams", jint(ide->nr_sel));
	json_object_object_add(o, "flow_through_enabled", jbool(ide->flowthrough_en));

	arr = json_object_new_array();
	for (unsigned i = 0; i < ide->nr_link; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "index", jint(i));
		add_ctl(s, &ide->link[i].ctl, false);
		json_object_object_add(s, "state", jstr(state_word(ide->link[i].state)));
		json_object_object_add(s, "received_fail", jbool(ide->link[i].recvd_fail));
		json_object_array_add(arr, s);
	}
	json_object_object_add(o, "link_streams", arr);

	arr = json_object_new_array();
	for (unsigned i = 0; i < ide->nr_sel; i++) {
		json_object *s = json_object_new_object(), *addrs;
		struct pcitsm_ide_sel sel;
		char buf[40];

		json_object_object_add(s, "index", jint(i));
		e = pcitsm_ide_sel_read(cfg, ide, i, &sel);
		if (e) {
			json_object_object_add(s, "error", jstr(pcitsm_err_str(e)));
			json_object_array_add(arr, s);
			continue;
		}
		add_ctl(s, &sel.ctl, true);
		json_object_object_add(s, "state", jstr(state_word(sel.state)));
		json_object_object_add(s, "received_fail", jbool(sel.recvd_fail));
		json_object_object_add(s, "rid_valid", jbool(sel.rid_valid));
		snprintf(buf, sizeof(buf), "%04x", sel.rid_base);
		json_object_object_add(s, "rid_base", jstr(buf));
		snprintf(buf, sizeof(buf), "%04x", sel.rid_limit);
		json_object_object_add(s, "rid_limit", jstr(buf));
		json_object_object_add(s, "segment_base", jint(sel.seg_base));
		addrs = json_object_new_array();
		for (unsigned k = 0; k < sel.nr_addr; k++) {
			json_object *a = json_object_new_object();

			json_object_object_add(a, "valid", jbool(sel.addr[k].valid));
			snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)sel.addr[k].base);
			json_object_object_add(a, "base", jstr(buf));
			snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)sel.addr[k].limit);
			json_object_object_add(a, "limit", jstr(buf));
			json_object_array_add(addrs, a);
		}
		json_object_object_add(s, "address_association", addrs);
		json_object_array_add(arr, s);
	}
	json_object_object_add(o, "selective_stream_blocks", arr);
	free(ide);
	return o;
}

/* How far config space reads: Linux gives an unprivileged reader the first 64 bytes only
 * (pci_read_config), so a short read at 0x40 or 0x100 bounds what can be decoded. */
static uint32_t cfg_readable(struct pcitsm_cfg *cfg)
{
	uint32_t v;
	uint8_t b;

	if (pcitsm_cfg_read8(cfg, 0x40, &b) != PCITSM_OK)
		return 64;
	if (cfg->size < PCITSM_CFG_SIZE_EXT || pcitsm_cfg_read32(cfg, PCITSM_CFG_EXT_START, &v))
		return PCITSM_CFG_SIZE_LEGACY;
	return cfg->size;
}

/* Only the 64-byte header is readable (a reader other than root on Linux). */
static bool cfg_header_only(uint32_t readable)
{
	return readable < PCITSM_CFG_SIZE_LEGACY;
}

/* DOE discovery on the mailbox at off (PCIe 6.x §6.30.1.1), features appended to arr. */
static pcitsm_err doe_discover(struct pcitsm_cfg *cfg, uint16_t off, json_object *arr)
{
	struct pcitsm_doe_host *h = calloc(1, sizeof(*h));
	pcitsm_err e;
	char name[16];

	if (!h)
		return PCITSM_E_NOMEM;
	e = pcitsm_doe_host_init(h, cfg, off, pcitsm_env_default());
	for (unsigned i = 0; e == PCITSM_OK && i < h->nr_protos; i++) {
		snprintf(name, sizeof(name), "%04x:%02x", h->protos[i].vid, h->protos[i].type);
		json_object_array_add(arr, jstr(name));
	}
	pcitsm_xport_close(&h->x);
	free(h);
	return e;
}

/* DOE: the kernel's doe_features/ directory where it exists (Linux 6.15+); else the DOE
 * capabilities (Extended Capability ID 0x2E) in config space, each mailbox's features from
 * discovery when we may drive it (root, config file writable: a kernel before 6.15 has no
 * doe_features/), else "features unknown"; config space not readable past 64 bytes (not root)
 * says so. The emulated platform: discovery through the mailbox itself. Adds doe_features,
 * doe_features_source and doe_mailboxes to o. */
static void doe_add(json_object *o, struct list_src *src, const struct pcitsm_bdf *bdf,
		    const char *devdir, struct pcitsm_cfg *cfg, uint32_t readable)
{
	json_object *feat = json_object_new_array(), *mbs = json_object_new_array();
	const char *source = "none";
	struct pcitsm_cfg_file wf = { .fd = -1 };
	bool have_dir = false, writable = false;

	if (src->sysfs) {
		char path[PATH_MAX];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/doe_features", devdir);
		d = opendir(path);
		if (d) {
			have_dir = true;
			source = "doe_features";
			while ((e = readdir(d)))
				if (e->d_name[0] != '.')
					json_object_array_add(feat, jstr(e->d_name));
			closedir(d);
		} else if (cfg_header_only(readable)) {
			source = "config_unreadable";
		} else {
			writable = geteuid() == 0 &&
				   pcitsm_cfg_file_open(&wf, src->sysfs, bdf, true) == PCITSM_OK;
		}
	}
	for (unsigned nth = 0; readable == PCITSM_CFG_SIZE_EXT; nth++) {
		json_object *mb, *mf;
		uint16_t off;
		pcitsm_err e;

		if (pcitsm_ecap_find(cfg, PCITSM_ECAP_ID_DOE, nth, &off))
			break;
		mb = json_object_new_object();
		json_object_object_add(mb, "offset", jint(off));
		if (have_dir) {
			/* The kernel owns the mailbox and lists its features: no exchange. */
		} else if (!src->sysfs || writable) {
			mf = json_object_new_array();
			e = doe_discover(src->sysfs ? &wf.cfg : cfg, off, mf);
			if (e) {
				json_object_object_add(mb, "error", jstr(pcitsm_err_str(e)));
				json_object_put(mf);
				mf = NULL;
				if (strcmp(source, "discovery"))
					source = "unknown";
			} else {
				for (size_t i = 0; i < json_object_array_length(mf); i++)
					json_object_array_add(feat, json_object_get(
						json_object_array_get_idx(mf, i)));
				source = "discovery";
			}
			json_object_object_add(mb, "features", mf);
		} else {
			json_object_object_add(mb, "features", NULL);
			source = "unknown";
		}
		json_object_array_add(mbs, mb);
	}
	if (writable)
		pcitsm_cfg_file_close(&wf);
	json_object_object_add(o, "doe_features", feat);
	json_object_object_add(o, "doe_features_source", jstr(source));
	json_object_object_add(o, "doe_mailboxes", mbs);
}

/* The kernel's TSM attributes (Linux Documentation/ABI/testing/sysfs-bus-pci), where the sysfs root
 * has them. */
static json_object *tsm_json(struct list_src *src, const char *devdir, const struct pcitsm_bdf *bdf)
{
	static const struct { const char *file, *key; } attrs[] = {
		{ "tsm/connect", "connect" },
		{ "authenticated", "authenticated" },
		{ "tsm/dsm", "dsm" },
		{ "tsm/bound", "bound" },
	};
	json_object *o = json_object_new_object();
	char val[128], path[PATH_MAX], real[PATH_MAX];

	if (!src->sysfs) {
		json_object_object_add(o, "available_secure_streams",
				       jint(pcitsm_emu_available_streams(src->emu)));
		return o;
	}
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(attrs); i++)
		if (read_attr(devdir, attrs[i].file, val, sizeof(val)))
			json_object_object_add(o, attrs[i].key, jstr(val));
	/* The host bridge is the "pciDDDD:BB" component of the device's real path. */
	if (realpath(devdir, real)) {
		char *hb = strstr(real, "/pci");
		char hbname[32];

		if (hb && sscanf(hb + 1, "pci%4hx:%2hhx", &(uint16_t){ 0 }, &(uint8_t){ 0 }) == 2) {
			size_t n = strcspn(hb + 1, "/");
			snprintf(hbname, sizeof(hbname), "%.*s", (int)n, hb + 1);
			snprintf(path, sizeof(path), "%.*s", (int)(hb - real + 1 + n), real);
			if (read_attr(path, "available_secure_streams", val, sizeof(val)))
				json_object_object_add(o, "available_secure_streams", jint(atoll(val)));
			json_object_object_add(o, "host_bridge", jstr(hbname));
		}
	}
	(void)bdf;
	return o;
}

/* A function on uio_pci_sva (docs/sva.md): its UIO device and the pasid attribute. */
static void sva_add(json_object *o, const struct list_src *src, const struct pcitsm_bdf *bdf)
{
	struct pcitsm_sva_uio_info i;
	json_object *s;

	if (!src->sysfs || pcitsm_sva_uio_info(src->sysfs, bdf, &i) || !i.on_uio_pci_sva)
		return;
	s = json_object_new_object();
	json_object_object_add(s, "uio", i.uio >= 0 ? jint(i.uio) : NULL);
	json_object_object_add(s, "pasid", i.pasid_valid ? jint(i.pasid) : NULL);
	json_object_object_add(o, "uio_pci_sva", s);
}

/* A Virtual Function reads 0xFFFF IDs (PCIe 6.x §9.3.4.1.1, .2): its IDs are what sysfs shows
 * (the PF's Vendor ID and its SR-IOV capability's VF Device ID, Linux drivers/pci/iov.c), and its
 * PF is its `physfn` link. */
static void vf_ids(json_object *o, struct list_src *src, const char *devdir,
		   struct pcitsm_pci_id *id)
{
	char v[32], path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	json_object_object_add(o, "virtfn", jbool(true));
	if (!src->sysfs)
		return;
	if (read_attr(devdir, "vendor", v, sizeof(v)))
		id->vendor = (uint16_t)strtoul(v, NULL, 16);
	if (read_attr(devdir, "device", v, sizeof(v)))
		id->device = (uint16_t)strtoul(v, NULL, 16);
	if ((size_t)snprintf(path, sizeof(path), "%s/physfn", devdir) >= sizeof(path))
		return;
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		json_object_object_add(o, "physfn", jstr(strrchr(link, '/') ? strrchr(link, '/') + 1
									   : link));
	}
}

static json_object *func_json(struct list_src *src, const char *devdir, struct pcitsm_cfg *cfg,
			      const struct pcitsm_bdf *bdf)
{
	json_object *o = json_object_new_object(), *tsm;
	uint32_t readable;
	struct pcitsm_pci_id id;
	struct pcitsm_cap caps[256];
	size_t ncaps = 0;
	char buf[16];
	pcitsm_err e;

	json_object_object_add(o, "address", jstr(cli_bdf_name(bdf).s));
	readable = src->sysfs ? cfg_readable(cfg) : cfg->size;
	if (cfg_header_only(readable)) {
		/* Not root on Linux: the IDs are in the first 64 bytes, the capabilities are not. */
		uint16_t vid = 0, did = 0;
		uint32_t cr = 0;

		if (pcitsm_cfg_read16(cfg, PCITSM_CFG_VENDOR_ID, &vid) ||
		    pcitsm_cfg_read16(cfg, PCITSM_CFG_DEVICE_ID, &did) ||
		    pcitsm_cfg_read32(cfg, PCITSM_CFG_REVISION, &cr)) {
			json_object_object_add(o, "error", jstr(pcitsm_err_str(PCITSM_E_IO)));
			return o;
		}
		if (vid == 0xffff && did == 0xffff && cr != 0xffffffffu) {
			struct pcitsm_pci_id vf = { .vendor = vid, .device = did, .vf = true };

			vf_ids(o, src, devdir, &vf);
			vid = vf.vendor;
			did = vf.device;
		}
		snprintf(buf, sizeof(buf), "%04x", vid);
		json_object_object_add(o, "vendor", jstr(buf));
		snprintf(buf, sizeof(buf), "%04x", did);
		json_object_object_add(o, "device", jstr(buf));
		snprintf(buf, sizeof(buf), "%06x", cr >> 8);
		json_object_object_add(o, "class", jstr(buf));
		json_object_object_add(o, "type", jstr("unknown"));
		json_object_object_add(o, "config_size", jint(cfg->size));
		json_object_object_add(o, "config_readable", jint(readable));
		json_object_object_add(o, "note", jstr("config space not readable past 64 bytes (not "
						       "root): capabilities, DOE and IDE unknown"));
		doe_add(o, src, bdf, devdir, cfg, readable);
		json_object_object_add(o, "tsm", tsm_json(src, devdir, bdf));
		sva_add(o, src, bdf);
		return o;
	}
	e = pcitsm_pci_read_id(cfg, &id);
	if (e) {
		json_object_object_add(o, "error", jstr(pcitsm_err_str(e)));
		return o;
	}
	if (id.vf)
		vf_ids(o, src, devdir, &id);
	snprintf(buf, sizeof(buf), "%04x", id.vendor);
	json_object_object_add(o, "vendor", jstr(buf));
	snprintf(buf, sizeof(buf), "%04x", id.device);
	json_object_object_add(o, "device", jstr(buf));
	snprintf(buf, sizeof(buf), "%06x", id.class_code);
	json_object_object_add(o, "class", jstr(buf));
	json_object_object_add(o, "type", jstr(exp_type_word(id.exp_type)));
	json_object_object_add(o, "tee_io", jbool(id.tee_io));
	json_object_object_add(o, "config_size", jint(cfg->size));
	json_object_object_add(o, "config_readable", jint(readable));
	doe_add(o, src, bdf, devdir, cfg, readable);

	/* Walk the whole list, so a malformed one is reported even past the capabilities we use;
	 * what was found before the fault is still decoded. */
	e = pcitsm_cap_list(cfg, caps, PCITSM_ARRAY_SIZE(caps), &ncaps);
	if (e) {
		char msg[96];
		snprintf(msg, sizeof(msg), "capability list: %s", pcitsm_err_str(e));
		json_object_object_add(o, "error", jstr(msg));
	}
	if (cfg->size < PCITSM_CFG_SIZE_EXT)
		json_object_object_add(o, "note", jstr(geteuid() == 0 ?
			"256-byte config space (conventional PCI): no extended capabilities, "
			"so no DOE and no IDE" :
			"only 256 bytes of config space readable (needs root); DOE and IDE unknown"));
	for (size_t i = 0; i < ncaps; i++)
		if (caps[i].ext && caps[i].id == PCITSM_ECAP_ID_IDE) {
			json_object_object_add(o, "ide", ide_json(cfg, caps[i].off));
			break;
		}
	tsm = tsm_json(src, devdir, bdf);
	json_object_object_add(o, "tsm", tsm);
	sva_add(o, src, bdf);
	return o;
}

/* ---------------------------------------------------------------------------------------------
 * Text output: one block per function.
 */
static const char *js(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static bool jb(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static void print_stream(json_object *s, const char *kind)
{
	printf("    %s %s: %s ID %s TC%s En%c Alg='%s' NPR%s PR%s CPL%s PCRC%c", kind,
	       js(s, "index"), js(s, "state"), js(s, "stream_id"), js(s, "tc"),
	       jb(s, "enable") ? '+' : '-', js(s, "algorithm"), js(s, "aggregation_npr"),
	       js(s, "aggregation_pr"), js(s, "aggregation_cpl"), jb(s, "pcrc") ? '+' : '-');
	if (!strcmp(kind, "Selective"))
		printf(" Default%c TEE-Lim%c CFG%c RID %s-%s Valid%c", jb(s, "default_stream") ? '+' : '-',
		       jb(s, "tee_limited") ? '+' : '-', jb(s, "config_requests") ? '+' : '-',
		       js(s, "rid_base"), js(s, "rid_limit"), jb(s, "rid_valid") ? '+' : '-');
	printf("\n");
}

static void print_names(json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* One DOE line per mailbox found in config space when the kernel lists no doe_features/. */
static void print_doe(json_object *f, json_object *doe)
{
	const char *src = js(f, "doe_features_source");
	json_object *mbs = NULL;
	size_t n = 0;

	if (!strcmp(src, "doe_features")) {
		printf("  DOE:");
		print_names(doe);
		printf("%s\n", json_object_array_length(doe) ? "" : " none");
		return;
	}
	if (!strcmp(src, "config_unreadable")) {
		printf("  DOE: unknown (config space not readable past 64 bytes: not root)\n");
		return;
	}
	if (json_object_object_get_ex(f, "doe_mailboxes", &mbs))
		n = json_object_array_length(mbs);
	if (!n)
		printf("  DOE: none\n");
	for (size_t i = 0; i < n; i++) {
		json_object *mb = json_object_array_get_idx(mbs, i), *mf;

		printf("  DOE: mailbox at 0x%03x:", json_object_get_int(json_object_object_get(mb,
											     "offset")));
		if (json_object_object_get_ex(mb, "features", &mf) && mf) {
			print_names(mf);
			printf(" (DOE discovery)\n");
		} else if (*js(mb, "error")) {
			printf(" features unknown (discovery failed: %s)\n", js(mb, "error"));
		} else {
			printf(" features unknown (no doe_features/, as before Linux 6.15; discovery "
			       "needs root)\n");
		}
	}
}

static void print_text(json_object *f)
{
	json_object *ide, *doe, *tsm, *arr, *sva;

	printf("%s %s:%s class %s (%s)%s\n", js(f, "address"), js(f, "vendor"), js(f, "device"),
	       js(f, "class"), js(f, "type"), jb(f, "tee_io") ? " TEE-IO" : "");
	if (jb(f, "virtfn"))
		printf("  SR-IOV: virtual function%s%s\n", *js(f, "physfn") ? " of " : "",
		       js(f, "physfn"));
	if (*js(f, "error"))
		printf("  error: %s\n", js(f, "error"));
	if (*js(f, "note"))
		printf("  %s\n", js(f, "note"));
	if (json_object_object_get_ex(f, "doe_features", &doe))
		print_doe(f, doe);
	if (!json_object_object_get_ex(f, "ide", &ide)) {
		printf("  IDE: %s\n", strstr(js(f, "note"), "unknown") ? "unknown" : "none");
	} else if (*js(ide, "error")) {
		printf("  IDE: capability at %s is malformed: %s\n", js(ide, "offset"), js(ide, "error"));
	} else {
		printf("  IDE: Lnk%c Sel%c FlowThru%c PartHdr%c Aggr%c PCRC%c IDE_KM%c SelCfg%c "
		       "TEE-Lim%c Alg='%s' TCs=%s SelStreams=%s\n",
		       jb(ide, "link") ? '+' : '-', jb(ide, "selective") ? '+' : '-',
		       jb(ide, "flow_through") ? '+' : '-', jb(ide, "partial_header") ? '+' : '-',
		       jb(ide, "aggregation") ? '+' : '-', jb(ide, "pcrc") ? '+' : '-',
		       jb(ide, "ide_km") ? '+' : '-', jb(ide, "selective_config") ? '+' : '-',
		       jb(ide, "tee_limited") ? '+' : '-', js(ide, "algorithms"), js(ide, "link_tcs"),
		       js(ide, "selective_streams"));
		if (json_object_object_get_ex(ide, "link_streams", &arr))
			for (size_t i = 0; i < json_object_array_length(arr); i++)
				print_stream(json_object_array_get_idx(arr, i), "Link");
		if (json_object_object_get_ex(ide, "selective_stream_blocks", &arr))
			for (size_t i = 0; i < json_object_array_length(arr); i++)
				print_stream(json_object_array_get_idx(arr, i), "Selective");
	}
	if (json_object_object_get_ex(f, "tsm", &tsm) && json_object_object_length(tsm)) {
		printf("  TSM:");
		json_object_object_foreach(tsm, k, v)
			printf(" %s=%s", k, *json_object_get_string(v) ? json_object_get_string(v) : "\"\"");
		printf("\n");
	}
	if (json_object_object_get_ex(f, "uio_pci_sva", &sva)) {
		json_object *uio = json_object_object_get(sva, "uio"),
			    *pasid = json_object_object_get(sva, "pasid");

		/* pasid reads 0 until a process first opens the UIO device */
		printf("  SVA: uio_pci_sva uio%s PASID %s\n", uio ? json_object_get_string(uio) : "?",
		       pasid ? json_object_get_string(pasid) : "unreadable");
	}
}

/* ---------------------------------------------------------------------------------------------
 */
static int list_sysfs(const char *root, json_object *out)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;
	struct pcitsm_bdf *bdfs = NULL;
	size_t n = 0, cap = 0;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", root);
	d = opendir(dir);
	if (!d)
		return cli_failf("list: cannot read %s: %s", dir, strerror(errno));
	/* The sysfs edge: each directory name that is a PCI address is parsed here, once. */
	while ((e = readdir(d))) {
		struct pcitsm_bdf bdf;

		if (pcitsm_bdf_parse(e->d_name, &bdf) != PCITSM_OK)
			continue;
		if (n == cap) {
			struct pcitsm_bdf *nb = realloc(bdfs, (cap = cap ? 2 * cap : 64) * sizeof(*bdfs));
			if (!nb)
				break;
			bdfs = nb;
		}
		bdfs[n++] = bdf;
	}
	closedir(d);
	if (n)
		qsort(bdfs, n, sizeof(*bdfs), cli_bdf_cmp);
	for (size_t i = 0; i < n; i++) {
		struct list_src src = { .sysfs = root };
		struct pcitsm_cfg_file cf;
		char devdir[PATH_MAX];
		pcitsm_err err;

		if (snprintf(devdir, sizeof(devdir), "%s/%s", dir, cli_bdf_name(&bdfs[i]).s) >=
		    (int)sizeof(devdir))
			continue;
		err = pcitsm_cfg_file_open(&cf, root, &bdfs[i], false);
		if (err) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "address", jstr(cli_bdf_name(&bdfs[i]).s));
			json_object_object_add(o, "error", jstr(pcitsm_err_str(err)));
			json_object_array_add(out, o);
		} else {
			json_object_array_add(out, func_json(&src, devdir, &cf.cfg, &bdfs[i]));
			pcitsm_cfg_file_close(&cf);
		}
	}
	free(bdfs);
	return 0;
}

static int list_emu(json_object *out)
{
	struct pcitsm_emu_platform p;
	struct pcitsm_emu_config cfg;
	pcitsm_err e;

	pcitsm_emu_config_default(&cfg);
	e = pcitsm_emu_platform_init(&p, &cfg, pcitsm_env_default());
	if (e)
		return cli_fail("list: emulated platform", e);
	for (unsigned i = 0; i < p.nr_funcs; i++) {
		struct list_src src = { .emu = &p };

		json_object_array_add(out, func_json(&src, NULL, &p.funcs[i].cfg.cfg,
						     &p.funcs[i].bdf));
	}
	pcitsm_emu_platform_free(&p);
	return 0;
}

static int list_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "platform", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL, *platform = NULL;
	bool json = false;
	json_object *out;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sysfs = optarg; break;
		case 'p': platform = optarg; break;
		default: return cli_usage("list");
		}
	}
	if (optind != argc)
		return cli_usage("list");
	sysfs = cli_sysfs_root(sysfs);
	if (platform && strcmp(platform, "emu") && strcmp(platform, "sysfs"))
		return cli_failf("list: unknown platform '%s' (emu or sysfs)", platform);

	out = json_object_new_array();
	if (platform && !strcmp(platform, "emu"))
		rc = list_emu(out);
	else
		rc = list_sysfs(sysfs, out);
	if (rc == 0) {
		if (json) {
			printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
									       JSON_C_TO_STRING_NOSLASHESCAPE));
		} else {
			for (size_t i = 0; i < json_object_array_length(out); i++)
				print_text(json_object_array_get_idx(out, i));
			if (!json_object_array_length(out))
				printf("no PCI functions under %s\n", sysfs);
		}
	}
	json_object_put(out);
	return rc;
}

const struct cli_cmd cli_cmd_list = {
	.name = "list",
	.args = "[--json] [--sysfs DIR] [--platform emu|sysfs]",
	.summary = "list PCI functions with their DOE, IDE, TEE-IO and TSM state",
	.run = list_main,
};
