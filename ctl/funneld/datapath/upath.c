// SPDX-License-Identifier: GPL-2.0
/*
 * funneld's userspace data path for UDP streams, the twin of funnel.ko's
 * udp-listen and udp-connect streams (kmod/stream.c, kmod/udp.c): same
 * frames, same flow ids, same counters, so that either end of a carrier
 * may be the kernel or funneld.
 *
 * udp-listen: one socket bound to the stream's address; a datagram from
 * a new client address:port makes a flow with the next flow id.  Replies
 * leave that socket from the address the client sent to (IP_PKTINFO /
 * IPV6_PKTINFO), as the kernel routes them.
 *
 * udp-connect: a DATA frame with a new flow id makes a flow with its own
 * socket, connected to the target from an ephemeral port.  The kernel
 * makes that socket in a work item and holds datagrams meanwhile; here
 * it is made at once, so nothing is ever held.
 *
 * Flows sit in hash tables of their stream, by flow id (flowtab.c) and
 * (udp-listen) by client address.  One timer per stream expires idle flows.
 *
 * Everything runs in funneld's single-threaded event loop.  The carrier's
 * send function may fail the carrier and free its streams, this one
 * included, before it returns: a stream that is inside one of its own
 * callbacks is only marked dead then, and freed when the callback ends.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "funneld/datapath/flowtab.h"
#include "funneld/datapath/upath.h"

/* Datagrams per recvmmsg() call, and per wakeup of one socket. */
#define UPATH_BATCH		16
#define UPATH_BUDGET		64

/* A receive slot: room for the frame header, then the payload. */
#define UPATH_SLOT		(FUNNEL_HDR_LEN + FUNNEL_MAX_PAYLOAD)

/* Ancillary data of a received datagram: its destination address. */
#define UPATH_CTL_LEN		(CMSG_SPACE(sizeof(struct in6_pktinfo)) + \
				 CMSG_SPACE(sizeof(struct in_pktinfo)))

/* An IPv4 or IPv6 socket address, as sockets take and give them. */
union upath_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct upath_flow {
	struct flowtab_node node;	/* by flow id: node.id */
	struct upath_flow *addr_next, **addr_pprev;	/* udp-listen */
	struct upath_flow *gc_next;	/* on the list of expired flows */
	struct upath_stream *s;
	int fd;				/* udp-connect: the flow's socket */
	uint64_t last_used;		/* loop_now_ms() of the last frame */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;

	/* udp-listen: the client, as the listening socket reported it */
	union upath_sa peer;
	socklen_t peerlen;
	/* udp-listen: where the client sent its first datagram to */
	int local_family;		/* 0: unknown (no pktinfo) */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} local;
};

struct upath_stream {
	struct loop *loop;
	upath_send_fn send;
	void *send_arg;
	uint16_t id;
	int kind;
	uint8_t flags;			/* of every frame we send */
	union upath_sa addr;		/* bound address, or the target */
	socklen_t addrlen;
	uint32_t idle_ms;
	uint32_t flow_max;
	int fd;				/* udp-listen: the listening socket */

	struct flowtab flows;		/* by flow id */
	struct upath_flow **by_addr;	/* udp-listen, as many buckets */

	struct loop_timer gc;		/* expires idle flows */
	struct fstats st;

	unsigned int busy;		/* callbacks of ours running */
	bool dead;			/* freed meanwhile: free at the end */
};

/*
 * Receive buffers, shared by every stream: the loop runs one callback at
 * a time and a callback is done with them when it returns.  About 1 MiB,
 * allocated with the first stream and freed with the last.
 */
struct upath_rx {
	struct mmsghdr msg[UPATH_BATCH];
	struct iovec iov[UPATH_BATCH];
	union upath_sa name[UPATH_BATCH];
	union {
		char buf[UPATH_CTL_LEN];
		struct cmsghdr align;
	} ctl[UPATH_BATCH];
	uint8_t data[UPATH_BATCH][UPATH_SLOT];
};

static struct upath_rx *upath_rx;
static unsigned int upath_rx_users;

static int rx_get(void)
{
	if (!upath_rx_users) {
		upath_rx = malloc(sizeof(*upath_rx));
		if (!upath_rx)
			return -1;
	}
	upath_rx_users++;
	return 0;
}

