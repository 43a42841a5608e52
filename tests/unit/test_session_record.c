/* SPDX-License-Identifier: MIT */
/*
 * DSP0277 secured messages over DOE (session.h, PCIe 6.x §6.31; DSP0277 secured message format,
 * sequence numbers and AEAD nonce): round trips in both directions and phases, the record layout,
 * the nonce placement cross-checked against the Python-computed nonces, and every failure: a
 * flipped bit at every byte position, replay and reordering, another session's ID, truncation at
 * every length, bad Length fields, DOE padding, random data inside the record, counters at their
 * limit, small buffers, wrong states.
 */
#include <string.h>

#include "pcitsm/session.h"
#include "testutil.h"

#include "../kat/spdm_keysched_kat.h"

#define SID 0xbeef0001u /* ReqSessionID 0x0001, RspSessionID 0xbeef */
#define BIG (PCITSM_SM_MAX_APP + PCITSM_SM_OVERHEAD + 8)

static uint8_t rec[BIG], out[BIG], msg[BIG];

/* A requester and a responder sharing the schedule of KAT case i. */
static void pair(size_t i, struct pcitsm_session *req, struct pcitsm_session *rsp, bool data)
{
	const struct kat_keysched *t = &kat_keysched[i];

	assert_ok(pcitsm_session_init(req, PCITSM_SESSION_REQUESTER, SID, t->hash, t->aead,
				      t->spdm_version, PCITSM_SM_V12));
	assert_ok(pcitsm_session_init(rsp, PCITSM_SESSION_RESPONDER, SID, t->hash, t->aead,
				      t->spdm_version, PCITSM_SM_V12));
	assert_ok(pcitsm_session_handshake_keys(req, t->shared, t->shared_len, t->th1));
	assert_ok(pcitsm_session_handshake_keys(rsp, t->shared, t->shared_len, t->th1));
	if (data) {
		assert_ok(pcitsm_session_data_keys(req, t->th2));
		assert_ok(pcitsm_session_data_keys(rsp, t->th2));
	}
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* from seals len bytes of msg, to opens them; lengths and bytes must match. */
static void exchange(struct pcitsm_session *from, struct pcitsm_session *to, size_t len)
{
	size_t rlen, olen;

	fill(msg, len, (uint8_t)len);
	assert_ok(pcitsm_record_seal(from, msg, len, rec, sizeof(rec), &rlen));
	assert_int_equal(rlen, len + 24);
	assert_ok(pcitsm_record_open(to, rec, rlen, out, sizeof(out), &olen));
	assert_int_equal(olen, len);
	assert_memory_equal(out, msg, len);
}

static void test_round_trips(void **state)
{
	static const size_t sizes[] = { 0, 1, 4, 15, 16, 17, 100, 4096, PCITSM_SM_MAX_APP };
	struct pcitsm_session req, rsp;

	(void)state;
	for (size_t c = 0; c < PCITSM_ARRAY_SIZE(kat_keysched); c++) {
		pair(c, &req, &rsp, false);
		/* FINISH and FINISH_RSP under the handshake keys */
		exchange(&req, &rsp, 8);
		exchange(&rsp, &req, 4);
		assert_int_equal(req.hs[PCITSM_SM_REQ].seq, 1);
		assert_int_equal(rsp.hs[PCITSM_SM_REQ].seq, 1);
		assert_ok(pcitsm_session_data_keys(&req, kat_keysched[c].th2));
		assert_ok(pcitsm_session_data_keys(&rsp, kat_keysched[c].th2));
		/* application phase: its own counters, from 0 */
		assert_int_equal(req.app[PCITSM_SM_REQ].seq, 0);
		for (size_t i = 0; i < PCITSM_ARRAY_SIZE(sizes); i++) {
			exchange(&req, &rsp, sizes[i]);
			exchange(&rsp, &req, sizes[i]);
		}
		assert_int_equal(req.app[PCITSM_SM_REQ].seq, PCITSM_ARRAY_SIZE(sizes));
		assert_int_equal(rsp.app[PCITSM_SM_REQ].seq, PCITSM_ARRAY_SIZE(sizes));
		assert_int_equal(rsp.app[PCITSM_SM_RSP].seq, PCITSM_ARRAY_SIZE(sizes));
		pcitsm_session_wipe(&req);
		pcitsm_session_wipe(&rsp);
	}
}

/* The wire layout: SessionID LE, Length = N + 18, AppDataLength encrypted, total N + 24. The
 * nonce is the IV with the counter XORed little-endian into bytes 0..7: decrypting a record made at
 * counter seq with the Python-computed nonce must give AppDataLength || message. */
static void test_layout_and_nonce(void **state)
{
	const struct kat_keysched *t = &kat_keysched[0];
	struct pcitsm_session req, rsp;
	uint8_t plain[2 + 32];
	size_t rlen, olen;

	(void)state;
	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(kat_nonce); i++) {
		pair(0, &req, &rsp, true);
		memcpy(req.app[PCITSM_SM_REQ].iv, kat_nonce_iv, 12);
		req.app[PCITSM_SM_REQ].seq = kat_nonce[i].seq;
		fill(msg, 32, (uint8_t)i);
		assert_ok(pcitsm_record_seal(&req, msg, 32, rec, sizeof(rec), &rlen));
		assert_int_equal(rlen, 56);
		assert_memory_equal(rec, "\x01\x00\xef\xbe", 4);
		assert_int_equal(pcitsm_get_le16(rec + 4), 32 + 18);
		assert_ok(pcitsm_aead_open(t->aead, t->req_app_key, kat_nonce[i].nonce, rec, 6,
					   rec + 6, 34, plain, rec + 40));
		assert_int_equal(pcitsm_get_le16(plain), 32);
		assert_memory_equal(plain + 2, msg, 32);
		/* the responder with the same IV and counter agrees */
		memcpy(rsp.app[PCITSM_SM_REQ].iv, kat_nonce_iv, 12);
		rsp.app[PCITSM_SM_REQ].seq = kat_nonce[i].seq;
		assert_ok(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen));
		assert_int_equal(rsp.app[PCITSM_SM_REQ].seq, kat_nonce[i].seq + 1);
	}
}

