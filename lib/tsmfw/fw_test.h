/* SPDX-License-Identifier: MIT */
/*
 * TEST ONLY: a window into the firmware's memory, for the tests that prove what the host must never
 * see (test_tsm's key isolation searches every relayed DOE object for the session's keys). Lives
 * with the firmware (lib/tsmfw) and is not part of the command interface of include/pcitsm/tio.h:
 * no host file (lib/tsm, lib/emu, src/, bench/) includes it (scripts/check-boundaries.sh).
 */
#ifndef PCITSM_TSMFW_FW_TEST_H
#define PCITSM_TSMFW_FW_TEST_H

#include "pcitsm/session.h"
#include "pcitsm/tio.h"

/* The secure session's record state (keys included) of the firmware's device context for the
 * device at rid in segment, while its session is open; NULL otherwise. */
const struct pcitsm_session *pcitsm_tio_test_session(struct pcitsm_tio_fw *fw, uint16_t segment,
						     uint16_t rid);

/* An unsigned GET_MEASUREMENTS (all blocks) over that session, as a firmware that asked for
 * measurements without a signature would: the session's M then holds it before the next signed
 * exchange. E_NOTFOUND without such a session. */
pcitsm_err pcitsm_tio_test_session_unsigned_measurements(struct pcitsm_tio_fw *fw, uint16_t segment,
							 uint16_t rid) PCITSM_MUST_CHECK;

#endif /* PCITSM_TSMFW_FW_TEST_H */
