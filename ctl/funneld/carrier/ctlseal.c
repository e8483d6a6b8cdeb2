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
#include "funneld/sec/gss.h"
#include "funneld/sec/seal.h"

struct ctlseal {
	struct seal_key tx;
	struct seal_rx rx;
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
	if (seal_key_init(&cs->tx, 1, enc, enc + FGSS_KEY_LEN, 0,
			  CSEC_HARD_LIMIT))
		goto out;
	if (seal_rx_init(&cs->rx, 1, dec, dec + FGSS_KEY_LEN, true)) {
		seal_key_free(&cs->tx);
		goto out;
	}
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
	seal_key_free(&c->ctlseal->tx);
	seal_rx_free(&c->ctlseal->rx);
	free(c->ctlseal);
	c->ctlseal = NULL;
}

int ctlseal_seal(struct carrier *c, const uint8_t *frame, size_t len,
		 const uint8_t **out, size_t *outlen)
{
	struct ctlseal *cs = c->ctlseal;
	int n;

	*out = frame;
	*outlen = len;
	if (!cs)
		return 0;
	n = seal_frame(&cs->tx, frame, frame + FUNNEL_HDR_LEN,
		       len - FUNNEL_HDR_LEN, cs->buf, sizeof(cs->buf), NULL);
	if (n < 0)
		return -1;
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

	if (!cs)
		return 0;
	v = seal_open(&cs->rx, buf, len, cs->buf, sizeof(cs->buf), &n);
	if (v != SEAL_OK) {
		csec_count_drop(c, v);
		*why = seal_verdict_name(v);
		return -1;
	}
	f->flags &= (uint8_t)~(FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE);
	f->body = cs->buf;
	f->body_len = n;
	return 0;
}
