/* SPDX-License-Identifier: MIT */
/* pci: accessor checks, the emulated register file, the sysfs config-file backend, BDF strings. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "pcitsm/pci.h"

static void accessor_checks(void **state)
{
	struct pcitsm_cfg_emu emu;
	uint32_t v;
	uint16_t v16;
	uint8_t v8;

	pcitsm_cfg_emu_init(&emu, PCITSM_CFG_SIZE_LEGACY);
	assert_int_equal(emu.cfg.size, 256);
	/* Width. */
	assert_err(pcitsm_cfg_read(&emu.cfg, 0, 3, &v), PCITSM_E_INVAL);
	assert_err(pcitsm_cfg_write(&emu.cfg, 0, 8, 0), PCITSM_E_INVAL);
	/* Natural alignment. */
	assert_err(pcitsm_cfg_read32(&emu.cfg, 2, &v), PCITSM_E_INVAL);
	assert_err(pcitsm_cfg_read16(&emu.cfg, 1, &v16), PCITSM_E_INVAL);
	assert_err(pcitsm_cfg_write16(&emu.cfg, 3, 0), PCITSM_E_INVAL);
	/* Bounds. */
	assert_err(pcitsm_cfg_read32(&emu.cfg, 256, &v), PCITSM_E_RANGE);
	assert_err(pcitsm_cfg_read8(&emu.cfg, 0x100, &v8), PCITSM_E_RANGE);
	assert_err(pcitsm_cfg_write32(&emu.cfg, 0xfffffffcu, 0), PCITSM_E_RANGE);
	assert_ok(pcitsm_cfg_read32(&emu.cfg, 252, &v));
	assert_ok(pcitsm_cfg_read8(&emu.cfg, 255, &v8));
	/* A value wider than the access is caller misuse. */
	assert_err(pcitsm_cfg_write(&emu.cfg, 0, 1, 0x100), PCITSM_E_INVAL);
	/* No backend. */
	assert_err(pcitsm_cfg_read32(NULL, 0, &v), PCITSM_E_INVAL);
}

static void emu_masks(void **state)
{
	struct pcitsm_cfg_emu emu;
	uint16_t w16;
	uint32_t v;

	pcitsm_cfg_emu_init(&emu, PCITSM_CFG_SIZE_EXT);
	pcitsm_cfg_emu_poke(&emu, 0x40, 4, 0xf0f0f0f0u);
	/* bits 7:0 RW, bits 15:8 RW1C, rest RO. */
	pcitsm_cfg_emu_mask(&emu, 0x40, 4, 0x000000ffu, 0x0000ff00u);
	assert_ok(pcitsm_cfg_write32(&emu.cfg, 0x40, 0x0f0f3c0fu));
	assert_ok(pcitsm_cfg_read32(&emu.cfg, 0x40, &v));
	/* RW byte = 0x0f, RW1C byte 0xf0 & ~0x3c = 0xc0, RO bytes unchanged. */
	assert_int_equal(v, 0xf0f0c00fu);
	/* Byte and word accesses hit the same bytes. */
	assert_ok(pcitsm_cfg_write8(&emu.cfg, 0x40, 0xaa));
	assert_ok(pcitsm_cfg_read16(&emu.cfg, 0x40, &w16));
	assert_int_equal(w16, 0xc0aa);
	assert_int_equal(pcitsm_cfg_emu_peek(&emu, 0x40, 2), 0xc0aa);
	/* Unmasked registers are read-only; poke bypasses. */
	assert_ok(pcitsm_cfg_write32(&emu.cfg, 0x80, 0x12345678));
	assert_int_equal(pcitsm_cfg_emu_peek(&emu, 0x80, 4), 0);
	pcitsm_cfg_emu_poke(&emu, 0x80, 4, 0x12345678);
	assert_ok(pcitsm_cfg_read32(&emu.cfg, 0x80, &v));
	assert_int_equal(v, 0x12345678);
	/* Peek/poke stay inside size. */
	pcitsm_cfg_emu_poke(&emu, 0xffe, 4, 0xdeadbeef);
	assert_int_equal(pcitsm_cfg_emu_peek(&emu, 0xffe, 4), 0xbeef);
}

