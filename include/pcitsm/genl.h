/* SPDX-License-Identifier: MIT */
/*
 * Generic netlink, and the device evidence a real host's kernel exports over it (docs/genl.md).
 *
 * Linux's proposed TDISP support (the devsec PCI/TSM series, not in 6.19) exports a device's
 * evidence -- certificate chains, the VCA transcript, the MEASUREMENTS response and the TDISP
 * interface report -- through one dump-only, admin-only operation, evidence-read, of the generic
 * netlink family "pci-tsm". THE ABI IS A PROPOSAL: the numbers below are the proposal's
 * (Documentation/netlink/specs/pci-tsm.yaml, include/uapi/linux/pci-tsm-netlink.h of the devsec
 * tsm tree) and may change before it is merged.
 *
 * Two halves, as everywhere in pcitsm:
 *  - engine (no I/O): netlink message encoders, a walker that checks every message of a received
 *    datagram (length, sequence, port, NLMSG_ERROR / NLMSG_DONE, extended ack), an attribute
 *    reader, and the evidence reassembler that concatenates repeated `val` attributes per type
 *    under the 16 MiB bound. Kernel bytes are untrusted input: everything goes through
 *    lib/core's bounded reader.
 *  - driver (pcitsm_genl_sock_*): a raw AF_NETLINK socket that resolves a family through nlctrl
 *    and runs a dump to its end.
 * Netlink integers are in host byte order (Linux include/uapi/linux/netlink.h).
 */
#ifndef PCITSM_GENL_H
#define PCITSM_GENL_H

#include "pcitsm/core.h"

/* ---------------------------------------------------------------------------------------------
 * Netlink and generic netlink numbers (Linux include/uapi/linux/netlink.h, genetlink.h): stable
 * kernel ABI.
 */
#define PCITSM_NLMSG_HDRLEN 16u /* len u32, type u16, flags u16, seq u32, pid u32 */
#define PCITSM_GENL_HDRLEN 4u   /* cmd u8, version u8, reserved u16 */
#define PCITSM_NLA_HDRLEN 4u    /* len u16, type u16 */
#define PCITSM_NLMSG_NOOP 1u
#define PCITSM_NLMSG_ERROR 2u
#define PCITSM_NLMSG_DONE 3u
#define PCITSM_NLMSG_OVERRUN 4u
#define PCITSM_NLM_F_REQUEST 0x001u
#define PCITSM_NLM_F_MULTI 0x002u
#define PCITSM_NLM_F_ACK 0x004u
#define PCITSM_NLM_F_DUMP 0x300u       /* ROOT | MATCH */
#define PCITSM_NLM_F_CAPPED 0x100u     /* on NLMSG_ERROR: the request is not echoed */
#define PCITSM_NLM_F_ACK_TLVS 0x200u   /* on NLMSG_ERROR / DONE: extended-ack TLVs follow */
#define PCITSM_NLMSGERR_ATTR_MSG 1u    /* extended ack: a string */
#define PCITSM_NLA_TYPE_MASK 0x3fffu   /* without NLA_F_NESTED / NLA_F_NET_BYTEORDER */
#define PCITSM_GENL_ID_CTRL 0x10u      /* nlctrl's own family id */
#define PCITSM_CTRL_CMD_NEWFAMILY 1u
#define PCITSM_CTRL_CMD_GETFAMILY 3u
#define PCITSM_CTRL_VERSION 2u
#define PCITSM_CTRL_ATTR_FAMILY_ID 1u   /* u16 */
#define PCITSM_CTRL_ATTR_FAMILY_NAME 2u /* NUL-terminated string */
#define PCITSM_GENL_NAMSIZ 16u          /* GENL_NAMSIZ, the NUL included */

/* ---------------------------------------------------------------------------------------------
 * The pci-tsm family [proposal] (docs/genl.md "The proposal, number by number").
 */
