/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's TCP forwarding: a TCP map or service runs on an ordered
 * stream, one flow per TCP connection, in funneld on both data paths
 * (funnel.ko carries these streams as "user" streams and hands their
 * frames to funneld).
 *
 *   client (map) side, TCP_LISTEN: a listening socket; each accepted
 *     connection is a flow with the next flow id; its bytes go out in
 *     DATA frames of that flow, in order; FLOW_END when it closes.
 *   server (service) side, TCP_CONNECT: a DATA frame with a new flow id
 *     opens a TCP connection to the target; bytes both ways; FLOW_END
 *     from either side closes the flow (after the queued bytes are
 *     written).
 *
 * No frame is ever dropped on an ordered stream: when the carrier cannot
 * take more, reading from the TCP sockets pauses until it can
 * (tpath_stream_resume()); bytes for a flow whose socket cannot take
 * them are queued, up to a bound per flow, beyond which the flow is
 * reset and FLOW_END sent.
 */
#ifndef FUNNEL_TPATH_H
#define FUNNEL_TPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/frame.h"
#include "common/fstats.h"
#include "funneld/loop.h"
#include "funneld/datapath/dpif.h"	/* upath_send_fn, struct upath_flow_info */
#include "funneld/datapath/membudget.h"

enum tpath_kind { TPATH_LISTEN = 1, TPATH_CONNECT };

struct tpath_stream;

struct tpath_stream_cfg {
	uint16_t id;			/* stream id */
	enum tpath_kind kind;
	struct sockaddr_storage addr;	/* LISTEN: bind; CONNECT: target */
	socklen_t addrlen;
	uint32_t flow_max;		/* 0: FUNNEL_FLOW_MAX_DEFAULT */
	uint32_t idle_ms;		/* 0: no idle timeout (TCP default) */
	struct flowbudget *budget;	/* shared flow limit, or NULL */
	/*
	 * Per-flow flow control (both ends announced it), else 0: the
	 * bytes this end lets each flow have in flight toward it (its
	 * window, at least TPATH_WINDOW_INIT); grant(send_arg, flow,
	 * bytes) sends the peer more credit for a flow.
	 */
	uint32_t window;
	void (*grant)(void *arg, uint32_t flow, uint32_t bytes);
	/*
	 * Memory (NULL: no limit): the flows' windows are reserved in
	 * resv, the bytes queued for their sockets counted in buf.
	 */
	struct membudget *resv, *buf;
	/*
	 * Flow origins (FEAT_ORIGIN in both HELLOs): the opening DATA
	 * frame of a flow carries its origin (common/origin.h,
	 * wire-format.md 6.1) instead of being empty.
	 */
	bool origin;
	/*
	 * CONNECT: write a PROXY protocol v2 header to each connection to
	 * the target before its bytes (the flow's origin, or LOCAL when
	 * the peer sends none).
	 */
	bool proxy;
	/*
	 * The LDAP plugin (Documentation/plugins.md section 4): read each
	 * socket as LDAPMessages (requests on LISTEN, responses on
	 * CONNECT), sent in DATA frames of whole messages of one
	 * operation (plugins.md 5.3); a malformed one
	 * resets its flow (counted rx-drop-malformed, logged).
	 */
	bool ldap;
	/*
	 * With ldap: a plugin stream (FEAT_PLUGIN, PLUGIN in OPEN and
	 * OPEN_OK; plugins.md section 5): each DATA frame's body starts
	 * with the 8-byte sub-header (plugseq.h), the receiver writes
	 * frames in an order that keeps each operation's (FLOW_END stays
	 * empty or sealed empty: on an unordered stream the direction's
	 * last frame, an empty barrier, goes before it), and a frame costs
	 * at least PSEQ_COST_MIN of its flow's credit.
	 */
	bool plugseq;
	/*
	 * With plugseq: an unordered stream (FUNNEL_F_UNORDERED on its
	 * frames; SCTP_UNORDERED on SCTP): the receiver keeps what comes
	 * before its dependency, a new flow's frames until its opening
	 * frame, FLOW_END until the direction's last frame (an empty
	 * barrier) is written.
	 */
	bool unordered;
	/*
	 * With unordered: a keyed stream (funneld opens its sealed frames
	 * without a counter window, plugins.md 5.4): a frame of a live
	 * flow whose Sequence came already is a replay of a sealed frame;
	 * integrity(send_arg, why) is called, which ends the stream (it may
	 * free it: the stream is then only marked dead).
	 */
	bool keyed;
	void (*integrity)(void *arg, const char *why);
	/*
	 * With unordered: the window of the peer's flow ids could not be
	 * had (no memory, or no room in resv for its PSEQ_IDWIN_BYTES):
	 * internal(send_arg, why) is called, which ends the stream as
	 * integrity() does, with reason internal.
	 */
	void (*internal)(void *arg, const char *why);
};

/* Credit of a new flow each way before any grant (CTRL_WINDOW_INIT). */
#define TPATH_WINDOW_INIT	(64U << 10)

/*
 * send() returns -1 when the carrier's queue is full: the stream then
 * stops reading its sockets until tpath_stream_resume().
 */
struct tpath_stream *tpath_stream_new(struct loop *l,
				      const struct tpath_stream_cfg *cfg,
				      upath_send_fn send, void *send_arg,
				      char *err, size_t errlen);
void tpath_stream_free(struct tpath_stream *s);

/* A DATA or FLOW_END frame of this stream from the carrier. */
void tpath_stream_input(struct tpath_stream *s, const struct funnel_frame *f);

/* The carrier has room again: read the sockets again. */
void tpath_stream_resume(struct tpath_stream *s);

/* The peer grants bytes more credit to flow id (a WINDOW message). */
void tpath_flow_credit(struct tpath_stream *s, uint32_t id, uint32_t bytes);

void tpath_stream_stats(const struct tpath_stream *s, struct fstats *out);
uint32_t tpath_stream_nflows(const struct tpath_stream *s);
void tpath_stream_flows(const struct tpath_stream *s,
			int (*fn)(const struct upath_flow_info *fi, void *arg),
			void *arg);

#endif /* FUNNEL_TPATH_H */
