/* SPDX-License-Identifier: MIT */
/* A TDI's kernel files and evidence as the CLI reads them (tdi.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pcitsm/genl.h"
#include "pcitsm/pci.h"
#include "tdi.h"

/* Linux include/linux/ioport.h resource flags, as the `resource` file shows them. */
#define IORESOURCE_MEM 0x00000200u
#define IORESOURCE_PREFETCH 0x00002000u
#define IORESOURCE_MEM_64 0x00100000u

/* The whole file into buf (at most cap bytes; a larger file is E_RANGE as -ERANGE). */
static int read_bin(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	*len = 0; /* written on every path, the failed ones too */
	if (fd < 0)
		return -errno;
	for (;;) {
		uint8_t extra;
		ssize_t k = n < cap ? read(fd, buf + n, cap - n) : read(fd, &extra, 1);

		if (k < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (k == 0)
			break;
		if (n == cap) {
			close(fd);
			return -ERANGE;
		}
		n += (size_t)k;
	}
	close(fd);
	*len = n;
	return 0;
}

int cli_read_alloc(const char *path, size_t cap, uint8_t **out, size_t *len)
{
	uint8_t *buf = malloc(cap);
	int err;

	if (!buf)
		return -ENOMEM;
	err = read_bin(path, buf, cap, len);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

/* report_digest: 48 raw bytes, or 96 hex digits and a newline. */
static bool digest_parse(const uint8_t *p, size_t n, uint8_t out[PCITSM_TDISP_DIGEST_LEN])
{
	if (n == PCITSM_TDISP_DIGEST_LEN) {
		memcpy(out, p, n);
		return true;
	}
	while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	if (n != 2 * PCITSM_TDISP_DIGEST_LEN)
		return false;
	for (size_t i = 0; i < PCITSM_TDISP_DIGEST_LEN; i++) {
		unsigned v;
		char two[3] = { (char)p[2 * i], (char)p[2 * i + 1], 0 };
		char *end;

		v = (unsigned)strtoul(two, &end, 16);
		if (*end || !strchr("0123456789abcdefABCDEF", two[0]) || !two[0] || !two[1])
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

/* The interface report read again over netlink, hashed (0 same, 1 different, -errno). */
static int netlink_digest_compare(const struct pcitsm_bdf *bdf, const struct cli_tdi_ev *ev)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	const struct pcitsm_tsmnl_req req = { addr.s, PCITSM_TSMNL_TYPE_BIT(PCITSM_TSMNL_REPORT), 0,
					      NULL, 0 };
	struct pcitsm_tsmnl_evidence nl;
	uint8_t d[PCITSM_TDISP_DIGEST_LEN];
	char why[512];
	int rc;

	pcitsm_tsmnl_evidence_init(&nl, req.type_mask);
	if (pcitsm_genl_evidence_read(&req, &nl, why, sizeof(why)) != PCITSM_OK)
		rc = -EIO;
	else if (pcitsm_tdisp_report_digest(nl.obj[PCITSM_TSMNL_REPORT],
					    nl.len[PCITSM_TSMNL_REPORT], d) != PCITSM_OK)
		rc = -EINVAL;
	else
		rc = pcitsm_ct_memneq(d, ev->digest, sizeof(d)) ? 1 : 0;
	pcitsm_tsmnl_evidence_free(&nl);
	return rc;
}

int cli_tdi_digest_compare(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
			   const struct cli_tdi_ev *ev)
{
	uint8_t buf[2 * PCITSM_TDISP_DIGEST_LEN + 8], d[PCITSM_TDISP_DIGEST_LEN];
	char path[PATH_MAX];
	size_t n;
	int err;

	if (ev->via_netlink)
		return netlink_digest_compare(bdf, ev);
	if (!cli_proj_path(r, bdf, "evidence/report_digest", path, sizeof(path)))
		return -ENAMETOOLONG;
	err = read_bin(path, buf, sizeof(buf), &n);
	if (err)
		return err;
	if (!digest_parse(buf, n, d))
		return -EINVAL;
	return pcitsm_ct_memneq(d, ev->digest, sizeof(d)) ? 1 : 0;
}

/* The guest's view: memory BARs from `resource`, MSI-X table and PBA from `config`. */
static bool read_view(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
		      struct pcitsm_tdisp_ifdesc *v)
{
	char path[PATH_MAX], text[2048], *line, *save = NULL;
	struct pcitsm_cfg_file cf;
	unsigned idx = 0;
	uint16_t off, ctl;
	uint32_t tbl, pba;

	memset(v, 0, sizeof(*v));
	if (!cli_dev_path(r, bdf, "resource", path, sizeof(path)) ||
	    cli_attr_read(path, text, sizeof(text)))
		return false;
	for (line = strtok_r(text, "\n", &save); line && idx < PCITSM_TDISP_NR_BARS;
	     line = strtok_r(NULL, "\n", &save), idx++) {
		unsigned long long start, end, flags;
		struct pcitsm_tdisp_bar *b;

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			return false;
		if (!(flags & IORESOURCE_MEM) || end <= start)
			continue;
		b = &v->bar[v->nr_bars++];
		b->index = (uint8_t)idx;
		b->base = start;
		b->size = end - start + 1;
		b->is64 = flags & IORESOURCE_MEM_64;
		b->prefetch = flags & IORESOURCE_PREFETCH;
	}
	if (pcitsm_cfg_file_open(&cf, r->root, bdf, false))
		return false;
	if (pcitsm_cap_find(&cf.cfg, PCITSM_CAP_ID_MSIX, &off) == PCITSM_OK &&
	    pcitsm_cfg_read16(&cf.cfg, off + 2, &ctl) == PCITSM_OK &&
	    pcitsm_cfg_read32(&cf.cfg, off + 4, &tbl) == PCITSM_OK &&
	    pcitsm_cfg_read32(&cf.cfg, off + 8, &pba) == PCITSM_OK) {
		/* PCIe 6.x §7.7.2: Table Size is N - 1; 16 bytes per entry, one PBA bit each. */
		uint32_t entries = (ctl & 0x7ffu) + 1;

		v->msix = true;
		v->msix_msg_ctl = ctl;
		v->msix_table = (struct pcitsm_tdisp_region){ (uint8_t)(tbl & 7), tbl & ~7u,
							      entries * 16u };
		v->msix_pba = (struct pcitsm_tdisp_region){ (uint8_t)(pba & 7), pba & ~7u,
							    (entries + 63) / 64 * 8 };
	}
	pcitsm_cfg_file_close(&cf);
	return true;
}

void cli_tdi_state(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, char *buf,
		   size_t len)
{
	char path[PATH_MAX], holder[64], *text = malloc(8192);

	buf[0] = '\0';
	if (text && cli_proj_path(r, bdf, "status", path, sizeof(path)) &&
	    cli_attr_read(path, text, 8192) == 0 &&
	    !cli_kv_get(text, "tdi_state", buf, len) && len &&
	    /* No state in the project status (no session to ask over): tsm/lock empty is
	     * unlocked. */
	    cli_dev_path(r, bdf, "tsm/lock", path, sizeof(path)) &&
	    cli_attr_read(path, holder, sizeof(holder)) == 0 && !holder[0])
		snprintf(buf, len, "CONFIG_UNLOCKED");
	free(text);
}

static int64_t mmio_offset(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf)
{
	char path[PATH_MAX], v[32], *text = malloc(8192);
	int64_t off = 0;

	if (text && cli_proj_path(r, bdf, "status", path, sizeof(path)) &&
	    cli_attr_read(path, text, 8192) == 0 && cli_kv_get(text, "tdi_mmio_offset", v, sizeof(v)))
		off = strtoll(v, NULL, 0);
	free(text);
	return off;
}

/* The project directory's evidence/report and evidence/measurements (the emulated platform). */
static int read_project(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
			bool need_meas, struct cli_tdi_ev *ev)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	char path[PATH_MAX];
	int err;

	if (!cli_proj_path(r, bdf, "evidence/report", path, sizeof(path)))
		return cli_failf("%s %s: path too long", cmd, addr.s);
	err = read_bin(path, ev->report, sizeof(ev->report), &ev->report_len);
	if (err == -ENOENT)
		return cli_failf("%s %s: no interface report (%s absent): the TDI is not locked%s%s",
				 cmd, addr.s, path, ev->state[0] ? "; its state is " : "",
				 ev->state);
	if (err) {
		/* The read asks the device again: say the state it answered. */
		cli_tdi_state(r, bdf, ev->state, sizeof(ev->state));
		return cli_failf("%s %s: %s: %s%s%s", cmd, addr.s, path, strerror(-err),
				 ev->state[0] ? "; the TDI is " : "", ev->state);
	}
	if (!cli_proj_path(r, bdf, "evidence/measurements", path, sizeof(path)))
		return cli_failf("%s %s: path too long", cmd, addr.s);
	err = cli_read_alloc(path, 1u << 20, &ev->meas, &ev->meas_len);
	if (err && need_meas)
		return cli_failf("%s %s: %s: %s", cmd, addr.s, path, strerror(-err));
	return 0;
}

/* The kernel's evidence-read over generic netlink (docs/genl.md): the report and the
 * MEASUREMENTS response of a real host with the proposed TDISP support. */
static int read_netlink(const struct pcitsm_bdf *bdf, const char *cmd, bool need_meas,
			struct cli_tdi_ev *ev)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	const struct pcitsm_tsmnl_req req = {
		addr.s,
		PCITSM_TSMNL_TYPE_BIT(PCITSM_TSMNL_REPORT) |
			PCITSM_TSMNL_TYPE_BIT(PCITSM_TSMNL_MEASUREMENTS),
		0, NULL, 0
	};
	const unsigned rep_t = PCITSM_TSMNL_REPORT, meas_t = PCITSM_TSMNL_MEASUREMENTS;
	struct pcitsm_tsmnl_evidence nl;
	char why[512];
	int rc = 0;

	ev->via_netlink = true;
	pcitsm_tsmnl_evidence_init(&nl, req.type_mask);
	if (pcitsm_genl_evidence_read(&req, &nl, why, sizeof(why)) != PCITSM_OK)
		rc = cli_failf("%s %s: %s", cmd, addr.s, why);
	else if (!nl.len[rep_t])
		rc = cli_failf("%s %s: the kernel's evidence has no interface report: the TDI is "
			       "not locked", cmd, addr.s);
	else if (nl.len[rep_t] > sizeof(ev->report))
		rc = cli_failf("%s %s: the interface report over netlink (%zu bytes) is larger "
			       "than a TDISP report can be", cmd, addr.s, nl.len[rep_t]);
	else if (!nl.len[meas_t] && need_meas)
		rc = cli_failf("%s %s: the kernel's evidence has no measurements", cmd, addr.s);
	if (!rc) {
		memcpy(ev->report, nl.obj[rep_t], nl.len[rep_t]);
		ev->report_len = nl.len[rep_t];
		if (nl.len[meas_t]) {
			ev->meas = nl.obj[meas_t]; /* the evidence's buffer, now ev's */
			ev->meas_len = nl.len[meas_t];
			nl.obj[meas_t] = NULL;
		}
	}
	pcitsm_tsmnl_evidence_free(&nl);
	return rc;
}

int cli_tdi_read(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
		 bool need_meas, bool netlink, struct cli_tdi_ev *ev)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	pcitsm_err e;
	int err;

	memset(ev, 0, sizeof(*ev));
	cli_tdi_state(r, bdf, ev->state, sizeof(ev->state));
	err = netlink ? read_netlink(bdf, cmd, need_meas, ev)
		      : read_project(r, bdf, cmd, need_meas, ev);
	if (err)
		return err;
	e = pcitsm_tdisp_report_decode(ev->report, ev->report_len, &ev->rep);
	if (e)
		return cli_failf("%s %s: the interface report (%zu bytes) does not decode: %s", cmd,
				 addr.s, ev->report_len, pcitsm_err_str(e));
	if (pcitsm_tdisp_report_digest(ev->report, ev->report_len, ev->digest))
		return cli_failf("%s %s: cannot hash the report", cmd, addr.s);
	if (!netlink) {
		err = cli_tdi_digest_compare(r, bdf, ev);
		if (err == 1)
			return cli_failf("%s %s: evidence/report_digest is not the SHA-384 of "
					 "evidence/report (the report changed while it was read?)",
					 cmd, addr.s);
		ev->has_digest_file = err == 0;
	}
	ev->mmio_offset = mmio_offset(r, bdf);
	ev->has_view = read_view(r, bdf, &ev->view);
	ev->check_err = ev->has_view ? pcitsm_tdisp_report_check(ev->report, ev->report_len,
								  &ev->view, ev->mmio_offset,
								  &ev->check)
				     : PCITSM_E_NOTFOUND;
	if (!ev->meas)
		return 0;
	/* A MEASUREMENTS response (its code at byte 1: the kernel's evidence), or the bare
	 * MeasurementRecord pcitsmd keeps (byte 1 is then a block's MeasurementSpecification, never
	 * 0x60). */
	if (ev->meas_len >= 2 && ev->meas[1] == PCITSM_SPDM_MEASUREMENTS)
		e = pcitsm_policy_meas_blocks(ev->meas, ev->meas_len, ev->blocks,
					      PCITSM_ARRAY_SIZE(ev->blocks), &ev->nr_blocks);
	else
		e = pcitsm_policy_record_blocks(ev->meas, ev->meas_len, ev->blocks,
						PCITSM_ARRAY_SIZE(ev->blocks), &ev->nr_blocks);
	if (e)
		return cli_failf("%s %s: the measurements do not parse: %s", cmd, addr.s,
				 pcitsm_err_str(e));
	return 0;
}

