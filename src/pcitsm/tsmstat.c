/* SPDX-License-Identifier: MIT */
/* One device's TSM state from a sysfs root (tsmstat.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsmstat.h"

const char *cli_ide_state_word(unsigned state)
{
	switch (state) {
	case PCITSM_IDE_STATE_INSECURE: return "Insecure";
	case PCITSM_IDE_STATE_SECURE: return "Secure";
	default: return "Reserved";
	}
}

const char *cli_connect_errno_meaning(int err)
{
	switch (err) {
	case EINVAL: return "the value is not \"tsmN\"";
	case EBUSY: return "the device already has a TSM context (connected or connecting)";
	case ENXIO: return "no such TSM, not a link TSM, or the TSM refused the device";
	case EFAULT: return "the CMA mailbox lacks secured CMA-SPDM";
	case EACCES: return "device authentication failed (untrusted chain or bad signature)";
	case ENOSPC: return "no free IDE stream or block";
	case EIO: return "IDE key programming failed or the stream did not reach Secure";
	case ETIMEDOUT: return "the device did not answer";
	case ENOENT: return "no tsm/connect: not a DSM-capable function 0, or no link TSM";
	default: return NULL;
	}
}

const char *cli_disconnect_errno_meaning(int err)
{
	switch (err) {
	case ENXIO: return "the device is not connected";
	case EINVAL: return "the name differs from the one given to connect";
	case ENOENT: return "no tsm/disconnect: not a DSM-capable function 0, or no link TSM";
	default: return NULL;
	}
}

/* The device's directory resolved, and its host bridge ("…/devices/pciDDDD:BB"). */
static bool resolve(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, char *real,
		    char *hb)
{
	char dev[PATH_MAX];
	char *p;

	if (!cli_dev_path(r, bdf, NULL, dev, sizeof(dev)) || !realpath(dev, real))
		return false;
	snprintf(hb, PATH_MAX, "%s", real);
	for (p = strstr(hb, "/pci"); p; p = strstr(p + 1, "/pci")) {
		unsigned seg, bus;
		char c;

		if (sscanf(p + 1, "pci%4x:%2x%c", &seg, &bus, &c) >= 2 && (c == '/' || c == '\0')) {
			p[1 + strcspn(p + 1, "/")] = '\0';
			return true;
		}
	}
	hb[0] = '\0';
	return true;
}

/* Does the symbolic link at path end in the directory name base (one readlink)? */
static bool link_names(const char *path, const char *base)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	const char *slash;

	if (n <= 0)
		return false;
	t[n] = '\0';
	while (n > 1 && t[n - 1] == '/')
		t[--n] = '\0';
	slash = strrchr(t, '/');
	return !strcmp(slash ? slash + 1 : t, base);
}

static void find_stream(const char *real, const char *hb, struct cli_dev_status *s)
{
	DIR *d = opendir(hb);
	const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char link[PATH_MAX], target[PATH_MAX];
		unsigned h, rr, ee;
		char c;

		if (sscanf(e->d_name, "stream%u.%u.%u%c", &h, &rr, &ee, &c) != 3)
			continue;
		if ((size_t)snprintf(link, sizeof(link), "%s/%s", hb, e->d_name) >= sizeof(link) ||
		    !link_names(link, base))
			continue;
		/* Resolve only the link that names this device: a host bridge with hundreds of
		 * streams would otherwise cost a lookup per path component of each. */
		if (!realpath(link, target) || strcmp(target, real))
			continue;
		s->has_stream = true;
		snprintf(s->stream, sizeof(s->stream), "stream%u.%u.%u", h, rr, ee);
		s->h = h;
		s->r = rr;
		s->e = ee;
		break;
	}
	if (d)
		closedir(d);
}

/* Read selective block `block` (or, when block < 0, the first enabled one, or with want_id >= 0
 * the one carrying that Stream ID) of the IDE capability in bdf's config file. */
