/* SPDX-License-Identifier: MIT */
/*
 * pcitsm auth TARGET: authenticate a device with SPDM (VCA, digests, certificate chain, CHALLENGE,
 * signed measurements) over its DOE mailbox or an spdm-emu TCP port, and report what was
 * negotiated, the chain and its validation, and the measurement blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "target.h"

/* --session: what the secure session did, for the report. */
struct session_report {
	bool tried, established, ended;
	uint32_t id;
	uint16_t sm_version;
	enum pcitsm_dhe_alg dhe;
	enum pcitsm_aead_alg aead;
	uint8_t heartbeat_period;
	bool heartbeat_ok;
	bool digests_ok, cert_ok; /* in-session GET_DIGESTS / GET_CERTIFICATE matched (sessions.md) */
	bool meas_signed;
	unsigned nr_blocks;
	struct pcitsm_spdm_meas_block blocks[PCITSM_SPDM_MAX_MEAS_BLOCKS];
	uint8_t *meas; /* the in-session record, owned */
	pcitsm_err err;
	const char *step;
	uint8_t peer_error;
};

/* One in-session step has run with result e: the report names it, and marks it done on success.
 * True when it failed. */
static bool step_failed(struct session_report *rep, const char *step, pcitsm_err e, bool *done)
{
	rep->step = step;
	if (e)
		return true;
	*done = true;
	return false;
}

/* KEY_EXCHANGE + FINISH, signed measurements inside, HEARTBEAT when a period was given,
 * END_SESSION. */
static pcitsm_err run_session(struct cli_spdm_run *r, struct session_report *rep)
{
	struct pcitsm_spdm_session s;
	pcitsm_err e;
	size_t off = 0;

	rep->tried = true;
	rep->step = "KEY_EXCHANGE/FINISH";
	e = pcitsm_spdm_drv_session_open(&s, &r->req, r->t.x, NULL);
	if (e)
		goto fail;
	rep->established = true;
	rep->id = s.sm.id;
	rep->sm_version = s.sm.sm_version;
	rep->dhe = pcitsm_spdm_dhe_alg(s.dhe_bits);
	rep->aead = pcitsm_spdm_aead_alg(s.aead_bits);
	rep->heartbeat_period = s.heartbeat_period;
	/* As libspdm's default session flow: digests and the chain again, inside the session; both
	 * must be the chain whose leaf signed KEY_EXCHANGE_RSP. */
	if (r->req.rsp_caps & PCITSM_SPDM_CAP_CERT) {
		e = pcitsm_spdm_drv_session_get_digests(&s, r->t.x);
		if (step_failed(rep, "GET_DIGESTS in session", e, &rep->digests_ok))
			goto fail;
		e = pcitsm_spdm_drv_session_get_certificate(&s, r->t.x);
		if (step_failed(rep, "GET_CERTIFICATE in session", e, &rep->cert_ok))
			goto fail;
	}
	if (r->req.rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK) {
		bool sign = (r->req.rsp_caps & PCITSM_SPDM_CAP_MEAS_MASK) == PCITSM_SPDM_CAP_MEAS_SIG;

		rep->step = "GET_MEASUREMENTS in session";
		e = pcitsm_spdm_drv_session_measurements(&s, r->t.x, 0xff, sign);
		if (e)
			goto fail;
		rep->meas = s.meas;
		s.meas = NULL;
		rep->meas_signed = s.meas_signed;
		while (rep->nr_blocks < PCITSM_SPDM_MAX_MEAS_BLOCKS &&
		       pcitsm_spdm_meas_next(rep->meas, s.meas_len, &off,
					     &rep->blocks[rep->nr_blocks]) == PCITSM_OK)
			rep->nr_blocks++;
	}
	if (s.heartbeat_period) {
		e = pcitsm_spdm_drv_session_heartbeat(&s, r->t.x);
		if (step_failed(rep, "HEARTBEAT", e, &rep->heartbeat_ok))
			goto fail;
	}
	e = pcitsm_spdm_drv_session_end(&s, r->t.x);
	if (step_failed(rep, "END_SESSION", e, &rep->ended))
		goto fail;
	rep->step = NULL;
	return PCITSM_OK;
fail:
	rep->err = e;
	rep->peer_error = s.peer_error;
	pcitsm_spdm_session_wipe(&s);
	fprintf(stderr, "pcitsm: %s: session %s failed: %s (%s)%s%s\n", r->target, rep->step,
		pcitsm_err_str(e), pcitsm_err_name(e), e == PCITSM_E_PEER_ERROR ? ": ERROR " : "",
		e == PCITSM_E_PEER_ERROR ? pcitsm_spdm_error_name(rep->peer_error) : "");
	return e;
}

