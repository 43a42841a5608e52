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
/* Runs x->ops->exchange; when x->tap is set, shows it the request object before and the response
 * object after (rebuilt from vid/type and the payload; not on error). On E_TRUNCATED *rsp_len is
 * rsp_cap (the bytes stored). */
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

/* =============================================================================================
 * spdm-emu TCP transport and pcap capture (lib/doe/xport_tcp.c, lib/doe/pcap.c)
 *
 * The DMTF spdm-emu "platform port" protocol (trusted-io-facts.md §G): every frame in both
 * directions is `command u32 BE | transport u32 BE | payload_size u32 BE | payload`. With transport
 * PCI_DOE the payload is one whole DOE object. Choices where the protocol leaves room are in
 * docs/transports.md.
 * ============================================================================================= */
#define PCITSM_SPDMEMU_PORT_DEFAULT 2323 /* §G: MCTP / PCI_DOE / NONE transports */
#define PCITSM_SPDMEMU_CMD_NORMAL 0x0001u
#define PCITSM_SPDMEMU_CMD_OOB_KEY_UPDATE 0x8001u
#define PCITSM_SPDMEMU_CMD_OOB_ENDPOINT_INFO 0x8002u
#define PCITSM_SPDMEMU_CMD_TEST 0xdeadu
#define PCITSM_SPDMEMU_CMD_CONTINUE 0xfffdu
#define PCITSM_SPDMEMU_CMD_SHUTDOWN 0xfffeu
#define PCITSM_SPDMEMU_CMD_UNKNOWN 0xffffu
#define PCITSM_SPDMEMU_TRANSPORT_NONE 0u
#define PCITSM_SPDMEMU_TRANSPORT_MCTP 1u
#define PCITSM_SPDMEMU_TRANSPORT_PCI_DOE 2u
#define PCITSM_SPDMEMU_TRANSPORT_TCP 3u
#define PCITSM_SPDMEMU_FRAME_HDR_LEN 12u
/* The largest payload either end accepts: one whole DOE object (§A.2: 2^18 DW with header). */
#define PCITSM_SPDMEMU_MAX_PAYLOAD PCITSM_DOE_MAX_BYTES
/* Default receive timeout of the client: generous for a software responder doing signatures. */
#define PCITSM_SPDMEMU_TIMEOUT_NS (10ull * 1000000000ull)

struct pcitsm_spdmemu_frame_hdr {
	uint32_t command;
	uint32_t transport;
	uint32_t payload_size;
};
/* Parse a frame header (exactly PCITSM_SPDMEMU_FRAME_HDR_LEN bytes): E_SHORT / E_LONG on the size,
 * E_RANGE when payload_size exceeds max_payload. */
pcitsm_err pcitsm_spdmemu_hdr_parse(const uint8_t *buf, size_t len, size_t max_payload,
				    struct pcitsm_spdmemu_frame_hdr *h) PCITSM_MUST_CHECK;
/* Parse a whole frame: header plus exactly payload_size bytes (E_SHORT / E_LONG otherwise). */
pcitsm_err pcitsm_spdmemu_frame_parse(const uint8_t *buf, size_t len, size_t max_payload,
				      struct pcitsm_spdmemu_frame_hdr *h,
				      const uint8_t **payload) PCITSM_MUST_CHECK;
/* Append one frame (header + payload) to w. */
pcitsm_err pcitsm_spdmemu_frame_build(struct pcitsm_wr *w, uint32_t command, uint32_t transport,
				      const void *payload, size_t len) PCITSM_MUST_CHECK;

/* The server (one device, one connection at a time, like spdm-emu). The protocol step
 * pcitsm_spdmemu_serve_frame does no I/O: it answers one parsed frame, appending the reply frame
 * to out. TEST -> TEST "Server Hello!"; NORMAL/PCI_DOE -> the device's response object;
 * NORMAL/NONE -> the bare SPDM response (the request is wrapped as a CMA object for dispatch and
 * the response unwrapped, DW padding included); a silently discarded object -> NORMAL with an
 * empty payload; CONTINUE / SHUTDOWN -> echoed with an empty payload; anything else (including NORMAL
 * over MCTP or TCP) -> UNKNOWN with an empty payload. Device state survives connections. A
 * malformed frame (oversize payload_size, EOF mid-frame) closes that connection only. */
enum pcitsm_spdmemu_action {
	PCITSM_SPDMEMU_ACT_REPLY, /* send the reply, keep the connection */
	PCITSM_SPDMEMU_ACT_CONTINUE, /* send the reply, close this connection, accept the next */
	PCITSM_SPDMEMU_ACT_SHUTDOWN, /* send the reply, stop serving */
};
struct pcitsm_spdmemu_server {
	struct pcitsm_doe_dev *dev;
	struct pcitsm_xport_tap *tap; /* optional: sees every object in both directions */
	const struct pcitsm_env *env;
	int lfd; /* listening socket, -1 before listen */
	int stop_pipe[2]; /* pcitsm_spdmemu_server_stop writes one byte to [1] */
	uint16_t port; /* the bound port (useful with port "0") */
	uint8_t *in; /* request frame: header + payload */
	uint8_t *out; /* reply frame */
	uint8_t *wrap; /* NONE transport: the request wrapped as a DOE object */
	/* SHUTDOWN ends the connection only and the server accepts the next client (a device port
	 * of a long-lived platform); off, SHUTDOWN stops the server (spdm-emu's responder). */
	bool serve_after_shutdown;
	unsigned long connections, frames, bad_frames, shutdowns;
};
/* Buffers and the stop pipe; no socket yet. */
pcitsm_err pcitsm_spdmemu_server_init(struct pcitsm_spdmemu_server *s, struct pcitsm_doe_dev *dev,
				      const struct pcitsm_env *env) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdmemu_serve_frame(struct pcitsm_spdmemu_server *s,
				      const struct pcitsm_spdmemu_frame_hdr *h,
				      const uint8_t *payload, struct pcitsm_wr *out,
				      enum pcitsm_spdmemu_action *act) PCITSM_MUST_CHECK;
