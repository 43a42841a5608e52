/* SPDX-License-Identifier: MIT */
/*
 * pcitsmd's tree without FUSE: lookups and listings agree, contents and modes, the kernel's errno
 * for every attribute, config accesses split as Linux splits them, and the project directory's
 * write formats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "vfs.h"

#define EP "/bus/pci/devices/0000:01:00.0"
#define HB "/devices/pci0000:00"

struct fixture {
	struct pd_opts o;
	struct pd pd;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *why;

	pd_opts_default(&fx->o);
	fx->o.mountpoint = "/unused";
	fx->o.nr_vfs = 0; /* the 6.19 tree; the TDIs: tdisp_tree */
	/* Port 2's endpoint signs badly: its connect must fail. */
	fx->o.nr_faults = 1;
	assert_ok(pd_parse_fault("0000:02:00.0=bad-signature", &fx->o.faults[0]));
	if (pd_open(&fx->pd, &fx->o, pcitsm_env_default(), &why) != PCITSM_OK)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	pd_close(&fx->pd);
	free(fx);
	return 0;
}

/* Follow symlinks as the kernel does before asking the filesystem. */
static int resolve(struct pd *pd, const char *path, struct vnode *vn)
{
	if (!strncmp(path, EP, strlen(EP))) {
		char real[256];

		snprintf(real, sizeof(real), "/devices/pci0000:00/0000:00:01.0/0000:01:00.0%s",
			 path + strlen(EP));
		return vfs_lookup(pd, real, vn);
	}
	return vfs_lookup(pd, path, vn);
}

static int rd(struct pd *pd, const char *path, char *buf, size_t len)
{
	struct vnode vn;
	int r = resolve(pd, path, &vn);

	if (r)
		return r;
	r = vfs_open(pd, &vn, true, false);
	if (r)
		return r;
	r = vfs_read(pd, &vn, buf, len - 1, 0, 0);
	if (r >= 0)
		buf[r] = '\0';
	return r;
}

static int wrn(struct pd *pd, const char *path, const char *s, size_t len)
{
	struct vnode vn;
	int r = resolve(pd, path, &vn);

	if (r)
		return r;
	r = vfs_open(pd, &vn, false, true);
	if (r)
		return r;
	return vfs_write(pd, &vn, s, len, 0);
}

static int wr(struct pd *pd, const char *path, const char *s)
{
	return wrn(pd, path, s, strlen(s));
}

struct names {
	char buf[1024];
};

static int collect(void *ctx, const char *name, const struct vnode *vn)
{
	struct names *n = ctx;

	(void)vn;
	strcat(n->buf, name);
	strcat(n->buf, " ");
	return 0;
}

static const char *ls(struct pd *pd, const char *path, struct names *n)
{
	struct vnode vn;

	n->buf[0] = '\0';
	assert_int_equal(resolve(pd, path, &vn), 0);
	assert_int_equal(vfs_readdir(pd, &vn, collect, n), 0);
	return n->buf;
}

