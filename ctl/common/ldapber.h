/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LDAP message framer (Documentation/plugins.md section 6): where an
 * LDAPMessage (RFC 4511 section 4.1.1, BER with the restrictions of its
 * section 5.1) ends in a byte stream, its messageID and its protocolOp,
 * or why the bytes are not one.
 *
 *   30 len                      LDAPMessage: SEQUENCE
 *      02 len id                messageID: INTEGER 0..2^31-1, minimal
 *      [APPLICATION n] len ...  protocolOp
 *      (a0 len ...)             controls, or later components: TLVs
 *
 * Lengths: definite only; the long form with up to 4 octets, leading
 * zeros allowed (BER leaves that to the sender; Active Directory sends
 * 30 84 00 00 00 NN).
 *
 * Pure code: no I/O, no allocation, no state between calls; nothing is
 * read past the n bytes given.
 */
#ifndef FUNNEL_LDAPBER_H
#define FUNNEL_LDAPBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest message taken unless configured: 16 MiB. */
#define LDAPBER_MAX_DEFAULT	(16U << 20)
/* Shortest LDAPMessage: 30 05 02 01 id 42 00 (an UnbindRequest). */
#define LDAPBER_MIN_LEN		7
/* Room for a reason (ldapber_parse()'s why). */
#define LDAPBER_WHY_MAX		128

/* protocolOp: the [APPLICATION n] numbers of RFC 4511. */
enum ldap_op {
	LDAP_OP_BIND_REQ	= 0,
	LDAP_OP_BIND_RESP	= 1,
	LDAP_OP_UNBIND_REQ	= 2,
	LDAP_OP_SEARCH_REQ	= 3,
	LDAP_OP_SEARCH_ENTRY	= 4,
	LDAP_OP_SEARCH_DONE	= 5,
	LDAP_OP_MODIFY_REQ	= 6,
	LDAP_OP_MODIFY_RESP	= 7,
	LDAP_OP_ADD_REQ		= 8,
	LDAP_OP_ADD_RESP	= 9,
	LDAP_OP_DEL_REQ		= 10,
	LDAP_OP_DEL_RESP	= 11,
	LDAP_OP_MODDN_REQ	= 12,
	LDAP_OP_MODDN_RESP	= 13,
	LDAP_OP_COMPARE_REQ	= 14,
	LDAP_OP_COMPARE_RESP	= 15,
	LDAP_OP_ABANDON_REQ	= 16,
	LDAP_OP_SEARCH_REF	= 19,
	LDAP_OP_EXT_REQ		= 23,
	LDAP_OP_EXT_RESP	= 24,
	LDAP_OP_INTERMEDIATE	= 25,
};

enum ldapber_status {
	LDAPBER_ERR = -1,	/* not an LDAPMessage: why says what */
	LDAPBER_NEED_MORE = 0,	/* wait for m->need bytes in all */
	LDAPBER_MSG = 1,	/* one whole message of m->len bytes */
	LDAPBER_OPAQUE = 2,	/* ldap_dir_next(): m->len plain bytes */
};

/* What ldapber_parse() found. */
struct ldapber_msg {
	size_t len;		/* the whole message; 0: not known yet */
	size_t need;		/* NEED_MORE: bytes to wait for, > n */
	bool hdr;		/* id and op known too (also with NEED_MORE) */
	uint32_t id;		/* messageID */
	uint8_t op;		/* enum ldap_op */
	uint8_t op_tag;		/* its tag byte: 0x60 | op, or 0x40 | op */
	/* read from a whole message only (-1 / false otherwise) */
	int64_t result;		/* responses: resultCode; -1: none */
	int64_t abandon_id;	/* AbandonRequest: its target; -1 */
	bool sasl;		/* BindRequest with SASL credentials */
	bool starttls;		/* ExtendedRequest StartTLS */
};

