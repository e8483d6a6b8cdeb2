/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters of a carrier, a stream or a flow, named and ordered as the
 * FUNNEL_A_STATS_* attributes of funnel.ko, so that the kernel and the
 * userspace data path report the same thing.
 */
#ifndef FUNNEL_FSTATS_H
#define FUNNEL_FSTATS_H

#include <stdint.h>

#include <linux/funnel.h>

/* One slot per FUNNEL_A_STATS_* attribute; slots 0 and 1 are unused. */
#define FSTATS_N	(FUNNEL_A_STATS_MAX + 1)

struct fstats {
	uint64_t v[FSTATS_N];
};

#define FST(s, name)	((s)->v[FUNNEL_A_STATS_##name])

/*
 * Name of counter i as in the netlink spec ("rx-frames"), NULL for the
 * unused slots.
 */
const char *fstats_name(unsigned int i);

/* Add every counter of b to a. */
void fstats_add(struct fstats *a, const struct fstats *b);

#endif /* FUNNEL_FSTATS_H */
