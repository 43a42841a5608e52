/* SPDX-License-Identifier: MIT */
/* Shared fixture for the SPDM tests: an identity from tests/data, its root as the trust anchor, a
 * responder behind a DOE device, and a loopback transport to it. */
#ifndef PCITSM_TEST_SPDM_FIXTURE_H
#define PCITSM_TEST_SPDM_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "pcitsm/spdm_driver.h"
#include "pcitsm/spdm_rsp.h"
#include "testutil.h"

struct fx {
	struct pcitsm_env_test et;
	struct pcitsm_identity id;
	struct pcitsm_trust *trust;
	struct pcitsm_spdm_rsp_opts ro;
	struct pcitsm_spdm_faults faults; /* set on the responder by fx_start */
	struct pcitsm_spdm_rsp rsp;
	struct pcitsm_doe_dev dev;
	struct pcitsm_xport_loop loop;
	struct pcitsm_spdm_auth_opts ao;
	struct pcitsm_spdm_auth_result res;
	bool started;
};

/* Load the identity (p256 / p384), trust its root, default options on both sides. */
static inline struct fx *fx_new(const char *which)
{
	struct fx *f = calloc(1, sizeof(*f));
	char dir[512];

	assert_non_null(f);
	pcitsm_env_test_init(&f->et, 42);
	snprintf(dir, sizeof(dir), "%s/identity/%s", PCITSM_TEST_DATA, which);
	assert_ok(pcitsm_identity_load(&f->id, dir));
	assert_ok(pcitsm_trust_new(&f->trust));
	assert_ok(pcitsm_trust_add_der(f->trust, f->id.root, f->id.root_len));
	pcitsm_spdm_rsp_opts_default(&f->ro);
	pcitsm_spdm_auth_opts_default(&f->ao, &f->et.env);
	f->ao.cfg.trust = f->trust;
	return f;
}

/* Bring the responder up with f->ro and f->faults (call after adjusting them). */
static inline void fx_start(struct fx *f)
{
	assert_ok(pcitsm_spdm_rsp_init(&f->rsp, &f->id, &f->ro, &f->et.env));
	pcitsm_spdm_rsp_set_faults(&f->rsp, &f->faults);
	pcitsm_doe_dev_init(&f->dev, 1);
	assert_ok(pcitsm_doe_dev_register(&f->dev, &f->rsp.doe));
	pcitsm_xport_loop_init(&f->loop, &f->dev);
	f->started = true;
}

static inline pcitsm_err fx_auth(struct fx *f)
{
	if (!f->started)
		fx_start(f);
	pcitsm_spdm_auth_result_free(&f->res);
	return pcitsm_spdm_drv_authenticate(&f->loop.x, &f->ao, &f->res);
}

static inline void fx_free(struct fx *f)
{
	pcitsm_spdm_auth_result_free(&f->res);
	if (f->started)
		pcitsm_spdm_rsp_free(&f->rsp);
	pcitsm_trust_free(f->trust);
	pcitsm_identity_free(&f->id);
	free(f);
}

/* One request straight into the responder; returns the response length. */
static inline size_t fx_rsp(struct fx *f, const uint8_t *req, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_ok(pcitsm_spdm_rsp_handle(&f->rsp, req, len, out, cap, &n));
	return n;
}

#endif
