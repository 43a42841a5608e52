/* SPDX-License-Identifier: MIT */
/*
 * The PCI/TSM core (Linux drivers/pci/tsm.c, Documentation/ABI/testing/sysfs-bus-pci): the
 * functions of the platform and which of them can be a DSM, the TSM class devices, the sysfs
 * attributes with the kernel's errno values, and the connect / disconnect life cycle with
 * per-device serialisation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsm_priv.h"

static const char *const step_names[] = {
#define PCITSM_TSM_STEP_NAME(n, s) s,
	PCITSM_TSM_STEPS(PCITSM_TSM_STEP_NAME)
#undef PCITSM_TSM_STEP_NAME
};

const char *pcitsm_tsm_step_name(enum pcitsm_tsm_step s)
{
	return (unsigned)s < PCITSM_ARRAY_SIZE(step_names) ? step_names[s] : "unknown";
}

void pcitsm_tsm_failure_set(struct pcitsm_tsm_failure *f, enum pcitsm_tsm_step step, pcitsm_err e,
			    const char *fmt, ...)
{
	va_list ap;

	f->step = step;
	f->err = e;
	if (!f->errno_val)
		f->errno_val = pcitsm_err_errno(e);
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

void pcitsm_tsm_core_cfg_default(struct pcitsm_tsm_core_cfg *cfg, const struct pcitsm_env *env)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->env = env;
	cfg->nr_streams = -1;
}

static bool bdf_eq(const struct pcitsm_bdf *a, const struct pcitsm_bdf *b)
{
	return a->seg == b->seg && a->bus == b->bus && a->dev == b->dev && a->fn == b->fn;
}

struct tsm_fn *tsm_fn_find(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf)
{
	if (!c || !bdf)
		return NULL;
	for (unsigned i = 0; i < c->nr_fns; i++)
		if (bdf_eq(&c->fns[i].bdf, bdf))
			return &c->fns[i];
	return NULL;
}

/* is_pci_tsm_pf0 (Linux drivers/pci/tsm.c): PCIe, an Endpoint / Upstream Port / RCiEP, function 0,
 * with usable IDE (selective streams) or DEVCAP TEE. */
static void fn_probe(struct tsm_fn *fn)
{
	struct pcitsm_pci_id id;

	if (pcitsm_pci_read_id(fn->cfg, &id) != PCITSM_OK)
		return;
	fn->is_root_port = id.exp_type == PCITSM_EXP_TYPE_ROOT_PORT;
	fn->is_endpoint = id.exp_type == PCITSM_EXP_TYPE_ENDPOINT ||
			  id.exp_type == PCITSM_EXP_TYPE_UPSTREAM || id.exp_type == PCITSM_EXP_TYPE_RC_END;
	fn->tee_io = id.tee_io;
	tsm_port_init(fn);
	fn->dsm_capable = fn->is_endpoint && fn->bdf.fn == 0 && (fn->port.ide || fn->tee_io);
	/* The mailboxes are set up once, when the device is added (Linux pci_doe_init); a connect
	 * uses the cached one. */
	if (fn->dsm_capable &&
	    pcitsm_doe_host_find(&fn->doe, fn->cfg, PCITSM_DOE_VID_PCISIG, PCITSM_DOE_TYPE_CMA,
				 fn->core->env) == PCITSM_OK) {
		fn->doe_cma = true;
		fn->doe.x.tap = fn->core->cfg.relay_tap;
	}
}

/* find_dsm_dev (Linux drivers/pci/tsm.c): the function itself, else function 0 of the same slot.
 * (The third rule, the grandparent upstream switch port, has nothing to find: no switches here.) */
static struct tsm_fn *find_dsm(struct pcitsm_tsm_core *c, struct tsm_fn *fn)
{
	struct pcitsm_bdf f0 = fn->bdf;
	struct tsm_fn *d;

	if (fn->dsm_capable)
		return fn;
	if (!fn->is_endpoint)
		return NULL;
	f0.fn = 0;
	d = tsm_fn_find(c, &f0);
	return d && d->dsm_capable ? d : NULL;
}

/* The dependents of a DSM with TEE get a context when it connects and lose it on disconnect
 * (functions 1-7 of the slot; a failed dependent probe is not fatal). Under core->lock. */
static void set_dependents(struct pcitsm_tsm_core *c, struct tsm_fn *dsm, bool on)
{
	for (unsigned i = 0; i < c->nr_fns; i++) {
		struct tsm_fn *fn = &c->fns[i];

		if (fn != dsm && fn->dsm == dsm)
			fn->managed = on && dsm->tee_io;
	}
}

/* Register the configured backend (tsm_register of its driver): init, then tsmN. */
static pcitsm_err backend_register(struct pcitsm_tsm_core *c)
{
	const struct pcitsm_tsm_backend *b = c->cfg.backend;
	void *ctx = NULL;
	pcitsm_err e;

	PCITSM_TRY(b->init(c, c->cfg.backend_arg, &ctx));
	e = tsm_dev_register(c, b->link, NULL, ctx, b->fini, NULL);
	if (e && b->fini)
		b->fini(ctx);
	/* The same backend as the devsec TSM (tsm1), over the same context (freed with tsm0). */
	if (!e && b->devsec)
		e = tsm_dev_register(c, NULL, b->devsec, ctx, NULL, NULL);
	return e;
}

