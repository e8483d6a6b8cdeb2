// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of frame sealing (ctl/funneld/sec/seal.c) against wire-format.md
 * section 9: known answers, round trips, tampering, replay windows,
 * limits and key phases.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "funneld/sec/ctlkeys.h"
#include "funneld/sec/seal.h"

#define FRAME_MAX	(FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD + \
			 FUNNEL_MAX_SEALED_PAYLOAD)

static uint8_t frame[FRAME_MAX];
static uint8_t frame2[FRAME_MAX];
static uint8_t payload[FUNNEL_MAX_SEALED_PAYLOAD + 1];
static uint8_t plain[FUNNEL_MAX_SEALED_PAYLOAD];

/* GCM specification (McGrew, Viega), test case 16: AES-256, 60 bytes. */
static const uint8_t tc16_key[32] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
	0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
	0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
};

static const uint8_t tc16_iv[12] = {
	0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad,
	0xde, 0xca, 0xf8, 0x88,
};

static const uint8_t tc16_aad[20] = {
	0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef,
	0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef,
	0xab, 0xad, 0xda, 0xd2,
};

static const uint8_t tc16_pt[60] = {
	0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5,
	0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26, 0x9a,
	0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda,
	0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72,
	0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53,
	0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
	0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57,
	0xba, 0x63, 0x7b, 0x39,
};

static const uint8_t tc16_ct[60] = {
	0x52, 0x2d, 0xc1, 0xf0, 0x99, 0x56, 0x7d, 0x07,
	0xf4, 0x7f, 0x37, 0xa3, 0x2a, 0x84, 0x42, 0x7d,
	0x64, 0x3a, 0x8c, 0xdc, 0xbf, 0xe5, 0xc0, 0xc9,
	0x75, 0x98, 0xa2, 0xbd, 0x25, 0x55, 0xd1, 0xaa,
	0x8c, 0xb0, 0x8e, 0x48, 0x59, 0x0d, 0xbb, 0x3d,
	0xa7, 0xb0, 0x8b, 0x10, 0x56, 0x82, 0x88, 0x38,
	0xc5, 0xf6, 0x1e, 0x63, 0x93, 0xba, 0x7a, 0x0a,
	0xbc, 0xc9, 0xf6, 0x62,
};

static const uint8_t tc16_tag[16] = {
	0x76, 0xfc, 0x6e, 0xce, 0x0f, 0x4e, 0x17, 0x68,
	0xcd, 0xdf, 0x88, 0x53, 0xbb, 0x2d, 0x55, 0x1b,
};

/*
 * Test case 16's key, plaintext and nonce carried by a frame: salt
 * cafebabe, counter facedbaddecaf888, key id 3, header stream 0x1234,
 * DATA, U, flow 0xdeadbeef.  The ciphertext is test case 16's (it does
 * not depend on the AAD); the tag, over AAD = sealed header || counter,
 * was computed once with Python's "cryptography" AESGCM.
 */
static const uint8_t tc16_frame_hdr[8] = {
	0x12, 0x34, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
};

static const uint8_t tc16_frame_aad[16] = {
	0x12, 0x34, 0x00, 0x07, 0xde, 0xad, 0xbe, 0xef,
	0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88,
};

static const uint8_t tc16_frame_tag[16] = {
	0xd4, 0xf8, 0xb0, 0xe5, 0x73, 0xde, 0x02, 0xcb,
	0x22, 0xbc, 0xe0, 0xd3, 0x15, 0xd5, 0x73, 0xb3,
};

/* wire-format.md section 14: "hello" on stream 5, key id 1, counter 1. */
static const uint8_t ex_key[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static const uint8_t ex_salt[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };

static const uint8_t ex_hdr[8] = {
	0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
};

static const uint8_t ex_frame[37] = {
	0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xd8, 0xca, 0xd4, 0xe2, 0x03,
	0xcd, 0x03, 0x66, 0x56, 0xfe, 0x8b, 0xa1, 0x24,
	0x5d, 0xc8, 0xab, 0xd6, 0xd1, 0x3f, 0xcc, 0xbf,
};

/* ---- helpers ---- */

/* One-shot AES-256-GCM encryption with EVP, independent of seal.c. */
static void ref_gcm(const uint8_t *key, const uint8_t *iv,
		    const uint8_t *aad, int aadlen, const uint8_t *pt, int len,
		    uint8_t *ct, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, fin;

	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL,
					    key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, aadlen), 1);
	n = 0;
	if (len)
		assert_int_equal(EVP_EncryptUpdate(ctx, ct, &n, pt, len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, ct + n, &fin), 1);
	assert_int_equal(n + fin, len);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
					     tag), 1);
	EVP_CIPHER_CTX_free(ctx);
}

