/* SPDX-License-Identifier: MIT */
/*
 * PCIe IDE (Integrity and Data Encryption), non-flit mode: the TLP codec, the per-port IDE engine
 * (streams, sub-streams, key sets, IV counters, aggregation, PR_Sent counters, Secure/Insecure),
 * and an emulated link between two ports with a tap that can observe and tamper.
 *
 * References: PCIe 6.x §6.33, §7.9.26 (IDE), §6.33.3 (IDE_KM). Choices where the specification
 * leaves room are all in "Wire format choices" below and in docs/ide-wire-format.md.
 *
 * The engine never does I/O: TX turns a plaintext TLP into IDE TLP bytes, RX turns IDE TLP bytes
 * into plaintext TLPs or a drop with a reason, and control messages the port must send (IDE Sync,
 * IDE Fail) are handed out by pcitsm_ide_next_msg. The link (struct pcitsm_ide_wire) is the adapter
 * that moves bytes between two ports.
 */
#ifndef PCITSM_IDE_H
#define PCITSM_IDE_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/pci.h"

/* =============================================================================================
 * Wire format choices (PCIe 6.x §6.33 IDE TLP format and AES-GCM, §2.2.8 IDE messages: where the
 * specification gives only figures). One place; docs/ide-wire-format.md.
 * ============================================================================================= */
#define PCITSM_IDE_PFX_BYTE0 0x92       /* Fmt 100b, Type 1_0010b: E2E prefix "IDE" (PCIe 6.x §6.33) */
#define PCITSM_IDE_PFX_PR_SENT_BYTE 1   /* PR_Sent_Counter[7:0] */
#define PCITSM_IDE_PFX_STREAM_BYTE 2    /* Stream_ID[7:0] */
#define PCITSM_IDE_PFX_FLAGS_BYTE 3     /* Sub-Stream, P, M, K, T */
#define PCITSM_IDE_PFX_SUB_SHIFT 4      /* byte 3 bits 6:4 = Sub-Stream[2:0]; bit 7 reserved */
#define PCITSM_IDE_PFX_SUB_MASK 0x7u
#define PCITSM_IDE_PFX_RSVD 0x80u
#define PCITSM_IDE_PFX_P 0x08u
#define PCITSM_IDE_PFX_M 0x04u
#define PCITSM_IDE_PFX_K 0x02u
#define PCITSM_IDE_PFX_T 0x01u
/* MAC: the first 12 bytes of the GCM tag, tag byte 0 first on the wire. PCRC: zlib-style CRC-32 of
 * the plaintext payload, its value written little-endian (4 bytes; 0 here would write it
 * big-endian), then encrypted with it. */
#define PCITSM_IDE_MAC_LEN 12
#define PCITSM_IDE_PCRC_LEN 4
#define PCITSM_IDE_PCRC_WIRE_LE 1
/* IDE Sync / IDE Fail message bodies: header byte 12 and 13 (DW3) hold, for Sync, the
 * PR_Sent_Counter-NPR and -CPL values sent; for Fail, byte 12 is the failed Stream ID. */
#define PCITSM_IDE_MSG_SYNC_NPR_BYTE 12
#define PCITSM_IDE_MSG_SYNC_CPL_BYTE 13
#define PCITSM_IDE_MSG_FAIL_STREAM_BYTE 12

/* =============================================================================================
 * TLPs (non-flit mode headers, big-endian DWs)
 * ============================================================================================= */
#define PCITSM_TLP_PREFIX_LEN 4
/* What precedes the payload: a 4-DW header, or a PASID TLP Prefix and a 4-DW header. */
#define PCITSM_TLP_HDR_MAX 20
#define PCITSM_TLP_DATA_MAX 4096 /* Max_Payload_Size 4096 bytes = 1024 DW */
/* The largest IDE TLP: prefix, 4-DW header, payload, PCRC, MAC. */
#define PCITSM_IDE_TLP_MAX \
	(PCITSM_TLP_PREFIX_LEN + PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX + PCITSM_IDE_PCRC_LEN + \
	 PCITSM_IDE_MAC_LEN)

enum pcitsm_tlp_kind {
	PCITSM_TLP_MRD,    /* Memory Read, 32- or 64-bit address */
	PCITSM_TLP_MWR,    /* Memory Write */
	PCITSM_TLP_CFGRD1, /* Configuration Read Type 1 */
	PCITSM_TLP_CFGWR1, /* Configuration Write Type 1 */
	PCITSM_TLP_CPL,    /* Completion without data */
	PCITSM_TLP_CPLD,   /* Completion with data */
	PCITSM_TLP_MSG,    /* Message without data, routed by ID or local (IDE Sync / Fail) */
};

/* Message codes (PCIe 6.x §2.2.8 IDE messages) and routing sub-field r[2:0] of the Msg Type. */
#define PCITSM_MSG_IDE_SYNC 0x54
#define PCITSM_MSG_IDE_FAIL 0x55
#define PCITSM_MSG_ROUTE_ID 0x2
#define PCITSM_MSG_ROUTE_LOCAL 0x4

