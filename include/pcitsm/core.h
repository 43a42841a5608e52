/* SPDX-License-Identifier: MIT */
/*
 * pcitsm core: the one error type, the bounded byte reader and writer, the environment (random
 * source, clock, log) every engine receives, and the two primitives for secrets (wipe, constant-
 * time compare).
 *
 * Engines never do I/O and never read a global: everything they need from the outside comes in
 * through a struct pcitsm_env, so a test can make them deterministic.
 */
#ifndef PCITSM_CORE_H
#define PCITSM_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCITSM_MUST_CHECK __attribute__((warn_unused_result))
#define PCITSM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PCITSM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PCITSM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PCITSM_MAX(a, b) ((a) > (b) ? (a) : (b))
/* X-macro row to a switch case returning the row's name: X(name, value, ...) tables (idekm.h, tdisp.h). */
#define PCITSM_CASE_NAME(name, val, ...) \
	case val:                         \
		return #name;
/* A name function over such a table: const char *fn(type v), dflt for a value not in it. */
#define PCITSM_NAME_FN(fn, type, table, dflt) \
	const char *fn(type v)                \
	{                                     \
		switch (v) {                  \
			table(PCITSM_CASE_NAME)   \
		}                             \
		return dflt;                  \
	}
#define pcitsm_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---------------------------------------------------------------------------------------------
 * Errors. One enum for the whole project, grouped by whose fault it is. The group is the value's
 * hundreds digit, so a caller can ask "did the peer misbehave?" without listing codes.
 */
enum pcitsm_err_group {
	PCITSM_EG_NONE = 0,
	PCITSM_EG_CALLER = 1,    /* the caller used the API wrongly */
	PCITSM_EG_PEER = 2,      /* the device or remote peer sent something wrong */
	PCITSM_EG_LOCAL = 3,     /* this machine: memory, crypto library, pools */
	PCITSM_EG_TRANSPORT = 4, /* the channel: I/O, timeouts, dead mailbox */
};

#define PCITSM_ERRORS(X)                                                                  \
	X(OK, 0, "success")                                                               \
	/* caller */                                                                      \
	X(E_INVAL, 100, "invalid argument")                                               \
	X(E_STATE, 101, "operation not valid in the current state")                      \
	X(E_NOSPC, 102, "output buffer too small")                                        \
	X(E_UNSUPPORTED, 103, "not supported")                                            \
	X(E_NOTFOUND, 104, "no such object")                                              \
	X(E_EXISTS, 105, "already exists")                                                \
	/* peer / protocol */                                                             \
	X(E_SHORT, 200, "message too short")                                              \
	X(E_LONG, 201, "message has trailing bytes")                                      \
	X(E_FIELD, 202, "invalid field value")                                            \
	X(E_RESERVED, 203, "reserved field not zero")                                     \
	X(E_UNEXPECTED, 204, "unexpected message for the protocol state")                 \
	X(E_VERSION, 205, "no common protocol version")                                   \
	X(E_PEER_ERROR, 206, "peer reported an error")                                    \
	X(E_PEER_BUSY, 207, "peer busy")                                                  \
	X(E_MAC, 208, "integrity check failed")                                           \
	X(E_SIGNATURE, 209, "signature verification failed")                              \
	X(E_CERT, 210, "certificate chain not trusted")                                   \
	X(E_NONCE, 211, "nonce mismatch")                                                 \
	X(E_LOOP, 212, "capability list loops")                                           \
	X(E_RANGE, 213, "pointer or length out of range")                                 \
	X(E_REPLAY, 214, "replayed or out-of-order message")                              \
	X(E_HASH, 215, "hash mismatch")                                                   \
	X(E_MISMATCH, 216, "peer report disagrees with what the host read")              \
	/* local */                                                                       \
	X(E_NOMEM, 300, "out of memory")                                                  \
	X(E_CRYPTO, 301, "cryptographic library failure")                                 \
	X(E_RNG, 302, "random source failure")                                            \
	X(E_EXHAUSTED, 303, "resource pool exhausted")                                    \
	X(E_BUSY, 304, "resource busy")                                                   \
	X(E_OVERFLOW, 305, "counter would wrap")                                          \
	X(E_SYSTEM, 306, "system call failed")                                            \
	/* transport */                                                                   \
	X(E_IO, 400, "I/O error")                                                         \
	X(E_TIMEOUT, 401, "timed out")                                                    \
	X(E_DEAD, 402, "channel is dead")                                                 \
	X(E_CLOSED, 403, "connection closed")                                             \
	X(E_TRUNCATED, 404, "response larger than the buffer")                            \
	X(E_NORESPONSE, 405, "no response")

