/* SPDX-License-Identifier: MIT */
/*
 * The SPDM key schedule, DHE (non-PSK) (DSP0274 1.3 'Key schedule'). Each stage computes into
 * locals and commits to the schedule only when every step succeeded; locals are wiped on every
 * path out.
 */
#include <string.h>

#include "pcitsm/session.h"

/* Labels (DSP0274 1.3 'Key schedule'): ASCII, no NUL. */
#define LABEL_DERIVED "derived"
#define LABEL_REQ_HS "req hs data"
#define LABEL_RSP_HS "rsp hs data"
#define LABEL_REQ_APP "req app data"
#define LABEL_RSP_APP "rsp app data"
#define LABEL_KEY "key"
#define LABEL_IV "iv"
#define LABEL_FINISHED "finished"
#define LABEL_EXP_MASTER "exp master"
#define LABEL_TRAFFIC_UPD "traffic upd"

/* The 8-byte version string comes from the negotiated SPDM version, 1.1 to 1.3 (DSP0274 1.3 'Key
 * schedule'). */
static bool spdm_version_has_sessions(uint8_t v)
{
	return v >= 0x11 && v <= 0x13;
}

pcitsm_err pcitsm_bin_concat(uint8_t spdm_version, uint16_t length, const char *label,
			     const uint8_t *context, size_t ctx_len, uint8_t *out, size_t cap,
			     size_t *out_len)
{
	char ver[9];
	struct pcitsm_wr w;

	if (!spdm_version_has_sessions(spdm_version) || !label || (!context && ctx_len) || !out_len)
		return PCITSM_E_INVAL;
	/* "spdmX.Y ": major and minor from the version byte's nibbles. */
	ver[0] = 's', ver[1] = 'p', ver[2] = 'd', ver[3] = 'm';
	ver[4] = (char)('0' + (spdm_version >> 4));
	ver[5] = '.';
	ver[6] = (char)('0' + (spdm_version & 0xf));
	ver[7] = ' ';
	ver[8] = 0;
	pcitsm_wr_init(&w, out, cap);
	pcitsm_wr_le16(&w, length); /* little-endian, unlike TLS */
	pcitsm_wr_bytes(&w, ver, 8);
	pcitsm_wr_bytes(&w, label, strlen(label));
	pcitsm_wr_bytes(&w, context, ctx_len);
	*out_len = pcitsm_wr_len(&w);
	return pcitsm_wr_err(&w);
}

/* out = HKDF-Expand(secret, BinConcat(len, label, context), len). */
static pcitsm_err expand_label(const struct pcitsm_keysched *ks, const uint8_t *secret,
			       const char *label, const uint8_t *context, uint8_t *out, size_t len)
{
	uint8_t info[PCITSM_BIN_CONCAT_MAX];
	size_t info_len;

	PCITSM_TRY(pcitsm_bin_concat(ks->spdm_version, (uint16_t)len, label, context,
				     context ? ks->hash_len : 0, info, sizeof(info), &info_len));
	return pcitsm_hkdf_expand(ks->hash, secret, ks->hash_len, info, info_len, out, len);
}

pcitsm_err pcitsm_keysched_init(struct pcitsm_keysched *ks, enum pcitsm_hash_alg hash,
				enum pcitsm_aead_alg aead, uint8_t spdm_version)
{
	if (!ks)
		return PCITSM_E_INVAL;
	memset(ks, 0, sizeof(*ks));
	if (!pcitsm_hash_size(hash) || !pcitsm_aead_key_size(aead) ||
	    !spdm_version_has_sessions(spdm_version))
		return PCITSM_E_INVAL;
	ks->hash = hash;
	ks->aead = aead;
	ks->spdm_version = spdm_version;
	ks->hash_len = pcitsm_hash_size(hash);
	ks->stage = PCITSM_KS_NONE;
	return PCITSM_OK;
}