static void rx_put(void)
{
	if (--upath_rx_users)
		return;
	free(upath_rx);
	upath_rx = NULL;
}

/*
 * Point the first n slots at their buffers again (recvmmsg() changes the
 * lengths).  The payload goes FUNNEL_HDR_LEN into its slot, so that the
 * frame header can be written in front of it without a copy.
 */
static void rx_prepare(struct upath_rx *rx, unsigned int n, bool names)
{
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *mh = &rx->msg[i].msg_hdr;

		rx->iov[i].iov_base = rx->data[i] + FUNNEL_HDR_LEN;
		rx->iov[i].iov_len = FUNNEL_MAX_PAYLOAD;
		memset(mh, 0, sizeof(*mh));
		mh->msg_iov = &rx->iov[i];
		mh->msg_iovlen = 1;
		if (names) {
			mh->msg_name = &rx->name[i];
			mh->msg_namelen = sizeof(rx->name[i]);
			mh->msg_control = rx->ctl[i].buf;
			mh->msg_controllen = sizeof(rx->ctl[i].buf);
		}
	}
}

/* What becomes of one received datagram; slot holds it at FUNNEL_HDR_LEN. */
typedef void (*rx_fn)(void *ctx, struct mmsghdr *m, uint8_t *slot,
		      uint64_t now);

/*
 * Read what fd has, UPATH_BUDGET datagrams at most (the loop is level-
 * triggered: the rest comes next round, after the other sockets had
 * their turn).  An error is a socket error reported once and consumed by
 * reading it, e.g. the ECONNREFUSED of an ICMP port unreachable on a
 * connected socket: the kernel's sockets ignore those, and so do we.
 * It is charged to the budget, in case one keeps coming.
 */
static void rx_drain(struct upath_stream *s, int fd, bool names, rx_fn fn,
		     void *ctx)
{
	struct upath_rx *rx = upath_rx;
	unsigned int budget = UPATH_BUDGET;

	while (budget) {
		unsigned int want = budget < UPATH_BATCH ? budget : UPATH_BATCH;
		uint64_t now;
		int n;

		rx_prepare(rx, want, names);
		n = recvmmsg(fd, rx->msg, want, MSG_DONTWAIT, NULL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			budget--;
			continue;
		}
		now = loop_now_ms();
		for (int i = 0; i < n && !s->dead; i++)
			fn(ctx, &rx->msg[i], rx->data[i], now);
		if (s->dead)
			break;	/* what else was read goes with the stream */
		budget -= (unsigned int)n;
		if ((unsigned int)n < want)
			break;
	}
}

/* ---- addresses ---- */

static uint16_t sa_port(const union upath_sa *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port :
						  a->in6.sin6_port);
}

/* A usable IPv4 or IPv6 address of len bytes. */
static bool sa_valid(const union upath_sa *a, socklen_t len)
{
	if (len >= sizeof(a->in) && a->sa.sa_family == AF_INET)
		return true;
	return len >= sizeof(a->in6) && a->sa.sa_family == AF_INET6;
}

/* Same family, address and port (scope and flow label do not count). */
static bool sa_equal(const union upath_sa *a, const union upath_sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return a->in6.sin6_port == b->in6.sin6_port &&
	       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
		       sizeof(a->in6.sin6_addr));
}

/*
 * The address as the kernel reports it: a v4-mapped IPv6 address (an
 * IPv4 client of a dual-stack socket) becomes IPv4.
 */
static void sa_report(struct sockaddr_storage *out, const union upath_sa *a)
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
	memcpy(out, a, a->sa.sa_family == AF_INET ? sizeof(a->in) :
						    sizeof(a->in6));
}

/* "192.0.2.1:53" or "[2001:db8::1]:53", for error messages. */
static void sa_format(const union upath_sa *a, char *buf, size_t len)
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

/* ---- hash tables ---- */

static struct upath_flow *flow_of(struct flowtab_node *n)
{
	return n ? flowtab_entry(n, struct upath_flow, node) : NULL;
}

/*
 * Seeded (with the seed of the id table), so that clients cannot choose
 * addresses that share a bucket.
 */
