/* SPDX-License-Identifier: MIT */
/* PCI addresses as sysfs names them: "DDDD:BB:DD.F" (segment, bus, device, function). */
#include <stdio.h>
#include <string.h>

#include "pcitsm/pci.h"

#define BDF_LEN 12u
#define BDF_MAX_DEV 0x1fu
#define BDF_MAX_FN 7u

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at s into *v; false on any non-hex character. */
static bool hexn(const char *s, unsigned n, unsigned *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return false;
		*v = *v << 4 | (unsigned)d;
	}
	return true;
}

pcitsm_err pcitsm_bdf_parse(const char *s, struct pcitsm_bdf *bdf)
{
	unsigned seg, bus, dev, fn;

	if (!s || !bdf)
		return PCITSM_E_INVAL;
	/* Layout: SSSS ':' BB ':' DD '.' F, nothing before or after. */
	if (strnlen(s, BDF_LEN + 1) != BDF_LEN || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return PCITSM_E_INVAL;
	if (!hexn(s, 4, &seg) || !hexn(s + 5, 2, &bus) || !hexn(s + 8, 2, &dev) ||
	    !hexn(s + 11, 1, &fn))
		return PCITSM_E_INVAL;
	if (dev > BDF_MAX_DEV || fn > BDF_MAX_FN)
		return PCITSM_E_INVAL;
	bdf->seg = (uint16_t)seg;
	bdf->bus = (uint8_t)bus;
	bdf->dev = (uint8_t)dev;
	bdf->fn = (uint8_t)fn;
	return PCITSM_OK;
}

void pcitsm_bdf_format(const struct pcitsm_bdf *bdf, char out[13])
{
	snprintf(out, 13, "%04x:%02x:%02x.%x", bdf->seg, bdf->bus, bdf->dev & BDF_MAX_DEV,
		 bdf->fn & BDF_MAX_FN);
}
