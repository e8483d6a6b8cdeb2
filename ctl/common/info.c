// SPDX-License-Identifier: GPL-2.0
/* FUNNEL_CMD_INFO_GET. */

#include <errno.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/funnel.h>

#include "common/info.h"

static int parse_info(struct nl_msg *msg, void *arg)
{
	static const struct nla_policy policy[FUNNEL_A_MAX + 1] = {
		[FUNNEL_A_VERSION]	= { .type = NLA_STRING },
		[FUNNEL_A_WIRE_VERSION]	= { .type = NLA_U32 },
		[FUNNEL_A_CAPS]		= { .type = NLA_U32 },
	};
	struct nlattr *tb[FUNNEL_A_MAX + 1];
	struct funnel_info *info = arg;
	int err;

	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, FUNNEL_A_MAX, policy);
	if (err < 0)
		return -EBADMSG;
	if (tb[FUNNEL_A_VERSION])
		nla_strlcpy(info->version, tb[FUNNEL_A_VERSION],
			    sizeof(info->version));
	if (tb[FUNNEL_A_WIRE_VERSION]) {
		info->wire = nla_get_u32(tb[FUNNEL_A_WIRE_VERSION]);
		info->has_wire = 1;
	}
	if (tb[FUNNEL_A_CAPS]) {
		info->caps = nla_get_u32(tb[FUNNEL_A_CAPS]);
		info->has_caps = 1;
	}
	return 0;
}

int funnel_info_get(struct funnel_genl *g, struct funnel_info *info)
{
	struct nl_msg *req;

	memset(info, 0, sizeof(*info));
	req = funnel_genl_msg(g, FUNNEL_CMD_INFO_GET, 0);
	if (!req)
		return -ENOMEM;
	return funnel_genl_request(g, req, parse_info, info);
}
