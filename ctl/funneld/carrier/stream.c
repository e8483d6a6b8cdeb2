// SPDX-License-Identifier: GPL-2.0
/*
 * A carrier's streams: one per map on the side that connects (opened,
 * retried with backoff, closed when the map goes), one per OPEN on the
 * side that serves; each installed in funnel.ko or in the userspace
 * path (upath.c for UDP, tpath.c for TCP).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include "funneld/carrier/csec.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/plugseq.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/upath.h"
#include "funneld/log.h"

/* ---- streams ---- */

struct cstream *cs_find(struct carrier *c, uint16_t id)
{
	struct cstream *cs;

	for (cs = c->streams; cs; cs = cs->next)
		if (cs->id == id)
			return cs;
	return NULL;
}

unsigned int cs_count(const struct carrier *c)
{
	unsigned int n = 0;

	for (const struct cstream *cs = c->streams; cs; cs = cs->next)
		n++;
	return n;
}

/* Remove a stream from the carrier and from the data path. */
void cs_remove(struct carrier *c, struct cstream *cs)
{
	struct cstream **pp;
	char err[DAEMON_TEXT_MAX];

	for (pp = &c->streams; *pp; pp = &(*pp)->next) {
		if (*pp == cs) {
			*pp = cs->next;
			break;
		}
	}
	if (c->peer && c->ops->stream_room && c->fd >= 0) {
		c->closed[c->closed_next].id = cs->id;
		c->closed[c->closed_next].at = loop_now_ms();
		c->closed_next = (c->closed_next + 1) % CAR_CLOSED_IDS;
	}
	/* funnel.ko closed the carrier first, as at carrier down: its
	 * streams went with it, which is what was asked
	 */
	if (cs->in_kernel && c->fd >= 0) {
		int ret = kpath_stream_del(&c->d->kp, c->kid, cs->id, err,
					   sizeof(err));

		if (ret == -ENOENT && kpath_no_carrier(&c->d->kp))
			log_debug("%s: stream %u: %s", carrier_name(c), cs->id,
				  err);
		else if (ret)
			log_warn("%s: stream %u: %s", carrier_name(c), cs->id,
				 err);
	}
	if (cs->up)
		upath_stream_free(cs->up);
	if (cs->tp)
		tpath_stream_free(cs->tp);
	korigin_free(cs);
	relay_gone(cs);
	resolve_cancel(cs->resolving);
	free(cs->accept_tok);
	csec_free(c, cs);
	if (cs->map && cs->map->stream == cs->id)
		cs->map->stream = 0;
	if (cs->map)
		map_hold(cs->map);
	free(cs);
}

struct cstream *cs_add(struct carrier *c, uint16_t id, int proto,
		       const char *service, const char *addr)
{
	struct cstream *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	cs->car = c;
	cs->id = id;
	cs->proto = proto;
	/* UDP unordered, so that one loss delays nothing else; TCP ordered */
	cs->unordered = proto == IPPROTO_UDP;
	snprintf(cs->service, sizeof(cs->service), "%s", service);
	snprintf(cs->addr, sizeof(cs->addr), "%s", addr);
	cs->next = c->streams;
	c->streams = cs;
	return cs;
}

/*
 * Install a stream in the data path; 0 or -1 with err.  listen: the map
 * side (ss: the local address), else the service side (ss: the target).
 * UDP streams run in funnel.ko on a kernel carrier; TCP streams always
 * run in funneld (tpath.c), on a kernel carrier as "user" streams whose
 * frames funnel.ko hands to funneld.
 */
