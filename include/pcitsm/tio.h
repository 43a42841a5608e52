/* SPDX-License-Identifier: MIT */
/*
 * The platform firmware's TSM command interface, after AMD SEV-TIO's TIO_* firmware commands
 * (docs/tsm.md "Three trust domains"). The firmware (lib/tsmfw) owns everything secret: the SPDM
 * requester and its session keys, the IDE keys it generates, and the platform's private path into
 * the root ports' key registers. The host (lib/tsm/sevtio.c) reaches it only through these calls:
 * opaque handles, public results (struct pcitsm_tsm_failure, status, evidence), and the relay by
 * which every SPDM request the firmware makes leaves through the host's DOE mailbox (SEV-TIO's
 * SPDM_REQUEST exit, modelled as a synchronous call into the host for each object). The host hands
 * the firmware DOE objects and gets DOE objects back; it never gets a key.
 *
 * Commands: TIO_INIT (pcitsm_tio_fw_new), DEV_CREATE, DEV_CONNECT (split in two: the SPDM part,
 * then IDE_START once the host has set the stream registers up), DEV_REKEY (not in 6.19),
 * DEV_MEASUREMENTS (a verifier's nonce; its struct exists in 6.19, unwired), IDE_STOP,
 * DEV_DISCONNECT, DEV_RECLAIM.
 */
#ifndef PCITSM_TIO_H
#define PCITSM_TIO_H

#include "pcitsm/core.h"
#include "pcitsm/crypto.h"
#include "pcitsm/pci.h"
#include "pcitsm/platform.h"
#include "pcitsm/tdisp.h"
#include "pcitsm/tsm.h"

/* Where the firmware can be told to misbehave (tests, pcitsmd --fault). Device-side faults
 * (untrusted certificate, bad signature, refused KEY_PROG) belong to the device: the emulated
 * platform's struct pcitsm_emu_dev_faults. */
struct pcitsm_tio_faults {
	/* Fail right after this connect step (enum pcitsm_tsm_step), with E_IO. */
	int fail_after_step; /* 0: never */
	bool rp_key_prog_refused; /* the private root-port key path refuses KEY_PROG (E_BUSY) */
};

struct pcitsm_tio_cfg {
	const struct pcitsm_env *env;
	/* The platform's trust anchors for device certificate chains (not owned). NULL: every chain
	 * is untrusted and connect fails at GET_CERTIFICATE. */
	const struct pcitsm_trust *trust;
	/* The platform's grant to its firmware: the root ports' key path (its ctx must outlive the
	 * firmware). */
	struct pcitsm_platform_rp_keys rp_keys;
	struct pcitsm_tio_faults faults;
	/* The key lifetime policy (struct pcitsm_tsm_key_policy; checked as by
	 * pcitsm_tio_key_policy_set). NULL: the defaults (pcitsm_tio_key_policy_default). */
	const struct pcitsm_tsm_key_policy *key_policy;
};

struct pcitsm_tio_fw;  /* firmware memory: never read by the host */
struct pcitsm_tio_dev; /* a firmware device context */

/* TIO_INIT. E_INVAL without env or a root-port key path. */
pcitsm_err pcitsm_tio_fw_new(struct pcitsm_tio_fw **fw, const struct pcitsm_tio_cfg *cfg)
	PCITSM_MUST_CHECK;
/* Every device context must have been reclaimed. */
void pcitsm_tio_fw_free(struct pcitsm_tio_fw *fw);
/* SPDM sessions the firmware holds open. */
unsigned pcitsm_tio_sessions_open(struct pcitsm_tio_fw *fw);

/* The host's DOE relay: send one object of type (1 CMA, 2 secured CMA) and return the answer. */
typedef pcitsm_err (*pcitsm_tio_relay_fn)(void *host, uint8_t type, const uint8_t *req,
					  size_t req_len, uint8_t *rsp, size_t rsp_cap,
					  size_t *rsp_len);

/* TIO_DEV_CREATE: a firmware-owned device context for the device at rid in segment whose root port
 * has Port Number port_number (E_NOTFOUND: no such root port). Its SPDM requests go out through
 * relay(host, ...). */
pcitsm_err pcitsm_tio_dev_create(struct pcitsm_tio_fw *fw, uint16_t segment, uint16_t rid,
				 uint8_t port_number, pcitsm_tio_relay_fn relay, void *host,
				 struct pcitsm_tio_dev **dev) PCITSM_MUST_CHECK;