pcitsm_err pcitsm_tsm_core_new(struct pcitsm_tsm_core **out, const struct pcitsm_tsm_core_cfg *cfg)
{
	const struct pcitsm_platform_ops *po;
	struct pcitsm_platform_hb hbi;
	struct pcitsm_tsm_core *c;
	unsigned pool, n;
	pcitsm_err e;

	if (!out || !cfg || !cfg->plat.ops || !cfg->env ||
	    cfg->nr_streams > PCITSM_TSM_HB_STREAMS_MAX || !cfg->backend || !cfg->backend->init ||
	    !cfg->backend->link)
		return PCITSM_E_INVAL;
	*out = NULL;
	po = cfg->plat.ops;
	c = calloc(1, sizeof(*c));
	if (!c)
		return PCITSM_E_NOMEM;
	c->cfg = *cfg;
	c->plat = cfg->plat;
	c->env = cfg->env;
	pthread_mutex_init(&c->lock, NULL);
	n = po->nr_funcs(c->plat.ctx);
	c->fns = calloc(n, sizeof(*c->fns));
	if (!c->fns) {
		pcitsm_tsm_core_free(c);
		return PCITSM_E_NOMEM;
	}
	c->nr_fns = n;
	for (unsigned i = 0; i < c->nr_fns; i++)
		pthread_mutex_init(&c->fns[i].lock, NULL);
	/* Enumeration: every function the platform has, its upstream port, then which is a DSM. */
	for (unsigned i = 0; i < c->nr_fns; i++) {
		struct tsm_fn *fn = &c->fns[i];
		struct pcitsm_platform_func pf;

		fn->core = c;
		fn->idx = i;
		fn->last_failure.peer_status = -1;
		fn->tdi_state = -1;
		e = po->func(c->plat.ctx, i, &pf);
		if (e) {
			pcitsm_tsm_core_free(c);
			return e;
		}
		fn->cfg = pf.cfg;
		fn->bdf = pf.bdf;
		fn->ide_off = pf.ide_off;
		fn->rp = pf.upstream >= 0 && (unsigned)pf.upstream < c->nr_fns ? &c->fns[pf.upstream]
									: NULL;
		pcitsm_bdf_format(&fn->bdf, fn->name);
	}
	for (unsigned i = 0; i < c->nr_fns; i++)
		fn_probe(&c->fns[i]);
	for (unsigned i = 0; i < c->nr_fns; i++)
		c->fns[i].dsm = find_dsm(c, &c->fns[i]);
	/* The host bridge: pool size, Stream ID 255 reserved, adopted streams. */
	po->host_bridge(c->plat.ctx, &hbi);
	pool = cfg->nr_streams < 0 ? hbi.nr_streams : (unsigned)cfg->nr_streams;
	snprintf(c->hb.name, sizeof(c->hb.name), "pci%04x:%02x", hbi.segment, hbi.bus);
	c->hb.segment = hbi.segment;
	c->hb.bus = hbi.bus;
	tsm_ida_init(&c->hb.h, pool);
	tsm_ida_init(&c->hb.ids, 256);
	e = tsm_ida_claim(&c->hb.ids, PCITSM_IDE_RESERVED_STREAM_ID);
	if (!e)
		e = tsm_adopt_streams(c);
	if (!e)
		e = backend_register(c);
	if (e) {
		pcitsm_tsm_core_free(c);
		return e;
	}
	*out = c;
	return PCITSM_OK;
}

pcitsm_err tsm_dev_register(struct pcitsm_tsm_core *c, const struct tsm_link_ops *link,
			    const struct tsm_devsec_ops *devsec, void *ctx, void (*free_ctx)(void *),
			    unsigned *id)
{
	struct tsm_dev *d;

	if (!!link == !!devsec)
		return PCITSM_E_INVAL; /* exactly one group (pci_tsm_register) */
	pthread_mutex_lock(&c->lock);
	if (c->nr_devs == PCITSM_TSM_MAX_DEVS) {
		pthread_mutex_unlock(&c->lock);
		return PCITSM_E_EXHAUSTED;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		pthread_mutex_unlock(&c->lock);
		return PCITSM_E_NOMEM;
	}
	d->id = c->nr_devs;
	snprintf(d->name, sizeof(d->name), "tsm%u", d->id);
	d->link = link;
	d->devsec = devsec;
	d->ctx = ctx;
	d->free_ctx = free_ctx;
	c->devs[c->nr_devs++] = d;
	if (link)
		c->link_tsm = true; /* KOBJ_CHANGE: PCI/TSM is ready */
	pthread_mutex_unlock(&c->lock);
	if (id)
		*id = d->id;
	return PCITSM_OK;
}

static void fn_disconnect_locked(struct tsm_fn *fn);

