// SPDX-License-Identifier: GPL-2.0
/*
 * "show" and "stats" as text for people: a snapshot of funneld's state
 * (snap.h) as aligned tables and carrier blocks, and counters as one
 * "<object> <counter> <value>" line each.
 *
 * Nothing here allocates memory.  Strings of the snapshot may come from
 * the network (a peer's node name, a refusal reason): control characters
 * and bytes that are not UTF-8 are written as \xNN.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "funneld/report/report.h"

/* A string of the snapshot with each byte written as \xNN, and a NUL. */
#define CLEAN_MAX	(4 * SNAP_TEXT_MAX + 1)

/* ---- text helpers ---- */

/*
 * A drop counter, of those show lists when they are not zero
 * (tx-deferred is not one: where frames are pushed, nothing lost).
 */
static bool is_drop(unsigned int i)
{
	const char *name = fstats_name(i);

	/* rx-abandoned: received data lost, if not a frame refused */
	return name && (strstr(name, "drop") ||
			i == FUNNEL_A_STATS_RX_ABANDONED);
}

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

	s = report_str(s);
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

#define TBL_COLS	10

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
	/* TBL_COL()s of columns left out when every row has "-" there */
	unsigned int optional;
};

#define TBL_COL(i)	(1U << (i))

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

/* Keep the columns of cells whose keep[] is set, in their order. */
static void tbl_keep(cells_t cells, size_t n, const bool *keep)
{
	size_t k = 0;

	for (size_t c = 0; c < n; c++)
		if (keep[c] && k++ != c)
			memcpy(cells[k - 1], cells[c], CLEAN_MAX);
}

