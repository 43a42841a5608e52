/* SPDX-License-Identifier: MIT */
/*
 * The platform firmware's memory (lib/tsmfw): the structures behind the opaque handles of
 * include/pcitsm/tio.h, shared by fw.c and its test-only interface (fw_test.c). Firmware only: no
 * host file (lib/tsm, lib/emu, src/, bench/) includes this header, so the host holds these
 * structures only as handles and never sees inside them; the ctest lint/trust_boundaries
 * (scripts/check-boundaries.py) fails if one does (docs/tsm.md "Three trust domains"). Includes
 * public headers only.
 */
#ifndef PCITSM_TSMFW_FW_H
#define PCITSM_TSMFW_FW_H

#include <pthread.h>

#include "pcitsm/idekm.h"
#include "pcitsm/spdm_driver.h"
#include "pcitsm/tio.h"

struct pcitsm_tio_fw {
	struct pcitsm_platform_rp_keys rp_keys; /* the private key path into the root ports */
	const struct pcitsm_trust *trust;
	struct pcitsm_trust *empty; /* no anchors given: an empty store, so that no chain validates */
	struct pcitsm_tio_faults faults;
	struct pcitsm_idekm_link_ops link; /* the two ends of pcitsm_idekm_program_link */
	const struct pcitsm_env *env;
	pthread_mutex_t lock; /* sessions_open, devs, key_policy */
	struct pcitsm_tsm_key_policy key_policy; /* TIO_SET_KEY_POLICY */
	unsigned sessions_open;
	struct pcitsm_tio_dev *devs; /* every device context, newest first */
};

struct pcitsm_tio_dev {
	struct pcitsm_tio_fw *fw;
	struct pcitsm_tio_dev *next; /* in fw->devs */
	struct pcitsm_xport x; /* SPDM_REQUEST exits: the host's relay */
	pcitsm_tio_relay_fn relay;
	void *host;
	uint16_t segment, rid;
	void *rp; /* the root port's handle on the private key path, found from the Port Number */
	struct pcitsm_spdm_req r;
	bool r_init;
	struct pcitsm_spdm_auth_result auth;
	bool have_auth;
	struct pcitsm_spdm_session s;
	bool session_open;
	struct pcitsm_idekm_req km;
	/* The evidence published after a refresh with a caller's nonce (TIO_DEV_MEASUREMENTS): the
	 * signed in-session exchange, verified here before it replaced the connect-time one. */
	bool ev_fresh;
	uint8_t ev_req[64];
	size_t ev_req_len;
	uint8_t *ev_rsp; /* malloc'd */
	size_t ev_rsp_len;
	/* While a programming sequence runs: where its steps report (fw_step_done). */
	struct pcitsm_tsm_failure *step_fail;
	uint64_t *step_ns, *step_t;
	int stream_id;       /* -1 until IDE_START */
	uint8_t kset;        /* key set in use */
	bool ep_keyed[2], rp_keyed[2]; /* a key set programmed at the port */
	uint64_t kset_since_ns; /* when the set in use went K_SET_GO (the key age) */
	bool stop_pending;      /* a refresh waits for its K_SET_STOP of the old set */
	uint64_t policy_refreshes;
	/* TDIs this firmware locked (NULL: free slot); each holds its START nonce until accept. */
	struct fw_tdi *tdi[PCITSM_TIO_MAX_TDIS];
	uint32_t tdi_generation; /* the last generation given to a LOCK */
};

struct fw_tdi {
	uint16_t rid;
	uint32_t generation;
	uint8_t seen[PCITSM_TDISP_DIGEST_LEN]; /* digest of the report last read */
	struct pcitsm_tdisp_seq seq; /* nonce (secret), report, digest */
};

/* Every TDI record of d wiped and freed (tdi.c). */
void fw_tdis_drop(struct pcitsm_tio_dev *d);

#endif /* PCITSM_TSMFW_FW_H */
