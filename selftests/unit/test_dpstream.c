// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the stream/flow lifecycle that funneld's UDP and TCP
 * paths share (ctl/funneld/datapath/dpstream.c, sockaddr.c), through a
 * path of its own that records what the lifecycle asks of it:
 *
 *   - addresses: valid, equal, reported (v4-mapped as IPv4), formatted;
 *     the configuration checks and their messages
 *   - a stream freed inside one of its callbacks is destroyed once, when
 *     the callback ends, and sends nothing meanwhile
 *   - frames from the carrier: counted, dropped without a flow id or
 *     sealed; frames to it: header, FLOW_END, counters
 *   - idle expiry: only idle flows the path takes, counted, the timer
 *     again while flows are left, ending stops once the stream is dead
 *   - flow-get reports, flow-max, the listening socket's errors, the
 *     shared buffers
 */

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "funneld/datapath/dpstream.h"

/* ---- addresses ---- */

static union dp_sa v4(const char *host, uint16_t port)
{
	union dp_sa a = { .in.sin_family = AF_INET };

	a.in.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, host, &a.in.sin_addr), 1);
	return a;
}

static union dp_sa v6(const char *host, uint16_t port)
{
	union dp_sa a = { .in6.sin6_family = AF_INET6 };

	a.in6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, host, &a.in6.sin6_addr), 1);
	return a;
}

static void test_sockaddr(void **state)
{
	union dp_sa a = v4("192.0.2.1", 53), b = v6("2001:db8::1", 53);
	union dp_sa m = v6("::ffff:192.0.2.1", 5300), c, none = { 0 };
	struct sockaddr_storage out;
	char buf[DP_SA_FORMAT_MAX];

	(void)state;
	assert_true(dp_sa_valid(&a, sizeof(a.in)));
	assert_false(dp_sa_valid(&a, sizeof(a.in) - 1));
	assert_true(dp_sa_valid(&b, sizeof(b.in6)));
	assert_false(dp_sa_valid(&b, sizeof(a.in)));
	assert_false(dp_sa_valid(&none, sizeof(none)));
	assert_int_equal(dp_sa_port(&a), 53);
	assert_int_equal(dp_sa_size(&a), sizeof(a.in));
	assert_int_equal(dp_sa_size(&b), sizeof(b.in6));

	/* scope and flow label do not count; port and family do */
	c = b;
	c.in6.sin6_scope_id = 3;
	c.in6.sin6_flowinfo = htonl(7);
	assert_true(dp_sa_equal(&b, &c));
	c.in6.sin6_port = htons(54);
	assert_false(dp_sa_equal(&b, &c));
	assert_false(dp_sa_equal(&a, &m));

	dp_sa_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:53");
	dp_sa_format(&b, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:53");

	/* an IPv4 client of a dual-stack socket is reported as IPv4 */
	dp_sa_report(&out, &m);
	c = v4("192.0.2.1", 5300);
	assert_memory_equal(&out, &c.in, sizeof(c.in));
	dp_sa_report(&out, &b);
	assert_memory_equal(&out, &b.in6, sizeof(b.in6));
	memset(&out, 0xa5, sizeof(out));
	dp_sa_report(&out, &none);
	memset(&c, 0, sizeof(c));
	assert_memory_equal(&out, &c, sizeof(c));
}

/* Our end of a socket: what it is bound to, or zero without one. */
static void test_sockaddr_local(void **state)
{
	union dp_sa a = v4("127.0.0.1", 0), got;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, &a.sa, sizeof(a.in)), 0);
	dp_sa_local(fd, &got);
	assert_int_equal(got.sa.sa_family, AF_INET);
	assert_int_equal(got.in.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_not_equal(dp_sa_port(&got), 0);
	close(fd);
	memset(&got, 0xa5, sizeof(got));
	dp_sa_local(fd, &got);		/* closed: nothing */
	assert_int_equal(got.sa.sa_family, 0);
}

static void test_check_addr(void **state)
{
	union dp_sa a = v4("127.0.0.1", 0);
	struct sockaddr_storage ss = { 0 };
	char err[128];

	(void)state;
	memcpy(&ss, &a, sizeof(a.in));
	assert_int_equal(dp_check_addr(&ss, sizeof(a.in), true, err,
				       sizeof(err)), -1);
	assert_string_equal(err, "stream local port is 0");
	assert_int_equal(dp_check_addr(&ss, sizeof(a.in), false, err,
				       sizeof(err)), -1);
	assert_string_equal(err, "stream target port is 0");
	assert_int_equal(dp_check_addr(&ss, sizeof(a.in) - 1, false, err,
				       sizeof(err)), -1);
	assert_string_equal(err, "stream address is not IPv4 or IPv6");
	((struct sockaddr_in *)&ss)->sin_port = htons(53);
	assert_int_equal(dp_check_addr(&ss, sizeof(a.in), false, err,
				       sizeof(err)), 0);
}

