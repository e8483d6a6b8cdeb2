// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed bodies (Documentation/wire-format.md section 9): AES-256-GCM,
 * nonce = salt || counter, AAD = the first 16 bytes of the frame (header
 * and counter), body = counter || ciphertext || tag.
 *
 * A key holds one "gcm(aes)" AEAD per direction, allocated and keyed in
 * process context by key-new: the kernel's best one, which may be
 * asynchronous (on x86 the AES-NI GCM is a SIMD wrapper that hands the
 * request to cryptd when the FPU cannot be used).  The AEAD runs in
 * place, over an skb that is ours alone, through a scatterlist:
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
 * Each operation is a struct funnel_crypt with its request.  What comes
 * after the cipher (queue the sealed frame; check the replay window and
 * deliver the opened datagram) is one function, called at once when the
 * AEAD completes in the call and from the completion callback when it
 * went asynchronous.  Until then the operation holds the carrier's
 * socket and counts on its carrier, stream and key (inflight): freeing a
 * key or a stream, and closing the carrier, wait for it.
 */
#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "funnel.h"

#define FUNNEL_NONCE_LEN	(FUNNEL_SALT_LEN + FUNNEL_SEAL_CTR_LEN)
#define FUNNEL_AAD_LEN		(FUNNEL_HDR_LEN + FUNNEL_SEAL_CTR_LEN)

/* Copies up to this size are one linear buffer; larger ones are pages
 * behind a linear part of FUNNEL_PRIV_HEAD bytes.
 */
#define FUNNEL_PRIV_LINEAR_MAX	2048
#define FUNNEL_PRIV_HEAD	64

/* One AEAD operation and what its completion needs; the request, the
 * scatterlist and the nonce follow in the same allocation.
 */
struct funnel_crypt {
	struct funnel_stream *st;
	struct funnel_key *key;
	struct sock *sk;		/* the carrier's, held */
	struct sk_buff *skb;
	u64 counter;			/* open: the frame's counter */
	u32 flow;			/* open: the frame's flow id */
	unsigned int len;		/* seal: wire bytes; open: payload */
	bool enc;
	struct aead_request *req;
	struct scatterlist *sg;
	u8 *iv;
};

static char *gcm_driver;
module_param(gcm_driver, charp, 0444);
MODULE_PARM_DESC(gcm_driver,
		 "crypto driver for AES-256-GCM of unordered streams (algorithm gcm(aes)); default: the best gcm(aes)");

/* ---- keys ---- */

/*
 * An AEAD keyed with key: the kernel's best gcm(aes) (or gcm_driver's),
 * or with sync its best synchronous one, for an ordered stream, whose
 * frames must be queued in the order of their counters.
 */
#define FUNNEL_BAD_DRIVER "the gcm_driver module parameter names no usable gcm(aes)"

static struct crypto_aead *funnel_aead_new(const u8 *key, bool sync,
					   struct netlink_ext_ack *extack)
{
	const char *name = "gcm(aes)";
	struct crypto_aead *tfm;
	int err;

