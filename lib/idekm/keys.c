/* SPDX-License-Identifier: MIT */
/*
 * Key material for one IDE stream and key set: six separately generated AES-256 keys (2 directions
 * x 3 sub-streams, PCIe 6.x §6.33) and the IFV (1, §6.33.3), the KEY_PROG for each slot, and the
 * mirror image for the partner port (PCIe 6.x §6.33.3: port A's Tx key for a sub-stream is
 * port B's Rx key).
 *
 * Keys are kept in AES byte order; the conversion to KEY_PROG order is lib/ide's
 * (pcitsm_ide_km_key_from_aes, pcitsm_ide_km_ifv_encode), the one place that choice lives.
 */
#include <string.h>

#include "pcitsm/idekm.h"

void pcitsm_idekm_keys_wipe(struct pcitsm_idekm_keys *k)
{
	if (k)
		pcitsm_wipe(k, sizeof(*k));
}

/* PCIe 6.x §6.33: six distinct keys per stream and key set. Equal keys mean a broken random source. */
static bool keys_distinct(const struct pcitsm_idekm_keys *k)
{
	for (unsigned a = 0; a < PCITSM_IDEKM_NR_KEYS; a++)
		for (unsigned b = a + 1; b < PCITSM_IDEKM_NR_KEYS; b++)
			if (!pcitsm_ct_memneq(k->key[a / 3][a % 3], k->key[b / 3][b % 3],
					      PCITSM_IDEKM_KEY_LEN))
				return false;
	return true;
}

pcitsm_err pcitsm_idekm_keys_generate(const struct pcitsm_env *env, uint8_t stream_id, unsigned kset,
				      struct pcitsm_idekm_keys *k)
{
	pcitsm_err e = PCITSM_OK;

	if (!k)
		return PCITSM_E_INVAL;
	pcitsm_wipe(k, sizeof(*k));
	if (!env || kset > 1 || stream_id == PCITSM_IDE_RESERVED_STREAM_ID)
		return PCITSM_E_INVAL;
	k->stream_id = stream_id;
	k->kset = (uint8_t)kset;
	k->ifv = PCITSM_IDEKM_IFV_INIT;
	/* One draw per key: each is generated separately (PCIe 6.x §6.33). */
	for (unsigned d = 0; d < 2 && !e; d++)
		for (unsigned u = 0; u < PCITSM_IDE_NR_SUB && !e; u++)
			e = pcitsm_random(env, k->key[d][u], PCITSM_IDEKM_KEY_LEN);
	if (!e && !keys_distinct(k))
		e = PCITSM_E_RNG;
	if (e) {
		pcitsm_wipe(k, sizeof(*k));
		return e;
	}
	return PCITSM_OK;
}

void pcitsm_idekm_keys_slot(unsigned i, enum pcitsm_ide_dir *dir, enum pcitsm_ide_sub *sub)
{
	*dir = i < PCITSM_IDE_NR_SUB ? PCITSM_IDE_RX : PCITSM_IDE_TX;
	*sub = (enum pcitsm_ide_sub)(i % PCITSM_IDE_NR_SUB);
}

pcitsm_err pcitsm_idekm_keys_key_prog(const struct pcitsm_idekm_keys *k, unsigned i,
				      uint8_t port_index, struct pcitsm_idekm_key_prog *kp)
{
	enum pcitsm_ide_dir dir;
	enum pcitsm_ide_sub sub;

	if (!k || !kp || i >= PCITSM_IDEKM_NR_KEYS)
		return PCITSM_E_INVAL;
	pcitsm_idekm_keys_slot(i, &dir, &sub);
	memset(kp, 0, sizeof(*kp));
	kp->ks = (struct pcitsm_idekm_ks){ .obj = PCITSM_IDEKM_KEY_PROG, .stream_id = k->stream_id,
					   .kset = k->kset, .dir = dir, .sub = sub,
					   .port_index = port_index };
	pcitsm_ide_km_key_from_aes(k->key[dir][sub], kp->key);
	pcitsm_ide_km_ifv_encode(k->ifv, kp->ifv);
	return PCITSM_OK;
}

pcitsm_err pcitsm_idekm_keys_prog_partner(const struct pcitsm_idekm_keys *k,
					  struct pcitsm_ide_port *p)
{
	if (!k || !p)
		return PCITSM_E_INVAL;
	for (unsigned i = 0; i < PCITSM_IDEKM_NR_KEYS; i++) {
		enum pcitsm_ide_dir dir;
		enum pcitsm_ide_sub sub;

		pcitsm_idekm_keys_slot(i, &dir, &sub);
		/* The partner's direction is the other one: it sends what the device receives. */
		PCITSM_TRY(pcitsm_ide_key_prog_aes(p, k->stream_id, k->kset,
						   dir == PCITSM_IDE_RX ? PCITSM_IDE_TX : PCITSM_IDE_RX,
						   sub, k->key[dir][sub], k->ifv));
	}
	return PCITSM_OK;
}
