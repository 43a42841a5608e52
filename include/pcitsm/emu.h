/* SPDX-License-Identifier: MIT */
/*
 * The emulated Trusted-I/O platform: one host bridge (segment, bus range, IDE stream pool), root
 * ports, and one endpoint below each root port or, below a root port with a PCIe switch, one below
 * each of the switch's Downstream Ports, all with real config spaces; up to 255 endpoints, which is
 * every bus number a host bridge has (docs/emulated-platform.md "Scale", "Switches"). The IDE
 * capability is at both ends of each link; each endpoint has a DOE instance (discovery, CMA-SPDM, secured
 * CMA-SPDM) and the DEVCAP TEE-IO bit. Everything is reached through the same config-space accessor
 * that drives a real device, so the code under test cannot tell the difference.
 *
 * References: PCIe 6.x §6.30, §7.9.24, §7.9.26; Linux drivers/pci/ide.c,
 * include/uapi/linux/pci_regs.h.
 */
#ifndef PCITSM_EMU_H
#define PCITSM_EMU_H

#include <pthread.h>

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/doe.h"
#include "pcitsm/ide.h"
#include "pcitsm/pci.h"
#include "pcitsm/platform.h"
#include "pcitsm/spdm_rsp.h"
#include "pcitsm/tdisp.h"

/* Emulated functions carry this vendor ID. It is not an assigned PCI-SIG vendor ID; a tool that sees
 * it knows it is looking at pcitsm's emulation (docs/emulated-platform.md). */
#define PCITSM_EMU_VENDOR 0x7063 /* "pc" */
#define PCITSM_EMU_DEVICE_ROOT_PORT 0x0001
#define PCITSM_EMU_DEVICE_ENDPOINT 0x0002
#define PCITSM_EMU_DEVICE_VF 0x0003 /* the endpoint PF's VF Device ID (SR-IOV capability) */
#define PCITSM_EMU_DEVICE_SWITCH_UP 0x0004   /* a switch's Upstream Port */
#define PCITSM_EMU_DEVICE_SWITCH_DOWN 0x0005 /* a switch's Downstream Port */

/* Every endpoint needs a bus of its own (a link's secondary bus decodes Device 0 only, PCIe 6.x
 * §7.3.1.3; one DSM per device, function 0), and the root bus holds the root ports: one host
 * bridge's bus numbers 0..255 hold 255 endpoints, or 255 - 2S with S switches (each takes two
 * buses of its own: docs/emulated-platform.md "Scale", "Switches"). */
#define PCITSM_EMU_MAX_PORTS 255
/* PCIe switches (docs/emulated-platform.md "Switches"): each costs two bus numbers (its Upstream
 * Port's and its internal bus), so a host bridge with S switches holds at most 255 - 2S endpoints.
 * A switch's root port has one Selective IDE block per Downstream Port below it: at most this many
 * fit in its config space beside two address-association blocks each. */
#define PCITSM_EMU_MAX_SWITCH_PORTS 64
/* Up to this many root ports, root port i is device 1 + i, function 0 of the root bus; beyond
 * it the root ports are packed eight functions to a device (devices 0..31, multi-function). */
#define PCITSM_EMU_RP_ONE_PER_DEVICE 31
#define PCITSM_EMU_MAX_EXTRA_FUNCS 7 /* VFs of an endpoint's PF: functions 1..7, no ARI */
#define PCITSM_EMU_MAX_FUNCS (PCITSM_EMU_MAX_PORTS * (2 + PCITSM_EMU_MAX_EXTRA_FUNCS))
#define PCITSM_EMU_DEFAULT_STREAMS 256 /* host-bridge pool: Linux nr_ide_streams default */

/* What an IDE capability offers. */
struct pcitsm_emu_ide_cfg {
	bool present;
	unsigned link_tcs;  /* Link IDE blocks (0: no Link IDE), at most 8 */
	unsigned nr_sel;    /* Selective IDE blocks, 1..256 */
	unsigned nr_addr;   /* address-association blocks per selective block, 0..15 */
	bool aggregation, pcrc, tee_limited, ide_km, sel_cfg, partial_hdr, flowthrough;
};