void cli_tdi_free(struct cli_tdi_ev *ev)
{
	free(ev->meas);
	ev->meas = NULL;
}

const char *cli_tdi_errno_meaning(const char *file, int err, bool driver_bound)
{
	bool lock = !strcmp(file, "lock"), unlock = !strcmp(file, "unlock");

	switch (err) {
	case EBUSY:
		if (driver_bound)
			return "a driver is bound to the function (unbind it first)";
		return lock ? "the function is already locked (or connected)" : "a driver is bound";
	case ENXIO:
		return "not a devsec TSM (its pci_mode is not devsec), or the function has no TDI";
	case EINVAL:
		if (lock)
			return "not a TSM name (tsmN)";
		if (unlock)
			return "the function is not locked, or the name differs from tsm/lock";
		return "the function is not locked (lock it first), or the value is false (there is "
		       "no unaccept)";
	case ENOENT:
		return "the kernel has no TDISP interface (tsm/lock is a proposed ABI, not 6.19)";
	case EIO:
		return "the TSM's TDISP operation failed (see the project status)";
	case ESTALE:
		return "no evidence read since the lock, or the report changed after it was read";
	case ENOTCONN:
		return "the device is not connected to the link TSM (pcitsm connect first)";
	case EPERM:
	case EACCES:
		return "needs root";
	default:
		return NULL;
	}
}

