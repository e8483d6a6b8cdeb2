// SPDX-License-Identifier: GPL-2.0
/*
 * TCP relays (Documentation/switchbox.md sections 3 and 5): the flows of
 * a relayed TCP stream, between the service side's stream (hop 0, the
 * client P) and the next hop's (hop 1, H).  Each direction of a flow
 * (d[i]: from hop i to hop !i) is a receiver towards hop i and a sender
 * towards hop !i, in the terms of control-protocol.md section 7:
 *
 *   - towards hop i, this end keeps a window of its own (TCP_WINDOW_INIT
 *     at first, doubled as tpwin.h says, up to --tcp-window, within the
 *     budgets of P's carrier and of the daemon) and grants hop i the
 *     bytes it forwarded to hop !i, a quarter window at a time: what a
 *     flow holds here, one way, is its window at most;
 *   - towards hop !i, it sends no more than the credit hop !i granted;
 *     the bytes beyond wait in the direction's queue, and the window
 *     towards hop i closes behind them: a slow reader at either end holds
 *     the other back, end to end, with a bounded queue here.
 *
 * No frame of an ordered stream is ever dropped: a frame the next
 * carrier refuses (its queue full, or a key exhausted until a rekey) is
 * not taken from the queue; the flow waits on the hop's pending list,
 * in order, and rtcp_resume() (the carrier has room) sends again.  The
 * flow's opening frame (its origin, control-protocol.md section 8) goes
 * to H before any byte, and flows open in the order P opened them (the
 * pending list is first in, first out), as H's connect side requires.
 * FLOW_END (a FIN) follows the direction's bytes; FLOW_END with R (a
 * reset) drops what waits both ways and goes on at once; a hop that
 * breaks the protocol (bytes past its credit) gets its flow reset both
 * ways.  A flow is freed once both directions ended.
 *
 * Everything runs in funneld's event loop.  Sending on one carrier can
 * make it resume the streams it stopped (car_flush()), and so call back
 * into this file for the same pair: a pending list is not pumped twice
 * at once (pumping, again), and flows that end are freed only when the
 * outermost call returns (depth, the dead list).
 */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <netinet/in.h>

#include <linux/funnel.h>

#include "common/origin.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/flowtab.h"
#include "funneld/datapath/membudget.h"
#include "funneld/datapath/tpath.h"
#include "funneld/datapath/tpwin.h"
#include "funneld/loop.h"

/* a direction's queue: bytes [head, tail) of data wait */
struct rchunk {
	struct rchunk *next;
	size_t head, tail;
	uint8_t data[RTCP_CHUNK];
};

struct rdir {
	/* receiving from hop i */
	uint32_t win;		/* our window for it, reserved; 0: none */
	uint64_t credit_in;	/* what hop i may still send */
	uint64_t unacked;	/* forwarded, not granted back yet */
	struct tpwin tw;
	bool short_win;
	bool in_end;		/* its FLOW_END came */
	/* sending to hop !i */
	struct rchunk *q_head, *q_tail;
	size_t qlen;
	uint64_t credit_out;	/* what hop !i granted; UINT64_MAX: no windows */
	bool open_out;		/* the opening frame waits (d[0] only) */
	uint8_t open_body[ORIGIN_LEN_MAX];
	size_t open_len;
	bool end_out;		/* FLOW_END to send once the queue is out */
	bool rst_out;		/* FLOW_END with R to send, nothing else */
	bool done;		/* nothing more goes to hop !i */
	bool on_pend;
	struct rflow *pend_next;
};

struct rflow {
	uint32_t id;
	struct rflow *hnext;
	struct rflow *dead_next;
	bool dead;
	bool reset;		/* reset: only its FLOW_ENDs with R go */
	bool refusal;		/* a refusal only: no window, not counted */
	struct rdir d[2];
};

#define RTCP_HASH	256

