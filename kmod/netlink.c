// SPDX-License-Identifier: GPL-2.0
/*
 * The "funnel" generic netlink family (Documentation/netlink/specs/funnel.yaml).
 *
 * The attribute policies and the operation table are generated from the
 * spec (netlink-gen.c, by the kernel's ynl-gen-c.py): every operation has
 * its own strict policy listing only the attributes it takes.  Every
 * operation but info-get, and the "events" group, need CAP_NET_ADMIN in
 * the netns: carriers, streams and flows name peers and clients, and their
 * counters tell what they do.
 */
#include <crypto/algapi.h>
#include <linux/file.h>
#include <linux/net.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "compat.h"
#include "funnel.h"
#include "netlink-gen.h"

static struct genl_family funnel_nl_family;

/* notifications name peers, streams and flows: CAP_NET_ADMIN only (the
 * generated table in netlink-gen.c has no flags)
 */
static const struct genl_multicast_group funnel_nl_groups[] = {
	[FUNNEL_NLGRP_EVENTS] = {
		.name	= FUNNEL_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

/* The policy of the operations that take no attribute (info-get, the
 * carrier-get dump): each one is refused as unsupported.
 */
static const struct nla_policy funnel_nl_no_attrs[FUNNEL_A_MAX + 1] = {
};

/* ---- info ---- */

int funnel_nl_info_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "no memory for the reply");
		return -ENOMEM;
	}

	hdr = genlmsg_put_reply(msg, info, &funnel_nl_family, 0,
				FUNNEL_CMD_INFO_GET);
	if (!hdr)
		goto nospace;

	if (nla_put_string(msg, FUNNEL_A_VERSION, FUNNEL_VERSION) ||
	    nla_put_u32(msg, FUNNEL_A_WIRE_VERSION, FUNNEL_WIRE_VERSION) ||
	    nla_put_u32(msg, FUNNEL_A_CAPS,
			FUNNEL_CAP_IPV6 | FUNNEL_CAP_AES_256_GCM |
			(IS_ENABLED(CONFIG_IP_SCTP) ? FUNNEL_CAP_SCTP : 0)) ||
	    nla_put_u32(msg, FUNNEL_A_CARRIER_FLOW_MAX,
			funnel_carrier_flows_max()) ||
	    nla_put_u32(msg, FUNNEL_A_NETNS_FLOW_MAX,
			funnel_netns_flows_max()))
		goto nospace;
	/* how busy the netns is: its administrator's to know */
	if (netlink_ns_capable(skb, genl_info_net(info)->user_ns,
			       CAP_NET_ADMIN) &&
	    nla_put_u32(msg, FUNNEL_A_FLOW_COUNT, atomic_read(&fn->nflows)))
		goto nospace;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	NL_SET_ERR_MSG(info->extack, "reply does not fit in a message");
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* ---- carriers ---- */

static int funnel_nl_put_stats(struct sk_buff *msg,
			       const struct funnel_stats __percpu *stats)
{
	u64 sum[FUNNEL_NSTATS];
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(msg, FUNNEL_A_STATS);
	if (!nest)
		return -EMSGSIZE;

	funnel_stats_sum(stats, sum);
	for (i = FUNNEL_A_STATS_RX_FRAMES; i <= FUNNEL_A_STATS_MAX; i++)
		if (nla_put_u64_64bit(msg, i, sum[i], FUNNEL_A_STATS_PAD)) {
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

/* An SCTP carrier's addresses: those of its primary path. */
static int funnel_nl_put_sctp_addrs(struct sk_buff *msg,
				    struct funnel_sock *fs)
{
	struct funnel_addr l, r;

	if (!funnel_sctp_addrs(fs, &l, &r))
		return funnel_nl_put_addrs(msg, fs->sk);
	if (l.family == AF_INET6) {
		if (nla_put_in6_addr(msg, FUNNEL_A_LOCAL_IPV6, &l.v6) ||
		    nla_put_in6_addr(msg, FUNNEL_A_REMOTE_IPV6, &r.v6))
			return -EMSGSIZE;
	} else if (nla_put_in_addr(msg, FUNNEL_A_LOCAL_IPV4, l.v4) ||
		   nla_put_in_addr(msg, FUNNEL_A_REMOTE_IPV4, r.v4)) {
		return -EMSGSIZE;
	}
	if (nla_put_be16(msg, FUNNEL_A_LOCAL_PORT, l.port) ||
	    nla_put_be16(msg, FUNNEL_A_REMOTE_PORT, r.port))
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
	    nla_put_u32(msg, FUNNEL_A_TRANSPORT,
			fs->sctp ? FUNNEL_TRANSPORT_SCTP :
				   FUNNEL_TRANSPORT_TCP) ||
	    (fs->sctp ? funnel_nl_put_sctp_addrs(msg, fs) :
			funnel_nl_put_addrs(msg, fs->sk)) ||
	    nla_put_u32(msg, FUNNEL_A_STREAM_COUNT, fs->nstreams) ||
	    nla_put_u32(msg, FUNNEL_A_FLOW_COUNT, atomic_read(&fs->nflows)) ||
	    (fs->owner_portid &&
	     nla_put_flag(msg, FUNNEL_A_SOCKET_OWNER)) ||
	    (fs->sctp &&
	     nla_put_u64_64bit(msg, FUNNEL_A_TX_ABANDONED,
			       funnel_sctp_abandoned(fs, -1), FUNNEL_A_PAD)) ||
	    funnel_nl_put_stats(msg, fs->stats)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}

	genlmsg_end(msg, hdr);
	return 0;
}

int funnel_nl_carrier_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct funnel_sock *fs;
	struct socket *sock;
	struct sk_buff *msg;
	u32 id = 0, owner = 0;
	bool sctp;
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
	sctp = sock->sk && sock->sk->sk_protocol == IPPROTO_SCTP;
	if (!sock->sk || (!sctp && !funnel_sk_is_ulp(sock->sk))) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_SOCK_FD],
				    "socket has no funnel ULP (setsockopt TCP_ULP \"funnel\" first)");
		goto out_put;
	}
	if (!net_eq(sock_net(sock->sk), net)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_SOCK_FD],
				    "socket is in another network namespace");
		goto out_put;
	}

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "no memory for the reply");
		err = -ENOMEM;
		goto out_put;
	}
	if (sctp) {
		/* SCTP has no ULP: the socket is taken over here */
		fs = funnel_sctp_attach(sock, info->extack, &err);
		if (!fs)
			goto out_free;
	} else {
		fs = funnel_sk(sock->sk);
	}

	/* socket-owner: the carrier goes when this netlink socket closes */
	if (nla_get_flag(info->attrs[FUNNEL_A_SOCKET_OWNER]))
		owner = info->snd_portid;
	err = funnel_carrier_register(fs, owner, &id, info->extack);
	if (err)
		goto out_detach;

	hdr = genlmsg_put_reply(msg, info, &funnel_nl_family, 0,
				FUNNEL_CMD_CARRIER_NEW);
	if (!hdr || nla_put_u32(msg, FUNNEL_A_CARRIER_ID, id)) {
		funnel_carrier_unregister(fs, FUNNEL_DOWN_DELETED);
		NL_SET_ERR_MSG(info->extack, "reply does not fit: carrier not registered");
		err = -EMSGSIZE;
		goto out_detach;
	}
	genlmsg_end(msg, hdr);
	sockfd_put(sock);
	return genlmsg_reply(msg, info);

