/* SPDX-License-Identifier: MIT */
/*
 * Checks of lib/tsm that the mutation table (tests/mutants/tsm.txt, docs/security.md) breaks one by
 * one and that no other test pinned down, driven through the internal interfaces because the
 * core never reaches them otherwise:
 *  - the firmware TSM refreshes keys (PCIe 6.x §6.33 key set switch) only for a device whose
 *    session is open and whose stream was started (docs/tsm.md);
 *  - a selective stream's registers are set up only once its Stream ID is known, and Enable that
 *    does not read back Secure is undone with E_IO (PCIe 6.x §7.9.26.5.4, pci_ide_stream_enable).
 */
#include <string.h>

#include "pcitsm/emu.h"
#include "pcitsm/machine.h"
#include "pcitsm/pci.h"
#include "testutil.h"
#include "pcitsm/tsm.h"
#include "pcitsm/tio.h"
#include "tsm/tsm_priv.h"

static pcitsm_err silent_relay(void *host, uint8_t type, const uint8_t *req, size_t req_len,
			       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	(void)host;
	(void)type;
	(void)req;
	(void)req_len;
	(void)rsp;
	(void)rsp_cap;
	*rsp_len = 0;
	return PCITSM_E_NORESPONSE;
}

/* The default platform without device responders (nothing answers its mailboxes), made up to
 * upto. */
static void machine_quiet(struct pcitsm_env_test *t, struct pcitsm_machine *m,
			  enum pcitsm_machine_part upto)
{
	struct pcitsm_machine_cfg mc;

	pcitsm_env_test_init(t, 1);
	t->env.log_level = PCITSM_LOG_ERR;
	pcitsm_machine_cfg_default(&mc, &t->env);
	memset(m, 0, sizeof(*m));
	assert_ok(pcitsm_machine_build(m, &mc, upto, NULL));
}

static void rekey_needs_session_and_stream(void **state)
{
	struct pcitsm_env_test t;
	struct pcitsm_machine m;
	struct pcitsm_tio_dev *dev = NULL;
	struct pcitsm_tsm_failure fail = { .peer_status = -1 };
	struct pcitsm_pci_id id = { 0 };
	bool found = false;

	(void)state;
	machine_quiet(&t, &m, PCITSM_MACHINE_FIRMWARE);
	for (unsigned i = 0; i < m.plat.nr_funcs && !found; i++)
		if (m.plat.funcs[i].kind == PCITSM_EMU_ROOT_PORT) {
			assert_ok(pcitsm_pci_read_id(&m.plat.funcs[i].cfg.cfg, &id));
			found = true;
		}
	assert_true(found);
	assert_ok(pcitsm_tio_dev_create(m.fw, 0, 0x0100, id.port_number, silent_relay, NULL, &dev));
	/* No session: nothing to program keys over. */
	assert_err(pcitsm_tio_dev_rekey(dev), PCITSM_E_STATE);
	/* A connect that gets no answer leaves it so. */
	assert_true(pcitsm_tio_dev_connect(dev, &fail, NULL) != PCITSM_OK);
	assert_err(pcitsm_tio_dev_rekey(dev), PCITSM_E_STATE);
	assert_int_equal(pcitsm_tio_dev_key_set(dev), 0);
	assert_int_equal(pcitsm_tio_sessions_open(m.fw), 0);
	pcitsm_tio_dev_reclaim(dev);
	pcitsm_machine_free(&m);
}

static void enable_needs_id_and_secure(void **state)
{
	struct pcitsm_env_test t;
	struct pcitsm_machine m;
	struct tsm_fn *ep = NULL;
	struct tsm_stream *s;
	const struct tsm_setup_opts o = { .rid_limit = 0xffff };
	uint32_t ctl;

	(void)state;
	machine_quiet(&t, &m, PCITSM_MACHINE_CORE);
	for (unsigned i = 0; i < m.plat.nr_funcs && !ep; i++)
		if (m.plat.funcs[i].kind == PCITSM_EMU_ENDPOINT && m.plat.funcs[i].ide_off)
			ep = tsm_fn_find(m.core, &m.plat.funcs[i].bdf);
	assert_non_null(ep);
	assert_ok(tsm_stream_alloc(ep, &s));
	/* No Stream ID yet: the block is not set up, nor one the port does not have. */
	assert_err(tsm_stream_setup(s, ep, s->e, &o), PCITSM_E_STATE);
	assert_false(s->setup_ep);
	assert_ok(tsm_stream_register(s, (uint8_t)s->h));
	assert_err(tsm_stream_setup(s, ep, ep->port.nr_sel, &o), PCITSM_E_STATE);
	/* Registered and set up, but no keys: Enable reads Insecure and is taken back. */
	assert_ok(tsm_stream_setup(s, ep, s->e, &o));
	assert_err(tsm_stream_enable(s, ep, s->e), PCITSM_E_IO);
	assert_false(s->enabled_ep);
	assert_ok(pcitsm_cfg_read32(ep->cfg, ep->port.sel_off[s->e] + PCITSM_IDE_SEL_CTL, &ctl));
	assert_int_equal(ctl & PCITSM_IDE_CTL_EN, 0);
	tsm_stream_release(s);
	pcitsm_machine_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rekey_needs_session_and_stream),
		cmocka_unit_test(enable_needs_id_and_secure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
