/* SPDX-License-Identifier: MIT */
/*
 * lib/tsm internals, the host's side: the kernel-side objects (functions, ports, host bridges,
 * streams, TSM class devices), the IDE stream library (stream.c, after drivers/pci/ide.c) and the
 * link-TSM ops a backend implements (sevtio.c is one). The platform comes in as ops
 * (include/pcitsm/platform.h); the platform firmware is reached only through include/pcitsm/tio.h.
 */
#ifndef PCITSM_TSM_PRIV_H
#define PCITSM_TSM_PRIV_H

#include <pthread.h>

#include "pcitsm/tsm.h"

struct tsm_fn;
struct pcitsm_tsm_core;

/* ---------------------------------------------------------------------------------------------
 * Pools (Linux drivers/pci/ide.c): a fixed bitmap allocator, lowest free first.
 */
struct tsm_ida {
	unsigned size;
	unsigned used;
	uint8_t bits[PCITSM_TSM_HB_STREAMS_MAX / 8];
};
void tsm_ida_init(struct tsm_ida *a, unsigned size);
/* Lowest free index: E_EXHAUSTED when none. */
pcitsm_err tsm_ida_alloc(struct tsm_ida *a, unsigned *out) PCITSM_MUST_CHECK;
/* Claim a given index: E_BUSY if taken, E_RANGE past the size. */
pcitsm_err tsm_ida_claim(struct tsm_ida *a, unsigned i) PCITSM_MUST_CHECK;
void tsm_ida_free(struct tsm_ida *a, unsigned i);
bool tsm_ida_test(const struct tsm_ida *a, unsigned i);

/* ---------------------------------------------------------------------------------------------
 * Objects.
 */
struct tsm_hb {
	char name[PCITSM_TSM_NAME_MAX];
	uint16_t segment;
	uint8_t bus;
	struct tsm_ida h;   /* ide_stream_ida: H slots */
	struct tsm_ida ids; /* ide_stream_ids_ida: Stream IDs; 255 pre-reserved */
	struct tsm_stream *by_h[PCITSM_TSM_HB_STREAMS_MAX];
};

/* A port that implements IDE (root port or endpoint): its capability and its block pool. */
struct tsm_port {
	bool ide;           /* usable IDE with selective streams */
	uint16_t ide_off;
	unsigned nr_sel;    /* blocks usable (same nr_addr as block 0) */
	unsigned nr_addr;
	bool sel_cfg, tee_limited;
	uint16_t sel_off[PCITSM_IDE_MAX_SEL];
	struct tsm_ida blocks; /* R / E indices */
};

struct tsm_stream {
	struct tsm_hb *hb;
	struct tsm_fn *rp, *ep;
	unsigned h, r, e;
	int stream_id;      /* -1 until the TSM sets it */
	bool registered, setup_rp, setup_ep, enabled_rp, enabled_ep, adopted;
};

struct tsm_dev;
struct tsm_fn {
	struct pcitsm_tsm_core *core;
	unsigned idx;       /* the platform's function index */
	uint16_t ide_off;   /* the IDE capability, as enumeration found it (0: none) */
	struct pcitsm_cfg *cfg;
	struct pcitsm_bdf bdf;
	char name[13];
	bool is_endpoint, is_root_port;
	bool dsm_capable;   /* is_pci_tsm_pf0 + CMA mailbox: tsm/connect exists */
	bool tee_io;
	bool doe_cma;       /* a DOE mailbox with CMA, found at enumeration (pci_doe_init) */
	struct pcitsm_doe_host doe; /* ... and its host driver, cached like Linux's mailboxes */
	struct tsm_fn *rp;  /* endpoint: its root port */
	struct tsm_fn *dsm; /* find_dsm_dev: itself, or function 0 of the slot (NULL: none) */
	bool managed;       /* under core->lock: a dependent context while its DSM is connected */
	struct tsm_port port;
	pthread_mutex_t lock; /* the DSM mutex: one operation on this device at a time */
	/* Under core->lock. */
	struct tsm_dev *tsm;  /* pdev->tsm: the TSM this function is connected to */
	bool busy;            /* a connect is running */
	/* Under lock. */
	void *drv;            /* the backend's per-device context */
	struct tsm_stream *stream;
	uint8_t key_set;
	uint64_t rekeys, connects, disconnects, failures, last_connect_ns;
	uint64_t step_ns[PCITSM_TSM_STEP_DONE + 1];
	bool have_step_ns;
	struct pcitsm_tsm_failure last_failure;
	/* TDISP [proposal], under core->lock (the op itself runs under the DSM's lock). */
	struct tsm_dev *devsec;  /* the devsec TSM holding the lock */
	bool locking;            /* a lock, accept or unlock is running */
	bool accepted;
	int tdi_state;           /* as the device last answered, -1: not known */
	bool ev_valid;           /* evidence read since the lock: accept binds to it */
	uint8_t ev_digest[PCITSM_TDISP_DIGEST_LEN];
	uint32_t ev_generation;
	/* Driver binding (kernel driver core), under core->lock. */
	char driver[PCITSM_TSM_NAME_MAX];
	char *driver_override;   /* NULL: none */
};

