// SPDX-License-Identifier: GPL-2.0
/* Netlink extended ACK parsing. */

#include <errno.h>
#include <string.h>

#include "common/extack.h"

void funnel_extack_clear(struct funnel_extack *ext)
{
	memset(ext, 0, sizeof(*ext));
	ext->bad_attr = -1;
	ext->bad_nested = -1;
	ext->miss_in = -1;
}

static uint32_t get_u32(const uint8_t *p, size_t len)
{
	uint32_t v = 0;

	if (len >= sizeof(v))
		memcpy(&v, p, sizeof(v));
	return v;
}

static void copy_msg(struct funnel_extack *ext, const uint8_t *p, size_t len)
{
	size_t n = 0;

	while (n < len && n < sizeof(ext->msg) - 1 && p[n])
		n++;
	memcpy(ext->msg, p, n);
	ext->msg[n] = '\0';
}

static void parse_tlvs(const uint8_t *p, size_t len, struct funnel_extack *ext)
{
	const uint8_t *data;
	size_t alen, dlen, step;
	struct nlattr a;

	while (len >= NLA_HDRLEN) {
		memcpy(&a, p, sizeof(a));
		alen = a.nla_len;
		if (alen < NLA_HDRLEN || alen > len)
			return;
		data = p + NLA_HDRLEN;
		dlen = alen - NLA_HDRLEN;

		switch (a.nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			copy_msg(ext, data, dlen);
			break;
		case NLMSGERR_ATTR_OFFS:
			ext->has_offs = dlen >= 4;
			ext->offs = get_u32(data, dlen);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			ext->has_miss_type = dlen >= 4;
			ext->miss_type = get_u32(data, dlen);
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			ext->has_miss_nest = dlen >= 4;
			ext->miss_nest = get_u32(data, dlen);
			break;
		default:
			break;
		}
		step = NLA_ALIGN(alen);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

int funnel_extack_parse(const struct nlmsghdr *nlh, size_t len,
			struct funnel_extack *ext)
{
	const uint8_t *base = (const uint8_t *)nlh;
	struct nlmsgerr e;
	size_t payload, off;
	int err;

	funnel_extack_clear(ext);
	if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN)
		return -EINVAL;
	if (nlh->nlmsg_len < len)
		len = nlh->nlmsg_len;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (len < NLMSG_HDRLEN + sizeof(e))
			return -EINVAL;
		memcpy(&e, base + NLMSG_HDRLEN, sizeof(e));
		err = e.error;
		payload = sizeof(e);
		/* Unless capped, the whole request follows its header. */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			if (e.msg.nlmsg_len < sizeof(e.msg))
				return -EINVAL;
			payload += e.msg.nlmsg_len - sizeof(e.msg);
		}
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		if (len < NLMSG_HDRLEN + sizeof(err))
			return -EINVAL;
		memcpy(&err, base + NLMSG_HDRLEN, sizeof(err));
		payload = sizeof(err);
	} else {
		return -EINVAL;
	}
	ext->error = err > 0 ? -err : err;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (payload > len)
		return -EINVAL;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(payload);
	if (off > len)
		return -EINVAL;
	parse_tlvs(base + off, len - off, ext);
	return 0;
}

/*
 * Find the attribute among those in [from, to) of msg that contains byte
 * offset offs.  Returns its type and sets *start (offset of its header)
 * and *end, or returns -1.
 */
static int attr_at(const uint8_t *msg, size_t from, size_t to, size_t offs,
		   size_t *start, size_t *end)
{
	struct nlattr a;

	while (from + NLA_HDRLEN <= to) {
		memcpy(&a, msg + from, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > to - from)
			return -1;
		if (offs >= from && offs < from + a.nla_len) {
			*start = from;
			*end = from + a.nla_len;
			return a.nla_type & NLA_TYPE_MASK;
		}
		from += NLA_ALIGN(a.nla_len);
	}
	return -1;
}

void funnel_extack_locate(const void *req, size_t req_len,
			  size_t fam_hdr_len, struct funnel_extack *ext)
{
	const uint8_t *msg = req;
	size_t first = NLMSG_HDRLEN + NLMSG_ALIGN(fam_hdr_len);
	size_t start, end;
	int t;

	ext->bad_attr = -1;
	ext->bad_nested = -1;
	ext->miss_in = -1;
	if (first > req_len)
		return;

	if (ext->has_offs) {
		t = attr_at(msg, first, req_len, ext->offs, &start, &end);
		ext->bad_attr = t;
		if (t >= 0 && ext->offs >= start + NLA_HDRLEN)
			ext->bad_nested = attr_at(msg, start + NLA_HDRLEN, end,
						  ext->offs, &start, &end);
	}
	if (ext->has_miss_nest)
		ext->miss_in = attr_at(msg, first, req_len, ext->miss_nest,
				       &start, &end);
}
