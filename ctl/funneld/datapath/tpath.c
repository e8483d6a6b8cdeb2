// SPDX-License-Identifier: GPL-2.0
/*
 * funneld's TCP forwarding: one flow per TCP connection on an ordered
 * stream, the TCP counterpart of upath.c (same flow ids, hashing and
 * counters, same "freed from inside its own callback" rule).
 *
 * tcp-listen (client side): a listening socket; each accepted connection
 * is a flow with the next flow id.  The flow is opened at once with an
 * empty DATA frame, so that the server side connects to the target even
 * when the target speaks first; the connection's bytes follow in DATA
 * frames, FUNNEL_MAX_SEALED_PAYLOAD bytes at most each (so that each
 * can be sealed).
 *
 * tcp-connect (server side): a DATA frame with a new flow id opens a
 * non-blocking connection to the target; its payload waits in the flow's
 * queue until the connection is up.  A flow id the peer has already used
 * (older than the newest one seen) is never a new flow: that is a flow
 * ended here whose frames are still coming, dropped as rx-drop-no-flow
 * rather than sent to a new connection from the middle of a stream.
 * The client side opens flows in id order, which makes this exact.
 *
 * FLOW_END means "the sender is done sending" (a TCP FIN): at EOF on its
 * socket a side sends FLOW_END and keeps writing what still arrives; on
 * FLOW_END from the peer it shuts its socket down for writing once the
 * flow's queue is written.  The flow is freed when both directions are
 * done.  An error, a reset or idle expiry ends the flow at once, with
 * FLOW_END if it was not sent yet.
 *
 * Nothing is dropped for want of room on the carrier: a frame the
 * carrier refuses (send() returns -1) waits in its flow, on the stream's
 * list of pending frames, and every frame after it waits too, in order.
 * While frames wait the stream reads none of its sockets (a socket that
 * reports data is taken out of EPOLLIN until then); the carrier calls
 * tpath_stream_resume() when it has room.  Bytes from the carrier wait in
 * a queue of their flow until the socket takes them; a flow whose queue
 * would pass TPATH_QUEUE_MAX is reset (rx-drop-queue).
 *
 * Everything runs in funneld's single-threaded event loop.  The carrier's
 * send function may free the stream before it returns: the stream is then
 * only marked dead, sends nothing more, and is freed when the callback of
 * ours that is running ends.  It may also call tpath_stream_resume(); it
 * must not call tpath_stream_input().
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "funneld/datapath/flowtab.h"
#include "funneld/datapath/tpath.h"

/* Bytes from the carrier waiting for a flow's socket, at most. */
#define TPATH_QUEUE_MAX		(4U << 20)
/* Those bytes are kept in chunks of this size. */
#define TPATH_CHUNK		65536
/* Chunks per sendmsg(). */
#define TPATH_IOV		16
/* Reads of one socket per wakeup (the loop is level-triggered). */
#define TPATH_BUDGET		4
/* Connections accepted per wakeup of the listening socket. */
#define TPATH_ACCEPT_BATCH	16
/* Out of file descriptors: no accept() for this long. */
#define TPATH_ACCEPT_PAUSE_MS	1000

/* An IPv4 or IPv6 socket address. */
union tpath_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

/* Part of a flow's queue: bytes [head, tail) of data wait. */
struct tpath_chunk {
	struct tpath_chunk *next;
	size_t head, tail;
	uint8_t data[TPATH_CHUNK];
};

struct tpath_flow {
	struct flowtab_node node;	/* by flow id: node.id */
	struct tpath_flow *pend_next;	/* on the stream's pending list */
	struct tpath_flow *paused_next, **paused_pprev;
	struct tpath_flow *gc_next;	/* on the list of expired flows */
	struct tpath_stream *s;
	int fd;				/* -1 once closed */
	uint32_t events;		/* watched in the loop now */
	uint64_t last_used;		/* loop_now_ms() of the last frame */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	union tpath_sa local, remote;

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
	bool peer_end;		/* the peer's FLOW_END came */
	bool wr_shut;		/* shutdown(SHUT_WR) done */
	bool closed;		/* socket closed, queue dropped */
};

