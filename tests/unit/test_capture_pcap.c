/* SPDX-License-Identifier: MIT */
/* doe: pcap capture of DOE objects, read back with libpcap: link type 292, one packet per object,
 * the exact bytes, both directions in order; the truncation of objects above the snapshot length;
 * and the failure paths. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcitsm/capture.h"
#include "pcitsm/doe.h"
#include "pcitsm/transport.h"
#include "testutil.h"

static void tmp_path(char *out, size_t n, const char *what)
{
	snprintf(out, n, "%s/test_capture_pcap_%s_%d.pcap", PCITSM_BINARY_DIR, what, (int)getpid());
}

/* A CMA handler answering with the request reversed. */
static pcitsm_err rev_handle(struct pcitsm_doe_handler *h, const uint8_t *req, size_t req_len,
			     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	if (req_len > rsp_cap)
		return PCITSM_E_NOSPC;
	for (size_t i = 0; i < req_len; i++)
		rsp[i] = req[req_len - 1 - i];
	*rsp_len = req_len;
	return PCITSM_OK;
}

static void capture_loopback_exchange(void **state)
{
	static const uint8_t req[] = { 0x12, 0x84, 0x00, 0x00 };
	struct pcitsm_doe_handler h = { .vid = 1, .type = 1, .handle = rev_handle };
	char errbuf[PCAP_ERRBUF_SIZE], path[512];
	struct pcitsm_xport_loop loop;
	struct pcitsm_doe_dev dev;
	struct pcitsm_pcap cap;
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint8_t rsp[16];
	pcap_t *p;
	size_t n;

	tmp_path(path, sizeof(path), "loop");
	pcitsm_doe_dev_init(&dev, 1);
	assert_ok(pcitsm_doe_dev_register(&dev, &h));
	pcitsm_xport_loop_init(&loop, &dev);
	assert_ok(pcitsm_pcap_open(&cap, path));
	loop.x.tap = &cap.tap;
	assert_ok(pcitsm_xport_exchange(&loop.x, 1, 1, req, sizeof(req), rsp, sizeof(rsp), &n));
	assert_ok(pcitsm_xport_exchange(&loop.x, 1, 1, req, 2, rsp, sizeof(rsp), &n));
	assert_int_equal(cap.packets, 4);
	assert_ok(pcitsm_pcap_close(&cap));

	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), PCITSM_PCAP_LINKTYPE_PCI_DOE);
	/* Request, then response: the order is the only direction marker. */
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_int_equal(ph->caplen, 12);
	assert_int_equal(ph->len, 12);
	assert_memory_equal(data, "\x01\x00\x01\x00\x03\x00\x00\x00\x12\x84\x00\x00", 12);
	assert_true(ph->ts.tv_sec > 0);
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_memory_equal(data, "\x01\x00\x01\x00\x03\x00\x00\x00\x00\x00\x84\x12", 12);
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_memory_equal(data + 8, "\x12\x84\x00\x00", 4); /* 2 bytes, padded */
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_int_equal(pcap_next_ex(p, &ph, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	unlink(path);
}

/* The global header as a decoder sees it: magic, version 2.4, snaplen 65536 (spdm_dump refuses a
 * larger one), link type 292; in the writer's byte order. */
static void check_global_header(const char *path)
{
	uint8_t h[24];
	FILE *f = fopen(path, "rb");
	uint32_t magic;

	assert_non_null(f);
	assert_int_equal(fread(h, 1, sizeof(h), f), sizeof(h));
	fclose(f);
	memcpy(&magic, h, 4);
	assert_int_equal(magic, 0xa1b2c3d4u); /* native order: written by this host */
	assert_int_equal(h[4] | h[5] << 8, 2);
	assert_int_equal(h[6] | h[7] << 8, 4);
	assert_int_equal(pcitsm_get_le32(h + 16), 65536);
	assert_int_equal(pcitsm_get_le32(h + 20), 292);
}

static void global_header_snaplen(void **state)
{
	char path[512];
	struct pcitsm_pcap cap;

	(void)state;
	assert_int_equal(PCITSM_PCAP_SNAPLEN, 65536);
	tmp_path(path, sizeof(path), "hdr");
	assert_ok(pcitsm_pcap_open(&cap, path));
	assert_ok(pcitsm_pcap_close(&cap));
	check_global_header(path);
	unlink(path);
}

static void capture_truncates_above_snaplen(void **state)
{
	size_t len = PCITSM_PCAP_SNAPLEN + 64;
	uint8_t *obj = calloc(1, len);
	char errbuf[PCAP_ERRBUF_SIZE], path[512];
	struct pcitsm_pcap cap;
	struct pcap_pkthdr *ph;
	const u_char *data;
	pcap_t *p;

	assert_non_null(obj);
	tmp_path(path, sizeof(path), "big");
	assert_ok(pcitsm_pcap_open(&cap, path));
	cap.tap.object(&cap.tap, false, obj, len);
	/* Exactly the snapshot length: whole. The largest DOE object (2^18 DW): cut to 65536. */
	cap.tap.object(&cap.tap, true, obj, PCITSM_PCAP_SNAPLEN);
	free(obj);
	obj = calloc(1, PCITSM_DOE_MAX_BYTES + 4);
	assert_non_null(obj);
	obj[PCITSM_PCAP_SNAPLEN - 1] = 0x5a;
	obj[PCITSM_PCAP_SNAPLEN] = 0xa5; /* past the cut */
	cap.tap.object(&cap.tap, false, obj, PCITSM_DOE_MAX_BYTES);
	assert_int_equal(cap.packets, 3);
	assert_int_equal(cap.truncated, 2);
	/* Larger than any DOE object: refused, and the error is reported at close. */
	cap.tap.object(&cap.tap, true, obj, PCITSM_DOE_MAX_BYTES + 4);
	cap.tap.object(&cap.tap, true, obj, 8); /* nothing more after an error */
	assert_int_equal(cap.packets, 3);
	assert_err(pcitsm_pcap_close(&cap), PCITSM_E_INVAL);
	free(obj);

	check_global_header(path);
	p = pcap_open_offline(path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_snapshot(p), 65536);
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_int_equal(ph->caplen, PCITSM_PCAP_SNAPLEN);
	assert_int_equal(ph->len, len);
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_int_equal(ph->caplen, PCITSM_PCAP_SNAPLEN);
	assert_int_equal(ph->len, PCITSM_PCAP_SNAPLEN);
	assert_int_equal(pcap_next_ex(p, &ph, &data), 1);
	assert_int_equal(ph->caplen, 65536);
	assert_int_equal(ph->len, PCITSM_DOE_MAX_BYTES);
	assert_int_equal(data[65535], 0x5a); /* the first 65536 bytes, exactly */
	assert_int_equal(pcap_next_ex(p, &ph, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	unlink(path);
}

static void open_failure(void **state)
{
	struct pcitsm_pcap cap;

	assert_err(pcitsm_pcap_open(&cap, "/nonexistent-dir/x.pcap"), PCITSM_E_SYSTEM);
	assert_null(cap.dumper);
	/* A tap that failed to open ignores objects; closing it is harmless. */
	cap.tap.object(&cap.tap, false, (const uint8_t *)"\x01\x00\x00\x00\x02\x00\x00\x00", 8);
	assert_int_equal(cap.packets, 0);
	assert_ok(pcitsm_pcap_close(&cap));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(capture_loopback_exchange),
		cmocka_unit_test(global_header_snaplen),
		cmocka_unit_test(capture_truncates_above_snaplen),
		cmocka_unit_test(open_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
