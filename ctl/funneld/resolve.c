// SPDX-License-Identifier: GPL-2.0
/* Name resolution in a worker thread (see resolve.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/resolve.h"

struct resolve {
	struct worker_job w;		/* first: the job is the resolve */
	struct stmt_addr a;
	int socktype;
	struct resolve_addrs r;
	char err[RESOLVE_ERR_MAX];
	resolve_cb cb;
	void *arg;
};

int resolve_now(const struct stmt_addr *a, int socktype,
		struct resolve_addrs *r, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = socktype,
				  .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	char port[8];
	int ret;

	memset(r, 0, sizeof(*r));
	snprintf(port, sizeof(port), "%u", a->port);
	ret = getaddrinfo(a->host, port, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "cannot resolve '%s': %s", a->host,
			 ret == EAI_SYSTEM ? strerror(errno) :
			 gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai && r->n < RESOLVE_MAX; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(r->ss[0]))
			continue;
		memcpy(&r->ss[r->n], ai->ai_addr, ai->ai_addrlen);
		r->len[r->n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!r->n) {
		snprintf(err, errlen, "cannot resolve '%s': no IPv4 or IPv6 address",
			 a->host);
		return -1;
	}
	return 0;
}

static void resolve_run(struct worker_job *w)
{
	struct resolve *rs = (struct resolve *)w;

	resolve_now(&rs->a, rs->socktype, &rs->r, rs->err, sizeof(rs->err));
}

static void resolve_done(struct worker_job *w, bool cancelled)
{
	struct resolve *rs = (struct resolve *)w;

	if (!cancelled)
		rs->cb(rs->arg, &rs->r, rs->err);
	free(rs);
}

struct resolve *resolve_start(struct workers *wk, const struct stmt_addr *a,
			      int socktype, resolve_cb cb, void *arg,
			      char *err, size_t errlen)
{
	struct resolve *rs = calloc(1, sizeof(*rs));
	int ret;

	if (!rs) {
		snprintf(err, errlen, "cannot resolve '%s': out of memory",
			 a->host);
		return NULL;
	}
	rs->a = *a;
	rs->socktype = socktype;
	rs->cb = cb;
	rs->arg = arg;
	ret = wk ? worker_submit(wk, &rs->w, resolve_run, resolve_done) :
		   -ENOMEM;
	if (ret) {
		snprintf(err, errlen, "cannot resolve '%s' now: %s", a->host,
			 ret == -EAGAIN ? "too many names waiting for an answer" :
			 strerror(-ret));
		free(rs);
		return NULL;
	}
	return rs;
}

void resolve_cancel(struct resolve *rs)
{
	if (rs)
		worker_cancel(&rs->w);
}
