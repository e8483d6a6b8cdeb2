// SPDX-License-Identifier: GPL-2.0
/*
 * funnel-tun: set up one funnel carrier and its kernel streams over
 * generic netlink without a daemon (like the kernel's ovpn-cli), and
 * optionally exchange numbered CTRL frames with the peer to test the
 * carrier's user path.
 *
 *   funnel-tun [options] (--listen ADDR:PORT | --connect ADDR:PORT) [STREAM...]
 *
 * Exit status: 0 success; 1 a socket error, a bad preamble or a failed
 * frame check; 2 bad usage or a netlink error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sctp.h>
#include <linux/sockios.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/funnel.h>

#include "common/frame.h"
#include "common/genl.h"
#include "common/nlnames.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define PROG		"funnel-tun"
#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_NETLINK	2

#define RECV_BUF_SIZE		(1 << 20)
#define PREAMBLE_TIMEOUT_MS	5000
#define CONNECT_TIMEOUT_MS	10000
#define CONNECT_RETRY_MS	100
#define DRAIN_TIMEOUT_MS	5000	/* --exit-when-done: flush our frames */
#define DRAIN_QUIET_MS		10
#define SEND_BATCH		16	/* frames sent between receives */
#define HUP_GRACE_MS		100	/* see ctrl_pump() */

/* An address and port as given on the command line. */
struct endpoint {
	bool has_addr;
	int family;		/* AF_INET or AF_INET6 when has_addr */
	struct in_addr v4;
	struct in6_addr v6;
	uint16_t port;		/* host order */
};

/* One stream option: count streams with consecutive ids and ports. */
struct stream_opt {
	uint32_t kind;		/* enum funnel_stream_kind */
	uint16_t first_id;
	uint32_t count;
	struct endpoint ep;	/* local (udp-listen) or remote (udp-connect) */
	bool unordered;
	bool has_idle, has_max, has_ttl;
	uint32_t idle_ms, flow_max, pr_ttl_ms;
};

/* The CTRL frame exchange. */
struct ctrl_run {
	int fd;
	uint32_t nsend, nexpect;
	bool has_expect, exit_when_done;
	uint32_t sent, received, bad;
	bool error, peer_closed;
	uint64_t send_after;		/* --ctrl-delay: ms clock */
};

static bool use_sctp;
static uint32_t sctp_streams = 256;

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;

static uint8_t tx_frame[FUNNEL_MAX_FRAME];
static uint8_t want_frame[FUNNEL_MAX_FRAME];
static uint8_t rx_buf[RECV_BUF_SIZE];

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options] (--listen ADDR:PORT | --connect ADDR:PORT) [STREAM...]\n"
		"\n"
		"ADDR is IPv4 (10.0.0.1) or IPv6 in brackets ([fd00::1]).\n"
		"--listen accepts one connection and reads the preamble (5 s);\n"
		"--connect retries for 10 s and sends it.  Then the funnel ULP is\n"
		"attached and the socket registered with carrier-new.\n"
		"--sctp: the carrier is a one-to-one SCTP socket instead (no\n"
		"preamble, no ULP; SCTP_NODELAY; --sctp-streams N streams each way,\n"
		"default 256).\n"
		"\n"
		"Streams, created in order with stream-new:\n"
		"  --udp-listen ID:[ADDR:]PORT             a udp-listen stream\n"
		"  --udp-connect ID:ADDR:PORT              a udp-connect stream\n"
		"  --user ID                               a user stream\n"
		"  --udp-listen-range ID:[ADDR:]PORT:COUNT  COUNT udp-listen streams\n"
		"  --udp-connect-range ID:ADDR:PORT:COUNT   COUNT udp-connect streams\n"
		"      (stream ids and ports increase by one)\n"
		"Modifiers of the streams of the preceding stream option:\n"
		"  --unordered   --idle MS   --max N   --pr-ttl MS (pr-ttl-ms)\n"
		"\n"
		"Options:\n"
		"  --ready FILE      when set up, write the carrier id to FILE\n"
		"                    (through FILE.tmp and rename)\n"
		"  --ctrl-send N     send N numbered CTRL frames on stream 0\n"
		"  --ctrl-expect N   the peer sends N of them: check each one\n"
		"  --ctrl-delay MS   start sending them MS ms after set-up\n"
		"  --exit-when-done  exit once N were sent and N received, or at\n"
		"                    the first bad frame; otherwise run until\n"
		"                    SIGTERM/SIGINT or until the peer closes\n"
		"  -h, --help\n"
		"\n"
		"Prints \"" PROG ": carrier C ctrl sent S received R bad B\" at the end.\n"
		"Exit status: 0 ok, 1 socket error or failed check, 2 usage or netlink error.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(try '" PROG " --help')\n", stderr);
	return EXIT_USAGE;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- command line ---- */

