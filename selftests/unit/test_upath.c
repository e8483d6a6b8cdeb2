// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the flow origins of funneld's UDP path (ctl/funneld/
 * datapath/upath.c, control-protocol.md section 8), with real sockets
 * on loopback:
 *
 *   - udp-listen with origins: a new client's flow is announced once,
 *     with its address and the one it sent to; without, never
 *   - udp-connect: an ORIGIN before its flow waits and is taken when the
 *     flow is created; one for a flow that exists is kept at once; at
 *     most flow-max (or 64) wait, the oldest dropped first; malformed ones and
 *     those that wait when the stream is freed are dropped (ASan: no
 *     leak)
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/funnel.h>

#include "common/origin.h"
#include "funneld/datapath/upath.h"

/* The frames the stream sends, and the origins it announces. */
struct sink {
	struct loop *l;			/* stopped once want frames came */
	unsigned int want;
	unsigned int frames;
	unsigned int origins;
	uint32_t origin_flow;
	uint8_t origin[ORIGIN_LEN_MAX];
	size_t origin_len;
};

static int sink_send(void *arg, const uint8_t *frame, size_t len)
{
	struct sink *k = arg;

	(void)frame;
	(void)len;
	if (++k->frames == k->want && k->l)
		loop_stop(k->l);
	return 0;
}

static void sink_origin(void *arg, uint32_t flow, const uint8_t *enc,
			size_t len)
{
	struct sink *k = arg;

	k->origins++;
	k->origin_flow = flow;
	assert_true(len <= sizeof(k->origin));
	memcpy(k->origin, enc, len);
	k->origin_len = len;
}

static struct sockaddr_storage loopback(uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (void *)&ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return ss;
}

/* A UDP socket on 127.0.0.1 and its port. */
static int udp_sock(uint16_t *port)
{
	struct sockaddr_storage ss = loopback(0);
	socklen_t len = sizeof(struct sockaddr_in);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (void *)&ss, len), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (void *)&ss, &len), 0);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* The origin of a flow as flow-get reports it, as text; "" if none. */
struct seen {
	uint32_t id;
	char origin[ORIGIN_FORMAT_MAX];
};

static int seen_cb(const struct upath_flow_info *fi, void *arg)
{
	struct seen *s = arg;
	char host[INET_ADDRSTRLEN];
	const struct sockaddr_in *in = (const void *)&fi->origin;

	if (fi->id != s->id)
		return 0;
	if (fi->origin.ss_family != AF_INET) {
		s->origin[0] = '\0';
		return 1;
	}
	inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
	snprintf(s->origin, sizeof(s->origin), "%s:%u", host,
		 ntohs(in->sin_port));
	return 1;
}

static const char *origin_of(struct upath_stream *s, uint32_t id)
{
	static struct seen seen;

	memset(&seen, 0, sizeof(seen));
	seen.id = id;
	strcpy(seen.origin, "no flow");
	upath_stream_flows(s, seen_cb, &seen);
	return seen.origin;
}

/* An origin 192.0.2.N:1000+N -> 10.0.0.1:53, encoded. */
static size_t enc_origin(uint8_t out[ORIGIN_LEN_MAX], unsigned int n)
{
	struct sockaddr_storage src = loopback((uint16_t)(1000 + n));
	struct sockaddr_storage dst = loopback(53);

	((struct sockaddr_in *)&src)->sin_addr.s_addr =
		htonl(0xc0000200U | n);
	((struct sockaddr_in *)&dst)->sin_addr.s_addr = htonl(0x0a000001);
	return (size_t)origin_encode((void *)&src, (void *)&dst, out);
}

static void data(struct upath_stream *s, uint32_t flow)
{
	static const uint8_t body[] = "x";
	struct funnel_frame f = { .stream = 1, .type = FUNNEL_T_DATA,
				  .flow = flow, .body = body, .body_len = 1 };

	upath_stream_input(s, &f);
}

