/* SPDX-License-Identifier: MIT */
/* pcitsmd --version V / --spdm-version V: the devices offer only SPDM V; --version alone still
 * prints the program's version. And the library's parser both CLIs use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "pcitsm/spdm_req.h"
#include "pcitsm/spdm_rsp.h"
#include "testutil.h"

static int parse(struct pd_opts *o, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	while (args[argc]) {
		argv[argc] = (char *)(uintptr_t)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return pd_opts_parse(o, argc, argv, err, 160);
}

static void version_parse(void **state)
{
	static const struct {
		const char *s;
		uint8_t v;
	} good[] = { { "1.0", 0x10 }, { "1.1", 0x11 }, { "1.2", 0x12 }, { "1.3", 0x13 } };
	static const char *const bad[] = { "", "1", "1.", "1.4", "2.0", "0.9", "1.1 ", "11",
					   "1,1", "v1.1", "1.10" };
	uint8_t v;

	(void)state;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(good); i++) {
		assert_ok(pcitsm_spdm_version_parse(good[i].s, &v));
		assert_int_equal(v, good[i].v);
	}
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++)
		assert_err(pcitsm_spdm_version_parse(bad[i], &v), PCITSM_E_INVAL);
	assert_err(pcitsm_spdm_version_parse(NULL, &v), PCITSM_E_INVAL);
}

static void pin_helpers(void **state)
{
	struct pcitsm_spdm_rsp_opts ro;
	struct pcitsm_spdm_req_cfg rc;
	char buf[32];

	(void)state;
	pcitsm_spdm_rsp_opts_default(&ro);
	pcitsm_spdm_rsp_opts_pin_version(&ro, 0x11);
	assert_int_equal(ro.nr_versions, 1);
	assert_int_equal(ro.versions[0], 0x11);
	assert_int_equal(ro.versions[1], 0);
	pcitsm_spdm_req_cfg_default(&rc, pcitsm_env_default());
	pcitsm_spdm_req_cfg_pin_version(&rc, 0x10);
	assert_int_equal(rc.min_version, 0x10);
	assert_int_equal(rc.max_version, 0x10);
	assert_string_equal(pcitsm_spdm_version_list_str((const uint8_t[]){ 0x10, 0x11 }, 2, buf,
							 sizeof(buf)),
			    "1.0, 1.1");
	assert_string_equal(pcitsm_spdm_version_list_str(NULL, 0, buf, sizeof(buf)), "");
	/* Truncation stays terminated. */
	pcitsm_spdm_version_list_str((const uint8_t[]){ 0x10, 0x11, 0x12 }, 3, buf, 6);
	assert_true(strlen(buf) < 6);
}

static void daemon_option(void **state)
{
	struct pd_opts o;
	char err[160];

	(void)state;
	{
		const char *a[] = { "pcitsmd", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_int_equal(o.spdm_version, 0);
	}
	{
		const char *a[] = { "pcitsmd", "--version", "1.1", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_int_equal(o.spdm_version, 0x11);
		assert_string_equal(o.mountpoint, "/mnt");
	}
	{
		const char *a[] = { "pcitsmd", "--ports", "3", "--version=1.0", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_int_equal(o.spdm_version, 0x10);
		assert_int_equal(o.nr_ports, 3);
	}
	{
		const char *a[] = { "pcitsmd", "/mnt", "--spdm-version", "1.3", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_int_equal(o.spdm_version, 0x13);
		assert_string_equal(o.mountpoint, "/mnt");
	}
	/* --version alone (or before a word that is no version) prints pcitsmd's version. */
	{
		const char *a[] = { "pcitsmd", "--version", NULL };
		assert_int_equal(parse(&o, err, a), 1);
	}
	{
		const char *a[] = { "pcitsmd", "--version", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 1);
	}
	/* Bad values are usage errors with a message. */
	{
		const char *bad[][5] = {
			{ "pcitsmd", "--version=1.4", "/m", NULL },
			{ "pcitsmd", "--version=x", "/m", NULL },
			{ "pcitsmd", "--spdm-version", "2.0", "/m", NULL },
			{ "pcitsmd", "--spdm-version", NULL },
		};
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++) {
			assert_int_equal(parse(&o, err, bad[i]), -1);
			assert_true(err[0] != '\0');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_parse),
		cmocka_unit_test(pin_helpers),
		cmocka_unit_test(daemon_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