int cli_tdi_write(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
		  const char *file, const char *value, double *ms)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	char path[PATH_MAX], rel[32];
	struct stat st;
	double t0;
	int err;

	if (ms)
		*ms = 0; /* written on every path, the failed ones too */
	snprintf(rel, sizeof(rel), "tsm/%s", file);
	if (!cli_dev_path(r, bdf, rel, path, sizeof(path)))
		return cli_failf("%s %s: path too long", cmd, addr.s);
	t0 = cli_now_ms();
	err = -cli_attr_write(path, value);
	if (ms)
		*ms = cli_now_ms() - t0;
	if (err) {
		char drv[PATH_MAX];
		bool bound = cli_dev_path(r, bdf, "driver", drv, sizeof(drv)) && lstat(drv, &st) == 0;
		const char *m = cli_tdi_errno_meaning(file, err, bound && err == EBUSY);

		fprintf(stderr, "pcitsm: %s %s: write %s to tsm/%s: %s (errno %d)%s%s\n", cmd, addr.s,
			value, file, strerror(err), err, m ? ": " : "", m ? m : "");
		return CLI_EXIT_FAIL;
	}
	return 0;
}

bool cli_tdi_tsm(const struct cli_sysroot *r, const char *tsm_opt, char *name, size_t len)
{
	char path[PATH_MAX], mode[32];

	if (tsm_opt) {
		snprintf(name, len, "%s", tsm_opt);
		return true;
	}
	for (unsigned i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "%s/class/tsm/tsm%u/pci_mode", r->root, i);
		if (cli_attr_read(path, mode, sizeof(mode)) == 0 && !strcmp(mode, "devsec")) {
			snprintf(name, len, "tsm%u", i);
			return true;
		}
	}
	return cli_first_tsm(r, name, len);
}

