/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's state: the configuration (listen, peers, services, maps) and
 * the carriers with their streams.  One event loop, one thread.
 *
 *   daemon.c   statements (config file and funnelctl); the snapshot
 *              (snap.h) that show.c prints for show and stats
 *   carrier.c  carriers: connect/accept, preamble, control protocol,
 *              reconnect, keepalive, streams and map retries, userspace
 *              framing; carrier_tcp.c the TCP transport (carrier.h)
 *   csec.c     GSS-API contexts, keys and rekeys of carriers and streams
 *   kpath.c    funnel.ko over netlink; upath.c the userspace UDP streams;
 *              tpath.c the TCP streams (either data path)
 *   ctlsock.c  the Unix control socket; keytab.c the identity's keytab;
 *              sdnotify.c systemd's readiness and watchdog
 */
#ifndef FUNNEL_DAEMON_H
#define FUNNEL_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/ctrlmsg.h"
#include "common/frame.h"
#include "funneld/datapath/flowtab.h"
#include "common/fstats.h"
#include "funneld/datapath/kpath.h"
#include "funneld/loop.h"
#include "funneld/resolve.h"
#include "common/stmt.h"
#include "funneld/worker.h"

#define FUNNEL_DEFAULT_PORT	9899	/* TCP carriers, peer HOST w/o port */
#define DAEMON_TEXT_MAX		256

enum datapath_mode { DP_AUTO, DP_KERNEL, DP_USER };

struct carrier;
struct carrier_ops;

struct listener {
	struct listener *next;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;
	char text[64];
};

struct peer {
	struct peer *next;
	struct stmt s;			/* the peer add statement */
	struct carrier *car;		/* the outgoing carrier, always set */
};

struct service {
	struct service *next;
	struct stmt s;			/* the service add statement */
	uint64_t opens, refusals;
};

enum map_state { MAP_WAITING, MAP_OPENING, MAP_OPEN, MAP_REFUSED,
		 MAP_CLOSED };

/*
 * Flows of the userspace data path, each with a socket, of all carriers
 * together (a carrier's own limit is in carrier.c): well below the
 * descriptor limit the unit sets (LimitNOFILE=524288).
 */
#define DAEMON_USER_FLOWS_MAX	65536

struct map {
	struct map *next;
	struct stmt s;			/* the map add statement */
	struct sockaddr_storage local;	/* where the map listens */
	socklen_t local_len;
	char addr[64];			/* local as text */
	uint16_t stream;		/* 0: none on the carrier now */
	enum map_state state;
	char reason[DAEMON_TEXT_MAX];
	uint64_t last_open;		/* when OPEN was last sent */
	uint64_t next_open;		/* refused or closed: retry then */
	uint32_t retry_ms;		/* the backoff step; 0: MAP_RETRY_MIN_MS */
	int hold_fd;			/* keeps the port while not open */
};

/*
 * A refused or closed map is offered again on its own backoff, from
 * MAP_RETRY_MIN_MS doubling to MAP_RETRY_MAX_MS (each delay 3/4 to 5/4 of
 * the step); a map that opens starts again from the minimum.
 */
#define MAP_RETRY_MIN_MS	1000
#define MAP_RETRY_MAX_MS	30000

enum cstream_state { CS_OPENING, CS_OPEN };

struct csec;
struct csec_car;

/* A stream of a carrier. */
struct cstream {
	struct cstream *next;
	struct carrier *car;
	uint16_t id;
	enum cstream_state state;
	char service[CTRL_SERVICE_MAX + 1];
	int proto;			/* IPPROTO_UDP or IPPROTO_TCP */
	bool unordered;
	char addr[64];			/* map address or service target */
	struct map *map;		/* outgoing carrier: its map */
	bool in_kernel;			/* a funnel.ko stream exists */
	struct upath_stream *up;	/* userspace path stream (UDP) */
	struct tpath_stream *tp;	/* TCP stream, on either path */
	struct csec *sec;		/* GSS context and keys (csec.c) */

	/* service side: the target, resolved when OPEN came */
	struct resolve *resolving;	/* its name, in a worker */
	struct sockaddr_storage target;
	socklen_t target_len;		/* 0 until resolved */
	bool accept_wait;		/* authorized, waiting for the target */
	uint8_t *accept_tok;		/* the context's last token, meanwhile */
	size_t accept_toklen;
};

enum carrier_state {
	CAR_IDLE,		/* outgoing, not started */
	CAR_CONNECTING,		/* resolving, first GSS-API step, TCP connect */
	CAR_PREAMBLE,		/* incoming, waiting for the preamble */
	CAR_AUTH,		/* GSS-API context of the carrier */
	CAR_HELLO,		/* waiting for the peer's HELLO */
	CAR_UP,
	CAR_BACKOFF,		/* outgoing, waiting to reconnect */
};

struct carrier {
	struct carrier *next;		/* daemon's list */
	struct daemon *d;
	const struct carrier_ops *ops;	/* the transport (carrier.h) */
	struct peer *peer;		/* NULL for incoming */
	enum carrier_state state;
	struct flowbudget flows;	/* its userspace-path flows */
	int fd;
	bool kernel;			/* the carrier runs in funnel.ko */
	uint32_t kid;			/* funnel.ko carrier id */
	struct sockaddr_storage local, remote;
	char local_text[64], remote_text[64];
	char peer_node[CTRL_TEXT_MAX + 1];
	uint32_t peer_features;
	struct csec_car *gss;		/* the carrier's context (csec.c) */
	struct resolve *resolving;	/* outgoing: the peer's HOST */
	struct resolve_addrs addrs;	/* outgoing: tried in turn */
	unsigned int addr_next;		/* the next of addrs to try */
	char peer_principal[256];	/* authenticated, "" in plaintext */
	uint8_t *sbuf;			/* sealing and opening (csec.c) */

