/* SPDX-License-Identifier: MIT */
/* `pcitsm bench NAME`: every benchmark prints its figure, the baseline measured in the same run,
 * and the ratio. One bench_<name>.c per benchmark, listed in benches.def. */
#ifndef PCITSM_BENCH_H
#define PCITSM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct bench {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

#define BENCH(name) extern const struct bench bench_##name;
#include "benches.def"
#undef BENCH

/* Monotonic seconds, for timing loops. */
double bench_now(void);

/* The options of a benchmark: `--name VALUE` pairs, each read by its parse function into out.
 * bench_opts_parse reads argv[1..argc-1]; it returns -1 (the caller prints its usage) for an
 * option not in opts, one without a value, or a value its parse function refuses, else 0. */
struct bench_opt {
	const char *name; /* "--seconds" */
	int (*parse)(const char *arg, void *out); /* 0, or -1 for a value it refuses; NULL: a flag
						   * without a value, out is a bool set true */
	void *out;
};
int bench_opts_parse(int argc, char **argv, const struct bench_opt *opts, size_t nr_opts);
/* The shared value readers. --seconds: a double in (0, 3600]. --curve and --dhe: p256 or p384
 * into an unsigned 256 or 384. */
int bench_parse_seconds(const char *arg, void *out);
int bench_parse_curve(const char *arg, void *out);

/* bench ide's burst row (bN) for payloads of len bytes: GB/s of payload through both engines per
 * second of this thread's CPU time, measured for about `seconds`; -1 on failure. */
double bench_ide_burst_gbps(size_t len, double seconds);

/*
 * What a benchmark reports: one mechanism for every benchmark (spdm, ide, connect, dma, scale).
 *   --json      every benchmark accepts it (a flag: { "--json", NULL, &json } in its options);
 *               stdout then holds one JSON document and no text (docs/performance.md "JSON
 *               output" is the schema):
 *                 { "bench": NAME, "schema": 1, <the run's settings>, "rows": [ {...}, ... ] }
 *               each row one figure's flat set of fields (numbers, strings), the same keys in
 *               every row of one kind; a figure and its baseline from the same run sit in one
 *               row with their ratio.
 *   progress    a one-line progress display on stderr, only when stderr is a terminal (isatty),
 *               rewritten in place at each step and cleared at the end: nothing extra at all on
 *               a pipe or a file.
 * Use:
 *	struct bench_report r;
 *	bench_report_init(&r, "scale", json);
 *	bench_set_num(r.doc, "seconds", seconds);        settings, top level
 *	bench_progress_steps(&r, nr_steps);
 *	for each step:
 *		bench_progress(&r, "%u devices", n);     before the step's work
 *		json_object *row = bench_row(&r);
 *		bench_set_int(row, "devices", n); ...
 *		if (bench_text(&r)) printf(...);         the text table, unless --json
 *	return bench_report_finish(&r, rc);              clears the line; prints the JSON if rc == 0
 */
struct bench_report {
	const char *name;
	bool json;            /* --json */
	bool progress;        /* stderr is a terminal */
	bool shown;           /* a progress line is on the terminal */
	unsigned step, steps; /* progress: steps started, of steps (0: unknown) */
	json_object *doc;     /* the document; settings go in at the top level */
	json_object *rows;    /* its "rows" array */
};
void bench_report_init(struct bench_report *r, const char *name, bool json);
/* Print the text table? (not with --json). Clears a progress line first, so that the text
 * lands on a line of its own; the next bench_progress draws it again below. */
bool bench_text(struct bench_report *r);
/* A new row object, appended to "rows" (owned by the report). */
json_object *bench_row(struct bench_report *r);
void bench_set_num(json_object *o, const char *key, double v);
void bench_set_int(json_object *o, const char *key, int64_t v);
void bench_set_str(json_object *o, const char *key, const char *v);
/* Progress: the number of steps, then one call as each step starts ("[3/12] payload 256 ..."). */
void bench_progress_steps(struct bench_report *r, unsigned steps);
void bench_progress(struct bench_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Clear the progress line, print the document when --json and rc is 0, free; returns rc. */
int bench_report_finish(struct bench_report *r, int rc);

#endif