void cli_tdi_check_str(const struct cli_tdi_ev *ev, char *buf, size_t len)
{
	if (!ev->has_view)
		snprintf(buf, len, "not checked: the function's resource/config could not be read");
	else if (ev->check_err == PCITSM_OK)
		snprintf(buf, len, "follows every Linux report rule");
	else if (ev->check_err == PCITSM_E_FIELD)
		snprintf(buf, len, "%s (range %u): %s", pcitsm_tdisp_rule_name(ev->check.rule),
			 ev->check.range, pcitsm_tdisp_rule_str(ev->check.rule));
	else
		snprintf(buf, len, "refused: %s", pcitsm_err_str(ev->check_err));
}

static void bits(uint16_t mask, const char *(*name)(unsigned), char *buf, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned b = 0; b < 16 && at < n; b++)
		if (mask & (1u << b))
			at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? "," : "",
					       name(b) ? name(b) : "reserved");
	if (!buf[0])
		snprintf(buf, n, "-");
}

static json_object *bits_json(uint16_t mask, const char *(*name)(unsigned))
{
	json_object *a = json_object_new_array();

	for (unsigned b = 0; b < 16; b++)
		if (mask & (1u << b))
			json_object_array_add(a, json_object_new_string(name(b) ? name(b)
										 : "reserved"));
	return a;
}

