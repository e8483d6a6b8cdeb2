// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed bodies (Documentation/wire-format.md section 9): AES-256-GCM,
 * nonce = salt || counter, AAD = the first 16 bytes of the frame (header
 * and counter), body = counter || ciphertext || tag.
 *
 * A key holds one synchronous "gcm(aes)" AEAD per direction, allocated
 * and keyed in process context by key-new.  The AEAD runs in place, over
 * an skb that is ours alone, through a scatterlist (skb_to_sgvec):
 *
 *  - sealing takes over the datagram's skb.  A linear skb is made
 *    private (pskb_expand_head() unclones it) with room for the frame
 *    header and the tag, and is sealed where it lies; any other one
 *    (paged, possibly shared fragments) is first copied into a new skb.
 *  - opening never touches the carrier's skb, which is cloned and shares
 *    its pages with the TCP receive queue: the frame is copied into an
 *    skb with headroom for UDP, as the plaintext path copies the payload,
 *    and opened there.
 *
 * The request, its scatterlist and the nonce live in a per-CPU scratch
 * area, used with BHs disabled: no allocation per frame beyond the skbs
 * the plaintext path has too.
 */
#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "funnel.h"

#define FUNNEL_NONCE_LEN	(FUNNEL_SALT_LEN + FUNNEL_SEAL_CTR_LEN)
#define FUNNEL_AAD_LEN		(FUNNEL_HDR_LEN + FUNNEL_SEAL_CTR_LEN)

/* Copies up to this size are one linear buffer; larger ones are pages
 * behind a linear part of FUNNEL_PRIV_HEAD bytes.
 */
#define FUNNEL_PRIV_LINEAR_MAX	2048
#define FUNNEL_PRIV_HEAD	64

/* An AEAD request with its context: gcm(aes) needs a few hundred bytes;
 * an implementation that needs more is refused at key-new.
 */
#define FUNNEL_AEAD_REQ_MAX	1024
#define FUNNEL_IV_ALIGN		16

struct funnel_aead_scratch {
	/* the skbs funnel_aead_run() sees: a linear part, frags, no list */
	struct scatterlist sg[MAX_SKB_FRAGS + 1];
	u8 iv[FUNNEL_NONCE_LEN] __aligned(FUNNEL_IV_ALIGN);
	u8 req[FUNNEL_AEAD_REQ_MAX] __aligned(CRYPTO_MINALIGN);
};

static struct funnel_aead_scratch __percpu *funnel_scratch;

int funnel_crypto_init(void)
{
	funnel_scratch = alloc_percpu(struct funnel_aead_scratch);
	return funnel_scratch ? 0 : -ENOMEM;
}

void funnel_crypto_exit(void)
{
	free_percpu(funnel_scratch);
}

/* ---- keys ---- */

static struct crypto_aead *funnel_aead_new(const u8 *key,
					   struct netlink_ext_ack *extack)
{
	struct crypto_aead *tfm;
	int err;

	/* masking CRYPTO_ALG_ASYNC asks for a synchronous implementation:
	 * requests complete in the call, in any context
	 */
	tfm = crypto_alloc_aead("gcm(aes)", 0, CRYPTO_ALG_ASYNC);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG(extack, "gcm(aes) is not available in this kernel");
		return tfm;
	}
	/* requests run in funnel_scratch */
	if (sizeof(struct aead_request) + crypto_aead_reqsize(tfm) >
	    FUNNEL_AEAD_REQ_MAX ||
	    crypto_aead_alignmask(tfm) >= FUNNEL_IV_ALIGN) {
		NL_SET_ERR_MSG(extack,
			       "this kernel's gcm(aes) needs a larger request than funnel provides");
		crypto_free_aead(tfm);
		return ERR_PTR(-EOPNOTSUPP);
	}
	err = crypto_aead_setkey(tfm, key, FUNNEL_KEY_LEN);
	if (!err)
		err = crypto_aead_setauthsize(tfm, FUNNEL_SEAL_TAG_LEN);
	if (err) {
		NL_SET_ERR_MSG(extack, "gcm(aes) refused the key");
		crypto_free_aead(tfm);
		return ERR_PTR(err);
	}
	return tfm;
}

