// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of funneld's TCP relays (ctl/funneld/carrier/relay_tcp.c,
 * Documentation/switchbox.md section 5) against two fake carriers: hop 0
 * (the client P) and hop 1 (the next hop H), both with windows and
 * origins.  The frames the relay sends are recorded per hop; a hop's
 * carrier can be made to refuse frames (full, or waiting for a key):
 *
 *   - a flow opens at H with P's origin; bytes go on in order, FIN
 *     follows them, and the flow is freed once both ends ended
 *   - a carrier that refuses frames: nothing lost, duplicated or
 *     reordered when it takes them again, also when the carriers resume
 *     the relay from within its own sends (car_flush()); flows open at
 *     H in P's order, one reset before its opening went never does
 *   - a hop that sends past its credit gets its flow reset both ways
 *   - WINDOW: credit for a flow unknown changes nothing; the largest
 *     grants many times only add up
 *   - the flows of a relay count in P's carrier's and the daemon's flow
 *     budget (the userspace path's): past it a new flow is refused with
 *     a reset, and one freed gives its place back
 *   - both windows of a flow are P's carrier's, none the carrier to H's
 *     (shared by every client); a direction that ended gives its window
 *     back to the budget
 *   - the pair freed with frames and flows waiting (ASan: no leak)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include "common/origin.h"
#include "funneld/carrier/priv.h"
#include "funneld/datapath/tpath.h"

/* ---- the fakes relay_tcp.c calls ---- */

#define SENT_MAX	4096

struct sent {
	int hop;
	uint8_t type, flags;
	uint32_t flow;
	size_t len;
};

static struct daemon dmn;
static struct carrier car[2];
static struct cstream cst[2];
static struct service svc;
static struct sent sent[SENT_MAX];
static unsigned int nsent;
static bool refuse[2];
/* bytes each hop received, per flow (flows 1..7), in order */
static uint8_t got[2][8][1 << 20];
static size_t got_len[2][8];
static uint64_t granted[2][8];
static uint64_t now;
/* as car_flush() does: a carrier that took a frame resumes its streams */
static bool nest;
static unsigned int nesting;

uint64_t loop_now_ms(void)
{
	return now;
}

uint32_t car_features(const struct carrier *c)
{
	(void)c;
	return CTRL_FEAT_WINDOW | CTRL_FEAT_ORIGIN;
}

int car_tpath_send(void *arg, const uint8_t *frame, size_t len)
{
	struct cstream *cs = arg;
	int hop = cs == &cst[1];
	struct funnel_frame f;
	struct sent *s;

	if (refuse[hop])
		return -1;
	assert_int_equal(funnel_frame_parse(frame, len, &f), FUNNEL_FRAME_OK);
	assert_true(nsent < SENT_MAX);
	s = &sent[nsent++];
	s->hop = hop;
	s->type = f.type;
	s->flags = f.flags;
	s->flow = f.flow;
	s->len = f.body_len;
	if (f.type == FUNNEL_T_DATA && f.flow < 8) {
		assert_true(got_len[hop][f.flow] + f.body_len <=
			    sizeof(got[hop][f.flow]));
		memcpy(got[hop][f.flow] + got_len[hop][f.flow], f.body,
		       f.body_len);
		got_len[hop][f.flow] += f.body_len;
	}
	if (nest && nesting < 8) {
		nesting++;
		rtcp_resume(&cst[hop]);
		nesting--;
	}
	return 0;
}

void car_tpath_grant(void *arg, uint32_t flow, uint32_t bytes)
{
	struct cstream *cs = arg;

	if (flow < 8)
		granted[cs == &cst[1]][flow] += bytes;
	if (nest && nesting < 8) {
		nesting++;
		rtcp_resume(cs);
		rtcp_resume(&cst[cs != &cst[1]]);
		nesting--;
	}
}

/* ---- helpers ---- */

static int setup(void **state)
{
	(void)state;
	memset(&dmn, 0, sizeof(dmn));
	memset(car, 0, sizeof(car));
	memset(cst, 0, sizeof(cst));
	memset(&svc, 0, sizeof(svc));
	memset(got_len, 0, sizeof(got_len));
	memset(granted, 0, sizeof(granted));
	nsent = 0;
	nest = false;
	refuse[0] = refuse[1] = false;
	now = 1000;
	dmn.tcp_window = 256 << 10;
	dmn.tcp_resv.max = dmn.tcp_buf.max = 64 << 20;
	dmn.flows.max = 100;
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in *a = (void *)&car[i].remote;
		struct sockaddr_in *b = (void *)&car[i].local;

		car[i].d = &dmn;
		car[i].peer_features = CTRL_FEAT_WINDOW | CTRL_FEAT_ORIGIN;
		car[i].tcp_resv.max = car[i].tcp_buf.max = 16 << 20;
		car[i].tcp_resv.parent = &dmn.tcp_resv;
		car[i].tcp_buf.parent = &dmn.tcp_buf;
		car[i].flows.max = 100;
		car[i].flows.parent = &dmn.flows;
		a->sin_family = b->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(0x7f000001);
		b->sin_addr.s_addr = htonl(0x7f000001);
		a->sin_port = htons(40000);
		b->sin_port = htons(5000);
		cst[i].car = &car[i];
		cst[i].id = (uint16_t)(10 + i);
		cst[i].proto = IPPROTO_TCP;
		cst[i].rsvc = &svc;
	}

	assert_int_equal(rtcp_new(&cst[0], &cst[1]), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rtcp_free(cst[0].rtcp);
	assert_null(cst[0].rtcp);
	assert_null(cst[1].rtcp);
	/* everything given back */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(car[i].tcp_resv.used, 0);
		assert_int_equal(car[i].tcp_buf.used, 0);
		assert_int_equal(car[i].flows.count, 0);
	}
	assert_int_equal(dmn.tcp_resv.used, 0);
	assert_int_equal(dmn.flows.count, 0);
	return 0;
}