int cs_install(struct carrier *c, struct cstream *cs, bool listen,
	       const struct sockaddr_storage *ss, socklen_t len, char *err,
	       size_t errlen)
{
	struct kpath_key kk, *key = NULL;

	if (cs->sec) {
		int r = csec_install_first(c, cs, &kk, err, errlen);

		if (r < 0)
			return -1;
		if (r > 0)
			key = &kk;
	}
	_Static_assert(TPATH_WINDOW_INIT == CTRL_WINDOW_INIT,
		       "the initial credit is the control protocol's");
	if (cs->rsvc && cs->krelay) {
		/* funnel.ko relays: the first of the pair alone, the second
		 * paired with it (the other hop's, installed already)
		 */
		const struct cstream *o = cs->relay;
		int ret = kpath_relay_new(&c->d->kp, c->kid, cs->id,
					  c->ops->protocol == IPPROTO_SCTP ?
					  cs->lifetime_ms : 0, key,
					  o && o->in_kernel ? o->car->kid : 0,
					  o && o->in_kernel ? o->id : 0,
					  err, errlen);

		csec_forget_keys(cs);
		if (ret)
			return -1;
		cs->in_kernel = true;
		return 0;
	}
	if (cs->rsvc) {
		/* a relay's stream: its frames go to the other hop through
		 * funneld (relay.c), on a kernel carrier as a user stream
		 */
		if (c->kernel) {
			if (kpath_stream_new(&c->d->kp, c->kid, cs->id,
					     FUNNEL_STREAM_USER, false, 0,
					     NULL, NULL, err, errlen))
				return -1;
			cs->in_kernel = true;
		}
		return 0;
	}
	if (cs->proto == IPPROTO_TCP) {
		struct tpath_stream_cfg tcfg = {
			.id = cs->id, .addr = *ss, .addrlen = len,
			.kind = listen ? TPATH_LISTEN : TPATH_CONNECT,
			.budget = &c->flows,
			/* both ends do flow control, or neither */
			.window = c->peer_features & car_features(c) &
					  CTRL_FEAT_WINDOW ?
				  c->d->tcp_window : 0,
			.grant = car_tpath_grant,
			.resv = &c->tcp_resv,
			.buf = &c->tcp_buf,
			/* in use when both HELLOs have it */
			.origin = !!(c->peer_features & car_features(c) &
				     CTRL_FEAT_ORIGIN),
		};
		const struct service *svc = listen ? NULL :
			config_service(c->d, cs->service);
		uint8_t plugin;

		/* a service with proxy v2: the origin, or LOCAL without */
		tcfg.proxy = svc && svc->s.proxy;
		/* "plugin ldap" on this end's map or service */
		plugin = listen ? (cs->map ? cs->map->s.plugin : 0) :
				  (svc ? svc->s.plugin : 0);
		tcfg.ldap = plugin == STMT_PLUGIN_LDAP;
		/* a plugin stream (phase 2): sub-headers on both ends */
		tcfg.plugseq = tcfg.ldap && cs->plugin == STMT_PLUGIN_LDAP;
		tcfg.unordered = tcfg.plugseq && cs->unordered;
		/* sealed by funneld: a replayed frame ends the stream */
		tcfg.keyed = tcfg.unordered && !c->d->plaintext;
		/* an old flow id (or Sequence) comes back as new only after
		 * 2^31 later ones (serial arithmetic, PSEQ_IDWIN): more
		 * frames than one key seals, and an old key is deleted 30 s
		 * after the next one is in use (plugins.md 5.4)
		 */
		_Static_assert(CSEC_HARD_LIMIT < (1ULL << 31),
			       "a key seals fewer frames than half the id space");
		tcfg.integrity = car_tpath_integrity;
		tcfg.internal = car_tpath_internal;
		if (tcfg.proxy && !tcfg.origin && !c->no_origin_logged) {
			c->no_origin_logged = true;
			log_warn("%s: the peer sends no flow origins (no FEAT_ORIGIN): service %s gets PROXY v2 LOCAL headers, without the client's address",
				 carrier_name(c), cs->service);
		}

		if (c->kernel) {
			if (kpath_stream_new(&c->d->kp, c->kid, cs->id,
					     FUNNEL_STREAM_USER, false, 0,
					     NULL, NULL, err, errlen))
				return -1;
			cs->in_kernel = true;
		}
		cs->tp = tpath_stream_new(c->d->loop, &tcfg, car_tpath_send, cs,
					  err, errlen);
		return cs->tp ? 0 : -1;
	}
	{
		int kind = listen ? FUNNEL_STREAM_UDP_LISTEN :
				    FUNNEL_STREAM_UDP_CONNECT;
		struct upath_stream_cfg cfg = {
			.id = cs->id, .kind = kind, .unordered = cs->unordered,
			.addr = *ss, .addrlen = len, .budget = &c->flows,
			/* flow origins in use: both HELLOs have them */
			.origin = c->peer_features & car_features(c) &
				  CTRL_FEAT_ORIGIN ? car_upath_origin : NULL,
		};

		if (c->kernel) {
			uint32_t ttl = c->ops->protocol == IPPROTO_SCTP ?
				       cs->lifetime_ms : 0;
			int ret = kpath_stream_new(&c->d->kp, c->kid, cs->id,
						   kind, cs->unordered, ttl,
						   ss, key, err, errlen);

			csec_forget_keys(cs);
			if (ret)
				return -1;
			cs->in_kernel = true;
			korigin_installed(c, cs, listen);
			return 0;
		}
		cs->up = upath_stream_new(c->d->loop, &cfg, car_upath_send, cs,
					  err, errlen);
		return cs->up ? 0 : -1;
	}
}


