/* SPDX-License-Identifier: MIT */
/*
 * The real backend: Linux 6.19's uio_pci_sva driver (drivers/uio/uio_pci_generic_sva.c) and the
 * UIO core, found the way the kernel lays them out in sysfs (docs/sva.md, "On a real host"):
 *   bus/pci/devices/<BDF>/driver             -> .../drivers/uio_pci_sva
 *   bus/pci/devices/<BDF>/driver_override    "uio_pci_sva" (the driver has no id_table)
 *   bus/pci/devices/<BDF>/uio/uioN/          the UIO class device
 *   bus/pci/drivers/uio_pci_sva/<BDF>/pasid  "%d\n", the PASID of the last open()
 *   class/uio/uioN/maps/mapM/{addr,size,offset,name}   map M = memory BAR M, mmap offset M pages
 *   /dev/uioN                                 open() binds current->mm (EINVAL on any failure)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sva/sva_priv.h"

#define UIO_DRIVER "uio_pci_sva"

static bool pathf(char *buf, size_t len, const char *fmt, ...) PCITSM_PRINTF(3, 4);
static bool pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len;
}

/* A small attribute, trailing newline removed. 0 or -errno. */
static int attr_read(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	out[0] = '\0'; /* an empty string on every failed path */
	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return 0;
}

/* One write(2) of "value\n", as `echo value > path`. 0 or -errno. */
static int attr_write(const char *path, const char *value)
{
	char buf[128];
	int fd, n = snprintf(buf, sizeof(buf), "%s\n", value);
	ssize_t w;

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as `echo v > path` */
	if (fd < 0)
		return -errno;
	w = write(fd, buf, (size_t)n);
	n = w == (ssize_t)strlen(buf) ? 0 : w < 0 ? -errno : -EIO;
	close(fd);
	return n;
}

/* A number that fills the whole string: base 10 ("%d", the pasid attribute) or 16 ("0x%llx",
 * the UIO map attributes, prefix required). */
static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (base == 16) {
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
			return false;
		s += 2;
	}
	if (*s < '0' || *s > (base == 10 ? '9' : 'f') || (base == 10 && s[0] == '0' && s[1]))
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

pcitsm_err pcitsm_sva_uio_info(const char *sysfs_root, const struct pcitsm_bdf *bdf,
			       struct pcitsm_sva_uio_info *out)
{
	char name[13], path[PATH_MAX], link[PATH_MAX], val[32];
	struct pcitsm_sva_uio_info i = { .uio = -1 };
	const char *base;
	struct dirent *de;
	uint64_t v;
	ssize_t n;
	DIR *dir;

	pcitsm_bdf_format(bdf, name);
	if (!pathf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs_root, name))
		return PCITSM_E_INVAL;
	if (access(path, F_OK) != 0)
		return PCITSM_E_NOTFOUND;
	if (!pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs_root, name))
		return PCITSM_E_INVAL;
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		base = strrchr(link, '/');
		base = base ? base + 1 : link;
		if (strlen(base) < sizeof(i.driver))
			memcpy(i.driver, base, strlen(base) + 1);
	}
	i.on_uio_pci_sva = strcmp(i.driver, UIO_DRIVER) == 0;
	if (i.on_uio_pci_sva &&
	    pathf(path, sizeof(path), "%s/bus/pci/devices/%s/uio", sysfs_root, name) &&
	    (dir = opendir(path))) {
		while ((de = readdir(dir)))
			if (!strncmp(de->d_name, "uio", 3) && parse_u64(de->d_name + 3, 10, INT_MAX, &v)) {
				i.uio = (int)v;
				break;
			}
		closedir(dir);
	}
	if (i.on_uio_pci_sva &&
	    pathf(path, sizeof(path), "%s/bus/pci/drivers/" UIO_DRIVER "/%s/pasid", sysfs_root, name) &&
	    attr_read(path, val, sizeof(val)) == 0 && parse_u64(val, 10, PCITSM_SVA_PASID_MAX, &v)) {
		i.pasid = (uint32_t)v;
		i.pasid_valid = true;
	}
	*out = i;
	return PCITSM_OK;
}

