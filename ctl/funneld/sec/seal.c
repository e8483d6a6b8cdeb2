// SPDX-License-Identifier: GPL-2.0
/*
 * Frame sealing for the userspace data path: wire-format.md section 9,
 * AES-256-GCM with OpenSSL's EVP.  See seal.h.
 */

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "funneld/sec/seal.h"

#define SEAL_NONCE_LEN	(FUNNEL_SALT_LEN + FUNNEL_SEAL_CTR_LEN)
#define SEAL_AAD_LEN	(FUNNEL_HDR_LEN + FUNNEL_SEAL_CTR_LEN)
#define SEAL_MIN_FRAME	(FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD)
#define HDR_TYPE	2	/* offsets in the frame header */
#define HDR_FLAGS	3

_Static_assert(SEAL_NONCE_LEN == 12, "GCM nonce is 96 bits");
_Static_assert(FUNNEL_REPLAY_WINDOW % 64 == 0, "window in whole words");

const char *seal_verdict_name(enum seal_verdict v)
{
	switch (v) {
	case SEAL_OK:
		return "ok";
	case SEAL_MALFORMED:
		return "rx-drop-malformed";
	case SEAL_NO_KEY:
		return "rx-drop-no-key";
	case SEAL_REPLAY:
		return "rx-drop-replay";
	case SEAL_AUTH:
		return "rx-drop-auth";
	}
	return "unknown";
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- cipher contexts ---- */

/* A GCM context holding the key schedule, for encrypting or decrypting. */
static int gcm_ctx_new(EVP_CIPHER_CTX **ctxp, const uint8_t *key, int enc)
{
	EVP_CIPHER_CTX *ctx;

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
			      enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN,
				NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return -EIO;
	}
	*ctxp = ctx;
	return 0;
}

static void make_nonce(uint8_t nonce[SEAL_NONCE_LEN],
		       const uint8_t salt[FUNNEL_SALT_LEN], const uint8_t *ctr)
{
	memcpy(nonce, salt, FUNNEL_SALT_LEN);
	memcpy(nonce + FUNNEL_SALT_LEN, ctr, FUNNEL_SEAL_CTR_LEN);
}

int seal_key_init(struct seal_key *k, uint32_t id,
		  const uint8_t key[FUNNEL_KEY_LEN],
		  const uint8_t salt[FUNNEL_SALT_LEN],
		  uint64_t soft_limit, uint64_t hard_limit)
{
	int err;

	memset(k, 0, sizeof(*k));
	err = gcm_ctx_new(&k->ctx, key, 1);
	if (err)
		return err;
	k->id = id;
	memcpy(k->salt, salt, FUNNEL_SALT_LEN);
	k->next = 1;
	k->first = 1;
	k->soft_limit = soft_limit;
	k->hard_limit = hard_limit;
	return 0;
}

void seal_key_start_at(struct seal_key *k, uint64_t next)
{
	k->next = next;
	k->first = next;
}

void seal_key_free(struct seal_key *k)
{
	EVP_CIPHER_CTX_free(k->ctx);
	OPENSSL_cleanse(k, sizeof(*k));
}

int seal_rx_init(struct seal_rx *rx, uint32_t id,
		 const uint8_t key[FUNNEL_KEY_LEN],
		 const uint8_t salt[FUNNEL_SALT_LEN], bool ordered)
{
	int err;

	memset(rx, 0, sizeof(*rx));
	err = gcm_ctx_new(&rx->ctx, key, 0);
	if (err)
		return err;
	rx->id = id;
	memcpy(rx->salt, salt, FUNNEL_SALT_LEN);
	rx->ordered = ordered;
	return 0;
}

void seal_rx_free(struct seal_rx *rx)
{
	EVP_CIPHER_CTX_free(rx->ctx);
	OPENSSL_cleanse(rx, sizeof(*rx));
}

/* ---- sealing ---- */

/* A header the caller may ask to seal (architecture.md, sendmsg EINVAL). */
static bool hdr_sealable(const uint8_t hdr[FUNNEL_HDR_LEN])
{
	uint8_t flags = hdr[HDR_FLAGS];

	if (flags & (FUNNEL_F_RESERVED | FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE))
		return false;
	if (flags & FUNNEL_F_RESET && hdr[HDR_TYPE] != FUNNEL_T_FLOW_END)
		return false;
	switch (hdr[HDR_TYPE]) {
	case FUNNEL_T_DATA:
	case FUNNEL_T_FLOW_END:
		return hdr[0] || hdr[1];	/* not the control stream */
	case FUNNEL_T_CTRL:
		return !hdr[0] && !hdr[1];	/* its control messages */
	default:
		return false;
	}	/* not the control stream */
}