/*
 * Client side: OPEN for a map's stream (or a relay's next hop), then its
 * context's first token.
 */
void car_send_open(struct carrier *c, struct cstream *cs)
{
	struct ctrl_msg msg = { .type = CTRL_OPEN };
	struct map *m = cs->map;

	msg.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_SERVICE) |
		      CTRL_BIT(CTRL_A_PROTO) | CTRL_BIT(CTRL_A_ORDERED);
	msg.stream = cs->id;
	snprintf(msg.service, sizeof(msg.service), "%s", cs->service);
	msg.proto = cs->proto == IPPROTO_TCP ? CTRL_PROTO_TCP : CTRL_PROTO_UDP;
	msg.ordered = !cs->unordered;
	if (cs->plugin) {
		msg.present |= CTRL_BIT(CTRL_A_PLUGIN);
		msg.plugin = cs->plugin;
	}
	if (m)
		log_info("%s: opening stream %u for map %s %s -> service %s",
			 carrier_name(c), cs->id, stmt_proto_name(m->s.proto),
			 m->addr, m->s.service);
	else
		log_info("%s: opening stream %u for relay %s -> service %s",
			 carrier_name(c), cs->id, cs->rsvc->s.name,
			 cs->service);
	carrier_send_ctrl(c, &msg);
	if (cs->sec)
		csec_send_first(c, cs);
}

/* The map cannot open now (its stream, if any, is removed). */
static void car_map_closed(struct carrier *c, struct map *m,
			   struct cstream *cs, const char *why)
{
	if (cs)
		cs_remove(c, cs);
	m->state = MAP_CLOSED;
	snprintf(m->reason, sizeof(m->reason), "%s", why);
	car_map_down(c, m);
}

void carrier_stream_prepared(struct carrier *c, struct cstream *cs,
			     const char *err)
{
	if (err && !cs->map) {
		/* a relay's next hop: its service side is refused */
		relay_next_failed(cs, err);
		return;
	}
	if (err) {
		log_warn("%s: map %s: %s", carrier_name(c), cs->map->addr, err);
		car_map_closed(c, cs->map, cs, err);
		return;
	}
	car_send_open(c, cs);
}

/* SCTP: was id closed less than CAR_STREAM_QUARANTINE_MS ago? */
static bool cs_quarantined(const struct carrier *c, uint16_t id)
{
	uint64_t now = loop_now_ms();

	for (unsigned int i = 0; i < CAR_CLOSED_IDS; i++)
		if (c->closed[i].id == id &&
		    now - c->closed[i].at < CAR_STREAM_QUARANTINE_MS)
			return true;
	return false;
}

