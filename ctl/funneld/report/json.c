// SPDX-License-Identifier: GPL-2.0
/*
 * "show --json" and "stats --json": one JSON writer for both documents.
 *
 * Each object of a snapshot (snap.h) is described once, by a table of its
 * members: the key, the documents it is in (SHOW, STATS or both), and
 * where its value is.  The writer walks a table for one document; the
 * carriers, streams, peers and maps of both documents are the same
 * tables.  Keys and their order are an interface (Documentation/
 * operations.md, funnelctl(8)): a member is added at the end of its
 * object.
 *
 * Strings are always valid UTF-8 (json_string()); numbers are unsigned
 * integers.  Nothing here allocates memory.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "funneld/report/report.h"

/* The documents a member is in. */
#define SHOW	1U		/* show --json */
#define STATS	2U		/* stats --json */
#define BOTH	(SHOW | STATS)

/* One document being written. */
struct jw {
	FILE *f;
	const struct snapshot *s;
	unsigned int doc;	/* SHOW or STATS */
};

enum jtype {
	J_CHARS,		/* char array */
	J_STR,			/* const char *, NULL for "" */
	J_BOOL,
	J_U16,
	J_U32,
	J_U64,
	J_STATS,		/* struct fstats: {"rx-frames":1,...} */
	J_ARRAY,		/* an array of objects: pointer and count */
	J_OBJECT,		/* a struct member, as an object */
	J_FN,			/* written by fn */
};

struct jfield;

/* An object: its members, in order. */
struct jobject {
	const struct jfield *fields;
	size_t n;
	size_t size;		/* of the struct, for arrays of it */
};

struct jfield {
	const char *key;
	unsigned int docs;
	enum jtype type;
	size_t off;		/* of the member in its struct */
	size_t count_off;	/* J_ARRAY: of the element count (size_t) */
	const struct jobject *elem;	/* J_ARRAY: the elements; J_OBJECT */
	void (*fn)(const struct jw *w, const void *obj);	/* J_FN */
};

/* The type of member m of struct T; any other type does not compile. */
#define JTYPE(T, m) _Generic(((T *)0)->m,				\
	char *: J_CHARS, const char *: J_STR, bool: J_BOOL,		\
	uint16_t: J_U16, uint32_t: J_U32, uint64_t: J_U64,		\
	struct fstats: J_STATS)

/* Member m of struct T, under key, in docs. */
#define F(key, docs, T, m) \
	{ key, docs, JTYPE(T, m), offsetof(T, m), 0, NULL, NULL }

/* The array m (count nm) of struct T, each element an object e. */
#define A(key, docs, T, m, nm, e) \
	{ key, docs, J_ARRAY, offsetof(T, m), offsetof(T, nm), &(e), NULL }

/* The struct member m of struct T, as the object e. */
#define O(key, docs, T, m, e) \
	{ key, docs, J_OBJECT, offsetof(T, m), 0, &(e), NULL }

/* A value that fn writes. */
#define FN(key, docs, fn) { key, docs, J_FN, 0, 0, NULL, fn }

#define OBJECT(T, fields) \
	{ fields, sizeof(fields) / sizeof(fields[0]), sizeof(T) }

/* ---- values ---- */

/* sep "key": sep is "" for the first member of an object, else "," */
static void jkey(FILE *f, const char *sep, const char *key)
{
	fputs(sep, f);
	json_string(f, key);
	fputc(':', f);
}

/* {"rx-frames":1,...}: the counters that have a name */
static void jstats(FILE *f, const struct fstats *st)
{
	const char *sep = "";
	const char *name;

	fputc('{', f);
	for (unsigned int i = 0; i < FSTATS_N; i++) {
		name = fstats_name(i);
		if (!name)
			continue;
		jkey(f, sep, name);
		fprintf(f, "%" PRIu64, st->v[i]);
		sep = ",";
	}
	fputc('}', f);
}

static void jobject(const struct jw *w, const struct jobject *o,
		    const void *obj);

