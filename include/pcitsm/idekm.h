/* SPDX-License-Identifier: MIT */
/*
 * IDE_KM (PCIe §6.33.3): the IDE key-management protocol a TSM uses to program, switch and stop
 * the keys of an IDE stream at a device. Three parts, none of which does I/O:
 *
 *   codecs     every object (QUERY, QUERY_RESP, KEY_PROG, KP_ACK, K_SET_GO, K_SET_STOP,
 *              K_GOSTOP_ACK): encoders into a struct pcitsm_wr, strict decoders;
 *   requester  builds each request and checks the response against the request it answers,
 *              cross-checks QUERY_RESP against the config space the host reads itself, and makes
 *              the six keys (+ IFVs) of one stream and key set;
 *   responder  a device's side: bound to the function's config space (QUERY_RESP is read live from
 *              its IDE capability) and to one IDE engine port per port index (KEY_PROG, K_SET_GO,
 *              K_SET_STOP drive lib/ide).
 *
 * Every payload here starts at the Protocol ID byte (offset 0 of the object); the SPDM layer
 * carries it as a VENDOR_DEFINED_REQUEST/RESPONSE (StandardID 3, VendorID 0x0001) inside a secure
 * session. Specification: PCIe 6.x §6.33.3 (IDE_KM), §7.9.26 (IDE capability). Choices where it
 * is silent, and the status mapping: docs/idekm.md. Key and IFV byte order inside KEY_PROG lives
 * in one place, lib/ide (pcitsm_ide_km_key_from_aes / _to_aes, pcitsm_ide_km_ifv_encode / _decode).
 *
 * KEY_PROG requests carry a key: a buffer holding one is the caller's to wipe (pcitsm_wipe). Nothing
 * in this subsystem logs key bytes.
 */
#ifndef PCITSM_IDEKM_H
#define PCITSM_IDEKM_H

#include "pcitsm/core.h"
#include "pcitsm/ide.h"
#include "pcitsm/pci.h"

/* =============================================================================================
 * Wire constants (PCIe 6.x §6.33.3)
 * ============================================================================================= */
#define PCITSM_IDEKM_PROTOCOL_ID 0x00

#define PCITSM_IDEKM_OBJECTS(X)                                   \
	X(QUERY, 0x00) X(QUERY_RESP, 0x01) X(KEY_PROG, 0x02)      \
	X(KP_ACK, 0x03) X(K_SET_GO, 0x04) X(K_SET_STOP, 0x05)     \
	X(K_GOSTOP_ACK, 0x06)
enum pcitsm_idekm_obj {
#define PCITSM_IDEKM_OBJ_ENUM(name, val) PCITSM_IDEKM_##name = (val),
	PCITSM_IDEKM_OBJECTS(PCITSM_IDEKM_OBJ_ENUM)
#undef PCITSM_IDEKM_OBJ_ENUM
};
/* "KEY_PROG"; "UNKNOWN" for other values. */
const char *pcitsm_idekm_obj_name(uint8_t obj);

/* Sizes, counted from the Protocol ID byte. */
#define PCITSM_IDEKM_QUERY_LEN 4
#define PCITSM_IDEKM_QUERY_RESP_HDR_LEN 8 /* up to MaxPortIndex; the register copy follows */
#define PCITSM_IDEKM_KEY_PROG_LEN 48
#define PCITSM_IDEKM_KSET_LEN 8 /* KP_ACK, K_SET_GO, K_SET_STOP, K_GOSTOP_ACK */
#define PCITSM_IDEKM_KEY_LEN 32
#define PCITSM_IDEKM_IFV_LEN 8
#define PCITSM_IDEKM_IFV_INIT 1 /* PCIe 6.x §6.33.3: must be 1 (at setup and every refresh) */
/* QUERY_RESP's register copy is the IDE capability without its header; the capability lies in
 * extended config space (0x100..0xFFF), so the copy is at most 0x1000 - 0x100 - 4 bytes. */
