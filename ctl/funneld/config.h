/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's configuration and what the parts of the daemon share.
 *
 * struct daemon holds the configuration as the statements left it
 * (listeners, peers, services, maps: daemon.c changes them), the event
 * loop, funnel.ko's netlink socket, the worker pools and the daemon-wide
 * limits.  The carriers are carrier/'s (struct carrier is private there);
 * the list head lives here so that the daemon can hand them over.
 */
#ifndef FUNNEL_CONFIG_H
#define FUNNEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/ctrlmsg.h"
#include "common/stmt.h"
#include "funneld/datapath/flowtab.h"
#include "funneld/datapath/kpath.h"
#include "funneld/datapath/membudget.h"
#include "funneld/loop.h"
#include "funneld/worker.h"

#define FUNNEL_DEFAULT_PORT	9899	/* TCP carriers, peer HOST w/o port */
#define DAEMON_TEXT_MAX		256

enum datapath_mode { DP_AUTO, DP_KERNEL, DP_USER };

struct carrier;

struct listener {
	struct listener *next;
	struct daemon *d;
	int proto;			/* IPPROTO_TCP or IPPROTO_SCTP */
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
	struct stmt s;			/* the service add (relay add) statement */
	uint64_t opens, refusals;
	/* relay add: frames relayed to the other hop, and dropped there */
	uint64_t relayed, relay_drops;
	/* the last refusal, with this side's detail (show); "" if none */
	char last_refusal[DAEMON_TEXT_MAX];
};

enum map_state { MAP_WAITING, MAP_OPENING, MAP_OPEN, MAP_REFUSED,
		 MAP_CLOSED };

/*
 * Flows of the userspace data path, each with a socket, of all carriers
 * together (a carrier's own limit is in carrier/priv.h): well below the
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
	bool plugin_off;		/* the peer refused its plugin stream */
	bool plugin_ordered;		/* ... an unordered one (older peer) */
};

/*
 * A refused or closed map is offered again on its own backoff, from
 * MAP_RETRY_MIN_MS doubling to MAP_RETRY_MAX_MS (each delay 3/4 to 5/4 of
 * the step); a map that opens starts again from the minimum.
 */
#define MAP_RETRY_MIN_MS	1000
#define MAP_RETRY_MAX_MS	30000

/*
 * An identity of maps other than the daemon's (map add ... identity P
 * keytab PATH): the MEMORY ccache its streams' initiator contexts share,
 * named at the first of them, destroyed with the last map of that
 * principal and keytab and at exit (carrier_ident_*(), csec.c).
 */
struct ident_cc {
	struct ident_cc *next;
	char principal[STMT_PRINCIPAL_MAX + 1];
	char keytab[STMT_PATH_MAX + 1];
	char ccache[64];
	/* first steps running in a worker with it; released: its last map
	 * is gone, the last of them destroys it (and frees this)
	 */
	unsigned int busy;
	bool released;
};

struct daemon {
	struct loop *loop;
	struct kpath kp;
	enum datapath_mode dp;
	bool plaintext;
	struct stmt identity;		/* kind 0 when unset */
	char gss_ccache[64];		/* csec.c: the identity's tickets */
	struct ident_cc *idents;	/* maps' identities' tickets */
	char node[CTRL_TEXT_MAX + 1];
	uint32_t keepalive_ms;
	uint64_t started;

	/* SCTP in this netns (carrier_sctp_init()): sctp_ok, else why
	 * not; the UDP encapsulation port (net.sctp.udp_port), 0: off,
	 * and why
	 */
	bool sctp_asked, sctp_udp_asked;	/* carrier_sctp_need() */
	bool sctp_ok;
	char sctp_why[DAEMON_TEXT_MAX];
	uint16_t sctp_udp_port;
	bool sctp_udp_set;		/* funneld set net.sctp.udp_port */
	char sctp_udp_why[DAEMON_TEXT_MAX];
	char sctp_listen_why[DAEMON_TEXT_MAX];	/* an SCTP listener failed */

	struct listener *listeners;
	struct peer *peers;
	struct service *services;
	struct map *maps;
	struct carrier *carriers;	/* carrier/: its own list */
	bool stopping;
	int ev_fd;			/* funnel.ko events, -1 if none */
	uint64_t key_soft_limit;	/* frames, 0: the default */
	uint32_t tcp_window;		/* bytes per TCP flow (tpath.h) */
#define DAEMON_TCP_WINDOW_DEFAULT	(4U << 20)
	unsigned int handshakes;	/* incoming carriers not up yet */
	/* incoming carriers refused: handshakes at the limit (all, or from
	 * one address), or their principal's carriers at the limit; and
	 * streams refused for their principal's limit
	 */
	uint64_t refused_handshakes, refused_address, refused_principal;
	uint64_t refused_streams;
	struct workers *wk_dns;		/* getaddrinfo (config_workers_dns()) */
	struct workers *wk_gss;		/* GSS-API calls that reach the KDC */
	struct loop_timer accept_pause;	/* listeners paused (EMFILE) */
	struct flowbudget flows;	/* userspace-path flows of all carriers */
	/* every carrier's TCP flows: windows reserved, bytes queued; the
	 * budgets of --buffer-max and of each carrier (--carrier-buffer-max)
	 */
	struct membudget tcp_resv, tcp_buf;
	uint64_t carrier_buffer_max;
#define DAEMON_BUFFER_MAX_DEFAULT		(4ULL << 30)
#define DAEMON_CARRIER_BUFFER_MAX_DEFAULT	(1ULL << 30)
	unsigned int workers_left;	/* threads still running at shutdown */
	char scratch[64];
};

/* config.c */
struct service *config_service(struct daemon *d, const char *name);
struct map *config_map_find(struct daemon *d, int proto,
			    const struct sockaddr_storage *ss);
struct peer *config_peer(struct daemon *d, const char *name);
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
struct workers *config_workers_dns(struct daemon *d);
struct workers *config_workers_gss(struct daemon *d);

/* The two addresses are the same (family, address, port). */
bool addr_equal(const struct sockaddr_storage *a,
		const struct sockaddr_storage *b);
/*
 * A socket of type bound to ss (the AF_INET6 any address: dual-stack);
 * -1 with err "WHAT ADDR: reason".
 */
int bind_socket(const struct sockaddr_storage *ss, socklen_t len, int type,
		const char *what, char *err, size_t errlen);
/* a's HOST:PORT as written ([v6]:port), dflt when it has no port. */
void host_port(const struct stmt_addr *a, uint16_t dflt, char *buf,
	       size_t len);

#endif /* FUNNEL_CONFIG_H */