static void read_port(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, int block,
		      int want_id, struct cli_port_state *ps)
{
	struct pcitsm_cfg_file cf;
	struct pcitsm_ide_info *ide;
	uint16_t off;
	pcitsm_err e;

	ps->has_bdf = true;
	ps->bdf = *bdf;
	e = pcitsm_cfg_file_open(&cf, r->root, bdf, false);
	if (e) {
		snprintf(ps->why, sizeof(ps->why), "config: %s", pcitsm_err_str(e));
		return;
	}
	ide = calloc(1, sizeof(*ide));
	if (!ide) {
		pcitsm_cfg_file_close(&cf);
		return;
	}
	if (cf.cfg.size < PCITSM_CFG_SIZE_EXT) {
		snprintf(ps->why, sizeof(ps->why), "extended config space not readable (needs root)");
	} else if (pcitsm_ecap_find(&cf.cfg, PCITSM_ECAP_ID_IDE, 0, &off) != PCITSM_OK) {
		snprintf(ps->why, sizeof(ps->why), "no IDE capability");
	} else if ((e = pcitsm_ide_read(&cf.cfg, off, ide)) != PCITSM_OK) {
		snprintf(ps->why, sizeof(ps->why), "IDE capability: %s", pcitsm_err_str(e));
	} else {
		for (unsigned i = 0; i < ide->nr_sel; i++) {
			struct pcitsm_ide_sel sel;

			if (block >= 0 && (unsigned)block != i)
				continue;
			if (pcitsm_ide_sel_read(&cf.cfg, ide, i, &sel) != PCITSM_OK)
				continue;
			if (block < 0 && (!sel.ctl.enable ||
					  (want_id >= 0 && sel.ctl.stream_id != want_id)))
				continue;
			ps->found = true;
			ps->block = i;
			ps->enabled = sel.ctl.enable;
			ps->state = sel.state;
			ps->stream_id = sel.ctl.stream_id;
			break;
		}
		if (!ps->found)
			snprintf(ps->why, sizeof(ps->why), block >= 0 ? "no selective block %d"
								     : "no enabled selective stream",
				 block);
	}
	free(ide);
	pcitsm_cfg_file_close(&cf);
}

static bool attr(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf, const char *rel,
		 char *out, size_t len)
{
	char path[PATH_MAX];

	return cli_dev_path(r, bdf, rel, path, sizeof(path)) && cli_attr_read(path, out, len) == 0;
}

void cli_dev_status_read(const struct cli_sysroot *r, const struct pcitsm_bdf *bdf,
			 struct cli_dev_status *s)
{
	char real[PATH_MAX], hb[PATH_MAX], path[PATH_MAX];
	struct pcitsm_bdf rp;
	bool has_rp = false;
	char *slash;

	memset(s, 0, sizeof(*s));
	s->bdf = *bdf;
	if (!resolve(r, bdf, real, hb))
		return;
	s->exists = true;
	s->has_connect = attr(r, bdf, "tsm/connect", s->connect, sizeof(s->connect));
	s->has_auth = attr(r, bdf, "authenticated", s->authenticated, sizeof(s->authenticated));
	s->has_dsm = attr(r, bdf, "tsm/dsm", s->dsm, sizeof(s->dsm));
	s->has_bound = attr(r, bdf, "tsm/bound", s->bound, sizeof(s->bound));
	s->has_lock = attr(r, bdf, "tsm/lock", s->lock, sizeof(s->lock));
	s->has_accept = attr(r, bdf, "tsm/accept", s->accept, sizeof(s->accept));
	if (hb[0])
		find_stream(real, hb, s);
	/* The stream's other end is the root port (Linux pcie_find_root_port): the first PCI
	 * function below the host bridge's directory in the device's path, which below a switch is
	 * not the parent directory (that is the switch's Downstream Port). */
	slash = strrchr(real, '/');
	if (slash) {
		*slash = '\0';
		for (char *c = strtok(real, "/"); c && !has_rp; c = strtok(NULL, "/"))
			/* The sysfs edge: the directory's name becomes an address here. */
			has_rp = pcitsm_bdf_parse(c, &rp) == PCITSM_OK;
	}
	read_port(r, bdf, s->has_stream ? (int)s->e : -1, -1, &s->ep);
	if (has_rp)
		read_port(r, &rp, s->has_stream ? (int)s->r : -1,
			  s->ep.found && !s->has_stream ? (int)s->ep.stream_id : -1, &s->rp);
	else
		snprintf(s->rp.why, sizeof(s->rp.why), "no upstream port in the tree");
	if (cli_proj_path(r, bdf, "status", path, sizeof(path))) {
		char *text = malloc(8192);

		if (text && cli_attr_read(path, text, 8192) == 0) {
			s->proj = text;
			(void)cli_kv_get(text, "tdi_state", s->tdi_state, sizeof(s->tdi_state));
		} else {
			free(text);
		}
	}
	/* Not locked (tsm/lock empty): the project status names no state; the TDI is unlocked. */
	if (!s->tdi_state[0] && s->has_lock && !s->lock[0])
		snprintf(s->tdi_state, sizeof(s->tdi_state), "CONFIG_UNLOCKED");
}

