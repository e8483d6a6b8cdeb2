// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the control protocol codec: LLVMFuzzerTestOneInput()
 * decodes the input as a CTRL frame body and aborts when an invariant
 * breaks: a message that decodes must encode, and decode again to the
 * same message; a refusal always says why.
 *
 * Default build: linked with fuzz_main.c, a program that runs the target
 * over each file named on the command line, or, without arguments
 * (fuzz_no_args()), over 200000 deterministic mutations of valid
 * messages.  With clang -fsanitize=fuzzer, build with -DFUNNEL_LIBFUZZER
 * so that libFuzzer provides main().
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctrlmsg.h"
#include "fuzz_main.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_ctrlmsg: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[70000];
	struct ctrl_msg m, again;
	const char *why = NULL;
	int n;

	if (ctrl_decode(data, size, &m, &why)) {
		check(why && *why);
		return 0;
	}
	n = ctrl_encode(&m, out, sizeof(out), &why);
	check(n >= CTRL_HDR_LEN && (size_t)n <= size);
	check(ctrl_decode(out, (size_t)n, &again, &why) == 0);
	check(!memcmp(&m, &again, sizeof(m)));
	return 0;
}

#ifndef FUNNEL_LIBFUZZER
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Valid messages to start from, built by the encoder itself. */
static size_t seed(unsigned int i, uint8_t *buf, size_t cap)
{
	struct ctrl_msg m = { .type = (uint8_t)(1 + i % CTRL_TYPE_MAX) };

	m.stream = 1;
	m.reason = 1;
	m.proto = CTRL_PROTO_TCP;
	m.ordered = 1;
	m.plugin = 1;
	m.nonce = i;
	strcpy(m.node, "n");
	strcpy(m.service, "s.1");
	strcpy(m.text, "why");
	switch (m.type) {
	case CTRL_HELLO:
		m.present = CTRL_BIT(CTRL_A_FEATURES) | CTRL_BIT(CTRL_A_NODE);
		break;
	case CTRL_OPEN:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_SERVICE) |
			    CTRL_BIT(CTRL_A_PROTO) | CTRL_BIT(CTRL_A_ORDERED);
		if (i & 2)	/* a plugin stream (FEAT_PLUGIN) */
			m.present |= CTRL_BIT(CTRL_A_PLUGIN);
		break;
	case CTRL_OPEN_OK:
		m.present = CTRL_BIT(CTRL_A_STREAM);
		if (i & 2)
			m.present |= CTRL_BIT(CTRL_A_PLUGIN);
		break;
	case CTRL_OPEN_REFUSED:
	case CTRL_CLOSE:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_REASON) |
			    CTRL_BIT(CTRL_A_TEXT);
		break;
	case CTRL_REKEY_DONE:
	case CTRL_REKEY:
		m.present = CTRL_BIT(CTRL_A_STREAM) |
			    CTRL_BIT(CTRL_A_GENERATION);
		m.generation = i + 1;
		break;
	case CTRL_WINDOW:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
			    CTRL_BIT(CTRL_A_CREDIT);
		m.flow = i + 1;
		m.credit = 65536;
		break;
	case CTRL_ORIGIN:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
			    CTRL_BIT(CTRL_A_ORIGIN);
		m.flow = i + 1;
		m.origin_len = i % 2 ? 16 : 40;
		m.origin[0] = i % 2 ? 4 : 6;
		m.origin[3] = (uint8_t)i;
		break;
	case CTRL_MARK:
		m.present = CTRL_BIT(CTRL_A_STREAM) |
			    CTRL_BIT(CTRL_A_GENERATION) |
			    CTRL_BIT(CTRL_A_COUNTER);
		m.generation = i % 3 + 1;
		m.counter = i + 1;
		break;
	default:
		m.present = CTRL_BIT(CTRL_A_NONCE);
		break;
	}
	return (size_t)ctrl_encode(&m, buf, cap, NULL);
}

int fuzz_no_args(void)
{
	uint8_t buf[512];
	unsigned int i, k;

	for (i = 0; i < 200000; i++) {
		size_t len = seed(i, buf, sizeof(buf));

		/* flip, overwrite, cut or extend a few bytes */
		for (k = next() % 4; k > 0; k--) {
			size_t at = next() % len;

			switch (next() % 4) {
			case 0: buf[at] ^= (uint8_t)(1u << (next() % 8)); break;
			case 1: buf[at] = (uint8_t)next(); break;
			case 2: len = at; break;
			default:
				if (len < sizeof(buf))
					buf[len++] = (uint8_t)next();
				break;
			}
			if (!len)
				break;
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_ctrlmsg: 200000 mutated messages, invariants held\n");
	return 0;
}
#endif
