/* SPDX-License-Identifier: MIT */
/*
 * TDISP 1.0 (PCIe 6.x §11): the TEE Device Interface Security Protocol a TSM uses to lock a TEE
 * Device Interface (TDI), read its interface report and start it for a confidential VM. Engines
 * only: bytes in, bytes out, no I/O.
 *
 *   codec      every TDISP 1.0 request and response of the base protocol and TDISP_ERROR:
 *              one encoder and one exact-size decoder over struct pcitsm_tdisp_msg;
 *   report     the interface report: a builder from a description of the function's BARs, a
 *              decoder, the checker a Linux guest's rules amount to, and its SHA-384 digest;
 *   DSM        the device's side (responder), strict: a const table of requests with the TDI
 *              states each is legal in, one admit check, one step; several TDIs (PF0 and its VFs)
 *              behind one DSM; LOCK only with every key of the default stream programmed and
 *              started over the same SPDM session (asked of the IDE_KM responder);
 *   requester  tolerant of the deviations real devices show, each recorded in a flags field;
 *   sequence   lock -> report -> check -> policy -> start over a caller's exchange callback, the
 *              one place both the firmware TSM and a command-line tool take it from.
 *
 * Every payload here starts at the Protocol ID byte (0x01); the SPDM layer carries it as a
 * VENDOR_DEFINED_REQUEST/RESPONSE (StandardID 3, VendorID 0x0001) and only inside a secure session
 * (PCIe 6.x §11, TDISP message transport). Choices where the specification leaves room:
 * docs/tdisp.md.
 */
#ifndef PCITSM_TDISP_H
#define PCITSM_TDISP_H

#include "pcitsm/core.h"

struct pcitsm_idekm_rsp;
struct pcitsm_spdm_rsp;

/* =============================================================================================
 * Wire constants (PCIe 6.x §11.3)
 * ============================================================================================= */
#define PCITSM_TDISP_PROTOCOL_ID 0x01
#define PCITSM_TDISP_VERSION_10 0x10 /* bits 7:4 major, 3:0 minor */

#define PCITSM_TDISP_CODES(X)                                                        \
	X(GET_TDISP_VERSION, 0x81) X(GET_TDISP_CAPABILITIES, 0x82)                   \
	X(LOCK_INTERFACE_REQUEST, 0x83) X(GET_DEVICE_INTERFACE_REPORT, 0x84)         \
	X(GET_DEVICE_INTERFACE_STATE, 0x85) X(START_INTERFACE_REQUEST, 0x86)         \
	X(STOP_INTERFACE_REQUEST, 0x87) X(BIND_P2P_STREAM_REQUEST, 0x88)             \
	X(UNBIND_P2P_STREAM_REQUEST, 0x89) X(SET_MMIO_ATTRIBUTE_REQUEST, 0x8A)       \
	X(VDM_REQUEST, 0x8B)                                                         \
	X(TDISP_VERSION, 0x01) X(TDISP_CAPABILITIES, 0x02)                           \
	X(LOCK_INTERFACE_RESPONSE, 0x03) X(DEVICE_INTERFACE_REPORT, 0x04)            \
	X(DEVICE_INTERFACE_STATE, 0x05) X(START_INTERFACE_RESPONSE, 0x06)            \
	X(STOP_INTERFACE_RESPONSE, 0x07) X(BIND_P2P_STREAM_RESPONSE, 0x08)           \
	X(UNBIND_P2P_STREAM_RESPONSE, 0x09) X(SET_MMIO_ATTRIBUTE_RESPONSE, 0x0A)     \
	X(VDM_RESPONSE, 0x0B) X(TDISP_ERROR, 0x7F)
enum pcitsm_tdisp_code {
#define PCITSM_TDISP_CODE_ENUM(name, val) PCITSM_TDISP_##name = (val),
	PCITSM_TDISP_CODES(PCITSM_TDISP_CODE_ENUM)
#undef PCITSM_TDISP_CODE_ENUM
};
/* "LOCK_INTERFACE_REQUEST"; "UNKNOWN" for other values. */
const char *pcitsm_tdisp_code_name(uint8_t code);
/* The response code answering request code req (req - 0x80). */
#define PCITSM_TDISP_RSP_OF(req) ((uint8_t)((req) - 0x80))

/* TDISP_ERROR ERROR_CODE (PCIe 6.x §11, TDISP_ERROR). */
#define PCITSM_TDISP_ERRORS(X)                                                       \
	X(INVALID_REQUEST, 0x0001) X(BUSY, 0x0003) X(INVALID_INTERFACE_STATE, 0x0004)     \
	X(UNSPECIFIED, 0x0005) X(UNSUPPORTED_REQUEST, 0x0007)                            \
	X(VERSION_MISMATCH, 0x0041) X(VENDOR_SPECIFIC_ERROR, 0x00FF)                     \
	X(INVALID_INTERFACE, 0x0101) X(INVALID_NONCE, 0x0102)                            \
	X(INSUFFICIENT_ENTROPY, 0x0103) X(INVALID_DEVICE_CONFIGURATION, 0x0104)
