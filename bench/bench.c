/* SPDX-License-Identifier: MIT */
/* `pcitsm bench`: dispatch to the named benchmark. */
#include <stdio.h>
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
