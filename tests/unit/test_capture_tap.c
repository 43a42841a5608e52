/* SPDX-License-Identifier: MIT */
/* capture: link captures (docs/tap.md). The tap on an emulated link writes every TLP, both
 * directions, in order, behind its record header, and leaves the wire as it found it; the record
 * decoder that `pcitsm tap` uses reads plaintext and IDE TLPs back field by field, and refuses
 * short, long and malformed records (the file is untrusted); the reader refuses what is no pcap
 * file or ends inside a packet. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcitsm/capture.h"
#include "pcitsm/emu.h"
#include "testutil.h"

static void tmp_path(char *out, size_t n, const char *what)
{
	snprintf(out, n, "%s/test_capture_tap_%s_%d.pcap", PCITSM_BINARY_DIR, what, (int)getpid());
}

/* The next record of in, parsed; fails the test at the end of the file. */
static void next_rec(struct pcitsm_pcap_in *in, struct pcitsm_tap_rec *r)
{
	const uint8_t *pkt;
	size_t caplen, len;
	uint64_t ts;

	assert_ok(pcitsm_pcap_in_next(in, &pkt, &caplen, &len, &ts));
	assert_int_equal(caplen, len);
	assert_true(ts > 0);
	assert_ok(pcitsm_tap_rec_parse(pkt, caplen, r));
	assert_ok(r->tlp_err);
}

/* A plaintext link (no stream): a write and a read from the root port, the read's completion
 * from the endpoint, as they crossed. */
static void tap_clear_link(void **state)
{
	struct pcitsm_env_test env;
	struct pcitsm_emu_platform plat;
	struct pcitsm_emu_config cfg;
	struct pcitsm_link_capture cap;
	struct pcitsm_pcap_in in;
	struct pcitsm_tap_rec r;
	struct pcitsm_emu_link *l;
	uint8_t data[64], back[64];
	const uint8_t *pkt;
	size_t caplen, len;
	uint64_t ts;
	char path[512], name[13];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	pcitsm_env_test_init(&env, 3);
	pcitsm_emu_config_default(&cfg);
	assert_ok(pcitsm_emu_platform_init(&plat, &cfg, &env.env));
	l = &plat.links[0];
	assert_non_null(l->wire);
	tmp_path(path, sizeof(path), "clear");
	assert_ok(pcitsm_link_capture_open(&cap, path, &l->rp->bdf));
	pcitsm_link_capture_attach(&cap, l->wire);
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_RP, PCITSM_EMU_MEM_BASE + 0x100, data,
				       sizeof(data)));
	assert_ok(pcitsm_emu_mem_read(l, PCITSM_IDE_SIDE_RP, PCITSM_EMU_MEM_BASE + 0x100, back,
				      sizeof(back)));
	assert_memory_equal(data, back, sizeof(data)); /* the tap passes everything unchanged */
	assert_int_equal(cap.pcap.packets, 3);
	/* A frame longer than any TLP (a tap before it that rewrote the length) is not copied. */
	{
		struct pcitsm_ide_frame *big = calloc(1, sizeof(*big));

		assert_non_null(big);
		big->len = PCITSM_IDE_TLP_MAX + 1;
		assert_int_equal(l->wire->tap(l->wire, PCITSM_IDE_SIDE_RP, big), PCITSM_TAP_PASS);
		big->len = SIZE_MAX;
		assert_int_equal(l->wire->tap(l->wire, PCITSM_IDE_SIDE_EP, big), PCITSM_TAP_PASS);
		assert_int_equal(cap.pcap.packets, 3);
		free(big);
	}
	assert_ok(pcitsm_link_capture_close(&cap));
	assert_null(l->wire->tap); /* detached */
	assert_null(l->wire->tap_ctx);
	/* Traffic after close is not recorded (and does not crash). */
	assert_ok(pcitsm_emu_mem_write(l, PCITSM_IDE_SIDE_RP, PCITSM_EMU_MEM_BASE, data, 4));
	pcitsm_emu_platform_free(&plat);

	assert_ok(pcitsm_pcap_in_open(&in, path, NULL, 0));
	assert_int_equal(in.linktype, PCITSM_PCAP_LINKTYPE_TLP);
	next_rec(&in, &r);
	pcitsm_bdf_format(&r.rp, name);
	assert_string_equal(name, "0000:00:01.0");
	assert_int_equal(r.dir, PCITSM_TAP_DOWN);
	assert_int_equal(r.seq, 0);
	assert_false(r.ide);
	assert_int_equal(r.hdr.kind, PCITSM_TLP_MWR);
	assert_int_equal(r.hdr.addr, PCITSM_EMU_MEM_BASE + 0x100);
	assert_int_equal(r.payload_len, sizeof(data));
	assert_memory_equal(r.payload, data, sizeof(data));
	next_rec(&in, &r);
	assert_int_equal(r.dir, PCITSM_TAP_DOWN);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.hdr.kind, PCITSM_TLP_MRD);
	assert_int_equal(r.hdr.len, sizeof(data));
	assert_int_equal(r.payload_len, 0);
	next_rec(&in, &r);
	assert_int_equal(r.dir, PCITSM_TAP_UP);
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.hdr.kind, PCITSM_TLP_CPLD);
	assert_memory_equal(r.payload, data, sizeof(data));
	assert_err(pcitsm_pcap_in_next(&in, &pkt, &caplen, &len, &ts), PCITSM_E_NOTFOUND);
	pcitsm_pcap_in_close(&in);
	unlink(path);
}

