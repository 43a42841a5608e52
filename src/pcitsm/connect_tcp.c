/* SPDX-License-Identifier: MIT */
/*
 * pcitsm connect tcp:HOST:PORT: the device half of a TSM connect against any spdm-emu responder
 * (DMTF's spdm_responder_emu, `pcitsm emulate`, a pcitsmd device port): SPDM authentication, a
 * secure session, IDE_KM QUERY, KEY_PROG of the six keys, K_SET_GO (receivers, then
 * transmitters); the root-port half is an emulated root port here (its keys go in through the
 * platform's private key path, its stream registers are written and enabled, its state read).
 * Then the disconnect: K_SET_STOP of the six slots, the root port's stream disabled, END_SESSION.
 * Every step is reported with its time; a failure names the step and the peer's status.
 * The device's own stream registers are not reachable over TCP (no config space). With
 * --device BDF [--sysfs DIR] they are written through that function's config file (a pcitsmd
 * mirror serving the same device on a TCP port, or the real /sys): Stream ID before KEY_PROG,
 * Enable after K_SET_GO (endpoint before root port), Secure checked at both ends.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm.h"
#include "target.h"
#include "tsmstat.h"

struct ctcp {
	const char *target;
	const struct pcitsm_env *env;
	struct cli_target t;
	bool t_open;
	struct pcitsm_trust *trust;
	struct pcitsm_spdm_req *r;
	bool r_init;
	struct pcitsm_spdm_auth_result res;
	struct pcitsm_spdm_session s;
	struct pcitsm_idekm_req km;
	struct pcitsm_idekm_keys keys;
	struct pcitsm_emu_platform plat;
	bool plat_init;
	struct pcitsm_emu_func *rp;
	struct pcitsm_ide_info *rp_ide;
	uint8_t stream_id;
	unsigned kset;
	uint8_t *rsp;
	double t0;
	unsigned nr_programmed; /* slots the device acknowledged, in programming order */
	/* The device's config space, when given (--device). */
	const char *dev_bdf, *sysfs;
	const char *pcap_path; /* --pcap: every DOE object, as auth and evidence record them */
	struct pcitsm_cfg_file dev_cfg;
	bool dev_open;
	struct pcitsm_ide_info *dev_ide;
};

static void step_ok(struct ctcp *c, const char *what)
{
	double now = cli_now_ms();

	printf("  %-12s ok (%.1f ms)\n", what, now - c->t0);
	fflush(stdout);
	c->t0 = now;
}

static int step_fail(struct ctcp *c, const char *what, pcitsm_err e, const char *detail)
{
	fprintf(stderr, "pcitsm: connect %s: step %s failed: %s (%s)%s%s\n", c->target, what,
		pcitsm_err_str(e), pcitsm_err_name(e), detail && *detail ? ": " : "",
		detail ? detail : "");
	return CLI_EXIT_FAIL;
}

/* One IDE_KM exchange inside the session. */
static pcitsm_err km_call(struct ctcp *c, const uint8_t *req, size_t len,
			  struct pcitsm_idekm_query_resp *qr)
{
	struct pcitsm_wr w;
	pcitsm_err e;

	pcitsm_wr_init(&w, c->rsp, PCITSM_IDEKM_MSG_MAX);
	e = pcitsm_spdm_vdm_call(&c->s, c->t.x, PCITSM_SPDM_PROTO_IDE_KM, req, len, &w);
	if (e) {
		pcitsm_idekm_req_abandon(&c->km);
		return e;
	}
	return pcitsm_idekm_req_response(&c->km, c->rsp, pcitsm_wr_len(&w), qr);
}

static void peer_detail(struct ctcp *c, pcitsm_err e, char *buf, size_t len)
{
	buf[0] = '\0';
	if (e == PCITSM_E_PEER_ERROR && c->km.kp_status)
		snprintf(buf, len, "KP_ACK status %u (%s)", c->km.kp_status,
			 pcitsm_idekm_kp_status_str(c->km.kp_status));
	else if (e == PCITSM_E_PEER_ERROR)
		snprintf(buf, len, "the device answered ERROR %s (0x%02x)",
			 pcitsm_spdm_error_name(c->s.peer_error ? c->s.peer_error
								: c->res.peer_error),
			 c->s.peer_error ? c->s.peer_error : c->res.peer_error);
}