static json_object *session_json(const struct session_report *rep)
{
	json_object *o = json_object_new_object(), *blocks = json_object_new_array();
	char buf[2 * PCITSM_HASH_MAX + 1], id[12];

	json_object_object_add(o, "established", json_object_new_boolean(rep->established));
	if (rep->established) {
		snprintf(id, sizeof(id), "0x%08x", rep->id);
		json_object_object_add(o, "session_id", json_object_new_string(id));
		snprintf(id, sizeof(id), "%u.%u", (unsigned)rep->sm_version >> 12,
			 (rep->sm_version >> 8) & 0xfu);
		json_object_object_add(o, "dsp0277_version", json_object_new_string(id));
		json_object_object_add(o, "dhe", json_object_new_string(pcitsm_dhe_name(rep->dhe)));
		json_object_object_add(o, "aead", json_object_new_string(pcitsm_aead_name(rep->aead)));
		json_object_object_add(o, "heartbeat_period",
				       json_object_new_int(rep->heartbeat_period));
		json_object_object_add(o, "heartbeat", json_object_new_boolean(rep->heartbeat_ok));
		json_object_object_add(o, "digests_in_session",
				       json_object_new_boolean(rep->digests_ok));
		json_object_object_add(o, "certificate_in_session",
				       json_object_new_boolean(rep->cert_ok));
	}
	if (rep->meas) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "signed", json_object_new_boolean(rep->meas_signed));
		for (unsigned i = 0; i < rep->nr_blocks; i++) {
			const struct pcitsm_spdm_meas_block *b = &rep->blocks[i];
			json_object *j = json_object_new_object();

			json_object_object_add(j, "index", json_object_new_int(b->index));
			json_object_object_add(j, "type",
					       json_object_new_string(cli_meas_type_name(b->type)));
			pcitsm_hex(buf, b->value, PCITSM_MIN(b->value_len, (uint16_t)PCITSM_HASH_MAX));
			json_object_object_add(j, "value", json_object_new_string(buf));
			json_object_array_add(blocks, j);
		}
		json_object_object_add(m, "blocks", blocks);
		json_object_object_add(o, "measurements", m);
	} else {
		json_object_put(blocks);
	}
	json_object_object_add(o, "end_session", json_object_new_boolean(rep->ended));
	if (rep->err) {
		json_object_object_add(o, "failed_step", json_object_new_string(rep->step));
		json_object_object_add(o, "error", json_object_new_string(pcitsm_err_name(rep->err)));
		if (rep->err == PCITSM_E_PEER_ERROR)
			json_object_object_add(o, "peer_error", json_object_new_string(
				pcitsm_spdm_error_name(rep->peer_error)));
	}
	return o;
}

static void print_session(const struct session_report *rep)
{
	json_object *j = session_json(rep), *m, *blocks;

	printf("session:       %s\n", rep->established ? "established" : "FAILED");
	if (rep->established) {
		printf("  session ID        %s\n",
		       json_object_get_string(json_object_object_get(j, "session_id")));
		printf("  DSP0277 version   %s\n",
		       json_object_get_string(json_object_object_get(j, "dsp0277_version")));
		printf("  DHE               %s\n", pcitsm_dhe_name(rep->dhe));
		printf("  AEAD              %s\n", pcitsm_aead_name(rep->aead));
		printf("  heartbeat period  %u%s\n", rep->heartbeat_period,
		       rep->heartbeat_period ? (rep->heartbeat_ok ? " (HEARTBEAT acknowledged)" : "")
					     : " (none)");
		printf("  chain in session  %s\n",
		       rep->cert_ok ? "DIGESTS and CERTIFICATE match the authenticated chain" :
		       "not read");
	}
	if (json_object_object_get_ex(j, "measurements", &m)) {
		blocks = json_object_object_get(m, "blocks");
		printf("  measurements in the session (%s):\n",
		       rep->meas_signed ? "signed, verified" : "unsigned");
		for (size_t i = 0; i < json_object_array_length(blocks); i++) {
			json_object *b = json_object_array_get_idx(blocks, i);
			printf("    #%-3d %-24s %s\n",
			       json_object_get_int(json_object_object_get(b, "index")),
			       json_object_get_string(json_object_object_get(b, "type")),
			       json_object_get_string(json_object_object_get(b, "value")));
		}
	}
	printf("  END_SESSION       %s\n", rep->ended ? "acknowledged, session keys wiped" : "not done");
	if (rep->err)
		printf("  failed at         %s: %s\n", rep->step, pcitsm_err_str(rep->err));
	json_object_put(j);
}