static void jarray(const struct jw *w, const struct jobject *o,
		   const void *base, size_t n)
{
	fputc('[', w->f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', w->f);
		jobject(w, o, (const char *)base + i * o->size);
	}
	fputc(']', w->f);
}

static void jvalue(const struct jw *w, const struct jfield *fl,
		   const void *obj)
{
	const char *p = (const char *)obj + fl->off;
	const char *str;
	const void *base;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	size_t n;
	bool b;

	switch (fl->type) {
	case J_CHARS:
		json_string(w->f, p);
		break;
	case J_STR:
		memcpy(&str, p, sizeof(str));
		json_string(w->f, report_str(str));
		break;
	case J_BOOL:
		memcpy(&b, p, sizeof(b));
		fputs(b ? "true" : "false", w->f);
		break;
	case J_U16:
		memcpy(&u16, p, sizeof(u16));
		fprintf(w->f, "%" PRIu16, u16);
		break;
	case J_U32:
		memcpy(&u32, p, sizeof(u32));
		fprintf(w->f, "%" PRIu32, u32);
		break;
	case J_U64:
		memcpy(&u64, p, sizeof(u64));
		fprintf(w->f, "%" PRIu64, u64);
		break;
	case J_STATS:
		jstats(w->f, (const struct fstats *)(const void *)p);
		break;
	case J_ARRAY:
		memcpy(&base, p, sizeof(base));
		memcpy(&n, (const char *)obj + fl->count_off, sizeof(n));
		jarray(w, fl->elem, base, n);
		break;
	case J_OBJECT:
		jobject(w, fl->elem, p);
		break;
	case J_FN:
		fl->fn(w, obj);
		break;
	}
}

/* The members of obj that are in this document. */
static void jobject(const struct jw *w, const struct jobject *o,
		    const void *obj)
{
	const char *sep = "";

	fputc('{', w->f);
	for (size_t i = 0; i < o->n; i++) {
		if (!(o->fields[i].docs & w->doc))
			continue;
		jkey(w->f, sep, o->fields[i].key);
		jvalue(w, &o->fields[i], obj);
		sep = ",";
	}
	fputc('}', w->f);
}

/* ---- values that are not members ---- */

static void carrier_peer(const struct jw *w, const void *obj)
{
	json_string(w->f, report_carrier_peer(obj));
}

static void map_stats(const struct jw *w, const void *obj)
{
	struct fstats st;

	report_map_stats(w->s, obj, &st);
	jstats(w->f, &st);
}

static void peer_stats(const struct jw *w, const void *obj)
{
	const struct snap_peer *p = obj;
	struct fstats st;

	report_peer_stats(w->s, p->name, &st);
	jstats(w->f, &st);
}

/* A peer's addresses: ["192.0.2.1:9899","192.0.2.2:9899"] */
static void peer_addrs(const struct jw *w, const void *obj)
{
	const struct snap_peer *p = obj;

	fputc('[', w->f);
	for (size_t i = 0; i < p->n_addrs && i < SNAP_PEER_ADDRS_MAX; i++) {
		if (i)
			fputc(',', w->f);
		json_string(w->f, p->addrs[i]);
	}
	fputc(']', w->f);
}

static void listens(const struct jw *w, const void *obj)
{
	const struct snapshot *s = obj;

	fputc('[', w->f);
	for (size_t i = 0; i < s->n_listens; i++) {
		if (i)
			fputc(',', w->f);
		json_string(w->f, s->listens[i]);
	}
	fputc(']', w->f);
}

/* The version of the "show --json" document (report.h) */
static void schema_version(const struct jw *w, const void *obj)
{
	(void)obj;
	fprintf(w->f, "%u", REPORT_SHOW_SCHEMA_VERSION);
}

