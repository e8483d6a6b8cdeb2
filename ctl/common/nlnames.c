// SPDX-License-Identifier: GPL-2.0
/* Names and types of the "funnel" netlink family. */

#include <stdio.h>
#include <string.h>

#include <linux/funnel.h>

#include "common/nlnames.h"

#define A(n, k)		{ .name = (n), .kind = FUNNEL_NLA_##k }
#define AH(n, k, h)	{ .name = (n), .kind = FUNNEL_NLA_##k, .hint = FUNNEL_HINT_##h }
#define AN(n, s)	{ .name = (n), .kind = FUNNEL_NLA_NEST, .nest = FUNNEL_SET_##s }

static const struct funnel_attr_desc funnel_attrs[FUNNEL_A_MAX + 1] = {
	[FUNNEL_A_VERSION]	= A("version", STRING),
	[FUNNEL_A_WIRE_VERSION]	= A("wire-version", U32),
	[FUNNEL_A_CAPS]		= A("caps", U32),
	[FUNNEL_A_CARRIER_ID]	= A("carrier-id", U32),
	[FUNNEL_A_SOCK_FD]	= A("sock-fd", S32),
	[FUNNEL_A_STREAM_ID]	= A("stream-id", U16),
	[FUNNEL_A_STREAM_KIND]	= A("stream-kind", U32),
	[FUNNEL_A_UNORDERED]	= A("unordered", FLAG),
	[FUNNEL_A_LOCAL_IPV4]	= AH("local-ipv4", U32, IPV4),
	[FUNNEL_A_LOCAL_IPV6]	= AH("local-ipv6", BINARY, IPV6),
	[FUNNEL_A_LOCAL_PORT]	= AH("local-port", U16, BE),
	[FUNNEL_A_REMOTE_IPV4]	= AH("remote-ipv4", U32, IPV4),
	[FUNNEL_A_REMOTE_IPV6]	= AH("remote-ipv6", BINARY, IPV6),
	[FUNNEL_A_REMOTE_PORT]	= AH("remote-port", U16, BE),
	[FUNNEL_A_FLOW_IDLE_MS]	= A("flow-idle-ms", U32),
	[FUNNEL_A_FLOW_MAX]	= A("flow-max", U32),
	[FUNNEL_A_FLOW_ID]	= A("flow-id", U32),
	[FUNNEL_A_FLOW_COUNT]	= A("flow-count", U32),
	[FUNNEL_A_STREAM_COUNT]	= A("stream-count", U32),
	[FUNNEL_A_IDLE_MS]	= A("idle-ms", U32),
	[FUNNEL_A_REASON]	= A("reason", U32),
	[FUNNEL_A_STATS]	= AN("stats", STATS),
	[FUNNEL_A_KEYCONF]	= AN("keyconf", KEYCONF),
	[FUNNEL_A_PAD]		= A("pad", PAD),
	[FUNNEL_A_SOCKET_OWNER]	= A("socket-owner", FLAG),
	[FUNNEL_A_CARRIER_FLOW_MAX] = A("carrier-flow-max", U32),
	[FUNNEL_A_NETNS_FLOW_MAX] = A("netns-flow-max", U32),
	[FUNNEL_A_TRANSPORT]	= A("transport", U32),
	[FUNNEL_A_PR_TTL_MS]	= A("pr-ttl-ms", U32),
	[FUNNEL_A_TX_ABANDONED]	= A("tx-abandoned", U64),
	[FUNNEL_A_RELAY_CARRIER_ID] = A("relay-carrier-id", U32),
	[FUNNEL_A_RELAY_STREAM_ID] = A("relay-stream-id", U16),
};

