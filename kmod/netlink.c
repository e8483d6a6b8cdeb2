// SPDX-License-Identifier: GPL-2.0
/*
 * The "funnel" generic netlink family (Documentation/netlink/funnel.yaml).
 *
 * Every operation has its own strict policy listing only the attributes it
 * takes; state-changing operations need CAP_NET_ADMIN in the netns.
 */
#include <linux/file.h>
#include <linux/net.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "funnel.h"

static struct genl_family funnel_nl_family;

enum funnel_nl_groups {
	FUNNEL_NLGRP_EVENTS,
};

static const struct genl_multicast_group funnel_nl_mcgrps[] = {
	[FUNNEL_NLGRP_EVENTS] = { .name = FUNNEL_MCGRP_EVENTS },
};

/* ---- policies, one per operation ---- */

/* info-get takes no attribute: every one is refused as unsupported */
static const struct nla_policy funnel_none_nl_policy[FUNNEL_A_MAX + 1] = {
};

static const struct nla_policy funnel_carrier_new_nl_policy[FUNNEL_A_SOCK_FD + 1] = {
	[FUNNEL_A_SOCK_FD] = NLA_POLICY_MIN(NLA_S32, 0),
};

static const struct nla_policy funnel_carrier_id_nl_policy[FUNNEL_A_CARRIER_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* ---- info ---- */

static int funnel_nl_info_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &funnel_nl_family, 0,
				FUNNEL_CMD_INFO_GET);
	if (!hdr)
		goto nospace;

	if (nla_put_string(msg, FUNNEL_A_VERSION, FUNNEL_VERSION) ||
	    nla_put_u32(msg, FUNNEL_A_WIRE_VERSION, FUNNEL_WIRE_VERSION) ||
	    nla_put_u32(msg, FUNNEL_A_CAPS, FUNNEL_CAP_IPV6))
		goto nospace;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* ---- carriers ---- */

static int funnel_nl_put_stats(struct sk_buff *msg,
			       const struct funnel_stats *stats)
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(msg, FUNNEL_A_STATS);
	if (!nest)
		return -EMSGSIZE;

	for (i = FUNNEL_A_STATS_RX_FRAMES; i <= FUNNEL_A_STATS_MAX; i++)
		if (nla_put_u64_64bit(msg, i, atomic64_read(&stats->v[i]),
				      FUNNEL_A_STATS_PAD)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}

	nla_nest_end(msg, nest);
	return 0;
}

static int funnel_nl_put_addrs(struct sk_buff *msg, const struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);

#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		if (nla_put_in6_addr(msg, FUNNEL_A_LOCAL_IPV6,
				     &sk->sk_v6_rcv_saddr) ||
		    nla_put_in6_addr(msg, FUNNEL_A_REMOTE_IPV6,
				     &sk->sk_v6_daddr))
			return -EMSGSIZE;
		goto ports;
	}
#endif
	if (nla_put_in_addr(msg, FUNNEL_A_LOCAL_IPV4, inet->inet_saddr) ||
	    nla_put_in_addr(msg, FUNNEL_A_REMOTE_IPV4, inet->inet_daddr))
		return -EMSGSIZE;
#if IS_ENABLED(CONFIG_IPV6)
ports:
#endif
	if (nla_put_be16(msg, FUNNEL_A_LOCAL_PORT, inet->inet_sport) ||
	    nla_put_be16(msg, FUNNEL_A_REMOTE_PORT, inet->inet_dport))
		return -EMSGSIZE;
	return 0;
}

int funnel_nl_fill_carrier(struct sk_buff *msg, struct funnel_sock *fs,
			   u32 portid, u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &funnel_nl_family, flags,
			  FUNNEL_CMD_CARRIER_GET);
	if (!hdr)
		return -EMSGSIZE;

	if (nla_put_u32(msg, FUNNEL_A_CARRIER_ID, fs->carrier_id) ||
	    funnel_nl_put_addrs(msg, fs->sk) ||
	    nla_put_u32(msg, FUNNEL_A_STREAM_COUNT, 0) ||
	    funnel_nl_put_stats(msg, &fs->stats)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}

	genlmsg_end(msg, hdr);
	return 0;
}

static int funnel_nl_carrier_new_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct funnel_sock *fs;
	struct socket *sock;
	struct sk_buff *msg;
	u32 id = 0;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_SOCK_FD))
		return -EINVAL;

	sock = sockfd_lookup(nla_get_s32(info->attrs[FUNNEL_A_SOCK_FD]), &err);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_SOCK_FD],
				    "sock-fd is not a socket of the caller");
		return err;
	}

	err = -EINVAL;
	if (!sock->sk || !funnel_sk_is_ulp(sock->sk)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_SOCK_FD],
				    "socket has no funnel ULP (setsockopt TCP_ULP \"funnel\" first)");
		goto out_put;
	}
	if (!net_eq(sock_net(sock->sk), net)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_SOCK_FD],
				    "socket is in another network namespace");
		goto out_put;
	}

	fs = funnel_sk(sock->sk);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out_put;
	}

	err = funnel_carrier_register(fs, &id);
	if (err) {
		if (err == -EEXIST)
			NL_SET_ERR_MSG(info->extack, "socket is already a carrier");
		else
			NL_SET_ERR_MSG(info->extack, "cannot allocate a carrier id");
		goto out_free;
	}

	hdr = genlmsg_put_reply(msg, info, &funnel_nl_family, 0,
				FUNNEL_CMD_CARRIER_NEW);
	if (!hdr || nla_put_u32(msg, FUNNEL_A_CARRIER_ID, id)) {
		funnel_carrier_unregister(fs, FUNNEL_DOWN_DELETED);
		err = -EMSGSIZE;
		goto out_free;
	}
	genlmsg_end(msg, hdr);
	sockfd_put(sock);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
