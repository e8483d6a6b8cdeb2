// SPDX-License-Identifier: GPL-2.0
/*
 * A carrier's life: connect (outgoing, every address of the peer in
 * turn) or accept (accept.c), the preamble and the handshake, up,
 * keepalive, failure and reconnect with backoff, teardown; what it
 * sends (a queue of whole frames on the userspace path) and receives.
 * The control protocol is ctrl.c's, the streams stream.c's.
 *
 * A carrier runs either in funnel.ko (the ULP is attached and the kernel
 * moves every DATA frame; funneld sends and receives CTRL frames with
 * send() and recv() on the socket, one frame each) or in funneld (the
 * userspace path: funneld frames and deframes the byte stream itself
 * and hands DATA frames to upath.c and tpath.c).  The control logic is
 * the same.
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
#include <netinet/sctp.h>

#include <linux/funnel.h>

#include "funneld/carrier/priv.h"
#include "funneld/carrier/csec.h"
#include "funneld/carrier/ctlseal.h"
#include "funneld/log.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/upath.h"



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
uint64_t car_jittered(uint32_t step)
{
	return step * 3ULL / 4 + random_u64() % (step / 2 + 1);
}

/* ---- transmit ---- */

/*
 * Let the TCP streams (and TCP relays' streams, relay_tcp.c) send again.
 * They take turns at going first (the first has the queue's room to
 * itself): the one with the lowest id above last time's first, else the
 * lowest.
 */
static void cs_tcp_resume(struct cstream *cs)
{
	if (cs->tp)
		tpath_stream_resume(cs->tp);
	else
		rtcp_resume(cs);	/* a TCP relay's stream */
}

static void car_resume_tcp(struct carrier *c)
{
	struct cstream *cs, *first = NULL, *low = NULL;

	for (cs = c->streams; cs; cs = cs->next) {
		if (!cs->tp && !cs->rtcp)
			continue;
		if (!low || cs->id < low->id)
			low = cs;
		if (cs->id > c->resumed_first && (!first || cs->id < first->id))
			first = cs;
	}
	if (!first)
		first = low;
	if (!first)
		return;
	c->resumed_first = first->id;
	cs_tcp_resume(first);
	for (cs = c->streams; cs; cs = cs->next)
		if ((cs->tp || cs->rtcp) && cs != first)
			cs_tcp_resume(cs);
}

/*
 * The transmit queue holds whole frames, each with its 2-byte length
 * prefix; the transport writes them (tcp.c).
 */
static int car_flush(struct carrier *c)
{
	int err = c->ops->write(c);

	if (err)
		return err;
	if (c->ooff == c->olen) {
		c->obase += c->olen;
		c->ooff = c->olen = 0;
	}
	txruns_written(&c->tcpq, c->obase + c->ooff);
	_Static_assert(CAR_TXQ_TCP_MAX - CAR_TXQ_TCP_RESUME >=
		       2 * (FUNNEL_MAX_FRAME + FUNNEL_LEN_PREFIX),
		       "two of the largest frames fit after a resume");
	/* resumed TCP streams must find room in both limits, or each
	 * partial write would wake them all only to refuse them again
	 */
	if (c->tx_blocked && c->tcpq.bytes <= CAR_TXQ_TCP_RESUME &&
	    c->olen - c->ooff + 2 * (FUNNEL_MAX_FRAME + FUNNEL_LEN_PREFIX) <=
	    CAR_TXQ_MAX) {
		/* TCP streams stopped reading when the queue was full */
		c->tx_blocked = false;
		car_resume_tcp(c);
	}
	if (c->pollout != !!c->olen) {
		c->pollout = !!c->olen;
		loop_mod(c->d->loop, c->fd, EPOLLIN | (c->olen ? EPOLLOUT : 0));
	}
	return 0;
}