/* ---- a path of the test's own ---- */

struct tflow {
	struct dp_flow dp;
	bool keep;		/* expire_take() leaves it */
	bool freed;
};

struct tstream {
	struct dp_stream dp;
	int destroyed;
	int sent;			/* frames send() was called with */
	int send_ret;			/* what send() returns */
	bool free_in_send;		/* send() frees the stream */
	uint8_t last[FUNNEL_HDR_LEN];	/* header of the last frame */
	size_t last_len;
	int expired;			/* expire() calls */
	int expired_live;		/* of those, while not dead */
	struct tflow flows[4];
};

static struct tstream *ts_of(struct dp_stream *s)
{
	return dp_entry(s, struct tstream, dp);
}

static void t_destroy(struct dp_stream *s)
{
	ts_of(s)->destroyed++;
	dp_stream_fini(s);
}

static void t_flow_free(struct dp_stream *s, struct dp_flow *flow)
{
	(void)s;
	dp_entry(flow, struct tflow, dp)->freed = true;
}

static bool t_expire_take(struct dp_stream *s, struct dp_flow *flow)
{
	struct tflow *f = dp_entry(flow, struct tflow, dp);

	if (f->keep)
		return false;
	dp_flow_unlink(s, flow);
	return true;
}

static void t_expire(struct dp_stream *s, struct dp_flow *flow)
{
	struct tstream *t = ts_of(s);

	t->expired++;
	if (!s->dead) {
		t->expired_live++;
		dp_send_end(s, flow->node.id);
	}
	t_flow_free(s, flow);
}

static void t_flow_addrs(const struct dp_stream *s, const struct dp_flow *flow,
			 struct upath_flow_info *fi)
{
	dp_sa_report(&fi->remote, &s->addr);
	fi->local.ss_family = (sa_family_t)flow->node.id;
}

static const struct dp_ops t_ops = {
	.destroy	= t_destroy,
	.flow_free	= t_flow_free,
	.expire_take	= t_expire_take,
	.expire		= t_expire,
	.flow_addrs	= t_flow_addrs,
};

static int t_send(void *arg, const uint8_t *frame, size_t len)
{
	struct tstream *t = arg;

	t->sent++;
	memcpy(t->last, frame, FUNNEL_HDR_LEN);
	t->last_len = len;
	if (t->free_in_send)
		dp_stream_free(&t->dp);
	return t->send_ret;
}

struct fixture {
	struct loop *loop;
	struct tstream t;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_storage ss = { 0 };
	union dp_sa a = v4("127.0.0.1", 5300);
	struct dp_cfg cfg = {
		.id = 9, .flags = FUNNEL_F_UNORDERED, .addr = &ss,
		.addrlen = sizeof(a.in), .idle_ms = 1000, .flow_max = 3,
	};
	char err[128];

	assert_non_null(fx);
	memcpy(&ss, &a, sizeof(a.in));
	fx->loop = loop_new();
	assert_non_null(fx->loop);
	assert_int_equal(dp_stream_init(&fx->t.dp, &t_ops, fx->loop, &cfg,
					t_send, &fx->t, err, sizeof(err)), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx->t.destroyed)
		dp_stream_free(&fx->t.dp);
	assert_int_equal(fx->t.destroyed, 1);
	loop_free(fx->loop);
	free(fx);
	return 0;
}

/* Flow i of the fixture, with id, last used at now, in the table. */
static struct tflow *add_flow(struct fixture *fx, int i, uint32_t id,
			      uint64_t now)
{
	struct tflow *f = &fx->t.flows[i];

	assert_true(dp_flow_room(&fx->t.dp));
	dp_flow_init(&fx->t.dp, &f->dp, now);
	assert_int_equal(f->dp.fd, -1);
	f->dp.node.id = id;
	dp_flow_link(&fx->t.dp, &f->dp);
	return f;
}

static void decode(const uint8_t *hdr, struct funnel_frame *f)
{
	assert_int_equal(funnel_frame_parse(hdr, FUNNEL_HDR_LEN, f),
			 FUNNEL_FRAME_OK);
}