typedef enum pcitsm_err {
#define PCITSM_ERR_ENUM(name, val, str) PCITSM_##name = (val),
	PCITSM_ERRORS(PCITSM_ERR_ENUM)
#undef PCITSM_ERR_ENUM
} pcitsm_err;

const char *pcitsm_err_name(pcitsm_err e); /* "E_SHORT" */
const char *pcitsm_err_str(pcitsm_err e);  /* "message too short" */
enum pcitsm_err_group pcitsm_err_group(pcitsm_err e);
int pcitsm_err_errno(pcitsm_err e); /* a positive errno for the sysfs ABI and exit paths */
/* Format a reason into a caller's why buffer (the "why" of parsers and loaders); nothing when
 * why is NULL or why_len 0. */
PCITSM_PRINTF(3, 4) void pcitsm_why(char *why, size_t why_len, const char *fmt, ...);
/* The value of one hexadecimal digit (either case), or -1. */
int pcitsm_hex_digit(char c);
/* Exactly n bytes from s[0, len) written as 2n hexadecimal digits (either case), nothing else:
 * E_SHORT, E_LONG, E_FIELD (a character that is not a digit). out may be written on failure. */
pcitsm_err pcitsm_hex_decode(const char *s, size_t len, uint8_t *out, size_t n) PCITSM_MUST_CHECK;

/* Return the error of an expression that yields pcitsm_err, if any. */
#define PCITSM_TRY(expr)                          \
	do {                                      \
		pcitsm_err _e = (expr);           \
		if (_e != PCITSM_OK)              \
			return _e;                \
	} while (0)

/* ---------------------------------------------------------------------------------------------
 * Fixed-width encoders and decoders for raw pointers (hot paths that already checked bounds).
 */
static inline uint16_t pcitsm_get_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pcitsm_get_le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint32_t pcitsm_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pcitsm_get_le64(const uint8_t *p)
{
	return (uint64_t)pcitsm_get_le32(p) | (uint64_t)pcitsm_get_le32(p + 4) << 32;
}
static inline uint16_t pcitsm_get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t pcitsm_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t pcitsm_get_be64(const uint8_t *p)
{
	return (uint64_t)pcitsm_get_be32(p) << 32 | pcitsm_get_be32(p + 4);
}
static inline void pcitsm_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pcitsm_put_le24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16);
}
static inline void pcitsm_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void pcitsm_put_le64(uint8_t *p, uint64_t v)
{
	pcitsm_put_le32(p, (uint32_t)v);
	pcitsm_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline void pcitsm_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void pcitsm_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void pcitsm_put_be64(uint8_t *p, uint64_t v)
{
	pcitsm_put_be32(p, (uint32_t)(v >> 32));
	pcitsm_put_be32(p + 4, (uint32_t)v);
}

/* ---------------------------------------------------------------------------------------------
 * Bounded reader. The only way engines touch received bytes. The first error is sticky: after it,
 * every read returns zero (or NULL) and changes nothing, so a parser reads all fields straight
 * through and checks pcitsm_rd_err() or pcitsm_rd_finish() once.
 */
struct pcitsm_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	pcitsm_err err;
};

