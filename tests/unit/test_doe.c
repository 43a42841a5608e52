/* SPDX-License-Identifier: MIT */
/* doe: data objects, the device side (dispatch, discovery), the loopback transport and its tap. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "pcitsm/doe.h"
#include "pcitsm/transport.h"

static void obj_parse_ok(void **state)
{
	static const uint8_t obj[] = { 0x01, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
				       0x10, 0x84, 0x00, 0x00 };
	struct pcitsm_doe_hdr hdr;
	const uint8_t *pl;
	size_t plen;

	assert_ok(pcitsm_doe_obj_parse(obj, sizeof(obj), &hdr, &pl, &plen));
	assert_int_equal(hdr.vid, 1);
	assert_int_equal(hdr.type, 1);
	assert_int_equal(hdr.len_dw, 3);
	assert_int_equal(plen, 4);
	assert_ptr_equal(pl, obj + 8);
	/* The header alone is short of what Length says. */
	assert_err(pcitsm_doe_obj_parse(obj, 8, &hdr, &pl, &plen), PCITSM_E_SHORT);
}

static void obj_parse_bad(void **state)
{
	uint8_t obj[16] = { 0x01, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00 };
	struct pcitsm_doe_hdr hdr;
	const uint8_t *pl;
	size_t plen;

	/* Short: under a header, and fewer bytes than Length says. */
	assert_err(pcitsm_doe_obj_parse(obj, 7, &hdr, &pl, &plen), PCITSM_E_SHORT);
	assert_err(pcitsm_doe_obj_parse(obj, 8, &hdr, &pl, &plen), PCITSM_E_SHORT);
	assert_err(pcitsm_doe_obj_parse(obj, 11, &hdr, &pl, &plen), PCITSM_E_SHORT);
	/* Long: more bytes than Length, including a non-DW tail. */
	assert_err(pcitsm_doe_obj_parse(obj, 13, &hdr, &pl, &plen), PCITSM_E_LONG);
	assert_err(pcitsm_doe_obj_parse(obj, 16, &hdr, &pl, &plen), PCITSM_E_LONG);
	assert_null(pl);
	assert_int_equal(plen, 0);
	/* Length 1 is invalid. */
	obj[4] = 1;
	assert_err(pcitsm_doe_obj_parse(obj, 4, &hdr, &pl, &plen), PCITSM_E_SHORT);
	assert_err(pcitsm_doe_obj_parse(obj, 8, &hdr, &pl, &plen), PCITSM_E_FIELD);
	/* Length 2: header only, fine. */
	obj[4] = 2;
	assert_ok(pcitsm_doe_obj_parse(obj, 8, &hdr, &pl, &plen));
	assert_int_equal(plen, 0);
	/* Length 0 means 2^18 DW: 12 bytes is far too short. */
	obj[4] = 0;
	assert_err(pcitsm_doe_obj_parse(obj, 12, &hdr, &pl, &plen), PCITSM_E_SHORT);
	obj[4] = 3;
	/* Reserved: DW0 31:24, DW1 31:30, DW1 29:18 for types without a Connection ID. */
	obj[3] = 0x80;
	assert_err(pcitsm_doe_obj_parse(obj, 12, &hdr, &pl, &plen), PCITSM_E_RESERVED);
	obj[3] = 0;
	obj[7] = 0x40;
	assert_err(pcitsm_doe_obj_parse(obj, 12, &hdr, &pl, &plen), PCITSM_E_RESERVED);
	obj[7] = 0;
	obj[6] = 0x04; /* bit 18 */
	assert_err(pcitsm_doe_obj_parse(obj, 12, &hdr, &pl, &plen), PCITSM_E_RESERVED);
	/* ... which is the Connection ID for type 3. */
	obj[2] = PCITSM_DOE_TYPE_CMA_CID;
	obj[7] = 0x01; /* bit 24 */
	assert_ok(pcitsm_doe_obj_parse(obj, 12, &hdr, &pl, &plen));
	assert_int_equal(hdr.conn_id, 0x41);
	assert_err(pcitsm_doe_obj_parse(NULL, 0, &hdr, &pl, &plen), PCITSM_E_SHORT);
}

