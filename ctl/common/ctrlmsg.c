// SPDX-License-Identifier: GPL-2.0
/*
 * Codec of the Funnel control protocol (Documentation/control-protocol.md).
 */
#include <stdbool.h>
#include <string.h>

#include "common/ctrlmsg.h"
#include "common/origin.h"

_Static_assert(sizeof(((struct ctrl_msg *)0)->origin) == ORIGIN_LEN_MAX,
	       "an ORIGIN attribute holds the longest origin");

/* Which attributes each message type requires and allows. */
static const struct {
	uint32_t required, allowed;
} ctrl_rules[CTRL_TYPE_MAX + 1] = {
	[CTRL_HELLO] = {
		CTRL_BIT(CTRL_A_FEATURES),
		CTRL_BIT(CTRL_A_FEATURES) | CTRL_BIT(CTRL_A_NODE) },
	[CTRL_OPEN] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_SERVICE) |
		CTRL_BIT(CTRL_A_PROTO) | CTRL_BIT(CTRL_A_ORDERED),
		CTRL_BIT(CTRL_A_PLUGIN) },
	[CTRL_OPEN_OK] = { CTRL_BIT(CTRL_A_STREAM), CTRL_BIT(CTRL_A_PLUGIN) },
	[CTRL_OPEN_REFUSED] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_REASON),
		CTRL_BIT(CTRL_A_TEXT) },
	[CTRL_CLOSE] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_REASON),
		CTRL_BIT(CTRL_A_TEXT) },
	[CTRL_PING] = { CTRL_BIT(CTRL_A_NONCE), 0 },
	[CTRL_PONG] = { CTRL_BIT(CTRL_A_NONCE), 0 },
	[CTRL_REKEY_DONE] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_GENERATION), 0 },
	[CTRL_REKEY] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_GENERATION), 0 },
	[CTRL_WINDOW] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
		CTRL_BIT(CTRL_A_CREDIT), 0 },
	[CTRL_ORIGIN] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
		CTRL_BIT(CTRL_A_ORIGIN), 0 },
	[CTRL_MARK] = {
		CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_GENERATION) |
		CTRL_BIT(CTRL_A_COUNTER), 0 },
};

static const char *const ctrl_type_names[CTRL_TYPE_MAX + 1] = {
	[CTRL_HELLO] = "hello", [CTRL_OPEN] = "open",
	[CTRL_OPEN_OK] = "open-ok", [CTRL_OPEN_REFUSED] = "open-refused",
	[CTRL_CLOSE] = "close", [CTRL_PING] = "ping", [CTRL_PONG] = "pong",
	[CTRL_REKEY_DONE] = "rekey-done", [CTRL_REKEY] = "rekey",
	[CTRL_WINDOW] = "window", [CTRL_ORIGIN] = "origin",
	[CTRL_MARK] = "mark",
};

static const char *const ctrl_reason_names[] = {
	[CTRL_R_UNKNOWN_SERVICE] = "unknown service",
	[CTRL_R_NOT_AUTHORIZED] = "not authorized",
	[CTRL_R_PROTO_MISMATCH] = "udp/tcp mismatch",
	[CTRL_R_STREAM_IN_USE] = "stream in use",
	[CTRL_R_LIMIT] = "too many streams",
	[CTRL_R_INTERNAL] = "internal error",
	[CTRL_R_CLOSED_BY_USER] = "closed by the user",
	[CTRL_R_SHUTDOWN] = "shutdown",
	[CTRL_R_INTEGRITY] = "integrity",
};

const char *ctrl_type_name(unsigned int type)
{
	return type && type <= CTRL_TYPE_MAX ? ctrl_type_names[type] : NULL;
}

