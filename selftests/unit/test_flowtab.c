// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/flowtab.c: the flow id table, and the flow budgets
 * that a carrier's tables share with each other and, through the
 * daemon's, with every other carrier's (a peer cannot make funneld open
 * more sockets than its carrier's share).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "funneld/datapath/flowtab.h"

struct node {
	struct flowtab_node n;
};

static void test_ids(void **state)
{
	struct flowtab t;
	struct node a = { .n.id = 7 }, b = { .n.id = 0x80000007 };

	(void)state;
	assert_int_equal(flowtab_init(&t, 10), 0);
	assert_null(t.budget);
	flowtab_insert(&t, &a.n);
	flowtab_insert(&t, &b.n);
	assert_ptr_equal(flowtab_lookup(&t, 7), &a.n);
	assert_ptr_equal(flowtab_lookup(&t, 0x80000007), &b.n);
	assert_null(flowtab_lookup(&t, 8));
	/* ids skip 0 and those in use */
	t.next_id = 6;
	assert_int_equal(flowtab_alloc_id(&t), 6);
	assert_int_equal(flowtab_alloc_id(&t), 8);
	t.next_id = 0;
	assert_int_equal(flowtab_alloc_id(&t), 1);
	flowtab_remove(&t, &a.n);
	assert_null(flowtab_lookup(&t, 7));
	assert_int_equal(t.count, 1);
	flowtab_fini(&t);
}

/* Two streams of one carrier, and another carrier, under one daemon. */
static void test_budget(void **state)
{
	struct flowbudget daemon = { .max = 5 };
	struct flowbudget c1 = { .max = 3, .parent = &daemon };
	struct flowbudget c2 = { .max = 3, .parent = &daemon };
	struct flowtab s1, s2, s3;
	struct node n[8];

	(void)state;
	for (int i = 0; i < 8; i++)
		n[i].n.id = (uint32_t)i + 1;
	assert_int_equal(flowtab_init(&s1, 100), 0);
	assert_int_equal(flowtab_init(&s2, 100), 0);
	assert_int_equal(flowtab_init(&s3, 100), 0);
	s1.budget = &c1;
	s2.budget = &c1;
	s3.budget = &c2;

	/* carrier 1's streams share its 3 */
	flowtab_insert(&s1, &n[0].n);
	flowtab_insert(&s1, &n[1].n);
	assert_true(flowtab_room(&s2, 100));
	flowtab_insert(&s2, &n[2].n);
	assert_false(flowtab_room(&s1, 100));
	assert_false(flowtab_room(&s2, 100));
	assert_int_equal(c1.count, 3);
	/* carrier 2 gets 2 more, then the daemon's 5 are used up */
	assert_true(flowtab_room(&s3, 100));
	flowtab_insert(&s3, &n[3].n);
	flowtab_insert(&s3, &n[4].n);
	assert_int_equal(c2.count, 2);
	assert_int_equal(daemon.count, 5);
	assert_false(flowtab_room(&s3, 100));
	/* a flow ended gives its place back, on both levels */
	flowtab_remove(&s1, &n[0].n);
	assert_int_equal(c1.count, 2);
	assert_true(flowtab_room(&s3, 100));
	/* the stream's own flow-max still holds */
	assert_false(flowtab_room(&s3, 2));
	/* a stream freed with flows in it gives them all back */
	flowtab_fini(&s3);
	assert_int_equal(c2.count, 0);
	assert_int_equal(daemon.count, 2);
	flowtab_fini(&s1);
	flowtab_fini(&s2);
	assert_int_equal(c1.count, 0);
	assert_int_equal(daemon.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests_name("flowtab", tests, NULL, NULL);
}
