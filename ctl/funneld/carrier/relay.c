// SPDX-License-Identifier: GPL-2.0
/*
 * Relays, the switchbox of a hosting gateway (Documentation/switchbox.md):
 * a service of this end ("relay add") whose streams each go on to a
 * stream of their own on the carrier of a peer, the next hop.  Each hop
 * has its own GSS-API context and keys; a frame of one is opened with
 * its key and sealed with the other's, with the same flow id, type and
 * sending method.  The service side answers its client only once the
 * next hop has answered, so a refusal there reaches the client's stream,
 * and either stream going takes the other with it.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <linux/funnel.h>

#include "funneld/carrier/csec.h"
#include "funneld/carrier/priv.h"
#include "funneld/log.h"

/* One frame at a time: the event loop is single-threaded. */
static uint8_t relay_buf[FUNNEL_MAX_FRAME];

/* Unlink cs from the stream of its other hop; that stream, or NULL. */
static struct cstream *relay_unlink(struct cstream *cs)
{
	struct cstream *o = cs->relay;

	if (o)
		o->relay = NULL;
	cs->relay = NULL;
	/* a TCP relay's flows go with the pair */
	rtcp_free(cs->rtcp);
	return o;
}

/*
 * The service side of a relay's stream (cs, on carrier c) cannot go on:
 * refused if not open yet, closed otherwise, with the next hop's stream
 * (if any) closed and removed first.
 */
static void relay_refuse(struct carrier *c, struct cstream *cs,
			 uint16_t reason, const char *wire, const char *detail)
{
	struct cstream *next = relay_unlink(cs);

	if (next) {
		car_send_stream_msg(next->car, CTRL_CLOSE, next->id,
				    CTRL_R_INTERNAL, "the relay failed");
		cs_remove(next->car, next);
	}
	carrier_stream_fail_detail(c, cs, reason, wire, detail);
}

/*
 * Is the authenticated name who (with its realm) the principal p of a
 * statement, which may leave the realm out (the default realm's)?
 */
static bool same_principal(const char *who, const char *p)
{
	size_t n = strlen(p);

	if (!p[0])
		return false;
	if (strchr(p, '@'))
		return !strcmp(who, p);
	return !strncmp(who, p, n) && who[n] == '@';
}

/*
 * The next-hop streams of relay svc on carrier n: all, of them for the
 * client principal who (NULL: not counted), and of them still opening.
 */
static void relay_count(const struct carrier *n, const struct service *svc,
			const char *who, unsigned int *all,
			unsigned int *of_who, unsigned int *opening)
{
	*all = *of_who = *opening = 0;
	for (const struct cstream *x = n->streams; x; x = x->next) {
		if (x->rsvc != svc)
			continue;
		(*all)++;
		*opening += x->state != CS_OPEN;
		if (who && x->relay && !strcmp(csec_principal(x->relay), who))
			(*of_who)++;
	}
}

