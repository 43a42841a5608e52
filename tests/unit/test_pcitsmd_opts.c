/* SPDX-License-Identifier: MIT */
/* pcitsmd's command line: device ports, faults, numbers, and whole argument vectors. */
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "testutil.h"

static void devport(void **state)
{
	struct pd_devport d;

	(void)state;
	assert_ok(pd_parse_devport("0000:01:00.0=127.0.0.1:2323", &d));
	assert_string_equal(d.host, "127.0.0.1");
	assert_string_equal(d.port, "2323");
	assert_int_equal(d.bdf.bus, 1);
	assert_ok(pd_parse_devport("0000:02:00.0=[::1]:0", &d));
	assert_string_equal(d.host, "::1");
	assert_string_equal(d.port, "0");
	assert_ok(pd_parse_devport("0000:02:00.0=localhost:65535", &d));
	/* Bad: no '=', bad BDF, no port, port out of range or not decimal, empty host. */
	assert_err(pd_parse_devport("0000:01:00.0", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00=h:1", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=host", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=h:65536", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=h:-1", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=h:0x10", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=:80", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=[]:80", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("0000:01:00.0=", &d), PCITSM_E_INVAL);
	assert_err(pd_parse_devport("=h:1", &d), PCITSM_E_INVAL);
	{
		char long_host[300];

		memset(long_host, 'a', sizeof(long_host));
		memcpy(long_host, "0000:01:00.0=", 13);
		strcpy(long_host + 290, ":1");
		assert_err(pd_parse_devport(long_host, &d), PCITSM_E_INVAL);
	}
}

static void fault(void **state)
{
	struct pd_fault f;

	(void)state;
	assert_ok(pd_parse_fault("0000:03:00.0=bad-signature", &f));
	assert_false(f.fw);
	assert_int_equal(f.bdf.bus, 3);
	assert_string_equal(f.name, "bad-signature");
	assert_ok(pd_parse_fault("tsm0=fail-after-key_prog", &f));
	assert_true(f.fw);
	assert_string_equal(f.name, "fail-after-key_prog");
	assert_err(pd_parse_fault("tsm0=", &f), PCITSM_E_INVAL);
	assert_err(pd_parse_fault("0000:03:00.0=", &f), PCITSM_E_INVAL);
	assert_err(pd_parse_fault("0000:03:00.0=Bad Sig", &f), PCITSM_E_INVAL);
	assert_err(pd_parse_fault("0000:03:00.0", &f), PCITSM_E_INVAL);
	assert_err(pd_parse_fault("tsm1=bad-signature", &f), PCITSM_E_INVAL);
	assert_err(pd_parse_fault("0000:03:00.0=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &f),
		   PCITSM_E_INVAL);
}

static void uints(void **state)
{
	unsigned v;

	(void)state;
	assert_ok(pd_parse_uint("7", 1, 16, &v));
	assert_int_equal(v, 7);
	assert_err(pd_parse_uint("0", 1, 16, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint("17", 1, 16, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint("", 1, 16, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint("3x", 1, 16, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint("+3", 1, 16, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint(" 3", 1, 16, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint("99999999999999999999", 0, 0xffffffffu, &v), PCITSM_E_INVAL);
	assert_err(pd_parse_uint(NULL, 0, 1, &v), PCITSM_E_INVAL);
}

static int parse(struct pd_opts *o, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	while (args[argc]) {
		argv[argc] = (char *)(uintptr_t)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return pd_opts_parse(o, argc, argv, err, 160);
}

static void argv_parse(void **state)
{
	struct pd_opts o;
	char err[160];

	(void)state;
	{
		const char *a[] = { "pcitsmd", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_string_equal(o.mountpoint, "/mnt");
		assert_int_equal(o.nr_ports, 2);
		assert_int_equal(o.nr_streams, 256);
		assert_int_equal(o.ready_fd, -1);
		assert_false(o.foreground);
		/* The firmware's key lifetime policy: 2^32 TLPs per key, one hour. */
		assert_int_equal(o.key_max_tlps, 1ull << 32);
		assert_int_equal(o.key_max_age_s, 3600);
		assert_null(o.tap_dir); /* no link capture unless asked */
	}
	{
		const char *a[] = { "pcitsmd", "--tap", "/tmp/tap", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_string_equal(o.tap_dir, "/tmp/tap");
		assert_string_equal(o.mountpoint, "/mnt");
	}
	{
		const char *a[] = { "pcitsmd", "--key-max-tlps", "281474976710656", "--key-max-age",
				    "0", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_int_equal(o.key_max_tlps, 1ull << 48);
		assert_int_equal(o.key_max_age_s, 0);
	}
	{
		const char *a[] = { "pcitsmd", "--ports", "4", "--streams", "8", "-f", "--ready-fd", "3",
				    "--pidfile", "/run/p", "--fault", "0000:02:00.0=untrusted-cert",
				    "--device-port", "0000:01:00.0=127.0.0.1:5000", "--port-base",
				    "6000", "--identity", "/id", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_int_equal(o.nr_ports, 4);
		assert_int_equal(o.nr_streams, 8);
		assert_true(o.foreground);
		assert_int_equal(o.ready_fd, 3);
		assert_string_equal(o.pidfile, "/run/p");
		assert_int_equal(o.nr_faults, 1);
		assert_int_equal(o.nr_devports, 1);
		assert_int_equal(o.port_base, 6000);
		assert_string_equal(o.identity_dir, "/id");
	}
	{
		const char *a[] = { "pcitsmd", "-d", "/mnt", NULL };
		assert_int_equal(parse(&o, err, a), 0);
		assert_true(o.debug && o.foreground);
	}
	/* Usage errors, each with a message. */
	{
		const char *bad[][6] = {
			{ "pcitsmd", NULL },
			{ "pcitsmd", "/a", "/b", NULL },
			{ "pcitsmd", "--ports", "0", "/m", NULL },
			{ "pcitsmd", "--ports", "256", "/m", NULL },
			{ "pcitsmd", "--streams", "257", "/m", NULL },
			{ "pcitsmd", "--streams", "-1", "/m", NULL },
			{ "pcitsmd", "--fault", "nonsense", "/m", NULL },
			{ "pcitsmd", "--device-port", "0000:01:00.0", "/m", NULL },
			{ "pcitsmd", "--ready-fd", "x", "/m", NULL },
			{ "pcitsmd", "--bogus", "/m", NULL },
			{ "pcitsmd", "--port-base", "65535", "/m", NULL },
			/* Above the cap of 2^48, not a number, negative, past 2^30 seconds. */
			{ "pcitsmd", "--key-max-tlps", "281474976710657", "/m", NULL },
			{ "pcitsmd", "--key-max-tlps", "1e9", "/m", NULL },
			{ "pcitsmd", "--key-max-tlps", "-1", "/m", NULL },
			{ "pcitsmd", "--key-max-tlps", "99999999999999999999", "/m", NULL },
			{ "pcitsmd", "--key-max-age", "1073741825", "/m", NULL },
			/* --tap without its directory. */
			{ "pcitsmd", "/m", "--tap", NULL },
		};
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(bad); i++) {
			err[0] = '\0';
			assert_int_equal(parse(&o, err, bad[i]), -1);
			assert_true(err[0] != '\0');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(devport),
		cmocka_unit_test(fault),
		cmocka_unit_test(uints),
		cmocka_unit_test(argv_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