/* The PASID TLP Prefix (PCIe 6.x §6.20.2.1, non-flit mode): an End-End prefix, Fmt 100b Type
 * 1_0001b; byte 1 bit 7 Privileged Mode Requested, bit 6 Execute Requested, bits 5:4 reserved,
 * bits 3:0 PASID[19:16]; bytes 2-3 PASID[15:0]. It may accompany a Memory Request only (PCIe 6.x
 * §6.20.2.2), and Execute Requested only a Memory Read. */
#define PCITSM_TLP_PFX_PASID 0x91
#define PCITSM_TLP_PASID_MAX 0xfffffu
#define PCITSM_TLP_PASID_PMR 0x80 /* byte 1 */
#define PCITSM_TLP_PASID_ER 0x40
#define PCITSM_TLP_PASID_RSVD 0x30
struct pcitsm_tlp_pasid {
	uint32_t pasid; /* 20 bits */
	bool priv;      /* Privileged Mode Requested */
	bool exec;      /* Execute Requested */
};
/* A decoded TLP. data points into the buffer it was decoded from (or to the caller's payload). */
struct pcitsm_tlp {
	enum pcitsm_tlp_kind kind;
	uint8_t tc;          /* traffic class 0-7 */
	uint8_t attr;        /* Attr[2:0]: bit 2 ID-based ordering, bit 1 RO, bit 0 NS */
	bool ep;             /* poisoned */
	uint16_t req_id;     /* requester ID (requests, messages); completions: the requester */
	uint8_t tag;
	uint8_t first_be, last_be;   /* memory / config requests */
	uint64_t addr;               /* memory requests; >= 4 GiB selects the 4-DW header */
	uint16_t target_id;          /* config: bus/dev/fn; messages routed by ID: destination */
	uint16_t reg;                /* config: register byte offset, DW aligned, < 4096 */
	uint16_t cpl_id;             /* completions: completer ID */
	uint8_t status;              /* completions: 0 SC, 1 UR, 2 CRS, 4 CA */
	bool bcm;
	uint16_t byte_count;         /* completions: 1-4096 (4096 encoded as 0) */
	uint8_t lower_addr;          /* completions: Lower Address[6:0] */
	uint8_t msg_code, msg_route; /* messages */
	uint8_t msg_body[4];         /* messages: header bytes 12-15 */
	const uint8_t *data;         /* payload (MWr, CfgWr1, CplD) */
	size_t len;                  /* payload bytes: a multiple of 4, 4..4096 where present */
	bool has_pasid;              /* a PASID TLP Prefix precedes the header (memory requests) */
	struct pcitsm_tlp_pasid pasid;
	/* T: the TLP originates in a TEE / is a completion for one (TDISP, PCIe 6.x §11). A non-flit
	 * header has no T bit: it travels in the IDE TLP Prefix only, so the codec neither writes
	 * nor reads it; the engine takes it from pcitsm_ide_io.t and hands it out in
	 * pcitsm_ide_rx_out.t. */
	bool tee;
};

/* Bytes before the payload: the header (12 or 16), plus 4 for a PASID TLP Prefix. */
size_t pcitsm_tlp_hdr_len(const struct pcitsm_tlp *t);
/* Encode header and payload: E_INVAL for impossible fields, E_NOSPC if out is too small. */
pcitsm_err pcitsm_tlp_encode(const struct pcitsm_tlp *t, uint8_t *out, size_t cap, size_t *len)
	PCITSM_MUST_CHECK;
/* Decode one TLP, optionally preceded by one PASID TLP Prefix (no other prefix), that must span
 * exactly len bytes: E_SHORT / E_LONG for a length that disagrees with the header, E_FIELD for
 * unsupported Fmt/Type or illegal field combinations (another prefix, a second PASID prefix, a
 * PASID prefix on a TLP it may not accompany), E_RESERVED for reserved bits set, E_UNSUPPORTED for
 * TD=1 (ECRC is forbidden on IDE links). Encoding checks the PASID prefix the same way. */
pcitsm_err pcitsm_tlp_decode(const uint8_t *in, size_t len, struct pcitsm_tlp *t) PCITSM_MUST_CHECK;

/* A TLP in two parts, so that a payload crosses the emulated link where it lies, without being
 * copied into a frame (docs/sva.md "DMA as TLPs"): its bytes are hdr[0, hdr_len) followed by
 * data[0, data_len). data_len 0: the whole TLP is in hdr (the usual, contiguous form); otherwise
 * hdr holds exactly the PASID prefix (if any) and header, data exactly the payload. */
struct pcitsm_tlp_ref {
	const uint8_t *hdr;
	size_t hdr_len;
	const uint8_t *data;
	size_t data_len;
};
/* The header (and PASID prefix) of t alone, as pcitsm_tlp_encode writes it: the payload (t->len
 * bytes, t->data not read) is the second part of a pcitsm_tlp_ref. */
pcitsm_err pcitsm_tlp_encode_hdr(const struct pcitsm_tlp *t, uint8_t *out, size_t cap, size_t *len)
	PCITSM_MUST_CHECK;