enum pcitsm_tdisp_error {
#define PCITSM_TDISP_ERR_ENUM(name, val) PCITSM_TDISP_ERR_##name = (val),
	PCITSM_TDISP_ERRORS(PCITSM_TDISP_ERR_ENUM)
#undef PCITSM_TDISP_ERR_ENUM
};
/* "INVALID_NONCE"; "UNKNOWN" for other values. */
const char *pcitsm_tdisp_error_name(uint32_t code);

/* TDI states (PCIe 6.x §11, TDI states). */
#define PCITSM_TDISP_STATES(X) \
	X(CONFIG_UNLOCKED, 0) X(CONFIG_LOCKED, 1) X(RUN, 2) X(ERROR, 3)
enum pcitsm_tdisp_state {
#define PCITSM_TDISP_STATE_ENUM(name, val) PCITSM_TDISP_##name = (val),
	PCITSM_TDISP_STATES(PCITSM_TDISP_STATE_ENUM)
#undef PCITSM_TDISP_STATE_ENUM
};
const char *pcitsm_tdisp_state_name(uint8_t state); /* "CONFIG_LOCKED"; "UNKNOWN" */

/* LOCK_INTERFACE_REQUEST FLAGS (PCIe 6.x §11, LOCK_INTERFACE_REQUEST). */
#define PCITSM_TDISP_LOCK_NO_FW_UPDATE 0x0001u
#define PCITSM_TDISP_LOCK_CACHE_LINE_128 0x0002u /* SYSTEM_CACHE_LINE_SIZE */
#define PCITSM_TDISP_LOCK_MSIX 0x0004u
#define PCITSM_TDISP_LOCK_BIND_P2P 0x0008u
#define PCITSM_TDISP_LOCK_ALL_REQUEST_REDIRECT 0x0010u
#define PCITSM_TDISP_LOCK_FLAGS_DEFINED 0x001fu

/* Interface report INTERFACE_INFO and MMIO range attributes (PCIe 6.x §11,
 * DEVICE_INTERFACE_REPORT). */
#define PCITSM_TDISP_INFO_NO_FW_UPDATE 0x0001u
#define PCITSM_TDISP_INFO_DMA_NO_PASID 0x0002u
#define PCITSM_TDISP_INFO_DMA_WITH_PASID 0x0004u
#define PCITSM_TDISP_INFO_ATS 0x0008u
#define PCITSM_TDISP_INFO_PRS 0x0010u
#define PCITSM_TDISP_RANGE_MSIX_TABLE 0x0001u
#define PCITSM_TDISP_RANGE_MSIX_PBA 0x0002u
#define PCITSM_TDISP_RANGE_NON_TEE 0x0004u
#define PCITSM_TDISP_RANGE_ATTR_UPDATABLE 0x0008u

/* Sizes, counted from the Protocol ID byte: Protocol ID (1) + TDISP header (16). */
#define PCITSM_TDISP_HDR_LEN 17
#define PCITSM_TDISP_NONCE_LEN 32
#define PCITSM_TDISP_REQ_MSGS_LEN 16
#define PCITSM_TDISP_MAX_VERSIONS 16
#define PCITSM_TDISP_PAGE 4096u /* report addresses and sizes are in 4 KiB pages */
#define PCITSM_TDISP_REPORT_HDR_LEN 16
#define PCITSM_TDISP_RANGE_LEN 16
#define PCITSM_TDISP_MAX_RANGES 64     /* a report with more is refused (E_RANGE) */
#define PCITSM_TDISP_REPORT_MAX 4096   /* the largest report the requester reassembles */
#define PCITSM_TDISP_PORTION_HDR_LEN (PCITSM_TDISP_HDR_LEN + 4)
/* The largest message either side builds or accepts: a report portion carrying a whole report. */
#define PCITSM_TDISP_MSG_MAX (PCITSM_TDISP_PORTION_HDR_LEN + PCITSM_TDISP_REPORT_MAX)
#define PCITSM_TDISP_DIGEST_LEN 48     /* SHA-384 */

/* =============================================================================================
 * Codec
 * ============================================================================================= */
struct pcitsm_tdisp_caps {
	uint32_t dsm_caps;                              /* reserved in 1.0: 0 */
	uint8_t req_msgs[PCITSM_TDISP_REQ_MSGS_LEN];    /* bit (code - 0x80) */
	uint16_t lock_flags;                            /* LOCK FLAGS supported */
	uint8_t dev_addr_width, num_req_this, num_req_all;
};

