// SPDX-License-Identifier: GPL-2.0
/*
 * funneld's event loop.  File descriptors live in a table indexed by fd,
 * so that a callback may remove any fd (its own or another's) while a
 * batch of epoll events is being dispatched: a removed entry is simply
 * not found.  Timers are few (one per carrier and per stream), kept in a
 * list sorted by deadline.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "funneld/loop.h"

#define LOOP_BATCH	64

struct loop_fd {
	loop_fd_cb cb;
	void *arg;
};

struct loop {
	int epfd;
	bool stop;
	struct loop_fd **fds;		/* indexed by fd */
	size_t nfds;
	struct loop_timer *timers;	/* sorted by when */
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->timers)
		loop_timer_cancel(l, l->timers);
	for (size_t i = 0; i < l->nfds; i++)
		free(l->fds[i]);
	free(l->fds);
	close(l->epfd);
	free(l);
}

static int loop_grow(struct loop *l, int fd)
{
	size_t n = l->nfds ? l->nfds : 64;
	struct loop_fd **fds;

	while (n <= (size_t)fd)
		n *= 2;
	if (n == l->nfds)
		return 0;
	fds = realloc(l->fds, n * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	memset(fds + l->nfds, 0, (n - l->nfds) * sizeof(*fds));
	l->fds = fds;
	l->nfds = n;
	return 0;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
	     void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct loop_fd *e;
	int err;

	if (fd < 0)
		return -EBADF;
	err = loop_grow(l, fd);
	if (err)
		return err;
	if (l->fds[fd])
		return -EEXIST;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cb = cb;
	e->arg = arg;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		free(e);
		return err;
	}
	l->fds[fd] = e;
	return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd])
		return -ENOENT;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

void loop_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd])
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	free(l->fds[fd]);
	l->fds[fd] = NULL;
}

void loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg)
{
	/* clearing an armed timer would leave it linked in the list (or
	 * link it twice when armed again): a cycle, and the loop spins
	 */
	if (t->armed && t->loop)
		loop_timer_cancel(t->loop, t);
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	struct loop_timer **pp;

	if (!t->armed)
		return;
	for (pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->loop = NULL;
	t->next = NULL;
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t delay_ms)
{
	struct loop_timer **pp;

	loop_timer_cancel(l, t);
	t->when = loop_now_ms() + delay_ms;
	for (pp = &l->timers; *pp && (*pp)->when <= t->when; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = true;
	t->loop = l;
}

/* Run the timers that are due; returns ms to the next one, or -1. */
static int loop_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();
	struct loop_timer *t;

	while ((t = l->timers) && t->when <= now) {
		l->timers = t->next;
		t->next = NULL;
		t->armed = false;
		t->loop = NULL;
		t->cb(l, t->arg);
		if (l->stop)
			return 0;
	}
	if (!l->timers)
		return -1;
	now = loop_now_ms();
	if (l->timers->when <= now)
		return 0;
	return (int)(l->timers->when - now > 60000 ? 60000 :
		     l->timers->when - now);
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_BATCH];

	l->stop = false;
	while (!l->stop) {
		int timeout = loop_timers(l), n;

		if (l->stop)
			break;
		n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = ev[i].data.fd;
			struct loop_fd *e;

			if ((size_t)fd >= l->nfds || !(e = l->fds[fd]))
				continue;
			e->cb(l, fd, ev[i].events, e->arg);
		}
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}
