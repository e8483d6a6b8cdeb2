/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Blocking calls off funneld's event loop (Documentation/architecture.md
 * section 3.2): a pool of threads runs jobs (getaddrinfo, the GSS-API
 * calls that may wait for a KDC) and hands each finished job back to the
 * loop through an eventfd; its done callback then runs in the loop, like
 * every other callback.
 *
 * A job is a struct worker_job embedded in the caller's own job struct,
 * which holds the job's input and output.  The caller allocates it and
 * gives it to worker_submit(); from then on it belongs to the pool until
 * done() runs, exactly once, in the loop: done() frees it.
 *
 *   run(j)            in a worker thread: the blocking call; it reads
 *                     the job's input and writes its output, nothing else
 *   done(j, cancelled)  in the loop.  cancelled: worker_cancel() was
 *                     called, the requester is gone: free the output and
 *                     the job, tell nobody.
 *
 * The requester keeps a pointer to its job and calls worker_cancel()
 * before it goes away (a carrier closed, a stream removed); after that
 * it never touches the job again.  A job cancelled before a thread took
 * it does not run.  A running call cannot be interrupted: it ends when
 * the library gives up (getaddrinfo: resolv.conf's timeout x attempts
 * per name server; the KDC: krb5's own timeouts), and its result is
 * thrown away.
 *
 * The queue is bounded: worker_submit() refuses a job with -EAGAIN when
 * queue_max jobs wait already.  Threads are started on demand, up to the
 * pool's maximum; none exists before the first job (funneld forks to
 * detach after reading its configuration).
 */
#ifndef FUNNEL_WORKER_H
#define FUNNEL_WORKER_H

#include <stdbool.h>

#include "funneld/loop.h"

struct workers;
struct worker_job;

typedef void (*worker_run_fn)(struct worker_job *j);
typedef void (*worker_done_fn)(struct worker_job *j, bool cancelled);

/* The pool's part of a job: set by worker_submit(), private. */
struct worker_job {
	struct worker_job *next;
	struct workers *wk;
	worker_run_fn run;
	worker_done_fn done;
	bool cancelled;			/* under the pool's lock */
	bool queued;			/* waiting for a thread */
};

/*
 * A pool of at most threads threads and queue_max waiting jobs, whose
 * results come back in loop l.  name is for the log.  NULL: out of
 * memory or descriptors (errno).
 */
struct workers *workers_new(struct loop *l, const char *name,
			    unsigned int threads, unsigned int queue_max);

/* Queue j.  0, or -EAGAIN (the queue is full), -errno (no thread). */
int worker_submit(struct workers *wk, struct worker_job *j,
		  worker_run_fn run, worker_done_fn done);

/* The requester of j is gone: done(j, true) runs later, in the loop. */
void worker_cancel(struct worker_job *j);

/*
 * Stop the pool: every job must have been cancelled.  Queued jobs are
 * finished (done(j, true)) at once; running ones are waited for up to
 * grace_ms, and those still running then are left to the process exit
 * (their threads are detached and keep their jobs).  Returns the number
 * of jobs left running.
 */
unsigned int workers_free(struct workers *wk, unsigned int grace_ms);

#endif /* FUNNEL_WORKER_H */
