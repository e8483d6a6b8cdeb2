// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/datapath/plugseq.c, the plugin streams'
 * sub-header and ordering rules (Documentation/plugins.md section 5):
 *
 *   - the sub-header: encoded and decoded alike; reserved bits, a body
 *     shorter than 8 bytes and B with an After refused with a reason
 *   - the sender: After is the distance to the operation's last frame or
 *     the last barrier, whichever is later; LAST forgets the operation;
 *     a message's pieces have After 1; an operation that finds its slot
 *     held by another in progress goes as a barrier; plain bytes are
 *     barriers
 *   - the receiver: a frame waits for its dependency, and only for it (a
 *     later operation's frame goes first); a barrier waits for every
 *     lower Sequence; nothing is written between a message's pieces; a
 *     replay is told apart; a frame beyond the window, a piece with the
 *     wrong After and Sequence 0 again are refused with a reason
 *   - the peer's flow ids (pseq_idwin): no bitmap until an id is seen;
 *     an id is new iff above the newest
 *     or in the window of 65536 below it and never seen; out of order,
 *     sliding, jumps past the window, below it, across 2^32, and
 *     against a literal model
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "funneld/datapath/plugseq.h"

static void test_hdr(void **state)
{
	struct pseq_hdr h = { .seq = 0x01020304, .after = 0xabcdef,
			      .more = true }, g;
	uint8_t p[PSEQ_HDR_LEN];
	char why[PSEQ_WHY_MAX];

	(void)state;
	pseq_hdr_put(p, &h);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[3], 4);
	assert_int_equal(p[4], PSEQ_F_MORE);
	assert_int_equal(p[5], 0xab);
	assert_int_equal(pseq_hdr_get(p, sizeof(p), &g, why, sizeof(why)), 0);
	assert_int_equal(g.seq, h.seq);
	assert_int_equal(g.after, h.after);
	assert_true(g.more);
	assert_false(g.barrier);

	assert_int_equal(pseq_hdr_get(p, 7, &g, why, sizeof(why)), -1);
	assert_string_equal(why,
			    "frame body of 7 bytes: shorter than the 8-byte sub-header");
	p[4] |= 0x04;
	assert_int_equal(pseq_hdr_get(p, sizeof(p), &g, why, sizeof(why)), -1);
	assert_string_equal(why, "reserved bits 0x04 set in the sub-header");
	p[4] = PSEQ_F_BARRIER;
	assert_int_equal(pseq_hdr_get(p, sizeof(p), &g, why, sizeof(why)), -1);
	assert_string_equal(why,
			    "Sequence 16909060: a barrier (B) with After 11259375");
}

