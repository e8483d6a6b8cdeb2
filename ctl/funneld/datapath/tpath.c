// SPDX-License-Identifier: GPL-2.0
/*
 * funneld's TCP forwarding: one flow per TCP connection on an ordered
 * stream, the TCP counterpart of upath.c (same flow ids, hashing and
 * counters, same "freed from inside its own callback" rule).
 *
 * The stream/flow lifecycle is dpstream.c's, as for UDP; here: the TCP
 * sockets, the queues, the frames that wait for room on the carrier.
 *
 * tcp-listen (client side): a listening socket; each accepted connection
 * is a flow with the next flow id.  The flow is opened at once with a
 * DATA frame, so that the server side connects to the target even
 * when the target speaks first: empty, or with FEAT_ORIGIN in use
 * (cfg->origin) the flow's origin (common/origin.h: the client's address
 * and the one it connected to; wire-format.md 6.1).  The connection's
 * bytes follow in DATA frames, FUNNEL_MAX_SEALED_PAYLOAD bytes at most
 * each (so that each can be sealed).
 *
 * tcp-connect (server side): a DATA frame with a new flow id opens a
 * non-blocking connection to the target.  With FEAT_ORIGIN its body is
 * the origin, kept with the flow (and refused with a reset, counted
 * rx-drop-malformed, when malformed); without, it is payload that waits
 * in the flow's queue until the connection is up.  With cfg->proxy, a
 * PROXY protocol v2 header goes to the target first, written as soon as
 * the connection is made (a fresh socket takes its 52 bytes at most at
 * once; one that does not is reset).  A flow id the peer has already used
 * (older than the newest one seen) is never a new flow: that is a flow
 * ended here whose frames are still coming, dropped as rx-drop-no-flow
 * rather than sent to a new connection from the middle of a stream.
 * The client side opens flows in id order, which makes this exact.
 *
 * FLOW_END means "the sender is done sending" (a TCP FIN): at EOF on its
 * socket a side sends FLOW_END and keeps writing what still arrives; on
 * FLOW_END from the peer it shuts its socket down for writing once the
 * flow's queue is written.  The flow is freed when both directions are
 * done.  Idle expiry ends the flow at once, with FLOW_END if it was not
 * sent yet.  An error or a reset of the socket (the client's or the
 * service's RST, a refused connection, a queue overflow) ends it at once
 * with FLOW_END and R (FUNNEL_F_RESET), even after a FLOW_END: the peer
 * closes its socket with a reset (SO_LINGER 0) and sends nothing back.
 * A stream that ends (its carrier lost, closed, or failed an integrity
 * check) resets the sockets of the flows it still has: a client never
 * takes a cut-off transfer for a complete one.
 *
 * Nothing is dropped for want of room on the carrier: a frame the
 * carrier refuses (send() returns -1) waits in its flow, on the stream's
 * list of pending frames, and every frame after it waits too, in order.
 * While frames wait the stream reads none of its sockets (a socket that
 * reports data is taken out of EPOLLIN until then); the carrier calls
 * tpath_stream_resume() when it has room.  Bytes from the carrier wait in
 * a queue of their flow until the socket takes them.
 *
 * Flow control (control-protocol.md section 7, when both ends announce
 * FEAT_WINDOW): a flow may send the peer only as many bytes as it has
 * credit for: TPATH_WINDOW_INIT at first, then what the peer grants
 * (tpath_flow_credit()).  A flow without credit stops reading its socket
 * (its own only: the others and the stream go on).  The receiving end
 * keeps a window per flow, TPATH_WINDOW_INIT at first: it grants the
 * bytes it wrote to its socket, a quarter of the window at a time, and
 * doubles the window (up to s->window) when the flow moved a whole
 * window within twice its credit loop (flow_grow(), tpwin.h); so a
 * flow's queue never holds more than its window, and a peer that sends
 * past it is reset (rx-drop-queue).
 * Without flow control, a flow whose queue would pass TPATH_QUEUE_MAX is
 * reset (rx-drop-queue).
 *
 * Memory (cfg->resv, cfg->buf: the carrier's budgets, whose parent is
 * the daemon's): a flow's window is reserved in resv while the flow
 * exists.  A new flow needs TPATH_WINDOW_INIT of room, else it is
 * refused with a reset; a window grows only as far as there is room,
 * keeping a quarter of the budget for new flows (a flow with a smaller
 * window is slower, never reset).  So the bytes
 * queued, counted in buf (payload bytes; memory is in TPATH_CHUNK
 * chunks), never pass the budget.  A stream without flow control has
 * no windows: its queued bytes count in resv, and a queue that finds
 * no room there resets its flow (rx-drop-queue).  An LDAP stage
 * (below) is reserved in resv too, and counted in buf; so is a plugin
 * stream's flow state (flow_pseq_init()), and an unordered one's window
 * of the peer's flow ids while the stream has it (idwin_take()).
 *
 * The LDAP plugin (cfg->ldap, Documentation/plugins.md section 4): a
 * flow's socket is peeked at (MSG_PEEK) and the whole LDAPMessages in
 * it (common/ldapber.h) go in DATA frames: a message, with the messages
 * of its operation that follow it in what was peeked as far as
 * ldap_pack() lets them share its frame (free ones of the same key, up
 * to the frame's room and the credit; nothing is waited for to fill a
 * frame); only the bytes
 * sent are taken from the socket (read again), so a partial
 * message waits in the socket, whose SO_RCVLOWAT is set to the bytes it
 * needs (no wakeup for less).  A message waits for credit to cover it
 * whole if it is at most TPATH_LDAP_WHOLE bytes (a flow's credit always
 * comes back to three quarters of the initial window once the peer
 * wrote what it had: a receiver never holds a quarter of its window or
 * more written and ungranted, control-protocol.md section 7,
 * tpwin_grant_due()); a longer one, or one longer than a frame, goes as
 * consecutive frames of its bytes alone (big_left).  A direction that
 * left LDAP (TLS after StartTLS, a SASL layer after a bind: opaque) is
 * read as plain bytes.  A message the framer refuses, or a connection
 * that ends inside a message, resets the flow: counted
 * rx-drop-malformed, logged with the reason at most once a second per
 * stream.
 *
 * Plugin streams (cfg->plugseq, plugins.md section 5, plugseq.h): each
 * DATA frame's body starts with the 8-byte sub-header, between the frame
 * header and the message (the opening frame's: Sequence 0).  The sender
 * (pseq_tx, per flow) puts there the frame's Sequence, B and After from
 * the message's operation key and order (ldap_msg_order()), M on every
 * frame of a message in pieces but its last; plain bytes are barriers.
 * A frame costs max(its bytes, PSEQ_COST_MIN) of the flow's credit at
 * both ends (the receiver counts and grants the difference at once).
 * The receiver (pseq_rx, per flow) writes a frame once its dependency is
 * written and keeps it until then (its cost counts in the flow's window:
 * past it, or a second empty frame held, the flow is reset,
 * rx-drop-queue, logged); a malformed sub-header or a frame beyond the
 * window resets the flow (rx-drop-malformed, logged as LDAP is), a
 * replay is dropped (rx-drop-replay).  On an ordered stream frames
 * arrive with their dependencies met, and a FLOW_END without R while
 * frames wait is refused like a malformed frame.  An unordered one
 * (cfg->unordered: FUNNEL_F_UNORDERED, SCTP_UNORDERED) may bring a new
 * flow's frames before its opening frame: the flow is made and waits
 * for it (unopened: no connection yet); and FLOW_END before frames sent
 * ahead of it: the sender ends each direction with an empty barrier
 * frame (flow_end_mark()), and FLOW_END waits until that is written
 * (end_wait).  Flow ids ended lately there are kept (id_is_new()).  A
 * flow whose frames wait TPATH_WAIT_MS with none written is reset
 * (wait_cb()).
 *
 * Everything runs in funneld's single-threaded event loop.  The carrier's
 * send function may free the stream before it returns: the stream is then
 * only marked dead, sends nothing more, and is freed when the callback of
 * ours that is running ends.  It may also call tpath_stream_resume(); it
 * must not call tpath_stream_input().
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/ldapber.h"
#include "common/origin.h"
#include "funneld/log.h"
#include "funneld/datapath/dpstream.h"
#include "funneld/datapath/membudget.h"
#include "funneld/datapath/plugseq.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/tpwin.h"

/* Bytes from the carrier waiting for a flow's socket, at most. */
#define TPATH_QUEUE_MAX		(4U << 20)
/* Those bytes are kept in chunks of this size. */
#define TPATH_CHUNK		65536
/* Chunks per sendmsg(). */
#define TPATH_IOV		16
/* Refusals waiting for room on the carrier, per stream, at most: a peer
 * that opens flows while not reading gets no more memory (its flows
 * beyond are dropped without an answer).
 */
#define TPATH_REFUSE_MAX	64
/* Reads of one socket per wakeup (the loop is level-triggered). */
#define TPATH_BUDGET		4
/* Connections accepted per wakeup of the listening socket. */
#define TPATH_ACCEPT_BATCH	16
/* Out of file descriptors: no accept() for this long. */
#define TPATH_ACCEPT_PAUSE_MS	1000
/* LDAP: frames of one flow per wakeup, at most (then the loop serves
 * the other sockets: a flood of small messages from one client does not
 * hold the carrier for the others)
 */
#define TPATH_LDAP_FRAMES	64
/* LDAP: a message up to this long waits for credit to go whole. */
#define TPATH_LDAP_WHOLE	(TPATH_WINDOW_INIT / 4 * 3)
/* the no-deadlock argument of the wait for credit (tpwin_grant_due()) */
_Static_assert(TPATH_LDAP_WHOLE <= TPATH_WINDOW_INIT - TPATH_WINDOW_INIT / 4,
	       "a whole LDAP message must fit the credit of a caught-up flow");
/* LDAP: the buffer of a message read in part (a frame's room; a plugin
 * stream's sub-header comes on top, PSEQ_HDR_LEN bytes more)
 */
#define TPATH_STAGE		(FUNNEL_HDR_LEN + TPATH_LDAP_WHOLE)
_Static_assert(LDAP_ORDER_BARRIER == PSEQ_BARRIER &&
	       LDAP_ORDER_LAST == PSEQ_LAST && LDAP_ORDER_FREE == PSEQ_FREE,
	       "the LDAP orders are plugseq's");
/* Unordered plugin streams: flows whose frames came before their opening
 * frame, at most TPATH_UNOPENED_MAX a stream
 */
#define TPATH_UNOPENED_MAX	64
/* Plugin streams: a flow whose frames wait this long without one written
 * (a dependency, or its opening frame, that never comes) is reset
 */
#define TPATH_WAIT_MS		30000
/* LDAP: a refused message is logged at most this often per stream. */
#define TPATH_LDAP_LOG_MS	1000

/* Part of a flow's queue: bytes [head, tail) of data wait. */
struct tpath_chunk {
	struct tpath_chunk *next;
	size_t head, tail;
	uint8_t data[TPATH_CHUNK];
};

struct tpath_flow {
	struct dp_flow dp;		/* dp.fd: -1 once closed */
	struct tpath_flow *pend_next;	/* on the stream's pending list */
	struct tpath_flow *paused_next, **paused_pprev;
	uint32_t events;		/* watched in the loop now */
	union dp_sa local, remote;
	struct origin origin;		/* tcp-connect: family 0: none */

