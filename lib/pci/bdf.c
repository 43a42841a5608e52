/* SPDX-License-Identifier: MIT */
/* PCI addresses as sysfs names them: "DDDD:BB:DD.F" (segment, bus, device, function). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pcitsm/pci.h"

#define BDF_LEN 12u
#define BDF_MAX_DEV 0x1fu
#define BDF_MAX_FN 7u

/* n hex digits at s into *v; false on any non-hex character. */
static bool hexn(const char *s, unsigned n, unsigned *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		int d = pcitsm_hex_digit(s[i]);

		if (d < 0)
			return false;
		*v = *v << 4 | (unsigned)d;
	}
	return true;
}

/* Why s is refused, naming it (at most BDF_ECHO_MAX of its characters). */
#define BDF_ECHO_MAX 40
PCITSM_PRINTF(4, 5) static pcitsm_err bdf_refuse(const char *s, char *why, size_t why_len,
						 const char *fmt, ...)
{
	char what[96];
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(why, why_len, "'%.*s%s' is not a PCI address: %s", BDF_ECHO_MAX, s,
			 strnlen(s, BDF_ECHO_MAX + 1) > BDF_ECHO_MAX ? "..." : "", what);
	}
	return PCITSM_E_INVAL;
}

pcitsm_err pcitsm_bdf_parse_why(const char *s, struct pcitsm_bdf *bdf, char *why, size_t why_len)
{
	unsigned seg, bus, dev, fn;

	if (why && why_len)
		why[0] = '\0';
	if (!bdf)
		return PCITSM_E_INVAL;
	if (!s)
		return bdf_refuse("", why, why_len, "none given");
	/* Layout: SSSS ':' BB ':' DD '.' F, nothing before or after. */
	if (strnlen(s, BDF_LEN + 1) != BDF_LEN || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return bdf_refuse(s, why, why_len,
				  "expected DDDD:BB:DD.F (segment:bus:device.function), as in "
				  "0000:01:00.0");
	if (!hexn(s, 4, &seg) || !hexn(s + 5, 2, &bus) || !hexn(s + 8, 2, &dev) ||
	    !hexn(s + 11, 1, &fn))
		return bdf_refuse(s, why, why_len, "the fields are hexadecimal digits");
	if (dev > BDF_MAX_DEV)
		return bdf_refuse(s, why, why_len, "device %02x is above %02x", dev, BDF_MAX_DEV);
	if (fn > BDF_MAX_FN)
		return bdf_refuse(s, why, why_len, "function %x is above %x", fn, BDF_MAX_FN);
	bdf->seg = (uint16_t)seg;
	bdf->bus = (uint8_t)bus;
	bdf->dev = (uint8_t)dev;
	bdf->fn = (uint8_t)fn;
	return PCITSM_OK;
}

pcitsm_err pcitsm_bdf_parse(const char *s, struct pcitsm_bdf *bdf)
{
	return pcitsm_bdf_parse_why(s, bdf, NULL, 0);
}

void pcitsm_bdf_format(const struct pcitsm_bdf *bdf, char out[13])
{
	snprintf(out, 13, "%04x:%02x:%02x.%x", bdf->seg, bdf->bus, bdf->dev & BDF_MAX_DEV,
		 bdf->fn & BDF_MAX_FN);
}
