// SPDX-License-Identifier: GPL-2.0
/* Counter names shared by the kernel and userspace data paths. */

#include <stddef.h>

#include "common/fstats.h"
#include "common/nlnames.h"

const char *fstats_name(unsigned int i)
{
	const struct funnel_attr_desc *d;

	if (i < FUNNEL_A_STATS_RX_FRAMES || i >= FSTATS_N)
		return NULL;
	d = funnel_attr_desc(funnel_attr_set(FUNNEL_SET_STATS), i);
	return d ? d->name : NULL;
}

void fstats_add(struct fstats *a, const struct fstats *b)
{
	for (unsigned int i = 0; i < FSTATS_N; i++)
		a->v[i] += b->v[i];
}