struct rtcp {
	struct cstream *hop[2];		/* 0: the service side, 1: next hop */
	bool window[2];			/* hop i does flow control */
	bool origin[2];			/* hop i's flows open with an origin */
	uint32_t maxwin;		/* --tcp-window */
	struct rflow *hash[RTCP_HASH];
	uint32_t hash_seed;		/* P picks the ids: a seeded hash */
	uint32_t nflows;		/* not counting refusals */
	uint32_t refusing;		/* refusals waiting for room */
	uint32_t last_id;		/* P's newest flow id */
	bool seen_id;
	/* flows whose direction towards hop j waits for room there */
	struct rflow *pend_head[2], *pend_tail[2];
	bool pumping[2], again[2];
	unsigned int depth;
	struct rflow *dead;		/* to free when depth is 0 */
	uint64_t queued, queued_peak;	/* bytes waiting here, all flows */
};

/* One frame at a time: the event loop is single-threaded. */
static uint8_t rtcp_buf[FUNNEL_HDR_LEN + FUNNEL_MAX_PAYLOAD];

/*
 * What a flow holds at G, both ways, is charged to P's carrier (and the
 * daemon's): the client whose flows make G hold it.  The carrier to H is
 * shared by every client of the relay (and G's maps to H): charged there,
 * one client's flows (their initial windows alone) could fill its budget
 * and have every other client's new flows refused.
 */
static struct membudget *resv_of(struct rtcp *rt)
{
	return &rt->hop[0]->car->tcp_resv;
}

static struct membudget *buf_of(struct rtcp *rt)
{
	return &rt->hop[0]->car->tcp_buf;
}

/*
 * The relay's flows count in the flow budget of P's carrier and of the
 * daemon (struct flowbudget, the userspace path's): without, a client
 * could hold CAR_RELAY_STREAMS_MAX x RTCP_FLOWS_MAX flows per carrier.
 */
static bool flows_room(const struct rtcp *rt)
{
	for (const struct flowbudget *b = &rt->hop[0]->car->flows; b;
	     b = b->parent)
		if (b->count >= b->max)
			return false;
	return true;
}

static void flows_count(struct rtcp *rt, bool add)
{
	for (struct flowbudget *b = &rt->hop[0]->car->flows; b; b = b->parent)
		b->count = add ? b->count + 1 : b->count - 1;
}

/* ---- a direction's queue (charged to the sending hop's carrier) ---- */

static int q_append(struct rtcp *rt, int i, struct rdir *d,
		    const uint8_t *p, size_t n)
{
	while (n) {
		struct rchunk *c = d->q_tail;
		size_t room;

		if (!c || c->tail == RTCP_CHUNK) {
			c = malloc(sizeof(*c));
			if (!c)
				return -1;
			c->next = NULL;
			c->head = c->tail = 0;
			if (d->q_tail)
				d->q_tail->next = c;
			else
				d->q_head = c;
			d->q_tail = c;
		}
		room = RTCP_CHUNK - c->tail;
		if (room > n)
			room = n;
		memcpy(c->data + c->tail, p, room);
		c->tail += room;
		d->qlen += room;
		membudget_charge(buf_of(rt), room);
		if (!rt->window[i])	/* no window reserved: the bytes */
			membudget_charge(resv_of(rt), room);
		rt->queued += room;
		if (rt->queued > rt->queued_peak)
			rt->queued_peak = rt->queued;
		p += room;
		n -= room;
	}
	return 0;
}

/* The first n bytes of the queue (n <= qlen) into out. */
static void q_peek(const struct rdir *d, uint8_t *out, size_t n)
{
	for (const struct rchunk *c = d->q_head; n; c = c->next) {
		size_t take = c->tail - c->head;

		if (take > n)
			take = n;
		memcpy(out, c->data + c->head, take);
		out += take;
		n -= take;
	}
}

static void q_consume(struct rtcp *rt, int i, struct rdir *d, size_t n)
{
	membudget_uncharge(buf_of(rt), n);
	if (!rt->window[i])
		membudget_uncharge(resv_of(rt), n);
	rt->queued -= n;
	while (n) {
		struct rchunk *c = d->q_head;
		size_t take = c->tail - c->head;

		if (take > n)
			take = n;
		c->head += take;
		d->qlen -= take;
		n -= take;
		if (c->head < c->tail)
			break;
		d->q_head = c->next;
		if (!d->q_head)
			d->q_tail = NULL;
		free(c);
	}
}