/* A decimal number in [min, max]. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * "[ADDR:]PORT": ADDR is IPv4 or IPv6 in brackets.  The string is
 * modified.  need_addr: ADDR is required.
 */
static int parse_endpoint(char *s, bool need_addr, struct endpoint *ep)
{
	char *addr = NULL, *port = s, *colon;
	uint32_t v;

	memset(ep, 0, sizeof(*ep));
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		*close = '\0';
		addr = s + 1;
		port = close + 2;
		if (inet_pton(AF_INET6, addr, &ep->v6) != 1)
			return -1;
		ep->family = AF_INET6;
	} else if ((colon = strrchr(s, ':'))) {
		*colon = '\0';
		addr = s;
		port = colon + 1;
		if (inet_pton(AF_INET, addr, &ep->v4) != 1)
			return -1;
		ep->family = AF_INET;
	}
	if (!addr && need_addr)
		return -1;
	ep->has_addr = addr != NULL;
	if (parse_u32(port, 1, 65535, &v))
		return -1;
	ep->port = (uint16_t)v;
	return 0;
}

/* "ID:REST" (with range: "ID:REST:COUNT") of a stream option. */
static int parse_stream(const char *arg, uint32_t kind, bool range,
			struct stream_opt *so)
{
	char buf[256], *rest, *count;
	uint32_t id, n = 1;

	memset(so, 0, sizeof(*so));
	so->kind = kind;
	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);

	rest = strchr(buf, ':');
	if (kind == FUNNEL_STREAM_USER) {
		if (rest || parse_u32(buf, 0, 65535, &id))
			return -1;
		so->first_id = (uint16_t)id;
		so->count = 1;
		return 0;
	}
	if (!rest)
		return -1;
	*rest++ = '\0';
	if (parse_u32(buf, 0, 65535, &id))
		return -1;
	if (range) {
		count = strrchr(rest, ':');
		if (!count)
			return -1;
		*count++ = '\0';
		if (parse_u32(count, 1, 65535, &n))
			return -1;
	}
	if (parse_endpoint(rest, kind == FUNNEL_STREAM_UDP_CONNECT, &so->ep))
		return -1;
	if (id + n - 1 > 65535 || so->ep.port + n - 1 > 65535)
		return -1;
	so->first_id = (uint16_t)id;
	so->count = n;
	return 0;
}

static void endpoint_sockaddr(const struct endpoint *ep,
			      struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = ep->v6;
		sin6->sin6_port = htons(ep->port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = ep->v4;
		sin->sin_port = htons(ep->port);
		*len = sizeof(*sin);
	}
}

/* ---- carrier socket ---- */

/* A TCP socket, or with --sctp a one-to-one SCTP socket asking for
 * sctp_streams streams each way.
 */
static int carrier_socket(int family)
{
	struct sctp_initmsg im = {
		.sinit_num_ostreams = (uint16_t)sctp_streams,
		.sinit_max_instreams = (uint16_t)sctp_streams,
	};
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC,
		    use_sctp ? IPPROTO_SCTP : 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		return -1;
	}
	if (use_sctp &&
	    setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im))) {
		fprintf(stderr, PROG ": SCTP_INITMSG: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_accept(const struct endpoint *ep, const char *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l, fd, one = 1;

	endpoint_sockaddr(ep, &ss, &len);
	l = carrier_socket(ep->family);
	if (l < 0)
		return -1;
	if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&ss, len) || listen(l, 1)) {
		fprintf(stderr, PROG ": listen %s: %s\n", arg, strerror(errno));
		close(l);
		return -1;
	}
	do {
		fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		fprintf(stderr, PROG ": accept %s: %s\n", arg, strerror(errno));
	close(l);
	return fd;
}