out_detach:
	/* an SCTP socket stays taken over, unregistered, as a TCP socket
	 * keeps its ULP: its operations may be in use by now, and
	 * funneld's close() gives it back
	 */
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

int funnel_nl_carrier_del_doit(struct sk_buff *skb, struct genl_info *info)
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

int funnel_nl_carrier_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_sock *fs;
	struct sk_buff *msg;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID))
		return -EINVAL;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "no memory for the reply");
		return -ENOMEM;
	}

	mutex_lock(&fn->lock);
	fs = funnel_nl_carrier_lookup(info);
	err = fs ? funnel_nl_fill_carrier(msg, fs, info->snd_portid,
					  info->snd_seq, 0) : -ENOENT;
	mutex_unlock(&fn->lock);
	if (err) {
		if (err == -EMSGSIZE)
			NL_SET_ERR_MSG(info->extack, "reply does not fit in a message");
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* A dump round ends: a full message is not an error while it holds at
 * least one object (the next round goes on from there).
 */
static int funnel_nl_dump_end(struct sk_buff *skb, int err)
{
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

int funnel_nl_carrier_get_dumpit(struct sk_buff *skb,
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

	return funnel_nl_dump_end(skb, err);
}

/* ---- streams ---- */

/* One address attribute pair (ipv4 or ipv6) into a; absent: any IPv6. */
static int funnel_nl_get_addr(struct genl_info *info, int a4, int a6,
			      int aport, struct funnel_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (info->attrs[a4] && info->attrs[a6]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[a6],
				    "give an IPv4 or an IPv6 address, not both");
		return -EINVAL;
	}
	if (info->attrs[a4]) {
		a->family = AF_INET;
		a->v4 = nla_get_in_addr(info->attrs[a4]);
	} else {
		a->family = AF_INET6;
		if (info->attrs[a6])
			a->v6 = nla_get_in6_addr(info->attrs[a6]);
	}
	if (info->attrs[aport])
		a->port = nla_get_be16(info->attrs[aport]);
	return 0;
}

/* The first of attrs present in the request, or NULL. */
static struct nlattr *funnel_nl_any_attr(struct genl_info *info,
					 const int *attrs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (info->attrs[attrs[i]])
			return info->attrs[attrs[i]];
	return NULL;
}

static const int funnel_local_attrs[] = {
	FUNNEL_A_LOCAL_IPV4, FUNNEL_A_LOCAL_IPV6, FUNNEL_A_LOCAL_PORT,
};

static const int funnel_remote_attrs[] = {
	FUNNEL_A_REMOTE_IPV4, FUNNEL_A_REMOTE_IPV6, FUNNEL_A_REMOTE_PORT,
};

static const int funnel_flow_attrs[] = {
	FUNNEL_A_FLOW_IDLE_MS, FUNNEL_A_FLOW_MAX,
};

static const int funnel_relay_attrs[] = {
	FUNNEL_A_RELAY_CARRIER_ID, FUNNEL_A_RELAY_STREAM_ID,
};

/* An address or flow attribute, which user and relay streams do not take. */
static struct nlattr *funnel_nl_addr_or_flow(struct genl_info *info)
{
	return funnel_nl_any_attr(info, funnel_local_attrs,
				  ARRAY_SIZE(funnel_local_attrs)) ?:
	       funnel_nl_any_attr(info, funnel_remote_attrs,
				  ARRAY_SIZE(funnel_remote_attrs)) ?:
	       funnel_nl_any_attr(info, funnel_flow_attrs,
				  ARRAY_SIZE(funnel_flow_attrs));
}

static int funnel_nl_stream_cfg(struct genl_info *info,
				struct funnel_stream_cfg *cfg)
{
	struct nlattr **attrs = info->attrs;
	struct nlattr *bad;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->id = nla_get_u16(attrs[FUNNEL_A_STREAM_ID]);
	cfg->kind = nla_get_u32(attrs[FUNNEL_A_STREAM_KIND]);
	cfg->unordered = nla_get_flag(attrs[FUNNEL_A_UNORDERED]);
	cfg->flow_idle_ms = FUNNEL_FLOW_IDLE_DEFAULT_MS;
	if (attrs[FUNNEL_A_FLOW_IDLE_MS])
		cfg->flow_idle_ms = nla_get_u32(attrs[FUNNEL_A_FLOW_IDLE_MS]);
	cfg->flow_max = FUNNEL_FLOW_MAX_DEFAULT;
	if (attrs[FUNNEL_A_FLOW_MAX])
		cfg->flow_max = nla_get_u32(attrs[FUNNEL_A_FLOW_MAX]);
	/* taken on TCP carriers too, where it means nothing */
	if (attrs[FUNNEL_A_PR_TTL_MS])
		cfg->pr_ttl_ms = nla_get_u32(attrs[FUNNEL_A_PR_TTL_MS]);

	if (cfg->kind != FUNNEL_STREAM_RELAY) {
		bad = funnel_nl_any_attr(info, funnel_relay_attrs,
					 ARRAY_SIZE(funnel_relay_attrs));
		if (bad) {
			NL_SET_ERR_MSG_ATTR(info->extack, bad,
					    "only a relay stream is paired with another");
			return -EINVAL;
		}
	}

	switch (cfg->kind) {
	case FUNNEL_STREAM_RELAY:
		bad = funnel_nl_addr_or_flow(info);
		if (bad) {
			NL_SET_ERR_MSG_ATTR(info->extack, bad,
					    "a relay stream has no addresses and no flows");
			return -EINVAL;
		}
		if (!cfg->unordered) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[FUNNEL_A_STREAM_KIND],
					    "relay streams carry udp services: unordered");
			return -EINVAL;
		}
		if (!attrs[FUNNEL_A_RELAY_CARRIER_ID] !=
		    !attrs[FUNNEL_A_RELAY_STREAM_ID]) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[FUNNEL_A_RELAY_CARRIER_ID] ?:
					    attrs[FUNNEL_A_RELAY_STREAM_ID],
					    "relay-carrier-id and relay-stream-id go together");
			return -EINVAL;
		}
		if (attrs[FUNNEL_A_RELAY_CARRIER_ID]) {
			cfg->relay_carrier =
				nla_get_u32(attrs[FUNNEL_A_RELAY_CARRIER_ID]);
			cfg->relay_stream =
				nla_get_u16(attrs[FUNNEL_A_RELAY_STREAM_ID]);
		}
		return 0;
	case FUNNEL_STREAM_USER:
		if (attrs[FUNNEL_A_PR_TTL_MS]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[FUNNEL_A_PR_TTL_MS],
					    "pr-ttl-ms is for the kernel's udp streams; funneld sends a user stream's frames");
			return -EINVAL;
		}
		bad = funnel_nl_addr_or_flow(info);
		if (bad) {
			NL_SET_ERR_MSG_ATTR(info->extack, bad,
					    "a user stream has no addresses and no flows");
			return -EINVAL;
		}
		return 0;
	case FUNNEL_STREAM_UDP_LISTEN:
		bad = funnel_nl_any_attr(info, funnel_remote_attrs,
					 ARRAY_SIZE(funnel_remote_attrs));
		if (bad) {
			NL_SET_ERR_MSG_ATTR(info->extack, bad,
					    "udp-listen takes a local address, not a remote one");
			return -EINVAL;
		}
		if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_LOCAL_PORT))
			return -EINVAL;
		err = funnel_nl_get_addr(info, FUNNEL_A_LOCAL_IPV4,
					 FUNNEL_A_LOCAL_IPV6,
					 FUNNEL_A_LOCAL_PORT, &cfg->local);
		if (!err && !cfg->local.port) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[FUNNEL_A_LOCAL_PORT],
					    "udp-listen needs a nonzero local port");
			err = -EINVAL;
		}
		return err;
	default: /* FUNNEL_STREAM_UDP_CONNECT, by the policy */
		bad = funnel_nl_any_attr(info, funnel_local_attrs,
					 ARRAY_SIZE(funnel_local_attrs));
		if (bad) {
			NL_SET_ERR_MSG_ATTR(info->extack, bad,
					    "udp-connect takes a remote address, not a local one");
			return -EINVAL;
		}
		if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_REMOTE_PORT))
			return -EINVAL;
		if (!attrs[FUNNEL_A_REMOTE_IPV4] && !attrs[FUNNEL_A_REMOTE_IPV6]) {
			NL_SET_ERR_MSG(info->extack,
				       "udp-connect needs remote-ipv4 or remote-ipv6");
			return -EINVAL;
		}
		err = funnel_nl_get_addr(info, FUNNEL_A_REMOTE_IPV4,
					 FUNNEL_A_REMOTE_IPV6,
					 FUNNEL_A_REMOTE_PORT, &cfg->remote);
		if (err)
			return err;
		if ((cfg->remote.family == AF_INET &&
		     (ipv4_is_zeronet(cfg->remote.v4) ||
		      ipv4_is_multicast(cfg->remote.v4) ||
		      ipv4_is_lbcast(cfg->remote.v4))) ||
		    (cfg->remote.family == AF_INET6 &&
		     (ipv6_addr_type(&cfg->remote.v6) &
		      (IPV6_ADDR_ANY | IPV6_ADDR_MULTICAST |
		       IPV6_ADDR_LINKLOCAL)))) {
			NL_SET_ERR_MSG(info->extack,
				       "udp-connect target must be a unicast address (not link-local)");
			return -EINVAL;
		}
		return 0;
	}
}

