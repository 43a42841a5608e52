/* SPDX-License-Identifier: MIT */
/*
 * pcitsm emulate --listen HOST:PORT: serve one emulated SPDM device in the DMTF spdm-emu protocol
 * (transport PCI_DOE, or NONE for bare SPDM), so this or any other requester (DMTF's
 * spdm_requester_emu, QEMU's spdm-socket) can authenticate it. The device is a DOE instance with
 * discovery and the SPDM responder as its CMA-SPDM handler. It runs until a client sends SHUTDOWN,
 * or SIGINT / SIGTERM.
 */
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform.h"
#include "target.h"

#define EMULATE_DEVICE_NAME "emulated device"

struct emulate {
	const char *listen, *identity_dir, *pcap_path, *trust_out;
	unsigned curve_bits;
	uint8_t cap_version;
	struct pcitsm_identity id;
	bool id_ready;
	struct pcitsm_spdm_rsp rsp;
	bool rsp_ready;
	struct pcitsm_doe_dev dev;
	struct pcitsm_spdmemu_server srv;
	bool srv_ready;
	struct pcitsm_pcap pcap;
	bool pcap_open;
};

static int parse(int argc, char **argv, struct emulate *em)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "identity", required_argument, NULL, 'i' },
		{ "curve", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "trust-out", required_argument, NULL, 't' },
		{ "doe-version", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	em->curve_bits = 384;
	em->cap_version = 2;
	while ((c = getopt_long(argc, argv, "l:i:c:p:t:", longopts, NULL)) != -1) {
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

static int setup(struct emulate *em, const struct pcitsm_env *env)
{
	struct pcitsm_spdm_rsp_opts ro;
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
	/* One DOE instance: discovery, the SPDM responder as CMA-SPDM (type 1) and its sessions as
	 * secured CMA-SPDM (type 2), in the order spdm-emu's requester expects (facts G). */
	pcitsm_spdm_rsp_opts_default(&ro);
	ro.heartbeat_period = CLI_EMU_HEARTBEAT_PERIOD;
	if ((e = pcitsm_spdm_rsp_init(&em->rsp, &em->id, &ro, env)) != PCITSM_OK)
		return cli_fail("SPDM responder", e);
	em->rsp_ready = true;
	pcitsm_doe_dev_init(&em->dev, em->cap_version);
	if ((e = pcitsm_doe_dev_register(&em->dev, &em->rsp.doe)) != PCITSM_OK ||
	    (e = pcitsm_doe_dev_register(&em->dev, &em->rsp.sdoe)) != PCITSM_OK)
		return cli_fail("DOE device", e);
	if ((e = pcitsm_spdmemu_server_init(&em->srv, &em->dev, env)) != PCITSM_OK)
		return cli_fail("server", e);
	em->srv_ready = true;
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
	if (em->rsp_ready)
		pcitsm_spdm_rsp_free(&em->rsp);
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
	printf("pcitsm: serving an emulated SPDM device (ECDSA P-%u) in the spdm-emu protocol\n",
	       em->id.curve_bits);
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
	/* Wake the signal thread if no signal came (SHUTDOWN), then wait for it. */
	pthread_kill(sig_thread, SIGTERM);
	pthread_join(sig_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	printf("pcitsm: server stopped: %lu connections, %lu frames, %lu malformed, %u SPDM "
	       "requests\n",
	       em->srv.connections, em->srv.frames, em->srv.bad_frames, em->rsp.served);
	teardown(em);
	free(em);
	return e == PCITSM_OK ? 0 : cli_fail("serve", e);
}

const struct cli_cmd cli_cmd_emulate = {
	.name = "emulate",
	.args = "--listen HOST:PORT [--identity DIR] [--curve p256|p384] [--trust-out FILE] "
		"[--pcap FILE] [--doe-version 1|2]",
	.summary = "serve an emulated SPDM device over TCP in the DMTF spdm-emu protocol",
	.run = emulate_main,
};
