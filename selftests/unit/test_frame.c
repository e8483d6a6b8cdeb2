// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the frame codec (ctl/common/frame.c). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/frame.h"

#define MAX_FRAMES	4096

/* A TCP byte stream under construction. */
static uint8_t stream_buf[4 * (FUNNEL_LEN_PREFIX + FUNNEL_MAX_FRAME)];
static size_t stream_len;

/* What a deframer handed out. */
static struct {
	size_t count;
	size_t off[MAX_FRAMES];		/* in data[] */
	size_t len[MAX_FRAMES];
	uint8_t data[sizeof(stream_buf)];
	size_t used;
} got;

static uint8_t dbuf[FUNNEL_DEFRAMER_BUFSZ];
static uint8_t frame_buf[FUNNEL_MAX_FRAME + 1];

static void stream_reset(void)
{
	stream_len = 0;
	got.count = 0;
	got.used = 0;
}

static void fill_body(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* Append prefix, header and a patterned body; returns the frame offset. */
static size_t stream_add(uint16_t stream, uint8_t type, uint8_t flags,
			 uint32_t flow, size_t body_len)
{
	struct funnel_frame f = {
		.stream = stream, .type = type, .flags = flags, .flow = flow,
	};
	size_t start = stream_len;

	assert_true(stream_len + FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN +
		    body_len <= sizeof(stream_buf));
	assert_int_equal(funnel_len_prefix_encode(stream_buf + stream_len,
						  FUNNEL_HDR_LEN + body_len), 0);
	stream_len += FUNNEL_LEN_PREFIX;
	funnel_hdr_encode(stream_buf + stream_len, &f);
	stream_len += FUNNEL_HDR_LEN;
	fill_body(stream_buf + stream_len, body_len, flow);
	stream_len += body_len;
	return start;
}

/* Feed p[0..n) to d, recording frames; returns the last status. */
static enum funnel_deframe_status feed(struct funnel_deframer *d,
				       const uint8_t *p, size_t n)
{
	enum funnel_deframe_status st;
	const uint8_t *f;
	size_t fl;

	while ((st = funnel_deframe(d, &p, &n, &f, &fl)) ==
	       FUNNEL_DEFRAME_FRAME) {
		assert_true(got.count < MAX_FRAMES);
		assert_true(fl >= FUNNEL_HDR_LEN && fl <= FUNNEL_MAX_FRAME);
		memcpy(got.data + got.used, f, fl);
		got.off[got.count] = got.used;
		got.len[got.count] = fl;
		got.count++;
		got.used += fl;
	}
	if (st == FUNNEL_DEFRAME_NEED_MORE)
		assert_int_equal(n, 0);
	return st;
}

/* The recorded frames must be exactly the frames of the stream. */
static void check_got_stream(void)
{
	size_t off = 0, i = 0;
	size_t flen;

	while (off < stream_len) {
		flen = (size_t)stream_buf[off] << 8 | stream_buf[off + 1];
		assert_true(i < got.count);
		assert_int_equal(got.len[i], flen);
		assert_memory_equal(got.data + got.off[i],
				    stream_buf + off + FUNNEL_LEN_PREFIX, flen);
		off += FUNNEL_LEN_PREFIX + flen;
		i++;
	}
	assert_int_equal(i, got.count);
}

/* Feed the stream in chunks of the given sizes (cycled). */
static void feed_chunks(const size_t *sizes, size_t nsizes)
{
	struct funnel_deframer d;
	size_t off = 0, k = 0, n;

	assert_int_equal(funnel_deframer_init(&d, dbuf, sizeof(dbuf)), 0);
	while (off < stream_len) {
		n = sizes[k++ % nsizes];
		if (n > stream_len - off)
			n = stream_len - off;
		assert_int_equal(feed(&d, stream_buf + off, n),
				 FUNNEL_DEFRAME_NEED_MORE);
		off += n;
	}
	assert_int_equal(funnel_deframer_pending(&d), 0);
	check_got_stream();
}

static void make_frame(uint8_t *buf, uint16_t stream, uint8_t type,
		       uint8_t flags, uint32_t flow)
{
	struct funnel_frame f = {
		.stream = stream, .type = type, .flags = flags, .flow = flow,
	};

	funnel_hdr_encode(buf, &f);
}

static enum funnel_verdict parse_one(uint16_t stream, uint8_t type,
				     uint8_t flags, size_t body_len)
{
	struct funnel_frame f;

	make_frame(frame_buf, stream, type, flags, 7);
	memset(frame_buf + FUNNEL_HDR_LEN, 0xa5, body_len);
	return funnel_frame_parse(frame_buf, FUNNEL_HDR_LEN + body_len, &f);
}

/* ---- header ---- */

static void test_hdr_layout(void **state)
{
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x05, 0xde, 0xad, 0xbe, 0xef,
	};
	uint8_t out[FUNNEL_HDR_LEN];

	(void)state;
	make_frame(out, 0x1234, FUNNEL_T_CTRL,
		   FUNNEL_F_UNORDERED | FUNNEL_F_KEY_PHASE, 0xdeadbeef);
	assert_memory_equal(out, want, sizeof(want));
}