/*
 * EPOLLOUT came and nothing could be written: SCTP's poll() says
 * writable while there is send space (sctp_writeable()), but sendmsg()
 * also says EAGAIN when the protocol is under memory pressure
 * (sk_wmem_schedule() fails in sctp_sendmsg_to_asoc()); then nothing of
 * this association may be in flight to free space and wake us, and a
 * level-triggered EPOLLOUT would come back at once, forever (TCP's
 * poll() says writable only when a send takes bytes).  Stop
 * watching EPOLLOUT and try again after CAR_TX_WAIT_MS (or when the next
 * frame is queued: car_queue() writes when EPOLLOUT is not watched).
 */
static void car_tx_wait(struct carrier *c)
{
	c->pollout = false;
	loop_mod(c->d->loop, c->fd, EPOLLIN);
	if (!c->t_txwait.armed)
		loop_timer_arm(c->d->loop, &c->t_txwait, CAR_TX_WAIT_MS);
}

static void car_txwait_fire(struct loop *l, void *arg)
{
	struct carrier *c = arg;
	int err;

	(void)l;
	if (c->fd < 0 || c->pollout || c->ooff == c->olen)
		return;
	err = car_flush(c);
	if (err)
		carrier_fail(c, "send: %s", strerror(-err));
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

/* Room in the buffer for need more bytes: 0, or -1 out of memory. */
static int car_grow(struct carrier *c, size_t need)
{
	if (c->ooff && c->olen + need > c->ocap) {
		c->obase += c->ooff;
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
	return 0;
}

/*
 * Make room in the transmit queue for a frame of len bytes of class cls:
 * 0, or -1 when it cannot take it now (tx_blocked for a TCP stream) or at
 * all.  A TCP stream's frame (bulk) goes in only while the TCP streams'
 * own bytes in the queue (txruns.c) stay within CAR_TXQ_TCP_MAX and the
 * whole queue within CAR_TXQ_MAX (else it waits, tx_blocked: it never
 * fails the carrier), a UDP datagram while the queue holds less than
 * CAR_TXQ_DATA_MAX, a control message up to CAR_TXQ_MAX (past it the
 * peer is not reading: the carrier fails).  So a datagram or a control
 * message waits behind at most CAR_TXQ_TCP_MAX of bulk.  A frame is
 * sealed only after this, so that a counter once taken is always sent
 * (wire-format.md 9.1): car_queue(..., true) then takes it whatever was
 * queued in between (a REKEY that sealing itself sent), limits passed.
 */
bool car_data_room(const struct carrier *c)
{
	return c->olen - c->ooff + 1024 <= CAR_TXQ_DATA_MAX;
}

static int car_reserve(struct carrier *c, size_t len, enum car_class cls)
{
	size_t need = len + FUNNEL_LEN_PREFIX;
	size_t queued = c->olen - c->ooff;

	if (c->fd < 0 || c->fail_why[0] ||
	    (c->state != CAR_AUTH && c->state != CAR_HELLO &&
	     c->state != CAR_UP))
		return -1;
	if (cls == CAR_CLASS_TCP) {
		/* the TCP streams' own bytes: datagrams above the link's
		 * rate do not hold them back (they have their own cap)
		 */
		txruns_written(&c->tcpq, c->obase + c->ooff);
		if (c->tcpq.bytes + need > CAR_TXQ_TCP_MAX ||
		    queued + need > CAR_TXQ_MAX) {
			c->tx_blocked = true;
			return -1;
		}
	}
	if (cls == CAR_CLASS_UDP && queued + need > CAR_TXQ_DATA_MAX)
		return -1;
	if (queued + need > CAR_TXQ_MAX) {
		car_fail_later(c, "transmit queue overflow (peer not reading)");
		return -1;
	}
	return car_grow(c, need);
}

/*
 * Queue a frame; reserved: car_reserve() took it already, for its length
 * at most, before it was sealed (nothing but memory can refuse it now).
 */
static int car_queue(struct carrier *c, const uint8_t *frame, size_t len,
		     enum car_class cls, bool reserved)
{
	size_t need = len + FUNNEL_LEN_PREFIX;

	if (reserved ? c->fd < 0 || car_grow(c, need) :
		       car_reserve(c, len, cls))
		return -1;
	funnel_len_prefix_encode(c->obuf + c->olen, len);
	memcpy(c->obuf + c->olen + FUNNEL_LEN_PREFIX, frame, len);
	if (cls == CAR_CLASS_TCP)
		txruns_add(&c->tcpq, c->obase + c->olen, need);
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
int car_upath_send(void *arg, const uint8_t *frame, size_t len)
{
	struct cstream *cs = arg;
	struct carrier *c = cs->car;
	int ret;

	/* room first: a sealed frame is never dropped for want of it */
	if (!(c->ops->send_now && !c->kernel &&
	      (frame[3] & FUNNEL_F_UNORDERED)) &&
	    car_reserve(c, len + csec_overhead(cs), CAR_CLASS_UDP)) {
		FST(&c->st, TX_DROP_QUEUE)++;
		return -ENOBUFS;
	}
	ret = csec_seal(c, cs, frame, len, &frame, &len);
	if (ret)
		return ret;
	if (c->ops->send_now && !c->kernel && (frame[3] & FUNNEL_F_UNORDERED)) {
		if (c->fd < 0 || c->fail_why[0] || c->state != CAR_UP)
			return -ENOBUFS;
		ret = c->ops->send_now(c, frame, len);
		if (!ret) {
			FST(&c->st, TX_FRAMES)++;
			FST(&c->st, TX_BYTES) += len;
			return 0;
		}
		/* the socket is full (a bulk TCP stream on the same
		 * association): the datagram waits in the queue, where
		 * such streams hold CAR_TXQ_TCP_MAX at most, rather than
		 * be lost
		 */
		if (ret == -EAGAIN &&
		    !car_queue(c, frame, len, CAR_CLASS_UDP, false))
			return 0;
		FST(&c->st, TX_DROP_QUEUE)++;
		if (ret != -EAGAIN && ret != -ENOBUFS && ret != -ENOMEM) {
			char why[64];

			snprintf(why, sizeof(why), "send: %s", strerror(-ret));
			car_fail_later(c, why);
		}
		return -ENOBUFS;
	}
	ret = car_queue(c, frame, len, CAR_CLASS_UDP, true);
	if (ret)
		FST(&c->st, TX_DROP_QUEUE)++;
	return ret ? -ENOBUFS : 0;
}

/*
 * The same for a TCP stream: a frame the queue cannot take is kept by
 * the stream, which stops reading until tpath_stream_resume().
 */
int car_tpath_send(void *arg, const uint8_t *frame, size_t len)
{
	struct cstream *cs = arg;
	const uint8_t *out;
	size_t outlen;

	/* sealed only once the queue has room: the stream keeps the
	 * plaintext of a frame refused and retries it, and the counter it
	 * would have taken is the next frame's (no gap, wire-format.md 9.1)
	 */
	if (car_reserve(cs->car, len + csec_overhead(cs), CAR_CLASS_TCP) ||
	    csec_seal(cs->car, cs, frame, len, &out, &outlen))
		return -1;
	return car_queue(cs->car, out, outlen, CAR_CLASS_TCP, true);
}

/* A UDP stream of the userspace path tells a new flow's origin (ORIGIN). */
void car_upath_origin(void *arg, uint32_t flow, const uint8_t *enc,
		      size_t len)
{
	struct cstream *cs = arg;
	struct ctrl_msg m = { .type = CTRL_ORIGIN, .stream = cs->id,
			      .flow = flow };

	if (len > sizeof(m.origin))
		return;
	m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
		    CTRL_BIT(CTRL_A_ORIGIN);
	memcpy(m.origin, enc, len);
	m.origin_len = (uint8_t)len;
	carrier_send_ctrl(cs->car, &m);
}

/* A TCP stream's flow grants the peer more credit (WINDOW, stream 0). */
void car_tpath_grant(void *arg, uint32_t flow, uint32_t bytes)
{
	struct cstream *cs = arg;
	struct ctrl_msg m = { .type = CTRL_WINDOW, .stream = cs->id,
			      .flow = flow, .credit = bytes };

	m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
		    CTRL_BIT(CTRL_A_CREDIT);
	carrier_send_ctrl(cs->car, &m);
}

/*
 * A keyed unordered plugin stream's frame was a replay (tpath.c): the
 * stream ends, every flow reset (plugins.md 5.4); the tpath stream is
 * only marked dead, inside its input.
 */
void car_tpath_integrity(void *arg, const char *why)
{
	struct cstream *cs = arg;
	char text[DAEMON_TEXT_MAX];

	snprintf(text, sizeof(text), "%s: every flow reset", why);
	carrier_stream_fail(cs->car, cs, CTRL_R_INTEGRITY, text);
}

/*
 * An unordered plugin stream could not have its window of flow ids (no
 * memory, no room in the budget; tpath.c): the stream ends, every flow
 * reset, with reason internal, not integrity: nothing came that was
 * forged (review-lows L3).
 */
void car_tpath_internal(void *arg, const char *why)
{
	struct cstream *cs = arg;
	char text[DAEMON_TEXT_MAX];

	snprintf(text, sizeof(text), "%s: every flow reset", why);
	carrier_stream_fail(cs->car, cs, CTRL_R_INTERNAL, text);
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
	ret = car_queue(c, buf, FUNNEL_HDR_LEN + len, CAR_CLASS_CTRL, false);
	free(buf);
	return ret;
}

int carrier_send_ctrl(struct carrier *c, struct ctrl_msg *m)
{
	uint8_t buf[FUNNEL_HDR_LEN + 1024];
	struct funnel_frame f = { .stream = FUNNEL_CTRL_STREAM,
				  .type = FUNNEL_T_CTRL };
	const uint8_t *out;
	const char *why;
	size_t outlen;
	int n;

	n = ctrl_encode(m, buf + FUNNEL_HDR_LEN, sizeof(buf) - FUNNEL_HDR_LEN,
			&why);
	if (n < 0) {
		log_err("%s: cannot encode %s: %s", carrier_name(c),
			ctrl_type_name(m->type), why);
		return -1;
	}
	funnel_hdr_encode(buf, &f);
	log_debug("%s: send %s", carrier_name(c), ctrl_type_name(m->type));
	if (ctlseal_seal(c, buf, FUNNEL_HDR_LEN + (size_t)n, &out, &outlen)) {
		car_fail_later(c, "the control messages' key is used up");
		return -1;
	}
	return car_queue(c, out, outlen, CAR_CLASS_CTRL, false);
}

void car_send_stream_msg(struct carrier *c, uint8_t type, uint16_t stream,
			 uint16_t reason, const char *text)
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
	c->obase = 0;
	txruns_reset(&c->tcpq);
	free(c->rbuf);
	c->rbuf = NULL;
	free(c->sbuf);
	c->sbuf = NULL;
	resolve_cancel(c->resolving);
	c->resolving = NULL;
	csec_carrier_free(c);
	ctlseal_free(c);
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
	loop_timer_cancel(c->d->loop, &c->t_streams);
	loop_timer_cancel(c->d->loop, &c->t_korigin);
	loop_timer_cancel(c->d->loop, &c->t_txwait);
	c->fail_why[0] = '\0';
	sctprx_reset(&c->srx);
	c->streams_asked = 0;
	memset(c->closed, 0, sizeof(c->closed));
	c->closed_next = 0;
	c->sctp_in = c->sctp_out = 0;
	if (c->peer) {
		for (struct map *m = c->d->maps; m; m = m->next) {
			if (strcmp(m->s.peer, c->peer->s.name))
				continue;
			m->stream = 0;
			if (m->state == MAP_OPENING || m->state == MAP_OPEN ||
			    m->state == MAP_WAITING) {
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
	/*
	 * auto: a kind that connects and then fails before the carrier is
	 * up (a middlebox that passes INIT and drops DATA, a peer that does
	 * not take it) goes last next time, so the others are tried
	 */
	if (c->state == CAR_AUTH || c->state == CAR_HELLO)
		car_kind_demote(c, true);
	/*
	 * The backoff starts again from its minimum only after a carrier
	 * that stayed up: one the peer drops right after HELLO (refused for
	 * its principal's limit, say) backs off like a failed connect
	 * instead of a full handshake twice a second.
	 */
	if (c->state == CAR_UP &&
	    loop_now_ms() - c->up_since >= CAR_BACKOFF_STABLE_MS)
		c->backoff_ms = CAR_BACKOFF_MIN_MS;
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
		uint64_t delay = car_jittered(c->backoff_ms);

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
		char why[64];

		/* SCTP over UDP: the port it was sent to, which the
		 * peer may not take (its net.sctp.udp_port, udp-port)
		 */
		if (c->ops == &carrier_sctp_udp_ops)
			snprintf(why, sizeof(why), "no answer in %u s on udp port %u",
				 c->connect_ms / 1000,
				 car_sctp_udp_remote_port(c));
		else
			snprintf(why, sizeof(why), "no answer in %u s",
				 c->connect_ms / 1000);
		/* blocked on the way, most likely: try it last for a while */
		car_kind_demote(c, true);
		car_connect_failed(c, why);
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

struct carrier *car_alloc(struct daemon *d)
{
	struct carrier *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->d = d;
	c->fd = -1;
	c->ops = &carrier_tcp_ops;	/* incoming: the listener's */
	c->backoff_ms = CAR_BACKOFF_MIN_MS;
	c->flows.max = CAR_USER_FLOWS_MAX;
	c->flows.parent = &d->flows;
	c->tcp_resv.max = d->carrier_buffer_max;
	c->tcp_resv.parent = &d->tcp_resv;
	c->tcp_buf.max = d->carrier_buffer_max;
	c->tcp_buf.parent = &d->tcp_buf;
	loop_timer_init(&c->t_timeout, car_timeout, c);
	loop_timer_init(&c->t_ping, car_ping, c);
	loop_timer_init(&c->t_backoff, car_backoff_fire, c);
	loop_timer_init(&c->t_fail, car_fail_fire, c);
	loop_timer_init(&c->t_maps, car_maps_fire, c);
	loop_timer_init(&c->t_streams, car_streams_fire, c);
	loop_timer_init(&c->t_korigin, korigin_scan_fire, c);
	loop_timer_init(&c->t_txwait, car_txwait_fire, c);
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

uint32_t car_features(const struct carrier *c)
{
	uint32_t f = c->d->plaintext ? CTRL_FEAT_PLAINTEXT : CTRL_FEAT_GSS;

	if (c->kernel)
		f |= CTRL_FEAT_KERNEL;
	/* FUNNELD_NO_WINDOW=1: as a funneld before flow control (tests) */
	if (!getenv("FUNNELD_NO_WINDOW"))
		f |= CTRL_FEAT_WINDOW;
	/* FUNNELD_NO_ORIGIN=1: as a funneld before flow origins (tests) */
	if (!getenv("FUNNELD_NO_ORIGIN"))
		f |= CTRL_FEAT_ORIGIN;
	/* FUNNELD_NO_PLUGIN=1: as a funneld before plugin streams (tests) */
	if (!getenv("FUNNELD_NO_PLUGIN"))
		f |= CTRL_FEAT_PLUGIN;
	/* FUNNELD_NO_MARK=1: as a funneld before counter marks (tests) */
	if (!getenv("FUNNELD_NO_MARK"))
		f |= CTRL_FEAT_MARK;
	return f;
}

void carrier_hello(struct carrier *c)
{
	struct ctrl_msg m = { .type = CTRL_HELLO };
	char err[DAEMON_TEXT_MAX];

	/* not for a plaintext peer's HELLO answered only to say why it
	 * is refused (csec.c): that peer is not authenticated
	 */
	if ((c->peer_principal[0] || c->d->plaintext) &&
	    c->ops->authenticated &&
	    c->ops->authenticated(c, err, sizeof(err))) {
		carrier_fail(c, "%s", err);
		return;
	}
	m.present = CTRL_BIT(CTRL_A_FEATURES) | CTRL_BIT(CTRL_A_NODE);
	m.features = car_features(c);
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
void car_established(struct carrier *c)
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
			/* the socket is unchanged still: run it here
			 * (expected for SCTP while funnel.ko has no SCTP)
			 */
			logmsg(c->ops->protocol == IPPROTO_SCTP ? LOG_INFO :
			       LOG_WARNING, "%s: funnel.ko does not take this %s carrier: %s: userspace data path",
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
		int lowat = CAR_NOTSENT_LOWAT;

		/* a datagram behind bulk waits for the kernel's unsent
		 * bytes too: keep them few (fair sharing)
		 */
		if (c->ops->protocol == IPPROTO_TCP)
			setsockopt(c->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
				   &lowat, sizeof(lowat));
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

/* ---- kinds of carrier and addresses (outgoing) ---- */

__attribute__((format(printf, 2, 3)))
static void car_kind_note(struct carrier *c, const char *fmt, ...);

static const struct carrier_ops *car_kind_ops(enum stmt_carrier k)
{
	switch (k) {
	case STMT_CARRIER_SCTP:
		return &carrier_sctp_ops;
	case STMT_CARRIER_SCTP_UDP:
		return &carrier_sctp_udp_ops;
	default:
		return &carrier_tcp_ops;
	}
}

static unsigned int car_kind_index(const struct carrier_ops *o)
{
	return o == &carrier_sctp_ops ? 0 : o == &carrier_sctp_udp_ops ? 1 : 2;
}

void car_kind_demote(struct carrier *c, bool demote)
{
	if (!c->peer || c->peer->s.carrier != STMT_CARRIER_AUTO)
		return;
	c->demoted_until[car_kind_index(c->ops)] = demote ?
		loop_now_ms() + CAR_AUTO_DEMOTE_MS : 0;
}

/*
 * The kinds of carrier to try, in turn: the peer's, or for auto native
 * SCTP, SCTP over UDP, then TCP, those that lately did not answer (or
 * failed before the carrier was up) after the others.  A peer that is
 * down for a while (refused) keeps its order.
 */
static void car_kinds(struct carrier *c)
{
	static const enum stmt_carrier order[] = {
		STMT_CARRIER_SCTP, STMT_CARRIER_SCTP_UDP, STMT_CARRIER_TCP,
	};
	struct daemon *d = c->d;
	uint64_t now = loop_now_ms();

	c->try_i = 0;
	c->try_n = 0;
	c->kind_why[0] = '\0';
	if (c->peer->s.carrier != STMT_CARRIER_AUTO) {
		c->try_ops[c->try_n++] = car_kind_ops(c->peer->s.carrier);
		c->ops = c->try_ops[0];
		return;
	}
	if (!d->sctp_ok)
		car_kind_note(c, "sctp: %s", d->sctp_why);
	else if (!d->sctp_udp_port)
		car_kind_note(c, "sctp-udp: %s", d->sctp_udp_why);
	for (unsigned int last = 0; last < 2; last++) {
		for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
			const struct carrier_ops *o = car_kind_ops(order[i]);
			bool demoted = now < c->demoted_until[i];

			if (demoted != !!last ||
			    (o->protocol == IPPROTO_SCTP && !d->sctp_ok) ||
			    (o == &carrier_sctp_udp_ops && !d->sctp_udp_port))
				continue;
			if (demoted)
				car_kind_note(c, "%s: failed lately, tried last",
					      o->name);
			c->try_ops[c->try_n++] = o;
		}
	}
	c->ops = c->try_ops[0];
}

/* auto: what happened to a kind, "sctp: no answer in 3 s; sctp-udp: ok" */
__attribute__((format(printf, 2, 3)))
static void car_kind_note(struct carrier *c, const char *fmt, ...)
{
	size_t n = strlen(c->kind_why);
	va_list ap;

	if (!c->peer || c->peer->s.carrier != STMT_CARRIER_AUTO ||
	    n + 3 >= sizeof(c->kind_why))
		return;
	if (n) {
		memcpy(c->kind_why + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(c->kind_why + n, sizeof(c->kind_why) - n, fmt, ap);
	va_end(ap);
}

/*
 * The peer's other addresses (peer add NAME HOST1,HOST2): numeric ones
 * join the list (SCTP: one association over all; TCP: tried in turn).
 */
static void car_more_addrs(struct carrier *c)
{
	const struct stmt *ps = &c->peer->s;
	char err[DAEMON_TEXT_MAX];

	for (unsigned int i = 0; i < ps->n_more; i++) {
		struct stmt_addr a = ps->more[i];
		unsigned int n = c->addrs.n;

		if (n == RESOLVE_MAX)
			break;
		if (!a.port)
			a.port = FUNNEL_DEFAULT_PORT;
		if (addr_resolve(&a, SOCK_STREAM, &c->addrs.ss[n],
				 &c->addrs.len[n], err, sizeof(err)))
			continue;
		c->addrs.n++;
	}
}

/* SCTP: one association to every address of the family of address i. */
static int car_connectx(struct carrier *c, unsigned int i)
{
	uint8_t packed[RESOLVE_MAX * sizeof(struct sockaddr_in6)];
	size_t off = 0;
	int n = 0;

	for (unsigned int j = 0; j < c->addrs.n; j++) {
		unsigned int k = (i + j) % c->addrs.n;

		if (c->addrs.ss[k].ss_family != c->remote.ss_family)
			continue;
		memcpy(packed + off, &c->addrs.ss[k], c->addrs.len[k]);
		off += c->addrs.len[k];
		n++;
	}
	if (sctp_connectx(c->fd, (struct sockaddr *)packed, n, NULL) &&
	    errno != EINPROGRESS)
		return -errno;
	return -EINPROGRESS;
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
	car_more_addrs(c);
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
	car_kinds(c);
	if (!a.port)
		a.port = FUNNEL_DEFAULT_PORT;
	if (!a.is_name) {
		if (addr_resolve(&a, c->ops->socktype, &c->addrs.ss[0],
				 &c->addrs.len[0], err, sizeof(err))) {
			carrier_fail(c, "%s", err);
			return;
		}
		c->addrs.n = 1;
		car_more_addrs(c);
		car_prepare(c);
		return;
	}
	snprintf(c->remote_text, sizeof(c->remote_text), "%.56s:%u", a.host,
		 a.port);
	c->resolving = resolve_start(config_workers_dns(d), &a,
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
	if (c->addr_next >= c->addrs.n && c->try_i + 1 < c->try_n) {
		/* auto: the next kind of carrier, from the first address */
		car_kind_note(c, "%s: %s", c->ops->name, why);
		log_info("%s: %s carrier to %s: %s: trying %s", carrier_name(c),
			 c->ops->name, c->remote_text, why,
			 c->try_ops[c->try_i + 1]->name);
		c->ops = c->try_ops[++c->try_i];
		c->addr_next = 0;
		loop_timer_cancel(c->d->loop, &c->t_timeout);
		if (c->fd >= 0) {
			loop_del(c->d->loop, c->fd);
			close(c->fd);
			c->fd = -1;
		}
		car_connect_next(c);
		return;
	}
	if (c->addr_next >= c->addrs.n) {
		car_kind_note(c, "%s: %s", c->ops->name, why);
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
	char err[DAEMON_TEXT_MAX];
	uint32_t timeout;
	bool multi;
	int fd, ret;

	c->remote = c->addrs.ss[i];
	addr_format(&c->remote, c->remote_text, sizeof(c->remote_text));
	if (c->ops->protocol == IPPROTO_SCTP && !d->sctp_ok) {
		c->addr_next = c->addrs.n;
		car_connect_failed(c, d->sctp_why);
		return;
	}
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
	if (c->ops->prepare && c->ops->prepare(c, err, sizeof(err))) {
		c->addr_next = c->addrs.n;
		car_connect_failed(c, err);
		return;
	}
	/* one address that does not answer must leave time for the others;
	 * auto: a kind that does not answer, for the next kinds
	 */
	timeout = CAR_TIMEOUT_MS;
	/* multihoming: the addresses the peer was given, not those of a
	 * name (each of those is tried in turn, as over TCP)
	 */
	multi = c->ops->multihome && c->peer->s.n_more;
	if (multi)
		c->addr_next = c->addrs.n;
	if (c->addr_next < c->addrs.n)
		timeout = CAR_CONNECT_NEXT_MS;
	else if (c->try_i + 1 < c->try_n)
		timeout = CAR_AUTO_TRY_MS;
	c->connect_ms = timeout;
	loop_timer_arm(d->loop, &c->t_timeout, timeout);
	log_debug("%s: connecting to %s (%s)", carrier_name(c), c->remote_text,
		  c->ops->name);
	if (multi)
		ret = car_connectx(c, i);
	else
		ret = connect(fd, (struct sockaddr *)&c->remote,
			      c->addrs.len[i]) ? -errno : 0;
	if (ret && ret != -EINPROGRESS)
		car_connect_failed(c, strerror(-ret));
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
	car_kind_note(c, "%s: ok", c->ops->name);
	car_established(c);
}

/* ---- kernel path: one frame per call, every transport ---- */

#define CAR_KERNEL_RX_BATCH	16	/* reads per wakeup */

static uint8_t kernel_rx_buf[FUNNEL_MAX_FRAME + 1];

/*
 * The errors of recv() on a carrier that funnel.ko tore down for what
 * the peer sent (architecture.md, section 7: EPROTO after a bad-length
 * teardown, EMSGSIZE after an oversized frame): said in the log, which
 * would otherwise read "Protocol error" only.
 */
static const char *car_kernel_rx_why(int err)
{
	if (err == EPROTO)
		return ": the peer sent a frame length below the header's size";
	if (err == EMSGSIZE)
		return ": the peer sent a frame above the carrier's limit";
	return "";
}

void car_read_kernel(struct carrier *c)
{
	for (int i = 0; i < CAR_KERNEL_RX_BATCH && c->fd >= 0; i++) {
		ssize_t n = recv(c->fd, kernel_rx_buf, sizeof(kernel_rx_buf),
				 MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				carrier_fail(c, "recv: %s%s", strerror(errno),
					     car_kernel_rx_why(errno));
			return;
		}
		if (n == 0) {
			carrier_fail(c, "closed by the peer");
			return;
		}
		carrier_frame(c, kernel_rx_buf, (size_t)n);
	}
}

/*
 * Each queued frame is handed to funnel.ko with one send() without its
 * length prefix; the kernel takes a frame whole or not at all.
 */
int car_write_kernel(struct carrier *c)
{
	while (c->ooff < c->olen) {
		uint8_t *p = c->obuf + c->ooff;
		size_t flen = (size_t)p[0] << 8 | p[1];

		if (send(c->fd, p + FUNNEL_LEN_PREFIX, flen,
			 MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			return -errno;
		}
		c->ooff += flen + FUNNEL_LEN_PREFIX;
	}
	return 0;
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
			const char *why;

			/* after the carrier's context, sealed or nothing */
			if (ctlseal_open(c, buf, len, &f, &why)) {
				carrier_fail(c, "a control message failed its integrity check (%s)",
					     why);
				return;
			}
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
		int r = csec_sealed_type(cs, f.type) ?
			csec_open(c, cs, buf, len, &f) : 0;

		if (r) {
			/* a byte stream with a hole or a forged part: its
			 * flows cannot go on (wire-format.md 9.3); so for
			 * an unordered plugin stream, a frame without its
			 * key (-2: unsealed, such as a forged FLOW_END, or
			 * of a key deleted) too: SCTP acknowledged it, so
			 * dropping it alone would delete it for good
			 * (plugins.md 5.4); an unordered UDP stream's
			 * datagrams may be lost
			 */
			if (!cs->unordered || cs->plugin)
				carrier_stream_fail(c, cs, CTRL_R_INTEGRITY,
						    "a frame failed its integrity check: every flow reset");
			return;
		}
	} else if (f.flags & (FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE)) {
		FST(&c->st, RX_DROP_NO_KEY)++;
		return;
	}
	if (cs && cs->rsvc) {
		relay_frame(c, cs, &f);
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

void car_io(struct loop *l, int fd, uint32_t events, void *arg)
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
		uint64_t at = c->obase + c->ooff;
		int err = car_flush(c);

		if (err) {
			carrier_fail(c, "send: %s", strerror(-err));
			return;
		}
		if (c->ops->protocol == IPPROTO_SCTP && c->ooff < c->olen &&
		    c->obase + c->ooff == at)
			car_tx_wait(c);
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		c->ops->read(c);
}
