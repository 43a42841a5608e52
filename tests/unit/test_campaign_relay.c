/* SPDX-License-Identifier: MIT */
/*
 * The hostile device and the hostile host against the firmware TSM's connect + lock + accept
 * (tests/unit/campaign_relay.h says how; docs/security.md "Campaigns against our requester and
 * responders"). Trials: PCITSM_CAMPAIGN_TRIALS (default 1000 / 200; PCITSM_CAMPAIGN_HOST_TRIALS
 * for the second alone); seed: PCITSM_CAMPAIGN_SEED.
 */
#include "campaign_relay.h"

/* The defaults keep the ctest run near 30 s; a sanitizer build runs about ten times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define CAMPAIGN_SCALE 10
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAMPAIGN_SCALE 10
#endif
#endif
#ifndef CAMPAIGN_SCALE
#define CAMPAIGN_SCALE 1
#endif

static void hostile_device(void **state)
{
	(void)state;
	run(false, 1000 / CAMPAIGN_SCALE);
}

static void hostile_host(void **state)
{
	(void)state;
	run(true, 200 / CAMPAIGN_SCALE);
}

int main(void)
{
	return test_run(hostile_device, hostile_host);
}
