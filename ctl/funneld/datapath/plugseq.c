// SPDX-License-Identifier: GPL-2.0
/*
 * Plugin streams' sub-header, sender and receiver rules
 * (Documentation/plugins.md section 5; see plugseq.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/datapath/plugseq.h"

/* The Sequence after s (0 is the opening frame's alone). */
static uint32_t seq_next(uint32_t s)
{
	return s + 1 ? s + 1 : 1;
}

/* Is a later than b (RFC 1982)? */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

void pseq_hdr_put(uint8_t p[PSEQ_HDR_LEN], const struct pseq_hdr *h)
{
	p[0] = (uint8_t)(h->seq >> 24);
	p[1] = (uint8_t)(h->seq >> 16);
	p[2] = (uint8_t)(h->seq >> 8);
	p[3] = (uint8_t)h->seq;
	p[4] = (uint8_t)((h->barrier ? PSEQ_F_BARRIER : 0) |
			 (h->more ? PSEQ_F_MORE : 0));
	p[5] = (uint8_t)(h->after >> 16);
	p[6] = (uint8_t)(h->after >> 8);
	p[7] = (uint8_t)h->after;
}

int pseq_hdr_get(const uint8_t *p, size_t n, struct pseq_hdr *h, char *why,
		 size_t whylen)
{
	if (n < PSEQ_HDR_LEN) {
		snprintf(why, whylen,
			 "frame body of %zu bytes: shorter than the %d-byte sub-header",
			 n, PSEQ_HDR_LEN);
		return -1;
	}
	if (p[4] & PSEQ_F_RESERVED) {
		snprintf(why, whylen,
			 "reserved bits 0x%02x set in the sub-header",
			 p[4] & PSEQ_F_RESERVED);
		return -1;
	}
	h->seq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		 (uint32_t)p[2] << 8 | p[3];
	h->barrier = p[4] & PSEQ_F_BARRIER;
	h->more = p[4] & PSEQ_F_MORE;
	h->after = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	if (h->barrier && h->after) {
		snprintf(why, whylen,
			 "Sequence %u: a barrier (B) with After %u", h->seq,
			 h->after);
		return -1;
	}
	return 0;
}

/* ---- sender ---- */

void pseq_tx_init(struct pseq_tx *t)
{
	memset(t, 0, sizeof(*t));
	t->next = 1;
}

void pseq_tx_open(struct pseq_hdr *h)
{
	memset(h, 0, sizeof(*h));
}

/* Sequence s's After for a dependency on ref (0: none). */
static uint32_t after_of(uint32_t s, uint32_t ref)
{
	uint32_t d = s - ref;

	return ref && d <= PSEQ_AFTER_MAX ? d : 0;
}

/* Take the next Sequence. */
static uint32_t tx_take(struct pseq_tx *t)
{
	uint32_t s = t->next;

	t->next = seq_next(s);
	t->last = s;
	return s;
}

void pseq_tx_msg(struct pseq_tx *t, uint32_t key, unsigned int order,
		 bool more, struct pseq_hdr *h)
{
	unsigned int slot = key & (PSEQ_OPS - 1);
	bool barrier = order & PSEQ_BARRIER;
	uint32_t s = t->next, ref = t->barrier;

	if (!barrier && t->ops[slot].seq) {
		uint32_t p = t->ops[slot].seq;

		if (t->ops[slot].key == key) {
			if (!ref || seq_after(p, ref))
				ref = p;
		} else if ((!t->barrier || seq_after(p, t->barrier)) &&
			   s - p <= PSEQ_AFTER_MAX) {
			/* the slot's operation is in progress: more than
			 * the table holds; in order, never refused
			 */
			barrier = true;
		}
	}
	tx_take(t);
	memset(h, 0, sizeof(*h));
	h->seq = s;
	h->more = more;
	t->in_msg = more;
	t->cur_barrier = barrier;
	t->cur_last = order & PSEQ_LAST;
	if (barrier) {
		h->barrier = true;
		t->cur = 0;
		if (!more)
			t->barrier = s;
		return;
	}
	h->after = after_of(s, ref);
	t->ops[slot].key = key;
	t->ops[slot].seq = s;
	t->cur = slot + 1;
	if (!more && t->cur_last)
		t->ops[slot].seq = 0;
}

void pseq_tx_piece(struct pseq_tx *t, bool more, struct pseq_hdr *h)
{
	uint32_t prev = t->last, s = tx_take(t);

	memset(h, 0, sizeof(*h));
	h->seq = s;
	h->after = s - prev;
	h->more = more;
	t->in_msg = more;
	if (t->cur) {
		t->ops[t->cur - 1].seq = more || !t->cur_last ? s : 0;
	}
	if (t->cur_barrier && !more)
		t->barrier = s;
}