static void frame_in(int hop, uint8_t type, uint8_t flags, uint32_t flow,
		     const uint8_t *body, size_t len)
{
	struct funnel_frame f = {
		.stream = cst[hop].id, .type = type, .flags = flags,
		.flow = flow, .body = body, .body_len = len,
	};

	rtcp_frame(&cst[hop], &f);
}

/* P opens flow id with an IPv4 origin. */
static void open_flow(uint32_t id)
{
	uint8_t o[ORIGIN_LEN_MAX];
	struct sockaddr_in s = { .sin_family = AF_INET,
				 .sin_port = htons(12345) };
	struct sockaddr_in d = { .sin_family = AF_INET,
				 .sin_port = htons(389) };
	int n;

	s.sin_addr.s_addr = htonl(0xc0000201);
	d.sin_addr.s_addr = htonl(0xc0000202);
	n = origin_encode((struct sockaddr *)&s, (struct sockaddr *)&d, o);
	assert_int_equal(n, ORIGIN_LEN_V4);
	frame_in(0, FUNNEL_T_DATA, 0, id, o, (size_t)n);
}

static void data_in(int hop, uint32_t flow, const uint8_t *p, size_t len)
{
	while (len) {
		size_t n = len > 1000 ? 1000 : len;

		frame_in(hop, FUNNEL_T_DATA, 0, flow, p, n);
		p += n;
		len -= n;
	}
}

/* The frames of a type (and flags) sent to hop for flow. */
static unsigned int count(int hop, uint8_t type, uint8_t flags,
			  uint32_t flow)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < nsent; k++)
		if (sent[k].hop == hop && sent[k].type == type &&
		    sent[k].flags == flags && sent[k].flow == flow)
			n++;
	return n;
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(k * 7 + seed + (k >> 8));
}

/* ---- tests ---- */

