/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "sva.h"

pcitsm_err pd_sva_start(const struct pd_opts *o, struct pcitsm_sva_server **out, const char **why)
{
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
	return pcitsm_sva_server_start(path, o->sva_devices, pcitsm_env_default(), out);
}