void cli_dev_status_free(struct cli_dev_status *s)
{
	free(s->proj);
	s->proj = NULL;
}

static json_object *port_json(const struct cli_port_state *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "address",
			       json_object_new_string(p->has_bdf ? cli_bdf_name(&p->bdf).s : ""));
	if (!p->found) {
		/* No enabled block is a state, not a failure to read. */
		bool idle = !strcmp(p->why, "no enabled selective stream");

		if (idle)
			json_object_object_add(o, "enabled", json_object_new_boolean(false));
		json_object_object_add(o, idle ? "note" : "error", json_object_new_string(p->why));
		return o;
	}
	json_object_object_add(o, "block", json_object_new_int((int)p->block));
	json_object_object_add(o, "enabled", json_object_new_boolean(p->enabled));
	json_object_object_add(o, "state", json_object_new_string(cli_ide_state_word(p->state)));
	json_object_object_add(o, "stream_id", json_object_new_int((int)p->stream_id));
	return o;
}

/* A project key as a JSON number (its text when not a number); absent keys are left out. */
static void kv_num(json_object *o, const char *proj, const char *key, const char *name)
{
	char v[64], *end;
	unsigned long long n;

	if (!cli_kv_get(proj, key, v, sizeof(v)))
		return;
	n = strtoull(v, &end, 10);
	json_object_object_add(o, name, *v && !*end ? json_object_new_uint64(n)
						     : json_object_new_string(v));
}

/* "keys": the key set in use and its lifetime (docs/tsm.md "Key lifetime"), as numbers. */
static void keys_json(json_object *o, const char *proj)
{
	json_object *k, *next, *pol;
	char v[64];

	if (!cli_kv_get(proj, "key_tlps", v, sizeof(v)))
		return;
	k = json_object_new_object();
	if (cli_kv_get(proj, "key_set", v, sizeof(v)))
		json_object_object_add(k, "key_set", json_object_new_string(v));
	kv_num(k, proj, "key_tlps", "tlps");
	kv_num(k, proj, "key_tlps_max_per_key", "tlps_max_per_key");
	kv_num(k, proj, "key_age_ms", "age_ms");
	kv_num(k, proj, "key_refreshes_by_policy", "refreshes_by_policy");
	if (cli_kv_get(proj, "key_next_refresh", v, sizeof(v))) {
		json_object_object_add(k, "next_refresh", json_object_new_string(v));
	} else {
		next = json_object_new_object();
		kv_num(next, proj, "key_next_refresh_tlps", "tlps");
		kv_num(next, proj, "key_next_refresh_ms", "ms");
		json_object_object_add(k, "next_refresh", next);
	}
	pol = json_object_new_object();
	kv_num(pol, proj, "key_policy_max_tlps", "max_tlps");
	kv_num(pol, proj, "key_policy_max_age_s", "max_age_s");
	json_object_object_add(k, "policy", pol);
	json_object_object_add(o, "keys", k);
}