static void test_open_data_fin(void **state)
{
	static uint8_t buf[100000];

	(void)state;
	pattern(buf, sizeof(buf), 1);
	open_flow(1);
	assert_int_equal(rtcp_nflows(&cst[0]), 1);
	/* the opening frame: the origin, to H */
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].hop, 1);
	assert_int_equal(sent[0].len, ORIGIN_LEN_V4);
	got_len[1][1] = 0;
	data_in(0, 1, buf, 60000);
	assert_int_equal(got_len[1][1], 60000);
	assert_memory_equal(got[1][1], buf, 60000);
	/* P had its bytes granted back, a quarter window at a time */
	assert_true(granted[0][1] >= 60000 - (TPATH_WINDOW_INIT / 4));
	/* H answers, then both FIN */
	data_in(1, 1, buf + 100, 5000);
	assert_int_equal(got_len[0][1], 5000);
	assert_memory_equal(got[0][1], buf + 100, 5000);
	frame_in(0, FUNNEL_T_FLOW_END, 0, 1, NULL, 0);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, 0, 1), 1);
	assert_int_equal(rtcp_nflows(&cst[0]), 1);
	frame_in(1, FUNNEL_T_FLOW_END, 0, 1, NULL, 0);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, 0, 1), 1);
	assert_int_equal(rtcp_nflows(&cst[0]), 0);
	/* a late frame of the flow: dropped, nothing sent */
	nsent = 0;
	data_in(0, 1, buf, 10);
	assert_int_equal(nsent, 0);
}

/*
 * H's carrier refuses frames while P sends; once it takes them, every
 * byte went once, in order, then the FIN; P was never granted more than
 * went on.
 */
static void test_refused_then_resumed(void **state)
{
	static uint8_t buf[TPATH_WINDOW_INIT];

	(void)state;
	pattern(buf, sizeof(buf), 3);
	open_flow(1);
	open_flow(2);
	got_len[1][1] = got_len[1][2] = 0;	/* the origins */
	refuse[1] = true;
	data_in(0, 1, buf, 30000);
	data_in(0, 2, buf + 5, 20000);
	frame_in(0, FUNNEL_T_FLOW_END, 0, 1, NULL, 0);
	assert_int_equal(got_len[1][1], 0);
	assert_int_equal(granted[0][1], 0);
	assert_int_equal(rtcp_queued(&cst[0]), 50000);
	/* resumed a few times, refused again in the middle */
	for (int round = 0; round < 3; round++) {
		refuse[1] = false;
		data_in(0, 2, buf + 5 + 20000 + 1000 * round, 1000);
		refuse[1] = true;
		rtcp_resume(&cst[1]);
	}
	refuse[1] = false;
	rtcp_resume(&cst[1]);
	assert_int_equal(got_len[1][1], 30000);
	assert_memory_equal(got[1][1], buf, 30000);
	assert_int_equal(got_len[1][2], 23000);
	assert_memory_equal(got[1][2], buf + 5, 23000);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, 0, 1), 1);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, 0, 2), 0);
	/* the FIN after flow 1's last byte */
	for (int k = (int)nsent - 1; k >= 0; k--) {
		if (sent[k].flow != 1 || sent[k].hop != 1)
			continue;
		assert_int_equal(sent[k].type, FUNNEL_T_FLOW_END);
		break;
	}
	assert_int_equal(rtcp_queued(&cst[0]), 0);
}

/* The same with the carriers resuming the relay from within its sends. */
static void test_refused_nested(void **state)
{
	nest = true;
	test_refused_then_resumed(state);
}

/*
 * Openings wait behind each other for a full carrier: H hears of the
 * flows in P's order; a flow P resets before its opening went is never
 * heard of at H.
 */