static void test_tx(void **state)
{
	struct pseq_tx *t = malloc(sizeof(*t));
	struct pseq_hdr h;

	(void)state;
	assert_non_null(t);
	pseq_tx_init(t);
	pseq_tx_msg(t, 1, PSEQ_FREE, false, &h);	/* 1: op 1 */
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.after, 0);
	assert_false(h.barrier);
	pseq_tx_msg(t, 2, PSEQ_FREE, false, &h);	/* 2: op 2 */
	assert_int_equal(h.after, 0);
	pseq_tx_msg(t, 1, PSEQ_FREE, false, &h);	/* 3: after 1 */
	assert_int_equal(h.seq, 3);
	assert_int_equal(h.after, 2);
	pseq_tx_msg(t, 9, PSEQ_BARRIER, false, &h);	/* 4: barrier */
	assert_true(h.barrier);
	assert_int_equal(h.after, 0);
	pseq_tx_msg(t, 3, PSEQ_FREE, false, &h);	/* 5: after the barrier */
	assert_int_equal(h.after, 1);
	pseq_tx_msg(t, 1, PSEQ_FREE | PSEQ_LAST, false, &h); /* 6: after 4 */
	assert_int_equal(h.after, 2);
	pseq_tx_msg(t, 1, PSEQ_FREE, false, &h);	/* 7: op 1 forgotten */
	assert_int_equal(h.after, 3);			/* the barrier */
	/* a message in three frames: the pieces have After 1, the next
	 * message of its operation follows its last piece
	 */
	pseq_tx_msg(t, 3, PSEQ_FREE, true, &h);		/* 8: after 5 */
	assert_int_equal(h.after, 3);
	assert_true(h.more);
	pseq_tx_piece(t, true, &h);			/* 9 */
	assert_int_equal(h.seq, 9);
	assert_int_equal(h.after, 1);
	assert_true(h.more);
	pseq_tx_piece(t, false, &h);			/* 10 */
	assert_int_equal(h.after, 1);
	assert_false(h.more);
	pseq_tx_msg(t, 3, PSEQ_FREE, false, &h);	/* 11: after 10 */
	assert_int_equal(h.after, 1);
	/* op 5 and op 5 + 1024 share a slot: the second is a barrier
	 * while the first is in progress
	 */
	pseq_tx_msg(t, 5, PSEQ_FREE, false, &h);	/* 12 */
	pseq_tx_msg(t, 5 + PSEQ_OPS, PSEQ_FREE, false, &h); /* 13 */
	assert_true(h.barrier);
	/* ... and once a barrier came after op 5's frame, the slot is
	 * free again
	 */
	pseq_tx_msg(t, 5 + PSEQ_OPS, PSEQ_FREE, false, &h); /* 14 */
	assert_false(h.barrier);
	assert_int_equal(h.after, 1);
	pseq_tx_plain(t, &h);				/* 15 */
	assert_true(h.barrier);
	assert_int_equal(h.seq, 15);
	free(t);
}

/* Feed a frame; on DELIVER mark it delivered and record it. */
static int feed(struct pseq_rx *r, uint32_t seq, bool b, bool m,
		uint32_t after, uint32_t *out, unsigned int *nout)
{
	struct pseq_hdr h = { .seq = seq, .barrier = b, .more = m,
			      .after = after };
	char why[PSEQ_WHY_MAX];
	struct pseq_held *f;
	int res = pseq_rx_input(r, &h, NULL, 0, why, sizeof(why));

	if (res != PSEQ_RX_DELIVER)
		return res;
	out[(*nout)++] = seq;
	assert_int_equal(pseq_rx_delivered(r, &h, why, sizeof(why)), 0);
	while (pseq_rx_next(r, &f, why, sizeof(why)) == 1) {
		out[(*nout)++] = f->h.seq;
		assert_int_equal(pseq_rx_delivered(r, &f->h, why,
						   sizeof(why)), 0);
		free(f);
	}
	return res;
}

