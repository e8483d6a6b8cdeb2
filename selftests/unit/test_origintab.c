// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ctl/funneld/datapath/origintab.c: the origins of
 * funnel.ko's UDP flows that a server-side funneld keeps (at most max,
 * the oldest dropped first, an id told again replaced; none beyond a
 * budget shared by several tables; those of flows gone dropped by the
 * scans of the stream's flows, with one scan of grace), and the flow ids
 * whose origin a client-side funneld announced, rebuilt from each dump
 * of the stream's flows.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "funneld/datapath/origintab.h"

static struct origin o4(uint8_t last, uint16_t sport)
{
	struct origin o = { .family = AF_INET, .sport = sport, .dport = 53 };

	o.saddr[0] = 192;
	o.saddr[3] = last;
	o.daddr[0] = 127;
	o.daddr[3] = 1;
	return o;
}

static void test_tab_empty(void **state)
{
	struct origintab t;

	(void)state;
	origintab_init(&t, 4);
	/* nothing allocated before the first origin */
	assert_null(t.ids.buckets);
	assert_null(origintab_get(&t, 1));
	assert_int_equal(origintab_count(&t), 0);
	origintab_fini(&t);
}

static void test_tab_put_get(void **state)
{
	struct origintab t;
	struct origin a = o4(7, 1000), b = o4(8, 2000);
	const struct origin *g;

	(void)state;
	origintab_init(&t, 4);
	assert_int_equal(origintab_put(&t, 5, &a), 0);
	assert_int_equal(origintab_put(&t, 0xfffffff0U, &b), 0);
	g = origintab_get(&t, 5);
	assert_non_null(g);
	assert_memory_equal(g, &a, sizeof(a));
	g = origintab_get(&t, 0xfffffff0U);
	assert_non_null(g);
	assert_int_equal(g->sport, 2000);
	assert_null(origintab_get(&t, 6));
	assert_int_equal(origintab_count(&t), 2);
	origintab_fini(&t);
	assert_null(t.ids.buckets);
	assert_int_equal(origintab_count(&t), 0);
}

/* take: the origin out of the table; the others, and the order, stay */
static void test_tab_take(void **state)
{
	struct origintab t;
	struct origin a = o4(7, 1000), b = o4(8, 2000), c = o4(9, 3000), g;

	(void)state;
	origintab_init(&t, 2);
	assert_false(origintab_take(&t, 5, &g));	/* nothing yet */
	assert_int_equal(origintab_put(&t, 5, &a), 0);
	assert_int_equal(origintab_put(&t, 6, &b), 0);
	assert_true(origintab_take(&t, 5, &g));
	assert_memory_equal(&g, &a, sizeof(a));
	assert_false(origintab_take(&t, 5, &g));	/* taken once */
	assert_null(origintab_get(&t, 5));
	assert_int_equal(origintab_count(&t), 1);
	/* room again: 7 goes in without pushing 6 out */
	assert_int_equal(origintab_put(&t, 7, &c), 0);
	assert_non_null(origintab_get(&t, 6));
	assert_non_null(origintab_get(&t, 7));
	assert_true(origintab_take(&t, 6, &g));
	assert_int_equal(g.sport, 2000);
	assert_true(origintab_take(&t, 7, &g));
	assert_int_equal(origintab_count(&t), 0);
	origintab_fini(&t);			/* ASan: nothing left */
}

/* At most max: the oldest goes first; an id told again is the youngest. */
static void test_tab_bounded(void **state)
{
	struct origintab t;
	struct origin o;

	(void)state;
	origintab_init(&t, 3);
	for (uint32_t id = 1; id <= 3; id++) {
		o = o4((uint8_t)id, (uint16_t)id);
		assert_int_equal(origintab_put(&t, id, &o), 0);
	}
	/* 1 again: replaced, and now the youngest */
	o = o4(99, 9999);
	assert_int_equal(origintab_put(&t, 1, &o), 0);
	assert_int_equal(origintab_count(&t), 3);
	assert_int_equal(origintab_get(&t, 1)->sport, 9999);
	/* 4 evicts 2, the oldest; 5 evicts 3 */
	o = o4(4, 4);
	assert_int_equal(origintab_put(&t, 4, &o), 0);
	assert_null(origintab_get(&t, 2));
	assert_non_null(origintab_get(&t, 3));
	o = o4(5, 5);
	assert_int_equal(origintab_put(&t, 5, &o), 0);
	assert_null(origintab_get(&t, 3));
	assert_int_equal(origintab_count(&t), 3);
	assert_int_equal(origintab_get(&t, 1)->sport, 9999);
	assert_int_equal(origintab_get(&t, 4)->sport, 4);
	assert_int_equal(origintab_get(&t, 5)->sport, 5);
	/* 6 evicts 1 (made youngest before 4 and 5 came) */
	o = o4(6, 6);
	assert_int_equal(origintab_put(&t, 6, &o), 0);
	assert_null(origintab_get(&t, 1));
	assert_int_equal(origintab_count(&t), 3);
	origintab_fini(&t);
}