static void test_connect_origins(void **state)
{
	struct loop *l = loop_new();
	struct sink k = { 0 };
	uint16_t port;
	int target = udp_sock(&port);
	struct upath_stream_cfg cfg = {
		.id = 1, .kind = FUNNEL_STREAM_UDP_CONNECT,
		.addr = loopback(port), .addrlen = sizeof(struct sockaddr_in),
		.flow_max = 4,
	};
	uint8_t enc[ORIGIN_LEN_MAX];
	char err[128];
	struct upath_stream *s;
	size_t n;

	(void)state;
	assert_non_null(l);
	s = upath_stream_new(l, &cfg, sink_send, &k, err, sizeof(err));
	assert_non_null(s);
	/* five wait for flows 1..5: flow-max 4, so 1's is dropped */
	for (unsigned int i = 1; i <= 5; i++) {
		n = enc_origin(enc, i);
		upath_flow_origin(s, i, enc, n);
	}
	/* 3's again: replaced, not one more */
	n = enc_origin(enc, 33);
	upath_flow_origin(s, 3, enc, n);
	data(s, 1);
	data(s, 2);
	data(s, 3);
	assert_int_equal(upath_stream_nflows(s), 3);
	assert_string_equal(origin_of(s, 1), "");
	assert_string_equal(origin_of(s, 2), "192.0.2.2:1002");
	assert_string_equal(origin_of(s, 3), "192.0.2.33:1033");
	/* for a flow that exists: kept at once */
	n = enc_origin(enc, 7);
	upath_flow_origin(s, 1, enc, n);
	assert_string_equal(origin_of(s, 1), "192.0.2.7:1007");
	/* malformed: nothing changes */
	enc[0] = 5;
	upath_flow_origin(s, 2, enc, n);
	assert_string_equal(origin_of(s, 2), "192.0.2.2:1002");
	n = enc_origin(enc, 8);
	upath_flow_origin(s, 2, enc, n - 1);
	assert_string_equal(origin_of(s, 2), "192.0.2.2:1002");
	/* 4 and 5 still wait: freed with the stream */
	upath_stream_free(s);
	loop_free(l);
	close(target);
}

static void stop_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

/*
 * count datagrams of a client to the stream, and the loop runs until the
 * stream has sent them on (2 s at most).
 */
static void client_sends(struct loop *l, struct sink *k, int client,
			 uint16_t port, unsigned int count)
{
	struct sockaddr_storage to = loopback(port);
	struct loop_timer t = { 0 };

	for (unsigned int i = 0; i < count; i++)
		assert_int_equal(sendto(client, "q", 1, 0, (void *)&to,
					sizeof(struct sockaddr_in)), 1);
	k->l = l;
	k->want = k->frames + count;
	loop_timer_init(&t, stop_cb, NULL);
	loop_timer_arm(l, &t, 2000);
	assert_int_equal(loop_run(l), 0);
	loop_timer_cancel(l, &t);
}

static void test_listen_origins(void **state)
{
	struct loop *l = loop_new();
	struct sink k = { 0 };
	uint16_t port, cport;
	int hold = udp_sock(&port), client = udp_sock(&cport);
	struct upath_stream_cfg cfg = {
		.id = 1, .kind = FUNNEL_STREAM_UDP_LISTEN,
		.addrlen = sizeof(struct sockaddr_in), .origin = sink_origin,
	};
	struct origin o;
	char err[128], text[ORIGIN_FORMAT_MAX], want[ORIGIN_FORMAT_MAX];
	struct upath_stream *s;

	(void)state;
	close(hold);		/* a free port for the stream */
	cfg.addr = loopback(port);
	s = upath_stream_new(l, &cfg, sink_send, &k, err, sizeof(err));
	assert_non_null(s);
	client_sends(l, &k, client, port, 3);
	assert_int_equal(k.frames, 3);
	assert_int_equal(k.origins, 1);		/* one flow, once */
	assert_int_equal(k.origin_flow, 1);
	assert_int_equal(origin_parse(k.origin, k.origin_len, &o, NULL), 0);
	origin_format_src(&o, text, sizeof(text));
	snprintf(want, sizeof(want), "127.0.0.1:%u", cport);
	assert_string_equal(text, want);
	assert_int_equal(o.dport, port);
	assert_memory_equal(o.daddr, "\x7f\0\0\x01", 4);
	upath_stream_free(s);

	/* without origins: nothing announced */
	memset(&k, 0, sizeof(k));
	cfg.origin = NULL;
	s = upath_stream_new(l, &cfg, sink_send, &k, err, sizeof(err));
	assert_non_null(s);
	client_sends(l, &k, client, port, 1);
	assert_int_equal(k.frames, 1);
	assert_int_equal(k.origins, 0);
	upath_stream_free(s);
	loop_free(l);
	close(client);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_origins),
		cmocka_unit_test(test_listen_origins),
	};

	return cmocka_run_group_tests_name("upath", tests, NULL, NULL);
}
