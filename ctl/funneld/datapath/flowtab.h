/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow id table of a funneld stream (upath.c, tpath.c): flows hashed
 * by their 32-bit flow id, as funnel.ko does.  The hash is seeded per
 * table, so that a peer cannot choose ids that share a bucket; there is
 * about one bucket per flow, 16 to 4096 of them.
 *
 * A flow embeds a struct flowtab_node and is found again from it with
 * flowtab_entry().  The table neither allocates nor frees flows.
 */
#ifndef FUNNEL_FLOWTAB_H
#define FUNNEL_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Flows counted against a limit that several tables share: a carrier's
 * (all its streams) and, through parent, the daemon's (all carriers), as
 * funnel.ko's carrier_flows_max and netns_flows_max do in the kernel.
 * Each flow of the userspace path holds a socket, so these also keep one
 * peer's flows below the daemon's descriptor limit.
 */
struct flowbudget {
	uint32_t count, max;
	struct flowbudget *parent;	/* NULL at the top */
};

/* Is there room for one more flow in b and every budget above it? */
bool flowbudget_room(const struct flowbudget *b);

struct flowtab_node {
	struct flowtab_node *next, **pprev;
	uint32_t id;
};

struct flowtab {
	uint32_t seed;
	uint32_t mask;			/* buckets - 1 */
	uint32_t count;			/* nodes in the table */
	uint32_t next_id;		/* flowtab_alloc_id(): next id to try */
	struct flowtab_node **buckets;
	struct flowbudget *budget;	/* insert/remove count here; or NULL */
};

/* The flow of type that embeds node n as member. */
#define flowtab_entry(n, type, member) \
	((type *)(void *)((char *)(n) - offsetof(type, member)))

/*
 * Walk every node, bucket by bucket; tmp keeps the next one, so that the
 * body may remove (and free) n.
 */
#define flowtab_for_each(t, n, tmp)					\
	for ((n) = flowtab_first(t);					\
	     (n) && ((tmp) = flowtab_next((t), (n)), 1); (n) = (tmp))

/* A 32-bit finaliser: every input bit reaches every output bit. */
uint32_t flowtab_mix32(uint32_t h);

/*
 * An empty table for flow_max flows: seeded, first id to hand out 1, no
 * budget (set t->budget after this).
 * 0, or -1 out of memory (flowtab_fini() is still to be called).
 */
int flowtab_init(struct flowtab *t, uint32_t flow_max);

/* Free the buckets (not the nodes), giving their count back to the
 * budget.
 */
void flowtab_fini(struct flowtab *t);

struct flowtab_node *flowtab_lookup(const struct flowtab *t, uint32_t id);

/*
 * May a new flow be added: below flow_max, and room in the table's
 * budget?
 */
bool flowtab_room(const struct flowtab *t, uint32_t flow_max);

/* Add n, whose id is set and not in the table yet. */
void flowtab_insert(struct flowtab *t, struct flowtab_node *n);

void flowtab_remove(struct flowtab *t, struct flowtab_node *n);

/*
 * The next id of the table's 32-bit counter that is neither 0 nor in use
 * (wire-format.md 8).  count < 2^32 - 1 guarantees one is free.
 */
uint32_t flowtab_alloc_id(struct flowtab *t);

/* The first node in bucket order, and the one after n; NULL at the end. */
struct flowtab_node *flowtab_first(const struct flowtab *t);
struct flowtab_node *flowtab_next(const struct flowtab *t,
				  const struct flowtab_node *n);

#endif
