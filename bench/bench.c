/* SPDX-License-Identifier: MIT */
/* `pcitsm bench`: dispatch to the named benchmark. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

static const struct bench *const benches[] = {
#define BENCH(name) &bench_##name,
#include "benches.def"
#undef BENCH
	NULL,
};

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_opts_parse(int argc, char **argv, const struct bench_opt *opts, size_t nr_opts)
{
	for (int i = 1; i < argc; i++) {
		const struct bench_opt *o = NULL;

		for (size_t k = 0; k < nr_opts && !o; k++)
			if (!strcmp(argv[i], opts[k].name))
				o = &opts[k];
		if (o && !o->parse) {
			*(bool *)o->out = true;
			continue;
		}
		if (!o || i + 1 >= argc || o->parse(argv[++i], o->out) < 0)
			return -1;
	}
	return 0;
}

int bench_parse_seconds(const char *arg, void *out)
{
	double *seconds = out;
	char *end;

	*seconds = strtod(arg, &end);
	return end != arg && !*end && *seconds > 0 && *seconds <= 3600 ? 0 : -1;
}

int bench_parse_curve(const char *arg, void *out)
{
	unsigned *bits = out;

	if (!strcmp(arg, "p256"))
		*bits = 256;
	else if (!strcmp(arg, "p384"))
		*bits = 384;
	else
		return -1;
	return 0;
}

void bench_report_init(struct bench_report *r, const char *name, bool json)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->json = json;
	r->progress = isatty(STDERR_FILENO);
	r->doc = json_object_new_object();
	r->rows = json_object_new_array();
	bench_set_str(r->doc, "bench", name);
	bench_set_int(r->doc, "schema", 1);
	json_object_object_add(r->doc, "rows", r->rows); /* the document owns it */
}

json_object *bench_row(struct bench_report *r)
{
	json_object *row = json_object_new_object();

	json_object_array_add(r->rows, row);
	return row;
}

void bench_set_num(json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, json_object_new_double(v));
}

void bench_set_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void bench_set_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

void bench_progress_steps(struct bench_report *r, unsigned steps)
{
	r->steps = steps;
	r->step = 0;
}

/* "\r" back to the start of the line, ESC [ K erases it: the line is rewritten in place. */
#define LINE_CLEAR "\r\033[K"

void bench_progress(struct bench_report *r, const char *fmt, ...)
{
	va_list ap;

	r->step++;
	if (!r->progress)
		return;
	if (r->steps)
		fprintf(stderr, LINE_CLEAR "pcitsm bench %s [%u/%u] ", r->name, r->step, r->steps);
	else
		fprintf(stderr, LINE_CLEAR "pcitsm bench %s [%u] ", r->name, r->step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	r->shown = true;
}

static void progress_clear(struct bench_report *r)
{
	if (!r->shown)
		return;
	fputs(LINE_CLEAR, stderr);
	fflush(stderr);
	r->shown = false;
}

bool bench_text(struct bench_report *r)
{
	if (r->json)
		return false;
	progress_clear(r);
	return true;
}

int bench_report_finish(struct bench_report *r, int rc)
{
	progress_clear(r);
	if (r->json && !rc)
		printf("%s\n", json_object_to_json_string_ext(r->doc, JSON_C_TO_STRING_PRETTY));
	json_object_put(r->doc);
	memset(r, 0, sizeof(*r));
	return rc;
}

static int bench_main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pcitsm bench NAME [ARGS] [--json]\nbenchmarks:\n");
		for (size_t i = 0; benches[i]; i++)
			fprintf(stderr, "  %-10s %s\n", benches[i]->name, benches[i]->summary);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; benches[i]; i++)
		if (!strcmp(benches[i]->name, argv[1]))
			return benches[i]->run(argc - 1, argv + 1);
	fprintf(stderr, "pcitsm: bench: unknown benchmark '%s'\n", argv[1]);
	return CLI_EXIT_USAGE;
}

const struct cli_cmd cli_cmd_bench = {
	.name = "bench",
	.args = "NAME [ARGS]",
	.summary = "run a benchmark; prints its figure beside a baseline from the same run",
	.run = bench_main,
};
