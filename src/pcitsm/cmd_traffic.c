/* SPDX-License-Identifier: MIT */
/*
 * pcitsm traffic BDF [--ops N] [--size BYTES] [--tee] [--tap FILE]: memory writes and read-backs
 * from the root port to the endpoint across the emulated link, IDE-protected when the stream is
 * Secure, then the counts: operations, bytes, failures, and how many TLPs crossed as IDE TLPs or
 * in the clear. With --tap, on the embedded platform, every TLP of the device's link goes to FILE
 * (docs/tap.md). With
 * --tee, the function's own DMA as a TDI (PCIe 6.x §11): writes with T=1 into the confidential VM's
 * private memory, each read back with T=1 and compared; it gets through only while the TDI is RUN,
 * otherwise the platform refuses it and the refusals are counted. Linux has no such interface:
 * this needs the emulated platform's project directory (<root>/pcitsm/devices/BDF/traffic,
 * docs/pcitsmd.md).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tsmstat.h"

static const char *const keys[] = { "ops", "size", "writes", "reads", "bytes", "failures",
				    "tlps_secure", "tlps_clear", "key_refreshes", "tee_refused", "result" };

static long long kv_num(const char *text, const char *key)
{
	char v[64];

	return cli_kv_get(text, key, v, sizeof(v)) ? atoll(v) : 0;
}

/* --tee in words: what reached the private memory and came back intact, or what the TDI's state
 * refused. */
static void tee_text(const char *name, const char *text, double ms)
{
	long long size = kv_num(text, "size"), w = kv_num(text, "writes");
	long long r = kv_num(text, "reads"), refused = kv_num(text, "tee_refused");
	long long failures = kv_num(text, "failures");
	char res[64] = "";

	(void)cli_kv_get(text, "result", res, sizeof(res));
	printf("%s: DMA with T=1 into the confidential VM's private memory in %.1f ms:\n", name,
	       ms);
	/* A write is posted: the sender cannot tell one the host dropped; the read-back can. */
	printf("  %lld bytes %s, %lld read back and verified, %lld IDE TLPs\n", w * size,
	       failures ? "sent (posted writes)" : "written", r * size,
	       kv_num(text, "tlps_secure"));
	if (failures)
		printf("  %lld of %lld operations failed (%s); "
		       "%lld requests refused by TDI state%s\n",
		       failures, kv_num(text, "ops"), res, refused,
		       refused ? " (the TDI is not RUN)" : "");
}

/* --tap FILE (docs/tap.md): the embedded platform's pcitsmd captures every link into a private
 * directory (pcitsmd --tap); the capture of the link the device is on becomes FILE once the
 * daemon has stopped and closed it. */
struct traffic_tap {
	const char *file;
	char dir[PATH_MAX];
	char rp[PATH_MAX]; /* the capture of the device's link: DIR/<root port>.pcap */
};

static void tap_remove(const struct traffic_tap *t);

static int tap_open(struct traffic_tap *t, struct cli_sysroot *r, const struct pcitsm_bdf *bdf)
{
	const char *tmp = getenv("TMPDIR");
	char dev[PATH_MAX], real[PATH_MAX], *slash;

	snprintf(t->dir, sizeof(t->dir), "%s/pcitsm-tap.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t->dir))
		return cli_failf("traffic --tap: cannot create a directory: %s", strerror(errno));
	if (!cli_sysroot_open_tap(r, "traffic", t->dir)) {
		rmdir(t->dir);
		return CLI_EXIT_FAIL;
	}
	/* The device's directory is below its root port's (the mirror's /sys/devices tree). */
	if (cli_dev_path(r, bdf, NULL, dev, sizeof(dev)) && realpath(dev, real) &&
	    (slash = strrchr(real, '/'))) {
		*slash = '\0';
		slash = strrchr(real, '/');
		if (slash && (size_t)snprintf(t->rp, sizeof(t->rp), "%s/%s.pcap", t->dir, slash + 1) <
				     sizeof(t->rp))
			return 0;
	}
	cli_sysroot_close(r);
	tap_remove(t);
	return cli_failf("traffic %s: no such device on the embedded platform", cli_bdf_name(bdf).s);
}

/* Copy from to the new file to. */
static bool copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[65536];
	size_t n;
	bool ok = in && out;

	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	ok = ok && !ferror(in);
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		ok = false;
	return ok;
}

/* The private directory and the daemon's captures in it. */
static void tap_remove(const struct traffic_tap *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	char p[PATH_MAX];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    (size_t)snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name) < sizeof(p))
			unlink(p);
	if (d)
		closedir(d);
	rmdir(t->dir);
}

