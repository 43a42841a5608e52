/* SPDX-License-Identifier: MIT */
/* Name tables for SPDM codes and ERROR codes; algorithm bit translations (DSP0274 1.3). */
#include "pcitsm/spdm.h"

const char *pcitsm_spdm_code_name(uint8_t code)
{
	switch (code) {
#define PCITSM_SPDM_CODE_NAME(name, val) \
	case val:                        \
		return #name;
		PCITSM_SPDM_CODES(PCITSM_SPDM_CODE_NAME)
#undef PCITSM_SPDM_CODE_NAME
	}
	return "UNKNOWN";
}

const char *pcitsm_spdm_error_name(uint8_t code)
{
	switch (code) {
#define PCITSM_SPDM_ERROR_NAME(name, val, str) \
	case val:                              \
		return str;
		PCITSM_SPDM_ERRORS(PCITSM_SPDM_ERROR_NAME)
#undef PCITSM_SPDM_ERROR_NAME
	}
	return "Reserved";
}

enum pcitsm_hash_alg pcitsm_spdm_hash_alg(uint32_t bit)
{
	switch (bit) {
	case PCITSM_SPDM_HASH_SHA256:
		return PCITSM_HASH_SHA256;
	case PCITSM_SPDM_HASH_SHA384:
		return PCITSM_HASH_SHA384;
	case PCITSM_SPDM_HASH_SHA512:
		return PCITSM_HASH_SHA512;
	default:
		return PCITSM_HASH_NONE;
	}
}

enum pcitsm_hash_alg pcitsm_spdm_meas_hash_alg(uint32_t bit)
{
	switch (bit) {
	case PCITSM_SPDM_MEAS_HASH_SHA256:
		return PCITSM_HASH_SHA256;
	case PCITSM_SPDM_MEAS_HASH_SHA384:
		return PCITSM_HASH_SHA384;
	case PCITSM_SPDM_MEAS_HASH_SHA512:
		return PCITSM_HASH_SHA512;
	default:
		return PCITSM_HASH_NONE;
	}
}

enum pcitsm_sig_alg pcitsm_spdm_sig_alg(uint32_t bit)
{
	switch (bit) {
	case PCITSM_SPDM_ASYM_ECDSA_P256:
		return PCITSM_SIG_ECDSA_P256;
	case PCITSM_SPDM_ASYM_ECDSA_P384:
		return PCITSM_SIG_ECDSA_P384;
	case PCITSM_SPDM_ASYM_RSASSA_2048:
		return PCITSM_SIG_RSASSA_2048;
	case PCITSM_SPDM_ASYM_RSAPSS_2048:
		return PCITSM_SIG_RSAPSS_2048;
	case PCITSM_SPDM_ASYM_RSASSA_3072:
		return PCITSM_SIG_RSASSA_3072;
	case PCITSM_SPDM_ASYM_RSAPSS_3072:
		return PCITSM_SIG_RSAPSS_3072;
	default:
		return PCITSM_SIG_NONE;
	}
}

enum pcitsm_dhe_alg pcitsm_spdm_dhe_alg(uint16_t bit)
{
	switch (bit) {
	case PCITSM_SPDM_DHE_SECP256R1:
		return PCITSM_DHE_SECP256R1;
	case PCITSM_SPDM_DHE_SECP384R1:
		return PCITSM_DHE_SECP384R1;
	default:
		return PCITSM_DHE_NONE;
	}
}

enum pcitsm_aead_alg pcitsm_spdm_aead_alg(uint16_t bit)
{
	switch (bit) {
	case PCITSM_SPDM_AEAD_AES_128_GCM:
		return PCITSM_AEAD_AES_128_GCM;
	case PCITSM_SPDM_AEAD_AES_256_GCM:
		return PCITSM_AEAD_AES_256_GCM;
	default:
		return PCITSM_AEAD_NONE;
	}
}
