/* SPDX-License-Identifier: MIT */
/*
 * The real backend on a sysfs tree laid out as the kernel lays it for uio_pci_sva (built here in a
 * temporary directory; the hardware itself is not involved): driver link, driver_override, the
 * driver's bind/unbind files, uio/uioN, the driver's <BDF> link with its pasid attribute,
 * class/uio/uioN/maps/mapM, and /dev/uioN (a plain file standing in for the character device).
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcitsm/sva.h"

#define BDF "0000:05:00.0"

static char root[256], sys[300], dev[300];

static void put(const char *rel, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[256];
	char p[1024];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void mk(const char *rel)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", sys, rel);
	assert_int_equal(system(cmd), 0);
}

static void ln(const char *target, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	char p[1024];
	int fd;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/pcitsm-sva-uio-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	mkdir(sys, 0755);
	mkdir(dev, 0755);
	/* the function, on nvme at first */
	mk("devices/pci0000:00/0000:00:01.0/" BDF "/uio/uio3/maps/map0");
	mk("bus/pci/devices");
	mk("bus/pci/drivers/nvme");
	mk("bus/pci/drivers/uio_pci_sva");
	mk("class/uio");
	ln("../../../devices/pci0000:00/0000:00:01.0/" BDF, "bus/pci/devices/" BDF);
	ln("../../../../bus/pci/drivers/nvme", "devices/pci0000:00/0000:00:01.0/" BDF "/driver");
	put("devices/pci0000:00/0000:00:01.0/" BDF "/driver_override", "(null)\n");
	put("bus/pci/drivers/nvme/unbind", "");
	put("bus/pci/drivers/uio_pci_sva/bind", "");
	put("bus/pci/drivers/uio_pci_sva/unbind", "");
	/* the UIO class device and its maps: BAR0 and BAR2 (BAR1 skipped: 64-bit) */
	ln("../../devices/pci0000:00/0000:00:01.0/" BDF "/uio/uio3", "class/uio/uio3");
	put("class/uio/uio3/maps/map0/addr", "0xfe000000\n");
	put("class/uio/uio3/maps/map0/size", "0x1000\n");
	put("class/uio/uio3/maps/map0/offset", "0x0\n");
	put("class/uio/uio3/maps/map0/name", "BAR0\n");
	mk("devices/pci0000:00/0000:00:01.0/" BDF "/uio/uio3/maps/map2");
	put("class/uio/uio3/maps/map2/addr", "0xfe100100\n");
	put("class/uio/uio3/maps/map2/size", "0x100\n");
	put("class/uio/uio3/maps/map2/offset", "0x100\n");
	put("class/uio/uio3/maps/map2/name", "BAR2\n");
	snprintf(p, sizeof(p), "%s/uio3", dev);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 3 * pg) != 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* What the kernel does when the bind file is written. */
static void kernel_binds(void)
{
	ln("../../../../bus/pci/drivers/uio_pci_sva", "devices/pci0000:00/0000:00:01.0/" BDF "/driver");
	ln("../../../../devices/pci0000:00/0000:00:01.0/" BDF, "bus/pci/drivers/uio_pci_sva/" BDF);
	put("devices/pci0000:00/0000:00:01.0/" BDF "/pasid", "0\n");
}

static void test_bind(void **state)
{
	struct pcitsm_sva_uio_info i;
	struct pcitsm_bdf bdf, other;
	struct pcitsm_sva_dev *d;
	char why[256];

	(void)state;
	assert_ok(pcitsm_bdf_parse(BDF, &bdf));
	assert_ok(pcitsm_bdf_parse("0000:06:00.0", &other));
	assert_err(pcitsm_sva_uio_info(sys, &other, &i), PCITSM_E_NOTFOUND);
	assert_ok(pcitsm_sva_uio_info(sys, &bdf, &i));
	assert_false(i.on_uio_pci_sva);
	assert_string_equal(i.driver, "nvme");
	/* not on the driver yet: open says so */
	assert_err(pcitsm_sva_open_uio(sys, dev, &bdf, &d, why, sizeof(why)), PCITSM_E_STATE);
	assert_non_null(strstr(why, "nvme"));

	assert_ok(pcitsm_sva_uio_bind(sys, &bdf, why, sizeof(why)));
	assert_string_equal(get("bus/pci/devices/" BDF "/driver_override"), "uio_pci_sva\n");
	assert_string_equal(get("bus/pci/drivers/nvme/unbind"), BDF "\n");
	assert_string_equal(get("bus/pci/drivers/uio_pci_sva/bind"), BDF "\n");
	kernel_binds();
	assert_ok(pcitsm_sva_uio_info(sys, &bdf, &i));
	assert_true(i.on_uio_pci_sva);
	assert_int_equal(i.uio, 3);
	assert_true(i.pasid_valid);
	assert_int_equal(i.pasid, 0);
	/* binding again is a no-op */
	put("bus/pci/drivers/uio_pci_sva/bind", "");
	assert_ok(pcitsm_sva_uio_bind(sys, &bdf, why, sizeof(why)));
	assert_string_equal(get("bus/pci/drivers/uio_pci_sva/bind"), "");
}