#define PCITSM_TSMNL_FAMILY "pci-tsm"
#define PCITSM_TSMNL_VERSION 1u
#define PCITSM_TSMNL_CMD_EVIDENCE_READ 1u
enum pcitsm_tsmnl_attr {
	PCITSM_TSMNL_A_TYPE = 1,      /* reply: u32, the evidence type of the vals that follow */
	PCITSM_TSMNL_A_TYPE_MASK = 2, /* request: u32, one bit per type */
	PCITSM_TSMNL_A_FLAGS = 3,     /* request: u32, PCITSM_TSMNL_FLAG_* */
	PCITSM_TSMNL_A_DEV_NAME = 4,  /* request: NUL-terminated PCI device name */
	PCITSM_TSMNL_A_NONCE = 5,     /* request: binary, at most PCITSM_TSMNL_NONCE_MAX */
	PCITSM_TSMNL_A_VAL = 6,       /* reply: binary, one piece of the object */
};
enum pcitsm_tsmnl_type {
	PCITSM_TSMNL_CERT0 = 0, /* .. CERT7 = 7: the SPDM certificate chain of slot N */
	PCITSM_TSMNL_VCA = 8,   /* the VERSION .. ALGORITHMS transcript */
	PCITSM_TSMNL_MEASUREMENTS = 9,
	PCITSM_TSMNL_REPORT = 10, /* the TDISP DEVICE_INTERFACE_REPORT response */
	PCITSM_TSMNL_NR_TYPES = 11,
};
#define PCITSM_TSMNL_TYPE_BIT(t) (1u << (t))
#define PCITSM_TSMNL_TYPE_ALL 0x7ffu
#define PCITSM_TSMNL_FLAG_DIGEST 1u /* the TSM's digest of each object instead of the object */
#define PCITSM_TSMNL_OBJECT_MAX (16u << 20)
#define PCITSM_TSMNL_NONCE_MAX 256u
#define PCITSM_TSMNL_DEV_NAME_MAX 32u /* the kernel's name buffer, the NUL included */

/* ---------------------------------------------------------------------------------------------
 * Engine: encoders. A message is begun, given attributes, and ended (its length patched in);
 * overflow is the writer's sticky E_NOSPC.
 */
/* nlmsghdr + genlmsghdr; returns the message's offset for pcitsm_genl_end. */
size_t pcitsm_genl_begin(struct pcitsm_wr *w, uint16_t type, uint16_t flags, uint32_t seq,
			 uint32_t portid, uint8_t cmd, uint8_t version);
/* One attribute, padded to 4 bytes. A payload over 65531 bytes is E_INVAL (nla_len is 16 bits). */
void pcitsm_genl_put(struct pcitsm_wr *w, uint16_t type, const void *p, size_t n);
void pcitsm_genl_put_u32(struct pcitsm_wr *w, uint16_t type, uint32_t v);
void pcitsm_genl_put_str(struct pcitsm_wr *w, uint16_t type, const char *s); /* NUL included */
void pcitsm_genl_end(struct pcitsm_wr *w, size_t start);
/* The kernel's end of a dump (NLMSG_DONE with err, 0 or a negative errno) and its error
 * (NLMSG_ERROR, capped: no echoed request), with an extended-ack message when ext is not NULL.
 * For tests and fuzz corpora: what the kernel sends, built the way it builds it. */
void pcitsm_genl_put_done(struct pcitsm_wr *w, uint32_t seq, uint32_t portid, int32_t err,
			  const char *ext);
void pcitsm_genl_put_error(struct pcitsm_wr *w, uint32_t seq, uint32_t portid, int32_t err,
			   const char *ext);

/* CTRL_CMD_GETFAMILY for name (at most 15 characters, else E_INVAL). */
pcitsm_err pcitsm_genl_getfamily_encode(struct pcitsm_wr *w, uint32_t seq, uint32_t portid,
					const char *name) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Engine: the received side.
 */
struct pcitsm_genl_attr {
	uint16_t type; /* NLA_F_* bits removed */
	const uint8_t *p;
	size_t len;
};
/* The next attribute of r into *a: false at the end of r or on a malformed attribute (nla_len
 * under 4 or past the end: r's sticky error E_SHORT / E_FIELD). Padding after the last attribute
 * may be absent. */
