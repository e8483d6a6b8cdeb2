// SPDX-License-Identifier: GPL-2.0
/*
 * A pool of threads for funneld's blocking calls (see worker.h).  One
 * mutex guards the queue, the list of finished jobs and the counters;
 * the threads never touch anything of the loop's but the eventfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/eventfd.h>

#include "funneld/worker.h"

struct workers {
	struct loop *loop;
	char name[16];
	int efd;			/* finished jobs are waiting */
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job is queued, or stop */
	pthread_cond_t idle;		/* a running job finished */
	struct worker_job *q_head, *q_tail;	/* waiting for a thread */
	struct worker_job *d_head, *d_tail;	/* finished, for the loop */
	unsigned int nqueued, queue_max;
	unsigned int nthreads, max_threads;
	unsigned int nidle, nbusy;
	bool stop;
	pthread_t *tids;
};

static void append(struct worker_job **head, struct worker_job **tail,
		   struct worker_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

/* Under the lock: j is finished (or will not run); tell the loop. */
static void finished(struct workers *wk, struct worker_job *j)
{
	uint64_t one = 1;

	append(&wk->d_head, &wk->d_tail, j);
	if (write(wk->efd, &one, sizeof(one)) < 0) {
		/* the counter is far from overflowing: nothing to do */
	}
}

static void *worker_main(void *arg)
{
	struct workers *wk = arg;

	pthread_mutex_lock(&wk->lock);
	for (;;) {
		struct worker_job *j;

		while (!wk->q_head && !wk->stop) {
			wk->nidle++;
			pthread_cond_wait(&wk->work, &wk->lock);
			wk->nidle--;
		}
		if (wk->stop)
			break;
		j = wk->q_head;
		wk->q_head = j->next;
		if (!wk->q_head)
			wk->q_tail = NULL;
		wk->nqueued--;
		j->queued = false;
		wk->nbusy++;
		pthread_mutex_unlock(&wk->lock);

		j->run(j);

		pthread_mutex_lock(&wk->lock);
		wk->nbusy--;
		finished(wk, j);
		pthread_cond_broadcast(&wk->idle);
	}
	pthread_mutex_unlock(&wk->lock);
	return NULL;
}

/* The loop: run done() of every finished job. */
static void workers_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct workers *wk = arg;
	struct worker_job *j, *next;
	uint64_t v;

	(void)l;
	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another round took them */
	}
	pthread_mutex_lock(&wk->lock);
	j = wk->d_head;
	wk->d_head = wk->d_tail = NULL;
	pthread_mutex_unlock(&wk->lock);
	for (; j; j = next) {
		next = j->next;
		/* cancelled is written by the loop only (worker_cancel), so
		 * a done() above may have cancelled a job of this batch
		 */
		j->done(j, j->cancelled);
	}
}

struct workers *workers_new(struct loop *l, const char *name,
			    unsigned int threads, unsigned int queue_max)
{
	struct workers *wk = calloc(1, sizeof(*wk));
	pthread_condattr_t ca;

	if (!wk)
		return NULL;
	wk->tids = calloc(threads ? threads : 1, sizeof(*wk->tids));
	wk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!wk->tids || wk->efd < 0)
		goto err;
	if (loop_add(l, wk->efd, EPOLLIN, workers_io, wk)) {
		errno = ENOMEM;
		goto err;
	}
	wk->loop = l;
	snprintf(wk->name, sizeof(wk->name), "%s", name);
	wk->max_threads = threads ? threads : 1;
	wk->queue_max = queue_max;
	pthread_mutex_init(&wk->lock, NULL);
	pthread_cond_init(&wk->work, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wk->idle, &ca);
	pthread_condattr_destroy(&ca);
	return wk;
err:
	if (wk->efd >= 0)
		close(wk->efd);
	free(wk->tids);
	free(wk);
	return NULL;
}