struct tpath_stream {
	struct loop *loop;
	upath_send_fn send;
	void *send_arg;
	uint16_t id;
	enum tpath_kind kind;
	union tpath_sa addr;		/* bound address, or the target */
	socklen_t addrlen;
	uint32_t idle_ms;		/* 0: flows never expire */
	uint32_t flow_max;

	int fd;				/* tcp-listen: the listening socket */
	uint32_t lev;			/* its events watched now */
	bool accept_paused;		/* out of file descriptors */
	bool listen_paused;		/* frames are pending */
	struct loop_timer accept_t;	/* ends accept_paused */

	struct flowtab flows;		/* by flow id */
	uint32_t last_id;		/* tcp-connect: the peer's newest id */
	bool seen_id;			/* last_id is set */

	/* flows with frames the carrier refused, in the order sent */
	struct tpath_flow *pend_head, *pend_tail;
	/* flows whose socket is not read until the pending list empties */
	struct tpath_flow *paused;

	struct loop_timer gc;		/* expires idle flows */
	struct fstats st;

	unsigned int busy;		/* callbacks of ours running */
	bool dead;			/* freed meanwhile: free at the end */
	bool flushing;			/* in pend_flush() */
};

/*
 * The read buffer, shared by every stream: room for a frame header, then
 * a full payload, so that a DATA frame is read in place.  The loop runs
 * one callback at a time, and a frame is copied by send() or into its
 * flow before the callback returns.
 */
static uint8_t *tpath_buf;
static unsigned int tpath_buf_users;

static int buf_get(void)
{
	if (!tpath_buf_users) {
		tpath_buf = malloc(FUNNEL_HDR_LEN + FUNNEL_MAX_PAYLOAD);
		if (!tpath_buf)
			return -1;
	}
	tpath_buf_users++;
	return 0;
}

static void buf_put(void)
{
	if (--tpath_buf_users)
		return;
	free(tpath_buf);
	tpath_buf = NULL;
}

/* ---- addresses ---- */

static uint16_t sa_port(const union tpath_sa *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port :
						  a->in6.sin6_port);
}

static bool sa_valid(const union tpath_sa *a, socklen_t len)
{
	if (a->sa.sa_family == AF_INET)
		return len >= sizeof(a->in);
	return a->sa.sa_family == AF_INET6 && len >= sizeof(a->in6);
}

static socklen_t sa_len(const union tpath_sa *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
}

/* As the kernel reports it: an IPv4 client of a dual-stack socket is IPv4. */
static void sa_report(struct sockaddr_storage *out, const union tpath_sa *a)
{
	memset(out, 0, sizeof(*out));
	if (a->sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		in->sin_family = AF_INET;
		in->sin_port = a->in6.sin6_port;
		memcpy(&in->sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
		return;
	}
	if (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6)
		memcpy(out, a, sa_len(a));
}

/* "192.0.2.1:80" or "[2001:db8::1]:80", for error messages. */
static void sa_format(const union tpath_sa *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, sa_port(a));
	} else {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, sa_port(a));
	}
}

/* Our end of a connected socket, or nothing. */
static void sock_local(int fd, union tpath_sa *out)
{
	socklen_t len = sizeof(*out);

	if (getsockname(fd, &out->sa, &len) || !sa_valid(out, len))
		memset(out, 0, sizeof(*out));
}

/* Bytes go out as they come: the sender has coalesced them already. */
static void sock_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- hash table ---- */

static struct tpath_flow *flow_of(struct flowtab_node *n)
{
	return n ? flowtab_entry(n, struct tpath_flow, node) : NULL;
}

static struct tpath_flow *flow_lookup(const struct tpath_stream *s,
				      uint32_t id)
{
	return flow_of(flowtab_lookup(&s->flows, id));
}

/* Between 20 ms and 1 s, as upath and the kernel. */
static uint64_t gc_period(const struct tpath_stream *s)
{
	uint32_t ms = s->idle_ms / 4;

	return ms < 20 ? 20 : ms > 1000 ? 1000 : ms;
}

