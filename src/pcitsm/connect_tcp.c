/* SPDX-License-Identifier: MIT */
/* pcitsm connect tcp:HOST:PORT: the device half of connect against an spdm-emu responder. */
#include <stdio.h>

#include "cli.h"
#include "tsmstat.h"

int cli_connect_tcp(const char *target, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("connect %s: connecting a TCP device is not available in this build", target);
}
