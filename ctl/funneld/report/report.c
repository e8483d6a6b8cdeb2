// SPDX-License-Identifier: GPL-2.0
/* What the renderings of a snapshot share (report.h). */

#include <string.h>

#include "funneld/report/report.h"

const char *report_carrier_peer(const struct snap_carrier *c)
{
	return c->incoming ? c->peer_node : c->peer;
}

/* The stream with the map's id on an outgoing carrier of its peer. */
static const struct snap_stream *map_stream(const struct snapshot *s,
					    const struct snap_map *m)
{
	const struct snap_carrier *c;

	if (!m->stream)
		return NULL;
	for (size_t i = 0; i < s->n_carriers; i++) {
		c = &s->carriers[i];
		if (c->incoming || strcmp(c->peer, m->peer))
			continue;
		for (size_t j = 0; j < c->n_streams; j++)
			if (c->streams[j].id == m->stream)
				return &c->streams[j];
	}
	return NULL;
}

void report_map_stats(const struct snapshot *s, const struct snap_map *m,
		      struct fstats *out)
{
	const struct snap_stream *st = map_stream(s, m);

	memset(out, 0, sizeof(*out));
	if (st)
		*out = st->st;
}

void report_peer_stats(const struct snapshot *s, const char *peer,
		       struct fstats *out)
{
	const struct snap_carrier *c;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < s->n_carriers; i++) {
		c = &s->carriers[i];
		if (c->incoming || strcmp(c->peer, peer))
			continue;
		for (size_t j = 0; j < c->n_streams; j++)
			fstats_add(out, &c->streams[j].st);
	}
}

const struct report_daemon_counter
report_daemon_counters[REPORT_DAEMON_COUNTERS] = {
	{ "carriers-refused-handshakes", "handshakes",
	  offsetof(struct snapshot, refused_handshakes) },
	{ "carriers-refused-address", "address",
	  offsetof(struct snapshot, refused_address) },
	{ "carriers-refused-principal", "principal",
	  offsetof(struct snapshot, refused_principal) },
	{ "streams-refused-principal", NULL,
	  offsetof(struct snapshot, refused_streams) },
};

uint64_t report_daemon_value(const struct snapshot *s,
			     const struct report_daemon_counter *dc)
{
	uint64_t v;

	memcpy(&v, (const char *)s + dc->off, sizeof(v));
	return v;
}
