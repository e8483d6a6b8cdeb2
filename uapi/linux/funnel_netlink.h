/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/funnel.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_FUNNEL_NETLINK_H
#define _UAPI_LINUX_FUNNEL_NETLINK_H

#define FUNNEL_FAMILY_NAME	"funnel"
#define FUNNEL_FAMILY_VERSION	1

#define FUNNEL_WIRE_VERSION		2
#define FUNNEL_KEY_LEN			32
#define FUNNEL_SALT_LEN			4
#define FUNNEL_FLOW_IDLE_DEFAULT_MS	30000
#define FUNNEL_FLOW_IDLE_MIN_MS		100
#define FUNNEL_FLOW_IDLE_MAX_MS		86400000
#define FUNNEL_FLOW_MAX_DEFAULT		1024
#define FUNNEL_FLOW_MAX_LIMIT		65536
#define FUNNEL_STREAMS_MAX		1024

/**
 * enum funnel_stream_kind - What the kernel does with the data frames of a
 *   stream.
 * @FUNNEL_STREAM_USER: Frames are delivered to the carrier socket's recvmsg.
 * @FUNNEL_STREAM_UDP_LISTEN: Client side: a kernel UDP socket bound to
 *   local-*; each datagram becomes a data frame tagged with the flow id of its
 *   source.
 * @FUNNEL_STREAM_UDP_CONNECT: Server side: one kernel UDP socket per flow id,
 *   connected to remote-* from an ephemeral port; replies return on that flow
 *   id.
 * @FUNNEL_STREAM_RELAY: Switchbox (Documentation/switchbox.md): one of two
 *   streams of two carriers of this netns, paired by relay-carrier-id and
 *   relay-stream-id given to the second; each DATA frame of one is opened with
 *   its key and sent on the other, with the same flow id, sealed with that
 *   one's key; FLOW_END is passed on. No flows, no sockets: the stream of the
 *   other hop does the rest.
 */
enum funnel_stream_kind {
	FUNNEL_STREAM_USER = 1,
	FUNNEL_STREAM_UDP_LISTEN,
	FUNNEL_STREAM_UDP_CONNECT,
	FUNNEL_STREAM_RELAY,
};

/**
 * enum funnel_down_reason - Why a carrier went down.
 * @FUNNEL_DOWN_PEER_CLOSED: Orderly close or reset by the peer.
 * @FUNNEL_DOWN_BAD_LENGTH: A length prefix below the frame header's size.
 * @FUNNEL_DOWN_OVERSIZE: A frame above the carrier's limit.
 * @FUNNEL_DOWN_SOCK_ERROR: A socket error (sk_err).
 * @FUNNEL_DOWN_DELETED: carrier-del, or the carrier's socket was closed.
 * @FUNNEL_DOWN_NETNS_EXIT: The carrier's network namespace went away.
 * @FUNNEL_DOWN_OWNER_GONE: The netlink socket that created it with
 *   socket-owner closed.
 */
enum funnel_down_reason {
	FUNNEL_DOWN_PEER_CLOSED = 1,
	FUNNEL_DOWN_BAD_LENGTH,
	FUNNEL_DOWN_OVERSIZE,
	FUNNEL_DOWN_SOCK_ERROR,
	FUNNEL_DOWN_DELETED,
	FUNNEL_DOWN_NETNS_EXIT,
	FUNNEL_DOWN_OWNER_GONE,

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
	FUNNEL_KEY_SLOT_PRIMARY,
	FUNNEL_KEY_SLOT_SECONDARY,

	/* private: */
	__FUNNEL_KEY_SLOT_MAX,
	FUNNEL_KEY_SLOT_MAX = (__FUNNEL_KEY_SLOT_MAX - 1)
};

/**
 * enum funnel_caps
 * @FUNNEL_CAP_AES_256_GCM: Kernel sealing is available.
 * @FUNNEL_CAP_IPV6: IPv6 carriers and streams.
 * @FUNNEL_CAP_SCTP: SCTP carriers: carrier-new takes a one-to-one SCTP socket
 *   with its association established (no ULP step).
 */
enum funnel_caps {
	FUNNEL_CAP_AES_256_GCM = 1,
	FUNNEL_CAP_IPV6 = 2,
	FUNNEL_CAP_SCTP = 4,
};

/**
 * enum funnel_transport - The transport of a carrier.
 * @FUNNEL_TRANSPORT_TCP: A TCP connection with the funnel ULP; frames are
 *   length-prefixed.
 * @FUNNEL_TRANSPORT_SCTP: An SCTP association (one-to-one socket); one frame
 *   per SCTP message, on the SCTP stream of the frame's stream.
 */
enum funnel_transport {
	FUNNEL_TRANSPORT_TCP = 1,
	FUNNEL_TRANSPORT_SCTP,

	/* private: */
	__FUNNEL_TRANSPORT_MAX,
	FUNNEL_TRANSPORT_MAX = (__FUNNEL_TRANSPORT_MAX - 1)
};

