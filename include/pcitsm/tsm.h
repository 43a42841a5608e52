/* SPDX-License-Identifier: MIT */
/*
 * The PCI/TSM core: what Linux 6.19's drivers/pci/tsm.c, drivers/pci/ide.c and
 * drivers/virt/coco/tsm-core.c do, in user space, over a platform handed to it as ops
 * (include/pcitsm/platform.h; lib/emu provides one). It holds the TSM class devices (tsmN), the
 * per-function TSM contexts, the IDE stream pools of each host bridge and port, and the sysfs
 * semantics of tsm/connect, tsm/disconnect, tsm/dsm, tsm/bound, authenticated and
 * available_secure_streams, with the kernel's errno values. pcitsmd mirrors it through FUSE; the
 * CLI's connect/disconnect/status/rekey/traffic commands drive it.
 *
 * The backend is handed to the core in its configuration (pcitsm_tsm_core_cfg.backend). One exists:
 * the host driver of a platform-firmware TSM modelling AMD SEV-TIO (pcitsm_tsm_sevtio), which
 * only relays DOE objects and writes the selective-stream registers with Enable clear, then sets
 * Enable. The firmware (lib/tsmfw, reached through include/pcitsm/tio.h) is the SPDM requester,
 * makes every IDE key and installs the root-port keys through the platform's private path. No key
 * byte ever reaches host memory. The three trust domains: docs/tsm.md.
 *
 * Thread safety: every function here may be called from any thread. Operations on one function
 * (its DSM) are serialised by that DSM's mutex; different devices connect in parallel. Pools and
 * the device list have their own lock.
 */
#ifndef PCITSM_TSM_H
#define PCITSM_TSM_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/doe.h"
#include "pcitsm/pci.h"
#include "pcitsm/platform.h"
#include "pcitsm/tdisp.h"

struct pcitsm_tsm_core;

#define PCITSM_TSM_MAX_DEVS 8     /* tsm0 .. tsm7 */
#define PCITSM_TSM_NAME_MAX 16    /* "tsm7", "pci0000:00", "stream255.7.7" fit */
#define PCITSM_TSM_HB_STREAMS_MAX 256

/* ---------------------------------------------------------------------------------------------
 * Configuration.
 */
/* A link-TSM driver (a backend). Its type is lib/tsm's own (tsm_priv.h): a second backend is a
 * new file there, handed to the core through this configuration. */
struct pcitsm_tsm_backend;
/* The host driver of the platform-firmware TSM (AMD SEV-TIO model, lib/tsm/sevtio.c). Its
 * backend_arg is the firmware: a struct pcitsm_tio_fw * (include/pcitsm/tio.h), not owned, which
 * must outlive the core. */
extern const struct pcitsm_tsm_backend pcitsm_tsm_sevtio;

struct pcitsm_tsm_core_cfg {
	/* The host's grant of the platform (not owned; its ctx must outlive the core). */
	struct pcitsm_platform plat;
	const struct pcitsm_env *env;
	/* Registered as tsm0 (required), with its argument. */
	const struct pcitsm_tsm_backend *backend;
	void *backend_arg;
	/* Host-bridge stream pool size (H slots): negative takes the platform's nr_streams (the Linux
	 * default 256); 0 is legal and makes available_secure_streams ENXIO and every connect that
	 * needs a stream fail. At most 256. */
	int nr_streams;
	/* Observer of every DOE object the host relays between firmware and device (a pcap capture,
	 * or a test that searches them for key bytes). Optional; not owned. */
	struct pcitsm_xport_tap *relay_tap;
};
/* nr_streams -1, everything else empty: the caller sets plat, backend and backend_arg. */
void pcitsm_tsm_core_cfg_default(struct pcitsm_tsm_core_cfg *cfg, const struct pcitsm_env *env);

/* Build the core over cfg->plat: probes every function (DSM-capable PF0s, their IDE capabilities
 * and DOE mailboxes), adopts selective streams found enabled (claims their Stream IDs and block
 * indices; a conflicting claim leaves IDE off for that device, as Linux does), reserves Stream ID
 * 255 in every host bridge, and registers cfg->backend as tsm0. E_INVAL without a platform, an
 * env or a backend. */
