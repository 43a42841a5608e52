/* SPDX-License-Identifier: MIT */
/*
 * The link policy of a host (docs/apply.md): which PCI functions must be connected to a TSM (SPDM
 * session and IDE stream, PCIe 6.x §6.33), what their connection must show, and which TEE Device
 * Interfaces must be locked or running (TDISP, PCIe 6.x §11) after an acceptance policy
 * (docs/policy.md) held. A JSON file an administrator writes, untrusted input, parsed here once
 * into typed values; `pcitsm apply` compares it with what sysfs shows and acts.
 *
 * On Linux 6.19 the kernel and the TSM choose the stream (Stream ID, key sets, TC0, Selective IDE,
 * AES-GCM-256) and the SPDM parameters; the file can choose only the TSM, and *require* what the
 * result must show: a stream Secure at both ends, a minimum SPDM version, the negotiated
 * algorithms, the root certificate's hash. A requirement is checked, never negotiated.
 */
#ifndef PCITSM_POLICY_APPLY_H
#define PCITSM_POLICY_APPLY_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/pci.h"

#define PCITSM_APPLY_VERSION 1
#define PCITSM_APPLY_TEXT_MAX 65536 /* a larger file is refused */
#define PCITSM_APPLY_MAX_ENTRIES 64
#define PCITSM_APPLY_NAME_MAX 32   /* entry names: 1..31 of [A-Za-z0-9._-] */
#define PCITSM_APPLY_PATH_MAX 1024 /* a policy file path */
#define PCITSM_APPLY_TSM_MAX 16	   /* "tsmN" */

/* What identifies a function: its address, or its IDs as sysfs shows them (vendor, device, class,
 * read from the kernel's `vendor`, `device`, `class` files). */
struct pcitsm_apply_match {
	bool has_bdf;
	struct pcitsm_bdf bdf;
	bool has_vendor, has_device, has_class;
	uint16_t vendor, device;
	uint32_t class_code, class_mask; /* 24-bit; mask 0xffffff unless given */
};

/* The IDs of one function, as read from sysfs. */
struct pcitsm_apply_ids {
	struct pcitsm_bdf bdf;
	uint16_t vendor, device;
	uint32_t class_code;
};

/* What a connection must show (checked after connect, and at every run). Algorithm lists: the
 * negotiated one must be among them; an empty list is not checked. */
#define PCITSM_APPLY_MAX_ALGS 4
struct pcitsm_apply_require {
	bool ide;	  /* a stream registered and Secure at both ends (default true) */
	uint8_t spdm_min; /* 0x12 for 1.2; 0: not checked */
	unsigned nr_asym, nr_hash, nr_dhe, nr_aead;
	enum pcitsm_sig_alg asym[PCITSM_APPLY_MAX_ALGS];
	enum pcitsm_hash_alg hash[PCITSM_APPLY_MAX_ALGS];
	enum pcitsm_dhe_alg dhe[PCITSM_APPLY_MAX_ALGS];
	enum pcitsm_aead_alg aead[PCITSM_APPLY_MAX_ALGS];
	size_t root_hash_len; /* 0: not checked */
	uint8_t root_hash[PCITSM_HASH_MAX];
};

enum pcitsm_apply_tdi {
	PCITSM_APPLY_TDI_ANY = 0, /* no tdisp section: the TDI is left as it is */
	PCITSM_APPLY_TDI_LOCKED,  /* CONFIG_LOCKED */
	PCITSM_APPLY_TDI_RUN,	  /* RUN, accepted against the policy */
};

struct pcitsm_apply_entry {
	char name[PCITSM_APPLY_NAME_MAX];
	struct pcitsm_apply_match match;
	bool connect;
	char tsm[PCITSM_APPLY_TSM_MAX]; /* "" : the first TSM */
	struct pcitsm_apply_require req;
	enum pcitsm_apply_tdi tdi;
	char tdi_tsm[PCITSM_APPLY_TSM_MAX]; /* "": the devsec TSM */
	char policy[PCITSM_APPLY_PATH_MAX]; /* "": accepted without a measurement
					       policy */
};

enum pcitsm_apply_unmatched {
	PCITSM_APPLY_UNMATCHED_IGNORE = 0, /* not shown, never touched */
	PCITSM_APPLY_UNMATCHED_REPORT,	   /* shown, never touched */
};

struct pcitsm_apply {
	enum pcitsm_apply_unmatched unmatched;
	unsigned nr;
	struct pcitsm_apply_entry e[PCITSM_APPLY_MAX_ENTRIES];
};

/* Parse the file's text (len bytes): one strict JSON object, every key known, "pcitsm_apply": 1.
 * E_FIELD with why naming the field ("devices[2].match.class_mask: ..."), E_RANGE (too large, too
 * many entries), E_NOMEM. On failure *a is zeroed. */
pcitsm_err pcitsm_apply_parse(const char *text, size_t len, struct pcitsm_apply *a, char *why,
			      size_t why_len) PCITSM_MUST_CHECK;

/* Whether the entry's match holds for a function. */
bool pcitsm_apply_matches(const struct pcitsm_apply_match *m, const struct pcitsm_apply_ids *id);
/* The first entry that matches, or -1: the first match wins, as in docs/apply.md. */
int pcitsm_apply_find(const struct pcitsm_apply *a, const struct pcitsm_apply_ids *id);

/* What a connection shows (the TSM's published parameters, parsed where they were read). */
struct pcitsm_apply_seen {
	uint8_t spdm_version; /* 0x12; 0 not shown */
	enum pcitsm_sig_alg asym;
	enum pcitsm_hash_alg hash;
	enum pcitsm_dhe_alg dhe;
	enum pcitsm_aead_alg aead;
	bool has_root_hash;
	size_t root_hash_len;
	uint8_t root_hash[PCITSM_HASH_MAX];
};
/* OK, or E_MISMATCH with why naming the first requirement that does not hold ("spdm_version 1.1, at
 * least 1.2 required", "base_asym rsassa-3072, not among those required", "root_hash differs",
 * "root_hash not shown by this host"). IDE state is the caller's (it reads the registers). */
pcitsm_err pcitsm_apply_require_check(const struct pcitsm_apply_require *r,
				      const struct pcitsm_apply_seen *s, char *why,
				      size_t why_len) PCITSM_MUST_CHECK;

/* The RootHash of an SPDM certificate chain (DSP0274 1.3 GET_CERTIFICATE: Length u16 = the whole
 * chain's size, Reserved u16, RootHash of the negotiated base hash's size, then at least one
 * certificate) into s: E_SHORT, E_FIELD (Length disagrees, no certificate), E_INVAL (alg unknown).
 */
pcitsm_err pcitsm_apply_chain_root_hash(const uint8_t *chain, size_t len, enum pcitsm_hash_alg alg,
					struct pcitsm_apply_seen *s) PCITSM_MUST_CHECK;

/* The algorithm names the file and the TSM's status use ("ecdsa-p384", "sha384", "secp384r1",
 * "aes-256-gcm"), as their enum: false if unknown. */
bool pcitsm_apply_asym_parse(const char *s, enum pcitsm_sig_alg *out);
bool pcitsm_apply_hash_parse(const char *s, enum pcitsm_hash_alg *out);
bool pcitsm_apply_dhe_parse(const char *s, enum pcitsm_dhe_alg *out);
bool pcitsm_apply_aead_parse(const char *s, enum pcitsm_aead_alg *out);

const char *pcitsm_apply_tdi_name(enum pcitsm_apply_tdi t); /* "CONFIG_LOCKED", "RUN", "any" */

#endif /* PCITSM_POLICY_APPLY_H */