void pcitsm_tsm_core_free(struct pcitsm_tsm_core *c)
{
	if (!c)
		return;
	/* TSM unregister: tear down every connected device, in reverse order. c->fns has
	 * c->nr_fns entries, none while it is NULL (pcitsm_tsm_core_new). */
	for (unsigned i = c->nr_fns; i-- > 0;) {
		struct tsm_fn *fn = &c->fns[i];

		pthread_mutex_lock(&fn->lock); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
		if (fn->tsm)
			fn_disconnect_locked(fn);
		pthread_mutex_unlock(&fn->lock);
	}
	for (unsigned h = 0; h < PCITSM_TSM_HB_STREAMS_MAX; h++)
		if (c->hb.by_h[h] && c->hb.by_h[h]->adopted)
			free(c->hb.by_h[h]);
	for (unsigned i = 0; i < c->nr_devs; i++) {
		if (c->devs[i]->free_ctx)
			c->devs[i]->free_ctx(c->devs[i]->ctx);
		free(c->devs[i]);
	}
	for (unsigned i = 0; i < c->nr_fns; i++) {
		pthread_mutex_destroy(&c->fns[i].lock);
		free(c->fns[i].driver_override);
	}
	free(c->fns);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

pcitsm_err tsm_fn_link_flush(struct tsm_fn *fn)
{
	const struct pcitsm_platform *p = &fn->core->plat;

	return p->ops->link_flush ? p->ops->link_flush(p->ctx, fn->idx) : PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * sysfs attributes.
 */
static const char *const attr_names[PCITSM_TSM_NR_ATTRS] = {
	"tsm", "connect", "disconnect", "dsm", "bound", "authenticated", "lock", "unlock", "accept",
};
static const unsigned attr_modes[PCITSM_TSM_NR_ATTRS] = { 0755, 0644, 0200, 0444, 0444,
							  0444, 0644, 0200, 0644 };

/* A devsec TSM is registered (under core->lock). */
static bool devsec_registered(const struct pcitsm_tsm_core *c)
{
	for (unsigned i = 0; i < c->nr_devs; i++)
		if (c->devs[i]->devsec)
			return true;
	return false;
}

const char *pcitsm_tsm_attr_name(enum pcitsm_tsm_attr a)
{
	return (unsigned)a < PCITSM_TSM_NR_ATTRS ? attr_names[a] : "unknown";
}

unsigned pcitsm_tsm_attr_mode(enum pcitsm_tsm_attr a)
{
	return (unsigned)a < PCITSM_TSM_NR_ATTRS ? attr_modes[a] : 0;
}

static bool attr_exists_locked(struct pcitsm_tsm_core *c, struct tsm_fn *fn, enum pcitsm_tsm_attr a)
{
	if (!fn || !c->link_tsm)
		return false;
	switch (a) {
	case PCITSM_TSM_ATTR_DIR:
		return fn->dsm_capable || fn->tsm || fn->managed ||
		       (fn->tee_io && fn->is_endpoint && devsec_registered(c));
	case PCITSM_TSM_ATTR_LOCK:
	case PCITSM_TSM_ATTR_UNLOCK:
	case PCITSM_TSM_ATTR_ACCEPT:
		/* The staging tree's visibility: a devsec TSM and DEVCAP TEE. */
		return fn->tee_io && fn->is_endpoint && devsec_registered(c);
	case PCITSM_TSM_ATTR_DSM:
		return fn->dsm_capable || fn->managed;
	case PCITSM_TSM_ATTR_CONNECT:
	case PCITSM_TSM_ATTR_DISCONNECT:
	case PCITSM_TSM_ATTR_AUTHENTICATED:
		return fn->dsm_capable;
	case PCITSM_TSM_ATTR_BOUND:
		return fn->dsm_capable && fn->tee_io;
	default:
		return false;
	}
}

bool pcitsm_tsm_attr_exists(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			    enum pcitsm_tsm_attr a)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	bool r;

	if (!fn)
		return false;
	pthread_mutex_lock(&c->lock);
	r = attr_exists_locked(c, fn, a);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int put_str(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (!buf || n + 1 > cap)
		return -ENOSPC;
	memcpy(buf, s, n + 1);
	return (int)n;
}

int pcitsm_tsm_attr_read(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			 enum pcitsm_tsm_attr a, char *buf, size_t cap)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	char tmp[32] = "\n";

	if (!fn)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (!attr_exists_locked(c, fn, a)) {
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	switch (a) {
	case PCITSM_TSM_ATTR_CONNECT:
	case PCITSM_TSM_ATTR_AUTHENTICATED:
		if (fn->tsm)
			snprintf(tmp, sizeof(tmp), "%s\n", fn->tsm->name);
		break;
	case PCITSM_TSM_ATTR_DSM:
		if (fn->tsm || fn->managed)
			snprintf(tmp, sizeof(tmp), "%s\n", fn->dsm->name);
		break;
	case PCITSM_TSM_ATTR_BOUND:
		/* A TDI of this DSM (PF0 itself or a function it manages) accepted. */
		for (unsigned i = 0; i < c->nr_fns; i++)
			if (c->fns[i].dsm == fn && c->fns[i].accepted && c->fns[i].devsec) {
				snprintf(tmp, sizeof(tmp), "%s\n", c->fns[i].devsec->name);
				break;
			}
		break;
	case PCITSM_TSM_ATTR_LOCK:
		if (fn->devsec)
			snprintf(tmp, sizeof(tmp), "%s\n", fn->devsec->name);
		break;
	case PCITSM_TSM_ATTR_ACCEPT:
		snprintf(tmp, sizeof(tmp), "%d\n", fn->accepted ? 1 : 0);
		break;
	case PCITSM_TSM_ATTR_UNLOCK:
	case PCITSM_TSM_ATTR_DISCONNECT:
		pthread_mutex_unlock(&c->lock);
		return -EACCES;
	default:
		pthread_mutex_unlock(&c->lock);
		return -EISDIR;
	}
	pthread_mutex_unlock(&c->lock);
	return put_str(buf, cap, tmp);
}

/* The kernel's isspace (lib/ctype.c): HT, LF, VT, FF, CR, space, and 0xA0 (Latin-1 no-break
 * space, which the kernel's table also marks as space). */
static bool kernel_isspace(unsigned char c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0;
}

/* connect_store's sscanf(buf, "tsm%d\n", &id) (drivers/pci/tsm.c), with the kernel's vsscanf
 * (lib/vsprintf.c), which is not C's: the bytes up to the first NUL count (kernfs NUL-terminates
 * the store's buffer); "tsm" must match at the first byte (a format literal skips no white space);
 * %d skips white space, takes an optional '-' but no '+' (the kernel's %d knows only '-'), needs
 * one decimal digit, accumulates digits modulo 2^64 (simple_strntoull ignores overflow) and stores
 * the low 32 bits as an int; whatever follows the digits is ignored. So "tsm0\n", "tsm 0",
 * "tsm-0" and "tsm0garbage" name tsm0; " tsm0", "tsm+0", "tsm" and "tsmx" are EINVAL. */
static int parse_tsm_name(const char *buf, size_t len, int *id)
{
	static const char lit[] = "tsm";
	uint64_t v = 0;
	uint32_t low;
	bool neg = false;
	size_t i;

	if (!buf)
		return -EINVAL;
	for (i = 0; i < sizeof(lit) - 1; i++)
		if (i >= len || buf[i] != lit[i])
			return -EINVAL;
	while (i < len && kernel_isspace((unsigned char)buf[i]))
		i++;
	if (i < len && buf[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= len || buf[i] < '0' || buf[i] > '9')
		return -EINVAL;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(buf[i] - '0');
	if (neg)
		v = 0 - v;
	low = (uint32_t)v;
	*id = low <= INT32_MAX ? (int)low : -(int)(UINT32_MAX - low) - 1;
	return 0;
}

/* sysfs_streq: equal, ignoring one trailing newline on either side. */
static bool name_eq(const char *buf, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len && buf[len - 1] == '\n')
		len--;
	return len == n && !memcmp(buf, name, n);
}

static void record_failure(struct tsm_fn *fn, const struct pcitsm_tsm_failure *f)
{
	fn->last_failure = *f;
	fn->failures++;
}

int pcitsm_tsm_connect_write(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			     const char *buf, size_t len)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	struct pcitsm_tsm_failure fail = { .peer_status = -1 };
	struct tsm_dev *d = NULL;
	void *drv = NULL;
	uint64_t t0;
	pcitsm_err e;
	int id, rc;

	if (!fn)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (!attr_exists_locked(c, fn, PCITSM_TSM_ATTR_CONNECT)) {
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	rc = parse_tsm_name(buf, len, &id);
	if (rc) {
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	if (fn->tsm || fn->busy) {
		pthread_mutex_unlock(&c->lock);
		return -EBUSY;
	}
	if (id >= 0 && (unsigned)id < c->nr_devs)
		d = c->devs[id];
	if (!d || !d->link || !d->link->probe) {
		pthread_mutex_unlock(&c->lock);
		return -ENXIO;
	}
	fn->busy = true;
	pthread_mutex_unlock(&c->lock);

	pthread_mutex_lock(&fn->lock);
	memset(fn->step_ns, 0, sizeof(fn->step_ns));
	fn->have_step_ns = false;
	t0 = pcitsm_now_ns(c->env);
	e = d->link->probe(d->ctx, fn, &drv);
	fn->step_ns[PCITSM_TSM_STEP_PROBE] = pcitsm_now_ns(c->env) - t0;
	if (e || !drv) {
		pcitsm_tsm_failure_set(&fail, PCITSM_TSM_STEP_PROBE, e ? e : PCITSM_E_NOTFOUND,
				       "%s: probe refused the device", d->name);
		fail.errno_val = ENXIO;
		rc = -ENXIO;
	} else {
		e = d->link->connect(d->ctx, fn, drv, &fail);
		if (e) {
			d->link->remove(d->ctx, fn, drv);
			drv = NULL;
			if (!fail.step)
				pcitsm_tsm_failure_set(&fail, PCITSM_TSM_STEP_NONE, e,
						       "connect failed");
			rc = -(fail.errno_val ? fail.errno_val : pcitsm_err_errno(e));
		} else {
			rc = 0;
		}
	}
	if (rc) {
		record_failure(fn, &fail);
		pcitsm_info(c->env, "tsm: %s: connect failed at %s: %s (%s)", fn->name,
			    pcitsm_tsm_step_name(fail.step), pcitsm_err_name(fail.err), fail.why);
	} else {
		fn->drv = drv;
		fn->connects++;
		fn->last_connect_ns = pcitsm_now_ns(c->env) - t0;
		fn->step_ns[PCITSM_TSM_STEP_DONE] = fn->last_connect_ns;
	}
	pthread_mutex_lock(&c->lock);
	fn->busy = false;
	if (!rc) {
		fn->tsm = d;
		set_dependents(c, fn, true);
		c->connects++;
	} else {
		c->failed_connects++;
	}
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&fn->lock);
	return rc;
}

static void tdi_release_locked(struct tsm_fn *dsm, struct tsm_fn *fn);

/* With fn->lock held and fn->tsm set. */
static void fn_disconnect_locked(struct tsm_fn *fn)
{
	struct pcitsm_tsm_core *c = fn->core;
	struct tsm_dev *d = fn->tsm;

	/* The TDIs locked over this connection are stopped first: no lock outlives its session. */
	for (unsigned i = 0; i < c->nr_fns; i++)
		if (c->fns[i].dsm == fn && c->fns[i].devsec)
			tdi_release_locked(fn, &c->fns[i]);
	d->link->disconnect(d->ctx, fn, fn->drv);
	d->link->remove(d->ctx, fn, fn->drv);
	fn->drv = NULL;
	fn->disconnects++;
	pthread_mutex_lock(&c->lock);
	set_dependents(c, fn, false); /* dependents first, in the kernel's reverse order */
	fn->tsm = NULL;
	c->disconnects++;
	pthread_mutex_unlock(&c->lock);
}

int pcitsm_tsm_disconnect_write(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				const char *buf, size_t len)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	int rc;

	if (!fn)
		return -ENOENT;
	if (!pcitsm_tsm_attr_exists(c, bdf, PCITSM_TSM_ATTR_DISCONNECT))
		return -ENOENT;
	pthread_mutex_lock(&fn->lock); /* uninterruptible: waits for a connect in progress */
	if (!fn->tsm) {
		rc = -ENXIO;
	} else if (!buf || !name_eq(buf, len, fn->tsm->name)) {
		rc = -EINVAL; /* the exact name given to connect */
	} else {
		fn_disconnect_locked(fn);
		rc = 0;
	}
	pthread_mutex_unlock(&fn->lock);
	return rc;
}

size_t pcitsm_tsm_functions(struct pcitsm_tsm_core *c, struct pcitsm_bdf *out, size_t max)
{
	for (size_t i = 0; i < c->nr_fns && i < max; i++)
		out[i] = c->fns[i].bdf;
	return c->nr_fns;
}

/* ---------------------------------------------------------------------------------------------
 * Class devices and host bridges.
 */
unsigned pcitsm_tsm_nr_devices(struct pcitsm_tsm_core *c)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = c->nr_devs;
	pthread_mutex_unlock(&c->lock);
	return n;
}

