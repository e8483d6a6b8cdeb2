/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Funnel frame codec for the userspace data path.
 *
 * A frame is an 8-byte header (struct funnel_hdr in <linux/funnel.h>)
 * followed by a body.  On TCP carriers every frame is preceded by a
 * 16-bit big-endian length counting header and body (8..65535); SCTP
 * carriers keep message boundaries and carry frames without the prefix.
 *
 * Nothing here allocates memory: parsing returns views into the caller's
 * buffers, and the deframer works in a buffer the caller provides.
 */
#ifndef FUNNEL_FRAME_H
#define FUNNEL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <linux/funnel.h>

/* A parsed frame.  body points into the buffer that was parsed. */
struct funnel_frame {
	uint16_t stream;
	uint8_t type;		/* enum funnel_frame_type */
	uint8_t flags;		/* FUNNEL_F_* */
	uint32_t flow;
	const uint8_t *body;
	size_t body_len;
};

/*
 * Result of funnel_frame_parse().  Each value other than OK names the
 * receive drop counter of funnel.ko the frame is accounted to:
 *   TOO_SHORT     fewer than FUNNEL_HDR_LEN bytes (on TCP the deframer
 *                 reports this as FUNNEL_DEFRAME_BAD_LENGTH instead)
 *   MALFORMED     rx-drop-malformed
 *   UNKNOWN_TYPE  rx-drop-unknown-type
 * The checks are made in this order: TOO_SHORT, then MALFORMED for
 * reserved flag bits or a frame over FUNNEL_MAX_FRAME, then UNKNOWN_TYPE,
 * then the per-type rules (MALFORMED: DATA on stream 0, FLOW_END with a
 * body, SEALED with a body shorter than FUNNEL_SEAL_OVERHEAD).
 */
enum funnel_verdict {
	FUNNEL_FRAME_OK = 0,
	FUNNEL_FRAME_TOO_SHORT,
	FUNNEL_FRAME_MALFORMED,
	FUNNEL_FRAME_UNKNOWN_TYPE,
};

const char *funnel_verdict_name(enum funnel_verdict v);

/* Write the 8-byte header of a frame; body and body_len are not used. */
void funnel_hdr_encode(uint8_t out[FUNNEL_HDR_LEN],
		       const struct funnel_frame *f);

/*
 * Write the TCP length prefix for a frame of frame_len bytes (header and
 * body).  Returns 0, or -1 when frame_len is outside 8..65535.
 */
int funnel_len_prefix_encode(uint8_t out[FUNNEL_LEN_PREFIX], size_t frame_len);

/*
 * Parse and validate one frame (header and body, no length prefix).
 * The header fields of *f are filled in whenever len >= FUNNEL_HDR_LEN,
 * whatever the verdict, so that drops can be accounted per stream.
 */
enum funnel_verdict funnel_frame_parse(const uint8_t *buf, size_t len,
				       struct funnel_frame *f);

/* ---- TCP deframer ---- */

/* Buffer size that accepts every valid frame. */
#define FUNNEL_DEFRAMER_BUFSZ	(FUNNEL_LEN_PREFIX + FUNNEL_MAX_FRAME)

enum funnel_deframe_status {
	FUNNEL_DEFRAME_NEED_MORE = 0,	/* all input consumed, no frame */
	FUNNEL_DEFRAME_FRAME,		/* *frame, *frame_len hold a frame */
	FUNNEL_DEFRAME_BAD_LENGTH,	/* fatal: length prefix below 8 */
	FUNNEL_DEFRAME_OVERSIZE,	/* fatal: frame larger than buffer */
};

struct funnel_deframer {
	uint8_t *buf;		/* partial frame, prefix included */
	size_t cap;		/* size of buf */
	size_t have;		/* bytes held in buf */
	size_t need;		/* prefix + frame length, 0 until known */
	enum funnel_deframe_status fatal;	/* sticky error, or 0 */
};

/*
 * Set up a deframer over buf (cap bytes).  cap must be at least
 * FUNNEL_LEN_PREFIX + FUNNEL_HDR_LEN; with FUNNEL_DEFRAMER_BUFSZ every
 * valid frame fits, a smaller cap makes larger frames fail with
 * FUNNEL_DEFRAME_OVERSIZE (a carrier's own limit).  Returns 0 or -1.
 */
int funnel_deframer_init(struct funnel_deframer *d, uint8_t *buf, size_t cap);

/* Forget any partial frame and error. */
void funnel_deframer_reset(struct funnel_deframer *d);

/*
 * Consume bytes from *data (*len bytes; both are advanced) until one frame
 * is complete or the input is used up.  On FUNNEL_DEFRAME_FRAME, *frame
 * and *frame_len give the frame without its prefix; they point either
 * into the caller's input or into the deframer's buffer and stay valid
 * until the next call or until the input goes away.  Call again with the
 * remaining input until FUNNEL_DEFRAME_NEED_MORE.  The fatal statuses are
 * sticky until funnel_deframer_reset().
 */
enum funnel_deframe_status funnel_deframe(struct funnel_deframer *d,
					  const uint8_t **data, size_t *len,
					  const uint8_t **frame,
					  size_t *frame_len);

/* Bytes of an incomplete frame held (non-zero at EOF: truncated stream). */
size_t funnel_deframer_pending(const struct funnel_deframer *d);

/* ---- carrier preamble ---- */

enum funnel_preamble_verdict {
	FUNNEL_PREAMBLE_OK = 0,
	FUNNEL_PREAMBLE_NEED_MORE,	/* valid so far, fewer than 8 bytes */
	FUNNEL_PREAMBLE_BAD_MAGIC,	/* not "FUNNEL" */
	FUNNEL_PREAMBLE_BAD_VERSION,	/* unknown wire version */
	FUNNEL_PREAMBLE_BAD_RESERVED,	/* reserved byte not zero */
};

/*
 * Check the first min(len, FUNNEL_PREAMBLE_LEN) bytes of a carrier against
 * the preamble.  An error is reported as soon as the bytes given show it.
 */
enum funnel_preamble_verdict funnel_preamble_check(const uint8_t *buf,
						   size_t len);

const char *funnel_preamble_verdict_name(enum funnel_preamble_verdict v);

#endif /* FUNNEL_FRAME_H */