/* Under the lock: one more thread; 0 or -errno. */
static int start_thread(struct workers *wk)
{
	sigset_t all, old;
	int err;

	/* signals are the loop's (signalfd): none for the workers */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&wk->tids[wk->nthreads], NULL, worker_main, wk);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	/* "funneld-dns", "funneld-gss" in ps and gdb; cut to 15 bytes */
	{
		char n[16];

		snprintf(n, sizeof(n), "funneld-%.7s", wk->name);
		pthread_setname_np(wk->tids[wk->nthreads], n);
	}
	wk->nthreads++;
	return 0;
}

int worker_submit(struct workers *wk, struct worker_job *j,
		  worker_run_fn run, worker_done_fn done)
{
	int err = 0;

	pthread_mutex_lock(&wk->lock);
	if (wk->stop) {
		err = -ESHUTDOWN;
		goto out;
	}
	if (wk->nqueued >= wk->queue_max) {
		err = -EAGAIN;
		goto out;
	}
	if (wk->nidle <= wk->nqueued && wk->nthreads < wk->max_threads) {
		err = start_thread(wk);
		/* a job waits for a busy thread as well */
		if (err && wk->nthreads)
			err = 0;
		if (err)
			goto out;
	}
	memset(j, 0, sizeof(*j));
	j->wk = wk;
	j->run = run;
	j->done = done;
	j->queued = true;
	append(&wk->q_head, &wk->q_tail, j);
	wk->nqueued++;
	pthread_cond_signal(&wk->work);
out:
	pthread_mutex_unlock(&wk->lock);
	return err;
}

void worker_cancel(struct worker_job *j)
{
	struct workers *wk = j->wk;

	pthread_mutex_lock(&wk->lock);
	j->cancelled = true;
	if (j->queued) {
		struct worker_job **pp;

		for (pp = &wk->q_head; *pp != j; pp = &(*pp)->next)
			;
		*pp = j->next;
		wk->q_tail = NULL;
		for (struct worker_job *q = wk->q_head; q; q = q->next)
			wk->q_tail = q;
		wk->nqueued--;
		j->queued = false;
		finished(wk, j);
	}
	pthread_mutex_unlock(&wk->lock);
}

unsigned int workers_free(struct workers *wk, unsigned int grace_ms)
{
	struct timespec until;
	unsigned int left;

	if (!wk)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += grace_ms / 1000;
	until.tv_nsec += (long)(grace_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&wk->lock);
	wk->stop = true;
	pthread_cond_broadcast(&wk->work);
	while (wk->q_head) {
		struct worker_job *j = wk->q_head;

		wk->q_head = j->next;
		j->queued = false;
		j->cancelled = true;
		finished(wk, j);
	}
	wk->q_tail = NULL;
	wk->nqueued = 0;
	for (struct worker_job *j = wk->d_head; j; j = j->next)
		j->cancelled = true;
	while (wk->nbusy &&
	       pthread_cond_timedwait(&wk->idle, &wk->lock, &until) !=
	       ETIMEDOUT)
		;
	left = wk->nbusy;
	pthread_mutex_unlock(&wk->lock);

	/* what finished, or never ran, is done now; nobody wants it */
	workers_io(wk->loop, wk->efd, EPOLLIN, wk);
	loop_del(wk->loop, wk->efd);
	if (left) {
		/*
		 * A thread still blocked in a library call keeps its job,
		 * the pool and the eventfd until the process exits.
		 */
		for (unsigned int i = 0; i < wk->nthreads; i++)
			pthread_detach(wk->tids[i]);
		return left;
	}
	for (unsigned int i = 0; i < wk->nthreads; i++)
		pthread_join(wk->tids[i], NULL);
	pthread_cond_destroy(&wk->idle);
	pthread_cond_destroy(&wk->work);
	pthread_mutex_destroy(&wk->lock);
	close(wk->efd);
	free(wk->tids);
	free(wk);
	return 0;
}