pcitsm_err pcitsm_tsm_device_name(struct pcitsm_tsm_core *c, unsigned i,
				  char name[PCITSM_TSM_NAME_MAX])
{
	pcitsm_err e = PCITSM_E_NOTFOUND;

	pthread_mutex_lock(&c->lock);
	if (i < c->nr_devs) {
		memcpy(name, c->devs[i]->name, PCITSM_TSM_NAME_MAX);
		e = PCITSM_OK;
	}
	pthread_mutex_unlock(&c->lock);
	return e;
}

unsigned pcitsm_tsm_nr_host_bridges(struct pcitsm_tsm_core *c)
{
	return c ? 1 : 0;
}

pcitsm_err pcitsm_tsm_host_bridge(struct pcitsm_tsm_core *c, unsigned i,
				  struct pcitsm_tsm_hb_info *info)
{
	if (!c || i != 0 || !info)
		return PCITSM_E_NOTFOUND;
	pthread_mutex_lock(&c->lock);
	memset(info, 0, sizeof(*info));
	memcpy(info->name, c->hb.name, sizeof(info->name));
	info->segment = c->hb.segment;
	info->bus = c->hb.bus;
	info->nr_streams = c->hb.h.size;
	info->h_in_use = c->hb.h.used;
	info->ids_in_use = c->hb.ids.used - 1; /* without the reserved 255 */
	pthread_mutex_unlock(&c->lock);
	return PCITSM_OK;
}

bool pcitsm_tsm_available_streams_visible(struct pcitsm_tsm_core *c, unsigned hb)
{
	bool v;

	if (!c || hb != 0)
		return false;
	pthread_mutex_lock(&c->lock);
	v = c->hb.h.size != 0; /* pci_ide_attr_visible: hidden while nr_ide_streams is 0 */
	pthread_mutex_unlock(&c->lock);
	return v;
}

