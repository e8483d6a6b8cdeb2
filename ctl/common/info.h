/* SPDX-License-Identifier: GPL-2.0 */
/* FUNNEL_CMD_INFO_GET: the module's version, wire version and caps. */
#ifndef FUNNEL_INFO_H
#define FUNNEL_INFO_H

#include <stdint.h>

#include "common/genl.h"

struct funnel_info {
	char version[64];	/* "" when the module did not say */
	uint32_t wire;
	uint32_t caps;		/* FUNNEL_CAP_* */
	int has_wire;
	int has_caps;
};

/* Returns 0 or -errno (g->ext holds the kernel's message). */
int funnel_info_get(struct funnel_genl *g, struct funnel_info *info);

#endif /* FUNNEL_INFO_H */
