// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol on stream 0 (Documentation/control-protocol.md):
 * HELLO, OPEN and its answers, CLOSE, REKEY, PING; the service side
 * checks each OPEN, resolves its target and accepts or refuses it.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include "funneld/carrier/csec.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/upath.h"
#include "funneld/log.h"

/* ---- the control protocol ---- */

static void car_up(struct carrier *c, const struct ctrl_msg *m)
{
	struct daemon *d = c->d;
	bool peer_plain = m->features & CTRL_FEAT_PLAINTEXT;

	snprintf(c->peer_node, sizeof(c->peer_node), "%s",
		 m->present & CTRL_BIT(CTRL_A_NODE) ? m->node : "");
	c->peer_features = m->features;
	if (peer_plain != d->plaintext) {
		carrier_fail(c, "plaintext mismatch: this side is %s, the peer is %s; both ends need the 'plaintext' statement, or neither",
			 d->plaintext ? "plaintext" : "not plaintext",
			 peer_plain ? "plaintext" : "not plaintext");
		return;
	}
	if (!d->plaintext && !(m->features & CTRL_FEAT_GSS)) {
		carrier_fail(c, "the peer offers no GSS-API");
		return;
	}
	if (!d->plaintext && !c->peer_principal[0]) {
		carrier_fail(c, "protocol error: HELLO without a GSS-API context");
		return;
	}
	if (!c->peer && !d->plaintext &&
	    car_principal_carriers(d, c->peer_principal, c, NULL) >=
	    CAR_PRINCIPAL_CARRIERS) {
		d->refused_principal++;
		carrier_fail(c, "refused: %s has %u incoming carriers up already (at most %u per principal)",
			     c->peer_principal, CAR_PRINCIPAL_CARRIERS,
			     CAR_PRINCIPAL_CARRIERS);
		return;
	}
	loop_timer_cancel(d->loop, &c->t_timeout);
	if (!c->peer)
		d->handshakes--;
	c->state = CAR_UP;
	c->up_since = loop_now_ms();
	/* auto: this kind is in the running again */
	car_kind_demote(c, false);
	c->last_error[0] = '\0';
	if (c->was_up)
		c->reconnects++;
	c->was_up = true;
	if (d->plaintext)
		log_warn("%s: carrier up %s -> %s (node %s, %s data path) in PLAINTEXT: no authentication, no encryption",
			 carrier_name(c), c->local_text, c->remote_text,
			 c->peer_node[0] ? c->peer_node : "?",
			 c->kernel ? "kernel" : "user");
	else
		log_info("%s: carrier up %s -> %s (node %s, %s, %s data path)",
			 carrier_name(c), c->local_text, c->remote_text,
			 c->peer_node[0] ? c->peer_node : "?",
			 c->peer_principal, c->kernel ? "kernel" : "user");
	loop_timer_arm(d->loop, &c->t_ping, d->keepalive_ms);
	if (!c->peer)
		return;
	for (struct map *mp = d->maps; mp && c->state == CAR_UP;
	     mp = mp->next)
		if (!strcmp(mp->s.peer, c->peer->s.name)) {
			/* the peer may have them now */
			mp->plugin_off = false;
			mp->plugin_ordered = false;
			car_open_map(c, mp);
		}
}

/*
 * Refuse a stream (OPEN, or a context that failed before it opened): the
 * peer is told wire; this side's log and the last refusal of service svc
 * (NULL: none; show) keep detail, which may name local files, users and
 * addresses the peer is not told (NULL: the same as wire).
 */
