// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/funnel.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/funnel_netlink.h>
#include <kmod/compat.h>

/* Integer value ranges */
static const struct netlink_range_validation funnel_a_flow_idle_ms_range = {
	.min	= FUNNEL_FLOW_IDLE_MIN_MS,
	.max	= FUNNEL_FLOW_IDLE_MAX_MS,
};

static const struct netlink_range_validation funnel_a_flow_max_range = {
	.min	= 1ULL,
	.max	= FUNNEL_FLOW_MAX_LIMIT,
};

static const struct netlink_range_validation funnel_a_pr_ttl_ms_range = {
	.max	= 600000ULL,
};

/* Common nested types */
const struct nla_policy funnel_keyconf_nl_policy[FUNNEL_A_KEYCONF_TX_COUNTER + 1] = {
	[FUNNEL_A_KEYCONF_SLOT] = NLA_POLICY_MAX(NLA_U32, 1),
	[FUNNEL_A_KEYCONF_KEY_ID] = { .type = NLA_U32, },
	[FUNNEL_A_KEYCONF_CIPHER] = NLA_POLICY_RANGE(NLA_U32, 1, 1),
	[FUNNEL_A_KEYCONF_ENCRYPT_DIR] = NLA_POLICY_NESTED(funnel_keydir_nl_policy),
	[FUNNEL_A_KEYCONF_DECRYPT_DIR] = NLA_POLICY_NESTED(funnel_keydir_nl_policy),
	[FUNNEL_A_KEYCONF_SOFT_LIMIT] = NLA_POLICY_MIN(NLA_U64, 1),
	[FUNNEL_A_KEYCONF_HARD_LIMIT] = NLA_POLICY_MIN(NLA_U64, 1),
	[FUNNEL_A_KEYCONF_TX_COUNTER] = { .type = NLA_U64, },
};

const struct nla_policy funnel_keydir_nl_policy[FUNNEL_A_KEYDIR_SALT + 1] = {
	[FUNNEL_A_KEYDIR_KEY] = NLA_POLICY_EXACT_LEN(FUNNEL_KEY_LEN),
	[FUNNEL_A_KEYDIR_SALT] = NLA_POLICY_EXACT_LEN(FUNNEL_SALT_LEN),
};

/* FUNNEL_CMD_CARRIER_NEW - do */
static const struct nla_policy funnel_carrier_new_nl_policy[FUNNEL_A_SOCKET_OWNER + 1] = {
	[FUNNEL_A_SOCK_FD] = NLA_POLICY_MIN(NLA_S32, 0),
	[FUNNEL_A_SOCKET_OWNER] = { .type = NLA_FLAG, },
};

