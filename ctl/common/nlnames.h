/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names and types of the "funnel" netlink family, spelled as in
 * Documentation/netlink/specs/funnel.yaml.  selftests/unit/spec_check.py checks
 * these tables against the YAML.
 */
#ifndef FUNNEL_NLNAMES_H
#define FUNNEL_NLNAMES_H

#include <stddef.h>
#include <stdint.h>

/* Attribute types, as the YAML's "type:" values. */
enum funnel_nla_kind {
	FUNNEL_NLA_UNUSED = 0,
	FUNNEL_NLA_U8,
	FUNNEL_NLA_U16,
	FUNNEL_NLA_U32,
	FUNNEL_NLA_U64,
	FUNNEL_NLA_S32,
	FUNNEL_NLA_STRING,
	FUNNEL_NLA_FLAG,
	FUNNEL_NLA_BINARY,
	FUNNEL_NLA_NEST,
	FUNNEL_NLA_PAD,
};

/* How a value is shown: the YAML's byte-order and display-hint. */
enum funnel_nla_hint {
	FUNNEL_HINT_NONE = 0,
	FUNNEL_HINT_BE,		/* big-endian integer */
	FUNNEL_HINT_IPV4,	/* big-endian u32, an IPv4 address */
	FUNNEL_HINT_IPV6,	/* 16 bytes, an IPv6 address */
};

enum funnel_set_id {
	FUNNEL_SET_FUNNEL = 0,
	FUNNEL_SET_STATS,
	FUNNEL_SET_KEYCONF,
	FUNNEL_SET_KEYDIR,
	FUNNEL_SET_COUNT,
};

struct funnel_attr_desc {
	const char *name;	/* NULL: number not used */
	uint8_t kind;		/* enum funnel_nla_kind */
	uint8_t hint;		/* enum funnel_nla_hint */
	uint8_t nest;		/* enum funnel_set_id, for FUNNEL_NLA_NEST */
};

struct funnel_attr_set {
	const char *name;
	const struct funnel_attr_desc *attrs;	/* indexed by type */
	unsigned int max;			/* highest type */
};

const struct funnel_attr_set *funnel_attr_set(enum funnel_set_id id);

/* Attribute type of name in set, or -1. */
int funnel_attr_lookup(const struct funnel_attr_set *set, const char *name);

/* Description of an attribute type, or NULL when unknown. */
const struct funnel_attr_desc *funnel_attr_desc(const struct funnel_attr_set *set,
						unsigned int type);

/* The YAML spelling of a kind ("u32", "string", ...). */
const char *funnel_nla_kind_name(enum funnel_nla_kind kind);

/* Command names: "info-get", ... ; NULL / -1 when unknown. */
const char *funnel_cmd_name(unsigned int cmd);
int funnel_cmd_lookup(const char *name);
unsigned int funnel_cmd_max(void);

/* Name of capability bit (FUNNEL_CAP_*), or NULL when unknown. */
const char *funnel_cap_name(unsigned int bit);

/*
 * Write the capability names of caps separated by sep ("none" when 0,
 * "bitN" for unknown bits) into buf.  Returns snprintf's result.
 */
int funnel_caps_format(uint32_t caps, const char *sep, char *buf, size_t len);

#endif /* FUNNEL_NLNAMES_H */
