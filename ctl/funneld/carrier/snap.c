// SPDX-License-Identifier: GPL-2.0
/*
 * The carriers' part of a snapshot (report/snap.h) for show and stats:
 * each carrier, its streams and their flows, with the counters from
 * funnel.ko or from the userspace path.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/carrier/csec.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/kpath.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/upath.h"

struct flow_fill {
	struct snap_stream *ss;
	size_t cap;
	const struct cstream *cs;
};

static void add_flow(struct flow_fill *ff, uint32_t id,
		     const struct sockaddr_storage *local,
		     const struct sockaddr_storage *remote,
		     const struct sockaddr_storage *origin, uint32_t idle,
		     const struct fstats *st)
{
	struct snap_stream *ss = ff->ss;
	struct snap_flow *f;

	if (ss->n_flows == ff->cap) {
		size_t cap = ff->cap ? ff->cap * 2 : 16;
		struct snap_flow *nf = realloc(ss->flows, cap * sizeof(*nf));

		if (!nf)
			return;
		ss->flows = nf;
		ff->cap = cap;
	}
	f = &ss->flows[ss->n_flows++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	addr_format(local, f->local, sizeof(f->local));
	addr_format(remote, f->remote, sizeof(f->remote));
	f->idle_ms = idle;
	f->st = *st;
	if (origin && origin->ss_family)
		addr_format(origin, f->origin, sizeof(f->origin));
}

static void kflow_cb(const struct kpath_flow *kf, void *arg)
{
	struct flow_fill *ff = arg;
	struct sockaddr_storage origin;

	/* server side: the origin the peer told (korigin.c) */
	if (!korigin_lookup(ff->cs, kf->id, &origin))
		origin.ss_family = 0;
	add_flow(ff, kf->id, &kf->local, &kf->remote, &origin, kf->idle_ms,
		 &kf->st);
}

static int uflow_cb(const struct upath_flow_info *fi, void *arg)
{
	add_flow(arg, fi->id, &fi->local, &fi->remote, &fi->origin,
		 fi->idle_ms, &fi->st);
	return 0;
}

static void snap_stream_fill(struct daemon *d, struct carrier *c,
			     struct cstream *cs, struct snap_stream *ss)
{
	struct flow_fill ff = { ss, 0, cs };

	ss->id = cs->id;
	snprintf(ss->service, sizeof(ss->service), "%s", cs->service);
	ss->proto = stmt_proto_name(cs->proto);
	snprintf(ss->addr, sizeof(ss->addr), "%s", cs->addr);
	ss->state = cs->state == CS_OPEN ? "open" : "opening";
	ss->unordered = cs->unordered;
	ss->key_gen = csec_generation(cs);
	ss->rekeys = csec_rekeys(cs);
	snprintf(ss->principal, sizeof(ss->principal), "%s",
		 csec_principal(cs));
	if (cs->rsvc && !cs->krelay) {
		/* a relay's stream: what went through it (relay.c) */
		ss->st = cs->rst;
		ss->nflows = rtcp_nflows(cs);
	} else if (cs->in_kernel && !cs->tp) {
		kpath_stream_stats(&d->kp, c->kid, cs->id, &ss->st,
				   &ss->nflows);
		kpath_flows(&d->kp, c->kid, cs->id, kflow_cb, &ff);
	} else if (cs->up) {
		upath_stream_stats(cs->up, &ss->st);
		ss->nflows = upath_stream_nflows(cs->up);
		upath_stream_flows(cs->up, uflow_cb, &ff);
	}
	if (cs->tp) {
		tpath_stream_stats(cs->tp, &ss->st);
		ss->nflows = tpath_stream_nflows(cs->tp);
		tpath_stream_flows(cs->tp, uflow_cb, &ff);
	}
}

/* What a carrier's TCP flows, or all of them, hold (snap.h). */
static void snap_buffers_fill(struct snap_buffers *b,
			      const struct membudget *resv,
			      const struct membudget *buf)
{
	b->queued = buf->used;
	b->queued_peak = buf->peak;
	b->reserved = resv->used;
	b->max = resv->max;
	b->short_windows = resv->denied;
}

