/* SPDX-License-Identifier: MIT */
/*
 * Secured-message version negotiation in KEY_EXCHANGE / KEY_EXCHANGE_RSP opaque data
 * (DSP0277 version negotiation in the opaque data; PCIe 6.x §6.31):
 *
 *   SPDM 1.2+ (OpaqueDataFmt1): TotalElements u8 | Reserved[3]
 *   SPDM 1.1 (DSP0277 format):  SpecID u32 "DMTF" | OpaqueVersion u8 = 1 | TotalElements u8 |
 *                               Reserved u16
 *   element: ID u8 (0 = DMTF) | VendorLen u8 | VendorID[VendorLen] | DataLen u16 | data |
 *            zero padding to 4 bytes
 *   DMTF secured-message data: SMDataVersion u8 = 1 | SMDataID u8 | ...
 *     1 SupportedVersion: VersionCount u8 | Versions u16[VersionCount]
 *     0 VersionSelection: SelectedVersion u16
 *     2 AEAD limit (DSP0277 1.3): AeadLimitExponent u8 (<= 64)
 *
 * Parsing is strict: reserved and padding bytes zero, every element's framing inside the opaque
 * data, exactly TotalElements elements and nothing after them, exactly one element of the kind
 * wanted. Elements of other registries and other SMDataIDs are checked and skipped.
 */
#include <string.h>

#include "pcitsm/session.h"

#define OPAQUE_SPEC_ID 0x444d5446u /* "DMTF" as a little-endian u32 (DSP0277) */
#define OPAQUE_VERSION 1
#define REGISTRY_DMTF 0
#define SM_DATA_VERSION 1
#define SM_ID_SELECTION 0
#define SM_ID_SUPPORTED 1
#define SM_ID_AEAD_LIMIT 2
#define AEAD_LIMIT_MAX 64 /* DSP0277 sequence numbers and AEAD nonce */

const uint16_t pcitsm_sm_versions[] = { PCITSM_SM_V12, PCITSM_SM_V11 };
const size_t pcitsm_sm_nr_versions = PCITSM_ARRAY_SIZE(pcitsm_sm_versions);

/* Only major.minor take part in matching (docs/sessions.md). */
static bool same_version(uint16_t a, uint16_t b)
{
	return (a >> 8) == (b >> 8);
}

static pcitsm_err check_spdm_version(uint8_t v)
{
	return v >= 0x11 && v <= 0x13 ? PCITSM_OK : PCITSM_E_INVAL;
}

/* The general header for one element. */
static void write_header(struct pcitsm_wr *w, uint8_t spdm_version)
{
	if (spdm_version >= 0x12) {
		pcitsm_wr_u8(w, 1); /* TotalElements */
		pcitsm_wr_zero(w, 3);
	} else {
		pcitsm_wr_le32(w, OPAQUE_SPEC_ID);
		pcitsm_wr_u8(w, OPAQUE_VERSION);
		pcitsm_wr_u8(w, 1); /* TotalElements */
		pcitsm_wr_zero(w, 2);
	}
}

/* One DMTF element around data; padded to 4 bytes. */
static void write_element(struct pcitsm_wr *w, const uint8_t *data, size_t len)
{
	pcitsm_wr_u8(w, REGISTRY_DMTF);
	pcitsm_wr_u8(w, 0); /* VendorLen */
	pcitsm_wr_le16(w, (uint16_t)len);
	pcitsm_wr_bytes(w, data, len);
	pcitsm_wr_zero(w, (4 - (4 + len) % 4) % 4);
}

pcitsm_err pcitsm_sm_opaque_supported_encode(uint8_t spdm_version, const uint16_t *versions,
					     size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t data[3 + 2 * PCITSM_SM_MAX_VERSIONS];
	struct pcitsm_wr w;

	PCITSM_TRY(check_spdm_version(spdm_version));
	if (!versions || !n || n > PCITSM_SM_MAX_VERSIONS || !out || !out_len)
		return PCITSM_E_INVAL;
	data[0] = SM_DATA_VERSION;
	data[1] = SM_ID_SUPPORTED;
	data[2] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		pcitsm_put_le16(data + 3 + 2 * i, versions[i]);
	pcitsm_wr_init(&w, out, cap);
	write_header(&w, spdm_version);
	write_element(&w, data, 3 + 2 * n);
	*out_len = pcitsm_wr_len(&w);
	return pcitsm_wr_err(&w);
}

pcitsm_err pcitsm_sm_opaque_selection_encode(uint8_t spdm_version, uint16_t version, uint8_t *out,
					     size_t cap, size_t *out_len)
{
	uint8_t data[4] = { SM_DATA_VERSION, SM_ID_SELECTION };
	struct pcitsm_wr w;

	PCITSM_TRY(check_spdm_version(spdm_version));
	if (!out || !out_len)
		return PCITSM_E_INVAL;
	pcitsm_put_le16(data + 2, version);
	pcitsm_wr_init(&w, out, cap);
	write_header(&w, spdm_version);
	write_element(&w, data, sizeof(data));
	*out_len = pcitsm_wr_len(&w);
	return pcitsm_wr_err(&w);
}

