/* SPDX-License-Identifier: MIT */
/*
 * The emulated machine (include/pcitsm/machine.h): the platform, its devices, the firmware TSM
 * and the PCI/TSM core, in the order pcitsmd boots them; the platform's grants (the root ports'
 * key path to the firmware, the memory and link ops to the core) are handed over here, the one
 * place that sees both sides.
 */
#include <string.h>

#include "pcitsm/machine.h"

void pcitsm_machine_cfg_default(struct pcitsm_machine_cfg *cfg, const struct pcitsm_env *env)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->env = env;
	pcitsm_tsm_core_cfg_default(&cfg->core, env);
}

static pcitsm_err make_platform(struct pcitsm_machine *m, const struct pcitsm_machine_cfg *cfg)
{
	struct pcitsm_emu_config def;
	const struct pcitsm_emu_config *pc = cfg->plat;

	if (!pc) {
		pcitsm_emu_config_default(&def);
		pc = &def;
	}
	return pcitsm_emu_platform_init(&m->plat, pc, cfg->env);
}

static pcitsm_err make_firmware(struct pcitsm_machine *m, const struct pcitsm_machine_cfg *cfg)
{
	struct pcitsm_tio_cfg fc = cfg->fw;

	fc.env = cfg->env;
	fc.trust = cfg->no_anchors ? NULL : m->trust;
	pcitsm_emu_rp_keys(&m->plat, &fc.rp_keys);
	return pcitsm_tio_fw_new(&m->fw, &fc);
}

static pcitsm_err make_core(struct pcitsm_machine *m, const struct pcitsm_machine_cfg *cfg)
{
	struct pcitsm_tsm_core_cfg cc = cfg->core;

	cc.env = cfg->env;
	pcitsm_emu_tsm_platform(&m->plat, &cc.plat);
	cc.backend = &pcitsm_tsm_sevtio;
	cc.backend_arg = m->fw;
	return pcitsm_tsm_core_new(&m->core, &cc);
}

static pcitsm_err make(struct pcitsm_machine *m, const struct pcitsm_machine_cfg *cfg,
		       enum pcitsm_machine_part part)
{
	switch (part) {
	case PCITSM_MACHINE_PLATFORM:
		return make_platform(m, cfg);
	case PCITSM_MACHINE_TRUST:
		return cfg->devs ? pcitsm_trust_new(&m->trust) : PCITSM_OK;
	case PCITSM_MACHINE_DEVICES:
		return cfg->devs ? pcitsm_emu_devices_new(&m->devs, &m->plat, cfg->devs, m->trust)
				 : PCITSM_OK;
	case PCITSM_MACHINE_FIRMWARE:
		return make_firmware(m, cfg);
	case PCITSM_MACHINE_CORE:
		return make_core(m, cfg);
	}
	return PCITSM_E_INVAL;
}

pcitsm_err pcitsm_machine_build(struct pcitsm_machine *m, const struct pcitsm_machine_cfg *cfg,
				enum pcitsm_machine_part upto, enum pcitsm_machine_part *failed)
{
	if (!cfg->env || upto > PCITSM_MACHINE_CORE)
		return PCITSM_E_INVAL;
	while (m->made <= (unsigned)upto) {
		pcitsm_err e = make(m, cfg, (enum pcitsm_machine_part)m->made);

		if (e) {
			if (failed)
				*failed = (enum pcitsm_machine_part)m->made;
			return e;
		}
		m->made++;
	}
	return PCITSM_OK;
}

/* The devices before the platform they sit on (their mailboxes point at the responders), the
 * firmware before the platform whose key path it holds, the core before both. */
void pcitsm_machine_teardown(struct pcitsm_machine *m, enum pcitsm_machine_part from)
{
	while (m->made > (unsigned)from) {
		switch ((enum pcitsm_machine_part)--m->made) {
		case PCITSM_MACHINE_CORE:
			pcitsm_tsm_core_free(m->core);
			m->core = NULL;
			break;
		case PCITSM_MACHINE_FIRMWARE:
			pcitsm_tio_fw_free(m->fw);
			m->fw = NULL;
			break;
		case PCITSM_MACHINE_DEVICES:
			if (m->devs)
				pcitsm_emu_devices_free(m->devs);
			m->devs = NULL;
			break;
		case PCITSM_MACHINE_TRUST:
			if (m->trust)
				pcitsm_trust_free(m->trust);
			m->trust = NULL;
			break;
		case PCITSM_MACHINE_PLATFORM:
			pcitsm_emu_platform_free(&m->plat);
			memset(&m->plat, 0, sizeof(m->plat));
			break;
		}
	}
}

void pcitsm_machine_free(struct pcitsm_machine *m)
{
	pcitsm_machine_teardown(m, PCITSM_MACHINE_PLATFORM);
}