static void test_open_order(void **state)
{
	static uint8_t buf[1000];
	unsigned int k, first = 0, second = 0;

	(void)state;
	refuse[1] = true;
	open_flow(1);
	open_flow(2);
	open_flow(3);
	data_in(0, 3, buf, sizeof(buf));
	data_in(0, 1, buf, sizeof(buf));
	frame_in(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 2, NULL, 0);
	refuse[1] = false;
	rtcp_resume(&cst[1]);
	for (k = 0; k < nsent; k++) {
		if (sent[k].hop != 1 || sent[k].type != FUNNEL_T_DATA ||
		    sent[k].len != ORIGIN_LEN_V4)
			continue;
		if (sent[k].flow == 1)
			first = k + 1;
		if (sent[k].flow == 3)
			second = k + 1;
	}
	assert_true(first && second && first < second);
	assert_int_equal(count(1, FUNNEL_T_DATA, 0, 2), 0);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 2), 0);
	assert_int_equal(got_len[1][1], ORIGIN_LEN_V4 + sizeof(buf));
	assert_int_equal(got_len[1][3], ORIGIN_LEN_V4 + sizeof(buf));
	assert_int_equal(rtcp_nflows(&cst[0]), 2);
}

/* P sends past its credit: the flow is reset both ways. */
static void test_past_credit_p(void **state)
{
	static uint8_t buf[TPATH_WINDOW_INIT + 1];

	(void)state;
	open_flow(1);
	refuse[1] = true;	/* nothing goes on: nothing granted back */
	data_in(0, 1, buf, TPATH_WINDOW_INIT);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 0);
	frame_in(0, FUNNEL_T_DATA, 0, 1, buf, 1);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 1);
	/* H heard of the flow (its opening went), so it hears the reset
	 * once its carrier takes frames again, and no byte before it
	 */
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 0);
	refuse[1] = false;
	rtcp_resume(&cst[1]);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 1);
	assert_int_equal(got_len[1][1], ORIGIN_LEN_V4);
	assert_int_equal(rtcp_nflows(&cst[0]), 0);
	assert_int_equal(rtcp_queued(&cst[0]), 0);
}

/* H sends past its credit (P reads nothing): reset both ways. */
static void test_past_credit_h(void **state)
{
	static uint8_t buf[TPATH_WINDOW_INIT + 1];

	(void)state;
	open_flow(1);
	refuse[0] = true;
	data_in(1, 1, buf, TPATH_WINDOW_INIT);
	frame_in(1, FUNNEL_T_DATA, 0, 1, buf, 1);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 1);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 0);
	refuse[0] = false;
	rtcp_resume(&cst[0]);
	assert_int_equal(got_len[0][1], 0);	/* no byte before it */
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 1);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1), 1);
	assert_int_equal(rtcp_nflows(&cst[0]), 0);
}

/*
 * H's WINDOW: for a flow unknown, nothing; the largest ones, many times:
 * the credit only adds up (2^64 would take 2^32 of them: the saturation
 * itself is not reached here), and bytes keep going on.
 */
static void test_window(void **state)
{
	static uint8_t buf[20000];

	(void)state;
	rtcp_window(&cst[1], 77, 1000);		/* no such flow */
	assert_int_equal(nsent, 0);
	open_flow(1);
	got_len[1][1] = 0;
	for (int k = 0; k < 40; k++) {
		rtcp_window(&cst[1], 1, UINT32_MAX);
		now += 1;
		data_in(0, 1, buf, sizeof(buf));
	}
	assert_int_equal(got_len[1][1], 40 * sizeof(buf));
	assert_int_equal(rtcp_queued(&cst[0]), 0);
	/* P's window grew, in P's carrier's budget only */
	assert_true(car[0].tcp_resv.used > 2 * TPATH_WINDOW_INIT);
	assert_int_equal(car[1].tcp_resv.used, 0);
}

