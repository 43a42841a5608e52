/* SPDX-License-Identifier: MIT */
/*
 * DSP0277 secured messages as bound to PCIe DOE type 2 (PCIe 6.x §6.31; DSP0277 secured message
 * format, sequence numbers and AEAD nonce):
 *
 *   off 0  SessionID u32      AAD
 *   off 4  Length u16         AAD: 2 + AppDataLength + 16 (no random data over DOE)
 *   off 6  AppDataLength u16  encrypted
 *   off 8  the SPDM message   encrypted
 *   off 8+N MAC[16]
 *
 * No sequence-number field: each direction keeps an implicit 64-bit counter per phase, and the
 * nonce is the direction's IV with the counter XORed little-endian into bytes 0..7 (DSP0277 1.2+,
 * and libspdm's default for 1.1: docs/sessions.md).
 */
#include <string.h>

#include "pcitsm/session.h"

#define DOE_MAX_PAD 3 /* a DOE object is zero-padded to a DW boundary (PCIe 6.x §6.30.1) */

pcitsm_err pcitsm_session_init(struct pcitsm_session *s, enum pcitsm_session_role role,
			       uint32_t id, enum pcitsm_hash_alg hash, enum pcitsm_aead_alg aead,
			       uint8_t spdm_version, uint16_t sm_version)
{
	if (!s)
		return PCITSM_E_INVAL;
	memset(s, 0, sizeof(*s));
	if (role != PCITSM_SESSION_REQUESTER && role != PCITSM_SESSION_RESPONDER)
		return PCITSM_E_INVAL;
	PCITSM_TRY(pcitsm_keysched_init(&s->ks, hash, aead, spdm_version));
	s->role = role;
	s->id = id;
	s->sm_version = sm_version;
	s->phase = PCITSM_SM_PHASE_NONE;
	return PCITSM_OK;
}

/* Key and IV of one direction from its traffic secret; counter 0 (DSP0277 sequence numbers and AEAD
 * nonce). */
static pcitsm_err install(const struct pcitsm_keysched *ks, const uint8_t *secret,
			  struct pcitsm_sm_keys *k)
{
	struct pcitsm_sm_keys fresh = { 0 };
	pcitsm_err err;

	err = pcitsm_keysched_traffic(ks, secret, fresh.key, fresh.iv);
	if (!err) {
		fresh.set = true;
		*k = fresh;
	}
	pcitsm_wipe(&fresh, sizeof(fresh));
	return err;
}

pcitsm_err pcitsm_session_handshake_keys(struct pcitsm_session *s, const uint8_t *shared,
					 size_t shared_len, const uint8_t *th1)
{
	pcitsm_err err;

	if (!s)
		return PCITSM_E_INVAL;
	if (s->err || s->phase != PCITSM_SM_PHASE_NONE)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_keysched_handshake(&s->ks, shared, shared_len, th1));
	err = install(&s->ks, s->ks.hs_secret[PCITSM_SM_REQ], &s->hs[PCITSM_SM_REQ]);
	if (!err)
		err = install(&s->ks, s->ks.hs_secret[PCITSM_SM_RSP], &s->hs[PCITSM_SM_RSP]);
	if (err) {
		s->err = err;
		pcitsm_wipe(s->hs, sizeof(s->hs));
		return err;
	}
	s->phase = PCITSM_SM_PHASE_HANDSHAKE;
	return PCITSM_OK;
}

pcitsm_err pcitsm_session_data_keys(struct pcitsm_session *s, const uint8_t *th2)
{
	pcitsm_err err;

	if (!s)
		return PCITSM_E_INVAL;
	if (s->err || s->phase != PCITSM_SM_PHASE_HANDSHAKE)
		return PCITSM_E_STATE;
	PCITSM_TRY(pcitsm_keysched_data(&s->ks, th2));
	/* The handshake keys end here (DSP0274 1.3 FINISH: after FINISH_RSP both sides switch). */
	pcitsm_wipe(s->hs, sizeof(s->hs));
	err = install(&s->ks, s->ks.app_secret[PCITSM_SM_REQ], &s->app[PCITSM_SM_REQ]);
	if (!err)
		err = install(&s->ks, s->ks.app_secret[PCITSM_SM_RSP], &s->app[PCITSM_SM_RSP]);
	if (err) {
		s->err = err;
		pcitsm_wipe(s->app, sizeof(s->app));
		return err;
	}
	s->phase = PCITSM_SM_PHASE_DATA;
	return PCITSM_OK;
}