/* Hash a new flow; with an idle timeout, the timer runs while flows do. */
static void flow_link(struct tpath_stream *s, struct tpath_flow *flow)
{
	flowtab_insert(&s->flows, &flow->node);
	flow->hashed = true;
	if (s->idle_ms && !s->gc.armed)
		loop_timer_arm(s->loop, &s->gc, gc_period(s));
}

static void flow_unlink(struct tpath_stream *s, struct tpath_flow *flow)
{
	flowtab_remove(&s->flows, &flow->node);
	flow->hashed = false;
}

/* ---- a flow's queue ---- */

static int q_append(struct tpath_flow *flow, const uint8_t *p, size_t n)
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
		p += room;
		n -= room;
	}
	return 0;
}

/* n bytes were written: free the chunks they emptied. */
static void q_consume(struct tpath_flow *flow, size_t n)
{
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

static void q_free(struct tpath_flow *flow)
{
	struct tpath_chunk *c, *next;

	for (c = flow->q_head; c; c = next) {
		next = c->next;
		free(c);
	}
	flow->q_head = NULL;
	flow->q_tail = NULL;
	flow->qlen = 0;
}

/*
 * Write what the queue holds until the socket is full.  0, or -1 on a
 * socket error (the flow is to be reset).
 */
static int q_write(struct tpath_flow *flow)
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
		n = sendmsg(flow->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		q_consume(flow, (size_t)n);
		if ((size_t)n < want)
			return 0;	/* the socket is full */
	}
	return 0;
}

/* ---- callbacks ---- */

static void stream_destroy(struct tpath_stream *s);

/* A callback of s starts: s stays allocated until stream_release(). */
static void stream_hold(struct tpath_stream *s)
{
	s->busy++;
}

/* It ends: free s if tpath_stream_free() was called meanwhile. */
static void stream_release(struct tpath_stream *s)
{
	if (!--s->busy && s->dead)
		stream_destroy(s);
}

static void stream_count(struct tpath_stream *s, int idx)
{
	s->st.v[idx]++;
}

/* The carrier's send(); nothing goes to a carrier that freed us. */
static int stream_send(struct tpath_stream *s, const uint8_t *frame,
		       size_t len)
{
	if (s->dead)
		return -1;
	return s->send(s->send_arg, frame, len);
}

/* ---- events of a flow's socket ---- */

static void flow_cb(struct loop *l, int fd, uint32_t events, void *arg);

/* What the flow's socket is to be watched for now. */
static uint32_t flow_want(const struct tpath_flow *flow)
{
	uint32_t ev = 0;

	if (flow->connecting)
		return EPOLLOUT;
	if (!flow->eof && !flow->paused)
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
		if (loop_add(s->loop, flow->fd, ev, flow_cb, flow))
			return -1;
		flow->in_loop = true;
		flow->events = ev;
		return 0;
	}
	if (ev != flow->events && !loop_mod(s->loop, flow->fd, ev))
		flow->events = ev;
	return 0;
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
	if (hup && flow->in_loop) {
		loop_del(s->loop, flow->fd);
		flow->in_loop = false;
		return;
	}
	flow_watch(s, flow);
}

static void flow_unpause_list(struct tpath_flow *flow)
{
	*flow->paused_pprev = flow->paused_next;
	if (flow->paused_next)
		flow->paused_next->paused_pprev = flow->paused_pprev;
	flow->paused = false;
}

/* ---- ending flows ---- */

/* Free a flow that is off every list but the hash table. */
static void flow_free(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (flow->paused)
		flow_unpause_list(flow);
	if (flow->fd >= 0) {
		if (flow->in_loop)
			loop_del(s->loop, flow->fd);
		close(flow->fd);
	}
	q_free(flow);
	free(flow->pend);
	free(flow);
}