static void test_hdr_roundtrip(void **state)
{
	static const uint16_t streams[] = { 0, 1, 2, 0x0100, 0xfffe, 0xffff };
	static const uint32_t flows[] = { 0, 1, 0x80000000, 0xffffffff, 0x01020304 };
	uint8_t buf[FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD];
	struct funnel_frame in, out;
	unsigned int i = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (unsigned int type = 0; type <= 0xff; type++) {
		for (unsigned int flags = 0; flags <= 0xff; flags++, i++) {
			in = (struct funnel_frame){
				.stream = streams[i % 6], .type = (uint8_t)type,
				.flags = (uint8_t)flags, .flow = flows[i % 5],
			};
			funnel_hdr_encode(buf, &in);
			funnel_frame_parse(buf, sizeof(buf), &out);
			assert_int_equal(out.stream, in.stream);
			assert_int_equal(out.type, in.type);
			assert_int_equal(out.flags, in.flags);
			assert_int_equal(out.flow, in.flow);
			assert_ptr_equal(out.body, buf + FUNNEL_HDR_LEN);
			assert_int_equal(out.body_len, FUNNEL_SEAL_OVERHEAD);
		}
	}
}

static void test_len_prefix(void **state)
{
	uint8_t p[2] = { 0x55, 0x55 };

	(void)state;
	assert_int_equal(funnel_len_prefix_encode(p, 0), -1);
	assert_int_equal(funnel_len_prefix_encode(p, FUNNEL_HDR_LEN - 1), -1);
	assert_int_equal(funnel_len_prefix_encode(p, FUNNEL_MAX_FRAME + 1), -1);
	assert_int_equal(p[0], 0x55);
	assert_int_equal(funnel_len_prefix_encode(p, FUNNEL_HDR_LEN), 0);
	assert_int_equal(p[0], 0x00);
	assert_int_equal(p[1], 0x08);
	assert_int_equal(funnel_len_prefix_encode(p, 0x1234), 0);
	assert_int_equal(p[0], 0x12);
	assert_int_equal(p[1], 0x34);
	assert_int_equal(funnel_len_prefix_encode(p, FUNNEL_MAX_FRAME), 0);
	assert_int_equal(p[0], 0xff);
	assert_int_equal(p[1], 0xff);
}

/* ---- verdicts ---- */

