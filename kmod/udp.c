// SPDX-License-Identifier: GPL-2.0
/*
 * The UDP side of kernel streams.
 *
 * udp-listen: one kernel UDP socket bound to the stream's local address;
 * its encap_rcv hook turns each datagram into a DATA frame of the flow of
 * its source address.  Replies leave from the listening port, from the
 * address the client sent to.
 *
 * udp-connect: one kernel UDP socket per flow, connected to the stream's
 * target from an ephemeral port; replies arrive on its encap_rcv hook.
 *
 * Datagrams to UDP are built here and sent with the UDP tunnel helpers,
 * from whatever context the carrier's receive path runs in.
 */
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "compat.h"
#include "funnel.h"

/* payloads up to this size are copied into the linear area */
#define FUNNEL_UDP_LINEAR_MAX	(2048 - FUNNEL_UDP_HEADROOM)

/*
 * A datagram skb (from its UDP header on) of flow id of stream st, to the
 * carrier as a DATA frame, sealed on a keyed stream.  flow: the flow,
 * whose counters it adds to; NULL for a relay's frame (no flow here).
 */
void funnel_stream_xmit(struct funnel_stream *st, struct funnel_flow *flow,
			u32 id, struct sk_buff *skb)
{
	unsigned int len = skb->len - sizeof(struct udphdr), wire;
	struct funnel_hdr *hdr, h = {
		.stream	= htons(st->id),
		.type	= FUNNEL_T_DATA,
		.flags	= st->unordered ? FUNNEL_F_UNORDERED : 0,
		.flow	= htonl(id),
	};
	struct funnel_key *expired;
	bool sealing;
	int err;

	if (funnel_stream_keyed(st)) {
		/* the counter goes with the queue position on an ordered
		 * stream: seal and queue as one step.  The stream counts
		 * the frame when it is queued; the flow when it is sealed.
		 */
		if (st->unordered) {
			sealing = funnel_seal(st, &h, skb, sizeof(struct udphdr),
					      len, &expired);
		} else {
			spin_lock_bh(&st->tx_lock);
			sealing = funnel_seal(st, &h, skb, sizeof(struct udphdr),
					      len, &expired);
			spin_unlock_bh(&st->tx_lock);
		}
		if (expired)
			funnel_key_expire_notify(st, expired);
		if (sealing && flow) {
			wire = FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD + len;
			WRITE_ONCE(flow->last_used, jiffies);
			atomic64_inc(&flow->tx_frames);
			atomic64_add(wire, &flow->tx_bytes);
		}
		return;
	}

	if (len > FUNNEL_MAX_PAYLOAD) {
		funnel_stream_drop(st, skb, FUNNEL_A_STATS_TX_DROP_TOOBIG);
		return;
	}
	__skb_pull(skb, sizeof(struct udphdr));
	if (skb_cow_head(skb, FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN)) {
		funnel_stream_drop(st, skb, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	skb_scrub_packet(skb, true);

	hdr = skb_push(skb, FUNNEL_HDR_LEN);
	*hdr = h;
	*(__be16 *)skb_push(skb, FUNNEL_LEN_PREFIX) =
		htons(FUNNEL_HDR_LEN + len);
	wire = FUNNEL_HDR_LEN + len;
	err = funnel_tx_frame(st->fs, skb, false);

	if (flow)
		WRITE_ONCE(flow->last_used, jiffies);
	if (err) {
		funnel_stat_inc(st->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	funnel_stat_frame(st->stats, FUNNEL_A_STATS_TX_FRAMES, wire);
	if (flow) {
		atomic64_inc(&flow->tx_frames);
		atomic64_add(wire, &flow->tx_bytes);
	}
}

static bool funnel_udp_src(const struct sk_buff *skb, struct funnel_addr *src,
			   struct funnel_addr *dst)
{
	const struct udphdr *uh = udp_hdr(skb);

	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	src->port = uh->source;
	dst->port = uh->dest;
	if (skb->protocol == htons(ETH_P_IP)) {
		src->family = AF_INET;
		dst->family = AF_INET;
		src->v4 = ip_hdr(skb)->saddr;
		dst->v4 = ip_hdr(skb)->daddr;
		return true;
	}
	if (skb->protocol == htons(ETH_P_IPV6)) {
		src->family = AF_INET6;
		dst->family = AF_INET6;
		src->v6 = ipv6_hdr(skb)->saddr;
		dst->v6 = ipv6_hdr(skb)->daddr;
		if (ipv6_addr_type(&src->v6) & IPV6_ADDR_LINKLOCAL)
			src->ifindex = inet6_iif(skb);
		return true;
	}
	return false;
}

/* encap_rcv of a udp-listen socket: softirq, RCU read lock held.
 * Returns 0: the skb is always ours.
 */
static int funnel_udp_listen_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct funnel_addr src, dst;
	struct funnel_stream *st;
	struct funnel_flow *flow;

	st = rcu_dereference_sk_user_data(sk);
	if (!st || !funnel_udp_src(skb, &src, &dst))
		goto drop;

	flow = funnel_flow_lookup_addr(st, &src);
	if (!flow) {
		flow = funnel_flow_get(st, 0, &src, &dst);
		if (IS_ERR(flow)) {
			if (PTR_ERR(flow) != -ENOSPC)
				funnel_stream_count(st,
						    FUNNEL_A_STATS_TX_DROP_QUEUE);
			goto drop;
		}
	}
	funnel_stream_xmit(st, flow, flow->id, skb);
	return 0;

drop:
	kfree_skb(skb);
	return 0;
}

/* encap_rcv of a flow socket of a udp-connect stream: a reply. */
static int funnel_udp_flow_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct funnel_flow *flow = rcu_dereference_sk_user_data(sk);

	if (!flow) {
		kfree_skb(skb);
		return 0;
	}
	funnel_stream_xmit(flow->st, flow, flow->id, skb);
	return 0;
}

/* A new skb holding len bytes at off of src, with room for UDP/IP. */
struct sk_buff *funnel_udp_payload_skb(const struct sk_buff *src,
				       unsigned int off, unsigned int len)
{
	unsigned int linear = len <= FUNNEL_UDP_LINEAR_MAX ? len : 0;
	struct sk_buff *skb;
	int i, err;

	skb = alloc_skb_with_frags(FUNNEL_UDP_HEADROOM + linear, len - linear,
				   0, &err, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, FUNNEL_UDP_HEADROOM);
	if (skb_copy_bits(src, off, skb_put(skb, linear), linear))
		goto err;
	off += linear;

	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

		if (skb_copy_bits(src, off, skb_frag_address(frag),
				  skb_frag_size(frag)))
			goto err;
		off += skb_frag_size(frag);
	}
	skb->data_len = len - linear;
	skb->len += skb->data_len;
	return skb;

err:
	kfree_skb(skb);
	return NULL;
}

/*
 * A flow's route to the UDP side is cached in one slot, as a socket caches
 * its own (sk_dst_cache): flow->dst holds a reference to the dst, and
 * flow->dst_cookie the IPv6 fib serial number it was looked up at (IPv4:
 * 0, its check compares the netns's generation id).  A datagram takes a
 * reference to the cached dst if the kernel still deems it valid
 * (dst_check(): a route change in the netns makes it obsolete); else its
 * route is looked up as before, and that dst replaces the cached one.
 * Nothing is allocated: the slot is a pointer and a cookie in the flow.
 *
 * Readers hold the RCU read lock: dst_release() frees a dst through RCU,
 * so a dst read from the slot stays there until rcu_read_unlock(), and
 * dst_hold_safe() fails if its last reference went meanwhile.  The dst
 * comes from the lookups a socket's comes from, so the kernel knows it as
 * it knows a socket's (a nexthop's cache, an exception, the uncached
 * list): when its device is unregistered, the kernel moves it to
 * blackhole_netdev and it fails dst_check(); a cached route does not keep
 * a device.  Senders of one flow may run at once on several CPUs (the
 * carrier's receive path, AEAD completions, connect_work), in softirq or
 * process context.  The slot is released with the flow
 * (funnel_flow_free_work()).
 */
static struct dst_entry *funnel_flow_dst_get(struct funnel_flow *flow)
{
	struct dst_entry *dst;
	u32 cookie;

	rcu_read_lock();
	dst = rcu_dereference(flow->dst);
	if (dst && !dst_hold_safe(dst))
		dst = NULL;
	rcu_read_unlock();
	if (!dst)
		return NULL;
	/* the cookie written before this dst, or after (pairs with the
	 * xchg() in funnel_flow_dst_set())
	 */
	smp_rmb();
	cookie = READ_ONCE(flow->dst_cookie);
	if (!dst_check(dst, cookie)) {
		dst_release(dst);
		return NULL;
	}
	return dst;
}

/*
 * Cache dst (held by the caller) as the flow's route, looked up at cookie.
 * Two setters racing may leave the cookie of one with the dst of the
 * other.  That pair would not be harmless: an IPv6 route added below the
 * fib node of the old dst gives both nodes the same new serial number, and
 * the old dst would pass its check with the new dst's cookie until the
 * next change.
 * So a setter that finds another cookie than its own once its dst is in
 * the slot takes its dst out again: the slot then holds the other
 * setter's dst (whose cookie is there) or nothing.  Each writes its
 * cookie, then its dst (xchg(), a full barrier), then reads the cookie:
 * of two setters, the one whose dst stays in the slot sees the cookie of
 * the last cookie write.  The worst case is one more lookup, for the next
 * datagram; a reader in between may once pair a dst with the cookie of a
 * newer lookup, as a socket may send once on a route that a change has
 * just made stale.
 */
static void funnel_flow_dst_set(struct funnel_flow *flow,
				struct dst_entry *dst, u32 cookie)
{
	struct dst_entry *old;

	dst_hold(dst);			/* the slot's */
	WRITE_ONCE(flow->dst_cookie, cookie);
	old = unrcu_pointer(xchg(&flow->dst, RCU_INITIALIZER(dst)));
	dst_release(old);
	if (READ_ONCE(flow->dst_cookie) != cookie &&
	    unrcu_pointer(cmpxchg(&flow->dst, RCU_INITIALIZER(dst),
				  NULL)) == dst)
		dst_release(dst);
}

/* The flow is gone and a grace period passed: release its cached route. */
void funnel_flow_dst_free(struct funnel_flow *flow)
{
	dst_release(rcu_dereference_protected(flow->dst, true));
}

/*
 * The datagrams of a flow leave from the same source address (saddr): the
 * address its client sent to (udp-listen) or the address of its connected
 * socket (udp-connect).  A lookup given a source address keeps it, so a
 * cached route goes with it; a lookup without one (not expected) would
 * choose one, and its route is not cached.
 */
static int funnel_udp_xmit4(struct net *net, struct sock *sk,
			    struct funnel_flow *flow, struct sk_buff *skb,
			    __be32 saddr, __be16 sport,
			    __be32 daddr, __be16 dport)
{
	struct dst_entry *dst = NULL;
	struct flowi4 fl4;
	struct rtable *rt;

	if (saddr)
		dst = funnel_flow_dst_get(flow);
	if (dst) {
		rt = funnel_dst_rtable(dst);
	} else {
		rt = ip_route_output_ports(net, &fl4, NULL, daddr, saddr,
					   dport, sport, IPPROTO_UDP, 0, 0);
		if (IS_ERR(rt)) {
			kfree_skb(skb);
			return PTR_ERR(rt);
		}
		if (saddr)
			funnel_flow_dst_set(flow, &rt->dst, 0);
		saddr = fl4.saddr;
	}
	if (sk && sk->sk_family != AF_INET)
		sk = NULL;
	/* df 0: a datagram larger than the path MTU leaves in fragments */
	udp_tunnel_xmit_skb(rt, sk, skb, saddr, daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, sport, dport,
			    false, false);
	return 0;
}

static int funnel_udp_xmit6(struct net *net, struct sock *sk,
			    struct funnel_flow *flow, struct sk_buff *skb,
			    const struct in6_addr *saddr, __be16 sport,
			    const struct funnel_addr *dst)
{
	struct dst_entry *dst_entry = NULL;
	bool cache = !ipv6_addr_any(saddr);
	struct rt6_info *rt;
	struct flowi6 fl6 = {
		.flowi6_proto	= IPPROTO_UDP,
		.flowi6_oif	= dst->ifindex,
		.daddr		= dst->v6,
		.saddr		= *saddr,
		.fl6_sport	= sport,
		.fl6_dport	= dst->port,
	};

	if (cache)
		dst_entry = funnel_flow_dst_get(flow);
	if (!dst_entry) {
		dst_entry = ip6_dst_lookup_flow(net, sk, &fl6, NULL);
		if (IS_ERR(dst_entry)) {
			kfree_skb(skb);
			return PTR_ERR(dst_entry);
		}
		if (cache) {
			rt = funnel_dst_rt6_info(dst_entry);
			funnel_flow_dst_set(flow, dst_entry, rt6_get_cookie(rt));
		}
	}
	skb->ignore_df = 1;
	udp_tunnel6_xmit_skb(dst_entry, sk, skb, NULL, &fl6.saddr, &fl6.daddr,
			     0, ip6_dst_hoplimit(dst_entry), 0, sport,
			     dst->port, false);
	return 0;
}

/*
 * Send the payload skb to the UDP side of flow: from the listening socket
 * to the client (udp-listen), or from the flow's socket to the target
 * (udp-connect).  Consumes skb.  Softirq or process context (the
 * carrier's receive path, connect_work, AEAD completions), not hardirq.
 */
int funnel_udp_send(struct funnel_stream *st, struct funnel_flow *flow,
		    struct sk_buff *skb)
{
	struct sock *sk;
	__be16 sport;
	int err;

	if (st->kind == FUNNEL_STREAM_UDP_LISTEN) {
		sk = st->lsock->sk;
		sport = inet_sk(sk)->inet_sport;
		if (flow->peer.family == AF_INET)
			err = funnel_udp_xmit4(st->net, sk, flow, skb,
					       flow->local.v4, sport,
					       flow->peer.v4, flow->peer.port);
		else
			err = funnel_udp_xmit6(st->net, sk, flow, skb,
					       &flow->local.v6, sport,
					       &flow->peer);
	} else {
		sk = flow->sock->sk;
		sport = inet_sk(sk)->inet_sport;
		if (st->remote.family == AF_INET)
			err = funnel_udp_xmit4(st->net, sk, flow, skb,
					       inet_sk(sk)->inet_saddr, sport,
					       st->remote.v4, st->remote.port);
		else
			err = funnel_udp_xmit6(st->net, sk, flow, skb,
					       &sk->sk_v6_rcv_saddr, sport,
					       &st->remote);
	}
	if (err)
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_QUEUE);
	return err;
}