/* Close the socket for good, with a reset (RST) if rst. */
static void flow_close(struct tpath_stream *s, struct tpath_flow *flow,
		       bool rst)
{
	if (flow->paused)
		flow_unpause_list(flow);
	if (flow->fd >= 0) {
		if (rst) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(flow->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		}
		if (flow->in_loop)
			loop_del(s->loop, flow->fd);
		close(flow->fd);
	}
	flow->fd = -1;
	flow->in_loop = false;
	flow->connecting = false;
	flow->eof = true;
	flow->closed = true;
	q_free(flow);
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

static int end_send(struct tpath_stream *s, uint32_t id)
{
	struct funnel_frame f = {
		.stream	= s->id,
		.type	= FUNNEL_T_FLOW_END,
		.flow	= id,
	};
	uint8_t hdr[FUNNEL_HDR_LEN];

	funnel_hdr_encode(hdr, &f);
	/* counted on the carrier only, as upath and the kernel do */
	return stream_send(s, hdr, sizeof(hdr));
}

/* Send FLOW_END for the flow, now or after the frames pending. */
static void flow_end_queue(struct tpath_stream *s, struct tpath_flow *flow)
{
	flow->end_queued = true;
	if (!s->pend_head && !end_send(s, flow->node.id))
		return;
	if (s->dead)
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
	if (flow->hashed)
		flow_unlink(s, flow);
	flow_free(s, flow);
	return true;
}

/*
 * End the flow at once: close its socket (with a reset if rst), drop its
 * queue, send FLOW_END if it was not sent.  True if the flow was freed.
 */
static bool flow_reset(struct tpath_stream *s, struct tpath_flow *flow,
		       bool rst)
{
	flow_close(s, flow, rst);
	if (!flow->end_queued)
		flow_end_queue(s, flow);
	return flow_settle(s, flow);
}

/* ---- frames to the carrier ---- */

static void flow_tx_count(struct tpath_stream *s, struct tpath_flow *flow,
			  size_t len)
{
	/* bytes are those of the frame, header included, as in upath */
	FST(&s->st, TX_FRAMES)++;
	FST(&s->st, TX_BYTES) += len;
	flow->tx_frames++;
	flow->tx_bytes += len;
}

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
	if (!s->pend_head && !stream_send(s, frame, len)) {
		flow_tx_count(s, flow, len);
		return 0;
	}
	if (s->dead)
		return -1;
	flow->pend = malloc(len);
	if (!flow->pend) {
		stream_count(s, FUNNEL_A_STATS_TX_DROP_QUEUE);
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

	if (s->dead)
		return;
	if (s->listen_paused) {
		s->listen_paused = false;
		listen_watch(s);
	}
	while ((flow = s->paused)) {
		flow_unpause_list(flow);
		if (flow_watch(s, flow))
			flow_reset(s, flow, true);
		if (s->dead)
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
			if (stream_send(s, flow->pend, flow->pend_len))
				goto out;
			flow_tx_count(s, flow, flow->pend_len);
			free(flow->pend);
			flow->pend = NULL;
		}
		if (flow->end_pend) {
			if (end_send(s, flow->node.id))
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

/*
 * Read the socket into DATA frames.  At EOF, FLOW_END.  True if the flow
 * was freed.
 */
static bool flow_read(struct tpath_stream *s, struct tpath_flow *flow,
		      bool hup)
{
	struct funnel_frame f = {
		.stream	= s->id,
		.type	= FUNNEL_T_DATA,
		.flow	= flow->node.id,
	};

	for (int i = 0; i < TPATH_BUDGET; i++) {
		bool freed;
		ssize_t n;

		/* so a flow has one DATA frame waiting at most */
		if (s->pend_head) {
			flow_pause(s, flow, hup);
			return false;
		}
		n = recv(flow->fd, tpath_buf + FUNNEL_HDR_LEN,
			 FUNNEL_MAX_SEALED_PAYLOAD, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			return flow_reset(s, flow, false);
		}
		if (!n) {
			flow->eof = true;
			flow_watch(s, flow);
			flow_end_queue(s, flow);
			return flow_settle(s, flow);
		}
		flow->last_used = loop_now_ms();
		funnel_hdr_encode(tpath_buf, &f);
		if (flow_data_send(s, flow, tpath_buf,
				   FUNNEL_HDR_LEN + (size_t)n, &freed)) {
			if (!freed && !s->dead && !flow->closed)
				flow_pause(s, flow, hup);
			return freed;
		}
		if (s->dead)
			return false;
		if (n < FUNNEL_MAX_SEALED_PAYLOAD)
			return false;	/* drained, most likely */
	}
	return false;
}

/*
 * Write the queue; once it is empty after the peer's FLOW_END, shut the
 * socket down for writing.  True if the flow was freed.
 */
static bool flow_flush(struct tpath_stream *s, struct tpath_flow *flow)
{
	if (q_write(flow))
		return flow_reset(s, flow, false);
	if (!flow->qlen && flow->peer_end && !flow->wr_shut) {
		shutdown(flow->fd, SHUT_WR);
		flow->wr_shut = true;
	}
	flow_watch(s, flow);
	return flow_settle(s, flow);
}

/* tcp-connect: the connection to the target is made, or failed. */
static void flow_connected(struct tpath_stream *s, struct tpath_flow *flow)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(flow->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		flow_reset(s, flow, false);
		return;
	}
	flow->connecting = false;
	sock_local(flow->fd, &flow->local);
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
	if (s->dead || flow->closed)
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
	struct tpath_stream *s = flow->s;

	(void)l;
	(void)fd;
	stream_hold(s);		/* and so its flows, this one too */
	flow_event(s, flow, events);
	stream_release(s);
}

/* ---- idle expiry ---- */

static void gc_cb(struct loop *l, void *arg)
{
	struct tpath_stream *s = arg;
	struct tpath_flow *expired = NULL, *flow, *next;
	struct flowtab_node *n, *tmp;
	uint64_t now = loop_now_ms();

	(void)l;
	stream_hold(s);
	flowtab_for_each(&s->flows, n, tmp) {
		flow = flow_of(n);
		if (flow->closed || now - flow->last_used < s->idle_ms)
			continue;
		flow->gc_next = expired;
		expired = flow;
	}
	if (s->flows.count)
		loop_timer_arm(s->loop, &s->gc, gc_period(s));

	/* ending a flow frees that flow only */
	for (flow = expired; flow && !s->dead; flow = next) {
		next = flow->gc_next;
		stream_count(s, FUNNEL_A_STATS_FLOWS_EXPIRED);
		flow_reset(s, flow, false);
	}
	stream_release(s);
}

/* ---- tcp-listen ---- */

static void listen_watch(struct tpath_stream *s)
{
	uint32_t ev = s->accept_paused || s->listen_paused ? 0 : EPOLLIN;

	if (s->fd >= 0 && ev != s->lev && !loop_mod(s->loop, s->fd, ev))
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
 * leaves one free.
 */
static struct tpath_flow *listen_flow_new(struct tpath_stream *s, int fd,
					  const union tpath_sa *peer)
{
	struct tpath_flow *flow = calloc(1, sizeof(*flow));

	if (!flow)
		return NULL;
	flow->s = s;
	flow->fd = fd;
	flow->last_used = loop_now_ms();
	flow->remote = *peer;
	sock_local(fd, &flow->local);
	if (flow_watch(s, flow)) {
		free(flow);
		return NULL;
	}
	flow->node.id = flowtab_alloc_id(&s->flows);
	flow_link(s, flow);
	stream_count(s, FUNNEL_A_STATS_FLOWS_CREATED);
	return flow;
}

/* Accept one connection; false when there is no more to accept now. */
static bool listen_accept(struct tpath_stream *s)
{
	struct funnel_frame f = {
		.stream	= s->id,
		.type	= FUNNEL_T_DATA,
	};
	uint8_t hdr[FUNNEL_HDR_LEN];
	union tpath_sa peer;
	socklen_t len = sizeof(peer);
	struct tpath_flow *flow;
	bool freed;
	int fd;

	fd = accept4(s->fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			return true;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* level-triggered: do not spin until one is free */
			s->accept_paused = true;
			listen_watch(s);
			loop_timer_arm(s->loop, &s->accept_t,
				       TPATH_ACCEPT_PAUSE_MS);
		}
		return false;
	}
	if (!flowtab_room(&s->flows, s->flow_max)) {
		stream_count(s, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
		close(fd);
		return true;
	}
	if (!sa_valid(&peer, len)) {
		close(fd);
		return true;
	}
	flow = listen_flow_new(s, fd, &peer);
	if (!flow) {
		close(fd);
		return true;
	}
	sock_nodelay(fd);
	/* an empty DATA frame: the server side connects now */
	f.flow = flow->node.id;
	funnel_hdr_encode(hdr, &f);
	flow_data_send(s, flow, hdr, sizeof(hdr), &freed);
	return !s->dead;
}

static void listen_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct tpath_stream *s = arg;

	(void)l;
	(void)fd;
	(void)events;
	stream_hold(s);
	for (int i = 0; i < TPATH_ACCEPT_BATCH; i++) {
		if (s->pend_head) {
			s->listen_paused = true;
			listen_watch(s);
			break;
		}
		if (!listen_accept(s))
			break;
	}
	stream_release(s);
}

static int listen_open(struct tpath_stream *s, char *err, size_t errlen)
{
	int family = s->addr.sa.sa_family, one = 1, zero = 0;
	char where[INET6_ADDRSTRLEN + 8];
	int fd, ret;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "TCP socket: %s", strerror(errno));
		return -1;
	}
	/* dual stack whatever net.ipv6.bindv6only says */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))) {
		snprintf(err, errlen, "TCP socket options: %s",
			 strerror(errno));
		goto err;
	}
	sa_format(&s->addr, where, sizeof(where));
	if (bind(fd, &s->addr.sa, s->addrlen)) {
		snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
		goto err;
	}
	if (listen(fd, SOMAXCONN)) {
		snprintf(err, errlen, "listen %s: %s", where, strerror(errno));
		goto err;
	}
	ret = loop_add(s->loop, fd, EPOLLIN, listen_cb, s);
	if (ret) {
		snprintf(err, errlen, "event loop: %s", strerror(-ret));
		goto err;
	}
	s->fd = fd;
	s->lev = EPOLLIN;
	return 0;

