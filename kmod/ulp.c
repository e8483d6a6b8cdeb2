// SPDX-License-Identifier: GPL-2.0
/*
 * The "funnel" TCP ULP: Funnel frames on a TCP carrier.
 *
 * Receive: strparser cuts the byte stream at the 16-bit length prefix;
 * each complete frame is demultiplexed.  Control frames are queued for
 * recvmsg(), one frame per call, charged to the socket's receive memory.
 *
 * Transmit: a frame is one skb holding prefix, header and body.  Frames
 * leave in order and at most one of them is partially written to TCP at
 * any time (tx_partial); it is resumed when TCP has room again, so frames
 * never interleave.  A frame of the kernel's data path is pushed as it is
 * queued, or, while the carrier is busy, by a work item on the next CPU
 * with those queued meanwhile; frames queued while a user context owns
 * the socket are pushed by release_sock(), and when TCP has room again by
 * a work item.  Frames that go out together are written with MSG_MORE but
 * the last, so TCP fills its segments with them.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/sched/isolation.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "funnel.h"

static struct proto funnel_prot;
static struct proto_ops funnel_ops;
static struct proto funnel6_prot;
static struct proto_ops funnel6_ops;
static const struct proto *funnel6_built_from;
static DEFINE_MUTEX(funnel6_prot_mutex);

struct funnel_sock *funnel_sk(const struct sock *sk)
{
	return (__force struct funnel_sock *)inet_csk(sk)->icsk_ulp_data;
}

bool funnel_sk_is_ulp(const struct sock *sk)
{
	const struct proto *prot = READ_ONCE(sk->sk_prot);

	return prot == &funnel_prot || prot == &funnel6_prot;
}

/* ---- receive ---- */

/* A frame on rxq: charged to the socket's receive memory.  Freed with
 * the socket locked (recvmsg, close), as sk_mem_uncharge() wants.
 */
struct funnel_rx_cb {
	struct strp_msg strp;
	struct funnel_sock *fs;		/* whose rx_queued it counts in */
	bool charged;			/* sk_mem_charge()d */
};

static struct funnel_rx_cb *funnel_rx_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct funnel_rx_cb) >
		     sizeof_field(struct sk_buff, cb) -
		     offsetof(struct sk_skb_cb, strp));
	return (struct funnel_rx_cb *)strp_msg(skb);
}

static void funnel_rfree(struct sk_buff *skb)
{
	struct funnel_sock *fs = funnel_rx_cb(skb)->fs;
	struct sock *sk = skb->sk;

	atomic_sub(skb->truesize, &fs->rx_queued);
	if (!fs->sctp)
		atomic_sub(skb->truesize, &sk->sk_rmem_alloc);
	if (funnel_rx_cb(skb)->charged)
		sk_mem_uncharge(sk, skb->truesize);
}

/* Frames up to this size are copied out of the (often much larger) TCP
 * buffer they arrived in, so a small control frame does not pin and get
 * charged for a whole receive buffer.
 */
#define FUNNEL_RX_COPYBREAK	2048

bool funnel_rx_full(const struct funnel_sock *fs)
{
	return atomic_read(&fs->rx_queued) >= READ_ONCE(fs->sk->sk_rcvbuf) ||
	       READ_ONCE(fs->rx_pressure);
}

static struct sk_buff *funnel_rx_compact(struct sk_buff *skb)
{
	struct strp_msg *rxm = strp_msg(skb);
	struct sk_buff *nskb;

	if (rxm->full_len > FUNNEL_RX_COPYBREAK)
		return skb;

	nskb = alloc_skb(rxm->full_len, GFP_ATOMIC);
	if (!nskb)
		return skb;
	if (skb_copy_bits(skb, rxm->offset, skb_put(nskb, rxm->full_len),
			  rxm->full_len) < 0) {
		kfree_skb(nskb);
		return skb;
	}
	strp_msg(nskb)->offset = 0;
	strp_msg(nskb)->full_len = rxm->full_len;
	consume_skb(skb);
	return nskb;
}

/* Queue a frame for recvmsg().  The strparser message is narrowed to the
 * frame itself (no length prefix).  The queued frames are charged to
 * sk_rmem_alloc and, within what the protocol's memory limits allow
 * (sk_rmem_schedule()), to the socket's forward allocation; once they use
 * up sk_rcvbuf, or the memory limits refuse one, the parser pauses, so
 * the frames behind stay in TCP and TCP closes its window, until
 * recvmsg() makes room.  Nothing for the daemon is ever dropped: the one
 * frame the limits refused is queued all the same (there is always one
 * on the queue, then, for recvmsg() to take and resume).  Called with
 * the socket locked.
 *
 * On an SCTP carrier the reader (sctp.c) pauses instead of the parser,
 * and the frames are not added to sk_rmem_alloc: SCTP drops, rather than
 * windows, what arrives while sk_rmem_alloc is above sk_rcvbuf, so the
 * kernel streams' datagrams behind would wait for retransmissions.
 */
static void funnel_rx_user(struct funnel_sock *fs, struct sk_buff *skb)
{
	struct strp_msg *rxm = strp_msg(skb);
	struct sock *sk = fs->sk;

	rxm->offset += FUNNEL_LEN_PREFIX;
	rxm->full_len -= FUNNEL_LEN_PREFIX;
	/* (the SCTP reader's skbs are sized to their frame already) */
	if (!fs->sctp)
		skb = funnel_rx_compact(skb);

	skb_orphan(skb);
	skb->sk = sk;
	skb->destructor = funnel_rfree;
	funnel_rx_cb(skb)->fs = fs;
	funnel_rx_cb(skb)->charged = sk_rmem_schedule(sk, skb, skb->truesize);
	if (funnel_rx_cb(skb)->charged)
		sk_mem_charge(sk, skb->truesize);
	else
		WRITE_ONCE(fs->rx_pressure, true);
	atomic_add(skb->truesize, &fs->rx_queued);
	if (!fs->sctp)
		atomic_add(skb->truesize, &sk->sk_rmem_alloc);
	skb_queue_tail(&fs->rxq, skb);

	/* recvmsg() frees frames and resumes under the socket lock too */
	if (funnel_rx_full(fs)) {
		if (fs->sctp)
			WRITE_ONCE(fs->rx_paused, true);
		else
			strp_pause(&fs->strp);
	}
	fs->saved_data_ready(sk);
}

/* recvmsg() took a frame: let the parser (TCP) or the reader (SCTP) go
 * on if it waits for room (the memory limits are asked again with the
 * next frame).  Socket locked: strparser's flags change only under it,
 * and funnel_rx_user() pauses the reader under it.
 */
static void funnel_rx_resume(struct funnel_sock *fs)
{
	WRITE_ONCE(fs->rx_pressure, false);
	if (fs->closing || funnel_rx_full(fs))
		return;
	if (!fs->sctp && fs->strp.paused) {
		strp_unpause(&fs->strp);
	} else if (fs->sctp && fs->rx_paused) {
		WRITE_ONCE(fs->rx_paused, false);
		queue_work(funnel_workqueue(), &fs->rx_work);
	}
}

static void funnel_rx_drop(struct funnel_sock *fs, struct sk_buff *skb,
			   int reason)
{
	funnel_stat_inc(fs->stats, reason);
	kfree_skb(skb);
}

/*
 * One frame, length prefix included, at strp_msg(skb)'s offset: wire-format.md
 * section 12.  From the strparser (TCP, softirq or its work, the socket
 * locked) and from the SCTP reader (sctp.c: a work item, the socket
 * locked, BHs off).  Consumes skb.
 */
