// SPDX-License-Identifier: GPL-2.0
/*
 * "show" and "stats": a snapshot of funneld's state (snap.h) rendered as
 * text for people, as JSON for programs and in the Prometheus text
 * exposition format (0.0.4) for monitoring.
 *
 * Nothing here allocates memory.  Strings of the snapshot may come from
 * the network (a peer's node name, a refusal reason), so the text formats
 * write control characters and bytes that are not UTF-8 as \xNN; JSON and
 * Prometheus escape them as their formats require and write U+FFFD for
 * bytes that are not UTF-8: their output is always valid UTF-8.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "funneld/report/snap.h"
#include "common/utf8.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* A string of the snapshot with each byte written as \xNN, and a NUL. */
#define CLEAN_MAX	(4 * SNAP_TEXT_MAX + 1)

/* Longest metric name: "funnel_carrier_" + counter name + "_total". */
#define METRIC_MAX	128

static const char *nn(const char *s)
{
	return s ? s : "";
}

static bool is_up(const struct snap_carrier *c)
{
	return c->state && !strcmp(c->state, "up");
}

/* The peer a carrier belongs to: its name, or the node of an incoming one. */
static const char *carrier_peer(const struct snap_carrier *c)
{
	return c->incoming ? c->peer_node : c->peer;
}

static const char *direction(const struct snap_carrier *c)
{
	return c->incoming ? "in" : "out";
}

/* ---- counters ---- */

/* What each counter counts, for the Prometheus HELP lines. */
static const char *const stat_help[FSTATS_N] = {
	[FUNNEL_A_STATS_RX_FRAMES]		= "Frames received",
	[FUNNEL_A_STATS_RX_BYTES]		= "Bytes received",
	[FUNNEL_A_STATS_TX_FRAMES]		= "Frames sent",
	[FUNNEL_A_STATS_TX_BYTES]		= "Bytes sent",
	[FUNNEL_A_STATS_RX_DROP_MALFORMED]	=
		"Received frames dropped: malformed (reserved flags, bad body)",
	[FUNNEL_A_STATS_RX_DROP_UNKNOWN_TYPE]	=
		"Received frames dropped: unknown frame type",
	[FUNNEL_A_STATS_RX_DROP_NO_STREAM]	=
		"Received frames dropped: no such stream",
	[FUNNEL_A_STATS_RX_DROP_NO_FLOW]	=
		"Received frames dropped: no such flow",
	[FUNNEL_A_STATS_RX_DROP_NO_KEY]		=
		"Received frames dropped: sealed without a key, or plain on a keyed stream",
	[FUNNEL_A_STATS_RX_DROP_AUTH]		=
		"Received frames dropped: authentication tag mismatch",
	[FUNNEL_A_STATS_RX_DROP_REPLAY]		=
		"Received frames dropped: duplicate or too old",
	[FUNNEL_A_STATS_RX_DROP_QUEUE]		=
		"Received frames dropped: receive queue or socket full",
	[FUNNEL_A_STATS_TX_DROP_QUEUE]		=
		"Datagrams not sent: transmit backlog full",
	[FUNNEL_A_STATS_TX_DROP_TOOBIG]		=
		"Datagrams not sent: too big for a frame",
	[FUNNEL_A_STATS_TX_DROP_NO_KEY]		=
		"Datagrams not sent: key missing or past its hard limit",
	[FUNNEL_A_STATS_FLOWS_CREATED]		= "Flows created",
	[FUNNEL_A_STATS_FLOWS_EXPIRED]		= "Flows expired",
	[FUNNEL_A_STATS_FLOW_DROP_LIMIT]	=
		"New flows refused: flow limit reached",
	[FUNNEL_A_STATS_FLOWS_EVICTED]		=
		"Idle flows ended for new ones at a flow limit",
};

static bool is_drop(unsigned int i)
{
	const char *name = fstats_name(i);

	return name && strstr(name, "drop");
}

/*
 * The stream a map has open: on an outgoing carrier of the map's peer,
 * the stream with the map's id.  NULL when the map has none.
 */
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

static void map_stats(const struct snapshot *s, const struct snap_map *m,
		      struct fstats *out)
{
	const struct snap_stream *st = map_stream(s, m);

	memset(out, 0, sizeof(*out));
	if (st)
		*out = st->st;
}

