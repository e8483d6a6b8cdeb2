/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * Funnel: many UDP/TCP services over one carrier, one stream each.
 *
 * The kernel/user contract: the wire format constants and the "funnel"
 * generic netlink family.  Documentation/wire-format.md and
 * Documentation/netlink/funnel.yaml are the normative texts; this header
 * must agree with them (selftests/unit/spec_check.py checks it).
 */
#ifndef _UAPI_LINUX_FUNNEL_H
#define _UAPI_LINUX_FUNNEL_H

#include <linux/types.h>

/* ---- wire format ---- */

#define FUNNEL_WIRE_VERSION	1

/* Sent once by the initiator of a TCP carrier before the first frame. */
#define FUNNEL_PREAMBLE		"FUNNEL\x01\x00"
#define FUNNEL_PREAMBLE_LEN	8

/* TCP carriers prefix every frame with a 16-bit big-endian length that
 * counts the bytes after the prefix (header and body).
 */
#define FUNNEL_LEN_PREFIX	2

struct funnel_hdr {
	__be16	stream;		/* stream id; 0 is the carrier's control stream */
	__u8	type;		/* enum funnel_frame_type */
	__u8	flags;		/* FUNNEL_F_* */
	__be32	flow;		/* flow id within the stream, 0 if none */
};

#define FUNNEL_HDR_LEN		8

enum funnel_frame_type {
	FUNNEL_T_DATA = 0,	/* service payload */
	FUNNEL_T_CTRL = 1,	/* control message, always for the daemon */
	FUNNEL_T_FLOW_END = 2,	/* the sender ended this flow; empty body */
};

#define FUNNEL_F_UNORDERED	0x01	/* sent on an unordered stream */
#define FUNNEL_F_SEALED		0x02	/* body is counter || ciphertext || tag */
#define FUNNEL_F_KEY_PHASE	0x04	/* low bit of the sealing key id */
#define FUNNEL_F_RESERVED	0xf8	/* must be zero */

/* Sealed body: 64-bit big-endian counter, ciphertext, 16-byte GCM tag.
 * AAD = frame header || counter (16 bytes); nonce = salt(4) || counter(8).
 */
#define FUNNEL_SEAL_CTR_LEN	8
#define FUNNEL_SEAL_TAG_LEN	16
#define FUNNEL_SEAL_OVERHEAD	(FUNNEL_SEAL_CTR_LEN + FUNNEL_SEAL_TAG_LEN)
#define FUNNEL_KEY_LEN		32	/* AES-256 */
#define FUNNEL_SALT_LEN		4
#define FUNNEL_REPLAY_WINDOW	1024	/* counters, unordered streams */

/* Limits.  A frame (header and body, without the TCP length prefix) is at
 * most 65535 bytes.
 */
#define FUNNEL_MAX_FRAME	65535
#define FUNNEL_MAX_PAYLOAD	(FUNNEL_MAX_FRAME - FUNNEL_HDR_LEN)
#define FUNNEL_MAX_SEALED_PAYLOAD (FUNNEL_MAX_PAYLOAD - FUNNEL_SEAL_OVERHEAD)

#define FUNNEL_CTRL_STREAM	0
#define FUNNEL_MAX_STREAM	65535

/* Flow defaults and bounds (per stream). */
#define FUNNEL_FLOW_IDLE_DEFAULT_MS	30000
#define FUNNEL_FLOW_IDLE_MIN_MS		100
#define FUNNEL_FLOW_IDLE_MAX_MS		86400000
#define FUNNEL_FLOW_MAX_DEFAULT		1024
#define FUNNEL_FLOW_MAX_LIMIT		65536

/* Per-carrier limit on kernel streams. */
#define FUNNEL_STREAMS_MAX		1024

/* ---- generic netlink ---- */

#define FUNNEL_FAMILY_NAME	"funnel"
#define FUNNEL_FAMILY_VERSION	1
#define FUNNEL_MCGRP_EVENTS	"events"

enum funnel_stream_kind {
	FUNNEL_STREAM_USER = 1,		/* frames go to the carrier's recvmsg */
	FUNNEL_STREAM_UDP_LISTEN,	/* client side: local UDP socket */
	FUNNEL_STREAM_UDP_CONNECT,	/* server side: a UDP socket per flow */

	/* private: */
	__FUNNEL_STREAM_KIND_MAX,
	FUNNEL_STREAM_KIND_MAX = (__FUNNEL_STREAM_KIND_MAX - 1)
};

