// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the frame codec: LLVMFuzzerTestOneInput() feeds the
 * input to the frame parser, the preamble check and the TCP deframer, and
 * aborts when an invariant breaks:
 *   - the input deframed whole and deframed in chunks (sizes taken from
 *     the input) yield the same frames, final status and pending bytes;
 *   - every frame is 8..65535 bytes and parses with its fields intact
 *     (the header re-encodes to the same bytes);
 *   - preamble results only ever get more definite as bytes arrive.
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

#include "common/frame.h"
#include "fuzz_main.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_frame: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

struct outcome {
	uint64_t digest;		/* FNV-1a over lengths and bytes */
	size_t frames;
	enum funnel_deframe_status status;
	size_t pending;
};

static uint8_t buf_whole[FUNNEL_DEFRAMER_BUFSZ];
static uint8_t buf_chunk[FUNNEL_DEFRAMER_BUFSZ];

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void check_frame(const uint8_t *frame, size_t len)
{
	struct funnel_frame f;
	enum funnel_verdict v;
	uint8_t hdr[FUNNEL_HDR_LEN];

	v = funnel_frame_parse(frame, len, &f);
	if (len < FUNNEL_HDR_LEN) {
		check(v == FUNNEL_FRAME_TOO_SHORT);
		return;
	}
	check(v != FUNNEL_FRAME_TOO_SHORT);
	check(f.body == frame + FUNNEL_HDR_LEN);
	check(f.body_len == len - FUNNEL_HDR_LEN);
	funnel_hdr_encode(hdr, &f);
	check(!memcmp(hdr, frame, FUNNEL_HDR_LEN));
	if (v == FUNNEL_FRAME_OK) {
		check(!(f.flags & FUNNEL_F_RESERVED));
		check(f.type <= FUNNEL_T_FLOW_END);
		check(f.type != FUNNEL_T_DATA || f.stream != FUNNEL_CTRL_STREAM);
		check(f.type != FUNNEL_T_FLOW_END || f.body_len ==
		      (f.flags & FUNNEL_F_SEALED ? FUNNEL_SEAL_OVERHEAD : 0));
		check(!(f.flags & FUNNEL_F_RESET) || f.type == FUNNEL_T_FLOW_END);
		check(!(f.flags & FUNNEL_F_SEALED) ||
		      f.body_len >= FUNNEL_SEAL_OVERHEAD);
	}
}

/* Deframe data in chunks of sizes drawn from seed (0: all at once). */
static void deframe(uint8_t *buf, const uint8_t *data, size_t size,
		    uint32_t seed, struct outcome *out)
{
	struct funnel_deframer d;
	enum funnel_deframe_status st = FUNNEL_DEFRAME_NEED_MORE;
	const uint8_t *p, *frame;
	size_t off = 0, n, left, flen;
	uint8_t lenbytes[2];

	check(!funnel_deframer_init(&d, buf, FUNNEL_DEFRAMER_BUFSZ));
	memset(out, 0, sizeof(*out));
	out->digest = 0xcbf29ce484222325ULL;
	while (off < size && st == FUNNEL_DEFRAME_NEED_MORE) {
		n = size - off;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			left = (seed >> 8) % (seed & 0x100 ? 7 : 4000) + 1;
			if (left < n)
				n = left;
		}
		p = data + off;
		left = n;
		while ((st = funnel_deframe(&d, &p, &left, &frame, &flen)) ==
		       FUNNEL_DEFRAME_FRAME) {
			check(flen >= FUNNEL_HDR_LEN && flen <= FUNNEL_MAX_FRAME);
			check_frame(frame, flen);
			lenbytes[0] = (uint8_t)(flen >> 8);
			lenbytes[1] = (uint8_t)flen;
			out->digest = fnv(out->digest, lenbytes, 2);
			out->digest = fnv(out->digest, frame, flen);
			out->frames++;
		}
		if (st == FUNNEL_DEFRAME_NEED_MORE)
			check(left == 0);
		off += n;
	}
	out->status = st;
	out->pending = st == FUNNEL_DEFRAME_NEED_MORE ?
		funnel_deframer_pending(&d) : 0;
}

static void check_preamble(const uint8_t *data, size_t size)
{
	enum funnel_preamble_verdict prev = FUNNEL_PREAMBLE_NEED_MORE, v;
	size_t max = size < FUNNEL_PREAMBLE_LEN + 2 ? size : FUNNEL_PREAMBLE_LEN + 2;

	for (size_t n = 0; n <= max; n++) {
		v = funnel_preamble_check(data, n);
		if (prev != FUNNEL_PREAMBLE_NEED_MORE)
			check(v == prev);
		if (n < FUNNEL_PREAMBLE_LEN)
			check(v != FUNNEL_PREAMBLE_OK);
		else
			check(v != FUNNEL_PREAMBLE_NEED_MORE);
		prev = v;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, chunked;
	uint32_t seed = 0x9e3779b9u ^ (uint32_t)size;

	check_frame(data, size);
	check_preamble(data, size);

	deframe(buf_whole, data, size, 0, &whole);
	for (size_t i = 0; i < size && i < 4; i++)
		seed = seed * 31 + data[i];
	deframe(buf_chunk, data, size, seed | 1, &chunked);
	check(whole.frames == chunked.frames);
	check(whole.digest == chunked.digest);
	check(whole.status == chunked.status);
	check(whole.pending == chunked.pending);
	return 0;
}