pcitsm_err pcitsm_tsm_core_new(struct pcitsm_tsm_core **core, const struct pcitsm_tsm_core_cfg *cfg)
	PCITSM_MUST_CHECK;
/* Disconnect every connected device (uninterruptible, reverse order), unregister the TSMs, free. */
void pcitsm_tsm_core_free(struct pcitsm_tsm_core *core);

/* ---------------------------------------------------------------------------------------------
 * sysfs: per-function attributes (Linux Documentation/ABI/testing/sysfs-bus-pci). All int-returning
 * calls return 0 or a byte count on success and a negative errno on failure, exactly as the
 * kernel's store/show would.
 */
enum pcitsm_tsm_attr {
	PCITSM_TSM_ATTR_DIR = 0,       /* <BDF>/tsm/ */
	PCITSM_TSM_ATTR_CONNECT,       /* <BDF>/tsm/connect        0644, PF0 (DSM) only */
	PCITSM_TSM_ATTR_DISCONNECT,    /* <BDF>/tsm/disconnect     0200, PF0 (DSM) only */
	PCITSM_TSM_ATTR_DSM,           /* <BDF>/tsm/dsm            0444 */
	PCITSM_TSM_ATTR_BOUND,         /* <BDF>/tsm/bound          0444, TDISP-capable devices only */
	PCITSM_TSM_ATTR_AUTHENTICATED, /* <BDF>/authenticated      0444 */
	/* TDISP, the devsec ABI [proposal] (docs/pcitsmd.md "Proposal: TDISP"): on every function
	 * with DEVCAP TEE while a devsec TSM is registered. */
	PCITSM_TSM_ATTR_LOCK,          /* <BDF>/tsm/lock           0644 */
	PCITSM_TSM_ATTR_UNLOCK,        /* <BDF>/tsm/unlock         0200 */
	PCITSM_TSM_ATTR_ACCEPT,        /* <BDF>/tsm/accept         0644 */
	PCITSM_TSM_NR_ATTRS
};
/* "tsm", "connect", "disconnect", "dsm", "bound", "authenticated", "lock", "unlock", "accept". */
const char *pcitsm_tsm_attr_name(enum pcitsm_tsm_attr a);
/* The file mode bits (0644, 0200, 0444; 0755 for the directory). */
unsigned pcitsm_tsm_attr_mode(enum pcitsm_tsm_attr a);
/* Whether the attribute exists on the function right now. Rules: nothing exists before a link TSM
 * registers; tsm/ exists on DSM-capable PF0s (PCIe endpoint / upstream port, function 0, IDE with
 * selective streams or DEVCAP TEE, a DOE mailbox with CMA) and on functions that have a TSM
 * context; connect and disconnect only on those PF0s; dsm on PF0s and on managed functions (the
 * other functions of the DSM's slot while a DSM with DEVCAP TEE is connected); bound on PF0s with
 * DEVCAP TEE; authenticated on DSM-capable PF0s; lock, unlock and accept (and tsm/ itself) on every
 * function with DEVCAP TEE once a devsec TSM is registered. */
bool pcitsm_tsm_attr_exists(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			    enum pcitsm_tsm_attr a);
/* Read an attribute into buf (NUL-terminated if it fits), returning its length (not counting the
 * NUL) or -errno: -ENOENT if it does not exist, -EACCES for disconnect (write-only), -ENOSPC if
 * buf is too small. Contents: connect and authenticated "tsmN\n" while connected, else "\n"; dsm
 * the DSM's name "0000:01:00.0\n" while connected (on a managed function: its DSM's), else "\n";
 * bound "tsmN\n" while a TDI of this DSM (itself or a function it manages) is accepted, else
 * "\n"; lock the devsec TSM holding the lock "tsm1\n", else "\n"; accept "1\n" once accepted,
 * else "0\n"; unlock -EACCES (write-only). */
int pcitsm_tsm_attr_read(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			 enum pcitsm_tsm_attr a, char *buf, size_t cap);

