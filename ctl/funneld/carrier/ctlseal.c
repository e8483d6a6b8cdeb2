// SPDX-License-Identifier: GPL-2.0
/*
 * Protection of the carrier's control messages (see ctlseal.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/funnel.h>

#include "funneld/carrier/priv.h"
#include "funneld/carrier/csec.h"
#include "funneld/carrier/ctlseal.h"
#include "funneld/log.h"
#include "funneld/sec/ctlkeys.h"
#include "funneld/sec/gss.h"

_Static_assert(CTLKEYS_SECRET_LEN == FGSS_DIR_LEN, "key and salt");

struct ctlseal {
	struct ctlkeys k;
	uint8_t buf[FUNNEL_MAX_FRAME];	/* sealed or opened here */
};

int ctlseal_init(struct carrier *c, struct fgss *g)
{
	uint8_t keys[FGSS_DERIVE_LEN];
	bool init = g->role == FGSS_INITIATOR;
	const uint8_t *enc, *dec;
	struct ctlseal *cs;
	int ret = -1;

	ctlseal_free(c);
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -1;
	if (fgss_derive(g, FUNNEL_CTRL_STREAM, 1, keys))
		goto out;
	enc = keys + (init ? FGSS_OFF_I2A : FGSS_OFF_A2I);
	dec = keys + (init ? FGSS_OFF_A2I : FGSS_OFF_I2A);
	/* a new generation as often as other keys rekey */
	if (ctlkeys_init(&cs->k, enc, dec, c->d->key_soft_limit ?
					   c->d->key_soft_limit :
					   CSEC_SOFT_LIMIT))
		goto out;
	c->ctlseal = cs;
	cs = NULL;
	ret = 0;
out:
	explicit_bzero(keys, sizeof(keys));
	free(cs);
	return ret;
}

void ctlseal_free(struct carrier *c)
{
	if (!c->ctlseal)
		return;
	ctlkeys_free(&c->ctlseal->k);
	free(c->ctlseal);
	c->ctlseal = NULL;
}

int ctlseal_seal(struct carrier *c, const uint8_t *frame, size_t len,
		 const uint8_t **out, size_t *outlen)
{
	struct ctlseal *cs = c->ctlseal;
	uint32_t gen;
	int n;

	*out = frame;
	*outlen = len;
	if (!cs)
		return 0;
	gen = cs->k.tx.id;
	n = ctlkeys_seal(&cs->k, frame, frame + FUNNEL_HDR_LEN,
			 len - FUNNEL_HDR_LEN, cs->buf, sizeof(cs->buf));
	if (n < 0)
		return -1;
	if (cs->k.tx.id != gen)
		log_info("%s: control messages: sending with key generation %u",
			 carrier_name(c), cs->k.tx.id);
	*out = cs->buf;
	*outlen = (size_t)n;
	return 0;
}

int ctlseal_open(struct carrier *c, const uint8_t *buf, size_t len,
		 struct funnel_frame *f, const char **why)
{
	struct ctlseal *cs = c->ctlseal;
	enum seal_verdict v;
	size_t n = 0;
	uint32_t gen;

	if (!cs)
		return 0;
	gen = cs->k.rx.id;
	v = ctlkeys_open(&cs->k, buf, len, cs->buf, sizeof(cs->buf), &n);
	if (v != SEAL_OK) {
		csec_count_drop(c, v);
		*why = seal_verdict_name(v);
		return -1;
	}
	if (cs->k.rx.id != gen)
		log_info("%s: control messages: receiving with key generation %u",
			 carrier_name(c), cs->k.rx.id);
	f->flags &= (uint8_t)~(FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE);
	f->body = cs->buf;
	f->body_len = n;
	return 0;
}