/* Read exactly the 8 preamble bytes, never more, within the timeout. */
static int read_preamble(int fd)
{
	uint64_t deadline = now_ms() + PREAMBLE_TIMEOUT_MS;
	uint8_t buf[FUNNEL_PREAMBLE_LEN];
	enum funnel_preamble_verdict v = FUNNEL_PREAMBLE_NEED_MORE;
	size_t have = 0;

	while (v == FUNNEL_PREAMBLE_NEED_MORE) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t n;

		if (now >= deadline)
			break;
		if (poll(&p, 1, (int)(deadline - now)) <= 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		v = funnel_preamble_check(buf, have);
	}
	if (v == FUNNEL_PREAMBLE_OK)
		return 0;
	fprintf(stderr, PROG ": bad preamble\n");
	return -1;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int connect_retry(const struct endpoint *ep, const char *arg)
{
	uint64_t deadline = now_ms() + CONNECT_TIMEOUT_MS;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	endpoint_sockaddr(ep, &ss, &len);
	for (;;) {
		fd = carrier_socket(ep->family);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&ss, len))
			break;
		err = errno;
		close(fd);
		if ((err != ECONNREFUSED && err != ENETUNREACH) ||
		    now_ms() + CONNECT_RETRY_MS > deadline) {
			fprintf(stderr, PROG ": connect %s: %s\n", arg,
				strerror(err));
			return -1;
		}
		sleep_ms(CONNECT_RETRY_MS);
	}
	if (!use_sctp && send_all(fd, FUNNEL_PREAMBLE, FUNNEL_PREAMBLE_LEN)) {
		fprintf(stderr, PROG ": send preamble: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- netlink ---- */

static const char *attr_name(int type)
{
	const struct funnel_attr_desc *d = NULL;

	if (type > 0)
		d = funnel_attr_desc(funnel_attr_set(FUNNEL_SET_FUNNEL),
				     (unsigned int)type);
	return d ? d->name : "?";
}

/* "funnel-tun: OP: strerror: extack message[; bad/missing attribute X]" */
static int nl_error(const struct funnel_genl *g, const char *op, int err)
{
	const struct funnel_extack *e = &g->ext;
	char msg[FUNNEL_EXTACK_MSG_MAX + 128];
	size_t used;

	snprintf(msg, sizeof(msg), "%s", e->msg);
	if (e->has_miss_type && e->miss_in < 0) {
		used = strlen(msg);
		snprintf(msg + used, sizeof(msg) - used,
			 "%smissing attribute %s", used ? "; " : "",
			 attr_name((int)e->miss_type));
	}
	if (e->bad_attr >= 0) {
		used = strlen(msg);
		snprintf(msg + used, sizeof(msg) - used, "%sbad attribute %s",
			 used ? "; " : "", attr_name(e->bad_attr));
	}
	fprintf(stderr, PROG ": %s: %s%s%s\n", op, strerror(-err),
		msg[0] ? ": " : "", msg);
	return EXIT_NETLINK;
}

static int on_carrier(struct nl_msg *msg, void *arg)
{
	static const struct nla_policy policy[FUNNEL_A_MAX + 1] = {
		[FUNNEL_A_CARRIER_ID] = { .type = NLA_U32 },
	};
	struct nlattr *tb[FUNNEL_A_MAX + 1];
	uint32_t *id = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, FUNNEL_A_MAX, policy) < 0 ||
	    !tb[FUNNEL_A_CARRIER_ID])
		return -EBADMSG;
	*id = nla_get_u32(tb[FUNNEL_A_CARRIER_ID]);
	return 0;
}