/* One root port and the endpoint below it. */
struct pcitsm_emu_link_cfg {
	struct pcitsm_emu_ide_cfg rp_ide, ep_ide;
	bool ep_tee_io;       /* DEVCAP bit 30 on the endpoint */
	bool ep_doe;          /* a DOE instance on the endpoint */
	uint8_t doe_version;  /* DOE capability version: 1 or 2 */
	bool ep_dev3;         /* a Device-3 capability on the endpoint */
	bool ep_no_secured_cma; /* the mailbox lists CMA but not secured CMA (type 2) */
	/* Virtual functions of the endpoint (0..7, default 0; PCIe 6.x §9.3): with n > 0 the
	 * endpoint (PF0) has an SR-IOV capability (TotalVFs = NumVFs = n, VF Enable and VF MSE
	 * set, First VF Offset 1, VF Stride 1, VF Device ID PCITSM_EMU_DEVICE_VF, VF BAR0 16 KiB
	 * per VF), and VF 1..n sit at its Routing ID + 1..n: Vendor/Device ID 0xFFFF, BARs from
	 * the VF BAR, the same DEVCAP TEE bit, no DOE and no IDE, each a TDI of PF0's DSM
	 * (docs/tdisp.md "The platform"). They come after all root ports and endpoints in
	 * pcitsm_emu_platform.funcs. */
	unsigned ep_extra_funcs;
	/* Functions that do PASID DMA (bit 0: PF0, bit n: VF n): reports with DMA_WITH_PASID. */
	uint8_t ep_pasid_funcs;
};

struct pcitsm_emu_config {
	uint16_t segment;
	uint8_t root_bus;          /* the host bridge's bus (root ports live here) */
	unsigned nr_streams;       /* host-bridge stream pool size */
	/* Links: one endpoint each, configured by ports[i] (1..PCITSM_EMU_MAX_PORTS). Without
	 * switches each endpoint has a root port of its own, on bus root_bus + 1 + i. */
	unsigned nr_ports;
	/* Switches (pcitsm_emu_config_switches): the first nr_switches root ports each have a
	 * switch below them, with sw_ports Downstream Ports (1..PCITSM_EMU_MAX_SWITCH_PORTS) and
	 * one endpoint below each: links s x sw_ports .. (s + 1) x sw_ports - 1 are switch s's. The
	 * other links have a root port each. Bus numbers are assigned depth-first (Linux
	 * pci_scan_bridge): every bus from root_bus + 1 on is used, and the last one must be <= 255. */
	unsigned nr_switches;
	unsigned sw_ports;
	struct pcitsm_emu_link_cfg ports[PCITSM_EMU_MAX_PORTS];
};

/* The default platform `make run` and `--platform emu` use: two root ports, each with a TEE-IO
 * endpoint; every IDE capability with 1 Link TC, 4 selective streams, 2 address blocks, aggregation,
 * PCRC, IDE_KM at the endpoints, TEE-limited streams, and selective IDE for config requests at the
 * root ports. */
void pcitsm_emu_config_default(struct pcitsm_emu_config *cfg);
/* The default platform with n root ports (1..PCITSM_EMU_MAX_PORTS), every link like the default's
 * first. */
void pcitsm_emu_config_ports(struct pcitsm_emu_config *cfg, unsigned n);
/* Root port i's device and function on the root bus (PCITSM_EMU_RP_ONE_PER_DEVICE). */
void pcitsm_emu_rp_devfn(const struct pcitsm_emu_config *cfg, unsigned i, uint8_t *dev,
			 uint8_t *fn);
/* The default platform with root_ports root ports, the first `switches` of which have a switch
 * with sw_ports Downstream Ports below them (an endpoint below each Downstream Port; every link
 * like the default's first). E_INVAL when it does not fit one host bridge's buses (*max: the most
 * endpoints that many switches allow, 255 - root_bus - 2 x switches, 0 if none) or a count is out
 * of range. */
pcitsm_err pcitsm_emu_config_switches(struct pcitsm_emu_config *cfg, unsigned root_ports,
				      unsigned switches, unsigned sw_ports, unsigned *max)
	PCITSM_MUST_CHECK;
/* n endpoints (1..PCITSM_EMU_MAX_PORTS) below as many switches of sw_ports Downstream Ports as n
 * fills and the bus budget leaves room for (at most n / sw_ports, and n + 2 x switches <= 255), the
 * rest below root ports of their own; sw_ports 0: no switch. Returns the switches used. */