	/* bytes from the carrier for the socket */
	struct tpath_chunk *q_head, *q_tail;
	size_t qlen;

	/* a DATA frame the carrier refused, header included */
	uint8_t *pend;
	size_t pend_len;

	bool hashed;		/* in the flow id table */
	bool in_loop;		/* fd is watched (not while paused after HUP) */
	bool connecting;	/* tcp-connect: connect() not done yet */
	bool paused;		/* on the paused list: no EPOLLIN */
	bool on_pend;		/* on the pending list */
	bool end_pend;		/* FLOW_END waits there (after pend) */
	bool eof;		/* reading is over (EOF, error, reset) */
	bool end_queued;	/* FLOW_END sent, or waiting to be */
	bool rst_out;		/* the FLOW_END to send has R: a reset */
	bool peer_end;		/* the peer's FLOW_END came */
	bool wr_shut;		/* shutdown(SHUT_WR) done */
	bool closed;		/* socket closed, queue dropped */

	/* flow control (s->window) */
	bool starved;		/* no credit: the socket is not read */
	uint64_t credit;	/* bytes we may still send */
	uint64_t unacked;	/* written to the socket, not granted yet */
	struct tpwin tw;	/* its growth (flow_grow()) */
	bool short_win;		/* its window stopped growing for want of room */
	bool refused;		/* only a refusal's FLOW_END, waiting */
	uint32_t win;		/* its window, reserved in s->resv; 0: none */

	/* LDAP (s->ldap) */
	struct ldap_dir ldap;	/* what the socket sends */
	size_t big_left;	/* bytes of a message sent in pieces */
	size_t peeked;		/* bytes there at the last "need more" */
	int lowat;		/* SO_RCVLOWAT set; 0: the default (1) */
	uint8_t *stage;		/* a message read in part: header, bytes */
	size_t stage_len;	/* its bytes there */

	/* plugin stream (s->plugseq) */
	struct pseq_tx *ptx;	/* what this end sends */
	struct pseq_rx prx;	/* what the peer sends */
	uint64_t pcost;		/* their part reserved in s->resv */
	bool pfirst;		/* big_left: its first frame not sent yet */
	bool unopened;		/* unordered: its opening frame not come */
	bool end_mark;		/* unordered: the peer's last frame written */
	bool end_wait;		/* unordered: its FLOW_END waits for that */
	uint64_t wait_at;	/* frames wait since (none written); 0: none */
	/* unordered: a Sequence missing below one
	 * delivered (prx.d < prx.top) since gap_at, d then gap_d
	 */
	uint64_t gap_at;
	uint32_t gap_d;
	uint32_t pkey;		/* then its operation key */
	uint8_t porder;		/* and order */
};

struct tpath_stream {
	struct dp_stream dp;		/* dp.fd: tcp-listen's socket */
	enum tpath_kind kind;
	uint32_t lev;			/* the listening socket's events now */
	bool accept_paused;		/* out of file descriptors */
	bool listen_paused;		/* frames are pending */
	struct loop_timer accept_t;	/* ends accept_paused */
	struct loop_timer wait_t;	/* plugin streams: waits too long */

	uint32_t last_id;		/* tcp-connect: the peer's newest id */
	bool seen_id;			/* last_id is set */

	/* flows with frames the carrier refused, in the order sent */
	struct tpath_flow *pend_head, *pend_tail;
	/* flows whose socket is not read until the pending list empties */
	struct tpath_flow *paused;

	bool flushing;			/* in pend_flush() */
	uint32_t refusing;		/* refused flows waiting to say so */

	uint32_t window;		/* 0: no flow control */
	void (*grant)(void *arg, uint32_t flow, uint32_t bytes);
	void *grant_arg;
	struct membudget *resv;		/* the flows' windows */
	struct membudget *buf;		/* the bytes in the flows' queues */
	bool origin;			/* flows open with their origin */
	bool proxy;			/* tcp-connect: PROXY v2 header */
	bool ldap;			/* the LDAP plugin */
	bool plugseq;			/* a plugin stream: sub-headers */
	bool unord;			/* ... unordered (FUNNEL_F_UNORDERED) */
	uint32_t unopened;		/* flows waiting for their opening frame */
	bool keyed;			/* ... sealed: a replay ends it */
	void (*integrity)(void *arg, const char *why);
	void (*internal)(void *arg, const char *why);
	/* unordered, tcp-connect: the peer's flow ids seen (plugseq.h) */
	struct pseq_idwin ids;
	uint64_t idcost;		/* its bitmap, reserved in resv */
	uint64_t ldap_logged;		/* loop_now_ms() of the last log */
};

/* Bytes between a DATA frame's header and its message. */
static size_t tp_sub(const struct tpath_stream *s)
{
	return s->plugseq ? PSEQ_HDR_LEN : 0;
}

/* Message bytes one DATA frame holds at most. */
static size_t tp_room(const struct tpath_stream *s)
{
	return FUNNEL_MAX_SEALED_PAYLOAD - tp_sub(s);
}

/* What a frame of len message bytes costs of its flow's credit. */
static uint64_t tp_cost(const struct tpath_stream *s, size_t len)
{
	return s->plugseq ? pseq_cost(len) : len;
}

static struct tpath_stream *tstream(const struct dp_stream *d)
{
	return dp_entry(d, struct tpath_stream, dp);
}

static struct tpath_flow *tflow(const struct dp_flow *f)
{
	return f ? dp_entry(f, struct tpath_flow, dp) : NULL;
}

/*
 * The read buffer, shared by every stream: room for a frame header, then
 * a full payload, so that a DATA frame is read in place.  The loop runs
 * one callback at a time, and a frame is copied by send() or into its
 * flow before the callback returns.
 */
static struct dp_shared tpath_buf;

/* Bytes go out as they come: the sender has coalesced them already. */
static void sock_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * A plugin stream's flow: its sender's state, and its receiver's, whose
 * window is the frames the peer may have in flight (5.4).  0, -ENOMEM or
 * -ENOBUFS (no room in s->resv: the flow is refused).  Their fixed
 * part, the sender's table (8 KiB) and the receiver's bitmap at its
 * largest (window / PSEQ_COST_MIN bits), is reserved in s->resv while
 * the flow exists, as its window is (review-ldap2 L5); what the frames
 * held cost grows with them and stays within the flow's window
 * (flow_pseq_input()).
 */
static int flow_pseq_init(struct tpath_stream *s, struct tpath_flow *flow)
{
	uint64_t cost;

	if (!s->plugseq)
		return 0;
	pseq_rx_init(&flow->prx, (s->window ? s->window : TPATH_QUEUE_MAX) /
				 PSEQ_COST_MIN);
	cost = sizeof(*flow->ptx) + ((uint64_t)flow->prx.mask + 1) / 8;
	if (!membudget_room(s->resv, cost)) {
		membudget_deny(s->resv);
		return -ENOBUFS;
	}
	flow->ptx = malloc(sizeof(*flow->ptx));
	if (!flow->ptx)
		return -ENOMEM;
	pseq_tx_init(flow->ptx);
	membudget_charge(s->resv, cost);
	flow->pcost = cost;
	return 0;
}

/* What flow_pseq_init() made and reserved goes. */
static void flow_pseq_fini(struct tpath_stream *s, struct tpath_flow *flow)
{
	membudget_uncharge(s->resv, flow->pcost);
	flow->pcost = 0;
	free(flow->ptx);
	flow->ptx = NULL;
	pseq_rx_fini(&flow->prx);
}

/*
 * The window of the peer's flow ids of an unordered plugin stream
 * (tcp-connect), from its first frame on (review-keyed L2), reserved in
 * s->resv until the stream goes (review-lows L4).  0, or -1: out of
 * memory, or no room in s->resv; without the window a replayed opening
 * frame would open its flow again, so the stream ends (internal(), it
 * may be freed: dead).
 */
static int idwin_take(struct tpath_stream *s)
{
	const char *why;

	if (s->ids.bits)
		return 0;
	if (!membudget_room(s->resv, PSEQ_IDWIN_BYTES)) {
		membudget_deny(s->resv);
		why = "no room in the buffer budget for the window of flow ids";
	} else if (pseq_idwin_alloc(&s->ids)) {
		why = "out of memory for the window of flow ids";
	} else {
		membudget_charge(s->resv, PSEQ_IDWIN_BYTES);
		s->idcost = PSEQ_IDWIN_BYTES;
		return 0;
	}
	dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
	if (s->internal)
		s->internal(s->dp.send_arg, why);
	return -1;
}

/*
 * An unordered plugin stream's flow id of the peer came (its flow made,
 * ended or refused): its late frames open no flow again (id_is_new()).
 * The window's bitmap is there: tpath_stream_input() allocated it at the
 * stream's first frame, and flows come from frames only.
 */
static void id_ended(struct tpath_stream *s, uint32_t id)
{
	if (s->unord && s->kind == TPATH_CONNECT)
		(void)pseq_idwin_seen(&s->ids, id);
}

/* ---- hash table ---- */

static struct tpath_flow *flow_lookup(const struct tpath_stream *s,
				      uint32_t id)
{
	return tflow(dp_flow_lookup(&s->dp, id));
}

/* Hash a new flow; with an idle timeout, the timer runs while flows do. */
static void flow_link(struct tpath_stream *s, struct tpath_flow *flow)
{
	dp_flow_link(&s->dp, &flow->dp);
	flow->hashed = true;
}

static void flow_unlink(struct tpath_stream *s, struct tpath_flow *flow)
{
	dp_flow_unlink(&s->dp, &flow->dp);
	flow->hashed = false;
}

/* ---- a flow's queue ---- */

static int q_append(struct tpath_stream *s, struct tpath_flow *flow,
		    const uint8_t *p, size_t n)
{
	while (n) {
		struct tpath_chunk *c = flow->q_tail;
		size_t room;

		if (!c || c->tail == TPATH_CHUNK) {
			c = malloc(sizeof(*c));
			if (!c)
				return -1;
			c->next = NULL;
			c->head = 0;
			c->tail = 0;
			if (flow->q_tail)
				flow->q_tail->next = c;
			else
				flow->q_head = c;
			flow->q_tail = c;
		}
		room = TPATH_CHUNK - c->tail;
		if (room > n)
			room = n;
		memcpy(c->data + c->tail, p, room);
		c->tail += room;
		flow->qlen += room;
		membudget_charge(s->buf, room);
		if (!s->window)		/* no window reserved: the bytes */
			membudget_charge(s->resv, room);
		p += room;
		n -= room;
	}
	return 0;
}

/* n bytes were written: free the chunks they emptied. */
static void q_consume(struct tpath_stream *s, struct tpath_flow *flow,
		      size_t n)
{
	membudget_uncharge(s->buf, n);
	if (!s->window)
		membudget_uncharge(s->resv, n);
	while (n) {
		struct tpath_chunk *c = flow->q_head;
		size_t take = c->tail - c->head;

		if (take > n)
			take = n;
		c->head += take;
		flow->qlen -= take;
		n -= take;
		if (c->head < c->tail)
			break;
		flow->q_head = c->next;
		if (!flow->q_head)
			flow->q_tail = NULL;
		free(c);
	}
}