/* Header of an unsealed DATA frame. */
static void mkhdr(uint8_t hdr[8], uint16_t stream, uint8_t flags,
		  uint32_t flow)
{
	hdr[0] = (uint8_t)(stream >> 8);
	hdr[1] = (uint8_t)stream;
	hdr[2] = FUNNEL_T_DATA;
	hdr[3] = flags;
	hdr[4] = (uint8_t)(flow >> 24);
	hdr[5] = (uint8_t)(flow >> 16);
	hdr[6] = (uint8_t)(flow >> 8);
	hdr[7] = (uint8_t)flow;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* The test key of generation id: the example's key for id 1. */
static const uint8_t *key_of(uint32_t id)
{
	static uint8_t key[32];

	memcpy(key, ex_key, sizeof(key));
	key[0] ^= (uint8_t)(id - 1);
	key[1] ^= (uint8_t)((id - 1) >> 8);
	return key;
}

static void tx_init(struct seal_key *k, uint32_t id)
{
	assert_int_equal(seal_key_init(k, id, key_of(id), ex_salt, 0,
				       UINT64_MAX), 0);
}

static void rx_init(struct seal_rx *rx, uint32_t id, bool ordered)
{
	assert_int_equal(seal_rx_init(rx, id, key_of(id), ex_salt, ordered),
			 0);
}

/* Seal len bytes of payload[] with counter ctr into buf; its length. */
static size_t seal_at(struct seal_key *k, uint64_t ctr, size_t len,
		      uint8_t *buf)
{
	uint8_t hdr[8];
	int n;

	mkhdr(hdr, 9, FUNNEL_F_UNORDERED, 77);
	k->next = ctr;
	n = seal_frame(k, hdr, payload, len, buf, FRAME_MAX, NULL);
	assert_int_equal(n, (int)(len + 32));
	return (size_t)n;
}

static enum seal_verdict open_(struct seal_rx *rx, const uint8_t *f,
			       size_t len)
{
	size_t outlen = 12345;
	enum seal_verdict v;

	v = seal_open(rx, f, len, plain, sizeof(plain), &outlen);
	if (v != SEAL_OK)
		assert_int_equal(outlen, 0);
	else
		assert_int_equal(outlen, len - 32);
	return v;
}

/* Open a frame sealed with counter ctr by k (payload 16 bytes). */
static enum seal_verdict open_ctr(struct seal_key *k, struct seal_rx *rx,
				  uint64_t ctr)
{
	size_t n = seal_at(k, ctr, 16, frame2);

	return open_(rx, frame2, n);
}

/* ---- known answers ---- */

/* The reference EVP path reproduces the published test case 16. */
static void test_evp_tc16(void **state)
{
	uint8_t ct[60], tag[16];

	(void)state;
	ref_gcm(tc16_key, tc16_iv, tc16_aad, sizeof(tc16_aad), tc16_pt, 60,
		ct, tag);
	assert_memory_equal(ct, tc16_ct, 60);
	assert_memory_equal(tag, tc16_tag, 16);
}

/* salt || counter is the nonce, header || counter the AAD. */
static void test_tc16_frame_layout(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	uint8_t tag[16], ct[60];
	size_t outlen;
	int n;

	(void)state;
	assert_int_equal(seal_key_init(&k, 3, tc16_key, tc16_iv, 0,
				       UINT64_MAX), 0);
	k.next = 0xfacedbaddecaf888ULL;
	n = seal_frame(&k, tc16_frame_hdr, tc16_pt, 60, frame, FRAME_MAX,
		       NULL);
	assert_int_equal(n, 8 + 8 + 60 + 16);
	assert_memory_equal(frame, tc16_frame_aad, 16);
	assert_memory_equal(frame + 16, tc16_ct, 60);
	assert_memory_equal(frame + 76, tc16_frame_tag, 16);
	/* the same through the reference path, AAD = first 16 bytes */
	ref_gcm(tc16_key, tc16_iv, frame, 16, tc16_pt, 60, ct, tag);
	assert_memory_equal(ct, tc16_ct, 60);
	assert_memory_equal(tag, tc16_frame_tag, 16);
	assert_int_equal(k.next, 0xfacedbaddecaf889ULL);

	assert_int_equal(seal_rx_init(&rx, 3, tc16_key, tc16_iv, false), 0);
	assert_int_equal(seal_open(&rx, frame, (size_t)n, plain,
				   sizeof(plain), &outlen), SEAL_OK);
	assert_int_equal(outlen, 60);
	assert_memory_equal(plain, tc16_pt, 60);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/* The example of wire-format.md section 14, byte for byte. */
static void test_wire_example(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	size_t outlen;
	bool soft;
	int n;

	(void)state;
	assert_int_equal(seal_key_init(&k, 1, ex_key, ex_salt, 0, 10), 0);
	n = seal_frame(&k, ex_hdr, (const uint8_t *)"hello", 5, frame,
		       FRAME_MAX, &soft);
	assert_int_equal(n, sizeof(ex_frame));
	assert_false(soft);
	assert_memory_equal(frame, ex_frame, sizeof(ex_frame));

	rx_init(&rx, 1, false);
	assert_int_equal(seal_open(&rx, ex_frame, sizeof(ex_frame), plain,
				   sizeof(plain), &outlen), SEAL_OK);
	assert_int_equal(outlen, 5);
	assert_memory_equal(plain, "hello", 5);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/* ---- round trips and arguments ---- */

static void roundtrip(size_t len, bool ordered)
{
	struct seal_key k;
	struct seal_rx rx;
	uint8_t hdr[8];
	size_t outlen;
	int n;

	tx_init(&k, 6);
	rx_init(&rx, 6, ordered);
	fill(payload, len, (uint32_t)len);
	mkhdr(hdr, 65535, ordered ? 0 : FUNNEL_F_UNORDERED, 0xffffffff);
	for (uint64_t c = 1; c <= 3; c++) {
		n = seal_frame(&k, hdr, payload, len, frame, FRAME_MAX, NULL);
		assert_int_equal(n, (int)(len + 32));
		assert_memory_equal(frame, hdr, 3);
		assert_int_equal(frame[3], hdr[3] | FUNNEL_F_SEALED);
		assert_memory_equal(frame + 4, hdr + 4, 4);
		assert_int_equal(frame[15], c);
		memset(plain, 0x5a, sizeof(plain));
		assert_int_equal(seal_open(&rx, frame, (size_t)n, plain,
					   len, &outlen), SEAL_OK);
		assert_int_equal(outlen, len);
		assert_memory_equal(plain, payload, len);
	}
	assert_int_equal(open_(&rx, frame, (size_t)n), SEAL_REPLAY);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

static void test_roundtrip_sizes(void **state)
{
	static const size_t sizes[] = {
		0, 1, 15, 16, 17, 1000, FUNNEL_MAX_SEALED_PAYLOAD,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(sizes[i], false);
		roundtrip(sizes[i], true);
	}
	assert_int_equal(FRAME_MAX, FUNNEL_MAX_FRAME);
}

/* Sealing and opening in place: payload and plaintext at frame + 16. */
static void test_in_place(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	uint8_t hdr[8];
	size_t outlen;
	int n;

	(void)state;
	tx_init(&k, 2);
	rx_init(&rx, 2, false);
	mkhdr(hdr, 1, 0, 1);
	fill(payload, 3000, 3);
	memcpy(frame + 16, payload, 3000);
	n = seal_frame(&k, hdr, frame + 16, 3000, frame, FRAME_MAX, NULL);
	assert_int_equal(n, 3032);
	k.next = 1;
	assert_int_equal(seal_frame(&k, hdr, payload, 3000, frame2, FRAME_MAX,
				    NULL), 3032);
	assert_memory_equal(frame, frame2, 3032);

	assert_int_equal(seal_open(&rx, frame, 3032, frame + 16, 3000,
				   &outlen), SEAL_OK);
	assert_int_equal(outlen, 3000);
	assert_memory_equal(frame + 16, payload, 3000);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

static void test_seal_refuses(void **state)
{
	static const uint8_t bad_flags[] = {
		FUNNEL_F_SEALED, FUNNEL_F_KEY_PHASE, FUNNEL_F_RESET, 0x10, 0x80,
		FUNNEL_F_SEALED | FUNNEL_F_UNORDERED,
	};
	struct seal_key k;
	uint8_t hdr[8];
	bool soft = true;

	(void)state;
	tx_init(&k, 1);
	for (size_t i = 0; i < sizeof(bad_flags); i++) {
		mkhdr(hdr, 1, bad_flags[i], 1);
		assert_int_equal(seal_frame(&k, hdr, payload, 1, frame,
					    FRAME_MAX, &soft), -EINVAL);
		assert_false(soft);
	}
	mkhdr(hdr, 0, 0, 1);
	assert_int_equal(seal_frame(&k, hdr, payload, 1, frame, FRAME_MAX,
				    NULL), -EINVAL);
	mkhdr(hdr, 1, 0, 1);
	for (uint8_t t = FUNNEL_T_CTRL; t <= 3; t++) {
		hdr[2] = t;
		assert_int_equal(seal_frame(&k, hdr, payload, 1, frame,
					    FRAME_MAX, NULL), -EINVAL);
	}
	/* FLOW_END: sealed, but its plaintext is empty */
	hdr[2] = FUNNEL_T_FLOW_END;
	assert_int_equal(k.next, 1);
	assert_int_equal(seal_frame(&k, hdr, payload, 0, frame, FRAME_MAX,
				    NULL), 32);
	k.next = 1;
	hdr[2] = FUNNEL_T_DATA;
	assert_int_equal(seal_frame(&k, hdr, payload,
				    FUNNEL_MAX_SEALED_PAYLOAD + 1, frame,
				    sizeof(frame) + 1, NULL), -EMSGSIZE);
	assert_int_equal(seal_frame(&k, hdr, payload, 10, frame, 41, NULL),
			 -EMSGSIZE);
	assert_int_equal(k.next, 1);
	assert_int_equal(seal_frame(&k, hdr, payload, 10, frame, 42, NULL),
			 42);
	assert_int_equal(k.next, 2);
	seal_key_free(&k);
}

static void test_open_malformed(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	size_t n, outlen = 7;

	(void)state;
	tx_init(&k, 1);
	rx_init(&rx, 1, false);
	n = seal_at(&k, 1, 0, frame);
	assert_int_equal(n, 32);
	/* every truncation: short body, or the tag is not where it was */
	for (size_t len = 0; len < n; len++)
		assert_int_equal(open_(&rx, frame, len), SEAL_MALFORMED);
	n = seal_at(&k, 2, 100, frame);
	for (size_t len = 32; len < n; len++)
		assert_int_equal(open_(&rx, frame, len), SEAL_AUTH);
	/* longer than a frame can be */
	assert_int_equal(open_(&rx, frame, FUNNEL_MAX_FRAME + 1),
			 SEAL_MALFORMED);
	/* plaintext does not fit */
	assert_int_equal(seal_open(&rx, frame, n, plain, 99, &outlen),
			 SEAL_MALFORMED);
	assert_int_equal(outlen, 0);
	assert_int_equal(open_(&rx, frame, n), SEAL_OK);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/* ---- tampering ---- */

/* Expected verdict for frame with bit i (0 = MSB of byte 0) flipped. */
static enum seal_verdict flip_verdict(const uint8_t *orig, size_t n,
				      size_t bit)
{
	size_t byte = bit / 8;
	uint8_t mask = (uint8_t)(0x80 >> (bit % 8));

	/* type: not DATA; FLOW_END only with an empty plaintext */
	if (byte == 2)
		return (orig[2] ^ mask) == FUNNEL_T_FLOW_END && n == 32 ?
		       SEAL_AUTH : SEAL_MALFORMED;
	if (byte == 3 && (mask & (FUNNEL_F_RESERVED | FUNNEL_F_RESET)))
		return SEAL_MALFORMED;	/* R on DATA too */
	if (byte == 3 && (mask & (FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE)))
		return SEAL_NO_KEY;
	if (byte >= 8 && byte < 16) {		/* counter */
		uint64_t c = 0;

		for (int j = 8; j < 16; j++)
			c = c << 8 | (j == (int)byte ? orig[j] ^ mask : orig[j]);
		if (c == 0)
			return SEAL_REPLAY;
	}
	return SEAL_AUTH;
}

static void check_flips(struct seal_key *k, uint64_t ctr, size_t len)
{
	struct seal_rx rx;
	size_t n, outlen;
	enum seal_verdict v, want;

	rx_init(&rx, k->id, false);
	fill(payload, len, 99);
	n = seal_at(k, ctr, len, frame);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(frame2, frame, n);
		frame2[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		memset(plain, 0xa5, len);
		v = seal_open(&rx, frame2, n, plain, len, &outlen);
		want = flip_verdict(frame, n, bit);
		assert_int_equal(v, want);
		assert_int_equal(outlen, 0);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(plain[i], v == SEAL_AUTH ? 0 : 0xa5);
	}
	/* nothing of that changed the replay state */
	assert_int_equal(rx.top, 0);
	assert_int_equal(open_(&rx, frame, n), SEAL_OK);
	assert_memory_equal(plain, payload, len);
	seal_rx_free(&rx);
}

/* Every flipped bit of header, counter, ciphertext and tag is refused. */
static void test_bit_flips(void **state)
{
	struct seal_key k;

	(void)state;
	tx_init(&k, 5);
	check_flips(&k, 1, 0);
	check_flips(&k, 1, 41);
	check_flips(&k, 0x8000000000000000ULL, 17);	/* flip to 0 */
	check_flips(&k, 0x0102030405060708ULL, 64);
	seal_key_free(&k);
}

/* ---- replay ---- */

/* A frame with counter 0 and a valid tag, made by the reference path. */
static size_t counter_zero_frame(uint8_t *buf)
{
	uint8_t nonce[12] = { 0 };

	mkhdr(buf, 9, FUNNEL_F_UNORDERED | FUNNEL_F_SEALED |
	      FUNNEL_F_KEY_PHASE, 77);
	memset(buf + 8, 0, 8);
	memcpy(nonce, ex_salt, 4);
	fill(payload, 16, 0);
	ref_gcm(ex_key, nonce, buf, 16, payload, 16, buf + 16, buf + 32);
	return 48;
}

static void test_replay_unordered(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	size_t n;

	(void)state;
	tx_init(&k, 1);
	rx_init(&rx, 1, false);
	n = counter_zero_frame(frame);
	assert_int_equal(open_(&rx, frame, n), SEAL_REPLAY);
	/* the same bytes with counter 1 and a fresh tag: accepted */
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_REPLAY);
	assert_int_equal(open_(&rx, frame, n), SEAL_REPLAY);

	assert_int_equal(open_ctr(&k, &rx, 2000), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 977), SEAL_OK);	/* H - 1023 */
	assert_int_equal(open_ctr(&k, &rx, 977), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 976), SEAL_REPLAY);	/* H - 1024 */
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 1500), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 1500), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 1999), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 2000), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 2001), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 977), SEAL_REPLAY);	/* now old */
	assert_int_equal(open_ctr(&k, &rx, 978), SEAL_OK);	/* H - 1023 */

	/* a jump past the whole window forgets everything before it */
	assert_int_equal(open_ctr(&k, &rx, 100000), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 100000 - 1023), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 100000 - 1024), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 100000 - 500), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 100000 - 500), SEAL_REPLAY);

	/* the top of the counter space */
	assert_int_equal(open_ctr(&k, &rx, UINT64_MAX), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, UINT64_MAX), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, UINT64_MAX - 1023), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, UINT64_MAX - 1024), SEAL_REPLAY);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/* A small advance keeps the counters still in the window, bit by bit. */