err:
	close(fd);
	return -1;
}

/* ---- tcp-connect ---- */

/* The flow's connection to the target, on its way.  0 or -1. */
static int flow_connect(struct tpath_stream *s, struct tpath_flow *flow)
{
	int fd;

	fd = socket(s->addr.sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	sock_nodelay(fd);
	if (connect(fd, &s->addr.sa, s->addrlen)) {
		if (errno != EINPROGRESS) {
			close(fd);
			return -1;
		}
		flow->connecting = true;
	}
	flow->fd = fd;
	if (flow_watch(s, flow)) {
		close(fd);
		flow->fd = -1;
		return -1;
	}
	sock_local(fd, &flow->local);
	return 0;
}

/*
 * FLOW_END for a flow id of the peer that is refused.  When it cannot go
 * now, a flow with nothing but that FLOW_END waits for it, outside the
 * hash table and flow-max.
 */
static void flow_refuse(struct tpath_stream *s, uint32_t id)
{
	struct tpath_flow *flow;

	if (!s->pend_head && !end_send(s, id))
		return;
	if (s->dead)
		return;
	flow = calloc(1, sizeof(*flow));
	/* without it, the client side ends the flow when its client does */
	if (!flow)
		return;
	flow->s = s;
	flow->node.id = id;
	flow->fd = -1;
	flow->eof = true;
	flow->closed = true;
	flow->end_queued = true;
	flow->end_pend = true;
	pend_add(s, flow);
}

/*
 * A flow for a new flow id of the peer, within flow-max.  As in upath,
 * a connection that cannot even be started is a flow created and a
 * payload dropped (rx-drop-queue); the flow ends at once with FLOW_END.
 */
static struct tpath_flow *connect_flow_new(struct tpath_stream *s,
					   uint32_t id)
{
	struct tpath_flow *flow;

	if (!flowtab_room(&s->flows, s->flow_max)) {
		stream_count(s, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
		flow_refuse(s, id);
		return NULL;
	}
	flow = calloc(1, sizeof(*flow));
	if (!flow) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_refuse(s, id);
		return NULL;
	}
	flow->s = s;
	flow->node.id = id;
	flow->fd = -1;
	flow->last_used = loop_now_ms();
	flow->remote = s->addr;
	flow_link(s, flow);
	stream_count(s, FUNNEL_A_STATS_FLOWS_CREATED);
	if (flow_connect(s, flow)) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, false);
		return NULL;
	}
	return flow;
}

