/* SPDX-License-Identifier: MIT */
/* Fuzz a Secure stream's receive path. Records (op, le16 length, bytes): odd ops have the root port
 * send them as a plaintext TLP (valid MACs reach deep paths), maybe one bit flipped; even: raw.
 * An odd op with bit 7 set sends an aggregated unit: this record and the next 1-3 records
 * (le16 length, bytes: no op byte) go through one pcitsm_ide_tx, and each resulting IDE TLP to
 * the receiver, one of them maybe with a bit flipped. */
#include <stdlib.h>
#include "fuzz_ide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t wire[PCITSM_IDE_TLP_MAX], plain[8 * PCITSM_IDE_TLP_MAX];
	static struct pcitsm_gcm *gcm;
	struct pcitsm_env_test env;
	struct pcitsm_ide_port *rp, *ep;
	struct pcitsm_rd r;
	pcitsm_err e = PCITSM_OK;

	if (!gcm && pcitsm_gcm_new(&gcm, PCITSM_GCM_AUTO))
		abort();
	pcitsm_env_test_init(&env, 1);
	env.env.log_level = PCITSM_LOG_ERR;
	rp = fuzz_ide_port(gcm, &env.env, 0x08, 0x100, false, size & 1, 3, 2);
	ep = fuzz_ide_port(gcm, &env.env, 0x100, 0x08, true, size & 1, 3, 2);
	pcitsm_rd_init(&r, data, size);
	while (pcitsm_rd_left(&r) >= 3) {
		uint8_t op = pcitsm_rd_u8(&r);
		size_t want = pcitsm_rd_le16(&r), n = PCITSM_MIN(want, pcitsm_rd_left(&r)), len;
		struct pcitsm_ide_io io = { pcitsm_rd_bytes(&r, n), n, wire, sizeof(wire), 0 };
		struct pcitsm_ide_rx_out out = { .buf = plain, .cap = sizeof(plain) };

		if ((op & 0x81) == 0x81) {
			static uint8_t units[4][PCITSM_IDE_TLP_MAX];
			struct pcitsm_ide_io u[4];
			size_t k = 2 + (op >> 4 & 3) % 3, got = 0;

			u[got++] = (struct pcitsm_ide_io){ io.in, n, units[0], sizeof(units[0]), 0 };
			while (got < k && pcitsm_rd_left(&r) >= 2) {
				size_t w = pcitsm_rd_le16(&r), m = PCITSM_MIN(w, pcitsm_rd_left(&r));

				u[got] = (struct pcitsm_ide_io){ pcitsm_rd_bytes(&r, m), m, units[got],
								 sizeof(units[got]), 0 };
				got++;
			}
			if (pcitsm_ide_tx(rp, u, got) == PCITSM_OK) {
				for (size_t i = 0; i < got; i++) {
					if (op & 2 && i == (op >> 2 & 3) % got)
						units[i][(op >> 3) % u[i].out_len] ^= 0x10;
					out = (struct pcitsm_ide_rx_out){ .buf = plain,
									  .cap = sizeof(plain) };
					e = pcitsm_ide_rx(ep, units[i], u[i].out_len, &out);
				}
			}
		} else if (!(op & 1)) {
			e = pcitsm_ide_rx(ep, io.in, n, &out);
		} else if (pcitsm_ide_tx(rp, &io, 1) == PCITSM_OK) {
			if (op & 2)
				wire[(op >> 2) % io.out_len] ^= (uint8_t)(1u << (op & 7));
			e = pcitsm_ide_rx(ep, wire, io.out_len, &out);
		}
		while (pcitsm_ide_next_msg(ep, wire, sizeof(wire), &len) == PCITSM_OK)
			e = pcitsm_ide_rx(rp, wire, len, &out);
	}
	pcitsm_ide_port_free(rp);
	pcitsm_ide_port_free(ep);
	return e == PCITSM_E_CRYPTO; /* never: the backend does not fail */
}