static void test_replay_window_edges(void **state)
{
	struct seal_key k;
	struct seal_rx rx;

	(void)state;
	tx_init(&k, 1);
	rx_init(&rx, 1, false);
	for (uint64_t c = 1; c <= 1024; c++)
		assert_int_equal(open_ctr(&k, &rx, c), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 1025), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_REPLAY);	/* too old */
	assert_int_equal(open_ctr(&k, &rx, 2), SEAL_REPLAY);	/* duplicate */
	assert_int_equal(open_ctr(&k, &rx, 1030), SEAL_OK);	/* skips 4 */
	assert_int_equal(open_ctr(&k, &rx, 6), SEAL_REPLAY);	/* too old */
	assert_int_equal(open_ctr(&k, &rx, 7), SEAL_REPLAY);	/* duplicate */
	for (uint64_t c = 1026; c < 1030; c++) {
		assert_int_equal(open_ctr(&k, &rx, c), SEAL_OK);
		assert_int_equal(open_ctr(&k, &rx, c), SEAL_REPLAY);
	}
	for (uint64_t c = 7; c <= 1030; c++)
		assert_int_equal(open_ctr(&k, &rx, c), SEAL_REPLAY);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The window against a literal model of section 9.3, without the cipher. */
static void test_replay_model(void **state)
{
	enum { SPAN = 1 << 16 };
	static uint8_t seen[SPAN];
	struct seal_rx rx;
	uint64_t top = 0, c, r;
	bool want;

	(void)state;
	rx_init(&rx, 0, false);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 300000; i++) {
		r = next_rand();
		switch (r % 8) {
		case 0:			/* jump ahead */
			c = top + 1 + (r >> 8) % 1500;
			break;
		case 1:			/* anywhere */
			c = (r >> 8) % SPAN;
			break;
		default:		/* around the window's edge */
			c = top + 1 - (r >> 8) % 1100;
			break;
		}
		if (c >= SPAN - 1 || c > top + 2000)
			continue;
		want = c && (c > top || (top - c < 1024 && !seen[c]));
		assert_int_equal(seal_replay_ok(&rx, c), want);
		if (!want || r >> 62 == 0)	/* also: tag fails, no update */
			continue;
		seal_replay_update(&rx, c);
		seen[c] = 1;
		if (c > top)
			top = c;
		assert_int_equal(rx.top, top);
	}
	assert_true(top > 10000);
	seal_rx_free(&rx);
}

