/* SPDX-License-Identifier: GPL-2.0 */
/*
 * When the receiving end of a TCP flow doubles the flow's window
 * (control-protocol.md section 7): the timing of its grants and the
 * bytes the flow moved, apart from tpath.c's sockets and budgets so that
 * the rule is tested with the time as the caller gives it (now: any
 * monotonic clock in milliseconds, never 0, as loop_now_ms()).
 *
 * A flow's credit loop is the time from a grant to the first byte beyond
 * the credit the peer had before it: the peer cannot send that byte
 * before the grant reaches it, so this is at least the round trip of a
 * grant through both daemons, their queues and the carrier, and exactly
 * that when the peer was waiting for the credit.  One grant is timed at a
 * time (the next one after its sample).  The flow's loop is the smallest
 * sample since the one it keeps was taken (the longer ones measure
 * queues, the window's own among them); once that one is more than
 * TPATH_LOOP_KEEP_MS old, the next sample replaces it whatever its size,
 * so a loop that grew is followed.  A probe starts at any grant, also
 * when the peer has nothing to send: after the peer was idle the first
 * sample may be that pause (TPATH_GROW_MS at most), until a smaller one
 * comes (one loop later when the flow moves bytes again).
 *
 * A flow that moves its whole window within twice its loop plus
 * TPATH_GROW_SLACK_MS (TPATH_GROW_MS at most; TPATH_GROW_MS before any
 * sample) is held back by it and may have it doubled; a flow held back
 * by the carrier's rate, a daemon's CPU or a slow reader stops growing
 * once its window is about that long's worth of bytes, so what it has in
 * flight ahead of other streams' frames stays within a few loops, not a
 * whole --tcp-window.  (A slow reader whose socket takes a whole window
 * at once may still grow its window: its bytes wait at the receiver,
 * not on the carrier.)  With bulk data the other way, grants wait behind
 * it: the loop, and the windows, grow with it.
 */
#ifndef FUNNEL_DATAPATH_TPWIN_H
#define FUNNEL_DATAPATH_TPWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The growth period without a sample, and the longest loop kept. */
#define TPATH_GROW_MS		1000
#define TPATH_GROW_SLACK_MS	10
#define TPATH_LOOP_KEEP_MS	10000

struct tpwin {
	uint64_t moved;		/* written since moved_at */
	uint64_t moved_at;
	uint64_t granted;	/* credit given to the peer in all */
	uint64_t rcvd;		/* bytes the peer sent */
	uint64_t probe_edge;	/* granted before the grant being timed */
	uint64_t probe_at;	/* when it went; 0: none being timed */
	uint64_t loop_at;	/* when loop_ms was measured */
	uint32_t loop_ms;	/* the credit loop; 0: not measured yet */
};

/* A new flow: the peer has credit (its initial window) and no sample. */
void tpwin_init(struct tpwin *w, uint64_t credit);
/* A grant of bytes goes to the peer at now: timed unless one is. */
void tpwin_grant(struct tpwin *w, uint64_t bytes, uint64_t now);
/* len bytes of the flow arrived from the peer at now. */
void tpwin_rcvd(struct tpwin *w, size_t len, uint64_t now);
/* The time within which a whole window must move for it to grow, ms. */
uint64_t tpwin_within(const struct tpwin *w);
/*
 * written bytes went to the flow's socket at now; win is its window, max
 * the largest window.  Returns how much the window may grow (0, or
 * doubled up to max): the caller grows it by that much or less (its
 * memory budget) and grants the growth.
 */
uint64_t tpwin_grow(struct tpwin *w, size_t written, uint32_t win,
		    uint32_t max, uint64_t now);

/*
 * The grant rule (control-protocol.md section 7): unacked bytes of a
 * flow with window win were written to its socket and not granted yet;
 * true: grant them all now.  So a receiver never holds win / 4 or more
 * written bytes ungranted, and a sender whose peer wrote everything it
 * sent has credit for more than three quarters of the window, which the
 * LDAP plugin's wait for a whole message (TPATH_LDAP_WHOLE) relies on.
 */
static inline bool tpwin_grant_due(uint64_t unacked, uint32_t win)
{
	return unacked >= win / 4;
}

#endif /* FUNNEL_DATAPATH_TPWIN_H */
