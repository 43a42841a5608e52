/* SPDX-License-Identifier: MIT */
/*
 * pcitsm connect tcp:HOST:PORT: the device half of a TSM connect against any spdm-emu responder
 * (DMTF's spdm_responder_emu, `pcitsm emulate`, a pcitsmd device port): SPDM authentication, a
 * secure session, then the library's one IDE_KM programming sequence (pcitsm_idekm_program_link,
 * the same the platform-firmware TSM runs): QUERY at --port-index (0 by default; DMTF's and
 * TF-RMM's requesters use 1), KEY_PROG of the six keys, K_SET_GO of the receivers at both ends
 * then the transmitters, Enable. The root-port half is an emulated root port here (its keys go
 * in through the platform's private key path, its stream registers are written and enabled, its
 * state read). Then the disconnect: the streams disabled, K_SET_STOP of the programmed slots,
 * END_SESSION. Every step is reported with its time; a failure names the step and the peer's
 * status. The device's own stream registers are not reachable over TCP (no config space). With
 * --device BDF [--sysfs DIR] they are written through that function's config file (a pcitsmd
 * mirror serving the same device on a TCP port, or the real /sys): Stream ID before QUERY,
 * QUERY_RESP cross-checked against them (downgrade protection), Enable after K_SET_GO (endpoint
 * before root port), Secure checked at both ends.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pcitsm/emu.h"
#include "pcitsm/idekm.h"
#include "pcitsm/spdm_driver.h"
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
	struct pcitsm_idekm_link_result res_link;
	uint8_t port_index; /* --port-index: the device's IDE_KM PortIndex */
	struct pcitsm_emu_platform plat;
	bool plat_init;
	struct pcitsm_emu_func *rp;
	struct pcitsm_ide_info *rp_ide;
	uint8_t stream_id;
	unsigned kset;
	double t0;
	unsigned dev_keyed, rp_keyed; /* slots programmed at each end, in programming order */
	struct pcitsm_ide_sel sel, dsel; /* read back Secure at Enable */
	const char *enable_who;
	/* The device's config space, when given (--device). */
	bool has_dev; /* --device given */
	struct pcitsm_bdf dev_bdf;
	const char *sysfs;
	const char *pcap_path; /* --pcap: every DOE object, as auth and evidence record them */
	struct pcitsm_cfg_file dev_cfg;
	bool dev_open;
	struct pcitsm_ide_info *dev_ide;
	uint16_t dev_ide_off;
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
 * the Stream ID and Enable clear (docs/tsm.md), or Enable set; or, idle, Control
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
	PCITSM_TRY(pcitsm_cfg_file_open(&c->dev_cfg, cli_sysfs_root(c->sysfs),
					&c->dev_bdf, true));
	c->dev_open = true;
	*why = "the device's IDE capability";
	PCITSM_TRY(pcitsm_ecap_find(&c->dev_cfg.cfg, PCITSM_ECAP_ID_IDE, 0, &off));
	c->dev_ide_off = off;
	*why = "the device's IDE capability";
	PCITSM_TRY(pcitsm_ide_read(&c->dev_cfg.cfg, off, c->dev_ide));
	return c->dev_ide->nr_sel ? PCITSM_OK : PCITSM_E_UNSUPPORTED;
}

/* ---------------------------------------------------------------------------------------------
 * The two ends for the library's one programming sequence (pcitsm_idekm_program_link): the device
 * over the SPDM session, the emulated root port through the platform's private key path, Enable
 * at the device (with --device) before the root port.
 */
static pcitsm_err ct_device_call(void *arg, const uint8_t *req, size_t len, struct pcitsm_wr *rsp)
{
	struct ctcp *c = arg;

	return pcitsm_spdm_drv_vdm_call(&c->s, c->t.x, PCITSM_SPDM_PROTO_IDE_KM, req, len, rsp);
}

/* Enable: the endpoint before the root port (PCIe r7.0 §6.33.8 with config-request IDE), each
 * read back Secure. */
static pcitsm_err ct_enable(void *arg)
{
	struct ctcp *c = arg;

	if (c->has_dev) {
		c->enable_who = "the device's stream";
		PCITSM_TRY(port_write(&c->dev_cfg.cfg, c->dev_ide, c->stream_id, PORT_ENABLE));
		PCITSM_TRY(pcitsm_ide_sel_read(&c->dev_cfg.cfg, c->dev_ide, 0, &c->dsel));
		if (c->dsel.state != PCITSM_IDE_STATE_SECURE) {
			c->enable_who = "the device's stream is not Secure";
			return PCITSM_E_STATE;
		}
	}
	c->enable_who = "the root port's stream";
	PCITSM_TRY(rp_setup(c, true));
	PCITSM_TRY(pcitsm_ide_sel_read(&c->rp->cfg.cfg, c->rp_ide, 0, &c->sel));
	if (c->sel.state != PCITSM_IDE_STATE_SECURE) {
		c->enable_who = "the root port's stream is not Secure";
		return PCITSM_E_STATE;
	}
	return PCITSM_OK;
}

/* Each step printed with its time, as it completes. */
static pcitsm_err ct_step_done(void *arg, enum pcitsm_idekm_link_step step)
{
	struct ctcp *c = arg;

	step_ok(c, pcitsm_idekm_link_step_name(step));
	if (step == PCITSM_IDEKM_LINK_QUERY)
		printf("  %-12s PortIndex %u (MaxPortIndex %u), bus %02x devfn %02x, %u selective "
		       "streams, %u link TCs, %s\n", "", c->port_index, c->res_link.max_port_index,
		       c->res_link.bus, c->res_link.dev_func, c->res_link.nr_sel,
		       c->res_link.nr_link,
		       c->res_link.cross_checked ? "registers match config space"
						 : "not cross-checked (no config space: --device)");
	return PCITSM_OK;
}

