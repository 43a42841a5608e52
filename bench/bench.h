/* SPDX-License-Identifier: MIT */
/* `pcitsm bench NAME`: every benchmark prints its figure, the baseline measured in the same run,
 * and the ratio. One bench_<name>.c per benchmark, listed in benches.def. */
#ifndef PCITSM_BENCH_H
#define PCITSM_BENCH_H

#include <stdint.h>

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

#endif
