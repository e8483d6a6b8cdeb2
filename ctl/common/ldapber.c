// SPDX-License-Identifier: GPL-2.0
/*
 * The LDAP message framer: ldapber.h, Documentation/plugins.md section 6.
 *
 * A BER element is a TLV: identifier octets (X.690 8.1.2: class, form,
 * tag number, in one octet up to 30 and in more after an octet of 0x1f),
 * length octets (8.1.3: one octet up to 127, else 0x80 | k and k octets;
 * 0x80 alone is the indefinite form, 0xff is reserved) and the contents.
 * Every read below is bounded by both the bytes present and the end of
 * the element that contains it: a field can neither be read past the
 * buffer nor claim more than its container holds.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/ldapber.h"

#define TAG_SEQUENCE	0x30
#define TAG_INTEGER	0x02
#define TAG_ENUMERATED	0x0a
#define TAG_OCTETS	0x04
#define CLASS_MASK	0xc0
#define CLASS_APP	0x40
#define FORM_CONS	0x20
#define NUM_MASK	0x1f
#define LEN_OCTETS_MAX	4
#define HIGH_TAG_OCTETS_MAX	4

/* The requestName of StartTLS (RFC 4511 section 4.14.1). */
#define STARTTLS_OID	"1.3.6.1.4.1.1466.20037"

/* A TLV's header as read: where its contents are. */
struct tlv {
	uint8_t tag;		/* first identifier octet */
	bool high;		/* tag number in further octets */
	size_t off;		/* of the identifier */
	size_t cont;		/* of the contents */
	size_t len;		/* of the contents */
};

enum { TL_ERR = -1, TL_MORE = 0, TL_OK = 1 };

static const char *const op_names[] = {
	[LDAP_OP_BIND_REQ]	= "BindRequest",
	[LDAP_OP_BIND_RESP]	= "BindResponse",
	[LDAP_OP_UNBIND_REQ]	= "UnbindRequest",
	[LDAP_OP_SEARCH_REQ]	= "SearchRequest",
	[LDAP_OP_SEARCH_ENTRY]	= "SearchResultEntry",
	[LDAP_OP_SEARCH_DONE]	= "SearchResultDone",
	[LDAP_OP_MODIFY_REQ]	= "ModifyRequest",
	[LDAP_OP_MODIFY_RESP]	= "ModifyResponse",
	[LDAP_OP_ADD_REQ]	= "AddRequest",
	[LDAP_OP_ADD_RESP]	= "AddResponse",
	[LDAP_OP_DEL_REQ]	= "DelRequest",
	[LDAP_OP_DEL_RESP]	= "DelResponse",
	[LDAP_OP_MODDN_REQ]	= "ModifyDNRequest",
	[LDAP_OP_MODDN_RESP]	= "ModifyDNResponse",
	[LDAP_OP_COMPARE_REQ]	= "CompareRequest",
	[LDAP_OP_COMPARE_RESP]	= "CompareResponse",
	[LDAP_OP_ABANDON_REQ]	= "AbandonRequest",
	[LDAP_OP_SEARCH_REF]	= "SearchResultReference",
	[LDAP_OP_EXT_REQ]	= "ExtendedRequest",
	[LDAP_OP_EXT_RESP]	= "ExtendedResponse",
	[LDAP_OP_INTERMEDIATE]	= "IntermediateResponse",
};

#define N_OPS	(sizeof(op_names) / sizeof(op_names[0]))

const char *ldap_op_name(unsigned int op)
{
	return op < N_OPS && op_names[op] ? op_names[op] : "?";
}

bool ldap_op_is_request(unsigned int op)
{
	switch (op) {
	case LDAP_OP_BIND_REQ:
	case LDAP_OP_UNBIND_REQ:
	case LDAP_OP_SEARCH_REQ:
	case LDAP_OP_MODIFY_REQ:
	case LDAP_OP_ADD_REQ:
	case LDAP_OP_DEL_REQ:
	case LDAP_OP_MODDN_REQ:
	case LDAP_OP_COMPARE_REQ:
	case LDAP_OP_ABANDON_REQ:
	case LDAP_OP_EXT_REQ:
		return true;
	}
	return false;
}