static uint32_t addr_hash(const struct upath_stream *s,
			  const union upath_sa *a)
{
	uint32_t h = s->flows.seed ^
		     ((uint32_t)a->sa.sa_family << 16 | sa_port(a));
	uint32_t w[4];

	if (a->sa.sa_family == AF_INET) {
		h = flowtab_mix32(h ^ a->in.sin_addr.s_addr);
	} else {
		memcpy(w, &a->in6.sin6_addr, sizeof(w));
		for (int i = 0; i < 4; i++)
			h = flowtab_mix32(h ^ w[i]);
	}
	return h & s->flows.mask;
}

static struct upath_flow *flow_lookup_id(const struct upath_stream *s,
					 uint32_t id)
{
	return flow_of(flowtab_lookup(&s->flows, id));
}

static struct upath_flow *flow_lookup_addr(const struct upath_stream *s,
					   const union upath_sa *a)
{
	struct upath_flow *flow;

	for (flow = s->by_addr[addr_hash(s, a)]; flow;
	     flow = flow->addr_next)
		if (sa_equal(&flow->peer, a))
			return flow;
	return NULL;
}

/* Between 20 ms and 1 s, as the kernel's garbage-collect work. */
static uint64_t gc_period(const struct upath_stream *s)
{
	uint32_t ms = s->idle_ms / 4;

	return ms < 20 ? 20 : ms > 1000 ? 1000 : ms;
}

/* Hash a new flow; the timer runs while the stream has flows. */
static void flow_link(struct upath_stream *s, struct upath_flow *flow)
{
	struct upath_flow **head;

	flowtab_insert(&s->flows, &flow->node);
	if (s->by_addr) {
		head = &s->by_addr[addr_hash(s, &flow->peer)];
		flow->addr_next = *head;
		if (*head)
			(*head)->addr_pprev = &flow->addr_next;
		flow->addr_pprev = head;
		*head = flow;
	}
	if (!s->gc.armed)
		loop_timer_arm(s->loop, &s->gc, gc_period(s));
}

static void flow_unlink(struct upath_stream *s, struct upath_flow *flow)
{
	flowtab_remove(&s->flows, &flow->node);
	if (s->by_addr) {
		*flow->addr_pprev = flow->addr_next;
		if (flow->addr_next)
			flow->addr_next->addr_pprev = flow->addr_pprev;
	}
}

/* Free an unhashed flow and close its socket, if it has one. */
static void flow_free(struct upath_stream *s, struct upath_flow *flow)
{
	if (flow->fd >= 0) {
		loop_del(s->loop, flow->fd);
		close(flow->fd);
	}
	free(flow);
}

/* ---- callbacks ---- */

static void stream_destroy(struct upath_stream *s);

/* A callback of s starts: s stays allocated until stream_release(). */
static void stream_hold(struct upath_stream *s)
{
	s->busy++;
}

/* It ends: free s if upath_stream_free() was called meanwhile. */
static void stream_release(struct upath_stream *s)
{
	if (!--s->busy && s->dead)
		stream_destroy(s);
}

/* ---- frames to the carrier ---- */

static void stream_count(struct upath_stream *s, int idx)
{
	s->st.v[idx]++;
}

/*
 * Send a datagram of flow as a DATA frame.  buf is a receive slot: the
 * payload (len bytes) is at FUNNEL_HDR_LEN, the header goes in front.
 * A datagram too big for a frame has still found (or made) its flow, as
 * in the kernel, but is dropped without refreshing it.
 */