enum funnel_down_reason {
	FUNNEL_DOWN_PEER_CLOSED = 1,	/* orderly close or reset by the peer */
	FUNNEL_DOWN_BAD_LENGTH,		/* length prefix below the header size */
	FUNNEL_DOWN_OVERSIZE,		/* frame above the carrier's limit */
	FUNNEL_DOWN_SOCK_ERROR,		/* socket error (sk_err) */
	FUNNEL_DOWN_DELETED,		/* CARRIER_DEL or the socket was closed */
	FUNNEL_DOWN_NETNS_EXIT,		/* the carrier's netns went away */
	FUNNEL_DOWN_OWNER_GONE,		/* its socket-owner's netlink socket closed */

	/* private: */
	__FUNNEL_DOWN_MAX,
	FUNNEL_DOWN_MAX = (__FUNNEL_DOWN_MAX - 1)
};

enum funnel_cipher {
	FUNNEL_CIPHER_AES_256_GCM = 1,

	/* private: */
	__FUNNEL_CIPHER_MAX,
	FUNNEL_CIPHER_MAX = (__FUNNEL_CIPHER_MAX - 1)
};

enum funnel_key_slot {
	FUNNEL_KEY_SLOT_PRIMARY = 0,
	FUNNEL_KEY_SLOT_SECONDARY,

	/* private: */
	__FUNNEL_KEY_SLOT_MAX,
	FUNNEL_KEY_SLOT_MAX = (__FUNNEL_KEY_SLOT_MAX - 1)
};

#define FUNNEL_CAP_AES_256_GCM	(1U << 0)	/* kernel sealing available */
#define FUNNEL_CAP_IPV6		(1U << 1)	/* IPv6 carriers and streams */

enum {
	FUNNEL_A_UNSPEC,
	FUNNEL_A_VERSION,		/* string: module version */
	FUNNEL_A_WIRE_VERSION,		/* u32 */
	FUNNEL_A_CAPS,			/* u32: FUNNEL_CAP_* */
	FUNNEL_A_CARRIER_ID,		/* u32 */
	FUNNEL_A_SOCK_FD,		/* s32: TCP socket with the funnel ULP */
	FUNNEL_A_STREAM_ID,		/* u16 */
	FUNNEL_A_STREAM_KIND,		/* u32: enum funnel_stream_kind */
	FUNNEL_A_UNORDERED,		/* flag */
	FUNNEL_A_LOCAL_IPV4,		/* u32 (network order) */
	FUNNEL_A_LOCAL_IPV6,		/* binary: 16 bytes */
	FUNNEL_A_LOCAL_PORT,		/* u16 (network order) */
	FUNNEL_A_REMOTE_IPV4,		/* u32 (network order) */
	FUNNEL_A_REMOTE_IPV6,		/* binary: 16 bytes */
	FUNNEL_A_REMOTE_PORT,		/* u16 (network order) */
	FUNNEL_A_FLOW_IDLE_MS,		/* u32 */
	FUNNEL_A_FLOW_MAX,		/* u32 */
	FUNNEL_A_FLOW_ID,		/* u32 */
	FUNNEL_A_FLOW_COUNT,		/* u32 */
	FUNNEL_A_STREAM_COUNT,		/* u32 */
	FUNNEL_A_IDLE_MS,		/* u32: since the flow's last frame */
	FUNNEL_A_REASON,		/* u32: enum funnel_down_reason */
	FUNNEL_A_STATS,			/* nest: FUNNEL_A_STATS_* */
	FUNNEL_A_KEYCONF,		/* nest: FUNNEL_A_KEYCONF_* */
	FUNNEL_A_PAD,
	FUNNEL_A_SOCKET_OWNER,		/* flag: carrier dies with this socket */
	FUNNEL_A_CARRIER_FLOW_MAX,	/* u32: flows of one carrier, at most */
	FUNNEL_A_NETNS_FLOW_MAX,	/* u32: flows of one netns, at most */

	/* private: */
	__FUNNEL_A_MAX,
	FUNNEL_A_MAX = (__FUNNEL_A_MAX - 1)
};