/* The ops whose contents are not constructed: NULL, LDAPDN, MessageID. */
static bool op_primitive(unsigned int op)
{
	return op == LDAP_OP_UNBIND_REQ || op == LDAP_OP_DEL_REQ ||
	       op == LDAP_OP_ABANDON_REQ;
}

/* The responses that are an LDAPResult first (resultCode, ...). */
static bool op_has_result(unsigned int op)
{
	switch (op) {
	case LDAP_OP_BIND_RESP:
	case LDAP_OP_SEARCH_DONE:
	case LDAP_OP_MODIFY_RESP:
	case LDAP_OP_ADD_RESP:
	case LDAP_OP_DEL_RESP:
	case LDAP_OP_MODDN_RESP:
	case LDAP_OP_COMPARE_RESP:
	case LDAP_OP_EXT_RESP:
		return true;
	}
	return false;
}

__attribute__((format(printf, 3, 4)))
static enum ldapber_status fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return LDAPBER_ERR;
}

/*
 * The TLV header at off, within [off, end) (end: its container's end,
 * which may lie beyond the n bytes present).  TL_OK with *t; TL_MORE
 * with *need the bytes needed to read it; TL_ERR with why, what naming
 * the field ("messageID").
 */
static int read_tl(const uint8_t *p, size_t n, size_t off, size_t end,
		   const char *what, struct tlv *t, size_t *need,
		   char *why, size_t whylen)
{
	size_t i = off, k;
	uint64_t len = 0;
	uint8_t b;

	t->off = off;
	t->high = false;
	if (i >= end) {
		fail(why, whylen, "truncated %s: no room for its tag", what);
		return TL_ERR;
	}
	if (i >= n)
		goto more;
	t->tag = p[i++];
	if ((t->tag & NUM_MASK) == NUM_MASK) {
		/* X.690 8.1.2.4: base 128, bit 8 set on all but the last */
		t->high = true;
		for (k = 0;; k++) {
			if (k == HIGH_TAG_OCTETS_MAX) {
				fail(why, whylen, "%s tag number in more than %d octets",
				     what, HIGH_TAG_OCTETS_MAX);
				return TL_ERR;
			}
			if (i >= end) {
				fail(why, whylen, "truncated %s tag", what);
				return TL_ERR;
			}
			if (i >= n)
				goto more;
			b = p[i++];
			if (!k && (b & 0x7f) == 0) {
				fail(why, whylen, "%s tag number with a leading zero octet (0x%02x)",
				     what, b);
				return TL_ERR;
			}
			if (!(b & 0x80))
				break;
		}
	}
	if (i >= end) {
		fail(why, whylen, "truncated %s: no room for its length", what);
		return TL_ERR;
	}
	if (i >= n)
		goto more;
	b = p[i++];
	if (b == 0x80) {
		fail(why, whylen, "indefinite length (0x80) after tag 0x%02x (%s): LDAP takes definite lengths only",
		     t->tag, what);
		return TL_ERR;
	}
	if (b == 0xff) {
		fail(why, whylen, "reserved length octet 0xff after tag 0x%02x (%s)",
		     t->tag, what);
		return TL_ERR;
	}
	if (b & 0x80) {
		k = b & 0x7f;
		if (k > LEN_OCTETS_MAX) {
			fail(why, whylen, "length of %s in %zu octets (0x%02x): at most %d",
			     what, k, b, LEN_OCTETS_MAX);
			return TL_ERR;
		}
		if (end - i < k) {
			fail(why, whylen, "truncated length of %s", what);
			return TL_ERR;
		}
		if (n - i < k) {
			*need = i + k;
			return TL_MORE;
		}
		while (k--)
			len = len << 8 | p[i++];
	} else {
		len = b;
	}
	if (len > end - i) {
		fail(why, whylen, "truncated %s: %llu bytes, %zu left in its container",
		     what, (unsigned long long)len, end - i);
		return TL_ERR;
	}
	t->cont = i;
	t->len = (size_t)len;
	return TL_OK;

more:
	/* one more byte at least; the header is at most 1 + 4 + 1 + 4 */
	*need = i + 1;
	return TL_MORE;
}

