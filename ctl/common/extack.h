/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink extended ACK parsing (NLMSGERR_ATTR_* TLVs in NLMSG_ERROR and
 * NLMSG_DONE messages).  Pure functions over message bytes: no socket, no
 * libnl, so they can be unit tested.
 */
#ifndef FUNNEL_EXTACK_H
#define FUNNEL_EXTACK_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#define FUNNEL_EXTACK_MSG_MAX	256

struct funnel_extack {
	int error;			/* errno of the message, <= 0 */
	char msg[FUNNEL_EXTACK_MSG_MAX];	/* NLMSGERR_ATTR_MSG or "" */
	int has_offs;
	uint32_t offs;			/* NLMSGERR_ATTR_OFFS */
	int has_miss_type;
	uint32_t miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	int has_miss_nest;
	uint32_t miss_nest;		/* NLMSGERR_ATTR_MISS_NEST */
	/* Filled in by funnel_extack_locate(), -1 when unknown. */
	int bad_attr;			/* top-level attribute at offs */
	int bad_nested;			/* attribute at offs inside bad_attr */
	int miss_in;			/* top-level nest holding miss_type */
};

void funnel_extack_clear(struct funnel_extack *ext);

/*
 * Parse an NLMSG_ERROR or NLMSG_DONE message of len bytes.  Fills in
 * error and whatever TLVs are present.  Returns 0, or -EINVAL when the
 * message is not one of those types or is truncated.
 */
int funnel_extack_parse(const struct nlmsghdr *nlh, size_t len,
			struct funnel_extack *ext);

/*
 * Map offs and miss_nest (byte offsets into the request) to attribute
 * types of the request req (req_len bytes, starting with its nlmsghdr;
 * family header of fam_hdr_len bytes, then attributes).
 */
void funnel_extack_locate(const void *req, size_t req_len,
			  size_t fam_hdr_len, struct funnel_extack *ext);

#endif /* FUNNEL_EXTACK_H */
