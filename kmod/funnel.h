/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Funnel: many UDP/TCP services over one carrier, one stream each.
 */
#ifndef _FUNNEL_H
#define _FUNNEL_H

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/interrupt.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/xarray.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <net/strparser.h>
#include <uapi/linux/funnel.h>

#define FUNNEL_NSTATS (FUNNEL_A_STATS_MAX + 1)

/*
 * Counters of a carrier or a stream, one set per CPU: the data path adds
 * to its own CPU's set, without a shared cache line or a locked
 * instruction; a dump sums the sets.  Indexed by FUNNEL_A_STATS_* so a
 * dump is one loop.
 *
 * Counters go up in softirq (receive, UDP), in process context (sendmsg,
 * works) and in AEAD completions, which some drivers call from hard
 * interrupts.  So an update keeps its CPU (get_cpu_ptr(): no preemption,
 * no migration between finding the set and writing to it) and uses the
 * _irqsave writer: where 64-bit counters cannot be written in one go
 * (32-bit), it shuts out whatever could interrupt the writer on this CPU
 * and write the same set; on 64-bit it costs nothing, as u64_stats_add()
 * is a local64_t add that an interrupt on the same CPU cannot tear.
 */
struct funnel_stats {
	u64_stats_t v[FUNNEL_NSTATS];
	struct u64_stats_sync syncp;
};

static inline void funnel_stat_add(struct funnel_stats __percpu *s, int idx,
				   unsigned long n)
{
	struct funnel_stats *p = get_cpu_ptr(s);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&p->syncp);
	u64_stats_add(&p->v[idx], n);
	u64_stats_update_end_irqrestore(&p->syncp, flags);
	put_cpu_ptr(s);
}

static inline void funnel_stat_inc(struct funnel_stats __percpu *s, int idx)
{
	funnel_stat_add(s, idx, 1);
}

/* A frame of len bytes: frames is FUNNEL_A_STATS_RX_FRAMES or _TX_FRAMES,
 * the bytes counter follows it.
 */
static inline void funnel_stat_frame(struct funnel_stats __percpu *s,
				     int frames, unsigned int len)
{
	struct funnel_stats *p = get_cpu_ptr(s);
	unsigned long flags;

	BUILD_BUG_ON(FUNNEL_A_STATS_RX_BYTES - FUNNEL_A_STATS_RX_FRAMES != 1 ||
		     FUNNEL_A_STATS_TX_BYTES - FUNNEL_A_STATS_TX_FRAMES != 1);
	flags = u64_stats_update_begin_irqsave(&p->syncp);
	u64_stats_inc(&p->v[frames]);
	u64_stats_add(&p->v[frames + 1], len);
	u64_stats_update_end_irqrestore(&p->syncp, flags);
	put_cpu_ptr(s);
}

struct funnel_stats __percpu *funnel_stats_alloc(void);
void funnel_stats_sum(const struct funnel_stats __percpu *s,
		      u64 sum[FUNNEL_NSTATS]);

/* Per-socket state of the "funnel" ULP. */
struct funnel_sock {
	struct sock *sk;
	struct strparser strp;
	struct proto *sk_proto;			/* the socket's TCP proto */
	const struct proto_ops *sk_ops;		/* and its socket ops */

	/* frames for recvmsg(), charged to sk_rmem_alloc; the parser
	 * pauses while they use up sk_rcvbuf
	 */
	struct sk_buff_head rxq;
	atomic_t rx_queued;			/* truesize of rxq */
	bool rx_pressure;			/* memory limits refused one */