/* Write buf (len bytes, not necessarily NUL-terminated; a trailing newline is accepted) to
 * tsm/connect. Parsed as the kernel's sscanf(buf, "tsm%d\n") parses it (lib/vsprintf.c: up to
 * the first NUL, "tsm" at the start, white space, an optional '-', digits; the rest ignored; no
 * '+'), at any length (the mirror, like kernfs, hands over at most 4096 bytes). Returns 0 or:
 *   -ENOENT  no tsm/connect on this function;
 *   -EINVAL  not "tsm<N>";
 *   -EBUSY   the function already has a TSM context (connected, or a connect is in progress);
 *   -ENXIO   no TSM N, TSM N is not a link TSM, or its probe refused the device;
 *   driver errors, passed through as the SEV-TIO driver returns them: -EFAULT when the CMA mailbox
 *   lacks secured CMA; pcitsm_err_errno() of the failure otherwise (-EACCES for an untrusted
 *   chain or a bad signature, -ENOSPC when a stream pool is exhausted, -EIO for a refused
 *   KEY_PROG or a stream that did not reach Secure, -ETIMEDOUT, -ENOMEM...).
 * Any failure unwinds in reverse: no selective stream left enabled, no Stream ID or pool slot held,
 * session ended, and the step that failed recorded (pcitsm_tsm_status().last_failure). */
int pcitsm_tsm_connect_write(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			     const char *buf, size_t len);
/* Write to tsm/disconnect: the exact name given to connect ("tsm0", one trailing newline allowed).
 * Returns 0, -ENOENT (no attribute), -ENXIO (not connected), -EINVAL (name mismatch). Tears down: K_SET_STOP, Enable cleared (root
 * port then endpoint), registers cleared, END_SESSION, Stream ID and pool slots released. */
int pcitsm_tsm_disconnect_write(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				const char *buf, size_t len);

/* ---------------------------------------------------------------------------------------------
 * TDISP through a devsec TSM [proposal] (PCIe 6.x §11; docs/pcitsmd.md "Proposal: TDISP"). The
 * checks run in the order of the staging tree's drivers/pci/tsm/core.c; each returns 0 or -errno.
 * The TDI's DSM (its PF0) must be connected to the link TSM of the same backend: the firmware locks
 * over the session and the IDE stream of that connection.
 */
/* tsm/lock: "tsm%d" parsed as connect's. -ENOENT no attribute; -EINVAL format; -EBUSY already
 * locked (or a lock in progress); -ENXIO no such TSM or not a devsec TSM; -EBUSY a driver is
 * bound; then the op's: -ENOTCONN the DSM has no link connection of this backend, else
 * pcitsm_err_errno of the firmware's failure (pcitsm_tsm_status().last_failure says why). */
int pcitsm_tsm_lock_write(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			  const char *buf, size_t len);
/* tsm/unlock: the exact name holding the lock (one trailing newline allowed). -ENOENT; -EINVAL
 * not locked or another name; -EBUSY a driver is bound. The device is rejected (accepted cleared,
 * the evidence binding dropped) before the op (STOP_INTERFACE_REQUEST, best effort). */
int pcitsm_tsm_unlock_write(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			    const char *buf, size_t len);
/* kstrtobool (Linux lib/kstrtox.c), as every boolean sysfs store parses its input: the first one
 * or two bytes decide (y/Y/t/T/1, n/N/f/F/0, on, off). 0, or -EINVAL. */
int pcitsm_tsm_kstrtobool(const char *buf, size_t len, bool *v);
/* tsm/accept: kstrtobool (lib/kstrtox.c: y/Y/t/T/1, n/N/f/F/0, on, off at the start). -ENOENT;
 * -EINVAL unparsable or false (no unaccept); -EINVAL not locked; -EBUSY a driver is bound; then
 * the op's, which binds to the last evidence read through pcitsm_tsm_tdi_evidence_get on this
 * function since the lock: -ESTALE none read, or the report changed since (digest or generation
 * differ); -EIO the TDI left CONFIG_LOCKED; pcitsm_err_errno of another failure. 0 (nothing sent)
 * when already accepted. */
int pcitsm_tsm_accept_write(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			    const char *buf, size_t len);

/* A locked TDI's evidence (the netlink evidence-read's report type, docs/pcitsmd.md): the report
 * read again from the device, its SHA-384 digest, and the generation counter (LOCKs and report
 * changes seen). Reading it binds the next accept of this function to it. */