static void test_parse_ok(void **state)
{
	struct funnel_frame f;

	(void)state;
	assert_int_equal(parse_one(1, FUNNEL_T_DATA, 0, 0), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(1, FUNNEL_T_DATA, FUNNEL_F_UNORDERED, 100),
			 FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(0, FUNNEL_T_CTRL, 0, 5), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(9, FUNNEL_T_CTRL, 0, 0), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(3, FUNNEL_T_FLOW_END, 0, 0), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(0, FUNNEL_T_FLOW_END, 0, 0), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(1, FUNNEL_T_DATA,
				   FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE,
				   FUNNEL_SEAL_OVERHEAD), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(0, FUNNEL_T_CTRL, FUNNEL_F_SEALED,
				   FUNNEL_SEAL_OVERHEAD + 1), FUNNEL_FRAME_OK);
	/* a stream's own CTRL frames (GSS-API tokens) are never sealed */
	assert_int_equal(parse_one(9, FUNNEL_T_CTRL, FUNNEL_F_SEALED,
				   FUNNEL_SEAL_OVERHEAD + 1),
			 FUNNEL_FRAME_MALFORMED);
	assert_int_equal(parse_one(9, FUNNEL_T_CTRL, FUNNEL_F_KEY_PHASE, 4),
			 FUNNEL_FRAME_MALFORMED);
	assert_int_equal(parse_one(0xffff, FUNNEL_T_DATA, 0x07,
				   FUNNEL_MAX_PAYLOAD), FUNNEL_FRAME_OK);

	make_frame(frame_buf, 42, FUNNEL_T_DATA, 0, 0x01020304);
	memcpy(frame_buf + FUNNEL_HDR_LEN, "hello", 5);
	assert_int_equal(funnel_frame_parse(frame_buf, FUNNEL_HDR_LEN + 5, &f),
			 FUNNEL_FRAME_OK);
	assert_int_equal(f.stream, 42);
	assert_int_equal(f.flow, 0x01020304);
	assert_int_equal(f.body_len, 5);
	assert_memory_equal(f.body, "hello", 5);
}

static void test_parse_too_short(void **state)
{
	struct funnel_frame f;

	(void)state;
	memset(frame_buf, 0, FUNNEL_HDR_LEN);
	frame_buf[1] = 1;
	for (size_t len = 0; len < FUNNEL_HDR_LEN; len++)
		assert_int_equal(funnel_frame_parse(frame_buf, len, &f),
				 FUNNEL_FRAME_TOO_SHORT);
	assert_int_equal(funnel_frame_parse(NULL, 0, &f),
			 FUNNEL_FRAME_TOO_SHORT);
	assert_int_equal(funnel_frame_parse(frame_buf, FUNNEL_HDR_LEN, &f),
			 FUNNEL_FRAME_OK);
}

static void test_parse_reserved_flags(void **state)
{
	(void)state;
	for (unsigned int bit = 4; bit < 8; bit++)
		assert_int_equal(parse_one(1, FUNNEL_T_DATA, (uint8_t)(1U << bit),
					   4), FUNNEL_FRAME_MALFORMED);
	assert_int_equal(parse_one(1, FUNNEL_T_DATA, FUNNEL_F_RESERVED, 4),
			 FUNNEL_FRAME_MALFORMED);
	/* Checked before the type: reserved bits on an unknown type. */
	assert_int_equal(parse_one(1, 7, 0x80, 4), FUNNEL_FRAME_MALFORMED);
}

static void test_parse_data_on_ctrl_stream(void **state)
{
	(void)state;
	assert_int_equal(parse_one(FUNNEL_CTRL_STREAM, FUNNEL_T_DATA, 0, 10),
			 FUNNEL_FRAME_MALFORMED);
	assert_int_equal(parse_one(FUNNEL_CTRL_STREAM, FUNNEL_T_DATA, 0, 0),
			 FUNNEL_FRAME_MALFORMED);
}

static void test_parse_flow_end_body(void **state)
{
	(void)state;
	assert_int_equal(parse_one(2, FUNNEL_T_FLOW_END, 0, 1),
			 FUNNEL_FRAME_MALFORMED);
	assert_int_equal(parse_one(2, FUNNEL_T_FLOW_END, FUNNEL_F_UNORDERED,
				   500), FUNNEL_FRAME_MALFORMED);
	/* Sealed (keyed ordered streams): exactly counter and tag. */
	for (size_t n = 0; n < 60; n++)
		assert_int_equal(parse_one(2, FUNNEL_T_FLOW_END, FUNNEL_F_SEALED,
					   n),
				 n == FUNNEL_SEAL_OVERHEAD ? FUNNEL_FRAME_OK :
				 FUNNEL_FRAME_MALFORMED);
}

