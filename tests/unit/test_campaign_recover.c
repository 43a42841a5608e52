/* SPDX-License-Identifier: MIT */
/*
 * The regression of the campaigns' finding (docs/security.md "Campaigns against our requester and
 * responders"), a program of its own so that it runs in seconds (the mutation check's unit
 * timeout is 60 s).
 */
#include "campaign_relay.h"

/* Regression (found by hostile_host): a LOCK whose answer the host lost left the TDI locked, the
 * disconnect's session end moved it to ERROR, and every later lock refused it ("TDI is ERROR,
 * expected CONFIG_UNLOCKED") with nothing ever to STOP it. Each exchange of the flow in turn loses
 * its response; a clean connect + lock + accept must succeed after every one. */
static void every_lost_response_recovers(void **state)
{
	struct campaign *c = calloc(1, sizeof(*c));

	(void)state;
	assert_non_null(c);
	campaign_setup(c, false);
	for (unsigned i = 0; i < c->m.nr_base; i++) {
		mut_flow_reset(&c->m);
		g_w.nr_keys = g_w.nr_secrets = 0;
		c->m.nr_targets = 1;
		c->m.targets[0] = i;
		c->m.kind[0] = MUT_DROP_RSP;
		c->m.armed = true;
		(void)flow(c, true);
		teardown(c);
		mut_flow_reset(&c->m);
		g_w.nr_keys = g_w.nr_secrets = 0;
		if (flow(c, true) != OUT_ACCEPTED)
			fail_msg("the flow fails for good after exchange %u lost its response", i);
		teardown(c);
	}
	campaign_free(c);
	free(c);
}

int main(void)
{
	return test_run(every_lost_response_recovers);
}