static void test_rx_order(void **state)
{
	struct pseq_rx r;
	uint32_t out[32];
	unsigned int n = 0;

	(void)state;
	pseq_rx_init(&r, 16);
	/* 1: op A, 2: op B, 3: op A after 1, 4: op B after 2 */
	assert_int_equal(feed(&r, 2, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);		/* B overtakes A */
	assert_int_equal(feed(&r, 4, false, false, 2, out, &n),
			 PSEQ_RX_DELIVER);
	assert_int_equal(feed(&r, 3, false, false, 2, out, &n),
			 PSEQ_RX_HOLD);			/* waits for 1 */
	assert_int_equal(r.nheld, 1);
	assert_int_equal(r.d, 0);
	assert_int_equal(feed(&r, 1, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);		/* then 3 */
	assert_int_equal(n, 4);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 4);
	assert_int_equal(out[2], 1);
	assert_int_equal(out[3], 3);
	assert_int_equal(r.d, 4);
	assert_null(r.bits);			/* freed once caught up */
	/* replays */
	assert_int_equal(feed(&r, 3, false, false, 0, out, &n),
			 PSEQ_RX_REPLAY);
	/* a barrier (7) waits for 5 and 6 */
	assert_int_equal(feed(&r, 7, true, false, 0, out, &n), PSEQ_RX_HOLD);
	assert_int_equal(feed(&r, 7, true, false, 0, out, &n),
			 PSEQ_RX_REPLAY);		/* held already */
	assert_int_equal(feed(&r, 6, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);
	assert_int_equal(feed(&r, 6, false, false, 0, out, &n),
			 PSEQ_RX_REPLAY);		/* delivered above d */
	assert_int_equal(n, 5);
	assert_int_equal(feed(&r, 5, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);
	assert_int_equal(n, 7);
	assert_int_equal(out[6], 7);
	assert_int_equal(r.d, 7);
	pseq_rx_fini(&r);
}

static void test_rx_pieces(void **state)
{
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h;
	struct pseq_rx r;
	uint32_t out[32];
	unsigned int n = 0;

	(void)state;
	pseq_rx_init(&r, 16);
	/* 1 (M), 2 (M, after 1), 3 (after 1): one message; 4 another op */
	assert_int_equal(feed(&r, 1, false, true, 0, out, &n),
			 PSEQ_RX_DELIVER);
	/* nothing else on the flow until the message's last piece */
	assert_int_equal(feed(&r, 4, false, false, 0, out, &n), PSEQ_RX_HOLD);
	assert_int_equal(feed(&r, 3, false, false, 1, out, &n), PSEQ_RX_HOLD);
	assert_int_equal(feed(&r, 2, false, true, 1, out, &n),
			 PSEQ_RX_DELIVER);
	assert_int_equal(n, 4);
	assert_int_equal(out[2], 3);
	assert_int_equal(out[3], 4);
	assert_false(r.chain);

	/* a piece with the wrong After */
	assert_int_equal(feed(&r, 5, false, true, 0, out, &n),
			 PSEQ_RX_DELIVER);
	h = (struct pseq_hdr){ .seq = 6, .after = 3 };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_ERR);
	assert_string_equal(why,
			    "Sequence 6 goes on with the message of 5 (M) but has After 3");
	pseq_rx_fini(&r);

	/* a piece delivered before its message's first frame */
	pseq_rx_init(&r, 16);
	n = 0;
	assert_int_equal(feed(&r, 2, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);
	h = (struct pseq_hdr){ .seq = 1, .more = true };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	assert_int_equal(pseq_rx_delivered(&r, &h, why, sizeof(why)), -1);
	assert_string_equal(why,
			    "Sequence 2 was delivered before the message of 1 (M) ended");
	pseq_rx_fini(&r);
}

static void test_rx_refused(void **state)
{
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h = { .seq = 17 };
	struct pseq_rx r;

	(void)state;
	pseq_rx_init(&r, 16);
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_ERR);
	assert_string_equal(why,
			    "Sequence 17 is 17 frames above the last delivered (0): at most 16 in flight");
	h.seq = 16;
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	h.seq = 0;
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_ERR);
	assert_string_equal(why,
			    "Sequence 0 again: the opening frame came already");
	/* far below: a replay, not a frame from the future */
	h.seq = 0x90000000U;
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_REPLAY);
	pseq_rx_fini(&r);
}

/* Held frames keep a copy of their bytes, freed with the receiver. */
static void test_rx_held_bytes(void **state)
{
	static const uint8_t body[5] = "hello";
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h = { .seq = 2, .after = 1 };
	struct pseq_held *f;
	struct pseq_rx r;

	(void)state;
	pseq_rx_init(&r, 16);
	assert_int_equal(pseq_rx_input(&r, &h, body, sizeof(body), why,
				       sizeof(why)), PSEQ_RX_HOLD);
	assert_int_equal(r.held_bytes, 5);
	h = (struct pseq_hdr){ .seq = 1 };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	assert_int_equal(pseq_rx_delivered(&r, &h, why, sizeof(why)), 0);
	assert_int_equal(pseq_rx_next(&r, &f, why, sizeof(why)), 1);
	assert_int_equal(f->len, 5);
	assert_memory_equal(f->body, body, 5);
	assert_int_equal(r.held_bytes, 0);
	free(f);
	/* one left held at the end: pseq_rx_fini() frees it */
	h = (struct pseq_hdr){ .seq = 5, .after = 1 };
	assert_int_equal(pseq_rx_input(&r, &h, body, sizeof(body), why,
				       sizeof(why)), PSEQ_RX_HOLD);
	pseq_rx_fini(&r);
}

