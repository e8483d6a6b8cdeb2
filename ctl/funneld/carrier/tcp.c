// SPDX-License-Identifier: GPL-2.0
/*
 * TCP carriers (Documentation/wire-format.md sections 3 and 4): the
 * initiator sends the 8-byte preamble, then frames each preceded by a
 * 16-bit length.  On the kernel path the "funnel" ULP does the framing:
 * funneld sends and receives one whole frame per call.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <linux/funnel.h>

#include "funneld/carrier/priv.h"

#define TCP_RX_BATCH	16		/* reads per wakeup */

static uint8_t rx_buf[FUNNEL_DEFRAMER_BUFSZ];

static int tcp_connected(struct carrier *c, char *err, size_t errlen)
{
	/* the send buffer of a fresh connection takes 8 bytes */
	if (send(c->fd, FUNNEL_PREAMBLE, FUNNEL_PREAMBLE_LEN,
		 MSG_DONTWAIT | MSG_NOSIGNAL) != FUNNEL_PREAMBLE_LEN) {
		snprintf(err, errlen, "send preamble: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Read exactly the preamble: what follows belongs to the ULP. */
static int tcp_accept_read(struct carrier *c, char *err, size_t errlen)
{
	enum funnel_preamble_verdict v;
	ssize_t n;

	n = recv(c->fd, c->pre + c->pre_have, sizeof(c->pre) - c->pre_have,
		 MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		snprintf(err, errlen, "recv: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "closed before the preamble");
		return -1;
	}
	c->pre_have += (size_t)n;
	v = funnel_preamble_check(c->pre, c->pre_have);
	if (v == FUNNEL_PREAMBLE_NEED_MORE)
		return 0;
	if (v != FUNNEL_PREAMBLE_OK) {
		snprintf(err, errlen, "bad preamble: %s",
			 funnel_preamble_verdict_name(v));
		return -1;
	}
	return 1;
}

static void tcp_setup(struct carrier *c)
{
	int one = 1;

	/* frames are datagrams: no Nagle delay behind a small one */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int tcp_kernel_attach(struct carrier *c)
{
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, "funnel", 6))
		return -errno;
	return 0;
}

/* User path: deframe the byte stream. */
static void tcp_read_user(struct carrier *c)
{
	for (int i = 0; i < TCP_RX_BATCH && c->fd >= 0; i++) {
		ssize_t n = recv(c->fd, rx_buf, sizeof(rx_buf), MSG_DONTWAIT);
		const uint8_t *p = rx_buf;
		size_t left;

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				carrier_fail(c, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			carrier_fail(c, "closed by the peer%s",
				     funnel_deframer_pending(&c->df) ?
				     " in the middle of a frame" : "");
			return;
		}
		left = (size_t)n;
		while (c->fd >= 0) {
			enum funnel_deframe_status st;
			const uint8_t *frame;
			size_t flen;

			st = funnel_deframe(&c->df, &p, &left, &frame, &flen);
			if (st == FUNNEL_DEFRAME_NEED_MORE)
				break;
			if (st != FUNNEL_DEFRAME_FRAME) {
				carrier_fail(c, "%s",
					     st == FUNNEL_DEFRAME_BAD_LENGTH ?
					     "bad-length: length prefix below the header size" :
					     "oversize frame");
				return;
			}
			carrier_frame(c, frame, flen);
		}
	}
}

static void tcp_read(struct carrier *c)
{
	if (c->kernel)
		car_read_kernel(c);
	else
		tcp_read_user(c);
}

/* The queue holds frames with their length prefix: the byte stream. */
static int tcp_write(struct carrier *c)
{
	if (c->kernel)
		return car_write_kernel(c);
	while (c->ooff < c->olen) {
		ssize_t n = send(c->fd, c->obuf + c->ooff, c->olen - c->ooff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			return -errno;
		}
		c->ooff += (size_t)n;
	}
	return 0;
}

const struct carrier_ops carrier_tcp_ops = {
	.name = "tcp",
	.socktype = SOCK_STREAM,
	.protocol = IPPROTO_TCP,
	.connected = tcp_connected,
	.accept_read = tcp_accept_read,
	.setup = tcp_setup,
	.kernel_attach = tcp_kernel_attach,
	.read = tcp_read,
	.write = tcp_write,
};
