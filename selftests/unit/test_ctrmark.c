// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/sec/ctrmark.c, the receive side of counter
 * marks (control-protocol.md MARK, plugins.md 5.4):
 *
 *   - in order: low follows, no bitmap is ever allocated
 *   - a gap: low jumps over the counters authenticated above it once
 *     the hole fills; a counter seen twice or below low changes nothing;
 *     a gap below CMARK_INLINE allocates nothing (review-ctrmark L3:
 *     2,1,4,3,... cost a 32 KiB calloc each pair); a larger one moves
 *     the bits to the allocated bitmap, which lives while the gap does
 *   - the window: a counter at low + 2^18 - 1 is taken, at low + 2^18
 *     it is refused (CMARK_OVERFLOW) and nothing changes
 *   - marks: met at once when low is above; pending otherwise, cleared
 *     when low passes it, expired at its deadline and not before; a later
 *     mark raises the pending one and keeps its deadline; low moving
 *     puts the deadline off, frames above the hole and replays do not;
 *     a frame 25 s late leaves the next hole its whole wait (review
 *     M1); counters near 2^23 (CSEC_HARD_LIMIT)
 *   - against a literal model over random orders, small and large
 *     displacements; at most one allocation per CMARK_INLINE counters
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "funneld/sec/ctrmark.h"

static void test_in_order(void **state)
{
	struct cmark m;

	(void)state;
	cmark_init(&m);
	assert_int_equal(m.low, 1);
	for (uint64_t c = 1; c <= 1000; c++) {
		assert_int_equal(cmark_seen(&m, c, 0), CMARK_OK);
		assert_null(m.bits);
	}
	assert_int_equal(m.low, 1001);
	/* seen again, or 0: nothing */
	assert_int_equal(cmark_seen(&m, 5, 0), CMARK_OK);
	assert_int_equal(cmark_seen(&m, 0, 0), CMARK_OK);
	assert_int_equal(m.low, 1001);
	cmark_free(&m);
}

static void test_gap(void **state)
{
	struct cmark m;

	(void)state;
	cmark_init(&m);
	assert_int_equal(cmark_seen(&m, 1, 0), CMARK_OK);
	assert_int_equal(cmark_seen(&m, 3, 0), CMARK_OK);
	assert_int_equal(m.low, 2);
	assert_int_equal(cmark_seen(&m, 5, 0), CMARK_OK);
	assert_int_equal(cmark_seen(&m, 5, 0), CMARK_OK);	/* twice */
	assert_int_equal(m.low, 2);
	assert_int_equal(cmark_seen(&m, 2, 0), CMARK_OK);
	assert_int_equal(m.low, 4);			/* 2, 3 */
	assert_int_equal(cmark_seen(&m, 4, 0), CMARK_OK);
	assert_int_equal(m.low, 6);			/* caught up */
	assert_int_equal(cmark_seen(&m, 6, 0), CMARK_OK);
	assert_int_equal(m.low, 7);
	assert_null(m.bits);
	assert_int_equal(m.nalloc, 0);			/* all inline */
	cmark_free(&m);
}