/* ---- lifecycle ---- */

static void test_init(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;

	assert_int_equal(s->id, 9);
	assert_int_equal(s->fd, -1);
	assert_int_equal(s->flow_max, 3);
	assert_int_equal(dp_sa_port(&s->addr), 5300);
	assert_int_equal(s->addrlen, sizeof(s->addr.in));
	assert_int_equal(dp_stream_nflows(s), 0);
	assert_false(s->gc.armed);
}

/* flow-max 0 is the default */
static void test_init_defaults(void **state)
{
	struct sockaddr_storage ss = { 0 };
	struct dp_cfg cfg = { .addr = &ss, .addrlen = sizeof(ss) };
	struct tstream t = { 0 };
	struct loop *l = loop_new();
	char err[128];

	(void)state;
	ss.ss_family = AF_INET6;
	assert_int_equal(dp_stream_init(&t.dp, &t_ops, l, &cfg, t_send, &t,
					err, sizeof(err)), 0);
	assert_int_equal(t.dp.flow_max, FUNNEL_FLOW_MAX_DEFAULT);
	assert_int_equal(t.dp.addrlen, sizeof(union dp_sa));
	dp_stream_free(&t.dp);
	assert_int_equal(t.destroyed, 1);
	loop_free(l);
}

/*
 * The carrier's send() frees the stream from inside a callback: it is
 * destroyed when the callback ends, not before, and sends nothing more.
 */
static void test_free_in_callback(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;

	add_flow(fx, 0, 5, loop_now_ms());
	fx->t.free_in_send = true;
	dp_hold(s);
	dp_hold(s);			/* a nested callback */
	assert_int_equal(dp_send_end(s, 5), 0);
	assert_int_equal(fx->t.sent, 1);
	assert_true(s->dead);
	assert_int_equal(fx->t.destroyed, 0);
	assert_int_equal(dp_send_end(s, 5), -1);
	assert_int_equal(fx->t.sent, 1);
	dp_release(s);
	assert_int_equal(fx->t.destroyed, 0);
	dp_release(s);
	assert_int_equal(fx->t.destroyed, 1);
	assert_true(fx->t.flows[0].freed);
}

static void test_frames_out(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;
	struct tflow *f = add_flow(fx, 0, 0x01020304, 0);
	struct funnel_frame fr;
	uint8_t hdr[FUNNEL_HDR_LEN];

	dp_hdr(s, hdr, FUNNEL_T_DATA, f->dp.node.id);
	decode(hdr, &fr);
	assert_int_equal(fr.stream, 9);
	assert_int_equal(fr.type, FUNNEL_T_DATA);
	assert_int_equal(fr.flags, FUNNEL_F_UNORDERED);
	assert_int_equal(fr.flow, 0x01020304);

	fx->t.send_ret = -ENOBUFS;
	assert_int_equal(dp_send_end(s, 77), -ENOBUFS);
	decode(fx->t.last, &fr);
	assert_int_equal(fr.type, FUNNEL_T_FLOW_END);
	assert_int_equal(fr.flow, 77);
	assert_int_equal(fx->t.last_len, FUNNEL_HDR_LEN);
	/* FLOW_END counts on the carrier only */
	assert_int_equal(FST(&s->st, TX_FRAMES), 0);

	dp_flow_tx(s, &f->dp, 108);
	dp_flow_tx(s, &f->dp, 8);
	assert_int_equal(FST(&s->st, TX_FRAMES), 2);
	assert_int_equal(FST(&s->st, TX_BYTES), 116);
	assert_int_equal(f->dp.tx_frames, 2);
	assert_int_equal(f->dp.tx_bytes, 116);
}