static const struct pcitsm_idekm_link_ops ct_link_ops = {
	.device_call = ct_device_call,
	.partner = &pcitsm_emu_rp_key_ops, /* the platform's private key path, at c->rp */
	.enable = ct_enable,
	.step_done = ct_step_done,
};

static void ct_link_opts(struct ctcp *c, struct pcitsm_idekm_link_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port_index = c->port_index;
	o->stream_id = c->stream_id;
	o->partner_port = c->rp;
	o->kset = c->kset;
	o->query = true;
	if (c->dev_open) { /* downgrade protection against the device's own config space */
		o->dev_cfg = &c->dev_cfg.cfg;
		o->dev_ide_off = c->dev_ide_off;
		o->dev_bdf = &c->dev_bdf;
	}
}

static int run(struct ctcp *c, unsigned hold)
{
	struct cli_target_opts to = { 0 };
	struct pcitsm_spdm_session_opts so;
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_idekm_link_opts lo;
	struct pcitsm_emu_config ecfg;
	const char *why = NULL;
	char detail[512], ver[8];
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
	e = pcitsm_spdm_drv_req_authenticate(c->r, c->t.x, &ao, &c->res);
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
	e = pcitsm_spdm_drv_session_open(&c->s, c->r, c->t.x, &so);
	if (e) {
		peer_detail(c, e, detail, sizeof(detail));
		return step_fail(c, "session", e, detail);
	}
	step_ok(c, "session");

	/* The emulated root port (default platform, root port 1); with --device, the device's own
	 * selective block too: Stream ID written, Enable clear (before QUERY, so that QUERY_RESP
	 * shows the registers as they will be enabled). */
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
	if (c->has_dev) {
		e = dev_open(c, &why);
		if (!e)
			e = port_write(&c->dev_cfg.cfg, c->dev_ide, c->stream_id, PORT_SETUP);
		if (e) {
			rc = step_fail(c, "stream_setup", e, why);
			goto stop;
		}
	}
	step_ok(c, "stream_setup");

	/* QUERY (cross-checked with --device), six KEY_PROGs at both ends, K_SET_GO receivers at
	 * both ends then transmitters, Enable: the library's one sequence. */
	ct_link_opts(c, &lo);
	e = pcitsm_idekm_program_link(&c->km, c->env, &ct_link_ops, c, &lo, &c->res_link);
	c->dev_keyed = c->res_link.dev_keyed;
	c->rp_keyed = c->res_link.partner_keyed;
	if (e) {
		peer_detail(c, e, detail, sizeof(detail));
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s%s",
			 detail[0] ? "; " : "",
			 c->res_link.step == PCITSM_IDEKM_LINK_ENABLE && c->enable_who
				 ? c->enable_who : c->res_link.why);
		if (c->res_link.step == PCITSM_IDEKM_LINK_KEY_PROG && !c->has_dev)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
				 " (a device may need its Stream ID written first: --device)");
		rc = step_fail(c, pcitsm_idekm_link_step_name(c->res_link.step), e, detail);
		goto stop;
	}
	if (c->has_dev)
		printf("%s: connected: Stream ID %u, key set K%u; root port %s, device %s %s\n",
		       c->target, c->stream_id, c->kset,
		       cli_ide_state_word(c->sel.state), cli_bdf_name(&c->dev_bdf).s,
		       cli_ide_state_word(c->dsel.state));
	else
		printf("%s: connected: Stream ID %u, key set K%u at both ends; root port %s; the "
		       "device's stream Enable is its owner's (no config space over TCP; see "
		       "--device)\n",
		       c->target, c->stream_id, c->kset,
		       cli_ide_state_word(c->sel.state));
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
	if ((c->dev_keyed || c->rp_keyed) && c->s.state == PCITSM_SPDM_SESSION_ESTABLISHED) {
		pcitsm_err se;

		ct_link_opts(c, &lo);
		se = pcitsm_idekm_stop_link(&c->km, c->env, &ct_link_ops, c, &lo, c->dev_keyed,
					    c->rp_keyed);
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
		pcitsm_err ee = pcitsm_spdm_drv_session_end(&c->s, c->t.x);

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
		{ "port-index", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctcp *c;
	const char *trust_path = NULL, *c_sysfs = NULL, *pcap_path = NULL;
	struct pcitsm_bdf dev;
	bool has_dev = false;
	unsigned long sid = 0, hold = 0, port_index = 0;
	char *end;
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
			if (!cli_bdf_arg("connect --device", optarg, &dev))
				return CLI_EXIT_USAGE;
			has_dev = true;
			break;
		case 's': c_sysfs = optarg; break;
		case 'p': pcap_path = optarg; break;
		case 'P': /* PortIndex is one byte (PCIe 6.x §6.33.3) */
			port_index = strtoul(optarg, &end, 0);
			if (!*optarg || *end || port_index > 0xff)
				return cli_usage("connect");
			break;
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
	c->port_index = (uint8_t)port_index;
	c->has_dev = has_dev;
	if (has_dev)
		c->dev_bdf = dev;
	c->sysfs = c_sysfs;
	c->pcap_path = pcap_path;
	c->r = calloc(1, sizeof(*c->r));
	c->rp_ide = calloc(1, sizeof(*c->rp_ide));
	c->dev_ide = calloc(1, sizeof(*c->dev_ide));
	pcitsm_idekm_req_init(&c->km);
	if (!c->r || !c->rp_ide || !c->dev_ide) {
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
	pcitsm_wipe(c, sizeof(*c));
	free(c);
	return rc;
}