struct pcitsm_tdisp_lock_params {
	uint16_t flags;
	uint8_t stream_id;      /* the default IDE stream */
	int64_t mmio_offset;    /* MMIO_REPORTING_OFFSET, added to every reported address */
	uint64_t p2p_mask;      /* BIND_P2P_ADDRESS_MASK */
};

/* One message. code picks the member of u; function_id is the INTERFACE_ID's FUNCTION_ID (bits 15:0
 * Requester ID, 23:16 segment, 24 segment valid; 31:25 and the 8 bytes after it reserved). Codes
 * with no payload (GET_TDISP_VERSION, GET_DEVICE_INTERFACE_STATE, START_INTERFACE_RESPONSE,
 * STOP_INTERFACE_REQUEST/RESPONSE) use no member. A decoded message's pointers point into the
 * decoded bytes; a nonce in it is a secret: wipe the struct after use. */
struct pcitsm_tdisp_msg {
	uint8_t code;
	uint32_t function_id;
	union {
		struct { uint8_t count; uint8_t v[PCITSM_TDISP_MAX_VERSIONS]; } version;
		uint32_t tsm_caps;                              /* GET_TDISP_CAPABILITIES (reserved: 0) */
		struct pcitsm_tdisp_caps caps;                  /* TDISP_CAPABILITIES */
		struct pcitsm_tdisp_lock_params lock;           /* LOCK_INTERFACE_REQUEST */
		uint8_t nonce[PCITSM_TDISP_NONCE_LEN];          /* LOCK_INTERFACE_RESPONSE, START_* */
		struct { uint16_t offset, length; } get_report; /* GET_DEVICE_INTERFACE_REPORT */
		struct { uint16_t portion, remainder; const uint8_t *bytes; } report;
		uint8_t state;                                  /* DEVICE_INTERFACE_STATE */
		struct { uint32_t code, data; const uint8_t *ext; size_t ext_len; } error;
	} u;
};

#define PCITSM_TDISP_FUNCTION_ID_RSVD 0xfe000000u

/* The header of a payload, nothing else checked: E_SHORT under PCITSM_TDISP_HDR_LEN, E_FIELD for
 * another Protocol ID, E_RESERVED for non-zero reserved header bytes or FUNCTION_ID bits 31:25
 * (version, code and function_id are still filled in then). */
pcitsm_err pcitsm_tdisp_peek(const uint8_t *p, size_t n, uint8_t *version, uint8_t *code,
			     uint32_t *function_id) PCITSM_MUST_CHECK;
/* The whole message or nothing (E_NOSPC sticky in w); E_INVAL for a code this codec does not
 * carry (the optional 0x88-0x8B requests and their responses), a version count of 0 or above
 * PCITSM_TDISP_MAX_VERSIONS, reserved bits set in function_id, a portion longer than 0xFFFF or
 * without bytes, extended error data on another code than VENDOR_SPECIFIC_ERROR. */
pcitsm_err pcitsm_tdisp_encode(struct pcitsm_wr *w, const struct pcitsm_tdisp_msg *m)
	PCITSM_MUST_CHECK;
/* Strict: exact size for the code (E_SHORT / E_LONG), version 1.0 (E_VERSION), reserved bytes and
 * bits zero (E_RESERVED), a code the codec carries (E_UNSUPPORTED), VERSION_NUM_COUNT >= 1 and
 * within PCITSM_TDISP_MAX_VERSIONS (E_FIELD), a VENDOR_SPECIFIC_ERROR's ERROR_DATA equal to its
 * extended data's length (E_FIELD). On error m is wiped. */
pcitsm_err pcitsm_tdisp_decode(const uint8_t *p, size_t n, struct pcitsm_tdisp_msg *m)
	PCITSM_MUST_CHECK;

/* =============================================================================================
 * Interface report (PCIe 6.x §11, DEVICE_INTERFACE_REPORT)
 *
 *   0 INTERFACE_INFO u16 | 2 rsvd u16 | 4 MSI_X_MESSAGE_CONTROL u16 | 6 LNR_CONTROL u16 |
 *   8 TPH_CONTROL u32 | 12 MMIO_RANGE_COUNT u32 | 16 MMIO_RANGE[N] | DEVICE_SPECIFIC_INFO_LEN u32 |
 *   DEVICE_SPECIFIC_INFO
 *   MMIO_RANGE: FIRST_PAGE u64 | NUMBER_OF_PAGES u32 | RANGE_ATTRIBUTES u16 | RANGE_ID u16
 * ============================================================================================= */
