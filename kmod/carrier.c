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

#include "funnel.h"

static unsigned int funnel_net_id __read_mostly;

struct funnel_net *funnel_pernet(const struct net *net)
{
	return net_generic(net, funnel_net_id);
}

int funnel_carrier_register(struct funnel_sock *fs, u32 *id)
{
	struct funnel_net *fn = funnel_pernet(fs->net);
	static u32 next;	/* cyclic ids: a stale id is not reused soon */
	int err;

	mutex_lock(&fn->lock);
	if (fs->carrier_id) {
		err = -EEXIST;
		goto out;
	}
	err = xa_alloc_cyclic(&fn->carriers, id, fs, xa_limit_32b, &next,
			      GFP_KERNEL_ACCOUNT);
	if (err >= 0) {
		fs->carrier_id = *id;
		err = 0;
	}
out:
	mutex_unlock(&fn->lock);
	return err;
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
	if (id) {
		xa_erase(&fn->carriers, id);
		fs->carrier_id = 0;
		funnel_streams_destroy(fs);
	}
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
	fs = xa_erase(&fn->carriers, id);
	if (fs) {
		fs->carrier_id = 0;
		funnel_streams_destroy(fs);
	}
	mutex_unlock(&fn->lock);

	if (!fs)
		return -ENOENT;
	funnel_nl_notify_down(net, id, reason);
	return 0;
}

/* The receive side failed in softirq context: unregister from a work. */
void funnel_carrier_down_work(struct work_struct *work)
{
	struct funnel_sock *fs = container_of(work, struct funnel_sock,
					      down_work);

	funnel_carrier_unregister(fs, READ_ONCE(fs->down_reason));
}

static int __net_init funnel_net_init(struct net *net)
{
	struct funnel_net *fn = funnel_pernet(net);

	mutex_init(&fn->lock);
	xa_init_flags(&fn->carriers, XA_FLAGS_ALLOC1);
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
