# Renames of issue 12 [8/12] "The SPDM surface says what does I/O" (branch spdmapi), for
# re-applying to other branches: sed -i -E -f scripts/rename-spdm-api.sed FILES
# The DSP0277 record layer: seal/open one record (no longer sharing a verb with session set-up).
s/\bpcitsm_session_seal\b/pcitsm_record_seal/g
s/\bpcitsm_session_open\b/pcitsm_record_open/g
s/\bpcitsm_session_record_id\b/pcitsm_record_session_id/g
# Driver calls (they move bytes over a transport): pcitsm_spdm_drv_*, in pcitsm/spdm_driver.h.
s/\bpcitsm_spdm_authenticate\b/pcitsm_spdm_drv_authenticate/g
s/\bpcitsm_spdm_req_authenticate\b/pcitsm_spdm_drv_req_authenticate/g
s/\bpcitsm_spdm_req_exchange\b/pcitsm_spdm_drv_req_exchange/g
s/\bpcitsm_spdm_session_open\b/pcitsm_spdm_drv_session_open/g
s/\bpcitsm_spdm_session_measurements\b/pcitsm_spdm_drv_session_measurements/g
s/\bpcitsm_spdm_session_heartbeat\b/pcitsm_spdm_drv_session_heartbeat/g
s/\bpcitsm_spdm_session_get_digests\b/pcitsm_spdm_drv_session_get_digests/g
s/\bpcitsm_spdm_session_get_certificate\b/pcitsm_spdm_drv_session_get_certificate/g
s/\bpcitsm_spdm_session_key_update\b/pcitsm_spdm_drv_session_key_update/g
s/\bpcitsm_spdm_session_end\b/pcitsm_spdm_drv_session_end/g
s/\bpcitsm_spdm_vdm_call\b/pcitsm_spdm_drv_vdm_call/g
# Not expressible here, by hand: a file that included "pcitsm/spdm.h" now includes the header of
# what it uses: "pcitsm/spdm_driver.h" (pcitsm_spdm_drv_*, auth opts/result; it includes
# spdm_req.h), "pcitsm/spdm_rsp.h" (responder, VDM registry, struct pcitsm_spdm_faults) or
# "pcitsm/spdm_req.h" (engines); spdm.h no longer pulls in doe.h or session.h.
# Responder fault knobs: opts.fault_X -> struct pcitsm_spdm_faults .X, applied with
# pcitsm_spdm_rsp_set_faults(); pcitsm_emu_dev_faults.bad_signature -> .spdm.bad_signature.