/* DEV_CONNECT, SPDM part: authentication against the firmware's anchors, signed measurements, a
 * secure session. On failure fail says the step (spdm_auth, measurements, session) and why; on
 * success step_ns (optional, indexed by enum pcitsm_tsm_step) holds each step's time. */
pcitsm_err pcitsm_tio_dev_connect(struct pcitsm_tio_dev *dev, struct pcitsm_tsm_failure *fail,
				  uint64_t *step_ns) PCITSM_MUST_CHECK;
/* DEV_CONNECT, IDE part, the library's one sequence (pcitsm_idekm_program_link, PortIndex 0):
 * QUERY (cross-checked against the endpoint's config space, read through ep_cfg), six keys
 * generated, KEY_PROG at the endpoint (IDE_KM in the session) and the root port (private path),
 * K_SET_GO of the receivers at both ends, then the transmitters. Keys wiped on every path.
 * E_STATE without a session. */
pcitsm_err pcitsm_tio_ide_start(struct pcitsm_tio_dev *dev, uint8_t stream_id,
				struct pcitsm_cfg *ep_cfg, uint16_t ep_ide_off,
				const struct pcitsm_bdf *ep_bdf, struct pcitsm_tsm_failure *fail,
				uint64_t *step_ns) PCITSM_MUST_CHECK;
/* The other key set at both ports, receivers then transmitters. E_STATE without a session and a
 * stream. */
pcitsm_err pcitsm_tio_dev_rekey(struct pcitsm_tio_dev *dev) PCITSM_MUST_CHECK;
/* The end of a refresh (PCIe 6.x §6.33.3 refresh order: new set at the receivers, then the
 * transmitters, K_SET_GO, traffic switches, then K_SET_STOP of the old set), once the host has made
 * every receiver switch (its link flush): K_SET_STOP of the old set at both ports, its keys wiped
 * there. E_BUSY while a root-port receiver still uses the old set (nothing stopped); E_STATE when
 * no refresh is pending. */
pcitsm_err pcitsm_tio_dev_rekey_done(struct pcitsm_tio_dev *dev) PCITSM_MUST_CHECK;

/* Key lifetime (ours, not in SEV-TIO or Linux 6.19; docs/tsm.md "Key lifetime"). */
/* 2^32 TLPs per key, one hour. */
void pcitsm_tio_key_policy_default(struct pcitsm_tsm_key_policy *p);
/* TIO_SET_KEY_POLICY: for every device from its next check. E_RANGE when max_tlps is above
 * PCITSM_TSM_KEY_MAX_TLPS_CAP (so that a refresh always comes long before an IV counter's end). */
pcitsm_err pcitsm_tio_key_policy_set(struct pcitsm_tio_fw *fw,
				     const struct pcitsm_tsm_key_policy *p) PCITSM_MUST_CHECK;
void pcitsm_tio_key_policy_get(struct pcitsm_tio_fw *fw, struct pcitsm_tsm_key_policy *p);
/* TIO_DEV_KEY_CHECK: the policy applied to the device's stream, from the root port's invocation
 * counters (the private path, struct pcitsm_platform_rp_keys usage) and the firmware's clock. When
 * due, the firmware refreshes as pcitsm_tio_dev_rekey does and *refreshed is true: the host then
 * makes traffic switch and calls pcitsm_tio_dev_rekey_done. OK with *refreshed false without a
 * stream. */
pcitsm_err pcitsm_tio_dev_key_check(struct pcitsm_tio_dev *dev, bool *refreshed) PCITSM_MUST_CHECK;
/* The key set in use (0 or 1). */
uint8_t pcitsm_tio_dev_key_set(const struct pcitsm_tio_dev *dev);
/* K_SET_STOP of every programmed slot at both ports (after the host cleared Enable). */
void pcitsm_tio_ide_stop(struct pcitsm_tio_dev *dev);
/* END_SESSION. */
void pcitsm_tio_dev_disconnect(struct pcitsm_tio_dev *dev);
/* TIO_DEV_RECLAIM: every secret wiped, the context freed. NULL is a no-op. */
void pcitsm_tio_dev_reclaim(struct pcitsm_tio_dev *dev);

/* Public results for status and evidence (no secrets): the negotiated SPDM parameters, the
 * session ID, the key set and its lifetime (st->keys); copies of the chain, measurements and VCA
 * transcript. */
