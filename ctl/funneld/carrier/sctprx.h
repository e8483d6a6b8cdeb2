/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funneld's userspace SCTP reader: the parts of one SCTP message joined
 * into one frame, notifications kept apart (carrier/sctp.c).  A part is
 * what one recvmsg() returned: the caller reads into buf + sctprx.len,
 * at most cap - sctprx.len bytes, and hands the result here.
 *
 * A message in parts is given up (its head dropped, counted by the
 * caller) when SCTP says its partial delivery was aborted (PR-SCTP
 * FORWARD-TSN, SCTP_PARTIAL_DELIVERY_ABORTED: sctprx_abort()), or when a
 * part of another SCTP stream starts: either way what comes next is
 * another message, never the rest of this one.
 */
#ifndef FUNNEL_CARRIER_SCTPRX_H
#define FUNNEL_CARRIER_SCTPRX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the head of a notification kept (the rest is not looked at) */
#define SCTPRX_NOTE_MAX	256

struct sctprx {
	size_t len;			/* bytes of a message read in part */
	uint16_t sid;			/* its SCTP stream */
	size_t nlen;			/* bytes of a notification in part */
	uint8_t note[SCTPRX_NOTE_MAX];
};

enum sctprx_verdict {
	SCTPRX_MORE,		/* a part: the message goes on */
	SCTPRX_FRAME,		/* a whole message: buf[0, *out) */
	SCTPRX_NOTE,		/* a whole notification: note[0, *out) */
	SCTPRX_OVERSIZE,	/* cap bytes and no end */
};

void sctprx_reset(struct sctprx *r);

/*
 * The n bytes just read at buf + r->len (cap: the size of buf), with
 * recvmsg()'s MSG_EOR and MSG_NOTIFICATION in eor and note, of SCTP
 * stream sid (SCTP_RCVINFO; data only).  *gaveup: a message in parts
 * was given up (another stream's part started).
 */
enum sctprx_verdict sctprx_part(struct sctprx *r, uint8_t *buf, size_t cap,
				size_t n, bool eor, bool note, uint16_t sid,
				size_t *out, bool *gaveup);

/* The partial delivery was aborted: true if a message was in parts. */
bool sctprx_abort(struct sctprx *r);

#endif