unsigned pcitsm_emu_config_spread(struct pcitsm_emu_config *cfg, unsigned n, unsigned sw_ports);
/* Bus numbers a configuration uses below its root bus: one per endpoint, two more per switch. */
unsigned pcitsm_emu_config_buses(const struct pcitsm_emu_config *cfg);
/* Root ports a configuration has: one per switch, one per link not below a switch. */
unsigned pcitsm_emu_config_root_ports(const struct pcitsm_emu_config *cfg);

enum pcitsm_emu_kind {
	PCITSM_EMU_ROOT_PORT,
	PCITSM_EMU_ENDPOINT,
	PCITSM_EMU_SWITCH_UP,   /* a switch's Upstream Port (Type 1, PCIe 6.x §7.5.3.2 type 0101b) */
	PCITSM_EMU_SWITCH_DOWN, /* a switch's Downstream Port (Type 1, type 0110b) */
};

/* The DOE protocols an endpoint's mailbox serves besides discovery. A later layer (the SPDM
 * responder, secured sessions) fills in the handlers; until then the endpoint discards what it
 * cannot serve, as a device with no such responder would. */
struct pcitsm_emu_func {
	struct pcitsm_bdf bdf;
	enum pcitsm_emu_kind kind;
	struct pcitsm_cfg_emu cfg;
	struct pcitsm_emu_func *upstream; /* endpoint: its root port (the IDE partner) */
	/* A root port's endpoint when it has one directly below it (NULL above a switch); an
	 * endpoint's root port. */
	struct pcitsm_emu_func *partner;
	/* The bridge whose secondary bus holds this function (root port or switch Downstream Port
	 * for an endpoint and its VFs, root port for an Upstream Port, Upstream Port for a
	 * Downstream Port); NULL on the root bus. What the sysfs tree nests functions under. */
	struct pcitsm_emu_func *bridge;
	uint16_t ide_off, doe_off, exp_off, dev3_off;
	/* Endpoint only. */
	struct pcitsm_doe_dev doe;
	struct pcitsm_doe_mbox mbox;
	struct pcitsm_doe_handler cma, secured_cma;
	struct pcitsm_doe_handler *cma_impl, *secured_impl; /* set by upper layers */
	/* IDE register behaviour: the stream state a block reports while enabled. Until keys are
	 * installed (a later layer sets this), every enabled stream reads Insecure. */
	uint8_t (*ide_state)(struct pcitsm_emu_func *f, unsigned sel_index);
	void *ide_state_arg;
	/* The port's IDE engine, driven by its selective-stream registers (docs/emulated-platform.md):
	 * a register write with Enable clear configures the engine stream of that block, setting
	 * Enable enables it, clearing Enable disables it (keys invalidated), and Status reads the
	 * engine's state. Only blocks below the port's nr_streams are bound. */
	struct pcitsm_ide_port *ide_port;
	struct pcitsm_emu_link *link;
	/* Endpoint functions: BAR0 as the function decodes it, with its MSI-X table and PBA and
	 * non-TEE page (docs/tdisp.md "The platform"): what its TDISP report is built from. */
	struct pcitsm_tdisp_ifdesc desc;
	/* PF0: its VFs, VF 1..n (sibling[n - 1]), and its SR-IOV capability (0: none). A VF: its
	 * PF and its number n (1-based, PCIe 6.x §9.3.3.10). Every endpoint function: the device
	 * whose DSM hosts its TDI (set by pcitsm_emu_device_new), told of FLRs and
	 * locked-configuration writes. */
	struct pcitsm_emu_func *sibling[PCITSM_EMU_MAX_EXTRA_FUNCS];
	unsigned nr_siblings;
	uint16_t sriov_off;
	struct pcitsm_emu_func *physfn;
	unsigned vf_num;
	struct pcitsm_emu_device *dev;
};

/* An emulated endpoint's memory window: what its root port's address association covers and what
 * Memory Reads and Writes from the root port reach. The host's memory is what the endpoint's DMA
 * (its Memory Reads and Writes towards the root port) reaches. */
#define PCITSM_EMU_MEM_BASE 0x80000000ull /* port i: base + i * PCITSM_EMU_MEM_WINDOW */
#define PCITSM_EMU_MEM_WINDOW 0x100000ull /* 1 MiB, the address-association granularity */
#define PCITSM_EMU_MEM_SIZE 0x10000u      /* bytes backed at the start of the window */
#define PCITSM_EMU_HOST_MEM_BASE 0x10000000ull /* PCITSM_EMU_MEM_SIZE bytes backed */
/* The last bytes of each side's memory are the link's scratch area (pcitsm_emu_link_flush). */
#define PCITSM_EMU_SCRATCH 64