/* A port's selective block 0: RID association 0..0xFFFF (valid, as SEV-TIO forces it), Control with
 * the Stream ID and Enable clear (linux-tsm-abi §1.3 step 3), or Enable set; or, idle, Control
 * with the reserved Stream ID 255 and the RID association cleared (as Linux leaves idle blocks). */
enum port_op { PORT_SETUP, PORT_ENABLE, PORT_IDLE };
static pcitsm_err port_write(struct pcitsm_cfg *cfg, const struct pcitsm_ide_info *ide,
			     uint8_t stream_id, enum port_op op)
{
	uint16_t blk = ide->sel_off[0];
	uint32_t ctl = (uint32_t)stream_id << PCITSM_IDE_CTL_ID_SHIFT;

	switch (op) {
	case PORT_SETUP:
		PCITSM_TRY(pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_RID1, 0xffffu << 8));
		PCITSM_TRY(pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_RID2, 1));
		return pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_CTL, ctl);
	case PORT_ENABLE:
		return pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_CTL, ctl | PCITSM_IDE_CTL_EN);
	default:
		PCITSM_TRY(pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_CTL, 0));
		PCITSM_TRY(pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_CTL,
					      (uint32_t)PCITSM_IDE_RESERVED_STREAM_ID
						      << PCITSM_IDE_CTL_ID_SHIFT));
		PCITSM_TRY(pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_RID1, 0));
		return pcitsm_cfg_write32(cfg, blk + PCITSM_IDE_SEL_RID2, 0);
	}
}

static pcitsm_err rp_setup(struct ctcp *c, bool enable)
{
	return port_write(&c->rp->cfg.cfg, c->rp_ide, c->stream_id, enable ? PORT_ENABLE : PORT_SETUP);
}

/* The device's IDE capability through its config file (--device). */
static pcitsm_err dev_open(struct ctcp *c, const char **why)
{
	uint16_t off;

	*why = "open the device's config file";
	PCITSM_TRY(pcitsm_cfg_file_open(&c->dev_cfg, c->sysfs ? c->sysfs : CLI_SYSFS_DEFAULT,
					c->dev_bdf, true));
	c->dev_open = true;
	*why = "the device's IDE capability";
	PCITSM_TRY(pcitsm_ecap_find(&c->dev_cfg.cfg, PCITSM_ECAP_ID_IDE, 0, &off));
	PCITSM_TRY(pcitsm_ide_read(&c->dev_cfg.cfg, off, c->dev_ide));
	return c->dev_ide->nr_sel ? PCITSM_OK : PCITSM_E_UNSUPPORTED;
}

/* K_SET_GO or K_SET_STOP of the first n slots, at the device and the root port. A root port's
 * K_SET_STOP may find its keys already invalidated by the disable: that is not an error. */
static pcitsm_err k_set_all(struct ctcp *c, uint8_t obj, unsigned n, const char **who)
{
	uint8_t req[16];
	struct pcitsm_wr w;

	/* Receivers first, then transmitters (facts §E.5). */
	for (unsigned i = 0; i < n; i++) {
		struct pcitsm_idekm_ks m = { .stream_id = c->stream_id, .kset = (uint8_t)c->kset,
					     .port_index = 0 };
		enum pcitsm_ide_dir rpdir;

		pcitsm_idekm_keys_slot(i, &m.dir, &m.sub);
		rpdir = m.dir == PCITSM_IDE_RX ? PCITSM_IDE_TX : PCITSM_IDE_RX;
		*who = "the device";
		pcitsm_wr_init(&w, req, sizeof(req));
		PCITSM_TRY(pcitsm_idekm_req_k_set(&c->km, obj, &m, &w));
		PCITSM_TRY(km_call(c, req, pcitsm_wr_len(&w), NULL));
		*who = "the root port";
		if (obj == PCITSM_IDEKM_K_SET_GO)
			PCITSM_TRY(pcitsm_emu_rp_k_set_go(c->rp, c->stream_id, c->kset, rpdir, m.sub));
		else if (pcitsm_emu_rp_k_set_stop(c->rp, c->stream_id, c->kset, rpdir, m.sub))
			continue;
	}
	return PCITSM_OK;
}