#define PCITSM_TDISP_NR_BARS 6
#define PCITSM_TDISP_MAX_NON_TEE 8
#define PCITSM_TDISP_DEV_INFO_MAX 256
#define PCITSM_TDISP_BUILD_RANGES 32 /* ranges one description may produce */
#define PCITSM_TDISP_DSM_REPORT_MAX                                                    \
	(PCITSM_TDISP_REPORT_HDR_LEN + PCITSM_TDISP_RANGE_LEN * PCITSM_TDISP_BUILD_RANGES + 4 + \
	 PCITSM_TDISP_DEV_INFO_MAX)

/* A memory BAR as the function decodes it. A 64-bit BAR at index i also occupies i + 1. */
struct pcitsm_tdisp_bar {
	uint8_t index;
	uint64_t base, size;
	bool is64, prefetch;
};
/* A region inside BAR bar: [offset, offset + size). */
struct pcitsm_tdisp_region {
	uint8_t bar;
	uint64_t offset, size;
};
/* What a function is: its memory BARs (ascending index), its MSI-X table and PBA, the ranges it
 * never serves with T=1 (non-TEE), the control registers the report copies, the interface
 * properties it has (DMA_NO_PASID, DMA_WITH_PASID when it does PASID DMA, ATS, PRS; NO_FW_UPDATE
 * comes from LOCK), and device-specific bytes. The device's DSM builds reports from it; the
 * requester's checker reads the same struct as the guest's view of the function (bars, msix*). */
struct pcitsm_tdisp_ifdesc {
	uint16_t interface_info;
	struct pcitsm_tdisp_bar bar[PCITSM_TDISP_NR_BARS];
	unsigned nr_bars;
	bool msix;
	struct pcitsm_tdisp_region msix_table, msix_pba;
	uint16_t msix_msg_ctl, lnr_control;
	uint32_t tph_control;
	struct pcitsm_tdisp_region non_tee[PCITSM_TDISP_MAX_NON_TEE];
	unsigned nr_non_tee;
	uint8_t dev_info[PCITSM_TDISP_DEV_INFO_MAX];
	uint16_t dev_info_len;
};

/* The report a DSM gives for d locked with flags and mmio_offset: every memory BAR in ascending
 * index order, each covered from its base by ascending ranges that split at the MSI-X table, the
 * PBA and the non-TEE regions (page granular); MSI-X table/PBA flagged as such when LOCK_MSIX
 * locked them, else non-TEE (and MSI_X_MESSAGE_CONTROL, TPH_CONTROL 0); MMIO_REPORTING_OFFSET
 * added. E_INVAL: a description the function cannot have (BAR not 4 KiB aligned or sized, BARs
 * out of order or overlapping, a region outside its BAR); E_RANGE: mmio_offset not a multiple of
 * 4 KiB or wrapping an address; E_EXHAUSTED past PCITSM_TDISP_BUILD_RANGES; E_NOSPC. */
pcitsm_err pcitsm_tdisp_report_build(const struct pcitsm_tdisp_ifdesc *d, uint16_t lock_flags,
				     int64_t mmio_offset, struct pcitsm_wr *w) PCITSM_MUST_CHECK;

struct pcitsm_tdisp_range {
	uint64_t first_page;
	uint32_t pages;
	uint16_t attrs, range_id;
};
struct pcitsm_tdisp_report {
	uint16_t interface_info, msix_msg_ctl, lnr_control;
	uint32_t tph_control;
	uint32_t nr_ranges;
	struct pcitsm_tdisp_range range[PCITSM_TDISP_MAX_RANGES];
	const uint8_t *dev_info; /* into the decoded bytes */
	uint32_t dev_info_len;
};
/* Exact size 16 + 16 x N + 4 + L (E_SHORT / E_LONG), N <= PCITSM_TDISP_MAX_RANGES (E_RANGE). */
pcitsm_err pcitsm_tdisp_report_decode(const uint8_t *p, size_t n, struct pcitsm_tdisp_report *r)
	PCITSM_MUST_CHECK;
/* SHA-384 over the report bytes: binds an accept to the evidence that was read. */
pcitsm_err pcitsm_tdisp_report_digest(const uint8_t *p, size_t n,
				      uint8_t out[PCITSM_TDISP_DIGEST_LEN]) PCITSM_MUST_CHECK;

/* The rules a Linux guest's report parser applies before it maps a TDI's MMIO (docs/tdisp.md
 * "Report rules"), checked in this order for each range. */