#define PCITSM_IDEKM_REGS_MAX (PCITSM_CFG_SIZE_EXT - PCITSM_CFG_EXT_START - 4)
#define PCITSM_IDEKM_QUERY_RESP_MIN (PCITSM_IDEKM_QUERY_RESP_HDR_LEN + 8)
#define PCITSM_IDEKM_QUERY_RESP_MAX (PCITSM_IDEKM_QUERY_RESP_HDR_LEN + PCITSM_IDEKM_REGS_MAX)
/* The largest payload either side produces or accepts. */
#define PCITSM_IDEKM_MSG_MAX PCITSM_IDEKM_QUERY_RESP_MAX

/* KP_ACK Status (PCIe 6.x §6.33.3). 0x05-0xFF are reserved and treated as an unspecified failure. */
#define PCITSM_IDEKM_KP_STATUSES(X)                                                  \
	X(SUCCESS, 0x00, "success")                                                  \
	X(INCORRECT_LENGTH, 0x01, "incorrect length")                                \
	X(UNSUPPORTED_PORT_INDEX, 0x02, "unsupported PortIndex")                     \
	X(UNSUPPORTED_VALUE, 0x03, "unsupported value in another field")             \
	X(UNSPECIFIED_FAILURE, 0x04, "unspecified failure")
enum pcitsm_idekm_kp_status {
#define PCITSM_IDEKM_KP_ENUM(name, val, str) PCITSM_IDEKM_KP_##name = (val),
	PCITSM_IDEKM_KP_STATUSES(PCITSM_IDEKM_KP_ENUM)
#undef PCITSM_IDEKM_KP_ENUM
};
/* "UNSUPPORTED_PORT_INDEX"; "RESERVED" for 0x05-0xFF. */
const char *pcitsm_idekm_kp_status_name(uint8_t status);
/* "unsupported PortIndex"; "reserved status (unspecified failure)" for 0x05-0xFF. */
const char *pcitsm_idekm_kp_status_str(uint8_t status);

/* Key Sub-Stream byte: bit 0 key set, bit 1 direction (1 = Tx), bits 3:2 reserved, bits 7:4
 * sub-stream (0 PR, 1 NPR, 2 CPL; 3-15 unsupported). */
#define PCITSM_IDEKM_KSUB_KSET 0x01u
#define PCITSM_IDEKM_KSUB_TX 0x02u
#define PCITSM_IDEKM_KSUB_RSVD 0x0cu
#define PCITSM_IDEKM_KSUB_SUB_SHIFT 4

/* =============================================================================================
 * Codecs
 * ============================================================================================= */

/* The fields shared by KEY_PROG, KP_ACK, K_SET_GO, K_SET_STOP and K_GOSTOP_ACK: which key slot
 * (stream, key set, direction at the receiving port, sub-stream) at which port index. */
struct pcitsm_idekm_ks {
	uint8_t obj;             /* PCITSM_IDEKM_KEY_PROG, _KP_ACK, _K_SET_GO, _K_SET_STOP, _K_GOSTOP_ACK */
	uint8_t stream_id;
	uint8_t status;          /* KP_ACK only; 0 in the others */
	uint8_t kset;            /* 0 or 1 */
	enum pcitsm_ide_dir dir; /* PCITSM_IDE_RX / PCITSM_IDE_TX */
	enum pcitsm_ide_sub sub; /* PR, NPR, CPL */
	uint8_t port_index;
};

/* KEY_PROG: the slot, then the key and IFV exactly as they travel (KEY_PROG byte order, PCIe 6.x §6.33.3;
 * convert with pcitsm_ide_km_key_from_aes / pcitsm_ide_km_ifv_encode). Wipe it after use. */
struct pcitsm_idekm_key_prog {
	struct pcitsm_idekm_ks ks;
	uint8_t key[PCITSM_IDEKM_KEY_LEN];
	uint8_t ifv[PCITSM_IDEKM_IFV_LEN];
};