static void tbl_print(FILE *f, const struct snapshot *s,
		      const struct table *t)
{
	cells_t cells;
	size_t n = tbl_ncols(t), shown = 0;
	bool keep[TBL_COLS] = { false };
	int w[TBL_COLS] = { 0 };
	int len;

	if (!t->nrows) {
		fprintf(f, "%s: none\n", t->title);
		return;
	}
	fprintf(f, "%s:\n", t->title);
	for (size_t c = 0; c < n; c++)
		keep[c] = !(t->optional & TBL_COL(c));
	for (size_t r = 0; r < t->nrows; r++) {
		t->row(s, r, cells);
		for (size_t c = 0; c < n; c++)
			keep[c] |= strcmp(cells[c], "-") != 0;
	}
	for (size_t c = 0; c < n; c++)
		shown += keep[c];
	for (size_t c = 0; c < n; c++)
		snprintf(cells[c], CLEAN_MAX, "%s", t->head[c]);
	tbl_keep(cells, n, keep);
	for (size_t c = 0; c < shown; c++)
		w[c] = (int)strlen(cells[c]);
	for (size_t r = 0; r < t->nrows; r++) {
		t->row(s, r, cells);
		tbl_keep(cells, n, keep);
		for (size_t c = 0; c < shown; c++) {
			len = (int)strlen(cells[c]);
			if (len > w[c])
				w[c] = len;
		}
	}
	for (size_t c = 0; c < n; c++)
		snprintf(cells[c], CLEAN_MAX, "%s", t->head[c]);
	tbl_keep(cells, n, keep);
	tbl_print_row(f, cells, shown, w);
	for (size_t r = 0; r < t->nrows; r++) {
		t->row(s, r, cells);
		tbl_keep(cells, n, keep);
		tbl_print_row(f, cells, shown, w);
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

	char hosts[SNAP_PEER_ADDRS_MAX * SNAP_ADDR_MAX];
	size_t off = 0;

	/* every address of a multihomed peer, "A:P,B:P" */
	hosts[0] = '\0';
	for (size_t k = 0; k < p->n_addrs && k < SNAP_PEER_ADDRS_MAX; k++) {
		int r = snprintf(hosts + off, sizeof(hosts) - off, "%s%s",
				 k ? "," : "", p->addrs[k]);

		if (r < 0 || (size_t)r >= sizeof(hosts) - off)
			break;
		off += (size_t)r;
	}
	cell(cells[0], p->name);
	cell(cells[1], p->n_addrs ? hosts : p->host);
	cell(cells[2], p->carrier);
	if (p->udp_port)
		snprintf(cells[3], CLEAN_MAX, "%u", p->udp_port);
	else
		cell(cells[3], NULL);
	cell(cells[4], p->principal);
}

static void service_row(const struct snapshot *s, size_t i, cells_t cells)
{
	const struct snap_service *v = &s->services[i];

	cell(cells[0], v->name);
	cell(cells[1], v->proto);
	if (v->relay[0]) {
		/* a relay: its next hop instead of a target */
		char t[SNAP_ADDR_MAX + 8];

		snprintf(t, sizeof(t), "relay %s", v->relay);
		cell(cells[2], t);
	} else {
		cell(cells[2], v->target);
	}
	cell(cells[3], v->proxy);
	cell(cells[4], v->plugin);
	cell(cells[5], v->allow);
	cell(cells[6], v->identity);
	cell_u64(cells[7], v->opens);
	cell_u64(cells[8], v->refusals);
	cell(cells[9], v->last_refusal);
}

static void map_row(const struct snapshot *s, size_t i, cells_t cells)
{
	const struct snap_map *m = &s->maps[i];

	cell(cells[0], m->proto);
	cell(cells[1], m->addr);
	cell(cells[2], m->peer);
	cell(cells[3], m->service);
	cell(cells[4], m->plugin);
	cell(cells[5], m->identity);
	cell(cells[6], m->principal);
	cell(cells[7], m->state);
	if (m->stream)
		cell_u64(cells[8], m->stream);
	else
		cell(cells[8], NULL);
	clean(cells[9], CLEAN_MAX, m->reason, false);
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
	if (s->n_listens && s->accepts[0]) {
		fputs(" (", f);
		put_clean(f, s->accepts);
		fputc(')', f);
	}
	fputs(s->n_listens ? "\n" : " none\n", f);
	fprintf(f, "tcp buffers: queued %" PRIu64 " bytes (peak %" PRIu64
		"), windows %" PRIu64 " of %" PRIu64 " bytes",
		s->tcp.queued, s->tcp.queued_peak, s->tcp.reserved, s->tcp.max);
	if (s->tcp.short_windows)
		fprintf(f, ", %" PRIu64 " short", s->tcp.short_windows);
	fputc('\n', f);
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
	if (fl->origin[0]) {
		fputs(" from ", f);
		put_text(f, fl->origin);
	}
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
	if (c->transport_why[0])
		item(&l, "auto: %s", clean(buf, sizeof(buf), c->transport_why,
					   false));
	if (c->paths[0])
		item(&l, "paths %s", clean(buf, sizeof(buf), c->paths, false));
	if (c->abandoned)
		item(&l, "abandoned %" PRIu64 " (PR-SCTP lifetime)",
		     c->abandoned);
	if (c->up_ms)
		item(&l, "up %s", fmt_duration(buf, sizeof(buf), c->up_ms));
	item(&l, "reconnects %" PRIu32, c->reconnects);
	if (c->next_try_ms)
		item(&l, "next try in %s",
		     fmt_duration(buf, sizeof(buf), c->next_try_ms));
	if (c->pings_missed)
		item(&l, "pings missed %" PRIu32, c->pings_missed);
	if (c->marks_ignored)
		item(&l, "marks ignored %" PRIu64, c->marks_ignored);
	if (c->tcp.reserved || c->tcp.queued_peak || c->tcp.short_windows)
		item(&l, "tcp buffers: queued %" PRIu64 " (peak %" PRIu64
		     "), windows %" PRIu64 " of %" PRIu64 ", %" PRIu64 " short",
		     c->tcp.queued, c->tcp.queued_peak, c->tcp.reserved,
		     c->tcp.max, c->tcp.short_windows);
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
		.head = { "NAME", "HOST", "CARRIER", "UDP PORT",
			  "PRINCIPAL" },
		.nrows = s->n_peers,
		.row = peer_row,
		/* the peer's SCTP over UDP port, when one has one */
		.optional = TBL_COL(3),
	};
	const struct table services = {
		.title = "services",
		.head = { "NAME", "PROTO", "TARGET", "PROXY", "PLUGIN",
			  "ALLOW", "IDENTITY", "OPENS", "REFUSALS",
			  "LAST REFUSAL" },
		.nrows = s->n_services,
		.row = service_row,
		/* the plugin, when one has one; the service's own identity,
		 * when one has one; the last refusal, when one was refused
		 */
		.optional = TBL_COL(4) | TBL_COL(6) | TBL_COL(9),
	};
	const struct table maps = {
		.title = "maps",
		.head = { "PROTO", "ADDRESS", "PEER", "SERVICE", "PLUGIN",
			  "IDENTITY", "PRINCIPAL", "STATE", "STREAM", "REASON" },
		.nrows = s->n_maps,
		.row = map_row,
		/* the plugin, when one has one; the map's own identity and
		 * target, when one has them
		 */
		.optional = TBL_COL(4) | TBL_COL(5) | TBL_COL(6),
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

/* ---- stats ---- */

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

	clean(peer, sizeof(peer), report_carrier_peer(c), true);
	if (c->incoming)
		snprintf(buf, len, "carrier incoming peer=%s remote=%s", peer,
			 clean(remote, sizeof(remote), c->remote, true));
	else
		snprintf(buf, len, "carrier peer=%s", peer);
	return buf;
}

/* "<prefix> tcp-queued 0" and the other members of b */
static void text_buffers(FILE *f, const char *prefix,
			 const struct snap_buffers *b)
{
	fprintf(f, "%s tcp-queued %" PRIu64 "\n", prefix, b->queued);
	fprintf(f, "%s tcp-queued-peak %" PRIu64 "\n", prefix,
		b->queued_peak);
	fprintf(f, "%s tcp-reserved %" PRIu64 "\n", prefix, b->reserved);
	fprintf(f, "%s tcp-buffer-max %" PRIu64 "\n", prefix, b->max);
	fprintf(f, "%s tcp-short-windows %" PRIu64 "\n", prefix,
		b->short_windows);
}

static void text_carrier(FILE *f, const struct snap_carrier *c)
{
	char prefix[3 * CLEAN_MAX], line[5 * CLEAN_MAX];
	char service[CLEAN_MAX];
	const struct snap_stream *st;

	carrier_prefix(prefix, sizeof(prefix), c);
	text_stats(f, prefix, &c->st);
	text_buffers(f, prefix, &c->tcp);
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
	report_map_stats(s, m, &st);
	text_stats(f, prefix, &st);
}

void stats_text(FILE *f, const struct snapshot *s)
{
	char prefix[2 * CLEAN_MAX];
	char name[CLEAN_MAX];
	struct fstats st;

	for (size_t i = 0; i < REPORT_DAEMON_COUNTERS; i++) {
		const struct report_daemon_counter *dc =
			&report_daemon_counters[i];

		fprintf(f, "daemon %s %" PRIu64 "\n", dc->name,
			report_daemon_value(s, dc));
	}
	text_buffers(f, "daemon", &s->tcp);

	for (size_t i = 0; i < s->n_carriers; i++)
		text_carrier(f, &s->carriers[i]);
	for (size_t i = 0; i < s->n_peers; i++) {
		snprintf(prefix, sizeof(prefix), "peer name=%s",
			 clean(name, sizeof(name), s->peers[i].name, true));
		report_peer_stats(s, s->peers[i].name, &st);
		text_stats(f, prefix, &st);
	}
	for (size_t i = 0; i < s->n_maps; i++)
		text_map(f, s, &s->maps[i]);
}
