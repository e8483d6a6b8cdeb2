// SPDX-License-Identifier: GPL-2.0
/* Minimal JSON output helpers. */

#include "common/json.h"
#include "common/utf8.h"

void json_string(FILE *f, const char *s)
{
	unsigned char c;
	bool valid;
	size_t n;

	fputc('"', f);
	for (; (c = (unsigned char)*s); s += n) {
		n = 1;
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
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else {
				n = utf8_seq(s, &valid);
				if (valid)
					fwrite(s, 1, n, f);
				else
					fputs("\\ufffd", f);
			}
		}
	}
	fputc('"', f);
}
