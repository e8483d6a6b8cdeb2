// SPDX-License-Identifier: GPL-2.0
/*
 * Flow origins (control-protocol.md section 8) of the UDP streams that
 * run in funnel.ko, which knows nothing of them:
 *
 * - client side (udp-listen): every CAR_KORIGIN_SCAN_MS, funneld dumps
 *   the flows of each such stream and sends an ORIGIN for each flow id it
 *   has not announced yet (the flow's remote address, the client, and its
 *   local one, where the client sent to).  An ORIGIN that finds no room
 *   in the carrier's queue (beyond what a UDP datagram may take) waits
 *   for the next scan.  Only with FEAT_ORIGIN in both HELLOs, and the
 *   timer runs only while the carrier has such a stream.
 * - server side (udp-connect): the peer's ORIGINs are kept by flow id
 *   for show: at most the stream's flow-max per stream (the oldest
 *   dropped first), at most KORIGIN_CARRIER_MAX over the carrier's
 *   streams (beyond, a new one is dropped: logged once per carrier).
 *   Every CAR_KORIGIN_SCAN_MS, while a stream holds some, funneld dumps
 *   its flows and drops the origins of ids neither this dump nor the one
 *   before listed (the flow ended, or never came); a stream whose table
 *   is empty then frees it.
 */

#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <linux/funnel.h>

#include "common/origin.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/kpath.h"
#include "funneld/datapath/origintab.h"
#include "funneld/log.h"

/* funneld gives its kernel streams no flow-max: the kernel's default */
#define KORIGIN_MAX		FUNNEL_FLOW_MAX_DEFAULT
/* server side, all streams of a carrier: the default of funnel.ko's
 * carrier_flows_max, the most flows they can have
 */
#define KORIGIN_CARRIER_MAX	16384
/* room for an ORIGIN frame, sealed, with its length prefix */
#define KORIGIN_FRAME_MAX	256

struct korigin {
	bool listen;
	struct annset sent;		/* listen: the ids announced */
	struct origintab tab;		/* connect: the peer's ORIGINs */
};

static bool origins_in_use(const struct carrier *c)
{
	return c->peer_features & car_features(c) & CTRL_FEAT_ORIGIN;
}

void korigin_installed(struct carrier *c, struct cstream *cs, bool listen)
{
	if (!listen || !origins_in_use(c) || cs->ko)
		return;
	cs->ko = calloc(1, sizeof(*cs->ko));
	if (!cs->ko)
		return;
	cs->ko->listen = true;
	annset_init(&cs->ko->sent, KORIGIN_MAX);
	if (!c->t_korigin.armed)
		loop_timer_arm(c->d->loop, &c->t_korigin, CAR_KORIGIN_SCAN_MS);
}

void korigin_recv(struct cstream *cs, const struct ctrl_msg *m)
{
	struct carrier *c = cs->car;
	struct origin o;

	/* server side only: a kernel udp-connect stream */
	if (!cs->in_kernel || cs->tp || cs->map ||
	    origin_parse(m->origin, m->origin_len, &o, NULL))
		return;
	if (!cs->ko) {
		cs->ko = calloc(1, sizeof(*cs->ko));
		if (!cs->ko)
			return;
		origintab_init(&cs->ko->tab, KORIGIN_MAX);
		c->korigins.max = KORIGIN_CARRIER_MAX;
		origintab_set_budget(&cs->ko->tab, &c->korigins);
	}
	if (cs->ko->listen)
		return;
	if (origintab_put(&cs->ko->tab, m->flow, &o) == 1 &&
	    !c->korigins_full_logged) {
		c->korigins_full_logged = true;
		log_warn("%s: the carrier's kernel UDP streams keep %u flow origins, the most: the peer's ORIGINs for more flows are dropped until flows end (logged once per carrier)",
			 carrier_name(c), c->korigins.count);
	}
	if (!origintab_count(&cs->ko->tab)) {
		korigin_free(cs);
		return;
	}
	/* the scan drops the origins of flows that are gone */
	if (!c->t_korigin.armed && c->state == CAR_UP)
		loop_timer_arm(c->d->loop, &c->t_korigin, CAR_KORIGIN_SCAN_MS);
}

