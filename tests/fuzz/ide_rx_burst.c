/* SPDX-License-Identifier: MIT */
/* Differential fuzz of IDE bursts: two identical Secure links, one driven by pcitsm_ide_tx_burst /
 * pcitsm_ide_rx_burst, the other one TLP per call. Records (op, le16 length, bytes): up to 16
 * records make a burst of plaintext TLPs; op bit 0 ends the burst, bit 1 flips bit (op >> 5) of
 * byte (op >> 2 & 3) * 5 of that TLP's IDE bytes on both links, bit 4 has the receivers get the
 * record's bytes raw instead.
 * Any difference in error, stop index, output bytes or stream state aborts. */
#include <stdlib.h>
#include <string.h>
#include "fuzz_ide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXB 16

static uint8_t wire[2][MAXB][PCITSM_IDE_TLP_MAX], plain[2][MAXB][PCITSM_IDE_TLP_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcitsm_gcm *gcm;
	struct pcitsm_env_test env;
	struct pcitsm_ide_port *rp[2], *ep[2];
	struct pcitsm_ide_io io[2][MAXB];
	struct pcitsm_ide_rx_out out[2][MAXB];
	const uint8_t *in[MAXB];
	size_t len[MAXB], n = 0, done[2];
	uint8_t ops[MAXB];
	pcitsm_err e[2];
	struct pcitsm_rd r;

	if (!gcm && pcitsm_gcm_new(&gcm, PCITSM_GCM_AUTO))
		abort();
	pcitsm_env_test_init(&env, 1);
	env.env.log_level = PCITSM_LOG_ERR;
	for (int k = 0; k < 2; k++) {
		rp[k] = fuzz_ide_port(gcm, &env.env, 0x08, 0x100, false, size & 1, 0, 0);
		ep[k] = fuzz_ide_port(gcm, &env.env, 0x100, 0x08, true, size & 1, 0, 0);
	}
	pcitsm_rd_init(&r, data, size);
	while (pcitsm_rd_left(&r) >= 3) {
		uint8_t op = pcitsm_rd_u8(&r);
		size_t want = pcitsm_rd_le16(&r), m = PCITSM_MIN(want, pcitsm_rd_left(&r));
		const uint8_t *b = pcitsm_rd_bytes(&r, m);

		ops[n] = op;
		for (int k = 0; k < 2; k++)
			io[k][n] = (struct pcitsm_ide_io){ b, m, wire[k][n], PCITSM_IDE_TLP_MAX, 0 };
		if (++n < MAXB && !(op & 1) && pcitsm_rd_left(&r) >= 3)
			continue;
		/* Transmit: raw records are copied as they are. */
		e[0] = pcitsm_ide_tx_burst(rp[0], io[0], n, &done[0]);
		for (done[1] = 0, e[1] = PCITSM_OK; done[1] < n; done[1]++)
			if ((e[1] = pcitsm_ide_tx(rp[1], &io[1][done[1]], 1)))
				break;
		if (e[0] != e[1] || done[0] != done[1])
			abort();
		for (size_t i = 0; i < done[0]; i++) {
			size_t l = io[0][i].out_len, at = (ops[i] >> 2 & 3) * 5;

			if (l != io[1][i].out_len || memcmp(wire[0][i], wire[1][i], l))
				abort();
			if (ops[i] & 2 && at < l)
				for (int k = 0; k < 2; k++)
					wire[k][i][at] ^= (uint8_t)(1u << (ops[i] >> 5));
		}
		/* Receive. */
		for (size_t i = 0; i < done[0]; i++) {
			in[i] = ops[i] & 0x10 ? io[0][i].in : wire[0][i];
			len[i] = ops[i] & 0x10 ? io[0][i].in_len : io[0][i].out_len;
			for (int k = 0; k < 2; k++)
				out[k][i] = (struct pcitsm_ide_rx_out){ .buf = plain[k][i],
									.cap = PCITSM_IDE_TLP_MAX };
		}
		e[0] = pcitsm_ide_rx_burst(ep[0], in, len, out[0], done[0], &done[0]);
		for (n = done[1], done[1] = 0, e[1] = PCITSM_OK; done[1] < n; done[1]++)
			if ((e[1] = pcitsm_ide_rx(ep[1], in[done[1]], len[done[1]],
						   &out[1][done[1]])))
				break;
		if (e[0] != e[1] || done[0] != done[1])
			abort();
		for (size_t i = 0; i < done[0] + (done[0] < n); i++) {
			if (out[0][i].n != out[1][i].n || out[0][i].consumed != out[1][i].consumed)
				abort();
			for (size_t j = 0; j < out[0][i].n; j++)
				if (out[0][i].len[j] != out[1][i].len[j] ||
				    memcmp(plain[0][i] + out[0][i].off[j],
					   plain[1][i] + out[1][i].off[j], out[0][i].len[j]))
					abort();
		}
		for (int k = 0; k < 2; k++) {
			size_t l;

			while (pcitsm_ide_next_msg(rp[k], wire[k][0], PCITSM_IDE_TLP_MAX, &l) == 0)
				e[k] = pcitsm_ide_rx(ep[k], wire[k][0], l, &out[k][0]);
			while (pcitsm_ide_next_msg(ep[k], wire[k][0], PCITSM_IDE_TLP_MAX, &l) == 0)
				e[k] = pcitsm_ide_rx(rp[k], wire[k][0], l, &out[k][0]);
		}
		if (pcitsm_ide_stream_state(ep[0], 0) != pcitsm_ide_stream_state(ep[1], 0) ||
		    memcmp(&ep[0]->stream[0].stats, &ep[1]->stream[0].stats,
			   sizeof(ep[0]->stream[0].stats)))
			abort();
		n = 0;
	}
	for (int k = 0; k < 2; k++) {
		pcitsm_ide_port_free(rp[k]);
		pcitsm_ide_port_free(ep[k]);
	}
	return 0;
}