/* The IOMMU behind the root ports (PCIe 6.x §6.20 PASID; docs/sva.md "DMA as TLPs"): how the
 * host serves a Memory Request from an endpoint that its own memory does not (a request with a
 * PASID TLP Prefix, or an address outside the host's memory window: the device's IOVA domain).
 * A layer above lib/emu registers it (lib/sva does); the link calls it, after the TDISP gate, with
 * the requests of one burst together. */
enum pcitsm_emu_dma_dir { PCITSM_EMU_DMA_READ = 0, PCITSM_EMU_DMA_WRITE = 1 };
struct pcitsm_emu_dma_seg {
	uint64_t va;  /* the request's address: a virtual address with a PASID, else an IOVA */
	uint8_t *buf; /* read: where the bytes go; write: where they come from */
	size_t len;
};
struct pcitsm_emu_iommu {
	/* Translate and access n segments, in order, for requester rid and PASID pasid (0: a
	 * request without one). OK when all moved; else it stops at the first byte it cannot
	 * translate, *done the bytes moved before it: E_NOTFOUND no translation for (rid, pasid),
	 * E_RANGE an I/O page fault (not mapped, or not writable for a write). Called with the
	 * link's lock held: it must not call back into the link. */
	pcitsm_err (*access)(void *ctx, uint16_t rid, uint32_t pasid, enum pcitsm_emu_dma_dir dir,
			     const struct pcitsm_emu_dma_seg *seg, size_t n, size_t *done);
	void *ctx;
};

/* A tag's outstanding read at the requester (PCIe 6.x §2.2.6.2 tags, §2.3.2 completion rules):
 * the completions of one request arrive in address order, those of different tags in any order,
 * and are gathered into dst by tag. */
struct pcitsm_emu_tag {
	bool busy, done;
	uint16_t req_id;
	uint64_t addr;   /* DW-aligned request address */
	size_t len;      /* DW-aligned request length */
	size_t got;      /* bytes completed so far */
	uint8_t status;  /* completion status (0 SC) */
	bool t;          /* the last completion's T bit */
	uint8_t *dst;    /* where the kept bytes go */
	size_t skip, keep; /* bytes of the request to drop before dst, and to keep */
};
#define PCITSM_EMU_TAGS 256 /* 8-bit tags */

/* One side's memory and the tags of its outstanding reads. */
struct pcitsm_emu_side {
	uint64_t base;
	uint8_t *mem;
	bool cpl_t; /* the last completion's T bit (the request's, PCIe 6.x §11) */
	struct pcitsm_emu_tag tag[PCITSM_EMU_TAGS];
	uint64_t writes, reads, bad; /* requests served / refused */
	uint64_t cpl_unexpected;     /* completions no outstanding tag expected (dropped) */
};

/* One root port - endpoint link: both engines, the wire between them, and memory at both ends
 * (side[PCITSM_IDE_SIDE_RP] is the host's memory behind the root port, side[..._EP] the
 * endpoint's). Each side answers Memory Reads with completions. */
struct pcitsm_emu_link {
	struct pcitsm_emu_func *rp, *ep;
	/* Below a switch: the Downstream Port above ep (its Upstream Port is dsp->bridge), NULL when
	 * ep is directly below rp. Every TLP of the link is routed through the switch by its
	 * header (PCIe 6.x §2.2.4: memory requests by the ports' memory windows, completions by
	 * bus ranges); Selective IDE TLPs flow through it (PCIe 6.x §6.33): the stream's partners
	 * are rp and ep, the switch holds no key. What it does not forward counts here. */
	struct pcitsm_emu_func *dsp;
	uint64_t sw_unrouted;
	struct pcitsm_gcm *gcm;          /* one AES-GCM backend per link (not shared across threads) */
	struct pcitsm_ide_wire *wire;    /* set wire->tap to observe or tamper */
	struct pcitsm_emu_side side[2];
	/* TDISP gating (pcitsm_emu_tee_write): the requests each side refused by TDI state (indexed
	 * by the refusing side). */
	uint64_t tee_refused[2];
	/* Lock order: a caller's own locks (pcitsmd's device lock), then this one, then the IOMMU's.
	 * Recursive. Held by every request and completion crossing the link (the data path, flush,
	 * DMA), by every change of either port's IDE engine (register writes, key programming on
	 * both paths: the endpoint's DOE responders run under it) and around the IOMMU hook, so the
	 * SVA devices' DMA threads and the mirror's threads may share a link. */
	pthread_mutex_t lock;
	bool lock_ready;
	/* The lock to take: this link's own, or, below a switch, that of the first link of its
	 * root port, whose IDE engine the links below the switch share. */
	pthread_mutex_t *mutex;
	struct pcitsm_emu_iommu iommu;  /* ops NULL: none */
	/* The IOMMU's fault record per endpoint function (index: function number): from a fault on
	 * one of its requests until the requester collects it, its requests through the IOMMU are
	 * refused (the transfer stops at the first fault, as at a device without PRI). */
	struct {
		bool set, write;
		uint64_t va;
		pcitsm_err cause;
	} dma_fault[1 + PCITSM_EMU_MAX_EXTRA_FUNCS];
	/* The completer's split of a read's data into completions (PCIe 6.x §2.3.1.1: at Read
	 * Completion Boundaries): a power of two, 64..4096 (0: 4096). */
	uint16_t cpl_split;
	uint64_t dma_tlps; /* DMA requests the endpoint side sent through pcitsm_emu_dma_* */
	struct emu_dma_scratch *scratch; /* the DMA path's TLP buffers (link.c) */
};