static void test_replay_ordered(void **state)
{
	struct seal_key k;
	struct seal_rx rx;

	(void)state;
	tx_init(&k, 1);
	rx_init(&rx, 1, true);
	assert_int_equal(open_(&rx, frame, counter_zero_frame(frame)),
			 SEAL_REPLAY);
	/* the first frame of a key is counter 1, not a later one */
	assert_int_equal(open_ctr(&k, &rx, 2), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_REPLAY);
	/* a frame deleted on the way (2 missing): refused */
	assert_int_equal(open_ctr(&k, &rx, 3), SEAL_REPLAY);
	assert_int_equal(rx.top, 1);
	assert_int_equal(open_ctr(&k, &rx, 2), SEAL_OK);
	/* reordered: 4 before 3 */
	assert_int_equal(open_ctr(&k, &rx, 4), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 3), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 3), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 5000), SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 4), SEAL_OK);
	assert_int_equal(rx.top, 4);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/*
 * An unordered plugin stream's key (seal_rx_no_window()): no window, any
 * counter but 0 (replay is the data path's); the tag is still checked.
 */
static void test_replay_no_window(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	size_t n;

	(void)state;
	tx_init(&k, 1);
	rx_init(&rx, 1, false);
	seal_rx_no_window(&rx);
	assert_int_equal(open_(&rx, frame, counter_zero_frame(frame)),
			 SEAL_REPLAY);
	assert_int_equal(open_ctr(&k, &rx, 5000), SEAL_OK);
	/* far more than 1024 below the highest: accepted */
	assert_int_equal(open_ctr(&k, &rx, 1), SEAL_OK);
	assert_int_equal(open_ctr(&k, &rx, 3000), SEAL_OK);
	/* the same counter again: not the key's to refuse */
	assert_int_equal(open_ctr(&k, &rx, 3000), SEAL_OK);
	n = seal_at(&k, 7, 16, frame);
	frame[n - 1] ^= 1;
	assert_int_equal(open_(&rx, frame, n), SEAL_AUTH);
	frame[n - 1] ^= 1;
	assert_int_equal(open_(&rx, frame, n), SEAL_OK);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/* Replay checked before the tag; state changed only after the tag. */
static void test_replay_vs_auth(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	size_t n;

	(void)state;
	tx_init(&k, 1);
	for (int ordered = 0; ordered < 2; ordered++) {
		/* ordered: 1 is the next counter, 10 for unordered */
		uint64_t c0 = ordered ? 1 : 10;

		rx_init(&rx, 1, ordered);
		n = seal_at(&k, c0, 16, frame);
		frame[n - 1] ^= 1;
		assert_int_equal(open_(&rx, frame, n), SEAL_AUTH);
		assert_int_equal(open_(&rx, frame, n), SEAL_AUTH);
		frame[n - 1] ^= 1;
		assert_int_equal(open_(&rx, frame, n), SEAL_OK);
		frame[n - 1] ^= 1;	/* replayed and forged: replay first */
		assert_int_equal(open_(&rx, frame, n), SEAL_REPLAY);
		/* a forged higher counter does not move the window */
		n = seal_at(&k, ordered ? c0 + 1 : 5000, 16, frame);
		frame[20] ^= 0x40;
		assert_int_equal(open_(&rx, frame, n), SEAL_AUTH);
		assert_int_equal(open_ctr(&k, &rx, c0 + 1), SEAL_OK);
		seal_rx_free(&rx);
	}
	seal_key_free(&k);
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	struct seal_key k;
	uint8_t hdr[8];
	bool soft;
	int hits = 0;

	(void)state;
	mkhdr(hdr, 1, 0, 1);
	assert_int_equal(seal_key_init(&k, 1, ex_key, ex_salt, 3, 5), 0);
	for (uint64_t c = 1; c <= 5; c++) {
		soft = true;
		assert_int_equal(seal_frame(&k, hdr, payload, 8, frame,
					    FRAME_MAX, &soft), 40);
		assert_int_equal(frame[15], c);
		assert_int_equal(soft, c == 3);
		hits += soft;
	}
	assert_int_equal(hits, 1);
	for (int i = 0; i < 3; i++) {
		soft = true;
		assert_int_equal(seal_frame(&k, hdr, payload, 8, frame,
					    FRAME_MAX, &soft), -ENOKEY);
		assert_false(soft);
	}
	seal_key_free(&k);

	/* soft limit 0: never; hard limit 0: nothing sealed */
	assert_int_equal(seal_key_init(&k, 1, ex_key, ex_salt, 0, 0), 0);
	assert_int_equal(seal_frame(&k, hdr, payload, 8, frame, FRAME_MAX,
				    &soft), -ENOKEY);
	seal_key_free(&k);
	assert_int_equal(seal_key_init(&k, 1, ex_key, ex_salt, 0, 100), 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(seal_frame(&k, hdr, payload, 0, frame,
					    FRAME_MAX, &soft), 32);
		assert_false(soft);
	}
	assert_int_equal(seal_frame(&k, hdr, payload, 0, frame, FRAME_MAX,
				    &soft), -ENOKEY);
	seal_key_free(&k);

	/* the last counter is sealed once, never wraps to 0 */
	assert_int_equal(seal_key_init(&k, 1, ex_key, ex_salt, UINT64_MAX,
				       UINT64_MAX), 0);
	k.next = UINT64_MAX;
	assert_int_equal(seal_frame(&k, hdr, payload, 0, frame, FRAME_MAX,
				    &soft), 32);
	assert_true(soft);
	for (int i = 8; i < 16; i++)
		assert_int_equal(frame[i], 0xff);
	assert_int_equal(seal_frame(&k, hdr, payload, 0, frame, FRAME_MAX,
				    &soft), -ENOKEY);
	assert_false(soft);
	seal_key_free(&k);
}

/* ---- key phase ---- */

static void test_key_phase(void **state)
{
	struct seal_key k;
	uint8_t hdr[8];

	(void)state;
	for (uint32_t id = 0; id < 6; id++) {
		for (uint8_t u = 0; u <= FUNNEL_F_UNORDERED; u++) {
			tx_init(&k, id);
			mkhdr(hdr, 1, u, 1);
			assert_int_equal(seal_frame(&k, hdr, payload, 1,
						    frame, FRAME_MAX, NULL),
					 33);
			assert_int_equal(frame[3], FUNNEL_F_SEALED | u |
					 (id & 1 ? FUNNEL_F_KEY_PHASE : 0));
			seal_key_free(&k);
		}
	}
	tx_init(&k, 0xffffffff);
	mkhdr(hdr, 1, 0, 1);
	assert_int_equal(seal_frame(&k, hdr, payload, 1, frame, FRAME_MAX,
				    NULL), 33);
	assert_int_equal(frame[3], FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE);
	seal_key_free(&k);
}

/* Seal with k, pick the rx key from slot by K and open with it. */
static enum seal_verdict pick_open(struct seal_key *k,
				   struct seal_rx *const slot[2],
				   struct seal_rx **picked)
{
	uint8_t hdr[8];
	int n;

	mkhdr(hdr, 4, FUNNEL_F_UNORDERED, 1);
	fill(payload, 20, k->id);
	n = seal_frame(k, hdr, payload, 20, frame, FRAME_MAX, NULL);
	assert_int_equal(n, 52);
	*picked = seal_rx_pick(slot, frame[3]);
	if (!*picked)
		return SEAL_NO_KEY;
	return open_(*picked, frame, (size_t)n);
}

/* A rekey: the new key installed first, then used, then the old removed. */
static void test_key_swap(void **state)
{
	struct seal_key k1, k2, k3;
	struct seal_rx r1, r2, r3, *got;
	struct seal_rx *slot[2] = { NULL, NULL };

	(void)state;
	tx_init(&k1, 1);
	tx_init(&k2, 2);
	tx_init(&k3, 3);
	rx_init(&r1, 1, false);
	rx_init(&r2, 2, false);
	rx_init(&r3, 3, false);

	assert_int_equal(pick_open(&k1, slot, &got), SEAL_NO_KEY);
	slot[FUNNEL_KEY_SLOT_PRIMARY] = &r1;
	assert_int_equal(pick_open(&k1, slot, &got), SEAL_OK);
	assert_ptr_equal(got, &r1);
	assert_int_equal(pick_open(&k2, slot, &got), SEAL_NO_KEY);
	assert_null(got);

	slot[FUNNEL_KEY_SLOT_SECONDARY] = &r2;	/* key-new */
	assert_int_equal(pick_open(&k1, slot, &got), SEAL_OK);
	assert_ptr_equal(got, &r1);
	/* the peer swaps; a new key starts with empty replay state */
	assert_int_equal(pick_open(&k2, slot, &got), SEAL_OK);
	assert_ptr_equal(got, &r2);
	assert_int_equal(r1.top, 3);
	assert_int_equal(r2.top, 2);	/* below r1's: its own state */
	assert_int_equal(pick_open(&k1, slot, &got), SEAL_OK);	/* late */
	assert_ptr_equal(got, &r1);
	assert_int_equal(pick_open(&k2, slot, &got), SEAL_OK);

	slot[FUNNEL_KEY_SLOT_PRIMARY] = &r2;	/* key-swap, key-del */
	slot[FUNNEL_KEY_SLOT_SECONDARY] = NULL;
	assert_int_equal(pick_open(&k1, slot, &got), SEAL_NO_KEY);
	assert_int_equal(pick_open(&k2, slot, &got), SEAL_OK);
	assert_ptr_equal(got, &r2);

	slot[FUNNEL_KEY_SLOT_SECONDARY] = &r3;	/* next generation, K = 1 */
	assert_int_equal(pick_open(&k3, slot, &got), SEAL_OK);
	assert_ptr_equal(got, &r3);
	/* a frame of the deleted key 1 has K = 1 too: key 3 refuses it */
	assert_int_equal(pick_open(&k1, slot, &got), SEAL_AUTH);
	assert_ptr_equal(got, &r3);

	/* S clear: no key; the wrong phase given to seal_open directly */
	assert_null(seal_rx_pick(slot, FUNNEL_F_KEY_PHASE));
	assert_null(seal_rx_pick(slot, 0));
	assert_int_equal(pick_open(&k2, slot, &got), SEAL_OK);
	assert_int_equal(open_(&r3, frame, 52), SEAL_NO_KEY);
	frame[3] &= (uint8_t)~FUNNEL_F_SEALED;
	assert_int_equal(open_(&r2, frame, 52), SEAL_NO_KEY);

	seal_rx_free(&r1);
	seal_rx_free(&r2);
	seal_rx_free(&r3);
	seal_key_free(&k1);
	seal_key_free(&k2);
	seal_key_free(&k3);
}

/* Different salts or keys per direction: nothing opens across them. */
static void test_wrong_key_or_salt(void **state)
{
	static const uint8_t salt2[4] = { 0xa0, 0xa1, 0xa2, 0xa2 };
	uint8_t key2[32];
	struct seal_key k;
	struct seal_rx rx;
	size_t n;

	(void)state;
	tx_init(&k, 1);
	n = seal_at(&k, 1, 30, frame);
	assert_int_equal(seal_rx_init(&rx, 1, ex_key, salt2, false), 0);
	assert_int_equal(open_(&rx, frame, n), SEAL_AUTH);
	seal_rx_free(&rx);
	memcpy(key2, ex_key, 32);
	key2[31] ^= 1;
	assert_int_equal(seal_rx_init(&rx, 1, key2, ex_salt, false), 0);
	assert_int_equal(open_(&rx, frame, n), SEAL_AUTH);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/*
 * FLOW_END of an ordered stream: sealed with an empty plaintext, the
 * counter in line with DATA; R is in the AAD (added or removed: AUTH);
 * a FLOW_END with a plaintext or R on DATA is malformed.
 */
static void test_flow_end(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	uint8_t hdr[8];
	int n;

	(void)state;
	tx_init(&k, 3);
	rx_init(&rx, 3, true);
	mkhdr(hdr, 4, 0, 9);
	n = seal_frame(&k, hdr, payload, 10, frame, FRAME_MAX, NULL);
	assert_int_equal(open_(&rx, frame, (size_t)n), SEAL_OK);
	hdr[2] = FUNNEL_T_FLOW_END;
	hdr[3] = FUNNEL_F_RESET;
	n = seal_frame(&k, hdr, payload, 0, frame, FRAME_MAX, NULL);
	assert_int_equal(n, 32);
	assert_int_equal(frame[3], FUNNEL_F_RESET | FUNNEL_F_SEALED |
			 FUNNEL_F_KEY_PHASE);
	frame[3] ^= FUNNEL_F_RESET;	/* a reset turned into a FIN */
	assert_int_equal(open_(&rx, frame, 32), SEAL_AUTH);
	frame[3] ^= FUNNEL_F_RESET;
	assert_int_equal(open_(&rx, frame, 32), SEAL_OK);
	assert_int_equal(rx.top, 2);
	/* a plaintext in a FLOW_END: refused both ways */
	hdr[3] = 0;
	assert_int_equal(seal_frame(&k, hdr, payload, 1, frame, FRAME_MAX,
				    NULL), -EINVAL);
	n = seal_frame(&k, hdr, payload, 0, frame, FRAME_MAX, NULL);
	assert_int_equal(open_(&rx, frame, (size_t)n + 1), SEAL_MALFORMED);
	/* R on DATA */
	hdr[2] = FUNNEL_T_DATA;
	hdr[3] = FUNNEL_F_RESET;
	assert_int_equal(seal_frame(&k, hdr, payload, 1, frame, FRAME_MAX,
				    NULL), -EINVAL);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/*
 * The carrier's control messages: CTRL frames of stream 0 are sealed
 * (ordered, flow 0); CTRL of another stream is neither sealed nor opened.
 */
static void test_ctrl_stream0(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	uint8_t hdr[8];
	int n;

	(void)state;
	tx_init(&k, 1);
	rx_init(&rx, 1, true);
	mkhdr(hdr, 0, 0, 0);
	hdr[2] = FUNNEL_T_CTRL;
	fill(payload, 40, 7);
	n = seal_frame(&k, hdr, payload, 40, frame, FRAME_MAX, NULL);
	assert_int_equal(n, 40 + 32);
	assert_int_equal(open_(&rx, frame, (size_t)n), SEAL_OK);
	assert_memory_equal(plain, payload, 40);
	assert_int_equal(open_(&rx, frame, (size_t)n), SEAL_REPLAY);
	frame[1] = 4;		/* the same frame, said to be of stream 4 */
	assert_int_equal(open_(&rx, frame, (size_t)n), SEAL_MALFORMED);
	hdr[1] = 4;
	assert_int_equal(seal_frame(&k, hdr, payload, 40, frame, FRAME_MAX,
				    NULL), -EINVAL);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/*
 * A key that continues the counters of the one before it (ordered
 * streams): its first frame has the counter given, its soft and hard
 * limits count its own frames; a receiver that expects the counter after
 * the old key's last takes it.
 */
static void test_key_start_at(void **state)
{
	struct seal_key k;
	struct seal_rx rx;
	uint8_t hdr[8];
	bool soft;
	int n = 0;

	(void)state;
	assert_int_equal(seal_key_init(&k, 2, key_of(2), ex_salt, 3, 5), 0);
	seal_key_start_at(&k, 1000);
	rx_init(&rx, 2, true);
	rx.top = 999;		/* the old key's last counter */
	mkhdr(hdr, 1, 0, 1);
	for (int i = 0; i < 5; i++) {
		n = seal_frame(&k, hdr, payload, 10, frame, FRAME_MAX, &soft);
		assert_int_equal(n, 10 + 32);
		assert_true(soft == (i == 2));
		assert_int_equal(open_(&rx, frame, (size_t)n), SEAL_OK);
		assert_int_equal(rx.top, 1000 + (uint64_t)i);
	}
	assert_int_equal(seal_frame(&k, hdr, payload, 10, frame, FRAME_MAX,
				    &soft), -ENOKEY);
	seal_rx_free(&rx);
	seal_key_free(&k);
}

/* HKDF-Expand-SHA256(PRK 00 01 .. 1f, "funnel v2 stream 0 key update", 36) */
static const uint8_t ctl_next_kat[CTLKEYS_SECRET_LEN] = {
	0x67, 0xd3, 0x7c, 0xb6, 0x26, 0xb5, 0x03, 0xcf, 0x40, 0x40, 0x37, 0x4f,
	0xb0, 0x1e, 0x33, 0xe2, 0xc5, 0x59, 0xe1, 0xf8, 0x45, 0xd0, 0x47, 0x0e,
	0xd6, 0xcd, 0x29, 0xac, 0x6e, 0xad, 0x74, 0x16, 0x0d, 0x7f, 0xde, 0x63,
};

static void test_ctlkeys_next(void **state)
{
	uint8_t secret[CTLKEYS_SECRET_LEN];

	(void)state;
	for (int i = 0; i < CTLKEYS_SECRET_LEN; i++)
		secret[i] = (uint8_t)(i < FUNNEL_KEY_LEN ? i : 0xee);
	assert_int_equal(ctlkeys_next(secret), 0);
	assert_memory_equal(secret, ctl_next_kat, sizeof(secret));
}

/* One control message from a to b, sealed and opened: its verdict. */
static enum seal_verdict ctl_send(struct ctlkeys *a, struct ctlkeys *b,
				  uint32_t seed, size_t *n)
{
	uint8_t hdr[8];
	size_t got = 0;
	int len;

	mkhdr(hdr, 0, 0, 0);
	hdr[2] = FUNNEL_T_CTRL;
	fill(payload, 24, seed);
	len = ctlkeys_seal(a, hdr, payload, 24, frame, FRAME_MAX);
	assert_int_equal(len, 24 + 32);
	*n = (size_t)len;
	return ctlkeys_open(b, frame, (size_t)len, plain, sizeof(plain), &got);
}

/*
 * Keys of stream 0 renew themselves every `update` frames, each way on
 * its own: 21 messages one way and 7 the other with update 4 all open;
 * both ends went through the same generations.  A frame with its K flag
 * flipped (an update forged) fails and moves nothing; a frame of an old
 * generation fails.
 */
static void test_ctlkeys_update(void **state)
{
	uint8_t s1[CTLKEYS_SECRET_LEN], s2[CTLKEYS_SECRET_LEN];
	uint8_t old[FRAME_MAX];
	struct ctlkeys a, b;
	size_t n, oldn = 0, got;

	(void)state;
	fill(s1, sizeof(s1), 1);
	fill(s2, sizeof(s2), 2);
	assert_int_equal(ctlkeys_init(&a, s1, s2, 0), -1);
	assert_int_equal(ctlkeys_init(&a, s1, s2, 4), 0);
	assert_int_equal(ctlkeys_init(&b, s2, s1, 4), 0);
	for (uint32_t i = 1; i <= 21; i++) {
		assert_int_equal(ctl_send(&a, &b, i, &n), SEAL_OK);
		assert_memory_equal(plain, payload, 24);
		if (i == 2) {
			memcpy(old, frame, n);
			oldn = n;
		}
		if (i % 3 == 0)
			assert_int_equal(ctl_send(&b, &a, 100 + i, &n), SEAL_OK);
	}
	/* frames 1-4 generation 1, ..., 21 generation 6 */
	assert_int_equal(a.tx.id, 6);
	assert_int_equal(b.rx.id, 6);
	assert_int_equal(b.tx.id, 2);
	assert_int_equal(a.rx.id, 2);

	/* the next frame with its K flag flipped: refused, b stays */
	{
		uint8_t hdr[8];
		int len;

		mkhdr(hdr, 0, 0, 0);
		hdr[2] = FUNNEL_T_CTRL;
		len = ctlkeys_seal(&a, hdr, payload, 24, frame, FRAME_MAX);
		frame[3] ^= FUNNEL_F_KEY_PHASE;
		/* the next generation's key counts from 1: replay */
		assert_int_equal(ctlkeys_open(&b, frame, (size_t)len, plain,
					      sizeof(plain), &got), SEAL_REPLAY);
		assert_int_equal(b.rx.id, 6);
		frame[3] ^= FUNNEL_F_KEY_PHASE;
		assert_int_equal(ctlkeys_open(&b, frame, (size_t)len, plain,
					      sizeof(plain), &got), SEAL_OK);
	}
	/* the first frame of generation 7 with a bit of it changed */
	assert_int_equal(ctl_send(&a, &b, 50, &n), SEAL_OK);
	assert_int_equal(ctl_send(&a, &b, 51, &n), SEAL_OK);
	{
		uint8_t hdr[8];
		int len;

		mkhdr(hdr, 0, 0, 0);
		hdr[2] = FUNNEL_T_CTRL;
		len = ctlkeys_seal(&a, hdr, payload, 24, frame, FRAME_MAX);
		assert_int_equal(a.tx.id, 7);
		frame[20] ^= 1;
		assert_int_equal(ctlkeys_open(&b, frame, (size_t)len, plain,
					      sizeof(plain), &got), SEAL_AUTH);
		assert_int_equal(b.rx.id, 6);
	}
	/* generation 1's second frame again */
	assert_int_not_equal(ctlkeys_open(&b, old, oldn, plain, sizeof(plain),
					  &got), SEAL_OK);
	assert_int_equal(b.rx.id, 6);
	ctlkeys_free(&a);
	ctlkeys_free(&b);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(seal_verdict_name(SEAL_OK), "ok");
	assert_string_equal(seal_verdict_name(SEAL_MALFORMED),
			    "rx-drop-malformed");
	assert_string_equal(seal_verdict_name(SEAL_NO_KEY), "rx-drop-no-key");
	assert_string_equal(seal_verdict_name(SEAL_REPLAY), "rx-drop-replay");
	assert_string_equal(seal_verdict_name(SEAL_AUTH), "rx-drop-auth");
	assert_string_equal(seal_verdict_name((enum seal_verdict)99),
			    "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evp_tc16),
		cmocka_unit_test(test_tc16_frame_layout),
		cmocka_unit_test(test_wire_example),
		cmocka_unit_test(test_roundtrip_sizes),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_open_malformed),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_replay_unordered),
		cmocka_unit_test(test_replay_no_window),
		cmocka_unit_test(test_replay_window_edges),
		cmocka_unit_test(test_replay_model),
		cmocka_unit_test(test_replay_ordered),
		cmocka_unit_test(test_flow_end),
		cmocka_unit_test(test_ctrl_stream0),
		cmocka_unit_test(test_replay_vs_auth),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_key_phase),
		cmocka_unit_test(test_key_swap),
		cmocka_unit_test(test_wrong_key_or_salt),
		cmocka_unit_test(test_key_start_at),
		cmocka_unit_test(test_ctlkeys_next),
		cmocka_unit_test(test_ctlkeys_update),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
