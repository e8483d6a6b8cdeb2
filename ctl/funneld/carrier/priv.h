/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside carrier/: the carrier and its streams, and the calls between
 * carrier.c (life cycle, transmit, receive), accept.c (incoming
 * carriers and their limits), stream.c (streams and maps), ctrl.c (the
 * control protocol), csec.c (contexts, keys, rekeys) and the transports.
 * Nothing outside carrier/ includes this file.
 */
#ifndef FUNNEL_CARRIER_PRIV_H
#define FUNNEL_CARRIER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ctrlmsg.h"
#include "common/frame.h"
#include "common/fstats.h"
#include "funneld/carrier/sctprx.h"
#include "funneld/carrier/txruns.h"
#include "funneld/carrier/carrier.h"
#include "funneld/carrier/transport.h"
#include "funneld/config.h"
#include "funneld/datapath/flowtab.h"
#include "funneld/loop.h"
#include "funneld/resolve.h"

/* Limits and timers of carriers (operations.md lists them). */
#define CAR_TIMEOUT_MS		5000	/* connect, preamble, hello */
#define CAR_CONNECT_NEXT_MS	2000	/* connect, when more addresses wait */
#define CAR_AUTO_TRY_MS		3000	/* connect, auto: when more kinds wait */
#define CAR_AUTO_DEMOTE_MS	600000	/* auto: a kind that failed goes last */
#define CAR_STREAMS_POLL_MS	100	/* SCTP: added streams there yet? */
/* writable said poll(), EAGAIN said send() (SCTP under memory pressure):
 * the next try after this long, not at once
 */
#define CAR_TX_WAIT_MS		10
/* SCTP: a closed stream's id is not used again for this long (its last
 * frames may still be retransmitted), unless every id is taken; the
 * last CAR_CLOSED_IDS closed ids are remembered
 */
#define CAR_STREAM_QUARANTINE_MS	30000
#define CAR_CLOSED_IDS			64
/* SCTP: the PR-SCTP lifetime of UDP datagrams, unless configured */
#define CAR_LIFETIME_MS		1000
#define CAR_BACKOFF_MIN_MS	500
#define CAR_BACKOFF_MAX_MS	30000
#define CAR_BACKOFF_STABLE_MS	10000	/* up this long: backoff from the minimum */
#define CAR_PINGS_MISSED_MAX	3
#define CAR_TXQ_DATA_MAX	(1U << 20)	/* user path: DATA queued */
/* of which a TCP stream's frames: at most this much ahead of a UDP
 * datagram or a control message (fair sharing, architecture.md); the
 * streams stopped at it read again once the queue is down to
 * CAR_TXQ_TCP_RESUME, which leaves room for two of the largest frames
 */
#define CAR_TXQ_TCP_MAX		(192U << 10)
#define CAR_TXQ_TCP_RESUME	(60U << 10)
#define CAR_TXQ_MAX		(4U << 20)	/* CTRL may go beyond */
/* user path, TCP carrier: unsent bytes the kernel may hold (as funnel.ko
 * sets for its carriers, smaller: the queue above is in front of it)
 */
#define CAR_NOTSENT_LOWAT	(128U << 10)
#define CAR_HANDSHAKES_MAX	64		/* incoming, not up yet */
#define CAR_HANDSHAKES_PER_ADDR	8		/* of them from one address */
/* incoming carriers up, and their streams, of one principal at most */
#define CAR_PRINCIPAL_CARRIERS	8
#define CAR_PRINCIPAL_STREAMS	FUNNEL_STREAMS_MAX
/* flows of the userspace data path (a socket each), per carrier; all
 * carriers: DAEMON_USER_FLOWS_MAX (config.h)
 */
#define CAR_USER_FLOWS_MAX	16384
#define CAR_ACCEPT_PAUSE_MS	1000		/* after EMFILE */
/* client side, kernel-path UDP streams with flow origins in use: their
 * flows are dumped this often and each new one's ORIGIN sent; server
 * side, those that keep the peer's ORIGINs: dumped this often to drop
 * the origins of the flows gone (korigin.c)
 */
#define CAR_KORIGIN_SCAN_MS	1000

/* relays (switchbox.md): next-hop streams of one relay, of them for one
 * client principal, and of them still opening (a GSS-API context each)
 */
#define CAR_RELAY_STREAMS_MAX		256
#define CAR_RELAY_PRINCIPAL_MAX		64
#define CAR_RELAY_OPENING_MAX		32
/* TCP relays (relay_tcp.c): flows of one relayed stream, refusals of
 * flows waiting to be sent (beyond: dropped), a direction's bytes at
 * most when its hop does no flow control, and the queues' chunks
 * (RTCP_TURN: below)
 */
