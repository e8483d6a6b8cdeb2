/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of funneld's state for "show" and "stats": plain data that
 * funneld fills in (daemon.c) and report/ renders: as text (text.c), as
 * JSON (json.c) or in the Prometheus text exposition format (prom.c).
 * Every string is NUL-terminated; addresses are written as "1.2.3.4:53"
 * or "[fd00::1]:53".
 */
#ifndef FUNNEL_SNAP_H
#define FUNNEL_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/fstats.h"

#define SNAP_ADDR_MAX	272	/* "[ipv6]:port", or a DNS name and port */
#define SNAP_TEXT_MAX	256

/*
 * The bytes TCP flows hold in funneld (a carrier's, or all carriers'):
 * queued for their sockets now and at most so far, the windows reserved
 * for them, the budget, and the windows not given whole for want of room
 * (a new flow refused, or a flow's window made smaller).
 */
struct snap_buffers {
	uint64_t queued, queued_peak;
	uint64_t reserved, max;
	uint64_t short_windows;
};

struct snap_flow {
	uint32_t id;
	char local[SNAP_ADDR_MAX];
	char remote[SNAP_ADDR_MAX];
	uint32_t idle_ms;
	struct fstats st;
	/* service side: the client the peer's funneld accepted the flow
	 * from (its origin), "" if not known
	 */
	char origin[SNAP_ADDR_MAX];
};

/* A stream of a carrier: one map (outgoing carrier) or one service use. */
struct snap_stream {
	uint16_t id;
	char service[64];		/* service name */
	const char *proto;		/* "udp", "tcp" */
	/*
	 * Outgoing carrier: the map's local address ("127.0.0.1:5300").
	 * Incoming carrier: the service's target ("127.0.0.1:53").
	 */
	char addr[SNAP_ADDR_MAX];
	/*
	 * "opening", "open": a refused or closed stream is gone, its map
	 * (snap_map) says why
	 */
	const char *state;
	char reason[SNAP_TEXT_MAX];	/* not filled in yet: "" */
	bool unordered;
	uint32_t key_gen;		/* key generation in use, 0: plaintext */
	uint64_t rekeys;
	char principal[SNAP_TEXT_MAX];	/* the stream's client principal */
	uint32_t nflows;
	struct fstats st;
	struct snap_flow *flows;
	size_t n_flows;
};

struct snap_carrier {
	/* the peer's name (outgoing) or "" (incoming) */
	char peer[64];
	bool incoming;
	const char *transport;		/* "tcp", "sctp", "sctp-udp" */
	/* auto: why the kinds before it were not used; "" if none */
	char transport_why[SNAP_TEXT_MAX];
	/* SCTP: the peer's addresses, "ADDR (primary, active), ..." */
	char paths[SNAP_TEXT_MAX];
	/* SCTP: datagrams PR-SCTP abandoned past their lifetime */
	uint64_t abandoned;
	const char *datapath;		/* "kernel", "user"; "" unconnected */
	/* "idle", "connecting", "handshake", "up", "backoff" */
	const char *state;
	char local[SNAP_ADDR_MAX];
	char remote[SNAP_ADDR_MAX];
	char peer_node[SNAP_TEXT_MAX];	/* the peer's HELLO node name */
	char principal[SNAP_TEXT_MAX];	/* the peer, authenticated; "" */
	uint32_t kernel_id;		/* funnel.ko carrier id, 0 if none */
	uint64_t up_ms;			/* time since up, 0 if not up */
	uint32_t reconnects;		/* times brought up again */
	uint64_t next_try_ms;		/* backoff: ms to the next attempt */
	char last_error[SNAP_TEXT_MAX];	/* "" if none */
	uint32_t pings_missed;
	/* MARKs of no keyed unordered plugin stream (csec_mark()) */
	uint64_t marks_ignored;
	struct snap_buffers tcp;	/* its TCP flows' memory */
	struct fstats st;		/* carrier-level counters */
	struct snap_stream *streams;
	size_t n_streams;
};

#define SNAP_PEER_ADDRS_MAX	4	/* STMT_PEER_ADDRS_MAX */

