// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/datapath/tpwin.c: when the receiving end of
 * a TCP flow doubles the flow's window (control-protocol.md section 7),
 * with the time given by the test:
 *
 *   - the credit loop: the time from a grant to the first byte beyond
 *     the credit the peer had before it; the smallest kept, replaced by
 *     the next sample once more than 10 s old; 1 s at most
 *   - growth: a whole window moved within 2L + 10 ms (1 s at most, and
 *     before any sample) doubles it, up to the largest window
 *   - a flow simulated millisecond by millisecond, the peer sending all
 *     its credit at once, the receiver writing and granting as tpath.c's
 *     flow_deliver(), flow_flush() and flow_grant() do: one read
 *     promptly grows its window to the largest and no further; a slow
 *     reader keeps the initial window (the rule before 2171b6d, "within
 *     1 s", grew it to 512 KiB); the same reader behind a 500 ms loop is
 *     held back by its window and grows it
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "funneld/datapath/tpath.h"	/* TPATH_WINDOW_INIT */
#include "funneld/datapath/tpwin.h"

#define INIT	TPATH_WINDOW_INIT
/* The test's clock starts here (0 is "no probe"). */
#define T0	100000

/* A grant's time is measured up to the first byte beyond the old credit. */
static void test_loop_sample(void **state)
{
	struct tpwin w;

	(void)state;
	tpwin_init(&w, INIT);
	assert_int_equal(w.loop_ms, 0);
	assert_int_equal(tpwin_within(&w), TPATH_GROW_MS);	/* no sample */
	tpwin_rcvd(&w, INIT / 4, T0);		/* no probe runs: nothing */
	assert_int_equal(w.loop_ms, 0);

	/* 3/4 of the credit still outstanding (in flight): timed anyway */
	tpwin_grant(&w, INIT / 4, T0 + 1);
	tpwin_grant(&w, INIT / 4, T0 + 3);	/* one probe at a time */
	assert_int_equal(w.probe_at, T0 + 1);
	assert_int_equal(w.probe_edge, INIT);
	/* bytes up to the old credit do not end it */
	tpwin_rcvd(&w, INIT - INIT / 4 - 1, T0 + 4);
	tpwin_rcvd(&w, 1, T0 + 6);
	assert_int_equal(w.loop_ms, 0);
	assert_int_not_equal(w.probe_at, 0);
	/* the first byte beyond does: 12 ms after the first grant */
	tpwin_rcvd(&w, 100, T0 + 13);
	assert_int_equal(w.loop_ms, 12);
	assert_int_equal(w.probe_at, 0);
	assert_int_equal(tpwin_within(&w), 2 * 12 + TPATH_GROW_SLACK_MS);
	/* no probe until the next grant */
	tpwin_rcvd(&w, INIT, T0 + 20);
	assert_int_equal(w.loop_ms, 12);
	assert_int_equal(w.loop_at, T0 + 13);
}

/* One grant timed: its edge is the credit before it, ended by crossing. */
static void sample(struct tpwin *w, uint64_t at, uint64_t ms)
{
	tpwin_grant(w, 1000, at);
	tpwin_rcvd(w, w->probe_edge - w->rcvd + 1, at + ms);
}

/* The smallest sample is kept; the next one replaces it after 10 s. */
static void test_loop_min(void **state)
{
	struct tpwin w;

	(void)state;
	tpwin_init(&w, INIT);
	sample(&w, T0, 20);
	assert_int_equal(w.loop_ms, 20);
	sample(&w, T0 + 100, 50);		/* longer: a queue, not kept */
	assert_int_equal(w.loop_ms, 20);
	sample(&w, T0 + 200, 8);		/* shorter: kept */
	assert_int_equal(w.loop_ms, 8);
	assert_int_equal(w.loop_at, T0 + 208);
	/* 10 s after the kept one a longer one still does not replace it */
	sample(&w, T0 + 208 + TPATH_LOOP_KEEP_MS - 50, 50);
	assert_int_equal(w.loop_ms, 8);
	/* older than that: the next sample replaces it, longer or not */
	sample(&w, T0 + 208 + TPATH_LOOP_KEEP_MS - 49, 50);
	assert_int_equal(w.loop_ms, 50);
	assert_int_equal(w.loop_at, T0 + 208 + TPATH_LOOP_KEEP_MS + 1);
	assert_int_equal(tpwin_within(&w), 2 * 50 + TPATH_GROW_SLACK_MS);
}

/* A sample is 1 ms at least and TPATH_GROW_MS at most. */
static void test_loop_bounded(void **state)
{
	struct tpwin w;

	(void)state;
	tpwin_init(&w, INIT);
	sample(&w, T0, 3600 * 1000);		/* an hour */
	assert_int_equal(w.loop_ms, TPATH_GROW_MS);
	assert_int_equal(tpwin_within(&w), TPATH_GROW_MS);
	sample(&w, T0 + 3600 * 1000 + 5, 0);
	assert_int_equal(w.loop_ms, 1);
	assert_int_equal(tpwin_within(&w), 2 + TPATH_GROW_SLACK_MS);

	/* 2L + 10 ms, up to TPATH_GROW_MS */
	w.loop_ms = 494;
	assert_int_equal(tpwin_within(&w), 998);
	w.loop_ms = 495;
	assert_int_equal(tpwin_within(&w), TPATH_GROW_MS);
	w.loop_ms = TPATH_GROW_MS;
	assert_int_equal(tpwin_within(&w), TPATH_GROW_MS);
}

/*
 * A probe starts at any grant: after the peer was idle longer than 10 s,
 * the first sample is the pause (1 s at most), the next the loop again.
 */
static void test_loop_after_idle(void **state)
{
	struct tpwin w;
	uint64_t t;

	(void)state;
	tpwin_init(&w, INIT);
	sample(&w, T0, 5);
	assert_int_equal(tpwin_within(&w), 20);
	/* a grant, then the peer sends nothing for 30 s */
	t = T0 + 100;
	tpwin_grant(&w, INIT / 4, t);
	tpwin_rcvd(&w, w.probe_edge - w.rcvd + 1, t + 30000);
	assert_int_equal(w.loop_ms, TPATH_GROW_MS);
	assert_int_equal(tpwin_within(&w), TPATH_GROW_MS);
	/* the flow moves bytes again: the next grant comes back in 5 ms */
	sample(&w, t + 30001, 5);
	assert_int_equal(w.loop_ms, 5);
	assert_int_equal(tpwin_within(&w), 20);
}

/* How much a window grows: doubled, up to the largest, and no further. */
static void test_grow_amount(void **state)
{
	struct tpwin w;

	(void)state;
	tpwin_init(&w, INIT);
	/* the first bytes written start the count (they are not counted) */
	assert_int_equal(tpwin_grow(&w, INIT, INIT, 4 * INIT, T0), 0);
	assert_int_equal(w.moved, 0);
	assert_int_equal(w.moved_at, T0);
	/* less than a window moved: no growth */
	assert_int_equal(tpwin_grow(&w, INIT - 1, INIT, 4 * INIT, T0), 0);
	/* the window's last byte: doubled */
	assert_int_equal(tpwin_grow(&w, 1, INIT, 4 * INIT, T0), INIT);
	/* the count starts again */
	assert_int_equal(w.moved, 0);
	assert_int_equal(tpwin_grow(&w, INIT, 2 * INIT, 4 * INIT, T0), 0);
	assert_int_equal(tpwin_grow(&w, INIT, 2 * INIT, 4 * INIT, T0),
			 2 * INIT);
	/* at the largest window: never more */
	assert_int_equal(tpwin_grow(&w, 64 * INIT, 4 * INIT, 4 * INIT, T0), 0);
	/* short of it: up to it exactly */
	tpwin_init(&w, INIT);
	tpwin_grow(&w, 0, INIT, INIT + 1000, T0);
	assert_int_equal(tpwin_grow(&w, INIT, INIT, INIT + 1000, T0), 1000);
}

/* The bytes moved count within 2L + 10 ms; after that they start again. */
static void test_grow_period(void **state)
{
	struct tpwin w;

	(void)state;
	tpwin_init(&w, INIT);
	sample(&w, T0, 10);			/* within 30 ms */
	tpwin_grow(&w, 0, INIT, 1 << 20, T0 + 100);	/* the count starts */
	assert_int_equal(tpwin_grow(&w, INIT / 2, INIT, 1 << 20, T0 + 110), 0);
	assert_int_equal(tpwin_grow(&w, INIT / 2, INIT, 1 << 20, T0 + 130),
			 INIT);
	assert_int_equal(tpwin_grow(&w, INIT / 2, INIT, 1 << 20, T0 + 200), 0);
	/* 31 ms later: too slow, those bytes and the earlier ones dropped */
	assert_int_equal(tpwin_grow(&w, INIT / 2, INIT, 1 << 20, T0 + 231), 0);
	assert_int_equal(w.moved, 0);
	assert_int_equal(w.moved_at, T0 + 231);
	assert_int_equal(tpwin_grow(&w, INIT / 2, INIT, 1 << 20, T0 + 250), 0);
	assert_int_equal(tpwin_grow(&w, INIT / 2, INIT, 1 << 20, T0 + 261),
			 INIT);
}

/* ---- a flow, millisecond by millisecond ---- */

/* Milliseconds in flight at most, each way. */
#define RING		1024
/* Bytes of one DATA frame (a sealed frame's payload is about this). */
#define FRAME		16384

struct sim {
	/* what the test sets */
	unsigned int delay;	/* one way, ms: the loop is twice this */
	size_t sock_max;	/* bytes the socket holds; 0: no limit */
	unsigned int read_every; /* the reader empties it every ... ms */
	uint32_t max;		/* largest window (s->window) */

	/* the receiver (tpath.c's flow) */
	struct tpwin w;
	uint32_t win;
	uint64_t unacked;
	uint64_t qlen;		/* queued for the socket */
	uint64_t in_sock;	/* in the socket, not read yet */
	/* the peer */
	uint64_t credit;
	/* bytes arriving at the receiver, grants arriving at the peer */
	uint64_t data[RING], grants[RING];
	uint64_t now;
	uint32_t peak_win;
	uint64_t moved_total;
};

/*
 * control-protocol.md section 7: a receiver never holds a quarter of its
 * window or more written and ungranted; whatever the window, a
 * receiver that wrote everything leaves its peer credit for a whole
 * LDAP message of TPATH_LDAP_WHOLE (49152) bytes.
 */
static void test_grant_due(void **state)
{
	static const uint32_t wins[] = { INIT, INIT + 1, 3 * INIT, 16U << 20 };

	(void)state;
	for (size_t i = 0; i < sizeof(wins) / sizeof(wins[0]); i++) {
		uint32_t w = wins[i];

		assert_false(tpwin_grant_due(0, w));
		assert_false(tpwin_grant_due(w / 4 - 1, w));
		assert_true(tpwin_grant_due(w / 4, w));
		assert_true(tpwin_grant_due(w, w));
		/* the most a caught-up sender can lack */
		assert_true(w - (w / 4 - 1) >= 49152);
	}
}

static void sim_init(struct sim *s, unsigned int delay, size_t sock_max,
		     unsigned int read_every, uint32_t max)
{
	memset(s, 0, sizeof(*s));
	assert_true(2 * delay < RING);
	s->delay = delay;
	s->sock_max = sock_max;
	s->read_every = read_every;
	s->max = max;
	tpwin_init(&s->w, INIT);
	s->win = INIT;
	s->peak_win = INIT;
	s->credit = INIT;
	s->now = T0;
}

/* What the socket takes of n bytes now. */
static size_t sim_write(struct sim *s, uint64_t n)
{
	if (s->sock_max && n > s->sock_max - s->in_sock)
		n = s->sock_max - s->in_sock;
	s->in_sock += n;
	s->moved_total += n;
	return (size_t)n;
}

/* flow_grant(): written bytes went to the socket */
static void sim_grant(struct sim *s, size_t written)
{
	uint64_t more;

	s->unacked += written;
	more = tpwin_grow(&s->w, written, s->win, s->max, s->now);
	assert_true(more <= s->max - s->win);
	s->win += (uint32_t)more;
	s->unacked += more;
	if (s->win > s->peak_win)
		s->peak_win = s->win;
	if (!tpwin_grant_due(s->unacked, s->win))
		return;
	tpwin_grant(&s->w, s->unacked, s->now);
	s->grants[(s->now + s->delay) % RING] += s->unacked;
	s->unacked = 0;
}

static void sim_step(struct sim *s)
{
	uint64_t n, slot = s->now % RING;
	size_t written;

	/* the reader */
	if (s->read_every && s->now % s->read_every == 0)
		s->in_sock = 0;
	/* flow_flush(): the socket has room */
	if (s->qlen) {
		written = sim_write(s, s->qlen);
		s->qlen -= written;
		if (written)
			sim_grant(s, written);
	}
	/* flow_deliver(), frame by frame */
	for (n = s->data[slot]; n; ) {
		uint64_t len = n < FRAME ? n : FRAME;

		n -= len;
		tpwin_rcvd(&s->w, (size_t)len, s->now);
		if (!s->qlen) {
			written = sim_write(s, len);
			len -= written;
			if (written)
				sim_grant(s, written);
		}
		s->qlen += len;
		/* never more than the window waits: no reset */
		assert_true(s->qlen <= s->win);
	}
	s->data[slot] = 0;
	/* the peer: its credit arrives; it sends all of it */
	s->credit += s->grants[slot];
	s->grants[slot] = 0;
	s->data[(s->now + s->delay) % RING] += s->credit;
	s->credit = 0;
	s->now++;
}

static void sim_run(struct sim *s, unsigned int ms)
{
	while (ms--)
		sim_step(s);
}

/* A reader as fast as the bytes come: the window grows to the largest. */
static void test_sim_prompt(void **state)
{
	struct sim *s = test_malloc(sizeof(*s));

	(void)state;
	sim_init(s, 5, 0, 0, 1 << 20);
	sim_run(s, 2000);
	assert_int_equal(s->w.loop_ms, 10);
	assert_int_equal(s->win, 1 << 20);
	/* and no further */
	sim_run(s, 5000);
	assert_int_equal(s->win, 1 << 20);
	assert_int_equal(s->peak_win, 1 << 20);
	/* a window a loop, all the time */
	assert_true(s->moved_total >= (uint64_t)(7000 - 2000) / 10 << 20);

	/* a largest window that is no power of two: that exactly */
	sim_init(s, 5, 0, 0, 1000000);
	sim_run(s, 2000);
	assert_int_equal(s->win, 1000000);
	assert_int_equal(s->peak_win, 1000000);
	test_free(s);
}

/*
 * A reader that takes 16 KiB every 50 ms behind a 10 ms loop moves its
 * window in 200 ms, far more than 2L + 10 ms: its window stays at 64 KiB.
 * (Growing whenever the window moved within 1 s would have made it
 * 512 KiB, its bytes waiting on the carrier ahead of other streams'.)
 */
static void test_sim_slow_reader(void **state)
{
	struct sim *s = test_malloc(sizeof(*s));

	(void)state;
	sim_init(s, 5, FRAME, 50, 4 << 20);
	sim_run(s, 10000);
	assert_int_equal(s->w.loop_ms, 10);
	assert_int_equal(s->win, INIT);
	assert_int_equal(s->peak_win, INIT);
	/* it did read all along: 16 KiB each 50 ms */
	assert_true(s->moved_total >= 199 * FRAME);
	test_free(s);
}

/*
 * The same reader behind a 500 ms loop is held back by its window (64
 * KiB a loop, less than it reads): the window grows until the reader
 * holds it back, at the 1 s the rule allows at most.
 */
static void test_sim_long_loop(void **state)
{
	struct sim *s = test_malloc(sizeof(*s));

	(void)state;
	sim_init(s, 250, FRAME, 50, 4 << 20);
	sim_run(s, 20000);
	assert_int_equal(s->w.loop_ms, 500);
	assert_int_equal(tpwin_within(&s->w), TPATH_GROW_MS);
	/* 16 KiB / 50 ms: 320 KiB a second; doubled while that is more */
	assert_int_equal(s->win, 512 << 10);
	test_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_sample),
		cmocka_unit_test(test_loop_min),
		cmocka_unit_test(test_loop_bounded),
		cmocka_unit_test(test_loop_after_idle),
		cmocka_unit_test(test_grow_amount),
		cmocka_unit_test(test_grow_period),
		cmocka_unit_test(test_grant_due),
		cmocka_unit_test(test_sim_prompt),
		cmocka_unit_test(test_sim_slow_reader),
		cmocka_unit_test(test_sim_long_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