static void funnel_udp_cfg(struct udp_port_cfg *cfg,
			   const struct funnel_addr *a, bool local)
{
	cfg->family = a->family;
	cfg->use_udp_checksums = true;
	cfg->use_udp6_tx_checksums = true;
	cfg->use_udp6_rx_checksums = true;
	if (local) {
		if (a->family == AF_INET)
			cfg->local_ip.s_addr = a->v4;
		else
			cfg->local_ip6 = a->v6;
		cfg->local_udp_port = a->port;
	} else {
		if (a->family == AF_INET)
			cfg->peer_ip.s_addr = a->v4;
		else
			cfg->peer_ip6 = a->v6;
		cfg->peer_udp_port = a->port;
	}
}

static void funnel_udp_encap(struct net *net, struct socket *sock,
			     void *data, udp_tunnel_encap_rcv_t rcv)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data	= data,
		.encap_type	= 1,
		.encap_rcv	= rcv,
	};

	setup_udp_tunnel_sock(net, sock, &tcfg);
}

int funnel_udp_listen_open(struct funnel_stream *st,
			   struct netlink_ext_ack *extack)
{
	struct udp_port_cfg cfg = {};
	struct socket *sock;
	int err;

	funnel_udp_cfg(&cfg, &st->local, true);
	err = udp_sock_create(st->net, &cfg, &sock);
	if (err) {
		if (err == -EADDRINUSE)
			NL_SET_ERR_MSG(extack, "local address and port are in use");
		else if (err == -EADDRNOTAVAIL)
			NL_SET_ERR_MSG(extack, "local address is not an address of this host");
		else
			NL_SET_ERR_MSG(extack, "cannot open the listening UDP socket");
		return err;
	}
	st->lsock = sock;
	funnel_udp_encap(st->net, sock, st, funnel_udp_listen_rcv);
	return 0;
}

int funnel_udp_flow_open(struct funnel_stream *st, struct funnel_flow *flow,
			 struct socket **sockp)
{
	struct udp_port_cfg cfg = {};
	int err;

	funnel_udp_cfg(&cfg, &st->remote, false);
	err = udp_sock_create(st->net, &cfg, sockp);
	if (err)
		return err;
	funnel_udp_encap(st->net, *sockp, flow, funnel_udp_flow_rcv);
	return 0;
}

/* The socket's user data is gone and a grace period passed. */
void funnel_udp_sock_close(struct socket *sock)
{
	kernel_sock_shutdown(sock, SHUT_RDWR);
	sock_release(sock);
}