static void test_frames_in(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;
	struct funnel_frame data = { .type = FUNNEL_T_DATA, .flow = 1,
				     .body_len = 100 };
	struct funnel_frame end = { .type = FUNNEL_T_FLOW_END, .flow = 1 };
	struct funnel_frame noflow = { .type = FUNNEL_T_DATA, .body_len = 1 };
	struct funnel_frame sealed = { .type = FUNNEL_T_DATA, .flow = 1,
				       .flags = FUNNEL_F_SEALED };
	struct funnel_frame ctrl = { .type = FUNNEL_T_CTRL, .flow = 1 };
	struct tflow *f = add_flow(fx, 0, 1, 0);

	assert_true(dp_input(s, &data));
	assert_true(dp_input(s, &end));
	assert_false(dp_input(s, &noflow));
	assert_false(dp_input(s, &sealed));
	assert_false(dp_input(s, &ctrl));	/* not ours: not counted */
	assert_int_equal(FST(&s->st, RX_FRAMES), 4);
	assert_int_equal(FST(&s->st, RX_BYTES), 4 * FUNNEL_HDR_LEN + 101);
	assert_int_equal(FST(&s->st, RX_DROP_MALFORMED), 1);
	assert_int_equal(FST(&s->st, RX_DROP_NO_KEY), 1);

	dp_flow_rx(&f->dp, 100, 12345);
	assert_int_equal(f->dp.last_used, 12345);
	assert_int_equal(f->dp.rx_frames, 1);
	assert_int_equal(f->dp.rx_bytes, FUNNEL_HDR_LEN + 100);
	assert_ptr_equal(dp_flow_lookup(s, 1), &f->dp);
	assert_null(dp_flow_lookup(s, 2));
}

/* flow-max 3: the fourth is refused and counted */
static void test_flow_max(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;

	for (int i = 0; i < 3; i++)
		add_flow(fx, i, (uint32_t)i + 1, loop_now_ms());
	assert_int_equal(dp_stream_nflows(s), 3);
	assert_false(dp_flow_room(s));
	assert_int_equal(FST(&s->st, FLOW_DROP_LIMIT), 1);
	dp_flow_unlink(s, &fx->t.flows[2].dp);
	assert_true(dp_flow_room(s));
	assert_int_equal(FST(&s->st, FLOW_DROP_LIMIT), 1);
}

/* The timer that expires idle flows, fired by hand as the loop would. */
static void fire_gc(struct dp_stream *s)
{
	assert_true(s->gc.armed);
	loop_timer_cancel(s->loop, &s->gc);
	s->gc.cb(s->loop, s->gc.arg);
}

static void test_expiry(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;
	uint64_t now = loop_now_ms();
	struct funnel_frame fr;

	add_flow(fx, 0, 1, now - 5000);		/* idle */
	add_flow(fx, 1, 2, now);		/* busy */
	add_flow(fx, 2, 3, now - 5000)->keep = true;	/* not taken */
	assert_true(s->gc.armed);
	/* idle 1000 ms: every 250 ms */
	assert_true(s->gc.when <= loop_now_ms() + 250);
	fire_gc(s);
	assert_int_equal(fx->t.expired, 1);
	assert_true(fx->t.flows[0].freed);
	assert_false(fx->t.flows[1].freed);
	assert_int_equal(FST(&s->st, FLOWS_EXPIRED), 1);
	assert_int_equal(fx->t.sent, 1);
	decode(fx->t.last, &fr);
	assert_int_equal(fr.type, FUNNEL_T_FLOW_END);
	assert_int_equal(fr.flow, 1);
	assert_int_equal(dp_stream_nflows(s), 2);
	assert_true(s->gc.armed);		/* flows are left */

	dp_flow_unlink(s, &fx->t.flows[1].dp);
	dp_flow_unlink(s, &fx->t.flows[2].dp);
	fire_gc(s);
	assert_false(s->gc.armed);		/* none left */
}

/*
 * The carrier frees the stream while the first expired flow ends: the
 * others are still ended by the path (it frees them) but send nothing,
 * and the stream is destroyed after the timer's callback.
 */
static void test_expiry_freed(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;
	uint64_t old = loop_now_ms() - 5000;

	for (int i = 0; i < 3; i++)
		add_flow(fx, i, (uint32_t)i + 1, old);
	fx->t.free_in_send = true;
	fire_gc(s);
	assert_int_equal(fx->t.sent, 1);
	assert_int_equal(fx->t.expired, 3);
	assert_int_equal(fx->t.expired_live, 1);
	assert_int_equal(fx->t.destroyed, 1);
	for (int i = 0; i < 3; i++)
		assert_true(fx->t.flows[i].freed);
}

/* No idle timeout: no timer. */
static void test_no_expiry(void **state)
{
	struct fixture *fx = *state;

	fx->t.dp.idle_ms = 0;
	add_flow(fx, 0, 1, 0);
	assert_false(fx->t.dp.gc.armed);
}

struct seen {
	int n;
	struct upath_flow_info fi[4];
	int stop_after;
};

static int seen_cb(const struct upath_flow_info *fi, void *arg)
{
	struct seen *s = arg;

	s->fi[s->n++] = *fi;
	return s->n == s->stop_after;
}