/* R (reset) is a flag of FLOW_END alone, sealed or not. */
static void test_parse_reset_flag(void **state)
{
	(void)state;
	assert_int_equal(parse_one(2, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 0),
			 FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(2, FUNNEL_T_FLOW_END,
				   FUNNEL_F_RESET | FUNNEL_F_SEALED,
				   FUNNEL_SEAL_OVERHEAD), FUNNEL_FRAME_OK);
	assert_int_equal(parse_one(2, FUNNEL_T_DATA, FUNNEL_F_RESET, 4),
			 FUNNEL_FRAME_MALFORMED);
	assert_int_equal(parse_one(0, FUNNEL_T_CTRL, FUNNEL_F_RESET, 4),
			 FUNNEL_FRAME_MALFORMED);
}

static void test_parse_sealed_short(void **state)
{
	(void)state;
	for (size_t n = 0; n < FUNNEL_SEAL_OVERHEAD; n++) {
		assert_int_equal(parse_one(1, FUNNEL_T_DATA, FUNNEL_F_SEALED, n),
				 FUNNEL_FRAME_MALFORMED);
		assert_int_equal(parse_one(0, FUNNEL_T_CTRL, FUNNEL_F_SEALED, n),
				 FUNNEL_FRAME_MALFORMED);
	}
	assert_int_equal(parse_one(1, FUNNEL_T_DATA, FUNNEL_F_SEALED,
				   FUNNEL_SEAL_OVERHEAD), FUNNEL_FRAME_OK);
}

static void test_parse_unknown_type(void **state)
{
	(void)state;
	for (unsigned int t = 3; t <= 0xff; t++) {
		assert_int_equal(parse_one(1, (uint8_t)t, 0, 3),
				 FUNNEL_FRAME_UNKNOWN_TYPE);
		/* Unknown type comes before the per-type body rules. */
		assert_int_equal(parse_one(0, (uint8_t)t, FUNNEL_F_SEALED, 0),
				 FUNNEL_FRAME_UNKNOWN_TYPE);
	}
}

static void test_parse_oversize(void **state)
{
	static uint8_t big[FUNNEL_MAX_FRAME + 1];
	struct funnel_frame f;

	(void)state;
	make_frame(big, 1, FUNNEL_T_DATA, 0, 1);
	assert_int_equal(funnel_frame_parse(big, FUNNEL_MAX_FRAME, &f),
			 FUNNEL_FRAME_OK);
	assert_int_equal(f.body_len, FUNNEL_MAX_PAYLOAD);
	assert_int_equal(funnel_frame_parse(big, sizeof(big), &f),
			 FUNNEL_FRAME_MALFORMED);
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(funnel_verdict_name(FUNNEL_FRAME_OK), "ok");
	assert_string_equal(funnel_verdict_name(FUNNEL_FRAME_TOO_SHORT),
			    "too-short");
	assert_string_equal(funnel_verdict_name(FUNNEL_FRAME_MALFORMED),
			    "malformed");
	assert_string_equal(funnel_verdict_name(FUNNEL_FRAME_UNKNOWN_TYPE),
			    "unknown-type");
	assert_string_equal(funnel_verdict_name((enum funnel_verdict)99), "?");
}

/* ---- deframer ---- */

static void test_deframer_init(void **state)
{
	struct funnel_deframer d;
	uint8_t small[FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN];

	(void)state;
	assert_int_equal(funnel_deframer_init(&d, NULL, 100), -1);
	assert_int_equal(funnel_deframer_init(&d, small, sizeof(small) - 1), -1);
	assert_int_equal(funnel_deframer_init(&d, small, sizeof(small)), 0);
	assert_int_equal(funnel_deframer_pending(&d), 0);
}

