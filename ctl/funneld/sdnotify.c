// SPDX-License-Identifier: GPL-2.0
/* systemd's notification protocol, written from sd_notify(3) (see sdnotify.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "funneld/log.h"
#include "funneld/sdnotify.h"

static struct loop_timer wd_timer;
static uint64_t wd_interval_ms;

int sdnotify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen, slen = strlen(state);
	socklen_t alen;
	ssize_t n;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no NUL at the end */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
			   (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do {
		n = sendto(fd, state, slen, MSG_NOSIGNAL,
			   (struct sockaddr *)&sun, alen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != slen)
		err = -EMSGSIZE;
	close(fd);
	return err ? err : 1;
}

/* A decimal number without sign or junk, or 0. */
static uint64_t env_number(const char *name)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return 0;
	return v;
}

uint64_t sdnotify_watchdog_ms(void)
{
	uint64_t usec = env_number("WATCHDOG_USEC");
	uint64_t pid = env_number("WATCHDOG_PID");

	if (getenv("WATCHDOG_PID") && pid != (uint64_t)getpid())
		return 0;
	return usec / 1000;
}

static void wd_ping(struct loop *l, void *arg)
{
	int ret;

	(void)arg;
	ret = sdnotify("WATCHDOG=1");
	if (ret < 0)
		log_warn("systemd watchdog: cannot notify $NOTIFY_SOCKET: %s",
			 strerror(-ret));
	loop_timer_arm(l, &wd_timer, wd_interval_ms);
}

uint64_t sdnotify_watchdog_start(struct loop *l)
{
	uint64_t ms = sdnotify_watchdog_ms();

	if (!ms || !getenv("NOTIFY_SOCKET"))
		return 0;
	wd_interval_ms = ms / 2 ? ms / 2 : 1;
	loop_timer_init(&wd_timer, wd_ping, NULL);
	wd_ping(l, NULL);
	return wd_interval_ms;
}

void sdnotify_watchdog_stop(struct loop *l)
{
	if (wd_interval_ms)
		loop_timer_cancel(l, &wd_timer);
}