/* Many ids (a flow-max of 65536 flows): each found, the oldest gone. */
static void test_tab_many(void **state)
{
	struct origintab t;
	struct origin o = o4(1, 1);
	uint32_t max = 65536, n = max + 1000;

	(void)state;
	origintab_init(&t, max);
	for (uint32_t id = 1; id <= n; id++) {
		o.sport = (uint16_t)id;
		assert_int_equal(origintab_put(&t, id * 7919U, &o), 0);
	}
	assert_int_equal(origintab_count(&t), max);
	for (uint32_t id = 1; id <= n; id++) {
		const struct origin *g = origintab_get(&t, id * 7919U);

		if (id <= n - max) {
			assert_null(g);
		} else {
			assert_non_null(g);
			assert_int_equal(g->sport, (uint16_t)id);
		}
	}
	origintab_fini(&t);
}

/* put o4(id) for each id; each must be kept */
static void put_ids(struct origintab *t, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct origin o = o4((uint8_t)ids[i], (uint16_t)ids[i]);

		assert_int_equal(origintab_put(t, ids[i], &o), 0);
	}
}

/* One scan of the table: the dump lists ids (complete or failed). */
static uint32_t tab_scan(struct origintab *t, const uint32_t *ids, size_t n,
			 bool complete)
{
	origintab_scan_begin(t);
	for (size_t i = 0; i < n; i++)
		origintab_scan_mark(t, ids[i]);
	return origintab_scan_end(t, complete);
}

/* Two tables on one budget (a carrier's streams): none beyond it. */
static void test_tab_budget(void **state)
{
	struct flowbudget b = { .max = 3 };
	struct origintab t1, t2;
	struct origin o = o4(50, 5000), g;
	const uint32_t a[] = { 1, 2 };

	(void)state;
	origintab_init(&t1, 2);
	origintab_init(&t2, 4);
	origintab_set_budget(&t1, &b);
	origintab_set_budget(&t2, &b);
	put_ids(&t1, a, 2);
	assert_int_equal(origintab_put(&t2, 10, &o), 0);
	assert_int_equal(b.count, 3);
	/* full: a new id is refused (1), in either table, nothing changes */
	assert_int_equal(origintab_put(&t2, 11, &o), 1);
	assert_null(origintab_get(&t2, 11));
	assert_int_equal(origintab_count(&t2), 1);
	assert_int_equal(b.count, 3);
	/* an id already kept is replaced, full or not */
	o.sport = 6000;
	assert_int_equal(origintab_put(&t2, 10, &o), 0);
	assert_int_equal(origintab_get(&t2, 10)->sport, 6000);
	/* t1 is at its own max: a new id pushes its oldest out, no more */
	assert_int_equal(origintab_put(&t1, 3, &o), 0);
	assert_null(origintab_get(&t1, 1));
	assert_non_null(origintab_get(&t1, 3));
	assert_int_equal(b.count, 3);
	/* one taken out: room for one again */
	assert_true(origintab_take(&t1, 2, &g));
	assert_int_equal(b.count, 2);
	assert_int_equal(origintab_put(&t2, 11, &o), 0);
	assert_int_equal(origintab_put(&t2, 12, &o), 1);
	assert_int_equal(b.count, 3);
	/* a table freed gives its count back; then used again */
	origintab_fini(&t2);
	assert_int_equal(b.count, 1);
	assert_int_equal(origintab_put(&t2, 12, &o), 0);
	assert_int_equal(origintab_put(&t2, 13, &o), 0);
	assert_int_equal(b.count, 3);
	assert_int_equal(origintab_put(&t2, 14, &o), 1);
	origintab_fini(&t1);
	origintab_fini(&t2);
	assert_int_equal(b.count, 0);
}

/* A budget already full: an empty table allocates nothing. */
static void test_tab_budget_empty(void **state)
{
	struct flowbudget b = { .max = 1, .count = 1 };
	struct origintab t;
	struct origin o = o4(1, 1);

	(void)state;
	origintab_init(&t, 8);
	origintab_set_budget(&t, &b);
	assert_int_equal(origintab_put(&t, 1, &o), 1);
	assert_null(t.ids.buckets);
	assert_int_equal(origintab_count(&t), 0);
	b.count = 0;
	assert_int_equal(origintab_put(&t, 1, &o), 0);
	assert_int_equal(b.count, 1);
	origintab_fini(&t);
	assert_int_equal(b.count, 0);
}

/*
 * Scans: an origin stays while a dump lists its id, and one dump more;
 * an origin put counts as listed by the dump before the next.
 */
