/* SPDX-License-Identifier: MIT */
/*
 * SPDM versions at the edge: "1.1" from a command line into the version byte (DSP0274 "SPDM
 * version": major << 4 | minor), once, and the helpers that pin either role to one version.
 * What each version does in both roles: docs/spdm.md "Version support".
 */
#include <stdio.h>
#include <string.h>

#include "pcitsm/spdm_req.h"
#include "pcitsm/spdm_rsp.h"
#include "msg.h"

pcitsm_err pcitsm_spdm_version_parse(const char *s, uint8_t *out)
{
	if (!s || !out || strlen(s) != 3 || s[0] != '1' || s[1] != '.' || s[2] < '0' || s[2] > '3')
		return PCITSM_E_INVAL;
	*out = (uint8_t)(0x10 | (s[2] - '0'));
	return PCITSM_OK;
}

void pcitsm_spdm_req_cfg_pin_version(struct pcitsm_spdm_req_cfg *c, uint8_t version)
{
	c->min_version = c->max_version = version;
}

void pcitsm_spdm_rsp_opts_pin_version(struct pcitsm_spdm_rsp_opts *o, uint8_t version)
{
	memset(o->versions, 0, sizeof(o->versions));
	o->versions[0] = version;
	o->nr_versions = 1;
}

const char *pcitsm_spdm_version_list_str(const uint8_t *v, unsigned n, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < n && off < len; i++) {
		int k = snprintf(buf + off, len - off, "%s%u.%u", i ? ", " : "",
				 (unsigned)v[i] >> 4, v[i] & 0xfu);

		if (k < 0)
			break;
		off += (size_t)k;
	}
	return buf;
}
