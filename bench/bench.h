/* SPDX-License-Identifier: MIT */
/* `pcitsm bench NAME`: every benchmark prints its figure, the baseline measured in the same run,
 * and the ratio. One bench_<name>.c per benchmark, listed in benches.def. */
#ifndef PCITSM_BENCH_H
#define PCITSM_BENCH_H

#include <stddef.h>
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

/* The options of a benchmark: `--name VALUE` pairs, each read by its parse function into out.
 * bench_opts_parse reads argv[1..argc-1]; it returns -1 (the caller prints its usage) for an
 * option not in opts, one without a value, or a value its parse function refuses, else 0. */
struct bench_opt {
	const char *name; /* "--seconds" */
	int (*parse)(const char *arg, void *out); /* 0, or -1 for a value it refuses */
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

#endif
