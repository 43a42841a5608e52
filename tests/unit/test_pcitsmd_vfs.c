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

static int wr(struct pd *pd, const char *path, const char *s)
{
	struct vnode vn;
	int r = resolve(pd, path, &vn);

	if (r)
		return r;
	r = vfs_open(pd, &vn, false, true);
	if (r)
		return r;
	return vfs_write(pd, &vn, s, strlen(s), 0);
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
	assert_string_equal(ls(pd, EP "/tsm", &n), "connect disconnect dsm bound ");
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

	(void)state;
	assert_int_equal(vfs_parse_traffic("10", 2, &n, &sz), 0);
	assert_int_equal(n, 10);
	assert_int_equal(sz, 256);
	assert_int_equal(vfs_parse_traffic("10 64\n", 6, &n, &sz), 0);
	assert_int_equal(sz, 64);
	assert_int_equal(vfs_parse_traffic("1 4096", 6, &n, &sz), 0);
	static const char *const bad[] = { "", "\n", "0", "x", "10 63", "10 0", "10 4100",
					   "10  64", "10 64 1", "-1", "10000001", " 5", "5 x" };
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++)
		assert_int_equal(vfs_parse_traffic(bad[i], strlen(bad[i]), &n, &sz), -EINVAL);
	{
		char big[100];

		memset(big, '1', sizeof(big));
		assert_int_equal(vfs_parse_traffic(big, sizeof(big), &n, &sz), -EINVAL);
	}
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(tree, setup, teardown),
		cmocka_unit_test_setup_teardown(attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(config_access, setup, teardown),
		cmocka_unit_test(traffic_format),
		cmocka_unit_test(faults_table),
		cmocka_unit_test(open_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