void relay_start(struct carrier *c, struct cstream *cs, const void *tok,
		 size_t toklen)
{
	struct service *svc = cs->rsvc;
	struct peer *p = config_peer(c->d, svc->s.peer);
	struct carrier *n = p ? p->car : NULL;
	char err[DAEMON_TEXT_MAX], detail[2 * DAEMON_TEXT_MAX];
	unsigned int all, of_who, opening;
	const char *who = csec_principal(cs);
	struct cstream *next;
	uint16_t id;

	/* a relay whose next hop leads back here, directly or not: its
	 * streams would come back as this side's own principal
	 */
	if (!c->d->plaintext && who[0] &&
	    (same_principal(who, c->d->identity.principal) ||
	     same_principal(who, svc->s.identity))) {
		snprintf(detail, sizeof(detail),
			 "relay %s: a stream from %s, the relay's own identity: a loop",
			 svc->s.name, who);
		relay_refuse(c, cs, CTRL_R_NOT_AUTHORIZED,
			     "a relay does not take its own streams (a loop)",
			     detail);
		return;
	}
	if (!n || n->state != CAR_UP) {
		snprintf(detail, sizeof(detail),
			 "relay %s: peer %s is not connected", svc->s.name,
			 svc->s.peer);
		relay_refuse(c, cs, CTRL_R_INTERNAL,
			     "the next hop is not connected now", detail);
		return;
	}
	/* one client must not take every stream to the next hop, nor
	 * every GSS-API worker
	 */
	relay_count(n, svc, who[0] ? who : NULL, &all, &of_who, &opening);
	if (all >= CAR_RELAY_STREAMS_MAX || of_who >= CAR_RELAY_PRINCIPAL_MAX ||
	    opening >= CAR_RELAY_OPENING_MAX) {
		snprintf(detail, sizeof(detail),
			 "relay %s: %u streams to the next hop (at most %u), %u of %s (at most %u), %u opening (at most %u)",
			 svc->s.name, all, CAR_RELAY_STREAMS_MAX, of_who,
			 who[0] ? who : "this client", CAR_RELAY_PRINCIPAL_MAX,
			 opening, CAR_RELAY_OPENING_MAX);
		relay_refuse(c, cs, CTRL_R_LIMIT,
			     "the relay has as many streams as it takes",
			     detail);
		return;
	}
	id = car_pick_stream(n);
	if (!id || cs_count(n) >= FUNNEL_STREAMS_MAX) {
		relay_refuse(c, cs, CTRL_R_LIMIT,
			     "no stream free to the next hop", NULL);
		return;
	}
	if (n->ops->stream_room) {
		int r = n->ops->stream_room(n, id, true, err, sizeof(err));

		/* 0: SCTP streams are being added; the client retries */
		if (r != 1) {
			snprintf(detail, sizeof(detail), "relay %s: peer %s: %.200s",
				 svc->s.name, svc->s.peer,
				 r < 0 ? err : "adding SCTP streams");
			relay_refuse(c, cs, CTRL_R_LIMIT,
				     r < 0 ? "no stream free to the next hop" :
				     "the next hop is adding streams: try again",
				     detail);
			return;
		}
	}
	if (toklen) {
		cs->accept_tok = malloc(toklen);
		if (!cs->accept_tok) {
			relay_refuse(c, cs, CTRL_R_INTERNAL, "out of memory",
				     NULL);
			return;
		}
		memcpy(cs->accept_tok, tok, toklen);
		cs->accept_toklen = toklen;
	}
	next = cs_add(n, id, cs->proto,
		      svc->s.service[0] ? svc->s.service : svc->s.name, "");
	if (!next) {
		relay_refuse(c, cs, CTRL_R_INTERNAL, "out of memory", NULL);
		return;
	}
	snprintf(next->addr, sizeof(next->addr), "relay %.40s", svc->s.name);
	next->rsvc = svc;
	next->unordered = cs->unordered;
	next->lifetime_ms = svc->s.has_lifetime ? svc->s.lifetime_ms :
			    CAR_LIFETIME_MS;
	next->state = CS_OPENING;
	next->relay = cs;
	cs->relay = next;
	if (!c->d->plaintext) {
		if (csec_client_start(n, next, err, sizeof(err))) {
			snprintf(detail, sizeof(detail), "relay %s: %.250s",
				 svc->s.name, err);
			relay_refuse(c, cs, CTRL_R_INTERNAL,
				     "the next hop cannot be reached now",
				     detail);
		}
		return;
	}
	car_send_open(n, next);
}

void relay_next_open(struct carrier *n, struct cstream *next)
{
	struct cstream *cs = next->relay;
	struct carrier *c;
	char err[DAEMON_TEXT_MAX];

	if (!cs) {
		/* its service side went: nothing removes next but us */
		car_send_stream_msg(n, CTRL_CLOSE, next->id, CTRL_R_INTERNAL,
				    "the relayed stream ended");
		cs_remove(n, next);
		return;
	}
	c = cs->car;
	/* funnel.ko relays UDP when it runs both carriers; the service
	 * side's stream first, the next hop's paired with it.  A TCP
	 * relay's streams are funneld's (relay_tcp.c): user streams on a
	 * kernel carrier, never funnel.ko's "relay" kind.
	 */
	cs->krelay = next->krelay = c->kernel && n->kernel &&
				    cs->proto == IPPROTO_UDP;
	if (cs->proto == IPPROTO_TCP && rtcp_new(cs, next)) {
		relay_refuse(c, cs, CTRL_R_INTERNAL, "out of memory", NULL);
		return;
	}
	if (cs_install(c, cs, false, NULL, 0, err, sizeof(err)) ||
	    cs_install(n, next, true, NULL, 0, err, sizeof(err))) {
		log_warn("%s: relay %s: %s", carrier_name(n),
			 next->rsvc->s.name, err);
		relay_refuse(c, cs, CTRL_R_INTERNAL, err, NULL);
		return;
	}
	next->state = CS_OPEN;
	if (cs->accept_toklen)
		carrier_send_token(c, cs->id, cs->accept_tok,
				   cs->accept_toklen);
	free(cs->accept_tok);
	cs->accept_tok = NULL;
	cs->accept_toklen = 0;
	cs->state = CS_OPEN;
	cs->rsvc->opens++;
	log_info("%s: stream %u open for relay %s -> %s stream %u (service %s), relayed by %s",
		 carrier_name(c), cs->id, cs->rsvc->s.name, carrier_name(n),
		 next->id, next->service, cs->krelay ? "funnel.ko" : "funneld");
	car_send_stream_msg(c, CTRL_OPEN_OK, cs->id, 0, NULL);
}

