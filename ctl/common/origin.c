// SPDX-License-Identifier: GPL-2.0
/* A flow's origin, and the PROXY protocol v2 header: see origin.h. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/origin.h"

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* One address: its family (4 or 6, v4-mapped IPv6 is 4), the 16 bytes
 * of IPv6 (the IPv4 address in the last four of v4-mapped form) and the
 * port.  0, or -1 for another family.
 */
static int one(const struct sockaddr *sa, int *fam, uint8_t a6[16],
	       uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memcpy(a6, v4mapped, 12);
		memcpy(a6 + 12, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
		*fam = 4;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(a6, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
		*fam = memcmp(a6, v4mapped, 12) ? 6 : 4;
		return 0;
	}
	return -1;
}

int origin_encode(const struct sockaddr *src, const struct sockaddr *dst,
		  uint8_t out[ORIGIN_LEN_MAX])
{
	uint8_t s6[16], d6[16];
	uint16_t sp, dp;
	int sf, df;
	bool v4;

	if (one(src, &sf, s6, &sp) || one(dst, &df, d6, &dp))
		return -1;
	v4 = sf == 4 && df == 4;
	out[0] = v4 ? 4 : 6;
	out[1] = 0;
	out[2] = (uint8_t)(sp >> 8);
	out[3] = (uint8_t)sp;
	out[4] = (uint8_t)(dp >> 8);
	out[5] = (uint8_t)dp;
	out[6] = 0;
	out[7] = 0;
	if (v4) {
		memcpy(out + 8, s6 + 12, 4);
		memcpy(out + 12, d6 + 12, 4);
		return ORIGIN_LEN_V4;
	}
	memcpy(out + 8, s6, 16);
	memcpy(out + 24, d6, 16);
	return ORIGIN_LEN_V6;
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

int origin_parse(const uint8_t *p, size_t len, struct origin *o,
		 const char **why)
{
	size_t alen;

	if (len != ORIGIN_LEN_V4 && len != ORIGIN_LEN_V6)
		return fail(why, "origin neither 16 nor 40 bytes");
	if (p[0] != 4 && p[0] != 6)
		return fail(why, "origin family neither 4 nor 6");
	alen = p[0] == 4 ? 4 : 16;
	if (len != 8 + 2 * alen)
		return fail(why, "origin length does not fit its family");
	if (p[1] || p[6] || p[7])
		return fail(why, "origin reserved bytes not 0");
	memset(o, 0, sizeof(*o));
	o->family = p[0] == 4 ? AF_INET : AF_INET6;
	o->sport = (uint16_t)(p[2] << 8 | p[3]);
	o->dport = (uint16_t)(p[4] << 8 | p[5]);
	memcpy(o->saddr, p + 8, alen);
	memcpy(o->daddr, p + 8 + alen, alen);
	return 0;
}

void origin_sockaddr(const struct origin *o, int dst,
		     struct sockaddr_storage *out)
{
	const uint8_t *a = dst ? o->daddr : o->saddr;
	uint16_t port = dst ? o->dport : o->sport;

	memset(out, 0, sizeof(*out));
	if (o->family == AF_INET) {
		struct sockaddr_in *in = (void *)out;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a, 4);
	} else if (o->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)out;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a, 16);
	}
}

void origin_format_src(const struct origin *o, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (o->family == AF_INET) {
		inet_ntop(AF_INET, o->saddr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, o->sport);
	} else if (o->family == AF_INET6) {
		inet_ntop(AF_INET6, o->saddr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, o->sport);
	} else if (len) {
		buf[0] = '\0';
	}
}

size_t proxy_v2_header(const struct origin *o,
		       uint8_t out[PROXY_V2_HDR_MAX])
{
	size_t alen, body;

	memcpy(out, PROXY_V2_SIG, PROXY_V2_SIG_LEN);
	if (!o || (o->family != AF_INET && o->family != AF_INET6)) {
		out[12] = 0x20;		/* version 2, LOCAL */
		out[13] = 0x00;		/* AF_UNSPEC, UNSPEC */
		out[14] = 0;
		out[15] = 0;
		return 16;
	}
	alen = o->family == AF_INET ? 4 : 16;
	body = 2 * alen + 4;		/* 12 or 36 */
	out[12] = 0x21;			/* version 2, PROXY */
	out[13] = o->family == AF_INET ? 0x11 : 0x21;	/* TCP over v4|v6 */
	out[14] = 0;
	out[15] = (uint8_t)body;
	memcpy(out + 16, o->saddr, alen);
	memcpy(out + 16 + alen, o->daddr, alen);
	out[16 + 2 * alen] = (uint8_t)(o->sport >> 8);
	out[17 + 2 * alen] = (uint8_t)o->sport;
	out[18 + 2 * alen] = (uint8_t)(o->dport >> 8);
	out[19 + 2 * alen] = (uint8_t)o->dport;
	return 16 + body;
}
