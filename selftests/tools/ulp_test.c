// SPDX-License-Identifier: GPL-2.0
/*
 * ulp_test: exercise the "funnel" TCP ULP on loopback from userspace, one
 * TAP line per check.  Runs in the test VM (the module must be loadable;
 * attaching the ULP autoloads it).
 *
 * usage: ulp_test [CHECK...]   (default: all checks)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/funnel.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static int failures;

#define CHECK(cond, name, ...) do {					\
	if (cond) {							\
		printf("ok - ulp: %s\n", name);				\
	} else {							\
		failures++;						\
		printf("not ok - ulp: %s: ", name);			\
		printf(__VA_ARGS__);					\
		printf(" (errno %d %s)\n", errno, strerror(errno));	\
	}								\
	fflush(stdout);							\
} while (0)

struct pair {
	int a, b;	/* connected ends; a connected to b */
};

static int tcp_pair(int family, struct pair *p)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int l, one = 1;

	l = socket(family, SOCK_STREAM, 0);
	if (l < 0)
		return -1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(l, (struct sockaddr *)&ss, len) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&ss, &len))
		goto err;
	p->a = socket(family, SOCK_STREAM, 0);
	if (p->a < 0 || connect(p->a, (struct sockaddr *)&ss, len))
		goto err;
	p->b = accept(l, NULL, NULL);
	if (p->b < 0)
		goto err;
	close(l);
	return 0;
err:
	close(l);
	return -1;
}

static int attach(int fd)
{
	return setsockopt(fd, SOL_TCP, TCP_ULP, "funnel", sizeof("funnel"));
}

/* A lost frame must fail a check, not hang the run: 10 s timeouts. */
static void timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 10 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int funnel_pair(int family, struct pair *p)
{
	if (tcp_pair(family, p))
		return -1;
	timeouts(p->a);
	timeouts(p->b);
	if (attach(p->a) || attach(p->b))
		return -1;
	return 0;
}

static void close_pair(struct pair *p)
{
	close(p->a);
	close(p->b);
}

/* A frame of len bytes (header included) whose body is a pattern
 * derived from seed, so the receiver can check it without a copy.
 */
static size_t make_frame(uint8_t *buf, size_t len, uint16_t stream,
			 uint8_t type, uint32_t flow, uint32_t seed)
{
	struct funnel_hdr *h = (struct funnel_hdr *)buf;
	size_t i;

	h->stream = htons(stream);
	h->type = type;
	h->flags = 0;
	h->flow = htonl(flow);
	for (i = FUNNEL_HDR_LEN; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7);
	return len;
}

static bool frame_ok(const uint8_t *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = FUNNEL_HDR_LEN; i < len; i++)
		if (buf[i] != (uint8_t)(seed * 131 + i * 7))
			return false;
	return true;
}

static uint8_t sbuf[FUNNEL_MAX_FRAME + 16], rbuf[FUNNEL_MAX_FRAME + 16];

static void t_attach(void)
{
	struct pair p;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	CHECK(attach(fd) < 0 && errno == ENOTCONN, "attach-unconnected-refused",
	      "expected ENOTCONN");
	close(fd);

	CHECK(tcp_pair(AF_INET, &p) == 0 && attach(p.a) == 0,
	      "attach-connected-v4", "setsockopt TCP_ULP funnel failed");
	errno = 0;
	CHECK(attach(p.a) < 0 && errno == EEXIST, "attach-twice-refused",
	      "expected EEXIST");
	close_pair(&p);

	CHECK(funnel_pair(AF_INET6, &p) == 0, "attach-connected-v6",
	      "IPv6 pair");
	close_pair(&p);
}

static void t_roundtrip(int family, const char *name)
{
	static const size_t sizes[] = { 8, 9, 100, 1400, 4096, 9000, 32768,
					65534, 65535 };
	struct pair p;
	bool ok = true;
	size_t i;
	ssize_t n;

	if (funnel_pair(family, &p)) {
		CHECK(0, name, "pair setup");
		return;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && ok; i++) {
		size_t len = make_frame(sbuf, sizes[i], 0, FUNNEL_T_CTRL, 0, i);

		n = send(p.a, sbuf, len, 0);
		if (n != (ssize_t)len) {
			ok = false;
			break;
		}
		n = recv(p.b, rbuf, sizeof(rbuf), 0);
		ok = n == (ssize_t)len && !memcmp(rbuf, sbuf, FUNNEL_HDR_LEN) &&
		     frame_ok(rbuf, n, i);
	}
	CHECK(ok, name, "frame %zu of size %zu: got %zd", i,
	      i < 9 ? sizes[i] : 0, n);
	close_pair(&p);
}

