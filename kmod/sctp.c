// SPDX-License-Identifier: GPL-2.0
/*
 * SCTP carriers: a one-to-one SCTP socket (SOCK_STREAM) whose association
 * carries Funnel frames, one frame per SCTP message, without the length
 * prefix (wire-format.md section 2).
 *
 * SCTP has no ULP.  carrier-new takes the socket over: its sk_data_ready,
 * sk_write_space and sk_state_change (as fs/dlm/lowcomms.c does), a wait
 * queue entry on its wait queue (SCTP wakes it when send buffer space is
 * freed, and calls no sk_write_space then), and its socket operations,
 * which become ours (funnel_sctp4_ops, funnel_sctp6_ops: what funneld's
 * send(), recv(), poll() and close() reach).  SCTP's own proto is not
 * touched: the kernel side calls it through sk->sk_prot.
 *
 * Receive: sk_data_ready (softirq) queues rx_work; rx_work reads SCTP
 * messages with sk_prot->recvmsg(MSG_DONTWAIT) and SCTP_RCVINFO, joins
 * the parts of one delivered in parts, and hands the frames, up to 16
 * under one hold of the socket lock, to funnel_rx_frame() (ulp.c), as
 * the strparser does on TCP.  Frames for
 * funneld go on fs->rxq; while it is full the reader stops, SCTP's receive
 * queue fills and its window closes, until funneld's recvmsg() makes room.
 *
 * Transmit: funneld's sendmsg() goes to SCTP at once, in its context;
 * the kernel's own frames are queued (any context) and sent by tx_work
 * with MSG_DONTWAIT, every one but the last of a run with MSG_MORE too
 * (SCTP bundles their DATA chunks); when SCTP has no room, tx_work waits
 * for the wait queue entry's wake-up.
 *
 * Both hops to process context are SCTP's doing: sctp_sendmsg() and
 * sctp_recvmsg() take lock_sock(), which may sleep, and SCTP exports
 * nothing a module could send or read with in softirq.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <linux/net_tstamp.h>
#include <linux/sched/signal.h>
#include <linux/time_types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <net/inet_common.h>
#include <net/sctp/sctp.h>
#include <net/sock.h>

#include "compat.h"
#include "funnel.h"

/* reader: messages read per run of rx_work before it yields */
#define FUNNEL_SCTP_RX_BUDGET	64
/* reader: frames handed on together, under one hold of the socket lock */
#define FUNNEL_SCTP_RX_BATCH	16
/* a frame up to this long is handed on in one linear buffer */
#define FUNNEL_SCTP_RX_LINEAR	2048

/* room for every receive cmsg sctp_recvmsg() may add: first the socket
 * layer's (sock_recv_cmsgs(), for socket options the owner may have set:
 * a timestamp, SO_TIMESTAMPING and its PKTINFO, SO_WIFI_STATUS,
 * SO_RXQ_OVFL, SO_MARK), then SCTP's (SCTP_NXTINFO if the owner turned
 * it on, SCTP_RCVINFO, and the old SCTP_SNDRCV if subscribed).  Should
 * a later kernel add more, MSG_CTRUNC ends the carrier rather than
 * every message being dropped for want of its SCTP_RCVINFO.
 */
#define FUNNEL_SCTP_RX_CMSG_SOCK (CMSG_SPACE(sizeof(struct __kernel_timespec)) + \
				  CMSG_SPACE(3 * sizeof(struct __kernel_timespec)) + \
				  CMSG_SPACE(sizeof(struct scm_ts_pktinfo)) + \
				  3 * CMSG_SPACE(sizeof(u32)))
#define FUNNEL_SCTP_RX_CMSG	(FUNNEL_SCTP_RX_CMSG_SOCK + \
				 CMSG_SPACE(sizeof(struct sctp_nxtinfo)) + \
				 CMSG_SPACE(sizeof(struct sctp_rcvinfo)) + \
				 CMSG_SPACE(sizeof(struct sctp_sndrcvinfo)))

/* rx_buf: a frame and one byte more (what shows a message too long),
 * and room beyond for the head of a notification that comes while a
 * message is in parts (SCTP's PARTIAL_DELIVERY_ABORTED)
 */
#define FUNNEL_SCTP_RX_NTF	64
#define FUNNEL_SCTP_RX_BUF	(FUNNEL_MAX_FRAME + 1 + FUNNEL_SCTP_RX_NTF)
#define FUNNEL_SCTP_TX_CMSG	(CMSG_SPACE(sizeof(struct sctp_sndinfo)) + \
				 CMSG_SPACE(sizeof(struct sctp_prinfo)))

/* a kernel frame in txq: when it was queued (its lifetime runs from then) */
struct funnel_sctp_cb {
	u64 queued_ns;
};

#define FUNNEL_SCTP_CB(skb)	((struct funnel_sctp_cb *)(skb)->cb)

/* The carrier of an SCTP socket whose operations are ours: it lives as
 * long as they are (until funnel_sctp_release()).
 */
static struct funnel_sock *funnel_sctp_fs(const struct sock *sk)
{
	struct funnel_sock *fs;

	rcu_read_lock();
	fs = rcu_dereference_sk_user_data(sk);
	rcu_read_unlock();
	return fs;
}

static struct sctp_association *funnel_sctp_asoc(struct funnel_sock *fs);

/* ---- callbacks: softirq, or release_sock() ---- */

/* A callback that runs while funnel_sctp_stop() restores them finds no
 * carrier; it calls the socket's callback (the restored one) instead.
 */
static void funnel_sctp_data_ready(struct sock *sk)
{
	struct funnel_sock *fs;

	rcu_read_lock();
	fs = rcu_dereference_sk_user_data(sk);
	if (fs && !READ_ONCE(fs->rx_paused))
		queue_work(funnel_workqueue(), &fs->rx_work);
	rcu_read_unlock();
	if (!fs && READ_ONCE(sk->sk_data_ready) != funnel_sctp_data_ready)
		sk->sk_data_ready(sk);
}

static void funnel_sctp_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct funnel_sock *fs;

	rcu_read_lock();
	fs = rcu_dereference_sk_user_data(sk);
	if (fs) {
		saved = fs->saved_state_change;
		/* an abort or a lost association: down now (what is still
		 * queued is lost anyway); a SHUTDOWN from the peer: the
		 * reader reads up to its end first, then goes down
		 */
		if (READ_ONCE(sk->sk_err)) {
			if (!READ_ONCE(fs->down_reason))
				WRITE_ONCE(fs->down_reason,
					   FUNNEL_DOWN_SOCK_ERROR);
			queue_work(funnel_workqueue(), &fs->down_work);
		}
		/* a restart, maybe: funnel_sctp_restarted() looks */
		atomic_set(&fs->sctp_state_changed, 1);
		queue_work(funnel_workqueue(), &fs->rx_work);
	}
	rcu_read_unlock();
	if (saved)
		saved(sk);
	else if (READ_ONCE(sk->sk_state_change) != funnel_sctp_state_change)
		sk->sk_state_change(sk);
}

/* SO_SNDBUF and the like */
static void funnel_sctp_write_space(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct funnel_sock *fs;

	rcu_read_lock();
	fs = rcu_dereference_sk_user_data(sk);
	if (fs) {
		saved = fs->saved_write_space;
		if (funnel_tx_pending(fs))
			queue_work(funnel_workqueue(), &fs->tx_work);
	}
	rcu_read_unlock();
	if (saved)
		saved(sk);
	else if (READ_ONCE(sk->sk_write_space) != funnel_sctp_write_space)
		sk->sk_write_space(sk);
}

/* SCTP freed send buffer space (__sctp_write_space() wakes the socket's
 * wait queue with EPOLLOUT), or anything else woke the queue.  Called
 * with the queue's lock held.
 */