void funnel_rx_frame(struct funnel_sock *fs, struct sk_buff *skb)
{
	struct strp_msg *rxm = strp_msg(skb);
	unsigned int len = rxm->full_len - FUNNEL_LEN_PREFIX;
	struct funnel_stream *st;
	struct funnel_hdr hdr;

	if (skb_copy_bits(skb, rxm->offset + FUNNEL_LEN_PREFIX, &hdr,
			  sizeof(hdr)) < 0) {
		funnel_rx_drop(fs, skb, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}

	funnel_stat_frame(fs->stats, FUNNEL_A_STATS_RX_FRAMES, len);
	/* the next data frame we send answers something (funnel_tx_streak()) */
	if (!READ_ONCE(fs->rx_since_tx))
		WRITE_ONCE(fs->rx_since_tx, true);

	if (hdr.flags & FUNNEL_F_RESERVED) {
		funnel_rx_drop(fs, skb, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}

	switch (hdr.type) {
	case FUNNEL_T_CTRL:
		funnel_rx_user(fs, skb);
		return;
	case FUNNEL_T_DATA:
	case FUNNEL_T_FLOW_END:
		break;
	default:
		funnel_rx_drop(fs, skb, FUNNEL_A_STATS_RX_DROP_UNKNOWN_TYPE);
		return;
	}

	if (hdr.stream == htons(FUNNEL_CTRL_STREAM) ||
	    (hdr.flags & FUNNEL_F_RESET && hdr.type != FUNNEL_T_FLOW_END)) {
		funnel_rx_drop(fs, skb, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}

	rcu_read_lock();
	st = funnel_stream_lookup(fs, ntohs(hdr.stream));
	if (!st) {
		rcu_read_unlock();
		funnel_rx_drop(fs, skb, FUNNEL_A_STATS_RX_DROP_NO_STREAM);
		return;
	}
	if (st->kind == FUNNEL_STREAM_USER) {
		funnel_stat_frame(st->stats, FUNNEL_A_STATS_RX_FRAMES, len);
		rcu_read_unlock();
		funnel_rx_user(fs, skb);	/* FLOW_END sealed or not */
		return;
	}
	/* kernel streams (UDP services): FLOW_END is never sealed */
	if (hdr.type == FUNNEL_T_FLOW_END &&
	    (len != FUNNEL_HDR_LEN || hdr.flags & FUNNEL_F_SEALED)) {
		rcu_read_unlock();
		funnel_rx_drop(fs, skb, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}
	funnel_stream_rcv(st, skb, &hdr,
			  rxm->offset + FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN,
			  len - FUNNEL_HDR_LEN);
	rcu_read_unlock();
}

static void funnel_rcv(struct strparser *strp, struct sk_buff *skb)
{
	funnel_rx_frame(container_of(strp, struct funnel_sock, strp), skb);
}

static int funnel_parse(struct strparser *strp, struct sk_buff *skb)
{
	struct strp_msg *rxm = strp_msg(skb);
	__be16 blen;
	u16 len;
	int err;

	if (skb->len < rxm->offset + FUNNEL_LEN_PREFIX)
		return 0;

	err = skb_copy_bits(skb, rxm->offset, &blen, sizeof(blen));
	if (err < 0)
		return err;

	len = be16_to_cpu(blen);
	if (len < FUNNEL_HDR_LEN)
		return -EPROTO;

	return FUNNEL_LEN_PREFIX + len;
}

/* The byte stream cannot be trusted any more: stop parsing and report
 * the error on the socket; the owner sees it from recvmsg() and poll().
 */
static void funnel_abort(struct strparser *strp, int err)
{
	struct funnel_sock *fs = container_of(strp, struct funnel_sock, strp);
	struct sock *sk = strp->sk;

	if (strp->stopped)
		return;
	strp_stop(strp);

	switch (err) {
	case -EPROTO:
		WRITE_ONCE(fs->down_reason, FUNNEL_DOWN_BAD_LENGTH);
		break;
	case -EMSGSIZE:
		WRITE_ONCE(fs->down_reason, FUNNEL_DOWN_OVERSIZE);
		break;
	default:
		WRITE_ONCE(fs->down_reason, FUNNEL_DOWN_SOCK_ERROR);
		break;
	}
	funnel_stat_inc(fs->stats, FUNNEL_A_STATS_RX_DROP_MALFORMED);

	/* the reason before the error: funnel_set_err_down() reads it
	 * once it has seen sk_err
	 */
	smp_wmb();
	WRITE_ONCE(sk->sk_err, -err);
	sk_error_report(sk);
	queue_work(funnel_workqueue(), &fs->down_work);
}

/* The peer closed or reset the connection: the carrier goes down now,
 * not only when the owner closes the socket.
 */
static void funnel_state_change(struct sock *sk)
{
	struct funnel_sock *fs = funnel_sk(sk);

	if ((sk->sk_shutdown & RCV_SHUTDOWN) || sk->sk_err ||
	    sk->sk_state == TCP_CLOSE) {
		if (!READ_ONCE(fs->down_reason))
			WRITE_ONCE(fs->down_reason,
				   sk->sk_err ? FUNNEL_DOWN_SOCK_ERROR :
						FUNNEL_DOWN_PEER_CLOSED);
		queue_work(funnel_workqueue(), &fs->down_work);
	}
	fs->saved_state_change(sk);
}

/* carriers one receive run queues relayed frames on, at most, and pushes
 * when it is done; beyond it a frame is pushed at once
 */
#define FUNNEL_RX_PLUG_MAX	4
/* truesize of the frames waiting in a carrier's txq that makes a
 * receive run push them before it is done
 */
#define FUNNEL_TX_PLUG_MAX	(64 * 1024)

/*
 * A TCP carrier's receive run on this CPU (strparser from sk_data_ready,
 * under the carrier socket's spinlock, BHs off): sk is that socket.  A
 * frame the run queues on another carrier (a relay's, switchbox.md) must
 * not wait for that carrier's spinlock, whose holder may be waiting for
 * ours (funnel_tx_frame() only tries it), and is pushed with the others
 * of the run once it is done (plugged), so that TCP fills its segments
 * with them, as it does with the frames funneld writes in one go.
 */
struct funnel_rx_run {
	const struct sock *sk;
	unsigned int nplugged;
	struct funnel_sock *plugged[FUNNEL_RX_PLUG_MAX];
};

static DEFINE_PER_CPU(struct funnel_rx_run, funnel_rx_run);

static void funnel_tx_push(struct funnel_sock *fs);

/* Push the frames the run queued on other carriers.  Each carrier is
 * still there: funnel_close() waits for an RCU grace period, and so for
 * this BH-off section, before it frees anything or cancels tx_work for
 * the last time.
 */
static void funnel_rx_run_flush(struct funnel_rx_run *run)
{
	struct funnel_sock *fs;
	struct sock *sk;
	unsigned int i;

	for (i = 0; i < run->nplugged; i++) {
		fs = run->plugged[i];
		sk = fs->sk;
		if (!spin_trylock(&sk->sk_lock.slock)) {
			queue_work(funnel_workqueue(), &fs->tx_work);
			continue;
		}
		/* owned: release_sock() pushes them (funnel_release_cb()) */
		if (!sock_owned_by_user(sk) && !READ_ONCE(fs->closing))
			funnel_tx_push(fs);
		spin_unlock(&sk->sk_lock.slock);
	}
	run->nplugged = 0;
}

static void funnel_data_ready(struct sock *sk)
{
	struct funnel_rx_run *run;

	/* owned (release_sock() runs the backlog, preemptible): strparser
	 * parses from its work, under lock_sock(); else TCP calls us under
	 * the socket's spinlock, BHs off
	 */
	if (!in_softirq() || sock_owned_by_user_nocheck(sk)) {
		strp_data_ready(&funnel_sk(sk)->strp);
		return;
	}
	run = this_cpu_ptr(&funnel_rx_run);
	if (run->sk) {
		/* never nested: pushing to TCP only queues to a backlog */
		net_warn_ratelimited("funnel: nested carrier receive run\n");
		strp_data_ready(&funnel_sk(sk)->strp);
		return;
	}
	run->sk = sk;
	strp_data_ready(&funnel_sk(sk)->strp);
	funnel_rx_run_flush(run);
	run->sk = NULL;
}

/* Whether this CPU is in a receive run (BHs off), which pushes fs after
 * it (true), or fs must be pushed now.
 */
static bool funnel_rx_run_plug(struct funnel_rx_run *run,
			       struct funnel_sock *fs)
{
	unsigned int i;

	if (!run->sk)
		return false;
	for (i = 0; i < run->nplugged; i++)
		if (run->plugged[i] == fs)
			return true;
	if (run->nplugged == FUNNEL_RX_PLUG_MAX)
		return false;
	run->plugged[run->nplugged++] = fs;
	return true;
}

static bool funnel_sock_is_readable(struct sock *sk)
{
	return !skb_queue_empty_lockless(&funnel_sk(sk)->rxq);
}

static int funnel_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			  int flags, int *addr_len)
{
	struct funnel_sock *fs = funnel_sk(sk);
	struct sk_buff *skb;
	int off = 0, err = 0;

	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return -EINVAL;

	skb = __skb_recv_datagram(sk, &fs->rxq, flags, &off, &err);
	if (!skb) {
		/* every frame has been read and the peer closed: EOF, also
		 * for MSG_DONTWAIT
		 */
		if (err == -EAGAIN && (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN))
			return 0;
		return err;
	}
	return funnel_rx_deliver(fs, skb, msg, len, flags);
}

/*
 * recvmsg() of TCP and SCTP carriers: copy the frame skb (taken off rxq,
 * or peeked with a reference) to msg, free it under the socket lock and
 * let the receive side go on.
 */
int funnel_rx_deliver(struct funnel_sock *fs, struct sk_buff *skb,
		      struct msghdr *msg, size_t len, int flags)
{
	struct sock *sk = fs->sk;
	struct strp_msg *rxm;
	size_t copied;
	int err;

	rxm = strp_msg(skb);
	copied = min_t(size_t, len, rxm->full_len);
	if (copied < rxm->full_len)
		msg->msg_flags |= MSG_TRUNC;

	err = skb_copy_datagram_msg(skb, rxm->offset, msg, copied);
	if (!err)
		err = (flags & MSG_TRUNC) ? rxm->full_len : copied;

	/* the frame's memory is uncharged under the socket lock */
	lock_sock(sk);
	consume_skb(skb);
	if (!(flags & MSG_PEEK))
		funnel_rx_resume(fs);
	release_sock(sk);
	return err;
}

/* ---- transmit ---- */

static void funnel_tx_wake(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM);
	/* SIGIO for an O_ASYNC owner that found no room (funnel_tx_wait()) */
	if (wq && wq->fasync_list)
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/*
 * Three queues feed the one byte stream: CTRL frames from userspace and
 * the kernel's FLOW_END frames (txq_ctrl), the kernel's data frames
 * (txq: datagrams of the streams it forwards itself), and userspace's
 * other frames (txq_user: funneld's user streams, TCP services).  At
 * each frame boundary a queued control frame goes first, so keepalives,
 * rekeys, stream set-up and the end of flows never wait behind a flood
 * of data.  txq and txq_user take turns (deficit round robin, by bytes,
 * FUNNEL_TX_QUANTUM a turn) while both have frames, so a datagram that
 * finds txq empty waits behind at most the frame being written in our
 * queues, and neither starves the other; within each queue frames keep
 * their order.
 *
 * txq holds up to sk_sndbuf bytes (truesize), and at least
 * FUNNEL_TX_DATA_MIN so that a few of the largest frames fit whatever
 * TCP's autotuning says; txq_ctrl up to its own FUNNEL_TX_CTRL_MAX, so
 * data never takes the room of control frames; txq_user up to
 * FUNNEL_TX_USER_MAX: the backlog of funneld's TCP streams stays in
 * funneld's queue, where its streams take turns, not in ours.  A writer
 * that finds txq_user (or txq_ctrl) full marks it (tx_user_wait), and
 * waits, or gets -EAGAIN; poll() reports EPOLLOUT while the largest
 * frame fits in both queues, and marks a queue where it does not as a
 * writer would.  A marked queue takes no frame of userspace's, and is
 * not writable, until it is down to its resume mark
 * (FUNNEL_TX_USER_RESUME): the pusher then clears the mark and wakes
 * writers and pollers.  TCP's own room does not make the socket
 * writable: frames go to our queues.
 */
#define FUNNEL_TX_CTRL_MAX	(256 * 1024)
#define FUNNEL_TX_CTRL_RESUME	(128 * 1024)
#define FUNNEL_TX_DATA_MIN	(256 * 1024)
#define FUNNEL_TX_USER_MAX	(192 * 1024)
#define FUNNEL_TX_USER_RESUME	(56 * 1024)
#define FUNNEL_TX_QUANTUM	(16 * 1024)

/* At least the truesize of the largest frame from userspace
 * (funnel_frame_from_user()): a head of FUNNEL_LEN_PREFIX +
 * FUNNEL_HDR_LEN bytes, whose kmalloc or small-head cache object is
 * rounded up (to under 1 KiB on the kernels we build for), and a body
 * in pages, in chunks of at most PAGE_ALLOC_COSTLY_ORDER.
 */
#define FUNNEL_TX_USER_FRAME_MAX \
	(SKB_TRUESIZE(SKB_WITH_OVERHEAD(1024)) + \
	 ALIGN(FUNNEL_MAX_FRAME, PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER))
/* two of the largest frames fit after a resume */
static_assert(FUNNEL_TX_USER_MAX - FUNNEL_TX_USER_RESUME >=
	      2 * FUNNEL_TX_USER_FRAME_MAX);
static_assert(FUNNEL_TX_CTRL_MAX - FUNNEL_TX_CTRL_RESUME >=
	      FUNNEL_TX_USER_FRAME_MAX);

/* TCP_NOTSENT_LOWAT of a carrier: bytes written to TCP but not yet sent
 * that a frame (a CTRL frame, a datagram) may find ahead of it.  Enough
 * to keep a fast path busy between two write_space rounds.
 */
#define FUNNEL_NOTSENT_LOWAT	(256 * 1024)

enum funnel_txq {
	FUNNEL_TXQ_DATA,
	FUNNEL_TXQ_USER,
	FUNNEL_TXQ_CTRL,
};

/* txq or txq_user, the two that take turns (tx_turn_user) */
static enum funnel_txq funnel_txq_data(bool user)
{
	return user ? FUNNEL_TXQ_USER : FUNNEL_TXQ_DATA;
}

static bool funnel_frame_is_ctrl(const struct sk_buff *skb)
{
	const struct funnel_hdr *hdr;

	hdr = (const struct funnel_hdr *)(skb->data + FUNNEL_LEN_PREFIX);
	return hdr->type == FUNNEL_T_CTRL;
}

atomic_t *funnel_tx_count(struct funnel_sock *fs, bool ctrl)
{
	return ctrl ? &fs->tx_ctrl_queued : &fs->tx_queued;
}

static atomic_t *funnel_txq_count(struct funnel_sock *fs, enum funnel_txq q)
{
	switch (q) {
	case FUNNEL_TXQ_USER:
		return &fs->tx_user_queued;
	case FUNNEL_TXQ_CTRL:
		return &fs->tx_ctrl_queued;
	default:
		return &fs->tx_queued;
	}
}

static struct sk_buff_head *funnel_txq(struct funnel_sock *fs,
				       enum funnel_txq q)
{
	switch (q) {
	case FUNNEL_TXQ_USER:
		return &fs->txq_user;
	case FUNNEL_TXQ_CTRL:
		return &fs->txq_ctrl;
	default:
		return &fs->txq;
	}
}

bool funnel_tx_pending(const struct funnel_sock *fs)
{
	return atomic_read(&fs->tx_queued) ||
	       atomic_read(&fs->tx_ctrl_queued) ||
	       atomic_read(&fs->tx_user_queued);
}

static void funnel_txq_purge(struct funnel_sock *fs, enum funnel_txq q)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(funnel_txq(fs, q)))) {
		atomic_sub(skb->truesize, funnel_txq_count(fs, q));
		kfree_skb(skb);
		funnel_stat_inc(fs->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
	}
}

void funnel_tx_purge(struct funnel_sock *fs)
{
	if (fs->tx_partial) {
		atomic_sub(fs->tx_partial->truesize,
			   funnel_txq_count(fs, fs->tx_partial_q));
		kfree_skb(fs->tx_partial);
		fs->tx_partial = NULL;
		funnel_stat_inc(fs->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
	}
	/* frame by frame: a softirq may queue one meanwhile (the owner's
	 * context holds the socket, not its spinlock)
	 */
	funnel_txq_purge(fs, FUNNEL_TXQ_CTRL);
	funnel_txq_purge(fs, FUNNEL_TXQ_DATA);
	funnel_txq_purge(fs, FUNNEL_TXQ_USER);
}

/*
 * TCP refused a frame for good (the connection failed, or a frame was cut
 * in the middle): the byte stream cannot carry another frame.  Nothing
 * more is queued; the carrier goes down from its down_work, which resets
 * a connection that is still up.  Socket locked (or its spinlock held).
 */
static void funnel_tx_fail(struct funnel_sock *fs)
{
	WRITE_ONCE(fs->tx_broken, true);
	funnel_tx_purge(fs);
	/* writers and pollers waiting for room learn of it (EPIPE) */
	funnel_tx_wake(fs->sk);
	if (!READ_ONCE(fs->down_reason))
		WRITE_ONCE(fs->down_reason, FUNNEL_DOWN_SOCK_ERROR);
	queue_work(funnel_workqueue(), &fs->down_work);
}

/*
 * The next data frame: txq and txq_user take turns while both have
 * frames.  A turn adds FUNNEL_TX_QUANTUM to the queue's deficit and lasts
 * while it is positive; a frame takes its length off, so a queue of
 * large frames pays for them with turns it skips later.  A queue served
 * alone, and one that runs empty, keep neither credit nor debt, so a
 * queue that gets a frame while the other is served alone has the next
 * turn.  tx_deficit[] and tx_partial_q are indexed by user (0: txq).
 * Only the pusher dequeues (others only add; the socket is locked), so
 * the loop ends: each round adds a quantum to one side.
 */
static struct sk_buff *funnel_tx_next_data(struct funnel_sock *fs)
{
	enum funnel_txq mine, other;
	struct sk_buff *skb;
	bool user;

	for (;;) {
		user = fs->tx_turn_user;
		mine = funnel_txq_data(user);
		other = funnel_txq_data(!user);
		if (skb_queue_empty_lockless(funnel_txq(fs, other))) {
			/* nobody to take turns with */
			fs->tx_deficit[!user] = 0;
			fs->tx_deficit[user] = 0;
			skb = skb_dequeue(funnel_txq(fs, mine));
			if (skb) {
				fs->tx_partial_q = mine;
				return skb;
			}
			fs->tx_turn_user = !user;
			skb = skb_dequeue(funnel_txq(fs, other));
			if (skb)
				fs->tx_partial_q = other;
			return skb;
		}
		if (fs->tx_deficit[user] > 0) {
			skb = skb_dequeue(funnel_txq(fs, mine));
			if (skb) {
				fs->tx_deficit[user] -= skb->len;
				fs->tx_partial_q = mine;
				return skb;
			}
			fs->tx_deficit[user] = 0;
		}
		fs->tx_turn_user = !user;
		fs->tx_deficit[!user] += FUNNEL_TX_QUANTUM;
	}
}

/* A writer or a poller found no room in txq_user or txq_ctrl: wake it
 * once the queue is down to its resume mark.  Any context, socket locked.
 */
static void funnel_tx_resume(struct funnel_sock *fs)
{
	bool wake = false;

	/* the queues' counts before the marks: pairs with funnel_poll_room(),
	 * which sets a mark locklessly, then reads the count
	 */
	smp_mb();
	if (READ_ONCE(fs->tx_user_wait) &&
	    atomic_read(&fs->tx_user_queued) <= FUNNEL_TX_USER_RESUME) {
		WRITE_ONCE(fs->tx_user_wait, false);
		wake = true;
	}
	if (READ_ONCE(fs->tx_ctrl_wait) &&
	    atomic_read(&fs->tx_ctrl_queued) <= FUNNEL_TX_CTRL_RESUME) {
		WRITE_ONCE(fs->tx_ctrl_wait, false);
		wake = true;
	}
	if (wake)
		funnel_tx_wake(fs->sk);
}

/*
 * TCP refused bytes of ours after it took some with MSG_MORE (tx_more):
 * it holds the last, unfinished segment of those until something pushes
 * it.  An ACK does (TCP sends what it holds, under the socket's own Nagle
 * setting), and write_space resumes us for the rest; with nothing in
 * flight no ACK comes, and TCP's probe timer would send it only after
 * 200 ms or more, so tx_work pushes it, out of our lock: TCP offers no
 * push under it.  Socket locked.
 */
static void funnel_tx_held(struct funnel_sock *fs)
{
	if (fs->tx_more && !tcp_sk(fs->sk)->packets_out) {
		WRITE_ONCE(fs->tx_unplug, true);
		queue_work(funnel_workqueue(), &fs->tx_work);
	}
}

/* Pieces of a frame up to this long are copied into TCP's own buffers
 * rather than spliced (6.5 on: MSG_SPLICE_PAGES): copied bytes join the
 * bytes before them in one page fragment, so a run of small frames fills
 * whole segments instead of using up an skb's fragment slots.
 */
#define FUNNEL_TX_COPYBREAK	2048

/* Is another frame queued behind the one being sent?  Only the pusher
 * dequeues, so a frame seen here is the next one this push sends (or the
 * one TCP refuses next).
 */
static bool funnel_tx_more(const struct funnel_sock *fs)
{
	return !skb_queue_empty_lockless(&fs->txq_ctrl) ||
	       !skb_queue_empty_lockless(&fs->txq) ||
	       !skb_queue_empty_lockless(&fs->txq_user);
}

/* Hand len bytes of msg to TCP, advancing tx_off by what it took: 0 once
 * all are taken, else -EAGAIN (TCP is full) or TCP's error.  MSG_MORE in
 * msg's flags leaves a segment TCP could send unfinished; tx_more records
 * that the bytes TCP took last came with it (a partial send has TCP push
 * what it took first).
 */
static int funnel_tx_piece(struct funnel_sock *fs, struct msghdr *msg,
			   int len)
{
	int ret;

	while (len) {
		ret = tcp_sendmsg_locked(fs->sk, msg, len);
		if (ret <= 0)
			return ret ?: -EPIPE;
		fs->tx_off += ret;
		fs->tx_more = ret == len && (msg->msg_flags & MSG_MORE);
		len -= ret;
	}
	return 0;
}

/* The piece [start, start + len) of the frame, from tx_off on. */
static int funnel_tx_linear(struct funnel_sock *fs, void *data,
			    unsigned int start, unsigned int len, int flags)
{
	struct msghdr msg = { .msg_flags = flags };
	unsigned int skip = fs->tx_off - start;
	struct kvec kv;

	kv.iov_base = data + skip;
	kv.iov_len = len - skip;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, kv.iov_len);
	return funnel_tx_piece(fs, &msg, kv.iov_len);
}

static int funnel_tx_page(struct funnel_sock *fs, const skb_frag_t *frag,
			  unsigned int start, int flags)
{
	struct msghdr msg = { .msg_flags = flags };
	unsigned int skip = fs->tx_off - start;
	unsigned int len = skb_frag_size(frag) - skip;
	struct bio_vec bv;

	if (len > FUNNEL_TX_COPYBREAK)
		msg.msg_flags |= FUNNEL_MSG_SPLICE;
	bvec_set_page(&bv, skb_frag_page(frag), len, skb_frag_off(frag) + skip);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, len);
	return funnel_tx_piece(fs, &msg, len);
}