void pseq_tx_plain(struct pseq_tx *t, struct pseq_hdr *h)
{
	pseq_tx_msg(t, 0, PSEQ_BARRIER, false, h);
}

/* ---- receiver ---- */

void pseq_rx_init(struct pseq_rx *r, uint32_t win)
{
	uint32_t n = 8;

	memset(r, 0, sizeof(*r));
	r->win = win ? win : 1;
	while (n < r->win && n < 0x80000000U)
		n <<= 1;
	r->mask = n - 1;
	r->ready_tail = &r->ready;
}

/* Drop the tables (nothing held, or every frame freed). */
static void tables_free(struct pseq_rx *r)
{
	free(r->held);
	free(r->wait);
	r->held = NULL;
	r->wait = NULL;
	r->hsize = 0;
}

void pseq_rx_fini(struct pseq_rx *r)
{
	for (uint32_t i = 0; r->held && i < r->hsize; i++) {
		struct pseq_held *f, *next;

		for (f = r->held[i]; f; f = next) {
			next = f->hnext;
			free(f);
		}
	}
	tables_free(r);
	r->ready = NULL;
	r->ready_tail = &r->ready;
	r->nheld = 0;
	r->nempty = 0;
	r->held_bytes = 0;
	r->held_cost = 0;
	free(r->bits);
	r->bits = NULL;
}

static bool bit_get(const struct pseq_rx *r, uint32_t s)
{
	uint32_t i = s & r->mask;

	return r->bits && (r->bits[i / 8] & (1U << (i % 8)));
}

/* Is Sequence s delivered? */
static bool is_delivered(const struct pseq_rx *r, uint32_t s)
{
	if (!seq_after(s, r->d))
		return true;
	if (s - r->d > r->win)
		return false;
	return bit_get(r, s);
}

/* The held frame of Sequence s, or NULL. */
static struct pseq_held *held_of(const struct pseq_rx *r, uint32_t s)
{
	struct pseq_held *f;

	if (!r->held)
		return NULL;
	for (f = r->held[s & (r->hsize - 1)]; f; f = f->hnext)
		if (f->h.seq == s)
			return f;
	return NULL;
}

/* ---- the lists a held frame is in ---- */

static void list_del(struct pseq_rx *r, struct pseq_held *f)
{
	if (!f->pprev)
		return;
	if (f->next)
		f->next->pprev = f->pprev;
	else if (f->ready)
		r->ready_tail = f->pprev;
	*f->pprev = f->next;
	f->next = NULL;
	f->pprev = NULL;
	f->ready = false;
}

static void list_push(struct pseq_held **head, struct pseq_held *f)
{
	f->next = *head;
	if (f->next)
		f->next->pprev = &f->next;
	*head = f;
	f->pprev = head;
}

static void ready_add(struct pseq_rx *r, struct pseq_held *f)
{
	f->next = NULL;
	f->pprev = r->ready_tail;
	*r->ready_tail = f;
	r->ready_tail = &f->next;
	f->ready = true;
}

/* Sequence s is delivered: the frames that waited for it may go. */
static void wake(struct pseq_rx *r, uint32_t s)
{
	struct pseq_held **pp, *f;

	if (!r->wait)
		return;
	pp = &r->wait[s & (r->hsize - 1)];
	while ((f = *pp)) {
		if (f->h.seq - f->h.after != s) {
			pp = &f->next;
			continue;
		}
		list_del(r, f);
		ready_add(r, f);
	}
}

/* May h be written now: 1, 0 (it waits), -1 (a rule broken: why). */
static int rx_can(const struct pseq_rx *r, const struct pseq_hdr *h,
		  char *why, size_t whylen)
{
	if (r->unopened)
		return 0;
	if (r->chain) {
		if (h->seq != r->chain_next)
			return 0;
		if (h->barrier || h->seq - h->after != r->chain_prev) {
			snprintf(why, whylen,
				 "Sequence %u goes on with the message of %u (M) but has %s%u",
				 h->seq, r->chain_prev,
				 h->barrier ? "B, After " : "After ", h->after);
			return -1;
		}
		return 1;
	}
	if (h->barrier)
		return seq_next(r->d) == h->seq;
	if (!h->after)
		return 1;
	return is_delivered(r, h->seq - h->after);
}