static int funnel_nl_keyconf(struct genl_info *info,
			     struct funnel_key_cfg *cfg);

int funnel_nl_stream_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_stream_cfg cfg;
	struct funnel_sock *fs;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, FUNNEL_A_STREAM_ID) ||
	    GENL_REQ_ATTR_CHECK(info, FUNNEL_A_STREAM_KIND))
		return -EINVAL;
	err = funnel_nl_stream_cfg(info, &cfg);
	if (err)
		return err;
	if (info->attrs[FUNNEL_A_KEYCONF]) {
		struct funnel_key_cfg kcfg;

		if (cfg.kind == FUNNEL_STREAM_USER) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[FUNNEL_A_KEYCONF],
					    "user streams are sealed by userspace, not by the kernel");
			return -EOPNOTSUPP;
		}
		err = funnel_nl_keyconf(info, &kcfg);
		if (err)
			return err;
		kcfg.sync = !cfg.unordered;
		if (kcfg.slot != FUNNEL_KEY_SLOT_PRIMARY) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[FUNNEL_A_KEYCONF],
					    "a new stream's key goes in the primary slot");
			return -EINVAL;
		}
		/* allocated (and may sleep) outside the lock */
		cfg.key = funnel_key_alloc(&kcfg, info->extack);
		if (IS_ERR(cfg.key))
			return PTR_ERR(cfg.key);
	}

	mutex_lock(&fn->lock);
	fs = funnel_nl_carrier_lookup(info);
	if (!fs)
		funnel_key_free(cfg.key);
	err = fs ? funnel_stream_new(fs, &cfg, info->extack) : -ENOENT;
	if (err == -EEXIST)
		NL_SET_BAD_ATTR(info->extack, info->attrs[FUNNEL_A_STREAM_ID]);
	mutex_unlock(&fn->lock);
	return err;
}