/* Unordered: a flow's frames before its opening frame wait for it. */
static void test_rx_unopened(void **state)
{
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h = { .seq = 1 };
	struct pseq_held *f;
	struct pseq_rx r;

	(void)state;
	pseq_rx_init(&r, 16);
	pseq_rx_unopened(&r);
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_HOLD);
	assert_int_equal(pseq_rx_next(&r, &f, why, sizeof(why)), 0);
	pseq_rx_opened(&r);
	assert_int_equal(pseq_rx_next(&r, &f, why, sizeof(why)), 1);
	assert_int_equal(f->h.seq, 1);
	assert_int_equal(pseq_rx_delivered(&r, &f->h, why, sizeof(why)), 0);
	free(f);
	assert_int_equal(r.d, 1);
	pseq_rx_fini(&r);
}

/* ---- the peer's flow ids ---- */

static void test_idwin_basic(void **state)
{
	struct pseq_idwin w;

	(void)state;
	pseq_idwin_init(&w);
	/* review-keyed L2: no bitmap until an id is seen */
	assert_null(w.bits);
	assert_true(pseq_idwin_new(&w, 1));
	assert_true(pseq_idwin_new(&w, 0x80000000U));
	assert_null(w.bits);
	pseq_idwin_fini(&w);			/* nothing to free */
	pseq_idwin_init(&w);
	assert_int_equal(pseq_idwin_seen(&w, 5), 0);
	assert_non_null(w.bits);
	assert_int_equal(pseq_idwin_alloc(&w), 0);	/* there: kept */
	assert_false(pseq_idwin_new(&w, 5));
	/* below the newest, never seen: new (flows open out of order) */
	assert_true(pseq_idwin_new(&w, 4));
	assert_true(pseq_idwin_new(&w, 1));
	assert_true(pseq_idwin_new(&w, 6));
	pseq_idwin_seen(&w, 3);
	assert_int_equal(w.top, 5);
	assert_false(pseq_idwin_new(&w, 3));
	assert_true(pseq_idwin_new(&w, 4));
	/* 300 flows later (more than the old table of 256 ended ids) */
	for (uint32_t id = 6; id < 306; id++) {
		assert_true(pseq_idwin_new(&w, id));
		pseq_idwin_seen(&w, id);
	}
	assert_false(pseq_idwin_new(&w, 3));
	assert_false(pseq_idwin_new(&w, 5));
	assert_false(pseq_idwin_new(&w, 100));
	assert_true(pseq_idwin_new(&w, 4));
	assert_true(pseq_idwin_new(&w, 306));
	/* the window: (N - 65536, N] */
	pseq_idwin_seen(&w, 65536 + 4);
	assert_false(pseq_idwin_new(&w, 4));	/* N - 65536: below */
	assert_true(pseq_idwin_new(&w, 306));	/* in it, not seen */
	assert_false(pseq_idwin_new(&w, 305));	/* seen, still in it */
	pseq_idwin_seen(&w, 65536 + 305);
	assert_false(pseq_idwin_new(&w, 305));	/* now below */
	assert_true(pseq_idwin_new(&w, 306));
	/* the bits of ids that left the window are clear for their
	 * successors 65536 up
	 */
	assert_true(pseq_idwin_new(&w, 65536 + 100));
	/* a frame below the window marks nothing */
	pseq_idwin_seen(&w, 7);
	assert_int_equal(w.top, 65536 + 305);
	assert_true(pseq_idwin_new(&w, 65536 + 7));
	pseq_idwin_fini(&w);
	pseq_idwin_fini(&w);	/* twice: harmless */
}

