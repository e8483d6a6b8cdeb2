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
 * Flow origins (FEAT_ORIGIN, control-protocol.md section 8): udp-listen
 * hands each new flow's origin (the client, the address it sent to) to
 * cfg->origin, which sends it in an ORIGIN message on stream 0;
 * udp-connect keeps what upath_flow_origin() gives it with the flow,
 * also when it comes first (then it waits in pend, an origintab of
 * UPATH_PEND_MAX at most).
 *
 * The stream/flow lifecycle shared with the TCP path is dpstream.c's:
 * flows by flow id, idle expiry, the carrier's send function, and the
 * rule that a stream freed from inside one of its own callbacks is only
 * marked dead and freed when the callback ends.  Here: the sockets, and
 * (udp-listen) a second hash table of the flows by client address.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/origin.h"
#include "funneld/datapath/dpstream.h"
#include "funneld/datapath/origintab.h"
#include "funneld/datapath/upath.h"

/* Datagrams per recvmmsg() call, and per wakeup of one socket. */
#define UPATH_BATCH		16
#define UPATH_BUDGET		64

/* A receive slot: room for the frame header, then the payload. */
#define UPATH_SLOT		(FUNNEL_HDR_LEN + FUNNEL_MAX_PAYLOAD)

/* Ancillary data of a received datagram: its destination address. */
#define UPATH_CTL_LEN		(CMSG_SPACE(sizeof(struct in6_pktinfo)) + \
				 CMSG_SPACE(sizeof(struct in_pktinfo)))

struct upath_flow {
	struct dp_flow dp;		/* dp.fd: udp-connect's socket */
	struct upath_flow *addr_next, **addr_pprev;	/* udp-listen */

	/* udp-listen: the client, as the listening socket reported it */
	union dp_sa peer;
	socklen_t peerlen;
	/* udp-listen: where the client sent its first datagram to */
	int local_family;		/* 0: unknown (no pktinfo) */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} local;
	/* udp-connect: the client at the peer's map (ORIGIN); family 0 */
	struct origin origin;
};

/*
 * ORIGIN messages waiting for their flow, per stream, at most: the race
 * they cover (an ORIGIN before its flow's first datagram) is short, and
 * a peer that sends ORIGIN for flows it never opens pins no more than
 * this (review M1 of issue 14).
 */
#define UPATH_PEND_MAX	64

struct upath_stream {
	struct dp_stream dp;		/* dp.fd: udp-listen's socket */
	int kind;
	struct upath_flow **by_addr;	/* udp-listen, as many buckets */
	/* udp-listen: tells the peer a new flow's origin, or NULL */
	void (*origin)(void *arg, uint32_t flow, const uint8_t *enc,
		       size_t len);
	/* udp-connect: origins waiting for their flow */
	struct origintab pend;
};

static struct upath_stream *ustream(const struct dp_stream *d)
{
	return dp_entry(d, struct upath_stream, dp);
}

static struct upath_flow *uflow(const struct dp_flow *f)
{
	return f ? dp_entry(f, struct upath_flow, dp) : NULL;
}

/*
 * Receive buffers, shared by every stream: the loop runs one callback at
 * a time and a callback is done with them when it returns.  About 1 MiB,
 * allocated with the first stream and freed with the last.
 */
struct upath_rx {
	struct mmsghdr msg[UPATH_BATCH];
	struct iovec iov[UPATH_BATCH];
	union dp_sa name[UPATH_BATCH];
	union {
		char buf[UPATH_CTL_LEN];
		struct cmsghdr align;
	} ctl[UPATH_BATCH];
	uint8_t data[UPATH_BATCH][UPATH_SLOT];
};