int funnel_nl_stream_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_sock *fs;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, FUNNEL_A_STREAM_ID))
		return -EINVAL;

	mutex_lock(&fn->lock);
	fs = funnel_nl_carrier_lookup(info);
	err = fs ? funnel_stream_del(fs, nla_get_u16(info->attrs[FUNNEL_A_STREAM_ID])) :
		   -ENOENT;
	if (fs && err)
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[FUNNEL_A_STREAM_ID],
				    "no such stream on this carrier");
	mutex_unlock(&fn->lock);
	return err;
}

static int funnel_nl_put_addr(struct sk_buff *msg, const struct funnel_addr *a,
			      int a4, int a6, int aport)
{
	if (!a->family)
		return 0;
	if (a->family == AF_INET) {
		if (nla_put_in_addr(msg, a4, a->v4))
			return -EMSGSIZE;
	} else if (nla_put_in6_addr(msg, a6, &a->v6)) {
		return -EMSGSIZE;
	}
	return nla_put_be16(msg, aport, a->port);
}

static int funnel_nl_fill_stream(struct sk_buff *msg, struct funnel_sock *fs,
				 struct funnel_stream *st, u32 portid,
				 u32 seq, int flags)
{
	struct funnel_addr local = st->local;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &funnel_nl_family, flags,
			  FUNNEL_CMD_STREAM_GET);
	if (!hdr)
		return -EMSGSIZE;

	if (nla_put_u32(msg, FUNNEL_A_CARRIER_ID, fs->carrier_id) ||
	    nla_put_u16(msg, FUNNEL_A_STREAM_ID, st->id) ||
	    nla_put_u32(msg, FUNNEL_A_STREAM_KIND, st->kind) ||
	    (st->unordered && nla_put_flag(msg, FUNNEL_A_UNORDERED)))
		goto nospace;
	if (st->kind != FUNNEL_STREAM_USER && st->kind != FUNNEL_STREAM_RELAY &&
	    (funnel_nl_put_addr(msg, &local, FUNNEL_A_LOCAL_IPV4,
				FUNNEL_A_LOCAL_IPV6, FUNNEL_A_LOCAL_PORT) ||
	     funnel_nl_put_addr(msg, &st->remote, FUNNEL_A_REMOTE_IPV4,
				FUNNEL_A_REMOTE_IPV6, FUNNEL_A_REMOTE_PORT) ||
	     nla_put_u32(msg, FUNNEL_A_FLOW_IDLE_MS, st->flow_idle_ms) ||
	     nla_put_u32(msg, FUNNEL_A_FLOW_MAX, st->flow_max) ||
	     nla_put_u32(msg, FUNNEL_A_PR_TTL_MS, st->pr_ttl_ms) ||
	     nla_put_u32(msg, FUNNEL_A_FLOW_COUNT, READ_ONCE(st->nflows))))
		goto nospace;
	if (fs->sctp &&
	    nla_put_u64_64bit(msg, FUNNEL_A_TX_ABANDONED,
			      funnel_sctp_abandoned(fs, st->id) +
			      atomic64_read(&st->tx_expired), FUNNEL_A_PAD))
		goto nospace;
	if (funnel_nl_put_stats(msg, st->stats))
		goto nospace;
	if (st->kind == FUNNEL_STREAM_RELAY) {
		struct funnel_stream *o;
		u32 ocid = 0;
		u16 osid = 0;

		rcu_read_lock();
		o = rcu_dereference(st->relay);
		if (o) {
			ocid = READ_ONCE(o->fs->carrier_id);
			osid = o->id;
		}
		rcu_read_unlock();
		if (ocid && (nla_put_u32(msg, FUNNEL_A_RELAY_CARRIER_ID, ocid) ||
			     nla_put_u16(msg, FUNNEL_A_RELAY_STREAM_ID, osid)))
			goto nospace;
	}

	genlmsg_end(msg, hdr);
	return 0;

nospace:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

int funnel_nl_stream_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_stream *st = NULL;
	struct funnel_sock *fs;
	struct sk_buff *msg;
	int err = -ENOENT;

	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, FUNNEL_A_STREAM_ID))
		return -EINVAL;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "no memory for the reply");
		return -ENOMEM;
	}

	mutex_lock(&fn->lock);
	fs = funnel_nl_carrier_lookup(info);
	if (fs) {
		st = funnel_stream_lookup(fs, nla_get_u16(info->attrs[FUNNEL_A_STREAM_ID]));
		if (!st)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[FUNNEL_A_STREAM_ID],
					    "no such stream on this carrier");
	}
	if (st)
		err = funnel_nl_fill_stream(msg, fs, st, info->snd_portid,
					    info->snd_seq, 0);
	mutex_unlock(&fn->lock);
	if (err) {
		if (err == -EMSGSIZE)
			NL_SET_ERR_MSG(info->extack, "reply does not fit in a message");
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* Streams of one carrier (carrier-id given) or of all.  cb->args: [0] the
 * carrier id to go on from, [1] the stream id to go on from.
 */
int funnel_nl_stream_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct funnel_net *fn = funnel_pernet(sock_net(skb->sk));
	struct nlattr **attrs = funnel_dump_attrs(cb);
	unsigned long cid, sid, start = cb->args[0], last = ULONG_MAX;
	struct funnel_stream *st;
	struct funnel_sock *fs;
	int err = 0;

	mutex_lock(&fn->lock);
	if (attrs[FUNNEL_A_CARRIER_ID]) {
		last = nla_get_u32(attrs[FUNNEL_A_CARRIER_ID]);
		/* a filter naming no carrier is an error, not an empty dump */
		if (!cb->args[0] && !xa_load(&fn->carriers, last)) {
			NL_SET_ERR_MSG_ATTR(cb->extack,
					    attrs[FUNNEL_A_CARRIER_ID],
					    "no such carrier");
			err = -ENOENT;
			goto out;
		}
		start = max(start, last);
	}
	xa_for_each_range(&fn->carriers, cid, fs, start, last) {
		if (cid != cb->args[0])
			cb->args[1] = 0;
		cb->args[0] = cid;
		xa_for_each_start(&fs->streams, sid, st, cb->args[1]) {
			err = funnel_nl_fill_stream(skb, fs, st,
						    NETLINK_CB(cb->skb).portid,
						    cb->nlh->nlmsg_seq,
						    NLM_F_MULTI);
			if (err)
				goto out;
			cb->args[1] = sid + 1;
		}
		cb->args[0] = cid + 1;
		cb->args[1] = 0;
	}
out:
	mutex_unlock(&fn->lock);
	return funnel_nl_dump_end(skb, err);
}

