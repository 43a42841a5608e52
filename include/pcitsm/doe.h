/* SPDX-License-Identifier: MIT */
/*
 * Data Object Exchange (PCIe 6.x §6.30): data objects, the device-side mailbox model, the host-side
 * mailbox driver, discovery, and THE transport interface every protocol engine talks through.
 *
 * A transport exchanges one DOE object for one DOE object. Adapters: the host-side mailbox over a
 * config-space accessor (real device through sysfs, or emulated), the spdm-emu TCP protocol, and an
 * in-process loopback to a device's handlers. Facts: trusted-io-facts.md §A, §G.
 */
#ifndef PCITSM_DOE_H
#define PCITSM_DOE_H

#include "pcitsm/core.h"
#include "pcitsm/pci.h"

#define PCITSM_DOE_VID_PCISIG 0x0001
#define PCITSM_DOE_TYPE_DISCOVERY 0x00
#define PCITSM_DOE_TYPE_CMA 0x01
#define PCITSM_DOE_TYPE_SECURED_CMA 0x02
#define PCITSM_DOE_TYPE_CMA_CID 0x03
#define PCITSM_DOE_TYPE_SECURED_CMA_CID 0x04
#define PCITSM_DOE_TYPE_ASYNC 0x05

#define PCITSM_DOE_HDR_LEN 8u
#define PCITSM_DOE_MAX_DW (1u << 18) /* a Length field of 0 means 2^18 DW (§A.2) */
#define PCITSM_DOE_MAX_BYTES (PCITSM_DOE_MAX_DW * 4u)
/* Timeout of 1 second from PCIe 6.x §6.30.2 (Linux PCI_DOE_TIMEOUT); polled every 1/128 s. */
#define PCITSM_DOE_TIMEOUT_NS 1000000000ull
#define PCITSM_DOE_POLL_NS (1000000000ull / 128)

/* A parsed object header. */
struct pcitsm_doe_hdr {
	uint16_t vid;
	uint8_t type;
	uint32_t len_dw; /* decoded: 2..2^18 */
};

/* Parse a whole object (header + DW-padded payload). The object's Length must equal len/4 exactly,
 * len must be a whole number of DWs, reserved bits zero, Length 1 invalid. payload/plen point into
 * obj. */
pcitsm_err pcitsm_doe_obj_parse(const uint8_t *obj, size_t len, struct pcitsm_doe_hdr *hdr,
				const uint8_t **payload, size_t *plen) PCITSM_MUST_CHECK;
/* Build an object: header + payload zero-padded to a DW. */
pcitsm_err pcitsm_doe_obj_build(struct pcitsm_wr *w, uint16_t vid, uint8_t type, const void *payload,
				size_t plen) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * The transport interface (requester side). One request object in, one response object out. The
 * payloads exclude the DOE header; the response payload is what the device sent, DW padding
 * included (protocol parsers strip it). Implementations check that the response's vendor and type
 * match the request's (E_FIELD otherwise) and report a response larger than rsp_cap as
 * E_TRUNCATED, never a silent cut.
 */
struct pcitsm_xport;
struct pcitsm_xport_ops {
	pcitsm_err (*exchange)(struct pcitsm_xport *x, uint16_t vid, uint8_t type, const uint8_t *req,
			       size_t req_len, uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);
	void (*close)(struct pcitsm_xport *x);
};
/* Observer of every object that crosses a transport (pcap capture); sees whole DOE objects. */
struct pcitsm_xport_tap {
	void (*object)(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj, size_t len);
};
struct pcitsm_xport {
	const struct pcitsm_xport_ops *ops;
	struct pcitsm_xport_tap *tap; /* optional */
	const char *name;             /* for messages: "doe:0000:01:00.0", "tcp:127.0.0.1:2323" */
};
pcitsm_err pcitsm_xport_exchange(struct pcitsm_xport *x, uint16_t vid, uint8_t type,
				 const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
				 size_t *rsp_len) PCITSM_MUST_CHECK;
void pcitsm_xport_close(struct pcitsm_xport *x);

/* ---------------------------------------------------------------------------------------------
 * Device side: protocol handlers behind one DOE instance. Discovery (type 0) is built in and
 * lists the registered handlers in registration order. A handler gets a request payload and
 * writes its response payload; returning E_NORESPONSE means "discard silently" (§A.2).
 */