	/* frames to send, in order within each queue; tx_partial is the
	 * one frame on the wire right now, resumed at tx_off when TCP has
	 * room again (ulp.c: which queue goes when)
	 */
	struct sk_buff_head txq;		/* the kernel's data frames */
	struct sk_buff_head txq_ctrl;		/* CTRL frames: sent first */
	struct sk_buff_head txq_user;		/* userspace's other frames */
	struct sk_buff *tx_partial;
	int tx_off;
	u8 tx_partial_q;			/* enum funnel_txq of tx_partial */
	bool tx_turn_user;			/* txq_user's turn (else txq's) */
	int tx_deficit[2];			/* bytes of a turn: txq, txq_user */
	bool tx_user_wait;			/* a writer found txq_user full */
	bool tx_ctrl_wait;			/* one found txq_ctrl full */
	atomic_t tx_queued;			/* truesize of txq */
	atomic_t tx_ctrl_queued;		/* truesize of txq_ctrl */
	atomic_t tx_user_queued;		/* truesize of txq_user */
	bool tx_more;				/* TCP took our last bytes with
						 * MSG_MORE: it may hold them
						 */
	bool tx_unplug;				/* tx_work: push what TCP holds */
	bool tx_pushing;			/* tx_work takes the socket's
						 * spinlock to push (or waits
						 * for it): senders join
						 */
	bool tx_deferred;			/* frames wait for tx_work's push
						 * (funnel_tx_defer()), since
						 */
	unsigned long tx_defer_at;		/* jiffies */
	unsigned long tx_data_at;		/* jiffies: the last data frame
						 * funnel_tx_defer() saw
						 */
	bool rx_since_tx;			/* a frame came in since that
						 * one (TCP carriers)
						 */
	bool tx_defer_pays;			/* the last push of deferred
						 * frames took several
						 */
	u8 tx_defer_skip;			/* frames pushed inline since
						 * (funnel_tx_defer_pays())
						 */
	struct timer_list tx_defer_timer;	/* pushes them if tx_work is
						 * late and no frame comes
						 */
	struct work_struct tx_work;
	bool closing;
	bool tx_broken;				/* a frame was cut: no more */

	/* carrier registration (carrier.c); id 0: not a carrier */
	struct net *net;
	u32 carrier_id;
	u32 owner_portid;			/* socket-owner, 0: none */
	u32 down_reason;			/* enum funnel_down_reason */
	struct work_struct down_work;
	struct funnel_stats __percpu *stats;

	/* kernel streams by id, RCU readers; changed under funnel_net.lock */
	struct xarray streams;
	u32 nstreams;
	atomic_t nflows;			/* flows of all its streams */

	/* AEAD operations of its streams under way: close() waits for
	 * them, so nothing of the carrier is used after it returns
	 */
	atomic_t inflight;

	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);

	/* SCTP carriers (sctp.c): a reader work item instead of strp */
	bool sctp;
	bool rx_paused;				/* rxq full: recvmsg resumes */
	bool rx_end;				/* the association's end read */
	int rx_err;				/* for recvmsg() then; 0: EOF */
	bool rx_ntf_rest;			/* the rest of a notification */
	int rx_sid;				/* SCTP stream of rx_buf, -1: ? */
	u32 rx_len;				/* bytes of a message in rx_buf */
	u32 sctp_peer_vtag;			/* a change: the peer restarted */
	atomic_t sctp_state_changed;		/* sk_state_change since read */
	u8 *rx_buf;				/* FUNNEL_SCTP_RX_BUF bytes */
	u8 *tx_buf;				/* a non-linear frame, copied */
	atomic64_t tx_expired;			/* lifetime spent in txq */
	struct work_struct rx_work;
	struct wait_queue_entry tx_wait;	/* SCTP's write space */
	const struct proto_ops *orig_ops;	/* SCTP's socket ops */
};

/* An IPv4 or IPv6 address with port, as the data path keeps them. */
struct funnel_addr {
	union {
		__be32 v4;
		struct in6_addr v6;
	};
	__be16 port;
	u8 family;				/* AF_INET or AF_INET6 */
	int ifindex;				/* scope of a link-local v6 */
};

/* A stream of a carrier: what the kernel does with its data frames. */
struct funnel_stream {
	struct funnel_sock *fs;		/* the carrier; outlives the stream */
	struct net *net;
	u16 id;
	u32 kind;			/* enum funnel_stream_kind */
	bool unordered;
	struct funnel_addr local;	/* udp-listen: bound address */
	struct funnel_addr remote;	/* udp-connect: target */
	u32 flow_idle_ms;
	u32 flow_max;
	u32 pr_ttl_ms;			/* SCTP carriers: DATA's lifetime */
	atomic64_t tx_expired;		/* its lifetime spent in our txq */
	struct socket *lsock;		/* udp-listen: the listening socket */

