/* SPDX-License-Identifier: MIT */
/* pcitsmd's command line (opts.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "pcitsm/spdm.h"
#include "pcitsm/sva.h"

void pd_opts_default(struct pd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nr_ports = 2;
	o->nr_streams = PCITSM_EMU_DEFAULT_STREAMS;
	o->nr_vfs = 2;
	o->ready_fd = -1;
	o->port_host = "127.0.0.1";
	o->sva_devices = 2;
	o->key_max_tlps = PCITSM_TSM_KEY_MAX_TLPS_DEFAULT;
	o->key_max_age_s = (unsigned)(PCITSM_TSM_KEY_MAX_AGE_DEFAULT_NS / 1000000000ull);
}

pcitsm_err pd_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		return PCITSM_E_INVAL;
	v = strtoull(s, NULL, 10);
	if (v > max)
		return PCITSM_E_RANGE;
	*out = v;
	return PCITSM_OK;
}

pcitsm_err pd_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return PCITSM_E_INVAL;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > max)
		return PCITSM_E_INVAL;
	*out = (unsigned)v;
	return PCITSM_OK;
}

/* "BDF=rest": the BDF parsed, rest returned. */
static pcitsm_err split_bdf(const char *s, struct pcitsm_bdf *bdf, const char **rest)
{
	/* s is getopt's optarg of an option that requires one: never NULL. */
	const char *eq = strchr(s, '='); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	char b[16];

	if (!eq || (size_t)(eq - s) >= sizeof(b) || !eq[1])
		return PCITSM_E_INVAL;
	memcpy(b, s, (size_t)(eq - s));
	b[eq - s] = '\0';
	PCITSM_TRY(pcitsm_bdf_parse(b, bdf));
	*rest = eq + 1;
	return PCITSM_OK;
}

pcitsm_err pd_parse_devport(const char *s, struct pd_devport *out)
{
	const char *hp, *colon;
	size_t hl;
	unsigned port;

	memset(out, 0, sizeof(*out));
	PCITSM_TRY(split_bdf(s, &out->bdf, &hp));
	colon = strrchr(hp, ':');
	if (!colon)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pd_parse_uint(colon + 1, 0, 65535, &port));
	hl = (size_t)(colon - hp);
	if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']') {
		hp++;
		hl -= 2;
	}
	if (!hl || hl >= sizeof(out->host))
		return PCITSM_E_INVAL;
	memcpy(out->host, hp, hl);
	out->host[hl] = '\0';
	snprintf(out->port, sizeof(out->port), "%u", port);
	return PCITSM_OK;
}

pcitsm_err pd_parse_fault(const char *s, struct pd_fault *out)
{
	const char *name;

	memset(out, 0, sizeof(*out));
	/* s is getopt's optarg of an option that requires one: never NULL. */
	if (!strncmp(s, "tsm0=", 5)) { /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
		out->fw = true;
		name = s + 5;
	} else {
		PCITSM_TRY(split_bdf(s, &out->bdf, &name));
	}
	if (!*name)
		return PCITSM_E_INVAL;
	if (strlen(name) >= sizeof(out->name) || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
							 strlen(name))
		return PCITSM_E_INVAL;
	strcpy(out->name, name);
	return PCITSM_OK;
}

void pd_usage(FILE *out)
{
	fprintf(out,
		"usage: pcitsmd [OPTIONS] MOUNTPOINT\n"
		"Mount the emulated Trusted-I/O platform's sysfs mirror (Linux 6.19 PCI/TSM ABI).\n\n"
		"  --ports N              root ports, each with one TEE-IO endpoint (1-%u, default 2)\n"
		"  --streams N            host-bridge IDE stream pool (0-256, default 256)\n"
		"  --identity DIR         every endpoint's identity (from `pcitsm identity create`)\n"
		"  --fault BDF=NAME       inject a fault into a device (repeatable; docs/pcitsmd.md)\n"
		"  --fault tsm0=NAME      inject a fault into the platform firmware TSM\n"
		"  --device-port BDF=HOST:PORT  serve an endpoint in the spdm-emu TCP protocol\n"
		"  --port-base N          serve endpoint i on HOST:N+i (HOST from --port-host)\n"
		"  --port-host HOST       address for --port-base (default 127.0.0.1)\n"
		"  --vfs N                functions 1..N of the first endpoint, each a TDI of its\n"
		"                         DSM (0-%u, default 2)\n"
		"  --key-max-tlps N       refresh a stream's keys once one key protected N TLPs\n"
		"                         (0-2^48, default 2^32; docs/tsm.md \"Key lifetime\")\n"
		"  --key-max-age SECONDS  refresh a stream's keys once this old (default 3600;\n"
		"                         0: no age limit; both 0: no automatic refresh)\n"
		"  --tap DIR              capture every TLP of each link to DIR/<root port>.pcap\n"
		"                         (docs/tap.md; the links then carry TLPs one by one)\n"
		"  --no-doe-features      no doe_features/ directories, as on Linux before 6.15\n"
		"  --sva-socket PATH      serve the example SVA DMA devices on that AF_UNIX socket\n"
		"                         (docs/sva.md); --sva-devices N of them (default 2)\n"
		"  -f, --foreground       stay in the foreground\n"
		"  -d, --debug            FUSE debug output (implies --foreground)\n"
		"  --pidfile FILE         write the daemon's pid once the mount is ready\n"
		"  --ready-fd FD          write \"READY\\n\" to FD once the mount is ready\n"
		"  --version V, --spdm-version V  devices offer only SPDM V (1.0, 1.1, 1.2, 1.3)\n"
		"  -h, --help, -V, --version  (--version alone prints pcitsmd's version)\n",
		(unsigned)PCITSM_EMU_MAX_PORTS, (unsigned)PCITSM_EMU_MAX_EXTRA_FUNCS);
}