/* The general header: TotalElements. */
static unsigned read_header(struct pcitsm_rd *r, uint8_t spdm_version)
{
	unsigned total;

	if (spdm_version >= 0x12) {
		total = pcitsm_rd_u8(r);
		pcitsm_rd_zero(r, 3);
		return total;
	}
	pcitsm_rd_check(r, pcitsm_rd_le32(r) == OPAQUE_SPEC_ID, PCITSM_E_FIELD);
	pcitsm_rd_check(r, pcitsm_rd_u8(r) == OPAQUE_VERSION, PCITSM_E_FIELD);
	total = pcitsm_rd_u8(r);
	pcitsm_rd_zero(r, 2);
	return total;
}

/* A DMTF secured-message element other than the one wanted: well formed, then skipped. */
static void check_other_sm(struct pcitsm_rd *d, uint8_t sm_id)
{
	if (sm_id == SM_ID_AEAD_LIMIT)
		pcitsm_rd_check(d, pcitsm_rd_u8(d) <= AEAD_LIMIT_MAX, PCITSM_E_FIELD);
	else
		pcitsm_rd_skip(d, pcitsm_rd_left(d));
}

/* Walk the TotalElements elements (fewer present: E_SHORT; bytes after them: E_LONG); *found
 * receives the data (after SMDataVersion and SMDataID) of the one DMTF secured-message element with
 * SMDataID want (none or two: E_FIELD). */
static pcitsm_err find_element(uint8_t spdm_version, const uint8_t *p, size_t len, uint8_t want,
			       struct pcitsm_rd *found)
{
	struct pcitsm_rd r, d;
	unsigned total;
	bool have = false;

	pcitsm_rd_init(&r, p, len);
	pcitsm_rd_init(found, NULL, 0);
	total = read_header(&r, spdm_version);
	for (unsigned i = 0; i < total && !pcitsm_rd_err(&r); i++) {
		size_t start = pcitsm_rd_pos(&r);
		uint8_t registry = pcitsm_rd_u8(&r), vlen = pcitsm_rd_u8(&r), sm_id;

		pcitsm_rd_check(&r, registry != REGISTRY_DMTF || vlen == 0, PCITSM_E_FIELD);
		pcitsm_rd_skip(&r, vlen); /* VendorID of another registry */
		d = pcitsm_rd_sub(&r, pcitsm_rd_le16(&r));
		pcitsm_rd_zero(&r, (4 - (pcitsm_rd_pos(&r) - start) % 4) % 4);
		if (pcitsm_rd_err(&r) || registry != REGISTRY_DMTF)
			continue;
		pcitsm_rd_check(&d, pcitsm_rd_u8(&d) == SM_DATA_VERSION, PCITSM_E_FIELD);
		sm_id = pcitsm_rd_u8(&d);
		if (sm_id == want && !pcitsm_rd_err(&d)) {
			pcitsm_rd_check(&r, !have, PCITSM_E_FIELD); /* a second one */
			have = true;
			*found = d;
			continue;
		}
		check_other_sm(&d, sm_id);
		pcitsm_rd_fail(&r, pcitsm_rd_finish(&d));
	}
	PCITSM_TRY(pcitsm_rd_finish(&r));
	return have ? PCITSM_OK : PCITSM_E_FIELD;
}

pcitsm_err pcitsm_sm_opaque_supported_parse(uint8_t spdm_version, const uint8_t *p, size_t len,
					    uint16_t *versions, size_t max, size_t *n)
{
	struct pcitsm_rd d;
	unsigned count;

	PCITSM_TRY(check_spdm_version(spdm_version));
	if ((!p && len) || !versions || !n)
		return PCITSM_E_INVAL;
	*n = 0;
	PCITSM_TRY(find_element(spdm_version, p, len, SM_ID_SUPPORTED, &d));
	count = pcitsm_rd_u8(&d);
	pcitsm_rd_check(&d, count > 0 && count <= max, PCITSM_E_FIELD);
	for (unsigned i = 0; i < count && !pcitsm_rd_err(&d); i++)
		versions[i] = pcitsm_rd_le16(&d);
	PCITSM_TRY(pcitsm_rd_finish(&d));
	*n = count;
	return PCITSM_OK;
}

pcitsm_err pcitsm_sm_version_select(const uint16_t *peer, size_t n, uint16_t *selected)
{
	if ((!peer && n) || !selected)
		return PCITSM_E_INVAL;
	/* Ours are highest first: the first one the peer also lists. */
	for (size_t i = 0; i < pcitsm_sm_nr_versions; i++)
		for (size_t j = 0; j < n; j++)
			if (same_version(pcitsm_sm_versions[i], peer[j])) {
				*selected = pcitsm_sm_versions[i];
				return PCITSM_OK;
			}
	return PCITSM_E_VERSION;
}

pcitsm_err pcitsm_sm_opaque_selection_parse(uint8_t spdm_version, const uint8_t *p, size_t len,
					    const uint16_t *offered, size_t n, uint16_t *version)
{
	struct pcitsm_rd d;
	uint16_t v;

	PCITSM_TRY(check_spdm_version(spdm_version));
	if ((!p && len) || !offered || !version)
		return PCITSM_E_INVAL;
	PCITSM_TRY(find_element(spdm_version, p, len, SM_ID_SELECTION, &d));
	v = pcitsm_rd_le16(&d);
	PCITSM_TRY(pcitsm_rd_finish(&d));
	for (size_t i = 0; i < n; i++)
		if (same_version(v, offered[i])) {
			*version = v;
			return PCITSM_OK;
		}
	return PCITSM_E_VERSION;
}