static void daemon_counters(const struct jw *w, const void *obj)
{
	const struct report_daemon_counter *dc;

	fputc('{', w->f);
	for (size_t i = 0; i < REPORT_DAEMON_COUNTERS; i++) {
		dc = &report_daemon_counters[i];
		jkey(w->f, i ? "," : "", dc->name);
		fprintf(w->f, "%" PRIu64, report_daemon_value(obj, dc));
	}
	fputc('}', w->f);
}

/* ---- the objects ---- */

static const struct jfield buffers_fields[] = {
	F("queued", BOTH, struct snap_buffers, queued),
	F("queued_peak", BOTH, struct snap_buffers, queued_peak),
	F("reserved", BOTH, struct snap_buffers, reserved),
	F("max", BOTH, struct snap_buffers, max),
	F("short_windows", BOTH, struct snap_buffers, short_windows),
};
static const struct jobject buffers_obj =
	OBJECT(struct snap_buffers, buffers_fields);

static const struct jfield flow_fields[] = {
	F("id", SHOW, struct snap_flow, id),
	F("local", SHOW, struct snap_flow, local),
	F("remote", SHOW, struct snap_flow, remote),
	F("idle_ms", SHOW, struct snap_flow, idle_ms),
	F("stats", SHOW, struct snap_flow, st),
	F("origin", SHOW, struct snap_flow, origin),
};
static const struct jobject flow_obj = OBJECT(struct snap_flow, flow_fields);

static const struct jfield stream_fields[] = {
	F("id", BOTH, struct snap_stream, id),
	F("service", BOTH, struct snap_stream, service),
	F("proto", SHOW, struct snap_stream, proto),
	F("addr", SHOW, struct snap_stream, addr),
	F("state", SHOW, struct snap_stream, state),
	F("reason", SHOW, struct snap_stream, reason),
	F("unordered", SHOW, struct snap_stream, unordered),
	F("key_generation", SHOW, struct snap_stream, key_gen),
	F("rekeys", SHOW, struct snap_stream, rekeys),
	F("principal", SHOW, struct snap_stream, principal),
	F("nflows", SHOW, struct snap_stream, nflows),
	F("stats", BOTH, struct snap_stream, st),
	A("flows", SHOW, struct snap_stream, flows, n_flows, flow_obj),
};
static const struct jobject stream_obj =
	OBJECT(struct snap_stream, stream_fields);

static const struct jfield carrier_fields[] = {
	/* show: the configured peer; stats: also an incoming one's node */
	F("peer", SHOW, struct snap_carrier, peer),
	FN("peer", STATS, carrier_peer),
	F("incoming", BOTH, struct snap_carrier, incoming),
	F("transport", SHOW, struct snap_carrier, transport),
	F("transport_why", SHOW, struct snap_carrier, transport_why),
	F("paths", SHOW, struct snap_carrier, paths),
	F("abandoned", SHOW, struct snap_carrier, abandoned),
	F("datapath", SHOW, struct snap_carrier, datapath),
	F("state", SHOW, struct snap_carrier, state),
	F("local", SHOW, struct snap_carrier, local),
	F("remote", BOTH, struct snap_carrier, remote),
	F("peer_node", SHOW, struct snap_carrier, peer_node),
	F("principal", SHOW, struct snap_carrier, principal),
	F("kernel_id", SHOW, struct snap_carrier, kernel_id),
	F("up_ms", SHOW, struct snap_carrier, up_ms),
	F("reconnects", SHOW, struct snap_carrier, reconnects),
	F("next_try_ms", SHOW, struct snap_carrier, next_try_ms),
	F("last_error", SHOW, struct snap_carrier, last_error),
	F("pings_missed", SHOW, struct snap_carrier, pings_missed),
	F("marks_ignored", SHOW, struct snap_carrier, marks_ignored),
	F("stats", BOTH, struct snap_carrier, st),
	A("streams", BOTH, struct snap_carrier, streams, n_streams,
	  stream_obj),
	O("tcp_buffers", BOTH, struct snap_carrier, tcp, buffers_obj),
};
static const struct jobject carrier_obj =
	OBJECT(struct snap_carrier, carrier_fields);