static void test_tab_scan(void **state)
{
	struct flowbudget b = { .max = 100 };
	struct origintab t;
	const uint32_t ids[] = { 1, 2, 3, 4 };
	const uint32_t d_all[] = { 1, 2, 3, 4 };
	const uint32_t d_13[] = { 3, 1, 99 };
	const uint32_t d_3[] = { 3 };
	struct origin o = o4(5, 5);

	(void)state;
	origintab_init(&t, 8);
	origintab_set_budget(&t, &b);
	/* nothing kept: a scan finds nothing to drop */
	assert_int_equal(tab_scan(&t, d_all, 4, true), 0);
	assert_null(t.ids.buckets);
	put_ids(&t, ids, 4);
	/* 4 not in the first dump after it came: kept (its flow may show
	 * up in the next)
	 */
	assert_int_equal(tab_scan(&t, d_13, 3, true), 0);
	assert_int_equal(origintab_count(&t), 4);
	/* ... nor in the second: 2 and 4 go; 99 (no origin) changes nothing */
	assert_int_equal(tab_scan(&t, d_13, 3, true), 2);
	assert_int_equal(origintab_count(&t), 2);
	assert_null(origintab_get(&t, 2));
	assert_null(origintab_get(&t, 4));
	assert_non_null(origintab_get(&t, 1));
	assert_non_null(origintab_get(&t, 3));
	assert_int_equal(b.count, 2);
	/* 1 ended: one dump of grace, then dropped */
	assert_int_equal(tab_scan(&t, d_3, 1, true), 0);
	assert_non_null(origintab_get(&t, 1));
	assert_int_equal(tab_scan(&t, d_3, 1, true), 1);
	assert_null(origintab_get(&t, 1));
	/* 1 told again (a flow id used again): kept as new, a dump of grace */
	assert_int_equal(origintab_put(&t, 1, &o), 0);
	assert_int_equal(tab_scan(&t, d_3, 1, true), 0);
	assert_int_equal(origintab_get(&t, 1)->sport, 5);
	assert_int_equal(tab_scan(&t, d_13, 3, true), 0);
	/* both end; 3 is told again before it goes: a dump of grace anew */
	assert_int_equal(tab_scan(&t, NULL, 0, true), 0);
	assert_int_equal(origintab_put(&t, 3, &o), 0);
	assert_int_equal(tab_scan(&t, NULL, 0, true), 1);	/* 1 */
	assert_non_null(origintab_get(&t, 3));
	assert_int_equal(tab_scan(&t, NULL, 0, true), 1);	/* 3 */
	assert_int_equal(origintab_count(&t), 0);
	assert_int_equal(b.count, 0);
	origintab_fini(&t);
}

/* A dump that failed drops nothing and takes no grace away. */
static void test_tab_scan_failed(void **state)
{
	struct origintab t;
	const uint32_t ids[] = { 7, 8, 9 };
	const uint32_t d_7[] = { 7 };

	(void)state;
	origintab_init(&t, 8);
	put_ids(&t, ids, 3);
	/* failed dumps (one listed 7 before failing, the others nothing) */
	for (int i = 0; i < 5; i++)
		assert_int_equal(tab_scan(&t, i ? NULL : d_7, i ? 0 : 1,
					  false), 0);
	assert_int_equal(origintab_count(&t), 3);
	/* the first complete dump since they came: 8 and 9 kept (grace) */
	assert_int_equal(tab_scan(&t, d_7, 1, true), 0);
	assert_int_equal(origintab_count(&t), 3);
	assert_int_equal(tab_scan(&t, d_7, 1, true), 2);
	assert_int_equal(origintab_count(&t), 1);
	assert_non_null(origintab_get(&t, 7));
	/* 7 ends: dropped two complete dumps later, failed ones between */
	assert_int_equal(tab_scan(&t, NULL, 0, true), 0);
	assert_int_equal(tab_scan(&t, NULL, 0, false), 0);
	assert_non_null(origintab_get(&t, 7));
	assert_int_equal(tab_scan(&t, NULL, 0, true), 1);
	assert_int_equal(origintab_count(&t), 0);
	origintab_fini(&t);
}

/* Many scans (the counter wraps): the same rule, the order kept. */
static void test_tab_scan_wrap(void **state)
{
	struct origintab t;
	const uint32_t ids[] = { 1, 2 };
	const uint32_t d_2[] = { 2 };
	struct origin o = o4(3, 3);

	(void)state;
	origintab_init(&t, 2);
	t.scan = UINT32_MAX - 1;
	put_ids(&t, ids, 2);
	assert_int_equal(tab_scan(&t, d_2, 1, true), 0);	/* MAX */
	assert_int_equal(tab_scan(&t, d_2, 1, true), 1);	/* 0: 1 goes */
	assert_int_equal(t.scan, 0);
	assert_null(origintab_get(&t, 1));
	assert_int_equal(tab_scan(&t, d_2, 1, true), 0);
	assert_int_equal(origintab_count(&t), 1);
	/* the oldest is still pushed out first: 2, then 3 */
	assert_int_equal(origintab_put(&t, 3, &o), 0);
	assert_int_equal(origintab_put(&t, 4, &o), 0);
	assert_null(origintab_get(&t, 2));
	assert_non_null(origintab_get(&t, 3));
	origintab_fini(&t);
}

