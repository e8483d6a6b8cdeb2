// SPDX-License-Identifier: GPL-2.0
/*
 * Funnel: many UDP/TCP services over one carrier, one stream each.
 *
 * The TCP ULP "funnel" frames a TCP connection into Funnel frames
 * (Documentation/wire-format.md); the generic netlink family "funnel"
 * controls it (Documentation/netlink/specs/funnel.yaml).
 */
#include <linux/module.h>
#include <linux/percpu.h>
#include <net/tcp.h>
#include <net/genetlink.h>

#include "funnel.h"

static struct workqueue_struct *funnel_wq;

struct workqueue_struct *funnel_workqueue(void)
{
	return funnel_wq;
}

/*
 * Counters for a carrier or a stream, zero, charged to the caller's
 * memory cgroup like the carrier or stream itself; NULL: no memory.
 * free_percpu() frees them.
 */
struct funnel_stats __percpu *funnel_stats_alloc(void)
{
	struct funnel_stats __percpu *s;
	int cpu;

	s = alloc_percpu_gfp(struct funnel_stats, GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(s, cpu)->syncp);
	return s;
}

/* The counters summed over the CPUs, for a dump: each CPU's read whole. */
void funnel_stats_sum(const struct funnel_stats __percpu *s,
		      u64 sum[FUNNEL_NSTATS])
{
	u64 v[FUNNEL_NSTATS];
	unsigned int start;
	int cpu, i;

	memset(sum, 0, FUNNEL_NSTATS * sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct funnel_stats *p = per_cpu_ptr(s, cpu);

		do {
			start = u64_stats_fetch_begin(&p->syncp);
			for (i = 0; i < FUNNEL_NSTATS; i++)
				v[i] = u64_stats_read(&p->v[i]);
		} while (u64_stats_fetch_retry(&p->syncp, start));
		for (i = 0; i < FUNNEL_NSTATS; i++)
			sum[i] += v[i];
	}
}

/*
 * The work queue is the first thing made and the last thing gone: every
 * other part queues on it until it is torn down (carriers, streams, flows
 * and keys free themselves from rcu_work items; the pernet exit flushes it).
 */
static int __init funnel_init(void)
{
	int err;

	funnel_wq = alloc_workqueue("funnel", 0, 0);
	if (!funnel_wq)
		return -ENOMEM;

	err = funnel_carrier_init();
	if (err)
		goto err_wq;

	err = funnel_nl_init();
	if (err)
		goto err_carrier;

	/* last: once it is there, a socket may take the ULP (and a
	 * reference on this module) at any time
	 */
	err = funnel_ulp_init();
	if (err)
		goto err_nl;

	pr_info("funnel %s loaded (wire version %u)\n", FUNNEL_VERSION,
		FUNNEL_WIRE_VERSION);
	return 0;

err_nl:
	funnel_nl_exit();
err_carrier:
	funnel_carrier_exit();
err_wq:
	/* rcu_work items queue their work after a grace period */
	rcu_barrier();
	destroy_workqueue(funnel_wq);
	return err;
}

static void __exit funnel_exit(void)
{
	funnel_ulp_exit();
	funnel_nl_exit();
	funnel_carrier_exit();
	rcu_barrier();
	destroy_workqueue(funnel_wq);
}

module_init(funnel_init);
module_exit(funnel_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The Funnel developers");
MODULE_DESCRIPTION("Funnel: UDP and TCP services multiplexed over one carrier");
MODULE_VERSION(FUNNEL_VERSION);
MODULE_ALIAS_TCP_ULP("funnel");
MODULE_ALIAS_GENL_FAMILY(FUNNEL_FAMILY_NAME);