static int funnel_sctp_wake(struct wait_queue_entry *wait, unsigned int mode,
			    int sync, void *key)
{
	struct funnel_sock *fs = container_of(wait, struct funnel_sock,
					      tx_wait);
	__poll_t mask = key_to_poll(key);

	if ((!mask || (mask & EPOLLOUT)) && funnel_tx_pending(fs))
		queue_work(funnel_workqueue(), &fs->tx_work);
	return 0;
}

/* ---- receive: rx_work ---- */

/* The association's receive side ended: EOF (err 0) or an error; funneld
 * reads what is queued, then 0 or the error; the carrier goes down.
 */
static void funnel_sctp_rx_end(struct funnel_sock *fs, int err, u32 reason)
{
	if (!READ_ONCE(fs->down_reason))
		WRITE_ONCE(fs->down_reason, reason);
	WRITE_ONCE(fs->rx_err, err);
	/* recvmsg() reads rx_err after it sees rx_end */
	smp_store_release(&fs->rx_end, true);
	fs->saved_data_ready(fs->sk);
	queue_work(funnel_workqueue(), &fs->down_work);
}

/* The SCTP stream a message came on, from its SCTP_RCVINFO; -1: none. */
static int funnel_sctp_rcv_sid(const u8 *cbuf, size_t used)
{
	const struct cmsghdr *c;
	struct sctp_rcvinfo ri;
	size_t off = 0;

	while (off + sizeof(*c) <= used) {
		c = (const struct cmsghdr *)(cbuf + off);
		if (c->cmsg_len < sizeof(*c) || off + c->cmsg_len > used)
			break;
		if (c->cmsg_level == IPPROTO_SCTP &&
		    c->cmsg_type == SCTP_RCVINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ri))) {
			memcpy(&ri, CMSG_DATA(c), sizeof(ri));
			return ri.rcv_sid;
		}
		off += CMSG_ALIGN(c->cmsg_len);
	}
	return -1;
}

/* Hand the frames read on, as the strparser's softirq would: the socket
 * locked once for the lot, BHs off for one frame at a time (softirqs
 * pending meanwhile run between frames, not after up to 16 of them).
 */
static void funnel_sctp_rx_hand(struct funnel_sock *fs,
				struct sk_buff_head *batch)
{
	struct sock *sk = fs->sk;
	struct sk_buff *skb;

	if (skb_queue_empty(batch))
		return;
	lock_sock(sk);
	while ((skb = __skb_dequeue(batch))) {
		local_bh_disable();
		funnel_rx_frame(fs, skb);
		local_bh_enable();
	}
	release_sock(sk);
}

/* A message dropped before funnel_rx_frame() (which counts the frames it
 * gets): a frame received all the same, as on TCP.
 */
static void funnel_sctp_rx_drop(struct funnel_sock *fs, unsigned int len,
				int reason)
{
	funnel_stat_frame(fs->stats, FUNNEL_A_STATS_RX_FRAMES, len);
	funnel_stat_inc(fs->stats, reason);
}

/*
 * A whole message: wire-format.md section 2's checks (an 8-byte header at
 * least; CTRL on SCTP stream 0; DATA and FLOW_END on the SCTP stream their
 * header names), then section 12 as on TCP (funnel_rx_frame()).
 */
static void funnel_sctp_rx_msg(struct funnel_sock *fs, unsigned int len,
			       struct sk_buff_head *batch)
{
	const struct funnel_hdr *hdr = (const struct funnel_hdr *)fs->rx_buf;
	struct sk_buff *skb;
	bool ok = true;
	int err;

