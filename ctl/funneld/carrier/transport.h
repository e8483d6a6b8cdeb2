/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport of a carrier, between carrier.c (control protocol,
 * streams, reconnect: the same for every transport) and one file per
 * transport (carrier_tcp.c; SCTP comes next).  A transport knows how a
 * connection is made and checked, how frames are delimited on it, and
 * how it is handed to funnel.ko.
 */
#ifndef FUNNEL_CARRIER_H
#define FUNNEL_CARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "funneld/daemon.h"

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

/* One whole frame (header and body) arrived on the carrier. */
void carrier_frame(struct carrier *c, const uint8_t *buf, size_t len);

/* A control message (stream 0 CTRL frame body) of the peer. */
void carrier_ctrl(struct carrier *c, const uint8_t *body, size_t len);

/* For csec.c: the carrier's side of contexts and keys. */
const char *carrier_name(const struct carrier *c);
void carrier_send_ctrl(struct carrier *c, struct ctrl_msg *m);
/* A CTRL frame on stream (a GSS-API token); 0 or -1 (carrier failing). */
int carrier_send_token(struct carrier *c, uint16_t stream, const void *tok,
		       size_t len);
/* The carrier's context is established: send HELLO (state CAR_HELLO). */
void carrier_hello(struct carrier *c);
/*
 * Initiator: the first step of the carrier's context is done (err NULL:
 * its token waits to be sent; else why it failed): connect now.
 */
void carrier_prepared(struct carrier *c, const char *err);
/*
 * Client: the first step of a stream's context is done (err NULL), or
 * failed: send OPEN and the token, or give the map up for now.
 */
void carrier_stream_prepared(struct carrier *c, struct cstream *cs,
			     const char *err);
/*
 * Server: the stream's context is established and authorized: install
 * the stream with its keys, send tok (the context's last token), then
 * OPEN_OK.  On failure the stream is refused and removed.
 */
void carrier_stream_accept(struct carrier *c, struct cstream *cs,
			   const void *tok, size_t toklen);
/* Refuse (server) or close (client) a stream and remove it. */
void carrier_stream_fail(struct carrier *c, struct cstream *cs,
			 uint16_t reason, const char *text);

/* Give the carrier up: log, tear down, reconnect later (outgoing). */
__attribute__((format(printf, 2, 3)))
void carrier_fail(struct carrier *c, const char *fmt, ...);

#endif /* FUNNEL_CARRIER_H */
