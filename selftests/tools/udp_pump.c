// SPDX-License-Identifier: GPL-2.0
/*
 * udp_pump: UDP echo server and load generator for the tests and
 * benchmarks.
 *
 *   udp_pump echo [-q] ADDR PORT[-LASTPORT]
 *   udp_pump rr ADDR PORT[-LASTPORT] [-n COUNT] [-t SECONDS] [-s SIZE]
 *            [-w WINDOW] [-T TIMEOUT_MS] [-r RATE] [-S]
 *   udp_pump blast ADDR PORT -t SECONDS [-s SIZE] [-f FLOWS]
 *   udp_pump sink ADDR PORT -t SECONDS
 *
 * A request of rr is SIZE bytes: magic (u32), destination port (u16),
 * zero (u16), sequence number (u64), all big-endian, then a byte pattern
 * derived from port and sequence.  A reply is good only if it comes back
 * unchanged on the socket of its port, from that port, while its request
 * is outstanding: anything else (cross-talk between ports, duplicates,
 * late or corrupted replies) is bad.
 *
 * Exit status: 0 success, 1 failure (see each mode), 2 bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG		"udp_pump"
#define EXIT_FAIL	1
#define EXIT_USAGE	2

#define MAGIC		0x46554d50U	/* "FUMP" */
#define HDR_SIZE	16		/* magic, port, zero, seq */
#define BATCH		32		/* datagrams per recvmmsg/sendmmsg */
#define DGRAM_BUF	65536
#define MAX_EVENTS	64
#define SOCK_BUF	(4 << 20)	/* asked for; the kernel may clamp */
#define TICK_MS		2		/* rr: timeouts and retries */
#define MAX_FLOWS	60000		/* blast -f */
#define FLOW_BURST	4		/* blast -f: datagrams per flow in turn */
#define NSEC		1000000000ULL

#define USAGE_LINE \
	"usage: " PROG " echo|rr|blast|sink ADDR PORT[-LASTPORT] [OPTIONS] (" PROG " -h: help)\n"

struct target {
	struct sockaddr_storage ss;	/* address; port set per socket */
	socklen_t len;
	int family;
	uint16_t first, last;		/* port range */
};

static volatile sig_atomic_t stop;
static sigset_t wait_mask;		/* signal mask while waiting */
static uint8_t bufs[BATCH][DGRAM_BUF];

static void help(void)
{
	printf(USAGE_LINE
	       "\n"
	       "echo [-q] ADDR PORT[-LASTPORT]\n"
	       "    echo every datagram to its sender, until SIGTERM/SIGINT;\n"
	       "    then print \"echo: N datagrams\" (not with -q)\n"
	       "rr ADDR PORT[-LASTPORT] [-n COUNT] [-t SECONDS] [-s SIZE] [-w WINDOW]\n"
	       "   [-T TIMEOUT_MS] [-r RATE] [-S]\n"
	       "    requests and replies on every port at once, one socket each:\n"
	       "    SIZE bytes (64, at least 16), WINDOW outstanding per port (1),\n"
	       "    unanswered after TIMEOUT_MS (2000): lost.  -r: at most RATE\n"
	       "    requests per second per port, evenly spaced (default: as fast\n"
	       "    as the window allows).  -n: COUNT requests\n"
	       "    per port; -t: for SECONDS (one of the two is needed).  Prints\n"
	       "    \"rr: ports P sent S good G bad B lost L rate R/s\"; exit 0 iff\n"
	       "    no bad and no lost reply (with -t lost ones only count with -S)\n"
	       "blast ADDR PORT -t SECONDS [-s SIZE] [-f FLOWS]\n"
	       "    send as fast as possible; prints \"blast: sent N rate R/s\".\n"
	       "    -f: from FLOWS sockets (source ports), FLOW_BURST datagrams\n"
	       "    from each in turn; first one datagram from each, a pause of\n"
	       "    1 s, \"blast: FLOWS flows open\", then the timed sends\n"
	       "sink ADDR PORT -t SECONDS\n"
	       "    count datagrams for SECONDS from the first one (or until\n"
	       "    SIGTERM/SIGINT); prints \"sink: received N rate R/s\"\n"
	       "\n"
	       "ADDR: IPv4 or IPv6 (127.0.0.1, ::1).  Exit status: 0 ok, 1 failed,\n"
	       "2 bad usage.\n");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s%s\n" USAGE_LINE, what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return EXIT_USAGE;
}