static const struct funnel_attr_desc stats_attrs[FUNNEL_A_STATS_MAX + 1] = {
	[FUNNEL_A_STATS_PAD]			= A("pad", PAD),
	[FUNNEL_A_STATS_RX_FRAMES]		= A("rx-frames", U64),
	[FUNNEL_A_STATS_RX_BYTES]		= A("rx-bytes", U64),
	[FUNNEL_A_STATS_TX_FRAMES]		= A("tx-frames", U64),
	[FUNNEL_A_STATS_TX_BYTES]		= A("tx-bytes", U64),
	[FUNNEL_A_STATS_RX_DROP_MALFORMED]	= A("rx-drop-malformed", U64),
	[FUNNEL_A_STATS_RX_DROP_UNKNOWN_TYPE]	= A("rx-drop-unknown-type", U64),
	[FUNNEL_A_STATS_RX_DROP_NO_STREAM]	= A("rx-drop-no-stream", U64),
	[FUNNEL_A_STATS_RX_DROP_NO_FLOW]	= A("rx-drop-no-flow", U64),
	[FUNNEL_A_STATS_RX_DROP_NO_KEY]		= A("rx-drop-no-key", U64),
	[FUNNEL_A_STATS_RX_DROP_AUTH]		= A("rx-drop-auth", U64),
	[FUNNEL_A_STATS_RX_DROP_REPLAY]		= A("rx-drop-replay", U64),
	[FUNNEL_A_STATS_RX_DROP_QUEUE]		= A("rx-drop-queue", U64),
	[FUNNEL_A_STATS_TX_DROP_QUEUE]		= A("tx-drop-queue", U64),
	[FUNNEL_A_STATS_TX_DROP_TOOBIG]		= A("tx-drop-toobig", U64),
	[FUNNEL_A_STATS_TX_DROP_NO_KEY]		= A("tx-drop-no-key", U64),
	[FUNNEL_A_STATS_FLOWS_CREATED]		= A("flows-created", U64),
	[FUNNEL_A_STATS_FLOWS_EXPIRED]		= A("flows-expired", U64),
	[FUNNEL_A_STATS_FLOW_DROP_LIMIT]	= A("flow-drop-limit", U64),
	[FUNNEL_A_STATS_FLOWS_EVICTED]		= A("flows-evicted", U64),
	[FUNNEL_A_STATS_RX_ABANDONED]		= A("rx-abandoned", U64),
	[FUNNEL_A_STATS_TX_DEFERRED]		= A("tx-deferred", U64),
};

static const struct funnel_attr_desc keyconf_attrs[FUNNEL_A_KEYCONF_MAX + 1] = {
	[FUNNEL_A_KEYCONF_PAD]		= A("pad", PAD),
	[FUNNEL_A_KEYCONF_SLOT]		= A("slot", U32),
	[FUNNEL_A_KEYCONF_KEY_ID]	= A("key-id", U32),
	[FUNNEL_A_KEYCONF_CIPHER]	= A("cipher", U32),
	[FUNNEL_A_KEYCONF_ENCRYPT_DIR]	= AN("encrypt-dir", KEYDIR),
	[FUNNEL_A_KEYCONF_DECRYPT_DIR]	= AN("decrypt-dir", KEYDIR),
	[FUNNEL_A_KEYCONF_SOFT_LIMIT]	= A("soft-limit", U64),
	[FUNNEL_A_KEYCONF_HARD_LIMIT]	= A("hard-limit", U64),
	[FUNNEL_A_KEYCONF_TX_COUNTER]	= A("tx-counter", U64),
};

static const struct funnel_attr_desc keydir_attrs[FUNNEL_A_KEYDIR_MAX + 1] = {
	[FUNNEL_A_KEYDIR_KEY]	= A("key", BINARY),
	[FUNNEL_A_KEYDIR_SALT]	= A("salt", BINARY),
};

#define SET(n, a)	{ .name = (n), .attrs = (a), \
			  .max = sizeof(a) / sizeof((a)[0]) - 1 }

static const struct funnel_attr_set sets[FUNNEL_SET_COUNT] = {
	[FUNNEL_SET_FUNNEL]	= SET("funnel", funnel_attrs),
	[FUNNEL_SET_STATS]	= SET("stats", stats_attrs),
	[FUNNEL_SET_KEYCONF]	= SET("keyconf", keyconf_attrs),
	[FUNNEL_SET_KEYDIR]	= SET("keydir", keydir_attrs),
};