struct hook_log {
	unsigned reads, writes;
	uint32_t last_off, last_val;
	unsigned last_width;
};

static pcitsm_err log_read(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off, unsigned width,
			   uint32_t *val)
{
	struct hook_log *l = arg;

	l->reads++;
	l->last_off = off;
	l->last_width = width;
	*val = 0xa5a5a5a5u & ((width == 4) ? 0xffffffffu : ((1u << (8 * width)) - 1));
	return PCITSM_OK;
}

static pcitsm_err log_write(struct pcitsm_cfg_emu *emu, void *arg, uint32_t off, unsigned width,
			    uint32_t val)
{
	struct hook_log *l = arg;

	l->writes++;
	l->last_off = off;
	l->last_val = val;
	l->last_width = width;
	return PCITSM_OK;
}

static void emu_hooks(void **state)
{
	struct pcitsm_cfg_emu emu;
	struct hook_log log = { 0 };
	struct pcitsm_cfg_hook h = { .off = 0x200, .len = 8, .read = log_read, .write = log_write,
				     .arg = &log };
	struct pcitsm_cfg_hook bad;
	uint32_t v;

	pcitsm_cfg_emu_init(&emu, PCITSM_CFG_SIZE_EXT);
	assert_ok(pcitsm_cfg_emu_add_hook(&emu, &h));
	assert_ok(pcitsm_cfg_read32(&emu.cfg, 0x204, &v));
	assert_int_equal(v, 0xa5a5a5a5u);
	assert_int_equal(log.reads, 1);
	assert_ok(pcitsm_cfg_write16(&emu.cfg, 0x206, 0x1234));
	assert_int_equal(log.writes, 1);
	assert_int_equal(log.last_off, 0x206);
	assert_int_equal(log.last_width, 2);
	assert_int_equal(log.last_val, 0x1234);
	/* Outside the range: the plain register file. */
	assert_ok(pcitsm_cfg_read32(&emu.cfg, 0x208, &v));
	assert_int_equal(log.reads, 1);

	/* Registration checks. */
	bad = h;
	assert_err(pcitsm_cfg_emu_add_hook(&emu, &bad), PCITSM_E_EXISTS);
	bad.off = 0x1fc;
	assert_err(pcitsm_cfg_emu_add_hook(&emu, &bad), PCITSM_E_EXISTS);
	bad.off = 0x302;
	assert_err(pcitsm_cfg_emu_add_hook(&emu, &bad), PCITSM_E_INVAL);
	bad.off = 0x300;
	bad.len = 0;
	assert_err(pcitsm_cfg_emu_add_hook(&emu, &bad), PCITSM_E_INVAL);
	bad.off = 0xffc;
	bad.len = 8;
	assert_err(pcitsm_cfg_emu_add_hook(&emu, &bad), PCITSM_E_INVAL);
	for (unsigned i = 1; i < PCITSM_CFG_EMU_MAX_HOOKS; i++) {
		bad.off = 0x400 + 4 * i;
		bad.len = 4;
		assert_ok(pcitsm_cfg_emu_add_hook(&emu, &bad));
	}
	bad.off = 0x800;
	assert_err(pcitsm_cfg_emu_add_hook(&emu, &bad), PCITSM_E_EXHAUSTED);
}

/* A fake sysfs tree in a temp directory. */
static char *make_tree(const char *bdf, const uint8_t *cfg, size_t len)
{
	char tmpl[] = "/tmp/pcitsm-sysfs-XXXXXX", path[512];
	char *root = mkdtemp(tmpl) ? strdup(tmpl) : NULL;
	static const char *const dirs[] = { "bus", "bus/pci", "bus/pci/devices" };
	FILE *f;

	assert_non_null(root);
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, bdf);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", root, bdf);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(cfg, 1, len, f), len);
	fclose(f);
	return root;
}

static void rm_tree(char *root, const char *bdf)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", root, bdf);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, bdf);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bus/pci", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bus", root);
	rmdir(path);
	rmdir(root);
	free(root);
}

/* An address the way the CLI hands it to the library: parsed once, where it enters. The result
 * stays valid for the next few calls (the tests use one at a time). */
