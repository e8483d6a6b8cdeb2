// SPDX-License-Identifier: GPL-2.0
/* Minimal JSON output helpers. */

#include "json.h"

void json_string(FILE *f, const char *s)
{
	unsigned char c;

	fputc('"', f);
	for (; (c = (unsigned char)*s); s++) {
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}