static void t_errors(void)
{
	struct funnel_hdr *h = (struct funnel_hdr *)sbuf;
	struct pair p;
	struct msghdr msg = { 0 };
	struct iovec iov;
	ssize_t n;

	if (funnel_pair(AF_INET, &p)) {
		CHECK(0, "errors", "pair setup");
		return;
	}
	make_frame(sbuf, 64, 0, FUNNEL_T_CTRL, 0, 1);
	errno = 0;
	CHECK(send(p.a, sbuf, FUNNEL_HDR_LEN - 1, 0) < 0 && errno == EINVAL,
	      "send-short-einval", "7-byte frame");
	errno = 0;
	CHECK(send(p.a, sbuf, FUNNEL_MAX_FRAME + 1, 0) < 0 &&
	      errno == EMSGSIZE, "send-oversize-emsgsize", "65536-byte frame");
	h->flags = 0x80;
	errno = 0;
	CHECK(send(p.a, sbuf, 64, 0) < 0 && errno == EINVAL,
	      "send-reserved-flag-einval", "reserved flag");
	make_frame(sbuf, 64, 1, FUNNEL_T_CTRL, 0, 1);
	h->flags = FUNNEL_F_SEALED;
	errno = 0;
	CHECK(send(p.a, sbuf, 64, 0) < 0 && errno == EINVAL,
	      "send-sealed-ctrl-einval",
	      "CTRL frames are sealed on stream 0 only");
	make_frame(sbuf, 64, 0, FUNNEL_T_DATA, 0, 1);
	errno = 0;
	CHECK(send(p.a, sbuf, 64, 0) < 0 && errno == EINVAL,
	      "send-data-stream0-einval", "DATA on stream 0");
	make_frame(sbuf, 64, 3, FUNNEL_T_DATA, 1, 1);
	h->flags = FUNNEL_F_RESET;
	errno = 0;
	CHECK(send(p.a, sbuf, 64, 0) < 0 && errno == EINVAL,
	      "send-reset-data-einval", "R is a flag of FLOW_END only");
	make_frame(sbuf, FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD, 0,
		   FUNNEL_T_FLOW_END, 1, 1);
	h->flags = FUNNEL_F_SEALED;
	errno = 0;
	CHECK(send(p.a, sbuf, FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD, 0) < 0 &&
	      errno == EINVAL, "send-sealed-flow-end-stream0-einval",
	      "a sealed FLOW_END on stream 0");

	/* nothing of the refused frames reached the peer */
	errno = 0;
	n = recv(p.b, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN, "refused-frames-not-sent",
	      "recv returned %zd", n);

	/* stream 0's control messages, sealed by the daemon: as they are */
	make_frame(sbuf, 64, 0, FUNNEL_T_CTRL, 0, 3);
	h->flags = FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE;
	n = send(p.a, sbuf, 64, 0);
	CHECK(n == 64 && recv(p.b, rbuf, sizeof(rbuf), 0) == 64 &&
	      !memcmp(sbuf, rbuf, 64), "sealed-ctrl-stream0",
	      "send returned %zd", n);

	/* truncation */
	make_frame(sbuf, 100, 0, FUNNEL_T_CTRL, 0, 2);
	send(p.a, sbuf, 100, 0);
	send(p.a, sbuf, 100, 0);
	iov.iov_base = rbuf;
	iov.iov_len = 20;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	n = recvmsg(p.b, &msg, 0);
	CHECK(n == 20 && (msg.msg_flags & MSG_TRUNC), "recv-trunc-flag",
	      "got %zd flags %#x", n, msg.msg_flags);
	msg.msg_flags = 0;
	n = recvmsg(p.b, &msg, MSG_TRUNC);
	CHECK(n == 100 && (msg.msg_flags & MSG_TRUNC), "recv-trunc-full-len",
	      "got %zd", n);

	/* peek leaves the frame queued */
	send(p.a, sbuf, 100, 0);
	n = recv(p.b, rbuf, sizeof(rbuf), MSG_PEEK);
	CHECK(n == 100 && recv(p.b, rbuf, sizeof(rbuf), 0) == 100,
	      "recv-peek", "peek returned %zd", n);

	errno = 0;
	n = recv(p.b, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN, "recv-empty-eagain", "got %zd", n);

	{
		struct sockaddr sa = { .sa_family = AF_UNSPEC };

		errno = 0;
		CHECK(connect(p.a, &sa, sizeof(sa)) < 0 && errno == EBUSY,
		      "disconnect-refused", "connect(AF_UNSPEC)");
	}
	close_pair(&p);
}

