/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the renderings of a snapshot (snap.h) share: text.c ("show",
 * "stats"), json.c (their --json) and prom.c ("stats --prometheus").
 * The counters of peers and maps are not in the snapshot: they are
 * derived from its streams, the same way for every format.
 */
#ifndef FUNNEL_REPORT_H
#define FUNNEL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/fstats.h"
#include "funneld/report/snap.h"

/*
 * The version of the "show --json" document, its member "schema_version":
 * Documentation/funnel-show.schema.json describes this version.  Raised
 * at every change of the document's members (one added, removed or of
 * another type), together with the schema.
 */
#define REPORT_SHOW_SCHEMA_VERSION	9U

/* s, or "" for NULL (the snapshot's constant strings may be NULL). */
static inline const char *report_str(const char *s)
{
	return s ? s : "";
}

/* The peer a carrier belongs to: its name, or the node of an incoming one. */
const char *report_carrier_peer(const struct snap_carrier *c);

/*
 * A map's counters: those of the stream it has open, on an outgoing
 * carrier of its peer; zero when it has none.
 */
void report_map_stats(const struct snapshot *s, const struct snap_map *m,
		      struct fstats *out);

/* A peer's counters: the sum over the streams of its outgoing carriers. */
void report_peer_stats(const struct snapshot *s, const char *peer,
		       struct fstats *out);

/* The daemon's own counters, in the order every format lists them. */
struct report_daemon_counter {
	const char *name;	/* "carriers-refused-handshakes" */
	/* the reason label of funnel_carriers_refused_total; NULL if the
	 * counter is not a carrier refusal
	 */
	const char *reason;
	size_t off;		/* of its uint64_t in struct snapshot */
};

#define REPORT_DAEMON_COUNTERS	4

extern const struct report_daemon_counter
	report_daemon_counters[REPORT_DAEMON_COUNTERS];

uint64_t report_daemon_value(const struct snapshot *s,
			     const struct report_daemon_counter *dc);

#endif /* FUNNEL_REPORT_H */
