// SPDX-License-Identifier: GPL-2.0
/*
 * The flow id table of funneld's streams (flowtab.h): chained hashing with
 * a seeded mix32() of the id, as funnel.ko's flow table.
 */
#define _GNU_SOURCE

#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "funneld/datapath/flowtab.h"
#include "funneld/loop.h"

uint32_t flowtab_mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

static uint32_t seed_new(const struct flowtab *t)
{
	uint32_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* no entropy yet (early boot): weaker, but still per table */
	return flowtab_mix32((uint32_t)loop_now_ms() ^ (uint32_t)(uintptr_t)t ^
			     (uint32_t)getpid());
}

static struct flowtab_node **bucket(const struct flowtab *t, uint32_t id)
{
	return &t->buckets[flowtab_mix32(id ^ t->seed) & t->mask];
}

/* About one bucket per flow, for up to 4096 flows, as the kernel. */
int flowtab_init(struct flowtab *t, uint32_t flow_max)
{
	uint32_t want = flow_max < 16 ? 16 : flow_max > 4096 ? 4096 : flow_max;
	unsigned int bits = 4;

	while ((1U << bits) < want)
		bits++;
	t->seed = seed_new(t);
	t->mask = (1U << bits) - 1;
	t->count = 0;
	t->next_id = 1;
	t->budget = NULL;
	t->buckets = calloc((size_t)t->mask + 1, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

bool flowbudget_room(const struct flowbudget *b)
{
	for (; b; b = b->parent)
		if (b->count >= b->max)
			return false;
	return true;
}

static void flowbudget_add(struct flowbudget *b, uint32_t n, bool add)
{
	for (; b; b = b->parent)
		b->count = add ? b->count + n : b->count - n;
}

void flowtab_fini(struct flowtab *t)
{
	/* the flows still in the table are freed with it */
	flowbudget_add(t->budget, t->count, false);
	t->count = 0;
	free(t->buckets);
	t->buckets = NULL;
}

bool flowtab_room(const struct flowtab *t, uint32_t flow_max)
{
	return t->count < flow_max && flowbudget_room(t->budget);
}

struct flowtab_node *flowtab_lookup(const struct flowtab *t, uint32_t id)
{
	struct flowtab_node *n;

	for (n = *bucket(t, id); n; n = n->next)
		if (n->id == id)
			return n;
	return NULL;
}

void flowtab_insert(struct flowtab *t, struct flowtab_node *n)
{
	struct flowtab_node **head = bucket(t, n->id);

	n->next = *head;
	if (*head)
		(*head)->pprev = &n->next;
	n->pprev = head;
	*head = n;
	t->count++;
	flowbudget_add(t->budget, 1, true);
}

void flowtab_remove(struct flowtab *t, struct flowtab_node *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	t->count--;
	flowbudget_add(t->budget, 1, false);
}

uint32_t flowtab_alloc_id(struct flowtab *t)
{
	uint32_t id;

	do {
		id = t->next_id++;
	} while (!id || flowtab_lookup(t, id));
	return id;
}

/* The first node of bucket b or a later one. */
static struct flowtab_node *first_from(const struct flowtab *t, uint64_t b)
{
	for (; t->buckets && b <= t->mask; b++)
		if (t->buckets[b])
			return t->buckets[b];
	return NULL;
}

struct flowtab_node *flowtab_first(const struct flowtab *t)
{
	return first_from(t, 0);
}

struct flowtab_node *flowtab_next(const struct flowtab *t,
				  const struct flowtab_node *n)
{
	if (n->next)
		return n->next;
	return first_from(t, (uint64_t)(bucket(t, n->id) - t->buckets) + 1);
}