#define RTCP_FLOWS_MAX			1024
#define RTCP_REFUSE_MAX			64
#define RTCP_QUEUE_NOWIN		(4U << 20)
#define RTCP_CHUNK			16384
/* TCP relays: DATA frames one flow sends before the next flow's turn */
#define RTCP_TURN			4

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

enum cstream_state { CS_OPENING, CS_OPEN };

/* What a frame to send is, for the transmit queue's limits. */
enum car_class { CAR_CLASS_CTRL, CAR_CLASS_UDP, CAR_CLASS_TCP };

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
	uint8_t plugin;			/* a plugin stream's id (plugins.md 5) */
	uint32_t lifetime_ms;		/* UDP on SCTP: PR-SCTP lifetime */
	char addr[64];			/* map address or service target */
	struct map *map;		/* outgoing carrier: its map */
	bool in_kernel;			/* a funnel.ko stream exists */
	struct upath_stream *up;	/* userspace path stream (UDP) */
	struct tpath_stream *tp;	/* TCP stream, on either path */
	struct csec *sec;		/* GSS context and keys (csec.c) */
	struct korigin *ko;		/* kernel UDP: flow origins (korigin.c) */
	/*
	 * A relay's stream (Documentation/switchbox.md): rsvc is the relay
	 * (service side and next hop alike), relay the stream of the other
	 * hop (NULL once it is gone), rst what went through this one
	 */
	struct service *rsvc;
	struct cstream *relay;
	struct fstats rst;
	bool krelay;			/* both hops' streams in funnel.ko */
	struct rtcp *rtcp;		/* a TCP relay's flows (relay_tcp.c) */

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
	const struct carrier_ops *ops;	/* the transport (transport.h) */
	struct peer *peer;		/* NULL for incoming */
	enum carrier_state state;
	struct flowbudget flows;	/* its userspace-path flows */
	/* its TCP flows' windows and queued bytes (tpath.c) */
	struct membudget tcp_resv, tcp_buf;
	int fd;
	bool kernel;			/* the carrier runs in funnel.ko */
	uint32_t kid;			/* funnel.ko carrier id */
	struct sockaddr_storage local, remote;
	char local_text[64], remote_text[64];
	char peer_node[CTRL_TEXT_MAX + 1];
	uint32_t peer_features;
	bool no_origin_logged;		/* proxy v2 without FEAT_ORIGIN */
	uint64_t marks_ignored;		/* MARKs of no keyed plugin stream */
	struct csec_car *gss;		/* the carrier's context (csec.c) */
	struct resolve *resolving;	/* outgoing: the peer's HOST */
	struct resolve_addrs addrs;	/* outgoing: tried in turn */
	unsigned int addr_next;		/* the next of addrs to try */
	char peer_principal[256];	/* authenticated, "" in plaintext */
	uint8_t *sbuf;			/* sealing and opening (csec.c) */
	struct ctlseal *ctlseal;	/* stream 0's keys (ctlseal.c) */

	/* receive: preamble, then frames (deframed here on the user path) */
	uint8_t pre[FUNNEL_PREAMBLE_LEN];
	size_t pre_have;
	uint8_t *rbuf;
	struct funnel_deframer df;
	struct sctprx srx;		/* SCTP: a message read in part */

	/* outgoing: the transports to try (auto: several), and why the
	 * ones before the one in use were not used
	 */
	const struct carrier_ops *try_ops[3];
	unsigned int try_n, try_i;
	/* auto: a kind that did not answer, or failed before the carrier
	 * was up, is tried after the others until then (CAR_AUTO_DEMOTE_MS)
	 */
	uint64_t demoted_until[3];	/* sctp, sctp-udp, tcp */
	char kind_why[DAEMON_TEXT_MAX];
	uint32_t connect_ms;		/* the connect timeout armed */

	/* SCTP: streams of the association, each way (as last seen), and
	 * the add-streams request under way
	 */
	uint16_t sctp_in, sctp_out;
	unsigned int streams_asked;
	uint64_t streams_asked_at;
	struct loop_timer t_streams;	/* maps waiting for streams */
	struct {
		uint16_t id;
		uint64_t at;
	} closed[CAR_CLOSED_IDS];	/* outgoing SCTP: ids just closed */
	unsigned int closed_next;

	/* transmit: whole frames with their length prefix */
	uint8_t *obuf;
	size_t olen, ocap, ooff;
	uint64_t obase;			/* bytes queued before obuf[0], ever */
	struct txruns tcpq;		/* the TCP streams' bytes in obuf */
	bool pollout;			/* EPOLLOUT is being watched */
	bool tx_blocked;		/* a TCP stream's frame did not fit */
	uint16_t resumed_first;		/* the stream resumed first last time */

	struct loop_timer t_timeout;	/* connect, preamble, hello */
	struct loop_timer t_ping;
	struct loop_timer t_backoff;
	struct loop_timer t_fail;	/* a failure noticed while sending */
	struct loop_timer t_maps;	/* the next refused map's retry */
	struct loop_timer t_korigin;	/* kernel UDP flows' origins (korigin.c) */
	struct loop_timer t_txwait;	/* EPOLLOUT that wrote nothing: retry */
	/* server side: the peer's origins kept for its kernel UDP streams */
	struct flowbudget korigins;
	bool korigins_full_logged;
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
	struct fstats st;		/* counters (kernel path: funneld's drops) */
};