static void q_free(struct tpath_stream *s, struct tpath_flow *flow)
{
	struct tpath_chunk *c, *next;

	membudget_uncharge(s->buf, flow->qlen);
	if (!s->window)
		membudget_uncharge(s->resv, flow->qlen);
	for (c = flow->q_head; c; c = next) {
		next = c->next;
		free(c);
	}
	flow->q_head = NULL;
	flow->q_tail = NULL;
	flow->qlen = 0;
}

/*
 * Write what the queue holds until the socket is full, adding the bytes
 * written to *written.  0, or -1 on a socket error (the flow is to be
 * reset).
 */
static int q_write(struct tpath_stream *s, struct tpath_flow *flow,
		   size_t *written)
{
	struct iovec iov[TPATH_IOV];

	while (flow->qlen) {
		struct msghdr mh = { .msg_iov = iov };
		struct tpath_chunk *c;
		size_t want = 0;
		ssize_t n;

		for (c = flow->q_head; c && mh.msg_iovlen < TPATH_IOV;
		     c = c->next) {
			iov[mh.msg_iovlen].iov_base = c->data + c->head;
			iov[mh.msg_iovlen].iov_len = c->tail - c->head;
			want += c->tail - c->head;
			mh.msg_iovlen++;
		}
		n = sendmsg(flow->dp.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		q_consume(s, flow, (size_t)n);
		*written += (size_t)n;
		if ((size_t)n < want)
			return 0;	/* the socket is full */
	}
	return 0;
}

/* ---- flow control ---- */

/*
 * written bytes went to the socket: a flow that moved its whole window
 * within twice its credit loop (tpwin.h) is held back by it: double the
 * window (up to s->window) as far as the budget has room.  Flows that
 * move little (a mail client between commands) keep TPATH_WINDOW_INIT.
 */
static uint64_t flow_grow(struct tpath_stream *s, struct tpath_flow *flow,
			  size_t written)
{
	uint64_t more = tpwin_grow(&flow->tw, written, flow->win, s->window,
				   loop_now_ms());

	if (!more)
		return 0;
	/* a quarter of the budget stays for new flows */
	if (more > membudget_avail_spare(s->resv)) {
		more = membudget_avail_spare(s->resv);
		if (!flow->short_win)
			membudget_deny(s->resv);
		flow->short_win = true;
	}
	membudget_charge(s->resv, more);
	flow->win += (uint32_t)more;
	return more;
}

/*
 * Give the peer credit for what was written, a quarter window at a time,
 * and for the window's growth.
 */
static void flow_grant(struct tpath_stream *s, struct tpath_flow *flow,
		       size_t written)
{
	uint64_t n;

	if (!s->window || flow->peer_end || flow->closed)
		return;
	flow->unacked += written;
	flow->unacked += flow_grow(s, flow, written);
	if (!tpwin_grant_due(flow->unacked, flow->win))
		return;
	n = flow->unacked;
	flow->unacked = 0;
	tpwin_grant(&flow->tw, n, loop_now_ms());
	s->grant(s->grant_arg, flow->dp.node.id, (uint32_t)n);
}

/*
 * A new flow's initial window, reserved: false if there is no room (the
 * flow is refused).
 */
static bool flow_reserve(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (!s->window)
		return true;
	if (!membudget_room(s->resv, TPATH_WINDOW_INIT)) {
		membudget_deny(s->resv);
		return false;
	}
	membudget_charge(s->resv, TPATH_WINDOW_INIT);
	flow->win = TPATH_WINDOW_INIT;
	tpwin_init(&flow->tw, TPATH_WINDOW_INIT);	/* the initial credit */
	return true;
}

/*
 * What a new flow reserves: its sequencing state on a plugin stream and
 * its initial window.  0; -ENOMEM; -ENOBUFS: the carrier's buffer budget
 * or the daemon's has no room for them.  A flow refused either way is
 * counted in flow-drop-limit, since nothing else tells the client's reset
 * from a failure of the service; a budget's refusal is also logged (at
 * most once a second per budget), an allocation failure is not.
 */
static int flow_admit(struct tpath_stream *s, struct tpath_flow *flow)
{
	struct membudget *b;
	uint64_t now;
	int err;

	err = flow_pseq_init(s, flow);
	if (!err && !flow_reserve(s, flow))
		err = -ENOBUFS;
	if (!err)
		return 0;
	flow_pseq_fini(s, flow);
	dp_count(&s->dp, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
	if (err != -ENOBUFS)
		return err;
	b = membudget_tightest(s->resv);
	now = loop_now_ms();
	if (!b->logged || now - b->logged >= TPATH_LDAP_LOG_MS) {
		b->logged = now;
		log_warn("stream %u: %s refused: no room in the buffer budget for its window (reserved %" PRIu64 " of %" PRIu64 " bytes, %s)",
			 s->dp.id, flow->ldap.from_service ?
			 "a flow the peer opened" : "a new connection",
			 b->used, b->max, b->parent ? "--carrier-buffer-max" :
			 "--buffer-max");
	}
	return err;
}

/* The flow takes no more bytes: its queue and its window go. */
static void flow_unreserve(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (flow->stage) {
		membudget_uncharge(s->buf, TPATH_STAGE);
		membudget_uncharge(s->resv, TPATH_STAGE);
		free(flow->stage);
		flow->stage = NULL;
		flow->stage_len = 0;
	}
	q_free(s, flow);
	membudget_uncharge(s->resv, flow->win);
	flow->win = 0;
}

/* ---- events of a flow's socket ---- */

static void flow_cb(struct loop *l, int fd, uint32_t events, void *arg);

/* What the flow's socket is to be watched for now. */
static uint32_t flow_want(const struct tpath_flow *flow)
{
	uint32_t ev = 0;

	if (flow->connecting)
		return EPOLLOUT;
	if (!flow->eof && !flow->paused && !flow->starved)
		ev |= EPOLLIN;
	if (flow->qlen)
		ev |= EPOLLOUT;
	return ev;
}

/* Watch the socket for what the flow needs.  0, or -1 (out of memory). */
static int flow_watch(struct tpath_stream *s, struct tpath_flow *flow)
{
	uint32_t ev = flow_want(flow);

	if (flow->closed)
		return 0;
	if (!flow->in_loop) {
		if (flow->paused)
			return 0;
		if (loop_add(s->dp.loop, flow->dp.fd, ev, flow_cb, flow))
			return -1;
		flow->in_loop = true;
		flow->events = ev;
		return 0;
	}
	if (ev != flow->events && !loop_mod(s->dp.loop, flow->dp.fd, ev))
		flow->events = ev;
	return 0;
}

/*
 * The flow is not to be read for now (paused or starved): EPOLLIN off; a
 * socket that reports EPOLLHUP (both directions shut down, data still to
 * read) would report it whatever it is watched for: it leaves the loop.
 */
static void flow_unwatch_in(struct tpath_stream *s, struct tpath_flow *flow,
			    bool hup)
{
	if (hup && flow->in_loop) {
		loop_del(s->dp.loop, flow->dp.fd);
		flow->in_loop = false;
		return;
	}
	flow_watch(s, flow);
}

/*
 * Stop reading the flow's socket until the pending frames are sent.  A
 * socket that reports EPOLLHUP (both directions shut down, data still to
 * read) would report it whatever it is watched for: it leaves the loop.
 */
static void flow_pause(struct tpath_stream *s, struct tpath_flow *flow,
		       bool hup)
{
	if (!flow->paused) {
		flow->paused = true;
		flow->paused_next = s->paused;
		if (s->paused)
			s->paused->paused_pprev = &flow->paused_next;
		flow->paused_pprev = &s->paused;
		s->paused = flow;
	}
	flow_unwatch_in(s, flow, hup);
}

/*
 * No credit: stop reading the flow's socket until the peer grants more
 * (a socket reporting EPOLLHUP leaves the loop, as in flow_pause()).
 */
static void flow_starve(struct tpath_stream *s, struct tpath_flow *flow,
			bool hup)
{
	flow->starved = true;
	flow_unwatch_in(s, flow, hup);
}

static void flow_unpause_list(struct tpath_flow *flow)
{
	*flow->paused_pprev = flow->paused_next;
	if (flow->paused_next)
		flow->paused_next->paused_pprev = flow->paused_pprev;
	flow->paused = false;
}

/* ---- ending flows ---- */

/* SO_LINGER 0: close() sends a RST, not a FIN. */
static void sock_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/*
 * Free a flow that is off every list but the hash table.  A socket still
 * open (the stream ends under it) is reset.
 */
static void flow_free(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (flow->paused)
		flow_unpause_list(flow);
	if (flow->dp.fd >= 0) {
		sock_rst(flow->dp.fd);
		if (flow->in_loop)
			loop_del(s->dp.loop, flow->dp.fd);
		close(flow->dp.fd);
	}
	flow_unreserve(s, flow);
	if (flow->refused)
		s->refusing--;
	if (flow->unopened)
		s->unopened--;
	free(flow->pend);
	flow_pseq_fini(s, flow);
	free(flow);
}

/* Close the socket for good, with a reset (RST) if rst. */
static void flow_close(struct tpath_stream *s, struct tpath_flow *flow,
		       bool rst)
{
	if (flow->paused)
		flow_unpause_list(flow);
	if (flow->dp.fd >= 0) {
		if (rst)
			sock_rst(flow->dp.fd);
		if (flow->in_loop)
			loop_del(s->dp.loop, flow->dp.fd);
		close(flow->dp.fd);
	}
	flow->dp.fd = -1;
	flow->in_loop = false;
	flow->connecting = false;
	flow->eof = true;
	flow->closed = true;
	flow_unreserve(s, flow);
}

static void pend_add(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (flow->on_pend)
		return;
	flow->on_pend = true;
	flow->pend_next = NULL;
	if (s->pend_tail)
		s->pend_tail->pend_next = flow;
	else
		s->pend_head = flow;
	s->pend_tail = flow;
}

/* The flow's FLOW_END, with R if it was reset.  0 if it went out. */
static int end_send(struct tpath_stream *s, const struct tpath_flow *flow)
{
	return flow->rst_out ? dp_send_reset(&s->dp, flow->dp.node.id) :
			       dp_send_end(&s->dp, flow->dp.node.id);
}

/* Send FLOW_END for the flow, now or after the frames pending. */
static void flow_end_queue(struct tpath_stream *s, struct tpath_flow *flow)
{
	flow->end_queued = true;
	if (!s->pend_head && !end_send(s, flow))
		return;
	if (s->dp.dead)
		return;
	flow->end_pend = true;
	pend_add(s, flow);
}

/*
 * Close the flow once both directions are done, and free it once it is
 * closed and has nothing pending.  True if it was freed.
 */
static bool flow_settle(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (!flow->closed && flow->eof && flow->end_queued && flow->wr_shut)
		flow_close(s, flow, false);
	if (!flow->closed || flow->on_pend)
		return false;
	if (flow->hashed) {
		id_ended(s, flow->dp.node.id);
		flow_unlink(s, flow);
	}
	flow_free(s, flow);
	return true;
}

/*
 * Reset the flow at once: close its socket (with a reset if rst: the
 * socket itself failed otherwise), drop its queue, send FLOW_END with R,
 * also after a FLOW_END already sent (a FLOW_END still waiting becomes
 * the reset).  True if the flow was freed.
 */
static bool flow_reset(struct tpath_stream *s, struct tpath_flow *flow,
		       bool rst)
{
	bool tell = !flow->end_queued || !flow->end_pend;

	flow_close(s, flow, rst);
	flow->rst_out = true;
	if (tell)
		flow_end_queue(s, flow);
	return flow_settle(s, flow);
}

/* Idle expiry: close the socket in order, FLOW_END if not sent. */
static void flow_expire(struct tpath_stream *s, struct tpath_flow *flow)
{
	flow_close(s, flow, false);
	if (!flow->end_queued)
		flow_end_queue(s, flow);
	flow_settle(s, flow);
}

/* ---- frames to the carrier ---- */

/*
 * Send a DATA frame of the flow (header encoded, len bytes in all), now
 * or after the frames pending: a frame the carrier refuses is copied into
 * the flow.  0 if it went out; -1 if it waits (or the stream is dead, or
 * out of memory: then the flow was reset and *freed says if it is gone).
 */
static int flow_data_send(struct tpath_stream *s, struct tpath_flow *flow,
			  const uint8_t *frame, size_t len, bool *freed)
{
	*freed = false;
	if (!s->pend_head && !dp_send(&s->dp, frame, len)) {
		dp_flow_tx(&s->dp, &flow->dp, len);
		return 0;
	}
	if (s->dp.dead)
		return -1;
	flow->pend = malloc(len);
	if (!flow->pend) {
		dp_count(&s->dp, FUNNEL_A_STATS_TX_DROP_QUEUE);
		*freed = flow_reset(s, flow, true);
		return -1;
	}
	memcpy(flow->pend, frame, len);
	flow->pend_len = len;
	pend_add(s, flow);
	return -1;
}

static void listen_watch(struct tpath_stream *s);

/*
 * Room on the carrier again: let the listening socket and the paused
 * flows be read.
 */
static void stream_unblock(struct tpath_stream *s)
{
	struct tpath_flow *flow;

	if (s->dp.dead)
		return;
	if (s->listen_paused) {
		s->listen_paused = false;
		listen_watch(s);
	}
	while ((flow = s->paused)) {
		flow_unpause_list(flow);
		if (flow_watch(s, flow))
			flow_reset(s, flow, true);
		if (s->dp.dead)
			return;
	}
}

/*
 * Send what waits, in order, while the carrier takes it.  A carrier that
 * makes room while queueing a frame may resume its streams from inside
 * send(), this one too: that nested call has nothing to do, the loop
 * here goes on (and would otherwise send the frame at its head twice).
 */
static void pend_flush(struct tpath_stream *s)
{
	struct tpath_flow *flow;

	if (s->flushing)
		return;
	s->flushing = true;
	while ((flow = s->pend_head)) {
		if (flow->pend) {
			if (dp_send(&s->dp, flow->pend, flow->pend_len))
				goto out;
			dp_flow_tx(&s->dp, &flow->dp, flow->pend_len);
			free(flow->pend);
			flow->pend = NULL;
		}
		if (flow->end_pend) {
			if (end_send(s, flow))
				goto out;
			flow->end_pend = false;
		}
		s->pend_head = flow->pend_next;
		if (!s->pend_head)
			s->pend_tail = NULL;
		flow->on_pend = false;
		flow_settle(s, flow);
	}
	stream_unblock(s);
out:
	s->flushing = false;
}

/* ---- reading and writing a flow's socket ---- */

/* What one read of a flow's socket leaves to do. */
enum read_res {
	READ_MORE,	/* read again (within the budget) */
	READ_DONE,	/* nothing more now */
	READ_FREED,	/* the flow was freed */
};

/*
 * An unordered plugin stream: the direction's last frame, a barrier
 * without message bytes, goes before FLOW_END (which may overtake the
 * frames before it: the receiver ends the direction once this frame is
 * written, plugins.md 5.4).  True if the flow was freed.
 */
static bool flow_end_mark(struct tpath_stream *s, struct tpath_flow *flow)
{
	uint8_t fr[FUNNEL_HDR_LEN + PSEQ_HDR_LEN];
	struct pseq_hdr h;
	bool freed;

	if (!s->unord || !flow->ptx)
		return false;
	dp_hdr(&s->dp, fr, FUNNEL_T_DATA, flow->dp.node.id);
	pseq_tx_plain(flow->ptx, &h);
	pseq_hdr_put(fr + FUNNEL_HDR_LEN, &h);
	flow_data_send(s, flow, fr, sizeof(fr), &freed);
	return freed;
}

/* EOF: FLOW_END once the flow has sent what it read. */
static enum read_res flow_read_eof(struct tpath_stream *s,
				   struct tpath_flow *flow)
{
	if (flow_end_mark(s, flow))
		return READ_FREED;
	if (s->dp.dead)
		return READ_DONE;
	flow->eof = true;
	flow_watch(s, flow);
	flow_end_queue(s, flow);
	return flow_settle(s, flow) ? READ_FREED : READ_DONE;
}

/* ---- the LDAP plugin ---- */

/*
 * A message the framer refused, or the end of the connection inside one:
 * log (at most once a second per stream), count, reset the flow.
 */
static enum read_res flow_ldap_refuse(struct tpath_stream *s,
				      struct tpath_flow *flow,
				      const char *why)
{
	uint64_t now = loop_now_ms();

	if (!s->ldap_logged || now - s->ldap_logged >= TPATH_LDAP_LOG_MS) {
		s->ldap_logged = now;
		log_warn("stream %u flow %u: LDAP from the %s refused: %s: flow reset",
			 s->dp.id, flow->dp.node.id,
			 flow->ldap.from_service ? "service" : "client", why);
	}
	dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_MALFORMED);
	return flow_reset(s, flow, true) ? READ_FREED : READ_DONE;
}

/* Wake up for at least bytes bytes (SO_RCVLOWAT); 1: the default. */
static void flow_lowat(struct tpath_flow *flow, size_t bytes)
{
	int v = bytes > FUNNEL_MAX_SEALED_PAYLOAD ? FUNNEL_MAX_SEALED_PAYLOAD :
		bytes ? (int)bytes : 1;

	if (v == (flow->lowat ? flow->lowat : 1))
		return;
	if (!setsockopt(flow->dp.fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)))
		flow->lowat = v;
}