int pseq_rx_delivered(struct pseq_rx *r, const struct pseq_hdr *h, char *why,
		      size_t whylen)
{
	uint32_t s = h->seq;

	if (s == seq_next(r->d)) {
		r->d = s;
		while (seq_after(r->top, r->d) && bit_get(r, seq_next(r->d))) {
			uint32_t i = seq_next(r->d) & r->mask;

			r->bits[i / 8] &= (uint8_t)~(1U << (i % 8));
			r->d = seq_next(r->d);
		}
		if (!seq_after(r->top, r->d)) {
			r->top = r->d;
			free(r->bits);		/* only while frames are ahead */
			r->bits = NULL;
		}
	} else {
		uint32_t i = s & r->mask;

		if (!r->bits) {
			r->bits = calloc(1, (r->mask + 1) / 8);
			if (!r->bits) {
				snprintf(why, whylen, "out of memory");
				return -1;
			}
		}
		r->bits[i / 8] |= (uint8_t)(1U << (i % 8));
		if (seq_after(s, r->top))
			r->top = s;
	}
	wake(r, s);
	if (h->more) {
		if (is_delivered(r, seq_next(s))) {
			snprintf(why, whylen,
				 "Sequence %u was delivered before the message of %u (M) ended",
				 seq_next(s), s);
			return -1;
		}
		r->chain = true;
		r->chain_prev = s;
		r->chain_next = seq_next(s);
	} else {
		r->chain = false;
	}
	return 0;
}

/*
 * Rehash the tables into n buckets (a power of two, at least 16): 0, or
 * -1 if there is no memory for them.  The frames and their lists stay;
 * only the buckets move.
 */
static int tables_resize(struct pseq_rx *r, uint32_t n)
{
	struct pseq_held **held, **wait, **oh = r->held, **ow = r->wait;
	uint32_t old = r->hsize;

	held = calloc(n, sizeof(*held));
	wait = calloc(n, sizeof(*wait));
	if (!held || !wait) {
		free(held);
		free(wait);
		return -1;
	}
	for (uint32_t i = 0; i < old; i++) {
		struct pseq_held *f, *next;

		for (f = oh[i]; f; f = next) {
			bool waits = f->pprev && !f->ready;
			uint32_t dep = f->h.seq - f->h.after;

			next = f->hnext;
			f->hnext = held[f->h.seq & (n - 1)];
			held[f->h.seq & (n - 1)] = f;
			if (waits) {
				list_del(r, f);
				list_push(&wait[dep & (n - 1)], f);
			}
		}
	}
	free(oh);
	free(ow);
	r->held = held;
	r->wait = wait;
	r->hsize = n;
	return 0;
}

/*
 * Double the tables (16 buckets at first, mask + 1 at most): 0, or -1 if
 * there are none (out of memory).  Without room to grow the old ones
 * stay: slower, still right.
 */
static int tables_grow(struct pseq_rx *r)
{
	uint32_t n = r->hsize ? r->hsize * 2 : 16;

	if (n > r->mask + 1)
		n = r->mask + 1;
	if (n <= r->hsize)
		return 0;
	if (tables_resize(r, n))
		return r->hsize ? 0 : -1;
	return 0;
}

/*
 * Halve the tables once fewer than an eighth of their buckets hold a
 * frame: they follow what is held, not the most that ever was (a peer
 * that filled the window and then let all frames but one go keeps no
 * tables sized for the window).  Without memory the old ones stay.
 */
static void tables_shrink(struct pseq_rx *r)
{
	if (r->hsize > 16 && r->nheld < r->hsize / 8)
		tables_resize(r, r->hsize / 2);
}

enum pseq_rx_res pseq_rx_input(struct pseq_rx *r, const struct pseq_hdr *h,
			       const uint8_t *body, size_t len, char *why,
			       size_t whylen)
{
	uint32_t dist = h->seq - r->d;
	struct pseq_held *f;
	int can;

	if (!h->seq) {
		snprintf(why, whylen,
			 "Sequence 0 again: the opening frame came already");
		return PSEQ_RX_ERR;
	}
	if (!dist || dist >= 0x80000000U)
		return PSEQ_RX_REPLAY;
	if (dist > r->win) {
		snprintf(why, whylen,
			 "Sequence %u is %u frames above the last delivered (%u): at most %u in flight",
			 h->seq, dist, r->d, r->win);
		return PSEQ_RX_ERR;
	}
	if (bit_get(r, h->seq) || held_of(r, h->seq))
		return PSEQ_RX_REPLAY;
	/* Sequence 0 is the opening frame's only: a frame after the wrap
	 * that names it would wait for a frame never sent
	 */
	if (!h->barrier && h->after && h->seq == h->after &&
	    seq_after(0, r->d)) {
		snprintf(why, whylen,
			 "Sequence %u has After %u: Sequence 0 across the wrap",
			 h->seq, h->after);
		return PSEQ_RX_ERR;
	}
	can = rx_can(r, h, why, whylen);
	if (can < 0)
		return PSEQ_RX_ERR;
	if (can)
		return PSEQ_RX_DELIVER;
	if (r->nheld + 1 > r->hsize / 2 && tables_grow(r))
		return PSEQ_RX_NOMEM;
	f = malloc(sizeof(*f) + len);
	if (!f) {
		if (!r->nheld)
			tables_free(r);
		return PSEQ_RX_NOMEM;
	}
	memset(f, 0, sizeof(*f));
	f->h = *h;
	f->len = len;
	if (len)
		memcpy(f->body, body, len);
	f->hnext = r->held[h->seq & (r->hsize - 1)];
	r->held[h->seq & (r->hsize - 1)] = f;
	if (h->barrier)
		;		/* found by Sequence: seq_next(d) */
	else if (h->after && !is_delivered(r, h->seq - h->after))
		list_push(&r->wait[(h->seq - h->after) & (r->hsize - 1)], f);
	else
		ready_add(r, f);	/* only held back */
	r->nheld++;
	r->held_bytes += len;
	if (len)
		r->held_cost += pseq_cost(len);
	else
		r->nempty++;
	return PSEQ_RX_HOLD;
}