static void obj_max_length(void **state)
{
	size_t cap = PCITSM_DOE_MAX_BYTES;
	uint8_t *buf = calloc(1, cap + 4);
	struct pcitsm_doe_hdr hdr;
	const uint8_t *pl;
	size_t plen;
	struct pcitsm_wr w;

	assert_non_null(buf);
	/* A 2^18-DW object is encoded with Length 0 and parses back. */
	pcitsm_wr_init(&w, buf, cap);
	assert_ok(pcitsm_doe_obj_build(&w, 1, 1, buf + 8, cap - 8));
	assert_int_equal(pcitsm_wr_len(&w), cap);
	assert_int_equal(pcitsm_get_le32(buf + 4), 0);
	assert_ok(pcitsm_doe_obj_parse(buf, cap, &hdr, &pl, &plen));
	assert_int_equal(hdr.len_dw, PCITSM_DOE_MAX_DW);
	assert_int_equal(plen, cap - 8);
	assert_err(pcitsm_doe_obj_parse(buf, cap + 4, &hdr, &pl, &plen), PCITSM_E_LONG);
	/* One byte more does not fit in a DOE object. */
	pcitsm_wr_init(&w, buf, cap + 4);
	assert_err(pcitsm_doe_obj_build(&w, 1, 1, buf, cap - 7), PCITSM_E_INVAL);
	free(buf);
}

static void obj_build(void **state)
{
	static const uint8_t pl[5] = { 1, 2, 3, 4, 5 };
	static const uint8_t want[] = { 0x01, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00,
					1, 2, 3, 4, 5, 0, 0, 0 };
	uint8_t buf[32];
	struct pcitsm_wr w;

	memset(buf, 0xee, sizeof(buf));
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_ok(pcitsm_doe_obj_build(&w, 1, 2, pl, sizeof(pl)));
	assert_int_equal(pcitsm_wr_len(&w), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	pcitsm_wr_init(&w, buf, 15);
	assert_err(pcitsm_doe_obj_build(&w, 1, 2, pl, sizeof(pl)), PCITSM_E_NOSPC);
	pcitsm_wr_init(&w, buf, sizeof(buf));
	assert_err(pcitsm_doe_obj_build(&w, 1, 2, NULL, 4), PCITSM_E_INVAL);
	assert_ok(pcitsm_doe_obj_build(&w, 1, 2, NULL, 0));
	assert_int_equal(pcitsm_get_le32(buf + 4), 2);
}

/* An echo protocol: returns the request payload reversed, or nothing when it starts with 0xff. */
static pcitsm_err echo(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	if (req_len && req[0] == 0xff)
		return PCITSM_E_NORESPONSE;
	if (req_len > rsp_cap)
		return PCITSM_E_NOSPC;
	for (size_t i = 0; i < req_len; i++)
		rsp[i] = req[req_len - 1 - i];
	*rsp_len = req_len;
	return PCITSM_OK;
}

static struct pcitsm_doe_handler cma = { .vid = 1, .type = PCITSM_DOE_TYPE_CMA, .handle = echo };
static struct pcitsm_doe_handler sec = { .vid = 1, .type = PCITSM_DOE_TYPE_SECURED_CMA,
					 .handle = echo };

static size_t disc_req(uint8_t *obj, uint8_t index, uint8_t version)
{
	struct pcitsm_wr w;
	uint8_t dw[4] = { index, version, 0, 0 };

	pcitsm_wr_init(&w, obj, 12);
	assert_ok(pcitsm_doe_obj_build(&w, 1, 0, dw, 4));
	return pcitsm_wr_len(&w);
}

static void dev_discovery(void **state)
{
	struct pcitsm_doe_dev d;
	struct pcitsm_doe_handler cid = { .vid = 1, .type = PCITSM_DOE_TYPE_CMA_CID,
					  .handle = echo };
	uint8_t req[16], rsp[64];
	size_t n;

	pcitsm_doe_dev_init(&d, 1);
	assert_ok(pcitsm_doe_dev_register(&d, &cma));
	assert_ok(pcitsm_doe_dev_register(&d, &sec));
	/* index 0: Discovery itself, next 1 */
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 0, 0), rsp, sizeof(rsp), &n));
	assert_int_equal(n, 12);
	assert_int_equal(pcitsm_get_le32(rsp), 0x00000001u);
	assert_int_equal(pcitsm_get_le32(rsp + 4), 3);
	assert_int_equal(pcitsm_get_le32(rsp + 8), 0x01000001u);
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 1, 0), rsp, sizeof(rsp), &n));
	assert_int_equal(pcitsm_get_le32(rsp + 8), 0x02010001u);
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 2, 0), rsp, sizeof(rsp), &n));
	assert_int_equal(pcitsm_get_le32(rsp + 8), 0x00020001u);
	/* Bad index: vendor 0xFFFF. */
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 3, 0), rsp, sizeof(rsp), &n));
	assert_int_equal(pcitsm_get_le32(rsp + 8), 0x0000ffffu);

	/* Version 2: DW3 only for types 3-5, and only when asked with version 2. */
	pcitsm_doe_dev_init(&d, 2);
	d.max_obj_dw = 1024;
	assert_ok(pcitsm_doe_dev_register(&d, &cma));
	assert_ok(pcitsm_doe_dev_register(&d, &cid));
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 0, 2), rsp, sizeof(rsp), &n));
	assert_int_equal(n, 12);
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 2, 2), rsp, sizeof(rsp), &n));
	assert_int_equal(n, 16);
	assert_int_equal(pcitsm_get_le32(rsp + 4), 4);
	assert_int_equal(pcitsm_get_le32(rsp + 8), 0x00030001u);
	assert_int_equal(pcitsm_get_le32(rsp + 12), 1024);
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, disc_req(req, 2, 0), rsp, sizeof(rsp), &n));
	assert_int_equal(n, 12);
}

