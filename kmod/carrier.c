// SPDX-License-Identifier: GPL-2.0
/*
 * Carriers: funnel ULP sockets registered over netlink, one table of them
 * per network namespace.
 *
 * A carrier is referenced by the table only while it is registered; the
 * socket's close() unregisters it before anything is freed, under the
 * table's mutex, so table walkers holding the mutex see live sockets.
 */
#include <linux/module.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "funnel.h"

static unsigned int funnel_net_id __read_mostly;

struct funnel_net *funnel_pernet(const struct net *net)
{
	return net_generic(net, funnel_net_id);
}

/* Has the carrier's connection gone down (or its framing broken)? */
static bool funnel_carrier_down(const struct funnel_sock *fs)
{
	const struct sock *sk = fs->sk;

	return READ_ONCE(fs->down_reason) || READ_ONCE(fs->tx_broken) ||
	       READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       !((1 << inet_sk_state_load(sk)) &
		 (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT));
}

/*
 * carrier-new of a socket whose connection went down: why, as far as
 * funnel.ko knows (a malformed frame it parsed on TCP_ULP, say).
 */
static void funnel_set_err_down(const struct funnel_sock *fs,
				struct netlink_ext_ack *extack)
{
	switch (READ_ONCE(fs->down_reason)) {
	case FUNNEL_DOWN_BAD_LENGTH:
		NL_SET_ERR_MSG(extack,
			       "the socket's connection is down already: the peer sent a frame length below the header's size");
		break;
	case FUNNEL_DOWN_OVERSIZE:
		NL_SET_ERR_MSG(extack,
			       "the socket's connection is down already: the peer sent a frame above the carrier's limit");
		break;
	case FUNNEL_DOWN_PEER_CLOSED:
		NL_SET_ERR_MSG(extack,
			       "the socket's connection is down already: closed by the peer");
		break;
	default:
		NL_SET_ERR_MSG(extack, "the socket's connection is down already");
		break;
	}
}

/*
 * Register fs as a carrier of its netns, owned by netlink port owner (0:
 * no owner).  A connection that went down before (a reset between
 * TCP_ULP and carrier-new) is refused: its down_work ran already and
 * found nothing to unregister.  One that goes down after is unregistered
 * by its down_work, which takes the table's mutex after us.
 */
int funnel_carrier_register(struct funnel_sock *fs, u32 owner, u32 *id,
			    struct netlink_ext_ack *extack)
{
	struct funnel_net *fn = funnel_pernet(fs->net);
	int err;

	mutex_lock(&fn->lock);
	if (fs->carrier_id) {
		NL_SET_ERR_MSG(extack, "socket is already a carrier");
		err = -EEXIST;
		goto out;
	}
	if (fs->closing || funnel_carrier_down(fs)) {
		funnel_set_err_down(fs, extack);
		err = -ENOTCONN;
		goto out;
	}
	err = xa_alloc_cyclic(&fn->carriers, id, fs, xa_limit_32b,
			      &fn->next_id, GFP_KERNEL_ACCOUNT);
	if (err < 0) {
		NL_SET_ERR_MSG(extack, "cannot allocate a carrier id");
		goto out;
	}
	fs->carrier_id = *id;
	fs->owner_portid = owner;
	if (owner)
		atomic_inc(&fn->owned);
	err = 0;
out:
	mutex_unlock(&fn->lock);
	return err;
}

/* Out of the table: the streams go.  funnel_net.lock held. */
static void funnel_carrier_unlink(struct funnel_net *fn, struct funnel_sock *fs)
{
	lockdep_assert_held(&fn->lock);
	xa_erase(&fn->carriers, fs->carrier_id);
	fs->carrier_id = 0;
	if (fs->owner_portid)
		atomic_dec(&fn->owned);
	fs->owner_portid = 0;
	funnel_streams_destroy(fs);
}

/* Remove the carrier from its table and tell the "events" group why.
 * Idempotent; process context.
 */
void funnel_carrier_unregister(struct funnel_sock *fs, u32 reason)
{
	struct funnel_net *fn = funnel_pernet(fs->net);
	u32 id;

	mutex_lock(&fn->lock);
	id = fs->carrier_id;
	if (id)
		funnel_carrier_unlink(fn, fs);
	mutex_unlock(&fn->lock);

	if (id)
		funnel_nl_notify_down(fs->net, id, reason);
}

