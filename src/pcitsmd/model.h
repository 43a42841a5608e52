/* SPDX-License-Identifier: MIT */
/*
 * pcitsmd's platform: lib/emu's hierarchy with its device responders (identities, SPDM, IDE_KM),
 * the PCI/TSM core of lib/tsm over it (tsm0, stream pools, the sysfs semantics), the DOE features
 * each function's mailbox reports (discovered once at start, as Linux caches them), and the
 * optional TCP device ports. FUSE-independent: the vfs layer and the unit tests use it directly.
 */
#ifndef PCITSMD_MODEL_H
#define PCITSMD_MODEL_H

#include <pthread.h>

#include "opts.h"
#include "pcitsm/doe.h"
#include "pcitsm/emu.h"
#include "pcitsm/machine.h"
#include "pcitsm/tio.h"
#include "pcitsm/transport.h"
#include "pcitsm/tsm.h"

#define PD_MAX_FUNCS PCITSM_EMU_MAX_FUNCS /* every function the platform can have */

struct pd_func {
	struct pcitsm_emu_func *f;
	char name[13];                 /* "0000:01:00.0" */
	int parent;                    /* index of the upstream function, -1 below the host bridge */
	struct pcitsm_doe_proto doe[PCITSM_DOE_MAX_PROTOCOLS * 4];
	unsigned nr_doe;               /* 0: no DOE mailbox (no doe_features/) */
	unsigned port;                 /* index of its root port (link) */
	int physfn;                    /* a VF: its PF's index (the `physfn` link); else -1 */
};

/* One endpoint served over TCP: its own DOE instance whose handlers forward, under the device
 * lock, to the endpoint's (so TCP and the config-file mailbox never run the responder at once). */
struct pd_fwd {
	struct pcitsm_doe_handler h;
	struct pcitsm_doe_handler *orig;
	struct pd *pd;
};
struct pd_tcp {
	struct pd *pd;
	int func;
	struct pcitsm_doe_dev dev;
	struct pd_fwd fwd[PCITSM_DOE_MAX_PROTOCOLS];
	struct pcitsm_spdmemu_server srv;
	pthread_t thread;
	bool running;
};

/* The last traffic run of each function, for the project directory's traffic file. */
struct pd_traffic_last {
	bool valid;
	uint64_t n_ops;
	size_t size;
	pcitsm_err err;
	struct pcitsm_tsm_traffic res;
};

struct pd {
	const struct pd_opts *o;
	const struct pcitsm_env *env;
	struct pcitsm_machine m; /* the platform, its devices, the firmware TSM, the TSM core */
	struct pcitsm_emu_devices_cfg devs_cfg;
	struct pcitsm_tio_cfg fw_cfg;     /* the platform firmware's TSM */
	struct pcitsm_tsm_key_policy key_policy; /* fw_cfg.key_policy: --key-max-tlps, -age */
	struct pd_func funcs[PD_MAX_FUNCS];
	unsigned nr_funcs;
	/* Recursive. Held by every mirror access to the platform (vfs.c) and by the TCP ports'
	 * responder calls, so config spaces, DOE mailboxes and responders see one caller at a time. */
	pthread_mutex_t dev_lock;
	/* Serialises traffic runs (one wire per link) and guards traffic_last. */
	pthread_mutex_t traffic_lock;
	struct pd_traffic_last traffic_last[PD_MAX_FUNCS];
	/* A PF's sriov_drivers_autoprobe (default 1), under dev_lock. */
	bool sriov_no_autoprobe[PD_MAX_FUNCS];
	struct pd_tcp *tcp[PD_MAX_FUNCS];
	unsigned nr_tcp;
};

/* Build the platform from the options. On failure *why names what failed. */
pcitsm_err pd_open(struct pd *pd, const struct pd_opts *o, const struct pcitsm_env *env,
		   const char **why) PCITSM_MUST_CHECK;
/* Start the TCP device ports (threads). E_SYSTEM / bind errors with *why. */
pcitsm_err pd_tcp_start(struct pd *pd, const char **why) PCITSM_MUST_CHECK;
/* Print "BDF tcp HOST:PORT" for every TCP port (after pd_tcp_start). */
void pd_tcp_print(struct pd *pd, FILE *out);
void pd_close(struct pd *pd);

