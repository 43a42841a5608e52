/* SPDX-License-Identifier: MIT */
/*
 * pcitsm emulate --listen HOST:PORT: serve one emulated device in the DMTF spdm-emu protocol
 * (transport PCI_DOE, or NONE for bare SPDM), so this or any other requester (DMTF's
 * spdm_requester_emu, QEMU's spdm-socket) can authenticate it, open a session and program its IDE
 * keys. The device is the one pcitsmd's endpoints are (lib/emu pcitsm_emu_device_new: DOE with
 * discovery, the CMA-SPDM responder, the IDE_KM responder with its IDE engine and config space,
 * the TDISP DSM on function 0), on a one-port platform of its own; the socket command DECAP_TDISP
 * (a bare GET_DEVICE_INTERFACE_STATE outside any session) is answered from that DSM. Nobody reaches its config space over TCP, so this command
 * plays its owner: before serving it writes selective block 0 as a host does before KEY_PROG
 * (RID association, the Stream ID of --stream-id, Enable clear). It runs until a client sends
 * SHUTDOWN, or SIGINT / SIGTERM (docs/emulated-platform.md).
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcitsm/capture.h"
#include "pcitsm/emu.h"
#include "pcitsm/spdm.h"
#include "pcitsm/transport.h"
#include "platform.h"
#include "target.h"

#define EMULATE_DEVICE_NAME "emulated device"
/* --max-conns: a connection costs one descriptor and at most one frame's buffer. */
#define EMULATE_MAX_CONNS 4096u

struct emulate {
	const char *listen, *identity_dir, *pcap_path, *trust_out;
	unsigned curve_bits;
	uint8_t cap_version;
	uint8_t version;      /* --version: the one SPDM version offered, 0 for all */
	uint8_t stream_id;    /* --stream-id */
	uint32_t max_doe_rsp; /* --max-doe-response, 0 for the default */
	unsigned max_conns;   /* --max-conns, 0 for the server's default */
	uint64_t frame_timeout_ns, idle_timeout_ns; /* --frame-timeout, --idle-timeout; 0: default */
	struct pcitsm_identity id;
	bool id_ready;
	struct pcitsm_emu_standalone *dev;
	struct pcitsm_spdmemu_server srv;
	bool srv_ready;
	struct pcitsm_pcap pcap;
	bool pcap_open;
};

/* A timeout in seconds, fractions allowed: more than 0, at most an hour. */
static int parse_seconds(const char *arg, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0) || v > 3600)
		return -1;
	*ns = (uint64_t)(v * 1e9);
	return *ns ? 0 : -1;
}

static int parse(int argc, char **argv, struct emulate *em)
{
	static const struct option longopts[] = {
		CLI_OPT_ARG("listen", 'l'), CLI_OPT_ARG("identity", 'i'), CLI_OPT_ARG("curve", 'c'),
		CLI_OPT_ARG("pcap", 'p'), CLI_OPT_ARG("trust-out", 't'),
		CLI_OPT_ARG("doe-version", 'd'), CLI_OPT_ARG("version", 'v'),
		CLI_OPT_ARG("stream-id", 's'), CLI_OPT_ARG("max-doe-response", 'm'),
		CLI_OPT_ARG("max-conns", 'C'), CLI_OPT_ARG("frame-timeout", 'F'),
		CLI_OPT_ARG("idle-timeout", 'I'),
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	char *end;
	int c;

	optind = 1;
	em->curve_bits = 384;
	em->cap_version = 2;
	while ((c = getopt_long(argc, argv, "l:i:c:p:t:v:s:m:C:F:I:", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			em->listen = optarg;
			break;
		case 'i':
			em->identity_dir = optarg;
			break;
		case 'p':
			em->pcap_path = optarg;
			break;
		case 't':
			em->trust_out = optarg;
			break;
		case 'c':
			if (!strcmp(optarg, "p256"))
				em->curve_bits = 256;
			else if (!strcmp(optarg, "p384"))
				em->curve_bits = 384;
			else
				return -1;
			break;
		case 'd':
			if (strcmp(optarg, "1") && strcmp(optarg, "2"))
				return -1;
			em->cap_version = (uint8_t)(optarg[0] - '0');
			break;
		case 'v':
			if (pcitsm_spdm_version_parse(optarg, &em->version) != PCITSM_OK)
				return -1;
			break;
		case 's':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || n >= PCITSM_IDE_RESERVED_STREAM_ID)
				return -1;
			em->stream_id = (uint8_t)n;
			break;
		case 'm':
			errno = 0;
			n = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || n < PCITSM_EMU_DOE_RSP_MIN ||
			    n > PCITSM_DOE_MAX_BYTES || n % 4)
				return -1;
			em->max_doe_rsp = (uint32_t)n;
			break;
		case 'C':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !n || n > EMULATE_MAX_CONNS)
				return -1;
			em->max_conns = (unsigned)n;
			break;
		case 'F':
		case 'I':
			if (parse_seconds(optarg, c == 'F' ? &em->frame_timeout_ns
							 : &em->idle_timeout_ns) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return optind == argc && em->listen ? 0 : -1;
}

/* Write the identity's root certificate (the trust anchor) as PEM. */
static pcitsm_err write_trust(const struct pcitsm_identity *id, const char *path)
{
	const unsigned char *p = id->root;
	X509 *x = d2i_X509(NULL, &p, (long)id->root_len);
	pcitsm_err e = PCITSM_OK;
	FILE *f;

	if (!x)
		return PCITSM_E_CRYPTO;
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, x))
		e = PCITSM_E_SYSTEM;
	if (f && fclose(f) != 0)
		e = PCITSM_E_SYSTEM;
	X509_free(x);
	return e;
}