json_object *cli_dev_status_json(const struct cli_dev_status *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "address", json_object_new_string(cli_bdf_name(&s->bdf).s));
	if (!s->exists) {
		json_object_object_add(o, "error", json_object_new_string("no such device"));
		return o;
	}
	/* The kernel's attribute names, with their contents. */
	if (s->has_connect)
		json_object_object_add(o, "connect", json_object_new_string(s->connect));
	if (s->has_auth)
		json_object_object_add(o, "authenticated", json_object_new_string(s->authenticated));
	if (s->has_dsm)
		json_object_object_add(o, "dsm", json_object_new_string(s->dsm));
	if (s->has_bound)
		json_object_object_add(o, "bound", json_object_new_string(s->bound));
	if (s->has_lock)
		json_object_object_add(o, "lock", json_object_new_string(s->lock));
	if (s->has_accept)
		json_object_object_add(o, "accept", json_object_new_string(s->accept));
	if (s->tdi_state[0])
		json_object_object_add(o, "tdi_state", json_object_new_string(s->tdi_state));
	json_object_object_add(o, "connected", json_object_new_boolean(s->connect[0] != '\0'));
	if (s->has_stream) {
		json_object *st = json_object_new_object();

		json_object_object_add(st, "name", json_object_new_string(s->stream));
		json_object_object_add(st, "h", json_object_new_int((int)s->h));
		json_object_object_add(st, "r", json_object_new_int((int)s->r));
		json_object_object_add(st, "e", json_object_new_int((int)s->e));
		json_object_object_add(o, "stream", st);
	}
	json_object_object_add(o, "root_port", port_json(&s->rp));
	json_object_object_add(o, "endpoint", port_json(&s->ep));
	if (s->proj) {
		json_object *p = json_object_new_object();
		const char *line = s->proj;

		while (line && *line) {
			size_t n = strcspn(line, "\n");
			const char *eq = memchr(line, '=', n);

			if (eq) {
				char key[64], val[320];

				snprintf(key, sizeof(key), "%.*s", (int)(eq - line), line);
				snprintf(val, sizeof(val), "%.*s", (int)(n - (size_t)(eq - line) - 1),
					 eq + 1);
				json_object_object_add(p, key, json_object_new_string(val));
			}
			line = line[n] ? line + n + 1 : NULL;
		}
		json_object_object_add(o, "platform", p);
		keys_json(o, s->proj);
	}
	return o;
}

static void port_line(const char *what, const struct cli_port_state *p)
{
	if (!p->found) {
		printf("  %-14s %s: %s\n", what, p->has_bdf ? cli_bdf_name(&p->bdf).s : "-", p->why);
		return;
	}
	printf("  %-14s %s: selective block %u, Stream ID %u, En%c, %s\n", what,
	       cli_bdf_name(&p->bdf).s, p->block,
	       p->stream_id, p->enabled ? '+' : '-', cli_ide_state_word(p->state));
}