static void tree(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	struct names n;
	struct vnode vn;

	assert_string_equal(ls(pd, "/", &n), "bus class devices pcitsm ");
	assert_string_equal(ls(pd, "/bus/pci/devices", &n),
			    "0000:00:01.0 0000:00:02.0 0000:01:00.0 0000:02:00.0 ");
	assert_string_equal(ls(pd, EP "/tsm", &n), "connect disconnect dsm bound lock unlock accept ");
	assert_string_equal(ls(pd, EP "/doe_features", &n), "doe_discovery 0001:01 0001:02 ");
	assert_int_equal(vfs_lookup(pd, "/bus/pci/devices/0000:01:00.0", &vn), 0);
	assert_int_equal(vn.mode & S_IFMT, S_IFLNK);
	assert_string_equal(vn.target, "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	assert_int_equal(vfs_lookup(pd, "/class/tsm/tsm0", &vn), 0);
	assert_int_equal(vn.mode & S_IFMT, S_IFLNK);
	assert_int_equal(vfs_lookup(pd, "/nope", &vn), -ENOENT);
	assert_int_equal(vfs_lookup(pd, HB "/available_secure_streams/x", &vn), -ENOTDIR);
	assert_int_equal(vfs_lookup(pd, HB "/0000:00:01.0/tsm", &vn), -ENOENT); /* root port */
	assert_int_equal(vfs_lookup(pd, "//devices///pci0000:00/", &vn), 0);
	/* Modes. */
	assert_int_equal(resolve(pd, EP "/tsm/disconnect", &vn), 0);
	assert_int_equal(vn.mode, S_IFREG | 0200);
	assert_int_equal(resolve(pd, EP "/tsm/connect", &vn), 0);
	assert_int_equal(vn.mode, S_IFREG | 0644);
	assert_int_equal(vfs_size(pd, &vn), 4096);
	assert_int_equal(resolve(pd, EP "/config", &vn), 0);
	assert_int_equal(vfs_size(pd, &vn), 4096);
}

static void attributes(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	char b[4096];

	assert_int_equal(rd(pd, EP "/vendor", b, sizeof(b)), 7);
	assert_string_equal(b, "0x7063\n");
	assert_int_equal(rd(pd, EP "/class", b, sizeof(b)), 9);
	assert_string_equal(b, "0x120000\n");
	assert_int_equal(rd(pd, EP "/tsm/connect", b, sizeof(b)), 1);
	assert_string_equal(b, "\n");
	assert_int_equal(rd(pd, EP "/tsm/disconnect", b, sizeof(b)), -EACCES);
	assert_int_equal(wr(pd, EP "/tsm/dsm", "x"), -EACCES);
	assert_int_equal(wr(pd, EP "/vendor", "x"), -EACCES);
	assert_int_equal(wr(pd, "/pcitsm/README", "x"), -EACCES);
	assert_int_equal(rd(pd, HB "/available_secure_streams", b, sizeof(b)), 4);
	assert_string_equal(b, "256\n");
	assert_int_equal(wr(pd, "/devices/platform/pcitsm-tsm/tsm/tsm0/uevent", "change\n"), 7);
	assert_int_equal(wr(pd, "/devices/platform/pcitsm-tsm/tsm/tsm0/uevent", "bogus\n"), -EINVAL);
	assert_int_equal(rd(pd, "/devices/platform/pcitsm-tsm/tsm/tsm0/uevent", b, sizeof(b)), 0);

	/* The kernel's connect / disconnect errno. */
	assert_int_equal(wr(pd, EP "/tsm/connect", "bogus\n"), -EINVAL);
	assert_int_equal(wr(pd, EP "/tsm/connect", "tsm9\n"), -ENXIO);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0\n"), -ENXIO);
	assert_int_equal(wr(pd, "/pcitsm/devices/0000:01:00.0/rekey", "1\n"), -ENXIO);
	assert_int_equal(wr(pd, EP "/tsm/connect", "tsm0\n"), 5);
	assert_int_equal(wr(pd, EP "/tsm/connect", "tsm0\n"), -EBUSY);
	assert_int_equal(rd(pd, EP "/authenticated", b, sizeof(b)), 5);
	assert_string_equal(b, "tsm0\n");
	assert_int_equal(rd(pd, HB "/available_secure_streams", b, sizeof(b)), 4);
	assert_string_equal(b, "255\n");
	{
		struct vnode vn;

		assert_int_equal(vfs_lookup(pd, HB "/stream0.0.0", &vn), 0);
		assert_int_equal(vn.mode & S_IFMT, S_IFLNK);
		assert_string_equal(vn.target, "0000:00:01.0/0000:01:00.0");
	}

	/* Project directory while connected. */
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.0/status", b, sizeof(b)) > 0);
	assert_non_null(strstr(b, "connected=1\n"));
	assert_non_null(strstr(b, "ep_state=secure\n"));
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.0/evidence/vca", b, sizeof(b)) > 0);
	assert_int_equal(wr(pd, "/pcitsm/devices/0000:01:00.0/traffic", "100 64\n"), 7);
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.0/traffic", b, sizeof(b)) > 0);
	assert_non_null(strstr(b, "ops=100\n"));
	assert_non_null(strstr(b, "failures=0\n"));
	assert_int_equal(wr(pd, "/pcitsm/devices/0000:01:00.0/traffic", "0\n"), -EINVAL);
	assert_int_equal(wr(pd, "/pcitsm/devices/0000:01:00.0/rekey", "1\n"), 2);

	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm1\n"), -EINVAL);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0\n"), 5);
	assert_int_equal(rd(pd, "/pcitsm/devices/0000:01:00.0/evidence/vca", b, sizeof(b)), -ENOENT);
	assert_int_equal(rd(pd, HB "/available_secure_streams", b, sizeof(b)), 4);
	assert_string_equal(b, "256\n");

	/* The faulted device: EACCES, nothing held. */
	assert_int_equal(wr(pd, HB "/0000:00:02.0/0000:02:00.0/tsm/connect", "tsm0\n"), -EACCES);
	assert_int_equal(rd(pd, HB "/available_secure_streams", b, sizeof(b)), 4);
	assert_string_equal(b, "256\n");
	assert_int_equal(rd(pd, "/pcitsm/devices/0000:02:00.0/faults", b, sizeof(b)), 14);
	assert_string_equal(b, "bad-signature\n");
}

/* tsm/connect parses as the kernel's sscanf(buf, "tsm%d\n", &id) (lib/vsprintf.c vsscanf, not
 * C's: no '+'), on what kernfs hands the store: at most 4096 bytes, up to the first NUL. */