/* ---- flows ---- */

static int funnel_nl_fill_flow(struct sk_buff *msg, struct funnel_sock *fs,
			       struct funnel_stream *st,
			       struct funnel_flow *flow, u32 portid, u32 seq)
{
	struct funnel_addr local = flow->local, remote = flow->peer;
	struct socket *sock = READ_ONCE(flow->sock);
	struct nlattr *nest;
	void *hdr;

	if (st->kind == FUNNEL_STREAM_UDP_LISTEN) {
		local.port = st->local.port;
	} else if (sock) {	/* the flow's own socket */
		const struct sock *sk = sock->sk;

		memset(&local, 0, sizeof(local));
		local.family = sk->sk_family;
		local.port = inet_sk(sk)->inet_sport;
		if (local.family == AF_INET)
			local.v4 = inet_sk(sk)->inet_saddr;
		else
			local.v6 = sk->sk_v6_rcv_saddr;
	}

	hdr = genlmsg_put(msg, portid, seq, &funnel_nl_family, NLM_F_MULTI,
			  FUNNEL_CMD_FLOW_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, FUNNEL_A_CARRIER_ID, fs->carrier_id) ||
	    nla_put_u16(msg, FUNNEL_A_STREAM_ID, st->id) ||
	    nla_put_u32(msg, FUNNEL_A_FLOW_ID, flow->id) ||
	    funnel_nl_put_addr(msg, &local, FUNNEL_A_LOCAL_IPV4,
			       FUNNEL_A_LOCAL_IPV6, FUNNEL_A_LOCAL_PORT) ||
	    funnel_nl_put_addr(msg, &remote, FUNNEL_A_REMOTE_IPV4,
			       FUNNEL_A_REMOTE_IPV6, FUNNEL_A_REMOTE_PORT) ||
	    nla_put_u32(msg, FUNNEL_A_IDLE_MS, funnel_flow_idle_ms(flow)))
		goto nospace;

	nest = nla_nest_start(msg, FUNNEL_A_STATS);
	if (!nest ||
	    nla_put_u64_64bit(msg, FUNNEL_A_STATS_RX_FRAMES,
			      atomic64_read(&flow->rx_frames),
			      FUNNEL_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, FUNNEL_A_STATS_RX_BYTES,
			      atomic64_read(&flow->rx_bytes),
			      FUNNEL_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, FUNNEL_A_STATS_TX_FRAMES,
			      atomic64_read(&flow->tx_frames),
			      FUNNEL_A_STATS_PAD) ||
	    nla_put_u64_64bit(msg, FUNNEL_A_STATS_TX_BYTES,
			      atomic64_read(&flow->tx_bytes),
			      FUNNEL_A_STATS_PAD))
		goto nospace;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return 0;

nospace:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

/* Flows of one stream.  cb->args: [0] hash bucket, [1] flows of it done.
 * Flows that come or go during a dump may be missed or seen twice.
 */
int funnel_nl_flow_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct funnel_net *fn = funnel_pernet(sock_net(skb->sk));
	struct nlattr **attrs = funnel_dump_attrs(cb);
	struct funnel_stream *st = NULL;
	struct funnel_flow *flow;
	struct funnel_sock *fs;
	unsigned long b;
	long n;
	int err = 0;

	if (!attrs[FUNNEL_A_CARRIER_ID] || !attrs[FUNNEL_A_STREAM_ID]) {
		NL_SET_ERR_MSG(cb->extack, "flow dump needs carrier-id and stream-id");
		return -EINVAL;
	}

	mutex_lock(&fn->lock);
	fs = xa_load(&fn->carriers, nla_get_u32(attrs[FUNNEL_A_CARRIER_ID]));
	if (fs)
		st = funnel_stream_lookup(fs, nla_get_u16(attrs[FUNNEL_A_STREAM_ID]));
	if (!st || st->kind == FUNNEL_STREAM_USER ||
	    st->kind == FUNNEL_STREAM_RELAY) {
		mutex_unlock(&fn->lock);
		if (!fs)
			NL_SET_ERR_MSG(cb->extack, "no such carrier");
		else if (!st)
			NL_SET_ERR_MSG(cb->extack, "no such stream on this carrier");
		else if (st->kind == FUNNEL_STREAM_USER)
			NL_SET_ERR_MSG(cb->extack, "a user stream has no flows");
		else
			NL_SET_ERR_MSG(cb->extack, "a relay stream has no flows");
		return -ENOENT;
	}

	rcu_read_lock();
	for (b = cb->args[0]; b < funnel_flow_buckets(st); b++) {
		n = 0;
		hlist_for_each_entry_rcu(flow, &st->by_id[b], id_node) {
			if (n++ < cb->args[1])
				continue;
			err = funnel_nl_fill_flow(skb, fs, st, flow,
						  NETLINK_CB(cb->skb).portid,
						  cb->nlh->nlmsg_seq);
			if (err)
				goto out;
			cb->args[1] = n;
		}
		cb->args[0] = b + 1;
		cb->args[1] = 0;
	}