/*
 * Take n bytes that were peeked and sent from the socket: read again into
 * the read buffer, whose frames went out already.  0 or -1.
 */
static int flow_take(struct tpath_flow *flow, size_t n)
{
	ssize_t r;

	if (!n)
		return 0;
	do {
		r = recv(flow->dp.fd, tpath_buf.p + FUNNEL_HDR_LEN, n,
			 MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)n)
		return -1;
	flow->peeked = 0;
	flow_lowat(flow, 1);
	return 0;
}

/*
 * The message that starts the flow's bytes goes in pieces of its own:
 * read as they come, so the low-water mark a partial peek set goes back
 * to 1 (else the rest of the message, fewer bytes than the mark, would
 * never wake the flow).
 */
static enum read_res flow_ldap_pieces(struct tpath_flow *flow,
				      const struct ldapber_msg *m, bool whole)
{
	uint32_t key;

	/* a plugin stream: the first piece's sub-header */
	flow->porder = (uint8_t)ldap_msg_order(m, whole, &key);
	flow->pkey = key;
	flow->pfirst = true;
	flow->big_left = m->len;
	flow->ldap.may_leave = false;
	flow->peeked = 0;
	flow_lowat(flow, 1);
	return READ_MORE;
}

/*
 * A message of up to TPATH_LDAP_WHOLE bytes that the socket cannot wait
 * for whole: the kernel reports it readable without a byte more (TCP
 * wakes a reader below SO_RCVLOWAT when the receive window it offered is
 * nearly used up, or the buffer is under pressure: the bytes must be
 * read for more to come), or its peer ended the connection.  Its n bytes
 * go into the flow's stage, where the rest joins them (flow_read_staged()).
 * The stage is reserved in s->resv as a window is (and counted in s->buf
 * while it exists), keeping a quarter of the budget for new flows: so
 * the stages of slow clients never take memory past the carrier's budget.
 * Without room for it, a message whose header is known goes in pieces
 * (the first: what is there; still only its own bytes in each frame);
 * one whose header is not (a few bytes) has its flow reset
 * (tx-drop-queue).
 */