bool pcitsm_genl_attr_next(struct pcitsm_rd *r, struct pcitsm_genl_attr *a);
/* A u32 attribute: exactly 4 bytes, else E_FIELD. */
pcitsm_err pcitsm_genl_attr_u32(const struct pcitsm_genl_attr *a, uint32_t *v) PCITSM_MUST_CHECK;

/* One message of the expected family, as the walker hands it over. */
struct pcitsm_genl_msg {
	uint16_t flags;
	uint8_t cmd, version;
	const uint8_t *attrs;
	size_t attrs_len;
};
/* The state of one request's replies, across the datagrams that carry them. The walker checks
 * every message of a datagram: its length, its sequence number (seq: a reply to another request
 * is E_REPLAY), its port (portid), then NLMSG_NOOP is skipped, NLMSG_ERROR and a failed
 * NLMSG_DONE end the exchange with E_PEER_ERROR and kerr set, NLMSG_DONE ends a dump, a message
 * of type family goes to msg(), anything else is E_UNEXPECTED. A message of the family without
 * NLM_F_MULTI is a whole (non-dump) reply and ends the exchange too. The first error is sticky. */
struct pcitsm_genl_walk {
	uint32_t seq, portid;
	uint16_t family;
	pcitsm_err (*msg)(void *ctx, const struct pcitsm_genl_msg *m);
	void *ctx;
	bool done;
	pcitsm_err err;
	int kerr;     /* positive errno the kernel reported, else 0 */
	char ext[128]; /* the kernel's extended-ack message, or "" */
	unsigned nr_msgs;
};
typedef pcitsm_err (*pcitsm_genl_msg_fn)(void *ctx, const struct pcitsm_genl_msg *m);
void pcitsm_genl_walk_init(struct pcitsm_genl_walk *w, uint32_t seq, uint32_t portid,
			   uint16_t family, pcitsm_genl_msg_fn msg, void *ctx);
/* Walk one datagram. Bytes after the exchange ended, or a datagram after it, are E_LONG. */
pcitsm_err pcitsm_genl_walk_feed(struct pcitsm_genl_walk *w, const uint8_t *p,
				 size_t n) PCITSM_MUST_CHECK;

/* nlctrl's answer to GETFAMILY: the family id of the message whose FAMILY_NAME is name. */
struct pcitsm_genl_family {
	const char *name;
	uint16_t id;
	bool found;
};
pcitsm_err pcitsm_genl_family_msg(void *ctx, const struct pcitsm_genl_msg *m);

/* ---------------------------------------------------------------------------------------------
 * Engine: the evidence-read request and the reassembly of its replies.
 */
struct pcitsm_tsmnl_req {
	const char *dev_name; /* "0000:01:00.0", fewer than PCITSM_TSMNL_DEV_NAME_MAX characters */
	uint32_t type_mask;   /* PCITSM_TSMNL_TYPE_BIT()s, not 0 */
	uint32_t flags;       /* PCITSM_TSMNL_FLAG_* */
	const uint8_t *nonce; /* optional */
	size_t nonce_len;
};
pcitsm_err pcitsm_tsmnl_evidence_encode(struct pcitsm_wr *w, uint16_t family, uint32_t seq,
					uint32_t portid,
					const struct pcitsm_tsmnl_req *req) PCITSM_MUST_CHECK;

/* The objects of one evidence-read. Each requested type's object is the concatenation of the
 * `val` attributes after its `type` attribute; the kernel sends the types in ascending order,
 * each once, and an object that the TSM does not have as one empty `val`. */
struct pcitsm_tsmnl_evidence {
	uint32_t mask;     /* the types asked for */
	uint32_t present;  /* the types whose `type` attribute arrived */
	size_t limit;      /* largest object accepted: PCITSM_TSMNL_OBJECT_MAX (tests lower it) */
	uint8_t *obj[PCITSM_TSMNL_NR_TYPES]; /* malloc'd, NULL while empty */
	size_t len[PCITSM_TSMNL_NR_TYPES];
	size_t cap[PCITSM_TSMNL_NR_TYPES];
	int cur;           /* the type whose vals arrive now, -1 before the first */
};
void pcitsm_tsmnl_evidence_init(struct pcitsm_tsmnl_evidence *ev, uint32_t mask);
void pcitsm_tsmnl_evidence_free(struct pcitsm_tsmnl_evidence *ev);
/* The walker's msg() for evidence-read replies (ctx: the evidence). E_FIELD: a `type` attribute
 * not 4 bytes or not a known type; E_UNEXPECTED: another command, a type not asked for, out of
 * order or repeated, a `val` before any `type`; E_RANGE: an object over ev->limit; E_NOMEM. */
