/* SPDX-License-Identifier: MIT */
/*
 * pcitsm apply FILE: the host's link policy (docs/apply.md, include/pcitsm/policy_apply.h) made
 * true. The file says which functions must be connected (and what their connection must show)
 * and which TDIs must be CONFIG_LOCKED or RUN; apply reads what the sysfs root shows (the files
 * connect and status read), computes the difference, and acts in a safe order: every connect
 * first, then every lock, then every accept. It never disconnects or unlocks a function the file
 * does not name. Drift (a stream Insecure at either end, a TDI in ERROR or not in the state the
 * file names) is repaired: reconnect, or unlock + lock (+ accept). --dry-run prints the plan and
 * writes nothing; --check only reports and exits 3 when anything would change.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pcitsm/policy_apply.h"
#include "tdi.h"
#include "tsmstat.h"

#define MAX_DEVS 256
#define CLI_EXIT_DRIFT 3 /* --check: the host is not in the state the file names */

struct apply_dev {
	struct pcitsm_apply_ids ids;
	bool has_connect, has_lock;
	int entry;          /* index in the file, -1: not named */
	bool connected_now; /* connected (or reconnected) by this run */
	json_object *j;
	json_object *actions;
};

struct apply_run {
	struct cli_sysroot r;
	const char *sysfs;
	struct pcitsm_apply *a;
	struct pcitsm_policy *pols[PCITSM_APPLY_MAX_ENTRIES]; /* entry i's policy, or NULL */
	bool act;                                           /* neither --dry-run nor --check */
	bool json;
	struct apply_dev *devs;
	size_t nr;
	unsigned changes, repairs, errors;
};

static const struct pcitsm_apply_entry *entry_of(const struct apply_run *x,
						 const struct apply_dev *d)
{
	return &x->a->e[d->entry];
}

/* ---------------------------------------------------------------------------------------------
 * Output: one line per step in text, one object per step in JSON.
 */

/* A step about to be taken (or planned): kind "change" brings a function to the file's state for
 * the first time, "repair" undoes drift. Returns the step's JSON object. */
static json_object *step_begin(struct apply_run *x, struct apply_dev *d, const char *op,
			       bool repair, const char *why)
{
	const struct cli_bdf_name addr = cli_bdf_name(&d->ids.bdf);
	json_object *o = json_object_new_object();

	if (repair)
		x->repairs++;
	else
		x->changes++;
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "kind", json_object_new_string(repair ? "repair" : "change"));
	json_object_object_add(o, "reason", json_object_new_string(why));
	json_object_array_add(d->actions, o);
	if (!x->json)
		printf("%s (%s): %s%s: %s%s", addr.s, entry_of(x, d)->name,
		       repair ? "drift, " : "", why, x->act ? "" : "would ", op);
	if (!x->act) {
		json_object_object_add(o, "result", json_object_new_string("planned"));
		if (!x->json)
			printf("\n");
	}
	fflush(stdout);
	return o;
}

static void step_end(struct apply_run *x, json_object *o, int rc)
{
	json_object_object_add(o, "result", json_object_new_string(rc ? "failed" : "done"));
	if (rc)
		x->errors++;
	if (!x->json)
		printf(" ... %s\n", rc ? "FAILED" : "done");
	fflush(stdout);
}