const char *ctrl_reason_name(unsigned int reason)
{
	if (reason && reason < sizeof(ctrl_reason_names) / sizeof(ctrl_reason_names[0]))
		return ctrl_reason_names[reason];
	return NULL;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t getn(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static void putn(uint8_t *p, uint64_t v, size_t n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static bool text_ok(const uint8_t *p, size_t len, size_t max)
{
	size_t i;

	if (!len || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

static bool service_ok(const uint8_t *p, size_t len)
{
	size_t i;

	if (!len || len > CTRL_SERVICE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		uint8_t c = p[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (!i || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* Fixed value length of an attribute, or 0 for text. */
static size_t attr_len(unsigned int a)
{
	switch (a) {
	case CTRL_A_FEATURES:	return 4;
	case CTRL_A_STREAM:	return 2;
	case CTRL_A_PROTO:	return 1;
	case CTRL_A_ORDERED:	return 1;
	case CTRL_A_REASON:	return 2;
	case CTRL_A_NONCE:	return 8;
	case CTRL_A_GENERATION:	return 4;
	case CTRL_A_FLOW:	return 4;
	case CTRL_A_CREDIT:	return 4;
	case CTRL_A_PLUGIN:	return 1;
	case CTRL_A_COUNTER:	return 4;
	default:		return 0;
	}
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

/* Check and store one attribute's value. */
static int decode_attr(struct ctrl_msg *m, unsigned int a, const uint8_t *v,
		       size_t len, const char **why)
{
	size_t want = attr_len(a);

	if (want && len != want)
		return fail(why, "attribute of the wrong length");
	switch (a) {
	case CTRL_A_FEATURES:
		m->features = (uint32_t)getn(v, 4);
		break;
	case CTRL_A_STREAM:
		m->stream = get16(v);
		if (!m->stream)
			return fail(why, "stream id 0");
		break;
	case CTRL_A_PROTO:
		m->proto = v[0];
		if (m->proto != CTRL_PROTO_UDP && m->proto != CTRL_PROTO_TCP)
			return fail(why, "proto is neither udp nor tcp");
		break;
	case CTRL_A_ORDERED:
		m->ordered = v[0];
		if (m->ordered > 1)
			return fail(why, "ordered is neither 0 nor 1");
		break;
	case CTRL_A_REASON:
		m->reason = get16(v);
		if (!m->reason)
			return fail(why, "reason 0");
		break;
	case CTRL_A_NONCE:
		m->nonce = getn(v, 8);
		break;
	case CTRL_A_GENERATION:
		m->generation = (uint32_t)getn(v, 4);
		if (!m->generation)
			return fail(why, "generation 0");
		break;
	case CTRL_A_FLOW:
		m->flow = (uint32_t)getn(v, 4);
		if (!m->flow)
			return fail(why, "flow id 0");
		break;
	case CTRL_A_CREDIT:
		m->credit = (uint32_t)getn(v, 4);
		if (!m->credit)
			return fail(why, "credit 0");
		break;
	case CTRL_A_COUNTER:
		m->counter = (uint32_t)getn(v, 4);
		if (!m->counter)
			return fail(why, "counter 0");
		break;
	case CTRL_A_PLUGIN:
		m->plugin = v[0];
		if (!m->plugin)
			return fail(why, "plugin 0");
		break;
	case CTRL_A_ORIGIN: {
		struct origin o;

		if (origin_parse(v, len, &o, why))
			return -1;
		memcpy(m->origin, v, len);
		m->origin_len = (uint8_t)len;
		break;
	}
	case CTRL_A_SERVICE:
		if (!service_ok(v, len))
			return fail(why, "bad service name");
		memcpy(m->service, v, len);
		m->service[len] = '\0';
		break;
	case CTRL_A_NODE:
	case CTRL_A_TEXT: {
		char *dst = a == CTRL_A_NODE ? m->node : m->text;

		if (!text_ok(v, len, CTRL_TEXT_MAX))
			return fail(why, "bad text (empty, too long or control characters)");
		memcpy(dst, v, len);
		dst[len] = '\0';
		break;
	}
	}
	return 0;
}

int ctrl_decode(const uint8_t *buf, size_t len, struct ctrl_msg *out,
		const char **why)
{
	struct ctrl_msg m;
	size_t off;

	if (len < CTRL_HDR_LEN)
		return fail(why, "shorter than the message header");
	if (buf[0] != CTRL_VERSION)
		return fail(why, "unsupported version");
	memset(&m, 0, sizeof(m));
	m.type = buf[1];
	if (!m.type || m.type > CTRL_TYPE_MAX)
		return fail(why, "unknown message type");

	for (off = CTRL_HDR_LEN; off < len;) {
		unsigned int word, a;
		size_t alen;

		if (len - off < CTRL_ATTR_HDR_LEN)
			return fail(why, "truncated attribute header");
		word = get16(buf + off);
		alen = get16(buf + off + 2);
		off += CTRL_ATTR_HDR_LEN;
		if (alen > len - off)
			return fail(why, "truncated attribute");
		a = word & ~CTRL_ATTR_OPTIONAL;
		if (!a || a > CTRL_A_MAX) {
			if (!(word & CTRL_ATTR_OPTIONAL))
				return fail(why, "unknown attribute not marked optional");
			off += alen;
			continue;
		}
		if (m.present & CTRL_BIT(a))
			return fail(why, "duplicate attribute");
		if (!((ctrl_rules[m.type].required |
		       ctrl_rules[m.type].allowed) & CTRL_BIT(a)))
			return fail(why, "attribute not allowed in this message");
		if (decode_attr(&m, a, buf + off, alen, why))
			return -1;
		m.present |= CTRL_BIT(a);
		off += alen;
	}
	if ((m.present & ctrl_rules[m.type].required) !=
	    ctrl_rules[m.type].required)
		return fail(why, "required attribute missing");
	if (m.type == CTRL_OPEN && (m.present & CTRL_BIT(CTRL_A_PLUGIN)) &&
	    m.proto != CTRL_PROTO_TCP)
		return fail(why, "plugin on a udp stream");
	if (m.type == CTRL_OPEN && m.proto == CTRL_PROTO_TCP && !m.ordered &&
	    !(m.present & CTRL_BIT(CTRL_A_PLUGIN)))
		return fail(why, "ordered 0 for a tcp stream without a plugin");
	*out = m;
	return 0;
}

int ctrl_encode(const struct ctrl_msg *m, uint8_t *buf, size_t len,
		const char **why)
{
	uint8_t val[CTRL_TEXT_MAX];
	struct ctrl_msg check;
	size_t off = CTRL_HDR_LEN;
	unsigned int a;

	if (!m->type || m->type > CTRL_TYPE_MAX)
		return fail(why, "unknown message type");
	if (len < CTRL_HDR_LEN)
		return fail(why, "buffer too small");
	buf[0] = CTRL_VERSION;
	buf[1] = m->type;
	buf[2] = 0;
	buf[3] = 0;

	for (a = 1; a <= CTRL_A_MAX; a++) {
		size_t vlen = attr_len(a);
		const char *s = NULL;

		if (!(m->present & CTRL_BIT(a)))
			continue;
		switch (a) {
		case CTRL_A_FEATURES: putn(val, m->features, 4); break;
		case CTRL_A_STREAM:   putn(val, m->stream, 2); break;
		case CTRL_A_PROTO:    val[0] = m->proto; break;
		case CTRL_A_ORDERED:  val[0] = m->ordered; break;
		case CTRL_A_REASON:   putn(val, m->reason, 2); break;
		case CTRL_A_NONCE:    putn(val, m->nonce, 8); break;
		case CTRL_A_GENERATION: putn(val, m->generation, 4); break;
		case CTRL_A_FLOW:     putn(val, m->flow, 4); break;
		case CTRL_A_CREDIT:   putn(val, m->credit, 4); break;
		case CTRL_A_PLUGIN:   val[0] = m->plugin; break;
		case CTRL_A_COUNTER:  putn(val, m->counter, 4); break;
		case CTRL_A_ORIGIN:
			vlen = m->origin_len;
			if (vlen > sizeof(m->origin))
				return fail(why, "origin too long");
			memcpy(val, m->origin, vlen);
			break;
		case CTRL_A_NODE:     s = m->node; break;
		case CTRL_A_SERVICE:  s = m->service; break;
		case CTRL_A_TEXT:     s = m->text; break;
		}
		if (s) {
			vlen = strnlen(s, CTRL_TEXT_MAX + 1);
			if (vlen > CTRL_TEXT_MAX)
				return fail(why, "text too long");
			memcpy(val, s, vlen);
		}
		if (len - off < CTRL_ATTR_HDR_LEN + vlen)
			return fail(why, "buffer too small");
		putn(buf + off, a, 2);
		putn(buf + off + 2, vlen, 2);
		memcpy(buf + off + CTRL_ATTR_HDR_LEN, val, vlen);
		off += CTRL_ATTR_HDR_LEN + vlen;
	}
	/* never put on the wire what the peer would refuse */
	if (ctrl_decode(buf, off, &check, why))
		return -1;
	return (int)off;
}