static void stream_xmit(struct upath_stream *s, struct upath_flow *flow,
			uint8_t *buf, size_t len, bool toobig, uint64_t now)
{
	struct funnel_frame f = {
		.stream	= s->id,
		.type	= FUNNEL_T_DATA,
		.flags	= s->flags,
		.flow	= flow->node.id,
	};

	if (toobig || len > FUNNEL_MAX_PAYLOAD) {
		stream_count(s, FUNNEL_A_STATS_TX_DROP_TOOBIG);
		return;
	}
	funnel_hdr_encode(buf, &f);
	flow->last_used = now;
	switch (s->send(s->send_arg, buf, FUNNEL_HDR_LEN + len)) {
	case 0:
		break;
	case -EMSGSIZE:
		stream_count(s, FUNNEL_A_STATS_TX_DROP_TOOBIG);
		return;
	case -ENOKEY:
		stream_count(s, FUNNEL_A_STATS_TX_DROP_NO_KEY);
		return;
	default:
		stream_count(s, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	/* bytes are those of the frame, header included (no TCP prefix) */
	FST(&s->st, TX_FRAMES)++;
	FST(&s->st, TX_BYTES) += FUNNEL_HDR_LEN + len;
	flow->tx_frames++;
	flow->tx_bytes += FUNNEL_HDR_LEN + len;
}

/*
 * Tell the peer that flow id is gone.  Like the kernel, this counts on
 * the carrier only: a refused FLOW_END is the carrier's tx-drop-queue,
 * and the peer's own timer ends the flow there anyway.
 */
static void flow_end_send(struct upath_stream *s, uint32_t id)
{
	struct funnel_frame f = {
		.stream	= s->id,
		.type	= FUNNEL_T_FLOW_END,
		.flags	= s->flags,
		.flow	= id,
	};
	uint8_t hdr[FUNNEL_HDR_LEN];

	funnel_hdr_encode(hdr, &f);
	s->send(s->send_arg, hdr, sizeof(hdr));
}

/* ---- idle expiry ---- */

static void gc_cb(struct loop *l, void *arg)
{
	struct upath_stream *s = arg;
	struct upath_flow *expired = NULL, *flow, *next;
	struct flowtab_node *n, *tmp;
	uint64_t now = loop_now_ms();

	(void)l;
	stream_hold(s);
	/* unhash first: sending below must find none of them */
	flowtab_for_each(&s->flows, n, tmp) {
		flow = flow_of(n);
		if (now - flow->last_used < s->idle_ms)
			continue;
		flow_unlink(s, flow);
		flow->gc_next = expired;
		expired = flow;
	}
	if (s->flows.count)
		loop_timer_arm(s->loop, &s->gc, gc_period(s));

	for (flow = expired; flow; flow = next) {
		next = flow->gc_next;
		stream_count(s, FUNNEL_A_STATS_FLOWS_EXPIRED);
		if (!s->dead)
			flow_end_send(s, flow->node.id);
		flow_free(s, flow);
	}
	stream_release(s);
}

/* ---- udp-listen ---- */

/* Where a datagram was sent to, from its IP_PKTINFO or IPV6_PKTINFO. */
static void rx_local(struct msghdr *mh, struct upath_flow *flow)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			flow->local_family = AF_INET;
			flow->local.v4 = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >=
			   CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			flow->local_family = AF_INET6;
			flow->local.v6 = pi.ipi6_addr;
		}
	}
}

/*
 * A new flow within the stream's flow-max (else flow-drop-limit), not yet
 * in the table; oom names the counter of the datagram dropped when there
 * is no memory (its direction differs between the two kinds).
 */
static struct upath_flow *flow_alloc(struct upath_stream *s, uint64_t now,
				     int oom)
{
	struct upath_flow *flow;

	if (!flowtab_room(&s->flows, s->flow_max)) {
		stream_count(s, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
		return NULL;
	}
	flow = calloc(1, sizeof(*flow));
	if (!flow) {
		stream_count(s, oom);
		return NULL;
	}
	flow->s = s;
	flow->fd = -1;
	flow->last_used = now;
	return flow;
}

/*
 * A flow for a new client, within flow-max.  Its id is the next free one
 * (flowtab_alloc_id()); flows.count < flow_max <= 2^32 - 1 guarantees
 * one.
 */
static struct upath_flow *listen_flow_new(struct upath_stream *s,
					  struct msghdr *mh, uint64_t now)
{
	struct upath_flow *flow;

	flow = flow_alloc(s, now, FUNNEL_A_STATS_TX_DROP_QUEUE);
	if (!flow)
		return NULL;
	flow->peerlen = mh->msg_namelen < sizeof(flow->peer) ?
			mh->msg_namelen : sizeof(flow->peer);
	memcpy(&flow->peer, mh->msg_name, flow->peerlen);
	rx_local(mh, flow);
	flow->node.id = flowtab_alloc_id(&s->flows);
	flow_link(s, flow);
	stream_count(s, FUNNEL_A_STATS_FLOWS_CREATED);
	return flow;
}

static void listen_datagram(void *ctx, struct mmsghdr *m, uint8_t *slot,
			    uint64_t now)
{
	struct upath_stream *s = ctx;
	struct msghdr *mh = &m->msg_hdr;
	struct upath_flow *flow;

	if (!sa_valid(mh->msg_name, mh->msg_namelen))
		return;
	flow = flow_lookup_addr(s, mh->msg_name);
	if (!flow) {
		flow = listen_flow_new(s, mh, now);
		if (!flow)
			return;
	}
	stream_xmit(s, flow, slot, m->msg_len, mh->msg_flags & MSG_TRUNC, now);
}

static void listen_rx_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct upath_stream *s = arg;

	(void)l;
	(void)events;
	stream_hold(s);
	rx_drain(s, fd, true, listen_datagram, s);
	stream_release(s);
}