struct pcitsm_emu_platform {
	struct pcitsm_emu_config config;
	unsigned nr_funcs;
	/* The bridge above each endpoint (root port, or switch Downstream Port), in link order;
	 * then the endpoints (function 0) in link order; then the endpoints' extra functions; then
	 * each switch's root port and Upstream Port. At most PCITSM_EMU_MAX_FUNCS. */
	struct pcitsm_emu_func *funcs;
	struct pcitsm_emu_link *links; /* config.nr_ports of them */
	const struct pcitsm_env *env;
};

pcitsm_err pcitsm_emu_platform_init(struct pcitsm_emu_platform *p,
				    const struct pcitsm_emu_config *cfg,
				    const struct pcitsm_env *env) PCITSM_MUST_CHECK;
void pcitsm_emu_platform_free(struct pcitsm_emu_platform *p);
struct pcitsm_emu_func *pcitsm_emu_find(struct pcitsm_emu_platform *p, const struct pcitsm_bdf *bdf);
/* Number of host-bridge stream slots not in use (the `available_secure_streams` attribute): the
 * pool minus the streams found enabled in the root ports' selective blocks. */
unsigned pcitsm_emu_available_streams(struct pcitsm_emu_platform *p);

/* ---------------------------------------------------------------------------------------------
 * Data path: memory requests from a root port to its endpoint across the link.
 */
/* Memory Write of len bytes (multiple of 4, 4..4096) at addr, sent by side `from` (the root port:
 * into the endpoint's window; the endpoint: DMA into host memory). E_STATE if the sender's engine
 * refused it (its stream is not Secure). Delivery problems are in the wire's stats. */
pcitsm_err pcitsm_emu_mem_write(struct pcitsm_emu_link *l, enum pcitsm_ide_side from, uint64_t addr,
				const void *buf, size_t len) PCITSM_MUST_CHECK;
/* Memory Read: E_NORESPONSE if no completion came back (dropped, failed the IDE check), E_IO for
 * an unsuccessful completion status (an address outside the other side's memory). */
pcitsm_err pcitsm_emu_mem_read(struct pcitsm_emu_link *l, enum pcitsm_ide_side from, uint64_t addr,
			       void *buf, size_t len) PCITSM_MUST_CHECK;

/* TDISP gating (PCIe 6.x §11; docs/tdisp.md "The platform"). A Memory Request with T=1 is
 * valid only inside an IDE TLP: E_STATE unless the sender's TLP selects a Secure stream (the port
 * never sends T=1 in the clear). The T bit travels in the IDE TLP Prefix, under the MAC, and the
 * completion carries the request's (cpl_t records it). req: the requesting function (the
 * endpoint side: PF0 or one of its functions, whose Requester ID the TLP carries; NULL: PF0 /
 * the root port). What the receiving side does:
 *   host memory (requests from the endpoint): the upper half of the host's memory (up to the
 *   scratch area) is the confidential VM's private memory. T=1 reaches it, or any host memory,
 *   only while the requester's TDI is RUN; otherwise the host drops a write and answers a read
 *   Unsupported Request. T=0 never reaches private memory (dropped / UR).
 *   the endpoint's MMIO (requests from the root port): a function's TEE range (its BAR0 less the
 *   non-TEE page, the MSI-X table and the PBA) answers T=1 only while its TDI is RUN, and T=0 only
 *   while it is CONFIG_UNLOCKED; otherwise the device drops a write and completes a read UR.
 * A refused read returns E_IO (the completion's status); each refusal counts in tee_refused. */
