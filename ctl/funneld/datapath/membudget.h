/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bytes of memory a carrier, and the daemon, may hold for TCP flows:
 * a budget per carrier whose parent is the daemon's (the same shape as
 * struct flowbudget).  A charge counts at every level; room means room
 * at every level.  Everything runs in funneld's event loop.
 */
#ifndef FUNNEL_MEMBUDGET_H
#define FUNNEL_MEMBUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct membudget {
	uint64_t used, max;
	uint64_t peak;			/* the most used so far */
	uint64_t denied;		/* requests that did not fit */
	uint64_t logged;		/* its user's last log of a denial */
	struct membudget *parent;	/* NULL at the top */
};

/* The level with the least room left: the one that denies first. */
static inline struct membudget *membudget_tightest(struct membudget *b)
{
	struct membudget *t = b;

	for (; b; b = b->parent)
		if ((b->used < b->max ? b->max - b->used : 0) <
		    (t->used < t->max ? t->max - t->used : 0))
			t = b;
	return t;
}

/* Bytes that can still be charged at every level (0 if none). */
static inline uint64_t membudget_avail(const struct membudget *b)
{
	uint64_t avail = UINT64_MAX;

	for (; b; b = b->parent) {
		uint64_t left = b->used < b->max ? b->max - b->used : 0;

		if (left < avail)
			avail = left;
	}
	return avail;
}

/*
 * Bytes that can be charged while keeping a quarter of every level free
 * (for what must not wait, e.g. new flows' initial windows).
 */
static inline uint64_t membudget_avail_spare(const struct membudget *b)
{
	uint64_t avail = UINT64_MAX;

	for (; b; b = b->parent) {
		uint64_t lim = b->max - b->max / 4;
		uint64_t left = b->used < lim ? lim - b->used : 0;

		if (left < avail)
			avail = left;
	}
	return avail;
}

static inline bool membudget_room(const struct membudget *b, uint64_t n)
{
	return membudget_avail(b) >= n;
}

/* Count n bytes at every level (the caller checked for room). */
static inline void membudget_charge(struct membudget *b, uint64_t n)
{
	for (; b; b = b->parent) {
		b->used += n;
		if (b->used > b->peak)
			b->peak = b->used;
	}
}

/* A request did not fit (wholly): counted at every level. */
static inline void membudget_deny(struct membudget *b)
{
	for (; b; b = b->parent)
		b->denied++;
}

static inline void membudget_uncharge(struct membudget *b, uint64_t n)
{
	for (; b; b = b->parent)
		b->used -= n;
}

#endif /* FUNNEL_MEMBUDGET_H */
