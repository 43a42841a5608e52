/* SPDX-License-Identifier: MIT */
/*
 * What a platform provides to the TSM (docs/tsm.md "Three trust domains"). The PCI/TSM core and its
 * host driver (lib/tsm) and the platform firmware (lib/tsmfw) name no platform: they reach the
 * functions, the data path and the root ports' key registers only through these ops. The emulated
 * platform (lib/emu, pcitsm_emu_tsm_platform / pcitsm_emu_rp_keys) is one provider; another
 * platform is another set of ops, with no edit of lib/tsm or lib/tsmfw.
 *
 * Two separate grants, because two trust domains hold them:
 *   - struct pcitsm_platform: the host's view (what PCI enumeration and memory accesses give the
 *     kernel): functions, config spaces, the host bridge, memory reads and writes across a link.
 *   - struct pcitsm_platform_rp_keys: the root ports' private key path, which neither config space
 *     nor DOE reaches (IDE_KM programs the partner port "by platform means", PCIe 6.x §6.33.3).
 *     Only the platform firmware is given it.
 */
#ifndef PCITSM_PLATFORM_H
#define PCITSM_PLATFORM_H

#include "pcitsm/core.h"
#include "pcitsm/ide.h"
#include "pcitsm/idekm.h"
#include "pcitsm/pci.h"

/* One function as enumeration finds it. Indices are positions in the platform's function list,
 * stable for the platform's lifetime. */
struct pcitsm_platform_func {
	struct pcitsm_bdf bdf;
	struct pcitsm_cfg *cfg; /* its config-space accessor (not owned) */
	uint16_t ide_off;       /* the IDE extended capability (PCIe 6.x §7.9.26), 0: none */
	int upstream;           /* an endpoint's root port (its index), -1: none */
	/* The bridge whose secondary bus holds the function (its index; an endpoint's root port,
	 * or the switch Downstream Port above it), -1: none. Its memory window is the endpoint's
	 * (Linux pci_ide_stream_alloc() takes pci_upstream_bridge()'s). */
	int bridge;
};

/* The host bridge (one per platform here). */
struct pcitsm_platform_hb {
	uint16_t segment;
	uint8_t bus;
	unsigned nr_streams; /* the IDE stream pool the platform offers */
};

/* The link between an endpoint and its root port, as memory traffic sees it. */
struct pcitsm_platform_link {
	uint64_t mem_base[2]; /* by enum pcitsm_ide_side: where each side's memory starts */
	size_t mem_size;      /* bytes usable for traffic at each side, from mem_base */
	uint64_t tlps_secure; /* TLPs sent as IDE TLPs by both ports, so far */
	uint64_t tlps_wire;   /* TLPs the link carried, so far */
	/* TDISP (PCIe 6.x §11): the host memory behind the root port that is the confidential
	 * VM's private memory (priv_size 0: none), which only DMA with T=1 by a TDI in RUN reaches,
	 * and the requests refused by TDI state so far, both sides. */
	uint64_t priv_base;
	size_t priv_size;
	uint64_t tee_refused;
};

/* The host's grant. ctx is the provider's; fn is a function index. */
struct pcitsm_platform_ops {
	unsigned (*nr_funcs)(void *ctx);
	/* E_NOTFOUND past the end. */
	pcitsm_err (*func)(void *ctx, unsigned fn, struct pcitsm_platform_func *f);
	void (*host_bridge)(void *ctx, struct pcitsm_platform_hb *hb);
	/* The endpoint fn's link: E_UNSUPPORTED when fn has no link that carries TLPs. */
	pcitsm_err (*link)(void *ctx, unsigned fn, struct pcitsm_platform_link *l);
	/* A Memory Write / Memory Read of len bytes at addr sent by side `from` of endpoint fn's link
	 * (the semantics of pcitsm_emu_mem_write / _read). */
	pcitsm_err (*mem_write)(void *ctx, unsigned fn, enum pcitsm_ide_side from, uint64_t addr,
				const void *buf, size_t len);
	pcitsm_err (*mem_read)(void *ctx, unsigned fn, enum pcitsm_ide_side from, uint64_t addr,
			       void *buf, size_t len);
	/* DMA by a TDI (PCIe 6.x §11): endpoint function fn (a PF or a VF, its own Requester ID)
	 * sends a Memory Write / Memory Read of len bytes with T=1 at host address addr over its
	 * link (the semantics of pcitsm_emu_tee_write / _read from the endpoint side): E_STATE if
	 * its port sends no IDE TLP (the stream is not Secure); a refused write is dropped (OK at
	 * the sender), a refused read is E_IO; each refusal counts in the link's tee_refused.
	 * Optional (NULL: the platform has no TDISP data path). */
	pcitsm_err (*tee_write)(void *ctx, unsigned fn, uint64_t addr, const void *buf, size_t len);
	pcitsm_err (*tee_read)(void *ctx, unsigned fn, uint64_t addr, void *buf, size_t len);
	/* After a key refresh: make every receiver of endpoint fn's link switch to the new key set
	 * (PCIe 6.x §6.33: a receiver switches at the first TLP with the new set). OK when the link
	 * carries no TLPs. */
	pcitsm_err (*link_flush)(void *ctx, unsigned fn);
};
struct pcitsm_platform {
	const struct pcitsm_platform_ops *ops;
	void *ctx;
};

/* The firmware's grant: the root ports' private key path. */
struct pcitsm_platform_rp_keys {
	/* The root port with Port Number port_number (Link Capabilities [31:24]) in segment: *port
	 * is its handle for partner; E_NOTFOUND when there is none. */
	pcitsm_err (*find)(void *ctx, uint16_t segment, uint8_t port_number, void **port);
	const struct pcitsm_idekm_partner_ops *partner; /* KEY_PROG / K_SET_* at a found port */
	/* The invocation counters of stream_id's keys in use at a found port (no key bytes): what
	 * the firmware's key lifetime policy counts (docs/tsm.md "Key lifetime"). A root port sees
	 * both directions of its link, so its counters cover the endpoint's too. */
	pcitsm_err (*usage)(void *port, uint8_t stream_id, struct pcitsm_ide_key_usage *u);
	void *ctx;
};

#endif /* PCITSM_PLATFORM_H */
