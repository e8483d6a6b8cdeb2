/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's userspace data path for UDP streams: the same behaviour as
 * funnel.ko's udp-listen and udp-connect streams (architecture.md
 * sections 2 and 9, wire-format.md sections 6 to 8 and 12), for carriers
 * the kernel does not run.
 *
 * A stream is given the frames of its stream id by the carrier (already
 * checked by funnel_frame_parse()) and sends frames through the carrier's
 * send function.  Everything runs in funneld's event loop.
 */
#ifndef FUNNEL_UPATH_H
#define FUNNEL_UPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/fstats.h"
#include "common/frame.h"
#include "funneld/loop.h"
#include "funneld/datapath/dpif.h"	/* upath_send_fn, struct upath_flow_info */

struct upath_stream;

struct upath_stream_cfg {
	uint16_t id;			/* stream id, 1..65535 */
	int kind;			/* FUNNEL_STREAM_UDP_LISTEN or _CONNECT */
	bool unordered;			/* set FUNNEL_F_UNORDERED on frames */
	/*
	 * UDP_LISTEN: the local address to bind (port nonzero; the any
	 * address of AF_INET6 means dual-stack, as the kernel does).
	 * UDP_CONNECT: the target every flow's socket connects to.
	 */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t idle_ms;		/* flow idle timeout; 0: default */
	uint32_t flow_max;		/* flows at most; 0: default */
	struct flowbudget *budget;	/* shared flow limit, or NULL */
	/*
	 * UDP_LISTEN with flow origins (FEAT_ORIGIN in both HELLOs): called
	 * with send_arg for each new flow, with its origin (common/origin.h
	 * encoding, len bytes) to send in an ORIGIN message; NULL: none.
	 */
	void (*origin)(void *arg, uint32_t flow, const uint8_t *enc,
		       size_t len);
};

/*
 * Create a stream.  UDP_LISTEN binds its socket here; UDP_CONNECT makes a
 * connected socket per flow when the flow's first frame arrives.
 * Returns NULL with a message in err naming the problem (e.g.
 * "bind 127.0.0.1:53: Address already in use").
 */
struct upath_stream *upath_stream_new(struct loop *l,
				      const struct upath_stream_cfg *cfg,
				      upath_send_fn send, void *send_arg,
				      char *err, size_t errlen);

/* Close every socket and free the stream. No frame is sent. */
void upath_stream_free(struct upath_stream *s);

/*
 * A DATA or FLOW_END frame of this stream from the carrier (f->stream is
 * this stream's id, the frame passed funnel_frame_parse()).  Counts it.
 */
void upath_stream_input(struct upath_stream *s, const struct funnel_frame *f);

/*
 * UDP_CONNECT: the peer's ORIGIN for flow id (enc: len bytes, already
 * checked by the control protocol's codec): kept with the flow, or until
 * the flow is created (at most flow-max of them, the oldest dropped
 * first).  Nothing for a UDP_LISTEN stream.
 */
void upath_flow_origin(struct upath_stream *s, uint32_t id,
		       const uint8_t *enc, size_t len);

/* The stream's counters (the FUNNEL_A_STATS_* of stream-get). */
void upath_stream_stats(const struct upath_stream *s, struct fstats *out);

/* Number of flows now. */
uint32_t upath_stream_nflows(const struct upath_stream *s);

/* Call fn for each flow, as flow-get reports it (while fn returns 0). */
void upath_stream_flows(const struct upath_stream *s,
			int (*fn)(const struct upath_flow_info *fi, void *arg),
			void *arg);

#endif /* FUNNEL_UPATH_H */
