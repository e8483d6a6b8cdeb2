/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport of a carrier, between carrier.c (control protocol,
 * streams, reconnect: the same for every transport) and one file per
 * transport (tcp.c, sctp.c).  A transport knows how a
 * connection is made and checked, how frames are delimited on it, and
 * how it is handed to funnel.ko.
 */
#ifndef FUNNEL_CARRIER_TRANSPORT_H
#define FUNNEL_CARRIER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct carrier;

struct carrier_ops {
	const char *name;		/* "tcp", "sctp", "sctp-udp": in show */
	int socktype, protocol;		/* for socket() */
	bool multihome;			/* one connect to every address */
	/*
	 * Options of a new socket (c->fd), before connect(); NULL: none.
	 * 0, or -1 with err.
	 */
	int (*prepare)(struct carrier *c, char *err, size_t errlen);
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
	/*
	 * Can stream id be used on the connection?  1: yes; 0: not yet
	 * (add: more were asked for, try again shortly); -1: no (err says
	 * why).  NULL: every id can.
	 */
	int (*stream_room)(struct carrier *c, uint16_t id, bool add,
			   char *err, size_t errlen);
	/*
	 * Send one unordered DATA frame now, not behind the queue (its
	 * PR-SCTP lifetime starts in the kernel, not in funneld's queue);
	 * 0, or -errno (-EAGAIN: no room, the frame is dropped).  NULL:
	 * frames are queued.
	 */
	int (*send_now)(struct carrier *c, const uint8_t *frame, size_t len);
	/*
	 * The peer authenticated (this end's context is established, or
	 * plaintext), right before this end's HELLO: what is allowed only
	 * to a known peer (SCTP: add-streams).  0, or -1 with err (the
	 * carrier fails).  NULL: nothing to do.
	 */
	int (*authenticated)(struct carrier *c, char *err, size_t errlen);
};

extern const struct carrier_ops carrier_tcp_ops;
extern const struct carrier_ops carrier_sctp_ops;
extern const struct carrier_ops carrier_sctp_udp_ops;

/* Kernel path, every transport: one whole frame per recv() and send(). */
void car_read_kernel(struct carrier *c);
int car_write_kernel(struct carrier *c);

/*
 * The options of an SCTP carrier socket (also a listener's), before
 * connect() or listen(): streams, reconfiguration (offered; add-streams
 * is enabled only once the peer authenticated), timers, events, and
 * with udp_encap the remote UDP encapsulation port.  0, or -1 with err.
 */
int car_sctp_sockopts(int fd, bool udp_encap, uint16_t udp_port, char *err,
		      size_t errlen);
/* The association's paths, "ADDR (primary, active), ADDR (inactive)". */
void car_sctp_paths(struct carrier *c, char *buf, size_t len);
/* Messages PR-SCTP abandoned (sent or not) on the association. */
uint64_t car_sctp_abandoned(struct carrier *c);
/*
 * Outgoing SCTP over UDP: the peer's UDP encapsulation port (its
 * udp-port clause, else net.sctp.udp_port of this netns); 0: none.
 */
uint16_t car_sctp_udp_remote_port(const struct carrier *c);
/* An accepted SCTP association: does it come encapsulated in UDP? */
bool car_sctp_is_udp(int fd);

#endif /* FUNNEL_CARRIER_TRANSPORT_H */
