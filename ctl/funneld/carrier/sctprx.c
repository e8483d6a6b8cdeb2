// SPDX-License-Identifier: GPL-2.0
/*
 * Joining the parts of an SCTP message (sctprx.h).  No system call here:
 * the unit tests drive it with made-up reads.
 */
#include <string.h>

#include "funneld/carrier/sctprx.h"

void sctprx_reset(struct sctprx *r)
{
	r->len = 0;
	r->nlen = 0;
	r->sid = 0;
}

enum sctprx_verdict sctprx_part(struct sctprx *r, uint8_t *buf, size_t cap,
				size_t n, bool eor, bool note, uint16_t sid,
				size_t *out, bool *gaveup)
{
	*gaveup = false;
	if (note) {
		/* never part of the frame being joined: its own buffer,
		 * the head only
		 */
		size_t take = n;

		if (take > sizeof(r->note) - r->nlen)
			take = sizeof(r->note) - r->nlen;
		memcpy(r->note + r->nlen, buf + r->len, take);
		r->nlen += take;
		if (!eor)
			return SCTPRX_MORE;
		*out = r->nlen;
		r->nlen = 0;
		return SCTPRX_NOTE;
	}
	if (r->len && sid != r->sid) {
		/* SCTP delivers one message at a time (fragment
		 * interleave off): a part of another stream means the
		 * one in parts will not go on
		 */
		memmove(buf, buf + r->len, n);
		r->len = 0;
		*gaveup = true;
	}
	r->sid = sid;
	r->len += n;
	if (!eor)
		return r->len >= cap ? SCTPRX_OVERSIZE : SCTPRX_MORE;
	*out = r->len;
	r->len = 0;
	return SCTPRX_FRAME;
}

bool sctprx_abort(struct sctprx *r)
{
	bool had = r->len != 0;

	r->len = 0;
	return had;
}