/* One scan: the dump lists ids; those not announced yet are sent. */
static void scan(struct annset *s, const uint32_t *ids, size_t n,
		 bool room, uint32_t *sent, size_t *nsent)
{
	*nsent = 0;
	annset_begin(s);
	for (size_t i = 0; i < n; i++) {
		if (annset_seen(s, ids[i]))
			continue;
		/* no room in the queue: not sent, not marked */
		if (!room || annset_count(s) >= s->max)
			continue;
		sent[(*nsent)++] = ids[i];
		assert_int_equal(annset_add(s, ids[i]), 0);
	}
	annset_end(s);
}

static void test_annset(void **state)
{
	struct annset s;
	uint32_t sent[8];
	size_t n;
	const uint32_t d1[] = { 1, 2, 3 };
	const uint32_t d2[] = { 3, 2, 4, 1 };
	const uint32_t d3[] = { 4, 5 };
	const uint32_t d4[] = { 5, 6, 2 };

	(void)state;
	annset_init(&s, 8);
	assert_null(s.ids.buckets);
	assert_false(annset_seen(&s, 1));
	scan(&s, d1, 3, true, sent, &n);
	assert_int_equal(n, 3);
	assert_int_equal(annset_count(&s), 3);
	/* only 4 is new */
	scan(&s, d2, 4, true, sent, &n);
	assert_int_equal(n, 1);
	assert_int_equal(sent[0], 4);
	/* 1, 2 and 3 ended: forgotten; 5 new */
	scan(&s, d3, 2, true, sent, &n);
	assert_int_equal(n, 1);
	assert_int_equal(sent[0], 5);
	assert_int_equal(annset_count(&s), 2);
	/* 2 again (an id the kernel used again): announced again */
	scan(&s, d4, 3, true, sent, &n);
	assert_int_equal(n, 2);
	assert_int_equal(sent[0], 6);
	assert_int_equal(sent[1], 2);
	assert_int_equal(annset_count(&s), 3);
	annset_fini(&s);
	assert_null(s.ids.buckets);
	assert_int_equal(annset_count(&s), 0);
}

/* No room: nothing marked, all sent at the next scan with room. */
static void test_annset_no_room(void **state)
{
	struct annset s;
	uint32_t sent[8];
	size_t n;
	const uint32_t d[] = { 10, 11 };

	(void)state;
	annset_init(&s, 8);
	scan(&s, d, 2, false, sent, &n);
	assert_int_equal(n, 0);
	assert_int_equal(annset_count(&s), 0);
	scan(&s, d, 2, true, sent, &n);
	assert_int_equal(n, 2);
	scan(&s, d, 2, true, sent, &n);
	assert_int_equal(n, 0);
	annset_fini(&s);
}

/* At most max ids: add refuses beyond, and nothing is lost meanwhile. */
static void test_annset_bounded(void **state)
{
	struct annset s;
	uint32_t sent[8];
	size_t n;
	const uint32_t d1[] = { 1, 2, 3 };
	const uint32_t d2[] = { 2, 3, 4 };

	(void)state;
	annset_init(&s, 2);
	scan(&s, d1, 3, true, sent, &n);
	assert_int_equal(n, 2);
	assert_int_equal(annset_count(&s), 2);
	assert_int_equal(annset_add(&s, 99), -1);
	/* 1 ended: room for 3 at the next scan, 4 still waits */
	scan(&s, d2, 3, true, sent, &n);
	assert_int_equal(annset_count(&s), 1);
	assert_int_equal(n, 0);
	scan(&s, d2, 3, true, sent, &n);
	assert_int_equal(n, 1);
	annset_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tab_empty),
		cmocka_unit_test(test_tab_put_get),
		cmocka_unit_test(test_tab_bounded),
		cmocka_unit_test(test_tab_take),
		cmocka_unit_test(test_tab_many),
		cmocka_unit_test(test_tab_budget),
		cmocka_unit_test(test_tab_budget_empty),
		cmocka_unit_test(test_tab_scan),
		cmocka_unit_test(test_tab_scan_failed),
		cmocka_unit_test(test_tab_scan_wrap),
		cmocka_unit_test(test_annset),
		cmocka_unit_test(test_annset_no_room),
		cmocka_unit_test(test_annset_bounded),
	};

	return cmocka_run_group_tests_name("origintab", tests, NULL, NULL);
}