static int carrier_new(struct funnel_genl *g, int fd, uint32_t *id)
{
	struct nl_msg *req;
	int err;

	req = funnel_genl_msg(g, FUNNEL_CMD_CARRIER_NEW, 0);
	if (!req || nla_put_s32(req, FUNNEL_A_SOCK_FD, fd) < 0) {
		funnel_genl_msg_free(req);
		return nl_error(g, "carrier-new", -ENOMEM);
	}
	*id = 0;
	err = funnel_genl_request(g, req, on_carrier, id);
	if (!err && !*id)
		err = -EBADMSG;
	if (err)
		return nl_error(g, "carrier-new", err);
	return 0;
}

static int put_endpoint(struct nl_msg *req, const struct endpoint *ep,
			uint16_t port, bool remote)
{
	int a4 = remote ? FUNNEL_A_REMOTE_IPV4 : FUNNEL_A_LOCAL_IPV4;
	int a6 = remote ? FUNNEL_A_REMOTE_IPV6 : FUNNEL_A_LOCAL_IPV6;
	int ap = remote ? FUNNEL_A_REMOTE_PORT : FUNNEL_A_LOCAL_PORT;

	if (ep->has_addr && ep->family == AF_INET &&
	    nla_put_u32(req, a4, ep->v4.s_addr) < 0)
		return -1;
	if (ep->has_addr && ep->family == AF_INET6 &&
	    nla_put(req, a6, sizeof(ep->v6), &ep->v6) < 0)
		return -1;
	return nla_put_u16(req, ap, htons(port)) < 0 ? -1 : 0;
}

static int stream_new(struct funnel_genl *g, uint32_t carrier,
		      const struct stream_opt *so, uint32_t i)
{
	uint16_t id = (uint16_t)(so->first_id + i);
	uint16_t port = (uint16_t)(so->ep.port + i);
	struct nl_msg *req;
	int err, bad = 0;

	req = funnel_genl_msg(g, FUNNEL_CMD_STREAM_NEW, 0);
	if (!req)
		return nl_error(g, "stream-new", -ENOMEM);
	bad |= nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0;
	bad |= nla_put_u16(req, FUNNEL_A_STREAM_ID, id) < 0;
	bad |= nla_put_u32(req, FUNNEL_A_STREAM_KIND, so->kind) < 0;
	if (so->kind == FUNNEL_STREAM_UDP_LISTEN)
		bad |= put_endpoint(req, &so->ep, port, false) < 0;
	else if (so->kind == FUNNEL_STREAM_UDP_CONNECT)
		bad |= put_endpoint(req, &so->ep, port, true) < 0;
	if (so->unordered)
		bad |= nla_put_flag(req, FUNNEL_A_UNORDERED) < 0;
	if (so->has_idle)
		bad |= nla_put_u32(req, FUNNEL_A_FLOW_IDLE_MS, so->idle_ms) < 0;
	if (so->has_max)
		bad |= nla_put_u32(req, FUNNEL_A_FLOW_MAX, so->flow_max) < 0;
	if (so->has_ttl)
		bad |= nla_put_u32(req, FUNNEL_A_PR_TTL_MS, so->pr_ttl_ms) < 0;
	if (bad) {
		funnel_genl_msg_free(req);
		return nl_error(g, "stream-new", -EMSGSIZE);
	}
	err = funnel_genl_request(g, req, NULL, NULL);
	if (err) {
		nl_error(g, "stream-new", err);
		fprintf(stderr, PROG ": stream %u was not created\n", id);
		return EXIT_NETLINK;
	}
	return 0;
}

/* ---- CTRL frames ---- */