/*
 * Send a payload to the client of flow from the listening socket, from
 * the address the client sent to: a host with several addresses answers
 * from the right one, as the kernel's route lookup with that source does.
 * The interface is left to routing (and to the scope id of a link-local
 * client), also as in the kernel.
 */
static int listen_send(struct upath_stream *s, struct upath_flow *flow,
		       const uint8_t *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name	= &flow->peer,
		.msg_namelen	= flow->peerlen,
		.msg_iov	= &iov,
		.msg_iovlen	= 1,
	};
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	if (flow->local_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = flow->local.v4 };

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else if (flow->local_family == AF_INET6) {
		/* a v4-mapped source works for IPv4 clients too */
		struct in6_pktinfo pi = { .ipi6_addr = flow->local.v6 };

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	return sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/*
 * Datagrams leave without DF, as the kernel sends them (df 0): one larger
 * than the path MTU goes in fragments.  On a dual-stack IPv6 socket this
 * is for its IPv4 traffic.  Best effort: without it, DF is just set.
 */
static void sock_no_df(int fd)
{
	int v = IP_PMTUDISC_DONT;

	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
}

static int listen_open(struct upath_stream *s, char *err, size_t errlen)
{
	int family = s->addr.sa.sa_family, one = 1, zero = 0;
	char where[INET6_ADDRSTRLEN + 8];
	int fd, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "UDP socket: %s", strerror(errno));
		return -1;
	}
	/* dual stack whatever net.ipv6.bindv6only says; pktinfo of both */
	if ((family == AF_INET6 &&
	     (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			 sizeof(one)))) ||
	    (family == AF_INET &&
	     setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)))) {
		snprintf(err, errlen, "UDP socket options: %s",
			 strerror(errno));
		goto err;
	}
	sock_no_df(fd);
	if (bind(fd, &s->addr.sa, s->addrlen)) {
		sa_format(&s->addr, where, sizeof(where));
		snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
		goto err;
	}
	ret = loop_add(s->loop, fd, EPOLLIN, listen_rx_cb, s);
	if (ret) {
		snprintf(err, errlen, "event loop: %s", strerror(-ret));
		goto err;
	}
	s->fd = fd;
	return 0;

err:
	close(fd);
	return -1;
}

/* ---- udp-connect ---- */

/* A reply from the target. */
static void flow_datagram(void *ctx, struct mmsghdr *m, uint8_t *slot,
			  uint64_t now)
{
	struct upath_flow *flow = ctx;

	stream_xmit(flow->s, flow, slot, m->msg_len,
		    m->msg_hdr.msg_flags & MSG_TRUNC, now);
}

static void flow_rx_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct upath_flow *flow = arg;
	struct upath_stream *s = flow->s;

	(void)l;
	(void)events;
	stream_hold(s);		/* and so its flows, this one too */
	rx_drain(s, fd, false, flow_datagram, flow);
	stream_release(s);
}

