// SPDX-License-Identifier: GPL-2.0
/*
 * Carriers: TCP connections between two funneld, with the preamble, the
 * control protocol on stream 0 (Documentation/control-protocol.md),
 * reconnect with backoff, keepalive, and one stream per map.
 *
 * A carrier runs either in funnel.ko (the ULP is attached and the kernel
 * moves every DATA frame; funneld sends and receives CTRL frames with
 * send() and recv() on the socket, one frame each) or in funneld (the
 * userspace path: funneld frames and deframes the TCP byte stream itself
 * and hands DATA frames to upath.c).  The control logic is the same.
 *
 * The side with "peer add" connects and opens a stream per map; the side
 * that accepts serves its services.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>

#include <linux/funnel.h>

#include "funneld/carrier/transport.h"
#include "funneld/sec/csec.h"
#include "funneld/daemon.h"
#include "funneld/log.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/upath.h"

#define CAR_TIMEOUT_MS		5000	/* connect, preamble, hello */
#define CAR_CONNECT_NEXT_MS	2000	/* connect, when more addresses wait */
#define CAR_BACKOFF_MIN_MS	500
#define CAR_BACKOFF_MAX_MS	30000
#define CAR_PINGS_MISSED_MAX	3
#define CAR_TXQ_DATA_MAX	(1U << 20)	/* user path: DATA queued */
#define CAR_TXQ_MAX		(4U << 20)	/* CTRL may go beyond */
#define CAR_HANDSHAKES_MAX	64		/* incoming, not up yet */
#define CAR_HANDSHAKES_PER_ADDR	8		/* of them from one address */
/* incoming carriers up, and their streams, of one principal at most */
#define CAR_PRINCIPAL_CARRIERS	8
#define CAR_PRINCIPAL_STREAMS	FUNNEL_STREAMS_MAX
/* flows of the userspace data path (a socket each), per carrier; all
 * carriers: DAEMON_USER_FLOWS_MAX (daemon.h)
 */
#define CAR_USER_FLOWS_MAX	16384
#define CAR_ACCEPT_PAUSE_MS	1000		/* after EMFILE */

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

static void car_io(struct loop *l, int fd, uint32_t events, void *arg);

const char *carrier_state_name(enum carrier_state st)
{
	switch (st) {
	case CAR_IDLE:
		return "idle";
	case CAR_CONNECTING:
		return "connecting";
	case CAR_PREAMBLE:
	case CAR_AUTH:
	case CAR_HELLO:
		return "handshake";
	case CAR_UP:
		return "up";
	case CAR_BACKOFF:
		return "backoff";
	}
	return "?";
}

const char *carrier_name(const struct carrier *c)
{
	return c->peer ? c->peer->s.name : c->remote_text;
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = loop_now_ms() * 6364136223846793005ULL + (uint64_t)getpid();
	return v;
}

/* A backoff delay: 3/4 to 5/4 of step, so that retries do not align. */
static uint64_t jittered(uint32_t step)
{
	return step * 3ULL / 4 + random_u64() % (step / 2 + 1);
}

/* ---- transmit ---- */

/*
 * The transmit queue holds whole frames, each with its 2-byte length
 * prefix; the transport writes them (carrier_tcp.c).
 */
static int car_flush(struct carrier *c)
{
	int err = c->ops->write(c);

	if (err)
		return err;
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (c->tx_blocked && c->olen - c->ooff < CAR_TXQ_DATA_MAX / 2) {
		/* TCP streams stopped reading when the queue was full */
		c->tx_blocked = false;
		for (struct cstream *cs = c->streams; cs; cs = cs->next)
			if (cs->tp)
				tpath_stream_resume(cs->tp);
	}
	if (c->pollout != !!c->olen) {
		c->pollout = !!c->olen;
		loop_mod(c->d->loop, c->fd, EPOLLIN | (c->olen ? EPOLLOUT : 0));
	}
	return 0;
}

/*
 * A failure noticed while sending is acted on from a timer: the sender
 * (a stream, a control exchange) may hold pointers to streams that
 * carrier_fail() would free under it.
 */
static void car_fail_later(struct carrier *c, const char *why)
{
	if (c->fail_why[0])
		return;
	snprintf(c->fail_why, sizeof(c->fail_why), "%s", why);
	loop_timer_arm(c->d->loop, &c->t_fail, 0);
}

static void car_fail_fire(struct loop *l, void *arg)
{
	struct carrier *c = arg;
	char why[DAEMON_TEXT_MAX];

	(void)l;
	snprintf(why, sizeof(why), "%s", c->fail_why);
	carrier_fail(c, "%s", why);
}

static int car_queue(struct carrier *c, const uint8_t *frame, size_t len,
		     bool ctrl)
{
	size_t need = len + FUNNEL_LEN_PREFIX;

	if (c->fd < 0 || c->fail_why[0] ||
	    (c->state != CAR_AUTH && c->state != CAR_HELLO &&
	     c->state != CAR_UP))
		return -1;
	if (!ctrl && c->olen - c->ooff + need > CAR_TXQ_DATA_MAX) {
		c->tx_blocked = true;
		return -1;
	}
	if (c->olen - c->ooff + need > CAR_TXQ_MAX) {
		car_fail_later(c, "transmit queue overflow (peer not reading)");
		return -1;
	}
	if (c->ooff && c->olen + need > c->ocap) {
		memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
	}
	if (c->olen + need > c->ocap) {
		size_t cap = c->ocap ? c->ocap : 65536;
		uint8_t *b;

		while (cap < c->olen + need)
			cap *= 2;
		b = realloc(c->obuf, cap);
		if (!b)
			return -1;
		c->obuf = b;
		c->ocap = cap;
	}
	funnel_len_prefix_encode(c->obuf + c->olen, len);
	memcpy(c->obuf + c->olen + FUNNEL_LEN_PREFIX, frame, len);
	c->olen += need;
	if (!c->kernel) {
		FST(&c->st, TX_FRAMES)++;
		FST(&c->st, TX_BYTES) += len;
	}
	/* frames already waiting for room go out on EPOLLOUT */
	if (!c->pollout) {
		int err = car_flush(c);

		if (err) {
			char why[64];

			snprintf(why, sizeof(why), "send: %s", strerror(-err));
			car_fail_later(c, why);
			return -1;
		}
	}
	return 0;
}