struct pcitsm_tsm_tdi_evidence {
	uint8_t report[PCITSM_TDISP_REPORT_MAX];
	size_t report_len;
	uint8_t digest[PCITSM_TDISP_DIGEST_LEN];
	uint32_t generation;
	uint8_t state; /* enum pcitsm_tdisp_state as the device answered */
};
/* E_STATE unless locked; E_NOTFOUND unknown function; the firmware's error otherwise. */
pcitsm_err pcitsm_tsm_tdi_evidence_get(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				       struct pcitsm_tsm_tdi_evidence *ev) PCITSM_MUST_CHECK;
/* The TDI's state now, asked of the device (GET_DEVICE_INTERFACE_STATE over its DSM's session,
 * through the devsec TSM's firmware), locked or not: what `status` shows, so that an event the
 * device saw (a locked-configuration write, an FLR, the session's end) shows at once. E_STATE when
 * the function is no TDI or its DSM has no connection to ask over (the last state known stays in
 * pcitsm_tsm_status().tdi_state); E_NOTFOUND unknown function; the firmware's error otherwise. */
pcitsm_err pcitsm_tsm_tdi_state_get(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				    int *state) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Driver binding, as the kernel's own files model it (Documentation/ABI/testing/sysfs-bus-pci):
 * /sys/bus/pci/drivers/<drv>/{bind,unbind} and <BDF>/driver_override. One driver exists,
 * PCITSM_TSM_DRIVER, matching every endpoint function; nothing is bound at start. A bound driver
 * makes lock, unlock and accept EBUSY.
 */
#define PCITSM_TSM_DRIVER "pcitsm-ep"
/* bind: buf the device name "0000:01:00.0" (one trailing newline allowed). -ENODEV: no such
 * driver or device, the driver does not match it (not an endpoint, or driver_override names
 * another driver); -EBUSY: a driver is already bound. */
int pcitsm_tsm_driver_bind(struct pcitsm_tsm_core *core, const char *drv, const char *buf,
			   size_t len);
/* unbind: -ENODEV unless that device is bound to drv. */
int pcitsm_tsm_driver_unbind(struct pcitsm_tsm_core *core, const char *drv, const char *buf,
			     size_t len);
/* driver_override: read "name\n" or "(null)\n"; write a name (one trailing newline stripped;
 * empty clears; -EINVAL at 4095 bytes or more). -ENOENT unknown function. */
int pcitsm_tsm_driver_override_read(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				    char *buf, size_t cap);
int pcitsm_tsm_driver_override_write(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				     const char *buf, size_t len);
/* The bound driver's name into buf ("" when none); -ENOENT unknown function. */
int pcitsm_tsm_driver_of(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf, char *buf,
			 size_t cap);

/* The functions the core knows, in bus order (for directory listings). Returns the count; fills
 * up to max. */
size_t pcitsm_tsm_functions(struct pcitsm_tsm_core *core, struct pcitsm_bdf *out, size_t max);

/* ---------------------------------------------------------------------------------------------
 * sysfs: /sys/class/tsm/tsmN.
 */
/* Number of registered TSM class devices, and the name of the i-th ("tsm0"). */
unsigned pcitsm_tsm_nr_devices(struct pcitsm_tsm_core *core);
pcitsm_err pcitsm_tsm_device_name(struct pcitsm_tsm_core *core, unsigned i,
				  char name[PCITSM_TSM_NAME_MAX]) PCITSM_MUST_CHECK;
/* The uevent file's content ("" in 6.19: only KOBJ_CHANGE was emitted, at registration). */
/* /sys/class/tsm/tsmN/pci_mode [proposal]: "link" (authenticate, session, IDE) or "devsec"
 * (UNLOCKED -> LOCKED -> RUN); NULL for no such TSM. A backend with TDISP registers both: tsm0
 * link, tsm1 devsec, over the same firmware. */
const char *pcitsm_tsm_pci_mode(struct pcitsm_tsm_core *core, unsigned i);

/* ---------------------------------------------------------------------------------------------
 * sysfs: host bridges /sys/devices/pciDDDD:BB/{available_secure_streams, streamH.R.E}.
 */
