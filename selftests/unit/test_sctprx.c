// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/carrier/sctprx.c: the parts of SCTP messages
 * joined into frames by funneld's userspace reader, with made-up reads
 * (what recvmsg() would have put at buf + len, its MSG_EOR and
 * MSG_NOTIFICATION, the SCTP stream of SCTP_RCVINFO).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "funneld/carrier/sctprx.h"

#define CAP	1000

static struct sctprx r;
static uint8_t buf[CAP];

/* "read" n bytes of c at buf + r.len, then hand them over */
static enum sctprx_verdict rd(uint8_t c, size_t n, bool eor, bool note,
			      uint16_t sid, size_t *out, bool *gaveup)
{
	assert_true(r.len + n <= CAP);
	memset(buf + r.len, c, n);
	return sctprx_part(&r, buf, CAP, n, eor, note, sid, out, gaveup);
}

static bool all(const uint8_t *p, uint8_t c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* whole messages, and one in three parts */
static void test_join(void **state)
{
	size_t out = 0;
	bool g;

	(void)state;
	sctprx_reset(&r);
	assert_int_equal(rd('a', 20, true, false, 3, &out, &g), SCTPRX_FRAME);
	assert_int_equal(out, 20);
	assert_false(g);
	assert_int_equal(rd('b', 100, false, false, 3, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('c', 100, false, false, 3, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('d', 50, true, false, 3, &out, &g), SCTPRX_FRAME);
	assert_int_equal(out, 250);
	assert_true(all(buf, 'b', 100) && all(buf + 100, 'c', 100) &&
		    all(buf + 200, 'd', 50));
	assert_int_equal(r.len, 0);
}

/*
 * review-sctp.md H1: the partial delivery of M1 is aborted (FORWARD-TSN),
 * SCTP says so, then M2 comes on the same stream: M2 alone, M1's head
 * dropped.  Before the fix M1's head and M2 were one frame.
 */
static void test_pd_aborted(void **state)
{
	size_t out = 0;
	bool g;

	(void)state;
	sctprx_reset(&r);
	assert_int_equal(rd('h', 300, false, false, 5, &out, &g), SCTPRX_MORE);
	/* SCTP_PARTIAL_DELIVERY_EVENT, read at buf + 300 */
	assert_int_equal(rd('n', 24, true, true, 0, &out, &g), SCTPRX_NOTE);
	assert_int_equal(out, 24);
	assert_true(all(r.note, 'n', 24));
	assert_int_equal(r.len, 300);	/* the notification is not in it */
	assert_true(sctprx_abort(&r));
	assert_int_equal(rd('m', 28, true, false, 5, &out, &g), SCTPRX_FRAME);
	assert_int_equal(out, 28);
	assert_true(all(buf, 'm', 28));
	assert_false(g);
	/* nothing in parts: nothing given up */
	assert_false(sctprx_abort(&r));
}

/* a part of another stream: the message in parts is given up */
static void test_other_stream(void **state)
{
	size_t out = 0;
	bool g;

	(void)state;
	sctprx_reset(&r);
	assert_int_equal(rd('h', 300, false, false, 5, &out, &g), SCTPRX_MORE);
	assert_false(g);
	assert_int_equal(rd('x', 40, true, false, 6, &out, &g), SCTPRX_FRAME);
	assert_true(g);
	assert_int_equal(out, 40);
	assert_true(all(buf, 'x', 40));
	/* and as a first part of another message in parts */
	assert_int_equal(rd('h', 300, false, false, 5, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('y', 60, false, false, 7, &out, &g), SCTPRX_MORE);
	assert_true(g);
	assert_int_equal(rd('z', 10, true, false, 7, &out, &g), SCTPRX_FRAME);
	assert_false(g);
	assert_int_equal(out, 70);
	assert_true(all(buf, 'y', 60) && all(buf + 60, 'z', 10));
}

/*
 * review-sctp.md L12: a notification in parts while a message is in
 * parts, the message then goes on: neither mixes with the other.
 */
static void test_note_in_parts(void **state)
{
	size_t out = 0;
	bool g;

	(void)state;
	sctprx_reset(&r);
	assert_int_equal(rd('h', 200, false, false, 2, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('n', 10, false, true, 0, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('o', 8, true, true, 0, &out, &g), SCTPRX_NOTE);
	assert_int_equal(out, 18);
	assert_true(all(r.note, 'n', 10) && all(r.note + 10, 'o', 8));
	assert_int_equal(rd('t', 100, true, false, 2, &out, &g), SCTPRX_FRAME);
	assert_int_equal(out, 300);
	assert_true(all(buf, 'h', 200) && all(buf + 200, 't', 100));
	/* a notification longer than kept: its head */
	assert_int_equal(rd('p', 200, false, true, 0, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('q', 200, true, true, 0, &out, &g), SCTPRX_NOTE);
	assert_int_equal(out, SCTPRX_NOTE_MAX);
	assert_true(all(r.note, 'p', 200) &&
		    all(r.note + 200, 'q', SCTPRX_NOTE_MAX - 200));
}

/* the buffer full and no end: oversize */
static void test_oversize(void **state)
{
	size_t out = 0;
	bool g;

	(void)state;
	sctprx_reset(&r);
	assert_int_equal(rd('a', 600, false, false, 1, &out, &g), SCTPRX_MORE);
	assert_int_equal(rd('a', 400, false, false, 1, &out, &g),
			 SCTPRX_OVERSIZE);
	sctprx_reset(&r);
	assert_int_equal(rd('a', CAP, true, false, 1, &out, &g), SCTPRX_FRAME);
	assert_int_equal(out, CAP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_pd_aborted),
		cmocka_unit_test(test_other_stream),
		cmocka_unit_test(test_note_in_parts),
		cmocka_unit_test(test_oversize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
