/* SPDX-License-Identifier: MIT */
/* The sysfs root of the TSM commands, and the embedded pcitsmd (sysroot.h). */
#include <dirent.h>
#include <getopt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sysroot.h"

#define READY_TIMEOUT_MS 30000 /* identity generation for every endpoint happens first */

double cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void cli_progress_init(struct cli_progress *p, size_t total, bool json)
{
	p->total = total;
	p->on = !json && total > 1 && isatty(STDERR_FILENO);
}

void cli_progress_show(struct cli_progress *p, size_t done, const char *verb,
		       const struct pcitsm_bdf *bdf)
{
	if (!p->on)
		return;
	/* Carriage return and erase-line (ECMA-48 EL): the line is redrawn, never scrolled. */
	fprintf(stderr, "\r\033[K[%*zu/%zu] %s %s", p->total > 99 ? 3 : 2, done, p->total, verb,
		cli_bdf_name(bdf).s);
	fflush(stderr);
}

void cli_progress_clear(struct cli_progress *p)
{
	if (!p->on)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

bool cli_bdf_arg(const char *cmd, const char *arg, struct pcitsm_bdf *out)
{
	char why[192];

	if (pcitsm_bdf_parse_why(arg, out, why, sizeof(why)) == PCITSM_OK)
		return true;
	fprintf(stderr, "pcitsm: %s: %s\n", cmd, why);
	return false;
}

int cli_bdf_operand(const char *cmd, int argc, char **argv, int at, struct pcitsm_bdf *out)
{
	if (at != argc - 1)
		return cli_usage(cmd);
	return cli_bdf_arg(cmd, argv[at], out) ? 0 : CLI_EXIT_USAGE;
}

int cli_dev_args_parse(const char *cmd, bool json_ok, int argc, char **argv,
		       struct cli_dev_args *a)
{
	static const struct option opts[] = {
		CLI_OPT_FLAG("all", 'a'), CLI_OPT_ARG("sysfs", 's'), CLI_OPT_ARG("tsm", 't'),
		CLI_OPT_FLAG("json", 'j'),
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			a->all = true;
		else if (c == 's')
			a->sysfs = optarg;
		else if (c == 't')
			a->tsm = optarg;
		else if (c == 'j' && json_ok)
			a->json = true;
		else
			return cli_usage(cmd);
	}
	if (a->all)
		return optind == argc ? 0 : cli_usage(cmd);
	return cli_bdf_operand(cmd, argc, argv, optind, &a->bdf);
}

int cli_project_open(struct cli_sysroot *r, const char *sysfs, const char *cmd,
		     const char *kernel_lacks)
{
	if (!cli_sysroot_open(r, sysfs))
		return CLI_EXIT_FAIL;
	if (cli_has_project(r))
		return 0;
	cli_failf("%s: %s has no pcitsm/ project directory: %s; %s needs the emulated platform "
		  "(pcitsmd, or no --sysfs on a machine without a TSM)", cmd, r->root, kernel_lacks,
		  cmd);
	cli_sysroot_close(r);
	return CLI_EXIT_FAIL;
}

struct cli_bdf_name cli_bdf_name(const struct pcitsm_bdf *bdf)
{
	struct cli_bdf_name n;

	pcitsm_bdf_format(bdf, n.s);
	return n;
}

static bool kernel_has_tsm(void)
{
	DIR *d = opendir("/sys/class/tsm");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d)))
		found = !strncmp(e->d_name, "tsm", 3);
	if (d)
		closedir(d);
	return found;
}

/* pcitsmd beside this executable (the build directory, or the same bin/), else from PATH. */
static void find_daemon(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(buf, len, "pcitsmd");
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(buf, len, "%s/pcitsmd", self) < len &&
			    access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "pcitsmd");
}

/* Interrupted (Ctrl-C, SIGTERM) while the embedded daemon runs: stop it and remove its mount point
 * before dying, with async-signal-safe calls only. The one piece of process state the CLI keeps
 * for this: a signal handler has nowhere else to find it. */
static volatile sig_atomic_t embedded_pid;
static char embedded_dir[sizeof(((struct cli_sysroot *)0)->root)];

static void embedded_signal(int sig)
{
	pid_t pid = (pid_t)embedded_pid;

	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		if (rmdir(embedded_dir) != 0) {
			/* A system call: safe here, though POSIX does not list Linux's own. */
			/* NOLINTNEXTLINE(bugprone-signal-handler,cert-sig30-c) */
			umount2(embedded_dir, MNT_DETACH);
			rmdir(embedded_dir);
		}
	}
	_exit(128 + sig);
}