/* review-ctrmark L3: small reordering allocates nothing */
static void test_small_gaps(void **state)
{
	enum { N = 100000 };
	struct cmark m;

	(void)state;
	cmark_init(&m);
	/* 2,1,4,3,... */
	for (uint64_t c = 1; c + 1 <= N; c += 2) {
		assert_int_equal(cmark_seen(&m, c + 1, 0), CMARK_OK);
		assert_int_equal(m.low, c);
		assert_int_equal(cmark_seen(&m, c, 0), CMARK_OK);
		assert_int_equal(m.low, c + 2);
	}
	/* blocks of CMARK_INLINE, each backwards: the deepest gap the
	 * inline bits hold (top = low + CMARK_INLINE - 1)
	 */
	for (int blk = 0; blk < 50; blk++) {
		uint64_t base = m.low;

		for (uint64_t c = base + CMARK_INLINE - 1; c > base; c--) {
			assert_int_equal(cmark_seen(&m, c, 0), CMARK_OK);
			assert_int_equal(m.low, base);
		}
		assert_int_equal(cmark_seen(&m, base, 0), CMARK_OK);
		assert_int_equal(m.low, base + CMARK_INLINE);
	}
	assert_null(m.bits);
	assert_int_equal(m.nalloc, 0);

	/* one further: the bits move to the allocated bitmap, and come
	 * out right
	 */
	{
		uint64_t base = m.low;

		for (uint64_t c = base + 1; c < base + CMARK_INLINE; c += 2)
			assert_int_equal(cmark_seen(&m, c, 0), CMARK_OK);
		assert_null(m.bits);
		assert_int_equal(cmark_seen(&m, base + CMARK_INLINE, 0),
				 CMARK_OK);
		assert_non_null(m.bits);
		assert_int_equal(m.nalloc, 1);
		assert_int_equal(m.low, base);
		/* base, base + 2, ... fill the holes; each advances low
		 * past the odd counter above it (the last also past
		 * base + CMARK_INLINE)
		 */
		for (uint64_t c = base; c < base + CMARK_INLINE - 2; c += 2) {
			assert_int_equal(cmark_seen(&m, c, 0), CMARK_OK);
			assert_int_equal(m.low, c + 2);
			assert_non_null(m.bits);
		}
		assert_int_equal(cmark_seen(&m, base + CMARK_INLINE - 2, 0),
				 CMARK_OK);
		assert_int_equal(m.low, base + CMARK_INLINE + 1);
		assert_null(m.bits);
		assert_int_equal(m.nalloc, 1);
	}
	cmark_free(&m);
}

static void test_window(void **state)
{
	struct cmark m;

	(void)state;
	cmark_init(&m);
	assert_int_equal(cmark_seen(&m, 1 + CMARK_WINDOW, 0), CMARK_OVERFLOW);
	assert_int_equal(m.low, 1);
	assert_null(m.bits);
	assert_int_equal(cmark_seen(&m, CMARK_WINDOW, 0), CMARK_OK);
	assert_int_equal(m.top, CMARK_WINDOW);
	assert_int_equal(cmark_seen(&m, 1 + CMARK_WINDOW, 0), CMARK_OVERFLOW);
	/* fill the hole: low catches up; the bit of CMARK_WINDOW (0) and
	 * of every counter below it are clear again
	 */
	for (uint64_t c = 1; c < CMARK_WINDOW; c++)
		assert_int_equal(cmark_seen(&m, c, 0), CMARK_OK);
	assert_int_equal(m.low, CMARK_WINDOW + 1);
	assert_null(m.bits);
	/* the window moved with low */
	assert_int_equal(cmark_seen(&m, 2 * CMARK_WINDOW, 0), CMARK_OK);
	assert_int_equal(cmark_seen(&m, 2 * CMARK_WINDOW + 1, 0), CMARK_OVERFLOW);
	cmark_free(&m);
}