	/* flows, in two RCU hash tables; writers hold flow_lock */
	spinlock_t flow_lock;
	bool dead;			/* no new flows: being torn down */
	u32 nflows;
	u32 next_flow_id;
	u32 hash_seed;
	unsigned int hash_bits;
	struct hlist_head *by_id;
	struct hlist_head *by_addr;	/* udp-listen: by client address */
	unsigned long limit_ntf_at;	/* last flow-limit-ntf, jiffies */
	unsigned int evict_cursor;	/* next bucket to look at */

	struct delayed_work gc_work;	/* expires idle flows */
	struct work_struct connect_work; /* udp-connect: flow sockets */
	struct list_head connecting;	/* flows waiting for their socket */
	struct list_head evicted;	/* unlinked, FLOW_END from gc_work */
	struct rcu_work free_work;

	/* keys in two physical slots, RCU readers; changed under
	 * funnel_net.lock.  primary is the physical slot of the primary
	 * key: key-swap flips it, and a key stays in its slot while it is
	 * installed, so a receiver always finds both keys
	 */
	struct funnel_key __rcu *keys[FUNNEL_KEY_SLOT_MAX + 1];
	u8 primary;
	spinlock_t tx_lock;		/* ordered: seal and queue as one */
	atomic_t inflight;		/* AEAD operations under way */

	/* relay: the stream of the other carrier its frames go to, NULL
	 * until paired and once that one goes; RCU readers, changed under
	 * funnel_net.lock
	 */
	struct funnel_stream __rcu *relay;

	struct funnel_stats __percpu *stats;
};

/* datagrams held by a flow while its socket is made: at most this many
 * and this many bytes (truesize); each netns holds at most
 * FUNNEL_NETNS_PENDING_BYTES of them
 */
#define FUNNEL_FLOW_PENDING_MAX		32
/* AEAD operations under way on one carrier, at most */
#define FUNNEL_CRYPT_INFLIGHT_MAX	256
#define FUNNEL_FLOW_PENDING_BYTES	(256 * 1024)
#define FUNNEL_NETNS_PENDING_BYTES	(4 * 1024 * 1024)

/* a flow idle this long may be evicted for a new one when a flow limit
 * is reached (or the stream's idle timeout / 4, if shorter)
 */
#define FUNNEL_FLOW_EVICT_IDLE_MS	1000
/* to find one to evict: the idlest of the first so many that qualify,
 * looking at so many flows at most, in so many buckets at most
 */
#define FUNNEL_FLOW_EVICT_SAMPLE	8
#define FUNNEL_FLOW_EVICT_LOOK		64
#define FUNNEL_FLOW_EVICT_SCAN		256

/* One UDP flow of a stream. */
struct funnel_flow {
	struct hlist_node id_node;
	struct hlist_node addr_node;
	struct list_head list;		/* on the connecting list */
	struct list_head gc_node;	/* evicted, expired or torn down */
	refcount_t ref;			/* hash entry, connecting list */
	bool unlinked;			/* out of the hash (flow_lock) */
	struct funnel_stream *st;
	u32 id;
	struct funnel_addr peer;	/* client's source, or the target */
	struct funnel_addr local;	/* address the client sent to */
	struct funnel_net *fn;		/* its netns's counters */
	struct socket *sock;		/* udp-connect: published once */
	struct sk_buff_head pending;	/* udp-connect: before sock */
	u32 pending_bytes;		/* truesize of pending (its lock) */
	u32 dst_cookie;			/* IPv6: dst's fib serial number */
	struct dst_entry __rcu *dst;	/* its route to the UDP side */
	unsigned long last_used;	/* jiffies */
	atomic64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	struct rcu_work free_work;
};

struct funnel_sock *funnel_sk(const struct sock *sk);
bool funnel_sk_is_ulp(const struct sock *sk);
int funnel_ulp_init(void);
void funnel_ulp_exit(void);

/* The memory cgroup of the carrier's socket, which pays for what the
 * kernel allocates for it in softirq (flows) and in works (flow sockets);
 * NULL: none (set_active_memcg(NULL) charges as usual).
 */
static inline struct mem_cgroup *funnel_memcg(const struct funnel_sock *fs)
{
#ifdef CONFIG_MEMCG
	if (mem_cgroup_sockets_enabled)
		return READ_ONCE(fs->sk->sk_memcg);
#endif
	return NULL;
}

/* An event of a stream counts on the stream and on its carrier. */
static inline void funnel_stream_count(struct funnel_stream *st, int idx)
{
	funnel_stat_inc(st->stats, idx);
	funnel_stat_inc(st->fs->stats, idx);
}