pcitsm_err pcitsm_emu_tee_write(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
				const struct pcitsm_emu_func *req, bool t, uint64_t addr,
				const void *buf, size_t len) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_emu_tee_read(struct pcitsm_emu_link *l, enum pcitsm_ide_side from,
			       const struct pcitsm_emu_func *req, bool t, uint64_t addr, void *buf,
			       size_t len) PCITSM_MUST_CHECK;
/* DMA by an endpoint function (the SVA device's engine, lib/sva): the bytes [va, va + len) read
 * from or written to host memory as Memory Requests from the endpoint's side of the link, with a
 * PASID TLP Prefix (PCIe 6.x §6.20.2) when pasid is not 0 and the T bit t in the IDE TLP Prefix:
 * Memory Writes of at most mps bytes, Memory Reads of at most mrrs (each a power of two, 128..4096;
 * 0: 4096), DW aligned (byte enables for the ends), never across their own size boundary (so never
 * a 4 KiB one, PCIe 6.x §2.2.7), PCITSM_IDE_WIRE_BURST of them per wire burst, each read with its
 * own tag, its completions gathered by tag. The root port serves them through the IOMMU hook after
 * the TDISP gate (pcitsm_emu_tee_write's rules: T=1 only from a TDI in RUN). *done: bytes moved
 * before the first failure. E_RANGE: an I/O page fault, or a request the gate refused (a write
 * dropped, a read completed UR), at *fault; E_STATE: the endpoint's engine refused to send (T=1
 * without a Secure stream, a stream not Secure); E_NORESPONSE: a read not completed (lost on the
 * wire). The link's lock is held for the whole call. */
struct pcitsm_emu_dma {
	const struct pcitsm_emu_func *req; /* the requesting function (NULL: PF0) */
	uint32_t pasid;                    /* 0: no PASID (an IOVA) */
	bool t;
	uint16_t mps, mrrs;
};
pcitsm_err pcitsm_emu_dma_write(struct pcitsm_emu_link *l, const struct pcitsm_emu_dma *d,
				uint64_t va, const void *buf, size_t len, size_t *done,
				uint64_t *fault) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_emu_dma_read(struct pcitsm_emu_link *l, const struct pcitsm_emu_dma *d,
			       uint64_t va, void *buf, size_t len, size_t *done, uint64_t *fault)
	PCITSM_MUST_CHECK;
/* The link an endpoint function's requests cross (PF0's or a sibling's: its device's), or NULL. */
struct pcitsm_emu_link *pcitsm_emu_func_link(struct pcitsm_emu_platform *p,
					     const struct pcitsm_emu_func *f);
/* Register (ops NULL: remove) the IOMMU hook of link l. */
void pcitsm_emu_link_set_iommu(struct pcitsm_emu_link *l, const struct pcitsm_emu_iommu *ops);

/* The private memory of the host behind l: [*base, *base + *size). */
void pcitsm_emu_private_mem(const struct pcitsm_emu_link *l, uint64_t *base, size_t *size);

/* One posted and one non-posted request each way, into the scratch area (so one TLP on each of the
 * six receiving sub-streams): after a key refresh, every receiver sees the new key set and drops
 * the old one (PCIe 6.x §6.33 key refresh), as live traffic would make it. */
pcitsm_err pcitsm_emu_link_flush(struct pcitsm_emu_link *l) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * The root port's private key path: how platform firmware installs IDE keys in a root port
 * (neither config space nor DOE reach it; in Linux drivers/pci/ide.c keys never reach the kernel).
 * The platform firmware reaches them as pcitsm_emu_rp_keys' grant (lib/tsmfw never names lib/emu);
 * `pcitsm connect tcp:` as pcitsm_emu_rp_key_ops. key is in KEY_PROG byte order (PCIe 6.x §6.33.3;
 * docs/ide-wire-format.md).
 */