static json_object *hex64(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%" PRIx64, v);
	return json_object_new_string(s);
}

json_object *cli_tdi_report_json(const struct cli_tdi_ev *ev)
{
	const struct pcitsm_tdisp_report *r = &ev->rep;
	json_object *o = json_object_new_object(), *ranges = json_object_new_array(), *chk;
	char hex[2 * PCITSM_TDISP_DIGEST_LEN + 1], why[256];

	for (size_t i = 0; i < sizeof(ev->digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", ev->digest[i]);
	if (ev->state[0])
		json_object_object_add(o, "tdi_state", json_object_new_string(ev->state));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)ev->report_len));
	json_object_object_add(o, "digest", json_object_new_string(hex));
	json_object_object_add(o, "interface_info",
			       bits_json(r->interface_info, pcitsm_policy_info_bit_name));
	json_object_object_add(o, "msix_message_control", json_object_new_int(r->msix_msg_ctl));
	json_object_object_add(o, "lnr_control", json_object_new_int(r->lnr_control));
	json_object_object_add(o, "tph_control", json_object_new_int64(r->tph_control));
	for (uint32_t i = 0; i < r->nr_ranges; i++) {
		const struct pcitsm_tdisp_range *g = &r->range[i];
		json_object *m = json_object_new_object();

		json_object_object_add(m, "range_id", json_object_new_int(g->range_id));
		json_object_object_add(m, "address", hex64(g->first_page * PCITSM_TDISP_PAGE));
		json_object_object_add(m, "size", hex64((uint64_t)g->pages * PCITSM_TDISP_PAGE));
		json_object_object_add(m, "attributes",
				       bits_json(g->attrs, pcitsm_policy_attr_bit_name));
		json_object_array_add(ranges, m);
	}
	json_object_object_add(o, "mmio_ranges", ranges);
	json_object_object_add(o, "device_specific_info_len", json_object_new_int64(r->dev_info_len));
	chk = json_object_new_object();
	json_object_object_add(chk, "ok", json_object_new_boolean(ev->has_view &&
								   ev->check_err == PCITSM_OK));
	if (ev->has_view && ev->check_err == PCITSM_E_FIELD) {
		json_object_object_add(chk, "rule",
				       json_object_new_string(pcitsm_tdisp_rule_name(ev->check.rule)));
		json_object_object_add(chk, "range", json_object_new_int((int)ev->check.range));
	}
	cli_tdi_check_str(ev, why, sizeof(why));
	json_object_object_add(chk, "result", json_object_new_string(why));
	json_object_object_add(o, "check", chk);
	json_object_object_add(o, "measurement_blocks", json_object_new_int64((int64_t)ev->nr_blocks));
	return o;
}

