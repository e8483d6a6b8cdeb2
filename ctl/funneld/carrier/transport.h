/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport of a carrier, between carrier.c (control protocol,
 * streams, reconnect: the same for every transport) and one file per
 * transport (tcp.c; SCTP comes next).  A transport knows how a
 * connection is made and checked, how frames are delimited on it, and
 * how it is handed to funnel.ko.
 */
#ifndef FUNNEL_CARRIER_TRANSPORT_H
#define FUNNEL_CARRIER_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct carrier;

struct carrier_ops {
	const char *name;		/* "tcp", shown in show */
	int socktype, protocol;		/* for socket() */
	/*
	 * Initiator: the connection is established; send what precedes
	 * frames (TCP: the preamble).  0, or -1 with err.
	 */
	int (*connected)(struct carrier *c, char *err, size_t errlen);
	/*
	 * Acceptor: read what precedes frames, never more.  1: complete,
	 * 0: more to come, -1: failed (err says why).
	 */
	int (*accept_read)(struct carrier *c, char *err, size_t errlen);
	/* Options for a connection that carries frames (TCP_NODELAY). */
	void (*setup)(struct carrier *c);
	/*
	 * Prepare the socket for funnel.ko (TCP: attach the ULP).  0, or
	 * -errno: the kernel does not take it, the socket is unchanged.
	 */
	int (*kernel_attach)(struct carrier *c);
	/*
	 * Read what arrived and hand each frame to carrier_frame(); stop
	 * once the carrier failed (c->fd < 0).
	 */
	void (*read)(struct carrier *c);
	/*
	 * Write queued frames (c->obuf from c->ooff: each a 2-byte length
	 * and the frame) and advance c->ooff.  0, or -errno.
	 */
	int (*write)(struct carrier *c);
};

extern const struct carrier_ops carrier_tcp_ops;

#endif /* FUNNEL_CARRIER_TRANSPORT_H */
