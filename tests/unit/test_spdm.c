/* SPDX-License-Identifier: MIT */
/* SPDM requester <-> responder over the DOE loopback: versions, algorithms, measurements, retries. */
#include "test_spdm_fixture.h"

static void check_success(struct fx *f, uint8_t version)
{
	assert_int_equal(f->res.err, PCITSM_OK);
	assert_int_equal(f->res.version, version);
	assert_true(f->res.chain_trusted);
	assert_string_equal(f->res.chain_why, "");
	assert_true(f->res.challenged);
	assert_non_null(f->res.leaf_pub);
	assert_true(f->res.vca_len > 40);
	/* A begins with GET_VERSION as sent: 10 84 00 00. */
	assert_int_equal(f->res.vca[0], 0x10);
	assert_int_equal(f->res.vca[1], 0x84);
	assert_int_equal(f->res.chain_len, f->id.chain_len + 4 + f->res.hash_len);
	assert_memory_equal(f->res.chain + f->res.certs_off, f->id.chain, f->id.chain_len);
}

static void auth_v13_p256(void **state)
{
	struct fx *f = fx_new("p256");

	assert_ok(fx_auth(f));
	check_success(f, PCITSM_SPDM_V13);
	assert_int_equal(f->res.base_asym, PCITSM_SPDM_ASYM_ECDSA_P256);
	assert_int_equal(f->res.base_hash, PCITSM_SPDM_HASH_SHA512); /* strongest common */
	assert_true(f->res.meas_signed);
	assert_int_equal(f->res.nr_blocks, f->id.nr_meas);
	for (unsigned i = 0; i < f->res.nr_blocks; i++)
		assert_int_equal(f->res.blocks[i].index, f->id.meas[i].index);
	fx_free(f);
}

static void auth_v12_p384(void **state)
{
	struct fx *f = fx_new("p384");

	f->ao.cfg.max_version = PCITSM_SPDM_V12;
	assert_ok(fx_auth(f));
	check_success(f, PCITSM_SPDM_V12);
	assert_int_equal(f->res.base_asym, PCITSM_SPDM_ASYM_ECDSA_P384);
	assert_int_equal(f->res.nr_blocks, f->id.nr_meas);
	fx_free(f);
}

/* Every base hash with every measurement hash, both curves, both versions. */
static void auth_hash_matrix(void **state)
{
	static const uint32_t hashes[] = { PCITSM_SPDM_HASH_SHA256, PCITSM_SPDM_HASH_SHA384,
					   PCITSM_SPDM_HASH_SHA512 };
	static const uint32_t mhashes[] = { PCITSM_SPDM_MEAS_HASH_SHA256,
					    PCITSM_SPDM_MEAS_HASH_SHA384,
					    PCITSM_SPDM_MEAS_HASH_SHA512 };
	static const char *const ids[] = { "p256", "p384" };

	for (unsigned k = 0; k < 2; k++)
		for (unsigned v = PCITSM_SPDM_V12; v <= PCITSM_SPDM_V13; v++)
			for (unsigned i = 0; i < 3; i++) {
				struct fx *f = fx_new(ids[k]);

				f->ao.cfg.base_hash = hashes[i];
				f->ao.cfg.min_version = f->ao.cfg.max_version = (uint8_t)v;
				f->ro.meas_hash = mhashes[(i + k) % 3];
				assert_ok(fx_auth(f));
				check_success(f, (uint8_t)v);
				assert_int_equal(f->res.base_hash, hashes[i]);
				assert_int_equal(f->res.meas_hash, mhashes[(i + k) % 3]);
				/* Digest blocks carry the measurement hash's size. */
				assert_int_equal(f->res.blocks[0].value_len,
						 pcitsm_hash_size(pcitsm_spdm_meas_hash_alg(
							 f->res.meas_hash)));
				fx_free(f);
			}
}

/* A responder offering 1.0-1.4 gives the highest common: 1.3. */
static void auth_responder_10_to_14(void **state)
{
	struct fx *f = fx_new("p256");
	static const uint8_t v[] = { 0x10, 0x11, 0x12, 0x13, 0x14 };

	memcpy(f->ro.versions, v, sizeof(v));
	f->ro.nr_versions = sizeof(v);
	assert_ok(fx_auth(f));
	check_success(f, PCITSM_SPDM_V13);
	fx_free(f);
}

/* A responder that only has 1.0/1.1: no common version with the default requester; a requester
 * that allows 1.1 authenticates without the signing prefix (DSP0274 1.3 signing with
 * combined_spdm_prefix). */