#define PCITSM_TDISP_RULES(X)                                                                   \
	X(OK, "report follows every rule")                                                      \
	X(SIZE, "size is not 16 + 16 x MMIO_RANGE_COUNT + 4 + DEVICE_SPECIFIC_INFO_LEN")        \
	X(RANGE_ID, "RANGE_ID is not a BAR index below 6")                                      \
	X(NOT_MEM_BAR, "RANGE_ID names no memory BAR of the function")                          \
	X(PAGE, "the range's BAR is not 4 KiB aligned")                                         \
	X(BAR_ORDER, "BAR indexes decrease from one range to the next")                         \
	X(OFFSET_WRAP, "undoing MMIO_REPORTING_OFFSET wraps the address")                       \
	X(BAR_BASE, "the first range of a BAR is not at the BAR's base")                        \
	X(RANGE_ORDER, "ranges of a BAR do not ascend")                                         \
	X(BAR_FIT, "the range does not fit its BAR")                                            \
	X(MSIX_UNFLAGGED, "the MSI-X table or PBA lies in a range flagged neither MSI-X nor non-TEE")
enum pcitsm_tdisp_rule {
#define PCITSM_TDISP_RULE_ENUM(name, str) PCITSM_TDISP_RULE_##name,
	PCITSM_TDISP_RULES(PCITSM_TDISP_RULE_ENUM)
#undef PCITSM_TDISP_RULE_ENUM
};
const char *pcitsm_tdisp_rule_name(enum pcitsm_tdisp_rule r); /* "BAR_BASE" */
const char *pcitsm_tdisp_rule_str(enum pcitsm_tdisp_rule r);  /* in words */

struct pcitsm_tdisp_check_result {
	enum pcitsm_tdisp_rule rule;
	unsigned range; /* the range breaking it */
};
/* Check report bytes p against the guest's view of the function (view: its memory BARs and MSI-X
 * table/PBA; the other members are ignored) and the MMIO_REPORTING_OFFSET the TSM asked for.
 * OK, or E_FIELD with res naming the rule broken (E_RANGE: more ranges than the decoder holds).
 * res may be NULL. */
pcitsm_err pcitsm_tdisp_report_check(const uint8_t *p, size_t n,
				     const struct pcitsm_tdisp_ifdesc *view, int64_t mmio_offset,
				     struct pcitsm_tdisp_check_result *res) PCITSM_MUST_CHECK;

/* =============================================================================================
 * DSM: the device's responder (PCIe 6.x §11), strict
 * ============================================================================================= */
#define PCITSM_TDISP_MAX_TDIS 8

/* What moved a TDI to ERROR (PCIe 6.x §11, TDI state transitions). */
#define PCITSM_TDISP_CAUSES(X)                                           \
	X(NONE, "none") X(SESSION_ENDED, "the locking SPDM session ended")   \
	X(FLR, "function level reset") X(CONFIG_WRITE, "write to locked configuration") \
	X(STREAM_INSECURE, "the default IDE stream went Insecure")
enum pcitsm_tdisp_cause {
#define PCITSM_TDISP_CAUSE_ENUM(name, str) PCITSM_TDISP_CAUSE_##name,
	PCITSM_TDISP_CAUSES(PCITSM_TDISP_CAUSE_ENUM)
#undef PCITSM_TDISP_CAUSE_ENUM
};
const char *pcitsm_tdisp_cause_name(enum pcitsm_tdisp_cause c); /* "FLR" */

struct pcitsm_tdisp_tdi {
	uint32_t function_id;      /* the INTERFACE_ID that names it */
	uint32_t pf_function_id;   /* its PF (itself for a PF): an FLR of the PF hits it too */
	struct pcitsm_tdisp_ifdesc desc;
	enum pcitsm_tdisp_state state;
	enum pcitsm_tdisp_cause cause; /* why it last entered ERROR */
	struct pcitsm_tdisp_lock_params lock; /* while locked */
	uint32_t session_id;       /* the session that locked it */
	bool nonce_valid;
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN]; /* secret; wiped when consumed or unlocked */
	uint8_t report[PCITSM_TDISP_DSM_REPORT_MAX];
	uint16_t report_len;       /* 0 unless locked */
	uint32_t generation;       /* counts LOCKs: a report read under another value is stale */
};

struct pcitsm_tdisp_dsm_opts {
	uint16_t lock_flags;       /* LOCK flags supported (default NO_FW_UPDATE, cache line, MSI-X) */
	uint8_t dev_addr_width;    /* 52..64, default 52 */
	uint16_t portion_max;      /* report bytes per DEVICE_INTERFACE_REPORT, default 1024 */
};
struct pcitsm_tdisp_dsm_stats {
	uint64_t requests, answered, errors, dropped;
	uint32_t last_error;       /* ERROR_CODE of the last TDISP_ERROR sent */
};
struct pcitsm_tdisp_dsm {
	const struct pcitsm_env *env;
	const struct pcitsm_idekm_rsp *km; /* the function's IDE_KM responder: key state; not owned */
	struct pcitsm_tdisp_dsm_opts opts;
	unsigned nr_tdis;
	struct pcitsm_tdisp_tdi tdi[PCITSM_TDISP_MAX_TDIS];
	struct pcitsm_tdisp_dsm_stats stats;
};

