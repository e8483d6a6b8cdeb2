/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/funnel.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_FUNNEL_GEN_H
#define _LINUX_FUNNEL_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/funnel_netlink.h>
#include <kmod/compat.h>

/* Common nested types */
extern const struct nla_policy funnel_keyconf_nl_policy[FUNNEL_A_KEYCONF_TX_COUNTER + 1];
extern const struct nla_policy funnel_keydir_nl_policy[FUNNEL_A_KEYDIR_SALT + 1];

/* Ops table for funnel */
extern const struct genl_split_ops funnel_nl_ops[14];

int funnel_nl_info_get_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_carrier_new_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_carrier_del_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_carrier_get_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_carrier_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb);
int funnel_nl_stream_new_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_stream_del_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_stream_get_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_stream_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);
int funnel_nl_flow_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int funnel_nl_key_new_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_key_swap_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info);
int funnel_nl_key_get_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	FUNNEL_NLGRP_EVENTS,
};

#endif /* _LINUX_FUNNEL_GEN_H */