static void test_marks(void **state)
{
	struct cmark m;

	(void)state;
	cmark_init(&m);
	for (uint64_t c = 1; c <= 10; c++)
		cmark_seen(&m, c, 0);
	assert_true(cmark_mark(&m, 10, 0, 100));	/* met */
	assert_false(cmark_pending(&m));
	assert_int_equal(cmark_seen(&m, 12, 0), CMARK_OK);
	assert_false(cmark_mark(&m, 12, 1000, 100));	/* 11 missing */
	assert_true(cmark_pending(&m));
	assert_false(cmark_expired(&m, 1099));
	assert_true(cmark_expired(&m, 1100));
	assert_int_equal(cmark_seen(&m, 11, 0), CMARK_OK);	/* comes late */
	assert_false(cmark_pending(&m));
	assert_false(cmark_expired(&m, 5000));

	/* two marks: the pending one becomes the higher; its deadline
	 * stands until low moves (a late frame below it came), then is
	 * put off; frames above the missing one, and replays, do not
	 */
	assert_false(cmark_mark(&m, 14, 2000, 100));	/* 13, 14 */
	assert_int_equal(cmark_seen(&m, 15, 2010), CMARK_OK);
	assert_int_equal(cmark_seen(&m, 16, 2020), CMARK_OK);
	assert_false(cmark_mark(&m, 16, 2050, 100));
	assert_false(cmark_mark(&m, 15, 2060, 100));	/* lower: no news */
	assert_int_equal(m.mark, 16);
	assert_int_equal(m.deadline, 2100);
	assert_int_equal(cmark_seen(&m, 16, 2095), CMARK_OK);	/* replay */
	assert_int_equal(m.deadline, 2100);
	assert_int_equal(cmark_seen(&m, 13, 2090), CMARK_OK);	/* low: 14 */
	assert_true(cmark_pending(&m));
	assert_int_equal(m.deadline, 2190);
	assert_false(cmark_expired(&m, 2189));
	assert_true(cmark_expired(&m, 2190));
	cmark_seen(&m, 14, 2200);			/* low: 17 */
	assert_false(cmark_pending(&m));

	/* review-ctrmark M1: a frame 25 s late does not leave a later
	 * mark with 5 s: once it comes, the next missing has its wait
	 */
	assert_false(cmark_mark(&m, 18, 10000, 30000));	/* 17, 18 */
	cmark_seen(&m, 18, 10001);
	cmark_seen(&m, 20, 10002);
	assert_false(cmark_mark(&m, 20, 11000, 30000));	/* 19 missing */
	cmark_seen(&m, 17, 35000);			/* low: 19 */
	assert_false(cmark_expired(&m, 40001));
	assert_false(cmark_expired(&m, 64999));
	assert_true(cmark_expired(&m, 65000));

	cmark_free(&m);
	cmark_init(&m);
	for (uint64_t c = 1; c <= 16; c++)
		cmark_seen(&m, c, 0);

	/* both met at once */
	assert_false(cmark_mark(&m, 17, 3000, 100));
	assert_false(cmark_mark(&m, 18, 3010, 100));
	cmark_seen(&m, 18, 0);
	cmark_seen(&m, 17, 0);
	assert_false(cmark_pending(&m));
	assert_true(cmark_mark(&m, 0, 3020, 100));	/* nothing sealed */
	cmark_free(&m);
}

static void test_high(void **state)
{
	const uint64_t hi = (1ULL << 23) - 5;
	struct cmark m;

	(void)state;
	cmark_init(&m);
	m.low = hi;
	assert_int_equal(cmark_seen(&m, hi + 2, 0), CMARK_OK);
	assert_false(cmark_mark(&m, hi + 2, 0, 10));
	assert_int_equal(cmark_seen(&m, hi, 0), CMARK_OK);
	assert_true(cmark_pending(&m));
	assert_int_equal(cmark_seen(&m, hi + 1, 0), CMARK_OK);
	assert_false(cmark_pending(&m));
	assert_int_equal(m.low, hi + 3);
	assert_null(m.bits);
	cmark_free(&m);
}

/* Random orders of 1..N within a bounded displacement, checked against
 * a literal "lowest counter not seen" model.
 */
static void test_model(void **state)
{
	enum { N = 5000 };
	static uint64_t order[N];
	static bool seen[N + 2];
	uint64_t low;
	struct cmark m;

	(void)state;
	srand(7);
	for (int round = 0; round < 40; round++) {
		/* displacements up to 10 * 19 + 1, then up to 600 */
		int disp = round < 20 ? round * 10 + 1 : (round - 19) * 30;

		for (int i = 0; i < N; i++)
			order[i] = (uint64_t)i + 1;
		for (int i = 0; i < N; i++) {
			int j = i + rand() % disp;
			uint64_t t;

			if (j >= N)
				j = N - 1;
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		memset(seen, 0, sizeof(seen));
		cmark_init(&m);
		low = 1;
		for (int i = 0; i < N; i++) {
			assert_int_equal(cmark_seen(&m, order[i], 0), CMARK_OK);
			seen[order[i]] = true;
			while (low <= N && seen[low])
				low++;
			assert_int_equal(m.low, low);
			if (m.top < m.low)
				assert_null(m.bits);
			if (m.top >= m.low + CMARK_INLINE)
				assert_non_null(m.bits);
		}
		assert_int_equal(m.low, N + 1);
		assert_null(m.bits);
		/* each allocation lasts until CMARK_INLINE counters or more
		 * came
		 */
		assert_true(m.nalloc <= N / CMARK_INLINE);
		cmark_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_small_gaps),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_high),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