/* Decode a TLP in two parts: the checks of pcitsm_tlp_decode over the bytes as a whole, and
 * E_FIELD if the split is not exactly header | payload; t->data points into r->data. */
pcitsm_err pcitsm_tlp_decode_ref(const struct pcitsm_tlp_ref *r, struct pcitsm_tlp *t)
	PCITSM_MUST_CHECK;

/* The IDE TLP prefix (PCIe 6.x §6.33 IDE TLP format). */
struct pcitsm_ide_prefix {
	bool m, k, t, p;
	uint8_t sub;       /* sub-stream 0 PR, 1 NPR, 2 CPL */
	uint8_t stream_id;
	uint8_t pr_sent;
};
void pcitsm_ide_prefix_encode(const struct pcitsm_ide_prefix *x, uint8_t out[4]);
/* E_FIELD unless byte 0 is the IDE prefix; E_RESERVED for the reserved bit; E_FIELD for a
 * reserved sub-stream value (3-7) or P without M. */
pcitsm_err pcitsm_ide_prefix_decode(const uint8_t in[4], struct pcitsm_ide_prefix *x)
	PCITSM_MUST_CHECK;
/* E_INVAL for a PASID above 20 bits. */
pcitsm_err pcitsm_tlp_pasid_encode(const struct pcitsm_tlp_pasid *x, uint8_t out[4])
	PCITSM_MUST_CHECK;
/* E_FIELD unless byte 0 is the PASID prefix; E_RESERVED for reserved bits set. */
pcitsm_err pcitsm_tlp_pasid_decode(const uint8_t in[4], struct pcitsm_tlp_pasid *x)
	PCITSM_MUST_CHECK;
/* May this PASID prefix accompany TLP t? E_FIELD for a TLP that is not a Memory Request, or
 * Execute Requested on one that is not a Memory Read (a Malformed TLP, PCIe 6.x §6.20.2.2). */
pcitsm_err pcitsm_tlp_pasid_check(const struct pcitsm_tlp_pasid *x, const struct pcitsm_tlp *t)
	PCITSM_MUST_CHECK;

/* An IDE TLP split into its parts (no cryptography): prefix, header, payload (+ PCRC) and MAC. */
struct pcitsm_ide_tlp_view {
	struct pcitsm_ide_prefix pfx;
	const uint8_t *hdr;
	size_t hdr_len;
	const uint8_t *payload; /* encrypted payload, then the encrypted PCRC when pfx.p */
	size_t payload_len;     /* including the PCRC */
	const uint8_t *mac;     /* NULL when !pfx.m */
};
pcitsm_err pcitsm_ide_tlp_split(const uint8_t *in, size_t len, struct pcitsm_ide_tlp_view *v)
	PCITSM_MUST_CHECK;

/* PCRC (PCIe 6.x §6.33 PCRC) of a plaintext payload, as the 4 wire bytes; the incremental form
 * starts from PCITSM_IDE_PCRC_SEED and ends with pcitsm_ide_pcrc_final. */
#define PCITSM_IDE_PCRC_SEED 0xffffffffu
uint32_t pcitsm_ide_pcrc_update(uint32_t crc, const uint8_t *p, size_t n);
void pcitsm_ide_pcrc_final(uint32_t crc, uint8_t out[PCITSM_IDE_PCRC_LEN]);
void pcitsm_ide_pcrc(const uint8_t *p, size_t n, uint8_t out[PCITSM_IDE_PCRC_LEN]);

/* =============================================================================================
 * IDE_KM key material byte order (PCIe 6.x §6.33.3; docs/ide-wire-format.md): the one place it
 * lives.
 * ============================================================================================= */
/* KEY_PROG message bytes (offset 8..39) <-> AES key bytes: each 4-byte group reversed. */
void pcitsm_ide_km_key_to_aes(const uint8_t wire[32], uint8_t aes[32]);
void pcitsm_ide_km_key_from_aes(const uint8_t aes[32], uint8_t wire[32]);
/* KEY_PROG IFV bytes (offset 40..47) <-> the 64-bit invocation counter (IV bytes 4..11). */
uint64_t pcitsm_ide_km_ifv_decode(const uint8_t wire[8]);
void pcitsm_ide_km_ifv_encode(uint64_t ifv, uint8_t wire[8]);

/* =============================================================================================
 * The engine: one struct pcitsm_ide_port per port (root port or endpoint upstream port)
 * ============================================================================================= */
/* Selective IDE streams per port: chosen when the port is created (pcitsm_ide_port_new_streams),
 * one engine stream per Selective IDE Stream register block. A root port of a host bridge may have
 * up to 256 blocks (PCIe 6.x §7.9.26: Number of Selective IDE Streams Supported is 8 bits, +1). */