	if (len < FUNNEL_HDR_LEN) {
		funnel_sctp_rx_drop(fs, len, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}
	switch (hdr->type) {
	case FUNNEL_T_CTRL:
		ok = fs->rx_sid == FUNNEL_CTRL_STREAM;
		break;
	case FUNNEL_T_DATA:
	case FUNNEL_T_FLOW_END:
		ok = fs->rx_sid == ntohs(hdr->stream);
		break;
	}
	if (!ok) {
		funnel_sctp_rx_drop(fs, len, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}

	/* the frame as the strparser would give it: prefix, header, body;
	 * one linear buffer for a datagram-sized frame, pages beyond
	 */
	if (len <= FUNNEL_SCTP_RX_LINEAR) {
		skb = alloc_skb(FUNNEL_LEN_PREFIX + len, GFP_KERNEL);
		if (!skb) {
			funnel_sctp_rx_drop(fs, len, FUNNEL_A_STATS_RX_DROP_QUEUE);
			return;
		}
		*(__be16 *)skb_put(skb, FUNNEL_LEN_PREFIX) = htons(len);
		skb_put_data(skb, fs->rx_buf, len);
	} else {
		skb = alloc_skb_with_frags(FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN,
					   len - FUNNEL_HDR_LEN,
					   PAGE_ALLOC_COSTLY_ORDER, &err,
					   GFP_KERNEL);
		if (!skb) {
			funnel_sctp_rx_drop(fs, len, FUNNEL_A_STATS_RX_DROP_QUEUE);
			return;
		}
		skb_put(skb, FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN);
		skb->data_len = len - FUNNEL_HDR_LEN;
		skb->len += skb->data_len;
		*(__be16 *)skb->data = htons(len);
		if (skb_store_bits(skb, FUNNEL_LEN_PREFIX, fs->rx_buf, len)) {
			kfree_skb(skb);
			funnel_sctp_rx_drop(fs, len, FUNNEL_A_STATS_RX_DROP_QUEUE);
			return;
		}
	}
	strp_msg(skb)->offset = 0;
	strp_msg(skb)->full_len = FUNNEL_LEN_PREFIX + len;
	__skb_queue_tail(batch, skb);
	/* a large frame goes on at once: a batch holds at most
	 * FUNNEL_SCTP_RX_BATCH small ones beyond the reader's limit
	 */
	if (skb_queue_len(batch) >= FUNNEL_SCTP_RX_BATCH ||
	    len > FUNNEL_SCTP_RX_LINEAR)
		funnel_sctp_rx_hand(fs, batch);
}

/* The part of a message in parts read so far is given up: the rest of
 * the message will not come (the sender abandoned it: PR-SCTP).  Not a
 * frame, and the peer did nothing wrong: a loss, counted as such
 * (rx-abandoned, not rx-drop-malformed), carrier-wide, as the head of a
 * frame no stream could be named for.
 */
static void funnel_sctp_rx_abandon(struct funnel_sock *fs)
{
	if (!fs->rx_len)
		return;
	funnel_stat_inc(fs->stats, FUNNEL_A_STATS_RX_ABANDONED);
	fs->rx_len = 0;
}

/* The peer restarted (a new INIT from its addresses and port, RFC 9260
 * 5.2.4.1): SCTP dropped what was in flight both ways and a message in
 * parts, and the peer has none of the carrier's state: the carrier ends,
 * as on a reset.
 */
static int funnel_sctp_rx_restart(struct funnel_sock *fs,
				  struct sk_buff_head *batch)
{
	funnel_sctp_rx_abandon(fs);
	funnel_sctp_rx_hand(fs, batch);
	funnel_sctp_rx_end(fs, ECONNRESET, FUNNEL_DOWN_SOCK_ERROR);
	return -ECONNRESET;
}

/*
 * A notification (or a part of one) read at buf: the two the carrier
 * subscribes to at attach matter (funnel_sctp_take()), the rest of what
 * the owner may have subscribed to is dropped.  Returns 1, or < 0 when
 * the carrier ends.
 */
static int funnel_sctp_rx_ntf(struct funnel_sock *fs, const u8 *buf,
			      unsigned int n, int flags,
			      struct sk_buff_head *batch)
{
	union sctp_notification sn;
	bool head = !fs->rx_ntf_rest;

	/* a notification longer than what was left of rx_buf comes in
	 * parts: only its head is looked at
	 */
	fs->rx_ntf_rest = !(flags & MSG_EOR);
	if (!head || n < sizeof(sn.sn_header))
		return 1;
	memcpy(&sn, buf, min_t(unsigned int, n, sizeof(sn)));
	switch (sn.sn_header.sn_type) {
	case SCTP_PARTIAL_DELIVERY_EVENT:
		/* SCTP gave up the message it was delivering in parts
		 * (sctp_ulpq_abort_pd(): its rest abandoned by the sender,
		 * FORWARD-TSN): the next message, maybe of the same SCTP
		 * stream, starts a new frame
		 */
		if (n >= sizeof(sn.sn_pdapi_event) &&
		    sn.sn_pdapi_event.pdapi_indication ==
		    SCTP_PARTIAL_DELIVERY_ABORTED)
			funnel_sctp_rx_abandon(fs);
		break;
	case SCTP_ASSOC_CHANGE:
		if (n >= sizeof(sn.sn_assoc_change) &&
		    sn.sn_assoc_change.sac_state == SCTP_RESTART)
			return funnel_sctp_rx_restart(fs, batch);
		break;
	}
	return 1;
}

/* Our own SHUTDOWN (owner-gone, or the owner's shutdown(SHUT_WR)) done:
 * SCTP freed the association and leaves the socket CLOSING with no
 * RCV_SHUTDOWN, so its recvmsg() says EAGAIN forever.  Socket unlocked.
 */
static bool funnel_sctp_asoc_gone(struct funnel_sock *fs)
{
	bool gone;

	if (!(READ_ONCE(fs->sk->sk_shutdown) & SEND_SHUTDOWN))
		return false;
	lock_sock(fs->sk);
	gone = !funnel_sctp_asoc(fs);
	release_sock(fs->sk);
	return gone;
}

/* A restart while SCTP delivers a message in parts: SCTP keeps the
 * partial delivery (sctp_assoc_update() flushes the reassembly queue
 * only), so SCTP_RESTART waits in the socket's lobby, with every later
 * message, behind a message whose rest will never come.  The restart
 * still calls sk_state_change (the association enters ESTABLISHED
 * again), which runs the reader: once it has read what there is, the
 * peer's verification tag tells.  (It changes in a restart, and in the
 * other case where SCTP resets an established association's state,
 * 5.2.4's action B, which says nothing the carrier could see.)  Socket
 * unlocked.
 */
static bool funnel_sctp_restarted(struct funnel_sock *fs)
{
	struct sctp_association *asoc;
	bool restarted;

	if (!atomic_xchg(&fs->sctp_state_changed, 0))
		return false;
	lock_sock(fs->sk);
	asoc = funnel_sctp_asoc(fs);
	restarted = asoc && asoc->c.peer_vtag != fs->sctp_peer_vtag;
	release_sock(fs->sk);
	return restarted;
}

/*
 * Read one message, or one part of it, into rx_buf; a whole one goes on
 * batch.  Returns 1 when something was read, 0 when SCTP has nothing,
 * < 0 at the end (the frames of batch handed on before).
 */
static int funnel_sctp_read(struct funnel_sock *fs, struct sk_buff_head *batch)
{
	struct sock *sk = fs->sk;
	u8 cbuf[FUNNEL_SCTP_RX_CMSG] __aligned(8);
	struct msghdr msg = {};
	int n, sid, addr_len = 0;
	struct kvec iov;

	iov.iov_base = fs->rx_buf + fs->rx_len;
	iov.iov_len = FUNNEL_SCTP_RX_BUF - fs->rx_len;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, iov.iov_len);
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = sk->sk_prot->recvmsg(sk, &msg, iov.iov_len, MSG_DONTWAIT,
				 &addr_len);
	if (n == -EAGAIN && funnel_sctp_asoc_gone(fs))
		n = 0;
	if (n == -EAGAIN && funnel_sctp_restarted(fs))
		return funnel_sctp_rx_restart(fs, batch);
	if (n == -EAGAIN)
		return 0;
	if (n < 0) {
		funnel_sctp_rx_hand(fs, batch);
		funnel_sctp_rx_end(fs, -n, FUNNEL_DOWN_SOCK_ERROR);
		return n;
	}
	if (msg.msg_flags & MSG_NOTIFICATION)
		return funnel_sctp_rx_ntf(fs, iov.iov_base, n, msg.msg_flags,
					  batch);
	fs->rx_ntf_rest = false;
	if (!n) {
		funnel_sctp_rx_hand(fs, batch);
		funnel_sctp_rx_end(fs, 0, FUNNEL_DOWN_PEER_CLOSED);
		return -EPIPE;
	}

	sid = funnel_sctp_rcv_sid(cbuf, sizeof(cbuf) - msg.msg_controllen);
	if (sid < 0 && (msg.msg_flags & MSG_CTRUNC)) {
		/* the owner's socket options crowded SCTP_RCVINFO out
		 * (FUNNEL_SCTP_RX_CMSG): no message could be placed
		 */
		funnel_sctp_rx_hand(fs, batch);
		funnel_sctp_rx_end(fs, ENOBUFS, FUNNEL_DOWN_SOCK_ERROR);
		return -ENOBUFS;
	}
	if (fs->rx_len && sid != fs->rx_sid) {
		/* the message in parts was given up without a word (its
		 * rest abandoned): what came of it is dropped, this part
		 * starts a new one
		 */
		memmove(fs->rx_buf, fs->rx_buf + fs->rx_len, n);
		funnel_sctp_rx_abandon(fs);
	}
	if (!fs->rx_len)
		fs->rx_sid = sid;
	fs->rx_len += n;
	if (fs->rx_len > FUNNEL_MAX_FRAME) {
		/* never buffer more: the carrier goes down */
		funnel_stat_inc(fs->stats, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		funnel_sctp_rx_hand(fs, batch);
		funnel_sctp_rx_end(fs, EMSGSIZE, FUNNEL_DOWN_OVERSIZE);
		return -EMSGSIZE;
	}
	if (!(msg.msg_flags & MSG_EOR))
		return 1;		/* delivered in parts: more to come */

	n = fs->rx_len;
	fs->rx_len = 0;
	funnel_sctp_rx_msg(fs, n, batch);
	return 1;
}

static void funnel_sctp_rx_work(struct work_struct *work)
{
	struct funnel_sock *fs = container_of(work, struct funnel_sock,
					      rx_work);
	struct sk_buff_head batch;
	int i;

	__skb_queue_head_init(&batch);
	for (i = 0; i < FUNNEL_SCTP_RX_BUDGET; i++) {
		/* (a pause shows once a batch was handed on: the reader
		 * reads FUNNEL_SCTP_RX_BATCH frames beyond the limit at most)
		 */
		if (READ_ONCE(fs->closing) || READ_ONCE(fs->rx_end) ||
		    READ_ONCE(fs->rx_paused))
			break;
		if (funnel_sctp_read(fs, &batch) <= 0)
			break;
	}
	funnel_sctp_rx_hand(fs, &batch);
	/* more, maybe: after the other work items */
	if (i == FUNNEL_SCTP_RX_BUDGET)
		queue_work(funnel_workqueue(), &fs->rx_work);
}

/* ---- funneld's recvmsg(), poll() ---- */

static struct sk_buff *funnel_sctp_rx_next(struct funnel_sock *fs, bool peek)
{
	struct sk_buff *skb;

	if (!peek)
		return skb_dequeue(&fs->rxq);
	spin_lock_bh(&fs->rxq.lock);
	skb = skb_peek(&fs->rxq);
	if (skb)
		skb_get(skb);
	spin_unlock_bh(&fs->rxq.lock);
	return skb;
}

/*
 * One whole frame a call (header and body, no prefix, no cmsg), from
 * rxq; when the reader met the association's end and rxq is empty: 0, or
 * once its error.
 */
static int funnel_sctp_recvmsg(struct socket *sock, struct msghdr *msg,
			       size_t len, int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct funnel_sock *fs = funnel_sctp_fs(sk);
	struct sk_buff *skb;
	long timeo;
	int err = 0;

	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return -EINVAL;

	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	add_wait_queue(sk_sleep(sk), &wait);
	for (;;) {
		skb = funnel_sctp_rx_next(fs, flags & MSG_PEEK);
		if (skb)
			break;
		/* pairs with funnel_sctp_rx_end(): rx_err is set before */
		if (smp_load_acquire(&fs->rx_end)) {
			err = -xchg(&fs->rx_err, 0);
			break;
		}
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!skb)
		return err;
	return funnel_rx_deliver(fs, skb, msg, len, flags);
}

/* SCTP's poll, but readable when rxq is (SCTP's receive queue is ours). */
static __poll_t funnel_sctp_poll(struct file *file, struct socket *sock,
				 poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct funnel_sock *fs = funnel_sctp_fs(sk);
	__poll_t mask;

	mask = fs->orig_ops->poll(file, sock, wait);
	mask &= ~(EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLRDHUP | EPOLLERR);
	if (!skb_queue_empty_lockless(&fs->rxq))
		mask |= EPOLLIN | EPOLLRDNORM;
	/* pairs with funnel_sctp_rx_end(), as in recvmsg() */
	if (smp_load_acquire(&fs->rx_end)) {
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
		if (READ_ONCE(fs->rx_err))
			mask |= EPOLLERR;
	}
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	return mask;
}

/* ---- transmit ---- */

/* Send one frame (header and body at off in buf) as one SCTP message:
 * CTRL on SCTP stream 0, ordered; every other frame on the SCTP stream of
 * its header, unordered iff it has the U flag; ttl_ms: PR-SCTP lifetime.
 */
static int funnel_sctp_send(struct sock *sk, struct msghdr *msg, size_t len,
			    const struct funnel_hdr *hdr, u32 ttl_ms)
{
	u8 cbuf[FUNNEL_SCTP_TX_CMSG] __aligned(sizeof(size_t)) = {};
	struct sctp_sndinfo *si;
	struct sctp_prinfo *pi;
	struct cmsghdr *c;
	int ret;

	msg->msg_control = cbuf;
	msg->msg_controllen = CMSG_SPACE(sizeof(*si));
	msg->msg_control_is_user = false;

	c = (struct cmsghdr *)cbuf;
	c->cmsg_level = IPPROTO_SCTP;
	c->cmsg_type = SCTP_SNDINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*si));
	si = CMSG_DATA(c);
	if (hdr->type != FUNNEL_T_CTRL) {
		si->snd_sid = ntohs(hdr->stream);
		if (hdr->flags & FUNNEL_F_UNORDERED)
			si->snd_flags = SCTP_UNORDERED;
	}
	if (ttl_ms) {
		c = (struct cmsghdr *)(cbuf + CMSG_SPACE(sizeof(*si)));
		c->cmsg_level = IPPROTO_SCTP;
		c->cmsg_type = SCTP_PRINFO;
		c->cmsg_len = CMSG_LEN(sizeof(*pi));
		pi = CMSG_DATA(c);
		pi->pr_policy = SCTP_PR_SCTP_TTL;
		pi->pr_value = ttl_ms;
		msg->msg_controllen += CMSG_SPACE(sizeof(*pi));
	}
	ret = sk->sk_prot->sendmsg(sk, msg, len);
	msg->msg_control = NULL;
	msg->msg_controllen = 0;
	return ret;
}

