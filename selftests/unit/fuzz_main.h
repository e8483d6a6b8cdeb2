/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a fuzz target of this directory gives fuzz_main.c, the driver of
 * its default (non-libFuzzer) build.
 */
#ifndef FUNNEL_SELFTESTS_FUZZ_MAIN_H
#define FUNNEL_SELFTESTS_FUZZ_MAIN_H

#include <stddef.h>
#include <stdint.h>

/* The target: libFuzzer's entry point, called by fuzz_main.c otherwise. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Optional: what the program does when no file is named.  A target that
 * defines it generates its own inputs there and returns the exit status;
 * without it, the input is read from stdin.
 */
int fuzz_no_args(void);

#endif