static void snap_carrier_fill(struct daemon *d, struct carrier *c,
			      struct snap_carrier *sc)
{
	uint64_t now = loop_now_ms();
	size_t i = 0;

	snprintf(sc->peer, sizeof(sc->peer), "%s", c->peer ? c->peer->s.name : "");
	sc->incoming = !c->peer;
	sc->transport = c->ops->name;
	snprintf(sc->transport_why, sizeof(sc->transport_why), "%s",
		 c->kind_why);
	if (c->ops->protocol == IPPROTO_SCTP && c->fd >= 0 &&
	    c->state != CAR_CONNECTING)
	{
		car_sctp_paths(c, sc->paths, sizeof(sc->paths));
		sc->abandoned = car_sctp_abandoned(c);
	}
	sc->datapath = c->fd < 0 ? "" : c->kernel ? "kernel" : "user";
	sc->state = carrier_state_name(c->state);
	snprintf(sc->local, sizeof(sc->local), "%s", c->fd >= 0 ? c->local_text : "");
	snprintf(sc->remote, sizeof(sc->remote), "%s", c->remote_text);
	snprintf(sc->peer_node, sizeof(sc->peer_node), "%s", c->peer_node);
	snprintf(sc->principal, sizeof(sc->principal), "%s",
		 c->peer_principal);
	sc->kernel_id = c->kid;
	sc->up_ms = c->state == CAR_UP ? now - c->up_since : 0;
	sc->reconnects = c->reconnects;
	sc->next_try_ms = c->state == CAR_BACKOFF && c->next_try > now ?
			  c->next_try - now : 0;
	snprintf(sc->last_error, sizeof(sc->last_error), "%s", c->last_error);
	sc->pings_missed = c->pings_missed;
	sc->marks_ignored = c->marks_ignored;
	snap_buffers_fill(&sc->tcp, &c->tcp_resv, &c->tcp_buf);
	if (c->kernel && c->kid) {
		/* funnel.ko counts the carrier's frames; funneld adds what
		 * it refuses itself on the kernel path (the integrity checks
		 * of stream 0 and of the TCP streams, its own queue)
		 */
		kpath_carrier_stats(&d->kp, c->kid, &sc->st);
		for (size_t k = 0; k < FSTATS_N; k++)
			sc->st.v[k] += c->st.v[k];
	} else {
		sc->st = c->st;
	}
	sc->n_streams = cs_count(c);
	sc->streams = calloc(sc->n_streams ? sc->n_streams : 1,
			     sizeof(*sc->streams));
	if (!sc->streams) {
		sc->n_streams = 0;
		return;
	}
	for (struct cstream *cs = c->streams; cs; cs = cs->next)
		snap_stream_fill(d, c, cs, &sc->streams[i++]);
}

int carrier_snap_fill(struct daemon *d, struct snapshot *sn)
{
	size_t n = 0, i = 0;

	for (struct carrier *c = d->carriers; c; c = c->next)
		n++;
	sn->n_carriers = 0;
	sn->carriers = calloc(n + 1, sizeof(*sn->carriers));
	if (!sn->carriers)
		return -1;
	for (struct carrier *c = d->carriers; c; c = c->next)
		snap_carrier_fill(d, c, &sn->carriers[i++]);
	sn->n_carriers = n;
	snap_buffers_fill(&sn->tcp, &d->tcp_resv, &d->tcp_buf);
	return 0;
}

void carrier_snap_free(struct snapshot *sn)
{
	for (size_t i = 0; i < sn->n_carriers; i++) {
		for (size_t j = 0; j < sn->carriers[i].n_streams; j++)
			free(sn->carriers[i].streams[j].flows);
		free(sn->carriers[i].streams);
	}
	free(sn->carriers);
	sn->carriers = NULL;
	sn->n_carriers = 0;
}
