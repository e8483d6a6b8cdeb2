/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Security of carriers and streams (Documentation/security.md and
 * control-protocol.md section 6): the carrier's GSS-API context before
 * HELLO, one context per stream with its tokens in CTRL frames on that
 * stream, the allow-list check, the keys derived from each context and
 * installed in funnel.ko (UDP streams of kernel carriers) or kept here
 * (every other stream: funneld seals and opens its frames), and rekeys.
 *
 * Nothing here runs in plaintext mode: cs->sec and c->gss stay NULL.
 */
#ifndef FUNNEL_CSEC_H
#define FUNNEL_CSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "funneld/carrier/priv.h"
#include "common/frame.h"
#include "funneld/datapath/kpath.h"
#include "funneld/sec/seal.h"

/* Per key, frames sealed: security.md section 6. */
#define CSEC_SOFT_LIMIT		(1ULL << 22)
#define CSEC_HARD_LIMIT		(1ULL << 23)
/*
 * The old key of a stream is deleted this long after a swap.  On SCTP a
 * DATA frame sealed with it may trail the REKEY_DONE on stream 0 by as
 * long as SCTP retransmits it (10 tries, up to 3 s apart): its streams
 * keep the old key CSEC_DEL_OLD_SCTP_MS.
 */
#define CSEC_DEL_OLD_MS		1000
#define CSEC_DEL_OLD_SCTP_MS	30000
/* A rekey that failed is tried again after this long. */
#define CSEC_RETRY_MS		5000
/* A stream's context must be established within this long. */
#define CSEC_DEADLINE_MS	10000

/*
 * Carrier context.  csec_carrier_prepare(): initiator, before it
 * connects: the context's first step (credentials, tickets from the KDC,
 * the first token) runs in a worker; carrier_prepared() follows, in the
 * loop.  0, or -1 with err (carrier_prepared() is not called then).
 * csec_carrier_start(): right after the preamble, the state is CAR_AUTH;
 * the initiator sends its first token.  Returns 0, or -1 after
 * carrier_fail().  csec_carrier_token(): a stream-0 CTRL frame while
 * CAR_AUTH; once this end's context is established it sends HELLO (state
 * CAR_HELLO).  csec_carrier_free() also cancels the first step.
 */
int csec_carrier_prepare(struct carrier *c, char *err, size_t errlen);
int csec_carrier_start(struct carrier *c);
void csec_carrier_token(struct carrier *c, const uint8_t *tok, size_t len);
void csec_carrier_free(struct carrier *c);

/*
 * Client: start the context of a stream about to be opened: its first
 * step runs in a worker (it may wait for the KDC), then
 * carrier_stream_prepared() is called; its first token is kept until
 * csec_send_first() (after OPEN).  0, or -1 with err (no callback then).
 * A rekey's first step runs in a worker too: the stream keeps its keys
 * meanwhile.
 */
int csec_client_start(struct carrier *c, struct cstream *cs,
		      char *err, size_t errlen);
void csec_send_first(struct carrier *c, struct cstream *cs);

/*
 * Server: an OPEN passed every check; wait for the stream's tokens.  -1:
 * err says why for this side's log, wire for the peer (nothing of local
 * keytabs, their owners or modes, or funneld's user).
 */
int csec_server_start(struct carrier *c, struct cstream *cs,
		      char *err, size_t errlen, char *wire, size_t wirelen);

/* A CTRL frame on stream cs->id: the next token of its context. */
void csec_stream_token(struct carrier *c, struct cstream *cs,
		       const uint8_t *tok, size_t len);

/* Client: has the stream's context given its keys (OPEN_OK is due)? */
bool csec_ready(const struct cstream *cs);

/*
 * Install generation 1 with the stream: fill *kk for kpath_stream_new()
 * (kernel UDP stream; returns 1) or set up sealing in funneld (returns
 * 0); -1 with err.  kk's pointers are valid until the next call.
 */
int csec_install_first(struct carrier *c, struct cstream *cs,
		       struct kpath_key *kk, char *err, size_t errlen);

/* The derived keys are in funnel.ko now: clear funneld's copy. */
void csec_forget_keys(struct cstream *cs);

/* Stream-removal: free the context, the keys and the timers. */
void csec_free(struct carrier *c, struct cstream *cs);

/* REKEY_DONE from the client: the server swaps to generation gen. */
void csec_rekey_done(struct carrier *c, struct cstream *cs, uint32_t gen);

/* REKEY from the server (its key reached the soft limit): the client rekeys. */
void csec_rekey_asked(struct carrier *c, struct cstream *cs, uint32_t gen);

/*
 * MARK (FEAT_MARK, plugins.md 5.4): the peer sealed up to counter ctr
 * with key generation gen of stream cs (NULL: no such stream).  Ignored
 * (and counted in c->marks_ignored) unless cs is a keyed unordered
 * plugin stream with that generation installed; otherwise every counter
 * up to ctr must be authenticated within CMARK_WAIT_MS, or the stream
 * is failed (CTRL_R_INTEGRITY).
 */
void csec_mark(struct carrier *c, struct cstream *cs, uint32_t gen,
	       uint32_t ctr);

/* funnel.ko reported key-expire-ntf for a stream of carrier kid. */
void csec_key_expire(struct daemon *d, uint32_t kid, uint16_t stream,
		     uint32_t key_id);

/*
 * The userspace side of sealing, for streams funneld seals (cs->sec set
 * and sealed by funneld).  csec_seal(): a frame to send; returns the
 * frame to queue (the same one if it is not sealed, else the sealed copy
 * in c->sbuf) in *out, or a negative errno when it must be dropped:
 * -EMSGSIZE, too big to seal; -ENOKEY, the key is used up (counted as the
 * carrier's tx-drop-no-key); -EIO, the cipher failed (tx-drop-queue).
 * csec_open(): a received DATA frame of the stream (or FLOW_END of an
 * ordered or plugin stream); 0 with *f the plaintext frame (body in
 * c->sbuf), or when dropped (counted): -2 for rx-drop-no-key (unsealed,
 * or no key of its phase), -1 otherwise.
 * csec_sealed_type(): is a frame of this type sealed on a keyed stream
 * (DATA; FLOW_END on ordered and plugin streams, wire-format.md 6)?
 * csec_overhead(): the bytes sealing adds to a frame of the stream.
 */
bool csec_user_sealed(const struct cstream *cs);
/* A frame refused by seal_open(): count it on the carrier. */
void csec_count_drop(struct carrier *c, enum seal_verdict v);
bool csec_sealed_type(const struct cstream *cs, uint8_t type);
size_t csec_overhead(const struct cstream *cs);
int csec_seal(struct carrier *c, struct cstream *cs, const uint8_t *frame,
	      size_t len, const uint8_t **out, size_t *outlen);
int csec_open(struct carrier *c, struct cstream *cs, const uint8_t *buf,
	      size_t len, struct funnel_frame *f);

/* For show: key generation (0: plaintext), rekeys done, peer principal. */
uint32_t csec_generation(const struct cstream *cs);
uint64_t csec_rekeys(const struct cstream *cs);
const char *csec_principal(const struct cstream *cs);

#endif /* FUNNEL_CSEC_H */
