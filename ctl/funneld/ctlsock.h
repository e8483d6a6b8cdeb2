/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's control socket: a Unix stream socket (mode 0600, and only
 * root or funneld's own user may talk to it).  A request is one line,
 * "text STATEMENT" or "json STATEMENT"; the reply is "ok" or "error" on
 * a line, then the output or the message, then the connection closes.
 *
 * Nothing here blocks the event loop: a reply is sent as far as the
 * socket takes it and the rest on EPOLLOUT.  Bounds: 16 clients at once
 * (the next one is told so), 16 MiB a reply, 64 MiB of replies waiting
 * for their readers (a request beyond is answered "funneld is busy"), and
 * a client that sends or reads nothing for 5 s is dropped.
 */
#ifndef FUNNEL_CTLSOCK_H
#define FUNNEL_CTLSOCK_H

#include <stddef.h>

#include "funneld/daemon.h"

int ctlsock_open(struct daemon *d, const char *path, char *err,
		 size_t errlen);
void ctlsock_close(struct daemon *d);

#endif /* FUNNEL_CTLSOCK_H */