static const struct pcitsm_bdf *addr(const char *s)
{
	static struct pcitsm_bdf slots[4];
	static unsigned next;
	struct pcitsm_bdf *b = &slots[next++ % PCITSM_ARRAY_SIZE(slots)];

	assert_ok(pcitsm_bdf_parse(s, b));
	return b;
}

static void file_backend(void **state)
{
	static uint8_t img[PCITSM_CFG_SIZE_EXT];
	struct pcitsm_cfg_file f;
	char *root;
	uint32_t v;
	uint16_t v16;
	uint8_t v8;

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)i;
	root = make_tree("0000:01:00.0", img, sizeof(img));
	assert_ok(pcitsm_cfg_file_open(&f, root, addr("0000:01:00.0"), true));
	assert_int_equal(f.cfg.size, 4096);
	assert_ok(pcitsm_cfg_read32(&f.cfg, 0x104, &v));
	assert_int_equal(v, 0x07060504u);
	assert_ok(pcitsm_cfg_read16(&f.cfg, 0x2, &v16));
	assert_int_equal(v16, 0x0302);
	assert_ok(pcitsm_cfg_read8(&f.cfg, 0xff, &v8));
	assert_int_equal(v8, 0xff);
	/* Little-endian write of exactly 4 bytes. */
	assert_ok(pcitsm_cfg_write32(&f.cfg, 0x200, 0xdeadbeef));
	assert_ok(pcitsm_cfg_read8(&f.cfg, 0x200, &v8));
	assert_int_equal(v8, 0xef);
	assert_ok(pcitsm_cfg_read8(&f.cfg, 0x204, &v8));
	assert_int_equal(v8, 0x04);
	assert_err(pcitsm_cfg_read32(&f.cfg, 0x1002, &v), PCITSM_E_INVAL);
	assert_err(pcitsm_cfg_read32(&f.cfg, 0x1000, &v), PCITSM_E_RANGE);
	pcitsm_cfg_file_close(&f);
	assert_err(pcitsm_cfg_read32(&f.cfg, 0, &v), PCITSM_E_INVAL);

	/* Uppercase is the same device; a read-only open refuses writes with E_IO. */
	assert_ok(pcitsm_cfg_file_open(&f, root, addr("0000:01:00.0"), false));
	assert_err(pcitsm_cfg_write32(&f.cfg, 0x200, 0), PCITSM_E_IO);
	pcitsm_cfg_file_close(&f);

	/* Missing device, malformed name. */
	assert_err(pcitsm_cfg_file_open(&f, root, addr("0000:02:00.0"), false), PCITSM_E_NOTFOUND);
	assert_err(pcitsm_bdf_parse("../../etc/pa", &(struct pcitsm_bdf){ 0 }), PCITSM_E_INVAL);
	assert_err(pcitsm_cfg_file_open(&f, root, NULL, false), PCITSM_E_INVAL);
	assert_err(pcitsm_cfg_file_open(&f, "/nonexistent-root", addr("0000:01:00.0"), false),
		   PCITSM_E_NOTFOUND);
	rm_tree(root, "0000:01:00.0");

	/* 256-byte file: legacy size; a truncated file is E_RANGE. */
	root = make_tree("0000:3b:1f.7", img, 256);
	assert_ok(pcitsm_cfg_file_open(&f, root, addr("0000:3B:1F.7"), false));
	assert_int_equal(f.cfg.size, 256);
	assert_err(pcitsm_cfg_read32(&f.cfg, 0x100, &v), PCITSM_E_RANGE);
	pcitsm_cfg_file_close(&f);
	rm_tree(root, "0000:3b:1f.7");
	root = make_tree("0000:00:00.0", img, 64);
	assert_err(pcitsm_cfg_file_open(&f, root, addr("0000:00:00.0"), false), PCITSM_E_RANGE);
	rm_tree(root, "0000:00:00.0");
}

