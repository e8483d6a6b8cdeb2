/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The keys of a carrier's control messages (stream 0), one per
 * direction, that renew themselves (security.md section 5): generation
 * 1 comes from the carrier's GSS-API context; after `update` frames the
 * sender derives generation G+1 from generation G's key alone
 * (HKDF-Expand-SHA256, info "funnel v2 stream 0 key update", 36 bytes:
 * key and salt; as TLS 1.3's KeyUpdate) and seals with it, which flips
 * the K phase; the receiver derives the same key when a frame with the
 * other phase arrives and keeps it only if that frame opens.  Stream 0
 * is ordered and reliable, so the old key is dropped at once: control
 * messages never run out of keys, and the GSS-API context may be gone.
 */
#ifndef FUNNEL_CTLKEYS_H
#define FUNNEL_CTLKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "funneld/sec/seal.h"

/* A direction's secret: key, then salt. */
#define CTLKEYS_SECRET_LEN	(FUNNEL_KEY_LEN + FUNNEL_SALT_LEN)

struct ctlkeys {
	struct seal_key tx;
	struct seal_rx rx;
	uint8_t tx_secret[CTLKEYS_SECRET_LEN];
	uint8_t rx_secret[CTLKEYS_SECRET_LEN];
	uint64_t update;		/* frames sealed per generation */
};

/*
 * Generation 1 from the secrets of each direction; update: frames per
 * generation (at least 1, at most the hard limit of a key).  0 or -1.
 */
int ctlkeys_init(struct ctlkeys *k, const uint8_t tx[CTLKEYS_SECRET_LEN],
		 const uint8_t rx[CTLKEYS_SECRET_LEN], uint64_t update);

void ctlkeys_free(struct ctlkeys *k);

/*
 * Seal a CTRL frame of stream 0 (seal_frame()), with the next
 * generation once this one sealed `update` frames.  The frame's length,
 * or a negative errno.
 */
int ctlkeys_seal(struct ctlkeys *k, const uint8_t hdr[FUNNEL_HDR_LEN],
		 const uint8_t *payload, size_t len, uint8_t *out,
		 size_t outcap);

/* Open a sealed CTRL frame of stream 0 (seal_open()), of either phase. */
enum seal_verdict ctlkeys_open(struct ctlkeys *k, const uint8_t *frame,
			       size_t len, uint8_t *out, size_t outcap,
			       size_t *outlen);

/* The next generation's secret from this one's, in place.  0 or -1. */
int ctlkeys_next(uint8_t secret[CTLKEYS_SECRET_LEN]);

#endif /* FUNNEL_CTLKEYS_H */