#define PCITSM_IDE_PORT_STREAMS_DEFAULT 8
#define PCITSM_IDE_PORT_STREAMS_MAX 256
#define PCITSM_IDE_NR_SUB 3
#define PCITSM_IDE_AGG_MAX 8       /* PCIe 6.x §6.33 aggregation: at most 8 TLPs per unit */
#define PCITSM_IDE_AGG_DATA_MAX 1024 /* PCIe 6.x §6.33: at most 256 DW of payload per unit */
#define PCITSM_IDE_SYNC_AT 245     /* PCIe 6.x §6.33: a PR_Sent counter at 245 needs an IDE Sync */

enum pcitsm_ide_dir { PCITSM_IDE_RX = 0, PCITSM_IDE_TX = 1 };
enum pcitsm_ide_sub { PCITSM_IDE_SUB_PR = 0, PCITSM_IDE_SUB_NPR = 1, PCITSM_IDE_SUB_CPL = 2 };
enum pcitsm_ide_state { PCITSM_IDE_INSECURE = 0, PCITSM_IDE_SECURE = 2 }; /* status encoding */

/* One (direction, sub-stream, key set) slot: its expanded key and its IV counter. */
struct pcitsm_ide_slot {
	struct pcitsm_gcm_key *key; /* allocated on first KEY_PROG */
	uint64_t ctr;               /* next invocation counter to use */
	bool valid;                 /* programmed and not invalidated */
	bool go;                    /* K_SET_GO received */
};

/* RX aggregation: the held (MAC-less) TLPs of the unit being received on one sub-stream. */
struct pcitsm_ide_rx_unit {
	uint8_t n;
	uint8_t kset;
	uint8_t aad[PCITSM_IDE_AGG_MAX * (PCITSM_TLP_PREFIX_LEN + PCITSM_TLP_HDR_MAX)];
	size_t aad_len;
	uint8_t data[PCITSM_IDE_AGG_DATA_MAX];
	size_t data_len;
	uint8_t hdr_off[PCITSM_IDE_AGG_MAX], hdr_len[PCITSM_IDE_AGG_MAX];
	uint16_t data_off[PCITSM_IDE_AGG_MAX], data_len_of[PCITSM_IDE_AGG_MAX];
	uint8_t pr_sent[PCITSM_IDE_AGG_MAX];
	uint8_t msg[PCITSM_IDE_AGG_MAX];  /* 0, or PCITSM_MSG_IDE_SYNC / _FAIL */
	uint8_t sync_npr[PCITSM_IDE_AGG_MAX], sync_cpl[PCITSM_IDE_AGG_MAX];
};

struct pcitsm_ide_stream_stats {
	uint64_t tx_tlps, rx_tlps, rx_units, tx_syncs, rx_syncs, check_failed, dropped;
};

struct pcitsm_ide_stream {
	bool configured, enabled;
	enum pcitsm_ide_state state;
	pcitsm_err fail_reason;  /* why it last went Insecure (OK if never) */
	bool recvd_fail;         /* an IDE Fail message arrived (Status bit 31) */
	/* Association and control (PCIe 6.x §7.9.26, §6.33 selective stream rules), from the
	 * selective block. */
	uint8_t id, tc;
	bool default_stream, cfg_en, pcrc, tee_limited;
	uint8_t agg[PCITSM_IDE_NR_SUB]; /* TX aggregation: max TLPs per unit (1, 2, 4, 8) */
	bool rid_valid;
	uint16_t rid_base, rid_limit;
	uint8_t nr_addr;
	struct pcitsm_ide_addr_assoc addr[PCITSM_IDE_MAX_ADDR];
	/* Keys: [direction][sub-stream][key set] (PCIe 6.x §6.33 streams and sub-streams). */
	struct pcitsm_ide_slot slot[2][PCITSM_IDE_NR_SUB][2];
	uint8_t tx_kset;                  /* K used by the transmitter on every sub-stream */
	uint8_t rx_kset[PCITSM_IDE_NR_SUB];
	/* PR_Sent counters (PCIe 6.x §6.33). */
	uint8_t pr_sent_npr, pr_sent_cpl;
	uint64_t pr_recv_npr, pr_recv_cpl;
	bool sync_pending, fail_pending;
	struct pcitsm_ide_rx_unit rx_unit[PCITSM_IDE_NR_SUB];
	struct pcitsm_ide_stream_stats stats;
};