void pcitsm_rd_init(struct pcitsm_rd *r, const void *p, size_t len);
static inline size_t pcitsm_rd_left(const struct pcitsm_rd *r) { return r->err ? 0 : r->len - r->off; }
static inline size_t pcitsm_rd_pos(const struct pcitsm_rd *r) { return r->off; }
static inline pcitsm_err pcitsm_rd_err(const struct pcitsm_rd *r) { return r->err; }
/* Set the sticky error if none is set yet. */
void pcitsm_rd_fail(struct pcitsm_rd *r, pcitsm_err e);
/* Fail with e unless cond holds: for field checks inside a straight-line parser. */
static inline void pcitsm_rd_check(struct pcitsm_rd *r, bool cond, pcitsm_err e)
{
	if (!cond)
		pcitsm_rd_fail(r, e);
}

uint8_t pcitsm_rd_u8(struct pcitsm_rd *r);
uint16_t pcitsm_rd_le16(struct pcitsm_rd *r);
uint32_t pcitsm_rd_le24(struct pcitsm_rd *r);
uint32_t pcitsm_rd_le32(struct pcitsm_rd *r);
uint64_t pcitsm_rd_le64(struct pcitsm_rd *r);
uint16_t pcitsm_rd_be16(struct pcitsm_rd *r);
uint32_t pcitsm_rd_be32(struct pcitsm_rd *r);
uint64_t pcitsm_rd_be64(struct pcitsm_rd *r);
/* A pointer to the next n bytes (valid while the input is), or NULL on error. */
const uint8_t *pcitsm_rd_bytes(struct pcitsm_rd *r, size_t n);
/* Copy n bytes out; on error dst is zeroed. */
void pcitsm_rd_copy(struct pcitsm_rd *r, void *dst, size_t n);
void pcitsm_rd_skip(struct pcitsm_rd *r, size_t n);
/* Reserved-must-be-zero: consume n bytes and fail with E_RESERVED unless all are zero. */
void pcitsm_rd_zero(struct pcitsm_rd *r, size_t n);
/* The rest of the input, consumed. */
const uint8_t *pcitsm_rd_rest(struct pcitsm_rd *r, size_t *n);
/* A sub-reader over the next n bytes (a length-prefixed field); the parent skips past them.
 * If the parent is short, both fail with E_SHORT. */
struct pcitsm_rd pcitsm_rd_sub(struct pcitsm_rd *r, size_t n);
/* Exact-size finish: the sticky error, or E_LONG if bytes are left over. */
pcitsm_err pcitsm_rd_finish(const struct pcitsm_rd *r) PCITSM_MUST_CHECK;

/* ---------------------------------------------------------------------------------------------
 * Bounded writer over a caller-owned buffer; overflow is a sticky E_NOSPC.
 */
struct pcitsm_wr {
	uint8_t *p;
	size_t cap;
	size_t off;
	pcitsm_err err;
};

void pcitsm_wr_init(struct pcitsm_wr *w, void *p, size_t cap);
static inline size_t pcitsm_wr_len(const struct pcitsm_wr *w) { return w->off; }
static inline pcitsm_err pcitsm_wr_err(const struct pcitsm_wr *w) { return w->err; }
void pcitsm_wr_fail(struct pcitsm_wr *w, pcitsm_err e);
void pcitsm_wr_u8(struct pcitsm_wr *w, uint8_t v);
void pcitsm_wr_le16(struct pcitsm_wr *w, uint16_t v);
void pcitsm_wr_le24(struct pcitsm_wr *w, uint32_t v);
void pcitsm_wr_le32(struct pcitsm_wr *w, uint32_t v);
void pcitsm_wr_le64(struct pcitsm_wr *w, uint64_t v);
void pcitsm_wr_be16(struct pcitsm_wr *w, uint16_t v);
void pcitsm_wr_be32(struct pcitsm_wr *w, uint32_t v);
void pcitsm_wr_be64(struct pcitsm_wr *w, uint64_t v);
void pcitsm_wr_bytes(struct pcitsm_wr *w, const void *src, size_t n);
void pcitsm_wr_zero(struct pcitsm_wr *w, size_t n);
/* Reserve n bytes (zeroed) to fill in place; NULL on overflow. */
uint8_t *pcitsm_wr_reserve(struct pcitsm_wr *w, size_t n);
/* Patch an already written field at offset off (a length known only at the end). */
void pcitsm_wr_patch_le16(struct pcitsm_wr *w, size_t off, uint16_t v);
void pcitsm_wr_patch_le32(struct pcitsm_wr *w, size_t off, uint32_t v);
void pcitsm_wr_patch_be16(struct pcitsm_wr *w, size_t off, uint16_t v);
void pcitsm_wr_patch_be32(struct pcitsm_wr *w, size_t off, uint32_t v);