/* Unregister carrier id of net.  Returns -ENOENT if there is none. */
int funnel_carrier_del(struct net *net, u32 id, u32 reason)
{
	struct funnel_net *fn = funnel_pernet(net);
	struct funnel_sock *fs;

	mutex_lock(&fn->lock);
	fs = xa_load(&fn->carriers, id);
	if (fs)
		funnel_carrier_unlink(fn, fs);
	mutex_unlock(&fn->lock);

	if (!fs)
		return -ENOENT;
	funnel_nl_notify_down(net, id, reason);
	return 0;
}

#define FUNNEL_OWNER_BATCH	16

/*
 * The netlink socket portid of net was closed: the carriers it owns go
 * down, and their connections are reset (TCP) or shut down (SCTP), so the
 * peer reconnects at once to whoever owns the port now.  Process context
 * (the closer's).
 */
void funnel_carrier_release_owner(struct net *net, u32 portid)
{
	struct funnel_net *fn = funnel_pernet(net);
	struct sock *sks[FUNNEL_OWNER_BATCH];
	u32 ids[FUNNEL_OWNER_BATCH];
	struct funnel_sock *fs;
	unsigned long id;
	int i, n;

	if (!atomic_read(&fn->owned))
		return;
	do {
		n = 0;
		mutex_lock(&fn->lock);
		xa_for_each(&fn->carriers, id, fs) {
			if (fs->owner_portid != portid)
				continue;
			ids[n] = id;
			sks[n] = fs->sk;
			/* the socket outlives fs: we reset it below */
			sock_hold(fs->sk);
			funnel_carrier_unlink(fn, fs);
			if (++n == FUNNEL_OWNER_BATCH)
				break;
		}
		mutex_unlock(&fn->lock);

		for (i = 0; i < n; i++) {
			funnel_nl_notify_down(net, ids[i],
					      FUNNEL_DOWN_OWNER_GONE);
			/* SCTP: no abort a module can call; see sctp.c */
			if (sks[i]->sk_protocol == IPPROTO_SCTP)
				funnel_sctp_shutdown(sks[i]);
			else
				tcp_abort(sks[i], ECONNABORTED);
			sock_put(sks[i]);
		}
	} while (n == FUNNEL_OWNER_BATCH);
}

/* The receive side failed in softirq context: unregister from a work. */
void funnel_carrier_down_work(struct work_struct *work)
{
	struct funnel_sock *fs = container_of(work, struct funnel_sock,
					      down_work);

	funnel_carrier_unregister(fs, READ_ONCE(fs->down_reason));
	/* a frame was cut on the wire: the peer cannot parse what follows,
	 * so the connection is reset (which runs us once more, on a closed
	 * socket)
	 */
	if (READ_ONCE(fs->tx_broken) && !fs->sctp &&
	    inet_sk_state_load(fs->sk) != TCP_CLOSE)
		tcp_abort(fs->sk, EPIPE);
}

static int __net_init funnel_net_init(struct net *net)
{
	struct funnel_net *fn = funnel_pernet(net);

	mutex_init(&fn->lock);
	xa_init_flags(&fn->carriers, XA_FLAGS_ALLOC1);
	fn->next_id = 1;
	atomic_set(&fn->owned, 0);
	atomic_set(&fn->nflows, 0);
	atomic_set(&fn->pending_bytes, 0);
	return 0;
}

static void __net_exit funnel_net_exit(struct net *net)
{
	struct funnel_net *fn = funnel_pernet(net);

	/* every carrier socket holds a reference on its netns, so the
	 * table is empty by now; the kernel UDP sockets of its streams
	 * (which hold none) are released by rcu_work items: wait for them
	 */
	rcu_barrier();
	flush_workqueue(funnel_workqueue());
	WARN_ON_ONCE(atomic_read(&fn->nflows) ||
		     atomic_read(&fn->pending_bytes));
	xa_destroy(&fn->carriers);
}

static struct pernet_operations funnel_net_ops = {
	.init	= funnel_net_init,
	.exit	= funnel_net_exit,
	.id	= &funnel_net_id,
	.size	= sizeof(struct funnel_net),
};

int funnel_carrier_init(void)
{
	return register_pernet_subsys(&funnel_net_ops);
}

void funnel_carrier_exit(void)
{
	unregister_pernet_subsys(&funnel_net_ops);
}