static void car_refuse_detail(struct carrier *c, struct service *svc,
			      uint16_t stream, uint16_t reason,
			      const char *wire, const char *detail)
{
	const char *rname = ctrl_reason_name(reason);
	char text[CTRL_TEXT_MAX + 1];

	if (!rname)
		rname = "?";
	snprintf(text, sizeof(text), "%s", wire);
	if (detail && strcmp(detail, text))
		log_warn("%s: stream %u refused (%s): %s (the peer is told: %s)",
			 carrier_name(c), stream, rname, detail, text);
	else
		log_warn("%s: stream %u refused (%s): %s", carrier_name(c),
			 stream, rname, text);
	if (svc) {
		svc->refusals++;
		/* the reason as in a map's: "internal-error: ..." */
		snprintf(svc->last_refusal, sizeof(svc->last_refusal),
			 "%.24s: %.229s", rname, detail ? detail : text);
		for (char *p = svc->last_refusal; *p && *p != ':'; p++)
			if (*p == ' ')
				*p = '-';
	}
	car_send_stream_msg(c, CTRL_OPEN_REFUSED, stream, reason, text);
}

static void car_refuse(struct carrier *c, struct service *svc,
		       uint16_t stream, uint16_t reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void car_refuse(struct carrier *c, struct service *svc,
		       uint16_t stream, uint16_t reason, const char *fmt, ...)
{
	char text[CTRL_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	car_refuse_detail(c, svc, stream, reason, text, NULL);
}

static void cs_accept(struct carrier *c, struct cstream *cs,
		      const void *tok, size_t toklen);

/* Server side: the name of a stream's target is resolved. */
static void cs_resolved(void *arg, const struct resolve_addrs *r,
			const char *err)
{
	struct cstream *cs = arg;
	struct carrier *c = cs->car;

	cs->resolving = NULL;
	if (!r->n) {
		/* the detail is ours: the peer learns no internal name */
		log_warn("%s: stream %u: service %s: %s", carrier_name(c),
			 cs->id, cs->service, err);
		carrier_stream_fail(c, cs, CTRL_R_INTERNAL,
				    "the service's target cannot be resolved now");
		return;
	}
	/* a UDP target cannot say it does not answer: the first address */
	cs->target = r->ss[0];
	cs->target_len = r->len[0];
	addr_format(&cs->target, cs->addr, sizeof(cs->addr));
	if (c->d->plaintext || cs->accept_wait) {
		uint8_t *tok = cs->accept_tok;

		cs->accept_tok = NULL;
		cs_accept(c, cs, tok, cs->accept_toklen);
		free(tok);
	}
}

/* Server side: a stream for one of our services. */
static void car_on_open(struct carrier *c, const struct ctrl_msg *m)
{
	struct service *svc = config_service(c->d, m->service);
	/* a keytab's path may be in err twice (UNPROTECTED KEYTAB) */
	char err[1024], wire[CTRL_TEXT_MAX + 1];
	struct cstream *cs;
	int socktype;

	if (c->peer) {
		car_refuse(c, NULL, m->stream, CTRL_R_INTERNAL,
			   "streams are opened by the side that connected the carrier");
		return;
	}
	if (!svc) {
		car_refuse(c, NULL, m->stream, CTRL_R_UNKNOWN_SERVICE,
			   "no service '%s'", m->service);
		return;
	}
	if ((m->proto == CTRL_PROTO_UDP) != (svc->s.proto == IPPROTO_UDP)) {
		car_refuse(c, svc, m->stream, CTRL_R_PROTO_MISMATCH,
			   "service '%s' is %s", m->service,
			   stmt_proto_name(svc->s.proto));
		return;
	}
	/* a plugin stream: the service has that plugin, and is no relay
	 * (whose next hop is a plain stream); else the client offers the
	 * map again as a plain stream (plugins.md 5.1)
	 */
	if ((m->present & CTRL_BIT(CTRL_A_PLUGIN)) &&
	    (!(car_features(c) & CTRL_FEAT_PLUGIN) ||
	     svc->s.kind == STMT_RELAY_ADD || svc->s.plugin != m->plugin)) {
		car_refuse(c, svc, m->stream, CTRL_R_PROTO_MISMATCH,
			   "service %s has no plugin %s", m->service,
			   m->plugin == STMT_PLUGIN_LDAP ? "ldap" : "of that id");
		return;
	}
	/* held frames are bounded by the flow's window: no plugin stream
	 * without flow control (plugins.md 5.1)
	 */
	if ((m->present & CTRL_BIT(CTRL_A_PLUGIN)) &&
	    !(c->peer_features & car_features(c) & CTRL_FEAT_WINDOW)) {
		car_refuse(c, svc, m->stream, CTRL_R_PROTO_MISMATCH,
			   "a plugin stream needs flow control (FEAT_WINDOW) on the carrier");
		return;
	}
	if (cs_find(c, m->stream)) {
		car_refuse(c, svc, m->stream, CTRL_R_STREAM_IN_USE,
			   "stream %u is open", m->stream);
		return;
	}
	if (cs_count(c) >= FUNNEL_STREAMS_MAX) {
		car_refuse(c, svc, m->stream, CTRL_R_LIMIT, "%u streams open",
			   cs_count(c));
		return;
	}
	if (c->ops->stream_room) {
		char err[DAEMON_TEXT_MAX];

		/* SCTP: the client adds streams before it opens one */
		if (c->ops->stream_room(c, m->stream, false, err,
					sizeof(err)) != 1) {
			car_refuse(c, svc, m->stream, CTRL_R_LIMIT, "%s", err);
			return;
		}
	}
	if (!c->d->plaintext) {
		unsigned int n;

		car_principal_carriers(c->d, c->peer_principal, NULL, &n);
		if (n >= CAR_PRINCIPAL_STREAMS) {
			c->d->refused_streams++;
			car_refuse(c, svc, m->stream, CTRL_R_LIMIT,
				   "%s has %u streams open (at most %u per principal)",
				   c->peer_principal, n,
				   CAR_PRINCIPAL_STREAMS);
			return;
		}
	}
	socktype = svc->s.proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	cs = cs_add(c, m->stream, svc->s.proto, m->service, "");
	if (!cs) {
		car_refuse(c, svc, m->stream, CTRL_R_INTERNAL, "out of memory");
		return;
	}
	cs->state = CS_OPENING;
	if (m->present & CTRL_BIT(CTRL_A_PLUGIN)) {
		cs->plugin = m->plugin;
		cs->unordered = !m->ordered;
	}
	if (svc->s.proto == IPPROTO_UDP)
		cs->lifetime_ms = svc->s.has_lifetime ? svc->s.lifetime_ms :
				  CAR_LIFETIME_MS;
	/* the target: a name is resolved in a worker, while the stream's
	 * context runs; a relay's is the next hop, opened once the
	 * stream is authorized (relay_start())
	 */
	if (svc->s.kind == STMT_RELAY_ADD) {
		cs->rsvc = svc;
		snprintf(cs->addr, sizeof(cs->addr), "relay to %.24s/%.24s",
			 svc->s.peer,
			 svc->s.service[0] ? svc->s.service : svc->s.name);
	} else if (svc->s.addr.is_name) {
		snprintf(cs->addr, sizeof(cs->addr), "%.56s:%u",
			 svc->s.addr.host, svc->s.addr.port);
		cs->resolving = resolve_start(config_workers_dns(c->d),
					      &svc->s.addr, socktype,
					      cs_resolved, cs, err,
					      sizeof(err));
		if (!cs->resolving)
			goto refuse;
	} else if (addr_resolve(&svc->s.addr, socktype, &cs->target,
				&cs->target_len, err, sizeof(err))) {
		goto refuse;
	} else {
		addr_format(&cs->target, cs->addr, sizeof(cs->addr));
	}
	if (!c->d->plaintext) {
		/* the stream's context comes next, on stream N */
		if (csec_server_start(c, cs, err, sizeof(err), wire,
				      sizeof(wire)))
			goto refuse_wire;
		return;
	}
	carrier_stream_accept(c, cs, NULL, 0);
	return;
refuse:
	/* the detail is ours: the peer learns no internal name */
	snprintf(wire, sizeof(wire),
		 "the service's target cannot be resolved now");
refuse_wire:
	cs_remove(c, cs);
	car_refuse_detail(c, svc, m->stream, CTRL_R_INTERNAL, wire, err);
}

/*
 * Server: the stream may open (its context, if any, is established and
 * authorized) and its target is known: install it with its keys, send
 * the context's last token, then OPEN_OK.
 */
static void cs_accept(struct carrier *c, struct cstream *cs,
		      const void *tok, size_t toklen)
{
	struct service *svc = config_service(c->d, cs->service);
	char err[DAEMON_TEXT_MAX];

	if (!svc) {
		snprintf(err, sizeof(err), "service %s is gone", cs->service);
		carrier_stream_fail(c, cs, CTRL_R_INTERNAL, err);
		return;
	}
	if (cs->rsvc) {
		/* OPEN_OK once the next hop has answered */
		relay_start(c, cs, tok, toklen);
		return;
	}
	if (cs_install(c, cs, false, &cs->target, cs->target_len, err,
		       sizeof(err))) {
		carrier_stream_fail(c, cs, CTRL_R_INTERNAL, err);
		return;
	}
	if (toklen)
		carrier_send_token(c, cs->id, tok, toklen);
	cs->state = CS_OPEN;
	svc->opens++;
	log_info("%s: stream %u open for service %s -> %s%s", carrier_name(c),
		 cs->id, svc->s.name, cs->addr,
		 !cs->plugin ? "" : cs->unordered ?
		 " (plugin stream ldap, phase 2, unordered)" :
		 " (plugin stream ldap, phase 2)");
	if (cs->plugin) {
		struct ctrl_msg ok = { .type = CTRL_OPEN_OK, .stream = cs->id,
				       .plugin = cs->plugin };

		ok.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_PLUGIN);
		carrier_send_ctrl(c, &ok);
		return;
	}
	car_send_stream_msg(c, CTRL_OPEN_OK, cs->id, 0, NULL);
}

void carrier_stream_accept(struct carrier *c, struct cstream *cs,
			   const void *tok, size_t toklen)
{
	if (!cs->resolving) {
		cs_accept(c, cs, tok, toklen);
		return;
	}
	/* the target's name is still being resolved: wait for it */
	if (toklen) {
		cs->accept_tok = malloc(toklen);
		if (!cs->accept_tok) {
			carrier_stream_fail(c, cs, CTRL_R_INTERNAL,
					    "out of memory");
			return;
		}
		memcpy(cs->accept_tok, tok, toklen);
		cs->accept_toklen = toklen;
	}
	cs->accept_wait = true;
}

/*
 * A stream ends before it opened, or its context failed: the server
 * refuses it, the client closes it; the other streams go on.
 */
void carrier_stream_fail(struct carrier *c, struct cstream *cs,
			 uint16_t reason, const char *text)
{
	carrier_stream_fail_detail(c, cs, reason, text, NULL);
}

void carrier_stream_fail_detail(struct carrier *c, struct cstream *cs,
				uint16_t reason, const char *wire,
				const char *detail)
{
	struct map *mp = cs->map;
	uint16_t id = cs->id;

	if (!c->peer && cs->state != CS_OPEN) {
		struct service *svc = config_service(c->d, cs->service);

		cs_remove(c, cs);
		car_refuse_detail(c, svc, id, reason, wire, detail);
		return;
	}
	if (detail && strcmp(detail, wire))
		log_warn("%s: stream %u closed (%s): %s (the peer is told: %s)",
			 carrier_name(c), id, ctrl_reason_name(reason), detail,
			 wire);
	else
		log_warn("%s: stream %u closed (%s): %s", carrier_name(c), id,
			 ctrl_reason_name(reason), wire);
	car_send_stream_msg(c, CTRL_CLOSE, id, reason, wire);
	cs_remove(c, cs);
	if (mp) {
		mp->state = MAP_CLOSED;
		snprintf(mp->reason, sizeof(mp->reason), "%s",
			 detail ? detail : wire);
		car_map_down(c, mp);
	}
}

/* Client side: the peer accepted our OPEN. */
static void car_on_open_ok(struct carrier *c, const struct ctrl_msg *m)
{
	struct cstream *cs = cs_find(c, m->stream);
	char err[DAEMON_TEXT_MAX];
	struct map *mp;

	if (!cs || cs->state != CS_OPENING || !c->peer ||
	    (!cs->map && !cs->rsvc)) {
		log_debug("%s: OPEN_OK for stream %u we do not open",
			  carrier_name(c), m->stream);
		return;
	}
	mp = cs->map;
	if (!c->d->plaintext && !csec_ready(cs)) {
		carrier_stream_fail(c, cs, CTRL_R_NOT_AUTHORIZED,
				    "OPEN_OK before the stream's GSS-API context was established");
		return;
	}
	if (cs->plugin != ((m->present & CTRL_BIT(CTRL_A_PLUGIN)) ?
			   m->plugin : 0)) {
		carrier_stream_fail(c, cs, CTRL_R_PROTO_MISMATCH,
				    cs->plugin ? "OPEN_OK without the PLUGIN of the OPEN" :
						 "OPEN_OK with a PLUGIN the OPEN did not have");
		return;
	}
	if (!mp) {
		relay_next_open(c, cs);
		return;
	}
	map_release(mp);
	if (cs_install(c, cs, true, &mp->local, mp->local_len, err,
		       sizeof(err))) {
		log_warn("%s: map %s: %s", carrier_name(c), mp->addr, err);
		car_send_stream_msg(c, CTRL_CLOSE, cs->id, CTRL_R_INTERNAL,
				    err);
		cs_remove(c, cs);
		mp->state = MAP_CLOSED;
		snprintf(mp->reason, sizeof(mp->reason), "%s", err);
		car_map_down(c, mp);
		return;
	}
	cs->state = CS_OPEN;
	mp->state = MAP_OPEN;
	mp->retry_ms = 0;	/* a later failure retries after a second */
	mp->reason[0] = '\0';
	log_info("%s: stream %u open: map %s -> service %s%s", carrier_name(c),
		 cs->id, mp->addr, mp->s.service,
		 !cs->plugin ? "" : cs->unordered ?
		 " (plugin stream ldap, phase 2, unordered)" :
		 " (plugin stream ldap, phase 2)");
}

static void car_on_refused(struct carrier *c, const struct ctrl_msg *m,
			   bool closed)
{
	struct cstream *cs = cs_find(c, m->stream);
	char rname[32];
	struct map *mp;

	/* OPEN_REFUSED answers our OPEN; CLOSE may end any stream */
	if (!cs || (!closed && (!c->peer || (!cs->map && !cs->rsvc) ||
				cs->state != CS_OPENING))) {
		log_debug("%s: %s for stream %u ignored", carrier_name(c),
			  ctrl_type_name(m->type), m->stream);
		return;
	}
	if (cs->rsvc && c->peer) {
		/* a relay's next hop: the service side hears of it */
		relay_next_refused(cs, m, closed);
		return;
	}
	mp = cs->map;
	if (ctrl_reason_name(m->reason))
		snprintf(rname, sizeof(rname), "%s",
			 ctrl_reason_name(m->reason));
	else
		snprintf(rname, sizeof(rname), "reason %u", m->reason);
	log_warn("%s: stream %u %s by the peer: %s%s%s", carrier_name(c), cs->id,
		 closed ? "closed" : "refused", rname,
		 m->present & CTRL_BIT(CTRL_A_TEXT) ? ": " : "",
		 m->present & CTRL_BIT(CTRL_A_TEXT) ? m->text : "");
	if (mp && cs->plugin && !closed &&
	    m->reason == CTRL_R_PROTO_MISMATCH) {
		/* an unordered plugin stream refused (a peer of a version
		 * that takes them on plaintext userspace carriers only, or
		 * a service without the plugin): an ordered plugin stream
		 * first; an ordered one refused (the service takes no plugin
		 * stream): a plain one, phase 1 on this end, on this carrier
		 * from now on (plugins.md 5.1)
		 */
		if (cs->unordered)
			mp->plugin_ordered = true;
		else
			mp->plugin_off = true;
		log_warn("%s: map %s: offered again %s", carrier_name(c),
			 mp->addr, cs->unordered ?
			 "as an ordered plugin stream" :
			 "without its plugin stream (phase 1)");
		cs_remove(c, cs);
		car_open_map(c, mp);
		return;
	}
	if (mp) {
		for (char *p = rname; *p; p++)
			if (*p == ' ')
				*p = '-';
		mp->state = closed ? MAP_CLOSED : MAP_REFUSED;
		snprintf(mp->reason, sizeof(mp->reason), "%s%s%.200s", rname,
			 m->present & CTRL_BIT(CTRL_A_TEXT) ? ": " : "",
			 m->present & CTRL_BIT(CTRL_A_TEXT) ? m->text : "");
	}
	cs_remove(c, cs);
	if (mp)
		car_map_down(c, mp);
}

void carrier_ctrl(struct carrier *c, const uint8_t *body, size_t len)
{
	struct ctrl_msg m;
	const char *why;

	if (c->state == CAR_HELLO && c->d->plaintext && len &&
	    body[0] == 0x60) {
		/* an initial GSS-API token (RFC 2743 3.1), not a HELLO */
		carrier_fail(c, "plaintext mismatch: this side is plaintext, the peer starts GSS-API; both ends need the 'plaintext' statement, or neither");
		return;
	}
	if (ctrl_decode(body, len, &m, &why)) {
		carrier_fail(c, "malformed control message: %s", why);
		return;
	}
	log_debug("%s: received %s", carrier_name(c), ctrl_type_name(m.type));
	if (c->state == CAR_HELLO) {
		if (m.type != CTRL_HELLO) {
			carrier_fail(c, "protocol error: %s before HELLO",
				 ctrl_type_name(m.type));
			return;
		}
		car_up(c, &m);
		return;
	}
	switch (m.type) {
	case CTRL_HELLO:
		carrier_fail(c, "protocol error: second HELLO");
		break;
	case CTRL_OPEN:
		car_on_open(c, &m);
		break;
	case CTRL_OPEN_OK:
		car_on_open_ok(c, &m);
		break;
	case CTRL_OPEN_REFUSED:
		car_on_refused(c, &m, false);
		break;
	case CTRL_CLOSE:
		car_on_refused(c, &m, true);
		break;
	case CTRL_REKEY_DONE: {
		struct cstream *cs = cs_find(c, m.stream);

		if (cs && !c->peer)
			csec_rekey_done(c, cs, m.generation);
		break;
	}
	case CTRL_REKEY: {
		struct cstream *cs = cs_find(c, m.stream);

		if (cs && c->peer)
			csec_rekey_asked(c, cs, m.generation);
		break;
	}
	case CTRL_WINDOW: {
		struct cstream *cs = cs_find(c, m.stream);

		/* a flow or stream that ended meanwhile: nothing to do */
		if (cs && cs->tp)
			tpath_flow_credit(cs->tp, m.flow, m.credit);
		else if (cs && cs->rtcp)	/* a TCP relay's */
			rtcp_window(cs, m.flow, m.credit);
		break;
	}
	case CTRL_ORIGIN: {
		struct cstream *cs = cs_find(c, m.stream);

		/* a UDP stream of the userspace path or of funnel.ko;
		 * else nothing to do
		 */
		if (cs && cs->rsvc)
			relay_origin(cs, &m);
		else if (cs && cs->up)
			upath_flow_origin(cs->up, m.flow, m.origin,
					  m.origin_len);
		else if (cs)
			korigin_recv(cs, &m);
		break;
	}
	case CTRL_MARK:
		if (c->d->plaintext)
			c->marks_ignored++;
		else
			csec_mark(c, cs_find(c, m.stream), m.generation,
				  m.counter);
		break;
	case CTRL_PING:
		m.type = CTRL_PONG;
		carrier_send_ctrl(c, &m);
		break;
	case CTRL_PONG:
		/* an answer to any recent ping: the peer is alive, even
		 * when the round trip is longer than the ping interval
		 */
		for (size_t i = 0; i < ARRAY_SIZE(c->ping_nonce); i++) {
			if (c->ping_outstanding && m.nonce == c->ping_nonce[i]) {
				c->ping_outstanding = false;
				c->pings_missed = 0;
			}
		}
		break;
	}
}
