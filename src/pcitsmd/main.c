/* SPDX-License-Identifier: MIT */
/*
 * pcitsmd: the emulated Trusted-I/O platform, mirroring the Linux 6.19 PCI/TSM sysfs ABI through
 * FUSE (multi-threaded). The tree and its semantics are vfs.c; the platform is model.c; this file
 * is the FUSE adapter, start-up (ready signal, pidfile, daemon mode) and a clean unmount on
 * SIGTERM / SIGINT. docs/pcitsmd.md.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "sva.h"
#include "tap.h"
#include "vfs.h"

/* An open file's vnode. The open ones are also on a list, so that a stop with files still open
 * (a reader killed mid-read, a shell holding an attribute) frees them too. */
struct open_vn {
	struct vnode vn;
	struct open_vn *prev, *next;
};

static struct {
	pthread_mutex_t lock;
	struct open_vn head;
} opened = { PTHREAD_MUTEX_INITIALIZER, { .prev = &opened.head, .next = &opened.head } };

static struct open_vn *open_vn_new(void)
{
	struct open_vn *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	pthread_mutex_lock(&opened.lock);
	o->next = &opened.head;
	o->prev = opened.head.prev;
	o->prev->next = o;
	opened.head.prev = o;
	pthread_mutex_unlock(&opened.lock);
	return o;
}

static void open_vn_free(struct open_vn *o)
{
	pthread_mutex_lock(&opened.lock);
	o->prev->next = o->next;
	o->next->prev = o->prev;
	pthread_mutex_unlock(&opened.lock);
	free(o);
}

static void open_vn_free_all(void)
{
	while (opened.head.next != &opened.head)
		open_vn_free(opened.head.next);
}

static struct pd *ctx_pd(void)
{
	return fuse_get_context()->private_data;
}

static void fill_stat(struct pd *pd, const struct vnode *vn, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = vn->mode;
	st->st_nlink = (vn->mode & S_IFMT) == S_IFDIR ? 2 : 1;
	st->st_size = (off_t)vfs_size(pd, vn);
	st->st_blksize = 4096;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct pd *pd = ctx_pd();
	struct vnode vn;
	int rc;

	if (fi && fi->fh) {
		fill_stat(pd, (const struct vnode *)(uintptr_t)fi->fh, st);
		return 0;
	}
	rc = vfs_lookup(pd, path, &vn);
	if (rc)
		return rc;
	fill_stat(pd, &vn, st);
	return 0;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	struct vnode vn;
	int rc = vfs_lookup(ctx_pd(), path, &vn);

	if (rc)
		return rc;
	if ((vn.mode & S_IFMT) != S_IFLNK)
		return -EINVAL;
	snprintf(buf, size, "%s", vn.target);
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct pd *pd = ctx_pd();
	struct open_vn *o = open_vn_new();
	int acc = fi->flags & O_ACCMODE;
	int rc;

	if (!o)
		return -ENOMEM;
	rc = vfs_lookup(pd, path, &o->vn);
	if (!rc)
		rc = vfs_open(pd, &o->vn, acc != O_WRONLY, acc != O_RDONLY);
	if (rc) {
		open_vn_free(o);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)&o->vn; /* vn is the first member */
	/* Every read and write reaches the platform: attributes change under the reader. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->nonseekable = 0;
	return 0;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	open_vn_free((struct open_vn *)(uintptr_t)fi->fh);
	fi->fh = 0;
	return 0;
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	if (size > INT32_MAX)
		size = INT32_MAX;
	return vfs_read(ctx_pd(), (const struct vnode *)(uintptr_t)fi->fh, buf, size, off,
			(unsigned)fuse_get_context()->uid);
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	if (size > INT32_MAX)
		size = INT32_MAX;
	return vfs_write(ctx_pd(), (const struct vnode *)(uintptr_t)fi->fh, buf, size, off);
}

/* `echo x > attr` opens with O_TRUNC: sysfs ignores the truncation of a writable attribute. */
static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct vnode vn;
	int rc = vfs_lookup(ctx_pd(), path, &vn);

	if (rc)
		return rc;
	if ((vn.mode & S_IFMT) == S_IFDIR)
		return -EISDIR;
	return vn.mode & 0222 ? 0 : -EACCES;
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
	struct pd *pd;
};

static int readdir_fill(void *c, const char *name, const struct vnode *vn)
{
	struct fill_ctx *fc = c;
	struct stat st;

	fill_stat(fc->pd, vn, &st);
	return fc->filler(fc->buf, name, &st, 0, 0);
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct pd *pd = ctx_pd();
	struct fill_ctx fc = { buf, filler, pd };
	struct vnode vn;
	int rc = vfs_lookup(pd, path, &vn);

	if (rc)
		return rc;
	if ((vn.mode & S_IFMT) != S_IFDIR)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	return vfs_readdir(pd, &vn, readdir_fill, &fc);
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Nothing may be cached: the tree changes with the platform's state. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->use_ino = 0;
	return fuse_get_context()->private_data;
}

static const struct fuse_operations ops = {
	.init = op_init,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.release = op_release,
	.read = op_read,
	.write = op_write,
	.truncate = op_truncate,
	.readdir = op_readdir,
};

