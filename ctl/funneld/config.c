// SPDX-License-Identifier: GPL-2.0
/*
 * funneld's configuration (listen, peers, services, maps, as the
 * statements left them) and what every part of the daemon shares: the
 * event loop, funnel.ko's netlink socket, the worker pools.  Lookups and
 * address helpers; changing the configuration is daemon.c's.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include "funneld/config.h"
#include "funneld/log.h"

/* ---- addresses ---- */

int addr_resolve(const struct stmt_addr *a, int socktype,
		 struct sockaddr_storage *ss, socklen_t *len,
		 char *err, size_t errlen)
{
	(void)socktype;
	memset(ss, 0, sizeof(*ss));
	if (a->is_name) {
		/* never getaddrinfo() in the loop: resolve_start() */
		snprintf(err, errlen, "'%s' is a name, not an address",
			 a->host);
		return -1;
	}
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = a->in4;
		sin->sin_port = htons(a->port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)ss;

		/* no address: the any address, dual-stack */
		sin6->sin6_family = AF_INET6;
		if (a->family == AF_INET6)
			sin6->sin6_addr = a->in6;
		sin6->sin6_port = htons(a->port);
		*len = sizeof(*sin6);
	}
	return 0;
}

/* Worker pools: threads, and jobs that may wait for one. */
#define WK_DNS_THREADS		2
#define WK_DNS_QUEUE		256
#define WK_GSS_THREADS		4
#define WK_GSS_QUEUE		(FUNNEL_STREAMS_MAX + 64)

struct workers *config_workers_dns(struct daemon *d)
{
	if (!d->wk_dns)
		d->wk_dns = workers_new(d->loop, "dns", WK_DNS_THREADS,
					WK_DNS_QUEUE);
	return d->wk_dns;
}

struct workers *config_workers_gss(struct daemon *d)
{
	if (!d->wk_gss)
		d->wk_gss = workers_new(d->loop, "gss", WK_GSS_THREADS,
					WK_GSS_QUEUE);
	return d->wk_gss;
}

void addr_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], host,
				  sizeof(host));
			snprintf(buf, len, "%s:%u", host,
				 ntohs(sin6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, host,
				  sizeof(host));
			snprintf(buf, len, "[%s]:%u", host,
				 ntohs(sin6->sin6_port));
		}
	} else {
		snprintf(buf, len, "-");
	}
}

bool addr_equal(const struct sockaddr_storage *a,
		       const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	{
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
}

/* Open a socket bound to ss (v6 any address: dual-stack). -1 + err. */
int bind_socket(const struct sockaddr_storage *ss, socklen_t len,
		       int type, const char *what, char *err, size_t errlen)
{
	char text[64];
	int fd, one = 1, zero = 0;

	addr_format(ss, text, sizeof(text));
	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: socket: %s", what, text,
			 strerror(errno));
		return -1;
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (const struct sockaddr *)ss, len)) {
		snprintf(err, errlen, "%s %s: %s", what, text,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void host_port(const struct stmt_addr *a, uint16_t dflt, char *buf,
		      size_t len)
{
	bool v6 = a->family == AF_INET6 && !a->is_name;

	snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", a->host, v6 ? "]" : "",
		 a->port ? a->port : dflt);
}

void map_hold(struct map *m)
{
	char err[DAEMON_TEXT_MAX];

	if (m->hold_fd >= 0)
		return;
	m->hold_fd = bind_socket(&m->local, m->local_len,
				 m->s.proto == IPPROTO_TCP ? SOCK_STREAM :
				 SOCK_DGRAM, "map: bind", err, sizeof(err));
	if (m->hold_fd < 0)
		log_debug("%s", err);
}

void map_release(struct map *m)
{
	if (m->hold_fd >= 0)
		close(m->hold_fd);
	m->hold_fd = -1;
}

/* ---- lookups ---- */

struct peer *config_peer(struct daemon *d, const char *name)
{
	for (struct peer *p = d->peers; p; p = p->next)
		if (!strcmp(p->s.name, name))
			return p;
	return NULL;
}

struct service *config_service(struct daemon *d, const char *name)
{
	for (struct service *s = d->services; s; s = s->next)
		if (!strcmp(s->s.name, name))
			return s;
	return NULL;
}

struct map *config_map_find(struct daemon *d, int proto,
			    const struct sockaddr_storage *ss)
{
	for (struct map *m = d->maps; m; m = m->next)
		if (m->s.proto == proto && addr_equal(&m->local, ss))
			return m;
	return NULL;
}

const char *map_state_name(enum map_state st)
{
	switch (st) {
	case MAP_WAITING:
		return "waiting";
	case MAP_OPENING:
		return "opening";
	case MAP_OPEN:
		return "open";
	case MAP_REFUSED:
		return "refused";
	case MAP_CLOSED:
		return "closed";
	}
	return "?";
}