/* Never wait, and never SIGPIPE: a push in softirq runs on whatever task
 * was interrupted, and an -EPIPE would signal it.
 */
#define FUNNEL_TX_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)

/*
 * Write frame skb to TCP from tx_off on, piece by piece: the head and the
 * page fragments of skb, then those of each skb on its frag_list.  Every
 * piece but the last goes with MSG_MORE, the last too when more (another
 * frame follows at once), so that TCP fills its segments with the frames
 * of a batch and pushes them with the batch's last one.  0 once the frame
 * is all written, else -EAGAIN or TCP's error.
 */
static int funnel_tx_send(struct funnel_sock *fs, struct sk_buff *skb,
			  bool more)
{
	unsigned int end = skb->len, start = 0, len, i;
	struct sk_buff *part = skb;
	int err, flags;

	do {
		len = skb_headlen(part);
		if (fs->tx_off < start + len) {
			flags = more || start + len < end ? MSG_MORE : 0;
			err = funnel_tx_linear(fs, part->data, start, len,
					       FUNNEL_TX_FLAGS | flags);
			if (err)
				return err;
		}
		start += len;
		for (i = 0; i < skb_shinfo(part)->nr_frags; i++) {
			const skb_frag_t *frag = &skb_shinfo(part)->frags[i];

			len = skb_frag_size(frag);
			if (fs->tx_off < start + len) {
				flags = more || start + len < end ? MSG_MORE : 0;
				err = funnel_tx_page(fs, frag, start,
						     FUNNEL_TX_FLAGS | flags);
				if (err)
					return err;
			}
			start += len;
		}
		part = part == skb ? skb_shinfo(skb)->frag_list : part->next;
	} while (part && start < end);
	return 0;
}