/* Frame i of the test sequence (header and body) into buf; its length. */
static size_t ctrl_frame(uint32_t i, uint8_t *buf)
{
	struct funnel_frame f = {
		.stream = FUNNEL_CTRL_STREAM,
		.type = FUNNEL_T_CTRL,
	};
	size_t len = i % 50 == 49 ? 60000 : (size_t)(i * 7919ULL % 3000);
	uint8_t *body = buf + FUNNEL_HDR_LEN;
	uint32_t x = i * 2654435761U + 1;

	funnel_hdr_encode(buf, &f);
	for (size_t k = 0; k < len; k++) {
		x = x * 1103515245U + 12345U;
		body[k] = (uint8_t)(x >> 16);
	}
	if (len >= 4) {
		uint32_t be = htonl(i);

		memcpy(body, &be, sizeof(be));
	}
	return FUNNEL_HDR_LEN + len;
}

/* Check received frame number i: NULL if good, else what is wrong. */
static const char *ctrl_check(uint32_t i, const uint8_t *buf, size_t len,
			      int msg_flags)
{
	struct funnel_frame f;
	size_t want;

	if (msg_flags & MSG_TRUNC)
		return "truncated by recv";
	if (funnel_frame_parse(buf, len, &f) != FUNNEL_FRAME_OK)
		return "not a valid frame";
	if (f.type != FUNNEL_T_CTRL || f.stream != FUNNEL_CTRL_STREAM)
		return "not a CTRL frame on stream 0";
	want = ctrl_frame(i, want_frame);
	if (len != want)
		return "wrong length";
	if (memcmp(buf, want_frame, len))
		return "wrong header or body";
	return NULL;
}

/* Send frames until done, SEND_BATCH of them, or EAGAIN.  -1: error. */
static int ctrl_send_some(struct ctrl_run *r, bool *blocked, int *progress)
{
	for (int n = 0; n < SEND_BATCH && r->sent < r->nsend; n++) {
		size_t len = ctrl_frame(r->sent, tx_frame);
		ssize_t ret;

		ret = send(r->fd, tx_frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*blocked = true;
			return 0;
		}
		if (ret < 0 && errno == EINTR)
			return 0;
		if (ret < 0) {
			fprintf(stderr, PROG ": send frame %u: %s\n", r->sent,
				strerror(errno));
			return -1;
		}
		if ((size_t)ret != len) {
			fprintf(stderr, PROG ": send frame %u: %zd of %zu bytes\n",
				r->sent, ret, len);
			return -1;
		}
		r->sent++;
		(*progress)++;
	}
	return 0;
}