static const struct jfield peer_fields[] = {
	F("name", BOTH, struct snap_peer, name),
	F("host", SHOW, struct snap_peer, host),
	F("carrier", SHOW, struct snap_peer, carrier),
	F("principal", SHOW, struct snap_peer, principal),
	FN("stats", STATS, peer_stats),
	FN("addresses", SHOW, peer_addrs),
	F("udp_port", SHOW, struct snap_peer, udp_port),
};
static const struct jobject peer_obj = OBJECT(struct snap_peer, peer_fields);

static const struct jfield service_fields[] = {
	F("name", SHOW, struct snap_service, name),
	F("proto", SHOW, struct snap_service, proto),
	F("target", SHOW, struct snap_service, target),
	F("allow", SHOW, struct snap_service, allow),
	F("identity", SHOW, struct snap_service, identity),
	F("opens", SHOW, struct snap_service, opens),
	F("refusals", SHOW, struct snap_service, refusals),
	F("proxy", SHOW, struct snap_service, proxy),
	F("plugin", SHOW, struct snap_service, plugin),
	F("last_refusal", SHOW, struct snap_service, last_refusal),
	F("relay", SHOW, struct snap_service, relay),
	F("relayed_frames", SHOW, struct snap_service, relayed),
	F("relay_drops", SHOW, struct snap_service, relay_drops),
};
static const struct jobject service_obj =
	OBJECT(struct snap_service, service_fields);

static const struct jfield map_fields[] = {
	F("proto", BOTH, struct snap_map, proto),
	F("addr", BOTH, struct snap_map, addr),
	F("peer", BOTH, struct snap_map, peer),
	F("service", BOTH, struct snap_map, service),
	F("identity", SHOW, struct snap_map, identity),
	F("principal", SHOW, struct snap_map, principal),
	F("plugin", SHOW, struct snap_map, plugin),
	F("stream", SHOW, struct snap_map, stream),
	F("state", SHOW, struct snap_map, state),
	F("reason", SHOW, struct snap_map, reason),
	FN("stats", STATS, map_stats),
};
static const struct jobject map_obj = OBJECT(struct snap_map, map_fields);

/* The document; stats --json has the carriers first. */
static const struct jfield snapshot_fields[] = {
	F("version", SHOW, struct snapshot, version),
	F("datapath", SHOW, struct snapshot, datapath),
	F("kernel_available", SHOW, struct snapshot, kernel_available),
	F("plaintext", SHOW, struct snapshot, plaintext),
	F("identity", SHOW, struct snapshot, identity),
	F("uptime_ms", SHOW, struct snapshot, uptime_ms),
	FN("listens", SHOW, listens),
	F("accepts", SHOW, struct snapshot, accepts),
	FN("daemon", STATS, daemon_counters),
	A("carriers", STATS, struct snapshot, carriers, n_carriers,
	  carrier_obj),
	A("peers", BOTH, struct snapshot, peers, n_peers, peer_obj),
	A("services", SHOW, struct snapshot, services, n_services,
	  service_obj),
	A("maps", BOTH, struct snapshot, maps, n_maps, map_obj),
	A("carriers", SHOW, struct snapshot, carriers, n_carriers,
	  carrier_obj),
	FN("schema_version", SHOW, schema_version),
	O("tcp_buffers", BOTH, struct snapshot, tcp, buffers_obj),
};
static const struct jobject snapshot_obj =
	OBJECT(struct snapshot, snapshot_fields);

/* ---- the documents ---- */

static void document(FILE *f, const struct snapshot *s, unsigned int doc)
{
	const struct jw w = { .f = f, .s = s, .doc = doc };

	jobject(&w, &snapshot_obj, s);
	fputc('\n', f);
}

void show_json(FILE *f, const struct snapshot *s)
{
	document(f, s, SHOW);
}

void stats_json(FILE *f, const struct snapshot *s)
{
	document(f, s, STATS);
}