struct pcitsm_doe_handler {
	uint16_t vid;
	uint8_t type;
	pcitsm_err (*handle)(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);
};
#define PCITSM_DOE_MAX_PROTOCOLS 8
struct pcitsm_doe_dev {
	struct pcitsm_doe_handler *handlers[PCITSM_DOE_MAX_PROTOCOLS];
	unsigned nr_handlers;
	uint8_t cap_version; /* 1, or 2: discovery version 2 semantics */
};
void pcitsm_doe_dev_init(struct pcitsm_doe_dev *d, uint8_t cap_version);
pcitsm_err pcitsm_doe_dev_register(struct pcitsm_doe_dev *d, struct pcitsm_doe_handler *h)
	PCITSM_MUST_CHECK;
/* Serve one whole request object, writing one whole response object. E_NORESPONSE: discarded. */
pcitsm_err pcitsm_doe_dev_dispatch(struct pcitsm_doe_dev *d, const uint8_t *req, size_t req_len,
				   uint8_t *rsp, size_t rsp_cap, size_t *rsp_len) PCITSM_MUST_CHECK;

/* In-process loopback transport straight into a device's handlers (no registers). */
struct pcitsm_xport_loop {
	struct pcitsm_xport x;
	struct pcitsm_doe_dev *dev;
};
void pcitsm_xport_loop_init(struct pcitsm_xport_loop *l, struct pcitsm_doe_dev *dev);

/* The DOE capability's register model on an emulated config space: write mailbox bounded by
 * max_obj_dw (overflow sets Error), Go, Busy, Data Object Ready, read-then-acknowledge, Abort.
 * The request is dispatched synchronously on Go; busy_polls > 0 makes Status read Busy for that many
 * reads after Go (to exercise waiting). */
struct pcitsm_doe_mbox {
	struct pcitsm_cfg_emu *cfg;
	uint16_t off;
	struct pcitsm_doe_dev *dev;
	uint32_t max_obj_dw;
	uint32_t *wbuf; /* max_obj_dw DWs */
	uint32_t wlen;
	uint32_t *rbuf; /* max_obj_dw DWs */
	uint32_t rlen, rpos;
	bool error, ready;
	unsigned busy_polls, busy_left;
	/* Fault injection for tests: ignore aborts (a dead mailbox), never answer, corrupt the
	 * response type. */
	bool fault_no_abort, fault_no_response, fault_wrong_type;
};
/* Installs the capability header's registers and a hook on [off, off + 0x18). */
pcitsm_err pcitsm_doe_mbox_init(struct pcitsm_doe_mbox *m, struct pcitsm_cfg_emu *cfg, uint16_t off,
				uint16_t next_cap, uint8_t cap_version, struct pcitsm_doe_dev *dev,
				uint32_t max_obj_dw) PCITSM_MUST_CHECK;
void pcitsm_doe_mbox_free(struct pcitsm_doe_mbox *m);

/* ---------------------------------------------------------------------------------------------
 * Host side: the mailbox driver, with Linux drivers/pci/doe.c semantics. It is also a transport.
 */
struct pcitsm_doe_proto {
	uint16_t vid;
	uint8_t type;
};
struct pcitsm_doe_host {
	struct pcitsm_xport x;
	struct pcitsm_cfg *cfg;
	uint16_t off;
	const struct pcitsm_env *env;
	bool dead; /* an abort failed: dead for good */
	struct pcitsm_doe_proto protos[PCITSM_DOE_MAX_PROTOCOLS * 4];
	unsigned nr_protos;
	uint8_t cap_version;
};
/* Take over the mailbox at off: abort to resynchronise (as Linux does), then run discovery. */
pcitsm_err pcitsm_doe_host_init(struct pcitsm_doe_host *h, struct pcitsm_cfg *cfg, uint16_t off,
				const struct pcitsm_env *env) PCITSM_MUST_CHECK;
bool pcitsm_doe_host_supports(const struct pcitsm_doe_host *h, uint16_t vid, uint8_t type);
/* Find a mailbox on cfg that supports (vid, type) and initialise h on it. */
pcitsm_err pcitsm_doe_host_find(struct pcitsm_doe_host *h, struct pcitsm_cfg *cfg, uint16_t vid,
				uint8_t type, const struct pcitsm_env *env) PCITSM_MUST_CHECK;

#endif /* PCITSM_DOE_H */