pcitsm_err pcitsm_tsmnl_evidence_msg(void *ctx, const struct pcitsm_genl_msg *m);
/* After the dump's NLMSG_DONE: every requested type arrived, else E_SHORT. */
pcitsm_err pcitsm_tsmnl_evidence_complete(const struct pcitsm_tsmnl_evidence *ev) PCITSM_MUST_CHECK;
const char *pcitsm_tsmnl_type_name(unsigned t); /* "cert0" .. "report", NULL if unknown */

/* ---------------------------------------------------------------------------------------------
 * Driver: a generic netlink socket.
 */
struct pcitsm_genl_sock {
	int fd;
	uint32_t portid; /* the kernel-assigned port */
	uint32_t seq;    /* of the last request */
	uint8_t *buf;    /* receive buffer, grown to the largest datagram (PCITSM_GENL_DGRAM_MAX) */
	size_t cap;
	int timeout_ms;  /* per receive; a dump that stops arriving is E_TIMEOUT */
	unsigned foreign; /* datagrams dropped because they did not come from the kernel */
};
#define PCITSM_GENL_DGRAM_MAX (1u << 20)
/* Open and bind: E_UNSUPPORTED when the kernel has no generic netlink, E_SYSTEM otherwise. The
 * errno is in *sys_errno when not NULL. */
pcitsm_err pcitsm_genl_sock_open(struct pcitsm_genl_sock *s, int *sys_errno) PCITSM_MUST_CHECK;
void pcitsm_genl_sock_close(struct pcitsm_genl_sock *s);
/* Send one request of len bytes (its sequence number already s->seq) and walk the replies to the
 * end of the exchange or the first error. */
pcitsm_err pcitsm_genl_sock_exchange(struct pcitsm_genl_sock *s, const uint8_t *req, size_t len,
				     struct pcitsm_genl_walk *w) PCITSM_MUST_CHECK;
/* The id of family name through nlctrl: E_NOTFOUND (w->kerr ENOENT) when the kernel has none.
 * w receives the exchange's details (kernel errno, extended-ack words) for messages. */
pcitsm_err pcitsm_genl_sock_resolve(struct pcitsm_genl_sock *s, const char *name, uint16_t *id,
				    struct pcitsm_genl_walk *w) PCITSM_MUST_CHECK;
/* One evidence-read dump of family into ev (initialised by the caller with req->type_mask); w as
 * for resolve. E_SHORT after a clean end: a requested type never came. */
pcitsm_err pcitsm_genl_sock_evidence(struct pcitsm_genl_sock *s, uint16_t family,
				     const struct pcitsm_tsmnl_req *req,
				     struct pcitsm_tsmnl_evidence *ev,
				     struct pcitsm_genl_walk *w) PCITSM_MUST_CHECK;

/* The whole read as a program wants it: socket, family "pci-tsm", evidence-read (retried when
 * the kernel says the evidence changed during the read, EAGAIN), every requested type present.
 * ev is initialised by the caller (pcitsm_tsmnl_evidence_init; its limit is kept) and freed by
 * the caller (pcitsm_tsmnl_evidence_free) whatever the result.
 * On failure why says what went wrong in words: no generic netlink, no pci-tsm family (a kernel
 * without the proposal), needs CAP_NET_ADMIN, no such device, no evidence, the kernel's
 * extended-ack message, or which check the reply failed. */
pcitsm_err pcitsm_genl_evidence_read(const struct pcitsm_tsmnl_req *req,
				     struct pcitsm_tsmnl_evidence *ev, char *why,
				     size_t why_len) PCITSM_MUST_CHECK;

#endif /* PCITSM_GENL_H */
