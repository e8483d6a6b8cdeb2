/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal JSON output helpers. */
#ifndef FUNNEL_JSON_H
#define FUNNEL_JSON_H

#include <stdio.h>

/*
 * Write s as a JSON string literal, quotes included, always valid UTF-8:
 * control characters (and DEL) escaped, bytes that are not well-formed
 * UTF-8 written as \ufffd (U+FFFD), one for each maximal subpart (utf8.h).
 */
void json_string(FILE *f, const char *s);

#endif /* FUNNEL_JSON_H */
