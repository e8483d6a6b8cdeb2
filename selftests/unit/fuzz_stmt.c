// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the statement parser: LLVMFuzzerTestOneInput() takes
 * the input as a configuration line (up to the first NUL byte) and, split
 * at NUL bytes, as argv words, and aborts when an invariant breaks:
 *   - an error comes with a non-empty one-line message, success with none;
 *   - a parsed statement formats (stmt_format) to a line that parses back
 *     to the same struct stmt and formats to the same text again;
 *   - a blank or comment-only line gives STMT_EMPTY and formats to "";
 *   - formatting into a short buffer gives the same length and a prefix.
 *
 * Default build: linked with fuzz_main.c, a program that runs the target
 * over each file named on the command line (or stdin).  With clang
 * -fsanitize=fuzzer, build with -DFUNNEL_LIBFUZZER so that libFuzzer
 * provides main().
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stmt.h"
#include "fuzz_main.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_stmt: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define INPUT_MAX	(2 * STMT_LINE_MAX)	/* longer inputs are cut */
#define ARGV_MAX	64

static char input[INPUT_MAX + 1];
static char *words[ARGV_MAX];
static struct stmt st, st_again;
static char err[256];
static char text[STMT_LINE_MAX], text_again[STMT_LINE_MAX];

static void check_err(int r)
{
	check(memchr(err, '\0', sizeof(err)));
	if (r == 0) {
		check(err[0] == '\0');
		return;
	}
	check(r == -1);
	check(err[0] != '\0');
	for (const char *c = err; *c; c++)
		check((unsigned char)*c >= 0x20 && *c != 0x7f);
}

/* st was parsed: check stmt_format() and the round trip. */
static void check_format(size_t cut)
{
	char small[64];
	int n, r;

	check(strcmp(stmt_kind_name(st.kind), "?"));
	n = stmt_format(&st, text, sizeof(text));
	check(n >= 0 && n < STMT_LINE_MAX);
	check(strlen(text) == (size_t)n);
	if (st.kind == STMT_EMPTY) {
		check(n == 0);
		return;
	}

	r = stmt_parse_line(text, &st_again, err, sizeof(err));
	if (r)
		fprintf(stderr, "fuzz_stmt: '%s': %s\n", text, err);
	check(r == 0);
	check(!memcmp(&st, &st_again, sizeof(st)));
	check(stmt_format(&st_again, text_again, sizeof(text_again)) == n);
	check(!strcmp(text, text_again));

	cut %= sizeof(small);
	memset(small, 'x', sizeof(small));
	check(stmt_format(&st, small, cut) == n);
	if (cut) {
		check(strlen(small) == ((size_t)n < cut ? (size_t)n : cut - 1));
		check(!strncmp(small, text, strlen(small)));
	}
	for (size_t i = cut; i < sizeof(small); i++)
		check(small[i] == 'x');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size < INPUT_MAX ? size : INPUT_MAX;
	int r, n = 0;

	memcpy(input, data, len);
	input[len] = '\0';

	/* As a line. */
	memset(err, 'x', sizeof(err));
	r = stmt_parse_line(input, &st, err, sizeof(err));
	check_err(r);
	if (r == 0)
		check_format(size);
	else
		check(input[0] != '\0');	/* "" is STMT_EMPTY */

	/* As argv: words separated by NUL bytes. */
	for (size_t off = 0; off < len && n < ARGV_MAX; n++) {
		words[n] = input + off;
		off += strlen(input + off) + 1;
	}
	memset(err, 'x', sizeof(err));
	r = stmt_parse_argv(n, words, &st, err, sizeof(err));
	check_err(r);
	if (r == 0) {
		check(st.kind != STMT_EMPTY);
		check_format(size + 1);
	}
	return 0;
}
