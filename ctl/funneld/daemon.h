/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's statements: the configuration file and funnelctl's commands
 * go through daemon_apply(), which checks everything first and changes
 * nothing when it refuses; show and stats render a snapshot (report/).
 *
 * funneld's parts, from the top (an arrow: calls and includes):
 *
 *   main.c, ctlsock.c -> daemon.c -> carrier/ -> sec/, datapath/, report/
 *                              \-> config.c (the configuration, shared)
 *
 * Documentation/architecture.md section 10 has the whole picture.
 */
#ifndef FUNNEL_DAEMON_H
#define FUNNEL_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

#include "common/stmt.h"
#include "funneld/config.h"

/*
 * Apply one statement.  Returns 0, or -1 with err naming the problem; on
 * error nothing changed.  show and stats write their output to out
 * (json: as JSON; stats --prometheus ignores json, ctlsock.c refuses the
 * pair).  from_config refuses show and stats; there a map whose port is
 * busy is added all the same (a warning).
 */
int daemon_apply(struct daemon *d, const struct stmt *s, bool from_config,
		 bool json, FILE *out, char *err, size_t errlen);
/* Load a configuration file; -1 with err "FILE:LINE: message". */
int daemon_load(struct daemon *d, const char *path, bool must_exist,
		char *err, size_t errlen);
void daemon_shutdown(struct daemon *d);
#endif /* FUNNEL_DAEMON_H */