/*
 * What is left of a kernel frame's lifetime (DATA of a stream with
 * pr-ttl-ms; 0: none) after its wait in txq.  -ETIME: spent there; the
 * frame is abandoned as SCTP would abandon it, and counted with SCTP's.
 */
static int funnel_sctp_ttl(struct funnel_sock *fs, struct sk_buff *skb,
			   const struct funnel_hdr *hdr, u32 *ttl)
{
	struct funnel_stream *st;
	u64 waited_ms;
	int ret = 0;

	*ttl = 0;
	if (hdr->type != FUNNEL_T_DATA)
		return 0;
	waited_ms = div_u64(ktime_get_ns() - FUNNEL_SCTP_CB(skb)->queued_ns,
			    NSEC_PER_MSEC);
	rcu_read_lock();
	st = funnel_stream_lookup(fs, ntohs(hdr->stream));
	if (st && st->pr_ttl_ms) {
		if (waited_ms >= st->pr_ttl_ms) {
			atomic64_inc(&st->tx_expired);
			atomic64_inc(&fs->tx_expired);
			ret = -ETIME;
		} else {
			*ttl = st->pr_ttl_ms - (u32)waited_ms;
		}
	}
	rcu_read_unlock();
	return ret;
}

/* a kernel frame taken from txq or txq_ctrl, its lifetime checked */
struct funnel_sctp_txf {
	struct sk_buff *skb;
	struct funnel_hdr hdr;
	u32 ttl;		/* PR-SCTP lifetime left, ms; 0: none */
	u64 ttl_ns;		/* when ttl was left */
	bool ctrl;		/* from txq_ctrl */
};

/* The frame's send is done (sent, or dropped): it leaves the count. */
static void funnel_sctp_tx_done(struct funnel_sock *fs,
				struct funnel_sctp_txf *f)
{
	atomic_sub(f->skb->truesize, funnel_tx_count(fs, f->ctrl));
}

/* Back to the head of its queue, still counted: a wake-up queues us. */
static void funnel_sctp_tx_requeue(struct funnel_sock *fs,
				   struct funnel_sctp_txf *f)
{
	skb_queue_head(f->ctrl ? &fs->txq_ctrl : &fs->txq, f->skb);
}

/*
 * The next frame to send, CTRL-queue first: false when both queues are
 * empty.  A frame whose lifetime was spent in the queue is abandoned
 * here, as SCTP would abandon it, and counted with SCTP's.
 */
static bool funnel_sctp_tx_next(struct funnel_sock *fs,
				struct funnel_sctp_txf *f)
{
	for (;;) {
		f->ctrl = true;
		f->skb = skb_dequeue(&fs->txq_ctrl);
		if (!f->skb) {
			f->ctrl = false;
			f->skb = skb_dequeue(&fs->txq);
		}
		if (!f->skb)
			return false;
		if (skb_copy_bits(f->skb, FUNNEL_LEN_PREFIX, &f->hdr,
				  sizeof(f->hdr)))
			funnel_stat_inc(fs->stats,
					FUNNEL_A_STATS_TX_DROP_QUEUE);
		else if (!funnel_sctp_ttl(fs, f->skb, &f->hdr, &f->ttl)) {
			f->ttl_ns = f->ttl ? ktime_get_ns() : 0;
			return true;
		}
		funnel_sctp_tx_done(fs, f);
		kfree_skb(f->skb);
	}
}

/*
 * A frame of the kernel's (length prefix, header, body) to SCTP, without
 * waiting; more: another frame follows at once (MSG_MORE: SCTP holds
 * this one's DATA chunk back to bundle it with the next ones in one
 * packet; the next send without MSG_MORE lets them all go).  Process
 * context (tx_work, close).
 */
static int funnel_sctp_send_frame(struct funnel_sock *fs,
				  struct funnel_sctp_txf *f, bool more)
{
	struct sk_buff *skb = f->skb;
	unsigned int len = skb->len - FUNNEL_LEN_PREFIX;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec iov;

