// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel streams of a carrier and the UDP flows of each stream.
 *
 * Streams hang off their carrier in an xarray that the receive path reads
 * under RCU; they are added and removed under the netns's funnel_net.lock.
 * Flows live in hash tables of their stream (by flow id, and on udp-listen
 * streams also by client address), read under RCU and changed under the
 * stream's flow_lock, from softirq (a new flow) and from the stream's
 * works (expiry, teardown).
 *
 * A flow is referenced by its hash entry and, while its socket is being
 * created, by the stream's connecting list.  The last reference clears
 * the socket's user data; the socket and the memory go after an RCU grace
 * period, in process context (rcu_work).  A stream is torn down the same
 * way: unpublish, then free after a grace period.
 */
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "funnel.h"

/*
 * Flow limits beyond each stream's flow-max: a carrier's streams and a
 * netns's carriers share these, so a peer or the senders on a listening
 * port cannot take more than this of the kernel's memory and, on the
 * server side, of its ephemeral ports (a socket per flow).
 */
static unsigned int carrier_flows_max = 16384;
module_param(carrier_flows_max, uint, 0644);
MODULE_PARM_DESC(carrier_flows_max,
		 "most UDP flows of all streams of one carrier (default 16384)");

static unsigned int netns_flows_max = 65536;
module_param(netns_flows_max, uint, 0644);
MODULE_PARM_DESC(netns_flows_max,
		 "most UDP flows of all carriers of one network namespace (default 65536)");

u32 funnel_carrier_flows_max(void)
{
	return READ_ONCE(carrier_flows_max);
}

u32 funnel_netns_flows_max(void)
{
	return READ_ONCE(netns_flows_max);
}

static u32 funnel_id_hash(const struct funnel_stream *st, u32 id)
{
	return hash_32(id ^ st->hash_seed, st->hash_bits);
}

static u32 funnel_addr_hash(const struct funnel_stream *st,
			    const struct funnel_addr *a)
{
	u32 h;

	if (a->family == AF_INET)
		h = jhash_2words((__force u32)a->v4, (__force u32)a->port,
				 st->hash_seed);
	else
		h = jhash2((__force const u32 *)a->v6.s6_addr32, 4,
			   st->hash_seed ^ (__force u32)a->port);
	return h & ((1U << st->hash_bits) - 1);
}

static bool funnel_addr_eq(const struct funnel_addr *a,
			   const struct funnel_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	return ipv6_addr_equal(&a->v6, &b->v6);
}

unsigned int funnel_flow_buckets(const struct funnel_stream *st)
{
	return st->by_id ? 1U << st->hash_bits : 0;
}

u32 funnel_flow_idle_ms(const struct funnel_flow *flow)
{
	return jiffies_to_msecs(jiffies - READ_ONCE(flow->last_used));
}

/* ---- flows ---- */

struct funnel_flow *funnel_flow_lookup_id(struct funnel_stream *st, u32 id)
{
	struct funnel_flow *flow;

	hlist_for_each_entry_rcu(flow, &st->by_id[funnel_id_hash(st, id)],
				 id_node, lockdep_is_held(&st->flow_lock))
		if (flow->id == id)
			return flow;
	return NULL;
}

struct funnel_flow *funnel_flow_lookup_addr(struct funnel_stream *st,
					    const struct funnel_addr *a)
{
	struct funnel_flow *flow;

	hlist_for_each_entry_rcu(flow, &st->by_addr[funnel_addr_hash(st, a)],
				 addr_node, lockdep_is_held(&st->flow_lock))
		if (funnel_addr_eq(&flow->peer, a))
			return flow;
	return NULL;
}

/* Move the datagrams a flow holds to q (may be NULL: they are dropped)
 * and give their bytes back to the netns.  Returns how many there were.
 */
static unsigned int funnel_flow_take_pending(struct funnel_flow *flow,
					     struct sk_buff_head *q)
{
	struct sk_buff_head drop;
	unsigned int n;

	__skb_queue_head_init(&drop);
	spin_lock_bh(&flow->pending.lock);
	n = skb_queue_len(&flow->pending);
	skb_queue_splice_init(&flow->pending, q ?: &drop);
	atomic_sub(flow->pending_bytes, &flow->fn->pending_bytes);
	flow->pending_bytes = 0;
	spin_unlock_bh(&flow->pending.lock);
	__skb_queue_purge(&drop);
	return n;
}

static void funnel_flow_free_work(struct work_struct *work)
{
	struct funnel_flow *flow = container_of(to_rcu_work(work),
						struct funnel_flow, free_work);

	if (flow->sock)
		funnel_udp_sock_close(flow->sock);
	funnel_flow_take_pending(flow, NULL);
	funnel_flow_dst_free(flow);
	kfree(flow);
}