static void connect_parse(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		int want;   /* 0: connects (the write returns its length) */
	} cases[] = {
		{ "tsm0", 0, 0 },
		{ "tsm0\n", 0, 0 },
		{ "tsm 0", 0, 0 },          /* %d skips white space */
		{ "tsm\t\n 0\n", 0, 0 },
		{ "tsm\xa0" "0", 0, 0 },     /* the kernel's isspace includes 0xA0 */
		{ "tsm-0", 0, 0 },          /* -0 is 0 */
		{ "tsm00", 0, 0 },
		{ "tsm0garbage", 0, 0 },    /* the rest is ignored */
		{ "tsm0 1", 0, 0 },
		{ "tsm4294967296", 0, 0 },  /* low 32 bits: 0 */
		{ "tsm0\0x", 6, 0 },        /* NUL ends the string */
		{ "tsm+0", 0, -EINVAL },    /* the kernel's %d takes no '+' */
		{ " tsm0", 0, -EINVAL },    /* a format literal skips no white space */
		{ "TSM0", 0, -EINVAL },
		{ "abc0", 0, -EINVAL },
		{ "tsm", 0, -EINVAL },
		{ "tsm\n", 0, -EINVAL },
		{ "tsmx", 0, -EINVAL },
		{ "tsm-", 0, -EINVAL },
		{ "tsm--0", 0, -EINVAL },
		{ "tsm- 0", 0, -EINVAL },
		{ "tsm\0" "0", 5, -EINVAL },
		{ "ts", 0, -EINVAL },
		{ "tsm1", 0, -ENXIO },      /* no such TSM */
		{ "tsm-1", 0, -ENXIO },
		{ "tsm4294967295", 0, -ENXIO }, /* -1 */
		{ "tsm2147483648", 0, -ENXIO }, /* INT_MIN */
	};
	char big[4097];

	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
		int r = wrn(pd, EP "/tsm/connect", cases[i].s, len);

		if (cases[i].want) {
			if (r != cases[i].want)
				fail_msg("connect '%s': %d, want %d", cases[i].s, r, cases[i].want);
			continue;
		}
		if (r != (int)len)
			fail_msg("connect '%s': %d, want %zu", cases[i].s, r, len);
		assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0"), 4);
	}
	/* An empty write reaches no store: 0, nothing happens. */
	assert_int_equal(wrn(pd, EP "/tsm/connect", "", 0), 0);
	/* 4096 bytes: one page, the store sees it all. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "tsm0", 4);
	assert_int_equal(wrn(pd, EP "/tsm/connect", big, 4096), 4096);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0\n"), 5);
	/* 4097 bytes: the store sees the first 4096, the write(2) is short. */
	assert_int_equal(wrn(pd, EP "/tsm/connect", big, 4097), 4096);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0\n"), 5);
	/* ... so a digit in byte 4097 is never seen: "tsm" + white space is EINVAL. */
	memcpy(big, "tsm ", 4);
	big[4096] = '0';
	assert_int_equal(wrn(pd, EP "/tsm/connect", big, 4097), -EINVAL);
	/* A 64-byte name (past any small fixed buffer) parses like the short one. */
	memset(big, '0', 64);
	memcpy(big, "tsm", 3);
	assert_int_equal(wrn(pd, EP "/tsm/connect", big, 64), 64);
	assert_int_equal(wrn(pd, EP "/tsm/connect", big, 64), -EBUSY);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0\n"), 5);
}