/*
 * Write queued frames to TCP until it has no room, or until budget bytes
 * of whole frames are written: true when it stopped for the budget with
 * frames left.  The frame that uses up the budget goes without MSG_MORE,
 * so that TCP sends what it holds.  judge: tx_work's push, which tells
 * whether deferring frames batched them (funnel_tx_defer_pays()); the
 * timer's, or a sender's that takes late frames along, found what a late
 * kworker left piling up, which says nothing of it.  Socket locked.
 */
static bool funnel_tx_push_some(struct funnel_sock *fs, unsigned int budget,
				bool judge)
{
	bool deferred = READ_ONCE(fs->tx_deferred), more, left = false;
	unsigned int frames = 0, bytes = 0;
	struct sk_buff *skb;
	int err;

	/* whoever pushes takes the deferred frames along */
	if (deferred) {
		WRITE_ONCE(fs->tx_deferred, false);
		/* the mark cleared, then the queue read: pairs with
		 * funnel_tx_join(), which queues, then reads the mark
		 */
		smp_mb();
	}
	/* a receive run that did not get the lock may have queued a frame
	 * after funnel_tx_fail() purged the queues: drop it now, not at
	 * close
	 */
	if (fs->tx_broken) {
		funnel_tx_purge(fs);
		return false;
	}
	for (;;) {
		skb = fs->tx_partial;
		if (!skb) {
			fs->tx_partial_q = FUNNEL_TXQ_CTRL;
			skb = skb_dequeue(&fs->txq_ctrl);
			if (!skb)
				skb = funnel_tx_next_data(fs);
			if (!skb)
				break;
			fs->tx_partial = skb;
			fs->tx_off = 0;
		}

		more = funnel_tx_more(fs) && bytes + skb->len < budget;
		err = funnel_tx_send(fs, skb, more);
		if (err == -EAGAIN) {
			funnel_tx_held(fs);
			break;			/* resumed by write_space */
		}
		if (err) {
			funnel_tx_fail(fs);
			return false;
		}

		funnel_stat_frame(fs->stats, FUNNEL_A_STATS_TX_FRAMES,
				  skb->len - FUNNEL_LEN_PREFIX);
		atomic_sub(skb->truesize,
			   funnel_txq_count(fs, fs->tx_partial_q));
		fs->tx_partial = NULL;
		bytes += skb->len;
		consume_skb(skb);
		frames++;
		if (bytes >= budget && funnel_tx_more(fs)) {
			left = true;
			break;
		}
	}
	/* whether deferring frames batches them (funnel_tx_defer_pays()):
	 * a push that stopped with frames left (TCP full, the budget) had
	 * more than it took; one that found none (a sender took them
	 * along, or marked a frame already pushed) tells nothing
	 */
	if (deferred && judge && (frames || fs->tx_partial))
		fs->tx_defer_pays = frames > 1 || left || fs->tx_partial ||
				    funnel_tx_more(fs);
	funnel_tx_resume(fs);
	return left;
}