static void auth_old_versions(void **state)
{
	struct fx *f = fx_new("p256");

	f->ro.nr_versions = 2; /* 1.0, 1.1 */
	assert_err(fx_auth(f), PCITSM_E_VERSION);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_VERSION);
	f->ao.cfg.min_version = PCITSM_SPDM_V11;
	assert_ok(fx_auth(f));
	check_success(f, PCITSM_SPDM_V11);
	f->ao.cfg.min_version = PCITSM_SPDM_V10;
	f->ro.nr_versions = 1;
	pcitsm_spdm_rsp_free(&f->rsp);
	fx_start(f);
	assert_ok(fx_auth(f));
	check_success(f, PCITSM_SPDM_V10);
	fx_free(f);
}

static void auth_one_index_and_unsigned(void **state)
{
	struct fx *f = fx_new("p384");

	f->ao.meas = PCITSM_SPDM_MEAS_ONE;
	f->ao.meas_index = 3;
	assert_ok(fx_auth(f));
	assert_int_equal(f->res.nr_blocks, 1);
	assert_int_equal(f->res.blocks[0].index, 3);
	/* Index 3 is a raw bit stream: type bit 7, the value itself. */
	assert_true(f->res.blocks[0].type & 0x80);
	assert_int_equal(f->res.blocks[0].value_len, f->id.meas[2].len);
	assert_memory_equal(f->res.blocks[0].value, f->id.meas[2].value, f->id.meas[2].len);

	f->ao.meas = PCITSM_SPDM_MEAS_ALL;
	f->ao.meas_unsigned = true;
	f->ao.summary_type = 0xff;
	assert_ok(fx_auth(f));
	assert_false(f->res.meas_signed);
	assert_int_equal(f->res.nr_blocks, f->id.nr_meas);

	/* A missing index is refused by the responder. */
	f->ao.meas = PCITSM_SPDM_MEAS_ONE;
	f->ao.meas_index = 0x77;
	assert_err(fx_auth(f), PCITSM_E_PEER_ERROR);
	assert_int_equal(f->res.peer_error, PCITSM_SPDM_ERR_INVALID_REQUEST);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_MEASUREMENTS);
	assert_non_null(strstr(f->res.why, "InvalidRequest"));
	fx_free(f);
}

/* Busy: bounded retries; ResponseNotReady: wait (the test clock moves) and RESPOND_IF_READY;
 * RequestResynch: start again at GET_VERSION. */
static void auth_retries(void **state)
{
	struct fx *f = fx_new("p256");
	uint64_t t0;

	f->faults.busy = PCITSM_SPDM_BUSY_RETRIES;
	f->faults.not_ready = 2;
	f->faults.resynch = 1;
	t0 = f->et.clock_ns;
	assert_ok(fx_auth(f));
	check_success(f, PCITSM_SPDM_V13);
	assert_int_equal(f->res.resynchs, 1);
	assert_int_equal(f->res.busy_retries, PCITSM_SPDM_BUSY_RETRIES);
	assert_int_equal(f->res.not_ready_waits, 2);
	assert_true(f->et.clock_ns - t0 >= 2 * 1024 * 1000ull);
	fx_free(f);

	/* One Busy more than the bound fails. */
	f = fx_new("p256");
	f->faults.busy = PCITSM_SPDM_BUSY_RETRIES + 1;
	assert_err(fx_auth(f), PCITSM_E_PEER_BUSY);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_DIGESTS);
	fx_free(f);

	/* Endless resynch fails after the bound. */
	f = fx_new("p256");
	f->faults.resynch = 100;
	assert_err(fx_auth(f), PCITSM_E_PEER_BUSY);
	assert_int_equal(f->res.resynchs, PCITSM_SPDM_RESYNCH_RETRIES);
	fx_free(f);

	/* ResponseNotReady forever: bounded waits, then a timeout. */
	f = fx_new("p256");
	f->faults.not_ready = 100;
	assert_err(fx_auth(f), PCITSM_E_TIMEOUT);
	assert_int_equal(f->res.failed_step, PCITSM_SPDM_STEP_CHALLENGE);
	fx_free(f);
}

/* The same responder serves several authentications in a row. */
static void auth_repeat(void **state)
{
	struct fx *f = fx_new("p384");

	for (int i = 0; i < 3; i++) {
		assert_ok(fx_auth(f));
		check_success(f, PCITSM_SPDM_V13);
	}
	fx_free(f);
}

int main(void)
{
	return test_run(auth_v13_p256, auth_v12_p384, auth_hash_matrix, auth_responder_10_to_14,
		        auth_old_versions, auth_one_index_and_unsigned, auth_retries, auth_repeat);
}