static const char *const cmd_names[FUNNEL_CMD_MAX + 1] = {
	[FUNNEL_CMD_INFO_GET]		= "info-get",
	[FUNNEL_CMD_CARRIER_NEW]	= "carrier-new",
	[FUNNEL_CMD_CARRIER_DEL]	= "carrier-del",
	[FUNNEL_CMD_CARRIER_GET]	= "carrier-get",
	[FUNNEL_CMD_STREAM_NEW]		= "stream-new",
	[FUNNEL_CMD_STREAM_DEL]		= "stream-del",
	[FUNNEL_CMD_STREAM_GET]		= "stream-get",
	[FUNNEL_CMD_FLOW_GET]		= "flow-get",
	[FUNNEL_CMD_KEY_NEW]		= "key-new",
	[FUNNEL_CMD_KEY_SWAP]		= "key-swap",
	[FUNNEL_CMD_KEY_DEL]		= "key-del",
	[FUNNEL_CMD_KEY_GET]		= "key-get",
	[FUNNEL_CMD_CARRIER_DOWN_NTF]	= "carrier-down-ntf",
	[FUNNEL_CMD_FLOW_LIMIT_NTF]	= "flow-limit-ntf",
	[FUNNEL_CMD_KEY_EXPIRE_NTF]	= "key-expire-ntf",
};

static const struct {
	uint32_t bit;
	const char *name;
} cap_names[] = {
	{ FUNNEL_CAP_AES_256_GCM, "aes-256-gcm" },
	{ FUNNEL_CAP_IPV6, "ipv6" },
	{ FUNNEL_CAP_SCTP, "sctp" },
};

static const char *const kind_names[] = {
	[FUNNEL_NLA_UNUSED]	= "unused",
	[FUNNEL_NLA_U8]		= "u8",
	[FUNNEL_NLA_U16]	= "u16",
	[FUNNEL_NLA_U32]	= "u32",
	[FUNNEL_NLA_U64]	= "u64",
	[FUNNEL_NLA_S32]	= "s32",
	[FUNNEL_NLA_STRING]	= "string",
	[FUNNEL_NLA_FLAG]	= "flag",
	[FUNNEL_NLA_BINARY]	= "binary",
	[FUNNEL_NLA_NEST]	= "nest",
	[FUNNEL_NLA_PAD]	= "pad",
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

const struct funnel_attr_set *funnel_attr_set(enum funnel_set_id id)
{
	if ((unsigned int)id >= FUNNEL_SET_COUNT)
		return NULL;
	return &sets[id];
}

int funnel_attr_lookup(const struct funnel_attr_set *set, const char *name)
{
	for (unsigned int t = 1; t <= set->max; t++)
		if (set->attrs[t].name && !strcmp(set->attrs[t].name, name))
			return (int)t;
	return -1;
}

const struct funnel_attr_desc *funnel_attr_desc(const struct funnel_attr_set *set,
						unsigned int type)
{
	if (type == 0 || type > set->max || !set->attrs[type].name)
		return NULL;
	return &set->attrs[type];
}

const char *funnel_nla_kind_name(enum funnel_nla_kind kind)
{
	if ((unsigned int)kind >= ARRAY_SIZE(kind_names))
		return "?";
	return kind_names[kind];
}

const char *funnel_cmd_name(unsigned int cmd)
{
	if (cmd >= ARRAY_SIZE(cmd_names))
		return NULL;
	return cmd_names[cmd];
}

int funnel_cmd_lookup(const char *name)
{
	for (unsigned int c = 1; c < ARRAY_SIZE(cmd_names); c++)
		if (cmd_names[c] && !strcmp(cmd_names[c], name))
			return (int)c;
	return -1;
}

unsigned int funnel_cmd_max(void)
{
	return FUNNEL_CMD_MAX;
}

const char *funnel_cap_name(unsigned int bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (bit < 32 && cap_names[i].bit == 1U << bit)
			return cap_names[i].name;
	return NULL;
}

int funnel_caps_format(uint32_t caps, const char *sep, char *buf, size_t len)
{
	const char *name;
	size_t used = 0;
	int n, total = 0;

	if (len)
		buf[0] = '\0';
	if (!caps)
		return snprintf(buf, len, "none");
	for (unsigned int bit = 0; bit < 32; bit++) {
		if (!(caps & (1U << bit)))
			continue;
		name = funnel_cap_name(bit);
		if (name)
			n = snprintf(buf + used, len - used, "%s%s",
				     total ? sep : "", name);
		else
			n = snprintf(buf + used, len - used, "%sbit%u",
				     total ? sep : "", bit);
		if (n < 0)
			return n;
		total += n;
		used = (size_t)total < len ? (size_t)total : (len ? len - 1 : 0);
	}
	return total;
}