/* Receive every frame queued.  -1: error; the peer closing is not one. */
static int ctrl_recv_all(struct ctrl_run *r, int *progress)
{
	for (;;) {
		struct iovec iov = { rx_buf, sizeof(rx_buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		const char *why;
		ssize_t n;

		n = recvmsg(r->fd, &mh, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == EINTR))
			return 0;
		if (n < 0) {
			fprintf(stderr, PROG ": recv: %s\n", strerror(errno));
			return -1;
		}
		if (n == 0) {
			r->peer_closed = true;
			return 0;
		}
		(*progress)++;
		if (r->has_expect && r->received >= r->nexpect)
			why = "more frames than --ctrl-expect";
		else
			why = ctrl_check(r->received, rx_buf, (size_t)n,
					 mh.msg_flags);
		if (why) {
			if (!r->bad)
				fprintf(stderr, PROG ": frame %u (%zd bytes): %s\n",
					r->received, n, why);
			r->bad++;
		}
		r->received++;
		if (r->bad && r->exit_when_done)
			return 0;
	}
}

static bool ctrl_done(const struct ctrl_run *r)
{
	return r->sent == r->nsend && r->received >= r->nexpect;
}

/*
 * Closing the socket drops the frames the ULP has not yet written to TCP,
 * so before exiting on its own the tool waits (receiving meanwhile) until
 * TCP has had no unacknowledged data for DRAIN_QUIET_MS.
 */
static bool tx_drained(int fd, uint64_t *empty_since)
{
	struct sctp_status st = { 0 };
	socklen_t len = sizeof(st);
	int outq = 0;

	if (use_sctp) {
		if (getsockopt(fd, IPPROTO_SCTP, SCTP_STATUS, &st, &len))
			outq = -1;
		else
			outq = (int)(st.sstat_unackdata + st.sstat_penddata);
	} else if (ioctl(fd, SIOCOUTQ, &outq)) {
		outq = -1;
	}
	if (outq) {
		*empty_since = 0;
		return false;
	}
	if (!*empty_since)
		*empty_since = now_ms();
	return now_ms() - *empty_since >= DRAIN_QUIET_MS;
}

static void ctrl_pump(struct ctrl_run *r)
{
	bool blocked = false, woke = false, draining = false, hup = false;
	uint64_t drain_end = 0, hup_since = 0, empty_since = 0;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = r->fd, .events = POLLIN | POLLRDHUP },
			{ .fd = sig_pipe[0], .events = POLLIN },
		};
		uint32_t received = r->received;
		int progress = 0, timeout = -1, ret;

		if (got_signal || (r->exit_when_done && r->bad))
			return;
		if (r->exit_when_done && ctrl_done(r) && !draining) {
			if (!r->sent)
				return;
			draining = true;
			drain_end = now_ms() + DRAIN_TIMEOUT_MS;
		}
		if (draining) {
			if (tx_drained(r->fd, &empty_since))
				return;
			if (now_ms() >= drain_end) {
				fprintf(stderr, PROG ": frames still unsent at exit\n");
				return;
			}
			timeout = 10;
		}

		if (ctrl_recv_all(r, &progress)) {
			r->error = true;
			return;
		}
		if (r->peer_closed || (r->exit_when_done && r->bad))
			return;
		/* Once the peer has closed, the ULP's non-blocking recvmsg()
		 * answers EAGAIN, not 0, when no frame is left: the end is
		 * seen from poll(), after a moment for frames still being
		 * parsed.
		 */
		if (hup && r->received == received) {
			if (!hup_since) {
				hup_since = now_ms();
			} else if (now_ms() - hup_since >= HUP_GRACE_MS) {
				r->peer_closed = true;
				return;
			}
		} else {
			hup_since = 0;
		}
		if (!blocked && now_ms() >= r->send_after &&
		    ctrl_send_some(r, &blocked, &progress)) {
			r->error = true;
			return;
		}
		if (r->exit_when_done && ctrl_done(r) && !draining)
			continue;

		/* poll() may report the socket ready while the ULP has no
		 * frame or no room yet: do not spin on that.
		 */
		if (woke && !progress)
			sleep_ms(1);
		if (r->sent < r->nsend) {
			if (now_ms() < r->send_after)
				timeout = (int)(r->send_after - now_ms());
			else if (blocked)
				p[0].events |= POLLOUT;
			else
				timeout = 0;
		}
		ret = poll(p, 2, timeout);
		if (ret < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			r->error = true;
			return;
		}
		woke = ret > 0 && timeout != 0;
		if (ret > 0 && p[1].revents)
			return;
		hup = ret > 0 && (p[0].revents & (POLLRDHUP | POLLHUP));
		blocked = false;
	}
}

/* ---- main ---- */

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	got_signal = 1;
	if (write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wakeup is already pending */
	}
	errno = saved;
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC))
		return -1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -1;
	return 0;
}

static int write_ready(const char *file, uint32_t carrier)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp)) {
		fprintf(stderr, PROG ": %s: name too long\n", file);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", carrier) < 0 || fclose(f) ||
	    rename(tmp, file)) {
		fprintf(stderr, PROG ": %s: %s\n", f ? file : tmp,
			strerror(errno));
		return -1;
	}
	return 0;
}

enum {
	OPT_LISTEN = 256, OPT_CONNECT, OPT_UDP_LISTEN, OPT_UDP_CONNECT,
	OPT_USER, OPT_UDP_LISTEN_RANGE, OPT_UDP_CONNECT_RANGE, OPT_UNORDERED,
	OPT_IDLE, OPT_MAX, OPT_READY, OPT_CTRL_SEND, OPT_CTRL_EXPECT,
	OPT_EXIT_WHEN_DONE,
	OPT_CTRL_DELAY, OPT_SCTP, OPT_SCTP_STREAMS, OPT_PR_TTL,
};