/*
 * upath_send_fn: a DATA or FLOW_END frame from a UDP stream of the
 * userspace path; a frame the queue cannot take is dropped.
 */
static int car_upath_send(void *arg, const uint8_t *frame, size_t len)
{
	struct cstream *cs = arg;
	struct carrier *c = cs->car;
	int ret;

	ret = csec_seal(c, cs, frame, len, &frame, &len);
	if (ret)
		return ret;
	ret = car_queue(c, frame, len, false);
	if (ret)
		FST(&c->st, TX_DROP_QUEUE)++;
	return ret ? -ENOBUFS : 0;
}

/*
 * The same for a TCP stream: a frame the queue cannot take is kept by
 * the stream, which stops reading until tpath_stream_resume().
 */
static int car_tpath_send(void *arg, const uint8_t *frame, size_t len)
{
	struct cstream *cs = arg;
	const uint8_t *out;
	size_t outlen;

	if (csec_seal(cs->car, cs, frame, len, &out, &outlen))
		return -1;
	/* a sealed copy is made again when the stream retries the frame */
	return car_queue(cs->car, out, outlen, false);
}

int carrier_send_token(struct carrier *c, uint16_t stream, const void *tok,
		       size_t len)
{
	struct funnel_frame f = { .stream = stream, .type = FUNNEL_T_CTRL };
	uint8_t *buf;
	int ret;

	if (len > FUNNEL_MAX_PAYLOAD) {
		car_fail_later(c, "GSS-API token too large for a frame");
		return -1;
	}
	buf = malloc(FUNNEL_HDR_LEN + len);
	if (!buf) {
		car_fail_later(c, "out of memory");
		return -1;
	}
	funnel_hdr_encode(buf, &f);
	memcpy(buf + FUNNEL_HDR_LEN, tok, len);
	log_debug("%s: send a %zu-byte token on stream %u", carrier_name(c),
		  len, stream);
	ret = car_queue(c, buf, FUNNEL_HDR_LEN + len, true);
	free(buf);
	return ret;
}

void carrier_send_ctrl(struct carrier *c, struct ctrl_msg *m)
{
	uint8_t buf[FUNNEL_HDR_LEN + 1024];
	struct funnel_frame f = { .stream = FUNNEL_CTRL_STREAM,
				  .type = FUNNEL_T_CTRL };
	const char *why;
	int n;

	n = ctrl_encode(m, buf + FUNNEL_HDR_LEN, sizeof(buf) - FUNNEL_HDR_LEN,
			&why);
	if (n < 0) {
		log_err("%s: cannot encode %s: %s", carrier_name(c),
			ctrl_type_name(m->type), why);
		return;
	}
	funnel_hdr_encode(buf, &f);
	log_debug("%s: send %s", carrier_name(c), ctrl_type_name(m->type));
	car_queue(c, buf, FUNNEL_HDR_LEN + (size_t)n, true);
}

