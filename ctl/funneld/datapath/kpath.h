/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's use of funnel.ko: carriers, streams and counters over the
 * "funnel" generic netlink family (Documentation/netlink/specs/funnel.yaml).
 * Every function returns 0 or -errno and, on error, leaves a message in
 * err naming the operation and the kernel's extended ACK.
 */
#ifndef FUNNEL_KPATH_H
#define FUNNEL_KPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/fstats.h"
#include "common/genl.h"

struct kpath {
	struct funnel_genl g;
	bool open;
	struct nl_sock *ev;		/* "events" multicast group, or NULL */
	uint32_t caps;			/* FUNNEL_CAP_*, from info-get */
	bool caps_known;		/* info-get asked since the open */
};

/* One key of a stream: the encrypt and decrypt directions of one generation. */
struct kpath_key {
	uint32_t id;			/* key generation, K = id & 1 */
	const uint8_t *enc_key, *enc_salt;	/* 32 and 4 bytes */
	const uint8_t *dec_key, *dec_salt;
	uint64_t soft_limit, hard_limit;	/* 0: the kernel's default */
};

/* Resolve the family; -ENOENT when funnel.ko is not loaded. */
int kpath_open(struct kpath *k, char *err, size_t errlen);
void kpath_close(struct kpath *k);
/* Does funnel.ko take SCTP carriers (kpath open)? */
bool kpath_has_sctp(struct kpath *k);

/*
 * Hand a carrier socket to the kernel (TCP: with the ULP attached; SCTP:
 * the association up); *id gets its id.
 */
int kpath_carrier_new(struct kpath *k, int fd, uint32_t *id,
		      char *err, size_t errlen);

/*
 * A udp-listen (addr: local address to bind), udp-connect (addr: the
 * target) or user (addr NULL: its frames go to funneld) stream;
 * pr_ttl_ms: the PR-SCTP lifetime of its datagrams on an SCTP carrier
 * (0: none, and for user streams).
 */
int kpath_stream_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		     int kind, bool unordered, uint32_t pr_ttl_ms,
		     const struct sockaddr_storage *addr,
		     const struct kpath_key *key,
		     char *err, size_t errlen);
/*
 * A relay stream (Documentation/switchbox.md): unordered, keyed with key
 * (NULL: plaintext); rcarrier 0: the first of a pair, else paired with
 * relay stream rstream of carrier rcarrier.
 */
int kpath_relay_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		    uint32_t pr_ttl_ms, const struct kpath_key *key,
		    uint32_t rcarrier, uint16_t rstream, char *err,
		    size_t errlen);
int kpath_stream_del(struct kpath *k, uint32_t carrier, uint16_t stream,
		     char *err, size_t errlen);
/* Whether the last request failed for want of its carrier: funnel.ko
 * closed it (its extack points at carrier-id).
 */
bool kpath_no_carrier(const struct kpath *k);

/*
 * Keys (UDP streams only): key-new into slot (enum funnel_key_slot),
 * key-swap (the secondary becomes primary), key-del of a slot.  stream-new
 * above takes the first key with the stream (key NULL: plaintext).
 */
int kpath_key_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		  uint32_t slot, const struct kpath_key *key,
		  char *err, size_t errlen);
int kpath_key_swap(struct kpath *k, uint32_t carrier, uint16_t stream,
		   char *err, size_t errlen);
int kpath_key_del(struct kpath *k, uint32_t carrier, uint16_t stream,
		  uint32_t slot, char *err, size_t errlen);

/*
 * Subscribe to the "events" group: returns the socket's fd (nonblocking)
 * for the event loop, or -errno.  kpath_events_read() reads what is
 * there and calls fn for each key-expire-ntf (carrier, stream, key id).
 */
int kpath_events_open(struct kpath *k, char *err, size_t errlen);
void kpath_events_read(struct kpath *k,
		       void (*fn)(uint32_t carrier, uint16_t stream,
				  uint32_t key_id, void *arg), void *arg);

int kpath_carrier_stats(struct kpath *k, uint32_t carrier, struct fstats *st);
int kpath_stream_stats(struct kpath *k, uint32_t carrier, uint16_t stream,
		       struct fstats *st, uint32_t *nflows);

/* A flow as flow-get reports it. */
struct kpath_flow {
	uint32_t id;
	struct sockaddr_storage local, remote;
	uint32_t idle_ms;
	struct fstats st;
};

/* Call fn for each flow of a stream (dump). */
int kpath_flows(struct kpath *k, uint32_t carrier, uint16_t stream,
		void (*fn)(const struct kpath_flow *f, void *arg), void *arg);

#endif /* FUNNEL_KPATH_H */