static const struct option options[] = {
	{ "listen",		required_argument, NULL, OPT_LISTEN },
	{ "connect",		required_argument, NULL, OPT_CONNECT },
	{ "udp-listen",		required_argument, NULL, OPT_UDP_LISTEN },
	{ "udp-connect",	required_argument, NULL, OPT_UDP_CONNECT },
	{ "user",		required_argument, NULL, OPT_USER },
	{ "udp-listen-range",	required_argument, NULL, OPT_UDP_LISTEN_RANGE },
	{ "udp-connect-range",	required_argument, NULL, OPT_UDP_CONNECT_RANGE },
	{ "unordered",		no_argument,	   NULL, OPT_UNORDERED },
	{ "idle",		required_argument, NULL, OPT_IDLE },
	{ "max",		required_argument, NULL, OPT_MAX },
	{ "ready",		required_argument, NULL, OPT_READY },
	{ "ctrl-send",		required_argument, NULL, OPT_CTRL_SEND },
	{ "ctrl-expect",	required_argument, NULL, OPT_CTRL_EXPECT },
	{ "exit-when-done",	no_argument,	   NULL, OPT_EXIT_WHEN_DONE },
	{ "ctrl-delay",		required_argument, NULL, OPT_CTRL_DELAY },
	{ "sctp",		no_argument,	   NULL, OPT_SCTP },
	{ "sctp-streams",	required_argument, NULL, OPT_SCTP_STREAMS },
	{ "pr-ttl",		required_argument, NULL, OPT_PR_TTL },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int main(int argc, char **argv)
{
	struct ctrl_run run = { .fd = -1 };
	const char *carrier_arg = NULL, *ready = NULL;
	struct stream_opt *streams, *last = NULL;
	struct endpoint carrier_ep = { .port = 0 };
	struct funnel_genl g;
	bool listening = false, ok;
	uint32_t carrier = 0;
	int nstreams = 0, opt, idx, ret, one = 1;
	uint32_t delay_ms = 0;
	char buf[256], name[64];

	streams = calloc((size_t)argc, sizeof(*streams));
	if (!streams)
		return EXIT_FAIL;

	opterr = 0;
	while ((idx = -1,
		opt = getopt_long(argc, argv, "+:h", options, &idx)) != -1) {
		uint32_t kind = 0;
		bool range = false;

		if (idx >= 0)
			snprintf(name, sizeof(name), "--%s", options[idx].name);
		else
			snprintf(name, sizeof(name), "%s", argv[optind - 1]);

		switch (opt) {
		case 'h':
			usage(stdout);
			return 0;
		case OPT_LISTEN:
		case OPT_CONNECT:
			if (carrier_arg)
				return usage_error("only one --listen or --connect");
			carrier_arg = optarg;
			listening = opt == OPT_LISTEN;
			snprintf(buf, sizeof(buf), "%s", optarg);
			if (strlen(optarg) >= sizeof(buf) ||
			    parse_endpoint(buf, true, &carrier_ep))
				return usage_error("bad address '%s' (ADDR:PORT or [ADDR6]:PORT)",
						   optarg);
			break;
		case OPT_UDP_LISTEN_RANGE:
			range = true;
			/* fall through */
		case OPT_UDP_LISTEN:
			kind = FUNNEL_STREAM_UDP_LISTEN;
			break;
		case OPT_UDP_CONNECT_RANGE:
			range = true;
			/* fall through */
		case OPT_UDP_CONNECT:
			kind = FUNNEL_STREAM_UDP_CONNECT;
			break;
		case OPT_USER:
			kind = FUNNEL_STREAM_USER;
			break;
		case OPT_SCTP:
			use_sctp = true;
			break;
		case OPT_SCTP_STREAMS:
			if (parse_u32(optarg, 1, 65535, &sctp_streams))
				return usage_error("bad --sctp-streams '%s'", optarg);
			break;
		case OPT_UNORDERED:
		case OPT_IDLE:
		case OPT_MAX:
		case OPT_PR_TTL:
			if (!last)
				return usage_error("'%s' must follow a stream option",
						   name);
			if (opt == OPT_UNORDERED) {
				last->unordered = true;
			} else if (opt == OPT_PR_TTL) {
				if (parse_u32(optarg, 0, UINT32_MAX, &last->pr_ttl_ms))
					return usage_error("bad --pr-ttl '%s'", optarg);
				last->has_ttl = true;
			} else if (opt == OPT_IDLE) {
				if (parse_u32(optarg, 0, UINT32_MAX, &last->idle_ms))
					return usage_error("bad --idle '%s'", optarg);
				last->has_idle = true;
			} else {
				if (parse_u32(optarg, 0, UINT32_MAX, &last->flow_max))
					return usage_error("bad --max '%s'", optarg);
				last->has_max = true;
			}
			break;
		case OPT_READY:
			ready = optarg;
			break;
		case OPT_CTRL_SEND:
			if (parse_u32(optarg, 0, UINT32_MAX, &run.nsend))
				return usage_error("bad --ctrl-send '%s'", optarg);
			break;
		case OPT_CTRL_EXPECT:
			if (parse_u32(optarg, 0, UINT32_MAX, &run.nexpect))
				return usage_error("bad --ctrl-expect '%s'", optarg);
			run.has_expect = true;
			break;
		case OPT_EXIT_WHEN_DONE:
			run.exit_when_done = true;
			break;
		case OPT_CTRL_DELAY:
			if (parse_u32(optarg, 0, 600000, &delay_ms))
				return usage_error("bad --ctrl-delay '%s'", optarg);
			break;
		case ':':
			return usage_error("'%s' needs an argument", name);
		default:
			return usage_error("unknown option '%s'", name);
		}
		if (kind) {
			last = &streams[nstreams++];
			if (parse_stream(optarg, kind, range, last))
				return usage_error("bad stream '%s %s'", name,
						   optarg);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!carrier_arg)
		return usage_error("missing --listen or --connect");

	if (listening) {
		run.fd = listen_accept(&carrier_ep, carrier_arg);
		if (run.fd >= 0 && !use_sctp && read_preamble(run.fd)) {
			close(run.fd);
			return EXIT_FAIL;
		}
	} else {
		run.fd = connect_retry(&carrier_ep, carrier_arg);
	}
	if (run.fd < 0)
		return EXIT_FAIL;
	/* frames are datagrams: no Nagle delay behind a small one */
	if (use_sctp)
		setsockopt(run.fd, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof(one));
	else
		setsockopt(run.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!use_sctp && setsockopt(run.fd, SOL_TCP, TCP_ULP, "funnel", 6)) {
		fprintf(stderr, PROG ": TCP_ULP funnel: %s\n", strerror(errno));
		close(run.fd);
		return EXIT_FAIL;
	}

	ret = funnel_genl_open(&g);
	if (ret) {
		fprintf(stderr, PROG ": generic netlink family \"%s\": %s\n",
			FUNNEL_FAMILY_NAME, strerror(-ret));
		close(run.fd);
		return EXIT_NETLINK;
	}
	ret = carrier_new(&g, run.fd, &carrier);
	for (int s = 0; !ret && s < nstreams; s++)
		for (uint32_t i = 0; !ret && i < streams[s].count; i++)
			ret = stream_new(&g, carrier, &streams[s], i);
	funnel_genl_close(&g);
	free(streams);
	if (ret) {
		close(run.fd);
		return ret;
	}

	if (setup_signals()) {
		fprintf(stderr, PROG ": signals: %s\n", strerror(errno));
		close(run.fd);
		return EXIT_FAIL;
	}
	run.send_after = now_ms() + delay_ms;
	if (ready && write_ready(ready, carrier))
		run.error = true;
	else
		ctrl_pump(&run);
	close(run.fd);

	printf(PROG ": carrier %u ctrl sent %u received %u bad %u\n", carrier,
	       run.sent, run.received, run.bad);
	ok = (!run.has_expect || run.received == run.nexpect) && !run.bad &&
	     !run.error;
	return ok ? 0 : EXIT_FAIL;
}
