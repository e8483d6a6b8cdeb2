// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/loop.c, funneld's event loop: timers fire once, in
 * deadline order; re-initialising or re-arming an armed timer leaves
 * the loop's timer list sound (once a cycle: funneld spun at 100% CPU);
 * cancelling from a callback; loop_free() with a timer still armed.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "funneld/loop.h"

/* A callback that runs more often than this is looping on a bad list. */
#define FIRES_MAX	20

struct probe {
	const char *name;
	int fired;
	char *order;		/* names appended as they fire */
	struct loop_timer *cancel;	/* cancelled from the callback */
	bool stop;		/* loop_stop() from the callback */
};

static void probe_cb(struct loop *l, void *arg)
{
	struct probe *p = arg;

	p->fired++;
	if (p->order)
		strcat(p->order, p->name);
	if (p->cancel)
		loop_timer_cancel(l, p->cancel);
	if (p->stop || p->fired > FIRES_MAX)
		loop_stop(l);
}

static struct loop *new_loop(void **state)
{
	struct loop *l = loop_new();

	(void)state;
	assert_non_null(l);
	return l;
}

static void test_order(void **state)
{
	struct loop *l = new_loop(state);
	char order[16] = "";
	struct probe a = { "a", 0, order, NULL, false };
	struct probe b = { "b", 0, order, NULL, false };
	struct probe end = { "e", 0, order, NULL, true };
	struct loop_timer ta = { 0 }, tb = { 0 }, te = { 0 };

	loop_timer_init(&ta, probe_cb, &a);
	loop_timer_init(&tb, probe_cb, &b);
	loop_timer_init(&te, probe_cb, &end);
	loop_timer_arm(l, &tb, 20);
	loop_timer_arm(l, &ta, 10);
	loop_timer_arm(l, &te, 40);
	assert_true(ta.armed && tb.armed && te.armed);
	assert_int_equal(loop_run(l), 0);
	assert_string_equal(order, "abe");
	assert_false(ta.armed || tb.armed || te.armed);
	loop_free(l);
}

/*
 * The accept pause of two listeners failing in one epoll round: the
 * second re-initialised the armed timer and armed it again.
 */
static void test_init_armed(void **state)
{
	struct loop *l = new_loop(state);
	char order[16] = "";
	struct probe a = { "a", 0, order, NULL, false };
	struct probe b = { "b", 0, order, NULL, false };
	struct probe end = { "e", 0, order, NULL, true };
	struct loop_timer ta = { 0 }, tb = { 0 }, te = { 0 };

	loop_timer_init(&ta, probe_cb, &a);
	loop_timer_init(&tb, probe_cb, &b);
	loop_timer_init(&te, probe_cb, &end);
	loop_timer_arm(l, &ta, 10);
	loop_timer_arm(l, &tb, 20);
	loop_timer_arm(l, &te, 40);
	/* re-init of an armed timer disarms it */
	loop_timer_init(&ta, probe_cb, &a);
	assert_false(ta.armed);
	loop_timer_arm(l, &ta, 5);
	/* and once more, armed, at the head of the list */
	loop_timer_init(&ta, probe_cb, &a);
	loop_timer_arm(l, &ta, 30);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(end.fired, 1);
	assert_string_equal(order, "bae");
	loop_free(l);
}

/* Re-arming an armed timer moves it; it fires once. */
static void test_rearm(void **state)
{
	struct loop *l = new_loop(state);
	char order[16] = "";
	struct probe a = { "a", 0, order, NULL, false };
	struct probe b = { "b", 0, order, NULL, false };
	struct probe end = { "e", 0, order, NULL, true };
	struct loop_timer ta = { 0 }, tb = { 0 }, te = { 0 };

	loop_timer_init(&ta, probe_cb, &a);
	loop_timer_init(&tb, probe_cb, &b);
	loop_timer_init(&te, probe_cb, &end);
	loop_timer_arm(l, &ta, 5);
	loop_timer_arm(l, &tb, 15);
	loop_timer_arm(l, &te, 40);
	for (int i = 0; i < 5; i++)
		loop_timer_arm(l, &ta, 25);
	assert_int_equal(loop_run(l), 0);
	assert_string_equal(order, "bae");
	loop_free(l);
}

/* A callback cancels a timer that is due in the same round. */
static void test_cancel_from_cb(void **state)
{
	struct loop *l = new_loop(state);
	struct loop_timer ta = { 0 }, tb = { 0 }, te = { 0 };
	struct probe b = { "b", 0, NULL, NULL, false };
	struct probe a = { "a", 0, NULL, &tb, false };
	struct probe end = { "e", 0, NULL, NULL, true };

	loop_timer_init(&ta, probe_cb, &a);
	loop_timer_init(&tb, probe_cb, &b);
	loop_timer_init(&te, probe_cb, &end);
	loop_timer_arm(l, &ta, 0);
	loop_timer_arm(l, &tb, 0);
	loop_timer_arm(l, &te, 20);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
	assert_false(tb.armed);
	loop_free(l);
}

/* A timer armed when the loop goes is disarmed, not left dangling. */
static void test_free_armed(void **state)
{
	struct loop *l = new_loop(state);
	struct probe a = { "a", 0, NULL, NULL, false };
	static struct loop_timer t;	/* outlives the loop, as statics do */

	loop_timer_init(&t, probe_cb, &a);
	loop_timer_arm(l, &t, 1000);
	loop_free(l);
	assert_false(t.armed);
	/* initialising it again must not touch the freed loop */
	loop_timer_init(&t, probe_cb, &a);
	assert_false(t.armed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_init_armed),
		cmocka_unit_test(test_rearm),
		cmocka_unit_test(test_cancel_from_cb),
		cmocka_unit_test(test_free_armed),
	};

	/* a corrupted list loops for ever: end the test, failed, instead */
	alarm(10);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
