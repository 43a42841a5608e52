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
	struct pcitsm_emu_config cfg;
	struct cli_platform *p;
	pcitsm_err e;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return PCITSM_E_NOMEM;
	pcitsm_emu_config_default(&cfg);
	e = pcitsm_emu_platform_init(&p->emu, &cfg, env);
	if (e) {
		free(p);
		return e;
	}
	e = pcitsm_trust_new(&p->trust);
	if (!e)
		e = pcitsm_emu_devices_new(&p->devs, &p->emu, &dc, p->trust);
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
	/* The endpoints' mailboxes point at the responders: detach them before the platform goes. */
	pcitsm_emu_devices_free(p->devs);
	pcitsm_emu_platform_free(&p->emu);
	pcitsm_trust_free(p->trust);
	free(p);
}

struct pcitsm_emu_func *cli_platform_endpoint(struct cli_platform *p, const struct pcitsm_bdf *bdf)
{
	struct pcitsm_emu_func *f = pcitsm_emu_find(&p->emu, bdf);

	return f && f->kind == PCITSM_EMU_ENDPOINT ? f : NULL;
}
