/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's log: stderr in the foreground (with syslog levels as "<N>"
 * when stderr is systemd's journal), syslog (daemon) otherwise.
 */
#ifndef FUNNEL_LOG_H
#define FUNNEL_LOG_H

#include <syslog.h>

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
void log_init(const char *ident, int to_stderr, int level);
/* "error", "warning", "info", "debug" to a level, or -1. */
int log_level_parse(const char *s);

__attribute__((format(printf, 2, 3)))
void logmsg(int level, const char *fmt, ...);

#define log_err(...)	logmsg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	logmsg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	logmsg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	logmsg(LOG_DEBUG, __VA_ARGS__)

#endif /* FUNNEL_LOG_H */