static void car_send_stream_msg(struct carrier *c, uint8_t type,
				uint16_t stream, uint16_t reason,
				const char *text)
{
	struct ctrl_msg m = { .type = type, .stream = stream,
			      .reason = reason };

	m.present = CTRL_BIT(CTRL_A_STREAM);
	if (type == CTRL_OPEN_REFUSED || type == CTRL_CLOSE)
		m.present |= CTRL_BIT(CTRL_A_REASON);
	if (text && text[0]) {
		snprintf(m.text, sizeof(m.text), "%s", text);
		/* the codec takes printable text only: a principal or an
		 * error with a control character must not cost the message
		 */
		for (char *p = m.text; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		m.present |= CTRL_BIT(CTRL_A_TEXT);
	}
	carrier_send_ctrl(c, &m);
}

/* ---- streams ---- */

static struct cstream *cs_find(struct carrier *c, uint16_t id)
{
	struct cstream *cs;

	for (cs = c->streams; cs; cs = cs->next)
		if (cs->id == id)
			return cs;
	return NULL;
}

static unsigned int cs_count(const struct carrier *c)
{
	unsigned int n = 0;

	for (const struct cstream *cs = c->streams; cs; cs = cs->next)
		n++;
	return n;
}

/* Remove a stream from the carrier and from the data path. */
static void cs_remove(struct carrier *c, struct cstream *cs)
{
	struct cstream **pp;
	char err[DAEMON_TEXT_MAX];

	for (pp = &c->streams; *pp; pp = &(*pp)->next) {
		if (*pp == cs) {
			*pp = cs->next;
			break;
		}
	}
	if (cs->in_kernel && c->fd >= 0 &&
	    kpath_stream_del(&c->d->kp, c->kid, cs->id, err, sizeof(err)))
		log_warn("%s: stream %u: %s", carrier_name(c), cs->id, err);
	if (cs->up)
		upath_stream_free(cs->up);
	if (cs->tp)
		tpath_stream_free(cs->tp);
	resolve_cancel(cs->resolving);
	free(cs->accept_tok);
	csec_free(c, cs);
	if (cs->map && cs->map->stream == cs->id)
		cs->map->stream = 0;
	if (cs->map)
		map_hold(cs->map);
	free(cs);
}

static struct cstream *cs_add(struct carrier *c, uint16_t id, int proto,
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
static int cs_install(struct carrier *c, struct cstream *cs, bool listen,
		      const struct sockaddr_storage *ss, socklen_t len,
		      char *err, size_t errlen)
{
	struct kpath_key kk, *key = NULL;

	if (cs->sec) {
		int r = csec_install_first(c, cs, &kk, err, errlen);

		if (r < 0)
			return -1;
		if (r > 0)
			key = &kk;
	}
	if (cs->proto == IPPROTO_TCP) {
		struct tpath_stream_cfg tcfg = {
			.id = cs->id, .addr = *ss, .addrlen = len,
			.kind = listen ? TPATH_LISTEN : TPATH_CONNECT,
			.budget = &c->flows,
		};

		if (c->kernel) {
			if (kpath_stream_new(&c->d->kp, c->kid, cs->id,
					     FUNNEL_STREAM_USER, false, NULL,
					     NULL, err, errlen))
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
		};

		if (c->kernel) {
			int ret = kpath_stream_new(&c->d->kp, c->kid, cs->id,
						   kind, cs->unordered, ss,
						   key, err, errlen);

			csec_forget_keys(cs);
			if (ret)
				return -1;
			cs->in_kernel = true;
			return 0;
		}
		cs->up = upath_stream_new(c->d->loop, &cfg, car_upath_send, cs,
					  err, errlen);
		return cs->up ? 0 : -1;
	}
}

static void car_map_down(struct carrier *c, struct map *m);

/* Client side: OPEN for a map's stream, then its context's first token. */
static void car_send_open(struct carrier *c, struct cstream *cs)
{
	struct ctrl_msg msg = { .type = CTRL_OPEN };
	struct map *m = cs->map;

	msg.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_SERVICE) |
		      CTRL_BIT(CTRL_A_PROTO) | CTRL_BIT(CTRL_A_ORDERED);
	msg.stream = cs->id;
	snprintf(msg.service, sizeof(msg.service), "%s", m->s.service);
	msg.proto = m->s.proto == IPPROTO_TCP ? CTRL_PROTO_TCP : CTRL_PROTO_UDP;
	msg.ordered = !cs->unordered;
	log_info("%s: opening stream %u for map %s %s -> service %s",
		 carrier_name(c), cs->id, stmt_proto_name(m->s.proto), m->addr,
		 m->s.service);
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
	if (err) {
		log_warn("%s: map %s: %s", carrier_name(c), cs->map->addr, err);
		car_map_closed(c, cs->map, cs, err);
		return;
	}
	car_send_open(c, cs);
}

/*
 * Client side: open the stream of a map (the carrier is up).  With
 * GSS-API, OPEN goes out once the first step of the stream's context is
 * done (carrier_stream_prepared()).
 */
static void car_open_map(struct carrier *c, struct map *m)
{
	struct cstream *cs;
	uint16_t id = 0;

	for (unsigned int i = 0; i < FUNNEL_MAX_STREAM; i++) {
		uint16_t cand = c->next_stream ? c->next_stream : 1;

		c->next_stream = cand == FUNNEL_MAX_STREAM ? 1 : cand + 1;
		if (!cs_find(c, cand)) {
			id = cand;
			break;
		}
	}
	if (!id || cs_count(c) >= FUNNEL_STREAMS_MAX) {
		car_map_closed(c, m, NULL, "too many streams on the carrier");
		return;
	}
	cs = cs_add(c, id, m->s.proto, m->s.service, m->addr);
	if (!cs) {
		car_map_closed(c, m, NULL, "out of memory");
		return;
	}
	cs->map = m;
	cs->state = CS_OPENING;
	m->last_open = loop_now_ms();
	m->stream = id;
	m->state = MAP_OPENING;
	m->reason[0] = '\0';
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
 * Offer refused and closed maps again, each on its own backoff (daemon.h,
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

static void car_maps_fire(struct loop *l, void *arg)
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
static void car_map_down(struct carrier *c, struct map *m)
{
	uint64_t delay;

	if (c->state != CAR_UP)
		return;
	if (!m->retry_ms)
		m->retry_ms = MAP_RETRY_MIN_MS;
	delay = jittered(m->retry_ms);
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
			if (cs->map || strcmp(cs->service, name))
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

/* ---- teardown, backoff ---- */

/*
 * abort: reset the connection instead of closing it in order.  A failed
 * carrier's peer is dead or misbehaving; an orderly close would keep the
 * socket (and with the ULP attached, funnel.ko) busy retransmitting a FIN
 * nobody acknowledges.
 */
static void car_close_fd(struct carrier *c, bool abort)
{
	while (c->streams)
		cs_remove(c, c->streams);
	if (c->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		if (abort)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		loop_del(c->d->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	c->kernel = false;
	c->kid = 0;
	free(c->obuf);
	c->obuf = NULL;
	c->olen = c->ocap = c->ooff = 0;
	free(c->rbuf);
	c->rbuf = NULL;
	free(c->sbuf);
	c->sbuf = NULL;
	resolve_cancel(c->resolving);
	c->resolving = NULL;
	csec_carrier_free(c);
	c->peer_principal[0] = '\0';
	c->pre_have = 0;
	c->pollout = false;
	c->ping_outstanding = false;
	c->pings_missed = 0;
	c->up_since = 0;
	loop_timer_cancel(c->d->loop, &c->t_timeout);
	loop_timer_cancel(c->d->loop, &c->t_ping);
	loop_timer_cancel(c->d->loop, &c->t_maps);
	loop_timer_cancel(c->d->loop, &c->t_fail);
	c->fail_why[0] = '\0';
	if (c->peer) {
		for (struct map *m = c->d->maps; m; m = m->next) {
			if (strcmp(m->s.peer, c->peer->s.name))
				continue;
			m->stream = 0;
			if (m->state == MAP_OPENING || m->state == MAP_OPEN) {
				m->state = MAP_WAITING;
				snprintf(m->reason, sizeof(m->reason),
					 "carrier down");
			}
		}
	}
}

static void car_unlink(struct carrier *c)
{
	struct carrier **pp;

	for (pp = &c->d->carriers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
}

/* Incoming carriers are freed from a timer, never under their own I/O. */
static void car_reap(struct loop *l, void *arg)
{
	struct carrier *c = arg;

	(void)l;
	car_unlink(c);
	free(c);
}

static void car_start(struct carrier *c);
static void car_connect_failed(struct carrier *c, const char *why);

static void car_backoff_fire(struct loop *l, void *arg)
{
	(void)l;
	car_start(arg);
}

void carrier_fail(struct carrier *c, const char *fmt, ...)
{
	va_list ap;

	if (c->fd < 0 && c->state != CAR_CONNECTING)
		return;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	log_warn("%s: carrier %s: %s", carrier_name(c),
		 c->state == CAR_UP ? "down" : "failed", c->last_error);
	if (!c->peer && c->state != CAR_UP)
		c->d->handshakes--;
	car_close_fd(c, true);
	if (!c->peer) {
		c->state = CAR_IDLE;
		loop_timer_init(&c->t_backoff, car_reap, c);
		loop_timer_arm(c->d->loop, &c->t_backoff, 0);
		return;
	}
	if (c->d->stopping) {
		c->state = CAR_IDLE;
		return;
	}
	{
		uint64_t delay = jittered(c->backoff_ms);

		c->state = CAR_BACKOFF;
		c->next_try = loop_now_ms() + delay;
		loop_timer_arm(c->d->loop, &c->t_backoff, delay);
		log_info("%s: reconnecting in %llu ms", carrier_name(c),
			 (unsigned long long)delay);
		c->backoff_ms = c->backoff_ms * 2 > CAR_BACKOFF_MAX_MS ?
				CAR_BACKOFF_MAX_MS : c->backoff_ms * 2;
	}
}

static void car_timeout(struct loop *l, void *arg)
{
	struct carrier *c = arg;

	(void)l;
	if (c->state == CAR_CONNECTING && c->fd >= 0) {
		car_connect_failed(c, "timed out");
		return;
	}
	carrier_fail(c, "timed out %s",
		 c->state == CAR_CONNECTING ? "connecting" :
		 c->state == CAR_PREAMBLE ? "waiting for the preamble" :
		 c->state == CAR_AUTH ? "in the GSS-API exchange" :
		 "waiting for the peer's HELLO");
}

static void car_ping(struct loop *l, void *arg)
{
	struct carrier *c = arg;
	struct ctrl_msg m = { .type = CTRL_PING,
			      .present = CTRL_BIT(CTRL_A_NONCE) };

	if (c->ping_outstanding &&
	    ++c->pings_missed >= CAR_PINGS_MISSED_MAX) {
		carrier_fail(c, "dead peer: %u pings unanswered",
			 c->pings_missed);
		return;
	}
	memmove(&c->ping_nonce[1], &c->ping_nonce[0],
		sizeof(c->ping_nonce) - sizeof(c->ping_nonce[0]));
	c->ping_nonce[0] = random_u64();
	c->ping_outstanding = true;
	m.nonce = c->ping_nonce[0];
	carrier_send_ctrl(c, &m);
	if (c->fd < 0)
		return;
	loop_timer_arm(l, &c->t_ping, c->d->keepalive_ms);
}

void carrier_free(struct carrier *c, int reason)
{
	if (c->state == CAR_UP && reason) {
		for (struct cstream *cs = c->streams; cs; cs = cs->next)
			car_send_stream_msg(c, CTRL_CLOSE, cs->id,
					    (uint16_t)reason, NULL);
		/* one last try to hand queued frames to TCP, no waiting */
		if (c->olen && !c->fail_why[0])
			car_flush(c);
	}
	if (!c->peer && c->state != CAR_UP && c->fd >= 0)
		c->d->handshakes--;
	car_close_fd(c, false);
	loop_timer_cancel(c->d->loop, &c->t_backoff);
	car_unlink(c);
	free(c);
}

/* ---- set-up ---- */

static struct carrier *car_alloc(struct daemon *d)
{
	struct carrier *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->d = d;
	c->fd = -1;
	c->ops = &carrier_tcp_ops;	/* auto and tcp; SCTP comes next */
	c->backoff_ms = CAR_BACKOFF_MIN_MS;
	c->flows.max = CAR_USER_FLOWS_MAX;
	c->flows.parent = &d->flows;
	loop_timer_init(&c->t_timeout, car_timeout, c);
	loop_timer_init(&c->t_ping, car_ping, c);
	loop_timer_init(&c->t_backoff, car_backoff_fire, c);
	loop_timer_init(&c->t_fail, car_fail_fire, c);
	loop_timer_init(&c->t_maps, car_maps_fire, c);
	c->next = d->carriers;
	d->carriers = c;
	return c;
}

struct carrier *carrier_new_out(struct daemon *d, struct peer *p)
{
	struct carrier *c = car_alloc(d);

	if (c)
		c->peer = p;
	return c;
}

void carrier_hello(struct carrier *c)
{
	struct ctrl_msg m = { .type = CTRL_HELLO };

	m.present = CTRL_BIT(CTRL_A_FEATURES) | CTRL_BIT(CTRL_A_NODE);
	m.features = c->d->plaintext ? CTRL_FEAT_PLAINTEXT : CTRL_FEAT_GSS;
	if (c->kernel)
		m.features |= CTRL_FEAT_KERNEL;
	snprintf(m.node, sizeof(m.node), "%s", c->d->node);
	c->state = CAR_HELLO;
	carrier_send_ctrl(c, &m);
}

static void car_key_expire(uint32_t carrier, uint16_t stream,
			   uint32_t key_id, void *arg)
{
	csec_key_expire(arg, carrier, stream, key_id);
}

static void car_events(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	(void)fd;
	(void)events;
	kpath_events_read(&d->kp, car_key_expire, d);
}

/* funnel.ko's key-expire-ntf: the soft limit of a key starts a rekey. */
static void car_events_open(struct daemon *d)
{
	char err[DAEMON_TEXT_MAX];
	int fd = kpath_events_open(&d->kp, err, sizeof(err));

	if (fd < 0) {
		log_warn("%s: keys are renewed on their lifetime only", err);
		return;
	}
	if (loop_add(d->loop, fd, EPOLLIN, car_events, d)) {
		log_warn("event loop: out of memory");
		return;
	}
	d->ev_fd = fd;
}

/*
 * The TCP connection is established and the preamble sent or checked:
 * pick the data path, hand the socket to funnel.ko if it is the kernel,
 * and say hello.
 */
static void car_established(struct carrier *c)
{
	struct daemon *d = c->d;
	char err[DAEMON_TEXT_MAX];
	socklen_t len;
	int ret;

	len = sizeof(c->local);
	getsockname(c->fd, (struct sockaddr *)&c->local, &len);
	addr_format(&c->local, c->local_text, sizeof(c->local_text));
	c->ops->setup(c);

	c->kernel = false;
	if (d->dp != DP_USER) {
		if (kpath_open(&d->kp, err, sizeof(err))) {
			if (d->dp == DP_KERNEL) {
				carrier_fail(c, "--datapath kernel: %s", err);
				return;
			}
		} else {
			c->kernel = true;
		}
	}
	if (c->kernel) {
		ret = c->ops->kernel_attach(c);
		if (ret) {
			if (d->dp == DP_KERNEL) {
				carrier_fail(c, "funnel.ko does not take this %s carrier: %s",
					 c->ops->name, strerror(-ret));
				return;
			}
			/* the socket is unchanged still: run it here */
			log_warn("%s: funnel.ko does not take this %s carrier: %s: userspace data path",
				 carrier_name(c), c->ops->name, strerror(-ret));
			c->kernel = false;
		}
	}
	if (c->kernel) {
		if (kpath_carrier_new(&d->kp, c->fd, &c->kid, err,
				      sizeof(err))) {
			carrier_fail(c, "%s", err);
			return;
		}
	} else {
		c->rbuf = malloc(FUNNEL_DEFRAMER_BUFSZ);
		if (!c->rbuf) {
			carrier_fail(c, "out of memory");
			return;
		}
		funnel_deframer_init(&c->df, c->rbuf, FUNNEL_DEFRAMER_BUFSZ);
	}
	memset(&c->st, 0, sizeof(c->st));
	if (!d->plaintext) {
		c->sbuf = malloc(FUNNEL_MAX_FRAME + FUNNEL_SEAL_OVERHEAD);
		if (!c->sbuf) {
			carrier_fail(c, "out of memory");
			return;
		}
		if (c->kernel && d->ev_fd < 0)
			car_events_open(d);
	}
	c->state = CAR_HELLO;
	loop_timer_arm(d->loop, &c->t_timeout, CAR_TIMEOUT_MS);
	c->pollout = false;
	loop_mod(d->loop, c->fd, EPOLLIN);
	log_debug("%s: connected %s -> %s, %s data path", carrier_name(c),
		  c->local_text, c->remote_text, c->kernel ? "kernel" : "user");
	if (d->plaintext)
		carrier_hello(c);
	else
		csec_carrier_start(c);
}

/*
 * An outgoing carrier is made in steps, none of which blocks the loop:
 * the peer's HOST is resolved (a name: in a worker), the first step of
 * the carrier's GSS-API context runs (in a worker: it may wait for the
 * KDC, and the peer's handshake timer has not started yet), then each
 * address is tried in turn until one connects.
 */
static void car_connect_next(struct carrier *c);

void carrier_prepared(struct carrier *c, const char *err)
{
	if (err) {
		carrier_fail(c, "GSS-API: %s", err);
		return;
	}
	car_connect_next(c);
}

static void car_prepare(struct carrier *c)
{
	char err[DAEMON_TEXT_MAX];

	if (c->d->plaintext) {
		car_connect_next(c);
		return;
	}
	/* carrier_prepared() follows */
	if (csec_carrier_prepare(c, err, sizeof(err)))
		carrier_fail(c, "%s", err);
}

static void car_resolved(void *arg, const struct resolve_addrs *r,
			 const char *err)
{
	struct carrier *c = arg;

	c->resolving = NULL;
	if (!r->n) {
		carrier_fail(c, "%s", err);
		return;
	}
	c->addrs = *r;
	c->addr_next = 0;
	if (r->n > 1)
		log_debug("%s: %s has %u addresses", carrier_name(c),
			  c->peer->s.addr.host, r->n);
	car_prepare(c);
}

static void car_start(struct carrier *c)
{
	struct daemon *d = c->d;
	struct stmt_addr a = c->peer->s.addr;
	char err[DAEMON_TEXT_MAX];

	if (c->fd >= 0 || c->state == CAR_CONNECTING)
		return;
	loop_timer_cancel(d->loop, &c->t_backoff);
	c->state = CAR_CONNECTING;
	c->addrs.n = 0;
	c->addr_next = 0;
	if (!a.port)
		a.port = FUNNEL_DEFAULT_PORT;
	if (!a.is_name) {
		if (addr_resolve(&a, c->ops->socktype, &c->addrs.ss[0],
				 &c->addrs.len[0], err, sizeof(err))) {
			carrier_fail(c, "%s", err);
			return;
		}
		c->addrs.n = 1;
		car_prepare(c);
		return;
	}
	snprintf(c->remote_text, sizeof(c->remote_text), "%.56s:%u", a.host,
		 a.port);
	c->resolving = resolve_start(daemon_workers_dns(d), &a,
				     c->ops->socktype, car_resolved, c, err,
				     sizeof(err));
	if (!c->resolving)
		carrier_fail(c, "%s", err);
}

void carrier_start(struct carrier *c)
{
	/* from the loop: also after funneld forked to detach */
	loop_timer_arm(c->d->loop, &c->t_backoff, 0);
}

/* The connection attempt to this address failed: the next, or give up. */
static void car_connect_failed(struct carrier *c, const char *why)
{
	if (c->addr_next >= c->addrs.n) {
		carrier_fail(c, "connect %s: %s%s", c->remote_text, why,
			     c->addrs.n > 1 ? " (and every other address of the peer)" : "");
		return;
	}
	log_info("%s: connect %s: %s: trying the next address",
		 carrier_name(c), c->remote_text, why);
	loop_timer_cancel(c->d->loop, &c->t_timeout);
	loop_del(c->d->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	car_connect_next(c);
}

static void car_connect_next(struct carrier *c)
{
	struct daemon *d = c->d;
	unsigned int i = c->addr_next++;
	int fd;

	c->remote = c->addrs.ss[i];
	addr_format(&c->remote, c->remote_text, sizeof(c->remote_text));
	fd = socket(c->remote.ss_family,
		    c->ops->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    c->ops->protocol);
	if (fd < 0) {
		carrier_fail(c, "socket: %s", strerror(errno));
		return;
	}
	c->fd = fd;
	if (loop_add(d->loop, fd, EPOLLOUT, car_io, c)) {
		carrier_fail(c, "event loop: out of memory");
		return;
	}
	/* one address that does not answer must leave time for the others */
	loop_timer_arm(d->loop, &c->t_timeout, c->addr_next < c->addrs.n ?
		       CAR_CONNECT_NEXT_MS : CAR_TIMEOUT_MS);
	log_debug("%s: connecting to %s", carrier_name(c), c->remote_text);
	if (connect(fd, (struct sockaddr *)&c->remote, c->addrs.len[i]) &&
	    errno != EINPROGRESS)
		car_connect_failed(c, strerror(errno));
}

static void car_connected(struct carrier *c)
{
	char err[DAEMON_TEXT_MAX];
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
		car_connect_failed(c, strerror(soerr ? soerr : errno));
		return;
	}
	if (c->ops->connected(c, err, sizeof(err))) {
		carrier_fail(c, "%s", err);
		return;
	}
	car_established(c);
}

/* Out of file descriptors: stop accepting for a while, do not spin. */
static void accept_resume(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	for (struct listener *ln = d->listeners; ln; ln = ln->next)
		loop_mod(l, ln->fd, EPOLLIN);
}

void carrier_accept_init(struct daemon *d)
{
	loop_timer_init(&d->accept_pause, accept_resume, d);
}

/*
 * Every listener stops until the pause ends.  Another listener of the
 * same epoll round may fail too: the pause is armed once.
 */
static void listeners_pause(struct daemon *d)
{
	if (d->accept_pause.armed)
		return;
	log_warn("accept: %s: not accepting carriers for %u ms",
		 strerror(errno), CAR_ACCEPT_PAUSE_MS);
	for (struct listener *ln = d->listeners; ln; ln = ln->next)
		loop_mod(d->loop, ln->fd, 0);
	loop_timer_arm(d->loop, &d->accept_pause, CAR_ACCEPT_PAUSE_MS);
}

/* The same host: family and address, the port aside. */
static bool same_host(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
		const struct in6_addr *y = &((const struct sockaddr_in6 *)b)->sin6_addr;

		/* an IPv4 client of a dual-stack listener is its IPv4
		 * address; an IPv6 host has a /64 to pick addresses from
		 */
		if (IN6_IS_ADDR_V4MAPPED(x) || IN6_IS_ADDR_V4MAPPED(y))
			return !memcmp(x, y, sizeof(*x));
		return !memcmp(x, y, 8);
	}
	return false;
}

/*
 * Incoming carriers up whose peer authenticated as principal, other than
 * skip, and how many streams they have (*streams, may be NULL).  One
 * principal (one peer's credentials, stolen or not) cannot take every
 * carrier and stream this daemon would serve.
 */
static unsigned int principal_carriers(const struct daemon *d,
				       const char *principal,
				       const struct carrier *skip,
				       unsigned int *streams)
{
	unsigned int n = 0;

	if (streams)
		*streams = 0;
	for (const struct carrier *c = d->carriers; c; c = c->next) {
		if (c == skip || c->peer || c->state != CAR_UP ||
		    strcmp(c->peer_principal, principal))
			continue;
		n++;
		if (streams)
			*streams += cs_count(c);
	}
	return n;
}

/* Incoming carriers from the host of ss (its IPv6 /64) still in their
 * handshake.
 */
static unsigned int handshakes_from(const struct daemon *d,
				    const struct sockaddr_storage *ss)
{
	unsigned int n = 0;

	for (const struct carrier *c = d->carriers; c; c = c->next)
		if (!c->peer && c->state != CAR_UP && c->fd >= 0 &&
		    same_host(&c->remote, ss))
			n++;
	return n;
}

void carrier_accept(struct daemon *d, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct carrier *c;
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			listeners_pause(d);
		else if (errno != EAGAIN && errno != EINTR)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	addr_format(&ss, d->scratch, sizeof(d->scratch));
	if (d->handshakes >= CAR_HANDSHAKES_MAX) {
		log_warn("incoming carrier from %s refused: %u carriers in their handshake",
			 d->scratch, d->handshakes);
		d->refused_handshakes++;
		close(fd);
		return;
	}
	/* one host cannot take every handshake slot from the others */
	if (handshakes_from(d, &ss) >= CAR_HANDSHAKES_PER_ADDR) {
		log_warn("incoming carrier from %s refused: %u carriers from that address in their handshake",
			 d->scratch, CAR_HANDSHAKES_PER_ADDR);
		d->refused_address++;
		close(fd);
		return;
	}
	c = car_alloc(d);
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->remote = ss;
	snprintf(c->remote_text, sizeof(c->remote_text), "%s", d->scratch);
	c->state = CAR_PREAMBLE;
	d->handshakes++;
	if (loop_add(d->loop, fd, EPOLLIN, car_io, c)) {
		carrier_fail(c, "event loop: out of memory");
		return;
	}
	loop_timer_arm(d->loop, &c->t_timeout, CAR_TIMEOUT_MS);
	log_debug("incoming carrier from %s", c->remote_text);
}

void carrier_pause_cancel(struct daemon *d)
{
	loop_timer_cancel(d->loop, &d->accept_pause);
}

static void car_accept_read(struct carrier *c)
{
	char err[DAEMON_TEXT_MAX];
	int ret = c->ops->accept_read(c, err, sizeof(err));

	if (ret < 0)
		carrier_fail(c, "%s", err);
	else if (ret > 0)
		car_established(c);
}

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
	    principal_carriers(d, c->peer_principal, c, NULL) >=
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
	c->backoff_ms = CAR_BACKOFF_MIN_MS;
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
		if (!strcmp(mp->s.peer, c->peer->s.name))
			car_open_map(c, mp);
}

static void car_refuse(struct carrier *c, uint16_t stream, uint16_t reason,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void car_refuse(struct carrier *c, uint16_t stream, uint16_t reason,
		       const char *fmt, ...)
{
	char text[CTRL_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warn("%s: stream %u refused (%s): %s", carrier_name(c), stream,
		 ctrl_reason_name(reason), text);
	car_send_stream_msg(c, CTRL_OPEN_REFUSED, stream, reason, text);
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
	struct service *svc = daemon_service(c->d, m->service);
	char err[DAEMON_TEXT_MAX];
	struct cstream *cs;
	int socktype;

	if (c->peer) {
		car_refuse(c, m->stream, CTRL_R_INTERNAL,
			   "streams are opened by the side that connected the carrier");
		return;
	}
	if (!svc) {
		car_refuse(c, m->stream, CTRL_R_UNKNOWN_SERVICE,
			   "no service '%s'", m->service);
		return;
	}
	if ((m->proto == CTRL_PROTO_UDP) != (svc->s.proto == IPPROTO_UDP)) {
		svc->refusals++;
		car_refuse(c, m->stream, CTRL_R_PROTO_MISMATCH,
			   "service '%s' is %s", m->service,
			   stmt_proto_name(svc->s.proto));
		return;
	}
	if (cs_find(c, m->stream)) {
		svc->refusals++;
		car_refuse(c, m->stream, CTRL_R_STREAM_IN_USE,
			   "stream %u is open", m->stream);
		return;
	}
	if (cs_count(c) >= FUNNEL_STREAMS_MAX) {
		svc->refusals++;
		car_refuse(c, m->stream, CTRL_R_LIMIT, "%u streams open",
			   cs_count(c));
		return;
	}
	if (!c->d->plaintext) {
		unsigned int n;

		principal_carriers(c->d, c->peer_principal, NULL, &n);
		if (n >= CAR_PRINCIPAL_STREAMS) {
			svc->refusals++;
			c->d->refused_streams++;
			car_refuse(c, m->stream, CTRL_R_LIMIT,
				   "%s has %u streams open (at most %u per principal)",
				   c->peer_principal, n,
				   CAR_PRINCIPAL_STREAMS);
			return;
		}
	}
	socktype = svc->s.proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	cs = cs_add(c, m->stream, svc->s.proto, m->service, "");
	if (!cs) {
		svc->refusals++;
		car_refuse(c, m->stream, CTRL_R_INTERNAL, "out of memory");
		return;
	}
	cs->state = CS_OPENING;
	/* the target: a name is resolved in a worker, while the stream's
	 * context runs
	 */
	if (svc->s.addr.is_name) {
		snprintf(cs->addr, sizeof(cs->addr), "%.56s:%u",
			 svc->s.addr.host, svc->s.addr.port);
		cs->resolving = resolve_start(daemon_workers_dns(c->d),
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
		if (csec_server_start(c, cs, err, sizeof(err)))
			goto refuse;
		return;
	}
	carrier_stream_accept(c, cs, NULL, 0);
	return;
refuse:
	cs_remove(c, cs);
	svc->refusals++;
	car_refuse(c, m->stream, CTRL_R_INTERNAL, "%s", err);
}

/*
 * Server: the stream may open (its context, if any, is established and
 * authorized) and its target is known: install it with its keys, send
 * the context's last token, then OPEN_OK.
 */
static void cs_accept(struct carrier *c, struct cstream *cs,
		      const void *tok, size_t toklen)
{
	struct service *svc = daemon_service(c->d, cs->service);
	char err[DAEMON_TEXT_MAX];

	if (!svc) {
		snprintf(err, sizeof(err), "service %s is gone", cs->service);
		carrier_stream_fail(c, cs, CTRL_R_INTERNAL, err);
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
	log_info("%s: stream %u open for service %s -> %s", carrier_name(c),
		 cs->id, svc->s.name, cs->addr);
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
	struct map *mp = cs->map;
	uint16_t id = cs->id;

	if (!c->peer && cs->state != CS_OPEN) {
		struct service *svc = daemon_service(c->d, cs->service);

		if (svc)
			svc->refusals++;
		cs_remove(c, cs);
		car_refuse(c, id, reason, "%s", text);
		return;
	}
	log_warn("%s: stream %u closed (%s): %s", carrier_name(c), id,
		 ctrl_reason_name(reason), text);
	car_send_stream_msg(c, CTRL_CLOSE, id, reason, text);
	cs_remove(c, cs);
	if (mp) {
		mp->state = MAP_CLOSED;
		snprintf(mp->reason, sizeof(mp->reason), "%s", text);
		car_map_down(c, mp);
	}
}

/* Client side: the peer accepted our OPEN. */
static void car_on_open_ok(struct carrier *c, const struct ctrl_msg *m)
{
	struct cstream *cs = cs_find(c, m->stream);
	char err[DAEMON_TEXT_MAX];
	struct map *mp;

	if (!cs || cs->state != CS_OPENING || !cs->map) {
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
	log_info("%s: stream %u open: map %s -> service %s", carrier_name(c),
		 cs->id, mp->addr, mp->s.service);
}

static void car_on_refused(struct carrier *c, const struct ctrl_msg *m,
			   bool closed)
{
	struct cstream *cs = cs_find(c, m->stream);
	char rname[32];
	struct map *mp;

	/* OPEN_REFUSED answers our OPEN; CLOSE may end any stream */
	if (!cs || (!closed && (!cs->map || cs->state != CS_OPENING))) {
		log_debug("%s: %s for stream %u ignored", carrier_name(c),
			  ctrl_type_name(m->type), m->stream);
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

/* ---- receive ---- */

void carrier_frame(struct carrier *c, const uint8_t *buf, size_t len)
{
	struct funnel_frame f;
	enum funnel_verdict v = funnel_frame_parse(buf, len, &f);
	struct cstream *cs;

	if (!c->kernel) {
		FST(&c->st, RX_FRAMES)++;
		FST(&c->st, RX_BYTES) += len;
	}
	if (v == FUNNEL_FRAME_UNKNOWN_TYPE) {
		FST(&c->st, RX_DROP_UNKNOWN_TYPE)++;
		return;
	}
	if (v != FUNNEL_FRAME_OK) {
		FST(&c->st, RX_DROP_MALFORMED)++;
		return;
	}
	if (f.type == FUNNEL_T_CTRL) {
		if (c->state == CAR_AUTH) {
			if (f.stream == FUNNEL_CTRL_STREAM)
				csec_carrier_token(c, f.body, f.body_len);
			else
				carrier_fail(c, "protocol error: a frame on stream %u before HELLO",
					     f.stream);
			return;
		}
		if (f.stream == FUNNEL_CTRL_STREAM) {
			carrier_ctrl(c, f.body, f.body_len);
			return;
		}
		cs = cs_find(c, f.stream);
		if (cs && cs->sec && c->state == CAR_UP)
			csec_stream_token(c, cs, f.body, f.body_len);
		else
			FST(&c->st, RX_DROP_NO_STREAM)++;
		return;
	}
	cs = cs_find(c, f.stream);
	if (cs && csec_user_sealed(cs)) {
		if (f.type == FUNNEL_T_DATA && csec_open(c, cs, buf, len, &f))
			return;
	} else if (f.flags & (FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE)) {
		FST(&c->st, RX_DROP_NO_KEY)++;
		return;
	}
	if (cs && cs->tp) {
		tpath_stream_input(cs->tp, &f);
		return;
	}
	if (!cs || !cs->up) {
		FST(&c->st, RX_DROP_NO_STREAM)++;
		return;
	}
	upath_stream_input(cs->up, &f);
}

static void car_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct carrier *c = arg;

	(void)l;
	(void)fd;
	switch (c->state) {
	case CAR_CONNECTING:
		car_connected(c);
		return;
	case CAR_PREAMBLE:
		car_accept_read(c);
		return;
	default:
		break;
	}
	if ((events & EPOLLOUT) && c->olen) {
		int err = car_flush(c);

		if (err) {
			carrier_fail(c, "send: %s", strerror(-err));
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		c->ops->read(c);
}