static void test_deframe_empty_input(void **state)
{
	struct funnel_deframer d;
	const uint8_t *p = NULL, *f = NULL;
	size_t n = 0, fl = 0;

	(void)state;
	funnel_deframer_init(&d, dbuf, sizeof(dbuf));
	assert_int_equal(funnel_deframe(&d, &p, &n, &f, &fl),
			 FUNNEL_DEFRAME_NEED_MORE);
	assert_int_equal(funnel_deframer_pending(&d), 0);
}

static void test_deframe_whole_zero_copy(void **state)
{
	struct funnel_deframer d;
	const uint8_t *p, *f;
	size_t n, fl;

	(void)state;
	stream_reset();
	stream_add(5, FUNNEL_T_DATA, 0, 9, 33);
	funnel_deframer_init(&d, dbuf, sizeof(dbuf));
	p = stream_buf;
	n = stream_len;
	assert_int_equal(funnel_deframe(&d, &p, &n, &f, &fl),
			 FUNNEL_DEFRAME_FRAME);
	assert_ptr_equal(f, stream_buf + FUNNEL_LEN_PREFIX);
	assert_int_equal(fl, FUNNEL_HDR_LEN + 33);
	assert_int_equal(n, 0);
	assert_ptr_equal(p, stream_buf + stream_len);
	assert_int_equal(funnel_deframe(&d, &p, &n, &f, &fl),
			 FUNNEL_DEFRAME_NEED_MORE);
}

static void build_mixed_stream(size_t nframes)
{
	stream_reset();
	for (size_t i = 0; i < nframes; i++)
		stream_add((uint16_t)(i % 7 + 1), FUNNEL_T_DATA,
			   FUNNEL_F_UNORDERED, (uint32_t)i, (i * 37) % 300);
}

static void test_deframe_many_in_one_chunk(void **state)
{
	size_t all;

	(void)state;
	build_mixed_stream(200);
	all = stream_len;
	feed_chunks(&all, 1);
	assert_int_equal(got.count, 200);
}

static void test_deframe_one_byte_at_a_time(void **state)
{
	static const size_t one = 1;

	(void)state;
	build_mixed_stream(50);
	feed_chunks(&one, 1);
	assert_int_equal(got.count, 50);
}

static void test_deframe_split_prefix(void **state)
{
	struct funnel_deframer d;

	(void)state;
	stream_reset();
	stream_add(1, FUNNEL_T_DATA, 0, 1, 10);
	stream_add(2, FUNNEL_T_CTRL, 0, 0, 0);
	funnel_deframer_init(&d, dbuf, sizeof(dbuf));
	/* First frame and one byte of the second frame's prefix. */
	assert_int_equal(feed(&d, stream_buf, FUNNEL_LEN_PREFIX +
			      FUNNEL_HDR_LEN + 10 + 1),
			 FUNNEL_DEFRAME_NEED_MORE);
	assert_int_equal(got.count, 1);
	assert_int_equal(funnel_deframer_pending(&d), 1);
	assert_int_equal(feed(&d, stream_buf + FUNNEL_LEN_PREFIX +
			      FUNNEL_HDR_LEN + 10 + 1,
			      stream_len - (FUNNEL_LEN_PREFIX +
					    FUNNEL_HDR_LEN + 10 + 1)),
			 FUNNEL_DEFRAME_NEED_MORE);
	assert_int_equal(funnel_deframer_pending(&d), 0);
	check_got_stream();
}

static void test_deframe_chunk_patterns(void **state)
{
	static const size_t patterns[][4] = {
		{ 2, 2, 2, 2 },		/* prefix-sized */
		{ 3, 5, 7, 11 },
		{ 9, 1, 1, 1 },
		{ 10, 10, 10, 10 },	/* prefix + header */
		{ 311, 1, 2, 4096 },
		{ 1, 65536, 1, 1 },
	};

	(void)state;
	build_mixed_stream(300);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		got.count = 0;
		got.used = 0;
		feed_chunks(patterns[i], 4);
	}
}