/* Is id newer than every flow id the peer sent so far (serial order)? */
static bool id_is_new(const struct tpath_stream *s, uint32_t id)
{
	uint32_t d = id - s->last_id;

	return !s->seen_id || (d && d < 0x80000000U);
}

/* ---- frames from the carrier ---- */

/* Bytes for the flow's socket: write what it takes, queue the rest. */
static void flow_deliver(struct tpath_stream *s, struct tpath_flow *flow,
			 const uint8_t *p, size_t len)
{
	if (!flow->qlen && !flow->connecting) {
		ssize_t n = send(flow->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			flow_reset(s, flow, false);
			return;
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (!len)
		return;
	if (flow->qlen + len > TPATH_QUEUE_MAX || q_append(flow, p, len)) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_QUEUE);
		flow_reset(s, flow, true);
		return;
	}
	flow_watch(s, flow);
}

/* The peer is done sending on the flow. */
static void flow_peer_end(struct tpath_stream *s, uint32_t id)
{
	struct tpath_flow *flow = flow_lookup(s, id);

	if (!flow) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	if (flow->peer_end)
		return;
	flow->peer_end = true;
	flow->last_used = loop_now_ms();
	if (!flow->closed && !flow->connecting && !flow->qlen) {
		shutdown(flow->fd, SHUT_WR);
		flow->wr_shut = true;
	}
	flow_settle(s, flow);
}