/* A problem that is not a step: the function cannot be brought to the file's state. */
PCITSM_PRINTF(3, 4)
static void problem(struct apply_run *x, struct apply_dev *d, const char *fmt, ...)
{
	json_object *errs;
	char buf[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	x->errors++;
	if (!json_object_object_get_ex(d->j, "errors", &errs)) {
		errs = json_object_new_array();
		json_object_object_add(d->j, "errors", errs);
	}
	json_object_array_add(errs, json_object_new_string(buf));
	if (!x->json)
		fprintf(stderr, "pcitsm: apply %s (%s): %s\n", cli_bdf_name(&d->ids.bdf).s,
			entry_of(x, d)->name, buf);
}

/* ---------------------------------------------------------------------------------------------
 * Phase 1: connections
 */

/* Whether the registered stream is Secure at both ends (PCIe 6.x §7.9.26 Selective IDE Stream
 * Status); else why not. */
static bool stream_secure(const struct cli_dev_status *s, char *why, size_t len)
{
	if (!s->has_stream)
		snprintf(why, len, "no IDE stream registered");
	else if (!s->ep.found || s->ep.state != 2)
		snprintf(why, len, "%s %s at the endpoint", s->stream,
			 s->ep.found ? cli_ide_state_word(s->ep.state) : "unreadable");
	else if (!s->rp.found || s->rp.state != 2)
		snprintf(why, len, "%s %s at the root port", s->stream,
			 s->rp.found ? cli_ide_state_word(s->rp.state) : "unreadable");
	else
		return true;
	return false;
}

/* What the connection shows: the TSM's published parameters (the project status) and the
 * certificate chain's RootHash (its evidence). On a host without them the fields stay empty and
 * a requirement on them fails as "not shown". */
static void seen_read(const struct apply_run *x, const struct cli_dev_status *s,
		      struct pcitsm_apply_seen *seen)
{
	char v[32], path[PATH_MAX];
	uint8_t *chain;
	size_t n = 0;
	FILE *f;

	memset(seen, 0, sizeof(*seen));
	if (!s->proj)
		return;
	/* The status's text becomes typed values here, once. */
	if (cli_kv_get(s->proj, "spdm_version", v, sizeof(v)) &&
	    pcitsm_spdm_version_parse(v, &seen->spdm_version) != PCITSM_OK)
		seen->spdm_version = 0;
	if (cli_kv_get(s->proj, "base_asym", v, sizeof(v)))
		(void)pcitsm_apply_asym_parse(v, &seen->asym);
	if (cli_kv_get(s->proj, "base_hash", v, sizeof(v)))
		(void)pcitsm_apply_hash_parse(v, &seen->hash);
	if (cli_kv_get(s->proj, "dhe", v, sizeof(v)))
		(void)pcitsm_apply_dhe_parse(v, &seen->dhe);
	if (cli_kv_get(s->proj, "aead", v, sizeof(v)))
		(void)pcitsm_apply_aead_parse(v, &seen->aead);
	if (!cli_proj_path(&x->r, &s->bdf, "evidence/certificate_chain", path, sizeof(path)))
		return;
	chain = malloc(UINT16_MAX + 1);
	f = chain ? fopen(path, "rb") : NULL;
	if (f) {
		n = fread(chain, 1, UINT16_MAX + 1, f);
		fclose(f);
		/* A chain that does not parse shows no root hash: a requirement on it fails. */
		if (pcitsm_apply_chain_root_hash(chain, n, seen->hash, seen) != PCITSM_OK)
			seen->has_root_hash = false;
	}
	free(chain);
}

/* The entry's requirements against the connection as it is now: true if they hold. A connection
 * this run made that fails them is taken down again (it was made for the file, and the file
 * refuses it); one made before is reported and left. */
static bool require_check(struct apply_run *x, struct apply_dev *d)
{
	const struct pcitsm_apply_entry *en = entry_of(x, d);
	struct pcitsm_apply_seen seen;
	struct cli_dev_status s;
	char why[200], secure_why[96];
	bool ok = true;

	cli_dev_status_read(&x->r, &d->ids.bdf, &s);
	if (!s.connect[0]) {
		problem(x, d, "not connected after connect");
		ok = false;
	} else if (en->req.ide && !stream_secure(&s, secure_why, sizeof(secure_why))) {
		problem(x, d, "connected, but %s (the file requires a Secure stream)", secure_why);
		ok = false;
	} else {
		seen_read(x, &s, &seen);
		if (pcitsm_apply_require_check(&en->req, &seen, why, sizeof(why)) != PCITSM_OK) {
			problem(x, d, "the connection does not meet the file: %s%s", why,
				d->connected_now ? "; disconnected again" : "; left as it is");
			ok = false;
		}
	}
	if (!ok && d->connected_now && s.connect[0])
		(void)cli_disconnect_one(&x->r, &d->ids.bdf, s.connect, true, true);
	json_object_object_add(d->j, "connection_meets_file", json_object_new_boolean(ok));
	cli_dev_status_free(&s);
	return ok;
}

static int do_connect(struct apply_run *x, struct apply_dev *d, const char *tsm)
{
	json_object *detail = json_object_new_array();
	int rc = cli_connect_one(&x->r, &d->ids.bdf, tsm, true, detail);

	if (rc && !x->json) {
		json_object *o = json_object_array_get_idx(detail, 0), *e;
		int err = o && json_object_object_get_ex(o, "errno", &e) ? json_object_get_int(e) : 0;
		const char *m = cli_connect_errno_meaning(err);

		fprintf(stderr, "pcitsm: apply %s: write %s to tsm/connect: %s (errno %d)%s%s\n",
			cli_bdf_name(&d->ids.bdf).s, tsm, strerror(err), err, m ? ": " : "",
			m ? m : "");
	}
	json_object_put(detail);
	d->connected_now = !rc;
	return rc;
}

static void connect_dev(struct apply_run *x, struct apply_dev *d)
{
	const struct pcitsm_apply_entry *en = entry_of(x, d);
	struct cli_dev_status s;
	char tsm[PCITSM_APPLY_TSM_MAX], why[96];
	json_object *o;
	int rc;

	if (en->tsm[0])
		snprintf(tsm, sizeof(tsm), "%s", en->tsm);
	else if (!cli_first_tsm(&x->r, tsm, sizeof(tsm))) {
		problem(x, d, "no TSM under %s/class/tsm", x->r.root);
		return;
	}
	cli_dev_status_read(&x->r, &d->ids.bdf, &s);
	cli_dev_status_free(&s);
	if (!s.connect[0]) {
		o = step_begin(x, d, "connect", false, "not connected");
	} else if (en->req.ide && !stream_secure(&s, why, sizeof(why))) {
		/* The stream fell Insecure (a failed integrity check, keys gone with the session):
		 * only a new connection gives the function new keys (PCIe 6.x §6.33.3). */
		o = step_begin(x, d, "reconnect", true, why);
	} else {
		/* Connected as the file wants: it must still show what the file requires. */
		(void)require_check(x, d);
		return;
	}
	if (!x->act)
		return;
	rc = s.connect[0] ? cli_disconnect_one(&x->r, &d->ids.bdf, s.connect, false, true) : 0;
	if (!rc)
		rc = do_connect(x, d, tsm);
	step_end(x, o, rc);
	if (!rc)
		(void)require_check(x, d);
}

/* A function without tsm/connect (a VF, a non-zero function) is connected through its DSM
 * (Linux drivers/pci/tsm.c find_dsm_dev: physfn, else function 0): that one must be. */
static void dsm_check(struct apply_run *x, struct apply_dev *d)
{
	char path[PATH_MAX], link[PATH_MAX], cur[32] = "";
	struct pcitsm_bdf dsm = d->ids.bdf;
	const char *base;
	ssize_t n;

	dsm.fn = 0;
	if (cli_dev_path(&x->r, &d->ids.bdf, "physfn", path, sizeof(path)) &&
	    (n = readlink(path, link, sizeof(link) - 1)) > 0) {
		link[n] = '\0';
		base = strrchr(link, '/');
		/* The sysfs edge: the link's last element becomes an address here. */
		if (pcitsm_bdf_parse(base ? base + 1 : link, &dsm) != PCITSM_OK)
			dsm.fn = 0;
	}
	json_object_object_add(d->j, "dsm", json_object_new_string(cli_bdf_name(&dsm).s));
	if (cli_dev_path(&x->r, &dsm, "tsm/connect", path, sizeof(path)) &&
	    cli_attr_read(path, cur, sizeof(cur)) == 0 && cur[0])
		return;
	/* In a plan, the DSM may be among the connects planned. */
	for (size_t i = 0; !x->act && i < x->nr; i++)
		if (!cli_bdf_cmp(&x->devs[i].ids.bdf, &dsm) && x->devs[i].entry >= 0 &&
		    entry_of(x, &x->devs[i])->connect)
			return;
	problem(x, d, "connected through its DSM %s, which is not connected (name it in the file)",
		cli_bdf_name(&dsm).s);
}

/* ---------------------------------------------------------------------------------------------
 * Phases 2 and 3: TDIs
 */

static int tdi_lock(struct apply_run *x, struct apply_dev *d)
{
	const struct pcitsm_apply_entry *en = entry_of(x, d);
	char name[64];

	if (!cli_tdi_tsm(&x->r, en->tdi_tsm[0] ? en->tdi_tsm : NULL, name, sizeof(name)))
		return cli_failf("apply %s: no TSM to lock with", cli_bdf_name(&d->ids.bdf).s);
	return cli_tdi_write(&x->r, &d->ids.bdf, "apply", "lock", name, NULL);
}

static int tdi_unlock(struct apply_run *x, struct apply_dev *d)
{
	char path[PATH_MAX], holder[64] = "";

	/* The kernel wants the name that locked it. */
	if (!cli_dev_path(&x->r, &d->ids.bdf, "tsm/lock", path, sizeof(path)) ||
	    cli_attr_read(path, holder, sizeof(holder)) || !holder[0])
		return cli_failf("apply %s: tsm/lock names no holder", cli_bdf_name(&d->ids.bdf).s);
	return cli_tdi_write(&x->r, &d->ids.bdf, "apply", "unlock", holder, NULL);
}

static int tdi_accept(struct apply_run *x, struct apply_dev *d)
{
	const struct pcitsm_apply_entry *en = entry_of(x, d);
	const struct pcitsm_policy *pol = x->pols[d->entry];
	struct cli_tdi_ev *ev = calloc(1, sizeof(*ev));
	int rc;

	if (!ev)
		return cli_fail("apply", PCITSM_E_NOMEM);
	rc = cli_tdi_read(&x->r, &d->ids.bdf, "apply", pol && pol->nr_meas,
			  cli_tdi_real_host(x->sysfs), ev);
	if (!rc)
		rc = cli_tdi_accept(&x->r, &d->ids.bdf, ev, pol, en->policy, true);
	cli_tdi_free(ev);
	free(ev);
	return rc;
}

/* Phase 2: the TDI locked (from UNLOCKED, or again after ERROR or an unwanted RUN). *need_accept:
 * phase 3 must start it. */
static void lock_dev(struct apply_run *x, struct apply_dev *d, bool *need_accept)
{
	const struct pcitsm_apply_entry *en = entry_of(x, d);
	const char *want = pcitsm_apply_tdi_name(en->tdi);
	char state[32], why[96];
	json_object *o;
	int rc;

	*need_accept = false;
	if (!d->has_lock) {
		problem(x, d, "no tsm/lock: the host shows no TDISP for this function");
		return;
	}
	cli_tdi_state(&x->r, &d->ids.bdf, state, sizeof(state));
	json_object_object_add(d->j, "tdi_state", json_object_new_string(state));
	if (!strcmp(state, want))
		return;
	if (!strcmp(state, "CONFIG_UNLOCKED")) {
		o = step_begin(x, d, "lock", false, "TDI CONFIG_UNLOCKED");
		if (x->act)
			step_end(x, o, tdi_lock(x, d));
	} else if (!strcmp(state, "CONFIG_LOCKED")) {
		/* Wanted RUN, left locked (an accept that failed, or one never made). */
	} else if (!strcmp(state, "ERROR") || !strcmp(state, "RUN")) {
		/* ERROR leaves only through CONFIG_UNLOCKED (TDISP, PCIe 6.x §11.2 state machine):
		 * STOP, then LOCK again, so new evidence is read and judged. */
		snprintf(why, sizeof(why), "TDI %s, the file names %s", state, want);
		o = step_begin(x, d, "unlock+lock", true, why);
		if (x->act) {
			rc = tdi_unlock(x, d);
			step_end(x, o, rc ? rc : tdi_lock(x, d));
		}
	} else {
		problem(x, d, "the TDI's state is not shown (%s)", state[0] ? state : "empty");
		return;
	}
	*need_accept = en->tdi == PCITSM_APPLY_TDI_RUN;
}

/* Phase 3: accept against the entry's policy; after it, the TDI must read RUN. */
static void accept_dev(struct apply_run *x, struct apply_dev *d, bool relocked)
{
	char state[32];
	json_object *o;
	int rc;

	if (x->act) {
		cli_tdi_state(&x->r, &d->ids.bdf, state, sizeof(state));
		if (strcmp(state, "CONFIG_LOCKED"))
			return; /* the lock failed: already counted */
	}
	o = step_begin(x, d, "accept", !relocked,
		       relocked ? "TDI CONFIG_LOCKED" : "TDI CONFIG_LOCKED, the file names RUN");
	if (!x->act)
		return;
	rc = tdi_accept(x, d);
	if (!rc) {
		cli_tdi_state(&x->r, &d->ids.bdf, state, sizeof(state));
		if (strcmp(state, "RUN"))
			rc = cli_failf("apply %s: accepted, but the TDI reads %s",
				       cli_bdf_name(&d->ids.bdf).s, state);
	}
	step_end(x, o, rc);
}

/* ---------------------------------------------------------------------------------------------
 * The run
 */

/* A sysfs ID file ("0x7063\n") as a number; 0xffffffff when unreadable. */
static uint32_t id_read(const struct apply_run *x, const struct pcitsm_bdf *bdf, const char *file)
{
	char path[PATH_MAX], v[32], *end;
	unsigned long n;

	if (!cli_dev_path(&x->r, bdf, file, path, sizeof(path)) ||
	    cli_attr_read(path, v, sizeof(v)))
		return UINT32_MAX;
	errno = 0;
	n = strtoul(v, &end, 16);
	return errno || end == v || *end || n > 0xffffff ? UINT32_MAX : (uint32_t)n;
}

static bool scan(struct apply_run *x)
{
	static const char *const tsm_files[] = { "tsm/connect", "tsm/lock", NULL };
	struct pcitsm_bdf *b = calloc(MAX_DEVS, sizeof(*b));
	char path[PATH_MAX];

	x->devs = calloc(MAX_DEVS, sizeof(*x->devs));
	if (!b || !x->devs) {
		free(b);
		return false;
	}
	x->nr = cli_pci_functions(&x->r, tsm_files, b, MAX_DEVS);
	for (size_t i = 0; i < x->nr; i++) {
		struct apply_dev *d = &x->devs[i];
		uint32_t v = id_read(x, &b[i], "vendor"), dv = id_read(x, &b[i], "device");

		d->ids.bdf = b[i];
		d->ids.vendor = v > 0xffff ? 0xffff : (uint16_t)v;
		d->ids.device = dv > 0xffff ? 0xffff : (uint16_t)dv;
		d->ids.class_code = id_read(x, &b[i], "class");
		d->has_connect = cli_dev_path(&x->r, &b[i], "tsm/connect", path, sizeof(path)) &&
				 access(path, F_OK) == 0;
		d->has_lock = cli_dev_path(&x->r, &b[i], "tsm/lock", path, sizeof(path)) &&
			      access(path, F_OK) == 0;
		d->entry = pcitsm_apply_find(x->a, &d->ids);
		d->j = json_object_new_object();
		d->actions = json_object_new_array();
		json_object_object_add(d->j, "device", json_object_new_string(cli_bdf_name(&b[i]).s));
	}
	free(b);
	return true;
}

/* Entries that matched no function: a named address that is missing is an error (the file
 * names hardware that is not there); an ID match that finds nothing is only said. */
static void unmatched_entries(struct apply_run *x, json_object *out)
{
	json_object *arr = json_object_new_array();

	for (unsigned e = 0; e < x->a->nr; e++) {
		bool hit = false;

		for (size_t i = 0; i < x->nr && !hit; i++)
			hit = x->devs[i].entry == (int)e;
		if (hit)
			continue;
		json_object_array_add(arr, json_object_new_string(x->a->e[e].name));
		if (x->a->e[e].match.has_bdf)
			x->errors++;
		if (!x->json)
			fprintf(stderr, "pcitsm: apply: entry %s matches no function here%s\n",
				x->a->e[e].name,
				x->a->e[e].match.has_bdf ? " (its address is missing)" : "");
	}
	json_object_object_add(out, "entries_without_device", arr);
}

static void run_phases(struct apply_run *x)
{
	bool accept[MAX_DEVS] = { false }, relocked[MAX_DEVS] = { false };

	/* 1: connections (a lock needs its DSM's session and stream). */
	for (size_t i = 0; i < x->nr; i++) {
		struct apply_dev *d = &x->devs[i];

		if (d->entry < 0 || !entry_of(x, d)->connect)
			continue;
		if (d->has_connect)
			connect_dev(x, d);
		else
			dsm_check(x, d);
	}
	/* 2: locks. */
	for (size_t i = 0; i < x->nr; i++) {
		struct apply_dev *d = &x->devs[i];
		char state[32];

		if (d->entry < 0 || entry_of(x, d)->tdi == PCITSM_APPLY_TDI_ANY)
			continue;
		cli_tdi_state(&x->r, &d->ids.bdf, state, sizeof(state));
		relocked[i] = strcmp(state, "CONFIG_LOCKED") != 0;
		lock_dev(x, d, &accept[i]);
	}
	/* 3: accepts, once every lock is done. */
	for (size_t i = 0; i < x->nr; i++)
		if (accept[i])
			accept_dev(x, &x->devs[i], relocked[i]);
}

static void report(struct apply_run *x, const char *file, const char *mode, json_object *out)
{
	json_object *devs = json_object_new_array(), *unmatched = json_object_new_array();

	for (size_t i = 0; i < x->nr; i++) {
		struct apply_dev *d = &x->devs[i];

		if (d->entry < 0) {
			if (x->a->unmatched == PCITSM_APPLY_UNMATCHED_REPORT) {
				json_object_array_add(unmatched, json_object_new_string(
									 cli_bdf_name(&d->ids.bdf).s));
				if (!x->json)
					printf("%s: not named in the file, left alone\n",
					       cli_bdf_name(&d->ids.bdf).s);
			}
			continue;
		}
		if (!x->json && !json_object_array_length(d->actions) &&
		    !json_object_object_get_ex(d->j, "errors", NULL))
			printf("%s (%s): in state\n", cli_bdf_name(&d->ids.bdf).s,
			       entry_of(x, d)->name);
		json_object_object_add(d->j, "entry",
				       json_object_new_string(entry_of(x, d)->name));
		json_object_object_add(d->j, "actions", json_object_get(d->actions));
		json_object_array_add(devs, json_object_get(d->j));
	}
	json_object_object_add(out, "file", json_object_new_string(file));
	json_object_object_add(out, "mode", json_object_new_string(mode));
	json_object_object_add(out, "devices", devs);
	json_object_object_add(out, "unmatched", unmatched);
	json_object_object_add(out, "changes", json_object_new_int((int)x->changes));
	json_object_object_add(out, "repairs", json_object_new_int((int)x->repairs));
	json_object_object_add(out, "errors", json_object_new_int((int)x->errors));
	json_object_object_add(out, "in_state",
			       json_object_new_boolean(!x->changes && !x->repairs && !x->errors));
}

/* The file, parsed, and every policy it names loaded, before anything is touched: a bad file
 * changes nothing. 0 or CLI_EXIT_USAGE (the field named). */
static int load(struct apply_run *x, const char *file)
{
	char why[256] = "";
	FILE *f = fopen(file, "rb");
	char *text;
	size_t n;

	if (!f) {
		cli_failf("apply: %s: %s", file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	text = malloc(PCITSM_APPLY_TEXT_MAX + 1);
	x->a = calloc(1, sizeof(*x->a));
	n = text ? fread(text, 1, PCITSM_APPLY_TEXT_MAX + 1, f) : 0;
	fclose(f);
	if (!text || !x->a) {
		free(text);
		cli_fail("apply", PCITSM_E_NOMEM);
		return CLI_EXIT_FAIL;
	}
	if (pcitsm_apply_parse(text, n, x->a, why, sizeof(why)) != PCITSM_OK) {
		free(text);
		cli_failf("apply: %s is not valid: %s", file, why);
		return CLI_EXIT_USAGE;
	}
	free(text);
	for (unsigned i = 0; i < x->a->nr; i++) {
		if (!x->a->e[i].policy[0])
			continue;
		x->pols[i] = calloc(1, sizeof(*x->pols[i]));
		if (!x->pols[i] || !cli_policy_load("apply", x->a->e[i].policy, x->pols[i]))
			return CLI_EXIT_USAGE;
	}
	return 0;
}

static void apply_free(struct apply_run *x)
{
	for (size_t i = 0; i < x->nr; i++) {
		json_object_put(x->devs[i].j);
		json_object_put(x->devs[i].actions);
	}
	for (unsigned i = 0; i < PCITSM_APPLY_MAX_ENTRIES; i++)
		free(x->pols[i]);
	free(x->devs);
	free(x->a);
}

static int apply_main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_ARG("sysfs", 's'), CLI_OPT_FLAG("dry-run", 'n'), CLI_OPT_FLAG("check", 'c'),
		CLI_OPT_FLAG("json", 'j'), { 0 }
	};
	struct apply_run *x = calloc(1, sizeof(*x));
	bool dry_run = false, check = false;
	const char *mode;
	json_object *out;
	int c, rc;

	if (!x)
		return cli_fail("apply", PCITSM_E_NOMEM);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': x->sysfs = optarg; break;
		case 'n': dry_run = true; break;
		case 'c': check = true; break;
		case 'j': x->json = true; break;
		default: free(x); return cli_usage("apply");
		}
	}
	if (optind != argc - 1) {
		free(x);
		return cli_usage("apply");
	}
	mode = check ? "check" : dry_run ? "dry-run" : "apply";
	x->act = !dry_run && !check;
	rc = load(x, argv[optind]);
	if (rc || !cli_sysroot_open(&x->r, x->sysfs)) {
		apply_free(x);
		free(x);
		return rc ? rc : CLI_EXIT_FAIL;
	}
	if (x->r.embedded)
		fprintf(stderr, "pcitsm: apply: note: this host has no TSM; the file is applied to an "
				"emulated platform that ends with this command (--sysfs DIR for a "
				"pcitsmd mirror)\n");
	out = json_object_new_object();
	if (!scan(x)) {
		rc = cli_fail("apply", PCITSM_E_NOMEM);
	} else {
		run_phases(x);
		unmatched_entries(x, out);
		report(x, argv[optind], mode, out);
		rc = x->errors			    ? CLI_EXIT_FAIL
		     : check && (x->changes || x->repairs) ? CLI_EXIT_DRIFT
							   : 0;
	}
	if (x->json)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (!rc)
		printf("%s: %s\n", argv[optind],
		       x->changes || x->repairs
			       ? (x->act ? "applied" : "not in state (see above)")
			       : "in state, nothing to do");
	else if (rc == CLI_EXIT_DRIFT)
		printf("%s: not in state: %u changes, %u repairs needed\n", argv[optind], x->changes,
		       x->repairs);
	json_object_put(out);
	cli_sysroot_close(&x->r);
	apply_free(x);
	free(x);
	return rc;
}

const struct cli_cmd cli_cmd_apply = {
	.name = "apply",
	.args = "FILE [--dry-run | --check] [--json] [--sysfs DIR]",
	.summary = "make the host's link policy true: connect, lock and accept what FILE names",
	.run = apply_main,
};