/* pci-sysfs.c's generic files, derived from the emulated config space. */
static void generic_files(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	int f = pd_find_name(pd, "0000:01:00.0");
	struct pcitsm_cfg_emu *c = &pd->funcs[f].f->cfg;
	char b[4096], *line;
	struct vnode vn;
	int n;

	assert_int_equal(rd(pd, EP "/irq", b, sizeof(b)), 2);
	assert_string_equal(b, "0\n");
	assert_int_equal(rd(pd, EP "/subsystem_vendor", b, sizeof(b)), 7);
	assert_string_equal(b, "0x0000\n");
	assert_int_equal(rd(pd, EP "/revision", b, sizeof(b)), 5);
	assert_string_equal(b, "0x01\n");
	/* An endpoint: 13 resource lines (6 BARs, ROM, 6 SR-IOV BARs), all unused. */
	n = rd(pd, EP "/resource", b, sizeof(b));
	assert_int_equal(n, 13 * 57);
	assert_string_equal(b + 12 * 57, "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	/* A root port: 17 lines, its memory window from config 0x20/0x22 in line 15. */
	n = rd(pd, HB "/0000:00:01.0/resource", b, sizeof(b));
	assert_int_equal(n, 17 * 57);
	{
		uint32_t w = pcitsm_cfg_emu_peek(&pd->funcs[pd_find_name(pd, "0000:00:01.0")].f->cfg,
						 0x20, 4);
		char want[64];

		snprintf(want, sizeof(want), "0x%016llx 0x%016llx 0x0000000000000200\n",
			 (unsigned long long)(w & 0xfff0u) << 16,
			 ((unsigned long long)(w >> 16 & 0xfff0u) << 16) | 0xfffff);
		b[15 * 57] = '\0';
		assert_string_equal(b + 14 * 57, want);
	}
	/* Program the endpoint: BAR0/1 64-bit prefetchable 1 MiB at 4 GiB, BAR2 I/O 256 at 0x2000,
	 * subsystem 1af4:1100, INTA# on line 11; the files follow the registers. */
	pcitsm_cfg_emu_mask(c, 0x10, 4, 0xfff00000u, 0);
	pcitsm_cfg_emu_mask(c, 0x14, 4, 0xffffffffu, 0);
	pcitsm_cfg_emu_poke(c, 0x10, 4, 0x0000000cu);
	pcitsm_cfg_emu_poke(c, 0x14, 4, 0x00000001u);
	pcitsm_cfg_emu_mask(c, 0x18, 4, 0xffffff00u, 0);
	pcitsm_cfg_emu_poke(c, 0x18, 4, 0x00002001u);
	pcitsm_cfg_emu_poke(c, 0x2c, 4, 0x11001af4u);
	pcitsm_cfg_emu_poke(c, 0x3c, 2, 0x010bu);
	assert_int_equal(rd(pd, EP "/resource", b, sizeof(b)), 13 * 57);
	line = b;
	assert_memory_equal(line, "0x0000000100000000 0x00000001000fffff 0x000000000014220c\n", 57);
	assert_memory_equal(line + 57, "0x0000000000000000 0x0000000000000000 0x0000000000000000\n", 57);
	assert_memory_equal(line + 114, "0x0000000000002000 0x00000000000020ff 0x0000000000040101\n", 57);
	assert_int_equal(rd(pd, EP "/irq", b, sizeof(b)), 3);
	assert_string_equal(b, "11\n");
	assert_int_equal(rd(pd, EP "/subsystem_vendor", b, sizeof(b)), 7);
	assert_string_equal(b, "0x1af4\n");
	assert_int_equal(rd(pd, EP "/subsystem_device", b, sizeof(b)), 7);
	assert_string_equal(b, "0x1100\n");
	assert_int_equal(wr(pd, EP "/irq", "5"), -EACCES);
	/* The TSM class device's parent link, to a directory that exists. */
	assert_int_equal(vfs_lookup(pd, "/devices/platform/pcitsm-tsm/tsm/tsm0/device", &vn), 0);
	assert_int_equal(vn.mode & S_IFMT, S_IFLNK);
	assert_string_equal(vn.target, "../../../pcitsm-tsm");
	assert_int_equal(vfs_lookup(pd, "/devices/platform/pcitsm-tsm", &vn), 0);
	assert_int_equal(vn.mode & S_IFMT, S_IFDIR);
}

/* An empty stream pool hides available_secure_streams (pci_ide_attr_visible), not ENXIO; and
 * --no-doe-features hides doe_features/ as a kernel before 6.15. */
static void hidden_attributes(void **state)
{
	struct pd_opts o;
	struct pd pd;
	const char *why;
	struct names n;
	struct vnode vn;

	(void)state;
	pd_opts_default(&o);
	o.nr_streams = 0;
	o.no_doe_features = true;
	assert_ok(pd_open(&pd, &o, pcitsm_env_default(), &why));
	assert_null(strstr(ls(&pd, HB, &n), "available_secure_streams"));
	assert_non_null(strstr(n.buf, "0000:00:01.0"));
	assert_int_equal(vfs_lookup(&pd, HB "/available_secure_streams", &vn), -ENOENT);
	assert_null(strstr(ls(&pd, EP, &n), "doe_features"));
	assert_non_null(strstr(n.buf, "config"));
	assert_int_equal(resolve(&pd, EP "/doe_features", &vn), -ENOENT);
	pd_close(&pd);

	pd_opts_default(&o);
	o.nr_streams = 1;
	assert_ok(pd_open(&pd, &o, pcitsm_env_default(), &why));
	assert_non_null(strstr(ls(&pd, HB, &n), "available_secure_streams "));
	assert_non_null(strstr(ls(&pd, EP, &n), "doe_features "));
	pd_close(&pd);
}

static void config_access(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	uint8_t full[4096], part[16];
	int f = pd_find_name(pd, "0000:01:00.0");
	struct vnode vn;

	assert_true(f >= 0);
	assert_int_equal(pd_cfg_read(pd, f, full, sizeof(full), 0), 4096);
	assert_int_equal(full[0], 0x63);
	assert_int_equal(full[1], 0x70);
	/* Unaligned reads give the same bytes. */
	for (uint32_t off = 0; off < 12; off++) {
		assert_int_equal(pd_cfg_read(pd, f, part, 7, off), 7);
		assert_memory_equal(part, full + off, 7);
	}
	assert_int_equal(pd_cfg_read(pd, f, part, 16, 4090), 6);
	assert_int_equal(pd_cfg_read(pd, f, part, 16, 4096), 0);
	/* Writes: the Command register's memory-space bit sticks, the vendor ID does not. */
	assert_int_equal(pd_cfg_write(pd, f, (const uint8_t *)"\x02\x00", 2, 4), 2);
	assert_int_equal(pd_cfg_read(pd, f, part, 2, 4), 2);
	assert_int_equal(part[0] & 2, 2);
	assert_int_equal(pd_cfg_write(pd, f, (const uint8_t *)"\xff\xff", 2, 0), 2);
	assert_int_equal(pd_cfg_read(pd, f, part, 2, 0), 2);
	assert_int_equal(part[0], 0x63);
	/* Non-root readers see 64 bytes, as in Linux. */
	assert_int_equal(resolve(pd, EP "/config", &vn), 0);
	assert_int_equal(vfs_read(pd, &vn, (char *)full, sizeof(full), 0, 1000), 64);
	assert_int_equal(vfs_read(pd, &vn, (char *)full, sizeof(full), 64, 1000), 0);
}

static void traffic_format(void **state)
{
	uint64_t n;
	size_t sz;
	bool tee;

	(void)state;
	assert_int_equal(vfs_parse_traffic("10", 2, &n, &sz, &tee), 0);
	assert_int_equal(n, 10);
	assert_int_equal(sz, 256);
	assert_false(tee);
	assert_int_equal(vfs_parse_traffic("10 64\n", 6, &n, &sz, &tee), 0);
	assert_int_equal(sz, 64);
	assert_false(tee);
	assert_int_equal(vfs_parse_traffic("1 4096", 6, &n, &sz, &tee), 0);
	assert_int_equal(vfs_parse_traffic("8 64 tee\n", 9, &n, &sz, &tee), 0);
	assert_true(tee);
	assert_int_equal(n, 8);
	assert_int_equal(sz, 64);
	assert_int_equal(vfs_parse_traffic("3 tee", 5, &n, &sz, &tee), 0);
	assert_true(tee);
	assert_int_equal(n, 3);
	assert_int_equal(sz, 256);
	static const char *const bad[] = { "", "\n", "0", "x", "10 63", "10 0", "10 4100",
					   "10  64", "10 64 1", "-1", "10000001", " 5", "5 x",
					   "tee", " tee", "5 tee tee", "5 64 te", "5tee", "5 64tee",
					   "0 tee", "5 63 tee", "5 tee 64" };
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++)
		assert_int_equal(vfs_parse_traffic(bad[i], strlen(bad[i]), &n, &sz, &tee), -EINVAL);
	{
		char big[100];

		memset(big, '1', sizeof(big));
		assert_int_equal(vfs_parse_traffic(big, sizeof(big), &n, &sz, &tee), -EINVAL);
	}
}