static void print_text(const struct cli_spdm_run *r)
{
	json_object *j = cli_spdm_result_json(r), *o, *a;

	printf("target:        %s\n", r->target);
	if (json_object_object_get_ex(j, "spdm_version", &o))
		printf("SPDM version:  %s\n", json_object_get_string(o));
	if (json_object_object_get_ex(j, "algorithms", &a)) {
		json_object_object_foreach(a, k, val)
			printf("  %-17s %s\n", k, json_object_get_string(val));
	}
	if (json_object_object_get_ex(j, "capabilities", &a))
		printf("capabilities:  %s\n",
		       json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	if (json_object_object_get_ex(j, "certificate_chain", &a)) {
		json_object *certs, *why;

		printf("certificate chain (slot %d, %d bytes): %s\n",
		       json_object_get_int(json_object_object_get(a, "slot")),
		       json_object_get_int(json_object_object_get(a, "length")),
		       json_object_get_string(json_object_object_get(a, "validation")));
		if (json_object_object_get_ex(a, "reason", &why))
			printf("  reason: %s\n", json_object_get_string(why));
		certs = json_object_object_get(a, "certificates");
		for (size_t i = 0; i < json_object_array_length(certs); i++)
			printf("  [%zu] %s\n", i,
			       json_object_get_string(json_object_object_get(
				       json_object_array_get_idx(certs, i), "subject")));
	}
	printf("challenge:     %s\n", r->res.challenged ? "verified" : "not done");
	if (json_object_object_get_ex(j, "measurements", &a)) {
		json_object *blocks = json_object_object_get(a, "blocks");

		printf("measurements (%s):\n",
		       r->res.meas_signed ? "signed, verified" : "unsigned");
		for (size_t i = 0; i < json_object_array_length(blocks); i++) {
			json_object *b = json_object_array_get_idx(blocks, i);
			printf("  #%-3d %-24s %-6s %s\n",
			       json_object_get_int(json_object_object_get(b, "index")),
			       json_object_get_string(json_object_object_get(b, "type")),
			       json_object_get_string(json_object_object_get(b, "representation")),
			       json_object_get_string(json_object_object_get(b, "value")));
		}
	}
	printf("result:        %s\n", r->res.err == PCITSM_OK ? "authenticated" : "FAILED");
	json_object_put(j);
}

static int auth_main(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct cli_spdm_run r;
	struct session_report rep;
	bool json = false;
	pcitsm_err e;

	memset(&r, 0, sizeof(r));
	memset(&rep, 0, sizeof(rep));
	pcitsm_spdm_auth_opts_default(&r.auth, env);
	if (cli_spdm_parse(argc, argv, &r, &json, NULL) < 0)
		return cli_usage("auth");
	e = cli_spdm_authenticate(&r, env);
	if (e == PCITSM_OK && r.session)
		e = run_session(&r, &rep);
	if (json) {
		json_object *j = cli_spdm_result_json(&r);

		if (rep.tried)
			json_object_object_add(j, "session", session_json(&rep));
		printf("%s\n",
		       json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else if (e == PCITSM_OK || r.res.version) {
		print_text(&r);
		if (rep.tried)
			print_session(&rep);
	}
	free(rep.meas);
	if (cli_spdm_done(&r) != PCITSM_OK && e == PCITSM_OK)
		e = PCITSM_E_IO;
	return e == PCITSM_OK ? 0 : CLI_EXIT_FAIL;
}

const struct cli_cmd cli_cmd_auth = {
	.name = "auth",
	.args = "TARGET [--trust FILE] [--json] [--pcap FILE] [--sysfs DIR] [--slot N] "
		"[--no-challenge] [--timeout SEC] [--shutdown] [--session] [--version V]",
	.summary = "authenticate a device with SPDM; TARGET is DDDD:BB:DD.F or tcp:HOST:PORT",
	.run = auth_main,
};
