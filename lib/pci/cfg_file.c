/* SPDX-License-Identifier: MIT */
/*
 * Config-space backend over sysfs: <root>/bus/pci/devices/<bdf>/config. Linux turns a pread or
 * pwrite of 1, 2 or 4 naturally aligned bytes into one config access of that width
 * (Linux drivers/pci/pci-sysfs.c, the `config` attribute); the bytes are little-endian.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcitsm/pci.h"

static struct pcitsm_cfg_file *to_file(struct pcitsm_cfg *cfg)
{
	return pcitsm_container_of(cfg, struct pcitsm_cfg_file, cfg);
}

static pcitsm_err file_read(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val)
{
	struct pcitsm_cfg_file *f = to_file(cfg);
	uint8_t b[4] = { 0 };
	ssize_t n;

	do
		n = pread(f->fd, b, width, off);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)width)
		return PCITSM_E_IO;
	*val = pcitsm_get_le32(b);
	return PCITSM_OK;
}

static pcitsm_err file_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
{
	struct pcitsm_cfg_file *f = to_file(cfg);
	uint8_t b[4];
	ssize_t n;

	pcitsm_put_le32(b, val);
	do
		n = pwrite(f->fd, b, width, off);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)width ? PCITSM_OK : PCITSM_E_IO;
}

static const struct pcitsm_cfg_ops file_ops = {
	.read = file_read,
	.write = file_write,
};

pcitsm_err pcitsm_cfg_file_open(struct pcitsm_cfg_file *f, const char *sysfs_root,
				const struct pcitsm_bdf *bdf, bool writable)
{
	char name[13], path[4096];
	struct stat st;
	int n, fd;

	if (!f || !sysfs_root || !bdf)
		return PCITSM_E_INVAL;
	f->cfg.ops = NULL;
	f->cfg.size = 0;
	f->fd = -1;
	/* The device name is formatted from the typed address, so nothing else reaches the path. */
	pcitsm_bdf_format(bdf, name);
	n = snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", sysfs_root, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return PCITSM_E_INVAL;

	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? PCITSM_E_NOTFOUND : PCITSM_E_SYSTEM;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return PCITSM_E_SYSTEM;
	}
	if (st.st_size < PCITSM_CFG_SIZE_LEGACY) {
		close(fd);
		return PCITSM_E_RANGE;
	}
	f->fd = fd;
	f->cfg.size = st.st_size >= PCITSM_CFG_SIZE_EXT ? PCITSM_CFG_SIZE_EXT
							 : PCITSM_CFG_SIZE_LEGACY;
	f->cfg.ops = &file_ops;
	return PCITSM_OK;
}

void pcitsm_cfg_file_close(struct pcitsm_cfg_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->cfg.ops = NULL;
	f->cfg.size = 0;
}
