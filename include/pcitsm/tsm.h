/* SPDX-License-Identifier: MIT */
/*
 * The PCI/TSM core: what Linux 6.19's drivers/pci/tsm.c, drivers/pci/ide.c and
 * drivers/virt/coco/tsm-core.c do, in user space, over one emulated platform (lib/emu). It holds
 * the TSM class devices (tsmN), the per-function TSM contexts, the IDE stream pools of each host
 * bridge and port, and the sysfs semantics of tsm/connect, tsm/disconnect, tsm/dsm, tsm/bound,
 * authenticated and available_secure_streams, with the kernel's errno values. pcitsmd mirrors it
 * through FUSE; the CLI's connect/disconnect/status/rekey/traffic commands drive it.
 *
 * One backend: the platform-firmware TSM modelling AMD SEV-TIO (linux-tsm-abi.md §1.5). The
 * firmware side is the SPDM requester, makes every IDE key and installs the root-port keys through
 * a private path; the host side (this core) only relays DOE objects and writes the selective-stream
 * registers with Enable clear, then sets Enable. No key byte ever reaches host memory.
 *
 * Facts: linux-tsm-abi.md §1, §2; trusted-io-facts.md §D.1, §E.5. Choices: docs/tsm.md.
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
#include "pcitsm/emu.h"
#include "pcitsm/pci.h"

struct pcitsm_tsm_core;

#define PCITSM_TSM_MAX_DEVS 8     /* tsm0 .. tsm7 */
#define PCITSM_TSM_NAME_MAX 16    /* "tsm7", "pci0000:00", "stream255.7.7" fit */
#define PCITSM_TSM_HB_STREAMS_MAX 256

/* ---------------------------------------------------------------------------------------------
 * Configuration.
 */
enum pcitsm_tsm_backend {
	/* Platform firmware is the SPDM requester and key maker (AMD SEV-TIO model). */
	PCITSM_TSM_BACKEND_FIRMWARE = 0,
};

/* Where the firmware's connect flow can be told to misbehave (tests). Device-side faults
 * (untrusted certificate, bad signature, refused KEY_PROG) belong to the emulated device:
 * struct pcitsm_emu_dev_faults in emu.h. */
struct pcitsm_tsm_fw_faults {
	/* Make the firmware fail right after this connect step (pcitsm_tsm_step), with E_IO. */
	int fail_after_step; /* 0: never */
	bool rp_key_prog_refused; /* the private root-port key path refuses KEY_PROG */
};

struct pcitsm_tsm_core_cfg {
	struct pcitsm_emu_platform *plat; /* not owned; must outlive the core */
	const struct pcitsm_env *env;
	/* The platform's trust anchors for device certificate chains (not owned). NULL: every chain
	 * is untrusted and connect fails at GET_CERTIFICATE. */
	const struct pcitsm_trust *trust;
	enum pcitsm_tsm_backend backend;
	/* Host-bridge stream pool size (H slots): negative takes the platform's nr_streams (the Linux
	 * default 256); 0 is legal and makes available_secure_streams ENXIO and every connect that
	 * needs a stream fail. At most 256. */
	int nr_streams;
	/* Observer of every DOE object the host relays between firmware and device (a pcap capture,
	 * or a test that searches them for key bytes). Optional; not owned. */
	struct pcitsm_xport_tap *relay_tap;
	struct pcitsm_tsm_fw_faults fw_faults;
};
void pcitsm_tsm_core_cfg_default(struct pcitsm_tsm_core_cfg *cfg,
				 struct pcitsm_emu_platform *plat, const struct pcitsm_env *env);

/* Build the core over cfg->plat: probes every function (DSM-capable PF0s, their IDE capabilities
 * and DOE mailboxes), adopts selective streams found enabled (claims their Stream IDs and block
 * indices; a conflicting claim leaves IDE off for that device, as Linux does), reserves Stream ID
 * 255 in every host bridge, and registers the backend as tsm0. */
pcitsm_err pcitsm_tsm_core_new(struct pcitsm_tsm_core **core, const struct pcitsm_tsm_core_cfg *cfg)
	PCITSM_MUST_CHECK;
/* Disconnect every connected device (uninterruptible, reverse order), unregister the TSMs, free. */
void pcitsm_tsm_core_free(struct pcitsm_tsm_core *core);

/* ---------------------------------------------------------------------------------------------
 * sysfs: per-function attributes (linux-tsm-abi.md §1.2). All int-returning calls return 0 or a
 * byte count on success and a negative errno on failure, exactly as the kernel's store/show would.
 */