/* QUERY_RESP, decoded. regs points into the decoded buffer: keep it alive while using this. */
struct pcitsm_idekm_query_resp {
	uint8_t port_index;
	uint8_t dev_func;       /* non-ARI: device[7:3] function[2:0]; ARI: function number */
	uint8_t bus;
	uint8_t segment;
	uint8_t max_port_index;
	uint32_t ide_cap;       /* IDE Capability register */
	uint32_t ide_ctl;       /* IDE Control register */
	unsigned nr_link;       /* Link IDE blocks: Link TCs + 1 when Link IDE is supported, else 0 */
	unsigned nr_sel;        /* Selective IDE blocks: count + 1 when supported, else 0 */
	const uint8_t *regs;    /* the register copy, from the IDE Capability register on */
	size_t regs_len;
	/* Offsets of the registers, relative to the start of the IDE capability as in config
	 * space (IDE Capability = 0x04, first Link block = 0x0C). */
	uint16_t sel_off[PCITSM_IDE_MAX_SEL];
	uint8_t sel_naddr[PCITSM_IDE_MAX_SEL];
};
/* The register at capability-relative offset off (4-aligned, inside the copy), else 0. */
uint32_t pcitsm_idekm_qr_reg(const struct pcitsm_idekm_query_resp *qr, uint32_t off);
/* A name for the register at capability-relative offset off ("IDE Capability", "Link 0 Control",
 * "Selective 2 Address Association 1.3", ...) into buf. */
void pcitsm_idekm_qr_reg_name(const struct pcitsm_idekm_query_resp *qr, uint32_t off, char *buf,
			      size_t n);

/* The Key Sub-Stream byte. decode: E_RESERVED for bits 3:2, E_FIELD for a sub-stream above CPL. */
uint8_t pcitsm_idekm_ksub_encode(unsigned kset, enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub);
pcitsm_err pcitsm_idekm_ksub_decode(uint8_t b, uint8_t *kset, enum pcitsm_ide_dir *dir,
				    enum pcitsm_ide_sub *sub) PCITSM_MUST_CHECK;

/* The object ID of a payload (E_SHORT under 2 bytes, E_FIELD unless the Protocol ID is IDE_KM's).
 * Says nothing about the rest. */
pcitsm_err pcitsm_idekm_peek(const uint8_t *p, size_t n, uint8_t *obj) PCITSM_MUST_CHECK;

/* Encoders write the whole object or nothing (E_NOSPC, sticky in w); E_INVAL for a field out of
 * range (key set > 1, direction > 1, sub-stream > CPL, a Status outside KP_ACK, a wrong obj). */
pcitsm_err pcitsm_idekm_query_encode(struct pcitsm_wr *w, uint8_t port_index) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_idekm_ks_encode(struct pcitsm_wr *w, const struct pcitsm_idekm_ks *m)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_idekm_key_prog_encode(struct pcitsm_wr *w, const struct pcitsm_idekm_key_prog *kp)
	PCITSM_MUST_CHECK;
/* QUERY_RESP from its header fields (qr->port_index .. max_port_index; the rest is ignored) and the
 * register copy regs (n bytes, from the IDE Capability register): E_INVAL unless regs is exactly
 * the layout its own Capability registers describe, or max_port_index < port_index. */
pcitsm_err pcitsm_idekm_query_resp_encode(struct pcitsm_wr *w,
					  const struct pcitsm_idekm_query_resp *hdr,
					  const uint8_t *regs, size_t n) PCITSM_MUST_CHECK;

/* Strict decoders: exact size (E_SHORT / E_LONG), Protocol ID and the object ID(s) they accept
 * (E_FIELD), reserved bytes and bits zero (E_RESERVED), Key Sub-Stream in range (E_RESERVED /
 * E_FIELD), Status zero outside KP_ACK (E_RESERVED). QUERY_RESP: the register copy must be exactly
 * what its Capability registers describe (E_SHORT / E_LONG), fit in config space (E_RANGE), and
 * MaxPortIndex >= PortIndex (E_FIELD). */