bool korigin_lookup(const struct cstream *cs, uint32_t flow,
		    struct sockaddr_storage *out)
{
	const struct origin *o;

	if (!cs->ko || cs->ko->listen)
		return false;
	o = origintab_get(&cs->ko->tab, flow);
	if (!o)
		return false;
	origin_sockaddr(o, 0, out);
	return true;
}

void korigin_free(struct cstream *cs)
{
	if (!cs->ko)
		return;
	if (cs->ko->listen)
		annset_fini(&cs->ko->sent);
	else
		origintab_fini(&cs->ko->tab);
	free(cs->ko);
	cs->ko = NULL;
}

struct scan {
	struct carrier *c;
	struct cstream *cs;
};

/* Room in the carrier's queue for an ORIGIN, as for a UDP datagram? */
static bool room(const struct carrier *c)
{
	return c->state == CAR_UP && c->fd >= 0 && !c->fail_why[0] &&
	       c->olen - c->ooff + KORIGIN_FRAME_MAX <= CAR_TXQ_DATA_MAX;
}

static void scan_flow(const struct kpath_flow *kf, void *arg)
{
	struct scan *sc = arg;
	struct annset *sent = &sc->cs->ko->sent;
	struct ctrl_msg m = { .type = CTRL_ORIGIN, .stream = sc->cs->id,
			      .flow = kf->id };
	int n;

	if (annset_seen(sent, kf->id) || annset_count(sent) >= sent->max ||
	    !room(sc->c))
		return;
	/* remote: the client; local: the address it sent to */
	n = origin_encode((const struct sockaddr *)&kf->remote,
			  (const struct sockaddr *)&kf->local, m.origin);
	if (n < 0)
		return;
	m.origin_len = (uint8_t)n;
	m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
		    CTRL_BIT(CTRL_A_ORIGIN);
	if (!carrier_send_ctrl(sc->c, &m))
		annset_add(sent, kf->id);
}

static void sweep_flow(const struct kpath_flow *kf, void *arg)
{
	origintab_scan_mark(arg, kf->id);
}

/* Server side: drop the origins of flows gone; false: none left. */
static bool sweep(struct carrier *c, struct cstream *cs)
{
	struct origintab *t = &cs->ko->tab;
	uint32_t n;
	bool ok;

	origintab_scan_begin(t);
	/* a dump that failed drops nothing */
	ok = !kpath_flows(&c->d->kp, c->kid, cs->id, sweep_flow, t);
	n = origintab_scan_end(t, ok);
	if (n)
		log_debug("%s: stream %u: origins of %u flows gone dropped, %u kept",
			  carrier_name(c), cs->id, n, origintab_count(t));
	if (origintab_count(t))
		return true;
	korigin_free(cs);
	return false;
}

void korigin_scan_fire(struct loop *l, void *arg)
{
	struct carrier *c = arg;
	bool any = false;

	for (struct cstream *cs = c->streams; cs; cs = cs->next) {
		struct scan sc = { c, cs };

		if (!cs->ko || !cs->in_kernel)
			continue;
		if (!cs->ko->listen) {
			if (sweep(c, cs))
				any = true;
			continue;
		}
		any = true;
		annset_begin(&cs->ko->sent);
		/* a dump that failed forgets nothing */
		if (!kpath_flows(&c->d->kp, c->kid, cs->id, scan_flow, &sc))
			annset_end(&cs->ko->sent);
	}
	if (any && c->state == CAR_UP)
		loop_timer_arm(l, &c->t_korigin, CAR_KORIGIN_SCAN_MS);
}
