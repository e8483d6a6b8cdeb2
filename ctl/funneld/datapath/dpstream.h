/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of a userspace stream that the UDP path (upath.c) and the TCP
 * path (tpath.c) share: one stream/flow lifecycle.
 *
 * A stream embeds a struct dp_stream, a flow a struct dp_flow; struct
 * dp_ops is what the two paths do differently.  dp_stream holds the
 * stream id, the carrier's send function, the stream's address, counters
 * and flow id table (flowtab.h), the listening socket and the timer that
 * expires idle flows.
 *
 * Everything runs in funneld's single-threaded event loop.  The carrier's
 * send function may fail the carrier and free its streams, this one
 * included, before it returns.  So each callback of a stream runs between
 * dp_hold() and dp_release(): a stream freed meanwhile (dp_stream_free())
 * is only marked dead, sends nothing more, and is destroyed when the last
 * callback of its own ends.
 */
#ifndef FUNNEL_DPSTREAM_H
#define FUNNEL_DPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/frame.h"
#include "common/fstats.h"
#include "funneld/loop.h"
#include "funneld/datapath/dpif.h"
#include "funneld/datapath/flowtab.h"
#include "funneld/datapath/sockaddr.h"

struct dp_stream;

/* A flow: one client address (UDP) or one connection (TCP). */
struct dp_flow {
	struct flowtab_node node;	/* by flow id: node.id */
	struct dp_flow *gc_next;	/* on the list of expired flows */
	struct dp_stream *s;
	int fd;				/* the flow's socket, or -1 */
	uint64_t last_used;		/* loop_now_ms() of the last frame */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
};

/* What the UDP and the TCP path do differently. */
struct dp_ops {
	/*
	 * Free the stream: what only this path has, dp_stream_fini(), the
	 * memory.  Called when nothing of the stream runs any more.
	 */
	void (*destroy)(struct dp_stream *s);
	/* Free a flow of the table with its socket (dp_stream_fini()). */
	void (*flow_free)(struct dp_stream *s, struct dp_flow *flow);
	/*
	 * An idle flow that the timer found: true to expire it.  This may
	 * take it out of the stream's tables, so that nothing sent while
	 * the expired flows end finds it.
	 */
	bool (*expire_take)(struct dp_stream *s, struct dp_flow *flow);
	/* End an expired flow (counted flows-expired already). */
	void (*expire)(struct dp_stream *s, struct dp_flow *flow);
	/* The local and remote address that flow-get reports. */
	void (*flow_addrs)(const struct dp_stream *s,
			   const struct dp_flow *flow,
			   struct upath_flow_info *fi);
};

struct dp_stream {
	const struct dp_ops *ops;
	struct loop *loop;
	upath_send_fn send;
	void *send_arg;
	uint16_t id;
	uint8_t flags;			/* of every frame we send */
	union dp_sa addr;		/* bound address, or the target */
	socklen_t addrlen;
	uint32_t idle_ms;		/* 0: flows never expire */
	uint32_t flow_max;
	int fd;				/* the listening socket, or -1 */

	struct flowtab flows;		/* by flow id */
	struct loop_timer gc;		/* expires idle flows */
	struct fstats st;

	unsigned int busy;		/* callbacks of ours running */
	bool dead;			/* freed meanwhile: free at the end */
};

/* The configuration both paths have. */
struct dp_cfg {
	uint16_t id;
	uint8_t flags;			/* FUNNEL_F_UNORDERED or 0 */
	const struct sockaddr_storage *addr;
	socklen_t addrlen;
	uint32_t idle_ms;		/* 0: flows never expire */
	uint32_t flow_max;		/* 0: FUNNEL_FLOW_MAX_DEFAULT */
	struct flowbudget *budget;	/* shared flow limit, or NULL */
};

/* ---- streams ---- */

/*
 * Is addr (addrlen bytes) an IPv4 or IPv6 address with a port?  listen:
 * it is the local address to bind (for the message), else the target.
 * 0, or -1 with a message in err.
 */
int dp_check_addr(const struct sockaddr_storage *addr, socklen_t addrlen,
		  bool listen, char *err, size_t errlen);

/*
 * Set up s (zeroed, embedded in the path's stream) from cfg.  0, or -1
 * with a message in err; dp_stream_free() is still to be called.
 */
int dp_stream_init(struct dp_stream *s, const struct dp_ops *ops,
		   struct loop *l, const struct dp_cfg *cfg,
		   upath_send_fn send, void *send_arg, char *err,
		   size_t errlen);

