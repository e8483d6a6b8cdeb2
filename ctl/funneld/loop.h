/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's event loop: epoll for file descriptors, a list of one-shot
 * timers with millisecond resolution.  Single-threaded; nothing here is
 * safe to call from a signal handler.
 */
#ifndef FUNNEL_LOOP_H
#define FUNNEL_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP as returned. */
typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events,
			   void *arg);
typedef void (*loop_timer_cb)(struct loop *l, void *arg);

/*
 * A timer is embedded in its owner and armed at most once at a time.  Its
 * memory must be zeroed (calloc, a static, an initialiser) or initialised
 * with loop_timer_init() before the first call, and it must not be armed
 * when its memory is freed or reused.
 */
struct loop_timer {
	uint64_t when;			/* loop_now_ms() deadline */
	loop_timer_cb cb;
	void *arg;
	bool armed;
	struct loop *loop;		/* where it is armed, while armed */
	struct loop_timer *next;	/* in the loop's list while armed */
};

struct loop *loop_new(void);
/*
 * Every fd must have been removed before.  Timers still armed are
 * disarmed (their owners may outlive the loop, e.g. statics).
 */
void loop_free(struct loop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT; level-triggered). 0 or -errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
	     void *arg);
/* Change the events watched. 0 or -errno. */
int loop_mod(struct loop *l, int fd, uint32_t events);
/*
 * Stop watching fd (before closing it).  Safe from any callback, also for
 * an fd whose events are still to be dispatched in this round: they are
 * not delivered.
 */
void loop_del(struct loop *l, int fd);

/*
 * Set t's callback.  A timer that is armed is cancelled first: (re)
 * initialising a timer always leaves it disarmed and never touches the
 * loop's list behind its back, whatever state it was in.
 */
void loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg);
/* (Re)arm t to fire once, delay_ms from now. */
void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
/* Disarm t; nothing happens if it is not armed. */
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t loop_now_ms(void);

/* Dispatch events until loop_stop(). Returns 0, or -errno from epoll. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif /* FUNNEL_LOOP_H */