/* Daemon mode: the parent waits until the child reports the mount ready (then exits 0) or fails
 * (exits 1), so `pcitsmd MOUNT && ls MOUNT` works. Returns the child's end of the pipe. */
static int daemonize(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char b[8] = { 0 };
		ssize_t n;

		close(p[1]);
		n = read(p[0], b, sizeof(b) - 1);
		_exit(n > 0 && !strncmp(b, "READY", 5) ? 0 : 1);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static void signal_ready(int fd)
{
	static const char ready[] = "READY\n";

	if (fd < 0)
		return;
	if (write(fd, ready, sizeof(ready) - 1) < 0)
		fprintf(stderr, "pcitsmd: ready fd %d: %s\n", fd, strerror(errno));
	close(fd);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f);
}

int main(int argc, char **argv)
{
	static struct pd pd;
	struct pd_opts o;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse *fuse = NULL;
	struct fuse_loop_config *lc = NULL;
	struct pcitsm_sva_server *sva = NULL;
	struct pd_tap *tap = NULL;
	const char *why = NULL;
	char err[160];
	int rc, daemon_fd = -1;
	pcitsm_err e;

	rc = pd_opts_parse(&o, argc, argv, err, sizeof(err));
	if (rc > 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "pcitsmd: %s\n", err);
		pd_usage(stderr);
		return 2;
	}
	/* The daemon leaves its working directory: keep the pidfile's path absolute. */
	if (o.pidfile && o.pidfile[0] != '/') {
		static char abs_pid[4096];
		char cwd[2048];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(abs_pid, sizeof(abs_pid), "%s/%s", cwd, o.pidfile) >= sizeof(abs_pid)) {
			fprintf(stderr, "pcitsmd: --pidfile: path too long\n");
			return 2;
		}
		o.pidfile = abs_pid;
	}
	/* Fork before any thread exists (the TCP ports start later, in the daemon). */
	if (!o.foreground && (daemon_fd = daemonize()) < 0) {
		fprintf(stderr, "pcitsmd: cannot fork: %s\n", strerror(errno));
		return 1;
	}
	e = pd_open(&pd, &o, pcitsm_env_default(), &why);
	if (!e)
		e = pd_tap_start(&pd, o.tap_dir, &tap, &why);
	if (e) {
		fprintf(stderr, "pcitsmd: %s: %s (%s)\n", why, pcitsm_err_str(e), pcitsm_err_name(e));
		return 1;
	}

	fuse_opt_add_arg(&args, "pcitsmd");
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, geteuid() == 0 ? "fsname=pcitsmd,default_permissions,allow_other"
					       : "fsname=pcitsmd,default_permissions");
	if (o.debug)
		fuse_opt_add_arg(&args, "-d");
	fuse = fuse_new(&args, &ops, sizeof(ops), &pd);
	if (!fuse) {
		fprintf(stderr, "pcitsmd: fuse_new failed\n");
		rc = 1;
		goto out;
	}
	if (fuse_mount(fuse, o.mountpoint) != 0) {
		fprintf(stderr, "pcitsmd: cannot mount on %s (is /dev/fuse usable?)\n", o.mountpoint);
		fuse_destroy(fuse);
		fuse = NULL;
		rc = 1;
		goto out;
	}
	e = pd_tcp_start(&pd, &why);
	if (!e)
		e = pd_sva_start(&pd, &o, &sva, &why);
	if (e) {
		fprintf(stderr, "pcitsmd: %s: %s (%s)\n", why, pcitsm_err_str(e), pcitsm_err_name(e));
		rc = 1;
		goto unmount;
	}
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0) {
		rc = 1;
		goto unmount;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.pidfile && write_pidfile(o.pidfile) != 0)
		fprintf(stderr, "pcitsmd: cannot write %s\n", o.pidfile);
	if (o.foreground) {
		printf("pcitsmd: %s mounted (pid %ld)\n", o.mountpoint, (long)getpid());
		pd_tcp_print(&pd, stdout);
		fflush(stdout);
	}
	signal_ready(o.ready_fd);
	if (daemon_fd >= 0) {
		signal_ready(daemon_fd);
		if (chdir("/") != 0)
			fprintf(stderr, "pcitsmd: chdir /: %s\n", strerror(errno));
		detach_stdio();
	}
	lc = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(lc, 0);
	fuse_loop_cfg_set_max_threads(lc, 16);
	/* A loop ended by SIGTERM / SIGINT / SIGHUP reports the signal: that is a clean stop. */
	rc = fuse_loop_mt(fuse, lc);
	rc = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
	fuse_loop_cfg_destroy(lc);
	fuse_remove_signal_handlers(fuse_get_session(fuse));
unmount:
	fuse_unmount(fuse);
	fuse_destroy(fuse);
	fuse = NULL;
	open_vn_free_all(); /* files still open at the stop: no release will come */
	if (o.pidfile)
		unlink(o.pidfile);
out:
	fuse_opt_free_args(&args);
	pcitsm_sva_server_stop(sva);
	pd_tap_stop(&pd, tap);
	pd_close(&pd);
	return rc;
}
