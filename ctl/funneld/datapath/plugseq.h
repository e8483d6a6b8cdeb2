/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plugin streams (Documentation/plugins.md section 5): the 8-byte
 * sub-header every DATA frame of a plugin stream starts with, what a
 * sender puts there (pseq_tx: the operations in progress of one flow
 * and direction) and when a receiver may write a frame to its socket
 * (pseq_rx: delivered Sequences, frames that wait for their dependency).
 * Apart from tpath.c's sockets so that the rules are unit tested and
 * fuzzed alone.
 *
 *   Sequence (32)  |B|M| Reserved (6) | After (24)
 *
 * Sequence 0 is the flow's opening frame, then 1, 2, ... (skipping 0 on
 * wrap), compared in serial arithmetic.  B: after every lower Sequence.
 * M: the message goes on in the next Sequence (After: the distance to
 * this one, 1, or 2 across the wrap; no B).  After: 0, or deliver after
 * Sequence - After (modulo 2^32: 0 is counted though never sent).
 */
#ifndef FUNNEL_DATAPATH_PLUGSEQ_H
#define FUNNEL_DATAPATH_PLUGSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PSEQ_HDR_LEN		8
#define PSEQ_F_BARRIER		0x80
#define PSEQ_F_MORE		0x40
#define PSEQ_F_RESERVED		0x3f
#define PSEQ_AFTER_MAX		0xffffffU
/* A frame costs at least this much of its flow's credit (5.4). */
#define PSEQ_COST_MIN		256
/* Operations in progress per flow and direction (LDAP_OPS_MAX). */
#define PSEQ_OPS		1024
/* Room for a reason. */
#define PSEQ_WHY_MAX		128

/* A message's order (plugins.md section 2): FREE or BARRIER, | LAST. */
#define PSEQ_FREE		0
#define PSEQ_BARRIER		1
#define PSEQ_LAST		2

struct pseq_hdr {
	uint32_t seq;
	uint32_t after;		/* 0..PSEQ_AFTER_MAX */
	bool barrier;		/* B */
	bool more;		/* M */
};

/* What a frame of len message bytes costs of its flow's credit. */
static inline size_t pseq_cost(size_t len)
{
	return len < PSEQ_COST_MIN ? PSEQ_COST_MIN : len;
}

void pseq_hdr_put(uint8_t p[PSEQ_HDR_LEN], const struct pseq_hdr *h);
/*
 * The sub-header at the start of a frame body of n bytes: 0, or -1 with
 * the reason ("reserved bits 0x04 set in the sub-header").
 */
int pseq_hdr_get(const uint8_t *p, size_t n, struct pseq_hdr *h, char *why,
		 size_t whylen);

/* ---- sender: one flow, one direction ---- */

struct pseq_tx {
	uint32_t next;		/* the next frame's Sequence */
	uint32_t last;		/* the last one sent; 0: none */
	uint32_t barrier;	/* the last barrier's last frame; 0: none */
	uint32_t cur;		/* the message being sent: its slot + 1 */
	bool cur_barrier;	/* it is a barrier */
	bool cur_last;		/* its key is forgotten after it */
	bool in_msg;		/* the last frame had M */
	struct {
		uint32_t key;
		uint32_t seq;	/* the key's last frame; 0: free slot */
	} ops[PSEQ_OPS];
};

void pseq_tx_init(struct pseq_tx *t);
/* The opening frame's sub-header (Sequence 0). */
void pseq_tx_open(struct pseq_hdr *h);
/*
 * The first frame of a message of operation key and order (PSEQ_*);
 * more: the message goes on in later frames (pseq_tx_piece()).
 */
void pseq_tx_msg(struct pseq_tx *t, uint32_t key, unsigned int order,
		 bool more, struct pseq_hdr *h);
/* The next frame of the message under way; more: not its last. */
void pseq_tx_piece(struct pseq_tx *t, bool more, struct pseq_hdr *h);
/* A frame of plain bytes (an opaque direction): a barrier of its own. */
void pseq_tx_plain(struct pseq_tx *t, struct pseq_hdr *h);

/* ---- receiver: one flow, one direction ---- */

/*
 * A frame that waits for its dependency: in the receiver's table by its
 * Sequence, and in the list of the frames that wait for its dependency
 * (After), or in the list of those that may go (ready) once nothing
 * else holds them back (a message under way, the opening frame).
 */
struct pseq_held {
	struct pseq_held *hnext;		/* its bucket by Sequence */
	struct pseq_held *next, **pprev;	/* its list; NULL: none */
	bool ready;		/* the list is the ready one */
	struct pseq_hdr h;
	size_t len;
	uint8_t body[];
};