out_put:
	sockfd_put(sock);
	return err;
}

static struct funnel_sock *funnel_nl_carrier_lookup(struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct nlattr *attr = info->attrs[FUNNEL_A_CARRIER_ID];
	struct funnel_sock *fs;

	lockdep_assert_held(&fn->lock);
	fs = xa_load(&fn->carriers, nla_get_u32(attr));
	if (!fs)
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such carrier");
	return fs;
}

static int funnel_nl_carrier_del_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct nlattr *attr = info->attrs[FUNNEL_A_CARRIER_ID];

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID))
		return -EINVAL;

	if (funnel_carrier_del(genl_info_net(info), nla_get_u32(attr),
			       FUNNEL_DOWN_DELETED)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such carrier");
		return -ENOENT;
	}
	return 0;
}

static int funnel_nl_carrier_get_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_sock *fs;
	struct sk_buff *msg;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID))
		return -EINVAL;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&fn->lock);
	fs = funnel_nl_carrier_lookup(info);
	err = fs ? funnel_nl_fill_carrier(msg, fs, info->snd_portid,
					  info->snd_seq, 0) : -ENOENT;
	mutex_unlock(&fn->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int funnel_nl_carrier_get_dumpit(struct sk_buff *skb,
					struct netlink_callback *cb)
{
	struct funnel_net *fn = funnel_pernet(sock_net(skb->sk));
	struct funnel_sock *fs;
	unsigned long id;
	int err = 0;

	mutex_lock(&fn->lock);
	xa_for_each_start(&fn->carriers, id, fs, cb->args[0]) {
		err = funnel_nl_fill_carrier(skb, fs,
					     NETLINK_CB(cb->skb).portid,
					     cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
		cb->args[0] = id + 1;	/* the next round starts after it */
	}
	mutex_unlock(&fn->lock);

	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

void funnel_nl_notify_down(struct net *net, u32 carrier_id, u32 reason)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&funnel_nl_family, net, FUNNEL_NLGRP_EVENTS))
		return;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;

	hdr = genlmsg_put(msg, 0, 0, &funnel_nl_family, 0,
			  FUNNEL_CMD_CARRIER_DOWN_NTF);
	if (!hdr || nla_put_u32(msg, FUNNEL_A_CARRIER_ID, carrier_id) ||
	    nla_put_u32(msg, FUNNEL_A_REASON, reason)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&funnel_nl_family, net, msg, 0,
				FUNNEL_NLGRP_EVENTS, GFP_KERNEL);
}

static const struct genl_ops funnel_nl_ops[] = {
	{
		.cmd	= FUNNEL_CMD_INFO_GET,
		.doit	= funnel_nl_info_get_doit,
		.policy	= funnel_none_nl_policy,
		.maxattr = FUNNEL_A_MAX,
	},
	{
		.cmd	= FUNNEL_CMD_CARRIER_NEW,
		.doit	= funnel_nl_carrier_new_doit,
		.policy	= funnel_carrier_new_nl_policy,
		.maxattr = FUNNEL_A_SOCK_FD,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= FUNNEL_CMD_CARRIER_DEL,
		.doit	= funnel_nl_carrier_del_doit,
		.policy	= funnel_carrier_id_nl_policy,
		.maxattr = FUNNEL_A_CARRIER_ID,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= FUNNEL_CMD_CARRIER_GET,
		.doit	= funnel_nl_carrier_get_doit,
		.dumpit	= funnel_nl_carrier_get_dumpit,
		.policy	= funnel_carrier_id_nl_policy,
		.maxattr = FUNNEL_A_CARRIER_ID,
	},
};

static struct genl_family funnel_nl_family __ro_after_init = {
	.name		= FUNNEL_FAMILY_NAME,
	.version	= FUNNEL_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= funnel_nl_ops,
	.n_ops		= ARRAY_SIZE(funnel_nl_ops),
	.resv_start_op	= FUNNEL_CMD_MAX + 1,
	.mcgrps		= funnel_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(funnel_nl_mcgrps),
};

int funnel_nl_init(void)
{
	return genl_register_family(&funnel_nl_family);
}

void funnel_nl_exit(void)
{
	genl_unregister_family(&funnel_nl_family);
}