static void dev_discard(void **state)
{
	struct pcitsm_doe_dev d;
	uint8_t req[32], rsp[64];
	size_t n = 99, len;

	pcitsm_doe_dev_init(&d, 1);
	assert_ok(pcitsm_doe_dev_register(&d, &cma));
	assert_err(pcitsm_doe_dev_register(&d, &cma), PCITSM_E_EXISTS);
	/* Discovery is built in and cannot be replaced. */
	assert_err(pcitsm_doe_dev_register(&d, &(struct pcitsm_doe_handler){ .vid = 1, .type = 0,
									     .handle = echo }),
		   PCITSM_E_INVAL);

	len = disc_req(req, 0, 0);
	/* Wrong Length, short, trailing bytes, reserved bits: silent discard. */
	assert_err(pcitsm_doe_dev_dispatch(&d, req, len - 4, rsp, sizeof(rsp), &n),
		   PCITSM_E_NORESPONSE);
	assert_int_equal(n, 0);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, len + 4, rsp, sizeof(rsp), &n),
		   PCITSM_E_NORESPONSE);
	req[3] = 1;
	assert_err(pcitsm_doe_dev_dispatch(&d, req, len, rsp, sizeof(rsp), &n),
		   PCITSM_E_NORESPONSE);
	req[3] = 0;
	/* Discovery request without its DW: discarded; longer: prefix used. */
	pcitsm_put_le32(req + 4, 2);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, 8, rsp, sizeof(rsp), &n), PCITSM_E_NORESPONSE);
	pcitsm_put_le32(req + 4, 4);
	memset(req + 12, 0, 4);
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, 16, rsp, sizeof(rsp), &n));
	assert_int_equal(n, 12);
	/* Unknown vendor / type: discarded. */
	pcitsm_put_le32(req, 0x00070001u);
	pcitsm_put_le32(req + 4, 3);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, 12, rsp, sizeof(rsp), &n), PCITSM_E_NORESPONSE);
	pcitsm_put_le32(req, 0x00011234u);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, 12, rsp, sizeof(rsp), &n), PCITSM_E_NORESPONSE);
	/* The handler chose silence. */
	pcitsm_put_le32(req, 0x00010001u);
	pcitsm_put_le32(req + 8, 0xff);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, 12, rsp, sizeof(rsp), &n), PCITSM_E_NORESPONSE);
	/* The response does not fit. */
	pcitsm_put_le32(req + 8, 0x01);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, 12, rsp, 11, &n), PCITSM_E_NOSPC);
	assert_err(pcitsm_doe_dev_dispatch(&d, req, 12, rsp, 4, &n), PCITSM_E_NOSPC);
	assert_ok(pcitsm_doe_dev_dispatch(&d, req, 12, rsp, 12, &n));
}