/* The function's name and its uio_pci_sva state, or why there is none. */
static pcitsm_err fn_info(const char *sysfs_root, const struct pcitsm_bdf *bdf, char name[13],
			  struct pcitsm_sva_uio_info *i, char *why, size_t whylen)
{
	pcitsm_err e;

	pcitsm_bdf_format(bdf, name);
	e = pcitsm_sva_uio_info(sysfs_root, bdf, i);
	if (e)
		pcitsm_why(why, whylen, "no function %s under %s", name, sysfs_root);
	return e;
}

pcitsm_err pcitsm_sva_uio_bind(const char *sysfs_root, const struct pcitsm_bdf *bdf, char *why,
			       size_t whylen)
{
	char name[13], path[PATH_MAX];
	struct pcitsm_sva_uio_info i;
	int rc;

	PCITSM_TRY(fn_info(sysfs_root, bdf, name, &i, why, whylen));
	if (i.on_uio_pci_sva)
		return PCITSM_OK;
	if (!pathf(path, sizeof(path), "%s/bus/pci/drivers/" UIO_DRIVER, sysfs_root))
		return PCITSM_E_INVAL;
	if (access(path, F_OK) != 0) {
		pcitsm_why(why, whylen, "driver " UIO_DRIVER " not loaded (modprobe uio_pci_generic_sva)");
		return PCITSM_E_NOTFOUND;
	}
	/* 1. driver_override: the driver matches no ID on its own. */
	if (!pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", sysfs_root, name))
		return PCITSM_E_INVAL;
	rc = attr_write(path, UIO_DRIVER);
	if (rc) {
		pcitsm_why(why, whylen, "%s: %s", path, strerror(-rc));
		return PCITSM_E_IO;
	}
	/* 2. let go of the current driver */
	if (i.driver[0]) {
		if (!pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver/unbind", sysfs_root,
			   name))
			return PCITSM_E_INVAL;
		rc = attr_write(path, name);
		if (rc) {
			pcitsm_why(why, whylen, "unbind from %s: %s", i.driver, strerror(-rc));
			return PCITSM_E_IO;
		}
	}
	/* 3. bind */
	if (!pathf(path, sizeof(path), "%s/bus/pci/drivers/" UIO_DRIVER "/bind", sysfs_root))
		return PCITSM_E_INVAL;
	rc = attr_write(path, name);
	if (rc) {
		pcitsm_why(why, whylen, "bind to " UIO_DRIVER ": %s", strerror(-rc));
		return PCITSM_E_IO;
	}
	return PCITSM_OK;
}

pcitsm_err pcitsm_sva_uio_unbind(const char *sysfs_root, const struct pcitsm_bdf *bdf, char *why,
				 size_t whylen)
{
	char name[13], path[PATH_MAX];
	struct pcitsm_sva_uio_info i;
	int rc;

	PCITSM_TRY(fn_info(sysfs_root, bdf, name, &i, why, whylen));
	if (!i.on_uio_pci_sva) {
		pcitsm_why(why, whylen, "%s is not bound to " UIO_DRIVER, name);
		return PCITSM_E_STATE;
	}
	if (!pathf(path, sizeof(path), "%s/bus/pci/drivers/" UIO_DRIVER "/unbind", sysfs_root))
		return PCITSM_E_INVAL;
	rc = attr_write(path, name);
	if (!rc && pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", sysfs_root,
			 name))
		rc = attr_write(path, "");
	if (rc) {
		pcitsm_why(why, whylen, "%s: %s", path, strerror(-rc));
		return PCITSM_E_IO;
	}
	return PCITSM_OK;
}

static pcitsm_err uio_close(struct pcitsm_sva_dev *d)
{
	(void)d; /* release() unbinds; the caller has stopped the device (pcitsm_sva_ring_fini) */
	return PCITSM_OK;
}

static const struct sva_backend_ops uio_ops = { .close = uio_close };