static void funnel_flow_put(struct funnel_flow *flow)
{
	if (!refcount_dec_and_test(&flow->ref))
		return;
	/* nobody may find the flow through its socket any more */
	if (flow->sock)
		rcu_assign_sk_user_data(flow->sock->sk, NULL);
	queue_rcu_work(funnel_workqueue(), &flow->free_work);
}

/* Take the flow out of the hash tables and out of the counts of its
 * stream, carrier and netns.  flow_lock held.
 */
static void funnel_flow_unlink(struct funnel_stream *st,
			       struct funnel_flow *flow)
{
	lockdep_assert_held(&st->flow_lock);
	hlist_del_rcu(&flow->id_node);
	if (st->by_addr)
		hlist_del_rcu(&flow->addr_node);
	flow->unlinked = true;
	st->nflows--;
	atomic_dec(&st->fs->nflows);
	atomic_dec(&flow->fn->nflows);
}

/* Count a new flow on its carrier and netns, within their limits. */
static bool funnel_flow_charge(struct funnel_stream *st, struct funnel_net *fn)
{
	if (atomic_inc_return(&st->fs->nflows) > funnel_carrier_flows_max())
		goto undo_carrier;
	if (atomic_inc_return(&fn->nflows) > funnel_netns_flows_max())
		goto undo_netns;
	return true;

undo_netns:
	atomic_dec(&fn->nflows);
undo_carrier:
	atomic_dec(&st->fs->nflows);
	return false;
}

/*
 * A flow to make room for a new one at a flow limit: the one idle longest
 * of the first FUNNEL_FLOW_EVICT_SAMPLE flows found that have been idle
 * at least FUNNEL_FLOW_EVICT_IDLE_MS (or a quarter of the idle timeout),
 * looking at no more than FUNNEL_FLOW_EVICT_LOOK flows in
 * FUNNEL_FLOW_EVICT_SCAN hash buckets from the stream's eviction cursor.
 * The cursor goes round the table from one call to the next, as a clock
 * hand does, so the cost per new source stays bounded, busy flows met
 * first do not hide an idle one behind them, and a sparse table (a
 * stream below its own flow-max at the carrier's or the netns's limit)
 * is still covered.  NULL if no flow qualifies.  flow_lock held.
 */
static struct funnel_flow *funnel_flow_victim(struct funnel_stream *st)
{
	unsigned int mask = funnel_flow_buckets(st) - 1, seen = 0, found = 0;
	unsigned long min_idle, idle, best_idle = 0;
	struct funnel_flow *flow, *best = NULL;
	unsigned int i;

	min_idle = msecs_to_jiffies(min_t(u32, FUNNEL_FLOW_EVICT_IDLE_MS,
					  st->flow_idle_ms / 4));
	for (i = 0; i <= mask && i < FUNNEL_FLOW_EVICT_SCAN &&
	     seen < FUNNEL_FLOW_EVICT_LOOK &&
	     found < FUNNEL_FLOW_EVICT_SAMPLE; i++) {
		hlist_for_each_entry(flow, &st->by_id[st->evict_cursor & mask],
				     id_node) {
			seen++;
			idle = jiffies - READ_ONCE(flow->last_used);
			/* not one whose socket is being made */
			if (!list_empty(&flow->list) || idle < min_idle)
				continue;
			found++;
			if (idle >= best_idle) {
				best = flow;
				best_idle = idle;
			}
		}
		st->evict_cursor++;
	}
	return best;
}

/*
 * Room for a new flow of st: within its flow-max and the limits of its
 * carrier and netns.  Either side evicts an idle flow for it if it must
 * (*victim, unlinked: the caller ends it and tells the peer).  The server
 * side (udp-connect) evicts too: its peer's FLOW_END for a flow it evicted
 * may have been lost with the carrier, and a datagram for an evicted flow
 * id only makes the flow again.  A flow whose socket is still being made
 * is never chosen.  flow_lock held.
 */
static bool funnel_flow_admit(struct funnel_stream *st, struct funnel_net *fn,
			      struct funnel_flow **victim)
{
	*victim = NULL;
	if (st->nflows < st->flow_max && funnel_flow_charge(st, fn))
		return true;
	if (!st->nflows)
		return false;
	*victim = funnel_flow_victim(st);
	if (!*victim)
		return false;
	funnel_flow_unlink(st, *victim);
	return st->nflows < st->flow_max && funnel_flow_charge(st, fn);
}

static void funnel_gc_schedule(struct funnel_stream *st)
{
	unsigned long delay;

	/* idle/4, within [20 ms, 1 s]: a flow goes between idle and
	 * idle + delay after its last datagram
	 */
	delay = msecs_to_jiffies(clamp_t(u32, st->flow_idle_ms / 4, 20, 1000));
	queue_delayed_work(funnel_workqueue(), &st->gc_work, delay);
}