static void dev_full(void **state)
{
	struct pcitsm_doe_dev d;
	struct pcitsm_doe_handler h[PCITSM_DOE_MAX_PROTOCOLS + 1];

	pcitsm_doe_dev_init(&d, 1);
	for (unsigned i = 0; i <= PCITSM_DOE_MAX_PROTOCOLS; i++)
		h[i] = (struct pcitsm_doe_handler){ .vid = 0x1000, .type = (uint8_t)i,
						    .handle = echo };
	for (unsigned i = 0; i < PCITSM_DOE_MAX_PROTOCOLS; i++)
		assert_ok(pcitsm_doe_dev_register(&d, &h[i]));
	assert_err(pcitsm_doe_dev_register(&d, &h[PCITSM_DOE_MAX_PROTOCOLS]), PCITSM_E_EXHAUSTED);
	assert_err(pcitsm_doe_dev_register(&d, &(struct pcitsm_doe_handler){ .vid = 2 }),
		   PCITSM_E_INVAL);
}

struct tap_log {
	struct pcitsm_xport_tap tap;
	unsigned n;
	bool dir[4];
	uint8_t obj[4][32];
	size_t len[4];
};

static void tap_object(struct pcitsm_xport_tap *tap, bool from_device, const uint8_t *obj,
		       size_t len)
{
	struct tap_log *t = pcitsm_container_of(tap, struct tap_log, tap);

	if (t->n < 4 && len <= 32) {
		t->dir[t->n] = from_device;
		memcpy(t->obj[t->n], obj, len);
		t->len[t->n] = len;
	}
	t->n++;
}

static void loopback(void **state)
{
	static const uint8_t req[] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t want_rsp_obj[] = { 1, 0, 1, 0, 4, 0, 0, 0, 0, 0, 6, 5, 4, 3, 2, 1 };
	struct tap_log t = { .tap = { .object = tap_object } };
	struct pcitsm_xport_loop l;
	struct pcitsm_doe_dev d;
	uint8_t rsp[16];
	size_t n;

	pcitsm_doe_dev_init(&d, 1);
	assert_ok(pcitsm_doe_dev_register(&d, &cma));
	pcitsm_xport_loop_init(&l, &d);
	l.x.tap = &t.tap;
	assert_ok(pcitsm_xport_exchange(&l.x, 1, 1, req, sizeof(req), rsp, sizeof(rsp), &n));
	/* The device sees the padded payload (and reverses it); the response keeps its padding. */
	assert_int_equal(n, 8);
	assert_memory_equal(rsp, want_rsp_obj + 8, 8);
	/* The tap saw both whole objects. */
	assert_int_equal(t.n, 2);
	assert_false(t.dir[0]);
	assert_int_equal(t.len[0], 16);
	assert_int_equal(pcitsm_get_le32(t.obj[0] + 4), 4);
	assert_memory_equal(t.obj[0] + 8, req, sizeof(req));
	assert_true(t.dir[1]);
	assert_int_equal(t.len[1], sizeof(want_rsp_obj));
	assert_memory_equal(t.obj[1], want_rsp_obj, sizeof(want_rsp_obj));

	/* Too small a buffer: E_TRUNCATED, never a silent cut; the tap sees no response. */
	t.n = 0;
	assert_err(pcitsm_xport_exchange(&l.x, 1, 1, req, sizeof(req), rsp, 5, &n),
		   PCITSM_E_TRUNCATED);
	assert_int_equal(n, 5);
	assert_int_equal(t.n, 1);
	/* Unknown protocol: no response. */
	assert_err(pcitsm_xport_exchange(&l.x, 1, 7, req, sizeof(req), rsp, sizeof(rsp), &n),
		   PCITSM_E_NORESPONSE);
	/* Misuse. */
	assert_err(pcitsm_xport_exchange(&l.x, 1, 1, NULL, 4, rsp, sizeof(rsp), &n),
		   PCITSM_E_INVAL);
	assert_err(pcitsm_xport_exchange(NULL, 1, 1, req, 4, rsp, sizeof(rsp), &n), PCITSM_E_INVAL);
	pcitsm_xport_close(&l.x);
}

int main(void)
{
	return test_run(obj_parse_ok, obj_parse_bad, obj_max_length, obj_build, dev_discovery,
		        dev_discard, dev_full, loopback);
}
