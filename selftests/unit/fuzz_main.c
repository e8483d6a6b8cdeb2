// SPDX-License-Identifier: GPL-2.0
/*
 * The driver of the fuzz targets' default build (without
 * -DFUNNEL_LIBFUZZER, where libFuzzer provides main()): a program that
 * runs LLVMFuzzerTestOneInput() over each file named on the command line,
 * each read whole, and then prints "NAME: N input(s) ok", NAME being the
 * program's (the last part of argv[0]).  Without arguments it runs the
 * target's fuzz_no_args() when the target has one, else the target over
 * stdin.  Exit status: 1 if a file could not be read, 0 otherwise; a
 * broken invariant aborts in the target.
 */

#ifndef FUNNEL_LIBFUZZER

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_main.h"

/* Weak here: fuzz_no_args() is NULL in a target that does not define it. */
int fuzz_no_args(void) __attribute__((weak));

static const char *prog = "fuzz";

static int run_file(const char *path, FILE *f)
{
	uint8_t *data = NULL, *grown;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			grown = realloc(data, cap);
			if (!grown) {
				fprintf(stderr, "%s: %s: out of memory\n",
					prog, path);
				free(data);
				return 1;
			}
			data = grown;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		free(data);
		return 1;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0;
	FILE *f;

	if (argc > 0 && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	if (argc < 2)
		return fuzz_no_args ? fuzz_no_args() :
			run_file("<stdin>", stdin);
	for (int i = 1; i < argc; i++) {
		f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			failed = 1;
			continue;
		}
		failed |= run_file(argv[i], f);
		fclose(f);
	}
	if (!failed)
		printf("%s: %d input(s) ok\n", prog, argc - 1);
	return failed;
}

#endif
