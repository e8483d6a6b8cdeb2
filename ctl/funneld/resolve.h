/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Name resolution off the event loop: getaddrinfo() of a peer's HOST or
 * a service's TARGET runs in a worker thread (worker.h); every address
 * it returns comes back, in getaddrinfo()'s order, for the caller to try
 * in turn.  Numeric addresses never go to a thread (addr_resolve()).
 */
#ifndef FUNNEL_RESOLVE_H
#define FUNNEL_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/stmt.h"
#include "funneld/worker.h"

/* Addresses kept of one name, at most. */
#define RESOLVE_MAX		8
#define RESOLVE_ERR_MAX		256

struct resolve_addrs {
	unsigned int n;
	struct sockaddr_storage ss[RESOLVE_MAX];
	socklen_t len[RESOLVE_MAX];
};

/*
 * The answer, in the loop: n > 0 addresses, or n == 0 and err says why
 * ("cannot resolve 'x': Name or service not known").  r and err are
 * valid during the call only.
 */
typedef void (*resolve_cb)(void *arg, const struct resolve_addrs *r,
			   const char *err);

struct resolve;

/*
 * Resolve a (a->is_name) for socktype in pool wk: cb(arg, ...) later, in
 * the loop, unless resolve_cancel() comes first.  Returns the job, or
 * NULL with err (the queue is full, no thread): cb is not called then.
 */
struct resolve *resolve_start(struct workers *wk, const struct stmt_addr *a,
			      int socktype, resolve_cb cb, void *arg,
			      char *err, size_t errlen);
/* The caller is going away: cb will not be called. */
void resolve_cancel(struct resolve *r);

/* The blocking part, also for tests: getaddrinfo() into r.  0 or -1. */
int resolve_now(const struct stmt_addr *a, int socktype,
		struct resolve_addrs *r, char *err, size_t errlen);

#endif /* FUNNEL_RESOLVE_H */