/* Frames the receiver must drop: DATA for a stream it does not have,
 * unknown type, FLOW_END with a body, reserved flag (sent raw).
 */
static void t_drops(void)
{
	struct pair p;
	uint8_t raw[2 + 16];
	ssize_t n;

	if (tcp_pair(AF_INET, &p) || attach(p.b)) {
		CHECK(0, "drops", "pair setup");
		return;
	}
	/* a is a plain TCP socket here: it writes raw prefixed frames */
	struct { uint8_t type, flags; uint16_t stream; size_t len; } bad[] = {
		{ FUNNEL_T_DATA, 0, 5, 16 },	/* no such stream */
		{ 7, 0, 0, 16 },		/* unknown type */
		{ FUNNEL_T_FLOW_END, 0, 5, 16 },/* body on FLOW_END */
		{ FUNNEL_T_CTRL, 0x40, 0, 16 },	/* reserved flag */
		{ FUNNEL_T_DATA, 0, 0, 16 },	/* DATA on stream 0 */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_frame(raw + 2, bad[i].len, bad[i].stream, bad[i].type,
			   0, 3);
		raw[2 + 3] = bad[i].flags;
		raw[0] = 0;
		raw[1] = bad[i].len;
		if (write(p.a, raw, 2 + bad[i].len) != (ssize_t)(2 + bad[i].len))
			break;
	}
	make_frame(raw + 2, 12, 0, FUNNEL_T_CTRL, 0, 4);
	raw[0] = 0;
	raw[1] = 12;
	n = write(p.a, raw, 14);
	n = recv(p.b, rbuf, sizeof(rbuf), 0);
	CHECK(n == 12 && frame_ok(rbuf, 12, 4), "bad-frames-dropped",
	      "first frame delivered has %zd bytes", n);
	errno = 0;
	n = recv(p.b, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN, "bad-frames-nothing-else", "%zd", n);

	/* now a length prefix below the header size: the byte stream is
	 * not trusted any more, the socket reports EPROTO
	 */
	raw[0] = 0;
	raw[1] = 3;
	n = write(p.a, raw, 2 + 3);
	errno = 0;
	n = recv(p.b, rbuf, sizeof(rbuf), 0);
	CHECK(n < 0 && errno == EPROTO, "bad-length-eproto", "recv %zd", n);
	close_pair(&p);

	/* truncated frame, then the peer closes: end of stream */
	if (tcp_pair(AF_INET, &p) || attach(p.b)) {
		CHECK(0, "truncated", "pair setup");
		return;
	}
	raw[0] = 0;
	raw[1] = 16;
	n = write(p.a, raw, 10);
	shutdown(p.a, SHUT_WR);
	n = recv(p.b, rbuf, sizeof(rbuf), 0);
	CHECK(n == 0, "truncated-then-eof", "recv %zd", n);
	close_pair(&p);
}

static void t_poll(void)
{
	struct pollfd pfd;
	struct pair p;
	int n;

	if (funnel_pair(AF_INET, &p)) {
		CHECK(0, "poll", "pair setup");
		return;
	}
	pfd.fd = p.b;
	pfd.events = POLLIN;
	n = poll(&pfd, 1, 0);
	CHECK(n == 0, "poll-empty", "poll returned %d revents %#x", n,
	      pfd.revents);
	make_frame(sbuf, 50, 0, FUNNEL_T_CTRL, 0, 5);
	send(p.a, sbuf, 50, 0);
	n = poll(&pfd, 1, 2000);
	CHECK(n == 1 && (pfd.revents & POLLIN), "poll-frame-pollin",
	      "poll returned %d", n);
	pfd.events = POLLOUT;
	pfd.fd = p.a;
	n = poll(&pfd, 1, 0);
	CHECK(n == 1 && (pfd.revents & POLLOUT), "poll-pollout", "%d", n);
	close(p.a);
	pfd.fd = p.b;
	pfd.events = POLLIN;
	recv(p.b, rbuf, sizeof(rbuf), 0);
	n = poll(&pfd, 1, 2000);
	CHECK(n == 1 && recv(p.b, rbuf, sizeof(rbuf), 0) == 0, "peer-close-eof",
	      "poll %d", n);
	close(p.b);
}