static struct dp_shared upath_rx;

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
static void rx_drain(struct dp_stream *s, int fd, bool names, rx_fn fn,
		     void *ctx)
{
	struct upath_rx *rx = upath_rx.p;
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

/* ---- the table by client address ---- */

/*
 * Seeded (with the seed of the id table), so that clients cannot choose
 * addresses that share a bucket.
 */
static uint32_t addr_hash(const struct upath_stream *s, const union dp_sa *a)
{
	uint32_t h = s->dp.flows.seed ^
		     ((uint32_t)a->sa.sa_family << 16 | dp_sa_port(a));
	uint32_t w[4];

	if (a->sa.sa_family == AF_INET) {
		h = flowtab_mix32(h ^ a->in.sin_addr.s_addr);
	} else {
		memcpy(w, &a->in6.sin6_addr, sizeof(w));
		for (int i = 0; i < 4; i++)
			h = flowtab_mix32(h ^ w[i]);
	}
	return h & s->dp.flows.mask;
}

static struct upath_flow *flow_lookup_addr(const struct upath_stream *s,
					   const union dp_sa *a)
{
	struct upath_flow *flow;

	for (flow = s->by_addr[addr_hash(s, a)]; flow;
	     flow = flow->addr_next)
		if (dp_sa_equal(&flow->peer, a))
			return flow;
	return NULL;
}

/* Hash a new flow; the timer runs while the stream has flows. */
static void flow_link(struct upath_stream *s, struct upath_flow *flow)
{
	struct upath_flow **head;

	dp_flow_link(&s->dp, &flow->dp);
	if (s->by_addr) {
		head = &s->by_addr[addr_hash(s, &flow->peer)];
		flow->addr_next = *head;
		if (*head)
			(*head)->addr_pprev = &flow->addr_next;
		flow->addr_pprev = head;
		*head = flow;
	}
}

static void flow_unlink(struct upath_stream *s, struct upath_flow *flow)
{
	dp_flow_unlink(&s->dp, &flow->dp);
	if (s->by_addr) {
		*flow->addr_pprev = flow->addr_next;
		if (flow->addr_next)
			flow->addr_next->addr_pprev = flow->addr_pprev;
	}
}

/* Free an unhashed flow and close its socket, if it has one. */
static void flow_free(struct dp_stream *s, struct dp_flow *flow)
{
	if (flow->fd >= 0) {
		loop_del(s->loop, flow->fd);
		close(flow->fd);
	}
	free(uflow(flow));
}

/* ---- frames to the carrier ---- */

/*
 * Send a datagram of flow as a DATA frame.  buf is a receive slot: the
 * payload (len bytes) is at FUNNEL_HDR_LEN, the header goes in front.
 * A datagram too big for a frame has still found (or made) its flow, as
 * in the kernel, but is dropped without refreshing it.
 */
static void stream_xmit(struct dp_stream *s, struct dp_flow *flow,
			uint8_t *buf, size_t len, bool toobig, uint64_t now)
{
	if (toobig || len > FUNNEL_MAX_PAYLOAD) {
		dp_count(s, FUNNEL_A_STATS_TX_DROP_TOOBIG);
		return;
	}
	dp_hdr(s, buf, FUNNEL_T_DATA, flow->node.id);
	flow->last_used = now;
	switch (dp_send(s, buf, FUNNEL_HDR_LEN + len)) {
	case 0:
		break;
	case -EMSGSIZE:
		dp_count(s, FUNNEL_A_STATS_TX_DROP_TOOBIG);
		return;
	case -ENOKEY:
		dp_count(s, FUNNEL_A_STATS_TX_DROP_NO_KEY);
		return;
	default:
		dp_count(s, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	dp_flow_tx(s, flow, FUNNEL_HDR_LEN + len);
}

/* ---- idle expiry ---- */

/* Unhash an idle flow at once: sending FLOW_END must find none of them. */
static bool expire_take(struct dp_stream *s, struct dp_flow *flow)
{
	flow_unlink(ustream(s), uflow(flow));
	return true;
}

/*
 * Tell the peer that the flow is gone (the peer's own timer ends it there
 * anyway if the carrier refuses that FLOW_END), and free it.
 */
static void expire(struct dp_stream *s, struct dp_flow *flow)
{
	if (!s->dead)
		dp_send_end(s, flow->node.id);
	flow_free(s, flow);
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

	if (!dp_flow_room(&s->dp))
		return NULL;
	flow = calloc(1, sizeof(*flow));
	if (!flow) {
		dp_count(&s->dp, oom);
		return NULL;
	}
	dp_flow_init(&s->dp, &flow->dp, now);
	return flow;
}

/* udp-listen: the address the client sent to, at the listening port. */
static void listen_local(const struct dp_stream *d,
			 const struct upath_flow *flow, union dp_sa *local)
{
	*local = d->addr;
	if (flow->local_family == AF_INET) {
		memset(local, 0, sizeof(*local));
		local->in.sin_family = AF_INET;
		local->in.sin_addr = flow->local.v4;
		local->in.sin_port = d->addr.in.sin_port;
	} else if (flow->local_family == AF_INET6) {
		local->in6.sin6_addr = flow->local.v6;
	}
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
	flow->dp.node.id = flowtab_alloc_id(&s->dp.flows);
	flow_link(s, flow);
	dp_count(&s->dp, FUNNEL_A_STATS_FLOWS_CREATED);
	if (s->origin) {
		uint8_t enc[ORIGIN_LEN_MAX];
		union dp_sa local;
		int n;

		listen_local(&s->dp, flow, &local);
		n = origin_encode(&flow->peer.sa, &local.sa, enc);
		if (n > 0)
			s->origin(s->dp.send_arg, flow->dp.node.id, enc,
				  (size_t)n);
	}
	return flow;
}

static void listen_datagram(void *ctx, struct mmsghdr *m, uint8_t *slot,
			    uint64_t now)
{
	struct upath_stream *s = ctx;
	struct msghdr *mh = &m->msg_hdr;
	struct upath_flow *flow;

	if (!dp_sa_valid(mh->msg_name, mh->msg_namelen))
		return;
	flow = flow_lookup_addr(s, mh->msg_name);
	if (!flow) {
		flow = listen_flow_new(s, mh, now);
		if (!flow)
			return;
	}
	stream_xmit(&s->dp, &flow->dp, slot, m->msg_len,
		    mh->msg_flags & MSG_TRUNC, now);
}

static void listen_rx_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct upath_stream *s = arg;

	(void)l;
	(void)events;
	dp_hold(&s->dp);
	rx_drain(&s->dp, fd, true, listen_datagram, s);
	dp_release(&s->dp);
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
	return sendmsg(s->dp.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -1 : 0;
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

/* The listening socket's options: 0, or -1 and errno. */
static int listen_opts(int fd, int family)
{
	int one = 1, zero = 0;

	/* dual stack whatever net.ipv6.bindv6only says; pktinfo of both */
	if ((family == AF_INET6 &&
	     (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			 sizeof(one)))) ||
	    (family == AF_INET &&
	     setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))))
		return -1;
	sock_no_df(fd);
	return 0;
}

/* ---- udp-connect ---- */

/* A reply from the target. */
static void flow_datagram(void *ctx, struct mmsghdr *m, uint8_t *slot,
			  uint64_t now)
{
	struct dp_flow *flow = ctx;

	stream_xmit(flow->s, flow, slot, m->msg_len,
		    m->msg_hdr.msg_flags & MSG_TRUNC, now);
}

static void flow_rx_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dp_flow *flow = arg;
	struct dp_stream *s = flow->s;

	(void)l;
	(void)events;
	dp_hold(s);		/* and so its flows, this one too */
	rx_drain(s, fd, false, flow_datagram, flow);
	dp_release(s);
}