/* A jump past the whole window forgets everything; 2^32 wraps. */
static void test_idwin_jump_wrap(void **state)
{
	struct pseq_idwin w;

	(void)state;
	pseq_idwin_init(&w);
	pseq_idwin_seen(&w, 10);
	pseq_idwin_seen(&w, 11);
	pseq_idwin_seen(&w, 200000);
	assert_false(pseq_idwin_new(&w, 11));		/* below now */
	assert_true(pseq_idwin_new(&w, 200000 - 10));
	assert_false(pseq_idwin_new(&w, 200000));
	pseq_idwin_fini(&w);

	/* across 2^32: 0xfffffff0 .. 0x10, skipping 0 as the sender does */
	pseq_idwin_init(&w);
	for (uint32_t id = 0xfffffff0U; id != 0x11; id++) {
		if (!id)
			continue;
		assert_true(pseq_idwin_new(&w, id));
		pseq_idwin_seen(&w, id);
		assert_false(pseq_idwin_new(&w, id));
	}
	assert_int_equal(w.top, 0x10);
	assert_false(pseq_idwin_new(&w, 0xfffffff0U));
	assert_false(pseq_idwin_new(&w, 0xffffffffU));
	assert_false(pseq_idwin_new(&w, 5));
	assert_true(pseq_idwin_new(&w, 0x11));
	assert_true(pseq_idwin_new(&w, 0xffffffe0U));	/* in, unseen */
	assert_false(pseq_idwin_new(&w, 0x10 - 65536));	/* below */
	assert_true(pseq_idwin_new(&w, 0x10 - 65535));
	/* half the space away: below (serial arithmetic) */
	assert_false(pseq_idwin_new(&w, 0x80000010U));
	pseq_idwin_fini(&w);
}

/* Random ids near a moving top, across 2^32, against a literal model. */
#define MODEL_SPAN	(1U << 19)

static void test_idwin_model(void **state)
{
	static uint8_t seen[MODEL_SPAN];	/* by id - base */
	const uint32_t base = 0xfffc0000U;
	uint32_t top = 0, x = 12345;
	bool any = false;
	struct pseq_idwin w;

	(void)state;
	memset(seen, 0, sizeof(seen));
	pseq_idwin_init(&w);
	for (int i = 0; i < 400000; i++) {
		uint32_t off, id;
		bool want;

		x = x * 1103515245U + 12345U;
		/* around the top, the window's edge, or a jump ahead */
		switch (x >> 28 & 7) {
		case 0:
			off = (top - base) + 1 + (x >> 8) % 70000;
			break;
		case 1:
			off = (top - base) - 65536 + (x >> 8) % 4 - 2;
			break;
		default:
			off = (top - base) - (x >> 8) % 66000 +
			      (x >> 4) % 16;
			break;
		}
		if (off >= MODEL_SPAN - 70000)
			break;
		id = base + off;
		want = !any || (int32_t)(id - top) > 0 ||
		       (top - id < 65536 && !seen[off]);
		assert_int_equal(pseq_idwin_new(&w, id), want);
		if (x & 0x100) {
			pseq_idwin_seen(&w, id);
			seen[off] = 1;
			if (!any || (int32_t)(id - top) > 0)
				top = id;
			any = true;
		}
	}
	/* the model walked across 2^32 */
	assert_true(top < base);
	pseq_idwin_fini(&w);
}

/*
 * Across the wrap with a window that is not a power of two (3 MiB:
 * 12288 frames): 0xfffffff5 and 4085 are 12288 apart modulo 2^32 but
 * distinct frames; and a barrier after the wrap (1) waits for
 * 0xffffffff, not for 0.
 */
/*
 * Across the wrap no frame may name Sequence 0 as its dependency (only
 * the opening frame has 0, and the sender skips it): refused, not held
 * for a frame that never comes (review-s9 L1).  Before the wrap, a
 * dependency on 0 (the opening frame) is met.
 */
static void test_rx_wrap_dep0(void **state)
{
	struct pseq_rx r;
	uint32_t out[64];
	unsigned int n = 0;

	(void)state;
	pseq_rx_init(&r, 1024);
	assert_int_equal(feed(&r, 2, false, false, 2, out, &n),
			 PSEQ_RX_DELIVER);
	pseq_rx_fini(&r);
	pseq_rx_init(&r, 1024);
	r.d = r.top = 0xfffffff0U;
	assert_int_equal(feed(&r, 3, false, false, 3, out, &n), PSEQ_RX_ERR);
	assert_int_equal(r.nheld, 0);
	pseq_rx_fini(&r);
}

