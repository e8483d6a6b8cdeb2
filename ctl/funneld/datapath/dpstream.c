// SPDX-License-Identifier: GPL-2.0
/*
 * The stream/flow lifecycle that funneld's UDP and TCP paths share
 * (dpstream.h): creation, the flow id table, idle expiry, the callbacks
 * that keep a stream alive, frames to the carrier, flow-get reports.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "funneld/datapath/dpstream.h"

/* ---- streams ---- */

int dp_check_addr(const struct sockaddr_storage *addr, socklen_t addrlen,
		  bool listen, char *err, size_t errlen)
{
	const union dp_sa *a = (const union dp_sa *)addr;

	if (!dp_sa_valid(a, addrlen)) {
		snprintf(err, errlen, "stream address is not IPv4 or IPv6");
		return -1;
	}
	if (!dp_sa_port(a)) {
		snprintf(err, errlen, "stream %s port is 0",
			 listen ? "local" : "target");
		return -1;
	}
	return 0;
}

static void gc_cb(struct loop *l, void *arg);

int dp_stream_init(struct dp_stream *s, const struct dp_ops *ops,
		   struct loop *l, const struct dp_cfg *cfg,
		   upath_send_fn send, void *send_arg, char *err,
		   size_t errlen)
{
	s->ops = ops;
	s->loop = l;
	s->send = send;
	s->send_arg = send_arg;
	s->id = cfg->id;
	s->flags = cfg->flags;
	s->addrlen = cfg->addrlen < sizeof(s->addr) ? cfg->addrlen :
						       sizeof(s->addr);
	memcpy(&s->addr, cfg->addr, s->addrlen);
	s->idle_ms = cfg->idle_ms;
	s->flow_max = cfg->flow_max ? cfg->flow_max : FUNNEL_FLOW_MAX_DEFAULT;
	s->fd = -1;
	loop_timer_init(&s->gc, gc_cb, s);
	if (flowtab_init(&s->flows, s->flow_max)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->flows.budget = cfg->budget;
	return 0;
}

int dp_listen_open(struct dp_stream *s, int type,
		   int (*opts)(int fd, int family), loop_fd_cb cb, void *arg,
		   char *err, size_t errlen)
{
	const char *proto = type == SOCK_STREAM ? "TCP" : "UDP";
	int family = s->addr.sa.sa_family;
	char where[DP_SA_FORMAT_MAX];
	int fd, ret;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s socket: %s", proto, strerror(errno));
		return -1;
	}
	if (opts(fd, family)) {
		snprintf(err, errlen, "%s socket options: %s", proto,
			 strerror(errno));
		goto err;
	}
	dp_sa_format(&s->addr, where, sizeof(where));
	if (bind(fd, &s->addr.sa, s->addrlen)) {
		snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
		goto err;
	}
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN)) {
		snprintf(err, errlen, "listen %s: %s", where, strerror(errno));
		goto err;
	}
	ret = loop_add(s->loop, fd, EPOLLIN, cb, arg);
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

void dp_stream_free(struct dp_stream *s)
{
	if (s->busy) {		/* from the carrier's send(), in a callback */
		s->dead = true;
		return;
	}
	s->ops->destroy(s);
}

void dp_stream_fini(struct dp_stream *s)
{
	struct flowtab_node *n, *tmp;

	loop_timer_cancel(s->loop, &s->gc);
	if (s->fd >= 0) {
		loop_del(s->loop, s->fd);
		close(s->fd);
	}
	flowtab_for_each(&s->flows, n, tmp)
		s->ops->flow_free(s, dp_flow_of(n));
	flowtab_fini(&s->flows);
}

void dp_release(struct dp_stream *s)
{
	if (!--s->busy && s->dead)
		s->ops->destroy(s);
}