int pcitsm_tsm_available_streams_read(struct pcitsm_tsm_core *c, unsigned hb, char *buf,
				      size_t cap)
{
	char tmp[16];
	unsigned avail, size;

	if (!c || hb != 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	size = c->hb.h.size;
	avail = size - c->hb.h.used;
	pthread_mutex_unlock(&c->lock);
	if (!size)
		return -ENXIO;
	snprintf(tmp, sizeof(tmp), "%u\n", avail);
	return put_str(buf, cap, tmp);
}

size_t pcitsm_tsm_streams(struct pcitsm_tsm_core *c, unsigned hb,
			  struct pcitsm_tsm_stream_info *out, size_t max)
{
	size_t n = 0;

	if (!c || hb != 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	for (unsigned h = 0; h < PCITSM_TSM_HB_STREAMS_MAX; h++) {
		const struct tsm_stream *s = c->hb.by_h[h];

		if (!s || !s->registered)
			continue;
		if (n < max) {
			struct pcitsm_tsm_stream_info *i = &out[n];

			memset(i, 0, sizeof(*i));
			snprintf(i->name, sizeof(i->name), "stream%u.%u.%u", s->h, s->r, s->e);
			i->h = s->h;
			i->r = s->r;
			i->e = s->e;
			i->stream_id = (uint8_t)s->stream_id;
			i->rp = s->rp->bdf;
			i->ep = s->ep->bdf;
			i->adopted = s->adopted;
		}
		n++;
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* ---------------------------------------------------------------------------------------------
 * Status, counters, operations beyond 6.19.
 */
pcitsm_err pcitsm_tsm_status(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			     struct pcitsm_tsm_status *st)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	struct tsm_dev *d;

	if (!fn || !st)
		return PCITSM_E_NOTFOUND;
	memset(st, 0, sizeof(*st));
	st->bdf = fn->bdf;
	pthread_mutex_lock(&c->lock);
	st->dsm_capable = attr_exists_locked(c, fn, PCITSM_TSM_ATTR_CONNECT);
	d = fn->tsm;
	st->busy = fn->busy;
	st->managed = fn->managed;
	if (fn->devsec)
		memcpy(st->lock_tsm, fn->devsec->name, sizeof(st->lock_tsm));
	st->accepted = fn->accepted;
	st->tdi_state = fn->tdi_state;
	st->evidence_generation = fn->ev_generation;
	memcpy(st->driver, fn->driver, sizeof(st->driver));
	if (fn->managed)
		st->dsm = fn->dsm->bdf;
	pthread_mutex_unlock(&c->lock);
	st->connected = d != NULL;
	st->authenticated = d != NULL;
	if (d)
		memcpy(st->tsm, d->name, sizeof(st->tsm));
	if (st->busy || pthread_mutex_trylock(&fn->lock)) {
		st->busy = true;
		return PCITSM_OK;
	}
	/* fn->tsm is written only with fn->lock held as well: read it again, it may have changed. */
	d = fn->tsm;
	st->connected = st->authenticated = d != NULL;
	memset(st->tsm, 0, sizeof(st->tsm));
	if (d) {
		memcpy(st->tsm, d->name, sizeof(st->tsm));
		st->dsm = fn->bdf;
		if (d->link->status)
			d->link->status(d->ctx, fn, fn->drv, st);
	}
	if (fn->stream) {
		st->has_stream = true;
		st->stream_id = (uint8_t)fn->stream->stream_id;
		st->h = fn->stream->h;
		st->r = fn->stream->r;
		st->e = fn->stream->e;
		tsm_port_status(fn->stream->rp, fn->stream->r, &st->rp);
		tsm_port_status(fn, fn->stream->e, &st->ep);
	} else if (fn->rp) {
		tsm_port_status(fn->rp, 0, &st->rp);
		tsm_port_status(fn, 0, &st->ep);
	}
	st->key_set = fn->key_set;
	st->rekeys = fn->rekeys;
	st->connects = fn->connects;
	st->disconnects = fn->disconnects;
	st->failures = fn->failures;
	st->last_failure = fn->last_failure;
	st->last_connect_ns = fn->last_connect_ns;
	pthread_mutex_unlock(&fn->lock);
	return PCITSM_OK;
}

void pcitsm_tsm_counters(struct pcitsm_tsm_core *core, struct pcitsm_tsm_counters *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&core->lock);
	for (unsigned i = 0; i < core->nr_fns; i++) {
		c->connected += core->fns[i].tsm != NULL;
		c->port_blocks_in_use += core->fns[i].port.blocks.used;
	}
	c->h_in_use = core->hb.h.used;
	c->ids_in_use = core->hb.ids.used - 1;
	c->connects = core->connects;
	c->failed_connects = core->failed_connects;
	c->disconnects = core->disconnects;
	c->rekeys = core->rekeys;
	for (unsigned i = 0; i < core->nr_devs; i++)
		if (core->devs[i]->link && core->devs[i]->link->sessions_open)
			c->sessions_open += core->devs[i]->link->sessions_open(core->devs[i]->ctx);
	pthread_mutex_unlock(&core->lock);
}

pcitsm_err pcitsm_tsm_rekey(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	pcitsm_err e;

	if (!fn)
		return PCITSM_E_NOTFOUND;
	pthread_mutex_lock(&fn->lock);
	if (!fn->tsm || !fn->tsm->link->rekey) {
		pthread_mutex_unlock(&fn->lock);
		return PCITSM_E_STATE;
	}
	e = fn->tsm->link->rekey(fn->tsm->ctx, fn, fn->drv);
	if (!e) {
		fn->rekeys++;
		pthread_mutex_lock(&c->lock);
		c->rekeys++;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&fn->lock);
	return e;
}

pcitsm_err tsm_fn_key_check(struct tsm_fn *fn, bool *refreshed)
{
	struct pcitsm_tsm_core *c = fn->core;
	struct tsm_dev *d;
	pcitsm_err e;

	*refreshed = false;
	pthread_mutex_lock(&c->lock);
	d = fn->tsm;
	pthread_mutex_unlock(&c->lock);
	if (!d || !d->link->key_check)
		return PCITSM_OK;
	e = d->link->key_check(d->ctx, fn, fn->drv, refreshed);
	if (*refreshed) {
		fn->rekeys++;
		pthread_mutex_lock(&c->lock);
		c->rekeys++;
		pthread_mutex_unlock(&c->lock);
	}
	return e;
}

pcitsm_err pcitsm_tsm_key_check(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				bool *refreshed)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	pcitsm_err e;

	if (!refreshed)
		return PCITSM_E_INVAL;
	*refreshed = false;
	if (!fn)
		return PCITSM_E_NOTFOUND;
	pthread_mutex_lock(&fn->lock);
	e = fn->tsm ? tsm_fn_key_check(fn, refreshed) : PCITSM_E_STATE;
	pthread_mutex_unlock(&fn->lock);
	return e;
}

pcitsm_err pcitsm_tsm_key_policy(struct pcitsm_tsm_core *c,
				 const struct pcitsm_tsm_key_policy *set,
				 struct pcitsm_tsm_key_policy *get)
{
	struct tsm_dev *d;

	if (!c || !get)
		return PCITSM_E_INVAL;
	pthread_mutex_lock(&c->lock);
	d = c->nr_devs ? c->devs[0] : NULL; /* tsm0, the link TSM */
	pthread_mutex_unlock(&c->lock);
	if (!d || !d->link || !d->link->key_policy)
		return PCITSM_E_UNSUPPORTED;
	return d->link->key_policy(d->ctx, set, get);
}

pcitsm_err pcitsm_tsm_evidence_get(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				   struct pcitsm_tsm_evidence *ev)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	pcitsm_err e;

	if (!ev)
		return PCITSM_E_INVAL;
	memset(ev, 0, sizeof(*ev));
	if (!fn)
		return PCITSM_E_NOTFOUND;
	pthread_mutex_lock(&fn->lock);
	if (!fn->tsm || !fn->tsm->link->evidence)
		e = PCITSM_E_STATE;
	else
		e = fn->tsm->link->evidence(fn->tsm->ctx, fn, fn->drv, ev);
	pthread_mutex_unlock(&fn->lock);
	if (e)
		pcitsm_tsm_evidence_free(ev);
	return e;
}