pcitsm_err pcitsm_idekm_query_decode(const uint8_t *p, size_t n, uint8_t *port_index)
	PCITSM_MUST_CHECK;
/* KP_ACK, K_SET_GO, K_SET_STOP or K_GOSTOP_ACK; m->obj says which. */
pcitsm_err pcitsm_idekm_ks_decode(const uint8_t *p, size_t n, struct pcitsm_idekm_ks *m)
	PCITSM_MUST_CHECK;
/* On any error kp is wiped. */
pcitsm_err pcitsm_idekm_key_prog_decode(const uint8_t *p, size_t n, struct pcitsm_idekm_key_prog *kp)
	PCITSM_MUST_CHECK;
pcitsm_err pcitsm_idekm_query_resp_decode(const uint8_t *p, size_t n,
					  struct pcitsm_idekm_query_resp *qr) PCITSM_MUST_CHECK;
/* Why a QUERY_RESP of n bytes failed pcitsm_idekm_query_resp_decode with a size error (E_SHORT,
 * E_LONG, E_RANGE), in words for a person: the size received and the size the copy's own IDE
 * Capability register (and each Selective block's Capability register) imply, e.g.
 * "QUERY_RESP: 44 bytes, expected 52 for 1 link + 1 selective stream (IDE Capability register
 * 0x00000041)". Into buf (always terminated). */
void pcitsm_idekm_query_resp_explain(const uint8_t *p, size_t n, char *buf, size_t len);

/* =============================================================================================
 * Key material for one stream and key set (PCIe 6.x §6.33, §6.33.3)
 * ============================================================================================= */
#define PCITSM_IDEKM_NR_KEYS 6 /* 2 directions x 3 sub-streams */

/* Six AES-256 keys, each generated separately, and the IFV. key[dir][sub] is indexed by the
 * direction at the IDE_KM responder (the device): key[RX][sub] is what the device receives with,
 * so the partner port (the root port) transmits with it, and the other way round. Wipe with
 * pcitsm_idekm_keys_wipe on every path. */
struct pcitsm_idekm_keys {
	uint8_t stream_id;
	uint8_t kset;
	uint8_t key[2][PCITSM_IDE_NR_SUB][PCITSM_IDEKM_KEY_LEN]; /* AES key byte order */
	uint64_t ifv;
};
/* Fill k from env's random source (E_RNG on failure, or if two keys came out equal); on any error
 * k is wiped. E_INVAL for kset > 1 or the reserved Stream ID 255. */
pcitsm_err pcitsm_idekm_keys_generate(const struct pcitsm_env *env, uint8_t stream_id, unsigned kset,
				      struct pcitsm_idekm_keys *k) PCITSM_MUST_CHECK;
void pcitsm_idekm_keys_wipe(struct pcitsm_idekm_keys *k);
/* The i-th (0..5) slot in programming order: Rx PR, Rx NPR, Rx CPL, Tx PR, Tx NPR, Tx CPL. */
void pcitsm_idekm_keys_slot(unsigned i, enum pcitsm_ide_dir *dir, enum pcitsm_ide_sub *sub);
/* The i-th KEY_PROG for port_index, key and IFV converted to KEY_PROG byte order (E_INVAL for
 * i >= 6). kp holds a key: wipe it. */
pcitsm_err pcitsm_idekm_keys_key_prog(const struct pcitsm_idekm_keys *k, unsigned i,
				      uint8_t port_index, struct pcitsm_idekm_key_prog *kp)
	PCITSM_MUST_CHECK;
/* Program the partner port's engine (the root port, "by platform means", PCIe 6.x §6.33.3) with the
 * mirror image: its Tx gets key[RX][sub], its Rx gets key[TX][sub]. */
pcitsm_err pcitsm_idekm_keys_prog_partner(const struct pcitsm_idekm_keys *k,
					  struct pcitsm_ide_port *p) PCITSM_MUST_CHECK;

/* =============================================================================================
 * Requester engine
 * ============================================================================================= */
