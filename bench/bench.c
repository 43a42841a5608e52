/* SPDX-License-Identifier: MIT */
/* `pcitsm bench`: dispatch to the named benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int bench_main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pcitsm bench NAME [ARGS]\nbenchmarks:\n");
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