enum pcitsm_tsm_attr {
	PCITSM_TSM_ATTR_DIR = 0,       /* <BDF>/tsm/ */
	PCITSM_TSM_ATTR_CONNECT,       /* <BDF>/tsm/connect        0644, PF0 (DSM) only */
	PCITSM_TSM_ATTR_DISCONNECT,    /* <BDF>/tsm/disconnect     0200, PF0 (DSM) only */
	PCITSM_TSM_ATTR_DSM,           /* <BDF>/tsm/dsm            0444 */
	PCITSM_TSM_ATTR_BOUND,         /* <BDF>/tsm/bound          0444, TDISP-capable devices only */
	PCITSM_TSM_ATTR_AUTHENTICATED, /* <BDF>/authenticated      0444 */
	PCITSM_TSM_NR_ATTRS
};
/* "tsm", "connect", "disconnect", "dsm", "bound", "authenticated". */
const char *pcitsm_tsm_attr_name(enum pcitsm_tsm_attr a);
/* The file mode bits (0644, 0200, 0444; 0755 for the directory). */
unsigned pcitsm_tsm_attr_mode(enum pcitsm_tsm_attr a);
/* Whether the attribute exists on the function right now. Rules: nothing exists before a link TSM
 * registers; tsm/ exists on DSM-capable PF0s (PCIe endpoint / upstream port, function 0, IDE with
 * selective streams or DEVCAP TEE, a DOE mailbox with CMA) and on functions that have a TSM
 * context; connect and disconnect only on those PF0s; dsm on PF0s and on managed functions (the
 * other functions of the DSM's slot while a DSM with DEVCAP TEE is connected); bound on PF0s with
 * DEVCAP TEE; authenticated on DSM-capable PF0s. */
bool pcitsm_tsm_attr_exists(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			    enum pcitsm_tsm_attr a);
/* Read an attribute into buf (NUL-terminated if it fits), returning its length (not counting the
 * NUL) or -errno: -ENOENT if it does not exist, -EACCES for disconnect (write-only), -ENOSPC if
 * buf is too small. Contents: connect and authenticated "tsmN\n" while connected, else "\n"; dsm
 * the DSM's name "0000:01:00.0\n" while connected (on a managed function: its DSM's), else "\n";
 * bound "\n" (no TDI is ever bound by this core). */
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
	X(DONE, "done")

enum pcitsm_tsm_step {
#define PCITSM_TSM_STEP_ENUM(n, s) PCITSM_TSM_STEP_##n,
	PCITSM_TSM_STEPS(PCITSM_TSM_STEP_ENUM)
#undef PCITSM_TSM_STEP_ENUM
};
const char *pcitsm_tsm_step_name(enum pcitsm_tsm_step s); /* "key_prog" */

struct pcitsm_tsm_failure {
	enum pcitsm_tsm_step step; /* NONE: no failure recorded */
	pcitsm_err err;
	int errno_val;             /* what the connect write returned (positive) */
	uint8_t peer_error;        /* SPDM ERROR code, 0 if none */
	uint8_t peer_error_data;
	int peer_status;           /* IDE_KM KP_ACK status, -1 if none */
	char why[256];
};

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
	uint64_t rekeys;
	/* History. */
	uint64_t connects, disconnects, failures;
	struct pcitsm_tsm_failure last_failure;
	uint64_t last_connect_ns;  /* duration of the last successful connect */
	/* A connect, disconnect, rekey or traffic run holds the device: only dsm_capable, connected,
	 * tsm and busy are filled (status never waits for the device). */
	bool busy;
	/* A function of a connected DSM (function 1-7 of its slot): dsm names it. */
	bool managed;
};
/* E_NOTFOUND for a function the platform does not have. Never blocks on a device operation. */
pcitsm_err pcitsm_tsm_status(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			     struct pcitsm_tsm_status *st) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Operations beyond the 6.19 ABI.
 */
/* Key refresh under traffic (trusted-io-facts §D.6): the firmware programs the other key set at
 * both ports (6 keys each), K_SET_GO receivers then transmitters, then K_SET_STOP the old set. No
 * TLP is lost. E_STATE unless connected; E_NOTFOUND for an unknown function. */
pcitsm_err pcitsm_tsm_rekey(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf)
	PCITSM_MUST_CHECK;

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
	pcitsm_err first_err;
};
pcitsm_err pcitsm_tsm_traffic(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
			      uint64_t n_ops, size_t size, struct pcitsm_tsm_traffic *res)
	PCITSM_MUST_CHECK;

/* Rekey every `every` operations during a traffic run (0: never): for the no-loss check. */
pcitsm_err pcitsm_tsm_traffic_rekey(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				    uint64_t n_ops, size_t size, uint64_t every,
				    struct pcitsm_tsm_traffic *res) PCITSM_MUST_CHECK;

/* Evidence of a connected device, for the mirror's project directory. Copies (malloc'd). */
struct pcitsm_tsm_evidence {
	uint8_t *chain;       /* the SPDM certificate chain of the slot used (header + root hash + DER) */
	size_t chain_len;
	size_t certs_off;     /* the concatenated DER certificates start here */
	uint8_t *meas;        /* the signed MEASUREMENTS record */
	size_t meas_len;
	uint8_t *vca;         /* transcript A: GET_VERSION .. ALGORITHMS */
	size_t vca_len;
	bool chain_trusted;
};
/* E_STATE unless connected. */
pcitsm_err pcitsm_tsm_evidence_get(struct pcitsm_tsm_core *core, const struct pcitsm_bdf *bdf,
				   struct pcitsm_tsm_evidence *ev) PCITSM_MUST_CHECK;
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