static void funnel_flow_limit(struct funnel_stream *st, bool *notify)
{
	funnel_stream_count(st, FUNNEL_A_STATS_FLOW_DROP_LIMIT);
	/* at most one notification per second and stream */
	if (!st->limit_ntf_at || time_after(jiffies, st->limit_ntf_at + HZ)) {
		st->limit_ntf_at = jiffies ?: 1;
		*notify = true;
	}
}

static void funnel_flow_end_send(struct funnel_stream *st, u32 id, gfp_t gfp);

/*
 * The flow for id on a udp-connect stream, or for the client address peer
 * (sent to local) on a udp-listen stream: the existing one, or a new one
 * within the flow limits (funnel_flow_admit()).  A new udp-connect flow
 * gets its socket from a work item.  The flow's memory is charged to the
 * memory cgroup of the carrier's socket.  Any context; the caller holds
 * the RCU read lock.  Returns an ERR_PTR: -ENOSPC at a flow limit
 * (counted here), -ENOMEM, -ESHUTDOWN.
 */
struct funnel_flow *funnel_flow_get(struct funnel_stream *st, u32 id,
				    const struct funnel_addr *peer,
				    const struct funnel_addr *local)
{
	struct funnel_net *fn = funnel_pernet(st->net);
	struct funnel_flow *flow, *old, *victim = NULL;
	struct mem_cgroup *memcg;
	bool notify = false;
	int err = 0;

	memcg = set_active_memcg(funnel_memcg(st->fs));
	/* not GFP_ATOMIC: its __GFP_HIGH would charge past memory.max */
	flow = kzalloc(sizeof(*flow), GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT);
	set_active_memcg(memcg);
	if (!flow)
		return ERR_PTR(-ENOMEM);
	refcount_set(&flow->ref, 1);
	flow->st = st;
	flow->fn = fn;
	skb_queue_head_init(&flow->pending);
	INIT_LIST_HEAD(&flow->list);
	INIT_RCU_WORK(&flow->free_work, funnel_flow_free_work);
	flow->last_used = jiffies;
	flow->peer = *peer;
	if (local)
		flow->local = *local;

	spin_lock_bh(&st->flow_lock);
	old = id ? funnel_flow_lookup_id(st, id) :
		   funnel_flow_lookup_addr(st, peer);
	if (old) {			/* created meanwhile on another CPU */
		spin_unlock_bh(&st->flow_lock);
		kfree(flow);		/* never seen: no route cached */
		return old;
	}
	if (st->dead) {
		err = -ESHUTDOWN;
		goto out_unlock;
	}
	if (!funnel_flow_admit(st, fn, &victim)) {
		funnel_flow_limit(st, &notify);
		err = -ENOSPC;
		goto out_unlock;
	}

	if (!id) {
		/* the client side numbers its flows; skip 0 and live ids */
		do {
			id = st->next_flow_id++;
		} while (!id || funnel_flow_lookup_id(st, id));
	}
	flow->id = id;
	hlist_add_head_rcu(&flow->id_node, &st->by_id[funnel_id_hash(st, id)]);
	if (st->by_addr)
		hlist_add_head_rcu(&flow->addr_node,
				   &st->by_addr[funnel_addr_hash(st, peer)]);
	st->nflows++;
	if (st->kind == FUNNEL_STREAM_UDP_CONNECT) {
		refcount_inc(&flow->ref);	/* the connecting list's */
		list_add_tail(&flow->list, &st->connecting);
		queue_work(funnel_workqueue(), &st->connect_work);
	}
	funnel_gc_schedule(st);

out_unlock:
	if (victim && st->kind == FUNNEL_STREAM_UDP_CONNECT) {
		/* its FLOW_END from gc_work: the carrier's receive path,
		 * which makes udp-connect flows, holds the carrier's lock
		 */
		list_add_tail(&victim->gc_node, &st->evicted);
		mod_delayed_work(funnel_workqueue(), &st->gc_work, 0);
	}
	spin_unlock_bh(&st->flow_lock);
	if (victim) {
		funnel_stream_count(st, FUNNEL_A_STATS_FLOWS_EVICTED);
		/* udp-listen: the FLOW_END goes before the new flow's first
		 * DATA, so the peer frees the old flow before it sees the
		 * new one and need not evict one of its own
		 */
		if (st->kind == FUNNEL_STREAM_UDP_LISTEN) {
			funnel_flow_end_send(st, victim->id, GFP_ATOMIC);
			funnel_flow_put(victim);
		}
	}
	if (notify)
		funnel_nl_notify_flow_limit(st);
	if (err) {
		kfree(flow);		/* never seen: no route cached */
		return ERR_PTR(err);
	}
	funnel_stream_count(st, FUNNEL_A_STATS_FLOWS_CREATED);
	return flow;
}