static void q_drop(struct rtcp *rt, int i, struct rdir *d)
{
	if (d->qlen)
		q_consume(rt, i, d, d->qlen);
	free(d->q_head);	/* an empty chunk may be left */
	d->q_head = d->q_tail = NULL;
}

/* ---- flows ---- */

/* P chooses its flow ids: a seeded mix, so that it cannot put them all
 * in one bucket
 */
static unsigned int rflow_bucket(const struct rtcp *rt, uint32_t id)
{
	return flowtab_mix32(id ^ rt->hash_seed) % RTCP_HASH;
}

static struct rflow *flow_find(const struct rtcp *rt, uint32_t id)
{
	struct rflow *f = rt->hash[rflow_bucket(rt, id)];

	while (f && f->id != id)
		f = f->hnext;
	return f;
}

/* Nothing more goes either way: freed when the outermost call ends. */
static void flow_kill(struct rtcp *rt, struct rflow *f)
{
	if (f->dead)
		return;
	f->dead = true;
	for (int i = 0; i < 2; i++) {
		q_drop(rt, i, &f->d[i]);
		f->d[i].done = true;
		f->d[i].rst_out = f->d[i].end_out = f->d[i].open_out = false;
	}
	f->dead_next = rt->dead;
	rt->dead = f;
}

static void pend_unlink(struct rtcp *rt, struct rflow *f, int j)
{
	struct rflow **pp, *prev = NULL;

	for (pp = &rt->pend_head[j]; *pp; prev = *pp, pp = &(*pp)->d[!j].pend_next) {
		if (*pp != f)
			continue;
		*pp = f->d[!j].pend_next;
		if (rt->pend_tail[j] == f)
			rt->pend_tail[j] = prev;
		break;
	}
	f->d[!j].on_pend = false;
	f->d[!j].pend_next = NULL;
}

static void flow_free(struct rtcp *rt, struct rflow *f)
{
	struct rflow **pp = &rt->hash[rflow_bucket(rt, f->id)];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	for (int i = 0; i < 2; i++) {
		if (f->d[i].on_pend)
			pend_unlink(rt, f, !i);
		q_drop(rt, i, &f->d[i]);
		membudget_uncharge(resv_of(rt), f->d[i].win);
	}
	if (f->refusal) {
		rt->refusing--;
	} else {
		rt->nflows--;
		flows_count(rt, false);
	}
	free(f);
}

static void reap(struct rtcp *rt)
{
	while (rt->dead) {
		struct rflow *f = rt->dead;

		rt->dead = f->dead_next;
		flow_free(rt, f);
	}
}

/*
 * A direction ended (its FLOW_END went on, nothing more is taken from
 * hop i): its window goes back to the budget at once, not when the
 * other direction ends too; the flow goes once both have.
 */
static void dir_done(struct rtcp *rt, struct rflow *f, int i)
{
	f->d[i].done = true;
	membudget_uncharge(resv_of(rt), f->d[i].win);
	f->d[i].win = 0;
	if (f->d[!i].done)
		flow_kill(rt, f);
}

/* ---- sending ---- */

/* A frame (header and body in rtcp_buf) to hop j; 0, or -1: not now. */
static int hop_send(struct rtcp *rt, int j, uint8_t type, uint32_t flow,
		    uint8_t flags, size_t body_len)
{
	struct cstream *o = rt->hop[j];
	struct funnel_frame of = {
		.stream = o->id, .type = type, .flow = flow, .flags = flags,
	};

	funnel_hdr_encode(rtcp_buf, &of);
	if (car_tpath_send(o, rtcp_buf, FUNNEL_HDR_LEN + body_len))
		return -1;
	FST(&o->rst, TX_FRAMES)++;
	FST(&o->rst, TX_BYTES) += body_len;
	o->rsvc->relayed++;
	return 0;
}

/*
 * n bytes of d[i] went on to hop !i: grant hop i what it may send again,
 * as a receiver of control-protocol.md section 7 grants what it wrote.
 */