/* FUNNEL_CMD_CARRIER_DEL - do */
static const struct nla_policy funnel_carrier_del_nl_policy[FUNNEL_A_CARRIER_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* FUNNEL_CMD_CARRIER_GET - do */
static const struct nla_policy funnel_carrier_get_nl_policy[FUNNEL_A_CARRIER_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* FUNNEL_CMD_STREAM_NEW - do */
static const struct nla_policy funnel_stream_new_nl_policy[FUNNEL_A_RELAY_STREAM_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
	[FUNNEL_A_STREAM_KIND] = NLA_POLICY_RANGE(NLA_U32, 1, 4),
	[FUNNEL_A_UNORDERED] = { .type = NLA_FLAG, },
	[FUNNEL_A_LOCAL_IPV4] = { .type = NLA_U32, },
	[FUNNEL_A_LOCAL_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[FUNNEL_A_LOCAL_PORT] = { .type = NLA_U16, },
	[FUNNEL_A_REMOTE_IPV4] = { .type = NLA_U32, },
	[FUNNEL_A_REMOTE_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[FUNNEL_A_REMOTE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[FUNNEL_A_FLOW_IDLE_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &funnel_a_flow_idle_ms_range),
	[FUNNEL_A_FLOW_MAX] = NLA_POLICY_FULL_RANGE(NLA_U32, &funnel_a_flow_max_range),
	[FUNNEL_A_PR_TTL_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &funnel_a_pr_ttl_ms_range),
	[FUNNEL_A_KEYCONF] = NLA_POLICY_NESTED(funnel_keyconf_nl_policy),
	[FUNNEL_A_RELAY_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_RELAY_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* FUNNEL_CMD_STREAM_DEL - do */
static const struct nla_policy funnel_stream_del_nl_policy[FUNNEL_A_STREAM_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* FUNNEL_CMD_STREAM_GET - do */
static const struct nla_policy funnel_stream_get_do_nl_policy[FUNNEL_A_STREAM_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* FUNNEL_CMD_STREAM_GET - dump */
static const struct nla_policy funnel_stream_get_dump_nl_policy[FUNNEL_A_CARRIER_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* FUNNEL_CMD_FLOW_GET - dump */
static const struct nla_policy funnel_flow_get_nl_policy[FUNNEL_A_STREAM_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* FUNNEL_CMD_KEY_NEW - do */
static const struct nla_policy funnel_key_new_nl_policy[FUNNEL_A_KEYCONF + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
	[FUNNEL_A_KEYCONF] = NLA_POLICY_NESTED(funnel_keyconf_nl_policy),
};

/* FUNNEL_CMD_KEY_SWAP - do */
static const struct nla_policy funnel_key_swap_nl_policy[FUNNEL_A_STREAM_ID + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* FUNNEL_CMD_KEY_DEL - do */
static const struct nla_policy funnel_key_del_nl_policy[FUNNEL_A_KEYCONF + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
	[FUNNEL_A_KEYCONF] = NLA_POLICY_NESTED(funnel_keyconf_nl_policy),
};

/* FUNNEL_CMD_KEY_GET - do */
static const struct nla_policy funnel_key_get_nl_policy[FUNNEL_A_KEYCONF + 1] = {
	[FUNNEL_A_CARRIER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[FUNNEL_A_STREAM_ID] = NLA_POLICY_MIN(NLA_U16, 1),
	[FUNNEL_A_KEYCONF] = NLA_POLICY_NESTED(funnel_keyconf_nl_policy),
};

/* Ops table for funnel */
const struct genl_split_ops funnel_nl_ops[14] = {
	{
		.cmd	= FUNNEL_CMD_INFO_GET,
		.doit	= funnel_nl_info_get_doit,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_CARRIER_NEW,
		.doit		= funnel_nl_carrier_new_doit,
		.policy		= funnel_carrier_new_nl_policy,
		.maxattr	= FUNNEL_A_SOCKET_OWNER,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_CARRIER_DEL,
		.doit		= funnel_nl_carrier_del_doit,
		.policy		= funnel_carrier_del_nl_policy,
		.maxattr	= FUNNEL_A_CARRIER_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_CARRIER_GET,
		.doit		= funnel_nl_carrier_get_doit,
		.policy		= funnel_carrier_get_nl_policy,
		.maxattr	= FUNNEL_A_CARRIER_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= FUNNEL_CMD_CARRIER_GET,
		.dumpit	= funnel_nl_carrier_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= FUNNEL_CMD_STREAM_NEW,
		.doit		= funnel_nl_stream_new_doit,
		.policy		= funnel_stream_new_nl_policy,
		.maxattr	= FUNNEL_A_RELAY_STREAM_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_STREAM_DEL,
		.doit		= funnel_nl_stream_del_doit,
		.policy		= funnel_stream_del_nl_policy,
		.maxattr	= FUNNEL_A_STREAM_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_STREAM_GET,
		.doit		= funnel_nl_stream_get_doit,
		.policy		= funnel_stream_get_do_nl_policy,
		.maxattr	= FUNNEL_A_STREAM_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_STREAM_GET,
		.dumpit		= funnel_nl_stream_get_dumpit,
		.policy		= funnel_stream_get_dump_nl_policy,
		.maxattr	= FUNNEL_A_CARRIER_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= FUNNEL_CMD_FLOW_GET,
		.dumpit		= funnel_nl_flow_get_dumpit,
		.policy		= funnel_flow_get_nl_policy,
		.maxattr	= FUNNEL_A_STREAM_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= FUNNEL_CMD_KEY_NEW,
		.doit		= funnel_nl_key_new_doit,
		.policy		= funnel_key_new_nl_policy,
		.maxattr	= FUNNEL_A_KEYCONF,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_KEY_SWAP,
		.doit		= funnel_nl_key_swap_doit,
		.policy		= funnel_key_swap_nl_policy,
		.maxattr	= FUNNEL_A_STREAM_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_KEY_DEL,
		.doit		= funnel_nl_key_del_doit,
		.policy		= funnel_key_del_nl_policy,
		.maxattr	= FUNNEL_A_KEYCONF,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= FUNNEL_CMD_KEY_GET,
		.doit		= funnel_nl_key_get_doit,
		.policy		= funnel_key_get_nl_policy,
		.maxattr	= FUNNEL_A_KEYCONF,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group funnel_nl_mcgrps[] = {
	[FUNNEL_NLGRP_EVENTS] = { "events", },
};