static int run(struct ctcp *c, unsigned hold)
{
	struct cli_target_opts to = { 0 };
	struct pcitsm_spdm_session_opts so;
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_idekm_query_resp *qr;
	struct pcitsm_emu_config ecfg;
	struct pcitsm_ide_sel sel, dsel;
	const char *why = NULL, *who = NULL;
	char detail[512], ver[8];
	uint8_t req[PCITSM_IDEKM_KEY_PROG_LEN + 8];
	struct pcitsm_wr w;
	uint16_t off;
	pcitsm_err e;
	int rc = 0;

	printf("%s: connect (device half over spdm-emu TCP, root port emulated here)\n", c->target);
	c->t0 = cli_now_ms();
	to.pcap_path = c->pcap_path;
	e = cli_target_open(c->target, &to, c->env, &c->t, &why);
	if (e)
		return step_fail(c, "transport", e, why);
	c->t_open = true;
	step_ok(c, "transport");

	/* SPDM: VCA, digests, certificate chain, CHALLENGE, signed measurements. */
	pcitsm_spdm_auth_opts_default(&ao, c->env);
	if (c->trust)
		ao.cfg.trust = c->trust;
	else
		ao.allow_untrusted = true;
	e = pcitsm_spdm_req_authenticate(c->r, c->t.x, &ao, &c->res);
	c->r_init = true;
	if (e) {
		peer_detail(c, c->res.err == PCITSM_E_PEER_ERROR ? PCITSM_E_PEER_ERROR : e, detail,
			    sizeof(detail));
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s%s (%s)",
			 detail[0] ? "; " : "", pcitsm_spdm_step_name(c->res.failed_step),
			 c->res.why);
		return step_fail(c, "spdm_auth", c->res.err ? c->res.err : e, detail);
	}
	step_ok(c, "spdm_auth");
	printf("  %-12s SPDM %s, chain %s, %u measurement blocks\n", "", cli_spdm_version_str(
		       c->res.version, ver, sizeof(ver)),
	       !c->trust ? "not validated (no --trust)" : c->res.chain_trusted ? "trusted"
									 : "NOT trusted",
	       c->res.nr_blocks);

	pcitsm_spdm_session_opts_default(&so);
	e = pcitsm_spdm_session_open(&c->s, c->r, c->t.x, &so);
	if (e) {
		peer_detail(c, e, detail, sizeof(detail));
		return step_fail(c, "session", e, detail);
	}
	step_ok(c, "session");

	/* IDE_KM QUERY of port 0. */
	qr = malloc(sizeof(*qr));
	if (!qr)
		return step_fail(c, "ide_query", PCITSM_E_NOMEM, NULL);
	pcitsm_wr_init(&w, req, sizeof(req));
	e = pcitsm_idekm_req_query(&c->km, 0, &w);
	if (!e)
		e = km_call(c, req, pcitsm_wr_len(&w), qr);
	if (e) {
		free(qr);
		peer_detail(c, e, detail, sizeof(detail));
		rc = step_fail(c, "ide_query", e, detail);
		goto end;
	}
	step_ok(c, "ide_query");
	printf("  %-12s port 0 of %u, bus %02x devfn %02x, %u selective streams, %u link TCs\n", "",
	       qr->max_port_index + 1, qr->bus, qr->dev_func, qr->nr_sel, qr->nr_link);
	e = qr->nr_sel ? PCITSM_OK : PCITSM_E_UNSUPPORTED;
	free(qr);
	if (e) {
		rc = step_fail(c, "ide_query", e, "the device has no selective IDE stream");
		goto end;
	}

	/* The emulated root port (default platform, root port 1). */
	pcitsm_emu_config_default(&ecfg);
	e = pcitsm_emu_platform_init(&c->plat, &ecfg, c->env);
	if (!e) {
		c->plat_init = true;
		c->rp = &c->plat.funcs[0];
		e = pcitsm_ecap_find(&c->rp->cfg.cfg, PCITSM_ECAP_ID_IDE, 0, &off);
	}
	if (!e)
		e = pcitsm_ide_read(&c->rp->cfg.cfg, off, c->rp_ide);
	if (!e)
		e = rp_setup(c, false);
	if (e) {
		rc = step_fail(c, "stream_setup", e, "the emulated root port");
		goto end;
	}
	if (c->dev_bdf) {
		e = dev_open(c, &why);
		if (!e)
			e = port_write(&c->dev_cfg.cfg, c->dev_ide, c->stream_id, PORT_SETUP);
		if (e) {
			rc = step_fail(c, "stream_setup", e, why);
			goto stop;
		}
	}
	step_ok(c, "stream_setup");

	/* Six keys, each KEY_PROG to the device and its mirror image to the root port. */
	e = pcitsm_idekm_keys_generate(c->env, c->stream_id, c->kset, &c->keys);
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS && !e; i++) {
		struct pcitsm_idekm_key_prog kp;

		who = "the device";
		e = pcitsm_idekm_keys_key_prog(&c->keys, i, 0, &kp);
		pcitsm_wr_init(&w, req, sizeof(req));
		if (!e)
			e = pcitsm_idekm_req_key_prog(&c->km, &kp, &w);
		if (!e)
			e = km_call(c, req, pcitsm_wr_len(&w), NULL);
		pcitsm_wipe(req, sizeof(req));
		if (!e) {
			c->nr_programmed = i + 1;
			who = "the root port";
			e = pcitsm_emu_rp_key_prog(c->rp, c->stream_id, (unsigned)kp.ks.kset,
						   kp.ks.dir == PCITSM_IDE_RX ? PCITSM_IDE_TX
									      : PCITSM_IDE_RX,
						   kp.ks.sub, kp.key, kp.ifv);
		}
		pcitsm_wipe(&kp, sizeof(kp));
	}
	pcitsm_idekm_keys_wipe(&c->keys);
	if (e) {
		peer_detail(c, e, detail, sizeof(detail));
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%sat %s%s",
			 detail[0] ? ", " : "", who ? who : "key generation",
			 c->dev_bdf ? "" : " (a device may need its Stream ID written first: --device)");
		rc = step_fail(c, "key_prog", e, detail);
		goto stop;
	}
	step_ok(c, "key_prog");
	e = k_set_all(c, PCITSM_IDEKM_K_SET_GO, PCITSM_IDEKM_NR_KEYS, &who);
	if (e) {
		peer_detail(c, e, detail, sizeof(detail));
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%sat %s",
			 detail[0] ? ", " : "", who);
		rc = step_fail(c, "k_set_go", e, detail);
		goto stop;
	}
	step_ok(c, "k_set_go");
	/* Enable: the endpoint before the root port (PCIe r7.0 §6.33.8 with config-request IDE). */
	if (c->dev_bdf) {
		e = port_write(&c->dev_cfg.cfg, c->dev_ide, c->stream_id, PORT_ENABLE);
		if (!e)
			e = pcitsm_ide_sel_read(&c->dev_cfg.cfg, c->dev_ide, 0, &dsel);
		if (!e && dsel.state != PCITSM_IDE_STATE_SECURE)
			e = PCITSM_E_STATE;
		if (e) {
			rc = step_fail(c, "enable", e, "the device's stream is not Secure");
			goto stop;
		}
	}
	e = rp_setup(c, true);
	if (!e)
		e = pcitsm_ide_sel_read(&c->rp->cfg.cfg, c->rp_ide, 0, &sel);
	if (!e && sel.state != PCITSM_IDE_STATE_SECURE)
		e = PCITSM_E_STATE;
	if (e) {
		rc = step_fail(c, "enable", e, "the root port's stream is not Secure");
		goto stop;
	}
	step_ok(c, "enable");
	if (c->dev_bdf)
		printf("%s: connected: Stream ID %u, key set K%u; root port %s, device %s %s\n",
		       c->target, c->stream_id, c->kset, cli_ide_state_word(sel.state), c->dev_bdf,
		       cli_ide_state_word(dsel.state));
	else
		printf("%s: connected: Stream ID %u, key set K%u at both ends; root port %s; the "
		       "device's stream Enable is its owner's (no config space over TCP; see "
		       "--device)\n",
		       c->target, c->stream_id, c->kset, cli_ide_state_word(sel.state));
	if (hold)
		sleep(hold);

