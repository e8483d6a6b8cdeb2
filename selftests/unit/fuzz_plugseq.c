// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for plugin streams' sub-header and ordering rules
 * (ctl/funneld/datapath/plugseq.c, Documentation/plugins.md section 5).
 * The first byte picks one of two runs:
 *
 *   even: a sender (pseq_tx) sends the messages the input describes
 *     (operation key, order, frames), the frames reach a receiver
 *     (pseq_rx) in an order the input picks (each time one of the next
 *     32 not sent yet), through pseq_hdr_put() and pseq_hdr_get().
 *     Aborts unless every frame is written exactly once, no frame is
 *     refused, and the written order keeps the rules: a frame after its
 *     dependency; a barrier after every lower Sequence, and before every
 *     frame sent after it; a message's frames in a row; the messages of
 *     one operation (up to its LAST) in the order sent; with the top bit
 *     of the second byte, the receiver starts unopened (an unordered
 *     stream whose opening frame comes late) and is opened after as many
 *     frames as the third byte says; with bit 6 of the second byte, the
 *     Sequences start at 0xffffff00 and cross the wrap (skipping 0), and
 *     the receiver's window is 768 frames (not a power of two);
 *   odd: the rest is a list of raw 8-byte sub-headers fed to a receiver
 *     as a hostile peer would; whatever comes, a refusal has a reason,
 *     nothing is written twice, the held count and bytes stay true, and
 *     nothing leaks (ASan);
 *   even with bit 1 (2, 6, ...): the peer's flow ids (pseq_idwin): 4
 *     bytes of a base id, then 3-byte records (an offset of 18 bits
 *     from the base, the top bit: the id is seen after the check); every
 *     answer of pseq_idwin_new() must be a literal model's (new iff
 *     above the newest seen, or within 65536 below it and never seen),
 *     across 2^32 when the base is near it.
 *
 * Default build: linked with fuzz_main.c; with clang -fsanitize=fuzzer,
 * build with -DFUNNEL_LIBFUZZER.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/datapath/plugseq.h"
#include "fuzz_main.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_plugseq: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define NFRAMES		512
#define PICK		32
#define WIN		1024

struct sent {
	uint8_t wire[PSEQ_HDR_LEN];
	uint32_t key, inst;	/* its operation, and which instance */
	uint32_t msg;		/* message number in the whole run */
	uint32_t piece;		/* 0: first frame of its message */
	uint32_t inst_msg;	/* message number within the instance */
	uint32_t barrier_before; /* the last barrier message sent before */
	bool barrier;
};

static struct sent fr[NFRAMES + 1];	/* by Sequence, 1.. */
static uint32_t pos[NFRAMES + 1];	/* written at position pos[seq] */
static uint32_t wseq[NFRAMES + 1];	/* the Sequence written at each pos */
static uint32_t base = 1;		/* the first frame's Sequence */

/* The k-th frame's Sequence (1..), skipping 0 on the wrap. */
static uint32_t seq_of(uint32_t k)
{
	uint32_t v = base + (k - 1);

	return v < base ? v + 1 : v;
}

/* Which frame Sequence seq is (1..). */
static uint32_t k_of(uint32_t seq)
{
	return (seq - base) - (seq < base ? 1 : 0) + 1;
}

/* Write a frame (by Sequence) and what it released. */
static void deliver(struct pseq_rx *r, const struct pseq_hdr *h,
		    uint32_t *npos)
{
	char why[PSEQ_WHY_MAX];
	struct pseq_held *f;
	struct pseq_hdr cur = *h;

	for (;;) {
		uint32_t k = k_of(cur.seq);

		check(cur.seq && k >= 1 && k <= NFRAMES);
		check(!pos[k]);
		pos[k] = ++*npos;
		wseq[*npos] = k;
		check(pseq_rx_delivered(r, &cur, why, sizeof(why)) == 0);
		if (pseq_rx_next(r, &f, why, sizeof(why)) != 1)
			break;
		cur = f->h;
		free(f);
	}
}