/* tap_dir: pcitsmd --tap (NULL: none). */
static bool start_embedded(struct cli_sysroot *r, const char *tap_dir)
{
	char daemon[PATH_MAX], fdarg[16], ready[8] = { 0 };
	const char *tmp = getenv("TMPDIR");
	int p[2];
	pid_t pid;
	struct pollfd pfd;
	ssize_t n = 0;

	/* A private mount namespace keeps the mount out of everyone else's sight and makes it go
	 * away with us; without the privilege, a temporary directory removed afterwards. */
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		r->private_ns = true;
	snprintf(r->root, sizeof(r->root), "%s/pcitsm-sysfs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r->root)) {
		fprintf(stderr, "pcitsm: cannot create a mount point: %s\n", strerror(errno));
		return false;
	}
	find_daemon(daemon, sizeof(daemon));
	if (pipe2(p, O_CLOEXEC) != 0) {
		rmdir(r->root);
		return false;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		rmdir(r->root);
		return false;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		fcntl(p[1], F_SETFD, 0);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
		if (tap_dir)
			execlp(daemon, daemon, "--foreground", "--ready-fd", fdarg, "--tap", tap_dir,
			       r->root, (char *)NULL);
		else
			execlp(daemon, daemon, "--foreground", "--ready-fd", fdarg, r->root,
			       (char *)NULL);
		fprintf(stderr, "pcitsm: cannot run %s: %s\n", daemon, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (poll(&pfd, 1, READY_TIMEOUT_MS) == 1)
		n = read(p[0], ready, sizeof(ready) - 1);
	close(p[0]);
	r->pid = pid;
	r->embedded = true;
	memcpy(embedded_dir, r->root, sizeof(embedded_dir));
	embedded_pid = pid;
	signal(SIGINT, embedded_signal);
	signal(SIGTERM, embedded_signal);
	signal(SIGHUP, embedded_signal);
	if (n <= 0 || strncmp(ready, "READY", 5) != 0) {
		fprintf(stderr, "pcitsm: the embedded emulated platform (pcitsmd) did not start\n");
		cli_sysroot_close(r);
		return false;
	}
	return true;
}

bool cli_sysroot_open(struct cli_sysroot *r, const char *sysfs_opt)
{
	const char *env = getenv("PCITSM_SYSFS");

	memset(r, 0, sizeof(*r));
	if (!sysfs_opt && env && *env)
		sysfs_opt = env;
	if (sysfs_opt) {
		snprintf(r->root, sizeof(r->root), "%s", sysfs_opt);
		return true;
	}
	if (kernel_has_tsm()) {
		snprintf(r->root, sizeof(r->root), "/sys");
		return true;
	}
	return start_embedded(r, NULL);
}

bool cli_sysroot_open_tap(struct cli_sysroot *r, const char *cmd, const char *tap_dir)
{
	const char *env = getenv("PCITSM_SYSFS");

	memset(r, 0, sizeof(*r));
	if ((env && *env) || kernel_has_tsm()) {
		fprintf(stderr, "pcitsm: %s --tap: the root is %s, not the embedded platform; a "
				"pcitsmd mirror captures its links itself (pcitsmd --tap DIR)\n",
			cmd, env && *env ? env : "/sys");
		return false;
	}
	return start_embedded(r, tap_dir);
}

void cli_sysroot_close(struct cli_sysroot *r)
{
	int status;

	if (!r->embedded)
		return;
	embedded_pid = 0;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	/* pcitsmd unmounts on SIGTERM; a daemon that died leaves the mount: detach it. */
	if (rmdir(r->root) != 0 && errno == EBUSY) {
		umount2(r->root, MNT_DETACH);
		rmdir(r->root);
	}
	r->embedded = false;
	r->pid = 0;
}

bool cli_dev_path(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *rel,
		  char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/bus/pci/devices/%s%s%s", r->root,
				cli_bdf_name(bdf).s, rel ? "/" : "", rel ? rel : "") < len;
}

bool cli_proj_path(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *file,
		   char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/pcitsm/devices/%s/%s", r->root, cli_bdf_name(bdf).s,
				file) < len;
}

int cli_attr_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n < len - 1) {
		ssize_t k = read(fd, buf + n, len - 1 - n);

		if (k < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int cli_attr_write(const char *path, const char *value)
{
	char line[256];
	int fd, n;
	ssize_t k;

	n = snprintf(line, sizeof(line), "%s\n", value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	k = write(fd, line, (size_t)n);
	if (k < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (close(fd) != 0)
		return -errno;
	return k == n ? 0 : -EIO;
}

bool cli_first_tsm(const struct cli_sysroot *r, char *name, size_t len)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	bool found = false;

	snprintf(path, sizeof(path), "%s/class/tsm", r->root);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "tsm", 3))
			continue;
		/* The lowest N: tsm0 before tsm1. */
		if (!found || strcmp(e->d_name, name) < 0)
			snprintf(name, len, "%s", e->d_name);
		found = true;
	}
	if (d)
		closedir(d);
	return found;
}

bool cli_has_project(const struct cli_sysroot *r)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pcitsm/devices", r->root);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool cli_kv_get(const char *text, const char *key, char *val, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, "\n");

			snprintf(val, len, "%.*s", (int)n, p + kl + 1);
			return true;
		}
	}
	return false;
}

static uint32_t bdf_key(const struct pcitsm_bdf *b)
{
	return (uint32_t)b->seg << 16 | pcitsm_bdf_rid(b);
}

int cli_bdf_cmp(const void *a, const void *b)
{
	uint32_t ka = bdf_key(a), kb = bdf_key(b);

	return ka < kb ? -1 : ka > kb;
}

/* Whether the function has one of the files any[] (NULL-terminated). */
static bool has_any(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
		    const char *const *any)
{
	char attr[PATH_MAX];

	for (; *any; any++)
		if (cli_dev_path(r, bdf, *any, attr, sizeof(attr)) && access(attr, F_OK) == 0)
			return true;
	return false;
}

size_t cli_pci_functions(const struct cli_sysroot *r, const char *const *any,
			 struct pcitsm_bdf *out, size_t max)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/bus/pci/devices", r->root);
	d = opendir(path);
	while (d && n < max && (e = readdir(d))) {
		/* The sysfs edge: a directory name becomes an address here, or is skipped. */
		if (pcitsm_bdf_parse(e->d_name, &out[n]) != PCITSM_OK || !has_any(r, &out[n], any))
			continue;
		n++;
	}
	if (d)
		closedir(d);
	qsort(out, n, sizeof(*out), cli_bdf_cmp);
	return n;
}

size_t cli_tsm_devices(const struct cli_sysroot *r, struct pcitsm_bdf *out, size_t max)
{
	static const char *const connect[] = { "tsm/connect", NULL };

	return cli_pci_functions(r, connect, out, max);
}