static void test_deframe_random_chunks(void **state)
{
	size_t sizes[64];
	uint32_t x = 12345;

	(void)state;
	build_mixed_stream(400);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < 64; i++) {
			x = x * 1103515245 + 12345;
			sizes[i] = (x >> 16) % (round < 25 ? 16 : 700) + 1;
		}
		got.count = 0;
		got.used = 0;
		feed_chunks(sizes, 64);
		assert_int_equal(got.count, 400);
	}
}

static void test_deframe_max_frame(void **state)
{
	static const size_t whole = 2 * (FUNNEL_LEN_PREFIX + FUNNEL_MAX_FRAME) +
		FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN;
	static const size_t chunked[] = { 1000 };
	static const size_t odd[] = { 1, 65535, 3 };
	static const size_t bytes[] = { 1 };

	(void)state;
	stream_reset();
	stream_add(1, FUNNEL_T_DATA, 0, 1, FUNNEL_MAX_PAYLOAD);
	stream_add(2, FUNNEL_T_CTRL, 0, 2, 0);
	stream_add(3, FUNNEL_T_DATA, FUNNEL_F_SEALED, 3, FUNNEL_MAX_PAYLOAD);
	assert_int_equal(stream_len, whole);
	feed_chunks(&whole, 1);
	assert_int_equal(got.count, 3);
	assert_int_equal(got.len[0], FUNNEL_MAX_FRAME);

	got.count = got.used = 0;
	feed_chunks(chunked, 1);
	got.count = got.used = 0;
	feed_chunks(odd, 3);
	got.count = got.used = 0;
	feed_chunks(bytes, 1);
	assert_int_equal(got.count, 3);
}

static void test_deframe_bad_length(void **state)
{
	const uint8_t *p, *f;
	struct funnel_deframer d;
	size_t n, fl;

	(void)state;
	for (unsigned int bad = 0; bad < FUNNEL_HDR_LEN; bad++) {
		stream_reset();
		stream_add(1, FUNNEL_T_DATA, 0, 1, 4);
		stream_buf[stream_len++] = 0;
		stream_buf[stream_len++] = (uint8_t)bad;
		memset(stream_buf + stream_len, 0, 16);
		stream_len += 16;

		/* Whole: the good frame first, then the error. */
		funnel_deframer_init(&d, dbuf, sizeof(dbuf));
		assert_int_equal(feed(&d, stream_buf, stream_len),
				 FUNNEL_DEFRAME_BAD_LENGTH);
		assert_int_equal(got.count, 1);
		/* Sticky. */
		p = stream_buf;
		n = stream_len;
		assert_int_equal(funnel_deframe(&d, &p, &n, &f, &fl),
				 FUNNEL_DEFRAME_BAD_LENGTH);

		/* One byte at a time: the error when the prefix completes. */
		got.count = got.used = 0;
		funnel_deframer_init(&d, dbuf, sizeof(dbuf));
		for (size_t i = 0; i < FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN + 4 + 1; i++)
			assert_int_equal(feed(&d, stream_buf + i, 1),
					 FUNNEL_DEFRAME_NEED_MORE);
		assert_int_equal(feed(&d, stream_buf + FUNNEL_LEN_PREFIX +
				      FUNNEL_HDR_LEN + 4 + 1, 1),
				 FUNNEL_DEFRAME_BAD_LENGTH);
		assert_int_equal(got.count, 1);

		/* Reset makes it usable again. */
		funnel_deframer_reset(&d);
		got.count = got.used = 0;
		assert_int_equal(feed(&d, stream_buf, FUNNEL_LEN_PREFIX +
				      FUNNEL_HDR_LEN + 4),
				 FUNNEL_DEFRAME_NEED_MORE);
		assert_int_equal(got.count, 1);
	}
}