static enum read_res flow_stage_start(struct tpath_stream *s,
				      struct tpath_flow *flow, size_t n,
				      const struct ldapber_msg *m)
{
	ssize_t r;

	if (membudget_avail_spare(s->resv) < TPATH_STAGE) {
		membudget_deny(s->resv);
		if (m->hdr)
			return flow_ldap_pieces(flow, m, false);
		dp_count(&s->dp, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return flow_reset(s, flow, true) ? READ_FREED : READ_DONE;
	}
	flow->stage = malloc(TPATH_STAGE + PSEQ_HDR_LEN);
	if (!flow->stage) {
		dp_count(&s->dp, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return flow_reset(s, flow, true) ? READ_FREED : READ_DONE;
	}
	membudget_charge(s->resv, TPATH_STAGE);
	membudget_charge(s->buf, TPATH_STAGE);
	do {
		r = recv(flow->dp.fd, flow->stage + FUNNEL_HDR_LEN + tp_sub(s),
			 n, MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)n)
		return flow_reset(s, flow, false) ? READ_FREED : READ_DONE;
	flow->stage_len = n;
	flow->peeked = 0;
	flow_lowat(flow, 1);
	return READ_MORE;
}

/*
 * The message at the start of what the socket holds is incomplete (n
 * bytes there, m says what is known of it).
 */
static enum read_res flow_ldap_partial(struct tpath_stream *s,
				       struct tpath_flow *flow, size_t n,
				       const struct ldapber_msg *m)
{
	/* longer than a frame: in pieces, from now on, once its header
	 * (messageID, protocolOp: the direction) is read and checked
	 */
	if (m->hdr && m->len > tp_room(s))
		return flow_ldap_pieces(flow, m, false);
	if (n == flow->peeked) {
		/* woken without a byte more */
		if (m->hdr && m->len > TPATH_LDAP_WHOLE)
			return flow_ldap_pieces(flow, m, false);
		return flow_stage_start(s, flow, n, m);
	}
	flow->peeked = n;
	flow_lowat(flow, m->need);
	return READ_DONE;
}

/*
 * The flow's stage holds the start of a message: read the rest of it (no
 * more) and send it whole.  The bytes that complete it are read only once
 * the credit covers it, so that a complete message never waits in the
 * stage: one that waits for credit or for room on the carrier has a byte
 * in the socket still, which wakes the flow when it may go on.
 */
static enum read_res flow_read_staged(struct tpath_stream *s,
				      struct tpath_flow *flow, bool hup)
{
	char why[LDAPBER_WHY_MAX];
	struct ldapber_msg m;
	enum ldapber_status st;
	size_t len, want;
	uint8_t *frame;
	bool freed;
	ssize_t n;
	int r;

	uint8_t *data = flow->stage + FUNNEL_HDR_LEN + tp_sub(s);

	for (;;) {
		st = ldap_dir_next(&flow->ldap, data, flow->stage_len,
				   LDAPBER_MAX_DEFAULT, &m, why, sizeof(why));
		if (st == LDAPBER_ERR)
			return flow_ldap_refuse(s, flow, why);
		if (st == LDAPBER_MSG)
			break;
		if (m.hdr && m.len > TPATH_LDAP_WHOLE) {
			/* a long one after all: the stage is its first piece */
			if (s->window &&
			    flow->credit < tp_cost(s, flow->stage_len)) {
				flow_starve(s, flow, hup);
				return READ_DONE;
			}
			flow->big_left = m.len - flow->stage_len;
			flow->ldap.may_leave = false;
			break;
		}
		if (m.len && m.len <= TPATH_LDAP_WHOLE && s->window &&
		    flow->credit < tp_cost(s, m.len)) {
			flow_starve(s, flow, hup);
			return READ_DONE;
		}
		/* a long one's header first (m.need: its bytes, a few) */
		want = (m.len && m.len <= TPATH_LDAP_WHOLE ? m.len : m.need) -
		       flow->stage_len;
		n = recv(flow->dp.fd, data + flow->stage_len, want,
			 MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return READ_DONE;
			return flow_reset(s, flow, false) ? READ_FREED :
							    READ_DONE;
		}
		if (!n) {
			if (m.len)
				snprintf(why, sizeof(why),
					 "the connection ended inside a message (%zu of %zu bytes)",
					 flow->stage_len, m.len);
			else
				snprintf(why, sizeof(why),
					 "the connection ended inside a message (%zu bytes, its length unfinished)",
					 flow->stage_len);
			return flow_ldap_refuse(s, flow, why);
		}
		flow->stage_len += (size_t)n;
		flow->dp.last_used = loop_now_ms();
	}

	/* send the stage: the message, or the first piece of a long one
	 * (a frame the carrier refuses is copied into the flow)
	 */
	len = flow->stage_len;
	if (s->window)
		flow->credit -= tp_cost(s, len);
	if (s->plugseq) {
		struct pseq_hdr h;
		uint32_t key;
		unsigned int order;

		/* the whole message, or the first piece of a long one */
		order = ldap_msg_order(&m, !flow->big_left, &key);
		pseq_tx_msg(flow->ptx, key, order, flow->big_left, &h);
		pseq_hdr_put(flow->stage + FUNNEL_HDR_LEN, &h);
		flow->pfirst = false;
	}
	frame = flow->stage;
	flow->stage = NULL;
	flow->stage_len = 0;
	membudget_uncharge(s->buf, TPATH_STAGE);
	membudget_uncharge(s->resv, TPATH_STAGE);
	dp_hdr(&s->dp, frame, FUNNEL_T_DATA, flow->dp.node.id);
	r = flow_data_send(s, flow, frame, FUNNEL_HDR_LEN + tp_sub(s) + len,
			   &freed);
	free(frame);
	if (r) {
		if (!freed && !s->dp.dead && !flow->closed)
			flow_pause(s, flow, hup);
		return freed ? READ_FREED : READ_DONE;
	}
	return s->dp.dead ? READ_DONE : READ_MORE;
}

/*
 * Peek at the socket and send the whole messages there in DATA frames: a
 * frame holds a message and the messages of its operation that follow it
 * there, as far as ldap_pack() lets them share it (plugins.md 5.3), or
 * the message alone; the frame's header goes right before its first
 * message, over the end of the frame sent before it (the carrier copied
 * that).  Then take from the socket what was sent.
 */
static enum read_res flow_read_ldap(struct tpath_stream *s,
				    struct tpath_flow *flow, bool hup,
				    unsigned int *frames)
{
	uint8_t *buf = tpath_buf.p;
	size_t sub = tp_sub(s);
	uint8_t *data = buf + FUNNEL_HDR_LEN + sub;
	char why[LDAPBER_WHY_MAX];
	struct ldapber_msg m;
	struct ldap_pack pk;
	size_t off = 0;
	enum read_res res = READ_MORE;
	ssize_t n;

	n = recv(flow->dp.fd, data, tp_room(s), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR)
			return READ_MORE;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return READ_DONE;
		return flow_reset(s, flow, false) ? READ_FREED : READ_DONE;
	}
	if (!n)
		return flow_read_eof(s, flow);
	while (off < (size_t)n) {
		enum ldapber_status st;
		bool freed;

		st = ldap_dir_next(&flow->ldap, data + off, (size_t)n - off,
				   LDAPBER_MAX_DEFAULT, &m, why, sizeof(why));
		if (st == LDAPBER_OPAQUE)
			break;		/* the rest: plain bytes */
		if (st == LDAPBER_ERR) {
			if (flow_take(flow, off))
				return flow_reset(s, flow, false) ?
				       READ_FREED : READ_DONE;
			return flow_ldap_refuse(s, flow, why);
		}
		if (st == LDAPBER_NEED_MORE) {
			if (!off)
				return flow_ldap_partial(s, flow, (size_t)n,
							 &m);
			break;		/* take what was sent first */
		}
		if (s->window && flow->credit < tp_cost(s, m.len)) {
			if (m.len <= TPATH_LDAP_WHOLE) {
				res = READ_DONE;
				if (!off)
					flow_starve(s, flow, hup);
			} else if (!off) {
				/* read whole: where it may leave is known */
				bool leave = flow->ldap.may_leave;

				flow_ldap_pieces(flow, &m, true);
				flow->ldap.may_leave = leave;
			}
			break;
		}
		/* and the messages of its operation after it, if there */
		ldap_pack(&flow->ldap, data + off, (size_t)n - off, &m,
			  tp_room(s), s->window ? flow->credit : UINT64_MAX,
			  s->plugseq ? PSEQ_COST_MIN : 0, &pk);
		dp_hdr(&s->dp, buf + off, FUNNEL_T_DATA, flow->dp.node.id);
		if (s->plugseq) {
			struct pseq_hdr h;

			pseq_tx_msg(flow->ptx, pk.key, pk.order, false, &h);
			pseq_hdr_put(buf + off + FUNNEL_HDR_LEN, &h);
		}
		if (s->window)
			flow->credit -= tp_cost(s, pk.len);
		off += pk.len;
		flow->dp.last_used = loop_now_ms();
		if (flow_data_send(s, flow, buf + off - pk.len,
				   FUNNEL_HDR_LEN + sub + pk.len, &freed)) {
			if (freed || s->dp.dead || flow->closed)
				return freed ? READ_FREED : READ_DONE;
			res = READ_DONE;
			flow_pause(s, flow, hup);
			break;
		}
		if (s->dp.dead)
			return READ_DONE;
		if (++*frames >= TPATH_LDAP_FRAMES) {
			res = READ_DONE;	/* the rest at the next wakeup */
			break;
		}
	}
	if (flow_take(flow, off))
		return flow_reset(s, flow, false) ? READ_FREED : READ_DONE;
	return res;
}

/*
 * One read of the socket into a DATA frame, at most FUNNEL_MAX_SEALED_PAYLOAD
 * bytes, the credit, and what is left of a message sent in pieces.
 */
static enum read_res flow_read_bytes(struct tpath_stream *s,
				     struct tpath_flow *flow, bool hup)
{
	uint8_t *buf = tpath_buf.p;
	size_t want = tp_room(s), sub = tp_sub(s);
	bool freed, piece = flow->big_left;
	ssize_t n;

	if (flow->lowat > 1)	/* plain bytes: every byte wakes */
		flow_lowat(flow, 1);
	if (s->window && want > flow->credit)
		want = (size_t)flow->credit;
	if (flow->big_left && want > flow->big_left)
		want = flow->big_left;
	n = recv(flow->dp.fd, buf + FUNNEL_HDR_LEN + sub, want, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR)
			return READ_MORE;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return READ_DONE;
		return flow_reset(s, flow, false) ? READ_FREED : READ_DONE;
	}
	if (!n) {
		if (flow->big_left)	/* the end inside a message */
			return flow_ldap_refuse(s, flow,
						"the connection ended inside a message sent in pieces");
		return flow_read_eof(s, flow);
	}
	flow->dp.last_used = loop_now_ms();
	if (s->window)
		flow->credit -= tp_cost(s, (size_t)n);
	if (flow->big_left)
		flow->big_left -= (size_t)n;
	dp_hdr(&s->dp, buf, FUNNEL_T_DATA, flow->dp.node.id);
	if (s->plugseq) {
		struct pseq_hdr h;

		if (piece && flow->pfirst)
			pseq_tx_msg(flow->ptx, flow->pkey, flow->porder,
				    flow->big_left, &h);
		else if (piece)
			pseq_tx_piece(flow->ptx, flow->big_left, &h);
		else
			pseq_tx_plain(flow->ptx, &h);	/* opaque bytes */
		flow->pfirst = false;
		pseq_hdr_put(buf + FUNNEL_HDR_LEN, &h);
	}
	if (flow_data_send(s, flow, buf, FUNNEL_HDR_LEN + sub + (size_t)n,
			   &freed)) {
		if (!freed && !s->dp.dead && !flow->closed)
			flow_pause(s, flow, hup);
		return freed ? READ_FREED : READ_DONE;
	}
	if (s->dp.dead)
		return READ_DONE;
	if ((size_t)n < want)
		return READ_DONE;	/* drained, most likely */
	return READ_MORE;
}

/*
 * Read the socket into DATA frames.  At EOF, FLOW_END.  True if the flow
 * was freed.
 */
static bool flow_read(struct tpath_stream *s, struct tpath_flow *flow,
		      bool hup)
{
	unsigned int frames = 0;

	for (int i = 0; i < TPATH_BUDGET; i++) {
		enum read_res r;

		/* so a flow has one DATA frame waiting at most */
		if (s->pend_head) {
			flow_pause(s, flow, hup);
			return false;
		}
		/* a plugin stream's frame costs PSEQ_COST_MIN at least */
		if (s->window && flow->credit < tp_cost(s, 1)) {
			flow_starve(s, flow, hup);
			return false;
		}
		if (flow->stage)
			r = flow_read_staged(s, flow, hup);
		else if (s->ldap && !flow->ldap.opaque && !flow->big_left)
			r = flow_read_ldap(s, flow, hup, &frames);
		else
			r = flow_read_bytes(s, flow, hup);
		if (r != READ_MORE)
			return r == READ_FREED;
	}
	return false;
}

/*
 * Write the queue; once it is empty after the peer's FLOW_END, shut the
 * socket down for writing.  True if the flow was freed.
 */
static bool flow_flush(struct tpath_stream *s, struct tpath_flow *flow)
{
	size_t written = 0;

	if (q_write(s, flow, &written))
		return flow_reset(s, flow, false);
	flow_grant(s, flow, written);
	if (!flow->qlen && flow->peer_end && !flow->wr_shut) {
		shutdown(flow->dp.fd, SHUT_WR);
		flow->wr_shut = true;
	}
	flow_watch(s, flow);
	return flow_settle(s, flow);
}

/*
 * tcp-connect with cfg->proxy: the PROXY v2 header, the first bytes of
 * the connection just made, before anything queued.  A fresh socket's
 * send buffer takes its few bytes at once.  0, or -1: reset the flow.
 */