/* A record holding an IDE TLP made by hand: prefix, 3-DW MWr header, 16 bytes of "ciphertext",
 * the PCRC (P) and the MAC. Returns the record's length. */
static size_t ide_record(uint8_t *rec, size_t cap, bool pcrc)
{
	struct pcitsm_ide_prefix x = { .m = true, .k = true, .t = true, .p = pcrc, .sub = 0,
				       .stream_id = 5, .pr_sent = 0 };
	struct pcitsm_bdf rp = { 0, 0, 2, 0 };
	struct pcitsm_tlp t = { 0 };
	uint8_t payload[16];
	size_t n, o = PCITSM_TAP_REC_HDR;

	memset(payload, 0xc5, sizeof(payload));
	t.kind = PCITSM_TLP_MWR;
	t.req_id = 0x0010;
	t.addr = 0x80001000;
	t.first_be = t.last_be = 0xf;
	t.data = payload;
	t.len = sizeof(payload);
	pcitsm_tap_rec_hdr_encode(PCITSM_TAP_UP, &rp, 77, rec);
	pcitsm_ide_prefix_encode(&x, rec + o);
	o += PCITSM_TLP_PREFIX_LEN;
	assert_ok(pcitsm_tlp_encode(&t, rec + o, cap - o, &n));
	o += n;
	if (pcrc) {
		memset(rec + o, 0x99, PCITSM_IDE_PCRC_LEN);
		o += PCITSM_IDE_PCRC_LEN;
	}
	memset(rec + o, 0x3c, PCITSM_IDE_MAC_LEN);
	return o + PCITSM_IDE_MAC_LEN;
}

static void tap_ide_record(void **state)
{
	uint8_t rec[256];
	struct pcitsm_tap_rec r;
	size_t n;

	(void)state;
	for (int pcrc = 0; pcrc < 2; pcrc++) {
		n = ide_record(rec, sizeof(rec), pcrc);
		assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
		assert_ok(r.tlp_err);
		assert_true(r.ide);
		assert_int_equal(r.dir, PCITSM_TAP_UP);
		assert_int_equal(r.seq, 77);
		assert_int_equal(r.rp.dev, 2);
		assert_int_equal(r.v.pfx.stream_id, 5);
		assert_true(r.v.pfx.k && r.v.pfx.t && r.v.pfx.m);
		assert_int_equal(r.v.pfx.p, pcrc);
		assert_int_equal(r.hdr.kind, PCITSM_TLP_MWR);
		assert_int_equal(r.hdr.req_id, 0x0010);
		assert_int_equal(r.hdr.addr, 0x80001000);
		/* The PCRC is not payload. */
		assert_int_equal(r.payload_len, 16);
		assert_int_equal(r.payload[0], 0xc5);
		assert_int_equal(r.payload[15], 0xc5);
		assert_non_null(r.v.mac);
		assert_true(r.v.mac == rec + n - PCITSM_IDE_MAC_LEN);
	}
}