/* What a host writes to the device's selective block 0 before KEY_PROG (Linux drivers/pci/ide.c
 * step 3; the same writes `pcitsm connect tcp: --device` makes): RID association 0..0xFFFF, valid,
 * then Control with the Stream ID and Enable clear. The IDE engine follows the registers. */
static pcitsm_err own_stream_setup(struct pcitsm_emu_func *ep, uint8_t stream_id)
{
	struct pcitsm_ide_info ide;
	uint16_t blk;

	PCITSM_TRY(pcitsm_ide_read(&ep->cfg.cfg, ep->ide_off, &ide));
	if (!ide.nr_sel)
		return PCITSM_E_UNSUPPORTED;
	blk = ide.sel_off[0];
	PCITSM_TRY(pcitsm_cfg_write32(&ep->cfg.cfg, blk + PCITSM_IDE_SEL_RID1, 0xffffu << 8));
	PCITSM_TRY(pcitsm_cfg_write32(&ep->cfg.cfg, blk + PCITSM_IDE_SEL_RID2, 1));
	return pcitsm_cfg_write32(&ep->cfg.cfg, blk + PCITSM_IDE_SEL_CTL,
				  (uint32_t)stream_id << PCITSM_IDE_CTL_ID_SHIFT);
}

static int setup(struct emulate *em, const struct pcitsm_env *env)
{
	struct pcitsm_emu_device_cfg dc = { .name = EMULATE_DEVICE_NAME,
					    .heartbeat_period = CLI_EMU_HEARTBEAT_PERIOD,
					    .max_doe_rsp = em->max_doe_rsp };
	struct pcitsm_emu_func *ep;
	char host[128], port[8];
	pcitsm_err e;

	if (cli_split_hostport(em->listen, host, sizeof(host), port, sizeof(port)) != PCITSM_OK)
		return cli_usage("emulate");
	/* The device's identity: given, or generated for this run. */
	if (em->identity_dir)
		e = pcitsm_identity_load(&em->id, em->identity_dir);
	else
		e = pcitsm_identity_generate(&em->id, em->curve_bits, EMULATE_DEVICE_NAME);
	if (e != PCITSM_OK)
		return cli_fail(em->identity_dir ? em->identity_dir : "generate an identity", e);
	em->id_ready = true;
	if (em->trust_out && (e = write_trust(&em->id, em->trust_out)) != PCITSM_OK)
		return cli_fail(em->trust_out, e);
	/* The emulated device, built as pcitsmd builds each endpoint's. */
	dc.identity = &em->id;
	if (em->version) {
		dc.versions = &em->version;
		dc.nr_versions = 1;
	}
	if ((e = pcitsm_emu_standalone_new(&em->dev, &dc, em->cap_version, env)) != PCITSM_OK)
		return cli_fail("emulated device", e);
	ep = pcitsm_emu_standalone_endpoint(em->dev);
	if ((e = own_stream_setup(ep, em->stream_id)) != PCITSM_OK)
		return cli_fail("the device's selective IDE stream block", e);
	if ((e = pcitsm_spdmemu_server_init(&em->srv, &ep->doe, env)) != PCITSM_OK)
		return cli_fail("server", e);
	em->srv_ready = true;
	if (em->max_conns)
		em->srv.max_conns = em->max_conns;
	if (em->frame_timeout_ns)
		em->srv.frame_timeout_ns = em->frame_timeout_ns;
	if (em->idle_timeout_ns)
		em->srv.idle_timeout_ns = em->idle_timeout_ns;
	/* DECAP_TDISP: the device's DSM answers GET_DEVICE_INTERFACE_STATE outside any session. */
	em->srv.decap_arg = pcitsm_emu_device_dsm(pcitsm_emu_standalone_device(em->dev));
	if (em->srv.decap_arg)
		em->srv.decap_tdisp = pcitsm_spdmemu_decap_tdisp_dsm;
	/* SHUTDOWN ends this command, as it ends spdm-emu's responder (serve_after_shutdown off). */
	if (em->pcap_path) {
		if ((e = pcitsm_pcap_open(&em->pcap, em->pcap_path)) != PCITSM_OK)
			return cli_fail(em->pcap_path, e);
		em->pcap_open = true;
		em->srv.tap = &em->pcap.tap;
	}
	if ((e = pcitsm_spdmemu_server_listen(&em->srv, host, port)) != PCITSM_OK)
		return cli_failf("listen on %s: %s (%s)", em->listen, pcitsm_err_str(e),
				 pcitsm_err_name(e));
	return 0;
}