/*
 * Encrypt len bytes of payload into ct and write the tag, the AAD being
 * the first SEAL_AAD_LEN bytes at aad.  Returns 0 or -EIO.
 */
static int gcm_seal(EVP_CIPHER_CTX *ctx, const uint8_t *nonce,
		    const uint8_t *aad, const uint8_t *payload, size_t len,
		    uint8_t *ct, uint8_t *tag)
{
	int n = 0, fin = 0;

	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1)
		return -EIO;
	if (EVP_EncryptUpdate(ctx, NULL, &n, aad, SEAL_AAD_LEN) != 1)
		return -EIO;
	if (len && EVP_EncryptUpdate(ctx, ct, &n, payload, (int)len) != 1)
		return -EIO;
	if (EVP_EncryptFinal_ex(ctx, ct + (len ? n : 0), &fin) != 1)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
				FUNNEL_SEAL_TAG_LEN, tag) != 1)
		return -EIO;
	return 0;
}

/* Take the next counter of k; 0 when the key may seal no more. */
static uint64_t take_counter(struct seal_key *k)
{
	uint64_t c = k->next;

	if (!c || c - k->first >= k->hard_limit)
		return 0;
	k->next = c + 1;	/* 0 after UINT64_MAX: never reused */
	return c;
}

int seal_frame(struct seal_key *k, const uint8_t hdr[FUNNEL_HDR_LEN],
	       const uint8_t *payload, size_t len,
	       uint8_t *out, size_t outcap, bool *soft_hit)
{
	uint8_t nonce[SEAL_NONCE_LEN];
	uint8_t *ct = out + SEAL_AAD_LEN;
	uint64_t c;

	if (soft_hit)
		*soft_hit = false;
	if (!hdr_sealable(hdr) || (hdr[HDR_TYPE] == FUNNEL_T_FLOW_END && len))
		return -EINVAL;
	if (len > FUNNEL_MAX_SEALED_PAYLOAD || outcap < SEAL_MIN_FRAME + len)
		return -EMSGSIZE;
	c = take_counter(k);
	if (!c)
		return -ENOKEY;

	memmove(out, hdr, FUNNEL_HDR_LEN);
	out[HDR_FLAGS] |= FUNNEL_F_SEALED;
	if (k->id & 1)
		out[HDR_FLAGS] |= FUNNEL_F_KEY_PHASE;
	put_be64(out + FUNNEL_HDR_LEN, c);
	make_nonce(nonce, k->salt, out + FUNNEL_HDR_LEN);

	if (gcm_seal(k->ctx, nonce, out, payload, len, ct, ct + len)) {
		OPENSSL_cleanse(ct, len + FUNNEL_SEAL_TAG_LEN);
		return -EIO;
	}
	if (soft_hit)
		*soft_hit = c - k->first + 1 == k->soft_limit;
	return (int)(SEAL_MIN_FRAME + len);
}

/* ---- replay state ---- */

static bool window_test(const struct seal_rx *rx, uint64_t c)
{
	unsigned int bit = c % FUNNEL_REPLAY_WINDOW;

	return rx->window[bit / 64] >> (bit % 64) & 1;
}

static void window_set(struct seal_rx *rx, uint64_t c)
{
	unsigned int bit = c % FUNNEL_REPLAY_WINDOW;

	rx->window[bit / 64] |= 1ULL << (bit % 64);
}

/* Clear n (< FUNNEL_REPLAY_WINDOW) bits from bit pos on, wrapping. */
static void window_clear(struct seal_rx *rx, unsigned int pos, unsigned int n)
{
	unsigned int off, take;
	uint64_t mask;

	while (n) {
		off = pos % 64;
		take = 64 - off < n ? 64 - off : n;
		mask = take == 64 ? ~0ULL : ((1ULL << take) - 1) << off;
		rx->window[pos / 64] &= ~mask;
		pos = (pos + take) % FUNNEL_REPLAY_WINDOW;
		n -= take;
	}
}

/*
 * Move the top of the window from rx->top to c (> rx->top): the bits of
 * the counters skipped, rx->top + 1 .. c - 1, held counters now out of
 * the window.  The others keep counters still in it.
 */
static void window_advance(struct seal_rx *rx, uint64_t c)
{
	uint64_t skipped = c - rx->top - 1;

	if (skipped >= FUNNEL_REPLAY_WINDOW) {
		memset(rx->window, 0, sizeof(rx->window));
		return;
	}
	window_clear(rx, (rx->top + 1) % FUNNEL_REPLAY_WINDOW,
		     (unsigned int)skipped);
}