static void dir_forwarded(struct rtcp *rt, struct rflow *f, int i, size_t n)
{
	struct rdir *d = &f->d[i];
	uint64_t more, now = loop_now_ms();

	if (!rt->window[i] || d->in_end || !d->win)
		return;
	d->unacked += n;
	more = tpwin_grow(&d->tw, n, d->win, rt->maxwin, now);
	if (more) {
		/* a quarter of the budget stays for new flows */
		uint64_t avail = membudget_avail_spare(resv_of(rt));

		if (more > avail) {
			more = avail;
			if (!d->short_win)
				membudget_deny(resv_of(rt));
			d->short_win = true;
		}
		membudget_charge(resv_of(rt), more);
		d->win += (uint32_t)more;
		d->unacked += more;
	}
	if (!tpwin_grant_due(d->unacked, d->win))
		return;
	d->credit_in += d->unacked;
	tpwin_grant(&d->tw, d->unacked, now);
	car_tpath_grant(rt->hop[i], f->id, (uint32_t)d->unacked);
	d->unacked = 0;
}

/*
 * Send what d[i] may send to hop !i now, RTCP_TURN DATA frames at most:
 * 0 when it sent all it may (what is left waits for credit), 1 when its
 * turn is over with more to send (it goes behind the others), -1 when
 * the carrier refused a frame (it waits on the pending list).
 */
static int dir_push(struct rtcp *rt, struct rflow *f, int i)
{
	struct rdir *d = &f->d[i];
	unsigned int turn = RTCP_TURN;
	int j = !i;

	if (d->done)
		return 0;
	if (d->rst_out) {
		if (hop_send(rt, j, FUNNEL_T_FLOW_END, f->id, FUNNEL_F_RESET, 0))
			return -1;
		d->rst_out = false;
		dir_done(rt, f, i);
		return 0;
	}
	if (d->open_out) {
		memcpy(rtcp_buf + FUNNEL_HDR_LEN, d->open_body, d->open_len);
		if (hop_send(rt, j, FUNNEL_T_DATA, f->id, 0, d->open_len))
			return -1;
		d->open_out = false;
	}
	while (d->qlen && d->credit_out) {
		size_t n = d->qlen;

		if (!turn--)
			return 1;
		if (n > FUNNEL_MAX_SEALED_PAYLOAD)
			n = FUNNEL_MAX_SEALED_PAYLOAD;
		if (n > d->credit_out)
			n = (size_t)d->credit_out;
		q_peek(d, rtcp_buf + FUNNEL_HDR_LEN, n);
		if (hop_send(rt, j, FUNNEL_T_DATA, f->id, 0, n))
			return -1;
		q_consume(rt, i, d, n);
		if (d->credit_out != UINT64_MAX)
			d->credit_out -= n;
		dir_forwarded(rt, f, i, n);
		if (d->done)	/* a reset meanwhile (nested) */
			return 0;
	}
	/* a reset while the grants above ran (nested): it goes first */
	if (d->rst_out)
		return dir_push(rt, f, i) < 0 ? -1 : 0;
	if (!d->qlen && d->end_out) {
		if (hop_send(rt, j, FUNNEL_T_FLOW_END, f->id, 0, 0))
			return -1;
		d->end_out = false;
		dir_done(rt, f, i);
	}
	return 0;
}

static void pend_add(struct rtcp *rt, struct rflow *f, int i)
{
	int j = !i;

	if (f->d[i].on_pend)
		return;
	f->d[i].on_pend = true;
	f->d[i].pend_next = NULL;
	if (rt->pend_tail[j])
		rt->pend_tail[j]->d[i].pend_next = f;
	else
		rt->pend_head[j] = f;
	rt->pend_tail[j] = f;
}

/*
 * Send the directions waiting for hop j, in order, each a turn at a
 * time (a flow with more goes behind the others), until the list is
 * empty or the carrier refuses a frame.
 */