enum {
	FUNNEL_A_UNSPEC,
	FUNNEL_A_VERSION,
	FUNNEL_A_WIRE_VERSION,
	FUNNEL_A_CAPS,
	FUNNEL_A_CARRIER_ID,
	FUNNEL_A_SOCK_FD,
	FUNNEL_A_STREAM_ID,
	FUNNEL_A_STREAM_KIND,
	FUNNEL_A_UNORDERED,
	FUNNEL_A_LOCAL_IPV4,
	FUNNEL_A_LOCAL_IPV6,
	FUNNEL_A_LOCAL_PORT,
	FUNNEL_A_REMOTE_IPV4,
	FUNNEL_A_REMOTE_IPV6,
	FUNNEL_A_REMOTE_PORT,
	FUNNEL_A_FLOW_IDLE_MS,
	FUNNEL_A_FLOW_MAX,
	FUNNEL_A_FLOW_ID,
	FUNNEL_A_FLOW_COUNT,
	FUNNEL_A_STREAM_COUNT,
	FUNNEL_A_IDLE_MS,
	FUNNEL_A_REASON,
	FUNNEL_A_STATS,
	FUNNEL_A_KEYCONF,
	FUNNEL_A_PAD,
	FUNNEL_A_SOCKET_OWNER,
	FUNNEL_A_CARRIER_FLOW_MAX,
	FUNNEL_A_NETNS_FLOW_MAX,
	FUNNEL_A_TRANSPORT,
	FUNNEL_A_PR_TTL_MS,
	FUNNEL_A_TX_ABANDONED,
	FUNNEL_A_RELAY_CARRIER_ID,
	FUNNEL_A_RELAY_STREAM_ID,

	__FUNNEL_A_MAX,
	FUNNEL_A_MAX = (__FUNNEL_A_MAX - 1)
};

enum {
	FUNNEL_A_STATS_UNSPEC,
	FUNNEL_A_STATS_PAD,
	FUNNEL_A_STATS_RX_FRAMES,
	FUNNEL_A_STATS_RX_BYTES,
	FUNNEL_A_STATS_TX_FRAMES,
	FUNNEL_A_STATS_TX_BYTES,
	FUNNEL_A_STATS_RX_DROP_MALFORMED,
	FUNNEL_A_STATS_RX_DROP_UNKNOWN_TYPE,
	FUNNEL_A_STATS_RX_DROP_NO_STREAM,
	FUNNEL_A_STATS_RX_DROP_NO_FLOW,
	FUNNEL_A_STATS_RX_DROP_NO_KEY,
	FUNNEL_A_STATS_RX_DROP_AUTH,
	FUNNEL_A_STATS_RX_DROP_REPLAY,
	FUNNEL_A_STATS_RX_DROP_QUEUE,
	FUNNEL_A_STATS_TX_DROP_QUEUE,
	FUNNEL_A_STATS_TX_DROP_TOOBIG,
	FUNNEL_A_STATS_TX_DROP_NO_KEY,
	FUNNEL_A_STATS_FLOWS_CREATED,
	FUNNEL_A_STATS_FLOWS_EXPIRED,
	FUNNEL_A_STATS_FLOW_DROP_LIMIT,
	FUNNEL_A_STATS_FLOWS_EVICTED,
	FUNNEL_A_STATS_RX_ABANDONED,
	FUNNEL_A_STATS_TX_DEFERRED,

	__FUNNEL_A_STATS_MAX,
	FUNNEL_A_STATS_MAX = (__FUNNEL_A_STATS_MAX - 1)
};

enum {
	FUNNEL_A_KEYCONF_UNSPEC,
	FUNNEL_A_KEYCONF_PAD,
	FUNNEL_A_KEYCONF_SLOT,
	FUNNEL_A_KEYCONF_KEY_ID,
	FUNNEL_A_KEYCONF_CIPHER,
	FUNNEL_A_KEYCONF_ENCRYPT_DIR,
	FUNNEL_A_KEYCONF_DECRYPT_DIR,
	FUNNEL_A_KEYCONF_SOFT_LIMIT,
	FUNNEL_A_KEYCONF_HARD_LIMIT,
	FUNNEL_A_KEYCONF_TX_COUNTER,

	__FUNNEL_A_KEYCONF_MAX,
	FUNNEL_A_KEYCONF_MAX = (__FUNNEL_A_KEYCONF_MAX - 1)
};

enum {
	FUNNEL_A_KEYDIR_UNSPEC,
	FUNNEL_A_KEYDIR_KEY,
	FUNNEL_A_KEYDIR_SALT,

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

	__FUNNEL_CMD_MAX,
	FUNNEL_CMD_MAX = (__FUNNEL_CMD_MAX - 1)
};

#define FUNNEL_MCGRP_EVENTS	"events"

#endif /* _UAPI_LINUX_FUNNEL_NETLINK_H */