pcitsm_err pcitsm_tsm_evidence_refresh(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				       const uint8_t nonce[PCITSM_TSM_NONCE_LEN])
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	pcitsm_err e;

	if (!nonce)
		return PCITSM_E_INVAL;
	if (!fn)
		return PCITSM_E_NOTFOUND;
	pthread_mutex_lock(&fn->lock);
	if (!fn->tsm)
		e = PCITSM_E_STATE; /* not connected: no TSM holds a session */
	else if (!fn->tsm->link->evidence_refresh)
		e = PCITSM_E_UNSUPPORTED;
	else
		e = fn->tsm->link->evidence_refresh(fn->tsm->ctx, fn, fn->drv, nonce);
	pthread_mutex_unlock(&fn->lock);
	return e;
}

void pcitsm_tsm_evidence_free(struct pcitsm_tsm_evidence *ev)
{
	if (!ev)
		return;
	free(ev->chain);
	free(ev->meas_req);
	free(ev->meas);
	free(ev->vca);
	memset(ev, 0, sizeof(*ev));
}

pcitsm_err pcitsm_tsm_step_times(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				 uint64_t ns[PCITSM_TSM_STEP_DONE + 1])
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	pcitsm_err e = PCITSM_E_STATE;

	if (!fn)
		return PCITSM_E_NOTFOUND;
	pthread_mutex_lock(&fn->lock);
	if (fn->have_step_ns) {
		memcpy(ns, fn->step_ns, sizeof(fn->step_ns));
		e = PCITSM_OK;
	}
	pthread_mutex_unlock(&fn->lock);
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * TDISP through a devsec TSM [proposal]: tsm/lock, tsm/unlock, tsm/accept, the evidence, and the
 * driver binding that gates them. The errno order is the staging tree's (docs/pcitsmd.md
 * "Proposal: TDISP").
 */
const char *pcitsm_tsm_pci_mode(struct pcitsm_tsm_core *c, unsigned i)
{
	const char *m = NULL;

	pthread_mutex_lock(&c->lock);
	if (i < c->nr_devs)
		m = c->devs[i]->devsec ? "devsec" : "link";
	pthread_mutex_unlock(&c->lock);
	return m;
}

/* Forget the devsec state of fn (under core->lock). */
static void tdi_forget(struct tsm_fn *fn)
{
	fn->devsec = NULL;
	fn->accepted = false;
	fn->ev_valid = false;
	pcitsm_wipe(fn->ev_digest, sizeof(fn->ev_digest));
	fn->ev_generation = 0;
	fn->tdi_state = -1;
}

/* Unlock fn whose DSM dsm is connected (dsm->lock held): rejected first, then the op. */
static void tdi_release_locked(struct tsm_fn *dsm, struct tsm_fn *fn)
{
	struct pcitsm_tsm_core *c = fn->core;
	struct tsm_dev *d;

	pthread_mutex_lock(&c->lock);
	d = fn->devsec;
	tdi_forget(fn);
	pthread_mutex_unlock(&c->lock);
	if (d && d->devsec->unlock && dsm->drv)
		d->devsec->unlock(d->ctx, dsm, dsm->drv, fn);
}

/* The DSM of fn with a link connection of the same backend as devsec TSM d, or NULL. */
static struct tsm_fn *tdi_dsm(struct tsm_fn *fn, const struct tsm_dev *d)
{
	struct tsm_fn *dsm = fn->dsm;

	if (!dsm || !dsm->tsm || dsm->tsm->ctx != d->ctx || !dsm->drv)
		return NULL;
	return dsm;
}

/* The gate every devsec write starts with, under core->lock: ENOENT for no attribute. */
static struct tsm_fn *devsec_fn(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				enum pcitsm_tsm_attr a)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);

	return fn && attr_exists_locked(c, fn, a) ? fn : NULL;
}