pcitsm_err pcitsm_emu_rp_key_prog(struct pcitsm_emu_func *rp, uint8_t stream_id, unsigned kset,
				  enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				  const uint8_t key[32], const uint8_t ifv[8]) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_emu_rp_k_set_go(struct pcitsm_emu_func *rp, uint8_t stream_id, unsigned kset,
				  enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_emu_rp_k_set_stop(struct pcitsm_emu_func *rp, uint8_t stream_id, unsigned kset,
				    enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub)
	PCITSM_MUST_CHECK;

/* The same three as IDE_KM's partner key path: port is a struct pcitsm_emu_func * (a root port). */
extern const struct pcitsm_idekm_partner_ops pcitsm_emu_rp_key_ops;

/* ---------------------------------------------------------------------------------------------
 * What this platform provides to the TSM (include/pcitsm/platform.h).
 */
/* The host's grant: functions in p->funcs order (index i is p->funcs[i]), the host bridge, memory
 * traffic and the flush of each endpoint's link. */
void pcitsm_emu_tsm_platform(struct pcitsm_emu_platform *p, struct pcitsm_platform *out);
/* The platform firmware's grant: the root ports' private key path (pcitsm_emu_rp_key_ops, a root
 * port found by its Port Number). */
void pcitsm_emu_rp_keys(struct pcitsm_emu_platform *p, struct pcitsm_platform_rp_keys *out);

/* ---------------------------------------------------------------------------------------------
 * The devices' responders: on every endpoint an identity (certificate chain + key), an SPDM
 * responder with secure sessions on its CMA and secured-CMA DOE protocols, and an IDE_KM responder
 * registered as its VENDOR_DEFINED handler for protocol 0x00, bound to that endpoint's config
 * space and IDE engine. Faults make a device misbehave for tests.
 */
struct pcitsm_emu_dev_faults {
	bool untrusted_cert;   /* identity root not added to the trust anchors handed back */
	struct pcitsm_spdm_faults spdm; /* the SPDM responder's (pcitsm/spdm_rsp.h), e.g. bad_signature */
	bool refuse_key_prog;  /* IDE_KM KEY_PROG answered KP_ACK status 4 (unspecified failure) */
	bool query_resp_lie;   /* IDE_KM QUERY_RESP claims an IDE Capability bit (Aggregation)
				* flipped from what config space holds: a downgrade to catch */
};
/* The largest DOE response (header included) an emulated device sends by default: QEMU drops
 * any larger frame from its SPDM socket and loses step with it (docs/emulated-platform.md). */
#define PCITSM_EMU_DOE_RSP_MAX 4608u
/* The smallest bound accepted: room for DSP0274's minimum DataTransferSize, sealed. */
#define PCITSM_EMU_DOE_RSP_MIN 256u

/* One emulated device: its identity, SPDM responder (CMA, secured CMA), IDE_KM responder. */
struct pcitsm_emu_device_cfg {
	const struct pcitsm_identity *identity; /* borrowed (outlives the device); NULL: generate */
	const char *name;          /* generated identity's device name (NULL: from the BDF) */
	unsigned curve_bits;       /* 256 or 384 (default) for a generated identity */
	uint8_t heartbeat_period;  /* HeartbeatPeriod offered in KEY_EXCHANGE_RSP (0: none) */
	/* End a session that sends nothing for two HeartbeatPeriods (DSP0274 HEARTBEAT), by the
	 * env's clock, checked at every request and whenever the device's TDI state is observed
	 * (pcitsm_emu_tdi_state, the DMA and MMIO gating, its events): its TDIs go to ERROR, its
	 * streams Insecure. Off by default: requesters that never send HEARTBEAT (DMTF's validator
	 * between steps, our firmware TSM) would lose their sessions. */
	bool heartbeat_watchdog;
	const uint8_t *versions;   /* SPDM versions offered in VERSION (0x10..0x13) */
	unsigned nr_versions;      /* 0: the responder's default (1.0 to 1.3) */
	/* Largest DOE response in bytes, DOE header included: PCITSM_EMU_DOE_RSP_MIN ..
	 * PCITSM_DOE_MAX_BYTES (0: PCITSM_EMU_DOE_RSP_MAX). The SPDM responder's DataTransferSize
	 * and MaxSPDMmsgSize follow from it (4096 at the default). */
	uint32_t max_doe_rsp;
	struct pcitsm_emu_dev_faults faults;
	void (*key_observer)(void *arg, const uint8_t key[32], const uint8_t ifv[8]); /* tests */
	void *key_observer_arg;
};
struct pcitsm_emu_device;
/* THE constructor of an emulated device, on endpoint ep (which must have a DOE instance): the
 * identity's root is added to trust (if given and not untrusted_cert); the endpoint's CMA and
 * secured-CMA protocols are served by the device until it is freed (before its platform).
 * E_INVAL (bad configuration), E_EXISTS (ep already has a device). */
pcitsm_err pcitsm_emu_device_new(struct pcitsm_emu_device **d, struct pcitsm_emu_func *ep,
				 const struct pcitsm_emu_device_cfg *cfg,
				 const struct pcitsm_env *env, struct pcitsm_trust *trust)
	PCITSM_MUST_CHECK;
void pcitsm_emu_device_free(struct pcitsm_emu_device *d);
const struct pcitsm_identity *pcitsm_emu_device_identity(const struct pcitsm_emu_device *d);
uint32_t pcitsm_emu_device_data_transfer_size(const struct pcitsm_emu_device *d);
unsigned pcitsm_emu_device_requests(const struct pcitsm_emu_device *d); /* SPDM requests served */

/* One device on its own, as `pcitsm emulate` serves it: a one-port platform (the default
 * platform's first link, DOE capability version doe_version 1 or 2) whose endpoint carries
 * pcitsm_emu_device_new(cfg). Serve pcitsm_emu_standalone_endpoint(s)->doe. */
struct pcitsm_emu_standalone;
pcitsm_err pcitsm_emu_standalone_new(struct pcitsm_emu_standalone **s,
				     const struct pcitsm_emu_device_cfg *cfg, uint8_t doe_version,
				     const struct pcitsm_env *env) PCITSM_MUST_CHECK;
void pcitsm_emu_standalone_free(struct pcitsm_emu_standalone *s);
struct pcitsm_emu_func *pcitsm_emu_standalone_endpoint(struct pcitsm_emu_standalone *s);
struct pcitsm_emu_device *pcitsm_emu_standalone_device(struct pcitsm_emu_standalone *s);

struct pcitsm_emu_devices_cfg {
	const char *identity_dir; /* NULL: a fresh P-384 identity per endpoint */
	unsigned curve_bits;      /* 256 or 384 (default) for generated identities */
	uint8_t heartbeat_period; /* HeartbeatPeriod offered in KEY_EXCHANGE_RSP (0: none) */
	bool heartbeat_watchdog;  /* pcitsm_emu_device_cfg.heartbeat_watchdog, for every device */
	uint8_t spdm_version;     /* 0: the responders' default versions; else only this one */
	uint32_t max_doe_rsp;     /* every device's DOE response bound (0: PCITSM_EMU_DOE_RSP_MAX) */
	struct pcitsm_emu_dev_faults faults[PCITSM_EMU_MAX_PORTS]; /* by port index */
	/* Tests only: sees every key a device receives in KEY_PROG (KEY_PROG byte order), inside the
	 * device, so that a test can search host-side records for it. */
	void (*key_observer)(void *arg, const uint8_t key[32], const uint8_t ifv[8]);
	void *key_observer_arg;
};
/* TDISP (PCIe 6.x §11): function 0's SPDM responder serves the DSM (vendor-defined protocol 1),
 * with one TDI per function of the device (PF0 and functions 1..n, interface ID = Requester ID).
 * The DSM, for tests that play a misbehaving device (e.g. a report that changes). */
struct pcitsm_tdisp_dsm *pcitsm_emu_device_dsm(struct pcitsm_emu_device *d);
/* The TDI state of function f (an endpoint function of a device), or -1 if it has no TDI. */
int pcitsm_emu_tdi_state(const struct pcitsm_emu_func *f);
/* The cause of f's last move to ERROR (PCITSM_TDISP_CAUSE_NONE if none or no TDI). */
enum pcitsm_tdisp_cause pcitsm_emu_tdi_cause(const struct pcitsm_emu_func *f);

struct pcitsm_emu_devices;
/* pcitsm_emu_device_new for every endpoint with a DOE mailbox; the roots of the identities without
 * untrusted_cert are added to trust (the platform's anchors). The devices must be freed before the
 * platform. */
pcitsm_err pcitsm_emu_devices_new(struct pcitsm_emu_devices **d, struct pcitsm_emu_platform *p,
				  const struct pcitsm_emu_devices_cfg *cfg, struct pcitsm_trust *trust)
	PCITSM_MUST_CHECK;
void pcitsm_emu_devices_free(struct pcitsm_emu_devices *d);

#endif /* PCITSM_EMU_H */