/* The sum over the streams of the peer's outgoing carriers. */
static void peer_stats(const struct snapshot *s, const char *peer,
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

/* ---- text helpers ---- */

/*
 * Copy s to out (len bytes, NUL-terminated, truncated between
 * characters), control characters (C0, DEL, C1) and bytes that are not
 * well-formed UTF-8 as \xNN.  word: also white space, '=' and '\', and
 * "-" for the empty string, so that the result is one word of a
 * "key=value" line.
 */
static const char *clean(char *out, size_t len, const char *s, bool word)
{
	size_t o = 0, n;
	unsigned char c;
	bool esc, valid;

	s = nn(s);
	if (word && !*s)
		s = "-";
	for (; (c = (unsigned char)*s) && o + 1 < len; s += n) {
		n = utf8_seq(s, &valid);
		esc = !valid || c < 0x20 || c == 0x7f ||
		      (c == 0xc2 && (unsigned char)s[1] < 0xa0) ||
		      (word && (c == ' ' || c == '=' || c == '\\'));
		if (o + (esc ? 4 * n : n) + 1 > len)
			break;
		for (size_t i = 0; i < n; i++) {
			if (esc) {
				snprintf(out + o, 5, "\\x%02x",
					 (unsigned char)s[i]);
				o += 4;
			} else {
				out[o++] = s[i];
			}
		}
	}
	out[o] = '\0';
	return out;
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void put_clean(FILE *f, const char *s)
{
	char buf[CLEAN_MAX];

	fputs(clean(buf, sizeof(buf), s, false), f);
}

/* s cleaned, "-" for none */
static void put_text(FILE *f, const char *s)
{
	put_clean(f, dash(s));
}

/* "850ms", "4.2s", "3m07s", "2h03m04s", "5d02h03m" */
static const char *fmt_duration(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s,
			 ms % 1000 / 100);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
			 s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s",
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m",
			 s / 86400, s / 3600 % 24, s / 60 % 60);
	return buf;
}

/*
 * A line of comma-separated items: the indent before the first, ", "
 * between them, the newline by line_end() if there was any.
 */
struct line {
	FILE *f;
	const char *indent;
	bool any;
};

__attribute__((format(printf, 2, 3)))
static void item(struct line *l, const char *fmt, ...)
{
	va_list ap;

	fputs(l->any ? ", " : l->indent, l->f);
	l->any = true;
	va_start(ap, fmt);
	vfprintf(l->f, fmt, ap);
	va_end(ap);
}

static void line_end(struct line *l)
{
	if (l->any)
		fputc('\n', l->f);
	l->any = false;
}

/* ---- show: tables ---- */

#define TBL_COLS	7

typedef char cells_t[TBL_COLS][CLEAN_MAX];

/*
 * A table of the show output: a title line ("peers:", or "peers: none"
 * without rows), a heading and one row per object, columns aligned.
 * row() fills the cells of row i (cleaned text, "-" for none).
 */
struct table {
	const char *title;
	const char *head[TBL_COLS];	/* NULL after the last column */
	size_t nrows;
	void (*row)(const struct snapshot *s, size_t i, cells_t cells);
};

static size_t tbl_ncols(const struct table *t)
{
	size_t n = 0;

	while (n < TBL_COLS && t->head[n])
		n++;
	return n;
}

/* Writes cells[0..n) padded to w[], without trailing white space. */
static void tbl_print_row(FILE *f, char cells[][CLEAN_MAX], size_t n,
			  const int *w)
{
	size_t last = n;

	while (last > 0 && !cells[last - 1][0])
		last--;
	fputs("  ", f);
	for (size_t i = 0; i < last; i++) {
		if (i + 1 < last)
			fprintf(f, "%-*s  ", w[i], cells[i]);
		else
			fputs(cells[i], f);
	}
	fputc('\n', f);
}

static void tbl_print(FILE *f, const struct snapshot *s,
		      const struct table *t)
{
	cells_t cells;
	size_t n = tbl_ncols(t);
	int w[TBL_COLS] = { 0 };
	int len;

	if (!t->nrows) {
		fprintf(f, "%s: none\n", t->title);
		return;
	}
	fprintf(f, "%s:\n", t->title);
	for (size_t c = 0; c < n; c++)
		w[c] = (int)strlen(t->head[c]);
	for (size_t r = 0; r < t->nrows; r++) {
		t->row(s, r, cells);
		for (size_t c = 0; c < n; c++) {
			len = (int)strlen(cells[c]);
			if (len > w[c])
				w[c] = len;
		}
	}
	for (size_t c = 0; c < n; c++)
		snprintf(cells[c], CLEAN_MAX, "%s", t->head[c]);
	tbl_print_row(f, cells, n, w);
	for (size_t r = 0; r < t->nrows; r++) {
		t->row(s, r, cells);
		tbl_print_row(f, cells, n, w);
	}
}

static void cell(char *c, const char *s)
{
	clean(c, CLEAN_MAX, s && *s ? s : "-", false);
}

static void cell_u64(char *c, uint64_t v)
{
	snprintf(c, CLEAN_MAX, "%" PRIu64, v);
}

static void peer_row(const struct snapshot *s, size_t i, cells_t cells)
{
	const struct snap_peer *p = &s->peers[i];

	cell(cells[0], p->name);
	cell(cells[1], p->host);
	cell(cells[2], p->carrier);
	cell(cells[3], p->principal);
}

