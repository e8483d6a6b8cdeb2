// SPDX-License-Identifier: GPL-2.0
/*
 * Self-renewing keys of the control messages (see ctlkeys.h).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "funneld/sec/ctlkeys.h"

/* A key seals at most this many frames (security.md section 6). */
#define CTLKEYS_HARD_LIMIT	(1ULL << 23)

static const char update_info[] = "funnel v2 stream 0 key update";

int ctlkeys_next(uint8_t secret[CTLKEYS_SECRET_LEN])
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	uint8_t out[CTLKEYS_SECRET_LEN];
	OSSL_PARAM params[5];
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int ret = -1;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -1;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kctx)
		return -1;
	/* the key is the pseudorandom key: HKDF-Expand only */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						      secret, FUNNEL_KEY_LEN);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						      (char *)update_info,
						      sizeof(update_info) - 1);
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, sizeof(out), params) == 1) {
		memcpy(secret, out, sizeof(out));
		ret = 0;
	}
	OPENSSL_cleanse(out, sizeof(out));
	EVP_KDF_CTX_free(kctx);
	return ret;
}

int ctlkeys_init(struct ctlkeys *k, const uint8_t tx[CTLKEYS_SECRET_LEN],
		 const uint8_t rx[CTLKEYS_SECRET_LEN], uint64_t update)
{
	memset(k, 0, sizeof(*k));
	if (!update || update > CTLKEYS_HARD_LIMIT)
		return -1;
	memcpy(k->tx_secret, tx, CTLKEYS_SECRET_LEN);
	memcpy(k->rx_secret, rx, CTLKEYS_SECRET_LEN);
	k->update = update;
	if (seal_key_init(&k->tx, 1, tx, tx + FUNNEL_KEY_LEN, 0,
			  CTLKEYS_HARD_LIMIT))
		goto err;
	if (seal_rx_init(&k->rx, 1, rx, rx + FUNNEL_KEY_LEN, true)) {
		seal_key_free(&k->tx);
		goto err;
	}
	return 0;
err:
	OPENSSL_cleanse(k, sizeof(*k));
	return -1;
}

void ctlkeys_free(struct ctlkeys *k)
{
	seal_key_free(&k->tx);
	seal_rx_free(&k->rx);
	OPENSSL_cleanse(k, sizeof(*k));
}

/* The next generation for sealing, in place of this one.  0 or -1. */
static int tx_update(struct ctlkeys *k)
{
	uint8_t secret[CTLKEYS_SECRET_LEN];
	struct seal_key next;
	int ret = -1;

	/* nothing changes unless all of it worked: a retry derives the
	 * same generation
	 */
	memcpy(secret, k->tx_secret, sizeof(secret));
	if (!ctlkeys_next(secret) &&
	    !seal_key_init(&next, k->tx.id + 1, secret,
			   secret + FUNNEL_KEY_LEN, 0, CTLKEYS_HARD_LIMIT)) {
		seal_key_free(&k->tx);
		k->tx = next;
		memcpy(k->tx_secret, secret, sizeof(secret));
		ret = 0;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	return ret;
}

int ctlkeys_seal(struct ctlkeys *k, const uint8_t hdr[FUNNEL_HDR_LEN],
		 const uint8_t *payload, size_t len, uint8_t *out,
		 size_t outcap)
{
	/* next is the counter of the frame to seal: update past `update` */
	if (k->tx.next > k->update && tx_update(k))
		return -ENOKEY;
	return seal_frame(&k->tx, hdr, payload, len, out, outcap, NULL);
}

enum seal_verdict ctlkeys_open(struct ctlkeys *k, const uint8_t *frame,
			       size_t len, uint8_t *out, size_t outcap,
			       size_t *outlen)
{
	uint8_t secret[CTLKEYS_SECRET_LEN];
	enum seal_verdict v;
	struct seal_rx next;

	v = seal_open(&k->rx, frame, len, out, outcap, outlen);
	/* the other phase: the sender's next generation, whose first
	 * frame has counter 1 (checked before any key is derived), or
	 * nothing
	 */
	if (v != SEAL_NO_KEY || len < FUNNEL_HDR_LEN + FUNNEL_SEAL_CTR_LEN ||
	    !(frame[3] & FUNNEL_F_SEALED) ||
	    !!(frame[3] & FUNNEL_F_KEY_PHASE) == (k->rx.id & 1))
		return v;
	for (int i = 0; i < FUNNEL_SEAL_CTR_LEN; i++)
		if (frame[FUNNEL_HDR_LEN + i] != (i == FUNNEL_SEAL_CTR_LEN - 1))
			return SEAL_REPLAY;
	memcpy(secret, k->rx_secret, sizeof(secret));
	if (ctlkeys_next(secret) ||
	    seal_rx_init(&next, k->rx.id + 1, secret, secret + FUNNEL_KEY_LEN,
			 true)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return SEAL_NO_KEY;
	}
	v = seal_open(&next, frame, len, out, outcap, outlen);
	if (v == SEAL_OK) {
		seal_rx_free(&k->rx);
		k->rx = next;
		memcpy(k->rx_secret, secret, sizeof(secret));
	} else {
		seal_rx_free(&next);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	return v;
}