/* Two threads write frames of random sizes on one socket while the peer
 * checks every frame: frames must never interleave.
 */
#define IL_FRAMES 4000

struct il_arg {
	int fd;
	uint16_t stream;
	unsigned int seed;
};

static void *il_writer(void *v)
{
	struct il_arg *a = v;
	uint8_t *buf = malloc(FUNNEL_MAX_FRAME);
	uint32_t i;

	for (i = 0; i < IL_FRAMES && buf; i++) {
		size_t len = FUNNEL_HDR_LEN + rand_r(&a->seed) % 3000;

		if (i % 97 == 0)
			len = FUNNEL_MAX_FRAME - rand_r(&a->seed) % 100;
		make_frame(buf, len, a->stream, FUNNEL_T_CTRL, i,
			   a->stream * 100000 + i);
		if (send(a->fd, buf, len, 0) != (ssize_t)len)
			break;
	}
	free(buf);
	return (void *)(uintptr_t)i;
}

static void t_interleave(void)
{
	struct il_arg a1, a2;
	uint32_t next[3] = { 0 };
	pthread_t t1, t2;
	struct pair p;
	unsigned int got = 0, bad = 0;
	void *r1, *r2;

	if (funnel_pair(AF_INET, &p)) {
		CHECK(0, "interleave", "pair setup");
		return;
	}
	a1 = (struct il_arg){ .fd = p.a, .stream = 1, .seed = 1 };
	a2 = (struct il_arg){ .fd = p.a, .stream = 2, .seed = 2 };
	pthread_create(&t1, NULL, il_writer, &a1);
	pthread_create(&t2, NULL, il_writer, &a2);
	while (got < 2 * IL_FRAMES) {
		struct funnel_hdr *h = (struct funnel_hdr *)rbuf;
		ssize_t n = recv(p.b, rbuf, sizeof(rbuf), 0);
		uint16_t s;
		uint32_t f;

		if (n < FUNNEL_HDR_LEN) {
			bad++;
			break;
		}
		s = ntohs(h->stream);
		f = ntohl(h->flow);
		if (s < 1 || s > 2 || f != next[s] ||
		    !frame_ok(rbuf, n, s * 100000 + f))
			bad++;
		else
			next[s]++;
		got++;
	}
	shutdown(p.b, SHUT_RDWR);	/* a failed reader frees the writers */
	pthread_join(t1, &r1);
	pthread_join(t2, &r2);
	CHECK(!bad && got == 2 * IL_FRAMES, "interleave-two-writers",
	      "%u frames, %u bad, writers sent %lu+%lu", got, bad,
	      (unsigned long)(uintptr_t)r1, (unsigned long)(uintptr_t)r2);
	close_pair(&p);
}

/* A reader that does not keep up slows the writer down (the parser
 * pauses, TCP closes its window); no frame for it is ever dropped.  The
 * writer's send buffer is small (128 KiB, the doubled 64 KiB), so that
 * 200 frames of 4000 bytes, 800 KB, are far more than both buffers hold:
 * the writer must wait for the reader.  (Each window the reader opens
 * again takes about 36 ms in the TCG test VM: 2000 frames took 72 s.)
 */
#define BP_FRAMES 200
#define BP_LEN 4000

struct bp_arg {
	int fd;
	unsigned int sent;	/* frames sent so far */
};

static void *bp_writer(void *v)
{
	struct bp_arg *a = v;
	uint8_t *buf = malloc(BP_LEN);
	uint32_t i;

	for (i = 0; i < BP_FRAMES && buf; i++) {
		make_frame(buf, BP_LEN, 0, FUNNEL_T_CTRL, i, i);
		if (send(a->fd, buf, BP_LEN, 0) != BP_LEN)
			break;
		__atomic_store_n(&a->sent, i + 1, __ATOMIC_RELAXED);
	}
	free(buf);
	return (void *)(uintptr_t)i;
}

