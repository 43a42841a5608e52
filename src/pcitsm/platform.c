/* SPDX-License-Identifier: MIT */
/* The CLI's embedded emulated platform (platform.h). */
#include <stdlib.h>

#include "platform.h"

pcitsm_err cli_platform_open(struct cli_platform **out, const char *identity_dir,
			     const struct pcitsm_env *env)
{
	struct pcitsm_emu_devices_cfg dc = { .identity_dir = identity_dir,
					     .curve_bits = 384,
					     .heartbeat_period = CLI_EMU_HEARTBEAT_PERIOD };
	struct pcitsm_machine_cfg mc;
	struct cli_platform *p;
	pcitsm_err e;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return PCITSM_E_NOMEM;
	/* The machine up to its devices: the CLI is the host here, with no firmware TSM. */
	pcitsm_machine_cfg_default(&mc, env);
	mc.devs = &dc;
	e = pcitsm_machine_build(&p->m, &mc, PCITSM_MACHINE_DEVICES, NULL);
	if (e) {
		cli_platform_close(p);
		return e;
	}
	*out = p;
	return PCITSM_OK;
}

void cli_platform_close(struct cli_platform *p)
{
	if (!p)
		return;
	pcitsm_machine_free(&p->m);
	free(p);
}

struct pcitsm_emu_func *cli_platform_endpoint(struct cli_platform *p, const struct pcitsm_bdf *bdf)
{
	struct pcitsm_emu_func *f = pcitsm_emu_find(&p->m.plat, bdf);

	return f && f->kind == PCITSM_EMU_ENDPOINT ? f : NULL;
}