/* evidence/nonce: exactly 64 hex digits, one trailing newline. */
static void nonce_format(void **state)
{
	uint8_t nonce[PCITSM_TSM_NONCE_LEN];
	char s[80];

	(void)state;
	memset(s, 'a', 64);
	assert_int_equal(vfs_parse_nonce(s, 64, nonce), 0);
	assert_int_equal(nonce[0], 0xaa);
	s[64] = '\n';
	assert_int_equal(vfs_parse_nonce(s, 65, nonce), 0);
	memcpy(s, "0F", 2);
	assert_int_equal(vfs_parse_nonce(s, 64, nonce), 0);
	assert_int_equal(nonce[0], 0x0f);
	assert_int_equal(vfs_parse_nonce(s, 62, nonce), -EINVAL);  /* short */
	assert_int_equal(vfs_parse_nonce(s, 63, nonce), -EINVAL);  /* odd */
	memset(s, 'a', sizeof(s));
	assert_int_equal(vfs_parse_nonce(s, 66, nonce), -EINVAL);  /* long */
	s[64] = '\n';
	s[65] = '\n';
	assert_int_equal(vfs_parse_nonce(s, 66, nonce), -EINVAL);  /* two newlines */
	s[64] = 'a';
	s[10] = 'g';
	assert_int_equal(vfs_parse_nonce(s, 64, nonce), -EINVAL);  /* not a digit */
	s[10] = ' ';
	assert_int_equal(vfs_parse_nonce(s, 64, nonce), -EINVAL);
	assert_int_equal(vfs_parse_nonce(s, 0, nonce), -EINVAL);
	assert_int_equal(vfs_parse_nonce("\n", 1, nonce), -EINVAL);
}

