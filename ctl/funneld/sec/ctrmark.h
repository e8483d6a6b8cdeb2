/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counter marks (control-protocol.md MARK, plugins.md 5.4): the receive
 * side of one key of a keyed unordered plugin stream.  Such a stream has
 * no counter replay window (replay is decided per flow and Sequence);
 * this tracks which counters were authenticated, so that a MARK from the
 * sender ("I sealed up to counter c with this key") can tell whether a
 * frame was deleted on the way.
 *
 * low: the lowest counter not yet authenticated (counters start at 1).
 * Above it a bitmap holds the counters authenticated out of order.  While
 * every such counter is below low + CMARK_INLINE, the bitmap is the
 * CMARK_INLINE bits inside struct cmark (c % CMARK_INLINE): the common
 * small reordering costs no allocation.  A counter further above low
 * moves the bits to an allocated bitmap of CMARK_WINDOW bits
 * (c % CMARK_WINDOW), freed when low catches up (past top).  Catching up
 * takes every counter of the gap, at least CMARK_INLINE of them, so a
 * peer cannot make funneld allocate more than once per CMARK_INLINE
 * frames.
 *
 * A counter at or above low + CMARK_WINDOW would push low past counters
 * never authenticated: the stream is failed at once (cmark_seen() says
 * so); plugins.md 5.4 says why legitimate reordering cannot be that deep.
 *
 * Pure: no clock, no I/O; times are passed in (ms, any monotonic origin).
 */
#ifndef FUNNEL_CTRMARK_H
#define FUNNEL_CTRMARK_H

#include <stdbool.h>
#include <stdint.h>

#define CMARK_WINDOW_BITS	18
#define CMARK_WINDOW		(1U << CMARK_WINDOW_BITS)
#define CMARK_INLINE		256	/* bits kept in struct cmark */
/* A marked counter must be met within this long (FUNNELD_MARK_WAIT_MS
 * may lower it for tests).
 */
#define CMARK_WAIT_MS		30000

struct cmark {
	uint64_t low;			/* lowest counter not authenticated */
	uint64_t top;			/* highest counter authenticated */
	uint64_t *bits;			/* CMARK_WINDOW bits, or NULL */
	uint64_t inl[CMARK_INLINE / 64];	/* the bits while bits is NULL */
	unsigned int nalloc;		/* bits allocations (for tests) */
	uint64_t mark;			/* highest unmet marked counter, 0: none */
	uint64_t deadline;		/* ms: low must move on by then */
	uint64_t wait;			/* ms: the mark's wait */
};

enum cmark_verdict {
	CMARK_OK = 0,
	CMARK_OVERFLOW,			/* would pass missing counters */
	CMARK_NOMEM,
};

void cmark_init(struct cmark *m);
void cmark_free(struct cmark *m);

/*
 * Counter c (>= 1) was authenticated at time now.  A counter already
 * seen is harmless (the data path decides replay).  CMARK_OVERFLOW: c
 * is at or above low + CMARK_WINDOW, the state is unchanged;
 * CMARK_NOMEM: the bitmap could not be allocated.  A pending mark that
 * low now passes is cleared; one that low moves towards gets a new
 * deadline (now + its wait): what is missing is on its way, in order
 * (a retransmission, data queued ahead of the MARK).  Only low moving
 * counts: frames above a deleted one, or replays, do not put it off.
 */
enum cmark_verdict cmark_seen(struct cmark *m, uint64_t c, uint64_t now);

/*
 * MARK(c) at time now: true if already met (every counter up to c
 * authenticated); otherwise the pending mark becomes the highest
 * marked counter, due now + wait_ms if none was pending (else its
 * deadline stands: it moves only with low, cmark_seen()).
 */
bool cmark_mark(struct cmark *m, uint64_t c, uint64_t now, uint64_t wait_ms);

/* Is a mark pending (not met)?  Its deadline is m->deadline. */
static inline bool cmark_pending(const struct cmark *m)
{
	return m->mark != 0;
}

/* True if a mark is pending and its deadline has come. */
bool cmark_expired(const struct cmark *m, uint64_t now);

#endif /* FUNNEL_CTRMARK_H */