void pcitsm_tdisp_dsm_opts_default(struct pcitsm_tdisp_dsm_opts *o);
/* km: the IDE_KM responder of the function hosting the DSM (port 0 is the function itself); LOCK
 * asks it whether the default stream's keys were programmed and started over the session.
 * E_INVAL for a NULL env or km, or options out of range (o may be NULL: defaults). */
pcitsm_err pcitsm_tdisp_dsm_init(struct pcitsm_tdisp_dsm *d, const struct pcitsm_env *env,
				 const struct pcitsm_idekm_rsp *km,
				 const struct pcitsm_tdisp_dsm_opts *o) PCITSM_MUST_CHECK;
/* Add a TDI (CONFIG_UNLOCKED). E_EXISTS for a function_id already hosted, E_EXHAUSTED past
 * PCITSM_TDISP_MAX_TDIS, E_INVAL for reserved function_id bits or a description
 * pcitsm_tdisp_report_build refuses. */
pcitsm_err pcitsm_tdisp_dsm_add_tdi(struct pcitsm_tdisp_dsm *d, uint32_t function_id,
				    uint32_t pf_function_id, const struct pcitsm_tdisp_ifdesc *desc)
	PCITSM_MUST_CHECK;
struct pcitsm_tdisp_tdi *pcitsm_tdisp_dsm_find(struct pcitsm_tdisp_dsm *d, uint32_t function_id);
/* Wipe every nonce and report. */
void pcitsm_tdisp_dsm_free(struct pcitsm_tdisp_dsm *d);
/* The vendor-defined handler (the shape of pcitsm_spdm_vdm_fn; ctx is the struct pcitsm_tdisp_dsm);
 * call it only for payloads that arrived inside secure session session_id. req points at the
 * Protocol ID byte; the response is appended to rsp. OK: answered (a refusal is a TDISP_ERROR);
 * E_NORESPONSE: not a TDISP payload, nothing written; E_NOSPC: rsp too small. */
pcitsm_err pcitsm_tdisp_dsm_handle(void *ctx, uint32_t session_id, const uint8_t *req, size_t len,
				   struct pcitsm_wr *rsp) PCITSM_MUST_CHECK;
/* Events from the device model (PCIe 6.x §11, TDI state transitions): a locked TDI (CONFIG_LOCKED
 * or RUN) they hit goes to ERROR, its nonce wiped. session_ended: every TDI locked over that
 * session (register with the SPDM layer's end hook, pcitsm_tdisp_dsm_register); flr: the function
 * and, for a PF, every TDI whose PF it is; config_written: a write to the locked configuration of
 * the function; stream_insecure: every TDI bound to that default stream. */
void pcitsm_tdisp_dsm_session_ended(struct pcitsm_tdisp_dsm *d, uint32_t session_id);
void pcitsm_tdisp_dsm_flr(struct pcitsm_tdisp_dsm *d, uint32_t function_id);
void pcitsm_tdisp_dsm_config_written(struct pcitsm_tdisp_dsm *d, uint32_t function_id);
void pcitsm_tdisp_dsm_stream_insecure(struct pcitsm_tdisp_dsm *d, uint8_t stream_id);
/* Serve TDISP (Protocol ID 1) from SPDM responder s, with the session-ended hook (lib/tdisp's one
 * glue file with lib/spdm). The SPDM layer ignores vendor-defined requests outside a session. */
pcitsm_err pcitsm_tdisp_dsm_register(struct pcitsm_tdisp_dsm *d, struct pcitsm_spdm_rsp *s)
	PCITSM_MUST_CHECK;

/* =============================================================================================
 * Requester engine, tolerant
 * ============================================================================================= */
/* Deviations from PCIe 6.x §11 the requester accepted (docs/tdisp.md "Tolerance"). */
#define PCITSM_TDISP_DEVIATIONS(X)                                                             \
	X(REQ_MSGS_SHIFTED, 0x01, "REQ_MSGS_SUPPORTED counts bits from 0x81, not 0x80")       \
	X(SHORT_PORTION, 0x02, "report portions shorter than asked")                           \
	X(STOP_UNLOCKED_REFUSED, 0x04, "STOP in CONFIG_UNLOCKED answered INVALID_INTERFACE_STATE") \
	X(ADDR_WIDTH, 0x08, "DEV_ADDR_WIDTH below 52")                                         \
	X(NUM_REQ_ZERO, 0x10, "NUM_REQ_THIS or NUM_REQ_ALL is 0")                              \
	X(DSM_CAPS, 0x20, "DSM_CAPS not 0")
