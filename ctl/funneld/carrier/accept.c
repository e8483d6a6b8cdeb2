// SPDX-License-Identifier: GPL-2.0
/*
 * Incoming carriers: accept() on the listeners, and the limits that
 * keep a flood of handshakes or one principal from taking the daemon:
 * handshakes in all and per address (IPv6: per /64), carriers and
 * streams per principal; listeners pause on EMFILE.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include "funneld/carrier/csec.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/upath.h"
#include "funneld/log.h"

/* Out of file descriptors: stop accepting for a while, do not spin. */
static void accept_resume(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	for (struct listener *ln = d->listeners; ln; ln = ln->next)
		loop_mod(l, ln->fd, EPOLLIN);
}

void carrier_accept_init(struct daemon *d)
{
	loop_timer_init(&d->accept_pause, accept_resume, d);
}

/*
 * Every listener stops until the pause ends.  Another listener of the
 * same epoll round may fail too: the pause is armed once.
 */
static void listeners_pause(struct daemon *d)
{
	if (d->accept_pause.armed)
		return;
	log_warn("accept: %s: not accepting carriers for %u ms",
		 strerror(errno), CAR_ACCEPT_PAUSE_MS);
	for (struct listener *ln = d->listeners; ln; ln = ln->next)
		loop_mod(d->loop, ln->fd, 0);
	loop_timer_arm(d->loop, &d->accept_pause, CAR_ACCEPT_PAUSE_MS);
}

/* The same host: family and address, the port aside. */
static bool same_host(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
		const struct in6_addr *y = &((const struct sockaddr_in6 *)b)->sin6_addr;

		/* an IPv4 client of a dual-stack listener is its IPv4
		 * address; an IPv6 host has a /64 to pick addresses from
		 */
		if (IN6_IS_ADDR_V4MAPPED(x) || IN6_IS_ADDR_V4MAPPED(y))
			return !memcmp(x, y, sizeof(*x));
		return !memcmp(x, y, 8);
	}
	return false;
}

/*
 * Incoming carriers up whose peer authenticated as principal, other than
 * skip, and how many streams they have (*streams, may be NULL).  One
 * principal (one peer's credentials, stolen or not) cannot take every
 * carrier and stream this daemon would serve.
 */
unsigned int car_principal_carriers(const struct daemon *d,
				    const char *principal,
				    const struct carrier *skip,
				    unsigned int *streams)
{
	unsigned int n = 0;

	if (streams)
		*streams = 0;
	for (const struct carrier *c = d->carriers; c; c = c->next) {
		if (c == skip || c->peer || c->state != CAR_UP ||
		    strcmp(c->peer_principal, principal))
			continue;
		n++;
		if (streams)
			*streams += cs_count(c);
	}
	return n;
}

/* Incoming carriers from the host of ss (its IPv6 /64) still in their
 * handshake.
 */
static unsigned int handshakes_from(const struct daemon *d,
				    const struct sockaddr_storage *ss)
{
	unsigned int n = 0;

	for (const struct carrier *c = d->carriers; c; c = c->next)
		if (!c->peer && c->state != CAR_UP && c->fd >= 0 &&
		    same_host(&c->remote, ss))
			n++;
	return n;
}

void carrier_accept(struct daemon *d, struct listener *ln)
{
	int lfd = ln->fd;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct carrier *c;
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			listeners_pause(d);
		else if (errno != EAGAIN && errno != EINTR)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	addr_format(&ss, d->scratch, sizeof(d->scratch));
	if (d->handshakes >= CAR_HANDSHAKES_MAX) {
		log_warn("incoming carrier from %s refused: %u carriers in their handshake",
			 d->scratch, d->handshakes);
		d->refused_handshakes++;
		close(fd);
		return;
	}
	/* one host cannot take every handshake slot from the others */
	if (handshakes_from(d, &ss) >= CAR_HANDSHAKES_PER_ADDR) {
		log_warn("incoming carrier from %s refused: %u carriers from that address in their handshake",
			 d->scratch, CAR_HANDSHAKES_PER_ADDR);
		d->refused_address++;
		close(fd);
		return;
	}
	c = car_alloc(d);
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->remote = ss;
	snprintf(c->remote_text, sizeof(c->remote_text), "%s", d->scratch);
	c->state = CAR_PREAMBLE;
	d->handshakes++;
	if (ln->proto == IPPROTO_SCTP)
		c->ops = car_sctp_is_udp(fd) ? &carrier_sctp_udp_ops :
					       &carrier_sctp_ops;
	if (loop_add(d->loop, fd, EPOLLIN, car_io, c)) {
		carrier_fail(c, "event loop: out of memory");
		return;
	}
	loop_timer_arm(d->loop, &c->t_timeout, CAR_TIMEOUT_MS);
	log_debug("incoming %s carrier from %s", c->ops->name, c->remote_text);
	/* SCTP has no preamble: the association is up */
	if (!c->ops->accept_read)
		car_established(c);
}

void carrier_pause_cancel(struct daemon *d)
{
	loop_timer_cancel(d->loop, &d->accept_pause);
}

void car_accept_read(struct carrier *c)
{
	char err[DAEMON_TEXT_MAX];
	int ret = c->ops->accept_read(c, err, sizeof(err));

	if (ret < 0)
		carrier_fail(c, "%s", err);
	else if (ret > 0)
		car_established(c);
}