/* One whole frame (header and body) arrived on the carrier. */
void carrier_frame(struct carrier *c, const uint8_t *buf, size_t len);

/* A control message (stream 0 CTRL frame body) of the peer. */
void carrier_ctrl(struct carrier *c, const uint8_t *body, size_t len);

/* For csec.c: the carrier's side of contexts and keys. */
const char *carrier_name(const struct carrier *c);
/* 0, or -1: not queued (encoding, sealing, no room: see car_queue()) */
int carrier_send_ctrl(struct carrier *c, struct ctrl_msg *m);
/* A CTRL frame on stream (a GSS-API token); 0 or -1 (carrier failing). */
int carrier_send_token(struct carrier *c, uint16_t stream, const void *tok,
		       size_t len);
/* The carrier's context is established: send HELLO (state CAR_HELLO). */
void carrier_hello(struct carrier *c);
/*
 * Initiator: the first step of the carrier's context is done (err NULL:
 * its token waits to be sent; else why it failed): connect now.
 */
void carrier_prepared(struct carrier *c, const char *err);
/*
 * Client: the first step of a stream's context is done (err NULL), or
 * failed: send OPEN and the token, or give the map up for now.
 */
void carrier_stream_prepared(struct carrier *c, struct cstream *cs,
			     const char *err);
/*
 * Server: the stream's context is established and authorized: install
 * the stream with its keys, send tok (the context's last token), then
 * OPEN_OK.  On failure the stream is refused and removed.
 */
void carrier_stream_accept(struct carrier *c, struct cstream *cs,
			   const void *tok, size_t toklen);
/* Refuse (server) or close (client) a stream and remove it. */
void carrier_stream_fail(struct carrier *c, struct cstream *cs,
			 uint16_t reason, const char *text);
/*
 * The same, the peer told wire, this side's log (and show) detail, which
 * may name local files and users (NULL: the same as wire).
 */
void carrier_stream_fail_detail(struct carrier *c, struct cstream *cs,
				uint16_t reason, const char *wire,
				const char *detail);

/* Give the carrier up: log, tear down, reconnect later (outgoing). */
__attribute__((format(printf, 2, 3)))
void carrier_fail(struct carrier *c, const char *fmt, ...);

const char *carrier_state_name(enum carrier_state st);

/* carrier.c */
/* step, varied by up to a quarter either way */
uint64_t car_jittered(uint32_t step);
/* the send functions given to upath and tpath streams (arg: the stream) */
int car_upath_send(void *arg, const uint8_t *frame, size_t len);
int car_tpath_send(void *arg, const uint8_t *frame, size_t len);
void car_tpath_grant(void *arg, uint32_t flow, uint32_t bytes);
void car_tpath_integrity(void *arg, const char *why);
void car_tpath_internal(void *arg, const char *why);
void car_upath_origin(void *arg, uint32_t flow, const uint8_t *enc,
		      size_t len);
/* Room for about a control message within the data's share of the
 * transmit queue (CAR_TXQ_DATA_MAX)?
 */
bool car_data_room(const struct carrier *c);
/* The feature bits this end announces in its HELLO (CTRL_FEAT_*). */
uint32_t car_features(const struct carrier *c);
/* a control message about one stream (OPEN_OK, REFUSED, CLOSE...) */
void car_send_stream_msg(struct carrier *c, uint8_t type, uint16_t stream,
			 uint16_t reason, const char *text);
/* a new carrier, linked into d's list, not started */
struct carrier *car_alloc(struct daemon *d);
/* auto: the kind in use goes last for a while (demote), or not (false) */
void car_kind_demote(struct carrier *c, bool demote);
/* the connection is up (either side): set it up and start the handshake */
void car_established(struct carrier *c);
/* the carrier socket's event callback */
void car_io(struct loop *l, int fd, uint32_t events, void *arg);