	if (more)
		msg.msg_flags |= MSG_MORE;
	if (f->ttl) {
		/* the lifetime left now, not when the frame was looked
		 * ahead at (the send before it may have waited for the
		 * socket); spent meanwhile: SCTP abandons it at once, and
		 * the send still lets chunks held for it go
		 */
		u64 gone = div_u64(ktime_get_ns() - f->ttl_ns, NSEC_PER_MSEC);

		f->ttl = gone < f->ttl ? f->ttl - (u32)gone : 1;
	}
	if (skb_is_nonlinear(skb)) {
		if (skb_copy_bits(skb, FUNNEL_LEN_PREFIX, fs->tx_buf, len))
			return -EINVAL;
		iov.iov_base = fs->tx_buf;
	} else {
		iov.iov_base = skb->data + FUNNEL_LEN_PREFIX;
	}
	iov.iov_len = len;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	return funnel_sctp_send(fs->sk, &msg, len, &f->hdr, f->ttl);
}

/*
 * A send with MSG_MORE was the last to reach SCTP (the one after it
 * failed before SCTP took it, which funnel_sctp_may_bundle() leaves to
 * a failed allocation): SCTP would hold its chunks back until the next
 * send.  Delay no longer; they go with SCTP's next flush of the queue
 * (the next send, a packet received, or at the latest the path's next
 * heartbeat: about a second on funneld's carriers).
 */
static void funnel_sctp_undelay(struct funnel_sock *fs)
{
	struct sctp_association *asoc;

	lock_sock(fs->sk);
	asoc = funnel_sctp_asoc(fs);
	if (asoc)
		asoc->force_delay = 0;
	release_sock(fs->sk);
}

/* a frame up to this long may be held for bundling (MSG_MORE) */
#define FUNNEL_SCTP_BUNDLE_MAX	1024
/* send buffer one held frame's DATA chunk takes at most: its skb's
 * truesize and struct sctp_chunk (sctp_set_owner_w())
 */
#define FUNNEL_SCTP_HELD_COST	4096

/*
 * Whether cur may go with MSG_MORE, ahead of next: only when SCTP will
 * take next too.  If next failed, cur's chunk would stay held until
 * SCTP flushes its queue for another reason (a packet received, a
 * heartbeat), and a module cannot make it flush (sctp_outq_uncork() is
 * not exported): held chunks that fill the send buffer would then stop
 * the carrier's transmit.  So: next is small (bundling is for small
 * frames; a large one fills its packets alone), below any fragmentation
 * limit, and SCTP has room for it beside cur with half its send buffer
 * to spare.  (sctp_sendmsg_to_asoc() refuses a message only when no send
 * buffer space is left at all, after pruning PR-SCTP chunks if the
 * message is longer than the space left, or when sk_wmem_schedule()
 * fails; the margin is stricter than SCTP needs: a message that would
 * leave the buffer nearly full is sent without MSG_MORE before it,
 * which costs bundling and nothing else.)  What can still fail next (no
 * memory, SCTP's memory pressure) leaves cur to the next flush: see
 * funnel_sctp_undelay().
 */
static bool funnel_sctp_may_bundle(const struct funnel_sock *fs,
				   const struct funnel_sctp_txf *next)
{
	struct sock *sk = fs->sk;
	unsigned int len = next->skb->len - FUNNEL_LEN_PREFIX;

	/* disable_fragments: a bit the owner may set (setsockopt()) under
	 * the socket's lock; a stale read costs one frame's bundling or
	 * leaves it to funnel_sctp_undelay()
	 */
	if (len > FUNNEL_SCTP_BUNDLE_MAX || sctp_sk(sk)->disable_fragments)
		return false;
	return READ_ONCE(sk->sk_wmem_queued) + FUNNEL_SCTP_HELD_COST + len <=
	       READ_ONCE(sk->sk_sndbuf) / 2;
}

/*
 * Send what is queued until SCTP has no room: CTRL-queue first.  Every
 * frame but the last of a run goes with MSG_MORE while
 * funnel_sctp_may_bundle() allows, so that a burst of small frames
 * leaves in few packets and a lone frame at once.
 */
static void funnel_sctp_tx_push(struct funnel_sock *fs)
{
	struct funnel_sctp_txf cur, next;
	bool have_next, more, delayed = false;
	int ret;

	if (READ_ONCE(fs->tx_broken) || !funnel_sctp_tx_next(fs, &cur))
		return;
	for (;;) {
		if (READ_ONCE(fs->tx_broken)) {
			funnel_sctp_tx_requeue(fs, &cur);
			break;
		}
		have_next = funnel_sctp_tx_next(fs, &next);
		more = have_next && funnel_sctp_may_bundle(fs, &next);
		ret = funnel_sctp_send_frame(fs, &cur, more);
		if (ret == -EAGAIN) {
			/* no room: SCTP took neither; both wait for the
			 * wake-up, the next one first back in its queue
			 */
			if (have_next)
				funnel_sctp_tx_requeue(fs, &next);
			funnel_sctp_tx_requeue(fs, &cur);
			break;
		}
		funnel_sctp_tx_done(fs, &cur);
		if (ret >= 0) {
			delayed = more;
			funnel_stat_frame(fs->stats, FUNNEL_A_STATS_TX_FRAMES,
					  cur.skb->len - FUNNEL_LEN_PREFIX);
			consume_skb(cur.skb);
		} else {
			kfree_skb(cur.skb);
			funnel_stat_inc(fs->stats,
					FUNNEL_A_STATS_TX_DROP_QUEUE);
			/* this frame alone: no memory, or a stream SCTP
			 * refuses; else the association is gone: nothing
			 * more goes
			 */
			if (ret != -ENOMEM && ret != -EINVAL &&
			    ret != -EMSGSIZE) {
				WRITE_ONCE(fs->tx_broken, true);
				if (!READ_ONCE(fs->down_reason))
					WRITE_ONCE(fs->down_reason,
						   FUNNEL_DOWN_SOCK_ERROR);
				queue_work(funnel_workqueue(), &fs->down_work);
			}
		}
		if (!have_next)
			break;
		cur = next;
	}
	if (delayed && !READ_ONCE(fs->tx_broken))
		funnel_sctp_undelay(fs);
}

static void funnel_sctp_tx_work(struct work_struct *work)
{
	struct funnel_sock *fs = container_of(work, struct funnel_sock,
					      tx_work);

	if (!READ_ONCE(fs->closing))
		funnel_sctp_tx_push(fs);
}