pcitsm_err pcitsm_keysched_handshake(struct pcitsm_keysched *ks, const uint8_t *shared,
				     size_t shared_len, const uint8_t *th1)
{
	uint8_t zeros[PCITSM_HASH_MAX] = { 0 };
	uint8_t hs[PCITSM_HASH_MAX], req[PCITSM_HASH_MAX], rsp[PCITSM_HASH_MAX];
	uint8_t req_fin[PCITSM_HASH_MAX], rsp_fin[PCITSM_HASH_MAX];
	uint8_t salt1[PCITSM_HASH_MAX], master[PCITSM_HASH_MAX];
	size_t h;
	pcitsm_err err;

	if (!ks || !shared || !shared_len || !th1)
		return PCITSM_E_INVAL;
	if (!ks->hash_len || ks->stage != PCITSM_KS_NONE)
		return PCITSM_E_STATE;
	h = ks->hash_len;
	/* HandshakeSecret = HKDF-Extract(salt0 = 0x00 * H, DHE shared secret) */
	err = pcitsm_hkdf_extract(ks->hash, zeros, h, shared, shared_len, hs);
	/* req_hs_secret, rsp_hs_secret: bound to TH1 */
	if (!err)
		err = expand_label(ks, hs, LABEL_REQ_HS, th1, req, h);
	if (!err)
		err = expand_label(ks, hs, LABEL_RSP_HS, th1, rsp, h);
	/* req_finished_key, rsp_finished_key */
	if (!err)
		err = expand_label(ks, req, LABEL_FINISHED, NULL, req_fin, h);
	if (!err)
		err = expand_label(ks, rsp, LABEL_FINISHED, NULL, rsp_fin, h);
	/* salt1 = HKDF-Expand(HandshakeSecret, "derived"); MasterSecret = Extract(salt1, 0x00 * H) */
	if (!err)
		err = expand_label(ks, hs, LABEL_DERIVED, NULL, salt1, h);
	if (!err)
		err = pcitsm_hkdf_extract(ks->hash, salt1, h, zeros, h, master);
	if (!err) {
		memcpy(ks->handshake_secret, hs, h);
		memcpy(ks->hs_secret[PCITSM_SM_REQ], req, h);
		memcpy(ks->hs_secret[PCITSM_SM_RSP], rsp, h);
		memcpy(ks->finished_key[PCITSM_SM_REQ], req_fin, h);
		memcpy(ks->finished_key[PCITSM_SM_RSP], rsp_fin, h);
		memcpy(ks->master_secret, master, h);
		ks->stage = PCITSM_KS_HANDSHAKE;
	}
	pcitsm_wipe(hs, sizeof(hs));
	pcitsm_wipe(req, sizeof(req));
	pcitsm_wipe(rsp, sizeof(rsp));
	pcitsm_wipe(req_fin, sizeof(req_fin));
	pcitsm_wipe(rsp_fin, sizeof(rsp_fin));
	pcitsm_wipe(salt1, sizeof(salt1));
	pcitsm_wipe(master, sizeof(master));
	return err;
}

/* Secrets the data stage no longer needs. */
static void wipe_handshake_stage(struct pcitsm_keysched *ks)
{
	pcitsm_wipe(ks->handshake_secret, sizeof(ks->handshake_secret));
	pcitsm_wipe(ks->hs_secret, sizeof(ks->hs_secret));
	pcitsm_wipe(ks->finished_key, sizeof(ks->finished_key));
	pcitsm_wipe(ks->master_secret, sizeof(ks->master_secret));
}

pcitsm_err pcitsm_keysched_data(struct pcitsm_keysched *ks, const uint8_t *th2)
{
	uint8_t req[PCITSM_HASH_MAX], rsp[PCITSM_HASH_MAX], exp[PCITSM_HASH_MAX];
	size_t h;
	pcitsm_err err;

	if (!ks || !th2)
		return PCITSM_E_INVAL;
	if (ks->stage != PCITSM_KS_HANDSHAKE)
		return PCITSM_E_STATE;
	h = ks->hash_len;
	/* req_app_secret, rsp_app_secret, export_master: bound to TH2 */
	err = expand_label(ks, ks->master_secret, LABEL_REQ_APP, th2, req, h);
	if (!err)
		err = expand_label(ks, ks->master_secret, LABEL_RSP_APP, th2, rsp, h);
	if (!err)
		err = expand_label(ks, ks->master_secret, LABEL_EXP_MASTER, th2, exp, h);
	if (!err) {
		memcpy(ks->app_secret[PCITSM_SM_REQ], req, h);
		memcpy(ks->app_secret[PCITSM_SM_RSP], rsp, h);
		memcpy(ks->export_master_secret, exp, h);
		wipe_handshake_stage(ks);
		ks->stage = PCITSM_KS_DATA;
	}
	pcitsm_wipe(req, sizeof(req));
	pcitsm_wipe(rsp, sizeof(rsp));
	pcitsm_wipe(exp, sizeof(exp));
	return err;
}

