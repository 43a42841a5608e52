/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "pcitsm/emu.h"
#include "sva.h"

/* Device i is the platform's i-th endpoint function: function 0 of each port in turn, then
 * functions 1..n of each. */
static struct pcitsm_emu_func *nth_endpoint(struct pcitsm_emu_platform *p, unsigned i)
{
	unsigned ports = p->config.nr_ports;

	if (i < ports)
		return p->links[i].ep;
	i -= ports;
	for (unsigned k = 0; k < ports; k++) {
		struct pcitsm_emu_func *ep = p->links[k].ep;

		if (i < ep->nr_siblings)
			return ep->sibling[i];
		i -= ep->nr_siblings;
	}
	return NULL;
}

pcitsm_err pd_sva_start(struct pd *pd, const struct pd_opts *o, struct pcitsm_sva_server **out,
			const char **why)
{
	struct pcitsm_sva_server_cfg cfg = { .ndev = o->sva_devices, .platform = &pd->m.plat,
					     .env = pcitsm_env_default() };
	char path[PATH_MAX], cwd[PATH_MAX];

	*out = NULL;
	if (!o->sva_socket)
		return PCITSM_OK;
	*why = "--sva-socket";
	if (o->sva_socket[0] == '/') {
		if ((size_t)snprintf(path, sizeof(path), "%s", o->sva_socket) >= sizeof(path))
			return PCITSM_E_INVAL;
	} else if (!getcwd(cwd, sizeof(cwd)) ||
		   (size_t)snprintf(path, sizeof(path), "%s/%s", cwd, o->sva_socket) >= sizeof(path)) {
		return PCITSM_E_INVAL;
	}
	*why = "--sva-devices: more devices than endpoint functions";
	for (unsigned i = 0; i < cfg.ndev; i++) {
		cfg.ep[i] = nth_endpoint(&pd->m.plat, i);
		if (!cfg.ep[i])
			return PCITSM_E_INVAL;
	}
	*why = "--sva-socket";
	cfg.socket_path = path;
	return pcitsm_sva_server_start_cfg(&cfg, out);
}