static bool funnel_sctp_tx_dead(const struct funnel_sock *fs)
{
	const struct sock *sk = fs->sk;

	/* SCTP sends nothing new once the peer's SHUTDOWN came (its
	 * CLOSING, TCP's CLOSE_WAIT): the reader ends the carrier
	 */
	return READ_ONCE(fs->closing) || READ_ONCE(fs->tx_broken) ||
	       (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
	       inet_sk_state_load(sk) != TCP_ESTABLISHED;
}

/* funnel_tx_frame() on an SCTP carrier: queue, tx_work sends.  Any
 * context; consumes skb.
 */
int funnel_sctp_tx_frame(struct funnel_sock *fs, struct sk_buff *skb,
			 bool prio)
{
	int err = 0;

	if (funnel_sctp_tx_dead(fs))
		err = -EPIPE;
	else if (!funnel_tx_charge(fs, skb->truesize, prio))
		err = -ENOBUFS;
	if (err) {
		funnel_stat_inc(fs->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
		kfree_skb(skb);
		return err;
	}
	FUNNEL_SCTP_CB(skb)->queued_ns = ktime_get_ns();
	skb_queue_tail(prio ? &fs->txq_ctrl : &fs->txq, skb);
	queue_work(funnel_workqueue(), &fs->tx_work);
	return 0;
}

/*
 * funneld's sendmsg(): one whole frame (header and body, no prefix) a
 * call, no control messages, no address; the checks of the TCP ULP's
 * sendmsg(), made on the copy that is sent (another thread of the owner
 * cannot change the header between the check and SCTP's copy).  SCTP
 * waits for room as it does for any sender (MSG_DONTWAIT: -EAGAIN, then
 * EPOLLOUT once there is room).
 */
static int funnel_sctp_sendmsg(struct socket *sock, struct msghdr *msg,
			       size_t size)
{
	struct sock *sk = sock->sk;
	struct funnel_sock *fs = funnel_sctp_fs(sk);
	struct msghdr kmsg = {};
	struct funnel_hdr hdr;
	struct kvec iov;
	void *buf;
	int ret;

	if (msg->msg_flags & MSG_OOB)
		return -EINVAL;
	if (msg->msg_controllen || msg->msg_namelen)
		return -EINVAL;
	if (size < FUNNEL_HDR_LEN)
		return -EINVAL;
	if (size > FUNNEL_MAX_FRAME)
		return -EMSGSIZE;
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (!copy_from_iter_full(buf, size, &msg->msg_iter)) {
		ret = -EFAULT;
		goto out;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (!funnel_user_hdr_ok(fs, &hdr)) {
		ret = -EINVAL;
		goto revert;
	}

	/* the owner's MSG_MORE would hold the kernel's frames back too (SCTP
	 * delays per association): each of its frames goes at once
	 */
	kmsg.msg_flags = msg->msg_flags & ~MSG_MORE;
	iov.iov_base = buf;
	iov.iov_len = size;
	iov_iter_kvec(&kmsg.msg_iter, ITER_SOURCE, &iov, 1, size);
	ret = funnel_sctp_send(sk, &kmsg, size, &hdr, 0);
	if (ret >= 0) {
		funnel_stat_frame(fs->stats, FUNNEL_A_STATS_TX_FRAMES, size);
		goto out;
	}
revert:
	/* nothing sent: the caller's iterator as it came (io_uring may
	 * send it again after EAGAIN)
	 */
	iov_iter_revert(&msg->msg_iter, size);
out:
	kvfree(buf);
	return ret;
}

/* ---- the socket operations: ours, the rest SCTP's ---- */

union funnel_sctp_events {
	struct sctp_event ev;
	struct sctp_event_subscribe evs;
};

/* funnel.ko reads SCTP_RCVINFO, one message at a time, whole messages */
static bool funnel_sctp_opt_ours(int level, int optname)
{
	if (level != SOL_SCTP)
		return false;
#ifdef SCTP_EXPLICIT_EOR
	if (optname == SCTP_EXPLICIT_EOR)
		return true;
#endif
	return optname == SCTP_RECVRCVINFO ||
	       optname == SCTP_FRAGMENT_INTERLEAVE ||
	       optname == SCTP_INTERLEAVING_SUPPORTED;
}

/* the notifications the reader needs (funnel_sctp_rx_ntf()) */
static bool funnel_sctp_event_ours(unsigned int type)
{
	return type == SCTP_PARTIAL_DELIVERY_EVENT || type == SCTP_ASSOC_CHANGE;
}

/*
 * SCTP_EVENT or SCTP_EVENTS that would turn one of our notifications off:
 * -EBUSY.  Else 0, and the copy checked (k) is what SCTP gets: *optval
 * points to it.
 */
static int funnel_sctp_events_check(int optname, sockptr_t *optval,
				    unsigned int optlen,
				    union funnel_sctp_events *k)
{
	if (optname == SCTP_EVENT) {
		/* SCTP takes sizeof(k->ev) of a longer one */
		if (optlen < sizeof(k->ev))
			return 0;	/* SCTP's EINVAL */
		if (copy_from_sockptr(&k->ev, *optval, sizeof(k->ev)))
			return -EFAULT;
		if (funnel_sctp_event_ours(k->ev.se_type) && !k->ev.se_on)
			return -EBUSY;
	} else {
		/* the old API: the whole mask, of the socket and of the
		 * association, up to optlen (our bits are set in both at
		 * attach, so a shorter one leaves them on)
		 */
		if (optlen > sizeof(k->evs))
			return 0;	/* SCTP's EINVAL */
		memset(&k->evs, 0xff, sizeof(k->evs));
		if (copy_from_sockptr(&k->evs, *optval, optlen))
			return -EFAULT;
		if (!k->evs.sctp_association_event ||
		    !k->evs.sctp_partial_delivery_event)
			return -EBUSY;
	}
	*optval = KERNEL_SOCKPTR(k);
	return 0;
}

static int funnel_sctp_setsockopt(struct socket *sock, int level, int optname,
				  sockptr_t optval, unsigned int optlen)
{
	union funnel_sctp_events k;
	int err;

	if (funnel_sctp_opt_ours(level, optname))
		return -EBUSY;
	if (level == SOL_SCTP &&
	    (optname == SCTP_EVENT || optname == SCTP_EVENTS)) {
		err = funnel_sctp_events_check(optname, &optval, optlen, &k);
		if (err)
			return err;
	}
	return funnel_sctp_fs(sock->sk)->orig_ops->setsockopt(sock, level,
							       optname, optval,
							       optlen);
}

static int funnel_sctp_getsockopt(struct socket *sock, int level, int optname,
				  char __user *optval, int __user *optlen)
{
	return funnel_sctp_fs(sock->sk)->orig_ops->getsockopt(sock, level,
							       optname, optval,
							       optlen);
}

static int funnel_sctp_getname(struct socket *sock, struct sockaddr *addr,
			       int peer)
{
	return funnel_sctp_fs(sock->sk)->orig_ops->getname(sock, addr, peer);
}

static int funnel_sctp_ioctl(struct socket *sock, unsigned int cmd,
			     unsigned long arg)
{
	return funnel_sctp_fs(sock->sk)->orig_ops->ioctl(sock, cmd, arg);
}

static int funnel_sctp_shutdown_op(struct socket *sock, int how)
{
	return funnel_sctp_fs(sock->sk)->orig_ops->shutdown(sock, how);
}

/*
 * Stop the carrier's use of the socket: no callback, wake-up or work item
 * of ours runs once this returns.  The callbacks are restored first, then
 * the carrier is gone from sk_user_data; a callback still running saw it
 * or calls the restored one, and a grace period covers it.
 */
static void funnel_sctp_stop(struct funnel_sock *fs)
{
	struct sock *sk = fs->sk;

	lock_sock(sk);
	fs->closing = true;
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = fs->saved_data_ready;
	sk->sk_write_space = fs->saved_write_space;
	sk->sk_state_change = fs->saved_state_change;
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);

	remove_wait_queue(sk_sleep(sk), &fs->tx_wait);
	synchronize_rcu();
	cancel_work_sync(&fs->rx_work);
	cancel_work_sync(&fs->tx_work);
	/* no reader or sender runs: no new down_work */
	cancel_work_sync(&fs->down_work);
}

/* The carrier is unregistered and stopped: drop what is queued, free. */
static void funnel_sctp_free(struct funnel_sock *fs)
{
	struct sock *sk = fs->sk;

	/* the streams are gone; wait for whoever still saw one (UDP
	 * receive), then for the AEAD operations under way: their
	 * completions use fs and may queue a frame (refused: closing)
	 */
	synchronize_rcu();
	wait_var_event(&fs->inflight, !atomic_read(&fs->inflight));
	cancel_work_sync(&fs->tx_work);

	lock_sock(sk);
	skb_queue_purge(&fs->rxq);
	funnel_tx_purge(fs);
	release_sock(sk);

	kvfree(fs->rx_buf);
	kvfree(fs->tx_buf);
	free_percpu(fs->stats);
	kfree(fs);
}

/*
 * funneld's close() (the last reference to the socket's file): what SCTP
 * takes now is sent, the callbacks and SCTP's operations are restored,
 * the carrier unregistered, the work items and AEAD operations waited
 * for; then SCTP closes the socket.  The socket layer drops the reference
 * on this module (our operations' owner) after we return.
 */
static int funnel_sctp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct funnel_sock *fs = funnel_sctp_fs(sk);
	const struct proto_ops *orig = fs->orig_ops;

	/* what SCTP takes now goes, pushed by the sender work alone (one
	 * sender at a time: it owns tx_buf)
	 */
	if (!funnel_sctp_tx_dead(fs)) {
		queue_work(funnel_workqueue(), &fs->tx_work);
		flush_work(&fs->tx_work);
	}
	funnel_sctp_stop(fs);
	funnel_carrier_unregister(fs, funnel_close_reason(fs));
	funnel_sctp_free(fs);

	WRITE_ONCE(sock->ops, orig);
	return orig->release(sock);
}

#define FUNNEL_SCTP_OPS(fam)						\
{									\
	.family		= fam,						\
	.owner		= THIS_MODULE,					\
	.release	= funnel_sctp_release,				\
	.bind		= sock_no_bind,					\
	.connect	= sock_no_connect,				\
	.socketpair	= sock_no_socketpair,				\
	.accept		= sock_no_accept,				\
	.getname	= funnel_sctp_getname,				\
	.poll		= funnel_sctp_poll,				\
	.ioctl		= funnel_sctp_ioctl,				\
	.listen		= sock_no_listen,				\
	.shutdown	= funnel_sctp_shutdown_op,			\
	.setsockopt	= funnel_sctp_setsockopt,			\
	.getsockopt	= funnel_sctp_getsockopt,			\
	.sendmsg	= funnel_sctp_sendmsg,				\
	.recvmsg	= funnel_sctp_recvmsg,				\
	.mmap		= sock_no_mmap,					\
}

static const struct proto_ops funnel_sctp4_ops = FUNNEL_SCTP_OPS(PF_INET);
static const struct proto_ops funnel_sctp6_ops = FUNNEL_SCTP_OPS(PF_INET6);

static bool funnel_sctp_is_ours(const struct socket *sock)
{
	const struct proto_ops *ops = READ_ONCE(sock->ops);

	return ops == &funnel_sctp4_ops || ops == &funnel_sctp6_ops;
}

/* ---- carrier-new, and its undoing ---- */

/* Can this SCTP socket be a carrier?  0, or why not in extack. */
static int funnel_sctp_refusal(struct socket *sock,
			       struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;

	if (sk->sk_type != SOCK_STREAM) {
		NL_SET_ERR_MSG(extack, "an SCTP carrier is a one-to-one socket (SOCK_STREAM)");
		return -EINVAL;
	}
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) {
		NL_SET_ERR_MSG(extack, "an SCTP carrier is an AF_INET or AF_INET6 socket");
		return -EINVAL;
	}
	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack, "an SCTP carrier needs CAP_NET_ADMIN in its netns");
		return -EPERM;
	}
	if (funnel_sctp_is_ours(sock)) {
		NL_SET_ERR_MSG(extack, "socket is already a carrier");
		return -EEXIST;
	}
	if (READ_ONCE(sk->sk_user_data)) {
		NL_SET_ERR_MSG(extack, "socket is in use by another kernel user (sk_user_data)");
		return -EBUSY;
	}
	if (inet_sk_state_load(sk) != SCTP_SS_ESTABLISHED) {
		NL_SET_ERR_MSG(extack, "the SCTP association is not established");
		return -ENOTCONN;
	}
	return 0;
}