int pcitsm_tsm_lock_write(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			  const char *buf, size_t len)
{
	struct pcitsm_tsm_failure fail = { .peer_status = -1 };
	struct tsm_fn *fn, *dsm;
	struct tsm_dev *d = NULL;
	pcitsm_err e;
	int id, rc;

	pthread_mutex_lock(&c->lock);
	fn = devsec_fn(c, bdf, PCITSM_TSM_ATTR_LOCK);
	if (!fn) {
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	/* 1. EINVAL format; 2. EBUSY locked; 3. ENXIO no devsec TSM; 4. EBUSY driver bound. */
	rc = parse_tsm_name(buf, len, &id);
	if (!rc && (fn->devsec || fn->locking))
		rc = -EBUSY;
	if (!rc) {
		if (id >= 0 && (unsigned)id < c->nr_devs)
			d = c->devs[id];
		if (!d || !d->devsec || !d->devsec->lock)
			rc = -ENXIO;
	}
	if (!rc && fn->driver[0])
		rc = -EBUSY;
	if (rc) {
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	fn->locking = true;
	pthread_mutex_unlock(&c->lock);

	/* 5. The op, under the DSM's mutex: the firmware locks over its session. */
	dsm = fn->dsm;
	if (dsm)
		pthread_mutex_lock(&dsm->lock);
	if (dsm == NULL || !tdi_dsm(fn, d)) {
		pcitsm_tsm_failure_set(&fail, PCITSM_TSM_STEP_TDI_LOCK, PCITSM_E_STATE,
				       "the DSM is not connected to %s's link TSM", d->name);
		fail.errno_val = ENOTCONN;
		e = PCITSM_E_STATE;
	} else {
		e = d->devsec->lock(d->ctx, dsm, dsm->drv, fn, &fail);
	}
	rc = e ? -(fail.errno_val ? fail.errno_val : pcitsm_err_errno(e)) : 0;
	pthread_mutex_lock(&c->lock);
	fn->locking = false;
	if (!rc) {
		tdi_forget(fn);
		fn->devsec = d;
		fn->tdi_state = PCITSM_TDISP_CONFIG_LOCKED;
	} else {
		record_failure(fn, &fail);
	}
	pthread_mutex_unlock(&c->lock);
	if (dsm)
		pthread_mutex_unlock(&dsm->lock);
	if (rc)
		pcitsm_info(c->env, "tsm: %s: lock failed: %s", fn->name, fail.why);
	return rc;
}

int pcitsm_tsm_unlock_write(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			    const char *buf, size_t len)
{
	struct tsm_fn *fn, *dsm;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	fn = devsec_fn(c, bdf, PCITSM_TSM_ATTR_UNLOCK);
	if (!fn) {
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	dsm = fn->dsm;
	pthread_mutex_unlock(&c->lock);
	/* The DSM's mutex first (lock order: dsm->lock, then core->lock). */
	if (dsm)
		pthread_mutex_lock(&dsm->lock);
	pthread_mutex_lock(&c->lock);
	if (!fn->devsec || fn->locking || !buf || !name_eq(buf, len, fn->devsec->name))
		rc = -EINVAL;
	else if (fn->driver[0])
		rc = -EBUSY;
	pthread_mutex_unlock(&c->lock);
	if (!rc) {
		if (dsm && tdi_dsm(fn, fn->devsec))
			tdi_release_locked(dsm, fn);
		else { /* the connection is gone: nothing to stop */
			pthread_mutex_lock(&c->lock);
			tdi_forget(fn);
			pthread_mutex_unlock(&c->lock);
		}
	}
	if (dsm)
		pthread_mutex_unlock(&dsm->lock);
	return rc;
}

int pcitsm_tsm_kstrtobool(const char *buf, size_t len, bool *v)
{
	if (!buf || !len)
		return -EINVAL;
	switch (buf[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*v = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*v = false;
		return 0;
	case 'o': case 'O':
		if (len < 2)
			return -EINVAL;
		if (buf[1] == 'n' || buf[1] == 'N') {
			*v = true;
			return 0;
		}
		if (buf[1] == 'f' || buf[1] == 'F') {
			*v = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

int pcitsm_tsm_accept_write(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
			    const char *buf, size_t len)
{
	struct pcitsm_tsm_failure fail = { .peer_status = -1 };
	uint8_t digest[PCITSM_TDISP_DIGEST_LEN];
	struct tsm_fn *fn, *dsm;
	struct tsm_dev *d;
	uint32_t gen;
	bool v = false, bound;
	pcitsm_err e;
	int rc;

	pthread_mutex_lock(&c->lock);
	fn = devsec_fn(c, bdf, PCITSM_TSM_ATTR_ACCEPT);
	if (!fn) {
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	/* 1. EINVAL unparsable or false; 2. EINVAL not locked; 3. EBUSY driver bound. */
	rc = pcitsm_tsm_kstrtobool(buf, len, &v);
	if (!rc && !v)
		rc = -EINVAL;
	if (!rc && (!fn->devsec || fn->locking))
		rc = -EINVAL;
	if (!rc && fn->driver[0] != 0)
		rc = -EBUSY;
	if (rc || fn->accepted) {
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	fn->locking = true;
	d = fn->devsec;
	bound = fn->ev_valid;
	memcpy(digest, fn->ev_digest, sizeof(digest));
	gen = fn->ev_generation;
	dsm = fn->dsm;
	pthread_mutex_unlock(&c->lock);

	/* 4. The op: bound to the evidence last read. */
	if (dsm)
		pthread_mutex_lock(&dsm->lock);
	if (!bound) {
		pcitsm_tsm_failure_set(&fail, PCITSM_TSM_STEP_TDI_ACCEPT, PCITSM_E_MISMATCH,
				       "no evidence read since the lock: nothing to accept");
		e = PCITSM_E_MISMATCH;
	} else if (!dsm || !tdi_dsm(fn, d)) {
		pcitsm_tsm_failure_set(&fail, PCITSM_TSM_STEP_TDI_ACCEPT, PCITSM_E_STATE,
				       "the DSM's link connection is gone");
		fail.errno_val = ENOTCONN;
		e = PCITSM_E_STATE;
	} else {
		e = d->devsec->accept(d->ctx, dsm, dsm->drv, fn, digest, gen, &fail);
	}
	pcitsm_wipe(digest, sizeof(digest));
	/* The evidence is stale (ESTALE), the TDI left CONFIG_LOCKED (EIO), no connection
	 * (ENOTCONN), or the firmware's failure. */
	if (!e)
		rc = 0;
	else if (fail.errno_val == ENOTCONN)
		rc = -ENOTCONN;
	else
		rc = e == PCITSM_E_MISMATCH ? -ESTALE : e == PCITSM_E_STATE ? -EIO :
		     -pcitsm_err_errno(e);
	pthread_mutex_lock(&c->lock);
	fn->locking = false;
	if (!rc) {
		fn->accepted = true;
		fn->tdi_state = PCITSM_TDISP_RUN;
	} else {
		record_failure(fn, &fail);
	}
	pthread_mutex_unlock(&c->lock);
	if (dsm)
		pthread_mutex_unlock(&dsm->lock);
	return rc;
}

pcitsm_err pcitsm_tsm_tdi_evidence_get(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				       struct pcitsm_tsm_tdi_evidence *ev)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf), *dsm;
	struct tsm_dev *d;
	pcitsm_err e;

	if (!ev)
		return PCITSM_E_INVAL;
	memset(ev, 0, sizeof(*ev));
	if (!fn)
		return PCITSM_E_NOTFOUND;
	dsm = fn->dsm;
	if (!dsm)
		return PCITSM_E_STATE;
	pthread_mutex_lock(&dsm->lock);
	pthread_mutex_lock(&c->lock);
	d = fn->locking ? NULL : fn->devsec;
	pthread_mutex_unlock(&c->lock);
	if (!d || !tdi_dsm(fn, d) || !d->devsec->evidence)
		e = PCITSM_E_STATE;
	else
		e = d->devsec->evidence(d->ctx, dsm, dsm->drv, fn, ev);
	pthread_mutex_lock(&c->lock);
	if (d && fn->devsec == d) {
		if (ev->state <= PCITSM_TDISP_ERROR && (e == PCITSM_OK || ev->state))
			fn->tdi_state = ev->state;
		/* The binding accept checks: the evidence as this read returned it. */
		fn->ev_valid = !e;
		memcpy(fn->ev_digest, ev->digest, sizeof(fn->ev_digest));
		fn->ev_generation = ev->generation;
	}
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&dsm->lock);
	return e;
}

pcitsm_err pcitsm_tsm_tdi_state_get(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				    int *state)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf), *dsm;
	struct tsm_dev *d = NULL;
	uint8_t st = 0;
	pcitsm_err e = PCITSM_E_STATE;

	if (!state)
		return PCITSM_E_INVAL;
	*state = -1;
	if (!fn)
		return PCITSM_E_NOTFOUND;
	dsm = fn->dsm;
	if (!dsm || !pcitsm_tsm_attr_exists(c, bdf, PCITSM_TSM_ATTR_LOCK))
		return PCITSM_E_STATE;
	pthread_mutex_lock(&dsm->lock);
	pthread_mutex_lock(&c->lock);
	/* The devsec TSM that shares the DSM's link connection: the one holding the lock, or any
	 * (the state of an unlocked TDI is the device's to say too). */
	if (!fn->locking) {
		d = fn->devsec;
		for (unsigned i = 0; !d && i < c->nr_devs; i++)
			if (c->devs[i]->devsec && tdi_dsm(fn, c->devs[i]))
				d = c->devs[i];
	}
	pthread_mutex_unlock(&c->lock);
	if (d && tdi_dsm(fn, d) && d->devsec->state)
		e = d->devsec->state(d->ctx, dsm, dsm->drv, fn, &st);
	pthread_mutex_lock(&c->lock);
	if (!e && st <= PCITSM_TDISP_ERROR) {
		fn->tdi_state = st;
		*state = st;
	} else if (!e) {
		e = PCITSM_E_FIELD;
	}
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&dsm->lock);
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Driver binding (the kernel's driver core and drivers/pci/pci-driver.c, as far as sysfs shows).
 */
static struct tsm_fn *fn_by_name(struct pcitsm_tsm_core *c, const char *buf, size_t len)
{
	for (unsigned i = 0; buf && i < c->nr_fns; i++)
		if (name_eq(buf, len, c->fns[i].name))
			return &c->fns[i];
	return NULL;
}

int pcitsm_tsm_driver_bind(struct pcitsm_tsm_core *c, const char *drv, const char *buf, size_t len)
{
	struct tsm_fn *fn;
	int rc = -ENODEV;

	if (!drv || strcmp(drv, PCITSM_TSM_DRIVER))
		return -ENODEV;
	pthread_mutex_lock(&c->lock);
	fn = fn_by_name(c, buf, len);
	/* pci_match_device: driver_override, when set, is the only driver that matches. */
	if (fn && fn->is_endpoint &&
	    (!fn->driver_override || !strcmp(fn->driver_override, drv))) {
		if (fn->driver[0]) {
			rc = -EBUSY;
		} else if (fn->locking) {
			rc = -EBUSY; /* the device lock is held by a TSM operation */
		} else {
			snprintf(fn->driver, sizeof(fn->driver), "%s", drv);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int pcitsm_tsm_driver_unbind(struct pcitsm_tsm_core *c, const char *drv, const char *buf,
			     size_t len)
{
	struct tsm_fn *fn;
	int rc = -ENODEV;

	if (!drv)
		return -ENODEV;
	pthread_mutex_lock(&c->lock);
	fn = fn_by_name(c, buf, len);
	if (fn && fn->driver[0] && !strcmp(fn->driver, drv)) {
		fn->driver[0] = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int pcitsm_tsm_driver_override_read(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				    char *buf, size_t cap)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	char tmp[4096 + 2];

	if (!fn)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	snprintf(tmp, sizeof(tmp), "%s\n", fn->driver_override ? fn->driver_override : "(null)");
	pthread_mutex_unlock(&c->lock);
	return put_str(buf, cap, tmp);
}

int pcitsm_tsm_driver_override_write(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf,
				     const char *buf, size_t len)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	const char *nul;
	char *v = NULL;

	if (!fn)
		return -ENOENT;
	/* driver_set_override (drivers/base/driver.c): the bytes up to a NUL, at most a page less
	 * one; one trailing newline stripped; empty clears. */
	if (!buf)
		return -EINVAL;
	nul = memchr(buf, 0, len);
	if (nul)
		len = (size_t)(nul - buf);
	if (len >= 4096 - 1)
		return -EINVAL;
	if (len && buf[len - 1] == '\n')
		len--;
	if (len) {
		v = malloc(len + 1);
		if (!v)
			return -ENOMEM;
		memcpy(v, buf, len);
		v[len] = 0;
	}
	pthread_mutex_lock(&c->lock);
	free(fn->driver_override);
	fn->driver_override = v;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int pcitsm_tsm_driver_of(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf, char *buf,
			 size_t cap)
{
	struct tsm_fn *fn = tsm_fn_find(c, bdf);
	int rc;

	if (!fn)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	rc = put_str(buf, cap, fn->driver);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