/* Map M of uioN: size and in-page offset from class/uio/uioN/maps/mapM, mmap at M pages. */
static pcitsm_err map_one(const char *sysfs_root, struct pcitsm_sva_dev *d, int uio, unsigned m,
			  char *why, size_t whylen)
{
	char path[PATH_MAX], val[32];
	uint64_t size, off;
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	if (!pathf(path, sizeof(path), "%s/class/uio/uio%d/maps/map%u/size", sysfs_root, uio, m))
		return PCITSM_E_INVAL;
	if (attr_read(path, val, sizeof(val)) != 0)
		return PCITSM_E_NOTFOUND;
	if (!parse_u64(val, 16, 1ull << 40, &size) || size == 0) {
		pcitsm_why(why, whylen, "%s: bad size \"%s\"", path, val);
		return PCITSM_E_FIELD;
	}
	if (!pathf(path, sizeof(path), "%s/class/uio/uio%d/maps/map%u/offset", sysfs_root, uio, m))
		return PCITSM_E_INVAL;
	if (attr_read(path, val, sizeof(val)) != 0 || !parse_u64(val, 16, (uint64_t)pg - 1, &off)) {
		pcitsm_why(why, whylen, "%s: missing or bad", path);
		return PCITSM_E_FIELD;
	}
	p = mmap(NULL, (size_t)(size + off), PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		 (off_t)m * pg);
	if (p == MAP_FAILED) {
		pcitsm_why(why, whylen, "mmap of map%u: %s", m, strerror(errno));
		return PCITSM_E_SYSTEM;
	}
	d->maps[m] = (struct sva_map){ (uint8_t *)p + off, (size_t)(size + off) };
	return PCITSM_OK;
}

pcitsm_err pcitsm_sva_open_uio(const char *sysfs_root, const char *dev_root,
			       const struct pcitsm_bdf *bdf, struct pcitsm_sva_dev **out, char *why,
			       size_t whylen)
{
	char name[13], path[PATH_MAX];
	struct pcitsm_sva_uio_info i;
	struct pcitsm_sva_dev *d;
	pcitsm_err e;

	pcitsm_bdf_format(bdf, name);
	e = pcitsm_sva_uio_info(sysfs_root, bdf, &i);
	if (e) {
		pcitsm_why(why, whylen, "no function %s under %s", name, sysfs_root);
		return e;
	}
	if (!i.on_uio_pci_sva) {
		pcitsm_why(why, whylen, "%s is on %s, not " UIO_DRIVER " (pcitsm sva bind %s)", name,
		    i.driver[0] ? i.driver : "no driver", name);
		return PCITSM_E_STATE;
	}
	if (i.uio < 0) {
		pcitsm_why(why, whylen, "%s has no UIO device", name);
		return PCITSM_E_NOTFOUND;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return PCITSM_E_NOMEM;
	d->ops = &uio_ops;
	if (!pathf(path, sizeof(path), "%s/uio%d", dev_root, i.uio)) {
		free(d);
		return PCITSM_E_INVAL;
	}
	/* open() is the bind: iommu_sva_bind_device(dev, current->mm). */
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		e = errno == EINVAL ? PCITSM_E_INVAL : PCITSM_E_IO;
		pcitsm_why(why, whylen, "%s: %s%s", path, strerror(errno),
		    errno == EINVAL ? " (the IOMMU refused to bind this process: no PASID/PRI "
				      "support, SVA not enabled, or PASIDs exhausted)"
				    : "");
		free(d);
		return e;
	}
	/* The PASID of this open (read after it, as the ABI file documents). */
	e = pcitsm_sva_uio_info(sysfs_root, bdf, &i);
	if (!e && (!i.pasid_valid || i.pasid == 0))
		e = PCITSM_E_FIELD;
	if (e) {
		pcitsm_why(why, whylen, "%s: pasid attribute missing or not a bound PASID", name);
		goto fail;
	}
	d->pasid = i.pasid;
	for (unsigned m = 0; m < SVA_MAX_MAPS; m++) {
		e = map_one(sysfs_root, d, i.uio, m, why, whylen);
		if (e == PCITSM_E_NOTFOUND) /* gaps: 64-bit and prefetchable BARs are not mapped */
			continue;
		if (e)
			goto fail;
		d->nr_maps = m + 1;
	}
	*out = d;
	return PCITSM_OK;
fail:
	(void)pcitsm_sva_close(d);
	return e;
}