/* Write queued frames to TCP until it has no room.  Socket locked. */
static void funnel_tx_push(struct funnel_sock *fs)
{
	funnel_tx_push_some(fs, UINT_MAX, false);
}

/* Frames wait for tx_work since now: the timer pushes them two jiffies
 * later if tx_work is late and no frame takes them along (the one-jiffy
 * rule of funnel_tx_defer()).  Socket's spinlock held, not owned.
 */
static void funnel_tx_defer_mark(struct funnel_sock *fs)
{
	WRITE_ONCE(fs->tx_defer_at, jiffies);
	WRITE_ONCE(fs->tx_deferred, true);
	mod_timer(&fs->tx_defer_timer, jiffies + 2);
}

/* tx_work writes at most this much with BHs off before it lets this
 * CPU's softirqs and other work run, and queues itself again: TCP's
 * notsent_lowat, which bounds a push otherwise, may be set larger by the
 * carrier's owner
 */
#define FUNNEL_TX_WORK_BUDGET	(32 * 1024)

/*
 * Push what is queued: under the socket's spinlock, as a softirq would,
 * so that the socket is never owned here: a segment arriving meanwhile
 * is then processed at once (the parser runs in its softirq), not put
 * on the backlog for release_sock(), whose parser would hand it to its
 * own work item.  An owned socket is pushed by its owner's
 * release_sock() (funnel_release_cb()).  Only to uncork what TCP holds
 * (funnel_tx_held()) is the socket locked: TCP offers no push under the
 * spinlock.
 */
static void funnel_tx_work(struct work_struct *work)
{
	struct funnel_sock *fs = container_of(work, struct funnel_sock,
					      tx_work);
	struct sock *sk = fs->sk;
	bool unplug, left = false;

	if (!READ_ONCE(fs->tx_unplug)) {
		local_bh_disable();
		/* senders that find the lock taken meanwhile queue their
		 * frames without it (funnel_tx_join())
		 */
		WRITE_ONCE(fs->tx_pushing, true);
		bh_lock_sock(sk);
		if (!sock_owned_by_user(sk) && !READ_ONCE(fs->closing))
			left = funnel_tx_push_some(fs, FUNNEL_TX_WORK_BUDGET,
						   true);
		/* what is left is deferred again: should this CPU's kworker
		 * be starved, the timer or the next frame pushes it
		 */
		if (left && !READ_ONCE(fs->tx_deferred))
			funnel_tx_defer_mark(fs);
		bh_unlock_sock(sk);
		WRITE_ONCE(fs->tx_pushing, false);
		local_bh_enable();
		/* the rest after the softirqs and work this CPU has
		 * (funnel_close()'s cancel_work_sync() takes a work item that
		 * queues itself again)
		 */
		if (left)
			queue_work(funnel_workqueue(), &fs->tx_work);
		if (!READ_ONCE(fs->tx_unplug))
			return;
	}
	lock_sock(sk);
	if (!fs->closing)
		funnel_tx_push(fs);
	/* what TCP holds of ours with nothing in flight (funnel_tx_held()),
	 * unless the owner corked the socket itself
	 */
	unplug = fs->tx_unplug && fs->tx_more && !fs->closing &&
		 !(tcp_sk(sk)->nonagle & TCP_NAGLE_CORK);
	WRITE_ONCE(fs->tx_unplug, false);
	if (unplug)
		fs->tx_more = false;
	release_sock(sk);
	if (unplug)
		tcp_sock_set_cork(sk, false);
}

/* Whether cpu may run our transmit work: not one isolated from the
 * scheduler's domains (isolcpus=) or from unbound work (nohz_full=), as
 * the workqueue core itself keeps unbound work off both.
 */
static bool funnel_tx_cpu_ok(int cpu)
{
	return housekeeping_test_cpu(cpu, HK_TYPE_WQ) &&
	       housekeeping_test_cpu(cpu, HK_TYPE_DOMAIN);
}

/* The next online CPU after this one that may run our transmit work
 * (funnel_tx_cpu_ok()), BHs off: where a busy carrier's frames are
 * pushed (funnel_tx_frame()); this CPU itself if there is no other.
 */
static int funnel_tx_cpu(void)
{
	int this = smp_processor_id(), cpu;

	for_each_cpu_wrap(cpu, cpu_online_mask, this + 1)
		if (cpu != this && funnel_tx_cpu_ok(cpu))
			return cpu;
	return this;
}

static bool funnel_tx_dead(const struct funnel_sock *fs)
{
	const struct sock *sk = fs->sk;

	/* also read without the socket's lock (funnel_tx_frame() from a
	 * receive run that did not get it, sk_wait_event())
	 */
	return READ_ONCE(fs->tx_broken) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
	       !((1 << READ_ONCE(sk->sk_state)) &
		 (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT));
}

static void funnel_write_space(struct sock *sk)
{
	struct funnel_sock *fs = funnel_sk(sk);

	if (funnel_tx_pending(fs))
		queue_work(funnel_workqueue(), &fs->tx_work);
	fs->saved_write_space(sk);
}

/* What the control or the data queue of kernel frames may hold (bytes of
 * truesize; a frame is taken into an empty queue whatever its size).
 */
int funnel_tx_limit(const struct funnel_sock *fs, bool ctrl)
{
	if (ctrl)
		return FUNNEL_TX_CTRL_MAX;
	return max_t(int, READ_ONCE(fs->sk->sk_sndbuf), FUNNEL_TX_DATA_MIN);
}

/* The room rule of every queue of frames: a frame goes into an empty queue
 * whatever its size, else only within the limit (a queue that a frame took
 * past it has no room; no sum that could overflow near INT_MAX).
 */
static bool funnel_tx_fits(int queued, unsigned int len, int limit)
{
	return !queued ||
	       (queued <= limit && len <= (unsigned int)(limit - queued));
}

bool funnel_tx_room(const struct funnel_sock *fs, unsigned int len, bool ctrl)
{
	int queued = atomic_read(ctrl ? &fs->tx_ctrl_queued : &fs->tx_queued);

	return funnel_tx_fits(queued, len, funnel_tx_limit(fs, ctrl));
}

/* Take len bytes of the queue's room if funnel_tx_room() would say so, in
 * one step: producers without the socket's spinlock (a sender joining
 * tx_work's frames, SCTP's any-context queueing) race with each other and
 * with those that hold it, and the queue stays within its limit.
 */
bool funnel_tx_charge(struct funnel_sock *fs, unsigned int len, bool ctrl)
{
	atomic_t *count = funnel_tx_count(fs, ctrl);
	int limit = funnel_tx_limit(fs, ctrl);
	int queued = atomic_read(count);

	do {
		if (!funnel_tx_fits(queued, len, limit))
			return false;
	} while (!atomic_try_cmpxchg(count, &queued, queued + len));
	return true;
}

/* Room for a frame of userspace's: never while the queue is marked,
 * until its resume mark (frames keep their order, and poll() agrees).
 * Socket locked; also sk_wait_event()'s condition, read while a softirq
 * push may clear a mark.
 */
static bool funnel_tx_user_room(const struct funnel_sock *fs,
				unsigned int len, bool ctrl)
{
	int queued;

	if (ctrl)
		return !READ_ONCE(fs->tx_ctrl_wait) &&
		       funnel_tx_room(fs, len, true);
	queued = atomic_read(&fs->tx_user_queued);
	return !READ_ONCE(fs->tx_user_wait) &&
	       funnel_tx_fits(queued, len, FUNNEL_TX_USER_MAX);
}

/* A carrier is busy while TCP has segments of ours in flight or frames
 * wait in our queues.  Socket's spinlock held.
 */
static bool funnel_tx_busy(const struct funnel_sock *fs)
{
	return tcp_sk(fs->sk)->packets_out || fs->tx_partial ||
	       skb_queue_len_lockless(&fs->txq) > 1;
}

/*
 * Whether this data frame continues a one-way stream: it follows another
 * data frame queued less than two jiffies before, with no frame received
 * on the carrier in between (a blaster, a log or media feed: not a
 * request, which follows the answer to the one before).  Such a stream
 * keeps the carrier busy though TCP may not show it: where the peer's
 * receive and its ACK run in the sender's own softirq (veth, loopback),
 * TCP has nothing in flight between two frames, and pushed inline every
 * datagram took a segment, an ACK and the peer's receive run in the
 * sender's context.  Socket's spinlock held (the receive paths of a TCP
 * carrier that set rx_since_tx hold it or own the socket).
 */
static bool funnel_tx_streak(struct funnel_sock *fs)
{
	unsigned long now = jiffies;
	bool streak = !READ_ONCE(fs->rx_since_tx) &&
		      time_before_eq(now, READ_ONCE(fs->tx_data_at) + 1);

	WRITE_ONCE(fs->tx_data_at, now);
	if (READ_ONCE(fs->rx_since_tx))
		WRITE_ONCE(fs->rx_since_tx, false);
	return streak;
}

/* frames pushed inline, once deferring did not batch, before one is
 * deferred again to see whether it does now
 */
#define FUNNEL_DEFER_PROBE	16