	if (!sync && gcm_driver && *gcm_driver)
		name = gcm_driver;
	tfm = crypto_alloc_aead(name, 0, sync ? CRYPTO_ALG_ASYNC : 0);
	if (IS_ERR(tfm)) {
		if (name == gcm_driver)
			NL_SET_ERR_MSG(extack, FUNNEL_BAD_DRIVER);
		else
			NL_SET_ERR_MSG(extack, "gcm(aes) is not available in this kernel");
		return tfm;
	}
	/* a driver named by gcm_driver must still be AES-GCM */
	if (strcmp(crypto_tfm_alg_name(crypto_aead_tfm(tfm)), "gcm(aes)") ||
	    crypto_aead_alignmask(tfm) >= ARCH_KMALLOC_MINALIGN) {
		NL_SET_ERR_MSG(extack, FUNNEL_BAD_DRIVER);
		crypto_free_aead(tfm);
		return ERR_PTR(-EINVAL);
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
	struct funnel_key *key = container_of(to_rcu_work(work),
					      struct funnel_key, free_work);

	/* no new operation can find the key; wait for those under way */
	wait_var_event(&key->inflight, !atomic_read(&key->inflight));
	funnel_key_free(key);
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
	if (!key) {
		NL_SET_ERR_MSG(extack, "no memory for the key");
		return ERR_PTR(-ENOMEM);
	}
	key->key_id = cfg->key_id;
	key->cipher = cfg->cipher;
	key->soft_limit = cfg->soft_limit;
	key->hard_limit = cfg->hard_limit ?: U64_MAX;
	memcpy(key->enc_salt, cfg->enc_salt, FUNNEL_SALT_LEN);
	memcpy(key->dec_salt, cfg->dec_salt, FUNNEL_SALT_LEN);
	atomic64_set(&key->tx_seq, 0);
	atomic_set(&key->inflight, 0);
	spin_lock_init(&key->rx_lock);
	INIT_RCU_WORK(&key->free_work, funnel_key_free_work);

	key->enc = funnel_aead_new(cfg->enc_key, cfg->sync, extack);
	if (IS_ERR(key->enc)) {
		err = PTR_ERR(key->enc);
		key->enc = NULL;
		goto err;
	}
	key->dec = funnel_aead_new(cfg->dec_key, cfg->sync, extack);
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

/* ---- operations ---- */

static void funnel_seal_finish(struct funnel_crypt *c, int err);
static void funnel_open_finish(struct funnel_crypt *c, int err);

/*
 * The end of an operation, in the context the receive path and UDP give
 * (RCU read lock, BHs off): the next step, then the references go.
 */
static void funnel_crypt_finish(struct funnel_crypt *c, int err)
{
	struct funnel_stream *st = c->st;
	struct funnel_key *key = c->key;
	struct funnel_sock *fs = st->fs;
	struct sock *sk = c->sk;

	if (c->enc)
		funnel_seal_finish(c, err);
	else
		funnel_open_finish(c, err);
	/* the request context held GHASH state */
	kfree_sensitive(c);
	/* wake_up_var() only hashes the address: the key, the stream and
	 * the carrier may each be gone once its count dropped; the carrier
	 * (whose close() waits) goes last
	 */
	if (atomic_dec_and_test(&key->inflight))
		wake_up_var(&key->inflight);
	if (atomic_dec_and_test(&st->inflight))
		wake_up_var(&st->inflight);
	if (atomic_dec_and_test(&fs->inflight))
		wake_up_var(&fs->inflight);
	sock_put(sk);
}

/* The completion of an operation that went asynchronous (cryptd). */
static void funnel_crypt_done(FUNNEL_CRYPTO_DONE_ARG areq, int err)
{
	struct funnel_crypt *c = funnel_crypto_done_data(areq);

	/* a backlog notice: never asked for (no MAY_BACKLOG) */
	if (err == -EINPROGRESS)
		return;
	rcu_read_lock();
	local_bh_disable();
	funnel_crypt_finish(c, err);
	local_bh_enable();
	rcu_read_unlock();
}

/*
 * A new operation of key (tfm, one of its directions) on stream st over
 * skb (ours, no frag list), which it takes over.  NULL when memory runs
 * out; skb is then still the caller's.  RCU read lock held.
 */
static struct funnel_crypt *funnel_crypt_new(struct funnel_stream *st,
					     struct funnel_key *key,
					     struct crypto_aead *tfm,
					     struct sk_buff *skb, bool enc)
{
	unsigned int nsg = skb_shinfo(skb)->nr_frags + 1;
	size_t reqoff, sgoff, ivoff;
	struct funnel_crypt *c;
	u8 *mem;

	/* an asynchronous cipher queues without bound: bound it here */
	if (atomic_read(&st->fs->inflight) >= FUNNEL_CRYPT_INFLIGHT_MAX)
		return NULL;
	reqoff = ALIGN(sizeof(*c), CRYPTO_MINALIGN);
	sgoff = ALIGN(reqoff + sizeof(struct aead_request) +
		      crypto_aead_reqsize(tfm), __alignof__(struct scatterlist));
	ivoff = ALIGN(sgoff + nsg * sizeof(struct scatterlist),
		      crypto_aead_alignmask(tfm) + 1);
	mem = kmalloc(ivoff + FUNNEL_NONCE_LEN, GFP_ATOMIC);
	if (!mem)
		return NULL;
	c = (struct funnel_crypt *)mem;
	c->st = st;
	c->key = key;
	c->sk = st->fs->sk;
	c->skb = skb;
	c->enc = enc;
	c->req = (struct aead_request *)(mem + reqoff);
	c->sg = (struct scatterlist *)(mem + sgoff);
	c->iv = mem + ivoff;
	sg_init_table(c->sg, nsg);
	aead_request_set_tfm(c->req, tfm);

	/* released by funnel_crypt_finish(); freeing waits for them */
	atomic_inc(&st->fs->inflight);
	atomic_inc(&st->inflight);
	atomic_inc(&key->inflight);
	sock_hold(c->sk);
	return c;
}

/*
 * Run c's AEAD in place over c->skb: 16 bytes of AAD at off, then
 * cryptlen bytes (plaintext to seal, followed by room for the tag; or
 * ciphertext and tag to open).  funnel_crypt_finish() follows, now or
 * from the completion callback.  RCU read lock held.
 */
static void funnel_crypt_run(struct funnel_crypt *c, unsigned int off,
			     unsigned int cryptlen, const u8 *salt, __be64 ctr)
{
	struct aead_request *req = c->req;
	struct scatterlist *sg = c->sg;
	int err;

	memcpy(c->iv, salt, FUNNEL_SALT_LEN);
	memcpy(c->iv + FUNNEL_SALT_LEN, &ctr, FUNNEL_SEAL_CTR_LEN);
	/* sealing appends the tag: it is part of the output */
	err = skb_to_sgvec(c->skb, sg, off, FUNNEL_AAD_LEN + cryptlen +
			   (c->enc ? FUNNEL_SEAL_TAG_LEN : 0));
	if (err < 0) {
		funnel_crypt_finish(c, err);
		return;
	}
	aead_request_set_callback(req, 0, funnel_crypt_done, c);
	aead_request_set_ad(req, FUNNEL_AAD_LEN);
	aead_request_set_crypt(req, sg, sg, cryptlen, c->iv);
	err = c->enc ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	/* without MAY_BACKLOG, -EINPROGRESS is the only "queued" */
	if (err != -EINPROGRESS)
		funnel_crypt_finish(c, err);
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

/* After the cipher: queue the sealed frame, count it. */
static void funnel_seal_finish(struct funnel_crypt *c, int err)
{
	struct funnel_stream *st = c->st;

	if (err) {
		kfree_skb(c->skb);
		funnel_stream_count(st, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	/* the carrier counts its own drop */
	if (funnel_tx_frame(st->fs, c->skb, false)) {
		funnel_stat_inc(st->stats, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return;
	}
	funnel_stat_frame(st->stats, FUNNEL_A_STATS_TX_FRAMES, c->len);
}

/*
 * Seal the len plaintext bytes at off of skb with the primary key of st
 * into a frame (length prefix, hdr with S and K set, counter, ciphertext,
 * tag) and queue it on the carrier.  skb is consumed.  The caller holds
 * the RCU read lock and, on an ordered stream, the stream's tx_lock, so
 * that counters are queued in order (an ordered stream's AEAD is
 * synchronous, see funnel_aead_new(): nothing overtakes).  An unordered
 * stream's frame that goes asynchronous is queued when it completes.
 * Returns true when the frame
 * went to the cipher (counted by the stream when it is queued), false
 * when it was dropped and counted.  *expired is the key, or NULL: the
 * caller passes it to funnel_key_expire_notify() once it dropped its
 * locks.
 */
bool funnel_seal(struct funnel_stream *st, const struct funnel_hdr *hdr,
		 struct sk_buff *skb, unsigned int off, unsigned int len,
		 struct funnel_key **expired)
{
	struct funnel_crypt *c;
	struct funnel_key *key;
	struct funnel_hdr *h;
	int reason;
	__be64 ctr;
	s64 seq;

	*expired = NULL;
	key = rcu_dereference(st->keys[READ_ONCE(st->primary)]);
	if (!key) {
		reason = FUNNEL_A_STATS_TX_DROP_NO_KEY;
		goto drop;
	}
	if (len > FUNNEL_MAX_SEALED_PAYLOAD) {
		reason = FUNNEL_A_STATS_TX_DROP_TOOBIG;
		goto drop;
	}
	/* no work (nor counter) for a frame the carrier has no room for */
	if (!funnel_tx_room(st->fs, len + FUNNEL_SEAL_OVERHEAD, false)) {
		reason = FUNNEL_A_STATS_TX_DROP_QUEUE;
		goto drop;
	}
	/* a key seals at most hard-limit frames, counters 1..hard-limit */
	seq = atomic64_fetch_add_unless(&key->tx_seq, 1, (s64)key->hard_limit);
	if ((u64)seq == key->hard_limit) {
		/* used up: the owed notification is still due */
		if (funnel_key_expire_due(key, seq))
			*expired = key;
		reason = FUNNEL_A_STATS_TX_DROP_NO_KEY;
		goto drop;
	}
	seq++;
	/* the counter is used up whatever happens next */
	if (funnel_key_expire_due(key, seq))
		*expired = key;

	skb = funnel_seal_skb(skb, off, len);
	if (!skb) {
		funnel_stream_count(st, FUNNEL_A_STATS_TX_DROP_QUEUE);
		return false;
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

	c = funnel_crypt_new(st, key, key->enc, skb, true);
	if (!c) {
		reason = FUNNEL_A_STATS_TX_DROP_QUEUE;
		goto drop;
	}
	c->len = FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD + len;
	funnel_crypt_run(c, FUNNEL_LEN_PREFIX, len, key->enc_salt, ctr);
	return true;

drop:
	funnel_stream_count(st, reason);
	kfree_skb(skb);
	return false;
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

/* After the cipher: the replay window, then the datagram goes out. */
static void funnel_open_finish(struct funnel_crypt *c, int err)
{
	struct funnel_stream *st = c->st;
	struct sk_buff *pl = c->skb;
	int reason;

	if (err) {
		reason = err == -EBADMSG ? FUNNEL_A_STATS_RX_DROP_AUTH :
					   FUNNEL_A_STATS_RX_DROP_QUEUE;
		goto drop;
	}
	/* the tag verified: now the counter counts as seen */
	if (funnel_replayed(st, c->key, c->counter, true)) {
		reason = FUNNEL_A_STATS_RX_DROP_REPLAY;
		goto drop;
	}
	if (pskb_trim(pl, c->len - FUNNEL_SEAL_TAG_LEN) ||
	    !pskb_pull(pl, FUNNEL_AAD_LEN)) {
		reason = FUNNEL_A_STATS_RX_DROP_QUEUE;
		goto drop;
	}
	funnel_stream_deliver(st, pl, c->flow, c->len);
	return;

drop:
	funnel_stream_drop(st, pl, reason);
}

/*
 * The key checks, replay check and tag of a DATA frame of keyed stream
 * st, or a sealed DATA frame of any stream (wire-format.md 12, step 9),
 * then the delivery of its datagram (funnel_stream_deliver()).  The
 * frame (header and body) is flen bytes at foff of skb, which is not
 * changed: the frame is copied into an skb with headroom for UDP and
 * opened there.  A frame that fails is dropped and counted.  RCU read
 * lock held.
 */
void funnel_open(struct funnel_stream *st, const struct sk_buff *skb,
		 unsigned int foff, unsigned int flen,
		 const struct funnel_hdr *hdr)
{
	struct funnel_key *key = NULL;
	struct funnel_crypt *c;
	struct sk_buff *pl;
	__be64 ctr;
	u64 cnt;

	if (hdr->flags & FUNNEL_F_SEALED)
		key = funnel_rx_key(st, hdr->flags);
	if (!key) {
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_NO_KEY);
		return;
	}
	if (flen < FUNNEL_HDR_LEN + FUNNEL_SEAL_OVERHEAD ||
	    skb_copy_bits(skb, foff + FUNNEL_HDR_LEN, &ctr, sizeof(ctr))) {
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_MALFORMED);
		return;
	}
	cnt = be64_to_cpu(ctr);
	/* no cipher for a frame the window refuses anyway */
	if (funnel_replayed(st, key, cnt, false)) {
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_REPLAY);
		return;
	}

	pl = funnel_priv_skb(skb, foff, flen, FUNNEL_UDP_HEADROOM, 0, 0);
	if (!pl) {
		funnel_stream_count(st, FUNNEL_A_STATS_RX_DROP_QUEUE);
		return;
	}
	c = funnel_crypt_new(st, key, key->dec, pl, false);
	if (!c) {
		funnel_stream_drop(st, pl, FUNNEL_A_STATS_RX_DROP_QUEUE);
		return;
	}
	c->counter = cnt;
	c->flow = ntohl(hdr->flow);
	c->len = flen;
	funnel_crypt_run(c, 0, flen - FUNNEL_AAD_LEN, key->dec_salt, ctr);
}