/* The record header: short, long, version, direction, reserved bytes. */
static void tap_rec_bad_header(void **state)
{
	uint8_t rec[PCITSM_TAP_REC_MAX + 1];
	struct pcitsm_tap_rec r;
	size_t n;

	(void)state;
	memset(rec, 0, sizeof(rec));
	n = ide_record(rec, sizeof(rec), false);
	assert_err(pcitsm_tap_rec_parse(rec, 0, &r), PCITSM_E_SHORT);
	assert_err(pcitsm_tap_rec_parse(rec, PCITSM_TAP_REC_HDR, &r), PCITSM_E_SHORT);
	assert_err(pcitsm_tap_rec_parse(rec, sizeof(rec), &r), PCITSM_E_LONG);
	assert_err(pcitsm_tap_rec_parse(NULL, 20, &r), PCITSM_E_INVAL);
	assert_err(pcitsm_tap_rec_parse(rec, n, NULL), PCITSM_E_INVAL);
	rec[0] = 2;
	assert_err(pcitsm_tap_rec_parse(rec, n, &r), PCITSM_E_VERSION);
	rec[0] = 0;
	assert_err(pcitsm_tap_rec_parse(rec, n, &r), PCITSM_E_VERSION);
	rec[0] = PCITSM_TAP_REC_VERSION;
	rec[1] = 2;
	assert_err(pcitsm_tap_rec_parse(rec, n, &r), PCITSM_E_FIELD);
	rec[1] = 0xff;
	assert_err(pcitsm_tap_rec_parse(rec, n, &r), PCITSM_E_FIELD);
	rec[1] = PCITSM_TAP_UP;
	rec[3] = 1;
	assert_err(pcitsm_tap_rec_parse(rec, n, &r), PCITSM_E_RESERVED);
	rec[3] = 0;
	rec[2] = 0x80;
	assert_err(pcitsm_tap_rec_parse(rec, n, &r), PCITSM_E_RESERVED);
	rec[2] = 0;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	/* The largest record is accepted. */
	memset(rec + PCITSM_TAP_REC_HDR, 0, PCITSM_IDE_TLP_MAX);
	assert_ok(pcitsm_tap_rec_parse(rec, PCITSM_TAP_REC_MAX, &r));
	assert_true(r.tlp_err != PCITSM_OK); /* all zeros: no TLP */
}

/* The TLP inside a valid record: lengths that disagree with the header, bad prefix fields. The
 * record stays valid; the TLP is reported as not decoding, with no payload. */
