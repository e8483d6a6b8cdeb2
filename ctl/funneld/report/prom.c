// SPDX-License-Identifier: GPL-2.0
/*
 * "stats --prometheus": a snapshot of funneld's counters (snap.h) in the
 * Prometheus text exposition format 0.0.4, for monitoring.  Label values
 * are escaped as the format requires and are always valid UTF-8: bytes
 * that are not well-formed UTF-8 become U+FFFD.  Nothing here allocates
 * memory.
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "funneld/report/report.h"

/* Longest metric name: "funnel_carrier_" + counter name + "_total". */
#define METRIC_MAX	128

static bool is_up(const struct snap_carrier *c)
{
	return c->state && !strcmp(c->state, "up");
}

static const char *direction(const struct snap_carrier *c)
{
	return c->incoming ? "in" : "out";
}

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
		"New flows refused: flow limit reached, or no room in the buffer budget",
	[FUNNEL_A_STATS_FLOWS_EVICTED]		=
		"Idle flows ended for new ones at a flow limit",
	[FUNNEL_A_STATS_RX_ABANDONED]		=
		"Partly received SCTP messages the peer abandoned (PR-SCTP)",
	[FUNNEL_A_STATS_TX_DEFERRED]		=
		"TCP DATA frames left to the carrier's work item to push (not a drop)",
};

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
	for (v = report_str(v); *v; v += n) {
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
	prom_label(f, "", "peer", report_carrier_peer(c));
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

/*
 * The samples of family name, one per object: the object's counter k, or
 * with k -1 the value of the object's own gauge.
 */
typedef void (*prom_samples_fn)(FILE *f, const struct snapshot *s,
				const char *name, int k);

/* For each named counter, its family of what (prom_counter_family()). */
static void prom_counters(FILE *f, const struct snapshot *s, const char *what,
			  const char *scope, prom_samples_fn samples)
{
	char name[METRIC_MAX];

	for (unsigned int k = 0; k < FSTATS_N; k++) {
		if (!fstats_name(k))
			continue;
		prom_counter_family(f, name, what, k, scope);
		samples(f, s, name, (int)k);
	}
}

static void carrier_samples(FILE *f, const struct snapshot *s,
			    const char *name, int k)
{
	const struct snap_carrier *c;

	for (size_t i = 0; i < s->n_carriers; i++) {
		c = &s->carriers[i];
		fprintf(f, "%s{", name);
		prom_carrier_labels(f, c);
		prom_value(f, c->st.v[k]);
	}
}

/* Each stream of each carrier; the gauge: its flows. */
static void stream_samples(FILE *f, const struct snapshot *s,
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

static void peer_samples(FILE *f, const struct snapshot *s, const char *name,
			 int k)
{
	struct fstats st;

	for (size_t i = 0; i < s->n_peers; i++) {
		report_peer_stats(s, s->peers[i].name, &st);
		fprintf(f, "%s{", name);
		prom_label(f, "", "peer", s->peers[i].name);
		prom_value(f, st.v[k]);
	}
}

/* Each map; the gauge: whether it has its stream open. */
static void map_samples(FILE *f, const struct snapshot *s, const char *name,
			int k)
{
	const struct snap_map *m;
	struct fstats st;

	for (size_t i = 0; i < s->n_maps; i++) {
		m = &s->maps[i];
		report_map_stats(s, m, &st);
		fprintf(f, "%s{", name);
		prom_map_labels(f, m);
		prom_value(f, k < 0 ? m->state && !strcmp(m->state, "open") :
				      st.v[k]);
	}
}

/* The members of struct snap_buffers, as metrics. */
static const struct {
	const char *name, *type, *help;
	size_t off;
} buffer_metrics[] = {
	{ "tcp_queued_bytes", "gauge",
	  "Bytes queued for the sockets of TCP connections",
	  offsetof(struct snap_buffers, queued) },
	{ "tcp_queued_peak_bytes", "gauge",
	  "The most bytes queued for TCP connections so far",
	  offsetof(struct snap_buffers, queued_peak) },
	{ "tcp_reserved_bytes", "gauge",
	  "Windows of TCP connections reserved",
	  offsetof(struct snap_buffers, reserved) },
	{ "tcp_buffer_max_bytes", "gauge",
	  "The bytes TCP connections' windows may reserve",
	  offsetof(struct snap_buffers, max) },
	{ "tcp_short_windows_total", "counter",
	  "TCP connections refused, or given a smaller window, for want of buffer room",
	  offsetof(struct snap_buffers, short_windows) },
};
#define BUFFER_METRICS	(sizeof(buffer_metrics) / sizeof(buffer_metrics[0]))

static uint64_t buffer_value(const struct snap_buffers *b, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)b + buffer_metrics[i].off, sizeof(v));
	return v;
}

/* funnel_tcp_* of the daemon, funnel_carrier_tcp_* of each carrier */
static void prom_buffers(FILE *f, const struct snapshot *s)
{
	char name[64];

	for (size_t i = 0; i < BUFFER_METRICS; i++) {
		snprintf(name, sizeof(name), "funnel_%s",
			 buffer_metrics[i].name);
		prom_family(f, name, buffer_metrics[i].type,
			    buffer_metrics[i].help);
		fprintf(f, "%s %" PRIu64 "\n", name,
			buffer_value(&s->tcp, i));
	}
	for (size_t i = 0; i < BUFFER_METRICS; i++) {
		snprintf(name, sizeof(name), "funnel_carrier_%s",
			 buffer_metrics[i].name);
		prom_family(f, name, buffer_metrics[i].type,
			    buffer_metrics[i].help);
		for (size_t j = 0; j < s->n_carriers; j++) {
			fprintf(f, "%s{", name);
			prom_carrier_labels(f, &s->carriers[j]);
			prom_value(f, buffer_value(&s->carriers[j].tcp, i));
		}
	}
}

static void prom_carriers(FILE *f, const struct snapshot *s)
{
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
	prom_counters(f, s, "carrier", "carrier counter", carrier_samples);
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
	for (size_t i = 0; i < REPORT_DAEMON_COUNTERS; i++) {
		const struct report_daemon_counter *dc =
			&report_daemon_counters[i];

		if (!dc->reason)
			continue;
		fputs("funnel_carriers_refused_total{", f);
		prom_label(f, "", "reason", dc->reason);
		prom_value(f, report_daemon_value(s, dc));
	}
	prom_family(f, "funnel_streams_refused_principal_total", "counter",
		    "Streams refused because their principal had the most streams open it may have");
	fprintf(f, "funnel_streams_refused_principal_total %" PRIu64 "\n",
		s->refused_streams);
	prom_carriers(f, s);
	prom_buffers(f, s);
	prom_counters(f, s, "stream", "stream counter", stream_samples);
	prom_family(f, "funnel_stream_flows", "gauge", "Flows of the stream");
	stream_samples(f, s, "funnel_stream_flows", -1);
	prom_counters(f, s, "peer",
		      "sum over the streams of the peer's outgoing carriers",
		      peer_samples);
	prom_counters(f, s, "map", "counter of the stream the map has open",
		      map_samples);
	prom_family(f, "funnel_map_open", "gauge",
		    "Whether the map has its stream open (1) or not (0)");
	map_samples(f, s, "funnel_map_open", -1);
}
