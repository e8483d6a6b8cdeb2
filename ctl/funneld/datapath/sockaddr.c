// SPDX-License-Identifier: GPL-2.0
/* IPv4 and IPv6 socket addresses of funneld's userspace streams. */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "funneld/datapath/sockaddr.h"

uint16_t dp_sa_port(const union dp_sa *a)
{
	return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port :
						  a->in6.sin6_port);
}

bool dp_sa_valid(const union dp_sa *a, socklen_t len)
{
	if (a->sa.sa_family == AF_INET)
		return len >= sizeof(a->in);
	return a->sa.sa_family == AF_INET6 && len >= sizeof(a->in6);
}

bool dp_sa_equal(const union dp_sa *a, const union dp_sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return a->in6.sin6_port == b->in6.sin6_port &&
	       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
		       sizeof(a->in6.sin6_addr));
}

socklen_t dp_sa_size(const union dp_sa *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
}

void dp_sa_report(struct sockaddr_storage *out, const union dp_sa *a)
{
	memset(out, 0, sizeof(*out));
	if (a->sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		in->sin_family = AF_INET;
		in->sin_port = a->in6.sin6_port;
		memcpy(&in->sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
		return;
	}
	if (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6)
		memcpy(out, a, dp_sa_size(a));
}

void dp_sa_format(const union dp_sa *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, dp_sa_port(a));
	} else {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, dp_sa_port(a));
	}
}

void dp_sa_local(int fd, union dp_sa *out)
{
	socklen_t len = sizeof(*out);

	if (getsockname(fd, &out->sa, &len) || !dp_sa_valid(out, len))
		memset(out, 0, sizeof(*out));
}