static void service_row(const struct snapshot *s, size_t i, cells_t cells)
{
	const struct snap_service *v = &s->services[i];

	cell(cells[0], v->name);
	cell(cells[1], v->proto);
	cell(cells[2], v->target);
	cell(cells[3], v->allow);
	cell_u64(cells[4], v->opens);
	cell_u64(cells[5], v->refusals);
}

static void map_row(const struct snapshot *s, size_t i, cells_t cells)
{
	const struct snap_map *m = &s->maps[i];

	cell(cells[0], m->proto);
	cell(cells[1], m->addr);
	cell(cells[2], m->peer);
	cell(cells[3], m->service);
	cell(cells[4], m->state);
	if (m->stream)
		cell_u64(cells[5], m->stream);
	else
		cell(cells[5], NULL);
	clean(cells[6], CLEAN_MAX, m->reason, false);
}

/* ---- show: text ---- */

static void show_header(FILE *f, const struct snapshot *s)
{
	char up[32];

	fputs("funneld ", f);
	put_text(f, s->version);
	fputs(", datapath ", f);
	put_text(f, s->datapath);
	fprintf(f, " (funnel.ko %s), up %s",
		s->kernel_available ? "available" : "not available",
		fmt_duration(up, sizeof(up), s->uptime_ms));
	if (s->plaintext)
		fputs(", PLAINTEXT: carriers are neither authenticated nor encrypted",
		      f);
	fputc('\n', f);
	fputs("identity: ", f);
	put_clean(f, s->identity[0] ? s->identity : "none");
	fputs("\nlisten:", f);
	for (size_t i = 0; i < s->n_listens; i++) {
		fputs(i ? ", " : " ", f);
		put_clean(f, s->listens[i]);
	}
	fputs(s->n_listens ? "\n" : " none\n", f);
}

/* "rx 10 frames 1000 bytes, tx ..." and a line of the non-zero drops. */
static void show_counters(FILE *f, const char *indent, const struct fstats *st)
{
	struct line l = { .f = f, .indent = indent };

	fprintf(f, "%srx %" PRIu64 " frames %" PRIu64 " bytes, tx %" PRIu64
		" frames %" PRIu64 " bytes\n", indent, FST(st, RX_FRAMES),
		FST(st, RX_BYTES), FST(st, TX_FRAMES), FST(st, TX_BYTES));
	for (unsigned int i = 0; i < FSTATS_N; i++) {
		if (!is_drop(i) || !st->v[i])
			continue;
		item(&l, "%s%s %" PRIu64, l.any ? "" : "drops: ",
		     fstats_name(i), st->v[i]);
	}
	line_end(&l);
}

static void show_flow(FILE *f, const struct snap_flow *fl)
{
	char idle[32];

	fprintf(f, "    flow %" PRIu32 " ", fl->id);
	put_text(f, fl->local);
	fputs(" -> ", f);
	put_text(f, fl->remote);
	fprintf(f, ": idle %s, rx %" PRIu64 " frames %" PRIu64
		" bytes, tx %" PRIu64 " frames %" PRIu64 " bytes\n",
		fmt_duration(idle, sizeof(idle), fl->idle_ms),
		FST(&fl->st, RX_FRAMES), FST(&fl->st, RX_BYTES),
		FST(&fl->st, TX_FRAMES), FST(&fl->st, TX_BYTES));
}

static void show_stream(FILE *f, const struct snap_stream *st)
{
	fprintf(f, "  stream %u ", st->id);
	put_text(f, st->service);
	fputc(' ', f);
	put_text(f, st->proto);
	fputc(' ', f);
	put_text(f, st->addr);
	fputs(": ", f);
	put_text(f, st->state);
	if (st->reason[0]) {
		fputs(" (", f);
		put_clean(f, st->reason);
		fputc(')', f);
	}
	if (st->unordered)
		fputs(", unordered", f);
	if (st->key_gen) {
		fputs(", sealed by ", f);
		put_clean(f, st->principal);
		fprintf(f, ", key generation %" PRIu32 ", rekeys %" PRIu64,
			st->key_gen, st->rekeys);
	}
	fprintf(f, ", %" PRIu32 " flow%s\n", st->nflows,
		st->nflows == 1 ? "" : "s");
	show_counters(f, "    ", &st->st);
	for (size_t i = 0; i < st->n_flows; i++)
		show_flow(f, &st->flows[i]);
}