/* A connected device's evidence/nonce: the TSM's signed measurements with the writer's nonce,
 * read back; bad formats EINVAL; gone (ENOENT) once disconnected, ENXIO for a writer that opened
 * it before. */
static void evidence_nonce_file(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	const char *ev = "/pcitsm/devices/0000:01:00.0/evidence/";
	char path[128], b[8192], before[8192], nonce[66];
	struct vnode vn;
	int n, m;

	memset(nonce, 0, sizeof(nonce));
	for (int i = 0; i < 32; i++)
		memcpy(nonce + 2 * i, "5a", 2);
	nonce[64] = '\n';
	snprintf(path, sizeof(path), "%snonce", ev);
	assert_int_equal(rd(pd, path, b, sizeof(b)), -ENOENT);
	assert_int_equal(wr(pd, EP "/tsm/connect", "tsm0\n"), 5);
	assert_int_equal(resolve(pd, path, &vn), 0);
	assert_int_equal(vn.mode, S_IFREG | 0644);
	/* Before a refresh: the connect's own nonce, 64 digits and a newline. */
	assert_int_equal(rd(pd, path, b, sizeof(b)), 65);
	snprintf(path, sizeof(path), "%smeasurements", ev);
	m = rd(pd, path, before, sizeof(before));
	assert_true(m > 0);

	snprintf(path, sizeof(path), "%snonce", ev);
	assert_int_equal(wr(pd, path, nonce), 65);
	assert_int_equal(rd(pd, path, b, sizeof(b)), 65);
	assert_string_equal(b, nonce);
	snprintf(path, sizeof(path), "%smeasurements", ev);
	n = rd(pd, path, b, sizeof(b));
	assert_true(n > 0);
	assert_true(n != m || memcmp(b, before, (size_t)n)); /* a new signed response */

	snprintf(path, sizeof(path), "%snonce", ev);
	assert_int_equal(wr(pd, path, "5a5a\n"), -EINVAL);
	nonce[64] = 'a';
	assert_int_equal(wrn(pd, path, nonce, 65), -EINVAL);
	nonce[64] = '\n';
	nonce[3] = 'x';
	assert_int_equal(wrn(pd, path, nonce, 65), -EINVAL);
	/* Other evidence files stay read-only. */
	snprintf(path, sizeof(path), "%svca", ev);
	assert_int_equal(wr(pd, path, "1"), -EACCES);

	/* Opened while connected, written after the disconnect: not connected. */
	snprintf(path, sizeof(path), "%snonce", ev);
	assert_int_equal(resolve(pd, path, &vn), 0);
	assert_int_equal(vfs_open(pd, &vn, false, true), 0);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0\n"), 5);
	nonce[3] = 'a';
	assert_int_equal(vfs_write(pd, &vn, nonce, 65, 0), -ENXIO);
	assert_int_equal(rd(pd, path, b, sizeof(b)), -ENOENT);
}

/* pcitsm/tsm0/key_max_tlps and key_max_age_s (ours): one decimal each, read back; the TSM's
 * cap is ERANGE, a bad format EINVAL, and the policy shows in a connected device's status. */
static void key_policy_files(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	struct names n = { { 0 } };
	char b[4096];
	uint64_t v;

	assert_string_equal(ls(pd, "/pcitsm/tsm0", &n), "key_max_tlps key_max_age_s ");
	assert_true(rd(pd, "/pcitsm/tsm0/key_max_tlps", b, sizeof(b)) > 0);
	assert_string_equal(b, "4294967296\n");
	assert_true(rd(pd, "/pcitsm/tsm0/key_max_age_s", b, sizeof(b)) > 0);
	assert_string_equal(b, "3600\n");
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_tlps", "1000\n"), 5);
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_age_s", "60"), 2);
	assert_true(rd(pd, "/pcitsm/tsm0/key_max_tlps", b, sizeof(b)) > 0);
	assert_string_equal(b, "1000\n");
	assert_true(rd(pd, "/pcitsm/tsm0/key_max_age_s", b, sizeof(b)) > 0);
	assert_string_equal(b, "60\n");
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_tlps", "281474976710657"), -ERANGE);
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_tlps", "99999999999999999999"), -ERANGE);
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_age_s", "99999999999999"), -ERANGE);
	static const char *const bad[] = { "", "\n", "x", "-1", " 5", "5 ", "1e3", "0x10" };
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++)
		assert_int_equal(vfs_parse_u64(bad[i], strlen(bad[i]), &v), -EINVAL);
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_tlps", "1x"), -EINVAL);
	assert_true(rd(pd, "/pcitsm/tsm0/key_max_tlps", b, sizeof(b)) > 0);
	assert_string_equal(b, "1000\n");
	/* A connected device's status: the set in use, its TLPs, age and next refresh. */
	assert_int_equal(wr(pd, EP "/tsm/connect", "tsm0"), 4);
	assert_int_equal(wr(pd, "/pcitsm/devices/0000:01:00.0/traffic", "10 64\n"), 6);
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.0/status", b, sizeof(b)) > 0);
	assert_non_null(strstr(b, "\nkey_set=K0\n"));
	assert_non_null(strstr(b, "\nkey_tlps=30\n"));
	assert_non_null(strstr(b, "\nkey_tlps_max_per_key=5\n"));
	assert_non_null(strstr(b, "\nkey_policy_max_tlps=1000\nkey_policy_max_age_s=60\n"));
	assert_non_null(strstr(b, "\nkey_next_refresh_tlps=995\n"));
	assert_non_null(strstr(b, "\nkey_next_refresh_ms="));
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_tlps", "0"), 1);
	assert_int_equal(wr(pd, "/pcitsm/tsm0/key_max_age_s", "0"), 1);
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.0/status", b, sizeof(b)) > 0);
	assert_non_null(strstr(b, "\nkey_next_refresh=off\n"));
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0"), 4);
}