enum pcitsm_tdisp_deviation {
#define PCITSM_TDISP_DEV_ENUM(name, bit, str) PCITSM_TDISP_DEV_##name = (bit),
	PCITSM_TDISP_DEVIATIONS(PCITSM_TDISP_DEV_ENUM)
#undef PCITSM_TDISP_DEV_ENUM
};
/* The deviations in flags, comma-separated names, into buf ("none" for 0). */
void pcitsm_tdisp_deviations_str(uint32_t flags, char *buf, size_t n);

/* The requests a device supports, as a mask of bit (code - 0x80), whichever of the two encodings
 * of REQ_MSGS_SUPPORTED it uses (bit 0 stands for no request: set, the device counts from 0x81);
 * REQ_MSGS_SHIFTED is added to *deviations then. */
uint16_t pcitsm_tdisp_caps_supported(const struct pcitsm_tdisp_caps *c, uint32_t *deviations);

/* One request outstanding. A malformed response, or one that answers something else (another
 * code, another interface), fails the requester (sticky until pcitsm_tdisp_req_init). A
 * TDISP_ERROR is a well-formed answer: E_PEER_ERROR with the code in peer_error; the requester
 * stays usable. */
struct pcitsm_tdisp_req {
	uint32_t function_id;
	bool pending;
	uint8_t code;                 /* the outstanding request */
	uint16_t rep_length;          /* its LENGTH, for a GET_DEVICE_INTERFACE_REPORT */
	uint32_t peer_error, peer_error_data;
	uint32_t deviations;
	pcitsm_err err;               /* sticky */
};
void pcitsm_tdisp_req_init(struct pcitsm_tdisp_req *rq, uint32_t function_id);
/* Build request m (m->code a request code this codec carries; function_id is rq's) into w.
 * E_STATE while one is outstanding, the sticky error once failed. */
pcitsm_err pcitsm_tdisp_req_build(struct pcitsm_tdisp_req *rq, const struct pcitsm_tdisp_msg *m,
				  struct pcitsm_wr *w) PCITSM_MUST_CHECK;
/* Check the answer to the outstanding request, decoded into out (wipe it: a LOCK response holds
 * the nonce). Errors: the decoder's; E_UNEXPECTED (another code or interface); E_FIELD (a portion
 * longer than asked, a state above ERROR, a portion of 0 with bytes remaining); E_VERSION (no 1.0
 * in TDISP_VERSION); E_STATE (nothing outstanding); E_PEER_ERROR (TDISP_ERROR). */
pcitsm_err pcitsm_tdisp_req_response(struct pcitsm_tdisp_req *rq, const uint8_t *rsp, size_t n,
				     struct pcitsm_tdisp_msg *out) PCITSM_MUST_CHECK;
/* The transport gave up on the outstanding request. */
void pcitsm_tdisp_req_abandon(struct pcitsm_tdisp_req *rq);

/* =============================================================================================
 * The sequence: lock -> report -> check -> policy -> start (PCIe 6.x §11; docs/tdisp.md)
 * ============================================================================================= */
#define PCITSM_TDISP_STEPS(X)                                                  \
	X(VERSION, "version") X(CAPABILITIES, "capabilities") X(STATE, "state") \
	X(LOCK, "lock") X(REPORT, "report") X(CHECK, "check") X(POLICY, "policy") \
	X(START, "start") X(STOP, "stop")
enum pcitsm_tdisp_step {
#define PCITSM_TDISP_STEP_ENUM(n, s) PCITSM_TDISP_STEP_##n,
	PCITSM_TDISP_STEPS(PCITSM_TDISP_STEP_ENUM)
#undef PCITSM_TDISP_STEP_ENUM
};
const char *pcitsm_tdisp_step_name(enum pcitsm_tdisp_step s); /* "report" */

struct pcitsm_tdisp_seq;
struct pcitsm_tdisp_seq_ops {
	/* One TDISP request (from its Protocol ID byte) to the device and its response appended to
	 * rsp: the SPDM session's VENDOR_DEFINED exchange, or any other transport. */
	pcitsm_err (*exchange)(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp);
	/* Optional: judge the report (seq->report, seq->rep decoded, seq->digest) before START; a
	 * non-OK return refuses START (say why in seq->why). */
	pcitsm_err (*policy)(void *arg, struct pcitsm_tdisp_seq *seq);
};
struct pcitsm_tdisp_seq_opts {
	uint32_t function_id;
	struct pcitsm_tdisp_lock_params lock;
	uint16_t portion;             /* LENGTH asked per report portion; 0: 1024 */
	/* The guest's view of the function for the report check (NULL: not checked). */
	const struct pcitsm_tdisp_ifdesc *view;
	/* The caller holds no lock of this TDI (the firmware TSM, the only holder of the session,
	 * knows): a TDI found CONFIG_LOCKED, RUN or ERROR was left so by an earlier lock whose answer
	 * was lost or whose session ended, and is stopped first (STOP_INTERFACE returns it to
	 * CONFIG_UNLOCKED, TDISP (PCIe 6.x §11) state machine). Off: such a TDI is E_MISMATCH. */
	bool stop_stale;
};
/* The caller's, from lock to start: holds the START nonce in between (wipe it with
 * pcitsm_tdisp_seq_wipe on every path). */