struct pseq_rx {
	uint32_t win;		/* frames above d, at most */
	uint32_t mask;		/* the tables' size - 1 (a power of two >= win) */
	uint32_t d;		/* every Sequence up to d is delivered */
	uint32_t top;		/* the highest delivered (serial); d if none above */
	bool chain;		/* a message's frames are being written */
	uint32_t chain_prev;	/* then: its last frame written */
	uint32_t chain_next;	/* and the only Sequence deliverable */
	uint8_t *bits;		/* delivered above d (seq & mask); NULL: none */
	/*
	 * While frames are held, hash tables of hsize buckets (a power of
	 * two, at least twice nheld up to mask + 1; halved as frames go
	 * once under an eighth of it, 16 at least): held[seq & (hsize -
	 * 1)] the frames by Sequence, wait[dep & (hsize - 1)] the lists of
	 * those waiting for Sequence dep.  The Sequences in the window
	 * have distinct indices modulo mask + 1 (across the wrap too), so
	 * a bucket holds at most min(nheld, (mask + 1) / hsize) of them.
	 */
	uint32_t hsize;
	struct pseq_held **held;
	struct pseq_held **wait;
	struct pseq_held *ready, **ready_tail;	/* in the order they may go */
	uint32_t nheld;
	uint32_t nempty;	/* held frames with no bytes */
	size_t held_bytes;	/* their message bytes */
	size_t held_cost;	/* their cost (pseq_cost(), 0 if empty) */
	bool unopened;		/* the opening frame did not come yet */
};

/* The opening frame (Sequence 0) is delivered; win: frames in flight. */
void pseq_rx_init(struct pseq_rx *r, uint32_t win);
/*
 * An unordered stream: frames of a flow came before its opening frame;
 * nothing is written until pseq_rx_opened() (then pseq_rx_next()).
 */
static inline void pseq_rx_unopened(struct pseq_rx *r)
{
	r->unopened = true;
}
static inline void pseq_rx_opened(struct pseq_rx *r)
{
	r->unopened = false;
}
void pseq_rx_fini(struct pseq_rx *r);

enum pseq_rx_res {
	PSEQ_RX_ERR = -1,	/* malformed, beyond the window: why */
	PSEQ_RX_HOLD = 0,	/* kept (copied) until its dependency */
	PSEQ_RX_DELIVER = 1,	/* write it now, then pseq_rx_delivered() */
	PSEQ_RX_REPLAY = 2,	/* delivered or held already: dropped */
	PSEQ_RX_NOMEM = 3,	/* could not be kept */
};

/* A frame (sub-header h, message bytes body[0..len)) arrived. */
enum pseq_rx_res pseq_rx_input(struct pseq_rx *r, const struct pseq_hdr *h,
			       const uint8_t *body, size_t len, char *why,
			       size_t whylen);
/* The frame whose sub-header is h was written: 0, or -1 (why). */
int pseq_rx_delivered(struct pseq_rx *r, const struct pseq_hdr *h, char *why,
		      size_t whylen);
/*
 * A held frame that may be written now: 1 and *out (taken off the list:
 * the caller writes it, calls pseq_rx_delivered() and frees it), 0 if
 * none, -1 if one breaks a rule (why).
 */
int pseq_rx_next(struct pseq_rx *r, struct pseq_held **out, char *why,
		 size_t whylen);

/* ---- receiver: the peer's flow ids (an unordered stream) ---- */

/*
 * Which flow ids of the peer are new (plugins.md 5.4): N, the newest id
 * seen (serial arithmetic), and a bit for each id in (N - PSEQ_IDWIN, N]
 * seen.  An id is new iff above N, or in the window and not seen; below
 * the window it is not.  The bitmap (PSEQ_IDWIN / 8 bytes) is allocated
 * on first use (pseq_idwin_alloc(), or the first pseq_idwin_seen()), not
 * by pseq_idwin_init(): a stream that never gets a frame holds none
 * (review-keyed L2: 8 KiB a stream at open, 8 MiB a carrier).
 */
#define PSEQ_IDWIN		65536U
/* Its bitmap's bytes (8 KiB). */
#define PSEQ_IDWIN_BYTES	(PSEQ_IDWIN / 8)

struct pseq_idwin {
	uint32_t top;		/* N */
	bool any;		/* an id was seen */
	uint64_t *bits;		/* bit id % PSEQ_IDWIN: id seen */
};

/* Nothing seen; allocates nothing. */
void pseq_idwin_init(struct pseq_idwin *w);
void pseq_idwin_fini(struct pseq_idwin *w);
/* The bitmap, if not there yet: 0, or -1 (out of memory). */
int pseq_idwin_alloc(struct pseq_idwin *w);
/* Would a frame of id open a flow (never seen, not below the window)? */
bool pseq_idwin_new(const struct pseq_idwin *w, uint32_t id);
/*
 * A frame of id came (its flow made or refused): id is not new again.
 * 0, or -1: the bitmap could not be allocated, nothing is recorded
 * (never once pseq_idwin_alloc() succeeded).
 */
int pseq_idwin_seen(struct pseq_idwin *w, uint32_t id);

#endif /* FUNNEL_DATAPATH_PLUGSEQ_H */