/* After the daemon stopped: FILE, and the private directory removed. */
static int tap_finish(struct traffic_tap *t, int rc)
{
	if (!copy_file(t->rp, t->file)) {
		fprintf(stderr, "pcitsm: traffic --tap: cannot write %s: %s\n", t->file,
			strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
	tap_remove(t);
	return rc;
}

static int traffic_close(struct cli_sysroot *r, struct traffic_tap *t, int rc)
{
	cli_sysroot_close(r);
	return t->file ? tap_finish(t, rc) : rc;
}

static int traffic_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "tee", no_argument, NULL, 't' },
		{ "tap", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct traffic_tap tap = { 0 };
	const char *sysfs = NULL;
	unsigned long ops = 1000, size = 256;
	bool json = false, tee = false;
	char path[PATH_MAX], req[64], text[2048], v[64], *end;
	struct pcitsm_bdf bdf;
	struct cli_bdf_name name;
	struct cli_sysroot r;
	double t0, ms;
	int c, err, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sysfs = optarg; break;
		case 'j': json = true; break;
		case 't': tee = true; break;
		case 'p': tap.file = optarg; break;
		case 'n':
			ops = strtoul(optarg, &end, 10);
			if (*end || !ops || ops > 10000000ul)
				return cli_usage("traffic");
			break;
		case 'z':
			size = strtoul(optarg, &end, 10);
			if (*end || size < 4 || size > 4096 || size % 4)
				return cli_usage("traffic");
			break;
		default: return cli_usage("traffic");
		}
	}
	rc = cli_bdf_operand("traffic", argc, argv, optind, &bdf);
	if (rc)
		return rc;
	name = cli_bdf_name(&bdf);
	if (tap.file && sysfs)
		return cli_failf("traffic --tap: --sysfs %s is a mirror: its pcitsmd captures its "
				 "links itself (pcitsmd --tap DIR)", sysfs);
	if (tap.file)
		rc = tap_open(&tap, &r, &bdf);
	else
		rc = cli_project_open(&r, sysfs, "traffic", "the kernel has no traffic generator");
	if (rc)
		return rc;
	cli_proj_path(&r, &bdf, "traffic", path, sizeof(path));
	snprintf(req, sizeof(req), "%lu %lu%s", ops, size, tee ? " tee" : "");
	t0 = cli_now_ms();
	err = -cli_attr_write(path, req);
	ms = cli_now_ms() - t0;
	if (err && err != EIO) {
		rc = cli_failf("traffic %s: %s (errno %d)", name.s, strerror(err), err);
		return traffic_close(&r, &tap, rc);
	}
	if (cli_attr_read(path, text, sizeof(text)) != 0) {
		rc = cli_failf("traffic %s: cannot read the result", name.s);
		return traffic_close(&r, &tap, rc);
	}
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_object_new_string(name.s));
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(keys); i++)
			if (cli_kv_get(text, keys[i], v, sizeof(v)))
				json_object_object_add(o, keys[i],
						       i + 1 == PCITSM_ARRAY_SIZE(keys)
							       ? json_object_new_string(v)
							       : json_object_new_int64(atoll(v)));
		json_object_object_add(o, "tee", json_object_new_boolean(tee));
		if (tee) {
			long long sz = kv_num(text, "size");

			json_object_object_add(o, "bytes_written",
					       json_object_new_int64(kv_num(text, "writes") * sz));
			json_object_object_add(o, "bytes_verified",
					       json_object_new_int64(kv_num(text, "reads") * sz));
		}
		json_object_object_add(o, "ms", json_object_new_double(ms));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if (tee) {
		tee_text(name.s, text, ms);
	} else {
		printf("%s: traffic in %.1f ms:", name.s, ms);
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(keys); i++)
			if (cli_kv_get(text, keys[i], v, sizeof(v)))
				printf(" %s=%s", keys[i], v);
		printf("\n");
	}
	if (err || (cli_kv_get(text, "failures", v, sizeof(v)) && strcmp(v, "0")))
		rc = CLI_EXIT_FAIL;
	return traffic_close(&r, &tap, rc);
}

const struct cli_cmd cli_cmd_traffic = {
	.name = "traffic",
	.args = "BDF [--ops N] [--size BYTES] [--tee] [--sysfs DIR | --tap FILE] [--json]",
	.summary = "memory traffic across the emulated link (--tee: a TDI's DMA in RUN)",
	.run = traffic_main,
};