static void tap_rec_bad_tlp(void **state)
{
	uint8_t rec[256];
	struct pcitsm_tap_rec r;
	size_t n = ide_record(rec, sizeof(rec), true);

	(void)state;
	/* IDE TLP one byte short (MAC cut), one byte long, and cut inside the header. */
	assert_ok(pcitsm_tap_rec_parse(rec, n - 1, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_SHORT);
	assert_null(r.payload);
	assert_int_equal(r.payload_len, 0);
	rec[n] = 0;
	assert_ok(pcitsm_tap_rec_parse(rec, n + 1, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_LONG);
	assert_ok(pcitsm_tap_rec_parse(rec, PCITSM_TAP_REC_HDR + 6, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_SHORT);
	assert_ok(pcitsm_tap_rec_parse(rec, PCITSM_TAP_REC_HDR + 1, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_SHORT);
	/* A Length field saying 17 DW of data: the record is shorter. */
	rec[PCITSM_TAP_REC_HDR + PCITSM_TLP_PREFIX_LEN + 3] = 17;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_SHORT);
	/* ... saying 2 DW: the record is longer. */
	rec[PCITSM_TAP_REC_HDR + PCITSM_TLP_PREFIX_LEN + 3] = 2;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_LONG);
	rec[PCITSM_TAP_REC_HDR + PCITSM_TLP_PREFIX_LEN + 3] = 4;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	assert_ok(r.tlp_err);
	/* The prefix's reserved bit, a reserved sub-stream, P without M. */
	rec[PCITSM_TAP_REC_HDR + PCITSM_IDE_PFX_FLAGS_BYTE] |= PCITSM_IDE_PFX_RSVD;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_RESERVED);
	n = ide_record(rec, sizeof(rec), false);
	rec[PCITSM_TAP_REC_HDR + PCITSM_IDE_PFX_FLAGS_BYTE] |= 3 << PCITSM_IDE_PFX_SUB_SHIFT;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_FIELD);
	/* A plaintext TLP whose Length disagrees with the record. */
	n = ide_record(rec, sizeof(rec), false);
	memmove(rec + PCITSM_TAP_REC_HDR, rec + PCITSM_TAP_REC_HDR + PCITSM_TLP_PREFIX_LEN,
		n - PCITSM_TAP_REC_HDR - PCITSM_TLP_PREFIX_LEN);
	n -= PCITSM_TLP_PREFIX_LEN + PCITSM_IDE_MAC_LEN;
	assert_ok(pcitsm_tap_rec_parse(rec, n, &r));
	assert_ok(r.tlp_err);
	assert_false(r.ide);
	assert_int_equal(r.payload_len, 16);
	assert_ok(pcitsm_tap_rec_parse(rec, n - 4, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_SHORT);
	assert_ok(pcitsm_tap_rec_parse(rec, n + 4, &r));
	assert_int_equal(r.tlp_err, PCITSM_E_LONG);
}

/* The reader: no file, not a pcap file, a file cut inside a packet; the writer: no directory. */
static void tap_files(void **state)
{
	struct pcitsm_link_capture cap;
	struct pcitsm_pcap_in in;
	struct pcitsm_bdf rp = { 0, 0, 1, 0 };
	uint8_t rec[256];
	const uint8_t *pkt;
	size_t n, caplen, len;
	uint64_t ts;
	char path[512], why[256] = "";
	FILE *f;

	(void)state;
	assert_err(pcitsm_link_capture_open(&cap, "/nonexistent/dir/x.pcap", &rp), PCITSM_E_SYSTEM);
	assert_err(pcitsm_link_capture_open(&cap, "/tmp/x.pcap", NULL), PCITSM_E_INVAL);
	assert_err(pcitsm_pcap_in_open(&in, "/nonexistent/x.pcap", why, sizeof(why)),
		   PCITSM_E_SYSTEM);
	assert_true(strlen(why) > 0);
	tmp_path(path, sizeof(path), "files");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a capture at all, just some text that is long enough\n", f);
	fclose(f);
	assert_err(pcitsm_pcap_in_open(&in, path, why, sizeof(why)), PCITSM_E_SYSTEM);

	/* Two records written, the file then cut inside the second. */
	assert_ok(pcitsm_link_capture_open(&cap, path, &rp));
	n = ide_record(rec, sizeof(rec), false);
	pcitsm_pcap_write(&cap.pcap, rec, n);
	pcitsm_pcap_write(&cap.pcap, rec, n);
	assert_ok(pcitsm_link_capture_close(&cap));
	assert_int_equal(truncate(path, (off_t)(24 + 16 + n + 16 + n / 2)), 0);
	assert_ok(pcitsm_pcap_in_open(&in, path, NULL, 0));
	assert_ok(pcitsm_pcap_in_next(&in, &pkt, &caplen, &len, &ts));
	assert_int_equal(caplen, n);
	assert_err(pcitsm_pcap_in_next(&in, &pkt, &caplen, &len, &ts), PCITSM_E_TRUNCATED);
	pcitsm_pcap_in_close(&in);
	assert_err(pcitsm_pcap_in_next(&in, &pkt, &caplen, &len, &ts), PCITSM_E_STATE);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tap_clear_link),
		cmocka_unit_test(tap_ide_record),
		cmocka_unit_test(tap_rec_bad_header),
		cmocka_unit_test(tap_rec_bad_tlp),
		cmocka_unit_test(tap_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
