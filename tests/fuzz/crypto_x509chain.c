/* SPDX-License-Identifier: MIT */
/*
 * Fuzz: arbitrary bytes as the certificate chain of an SPDM CERTIFICATE response: split, subjects,
 * then validation against one fixed anchor (the committed P-384 identity's root), built once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitsm/crypto.h"

/* tests/data/identity/p384/root.pem, found from this file's own path. */
static struct pcitsm_trust *anchor(void)
{
	static struct pcitsm_trust *t;
	const char *slash = strrchr(__FILE__, '/');
	char path[4096];

	if (t)
		return t;
	snprintf(path, sizeof(path), "%.*s/../data/identity/p384/root.pem",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	if (pcitsm_trust_load(&t, path))
		abort();
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off[PCITSM_X509_MAX_CERTS], len[PCITSM_X509_MAX_CERTS], n;
	EVP_PKEY *pub;
	char why[256], subj[256];
	pcitsm_err err;

	if (!pcitsm_x509_chain_split(data, size, off, len, PCITSM_X509_MAX_CERTS, &n)) {
		for (size_t i = 0; i < n; i++) {
			if (off[i] + len[i] > size)
				abort();
			if (pcitsm_x509_subject(data + off[i], len[i], subj, sizeof(subj)) == PCITSM_OK &&
			    strlen(subj) >= sizeof(subj))
				abort();
		}
	}
	err = pcitsm_x509_chain_verify(anchor(), data, size, &pub, why, sizeof(why));
	/* Success yields the leaf key; a rejection always says why. */
	if (!err != !!pub)
		abort();
	if ((err == PCITSM_E_FIELD || err == PCITSM_E_CERT) && !why[0])
		abort();
	EVP_PKEY_free(pub);
	return 0;
}