/* The link-TSM ops (Linux drivers/pci/tsm.c link_ops), with the operations beyond 6.19. Return
 * pcitsm_err; a connect failure fills *fail (step, error, errno, peer status). */
struct tsm_link_ops {
	/* NULL drv with OK means "probe refused" (ENXIO). */
	pcitsm_err (*probe)(void *ctx, struct tsm_fn *fn, void **drv);
	void (*remove)(void *ctx, struct tsm_fn *fn, void *drv);
	pcitsm_err (*connect)(void *ctx, struct tsm_fn *fn, void *drv, struct pcitsm_tsm_failure *fail);
	void (*disconnect)(void *ctx, struct tsm_fn *fn, void *drv);
	pcitsm_err (*rekey)(void *ctx, struct tsm_fn *fn, void *drv);
	/* The TSM's key lifetime policy applied now (docs/tsm.md "Key lifetime"); optional. */
	pcitsm_err (*key_check)(void *ctx, struct tsm_fn *fn, void *drv, bool *refreshed);
	/* The TSM's key lifetime policy: set (when set is not NULL), then read into get. */
	pcitsm_err (*key_policy)(void *ctx, const struct pcitsm_tsm_key_policy *set,
				 struct pcitsm_tsm_key_policy *get);
	/* Status and evidence of a connected device. */
	void (*status)(void *ctx, struct tsm_fn *fn, void *drv, struct pcitsm_tsm_status *st);
	pcitsm_err (*evidence)(void *ctx, struct tsm_fn *fn, void *drv,
			       struct pcitsm_tsm_evidence *ev);
	/* The evidence made again with the caller's nonce (optional). */
	pcitsm_err (*evidence_refresh)(void *ctx, struct tsm_fn *fn, void *drv,
				       const uint8_t nonce[PCITSM_TSM_NONCE_LEN]);
	unsigned (*sessions_open)(void *ctx);
};
/* The devsec-TSM ops [proposal] (drivers/pci/tsm/core.c devsec ops): dsm is the TDI's DSM (its
 * PF0), holding the link connection whose per-device context is drv; fn the TDI. Called with
 * dsm->lock held. A failure fills *fail. */
struct tsm_devsec_ops {
	pcitsm_err (*lock)(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
			   struct pcitsm_tsm_failure *fail);
	void (*unlock)(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn);
	pcitsm_err (*evidence)(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
			       struct pcitsm_tsm_tdi_evidence *ev);
	pcitsm_err (*accept)(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
			     const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], uint32_t generation,
			     struct pcitsm_tsm_failure *fail);
	/* Optional: the TDI's state as the device answers now, locked or not. */
	pcitsm_err (*state)(void *ctx, struct tsm_fn *dsm, void *drv, struct tsm_fn *fn,
			    uint8_t *state);
};

/* A backend (include/pcitsm/tsm.h: handed to the core in pcitsm_tsm_core_cfg.backend): its init
 * makes the driver's context from the configured argument, the core registers it as tsmN with
 * its link ops, and fini frees the context when the core is freed. */
struct pcitsm_tsm_backend {
	const char *name;
	pcitsm_err (*init)(struct pcitsm_tsm_core *c, void *arg, void **ctx);
	void (*fini)(void *ctx);
	const struct tsm_link_ops *link;
	/* Optional: the same backend as a devsec TSM (registered next, tsm1), sharing ctx. */
	const struct tsm_devsec_ops *devsec;
};