static int fail(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	return EXIT_FAIL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static uint64_t per_second(uint64_t n, uint64_t ns)
{
	return ns ? (uint64_t)((double)n * NSEC / (double)ns) : 0;
}

/* A decimal number in [min, max]. */
static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_target(const char *addr, const char *ports, bool range,
			struct target *t)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->ss;
	const char *dash = strchr(ports, '-');
	char buf[8];
	uint64_t a, b;

	memset(t, 0, sizeof(*t));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		t->family = sin->sin_family = AF_INET;
		t->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		t->family = sin6->sin6_family = AF_INET6;
		t->len = sizeof(*sin6);
	} else {
		return usage_error("bad address", addr);
	}
	if (dash && !range)
		return usage_error("a single port is needed, not", ports);
	if (dash) {
		if ((size_t)(dash - ports) >= sizeof(buf))
			return usage_error("bad port range", ports);
		memcpy(buf, ports, (size_t)(dash - ports));
		buf[dash - ports] = '\0';
		if (parse_num(buf, 1, 65535, &a) ||
		    parse_num(dash + 1, a, 65535, &b))
			return usage_error("bad port range", ports);
	} else if (parse_num(ports, 1, 65535, &a)) {
		return usage_error("bad port", ports);
	} else {
		b = a;
	}
	t->first = (uint16_t)a;
	t->last = (uint16_t)b;
	return 0;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return 0;
}

/* A UDP socket (flags: SOCK_NONBLOCK or 0); bound to t's address and
 * port if port is not 0.
 */