/* The AEADs zero their contexts (the expanded keys) when freed. */
void funnel_key_free(struct funnel_key *key)
{
	if (!key)
		return;
	if (key->enc)
		crypto_free_aead(key->enc);
	if (key->dec)
		crypto_free_aead(key->dec);
	memzero_explicit(key->enc_salt, sizeof(key->enc_salt));
	memzero_explicit(key->dec_salt, sizeof(key->dec_salt));
	kfree_sensitive(key);
}

static void funnel_key_free_work(struct work_struct *work)
{
	funnel_key_free(container_of(to_rcu_work(work), struct funnel_key,
				     free_work));
}

/* Free a key once no reader can see it, in process context. */
void funnel_key_free_rcu(struct funnel_key *key)
{
	queue_rcu_work(funnel_workqueue(), &key->free_work);
}

struct funnel_key *funnel_key_alloc(const struct funnel_key_cfg *cfg,
				    struct netlink_ext_ack *extack)
{
	struct funnel_key *key;
	int err;

	key = kzalloc(sizeof(*key), GFP_KERNEL_ACCOUNT);
	if (!key)
		return ERR_PTR(-ENOMEM);
	key->key_id = cfg->key_id;
	key->cipher = cfg->cipher;
	key->soft_limit = cfg->soft_limit;
	key->hard_limit = cfg->hard_limit ?: U64_MAX;
	memcpy(key->enc_salt, cfg->enc_salt, FUNNEL_SALT_LEN);
	memcpy(key->dec_salt, cfg->dec_salt, FUNNEL_SALT_LEN);
	atomic64_set(&key->tx_seq, 0);
	spin_lock_init(&key->rx_lock);
	INIT_RCU_WORK(&key->free_work, funnel_key_free_work);

	key->enc = funnel_aead_new(cfg->enc_key, extack);
	if (IS_ERR(key->enc)) {
		err = PTR_ERR(key->enc);
		key->enc = NULL;
		goto err;
	}
	key->dec = funnel_aead_new(cfg->dec_key, extack);
	if (IS_ERR(key->dec)) {
		err = PTR_ERR(key->dec);
		key->dec = NULL;
		goto err;
	}
	return key;

err:
	funnel_key_free(key);
	return ERR_PTR(err);
}

bool funnel_stream_keyed(const struct funnel_stream *st)
{
	int i;

	for (i = 0; i <= FUNNEL_KEY_SLOT_MAX; i++)
		if (rcu_access_pointer(st->keys[i]))
			return true;
	return false;
}

/* ---- private copies ---- */

/* Fill buf, which holds bytes [pos, pos + n) of a copy, with what falls
 * in it of the len bytes at off of src, placed at [head, head + len).
 */
static int funnel_priv_fill(const struct sk_buff *src, unsigned int off,
			    unsigned int len, unsigned int head, u8 *buf,
			    unsigned int pos, unsigned int n)
{
	unsigned int from = max(pos, head), to = min(pos + n, head + len);

	if (from >= to)
		return 0;
	return skb_copy_bits(src, off + from - head, buf + from - pos,
			     to - from);
}

/*
 * A new skb, all of it ours, of head + len + tail bytes after headroom:
 * bytes [head, head + len) are the len bytes at off of src, the others
 * are for the caller to fill.  At least the first min(total,
 * FUNNEL_PRIV_HEAD) bytes are linear.
 */
static struct sk_buff *funnel_priv_skb(const struct sk_buff *src,
				       unsigned int off, unsigned int len,
				       unsigned int headroom, unsigned int head,
				       unsigned int tail)
{
	unsigned int total = head + len + tail, linear, pos;
	struct sk_buff *skb;
	int i, err;

	linear = total <= FUNNEL_PRIV_LINEAR_MAX ? total : FUNNEL_PRIV_HEAD;
	skb = alloc_skb_with_frags(headroom + linear, total - linear, 0, &err,
				   GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, headroom);
	skb_put(skb, linear);
	skb->data_len = total - linear;
	skb->len += skb->data_len;

	if (funnel_priv_fill(src, off, len, head, skb->data, 0, linear))
		goto err;
	pos = linear;
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

		if (funnel_priv_fill(src, off, len, head,
				     skb_frag_address(frag), pos,
				     skb_frag_size(frag)))
			goto err;
		pos += skb_frag_size(frag);
	}
	return skb;