void pcitsm_tio_dev_status(const struct pcitsm_tio_dev *dev, struct pcitsm_tsm_status *st);
pcitsm_err pcitsm_tio_dev_evidence(const struct pcitsm_tio_dev *dev, struct pcitsm_tsm_evidence *ev)
	PCITSM_MUST_CHECK;
/* TIO_DEV_MEASUREMENTS (SEV-TIO's 32-byte nonce; docs/evidence.md "The TSM's signed exchange"):
 * a signed GET_MEASUREMENTS of every block (operation 0xFF) over the device's established session,
 * whose Nonce is the caller's 32 bytes, used for nothing else. The firmware checks the signature
 * twice: the session's requester over its L1, then over the published pieces alone (A ||
 * GET_MEASUREMENTS || MEASUREMENTS, what a verifier rebuilds); only then does the exchange replace
 * the evidence pcitsm_tio_dev_evidence hands out. E_STATE without an open session; the exchange's
 * errors (E_SIG: the published pieces do not verify) leave the evidence as it was. */
pcitsm_err pcitsm_tio_dev_evidence_refresh(struct pcitsm_tio_dev *dev,
					   const uint8_t nonce[PCITSM_TSM_NONCE_LEN])
	PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * TDISP (PCIe 6.x §11): the firmware is the requester of every TDI of a connected device, over
 * the same SPDM session it used for IDE_KM (docs/tsm.md "TDISP: the devsec TSM"). The host relays
 * the secured-CMA objects as before and never sees the START nonce. A TDI is named by its Requester
 * ID (the INTERFACE_ID's FUNCTION_ID); at most PCITSM_TIO_MAX_TDIS per device.
 */
#define PCITSM_TIO_MAX_TDIS PCITSM_TDISP_MAX_TDIS

/* TDI_LOCK: version, capabilities, LOCK_INTERFACE_REQUEST (flags; the IDE stream programmed by
 * IDE_START as the default stream; MMIO_REPORTING_OFFSET 0), the report read in portions and
 * digested. The START nonce stays in firmware memory. E_STATE without a session and a stream,
 * E_EXISTS if the firmware already holds rid locked, E_EXHAUSTED past PCITSM_TIO_MAX_TDIS; the
 * sequence's errors otherwise, fail saying the TDISP step. */
pcitsm_err pcitsm_tio_tdi_lock(struct pcitsm_tio_dev *dev, uint16_t rid, uint16_t flags,
			       struct pcitsm_tsm_failure *fail) PCITSM_MUST_CHECK;
/* TDI_REPORT: the state and the report read again from the device (the generation counts LOCKs
 * and report changes); a report that differs from the
 * last one read bumps the generation. E_NOTFOUND: rid not locked by the firmware. */
pcitsm_err pcitsm_tio_tdi_evidence(struct pcitsm_tio_dev *dev, uint16_t rid,
				   struct pcitsm_tsm_tdi_evidence *ev) PCITSM_MUST_CHECK;
/* The TDI's state as the device answers GET_DEVICE_INTERFACE_STATE now, over the device's
 * session, whether or not the firmware locked it (rid: any TDI of the device). E_STATE without a
 * session; the device's TDISP_ERROR (INVALID_INTERFACE for a function it does not host) as
 * E_PEER_ERROR. */
pcitsm_err pcitsm_tio_tdi_state(struct pcitsm_tio_dev *dev, uint16_t rid, uint8_t *state)
	PCITSM_MUST_CHECK;
/* TDI_ACCEPT, transactional: the evidence the caller read (digest, generation) must still be the
 * TDI's: the device still CONFIG_LOCKED (else E_STATE), the report read again with the same digest
 * and the generation unchanged (else E_MISMATCH); then START_INTERFACE_REQUEST with the lock's
 * nonce and the state RUN. E_NOTFOUND: rid not locked. */
pcitsm_err pcitsm_tio_tdi_accept(struct pcitsm_tio_dev *dev, uint16_t rid,
				 const uint8_t digest[PCITSM_TDISP_DIGEST_LEN], uint32_t generation,
				 struct pcitsm_tsm_failure *fail) PCITSM_MUST_CHECK;
/* TDI_UNLOCK: STOP_INTERFACE_REQUEST (best effort), the firmware's record of rid wiped. */
void pcitsm_tio_tdi_unlock(struct pcitsm_tio_dev *dev, uint16_t rid);

#endif /* PCITSM_TIO_H */
