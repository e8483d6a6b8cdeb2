/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal JSON output helpers. */
#ifndef FUNNEL_JSON_H
#define FUNNEL_JSON_H

#include <stdio.h>

/* Write s as a JSON string literal, quotes included. */
void json_string(FILE *f, const char *s);

#endif /* FUNNEL_JSON_H */