/* ---------------------------------------------------------------------------------------------
 * Secrets.
 */
/* Wipe memory the compiler may not elide. Every key, IV, shared secret and nonce goes through it
 * on every path out. */
void pcitsm_wipe(void *p, size_t n);
/* Constant-time inequality: 0 if equal, non-zero otherwise; time depends only on n. */
int pcitsm_ct_memneq(const void *a, const void *b, size_t n);

/* ---------------------------------------------------------------------------------------------
 * Environment: random source, monotonic clock, sleep, log. Passed to every engine that needs one.
 */
enum pcitsm_log_level {
	PCITSM_LOG_ERR = 0,
	PCITSM_LOG_WARN = 1,
	PCITSM_LOG_INFO = 2,
	PCITSM_LOG_DEBUG = 3,
};

struct pcitsm_env {
	/* Fill buf with n cryptographically secure random bytes. */
	pcitsm_err (*random)(const struct pcitsm_env *env, void *buf, size_t n);
	/* Monotonic time in nanoseconds. */
	uint64_t (*now_ns)(const struct pcitsm_env *env);
	/* Wait ns nanoseconds (a test clock just advances). */
	void (*sleep_ns)(const struct pcitsm_env *env, uint64_t ns);
	/* Emit one log line (no trailing newline). Never receives key material. */
	void (*log)(const struct pcitsm_env *env, enum pcitsm_log_level lvl, const char *msg);
	enum pcitsm_log_level log_level;
};

/* The real machine: getrandom(2), CLOCK_MONOTONIC, nanosleep, stderr at PCITSM_LOG_WARN (the
 * environment variable PCITSM_LOG=err|warn|info|debug overrides the level). */
const struct pcitsm_env *pcitsm_env_default(void);

/* A deterministic environment for tests: a seeded, NOT secure, generator and a clock that only
 * moves when something sleeps. Log lines go to stderr at the given level. */
struct pcitsm_env_test {
	struct pcitsm_env env;
	uint64_t rng_state;
	uint64_t clock_ns;
	bool rng_fail; /* make random() fail, to test that path */
};
void pcitsm_env_test_init(struct pcitsm_env_test *t, uint64_t seed);

pcitsm_err pcitsm_random(const struct pcitsm_env *env, void *buf, size_t n) PCITSM_MUST_CHECK;
uint64_t pcitsm_now_ns(const struct pcitsm_env *env);
void pcitsm_sleep_ns(const struct pcitsm_env *env, uint64_t ns);
void pcitsm_log(const struct pcitsm_env *env, enum pcitsm_log_level lvl, const char *fmt, ...)
	PCITSM_PRINTF(3, 4);
#define pcitsm_err_log(env, ...) pcitsm_log(env, PCITSM_LOG_ERR, __VA_ARGS__)
#define pcitsm_warn(env, ...) pcitsm_log(env, PCITSM_LOG_WARN, __VA_ARGS__)
#define pcitsm_info(env, ...) pcitsm_log(env, PCITSM_LOG_INFO, __VA_ARGS__)
#define pcitsm_debug(env, ...) pcitsm_log(env, PCITSM_LOG_DEBUG, __VA_ARGS__)
enum pcitsm_log_level pcitsm_log_level_parse(const char *s, enum pcitsm_log_level dflt);

/* Hex dump of public bytes into out (2n+1 bytes), for logs and JSON. Never for secrets. */
void pcitsm_hex(char *out, const void *p, size_t n);

#endif /* PCITSM_CORE_H */