uint16_t car_pick_stream(struct carrier *c)
{
	uint16_t id = 0;

	if (c->ops->stream_room) {
		/* SCTP: the lowest id free, the association has few; not
		 * one closed just now, unless there is no other
		 */
		uint16_t fallback = 0;

		for (unsigned int cand = 1; cand <= FUNNEL_MAX_STREAM; cand++) {
			if (cs_find(c, (uint16_t)cand))
				continue;
			if (!cs_quarantined(c, (uint16_t)cand)) {
				id = (uint16_t)cand;
				break;
			}
			if (!fallback)
				fallback = (uint16_t)cand;
		}
		if (!id)
			id = fallback;
	} else {
		for (unsigned int i = 0; i < FUNNEL_MAX_STREAM; i++) {
			uint16_t cand = c->next_stream ? c->next_stream : 1;

			c->next_stream = cand == FUNNEL_MAX_STREAM ? 1 : cand + 1;
			if (!cs_find(c, cand)) {
				id = cand;
				break;
			}
		}
	}
	return id;
}

/*
 * Client side: open the stream of a map (the carrier is up).  With
 * GSS-API, OPEN goes out once the first step of the stream's context is
 * done (carrier_stream_prepared()).
 */
void car_open_map(struct carrier *c, struct map *m)
{
	struct cstream *cs;
	uint16_t id = car_pick_stream(c);

	if (!id || cs_count(c) >= FUNNEL_STREAMS_MAX) {
		car_map_closed(c, m, NULL, "too many streams on the carrier");
		return;
	}
	if (c->ops->stream_room) {
		char err[DAEMON_TEXT_MAX];
		int r = c->ops->stream_room(c, id, true, err, sizeof(err));

		if (r < 0) {
			car_map_closed(c, m, NULL, err);
			return;
		}
		if (!r) {
			/* car_streams_fire() tries again */
			m->state = MAP_WAITING;
			snprintf(m->reason, sizeof(m->reason),
				 "waiting for SCTP streams (the association has %u)",
				 c->sctp_in < c->sctp_out ? c->sctp_in :
				 c->sctp_out);
			loop_timer_arm(c->d->loop, &c->t_streams,
				       CAR_STREAMS_POLL_MS);
			return;
		}
	}
	cs = cs_add(c, id, m->s.proto, m->s.service, m->addr);
	if (!cs) {
		car_map_closed(c, m, NULL, "out of memory");
		return;
	}
	cs->map = m;
	cs->state = CS_OPENING;
	/* a plugin stream when both HELLOs have FEAT_PLUGIN and the peer
	 * does flow control (a receiver bounds held frames by the flow's
	 * window; the server refuses PLUGIN without it: FUNNELD_NO_WINDOW
	 * tests that), unless the peer's service refused it on this
	 * carrier (plugins.md 5.1)
	 */
	if (m->s.proto == IPPROTO_TCP && m->s.plugin && !m->plugin_off &&
	    (c->peer_features & car_features(c) & CTRL_FEAT_PLUGIN) &&
	    (c->peer_features & CTRL_FEAT_WINDOW))
		cs->plugin = m->s.plugin;
	/* unordered (ORDERED 0) on an SCTP carrier, keyed or not, either
	 * data path (funneld seals and opens a plugin stream's frames
	 * itself, without a counter window: plugins.md 5.4).
	 * FUNNELD_PLUGIN_UNORDERED=1: on any carrier (tests: the
	 * receiver's reordering over TCP)
	 */
	if (cs->plugin && !m->plugin_ordered &&
	    (c->ops->protocol == IPPROTO_SCTP ||
	     getenv("FUNNELD_PLUGIN_UNORDERED")))
		cs->unordered = true;
	if (m->s.proto == IPPROTO_UDP)
		cs->lifetime_ms = m->s.has_lifetime ? m->s.lifetime_ms :
				  CAR_LIFETIME_MS;
	m->last_open = loop_now_ms();
	m->stream = id;
	m->state = MAP_OPENING;
	/* the last refusal's reason stays until the map opens */
	if (!c->d->plaintext) {
		char err[DAEMON_TEXT_MAX];

		if (csec_client_start(c, cs, err, sizeof(err))) {
			log_warn("%s: map %s: %s", carrier_name(c), m->addr,
				 err);
			car_map_closed(c, m, cs, err);
		}
		return;
	}
	car_send_open(c, cs);
}