/*
 * A non-negative INTEGER (or ENUMERATED) of 1..4 contents octets, in
 * its minimal form (X.690 8.3.2): 0..2^31-1.  -1 with why if not.
 */
static int64_t read_uint31(const uint8_t *c, size_t len, const char *what,
			   char *why, size_t whylen)
{
	uint32_t v = 0;

	if (!len) {
		fail(why, whylen, "%s is empty (an INTEGER has 1 octet at least)",
		     what);
		return -1;
	}
	if (len > 4) {
		fail(why, whylen, "%s of %zu octets: out of range 0..2^31-1",
		     what, len);
		return -1;
	}
	if (c[0] & 0x80) {
		fail(why, whylen, "%s is negative (first octet 0x%02x): out of range 0..2^31-1",
		     what, c[0]);
		return -1;
	}
	if (len > 1 && c[0] == 0 && !(c[1] & 0x80)) {
		fail(why, whylen, "%s is not minimal (leading 0x00 before 0x%02x)",
		     what, c[1]);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		v = v << 8 | c[i];
	return v;
}

/*
 * What the whole message says beyond its envelope, for the plugin's
 * order and direction rules: read leniently (a field not as expected
 * only leaves its hint unset; the service or client checks the rest).
 */
static void read_hints(const uint8_t *p, const struct tlv *op,
		       struct ldapber_msg *m)
{
	size_t end = op->cont + op->len, need;
	struct tlv t;

	if (op_has_result(m->op)) {
		if (read_tl(p, end, op->cont, end, "", &t, &need, NULL, 0) ==
		    TL_OK && t.tag == TAG_ENUMERATED && !t.high &&
		    t.len >= 1 && t.len <= 4 && !(p[t.cont] & 0x80)) {
			m->result = 0;
			for (size_t i = 0; i < t.len; i++)
				m->result = m->result << 8 | p[t.cont + i];
		}
		return;
	}
	if (m->op == LDAP_OP_EXT_REQ) {
		/* requestName [0] LDAPOID */
		m->starttls = read_tl(p, end, op->cont, end, "", &t, &need,
				      NULL, 0) == TL_OK &&
			      t.tag == 0x80 && t.len == strlen(STARTTLS_OID) &&
			      !memcmp(p + t.cont, STARTTLS_OID, t.len);
		return;
	}
	if (m->op == LDAP_OP_BIND_REQ) {
		/* version INTEGER, name LDAPDN, authentication: sasl [3] */
		size_t off = op->cont;

		for (int i = 0; i < 2; i++) {
			if (read_tl(p, end, off, end, "", &t, &need, NULL, 0) !=
			    TL_OK)
				return;
			off = t.cont + t.len;
		}
		m->sasl = read_tl(p, end, off, end, "", &t, &need, NULL, 0) ==
			  TL_OK && t.tag == 0xa3;
	}
}

/* The protocolOp's tag: one of RFC 4511's, in its form. */
static enum ldapber_status check_op_tag(const struct tlv *t, char *why,
					size_t whylen)
{
	unsigned int num = t->tag & NUM_MASK;
	bool cons = t->tag & FORM_CONS;

	if ((t->tag & CLASS_MASK) != CLASS_APP || t->high || num >= N_OPS ||
	    !op_names[num])
		return fail(why, whylen, "unknown protocolOp tag 0x%02x%s",
			    t->tag, t->high ? " (high tag number form)" :
			    (t->tag & CLASS_MASK) != CLASS_APP ?
			    " (not [APPLICATION n])" : "");
	if (cons == op_primitive(num))
		return fail(why, whylen, "%s (tag 0x%02x) is %s: it must be %s",
			    op_names[num], t->tag,
			    cons ? "constructed" : "primitive",
			    cons ? "primitive" : "constructed");
	return LDAPBER_MSG;
}

enum ldapber_status ldapber_parse(const uint8_t *p, size_t n, size_t max,
				  struct ldapber_msg *m, char *why,
				  size_t whylen)
{
	struct tlv outer, id, op, t;
	size_t total, off, need = 0;
	int r;

	memset(m, 0, sizeof(*m));
	m->result = -1;
	m->abandon_id = -1;
	if (why && whylen)
		why[0] = '\0';
	if (!n) {
		m->need = 1;
		return LDAPBER_NEED_MORE;
	}
	if (p[0] != TAG_SEQUENCE)
		return fail(why, whylen, "LDAPMessage tag 0x%02x is not a SEQUENCE (0x30)%s",
			    p[0], p[0] == 0x16 ?
			    ": a TLS record? (ldaps takes a plain tcp service)" :
			    "");

	/* the envelope: its length first, bounded by no container */
	r = read_tl(p, n, 0, SIZE_MAX, "LDAPMessage", &outer, &need, why,
		    whylen);
	if (r == TL_ERR)
		return LDAPBER_ERR;
	if (r == TL_MORE) {
		m->need = need;
		return LDAPBER_NEED_MORE;
	}
	if (max && (outer.cont > max || outer.len > max - outer.cont))
		return fail(why, whylen, "message of %zu bytes over the limit of %zu",
			    outer.cont + outer.len, max);
	total = outer.cont + outer.len;
	m->len = total;
	if (total < LDAPBER_MIN_LEN)
		return fail(why, whylen, "message of %zu bytes: shorter than any LDAPMessage (%d)",
			    total, LDAPBER_MIN_LEN);

	r = read_tl(p, n, outer.cont, total, "messageID", &id, &need, why,
		    whylen);
	if (r == TL_ERR)
		return LDAPBER_ERR;
	if (r == TL_MORE)
		goto more;
	if (id.tag != TAG_INTEGER || id.high)
		return fail(why, whylen, "messageID tag 0x%02x is not an INTEGER (0x02)",
			    id.tag);
	if (id.len > 4)
		return fail(why, whylen, "messageID of %zu octets: out of range 0..2^31-1",
			    id.len);
	if (id.cont + id.len > n) {
		need = id.cont + id.len;
		goto more;
	}
	m->id = 0;
	{
		int64_t v = read_uint31(p + id.cont, id.len, "messageID", why,
					whylen);

		if (v < 0)
			return LDAPBER_ERR;
		m->id = (uint32_t)v;
	}

	r = read_tl(p, n, id.cont + id.len, total, "protocolOp", &op, &need,
		    why, whylen);
	if (r == TL_ERR)
		return LDAPBER_ERR;
	if (r == TL_MORE)
		goto more;
	if (check_op_tag(&op, why, whylen) == LDAPBER_ERR)
		return LDAPBER_ERR;
	m->op = op.tag & NUM_MASK;
	m->op_tag = op.tag;
	m->hdr = true;
	if (n < total) {
		m->need = total;
		return LDAPBER_NEED_MORE;
	}

	/* the whole message: the op's own rules, then what follows it */
	if (m->op == LDAP_OP_UNBIND_REQ && op.len)
		return fail(why, whylen, "UnbindRequest of %zu octets: it is empty (NULL)",
			    op.len);
	if (m->op == LDAP_OP_ABANDON_REQ) {
		m->abandon_id = read_uint31(p + op.cont, op.len,
					    "AbandonRequest's messageID", why,
					    whylen);
		if (m->abandon_id < 0)
			return LDAPBER_ERR;
	}
	for (off = op.cont + op.len; off < total; off = t.cont + t.len) {
		r = read_tl(p, n, off, total,
			    off == op.cont + op.len ? "controls" :
			    "component after controls", &t, &need, why, whylen);
		if (r != TL_OK)		/* the whole message is here */
			return LDAPBER_ERR;
	}
	read_hints(p, &op, m);
	return LDAPBER_MSG;

more:
	m->need = need;
	return LDAPBER_NEED_MORE;
}

enum ldapber_status ldap_dir_next(struct ldap_dir *d, const uint8_t *p,
				  size_t n, size_t max, struct ldapber_msg *m,
				  char *why, size_t whylen)
{
	enum ldapber_status st;
	bool req;

	if (!d->opaque && d->may_leave && n && p[0] != TAG_SEQUENCE)
		d->opaque = true;
	if (d->opaque) {
		memset(m, 0, sizeof(*m));
		m->len = n;
		m->result = -1;
		m->abandon_id = -1;
		return LDAPBER_OPAQUE;
	}
	st = ldapber_parse(p, n, max, m, why, whylen);
	if (st == LDAPBER_ERR || !m->hdr)
		return st;

	/* the direction: known as soon as the header is */
	req = ldap_op_is_request(m->op);
	if (req && d->from_service)
		return fail(why, whylen, "%s (messageID %u) from the service: it sends responses",
			    ldap_op_name(m->op), m->id);
	if (!req && !d->from_service)
		return fail(why, whylen, "%s (messageID %u) from the client: it sends requests",
			    ldap_op_name(m->op), m->id);
	if (!m->id && m->op != LDAP_OP_EXT_RESP)
		return fail(why, whylen, "%s with messageID 0: only an unsolicited notification (ExtendedResponse) has it",
			    ldap_op_name(m->op));
	if (st != LDAPBER_MSG)
		return st;

	/* where TLS or a SASL layer may follow (plugins.md 6.3) */
	if (d->from_service)
		d->may_leave = (m->op == LDAP_OP_BIND_RESP ||
				m->op == LDAP_OP_EXT_RESP) && m->result == 0;
	else
		d->may_leave = m->starttls ||
			       (m->op == LDAP_OP_BIND_REQ && m->sasl);
	return st;
}

unsigned int ldap_msg_order(const struct ldapber_msg *m, bool whole,
			    uint32_t *key)
{
	*key = m->id;
	if (!m->id)
		return LDAP_ORDER_BARRIER;	/* a notice of disconnection */
	switch (m->op) {
	case LDAP_OP_BIND_REQ:
	case LDAP_OP_BIND_RESP:
	case LDAP_OP_UNBIND_REQ:
		return LDAP_ORDER_BARRIER;
	case LDAP_OP_SEARCH_ENTRY:
	case LDAP_OP_SEARCH_REF:
	case LDAP_OP_INTERMEDIATE:
		return LDAP_ORDER_FREE;
	case LDAP_OP_ABANDON_REQ:
		if (!whole || m->abandon_id < 0)
			return LDAP_ORDER_BARRIER;
		*key = (uint32_t)m->abandon_id;
		return LDAP_ORDER_FREE;
	case LDAP_OP_EXT_REQ:
		/* StartTLS is known from a whole message only */
		return !whole || m->starttls ? LDAP_ORDER_BARRIER :
					       LDAP_ORDER_FREE;
	case LDAP_OP_EXT_RESP:
		/* success may answer StartTLS: TLS follows */
		return !whole || m->result == 0 ? LDAP_ORDER_BARRIER :
			LDAP_ORDER_FREE | LDAP_ORDER_LAST;
	default:
		break;
	}
	return ldap_op_is_request(m->op) ? LDAP_ORDER_FREE :
	       LDAP_ORDER_FREE | LDAP_ORDER_LAST;
}

/* What a frame of len message bytes costs (plugseq.h's pseq_cost()). */
static uint64_t pack_cost(size_t len, size_t cost_min)
{
	return len < cost_min ? cost_min : len;
}

void ldap_pack(struct ldap_dir *d, const uint8_t *p, size_t n,
	       const struct ldapber_msg *m, size_t room, uint64_t credit,
	       size_t cost_min, struct ldap_pack *out)
{
	char why[LDAPBER_WHY_MAX];
	struct ldapber_msg next;
	struct ldap_dir d2;
	unsigned int order;
	uint32_t key;

	out->len = m->len;
	out->msgs = 1;
	out->order = ldap_msg_order(m, true, &out->key);
	if (out->order != LDAP_ORDER_FREE)
		return;		/* a barrier, or the operation's last */
	while (out->len < n) {
		d2 = *d;
		if (ldap_dir_next(&d2, p + out->len, n - out->len,
				  LDAPBER_MAX_DEFAULT, &next, why,
				  sizeof(why)) != LDAPBER_MSG)
			return;	/* cut, malformed, opaque: not here */
		order = ldap_msg_order(&next, true, &key);
		if ((order & LDAP_ORDER_BARRIER) || key != out->key ||
		    out->len + next.len > room ||
		    pack_cost(out->len + next.len, cost_min) > credit)
			return;
		*d = d2;
		out->len += next.len;
		out->msgs++;
		if (order & LDAP_ORDER_LAST) {
			out->order |= LDAP_ORDER_LAST;
			return;
		}
	}
}