int funnel_tx_frame(struct funnel_sock *fs, struct sk_buff *skb, bool prio);
int funnel_tx_limit(const struct funnel_sock *fs, bool ctrl);
bool funnel_tx_room(const struct funnel_sock *fs, unsigned int len, bool ctrl);
bool funnel_tx_charge(struct funnel_sock *fs, unsigned int len, bool ctrl);
bool funnel_tx_pending(const struct funnel_sock *fs);
atomic_t *funnel_tx_count(struct funnel_sock *fs, bool ctrl);
bool funnel_rx_full(const struct funnel_sock *fs);
void funnel_rx_frame(struct funnel_sock *fs, struct sk_buff *skb);
int funnel_rx_deliver(struct funnel_sock *fs, struct sk_buff *skb,
		      struct msghdr *msg, size_t len, int flags);
bool funnel_user_hdr_ok(struct funnel_sock *fs, const struct funnel_hdr *hdr);
u32 funnel_close_reason(const struct funnel_sock *fs);
void funnel_tx_purge(struct funnel_sock *fs);

/* sctp.c: SCTP carriers */
struct funnel_sock *funnel_sctp_attach(struct socket *sock,
				       struct netlink_ext_ack *extack,
				       int *errp);
int funnel_sctp_tx_frame(struct funnel_sock *fs, struct sk_buff *skb,
			 bool prio);
int funnel_sctp_stream_check(struct funnel_sock *fs, u16 id,
			     struct netlink_ext_ack *extack);
u64 funnel_sctp_abandoned(struct funnel_sock *fs, int sid);
bool funnel_sctp_addrs(struct funnel_sock *fs, struct funnel_addr *local,
		       struct funnel_addr *remote);
void funnel_sctp_shutdown(struct sock *sk);
struct workqueue_struct *funnel_workqueue(void);

/* stream.c */
struct funnel_stream_cfg {
	u16 id;
	u32 kind;
	bool unordered;
	struct funnel_addr local;
	struct funnel_addr remote;
	u32 flow_idle_ms;
	u32 flow_max;
	u32 pr_ttl_ms;
	struct funnel_key *key;	/* primary key or NULL; always consumed */
	u32 relay_carrier;	/* relay: pair with this carrier's ... */
	u16 relay_stream;	/* ... relay stream (0: none yet) */
};

int funnel_stream_new(struct funnel_sock *fs,
		      const struct funnel_stream_cfg *cfg,
		      struct netlink_ext_ack *extack);
int funnel_stream_del(struct funnel_sock *fs, u16 id);
void funnel_streams_destroy(struct funnel_sock *fs);
struct funnel_stream *funnel_stream_lookup(struct funnel_sock *fs, u16 id);
void funnel_stream_rcv(struct funnel_stream *st, struct sk_buff *skb,
		       const struct funnel_hdr *hdr, unsigned int off,
		       unsigned int len);
void funnel_stream_deliver(struct funnel_stream *st, struct sk_buff *pl,
			   u32 id, unsigned int wire);
struct funnel_flow *funnel_flow_lookup_id(struct funnel_stream *st, u32 id);
struct funnel_flow *funnel_flow_lookup_addr(struct funnel_stream *st,
					    const struct funnel_addr *a);
struct funnel_flow *funnel_flow_get(struct funnel_stream *st, u32 id,
				    const struct funnel_addr *peer,
				    const struct funnel_addr *local);
void funnel_flow_end(struct funnel_stream *st, u32 id);
u32 funnel_carrier_flows_max(void);
u32 funnel_netns_flows_max(void);
void funnel_stream_drop(struct funnel_stream *st, struct sk_buff *skb,
			int reason);
void funnel_stream_xmit(struct funnel_stream *st, struct funnel_flow *flow,
			u32 id, struct sk_buff *skb);
u32 funnel_flow_idle_ms(const struct funnel_flow *flow);
unsigned int funnel_flow_buckets(const struct funnel_stream *st);

/* udp.c: the UDP side of kernel streams */
#define FUNNEL_UDP_HEADROOM	(LL_MAX_HEADER + sizeof(struct ipv6hdr) + \
				 sizeof(struct udphdr))