stop:
	/* Disconnect: both streams disabled (root port first; Stream IDs kept), K_SET_STOP of every
	 * slot the device acknowledged, then both blocks left idle. */
	printf("%s: disconnect\n", c->target);
	c->t0 = cli_now_ms();
	if (c->plat_init) {
		pcitsm_err de = port_write(&c->rp->cfg.cfg, c->rp_ide, c->stream_id, PORT_SETUP);

		if (!de && c->dev_open && c->dev_ide->nr_sel)
			de = port_write(&c->dev_cfg.cfg, c->dev_ide, c->stream_id, PORT_SETUP);
		if (de)
			rc = step_fail(c, "disable", de, NULL);
		else
			step_ok(c, "disable");
	}
	if (c->nr_programmed && c->s.state == PCITSM_SPDM_SESSION_ESTABLISHED) {
		pcitsm_err se = k_set_all(c, PCITSM_IDEKM_K_SET_STOP, c->nr_programmed, &who);

		if (se) {
			peer_detail(c, se, detail, sizeof(detail));
			rc = step_fail(c, "k_set_stop", se, detail);
		} else {
			step_ok(c, "k_set_stop");
		}
	}
	if (c->plat_init) {
		pcitsm_err de = port_write(&c->rp->cfg.cfg, c->rp_ide, c->stream_id, PORT_IDLE);

		if (!de && c->dev_open && c->dev_ide->nr_sel)
			de = port_write(&c->dev_cfg.cfg, c->dev_ide, c->stream_id, PORT_IDLE);
		if (de)
			rc = step_fail(c, "idle", de, NULL);
	}