static int udp_socket(const struct target *t, uint16_t port, int flags)
{
	struct sockaddr_storage ss = t->ss;
	int fd, size = SOCK_BUF;

	fd = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	set_port(&ss, port);
	if (port && bind(fd, (struct sockaddr *)&ss, t->len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * SIGTERM and SIGINT set stop.  They stay blocked except while waiting
 * (epoll_pwait/ppoll with wait_mask), so none is missed between a check
 * of stop and the wait.
 */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
}

/* Receive up to BATCH datagrams into bufs; returns the count (0: none). */
static int recv_batch(int fd, struct mmsghdr *msgs, struct iovec *iov,
		      struct sockaddr_storage *from)
{
	int n;

	memset(msgs, 0, sizeof(*msgs) * BATCH);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = DGRAM_BUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	do {
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? 0 : n;
}

/* Put the byte pattern of (port, seq) or compare with it. */
static bool pattern(uint8_t *p, size_t len, uint16_t port, uint64_t seq,
		    bool check)
{
	uint8_t x = (uint8_t)(seq * 7 + port * 13);

	for (size_t k = 0; k < len; k++, x += 131) {
		if (!check)
			p[k] = x;
		else if (p[k] != x)
			return false;
	}
	return true;
}

static void put_payload(uint8_t *p, size_t size, uint16_t port, uint64_t seq)
{
	uint32_t magic = htonl(MAGIC);
	uint16_t bport = htons(port), zero = 0;
	uint32_t hi = htonl((uint32_t)(seq >> 32)), lo = htonl((uint32_t)seq);

	memcpy(p, &magic, 4);
	memcpy(p + 4, &bport, 2);
	memcpy(p + 6, &zero, 2);
	memcpy(p + 8, &hi, 4);
	memcpy(p + 12, &lo, 4);
	pattern(p + HDR_SIZE, size - HDR_SIZE, port, seq, false);
}

/* ---- echo ---- */

static uint64_t echo_socket(int fd)
{
	struct sockaddr_storage from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t total = 0;
	int n, i, r = 0;

	do {
		n = recv_batch(fd, msgs, iov, from);
		for (i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		/* a datagram that cannot be sent is dropped, as UDP would */
		for (i = 0; i < n; i += r > 0 ? r : 1)
			r = sendmmsg(fd, msgs + i, (unsigned int)(n - i), 0);
		total += (uint64_t)n;
	} while (n == BATCH && !stop);
	return total;
}

static int cmd_echo(int argc, char **argv)
{
	struct epoll_event ev, evs[MAX_EVENTS];
	bool quiet = false;
	uint64_t count = 0;
	struct target t;
	int opt, ep, n, ret;

	while ((opt = getopt(argc, argv, ":q")) != -1) {
		if (opt != 'q')
			return usage_error("echo: bad option", argv[optind - 1]);
		quiet = true;
	}
	if (argc - optind != 2)
		return usage_error("echo: needs ADDR PORT[-LASTPORT]", NULL);
	ret = parse_target(argv[optind], argv[optind + 1], true, &t);
	if (ret)
		return ret;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return fail("epoll");
	for (unsigned int port = t.first; port <= t.last; port++) {
		ev.events = EPOLLIN;
		ev.data.fd = udp_socket(&t, (uint16_t)port, SOCK_NONBLOCK);
		if (ev.data.fd < 0) {
			fprintf(stderr, PROG ": bind port %u: %s\n", port,
				strerror(errno));
			return EXIT_FAIL;
		}
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return fail("epoll_ctl");
	}

	setup_signals();
	while (!stop) {
		n = epoll_pwait(ep, evs, MAX_EVENTS, -1, &wait_mask);
		if (n < 0 && errno != EINTR)
			return fail("epoll_wait");
		for (int i = 0; i < n; i++)
			count += echo_socket(evs[i].data.fd);
	}
	if (!quiet)
		printf("echo: %llu datagrams\n", (unsigned long long)count);
	return 0;
}

/* ---- rr ---- */

struct slot {
	uint64_t seq;
	uint64_t sent_ns;
	bool busy;
};

struct rr_port {
	int fd;
	uint16_t port;
	struct sockaddr_storage dst;
	uint64_t next_seq;		/* also: requests issued */
	uint64_t next_ns;		/* -r: the next request not before */
	struct slot *slots;		/* seq % window */
};

struct rr {
	struct target t;
	uint64_t count, seconds, size, window, timeout_ms, rate;
	bool strict;
	struct rr_port *ports;
	unsigned int nports;
	uint64_t sent, good, bad, lost, outstanding, resolved;
	uint32_t *lat_us;		/* round trips of good replies */
	size_t nlat, lat_cap;
	uint8_t req[DGRAM_BUF];
};

/* Keep the round trip of a good reply (memory runs out: not kept). */
static void rr_lat_add(struct rr *rr, uint64_t ns)
{
	if (rr->nlat == rr->lat_cap) {
		size_t cap = rr->lat_cap ? rr->lat_cap * 2 : 65536;
		uint32_t *l = realloc(rr->lat_us, cap * sizeof(*l));

		if (!l)
			return;
		rr->lat_us = l;
		rr->lat_cap = cap;
	}
	rr->lat_us[rr->nlat++] = ns / 1000 > UINT32_MAX ? UINT32_MAX :
				 (uint32_t)(ns / 1000);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-th quantile (per mille) of the kept round trips, in us. */
static uint32_t rr_lat_q(const struct rr *rr, unsigned int per_mille)
{
	size_t i = (rr->nlat * per_mille + 999) / 1000;

	return rr->nlat ? rr->lat_us[i ? i - 1 : 0] : 0;
}

/* Send requests on p until the window is full.  -1: fatal error. */
static int rr_fill(struct rr *rr, struct rr_port *p, bool stopping,
		   uint64_t now)
{
	while (!stopping && (!rr->count || p->next_seq < rr->count)) {
		struct slot *s = &p->slots[p->next_seq % rr->window];
		ssize_t n;

		/* the slot frees when its request is answered or lost */
		if (s->busy || (rr->rate && now < p->next_ns))
			break;
		put_payload(rr->req, rr->size, p->port, p->next_seq);
		n = sendto(p->fd, rr->req, rr->size, 0,
			   (struct sockaddr *)&p->dst, rr->t.len);
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS ||
			      errno == EINTR || errno == ECONNREFUSED))
			break;		/* tried again at the next tick */
		if (n < 0)
			return fail("sendto");
		s->seq = p->next_seq++;
		s->sent_ns = now;
		s->busy = true;
		if (rr->rate)	/* paced: a late request does not bunch up the next */
			p->next_ns = (now - p->next_ns > NSEC / rr->rate ?
				      now : p->next_ns) + NSEC / rr->rate;
		rr->sent++;
		rr->outstanding++;
	}
	return 0;
}

static bool rr_reply_ok(struct rr *rr, struct rr_port *p, uint8_t *b,
			size_t len, int flags,
			const struct sockaddr_storage *from, uint64_t now)
{
	uint32_t magic, hi, lo;
	uint16_t port, zero;
	struct slot *s;
	uint64_t seq;

	if ((flags & MSG_TRUNC) || len != rr->size || get_port(from) != p->port)
		return false;
	memcpy(&magic, b, 4);
	memcpy(&port, b + 4, 2);
	memcpy(&zero, b + 6, 2);
	memcpy(&hi, b + 8, 4);
	memcpy(&lo, b + 12, 4);
	seq = (uint64_t)ntohl(hi) << 32 | ntohl(lo);
	if (ntohl(magic) != MAGIC || ntohs(port) != p->port || zero)
		return false;
	s = &p->slots[seq % rr->window];
	if (!s->busy || s->seq != seq ||
	    !pattern(b + HDR_SIZE, len - HDR_SIZE, p->port, seq, true))
		return false;
	s->busy = false;
	rr->outstanding--;
	rr->resolved++;
	rr_lat_add(rr, now - s->sent_ns);
	return true;
}

static void rr_recv(struct rr *rr, struct rr_port *p)
{
	struct sockaddr_storage from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	do {
		uint64_t now;

		n = recv_batch(p->fd, msgs, iov, from);
		now = now_ns();
		for (int i = 0; i < n; i++) {
			if (rr_reply_ok(rr, p, bufs[i], msgs[i].msg_len,
					msgs[i].msg_hdr.msg_flags, &from[i], now))
				rr->good++;
			else
				rr->bad++;
		}
	} while (n == BATCH);
}

static void rr_expire(struct rr *rr, uint64_t now)
{
	uint64_t timeout = rr->timeout_ms * 1000000;

	for (unsigned int i = 0; i < rr->nports; i++) {
		for (uint64_t w = 0; w < rr->window; w++) {
			struct slot *s = &rr->ports[i].slots[w];

			if (s->busy && now - s->sent_ns >= timeout) {
				s->busy = false;
				rr->outstanding--;
				rr->resolved++;
				rr->lost++;
			}
		}
	}
}

static int rr_run(struct rr *rr)
{
	struct epoll_event ev, evs[MAX_EVENTS];
	uint64_t start, end, now, tick = 0;
	bool stopping = false;
	int ep, n;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return fail("epoll");
	for (unsigned int i = 0; i < rr->nports; i++) {
		struct rr_port *p = &rr->ports[i];

		p->port = (uint16_t)(rr->t.first + i);
		p->dst = rr->t.ss;
		set_port(&p->dst, p->port);
		/* paced ports start spread over one interval */
		p->next_ns = rr->rate ? now_ns() + NSEC / rr->rate * i / rr->nports : 0;
		p->slots = calloc(rr->window, sizeof(*p->slots));
		if (!p->slots)
			return fail("calloc");
		p->fd = udp_socket(&rr->t, 0, SOCK_NONBLOCK);
		if (p->fd < 0)
			return fail("socket");
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev))
			return fail("epoll_ctl");
	}

	start = now_ns();
	end = rr->seconds ? start + rr->seconds * NSEC : UINT64_MAX;
	for (;;) {
		now = now_ns();
		if (stop || now >= end)
			stopping = true;
		if (now - tick >= TICK_MS * 1000000ULL) {
			tick = now;
			rr_expire(rr, now);
			for (unsigned int i = 0; i < rr->nports; i++)
				if (rr_fill(rr, &rr->ports[i], stopping, now))
					return EXIT_FAIL;
		}
		if (stopping ? !rr->outstanding :
		    rr->count && rr->resolved == rr->count * rr->nports)
			break;

		n = epoll_pwait(ep, evs, MAX_EVENTS, TICK_MS, &wait_mask);
		if (n < 0 && errno != EINTR)
			return fail("epoll_wait");
		now = now_ns();
		for (int i = 0; i < n; i++) {
			struct rr_port *p = &rr->ports[evs[i].data.u32];

			rr_recv(rr, p);
			if (rr_fill(rr, p, stopping, now))
				return EXIT_FAIL;
		}
	}

	qsort(rr->lat_us, rr->nlat, sizeof(*rr->lat_us), cmp_u32);
	/* one line: tests read the last line and its words */
	printf("rr: ports %u sent %llu good %llu bad %llu lost %llu rate %llu/s p50 %uus p99 %uus p99.9 %uus\n",
	       rr->nports, (unsigned long long)rr->sent,
	       (unsigned long long)rr->good, (unsigned long long)rr->bad,
	       (unsigned long long)rr->lost,
	       (unsigned long long)per_second(rr->good, now_ns() - start),
	       rr_lat_q(rr, 500), rr_lat_q(rr, 990), rr_lat_q(rr, 999));
	if (rr->bad || (rr->lost && (!rr->seconds || rr->strict)))
		return EXIT_FAIL;
	return 0;
}

static int cmd_rr(int argc, char **argv)
{
	static struct rr rr;
	uint64_t *num;
	uint64_t min, max;
	int opt, ret;

	rr.size = 64;
	rr.window = 1;
	rr.timeout_ms = 2000;
	while ((opt = getopt(argc, argv, ":n:t:s:w:T:r:S")) != -1) {
		switch (opt) {
		case 'n':
			num = &rr.count, min = 1, max = UINT32_MAX;
			break;
		case 't':
			num = &rr.seconds, min = 1, max = 86400 * 365;
			break;
		case 's':
			num = &rr.size, min = HDR_SIZE, max = 65527;
			break;
		case 'w':
			num = &rr.window, min = 1, max = 65536;
			break;
		case 'T':
			num = &rr.timeout_ms, min = 1, max = 3600000;
			break;
		case 'r':
			num = &rr.rate, min = 1, max = 1000000;
			break;
		case 'S':
			rr.strict = true;
			continue;
		case ':':
			return usage_error("rr: missing value for",
					   argv[optind - 1]);
		default:
			return usage_error("rr: bad option", argv[optind - 1]);
		}
		if (parse_num(optarg, min, max, num))
			return usage_error("rr: bad value", optarg);
	}
	if (argc - optind != 2)
		return usage_error("rr: needs ADDR PORT[-LASTPORT]", NULL);
	if (!rr.count && !rr.seconds)
		return usage_error("rr: needs -n COUNT or -t SECONDS", NULL);
	ret = parse_target(argv[optind], argv[optind + 1], true, &rr.t);
	if (ret)
		return ret;
	if (rr.t.family == AF_INET && rr.size > 65507)
		return usage_error("rr: SIZE above 65507 for IPv4", NULL);

	rr.nports = (unsigned int)(rr.t.last - rr.t.first + 1);
	rr.ports = calloc(rr.nports, sizeof(*rr.ports));
	if (!rr.ports)
		return fail("calloc");
	setup_signals();
	return rr_run(&rr);
}

/* ---- blast and sink ---- */

/*
 * ADDR PORT -t SECONDS [-s SIZE] [-f FLOWS]: the arguments of blast and
 * sink (SIZE and FLOWS: blast only; flows may be NULL for sink).
 */
static int one_way_args(int argc, char **argv, bool blast, struct target *t,
			uint64_t *seconds, uint64_t *size, uint64_t *flows)
{
	const char *mode = blast ? "blast" : "sink";
	char what[64];
	uint64_t *num;
	int opt;

	*seconds = 0;
	*size = 64;
	if (flows)
		*flows = 1;
	while ((opt = getopt(argc, argv, blast ? ":t:s:f:" : ":t:")) != -1) {
		uint64_t min = 0, max = 65527;

		if (opt == 't') {
			num = seconds;
			min = 1;
			max = 86400 * 365;
		} else if (opt == 's') {
			num = size;
		} else if (opt == 'f') {
			num = flows;
			min = 1;
			max = MAX_FLOWS;
		} else {
			break;
		}
		if (parse_num(optarg, min, max, num))
			return usage_error("bad value", optarg);
	}
	snprintf(what, sizeof(what), "%s: %s", mode,
		 opt == ':' ? "missing value for" : "bad option");
	if (opt != -1)
		return usage_error(what, argv[optind - 1]);
	snprintf(what, sizeof(what), "%s: needs ADDR PORT", mode);
	if (argc - optind != 2)
		return usage_error(what, NULL);
	snprintf(what, sizeof(what), "%s: needs -t SECONDS", mode);
	if (!*seconds)
		return usage_error(what, NULL);
	return parse_target(argv[optind], argv[optind + 1], false, t);
}

/* Raise the open files limit to n + 64 if it is lower (root may). */
static int want_files(uint64_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= n + 64)
		return 0;
	rl.rlim_cur = n + 64;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static int cmd_blast(int argc, char **argv)
{
	uint64_t seconds, size, flows, sent = 0, errors = 0, start, end, now;
	struct mmsghdr msgs[BATCH];
	unsigned int burst, next = 0;
	struct iovec iov;
	struct target t;
	int *fds, n, ret;

	ret = one_way_args(argc, argv, true, &t, &seconds, &size, &flows);
	if (ret)
		return ret;
	if (t.family == AF_INET && size > 65507)
		return usage_error("blast: SIZE above 65507 for IPv4", NULL);
	if (want_files(flows))
		return fail("setrlimit");
	fds = calloc(flows, sizeof(*fds));
	if (!fds)
		return fail("calloc");

	memset(bufs[0], 0, DGRAM_BUF);
	if (size >= HDR_SIZE)
		put_payload(bufs[0], size, t.first, 0);
	iov.iov_base = bufs[0];
	iov.iov_len = size;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	/* blocking sends: a full socket buffer paces the loop; each flow
	 * opened by a first datagram, then a pause for the tunnel to set
	 * the flows up before the clock starts
	 */
	set_port(&t.ss, t.first);
	for (uint64_t i = 0; i < flows; i++) {
		fds[i] = udp_socket(&t, 0, 0);
		if (fds[i] < 0)
			return fail("socket");
		if (connect(fds[i], (struct sockaddr *)&t.ss, t.len))
			return fail("connect");
		if (flows > 1 && send(fds[i], bufs[0], size, 0) < 0 &&
		    errno != ECONNREFUSED)
			return fail("send");
	}
	if (flows > 1) {
		sleep(1);
		printf("blast: %llu flows open\n", (unsigned long long)flows);
		fflush(stdout);
	}
	burst = flows > 1 ? FLOW_BURST : BATCH;

	start = now = now_ns();
	end = start + seconds * NSEC;
	while (now < end) {
		n = sendmmsg(fds[next], msgs, burst, 0);
		if (n < 0 && errno != ENOBUFS && errno != ECONNREFUSED &&
		    errno != EAGAIN && errno != EINTR)
			return fail("sendmmsg");
		if (n > 0)
			sent += (uint64_t)n;
		/* failed, or a short count: the next datagram failed */
		if (n < (int)burst)
			errors++;
		if (++next == flows)
			next = 0;
		now = now_ns();
	}
	printf("blast: sent %llu rate %llu/s\n", (unsigned long long)sent,
	       (unsigned long long)per_second(sent, now - start));
	if (errors)
		fprintf(stderr, PROG ": blast: %llu sends failed (ENOBUFS or ECONNREFUSED)\n",
			(unsigned long long)errors);
	for (uint64_t i = 0; i < flows; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

static int cmd_sink(int argc, char **argv)
{
	uint64_t seconds, size, count = 0, first = 0, end = 0, now = 0;
	struct sockaddr_storage from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct target t;
	struct pollfd p;
	int n, ret;

	ret = one_way_args(argc, argv, false, &t, &seconds, &size, NULL);
	if (ret)
		return ret;
	p.fd = udp_socket(&t, t.first, SOCK_NONBLOCK);
	p.events = POLLIN;
	if (p.fd < 0)
		return fail("bind");

	setup_signals();
	while (!stop && (!first || now < end)) {
		struct timespec ts, *tsp = NULL;

		if (first) {
			ts.tv_sec = (time_t)((end - now) / NSEC);
			ts.tv_nsec = (long)((end - now) % NSEC);
			tsp = &ts;
		}
		n = ppoll(&p, 1, tsp, &wait_mask);
		if (n < 0 && errno != EINTR)
			return fail("poll");
		now = now_ns();
		while (n > 0 && (!first || now < end)) {
			n = recv_batch(p.fd, msgs, iov, from);
			if (n && !first) {
				first = now;
				end = first + seconds * NSEC;
			}
			count += (uint64_t)n;
			now = now_ns();
		}
	}
	if (now > end)
		now = end;
	printf("sink: received %llu rate %llu/s\n", (unsigned long long)count,
	       (unsigned long long)per_second(count, now - first));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	opterr = 0;
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
		help();
		return 0;
	}
	/* getopt() sees the mode as the program name */
	if (!strcmp(mode, "echo"))
		return cmd_echo(argc - 1, argv + 1);
	if (!strcmp(mode, "rr"))
		return cmd_rr(argc - 1, argv + 1);
	if (!strcmp(mode, "blast"))
		return cmd_blast(argc - 1, argv + 1);
	if (!strcmp(mode, "sink"))
		return cmd_sink(argc - 1, argv + 1);
	return usage_error(*mode ? "unknown mode" : "missing mode",
			   *mode ? mode : NULL);
}