static void test_rx_wrap(void **state)
{
	struct pseq_rx r;
	uint32_t out[64];
	unsigned int n = 0;

	(void)state;
	pseq_rx_init(&r, 12288);
	r.d = r.top = 0xfffffff0U;
	assert_int_equal(feed(&r, 0xfffffff5U, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);
	assert_int_equal(feed(&r, 4085, false, false, 0, out, &n),
			 PSEQ_RX_DELIVER);		/* not a replay */
	assert_int_equal(feed(&r, 4085, false, false, 0, out, &n),
			 PSEQ_RX_REPLAY);
	assert_int_equal(feed(&r, 2, true, false, 0, out, &n), PSEQ_RX_HOLD);
	assert_int_equal(feed(&r, 1, true, false, 0, out, &n), PSEQ_RX_HOLD);
	/* 3 after 0xfffffffe (After 5: 0 is skipped but counted) */
	assert_int_equal(feed(&r, 3, false, false, 5, out, &n), PSEQ_RX_HOLD);
	assert_int_equal(feed(&r, 4086, false, false, 1, out, &n),
			 PSEQ_RX_DELIVER);
	for (uint32_t q = 0xfffffff1U; q != 0; q++) {
		if (q == 0xfffffff5U)
			continue;
		assert_int_equal(feed(&r, q, false, false, 0, out, &n),
				 PSEQ_RX_DELIVER);
	}
	/* 0xfffffffe released 3, 0xffffffff the barriers 1 and 2 */
	assert_int_equal(n, 20);
	assert_int_equal(out[n - 5], 0xfffffffeU);
	assert_int_equal(out[n - 4], 3);
	assert_int_equal(out[n - 3], 0xffffffffU);
	assert_int_equal(out[n - 2], 1);
	assert_int_equal(out[n - 1], 2);
	assert_int_equal(r.d, 3);
	assert_int_equal(r.top, 4086);
	assert_int_equal(r.nheld, 0);
	pseq_rx_fini(&r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Held frames are found by Sequence and by dependency in hash tables,
 * not by walking them: 8190 frames wait for 2 (missing), 8192 more in
 * a chain from 1; holding them all, then releasing the chain behind the
 * blocked ones, takes milliseconds (a sorted list walked each time took
 * about 0.5 s).
 */
static void test_rx_held_many(void **state)
{
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h;
	struct pseq_held *f;
	struct pseq_rx r;
	uint32_t n = 0, want = 8193;
	double t0;

	(void)state;
	pseq_rx_init(&r, 16384);
	t0 = now_s();
	for (uint32_t q = 3; q <= 16384; q++) {
		h = (struct pseq_hdr){ .seq = q,
				       .after = q <= 8192 ? q - 2 :
				       q == 8193 ? 8192 : 1 };
		assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why,
					       sizeof(why)), PSEQ_RX_HOLD);
	}
	assert_int_equal(r.nheld, 16382);
	assert_int_equal(r.nempty, 16382);
	assert_int_equal(r.hsize, 16384);	/* grown to the window */
	h = (struct pseq_hdr){ .seq = 1 };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	assert_int_equal(pseq_rx_delivered(&r, &h, why, sizeof(why)), 0);
	while (pseq_rx_next(&r, &f, why, sizeof(why)) == 1) {
		assert_int_equal(f->h.seq, want);
		want++;
		n++;
		assert_int_equal(pseq_rx_delivered(&r, &f->h, why,
						   sizeof(why)), 0);
		free(f);
	}
	assert_int_equal(n, 8192);
	assert_int_equal(r.nheld, 8190);
	assert_true(now_s() - t0 < 0.5);
	pseq_rx_fini(&r);
}

/*
 * The tables follow what is held (review-lows L5): a window's worth of
 * frames held (3 waits for 2, which never comes; 4..16384 for 1), then
 * 1 comes and all but 3 go: the tables are back to 16 buckets, and 3 is
 * still found when 2 comes.
 */
static void test_rx_tables_shrink(void **state)
{
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h;
	struct pseq_held *f;
	struct pseq_rx r;
	uint32_t n = 0;

	(void)state;
	pseq_rx_init(&r, 16384);
	for (uint32_t q = 3; q <= 16384; q++) {
		h = (struct pseq_hdr){ .seq = q, .after = q == 3 ? 1 : q - 1 };
		assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why,
					       sizeof(why)), PSEQ_RX_HOLD);
	}
	assert_int_equal(r.hsize, 16384);
	h = (struct pseq_hdr){ .seq = 1 };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	assert_int_equal(pseq_rx_delivered(&r, &h, why, sizeof(why)), 0);
	while (pseq_rx_next(&r, &f, why, sizeof(why)) == 1) {
		assert_int_not_equal(f->h.seq, 3);
		n++;
		assert_int_equal(pseq_rx_delivered(&r, &f->h, why,
						   sizeof(why)), 0);
		free(f);
	}
	assert_int_equal(n, 16381);
	assert_int_equal(r.nheld, 1);
	assert_int_equal(r.hsize, 16);		/* not the 16384 of the peak */
	h = (struct pseq_hdr){ .seq = 2 };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	assert_int_equal(pseq_rx_delivered(&r, &h, why, sizeof(why)), 0);
	assert_int_equal(pseq_rx_next(&r, &f, why, sizeof(why)), 1);
	assert_int_equal(f->h.seq, 3);
	free(f);
	assert_int_equal(r.nheld, 0);
	assert_int_equal(r.hsize, 0);
	pseq_rx_fini(&r);
}