enum {
	FUNNEL_A_STATS_UNSPEC,
	FUNNEL_A_STATS_PAD,
	FUNNEL_A_STATS_RX_FRAMES,	/* u64 */
	FUNNEL_A_STATS_RX_BYTES,	/* u64 */
	FUNNEL_A_STATS_TX_FRAMES,	/* u64 */
	FUNNEL_A_STATS_TX_BYTES,	/* u64 */
	FUNNEL_A_STATS_RX_DROP_MALFORMED,	/* reserved flags, bad body */
	FUNNEL_A_STATS_RX_DROP_UNKNOWN_TYPE,
	FUNNEL_A_STATS_RX_DROP_NO_STREAM,
	FUNNEL_A_STATS_RX_DROP_NO_FLOW,
	FUNNEL_A_STATS_RX_DROP_NO_KEY,	/* sealed w/o key, or plain on keyed */
	FUNNEL_A_STATS_RX_DROP_AUTH,	/* AEAD tag mismatch */
	FUNNEL_A_STATS_RX_DROP_REPLAY,	/* duplicate or too old */
	FUNNEL_A_STATS_RX_DROP_QUEUE,	/* receive queue or socket full */
	FUNNEL_A_STATS_TX_DROP_QUEUE,	/* transmit backlog full */
	FUNNEL_A_STATS_TX_DROP_TOOBIG,	/* datagram does not fit a frame */
	FUNNEL_A_STATS_TX_DROP_NO_KEY,	/* key missing or past hard limit */
	FUNNEL_A_STATS_FLOWS_CREATED,
	FUNNEL_A_STATS_FLOWS_EXPIRED,
	FUNNEL_A_STATS_FLOW_DROP_LIMIT,	/* new flow refused: limit reached */
	FUNNEL_A_STATS_FLOWS_EVICTED,	/* idle flow ended for a new one */

	/* private: */
	__FUNNEL_A_STATS_MAX,
	FUNNEL_A_STATS_MAX = (__FUNNEL_A_STATS_MAX - 1)
};

enum {
	FUNNEL_A_KEYCONF_UNSPEC,
	FUNNEL_A_KEYCONF_PAD,
	FUNNEL_A_KEYCONF_SLOT,		/* u32: enum funnel_key_slot */
	FUNNEL_A_KEYCONF_KEY_ID,	/* u32: key generation */
	FUNNEL_A_KEYCONF_CIPHER,	/* u32: enum funnel_cipher */
	FUNNEL_A_KEYCONF_ENCRYPT_DIR,	/* nest: FUNNEL_A_KEYDIR_* */
	FUNNEL_A_KEYCONF_DECRYPT_DIR,	/* nest: FUNNEL_A_KEYDIR_* */
	FUNNEL_A_KEYCONF_SOFT_LIMIT,	/* u64: frames before KEY_EXPIRE_NTF */
	FUNNEL_A_KEYCONF_HARD_LIMIT,	/* u64: frames sealed at most */
	FUNNEL_A_KEYCONF_TX_COUNTER,	/* u64: next counter (get only) */

	/* private: */
	__FUNNEL_A_KEYCONF_MAX,
	FUNNEL_A_KEYCONF_MAX = (__FUNNEL_A_KEYCONF_MAX - 1)
};

enum {
	FUNNEL_A_KEYDIR_UNSPEC,
	FUNNEL_A_KEYDIR_KEY,		/* binary: FUNNEL_KEY_LEN */
	FUNNEL_A_KEYDIR_SALT,		/* binary: FUNNEL_SALT_LEN */

	/* private: */
	__FUNNEL_A_KEYDIR_MAX,
	FUNNEL_A_KEYDIR_MAX = (__FUNNEL_A_KEYDIR_MAX - 1)
};

enum {
	FUNNEL_CMD_UNSPEC,
	FUNNEL_CMD_INFO_GET,
	FUNNEL_CMD_CARRIER_NEW,
	FUNNEL_CMD_CARRIER_DEL,
	FUNNEL_CMD_CARRIER_GET,
	FUNNEL_CMD_STREAM_NEW,
	FUNNEL_CMD_STREAM_DEL,
	FUNNEL_CMD_STREAM_GET,
	FUNNEL_CMD_FLOW_GET,
	FUNNEL_CMD_KEY_NEW,
	FUNNEL_CMD_KEY_SWAP,
	FUNNEL_CMD_KEY_DEL,
	FUNNEL_CMD_KEY_GET,
	FUNNEL_CMD_CARRIER_DOWN_NTF,
	FUNNEL_CMD_FLOW_LIMIT_NTF,
	FUNNEL_CMD_KEY_EXPIRE_NTF,

	/* private: */
	__FUNNEL_CMD_MAX,
	FUNNEL_CMD_MAX = (__FUNNEL_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_FUNNEL_H */