void cli_dev_status_print(const struct cli_dev_status *s, bool verbose)
{
	char v[320], w[320];

	if (!s->exists) {
		printf("%s: no such device\n", cli_bdf_name(&s->bdf).s);
		return;
	}
	printf("%s: %s", cli_bdf_name(&s->bdf).s,
	       !s->has_connect ? "no tsm/connect"
	       : s->connect[0] ? "connected to " : "not connected");
	if (s->has_connect && s->connect[0])
		printf("%s", s->connect);
	printf("\n  %-14s %s\n", "tsm/connect", s->has_connect ? (s->connect[0] ? s->connect : "\"\"")
							 : "(absent)");
	if (s->has_auth)
		printf("  %-14s %s\n", "authenticated", s->authenticated[0] ? s->authenticated : "\"\"");
	if (s->has_dsm)
		printf("  %-14s %s\n", "tsm/dsm", s->dsm[0] ? s->dsm : "\"\"");
	if (s->has_bound)
		printf("  %-14s %s\n", "tsm/bound", s->bound[0] ? s->bound : "\"\"");
	if (s->has_lock)
		printf("  %-14s %s\n", "tsm/lock", s->lock[0] ? s->lock : "\"\"");
	if (s->has_accept)
		printf("  %-14s %s\n", "tsm/accept", s->accept);
	if (s->tdi_state[0])
		printf("  %-14s %s\n", "TDI state", s->tdi_state);
	printf("  %-14s %s\n", "stream", s->has_stream ? s->stream : "(no streamH.R.E link)");
	port_line("root port", &s->rp);
	port_line("endpoint", &s->ep);
	if (!s->proj)
		return;
	if (cli_kv_get(s->proj, "session_id", v, sizeof(v))) {
		printf("  %-14s %s, SPDM ", "session", v);
		if (cli_kv_get(s->proj, "spdm_version", v, sizeof(v)))
			printf("%s", v);
		if (cli_kv_get(s->proj, "chain_trusted", w, sizeof(w)))
			printf(", chain %s", strcmp(w, "1") ? "NOT trusted" : "trusted");
		printf("\n");
		printf("  %-14s", "algorithms");
		for (const char *k = "base_asym\0base_hash\0measurement_hash\0dhe\0aead\0"; *k;
		     k += strlen(k) + 1)
			if (cli_kv_get(s->proj, k, v, sizeof(v)))
				printf(" %s=%s", k, v);
		printf("\n");
	}
	if (cli_kv_get(s->proj, "key_set", v, sizeof(v)) &&
	    cli_kv_get(s->proj, "rekeys", w, sizeof(w)))
		printf("  %-14s %s in use, %s rekeys\n", "keys", v, w);
	if (cli_kv_get(s->proj, "key_tlps", v, sizeof(v)) &&
	    cli_kv_get(s->proj, "key_tlps_max_per_key", w, sizeof(w))) {
		printf("  %-14s %s TLPs on the set (busiest key %s)", "", v, w);
		if (cli_kv_get(s->proj, "key_age_ms", v, sizeof(v)))
			printf(", age %s ms", v);
		printf("\n");
		if (cli_kv_get(s->proj, "key_next_refresh", v, sizeof(v))) {
			printf("  %-14s automatic refresh off\n", "next refresh");
		} else if (cli_kv_get(s->proj, "key_next_refresh_tlps", v, sizeof(v)) &&
			   cli_kv_get(s->proj, "key_next_refresh_ms", w, sizeof(w))) {
			printf("  %-14s after %s more TLPs on a key", "next refresh", v);
			if (strcmp(w, "none"))
				printf(" or in %s ms", w);
			printf("\n");
		}
	}
	if (verbose || !s->connect[0])
		cli_failure_print(stdout, s->proj, "  ");
}

void cli_failure_print(FILE *out, const char *proj, const char *indent)
{
	char v[320], w[320];

	if (!proj || !cli_kv_get(proj, "last_failure_step", v, sizeof(v)))
		return;
	fprintf(out, "%s%-14s step %s", indent, "last failure", v);
	if (cli_kv_get(proj, "last_failure_errno", w, sizeof(w)))
		fprintf(out, ", errno %s (%s)", w, strerror(atoi(w)));
	if (cli_kv_get(proj, "last_failure_error", w, sizeof(w)))
		fprintf(out, ", %s", w);
	fprintf(out, "\n");
	if (cli_kv_get(proj, "last_failure_peer_error", w, sizeof(w)))
		fprintf(out, "%s%-14s SPDM ERROR %s\n", indent, "", w);
	if (cli_kv_get(proj, "last_failure_peer_status", w, sizeof(w)))
		fprintf(out, "%s%-14s IDE_KM KP_ACK status %s\n", indent, "", w);
	if (cli_kv_get(proj, "last_failure_why", w, sizeof(w)))
		fprintf(out, "%s%-14s %s\n", indent, "", w);
}
