/* SPDX-License-Identifier: MIT */
/* The CLI's embedded emulated platform (platform.h). */
#include <stdio.h>
#include <stdlib.h>

#include "platform.h"

pcitsm_err cli_platform_open(struct cli_platform **out, const char *identity_dir,
			     const struct pcitsm_env *env)
{
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
	for (unsigned i = 0; i < p->emu.nr_funcs && !e; i++) {
		struct pcitsm_emu_func *f = &p->emu.funcs[i];
		struct pcitsm_identity *id = &p->ids[p->nr_endpoints];
		struct pcitsm_spdm_rsp_opts opts;
		char name[64], bdf[13];

		if (f->kind != PCITSM_EMU_ENDPOINT || !f->doe_off)
			continue;
		pcitsm_bdf_format(&f->bdf, bdf);
		snprintf(name, sizeof(name), "emulated endpoint %s", bdf);
		e = identity_dir ? pcitsm_identity_load(id, identity_dir)
				 : pcitsm_identity_generate(id, 384, name);
		if (e)
			break;
		p->nr_endpoints++;
		e = pcitsm_trust_add_der(p->trust, id->root, id->root_len);
		if (e)
			break;
		pcitsm_spdm_rsp_opts_default(&opts);
		opts.heartbeat_period = CLI_EMU_HEARTBEAT_PERIOD;
		e = pcitsm_spdm_rsp_init(&p->rsp[p->nr_endpoints - 1], id, &opts, env);
		if (e)
			break;
		f->cma_impl = &p->rsp[p->nr_endpoints - 1].doe;
		/* secured CMA-SPDM (DOE type 2): the same responder's sessions */
		f->secured_impl = &p->rsp[p->nr_endpoints - 1].sdoe;
	}
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
	/* The endpoints' mailboxes still point at the responders: take the platform down first. */
	pcitsm_emu_platform_free(&p->emu);
	for (unsigned i = 0; i < p->nr_endpoints; i++) {
		pcitsm_spdm_rsp_free(&p->rsp[i]);
		pcitsm_identity_free(&p->ids[i]);
	}
	pcitsm_trust_free(p->trust);
	free(p);
}

struct pcitsm_emu_func *cli_platform_endpoint(struct cli_platform *p, const struct pcitsm_bdf *bdf)
{
	struct pcitsm_emu_func *f = pcitsm_emu_find(&p->emu, bdf);

	return f && f->kind == PCITSM_EMU_ENDPOINT ? f : NULL;
}