struct pcitsm_tdisp_seq {
	struct pcitsm_tdisp_req rq;
	struct pcitsm_tdisp_caps caps;
	uint16_t supported;           /* requests supported, bit (code - 0x80) */
	bool locked;
	uint8_t nonce[PCITSM_TDISP_NONCE_LEN];
	uint8_t report[PCITSM_TDISP_REPORT_MAX];
	size_t report_len;
	struct pcitsm_tdisp_report rep;
	uint8_t digest[PCITSM_TDISP_DIGEST_LEN];
	uint8_t state;                /* the TDI state last reported */
	/* On failure: */
	enum pcitsm_tdisp_step step;
	uint32_t tdisp_error;         /* ERROR_CODE when the result is E_PEER_ERROR */
	struct pcitsm_tdisp_check_result check;
	char why[256];
};
/* Wipe s and aim it at function_id (pcitsm_tdisp_seq_lock does this itself): for a STOP of a TDI
 * this struct did not lock. */
void pcitsm_tdisp_seq_init(struct pcitsm_tdisp_seq *s, uint32_t function_id);
/* GET_TDISP_VERSION, GET_TDISP_CAPABILITIES, GET_DEVICE_INTERFACE_STATE (must be CONFIG_UNLOCKED;
 * with o->stop_stale another state is first stopped and read again), LOCK_INTERFACE_REQUEST (nonce kept), GET_DEVICE_INTERFACE_STATE (must be CONFIG_LOCKED), the
 * report in portions (offset + portion + remainder constant, portion <= asked), the report check
 * against o->view, the digest. E_UNSUPPORTED: a required request not supported; E_MISMATCH: a
 * state other than expected or an inconsistent remainder; E_FIELD: the report breaks a rule. */
pcitsm_err pcitsm_tdisp_seq_lock(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
				 void *arg, const struct pcitsm_tdisp_seq_opts *o) PCITSM_MUST_CHECK;
/* GET_DEVICE_INTERFACE_STATE (into s->state; E_MISMATCH unless CONFIG_LOCKED or RUN), then the
 * report again in portions, decoded and digested into s->report / s->rep / s->digest (the lock's
 * nonce is kept): how a TSM reads the evidence of a TDI it locked earlier, and checks at accept
 * that it has not changed. E_STATE when the requester has failed. */
pcitsm_err pcitsm_tdisp_seq_reread(struct pcitsm_tdisp_seq *s,
				   const struct pcitsm_tdisp_seq_ops *ops, void *arg, uint16_t portion)
	PCITSM_MUST_CHECK;
/* GET_DEVICE_INTERFACE_STATE alone, whatever the state (into s->state): the TDI's state as the
 * device says it now, for a TDI locked or not. E_STATE when the requester has failed. */
pcitsm_err pcitsm_tdisp_seq_state(struct pcitsm_tdisp_seq *s,
				  const struct pcitsm_tdisp_seq_ops *ops, void *arg)
	PCITSM_MUST_CHECK;
/* START_INTERFACE_REQUEST with the kept nonce (wiped afterwards, whatever the answer), then
 * GET_DEVICE_INTERFACE_STATE must say RUN. E_STATE without a successful pcitsm_tdisp_seq_lock. */
pcitsm_err pcitsm_tdisp_seq_start(struct pcitsm_tdisp_seq *s,
				  const struct pcitsm_tdisp_seq_ops *ops, void *arg) PCITSM_MUST_CHECK;
/* STOP_INTERFACE_REQUEST; an INVALID_INTERFACE_STATE answer is accepted when the TDI then reads
 * CONFIG_UNLOCKED (STOP_UNLOCKED_REFUSED noted). */
pcitsm_err pcitsm_tdisp_seq_stop(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
				 void *arg) PCITSM_MUST_CHECK;
/* lock, the policy callback, start; a failure after LOCK stops the TDI again (best effort). */
pcitsm_err pcitsm_tdisp_seq_run(struct pcitsm_tdisp_seq *s, const struct pcitsm_tdisp_seq_ops *ops,
				void *arg, const struct pcitsm_tdisp_seq_opts *o) PCITSM_MUST_CHECK;
void pcitsm_tdisp_seq_wipe(struct pcitsm_tdisp_seq *s);

#endif /* PCITSM_TDISP_H */