/* The order of checks and counters is upath's (funnel_stream_rcv()). */
void tpath_stream_input(struct tpath_stream *s, const struct funnel_frame *f)
{
	struct tpath_flow *flow;

	if (f->type != FUNNEL_T_DATA && f->type != FUNNEL_T_FLOW_END)
		return;		/* not ours: the carrier's bug */
	FST(&s->st, RX_FRAMES)++;
	FST(&s->st, RX_BYTES) += FUNNEL_HDR_LEN + f->body_len;

	if (!f->flow) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}
	if (f->flags & FUNNEL_F_SEALED) {	/* no key on this stream */
		stream_count(s, FUNNEL_A_STATS_RX_DROP_NO_KEY);
		return;
	}

	stream_hold(s);
	if (f->type == FUNNEL_T_FLOW_END) {
		flow_peer_end(s, f->flow);
		goto out;
	}

	flow = flow_lookup(s, f->flow);
	if (!flow && (s->kind == TPATH_LISTEN || !id_is_new(s, f->flow))) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		goto out;
	}
	if (!flow) {
		s->last_id = f->flow;
		s->seen_id = true;
		flow = connect_flow_new(s, f->flow);
		if (!flow)
			goto out;
	}
	/* after its FLOW_END, or reset here: nowhere to write it */
	if (flow->closed || flow->peer_end) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		goto out;
	}
	flow->last_used = loop_now_ms();
	flow->rx_frames++;
	flow->rx_bytes += FUNNEL_HDR_LEN + f->body_len;
	if (f->body_len)
		flow_deliver(s, flow, f->body, f->body_len);
out:
	stream_release(s);
}

void tpath_stream_resume(struct tpath_stream *s)
{
	stream_hold(s);
	pend_flush(s);
	stream_release(s);
}

/* ---- streams ---- */

static int check_cfg(const struct tpath_stream_cfg *cfg, char *err,
		     size_t errlen)
{
	const union tpath_sa *a = (const union tpath_sa *)&cfg->addr;

	if (cfg->kind != TPATH_LISTEN && cfg->kind != TPATH_CONNECT) {
		snprintf(err, errlen, "stream kind %d is not a TCP kind",
			 (int)cfg->kind);
		return -1;
	}
	if (!sa_valid(a, cfg->addrlen)) {
		snprintf(err, errlen, "stream address is not IPv4 or IPv6");
		return -1;
	}
	if (!sa_port(a)) {
		snprintf(err, errlen, "stream %s port is 0",
			 cfg->kind == TPATH_LISTEN ? "local" : "target");
		return -1;
	}
	return 0;
}

