/* SPDX-License-Identifier: GPL-2.0 */
/*
 * systemd's service notification protocol (sd_notify(3)), without
 * libsystemd: a datagram of "VAR=value" lines to the Unix socket named by
 * $NOTIFY_SOCKET ("/path", or "@name" in the abstract namespace).  Under
 * Type=notify funneld says READY=1 once its configuration is loaded and
 * its control socket listens, STOPPING=1 when it shuts down, and, when
 * the unit has WatchdogSec=, WATCHDOG=1 from an event-loop timer at half
 * of $WATCHDOG_USEC: a loop that stops turning stops the pings, and
 * systemd restarts the daemon.  Without $NOTIFY_SOCKET all of it does
 * nothing.
 */
#ifndef FUNNEL_SDNOTIFY_H
#define FUNNEL_SDNOTIFY_H

#include <stdint.h>

#include "funneld/loop.h"

/*
 * Send state (e.g. "READY=1\nSTATUS=running").  Returns 1 when sent, 0
 * without $NOTIFY_SOCKET, -errno when it could not be sent.
 */
int sdnotify(const char *state);

/*
 * The watchdog period asked for by systemd: $WATCHDOG_USEC in ms, 0 when
 * there is none or $WATCHDOG_PID names another process.
 */
uint64_t sdnotify_watchdog_ms(void);

/*
 * When systemd asks for a watchdog: send WATCHDOG=1 now and every half
 * period from a timer of l.  Returns the interval in ms, 0 if none.
 * sdnotify_watchdog_stop() cancels the timer (before loop_free()).
 */
uint64_t sdnotify_watchdog_start(struct loop *l);
void sdnotify_watchdog_stop(struct loop *l);

#endif /* FUNNEL_SDNOTIFY_H */