	/* receive: preamble, then frames (deframed here on the user path) */
	uint8_t pre[FUNNEL_PREAMBLE_LEN];
	size_t pre_have;
	uint8_t *rbuf;
	struct funnel_deframer df;

	/* transmit: whole frames with their length prefix */
	uint8_t *obuf;
	size_t olen, ocap, ooff;
	bool pollout;			/* EPOLLOUT is being watched */
	bool tx_blocked;		/* a DATA frame did not fit */

	struct loop_timer t_timeout;	/* connect, preamble, hello */
	struct loop_timer t_ping;
	struct loop_timer t_backoff;
	struct loop_timer t_fail;	/* a failure noticed while sending */
	struct loop_timer t_maps;	/* the next refused map's retry */
	char fail_why[DAEMON_TEXT_MAX];	/* set: failing, send nothing */
	uint64_t ping_nonce[3];		/* the last pings sent */
	bool ping_outstanding;
	uint32_t pings_missed;
	uint32_t backoff_ms;
	uint32_t reconnects;
	bool was_up;
	uint64_t up_since;
	uint64_t next_try;
	char last_error[DAEMON_TEXT_MAX];

	uint16_t next_stream;		/* outgoing: next id to try */
	struct cstream *streams;
	struct fstats st;		/* user path: carrier counters */
};

struct daemon {
	struct loop *loop;
	struct kpath kp;
	enum datapath_mode dp;
	bool plaintext;
	struct stmt identity;		/* kind 0 when unset */
	char gss_ccache[64];		/* csec.c: the identity's tickets */
	char node[CTRL_TEXT_MAX + 1];
	uint32_t keepalive_ms;
	uint64_t started;

	struct listener *listeners;
	struct peer *peers;
	struct service *services;
	struct map *maps;
	struct carrier *carriers;
	bool stopping;
	int ev_fd;			/* funnel.ko events, -1 if none */
	uint64_t key_soft_limit;	/* frames, 0: the default */
	unsigned int handshakes;	/* incoming carriers not up yet */
	/* incoming carriers refused: handshakes at the limit (all, or from
	 * one address), or their principal's carriers at the limit; and
	 * streams refused for their principal's limit
	 */
	uint64_t refused_handshakes, refused_address, refused_principal;
	uint64_t refused_streams;
	struct workers *wk_dns;		/* getaddrinfo (daemon_workers()) */
	struct workers *wk_gss;		/* GSS-API calls that reach the KDC */
	struct loop_timer accept_pause;	/* listeners paused (EMFILE) */
	struct flowbudget flows;	/* userspace-path flows of all carriers */
	unsigned int workers_left;	/* threads still running at shutdown */
	char scratch[64];
};

/* daemon.c */
/*
 * Apply one statement.  Returns 0, or -1 with err naming the problem; on
 * error nothing changed.  show and stats write their output to out
 * (json: as JSON; stats --prometheus ignores json, ctlsock.c refuses the
 * pair).  from_config refuses show and stats; there a map whose port is
 * busy is added all the same (a warning).
 */
int daemon_apply(struct daemon *d, const struct stmt *s, bool from_config,
		 bool json, FILE *out, char *err, size_t errlen);
/* Load a configuration file; -1 with err "FILE:LINE: message". */
int daemon_load(struct daemon *d, const char *path, bool must_exist,
		char *err, size_t errlen);
void daemon_shutdown(struct daemon *d);
struct service *daemon_service(struct daemon *d, const char *name);
struct map *daemon_map_find(struct daemon *d, int proto,
			    const struct sockaddr_storage *ss);
const char *map_state_name(enum map_state st);
/*
 * While a map has no stream its port is held by a socket of funneld, so
 * that nothing else takes it; released just before the stream binds.
 */
void map_hold(struct map *m);
void map_release(struct map *m);
/*
 * A numeric stmt_addr as a socket address (a name: -1, it is resolved
 * in a worker with resolve_start()).
 */
int addr_resolve(const struct stmt_addr *a, int socktype,
		 struct sockaddr_storage *ss, socklen_t *len,
		 char *err, size_t errlen);
void addr_format(const struct sockaddr_storage *ss, char *buf, size_t len);
/*
 * The worker pools, started on first use: getaddrinfo() (dns) and the
 * GSS-API calls that may wait for a KDC (gss).  NULL: out of memory.
 */
struct workers *daemon_workers_dns(struct daemon *d);
struct workers *daemon_workers_gss(struct daemon *d);

/* carrier.c */
struct carrier *carrier_new_out(struct daemon *d, struct peer *p);
/* Start (or restart) an outgoing carrier, from the loop, at once. */
void carrier_start(struct carrier *c);
/* Tear down and free (peer del, shutdown). */
void carrier_free(struct carrier *c, int reason);
/* Accept a TCP connection on a listener. */
void carrier_accept(struct daemon *d, int lfd);
/* The map was added / is being deleted: open or close its stream. */
void carrier_map_added(struct carrier *c, struct map *m);
void carrier_map_deleted(struct carrier *c, struct map *m);
/* The service is deleted: close the streams that use it. */
void carrier_service_deleted(struct daemon *d, const char *name);
const char *carrier_state_name(enum carrier_state st);
/* The first listener: set up the accept pause timer (carrier.c). */
void carrier_accept_init(struct daemon *d);
/* Shutdown: the accept pause timer must not outlive the loop. */
void carrier_pause_cancel(struct daemon *d);

#endif /* FUNNEL_DAEMON_H */