/* "carrier hoster: up, tcp A -> B, datapath kernel (id 7)" */
static void show_carrier_head(FILE *f, const struct snap_carrier *c)
{
	fputs("carrier ", f);
	if (c->incoming) {
		fputs("incoming", f);
		if (c->peer_node[0]) {
			fputs(" from ", f);
			put_clean(f, c->peer_node);
		}
	} else {
		put_text(f, c->peer);
	}
	fputs(": ", f);
	put_text(f, c->state);
	fputs(", ", f);
	if (c->transport && *c->transport) {
		put_clean(f, c->transport);
		fputc(' ', f);
	}
	put_text(f, c->local);
	fputs(" -> ", f);
	put_text(f, c->remote);
	fputs(", datapath ", f);
	put_text(f, c->datapath);
	if (c->kernel_id)
		fprintf(f, " (id %" PRIu32 ")", c->kernel_id);
	fputc('\n', f);
}

static void show_carrier(FILE *f, const struct snap_carrier *c)
{
	struct line l = { .f = f, .indent = "  " };
	char buf[CLEAN_MAX];

	show_carrier_head(f, c);
	if (!c->incoming && c->peer_node[0])
		item(&l, "node %s", clean(buf, sizeof(buf), c->peer_node, false));
	if (c->principal[0])
		item(&l, "peer %s", clean(buf, sizeof(buf), c->principal, false));
	if (c->up_ms)
		item(&l, "up %s", fmt_duration(buf, sizeof(buf), c->up_ms));
	item(&l, "reconnects %" PRIu32, c->reconnects);
	if (c->next_try_ms)
		item(&l, "next try in %s",
		     fmt_duration(buf, sizeof(buf), c->next_try_ms));
	if (c->pings_missed)
		item(&l, "pings missed %" PRIu32, c->pings_missed);
	line_end(&l);
	if (c->last_error[0]) {
		fputs("  last error: ", f);
		put_clean(f, c->last_error);
		fputc('\n', f);
	}
	show_counters(f, "  ", &c->st);
	for (size_t i = 0; i < c->n_streams; i++)
		show_stream(f, &c->streams[i]);
}

void show_text(FILE *f, const struct snapshot *s)
{
	const struct table peers = {
		.title = "peers",
		.head = { "NAME", "HOST", "CARRIER", "PRINCIPAL" },
		.nrows = s->n_peers,
		.row = peer_row,
	};
	const struct table services = {
		.title = "services",
		.head = { "NAME", "PROTO", "TARGET", "ALLOW", "OPENS",
			  "REFUSALS" },
		.nrows = s->n_services,
		.row = service_row,
	};
	const struct table maps = {
		.title = "maps",
		.head = { "PROTO", "ADDRESS", "PEER", "SERVICE", "STATE",
			  "STREAM", "REASON" },
		.nrows = s->n_maps,
		.row = map_row,
	};

	show_header(f, s);
	fputc('\n', f);
	tbl_print(f, s, &peers);
	tbl_print(f, s, &services);
	tbl_print(f, s, &maps);
	if (!s->n_carriers)
		fputs("carriers: none\n", f);
	for (size_t i = 0; i < s->n_carriers; i++) {
		fputc('\n', f);
		show_carrier(f, &s->carriers[i]);
	}
}

/* ---- JSON ---- */

/* ,"key": -- sep is "" for the first member of an object, else "," */
static void jkey(FILE *f, const char *sep, const char *key)
{
	fputs(sep, f);
	json_string(f, key);
	fputc(':', f);
}

static void jstr(FILE *f, const char *sep, const char *key, const char *v)
{
	jkey(f, sep, key);
	json_string(f, nn(v));
}

static void ju64(FILE *f, const char *sep, const char *key, uint64_t v)
{
	jkey(f, sep, key);
	fprintf(f, "%" PRIu64, v);
}

static void jbool(FILE *f, const char *sep, const char *key, bool v)
{
	jkey(f, sep, key);
	fputs(v ? "true" : "false", f);
}

/* ,"stats":{"rx-frames":1,...} */
static void jstats(FILE *f, const struct fstats *st)
{
	const char *sep = "";
	const char *name;

	jkey(f, ",", "stats");
	fputc('{', f);
	for (unsigned int i = 0; i < FSTATS_N; i++) {
		name = fstats_name(i);
		if (!name)
			continue;
		ju64(f, sep, name, st->v[i]);
		sep = ",";
	}
	fputc('}', f);
}

static void json_listens(FILE *f, const struct snapshot *s)
{
	jkey(f, ",", "listens");
	fputc('[', f);
	for (size_t i = 0; i < s->n_listens; i++) {
		if (i)
			fputc(',', f);
		json_string(f, s->listens[i]);
	}
	fputc(']', f);
}