void relay_next_refused(struct cstream *next, const struct ctrl_msg *m,
			bool closed)
{
	struct carrier *n = next->car;
	struct cstream *cs = relay_unlink(next);
	const char *rname = ctrl_reason_name(m->reason);
	const char *text = m->present & CTRL_BIT(CTRL_A_TEXT) ? m->text : "";
	char wire[CTRL_TEXT_MAX + 1];
	uint16_t reason = m->reason;

	log_warn("%s: relay %s: stream %u %s by the next hop: %s%s%s",
		 carrier_name(n), next->rsvc->s.name, next->id,
		 closed ? "closed" : "refused", rname ? rname : "?",
		 text[0] ? ": " : "", text);
	cs_remove(n, next);
	if (!cs)
		return;
	/* the next hop's reason, but not one about our carrier's ids */
	if (reason == CTRL_R_STREAM_IN_USE || !rname)
		reason = CTRL_R_INTERNAL;
	/* as a map's reason says it: "not-authorized: ..." */
	snprintf(wire, sizeof(wire), "next hop: %.32s%s%.200s",
		 rname ? rname : "?", text[0] ? ": " : "", text);
	for (char *p = wire + strlen("next hop: "); *p && *p != ':'; p++)
		if (*p == ' ')
			*p = '-';
	carrier_stream_fail_detail(cs->car, cs, reason, wire, NULL);
}

/*
 * The next hop's stream could not start its GSS-API context (no ticket
 * for the relay's identity: the KDC out of reach, say); it never sent
 * OPEN.  The service side is refused with a reason that says where it
 * failed; the GSS-API error, which names keytabs and realms, stays in
 * this log.
 */
void relay_next_failed(struct cstream *next, const char *err)
{
	struct carrier *n = next->car;
	struct cstream *cs = relay_unlink(next);

	log_warn("%s: relay %s: %s", carrier_name(n), next->rsvc->s.name, err);
	cs_remove(n, next);
	if (cs)
		carrier_stream_fail_detail(cs->car, cs, CTRL_R_INTERNAL,
					   "the next hop cannot be reached now: the gateway cannot start its GSS-API context (its log says why)",
					   NULL);
}

void relay_gone(struct cstream *cs)
{
	struct cstream *o = relay_unlink(cs);
	bool stopping = cs->car->d->stopping;

	if (!o)
		return;
	/* cs is the next hop's stream (its carrier connects) or the
	 * service side's; o goes with it
	 */
	carrier_stream_fail(o->car, o,
			    stopping ? CTRL_R_SHUTDOWN : CTRL_R_INTERNAL,
			    stopping ? "the relay stops" :
			    cs->car->peer ? "the next hop's stream ended" :
			    "the relayed stream ended");
}

void relay_frame(struct carrier *c, struct cstream *cs,
		 const struct funnel_frame *f)
{
	struct cstream *o = cs->relay;
	struct funnel_frame of;
	size_t len = FUNNEL_HDR_LEN + f->body_len;

	if (!o || cs->state != CS_OPEN || o->state != CS_OPEN) {
		FST(&c->st, RX_DROP_NO_STREAM)++;
		return;
	}
	/* an ordered stream's flows: credit and queues (relay_tcp.c) */
	if (cs->proto == IPPROTO_TCP) {
		if (cs->rtcp && f->flow)
			rtcp_frame(cs, f);
		else
			FST(&c->st, RX_DROP_MALFORMED)++;
		return;
	}
	/* a UDP stream's frames name their flow (wire-format.md 8) */
	if (!f->flow || len > sizeof(relay_buf)) {
		FST(&c->st, RX_DROP_MALFORMED)++;
		return;
	}
	FST(&cs->rst, RX_FRAMES)++;
	FST(&cs->rst, RX_BYTES) += f->body_len;
	of = (struct funnel_frame){
		.stream = o->id, .type = f->type, .flow = f->flow,
		/* the sending method is the stream's, on both hops */
		.flags = (uint8_t)((o->unordered ? FUNNEL_F_UNORDERED : 0) |
				   (f->flags & FUNNEL_F_RESET)),
	};
	funnel_hdr_encode(relay_buf, &of);
	memcpy(relay_buf + FUNNEL_HDR_LEN, f->body, f->body_len);
	if (car_upath_send(o, relay_buf, len)) {
		FST(&o->rst, TX_DROP_QUEUE)++;
		cs->rsvc->relay_drops++;
		return;
	}
	FST(&o->rst, TX_FRAMES)++;
	FST(&o->rst, TX_BYTES) += f->body_len;
	cs->rsvc->relayed++;
}

void relay_origin(struct cstream *cs, const struct ctrl_msg *m)
{
	struct cstream *o = cs->relay;
	struct ctrl_msg om;

	/* the next hop learns the client's address as the first hop saw
	 * it, if it takes origins
	 */
	/* a TCP flow's origin is in its opening frame (relay_tcp.c) */
	if (!o || cs->car->peer || cs->state != CS_OPEN || cs->rtcp ||
	    o->state != CS_OPEN ||
	    !(o->car->peer_features & car_features(o->car) &
		    CTRL_FEAT_ORIGIN))
		return;
	/* a control message, but as many as the client has flows: within
	 * the data's room on the next hop's carrier, dropped beyond it
	 * (the flow's frames go on without it)
	 */
	if (!car_data_room(o->car)) {
		FST(&o->rst, TX_DROP_QUEUE)++;
		return;
	}
	om = *m;
	om.stream = o->id;
	carrier_send_ctrl(o->car, &om);
}