/* The relay's flows count in P's carrier's flow budget. */
static void test_flow_budget(void **state)
{
	(void)state;
	car[0].flows.max = 2;
	open_flow(1);
	open_flow(2);
	assert_int_equal(rtcp_nflows(&cst[0]), 2);
	assert_int_equal(car[0].flows.count, 2);
	assert_int_equal(dmn.flows.count, 2);
	open_flow(3);
	assert_int_equal(rtcp_nflows(&cst[0]), 2);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 3), 1);
	assert_int_equal(count(1, FUNNEL_T_DATA, 0, 3), 0);
	/* flow 1 reset by P: its place is free again */
	frame_in(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 1, NULL, 0);
	assert_int_equal(car[0].flows.count, 1);
	open_flow(4);
	assert_int_equal(rtcp_nflows(&cst[0]), 2);
	assert_int_equal(count(1, FUNNEL_T_DATA, 0, 4), 1);
	/* the daemon's budget too */
	car[0].flows.max = 100;
	dmn.flows.max = 2;
	open_flow(5);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 5), 1);
}

/*
 * Both windows of a flow are P's carrier's: the carrier to H, shared by
 * every client, holds nothing of them.  A direction that ended (its FIN
 * sent on) gives its window back at once.
 */
static void test_window_back(void **state)
{
	static uint8_t buf[20000];

	(void)state;
	open_flow(1);
	assert_int_equal(car[0].tcp_resv.used, 2 * TPATH_WINDOW_INIT);
	assert_int_equal(car[1].tcp_resv.used, 0);
	/* H's answers waiting for P: charged to P's carrier too */
	refuse[0] = true;
	data_in(1, 1, buf, sizeof(buf));
	assert_int_equal(car[0].tcp_buf.used, sizeof(buf));
	assert_int_equal(car[1].tcp_buf.used, 0);
	refuse[0] = false;
	rtcp_resume(&cst[0]);
	assert_int_equal(car[0].tcp_buf.used, 0);
	frame_in(0, FUNNEL_T_FLOW_END, 0, 1, NULL, 0);
	assert_int_equal(count(1, FUNNEL_T_FLOW_END, 0, 1), 1);
	assert_int_equal(car[0].tcp_resv.used, TPATH_WINDOW_INIT);
	assert_int_equal(car[1].tcp_resv.used, 0);
	/* P's carrier out of room for two windows: a reset to P */
	car[0].tcp_resv.max = 2 * TPATH_WINDOW_INIT;
	open_flow(2);
	assert_int_equal(count(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 2), 1);
	assert_int_equal(count(1, FUNNEL_T_DATA, 0, 2), 0);
}

/* byte off of flow's direction dir (from hop dir) */
static uint8_t pat(uint32_t flow, int dir, uint64_t off)
{
	return (uint8_t)(off * 131 + flow * 17 + (unsigned int)dir * 5 +
			 (off >> 9));
}

/*
 * Random runs: 7 flows, both hops sending within their credit (and now
 * and then past it), granting what they took, ending with FIN or reset;
 * carriers refusing and resuming, with and without nesting.  Each hop
 * gets a prefix of what the other sent, in order, once; everything once
 * FIN came (no reset); nothing held once all ended.
 */