/* A held frame's cost: max(bytes, PSEQ_COST_MIN); empty ones apart. */
static void test_rx_held_cost(void **state)
{
	static const uint8_t body[300];
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h = { .seq = 2, .after = 1 };
	struct pseq_held *f;
	struct pseq_rx r;

	(void)state;
	pseq_rx_init(&r, 16);
	assert_int_equal(pseq_rx_input(&r, &h, body, 1, why, sizeof(why)),
			 PSEQ_RX_HOLD);
	h.seq = 3;
	assert_int_equal(pseq_rx_input(&r, &h, body, 300, why, sizeof(why)),
			 PSEQ_RX_HOLD);
	h.seq = 4;
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_HOLD);
	assert_int_equal(r.hsize, 16);		/* tables as small as that */
	assert_int_equal(r.held_cost, PSEQ_COST_MIN + 300);
	assert_int_equal(r.held_bytes, 301);
	assert_int_equal(r.nempty, 1);
	h = (struct pseq_hdr){ .seq = 1 };
	assert_int_equal(pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why)),
			 PSEQ_RX_DELIVER);
	assert_int_equal(pseq_rx_delivered(&r, &h, why, sizeof(why)), 0);
	assert_int_equal(pseq_rx_next(&r, &f, why, sizeof(why)), 1);
	assert_int_equal(r.held_cost, 300);
	free(f);
	pseq_rx_fini(&r);
	assert_int_equal(r.hsize, 0);
	assert_int_equal(r.held_cost, 0);
	assert_int_equal(r.nempty, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr),
		cmocka_unit_test(test_tx),
		cmocka_unit_test(test_rx_order),
		cmocka_unit_test(test_rx_pieces),
		cmocka_unit_test(test_rx_refused),
		cmocka_unit_test(test_rx_held_bytes),
		cmocka_unit_test(test_rx_unopened),
		cmocka_unit_test(test_idwin_basic),
		cmocka_unit_test(test_idwin_jump_wrap),
		cmocka_unit_test(test_idwin_model),
		cmocka_unit_test(test_rx_wrap),
		cmocka_unit_test(test_rx_wrap_dep0),
		cmocka_unit_test(test_rx_held_many),
		cmocka_unit_test(test_rx_held_cost),
		cmocka_unit_test(test_rx_tables_shrink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