int pd_find(const struct pd *pd, const struct pcitsm_bdf *bdf);
int pd_find_name(const struct pd *pd, const char *name);
/* The function's directory below /sys/devices: "pci0000:00/0000:00:01.0/0000:01:00.0". */
void pd_devpath(const struct pd *pd, int i, char *buf, size_t len);
/* The host bridge's name ("pci0000:00"). */
void pd_hb_name(const struct pd *pd, char *buf, size_t len);

/* Config space: any offset and length, split into naturally aligned accesses as Linux's
 * pci_read_config / pci_write_config do, so a 4-byte access at a DW offset is one DW access (the
 * DOE mailbox's side effects). Returns bytes done, or -errno. */
int pd_cfg_read(struct pd *pd, int func, uint8_t *buf, size_t len, uint32_t off);
int pd_cfg_write(struct pd *pd, int func, const uint8_t *buf, size_t len, uint32_t off);
uint32_t pd_cfg_size(const struct pd *pd, int func);

/* What Linux's pci-sysfs.c derives from a function's config space, here from the emulated one:
 * subsystem IDs (type 0 header 0x2C/0x2E; a bridge's SSVID capability, else 0), the IRQ (0 when
 * Interrupt Pin is 0, else Interrupt Line) and the resource table (the BARs and the ROM, sized by
 * their writable bits as BAR sizing finds them; a bridge's I/O, memory and prefetchable windows
 * where their base registers are writable). Flags are the kernel's IORESOURCE_* bits. */
struct pd_resource {
	uint64_t start, end, flags; /* all 0: no resource */
};
#define PD_NR_RESOURCES 17 /* a bridge: 6 BARs, ROM, 6 SR-IOV BARs, 4 bridge windows */
struct pd_sysfs_ids {
	uint16_t subsys_vendor, subsys_device;
	unsigned irq;
	bool bridge; /* resource shows 17 lines for a bridge, 13 otherwise (CONFIG_PCI_IOV=y) */
};
void pd_sysfs_ids(struct pd *pd, int func, struct pd_sysfs_ids *ids);
/* A VF's `vendor` and `device` (Linux drivers/pci/iov.c pci_iov_scan_device): its PF's Vendor ID
 * and the VF Device ID of the PF's SR-IOV capability, since its own config space reads 0xFFFF
 * (PCIe 6.x §9.3.4.1.1, .2). false for a function that is no VF. */
bool pd_vf_ids(struct pd *pd, int func, uint16_t *vendor, uint16_t *device);
/* A PF's SR-IOV state as Linux's sriov_* attributes show it (drivers/pci/iov.c): false for a
 * function without an SR-IOV capability. */
struct pd_sriov {
	unsigned total_vfs, num_vfs, offset, stride;
	uint16_t vf_device;
};
bool pd_sriov(struct pd *pd, int func, struct pd_sriov *s);
/* The index of VF n (1-based) of PF func, -1 if none: the target of the PF's `virtfnN` links. */
int pd_virtfn(const struct pd *pd, int func, unsigned n);
/* Fills PD_NR_RESOURCES entries; returns how many the resource file shows (13 or 17). */
unsigned pd_resources(struct pd *pd, int func, struct pd_resource res[PD_NR_RESOURCES]);

/* ---------------------------------------------------------------------------------------------
 * Faults (--fault TARGET=NAME). Device faults are per endpoint; firmware faults are the TSM's.
 */
enum pd_fault_kind {
	PD_FAULT_UNTRUSTED_CERT,
	PD_FAULT_BAD_SIGNATURE,
	PD_FAULT_REFUSE_KEY_PROG,
	PD_FAULT_RP_KEY_PROG_REFUSED, /* firmware: the root port's private key path refuses */
	PD_FAULT_FAIL_AFTER_STEP,     /* firmware: fail right after a connect step */
};
struct pd_fault_desc {
	const char *name;
	enum pd_fault_kind kind;
	const char *what;
};
extern const struct pd_fault_desc pd_fault_table[];
extern const size_t pd_fault_table_len;
/* Resolve a fault name: "bad-signature", "fail-after-key_prog". E_INVAL if unknown. */
pcitsm_err pd_fault_lookup(const char *name, const struct pd_fault_desc **d,
			   enum pcitsm_tsm_step *step) PCITSM_MUST_CHECK;
/* The faults active on func, comma-separated ("" when none), into buf. */
void pd_faults_str(const struct pd *pd, int func, char *buf, size_t len);

#endif