out:
	rcu_read_unlock();
	mutex_unlock(&fn->lock);
	return funnel_nl_dump_end(skb, err);
}

void funnel_nl_notify_flow_limit(struct funnel_stream *st)
{
	u32 carrier_id = READ_ONCE(st->fs->carrier_id);
	struct sk_buff *msg;
	u32 attr, limit;
	void *hdr;

	/* the limit that was reached: the stream's, its carrier's or the
	 * netns's (the first one full, as funnel_flow_admit() tests them)
	 */
	if (READ_ONCE(st->nflows) >= st->flow_max) {
		attr = FUNNEL_A_FLOW_MAX;
		limit = st->flow_max;
	} else if (atomic_read(&st->fs->nflows) >=
		   funnel_carrier_flows_max()) {
		attr = FUNNEL_A_CARRIER_FLOW_MAX;
		limit = funnel_carrier_flows_max();
	} else {
		attr = FUNNEL_A_NETNS_FLOW_MAX;
		limit = funnel_netns_flows_max();
	}

	if (!carrier_id ||
	    !genl_has_listeners(&funnel_nl_family, st->net,
				FUNNEL_NLGRP_EVENTS))
		return;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return;

	hdr = genlmsg_put(msg, 0, 0, &funnel_nl_family, 0,
			  FUNNEL_CMD_FLOW_LIMIT_NTF);
	if (!hdr || nla_put_u32(msg, FUNNEL_A_CARRIER_ID, carrier_id) ||
	    nla_put_u16(msg, FUNNEL_A_STREAM_ID, st->id) ||
	    nla_put_u32(msg, attr, limit)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&funnel_nl_family, st->net, msg, 0,
				FUNNEL_NLGRP_EVENTS, GFP_ATOMIC);
}

/* ---- keys ---- */

/* The stream of carrier-id and stream-id, with an extack if there is
 * none.  funnel_net.lock held.
 */
static struct funnel_stream *funnel_nl_stream_lookup(struct genl_info *info)
{
	struct funnel_stream *st;
	struct funnel_sock *fs;

	fs = funnel_nl_carrier_lookup(info);
	if (!fs)
		return NULL;
	st = funnel_stream_lookup(fs, nla_get_u16(info->attrs[FUNNEL_A_STREAM_ID]));
	if (!st)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_STREAM_ID],
				    "no such stream on this carrier");
	return st;
}

/* One direction of a keyconf: key and salt, both required. */
static int funnel_nl_keydir(struct genl_info *info, struct nlattr *nest,
			    const u8 **key, const u8 **salt)
{
	struct nlattr *tb[FUNNEL_A_KEYDIR_MAX + 1];
	int err;

	err = nla_parse_nested(tb, FUNNEL_A_KEYDIR_MAX, nest,
			       funnel_keydir_nl_policy, info->extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, FUNNEL_A_KEYDIR_KEY) ||
	    NL_REQ_ATTR_CHECK(info->extack, nest, tb, FUNNEL_A_KEYDIR_SALT)) {
		NL_SET_ERR_MSG(info->extack, "a key direction needs key and salt");
		return -EINVAL;
	}
	*key = nla_data(tb[FUNNEL_A_KEYDIR_KEY]);
	*salt = nla_data(tb[FUNNEL_A_KEYDIR_SALT]);
	return 0;
}

static const int funnel_keyconf_required[] = {
	FUNNEL_A_KEYCONF_SLOT, FUNNEL_A_KEYCONF_KEY_ID, FUNNEL_A_KEYCONF_CIPHER,
	FUNNEL_A_KEYCONF_ENCRYPT_DIR, FUNNEL_A_KEYCONF_DECRYPT_DIR,
};

/* A keyconf to install (key-new, stream-new).  Parsed up to hard-limit:
 * tx-counter, which key-get returns, is refused as an unknown attribute.
 */
static int funnel_nl_keyconf(struct genl_info *info, struct funnel_key_cfg *cfg)
{
	struct nlattr *nest = info->attrs[FUNNEL_A_KEYCONF];
	struct nlattr *tb[FUNNEL_A_KEYCONF_HARD_LIMIT + 1];
	unsigned int i;
	int err;

	err = nla_parse_nested(tb, FUNNEL_A_KEYCONF_HARD_LIMIT, nest,
			       funnel_keyconf_nl_policy, info->extack);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(funnel_keyconf_required); i++)
		if (NL_REQ_ATTR_CHECK(info->extack, nest, tb,
				      funnel_keyconf_required[i])) {
			NL_SET_ERR_MSG(info->extack,
				       "key-new needs slot, key-id, cipher, encrypt-dir and decrypt-dir");
			return -EINVAL;
		}

	memset(cfg, 0, sizeof(*cfg));
	cfg->slot = nla_get_u32(tb[FUNNEL_A_KEYCONF_SLOT]);
	cfg->key_id = nla_get_u32(tb[FUNNEL_A_KEYCONF_KEY_ID]);
	cfg->cipher = nla_get_u32(tb[FUNNEL_A_KEYCONF_CIPHER]);
	if (tb[FUNNEL_A_KEYCONF_SOFT_LIMIT])
		cfg->soft_limit = nla_get_u64(tb[FUNNEL_A_KEYCONF_SOFT_LIMIT]);
	if (tb[FUNNEL_A_KEYCONF_HARD_LIMIT])
		cfg->hard_limit = nla_get_u64(tb[FUNNEL_A_KEYCONF_HARD_LIMIT]);
	if (cfg->soft_limit && cfg->hard_limit &&
	    cfg->soft_limit > cfg->hard_limit) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[FUNNEL_A_KEYCONF_SOFT_LIMIT],
				    "soft-limit is above hard-limit");
		return -EINVAL;
	}
	err = funnel_nl_keydir(info, tb[FUNNEL_A_KEYCONF_ENCRYPT_DIR],
			       &cfg->enc_key, &cfg->enc_salt);
	if (!err)
		err = funnel_nl_keydir(info, tb[FUNNEL_A_KEYCONF_DECRYPT_DIR],
				       &cfg->dec_key, &cfg->dec_salt);
	if (err)
		return err;
	/* one key both ways would seal each counter twice under one key */
	if (!crypto_memneq(cfg->enc_key, cfg->dec_key, FUNNEL_KEY_LEN)) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    tb[FUNNEL_A_KEYCONF_DECRYPT_DIR],
				    "encrypt and decrypt keys must differ");
		return -EINVAL;
	}
	return 0;
}