struct snap_peer {
	char name[64];
	char host[SNAP_ADDR_MAX];	/* its first HOST:PORT as configured */
	const char *carrier;		/* "auto", "sctp", "sctp-udp", "tcp" */
	char principal[SNAP_TEXT_MAX];	/* "" if any */
	/* every HOST:PORT as configured (SCTP multihoming: several; the
	 * first is host)
	 */
	char addrs[SNAP_PEER_ADDRS_MAX][SNAP_ADDR_MAX];
	size_t n_addrs;
	/* the udp-port clause: the peer's SCTP over UDP encapsulation
	 * port; 0: none (this end's net.sctp.udp_port)
	 */
	uint16_t udp_port;
};

struct snap_service {
	char name[64];
	const char *proto;
	char target[SNAP_ADDR_MAX];
	char allow[SNAP_TEXT_MAX];	/* "alice@R,bob@R", "" if none */
	/* its identity clause's principal: "" for the daemon's identity */
	char identity[SNAP_TEXT_MAX];
	uint64_t opens;			/* streams opened for it */
	uint64_t refusals;		/* opens refused */
	/* the last refusal with this side's detail (not the peer's text) */
	char last_refusal[SNAP_TEXT_MAX];
	const char *proxy;		/* "v2": PROXY protocol; NULL: none */
	const char *plugin;		/* "ldap": its plugin; NULL: none */
	/* relay add: "PEER/SERVICE", its next hop ("": a service), and
	 * the frames relayed to the other hop and dropped there
	 */
	char relay[SNAP_ADDR_MAX];
	uint64_t relayed, relay_drops;
};

struct snap_map {
	const char *proto;
	char addr[SNAP_ADDR_MAX];	/* ADDR:PORT as bound */
	char peer[64];
	char service[64];
	/* its identity clause's principal: "" for the daemon's identity */
	char identity[SNAP_TEXT_MAX];
	/* the principal its service must prove: "" for the peer's */
	char principal[SNAP_TEXT_MAX];
	const char *plugin;		/* "ldap": its plugin; NULL: none */
	uint16_t stream;		/* 0 while not opened */
	/* "waiting", "opening", "open", "refused", "closed" */
	const char *state;
	char reason[SNAP_TEXT_MAX];	/* why not open; "" if none */
};

struct snapshot {
	const char *version;		/* FUNNEL_VERSION */
	const char *datapath;		/* "auto", "kernel", "user" (option) */
	bool kernel_available;		/* funnel.ko answers */
	bool plaintext;
	char identity[SNAP_TEXT_MAX];	/* "" if none */
	uint64_t uptime_ms;
	/* incoming carriers refused: too many in their handshake, too many
	 * in it from one address, their principal's carriers at the limit;
	 * streams refused at their principal's limit
	 */
	uint64_t refused_handshakes, refused_address, refused_principal;
	uint64_t refused_streams;
	struct snap_buffers tcp;	/* every carrier's TCP flows */
	char (*listens)[SNAP_ADDR_MAX];
	size_t n_listens;
	/* the kinds of carrier listeners take, "tcp, sctp, sctp-udp (udp
	 * 9899)", or why not every kind; "" without a listener
	 */
	char accepts[SNAP_TEXT_MAX];
	struct snap_peer *peers;
	size_t n_peers;
	struct snap_service *services;
	size_t n_services;
	struct snap_map *maps;
	size_t n_maps;
	struct snap_carrier *carriers;
	size_t n_carriers;
};

/* Human-readable "show" output. */
void show_text(FILE *f, const struct snapshot *s);
/* "show --json": one JSON object, newline-terminated. */
void show_json(FILE *f, const struct snapshot *s);
/* "stats": counters per peer, carrier, stream and map, as text. */
void stats_text(FILE *f, const struct snapshot *s);
/* "stats --json" */
void stats_json(FILE *f, const struct snapshot *s);
/* "stats --prometheus": text exposition format 0.0.4. */
void stats_prometheus(FILE *f, const struct snapshot *s);

#endif /* FUNNEL_SNAP_H */