/*
 * The message at the start of p[0..n), of at most max bytes; max 0 sets
 * no limit (only the 4 length octets bound the message), it does not
 * refuse every message; LDAPBER_MAX_DEFAULT is the usual max.
 * LDAPBER_MSG: a whole message of m->len bytes (<= n), every field
 * checked.  LDAPBER_NEED_MORE: wait for m->need bytes (> n) in all;
 * m->len once the message's length is known, m->hdr once its messageID
 * and protocolOp are too (then m->need is m->len).  LDAPBER_ERR: why
 * (whylen bytes) has the reason, e.g. "indefinite length (0x80) after
 * tag 0x30".  An error is reported as soon as the bytes show it: a bad
 * first byte without waiting for more.
 */
enum ldapber_status ldapber_parse(const uint8_t *p, size_t n, size_t max,
				  struct ldapber_msg *m, char *why,
				  size_t whylen);

/* "SearchResultEntry", ...; "?" for a number RFC 4511 does not define. */
const char *ldap_op_name(unsigned int op);

/* A request (what a client sends), or a response / notice. */
bool ldap_op_is_request(unsigned int op);

/*
 * One direction of an LDAP connection, as its reader sees it: which
 * side sends it, and whether it left LDAP (plugins.md section 6.3).
 * Zero it, set from_service, and give it to ldap_dir_next().
 */
struct ldap_dir {
	bool from_service;	/* the service's responses; else requests */
	bool may_leave;		/* the next message may be TLS or SASL */
	bool opaque;		/* left LDAP: plain bytes from now on */
};

/*
 * The next unit of direction d in p[0..n): as ldapber_parse(), and also
 * LDAPBER_ERR for a message of the wrong direction (a request from the
 * service, a response from the client, messageID 0 other than in an
 * ExtendedResponse); LDAPBER_OPAQUE: the direction left LDAP (now, at
 * a first byte other than 0x30 where it may, or before): m->len = n
 * plain bytes, and every later call says the same.
 */
enum ldapber_status ldap_dir_next(struct ldap_dir *d, const uint8_t *p,
				  size_t n, size_t max, struct ldapber_msg *m,
				  char *why, size_t whylen);

/*
 * A message's operation key and order (plugins.md section 6.3): FREE
 * (after the earlier messages of its operation) or BARRIER (after every
 * earlier message of its direction), | LAST (its operation's last).
 * whole: m was read from the whole message (the fields a message sent
 * in pieces lacks: abandon_id, starttls, result); without them the
 * message goes as a barrier where they would decide.
 */
#define LDAP_ORDER_FREE		0
#define LDAP_ORDER_BARRIER	1
#define LDAP_ORDER_LAST		2
unsigned int ldap_msg_order(const struct ldapber_msg *m, bool whole,
			    uint32_t *key);

/*
 * Which whole messages share a DATA frame (plugins.md sections 4 and
 * 5.3): the first message m (read whole by ldap_dir_next() from the
 * start of p[0..n)), then the messages after it in p while each is
 * whole, free (not a barrier), of m's operation key, and fits the
 * frame's room and the credit: the frame's message bytes, total, cost
 * max(total, cost_min) at most credit.  Not after a barrier or an
 * operation's last message (m's or one taken): that ends the frame.
 * A byte that is not a whole message of that kind (malformed, cut, of
 * another operation, opaque) ends it too and is left for the next
 * frame, d not advanced past it; d is advanced past each message
 * taken.  The frame's sub-header is its first message's: order is m's,
 * with LDAP_ORDER_LAST when the frame ends with its operation's last
 * message; key is m's.
 */
struct ldap_pack {
	size_t len;		/* the frame's message bytes: m->len at least */
	unsigned int msgs;	/* its messages: 1 at least */
	unsigned int order;	/* LDAP_ORDER_* of the frame */
	uint32_t key;		/* its operation key */
};
void ldap_pack(struct ldap_dir *d, const uint8_t *p, size_t n,
	       const struct ldapber_msg *m, size_t room, uint64_t credit,
	       size_t cost_min, struct ldap_pack *out);

#endif /* FUNNEL_LDAPBER_H */