static void test_random(void **state)
{
	static uint8_t buf[4000];

	(void)state;
	for (unsigned int seed = 1; seed <= 40; seed++) {
		uint64_t sent_b[8][2] = { { 0 } }, credit[8][2];
		uint64_t took[8][2] = { { 0 } };
		bool fin[8][2] = { { false } }, rst[8] = { false };
		bool cheat[8] = { false };
		uint32_t opened = 0;

		setup(NULL);
		srandom(seed);
		nest = seed & 1;
		for (int f = 0; f < 8; f++)
			credit[f][0] = credit[f][1] = TPATH_WINDOW_INIT;
		for (int step = 0; step < 3000; step++) {
			int r = (int)(random() % 100);
			uint32_t f = 1 + (uint32_t)(random() % 7);
			int h = (int)(random() % 2);

			if (f > opened) {
				if (opened < 7)
					open_flow(++opened);
				continue;
			}
			if (r < 55 && !fin[f][h] && !rst[f]) {
				size_t n = 1 + (size_t)(random() % sizeof(buf));
				uint64_t have = credit[f][h] + granted[h][f] -
						sent_b[f][h];

				if (sent_b[f][h] + n > 900000)
					continue;
				if (n > have) {
					if (random() % 50)
						n = (size_t)have;
					else
						cheat[f] = true;
				}
				if (!n)
					continue;
				for (size_t k = 0; k < n; k++)
					buf[k] = pat(f, h, sent_b[f][h] + k);
				frame_in(h, FUNNEL_T_DATA, 0, f, buf, n);
				sent_b[f][h] += n;
			} else if (r < 70) {
				/* hop h takes and grants what came to it */
				uint64_t g = got_len[h][f] -
					     (h ? ORIGIN_LEN_V4 : 0);

				if (got_len[h][f] >= (h ? ORIGIN_LEN_V4 : 0U) &&
				    g > took[f][h]) {
					rtcp_window(&cst[h], f,
						    (uint32_t)(g - took[f][h]));
					took[f][h] = g;
				}
			} else if (r < 80) {
				refuse[h] = !refuse[h];
				if (!refuse[h])
					rtcp_resume(&cst[h]);
			} else if (r < 83 && !fin[f][h] && !rst[f]) {
				frame_in(h, FUNNEL_T_FLOW_END, 0, f, NULL, 0);
				fin[f][h] = true;
			} else if (r < 84 && !rst[f]) {
				frame_in(h, FUNNEL_T_FLOW_END, FUNNEL_F_RESET,
					 f, NULL, 0);
				rst[f] = true;
			} else {
				now += (uint64_t)(random() % 20);
			}
		}
		refuse[0] = refuse[1] = false;
		rtcp_resume(&cst[0]);
		rtcp_resume(&cst[1]);
		for (uint32_t f = 1; f <= opened; f++) {
			for (int h = 0; h < 2; h++) {
				/* what hop !h got of what hop h sent */
				int j = !h;
				size_t off = j ? ORIGIN_LEN_V4 : 0;
				bool reset = count(h, FUNNEL_T_FLOW_END,
						   FUNNEL_F_RESET, f) ||
					     count(j, FUNNEL_T_FLOW_END,
						   FUNNEL_F_RESET, f);

				if (j == 1 && got_len[j][f] < off) {
					/* never opened at H: reset first */
					assert_true(rst[f] || cheat[f]);
					continue;
				}
				assert_true(got_len[j][f] - off <= sent_b[f][h]);
				for (size_t k = off; k < got_len[j][f]; k++)
					if (got[j][f][k] != pat(f, h, k - off))
						fail_msg("seed %u flow %u hop %d: byte %zu",
							 seed, f, h, k - off);
				assert_true(count(j, FUNNEL_T_FLOW_END, 0, f) <= 1);
				if (count(j, FUNNEL_T_FLOW_END, 0, f) &&
				    !reset)
					assert_int_equal(got_len[j][f] - off,
							 sent_b[f][h]);
				if (fin[f][h] && !reset && !rst[f] &&
				    !cheat[f])
					assert_int_equal(count(j, FUNNEL_T_FLOW_END,
							       0, f), 1);
			}
		}
		teardown(NULL);
	}
}

/* The pair goes with bytes and flows waiting: nothing leaks. */
static void test_free_with_queued(void **state)
{
	static uint8_t buf[40000];

	(void)state;
	open_flow(1);
	open_flow(2);
	refuse[0] = refuse[1] = true;
	data_in(0, 1, buf, sizeof(buf));
	data_in(1, 2, buf, sizeof(buf));
	frame_in(0, FUNNEL_T_FLOW_END, FUNNEL_F_RESET, 2, NULL, 0);
	open_flow(3);
	assert_true(rtcp_queued(&cst[0]) > 0);
	/* teardown frees it all and checks the budgets */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_data_fin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_then_resumed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_nested, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_past_credit_p, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_past_credit_h, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_with_queued, setup,
						teardown),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