pcitsm_err pcitsm_keysched_traffic(const struct pcitsm_keysched *ks, const uint8_t *secret,
				   uint8_t *key, uint8_t iv[PCITSM_AEAD_IV_LEN])
{
	size_t klen;
	pcitsm_err err;

	if (!ks || !secret || !key || !iv)
		return PCITSM_E_INVAL;
	if (ks->stage == PCITSM_KS_NONE)
		return PCITSM_E_STATE;
	klen = pcitsm_aead_key_size(ks->aead);
	/* X_key = Expand(X_secret, BinConcat(keylen, "key")); X_iv = Expand(.., BinConcat(12, "iv")) */
	err = expand_label(ks, secret, LABEL_KEY, NULL, key, klen);
	if (!err)
		err = expand_label(ks, secret, LABEL_IV, NULL, iv, PCITSM_AEAD_IV_LEN);
	if (err) {
		pcitsm_wipe(key, klen);
		pcitsm_wipe(iv, PCITSM_AEAD_IV_LEN);
	}
	return err;
}

pcitsm_err pcitsm_keysched_update(struct pcitsm_keysched *ks, enum pcitsm_sm_dir dir)
{
	uint8_t next[PCITSM_HASH_MAX];
	pcitsm_err err;

	if (!ks || (dir != PCITSM_SM_REQ && dir != PCITSM_SM_RSP))
		return PCITSM_E_INVAL;
	if (ks->stage != PCITSM_KS_DATA)
		return PCITSM_E_STATE;
	/* X_app_secret' = HKDF-Expand(X_app_secret, BinConcat(H, "traffic upd"), H) */
	err = expand_label(ks, ks->app_secret[dir], LABEL_TRAFFIC_UPD, NULL, next, ks->hash_len);
	if (!err)
		memcpy(ks->app_secret[dir], next, ks->hash_len);
	pcitsm_wipe(next, sizeof(next));
	return err;
}

pcitsm_err pcitsm_keysched_verify_data(const struct pcitsm_keysched *ks, enum pcitsm_sm_dir dir,
				       const uint8_t *th, uint8_t *out)
{
	if (!ks || !th || !out || (dir != PCITSM_SM_REQ && dir != PCITSM_SM_RSP))
		return PCITSM_E_INVAL;
	if (ks->stage != PCITSM_KS_HANDSHAKE)
		return PCITSM_E_STATE;
	/* VerifyData = HMAC(X_finished_key, transcript hash) (DSP0274 1.3 KEY_EXCHANGE, FINISH) */
	return pcitsm_hmac(ks->hash, ks->finished_key[dir], ks->hash_len, th, ks->hash_len, out);
}

pcitsm_err pcitsm_keysched_check_verify_data(const struct pcitsm_keysched *ks,
					     enum pcitsm_sm_dir dir, const uint8_t *th,
					     const uint8_t *received)
{
	uint8_t want[PCITSM_HASH_MAX];
	pcitsm_err err;

	if (!received)
		return PCITSM_E_INVAL;
	err = pcitsm_keysched_verify_data(ks, dir, th, want);
	if (!err && pcitsm_ct_memneq(want, received, ks->hash_len))
		err = PCITSM_E_MAC;
	pcitsm_wipe(want, sizeof(want));
	return err;
}

void pcitsm_keysched_wipe(struct pcitsm_keysched *ks)
{
	if (ks)
		pcitsm_wipe(ks, sizeof(*ks));
}