int funnel_udp_listen_open(struct funnel_stream *st,
			   struct netlink_ext_ack *extack);
int funnel_udp_flow_open(struct funnel_stream *st, struct funnel_flow *flow,
			 struct socket **sockp);
void funnel_udp_sock_close(struct socket *sock);
int funnel_udp_send(struct funnel_stream *st, struct funnel_flow *flow,
		    struct sk_buff *skb);
void funnel_flow_dst_free(struct funnel_flow *flow);
struct sk_buff *funnel_udp_payload_skb(const struct sk_buff *src,
				       unsigned int off, unsigned int len);

struct crypto_aead;

/* crypto.c: AES-256-GCM sealing of DATA bodies (wire-format.md 9) */
#define FUNNEL_REPLAY_WINDOW	1024

struct funnel_key_cfg {
	u32 slot;
	u32 key_id;
	u32 cipher;
	const u8 *enc_key, *enc_salt;
	const u8 *dec_key, *dec_salt;
	u64 soft_limit;			/* 0: none */
	u64 hard_limit;			/* 0: none */
	bool sync;			/* a synchronous AEAD (ordered stream) */
};

struct funnel_key {
	u32 key_id;
	u32 cipher;
	u64 soft_limit;
	u64 hard_limit;
	struct crypto_aead *enc;
	struct crypto_aead *dec;
	u8 enc_salt[FUNNEL_SALT_LEN];
	u8 dec_salt[FUNNEL_SALT_LEN];
	atomic64_t tx_seq;		/* the last counter used to seal */
	atomic_t inflight;		/* AEAD operations under way */
	unsigned long expire_ntf_at;	/* last key-expire-ntf try, jiffies */
	bool expire_ntf_sent;		/* a key-expire-ntf went out */

	/* replay state of the decrypt direction */
	spinlock_t rx_lock;
	u64 rx_high;			/* highest counter accepted, 0: none */
	DECLARE_BITMAP(rx_seen, FUNNEL_REPLAY_WINDOW);

	struct rcu_work free_work;
};

struct funnel_key *funnel_key_alloc(const struct funnel_key_cfg *cfg,
				    struct netlink_ext_ack *extack);
void funnel_key_free(struct funnel_key *key);
void funnel_key_free_rcu(struct funnel_key *key);
bool funnel_stream_keyed(const struct funnel_stream *st);
bool funnel_seal(struct funnel_stream *st, const struct funnel_hdr *hdr,
		 struct sk_buff *skb, unsigned int off, unsigned int len,
		 struct funnel_key **expired);
void funnel_key_expire_notify(struct funnel_stream *st,
			      struct funnel_key *key);
void funnel_open(struct funnel_stream *st, const struct sk_buff *skb,
		 unsigned int foff, unsigned int flen,
		 const struct funnel_hdr *hdr);

/* carrier.c: the per-netns table of registered carriers */
struct funnel_net {
	struct mutex lock;		/* protects carriers, next_id */
	struct xarray carriers;		/* id -> struct funnel_sock */
	u32 next_id;			/* cyclic ids: not reused soon */
	atomic_t owned;			/* carriers with a socket-owner */
	atomic_t nflows;		/* flows (and their sockets) */
	atomic_t pending_bytes;		/* held by connecting flows */
};

struct funnel_net *funnel_pernet(const struct net *net);
int funnel_carrier_register(struct funnel_sock *fs, u32 owner, u32 *id,
			    struct netlink_ext_ack *extack);
void funnel_carrier_release_owner(struct net *net, u32 portid);
void funnel_carrier_unregister(struct funnel_sock *fs, u32 reason);
int funnel_carrier_del(struct net *net, u32 id, u32 reason);
void funnel_carrier_down_work(struct work_struct *work);
int funnel_carrier_init(void);
void funnel_carrier_exit(void);

/* netlink.c */
int funnel_nl_init(void);
void funnel_nl_exit(void);
void funnel_nl_notify_down(struct net *net, u32 carrier_id, u32 reason);
void funnel_nl_notify_flow_limit(struct funnel_stream *st);
int funnel_nl_notify_key_expire(struct funnel_stream *st,
				const struct funnel_key *key);
int funnel_nl_fill_carrier(struct sk_buff *msg, struct funnel_sock *fs,
			   u32 portid, u32 seq, int flags);

#endif /* _FUNNEL_H */