static void teardown(struct emulate *em)
{
	if (em->pcap_open && pcitsm_pcap_close(&em->pcap) != PCITSM_OK)
		fprintf(stderr, "pcitsm: %s: capture incomplete\n", em->pcap_path);
	if (em->srv_ready)
		pcitsm_spdmemu_server_close(&em->srv);
	pcitsm_emu_standalone_free(em->dev); /* before the identity it borrows */
	if (em->id_ready)
		pcitsm_identity_free(&em->id);
}

/* SIGINT / SIGTERM stop the server: a thread waits for them (they are blocked everywhere else),
 * so no handler and no global is needed. */
static void *signal_thread(void *arg)
{
	struct pcitsm_spdmemu_server *srv = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigwait(&set, &sig) == 0)
		pcitsm_spdmemu_server_stop(srv);
	return NULL;
}

static void print_banner(const struct emulate *em)
{
	const char *host = em->listen;
	char h[128], p[8];

	if (cli_split_hostport(em->listen, h, sizeof(h), p, sizeof(p)) == PCITSM_OK)
		host = h;
	printf("pcitsm: serving an emulated device (SPDM, ECDSA P-%u; IDE_KM, Stream ID %u in "
	       "selective block 0; DOE responses <= %u bytes) in the spdm-emu protocol\n",
	       em->id.curve_bits, em->stream_id,
	       em->max_doe_rsp ? em->max_doe_rsp : PCITSM_EMU_DOE_RSP_MAX);
	printf("listening on %s%s%s:%u\n", strchr(host, ':') ? "[" : "", host,
	       strchr(host, ':') ? "]" : "", em->srv.port);
	if (em->trust_out)
		printf("trust anchor (root certificate): %s\n", em->trust_out);
	else if (em->identity_dir)
		printf("trust anchor (root certificate): %s/root.pem\n", em->identity_dir);
	else
		printf("trust anchor: not written (use --trust-out FILE)\n");
	fflush(stdout);
}

static int emulate_main(int argc, char **argv)
{
	const struct pcitsm_env *env = pcitsm_env_default();
	struct emulate *em = calloc(1, sizeof(*em));
	pthread_t sig_thread;
	sigset_t set, old;
	pcitsm_err e;
	int rc;

	if (!em)
		return cli_fail("emulate", PCITSM_E_NOMEM);
	if (parse(argc, argv, em) < 0) {
		free(em);
		return cli_usage("emulate");
	}
	rc = setup(em, env);
	if (rc != 0) {
		teardown(em);
		free(em);
		return rc;
	}
	print_banner(em);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (pthread_create(&sig_thread, NULL, signal_thread, &em->srv) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		teardown(em);
		free(em);
		return cli_fail("signal thread", PCITSM_E_SYSTEM);
	}
	e = pcitsm_spdmemu_server_run(&em->srv);
	/* Wake the signal thread if no signal came (SHUTDOWN), then wait for it. SIGTERM is blocked
	 * and taken by that thread's sigwait: it ends the wait, not the process. */
	/* NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread,cert-pos44-c) */
	pthread_kill(sig_thread, SIGTERM);
	pthread_join(sig_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	printf("pcitsm: server stopped: %lu connections, %lu frames, %lu malformed, %u SPDM "
	       "requests, %lu refused, %lu timed out\n",
	       em->srv.connections, em->srv.frames, em->srv.bad_frames,
	       pcitsm_emu_device_requests(pcitsm_emu_standalone_device(em->dev)),
	       em->srv.refused, em->srv.timeouts);
	teardown(em);
	free(em);
	return e == PCITSM_OK ? 0 : cli_fail("serve", e);
}

const struct cli_cmd cli_cmd_emulate = {
	.name = "emulate",
	.args = "--listen HOST:PORT [--identity DIR] [--curve p256|p384] [--trust-out FILE] "
		"[--pcap FILE] [--doe-version 1|2] [--version 1.0|1.1|1.2|1.3] [--stream-id N] "
		"[--max-doe-response BYTES] [--max-conns N] [--frame-timeout S] [--idle-timeout S]",
	.summary = "serve an emulated device (SPDM, IDE_KM) over TCP in the DMTF spdm-emu protocol",
	.run = emulate_main,
};