struct tsm_dev {
	unsigned id;
	char name[PCITSM_TSM_NAME_MAX];
	const struct tsm_link_ops *link;
	const struct tsm_devsec_ops *devsec;
	void *ctx;
	void (*free_ctx)(void *ctx);
};

struct pcitsm_tsm_core {
	struct pcitsm_tsm_core_cfg cfg;
	struct pcitsm_platform plat; /* the host's grant (cfg.plat) */
	const struct pcitsm_env *env;
	pthread_mutex_t lock; /* device list, pdev->tsm, pools */
	struct tsm_fn *fns;
	unsigned nr_fns;
	struct tsm_hb hb;     /* one host bridge per platform (platform ops host_bridge) */
	struct tsm_dev *devs[PCITSM_TSM_MAX_DEVS];
	unsigned nr_devs;
	bool link_tsm;        /* a link TSM registered: tsm/ dirs exist */
	uint64_t connects, failed_connects, disconnects, rekeys;
};

struct tsm_fn *tsm_fn_find(struct pcitsm_tsm_core *c, const struct pcitsm_bdf *bdf);
/* Register a TSM (tsm_register + pci_tsm_register): exactly one of link / devsec, else E_INVAL. */
pcitsm_err tsm_dev_register(struct pcitsm_tsm_core *c, const struct tsm_link_ops *link,
			    const struct tsm_devsec_ops *devsec, void *ctx, void (*free_ctx)(void *),
			    unsigned *id) PCITSM_MUST_CHECK;
/* The platform's memory path of an endpoint's link (traffic.c) and its flush after a key refresh
 * (PCIe 6.x §6.33: receivers switch key set at the first TLP that carries the new one). */
pcitsm_err tsm_fn_link_flush(struct tsm_fn *fn) PCITSM_MUST_CHECK;
/* The TSM's key lifetime check of a connected fn, fn->lock held: a refresh it made counts as a
 * rekey. OK (nothing done) when fn is not connected or the TSM has no such check. */
pcitsm_err tsm_fn_key_check(struct tsm_fn *fn, bool *refreshed) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * IDE stream library (stream.c), after drivers/pci/ide.c. All called with the endpoint's DSM
 * mutex held; pool operations take core->lock themselves.
 */
/* Probe a port's IDE capability at start (pci_ide_init) and adopt enabled streams. */
void tsm_port_init(struct tsm_fn *fn);
pcitsm_err tsm_adopt_streams(struct pcitsm_tsm_core *c) PCITSM_MUST_CHECK;
/* pci_ide_stream_alloc: H, R, E reserved; E_EXHAUSTED when a pool is empty. */
pcitsm_err tsm_stream_alloc(struct tsm_fn *ep, struct tsm_stream **out) PCITSM_MUST_CHECK;
/* pci_ide_stream_register: reserve the Stream ID in the host bridge (E_BUSY if taken). */
pcitsm_err tsm_stream_register(struct tsm_stream *s, uint8_t stream_id) PCITSM_MUST_CHECK;
/* pci_ide_stream_setup for one partner: RID and address association, Control with EN=0 and the
 * Stream ID. default_stream / cfg_en / tee_limited as the backend forces them. */
struct tsm_setup_opts {
	bool default_stream, cfg_en, tee_limited;
	uint16_t rid_base, rid_limit;
	bool mem_assoc;   /* program the endpoint's memory window (root port side) */
};
pcitsm_err tsm_stream_setup(struct tsm_stream *s, struct tsm_fn *port, unsigned idx,
			    const struct tsm_setup_opts *o) PCITSM_MUST_CHECK;
/* pci_ide_stream_enable: EN=1, then Status must read Secure, else EN cleared and E_IO (ENXIO in
 * the kernel; the SEV-TIO driver ignores it, this core does not). */
pcitsm_err tsm_stream_enable(struct tsm_stream *s, struct tsm_fn *port, unsigned idx)
	PCITSM_MUST_CHECK;
void tsm_stream_disable(struct tsm_stream *s, struct tsm_fn *port, unsigned idx);
/* Everything in reverse, as far as setup got (pci_ide_stream_release). */
void tsm_stream_release(struct tsm_stream *s);
/* Read one end's Selective block registers. */
void tsm_port_status(struct tsm_fn *port, unsigned idx, struct pcitsm_tsm_port_status *st);

#endif /* PCITSM_TSM_PRIV_H */