struct tpath_stream *tpath_stream_new(struct loop *l,
				      const struct tpath_stream_cfg *cfg,
				      upath_send_fn send, void *send_arg,
				      char *err, size_t errlen)
{
	struct tpath_stream *s;

	if (check_cfg(cfg, err, errlen))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || buf_get()) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->send = send;
	s->send_arg = send_arg;
	s->id = cfg->id;
	s->kind = cfg->kind;
	s->addrlen = cfg->addrlen < sizeof(s->addr) ? cfg->addrlen :
						       sizeof(s->addr);
	memcpy(&s->addr, &cfg->addr, s->addrlen);
	s->idle_ms = cfg->idle_ms;
	s->flow_max = cfg->flow_max ? cfg->flow_max : FUNNEL_FLOW_MAX_DEFAULT;
	s->fd = -1;
	loop_timer_init(&s->gc, gc_cb, s);
	loop_timer_init(&s->accept_t, accept_resume, s);

	if (flowtab_init(&s->flows, s->flow_max)) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	s->flows.budget = cfg->budget;
	if (s->kind == TPATH_LISTEN && listen_open(s, err, errlen))
		goto err;
	return s;

err:
	tpath_stream_free(s);
	return NULL;
}

static void stream_destroy(struct tpath_stream *s)
{
	struct tpath_flow *flow, *next;
	struct flowtab_node *n, *tmp;

	loop_timer_cancel(s->loop, &s->gc);
	loop_timer_cancel(s->loop, &s->accept_t);
	if (s->fd >= 0) {
		loop_del(s->loop, s->fd);
		close(s->fd);
	}
	while ((flow = s->paused))
		flow_unpause_list(flow);
	/* refused flows waiting to send FLOW_END are on this list only */
	for (flow = s->pend_head; flow; flow = next) {
		next = flow->pend_next;
		if (!flow->hashed)
			flow_free(s, flow);
	}
	flowtab_for_each(&s->flows, n, tmp)
		flow_free(s, flow_of(n));
	flowtab_fini(&s->flows);
	buf_put();
	free(s);
}

void tpath_stream_free(struct tpath_stream *s)
{
	if (!s)
		return;
	if (s->busy) {		/* from the carrier's send(), in a callback */
		s->dead = true;
		return;
	}
	stream_destroy(s);
}

void tpath_stream_stats(const struct tpath_stream *s, struct fstats *out)
{
	*out = s->st;
}

uint32_t tpath_stream_nflows(const struct tpath_stream *s)
{
	return s->flows.count;
}

/* What flow-get reports of a flow. */
static void flow_info(const struct tpath_flow *flow, uint64_t now,
		      struct upath_flow_info *fi)
{
	uint64_t idle = now - flow->last_used;

	memset(fi, 0, sizeof(*fi));
	fi->id = flow->node.id;
	fi->idle_ms = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle;
	FST(&fi->st, RX_FRAMES) = flow->rx_frames;
	FST(&fi->st, RX_BYTES) = flow->rx_bytes;
	FST(&fi->st, TX_FRAMES) = flow->tx_frames;
	FST(&fi->st, TX_BYTES) = flow->tx_bytes;
	sa_report(&fi->local, &flow->local);
	sa_report(&fi->remote, &flow->remote);
}

void tpath_stream_flows(const struct tpath_stream *s,
			int (*fn)(const struct upath_flow_info *fi, void *arg),
			void *arg)
{
	struct upath_flow_info fi;
	struct flowtab_node *n, *tmp;
	uint64_t now = loop_now_ms();

	flowtab_for_each(&s->flows, n, tmp) {
		flow_info(flow_of(n), now, &fi);
		if (fn(&fi, arg))
			return;
	}
}