/* A bit flipped at every byte position: SessionID -> E_NOTFOUND (and nothing changes), Length ->
 * a framing error or E_MAC, anything after -> E_MAC; every failure is sticky. */
static void test_tamper_every_byte(void **state)
{
	struct pcitsm_session req, rsp, saved;
	size_t rlen, olen;
	pcitsm_err e;

	(void)state;
	pair(1, &req, &rsp, true);
	fill(msg, 40, 9);
	assert_ok(pcitsm_record_seal(&req, msg, 40, rec, sizeof(rec), &rlen));
	saved = rsp;
	for (size_t pos = 0; pos < rlen; pos++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			uint8_t bad[64];

			memcpy(bad, rec, rlen);
			bad[pos] ^= (uint8_t)(1u << bit);
			rsp = saved;
			e = pcitsm_record_open(&rsp, bad, rlen, out, sizeof(out), &olen);
			assert_int_equal(olen, 0);
			if (pos < 4) {
				assert_err(e, PCITSM_E_NOTFOUND);
				assert_int_equal(rsp.err, PCITSM_OK);
				continue;
			}
			if (pos < 6)
				assert_true(e == PCITSM_E_SHORT || e == PCITSM_E_LONG ||
					    e == PCITSM_E_FIELD || e == PCITSM_E_RESERVED ||
					    e == PCITSM_E_MAC);
			else
				assert_err(e, PCITSM_E_MAC);
			assert_int_equal(rsp.err, e);
			assert_int_equal(rsp.app[PCITSM_SM_REQ].seq, 0);
			/* the session is broken for good, even for the genuine record */
			assert_err(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen),
				   PCITSM_E_STATE);
			assert_err(pcitsm_record_seal(&rsp, msg, 1, out, sizeof(out), &olen),
				   PCITSM_E_STATE);
		}
	}
	rsp = saved;
	assert_ok(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen));
}

