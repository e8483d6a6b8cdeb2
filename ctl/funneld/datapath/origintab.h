/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What funneld keeps about the origins of the UDP flows that funnel.ko
 * creates (control-protocol.md section 8), which carry none themselves:
 *
 * - server side (udp-connect): struct origintab, the peer's ORIGIN
 *   messages by flow id, at most max of them (the oldest dropped first,
 *   an id already there replaced), for show; upath.c keeps the ORIGIN
 *   messages that come before their flow in one too;
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
};

/* An empty table of at most max (>= 1) origins. */
void origintab_init(struct origintab *t, uint32_t max);
/* Keep o as flow id's origin; 0, or -1 out of memory. */
int origintab_put(struct origintab *t, uint32_t id, const struct origin *o);
/* Flow id's origin, or NULL. */
const struct origin *origintab_get(const struct origintab *t, uint32_t id);
/* Flow id's origin into *o, out of the table: false if it has none. */
bool origintab_take(struct origintab *t, uint32_t id, struct origin *o);
/* How many are kept. */
uint32_t origintab_count(const struct origintab *t);
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