static void pend_pump(struct rtcp *rt, int j)
{
	if (rt->pumping[j]) {
		rt->again[j] = true;
		return;
	}
	rt->pumping[j] = true;
	do {
		rt->again[j] = false;
		while (rt->pend_head[j]) {
			struct rflow *f = rt->pend_head[j];
			int r = dir_push(rt, f, !j);

			if (r < 0)
				break;
			/* f may have been unlinked meanwhile (freed: not
			 * before depth 0)
			 */
			if (rt->pend_head[j] == f)
				pend_unlink(rt, f, j);
			if (r > 0)
				pend_add(rt, f, !j);
		}
	} while (rt->again[j] && rt->pend_head[j]);
	rt->pumping[j] = false;
}

/* d[i] has something to send: now, or after what waits for hop !i. */
static void dir_kick(struct rtcp *rt, struct rflow *f, int i)
{
	int r;

	if (f->d[i].on_pend)
		return;
	if (rt->pend_head[!i] || rt->pumping[!i]) {
		pend_add(rt, f, i);
		return;
	}
	r = dir_push(rt, f, i);
	if (r) {
		pend_add(rt, f, i);
		if (r > 0)	/* its turn is over: the others' and its next */
			pend_pump(rt, !i);
	}
}

/*
 * Reset the flow: towards hop j for each bit j of to, FLOW_END with R
 * (also after a FLOW_END that way: the peer ends a half-closed
 * connection with a reset too); everything else that waits is dropped.
 * A hop left out sent the reset or broke the protocol: it hears nothing
 * more.  H never heard of a flow whose opening frame still waits.
 */