static void test_open(void **state)
{
	static const char *const bad[] = { "0x11\n", "-1\n", "1048576\n", "017\n", "\n", "12a\n" };
	struct pcitsm_bdf bdf;
	struct pcitsm_sva_dev *d;
	volatile uint8_t *m;
	size_t size;
	char why[256];
	long pg = sysconf(_SC_PAGESIZE);
	FILE *f;
	char p[400];
	uint8_t back[4];

	(void)state;
	assert_ok(pcitsm_bdf_parse(BDF, &bdf));
	/* pasid 0: no process has bound it */
	assert_err(pcitsm_sva_open_uio(sys, dev, &bdf, &d, why, sizeof(why)), PCITSM_E_FIELD);
	for (size_t k = 0; k < PCITSM_ARRAY_SIZE(bad); k++) {
		put("bus/pci/devices/" BDF "/pasid", bad[k]);
		assert_err(pcitsm_sva_open_uio(sys, dev, &bdf, &d, why, sizeof(why)), PCITSM_E_FIELD);
	}
	/* as the kernel prints it after open(): "%d\n" */
	put("bus/pci/devices/" BDF "/pasid", "17\n");
	assert_ok(pcitsm_sva_open_uio(sys, dev, &bdf, &d, why, sizeof(why)));
	assert_int_equal(pcitsm_sva_pasid(d), 17);
	m = pcitsm_sva_map(d, 0, &size);
	assert_non_null(m);
	assert_int_equal(size, 0x1000);
	assert_null(pcitsm_sva_map(d, 1, &size)); /* the gap */
	m[0] = 0xab;
	m = pcitsm_sva_map(d, 2, &size);
	assert_non_null(m);
	m[0] = 0xcd; /* in-page offset 0x100 of page 2 */
	assert_null(pcitsm_sva_map(d, 3, &size));
	assert_ok(pcitsm_sva_close(d));
	snprintf(p, sizeof(p), "%s/uio3", dev);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, 1, f), 1);
	assert_int_equal(back[0], 0xab);
	assert_int_equal(fseek(f, 2 * pg + 0x100, SEEK_SET), 0);
	assert_int_equal(fread(back, 1, 1, f), 1);
	assert_int_equal(back[0], 0xcd);
	fclose(f);
	/* a malformed map size */
	put("class/uio/uio3/maps/map2/size", "256\n");
	assert_err(pcitsm_sva_open_uio(sys, dev, &bdf, &d, why, sizeof(why)), PCITSM_E_FIELD);
	put("class/uio/uio3/maps/map2/size", "0x100\n");
	/* no /dev/uio3 */
	assert_err(pcitsm_sva_open_uio(sys, "/nonexistent", &bdf, &d, why, sizeof(why)), PCITSM_E_IO);
}

static void test_unbind(void **state)
{
	struct pcitsm_bdf bdf;
	char why[256];

	(void)state;
	assert_ok(pcitsm_bdf_parse(BDF, &bdf));
	assert_ok(pcitsm_sva_uio_unbind(sys, &bdf, why, sizeof(why)));
	assert_string_equal(get("bus/pci/drivers/uio_pci_sva/unbind"), BDF "\n");
	assert_string_equal(get("bus/pci/devices/" BDF "/driver_override"), "\n");
	ln("../../../../bus/pci/drivers/nvme", "devices/pci0000:00/0000:00:01.0/" BDF "/driver");
	assert_err(pcitsm_sva_uio_unbind(sys, &bdf, why, sizeof(why)), PCITSM_E_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_unbind),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
