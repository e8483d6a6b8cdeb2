/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UTF-8 validation for the output formats: strings that came from the
 * network (a peer's node name, principal or error text) may hold any
 * bytes, but JSON and the Prometheus text format must be valid UTF-8.
 */
#ifndef FUNNEL_UTF8_H
#define FUNNEL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The character that starts at s (NUL-terminated, not empty; nothing past
 * the NUL is read).  Returns its length, 1 to 4, with *valid true when it
 * is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF).  Otherwise *valid is false and the length is
 * that of the "maximal subpart" (Unicode 15, section 3.9): the bytes that
 * one U+FFFD replaces, as Python's errors="replace" does.
 */
size_t utf8_seq(const char *s, bool *valid);

/* U+FFFD REPLACEMENT CHARACTER */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"

#endif /* FUNNEL_UTF8_H */
