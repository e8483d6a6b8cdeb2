// SPDX-License-Identifier: GPL-2.0
/* Funnel frame codec: header encoding, frame validation, TCP deframing. */

#include <string.h>

#include "common/frame.h"

_Static_assert(sizeof(struct funnel_hdr) == FUNNEL_HDR_LEN,
	       "struct funnel_hdr must be FUNNEL_HDR_LEN bytes");
_Static_assert(sizeof(FUNNEL_PREAMBLE) - 1 == FUNNEL_PREAMBLE_LEN,
	       "FUNNEL_PREAMBLE must be FUNNEL_PREAMBLE_LEN bytes");
_Static_assert(FUNNEL_LEN_PREFIX == 2, "the length prefix is 16 bits");

/* Offsets in the preamble: magic "FUNNEL", wire version, reserved. */
#define PREAMBLE_MAGIC_LEN	6
#define PREAMBLE_VERSION	6
#define PREAMBLE_RESERVED	7

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *funnel_verdict_name(enum funnel_verdict v)
{
	switch (v) {
	case FUNNEL_FRAME_OK:
		return "ok";
	case FUNNEL_FRAME_TOO_SHORT:
		return "too-short";
	case FUNNEL_FRAME_MALFORMED:
		return "malformed";
	case FUNNEL_FRAME_UNKNOWN_TYPE:
		return "unknown-type";
	}
	return "?";
}

void funnel_hdr_encode(uint8_t out[FUNNEL_HDR_LEN],
		       const struct funnel_frame *f)
{
	put_be16(out, f->stream);
	out[2] = f->type;
	out[3] = f->flags;
	put_be32(out + 4, f->flow);
}

int funnel_len_prefix_encode(uint8_t out[FUNNEL_LEN_PREFIX], size_t frame_len)
{
	if (frame_len < FUNNEL_HDR_LEN || frame_len > FUNNEL_MAX_FRAME)
		return -1;
	put_be16(out, (uint16_t)frame_len);
	return 0;
}

static enum funnel_verdict check_type(const struct funnel_frame *f)
{
	switch (f->type) {
	case FUNNEL_T_DATA:
		if (f->stream == FUNNEL_CTRL_STREAM)
			return FUNNEL_FRAME_MALFORMED;
		break;
	case FUNNEL_T_CTRL:
		/* only stream 0's control messages are sealed by Funnel; a
		 * stream's own CTRL frames carry GSS-API tokens as they are
		 */
		if (f->stream != FUNNEL_CTRL_STREAM &&
		    (f->flags & (FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE)))
			return FUNNEL_FRAME_MALFORMED;
		break;
	case FUNNEL_T_FLOW_END:
		/* empty, or the counter and tag of an empty plaintext */
		if (f->body_len != (f->flags & FUNNEL_F_SEALED ?
				    FUNNEL_SEAL_OVERHEAD : 0))
			return FUNNEL_FRAME_MALFORMED;
		break;
	default:
		return FUNNEL_FRAME_UNKNOWN_TYPE;
	}
	if ((f->flags & FUNNEL_F_SEALED) && f->body_len < FUNNEL_SEAL_OVERHEAD)
		return FUNNEL_FRAME_MALFORMED;
	if ((f->flags & FUNNEL_F_RESET) && f->type != FUNNEL_T_FLOW_END)
		return FUNNEL_FRAME_MALFORMED;
	return FUNNEL_FRAME_OK;
}

enum funnel_verdict funnel_frame_parse(const uint8_t *buf, size_t len,
				       struct funnel_frame *f)
{
	if (len < FUNNEL_HDR_LEN) {
		memset(f, 0, sizeof(*f));
		return FUNNEL_FRAME_TOO_SHORT;
	}
	f->stream = get_be16(buf);
	f->type = buf[2];
	f->flags = buf[3];
	f->flow = get_be32(buf + 4);
	f->body = buf + FUNNEL_HDR_LEN;
	f->body_len = len - FUNNEL_HDR_LEN;

	if ((f->flags & FUNNEL_F_RESERVED) || len > FUNNEL_MAX_FRAME)
		return FUNNEL_FRAME_MALFORMED;
	return check_type(f);
}

/* ---- TCP deframer ---- */

int funnel_deframer_init(struct funnel_deframer *d, uint8_t *buf, size_t cap)
{
	if (!buf || cap < FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN)
		return -1;
	d->buf = buf;
	d->cap = cap;
	funnel_deframer_reset(d);
	return 0;
}

