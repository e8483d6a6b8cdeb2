// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/carrier/txruns.c: the bytes of a carrier's
 * TCP streams in its transmit queue, counted apart from the datagrams
 * and control messages between them (the cap of fair sharing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "funneld/carrier/txruns.h"

static struct txruns r;

/* TCP frames, then a datagram, then TCP again: written bit by bit */
static void test_interleaved(void **state)
{
	(void)state;
	txruns_reset(&r);
	txruns_add(&r, 0, 100);		/* TCP [0, 100) */
	txruns_add(&r, 100, 50);	/* TCP, one run: [0, 150) */
	/* a datagram [150, 1150) is not counted */
	txruns_add(&r, 1150, 200);	/* TCP [1150, 1350) */
	assert_int_equal(r.n, 2);
	assert_int_equal(r.bytes, 350);
	txruns_written(&r, 120);	/* part of the first run */
	assert_int_equal(r.bytes, 230);
	txruns_written(&r, 1000);	/* the first run, part of the datagram */
	assert_int_equal(r.bytes, 200);
	assert_int_equal(r.n, 1);
	txruns_written(&r, 1200);
	assert_int_equal(r.bytes, 150);
	txruns_written(&r, 1200);	/* nothing more written: no change */
	assert_int_equal(r.bytes, 150);
	txruns_written(&r, 5000);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.n, 0);
	/* an empty frame counts nothing */
	txruns_add(&r, 5000, 0);
	assert_int_equal(r.n, 0);
}

/* with every run in use the last one stretches: more counted, never less */
static void test_full(void **state)
{
	uint64_t at = 0;
	unsigned int i;

	(void)state;
	txruns_reset(&r);
	for (i = 0; i < TXRUNS_MAX; i++) {
		txruns_add(&r, at, 10);
		at += 30;		/* 20 bytes of a datagram between */
	}
	assert_int_equal(r.n, TXRUNS_MAX);
	assert_int_equal(r.bytes, 10 * TXRUNS_MAX);
	txruns_add(&r, at - 20, 5);		/* right after the last */
	assert_int_equal(r.bytes, 10 * TXRUNS_MAX + 5);
	/* not adjacent: the last run takes in the 15 bytes between */
	txruns_add(&r, at, 10);
	assert_int_equal(r.n, TXRUNS_MAX);
	assert_int_equal(r.bytes, 10 * TXRUNS_MAX + 5 + 15 + 10);
	txruns_written(&r, 30);			/* the first run and its gap */
	assert_int_equal(r.n, TXRUNS_MAX - 1);
	/* a run of its own again: the ring wraps around */
	txruns_add(&r, at + 20, 10);
	assert_int_equal(r.n, TXRUNS_MAX);
	txruns_written(&r, at + 30);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
