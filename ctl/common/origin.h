/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A flow's origin (wire-format.md section 6.1): the client's address and
 * port as the client-side funneld accepted or received it, and the
 * address and port it reached.  The opening DATA frame of a TCP flow and
 * the ORIGIN attribute of the control protocol carry it, 16 bytes (IPv4)
 * or 40 (IPv6):
 *
 *   family(1: 4|6) reserved(1: 0) sport(2) dport(2) reserved(2: 0)
 *   saddr(4|16) daddr(4|16)
 *
 * And the PROXY protocol v2 header (haproxy's proxy-protocol.txt,
 * section 2.2) that tells a TCP service the origin of a connection.
 */
#ifndef FUNNEL_ORIGIN_H
#define FUNNEL_ORIGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ORIGIN_LEN_V4	16
#define ORIGIN_LEN_V6	40
#define ORIGIN_LEN_MAX	ORIGIN_LEN_V6

struct origin {
	int family;		/* AF_INET or AF_INET6; 0: none */
	uint16_t sport, dport;	/* host order */
	uint8_t saddr[16], daddr[16];	/* 4 bytes used for AF_INET */
};

/*
 * Encode the origin of a flow from src (its client) and dst (the address
 * the client reached), IPv4 or IPv6 socket addresses.  An IPv4-mapped
 * IPv6 address is IPv4; when one of the two is IPv4 that way and the
 * other a real IPv6 address, both are written as IPv6.  Returns the
 * length (16 or 40), or -1 if either is neither IPv4 nor IPv6.
 */
int origin_encode(const struct sockaddr *src, const struct sockaddr *dst,
		  uint8_t out[ORIGIN_LEN_MAX]);

/*
 * Parse p[0..len): 0 with *o filled, or -1 with *why naming the rule
 * that failed (length, family, reserved bytes).
 */
int origin_parse(const uint8_t *p, size_t len, struct origin *o,
		 const char **why);

/* The source (else the destination) of o as a socket address. */
void origin_sockaddr(const struct origin *o, int dst,
		     struct sockaddr_storage *out);

/* "192.0.2.7:51234" or "[2001:db8::7]:51234": o's source. */
void origin_format_src(const struct origin *o, char *buf, size_t len);

/* Room for origin_format_src(). */
#define ORIGIN_FORMAT_MAX	56

/* The PROXY v2 signature and the longest header this code writes. */
#define PROXY_V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define PROXY_V2_SIG_LEN	12
#define PROXY_V2_HDR_MAX	(16 + 36)

/*
 * The PROXY protocol v2 header for a TCP connection from o: PROXY over
 * TCP/IPv4 (0x11) or TCP/IPv6 (0x21) with o's addresses and ports; with
 * o NULL (or o->family 0), the LOCAL command without addresses.
 * Returns its length (16, 28 or 52).
 */
size_t proxy_v2_header(const struct origin *o,
		       uint8_t out[PROXY_V2_HDR_MAX]);

#endif /* FUNNEL_ORIGIN_H */