struct pcitsm_ide_port {
	struct pcitsm_gcm *gcm;   /* not owned */
	const struct pcitsm_env *env;
	uint16_t rid;             /* Requester ID of the function implementing IDE */
	bool rx_aggregation;      /* receiver accepts MAC-less TLPs (Aggregation Supported) */
	/* Stream ID -> stream index, PCITSM_IDE_NO_STREAM for none (configured streams): the O(1)
	 * lookup of every received TLP, whatever nr_streams is. */
	uint16_t id_to_idx[256];
	uint64_t misrouted, clear_dropped;
	/* Told when one of its streams leaves Secure on its own: an IDE Check Failed or an IDE Fail
	 * received (PCIe 6.x §6.33 error handling), the stream already Insecure, from inside
	 * pcitsm_ide_rx / pcitsm_ide_rx_burst. A device's model moves the TDIs bound to that stream to
	 * ERROR there (TDISP, PCIe 6.x §11); Enable cleared by software is its register write's
	 * business. NULL: nobody is told. */
	void (*on_insecure)(void *arg, uint8_t stream_id);
	void *on_insecure_arg;
	unsigned nr_streams;      /* stream[0..nr_streams-1], fixed at creation */
	/* Optional (the emulated link's DMA engine): where the payload of a received single-TLP
	 * unit is to be decrypted, asked before it is (t: its header, t->tee its T bit; t->data is
	 * the ciphertext). NULL, or a NULL answer: after the header in the caller's buffer. A
	 * payload so placed is wiped there if the TLP is refused (MAC, counters, PCRC), and
	 * pcitsm_ide_rx_out.data says where it went: one decryption straight into the
	 * destination, no copy after it. */
	uint8_t *(*rx_place)(void *ctx, const struct pcitsm_tlp *t);
	void *rx_place_ctx;
	struct pcitsm_ide_stream stream[]; /* allocated with the port: no per-TLP indirection */
};
#define PCITSM_IDE_NO_STREAM 0xffffu

/* Allocate a port with nr_streams (1..PCITSM_IDE_PORT_STREAMS_MAX) selective streams, all in one
 * allocation (each stream's contexts are large: keep them off the stack). E_INVAL for a count out
 * of range. Stream indexes (register blocks) are 0..nr_streams-1 in every call below: E_INVAL
 * from nr_streams on. */
pcitsm_err pcitsm_ide_port_new_streams(struct pcitsm_ide_port **p, struct pcitsm_gcm *gcm,
				       const struct pcitsm_env *env, uint16_t rid,
				       unsigned nr_streams) PCITSM_MUST_CHECK;
/* The same with PCITSM_IDE_PORT_STREAMS_DEFAULT streams. */
pcitsm_err pcitsm_ide_port_new(struct pcitsm_ide_port **p, struct pcitsm_gcm *gcm,
			       const struct pcitsm_env *env, uint16_t rid) PCITSM_MUST_CHECK;
/* Wipe every key and free. */
void pcitsm_ide_port_free(struct pcitsm_ide_port *p);

/* Configure selective stream idx (the block index) from its decoded registers; the stream must
 * not be enabled (E_STATE). Only algorithm 0 and no partial header encryption (E_UNSUPPORTED). The
 * Enable bit in sel is ignored: use pcitsm_ide_stream_enable. */
pcitsm_err pcitsm_ide_stream_config(struct pcitsm_ide_port *p, unsigned idx,
				    const struct pcitsm_ide_sel *sel) PCITSM_MUST_CHECK;

/* Configure the port from its IDE Extended Capability at cap_off in cfg, as decoded by
 * pcitsm_ide_read / pcitsm_ide_sel_read (PCIe 6.x §7.9.26): rx_aggregation from Aggregation
 * Supported; each Selective IDE block i < p->nr_streams becomes stream i
 * (pcitsm_ide_stream_config: Stream ID, TC, Default Stream, RID association, address associations,
 * aggregation, PCRC, config requests; features the capability does not advertise are ignored), then
 * follows the block's Enable bit: set enables the stream, clear disables it. A block with Enable
 * set whose stream is already enabled with the same Stream ID is left alone (registers are sampled
 * at Enable); the same registers read again with Enable clear keep the stream and its keys.
 * A block holds no stream, and whatever stream the engine held for it is released
 * (pcitsm_ide_stream_unconfigure), when it is idle (reserved Stream ID 255 with Enable clear) or
 * when the engine refuses its programming (the error is returned). Streams whose block now carries
 * another Stream ID are released before any block is configured, so a Stream ID may move between
 * blocks in one load. *nr_streams (may be NULL): the blocks that hold a stream after the load.
 * E_UNSUPPORTED without Selective IDE Streams Supported; the decoders' and
 * pcitsm_ide_stream_config's errors otherwise (blocks before the failing one stay loaded). */
pcitsm_err pcitsm_ide_port_load(struct pcitsm_ide_port *p, struct pcitsm_cfg *cfg, uint16_t cap_off,
				unsigned *nr_streams) PCITSM_MUST_CHECK;
/* What pcitsm_ide_port_load does for one Selective IDE block i (rx_aggregation untouched), for a
 * model whose registers drive its engine write by write: a Stream ID another block still holds is
 * refused (E_EXISTS, the block holds no stream) until that block lets it go. *configured (may be
 * NULL): the block holds a stream after the call (false for an idle block or an error). E_INVAL
 * for i >= p->nr_streams; pcitsm_ide_port_load's errors otherwise. */
pcitsm_err pcitsm_ide_port_load_block(struct pcitsm_ide_port *p, struct pcitsm_cfg *cfg,
				      uint16_t cap_off, unsigned i, bool *configured) PCITSM_MUST_CHECK;

/* IDE_KM's operations. key is in KEY_PROG message byte order and ifv as its 8 bytes (PCIe 6.x
 * §6.33.3; docs/ide-wire-format.md). */
