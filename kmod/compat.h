/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels Funnel supports (6.1 and 6.12),
 * in one place.
 */
#ifndef _FUNNEL_COMPAT_H
#define _FUNNEL_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>
#include <linux/crypto.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>

/* 6.5 removed ->sendpage; sendfile()/splice() come through ->sendmsg with
 * MSG_SPLICE_PAGES since.  Before, route them through our ->sendmsg with
 * the generic copying helper.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define FUNNEL_HAVE_SENDPAGE 1
static inline void funnel_compat_ops(struct proto_ops *ops)
{
	ops->sendpage = sock_no_sendpage;
	ops->sendpage_locked = NULL;
}
#else
static inline void funnel_compat_ops(struct proto_ops *ops)
{
}
#endif

#ifndef MSG_SPLICE_PAGES
#define MSG_SPLICE_PAGES 0
#endif

/* 6.5: tcp_sendmsg_locked() takes the pages of a bvec iterator into the
 * socket's skbs with MSG_SPLICE_PAGES, without copying their bytes.
 * Before, it copies them, and 6.1 has the flag defined but not in TCP.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define FUNNEL_MSG_SPLICE	MSG_SPLICE_PAGES
#else
#define FUNNEL_MSG_SPLICE	0
#endif

/* 6.10 added dst_rtable() and dst_rt6_info(): the route a dst is part of.
 * Before, the same container_of() by hand.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define funnel_dst_rtable(d)		dst_rtable(d)
#define funnel_dst_rt6_info(d)		dst_rt6_info(d)
#else
#define funnel_dst_rtable(d)		container_of(d, struct rtable, dst)
#define funnel_dst_rt6_info(d)		container_of(d, struct rt6_info, dst)
#endif

/* 6.2 added sk_use_task_frag. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static inline void funnel_no_task_frag(struct sock *sk)
{
	sk->sk_use_task_frag = false;
}
#else
static inline void funnel_no_task_frag(struct sock *sk)
{
}
#endif

/* 6.2 moved the parsed attributes of a dump request into an info. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define funnel_dump_attrs(cb)	(genl_dumpit_info(cb)->info.attrs)
#else
#define funnel_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

/* The operations of the family: kmod/netlink-gen.c, which the kernel's
 * ynl-gen-c.py writes, has a table of struct genl_split_ops (6.2 split a
 * command's do and dump into two operations with a policy each), sorted by
 * command, a command's do before its dump.  funnel_genl_set_ops() gives
 * the family a copy in which an operation that takes no attributes (the
 * spec lists none, the table has no policy) has the policy none: 6.12
 * would pass it any attribute unchecked, where the family refuses every
 * attribute an operation does not take.
 *
 * 6.1 takes one struct genl_ops per command: the do and the dump of a
 * command are merged into one with the do's policy (on 6.1 a dump
 * accepts the attributes of its command's do, and ignores them), and the
 * flags but GENL_CMD_CAP_*, which 6.1 derives itself.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
struct genl_split_ops {
	int (*doit)(struct sk_buff *skb, struct genl_info *info);
	int (*dumpit)(struct sk_buff *skb, struct netlink_callback *cb);
	const struct nla_policy *policy;
	unsigned int maxattr;
	u8 cmd;
	u8 flags;
};

/* the operations funnel.ko registers, as this kernel's family takes them */
#define funnel_genl_op genl_ops

/*
 * Fill ops (n entries at most, the caller's __ro_after_init array) from
 * the generated split operations: 6.1 has no split operations, so a
 * command's do and dump become one operation with the do's policy and
 * flags.  An operation with no policy gets none (no attributes taken).
 */
static inline void funnel_genl_set_ops(struct genl_family *family,
				       struct funnel_genl_op *ops,
				       const struct genl_split_ops *split,
				       unsigned int n,
				       const struct nla_policy *none,
				       unsigned int none_maxattr)
{
	struct genl_ops *op = NULL;
	unsigned int i, n_ops = 0;

	for (i = 0; i < n; i++) {
		if (!op || op->cmd != split[i].cmd) {
			op = &ops[n_ops++];
			op->cmd = split[i].cmd;
			op->flags = split[i].flags &
				    ~(GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP);
		}
		if (split[i].doit)
			op->doit = split[i].doit;
		if (split[i].dumpit)
			op->dumpit = split[i].dumpit;
		if (!op->policy) {
			op->policy = split[i].policy;
			op->maxattr = split[i].maxattr;
		}
	}
	for (i = 0; i < n_ops; i++)
		if (!ops[i].policy) {
			ops[i].policy = none;
			ops[i].maxattr = none_maxattr;
		}
	family->ops = ops;
	family->n_ops = n_ops;
}

/* 6.1's struct nla_policy points to a range it does not write through
 * without const; the generated policies' ranges are const.
 */
#undef NLA_POLICY_FULL_RANGE
#define NLA_POLICY_FULL_RANGE(tp, _range) {				\
	.type = NLA_ENSURE_UINT_OR_BINARY_TYPE(tp),			\
	.validation_type = NLA_VALIDATE_RANGE_PTR,			\
	.range = (struct netlink_range_validation *)(_range),		\
}
#else
#define funnel_genl_op genl_split_ops

/* Fill ops from the generated split operations; see the 6.1 version. */
static inline void funnel_genl_set_ops(struct genl_family *family,
				       struct funnel_genl_op *ops,
				       const struct genl_split_ops *split,
				       unsigned int n,
				       const struct nla_policy *none,
				       unsigned int none_maxattr)
{
	unsigned int i;

	memcpy(ops, split, n * sizeof(*split));
	for (i = 0; i < n; i++)
		if (!ops[i].policy) {
			ops[i].policy = none;
			ops[i].maxattr = none_maxattr;
		}
	family->split_ops = ops;
	family->n_split_ops = n;
}
#endif

/* 6.3 passes a completion callback its data, not the request. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define FUNNEL_CRYPTO_DONE_ARG	struct crypto_async_request *
static inline void *funnel_crypto_done_data(struct crypto_async_request *req)
{
	return req->data;
}
#else
#define FUNNEL_CRYPTO_DONE_ARG	void *
static inline void *funnel_crypto_done_data(void *data)
{
	return data;
}
#endif

/* 6.2 added formatted extack messages; 6.1 gets the text without the
 * numbers.
 */
#ifdef NL_SET_ERR_MSG_FMT
static inline void funnel_set_err_msg_streams(struct netlink_ext_ack *extack,
					      unsigned int id, unsigned int n)
{
	NL_SET_ERR_MSG_FMT(extack,
			   "stream %u beyond the association's %u streams: add streams first",
			   id, n);
}
#else
static inline void funnel_set_err_msg_streams(struct netlink_ext_ack *extack,
					      unsigned int id, unsigned int n)
{
	NL_SET_ERR_MSG(extack,
		       "stream beyond the association's streams: add streams first");
}
#endif

#endif /* _FUNNEL_COMPAT_H */
