/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Print netlink attributes of the "funnel" family as NAME=VALUE lines,
 * nested attributes as PARENT.NAME=VALUE.  Unknown attributes print as
 * NUMBER=hex:BYTES.
 */
#ifndef FUNNEL_NLPRINT_H
#define FUNNEL_NLPRINT_H

#include <stdio.h>

#include <netlink/attr.h>

#include "common/nlnames.h"

void nlprint_attrs(FILE *f, const struct nlattr *head, int len,
		   enum funnel_set_id set, const char *prefix);

#endif /* FUNNEL_NLPRINT_H */
