/* SPDX-License-Identifier: MIT */
/*
 * The one place lib/tdisp meets lib/spdm: the DSM served as the PCI-SIG vendor-defined protocol 1
 * of an SPDM responder (PCIe 6.x §11, TDISP message transport: only inside a secure session, which
 * the SPDM layer enforces by ignoring vendor-defined requests outside one), and told when a
 * session ends so that the TDIs it locked go to ERROR.
 */
#include "pcitsm/spdm_rsp.h"
#include "pcitsm/tdisp.h"

static void dsm_session_ended(void *ctx, uint32_t session_id)
{
	pcitsm_tdisp_dsm_session_ended(ctx, session_id);
}

pcitsm_err pcitsm_tdisp_dsm_register(struct pcitsm_tdisp_dsm *d, struct pcitsm_spdm_rsp *s)
{
	if (!d || !s)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_spdm_rsp_register_vdm(s, PCITSM_SPDM_PROTO_TDISP, pcitsm_tdisp_dsm_handle,
						d));
	return pcitsm_spdm_rsp_register_vdm_end(s, PCITSM_SPDM_PROTO_TDISP, dsm_session_ended, d);
}