/* The physical slot of logical slot (enum funnel_key_slot) of st.
 * funnel_net.lock held.
 */
static u32 funnel_nl_phys_slot(const struct funnel_stream *st, u32 slot)
{
	return slot ^ st->primary;
}

/* The slot of a key-del or key-get request: parsed up to slot, so any
 * other keyconf attribute is refused as unknown.
 */
static int funnel_nl_keyslot(struct genl_info *info, u32 *slot)
{
	struct nlattr *nest = info->attrs[FUNNEL_A_KEYCONF];
	struct nlattr *tb[FUNNEL_A_KEYCONF_SLOT + 1];
	int err;

	err = nla_parse_nested(tb, FUNNEL_A_KEYCONF_SLOT, nest,
			       funnel_keyconf_nl_policy, info->extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, FUNNEL_A_KEYCONF_SLOT)) {
		NL_SET_ERR_MSG(info->extack, "keyconf needs slot");
		return -EINVAL;
	}
	*slot = nla_get_u32(tb[FUNNEL_A_KEYCONF_SLOT]);
	return 0;
}

static int funnel_nl_key_req_check(struct genl_info *info, bool keyconf)
{
	if (GENL_REQ_ATTR_CHECK(info, FUNNEL_A_CARRIER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, FUNNEL_A_STREAM_ID) ||
	    (keyconf && GENL_REQ_ATTR_CHECK(info, FUNNEL_A_KEYCONF))) {
		if (keyconf)
			NL_SET_ERR_MSG(info->extack,
				       "needs carrier-id, stream-id and keyconf");
		else
			NL_SET_ERR_MSG(info->extack,
				       "needs carrier-id and stream-id");
		return -EINVAL;
	}
	return 0;
}

int funnel_nl_key_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_key_cfg cfg;
	struct funnel_stream *st;
	struct funnel_key *key;
	u32 slot;
	int err;

	err = funnel_nl_key_req_check(info, true);
	if (!err)
		err = funnel_nl_keyconf(info, &cfg);
	if (err)
		return err;

	/* an ordered stream seals synchronously: the stream says which */
	mutex_lock(&fn->lock);
	st = funnel_nl_stream_lookup(info);
	if (st)
		cfg.sync = !st->unordered;
	mutex_unlock(&fn->lock);
	if (!st)
		return -ENOENT;

	/* the AEADs are allocated (and may sleep) outside the lock */
	key = funnel_key_alloc(&cfg, info->extack);
	if (IS_ERR(key))
		return PTR_ERR(key);

	mutex_lock(&fn->lock);
	st = funnel_nl_stream_lookup(info);
	if (!st) {
		err = -ENOENT;
		goto out;
	}
	if (st->unordered == cfg.sync) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_STREAM_ID],
				    "the stream was replaced meanwhile; try again");
		err = -EAGAIN;
		goto out;
	}
	if (st->kind == FUNNEL_STREAM_USER) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_STREAM_ID],
				    "user streams are sealed by userspace, not by the kernel");
		err = -EOPNOTSUPP;
		goto out;
	}
	slot = funnel_nl_phys_slot(st, cfg.slot);
	if (rcu_access_pointer(st->keys[slot])) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_KEYCONF],
				    "the slot holds a key (key-del it first)");
		err = -EEXIST;
		goto out;
	}
	rcu_assign_pointer(st->keys[slot], key);
	key = NULL;
out:
	mutex_unlock(&fn->lock);
	/* never published: no reader saw it */
	funnel_key_free(key);
	return err;
}

int funnel_nl_key_swap_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_stream *st;
	int err = 0;
	u32 slot;

	if (funnel_nl_key_req_check(info, false))
		return -EINVAL;

	mutex_lock(&fn->lock);
	st = funnel_nl_stream_lookup(info);
	if (!st) {
		err = -ENOENT;
		goto out;
	}
	slot = funnel_nl_phys_slot(st, FUNNEL_KEY_SLOT_SECONDARY);
	if (!rcu_access_pointer(st->keys[slot])) {
		NL_SET_ERR_MSG(info->extack, "the secondary slot is empty: nothing to swap to");
		err = -ENOENT;
		goto out;
	}
	/* one store: both keys stay where receivers find them, sealing
	 * moves to the other one
	 */
	WRITE_ONCE(st->primary, !st->primary);
out:
	mutex_unlock(&fn->lock);
	return err;
}

int funnel_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_stream *st;
	struct funnel_key *key;
	int err;
	u32 slot;

	err = funnel_nl_key_req_check(info, true);
	if (!err)
		err = funnel_nl_keyslot(info, &slot);
	if (err)
		return err;

	mutex_lock(&fn->lock);
	st = funnel_nl_stream_lookup(info);
	if (!st) {
		err = -ENOENT;
		goto out;
	}
	slot = funnel_nl_phys_slot(st, slot);
	key = rcu_replace_pointer(st->keys[slot], NULL,
				  lockdep_is_held(&fn->lock));
	if (!key) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_KEYCONF],
				    "the slot holds no key");
		err = -ENOENT;
		goto out;
	}
	funnel_key_free_rcu(key);
out:
	mutex_unlock(&fn->lock);
	return err;
}

/* keyconf of key: never the key bytes or salts.  tx-counter is the
 * counter the next frame is sealed with, absent once the key is used up.
 */