static void faults_table(void **state)
{
	const struct pd_fault_desc *d;
	enum pcitsm_tsm_step step;

	(void)state;
	assert_ok(pd_fault_lookup("untrusted-cert", &d, &step));
	assert_int_equal(d->kind, PD_FAULT_UNTRUSTED_CERT);
	assert_ok(pd_fault_lookup("fail-after-key_prog", &d, &step));
	assert_int_equal(d->kind, PD_FAULT_FAIL_AFTER_STEP);
	assert_int_equal(step, PCITSM_TSM_STEP_KEY_PROG);
	assert_err(pd_fault_lookup("fail-after-nothing", &d, &step), PCITSM_E_INVAL);
	assert_err(pd_fault_lookup("fail-after-STEP", &d, &step), PCITSM_E_INVAL);
	assert_err(pd_fault_lookup("fail-after-done", &d, &step), PCITSM_E_INVAL);
	assert_err(pd_fault_lookup("", &d, &step), PCITSM_E_INVAL);
}

static void open_faults(void **state)
{
	struct pd_opts o;
	struct pd pd;
	const char *why = NULL;

	(void)state;
	pd_opts_default(&o);
	o.nr_faults = 1;
	assert_ok(pd_parse_fault("0000:00:01.0=bad-signature", &o.faults[0])); /* a root port */
	assert_err(pd_open(&pd, &o, pcitsm_env_default(), &why), PCITSM_E_NOTFOUND);
	assert_ok(pd_parse_fault("tsm0=bad-signature", &o.faults[0])); /* device fault on tsm0 */
	assert_err(pd_open(&pd, &o, pcitsm_env_default(), &why), PCITSM_E_INVAL);
	assert_ok(pd_parse_fault("0000:01:00.0=fail-after-key_prog", &o.faults[0]));
	assert_err(pd_open(&pd, &o, pcitsm_env_default(), &why), PCITSM_E_INVAL);
	assert_ok(pd_parse_fault("0000:01:00.0=no-such-fault", &o.faults[0]));
	assert_err(pd_open(&pd, &o, pcitsm_env_default(), &why), PCITSM_E_INVAL);
}

/* The devsec ABI [proposal] through the mirror: the files, their errno in order, the evidence
 * directory of a locked TDI, driver binding (docs/pcitsmd.md "Proposal: TDISP"). */
#define VF1 "/devices/pci0000:00/0000:00:01.0/0000:01:00.1"

static int setup_vfs(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *why;

	pd_opts_default(&fx->o); /* two functions on the first endpoint */
	fx->o.mountpoint = "/unused";
	if (pd_open(&fx->pd, &fx->o, pcitsm_env_default(), &why) != PCITSM_OK)
		return -1;
	*state = fx;
	return 0;
}

