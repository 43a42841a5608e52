/* SPDX-License-Identifier: MIT */
/*
 * The mirror's file tree, without FUSE: the sysfs paths of Linux 6.19 (bus/pci/devices, devices/
 * pciDDDD:BB, class/tsm) and the project directory pcitsm/ (docs/pcitsmd.md). A path resolves to a
 * vnode; directories list children through the same function lookups walk, so `ls` and lookups
 * always agree. Reads and writes return bytes or a negative errno, as a sysfs show/store would.
 */
#ifndef PCITSMD_VFS_H
#define PCITSMD_VFS_H

#include <sys/types.h>

#include "model.h"

enum vn_kind {
	/* Directories. */
	VD_ROOT, VD_BUS, VD_BUS_PCI, VD_BUS_PCI_DEVICES, VD_CLASS, VD_CLASS_TSM, VD_DEVICES, VD_HB,
	VD_FUNC, VD_DOE_FEATURES, VD_TSM, VD_PLATFORM, VD_PLAT_TSM, VD_PLAT_TSM_CLASS, VD_TSMDEV,
	VD_PROJ, VD_PROJ_DEVICES, VD_PROJ_DEV, VD_PROJ_EVIDENCE, VD_BUS_PCI_DRIVERS, VD_DRIVER,
	VD_PROJ_TSM,
	/* Files. */
	VF_VENDOR, VF_DEVICE, VF_CLASS, VF_REVISION, VF_SUBSYS_VENDOR, VF_SUBSYS_DEVICE, VF_IRQ,
	VF_RESOURCE, VF_CONFIG, VF_DOE_FEATURE, VF_DOE_DISCOVERY,
	VF_TSM_ATTR, VF_AVAIL, VF_UEVENT, VF_PROJ_README, VF_PROJ_PLATFORM, VF_PROJ_STATUS,
	VF_PROJ_FAULTS, VF_PROJ_REKEY, VF_PROJ_TRAFFIC, VF_EVIDENCE,
	VF_PCI_MODE, VF_DRIVER_OVERRIDE, VF_DRV_BIND, VF_DRV_UNBIND, VF_PROJ_KEY_TLPS,
	VF_PROJ_KEY_AGE, VF_SRIOV,
	/* Symbolic links. */
	VL_BUS_DEV, VL_CLASS_TSM, VL_STREAM, VL_SUBSYSTEM, VL_TSM_PARENT, VL_DRIVER, VL_DRV_DEV,
	VL_PHYSFN, VL_VIRTFN,
};

/* A PF's sriov_* attributes (Linux drivers/pci/iov.c sriov_pf_dev_attrs), VF_SRIOV's aux. */
enum vn_sriov { SRIOV_TOTALVFS, SRIOV_NUMVFS, SRIOV_OFFSET, SRIOV_STRIDE, SRIOV_VF_DEVICE,
		SRIOV_DRIVERS_AUTOPROBE, SRIOV_NR };

/* EV_REPORT..: a locked TDI's interface report, its SHA-384 digest (hex), its generation. */
enum vn_evidence { EV_CHAIN, EV_CERTS, EV_MEAS, EV_VCA, EV_NONCE, EV_REPORT, EV_REPORT_DIGEST,
		   EV_REPORT_GENERATION, EV_NR };

struct vnode {
	enum vn_kind kind;
	int func;        /* index in pd->funcs, or -1 */
	int aux;         /* DOE feature index, tsm attribute, tsm device, stream, evidence kind,
			  * sriov attribute */
	unsigned mode;   /* S_IFDIR | 0755, S_IFREG | 0644 ..., S_IFLNK | 0777 */
	char target[256]; /* symbolic link target (relative, as sysfs makes them) */
};

/* Resolve an absolute path ("/", "/bus/pci/devices/0000:01:00.0/config"). 0 or -ENOENT /
 * -ENOTDIR. Symbolic links in the middle of a path are not followed here (the kernel follows
 * them before asking). */
int vfs_lookup(struct pd *pd, const char *path, struct vnode *vn);
/* List a directory: fill(ctx, name, vnode) for each child; a non-zero return from fill stops. */
typedef int (*vfs_fill_fn)(void *ctx, const char *name, const struct vnode *vn);
int vfs_readdir(struct pd *pd, const struct vnode *dir, vfs_fill_fn fill, void *ctx);
/* The size stat reports: 4096 for attributes (as sysfs), the config space size for config. */
size_t vfs_size(struct pd *pd, const struct vnode *vn);
/* Open checks as kernfs makes them: reading a file with no show (-EACCES), writing a file with no
 * store (-EACCES). */
int vfs_open(struct pd *pd, const struct vnode *vn, bool rd, bool wr);
/* Read / write at off; return the byte count or -errno. uid: the caller's (config space beyond 64
 * bytes is root's, as in Linux). A write to an attribute (not config) hands its first 4096 bytes
 * to the store and returns what the store consumed, as kernfs does (a longer write(2) is short);
 * an empty write returns 0 without calling the store (sysfs_kf_write). */
int vfs_read(struct pd *pd, const struct vnode *vn, char *buf, size_t size, off_t off, unsigned uid);
int vfs_write(struct pd *pd, const struct vnode *vn, const char *buf, size_t size, off_t off);

/* Project-directory write formats, exposed for the unit tests. traffic: "N [SIZE] [tee]" (N
 * 1..10^7 operations, SIZE 4..4096 bytes, a multiple of 4, default 256; "tee": the function's
 * DMA with T=1 into private memory, pcitsm_tsm_traffic_tee). */
int vfs_parse_traffic(const char *buf, size_t len, uint64_t *n_ops, size_t *size, bool *tee);
/* evidence/nonce: 64 hexadecimal digits, one trailing newline allowed (the verifier's 32-byte
 * nonce, docs/pcitsmd.md): -EINVAL otherwise. */
int vfs_parse_nonce(const char *buf, size_t len, uint8_t nonce[PCITSM_TSM_NONCE_LEN]);
/* A store of one decimal (one trailing newline allowed, as kstrtou64): -EINVAL, -ERANGE. */
int vfs_parse_u64(const char *buf, size_t len, uint64_t *v);

#endif