/*
 * Offer refused and closed maps again, each on its own backoff (config.h,
 * set by car_open_map()): the peer may have added the service, or the
 * local port may be free again.  One timer of the carrier fires at the
 * earliest retry; the keepalive has nothing to do with it.
 */
static bool car_map_waits(const struct carrier *c, const struct map *m)
{
	return c->peer && !m->stream && !strcmp(m->s.peer, c->peer->s.name) &&
	       (m->state == MAP_REFUSED || m->state == MAP_CLOSED);
}

static void car_arm_maps(struct carrier *c)
{
	uint64_t now = loop_now_ms(), first = UINT64_MAX;

	for (struct map *m = c->d->maps; m; m = m->next)
		if (car_map_waits(c, m) && m->next_open < first)
			first = m->next_open;
	if (c->state != CAR_UP || first == UINT64_MAX)
		loop_timer_cancel(c->d->loop, &c->t_maps);
	else
		loop_timer_arm(c->d->loop, &c->t_maps,
			       first > now ? first - now : 0);
}

void car_streams_fire(struct loop *l, void *arg)
{
	struct carrier *c = arg;

	(void)l;
	for (struct map *m = c->d->maps; m && c->state == CAR_UP; m = m->next)
		if (c->peer && !m->stream && m->state == MAP_WAITING &&
		    !strcmp(m->s.peer, c->peer->s.name))
			car_open_map(c, m);
}

void car_maps_fire(struct loop *l, void *arg)
{
	struct carrier *c = arg;
	uint64_t now = loop_now_ms();

	(void)l;
	for (struct map *m = c->d->maps; m && c->state == CAR_UP; m = m->next)
		if (car_map_waits(c, m) && now >= m->next_open)
			car_open_map(c, m);
	car_arm_maps(c);
}

/*
 * Map m of carrier c was refused or closed: when to try it again, and the
 * step after that.
 */
void car_map_down(struct carrier *c, struct map *m)
{
	uint64_t delay;

	if (c->state != CAR_UP)
		return;
	if (!m->retry_ms)
		m->retry_ms = MAP_RETRY_MIN_MS;
	delay = car_jittered(m->retry_ms);
	m->next_open = loop_now_ms() + delay;
	m->retry_ms = m->retry_ms * 2 > MAP_RETRY_MAX_MS ? MAP_RETRY_MAX_MS :
			m->retry_ms * 2;
	log_info("%s: map %s: next try in %llu ms", carrier_name(c), m->addr,
		 (unsigned long long)delay);
	car_arm_maps(c);
}

void carrier_map_added(struct carrier *c, struct map *m)
{
	if (c->state == CAR_UP)
		car_open_map(c, m);
}

void carrier_map_deleted(struct carrier *c, struct map *m)
{
	struct cstream *cs;

	for (cs = c->streams; cs; cs = cs->next)
		if (cs->map == m)
			break;
	if (!cs)
		return;
	log_info("%s: closing stream %u (map %s deleted)", carrier_name(c),
		 cs->id, m->addr);
	car_send_stream_msg(c, CTRL_CLOSE, cs->id, CTRL_R_CLOSED_BY_USER,
			    "map deleted");
	cs_remove(c, cs);
}

void carrier_service_deleted(struct daemon *d, const char *name)
{
	for (struct carrier *c = d->carriers; c; c = c->next) {
		struct cstream *cs = c->streams, *next;

		for (; cs; cs = next) {
			next = cs->next;
			/* service sides only (a relay's next hop goes with
			 * its service side)
			 */
			if (c->peer || cs->map || strcmp(cs->service, name))
				continue;
			log_info("%s: closing stream %u (service %s deleted)",
				 carrier_name(c), cs->id, name);
			car_send_stream_msg(c, CTRL_CLOSE, cs->id,
					    CTRL_R_CLOSED_BY_USER,
					    "service deleted");
			cs_remove(c, cs);
		}
	}
}