pcitsm_err pcitsm_session_key_update(struct pcitsm_session *s, enum pcitsm_sm_dir dir)
{
	pcitsm_err err;

	if (!s || (dir != PCITSM_SM_REQ && dir != PCITSM_SM_RSP))
		return PCITSM_E_INVAL;
	if (s->err || s->phase != PCITSM_SM_PHASE_DATA)
		return PCITSM_E_STATE;
	/* Next-generation secret, then that direction's key and IV, counter back to 0 (DSP0274 1.3
	 * 'Key schedule') */
	err = pcitsm_keysched_update(&s->ks, dir);
	if (!err)
		err = install(&s->ks, s->ks.app_secret[dir], &s->app[dir]);
	if (err) {
		s->err = err;
		pcitsm_wipe(&s->app[dir], sizeof(s->app[dir]));
	}
	return err;
}

/* The keys protecting direction dir in the current phase, or NULL. */
static struct pcitsm_sm_keys *dir_keys(struct pcitsm_session *s, enum pcitsm_sm_dir dir)
{
	struct pcitsm_sm_keys *k = NULL;

	if (s->phase == PCITSM_SM_PHASE_HANDSHAKE)
		k = &s->hs[dir];
	else if (s->phase == PCITSM_SM_PHASE_DATA)
		k = &s->app[dir];
	return k && k->set ? k : NULL;
}

/* The direction this side sends in. */
static enum pcitsm_sm_dir tx_dir(const struct pcitsm_session *s)
{
	return s->role == PCITSM_SESSION_REQUESTER ? PCITSM_SM_REQ : PCITSM_SM_RSP;
}

/* nonce = IV XOR seq, seq little-endian in bytes 0..7, bytes 8..11 as in the IV (DSP0277 sequence
 * numbers and AEAD nonce). */
static void make_nonce(const struct pcitsm_sm_keys *k, uint8_t nonce[PCITSM_AEAD_IV_LEN])
{
	memcpy(nonce, k->iv, PCITSM_AEAD_IV_LEN);
	for (unsigned i = 0; i < 8; i++)
		nonce[i] ^= (uint8_t)(k->seq >> (8 * i));
}

/* Record the first failure; the session is unusable afterwards. */
static pcitsm_err session_fail(struct pcitsm_session *s, pcitsm_err err)
{
	if (!s->err)
		s->err = err;
	return err;
}

pcitsm_err pcitsm_record_seal(struct pcitsm_session *s, const uint8_t *msg, size_t len,
			      uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t nonce[PCITSM_AEAD_IV_LEN];
	struct pcitsm_sm_keys *k;
	pcitsm_err err;

	if (!s || (!msg && len) || !out || !out_len)
		return PCITSM_E_INVAL;
	*out_len = 0;
	if (len > PCITSM_SM_MAX_APP)
		return PCITSM_E_INVAL;
	k = dir_keys(s, tx_dir(s));
	if (s->err || !k)
		return PCITSM_E_STATE;
	if (k->seq >= PCITSM_SM_SEQ_LIMIT)
		return PCITSM_E_OVERFLOW;
	if (cap < len + PCITSM_SM_OVERHEAD)
		return PCITSM_E_NOSPC;
	/* Header (AAD), then AppDataLength and the message to be encrypted in place. */
	if (len)
		memmove(out + PCITSM_SM_HDR_LEN + 2, msg, len);
	pcitsm_put_le32(out, s->id);
	pcitsm_put_le16(out + 4, (uint16_t)(2 + len + PCITSM_AEAD_TAG_LEN));
	pcitsm_put_le16(out + 6, (uint16_t)len);
	make_nonce(k, nonce);
	err = pcitsm_aead_seal(s->ks.aead, k->key, nonce, out, PCITSM_SM_HDR_LEN,
			       out + PCITSM_SM_HDR_LEN, 2 + len, out + PCITSM_SM_HDR_LEN,
			       out + PCITSM_SM_HDR_LEN + 2 + len);
	pcitsm_wipe(nonce, sizeof(nonce));
	if (err) {
		pcitsm_wipe(out, len + PCITSM_SM_OVERHEAD);
		return session_fail(s, err);
	}
	k->seq++;
	*out_len = len + PCITSM_SM_OVERHEAD;
	return PCITSM_OK;
}