struct pcitsm_tsm_hb_info {
	char name[PCITSM_TSM_NAME_MAX]; /* "pci0000:00" */
	uint16_t segment;
	uint8_t bus;
	unsigned nr_streams;            /* pool size (H slots) */
	unsigned h_in_use;              /* H slots held (connected + adopted) */
	unsigned ids_in_use;            /* Stream IDs held, not counting the reserved 255 */
};
unsigned pcitsm_tsm_nr_host_bridges(struct pcitsm_tsm_core *core);
pcitsm_err pcitsm_tsm_host_bridge(struct pcitsm_tsm_core *core, unsigned i,
				  struct pcitsm_tsm_hb_info *info) PCITSM_MUST_CHECK;
/* Whether host bridge hb has the available_secure_streams attribute: not while its pool size is 0
 * (the kernel's pci_ide_attr_visible hides it then; drivers/pci/ide.c). */
bool pcitsm_tsm_available_streams_visible(struct pcitsm_tsm_core *core, unsigned hb);
/* available_secure_streams of host bridge i: "N\n" (pool size minus H slots in use), its length,
 * or -ENXIO when the pool size is 0, -ENOENT for no such bridge, -ENOSPC for a small buf. */
int pcitsm_tsm_available_streams_read(struct pcitsm_tsm_core *core, unsigned hb, char *buf,
				      size_t cap);

/* One registered stream: the streamH.R.E symlink of its host bridge, pointing at the endpoint. */
struct pcitsm_tsm_stream_info {
	char name[PCITSM_TSM_NAME_MAX]; /* "stream0.0.0" */
	unsigned h, r, e;               /* host-bridge slot, RP and EP selective block indices */
	uint8_t stream_id;
	struct pcitsm_bdf rp, ep;       /* the link target is the endpoint */
	bool adopted;                   /* found enabled at start, not set up by this core */
};
/* The streams registered on host bridge hb, in H order. Returns the count; fills up to max. */
size_t pcitsm_tsm_streams(struct pcitsm_tsm_core *core, unsigned hb,
			  struct pcitsm_tsm_stream_info *out, size_t max);

/* ---------------------------------------------------------------------------------------------
 * Status (`pcitsm status`).
 */
/* The connect steps, in order; a failure names the step it happened in. */
#define PCITSM_TSM_STEPS(X)                                             \
	X(NONE, "none")                                                 \
	X(PROBE, "probe")                 /* DSM found, TSM context made */ \
	X(DOE, "doe")                     /* CMA + secured CMA mailbox */  \
	X(DEV_CREATE, "dev_create")       /* firmware device context */    \
	X(SPDM_AUTH, "spdm_auth")         /* VCA, chain, CHALLENGE */       \
	X(MEASUREMENTS, "measurements")   /* signed GET_MEASUREMENTS */     \
	X(SESSION, "session")             /* KEY_EXCHANGE, FINISH */        \
	X(STREAM_ALLOC, "stream_alloc")   /* H, R, E, Stream ID */          \
	X(STREAM_SETUP, "stream_setup")   /* registers, Enable clear */     \
	X(IDE_QUERY, "ide_query")         /* IDE_KM QUERY cross-check */    \
	X(KEY_PROG, "key_prog")           /* 6 keys at EP and RP */         \
	X(K_SET_GO, "k_set_go")           /* receivers, then transmitters */ \
	X(ENABLE, "enable")               /* EP then RP, Secure at both */  \
	X(DONE, "done")                                                 \
	X(TDI_LOCK, "tdi_lock")           /* TDISP: lock, report */          \
	X(TDI_ACCEPT, "tdi_accept")       /* TDISP: evidence bound, start */

enum pcitsm_tsm_step {
#define PCITSM_TSM_STEP_ENUM(n, s) PCITSM_TSM_STEP_##n,
	PCITSM_TSM_STEPS(PCITSM_TSM_STEP_ENUM)
#undef PCITSM_TSM_STEP_ENUM
};
const char *pcitsm_tsm_step_name(enum pcitsm_tsm_step s); /* "key_prog" */

/* How a connect failed: what the backend (and, through it, the firmware) hands back to the core.
 * Whoever fails fills it; nothing else crosses. */
