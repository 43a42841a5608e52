/* SPDX-License-Identifier: MIT */
/* Shared between the lib/crypto sources; not part of the API. */
#ifndef PCITSM_CRYPTO_INTERNAL_H
#define PCITSM_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "pcitsm/crypto.h"

/* The libcrypto digest of alg; NULL for NONE or an unknown value. The one place that maps a hash
 * algorithm to libcrypto (hashes, signatures). */
const EVP_MD *pcitsm_hash_md(enum pcitsm_hash_alg alg);


#endif