static void test_deframe_truncated(void **state)
{
	struct funnel_deframer d;
	size_t full;

	(void)state;
	stream_reset();
	stream_add(1, FUNNEL_T_DATA, 0, 1, 100);
	full = stream_len;
	stream_add(1, FUNNEL_T_DATA, 0, 2, 100);

	/* EOF inside the second frame's body. */
	funnel_deframer_init(&d, dbuf, sizeof(dbuf));
	assert_int_equal(feed(&d, stream_buf, stream_len - 1),
			 FUNNEL_DEFRAME_NEED_MORE);
	assert_int_equal(got.count, 1);
	assert_int_equal(funnel_deframer_pending(&d), stream_len - full - 1);

	/* EOF inside the header. */
	got.count = got.used = 0;
	funnel_deframer_init(&d, dbuf, sizeof(dbuf));
	assert_int_equal(feed(&d, stream_buf, full + FUNNEL_LEN_PREFIX + 3),
			 FUNNEL_DEFRAME_NEED_MORE);
	assert_int_equal(got.count, 1);
	assert_int_equal(funnel_deframer_pending(&d), FUNNEL_LEN_PREFIX + 3);

	/* EOF after half a prefix. */
	got.count = got.used = 0;
	funnel_deframer_init(&d, dbuf, sizeof(dbuf));
	assert_int_equal(feed(&d, stream_buf, full + 1),
			 FUNNEL_DEFRAME_NEED_MORE);
	assert_int_equal(got.count, 1);
	assert_int_equal(funnel_deframer_pending(&d), 1);
}

static void test_deframe_oversize(void **state)
{
	uint8_t small[FUNNEL_LEN_PREFIX + 100];
	enum funnel_deframe_status st = FUNNEL_DEFRAME_NEED_MORE;
	struct funnel_deframer d;
	size_t i;

	(void)state;
	stream_reset();
	stream_add(1, FUNNEL_T_DATA, 0, 1, 100 - FUNNEL_HDR_LEN);	/* fits */
	stream_add(1, FUNNEL_T_DATA, 0, 2, 101 - FUNNEL_HDR_LEN);	/* not */

	funnel_deframer_init(&d, small, sizeof(small));
	assert_int_equal(feed(&d, stream_buf, stream_len),
			 FUNNEL_DEFRAME_OVERSIZE);
	assert_int_equal(got.count, 1);

	/* One byte at a time: the error when the second prefix completes. */
	got.count = got.used = 0;
	funnel_deframer_init(&d, small, sizeof(small));
	for (i = 0; i < stream_len && st == FUNNEL_DEFRAME_NEED_MORE; i++)
		st = feed(&d, stream_buf + i, 1);
	assert_int_equal(st, FUNNEL_DEFRAME_OVERSIZE);
	assert_int_equal(i, FUNNEL_LEN_PREFIX + 100 + FUNNEL_LEN_PREFIX);
	assert_int_equal(got.count, 1);
}

/* ---- preamble ---- */

static void test_preamble(void **state)
{
	uint8_t p[FUNNEL_PREAMBLE_LEN + 4];

	(void)state;
	memcpy(p, FUNNEL_PREAMBLE, FUNNEL_PREAMBLE_LEN);
	assert_int_equal(p[6], FUNNEL_WIRE_VERSION);
	assert_int_equal(p[7], 0);
	assert_int_equal(funnel_preamble_check(p, FUNNEL_PREAMBLE_LEN),
			 FUNNEL_PREAMBLE_OK);
	/* Bytes after the preamble are not its business. */
	memset(p + FUNNEL_PREAMBLE_LEN, 0xff, 4);
	assert_int_equal(funnel_preamble_check(p, sizeof(p)),
			 FUNNEL_PREAMBLE_OK);
	for (size_t n = 0; n < FUNNEL_PREAMBLE_LEN; n++)
		assert_int_equal(funnel_preamble_check(p, n),
				 FUNNEL_PREAMBLE_NEED_MORE);
	assert_int_equal(funnel_preamble_check(NULL, 0),
			 FUNNEL_PREAMBLE_NEED_MORE);
}

