/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which bytes of a carrier's transmit queue belong to one class of
 * frames (its TCP streams'), so that a cap can count them alone: runs of
 * [start, end) by absolute offset in the stream of bytes ever queued,
 * the queue's writer telling how far it has written.
 */
#ifndef FUNNEL_CARRIER_TXRUNS_H
#define FUNNEL_CARRIER_TXRUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs kept at most: frames of the class between others' frames. */
#define TXRUNS_MAX	256

struct txruns {
	struct { uint64_t start, end; } run[TXRUNS_MAX];
	unsigned int head, n;
	size_t bytes;		/* of the class, still queued */
};

void txruns_reset(struct txruns *r);
/*
 * len bytes of the class queued at absolute offset at (never refused:
 * with every run in use the last one takes in the bytes between).
 */
void txruns_add(struct txruns *r, uint64_t at, size_t len);
/* Everything before absolute offset done has been written. */
void txruns_written(struct txruns *r, uint64_t done);

#endif /* FUNNEL_CARRIER_TXRUNS_H */