static void t_backpressure(void)
{
	int rcvbuf = 16384, sndbuf = 65536;
	unsigned int got = 0, bad = 0, early;
	struct bp_arg wa;
	struct pair p;
	pthread_t t;
	void *sent;

	if (funnel_pair(AF_INET, &p) ||
	    setsockopt(p.b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    setsockopt(p.a, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf))) {
		CHECK(0, "backpressure", "pair setup");
		return;
	}
	wa = (struct bp_arg){ .fd = p.a };
	pthread_create(&t, NULL, bp_writer, &wa);
	usleep(500000);			/* the reader lags behind */
	early = __atomic_load_n(&wa.sent, __ATOMIC_RELAXED);
	CHECK(early < BP_FRAMES, "slow-reader-writer-waits",
	      "the writer sent all %u frames before the reader read one",
	      early);
	while (got < BP_FRAMES) {
		const struct funnel_hdr *h = (const struct funnel_hdr *)rbuf;
		ssize_t n = recv(p.b, rbuf, sizeof(rbuf), 0);

		if (n <= 0)
			break;
		if (n != BP_LEN || ntohl(h->flow) != got ||
		    !frame_ok(rbuf, n, got))
			bad++;
		got++;
	}
	shutdown(p.b, SHUT_RDWR);
	pthread_join(t, &sent);
	CHECK(got == BP_FRAMES && !bad, "slow-reader-nothing-lost",
	      "%u of %d frames, %u bad, writer sent %lu", got, BP_FRAMES, bad,
	      (unsigned long)(uintptr_t)sent);
	close_pair(&p);
}

/* Frames sent before the receiver attaches the ULP are not lost. */
static void t_early_frames(void)
{
	struct pair p;
	ssize_t n;
	uint8_t raw[2 + 20];

	if (tcp_pair(AF_INET, &p)) {
		CHECK(0, "early", "pair setup");
		return;
	}
	raw[0] = 0;
	raw[1] = 20;
	make_frame(raw + 2, 20, 0, FUNNEL_T_CTRL, 0, 9);
	n = write(p.a, raw, sizeof(raw));
	usleep(100000);
	n = attach(p.b);
	n = n ? n : recv(p.b, rbuf, sizeof(rbuf), 0);
	CHECK(n == 20 && frame_ok(rbuf, 20, 9), "queued-before-attach",
	      "recv %zd", n);
	close_pair(&p);
}

/* Close with frames queued both ways: nothing may leak (rmmod after). */
static void t_close_busy(void)
{
	struct pair p;
	int i;

	if (funnel_pair(AF_INET, &p)) {
		CHECK(0, "close-busy", "pair setup");
		return;
	}
	for (i = 0; i < 64; i++) {
		make_frame(sbuf, 60000, 0, FUNNEL_T_CTRL, 0, i);
		if (send(p.a, sbuf, 60000, MSG_DONTWAIT) < 0)
			break;
	}
	CHECK(i > 0, "close-with-queued-frames", "sent %d", i);
	close_pair(&p);
}

static const struct {
	const char *name;
	void (*fn)(void);
} checks[] = {
	{ "attach", t_attach },
	{ "roundtrip", NULL },
	{ "errors", t_errors },
	{ "drops", t_drops },
	{ "poll", t_poll },
	{ "interleave", t_interleave },
	{ "backpressure", t_backpressure },
	{ "early", t_early_frames },
	{ "close-busy", t_close_busy },
};

static void run(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (name && strcmp(name, checks[i].name))
			continue;
		if (checks[i].fn) {
			checks[i].fn();
		} else {
			t_roundtrip(AF_INET, "roundtrip-v4-sizes");
			t_roundtrip(AF_INET6, "roundtrip-v6-sizes");
		}
		if (name)
			return;
	}
	if (name) {
		fprintf(stderr, "ulp_test: no check %s\n", name);
		failures++;
	}
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		run(NULL);
	for (i = 1; i < argc; i++)
		run(argv[i]);
	return failures ? 1 : 0;
}