static void json_peers(FILE *f, const struct snapshot *s)
{
	const struct snap_peer *p;

	jkey(f, ",", "peers");
	fputc('[', f);
	for (size_t i = 0; i < s->n_peers; i++) {
		p = &s->peers[i];
		fputs(i ? ",{" : "{", f);
		jstr(f, "", "name", p->name);
		jstr(f, ",", "host", p->host);
		jstr(f, ",", "carrier", p->carrier);
		jstr(f, ",", "principal", p->principal);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_services(FILE *f, const struct snapshot *s)
{
	const struct snap_service *v;

	jkey(f, ",", "services");
	fputc('[', f);
	for (size_t i = 0; i < s->n_services; i++) {
		v = &s->services[i];
		fputs(i ? ",{" : "{", f);
		jstr(f, "", "name", v->name);
		jstr(f, ",", "proto", v->proto);
		jstr(f, ",", "target", v->target);
		jstr(f, ",", "allow", v->allow);
		ju64(f, ",", "opens", v->opens);
		ju64(f, ",", "refusals", v->refusals);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_maps(FILE *f, const struct snapshot *s)
{
	const struct snap_map *m;

	jkey(f, ",", "maps");
	fputc('[', f);
	for (size_t i = 0; i < s->n_maps; i++) {
		m = &s->maps[i];
		fputs(i ? ",{" : "{", f);
		jstr(f, "", "proto", m->proto);
		jstr(f, ",", "addr", m->addr);
		jstr(f, ",", "peer", m->peer);
		jstr(f, ",", "service", m->service);
		ju64(f, ",", "stream", m->stream);
		jstr(f, ",", "state", m->state);
		jstr(f, ",", "reason", m->reason);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_flow(FILE *f, const struct snap_flow *fl)
{
	fputc('{', f);
	ju64(f, "", "id", fl->id);
	jstr(f, ",", "local", fl->local);
	jstr(f, ",", "remote", fl->remote);
	ju64(f, ",", "idle_ms", fl->idle_ms);
	jstats(f, &fl->st);
	fputc('}', f);
}

static void json_stream(FILE *f, const struct snap_stream *st)
{
	fputc('{', f);
	ju64(f, "", "id", st->id);
	jstr(f, ",", "service", st->service);
	jstr(f, ",", "proto", st->proto);
	jstr(f, ",", "addr", st->addr);
	jstr(f, ",", "state", st->state);
	jstr(f, ",", "reason", st->reason);
	jbool(f, ",", "unordered", st->unordered);
	ju64(f, ",", "key_generation", st->key_gen);
	ju64(f, ",", "rekeys", st->rekeys);
	jstr(f, ",", "principal", st->principal);
	ju64(f, ",", "nflows", st->nflows);
	jstats(f, &st->st);
	jkey(f, ",", "flows");
	fputc('[', f);
	for (size_t i = 0; i < st->n_flows; i++) {
		if (i)
			fputc(',', f);
		json_flow(f, &st->flows[i]);
	}
	fputs("]}", f);
}

static void json_carrier(FILE *f, const struct snap_carrier *c)
{
	fputc('{', f);
	jstr(f, "", "peer", c->peer);
	jbool(f, ",", "incoming", c->incoming);
	jstr(f, ",", "transport", c->transport);
	jstr(f, ",", "datapath", c->datapath);
	jstr(f, ",", "state", c->state);
	jstr(f, ",", "local", c->local);
	jstr(f, ",", "remote", c->remote);
	jstr(f, ",", "peer_node", c->peer_node);
	jstr(f, ",", "principal", c->principal);
	ju64(f, ",", "kernel_id", c->kernel_id);
	ju64(f, ",", "up_ms", c->up_ms);
	ju64(f, ",", "reconnects", c->reconnects);
	ju64(f, ",", "next_try_ms", c->next_try_ms);
	jstr(f, ",", "last_error", c->last_error);
	ju64(f, ",", "pings_missed", c->pings_missed);
	jstats(f, &c->st);
	jkey(f, ",", "streams");
	fputc('[', f);
	for (size_t i = 0; i < c->n_streams; i++) {
		if (i)
			fputc(',', f);
		json_stream(f, &c->streams[i]);
	}
	fputs("]}", f);
}

void show_json(FILE *f, const struct snapshot *s)
{
	fputc('{', f);
	jstr(f, "", "version", s->version);
	jstr(f, ",", "datapath", s->datapath);
	jbool(f, ",", "kernel_available", s->kernel_available);
	jbool(f, ",", "plaintext", s->plaintext);
	jstr(f, ",", "identity", s->identity);
	ju64(f, ",", "uptime_ms", s->uptime_ms);
	json_listens(f, s);
	json_peers(f, s);
	json_services(f, s);
	json_maps(f, s);
	jkey(f, ",", "carriers");
	fputc('[', f);
	for (size_t i = 0; i < s->n_carriers; i++) {
		if (i)
			fputc(',', f);
		json_carrier(f, &s->carriers[i]);
	}
	fputs("]}\n", f);
}

/* ---- stats: text ---- */

/* One line per named counter: "<prefix> rx-frames 10" */
static void text_stats(FILE *f, const char *prefix, const struct fstats *st)
{
	const char *name;

	for (unsigned int i = 0; i < FSTATS_N; i++) {
		name = fstats_name(i);
		if (name)
			fprintf(f, "%s %s %" PRIu64 "\n", prefix, name,
				st->v[i]);
	}
}

/*
 * A line prefix in buf: "carrier peer=hoster", or for an incoming
 * carrier "carrier incoming peer=NODE remote=ADDR".
 */
static const char *carrier_prefix(char *buf, size_t len,
				  const struct snap_carrier *c)
{
	char peer[CLEAN_MAX], remote[CLEAN_MAX];

	clean(peer, sizeof(peer), carrier_peer(c), true);
	if (c->incoming)
		snprintf(buf, len, "carrier incoming peer=%s remote=%s", peer,
			 clean(remote, sizeof(remote), c->remote, true));
	else
		snprintf(buf, len, "carrier peer=%s", peer);
	return buf;
}

static void text_carrier(FILE *f, const struct snap_carrier *c)
{
	char prefix[3 * CLEAN_MAX], line[5 * CLEAN_MAX];
	char service[CLEAN_MAX];
	const struct snap_stream *st;

	carrier_prefix(prefix, sizeof(prefix), c);
	text_stats(f, prefix, &c->st);
	for (size_t i = 0; i < c->n_streams; i++) {
		st = &c->streams[i];
		snprintf(line, sizeof(line), "%s stream=%u service=%s", prefix,
			 st->id, clean(service, sizeof(service), st->service,
				       true));
		text_stats(f, line, &st->st);
	}
}

static void text_map(FILE *f, const struct snapshot *s,
		     const struct snap_map *m)
{
	char a[CLEAN_MAX], p[CLEAN_MAX], v[CLEAN_MAX];
	char prefix[4 * CLEAN_MAX];
	struct fstats st;

	snprintf(prefix, sizeof(prefix),
		 "map proto=%s addr=%s peer=%s service=%s",
		 m->proto && *m->proto ? m->proto : "-",
		 clean(a, sizeof(a), m->addr, true),
		 clean(p, sizeof(p), m->peer, true),
		 clean(v, sizeof(v), m->service, true));
	map_stats(s, m, &st);
	text_stats(f, prefix, &st);
}

/* The daemon's own refusal counters: name and value of each. */
static const struct {
	const char *name, *reason;
	size_t off;
} refused[] = {
	{ "carriers-refused-handshakes", "handshakes",
	  offsetof(struct snapshot, refused_handshakes) },
	{ "carriers-refused-address", "address",
	  offsetof(struct snapshot, refused_address) },
	{ "carriers-refused-principal", "principal",
	  offsetof(struct snapshot, refused_principal) },
};

static uint64_t refused_value(const struct snapshot *s, size_t i)
{
	return *(const uint64_t *)((const char *)s + refused[i].off);
}

void stats_text(FILE *f, const struct snapshot *s)
{
	char prefix[2 * CLEAN_MAX];
	char name[CLEAN_MAX];
	struct fstats st;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		fprintf(f, "daemon %s %" PRIu64 "\n", refused[i].name,
			refused_value(s, i));
	fprintf(f, "daemon streams-refused-principal %" PRIu64 "\n",
		s->refused_streams);

	for (size_t i = 0; i < s->n_carriers; i++)
		text_carrier(f, &s->carriers[i]);
	for (size_t i = 0; i < s->n_peers; i++) {
		snprintf(prefix, sizeof(prefix), "peer name=%s",
			 clean(name, sizeof(name), s->peers[i].name, true));
		peer_stats(s, s->peers[i].name, &st);
		text_stats(f, prefix, &st);
	}
	for (size_t i = 0; i < s->n_maps; i++)
		text_map(f, s, &s->maps[i]);
}

/* ---- stats: JSON ---- */

static void stats_json_carrier(FILE *f, const struct snap_carrier *c)
{
	const struct snap_stream *st;

	fputc('{', f);
	jstr(f, "", "peer", carrier_peer(c));
	jbool(f, ",", "incoming", c->incoming);
	jstr(f, ",", "remote", c->remote);
	jstats(f, &c->st);
	jkey(f, ",", "streams");
	fputc('[', f);
	for (size_t i = 0; i < c->n_streams; i++) {
		st = &c->streams[i];
		fputs(i ? ",{" : "{", f);
		ju64(f, "", "id", st->id);
		jstr(f, ",", "service", st->service);
		jstats(f, &st->st);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void stats_json_peers(FILE *f, const struct snapshot *s)
{
	struct fstats st;

	jkey(f, ",", "peers");
	fputc('[', f);
	for (size_t i = 0; i < s->n_peers; i++) {
		fputs(i ? ",{" : "{", f);
		jstr(f, "", "name", s->peers[i].name);
		peer_stats(s, s->peers[i].name, &st);
		jstats(f, &st);
		fputc('}', f);
	}
	fputc(']', f);
}

static void stats_json_maps(FILE *f, const struct snapshot *s)
{
	const struct snap_map *m;
	struct fstats st;

	jkey(f, ",", "maps");
	fputc('[', f);
	for (size_t i = 0; i < s->n_maps; i++) {
		m = &s->maps[i];
		fputs(i ? ",{" : "{", f);
		jstr(f, "", "proto", m->proto);
		jstr(f, ",", "addr", m->addr);
		jstr(f, ",", "peer", m->peer);
		jstr(f, ",", "service", m->service);
		map_stats(s, m, &st);
		jstats(f, &st);
		fputc('}', f);
	}
	fputc(']', f);
}

void stats_json(FILE *f, const struct snapshot *s)
{
	jkey(f, "{", "daemon");
	fputc('{', f);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ju64(f, i ? "," : "", refused[i].name, refused_value(s, i));
	ju64(f, ",", "streams-refused-principal", s->refused_streams);
	fputc('}', f);
	jkey(f, ",", "carriers");
	fputc('[', f);
	for (size_t i = 0; i < s->n_carriers; i++) {
		if (i)
			fputc(',', f);
		stats_json_carrier(f, &s->carriers[i]);
	}
	fputc(']', f);
	stats_json_peers(f, s);
	stats_json_maps(f, s);
	fputs("}\n", f);
}

/* ---- stats: Prometheus text exposition format 0.0.4 ---- */

/* "# HELP" and "# TYPE" of a metric family; help is escaped (\\, \n). */
static void prom_family(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (; *help; help++) {
		if (*help == '\\')
			fputs("\\\\", f);
		else if (*help == '\n')
			fputs("\\n", f);
		else
			fputc(*help, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/*
 * sep key="value", the value escaped (\\, \", \n) and valid UTF-8: bytes
 * that are not well-formed UTF-8 become U+FFFD (utf8.h).
 */
static void prom_label(FILE *f, const char *sep, const char *key,
		       const char *v)
{
	bool valid;
	size_t n;

	fprintf(f, "%s%s=\"", sep, key);
	for (v = nn(v); *v; v += n) {
		n = utf8_seq(v, &valid);
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else if (valid)
			fwrite(v, 1, n, f);
		else
			fputs(UTF8_REPLACEMENT, f);
	}
	fputc('"', f);
}

static bool is_metric_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static void prom_carrier_labels(FILE *f, const struct snap_carrier *c)
{
	prom_label(f, "", "peer", carrier_peer(c));
	prom_label(f, ",", "direction", direction(c));
	prom_label(f, ",", "remote", c->remote);
}

static void prom_stream_labels(FILE *f, const struct snap_carrier *c,
			       const struct snap_stream *st)
{
	char id[8];

	snprintf(id, sizeof(id), "%u", st->id);
	prom_carrier_labels(f, c);
	prom_label(f, ",", "stream", id);
	prom_label(f, ",", "service", st->service);
}

static void prom_map_labels(FILE *f, const struct snap_map *m)
{
	prom_label(f, "", "peer", m->peer);
	prom_label(f, ",", "service", m->service);
	prom_label(f, ",", "proto", m->proto);
	prom_label(f, ",", "addr", m->addr);
}

static void prom_value(FILE *f, uint64_t v)
{
	fprintf(f, "} %" PRIu64 "\n", v);
}

/*
 * "funnel_<what>_<counter>_total" for counter i in name (METRIC_MAX
 * bytes), the dashes of the counter's name (and anything else a metric
 * name cannot hold) as underscores; and its family lines, with the HELP
 * text "<what the counter counts> (<scope>)".
 */
static void prom_counter_family(FILE *f, char *name, const char *what,
				unsigned int i, const char *scope)
{
	const char *cname = fstats_name(i);
	char part[METRIC_MAX / 2], help[256];
	size_t o;

	for (o = 0; cname[o] && o + 1 < sizeof(part); o++)
		part[o] = is_metric_char(cname[o]) ? cname[o] : '_';
	part[o] = '\0';
	snprintf(name, METRIC_MAX, "funnel_%s_%s_total", what, part);
	snprintf(help, sizeof(help), "%s (%s)",
		 stat_help[i] ? stat_help[i] : cname, scope);
	prom_family(f, name, "counter", help);
}

static void prom_carriers(FILE *f, const struct snapshot *s)
{
	char name[METRIC_MAX];
	const struct snap_carrier *c;

	prom_family(f, "funnel_carrier_up", "gauge",
		    "Whether the carrier is up (1) or not (0)");
	for (size_t i = 0; i < s->n_carriers; i++) {
		fputs("funnel_carrier_up{", f);
		prom_carrier_labels(f, &s->carriers[i]);
		prom_value(f, is_up(&s->carriers[i]));
	}
	prom_family(f, "funnel_carrier_reconnects_total", "counter",
		    "Times the carrier was brought up again");
	for (size_t i = 0; i < s->n_carriers; i++) {
		fputs("funnel_carrier_reconnects_total{", f);
		prom_carrier_labels(f, &s->carriers[i]);
		prom_value(f, s->carriers[i].reconnects);
	}
	for (unsigned int k = 0; k < FSTATS_N; k++) {
		if (!fstats_name(k))
			continue;
		prom_counter_family(f, name, "carrier", k, "carrier counter");
		for (size_t i = 0; i < s->n_carriers; i++) {
			c = &s->carriers[i];
			fprintf(f, "%s{", name);
			prom_carrier_labels(f, c);
			prom_value(f, c->st.v[k]);
		}
	}
}

/* A sample of a stream family for each stream of each carrier. */
static void prom_stream_samples(FILE *f, const struct snapshot *s,
				const char *name, int k)
{
	const struct snap_carrier *c;
	const struct snap_stream *st;

	for (size_t i = 0; i < s->n_carriers; i++) {
		c = &s->carriers[i];
		for (size_t j = 0; j < c->n_streams; j++) {
			st = &c->streams[j];
			fprintf(f, "%s{", name);
			prom_stream_labels(f, c, st);
			prom_value(f, k < 0 ? st->nflows : st->st.v[k]);
		}
	}
}

static void prom_streams(FILE *f, const struct snapshot *s)
{
	char name[METRIC_MAX];

	for (unsigned int k = 0; k < FSTATS_N; k++) {
		if (!fstats_name(k))
			continue;
		prom_counter_family(f, name, "stream", k, "stream counter");
		prom_stream_samples(f, s, name, (int)k);
	}
	prom_family(f, "funnel_stream_flows", "gauge",
		    "Flows of the stream");
	prom_stream_samples(f, s, "funnel_stream_flows", -1);
}

static void prom_peers(FILE *f, const struct snapshot *s)
{
	char name[METRIC_MAX];
	struct fstats st;

	for (unsigned int k = 0; k < FSTATS_N; k++) {
		if (!fstats_name(k))
			continue;
		prom_counter_family(f, name, "peer", k,
				    "sum over the streams of the peer's outgoing carriers");
		for (size_t i = 0; i < s->n_peers; i++) {
			peer_stats(s, s->peers[i].name, &st);
			fprintf(f, "%s{", name);
			prom_label(f, "", "peer", s->peers[i].name);
			prom_value(f, st.v[k]);
		}
	}
}

static void prom_maps(FILE *f, const struct snapshot *s)
{
	char name[METRIC_MAX];
	const struct snap_map *m;
	struct fstats st;

	for (unsigned int k = 0; k < FSTATS_N; k++) {
		if (!fstats_name(k))
			continue;
		prom_counter_family(f, name, "map", k,
				    "counter of the stream the map has open");
		for (size_t i = 0; i < s->n_maps; i++) {
			m = &s->maps[i];
			map_stats(s, m, &st);
			fprintf(f, "%s{", name);
			prom_map_labels(f, m);
			prom_value(f, st.v[k]);
		}
	}
	prom_family(f, "funnel_map_open", "gauge",
		    "Whether the map has its stream open (1) or not (0)");
	for (size_t i = 0; i < s->n_maps; i++) {
		m = &s->maps[i];
		fputs("funnel_map_open{", f);
		prom_map_labels(f, m);
		prom_value(f, m->state && !strcmp(m->state, "open"));
	}
}

void stats_prometheus(FILE *f, const struct snapshot *s)
{
	prom_family(f, "funnel_info", "gauge",
		    "Version of funneld and its datapath option");
	fputs("funnel_info{", f);
	prom_label(f, "", "version", s->version);
	prom_label(f, ",", "datapath", s->datapath);
	prom_value(f, 1);
	prom_family(f, "funnel_carriers_refused_total", "counter",
		    "Incoming carriers refused: too many in their handshake (handshakes), from one address (address), or up for one principal (principal)");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fputs("funnel_carriers_refused_total{", f);
		prom_label(f, "", "reason", refused[i].reason);
		prom_value(f, refused_value(s, i));
	}
	prom_family(f, "funnel_streams_refused_principal_total", "counter",
		    "Streams refused because their principal had the most streams open it may have");
	fprintf(f, "funnel_streams_refused_principal_total %" PRIu64 "\n",
		s->refused_streams);
	prom_carriers(f, s);
	prom_streams(f, s);
	prom_peers(f, s);
	prom_maps(f, s);
}