/* stream.c */
/* a stream by id, NULL if none; how many; remove and free one */
struct cstream *cs_find(struct carrier *c, uint16_t id);
unsigned int cs_count(const struct carrier *c);
void cs_remove(struct carrier *c, struct cstream *cs);
/* a new stream in state CS_OPENING; NULL: out of memory */
struct cstream *cs_add(struct carrier *c, uint16_t id, int proto,
		       const char *service, const char *addr);
/*
 * Create the stream's data path: in funnel.ko or in funneld, listening
 * on ss (map side) or forwarding to it (service side); -1 with err.
 */
int cs_install(struct carrier *c, struct cstream *cs, bool listen,
	       const struct sockaddr_storage *ss, socklen_t len, char *err,
	       size_t errlen);
/* client side: open m's stream now; the retry timer; m's stream is gone */
void car_open_map(struct carrier *c, struct map *m);
void car_maps_fire(struct loop *l, void *arg);
/* SCTP: maps waiting for streams of the association, tried again */
void car_streams_fire(struct loop *l, void *arg);
void car_map_down(struct carrier *c, struct map *m);
/*
 * relay.c (switchbox.md).  relay_start(): the service side of a relay's
 * stream cs is authorized (tok: its context's last token, kept until the
 * next hop answers): open the next hop's stream.  relay_next_open(): the
 * next hop accepted it; relay_next_refused(): it refused or closed it;
 * relay_next_failed(): its context could not start (err), no OPEN sent;
 * relay_gone(): cs is being removed, its other hop goes too.
 * relay_frame(): a DATA or FLOW_END frame (plaintext) of a relay's
 * stream, sent on the other hop.  relay_origin(): the peer's ORIGIN of
 * a flow of such a stream.
 */
void relay_start(struct carrier *c, struct cstream *cs, const void *tok,
		 size_t toklen);
void relay_next_open(struct carrier *c, struct cstream *next);
void relay_next_refused(struct cstream *next, const struct ctrl_msg *m,
			bool closed);
void relay_next_failed(struct cstream *next, const char *err);
void relay_gone(struct cstream *cs);
void relay_frame(struct carrier *c, struct cstream *cs,
		 const struct funnel_frame *f);
void relay_origin(struct cstream *cs, const struct ctrl_msg *m);
/*
 * relay_tcp.c: the flows of a TCP relay's pair of streams.  rtcp_new():
 * both are installed; rtcp_free(): either goes (relay_unlink()).
 * rtcp_frame(): a DATA or FLOW_END frame of either; rtcp_window(): the
 * hop of cs granted credit; rtcp_resume(): the carrier of cs has room
 * again (or a new key).  rtcp_nflows(), rtcp_queued(): for show.
 */
struct rtcp;
int rtcp_new(struct cstream *cs, struct cstream *next);
void rtcp_free(struct rtcp *rt);
void rtcp_frame(struct cstream *cs, const struct funnel_frame *f);
void rtcp_window(struct cstream *cs, uint32_t flow, uint32_t credit);
void rtcp_resume(struct cstream *cs);
uint32_t rtcp_nflows(const struct cstream *cs);
uint64_t rtcp_queued(const struct cstream *cs);
/* a free stream id of outgoing carrier c, 0 if none (car_open_map()) */
uint16_t car_pick_stream(struct carrier *c);
void car_send_open(struct carrier *c, struct cstream *cs);

/* korigin.c: the flow origins of the UDP streams in funnel.ko */
/* a kernel UDP stream was installed (listen: the client side) */
void korigin_installed(struct carrier *c, struct cstream *cs, bool listen);
/* the peer's ORIGIN m for stream cs */
void korigin_recv(struct cstream *cs, const struct ctrl_msg *m);
/* server side: flow's origin into *out, or false if not known */
bool korigin_lookup(const struct cstream *cs, uint32_t flow,
		    struct sockaddr_storage *out);
/* the stream goes */
void korigin_free(struct cstream *cs);
/* t_korigin: dump the flows, send the new ones' ORIGINs */
void korigin_scan_fire(struct loop *l, void *arg);

/* accept.c */
/*
 * Incoming carriers up of principal (not counting skip); their streams
 * in *streams when not NULL.
 */
unsigned int car_principal_carriers(const struct daemon *d,
				    const char *principal,
				    const struct carrier *skip,
				    unsigned int *streams);
/* acceptor: read the preamble (the transport's accept_read) */
void car_accept_read(struct carrier *c);

#endif /* FUNNEL_CARRIER_PRIV_H */
