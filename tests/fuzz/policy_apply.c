/* SPDX-License-Identifier: MIT */
/* Fuzz the link policy file of pcitsm apply (include/pcitsm/policy_apply.h). Byte 0 even: the rest
 * is a file, parsed and, when accepted, matched against fixed IDs and its requirements checked
 * against a fixed connection; odd: the rest is an SPDM certificate chain whose RootHash is read. */
#include <stdlib.h>
#include <string.h>

#include "pcitsm/policy_apply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pcitsm_apply file;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pcitsm_apply_ids id = { { 0, 1, 0, 0 }, 0x7063, 0x0002, 0x120000 };
	struct pcitsm_apply_seen seen = { 0x13, PCITSM_SIG_ECDSA_P384, PCITSM_HASH_SHA384,
					  PCITSM_DHE_SECP384R1, PCITSM_AEAD_AES_256_GCM };
	char why[200];
	int e;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (pcitsm_apply_chain_root_hash(data + 1, size - 1, PCITSM_HASH_SHA384, &seen) ==
			    PCITSM_OK &&
		    seen.root_hash_len != 48)
			abort();
		return 0;
	}
	if (pcitsm_apply_parse((const char *)data + 1, size - 1, &file, why, sizeof(why)) !=
	    PCITSM_OK) {
		if (file.nr)
			abort(); /* a refused file leaves nothing behind */
		return 0;
	}
	e = pcitsm_apply_find(&file, &id);
	if (e >= (int)file.nr || (e >= 0 && !pcitsm_apply_matches(&file.e[e].match, &id)))
		abort();
	for (unsigned i = 0; i < file.nr; i++) {
		pcitsm_err r = pcitsm_apply_require_check(&file.e[i].req, &seen, why, sizeof(why));

		if (r != PCITSM_OK && r != PCITSM_E_MISMATCH)
			abort();
	}
	return 0;
}
