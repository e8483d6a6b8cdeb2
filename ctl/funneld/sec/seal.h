/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Frame sealing for the userspace data path (wire-format.md section 9):
 * AES-256-GCM over the body of DATA frames (and of FLOW_END frames of
 * ordered streams: an empty plaintext; and of CTRL frames of stream 0,
 * the carrier's control messages), with OpenSSL's EVP.
 *
 * A sealed frame is header || counter || ciphertext || tag, where
 *   nonce = salt (4 bytes) || counter (8 bytes, big-endian)
 *   AAD   = header as sent (S, K, U set) || counter, the first 16 bytes
 * The counter of a key starts at 1; the receiver keeps per-key replay
 * state (a 1024-counter window on unordered streams, the last counter on
 * ordered ones, which take exactly the next counter) checked before the
 * tag and updated after it.  An unordered plugin stream's has none
 * (seal_rx_no_window(): any counter but 0; its replay is decided per
 * flow and Sequence by the data path, plugins.md 5.4).
 *
 * One struct seal_key seals one direction of a stream, one struct
 * seal_rx opens the other; each holds a reusable cipher context set up
 * at init.  Sealing and opening allocate nothing.  Neither is safe for
 * concurrent use.
 */
#ifndef FUNNEL_SEAL_H
#define FUNNEL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/funnel.h>

struct evp_cipher_ctx_st;

#define SEAL_WINDOW_WORDS	(FUNNEL_REPLAY_WINDOW / 64)

/* Encrypt direction of a key. */
struct seal_key {
	uint32_t id;			/* key generation; K = id & 1 */
	uint8_t salt[FUNNEL_SALT_LEN];
	struct evp_cipher_ctx_st *ctx;	/* key schedule, encrypt */
	uint64_t next;			/* counter of the next frame, from 1 */
	uint64_t first;			/* counter of its first frame (1) */
	uint64_t soft_limit;		/* signal once at that many frames */
	uint64_t hard_limit;		/* seal at most this many frames */
};

/* Decrypt direction of a key, with its replay state. */
struct seal_rx {
	uint32_t id;
	uint8_t salt[FUNNEL_SALT_LEN];
	struct evp_cipher_ctx_st *ctx;	/* key schedule, decrypt */
	bool ordered;			/* replay rule of the stream */
	bool no_window;			/* no replay rule (plugin stream) */
	uint64_t top;			/* highest (last) counter accepted */
	uint64_t window[SEAL_WINDOW_WORDS];	/* bit c % 1024: c accepted */
};

/*
 * Result of seal_open().  Each value other than OK names the receive drop
 * counter the frame is accounted to:
 *   MALFORMED  rx-drop-malformed: shorter than header + 24 bytes, longer
 *              than FUNNEL_MAX_FRAME, a reserved flag set, neither DATA
 *              nor FLOW_END nor CTRL of stream 0, a FLOW_END with a
 *              plaintext, R on DATA, or
 *              plaintext larger than the caller's buffer
 *   NO_KEY     rx-drop-no-key: S clear, or K not the parity of the key id
 *   REPLAY     rx-drop-replay: counter 0, duplicate, older than the
 *              window, or not the last one plus one on an ordered stream
 *   AUTH       rx-drop-auth: the tag does not verify
 * The checks are made in that order: the replay check comes before the
 * tag (wire-format.md 9.3), so a replayed frame is REPLAY even if forged.
 */
enum seal_verdict {
	SEAL_OK = 0,
	SEAL_MALFORMED,
	SEAL_NO_KEY,
	SEAL_REPLAY,
	SEAL_AUTH,
};

const char *seal_verdict_name(enum seal_verdict v);

/*
 * Set up the encrypt direction of key generation id.  Limits count frames
 * sealed with the key: the one with counter soft_limit reports the soft
 * limit (soft_limit 0: never), and none is sealed past hard_limit.  The
 * key bytes are not kept outside the cipher context.  Returns 0, -ENOMEM
 * or -EIO; on error *k needs no seal_key_free() (it does no harm).
 */
int seal_key_init(struct seal_key *k, uint32_t id,
		  const uint8_t key[FUNNEL_KEY_LEN],
		  const uint8_t salt[FUNNEL_SALT_LEN],
		  uint64_t soft_limit, uint64_t hard_limit);

/* Free the cipher context (key schedule cleared) and zero *k. */
void seal_key_free(struct seal_key *k);

/*
 * A key that has sealed nothing yet continues the counters of the key
 * before it (ordered streams, wire-format.md section 9.2): its first
 * frame has counter next.  Its limits count its own frames.
 */
void seal_key_start_at(struct seal_key *k, uint64_t next);

/* Set up the decrypt direction of key generation id, empty replay state. */
int seal_rx_init(struct seal_rx *rx, uint32_t id,
		 const uint8_t key[FUNNEL_KEY_LEN],
		 const uint8_t salt[FUNNEL_SALT_LEN], bool ordered);

void seal_rx_free(struct seal_rx *rx);

/*
 * An unordered plugin stream's key (wire-format.md 9.3): no counter
 * window, any counter but 0 is accepted (the tag still verified).
 */
static inline void seal_rx_no_window(struct seal_rx *rx)
{
	rx->ordered = false;
	rx->no_window = true;
}

/*
 * Seal a DATA or FLOW_END frame (FLOW_END: len 0), or a CTRL frame of
 * stream 0.  hdr is the 8-byte header as it would be sent
 * unsealed: S and K must be clear (they are set here, K from the key id).
 * Writes header || counter || ciphertext || tag to out (outcap bytes, at
 * least len + FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD) and returns its
 * length.  payload may be out + 16 (sealing in place); otherwise the two
 * must not overlap.
 *
 * *soft_hit (if not NULL) is set to true when this frame's counter is the
 * soft limit, which happens once per key, and to false otherwise.
 *
 * Errors, nothing sealed and the counter untouched unless -EIO:
 *   -EINVAL    reserved, S or K flag set; not DATA or FLOW_END (of a
 *              stream other than 0) or CTRL (of stream 0); R on DATA; a
 *              FLOW_END with a payload
 *   -EMSGSIZE  len > FUNNEL_MAX_SEALED_PAYLOAD, or outcap too small
 *   -ENOKEY    past the hard limit (tx-drop-no-key)
 *   -EIO       the cipher failed (the counter is used up)
 */
int seal_frame(struct seal_key *k, const uint8_t hdr[FUNNEL_HDR_LEN],
	       const uint8_t *payload, size_t len,
	       uint8_t *out, size_t outcap, bool *soft_hit);

/*
 * Open a sealed frame (header and body, no length prefix) with rx.
 * On SEAL_OK the plaintext is in out and its length in *outlen; the replay
 * state has been updated.  On any other verdict *outlen is 0, the replay
 * state is untouched and out holds no plaintext (on SEAL_AUTH the bytes
 * written are cleared).  outcap needs to be at least
 * len - FUNNEL_HDR_LEN - FUNNEL_SEAL_OVERHEAD; FUNNEL_MAX_SEALED_PAYLOAD
 * is enough for every frame.  out may be frame + 16 (opening in place:
 * on SEAL_AUTH the ciphertext is then cleared too); otherwise the two
 * must not overlap.
 */
enum seal_verdict seal_open(struct seal_rx *rx, const uint8_t *frame,
			    size_t len, uint8_t *out, size_t outcap,
			    size_t *outlen);

/*
 * Replay check alone: would counter ctr be accepted by rx now?  Does not
 * change the state.
 */
bool seal_replay_ok(const struct seal_rx *rx, uint64_t ctr);

/* Record counter ctr as accepted (after its tag has verified). */
void seal_replay_update(struct seal_rx *rx, uint64_t ctr);

/*
 * Pick the decrypt key of a stream for a frame with flags: among the two
 * slots (indexed by enum funnel_key_slot, NULL: empty), the one whose key
 * id has the parity of K, the primary slot first.  NULL when S is clear
 * or no installed key has that phase (rx-drop-no-key).
 */
struct seal_rx *seal_rx_pick(struct seal_rx *const slot[2], uint8_t flags);

#endif /* FUNNEL_SEAL_H */
