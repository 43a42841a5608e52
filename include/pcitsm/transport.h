/* SPDX-License-Identifier: MIT */
/*
 * THE transport interface every protocol engine talks through, and its adapters outside the
 * mailbox (docs/transports.md).
 *
 * A transport exchanges one DOE object (PCIe 6.x §6.30.1) for one DOE object. Adapters: the
 * host-side mailbox over a config-space accessor (pcitsm/doe.h: a real device through sysfs, or
 * emulated), an in-process loopback to a device's handlers, and the spdm-emu TCP protocol, whose
 * server side also lives here. Every adapter moves bytes; the engines above it only transform them.
 */
#ifndef PCITSM_TRANSPORT_H
#define PCITSM_TRANSPORT_H

#include "pcitsm/core.h"

struct pcitsm_doe_dev; /* pcitsm/doe.h: the device-side handlers a loopback or server calls */

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

/* In-process loopback transport straight into a device's handlers (no registers). */
struct pcitsm_xport_loop {
	struct pcitsm_xport x;
	struct pcitsm_doe_dev *dev;
};
void pcitsm_xport_loop_init(struct pcitsm_xport_loop *l, struct pcitsm_doe_dev *dev);

/* =============================================================================================
 * spdm-emu TCP transport (lib/transport/tcp.c)
 *
 * The DMTF spdm-emu "platform port" protocol (docs/transports.md): every frame in both
 * directions is `command u32 BE | transport u32 BE | payload_size u32 BE | payload`. With transport
 * PCI_DOE the payload is one whole DOE object. Choices where the protocol leaves room are in
 * docs/transports.md.
 * ============================================================================================= */
#define PCITSM_SPDMEMU_PORT_DEFAULT 2323 /* docs/transports.md: MCTP / PCI_DOE / NONE transports */
#define PCITSM_SPDMEMU_CMD_NORMAL 0x0001u
#define PCITSM_SPDMEMU_CMD_DECAP_TDISP 0x0002u /* a bare TDISP request outside any session */
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
/* The largest payload either end accepts: one whole DOE object, 2^18 DW with its header (PCIe 6.x
 * §6.30.1); equal to PCITSM_DOE_MAX_BYTES, which lib/transport/tcp.c asserts. */
#define PCITSM_SPDMEMU_MAX_PAYLOAD (4u << 18)
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

/* The server (one device, one owner at a time, like spdm-emu). The protocol step
 * pcitsm_spdmemu_serve_frame does no I/O: it answers one parsed frame, appending the reply frame
 * to out. TEST -> TEST "Server Hello!"; NORMAL/PCI_DOE -> the device's response object;
 * NORMAL/NONE -> the bare SPDM response (the request is wrapped as a CMA object for dispatch and
 * the response unwrapped, DW padding included); a silently discarded object -> NORMAL with an
 * empty payload; CONTINUE / SHUTDOWN -> echoed with an empty payload; anything else (including NORMAL
 * over MCTP or TCP) -> UNKNOWN with an empty payload. DECAP_TDISP -> NORMAL carrying the bare
 * TDISP response decap_tdisp gives (docs/transports.md), or UNKNOWN when decap_tdisp is NULL or
 * fails. Device state survives connections. A malformed frame (oversize payload_size, EOF
 * mid-frame) closes that connection only.
 *
 * The socket loop (lib/transport/tcp_server.c) reads every connection at once and lets one own
 * the device: the connection whose NORMAL or DECAP_TDISP frame was answered, until it closes or
 * is dropped; the others' frames wait. Bounds (docs/security.md, "Socket servers under load"),
 * set by init and changeable before run: max_conns (one more is accepted and closed at once),
 * frame_timeout_ns (a frame must arrive whole, and its reply leave, within it), idle_timeout_ns
 * (a connection with no frame under way is dropped after it, except the owner while no other
 * connection waits). */
#define PCITSM_SPDMEMU_MAX_CONNS 64u
#define PCITSM_SPDMEMU_FRAME_TIMEOUT_NS (10ull * 1000000000ull)
#define PCITSM_SPDMEMU_IDLE_TIMEOUT_NS (60ull * 1000000000ull)
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
	uint8_t *out; /* reply frame */
	uint8_t *wrap; /* NONE transport: the request wrapped as a DOE object */
	/* SHUTDOWN ends the connection only and the server accepts the next client (a device port
	 * of a long-lived platform); off, SHUTDOWN stops the server (spdm-emu's responder). */
	bool serve_after_shutdown;
	/* DECAP_TDISP: answer the bare TDISP request req (from its Protocol ID byte) into rsp, for
	 * example with pcitsm_spdmemu_decap_tdisp_dsm. NULL: the command is answered UNKNOWN. */
	pcitsm_err (*decap_tdisp)(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp);
	void *decap_arg;
	unsigned max_conns;         /* PCITSM_SPDMEMU_MAX_CONNS */
	uint64_t frame_timeout_ns;  /* PCITSM_SPDMEMU_FRAME_TIMEOUT_NS */
	uint64_t idle_timeout_ns;   /* PCITSM_SPDMEMU_IDLE_TIMEOUT_NS */
	uint64_t ready_seq;         /* the loop's frame order */
	unsigned long connections, frames, bad_frames, shutdowns;
	unsigned long refused;      /* over max_conns: closed at once */
	unsigned long timeouts;     /* dropped: a frame too slow, idle, or a reply not taken */
};
/* Buffers and the stop pipe; no socket yet. */
pcitsm_err pcitsm_spdmemu_server_init(struct pcitsm_spdmemu_server *s, struct pcitsm_doe_dev *dev,
				      const struct pcitsm_env *env) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_spdmemu_serve_frame(struct pcitsm_spdmemu_server *s,
				      const struct pcitsm_spdmemu_frame_hdr *h,
				      const uint8_t *payload, struct pcitsm_wr *out,
				      enum pcitsm_spdmemu_action *act) PCITSM_MUST_CHECK;
/* A decap_tdisp for a device's DSM (arg: struct pcitsm_tdisp_dsm *), as QEMU's TDISP models
 * use DECAP_TDISP: only GET_DEVICE_INTERFACE_STATE is served outside a session, answered with the
 * TDI's state (function_id: the function's requester ID); another request is TDISP_ERROR
 * UNSUPPORTED_REQUEST, a malformed one INVALID_REQUEST, an unknown function INVALID_INTERFACE.
 * No TDI's state changes. E_NOSPC when rsp is too small. */
pcitsm_err pcitsm_spdmemu_decap_tdisp_dsm(void *dsm, const uint8_t *req, size_t len,
					  struct pcitsm_wr *rsp) PCITSM_MUST_CHECK;
/* Bind and listen on host:port (IPv4 or IPv6 literal or name; port "0" picks a free port). */
pcitsm_err pcitsm_spdmemu_server_listen(struct pcitsm_spdmemu_server *s, const char *host,
					const char *port) PCITSM_MUST_CHECK;
/* Serve until a SHUTDOWN frame (unless serve_after_shutdown) or a stop request (both OK);
 * E_SYSTEM if accept or poll fails, E_INVAL for a zero bound, E_NOMEM. */
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

#endif /* PCITSM_TRANSPORT_H */