struct pcitsm_tsm_failure {
	enum pcitsm_tsm_step step; /* NONE: no failure recorded */
	pcitsm_err err;
	int errno_val;             /* what the connect write returned (positive) */
	uint8_t peer_error;        /* SPDM ERROR code, 0 if none */
	uint8_t peer_error_data;
	int peer_status;           /* IDE_KM KP_ACK status, -1 if none */
	char why[256];
};
/* Record a failure: step, error, a sentence (printf format); errno_val becomes
 * pcitsm_err_errno(e) unless already set. */
void pcitsm_tsm_failure_set(struct pcitsm_tsm_failure *f, enum pcitsm_tsm_step step, pcitsm_err e,
			    const char *fmt, ...) PCITSM_PRINTF(4, 5);

/* One end of the stream, read from its config space. */
struct pcitsm_tsm_port_status {
	struct pcitsm_bdf bdf;
	bool has_ide;
	unsigned sel_index;        /* R or E */
	uint32_t ctl, sts;         /* Selective Stream Control / Status raw values */
	bool enabled;
	uint8_t state;             /* Status bits 3:0: 0 Insecure, 2 Secure */
	uint8_t stream_id;         /* from Control */
};

/* Key lifetime (ours: Linux 6.19 has no key refresh; docs/tsm.md "Key lifetime"). The platform
 * firmware owns the policy and applies it (include/pcitsm/tio.h TIO_SET_KEY_POLICY,
 * TIO_DEV_KEY_CHECK); the host asks it to check before every traffic operation and relays. A key
 * set is refreshed when one of its six keys has protected max_tlps TLPs (its IV invocation counter,
 * PCIe 6.x §6.33, minus the IFV of 1) or when it has been in use max_age_ns. 0 turns a limit off;
 * both 0 turn automatic refresh off (the engine then refuses traffic at the counter's last value).
 * While refresh is on, max_tlps 0 means the cap. */
#define PCITSM_TSM_KEY_MAX_TLPS_DEFAULT (1ull << 32)
#define PCITSM_TSM_KEY_MAX_TLPS_CAP (1ull << 48)
#define PCITSM_TSM_KEY_MAX_AGE_DEFAULT_NS (3600ull * 1000000000ull)
struct pcitsm_tsm_key_policy {
	uint64_t max_tlps;   /* 1..PCITSM_TSM_KEY_MAX_TLPS_CAP, 0: the cap (or off, with age 0) */
	uint64_t max_age_ns; /* 0: no age limit */
};
/* The key set in use of a connected device's stream, as the firmware counts it. */
struct pcitsm_tsm_key_state {
	bool valid;                         /* a stream with keys */
	struct pcitsm_tsm_key_policy policy;
	bool refresh_on;                    /* the policy refreshes at all */
	uint64_t tlps;     /* TLPs the set in use protected, all six keys (seen at the root port) */
	uint64_t tlps_key; /* the most any one key of the set protected: what max_tlps bounds */
	uint64_t age_ns;   /* since the set went K_SET_GO */
	uint64_t next_tlps; /* TLPs on the busiest key until the refresh (UINT64_MAX: none) */
	uint64_t next_ns;   /* time until the refresh (UINT64_MAX: none) */
	uint64_t refreshes; /* done by the policy */
};