/* The socket of a new flow: connected to the target, in the loop. */
static int flow_open(struct upath_stream *s, struct upath_flow *flow)
{
	int fd;

	fd = socket(s->addr.sa.sa_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	sock_no_df(fd);
	if (connect(fd, &s->addr.sa, s->addrlen) ||
	    loop_add(s->loop, fd, EPOLLIN, flow_rx_cb, flow)) {
		close(fd);
		return -1;
	}
	flow->fd = fd;
	return 0;
}

/*
 * A flow for a new flow id of the peer, within flow-max.  The kernel
 * counts flows-created before its work item makes the socket, and a
 * datagram that waited for a socket that could not be made is a queue
 * drop; the counters come out the same here.
 */
static struct upath_flow *connect_flow_new(struct upath_stream *s,
					   uint32_t id, uint64_t now)
{
	struct upath_flow *flow;

	flow = flow_alloc(s, now, FUNNEL_A_STATS_RX_DROP_QUEUE);
	if (!flow)
		return NULL;
	flow->node.id = id;
	stream_count(s, FUNNEL_A_STATS_FLOWS_CREATED);
	if (flow_open(s, flow)) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_QUEUE);
		free(flow);
		return NULL;
	}
	flow_link(s, flow);
	return flow;
}

/*
 * Send a payload to the target on the flow's socket.  An ICMP error that
 * came back for an earlier datagram fails the next send() once and is
 * then gone; the kernel's flow sockets send regardless, so try again.
 */