/* The socket of a new flow: connected to the target, in the loop. */
static int flow_open(struct dp_stream *s, struct dp_flow *flow)
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
	flow->dp.node.id = id;
	origintab_take(&s->pend, id, &flow->origin);
	dp_count(&s->dp, FUNNEL_A_STATS_FLOWS_CREATED);
	if (flow_open(&s->dp, &flow->dp)) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
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
		if (send(flow->dp.fd, buf, len,
			 MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
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
	struct upath_flow *flow = uflow(dp_flow_lookup(&s->dp, id));

	if (!flow) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	flow_unlink(s, flow);
	flow_free(&s->dp, &flow->dp);
}

void upath_stream_input(struct upath_stream *s, const struct funnel_frame *f)
{
	struct upath_flow *flow;
	uint64_t now;
	int ret;

	if (!dp_input(&s->dp, f))
		return;
	if (f->type == FUNNEL_T_FLOW_END) {
		flow_end(s, f->flow);
		return;
	}

	now = loop_now_ms();
	flow = uflow(dp_flow_lookup(&s->dp, f->flow));
	if (!flow && s->kind == FUNNEL_STREAM_UDP_LISTEN) {
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	if (!flow) {
		flow = connect_flow_new(s, f->flow, now);
		if (!flow)
			return;
	}

	dp_flow_rx(&flow->dp, f->body_len, now);
	if (s->kind == FUNNEL_STREAM_UDP_LISTEN)
		ret = listen_send(s, flow, f->body, f->body_len);
	else
		ret = connect_send(flow, f->body, f->body_len);
	/* no route, no buffer, no such source address any more... */
	if (ret)
		dp_count(&s->dp, FUNNEL_A_STATS_RX_DROP_QUEUE);
}

static uint32_t upath_pend_max(const struct upath_stream *s)
{
	return s->dp.flow_max < UPATH_PEND_MAX ? s->dp.flow_max : UPATH_PEND_MAX;
}

void upath_flow_origin(struct upath_stream *s, uint32_t id,
		       const uint8_t *enc, size_t len)
{
	struct upath_flow *flow;
	struct origin o;

	if (s->kind != FUNNEL_STREAM_UDP_CONNECT || s->dp.dead ||
	    origin_parse(enc, len, &o, NULL))
		return;
	flow = uflow(dp_flow_lookup(&s->dp, id));
	if (flow)
		flow->origin = o;
	else
		origintab_put(&s->pend, id, &o);	/* the oldest out */
}

/* ---- streams ---- */

/* What flow-get reports of a flow (funnel_nl_fill_flow()). */
static void flow_addrs(const struct dp_stream *d, const struct dp_flow *f,
		       struct upath_flow_info *fi)
{
	const struct upath_stream *s = ustream(d);
	const struct upath_flow *flow = uflow(f);
	union dp_sa local;

	if (s->kind == FUNNEL_STREAM_UDP_CONNECT) {
		/* our end of the flow's socket, and the target */
		dp_sa_local(f->fd, &local);
		dp_sa_report(&fi->local, &local);
		dp_sa_report(&fi->remote, &d->addr);
		origin_sockaddr(&flow->origin, 0, &fi->origin);
		return;
	}

	/* the address the client sent to, at the listening port */
	listen_local(d, flow, &local);
	dp_sa_report(&fi->local, &local);
	dp_sa_report(&fi->remote, &flow->peer);
}

static void stream_destroy(struct dp_stream *d)
{
	struct upath_stream *s = ustream(d);

	origintab_fini(&s->pend);
	dp_stream_fini(d);
	free(s->by_addr);
	dp_shared_put(&upath_rx);
	free(s);
}

static const struct dp_ops upath_ops = {
	.destroy	= stream_destroy,
	.flow_free	= flow_free,
	.expire_take	= expire_take,
	.expire		= expire,
	.flow_addrs	= flow_addrs,
};

struct upath_stream *upath_stream_new(struct loop *l,
				      const struct upath_stream_cfg *cfg,
				      upath_send_fn send, void *send_arg,
				      char *err, size_t errlen)
{
	bool listen = cfg->kind == FUNNEL_STREAM_UDP_LISTEN;
	const struct dp_cfg dc = {
		.id		= cfg->id,
		.flags		= cfg->unordered ? FUNNEL_F_UNORDERED : 0,
		.addr		= &cfg->addr,
		.addrlen	= cfg->addrlen,
		.idle_ms	= cfg->idle_ms ? cfg->idle_ms :
					FUNNEL_FLOW_IDLE_DEFAULT_MS,
		.flow_max	= cfg->flow_max,
		.budget		= cfg->budget,
	};
	struct upath_stream *s;

	if (!listen && cfg->kind != FUNNEL_STREAM_UDP_CONNECT) {
		snprintf(err, errlen, "stream kind %d is not a UDP kind",
			 cfg->kind);
		return NULL;
	}
	if (dp_check_addr(&cfg->addr, cfg->addrlen, listen, err, errlen))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || dp_shared_get(&upath_rx, sizeof(struct upath_rx))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->kind = cfg->kind;
	s->origin = listen ? cfg->origin : NULL;
	if (dp_stream_init(&s->dp, &upath_ops, l, &dc, send, send_arg, err,
			   errlen))
		goto err;
	origintab_init(&s->pend, upath_pend_max(s));
	/* udp-listen: the table by address, as many buckets as by id */
	if (listen) {
		s->by_addr = calloc((size_t)s->dp.flows.mask + 1,
				    sizeof(*s->by_addr));
		if (!s->by_addr) {
			snprintf(err, errlen, "out of memory");
			goto err;
		}
		if (dp_listen_open(&s->dp, SOCK_DGRAM, listen_opts,
				   listen_rx_cb, s, err, errlen))
			goto err;
	}
	return s;

err:
	upath_stream_free(s);
	return NULL;
}

void upath_stream_free(struct upath_stream *s)
{
	if (s)
		dp_stream_free(&s->dp);
}

void upath_stream_stats(const struct upath_stream *s, struct fstats *out)
{
	dp_stream_stats(&s->dp, out);
}

uint32_t upath_stream_nflows(const struct upath_stream *s)
{
	return dp_stream_nflows(&s->dp);
}

void upath_stream_flows(const struct upath_stream *s,
			int (*fn)(const struct upath_flow_info *fi, void *arg),
			void *arg)
{
	dp_stream_flows(&s->dp, fn, arg);
}