pcitsm_err pcitsm_record_session_id(const uint8_t *rec, size_t len, uint32_t *id)
{
	struct pcitsm_rd r;

	if (!id)
		return PCITSM_E_INVAL;
	pcitsm_rd_init(&r, rec, len);
	*id = pcitsm_rd_le32(&r);
	return pcitsm_rd_err(&r);
}

/* Framing of a record already known to be this session's: the encrypted part and the tag.
 * Length is at least AppDataLength (2) + MAC; at most 3 zero bytes of DOE padding follow. */
static pcitsm_err record_split(const uint8_t *rec, size_t len, const uint8_t **ct, size_t *ct_len)
{
	struct pcitsm_rd r;
	uint16_t length;
	size_t pad;

	pcitsm_rd_init(&r, rec, len);
	pcitsm_rd_skip(&r, 4);
	length = pcitsm_rd_le16(&r);
	pcitsm_rd_check(&r, length >= 2 + PCITSM_AEAD_TAG_LEN, PCITSM_E_FIELD);
	*ct = pcitsm_rd_bytes(&r, length);
	pad = pcitsm_rd_left(&r);
	pcitsm_rd_check(&r, pad <= DOE_MAX_PAD, PCITSM_E_LONG);
	pcitsm_rd_zero(&r, pcitsm_rd_left(&r));
	*ct_len = (size_t)length - PCITSM_AEAD_TAG_LEN;
	return pcitsm_rd_finish(&r);
}

pcitsm_err pcitsm_record_open(struct pcitsm_session *s, const uint8_t *rec, size_t len,
			      uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t nonce[PCITSM_AEAD_IV_LEN];
	struct pcitsm_sm_keys *k;
	const uint8_t *ct;
	size_t ct_len, app_len;
	uint32_t id;
	pcitsm_err err;

	if (!s || (!rec && len) || !out || !out_len)
		return PCITSM_E_INVAL;
	*out_len = 0;
	/* SessionID first: another session's record changes nothing here. */
	PCITSM_TRY(pcitsm_record_session_id(rec, len, &id));
	if (id != s->id)
		return PCITSM_E_NOTFOUND;
	k = dir_keys(s, tx_dir(s) == PCITSM_SM_REQ ? PCITSM_SM_RSP : PCITSM_SM_REQ);
	if (s->err || !k)
		return PCITSM_E_STATE;
	err = record_split(rec, len, &ct, &ct_len);
	if (err)
		return session_fail(s, err);
	if (k->seq >= PCITSM_SM_SEQ_LIMIT)
		return session_fail(s, PCITSM_E_OVERFLOW);
	if (cap < ct_len)
		return PCITSM_E_NOSPC;
	/* Decrypt Length - 16 bytes and check the tag over the 6-byte header. */
	make_nonce(k, nonce);
	err = pcitsm_aead_open(s->ks.aead, k->key, nonce, rec, PCITSM_SM_HDR_LEN, ct, ct_len, out,
			       ct + ct_len);
	pcitsm_wipe(nonce, sizeof(nonce));
	if (err)
		return session_fail(s, err);
	k->seq++;
	/* AppDataLength: the rest is the message, random data must be empty over DOE (PCIe 6.x
	 * §6.31). */
	app_len = pcitsm_get_le16(out);
	if (app_len != ct_len - 2) {
		pcitsm_wipe(out, ct_len);
		return session_fail(s, PCITSM_E_FIELD);
	}
	memmove(out, out + 2, app_len);
	pcitsm_wipe(out + app_len, ct_len - app_len);
	*out_len = app_len;
	return PCITSM_OK;
}

void pcitsm_session_wipe(struct pcitsm_session *s)
{
	if (s)
		pcitsm_wipe(s, sizeof(*s));
}