void cli_tdi_report_print(const struct pcitsm_bdf *bdf, const struct cli_tdi_ev *ev)
{
	const struct pcitsm_tdisp_report *r = &ev->rep;
	char b[160], why[256];

	printf("%s: interface report, %zu bytes%s%s\n", cli_bdf_name(bdf).s, ev->report_len,
	       ev->state[0] ? ", TDI " : "", ev->state);
	printf("  %-22s ", "digest (SHA-384)");
	for (size_t i = 0; i < sizeof(ev->digest); i++)
		printf("%02x", ev->digest[i]);
	printf("%s\n", ev->has_digest_file ? " (= evidence/report_digest)" : "");
	bits(r->interface_info, pcitsm_policy_info_bit_name, b, sizeof(b));
	printf("  %-22s 0x%04x %s\n", "interface info", r->interface_info, b);
	printf("  %-22s 0x%04x\n", "MSI-X message control", r->msix_msg_ctl);
	printf("  %-22s 0x%04x\n", "LNR control", r->lnr_control);
	printf("  %-22s 0x%08x\n", "TPH control", r->tph_control);
	printf("  %-22s %u\n", "MMIO ranges", r->nr_ranges);
	for (uint32_t i = 0; i < r->nr_ranges; i++) {
		const struct pcitsm_tdisp_range *g = &r->range[i];

		bits(g->attrs, pcitsm_policy_attr_bit_name, b, sizeof(b));
		printf("    %2u  BAR %u  0x%016" PRIx64 "  size 0x%" PRIx64 "  %s\n", i, g->range_id,
		       g->first_page * PCITSM_TDISP_PAGE, (uint64_t)g->pages * PCITSM_TDISP_PAGE,
		       b);
	}
	printf("  %-22s %u bytes\n", "device specific info", r->dev_info_len);
	cli_tdi_check_str(ev, why, sizeof(why));
	printf("  %-22s %s\n", "check", why);
}

int cli_tdi_args_parse(const char *cmd, unsigned allowed, int argc, char **argv,
		       struct cli_tdi_args *a)
{
	static const struct option opts[] = {
		CLI_OPT_ARG("sysfs", 's'),  CLI_OPT_ARG("tsm", 't'), CLI_OPT_FLAG("json", 'j'),
		CLI_OPT_ARG("policy", 'p'), CLI_OPT_ARG("out", 'o'),  CLI_OPT_FLAG("netlink", 'n'),
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->sysfs = optarg; break;
		case 't': if (!(allowed & CLI_TDI_TSM)) return cli_usage(cmd);
			a->tsm = optarg; break;
		case 'j': if (!(allowed & CLI_TDI_JSON)) return cli_usage(cmd);
			a->json = true; break;
		case 'p': if (!(allowed & CLI_TDI_POLICY)) return cli_usage(cmd);
			a->policy = optarg; break;
		case 'o': if (!(allowed & CLI_TDI_OUT)) return cli_usage(cmd);
			a->out = optarg; break;
		case 'n': if (!(allowed & CLI_TDI_NETLINK)) return cli_usage(cmd);
			a->netlink = true; break;
		default: return cli_usage(cmd);
		}
	}
	if (optind != argc - 1)
		return cli_usage(cmd);
	return cli_bdf_operand(cmd, argc, argv, optind, &a->bdf);
}

int cli_tdi_change(struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *cmd,
		   const char *name, const char *done)
{
	char state[32];
	double ms;
	int rc = cli_tdi_write(r, bdf, cmd, cmd, name, &ms);

	if (!rc) {
		cli_tdi_state(r, bdf, state, sizeof(state));
		printf("%s: %s %s in %.1f ms; TDI %s\n", cli_bdf_name(bdf).s, done, name, ms,
		       state[0] ? state : "state not shown");
	}
	cli_sysroot_close(r);
	return rc;
}

bool cli_tdi_real_host(const char *sysfs_opt)
{
	const char *env = getenv("PCITSM_SYSFS");

	return !sysfs_opt && !(env && *env) && access(CLI_TDI_DEVSEC_MODE, F_OK) == 0;
}

