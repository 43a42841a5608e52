/* SPDX-License-Identifier: MIT */
/* pcitsm: one CLI for PCIe Trusted I/O, on a real 6.19 host or on the emulated platform. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd *const commands[] = {
#define CLI_COMMAND(name) &cli_cmd_##name,
#include "commands.def"
#undef CLI_COMMAND
};

int cli_fail(const char *what, pcitsm_err e)
{
	fprintf(stderr, "pcitsm: %s: %s (%s)\n", what, pcitsm_err_str(e), pcitsm_err_name(e));
	return CLI_EXIT_FAIL;
}

int cli_failf(const char *fmt, ...)
{
	va_list ap;

	fputs("pcitsm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int cli_usage(const char *name)
{
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i]->name, name)) {
			fprintf(stderr, "usage: pcitsm %s %s\n", name, commands[i]->args);
			return CLI_EXIT_USAGE;
		}
	}
	fprintf(stderr, "pcitsm: unknown command '%s' (see 'pcitsm help')\n", name);
	return CLI_EXIT_USAGE;
}

static const struct cli_cmd *find(const char *name)
{
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "help") || !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* `pcitsm help CMD` and `pcitsm CMD --help`: the synopsis on stdout, exit 0. */
static int help_cmd(const char *name)
{
	const struct cli_cmd *c = find(name);

	if (!c)
		return cli_usage(name);
	printf("usage: pcitsm %s %s\n%s\nSee pcitsm-%s(1).\n", c->name, c->args, c->summary, c->name);
	return 0;
}

static void help(FILE *out)
{
	fprintf(out, "usage: pcitsm COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n             %s\n", commands[i]->name, commands[i]->args,
			commands[i]->summary);
	fprintf(out, "\nSee pcitsm(1) for details.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		if (argc > 2)
			return help_cmd(argv[2]);
		help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("pcitsm %s\n", PCITSM_VERSION); /* project() in CMakeLists.txt */
		return 0;
	}
	const struct cli_cmd *c = find(argv[1]);

	if (!c)
		return cli_usage(argv[1]);
	if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))
		return help_cmd(c->name);
	return c->run(argc - 1, argv + 1);
}
