/* SPDX-License-Identifier: MIT */
/*
 * The platform firmware's TSM (an AMD SEV-TIO PSP model, docs/tsm.md). It owns everything
 * secret: the SPDM requester and its session keys, the IDE keys it generates, and the private path
 * into the root ports' key registers. The host talks to it only through these commands and serves
 * its SPDM_REQUEST exits by relaying DOE objects (relay_fn): the firmware never touches the
 * mailbox, the host never sees a key.
 *
 * Commands (SEV-TIO names where they exist): DEV_CREATE, DEV_CONNECT (here split in two: the SPDM
 * part, then IDE_START once the host has set the stream registers up), DEV_REKEY (not in 6.19),
 * IDE_STOP, DEV_DISCONNECT, DEV_RECLAIM.
 */
#ifndef PCITSM_TSM_FW_H
#define PCITSM_TSM_FW_H

#include "tsm_priv.h"

/* The host's DOE relay: send one object of type (1 CMA, 2 secured CMA) and return the answer. */
typedef pcitsm_err (*tsm_fw_relay_fn)(void *host, uint8_t type, const uint8_t *req, size_t req_len,
				      uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

struct tsm_fw;
struct tsm_fw_dev;

pcitsm_err tsm_fw_new(struct tsm_fw **fw, struct pcitsm_emu_platform *plat,
		      const struct pcitsm_trust *trust, const struct pcitsm_tsm_fw_faults *faults,
		      const struct pcitsm_env *env) PCITSM_MUST_CHECK;
void tsm_fw_free(struct tsm_fw *fw);
unsigned tsm_fw_sessions_open(struct tsm_fw *fw);

/* TIO_DEV_CREATE: a firmware-owned device context for the device at rid whose root port has Port
 * Number port_number. */
pcitsm_err tsm_fw_dev_create(struct tsm_fw *fw, uint16_t segment, uint16_t rid, uint8_t port_number,
			     tsm_fw_relay_fn relay, void *host, struct tsm_fw_dev **dev)
	PCITSM_MUST_CHECK;
/* DEV_CONNECT, SPDM part: authentication against the firmware's anchors, signed measurements, a
 * secure session. Fills fail and the per-step times on error / success. */
pcitsm_err tsm_fw_dev_connect(struct tsm_fw_dev *dev, struct pcitsm_tsm_failure *fail,
			      uint64_t *step_ns) PCITSM_MUST_CHECK;
/* DEV_CONNECT, IDE part, the library's one sequence (pcitsm_idekm_program_link, PortIndex 0):
 * QUERY (cross-checked against the endpoint's config space, read through ep_cfg), six keys
 * generated, KEY_PROG at the endpoint (IDE_KM in the session) and the root port (private path),
 * K_SET_GO of the receivers at both ends, then the transmitters. Keys wiped on every path. */
pcitsm_err tsm_fw_dev_ide_start(struct tsm_fw_dev *dev, uint8_t stream_id, struct pcitsm_cfg *ep_cfg,
				uint16_t ep_ide_off, const struct pcitsm_bdf *ep_bdf,
				struct pcitsm_tsm_failure *fail, uint64_t *step_ns)
	PCITSM_MUST_CHECK;
/* The other key set at both ports, receivers then transmitters. */
pcitsm_err tsm_fw_dev_rekey(struct tsm_fw_dev *dev) PCITSM_MUST_CHECK;
uint8_t tsm_fw_dev_key_set(const struct tsm_fw_dev *dev);
/* K_SET_STOP of every programmed slot at both ports (after the host cleared Enable). */
void tsm_fw_dev_ide_stop(struct tsm_fw_dev *dev);
/* END_SESSION. */
void tsm_fw_dev_disconnect(struct tsm_fw_dev *dev);
/* TIO_DEV_RECLAIM: every secret wiped, the context freed. */
void tsm_fw_dev_reclaim(struct tsm_fw_dev *dev);

/* Public results for status and evidence (no secrets). */
void tsm_fw_dev_status(const struct tsm_fw_dev *dev, struct pcitsm_tsm_status *st);
pcitsm_err tsm_fw_dev_evidence(const struct tsm_fw_dev *dev, struct pcitsm_tsm_evidence *ev)
	PCITSM_MUST_CHECK;

/* For the key-isolation test only: the firmware's session record state (keys included) and the
 * device context behind a connected function. */
const struct pcitsm_session *tsm_fw_dev_session(const struct tsm_fw_dev *dev);
struct tsm_fw_dev *tsm_sevtio_fw_dev(struct tsm_fn *fn);

#endif