err:
	kfree_skb(skb);
	return NULL;
}

/*
 * Run the AEAD in place over skb (ours, not shared, no frag list): 16
 * bytes of AAD at off, then cryptlen bytes (plaintext to seal, followed
 * by room for the tag; or ciphertext and tag to open).  Synchronous.
 * Returns 0, -EBADMSG for a tag mismatch, or another error.
 */
static int funnel_aead_run(struct crypto_aead *tfm, struct sk_buff *skb,
			   unsigned int off, unsigned int cryptlen,
			   const u8 *salt, __be64 ctr, bool enc)
{
	struct funnel_aead_scratch *s;
	struct aead_request *req;
	int err;

	/* the scratch area is this CPU's until BHs are enabled again */
	local_bh_disable();
	s = this_cpu_ptr(funnel_scratch);
	req = (struct aead_request *)s->req;

	memcpy(s->iv, salt, FUNNEL_SALT_LEN);
	memcpy(s->iv + FUNNEL_SALT_LEN, &ctr, FUNNEL_SEAL_CTR_LEN);

	sg_init_table(s->sg, skb_shinfo(skb)->nr_frags + 1);
	/* sealing appends the tag: it is part of the output */
	err = skb_to_sgvec(skb, s->sg, off, FUNNEL_AAD_LEN + cryptlen +
			   (enc ? FUNNEL_SEAL_TAG_LEN : 0));
	if (err < 0)
		goto out;

	aead_request_set_tfm(req, tfm);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, FUNNEL_AAD_LEN);
	aead_request_set_crypt(req, s->sg, s->sg, cryptlen, s->iv);
	/* the tfm is synchronous (funnel_aead_new): no -EINPROGRESS */
	err = enc ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	/* the request context held GHASH state: not for the next frame */
	memzero_explicit(s->req, sizeof(*req) + crypto_aead_reqsize(tfm));
out:
	local_bh_enable();
	return err;
}

/* ---- seal ---- */

/*
 * Does key, which sealed with counter seq (or is used up at seq), owe a
 * key-expire-ntf?  From soft-limit on, until one went out, at most once
 * a second: of the sealers racing here, the one whose cmpxchg wins
 * sends it.
 */
static bool funnel_key_expire_due(struct funnel_key *key, u64 seq)
{
	unsigned long last, now = jiffies ?: 1;

	if (!key->soft_limit || seq < key->soft_limit ||
	    READ_ONCE(key->expire_ntf_sent))
		return false;
	last = READ_ONCE(key->expire_ntf_at);
	if (last && !time_after(now, last + HZ))
		return false;
	return cmpxchg(&key->expire_ntf_at, last, now) == last;
}

/* Send the key-expire-ntf funnel_seal() asked for: RCU read lock held,
 * no spinlock of the stream.  Sent once it reached a listener.
 */
void funnel_key_expire_notify(struct funnel_stream *st, struct funnel_key *key)
{
	if (!funnel_nl_notify_key_expire(st, key))
		WRITE_ONCE(key->expire_ntf_sent, true);
}

/*
 * The frame skb for the len bytes at off of skb, which is consumed: room
 * for the length prefix, header and counter before them and the tag
 * after, in an skb that is ours alone.  Sealed in place when it is
 * linear, else copied.  NULL when memory runs out.
 */
static struct sk_buff *funnel_seal_skb(struct sk_buff *skb, unsigned int off,
				       unsigned int len)
{
	unsigned int head = FUNNEL_LEN_PREFIX + FUNNEL_AAD_LEN;
	struct sk_buff *frame;
	int nhead, ntail;

	if (skb_is_nonlinear(skb)) {
		frame = funnel_priv_skb(skb, off, len, 0, head,
					FUNNEL_SEAL_TAG_LEN);
		consume_skb(skb);
		return frame;
	}

	__skb_pull(skb, off);
	skb_trim(skb, len);
	nhead = max_t(int, head - skb_headroom(skb), 0);
	ntail = max_t(int, FUNNEL_SEAL_TAG_LEN - skb_tailroom(skb), 0);
	/* a clone shares the data it is about to overwrite */
	if ((skb_cloned(skb) || nhead || ntail) &&
	    pskb_expand_head(skb, nhead, ntail, GFP_ATOMIC)) {
		kfree_skb(skb);
		return NULL;
	}
	skb_scrub_packet(skb, true);
	__skb_push(skb, head);
	__skb_put(skb, FUNNEL_SEAL_TAG_LEN);
	return skb;
}