/* One request outstanding at a time (PCIe 6.x §6.33.3: wait for QUERY_RESP before anything
 * else; one KEY_PROG outstanding per port). A response that is malformed or does not answer the outstanding request
 * fails the requester (sticky: every later call returns the same error until
 * pcitsm_idekm_req_init). A KP_ACK with a non-zero Status is a well-formed answer: E_PEER_ERROR,
 * the Status in kp_status, and the requester stays usable. */
struct pcitsm_idekm_req {
	bool pending;
	uint8_t obj;                /* object ID of the outstanding request */
	uint8_t port_index;
	struct pcitsm_idekm_ks ks;  /* KEY_PROG / K_SET_*: the slot the answer must echo */
	uint8_t kp_status;          /* Status of the last KP_ACK */
	pcitsm_err err;             /* sticky */
};
void pcitsm_idekm_req_init(struct pcitsm_idekm_req *rq);
/* Build a request into w. E_STATE while another is outstanding, the sticky error if failed. */
pcitsm_err pcitsm_idekm_req_query(struct pcitsm_idekm_req *rq, uint8_t port_index,
				  struct pcitsm_wr *w) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_idekm_req_key_prog(struct pcitsm_idekm_req *rq,
				     const struct pcitsm_idekm_key_prog *kp, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
/* obj: PCITSM_IDEKM_K_SET_GO or PCITSM_IDEKM_K_SET_STOP (m->obj is ignored). */
pcitsm_err pcitsm_idekm_req_k_set(struct pcitsm_idekm_req *rq, uint8_t obj,
				  const struct pcitsm_idekm_ks *m, struct pcitsm_wr *w)
	PCITSM_MUST_CHECK;
/* Check the response to the outstanding request. qr receives a QUERY_RESP (required when a QUERY is
 * outstanding; it points into rsp). Errors: the decoders' (malformed), E_UNEXPECTED (a valid
 * object that does not answer the request: wrong object, port index, stream, key set, direction
 * or sub-stream), E_STATE (nothing outstanding), E_PEER_ERROR (KP_ACK Status non-zero). */
pcitsm_err pcitsm_idekm_req_response(struct pcitsm_idekm_req *rq, const uint8_t *rsp, size_t n,
				     struct pcitsm_idekm_query_resp *qr) PCITSM_MUST_CHECK;
/* The transport gave up on the outstanding request (no response, timeout): forget it. */
void pcitsm_idekm_req_abandon(struct pcitsm_idekm_req *rq);

/* Cross-check a QUERY_RESP against the same registers the host reads from the function's config
 * space (cfg, IDE capability at ide_off), register by register in order: IDE Capability, Control,
 * every Link and Selective block register except the Status registers (their state changes under
 * traffic). With bdf, Bus and Dev/Func must match too. E_MISMATCH names the first register that
 * differs in mm (may be NULL); config-space errors pass through.
 * PCIe 6.x §6.33.3: downgrade protection. */
struct pcitsm_idekm_mismatch {
	uint16_t off;           /* capability-relative; 0 for the Bus / Dev/Func bytes */
	uint32_t device, host;  /* the device's claim and what the host read */
	char name[48];
};
pcitsm_err pcitsm_idekm_query_resp_check(const struct pcitsm_idekm_query_resp *qr,
					 struct pcitsm_cfg *cfg, uint16_t ide_off,
					 const struct pcitsm_bdf *bdf,
					 struct pcitsm_idekm_mismatch *mm) PCITSM_MUST_CHECK;

/* =============================================================================================
 * Responder engine
 * ============================================================================================= */
#define PCITSM_IDEKM_MAX_PORTS 8
/* Engine streams a responder port tracks (keyed bitmap, prog / go): an endpoint's port, created
 * with the default stream count. pcitsm_idekm_rsp_add_port refuses a port with more. */
#define PCITSM_IDEKM_RSP_STREAMS PCITSM_IDE_PORT_STREAMS_DEFAULT

struct pcitsm_idekm_rsp_port {
	struct pcitsm_cfg *cfg;       /* not owned */
	uint16_t ide_off;
	struct pcitsm_ide_port *ide;  /* not owned */
	uint8_t dev_func, bus, segment;
	uint8_t keyed;                /* engine streams keyed through the bound session (bitmap) */
	/* Per engine stream and key set, the slots (bit dir * 3 + sub) the bound session
	 * programmed (KEY_PROG acknowledged) and started (K_SET_GO) since. */
	uint8_t prog[PCITSM_IDEKM_RSP_STREAMS][2], go[PCITSM_IDEKM_RSP_STREAMS][2];
};

struct pcitsm_idekm_rsp_stats {
	uint64_t requests, answered, dropped;
	pcitsm_err last_drop;         /* why the last request got no response */
	uint8_t last_kp_status;       /* Status of the last KP_ACK sent */
};

/* The PortIndex values that address the function itself (port 0), as a bitmap of indexes 0..31
 * (docs/idekm.md "PortIndex"). PCIe 6.x §6.33.3 has an endpoint represent itself as PortIndex 0;
 * DMTF spdm-emu's requester and TF-RMM address an endpoint as PortIndex 1 (hard-coded). The
 * default answers both. An index 1..N below the number of ports added addresses that added port
 * first (a switch's or root port's representation); the bitmap applies to the other indexes. */
#define PCITSM_IDEKM_SELF_INDEXES_DEFAULT (1u << 0 | 1u << 1)

struct pcitsm_idekm_rsp {
	const struct pcitsm_env *env;
	unsigned nr_ports;
	struct pcitsm_idekm_rsp_port port[PCITSM_IDEKM_MAX_PORTS];
	/* The one setting: which PortIndex values are the function itself (see above); set by
	 * pcitsm_idekm_rsp_init to PCITSM_IDEKM_SELF_INDEXES_DEFAULT, change it before use. */
	uint32_t self_indexes;
	/* The PortIndex by which the bound session's last QUERY addressed port 0, -1 if none: from
	 * then on that session's KEY_PROG / K_SET_GO / K_SET_STOP for port 0 must carry it. */
	int self_alias;
	bool bound;                   /* a session has used QUERY / KEY_PROG (PCIe 6.x §6.33.3) */
	bool stale;                   /* ... and has closed since */
	uint32_t session_id;
	struct pcitsm_idekm_rsp_stats stats;
};

void pcitsm_idekm_rsp_init(struct pcitsm_idekm_rsp *r, const struct pcitsm_env *env);
/* Add the next port index (the first is 0: the function itself): the config space its QUERY_RESP is
 * read from (the IDE capability must be there: E_NOTFOUND), its IDE engine port, and its address
 * (bdf->seg's low byte is reported as Segment). E_EXHAUSTED past PCITSM_IDEKM_MAX_PORTS;
 * E_UNSUPPORTED for an engine port with more than PCITSM_IDEKM_RSP_STREAMS streams. */
pcitsm_err pcitsm_idekm_rsp_add_port(struct pcitsm_idekm_rsp *r, struct pcitsm_cfg *cfg,
				     struct pcitsm_ide_port *ide, const struct pcitsm_bdf *bdf)
	PCITSM_MUST_CHECK;
/* The vendor-defined handler (the shape of pcitsm_spdm_vdm_fn; ctx is the struct pcitsm_idekm_rsp).
 * req points at the Protocol ID byte; the response payload is appended to rsp. OK: answered;
 * E_NORESPONSE: dropped, nothing written (stats.last_drop says why); E_NOSPC: rsp too small. Never
 * returns a peer (2xx) error: a bad request is either answered with a KP_ACK Status or dropped.
 * Call it only for payloads that arrived inside a secure session. */
pcitsm_err pcitsm_idekm_rsp_handle(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
				   struct pcitsm_wr *rsp) PCITSM_MUST_CHECK;
/* The SPDM layer tells the responder a session ended (register a pcitsm_spdm_vdm_end_fn that calls
 * this with pcitsm_spdm_rsp_register_vdm_end). If it is the bound one, the next request
 * from any session first invalidates every stream that session keyed (Insecure, keys
 * gone), PCIe 6.x §6.33.3. */
void pcitsm_idekm_rsp_session_closed(struct pcitsm_idekm_rsp *r, uint32_t session_id);

/* Which keys of Stream ID stream_id at port 0 (the function itself) session_id programmed and
 * started: for TDISP's LOCK precondition (PCIe 6.4 §11.3.8: every key of the default stream
 * programmed and started over the same session). A slot counts only while the engine still holds
 * it (not stopped, refreshed away or invalidated by the stream going Insecure); a session that is
 * not the bound one, or has closed, has none. E_NOTFOUND: no stream with that ID at port 0. */
#define PCITSM_IDEKM_SLOTS_ALL 0x3fu /* bit dir * 3 + sub, for the six slots of one key set */
struct pcitsm_idekm_key_state {
	uint8_t programmed[2], started[2]; /* per key set */
	bool default_stream;               /* the stream is the function's Default Stream */
	uint8_t tc;                        /* its Traffic Class */
};
pcitsm_err pcitsm_idekm_rsp_key_state(const struct pcitsm_idekm_rsp *r, uint32_t session_id,
				      uint8_t stream_id, struct pcitsm_idekm_key_state *ks)
	PCITSM_MUST_CHECK;

/* =============================================================================================
 * The programming sequence of one link (PCIe 6.x §6.33, IDE_KM §6.33.3): the one place
 * both the platform-firmware TSM (lib/tsmfw/fw.c) and `pcitsm connect tcp:` take it from
 * (docs/idekm.md "One programming sequence").
 *
 *   1. QUERY the device at opts.port_index; QUERY_RESP cross-checked against the device's config
 *      space when the caller can read it (downgrade protection); at least one Selective stream;
 *   2. six fresh keys; KEY_PROG each to the device, and its mirror image (the other direction) to
 *      the partner port by platform means, slot by slot (Rx PR, NPR, CPL, Tx PR, NPR, CPL);
 *   3. K_SET_GO every receiver at BOTH ends (device Rx, partner Rx per sub-stream), then every
 *      transmitter: no end transmits with a key set its partner cannot yet receive;
 *   4. Enable, when the caller gives ops.enable (endpoint before root port is the caller's).
 *
 * The keys are generated inside and wiped on every path; no key byte is logged. Each operation is
 * logged at debug level ("idekm link: K_SET_GO K0 Rx PR at the device"), which is how tests see
 * the order both callers produce.
 * ============================================================================================= */
#define PCITSM_IDEKM_LINK_STEPS(X) \
	X(QUERY, "ide_query") X(KEY_PROG, "key_prog") X(K_SET_GO, "k_set_go") \
	X(ENABLE, "enable") X(K_SET_STOP, "k_set_stop")
enum pcitsm_idekm_link_step {
#define PCITSM_IDEKM_LINK_ENUM(n, s) PCITSM_IDEKM_LINK_##n,
	PCITSM_IDEKM_LINK_STEPS(PCITSM_IDEKM_LINK_ENUM)
#undef PCITSM_IDEKM_LINK_ENUM
};
const char *pcitsm_idekm_link_step_name(enum pcitsm_idekm_link_step s); /* "k_set_go" */

/* The partner port's private key path ("by platform means", PCIe 6.x §6.33.3): what a platform
 * provides for its root ports (lib/emu: pcitsm_emu_rp_key_ops). port is the platform's handle of
 * one port (pcitsm_idekm_link_opts.partner_port). */
struct pcitsm_idekm_partner_ops {
	/* One key, in the partner's own direction; key and IFV in KEY_PROG byte order. */
	pcitsm_err (*key_prog)(void *port, uint8_t stream_id, unsigned kset, enum pcitsm_ide_dir dir,
			       enum pcitsm_ide_sub sub, const uint8_t key[PCITSM_IDEKM_KEY_LEN],
			       const uint8_t ifv[PCITSM_IDEKM_IFV_LEN]);
	/* K_SET_GO / K_SET_STOP (obj) of one slot. */
	pcitsm_err (*k_set)(void *port, uint8_t obj, uint8_t stream_id, unsigned kset,
			    enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub);
};

/* The two ends. arg is the caller's. */
struct pcitsm_idekm_link_ops {
	/* The device: one IDE_KM request and its response payload (the SPDM session's
	 * VENDOR_DEFINED exchange, pcitsm_spdm_drv_vdm_call). */
	pcitsm_err (*device_call)(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp);
	/* The partner port's key path, called with opts.partner_port. */
	const struct pcitsm_idekm_partner_ops *partner;
	/* Optional: set Enable at both ends and check Secure. NULL: the caller enables afterwards
	 * (SEV-TIO: the host writes the registers once the firmware's IDE part returned). */
	pcitsm_err (*enable)(void *arg);
	/* Optional: told after each step succeeded (timing; a non-OK return stops the sequence
	 * there and is its result). */
	pcitsm_err (*step_done)(void *arg, enum pcitsm_idekm_link_step step);
};

struct pcitsm_idekm_link_opts {
	uint8_t port_index;        /* the device's PortIndex in every request */
	uint8_t stream_id;         /* not 255 */
	unsigned kset;             /* 0 or 1 */
	bool query;                /* step 1 (a connect); false for a key refresh */
	void *partner_port;        /* the partner's handle for ops.partner */
	/* The device's config space for the QUERY_RESP cross-check (NULL: none reachable, the
	 * check is skipped and res.cross_checked stays false), its IDE capability offset and, if
	 * known, its address (Bus and Dev/Func compared too). */
	struct pcitsm_cfg *dev_cfg;
	uint16_t dev_ide_off;
	const struct pcitsm_bdf *dev_bdf;
};

struct pcitsm_idekm_link_result {
	enum pcitsm_idekm_link_step step; /* the failing step */
	bool at_partner;                  /* ... failed at the partner port, not the device */
	uint8_t kp_status;                /* the KP_ACK Status when the result is E_PEER_ERROR */
	unsigned dev_keyed, partner_keyed; /* slots programmed at each end, in programming order */
	bool cross_checked;               /* QUERY_RESP matched the device's config space */
	uint8_t max_port_index, bus, dev_func; /* from QUERY_RESP */
	unsigned nr_link, nr_sel;
	char why[256];                    /* a failure in words */
};

/* Steps 1-4 (step 1 only with opts.query). rq is the session's requester (re-initialised when a
 * failure left it failed). E_UNSUPPORTED: QUERY_RESP shows no Selective stream; E_MISMATCH: the
 * cross-check failed (res.why names the register); the requester's, transport's and ops' errors
 * pass through. On failure res says where; the caller unwinds (pcitsm_idekm_stop_link with
 * res.dev_keyed / partner_keyed). */
pcitsm_err pcitsm_idekm_program_link(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
				     const struct pcitsm_idekm_link_ops *ops, void *arg,
				     const struct pcitsm_idekm_link_opts *o,
				     struct pcitsm_idekm_link_result *res) PCITSM_MUST_CHECK;
/* K_SET_STOP of the first dev_slots slots of o->kset at the device and the first partner_slots
 * at the partner, best effort (a partner whose stream is already disabled has no keys left to
 * stop: not an error). Returns the first device failure (after trying every slot). */
pcitsm_err pcitsm_idekm_stop_link(struct pcitsm_idekm_req *rq, const struct pcitsm_env *env,
				  const struct pcitsm_idekm_link_ops *ops, void *arg,
				  const struct pcitsm_idekm_link_opts *o, unsigned dev_slots,
				  unsigned partner_slots) PCITSM_MUST_CHECK;

#endif /* PCITSM_IDEKM_H */