static void test_flow_reports(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;
	struct seen seen = { 0 };
	struct tflow *f = add_flow(fx, 0, 7, loop_now_ms() - 1500);
	union dp_sa remote;

	add_flow(fx, 1, 8, 0);			/* idle since boot */
	f->dp.rx_frames = 1;
	f->dp.rx_bytes = 2;
	f->dp.tx_frames = 3;
	f->dp.tx_bytes = 4;
	dp_stream_flows(s, seen_cb, &seen);
	assert_int_equal(seen.n, 2);
	for (int i = 0; i < 2; i++) {
		const struct upath_flow_info *fi = &seen.fi[i];

		/* the path's addresses */
		assert_int_equal(fi->local.ss_family, fi->id);
		memcpy(&remote, &fi->remote, sizeof(remote));
		assert_int_equal(dp_sa_port(&remote), 5300);
		if (fi->id != 7)
			continue;
		assert_true(fi->idle_ms >= 1500 && fi->idle_ms < 60000);
		assert_int_equal(FST(&fi->st, RX_FRAMES), 1);
		assert_int_equal(FST(&fi->st, RX_BYTES), 2);
		assert_int_equal(FST(&fi->st, TX_FRAMES), 3);
		assert_int_equal(FST(&fi->st, TX_BYTES), 4);
	}
	/* fn stops the walk */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	dp_stream_flows(s, seen_cb, &seen);
	assert_int_equal(seen.n, 1);
}

/* ---- the listening socket ---- */

static int no_opts(int fd, int family)
{
	(void)fd;
	(void)family;
	return 0;
}

static int bad_opts(int fd, int family)
{
	(void)fd;
	(void)family;
	errno = ENOPROTOOPT;
	return -1;
}

static void no_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	(void)arg;
}

static void test_listen(void **state)
{
	struct fixture *fx = *state;
	struct dp_stream *s = &fx->t.dp;
	struct tstream other = { 0 };
	struct sockaddr_storage ss = { 0 };
	struct dp_cfg cfg = { .addr = &ss };
	char err[128], want[128];
	union dp_sa bound;
	int client;

	/* bind port 0, then a second stream on the port it got */
	s->addr.in.sin_port = 0;
	assert_int_equal(dp_listen_open(s, SOCK_STREAM, no_opts, no_cb, NULL,
					err, sizeof(err)), 0);
	assert_true(s->fd >= 0);
	dp_sa_local(s->fd, &bound);
	/* it listens: a connection is made (into the backlog) */
	client = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(client >= 0);
	assert_int_equal(connect(client, &bound.sa, sizeof(bound.in)), 0);
	close(client);
	memcpy(&ss, &bound, sizeof(bound.in));
	cfg.addrlen = sizeof(bound.in);
	assert_int_equal(dp_stream_init(&other.dp, &t_ops, fx->loop, &cfg,
					t_send, &other, err, sizeof(err)), 0);
	assert_int_equal(dp_listen_open(&other.dp, SOCK_STREAM, no_opts,
					no_cb, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "bind 127.0.0.1:%u: %s",
		 dp_sa_port(&bound), strerror(EADDRINUSE));
	assert_string_equal(err, want);
	assert_int_equal(other.dp.fd, -1);
	assert_int_equal(dp_listen_open(&other.dp, SOCK_DGRAM, bad_opts,
					no_cb, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "UDP socket options: %s",
		 strerror(ENOPROTOOPT));
	assert_string_equal(err, want);
	dp_stream_free(&other.dp);
	assert_int_equal(other.destroyed, 1);
}

/* ---- shared buffers ---- */

static void test_shared(void **state)
{
	struct dp_shared sh = { 0 };
	void *p;

	(void)state;
	assert_int_equal(dp_shared_get(&sh, 100), 0);
	p = sh.p;
	assert_non_null(p);
	assert_int_equal(dp_shared_get(&sh, 100), 0);
	assert_ptr_equal(sh.p, p);		/* one buffer for both */
	dp_shared_put(&sh);
	assert_ptr_equal(sh.p, p);
	dp_shared_put(&sh);
	assert_null(sh.p);
	assert_int_equal(sh.users, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_sockaddr_local),
		cmocka_unit_test(test_check_addr),
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_shared),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_init),
		T(test_free_in_callback),
		T(test_frames_out),
		T(test_frames_in),
		T(test_flow_max),
		T(test_expiry),
		T(test_expiry_freed),
		T(test_no_expiry),
		T(test_flow_reports),
		T(test_listen),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