/*
 * Seal the len plaintext bytes at off of skb with the primary key of st
 * into a frame: length prefix, hdr with S and K set, counter, ciphertext,
 * tag.  skb is consumed; the frame may be skb itself.  The caller holds
 * the RCU read lock and keeps the counters of an ordered stream in queue
 * order.  Returns NULL with *reason, a FUNNEL_A_STATS_* counter, when
 * the frame cannot be sealed.  *expired is the key, or NULL: the caller
 * passes it to funnel_key_expire_notify() once it dropped its locks.
 */
struct sk_buff *funnel_seal(struct funnel_stream *st,
			    const struct funnel_hdr *hdr, struct sk_buff *skb,
			    unsigned int off, unsigned int len, int *reason,
			    struct funnel_key **expired)
{
	struct funnel_key *key;
	struct funnel_hdr *h;
	__be64 ctr;
	s64 seq;

	*expired = NULL;
	key = rcu_dereference(st->keys[READ_ONCE(st->primary)]);
	if (!key) {
		*reason = FUNNEL_A_STATS_TX_DROP_NO_KEY;
		goto drop;
	}
	if (len > FUNNEL_MAX_SEALED_PAYLOAD) {
		*reason = FUNNEL_A_STATS_TX_DROP_TOOBIG;
		goto drop;
	}
	/* a key seals at most hard-limit frames, counters 1..hard-limit */
	seq = atomic64_fetch_add_unless(&key->tx_seq, 1, (s64)key->hard_limit);
	if ((u64)seq == key->hard_limit) {
		/* used up: the owed notification is still due */
		if (funnel_key_expire_due(key, seq))
			*expired = key;
		*reason = FUNNEL_A_STATS_TX_DROP_NO_KEY;
		goto drop;
	}
	seq++;

	skb = funnel_seal_skb(skb, off, len);
	if (!skb) {
		*reason = FUNNEL_A_STATS_TX_DROP_QUEUE;
		goto out;
	}
	*(__be16 *)skb->data = htons(FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD +
				     len);
	h = (struct funnel_hdr *)(skb->data + FUNNEL_LEN_PREFIX);
	*h = *hdr;
	h->flags &= ~FUNNEL_F_KEY_PHASE;
	h->flags |= FUNNEL_F_SEALED;
	if (key->key_id & 1)
		h->flags |= FUNNEL_F_KEY_PHASE;
	ctr = cpu_to_be64((u64)seq);
	memcpy(skb->data + FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN, &ctr,
	       sizeof(ctr));

	if (funnel_aead_run(key->enc, skb, FUNNEL_LEN_PREFIX, len,
			    key->enc_salt, ctr, true)) {
		kfree_skb(skb);
		skb = NULL;
		*reason = FUNNEL_A_STATS_TX_DROP_QUEUE;
	}
out:
	/* the counter is used up either way */
	if (funnel_key_expire_due(key, seq))
		*expired = key;
	return skb;

drop:
	kfree_skb(skb);
	return NULL;
}

/* ---- open ---- */

/*
 * The installed key whose key id has the parity of K; of two such, the
 * primary.  Keys stay in their physical slots across key-swap, so a
 * swap never hides a key from this scan; only the tie-break follows it.
 */
static struct funnel_key *funnel_rx_key(struct funnel_stream *st, u8 flags)
{
	u32 phase = !!(flags & FUNNEL_F_KEY_PHASE);
	struct funnel_key *key, *found = NULL;
	unsigned int primary = READ_ONCE(st->primary);
	int i;

	for (i = 0; i <= FUNNEL_KEY_SLOT_MAX; i++) {
		key = rcu_dereference(st->keys[i]);
		if (!key || (key->key_id & 1) != phase)
			continue;
		if (!found || i == primary)
			found = key;
	}
	return found;
}