/*
 * Open the listening socket of s (type SOCK_DGRAM or SOCK_STREAM) on
 * s->addr, with the options that opts sets (0, or -1 and errno), and
 * watch it for EPOLLIN with cb(arg).  0, or -1 with a message in err.
 */
int dp_listen_open(struct dp_stream *s, int type,
		   int (*opts)(int fd, int family), loop_fd_cb cb, void *arg,
		   char *err, size_t errlen);

/* Free s now, or when the callback of its own that is running ends. */
void dp_stream_free(struct dp_stream *s);

/*
 * For ops->destroy: stop the timer, close the listening socket, free every
 * flow of the table (ops->flow_free) and the table.
 */
void dp_stream_fini(struct dp_stream *s);

/* A callback of s starts: s stays allocated until dp_release(). */
static inline void dp_hold(struct dp_stream *s)
{
	s->busy++;
}

/* It ends: destroy s if dp_stream_free() was called meanwhile. */
void dp_release(struct dp_stream *s);

static inline void dp_count(struct dp_stream *s, int idx)
{
	s->st.v[idx]++;
}

/*
 * A frame from the carrier: count it, and drop (and count) one without a
 * flow id or sealed (there is no key on these streams).  True if it is a
 * DATA or FLOW_END frame to act on.
 */
bool dp_input(struct dp_stream *s, const struct funnel_frame *f);

/* ---- frames to the carrier ---- */

/* The header of a frame of s of type for flow. */
void dp_hdr(const struct dp_stream *s, uint8_t out[FUNNEL_HDR_LEN],
	    uint8_t type, uint32_t flow);

/* The carrier's send(); -1 and nothing sent once s is dead. */
int dp_send(struct dp_stream *s, const uint8_t *frame, size_t len);

/*
 * FLOW_END for flow id.  Like the kernel, this counts on the carrier
 * only: a refused FLOW_END is the carrier's tx-drop-queue.
 */
int dp_send_end(struct dp_stream *s, uint32_t id);

/* The same with R (FUNNEL_F_RESET): the flow was reset (TCP streams). */
int dp_send_reset(struct dp_stream *s, uint32_t id);

/* ---- flows ---- */

/* The struct of type that embeds *p as member (a stream or a flow). */
#define dp_entry(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

static inline struct dp_flow *dp_flow_of(struct flowtab_node *n)
{
	return n ? dp_entry(n, struct dp_flow, node) : NULL;
}

static inline struct dp_flow *dp_flow_lookup(const struct dp_stream *s,
					     uint32_t id)
{
	return dp_flow_of(flowtab_lookup(&s->flows, id));
}

/* Room for a new flow within flow-max?  If not, count flow-drop-limit. */
bool dp_flow_room(struct dp_stream *s);

/* A new flow of s, not in the table, without a socket, used at now. */
void dp_flow_init(struct dp_stream *s, struct dp_flow *flow, uint64_t now);

/* Hash a flow (its id set); with an idle timeout, the timer runs. */
void dp_flow_link(struct dp_stream *s, struct dp_flow *flow);

static inline void dp_flow_unlink(struct dp_stream *s, struct dp_flow *flow)
{
	flowtab_remove(&s->flows, &flow->node);
}

/* A frame of body_len bytes of the flow from the carrier, at now. */
void dp_flow_rx(struct dp_flow *flow, size_t body_len, uint64_t now);

/* A frame of the flow went to the carrier, len bytes with its header. */
void dp_flow_tx(struct dp_stream *s, struct dp_flow *flow, size_t len);

/* ---- reports ---- */

static inline void dp_stream_stats(const struct dp_stream *s,
				   struct fstats *out)
{
	*out = s->st;
}

static inline uint32_t dp_stream_nflows(const struct dp_stream *s)
{
	return s->flows.count;
}

/* Call fn for each flow, as flow-get reports it (while fn returns 0). */
void dp_stream_flows(const struct dp_stream *s,
		     int (*fn)(const struct upath_flow_info *fi, void *arg),
		     void *arg);

/* ---- buffers ---- */

/*
 * A buffer that every stream of a path shares: the loop runs one callback
 * at a time and a callback is done with it when it returns.  Allocated
 * with the first stream, freed with the last.
 */
struct dp_shared {
	void *p;
	unsigned int users;
};

/* One more user of a buffer of size bytes: 0, or -1 out of memory. */
int dp_shared_get(struct dp_shared *sh, size_t size);
void dp_shared_put(struct dp_shared *sh);

#endif /* FUNNEL_DPSTREAM_H */