static void test_replay_and_reorder(void **state)
{
	struct pcitsm_session req, rsp, saved;
	uint8_t rec2[64];
	size_t rlen, rlen2, olen;

	(void)state;
	pair(0, &req, &rsp, true);
	assert_ok(pcitsm_record_seal(&req, (const uint8_t *)"first", 5, rec, sizeof(rec), &rlen));
	assert_ok(pcitsm_record_seal(&req, (const uint8_t *)"second", 6, rec2, sizeof(rec2),
				      &rlen2));
	saved = rsp;
	/* reordered: the second record checked against counter 0 */
	assert_err(pcitsm_record_open(&rsp, rec2, rlen2, out, sizeof(out), &olen), PCITSM_E_MAC);
	/* replayed: the first record again, now at counter 1 */
	rsp = saved;
	assert_ok(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen));
	assert_err(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen), PCITSM_E_MAC);
	assert_err(pcitsm_record_open(&rsp, rec2, rlen2, out, sizeof(out), &olen),
		   PCITSM_E_STATE);
	/* a record reflected back to its sender does not open either (other direction's key) */
	pair(0, &req, &rsp, true);
	assert_ok(pcitsm_record_seal(&req, (const uint8_t *)"first", 5, rec, sizeof(rec), &rlen));
	req.app[PCITSM_SM_RSP].seq = 0;
	assert_err(pcitsm_record_open(&req, rec, rlen, out, sizeof(out), &olen), PCITSM_E_MAC);
	/* a handshake-phase record does not open in the data phase */
	pair(0, &req, &rsp, false);
	assert_ok(pcitsm_record_seal(&req, (const uint8_t *)"fin", 3, rec, sizeof(rec), &rlen));
	assert_ok(pcitsm_session_data_keys(&rsp, kat_keysched[0].th2));
	assert_err(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen), PCITSM_E_MAC);
}

static void test_unknown_session(void **state)
{
	struct pcitsm_session req, rsp, other_req, other_rsp;
	size_t rlen, olen;
	uint32_t id;

	(void)state;
	pair(0, &req, &rsp, true);
	pair(0, &other_req, &other_rsp, true);
	other_req.id = SID + 0x10000;
	assert_ok(pcitsm_record_seal(&other_req, msg, 10, rec, sizeof(rec), &rlen));
	assert_ok(pcitsm_record_session_id(rec, rlen, &id));
	assert_int_equal(id, SID + 0x10000);
	assert_err(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen),
		   PCITSM_E_NOTFOUND);
	/* ignored: the session goes on */
	assert_int_equal(rsp.err, PCITSM_OK);
	exchange(&req, &rsp, 10);
	assert_err(pcitsm_record_session_id(rec, 3, &id), PCITSM_E_SHORT);
	assert_int_equal(pcitsm_session_id(0x0001, 0xbeef), SID);
}

/* Every truncation; then Length fields that disagree with the record. */
static void test_truncated_and_bad_length(void **state)
{
	struct pcitsm_session req, rsp, saved;
	uint8_t bad[80];
	size_t rlen, olen;

	(void)state;
	pair(0, &req, &rsp, true);
	assert_ok(pcitsm_record_seal(&req, msg, 20, rec, sizeof(rec), &rlen));
	saved = rsp;
	for (size_t n = 0; n < rlen; n++) {
		rsp = saved;
		assert_err(pcitsm_record_open(&rsp, rec, n, out, sizeof(out), &olen),
			   PCITSM_E_SHORT);
		assert_int_equal(rsp.err, n < 4 ? PCITSM_OK : PCITSM_E_SHORT);
	}
	/* Length below AppDataLength + MAC */
	for (uint16_t l = 0; l < 18; l++) {
		memcpy(bad, rec, rlen);
		pcitsm_put_le16(bad + 4, l);
		rsp = saved;
		assert_err(pcitsm_record_open(&rsp, bad, rlen, out, sizeof(out), &olen),
			   PCITSM_E_FIELD);
	}
	/* Length past the end */
	memcpy(bad, rec, rlen);
	pcitsm_put_le16(bad + 4, (uint16_t)(rlen - 6 + 1));
	rsp = saved;
	assert_err(pcitsm_record_open(&rsp, bad, rlen, out, sizeof(out), &olen), PCITSM_E_SHORT);
	pcitsm_put_le16(bad + 4, 0xffff);
	rsp = saved;
	assert_err(pcitsm_record_open(&rsp, bad, rlen, out, sizeof(out), &olen), PCITSM_E_SHORT);
	/* Length short of the record by more than DOE padding */
	pcitsm_put_le16(bad + 4, (uint16_t)(rlen - 6 - 4));
	rsp = saved;
	assert_err(pcitsm_record_open(&rsp, bad, rlen, out, sizeof(out), &olen), PCITSM_E_LONG);
}

/* DOE pads the object to a DW with zeros outside Length: 1..3 bytes accepted, 4 not, non-zero
 * padding not. */