struct pcitsm_tsm_status {
	struct pcitsm_bdf bdf;
	bool dsm_capable;          /* tsm/connect exists */
	bool connected;
	char tsm[PCITSM_TSM_NAME_MAX];   /* "tsm0", or "" */
	bool authenticated;
	struct pcitsm_bdf dsm;
	/* SPDM (valid while connected). */
	uint8_t spdm_version;
	uint32_t base_asym, base_hash, meas_hash;
	uint16_t dhe, aead, key_schedule;
	bool chain_trusted;
	uint32_t session_id;
	/* Stream (valid while connected). */
	bool has_stream;
	uint8_t stream_id;
	unsigned h, r, e;
	struct pcitsm_tsm_port_status rp, ep;
	uint8_t key_set;           /* K0 or K1 in use */
	uint64_t rekeys;           /* every refresh: asked for (pcitsm_tsm_rekey), by the policy */
	struct pcitsm_tsm_key_state keys;
	/* History. */
	uint64_t connects, disconnects, failures;
	struct pcitsm_tsm_failure last_failure;
	uint64_t last_connect_ns;  /* duration of the last successful connect */
	/* A connect, disconnect, rekey or traffic run holds the device: only dsm_capable, connected,
	 * tsm and busy are filled (status never waits for the device). */
	bool busy;
	/* A function of a connected DSM (function 1-7 of its slot): dsm names it. */
	bool managed;
	/* TDISP [proposal]: the devsec TSM holding the lock ("" when none), accepted, the TDI state
	 * as the device last answered (-1: not known), the generation of the evidence last read. */
	char lock_tsm[PCITSM_TSM_NAME_MAX];
	bool accepted;
	int tdi_state;
	uint32_t evidence_generation;
	/* The bound driver ("" when none). */
	char driver[PCITSM_TSM_NAME_MAX];
};
/* E_NOTFOUND for a function the platform does not have. Never blocks on a device operation. */
pcitsm_err pcitsm_tsm_status(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			     struct pcitsm_tsm_status *st) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Operations beyond the 6.19 ABI.
 */
/* Key refresh under traffic (PCIe 6.x §6.33 key refresh): the firmware programs the other key set
 * at both ports (6 keys each), K_SET_GO receivers then transmitters, then K_SET_STOP the old set.
 * No TLP is lost. E_STATE unless connected; E_NOTFOUND for an unknown function. */
pcitsm_err pcitsm_tsm_rekey(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf)
	PCITSM_MUST_CHECK;

/* The firmware's key lifetime policy applied to bdf's stream now (the traffic path does it before
 * every operation): *refreshed says whether it refreshed the keys (then as pcitsm_tsm_rekey).
 * E_STATE unless connected; E_NOTFOUND for an unknown function. */
pcitsm_err pcitsm_tsm_key_check(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				bool *refreshed) PCITSM_MUST_CHECK;

/* tsm0's key lifetime policy (ours; the mirror's pcitsm/tsm0/key_max_tlps, key_max_age_s): set it
 * when set is not NULL (the TSM's own check: E_RANGE above PCITSM_TSM_KEY_MAX_TLPS_CAP), then read
 * it into get. E_UNSUPPORTED when tsm0 has no such policy. */
pcitsm_err pcitsm_tsm_key_policy(struct pcitsm_tsm_core *core,
				 const struct pcitsm_tsm_key_policy *set,
				 struct pcitsm_tsm_key_policy *get) PCITSM_MUST_CHECK;

/* Memory reads and writes across the emulated link: n_ops operations of size bytes (a multiple of
 * 4, 4..4096), alternating write then read-back of the same address inside the endpoint's
 * memory window, each a TLP through the root port's and the endpoint's IDE engines and the
 * pcitsm_ide_wire (and its tap). A read whose completion does not come back with the bytes
 * written counts as a failure. Works with or without a Secure stream (plaintext then). */
struct pcitsm_tsm_traffic {
	uint64_t ops, writes, reads;
	uint64_t bytes;        /* payload bytes moved, both directions */
	uint64_t failures;     /* refused at TX, lost, or wrong data */
	uint64_t tlps_secure;  /* TLPs that crossed the wire as IDE TLPs */
	uint64_t tlps_clear;   /* TLPs that crossed in the clear */
	uint64_t key_refreshes; /* by the key lifetime policy, checked before every operation */
	bool tee;              /* a TDI's T=1 DMA (pcitsm_tsm_traffic_tee) */
	uint64_t tee_refused;  /* requests the platform refused by TDI state during the run */
	pcitsm_err first_err;
};
pcitsm_err pcitsm_tsm_traffic(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			      uint64_t n_ops, size_t size, struct pcitsm_tsm_traffic *res)
	PCITSM_MUST_CHECK;

/* Rekey every `every` operations during a traffic run (0: never): for the no-loss check. */
pcitsm_err pcitsm_tsm_traffic_rekey(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				    uint64_t n_ops, size_t size, uint64_t every,
				    struct pcitsm_tsm_traffic *res) PCITSM_MUST_CHECK;