static void run_sim(const uint8_t *data, size_t size)
{
	static struct pseq_tx tx;
	uint32_t inst_of[8] = { 0 }, inst_n[8] = { 0 }, ninst = 0;
	uint32_t nseq = 0, nmsg = 0, last_barrier = 0, npos = 0;
	size_t i = 0, half = size / 2;
	char why[PSEQ_WHY_MAX];
	bool fed[NFRAMES + 1] = { false };
	bool unopened = size > 1 && (data[0] & 0x80);
	uint32_t open_at = size > 2 ? data[1] : 0;
	bool wrap = size > 1 && (data[0] & 0x40);
	struct pseq_rx r;

	base = wrap ? 0xffffff00U : 1;
	pseq_tx_init(&tx);
	tx.next = base;
	memset(fr, 0, sizeof(fr));
	memset(pos, 0, sizeof(pos));
	for (; i < half; i++) {
		uint8_t b = data[i];
		uint32_t key = b & 7, pieces = 1 + ((b >> 5) & 3);
		unsigned int order = (b >> 3) & 3;

		if (nseq + pieces > NFRAMES)
			break;
		if (!inst_of[key])
			inst_of[key] = ++ninst;
		nmsg++;
		for (uint32_t k = 0; k < pieces; k++) {
			struct pseq_hdr h;
			struct sent *s = &fr[++nseq];

			if (!k)
				pseq_tx_msg(&tx, key, order, pieces > 1, &h);
			else
				pseq_tx_piece(&tx, k + 1 < pieces, &h);
			check(h.seq == seq_of(nseq));
			pseq_hdr_put(s->wire, &h);
			s->key = key;
			s->inst = inst_of[key];
			s->msg = nmsg;
			s->piece = k;
			s->inst_msg = inst_n[key];
			s->barrier = h.barrier || (k && fr[nseq - k].barrier);
			s->barrier_before = last_barrier;
		}
		inst_n[key]++;
		if (fr[nseq].barrier)
			last_barrier = nmsg;
		if ((order & PSEQ_LAST) && !(order & PSEQ_BARRIER)) {
			inst_of[key] = 0;	/* a new instance next */
			inst_n[key] = 0;
		}
	}
	check(!nseq || tx.last == seq_of(nseq));

	pseq_rx_init(&r, wrap ? 768 : WIN);
	r.d = r.top = base - 1;
	if (unopened)
		pseq_rx_unopened(&r);
	for (uint32_t sent = 0; sent <= nseq; sent++) {
		uint32_t first = 0, pick, n = 0;
		struct pseq_hdr h;
		enum pseq_rx_res res;
		struct pseq_held *f;

		if (unopened && (sent == open_at || sent == nseq)) {
			/* the opening frame: what waited for it goes */
			unopened = false;
			pseq_rx_opened(&r);
			if (pseq_rx_next(&r, &f, why, sizeof(why)) == 1) {
				h = f->h;
				free(f);
				deliver(&r, &h, &npos);
			}
		}
		if (sent == nseq)
			break;

		pick = i < size ? data[i++] % PICK : 0;
		for (uint32_t s = 1; s <= nseq && n <= pick; s++) {
			if (!fed[s]) {
				first = s;
				n++;
			}
		}
		check(first);
		fed[first] = true;
		check(pseq_hdr_get(fr[first].wire, PSEQ_HDR_LEN, &h, why,
				   sizeof(why)) == 0);
		res = pseq_rx_input(&r, &h, NULL, 0, why, sizeof(why));
		check(res == PSEQ_RX_DELIVER || res == PSEQ_RX_HOLD);
		if (res == PSEQ_RX_DELIVER)
			deliver(&r, &h, &npos);
	}
	check(npos == nseq);
	check(r.nheld == 0 && !r.held && r.held_bytes == 0);
	check(r.d == (nseq ? seq_of(nseq) : base - 1));

	for (uint32_t s = 1; s <= nseq; s++) {
		struct pseq_hdr h;

		pseq_hdr_get(fr[s].wire, PSEQ_HDR_LEN, &h, why, sizeof(why));
		if (h.after)
			check(pos[k_of(h.seq - h.after)] < pos[s]);
		if (h.barrier)
			for (uint32_t t = 1; t < s; t++)
				check(pos[t] < pos[s]);
		if (fr[s].piece)
			check(pos[s] == pos[s - 1] + 1);
		for (uint32_t t = 1; t < s; t++) {
			/* one operation's messages in order */
			if (fr[t].inst == fr[s].inst && fr[t].msg < fr[s].msg)
				check(pos[t] < pos[s]);
			/* after a barrier that came before */
			if (fr[t].barrier && fr[t].msg <= fr[s].barrier_before)
				check(pos[t] < pos[s]);
		}
	}
	pseq_rx_fini(&r);
}

