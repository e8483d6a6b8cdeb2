// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP flow's window growth by its credit loop (tpwin.h).
 */

#include "funneld/datapath/tpwin.h"

void tpwin_init(struct tpwin *w, uint64_t credit)
{
	*w = (struct tpwin){ .granted = credit };
}

void tpwin_grant(struct tpwin *w, uint64_t bytes, uint64_t now)
{
	if (!w->probe_at) {
		w->probe_at = now;
		w->probe_edge = w->granted;
	}
	w->granted += bytes;
}

void tpwin_rcvd(struct tpwin *w, size_t len, uint64_t now)
{
	uint64_t ms;

	w->rcvd += len;
	if (!w->probe_at || w->rcvd <= w->probe_edge)
		return;
	ms = now - w->probe_at;
	w->probe_at = 0;
	if (!w->loop_ms || ms <= w->loop_ms ||
	    now - w->loop_at > TPATH_LOOP_KEEP_MS) {
		if (ms > TPATH_GROW_MS)
			ms = TPATH_GROW_MS;
		w->loop_ms = ms ? (uint32_t)ms : 1;
		w->loop_at = now;
	}
}

uint64_t tpwin_within(const struct tpwin *w)
{
	if (w->loop_ms && 2 * w->loop_ms + TPATH_GROW_SLACK_MS < TPATH_GROW_MS)
		return 2 * w->loop_ms + TPATH_GROW_SLACK_MS;
	return TPATH_GROW_MS;
}

uint64_t tpwin_grow(struct tpwin *w, size_t written, uint32_t win,
		    uint32_t max, uint64_t now)
{
	w->moved += written;
	if (now - w->moved_at > tpwin_within(w)) {
		w->moved = 0;
		w->moved_at = now;
	}
	if (win >= max || w->moved < win)
		return 0;
	w->moved = 0;
	w->moved_at = now;
	return max - win < win ? max - win : win;
}