static void flow_reset(struct rtcp *rt, struct rflow *f, unsigned int to)
{
	f->reset = true;
	for (int i = 0; i < 2; i++) {
		struct rdir *d = &f->d[i];
		int j = !i;
		bool tell = (to & (1U << j)) && !(j == 1 && d->open_out);

		q_drop(rt, i, d);
		d->end_out = false;
		d->in_end = true;	/* nothing more taken from hop i */
		d->open_out = false;
		d->rst_out = tell;
		d->done = !tell;
	}
	if (f->d[0].done && f->d[1].done) {
		flow_kill(rt, f);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (!f->dead && f->d[i].rst_out)
			dir_kick(rt, f, i);
}

/* ---- receiving ---- */

/*
 * A flow id of P not seen yet (serial order, as tpath.c's connect side):
 * an older one is a flow ended here whose frames still come.
 */
static bool id_is_new(const struct rtcp *rt, uint32_t id)
{
	uint32_t d = id - rt->last_id;

	return !rt->seen_id || (d && d < 0x80000000U);
}

/* A refusal of P's flow id: FLOW_END with R, kept until it goes. */
static void flow_refuse(struct rtcp *rt, uint32_t id)
{
	struct rflow *f;

	f = rt->refusing < RTCP_REFUSE_MAX ? calloc(1, sizeof(*f)) : NULL;
	if (!f) {
		FST(&rt->hop[0]->rst, TX_DROP_QUEUE)++;
		return;
	}
	f->id = id;
	f->refusal = true;
	rt->refusing++;
	f->hnext = rt->hash[rflow_bucket(rt, id)];
	rt->hash[rflow_bucket(rt, id)] = f;
	f->d[0].done = true;
	f->d[1].in_end = true;
	f->d[1].rst_out = true;
	dir_kick(rt, f, 1);
}

/* The window of d[i] (from hop i), reserved in hop i's carrier. */
static bool dir_reserve(struct rtcp *rt, struct rdir *d, int i)
{
	d->credit_out = rt->window[!i] ? TPATH_WINDOW_INIT : UINT64_MAX;
	if (!rt->window[i])
		return true;
	if (!membudget_room(resv_of(rt), TPATH_WINDOW_INIT)) {
		membudget_deny(resv_of(rt));
		return false;
	}
	membudget_charge(resv_of(rt), TPATH_WINDOW_INIT);
	d->win = TPATH_WINDOW_INIT;
	d->credit_in = TPATH_WINDOW_INIT;
	tpwin_init(&d->tw, TPATH_WINDOW_INIT);
	return true;
}

/*
 * P's opening DATA frame of flow id: a flow, its opening frame for H
 * (the origin as H takes it), and what the frame carried besides (a
 * hop without origins opens with payload, if any) in *payload.
 */
static struct rflow *flow_open(struct rtcp *rt, const struct funnel_frame *fr,
			       bool *payload)
{
	struct carrier *c = rt->hop[0]->car;
	struct rflow *f;
	struct origin o;

	*payload = !rt->origin[0];
	rt->last_id = fr->flow;
	rt->seen_id = true;
	if (rt->origin[0] && origin_parse(fr->body, fr->body_len, &o, NULL)) {
		FST(&rt->hop[0]->rst, RX_DROP_MALFORMED)++;
		flow_refuse(rt, fr->flow);
		return NULL;
	}
	if (rt->nflows >= RTCP_FLOWS_MAX || !flows_room(rt)) {
		FST(&rt->hop[0]->rst, RX_DROP_QUEUE)++;
		flow_refuse(rt, fr->flow);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		FST(&rt->hop[0]->rst, RX_DROP_QUEUE)++;
		flow_refuse(rt, fr->flow);
		return NULL;
	}
	f->id = fr->flow;
	if (!dir_reserve(rt, &f->d[0], 0)) {
		free(f);
		FST(&rt->hop[0]->rst, RX_DROP_QUEUE)++;
		flow_refuse(rt, fr->flow);
		return NULL;
	}
	if (!dir_reserve(rt, &f->d[1], 1)) {
		membudget_uncharge(resv_of(rt), f->d[0].win);
		free(f);
		FST(&rt->hop[0]->rst, RX_DROP_QUEUE)++;
		flow_refuse(rt, fr->flow);
		return NULL;
	}
	rt->nflows++;
	flows_count(rt, true);
	f->hnext = rt->hash[rflow_bucket(rt, f->id)];
	rt->hash[rflow_bucket(rt, f->id)] = f;
	f->d[0].open_out = true;
	if (rt->origin[1]) {
		int n;

		/* P's origin as P saw it; from a P without origins, the
		 * carrier's own addresses (the nearest this end knows)
		 */
		if (rt->origin[0]) {
			memcpy(f->d[0].open_body, fr->body, fr->body_len);
			f->d[0].open_len = fr->body_len;
		} else {
			n = origin_encode((const struct sockaddr *)&c->remote,
					  (const struct sockaddr *)&c->local,
					  f->d[0].open_body);
			f->d[0].open_len = n > 0 ? (size_t)n : 0;
		}
	}
	return f;
}

/* Bytes of d[i] from hop i. */
static void dir_input(struct rtcp *rt, struct rflow *f, int i,
		      const uint8_t *p, size_t len)
{
	struct rdir *d = &f->d[i];

	if (rt->window[i]) {
		tpwin_rcvd(&d->tw, len, loop_now_ms());
		if (len > d->credit_in) {
			/* past its credit: hop i broke the protocol */
			FST(&rt->hop[i]->rst, RX_DROP_QUEUE)++;
			flow_reset(rt, f, 3);
			return;
		}
		d->credit_in -= len;
	} else if (d->qlen + len > RTCP_QUEUE_NOWIN ||
		   !membudget_room(resv_of(rt), len)) {
		FST(&rt->hop[i]->rst, RX_DROP_QUEUE)++;
		flow_reset(rt, f, 3);
		return;
	}
	if (q_append(rt, i, d, p, len)) {
		FST(&rt->hop[i]->rst, RX_DROP_QUEUE)++;
		flow_reset(rt, f, 3);
		return;
	}
	dir_kick(rt, f, i);
}

static void enter(struct rtcp *rt)
{
	rt->depth++;
}

static void leave(struct rtcp *rt)
{
	if (!--rt->depth)
		reap(rt);
}

void rtcp_frame(struct cstream *cs, const struct funnel_frame *fr)
{
	struct rtcp *rt = cs->rtcp;
	int i = cs == rt->hop[1];
	struct rflow *f;
	bool payload = true;

	FST(&cs->rst, RX_FRAMES)++;
	FST(&cs->rst, RX_BYTES) += fr->body_len;
	enter(rt);
	f = flow_find(rt, fr->flow);
	if (f && (f->dead || f->refusal || f->reset))
		f = NULL;
	if (!f && fr->type == FUNNEL_T_DATA && i == 0 &&
	    id_is_new(rt, fr->flow)) {
		f = flow_open(rt, fr, &payload);
		if (!f)
			goto out;
		if (!payload || !fr->body_len) {
			dir_kick(rt, f, 0);
			goto out;
		}
	}
	/* an unknown flow, or one ended that way (but for a reset, which
	 * may follow a FLOW_END): nowhere to send it
	 */
	if (!f || (f->d[i].in_end && !(fr->type == FUNNEL_T_FLOW_END &&
				       (fr->flags & FUNNEL_F_RESET)))) {
		FST(&cs->rst, RX_DROP_NO_FLOW)++;
		goto out;
	}
	if (fr->type == FUNNEL_T_FLOW_END && (fr->flags & FUNNEL_F_RESET)) {
		flow_reset(rt, f, 1U << !i);
	} else if (fr->type == FUNNEL_T_FLOW_END) {
		f->d[i].in_end = true;
		f->d[i].end_out = true;
		dir_kick(rt, f, i);
	} else if (fr->body_len) {
		dir_input(rt, f, i, fr->body, fr->body_len);
	}
out:
	leave(rt);
}

void rtcp_window(struct cstream *cs, uint32_t flow, uint32_t credit)
{
	struct rtcp *rt = cs->rtcp;
	struct rflow *f;
	struct rdir *d;
	int j;

	if (!rt)
		return;
	j = cs == rt->hop[1];
	if (!rt->window[j])
		return;
	f = flow_find(rt, flow);
	if (!f || f->dead || f->refusal || f->reset)
		return;
	/* credit for what goes to hop j: direction !j */
	d = &f->d[!j];
	if (d->done)
		return;
	enter(rt);
	/* a peer granting without end: the sum saturates below "no
	 * windows" (UINT64_MAX), it never wraps to little or nothing
	 */
	if (credit >= UINT64_MAX - 1 - d->credit_out)
		d->credit_out = UINT64_MAX - 1;
	else
		d->credit_out += credit;
	if (d->qlen || d->end_out)
		dir_kick(rt, f, !j);
	leave(rt);
}

void rtcp_resume(struct cstream *cs)
{
	struct rtcp *rt = cs->rtcp;

	if (!rt)
		return;
	enter(rt);
	pend_pump(rt, cs == rt->hop[1]);
	leave(rt);
}

uint32_t rtcp_nflows(const struct cstream *cs)
{
	return cs->rtcp ? cs->rtcp->nflows : 0;
}

uint64_t rtcp_queued(const struct cstream *cs)
{
	return cs->rtcp ? cs->rtcp->queued : 0;
}

int rtcp_new(struct cstream *cs, struct cstream *next)
{
	struct rtcp *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return -1;
	if (getrandom(&rt->hash_seed, sizeof(rt->hash_seed), GRND_NONBLOCK) !=
	    sizeof(rt->hash_seed))
		rt->hash_seed = flowtab_mix32((uint32_t)(uintptr_t)rt ^
					      (uint32_t)loop_now_ms());
	rt->hop[0] = cs;
	rt->hop[1] = next;
	for (int i = 0; i < 2; i++) {
		struct carrier *c = rt->hop[i]->car;

		rt->window[i] = !!(c->peer_features & car_features(c) &
				   CTRL_FEAT_WINDOW);
		rt->origin[i] = !!(c->peer_features & car_features(c) &
				   CTRL_FEAT_ORIGIN);
	}
	rt->maxwin = cs->car->d->tcp_window;
	if (rt->maxwin < TPATH_WINDOW_INIT)
		rt->maxwin = TPATH_WINDOW_INIT;
	cs->rtcp = next->rtcp = rt;
	return 0;
}

void rtcp_free(struct rtcp *rt)
{
	if (!rt)
		return;
	rt->hop[0]->rtcp = rt->hop[1]->rtcp = NULL;
	reap(rt);
	for (unsigned int h = 0; h < RTCP_HASH; h++) {
		while (rt->hash[h]) {
			struct rflow *f = rt->hash[h];

			f->dead = true;
			flow_free(rt, f);
		}
	}
	free(rt);
}