static void file_backend_short_read(void **state)
{
	static uint8_t img[PCITSM_CFG_SIZE_EXT];
	struct pcitsm_cfg_file f;
	char *root = make_tree("0000:01:00.0", img, sizeof(img)), path[512];
	uint32_t v;

	assert_ok(pcitsm_cfg_file_open(&f, root, addr("0000:01:00.0"), false));
	/* The file shrinks under us (device removed): a short pread is E_IO, not garbage. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:01:00.0/config", root);
	assert_int_equal(truncate(path, 16), 0);
	assert_err(pcitsm_cfg_read32(&f.cfg, 0x100, &v), PCITSM_E_IO);
	assert_int_equal(v, 0);
	pcitsm_cfg_file_close(&f);
	rm_tree(root, "0000:01:00.0");
}

static void bdf_strings(void **state)
{
	static const char *const bad[] = {
		"", "0000:01:00", "0000:01:00.", "0000:01:00.8", "0000:01:20.0", "000:01:00.0",
		"0000:01:00.0 ", " 0000:01:00.0", "0000-01:00.0", "0000:01-00.0", "0000:01:00-0",
		"g000:01:00.0", "0000:0x:00.0", "00000:01:00.0", "0000:01:00.00", "+000:01:00.0",
	};
	struct pcitsm_bdf b;
	char out[13];

	assert_ok(pcitsm_bdf_parse("0000:01:00.0", &b));
	assert_int_equal(b.seg, 0);
	assert_int_equal(b.bus, 1);
	assert_int_equal(b.dev, 0);
	assert_int_equal(b.fn, 0);
	assert_ok(pcitsm_bdf_parse("ABCD:fe:1F.7", &b));
	assert_int_equal(b.seg, 0xabcd);
	assert_int_equal(b.bus, 0xfe);
	assert_int_equal(b.dev, 0x1f);
	assert_int_equal(b.fn, 7);
	assert_int_equal(pcitsm_bdf_rid(&b), 0xfeff);
	pcitsm_bdf_format(&b, out);
	assert_string_equal(out, "abcd:fe:1f.7");
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++)
		assert_err(pcitsm_bdf_parse(bad[i], &b), PCITSM_E_INVAL);
	assert_err(pcitsm_bdf_parse(NULL, &b), PCITSM_E_INVAL);
}

/* The reason given to a user names the input and what is wrong with it, and is cut, not
 * overflowed, when the input is long; a good address leaves it empty. */
static void bdf_reasons(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "01:00.0", "'01:00.0' is not a PCI address: expected DDDD:BB:DD.F" },
		{ "0000:0g:00.0", "'0000:0g:00.0' is not a PCI address: the fields are hexadecimal" },
		{ "0000:01:20.0", "'0000:01:20.0' is not a PCI address: device 20 is above 1f" },
		{ "0000:01:1f.8", "'0000:01:1f.8' is not a PCI address: function 8 is above 7" },
		{ NULL, "'' is not a PCI address: none given" },
	};
	char why[160], tiny[8], long_in[300];
	struct pcitsm_bdf b;

	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(cases); i++) {
		assert_err(pcitsm_bdf_parse_why(cases[i].in, &b, why, sizeof(why)), PCITSM_E_INVAL);
		assert_memory_equal(why, cases[i].why, strlen(cases[i].why));
	}
	/* A long input is echoed cut to 40 characters and marked. */
	memset(long_in, 'a', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	assert_err(pcitsm_bdf_parse_why(long_in, &b, why, sizeof(why)), PCITSM_E_INVAL);
	assert_non_null(strstr(why, "aaaa...' is not a PCI address"));
	assert_int_equal(strspn(why + 1, "a"), 40);
	/* A small buffer holds what fits, terminated; none at all is fine. */
	assert_err(pcitsm_bdf_parse_why("0000:01:20.0", &b, tiny, sizeof(tiny)), PCITSM_E_INVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_err(pcitsm_bdf_parse_why("0000:01:20.0", &b, NULL, 0), PCITSM_E_INVAL);
	assert_err(pcitsm_bdf_parse_why("0000:01:00.0", NULL, why, sizeof(why)), PCITSM_E_INVAL);
	/* Good: the typed value, no reason. */
	strcpy(why, "stale");
	assert_ok(pcitsm_bdf_parse_why("0000:3B:1F.7", &b, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_int_equal(b.bus, 0x3b);
	assert_int_equal(b.dev, 0x1f);
	assert_int_equal(b.fn, 7);
}

int main(void)
{
	return test_run(accessor_checks, emu_masks, emu_hooks, file_backend,
		        file_backend_short_read, bdf_strings, bdf_reasons);
}