/* Send a FLOW_END frame for flow id on the carrier. */
static void funnel_flow_end_send(struct funnel_stream *st, u32 id, gfp_t gfp)
{
	struct funnel_hdr *hdr;
	struct sk_buff *skb;

	skb = alloc_skb(FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN, gfp);
	if (!skb)
		return;
	*(__be16 *)skb_put(skb, FUNNEL_LEN_PREFIX) = htons(FUNNEL_HDR_LEN);
	hdr = skb_put(skb, FUNNEL_HDR_LEN);
	hdr->stream = htons(st->id);
	hdr->type = FUNNEL_T_FLOW_END;
	hdr->flags = st->unordered ? FUNNEL_F_UNORDERED : 0;
	hdr->flow = htonl(id);
	funnel_tx_frame(st->fs, skb, true);
}

static void funnel_flow_purge(struct funnel_stream *st,
			      struct funnel_flow *flow);

/*
 * The peer ended flow id (FLOW_END).  A udp-connect flow whose socket is
 * not made yet leaves the connecting list too: otherwise a peer sending
 * DATA and FLOW_END in turn would grow that list (and make a socket for
 * each entry) without the flow limits ever seeing it.  Any context.
 */
void funnel_flow_end(struct funnel_stream *st, u32 id)
{
	struct funnel_flow *flow;
	bool connecting = false;

	spin_lock_bh(&st->flow_lock);
	flow = funnel_flow_lookup_id(st, id);
	if (flow) {
		funnel_flow_unlink(st, flow);
		if (!list_empty(&flow->list)) {
			list_del_init(&flow->list);
			connecting = true;
		}
	}
	spin_unlock_bh(&st->flow_lock);

	if (!flow) {
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	if (connecting) {
		funnel_flow_purge(st, flow);
		funnel_flow_put(flow);		/* the connecting list's */
	}
	funnel_flow_put(flow);
}

static void funnel_gc_work(struct work_struct *work)
{
	struct funnel_stream *st = container_of(to_delayed_work(work),
						struct funnel_stream, gc_work);
	unsigned long idle = msecs_to_jiffies(st->flow_idle_ms);
	struct funnel_flow *flow;
	struct hlist_node *tmp;
	LIST_HEAD(evicted);
	LIST_HEAD(expired);
	unsigned int i;

	spin_lock_bh(&st->flow_lock);
	list_splice_init(&st->evicted, &evicted);
	for (i = 0; i < funnel_flow_buckets(st); i++)
		hlist_for_each_entry_safe(flow, tmp, &st->by_id[i], id_node) {
			/* a flow whose socket is still being made stays */
			if (!list_empty(&flow->list) ||
			    time_before(jiffies,
					READ_ONCE(flow->last_used) + idle))
				continue;
			funnel_flow_unlink(st, flow);
			list_add_tail(&flow->gc_node, &expired);
			funnel_stream_count(st, FUNNEL_A_STATS_FLOWS_EXPIRED);
		}
	if (st->nflows && !st->dead)
		funnel_gc_schedule(st);
	spin_unlock_bh(&st->flow_lock);

	/* the peer frees its side (and its socket) too */
	list_splice_tail(&expired, &evicted);
	while (!list_empty(&evicted)) {
		flow = list_first_entry(&evicted, struct funnel_flow, gc_node);
		list_del(&flow->gc_node);
		funnel_flow_end_send(st, flow->id, GFP_KERNEL);
		funnel_flow_put(flow);
	}
}

/* Drop what a connecting flow held, counted as queue drops. */
static void funnel_flow_purge(struct funnel_stream *st,
			      struct funnel_flow *flow)
{
	unsigned int n = funnel_flow_take_pending(flow, NULL);

	funnel_stat_add(st->stats, FUNNEL_A_STATS_RX_DROP_QUEUE, n);
	funnel_stat_add(st->fs->stats, FUNNEL_A_STATS_RX_DROP_QUEUE, n);
}

/* udp-connect: make the socket of each new flow, in process context. */
static void funnel_connect_work(struct work_struct *work)
{
	struct funnel_stream *st = container_of(work, struct funnel_stream,
						connect_work);
	struct funnel_flow *flow;
	struct mem_cgroup *memcg;
	struct sk_buff_head q;
	struct socket *sock;
	struct sk_buff *skb;
	int err;

	__skb_queue_head_init(&q);
	for (;;) {
		spin_lock_bh(&st->flow_lock);
		flow = list_first_entry_or_null(&st->connecting,
						struct funnel_flow, list);
		if (flow)
			list_del_init(&flow->list);
		spin_unlock_bh(&st->flow_lock);
		if (!flow)
			return;

		/* the socket, too, is charged to the carrier's cgroup */
		memcg = set_active_memcg(funnel_memcg(st->fs));
		err = funnel_udp_flow_open(st, flow, &sock);
		set_active_memcg(memcg);
		if (err) {
			net_dbg_ratelimited("funnel: stream %u: flow socket: %d\n",
					    st->id, err);
			spin_lock_bh(&st->flow_lock);
			if (!flow->unlinked) {
				funnel_flow_unlink(st, flow);
				refcount_dec(&flow->ref);	/* the table's */
			}
			spin_unlock_bh(&st->flow_lock);
			funnel_flow_purge(st, flow);
			funnel_flow_put(flow);
			continue;
		}

		/* publish the socket; what waited for it goes out now */
		spin_lock_bh(&flow->pending.lock);
		WRITE_ONCE(flow->sock, sock);
		spin_unlock_bh(&flow->pending.lock);
		funnel_flow_take_pending(flow, &q);
		local_bh_disable();
		while ((skb = __skb_dequeue(&q)))
			funnel_udp_send(st, flow, skb);
		local_bh_enable();
		funnel_flow_put(flow);
	}
}

/* Hold a datagram for a flow whose socket is being made, or send it if
 * the socket is there by now.  Any context, RCU read lock held.
 */
static void funnel_flow_hold(struct funnel_stream *st,
			     struct funnel_flow *flow, struct sk_buff *skb)
{
	struct funnel_net *fn = flow->fn;

	spin_lock_bh(&flow->pending.lock);
	/* the first datagram is held whatever its truesize */
	if (!flow->sock &&
	    skb_queue_len(&flow->pending) < FUNNEL_FLOW_PENDING_MAX &&
	    (!flow->pending_bytes ||
	     flow->pending_bytes + skb->truesize <= FUNNEL_FLOW_PENDING_BYTES)) {
		if (atomic_add_return(skb->truesize, &fn->pending_bytes) <=
		    FUNNEL_NETNS_PENDING_BYTES) {
			flow->pending_bytes += skb->truesize;
			__skb_queue_tail(&flow->pending, skb);
			spin_unlock_bh(&flow->pending.lock);
			return;
		}
		atomic_sub(skb->truesize, &fn->pending_bytes);
	}
	spin_unlock_bh(&flow->pending.lock);

	if (READ_ONCE(flow->sock)) {
		funnel_udp_send(st, flow, skb);
		return;
	}
	funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_QUEUE);
	kfree_skb(skb);
}