static int flow_proxy_hdr(const struct tpath_stream *s,
			  const struct tpath_flow *flow)
{
	uint8_t hdr[PROXY_V2_HDR_MAX];
	size_t len;
	ssize_t n;

	if (!s->proxy)
		return 0;
	len = proxy_v2_header(flow->origin.family ? &flow->origin : NULL,
			      hdr);
	do {
		n = send(flow->dp.fd, hdr, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* tcp-connect: the connection to the target is made, or failed. */
static void flow_connected(struct tpath_stream *s, struct tpath_flow *flow)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(flow->dp.fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		flow_reset(s, flow, false);
		return;
	}
	flow->connecting = false;
	dp_sa_local(flow->dp.fd, &flow->local);
	if (flow_proxy_hdr(s, flow)) {
		flow_reset(s, flow, true);
		return;
	}
	flow_flush(s, flow);
}

static void flow_event(struct tpath_stream *s, struct tpath_flow *flow,
		       uint32_t events)
{
	bool hup = events & EPOLLHUP;

	if (flow->connecting) {
		flow_connected(s, flow);
		return;
	}
	if (events & EPOLLERR) {
		flow_reset(s, flow, false);
		return;
	}
	if ((events & EPOLLOUT) && flow->qlen && flow_flush(s, flow))
		return;
	if (s->dp.dead || flow->closed)
		return;
	if (events & (EPOLLIN | EPOLLHUP)) {
		/* a hang-up while not reading: written to a reset socket */
		if (flow->eof) {
			if (hup)
				flow_reset(s, flow, false);
			return;
		}
		flow_read(s, flow, hup);
	}
}

static void flow_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct tpath_flow *flow = arg;
	struct tpath_stream *s = tstream(flow->dp.s);

	(void)l;
	(void)fd;
	dp_hold(&s->dp);	/* and so its flows, this one too */
	flow_event(s, flow, events);
	dp_release(&s->dp);
}

/* ---- idle expiry ---- */

/* A closed flow only waits to send what is pending: it does not expire. */
static bool expire_take(struct dp_stream *s, struct dp_flow *flow)
{
	(void)s;
	return !tflow(flow)->closed;
}

/* Ending a flow frees that flow only: the others taken stay. */
static void expire(struct dp_stream *s, struct dp_flow *flow)
{
	if (!s->dead)
		flow_expire(tstream(s), tflow(flow));
}

/* ---- plugin streams: frames that wait too long ---- */

static void flow_pseq_refuse(struct tpath_stream *s, struct tpath_flow *flow,
			     const char *why);
static void flow_pseq_waits(struct tpath_stream *s, struct tpath_flow *flow,
			    bool progress);

/* Frames wait, a Sequence is missing below one delivered, or (unordered)
 * the end-mark after the FLOW_END that waits for it: timed (wait_cb()).
 */
static bool flow_stalled(const struct tpath_stream *s,
			 const struct tpath_flow *flow)
{
	return flow->prx.nheld || flow->unopened ||
	       flow->prx.top != flow->prx.d ||
	       (s->unord && flow->end_wait && !flow->end_mark);
}

/*
 * Reset the flows of a plugin stream whose frames waited TPATH_WAIT_MS
 * with none written (plugins.md 5.4); again at the next one's time.
 */
static void wait_cb(struct loop *l, void *arg)
{
	struct tpath_stream *s = arg;
	struct dp_flow *late = NULL, *f, *next;
	struct flowtab_node *n, *tmp;
	uint64_t now = loop_now_ms(), first = 0;

	(void)l;
	dp_hold(&s->dp);
	flowtab_for_each(&s->dp.flows, n, tmp) {
		struct tpath_flow *flow = tflow(dp_flow_of(n));

		uint64_t at;

		if (!flow->wait_at || flow->closed)
			continue;
		if (!flow_stalled(s, flow)) {
			flow->wait_at = 0;	/* nothing waits */
			flow->gap_at = 0;
			continue;
		}
		at = flow->gap_at && flow->gap_at < flow->wait_at ?
		     flow->gap_at : flow->wait_at;
		if (now - at >= TPATH_WAIT_MS) {
			flow->dp.gc_next = late;
			late = &flow->dp;
		} else if (!first || at < first) {
			first = at;
		}
	}
	if (first)
		loop_timer_arm(s->dp.loop, &s->wait_t,
			       first + TPATH_WAIT_MS - now);
	for (f = late; f && !s->dp.dead; f = next) {
		struct tpath_flow *flow = tflow(f);
		char why[PSEQ_WHY_MAX];

		next = f->gc_next;
		snprintf(why, sizeof(why),
			 "%s waited %u s (%u frames)",
			 flow->unopened ? "the flow's opening frame" :
			 "a frame's dependency",
			 TPATH_WAIT_MS / 1000, flow->prx.nheld);
		flow_pseq_refuse(s, flow, why);
	}
	dp_release(&s->dp);
}

/* ---- tcp-listen ---- */

static void listen_watch(struct tpath_stream *s)
{
	uint32_t ev = s->accept_paused || s->listen_paused ? 0 : EPOLLIN;

	if (s->dp.fd >= 0 && ev != s->lev &&
	    !loop_mod(s->dp.loop, s->dp.fd, ev))
		s->lev = ev;
}

static void accept_resume(struct loop *l, void *arg)
{
	struct tpath_stream *s = arg;

	(void)l;
	s->accept_paused = false;
	listen_watch(s);
}

/*
 * A flow for an accepted connection, within flow-max.  Its id is the
 * next free one (flowtab_alloc_id()); flows.count < flow_max <= 2^32 - 1
 * leaves one free.  NULL: refused (counted in flow-drop-limit).
 */
static struct tpath_flow *listen_flow_new(struct tpath_stream *s, int fd,
					  const union dp_sa *peer)
{
	struct tpath_flow *flow = calloc(1, sizeof(*flow));

	if (!flow) {
		dp_count(&s->dp, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
		return NULL;
	}
	dp_flow_init(&s->dp, &flow->dp, loop_now_ms());
	flow->dp.fd = fd;
	flow->credit = TPATH_WINDOW_INIT;
	flow->ldap.from_service = false;	/* the client's requests */
	flow->remote = *peer;
	dp_sa_local(fd, &flow->local);
	if (flow_admit(s, flow)) {
		free(flow);
		return NULL;
	}
	if (flow_watch(s, flow)) {
		dp_count(&s->dp, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
		flow_unreserve(s, flow);
		flow_pseq_fini(s, flow);
		free(flow);
		return NULL;
	}
	flow->dp.node.id = flowtab_alloc_id(&s->dp.flows);
	flow_link(s, flow);
	dp_count(&s->dp, FUNNEL_A_STATS_FLOWS_CREATED);
	return flow;
}

/* Accept one connection; false when there is no more to accept now. */
static bool listen_accept(struct tpath_stream *s)
{
	uint8_t hdr[FUNNEL_HDR_LEN + PSEQ_HDR_LEN + ORIGIN_LEN_MAX];
	size_t hlen = FUNNEL_HDR_LEN;
	union dp_sa peer;
	socklen_t len = sizeof(peer);
	struct tpath_flow *flow;
	bool freed;
	int fd;

	fd = accept4(s->dp.fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			return true;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* level-triggered: do not spin until one is free */
			s->accept_paused = true;
			listen_watch(s);
			loop_timer_arm(s->dp.loop, &s->accept_t,
				       TPATH_ACCEPT_PAUSE_MS);
		}
		return false;
	}
	if (!dp_flow_room(&s->dp)) {
		close(fd);
		return true;
	}
	if (!dp_sa_valid(&peer, len)) {
		close(fd);
		return true;
	}
	flow = listen_flow_new(s, fd, &peer);
	if (!flow) {
		/* the client sees a refusal, not a connection that ends */
		sock_rst(fd);
		close(fd);
		return true;
	}
	sock_nodelay(fd);
	/* the opening DATA frame, empty or with the origin: the server
	 * side connects now
	 */
	dp_hdr(&s->dp, hdr, FUNNEL_T_DATA, flow->dp.node.id);
	if (s->plugseq) {
		struct pseq_hdr h;

		pseq_tx_open(&h);		/* Sequence 0 */
		pseq_hdr_put(hdr + hlen, &h);
		hlen += PSEQ_HDR_LEN;
	}
	if (s->origin) {
		int n = origin_encode(&flow->remote.sa, &flow->local.sa,
				      hdr + hlen);

		if (n > 0)
			hlen += (size_t)n;
	}
	flow_data_send(s, flow, hdr, hlen, &freed);
	return !s->dp.dead;
}

static void listen_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct tpath_stream *s = arg;

	(void)l;
	(void)fd;
	(void)events;
	dp_hold(&s->dp);
	for (int i = 0; i < TPATH_ACCEPT_BATCH; i++) {
		if (s->pend_head) {
			s->listen_paused = true;
			listen_watch(s);
			break;
		}
		if (!listen_accept(s))
			break;
	}
	dp_release(&s->dp);
}

/* The listening socket's options: 0, or -1 and errno. */
static int listen_opts(int fd, int family)
{
	int one = 1, zero = 0;

	/* dual stack whatever net.ipv6.bindv6only says */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero))))
		return -1;
	return 0;
}

/* ---- tcp-connect ---- */

/* The flow's connection to the target, on its way.  0 or -1. */
static int flow_connect(struct tpath_stream *s, struct tpath_flow *flow)
{
	int fd;

	fd = socket(s->dp.addr.sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	sock_nodelay(fd);
	if (connect(fd, &s->dp.addr.sa, s->dp.addrlen)) {
		if (errno != EINPROGRESS) {
			close(fd);
			return -1;
		}
		flow->connecting = true;
	}
	flow->dp.fd = fd;
	if (!flow->connecting && flow_proxy_hdr(s, flow)) {
		close(fd);
		flow->dp.fd = -1;
		return -1;
	}
	if (flow_watch(s, flow)) {
		close(fd);
		flow->dp.fd = -1;
		return -1;
	}
	dp_sa_local(fd, &flow->local);
	return 0;
}

/*
 * FLOW_END with R for a flow id of the peer that is refused: its client
 * gets a reset, as from a server that refused it.  When it cannot go
 * now, a flow with nothing but that FLOW_END waits for it, outside the
 * hash table and flow-max; past TPATH_REFUSE_MAX of them (or out of
 * memory) the FLOW_END is dropped and counted (tx-drop-queue).
 */
static void flow_refuse(struct tpath_stream *s, uint32_t id)
{
	struct tpath_flow *flow;

	id_ended(s, id);
	if (!s->pend_head && !dp_send_reset(&s->dp, id))
		return;
	if (s->dp.dead)
		return;
	flow = s->refusing < TPATH_REFUSE_MAX ? calloc(1, sizeof(*flow)) : NULL;
	/* without it, the client side ends the flow when its client does */
	if (!flow) {
		dp_count(&s->dp, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	dp_flow_init(&s->dp, &flow->dp, loop_now_ms());
	flow->dp.node.id = id;
	flow->eof = true;
	flow->closed = true;
	flow->end_queued = true;
	flow->end_pend = true;
	flow->rst_out = true;
	flow->refused = true;
	s->refusing++;
	pend_add(s, flow);
}

/*
 * A flow for a new flow id of the peer, within flow-max.  As in upath,
 * a connection that cannot even be started is a flow created and a
 * payload dropped (rx-drop-queue); the flow ends at once with FLOW_END.
 */
static struct tpath_flow *connect_flow_new(struct tpath_stream *s,
					   uint32_t id,
					   const struct origin *origin,
					   bool now)
{
	struct tpath_flow *flow;

	if (!dp_flow_room(&s->dp)) {
		flow_refuse(s, id);
		return NULL;
	}
	flow = calloc(1, sizeof(*flow));
	if (!flow) {
		dp_count(&s->dp, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
		flow_refuse(s, id);
		return NULL;
	}
	dp_flow_init(&s->dp, &flow->dp, loop_now_ms());
	flow->dp.node.id = id;
	flow->credit = TPATH_WINDOW_INIT;
	flow->ldap.from_service = true;		/* the service's responses */
	flow->remote = s->dp.addr;
	if (origin)
		flow->origin = *origin;
	if (flow_admit(s, flow)) {
		free(flow);
		flow_refuse(s, id);
		return NULL;
	}
	flow_link(s, flow);
	dp_count(&s->dp, FUNNEL_A_STATS_FLOWS_CREATED);
	if (!now) {
		/* unordered: its opening frame comes later (flow_open()) */
		flow->unopened = true;
		s->unopened++;
		pseq_rx_unopened(&flow->prx);
		flow_pseq_waits(s, flow, false);
		return flow;
	}
	if (flow_connect(s, flow)) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, false);
		return NULL;
	}
	return flow;
}

/*
 * The opening frame of a flow whose other frames came first: connect
 * now.  0, or -1 (the flow was reset).
 */
static int flow_open(struct tpath_stream *s, struct tpath_flow *flow)
{
	flow->unopened = false;
	s->unopened--;
	pseq_rx_opened(&flow->prx);
	if (flow_connect(s, flow)) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, false);
		return -1;
	}
	return 0;
}