bool seal_replay_ok(const struct seal_rx *rx, uint64_t c)
{
	if (!c)
		return false;
	if (rx->no_window)	/* replay: the data path's (plugin stream) */
		return true;
	if (rx->ordered)	/* exactly the next one: nothing missing */
		return c == rx->top + 1;
	if (c > rx->top)
		return true;
	if (rx->top - c >= FUNNEL_REPLAY_WINDOW)
		return false;
	return !window_test(rx, c);
}

void seal_replay_update(struct seal_rx *rx, uint64_t c)
{
	if (rx->ordered || rx->no_window) {
		if (c > rx->top)
			rx->top = c;
		return;
	}
	if (c > rx->top) {
		window_advance(rx, c);
		rx->top = c;
	}
	window_set(rx, c);
}

/* ---- opening ---- */

/*
 * Decrypt the n bytes of ciphertext of frame into out and verify the tag.
 * On failure whatever was written to out is cleared.
 */
static bool gcm_open(struct seal_rx *rx, const uint8_t *frame, size_t n,
		     uint8_t *out)
{
	const uint8_t *ct = frame + SEAL_AAD_LEN;
	uint8_t nonce[SEAL_NONCE_LEN], tag[FUNNEL_SEAL_TAG_LEN];
	int done = 0, fin = 0;
	bool ok;

	make_nonce(nonce, rx->salt, frame + FUNNEL_HDR_LEN);
	memcpy(tag, ct + n, FUNNEL_SEAL_TAG_LEN);
	ok = EVP_DecryptInit_ex(rx->ctx, NULL, NULL, NULL, nonce) == 1 &&
	     EVP_CIPHER_CTX_ctrl(rx->ctx, EVP_CTRL_GCM_SET_TAG,
				 FUNNEL_SEAL_TAG_LEN, tag) == 1 &&
	     EVP_DecryptUpdate(rx->ctx, NULL, &done, frame,
			       SEAL_AAD_LEN) == 1;
	done = 0;
	if (ok && n)
		ok = EVP_DecryptUpdate(rx->ctx, out, &done, ct, (int)n) == 1;
	if (ok)
		ok = EVP_DecryptFinal_ex(rx->ctx, out + done, &fin) == 1;
	if (!ok && n)
		OPENSSL_cleanse(out, n);
	return ok;
}

/* The checks made before the counter is looked at (seal.h order). */
static enum seal_verdict check_frame(const struct seal_rx *rx,
				     const uint8_t *frame, size_t len,
				     size_t outcap)
{
	uint8_t flags;

	if (len < SEAL_MIN_FRAME || len > FUNNEL_MAX_FRAME)
		return SEAL_MALFORMED;
	flags = frame[HDR_FLAGS];
	if (flags & FUNNEL_F_RESERVED || (frame[HDR_TYPE] != FUNNEL_T_DATA &&
					  frame[HDR_TYPE] != FUNNEL_T_FLOW_END &&
					  frame[HDR_TYPE] != FUNNEL_T_CTRL))
		return SEAL_MALFORMED;
	if (frame[HDR_TYPE] == FUNNEL_T_CTRL && (frame[0] || frame[1]))
		return SEAL_MALFORMED;	/* CTRL: stream 0's only */
	if (frame[HDR_TYPE] == FUNNEL_T_FLOW_END ? len != SEAL_MIN_FRAME :
	    flags & FUNNEL_F_RESET)
		return SEAL_MALFORMED;
	if (outcap < len - SEAL_MIN_FRAME)
		return SEAL_MALFORMED;
	if (!(flags & FUNNEL_F_SEALED))
		return SEAL_NO_KEY;
	if (!!(flags & FUNNEL_F_KEY_PHASE) != (rx->id & 1))
		return SEAL_NO_KEY;
	return SEAL_OK;
}

enum seal_verdict seal_open(struct seal_rx *rx, const uint8_t *frame,
			    size_t len, uint8_t *out, size_t outcap,
			    size_t *outlen)
{
	enum seal_verdict v;
	uint64_t c;
	size_t n;

	*outlen = 0;
	v = check_frame(rx, frame, len, outcap);
	if (v != SEAL_OK)
		return v;
	c = get_be64(frame + FUNNEL_HDR_LEN);
	if (!seal_replay_ok(rx, c))
		return SEAL_REPLAY;
	n = len - SEAL_MIN_FRAME;
	if (!gcm_open(rx, frame, n, out))
		return SEAL_AUTH;
	seal_replay_update(rx, c);
	*outlen = n;
	return SEAL_OK;
}

struct seal_rx *seal_rx_pick(struct seal_rx *const slot[2], uint8_t flags)
{
	unsigned int phase = !!(flags & FUNNEL_F_KEY_PHASE);

	if (!(flags & FUNNEL_F_SEALED))
		return NULL;
	for (int i = 0; i < 2; i++) {
		if (slot[i] && (slot[i]->id & 1) == phase)
			return slot[i];
	}
	return NULL;
}