pcitsm_err pcitsm_ide_key_prog(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
			       enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
			       const uint8_t key[32], const uint8_t ifv[8]) PCITSM_MUST_CHECK;
/* The same with the AES key bytes and the counter value. */
pcitsm_err pcitsm_ide_key_prog_aes(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
				   enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub,
				   const uint8_t aes_key[32], uint64_t ifv) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_ide_k_set_go(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
			       enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_ide_k_set_stop(struct pcitsm_ide_port *p, uint8_t stream_id, unsigned kset,
				 enum pcitsm_ide_dir dir, enum pcitsm_ide_sub sub) PCITSM_MUST_CHECK;
/* Set Enable: Secure when the RID association is Valid and a key set has all 6 slots programmed
 * and GO, else the stream stays Insecure (the call still succeeds, as the register write does;
 * PCIe 6.x §7.9.26: Enable with V=0 forces Insecure). */
pcitsm_err pcitsm_ide_stream_enable(struct pcitsm_ide_port *p, unsigned idx) PCITSM_MUST_CHECK;
/* Clear Enable: Insecure, every key and IV of the stream invalidated. */
pcitsm_err pcitsm_ide_stream_disable(struct pcitsm_ide_port *p, unsigned idx) PCITSM_MUST_CHECK;
/* Release stream idx (the block holds no stream any more): Enable cleared as by
 * pcitsm_ide_stream_disable (Insecure, keys of both key sets and IVs wiped, pending IDE Sync / Fail
 * dropped; the expanded keys stay allocated for the next KEY_PROG), the association forgotten and
 * its Stream ID free for another stream. An IDE TLP that still carries the Stream ID is misrouted
 * (pcitsm_ide_rx: E_NOTFOUND) and KEY_PROG for it finds no stream. Idempotent: OK on a stream that
 * is not configured. E_INVAL for idx >= p->nr_streams. */
pcitsm_err pcitsm_ide_stream_unconfigure(struct pcitsm_ide_port *p, unsigned idx)
	PCITSM_MUST_CHECK;
enum pcitsm_ide_state pcitsm_ide_stream_state(const struct pcitsm_ide_port *p, unsigned idx);
/* How far the keys in use have gone (PCIe 6.x §6.33 IV rules: one IV invocation counter per
 * key, started at the IFV, never wrapped). For each direction and sub-stream, the key set in use
 * (TX: the one set of the transmitter; RX: the receiver's, per sub-stream, PCIe 6.x §6.33 key
 * refresh) and the next counter of that slot, 0 when the slot is not valid. No key byte. */
struct pcitsm_ide_key_usage {
	bool secure;
	uint8_t kset[2][PCITSM_IDE_NR_SUB];    /* [dir][sub] */
	uint64_t ctr[2][PCITSM_IDE_NR_SUB];    /* [dir][sub]: next counter, 0: slot not valid */
};
/* E_NOTFOUND when no stream carries stream_id; E_INVAL for NULL. */
pcitsm_err pcitsm_ide_key_usage(const struct pcitsm_ide_port *p, uint8_t stream_id,
				struct pcitsm_ide_key_usage *u) PCITSM_MUST_CHECK;
/* The stream index carrying Stream ID id, or -1. */
int pcitsm_ide_stream_find(const struct pcitsm_ide_port *p, uint8_t id);

/* Which enabled stream a TLP belongs to at the transmitter (PCIe 6.x §6.33 selective stream rules),
 * or -1 for none. */
int pcitsm_ide_select(const struct pcitsm_ide_port *p, const struct pcitsm_tlp *t);

/* TX: n (1..8) plaintext TLPs in, IDE TLPs out; n > 1 is one aggregated unit (same stream and
 * sub-stream, the stream's aggregation mode allows n, payload total <= 256 DW, MAC on the last).
 * A TLP that belongs to no stream goes out unchanged. A TLP whose stream is not Secure is
 * discarded: E_STATE (never sent in the clear). E_OVERFLOW when the IV counter is exhausted;
 * E_BUSY when a PR_Sent counter waits for its IDE Sync (pcitsm_ide_next_msg).
 * t: the TLP's T bit (TDISP, PCIe 6.x §11), written into its IDE TLP Prefix, where the MAC covers
 * it. A T=1 TLP is only ever sent inside a Secure stream: E_STATE when it selects none. A
 * TEE-Limited stream (PCIe 6.x §7.9.26 Selective IDE Stream Control bit 23) still carries the T=0
 * TLPs it selects: stricter than required, every TLP the stream could carry is protected
 * (docs/ide-wire-format.md). */
struct pcitsm_ide_io {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_cap;
	size_t out_len;
	bool t;
	/* Optional: the payload apart from the header (struct pcitsm_tlp_ref: in / in_len are then
	 * exactly the header), sealed straight from where it lies. */
	const uint8_t *data;
	size_t data_len;
};
pcitsm_err pcitsm_ide_tx(struct pcitsm_ide_port *p, struct pcitsm_ide_io *io, size_t n)
	PCITSM_MUST_CHECK;

/* RX: one received TLP in. Delivered plaintext TLPs (header + payload, no prefix) are laid out in
 * buf: none while an aggregated unit is incomplete or for a consumed IDE message, up to 8 when a
 * unit's MAC checks. An error means the TLP was discarded: E_MAC/E_REPLAY/E_FIELD on a Secure
 * stream are IDE Check Failed (the stream goes Insecure, its keys are invalidated, an IDE Fail is
 * queued); E_STATE for an IDE TLP on a stream that is not Secure; E_NOTFOUND for a misrouted IDE
 * TLP; E_UNEXPECTED for a plaintext TLP that belongs to a Secure stream. */
struct pcitsm_ide_rx_out {
	uint8_t *buf;
	size_t cap;
	size_t n;
	size_t off[PCITSM_IDE_AGG_MAX], len[PCITSM_IDE_AGG_MAX];
	bool t[PCITSM_IDE_AGG_MAX]; /* each delivered TLP's T bit, from its IDE TLP Prefix (0 for a
				     * plaintext TLP: T=1 never travels in the clear) */
	int stream;      /* stream index the TLP belonged to, -1 for none */
	bool consumed;   /* an IDE message, handled by the engine */
	/* Set by the receiver: non-NULL when the port's rx_place put the (single) delivered TLP's
	 * payload, data_len bytes, there; len[0] is then its header's alone. */
	uint8_t *data;
	size_t data_len;
};
pcitsm_err pcitsm_ide_rx(struct pcitsm_ide_port *p, const uint8_t *in, size_t len,
			 struct pcitsm_ide_rx_out *out) PCITSM_MUST_CHECK;

/* Bursts: n TLPs in one call (no limit on n), each TLP its own unit with its own MAC, with
 * exactly the semantics of n calls of pcitsm_ide_tx(p, &io[i], 1) / pcitsm_ide_rx(p, in[i], len[i],
 * &out[i]) in order that stop at the first error. *done is how many TLPs were processed with
 * success (io[0..*done-1] / out[0..*done-1] are complete); on error the TLP at index *done failed
 * as it would have singly (a receive-side IDE Check Failed takes the stream Insecure), and the TLPs
 * after it are untouched (not sent, not received, their io / out not written): the caller
 * continues with them, or not, as after a single call. No allocation or system call per burst
 * (docs/performance.md "IDE bursts"). E_INVAL (with *done 0) for NULL p, done or arrays. */
pcitsm_err pcitsm_ide_tx_burst(struct pcitsm_ide_port *p, struct pcitsm_ide_io *io, size_t n,
			       size_t *done) PCITSM_MUST_CHECK;
pcitsm_err pcitsm_ide_rx_burst(struct pcitsm_ide_port *p, const uint8_t *const *in,
			       const size_t *len, struct pcitsm_ide_rx_out *out, size_t n,
			       size_t *done) PCITSM_MUST_CHECK;

/* The next control message the port must send (IDE Fail first, then IDE Sync), encoded: E_NOTFOUND
 * when none is pending. */
pcitsm_err pcitsm_ide_next_msg(struct pcitsm_ide_port *p, uint8_t *out, size_t cap, size_t *len)
	PCITSM_MUST_CHECK;

/* =============================================================================================
 * The emulated link and its tap
 * ============================================================================================= */
enum pcitsm_ide_side { PCITSM_IDE_SIDE_RP = 0, PCITSM_IDE_SIDE_EP = 1 };

/* A TLP on the wire, as the tap sees it. The tap may rewrite data/len (len <= cap). */
struct pcitsm_ide_frame {
	uint8_t data[PCITSM_IDE_TLP_MAX];
	size_t len;
};
enum pcitsm_tap_verdict {
	PCITSM_TAP_PASS,      /* forward (possibly modified) */
	PCITSM_TAP_DROP,      /* lose it */
	PCITSM_TAP_DUPLICATE, /* forward it twice */
	PCITSM_TAP_HOLD,      /* keep it aside until pcitsm_ide_wire_release (reorder) */
};

#define PCITSM_IDE_WIRE_QUEUE 64
#define PCITSM_IDE_WIRE_HOLD 8
#define PCITSM_IDE_WIRE_BURST 32 /* TLPs per engine burst call in pcitsm_ide_wire_send_burst */
struct pcitsm_ide_wire;
/* Called for every TLP entering the wire from side `from`, in order. */
typedef enum pcitsm_tap_verdict (*pcitsm_ide_tap_fn)(struct pcitsm_ide_wire *w,
						     enum pcitsm_ide_side from,
						     struct pcitsm_ide_frame *f);
/* Called for every plaintext TLP delivered to side `to`, with its T bit (pcitsm_ide_rx_out.t): in
 * two parts where the sender handed it over so (a burst on a link carrying it in the clear),
 * otherwise whole in tlp->hdr. */
typedef void (*pcitsm_ide_sink_fn)(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to,
				   const struct pcitsm_tlp_ref *tlp, bool tee);
/* Optional: called after a delivery to side `to` ends (one TLP, or a burst's TLPs). The bytes the
 * sink was handed since the last call stay valid until it returns: a sink may collect the TLPs of
 * a burst and act on them together here. */
typedef void (*pcitsm_ide_sink_end_fn)(struct pcitsm_ide_wire *w, enum pcitsm_ide_side to);

struct pcitsm_ide_wire_stats {
	uint64_t sent, delivered, rejected, tx_refused;
	pcitsm_err last_reject;
};

struct pcitsm_ide_wire {
	struct pcitsm_ide_port *port[2]; /* not owned */
	pcitsm_ide_tap_fn tap;           /* NULL: pass everything */
	void *tap_ctx;                   /* the tap's own: the wire never reads it */
	pcitsm_ide_sink_fn sink;
	pcitsm_ide_sink_end_fn sink_end; /* NULL: none */
	/* Per direction (indexed by the sending side): in-flight and held frames. */
	struct pcitsm_ide_frame q[2][PCITSM_IDE_WIRE_QUEUE];
	unsigned q_head[2], q_n[2];
	struct pcitsm_ide_frame hold[2][PCITSM_IDE_WIRE_HOLD];
	unsigned hold_n[2];
	bool running;
	struct pcitsm_ide_frame txf[PCITSM_IDE_AGG_MAX], msg, cur; /* scratch */
	uint8_t rx_buf[PCITSM_IDE_AGG_MAX * (PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX)];
	struct pcitsm_ide_wire_stats stats[2]; /* indexed by the receiving side */
	/* Bursts, per sending side: the IDE TLPs built, and the plaintext they deliver (each TLP
	 * its own slot, valid until the burst's sink_end). burst_busy: a burst from that side is
	 * being delivered (a sink that sends back uses the other side's slots). */
	struct pcitsm_ide_frame burst_tx[2][PCITSM_IDE_WIRE_BURST];
	uint8_t burst_rx[2][PCITSM_IDE_WIRE_BURST][PCITSM_TLP_HDR_MAX + PCITSM_TLP_DATA_MAX];
	struct pcitsm_ide_rx_out burst_out[2][PCITSM_IDE_WIRE_BURST];
	bool burst_busy[2];
};

pcitsm_err pcitsm_ide_wire_new(struct pcitsm_ide_wire **w, struct pcitsm_ide_port *rp,
			       struct pcitsm_ide_port *ep, pcitsm_ide_sink_fn sink) PCITSM_MUST_CHECK;
void pcitsm_ide_wire_free(struct pcitsm_ide_wire *w);
/* Send n (1..8) plaintext TLPs from one side (n > 1: one aggregated unit), each with T bit tee
 * (pcitsm_ide_io.t), then carry everything in flight, including IDE Sync / Fail the ports emit,
 * until the wire is idle. Errors are the transmitter's (the TLPs were not sent); receive-side
 * drops are counted in stats. */
pcitsm_err pcitsm_ide_wire_send(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from, bool tee,
				const uint8_t *const *tlps, const size_t *lens, size_t n)
	PCITSM_MUST_CHECK;
/* Send n plaintext TLPs from one side, each its own IDE unit with T bit tee: what n calls of
 * pcitsm_ide_wire_send(w, from, tee, ...) of one TLP each do, in one call. A TLP may come in two
 * parts (struct pcitsm_tlp_ref): its payload is then sealed from where it lies, or, on a link
 * carrying it in the clear, handed to the sink there: no copy of the payload on the way. The
 * engines work in bursts (pcitsm_ide_tx_burst, then pcitsm_ide_rx_burst at the receiver,
 * PCITSM_IDE_WIRE_BURST TLPs per call), each TLP lands in its own slot and the sink gets them in
 * order, then sink_end once: no allocation, no copy into the queue, no system call per TLP. With a
 * tap, or behind frames already queued in that direction, the TLPs go one by one through the
 * queue instead, so the tap sees and may act on every TLP exactly as with single sends. An IDE
 * Sync a PR_Sent counter asks for goes between the TLPs where it is due (PCIe 6.x §6.33). *done:
 * the TLPs sent (the one at *done failed, those after it were not sent). Errors: the
 * transmitter's, as pcitsm_ide_wire_send; E_EXHAUSTED if the queue is full (a sink's burst while
 * the wire is busy in that direction); receive-side drops are counted in stats. */
pcitsm_err pcitsm_ide_wire_send_burst(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				      bool tee, const struct pcitsm_tlp_ref *tlps, size_t n,
				      size_t *done) PCITSM_MUST_CHECK;
/* The tap's own actions: put raw bytes on the wire (inject, replay), or release held frames. */
pcitsm_err pcitsm_ide_wire_inject(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from,
				  const uint8_t *bytes, size_t len) PCITSM_MUST_CHECK;
void pcitsm_ide_wire_release(struct pcitsm_ide_wire *w, enum pcitsm_ide_side from);
/* Deliver everything queued (called by send; for injections made outside a send). */
void pcitsm_ide_wire_run(struct pcitsm_ide_wire *w);

#endif /* PCITSM_IDE_H */