/* ---- relays (Documentation/switchbox.md) ---- */

/*
 * The datagram pl of flow id of relay stream st, opened with st's key
 * (ours, headroom for UDP): on to the paired stream, which seals it with
 * its key, the same flow id, and queues it on its carrier.  RCU read
 * lock held (the paired stream and its carrier are not freed
 * meanwhile).  From a TCP carrier's receive run in softirq the run
 * holds its socket's spinlock here: funnel_tx_frame() takes the other
 * carrier's only if it is free (struct funnel_rx_run), so two carriers
 * relaying to each other never wait for each other's lock.
 */
static void funnel_relay_xmit(struct funnel_stream *st, struct sk_buff *pl,
			      u32 id)
{
	struct funnel_stream *to = rcu_dereference(st->relay);

	if (!to) {
		funnel_stream_drop(st, pl, FUNNEL_A_STATS_RX_DROP_NO_STREAM);
		return;
	}
	/* funnel_stream_xmit() takes a datagram from its UDP header on;
	 * those 8 bytes are never read
	 */
	__skb_push(pl, sizeof(struct udphdr));
	funnel_stream_xmit(to, NULL, id, pl);
}

/* FLOW_END of flow id (with flags' R) of relay stream st: passed on, as
 * data, behind the flow's DATA: a client's FLOW_ENDs must not crowd out
 * the carrier's control frames.  RCU read lock held.
 */