/*
 * Is id a new flow of the peer?  Ordered: newer than every flow id the
 * peer sent so far (serial order).  Unordered (a plugin stream over
 * SCTP: flows' first frames may come in any order): never seen, and not
 * below the window of PSEQ_IDWIN ids under the newest (plugins.md 5.4).
 */
static bool id_is_new(const struct tpath_stream *s, uint32_t id)
{
	uint32_t d = id - s->last_id;

	if (s->unord)
		return pseq_idwin_new(&s->ids, id);
	if (!s->seen_id)
		return true;
	return d && d < 0x80000000U;
}

/* ---- frames from the carrier ---- */

/* Bytes for the flow's socket: write what it takes, queue the rest. */
static void flow_deliver(struct tpath_stream *s, struct tpath_flow *flow,
			 const uint8_t *p, size_t len)
{
	if (s->window)
		tpwin_rcvd(&flow->tw, len, loop_now_ms());
	if (!flow->qlen && !flow->connecting) {
		ssize_t n = send(flow->dp.fd, p, len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			flow_reset(s, flow, false);
			return;
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			flow_grant(s, flow, (size_t)n);
			if (flow->closed)
				return;
		}
	}
	if (!len)
		return;
	/* with flow control, a peer past its credit (its window is
	 * reserved); without, a queue past TPATH_QUEUE_MAX or the budget
	 */
	if (s->window ? flow->qlen + flow->prx.held_cost + len > flow->win :
	    flow->qlen + flow->prx.held_cost + len > TPATH_QUEUE_MAX ||
	    !membudget_room(s->resv, len)) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, true);
		return;
	}
	if (q_append(s, flow, p, len)) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, true);
		return;
	}
	flow_watch(s, flow);
}

/*
 * A plugin stream's frame the peer sent that breaks its rules: log (at
 * most once a second per stream, as LDAP), count, reset the flow.
 */
static void flow_pseq_refuse_as(struct tpath_stream *s,
				struct tpath_flow *flow, const char *why,
				unsigned int counter)
{
	uint64_t now = loop_now_ms();

	if (!s->ldap_logged || now - s->ldap_logged >= TPATH_LDAP_LOG_MS) {
		s->ldap_logged = now;
		log_warn("stream %u flow %u: plugin stream frame from the peer refused: %s: flow reset",
			 s->dp.id, flow->dp.node.id, why);
	}
	dp_count(&s->dp, counter);
	flow_reset(s, flow, true);
}

static void flow_pseq_refuse(struct tpath_stream *s, struct tpath_flow *flow,
			     const char *why)
{
	flow_pseq_refuse_as(s, flow, why, FUNNEL_A_STATS_RX_DROP_MALFORMED);
}

static void flow_peer_end(struct tpath_stream *s, uint32_t id, bool rst);

/*
 * A plugin stream's flow has frames waiting (held, or unopened), or none:
 * wait_at is when the wait began, or the last frame written since; the
 * stream's timer resets flows that wait TPATH_WAIT_MS (wait_cb()).
 */
static void flow_pseq_waits(struct tpath_stream *s, struct tpath_flow *flow,
			    bool progress)
{
	uint64_t now = loop_now_ms();

	if (!flow_stalled(s, flow)) {
		flow->wait_at = 0;
		flow->gap_at = 0;
		return;
	}
	if (!flow->wait_at || progress)
		flow->wait_at = now;
	if (flow->prx.top == flow->prx.d)
		flow->gap_at = 0;
	else if (!flow->gap_at || flow->gap_d != flow->prx.d) {
		flow->gap_at = now;
		flow->gap_d = flow->prx.d;
	}
	if (!s->wait_t.armed)
		loop_timer_arm(s->dp.loop, &s->wait_t, TPATH_WAIT_MS);
}

/*
 * Write the plugin stream frame h (p, len: its message) and then the
 * frames it released; h NULL: only those (the flow was just opened).
 * A frame's cost beyond its bytes counts as written (granted) with it.
 * An empty frame after the opening one is the peer's last (unordered,
 * flow_end_mark()): its FLOW_END takes effect then.
 */
static void flow_pseq_write(struct tpath_stream *s, struct tpath_flow *flow,
			    const struct pseq_hdr *h0, const uint8_t *p,
			    size_t len)
{
	uint32_t id = flow->dp.node.id;
	struct pseq_held *held = NULL;
	char why[PSEQ_WHY_MAX];
	struct pseq_hdr h;
	int k;

	if (h0)
		h = *h0;
	for (;;) {
		if (h0 || held) {
			if (len)
				flow_deliver(s, flow, p, len);
			free(held);
			held = NULL;
			flow = flow_lookup(s, id);
			if (!flow || flow->closed)
				return;
			if (len && pseq_cost(len) > len)
				flow_grant(s, flow, pseq_cost(len) - len);
			if (pseq_rx_delivered(&flow->prx, &h, why,
					      sizeof(why))) {
				flow_pseq_refuse(s, flow, why);
				return;
			}
			if (!len && s->unord) {
				flow->end_mark = true;
				if (flow->end_wait) {
					/* what waited is written */
					flow_pseq_waits(s, flow, true);
					flow_peer_end(s, id, false);
					return;
				}
			}
		}
		h0 = NULL;
		k = pseq_rx_next(&flow->prx, &held, why, sizeof(why));
		if (k < 0) {
			flow_pseq_refuse(s, flow, why);
			return;
		}
		if (!k) {
			flow_pseq_waits(s, flow, true);
			return;
		}
		h = held->h;
		p = held->body;
		len = held->len;
	}
}

/*
 * A DATA frame of a plugin stream for the flow: write it once its
 * dependency is written (plugseq.h), and the frames that waited for it.
 */
static void flow_pseq_input(struct tpath_stream *s, struct tpath_flow *flow,
			    const struct funnel_frame *f)
{
	char why[PSEQ_WHY_MAX];
	enum pseq_rx_res res;
	struct pseq_hdr h;
	const uint8_t *p;
	size_t len;

	if (pseq_hdr_get(f->body, f->body_len, &h, why, sizeof(why))) {
		flow_pseq_refuse(s, flow, why);
		return;
	}
	p = f->body + PSEQ_HDR_LEN;
	len = f->body_len - PSEQ_HDR_LEN;
	if (s->keyed && !h.seq) {
		/* keyed: the opening frame again is a replay too */
		res = PSEQ_RX_REPLAY;
	} else if (!len && !h.barrier) {
		/* only the direction's last frame is empty: a barrier */
		snprintf(why, sizeof(why),
			 "Sequence %u: an empty frame without B", h.seq);
		flow_pseq_refuse(s, flow, why);
		return;
	} else {
		res = pseq_rx_input(&flow->prx, &h, p, len, why, sizeof(why));
	}
	switch (res) {
	case PSEQ_RX_ERR:
		flow_pseq_refuse(s, flow, why);
		return;
	case PSEQ_RX_REPLAY:
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_REPLAY);
		if (s->keyed && s->integrity) {
			/* a sealed frame replayed on the way: the stream
			 * ends (plugins.md 5.4); it may be freed (dead)
			 */
			snprintf(why, sizeof(why),
				 "flow %u: Sequence %u again (a replayed frame)",
				 flow->dp.node.id, h.seq);
			s->integrity(s->dp.send_arg, why);
		}
		return;
	case PSEQ_RX_NOMEM:
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, true);
		return;
	case PSEQ_RX_HOLD:
	case PSEQ_RX_DELIVER:
		break;
	}
	if (s->window && len)
		tpwin_rcvd(&flow->tw, pseq_cost(len) - len, loop_now_ms());
	if (res == PSEQ_RX_HOLD) {
		/*
		 * Its cost counts in the flow's window as its credit did
		 * (an honest peer stays within); empty frames cost none,
		 * and only the direction's last is empty
		 */
		size_t lim = s->window ? flow->win : TPATH_QUEUE_MAX;

		if (flow->prx.nempty > 1) {
			snprintf(why, sizeof(why),
				 "a second empty frame waits (Sequence %u): only the direction's last is empty",
				 h.seq);
			flow_pseq_refuse_as(s, flow, why,
					    FUNNEL_A_STATS_RX_DROP_QUEUE);
			return;
		}
		if (flow->qlen + flow->prx.held_cost > lim) {
			snprintf(why, sizeof(why),
				 "%u frames wait, costing %zu bytes: %zu past the flow's window of %zu",
				 flow->prx.nheld, flow->prx.held_cost,
				 flow->qlen + flow->prx.held_cost - lim, lim);
			flow_pseq_refuse_as(s, flow, why,
					    FUNNEL_A_STATS_RX_DROP_QUEUE);
			return;
		}
		flow_pseq_waits(s, flow, false);
		return;
	}
	flow_pseq_write(s, flow, &h, p, len);
}

/*
 * The peer reset the flow: reset its socket, drop what waits for it, send
 * nothing back.
 */
static void flow_peer_reset(struct tpath_stream *s, struct tpath_flow *flow)
{
	flow->peer_end = true;
	flow->end_queued = true;
	if (!flow->closed)
		flow_close(s, flow, true);
	flow_settle(s, flow);
}

