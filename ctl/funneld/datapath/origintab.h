/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What funneld keeps about the origins of the UDP flows that funnel.ko
 * creates (control-protocol.md section 8), which carry none themselves:
 *
 * - server side (udp-connect): struct origintab, the peer's ORIGIN
 *   messages by flow id, at most max of them (the oldest dropped first,
 *   an id already there replaced), and, with a budget, none beyond what
 *   the budget (shared by several tables) has room for; for show, with
 *   a scan of the stream's flows (as for annset below) that drops the
 *   origins whose flow is gone.  upath.c keeps the ORIGIN messages that
 *   come before their flow in one too (no budget, no scan);
 * - client side (udp-listen): struct annset, the flow ids whose ORIGIN
 *   was sent, rebuilt from each dump of the stream's flows (a scan): the
 *   ids the dump no longer lists are forgotten, at most max are kept.
 *
 * Both hash the ids (flowtab.h) and allocate nothing before their
 * first entry.
 */
#ifndef FUNNEL_ORIGINTAB_H
#define FUNNEL_ORIGINTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/origin.h"
#include "funneld/datapath/flowtab.h"

struct origintab_ent;

struct origintab {
	struct flowtab ids;		/* buckets NULL until the first put */
	struct origintab_ent *old, *young;	/* oldest first */
	uint32_t max;
	struct flowbudget *budget;	/* shared with other tables, or NULL */
	uint32_t scan;			/* the last scan begun */
};

/* An empty table of at most max (>= 1) origins, no budget. */
void origintab_init(struct origintab *t, uint32_t max);
/*
 * Count the table's origins in b as well (and in its parents): a new id
 * is refused while b is full.  Before the first put.
 */
void origintab_set_budget(struct origintab *t, struct flowbudget *b);
/*
 * Keep o as flow id's origin: 0; 1: not kept, a new id and the budget
 * full; -1 out of memory.  A new id in a full table pushes the oldest
 * out (which the budget does not refuse).
 */
int origintab_put(struct origintab *t, uint32_t id, const struct origin *o);
/* Flow id's origin, or NULL. */
const struct origin *origintab_get(const struct origintab *t, uint32_t id);
/* Flow id's origin into *o, out of the table: false if it has none. */
bool origintab_take(struct origintab *t, uint32_t id, struct origin *o);
/* How many are kept. */
uint32_t origintab_count(const struct origintab *t);
/*
 * A scan begins: the flows of a dump of the stream follow, each with
 * origintab_scan_mark().  An origin put counts as listed by the dump
 * before the next one (an ORIGIN may come before its flow is in a dump).
 */
void origintab_scan_begin(struct origintab *t);
void origintab_scan_mark(struct origintab *t, uint32_t id);
/*
 * The dump is over.  complete: drop the origins it did not list and the
 * dump before did not either (one dump of grace); returns how many.
 * Not complete (the dump failed): nothing is dropped, the scan counts as
 * none.
 */
uint32_t origintab_scan_end(struct origintab *t, bool complete);
/* Free every origin; the table is empty (and may be used again). */
void origintab_fini(struct origintab *t);

struct annset {
	struct flowtab ids;		/* buckets NULL until the first add */
	uint32_t max;
	uint32_t scan;			/* the scan under way */
};

/* An empty set of at most max (>= 1) ids. */
void annset_init(struct annset *s, uint32_t max);
/* A scan begins: the flows of a dump follow, each with annset_seen(). */
void annset_begin(struct annset *s);
/* Is id in the set (announced before)?  If so it stays after this scan. */
bool annset_seen(struct annset *s, uint32_t id);
/* id (not in the set) was announced now; 0, or -1: full or no memory. */
int annset_add(struct annset *s, uint32_t id);
/* The dump is complete: forget the ids it did not list. */
void annset_end(struct annset *s);
uint32_t annset_count(const struct annset *s);
void annset_fini(struct annset *s);

#endif /* FUNNEL_ORIGINTAB_H */