/* The order of checks and counters is funnel_stream_rcv()'s. */
bool dp_input(struct dp_stream *s, const struct funnel_frame *f)
{
	if (f->type != FUNNEL_T_DATA && f->type != FUNNEL_T_FLOW_END)
		return false;	/* not ours: the carrier's bug */
	FST(&s->st, RX_FRAMES)++;
	FST(&s->st, RX_BYTES) += FUNNEL_HDR_LEN + f->body_len;

	if (!f->flow) {
		dp_count(s, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return false;
	}
	if (f->flags & FUNNEL_F_SEALED) {	/* no key on this stream */
		dp_count(s, FUNNEL_A_STATS_RX_DROP_NO_KEY);
		return false;
	}
	return true;
}

/* ---- frames to the carrier ---- */

void dp_hdr(const struct dp_stream *s, uint8_t out[FUNNEL_HDR_LEN],
	    uint8_t type, uint32_t flow)
{
	struct funnel_frame f = {
		.stream	= s->id,
		.type	= type,
		.flags	= s->flags,
		.flow	= flow,
	};

	funnel_hdr_encode(out, &f);
}

int dp_send(struct dp_stream *s, const uint8_t *frame, size_t len)
{
	if (s->dead)
		return -1;
	return s->send(s->send_arg, frame, len);
}

int dp_send_end(struct dp_stream *s, uint32_t id)
{
	uint8_t hdr[FUNNEL_HDR_LEN];

	dp_hdr(s, hdr, FUNNEL_T_FLOW_END, id);
	return dp_send(s, hdr, sizeof(hdr));
}

int dp_send_reset(struct dp_stream *s, uint32_t id)
{
	uint8_t hdr[FUNNEL_HDR_LEN];

	dp_hdr(s, hdr, FUNNEL_T_FLOW_END, id);
	hdr[3] |= FUNNEL_F_RESET;
	return dp_send(s, hdr, sizeof(hdr));
}

/* ---- flows ---- */

bool dp_flow_room(struct dp_stream *s)
{
	if (flowtab_room(&s->flows, s->flow_max))
		return true;
	dp_count(s, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
	return false;
}

void dp_flow_init(struct dp_stream *s, struct dp_flow *flow, uint64_t now)
{
	flow->s = s;
	flow->fd = -1;
	flow->last_used = now;
}

/* Between 20 ms and 1 s, as the kernel's garbage-collect work. */
static uint64_t gc_period(const struct dp_stream *s)
{
	uint32_t ms = s->idle_ms / 4;

	return ms < 20 ? 20 : ms > 1000 ? 1000 : ms;
}

void dp_flow_link(struct dp_stream *s, struct dp_flow *flow)
{
	flowtab_insert(&s->flows, &flow->node);
	if (s->idle_ms && !s->gc.armed)
		loop_timer_arm(s->loop, &s->gc, gc_period(s));
}

void dp_flow_rx(struct dp_flow *flow, size_t body_len, uint64_t now)
{
	flow->last_used = now;
	flow->rx_frames++;
	flow->rx_bytes += FUNNEL_HDR_LEN + body_len;
}

void dp_flow_tx(struct dp_stream *s, struct dp_flow *flow, size_t len)
{
	/* bytes are those of the frame, header included (no TCP prefix) */
	FST(&s->st, TX_FRAMES)++;
	FST(&s->st, TX_BYTES) += len;
	flow->tx_frames++;
	flow->tx_bytes += len;
}

/* ---- idle expiry ---- */

/*
 * Take the idle flows first, then end them: ending one may send frames,
 * and the carrier's send() may free the stream (which the path's expire
 * then sees in s->dead).
 */
static void gc_cb(struct loop *l, void *arg)
{
	struct dp_stream *s = arg;
	struct dp_flow *expired = NULL, *flow, *next;
	struct flowtab_node *n, *tmp;
	uint64_t now = loop_now_ms();

	(void)l;
	dp_hold(s);
	flowtab_for_each(&s->flows, n, tmp) {
		flow = dp_flow_of(n);
		if (now - flow->last_used < s->idle_ms ||
		    !s->ops->expire_take(s, flow))
			continue;
		flow->gc_next = expired;
		expired = flow;
	}
	if (s->flows.count)
		loop_timer_arm(s->loop, &s->gc, gc_period(s));

	for (flow = expired; flow; flow = next) {
		next = flow->gc_next;
		dp_count(s, FUNNEL_A_STATS_FLOWS_EXPIRED);
		s->ops->expire(s, flow);
	}
	dp_release(s);
}

/* ---- reports ---- */

void dp_stream_flows(const struct dp_stream *s,
		     int (*fn)(const struct upath_flow_info *fi, void *arg),
		     void *arg)
{
	struct upath_flow_info fi;
	struct flowtab_node *n, *tmp;
	const struct dp_flow *flow;
	uint64_t now = loop_now_ms(), idle;

	flowtab_for_each(&s->flows, n, tmp) {
		flow = dp_flow_of(n);
		idle = now - flow->last_used;
		memset(&fi, 0, sizeof(fi));
		fi.id = flow->node.id;
		fi.idle_ms = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle;
		FST(&fi.st, RX_FRAMES) = flow->rx_frames;
		FST(&fi.st, RX_BYTES) = flow->rx_bytes;
		FST(&fi.st, TX_FRAMES) = flow->tx_frames;
		FST(&fi.st, TX_BYTES) = flow->tx_bytes;
		s->ops->flow_addrs(s, flow, &fi);
		if (fn(&fi, arg))
			return;
	}
}

/* ---- buffers ---- */

int dp_shared_get(struct dp_shared *sh, size_t size)
{
	if (!sh->users) {
		sh->p = malloc(size);
		if (!sh->p)
			return -1;
	}
	sh->users++;
	return 0;
}

void dp_shared_put(struct dp_shared *sh)
{
	if (--sh->users)
		return;
	free(sh->p);
	sh->p = NULL;
}