static void test_doe_padding(void **state)
{
	struct pcitsm_session req, rsp, saved;
	size_t rlen, olen;

	(void)state;
	pair(0, &req, &rsp, true);
	assert_ok(pcitsm_record_seal(&req, msg, 21, rec, sizeof(rec), &rlen));
	assert_int_equal(rlen, 45);
	memset(rec + rlen, 0, 8);
	saved = rsp;
	for (size_t pad = 0; pad <= 3; pad++) {
		rsp = saved;
		assert_ok(pcitsm_record_open(&rsp, rec, rlen + pad, out, sizeof(out), &olen));
		assert_int_equal(olen, 21);
	}
	rsp = saved;
	assert_err(pcitsm_record_open(&rsp, rec, rlen + 4, out, sizeof(out), &olen),
		   PCITSM_E_LONG);
	rec[rlen + 2] = 1;
	rsp = saved;
	assert_err(pcitsm_record_open(&rsp, rec, rlen + 3, out, sizeof(out), &olen),
		   PCITSM_E_RESERVED);
}

/* An authentic record whose AppDataLength leaves room for random data (not allowed over DOE), or
 * claims more than the record holds: E_FIELD after the tag checked, output wiped. */
static void test_app_length_mismatch(void **state)
{
	const struct kat_keysched *t = &kat_keysched[0];
	struct pcitsm_session req, rsp, saved;
	uint8_t nonce[12], plain[2 + 16], zero[18] = { 0 };
	size_t olen;

	(void)state;
	pair(0, &req, &rsp, true);
	saved = rsp;
	for (int delta = -1; delta <= 1; delta += 2) {
		/* counter 0: the nonce is the IV itself */
		memcpy(nonce, t->req_app_iv, 12);
		pcitsm_put_le32(rec, SID);
		pcitsm_put_le16(rec + 4, 2 + 16 + 16);
		pcitsm_put_le16(plain, (uint16_t)(16 + delta));
		memset(plain + 2, 0x42, 16);
		assert_ok(pcitsm_aead_seal(t->aead, t->req_app_key, nonce, rec, 6, plain, 18,
					   rec + 6, rec + 24));
		rsp = saved;
		memset(out, 0xee, 18);
		assert_err(pcitsm_record_open(&rsp, rec, 40, out, sizeof(out), &olen),
			   PCITSM_E_FIELD);
		assert_memory_equal(out, zero, 18);
		assert_int_equal(rsp.err, PCITSM_E_FIELD);
	}
	/* the same construction with the right AppDataLength opens */
	pcitsm_put_le16(plain, 16);
	assert_ok(pcitsm_aead_seal(t->aead, t->req_app_key, nonce, rec, 6, plain, 18, rec + 6,
				   rec + 24));
	rsp = saved;
	assert_ok(pcitsm_record_open(&rsp, rec, 40, out, sizeof(out), &olen));
	assert_int_equal(olen, 16);
}

/* The counter never wraps: 2^64 - 2 is the last value used, then E_OVERFLOW on both sides. */
static void test_counter_limit(void **state)
{
	struct pcitsm_session req, rsp;
	size_t rlen, olen;

	(void)state;
	pair(0, &req, &rsp, true);
	req.app[PCITSM_SM_REQ].seq = PCITSM_SM_SEQ_LIMIT - 1;
	rsp.app[PCITSM_SM_REQ].seq = PCITSM_SM_SEQ_LIMIT - 1;
	exchange(&req, &rsp, 5);
	assert_err(pcitsm_record_seal(&req, msg, 5, rec, sizeof(rec), &rlen), PCITSM_E_OVERFLOW);
	assert_int_equal(req.app[PCITSM_SM_REQ].seq, PCITSM_SM_SEQ_LIMIT);
	/* the receiver at its limit refuses whatever comes */
	req.app[PCITSM_SM_REQ].seq = 0;
	assert_ok(pcitsm_record_seal(&req, msg, 5, rec, sizeof(rec), &rlen));
	assert_err(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen),
		   PCITSM_E_OVERFLOW);
	/* the other direction has its own counter */
	pair(0, &req, &rsp, true);
	rsp.app[PCITSM_SM_RSP].seq = PCITSM_SM_SEQ_LIMIT;
	exchange(&req, &rsp, 5);
	assert_err(pcitsm_record_seal(&rsp, msg, 5, rec, sizeof(rec), &rlen), PCITSM_E_OVERFLOW);
	/* a key update starts that direction again at 0 */
	assert_ok(pcitsm_session_key_update(&rsp, PCITSM_SM_RSP));
	assert_ok(pcitsm_session_key_update(&req, PCITSM_SM_RSP));
	exchange(&rsp, &req, 5);
}