/* g is in the receiver's table. */
static bool held_ok(const struct pseq_rx *r, const struct pseq_held *g)
{
	const struct pseq_held *x;

	for (x = r->held[g->h.seq & (r->hsize - 1)]; x; x = x->hnext)
		if (x == g)
			return true;
	return false;
}

static void run_raw(const uint8_t *data, size_t size)
{
	bool done[WIN + 2] = { false };
	char why[PSEQ_WHY_MAX];
	struct pseq_rx r;
	uint32_t win = 1 + data[0] % 64;

	pseq_rx_init(&r, win);
	for (size_t i = 1; i < size; i += PSEQ_HDR_LEN) {
		struct pseq_hdr h;
		enum pseq_rx_res res;
		struct pseq_held *f, *g;
		size_t bytes = 0;
		uint32_t n = 0;

		why[0] = '\0';
		if (pseq_hdr_get(data + i, size - i, &h, why, sizeof(why))) {
			check(why[0]);
			break;
		}
		res = pseq_rx_input(&r, &h, data + i, size - i < 4 ? 0 : 4,
				    why, sizeof(why));
		if (res == PSEQ_RX_ERR) {
			check(why[0]);
			break;
		}
		check(res != PSEQ_RX_NOMEM);
		while (res == PSEQ_RX_DELIVER) {
			int k;

			/* Sequences here stay small unless they wrap */
			if (h.seq <= WIN) {
				check(!done[h.seq]);
				done[h.seq] = true;
			}
			if (pseq_rx_delivered(&r, &h, why, sizeof(why))) {
				check(why[0]);
				goto out;
			}
			k = pseq_rx_next(&r, &f, why, sizeof(why));
			if (k < 0) {
				check(why[0]);
				goto out;
			}
			if (!k)
				break;
			h = f->h;
			free(f);
		}
		check(!r.nheld || r.hsize >= 2 * r.nheld ||
		      r.hsize == r.mask + 1);
		for (uint32_t j = 0; r.held && j < r.hsize; j++) {
			for (g = r.held[j]; g; g = g->hnext) {
				n++;
				bytes += g->len;
				check((g->h.seq & (r.hsize - 1)) == j);
				check((int32_t)(g->h.seq - r.d) > 0);
			}
		}
		for (g = r.ready; g; g = g->next)
			check(g->ready && held_ok(&r, g));
		check(n == r.nheld && bytes == r.held_bytes);
	}
out:
	pseq_rx_fini(&r);
}

#define IDSPAN		(1U << 18)

static void run_ids(const uint8_t *data, size_t size)
{
	static uint8_t seen[IDSPAN];	/* by id - base */
	struct pseq_idwin w;
	uint32_t base, top = 0;
	bool any = false;

	if (size < 4)
		return;
	base = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
	       (uint32_t)data[2] << 8 | data[3];
	memset(seen, 0, sizeof(seen));
	pseq_idwin_init(&w);
	for (size_t i = 4; i + 3 <= size; i += 3) {
		uint32_t off = ((uint32_t)data[i] << 16 |
				(uint32_t)data[i + 1] << 8 | data[i + 2]) %
			       IDSPAN;
		uint32_t id = base + off;
		bool want = !any || (int32_t)(id - top) > 0 ||
			    (top - id < PSEQ_IDWIN && !seen[off]);

		check(pseq_idwin_new(&w, id) == want);
		if (data[i] & 0x80) {
			check(pseq_idwin_seen(&w, id) == 0);
			seen[off] = 1;
			if (!any || (int32_t)(id - top) > 0)
				top = id;
			any = true;
			check(!pseq_idwin_new(&w, id));
		}
	}
	pseq_idwin_fini(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		run_raw(data, size);
	else if (data[0] & 2)
		run_ids(data + 1, size - 1);
	else
		run_sim(data + 1, size - 1);
	return 0;
}
