/* SPDX-License-Identifier: MIT */
/* The environment: the real one (getrandom, CLOCK_MONOTONIC, stderr) and a deterministic one for
 * tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "pcitsm/core.h"

static pcitsm_err sys_random(const struct pcitsm_env *env, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return PCITSM_E_RNG;
		}
		p += got;
		n -= (size_t)got;
	}
	return PCITSM_OK;
}

static uint64_t sys_now_ns(const struct pcitsm_env *env)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sys_sleep_ns(const struct pcitsm_env *env, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void stderr_log(const struct pcitsm_env *env, enum pcitsm_log_level lvl, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	fprintf(stderr, "pcitsm: %s: %s\n", names[lvl], msg);
}

enum pcitsm_log_level pcitsm_log_level_parse(const char *s, enum pcitsm_log_level dflt)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	if (!s)
		return dflt;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (enum pcitsm_log_level)i;
	return dflt;
}

const struct pcitsm_env *pcitsm_env_default(void)
{
	/* Written once before any thread can observe it (first call is from main). */
	static struct pcitsm_env env;
	static int ready;

	if (!ready) {
		env.random = sys_random;
		env.now_ns = sys_now_ns;
		env.sleep_ns = sys_sleep_ns;
		env.log = stderr_log;
		env.log_level = pcitsm_log_level_parse(getenv("PCITSM_LOG"), PCITSM_LOG_WARN);
		ready = 1;
	}
	return &env;
}

/* The test env's state is mutable although engines hold a const pointer to its env: the object
 * itself is not const, so casting the qualifier away here is defined. */
static struct pcitsm_env_test *test_env(const struct pcitsm_env *env)
{
	return pcitsm_container_of((struct pcitsm_env *)(uintptr_t)env, struct pcitsm_env_test, env);
}

/* splitmix64: deterministic and fast. Tests only: never a source of real keys. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static pcitsm_err test_random(const struct pcitsm_env *env, void *buf, size_t n)
{
	struct pcitsm_env_test *t = test_env(env);
	uint8_t *p = buf;

	if (t->rng_fail)
		return PCITSM_E_RNG;
	while (n) {
		uint64_t v = splitmix64(&t->rng_state);
		size_t k = PCITSM_MIN(n, sizeof(v));
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
	return PCITSM_OK;
}

static uint64_t test_now_ns(const struct pcitsm_env *env)
{
	const struct pcitsm_env_test *t = test_env(env);
	return t->clock_ns;
}

static void test_sleep_ns(const struct pcitsm_env *env, uint64_t ns)
{
	struct pcitsm_env_test *t = test_env(env);
	t->clock_ns += ns;
}

void pcitsm_env_test_init(struct pcitsm_env_test *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->env.random = test_random;
	t->env.now_ns = test_now_ns;
	t->env.sleep_ns = test_sleep_ns;
	t->env.log = stderr_log;
	t->env.log_level = pcitsm_log_level_parse(getenv("PCITSM_LOG"), PCITSM_LOG_ERR);
	t->rng_state = seed;
	t->clock_ns = 1000000000ull;
}

pcitsm_err pcitsm_random(const struct pcitsm_env *env, void *buf, size_t n)
{
	return env->random(env, buf, n);
}

uint64_t pcitsm_now_ns(const struct pcitsm_env *env)
{
	return env->now_ns(env);
}

void pcitsm_sleep_ns(const struct pcitsm_env *env, uint64_t ns)
{
	env->sleep_ns(env, ns);
}

void pcitsm_log(const struct pcitsm_env *env, enum pcitsm_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!env || !env->log || lvl > env->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	env->log(env, lvl, msg);
}