static int funnel_nl_put_keyconf(struct sk_buff *msg, u32 slot,
				 const struct funnel_key *key)
{
	u64 last = atomic64_read(&key->tx_seq);
	struct nlattr *nest;

	nest = nla_nest_start(msg, FUNNEL_A_KEYCONF);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(msg, FUNNEL_A_KEYCONF_SLOT, slot) ||
	    nla_put_u32(msg, FUNNEL_A_KEYCONF_KEY_ID, key->key_id) ||
	    nla_put_u32(msg, FUNNEL_A_KEYCONF_CIPHER, key->cipher) ||
	    (key->soft_limit &&
	     nla_put_u64_64bit(msg, FUNNEL_A_KEYCONF_SOFT_LIMIT,
			       key->soft_limit, FUNNEL_A_KEYCONF_PAD)) ||
	    (key->hard_limit != U64_MAX &&
	     nla_put_u64_64bit(msg, FUNNEL_A_KEYCONF_HARD_LIMIT,
			       key->hard_limit, FUNNEL_A_KEYCONF_PAD)) ||
	    (last < key->hard_limit &&
	     nla_put_u64_64bit(msg, FUNNEL_A_KEYCONF_TX_COUNTER, last + 1,
			       FUNNEL_A_KEYCONF_PAD))) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

int funnel_nl_key_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct funnel_net *fn = funnel_pernet(genl_info_net(info));
	struct funnel_stream *st;
	struct funnel_key *key;
	struct sk_buff *msg;
	void *hdr;
	int err;
	u32 slot, phys;

	err = funnel_nl_key_req_check(info, true);
	if (!err)
		err = funnel_nl_keyslot(info, &slot);
	if (err)
		return err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "no memory for the reply");
		return -ENOMEM;
	}

	mutex_lock(&fn->lock);
	st = funnel_nl_stream_lookup(info);
	if (!st) {
		err = -ENOENT;
		goto out;
	}
	phys = funnel_nl_phys_slot(st, slot);
	key = rcu_dereference_protected(st->keys[phys],
					lockdep_is_held(&fn->lock));
	if (!key) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FUNNEL_A_KEYCONF],
				    "the slot holds no key");
		err = -ENOENT;
		goto out;
	}
	hdr = genlmsg_put_reply(msg, info, &funnel_nl_family, 0,
				FUNNEL_CMD_KEY_GET);
	if (!hdr ||
	    nla_put_u32(msg, FUNNEL_A_CARRIER_ID, st->fs->carrier_id) ||
	    nla_put_u16(msg, FUNNEL_A_STREAM_ID, st->id) ||
	    funnel_nl_put_keyconf(msg, slot, key)) {
		NL_SET_ERR_MSG(info->extack, "reply does not fit in a message");
		err = -EMSGSIZE;
		goto out;
	}
	genlmsg_end(msg, hdr);
	mutex_unlock(&fn->lock);
	return genlmsg_reply(msg, info);

out:
	mutex_unlock(&fn->lock);
	nlmsg_free(msg);
	return err;
}

/* The primary key of st sealed with a counter at or past its soft limit.
 * Any context.  0: a listener got the notification.
 */
int funnel_nl_notify_key_expire(struct funnel_stream *st,
				const struct funnel_key *key)
{
	u32 carrier_id = READ_ONCE(st->fs->carrier_id);
	struct sk_buff *msg;
	void *hdr;

	if (!carrier_id ||
	    !genl_has_listeners(&funnel_nl_family, st->net,
				FUNNEL_NLGRP_EVENTS))
		return -ESRCH;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put(msg, 0, 0, &funnel_nl_family, 0,
			  FUNNEL_CMD_KEY_EXPIRE_NTF);
	if (!hdr || nla_put_u32(msg, FUNNEL_A_CARRIER_ID, carrier_id) ||
	    nla_put_u16(msg, FUNNEL_A_STREAM_ID, st->id) ||
	    funnel_nl_put_keyconf(msg, FUNNEL_KEY_SLOT_PRIMARY, key)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_multicast_netns(&funnel_nl_family, st->net, msg, 0,
				       FUNNEL_NLGRP_EVENTS, GFP_ATOMIC);
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

/*
 * The family's operations: netlink-gen.c's, with a policy for those that
 * take no attribute, written once in funnel_nl_init() (compat.h).  On
 * 6.1 a command's do and dump are one entry, so there are at most as
 * many entries as generated operations.
 */
static struct funnel_genl_op funnel_nl_ops_rt[ARRAY_SIZE(funnel_nl_ops)] __ro_after_init;

static struct genl_family funnel_nl_family __ro_after_init = {
	.name		= FUNNEL_FAMILY_NAME,
	.version	= FUNNEL_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.resv_start_op	= FUNNEL_CMD_MAX + 1,
	.mcgrps		= funnel_nl_groups,
	.n_mcgrps	= ARRAY_SIZE(funnel_nl_groups),
};

/* A netlink socket was closed: the carriers it owns go (socket-owner). */
static int funnel_nl_sock_event(struct notifier_block *nb,
				unsigned long state, void *ptr)
{
	struct netlink_notify *n = ptr;

	if (state == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		funnel_carrier_release_owner(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block funnel_nl_notifier = {
	.notifier_call	= funnel_nl_sock_event,
};

int funnel_nl_init(void)
{
	int err;

	/* the operations of netlink-gen.c, read-only once init is done */
	funnel_genl_set_ops(&funnel_nl_family, funnel_nl_ops_rt, funnel_nl_ops,
			    ARRAY_SIZE(funnel_nl_ops), funnel_nl_no_attrs,
			    FUNNEL_A_MAX);
	err = netlink_register_notifier(&funnel_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&funnel_nl_family);
	if (err)
		netlink_unregister_notifier(&funnel_nl_notifier);
	return err;
}

void funnel_nl_exit(void)
{
	genl_unregister_family(&funnel_nl_family);
	netlink_unregister_notifier(&funnel_nl_notifier);
}