/*
 * Whether deferring a one-way stream's frames pays: the last push of
 * deferred frames took more than one.  A stream slower than a wake-up of
 * the other CPU gains nothing from it: tx_work would take its frames one
 * by one, each after a wake-up.  Those are pushed inline, but one in
 * FUNNEL_DEFER_PROBE, deferred to see whether they batch now.  (A busy
 * carrier's frames are deferred whatever this says: funnel_tx_defer().)
 * Socket's spinlock held.
 */
static bool funnel_tx_defer_pays(struct funnel_sock *fs)
{
	/* a probe waits: join it, so that it sees a batch if there is one */
	if (fs->tx_defer_pays || READ_ONCE(fs->tx_deferred))
		return true;
	if (++fs->tx_defer_skip < FUNNEL_DEFER_PROBE)
		return false;
	fs->tx_defer_skip = 0;
	return true;
}

/* A data frame just queued, not by a receive run (which pushes its own
 * once done), on a busy carrier or in a one-way stream
 * (funnel_tx_streak()) while deferring it pays (funnel_tx_defer_pays()):
 * have tx_work push it on the next housekeeping CPU (true), unless this
 * CPU is the only one.  Not while TCP has no room (a frame half written:
 * sk_write_space queues tx_work anyway, and a push here costs less than
 * a wake-up on the other CPU), and not once frames deferred earlier
 * waited over a jiffy: that CPU's kworker is late (the CPU busy with a
 * task of higher priority), so this frame and those go now, in this
 * context.  Socket's spinlock held, not owned.
 */
static bool funnel_tx_defer(struct funnel_sock *fs,
			    const struct funnel_rx_run *run, bool prio)
{
	int cpu;

	if (run->sk || prio || fs->tx_partial)
		return false;
	/* a busy carrier's frames always: even one by one, tx_work takes
	 * the relay's work off the sender (a single-threaded server);
	 * a stream's only while that batches them
	 */
	if (funnel_tx_busy(fs))
		funnel_tx_streak(fs);
	else if (!funnel_tx_streak(fs) || !funnel_tx_defer_pays(fs))
		return false;
	if (READ_ONCE(fs->tx_deferred) &&
	    time_after(jiffies, READ_ONCE(fs->tx_defer_at) + 1))
		return false;
	cpu = funnel_tx_cpu();
	if (cpu == smp_processor_id())
		return false;
	if (!READ_ONCE(fs->tx_deferred))
		funnel_tx_defer_mark(fs);
	queue_work_on(cpu, funnel_workqueue(), &fs->tx_work);
	funnel_stat_inc(fs->stats, FUNNEL_A_STATS_TX_DEFERRED);
	return true;
}

/*
 * Two jiffies after a first deferral: if the frames still wait (that
 * CPU's kworker is late and no frame came to take them along), push
 * them here, on the CPU that deferred them.  Timer softirq; funnel_close()
 * deletes the timer once no deferral can happen.
 */
static void funnel_tx_defer_fire(struct timer_list *t)
{
	struct funnel_sock *fs = from_timer(fs, t, tx_defer_timer);
	struct sock *sk = fs->sk;

	if (!READ_ONCE(fs->tx_deferred))
		return;		/* pushed meanwhile */
	bh_lock_sock(sk);
	/* owned: release_sock() pushes them (funnel_release_cb()) */
	if (!sock_owned_by_user(sk) && !READ_ONCE(fs->closing) &&
	    READ_ONCE(fs->tx_deferred))
		funnel_tx_push(fs);
	bh_unlock_sock(sk);
}

/*
 * A data frame whose sender found the socket's spinlock taken while
 * tx_work pushes (or waits for the lock to) or while frames are deferred
 * to it: the frame joins them without the lock, rather than spin while
 * tx_work writes up to its budget to TCP (which is where a one-way
 * stream's sender spent a tenth of its time).  tx_work is queued again
 * after the frame is, so it pushes it, or release_sock() does while a
 * user context owns the socket.  Marked as deferred, so the timer pushes
 * it if that CPU's kworker is starved (funnel_tx_defer_mark()).  The
 * marks are written without the lock: a push clears the mark, then reads
 * the queue; a joiner queues, then reads the mark, and marks afresh (and
 * arms the timer) if it is clear, so a frame the push did not see is
 * marked; a mark left for a frame the push took along only has the
 * timer take the lock for nothing.  Not once frames deferred earlier
 * waited over a jiffy (the kworker is late: the sender takes the lock
 * and pushes, funnel_tx_defer()), and not while TCP has no room (a frame
 * half written: write_space queues tx_work).  Joined frames count as
 * tx-deferred.  False: take the lock.  BHs off.
 */
static bool funnel_tx_join(struct funnel_sock *fs, struct sk_buff *skb)
{
	unsigned long now;
	int cpu;

	if (!READ_ONCE(fs->tx_pushing) && !READ_ONCE(fs->tx_deferred))
		return false;
	/* (a push under way has a frame partial while it writes it) */
	if (!READ_ONCE(fs->tx_pushing) && READ_ONCE(fs->tx_partial))
		return false;
	/* (and what goes wrong is the locked path's to report) */
	if (READ_ONCE(fs->closing) || funnel_tx_dead(fs))
		return false;
	now = jiffies;
	if (READ_ONCE(fs->tx_deferred) &&
	    time_after(now, READ_ONCE(fs->tx_defer_at) + 1))
		return false;
	cpu = funnel_tx_cpu();
	/* the charge last: from here on the frame is queued */
	if (cpu == smp_processor_id() ||
	    !funnel_tx_charge(fs, skb->truesize, false))
		return false;
	skb_queue_tail(&fs->txq, skb);
	WRITE_ONCE(fs->tx_data_at, now);
	smp_mb();	/* queued, then the mark read: see above */
	if (!READ_ONCE(fs->tx_deferred)) {
		WRITE_ONCE(fs->tx_defer_at, now);
		WRITE_ONCE(fs->tx_deferred, true);
		mod_timer(&fs->tx_defer_timer, now + 2);
	} else if (!timer_pending(&fs->tx_defer_timer)) {
		mod_timer(&fs->tx_defer_timer, now + 2);
	}
	queue_work_on(cpu, funnel_workqueue(), &fs->tx_work);
	funnel_stat_inc(fs->stats, FUNNEL_A_STATS_TX_DEFERRED);
	return true;
}

/*
 * Queue a complete frame (length prefix, header, body) from the kernel's
 * own data path, in any context, and push it to TCP right away unless a
 * user context owns the socket (release_sock() pushes it then: our
 * release_cb), or the carrier is busy (funnel_tx_busy()).  A lone
 * request waits for nothing.  A busy carrier's data frames are pushed
 * by tx_work on the next CPU: the sender's context (a UDP client's or
 * server's sendmsg(), whose softirq forwards its datagram) only queues
 * the frame, and tx_work writes all that queued meanwhile in one go, so
 * that TCP fills its segments with them and the peer's receive run
 * delivers them together.  Pushed inline, each datagram took its own
 * segment, its own receive run and its own wake-up of the receiving
 * application, and the whole relay ran in the senders' contexts: a
 * single-threaded server's sendmsg() carried its replies across both
 * carriers, and the server became the bottleneck as clients were added
 * (veth and loopback orphan skbs at once, so TCP's autocorking never
 * held a segment back).  A frame that does not fit in its queue is
 * dropped and counted.  prio: the frame goes on the control queue
 * (txq_ctrl), ahead of data, as FLOW_END does: a flow ended under a flood
 * must still end on the peer, or the peer's flow table fills with flows
 * nobody uses.  Consumes skb.
 */