static void test_key_update(void **state)
{
	struct pcitsm_session req, rsp;
	size_t rlen, olen;

	(void)state;
	pair(3, &req, &rsp, true);
	exchange(&req, &rsp, 30);
	exchange(&rsp, &req, 30);
	/* UpdateKey: requester-to-responder only */
	assert_ok(pcitsm_session_key_update(&rsp, PCITSM_SM_REQ));
	assert_ok(pcitsm_session_key_update(&req, PCITSM_SM_REQ));
	exchange(&req, &rsp, 30);
	exchange(&rsp, &req, 30);
	assert_int_equal(req.app[PCITSM_SM_REQ].seq, 1);
	assert_int_equal(req.app[PCITSM_SM_RSP].seq, 2);
	/* one side updated, the other not: the record does not open */
	assert_ok(pcitsm_session_key_update(&rsp, PCITSM_SM_RSP));
	assert_ok(pcitsm_record_seal(&rsp, msg, 3, rec, sizeof(rec), &rlen));
	assert_err(pcitsm_record_open(&req, rec, rlen, out, sizeof(out), &olen), PCITSM_E_MAC);
	assert_err(pcitsm_session_key_update(&req, PCITSM_SM_RSP), PCITSM_E_STATE);
}

static void test_buffers_and_states(void **state)
{
	struct pcitsm_session req, rsp, none = { 0 };
	size_t rlen, olen;

	(void)state;
	/* no keys yet */
	pair(0, &req, &rsp, false);
	assert_ok(pcitsm_session_init(&req, PCITSM_SESSION_REQUESTER, SID, PCITSM_HASH_SHA256,
				      PCITSM_AEAD_AES_256_GCM, 0x12, PCITSM_SM_V12));
	assert_err(pcitsm_record_seal(&req, msg, 4, rec, sizeof(rec), &rlen), PCITSM_E_STATE);
	assert_err(pcitsm_record_seal(&none, msg, 4, rec, sizeof(rec), &rlen), PCITSM_E_STATE);
	assert_ok(pcitsm_record_seal(&rsp, msg, 4, rec, sizeof(rec), &rlen));
	pcitsm_put_le32(rec, 0);
	assert_err(pcitsm_record_open(&none, rec, rlen, out, sizeof(out), &olen), PCITSM_E_STATE);

	pair(0, &req, &rsp, true);
	/* output too small: nothing consumed, nothing broken */
	assert_err(pcitsm_record_seal(&req, msg, 10, rec, 33, &rlen), PCITSM_E_NOSPC);
	assert_int_equal(req.app[PCITSM_SM_REQ].seq, 0);
	assert_ok(pcitsm_record_seal(&req, msg, 10, rec, 34, &rlen));
	assert_err(pcitsm_record_open(&rsp, rec, rlen, out, 11, &olen), PCITSM_E_NOSPC);
	assert_int_equal(rsp.err, PCITSM_OK);
	assert_ok(pcitsm_record_open(&rsp, rec, rlen, out, 12, &olen));
	assert_int_equal(olen, 10);
	/* message too large for the u16 Length */
	assert_err(pcitsm_record_seal(&req, msg, PCITSM_SM_MAX_APP + 1, rec, sizeof(rec), &rlen),
		   PCITSM_E_INVAL);
	/* in place: the message already at offset 8 of the output */
	fill(rec + 8, 50, 3);
	memcpy(msg, rec + 8, 50);
	assert_ok(pcitsm_record_seal(&req, rec + 8, 50, rec, sizeof(rec), &rlen));
	assert_ok(pcitsm_record_open(&rsp, rec, rlen, out, sizeof(out), &olen));
	assert_memory_equal(out, msg, 50);
	assert_err(pcitsm_record_seal(NULL, msg, 1, rec, sizeof(rec), &rlen), PCITSM_E_INVAL);
	assert_err(pcitsm_record_open(&rsp, NULL, 5, out, sizeof(out), &olen), PCITSM_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_layout_and_nonce),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_replay_and_reorder),
		cmocka_unit_test(test_unknown_session),
		cmocka_unit_test(test_truncated_and_bad_length),
		cmocka_unit_test(test_doe_padding),
		cmocka_unit_test(test_app_length_mismatch),
		cmocka_unit_test(test_counter_limit),
		cmocka_unit_test(test_key_update),
		cmocka_unit_test(test_buffers_and_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
