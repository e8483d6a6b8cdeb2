/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv4 and IPv6 socket addresses as funneld's userspace streams (upath.c,
 * tpath.c) bind, connect, compare and report them.
 */
#ifndef FUNNEL_SOCKADDR_H
#define FUNNEL_SOCKADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 socket address, as sockets take and give them. */
union dp_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* The port, in host order. */
uint16_t dp_sa_port(const union dp_sa *a);

/* A usable IPv4 or IPv6 address of len bytes. */
bool dp_sa_valid(const union dp_sa *a, socklen_t len);

/* Same family, address and port (scope and flow label do not count). */
bool dp_sa_equal(const union dp_sa *a, const union dp_sa *b);

/* The length of an IPv4 (else IPv6) address. */
socklen_t dp_sa_size(const union dp_sa *a);

/*
 * The address as the kernel reports it: a v4-mapped IPv6 address (an IPv4
 * client of a dual-stack socket) becomes IPv4; anything but IPv4 and IPv6
 * (an address that is not known) stays all zero.
 */
void dp_sa_report(struct sockaddr_storage *out, const union dp_sa *a);

/* "192.0.2.1:53" or "[2001:db8::1]:53", for error messages. */
void dp_sa_format(const union dp_sa *a, char *buf, size_t len);

/* Room for dp_sa_format(). */
#define DP_SA_FORMAT_MAX	(INET6_ADDRSTRLEN + 8)

/* Our end of socket fd, or all zero. */
void dp_sa_local(int fd, union dp_sa *out);

#endif /* FUNNEL_SOCKADDR_H */