/* The association's features a carrier cannot use (socket locked):
 * I-DATA (RFC 8260) delivers the parts of messages of different streams
 * interleaved, and the reader joins the parts of one message at a time.
 */
static int funnel_sctp_asoc_refusal(struct sock *sk,
				    struct netlink_ext_ack *extack)
{
	struct sctp_endpoint *ep = sctp_sk(sk)->ep;
	struct sctp_association *asoc;

	if (!ep || list_empty(&ep->asocs)) {
		NL_SET_ERR_MSG(extack, "the SCTP association is not established");
		return -ENOTCONN;
	}
	asoc = list_first_entry(&ep->asocs, struct sctp_association, asocs);
	if (asoc->peer.intl_capable) {
		NL_SET_ERR_MSG(extack, "a carrier cannot use I-DATA (RFC 8260 interleaving)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* A socket in partial delivery: SCTP has begun to queue a message in
 * parts (whether or not the owner read any), and the reader, which
 * cannot tell how much of it is gone, would take the rest for a frame of
 * its own (socket locked).
 */
static int funnel_sctp_pd_refusal(struct sock *sk,
				  struct netlink_ext_ack *extack)
{
	if (atomic_read(&sctp_sk(sk)->pd_mode)) {
		NL_SET_ERR_MSG(extack, "a message is delivered in parts: read it whole first");
		return -EBUSY;
	}
	return 0;
}

/*
 * Make the socket's reads what the reader needs: whole messages, one at a
 * time (no fragment interleave: I-DATA stays off for associations to
 * come too), each with its SCTP stream (SCTP_RECVRCVINFO); and subscribe
 * the socket and its association to the two notifications the reader
 * acts on (funnel_sctp_rx_ntf()).  What SCTP's setsockopt() would do,
 * done under the socket lock the caller holds, after its last check: a
 * refused carrier-new leaves the socket as it was.  (Linux has no
 * SCTP_EXPLICIT_EOR: a message always ends with MSG_EOR.)
 */
static void funnel_sctp_take(struct sock *sk, struct sctp_association *asoc)
{
	struct sctp_sock *sp = sctp_sk(sk);

	sp->recvrcvinfo = 1;
	sp->frag_interleave = 0;
	sp->ep->intl_enable = 0;
	sctp_ulpevent_type_set(&sp->subscribe, SCTP_PARTIAL_DELIVERY_EVENT, 1);
	sctp_ulpevent_type_set(&sp->subscribe, SCTP_ASSOC_CHANGE, 1);
	sctp_ulpevent_type_set(&asoc->subscribe, SCTP_PARTIAL_DELIVERY_EVENT,
			       1);
	sctp_ulpevent_type_set(&asoc->subscribe, SCTP_ASSOC_CHANGE, 1);
}

/*
 * carrier-new with a socket that is a carrier already, but no longer
 * registered (carrier-del, or a registration refused after the socket
 * was taken over): its carrier, registered again as a TCP socket's is,
 * if its association still lives (funnel_carrier_register() refuses one
 * that went down, and one registered).
 */
static struct funnel_sock *funnel_sctp_again(struct socket *sock,
					     struct netlink_ext_ack *extack,
					     int *errp)
{
	struct sock *sk = sock->sk;

	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(extack, "an SCTP carrier needs CAP_NET_ADMIN in its netns");
		*errp = -EPERM;
		return NULL;
	}
	lock_sock(sk);
	if (sk->sk_state != SCTP_SS_ESTABLISHED) {
		NL_SET_ERR_MSG(extack, "the SCTP association is not established");
		*errp = -ENOTCONN;
	} else {
		*errp = funnel_sctp_asoc_refusal(sk, extack);
	}
	release_sock(sk);
	/* the caller holds the socket's file: the carrier lives on */
	return *errp ? NULL : funnel_sctp_fs(sk);
}

/*
 * carrier-new with an SCTP socket: check it, make its reads whole
 * messages with their stream, and take it over.  Returns the carrier, not
 * yet registered, or NULL with *errp and extack set.
 */
struct funnel_sock *funnel_sctp_attach(struct socket *sock,
				       struct netlink_ext_ack *extack,
				       int *errp)
{
	struct sock *sk = sock->sk;
	struct funnel_sock *fs;

	if (sk->sk_type == SOCK_STREAM && funnel_sctp_is_ours(sock))
		return funnel_sctp_again(sock, extack, errp);
	*errp = funnel_sctp_refusal(sock, extack);
	if (!*errp) {
		lock_sock(sk);
		*errp = funnel_sctp_asoc_refusal(sk, extack);
		if (!*errp)
			*errp = funnel_sctp_pd_refusal(sk, extack);
		release_sock(sk);
	}
	if (*errp)
		return NULL;

	*errp = -ENOMEM;
	fs = kzalloc(sizeof(*fs), GFP_KERNEL_ACCOUNT);
	if (!fs)
		goto nomem;
	fs->rx_buf = kvmalloc(FUNNEL_SCTP_RX_BUF, GFP_KERNEL_ACCOUNT);
	fs->tx_buf = kvmalloc(FUNNEL_MAX_FRAME, GFP_KERNEL_ACCOUNT);
	fs->stats = funnel_stats_alloc();
	if (!fs->rx_buf || !fs->tx_buf || !fs->stats)
		goto nomem;

	fs->sk = sk;
	fs->sctp = true;
	fs->net = sock_net(sk);
	fs->rx_sid = -1;
	skb_queue_head_init(&fs->rxq);
	skb_queue_head_init(&fs->txq);
	skb_queue_head_init(&fs->txq_ctrl);
	skb_queue_head_init(&fs->txq_user);	/* unused: funnel_tx_purge() */
	INIT_WORK(&fs->rx_work, funnel_sctp_rx_work);
	INIT_WORK(&fs->tx_work, funnel_sctp_tx_work);
	INIT_WORK(&fs->down_work, funnel_carrier_down_work);
	init_waitqueue_func_entry(&fs->tx_wait, funnel_sctp_wake);
	xa_init(&fs->streams);

	lock_sock(sk);
	/* again, now that nothing changes under us */
	*errp = funnel_sctp_refusal(sock, extack);
	if (!*errp)
		*errp = funnel_sctp_asoc_refusal(sk, extack);
	if (!*errp)
		*errp = funnel_sctp_pd_refusal(sk, extack);
	if (*errp) {
		release_sock(sk);
		goto free;
	}
	/* the socket's file holds a reference on the owner of its
	 * operations: this module from now on (its sock stays SCTP's, and
	 * holds SCTP); none while the module is going away
	 */
	if (!try_module_get(THIS_MODULE)) {
		release_sock(sk);
		NL_SET_ERR_MSG(extack, "funnel.ko is being unloaded");
		*errp = -ENODEV;
		goto free;
	}
	/* nothing can refuse the socket now */
	funnel_sctp_take(sk, funnel_sctp_asoc(fs));
	fs->sctp_peer_vtag = funnel_sctp_asoc(fs)->c.peer_vtag;
	fs->orig_ops = sock->ops;
	write_lock_bh(&sk->sk_callback_lock);
	fs->saved_data_ready = sk->sk_data_ready;
	fs->saved_write_space = sk->sk_write_space;
	fs->saved_state_change = sk->sk_state_change;
	rcu_assign_sk_user_data(sk, fs);
	sk->sk_data_ready = funnel_sctp_data_ready;
	sk->sk_write_space = funnel_sctp_write_space;
	sk->sk_state_change = funnel_sctp_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sock->ops, sk->sk_family == AF_INET6 ? &funnel_sctp6_ops :
							  &funnel_sctp4_ops);
	module_put(fs->orig_ops->owner);
	release_sock(sk);

	add_wait_queue(sk_sleep(sk), &fs->tx_wait);
	/* what arrived before is read now */
	queue_work(funnel_workqueue(), &fs->rx_work);
	return fs;

nomem:
	NL_SET_ERR_MSG(extack, "no memory for the carrier");
free:
	if (fs) {
		kvfree(fs->rx_buf);
		kvfree(fs->tx_buf);
		free_percpu(fs->stats);
	}
	kfree(fs);
	return NULL;
}

/* ---- what the rest of funnel.ko asks of an SCTP carrier ---- */

/* The association of a registered carrier, or NULL.  Socket locked. */
static struct sctp_association *funnel_sctp_asoc(struct funnel_sock *fs)
{
	struct sctp_endpoint *ep = sctp_sk(fs->sk)->ep;