static int connect_send(struct upath_flow *flow, const uint8_t *buf,
			size_t len)
{
	for (int tries = 0; tries < 2; tries++) {
		if (send(flow->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
	}
	return -1;
}

/* ---- frames from the carrier ---- */

/* The peer ended flow id: drop it, without a reply, not as expired. */
static void flow_end(struct upath_stream *s, uint32_t id)
{
	struct upath_flow *flow = flow_lookup_id(s, id);

	if (!flow) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	flow_unlink(s, flow);
	flow_free(s, flow);
}

/* The order of checks and counters is funnel_stream_rcv()'s. */
void upath_stream_input(struct upath_stream *s, const struct funnel_frame *f)
{
	struct upath_flow *flow;
	uint64_t now;
	int ret;

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
	if (f->type == FUNNEL_T_FLOW_END) {
		flow_end(s, f->flow);
		return;
	}

	now = loop_now_ms();
	flow = flow_lookup_id(s, f->flow);
	if (!flow && s->kind == FUNNEL_STREAM_UDP_LISTEN) {
		stream_count(s, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	if (!flow) {
		flow = connect_flow_new(s, f->flow, now);
		if (!flow)
			return;
	}

	flow->last_used = now;
	flow->rx_frames++;
	flow->rx_bytes += FUNNEL_HDR_LEN + f->body_len;
	if (s->kind == FUNNEL_STREAM_UDP_LISTEN)
		ret = listen_send(s, flow, f->body, f->body_len);
	else
		ret = connect_send(flow, f->body, f->body_len);
	/* no route, no buffer, no such source address any more... */
	if (ret)
		stream_count(s, FUNNEL_A_STATS_RX_DROP_QUEUE);
}

/* ---- streams ---- */

static int check_cfg(const struct upath_stream_cfg *cfg, char *err,
		     size_t errlen)
{
	const union upath_sa *a = (const union upath_sa *)&cfg->addr;

	if (cfg->kind != FUNNEL_STREAM_UDP_LISTEN &&
	    cfg->kind != FUNNEL_STREAM_UDP_CONNECT) {
		snprintf(err, errlen, "stream kind %d is not a UDP kind",
			 cfg->kind);
		return -1;
	}
	if (!sa_valid(a, cfg->addrlen)) {
		snprintf(err, errlen, "stream address is not IPv4 or IPv6");
		return -1;
	}
	if (!sa_port(a)) {
		snprintf(err, errlen, "stream %s port is 0",
			 cfg->kind == FUNNEL_STREAM_UDP_LISTEN ? "local" :
								 "target");
		return -1;
	}
	return 0;
}

/* The flow id table; udp-listen's by-address one of the same size. */
static int alloc_hash(struct upath_stream *s)
{
	if (flowtab_init(&s->flows, s->flow_max))
		return -1;
	if (s->kind == FUNNEL_STREAM_UDP_LISTEN) {
		s->by_addr = calloc((size_t)s->flows.mask + 1,
				    sizeof(*s->by_addr));
		if (!s->by_addr)
			return -1;
	}
	return 0;
}

struct upath_stream *upath_stream_new(struct loop *l,
				      const struct upath_stream_cfg *cfg,
				      upath_send_fn send, void *send_arg,
				      char *err, size_t errlen)
{
	struct upath_stream *s;

	if (check_cfg(cfg, err, errlen))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || rx_get()) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->send = send;
	s->send_arg = send_arg;
	s->id = cfg->id;
	s->kind = cfg->kind;
	s->flags = cfg->unordered ? FUNNEL_F_UNORDERED : 0;
	memcpy(&s->addr, &cfg->addr, cfg->addrlen < sizeof(s->addr) ?
				     cfg->addrlen : sizeof(s->addr));
	s->addrlen = cfg->addrlen < sizeof(s->addr) ? cfg->addrlen :
						       sizeof(s->addr);
	s->idle_ms = cfg->idle_ms ? cfg->idle_ms : FUNNEL_FLOW_IDLE_DEFAULT_MS;
	s->flow_max = cfg->flow_max ? cfg->flow_max : FUNNEL_FLOW_MAX_DEFAULT;
	s->fd = -1;
	loop_timer_init(&s->gc, gc_cb, s);

	if (alloc_hash(s)) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	s->flows.budget = cfg->budget;
	if (s->kind == FUNNEL_STREAM_UDP_LISTEN && listen_open(s, err, errlen))
		goto err;
	return s;

err:
	upath_stream_free(s);
	return NULL;
}

static void stream_destroy(struct upath_stream *s)
{
	struct flowtab_node *n, *tmp;

	loop_timer_cancel(s->loop, &s->gc);
	if (s->fd >= 0) {
		loop_del(s->loop, s->fd);
		close(s->fd);
	}
	flowtab_for_each(&s->flows, n, tmp)
		flow_free(s, flow_of(n));
	flowtab_fini(&s->flows);
	free(s->by_addr);
	rx_put();
	free(s);
}

void upath_stream_free(struct upath_stream *s)
{
	if (!s)
		return;
	if (s->busy) {		/* from the carrier's send(), in a callback */
		s->dead = true;
		return;
	}
	stream_destroy(s);
}

void upath_stream_stats(const struct upath_stream *s, struct fstats *out)
{
	*out = s->st;
}

uint32_t upath_stream_nflows(const struct upath_stream *s)
{
	return s->flows.count;
}

/* What flow-get reports of a flow (funnel_nl_fill_flow()). */
static void flow_info(const struct upath_stream *s,
		      const struct upath_flow *flow, uint64_t now,
		      struct upath_flow_info *fi)
{
	union upath_sa local;
	socklen_t len = sizeof(local);
	uint64_t idle = now - flow->last_used;

	memset(fi, 0, sizeof(*fi));
	fi->id = flow->node.id;
	fi->idle_ms = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle;
	FST(&fi->st, RX_FRAMES) = flow->rx_frames;
	FST(&fi->st, RX_BYTES) = flow->rx_bytes;
	FST(&fi->st, TX_FRAMES) = flow->tx_frames;
	FST(&fi->st, TX_BYTES) = flow->tx_bytes;

	if (s->kind == FUNNEL_STREAM_UDP_CONNECT) {
		/* our end of the flow's socket, and the target */
		if (!getsockname(flow->fd, &local.sa, &len) &&
		    sa_valid(&local, len))
			sa_report(&fi->local, &local);
		sa_report(&fi->remote, &s->addr);
		return;
	}

	/* the address the client sent to, at the listening port */
	local = s->addr;
	if (flow->local_family == AF_INET) {
		memset(&local, 0, sizeof(local));
		local.in.sin_family = AF_INET;
		local.in.sin_addr = flow->local.v4;
		local.in.sin_port = s->addr.in.sin_port;
	} else if (flow->local_family == AF_INET6) {
		local.in6.sin6_addr = flow->local.v6;
	}
	sa_report(&fi->local, &local);
	sa_report(&fi->remote, &flow->peer);
}

void upath_stream_flows(const struct upath_stream *s,
			int (*fn)(const struct upath_flow_info *fi, void *arg),
			void *arg)
{
	struct upath_flow_info fi;
	struct flowtab_node *n, *tmp;
	uint64_t now = loop_now_ms();

	flowtab_for_each(&s->flows, n, tmp) {
		flow_info(s, flow_of(n), now, &fi);
		if (fn(&fi, arg))
			return;
	}
}
