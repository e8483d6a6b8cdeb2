// SPDX-License-Identifier: GPL-2.0
/*
 * Runs of one class's bytes in a carrier's transmit queue (txruns.h).
 * Consecutive frames of the class make one run, so the runs number the
 * alternations with other frames, not the frames.
 */

#include "funneld/carrier/txruns.h"

void txruns_reset(struct txruns *r)
{
	r->head = 0;
	r->n = 0;
	r->bytes = 0;
}

static unsigned int last(const struct txruns *r)
{
	return (r->head + r->n - 1) % TXRUNS_MAX;
}

void txruns_add(struct txruns *r, uint64_t at, size_t len)
{
	unsigned int i;

	if (!len)
		return;
	if (r->n && r->run[last(r)].end == at) {
		r->run[last(r)].end += len;
	} else if (r->n == TXRUNS_MAX) {
		/* every run in use: the last one stretches over the other
		 * frames since, counted too (more than the class's bytes,
		 * never fewer; never refused: a sealed frame must go)
		 */
		i = last(r);
		r->bytes += (size_t)(at - r->run[i].end);
		r->run[i].end = at + len;
	} else {
		i = (r->head + r->n++) % TXRUNS_MAX;
		r->run[i].start = at;
		r->run[i].end = at + len;
	}
	r->bytes += len;
}

void txruns_written(struct txruns *r, uint64_t done)
{
	while (r->n) {
		unsigned int i = r->head;

		if (r->run[i].start >= done)
			return;
		if (r->run[i].end > done) {
			r->bytes -= (size_t)(done - r->run[i].start);
			r->run[i].start = done;
			return;
		}
		r->bytes -= (size_t)(r->run[i].end - r->run[i].start);
		r->head = (i + 1) % TXRUNS_MAX;
		r->n--;
	}
}
