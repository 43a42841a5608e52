/* SPDX-License-Identifier: MIT */
/*
 * Checks of lib/doe/host.c that the mutation table (tests/mutants/doe.txt, docs/security.md)
 * breaks one by one and that no other test pinned down: a DOE Discovery response must carry its
 * one payload DW (PCIe 6.x §6.30.1.1); a device that answers with a bare header is refused with
 * E_SHORT, not read from a buffer it never filled.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "pcitsm/doe.h"

#define MBOX 0x100

/* The emulated space, with DW1 (Length) of every response rewritten to 2: header only. */
struct bare {
	struct pcitsm_cfg cfg;
	struct pcitsm_cfg *inner;
	unsigned acks; /* Read mailbox acknowledges since the last Go */
};

static pcitsm_err bare_read(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t *val)
{
	struct bare *b = pcitsm_container_of(cfg, struct bare, cfg);

	PCITSM_TRY(pcitsm_cfg_read(b->inner, off, width, val));
	if (off == MBOX + PCITSM_DOE_READ && b->acks == 1)
		*val = (*val & ~0x3ffffu) | 2u;
	return PCITSM_OK;
}

static pcitsm_err bare_write(struct pcitsm_cfg *cfg, uint32_t off, unsigned width, uint32_t val)
{
	struct bare *b = pcitsm_container_of(cfg, struct bare, cfg);

	if (off == MBOX + PCITSM_DOE_READ)
		b->acks++;
	if (off == MBOX + PCITSM_DOE_CTRL && (val & (PCITSM_DOE_CTRL_GO | PCITSM_DOE_CTRL_ABORT)))
		b->acks = 0;
	return pcitsm_cfg_write(b->inner, off, width, val);
}

static const struct pcitsm_cfg_ops bare_ops = { .read = bare_read, .write = bare_write };

static void discovery_without_payload(void **state)
{
	struct pcitsm_env_test t;
	struct pcitsm_cfg_emu emu;
	struct pcitsm_doe_dev dev;
	struct pcitsm_doe_mbox mbox;
	struct pcitsm_doe_host host;
	struct bare b = { .cfg = { .ops = &bare_ops } };

	(void)state;
	pcitsm_env_test_init(&t, 1);
	pcitsm_cfg_emu_init(&emu, PCITSM_CFG_SIZE_EXT);
	pcitsm_doe_dev_init(&dev, 1);
	assert_ok(pcitsm_doe_mbox_init(&mbox, &emu, MBOX, 0, 1, &dev, 64));
	b.cfg.size = emu.cfg.size;
	b.inner = &emu.cfg;
	memset(&host, 0x5a, sizeof(host));
	assert_err(pcitsm_doe_host_init(&host, &b.cfg, MBOX, &t.env), PCITSM_E_SHORT);
	/* the same mailbox read honestly works */
	assert_ok(pcitsm_doe_host_init(&host, &emu.cfg, MBOX, &t.env));
	assert_true(pcitsm_doe_host_supports(&host, PCITSM_DOE_VID_PCISIG,
					     PCITSM_DOE_TYPE_DISCOVERY));
	pcitsm_doe_mbox_free(&mbox);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discovery_without_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