end:
	if (c->s.state == PCITSM_SPDM_SESSION_ESTABLISHED) {
		pcitsm_err ee = pcitsm_spdm_session_end(&c->s, c->t.x);

		if (ee)
			rc = step_fail(c, "end_session", ee, NULL);
		else
			step_ok(c, "end_session");
	}
	return rc;
}

int cli_connect_tcp(const char *target, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "stream-id", required_argument, NULL, 'i' },
		{ "hold", required_argument, NULL, 'H' },
		{ "device", required_argument, NULL, 'd' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "pcap", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctcp *c;
	const char *trust_path = NULL, *c_dev = NULL, *c_sysfs = NULL, *pcap_path = NULL;
	unsigned long sid = 0, hold = 0;
	char *end, dev[13];
	int ch, rc;
	pcitsm_err e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 't': trust_path = optarg; break;
		case 'i':
			sid = strtoul(optarg, &end, 0);
			if (*end || sid >= PCITSM_IDE_RESERVED_STREAM_ID)
				return cli_usage("connect");
			break;
		case 'H':
			hold = strtoul(optarg, &end, 10);
			if (*end || hold > 3600)
				return cli_usage("connect");
			break;
		case 'd':
			if (!cli_bdf_arg(optarg, dev))
				return cli_usage("connect");
			c_dev = dev;
			break;
		case 's': c_sysfs = optarg; break;
		case 'p': pcap_path = optarg; break;
		default: return cli_usage("connect");
		}
	}
	if (optind != argc)
		return cli_usage("connect");
	c = calloc(1, sizeof(*c));
	if (!c)
		return cli_fail("connect", PCITSM_E_NOMEM);
	c->target = target;
	c->env = pcitsm_env_default();
	c->stream_id = (uint8_t)sid;
	c->dev_bdf = c_dev;
	c->sysfs = c_sysfs;
	c->pcap_path = pcap_path;
	c->r = calloc(1, sizeof(*c->r));
	c->rp_ide = calloc(1, sizeof(*c->rp_ide));
	c->dev_ide = calloc(1, sizeof(*c->dev_ide));
	c->rsp = malloc(PCITSM_IDEKM_MSG_MAX);
	pcitsm_idekm_req_init(&c->km);
	if (!c->r || !c->rp_ide || !c->dev_ide || !c->rsp) {
		rc = cli_fail("connect", PCITSM_E_NOMEM);
	} else if (trust_path && (e = pcitsm_trust_load(&c->trust, trust_path)) != PCITSM_OK) {
		rc = cli_fail(trust_path, e);
	} else {
		rc = run(c, (unsigned)hold);
	}
	pcitsm_spdm_session_wipe(&c->s);
	if (c->r_init)
		pcitsm_spdm_req_free(c->r);
	pcitsm_spdm_auth_result_free(&c->res);
	if (c->t_open && (e = cli_target_close(&c->t)) != PCITSM_OK)
		rc = cli_fail(pcap_path ? pcap_path : "close the transport", e);
	if (c->plat_init)
		pcitsm_emu_platform_free(&c->plat);
	if (c->dev_open)
		pcitsm_cfg_file_close(&c->dev_cfg);
	free(c->dev_ide);
	if (c->trust)
		pcitsm_trust_free(c->trust);
	free(c->r);
	free(c->rp_ide);
	free(c->rsp);
	pcitsm_wipe(c, sizeof(*c));
	free(c);
	return rc;
}