/* DMA in RUN (PCIe 6.x §11): the endpoint function bdf (PF0 or a VF, a TDI) writes n_ops blocks of
 * size bytes with T=1 into the confidential VM's private memory behind its root port and reads
 * each back with T=1 (platform ops tee_write / tee_read): writes, reads (read back with the bytes
 * written: verified), failures, tee_refused. The platform admits T=1 DMA only from a TDI in RUN,
 * over a Secure stream: otherwise each write is dropped and each read fails (failures, and
 * tee_refused counts what the TDI state refused), or the port sends none (E_STATE failures).
 * E_UNSUPPORTED: not an endpoint function, or a platform with no TDISP data path or private
 * memory smaller than size. */
pcitsm_err pcitsm_tsm_traffic_tee(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				  uint64_t n_ops, size_t size, struct pcitsm_tsm_traffic *res)
	PCITSM_MUST_CHECK;

/* A verifier's nonce for the TSM's signed measurements: SPDM's Nonce (DSP0274 GET_MEASUREMENTS),
 * SEV-TIO's TIO_DEV_MEASUREMENTS nonce. */
#define PCITSM_TSM_NONCE_LEN 32
/* Evidence of a connected device, for the mirror's project directory. Copies (malloc'd). */
struct pcitsm_tsm_evidence {
	uint8_t *chain;       /* the SPDM certificate chain of the slot used (header + root hash + DER) */
	size_t chain_len;
	size_t certs_off;     /* the concatenated DER certificates start here */
	uint8_t *meas;        /* the signed MEASUREMENTS response, header to signature */
	size_t meas_len;
	uint8_t *vca;         /* transcript A: GET_VERSION .. ALGORITHMS */
	size_t vca_len;
	uint8_t *meas_req;    /* the signed GET_MEASUREMENTS that meas answers (NULL: not kept) */
	size_t meas_req_len;
	uint8_t nonce[PCITSM_TSM_NONCE_LEN];    /* the requester's nonce in meas_req (has_nonce) */
	bool has_nonce;
	bool refreshed;       /* meas is from pcitsm_tsm_evidence_refresh: the nonce is the caller's */
	bool chain_trusted;
};
/* E_STATE unless connected. */
pcitsm_err pcitsm_tsm_evidence_get(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				   struct pcitsm_tsm_evidence *ev) PCITSM_MUST_CHECK;
/* The TSM's evidence made again with the caller's 32-byte nonce (a remote verifier's): the TSM
 * signs nothing itself; it asks the device for signed measurements of every block over its own
 * session, checks the signature, and publishes the exchange (pcitsm_tsm_evidence_get then returns
 * it, refreshed). The host passes the nonce only. No SPDM from the host: the stream and a locked
 * TDI stay as they were. E_STATE unless connected; E_UNSUPPORTED: a TSM without the operation. */
pcitsm_err pcitsm_tsm_evidence_refresh(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				       const uint8_t nonce[PCITSM_TSM_NONCE_LEN]) PCITSM_MUST_CHECK;
void pcitsm_tsm_evidence_free(struct pcitsm_tsm_evidence *ev);

/* ---------------------------------------------------------------------------------------------
 * Counters for leak checks and benchmarks.
 */
struct pcitsm_tsm_counters {
	unsigned connected;       /* functions with a TSM context */
	unsigned h_in_use;        /* all host bridges */
	unsigned ids_in_use;      /* all host bridges, without the reserved 255 */
	unsigned port_blocks_in_use; /* R + E indices held, all ports */
	unsigned sessions_open;   /* firmware SPDM sessions */
	uint64_t connects, failed_connects, disconnects, rekeys;
};
void pcitsm_tsm_counters(struct pcitsm_tsm_core *core, struct pcitsm_tsm_counters *c);

/* Per-step time of the last successful connect of bdf (nanoseconds, env clock), indexed by
 * enum pcitsm_tsm_step; for `pcitsm bench connect`. E_STATE if it never connected. */
pcitsm_err pcitsm_tsm_step_times(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				 uint64_t ns[PCITSM_TSM_STEP_DONE + 1]) PCITSM_MUST_CHECK;

#endif /* PCITSM_TSM_H */
