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
 *   (at most the stream's flow-max, the oldest dropped first) for show.
 */

#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <linux/funnel.h>

#include "common/origin.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/kpath.h"
#include "funneld/datapath/origintab.h"

/* funneld gives its kernel streams no flow-max: the kernel's default */
#define KORIGIN_MAX		FUNNEL_FLOW_MAX_DEFAULT
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
	}
	if (!cs->ko->listen)
		origintab_put(&cs->ko->tab, m->flow, &o);
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

void korigin_scan_fire(struct loop *l, void *arg)
{
	struct carrier *c = arg;
	bool any = false;

	for (struct cstream *cs = c->streams; cs; cs = cs->next) {
		struct scan sc = { c, cs };

		if (!cs->ko || !cs->ko->listen || !cs->in_kernel)
			continue;
		any = true;
		annset_begin(&cs->ko->sent);
		/* a dump that failed forgets nothing */
		if (!kpath_flows(&c->d->kp, c->kid, cs->id, scan_flow, &sc))
			annset_end(&cs->ko->sent);
	}
	if (any && c->state == CAR_UP)
		loop_timer_arm(l, &c->t_korigin, CAR_KORIGIN_SCAN_MS);
}
