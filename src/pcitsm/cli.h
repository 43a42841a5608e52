/* SPDX-License-Identifier: MIT */
/* The pcitsm CLI: the command table and what every command shares. */
#ifndef PCITSM_CLI_H
#define PCITSM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "pcitsm/core.h"

/* Exit codes: 0 success, 1 operation failed, 2 usage error. */
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	const char *args;    /* one-line synopsis of the arguments */
	const char *summary; /* one line */
	int (*run)(int argc, char **argv);
};

/* Each command lives in its own cmd_<name>.c, which defines `const struct cli_cmd cli_cmd_<name>`,
 * and is listed once in commands.def. */
#define CLI_COMMAND(name) extern const struct cli_cmd cli_cmd_##name;
#include "commands.def"
#undef CLI_COMMAND

/* Rows of a getopt_long table: an option that takes a value, and one that does not. */
#define CLI_OPT_ARG(name, val) { (name), required_argument, NULL, (val) }
#define CLI_OPT_FLAG(name, val) { (name), no_argument, NULL, (val) }

/* Print "pcitsm: <what>: <reason>" to stderr and return CLI_EXIT_FAIL. */
int cli_fail(const char *what, pcitsm_err e);
int cli_usage(const char *cmd);
PCITSM_PRINTF(1, 2) int cli_failf(const char *fmt, ...);

/* --nonce HEX: exactly 64 hex digits into out[32]; false otherwise. */
bool cli_nonce_parse(const char *hex, uint8_t out[32]);

#endif