int funnel_tx_frame(struct funnel_sock *fs, struct sk_buff *skb, bool prio)
{
	struct sock *sk = fs->sk;
	struct funnel_rx_run *run;
	bool locked = true;
	int err = 0;

	if (fs->sctp)
		return funnel_sctp_tx_frame(fs, skb, prio);
	local_bh_disable();
	/* from a carrier's receive run (a relay's frame): that carrier's
	 * spinlock is held, so only take ours if it is free; else the
	 * frame is queued without it and tx_work pushes it.  A data frame
	 * that finds it taken by tx_work may join the frames tx_work
	 * pushes without it (funnel_tx_join()).
	 */
	run = this_cpu_ptr(&funnel_rx_run);
	locked = spin_trylock(&sk->sk_lock.slock);
	if (!locked && !run->sk) {
		if (!prio && funnel_tx_join(fs, skb)) {
			local_bh_enable();
			return 0;
		}
		bh_lock_sock(sk);
		locked = true;
	}
	if (READ_ONCE(fs->closing) || funnel_tx_dead(fs)) {
		err = -EPIPE;
	} else if (!funnel_tx_charge(fs, skb->truesize, prio)) {
		/* what a receive run plugged may be what fills the queue:
		 * TCP takes its share now, as it would without the plug
		 */
		if (locked && !sock_owned_by_user(sk))
			funnel_tx_push(fs);
		if (!funnel_tx_charge(fs, skb->truesize, prio))
			err = -ENOBUFS;
	}
	if (!err) {
		skb_queue_tail(prio ? &fs->txq_ctrl : &fs->txq, skb);
		/* owned: release_sock() pushes it (funnel_release_cb());
		 * funnel_close() cancels tx_work once no receive run or
		 * AEAD completion can queue it.  A run pushes what it
		 * plugged once FUNNEL_TX_PLUG_MAX waits.
		 */
		if (!locked)
			queue_work(funnel_workqueue(), &fs->tx_work);
		else if (!sock_owned_by_user(sk) &&
			 !funnel_tx_defer(fs, run, prio) &&
			 (atomic_read(&fs->tx_queued) >= FUNNEL_TX_PLUG_MAX ||
			  !funnel_rx_run_plug(run, fs)))
			funnel_tx_push(fs);
	}
	if (locked)
		bh_unlock_sock(sk);
	local_bh_enable();

	if (err) {
		funnel_stat_inc(fs->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
		kfree_skb(skb);
	}
	return err;
}

/* release_sock(): push what was queued while a user context owned the
 * socket.  Called with the socket's spinlock held, like tcp_release_cb().
 */
static void funnel_release_cb(struct sock *sk)
{
	struct funnel_sock *fs = funnel_sk(sk);

	if (!fs->closing && funnel_tx_pending(fs))
		funnel_tx_push(fs);
	fs->sk_proto->release_cb(sk);
}

/* Wait until userspace's queue (ctrl: txq_ctrl, else txq_user) has room
 * for len bytes.  A writer that finds none marks the queue, and waits
 * for (or, non-blocking, is told by poll() of) its resume mark.  Socket
 * locked.
 */
static int funnel_tx_wait(struct sock *sk, unsigned int len, bool ctrl,
			  long *timeo)
{
	struct funnel_sock *fs = funnel_sk(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	if (funnel_tx_user_room(fs, len, ctrl))
		return 0;
	WRITE_ONCE(*(ctrl ? &fs->tx_ctrl_wait : &fs->tx_user_wait), true);
	/* the queue may have drained before the mark was set */
	funnel_tx_resume(fs);
	add_wait_queue(sk_sleep(sk), &wait);
	while (!funnel_tx_user_room(fs, len, ctrl)) {
		/* O_ASYNC: SIGIO at the resume mark (funnel_tx_wake()) */
		sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
		if (funnel_tx_dead(fs)) {
			err = -EPIPE;
			break;
		}
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		sk_wait_event(sk, timeo,
			      funnel_tx_user_room(fs, len, ctrl) ||
			      funnel_tx_dead(fs), &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

/*
 * poll(): room in one of userspace's queues for the largest frame, or,
 * once the queue is marked, the queue down to its resume mark.  A poller
 * for EPOLLOUT that finds no room marks the queue, as a writer does, so
 * that funnel_tx_resume() wakes it there and writers wait as long;
 * tcp_poll()'s SOCK_NOSPACE, but a mark also holds writers back.  The
 * barrier pairs with funnel_tx_resume()'s: either the pusher sees the
 * mark, or we see the count it lowered.  A mark left set on a drained
 * queue is cleared by the next writer (funnel_tx_wait()).
 */
static bool funnel_poll_room(bool *mark, const atomic_t *queued, int max,
			     int resume, bool set)
{
	if (!READ_ONCE(*mark)) {
		if (atomic_read(queued) <= max - FUNNEL_TX_USER_FRAME_MAX)
			return true;
		if (!set)
			return false;
		WRITE_ONCE(*mark, true);
		/* the mark before the count: funnel_tx_resume() */
		smp_mb();
	}
	return atomic_read(queued) <= resume;
}

/*
 * TCP's poll(), but writable when our queues are, not TCP: a frame of
 * any length from userspace can be queued at once (funnel_poll_room()).
 * A socket that cannot send any more is TCP's to report (EPOLLOUT with
 * EPOLLERR or EPOLLHUP, so that a writer learns of it).  Lockless, as
 * tcp_poll(): the marks are read after its barrier, and are cleared
 * before the wake-up.
 */
static __poll_t funnel_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct funnel_sock *fs = funnel_sk(sk);
	__poll_t mask = tcp_poll(file, sock, wait);
	bool set;

	if (!fs || READ_ONCE(fs->tx_broken) || READ_ONCE(sk->sk_err) ||
	    (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
	    !((1 << inet_sk_state_load(sk)) &
	      (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		return mask;
	mask &= ~(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
	/* a reader alone (funneld's EPOLLIN) holds no writer back */
	set = poll_requested_events(wait) & (EPOLLOUT | EPOLLWRNORM);
	if (funnel_poll_room(&fs->tx_user_wait, &fs->tx_user_queued,
			     FUNNEL_TX_USER_MAX, FUNNEL_TX_USER_RESUME, set) &&
	    funnel_poll_room(&fs->tx_ctrl_wait, &fs->tx_ctrl_queued,
			     FUNNEL_TX_CTRL_MAX, FUNNEL_TX_CTRL_RESUME, set))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* Data of udp-listen and udp-connect streams is the kernel's own. */
static bool funnel_kernel_stream(struct funnel_sock *fs, u16 id)
{
	struct funnel_stream *st;
	bool ret;

	rcu_read_lock();
	st = funnel_stream_lookup(fs, id);
	ret = st && st->kind != FUNNEL_STREAM_USER;
	rcu_read_unlock();
	return ret;
}

/*
 * May userspace send a frame with this header?  Userspace seals the DATA
 * and FLOW_END frames of its own (user) streams, and sets R on their
 * FLOW_END; DATA of kernel streams is the kernel's alone, and their
 * FLOW_END is never sealed.  It seals the CTRL frames of stream 0 (the
 * carrier's control messages), no other CTRL frame.  Any context.
 */
bool funnel_user_hdr_ok(struct funnel_sock *fs, const struct funnel_hdr *hdr)
{
	bool sealed = hdr->flags & (FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE);

	if (hdr->flags & FUNNEL_F_RESERVED ||
	    (hdr->flags & FUNNEL_F_RESET && hdr->type != FUNNEL_T_FLOW_END))
		return false;
	switch (hdr->type) {
	case FUNNEL_T_DATA:
		return hdr->stream != htons(FUNNEL_CTRL_STREAM) &&
		       !funnel_kernel_stream(fs, ntohs(hdr->stream));
	case FUNNEL_T_FLOW_END:
		return !sealed || (hdr->stream != htons(FUNNEL_CTRL_STREAM) &&
				   !funnel_kernel_stream(fs, ntohs(hdr->stream)));
	case FUNNEL_T_CTRL:
		return !sealed || hdr->stream == htons(FUNNEL_CTRL_STREAM);
	default:
		return !sealed;
	}
}

/* A frame from userspace: header and body, without the length prefix. */
static struct sk_buff *funnel_frame_from_user(struct sock *sk,
					      struct msghdr *msg, size_t size,
					      int *err)
{
	const struct funnel_hdr *hdr;
	struct sk_buff *skb;

	skb = alloc_skb_with_frags(FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN,
				   size - FUNNEL_HDR_LEN,
				   PAGE_ALLOC_COSTLY_ORDER, err,
				   GFP_KERNEL_ACCOUNT);
	if (!skb)
		return NULL;

	skb_put(skb, FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN);
	skb->data_len = size - FUNNEL_HDR_LEN;
	skb->len += skb->data_len;
	*(__be16 *)skb->data = htons(size);

	*err = skb_copy_datagram_from_iter(skb, FUNNEL_LEN_PREFIX,
					   &msg->msg_iter, size);
	if (*err)
		goto drop;

	hdr = (const struct funnel_hdr *)(skb->data + FUNNEL_LEN_PREFIX);
	if (!funnel_user_hdr_ok(funnel_sk(sk), hdr)) {
		*err = -EINVAL;
		goto drop;
	}
	return skb;

drop:
	kfree_skb(skb);
	return NULL;
}

static int funnel_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	struct funnel_sock *fs = funnel_sk(sk);
	enum funnel_txq q;
	struct sk_buff *skb;
	long timeo;
	bool ctrl;
	int err;

	if (msg->msg_flags & MSG_OOB)
		return -EINVAL;
	if (size < FUNNEL_HDR_LEN)
		return -EINVAL;
	if (size > FUNNEL_MAX_FRAME)
		return -EMSGSIZE;

	skb = funnel_frame_from_user(sk, msg, size, &err);
	if (!skb)
		return err;

	ctrl = funnel_frame_is_ctrl(skb);
	lock_sock(sk);
	if (funnel_tx_dead(fs) || fs->closing) {
		err = -EPIPE;
		goto out_err;
	}
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	err = funnel_tx_wait(sk, skb->truesize, ctrl, &timeo);
	if (err)
		goto out_err;

	q = ctrl ? FUNNEL_TXQ_CTRL : FUNNEL_TXQ_USER;
	atomic_add(skb->truesize, funnel_txq_count(fs, q));
	skb_queue_tail(funnel_txq(fs, q), skb);
	funnel_tx_push(fs);
	release_sock(sk);
	return size;

out_err:
	release_sock(sk);
	kfree_skb(skb);
	if (err == -EPIPE)
		err = sk_stream_error(sk, msg->msg_flags, err);
	return err;
}

/* ---- life cycle ---- */

static int funnel_disconnect(struct sock *sk, int flags)
{
	/* A carrier cannot be reused for a new connection: close it. */
	return -EBUSY;
}

/* Why a carrier whose socket is being closed went down. */
u32 funnel_close_reason(const struct funnel_sock *fs)
{
	const struct sock *sk = fs->sk;
	u32 reason = READ_ONCE(fs->down_reason);

	if (reason)
		return reason;
	if (sk->sk_err)
		return FUNNEL_DOWN_SOCK_ERROR;
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return FUNNEL_DOWN_PEER_CLOSED;
	return FUNNEL_DOWN_DELETED;
}

static void funnel_close(struct sock *sk, long timeout)
{
	struct funnel_sock *fs = funnel_sk(sk);
	struct proto *prot = fs->sk_proto;
	bool cut;

	lock_sock(sk);
	/* what TCP can still take goes out; the rest is dropped, counted */
	if (!funnel_tx_dead(fs))
		funnel_tx_push(fs);
	/* a frame TCP took in part: the byte stream ends inside it; or TCP
	 * refused one for good and the down_work cancelled below would
	 * have reset the connection
	 */
	cut = fs->tx_broken || (fs->tx_partial && fs->tx_off);
	WRITE_ONCE(fs->closing, true);
	strp_stop(&fs->strp);
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = fs->saved_data_ready;
	sk->sk_write_space = fs->saved_write_space;
	sk->sk_state_change = fs->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_prot, prot);
	release_sock(sk);

	/* nothing schedules them any more but a relay's receive run on
	 * another carrier (tx_work: cancelled again below); no frame is
	 * deferred once closing is set; shut down, the timer could not be
	 * armed again anyway
	 */
	timer_shutdown_sync(&fs->tx_defer_timer);
	cancel_work_sync(&fs->tx_work);
	strp_done(&fs->strp);
	/* no parser or state change runs any more, so no new down_work */
	cancel_work_sync(&fs->down_work);
	funnel_carrier_unregister(fs, funnel_close_reason(fs));
	/* the streams are gone; wait for whoever still saw one (UDP
	 * receive), so that no new AEAD operation starts, then for the
	 * operations under way: their completions use fs and this
	 * module's code, which may both go once we return
	 */
	synchronize_rcu();
	wait_var_event(&fs->inflight, !atomic_read(&fs->inflight));
	/* queued by a relay's receive path on another carrier (closing:
	 * it pushes nothing)
	 */
	cancel_work_sync(&fs->tx_work);

	/* frames still queued go, uncharged under the socket lock */
	lock_sock(sk);
	skb_queue_purge(&fs->rxq);
	funnel_tx_purge(fs);
	release_sock(sk);

	/* the peer must not take a cut frame and a FIN for a clean end */
	if (cut && inet_sk_state_load(sk) != TCP_CLOSE)
		tcp_abort(sk, ECONNABORTED);
	prot->close(sk, timeout);
}

static void funnel_build_proto(struct proto *prot, struct proto_ops *ops,
			       const struct proto *base,
			       const struct proto_ops *base_ops)
{
	*prot = *base;
	prot->close = funnel_close;
	prot->disconnect = funnel_disconnect;
	prot->recvmsg = funnel_recvmsg;
	prot->sendmsg = funnel_sendmsg;
	prot->sock_is_readable = funnel_sock_is_readable;
	prot->release_cb = funnel_release_cb;

	*ops = *base_ops;
	ops->poll = funnel_poll;
	/* splice() and sendfile() go through recvmsg/sendmsg, never
	 * straight to the TCP byte stream under the framing.
	 */
	ops->splice_read = NULL;
	ops->mmap = sock_no_mmap;
	funnel_compat_ops(ops);
}

/*
 * The IPv6 TCP proto our IPv6 proto is built from.  The ipv6 code may be
 * a module, so it is built from the first IPv6 socket, once: a proto in
 * use is never written again, and sockets of any other proto (one
 * changed by BPF, say) are refused.
 */
static const struct proto *funnel6_base(const struct sock *sk)
{
	/* pairs with the release below: the proto is built before */
	const struct proto *base = smp_load_acquire(&funnel6_built_from);

	if (base)
		return base;
	mutex_lock(&funnel6_prot_mutex);
	base = funnel6_built_from;
	if (!base) {
		funnel_build_proto(&funnel6_prot, &funnel6_ops, sk->sk_prot,
				   sk->sk_socket->ops);
		base = sk->sk_prot;
		/* readers see the built proto before the pointer */
		smp_store_release(&funnel6_built_from, base);
	}
	mutex_unlock(&funnel6_prot_mutex);
	return base;
}

static int funnel_ulp_attach(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct strp_callbacks cb = {
		.rcv_msg = funnel_rcv,
		.parse_msg = funnel_parse,
		.abort_parser = funnel_abort,
	};
	struct proto_ops *ops = &funnel_ops;
	struct proto *prot = &funnel_prot;
	struct funnel_sock *fs;
	int err;

	/* a carrier's frames are the kernel's to queue and send: only the
	 * network's administrator makes one (TCP_ULP itself asks nothing)
	 */
	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	/* sockmap and other users of sk_user_data do not mix with us */
	if (sk->sk_user_data)
		return -EBUSY;
	if (sk->sk_state != TCP_ESTABLISHED || !sk->sk_socket)
		return -ENOTCONN;

	if (sk->sk_family == AF_INET6) {
		if (funnel6_base(sk) != sk->sk_prot)
			return -EPROTONOSUPPORT;
		prot = &funnel6_prot;
		ops = &funnel6_ops;
	} else if (sk->sk_prot != &tcp_prot) {
		return -EPROTONOSUPPORT;
	}

	fs = kzalloc(sizeof(*fs), GFP_KERNEL_ACCOUNT);
	if (!fs)
		return -ENOMEM;
	fs->stats = funnel_stats_alloc();
	if (!fs->stats) {
		kfree(fs);
		return -ENOMEM;
	}

	fs->sk = sk;
	skb_queue_head_init(&fs->rxq);
	skb_queue_head_init(&fs->txq);
	skb_queue_head_init(&fs->txq_ctrl);
	skb_queue_head_init(&fs->txq_user);
	INIT_WORK(&fs->tx_work, funnel_tx_work);
	/* pinned: it fires on the CPU that deferred, not on the one whose
	 * kworker is late
	 */
	timer_setup(&fs->tx_defer_timer, funnel_tx_defer_fire, TIMER_PINNED);
	/* no stream yet (funnel_tx_streak()); deferring is tried */
	fs->tx_data_at = jiffies - 2;
	fs->tx_defer_pays = true;
	INIT_WORK(&fs->down_work, funnel_carrier_down_work);
	xa_init(&fs->streams);
	fs->sk_proto = sk->sk_prot;
	fs->net = sock_net(sk);

	err = strp_init(&fs->strp, sk, &cb);
	if (err) {
		free_percpu(fs->stats);
		kfree(fs);
		return err;
	}

	write_lock_bh(&sk->sk_callback_lock);
	fs->saved_data_ready = sk->sk_data_ready;
	fs->saved_write_space = sk->sk_write_space;
	fs->saved_state_change = sk->sk_state_change;
	rcu_assign_pointer(icsk->icsk_ulp_data, fs);
	sk->sk_data_ready = funnel_data_ready;
	sk->sk_write_space = funnel_write_space;
	sk->sk_state_change = funnel_state_change;
	WRITE_ONCE(sk->sk_prot, prot);
	WRITE_ONCE(sk->sk_socket->ops, ops);
	write_unlock_bh(&sk->sk_callback_lock);

	/* frames go to TCP from softirq and from release_sock() too */
	sk->sk_allocation = GFP_ATOMIC;
	funnel_no_task_frag(sk);
	/* keep the backlog in our queues, where CTRL frames overtake data,
	 * not in TCP's write queue, unless the owner chose a low-water mark
	 */
	if (!READ_ONCE(tcp_sk(sk)->notsent_lowat))
		WRITE_ONCE(tcp_sk(sk)->notsent_lowat, FUNNEL_NOTSENT_LOWAT);

	/* frames that arrived behind the preamble are parsed now */
	strp_check_rcv(&fs->strp);
	return 0;
}

/* The socket is being destroyed; funnel_close() already stopped us. */
static void funnel_ulp_release(struct sock *sk)
{
	struct funnel_sock *fs = funnel_sk(sk);

	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, NULL);
	free_percpu(fs->stats);
	kfree(fs);
}

static struct tcp_ulp_ops funnel_ulp_ops __read_mostly = {
	.name		= "funnel",
	.owner		= THIS_MODULE,
	.init		= funnel_ulp_attach,
	.release	= funnel_ulp_release,
};

int funnel_ulp_init(void)
{
	funnel_build_proto(&funnel_prot, &funnel_ops, &tcp_prot,
			   &inet_stream_ops);
	return tcp_register_ulp(&funnel_ulp_ops);
}

void funnel_ulp_exit(void)
{
	tcp_unregister_ulp(&funnel_ulp_ops);
}
