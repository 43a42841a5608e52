/* SPDX-License-Identifier: MIT */
/*
 * Data Object Exchange (PCIe 6.x §6.30): data objects, the device-side protocol handlers and
 * mailbox model, and the host-side mailbox driver with discovery (docs/doe.md).
 *
 * The host-side mailbox is one adapter of the transport interface (pcitsm/transport.h), which
 * also holds the loopback and spdm-emu TCP adapters; pcap capture is pcitsm/capture.h.
 */
#ifndef PCITSM_DOE_H
#define PCITSM_DOE_H

#include "pcitsm/core.h"
#include "pcitsm/pci.h"
#include "pcitsm/transport.h"

#define PCITSM_DOE_VID_PCISIG 0x0001
#define PCITSM_DOE_TYPE_DISCOVERY 0x00
#define PCITSM_DOE_TYPE_CMA 0x01
#define PCITSM_DOE_TYPE_SECURED_CMA 0x02
#define PCITSM_DOE_TYPE_CMA_CID 0x03
#define PCITSM_DOE_TYPE_SECURED_CMA_CID 0x04
#define PCITSM_DOE_TYPE_ASYNC 0x05

#define PCITSM_DOE_HDR_LEN 8u
#define PCITSM_DOE_MAX_DW (1u << 18) /* a Length field of 0 means 2^18 DW (PCIe 6.x §6.30.1) */
#define PCITSM_DOE_MAX_BYTES (PCITSM_DOE_MAX_DW * 4u)
/* Timeout of 1 second from PCIe 6.x §6.30.2 (Linux PCI_DOE_TIMEOUT); polled every 1/128 s. */
#define PCITSM_DOE_TIMEOUT_NS 1000000000ull
#define PCITSM_DOE_POLL_NS (1000000000ull / 128)

/* A parsed object header. */
struct pcitsm_doe_hdr {
	uint16_t vid;
	uint8_t type;
	uint32_t len_dw; /* decoded: 2..2^18 */
	uint16_t conn_id; /* DW1 bits 29:18, PCI-SIG types 3 and 4 only (reserved for others) */
};

/* Parse a whole object (header + DW-padded payload). The object's Length must equal len/4 exactly,
 * len must be a whole number of DWs, reserved bits zero, Length 1 invalid. payload/plen point into
 * obj. Errors: E_SHORT (fewer bytes than Length says, or under 8), E_LONG (more), E_FIELD
 * (Length 1), E_RESERVED. */
pcitsm_err pcitsm_doe_obj_parse(const uint8_t *obj, size_t len, struct pcitsm_doe_hdr *hdr,
				const uint8_t **payload, size_t *plen) PCITSM_MUST_CHECK;
/* Build an object: header + payload zero-padded to a DW. A payload that would make the object
 * larger than 2^18 DW is E_INVAL; a full writer E_NOSPC. */
pcitsm_err pcitsm_doe_obj_build(struct pcitsm_wr *w, uint16_t vid, uint8_t type, const void *payload,
				size_t plen) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Device side: protocol handlers behind one DOE instance. Discovery (type 0) is built in and
 * lists the registered handlers in registration order. A handler gets a request payload and
 * writes its response payload; returning E_NORESPONSE means "discard silently" (PCIe 6.x §6.30.1).
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
	uint32_t max_obj_dw; /* Max DO Length in discovery v2's DW3 (0 = 2^18); mbox_init sets it */
};
void pcitsm_doe_dev_init(struct pcitsm_doe_dev *d, uint8_t cap_version);
pcitsm_err pcitsm_doe_dev_register(struct pcitsm_doe_dev *d, struct pcitsm_doe_handler *h)
	PCITSM_MUST_CHECK;
/* Serve one whole request object, writing one whole response object. E_NORESPONSE: discarded
 * (malformed object, unknown vid/type, or the handler chose silence). Any other handler error is
 * returned as is and no response is written (a mailbox sends nothing either). Discovery: index
 * 0 is Discovery itself, then the handlers in registration order; a bad index answers vid 0xFFFF;
 * the version byte is not checked (a version-2 device still answers version-0 requesters); DW3
 * (Max DO Length) is added for PCI-SIG types 3-5 when cap_version >= 2 and the request asks for
 * version 2. Register: E_INVAL (no handle or the Discovery type), E_EXISTS, E_EXHAUSTED. */
pcitsm_err pcitsm_doe_dev_dispatch(struct pcitsm_doe_dev *d, const uint8_t *req, size_t req_len,
				   uint8_t *rsp, size_t rsp_cap, size_t *rsp_len) PCITSM_MUST_CHECK;

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
/* Installs the capability header's registers and a hook on [off, off + 0x18). Semantics (see
 * docs/doe.md): a write-mailbox DW past max_obj_dw, a Go with fewer than 2 DWs written or while
 * Busy, and any partial-width mailbox access set Error; an object whose Length differs from the
 * DWs written is discarded silently; Error blocks Go and writes until Abort. fault_no_abort: the
 * mailbox is wedged (Status reads Busy for good, Abort ignored). fault_no_response: Go consumes
 * the object and nothing is answered. fault_wrong_type: the response's type is altered. */
pcitsm_err pcitsm_doe_mbox_init(struct pcitsm_doe_mbox *m, struct pcitsm_cfg_emu *cfg, uint16_t off,
				uint16_t next_cap, uint8_t cap_version, struct pcitsm_doe_dev *dev,
				uint32_t max_obj_dw) PCITSM_MUST_CHECK;
void pcitsm_doe_mbox_free(struct pcitsm_doe_mbox *m);

/* ---------------------------------------------------------------------------------------------
 * Host side: the mailbox driver, with Linux drivers/pci/doe.c semantics. It is also a transport
 * (pcitsm/transport.h).
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
/* Take over the mailbox at off: abort to resynchronise (as Linux does), then run discovery
 * (at most 256 requests; a Next Index seen twice is E_LOOP, an invalid index E_FIELD, more
 * protocols than protos[] E_EXHAUSTED). An abort that does not complete in 1 s marks the mailbox
 * dead: E_DEAD now and on every later exchange. Exchange errors: E_BUSY (Busy before sending;
 * aborted as Linux does), E_IO (Error set), E_TIMEOUT (no Data Object Ready in 1 s), E_FIELD
 * (response vid/type differ from the request's, or Length 1), E_RESERVED, E_TRUNCATED (response
 * larger than rsp_cap: the rest is drained, *rsp_len = rsp_cap). Every failure but E_TRUNCATED
 * aborts the mailbox. */
pcitsm_err pcitsm_doe_host_init(struct pcitsm_doe_host *h, struct pcitsm_cfg *cfg, uint16_t off,
				const struct pcitsm_env *env) PCITSM_MUST_CHECK;
bool pcitsm_doe_host_supports(const struct pcitsm_doe_host *h, uint16_t vid, uint8_t type);
/* Find a mailbox on cfg that supports (vid, type) and initialise h on it: every DOE capability
 * instance is tried in list order; one that fails to initialise is skipped. E_NOTFOUND if none
 * fits (or a broken capability list's E_LOOP / E_RANGE). */
pcitsm_err pcitsm_doe_host_find(struct pcitsm_doe_host *h, struct pcitsm_cfg *cfg, uint16_t vid,
				uint8_t type, const struct pcitsm_env *env) PCITSM_MUST_CHECK;

#endif /* PCITSM_DOE_H */
