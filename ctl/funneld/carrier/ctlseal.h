/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protection of the carrier's control messages (stream 0) with keys of
 * the carrier's GSS-API context (security.md section 5,
 * control-protocol.md section 6): from HELLO on, every CTRL frame of
 * stream 0 is sealed as a DATA frame is (wire-format.md section 9), key
 * generation 1, ordered replay rule (exactly the next counter).  Frames
 * of stream 0 before the context (its tokens) are not; carriers in
 * plaintext have no such keys.
 */
#ifndef FUNNEL_CTLSEAL_H
#define FUNNEL_CTLSEAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

struct carrier;
struct fgss;

/* Derive and set up the keys from the established context g.  0 or -1. */
int ctlseal_init(struct carrier *c, struct fgss *g);

void ctlseal_free(struct carrier *c);

/*
 * A CTRL frame of stream 0 to send (header and body): *out and *outlen
 * are the frame to queue, sealed when the carrier has keys.  -1: it
 * cannot be sealed (the key is used up); the carrier is to be failed.
 */
int ctlseal_seal(struct carrier *c, const uint8_t *frame, size_t len,
		 const uint8_t **out, size_t *outlen);

/*
 * A CTRL frame of stream 0 that arrived (f parsed from buf): with keys,
 * it must be sealed and open with them; 0 with f's body the plaintext,
 * or -1 with why set (counted as rx-drop-no-key, -replay or -auth):
 * the carrier is to be failed.
 */
int ctlseal_open(struct carrier *c, const uint8_t *buf, size_t len,
		 struct funnel_frame *f, const char **why);

#endif /* FUNNEL_CTLSEAL_H */
