/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Funnel: many UDP/TCP services over one carrier, one stream each.
 */
#ifndef _FUNNEL_H
#define _FUNNEL_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <net/strparser.h>
#include <uapi/linux/funnel.h>

#define FUNNEL_NSTATS (FUNNEL_A_STATS_MAX + 1)

/* Counters, indexed by FUNNEL_A_STATS_* so a dump is one loop. */
struct funnel_stats {
	atomic64_t v[FUNNEL_NSTATS];
};

static inline void funnel_stat_add(struct funnel_stats *s, int idx, u64 n)
{
	atomic64_add(n, &s->v[idx]);
}

static inline void funnel_stat_inc(struct funnel_stats *s, int idx)
{
	atomic64_inc(&s->v[idx]);
}

/* Per-socket state of the "funnel" ULP. */
struct funnel_sock {
	struct sock *sk;
	struct strparser strp;
	struct proto *sk_proto;			/* the socket's TCP proto */
	const struct proto_ops *sk_ops;		/* and its socket ops */

	/* frames for recvmsg(), charged to sk_rmem_alloc */
	struct sk_buff_head rxq;
	atomic_t rx_queued;			/* truesize of rxq */

	/* frames to send, in order; tx_partial is the one frame on the
	 * wire right now, resumed at tx_off when TCP has room again
	 */
	struct sk_buff_head txq;
	struct sk_buff *tx_partial;
	int tx_off;
	atomic_t tx_queued;			/* bytes in txq */
	struct work_struct tx_work;
	bool closing;

	/* carrier registration (carrier.c); id 0: not a carrier */
	struct net *net;
	u32 carrier_id;
	u32 down_reason;			/* enum funnel_down_reason */
	struct work_struct down_work;
	struct funnel_stats stats;

	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_destruct)(struct sock *sk);
};

struct funnel_sock *funnel_sk(const struct sock *sk);
bool funnel_sk_is_ulp(const struct sock *sk);
int funnel_ulp_init(void);
void funnel_ulp_exit(void);

/* carrier.c: the per-netns table of registered carriers */
struct funnel_net {
	struct mutex lock;		/* protects carriers */
	struct xarray carriers;		/* id -> struct funnel_sock */
};

struct funnel_net *funnel_pernet(const struct net *net);
int funnel_carrier_register(struct funnel_sock *fs, u32 *id);
void funnel_carrier_unregister(struct funnel_sock *fs, u32 reason);
int funnel_carrier_del(struct net *net, u32 id, u32 reason);
void funnel_carrier_down_work(struct work_struct *work);
int funnel_carrier_init(void);
void funnel_carrier_exit(void);

/* netlink.c */
int funnel_nl_init(void);
void funnel_nl_exit(void);
void funnel_nl_notify_down(struct net *net, u32 carrier_id, u32 reason);
int funnel_nl_fill_carrier(struct sk_buff *msg, struct funnel_sock *fs,
			   u32 portid, u32 seq, int flags);

#endif /* _FUNNEL_H */