/* A number option: "--name: MIN to MAX" in err when arg is not a decimal in that range. */
static int opt_uint(const char *arg, const char *name, unsigned min, unsigned max, unsigned *out,
		    char *err, size_t errlen)
{
	if (pd_parse_uint(arg, min, max, out) == PCITSM_OK)
		return 0;
	snprintf(err, errlen, "%s: %u to %u", name, min, max);
	return -1;
}

int pd_opts_parse(struct pd_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "ports", required_argument, NULL, 'n' },
		{ "streams", required_argument, NULL, 's' },
		{ "identity", required_argument, NULL, 'i' },
		{ "fault", required_argument, NULL, 'F' },
		{ "device-port", required_argument, NULL, 'P' },
		{ "port-base", required_argument, NULL, 'B' },
		{ "port-host", required_argument, NULL, 'H' },
		{ "no-doe-features", no_argument, NULL, 'D' },
		{ "sva-socket", required_argument, NULL, 'U' },
		{ "sva-devices", required_argument, NULL, 'N' },
		{ "vfs", required_argument, NULL, 'v' },
		{ "key-max-tlps", required_argument, NULL, 'K' },
		{ "key-max-age", required_argument, NULL, 'A' },
		{ "tap", required_argument, NULL, 'T' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		/* --version alone: our version; --version V (or --version=V): pin SPDM V. */
		{ "version", optional_argument, NULL, 'V' },
		{ "spdm-version", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned v;
	int c;

	pd_opts_default(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fdhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (opt_uint(optarg, "--ports", 1, PCITSM_EMU_MAX_PORTS, &o->nr_ports, err,
				     errlen))
				return -1;
			break;
		case 's':
			if (opt_uint(optarg, "--streams", 0, 256, &o->nr_streams, err, errlen))
				return -1;
			break;
		case 'i':
			o->identity_dir = optarg;
			break;
		case 'F':
			if (o->nr_faults == PD_MAX_FAULTS ||
			    pd_parse_fault(optarg, &o->faults[o->nr_faults])) {
				snprintf(err, errlen, "--fault %s: expected BDF=NAME or tsm0=NAME", optarg);
				return -1;
			}
			o->nr_faults++;
			break;
		case 'P':
			if (o->nr_devports == PD_MAX_DEVPORTS ||
			    pd_parse_devport(optarg, &o->devports[o->nr_devports])) {
				snprintf(err, errlen, "--device-port %s: expected BDF=HOST:PORT", optarg);
				return -1;
			}
			o->nr_devports++;
			break;
		case 'B':
			if (opt_uint(optarg, "--port-base", 1, 65535, &o->port_base, err, errlen))
				return -1;
			break;
		case 'H':
			o->port_host = optarg;
			break;
		case 'U':
			o->sva_socket = optarg;
			break;
		case 'N':
			if (pd_parse_uint(optarg, 1, PCITSM_SVA_MAX_DEVS, &o->sva_devices)) {
				snprintf(err, errlen, "--sva-devices: 1..%u", PCITSM_SVA_MAX_DEVS);
				return -1;
			}
			break;
		case 'D':
			o->no_doe_features = true;
			break;
		case 'v':
			if (opt_uint(optarg, "--vfs", 0, PCITSM_EMU_MAX_EXTRA_FUNCS, &o->nr_vfs, err,
				     errlen))
				return -1;
			break;
		case 'K':
			if (pd_parse_u64(optarg, PCITSM_TSM_KEY_MAX_TLPS_CAP, &o->key_max_tlps)) {
				snprintf(err, errlen, "--key-max-tlps: 0 to %llu",
					 (unsigned long long)PCITSM_TSM_KEY_MAX_TLPS_CAP);
				return -1;
			}
			break;
		case 'A':
			if (opt_uint(optarg, "--key-max-age", 0, 1u << 30, &o->key_max_age_s, err,
				     errlen))
				return -1;
			break;
		case 'T':
			o->tap_dir = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			o->debug = o->foreground = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'r':
			if (pd_parse_uint(optarg, 0, 1 << 20, &v)) {
				snprintf(err, errlen, "--ready-fd: a file descriptor number");
				return -1;
			}
			o->ready_fd = (int)v;
			break;
		case 'h':
			pd_usage(stdout);
			return 1;
		case 'V':
			/* "--version 1.1": a following word that is an SPDM version is its value. */
			if (!optarg && optind < argc &&
			    pcitsm_spdm_version_parse(argv[optind], &o->spdm_version) == PCITSM_OK) {
				optind++;
				break;
			}
			if (!optarg) {
				printf("pcitsmd %s\n", PCITSM_VERSION);
				return 1;
			}
			if (pcitsm_spdm_version_parse(optarg, &o->spdm_version) != PCITSM_OK) {
				snprintf(err, errlen, "--version %s: expected 1.0, 1.1, 1.2 or 1.3", optarg);
				return -1;
			}
			break;
		case 'S':
			if (pcitsm_spdm_version_parse(optarg, &o->spdm_version) != PCITSM_OK) {
				snprintf(err, errlen, "--version %s: expected 1.0, 1.1, 1.2 or 1.3", optarg);
				return -1;
			}
			break;
		default:
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		snprintf(err, errlen, optind == argc ? "no mount point given" : "one mount point only");
		return -1;
	}
	o->mountpoint = argv[optind];
	if (o->port_base && o->port_base + o->nr_ports - 1 > 65535) {
		snprintf(err, errlen, "--port-base: ports past 65535");
		return -1;
	}
	return 0;
}