static void test_preamble_bad(void **state)
{
	uint8_t p[FUNNEL_PREAMBLE_LEN];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		memcpy(p, FUNNEL_PREAMBLE, sizeof(p));
		p[i] ^= 0x20;	/* "funnel" is not "FUNNEL" */
		assert_int_equal(funnel_preamble_check(p, sizeof(p)),
				 FUNNEL_PREAMBLE_BAD_MAGIC);
		/* Known as soon as the byte arrives. */
		assert_int_equal(funnel_preamble_check(p, i + 1),
				 FUNNEL_PREAMBLE_BAD_MAGIC);
		if (i)
			assert_int_equal(funnel_preamble_check(p, i),
					 FUNNEL_PREAMBLE_NEED_MORE);
	}
	memcpy(p, "GET / HTTP/1.1", sizeof(p));
	assert_int_equal(funnel_preamble_check(p, sizeof(p)),
			 FUNNEL_PREAMBLE_BAD_MAGIC);

	memcpy(p, FUNNEL_PREAMBLE, sizeof(p));
	p[6] = 0;
	assert_int_equal(funnel_preamble_check(p, sizeof(p)),
			 FUNNEL_PREAMBLE_BAD_VERSION);
	p[6] = FUNNEL_WIRE_VERSION + 1;
	assert_int_equal(funnel_preamble_check(p, 7),
			 FUNNEL_PREAMBLE_BAD_VERSION);
	p[7] = 1;	/* version is checked first */
	assert_int_equal(funnel_preamble_check(p, sizeof(p)),
			 FUNNEL_PREAMBLE_BAD_VERSION);

	memcpy(p, FUNNEL_PREAMBLE, sizeof(p));
	p[7] = 0x80;
	assert_int_equal(funnel_preamble_check(p, sizeof(p)),
			 FUNNEL_PREAMBLE_BAD_RESERVED);
	assert_int_equal(funnel_preamble_check(p, 7), FUNNEL_PREAMBLE_NEED_MORE);

	p[0] = 'X';	/* magic is checked first */
	assert_int_equal(funnel_preamble_check(p, sizeof(p)),
			 FUNNEL_PREAMBLE_BAD_MAGIC);
}

static void test_preamble_names(void **state)
{
	(void)state;
	assert_string_equal(funnel_preamble_verdict_name(FUNNEL_PREAMBLE_OK), "ok");
	assert_string_equal(funnel_preamble_verdict_name(FUNNEL_PREAMBLE_NEED_MORE),
			    "need-more");
	assert_string_equal(funnel_preamble_verdict_name(FUNNEL_PREAMBLE_BAD_MAGIC),
			    "bad-magic");
	assert_string_equal(funnel_preamble_verdict_name(FUNNEL_PREAMBLE_BAD_VERSION),
			    "bad-version");
	assert_string_equal(funnel_preamble_verdict_name(FUNNEL_PREAMBLE_BAD_RESERVED),
			    "bad-reserved");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_layout),
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_len_prefix),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_too_short),
		cmocka_unit_test(test_parse_reserved_flags),
		cmocka_unit_test(test_parse_data_on_ctrl_stream),
		cmocka_unit_test(test_parse_flow_end_body),
		cmocka_unit_test(test_parse_reset_flag),
		cmocka_unit_test(test_parse_sealed_short),
		cmocka_unit_test(test_parse_unknown_type),
		cmocka_unit_test(test_parse_oversize),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_deframer_init),
		cmocka_unit_test(test_deframe_empty_input),
		cmocka_unit_test(test_deframe_whole_zero_copy),
		cmocka_unit_test(test_deframe_many_in_one_chunk),
		cmocka_unit_test(test_deframe_one_byte_at_a_time),
		cmocka_unit_test(test_deframe_split_prefix),
		cmocka_unit_test(test_deframe_chunk_patterns),
		cmocka_unit_test(test_deframe_random_chunks),
		cmocka_unit_test(test_deframe_max_frame),
		cmocka_unit_test(test_deframe_bad_length),
		cmocka_unit_test(test_deframe_truncated),
		cmocka_unit_test(test_deframe_oversize),
		cmocka_unit_test(test_preamble),
		cmocka_unit_test(test_preamble_bad),
		cmocka_unit_test(test_preamble_names),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