void funnel_deframer_reset(struct funnel_deframer *d)
{
	d->have = 0;
	d->need = 0;
	d->fatal = FUNNEL_DEFRAME_NEED_MORE;
}

size_t funnel_deframer_pending(const struct funnel_deframer *d)
{
	return d->have;
}

/* Validate a length prefix; 0 when acceptable, else the fatal status. */
static enum funnel_deframe_status check_len(struct funnel_deframer *d,
					    size_t frame_len)
{
	if (frame_len < FUNNEL_HDR_LEN)
		d->fatal = FUNNEL_DEFRAME_BAD_LENGTH;
	else if (FUNNEL_LEN_PREFIX + frame_len > d->cap)
		d->fatal = FUNNEL_DEFRAME_OVERSIZE;
	return d->fatal;
}

enum funnel_deframe_status funnel_deframe(struct funnel_deframer *d,
					  const uint8_t **data, size_t *len,
					  const uint8_t **frame,
					  size_t *frame_len)
{
	const uint8_t *p = *data;
	size_t n = *len;
	size_t take, flen;

	if (d->fatal)
		return d->fatal;

	/* Fast path: a whole frame in the input, nothing buffered. */
	if (d->have == 0 && n >= FUNNEL_LEN_PREFIX) {
		flen = get_be16(p);
		if (check_len(d, flen))
			return d->fatal;
		if (n - FUNNEL_LEN_PREFIX >= flen) {
			*frame = p + FUNNEL_LEN_PREFIX;
			*frame_len = flen;
			*data = p + FUNNEL_LEN_PREFIX + flen;
			*len = n - FUNNEL_LEN_PREFIX - flen;
			return FUNNEL_DEFRAME_FRAME;
		}
	}

	/* Slow path: gather the prefix, then the frame, in d->buf. */
	if (d->need == 0) {
		while (d->have < FUNNEL_LEN_PREFIX && n) {
			d->buf[d->have++] = *p++;
			n--;
		}
		if (d->have < FUNNEL_LEN_PREFIX)
			goto need_more;
		flen = get_be16(d->buf);
		if (check_len(d, flen))
			return d->fatal;
		d->need = FUNNEL_LEN_PREFIX + flen;
	}

	take = d->need - d->have;
	if (take > n)
		take = n;
	memcpy(d->buf + d->have, p, take);
	d->have += take;
	p += take;
	n -= take;

	if (d->have == d->need) {
		*frame = d->buf + FUNNEL_LEN_PREFIX;
		*frame_len = d->need - FUNNEL_LEN_PREFIX;
		d->have = 0;
		d->need = 0;
		*data = p;
		*len = n;
		return FUNNEL_DEFRAME_FRAME;
	}
need_more:
	*data = p;
	*len = n;
	return FUNNEL_DEFRAME_NEED_MORE;
}

/* ---- carrier preamble ---- */

enum funnel_preamble_verdict funnel_preamble_check(const uint8_t *buf,
						   size_t len)
{
	static const uint8_t want[] = FUNNEL_PREAMBLE;
	size_t n = len < PREAMBLE_MAGIC_LEN ? len : PREAMBLE_MAGIC_LEN;

	if (n && memcmp(buf, want, n))
		return FUNNEL_PREAMBLE_BAD_MAGIC;
	if (len > PREAMBLE_VERSION && buf[PREAMBLE_VERSION] != FUNNEL_WIRE_VERSION)
		return FUNNEL_PREAMBLE_BAD_VERSION;
	if (len > PREAMBLE_RESERVED && buf[PREAMBLE_RESERVED] != 0)
		return FUNNEL_PREAMBLE_BAD_RESERVED;
	if (len < FUNNEL_PREAMBLE_LEN)
		return FUNNEL_PREAMBLE_NEED_MORE;
	return FUNNEL_PREAMBLE_OK;
}

const char *funnel_preamble_verdict_name(enum funnel_preamble_verdict v)
{
	switch (v) {
	case FUNNEL_PREAMBLE_OK:
		return "ok";
	case FUNNEL_PREAMBLE_NEED_MORE:
		return "need-more";
	case FUNNEL_PREAMBLE_BAD_MAGIC:
		return "bad-magic";
	case FUNNEL_PREAMBLE_BAD_VERSION:
		return "bad-version";
	case FUNNEL_PREAMBLE_BAD_RESERVED:
		return "bad-reserved";
	}
	return "?";
}
