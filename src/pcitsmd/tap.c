/* SPDX-License-Identifier: MIT */
/* pcitsmd --tap DIR (tap.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "pcitsm/capture.h"
#include "tap.h"

struct pd_tap {
	struct pcitsm_link_capture cap[PCITSM_EMU_MAX_PORTS];
	bool open[PCITSM_EMU_MAX_PORTS];
};

pcitsm_err pd_tap_start(struct pd *pd, const char *dir, struct pd_tap **out, const char **why)
{
	struct pd_tap *t;

	*out = NULL;
	if (!dir)
		return PCITSM_OK;
	t = calloc(1, sizeof(*t));
	if (!t) {
		*why = "--tap";
		return PCITSM_E_NOMEM;
	}
	for (unsigned k = 0; k < pd->m.plat.config.nr_ports && k < PCITSM_EMU_MAX_PORTS; k++) {
		struct pcitsm_emu_link *l = &pd->m.plat.links[k];
		char path[PATH_MAX], name[13];
		pcitsm_err e;

		if (!l->wire)
			continue; /* no IDE at one end: no wire to tap */
		pcitsm_bdf_format(&l->rp->bdf, name);
		if ((size_t)snprintf(path, sizeof(path), "%s/%s.pcap", dir, name) >= sizeof(path)) {
			pd_tap_stop(pd, t);
			*why = "--tap: path too long";
			return PCITSM_E_INVAL;
		}
		e = pcitsm_link_capture_open(&t->cap[k], path, &l->rp->bdf);
		if (e) {
			pd_tap_stop(pd, t);
			*why = "--tap: cannot create a capture file in the directory";
			return e;
		}
		t->open[k] = true;
		pthread_mutex_lock(&l->lock);
		pcitsm_link_capture_attach(&t->cap[k], l->wire);
		pthread_mutex_unlock(&l->lock);
	}
	*out = t;
	return PCITSM_OK;
}

void pd_tap_stop(struct pd *pd, struct pd_tap *t)
{
	if (!t)
		return;
	for (unsigned k = 0; k < PCITSM_EMU_MAX_PORTS; k++) {
		struct pcitsm_emu_link *l = &pd->m.plat.links[k];
		pcitsm_err e;

		if (!t->open[k])
			continue;
		pthread_mutex_lock(&l->lock);
		e = pcitsm_link_capture_close(&t->cap[k]);
		pthread_mutex_unlock(&l->lock);
		if (e)
			fprintf(stderr, "pcitsmd: --tap: capture of link %u: %s\n", k,
				pcitsm_err_str(e));
	}
	free(t);
}