static void funnel_relay_flow_end(struct funnel_stream *st, u32 id, u8 flags)
{
	struct funnel_stream *to = rcu_dereference(st->relay);
	struct funnel_hdr *hdr;
	struct sk_buff *skb;

	if (!to) {
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_NO_STREAM);
		return;
	}
	skb = alloc_skb(FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN, GFP_ATOMIC);
	if (!skb) {
		funnel_stream_count(to, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	*(__be16 *)skb_put(skb, FUNNEL_LEN_PREFIX) = htons(FUNNEL_HDR_LEN);
	hdr = skb_put(skb, FUNNEL_HDR_LEN);
	hdr->stream = htons(to->id);
	hdr->type = FUNNEL_T_FLOW_END;
	hdr->flags = (to->unordered ? FUNNEL_F_UNORDERED : 0) |
		     (flags & FUNNEL_F_RESET);
	hdr->flow = htonl(id);
	if (funnel_tx_frame(to->fs, skb, false))
		funnel_stat_inc(to->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
	else
		funnel_stat_frame(to->stats, FUNNEL_A_STATS_TX_FRAMES,
				  FUNNEL_HDR_LEN);
}

/*
 * Find the relay stream a new relay stream pairs with (cfg), which must
 * be one of another carrier of this netns, not paired yet, keyed if this
 * one is (relay streams are all unordered).  funnel_net.lock held.
 */
static struct funnel_stream *
funnel_relay_find(struct funnel_sock *fs, const struct funnel_stream_cfg *cfg,
		  struct netlink_ext_ack *extack)
{
	struct funnel_net *fn = funnel_pernet(fs->net);
	struct funnel_stream *o;
	struct funnel_sock *ofs;

	lockdep_assert_held(&fn->lock);
	ofs = xa_load(&fn->carriers, cfg->relay_carrier);
	if (!ofs) {
		NL_SET_ERR_MSG(extack, "relay-carrier-id: no such carrier in this netns");
		return ERR_PTR(-ENOENT);
	}
	if (ofs == fs) {
		NL_SET_ERR_MSG(extack, "a relay pairs streams of two carriers");
		return ERR_PTR(-EINVAL);
	}
	o = xa_load(&ofs->streams, cfg->relay_stream);
	if (!o || o->kind != FUNNEL_STREAM_RELAY) {
		NL_SET_ERR_MSG(extack, "relay-stream-id: no such relay stream on that carrier");
		return ERR_PTR(-ENOENT);
	}
	if (rcu_access_pointer(o->relay)) {
		NL_SET_ERR_MSG(extack, "that relay stream is paired already");
		return ERR_PTR(-EBUSY);
	}
	if (funnel_stream_keyed(o) != !!cfg->key) {
		NL_SET_ERR_MSG(extack, "a relay pairs two keyed streams or two plaintext ones");
		return ERR_PTR(-EINVAL);
	}
	return o;
}

/* st goes: the stream it is paired with is not any more.  Lock held. */
static void funnel_relay_unpair(struct funnel_stream *st)
{
	struct funnel_stream *o;

	o = rcu_dereference_protected(st->relay,
				      lockdep_is_held(&funnel_pernet(st->net)->lock));
	if (!o)
		return;
	/* readers that found st through o finish before st is freed (an
	 * RCU grace period: free_work)
	 */
	if (rcu_access_pointer(o->relay) == st)
		RCU_INIT_POINTER(o->relay, NULL);
	RCU_INIT_POINTER(st->relay, NULL);
}

/* Drop skb, counted on the stream and its carrier. */
void funnel_stream_drop(struct funnel_stream *st, struct sk_buff *skb,
			int reason)
{
	funnel_stream_count(st, reason);
	kfree_skb(skb);
}

/*
 * A DATA or FLOW_END frame for a udp-listen or udp-connect stream, from
 * the carrier: the payload is len bytes at off in skb, which is ours.
 * Called from the carrier's receive path with the RCU read lock held.
 */
void funnel_stream_rcv(struct funnel_stream *st, struct sk_buff *skb,
		       const struct funnel_hdr *hdr, unsigned int off,
		       unsigned int len)
{
	u32 id = ntohl(hdr->flow);
	struct sk_buff *pl;

	funnel_stat_frame(st->stats, FUNNEL_A_STATS_RX_FRAMES,
			  FUNNEL_HDR_LEN + len);

	if (!id) {
		funnel_stream_drop(st, skb, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}
	/* a relay stream not paired (yet, or any more): nothing to open */
	if (st->kind == FUNNEL_STREAM_RELAY && !rcu_access_pointer(st->relay)) {
		funnel_stream_drop(st, skb, FUNNEL_A_STATS_RX_DROP_NO_STREAM);
		return;
	}
	if (hdr->type == FUNNEL_T_FLOW_END) {	/* never sealed */
		consume_skb(skb);
		if (st->kind == FUNNEL_STREAM_RELAY)
			funnel_relay_flow_end(st, id, hdr->flags);
		else
			funnel_flow_end(st, id);
		return;
	}

	/* key checks, replay and tag (wire-format.md 12, step 9) before
	 * the frame may find or create a flow: funnel_open() delivers
	 */
	if (funnel_stream_keyed(st) || hdr->flags & FUNNEL_F_SEALED) {
		funnel_open(st, skb, off - FUNNEL_HDR_LEN, FUNNEL_HDR_LEN + len,
			    hdr);
		consume_skb(skb);
		return;
	}
	pl = funnel_udp_payload_skb(skb, off, len);
	if (!pl) {
		funnel_stream_drop(st, skb, FUNNEL_A_STATS_RX_DROP_QUEUE);
		return;
	}
	consume_skb(skb);
	funnel_stream_deliver(st, pl, id, FUNNEL_HDR_LEN + len);
}

/*
 * The datagram pl (ours, headroom for UDP) of a DATA frame of flow id,
 * whose header and body were wire bytes: to its flow, which a
 * udp-connect stream creates.  RCU read lock held, BHs off.
 */
void funnel_stream_deliver(struct funnel_stream *st, struct sk_buff *pl,
			   u32 id, unsigned int wire)
{
	struct funnel_flow *flow;

	if (st->kind == FUNNEL_STREAM_RELAY) {
		funnel_relay_xmit(st, pl, id);
		return;
	}

	flow = funnel_flow_lookup_id(st, id);
	if (!flow && st->kind == FUNNEL_STREAM_UDP_LISTEN) {
		funnel_stream_drop(st, pl, FUNNEL_A_STATS_RX_DROP_NO_FLOW);
		return;
	}
	if (!flow) {
		flow = funnel_flow_get(st, id, &st->remote, NULL);
		if (PTR_ERR(flow) == -ENOSPC) {	/* counted already */
			kfree_skb(pl);
			return;
		}
		if (IS_ERR(flow)) {
			funnel_stream_drop(st, pl, FUNNEL_A_STATS_RX_DROP_QUEUE);
			return;
		}
	}

	WRITE_ONCE(flow->last_used, jiffies);
	atomic64_inc(&flow->rx_frames);
	atomic64_add(wire, &flow->rx_bytes);

	if (st->kind == FUNNEL_STREAM_UDP_CONNECT && !READ_ONCE(flow->sock))
		funnel_flow_hold(st, flow, pl);
	else
		funnel_udp_send(st, flow, pl);
}

/* ---- streams ---- */

struct funnel_stream *funnel_stream_lookup(struct funnel_sock *fs, u16 id)
{
	return xa_load(&fs->streams, id);
}

static void funnel_stream_free(struct funnel_stream *st)
{
	int i;

	/* nobody finds the stream any more; AEAD operations still under
	 * way end with a completion that uses it, its keys and carrier
	 */
	wait_var_event(&st->inflight, !atomic_read(&st->inflight));
	/* its keys go with it */
	for (i = 0; i <= FUNNEL_KEY_SLOT_MAX; i++)
		funnel_key_free(rcu_dereference_protected(st->keys[i], true));
	if (st->lsock)
		funnel_udp_sock_close(st->lsock);
	kvfree(st->by_id);
	kvfree(st->by_addr);
	free_percpu(st->stats);
	kfree(st);
}

static void funnel_stream_free_work(struct work_struct *work)
{
	funnel_stream_free(container_of(to_rcu_work(work),
					struct funnel_stream, free_work));
}

/*
 * Tear down a stream that nobody can look up any more.  Process context,
 * funnel_net.lock held.
 */
static void funnel_stream_destroy(struct funnel_stream *st)
{
	struct funnel_flow *flow, *tmp;
	struct hlist_node *n;
	LIST_HEAD(connecting);
	LIST_HEAD(gone);
	unsigned int i;

	funnel_relay_unpair(st);
	if (st->kind == FUNNEL_STREAM_RELAY) {
		/* no flows, no sockets: freed once no receive path of the
		 * other stream can see it any more
		 */
		queue_rcu_work(funnel_workqueue(), &st->free_work);
		return;
	}

	spin_lock_bh(&st->flow_lock);
	st->dead = true;
	spin_unlock_bh(&st->flow_lock);
	if (st->lsock)
		rcu_assign_sk_user_data(st->lsock->sk, NULL);

	/* neither work runs, nor is queued again (dead) after this */
	cancel_delayed_work_sync(&st->gc_work);
	cancel_work_sync(&st->connect_work);

	spin_lock_bh(&st->flow_lock);
	list_splice_init(&st->connecting, &connecting);
	list_splice_init(&st->evicted, &gone);
	for (i = 0; i < funnel_flow_buckets(st); i++)
		hlist_for_each_entry_safe(flow, n, &st->by_id[i], id_node) {
			funnel_flow_unlink(st, flow);
			list_add_tail(&flow->gc_node, &gone);
		}
	spin_unlock_bh(&st->flow_lock);

	list_for_each_entry_safe(flow, tmp, &connecting, list) {
		list_del_init(&flow->list);
		funnel_flow_put(flow);
	}
	list_for_each_entry_safe(flow, tmp, &gone, gc_node) {
		list_del(&flow->gc_node);
		funnel_flow_put(flow);
	}

	queue_rcu_work(funnel_workqueue(), &st->free_work);
}

static int funnel_stream_alloc_hash(struct funnel_stream *st)
{
	unsigned int n;

	/* about one bucket per flow, for up to 4096 flows */
	n = roundup_pow_of_two(clamp_t(u32, st->flow_max, 16, 4096));
	st->hash_bits = ilog2(n);
	st->by_id = kvcalloc(n, sizeof(*st->by_id), GFP_KERNEL_ACCOUNT);
	if (!st->by_id)
		return -ENOMEM;
	if (st->kind == FUNNEL_STREAM_UDP_LISTEN) {
		st->by_addr = kvcalloc(n, sizeof(*st->by_addr),
				       GFP_KERNEL_ACCOUNT);
		if (!st->by_addr)
			return -ENOMEM;
	}
	return 0;
}

int funnel_stream_new(struct funnel_sock *fs,
		      const struct funnel_stream_cfg *cfg,
		      struct netlink_ext_ack *extack)
{
	struct funnel_stream *st, *relay = NULL;
	int err;

	lockdep_assert_held(&funnel_pernet(fs->net)->lock);

	if (xa_load(&fs->streams, cfg->id)) {
		NL_SET_ERR_MSG(extack, "stream exists on this carrier");
		err = -EEXIST;
		goto err_key;
	}
	if (cfg->kind == FUNNEL_STREAM_RELAY && cfg->relay_carrier) {
		relay = funnel_relay_find(fs, cfg, extack);
		if (IS_ERR(relay)) {
			err = PTR_ERR(relay);
			goto err_key;
		}
	}
	if (fs->nstreams >= FUNNEL_STREAMS_MAX) {
		NL_SET_ERR_MSG(extack, "carrier has the most streams it may have");
		err = -ENOSPC;
		goto err_key;
	}
	if (fs->sctp) {
		err = funnel_sctp_stream_check(fs, cfg->id, extack);
		if (err)
			goto err_key;
	}

	st = kzalloc(sizeof(*st), GFP_KERNEL_ACCOUNT);
	if (!st) {
		NL_SET_ERR_MSG(extack, "no memory for the stream");
		err = -ENOMEM;
		goto err_key;
	}
	/* keyed before anything can be received or sent on it */
	RCU_INIT_POINTER(st->keys[FUNNEL_KEY_SLOT_PRIMARY], cfg->key);
	st->fs = fs;
	st->net = fs->net;
	st->id = cfg->id;
	st->kind = cfg->kind;
	st->unordered = cfg->unordered;
	st->local = cfg->local;
	st->remote = cfg->remote;
	st->flow_idle_ms = cfg->flow_idle_ms;
	st->flow_max = cfg->flow_max;
	st->pr_ttl_ms = cfg->pr_ttl_ms;
	st->next_flow_id = 1;
	st->hash_seed = get_random_u32();
	spin_lock_init(&st->flow_lock);
	spin_lock_init(&st->tx_lock);
	atomic_set(&st->inflight, 0);
	INIT_LIST_HEAD(&st->connecting);
	INIT_DELAYED_WORK(&st->gc_work, funnel_gc_work);
	INIT_WORK(&st->connect_work, funnel_connect_work);
	INIT_LIST_HEAD(&st->evicted);
	INIT_RCU_WORK(&st->free_work, funnel_stream_free_work);

	st->stats = funnel_stats_alloc();
	if (!st->stats) {
		NL_SET_ERR_MSG(extack, "no memory for the stream's counters");
		err = -ENOMEM;
		goto err_free;
	}
	if (st->kind != FUNNEL_STREAM_USER && st->kind != FUNNEL_STREAM_RELAY) {
		err = funnel_stream_alloc_hash(st);
		if (err) {
			NL_SET_ERR_MSG(extack, "no memory for the stream's flow tables");
			goto err_free;
		}
	}
	if (st->kind == FUNNEL_STREAM_UDP_LISTEN) {
		/* receives from here on: everything above is ready */
		err = funnel_udp_listen_open(st, extack);
		if (err)
			goto err_free;
	}

	err = xa_insert(&fs->streams, st->id, st, GFP_KERNEL_ACCOUNT);
	if (err) {
		NL_SET_ERR_MSG(extack, "no memory to index the stream");
		funnel_stream_destroy(st);
		return err;
	}
	fs->nstreams++;
	if (relay) {
		/* each finds the other from here on, both fully made */
		rcu_assign_pointer(st->relay, relay);
		rcu_assign_pointer(relay->relay, st);
	}
	return 0;

err_free:
	funnel_stream_free(st);
	return err;
err_key:
	funnel_key_free(cfg->key);
	return err;
}

int funnel_stream_del(struct funnel_sock *fs, u16 id)
{
	struct funnel_stream *st;

	lockdep_assert_held(&funnel_pernet(fs->net)->lock);
	st = xa_erase(&fs->streams, id);
	if (!st)
		return -ENOENT;
	fs->nstreams--;
	funnel_stream_destroy(st);
	return 0;
}

/* The carrier goes down: all its streams go.  funnel_net.lock held. */
void funnel_streams_destroy(struct funnel_sock *fs)
{
	struct funnel_stream *st;
	unsigned long id;

	xa_for_each(&fs->streams, id, st) {
		xa_erase(&fs->streams, id);
		funnel_stream_destroy(st);
	}
	fs->nstreams = 0;
}