/* The peer is done sending on the flow (rst: it reset the flow). */
static void flow_peer_end(struct tpath_stream *s, uint32_t id, bool rst)
{
	struct tpath_flow *flow = flow_lookup(s, id);

	if (!flow && s->unord && s->kind == TPATH_CONNECT &&
	    id_is_new(s, id)) {
		/*
		 * Unordered: the FLOW_END of a flow whose frames are still
		 * on their way (its opening frame too).  With R the flow is
		 * over: its frames open nothing.  Without, the flow waits
		 * for its opening frame, and its end for its last frame.
		 */
		uint32_t d = id - s->last_id;

		/* the id is seen, as its first DATA frame would make it */
		if (!s->seen_id || (d && d < 0x80000000U))
			s->last_id = id;
		s->seen_id = true;
		id_ended(s, id);	/* seen: not new again */
		if (rst)
			return;
		if (s->unopened >= TPATH_UNOPENED_MAX) {
			dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
			flow_refuse(s, id);
			return;
		}
		flow = connect_flow_new(s, id, NULL, false);
		if (flow)
			flow->end_wait = true;
		return;
	}
	if (!flow) {
		/* unordered: a flow that ended, or a replay (plugins.md 5.4) */
		dp_count(&s->dp, s->unord && s->kind == TPATH_CONNECT ?
			 FUNNEL_A_STATS_RX_DROP_REPLAY :
			 FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	if (rst) {
		flow_peer_reset(s, flow);
		return;
	}
	if (flow->peer_end)
		return;
	if (s->unord && !flow->end_mark && !flow->closed) {
		/* unordered: once the peer's last frame is written */
		flow->end_wait = true;
		flow_pseq_waits(s, flow, false);
		return;
	}
	if (flow->prx.nheld && !flow->closed) {
		/* an ordered plugin stream: every frame came before it */
		char why[PSEQ_WHY_MAX];

		snprintf(why, sizeof(why),
			 "FLOW_END while %u frames wait for their dependency",
			 flow->prx.nheld);
		flow_pseq_refuse(s, flow, why);
		return;
	}
	flow->peer_end = true;
	flow->dp.last_used = loop_now_ms();
	if (!flow->closed && !flow->connecting && !flow->qlen) {
		shutdown(flow->dp.fd, SHUT_WR);
		flow->wr_shut = true;
	}
	flow_settle(s, flow);
}

void tpath_stream_input(struct tpath_stream *s, const struct funnel_frame *f)
{
	struct tpath_flow *flow;

	if (!dp_input(&s->dp, f))
		return;
	dp_hold(&s->dp);
	if (s->unord && s->kind == TPATH_CONNECT && idwin_take(s))
		goto out;		/* the stream ends */
	if (f->type == FUNNEL_T_FLOW_END) {
		flow_peer_end(s, f->flow, f->flags & FUNNEL_F_RESET);
		goto out;
	}

	flow = flow_lookup(s, f->flow);
	if (!flow && (s->kind == TPATH_LISTEN || !id_is_new(s, f->flow))) {
		/* unordered: a flow that ended (a reset one's frames come
		 * late), or a replay; it opens nothing (plugins.md 5.4)
		 */
		dp_count(&s->dp, s->unord && s->kind == TPATH_CONNECT ?
			 FUNNEL_A_STATS_RX_DROP_REPLAY :
			 FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		/* the peer may still hold
		 * the flow: a reset back (ignored there if not live)
		 */
		if (s->unord && s->kind == TPATH_CONNECT)
			flow_refuse(s, f->flow);
		goto out;
	}
	if (!flow || flow->unopened) {
		uint32_t id = f->flow, d = id - s->last_id;
		const uint8_t *body = f->body;
		size_t blen = f->body_len;
		bool opening = true;
		struct origin o;

		if (!s->seen_id || (d && d < 0x80000000U))
			s->last_id = id;
		s->seen_id = true;
		id_ended(s, id);	/* seen: not new again */
		if (s->plugseq) {
			/* the opening frame: Sequence 0, depending on none */
			char why[PSEQ_WHY_MAX];
			struct pseq_hdr h;

			why[0] = '\0';
			if (pseq_hdr_get(body, blen, &h, why, sizeof(why)))
				;
			else if (!h.seq && (h.barrier || h.more || h.after))
				snprintf(why, sizeof(why),
					 "the opening frame (Sequence 0) has B %d, M %d, After %u",
					 h.barrier, h.more, h.after);
			else if (h.seq && !s->unord)
				snprintf(why, sizeof(why),
					 "the flow's first frame has Sequence %u, not 0 (the opening frame)",
					 h.seq);
			else if (h.seq)
				opening = false;
			if (why[0]) {
				if (flow) {
					flow_pseq_refuse(s, flow, why);
					goto out;
				}
				log_warn("stream %u flow %u: plugin stream frame from the peer refused: %s: flow reset",
					 s->dp.id, id, why);
				dp_count(&s->dp,
					 FUNNEL_A_STATS_RX_DROP_MALFORMED);
				flow_refuse(s, id);
				goto out;
			}
			if (opening) {
				body += PSEQ_HDR_LEN;
				blen -= PSEQ_HDR_LEN;
			}
		}
		if (!opening) {
			/* unordered: before its flow's opening frame, which
			 * it waits for (the flow connects then)
			 */
			if (!flow && s->unopened >= TPATH_UNOPENED_MAX) {
				dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
				flow_refuse(s, id);
				goto out;
			}
			if (!flow)
				flow = connect_flow_new(s, id, NULL, false);
			if (!flow)
				goto out;
			dp_flow_rx(&flow->dp, f->body_len, loop_now_ms());
			flow_pseq_input(s, flow, f);
			goto out;
		}
		if (s->origin) {
			/* the opening frame: the origin, nothing to write */
			if (origin_parse(body, blen, &o, NULL)) {
				dp_count(&s->dp,
					 FUNNEL_A_STATS_RX_DROP_MALFORMED);
				if (flow)
					flow_reset(s, flow, true);
				else
					flow_refuse(s, id);
				goto out;
			}
		}
		if (flow) {
			/* the frames that came first wait in it */
			if (s->origin)
				flow->origin = o;
			if (flow_open(s, flow))
				goto out;
		} else {
			flow = connect_flow_new(s, id, s->origin ? &o : NULL,
						true);
			if (!flow)
				goto out;
		}
		if (s->origin || s->plugseq) {
			dp_flow_rx(&flow->dp, f->body_len, loop_now_ms());
			if (!s->origin && blen)
				flow_deliver(s, flow, body, blen);
			flow = flow_lookup(s, id);
			if (s->unord && flow && !flow->closed)
				flow_pseq_write(s, flow, NULL, NULL, 0);
			goto out;
		}
	}
	/* after its FLOW_END, or reset here: nowhere to write it */
	if (flow->closed || flow->peer_end) {
		dp_count(&s->dp, s->unord ? FUNNEL_A_STATS_RX_DROP_REPLAY :
			 FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		goto out;
	}
	dp_flow_rx(&flow->dp, f->body_len, loop_now_ms());
	if (s->plugseq)
		flow_pseq_input(s, flow, f);
	else if (f->body_len && !flow->closed)
		flow_deliver(s, flow, f->body, f->body_len);
out:
	dp_release(&s->dp);
}

void tpath_stream_resume(struct tpath_stream *s)
{
	dp_hold(&s->dp);
	pend_flush(s);
	dp_release(&s->dp);
}

void tpath_flow_credit(struct tpath_stream *s, uint32_t id, uint32_t bytes)
{
	struct tpath_flow *flow;

	if (!s->window)
		return;
	dp_hold(&s->dp);
	flow = flow_lookup(s, id);
	if (flow && !flow->closed) {
		flow->credit += bytes;
		if (flow->starved) {
			flow->starved = false;
			if (flow_watch(s, flow))
				flow_reset(s, flow, true);
		}
	}
	dp_release(&s->dp);
}

/* ---- streams ---- */

/* What flow-get reports of a flow's addresses. */
static void flow_addrs(const struct dp_stream *s, const struct dp_flow *f,
		       struct upath_flow_info *fi)
{
	const struct tpath_flow *flow = tflow(f);

	(void)s;
	dp_sa_report(&fi->local, &flow->local);
	dp_sa_report(&fi->remote, &flow->remote);
	origin_sockaddr(&flow->origin, 0, &fi->origin);
}

static void op_flow_free(struct dp_stream *s, struct dp_flow *flow)
{
	flow_free(tstream(s), tflow(flow));
}

static void stream_destroy(struct dp_stream *d)
{
	struct tpath_stream *s = tstream(d);
	struct tpath_flow *flow, *next;

	loop_timer_cancel(d->loop, &s->accept_t);
	loop_timer_cancel(d->loop, &s->wait_t);
	while ((flow = s->paused))
		flow_unpause_list(flow);
	/* refused flows waiting to send FLOW_END are on this list only */
	for (flow = s->pend_head; flow; flow = next) {
		next = flow->pend_next;
		if (!flow->hashed)
			flow_free(s, flow);
	}
	dp_stream_fini(d);
	dp_shared_put(&tpath_buf);
	membudget_uncharge(s->resv, s->idcost);
	pseq_idwin_fini(&s->ids);
	free(s);
}

static const struct dp_ops tpath_ops = {
	.destroy	= stream_destroy,
	.flow_free	= op_flow_free,
	.expire_take	= expire_take,
	.expire		= expire,
	.flow_addrs	= flow_addrs,
};

struct tpath_stream *tpath_stream_new(struct loop *l,
				      const struct tpath_stream_cfg *cfg,
				      upath_send_fn send, void *send_arg,
				      char *err, size_t errlen)
{
	bool listen = cfg->kind == TPATH_LISTEN;
	const struct dp_cfg dc = {
		.id		= cfg->id,
		.addr		= &cfg->addr,
		.addrlen	= cfg->addrlen,
		.idle_ms	= cfg->idle_ms,
		.flow_max	= cfg->flow_max,
		.budget		= cfg->budget,
		.flags		= cfg->ldap && cfg->plugseq && cfg->unordered ?
				  FUNNEL_F_UNORDERED : 0,
	};
	struct tpath_stream *s;

	if (!listen && cfg->kind != TPATH_CONNECT) {
		snprintf(err, errlen, "stream kind %d is not a TCP kind",
			 (int)cfg->kind);
		return NULL;
	}
	if (dp_check_addr(&cfg->addr, cfg->addrlen, listen, err, errlen))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || dp_shared_get(&tpath_buf,
				FUNNEL_HDR_LEN + FUNNEL_MAX_PAYLOAD)) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->kind = cfg->kind;
	if (cfg->window && cfg->grant) {
		s->window = cfg->window < TPATH_WINDOW_INIT ?
			    TPATH_WINDOW_INIT : cfg->window;
		s->grant = cfg->grant;
		s->grant_arg = send_arg;
	}
	s->resv = cfg->resv;
	s->buf = cfg->buf;
	s->origin = cfg->origin;
	s->proxy = !listen && cfg->proxy;
	s->ldap = cfg->ldap;
	s->plugseq = cfg->ldap && cfg->plugseq;
	s->unord = s->plugseq && cfg->unordered;
	s->keyed = s->unord && cfg->keyed;
	s->integrity = cfg->integrity;
	s->internal = cfg->internal;
	loop_timer_init(&s->accept_t, accept_resume, s);
	loop_timer_init(&s->wait_t, wait_cb, s);
	if (dp_stream_init(&s->dp, &tpath_ops, l, &dc, send, send_arg, err,
			   errlen))
		goto err;
	if (listen) {
		if (dp_listen_open(&s->dp, SOCK_STREAM, listen_opts, listen_cb,
				   s, err, errlen))
			goto err;
		s->lev = EPOLLIN;
	} else if (s->unord) {
		/* its bitmap comes with the first frame */
		pseq_idwin_init(&s->ids);
	}
	return s;

err:
	tpath_stream_free(s);
	return NULL;
}

void tpath_stream_free(struct tpath_stream *s)
{
	if (s)
		dp_stream_free(&s->dp);
}

void tpath_stream_stats(const struct tpath_stream *s, struct fstats *out)
{
	dp_stream_stats(&s->dp, out);
}

uint32_t tpath_stream_nflows(const struct tpath_stream *s)
{
	return dp_stream_nflows(&s->dp);
}

void tpath_stream_flows(const struct tpath_stream *s,
			int (*fn)(const struct upath_flow_info *fi, void *arg),
			void *arg)
{
	dp_stream_flows(&s->dp, fn, arg);
}
