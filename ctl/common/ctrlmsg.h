/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Codec of the Funnel control protocol (Documentation/control-protocol.md):
 * one message per CTRL frame body, a 4-byte header and attributes.
 *
 * Decoding checks every rule of the document and says which one failed;
 * it reads only the bytes it is given and allocates nothing.
 */
#ifndef FUNNEL_CTRLMSG_H
#define FUNNEL_CTRLMSG_H

#include <stddef.h>
#include <stdint.h>

#define CTRL_VERSION		1
#define CTRL_HDR_LEN		4
#define CTRL_ATTR_HDR_LEN	4
#define CTRL_ATTR_OPTIONAL	0x8000
#define CTRL_TEXT_MAX		255
#define CTRL_SERVICE_MAX	63

enum ctrl_type {
	CTRL_HELLO = 1,
	CTRL_OPEN,
	CTRL_OPEN_OK,
	CTRL_OPEN_REFUSED,
	CTRL_CLOSE,
	CTRL_PING,
	CTRL_PONG,
	CTRL_REKEY_DONE,
	CTRL_REKEY,
	CTRL_WINDOW,		/* more credit for a TCP flow (FEAT_WINDOW) */
	CTRL_ORIGIN,		/* a UDP flow's origin (FEAT_ORIGIN) */
	CTRL_MARK,		/* counter mark of a key (FEAT_MARK) */
	CTRL_TYPE_MAX = CTRL_MARK
};

enum ctrl_attr {
	CTRL_A_FEATURES = 1,
	CTRL_A_NODE,
	CTRL_A_STREAM,
	CTRL_A_SERVICE,
	CTRL_A_PROTO,
	CTRL_A_ORDERED,
	CTRL_A_REASON,
	CTRL_A_TEXT,
	CTRL_A_NONCE,
	CTRL_A_GENERATION,
	CTRL_A_FLOW,
	CTRL_A_CREDIT,
	CTRL_A_ORIGIN,		/* common/origin.h's encoding, 16 or 40 bytes */
	CTRL_A_PLUGIN,		/* a plugin stream's plugin id (FEAT_PLUGIN) */
	CTRL_A_COUNTER,		/* a frame counter, u32, 1.. (FEAT_MARK) */
	CTRL_A_MAX = CTRL_A_COUNTER
};

#define CTRL_BIT(a)		(1U << (a))

#define CTRL_FEAT_GSS		0x1
#define CTRL_FEAT_PLAINTEXT	0x2
#define CTRL_FEAT_KERNEL	0x4
#define CTRL_FEAT_WINDOW	0x8	/* per-flow credit on TCP streams */
#define CTRL_FEAT_ORIGIN	0x10	/* the sender sends flow origins */
#define CTRL_FEAT_PLUGIN	0x20	/* plugin streams (plugins.md 5) */
#define CTRL_FEAT_MARK		0x40	/* counter marks (plugins.md 5.4) */

/* The credit of each direction of a new TCP flow, before any WINDOW. */
#define CTRL_WINDOW_INIT	(64U << 10)

enum ctrl_proto {
	CTRL_PROTO_UDP = 1,
	CTRL_PROTO_TCP = 2,
};

enum ctrl_reason {
	CTRL_R_UNKNOWN_SERVICE = 1,
	CTRL_R_NOT_AUTHORIZED,
	CTRL_R_PROTO_MISMATCH,
	CTRL_R_STREAM_IN_USE,
	CTRL_R_LIMIT,
	CTRL_R_INTERNAL,
	CTRL_R_CLOSED_BY_USER,
	CTRL_R_SHUTDOWN,
	CTRL_R_INTEGRITY,	/* a frame of a keyed ordered stream failed */
};

/* A message.  present has CTRL_BIT(attr) for each attribute it holds;
 * text fields are NUL-terminated copies.
 */
struct ctrl_msg {
	uint8_t type;			/* enum ctrl_type */
	uint32_t present;
	uint32_t features;
	uint16_t stream;
	uint8_t proto;			/* enum ctrl_proto */
	uint8_t ordered;
	uint16_t reason;		/* enum ctrl_reason */
	uint64_t nonce;
	uint32_t generation;		/* key generation, 1.. */
	uint32_t flow;			/* flow id, 1.. */
	uint32_t credit;		/* bytes, 1.. */
	uint8_t origin[40];		/* origin.h's encoding */
	uint8_t origin_len;		/* 16 or 40 */
	uint8_t plugin;			/* 1..255 (1: ldap) */
	uint32_t counter;		/* highest counter sealed, 1.. */
	char node[CTRL_TEXT_MAX + 1];
	char service[CTRL_SERVICE_MAX + 1];
	char text[CTRL_TEXT_MAX + 1];
};

/*
 * Decode the frame body buf[0..len).  Returns 0, or -1 with *why set to a
 * static string naming the rule that failed ("truncated attribute",
 * "duplicate attribute", ...).  m is filled on success only.
 */
int ctrl_decode(const uint8_t *buf, size_t len, struct ctrl_msg *m,
		const char **why);

/*
 * Encode m (its type and the attributes in m->present) into buf.  Returns
 * the length, or -1 if m breaks the rules decoding enforces (*why set) or
 * buf is too small.  What ctrl_encode() writes, ctrl_decode() accepts.
 */
int ctrl_encode(const struct ctrl_msg *m, uint8_t *buf, size_t len,
		const char **why);

const char *ctrl_type_name(unsigned int type);
const char *ctrl_reason_name(unsigned int reason);

#endif /* FUNNEL_CTRLMSG_H */