/* Take f out of the receiver. */
static void rx_take(struct pseq_rx *r, struct pseq_held *f)
{
	struct pseq_held **pp = &r->held[f->h.seq & (r->hsize - 1)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	f->hnext = NULL;
	list_del(r, f);
	r->nheld--;
	r->held_bytes -= f->len;
	if (f->len)
		r->held_cost -= pseq_cost(f->len);
	else
		r->nempty--;
	if (!r->nheld) {
		tables_free(r);
		r->ready = NULL;
		r->ready_tail = &r->ready;
	} else {
		tables_shrink(r);
	}
}

int pseq_rx_next(struct pseq_rx *r, struct pseq_held **out, char *why,
		 size_t whylen)
{
	struct pseq_held *f;
	int can;

	if (!r->nheld || r->unopened)
		return 0;
	/* a message under way goes on; else a barrier next in line, or a
	 * frame whose dependency is written
	 */
	f = held_of(r, r->chain ? r->chain_next : seq_next(r->d));
	if (f && (r->chain || f->h.barrier)) {
		can = rx_can(r, &f->h, why, whylen);
		if (can < 0)
			return -1;
		if (can)
			goto take;
	}
	if (r->chain || !(f = r->ready))
		return 0;
	can = rx_can(r, &f->h, why, whylen);
	if (can <= 0)
		return can;
take:
	rx_take(r, f);
	*out = f;
	return 1;
}

/* ---- the peer's flow ids ---- */

#define IDWIN_WORDS	(PSEQ_IDWIN_BYTES / 8)

void pseq_idwin_init(struct pseq_idwin *w)
{
	w->top = 0;
	w->any = false;
	w->bits = NULL;
}

int pseq_idwin_alloc(struct pseq_idwin *w)
{
	if (!w->bits)
		w->bits = calloc(IDWIN_WORDS, sizeof(*w->bits));
	return w->bits ? 0 : -1;
}

void pseq_idwin_fini(struct pseq_idwin *w)
{
	free(w->bits);
	w->bits = NULL;
}

static bool idwin_test(const struct pseq_idwin *w, uint32_t id)
{
	uint32_t b = id % PSEQ_IDWIN;

	return w->bits[b / 64] >> (b % 64) & 1;
}

bool pseq_idwin_new(const struct pseq_idwin *w, uint32_t id)
{
	if (!w->any || seq_after(id, w->top))
		return true;	/* also while there is no bitmap */
	if (w->top - id >= PSEQ_IDWIN)	/* below the window */
		return false;
	return !idwin_test(w, id);
}

int pseq_idwin_seen(struct pseq_idwin *w, uint32_t id)
{
	uint32_t b;

	if (pseq_idwin_alloc(w))
		return -1;
	if (!w->any || seq_after(id, w->top)) {
		uint32_t d = w->any ? id - w->top : PSEQ_IDWIN;

		if (d >= PSEQ_IDWIN) {
			memset(w->bits, 0, IDWIN_WORDS * sizeof(*w->bits));
		} else {
			/* the ids that leave the window: top+1-W .. id-W,
			 * whose bits are those of top+1 .. id
			 */
			/* whole words where
			 * they can be, at most IDWIN_WORDS stores
			 */
			for (uint32_t i = w->top + 1; i != id + 1;) {
				b = i % PSEQ_IDWIN;
				if (!(b % 64) && id - i >= 63) {
					w->bits[b / 64] = 0;
					i += 64;
					continue;
				}
				w->bits[b / 64] &= ~(1ULL << (b % 64));
				i++;
			}
		}
		w->top = id;
		w->any = true;
	} else if (w->top - id >= PSEQ_IDWIN) {
		return 0;	/* below the window: not new anyway */
	}
	b = id % PSEQ_IDWIN;
	w->bits[b / 64] |= 1ULL << (b % 64);
	return 0;
}
