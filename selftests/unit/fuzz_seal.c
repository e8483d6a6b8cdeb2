// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for frame sealing: LLVMFuzzerTestOneInput() opens the input
 * as a sealed frame with fresh unordered and ordered replay state, and
 * seals the input as a payload, and aborts when an invariant breaks:
 *   - the verdict is the one the header and length call for, and a frame
 *     reaching the tag is either refused (AUTH) or genuine: it seals again
 *     to the same bytes, and opens only once;
 *   - a refused frame leaves no plaintext behind (the output buffer is
 *     untouched, or cleared after a failed tag) and no replay state;
 *   - a sealed payload opens to itself, once, and not with a bit flipped.
 * The key is the one of the example of wire-format.md section 14.
 *
 * Default build: linked with fuzz_main.c, a program that runs the target
 * over each file named on the command line, or, without arguments
 * (fuzz_no_args()), over 50000 deterministic mutations of valid sealed
 * frames.  With clang -fsanitize=fuzzer, build with -DFUNNEL_LIBFUZZER so
 * that libFuzzer provides main().
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/sec/seal.h"
#include "fuzz_main.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_seal: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define CANARY		0xa5
#define KEY_ID		1

static const uint8_t key[FUNNEL_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t salt[FUNNEL_SALT_LEN] = { 0xa0, 0xa1, 0xa2, 0xa3 };

static struct seal_key tx;
static struct seal_rx rx_unordered, rx_ordered;
static uint8_t out[FUNNEL_MAX_SEALED_PAYLOAD];
static uint8_t sealed[FUNNEL_MAX_FRAME];
static uint8_t copy[FUNNEL_MAX_FRAME];

static void teardown(void)
{
	seal_key_free(&tx);
	seal_rx_free(&rx_unordered);
	seal_rx_free(&rx_ordered);
}

/* The keys, made once, freed at exit. */
static void setup(void)
{
	static bool ready;

	if (ready)
		return;
	check(!seal_key_init(&tx, KEY_ID, key, salt, 0, UINT64_MAX));
	check(!seal_rx_init(&rx_unordered, KEY_ID, key, salt, false));
	check(!seal_rx_init(&rx_ordered, KEY_ID, key, salt, true));
	check(!atexit(teardown));
	ready = true;
}

static void rx_reset(struct seal_rx *rx)
{
	rx->top = 0;
	memset(rx->window, 0, sizeof(rx->window));
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The verdict due before the tag is looked at; SEAL_OK: OK or AUTH. */
static enum seal_verdict predict(const uint8_t *f, size_t len, bool ordered)
{
	uint8_t flags;

	if (len < FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD ||
	    len > FUNNEL_MAX_FRAME)
		return SEAL_MALFORMED;
	flags = f[3];
	if (flags & FUNNEL_F_RESERVED ||
	    (f[2] != FUNNEL_T_DATA && f[2] != FUNNEL_T_FLOW_END &&
	     f[2] != FUNNEL_T_CTRL))
		return SEAL_MALFORMED;
	if (f[2] == FUNNEL_T_CTRL && (f[0] || f[1]))
		return SEAL_MALFORMED;
	if (f[2] == FUNNEL_T_FLOW_END ?
	    len != FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD :
	    flags & FUNNEL_F_RESET)
		return SEAL_MALFORMED;
	if (!(flags & FUNNEL_F_SEALED) ||
	    !!(flags & FUNNEL_F_KEY_PHASE) != (KEY_ID & 1))
		return SEAL_NO_KEY;
	if (!be64(f + FUNNEL_HDR_LEN))
		return SEAL_REPLAY;
	/* fresh ordered state takes counter 1 alone */
	if (ordered && be64(f + FUNNEL_HDR_LEN) != 1)
		return SEAL_REPLAY;
	return SEAL_OK;
}

/* A frame that opened: it must be what sealing its plaintext gives. */
static void check_genuine(const uint8_t *f, size_t len, size_t n)
{
	uint8_t hdr[FUNNEL_HDR_LEN];
	int got;

	memcpy(hdr, f, FUNNEL_HDR_LEN);
	hdr[3] &= (uint8_t)~(FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE);
	tx.next = be64(f + FUNNEL_HDR_LEN);
	got = seal_frame(&tx, hdr, out, n, sealed, sizeof(sealed), NULL);
	check(got >= 0 && (size_t)got == len);
	check(!memcmp(sealed, f, len));
}

static void open_checked(struct seal_rx *rx, const uint8_t *f, size_t len)
{
	size_t n = 0, outlen = 1, i;
	enum seal_verdict v, want;

	if (len >= FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD &&
	    len <= FUNNEL_MAX_FRAME)
		n = len - FUNNEL_HDR_LEN - FUNNEL_SEAL_OVERHEAD;
	rx_reset(rx);
	memset(out, CANARY, n);
	v = seal_open(rx, f, len, out, sizeof(out), &outlen);
	want = predict(f, len, rx->ordered);
	if (want != SEAL_OK)
		check(v == want);
	else
		check(v == SEAL_OK || v == SEAL_AUTH);

	if (v != SEAL_OK) {
		check(outlen == 0);
		check(rx->top == 0);
		for (i = 0; i < n; i++)
			check(out[i] == (v == SEAL_AUTH ? 0 : CANARY));
		return;
	}
	check(outlen == n);
	check(rx->top == be64(f + FUNNEL_HDR_LEN));
	check_genuine(f, len, n);
	check(seal_open(rx, f, len, out, sizeof(out), &outlen) == SEAL_REPLAY);
	check(outlen == 0);
}

/* Seal data[8..] under a header made from data[0..8), open it back. */
static void roundtrip(const uint8_t *data, size_t size)
{
	uint8_t hdr[FUNNEL_HDR_LEN];
	uint64_t h = fnv(data, size);
	size_t len, outlen, bit;
	uint64_t ctr;
	int n;

	if (size < FUNNEL_HDR_LEN)
		return;
	memcpy(hdr, data, FUNNEL_HDR_LEN);
	hdr[2] = FUNNEL_T_DATA;
	hdr[3] &= FUNNEL_F_UNORDERED;
	if (!hdr[0] && !hdr[1])
		hdr[1] = 1;
	len = size - FUNNEL_HDR_LEN;
	if (len > FUNNEL_MAX_SEALED_PAYLOAD)
		len = FUNNEL_MAX_SEALED_PAYLOAD;
	ctr = h ? h : 1;
	tx.next = ctr;
	n = seal_frame(&tx, hdr, data + FUNNEL_HDR_LEN, len, sealed,
		       sizeof(sealed), NULL);
	check(n >= 0 && (size_t)n == len + FUNNEL_HDR_LEN +
	      FUNNEL_SEAL_OVERHEAD);

	rx_reset(&rx_ordered);
	rx_ordered.top = ctr - 1;	/* ordered: the next counter */
	check(seal_open(&rx_ordered, sealed, (size_t)n, out, sizeof(out),
			&outlen) == SEAL_OK);
	check(outlen == len && !memcmp(out, data + FUNNEL_HDR_LEN, len));
	check(seal_open(&rx_ordered, sealed, (size_t)n, out, sizeof(out),
			&outlen) == SEAL_REPLAY);

	memcpy(copy, sealed, (size_t)n);
	bit = (size_t)(h >> 8) % ((size_t)n * 8);
	copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	rx_reset(&rx_ordered);
	rx_ordered.top = ctr - 1;
	check(seal_open(&rx_ordered, copy, (size_t)n, out, sizeof(out),
			&outlen) != SEAL_OK);
	check(rx_ordered.top == ctr - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	open_checked(&rx_unordered, data, size);
	open_checked(&rx_ordered, data, size);
	roundtrip(data, size);
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

/* A valid sealed frame in buf; its length. */
static size_t seed(uint8_t *buf, size_t cap)
{
	uint8_t hdr[FUNNEL_HDR_LEN], payload[512];
	size_t len = next() % (next() % 8 ? 64 : sizeof(payload));
	int n;

	for (size_t i = 0; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)next();
	hdr[2] = FUNNEL_T_DATA;
	hdr[3] &= FUNNEL_F_UNORDERED;
	hdr[1] |= 1;
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)next();
	tx.next = next() % 4 ? 1 + next() % 3000 : (uint64_t)next() << 32;
	if (!tx.next)
		tx.next = 1;
	n = seal_frame(&tx, hdr, payload, len, buf, cap, NULL);
	check(n > 0);
	return (size_t)n;
}

static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
	for (unsigned int k = next() % 4; k > 0 && *len; k--) {
		size_t at = next() % *len;

		switch (next() % 4) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1:
			buf[at] = (uint8_t)next();
			break;
		case 2:
			*len = at;
			break;
		default:
			if (*len < cap)
				buf[(*len)++] = (uint8_t)next();
			break;
		}
	}
}

int fuzz_no_args(void)
{
	static uint8_t buf[1024];

	setup();
	for (int i = 0; i < 50000; i++) {
		size_t len = seed(buf, sizeof(buf));

		mutate(buf, &len, sizeof(buf));
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_seal: 50000 mutated sealed frames, invariants held\n");
	return 0;
}
#endif