/* Bind and listen on host:port (IPv4 or IPv6 literal or name; port "0" picks a free port). */
pcitsm_err pcitsm_spdmemu_server_listen(struct pcitsm_spdmemu_server *s, const char *host,
					const char *port) PCITSM_MUST_CHECK;
/* Serve until a SHUTDOWN frame (unless serve_after_shutdown) or a stop request (both OK);
 * E_SYSTEM if accept fails. */
pcitsm_err pcitsm_spdmemu_server_run(struct pcitsm_spdmemu_server *s) PCITSM_MUST_CHECK;
/* Ask a running server to return; safe from another thread or a signal handler. */
void pcitsm_spdmemu_server_stop(struct pcitsm_spdmemu_server *s);
void pcitsm_spdmemu_server_close(struct pcitsm_spdmemu_server *s);

/* Client transport: connect, TCP_NODELAY, TEST handshake, then one NORMAL PCI_DOE frame per
 * exchange, written with one send(). A reply that is not NORMAL or carries another transport code
 * is E_UNEXPECTED; EOF mid-frame E_CLOSED; no complete reply within timeout_ns (env clock) E_TIMEOUT;
 * an empty NORMAL payload (the server's "discarded" answer) E_NORESPONSE. On close the client sends
 * SHUTDOWN if shutdown_on_close is set, else nothing. */
struct pcitsm_tcp_opts {
	uint64_t timeout_ns; /* 0: PCITSM_SPDMEMU_TIMEOUT_NS */
	bool shutdown_on_close; /* send SHUTDOWN (and wait for its echo) before closing */
};
struct pcitsm_xport_tcp {
	struct pcitsm_xport x;
	int fd;
	const struct pcitsm_env *env;
	struct pcitsm_tcp_opts opts;
	bool broken; /* a transport error left the stream out of step: E_DEAD from now on */
	int connect_errno; /* connect(): the last attempt's errno when no address took it, else 0 */
	uint8_t *buf; /* one frame: PCITSM_SPDMEMU_FRAME_HDR_LEN + PCITSM_SPDMEMU_MAX_PAYLOAD */
	char label[128];
};
/* host: a name or a literal IPv4/IPv6 address; port: decimal. */
pcitsm_err pcitsm_xport_tcp_connect(struct pcitsm_xport_tcp *t, const char *host, const char *port,
				    const struct pcitsm_tcp_opts *opts,
				    const struct pcitsm_env *env) PCITSM_MUST_CHECK;
/* Send one frame and read one reply frame of any command (for tests and CONTINUE / SHUTDOWN).
 * The reply payload goes to rsp (E_TRUNCATED if larger than rsp_cap). */
pcitsm_err pcitsm_xport_tcp_command(struct pcitsm_xport_tcp *t, uint32_t command,
				    uint32_t transport, const uint8_t *payload, size_t len,
				    struct pcitsm_spdmemu_frame_hdr *reply, uint8_t *rsp,
				    size_t rsp_cap) PCITSM_MUST_CHECK;

/* pcap capture: a tap writing one packet per DOE object, link type LINKTYPE_PCI_DOE (§G), with a
 * wall-clock timestamp. Link type 292 has no direction field: direction is implied by order
 * (requests and responses alternate; see docs/transports.md). The snapshot length is 65536, the
 * largest libspdm's spdm_dump accepts (it rejects a larger one in the global header); an object
 * longer than that is stored cut to its first 65536 bytes (caplen) with its true length (len), as
 * pcap allows, and counted in truncated. */
#define PCITSM_PCAP_LINKTYPE_PCI_DOE 292
#define PCITSM_PCAP_SNAPLEN 65536
struct pcap;
struct pcap_dumper;
struct pcitsm_pcap {
	struct pcitsm_xport_tap tap;
	struct pcap *pcap;
	struct pcap_dumper *dumper;
	unsigned long packets;
	unsigned long truncated; /* packets stored cut to PCITSM_PCAP_SNAPLEN */
	pcitsm_err err; /* first write error, reported by pcitsm_pcap_close */
};
pcitsm_err pcitsm_pcap_open(struct pcitsm_pcap *c, const char *path) PCITSM_MUST_CHECK;
/* Flush and close; returns the first error seen while capturing. */
pcitsm_err pcitsm_pcap_close(struct pcitsm_pcap *c) PCITSM_MUST_CHECK;

#endif /* PCITSM_DOE_H */