static void tdisp_tree(void **state)
{
	struct fixture *fx = *state;
	struct pd *pd = &fx->pd;
	struct names n;
	char buf[256];
	char digest[2 * PCITSM_TDISP_DIGEST_LEN + 2];

	assert_string_equal(ls(pd, "/class/tsm", &n), "tsm0 tsm1 ");
	assert_int_equal(rd(pd, "/devices/platform/pcitsm-tsm/tsm/tsm0/pci_mode", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "link\n");
	assert_int_equal(rd(pd, "/devices/platform/pcitsm-tsm/tsm/tsm1/pci_mode", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "devsec\n");
	assert_string_equal(ls(pd, VF1 "/tsm", &n), "lock unlock accept ");
	assert_string_equal(ls(pd, "/bus/pci/drivers/pcitsm-ep", &n), "bind unbind ");
	assert_int_equal(rd(pd, VF1 "/tsm/unlock", buf, sizeof(buf)), -EACCES);
	assert_int_equal(rd(pd, "/bus/pci/drivers/pcitsm-ep/bind", buf, sizeof(buf)), -EACCES);

	/* The order of tsm/lock's checks, then a lock. */
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "tsm1"), -ENOTCONN); /* the op: no link */
	assert_int_equal(wr(pd, EP "/tsm/connect", "tsm0"), 4);
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "nope"), -EINVAL);
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "tsm0"), -ENXIO);
	assert_int_equal(wr(pd, "/bus/pci/drivers/pcitsm-ep/bind", "0000:01:00.1"), 12);
	assert_string_equal(ls(pd, "/bus/pci/drivers/pcitsm-ep", &n), "bind unbind 0000:01:00.1 ");
	assert_true(strstr(ls(pd, VF1, &n), "driver ") != NULL);
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "tsm0"), -ENXIO);
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "tsm1"), -EBUSY);
	assert_int_equal(wr(pd, "/bus/pci/drivers/pcitsm-ep/unbind", "0000:01:00.1\n"), 13);
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "tsm1\n"), 5);
	assert_int_equal(rd(pd, VF1 "/tsm/lock", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "tsm1\n");
	assert_int_equal(wr(pd, VF1 "/tsm/lock", "tsm1"), -EBUSY);

	/* The evidence of the locked TDI; the accept binds to it. */
	assert_string_equal(ls(pd, "/pcitsm/devices/0000:01:00.1/evidence", &n),
			    "report report_digest report_generation ");
	assert_int_equal(wr(pd, VF1 "/tsm/accept", "1"), -ESTALE);
	assert_int_equal(rd(pd, "/pcitsm/devices/0000:01:00.1/evidence/report_digest", digest,
			    sizeof(digest)), 2 * PCITSM_TDISP_DIGEST_LEN + 1);
	assert_int_equal(rd(pd, "/pcitsm/devices/0000:01:00.1/evidence/report_generation", buf,
			    sizeof(buf)), 2);
	assert_string_equal(buf, "1\n");
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.1/evidence/report", buf, sizeof(buf)) >
		    PCITSM_TDISP_REPORT_HDR_LEN);
	assert_int_equal(wr(pd, VF1 "/tsm/accept", "0"), -EINVAL);
	assert_int_equal(wr(pd, VF1 "/tsm/accept", "yes\n"), 4);
	assert_int_equal(rd(pd, VF1 "/tsm/accept", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "1\n");
	assert_int_equal(rd(pd, EP "/tsm/bound", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "tsm1\n");
	assert_true(rd(pd, "/pcitsm/devices/0000:01:00.1/status", buf, sizeof(buf)) > 0);
	assert_true(strstr(buf, "tdi_state=RUN") != NULL);

	/* unlock: EINVAL another name; EBUSY driver bound; then done. */
	assert_int_equal(wr(pd, VF1 "/tsm/unlock", "tsm0"), -EINVAL);
	assert_int_equal(wr(pd, VF1 "/driver_override", "pcitsm-ep\n"), 10);
	assert_int_equal(rd(pd, VF1 "/driver_override", buf, sizeof(buf)), 10);
	assert_string_equal(buf, "pcitsm-ep\n");
	assert_int_equal(wr(pd, "/bus/pci/drivers/pcitsm-ep/bind", "0000:01:00.1"), 12);
	assert_int_equal(wr(pd, VF1 "/tsm/unlock", "tsm1"), -EBUSY);
	assert_int_equal(wr(pd, "/bus/pci/drivers/pcitsm-ep/unbind", "0000:01:00.1"), 12);
	assert_int_equal(wr(pd, VF1 "/tsm/unlock", "tsm1"), 4);
	assert_int_equal(rd(pd, VF1 "/tsm/lock", buf, sizeof(buf)), 1);
	assert_int_equal(rd(pd, EP "/tsm/bound", buf, sizeof(buf)), 1);
	assert_int_equal(wr(pd, EP "/tsm/disconnect", "tsm0"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(tree, setup, teardown),
		cmocka_unit_test_setup_teardown(tdisp_tree, setup_vfs, teardown),
		cmocka_unit_test_setup_teardown(attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(config_access, setup, teardown),
		cmocka_unit_test_setup_teardown(connect_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(generic_files, setup, teardown),
		cmocka_unit_test(hidden_attributes),
		cmocka_unit_test(traffic_format),
		cmocka_unit_test(nonce_format),
		cmocka_unit_test_setup_teardown(evidence_nonce_file, setup, teardown),
		cmocka_unit_test_setup_teardown(key_policy_files, setup, teardown),
		cmocka_unit_test(faults_table),
		cmocka_unit_test(open_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