	if (!ep || list_empty(&ep->asocs))
		return NULL;
	return list_first_entry(&ep->asocs, struct sctp_association, asocs);
}

static void funnel_sctp_addr(struct funnel_addr *a, const union sctp_addr *sa)
{
	a->family = sa->sa.sa_family;
	if (a->family == AF_INET6) {
		a->v6 = sa->v6.sin6_addr;
		a->port = sa->v6.sin6_port;
	} else {
		a->v4 = sa->v4.sin_addr.s_addr;
		a->port = sa->v4.sin_port;
	}
}

/* The addresses of the association's primary path (the socket's own are
 * those it was bound to, often the any address): false if it has none.
 */
bool funnel_sctp_addrs(struct funnel_sock *fs, struct funnel_addr *local,
		       struct funnel_addr *remote)
{
	struct sctp_association *asoc;
	struct sctp_transport *t;
	bool ret = false;

	memset(local, 0, sizeof(*local));
	memset(remote, 0, sizeof(*remote));
	lock_sock(fs->sk);
	asoc = funnel_sctp_asoc(fs);
	t = asoc ? asoc->peer.primary_path : NULL;
	if (t) {
		funnel_sctp_addr(local, &t->saddr);
		local->port = inet_sk(fs->sk)->inet_sport;
		funnel_sctp_addr(remote, &t->ipaddr);
		ret = local->family == remote->family;
	}
	release_sock(fs->sk);
	return ret;
}

/* stream-new: the stream's SCTP stream must exist both ways. */
int funnel_sctp_stream_check(struct funnel_sock *fs, u16 id,
			     struct netlink_ext_ack *extack)
{
	struct sctp_association *asoc;
	unsigned int n = 0;
	bool up;

	lock_sock(fs->sk);
	asoc = funnel_sctp_asoc(fs);
	up = !!asoc;
	if (asoc)
		n = min(asoc->stream.outcnt, asoc->stream.incnt);
	release_sock(fs->sk);

	if (!up) {
		NL_SET_ERR_MSG(extack, "the carrier's association is gone");
		return -ENOTCONN;
	}
	if (id >= n) {
		funnel_set_err_msg_streams(extack, id, n);
		return -ERANGE;
	}
	return 0;
}

static u64 funnel_sctp_pr_sum(const __u64 *a, const __u64 *b)
{
	u64 n = 0;
	int i;

	for (i = 0; i <= SCTP_PR_INDEX(MAX); i++)
		n += a[i] + b[i];
	return n;
}

/* Messages the association abandoned (PR-SCTP), sent or not yet sent: of
 * SCTP stream sid, or all of them (sid < 0).  Process context.
 */
u64 funnel_sctp_abandoned(struct funnel_sock *fs, int sid)
{
	struct sctp_association *asoc;
	struct sctp_stream_out *so;
	u64 n = 0;

	lock_sock(fs->sk);
	asoc = funnel_sctp_asoc(fs);
	if (asoc && sid < 0) {
		n = funnel_sctp_pr_sum(asoc->abandoned_sent,
				       asoc->abandoned_unsent) +
		    atomic64_read(&fs->tx_expired);
	} else if (asoc && sid < asoc->stream.outcnt) {
		so = SCTP_SO(&asoc->stream, sid);
		if (so && so->ext)
			n = funnel_sctp_pr_sum(so->ext->abandoned_sent,
					       so->ext->abandoned_unsent);
	}
	release_sock(fs->sk);
	return n;
}

/*
 * The carrier's owner went away: end the association.  SCTP offers a
 * module no abort: sctp_primitive_ABORT() is not exported, sendmsg()
 * refuses SCTP_ABORT on a one-to-one socket, and SCTP has no
 * diag_destroy.  So it is shut down (SHUTDOWN: what was sent is still
 * delivered, then the peer sees the end), as shutdown(SHUT_WR) would.
 */
void funnel_sctp_shutdown(struct sock *sk)
{
	lock_sock(sk);
	if (sk->sk_state == SCTP_SS_ESTABLISHED) {
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		sk->sk_prot->shutdown(sk, SEND_SHUTDOWN);
	}
	release_sock(sk);
}