/* May counter c be accepted (wire-format.md 9.3)?  rx_lock held. */
static bool funnel_replay_ok(const struct funnel_stream *st,
			     const struct funnel_key *key, u64 c)
{
	if (!c)
		return false;
	if (c > key->rx_high)
		return true;
	if (!st->unordered || key->rx_high - c >= FUNNEL_REPLAY_WINDOW)
		return false;
	return !test_bit(c % FUNNEL_REPLAY_WINDOW, key->rx_seen);
}

/* Counter c was accepted.  rx_lock held. */
static void funnel_replay_mark(struct funnel_key *key, u64 c)
{
	u64 i;

	if (c > key->rx_high) {
		/* the counters the window slides over were not seen */
		if (c - key->rx_high >= FUNNEL_REPLAY_WINDOW)
			bitmap_zero(key->rx_seen, FUNNEL_REPLAY_WINDOW);
		else
			for (i = key->rx_high + 1; i < c; i++)
				__clear_bit(i % FUNNEL_REPLAY_WINDOW,
					    key->rx_seen);
		key->rx_high = c;
	}
	__set_bit(c % FUNNEL_REPLAY_WINDOW, key->rx_seen);
}

static bool funnel_replayed(const struct funnel_stream *st,
			    struct funnel_key *key, u64 c, bool mark)
{
	bool ok;

	spin_lock_bh(&key->rx_lock);
	ok = funnel_replay_ok(st, key, c);
	if (ok && mark)
		funnel_replay_mark(key, c);
	spin_unlock_bh(&key->rx_lock);
	return !ok;
}

/*
 * The key checks, replay check and tag of a DATA frame of keyed stream
 * st, or a sealed DATA frame of any stream (wire-format.md 12, step 9).
 * The frame (header and body) is flen bytes at foff of skb, which is not
 * changed.  Returns the plaintext in a new skb with headroom for UDP, or
 * NULL with *reason, a FUNNEL_A_STATS_* counter.  RCU read lock held.
 */
struct sk_buff *funnel_open(struct funnel_stream *st, const struct sk_buff *skb,
			    unsigned int foff, unsigned int flen,
			    const struct funnel_hdr *hdr, int *reason)
{
	struct funnel_key *key = NULL;
	struct sk_buff *pl;
	__be64 ctr;
	u64 c;
	int err;

	if (hdr->flags & FUNNEL_F_SEALED)
		key = funnel_rx_key(st, hdr->flags);
	if (!key) {
		*reason = FUNNEL_A_STATS_RX_DROP_NO_KEY;
		return NULL;
	}
	if (flen < FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD ||
	    skb_copy_bits(skb, foff + FUNNEL_HDR_LEN, &ctr, sizeof(ctr))) {
		*reason = FUNNEL_A_STATS_RX_DROP_MALFORMED;
		return NULL;
	}
	c = be64_to_cpu(ctr);
	if (funnel_replayed(st, key, c, false)) {
		*reason = FUNNEL_A_STATS_RX_DROP_REPLAY;
		return NULL;
	}

	pl = funnel_priv_skb(skb, foff, flen, FUNNEL_UDP_HEADROOM, 0, 0);
	if (!pl) {
		*reason = FUNNEL_A_STATS_RX_DROP_QUEUE;
		return NULL;
	}
	err = funnel_aead_run(key->dec, pl, 0, flen - FUNNEL_AAD_LEN,
			      key->dec_salt, ctr, false);
	if (err) {
		*reason = err == -EBADMSG ? FUNNEL_A_STATS_RX_DROP_AUTH :
					    FUNNEL_A_STATS_RX_DROP_QUEUE;
		goto drop;
	}
	/* the tag verified: now the counter counts as seen */
	if (funnel_replayed(st, key, c, true)) {
		*reason = FUNNEL_A_STATS_RX_DROP_REPLAY;
		goto drop;
	}
	if (pskb_trim(pl, flen - FUNNEL_SEAL_TAG_LEN) ||
	    !pskb_pull(pl, FUNNEL_AAD_LEN)) {
		*reason = FUNNEL_A_STATS_RX_DROP_QUEUE;
		goto drop;
	}
	return pl;

drop:
	kfree_skb(pl);
	return NULL;
}