int cli_tdi_evidence_open(struct cli_sysroot *r, const struct cli_tdi_args *a, const char *cmd,
			  bool need_meas, struct cli_tdi_ev **ev)
{
	bool netlink = a->netlink || cli_tdi_real_host(a->sysfs);
	int rc = 0;

	*ev = NULL;
	if (netlink) {
		/* The evidence is this kernel's: so is the function's view (resource, config). */
		memset(r, 0, sizeof(*r));
		snprintf(r->root, sizeof(r->root), "%s", a->sysfs ? a->sysfs : "/sys");
	} else {
		rc = cli_project_open(r, a->sysfs, cmd,
				      "this kernel's TSM has no TDISP evidence (no "
				      CLI_TDI_DEVSEC_MODE ": the proposed devsec support is absent)");
	}
	if (rc)
		return rc;
	*ev = calloc(1, sizeof(**ev));
	if (!*ev) {
		cli_sysroot_close(r);
		return cli_fail(cmd, PCITSM_E_NOMEM);
	}
	return cli_tdi_read(r, &a->bdf, cmd, need_meas, netlink, *ev);
}

bool cli_policy_load(const char *cmd, const char *file, struct pcitsm_policy *p)
{
	char why[200] = "";
	FILE *f = fopen(file, "rb");
	char *text;
	size_t n;
	pcitsm_err e;

	if (!f) {
		cli_failf("%s: policy %s: %s", cmd, file, strerror(errno));
		return false;
	}
	text = malloc(PCITSM_POLICY_TEXT_MAX + 1);
	n = text ? fread(text, 1, PCITSM_POLICY_TEXT_MAX + 1, f) : 0;
	fclose(f);
	if (!text) {
		cli_fail(cmd, PCITSM_E_NOMEM);
		return false;
	}
	e = pcitsm_policy_parse(text, n, p, why, sizeof(why));
	free(text);
	if (e) {
		cli_failf("%s: policy %s is not valid: %s", cmd, file, why);
		return false;
	}
	return true;
}

int cli_tdi_accept(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
		   const struct cli_tdi_ev *ev, const struct pcitsm_policy *pol,
		   const char *policy_name, bool quiet)
{
	const struct cli_bdf_name addr = cli_bdf_name(bdf);
	char why[256], state[32];
	double ms;
	int rc, d;

	if (ev->state[0] && strcmp(ev->state, "CONFIG_LOCKED") != 0)
		return cli_failf("accept %s: the TDI is %s, not CONFIG_LOCKED; not started", addr.s,
				 ev->state);
	if (!ev->has_view || ev->check_err != PCITSM_OK) {
		cli_tdi_check_str(ev, why, sizeof(why));
		return cli_failf("accept %s: the report breaks a Linux report rule: %s; not started",
				 addr.s, why);
	}
	if (pol) {
		const struct pcitsm_policy_evidence pe = { ev->blocks, ev->nr_blocks, &ev->rep };

		if (pcitsm_policy_eval(pol, &pe, why, sizeof(why)) != PCITSM_OK)
			return cli_failf("accept %s: policy %s refused: %s; not started", addr.s,
					 policy_name, why);
		if (!quiet)
			printf("%s: policy %s holds (%u measurements, %s interface info, %s MMIO "
			       "layout)\n",
			       addr.s, policy_name, pol->nr_meas, pol->has_info ? "required" : "no",
			       pol->has_mmio ? "pinned" : "no");
	}
	/* The report the decision was made on must still be the device's. */
	d = cli_tdi_digest_compare(r, bdf, ev);
	if (d == 1 || (d < 0 && (ev->has_digest_file || ev->via_netlink)))
		return cli_failf("accept %s: the report changed after the evidence was read; read "
				 "it again (not started)",
				 addr.s);
	rc = cli_tdi_write(r, bdf, "accept", "accept", "1", &ms);
	if (!rc && !quiet) {
		cli_tdi_state(r, bdf, state, sizeof(state));
		printf("%s: accepted in %.1f ms; TDI %s\n", addr.s, ms,
		       state[0] ? state : "state not shown");
	}
	return rc;
}
